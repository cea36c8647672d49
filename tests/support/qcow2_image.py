#!/usr/bin/env python3
"""A small qcow2 image written by hand, for tests that must run without
qemu-img (an optional peer, never a dependency).

  qcow2_image.py OUT [BACKING [overflow]]

Version 3, 64 KiB clusters, 16 MiB, as `qemu-img create` lays it out:
header, refcount table, refcount block, L1 table.  BACKING (a file name,
relative to OUT's directory as qcow2 stores it) adds a backing file after
the header.  "overflow" makes it a dirty image with 1-bit refcounts whose
data cluster two L2 entries share (a damaged image for error tests).
Also importable: write_qcow2(out, backing=b"", mode="").
"""
import struct
import sys

CLUSTER = 0x10000


def write_qcow2(out, backing=b"", mode=""):
    cl = CLUSTER
    img = bytearray(4 * cl)
    struct.pack_into('>4sIQIIQIIQQIIQQQQII', img, 0, b'QFI\xfb', 3, 120 if backing else 0,
                     len(backing), 16, 16 << 20, 0, 1, 3 * cl, cl, 1, 0, 0, 0, 0, 0, 4, 112)
    img[120:120 + len(backing)] = backing
    struct.pack_into('>Q', img, cl, 2 * cl)
    for c in range(4):
        struct.pack_into('>H', img, 2 * cl + 2 * c, 1)
    if mode == "overflow":
        img += bytearray(2 * cl)
        struct.pack_into('>QI', img, 72, 1, 0)                # dirty
        struct.pack_into('>I', img, 96, 0)                    # 1-bit refcounts
        struct.pack_into('>Q', img, 2 * cl, 0x3f << 56)       # clusters 0-5 in use
        struct.pack_into('>Q', img, 3 * cl, 4 * cl)           # L1[0]: L2 at cluster 4
        struct.pack_into('>QQ', img, 4 * cl, 5 * cl, 5 * cl)  # two entries, one cluster
        open(out, 'wb').write(img)
    else:
        open(out, 'wb').write(img[:3 * cl + 8])


if __name__ == "__main__":
    if len(sys.argv) < 2 or len(sys.argv) > 4:
        sys.exit("usage: qcow2_image.py OUT [BACKING [overflow]]")
    write_qcow2(sys.argv[1], sys.argv[2].encode() if len(sys.argv) > 2 else b"",
                sys.argv[3] if len(sys.argv) > 3 else "")
