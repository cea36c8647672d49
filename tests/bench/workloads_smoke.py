#!/usr/bin/env python3
"""Keeps the guest benchmark's workloads from rotting (ctest bench.workloads*).

  tests/bench/workloads_smoke.py WORKDIR cpu       every workload but bb-*
  tests/bench/workloads_smoke.py WORKDIR busybox   the bb-* real programs

Builds tests/bench/guest/workloads.c as guest_bench.py does and runs each
workload natively at --scale 0.01, twice: each run must exit 0 and print
one WORKLOAD line for it, and both runs the same checksum (the checksum
depends on nothing but the work).  The busybox rows use the native busybox
guest_bench.py would (the guest's i386 one, or the x86-64 build on a host
without IA32 emulation); without one this exits 77 (skipped).  Then a
busybox that cannot run must make a bb-* workload fail with no line.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_bench  # noqa: E402

SCALE = "0.01"
SKIP = 77


def run(binary, name, extra):
    r = subprocess.run([binary, "--scale", SCALE] + extra + [name], capture_output=True,
                       text=True, timeout=300)
    lines = [m for m in guest_bench.LINE_RX.finditer(r.stdout)]
    if r.returncode != 0 or len(lines) != 1 or lines[0].group(1) != name:
        sys.exit(f"{name}: exit {r.returncode}, stdout {r.stdout.strip()!r}, "
                 f"stderr {r.stderr.strip()[-300:]!r}")
    return lines[0].group(3)


def main():
    workdir, mode = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    try:
        binary = guest_bench.compile_workloads(workdir)
        arch = "i386"
        if not guest_bench.runs_here(binary):
            binary = guest_bench.compile_workloads(workdir, guest_bench.CFLAGS_X86_64,
                                                   "popek-workloads-x86-64")
            arch = "amd64"
    except guest_bench.BenchError as e:
        sys.exit(f"workloads_smoke: {e}")
    names = guest_bench.runs_here(binary)
    if not names:
        sys.exit(f"workloads_smoke: {binary} --list failed")
    programs = [n for n in names if n.startswith(guest_bench.PROGRAM_PREFIX)]
    extra = []
    if mode == "busybox":
        busybox, why = guest_bench.native_busybox(workdir, arch)
        if busybox is None:
            print(f"skipped: {why}")
            sys.exit(SKIP)
        extra = ["--busybox", busybox]
        names = programs
    else:
        names = [n for n in names if n not in programs]
    if not names:
        sys.exit("workloads_smoke: no workloads listed")
    for name in names:
        first, second = run(binary, name, extra), run(binary, name, extra)
        if first != second:
            sys.exit(f"{name}: checksum {first} then {second}: not deterministic")
        print(f"{name}: {first}")
    if mode == "busybox":
        r = subprocess.run([binary, "--scale", SCALE, "--busybox", "/nonexistent/busybox",
                            names[0]], capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or guest_bench.LINE_RX.search(r.stdout):
            sys.exit(f"{names[0]} with a missing busybox: exit {r.returncode}, {r.stdout!r}")
        print(f"{names[0]} with a missing busybox: {r.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
