/*
 * -netdev socket (net/socket.h), QEMU's framing on the wire:
 *
 *  - TCP carries each frame after its length as a 4-byte big-endian word.
 *    A peer is not trusted: a length of 0 or above NET_MAX_FRAME is
 *    garbage, counted and skipped (its bytes are read and thrown away, so
 *    the framing holds), and so is a frame cut short by a disconnect.
 *    Reading stops while a frame waits for the NIC, so a busy guest slows
 *    its peer through TCP instead of losing frames.  When the peer leaves,
 *    the link goes down; a listener then takes the next peer.
 *  - Multicast UDP carries one frame per datagram.  The group is looped
 *    back so VMs on one host share it.  We send from a socket of our own,
 *    whose address tells our frames apart when the loop brings them back
 *    (QEMU hands them to its guest again).  With a loopback localaddr the
 *    TTL is 0, so nothing leaves the host even by a wrong route.
 *
 * Everything is non-blocking and served from the frontend's poll; only
 * connect= waits at startup, so an absent peer is an error before the
 * machine runs.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/socket.h"

#define SOCKET_CONNECT_TIMEOUT_MS 5000
/* Frames read per round of the poll loop at most, so a flood from the
 * peer cannot starve the CPU. */
#define SOCKET_READ_BURST 64
#define LEN_WORD          4

enum SocketKind { SOCKET_LISTEN, SOCKET_CONNECT, SOCKET_MCAST };

typedef struct NetSocket {
    Netdev *nd;
    enum SocketKind kind;
    int listen_fd;           /* listen=, else -1 */
    int fd;                  /* the TCP peer or the multicast receiver; -1: no peer */
    int mcast_tx_fd;         /* mcast=: the sender, else -1 */
    struct sockaddr_in addr; /* the listening address, the peer connected to, or the group */
    struct sockaddr_in self; /* mcast=: the source of our own datagrams */
    struct sockaddr_in peer; /* listen=: who connected */
    uint16_t local_port;
    int listen_idx; /* poll set indices of this round, -1: not polled */
    int fd_idx;
    /* TCP in: the length word, then the frame into rx */
    uint8_t len_word[LEN_WORD];
    size_t len_got; /* 0: between frames */
    uint32_t frame_len;
    uint32_t frame_got;
    uint8_t *rx; /* NET_MAX_FRAME bytes */
    /* TCP out: one framed frame, partly written */
    uint8_t *tx;   /* LEN_WORD + NET_MAX_FRAME bytes, NULL for mcast= */
    size_t tx_len; /* 0: nothing pending */
    size_t tx_sent;
} NetSocket;

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* ---- TCP ---- */

static void stream_disconnect(NetSocket *s)
{
    if (s->len_got) {
        netdev_count_garbage(s->nd); /* a frame cut short */
    }
    close_fd(&s->fd);
    s->len_got = 0;
    s->tx_len = s->tx_sent = 0;
    netdev_set_carrier(s->nd, false);
}

/* A would-block or interrupted call is no reason to give up the peer. */
static bool transient(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void stream_read(NetSocket *s)
{
    int frames = 0;
    while (s->fd >= 0 && frames < SOCKET_READ_BURST && netdev_can_send(s->nd)) {
        ssize_t n;
        if (s->len_got < LEN_WORD) {
            n = recv(s->fd, s->len_word + s->len_got, LEN_WORD - s->len_got, 0);
            if (n > 0) {
                s->len_got += (size_t)n;
                if (s->len_got == LEN_WORD) {
                    s->frame_len = ((uint32_t)s->len_word[0] << 24) |
                                   ((uint32_t)s->len_word[1] << 16) |
                                   ((uint32_t)s->len_word[2] << 8) | s->len_word[3];
                    s->frame_got = 0;
                    if (s->frame_len == 0) {
                        netdev_count_garbage(s->nd);
                        s->len_got = 0;
                    }
                }
                continue;
            }
        } else {
            /* An oversized frame goes through rx piece by piece, unused. */
            bool oversized = s->frame_len > NET_MAX_FRAME;
            size_t want = s->frame_len - s->frame_got;
            if (oversized && want > NET_MAX_FRAME) {
                want = NET_MAX_FRAME;
            }
            n = recv(s->fd, oversized ? s->rx : s->rx + s->frame_got, want, 0);
            if (n > 0) {
                s->frame_got += (uint32_t)n;
                if (s->frame_got == s->frame_len) {
                    s->len_got = 0;
                    frames++;
                    if (oversized) {
                        netdev_count_garbage(s->nd);
                    } else {
                        netdev_send(s->nd, s->rx, s->frame_len);
                    }
                }
                continue;
            }
        }
        if (n < 0 && transient()) {
            return;
        }
        stream_disconnect(s); /* end of stream, or the connection failed */
    }
}

/* Write what is left of the pending frame; true when it is all out. */
static bool stream_write(NetSocket *s)
{
    while (s->tx_sent < s->tx_len) {
        ssize_t n =
            send(s->fd, s->tx + s->tx_sent, s->tx_len - s->tx_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            s->tx_sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && transient()) {
            return false;
        } else {
            stream_disconnect(s);
            return false;
        }
    }
    s->tx_len = s->tx_sent = 0;
    return true;
}

static void stream_accept(NetSocket *s)
{
    socklen_t len = sizeof(s->peer);
    int fd = accept4(s->listen_fd, (struct sockaddr *)&s->peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->fd = fd;
    s->len_got = 0;
    netdev_set_carrier(s->nd, true);
}

/* ---- multicast ---- */

static void mcast_read(NetSocket *s)
{
    int frames = 0;
    while (frames < SOCKET_READ_BURST && netdev_can_send(s->nd)) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof(from);
        /* MSG_TRUNC: the datagram's real length, even past the buffer. */
        ssize_t n =
            recvfrom(s->fd, s->rx, NET_MAX_FRAME, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            return;
        }
        frames++;
        if (from.sin_addr.s_addr == s->self.sin_addr.s_addr && from.sin_port == s->self.sin_port) {
            continue; /* our own frame, looped back */
        }
        if (n == 0 || n > NET_MAX_FRAME) {
            netdev_count_garbage(s->nd);
            continue;
        }
        netdev_send(s->nd, s->rx, (size_t)n);
    }
}

/* ---- the netdev ---- */

static bool socket_can_receive(void *opaque)
{
    NetSocket *s = opaque;
    return s->tx_len == 0;
}

static void socket_receive(void *opaque, const uint8_t *frame, size_t len)
{
    NetSocket *s = opaque;
    if (s->kind == SOCKET_MCAST) {
        /* A datagram the host cannot take now is lost, as on a wire. */
        send(s->mcast_tx_fd, frame, len, MSG_DONTWAIT);
        return;
    }
    if (s->fd < 0) {
        return;
    }
    s->tx[0] = (uint8_t)(len >> 24);
    s->tx[1] = (uint8_t)(len >> 16);
    s->tx[2] = (uint8_t)(len >> 8);
    s->tx[3] = (uint8_t)len;
    memcpy(s->tx + LEN_WORD, frame, len);
    s->tx_len = LEN_WORD + len;
    s->tx_sent = 0;
    stream_write(s);
}

static void socket_poll_fill(void *opaque, NetPollSet *set, int *timeout_ms)
{
    NetSocket *s = opaque;
    s->listen_idx = s->fd_idx = -1;
    if (s->fd < 0 && s->listen_fd >= 0) {
        s->listen_idx = net_pollset_add(set, s->listen_fd, POLLIN);
    }
    if (s->fd >= 0) {
        short events = (netdev_can_send(s->nd) ? POLLIN : 0) | (s->tx_len ? POLLOUT : 0);
        if (s->kind != SOCKET_MCAST) {
            /* A peer that leaves is noticed even while reading waits for the card. */
            events |= POLLRDHUP;
        }
        if (events) {
            s->fd_idx = net_pollset_add(set, s->fd, events);
        }
    }
}

static void socket_poll_service(void *opaque, const NetPollSet *set, bool poll_failed)
{
    NetSocket *s = opaque;
    if (poll_failed) {
        return;
    }
    if (s->listen_idx >= 0 && set->fds[s->listen_idx].revents) {
        stream_accept(s);
        return;
    }
    if (s->fd_idx < 0 || s->fd < 0) {
        return;
    }
    short revents = set->fds[s->fd_idx].revents;
    if ((revents & POLLOUT) && stream_write(s)) {
        netdev_flush(s->nd);
    }
    if (s->fd >= 0 && (revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP))) {
        if (s->kind == SOCKET_MCAST) {
            mcast_read(s);
        } else if (!(revents & POLLIN)) {
            stream_disconnect(s); /* gone while a frame waited for the card: it goes too */
        } else {
            stream_read(s);
        }
    }
}

static void socket_info(void *opaque, char *buf, size_t len)
{
    NetSocket *s = opaque;
    const struct sockaddr_in *a = &s->addr;
    char ip[INET_ADDRSTRLEN];
    if (s->kind == SOCKET_LISTEN && s->fd >= 0) {
        a = &s->peer;
    }
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    int port = ntohs(a->sin_port);
    switch (s->kind) {
    case SOCKET_LISTEN:
        if (s->fd >= 0) {
            snprintf(buf, len, "socket: connection from %s:%d", ip, port);
        } else {
            snprintf(buf, len, "socket: listen=%s:%d, waiting for a peer", ip, port);
        }
        break;
    case SOCKET_CONNECT:
        snprintf(buf, len, "socket: connect to %s:%d%s", ip, port, s->fd >= 0 ? "" : ", peer gone");
        break;
    case SOCKET_MCAST: snprintf(buf, len, "socket: mcast=%s:%d", ip, port); break;
    }
}

static void socket_free(void *opaque)
{
    NetSocket *s = opaque;
    close_fd(&s->fd);
    close_fd(&s->listen_fd);
    close_fd(&s->mcast_tx_fd);
    free(s->rx);
    free(s->tx);
    free(s);
}

static const NetdevOps socket_ops = {
    .type = "socket",
    .receive = socket_receive,
    .can_receive = socket_can_receive,
    .poll_fill = socket_poll_fill,
    .poll_service = socket_poll_service,
    .info = socket_info,
    .free = socket_free,
};

uint16_t net_socket_local_port(const Netdev *nd)
{
    NetSocket *s = netdev_backend(nd, &socket_ops);
    return s ? s->local_port : 0;
}

/* ---- opening ---- */

/* HOST:PORT into addr; false with the reason in err.  An empty HOST is
 * 127.0.0.1 (QEMU: any address), so listen=:PORT stays on this machine
 * unless the user names 0.0.0.0 (docs/security.md).  Names resolve through
 * the system (/etc/hosts first). */
static bool parse_host_port(const char *text, struct sockaddr_in *addr, char *err, size_t errlen)
{
    const char *colon = strrchr(text, ':');
    char host[256];
    char *end;
    *addr = (struct sockaddr_in){.sin_family = AF_INET};
    if (!colon || (size_t)(colon - text) >= sizeof(host)) {
        snprintf(err, errlen, "bad address '%s' (want HOST:PORT)", text);
        return false;
    }
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "bad port in '%s'", text);
        return false;
    }
    addr->sin_port = htons((uint16_t)port);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (!host[0]) {
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return true;
    }
    if (inet_pton(AF_INET, host, &addr->sin_addr) == 1) {
        return true;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        snprintf(err, errlen, "unknown host '%s'", host);
        return false;
    }
    addr->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : 0;
}

static bool open_listen(NetSocket *s, const char *text, char *err, size_t errlen)
{
    if (!parse_host_port(text, &s->addr, err, errlen)) {
        return false;
    }
    int one = 1;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 ||
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s->listen_fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) != 0 ||
        listen(s->listen_fd, 1) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
        return false;
    }
    s->local_port = bound_port(s->listen_fd);
    s->addr.sin_port = htons(s->local_port);
    return true;
}

static bool open_connect(NetSocket *s, const char *text, char *err, size_t errlen)
{
    if (!parse_host_port(text, &s->addr, err, errlen)) {
        return false;
    }
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", text, strerror(errno));
        return false;
    }
    int rc = connect(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr));
    int error = rc == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
        struct pollfd p = {s->fd, POLLOUT, 0};
        socklen_t len = sizeof(error);
        rc = poll(&p, 1, SOCKET_CONNECT_TIMEOUT_MS);
        if (rc == 0) {
            error = ETIMEDOUT;
        } else if (rc < 0 || getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
            error = errno;
        }
    }
    if (error) {
        snprintf(err, errlen, "cannot connect to %s: %s", text, strerror(error));
        return false;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->local_port = bound_port(s->fd);
    return true;
}

static bool open_mcast(NetSocket *s, const char *text, const char *localaddr, char *err,
                       size_t errlen)
{
    struct in_addr local = {htonl(INADDR_ANY)};
    if (!parse_host_port(text, &s->addr, err, errlen)) {
        return false;
    }
    if (!IN_MULTICAST(ntohl(s->addr.sin_addr.s_addr))) {
        snprintf(err, errlen, "mcast=%s: not a multicast address", text);
        return false;
    }
    if (localaddr && inet_pton(AF_INET, localaddr, &local) != 1) {
        snprintf(err, errlen, "localaddr '%s' is not a valid IPv4 address", localaddr);
        return false;
    }
    /* The receiver: bound to the group's port, which every VM shares. */
    int one = 1;
    struct ip_mreq mreq = {s->addr.sin_addr, local};
    const char *step = "socket";
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 ||
        (step = "SO_REUSEADDR", setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
        (step = "bind", bind(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr))) ||
        (step = "joining the group",
         setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))) {
        snprintf(err, errlen, "mcast=%s: %s: %s", text, step, strerror(errno));
        return false;
    }
    /* The sender: a port of its own, looped back, on localaddr's interface. */
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = local};
    int ttl = localaddr && (ntohl(local.s_addr) >> 24) == IN_LOOPBACKNET ? 0 : 1;
    socklen_t len = sizeof(s->self);
    step = "socket";
    s->mcast_tx_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->mcast_tx_fd < 0 ||
        (step = "bind", bind(s->mcast_tx_fd, (struct sockaddr *)&src, sizeof(src))) ||
        (step = "IP_MULTICAST_LOOP",
         setsockopt(s->mcast_tx_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one))) ||
        (step = "IP_MULTICAST_TTL",
         setsockopt(s->mcast_tx_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl))) ||
        (step = "IP_MULTICAST_IF",
         localaddr &&
             setsockopt(s->mcast_tx_fd, IPPROTO_IP, IP_MULTICAST_IF, &local, sizeof(local))) ||
        (step = "no route to the group",
         connect(s->mcast_tx_fd, (struct sockaddr *)&s->addr, sizeof(s->addr))) ||
        (step = "getsockname", getsockname(s->mcast_tx_fd, (struct sockaddr *)&s->self, &len))) {
        snprintf(err, errlen, "mcast=%s: %s: %s", text, step, strerror(errno));
        return false;
    }
    s->local_port = ntohs(s->self.sin_port);
    return true;
}

Netdev *net_socket_new(Net *net, const char *id, const NetSocketConfig *cfg, char *err,
                       size_t errlen)
{
    int modes = !!cfg->listen + !!cfg->connect + !!cfg->mcast;
    if (modes != 1) {
        snprintf(err, errlen, "exactly one of listen=, connect= or mcast= is required");
        return NULL;
    }
    if (cfg->localaddr && !cfg->mcast) {
        snprintf(err, errlen, "localaddr= is only valid with mcast=");
        return NULL;
    }
    if (net_find(net, id)) {
        snprintf(err, errlen, "Duplicate ID '%s' for netdev", id);
        return NULL;
    }
    NetSocket *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->listen_fd = s->fd = s->mcast_tx_fd = -1;
    s->kind = cfg->listen ? SOCKET_LISTEN : cfg->connect ? SOCKET_CONNECT : SOCKET_MCAST;
    s->rx = malloc(NET_MAX_FRAME);
    s->tx = s->kind == SOCKET_MCAST ? NULL : malloc(LEN_WORD + NET_MAX_FRAME);
    bool ok = s->rx && (s->tx || s->kind == SOCKET_MCAST);
    if (!ok) {
        snprintf(err, errlen, "out of memory");
    } else if (s->kind == SOCKET_LISTEN) {
        ok = open_listen(s, cfg->listen, err, errlen);
    } else if (s->kind == SOCKET_CONNECT) {
        ok = open_connect(s, cfg->connect, err, errlen);
    } else {
        ok = open_mcast(s, cfg->mcast, cfg->localaddr, err, errlen);
    }
    if (ok && !(s->nd = netdev_new(net, id, &socket_ops, s))) {
        snprintf(err, errlen, "out of memory");
        ok = false;
    }
    if (!ok) {
        socket_free(s);
        return NULL;
    }
    if (s->kind == SOCKET_LISTEN) {
        netdev_set_carrier(s->nd, false); /* until a peer connects */
    }
    return s->nd;
}
