#!/usr/bin/env bash
# Install Debian 12 i386 with its own installer under popek (README, "Install Debian").
#   scripts/install-debian.sh [--qemu] [--until-url TEXT] [--require-complete-mirror]
#                             [--work DIR] [POPEK]
# 1. builds (or reuses) the local mirror in $POPEK_DEBIAN_CACHE (default
#    ~/.cache/popek/debian): apt-get download from the host's own Debian
#    sources, indexed with dpkg-scanpackages, unsigned Release;
# 2. runs the netboot installer headless with the preseed answering every
#    question, the mirror served to the guest through slirp's guestfwd rule
#    with restrict=on (nothing leaves the host), onto a fresh disk image in
#    --work (default $POPEK_DEBIAN_CACHE/run).
# --qemu runs the same installer, preseed, mirror and options under
# qemu-system-i386 -accel tcg instead, for comparison.  A failed step stops
# the run with the installer's last screen and its name; status 1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${POPEK_DEBIAN_CACHE:-$HOME/.cache/popek/debian}
work=""
extra=()
qemu=""
popek=$top/build/frontend/popek
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) qemu=yes ;;
    --until-url) extra+=(--until-url "$2"); shift ;;
    --require-complete-mirror) extra+=(--require-complete-mirror) ;;
    --work) work=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "install-debian: unknown option $1" >&2; exit 2 ;;
    *) popek=$1 ;;
    esac
    shift
done
if [ -n "$qemu" ]; then
    command -v qemu-system-i386 >/dev/null || { echo "install-debian: qemu-system-i386 is not installed" >&2; exit 2; }
    emulator=(qemu-system-i386 -accel tcg)
    work=${work:-$cache/run-qemu}
else
    [ -x "$popek" ] || { echo "install-debian: no popek at $popek (build it first)" >&2; exit 2; }
    emulator=("$popek" --accel bt)
    work=${work:-$cache/run}
fi
echo "== step 1: the local mirror ($cache) ==" >&2
bash "$top/tests/guests/debian/mirror.sh" "$cache"
echo "== step 2: the Debian installer (${emulator[*]}) ==" >&2
exec python3 "$top/tests/guests/debian/journey.py" install --cache "$cache" --work "$work" \
    "${extra[@]}" -- "${emulator[@]}"
