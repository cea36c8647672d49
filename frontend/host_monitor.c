/*
 * The monitor's commands that need the host's side of the machine
 * (MonitorOps.host_command): info block, eject and change for the drives
 * and their images, and info mtree for the memory and port maps.  Output
 * follows QEMU's shapes; QEMU's device names: ide0-hd0, ide1-cd0, ...
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/host.h"

typedef struct Out {
    char *buf;
    size_t len;
    size_t used;
} Out;

static void out_printf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(Out *o, const char *fmt, ...)
{
    if (o->used + 1 >= o->len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
    }
}

/* QEMU's name for the drive at IDE index i. */
static void drive_name(const Host *h, int i, char *name, size_t len)
{
    snprintf(name, len, "ide%d-%s%d", i / 2, h->drive_cdrom[i] ? "cd" : "hd", i % 2);
}

static int find_drive(const Host *h, const char *name)
{
    char buf[16];
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        drive_name(h, i, buf, sizeof(buf));
        if (h->drive_present[i] && !strcmp(buf, name)) {
            return i;
        }
    }
    return -1;
}

static void info_block(Host *h, Out *o)
{
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        char name[16];
        bool media = true, locked = false, tray_open = false;
        if (!h->drive_present[i]) {
            continue;
        }
        drive_name(h, i, name, sizeof(name));
        if (h->drive_cdrom[i]) {
            pc_cdrom_state(&h->pc, i, &media, &locked, &tray_open);
        }
        if (media && h->drive_file[i]) {
            out_printf(o, "%s: %s (%s%s)\n", name, h->drive_file[i],
                       h->drives[i].image ? h->drives[i].image->format : "raw",
                       h->drive_readonly[i] ? ", read-only" : "");
        } else {
            out_printf(o, "%s: [not inserted]\n", name);
        }
        if (h->drive_cdrom[i]) {
            out_printf(o, "    Removable device: %slocked, tray %s\n", locked ? "" : "not ",
                       tray_open ? "open" : "closed");
        }
        out_printf(o, "\n");
    }
    for (int i = 0; i < h->nblockdevs; i++) {
        out_printf(o, "%s: %s (%s%s)\n", h->blockdev_name[i], h->blockdev_file[i],
                   h->blockdevs[i].image ? h->blockdevs[i].image->format : "raw",
                   h->blockdev_readonly[i] ? ", read-only" : "");
        if (h->blockdev_disk[i] >= 0) {
            char line[512];
            pc_virtio_blk_info(&h->pc, h->blockdev_disk[i], line, sizeof(line));
            out_printf(o, "    Attached to: %s", line);
        }
        out_printf(o, "\n");
    }
}

/* eject [-f] DEVICE */
static void eject(Host *h, char *args, Out *o)
{
    char *save = NULL;
    char *dev = strtok_r(args, " \t", &save);
    bool force = dev && !strcmp(dev, "-f");
    if (force) {
        dev = strtok_r(NULL, " \t", &save);
    }
    int i = dev ? find_drive(h, dev) : -1;
    bool media, locked, tray_open;
    if (!dev) {
        out_printf(o, "eject: usage: eject [-f] DEVICE\n");
    } else if (i < 0) {
        out_printf(o, "Device '%s' not found\n", dev);
    } else if (!pc_cdrom_state(&h->pc, i, &media, &locked, &tray_open)) {
        out_printf(o, "Device '%s' is not removable\n", dev);
    } else if (locked && !force) {
        out_printf(o,
                   "Device '%s' is locked and force was not specified, "
                   "wait for tray to open and try again\n",
                   dev);
    } else {
        pc_cdrom_change(&h->pc, i, NULL);
        drive_close(&h->drives[i]);
        free(h->drive_file[i]);
        h->drive_file[i] = NULL;
    }
}

/* change DEVICE FILE: a new disc, read-only as CDs are. */
static void change(Host *h, char *args, Out *o)
{
    char *save = NULL;
    char *dev = strtok_r(args, " \t", &save);
    char *file = strtok_r(NULL, " \t", &save);
    int i = dev ? find_drive(h, dev) : -1;
    bool media, locked, tray_open;
    char err[512];
    if (!dev || !file) {
        out_printf(o, "change: usage: change DEVICE FILE\n");
        return;
    }
    if (i < 0) {
        out_printf(o, "Device '%s' not found\n", dev);
        return;
    }
    if (!pc_cdrom_state(&h->pc, i, &media, &locked, &tray_open)) {
        out_printf(o, "Device '%s' is not removable\n", dev);
        return;
    }
    Drive fresh;
    if (!drive_open(&fresh, file, true, false, err, sizeof(err))) {
        out_printf(o, "change: %s\n", err);
        return;
    }
    /* The old disc goes first; the drive keeps a copy of the BlockDev,
     * whose opaque is this Drive slot. */
    pc_cdrom_change(&h->pc, i, NULL);
    drive_close(&h->drives[i]);
    h->drives[i] = fresh;
    h->drives[i].blk.opaque = &h->drives[i];
    free(h->drive_file[i]);
    h->drive_file[i] = strdup(file);
    pc_cdrom_change(&h->pc, i, &h->drives[i].blk);
}

static const char *region_kind(int kind)
{
    switch (kind) {
    case PHYS_ROM: return "rom";
    case PHYS_VRAM: return "ram";
    default: return "i/o";
    }
}

static const char *region_name(int kind)
{
    switch (kind) {
    case PHYS_ROM: return "rom";
    case PHYS_VRAM: return "vga.vram";
    default: return "mmio";
    }
}

/* info mtree: RAM, then the regions over it by priority, then the port
 * ranges, each contiguous run of ports one handler owns. */
static void info_mtree(Host *h, Out *o)
{
    const PhysMem *pm = &h->pc.phys;
    out_printf(o, "address-space: memory\n");
    out_printf(o, "  0000000000000000-%016llx (prio 0, ram): pc.ram\n",
               (unsigned long long)pm->ram_size - 1);
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        out_printf(o, "  %016llx-%016llx (prio %d, %s): %s%s\n", (unsigned long long)r->start,
                   (unsigned long long)r->start + r->size - 1, r->priority, region_kind(r->kind),
                   region_name(r->kind), r->enabled ? "" : " [disabled]");
    }
    out_printf(o, "\naddress-space: I/O\n");
    const IOPortMap *io = &h->pc.io;
    for (uint32_t port = 0; port < 65536;) {
        uint16_t owner = io->owner[port];
        uint32_t end = port;
        while (end + 1 < 65536 && io->owner[end + 1] == owner) {
            end++;
        }
        if (owner) {
            out_printf(o, "  %016x-%016x (prio 0, i/o): handler %u\n", port, end, owner);
        }
        port = end + 1;
    }
}

int host_monitor_command(void *host, const char *cmd, const char *args, char *buf, size_t len)
{
    Host *h = host;
    Out o = {buf, len, 0};
    char *copy = strdup(args);
    buf[0] = '\0';
    if (!copy) {
        out_printf(&o, "%s: out of memory\n", cmd);
        return (int)o.used;
    }
    if (!strcmp(cmd, "info block")) {
        info_block(h, &o);
    } else if (!strcmp(cmd, "info mtree")) {
        info_mtree(h, &o);
    } else if (!strcmp(cmd, "eject")) {
        eject(h, copy, &o);
    } else if (!strcmp(cmd, "change")) {
        change(h, copy, &o);
    } else if (!strcmp(cmd, "migrate") || !strcmp(cmd, "info migrate") ||
               !strcmp(cmd, "savevm") || !strcmp(cmd, "loadvm") || !strcmp(cmd, "delvm") ||
               !strcmp(cmd, "info snapshots")) {
        o.used = (size_t)host_migrate_command(h, cmd, copy, buf, len);
    } else {
        out_printf(&o, "%s: unknown command\n", cmd);
    }
    free(copy);
    return (int)o.used;
}
