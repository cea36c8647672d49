/*
 * A block device as disk controllers see it: an array of 512-byte sectors
 * with read, write and flush.  The host side (block/drive.c: raw image
 * files, -snapshot overlays) fills one in; devices never touch host files.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define BLOCK_SECTOR_SIZE 512

typedef struct BlockDev {
    void *opaque;     /* the backend's state */
    uint64_t sectors; /* size in 512-byte sectors */
    bool read_only;   /* writes fail with -EROFS */
    /* Each returns 0, or a negative errno; sector + count is within size. */
    int (*read)(void *opaque, uint64_t sector, void *buf, uint32_t count);
    int (*write)(void *opaque, uint64_t sector, const void *buf, uint32_t count);
    /* Make every completed write durable (fsync). */
    int (*flush)(void *opaque);
} BlockDev;

#endif /* BLOCK_BLOCK_H */
