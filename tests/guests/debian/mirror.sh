#!/usr/bin/env bash
# Build the local Debian 12 i386 mirror the installer installs from:
#   tests/guests/debian/mirror.sh [DIR]   (default $POPEK_DEBIAN_CACHE, else ~/.cache/popek/debian)
# DIR/debian gets pool/ (the .debs and .udebs) and dists/bookworm/ (the
# Packages indexes and an unsigned Release), DIR/netboot the installer's
# kernel and initrds.  Everything comes through apt from the host's own
# configured Debian sources (no host is named here), with a private apt
# state under DIR/apt, so the host's dpkg database and lists are untouched.
# A second run downloads nothing that is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${POPEK_DEBIAN_CACHE:-$HOME/.cache/popek/debian}}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
apt_dir=$dir/apt
mirror=$dir/debian
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc" \
    "$mirror/pool/main" "$mirror/pool/udeb"
: >"$apt_dir/status"

# The host's Debian repositories (URI and suite), as apt itself reports them.
mapfile -t repos < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' |
    sort -u)
[ ${#repos[@]} -gt 0 ] || { echo "mirror: apt knows no Debian repository (run apt-get update)" >&2; exit 1; }
: >"$apt_dir/etc/sources.list"
for r in "${repos[@]}"; do
    set -- $r
    case $2 in
    bookworm) comps="main main/debian-installer" ;;
    bookworm-*) comps="main" ;;
    *) continue ;;
    esac
    echo "deb [arch=i386] $1 $2 $comps" >>"$apt_dir/etc/sources.list"
done
grep -q ' bookworm main' "$apt_dir/etc/sources.list" ||
    { echo "mirror: the host's apt sources have no bookworm main" >&2; exit 1; }

apt_i386() {
    apt-get -q -o Dir::State="$apt_dir" -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::State::status="$apt_dir/status" -o Dir::Etc::SourceList="$apt_dir/etc/sources.list" \
        -o Dir::Etc::SourceParts=/nonexistent -o Dir::Cache="$apt_dir" \
        -o Dir::Cache::archives="$apt_dir/archives" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        -o APT::Architecture=i386 -o APT::Architectures::=i386 -o Debug::NoLocking=1 \
        -o APT::Install-Recommends=true -o Acquire::Languages=none "$@"
}

if [ ! -e "$apt_dir/updated" ] || [ -n "${POPEK_MIRROR_UPDATE:-}" ]; then
    echo "mirror: apt-get update (i386, private state in $apt_dir)" >&2
    # An index that fails (a mirror in mid-sync) is only a warning while
    # bookworm's own main and installer indexes are there.
    apt_i386 update >"$apt_dir/update.log" 2>&1 || grep '^E:\|^Err' "$apt_dir/update.log" >&2 || true
    ls "$apt_dir/lists/"*_dists_bookworm_main_debian-installer_binary-i386_Packages* >/dev/null 2>&1 ||
        { echo "mirror: apt-get update found no bookworm installer index" >&2; exit 1; }
    touch "$apt_dir/updated"
fi

# The newest installer build and what it boots: kernel and initrds.
lists=$apt_dir/lists
main_pk=$(ls "$lists"/*_dists_bookworm_main_binary-i386_Packages* | head -1)
udeb_pk=$(ls "$lists"/*_dists_bookworm_main_debian-installer_binary-i386_Packages* | head -1)
catp() { /usr/lib/apt/apt-helper cat-file "$1"; }

# The base system: debootstrap's set for bookworm (Priority required and
# important), then what the installer itself adds and the journey needs.
base=$(catp "$main_pk" | awk '/^Package:/{p=$2} /^Priority: (required|important)$/{print p}' | sort -u)
extra="linux-image-686 grub-pc initramfs-tools openssh-server sudo vsftpd ftp busybox
       locales console-setup keyboard-configuration kbd tasksel tasksel-data
       os-prober discover laptop-detect eject usbutils pciutils
       apt-utils python3-minimal wget usr-is-merged ifupdown isc-dhcp-client iproute2"
if [ ! -e "$apt_dir/downloaded" ] || [ -n "${POPEK_MIRROR_UPDATE:-}" ]; then
    echo "mirror: downloading the base system, kernel, grub, openssh, sudo, vsftpd and dependencies" >&2
    # shellcheck disable=SC2086
    apt_i386 install -y --download-only --allow-unauthenticated $base $extra \
        -o Dir::Cache::archives="$apt_dir/archives" >"$apt_dir/download.log" 2>&1 ||
        { tail -20 "$apt_dir/download.log" >&2; exit 1; }
    (cd "$apt_dir" && apt_i386 download debian-installer-12-netboot-i386 >"$apt_dir/netboot.log" 2>&1) ||
        { tail -5 "$apt_dir/netboot.log" >&2; exit 1; }
    touch "$apt_dir/downloaded"
fi
mv -f "$apt_dir/archives/"*.deb "$mirror/pool/main/" 2>/dev/null || true

# The installer's kernel and initrds, from the netboot packages.
for f in "$apt_dir"/debian-installer-12-netboot-i386_*_all.deb; do
    [ -e "$dir/netboot/$(basename "$f").done" ] && continue
    mkdir -p "$dir/netboot/x"
    dpkg-deb -x "$f" "$dir/netboot/x"
    touch "$dir/netboot/$(basename "$f").done"
done
nb=$dir/netboot/x/usr/lib/debian-installer/images/12/i386
cp -f "$nb/text/debian-installer/i386/linux" "$dir/netboot/linux"
cp -f "$nb/text/debian-installer/i386/initrd.gz" "$dir/netboot/initrd.gz"
if [ -d "$nb/gtk" ]; then
    cp -f "$nb/gtk/debian-installer/i386/initrd.gz" "$dir/netboot/initrd-gtk.gz"
    cp -f "$nb/gtk/debian-installer/i386/linux" "$dir/netboot/linux-gtk"
fi

# The installer's own components: what anna and the preseed's steps fetch
# from the mirror for the netboot kernel's ABI (udebs.py derives it from the
# installer index, the kernel image's version and the initrd's own
# packages).  Each run fetches those not yet in the pool; apt-get download
# gets what it can and names each file it could not get, and a missing udeb
# is reported at the end, not fatal (the journey's test skips on it).
catp "$udeb_pk" >"$apt_dir/udeb-Packages"
python3 "$here/udebs.py" --packages "$apt_dir/udeb-Packages" --kernel "$dir/netboot/linux" \
    --initrd "$dir/netboot/initrd.gz" >"$apt_dir/udebs.txt"
want=()
while read -r u; do
    compgen -G "$mirror/pool/udeb/${u}_*.udeb" >/dev/null || want+=("$u")
done <"$apt_dir/udebs.txt"
: >"$apt_dir/udeb.log"
if [ ${#want[@]} -gt 0 ]; then
    echo "mirror: downloading ${#want[@]} of the installer's $(wc -l <"$apt_dir/udebs.txt") components (udebs)" >&2
    (cd "$mirror/pool/udeb" && apt_i386 download "${want[@]}" >"$apt_dir/udeb.log" 2>&1) || true
fi

# Indexes and an unsigned Release (the preseed allows unauthenticated).
# dpkg-scanpackages reads each package's control file; the index is rebuilt
# only when the pool changed.
index() { # SUBDIR TYPE INDEXDIR
    local out=$mirror/dists/bookworm/main/$3
    mkdir -p "$out"
    if [ ! -e "$out/Packages" ] || [ -n "$(find "$mirror/pool/$1" -newer "$out/Packages" -print -quit)" ]; then
        (cd "$mirror" && dpkg-scanpackages -t "$2" -m "pool/$1" /dev/null 2>/dev/null) >"$out/Packages"
        gzip -9nc "$out/Packages" >"$out/Packages.gz"
    fi
}
index main deb binary-i386
index udeb udeb debian-installer/binary-i386
# Each index directory's own Release: choose-mirror checks its
# Architecture before it takes the mirror.
for d in binary-i386 debian-installer/binary-i386; do
    printf 'Archive: stable\nOrigin: Debian\nLabel: Debian\nVersion: 12\nComponent: main\nArchitecture: i386\n' \
        >"$mirror/dists/bookworm/main/$d/Release"
done
(
    cd "$mirror/dists/bookworm"
    printf 'Origin: Debian\nLabel: Debian\nSuite: stable\nVersion: 12\nCodename: bookworm\n'
    printf 'Date: %s\nArchitectures: i386\nComponents: main\nDescription: popek local mirror\n' \
        "$(LC_ALL=C date -u -R -r main/binary-i386/Packages)"
    for sum in MD5Sum:md5sum SHA256:sha256sum; do
        echo "${sum%%:*}:"
        for f in main/binary-i386/Packages main/binary-i386/Packages.gz main/binary-i386/Release \
            main/debian-installer/binary-i386/Packages main/debian-installer/binary-i386/Packages.gz \
            main/debian-installer/binary-i386/Release; do
            printf ' %s %s %s\n' "$(${sum#*:} "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
        done
    done
) >"$mirror/dists/bookworm/Release.new"
mv "$mirror/dists/bookworm/Release.new" "$mirror/dists/bookworm/Release"
echo "mirror: $(ls "$mirror/pool/main" | wc -l) debs, $(ls "$mirror/pool/udeb" | wc -l) udebs, $(du -sh "$mirror" | cut -f1)" >&2
for f in binary-i386/Packages binary-i386/Release debian-installer/binary-i386/Packages \
    debian-installer/binary-i386/Release; do
    [ -s "$mirror/dists/bookworm/main/$f" ] || { echo "mirror: dists/bookworm/main/$f was not written" >&2; exit 1; }
done
# Without every component the installer stops at 'Download installer
# components': say which ones the sources refused.
missing=()
while read -r u; do
    compgen -G "$mirror/pool/udeb/${u}_*.udeb" >/dev/null || missing+=("$u")
done <"$apt_dir/udebs.txt"
if [ ${#missing[@]} -gt 0 ]; then
    echo "mirror: ${#missing[@]} of the installer's $(wc -l <"$apt_dir/udebs.txt") components (udebs) could not be" \
        "downloaded from the host's sources (e.g. ${missing[*]:0:3}; see $apt_dir/udeb.log);" \
        "the installer stops at 'Download installer components'" >&2
fi
