#!/usr/bin/env python3
"""The monitor on -monitor stdio, driven like a user at the prompt.

    monitor_test.py POPEK GUEST_WAIT_ROM

Run 1 starts stopped (-S): the registers are the reset state (SDM Vol.3
Table 9-1), 'cont' lets the guest run to READY (paging on, halted with
interrupts off), and then: info registers, x/ through the page tables,
xp/ of the same physical memory, info tlb, info mem, info pic, info lapic, x/i,
info jit, stop/info status/cont, and quit (exit status 0).

Run 2 is -nographic on a pseudo-terminal: Ctrl-A c gives the keys to the
monitor (which echoes them and honours backspace on the raw terminal),
Ctrl-A c gives them back, and Ctrl-A x quits.
"""
import os
import re
import pty
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Popen, fail, expect, run  # noqa: E402
from monitor_client import PROMPT, StdioMonitor  # noqa: E402


def wait_for_file(path, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path).read():
            return
        time.sleep(0.05)
    fail("%s never showed %r" % (path, text))


def pty_read_until(fd, want, timeout=20):
    out = b""
    deadline = time.time() + timeout
    while want not in out:
        if time.time() > deadline:
            fail("terminal never showed %r; got %r" % (want, out))
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                fail("terminal closed before %r; got %r" % (want, out))
            out += chunk
    return out


def run_nographic(popek, rom):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(popek, [popek, "-bios", rom, "-nographic", "-icount", "0", "-no-reboot",
                         "-debugcon", "null", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
    os.write(fd, b"\x01c")
    pty_read_until(fd, PROMPT)
    for _ in range(100):  # until the guest has reached READY
        os.write(fd, b"x/xw 0x40000010\r")
        if b"40000010: 0x00000005" in pty_read_until(fd, PROMPT):
            break
        time.sleep(0.1)
    else:
        fail("the guest never reached READY under -nographic")
    os.write(fd, b"xp/xw 0x20001x\x7f0\r")   # a typo, rubbed out
    pty_read_until(fd, b"00200010: 0x00000005")
    os.write(fd, b"\x01c")                     # back to the serial console
    os.write(fd, b"\x01x")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        fail("Ctrl-A x did not end popek cleanly (%r)" % status)


def main():
    popek, rom = sys.argv[1:3]
    run_nographic(popek, rom)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "debugcon.log")
        proc = Popen(
            [popek, "-bios", rom, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
             "-debugcon", "file:" + log, "-serial", "null", "-display", "none", "-icount", "0",
             "-no-reboot", "-S", "-monitor", "stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        m = StdioMonitor(proc)
        regs = m.cmd("info registers")
        expect(regs, "EIP=0000fff0")
        expect(regs, "CS =f000 ffff0000 0000ffff")
        expect(regs, "CR0=60000010")
        expect(m.cmd("info status"), "paused")
        m.cmd("cont")
        wait_for_file(log, "READY")
        regs = m.cmd("info registers")
        expect(regs, "EAX=33333333")
        expect(regs, "EDX=00000005")
        expect(regs, "HLT=1")
        expect(regs, "CR3=00010000")
        expect(m.cmd("x/2xw 0x40000000"), "40000000: 0x12345678 0xcafebabe")
        expect(m.cmd("x/xw 0x40000000 + 0x10"), "40000010: 0x00000005")
        expect(m.cmd("xp/2xw 0x200000"), "00200000: 0x12345678 0xcafebabe")
        expect(m.cmd("info tlb"), "40000000: 00200000")
        expect(m.cmd("info mem"), "40000000-40001000 00001000 -rw")
        expect(m.cmd("info pic"), "imr=ff")
        expect(m.cmd("info pic"), "IOAPIC id 1")
        expect(m.cmd("info lapic"), "LAPIC id 0 base 0xfee00000 enabled")
        # The guest runs from ROM, which the translator leaves to the interpreter.
        jit = m.cmd("info jit")
        expect(jit, "accel: bt")
        if not re.search(r"instructions interpreted: [1-9]", jit):
            fail("info jit does not count the interpreted ROM code:\n" + jit)
        # BP_TARGET starts with mov eax, 11111111h.
        expect(m.cmd("x/2i 0xf1000"), "mov eax, 0x11111111")
        m.cmd("stop")
        expect(m.cmd("info status"), "paused")
        m.cmd("cont")
        expect(m.cmd("info status"), "running")
        expect(m.cmd("nonsense"), "unknown command")
        proc.stdin.write(b"quit\n")
        proc.stdin.flush()
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("quit did not end popek")
        if status != 0:
            fail("popek exited %d after quit" % status)
    print("monitor test passed")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
