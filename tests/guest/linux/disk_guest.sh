#!/usr/bin/env bash
# Linux on popek's IDE: the Debian kernel's ata_piix, sd and sr drivers.
#   disk_guest.sh POPEK GUESTDIR [popek options...]
# GUESTDIR comes from tests/guests/build-disk-guest.sh.
# Boot 1: the guest mounts an ISO on the ATAPI CD-ROM and prints a file
#   from it, checks that libata put the disk in DMA mode, and writes a
#   marker to a sector of the ATA disk with fsync; the host then finds the
#   marker in the image file.
# Boot 2 (-snapshot): the guest reads the marker back (it survived power
#   off), overwrites it and reads its new value; the image file stays
#   byte-identical.
# The kernel runs with acpi=off: with ACPI on, Linux finds PCI buses only
# through the DSDT, and popek's DSDT declares no PCI root bridge yet.
set -u
popek=$1 dir=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "disk guest test: FAILED: $*"
    [ -f "$work/out.log" ] && { echo "--- guest output"; tail -n 60 "$work/out.log"; }
    exit 1
}

# boot 'COMMANDS' popek-options...
boot() {
    local cmd=$1
    shift
    timeout 1200 "$popek" -kernel "$dir/bzImage" -initrd "$dir/initramfs-disk.cpio.gz" \
        -append "console=ttyS0 acpi=off panic=-1 quiet popek.cmd=\"$cmd\"" \
        -nographic -no-reboot -m 256M "$@" < /dev/null > "$work/out.log" 2>&1
    local status=$?
    [ "$status" -eq 0 ] || fail "popek exit status $status"
    grep -q 'POPEK-GUEST-DONE rc=0' "$work/out.log" || fail "guest commands failed"
}

command -v genisoimage >/dev/null || fail "genisoimage is not installed (scripts/setup.sh)"
mkdir "$work/iso"
echo "hello from the CD-ROM" > "$work/iso/hello.txt"
genisoimage -quiet -o "$work/cd.iso" "$work/iso" || fail "genisoimage failed"
img=$work/disk.img
head -c $((16 << 20)) /dev/zero > "$img"

boot "mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/hello.txt && echo dma: \$(cat /sys/class/ata_device/dev1.0/dma_mode) && printf 'POPEK-MARK-ONE\n' | dd of=/dev/sda bs=512 seek=100 conv=fsync 2>/dev/null && echo WROTE" \
    -hda "$img" -cdrom "$work/cd.iso" "$@"
cat "$work/out.log" | tr -d '\r' | grep -E '^hello from|^dma:|^WROTE'
grep -q 'hello from the CD-ROM' "$work/out.log" || fail "the ISO file was not read"
grep -q '^dma: XFER_MW_DMA_2' "$work/out.log" || fail "libata did not put the disk in DMA mode"
grep -q '^WROTE' "$work/out.log" || fail "the disk write failed"
dd if="$img" bs=512 skip=100 count=1 status=none | grep -q 'POPEK-MARK-ONE' ||
    fail "the guest's write is not in the image"

before=$(sha256sum < "$img")
boot "dd if=/dev/sda bs=512 skip=100 count=1 2>/dev/null | head -n 1 && printf 'POPEK-MARK-TWO\n' | dd of=/dev/sda bs=512 seek=100 conv=fsync 2>/dev/null && echo 3 > /proc/sys/vm/drop_caches && dd if=/dev/sda bs=512 skip=100 count=1 iflag=direct 2>/dev/null | head -n 1" \
    -snapshot -hda "$img" "$@"
cat "$work/out.log" | tr -d '\r' | grep -E 'POPEK-MARK'
grep -q 'POPEK-MARK-ONE' "$work/out.log" || fail "the marker did not survive power off"
grep -q 'POPEK-MARK-TWO' "$work/out.log" || fail "the write under -snapshot was not visible"
[ "$(sha256sum < "$img")" = "$before" ] || fail "-snapshot changed the image"
echo "disk guest test: passed"
