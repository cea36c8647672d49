/*
 * The -snapshot overlay (see overlay.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/file.h"
#include "block/overlay.h"

/* Sectors per bitmap chunk: 2^20 sectors (512 MiB of disk) in 128 KiB. */
#define CHUNK_SHIFT 20

typedef struct Overlay {
    BlockNode node;   /* first; node.backing is the image */
    int fd;           /* the unlinked temporary file */
    uint8_t **chunks; /* bit per sector written, NULL chunks: none written */
    size_t nchunks;
} Overlay;

static bool overlay_has(const Overlay *o, uint64_t sector)
{
    const uint8_t *c = o->chunks[sector >> CHUNK_SHIFT];
    uint64_t i = sector & ((1u << CHUNK_SHIFT) - 1);
    return c && (c[i >> 3] & (1u << (i & 7)));
}

static int overlay_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    Overlay *o = opaque;
    BlockDev *below = &o->node.backing->dev;
    uint8_t *p = buf;
    /* Runs of sectors from the same file, so large reads stay large. */
    while (count > 0) {
        bool in_overlay = overlay_has(o, sector);
        uint32_t run = 1;
        while (run < count && overlay_has(o, sector + run) == in_overlay) {
            run++;
        }
        int r = in_overlay ? block_file_io(o->fd, p, (size_t)run * BLOCK_SECTOR_SIZE,
                                           sector * BLOCK_SECTOR_SIZE, false)
                           : below->read(below->opaque, sector, p, run);
        if (r < 0) {
            return r;
        }
        p += (size_t)run * BLOCK_SECTOR_SIZE;
        sector += run;
        count -= run;
    }
    return 0;
}

static int overlay_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    Overlay *o = opaque;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t **c = &o->chunks[(sector + i) >> CHUNK_SHIFT];
        if (!*c && !(*c = calloc((1u << CHUNK_SHIFT) / 8, 1))) {
            return -ENOMEM;
        }
    }
    int r = block_file_io(o->fd, (void *)buf, (size_t)count * BLOCK_SECTOR_SIZE,
                          sector * BLOCK_SECTOR_SIZE, true);
    for (uint32_t i = 0; r == 0 && i < count; i++) {
        uint64_t s = sector + i, b = s & ((1u << CHUNK_SHIFT) - 1);
        o->chunks[s >> CHUNK_SHIFT][b >> 3] |= (uint8_t)(1u << (b & 7));
    }
    return r;
}

/* The overlay is thrown away at exit: nothing needs syncing. */
static int overlay_flush(void *opaque)
{
    return 0;
}

static void overlay_close(BlockNode *node)
{
    Overlay *o = (Overlay *)node;
    for (size_t i = 0; i < o->nchunks; i++) {
        free(o->chunks[i]);
    }
    free(o->chunks);
    close(o->fd);
    free(o);
}

BlockNode *overlay_open(BlockNode *below, const char *path, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    dir = dir && dir[0] ? dir : "/var/tmp";
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/popek-snapshot-XXXXXX", dir);
    Overlay *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "-snapshot: out of memory for '%s'", path);
        return NULL;
    }
    o->nchunks = (size_t)((below->dev.sectors + (1u << CHUNK_SHIFT) - 1) >> CHUNK_SHIFT);
    o->chunks = calloc(o->nchunks ? o->nchunks : 1, sizeof(*o->chunks));
    o->fd = mkstemp(tmpl);
    if (!o->chunks || o->fd < 0) {
        snprintf(err, errlen, "-snapshot: cannot create an overlay for '%s' in %s: %s", path, dir,
                 o->chunks ? strerror(errno) : "out of memory");
        if (o->fd >= 0) {
            close(o->fd);
            unlink(tmpl);
        }
        free(o->chunks);
        free(o);
        return NULL;
    }
    unlink(tmpl); /* gone with the last descriptor, whatever way popek ends */
    o->node.format = "overlay";
    o->node.backing = below;
    o->node.close = overlay_close;
    o->node.dev =
        (BlockDev){o, below->dev.sectors, false, overlay_read, overlay_write, overlay_flush};
    return &o->node;
}
