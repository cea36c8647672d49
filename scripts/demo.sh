#!/usr/bin/env bash
# Set up, build, and boot the demo guest: Debian's i386 Linux kernel with a
# busybox initramfs, headless, its serial console on this terminal.
# Ctrl-A x quits; `poweroff` in the guest ends popek.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" --target popek
bash tests/guests/build-guest.sh build/release/guest
exec build/release/frontend/popek -kernel build/release/guest/bzImage \
    -initrd build/release/guest/initramfs.cpio.gz -append "console=ttyS0" \
    -nographic -m 256M "$@"
