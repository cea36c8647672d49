/*
 * Host files under the block layer: opening an image with the lock every
 * format takes, and whole-range pread/pwrite.
 *
 * A writable image is locked against every other opener (an open file
 * description lock, F_OFD_SETLK, so it holds between processes and between
 * two drives of one process); a read-only one (a CD-ROM, readonly=on,
 * -snapshot, a backing file) takes a shared lock, so readers can share an
 * image but never with a writer.
 */
#ifndef BLOCK_FILE_H
#define BLOCK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open and (with lock) lock path; returns the descriptor (close-on-exec)
 * and its size, or -1 with a one-line message naming the file in err.
 * lock false is QEMU's file.locking=off: the caller answers for other
 * openers (an image on a file system without OFD locks, a read-only
 * image another program holds writable). */
int block_file_open(const char *path, bool writable, bool lock, uint64_t *size, char *err,
                    size_t errlen);

/* pread (write false) or pwrite the whole range, retrying short transfers
 * and EINTR.  A read past the end of the file fails with -EIO; 0 or a
 * negative errno. */
int block_file_io(int fd, void *buf, size_t len, uint64_t off, bool write);

/* pread up to len bytes at off; what lies past the end of the file reads
 * as zeros.  0 or a negative errno. */
int block_file_read_zero_tail(int fd, void *buf, size_t len, uint64_t off);

#endif /* BLOCK_FILE_H */
