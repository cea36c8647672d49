#!/usr/bin/env python3
"""virtio-blk in the Linux guest through popek's real frontend.

  virtio_blk_guest.py POPEK DISKGUESTDIR [--accel ENGINE]

An ext2 file system made on the host with mke2fs goes in a raw image.
Boot 1 (-drive if=virtio): Debian's virtio_blk module finds /dev/vda,
the guest mounts it, writes a file, syncs, and popek is killed with
SIGKILL while the file system is still mounted.  The host reads the file
out of the image with debugfs.  Boot 2 (-drive if=none,readonly=on and
-device virtio-blk-pci,drive=ID,serial=...): the guest sees a read-only
disk with that serial, mounts it read-only, finds the file, and a write
to /dev/vda is refused; the image is unchanged after the run.
"""
import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_guest_lib import boot, check, kill, reboot  # noqa: E402

IMAGE_MIB = 32
FILE_LINES = 20000  # `seq 1 20000`: 108894 bytes


def expected_file():
    return b"".join(b"%d\n" % i for i in range(1, FILE_LINES + 1))


def monitor(path, command):
    """One monitor command over -monitor unix:PATH; its output."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        data = b""
        while not data.endswith(b"(popek) "):
            data += s.recv(4096)
        s.sendall(command.encode() + b"\n")
        data = b""
        while not data.endswith(b"(popek) "):
            data += s.recv(4096)
    return data.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    for tool in ("mke2fs", "debugfs"):
        if not shutil.which(tool):
            print(f"{tool} is not installed (e2fsprogs; scripts/setup.sh)")
            return 1
    work = tempfile.mkdtemp()
    img = os.path.join(work, "ext2.img")
    try:
        with open(img, "wb") as f:
            f.truncate(IMAGE_MIB << 20)
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-L", "popekvd", img], check=True)

        mon = os.path.join(work, "mon.sock")
        g = boot(args.popek, args.guestdir, args.accel,
                 ["-drive", f"file={img},if=virtio,format=raw",
                  "-monitor", f"unix:{mon},server,nowait"])
        out, rc = g.run("cat /sys/block/vda/size /sys/block/vda/ro")
        check(rc == 0 and out.split() == [str(IMAGE_MIB << 11), "0"],
              "virtio_blk finds /dev/vda, writable, of the image's size", out)
        out, rc = g.run(f"mount -t ext2 /dev/vda /mnt && seq 1 {FILE_LINES} > /mnt/data && "
                        "mkdir /mnt/dir && echo popek > /mnt/dir/note && sync && echo synced")
        check(rc == 0 and "synced" in out, "the guest mounts ext2, writes and syncs", out)
        out, rc = g.run("sha256sum /mnt/data")
        check(hashlib.sha256(expected_file()).hexdigest() in out, "the file reads back", out)
        info = monitor(mon, "info block")
        m = re.search(r"(\d+) read (\d+) write (\d+) flush", info)
        check(m and int(m.group(2)) > 0 and int(m.group(3)) > 0,
              "the guest's sync reached the device as writes and a FLUSH (info block)", info)
        kill(g)
        got = subprocess.run(["debugfs", "-R", "cat /data", img], capture_output=True).stdout
        check(got == expected_file(), "the synced file is in the image after the kill (debugfs)",
              f"{len(got)} bytes")

        before = hashlib.sha256(open(img, "rb").read()).hexdigest()
        g = boot(args.popek, args.guestdir, args.accel,
                 ["-drive", f"file={img},if=none,id=vd0,format=raw,readonly=on",
                  "-device", "virtio-blk-pci,drive=vd0,serial=popek-vd0"])
        out, rc = g.run("cat /sys/block/vda/ro /sys/block/vda/serial")
        check(out.split() == ["1", "popek-vd0"],
              "-device virtio-blk-pci: a read-only disk with the serial (GET_ID)", out)
        out, rc = g.run("mount -t ext2 -o ro /dev/vda /mnt && sha256sum /mnt/data && "
                        "cat /mnt/dir/note")
        check(rc == 0 and hashlib.sha256(expected_file()).hexdigest() in out and "popek" in out,
              "after the kill, a new boot finds the data", out)
        out, rc = g.run("umount /mnt && dd if=/dev/zero of=/dev/vda bs=512 count=1 seek=8 "
                        "conv=fsync")
        check(rc != 0, "a write to the read-only disk is refused", out)
        reboot(g)
        after = hashlib.sha256(open(img, "rb").read()).hexdigest()
        check(after == before, "the read-only run leaves the image as it was")
        print("virtio-blk guest test: passed")
        return 0
    except AssertionError as e:
        print(f"virtio-blk guest test: FAILED: {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
