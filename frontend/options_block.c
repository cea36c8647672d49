/*
 * Drives of devices other than IDE and floppy, in QEMU's spelling:
 *   -drive file=F,if=virtio[,format=raw][,readonly=on][,serial=S]   a virtio disk at once
 *   -drive file=F,if=none,id=ID[,...]  a drive with no device yet, for
 *   -device virtio-blk-pci,drive=ID[,serial=S][,id=NAME]
 * A drive serves one device: naming a drive no -drive made, or one that
 * already has a device, stops popek with one line, as in QEMU.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"

static void block_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void block_die(const char *fmt, ...)
{
    va_list ap;

    fputs("popek: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static VirtioBlkOption *virtio_blk_add(PopekOptions *o, const char *option)
{
    if (o->nvirtio_blk == PC_MAX_VIRTIO_BLK) {
        block_die("%s: too many virtio-blk disks (at most %d)", option, PC_MAX_VIRTIO_BLK);
    }
    VirtioBlkOption *v = &o->virtio_blk[o->nvirtio_blk++];
    *v = (VirtioBlkOption){-1, NULL, NULL, option};
    return v;
}

void options_block_drive(PopekOptions *o, const DriveOption *drive, bool virtio)
{
    if (!drive->file) {
        block_die("-drive: if=%s needs file=PATH", virtio ? "virtio" : "none");
    }
    if (!virtio && !drive->id) {
        block_die("-drive: if=none needs id=ID (for -device ...,drive=ID)");
    }
    for (int i = 0; drive->id && i < o->nblockdevs; i++) {
        if (o->blockdevs[i].id && !strcmp(o->blockdevs[i].id, drive->id)) {
            block_die("-drive: Duplicate ID '%s' for drive", drive->id);
        }
    }
    if (o->nblockdevs == OPTIONS_MAX_BLOCKDEVS) {
        block_die("-drive: too many drives with if=none or if=virtio (at most %d)",
                  OPTIONS_MAX_BLOCKDEVS);
    }
    o->blockdevs[o->nblockdevs] = *drive;
    if (virtio) {
        char *option = malloc(strlen(drive->file) + 32);
        if (!option) {
            block_die("-drive: out of memory");
        }
        sprintf(option, "-drive %s (if=virtio)", drive->file);
        virtio_blk_add(o, option)->drive = o->nblockdevs;
    }
    o->nblockdevs++;
}

void options_block_device(PopekOptions *o, const char *arg)
{
    size_t optlen = strlen(arg) + 16;
    char *option = malloc(optlen);
    char *buf = strdup(arg); /* kept: drive_id and serial point into it */
    char *save = NULL;

    if (!option || !buf) {
        block_die("-device: out of memory");
    }
    snprintf(option, optlen, "-device %s", arg);
    VirtioBlkOption *v = virtio_blk_add(o, option);
    strtok_r(buf, ",", &save); /* the model */
    for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        if (!strncmp(kv, "drive=", 6) && kv[6]) {
            v->drive_id = kv + 6;
        } else if (!strncmp(kv, "serial=", 7)) {
            v->serial = kv + 7;
        } else if (!strncmp(kv, "id=", 3)) {
            /* a name for the device; nothing refers to it yet */
        } else {
            block_die("%s: bad property '%s' (want drive=ID, serial=, id=)", option, kv);
        }
    }
    if (!v->drive_id) {
        block_die("%s: drive property not set", option);
    }
}

void options_block_finish(PopekOptions *o)
{
    bool used[OPTIONS_MAX_BLOCKDEVS] = {false};

    for (int i = 0; i < o->nvirtio_blk; i++) {
        VirtioBlkOption *v = &o->virtio_blk[i];
        if (v->drive_id) {
            for (int k = 0; k < o->nblockdevs && v->drive < 0; k++) {
                if (o->blockdevs[k].id && !strcmp(o->blockdevs[k].id, v->drive_id)) {
                    v->drive = k;
                }
            }
            if (v->drive < 0) {
                block_die("%s: Property 'virtio-blk-pci.drive' can't find value '%s'", v->option,
                          v->drive_id);
            }
        }
        if (used[v->drive]) {
            block_die("%s: Drive '%s' is already in use by another device", v->option,
                      o->blockdevs[v->drive].id ? o->blockdevs[v->drive].id
                                                : o->blockdevs[v->drive].file);
        }
        used[v->drive] = true;
        if (!v->serial) {
            v->serial = o->blockdevs[v->drive].serial;
        }
    }
}
