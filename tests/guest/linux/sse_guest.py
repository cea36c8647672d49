#!/usr/bin/env python3
"""MMX/SSE in the Linux guest: a static i386 program (tests/guests/sse_check.c,
gcc -m32 -static -O2 -msse2 -mfpmath=sse) prints checksums of SSE2 scalar
and vector arithmetic, MMX/SSE3/SSSE3 intrinsics, MXCSR rounding, FTZ and
DAZ, and glibc's string functions (their SSE2/SSSE3 variants, chosen from
CPUID); the guest must print what the host prints.  On a host that cannot
run i386 programs the reference is the same source built for x86-64 (the
checksums do not depend on the word size).  /proc/cpuinfo must list the
features.

  sse_guest.py POPEK GUESTDIR [--accel ENGINE]

Exit 77 (skip) when gcc cannot build the i386 program.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "guests", "sse_check.c")
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from initramfs import EXEC_MODE, extend_initramfs  # noqa: E402
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402

CFLAGS = ["-static", "-O2", "-msse2", "-mfpmath=sse"]
FEATURES = {"mmx", "fxsr", "sse", "sse2", "pni", "ssse3", "clflush"}


def build(workdir, arch):
    out = os.path.join(workdir, f"sse-check-{arch}")
    r = subprocess.run(["gcc", f"-m{arch}"] + CFLAGS + ["-o", out, SRC],
                       capture_output=True, text=True)
    return out if r.returncode == 0 else None


def checksums(text):
    return [ln.strip() for ln in text.splitlines() if ln.startswith("SSECHECK")]


def native_reference(workdir, binary32):
    """The host's lines: the i386 binary itself, else an x86-64 build."""
    try:
        r = subprocess.run([binary32], capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            return checksums(r.stdout), "the i386 binary natively"
    except OSError:
        pass
    binary64 = build(workdir, 64)
    if binary64 is None:
        raise AssertionError("cannot build the x86-64 reference")
    r = subprocess.run([binary64], capture_output=True, text=True, timeout=120)
    return checksums(r.stdout), "an x86-64 build natively (this host cannot run i386)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        binary = build(workdir, 32)
        if binary is None:
            print("skip: gcc -m32 -static cannot build the i386 program")
            return 77
        expect, how = native_reference(workdir, binary)
        check(len(expect) == 5 and expect[-1] == "SSECHECK done", f"reference from {how}",
              "\n".join(expect))
        with open(binary, "rb") as f:
            data = f.read()
        initrd = extend_initramfs(os.path.join(args.guestdir, "initramfs.cpio.gz"),
                                  os.path.join(workdir, "initramfs-sse.cpio.gz"),
                                  [("bin/sse-check", EXEC_MODE, data)])

        g = Guest(args.popek, args.guestdir, args.accel, initrd=initrd)
        g.read_until(MARKER, BOOT_TIMEOUT)
        g.read_until(rb"[#$] ", 60)
        out, rc = g.run("cat /proc/cpuinfo")
        flags = set()
        for ln in out.splitlines():
            if ln.startswith("flags"):
                flags = set(ln.split(":", 1)[1].split())
        check(FEATURES <= flags, "cpuinfo lists MMX, FXSR, SSE, SSE2, SSE3 (pni), SSSE3, CLFLUSH",
              f"missing {FEATURES - flags}")
        check("clflush size\t: 64" in out, "cpuinfo: CLFLUSH line size 64", out)
        out, rc = g.run("/bin/sse-check", timeout=1200)
        got = checksums(out)
        check(rc == 0 and got == expect, f"the guest prints the checksums of {how}",
              "guest:\n" + "\n".join(got) + "\nhost:\n" + "\n".join(expect))
        g.proc.stdin.write(b"poweroff -f\n")
        g.proc.stdin.flush()
        check(g.wait_exit(120) == 0, "poweroff ends popek with status 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
