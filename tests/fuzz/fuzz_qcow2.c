/*
 * libFuzzer harness: the qcow2 parser and everything that trusts what it
 * read.  The input is the image file, put in a memfd and opened for
 * writing: header, extensions, feature names, L1 and refcount tables,
 * snapshot table, a dirty image's refcount rebuild.  An image that opens
 * is then read (the start of the disk and a few sectors the input picks),
 * written (allocations, copy-on-write, refcount blocks and table growth),
 * flushed, and given a snapshot that is listed, loaded and deleted.
 *
 * Nothing may crash, trip a sanitizer, or read outside the file: the
 * checks under test are the bounds every offset from the file meets.  The
 * harness never lets an image name a host file: absolute backing file
 * names are cleared, and relative ones resolve under a directory that
 * does not exist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "block/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Reads and writes at sectors the input's tail picks. */
static void exercise(BlockNode *n, const uint8_t *data, size_t size)
{
    BlockDev *b = &n->dev;
    uint8_t *buf = calloc(64, 512);
    if (!buf || b->sectors == 0) {
        free(buf);
        return;
    }
    for (uint64_t s = 0; s < b->sectors && s < 256; s += 64) {
        uint32_t k = b->sectors - s < 64 ? (uint32_t)(b->sectors - s) : 64;
        b->read(b->opaque, s, buf, k);
    }
    for (int i = 0; i < 6 && size >= 16; i++) {
        uint64_t pick = be64(data + size - 8 - (size_t)i % (size - 8)) >> (i * 3);
        uint64_t sector = pick % b->sectors;
        uint32_t k = (uint32_t)(1 + (pick >> 40) % 64);
        if (sector + k > b->sectors) {
            k = (uint32_t)(b->sectors - sector);
        }
        memset(buf, 0xa0 + i, (size_t)k * 512);
        if (i & 1) {
            b->write(b->opaque, sector, buf, k);
        } else {
            b->read(b->opaque, sector, buf, k);
        }
    }
    b->flush(b->opaque);
    free(buf);
}

static void snapshots(BlockNode *n)
{
    Drive d;
    memset(&d, 0, sizeof(d));
    d.top = d.image = n;
    d.blk = n->dev;
    char err[512];
    BlockSnapshotInfo *list = NULL;
    int count = block_snapshot_list(&d, &list, err, sizeof(err));
    if (count > 0) {
        void *state;
        size_t len;
        if (block_snapshot_load(&d, list[0].id, &state, &len, NULL, err, sizeof(err))) {
            free(state);
        }
    }
    free(list);
    static const char blob[] = "fuzz vm state";
    if (block_snapshot_create(&d, "fuzz", blob, sizeof(blob), 1, err, sizeof(err))) {
        void *state;
        size_t len;
        if (block_snapshot_load(&d, "fuzz", &state, &len, NULL, err, sizeof(err))) {
            free(state);
        }
        block_snapshot_delete(&d, "fuzz", err, sizeof(err));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    uint8_t *img = malloc(size ? size : 1);
    memcpy(img, data, size);
    if (size >= 20) {
        uint64_t off = be64(img + 8);
        if (off > 0 && off < size && img[off] == '/') {
            memset(img + 8, 0, 8); /* no host files */
        }
    }
    if (write(fd, img, size) != (ssize_t)size) {
        free(img);
        close(fd);
        return 0;
    }
    free(img);
    char err[512];
    BlockNode *n =
        qcow2_open_fd(fd, "/nonexistent-popek-fuzz/image.qcow2", false, NULL, err, sizeof(err));
    if (!n) {
        close(fd);
        return 0;
    }
    exercise(n, data, size);
    snapshots(n);
    block_node_close(n); /* closes fd */
    return 0;
}
