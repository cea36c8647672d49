#!/usr/bin/env bash
# The virtio-blk options through the real frontend, in QEMU's spelling:
#  - -drive if=virtio and -drive if=none,id=ID + -device virtio-blk-pci,drive=ID
#    start a machine (which runs until timeout ends it), and info block
#    shows the drive with its disk;
#  - a bad spec (an unknown drive id, a drive used twice, if=none without
#    id, if=virtio without file, a duplicate id, an unknown property)
#    stops popek with one line on stderr and status 1.
#   virtio_blk_options.sh POPEK ROM   (ROM: a BIOS image that idles)
set -u
popek=$1 rom=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
head -c 1048576 /dev/zero > "$dir/a.img"
head -c 1048576 /dev/zero > "$dir/b.img"

# run ARGS...: popek for 2 seconds at most; sets status and lines (of
# stderr, not counting the line popek prints when timeout's SIGTERM ends it).
run() {
    timeout 2 "$popek" -bios "$rom" -display none -serial null "$@" >"$dir/out" 2>"$dir/err" </dev/null
    status=$?
    lines=$(grep -vc '^popek: terminating on signal' "$dir/err")
}
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1: status $status, stderr:"; cat "$dir/err"; fails=$((fails + 1)); }

# A good spec: the machine starts and runs until timeout ends it (124).
good() {
    local what=$1
    shift
    run "$@"
    if [ "$status" -eq 124 ] && [ "$lines" -eq 0 ]; then ok "$what"; else bad "$what"; fi
}

# A bad spec: status 1, one line naming the problem (grep -E pattern).
refused() {
    local what=$1 pattern=$2
    shift 2
    run "$@"
    if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qE "$pattern" "$dir/err"; then
        ok "$what: $(head -n 1 "$dir/err")"
    else
        bad "$what"
    fi
}

good "-drive if=virtio" -drive "file=$dir/a.img,if=virtio,format=raw"
good "-drive if=none + -device virtio-blk-pci" \
    -drive "file=$dir/a.img,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0,serial=S1
good "two virtio disks and a read-only one" -drive "file=$dir/a.img,if=virtio,format=raw" \
    -drive "file=$dir/b.img,if=none,id=d1,format=raw,readonly=on" -device virtio-blk-pci,drive=d1
good "an if=none drive without a device" -drive "file=$dir/a.img,if=none,id=spare,format=raw"

# info block: each drive, its image and the disk it serves.
printf 'info block\nquit\n' | timeout 10 "$popek" -bios "$rom" -display none -serial null \
    -monitor stdio -drive "file=$dir/a.img,if=virtio,format=raw" \
    -drive "file=$dir/b.img,if=none,id=d1,format=raw,readonly=on" -device virtio-blk-pci,drive=d1 \
    >"$dir/out" 2>"$dir/err"
status=$?
if [ "$status" -eq 0 ] && grep -q "virtio0: $dir/a.img (raw)" "$dir/out" &&
   grep -q "^d1: $dir/b.img (raw, read-only)" "$dir/out" &&
   grep -q "Attached to: virtio-blk-pci 00:04.0 2048 sectors," "$dir/out" &&
   grep -q "Attached to: virtio-blk-pci 00:05.0 2048 sectors read-only" "$dir/out"; then
    ok "info block lists both drives and their disks"
else
    cat "$dir/out"
    bad "info block"
fi

refused "unknown drive id" "can't find value 'nope'" \
    -drive "file=$dir/a.img,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=nope
refused "a drive used twice" "Drive 'd0' is already in use" \
    -drive "file=$dir/a.img,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0 \
    -device virtio-blk-pci,drive=d0
refused "an if=virtio drive given to a device too" "already in use" \
    -drive "file=$dir/a.img,if=virtio,id=v0,format=raw" -device virtio-blk-pci,drive=v0
refused "-device without drive=" "drive property not set" -device virtio-blk-pci
refused "if=none without id" "if=none needs id" -drive "file=$dir/a.img,if=none,format=raw"
refused "if=virtio without file" "needs file=" -drive "if=virtio"
refused "a duplicate drive id" "Duplicate ID 'd0'" \
    -drive "file=$dir/a.img,if=none,id=d0,format=raw" -drive "file=$dir/b.img,if=none,id=d0,format=raw"
refused "an unknown -device property" "bad property 'speed=9'" \
    -drive "file=$dir/a.img,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0,speed=9
refused "index= with if=virtio" "takes no index=" -drive "file=$dir/a.img,if=virtio,index=1"
refused "id= with if=ide" "id= is for if=virtio" -drive "file=$dir/a.img,if=ide,id=x"
refused "a missing image" "b-missing.img" -drive "file=$dir/b-missing.img,if=virtio,format=raw"

# The same image twice: the second open finds it locked.
refused "one image on two virtio disks" "in use by another process" \
    -drive "file=$dir/a.img,if=virtio,format=raw" -drive "file=$dir/a.img,if=virtio,format=raw"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "virtio-blk options: passed"
