#!/usr/bin/env python3
"""The installed disk's MBR, without fdisk, a loop device or grub-install:

    mbr.py IMAGE BOOT_IMG CORE_IMG FIRST_PARTITION_SECTOR

writes a partition table with one bootable Linux partition (type 0x83) from
FIRST_PARTITION_SECTOR to the image's end (CHS fields saying "use the
LBA"), GRUB's boot.img over the MBR's code, core.img into the gap after
the MBR (sector 1 on), and
the two pointers grub-bios-setup would set: boot.img's kernel sector (where
core.img starts) and the block list at the end of core.img's first sector
(diskboot), which says where the rest of core.img lies and how long it is.
The layout is GRUB's documented i386-pc one (include/grub/i386/pc/boot.h:
kernel sector at 0x5c; the block list is {u64 start, u16 len, u16 segment}
at the end of the first 512 bytes)."""
import struct
import sys

SECTOR = 512
MBR_CODE_END = 0x1b8          # the disk signature and partition table follow
KERNEL_SECTOR = 0x5c
PART_TABLE = 0x1be
BLOCKLIST = SECTOR - 12


def main():
    if len(sys.argv) != 5:
        print("usage: mbr.py IMAGE BOOT_IMG CORE_IMG FIRST_PARTITION_SECTOR", file=sys.stderr)
        return 2
    image, boot_path, core_path, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(boot_path, "rb") as f:
        boot = f.read()
    with open(core_path, "rb") as f:
        core = bytearray(f.read())
    if len(boot) != SECTOR:
        print("mbr: %s is not a 512-byte boot.img" % boot_path, file=sys.stderr)
        return 1
    core += b"\0" * (-len(core) % SECTOR)
    sectors = len(core) // SECTOR
    if sectors < 2 or 1 + sectors > first:
        print("mbr: core.img (%d sectors) does not fit before sector %d" % (sectors, first),
              file=sys.stderr)
        return 1
    # diskboot loads the rest of core.img: from sector 2, sectors-1 of them,
    # to the segment it already names.
    _, _, seg = struct.unpack_from("<QHH", core, BLOCKLIST)
    struct.pack_into("<QHH", core, BLOCKLIST, 2, sectors - 1, seg)
    with open(image, "r+b") as f:
        total = f.seek(0, 2) // SECTOR
        if total <= first or total > 0xffffffff:
            print("mbr: %s: %d sectors, no room for a partition from %d" % (image, total, first),
                  file=sys.stderr)
            return 1
        mbr = bytearray(SECTOR)
        mbr[:MBR_CODE_END] = boot[:MBR_CODE_END]
        struct.pack_into("<I", mbr, MBR_CODE_END, 0x706f706b)  # disk signature
        # status, CHS first, type, CHS last, LBA first, sectors
        struct.pack_into("<B3sB3sII", mbr, PART_TABLE, 0x80, b"\xfe\xff\xff", 0x83,
                         b"\xfe\xff\xff", first, total - first)
        mbr[510:512] = b"\x55\xaa"
        struct.pack_into("<Q", mbr, KERNEL_SECTOR, 1)
        f.seek(0)
        f.write(mbr)
        f.seek(SECTOR)
        f.write(core)
    return 0


if __name__ == "__main__":
    sys.exit(main())
