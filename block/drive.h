/*
 * A disk image behind a disk controller: the image (raw or qcow2, with a
 * qcow2 image's backing chain) and, with -snapshot, a temporary overlay
 * over it (block/overlay.h), presented as one BlockDev.
 *
 * - Formats: format= names it, or the file is probed (block/probe.h) as
 *   QEMU does.  A probed raw image keeps the guest from writing a format
 *   magic into sector 0 (guard_sector0), since the next probe would then
 *   trust a header the guest wrote.
 * - Locking (block/file.h): a writable image is exclusive, a read-only one,
 *   a -snapshot image and every backing file are shared.
 * - -snapshot opens the image read-only: it stays byte-identical, even if
 *   popek is killed.
 * - Every failure to open is one line (naming the file) in err.
 */
#ifndef BLOCK_DRIVE_H
#define BLOCK_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "block/node.h"

typedef struct Drive {
    BlockDev blk;       /* what the disk controller uses; opaque = this Drive */
    BlockNode *top;     /* the layer serving blk (the overlay under -snapshot,
                         * else the image); NULL when closed */
    BlockNode *image;   /* the image itself (top, or the one below the overlay) */
    bool guard_sector0; /* opened on a format probe: a write to sector 0 that
                         * would make it probe as another format fails with
                         * -EPERM (block/probe.h) */
} Drive;

/*
 * Open path as a raw image.  read_only: the guest cannot write it (a
 * CD-ROM, readonly=on).  snapshot: writes go to a temporary overlay.
 * Returns false with a one-line message (naming the file) in err.
 */
bool drive_open(Drive *d, const char *path, bool read_only, bool snapshot, char *err,
                size_t errlen);

/* The same for format "raw", "qcow2", or NULL to probe, the image's file
 * locked unless lock is false (file.locking=off); *probed_raw (may be
 * NULL) says the probe chose raw. */
bool drive_open_format(Drive *d, const char *path, const char *format, bool read_only,
                       bool snapshot, bool lock, bool *probed_raw, char *err, size_t errlen);

/* Close the image (dropping its locks) and discard any overlay.  Safe on a
 * zeroed or closed Drive. */
void drive_close(Drive *d);

#endif /* BLOCK_DRIVE_H */
