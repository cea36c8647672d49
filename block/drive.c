/*
 * A drive: an image and its -snapshot overlay behind one BlockDev (see
 * drive.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "block/drive.h"
#include "block/overlay.h"
#include "block/probe.h"

static int drive_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    Drive *d = opaque;
    return d->top->dev.read(d->top->dev.opaque, sector, buf, count);
}

static int drive_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    Drive *d = opaque;
    if (d->blk.read_only) {
        return -EROFS;
    }
    if (d->guard_sector0 && sector == 0 && count > 0 && !block_probe_write_ok(buf)) {
        return -EPERM;
    }
    return d->top->dev.write(d->top->dev.opaque, sector, buf, count);
}

static int drive_flush(void *opaque)
{
    Drive *d = opaque;
    if (d->blk.read_only) {
        return 0;
    }
    return d->top->dev.flush(d->top->dev.opaque);
}

bool drive_open_format(Drive *d, const char *path, const char *format, bool read_only,
                       bool snapshot, bool lock, bool *probed_raw, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    bool writable = !read_only && !snapshot;
    d->image = block_node_open(path, format, !writable, lock, NULL, probed_raw, err, errlen);
    if (!d->image) {
        return false;
    }
    d->top = d->image;
    if (snapshot && !read_only) {
        d->top = overlay_open(d->image, path, err, errlen);
        if (!d->top) {
            block_node_close(d->image);
            d->image = NULL;
            return false;
        }
    }
    d->blk = (BlockDev){d, d->top->dev.sectors, read_only, drive_read, drive_write, drive_flush};
    return true;
}

bool drive_open(Drive *d, const char *path, bool read_only, bool snapshot, char *err, size_t errlen)
{
    return drive_open_format(d, path, "raw", read_only, snapshot, true, NULL, err, errlen);
}

void drive_close(Drive *d)
{
    block_node_close(d->top);
    d->top = d->image = NULL;
}
