#!/usr/bin/env python3
"""popek inside popek: a VM inside a VM (issue 19).

  nested_guest.py POPEK GUEST64DIR GUEST32DIR [--accel ENGINE] [--inner-accel ENGINE]
                  [--outer-qemu QEMU]

The amd64 test guest (GUEST64DIR, tests/guests/build-guest64.sh) boots under
popek on -cpu qemu64 with popek itself added to its initramfs: the binary
under test, the shared libraries `ldd` names at their own paths, and the
i386 test guest (GUEST32DIR, tests/guests/build-guest.sh) in /guest32.
Inside it, that popek boots the i386 guest to its shell over the outer
guest's serial console, which carries the inner one; `uname -m` must say
i686 inside and x86_64 outside, and `poweroff` must end the inner popek
with status 0, then the outer one.  This runs the translator under itself:
generated code, the code cache's W^X flips, signals, the shadow TLB.

It prints the inner guest's boot time (command to its init marker).
--outer-qemu runs the outer guest under QEMU instead (qemu-system-x86_64
-accel tcg), for the same figure beside a peer.  While popek does not run
long mode (-cpu help offers no qemu64) and no --outer-qemu is given, the
test is skipped with exit status 77.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from initramfs import EXEC_MODE, FILE_MODE, extend_initramfs, host_file  # noqa: E402
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check, long_mode_offered  # noqa: E402

OUTER_RAM = "1536M"  # the amd64 kernel, a 40 MiB initramfs, and the inner popek's guest
INNER_RAM = "128M"


class QemuOuter(Guest):
    """The same serial console session with qemu-system-x86_64 as the outer engine."""

    def __init__(self, qemu, kernel, initrd):
        cmd = [qemu, "-accel", "tcg", "-m", OUTER_RAM, "-kernel", kernel, "-initrd", initrd,
               "-append", "console=ttyS0 panic=-1", "-nographic", "-no-reboot"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""


def shared_libraries(binary):
    """The absolute paths of every library `ldd` names, the loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for ln in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", ln)
        if m:
            paths.append(m.group(1))
    return paths


def nested_initrd(popek, guest64, guest32, workdir):
    files = [("opt/popek/popek", EXEC_MODE, open(popek, "rb").read())]
    files += [host_file(p) for p in shared_libraries(popek)]
    for name in ("bzImage", "initramfs.cpio.gz"):
        with open(os.path.join(guest32, name), "rb") as f:
            files.append((f"guest32/{name}", FILE_MODE, f.read()))
    return extend_initramfs(os.path.join(guest64, "initramfs.cpio.gz"),
                            os.path.join(workdir, "initramfs-nested.cpio.gz"), files, level=6)


def inner_session(g, inner_accel):
    """Boot the i386 guest with the popek inside g; returns its boot time."""
    cmd = (f"echo INNER-START; /opt/popek/popek -kernel /guest32/bzImage "
           f"-initrd /guest32/initramfs.cpio.gz -append 'console=ttyS0 panic=-1' "
           f"-nographic -no-reboot -m {INNER_RAM} --accel {inner_accel}; echo INNER-EXIT $?\n")
    g.proc.stdin.write(cmd.encode())
    g.proc.stdin.flush()
    g.read_until(rb"\nINNER-START", 60)
    t0 = time.monotonic()
    g.read_until(rb"\nINNER-START.*" + MARKER, BOOT_TIMEOUT)
    boot = time.monotonic() - t0
    check(True, f"the inner popek boots the i386 guest to its marker in {boot:.1f} s")
    g.read_until(rb"\nINNER-START.*" + MARKER + rb".*[#$] ", 120)
    out, rc = g.run("uname -m", 300)
    check(rc == 0 and out.strip() == "i686", "inside: uname -m says i686", out)
    g.proc.stdin.write(b"poweroff\n")
    g.proc.stdin.flush()
    m = g.read_until(rb"\nINNER-EXIT (\d+)", 600)
    check(m.group(1) == b"0", "poweroff inside ends the inner popek with status 0",
          f"status {m.group(1).decode()}")
    return boot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guest64")
    ap.add_argument("guest32")
    ap.add_argument("--accel", default="bt", help="the outer popek's engine")
    ap.add_argument("--inner-accel", default="bt", help="the inner popek's engine")
    ap.add_argument("--outer-qemu", metavar="QEMU", help="run the outer guest under QEMU")
    args = ap.parse_args()
    if not args.outer_qemu and not long_mode_offered(args.popek):
        print("SKIP: popek does not run long mode yet (-cpu help offers no qemu64; "
              "CPU_LONG_MODE in cpu/models.h): the amd64 guest cannot boot")
        return 77
    with tempfile.TemporaryDirectory() as workdir:
        initrd = nested_initrd(args.popek, args.guest64, args.guest32, workdir)
        t0 = time.monotonic()
        if args.outer_qemu:
            g = QemuOuter(args.outer_qemu, os.path.join(args.guest64, "bzImage"), initrd)
        else:
            g = Guest(args.popek, args.guest64, args.accel, extra=["-cpu", "qemu64"],
                      initrd=initrd, ram=OUTER_RAM)
        try:
            g.read_until(MARKER, BOOT_TIMEOUT)
            outer = time.monotonic() - t0
            g.read_until(rb"[#$] ", 120)
            check(True, f"the outer amd64 guest boots to its marker in {outer:.1f} s")
            out, rc = g.run("uname -m")
            check(rc == 0 and out.strip() == "x86_64", "outside: uname -m says x86_64", out)
            inner = inner_session(g, args.inner_accel)
            out, rc = g.run("uname -m")
            check(rc == 0 and out.strip() == "x86_64", "the outer shell is back", out)
            g.proc.stdin.write(b"poweroff\n")
            g.proc.stdin.flush()
            status = g.wait_exit(300)
            check(status == 0, "poweroff ends the outer engine with status 0", f"status {status}")
        except AssertionError as e:
            print(f"FAIL: {e}")
            if g.proc.poll() is None:
                g.proc.kill()
            return 1
        engine = "qemu-system-x86_64 -accel tcg" if args.outer_qemu else f"popek --accel {args.accel}"
        print(f"nested: outer {engine}: boot {outer:.1f} s; inner popek --accel "
              f"{args.inner_accel}: boot {inner:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
