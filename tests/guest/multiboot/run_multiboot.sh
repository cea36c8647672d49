#!/usr/bin/env bash
# Boot the Multiboot test kernel with a module and a command line.
#   run_multiboot.sh POPEK KERNEL [popek options...]
set -u
popek=$1 kernel=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'POPEK-MODULE payload\n' > "$dir/module.bin"
timeout 120 "$popek" -kernel "$kernel" -append "hello=world" -initrd "$dir/module.bin modarg=1" \
    -m 64M -device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon "file:$dir/log" \
    -display none -no-reboot "$@"
status=$?
cat "$dir/log"
if [ "$status" -ne 1 ] || ! grep -q '^PASS$' "$dir/log"; then
    echo "multiboot test: FAILED (exit status $status)"
    exit 1
fi
