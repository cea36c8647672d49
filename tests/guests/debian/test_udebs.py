#!/usr/bin/env python3
"""udebs.py on a small made-up installer index, kernel image and initrd:
the kernel's ABI picks the module udebs, priorities and the preseed's steps
pick the rest, dependencies (virtual ones too) are followed, the initrd's
own packages are left out, and bad input is one line and status 1."""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from initramfs import FILE_MODE, newc_archive  # noqa: E402
INDEX = """\
Package: partman-base
Priority: standard
Depends: libparted2-udeb, di-utils

Package: libparted2-udeb
Priority: optional

Package: di-utils
Priority: required

Package: grub-installer
Priority: optional
Depends: grub-mount-udeb | os-prober-udeb
Description: picked by name (the preseed's GRUB step)
 continuation line: Package: not-a-package

Package: grub-mount-udeb
Priority: optional

Package: os-prober-udeb
Priority: optional

Package: gtk-thing
Priority: optional

Package: ext4-modules-6.1.0-50-686-di
Priority: standard
Provides: ext4-modules
Kernel-Version: 6.1.0-50-686
Depends: crc-modules-6.1.0-50-686-di

Package: ext4-modules-6.1.0-47-686-di
Priority: standard
Provides: ext4-modules
Kernel-Version: 6.1.0-47-686

Package: crc-modules-6.1.0-50-686-di
Priority: optional
Kernel-Version: 6.1.0-50-686

Package: nic-modules-6.1.0-50-686-di
Priority: optional
Provides: nic-modules
Kernel-Version: 6.1.0-50-686
Depends: kernel-image-6.1.0-50-686-di

Package: kernel-image-6.1.0-50-686-di
Priority: standard
Kernel-Version: 6.1.0-50-686
"""


def bzimage(path, version):
    img = bytearray(0x1000)
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x20e, 0x400)  # the string at 0x600
    text = (version + " (someone@example) #1 SMP").encode() + b"\0"
    img[0x600:0x600 + len(text)] = text
    with open(path, "wb") as f:
        f.write(img)


def run(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "udebs.py")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    failures = []

    def check(what, ok):
        print("%s: %s" % ("ok" if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as d:
        pk, kern, initrd = (os.path.join(d, n) for n in ("Packages.gz", "linux", "initrd.gz"))
        with gzip.open(pk, "wt") as f:
            f.write(INDEX)
        bzimage(kern, "6.1.0-50-686")
        # Two archives, as the journey's initrd has: the second one's
        # status file is not the installer's, the first one's is.
        status = b"Package: di-utils\nStatus: install ok installed\n\n" \
                 b"Package: kernel-image-6.1.0-50-686-di\nStatus: install ok installed\n"
        with open(initrd, "wb") as f:
            f.write(gzip.compress(newc_archive([("var/lib/dpkg/status", FILE_MODE, status)]) + b"\0" * 512 +
                                  newc_archive([("preseed.cfg", FILE_MODE, b"d-i x string y\n")])))

        r = run("--packages", pk, "--kernel", kern, "--initrd", initrd)
        got = r.stdout.split()
        check("exit 0 (stderr: %s)" % r.stderr.strip(), r.returncode == 0)
        check("sorted output", got == sorted(got))
        want = ["crc-modules-6.1.0-50-686-di", "ext4-modules-6.1.0-50-686-di", "grub-installer",
                "grub-mount-udeb", "libparted2-udeb", "nic-modules-6.1.0-50-686-di", "partman-base"]
        check("the set %s == %s" % (got, want), got == want)
        check("another ABI's modules left out", "ext4-modules-6.1.0-47-686-di" not in got)
        check("initrd's packages left out", "di-utils" not in got and
              "kernel-image-6.1.0-50-686-di" not in got)
        check("only the first alternative", "os-prober-udeb" not in got)

        r = run("--packages", pk, "--kernel", kern)
        got = r.stdout.split()
        check("without --initrd, required and dependencies come in",
              "di-utils" in got and "kernel-image-6.1.0-50-686-di" in got)

        bzimage(kern, "6.1.0-99-686")
        r = run("--packages", pk, "--kernel", kern)
        check("a kernel with no module udebs: status 1, one line",
              r.returncode == 1 and r.stdout == "" and len(r.stderr.splitlines()) == 1
              and "6.1.0-99-686" in r.stderr)

        with open(kern, "wb") as f:
            f.write(b"\0" * 4096)
        r = run("--packages", pk, "--kernel", kern)
        check("not a kernel: status 1, one line",
              r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "setup header" in r.stderr)
        r = run("--packages", os.path.join(d, "none"), "--kernel", kern)
        check("no index: status 1, one line", r.returncode == 1 and len(r.stderr.splitlines()) == 1)
    print("%d passed, %d failed" % (10 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
