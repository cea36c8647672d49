#!/usr/bin/env python3
"""Debian's gdb, in batch mode, against popek's gdb stub.

    gdb_test.py POPEK GUEST_ROM

The guest (tests/debug/guest.asm) enters protected mode with paging, maps
linear 40000000h to physical 200000h, and at F1000h runs a known sequence.
popek starts stopped (-S) with an exec trace (-d exec, -icount 0), and gdb:
  - finds the CPU at the reset vector (SDM Vol.3 Table 9-1),
  - sets a breakpoint at F1000h and continues to it,
  - single-steps eight instructions: each EIP must be the next line of the
    exec trace of the same run, and the registers what the code computed,
  - reads memory through the page tables (and the monitor reads it
    physically),
  - sets a write watchpoint and sees it trigger on each increment,
  - deletes everything and lets the guest finish (it exits with PASS).
Exits 77 (skipped) when gdb is not installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

STEPS = 8


def fail(msg, output=""):
    print("FAIL: " + msg)
    if output:
        print("---- gdb output ----\n" + output)
    sys.exit(1)


def start_popek(popek, rom, tmp):
    trace = os.path.join(tmp, "exec.trace")
    log = os.path.join(tmp, "debugcon.log")
    cmd = [popek, "-bios", rom, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-debugcon", "file:" + log, "-serial", "null", "-display", "none",
           "-icount", "0", "-no-reboot", "-S", "-gdb", "tcp::0", "-d", "exec", "-D", trace]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    m = re.search(r"gdb stub listening on ([0-9.]+):(\d+)", line)
    if not m:
        proc.kill()
        fail("popek did not report its gdb port: " + line)
    return proc, m.group(2), trace, log


def gdb_script(port):
    steps = "".join('stepi\nprintf "STEP %x\\n", $pc\n' for _ in range(STEPS))
    return f"""set pagination off
set confirm off
set architecture i386
target remote 127.0.0.1:{port}
printf "RESET eip=%x cs=%x cr0=%x edx=%x\\n", $eip, $cs, $cr0, $edx
break *0xf1000
continue
printf "BP eip=%x cr0=%x cr3=%x\\n", $eip, $cr0, $cr3
{steps}printf "REGS eax=%x ebx=%x ecx=%x\\n", $eax, $ebx, $ecx
x/2wx 0x40000000
monitor xp/2xw 0x200000
watch *(int*)0x40000010
continue
printf "WATCH eip=%x value=%x\\n", $eip, *(int*)0x40000010
continue
printf "WATCH eip=%x value=%x\\n", $eip, *(int*)0x40000010
delete
continue
"""


def trace_eips(path):
    """The EIPs of the exec trace, in order."""
    eips = []
    with open(path) as f:
        for line in f:
            m = re.match(r"([0-9a-f]{4}):([0-9a-f]{8})  ", line)
            if m:
                eips.append(int(m.group(2), 16))
    return eips


def check(output, trace):
    m = re.search(r"RESET eip=(\w+) cs=(\w+) cr0=(\w+) edx=(\w+)", output)
    if not m:
        fail("no reset state", output)
    eip, cs, cr0, edx = (int(x, 16) for x in m.groups())
    # SDM Vol.3 Table 9-1: CS F000h, EIP FFF0h, CR0 60000010h, EDX 000n06xxh.
    if (eip, cs, cr0) != (0xfff0, 0xf000, 0x60000010) or edx & 0xf00 != 0x600:
        fail("reset state %x %x %x %x" % (eip, cs, cr0, edx), output)

    m = re.search(r"BP eip=(\w+) cr0=(\w+) cr3=(\w+)", output)
    if not m or int(m.group(1), 16) != 0xf1000:
        fail("breakpoint at f1000 not reached", output)
    if int(m.group(2), 16) & 0x80000001 != 0x80000001 or int(m.group(3), 16) != 0x10000:
        fail("paging not on at the breakpoint", output)

    steps = [int(x, 16) for x in re.findall(r"STEP (\w+)", output)]
    eips = trace_eips(trace)
    if 0xf1000 not in eips:
        fail("the exec trace never reached f1000")
    at = eips.index(0xf1000)
    if steps != eips[at + 1:at + 1 + STEPS]:
        fail("single steps %s differ from the exec trace %s" %
             ([hex(x) for x in steps], [hex(x) for x in eips[at + 1:at + 1 + STEPS]]), output)

    # mov eax,11111111h; mov ebx,22222222h; add eax,ebx; mov ecx,5; inc; dec ecx; jnz; inc
    if "REGS eax=33333333 ebx=22222222 ecx=4" not in output:
        fail("registers after the steps", output)
    if not re.search(r"0x40000000:\s+0x12345678\s+0xcafebabe", output):
        fail("reading memory through paging", output)
    if "00200000: 0x12345678 0xcafebabe" not in output:
        fail("monitor xp through qRcmd", output)
    if "Hardware watchpoint 2" not in output:
        fail("gdb did not take a hardware watchpoint", output)
    watch = re.findall(r"WATCH eip=(\w+) value=(\w+)", output)
    # Two increments were stepped; each continue stops after the next one,
    # with EIP past the INC (f1011h, 6 bytes).
    if watch != [("f1017", "3"), ("f1017", "4")]:
        fail("watchpoint stops %s" % watch, output)
    if not re.search(r"Old value = 2\s+New value = 3", output):
        fail("gdb did not see the watched value change", output)


def main():
    popek, rom = sys.argv[1:3]
    gdb = shutil.which("gdb")
    if not gdb:
        print("gdb is not installed: skipped")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, trace, log = start_popek(popek, rom, tmp)
        script = os.path.join(tmp, "test.gdb")
        with open(script, "w") as f:
            f.write(gdb_script(port))
        try:
            run = subprocess.run([gdb, "-nx", "-batch", "-x", script], capture_output=True,
                                 text=True, timeout=60)
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("timed out")
        output = run.stdout + run.stderr
        # The guest ran to its end after gdb let go: PASS, exit status 1.
        with open(log) as f:
            guest_log = f.read()
        if status != 1 or "PASS" not in guest_log:
            fail("popek exited %d, guest log %r" % (status, guest_log), output)
        check(output, trace)
    print("gdb test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
