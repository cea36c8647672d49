#!/usr/bin/env bash
# Install everything popek needs to build and test on Debian 12 (bookworm).
# Runs apt-get as root, or through sudo when not root.  Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
PKGS="build-essential cmake pkg-config git
      libsdl2-dev libslirp-dev libcapstone-dev check zlib1g-dev
      nasm gcc-multilib clang libclang-rt-14-dev gdb cpio xz-utils python3
      seabios qemu-system-data genisoimage isolinux syslinux syslinux-common mtools dosfstools
      libpng-dev xvfb xauth libxtst-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
