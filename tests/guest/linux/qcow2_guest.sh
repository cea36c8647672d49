#!/usr/bin/env bash
# Linux on qcow2 images through IDE (the disk test guest of
# tests/guests/build-disk-guest.sh, commands on its popek.cmd= line),
# with images qemu-img makes: sda is a qcow2 overlay over a raw base,
# sdb a compressed qcow2 (qemu-img convert -c).
#   qcow2_guest.sh POPEK GUESTDIR [popek options...]
# Boot 1: the guest writes a pattern into both disks at sector offsets that
#   split clusters (copy-on-write from the base, from compressed clusters),
#   with fsync.
# Boot 2: it reads the pattern back from both.  qemu-img check is then
#   clean and qemu-img compare matches each image against a raw file with
#   the same writes.
# Boot 3: the guest writes and syncs (FLUSH CACHE), says so, and popek is
#   killed with SIGKILL: qemu-img check reports no errors (a leak only if
#   an allocation was in flight) and the flushed data is in the image.
# Skipped (77) where qemu-img is not installed.
set -u
popek=$1 dir=$2
shift 2
command -v qemu-img >/dev/null || { echo "qemu-img not installed: skipped"; exit 77; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT

fail() {
    echo "qcow2 guest test: FAILED: $*"
    [ -f "$work/out.log" ] && { echo "--- guest output"; tail -n 40 "$work/out.log"; }
    exit 1
}

# The pattern: the first 600 sectors of `seq 1 60000`, made the same way
# in the guest (into /tmp, a tmpfs) and here.
mkpat='seq 1 60000 > /tmp/s && dd if=/tmp/s of=/tmp/p bs=512 count=600 2>/dev/null'
seq 1 60000 | head -c $((600 * 512)) > "$work/p"
# Which disk is which: sd names follow the kernel's asynchronous scan, so
# the guest tells them apart by size (A: 32 MiB, B: 16 MiB).
disks='n=0; while [ ! -b /dev/sdb ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; for d in sda sdb; do if [ $(cat /sys/block/$d/size) = 65536 ]; then A=/dev/$d; else B=/dev/$d; fi; done'

# boot 'COMMANDS' popek-options...: as tests/guest/linux/disk_guest.sh boots
# (PREFIX: run popek under it, e.g. timeout; exec in a background subshell
# makes $! popek's own pid).
run_guest() {
    local prefix=$1 cmd=$2
    shift 2
    $prefix "$popek" -kernel "$dir/bzImage" -initrd "$dir/initramfs-disk.cpio.gz" \
        -append "console=ttyS0 acpi=off panic=-1 quiet popek.cmd=\"$cmd\"" \
        -nographic -no-reboot -m 256M "$@" < /dev/null > "$work/out.log" 2>&1
}
boot() {
    run_guest "timeout 1200" "$@"
    local status=$?
    [ "$status" -eq 0 ] || fail "popek exit status $status"
    grep -q 'POPEK-GUEST-DONE rc=0' "$work/out.log" || fail "guest commands failed"
}

# put IMAGE SECTOR: the pattern into a raw file, as the guest writes it.
put() { dd if="$work/p" of="$1" bs=512 seek="$2" conv=notrunc status=none; }

seq 1 5000000 | head -c $((32 << 20)) > "$work/base.raw"
qemu-img create -q -f qcow2 -b base.raw -F raw "$work/overlay.qcow2" 32M || fail "qemu-img create"
seq 1000000 4000000 | head -c $((16 << 20)) > "$work/comp-src.raw"
qemu-img convert -c -O qcow2 "$work/comp-src.raw" "$work/comp.qcow2" || fail "qemu-img convert -c"
cp "$work/base.raw" "$work/want-a.raw"
cp "$work/comp-src.raw" "$work/want-b.raw"
base_sum=$(sha256sum < "$work/base.raw")

boot "$disks; $mkpat && dd if=/tmp/p of=\$A bs=512 seek=1001 conv=fsync 2>/dev/null && dd if=/tmp/p of=\$B bs=512 seek=77 conv=fsync 2>/dev/null && echo WROTE" \
    -hda "$work/overlay.qcow2" -hdb "$work/comp.qcow2" "$@"
grep -q '^WROTE' "$work/out.log" || fail "the guest's writes failed"
put "$work/want-a.raw" 1001
put "$work/want-b.raw" 77

boot "$disks; $mkpat && dd if=\$A bs=512 skip=1001 count=600 2>/dev/null | cmp - /tmp/p && echo MATCH-A; dd if=\$B bs=512 skip=77 count=600 2>/dev/null | cmp - /tmp/p && echo MATCH-B; true" \
    -hda "$work/overlay.qcow2" -hdb "$work/comp.qcow2" "$@"
tr -d '\r' < "$work/out.log" | grep -E '^MATCH'
grep -q '^MATCH-A' "$work/out.log" || fail "the overlay's pattern did not survive power off"
grep -q '^MATCH-B' "$work/out.log" || fail "the compressed image's pattern did not survive power off"
for img in overlay comp; do
    qemu-img check -q "$work/$img.qcow2" || fail "qemu-img check $img.qcow2 is not clean"
done
qemu-img compare -q -f qcow2 -F raw "$work/overlay.qcow2" "$work/want-a.raw" ||
    fail "overlay.qcow2 differs from the expected disk"
qemu-img compare -q -f qcow2 -F raw "$work/comp.qcow2" "$work/want-b.raw" ||
    fail "comp.qcow2 differs from the expected disk"
[ "$(sha256sum < "$work/base.raw")" = "$base_sum" ] || fail "the backing file was written"
echo "power-off cycle: patterns read back, check clean, compare matches"

# The crash: kill -9 once the guest has flushed.
(run_guest exec "$disks; $mkpat && dd if=/tmp/p of=\$A bs=512 seek=40003 conv=fsync 2>/dev/null && echo SYNCED-NOW && sleep 1000" \
    -hda "$work/overlay.qcow2" "$@") &
pid=$!
for _ in $(seq 1 1200); do
    grep -q '^SYNCED-NOW' "$work/out.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
grep -q '^SYNCED-NOW' "$work/out.log" || fail "the guest did not write and sync"
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
qemu-img check "$work/overlay.qcow2" > "$work/check.log" 2>&1
status=$?
cat "$work/check.log" | tail -n 3
# 0: clean; 3: leaked clusters only (an allocation in flight).
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || fail "qemu-img check after kill -9: status $status"
put "$work/want-a.raw" 40003
qemu-img compare -q -f qcow2 -F raw "$work/overlay.qcow2" "$work/want-a.raw" ||
    fail "after kill -9 the flushed data is not in the image"
echo "qcow2 guest test: passed"
