#!/usr/bin/env bash
# Sequential disk throughput inside the Linux guest through IDE: dd with
# direct I/O, write then read, on a raw and on a fresh qcow2 image, under
# popek and under qemu-system-i386 -accel tcg with the same kernel,
# initramfs, image and options, in one run.  Figures only, never a gate.
#   disk_bench.sh POPEK GUESTDIR [MIB]
# GUESTDIR comes from tests/guests/build-disk-guest.sh (ctest builds it in
# BUILD/disk-guest).  MIB (default 48) is how much each dd moves, in 1 MiB
# blocks.  The guest times itself from /proc/uptime; its clock follows the
# host's under both emulators.
set -u
popek=$1 dir=$2 mib=${3:-48}
command -v qemu-img >/dev/null || { echo "qemu-img is needed to make the qcow2 image"; exit 1; }
qemu=$(command -v qemu-system-i386 || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmd="echo T0 \$(cat /proc/uptime); dd if=/dev/zero of=/dev/sda bs=1M count=$mib oflag=direct 2>/dev/null; echo T1 \$(cat /proc/uptime); dd if=/dev/sda of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null; echo T2 \$(cat /proc/uptime)"

# run EMULATOR FORMAT: prints "write MB/s read MB/s".
run() {
    local emu=$1 fmt=$2 img=$work/disk.$2
    rm -f "$img"
    if [ "$fmt" = raw ]; then
        truncate -s $((mib + 16))M "$img"
    else
        qemu-img create -q -f qcow2 "$img" $((mib + 16))M
    fi
    local extra=()
    [ "$emu" = "$qemu" ] && extra=(-accel tcg)
    timeout 1800 "$emu" "${extra[@]}" -kernel "$dir/bzImage" -initrd "$dir/initramfs-disk.cpio.gz" \
        -append "console=ttyS0 acpi=off panic=-1 quiet popek.cmd=\"$cmd\"" \
        -nographic -no-reboot -m 256M -drive "file=$img,format=$fmt,if=ide" \
        < /dev/null > "$work/out.log" 2>&1
    python3 - "$work/out.log" "$mib" <<'PY'
import re, sys
t = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(T[012]) ([0-9.]+)", line.strip())
    if m:
        t[m.group(1)] = float(m.group(2))
mib = float(sys.argv[2])
if len(t) == 3:
    print("%8.1f %8.1f" % (mib / max(t["T1"] - t["T0"], 1e-3), mib / max(t["T2"] - t["T1"], 1e-3)))
else:
    print("  failed   failed")
PY
}

printf '%-28s %8s %8s   (MB/s, dd bs=1M direct, %d MiB)\n' "" write read "$mib"
for fmt in raw qcow2; do
    printf '%-28s %s\n' "popek  IDE $fmt" "$(run "$popek" $fmt)"
    if [ -n "$qemu" ]; then
        printf '%-28s %s\n' "qemu-system-i386 tcg IDE $fmt" "$(run "$qemu" $fmt)"
    fi
done
