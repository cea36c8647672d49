#!/usr/bin/env bash
# SeaBIOS guest tests: popek (the Debian seabios package's bios-256k.bin)
# boots a boot sector from an ATA disk or an ATAPI CD-ROM.
#   run_bios.sh POPEK MODE BOOT.BIN [popek options...]
# MODE disk:  a 1 MiB raw image, BOOT.BIN in sector 0 and "SECTOR1-OK" in
#             sector 1.  The guest reads sector 1 and writes sector 2
#             through INT 13h.  Afterwards the image must hold the guest's
#             write; then a second boot under -snapshot must leave the
#             image byte-identical.
# MODE virtio: the disk image on a virtio-blk-pci disk (-drive if=virtio):
#             SeaBIOS finds it, boots it, and the guest's write reaches it.
# MODE floppy: a 1.44 MB image in drive A: (-drive if=floppy), BOOT.BIN
#             (built with -DFLOPPY) in sector 0, "SECTOR1-OK" in LBA 1 and
#             "TRACK3-OK" in LBA 71; -boot a with an ATA disk present
#             too.  The guest's write must reach the image; then the disk
#             write-protected (readonly=on) must make the guest's write
#             fail (it prints FAIL, isa-debug-exit 1 -> status 3) and
#             leave the image as it was.
# MODE memdisk: the floppy image of MODE floppy given to syslinux's memdisk
#             (-kernel /usr/lib/syslinux/memdisk -initrd IMAGE, no -bios):
#             memdisk is no Linux kernel, so popek runs SeaBIOS and memdisk's
#             real-mode setup, which hooks INT 13h and boots the image from
#             RAM.  Skipped (77) without syslinux-common.
# MODE cd:    an ISO (genisoimage) with BOOT.BIN as its El Torito
#             no-emulation boot image; the guest reads the ISO's volume
#             descriptor through INT 13h.
# Each boot passes when SeaBIOS's log (port 0x402, -bioslog) shows it
# booting that device, the guest printed PASS on port 0xE9 and on COM1,
# and popek exited with isa-debug-exit's status 1.
set -u
popek=$1 mode=$2 bin=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "bios guest test ($mode): FAILED: $*"
    for f in "$work"/bios.log "$work"/con.log "$work"/serial.log; do
        [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -n 40 "$f"; }
    done
    exit 1
}

# boot EXPECTED_LOG_LINE popek-options...   (FAIL_STATUS=3: the guest must fail)
boot() {
    local want=$1 expect=${FAIL_STATUS:-1}
    shift
    rm -f "$work"/bios.log "$work"/con.log "$work"/serial.log
    timeout 120 "$popek" -bioslog "file:$work/bios.log" -debugcon "file:$work/con.log" \
        -serial "file:$work/serial.log" -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -display none -no-reboot "$@"
    local status=$?
    cat "$work/con.log"
    [ "$status" -eq "$expect" ] || fail "exit status $status, want $expect"
    grep -q '^SeaBIOS (version' "$work/bios.log" || fail "no SeaBIOS banner on port 0x402"
    grep -q "$want" "$work/bios.log" || fail "SeaBIOS log lacks '$want'"
    [ "$expect" -ne 1 ] && return
    grep -q '^PASS$' "$work/con.log" || fail "no PASS on port 0xE9"
    grep -q '^PASS' "$work/serial.log" || fail "no PASS on COM1"
}

[ -s "$bin" ] || fail "boot image '$bin' is missing (not built?)"
case "$mode" in
disk)
    img=$work/disk.img
    head -c 1048576 /dev/zero > "$img"
    dd if="$bin" of="$img" conv=notrunc status=none
    printf 'SECTOR1-OK\n\0' | dd of="$img" bs=512 seek=1 conv=notrunc status=none
    boot 'Booting from Hard Disk' -hda "$img" "$@"
    grep -q 'ata0-0: POPEK HARDDISK' "$work/bios.log" || fail "SeaBIOS did not find the ATA disk"
    dd if="$img" bs=512 skip=2 count=1 status=none | grep -q 'WRITTEN-BY-GUEST' ||
        fail "the guest's write did not reach the image"
    # Second boot under -snapshot: the guest writes again, the image must not change.
    dd if=/dev/zero of="$img" bs=512 seek=2 count=1 conv=notrunc status=none
    before=$(sha256sum < "$img")
    boot 'Booting from Hard Disk' -snapshot -hda "$img" "$@"
    [ "$(sha256sum < "$img")" = "$before" ] || fail "-snapshot changed the image"
    ;;
virtio)
    # SeaBIOS's own virtio-blk driver (modern interface) boots the sector
    # from a virtio-blk-pci disk; the guest's INT 13h write reaches the image.
    img=$work/disk.img
    head -c 1048576 /dev/zero > "$img"
    dd if="$bin" of="$img" conv=notrunc status=none
    printf 'SECTOR1-OK\n\0' | dd of="$img" bs=512 seek=1 conv=notrunc status=none
    boot 'Booting from Hard Disk' -drive "file=$img,if=virtio,format=raw" "$@"
    grep -q 'found virtio-blk at 00:04.0' "$work/bios.log" || fail "SeaBIOS did not find virtio-blk"
    dd if="$img" bs=512 skip=2 count=1 status=none | grep -q 'WRITTEN-BY-GUEST' ||
        fail "the guest's write did not reach the image"
    ;;
floppy)
    img=$work/floppy.img
    head -c 1474560 /dev/zero > "$img"
    head -c 1048576 /dev/zero > "$work/disk.img"
    dd if="$bin" of="$img" conv=notrunc status=none
    printf 'SECTOR1-OK\n\0' | dd of="$img" bs=512 seek=1 conv=notrunc status=none
    printf 'TRACK3-OK\n\0' | dd of="$img" bs=512 seek=71 conv=notrunc status=none
    boot 'Booting from Floppy' -hda "$work/disk.img" -drive "if=floppy,index=0,file=$img" \
        -boot a "$@"
    grep -q '^TRACK3-OK$' "$work/con.log" || fail "the guest did not read LBA 71"
    dd if="$img" bs=512 skip=2 count=1 status=none | grep -q 'WRITTEN-BY-GUEST' ||
        fail "the guest's write did not reach the image"
    dd if=/dev/zero of="$img" bs=512 seek=2 count=1 conv=notrunc status=none
    before=$(sha256sum < "$img")
    FAIL_STATUS=3 boot 'Booting from Floppy' -drive "if=floppy,file=$img,readonly=on" "$@"
    grep -q '^wrote LBA 2' "$work/con.log" && fail "a write to a write-protected disk succeeded"
    grep -q '^FAIL$' "$work/con.log" || fail "no FAIL after writing to a write-protected disk"
    [ "$(sha256sum < "$img")" = "$before" ] || fail "a write-protected disk changed"
    ;;
memdisk)
    memdisk=/usr/lib/syslinux/memdisk
    [ -r "$memdisk" ] || { echo "SKIP: $memdisk missing (syslinux-common)"; exit 77; }
    img=$work/floppy.img
    head -c 1474560 /dev/zero > "$img"
    dd if="$bin" of="$img" conv=notrunc status=none
    printf 'SECTOR1-OK\n\0' | dd of="$img" bs=512 seek=1 conv=notrunc status=none
    printf 'TRACK3-OK\n\0' | dd of="$img" bs=512 seek=71 conv=notrunc status=none
    before=$(sha256sum < "$img")
    boot 'Booting from ROM' -kernel "$memdisk" -initrd "$img" -append floppy \
        -textdump "$work/screen.txt" "$@"
    grep -q '^MEMDISK ' "$work/screen.txt" || fail "memdisk's banner is not on the screen"
    grep -q 'Disk is fd0, 1440 K' "$work/screen.txt" || fail "memdisk did not take the image"
    grep -q '^TRACK3-OK$' "$work/con.log" || fail "the guest did not read LBA 71"
    [ "$(sha256sum < "$img")" = "$before" ] || fail "memdisk's RAM disk wrote to the image"
    ;;
cd)
    command -v genisoimage >/dev/null || fail "genisoimage is not installed (scripts/setup.sh)"
    mkdir "$work/iso"
    cp "$bin" "$work/iso/boot.bin"
    truncate -s 2048 "$work/iso/boot.bin"
    genisoimage -quiet -no-emul-boot -boot-load-size 4 -b boot.bin -o "$work/cd.iso" "$work/iso" ||
        fail "genisoimage failed"
    boot 'Booting from DVD/CD' -cdrom "$work/cd.iso" -boot d "$@"
    grep -q 'DVD/CD \[ata1-0: POPEK CD-ROM' "$work/bios.log" || fail "SeaBIOS did not find the CD-ROM"
    ;;
*)
    fail "unknown mode"
    ;;
esac
echo "bios guest test ($mode): passed"
