#!/usr/bin/env python3
"""Profile one guest workload under popek with perf (a tool run by hand).

  tests/bench/guest_profile.py POPEK GUESTDIR WORKLOAD [--scale F] [--top N]
                               [--out DIR] [--engine-args "ARGS"] [--arch x86_64]

Boots the benchmark's guest (guest_bench.py: the workloads binary added to
GUESTDIR's initramfs) under popek with -perfmap, waits for the shell, then
attaches `perf record` to popek for the one workload only (boot is left
out) and prints the top N lines of `perf report --sort dso,sym`, the share
of each dso, and the guest blocks that took the most samples.

Translated code lives in a memfd (`memfd:popek-tb` in perf's output) that
perf does not name from /tmp/perf-PID.map, so the guest blocks are found
here: each sample's address in that dso is looked up in the map.
"""
import argparse
import bisect
import collections
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_bench  # noqa: E402
from guest_bench import GUEST_BINARY, MARKER, Guest  # noqa: E402


def perf_map(pid):
    """popek's translated blocks as epochs, newest first: lists of (start,
    end, name) sorted by start.  Block code grows upward in the cache, so a
    block placed below its predecessor opens a new epoch (after a flush)."""
    epochs = [[]]
    try:
        with open(f"/tmp/perf-{pid}.map") as f:
            for line in f:
                start, size, name = line.split(maxsplit=2)
                start = int(start, 16)
                if epochs[-1] and start < epochs[-1][-1][0]:
                    epochs.append([])
                epochs[-1].append((start, start + int(size, 16), name.strip()))
    except OSError:
        return []
    return [sorted(e) for e in reversed(epochs) if e]


def block_at(epochs, ip):
    """The block holding ip, from the newest epoch that has one (a flush
    during the workload can misattribute the samples taken before it)."""
    for blocks in epochs:
        i = bisect.bisect_right(blocks, (ip, float("inf"))) - 1
        if i >= 0 and ip < blocks[i][1]:
            return blocks[i][2]
    return "(no block: the translator's own stubs)"


def top_blocks(data, epochs, top):
    """The guest blocks with the most samples among those in translated code."""
    r = subprocess.run(["perf", "script", "-i", data, "-F", "ip,dso"], capture_output=True,
                       text=True)
    counts, total = collections.Counter(), 0
    for line in r.stdout.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) < 2 or "memfd" not in parts[1]:
            continue
        total += 1
        counts[block_at(epochs, int(parts[0], 16))] += 1
    return total, counts.most_common(top)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("workload")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--out", help="keep perf.data here (default: a scratch directory)")
    ap.add_argument("--engine-args", default="", help="extra popek arguments")
    ap.add_argument("--arch", choices=("i386", "x86_64"), default="i386",
                    help="x86_64: GUESTDIR is the amd64 guest (as guest_bench.py --arch)")
    args = ap.parse_args()

    scratch = tempfile.mkdtemp(prefix="popek-profile-")
    out = args.out or scratch
    os.makedirs(out, exist_ok=True)
    binary, engine_args = guest_bench.arch_workloads(args.arch, scratch, args.engine_args)
    if args.workload not in (guest_bench.runs_here(binary) or [args.workload]):
        sys.exit(f"guest_profile: unknown workload '{args.workload}'")
    initrd = guest_bench.bench_initramfs(args.guestdir, binary, scratch)
    g = Guest(args.popek, args.guestdir, "bt", ["-perfmap"] + shlex.split(engine_args),
              initrd=initrd)
    data = os.path.join(out, f"{args.workload}.perf.data")
    try:
        g.read_until(MARKER, 900)
        g.read_until(rb"[#$] ", 120)
        perf = subprocess.Popen(["perf", "record", "-q", "-o", data, "-p", str(g.proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)  # perf attaches
        text, rc = g.run(f"{GUEST_BINARY} --scale {args.scale} {args.workload}", 3600)
        perf.send_signal(signal.SIGINT)
        perf.wait(120)
        epochs = perf_map(g.proc.pid)
        try:
            os.unlink(f"/tmp/perf-{g.proc.pid}.map")
        except OSError:
            pass
        g.proc.stdin.write(b"poweroff -f\n")
        g.proc.stdin.flush()
        g.wait_exit(120)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()
    print(f"{args.workload} under popek (rc {rc}): {text.strip()}")
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "dso,sym"],
                            capture_output=True, text=True).stdout
    rows = [ln for ln in report.splitlines() if ln.strip() and not ln.startswith("#")]
    print(f"\nperf report --sort dso,sym (top {args.top}):")
    print("\n".join(rows[:args.top]))
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "dso"],
                            capture_output=True, text=True).stdout
    print("\nby dso:")
    print("\n".join(ln for ln in report.splitlines() if ln.strip() and not ln.startswith("#")))
    total, top = top_blocks(data, epochs, args.top)
    print(f"\nguest blocks in translated code ({total} samples; the map holds "
          f"{sum(map(len, epochs))} blocks in {len(epochs)} cache epochs):")
    for name, n in top:
        print(f"  {100.0 * n / max(total, 1):5.1f}%  {name}")
    if args.out:
        print(f"\nperf data in {data}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
