#!/usr/bin/env python3
"""mbr.py on a small image with a made-up boot.img and core.img: the
partition entry, the boot code kept clear of the table, the two pointers
GRUB's boot.img and diskboot follow, core.img in the gap, the partition's
data untouched; and bad input is one line and status 1."""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "mbr.py")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    failures = []

    def check(what, ok):
        print("%s: %s" % ("ok" if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as d:
        img, boot, core = (os.path.join(d, n) for n in ("disk.img", "boot.img", "core.img"))
        sectors, first = 8192, 2048
        with open(img, "wb") as f:
            f.truncate(sectors * 512)
            f.seek(first * 512)
            f.write(b"FILESYSTEM" * 100)
        with open(boot, "wb") as f:
            f.write(bytes(range(256)) * 2)  # every byte differs from the table's
        core_data = bytearray(b"\xc0" * (3 * 512 + 100))
        struct.pack_into("<QHH", core_data, 500, 2, 0, 0x820)  # diskboot's default list
        with open(core, "wb") as f:
            f.write(core_data)

        r = run(img, boot, core, str(first))
        check("exit 0 (%s)" % r.stderr.strip(), r.returncode == 0)
        with open(img, "rb") as f:
            data = f.read()
        mbr = data[:512]
        status, ptype, lba, count = (mbr[0x1be], mbr[0x1be + 4],
                                     *struct.unpack_from("<II", mbr, 0x1be + 8))
        check("one bootable Linux partition %d+%d" % (lba, count),
              (status, ptype, lba, count) == (0x80, 0x83, first, sectors - first))
        check("the other three entries empty", mbr[0x1ce:0x1fe] == b"\0" * 48)
        check("boot signature", mbr[510:512] == b"\x55\xaa")
        expect = bytearray(bytes(range(256)) * 2)[:0x1b8]
        struct.pack_into("<Q", expect, 0x5c, 1)
        check("boot.img's code with its kernel sector = 1", mbr[:0x1b8] == bytes(expect))
        start, length, seg = struct.unpack_from("<QHH", data, 512 + 500)
        check("diskboot's list: sector 2, 3 sectors, segment kept (%d %d %#x)" % (start, length, seg),
              (start, length, seg) == (2, 3, 0x820))
        check("the rest of core.img from sector 2", data[1024:1024 + 3 * 512 + 100 - 512] ==
              bytes(core_data[512:]))
        check("the partition's data untouched", data[first * 512:first * 512 + 1000] ==
              b"FILESYSTEM" * 100)

        with open(core, "wb") as f:
            f.write(b"\0" * (first * 512))
        r = run(img, boot, core, str(first))
        check("core.img too big for the gap: status 1, one line",
              r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "does not fit" in r.stderr)
        with open(boot, "wb") as f:
            f.write(b"\0" * 100)
        r = run(img, boot, core, str(first))
        check("a short boot.img: status 1, one line",
              r.returncode == 1 and len(r.stderr.splitlines()) == 1)
    print("%d passed, %d failed" % (10 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
