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
  nic     an e1000 and a virtio-net card (tests/guest/bounds/nic_flood.asm)
          transmitting without end and never taking what they receive,
          while the host floods them: on user networking (UDP datagrams
          into a hostfwd) and on a socket netdev whose peer sends frames
          and never reads.  NIC queues hold one frame per direction (net/net.c);
          the rest are dropped.  `info network` must show the flood both
          ways (frames from the guest, frames dropped) and answer within
          MONITOR_S seconds each time: device work cannot hold the main
          loop (the access pacer, hw/pc/main_loop.c).
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from monitor_client import Monitor  # noqa: E402

RAM_MIB = 64
SETTLE = 1.5
RUN = 4.0
GROWTH_MIB = 4
BOUND_MIB = 160
MONITOR_S = 3.0


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


def nic_traffic(mon, name):
    """(frames from the guest, dropped) from `info network`, timed."""
    text, took = mon.timed("info network")
    if took > MONITOR_S:
        fail(f"{name}: the monitor took {took:.2f} s to answer")
    m = re.search(r"from guest (\d+), dropped (\d+)", text)
    if not m:
        fail(f"{name}: no frame counts in info network: {text!r}")
    return int(m.group(1)), int(m.group(2)), took


def measure(name, popek, rom, extra, connect=None, monitor=False):
    cmd = [popek, "-bios", rom, "-display", "none", "-m", f"{RAM_MIB}M"] + extra
    sock_path = None
    if monitor:
        sock_path = os.path.join(tempfile.mkdtemp(prefix="popek-bounds-"), "mon")
        cmd += ["-monitor", f"unix:{sock_path},server,nowait"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    client = None
    mon = None
    try:
        if monitor:
            mon = Monitor(sock_path, connect_timeout=20, io_timeout=30)
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
        if mon:
            sent0, dropped0, worst = nic_traffic(mon, name)
            for _ in range(8):
                time.sleep(RUN / 8)
                sent, dropped, took = nic_traffic(mon, name)
                worst = max(worst, took)
            # A peer that never reads takes no frames at all: then they are all dropped.
            if (sent - sent0) + (dropped - dropped0) < 1000 or dropped - dropped0 < 100:
                fail(f"{name}: no flood: {sent - sent0} frames from the guest, "
                     f"{dropped - dropped0} dropped in {RUN:.0f} s")
            print(f"{name}: {sent - sent0} frames from the guest and {dropped - dropped0} "
                  f"dropped in {RUN:.0f} s; the monitor answered within {worst:.2f} s")
        else:
            time.sleep(RUN)
        if proc.poll() is not None:
            fail(f"{name}: popek exited {proc.returncode}: {proc.stderr.read().decode()}")
        last = hwm_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        if client:
            client.close()
        if sock_path and os.path.exists(sock_path):
            os.unlink(sock_path)
            os.rmdir(os.path.dirname(sock_path))
    growth = (last - first) / 1024
    beyond = last / 1024 - RAM_MIB
    print(f"{name}: peak RSS {last / 1024:.1f} MiB ({beyond:.1f} MiB beyond guest RAM), "
          f"+{growth:.1f} MiB over the last {RUN:.0f} s")
    if growth > GROWTH_MIB:
        fail(f"{name}: the peak grew by {growth:.1f} MiB in {RUN:.0f} s")
    if beyond > BOUND_MIB:
        fail(f"{name}: {beyond:.1f} MiB beyond guest RAM")


class Flooder:
    """Frames for the guest, as fast as the host takes them, until stop():
    UDP datagrams to a hostfwd port, or length-prefixed frames to the peer
    of a socket netdev (a listener popek connects to, which never reads)."""

    def __init__(self, udp_port=None):
        self.stopping = False
        self.udp_port = udp_port
        self.listener = None
        if udp_port is None:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(1)
            self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        # A broadcast UDP frame to the guest, 60 bytes, for the socket netdev.
        frame = bytes.fromhex("ffffffffffff525400abcdef0800") + bytes(46)
        if self.udp_port is not None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            while not self.stopping:
                try:
                    s.sendto(b"x" * 512, ("127.0.0.1", self.udp_port))
                except OSError:
                    time.sleep(0.001)
            s.close()
            return
        self.listener.settimeout(0.2)
        conn = None
        while conn is None and not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                pass
        if conn is None:
            return
        conn.settimeout(0.2)
        record = len(frame).to_bytes(4, "big") + frame
        while not self.stopping:
            try:
                conn.sendall(record * 64)
            except socket.timeout:
                pass
            except OSError:
                break
        conn.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=10)
        if self.listener:
            self.listener.close()


def main():
    global BOUND_MIB
    if os.environ.get("POPEK_SANITIZED"):
        BOUND_MIB *= 4  # ASan's shadow memory and quarantine; growth is still checked
        # ASan keeps freed blocks in a quarantine of up to 256 MiB, so a
        # frame allocated and freed per packet would look like growth.
        os.environ["ASAN_OPTIONS"] = ":".join(
            filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=4"]))
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
    for card, dev in (("e1000", "e1000"), ("virtio", "virtio-net-pci")):
        nic_rom = os.path.join(bindir, f"nic_flood_{card}.bin")
        port = free_port()
        flood = Flooder(udp_port=port)
        try:
            measure(f"nic {card}, user networking", popek, nic_rom,
                    ["-serial", "null", "-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{port}-:7",
                     "-device", f"{dev},netdev=n0"], monitor=True)
        finally:
            flood.stop()
        flood = Flooder()
        try:
            measure(f"nic {card}, socket netdev with a peer that never reads", popek, nic_rom,
                    ["-serial", "null", "-netdev",
                     f"socket,id=n0,connect=127.0.0.1:{flood.port}",
                     "-device", f"{dev},netdev=n0"], monitor=True)
        finally:
            flood.stop()
    print("PASS")


if __name__ == "__main__":
    main()
