#!/usr/bin/env python3
"""The callout census of one guest workload under popek (a tool run by hand).

  tests/bench/guest_census.py POPEK GUESTDIR WORKLOAD [--scale F] [--per N]
                              [--engine-args "ARGS"] [--arch x86_64]

Boots the benchmark's guest (guest_bench.py: the workloads binary added to
GUESTDIR's initramfs), asks the monitor for `info jit` before and after
the one workload, and prints what the workload alone added: instructions,
callouts, interpreted instructions, run-loop entries, and each census form
(those in the top 15 of both answers), also divided by --per (the
workload's count of work units, e.g. 2500000 system calls for `syscalls`
at scale 1).  These are deterministic counts, unlike wall time on a
loaded host.
"""
import argparse
import os
import re
import shlex
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_bench  # noqa: E402
from guest_bench import GUEST_BINARY, MARKER, Guest, monitor_query  # noqa: E402

COUNTERS = (("instructions", r"^instructions run: (\d+)"),
            ("blocks translated", r"^blocks translated: (\d+)"),
            ("entries from the run loop", r"^entries from the run loop: (\d+)"),
            ("instructions interpreted", r"^instructions interpreted: (\d+)"),
            ("jump cache lookups", r"^jump cache: (\d+) lookups"),
            ("jump cache misses", r"^jump cache: .* (\d+) misses"),
            ("returns", r"^returns: (\d+)"),
            ("callouts", r"^callouts: (\d+)"),
            ("light helpers", r"^light helpers: (\d+)"))
FORM_RX = re.compile(r"^  (\S.*?)\s+[0-9.]+%\s+callout (\d+)\s+interpreted (\d+)$", re.M)


def parse(text):
    vals = {}
    for name, rx in COUNTERS:
        m = re.search(rx, text, re.M)
        vals[name] = int(m.group(1)) if m else 0
    forms = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in FORM_RX.finditer(text)}
    return vals, forms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("workload")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--per", type=float, default=1.0, help="work units the workload does")
    ap.add_argument("--engine-args", default="", help="extra popek arguments")
    ap.add_argument("--arch", choices=("i386", "x86_64"), default="i386",
                    help="x86_64: GUESTDIR is the amd64 guest (as guest_bench.py --arch)")
    ap.add_argument("--raw", action="store_true", help="print both `info jit` answers too")
    args = ap.parse_args()

    scratch = tempfile.mkdtemp(prefix="popek-census-")
    binary, engine_args = guest_bench.arch_workloads(args.arch, scratch, args.engine_args)
    initrd = guest_bench.bench_initramfs(args.guestdir, binary, scratch)
    mon = os.path.join(scratch, "mon.sock")
    g = Guest(args.popek, args.guestdir, "bt",
              ["-monitor", f"unix:{mon},server,nowait"] + shlex.split(engine_args),
              initrd=initrd)
    try:
        g.read_until(MARKER, 900)
        g.read_until(rb"[#$] ", 120)
        before = monitor_query(mon, "info jit") or ""
        text, rc = g.run(f"{GUEST_BINARY} --scale {args.scale} {args.workload}", 3600)
        after = monitor_query(mon, "info jit") or ""
        g.proc.stdin.write(b"poweroff -f\n")
        g.proc.stdin.flush()
        g.wait_exit(120)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()
    print(f"{args.workload} (rc {rc}): {text.strip()}")
    if args.raw:
        print(f"info jit before:\n{before}\ninfo jit after:\n{after}")
    (v0, f0), (v1, f1) = parse(before), parse(after)
    per = args.per
    print(f"{'':28s} {'delta':>14s} {'per unit':>12s}")
    for name in [c[0] for c in COUNTERS]:
        d = v1[name] - v0[name]
        print(f"{name:28s} {d:14d} {d / per:12.2f}")
    print("census forms (callout + interpreted; forms in both top-15 answers):")
    rows = []
    for form, (c, n) in f1.items():
        c0, n0 = f0.get(form, (0, 0)) if form in f0 else (None, None)
        if c0 is None:
            rows.append((c + n, form, "(not in the first answer: at most this)"))
            continue
        rows.append((c - c0 + n - n0, form, ""))
    for d, form, note in sorted(rows, reverse=True):
        print(f"  {form:24s} {d:14d} {d / per:10.3f} {note}")


if __name__ == "__main__":
    main()
