#!/usr/bin/env python3
"""The floppy drive in the Linux guest through popek's real frontend.

  floppy_guest.py POPEK GUESTDIR [--accel ENGINE]

A 1.44 MB image of pseudo-random bytes goes in drive A: (-fda).  The guest
loads Debian's floppy.ko (from /lib/popek-modules), which probes the
82077AA, finds fd0 from CMOS and reads through ISA DMA channel 2.  The
guest reads the whole disk from /dev/fd0 (its checksum must match the
host's), writes 20 KiB at 300 KiB (crossing tracks and heads), reads them
back, and powers off; the image must hold the guest's bytes.  A second
boot with the disk write-protected (readonly=on) must refuse the write
and leave the image unchanged.
"""
import argparse
import hashlib
import os
import random
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402

DISK = 1474560
WRITE_AT = 300 * 1024
WRITE_LEN = 20 * 1024


def boot(args, drive):
    g = Guest(args.popek, args.guestdir, args.accel, ["-drive", drive])
    g.read_until(MARKER, BOOT_TIMEOUT)
    g.read_until(rb"[#$] ", 60)
    out, rc = g.run("insmod /lib/popek-modules/floppy.ko && sleep 1 && ls -l /dev/fd0")
    check(rc == 0 and "fd0" in out, "floppy.ko loads and makes /dev/fd0", out)
    return g


def poweroff(g):
    g.proc.stdin.write(b"poweroff -f\n")
    g.proc.stdin.flush()
    status = g.wait_exit(120)
    check(status == 0, "poweroff ends popek with status 0", f"status {status}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    img = os.path.join(work, "floppy.img")
    try:
        data = random.Random(1440).randbytes(DISK)
        with open(img, "wb") as f:
            f.write(data)

        g = boot(args, f"if=floppy,index=0,file={img}")
        out, rc = g.run("dmesg | grep -i -e floppy -e fd0 -e FDC", kernel_lines=True)
        check("82077" in out, "the kernel finds an 82077 controller", out)
        check("fd0 is 1.44M" in out, "CMOS 0x10 gives a 1.44M drive A:", out)
        out, rc = g.run("md5sum < /dev/fd0", timeout=300)
        want = hashlib.md5(data).hexdigest()
        check(rc == 0 and want in out, "the whole disk read through /dev/fd0 matches", out)
        cmd = (f"seq 1 5000 | head -c {WRITE_LEN} > /tmp/w && "
               f"dd if=/tmp/w of=/dev/fd0 bs=1024 seek={WRITE_AT // 1024} conv=fsync && "
               f"echo 3 > /proc/sys/vm/drop_caches; "
               f"dd if=/dev/fd0 bs=1024 skip={WRITE_AT // 1024} count={WRITE_LEN // 1024} "
               f"2>/dev/null | cmp - /tmp/w && echo readback-same")
        out, rc = g.run(cmd, timeout=300)
        check(rc == 0 and "readback-same" in out, "a write to /dev/fd0 reads back", out)
        poweroff(g)
        written = b"".join(b"%d\n" % i for i in range(1, 5001))[:WRITE_LEN]
        with open(img, "rb") as f:
            now = f.read()
        check(now[WRITE_AT:WRITE_AT + WRITE_LEN] == written, "the guest's write reached the image")
        check(now[:WRITE_AT] == data[:WRITE_AT] and
              now[WRITE_AT + WRITE_LEN:] == data[WRITE_AT + WRITE_LEN:],
              "nothing else in the image changed")

        g = boot(args, f"if=floppy,index=0,file={img},readonly=on")
        out, rc = g.run("echo x | dd of=/dev/fd0 bs=512 seek=10 conv=fsync; echo dd-rc=$?",
                        timeout=300)
        check("dd-rc=0" not in out, "a write to a write-protected disk fails", out)
        poweroff(g)
        with open(img, "rb") as f:
            check(f.read() == now, "the write-protected image is unchanged")
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    finally:
        if os.path.exists(img):
            os.unlink(img)
        os.rmdir(work)


if __name__ == "__main__":
    main()
