/*
 * Character backends: stdio, a file, nothing, a pseudo-terminal; sockets
 * are in chardev/socket.c.  Output is written through unbuffered so a
 * guest's last words before a crash or exit are never lost.  Input is read
 * only as fast as the receiver takes it (a UART's FIFO), so nothing is
 * buffered here and nothing grows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"

#define CHARDEV_READ_MAX 4096

/* The peer is gone: stop reading and writing until the next one. */
static void chardev_disconnect(Chardev *c)
{
    if (c->owns_fds && c->in_fd >= 0) {
        close(c->in_fd);
        if (c->out_fd != c->in_fd && c->out_fd >= 0) {
            close(c->out_fd);
        }
    }
    c->in_fd = c->out_fd = -1;
    if (c->event) {
        c->event(c->rx_opaque, CHARDEV_CLOSED);
    }
}

void chardev_write(Chardev *c, const void *data, size_t len)
{
    const uint8_t *buf = data;
    while (len > 0 && c->out_fd >= 0) {
        ssize_t n =
            c->is_socket ? send(c->out_fd, buf, len, MSG_NOSIGNAL) : write(c->out_fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (c->is_socket && n < 0 && errno != EAGAIN) {
                chardev_disconnect(c); /* the client vanished; the next one gets the rest */
            }
            return; /* a closed pipe, a full pty nobody reads: output is dropped */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void backend_write(void *opaque, const uint8_t *buf, int len)
{
    if (len > 0) {
        chardev_write(opaque, buf, (size_t)len);
    }
}

bool chardev_connected(const Chardev *c)
{
    return c->out_fd >= 0;
}

/* pty: a fresh pseudo-terminal in raw mode, its name announced as QEMU does. */
static bool open_pty(Chardev *c, char *err, size_t errlen)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, c->pty_name, sizeof(c->pty_name)) != 0) {
        snprintf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
        if (master >= 0) {
            close(master);
        }
        return false;
    }
    /* Holding the slave open keeps the master from reporting a hang-up
     * while no one has the terminal open (screen, minicom come and go). */
    c->pty_slave_fd = open(c->pty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios tio;
    if (c->pty_slave_fd >= 0 && tcgetattr(c->pty_slave_fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(c->pty_slave_fd, TCSANOW, &tio);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    c->in_fd = c->out_fd = master;
    c->owns_fds = true;
    fprintf(stderr, "char device redirected to %s (label %s)\n", c->pty_name, c->label);
    return true;
}

void chardev_init(Chardev *c)
{
    memset(c, 0, sizeof(*c));
    c->in_fd = c->out_fd = c->listen_fd = c->pty_slave_fd = -1;
    c->backend.opaque = c;
    c->backend.write = backend_write;
}

bool chardev_open_spec(Chardev *c, const ChardevSpec *spec, const char *label, char *err,
                       size_t errlen)
{
    chardev_init(c);
    c->spec = *spec;
    snprintf(c->label, sizeof(c->label), "%s", label);
    switch (spec->kind) {
    case CHARDEV_NULL:
    case CHARDEV_VC: /* no graphical console: what QEMU's vc is without one, a sink */ return true;
    case CHARDEV_STDIO:
        c->in_fd = STDIN_FILENO;
        c->out_fd = STDOUT_FILENO;
        c->is_stdio = true;
        return true;
    case CHARDEV_FILE:
        c->out_fd = open(spec->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->out_fd < 0) {
            snprintf(err, errlen, "cannot open '%s': %s", spec->path, strerror(errno));
            return false;
        }
        c->owns_fds = true;
        return true;
    case CHARDEV_PTY: return open_pty(c, err, errlen);
    case CHARDEV_SOCKET: return chardev_socket_open(c, err, errlen);
    case CHARDEV_REF: break;
    }
    snprintf(err, errlen, "chardev:%s was not resolved", spec->id);
    return false;
}

void chardev_open(Chardev *c, const char *text, const char *what)
{
    ChardevSpec spec;
    char err[512];
    if (!chardev_parse_legacy(text, &spec, err, sizeof(err)) ||
        !chardev_open_spec(c, &spec, what, err, sizeof(err))) {
        fprintf(stderr, "popek: %s: %s\n", what, err);
        exit(1);
    }
}

void chardev_close(Chardev *c)
{
    if (c->owns_fds) {
        if (c->in_fd >= 0) {
            close(c->in_fd);
        }
        if (c->out_fd >= 0 && c->out_fd != c->in_fd) {
            close(c->out_fd);
        }
    }
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        if (c->spec.kind == CHARDEV_SOCKET && c->spec.is_unix && c->spec.server) {
            unlink(c->spec.path);
        }
    }
    if (c->pty_slave_fd >= 0) {
        close(c->pty_slave_fd);
    }
    c->in_fd = c->out_fd = c->listen_fd = c->pty_slave_fd = -1;
    c->owns_fds = false;
}

void chardev_set_receiver(Chardev *c, int (*can_receive)(void *opaque),
                          void (*receive)(void *opaque, const uint8_t *buf, int len),
                          void (*event)(void *opaque, enum ChardevEvent event), void *opaque)
{
    c->can_receive = can_receive;
    c->receive = receive;
    c->event = event;
    c->rx_opaque = opaque;
    if (event && c->out_fd >= 0 && (c->spec.kind != CHARDEV_FILE)) {
        event(opaque, CHARDEV_OPENED);
    }
}

int chardev_pollfds(Chardev *c, struct pollfd *fds, int max)
{
    if (max < 1) {
        return 0;
    }
    if (c->in_fd >= 0 && c->receive) {
        /* Ask for input only when the receiver has room; a hang-up is
         * reported either way. */
        short events = c->can_receive(c->rx_opaque) > 0 ? POLLIN : 0;
        fds[0] = (struct pollfd){c->in_fd, events, 0};
        return 1;
    }
    if (c->listen_fd >= 0 && c->in_fd < 0) {
        fds[0] = (struct pollfd){c->listen_fd, POLLIN, 0};
        return 1;
    }
    return 0;
}

static void chardev_read(Chardev *c)
{
    int room = c->can_receive(c->rx_opaque);
    if (room <= 0) {
        return;
    }
    uint8_t buf[CHARDEV_READ_MAX];
    ssize_t n = read(c->in_fd, buf, room < CHARDEV_READ_MAX ? (size_t)room : sizeof(buf));
    if (n > 0) {
        c->receive(c->rx_opaque, buf, (int)n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        if (c->is_stdio) {
            c->in_fd = -1; /* end of input: stop reading it, output goes on */
        } else {
            chardev_disconnect(c);
        }
    }
}

void chardev_service(Chardev *c, const struct pollfd *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents) {
            continue;
        }
        if (fds[i].fd == c->listen_fd && c->in_fd < 0) {
            chardev_socket_accept(c);
        } else if (fds[i].fd == c->in_fd && c->receive) {
            if (fds[i].revents & POLLIN) {
                chardev_read(c);
            } else if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                if (c->is_stdio) {
                    c->in_fd = -1;
                } else {
                    chardev_disconnect(c);
                }
            }
        }
    }
}
