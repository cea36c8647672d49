#!/usr/bin/env bash
# Build the 64-bit Linux test guest from Debian's amd64 packages and cache it.
#   tests/guests/build-guest64.sh OUTDIR
# Produces OUTDIR/bzImage (linux-image-6.1.*-amd64, unpacked with dpkg-deb -x,
# not installed) and OUTDIR/initramfs.cpio.gz (busybox-static:amd64 with the
# same /init, modules, netup and miniftpd as the i386 guest of
# build-guest.sh, built for x86-64).  The packages come from the cache
# scripts/setup.sh fills (tests/guests/guest-debs.sh).
set -euo pipefail
out=${1:?usage: build-guest64.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
fresh=1
for dep in init build-guest64.sh guest-root.sh guest-debs.sh netup miniftpd.c udhcpc.script; do
    [ "$out/initramfs.cpio.gz" -nt "$here/$dep" ] || fresh=0
done
if [ -s "$out/bzImage" ] && [ -s "$out/initramfs.cpio.gz" ] && [ $fresh = 1 ]; then
    exit 0
fi

# shellcheck source=tests/guests/guest-debs.sh
. "$here/guest-debs.sh"
# shellcheck source=tests/guests/guest-root.sh
. "$here/guest-root.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kpkg=$(guest_debs_unpack64 "$work")
cp kernel64/boot/vmlinuz-* "$out/bzImage"
root=$work/root
guest_root_build "$work/kernel64" "$work/bb64" "$root" -m64
guest_initramfs "$root" > "$out/initramfs.cpio.gz"
echo "build-guest64: $kpkg -> $out/bzImage, $out/initramfs.cpio.gz"
