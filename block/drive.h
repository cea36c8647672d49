/*
 * Disk images on the host: raw files behind the block/block.h interface.
 *
 * - A writable image is locked against every other opener (an open file
 *   description lock, F_OFD_SETLK, so it holds between processes and
 *   between two drives of one process); a read-only one takes a shared
 *   lock, so readers can share an image but never with a writer.
 * - -snapshot: the image is opened read-only and guest writes go to an
 *   unlinked temporary file (a sparse overlay with a bitmap of the sectors
 *   it holds), which disappears when popek exits: the image stays
 *   byte-identical.
 * - FLUSH CACHE reaches fdatasync(), so a flushed write survives a host
 *   crash.
 * - An image must exist, be readable, be non-empty and be a multiple of
 *   512 bytes long; otherwise drive_open fails with one line saying why.
 */
#ifndef BLOCK_DRIVE_H
#define BLOCK_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

typedef struct Drive {
    BlockDev blk;     /* what the disk controller uses; opaque = this Drive */
    int fd;           /* the image, -1 when closed */
    int overlay_fd;   /* -snapshot overlay, -1 without */
    uint8_t *present; /* overlay bitmap: bit per sector written since open */
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
/* Close the image (dropping its lock) and discard any overlay. */
void drive_close(Drive *d);

#endif /* BLOCK_DRIVE_H */
