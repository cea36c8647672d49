#!/usr/bin/env python3
"""No guest action makes popek's memory grow without bound beyond guest RAM.

  resource_bounds.py POPEK BINDIR

Each run starts popek with 64 MiB of guest RAM on one of the flood ROMs
(tests/guest/bounds/flood.asm) and reads its peak resident set (VmHWM in
/proc/PID/status) after SETTLE seconds and again after RUN more: the peak
may not grow by more than GROWTH_MIB in between (a leak per guest action
grows for as long as the guest runs), and peak minus guest RAM must stay
under BOUND_MIB (popek's own code, the 16 MiB of VGA memory, the code cache,
libraries: about 60 MiB here, against which a runaway is unmistakable).

  jit     new code written and run at every call, translator with -tb-size 4
          and the default 32 MiB cache: the cache flushes when full
  tlb     every linear page of 4 GiB read, CR3 switched every 1024 pages
          (translator and interpreter): the shadow TLB is a fixed table
  serial  COM1 written without end to a pty nobody opened, and to a TCP
          client that never reads: output is dropped, not queued
  trace   -d int -D FILE under an interrupt flood: lines go to the file
NIC queues are one frame per direction by construction (net/net.c) and
are not measured here.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

RAM_MIB = 64
SETTLE = 1.5
RUN = 4.0
GROWTH_MIB = 4
BOUND_MIB = 160


def fail(what):
    print(f"FAIL: {what}")
    sys.exit(1)


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    fail("no VmHWM in /proc/PID/status")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def measure(name, popek, rom, extra, connect=None):
    cmd = [popek, "-bios", rom, "-display", "none", "-m", f"{RAM_MIB}M"] + extra
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    client = None
    try:
        if connect:
            deadline = time.monotonic() + 20
            while client is None:
                try:
                    client = socket.create_connection(("127.0.0.1", connect), timeout=5)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                except OSError:
                    if time.monotonic() > deadline:
                        fail(f"{name}: cannot connect to the serial port")
                    time.sleep(0.05)
        time.sleep(SETTLE)
        if proc.poll() is not None:
            fail(f"{name}: popek exited {proc.returncode}: {proc.stderr.read().decode()}")
        first = hwm_kib(proc.pid)
        time.sleep(RUN)
        if proc.poll() is not None:
            fail(f"{name}: popek exited {proc.returncode}: {proc.stderr.read().decode()}")
        last = hwm_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        if client:
            client.close()
    growth = (last - first) / 1024
    beyond = last / 1024 - RAM_MIB
    print(f"{name}: peak RSS {last / 1024:.1f} MiB ({beyond:.1f} MiB beyond guest RAM), "
          f"+{growth:.1f} MiB over the last {RUN:.0f} s")
    if growth > GROWTH_MIB:
        fail(f"{name}: the peak grew by {growth:.1f} MiB in {RUN:.0f} s")
    if beyond > BOUND_MIB:
        fail(f"{name}: {beyond:.1f} MiB beyond guest RAM")


def main():
    global BOUND_MIB
    if os.environ.get("POPEK_SANITIZED"):
        BOUND_MIB *= 4  # ASan's shadow memory and quarantine; growth is still checked
    popek, bindir = sys.argv[1], sys.argv[2]
    rom = lambda mode: os.path.join(bindir, f"flood_{mode}.bin")  # noqa: E731
    trace = os.path.join(tempfile.mkdtemp(prefix="popek-bounds-"), "trace.log")
    measure("jit, bt, -tb-size 4", popek, rom("jit"), ["--accel", "bt", "-tb-size", "4"])
    measure("jit, bt, -tb-size 32", popek, rom("jit"), ["--accel", "bt"])
    measure("tlb, bt", popek, rom("tlb"), ["--accel", "bt"])
    measure("tlb, interp", popek, rom("tlb"), ["--accel", "interp"])
    measure("serial to an unopened pty", popek, rom("serial"), ["-serial", "pty"])
    port = free_port()
    measure("serial to a TCP client that never reads", popek, rom("serial"),
            ["-serial", f"tcp::{port},server,nowait"], connect=port)
    measure("trace -d int -D FILE", popek, rom("pit"), ["-d", "int", "-D", trace])
    size = os.path.getsize(trace)
    os.unlink(trace)
    if size < 10000:
        fail(f"the trace file has only {size} bytes: the guest did not flood")
    print("PASS")


if __name__ == "__main__":
    main()
