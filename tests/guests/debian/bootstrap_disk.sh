#!/usr/bin/env bash
# An installed Debian 12 i386 system on a disk image, built on the host from
# the local mirror, for booting under popek through SeaBIOS and GRUB:
#   tests/guests/debian/bootstrap_disk.sh [CACHE]   (default $POPEK_DEBIAN_CACHE, else ~/.cache/popek/debian)
# writes CACHE/bootstrap.raw (and its ssh key CACHE/bootstrap-key/id_ed25519),
# kept until the mirror's index changes.
#
# It stands in for the installer's disk where the installer cannot finish:
# the host's Debian sources here refuse the installer's own components
# (mirror.sh says which), so the netboot installer stops before
# partitioning.  The system is what the preseed asks for, from the same
# mirror: debootstrap's base (Priority required and important) plus the
# 686 kernel, grub-pc, openssh-server, sudo, vsftpd, ftp; root and `user`
# (in group sudo) with the preseed's password, the ssh key for `user`, DHCP
# on eth0, the kernel and GRUB on the serial console, GRUB on the MBR, one
# ext4 partition.  Needs root (debootstrap chroots); mke2fs -d fills the
# filesystem and GRUB's boot.img and core.img are written in place, so no
# loop device or mount is needed.  Status 77 without root or debootstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${POPEK_DEBIAN_CACHE:-$HOME/.cache/popek/debian}}
cache=$(cd "$cache" && pwd)
mirror=$cache/debian
[ "$(id -u)" = 0 ] || { echo "bootstrap_disk: needs root (debootstrap)" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "bootstrap_disk: debootstrap is not installed" >&2; exit 77; }
[ -s "$mirror/dists/bookworm/Release" ] ||
    { echo "bootstrap_disk: no mirror in $cache: run tests/guests/debian/mirror.sh" >&2; exit 1; }
password=popek
# Cached: rebuilt only when the mirror's index is newer (or on request).
if [ -e "$cache/bootstrap.raw" ] && [ -z "${POPEK_BOOTSTRAP_REBUILD:-}" ] &&
    [ "$cache/bootstrap.raw" -nt "$mirror/dists/bookworm/main/binary-i386/Packages" ]; then
    echo "bootstrap_disk: $cache/bootstrap.raw is up to date (POPEK_BOOTSTRAP_REBUILD=1 rebuilds it)" >&2
    exit 0
fi
root=$cache/bootstrap-root
img=$cache/bootstrap.raw
size_mib=3072
part_start=2048 # sectors: the first partition at 1 MiB, GRUB's core.img in the gap

rm -f "$img.new"
# The tree stays until the disk is made, so that a failed later step does
# not repeat debootstrap.
if [ ! -e "$root.done" ]; then
    rm -rf "$root"
    echo "bootstrap_disk: debootstrap from $mirror (log in $cache/bootstrap.log)" >&2
    debootstrap --arch=i386 --no-check-gpg \
        --include=linux-image-686,grub-pc,openssh-server,sudo,vsftpd,ftp,ifupdown,isc-dhcp-client,iproute2 \
        bookworm "$root" "file://$mirror" >"$cache/bootstrap.log" 2>&1 ||
        { tail -20 "$cache/bootstrap.log" >&2; exit 1; }
    touch "$root.done"
fi

# The system's settings: what the installer's steps would have written.
echo debian >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n' >"$root/etc/hosts"
echo 'LABEL=popek-root / ext4 errors=remount-ro 0 1' >"$root/etc/fstab"
printf 'auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n' \
    >"$root/etc/network/interfaces"
echo 'deb http://10.0.2.100/debian bookworm main' >"$root/etc/apt/sources.list"
chroot "$root" id user >/dev/null 2>&1 || chroot "$root" useradd -m -s /bin/bash -c 'popek user' -G sudo user
printf 'root:%s\nuser:%s\n' "$password" "$password" | chroot "$root" chpasswd
mkdir -p "$cache/bootstrap-key"
[ -e "$cache/bootstrap-key/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C popek-bootstrap -f "$cache/bootstrap-key/id_ed25519"
install -d -m 700 "$root/home/user/.ssh"
install -m 600 "$cache/bootstrap-key/id_ed25519.pub" "$root/home/user/.ssh/authorized_keys"
chroot "$root" chown -R user:user /home/user/.ssh
# The serial getty waits for udev to announce ttyS0; with two VMs on a
# loaded host that took over systemd's 90 s and the getty was dropped.
mkdir -p "$root/etc/systemd/system/dev-ttyS0.device.d"
printf '[Unit]\nJobRunningTimeoutSec=15min\n' >"$root/etc/systemd/system/dev-ttyS0.device.d/timeout.conf"
# No time synchronisation reaching out (as the preseed's late_command).
rm -f "$root/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"
rm -f "$root/var/cache/apt/archives/"*.deb

# GRUB: its modules under /boot/grub, a menu on the serial line, core.img
# with what it needs to read /boot/grub from the first partition.
kernel=$(cd "$root/boot" && ls vmlinuz-* | head -1)
mkdir -p "$root/boot/grub/i386-pc"
cp "$root/usr/lib/grub/i386-pc/"*.mod "$root/usr/lib/grub/i386-pc/"*.lst "$root/boot/grub/i386-pc/"
cat >"$root/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
menuentry 'Debian GNU/Linux, ${kernel#vmlinuz-}' {
    insmod part_msdos
    insmod ext2
    set root=(hd0,msdos1)
    linux /boot/$kernel root=LABEL=popek-root ro console=tty0 console=ttyS0,115200 net.ifnames=0
    initrd /boot/initrd.img-${kernel#vmlinuz-}
}
EOF
chroot "$root" grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
    biosdisk part_msdos ext2
core=$cache/bootstrap-core.img
mv "$root/tmp/core.img" "$core"

# The disk: one partition from 1 MiB, ext4 filled from the tree.
truncate -s "${size_mib}M" "$img.new"
mke2fs -F -q -t ext4 -L popek-root -d "$root" -E offset=$((part_start * 512)) \
    "$img.new" "$(((size_mib - 1) * 1024))k"
# The partition table and GRUB's boot code after mke2fs: it leaves the
# first MiB alone.
python3 "$here/mbr.py" "$img.new" "$root/usr/lib/grub/i386-pc/boot.img" \
    "$core" "$part_start"
mv "$img.new" "$img"
rm -rf "$root" "$root.done" "$core"
echo "bootstrap_disk: $img ($(du -h "$img" | cut -f1) used of ${size_mib} MiB)" >&2
