#!/usr/bin/env bash
# Disk image format probing through the real frontend, as QEMU probes:
#  - a qcow2 image (qemu-img's when it is installed, else a hand-written
#    header) is refused with one line naming the format, not shown to the
#    guest as a raw disk; so are VMDK and VDI headers;
#  - -drive ...,format=raw opens the same file raw, with no warning;
#  - a probed raw disk runs, with QEMU's one-line warning on stderr;
#  - a read-only probed raw image (a CD-ROM) gets no warning.
#   disk_format.sh POPEK ROM   (ROM: a BIOS image that idles)
set -u
popek=$1 rom=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

# run ARGS...: popek for 2 seconds at most; sets status and lines (of stderr).
run() {
    timeout 2 "$popek" -bios "$rom" -display none -serial null "$@" >"$dir/out" 2>"$dir/err" </dev/null
    status=$?
    lines=$(wc -l <"$dir/err")
}
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1: status $status, stderr:"; cat "$dir/err"; fails=$((fails + 1)); }

if command -v qemu-img >/dev/null; then
    qemu-img create -q -f qcow2 "$dir/disk.qcow2" 16M || exit 1
    echo "qcow2 image from qemu-img"
else
    # The first bytes of a version-3 header (magic, version, then zeros),
    # padded to 1 KiB; the probe needs nothing more.
    { printf 'QFI\373\0\0\0\3'; head -c 1016 /dev/zero; } >"$dir/disk.qcow2"
    echo "qcow2 header hand-written (no qemu-img)"
fi
{ printf 'KDMV\1\0\0\0'; head -c 1016 /dev/zero; } >"$dir/disk.vmdk"
{ head -c 64 /dev/zero; printf '\177\020\332\276'; head -c 956 /dev/zero; } >"$dir/disk.vdi"
head -c 65536 /dev/zero >"$dir/raw.img"

for f in qcow2 vmdk vdi; do
    run -hda "$dir/disk.$f"
    if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] &&
       grep -qF "'$dir/disk.$f': image format '$f' is not supported" "$dir/err"; then
        ok "-hda $f refused: $(cat "$dir/err")"
    else
        bad "-hda $f"
    fi
done
run -drive "file=$dir/disk.qcow2,if=ide,index=1"
if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF "format 'qcow2'" "$dir/err"; then
    ok "-drive without format= probes too"
else
    bad "-drive qcow2 without format="
fi
if command -v qemu-img >/dev/null; then
    truncate -s 1M "$dir/disk.qcow2" # qemu-img's file is not a whole number of sectors
fi
run -drive "file=$dir/disk.qcow2,format=raw"
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
if [ "$fails" -ne 0 ]; then
    echo "$fails format check(s) failed"
    exit 1
fi
