/*
 * The host's side of one VM (host.h): options to backends and board
 * configuration, and the host's share of the main loop.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/gdbstub.h"
#include "frontend/host.h"
#include "frontend/monitor.h"
#include "frontend/process.h"

/*
 * Open a disk's image (none for an empty CD-ROM drive): the format probed
 * unless format= names it, as QEMU does (block/probe.h), and a probed raw
 * image writable only past sector 0.  Exits with one line on failure.
 */
static void open_image(Drive *d, const DriveOption *opt, bool snapshot)
{
    char err[512];
    bool probed_raw = false;
    if (opt->file && !drive_open_format(d, opt->file, opt->format, opt->readonly, snapshot,
                                        !opt->no_lock, &probed_raw, err, sizeof(err))) {
        fprintf(stderr, "popek: %s %s\n", opt->option, err);
        exit(1);
    }
    if (probed_raw && !opt->readonly && !snapshot) {
        fprintf(stderr,
                "popek: warning: image format was not specified for '%s' and probing "
                "guessed raw; writes to block 0 are restricted (specify format=raw "
                "with -drive to remove the restriction)\n",
                opt->file);
        d->guard_sector0 = true;
    }
}

/* Open the images of -hda..-hdd, -cdrom and -drive. */
static void open_drives(Host *h, const PopekOptions *o, PCConfig *cfg)
{
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        const DriveOption *opt = &o->drives[i];
        if (!opt->present) {
            continue;
        }
        open_image(&h->drives[i], opt, o->snapshot);
        cfg->drives[i] = (PCDrive){true, opt->cdrom, opt->file ? &h->drives[i].blk : NULL,
                                   opt->option};
        h->drive_present[i] = true;
        h->drive_cdrom[i] = opt->cdrom;
        h->drive_readonly[i] = opt->readonly;
        h->drive_file[i] = opt->file ? strdup(opt->file) : NULL;
    }
}

/* Open the images of -drive if=none|virtio, and give the virtio-blk disks
 * theirs (options_block_finish has matched each disk to a drive). */
static void open_blockdevs(Host *h, const PopekOptions *o, PCConfig *cfg)
{
    int unnamed = 0;
    for (int i = 0; i < o->nblockdevs; i++) {
        const DriveOption *opt = &o->blockdevs[i];
        char name[24];
        open_image(&h->blockdevs[i], opt, o->snapshot);
        snprintf(name, sizeof(name), "virtio%d", unnamed);
        unnamed += !opt->id;
        h->blockdev_name[i] = strdup(opt->id ? opt->id : name);
        h->blockdev_file[i] = strdup(opt->file);
        h->blockdev_readonly[i] = opt->readonly;
        h->blockdev_disk[i] = -1;
    }
    h->nblockdevs = o->nblockdevs;
    cfg->virtio_blk_count = o->nvirtio_blk;
    for (int i = 0; i < o->nvirtio_blk; i++) {
        const VirtioBlkOption *v = &o->virtio_blk[i];
        cfg->virtio_blk[i] = (PCDrive){true, false, &h->blockdevs[v->drive].blk, v->option};
        cfg->virtio_blk_serial[i] = v->serial;
        h->blockdev_disk[v->drive] = i;
    }
}

/*
 * Open the images of -fda, -fdb and -drive if=floppy.  An image the user
 * may read but not write is a write-protected disk (the tab of a real
 * disk), not an error.
 */
static void open_floppies(Host *h, const PopekOptions *o, PCConfig *cfg)
{
    char err[512];
    for (int i = 0; i < PC_MAX_FLOPPIES; i++) {
        const DriveOption *opt = &o->floppies[i];
        if (!opt->present) {
            continue;
        }
        bool read_only = opt->readonly ||
                         (access(opt->file, R_OK) == 0 && access(opt->file, W_OK) != 0);
        if (!drive_open_format(&h->floppies[i], opt->file, "raw", read_only, o->snapshot,
                               !opt->no_lock, NULL, err, sizeof(err))) {
            fprintf(stderr, "popek: %s %s\n", opt->option, err);
            exit(1);
        }
        cfg->floppies[i] = (PCDrive){true, false, &h->floppies[i].blk, opt->option};
    }
}

/* The debug consoles: port 0xE9 and SeaBIOS's log (output only). */
static void open_debug_chardevs(Host *h, const PopekOptions *o, PCConfig *cfg)
{
    chardev_init(&h->debugcon_out);
    chardev_init(&h->bioslog_out);
    if (o->debugcon) {
        chardev_open(&h->debugcon_out, o->debugcon, "-debugcon");
        cfg->debugcon = &h->debugcon_out.backend;
    }
    if (o->bioslog) {
        chardev_open(&h->bioslog_out, o->bioslog, "-bioslog");
        cfg->bioslog = &h->bioslog_out.backend;
    } else if (o->trace_categories && strstr(o->trace_categories, "guest_errors")) {
        /* -d guest_errors: the firmware's complaints go to stderr. */
        chardev_open(&h->bioslog_out, "stdio", "-bioslog");
        h->bioslog_out.out_fd = STDERR_FILENO;
        h->bioslog_out.in_fd = -1;
        h->bioslog_out.is_stdio = false;
        cfg->bioslog = &h->bioslog_out.backend;
    }
}

static void add_fds(NetPollSet *set, const struct pollfd *fds, int n)
{
    for (int i = 0; i < n; i++) {
        net_pollset_add(set, fds[i].fd, fds[i].events);
    }
}

/* PCHostOps.poll: serve host input (terminal, gdb, monitor, window) and
 * the network, waiting up to timeout_ms or until the network's next
 * timer.  One poll() for all, so an idle machine sleeps in it. */
static void host_poll(void *opaque, int timeout_ms)
{
    Host *h = opaque;
    NetPollSet *set = &h->pollset;
    set->n = 0;
    if (h->ui_poll) {
        int ui_ms = h->ui_poll(h->ui_opaque);
        timeout_ms = timeout_ms > ui_ms ? ui_ms : timeout_ms;
    }
    struct pollfd some[4];
    int chr_at = host_chardev_pollfds(h);
    int gdb_at = set->n;
    if (h->gdb) {
        add_fds(set, some, gdbstub_pollfds(h->gdb, some, 4));
    }
    int net_at = set->n;
    net_poll_fill(h->net, set, &timeout_ms);
    if (process_signal_pending()) {
        timeout_ms = 0;
    }
    int ready = poll(set->fds, (nfds_t)set->n, timeout_ms);
    if (ready > 0) {
        host_chardev_service(h, chr_at, gdb_at);
    }
    if (h->gdb) {
        gdbstub_service(h->gdb, set->fds + gdb_at, net_at - gdb_at);
    }
    net_poll_service(h->net, set, ready < 0);
    host_watch(h);
}

static int host_engine_exec(void *opaque, uint64_t budget)
{
    Host *h = opaque;
    return pc_engine_exec(&h->pc, budget);
}

/* PCHostOps.exec with a gdb stub: the engine runs through the stub, so a
 * breakpoint or a step can stop it before any instruction. */
static int host_gdb_exec(void *opaque, uint64_t budget)
{
    Host *h = opaque;
    int reason = gdbstub_exec(h->gdb, budget);
    gdbstub_after_exec(h->gdb, reason);
    return reason;
}

void host_init(Host *h, const PopekOptions *o)
{
    memset(h, 0, sizeof(*h));
    PCConfig cfg = {
        .ram_bytes = o->ram_bytes,
        .accel = o->accel,
        .tb_size_mib = o->tb_size_mib,
        .cpu = o->cpu,
        .perfmap = o->perfmap,
        .icount_shift = o->icount_shift,
        .rtc_base = o->rtc_base,
        .rtc_localtime = o->rtc_localtime,
        .no_vga = o->vga_none,
        .bios = o->bios,
        .firmware_dir = o->firmware_dir,
        .kernel = o->kernel,
        .initrd = o->initrd,
        .append = o->append,
        .boot_order = o->boot_order,
        .boot_menu = o->boot_menu,
        /* As QEMU: -nographic shows SeaBIOS (and what boots through its
         * video services) on COM1, and takes keys from there. */
        .sercon_port = o->nographic ? 0x3f8 : 0,
        .no_reboot = o->no_reboot,
        .debug_exit = o->debug_exit,
        .debug_exit_base = o->debug_exit_base,
        .debug_exit_size = o->debug_exit_size,
    };
    host_chardev_open(h, o, &cfg);
    open_debug_chardevs(h, o, &cfg);
    open_drives(h, o, &cfg);
    open_floppies(h, o, &cfg);
    open_blockdevs(h, o, &cfg);
    host_net_open(h, o);
    cfg.nic_count = h->nic_count;
    for (int i = 0; i < h->nic_count; i++) {
        cfg.nics[i].model = strcmp(h->nics[i].model, "e1000") ? PC_NIC_VIRTIO_NET : PC_NIC_E1000;
        memcpy(cfg.nics[i].mac, h->nics[i].mac, NET_MAC_LEN);
    }
    pc_init(&h->pc, &cfg);
    /* Cable each card to its netdev (a card without one hears nothing). */
    for (int i = 0; i < h->nic_count; i++) {
        if (h->nic_netdev[i]) {
            net_client_attach(pc_nic_client(&h->pc, i), h->nic_netdev[i]);
        }
    }
    host_net_register_state(h);
    host_chardev_attach_serials(h);
    display_init(&h->display, pc_vga(&h->pc));
}

int host_run(Host *h)
{
    h->pc.host = (PCHostOps){h, host_poll, h->gdb ? host_gdb_exec : NULL};
    if (h->gdb) {
        gdbstub_set_engine(h->gdb, host_engine_exec, h);
    }
    h->was_stopped = h->pc.stopped;
    h->resets_seen = h->pc.reset_count;
    return pc_run(&h->pc);
}

void host_destroy(Host *h)
{
    host_net_close(h); /* first: it leaves the board's cards without a cable */
    pc_destroy(&h->pc);
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        drive_close(&h->drives[i]);
        free(h->drive_file[i]);
    }
    for (int i = 0; i < PC_MAX_FLOPPIES; i++) {
        drive_close(&h->floppies[i]);
    }
    for (int i = 0; i < OPTIONS_MAX_BLOCKDEVS; i++) {
        drive_close(&h->blockdevs[i]);
        free(h->blockdev_name[i]);
        free(h->blockdev_file[i]);
    }
    host_chardev_close(h);
    chardev_close(&h->debugcon_out);
    chardev_close(&h->bioslog_out);
}
