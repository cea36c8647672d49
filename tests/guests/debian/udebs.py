#!/usr/bin/env python3
"""The installer components (udebs) the netboot installer fetches from the
mirror for the journey's preseed, derived from the mirror's own indexes:

    udebs.py --packages UDEB_PACKAGES --kernel BZIMAGE [--initrd INITRD.GZ]

prints one package name a line, sorted.  The set is what anna and the
preseed's steps load:
  - every udeb of Priority required, important or standard;
  - the steps the preseed runs (STEPS below: partitioning, the base system,
    apt, the package selection, GRUB, finish-install) and the kernel
    modules the machine needs (disk, network, filesystem);
  - and everything those depend on, virtual names (Provides) included.
A package built for a kernel (it has a Kernel-Version field) is taken only
for the netboot kernel's version, read from the kernel image's setup header
(e.g. 6.1.0-50-686): modules for another ABI would not load.  Packages
already in the netboot initrd (its /var/lib/dpkg/status) are left out,
since anna does not fetch those.  UDEB_PACKAGES and INITRD.GZ may be
compressed (gzip, xz, lz4: what apt keeps in its lists).
"""
import argparse
import gzip
import io
import lzma
import re
import struct
import subprocess
import sys

# What the preseed's steps load beyond the standard set (most of these are
# standard already: listed so that a change of priority cannot drop them).
STEPS = [
    "anna", "choose-mirror", "apt-mirror-setup", "apt-setup-udeb",
    "partman-base", "partman-auto", "partman-partitioning", "partman-ext3",
    "partman-basicfilesystems", "partman-target",
    "base-installer", "bootstrap-base", "pkgsel", "grub-installer",
    "clock-setup", "tzsetup-udeb", "user-setup-udeb", "finish-install",
    # kernel modules, as virtual names: IDE/SATA disks, SCSI disk, e1000, ext4
    "ata-modules", "scsi-core-modules", "nic-modules", "ext4-modules",
]
WANTED_PRIORITIES = ("required", "important", "standard")


def read_maybe_compressed(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if data[:4] == b"\x04\x22\x4d\x18":  # lz4 frame: apt's own helper reads it
        return subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def parse_index(text):
    """Deb822 stanzas as dicts (continuation lines dropped: not needed)."""
    out = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r"([A-Za-z0-9-]+):\s*(.*)$", line)
            if m and not line[0].isspace():
                fields[m.group(1)] = m.group(2).strip()
        if "Package" in fields:
            out.append(fields)
    return out


def kernel_version(bzimage):
    """The ABI part of the kernel's version string (e.g. 6.1.0-50-686), from
    the setup header: a pointer at 0x20e, relative to 0x200, to the string."""
    with open(bzimage, "rb") as f:
        data = f.read(64 * 1024)
    if len(data) < 0x210 or data[0x202:0x206] != b"HdrS":
        raise ValueError("%s: not a Linux kernel image (no setup header)" % bzimage)
    (ptr,) = struct.unpack_from("<H", data, 0x20e)
    start = ptr + 0x200
    if ptr == 0 or start >= len(data):
        raise ValueError("%s: the setup header has no version string" % bzimage)
    version = data[start:data.index(b"\0", start)].decode("ascii", "replace")
    return version.split()[0]


def initrd_installed(initrd):
    """Names in the initrd's /var/lib/dpkg/status (newc cpio archives,
    concatenated, gzip or xz)."""
    data = read_maybe_compressed(initrd)
    pos, names = 0, set()
    while pos + 110 <= len(data):
        if data[pos:pos + 6] not in (b"070701", b"070702"):
            # padding between concatenated archives
            nxt = data.find(b"07070", pos)
            if nxt < 0:
                break
            pos = nxt
            continue
        hdr = data[pos:pos + 110]
        size = int(hdr[54:62], 16)
        namesize = int(hdr[94:102], 16)
        name = data[pos + 110:pos + 110 + namesize - 1].decode("utf-8", "replace")
        body = (pos + 110 + namesize + 3) & ~3
        if name.lstrip("./") == "var/lib/dpkg/status":
            text = data[body:body + size].decode("utf-8", "replace")
            names |= {p["Package"] for p in parse_index(text)}
        pos = (body + size + 3) & ~3
    return names


def dep_names(field):
    """Each 'a | b (>= 1)' group as a list of names."""
    groups = []
    for group in field.split(","):
        names = [re.sub(r"\s*[\(\[].*$", "", alt).strip() for alt in group.split("|")]
        names = [n.split(":")[0] for n in names if n]
        if names:
            groups.append(names)
    return groups


def select(stanzas, kver, installed=frozenset(), steps=STEPS):
    usable = [p for p in stanzas if p.get("Kernel-Version", kver) == kver]
    by_name = {p["Package"]: p for p in usable}
    providers = {}
    for p in usable:
        for virt in dep_names(p.get("Provides", "")):
            providers.setdefault(virt[0], []).append(p["Package"])

    def resolve(name):
        if name in by_name:
            return name
        cands = sorted(providers.get(name, []))
        return cands[0] if cands else None

    todo = [p["Package"] for p in usable if p.get("Priority") in WANTED_PRIORITIES]
    todo += [n for n in (resolve(s) for s in steps) if n]
    chosen = set()
    while todo:
        name = todo.pop()
        if name in chosen or name in installed:
            continue
        chosen.add(name)
        pkg = by_name[name]
        for group in dep_names(pkg.get("Depends", "")) + dep_names(pkg.get("Pre-Depends", "")):
            if any(alt in installed or alt in chosen for alt in group):
                continue
            for alt in group:
                r = resolve(alt)
                if r:
                    todo.append(r)
                    break
    return sorted(chosen)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--packages", required=True, help="main/debian-installer/binary-i386/Packages")
    p.add_argument("--kernel", required=True, help="the netboot kernel image")
    p.add_argument("--initrd", help="the netboot initrd (its packages are left out)")
    args = p.parse_args()
    try:
        kver = kernel_version(args.kernel)
        stanzas = parse_index(read_maybe_compressed(args.packages).decode("utf-8", "replace"))
        installed = initrd_installed(args.initrd) if args.initrd else set()
    except (OSError, ValueError, lzma.LZMAError, EOFError, subprocess.CalledProcessError) as e:
        print("udebs: %s" % e, file=sys.stderr)
        return 1
    if not any(s.get("Kernel-Version") == kver for s in stanzas):
        print("udebs: the index has no module udebs for the netboot kernel %s" % kver,
              file=sys.stderr)
        return 1
    for name in select(stanzas, kver, installed):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
