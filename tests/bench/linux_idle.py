#!/usr/bin/env python3
"""Boot time and idle cost of the Linux guest (a benchmark: prints, never fails on a number).

  tests/bench/linux_idle.py POPEK GUESTDIR [--accel ENGINE] [--idle SECONDS]

Prints the wall time from start to the init marker, then the host CPU time
popek consumes while the guest sits idle at its shell prompt.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "linux"))
from linux_guest import MARKER, Guest  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    ap.add_argument("--idle", type=float, default=10.0)
    args = ap.parse_args()
    t0 = time.monotonic()
    g = Guest(args.popek, args.guestdir, args.accel)
    g.read_until(MARKER, 1800)
    boot = time.monotonic() - t0
    g.read_until(rb"[#$] ", 120)
    time.sleep(2.0)  # let late boot work settle
    c0, w0 = cpu_seconds(g.proc.pid), time.monotonic()
    time.sleep(args.idle)
    c1, w1 = cpu_seconds(g.proc.pid), time.monotonic()
    g.proc.stdin.write(b"poweroff -f\n")
    g.proc.stdin.flush()
    status = g.wait_exit(120)
    print(f"accel={args.accel} boot-to-marker {boot:.1f} s; idle at the shell: "
          f"{c1 - c0:.2f} s CPU in {w1 - w0:.1f} s wall ({100 * (c1 - c0) / (w1 - w0):.1f}% of a core); "
          f"exit status {status}")


if __name__ == "__main__":
    main()
