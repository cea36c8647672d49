#!/usr/bin/env python3
"""Disk throughput in the Linux guest, popek beside QEMU TCG (a benchmark: prints, never gates).

  tests/bench/disk_bench.py POPEK DISKGUESTDIR [--qemu PATH | --no-qemu] [--mib N] [--reps R]
                            [--formats raw,qcow2]

For each engine (popek --accel bt, qemu-system-i386 -accel tcg), disk
(IDE: -drive if=ide, virtio-blk: -drive if=virtio) and image format (raw;
qcow2, a fresh image from qemu-img, when qemu-img is there), with QEMU's
default cache mode writeback on both engines, in one run on this host: the
guest (tests/guests/build-disk-guest.sh) writes N MiB to the
block device with `dd oflag=direct bs=1M`, then reads them back with `dd
iflag=direct bs=1M`, so the guest's page cache is out of the way.  Each
figure is the best of R runs, from the guest command's wall time as seen
from the host (the guest's own clock runs on virtual time).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest", "linux"))
from linux_guest import MARKER, Guest  # noqa: E402


class Engine(Guest):
    """The disk guest on the serial console under popek or QEMU."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""


def argv_for(engine, args, img, disk, fmt):
    kernel = ["-kernel", os.path.join(args.guestdir, "bzImage"),
              "-initrd", os.path.join(args.guestdir, "initramfs-disk.cpio.gz"),
              "-append", "console=ttyS0 acpi=off quiet panic=-1", "-nographic", "-no-reboot",
              "-m", "256M", "-drive", f"file={img},format={fmt},if={disk}"]
    if engine == "popek":
        return [args.popek, "--accel", "bt"] + kernel
    return [args.qemu, "-accel", "tcg"] + kernel


def timed(g, command):
    t0 = time.monotonic()
    out, rc = g.run(command, timeout=1800)
    elapsed = time.monotonic() - t0
    if rc != 0:
        raise AssertionError(f"{command}: status {rc}\n{out}")
    return elapsed


def measure(engine, args, work, disk, fmt):
    img = os.path.join(work, f"{engine}-{disk}.{fmt}")
    size = (args.mib + 1) << 20
    if fmt == "raw":
        with open(img, "wb") as f:
            f.truncate(size)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, img, str(size)], check=True)
    g = Engine(argv_for(engine, args, img, disk, fmt))
    try:
        g.read_until(MARKER, 900)
        g.read_until(rb"[#$] ", 60)
        dev = "/dev/vda" if disk == "virtio" else "/dev/sda"
        write = read = float("inf")
        for _ in range(args.reps):
            write = min(write, timed(g, f"dd if=/dev/zero of={dev} bs=1M count={args.mib} "
                                        "oflag=direct 2>/dev/null"))
            read = min(read, timed(g, f"dd if={dev} of=/dev/null bs=1M count={args.mib} "
                                      "iflag=direct 2>/dev/null"))
        return args.mib / write, args.mib / read
    finally:
        g.proc.kill()
        g.proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--qemu", default=shutil.which("qemu-system-i386"))
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--formats", default="raw,qcow2", help="image formats, comma-separated")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    if "qcow2" in formats and not shutil.which("qemu-img"):
        print("qemu-img not found: qcow2 left out")
        formats.remove("qcow2")
    engines = ["popek"] + ([] if args.no_qemu or not args.qemu else ["qemu"])
    work = tempfile.mkdtemp()
    try:
        print(f"sequential direct I/O, {args.mib} MiB, dd bs=1M, best of {args.reps} (MiB/s)")
        print(f"{'engine':<8} {'disk':<8} {'format':<8} {'write':>8} {'read':>8}")
        for engine in engines:
            for disk in ("ide", "virtio"):
                for fmt in formats:
                    w, r = measure(engine, args, work, disk, fmt)
                    print(f"{engine:<8} {disk:<8} {fmt:<8} {w:8.1f} {r:8.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
