# Debian's i386 guest packages (kernel and busybox), and busybox for the
# host (the native baseline of tests/bench's busybox rows on a host that
# cannot run the guest's i386 one), shared by
# scripts/setup.sh, which downloads them once, and the guest builders,
# which only unpack them.  Sourced, not run.
#
# The builders run as ctest fixtures, in parallel; they must not touch the
# dpkg database or the apt lists (two `dpkg --add-architecture` at once
# fail), so everything that does happens in setup.sh, before any test.
# dpkg-deb -x only reads a .deb file.

# Where the downloaded .debs live: $POPEK_DEBS, or .cache/debs in the tree.
guest_debs_dir() {
    local top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    echo "${POPEK_DEBS:-$top/.cache/debs}"
}

# The newest 6.1 686 kernel package name apt knows, e.g. linux-image-6.1.0-50-686.
guest_kernel_pkg() {
    apt-cache search --names-only '^linux-image-6\.1\.[0-9.-]+-686$' | awk '{print $1}' |
        sort -V | tail -n 1
}

# The newest 6.1 PAE kernel package, e.g. linux-image-6.1.0-50-686-pae
# (tests/guest/linux/pae_guest.py boots it).
guest_kernel_pae_pkg() {
    apt-cache search --names-only '^linux-image-6\.1\.[0-9.-]+-686-pae$' | awk '{print $1}' |
        sort -V | tail -n 1
}

# The newest 6.1 amd64 kernel package, e.g. linux-image-6.1.0-50-amd64
# (the 64-bit guest, tests/guests/build-guest64.sh).
guest_kernel64_pkg() {
    apt-cache search --names-only '^linux-image-6\.1\.[0-9.-]+-amd64$' | awk '{print $1}' |
        sort -V | tail -n 1
}

# Download the guest packages into the cache (setup.sh; needs the i386 architecture).
guest_debs_fetch() {
    local dir kpkg ppkg k64
    dir=$(guest_debs_dir)
    mkdir -p "$dir"
    kpkg=$(guest_kernel_pkg)
    [ -n "$kpkg" ] || { echo "setup: no linux-image-6.1.*-686 package in apt's lists" >&2; return 1; }
    if ! ls "$dir/${kpkg}_"*_i386.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download -q "$kpkg:i386" >/dev/null)
    fi
    ppkg=$(guest_kernel_pae_pkg)
    [ -n "$ppkg" ] || { echo "setup: no linux-image-6.1.*-686-pae package in apt's lists" >&2; return 1; }
    if ! ls "$dir/${ppkg}_"*_i386.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download -q "$ppkg:i386" >/dev/null)
    fi
    if ! ls "$dir"/busybox-static_*_i386.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download -q busybox-static:i386 >/dev/null)
    fi
    # The 64-bit guest's kernel and busybox (busybox:amd64 is also the
    # benchmark's native baseline on a host without IA32 emulation).
    k64=$(guest_kernel64_pkg)
    [ -n "$k64" ] || { echo "setup: no linux-image-6.1.*-amd64 package in apt's lists" >&2; return 1; }
    if ! ls "$dir/${k64}_"*_amd64.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download -q "$k64" >/dev/null)
    fi
    if ! ls "$dir"/busybox-static_*_amd64.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download -q busybox-static:amd64 >/dev/null)
    fi
}

# Unpack the cached kernel into DIR/kernel and busybox into DIR/bb; prints
# the kernel package's file name.  Fails with one line if setup never ran.
guest_debs_unpack() {
    local work=$1 dir kdeb bdeb
    dir=$(guest_debs_dir)
    kdeb=$(ls "$dir"/linux-image-6.1.*-686_*_i386.deb 2>/dev/null | sort -V | tail -n 1)
    bdeb=$(ls "$dir"/busybox-static_*_i386.deb 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
        echo "guest packages missing from $dir: run scripts/setup.sh" >&2
        return 1
    fi
    dpkg-deb -x "$kdeb" "$work/kernel"
    dpkg-deb -x "$bdeb" "$work/bb"
    basename "$kdeb"
}

# Unpack only /boot of the cached PAE kernel into DIR/kernel-pae; prints
# its file name.  Fails with one line if setup never fetched it.
guest_debs_unpack_pae() {
    local work=$1 dir pdeb
    dir=$(guest_debs_dir)
    pdeb=$(ls "$dir"/linux-image-6.1.*-686-pae_*_i386.deb 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$pdeb" ]; then
        echo "PAE kernel package missing from $dir: run scripts/setup.sh" >&2
        return 1
    fi
    mkdir -p "$work/kernel-pae"
    dpkg-deb --fsys-tarfile "$pdeb" | tar -x -C "$work/kernel-pae" --wildcards './boot/vmlinuz-*'
    basename "$pdeb"
}

# Unpack the cached amd64 kernel into DIR/kernel64 and busybox:amd64 into
# DIR/bb64; prints the kernel package's file name.  Fails with one line if
# setup never fetched them.
guest_debs_unpack64() {
    local work=$1 dir kdeb bdeb
    dir=$(guest_debs_dir)
    kdeb=$(ls "$dir"/linux-image-6.1.*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n 1)
    bdeb=$(ls "$dir"/busybox-static_*_amd64.deb 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
        echo "amd64 guest packages missing from $dir: run scripts/setup.sh" >&2
        return 1
    fi
    dpkg-deb -x "$kdeb" "$work/kernel64"
    dpkg-deb -x "$bdeb" "$work/bb64"
    basename "$kdeb"
}

# The initramfs of the tree ROOT as a gzipped newc cpio on stdout, the
# same bytes on every machine that unpacked the same packages: names in
# byte order, every mtime 0, owner root, inode numbers from cpio's
# counter, and no name or time in the gzip header.  A guest built here and
# one built in CI then boot alike under -icount, so a timestamp CI prints
# can be compared with a local run (a plain `find | cpio` differs per
# build: mtimes, inode numbers, the directory's order).
guest_initramfs() {
    local root=$1
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet --reproducible -R 0:0 | gzip -9n)
}
