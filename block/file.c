/*
 * Host image files: open, lock and whole-range I/O (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/file.h"

/*
 * Image locks in QEMU's layout, so that popek and QEMU (qemu-system-*,
 * qemu-img, qemu-nbd) keep out of each other's images exactly as two
 * QEMUs do.  Each permission bit has two bytes, locked shared by an open
 * file description (F_OFD_*, so a second open of the same file in this
 * process is a separate holder):
 *   LOCK_PERM_BASE + bit    "I hold this permission";
 *   LOCK_SHARED_BASE + bit  "I let nobody else hold it".
 * A holder conflicts with anyone who locks the other byte of a bit it
 * uses.  The bits are QEMU's BLK_PERM_* numbers.
 */
enum { LOCK_PERM_BASE = 100, LOCK_SHARED_BASE = 200 };
enum {
    PERM_CONSISTENT_READ = 0,
    PERM_WRITE = 1,
    PERM_WRITE_UNCHANGED = 2,
    PERM_RESIZE = 3,
    PERM_BITS = 4
};

/* Reader: reads, and lets nobody write or resize under it.  Writer:
 * reads, writes and may grow the file (qcow2), and shares only reading. */
static unsigned lock_held(bool writable)
{
    return 1u << PERM_CONSISTENT_READ |
           (writable ? (1u << PERM_WRITE | 1u << PERM_WRITE_UNCHANGED | 1u << PERM_RESIZE) : 0);
}

static unsigned lock_unshared(void)
{
    return 1u << PERM_WRITE | 1u << PERM_RESIZE;
}

static bool lock_byte(int fd, int cmd, short type, off_t byte, short *seen)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = byte;
    fl.l_len = 1;
    if (fcntl(fd, cmd, &fl) != 0) {
        return false;
    }
    if (seen) {
        *seen = fl.l_type;
    }
    return true;
}

/* Whether another holder locks this byte (a write lock would not be
 * granted). */
static bool lock_byte_taken(int fd, off_t byte)
{
    short seen = F_UNLCK;
    return !lock_byte(fd, F_OFD_GETLK, F_WRLCK, byte, &seen) || seen != F_UNLCK;
}

/* Take our bytes first, then look for a conflict, as QEMU does: two
 * openers racing each see the other's bytes. */
static bool file_lock(int fd, bool writable)
{
    unsigned held = lock_held(writable), unshared = lock_unshared();
    for (int bit = 0; bit < PERM_BITS; bit++) {
        if (((held >> bit) & 1) && !lock_byte(fd, F_OFD_SETLK, F_RDLCK, LOCK_PERM_BASE + bit, NULL)) {
            return false;
        }
        if (((unshared >> bit) & 1) &&
            !lock_byte(fd, F_OFD_SETLK, F_RDLCK, LOCK_SHARED_BASE + bit, NULL)) {
            return false;
        }
    }
    for (int bit = 0; bit < PERM_BITS; bit++) {
        if (((held >> bit) & 1) && lock_byte_taken(fd, LOCK_SHARED_BASE + bit)) {
            return false;
        }
        if (((unshared >> bit) & 1) && lock_byte_taken(fd, LOCK_PERM_BASE + bit)) {
            return false;
        }
    }
    return true;
}

int block_file_open(const char *path, bool writable, bool lock, uint64_t *size, char *err,
                    size_t errlen)
{
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "'%s': %s%s", path, strerror(errno),
                 errno == EACCES && writable ? " (readonly=on or -snapshot avoid writing it)" : "");
        return -1;
    }
    struct stat st;
    off_t end = lseek(fd, 0, SEEK_END);
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode) || end < 0) {
        snprintf(err, errlen, "'%s': not a disk image file", path);
        close(fd);
        return -1;
    }
    if (lock && !file_lock(fd, writable)) {
        snprintf(err, errlen, "'%s': in use by another process (is another popek running with it?)",
                 path);
        close(fd);
        return -1;
    }
    *size = (uint64_t)end;
    return fd;
}

int block_file_io(int fd, void *buf, size_t len, uint64_t off, bool write)
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

int block_file_read_zero_tail(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}
