#!/usr/bin/env bash
# SeaBIOS boots Debian's bootloaders, which load the test kernel and
# initramfs through INT 13h, and the guest reaches its shell.
#   bootloader_guest.sh POPEK GUESTDIR iso|disk [popek options...]
# iso:  an ISO 9660 image with isolinux (El Torito, no emulation, boot
#       info table) on the ATAPI CD-ROM, booted with -boot d.
# disk: a FAT image with syslinux installed in its boot sector, on the
#       ATA disk.
# GUESTDIR comes from tests/guests/build-disk-guest.sh.  The environment
# may name another guest's files: GUEST_INITRD (in GUESTDIR; default
# initramfs-disk.cpio.gz) and GUEST_APPEND (kernel options; default
# acpi=off), e.g. the amd64 guest of build-guest64.sh with -cpu qemu64.
set -u
popek=$1 dir=$2 mode=$3
shift 3
initrd=${GUEST_INITRD:-initramfs-disk.cpio.gz}
append=${GUEST_APPEND-acpi=off}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "bootloader test ($mode): FAILED: $*"
    for f in "$work/out.log" "$work/bios.log"; do
        [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -n 30 "$f"; }
    done
    exit 1
}
marker="reached-the-shell-from-$mode"
cfg="SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /bzimage
  APPEND initrd=/initrd.gz console=ttyS0 $append panic=-1 popek.cmd=\"echo $marker\""
case "$mode" in
iso)
    for f in genisoimage /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32; do
        command -v "$f" >/dev/null || [ -f "$f" ] || fail "$f is missing (scripts/setup.sh)"
    done
    mkdir -p "$work/iso/isolinux"
    cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
    cp "$dir/bzImage" "$work/iso/bzimage"
    cp "$dir/$initrd" "$work/iso/initrd.gz"
    echo "$cfg" > "$work/iso/isolinux/isolinux.cfg"
    genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table -J -R "$work/iso" || fail "genisoimage failed"
    media=(-cdrom "$work/boot.iso" -boot d)
    want='Booting from DVD/CD'
    ;;
disk)
    for f in mkfs.vfat syslinux mcopy; do
        command -v "$f" >/dev/null || fail "$f is missing (scripts/setup.sh)"
    done
    img=$work/boot.img
    mkfs.vfat -C "$img" 16384 >/dev/null || fail "mkfs.vfat failed"
    syslinux --install "$img" || fail "syslinux failed"
    echo "$cfg" > "$work/syslinux.cfg"
    cp "$dir/bzImage" "$work/bzimage"
    cp "$dir/$initrd" "$work/initrd.gz"
    mcopy -i "$img" "$work/syslinux.cfg" "$work/bzimage" "$work/initrd.gz" ::/ || fail "mcopy failed"
    media=(-hda "$img")
    want='Booting from Hard Disk'
    ;;
*)
    fail "unknown mode"
    ;;
esac
timeout 1200 "$popek" "${media[@]}" -bioslog "file:$work/bios.log" -nographic -no-reboot \
    -m 256M "$@" < /dev/null > "$work/out.log" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "popek exit status $status"
grep -q "$want" "$work/bios.log" || fail "SeaBIOS log lacks '$want'"
grep -q "^$marker" "$work/out.log" || fail "the guest did not reach its shell"
echo "bootloader test ($mode): passed"
