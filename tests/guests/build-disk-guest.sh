#!/usr/bin/env bash
# Build the disk test guest from Debian's i386 packages and cache it.
#   tests/guests/build-disk-guest.sh OUTDIR
# Produces OUTDIR/bzImage (linux-image-6.1.*-686) and
# OUTDIR/initramfs-disk.cpio.gz: busybox-static:i386, the kernel's
# ata_piix, sd_mod, sr_mod, isofs, virtio_blk and ext4 modules with their
# dependencies, and tests/guests/disk-init as /init.
set -euo pipefail
out=${1:?usage: build-disk-guest.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/bzImage" ] && [ -s "$out/initramfs-disk.cpio.gz" ] &&
   [ "$out/initramfs-disk.cpio.gz" -nt "$here/disk-init" ] &&
   [ "$out/initramfs-disk.cpio.gz" -nt "$here/build-disk-guest.sh" ] &&
   [ "$out/initramfs-disk.cpio.gz" -nt "$here/guest-debs.sh" ]; then
    exit 0
fi

# shellcheck source=tests/guests/guest-debs.sh
. "$here/guest-debs.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kpkg=$(guest_debs_unpack "$work")
cp kernel/boot/vmlinuz-* "$out/bzImage"

root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root,mnt,lib/popek-modules}
cp bb/bin/busybox "$root/bin/busybox"
for app in sh mount umount cat echo ls mkdir uname dmesg date poweroff reboot sleep \
           grep head tail wc test true false env expr seq sync rm cp mv dd printf \
           insmod sed setsid od hexdump cmp yes sha256sum kill; do
    ln -sf busybox "$root/bin/$app"
done
mods=$(ls -d kernel/lib/modules/*/kernel)
for m in drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/ata_piix \
         crypto/crct10dif_common lib/crc-t10dif lib/crc64 lib/crc64-rocksoft block/t10-pi \
         drivers/scsi/sd_mod drivers/cdrom/cdrom drivers/scsi/sr_mod fs/isofs/isofs \
         drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev \
         drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
         crypto/crc32c_generic lib/crc16 fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4; do
    f=$(ls "$mods/$m".ko* | head -n 1)
    case "$f" in
    *.xz) xz -dc "$f" > "$root/lib/popek-modules/$(basename "$m").ko" ;;
    *) cp "$f" "$root/lib/popek-modules/$(basename "$m").ko" ;;
    esac
done
cp "$here/disk-init" "$root/init"
chmod 755 "$root/init"
guest_initramfs "$root" > "$out/initramfs-disk.cpio.gz"
echo "build-disk-guest: $kpkg -> $out/bzImage, $out/initramfs-disk.cpio.gz"
