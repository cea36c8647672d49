/*
 * The socket backend: TCP or a unix socket, as a server (one client at a
 * time, as QEMU's; the next may come when it leaves) or a client connected
 * at startup.  A server with no address listens on loopback only: a guest
 * console or a monitor open to the network is not something to get by
 * omission.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/chardev.h"

/* "tcp:127.0.0.1:4444,server" / "unix:/tmp/s,server", for messages. */
static void describe(const Chardev *c, char *buf, size_t len)
{
    const ChardevSpec *s = &c->spec;
    if (s->is_unix) {
        snprintf(buf, len, "unix:%s%s", s->path, s->server ? ",server=on" : "");
    } else {
        snprintf(buf, len, "tcp:%s:%s%s", s->host[0] ? s->host : "127.0.0.1", s->port,
                 s->server ? ",server=on" : "");
    }
}

static int unix_socket(const ChardevSpec *s, bool server, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(s->path) >= sizeof(addr.sun_path)) {
        snprintf(err, errlen, "unix socket path '%s' is too long", s->path);
        return -1;
    }
    strcpy(addr.sun_path, s->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (server) {
        unlink(s->path); /* a socket left behind by an earlier run */
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(fd, 1) == 0) {
            return fd;
        }
        snprintf(err, errlen, "cannot listen on '%s': %s", s->path, strerror(errno));
    } else {
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            return fd;
        }
        snprintf(err, errlen, "cannot connect to '%s': %s", s->path, strerror(errno));
    }
    close(fd);
    return -1;
}

static int tcp_socket(const ChardevSpec *s, bool server, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    const char *host = s->host[0] ? s->host : server ? "127.0.0.1" : "localhost";
    int rc = getaddrinfo(host, s->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "address '%s:%s': %s", host, s->port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        bool ok;
        if (server) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0;
        } else {
            ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        }
        if (!ok) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot %s %s:%s: %s", server ? "listen on" : "connect to", host,
                 s->port, strerror(saved));
    }
    return fd;
}

/* A connected socket is the peer: both directions, and TCP sends at once
 * (a monitor prompt, a typed key: small writes that must not wait). */
static void take_peer(Chardev *c, int fd)
{
    if (!c->spec.is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c->in_fd = c->out_fd = fd;
    c->owns_fds = true;
    c->is_socket = true;
}

bool chardev_socket_accept(Chardev *c)
{
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    take_peer(c, fd);
    if (c->event) {
        c->event(c->rx_opaque, CHARDEV_OPENED);
    }
    return true;
}

bool chardev_socket_open(Chardev *c, char *err, size_t errlen)
{
    const ChardevSpec *s = &c->spec;
    int fd =
        s->is_unix ? unix_socket(s, s->server, err, errlen) : tcp_socket(s, s->server, err, errlen);
    if (fd < 0) {
        return false;
    }
    c->is_socket = true;
    if (!s->server) {
        take_peer(c, fd);
        return true;
    }
    c->listen_fd = fd;
    if (s->wait) {
        char where[4400];
        describe(c, where, sizeof(where));
        fprintf(stderr, "popek: %s: waiting for connection on: %s\n", c->label, where);
        while (!chardev_socket_accept(c)) {
            if (errno != EINTR) {
                snprintf(err, errlen, "accept: %s", strerror(errno));
                return false;
            }
        }
    }
    return true;
}
