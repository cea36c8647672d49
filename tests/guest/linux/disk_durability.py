#!/usr/bin/env python3
"""Disk durability: flush-then-kill cycles through popek's real frontend.

  disk_durability.py POPEK DISKGUESTDIR --disk ide|virtio [--format raw|qcow2]
                     [--cycles N] [--accel ENGINE]
  disk_durability.py POPEK DISKGUESTDIR --disk ide|virtio --snapshot

Each cycle boots the disk guest on the same image.  The guest writes
rounds of 64 KiB, each a pattern naming its cycle and round, to its own
place on the raw block device (/dev/sda through IDE, /dev/vda through
virtio-blk) with `dd conv=fsync`: the page cache is written and the
kernel sends the disk a cache flush (ATA FLUSH CACHE, VIRTIO_BLK_T_FLUSH),
and only then does the guest print "flushed C.R".  The guest goes on
writing (the next rounds, then junk in a place of its own, for ever); the
host kills popek with SIGKILL as soon as it reads the line of the round
this cycle stops after (1, 2, 3, 1, ...).  Then, in the image:
  - every byte of every round flushed so far, in this cycle and the
    earlier ones, is there (the bytes that are not are counted as lost);
  - every sector of a round written after the last flush holds either
    the old bytes or the new ones, never anything else;
  - every other byte is as it was before the first cycle.
With --snapshot the guest writes and flushes under -snapshot and the
image must stay byte-identical after the kill.

--format qcow2 (for when popek has it) makes the image with qemu-img,
reads it back through `qemu-img convert` and wants `qemu-img check` clean;
without qemu-img it is skipped (77).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_guest_lib import boot, check, kill, send  # noqa: E402

IMAGE = 8 << 20
CHUNK = 64 << 10  # one round: 64 KiB at its own place
ROUNDS = 3        # rounds the guest writes per cycle (then junk)
JUNK_AT = 100     # in CHUNKs: where the guest writes after its rounds
SECTOR = 512


def round_bytes(cycle, rnd):
    line = b"popek cycle %d round %d\n" % (cycle, rnd)
    return (line * (CHUNK // len(line) + 1))[:CHUNK]


def chunk_of(cycle, rnd):
    """Where round rnd of cycle goes, in CHUNKs (chunk 0 is never written)."""
    return 1 + (cycle - 1) * ROUNDS + (rnd - 1)


class Image:
    """The disk image in its format; contents() gives its bytes as the guest sees them."""

    def __init__(self, work, fmt, initial):
        self.fmt = fmt
        self.work = work
        raw = os.path.join(work, "initial.raw")
        with open(raw, "wb") as f:
            f.write(initial)
        if fmt == "raw":
            self.path = raw
        else:
            self.path = os.path.join(work, "disk.qcow2")
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, raw, self.path],
                           check=True)

    def contents(self):
        if self.fmt == "raw":
            with open(self.path, "rb") as f:
                return f.read()
        out = os.path.join(self.work, "readback.raw")
        subprocess.run(["qemu-img", "convert", "-f", self.fmt, "-O", "raw", self.path, out],
                       check=True)
        with open(out, "rb") as f:
            return f.read()

    def check_metadata(self):
        if self.fmt == "raw":
            return
        r = subprocess.run(["qemu-img", "check", "-f", self.fmt, self.path], capture_output=True,
                           text=True)
        # 0: clean; 3: leaked clusters only, which an interrupted allocation may leave.
        check(r.returncode in (0, 3), "qemu-img check finds no corruption", r.stdout + r.stderr)


def drive_options(args, img):
    return ["-drive", f"file={img.path},format={args.format},if={args.disk}"]


def device(args):
    return "/dev/vda" if args.disk == "virtio" else "/dev/sda"


def guest_loop(cycle, dev):
    """The rounds, each flushed and announced, then junk for ever."""
    rounds = (f'for r in $(seq 1 {ROUNDS}); do yes "popek cycle {cycle} round $r" | '
              f'head -c {CHUNK} | dd of={dev} bs={CHUNK} seek=$(({chunk_of(cycle, 1)} + r - 1)) '
              f'conv=fsync 2>/dev/null && echo "flushed {cycle}.$r"; done')
    junk = (f'while :; do yes junk | head -c {CHUNK} | dd of={dev} bs={CHUNK} seek={JUNK_AT} '
            f'2>/dev/null; done')
    return f"{rounds}; {junk}"


def run_cycles(args, work):
    initial = random.Random(16).randbytes(IMAGE)
    img = Image(work, args.format, initial)
    expect = bytearray(initial)  # what must be in the image
    loose = []                   # (offset, old, new): sectors that may hold either
    lost = 0
    t0 = time.monotonic()
    for cycle in range(1, args.cycles + 1):
        stop_after = 1 + (cycle - 1) % ROUNDS
        g = boot(args.popek, args.guestdir, args.accel, drive_options(args, img))
        send(g, guest_loop(cycle, device(args)))
        g.read_until(rb"\nflushed %d\.%d\r?\n" % (cycle, stop_after), 300)
        kill(g)
        for rnd in range(1, ROUNDS + 1):
            at = chunk_of(cycle, rnd) * CHUNK
            if rnd <= stop_after:
                expect[at:at + CHUNK] = round_bytes(cycle, rnd)
            else:
                loose.append((at, bytes(expect[at:at + CHUNK]), round_bytes(cycle, rnd)))
        junk_at = JUNK_AT * CHUNK
        loose.append((junk_at, bytes(expect[junk_at:junk_at + CHUNK]),
                      (b"junk\n" * (CHUNK // 5 + 1))[:CHUNK]))
        now = img.contents()
        check(len(now) == IMAGE, f"cycle {cycle}: the image keeps its size", f"{len(now)} bytes")
        # Loose sectors: old or new, whichever they hold now is what later cycles expect.
        torn = []
        for at, old, new in loose:
            for s in range(0, CHUNK, SECTOR):
                got = now[at + s:at + s + SECTOR]
                if got not in (old[s:s + SECTOR], new[s:s + SECTOR]):
                    torn.append(at + s)
                expect[at + s:at + s + SECTOR] = got
        check(not torn, f"cycle {cycle}: every sector written after the last flush holds its "
              "old or its new bytes", f"torn sectors at {torn[:8]}")
        loose = []
        bad = sum(1 for a, b in zip(now, expect) if a != b)
        lost += bad
        check(bad == 0, f"cycle {cycle}: every flushed byte is in the image and nothing else "
              f"changed (killed after round {stop_after})", f"{bad} bytes differ")
        img.check_metadata()
    print(f"durability: {args.cycles} flush-then-kill cycles on {args.disk} {args.format}, "
          f"{args.cycles * ROUNDS} rounds of {CHUNK} bytes, {lost} bytes lost, "
          f"{time.monotonic() - t0:.0f} s")


def run_snapshot(args, work):
    initial = random.Random(17).randbytes(IMAGE)
    img = Image(work, args.format, initial)
    g = boot(args.popek, args.guestdir, args.accel, drive_options(args, img) + ["-snapshot"])
    send(g, guest_loop(1, device(args)))
    g.read_until(rb"\nflushed 1\.%d\r?\n" % ROUNDS, 300)
    kill(g)
    check(img.contents() == initial, "-snapshot: flushed writes and a kill leave the image "
          "byte-identical")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--disk", choices=("ide", "virtio"), required=True)
    ap.add_argument("--format", choices=("raw", "qcow2"), default="raw")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--snapshot", action="store_true")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    if args.format != "raw" and not shutil.which("qemu-img"):
        print("qemu-img is not installed: skipped")
        return 77
    work = tempfile.mkdtemp()
    try:
        if args.snapshot:
            run_snapshot(args, work)
        else:
            run_cycles(args, work)
        print("disk durability test: passed")
        return 0
    except AssertionError as e:
        print(f"disk durability test: FAILED: {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
