#!/usr/bin/env bash
# Run one ROM guest test: popek ROM [extra popek options...]
# POPEK_HOST_CLOCK=1 runs on the host clock instead of -icount 0.
# Passes when the guest printed PASS and exited through isa-debug-exit with 0.
set -u
popek=$1 rom=$2
shift 2
log=$(mktemp)
# A triple fault or reset ends popek (-no-reboot), except in the test of reset itself.
noreboot=-no-reboot
[ "$(basename "$rom")" = reset.bin ] && noreboot=
# Deterministic time unless the test is about the host clock.
icount="-icount 0"
[ -n "${POPEK_HOST_CLOCK:-}" ] && icount=
trap 'rm -f "$log"' EXIT
timeout 120 "$popek" -bios "$rom" -device isa-debug-exit,iobase=0xf4,iosize=4 \
    -debugcon "file:$log" -serial null -display none $icount $noreboot "$@"
status=$?
cat "$log"
if [ "$status" -ne 1 ] || ! grep -q '^PASS$' "$log" || grep -q '^FAIL' "$log"; then
    echo "guest test $(basename "$rom"): FAILED (exit status $status)"
    exit 1
fi
