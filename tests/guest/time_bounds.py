#!/usr/bin/env python3
"""A guest that floods popek with work cannot starve the monitor or Ctrl-A x.

  time_bounds.py POPEK BINDIR [--accel bt|interp]

BINDIR holds the flood ROMs (tests/guest/bounds/flood.asm): the PIT at
divisor 1, a self-IPI storm through the local APIC, a level-triggered IRQ
never serviced, and REP STOSB over unmapped memory with ECX = FFFFFFFFh.
For each, once the guest says the flood is up:
  - the flood is real: `info irq` counts climb by thousands a second (the
    interrupt floods), or the guest's ECX moves (REP);
  - a monitor command over a unix socket answers within MAX_REPLY seconds,
    every time of several;
  - with -nographic, Ctrl-A x on the terminal ends popek within MAX_REPLY
    seconds (status 0, "popek: terminated").
The window's event loop is served from the same host poll between CPU
slices as the monitor (frontend/host.c), so its latency is the monitor's.
"""
import argparse
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from monitor_client import Monitor  # noqa: E402

MAX_REPLY = 3.0
MODES = {"pit": 0x20, "ipi": 0x40, "level": 0x24, "rep": None}


def fail(what):
    print(f"FAIL: {what}")
    sys.exit(1)


def wait_output(fd, pattern, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while pattern not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
    return buf


def irq_count(mon, vector):
    out, _ = mon.timed("info irq")
    for line in out.splitlines():
        m = re.match(r"\s*(0x)?([0-9a-fA-F]+)\s*[:=]?\s+(\d+)", line)
        if m and int(m.group(2), 16) == vector:
            return int(m.group(3))
    return 0


def ecx(mon):
    out, _ = mon.timed("info registers")
    m = re.search(r"ECX=([0-9a-f]{8})", out)
    return int(m.group(1), 16) if m else None


def monitor_run(popek, rom, mode, accel):
    tmp = tempfile.mkdtemp(prefix="popek-bounds-")
    path = os.path.join(tmp, "mon")
    proc = subprocess.Popen([popek, "-bios", rom, "-display", "none", "-serial", "stdio",
                             "-monitor", f"unix:{path},server,nowait", "--accel", accel],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        if wait_output(proc.stdout.fileno(), b"flood up", 30) is None:
            fail(f"{mode}: the guest never armed its flood: {proc.stderr.read1(4000)!r}")
        mon = Monitor(path, connect_timeout=20, io_timeout=30)
        vector = MODES[mode]
        time.sleep(0.5)
        before = irq_count(mon, vector) if vector else ecx(mon)
        t0 = time.monotonic()
        time.sleep(1.0)
        worst = 0.0
        for _ in range(5):
            out, secs = mon.timed("info status")
            if "VM status: running" not in out:
                fail(f"{mode}: info status said {out!r}")
            worst = max(worst, secs)
        after = irq_count(mon, vector) if vector else ecx(mon)
        span = time.monotonic() - t0
        if vector:
            rate = (after - before) / span
            if rate < 1000:
                fail(f"{mode} ({accel}): only {rate:.0f} interrupts/s on vector "
                     f"{vector:#x}: not a flood")
            what = f"{rate:,.0f} interrupts/s"
        else:
            if before is None or after is None or before == after:
                fail(f"{mode} ({accel}): ECX did not move ({before} -> {after})")
            what = f"ECX {before:#x} -> {after:#x}"
        if worst > MAX_REPLY:
            fail(f"{mode} ({accel}): a monitor command took {worst:.2f} s")
        print(f"ok: {mode} ({accel}, {what}): the monitor answers in at most {worst:.3f} s")
    finally:
        proc.kill()
        proc.wait()


def ctrl_a_x(popek, rom, mode, accel):
    master, slave = pty.openpty()
    proc = subprocess.Popen([popek, "-bios", rom, "-nographic", "--accel", accel],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    try:
        if wait_output(master, b"flood up", 30) is None:
            fail(f"{mode}: the guest never armed its flood on the terminal")
        time.sleep(1.0)
        t0 = time.monotonic()
        os.write(master, b"\x01x")
        try:
            status = proc.wait(timeout=MAX_REPLY)
        except subprocess.TimeoutExpired:
            fail(f"{mode} ({accel}): Ctrl-A x did not end popek within {MAX_REPLY} s")
        secs = time.monotonic() - t0
        if status != 0:
            fail(f"{mode} ({accel}): Ctrl-A x ended popek with status {status}")
        print(f"ok: {mode} ({accel}): Ctrl-A x ends popek in {secs:.3f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("bindir")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    for mode in MODES:
        rom = os.path.join(args.bindir, f"flood_{mode}.bin")
        monitor_run(args.popek, rom, mode, args.accel)
        ctrl_a_x(args.popek, rom, mode, args.accel)
    print("PASS")


if __name__ == "__main__":
    main()
