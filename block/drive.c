/*
 * Raw disk images (see drive.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/drive.h"
#include "block/probe.h"

/* pread/pwrite the whole range, retrying short transfers and EINTR. */
static int io_full(int fd, void *buf, size_t len, uint64_t off, bool write)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -EIO; /* the image shrank under us */
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static bool overlay_has(const Drive *d, uint64_t sector)
{
    return d->present[sector >> 3] & (1u << (sector & 7));
}

static int drive_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    Drive *d = opaque;
    uint8_t *p = buf;
    if (d->overlay_fd < 0) {
        return io_full(d->fd, buf, (size_t)count * BLOCK_SECTOR_SIZE, sector * BLOCK_SECTOR_SIZE,
                       false);
    }
    /* Runs of sectors from the same file, so large reads stay large. */
    while (count > 0) {
        bool in_overlay = overlay_has(d, sector);
        uint32_t run = 1;
        while (run < count && overlay_has(d, sector + run) == in_overlay) {
            run++;
        }
        int r = io_full(in_overlay ? d->overlay_fd : d->fd, p, (size_t)run * BLOCK_SECTOR_SIZE,
                        sector * BLOCK_SECTOR_SIZE, false);
        if (r < 0) {
            return r;
        }
        p += (size_t)run * BLOCK_SECTOR_SIZE;
        sector += run;
        count -= run;
    }
    return 0;
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
    int fd = d->overlay_fd >= 0 ? d->overlay_fd : d->fd;
    int r = io_full(fd, (void *)buf, (size_t)count * BLOCK_SECTOR_SIZE, sector * BLOCK_SECTOR_SIZE,
                    true);
    if (r == 0 && d->overlay_fd >= 0) {
        for (uint32_t i = 0; i < count; i++) {
            d->present[(sector + i) >> 3] |= (uint8_t)(1u << ((sector + i) & 7));
        }
    }
    return r;
}

/* The overlay is thrown away at exit: only the image needs syncing. */
static int drive_flush(void *opaque)
{
    Drive *d = opaque;
    if (d->overlay_fd >= 0 || d->blk.read_only) {
        return 0;
    }
    return fdatasync(d->fd) < 0 ? -errno : 0;
}

/* Whole-file open file description lock: exclusive for writers, shared
 * for readers. */
static bool drive_lock(int fd, bool exclusive)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

static bool drive_make_overlay(Drive *d, char *err, size_t errlen, const char *path)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/popek-snapshot-XXXXXX", dir && dir[0] ? dir : "/var/tmp");
    d->overlay_fd = mkstemp(tmpl);
    if (d->overlay_fd < 0) {
        snprintf(err, errlen, "-snapshot: cannot create an overlay for '%s' in %s: %s", path,
                 dir && dir[0] ? dir : "/var/tmp", strerror(errno));
        return false;
    }
    unlink(tmpl); /* gone with the last descriptor, whatever way popek ends */
    d->present = calloc((size_t)((d->blk.sectors + 7) / 8), 1);
    if (!d->present) {
        snprintf(err, errlen, "-snapshot: out of memory for '%s'", path);
        return false;
    }
    return true;
}

bool drive_open(Drive *d, const char *path, bool read_only, bool snapshot, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->overlay_fd = -1;
    bool writable = !read_only && !snapshot;
    d->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (d->fd < 0) {
        snprintf(err, errlen, "'%s': %s%s", path, strerror(errno),
                 errno == EACCES && writable ? " (readonly=on or -snapshot avoid writing it)" : "");
        return false;
    }
    struct stat st;
    off_t size = lseek(d->fd, 0, SEEK_END);
    if (fstat(d->fd, &st) != 0 || S_ISDIR(st.st_mode) || size < 0) {
        snprintf(err, errlen, "'%s': not a disk image file", path);
        drive_close(d);
        return false;
    }
    if (size == 0 || size % BLOCK_SECTOR_SIZE != 0) {
        snprintf(err, errlen, "'%s': size %lld bytes is not a positive multiple of 512", path,
                 (long long)size);
        drive_close(d);
        return false;
    }
    if (!drive_lock(d->fd, writable)) {
        snprintf(err, errlen,
                 "'%s': in use by another process (is another popek running "
                 "with it?)",
                 path);
        drive_close(d);
        return false;
    }
    d->blk.opaque = d;
    d->blk.sectors = (uint64_t)size / BLOCK_SECTOR_SIZE;
    d->blk.read_only = read_only;
    d->blk.read = drive_read;
    d->blk.write = drive_write;
    d->blk.flush = drive_flush;
    if (snapshot && !read_only && !drive_make_overlay(d, err, errlen, path)) {
        drive_close(d);
        return false;
    }
    return true;
}

void drive_close(Drive *d)
{
    if (d->fd >= 0) {
        close(d->fd);
    }
    if (d->overlay_fd >= 0) {
        close(d->overlay_fd);
    }
    free(d->present);
    d->fd = d->overlay_fd = -1;
    d->present = NULL;
}
