#!/usr/bin/env bash
# Disk image formats through the real frontend, as QEMU probes them:
#  - a qcow2 image (qemu-img's when it is installed, else a hand-written
#    one) opens by probing and with format=qcow2, silently; VMDK and VDI
#    headers are refused with one line naming the format;
#  - -drive ...,format=raw opens a qcow2 file raw, with no warning;
#  - a probed raw disk runs, with QEMU's one-line warning on stderr;
#  - a read-only probed raw image (a CD-ROM) gets no warning;
#  - bad input is one line and exit status 1: format=qcow2 on a raw file,
#    an unknown format=, a missing image, a qcow2 image whose backing file
#    is missing, whose L1 table lies past the end of the file, whose
#    backing chain loops, whose header is corrupt, or whose refcounts
#    overflow when a dirty image's are rebuilt.
#   disk_format.sh POPEK ROM   (ROM: a BIOS image that idles)
set -u
popek=$1 rom=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

# run ARGS...: popek for 2 seconds at most; sets status and lines (of stderr,
# not counting the line popek prints when timeout's SIGTERM ends it).
run() {
    timeout 2 "$popek" -bios "$rom" -display none -serial null "$@" >"$dir/out" 2>"$dir/err" </dev/null
    status=$?
    lines=$(grep -vc '^popek: terminating on signal' "$dir/err")
}
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1: status $status, stderr:"; cat "$dir/err"; fails=$((fails + 1)); }

# A hand-written qcow2 (tests/support/qcow2_image.py): OUT [BACKING [overflow]].
handmade_qcow2() {
    python3 "$(dirname "$0")/../support/qcow2_image.py" "$@"
}
if command -v qemu-img >/dev/null; then
    qemu-img create -q -f qcow2 "$dir/disk.qcow2" 16M || exit 1
    echo "qcow2 image from qemu-img"
else
    handmade_qcow2 "$dir/disk.qcow2"
    echo "qcow2 image hand-written (no qemu-img)"
fi
{ printf 'KDMV\1\0\0\0'; head -c 1016 /dev/zero; } >"$dir/disk.vmdk"
{ head -c 64 /dev/zero; printf '\177\020\332\276'; head -c 956 /dev/zero; } >"$dir/disk.vdi"
head -c 65536 /dev/zero >"$dir/raw.img"

for f in vmdk vdi; do
    run -hda "$dir/disk.$f"
    if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] &&
       grep -qF "'$dir/disk.$f': image format '$f' is not supported" "$dir/err"; then
        ok "-hda $f refused: $(cat "$dir/err")"
    else
        bad "-hda $f"
    fi
done
run -hda "$dir/disk.qcow2"
if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ]; then
    ok "-hda qcow2 opens by probing, silently"
else
    bad "-hda qcow2"
fi
run -drive "file=$dir/disk.qcow2,format=qcow2,if=ide,index=1"
if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ]; then
    ok "-drive format=qcow2"
else
    bad "-drive format=qcow2"
fi
before=$(sha256sum <"$dir/disk.qcow2")
run -snapshot -hda "$dir/disk.qcow2"
if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ] && [ "$(sha256sum <"$dir/disk.qcow2")" = "$before" ]; then
    ok "-snapshot over qcow2 leaves the image as it was"
else
    bad "-snapshot qcow2"
fi
cp "$dir/disk.qcow2" "$dir/asraw.img"
truncate -s 1M "$dir/asraw.img" # qemu-img's file is not a whole number of sectors
run -drive "file=$dir/asraw.img,format=raw"
if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ]; then
    ok "format=raw opens a qcow2 file as raw, silently"
else
    bad "format=raw"
fi
run -hda "$dir/raw.img"
if [ "$status" -eq 124 ] && [ "$lines" -eq 1 ] &&
   grep -q "^popek: warning: image format was not specified for '$dir/raw.img' and probing guessed raw" "$dir/err"; then
    ok "probed raw disk runs with a warning"
else
    bad "probed raw"
fi
run -cdrom "$dir/raw.img"
if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ]; then
    ok "probed raw CD-ROM (read-only) runs without a warning"
else
    bad "probed raw CD-ROM"
fi

# Bad input: one line, exit status 1.
handmade_qcow2 "$dir/orphan.qcow2" gone.raw
handmade_qcow2 "$dir/loop1.qcow2" loop2.qcow2
handmade_qcow2 "$dir/loop2.qcow2" loop1.qcow2
handmade_qcow2 "$dir/farl1.qcow2"
printf '\0\0\0\0\0\x10\0\0' | dd of="$dir/farl1.qcow2" bs=1 seek=40 conv=notrunc status=none
handmade_qcow2 "$dir/badhdr.qcow2"
printf '\0\0\0\x28' | dd of="$dir/badhdr.qcow2" bs=1 seek=20 conv=notrunc status=none
handmade_qcow2 "$dir/overflow.qcow2" "" overflow
expect_error() { # WHAT PATTERN popek-args...
    local what=$1 pattern=$2
    shift 2
    run "$@"
    if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF -- "$pattern" "$dir/err"; then
        ok "$what: $(cat "$dir/err")"
    else
        bad "$what"
    fi
}
expect_error "format=qcow2 on a raw file" "not a qcow2 image" -drive "file=$dir/raw.img,format=qcow2"
expect_error "unknown format=" "format 'vmdk' is not supported" -drive "file=$dir/raw.img,format=vmdk"
expect_error "missing image" "No such file or directory" -hda "$dir/nothere.qcow2"
expect_error "missing backing file" "backing file: '$dir/gone.raw': No such file or directory" -hda "$dir/orphan.qcow2"
expect_error "backing file loop" "backing file chain loops back to" -hda "$dir/loop1.qcow2"
expect_error "L1 table past the end" "L1 table at 0x100000 is past the end of the file" -hda "$dir/farl1.qcow2"
expect_error "corrupt header" "corrupt qcow2 header: cluster bits 40" -hda "$dir/badhdr.qcow2"
expect_error "refcount overflow" "refcount overflow: cluster 5 is used 2 times" -hda "$dir/overflow.qcow2"
if [ "$fails" -ne 0 ]; then
    echo "$fails format check(s) failed"
    exit 1
fi
