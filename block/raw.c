/*
 * Raw disk images (see raw.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/file.h"
#include "block/raw.h"

typedef struct RawImage {
    BlockNode node; /* first: the node is the image */
    int fd;         /* the locked image file */
} RawImage;

static int raw_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    RawImage *r = opaque;
    return block_file_io(r->fd, buf, (size_t)count * BLOCK_SECTOR_SIZE, sector * BLOCK_SECTOR_SIZE,
                         false);
}

static int raw_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    RawImage *r = opaque;
    if (r->node.dev.read_only) {
        return -EROFS;
    }
    return block_file_io(r->fd, (void *)buf, (size_t)count * BLOCK_SECTOR_SIZE,
                         sector * BLOCK_SECTOR_SIZE, true);
}

static int raw_flush(void *opaque)
{
    RawImage *r = opaque;
    if (r->node.dev.read_only) {
        return 0;
    }
    return fdatasync(r->fd) < 0 ? -errno : 0;
}

static void raw_close(BlockNode *node)
{
    RawImage *r = (RawImage *)node;
    close(r->fd);
    free(r);
}

BlockNode *raw_open(const char *path, bool read_only, bool lock, char *err, size_t errlen)
{
    uint64_t size;
    int fd = block_file_open(path, !read_only, lock, &size, err, errlen);
    if (fd < 0) {
        return NULL;
    }
    if (size == 0 || size % BLOCK_SECTOR_SIZE != 0) {
        snprintf(err, errlen, "'%s': size %llu bytes is not a positive multiple of 512", path,
                 (unsigned long long)size);
        close(fd);
        return NULL;
    }
    RawImage *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "'%s': out of memory", path);
        close(fd);
        return NULL;
    }
    r->fd = fd;
    r->node.format = "raw";
    r->node.close = raw_close;
    r->node.dev =
        (BlockDev){r, size / BLOCK_SECTOR_SIZE, read_only, raw_read, raw_write, raw_flush};
    return &r->node;
}
