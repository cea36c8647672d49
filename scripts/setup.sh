#!/usr/bin/env bash
# Install everything popek needs to build and test on Debian 12 (bookworm).
# Runs apt-get as root, or through sudo when not root.  Idempotent.
# Everything that touches the dpkg database or apt's lists happens here,
# once, before any build or test: ctest runs the guest builders in
# parallel, and they only unpack the .debs this script downloads.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
# qemu-utils (qemu-img, qemu-io) is a test peer, never a dependency: the
# qcow2 tests make, check and compare images with it.
PKGS="build-essential cmake pkg-config git
      libsdl2-dev libslirp-dev libcapstone-dev check zlib1g-dev
      nasm gcc-multilib clang libclang-rt-14-dev gdb cpio xz-utils python3
      seabios qemu-system-data genisoimage isolinux syslinux syslinux-common mtools dosfstools
      libpng-dev xvfb xauth libxtst-dev tcpdump ipxe libjson-c-dev e2fsprogs
      qemu-utils libseccomp-dev debootstrap openssh-client dpkg-dev time"
# The guests are Debian i386 packages: the architecture must be known to apt.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386
    updated=""
else
    updated=yes
fi
# A mirror caught mid-sync fails one index ("File has unexpected size")
# and apt-get update exits 100 though it fetched the rest: go on with the
# lists it got; a package that is really missing fails the install below.
apt_update() {
    $SUDO apt-get update -qq ||
        echo "setup.sh: apt-get update reported errors (above); going on with the package lists it fetched" >&2
}
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ] || [ -z "$updated" ]; then
    apt_update
    updated=yes
fi
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The test guests' kernel and busybox (tests/guests/guest-debs.sh).
# shellcheck source=tests/guests/guest-debs.sh
. "$top/tests/guests/guest-debs.sh"
if ! guest_debs_fetch 2>/dev/null; then
    apt_update
    guest_debs_fetch
fi
