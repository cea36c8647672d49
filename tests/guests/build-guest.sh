#!/usr/bin/env bash
# Build the Linux test guest from Debian's i386 packages and cache it.
#   tests/guests/build-guest.sh OUTDIR
# Produces OUTDIR/bzImage (linux-image-6.1.*-686, unpacked with dpkg-deb -x, not
# installed), OUTDIR/bzImage-pae (linux-image-6.1.*-686-pae, the same way) and
# OUTDIR/initramfs.cpio.gz (busybox-static:i386 plus an /init
# that mounts proc/sys/dev, prints the marker, runs the commands given on the
# kernel command line as popek.cmd=..., or a shell, then powers off).
set -euo pipefail
out=${1:?usage: build-guest.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/bzImage" ] && [ -s "$out/bzImage-pae" ] && [ -s "$out/initramfs.cpio.gz" ] && [ "$out/initramfs.cpio.gz" -nt "$here/init" ] &&
   [ "$out/initramfs.cpio.gz" -nt "$here/build-guest.sh" ] && [ "$out/initramfs.cpio.gz" -nt "$here/netup" ] &&
   [ "$out/initramfs.cpio.gz" -nt "$here/miniftpd.c" ] && [ "$out/initramfs.cpio.gz" -nt "$here/guest-root.sh" ] &&
   [ "$out/initramfs.cpio.gz" -nt "$here/guest-debs.sh" ]; then
    exit 0
fi

# shellcheck source=tests/guests/guest-debs.sh
. "$here/guest-debs.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kpkg=$(guest_debs_unpack "$work")
cp kernel/boot/vmlinuz-* "$out/bzImage"
ppkg=$(guest_debs_unpack_pae "$work")
cp kernel-pae/boot/vmlinuz-* "$out/bzImage-pae"

root=$work/root
# shellcheck source=tests/guests/guest-root.sh
. "$here/guest-root.sh"
guest_root_build "$work/kernel" "$work/bb" "$root" -m32
guest_initramfs "$root" > "$out/initramfs.cpio.gz"
echo "build-guest: $kpkg -> $out/bzImage, $ppkg -> $out/bzImage-pae, $out/initramfs.cpio.gz"
