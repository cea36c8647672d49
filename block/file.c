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

/* Whole-file open file description lock: exclusive for writers, shared
 * for readers. */
static bool file_lock(int fd, bool exclusive)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

int block_file_open(const char *path, bool writable, uint64_t *size, char *err, size_t errlen)
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
    if (!file_lock(fd, writable)) {
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
