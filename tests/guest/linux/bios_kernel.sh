#!/usr/bin/env bash
# -kernel through SeaBIOS: popek -bios bios-256k.bin -kernel ... puts the
# kernel files in fw_cfg and QEMU's linuxboot_dma.bin option ROM loads
# and starts them.  Passes when SeaBIOS's log shows it booting the ROM,
# the kernel's memory map is the one SeaBIOS built (its EBDA reservation
# at 0x9fc00), and the guest ran its command line and exited cleanly.
#   bios_kernel.sh POPEK GUESTDIR [popek options...]
set -u
popek=$1 dir=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "bios kernel test: FAILED: $*"
    for f in "$work/out.log" "$work/bios.log"; do
        [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -n 40 "$f"; }
    done
    exit 1
}
timeout 1200 "$popek" -bios bios-256k.bin -kernel "$dir/bzImage" \
    -initrd "$dir/initramfs-disk.cpio.gz" -bioslog "file:$work/bios.log" \
    -append 'console=ttyS0 panic=-1 popek.cmd="echo cmdline-reached-the-guest"' \
    -nographic -no-reboot -m 256M "$@" < /dev/null > "$work/out.log" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "popek exit status $status"
grep -q 'Booting from ROM' "$work/bios.log" || fail "SeaBIOS did not boot the linuxboot ROM"
grep -q 'BIOS-e820: \[mem 0x000000000009fc00-0x000000000009ffff\] reserved' "$work/out.log" ||
    fail "the kernel did not get SeaBIOS's e820 map"
grep -q '^cmdline-reached-the-guest' "$work/out.log" || fail "the guest did not run its command"
grep -q 'POPEK-GUEST-DONE rc=0' "$work/out.log" || fail "the guest command failed"
echo "bios kernel test: passed"
