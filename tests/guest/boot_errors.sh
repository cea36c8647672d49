#!/usr/bin/env bash
# Bad input gets one clear line naming the file and the problem, and a
# non-zero exit, before the machine starts.
#   boot_errors.sh POPEK MULTIBOOT_KERNEL
set -u
popek=$1 mbkernel=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

# expect NAME PATTERN -- popek args...: exit status != 0, exactly one stderr
# line, matching PATTERN.
expect() {
    local name=$1 pattern=$2
    shift 3
    timeout 30 "$popek" -display none "$@" >"$dir/out" 2>"$dir/err" </dev/null
    local status=$?
    local lines
    lines=$(wc -l <"$dir/err")
    if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ "$lines" -eq 1 ] &&
       grep -qF -e "$pattern" "$dir/err"; then
        echo "ok: $name: $(cat "$dir/err")"
    else
        echo "FAIL: $name: status $status, stderr:"; cat "$dir/err"
        fails=$((fails + 1))
    fi
}

head -c 5000 /dev/urandom >"$dir/garbage"
: >"$dir/empty"
head -c 70000 /dev/zero >"$dir/bios_odd"
head -c 8000000 /dev/zero >"$dir/big_initrd"

expect "missing kernel" "-kernel '$dir/nope': No such file" -- -kernel "$dir/nope"
expect "not a kernel" "-kernel '$dir/garbage': not a Linux bzImage or a Multiboot kernel" -- -kernel "$dir/garbage"
expect "empty kernel" "-kernel '$dir/empty': not a Linux bzImage" -- -kernel "$dir/empty"
expect "kernel is a directory" "-kernel '$dir': not a regular file" -- -kernel "$dir"
expect "missing initrd" "-initrd '$dir/nope'" -- -kernel "$mbkernel" -initrd "$dir/nope"
expect "missing bios" "'$dir/nope': No such file" -- -bios "$dir/nope"
expect "bad bios size" "'$dir/bios_odd': size 70000 bytes" -- -bios "$dir/bios_odd"
expect "bad -m" "-m: bad size 'lots'" -- -m lots -kernel "$mbkernel"
expect "-m too small" "-m: bad size '1M'" -- -m 1M -kernel "$mbkernel"
expect "unknown option" "unknown option '-frobnicate'" -- -frobnicate
expect "missing value" "option '-m' needs a value" -- -m
expect "bad accel" "--accel: unknown engine 'warp'" -- --accel warp -kernel "$mbkernel"
expect "bad serial" "-serial: bad address '1'" -- -serial tcp:1 -kernel "$mbkernel"
expect "bad device" "-device: unknown device 'sound'" -- -device sound
expect "append without kernel" "-append needs -kernel" -- -append x
# Floppies.
head -c 1474560 /dev/zero >"$dir/fd.img"
head -c 1048576 /dev/zero >"$dir/one_mib"
expect "floppy image size" "-fda: a 1048576-byte image is not a floppy disk" -- -fda "$dir/one_mib" -kernel "$mbkernel"
expect "missing floppy" "-fdb '$dir/nope': No such file" -- -fdb "$dir/nope"
expect "floppy index" "-drive: bad floppy index 2 (want 0 or 1)" -- -drive "if=floppy,index=2,file=$dir/fd.img"
expect "floppy twice" "-fda: floppy drive index 0 is already in use" -- -drive "if=floppy,file=$dir/fd.img" -fda "$dir/fd.img"
expect "floppy cdrom" "-drive: if=floppy takes no media=cdrom" -- -drive "if=floppy,media=cdrom,file=$dir/fd.img"
expect "unknown interface" "-drive: interface 'scsi' is not supported (ide, floppy, virtio or none)" -- -drive "if=scsi,file=$dir/fd.img"
# A bzImage (protocol 2.15) that unpacks itself into init_size bytes from
# pref_address: 16 + 128 MiB do not fit in 64 MiB (the amd64 kernel needs 80).
python3 - "$dir/big_unpack" <<'PY'
import struct, sys
img = bytearray(1024 + 4096)
img[0x1f1] = 1                                   # setup_sects
img[0x1fe:0x200] = b"\x55\xaa"
img[0x201] = 0x66                                # header runs to 0x268
img[0x202:0x206] = b"HdrS"
struct.pack_into("<H", img, 0x206, 0x020f)       # version
struct.pack_into("<H", img, 0x20e, 0x100)        # kernel_version at 0x300
img[0x300:0x316] = b"6.1.0 (a@b) #1 SMP x\0"
img[0x211] = 1                                   # loadflags: LOADED_HIGH
struct.pack_into("<I", img, 0x214, 0x100000)     # code32_start
struct.pack_into("<I", img, 0x238, 255)          # cmdline_size
struct.pack_into("<Q", img, 0x258, 0x1000000)    # pref_address
struct.pack_into("<I", img, 0x260, 0x8000000)    # init_size
open(sys.argv[1], "wb").write(img)
PY
expect "kernel unpacks beyond RAM" "-kernel '$dir/big_unpack': unpacks itself up to 144 MiB, beyond 64 MiB of RAM (raise -m)" -- -m 64M -kernel "$dir/big_unpack"
# CPU models (-cpu, cpu/models.c).
expect "unknown cpu model" "-cpu: unknown CPU model 'pentium5' (-cpu help lists them)" -- -cpu pentium5 -kernel "$mbkernel"
expect "unknown cpu feature" "-cpu: unknown feature 'sse9' (-cpu help lists them)" -- -cpu core2duo,+sse9 -kernel "$mbkernel"
expect "cpu feature popek lacks" "-cpu: feature 'vmx' is not implemented by popek" -- -cpu core2duo,vmx=on -kernel "$mbkernel"
expect "cpu feature value" "-cpu: bad value in 'nx=maybe' (want on or off)" -- -cpu pentium4,nx=maybe -kernel "$mbkernel"
# -cpu help: QEMU's "x86 NAME  DESCRIPTION" lines, every model, exit 0.
if help=$(timeout 30 "$popek" -cpu help 2>&1) &&
   for m in popek qemu32 pentium3 pentium4 core2duo; do
       printf '%s\n' "$help" | grep -qE "^x86 $m +[^ ]" || exit 1
   done; then
    echo "ok: -cpu help lists the models"
else
    echo "FAIL: -cpu help:"; printf '%s\n' "$help"
    fails=$((fails + 1))
fi
# Multiboot kernels may not land in the 640K-1M hole.
python3 - "$mbkernel" "$dir/mb_hole" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], "rb").read())
# Rebase the a.out-kludge header (magic, flags, checksum, then header_addr,
# load_addr, load_end_addr, bss_end_addr, entry_addr) to 0xB0000.
off = img.find(struct.pack("<I", 0x1BADB002))
hdr = list(struct.unpack_from("<8I", img, off))
delta = 0xB0000 - hdr[4]
for i in range(3, 8):
    hdr[i] += delta
struct.pack_into("<8I", img, off, *hdr)
open(sys.argv[2], "wb").write(img)
PY
expect "multiboot in the VGA hole" "overlaps the 640K-1M hole (VGA memory and ROMs)" -- -kernel "$dir/mb_hole"

if [ "$fails" -ne 0 ]; then
    echo "$fails error-handling check(s) failed"
    exit 1
fi
