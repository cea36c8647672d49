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
   [ "$out/initramfs.cpio.gz" -nt "$here/miniftpd.c" ]; then
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
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root}
cp bb/bin/busybox "$root/bin/busybox"
# The links init needs before it runs `busybox --install` (which makes the rest
# inside the guest: the host may not run an i386 binary to list them).
for app in sh mount umount cat echo ls mkdir uname dmesg date poweroff reboot sleep \
           grep head tail wc test true false env expr seq sync rm cp mv; do
    ln -sf busybox "$root/bin/$app"
done
cp "$here/init" "$root/init"
chmod 755 "$root/init"
# The NIC drivers, loaded by /bin/netup (tests/guests/netup) when a test wants a
# network, and the floppy driver (insmod by tests/guest/linux/floppy_guest.py).
mkdir -p "$root/lib/popek-modules"
mods=$(ls -d kernel/lib/modules/*/kernel)
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev \
         drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover \
         drivers/net/net_failover drivers/net/virtio_net drivers/net/ethernet/intel/e1000/e1000 \
         drivers/block/floppy; do
    f=$(ls "$mods/$m".ko* | head -n 1)
    case "$f" in
    *.xz) xz -dc "$f" > "$root/lib/popek-modules/$(basename "$m").ko" ;;
    *) cp "$f" "$root/lib/popek-modules/$(basename "$m").ko" ;;
    esac
done
cp "$here/netup" "$root/bin/netup"
# The FTP server of the VM-to-VM test (Debian's busybox has no ftpd).
${CC:-gcc} -m32 -static -Os -Wall -o "$root/bin/miniftpd" "$here/miniftpd.c"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
chmod 755 "$root/bin/netup" "$root/etc/udhcpc.script"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) > "$out/initramfs.cpio.gz"
echo "build-guest: $kpkg -> $out/bzImage, $ppkg -> $out/bzImage-pae, $out/initramfs.cpio.gz"
