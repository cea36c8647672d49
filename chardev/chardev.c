/*
 * Character backends for the serial port and the debug console: stdio, a
 * file, or nothing.  Output is written through unbuffered so a guest's last
 * words before a crash or exit are never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chardev/chardev.h"

static void fd_write(void *opaque, const uint8_t *buf, int len)
{
    Chardev *c = opaque;
    while (len > 0) {
        ssize_t n = write(c->fd, buf, (size_t)len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; /* a closed pipe: the guest keeps running, output is dropped */
        }
        buf += n;
        len -= (int)n;
    }
}

static void null_write(void *opaque, const uint8_t *buf, int len)
{
}

void chardev_open(Chardev *c, const char *spec, const char *what)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->backend.opaque = c;
    if (!spec || !strcmp(spec, "null")) {
        c->backend.write = null_write;
    } else if (!strcmp(spec, "stdio")) {
        c->fd = STDOUT_FILENO;
        c->is_stdio = true;
        c->backend.write = fd_write;
    } else {
        const char *path = spec + 5; /* "file:" checked by the option parser */
        c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->fd < 0) {
            fprintf(stderr, "popek: %s: cannot open '%s': %s\n", what, path, strerror(errno));
            exit(1);
        }
        c->owns_fd = true;
        c->backend.write = fd_write;
    }
}

void chardev_close(Chardev *c)
{
    if (c->owns_fd && c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
}
