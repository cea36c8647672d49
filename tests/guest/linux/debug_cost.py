#!/usr/bin/env python3
"""A gdb stub costs nothing until it is used, and a breakpoint only the
blocks it is in.

    debug_cost.py POPEK GUESTDIR

The Linux test guest boots on -icount time (so instruction counts repeat)
three ways, and the monitor's `info jit` says how many instructions the
interpreter ran instead of the translator:
  1. plain: the baseline;
  2. with `-gdb tcp::0` and no client: once it ran everything on the
     interpreter (a boot 29 times slower);
  3. with a client that sets a breakpoint on the kernel's getppid and
     continues: a shell workload that never calls it must stay translated,
     and then `sh -c 'echo $PPID'` must stop at the breakpoint, with EIP on
     it, and go on once it is removed.
"""
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from monitor_client import Monitor  # noqa: E402

WORKLOAD = "i=0; while [ $i -lt 3000 ]; do i=$((i + 1)); done; echo $i"


def interpreted(mon):
    m = re.search(r"instructions interpreted: (\d+)", mon.cmd("info jit"))
    check(m is not None, "info jit reports interpreted instructions")
    return int(m.group(1))


def checksum(body):
    return "%02x" % (sum(body.encode("latin-1")) & 0xff)


class Gdb:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def read(self, pattern, timeout=120):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.buf):
            if time.monotonic() > deadline:
                raise AssertionError(f"gdb: timed out waiting for {pattern!r}, have {self.buf!r}")
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("gdb: connection closed")
            self.buf += chunk
        m = re.search(pattern, self.buf)
        self.buf = self.buf[m.end():]
        return m

    def send(self, body):
        self.sock.sendall(f"${body}#{checksum(body)}".encode("latin-1"))

    def packet(self, body):
        self.send(body)
        return self.read(rb"\$([^#]*)#[0-9a-f]{2}").group(1).decode("latin-1")


def boot(popek, guestdir, tmp, name, gdb):
    mon = os.path.join(tmp, name + ".sock")
    extra = ["-icount", "0", "-monitor", f"unix:{mon},server,nowait"]
    if gdb:
        extra += ["-gdb", "tcp:127.0.0.1:0"]
    g = Guest(popek, guestdir, "bt", extra)
    port = None
    if gdb:
        line = g.proc.stderr.readline().decode()
        m = re.search(r"listening on [0-9.]+:(\d+)", line)
        check(m is not None, "the gdb stub says where it listens", line)
        port = int(m.group(1))
    g.read_until(MARKER, BOOT_TIMEOUT)
    g.read_until(rb"[#$] ", 60)
    return g, Monitor(mon), port


def main():
    popek, guestdir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        g, mon, _ = boot(popek, guestdir, tmp, "plain", False)
        base_boot = interpreted(mon)
        before = interpreted(mon)
        out, rc = g.run(WORKLOAD)
        check(out.split()[-1:] == ["3000"], "the workload runs", out)
        base_work = interpreted(mon) - before
        g.proc.kill()
        print(f"plain: boot interpreted {base_boot}, workload {base_work}")

        g, mon, port = boot(popek, guestdir, tmp, "gdb", True)
        stub_boot = interpreted(mon)
        print(f"-gdb, no client: boot interpreted {stub_boot}")
        check(stub_boot <= 2 * base_boot + 1000000,
              "a listening stub leaves the boot translated",
              f"{stub_boot} interpreted against {base_boot} without the stub")

        out, rc = g.run("grep -E ' (__ia32_sys_getppid|sys_getppid)$' /proc/kallsyms")
        m = re.search(r"^([0-9a-f]{8}) [tT] ", out, re.M)
        check(m is not None, "the kernel's getppid is in /proc/kallsyms", out)
        addr = int(m.group(1), 16)

        gdb = Gdb(port)
        check(gdb.packet("?").startswith("T05"), "a client connecting stops the machine")
        check(gdb.packet(f"Z0,{addr:x},1") == "OK", "breakpoint set on getppid")
        gdb.send("c")
        before = interpreted(mon)
        out, rc = g.run(WORKLOAD)
        check(out.split()[-1:] == ["3000"], "the workload runs with the breakpoint set", out)
        bp_work = interpreted(mon) - before
        print(f"breakpoint set: workload interpreted {bp_work}")
        check(bp_work <= 2 * base_work + 200000,
              "a breakpoint the workload does not reach leaves it translated",
              f"{bp_work} interpreted against {base_work} without a breakpoint")

        g.proc.stdin.write(b"sh -c 'echo PPID=$PPID'\n")
        g.proc.stdin.flush()
        stop = gdb.read(rb"\$(T05[^#]*)#[0-9a-f]{2}").group(1).decode()
        check("swbreak" in stop, "the guest stops at the breakpoint", stop)
        eip = gdb.packet("p8")
        eip = int.from_bytes(bytes.fromhex(eip), "little")
        check(eip == addr, "EIP is on the breakpoint", f"eip {eip:08x}, breakpoint {addr:08x}")
        check(gdb.packet(f"z0,{addr:x},1") == "OK", "breakpoint removed")
        gdb.send("c")
        g.read_until(rb"PPID=\d+", 120)
        check(True, "the guest goes on after the breakpoint")
        g.proc.kill()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
