# The test guests' root file system, shared by build-guest.sh (i386) and
# build-guest64.sh (amd64): busybox, the init, the NIC and floppy modules
# of the guest's own kernel, netup, miniftpd and the DHCP script.
# Sourced, not run; $here is the tests/guests directory.

# guest_root_build KERNELDIR BBDIR ROOT CCFLAG
#   KERNELDIR, BBDIR: the kernel and busybox-static packages unpacked with
#   dpkg-deb -x; ROOT: the directory to fill; CCFLAG: -m32 or -m64, the
#   guest's word size for the programs built here.
guest_root_build() {
    local kdir=$1 bbdir=$2 root=$3 ccflag=$4 app m f mods
    mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root}
    cp "$bbdir/bin/busybox" "$root/bin/busybox"
    # The links init needs before it runs `busybox --install` (which makes the rest
    # inside the guest: the host may not run the guest's binary to list them).
    for app in sh mount umount cat echo ls mkdir uname dmesg date poweroff reboot sleep \
               grep head tail wc test true false env expr seq sync rm cp mv; do
        ln -sf busybox "$root/bin/$app"
    done
    cp "$here/init" "$root/init"
    chmod 755 "$root/init"
    # The NIC drivers, loaded by /bin/netup (tests/guests/netup) when a test wants a
    # network, and the floppy driver (insmod by tests/guest/linux/floppy_guest.py).
    mkdir -p "$root/lib/popek-modules"
    mods=$(ls -d "$kdir"/lib/modules/*/kernel)
    for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev \
             drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover \
             drivers/net/net_failover drivers/net/virtio_net drivers/net/ethernet/intel/e1000/e1000 \
             drivers/block/floppy; do
        f=$(ls "$mods/$m".ko* | head -n 1)
        case "$f" in
        *.xz) xz -dc "$f" > "$root/lib/popek-modules/$(basename "$m").ko" ;;
        *) cp "$f" "$root/lib/popek-modules/$(basename "$m").ko" ;;
        esac
    done
    cp "$here/netup" "$root/bin/netup"
    # The FTP server of the VM-to-VM test (Debian's busybox has no ftpd);
    # stripped, so the source's path in the symbol table does not make the
    # initramfs differ with where the tree was cloned (guest_initramfs).
    ${CC:-gcc} "$ccflag" -static -Os -Wall -s -o "$root/bin/miniftpd" "$here/miniftpd.c"
    cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
    chmod 755 "$root/bin/netup" "$root/etc/udhcpc.script"
}
