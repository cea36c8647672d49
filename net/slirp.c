/*
 * -netdev user through libslirp, which does all of the TCP/IP: ARP, DHCP,
 * DNS forwarding, TFTP, NAT of the guest's connections onto host sockets,
 * and the host forwarding rules.  What is left here is the glue to popek's
 * single poll loop:
 *
 *  - slirp_pollfds_fill() names the sockets to wait on and shortens the
 *    poll timeout for its TCP timers; slirp_pollfds_poll() serves them and
 *    runs those timers, so both run every round of the loop, idle or not.
 *  - Its other timers (the IPv6 router advertisements) come through
 *    timer_new_opaque and run here when due; their deadlines bound the
 *    poll timeout too, so nothing is polled busily and nothing is late.
 *  - Time is the host's monotonic clock, not guest time: the guest's
 *    peers on the host side live in real time, paused guest or not.
 *  - There are no threads, so notify (wake the I/O thread) has nothing to
 *    do: the loop fills the poll set afresh each round anyway.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <slirp/libslirp.h>

#include "net/slirp.h"

/* libslirp 4.7 (Debian 12) knows config versions 1-4; 4 brings
 * timer_new_opaque and init_completed. */
#define SLIRP_CONFIG_VERSION 4
/* Expired timers run per round at most, should one keep re-arming in the past. */
#define SLIRP_TIMER_BURST 16

typedef struct NetSlirpTimer {
    struct NetSlirpTimer *next;
    SlirpTimerId id;
    void *cb_opaque;
    bool armed;
    int64_t expire_ms; /* on the host monotonic clock */
} NetSlirpTimer;

typedef struct NetSlirp {
    Netdev *nd; /* NULL while being opened */
    Slirp *slirp;
    NetSlirpTimer *timers;
    struct in_addr network; /* for info network */
    bool restricted;
} NetSlirp;

static int64_t host_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- libslirp's callbacks ---- */

static ssize_t cb_send_packet(const void *pkt, size_t len, void *opaque)
{
    NetSlirp *s = opaque;
    if (s->nd) {
        netdev_send(s->nd, pkt, len);
    }
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    /* Malformed guest packets: libslirp drops them; a guest must not be
     * able to fill the host's terminal. */
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return host_clock_ns();
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
    /* Before slirp_new returns: the RA timer is made during it. */
    ((NetSlirp *)opaque)->slirp = slirp;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    NetSlirp *s = opaque;
    NetSlirpTimer *t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    t->id = id;
    t->cb_opaque = cb_opaque;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    NetSlirp *s = opaque;
    for (NetSlirpTimer **p = &s->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    NetSlirpTimer *t = timer;
    if (t) {
        t->armed = true;
        t->expire_ms = expire_ms;
    }
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    /* For Windows event selection; poll() needs nothing. */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
    /* No I/O thread to wake: the loop polls every socket each round. */
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .init_completed = cb_init_completed,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the poll loop ---- */

static int cb_add_poll(int fd, int events, void *opaque)
{
    short ev = 0;
    ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    return net_pollset_add(opaque, fd, ev);
}

static int cb_get_revents(int idx, void *opaque)
{
    const NetPollSet *set = opaque;
    if (idx < 0 || idx >= set->n) {
        return 0;
    }
    short rev = set->fds[idx].revents;
    return ((rev & POLLIN) ? SLIRP_POLL_IN : 0) | ((rev & POLLOUT) ? SLIRP_POLL_OUT : 0) |
           ((rev & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((rev & POLLERR) ? SLIRP_POLL_ERR : 0) |
           ((rev & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static void slirp_poll_fill(void *opaque, NetPollSet *set, int *timeout_ms)
{
    NetSlirp *s = opaque;
    uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, set);
    int64_t now_ms = host_clock_ns() / 1000000;
    for (NetSlirpTimer *t = s->timers; t; t = t->next) {
        if (t->armed) {
            int64_t left = t->expire_ms > now_ms ? t->expire_ms - now_ms : 0;
            timeout = (uint64_t)left < timeout ? (uint32_t)left : timeout;
        }
    }
    *timeout_ms = timeout == UINT32_MAX ? -1 : timeout > INT_MAX ? INT_MAX : (int)timeout;
}

static void slirp_poll_service(void *opaque, const NetPollSet *set, bool poll_failed)
{
    NetSlirp *s = opaque;
    slirp_pollfds_poll(s->slirp, poll_failed, cb_get_revents, (void *)set);
    int64_t now_ms = host_clock_ns() / 1000000;
    /* A handler may free or re-arm timers: look again after each one. */
    for (int fired = 0; fired < SLIRP_TIMER_BURST; fired++) {
        NetSlirpTimer *t = s->timers;
        while (t && !(t->armed && t->expire_ms <= now_ms)) {
            t = t->next;
        }
        if (!t) {
            break;
        }
        t->armed = false;
        slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
    }
}

/* ---- the netdev ---- */

static void slirp_receive(void *opaque, const uint8_t *frame, size_t len)
{
    NetSlirp *s = opaque;
    slirp_input(s->slirp, frame, (int)len);
}

static void slirp_info(void *opaque, char *buf, size_t len)
{
    NetSlirp *s = opaque;
    snprintf(buf, len, "net=%s,restrict=%s", inet_ntoa(s->network), s->restricted ? "on" : "off");
}

static void slirp_free(void *opaque)
{
    NetSlirp *s = opaque;
    if (s->slirp) {
        slirp_cleanup(s->slirp);
    }
    while (s->timers) {
        NetSlirpTimer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    free(s);
}

static const NetdevOps slirp_ops = {
    .type = "user",
    .receive = slirp_receive,
    .poll_fill = slirp_poll_fill,
    .poll_service = slirp_poll_service,
    .info = slirp_info,
    .free = slirp_free,
};

/* ---- forwarding rules ---- */

/* Cut the text before sep off *p into buf (at most size - 1 bytes); false
 * if there is no sep. */
static bool take_field(char *buf, size_t size, const char **p, char sep)
{
    const char *end = strchr(*p, sep);
    if (!end) {
        return false;
    }
    size_t n = (size_t)(end - *p) < size - 1 ? (size_t)(end - *p) : size - 1;
    memcpy(buf, *p, n);
    buf[n] = '\0';
    *p = end + 1;
    return true;
}

static bool parse_port(const char *text, int min, int *port)
{
    char *end;
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    long v = strtol(text, &end, 10);
    if (*end || v < min || v > 65535) {
        return false;
    }
    *port = (int)v;
    return true;
}

/* "" and "tcp" are TCP, "udp" UDP. */
static bool parse_proto(const char *text, bool *udp)
{
    *udp = !strcmp(text, "udp");
    return *udp || !text[0] || !strcmp(text, "tcp");
}

typedef struct HostFwd {
    bool udp;
    struct sockaddr_in host;  /* no address given: loopback only (docs/security.md) */
    struct sockaddr_in guest; /* address 0: the first DHCP address */
} HostFwd;

/* [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT; NULL, or why not (QEMU's reasons). */
static const char *hostfwd_parse(const char *rule, HostFwd *fwd)
{
    char buf[256];
    const char *p = rule;
    int port;
    *fwd = (HostFwd){false, {.sin_family = AF_INET}, {.sin_family = AF_INET}};
    if (!take_field(buf, sizeof(buf), &p, ':')) {
        return "No : separators";
    }
    if (!parse_proto(buf, &fwd->udp)) {
        return "Bad protocol name";
    }
    if (!take_field(buf, sizeof(buf), &p, ':')) {
        return "Missing : separator";
    }
    if (buf[0] && !inet_aton(buf, &fwd->host.sin_addr)) {
        return "Bad host address";
    }
    if (!buf[0]) {
        /* Unlike QEMU (all addresses): a port open to the network is
         * something the user asks for by naming 0.0.0.0. */
        fwd->host.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (!take_field(buf, sizeof(buf), &p, '-')) {
        return "Bad host port separator";
    }
    if (!parse_port(buf, 0, &port)) {
        return "Bad host port";
    }
    fwd->host.sin_port = htons((uint16_t)port);
    if (!take_field(buf, sizeof(buf), &p, ':')) {
        return "Missing guest address";
    }
    if (buf[0] && !inet_aton(buf, &fwd->guest.sin_addr)) {
        return "Bad guest address";
    }
    if (!parse_port(p, 1, &port)) {
        return "Bad guest port";
    }
    fwd->guest.sin_port = htons((uint16_t)port);
    return NULL;
}

bool net_slirp_hostfwd_check(const char *rule, char *err, size_t errlen)
{
    HostFwd fwd;
    const char *why = hostfwd_parse(rule, &fwd);
    if (why) {
        snprintf(err, errlen, "Invalid host forwarding rule '%s' (%s)", rule, why);
    }
    return why == NULL;
}

static bool hostfwd_add(NetSlirp *s, const char *rule, char *err, size_t errlen)
{
    HostFwd fwd;
    if (!net_slirp_hostfwd_check(rule, err, errlen)) {
        return false;
    }
    hostfwd_parse(rule, &fwd);
    errno = 0;
    if (slirp_add_hostxfwd(s->slirp, (struct sockaddr *)&fwd.host, sizeof(fwd.host),
                           (struct sockaddr *)&fwd.guest, sizeof(fwd.guest),
                           fwd.udp ? SLIRP_HOSTFWD_UDP : 0) < 0) {
        /* libslirp keeps bind()'s errno: say why, e.g. the port is taken. */
        int e = errno;
        snprintf(err, errlen, "Could not set up host forwarding rule '%s'%s%s", rule, e ? ": " : "",
                 e ? strerror(e) : "");
        return false;
    }
    return true;
}

/* [tcp]:[SERVER]:PORT-cmd:COMMAND: libslirp runs COMMAND for each
 * connection the guest makes to SERVER:PORT.  QEMU's other target, a
 * character device, needs chardevs with input, which popek lacks. */
static bool guestfwd_add(NetSlirp *s, const char *rule, char *err, size_t errlen)
{
    char buf[128];
    const char *p = rule;
    struct in_addr server = {0};
    bool udp;
    int port;
    if (!take_field(buf, sizeof(buf), &p, ':') || !parse_proto(buf, &udp) || udp ||
        !take_field(buf, sizeof(buf), &p, ':') || (buf[0] && !inet_aton(buf, &server)) ||
        !take_field(buf, sizeof(buf), &p, '-') || !parse_port(buf, 1, &port)) {
        snprintf(err, errlen, "Invalid guest forwarding rule '%s'", rule);
        return false;
    }
    if (strncmp(p, "cmd:", 4) != 0 || !p[4]) {
        snprintf(err, errlen, "guest forwarding rule '%s': only cmd:COMMAND is supported", rule);
        return false;
    }
    if (slirp_add_exec(s->slirp, p + 4, &server, port) < 0) {
        snprintf(err, errlen, "Conflicting/invalid host:port in guest forwarding rule '%s'", rule);
        return false;
    }
    return true;
}

/* ---- opening ---- */

/* The mask QEMU gives a network written without one: by its class. */
static uint32_t default_mask(uint32_t addr)
{
    if (!(addr & 0x80000000)) {
        return 0xff000000; /* class A */
    }
    if ((addr & 0xfff00000) == 0xac100000) {
        return 0xfff00000; /* private 172.16.0.0/12 */
    }
    if ((addr & 0xc0000000) == 0x80000000) {
        return 0xffff0000; /* class B */
    }
    if ((addr & 0xffff0000) == 0xc0a80000) {
        return 0xffff0000; /* private 192.168.0.0/16 */
    }
    if ((addr & 0xffff0000) == 0xc6120000) {
        return 0xfffe0000; /* benchmarking 198.18.0.0/15 */
    }
    if ((addr & 0xe0000000) == 0xe0000000) {
        return 0xffffff00; /* class C */
    }
    return 0xfffffff0; /* multicast and reserved */
}

/* net=ADDR[/BITS|/MASK] in QEMU's words; false with the reason in err. */
static bool parse_network(const char *text, struct in_addr *net, struct in_addr *mask, char *err,
                          size_t errlen)
{
    char addr[32];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n >= sizeof(addr)) {
        snprintf(err, errlen, "Failed to parse netmask");
        return false;
    }
    memcpy(addr, text, n);
    addr[n] = '\0';
    if (!inet_aton(addr, net)) {
        snprintf(err, errlen, "Failed to parse netmask");
        return false;
    }
    if (!slash) {
        mask->s_addr = htonl(default_mask(ntohl(net->s_addr)));
    } else {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1) {
            if (!inet_aton(slash + 1, mask)) {
                snprintf(err, errlen, "Failed to parse netmask (trailing chars)");
                return false;
            }
        } else if (bits < 4 || bits > 32) {
            snprintf(err, errlen, "Invalid netmask provided (must be in range 4-32)");
            return false;
        } else {
            mask->s_addr = htonl((uint32_t)(0xffffffffull << (32 - bits)));
        }
    }
    net->s_addr &= mask->s_addr;
    return true;
}

/* The guest network's addresses, checked as QEMU checks them. */
static bool slirp_addresses(const NetSlirpConfig *c, SlirpConfig *cfg, char *err, size_t errlen)
{
    struct in_addr net = {htonl(0x0a000200)}, mask = {htonl(0xffffff00)};
    if (c->net && !parse_network(c->net, &net, &mask, err, errlen)) {
        return false;
    }
    /* The host, DNS and DHCP addresses keep their place in the network. */
    struct in_addr host = {net.s_addr | (htonl(0x0202) & ~mask.s_addr)};
    struct in_addr dns = {net.s_addr | (htonl(0x0203) & ~mask.s_addr)};
    struct in_addr dhcp = {net.s_addr | (htonl(0x020f) & ~mask.s_addr)};
    const char *why = NULL;
    if (c->host && !inet_aton(c->host, &host)) {
        why = "Failed to parse host";
    } else if ((host.s_addr & mask.s_addr) != net.s_addr) {
        why = "Host doesn't belong to network";
    } else if (c->dns && !inet_aton(c->dns, &dns)) {
        why = "Failed to parse DNS";
    } else if (c->restricted && (dns.s_addr & mask.s_addr) != net.s_addr) {
        why = "DNS doesn't belong to network";
    } else if (dns.s_addr == host.s_addr) {
        why = "DNS must be different from host";
    } else if (c->dhcpstart && !inet_aton(c->dhcpstart, &dhcp)) {
        why = "Failed to parse DHCP start address";
    } else if ((dhcp.s_addr & mask.s_addr) != net.s_addr) {
        why = "DHCP doesn't belong to network";
    } else if (dhcp.s_addr == host.s_addr || dhcp.s_addr == dns.s_addr) {
        why = "DHCP must be different from host and DNS";
    } else if (c->hostname && strlen(c->hostname) > 255) {
        why = "'vhostname' parameter cannot exceed 255 bytes";
    } else if (c->domainname && (!c->domainname[0] || strlen(c->domainname) > 255)) {
        why = "'domainname' parameter must be 1 to 255 bytes";
    }
    if (why) {
        snprintf(err, errlen, "%s", why);
        return false;
    }
    cfg->vnetwork = net;
    cfg->vnetmask = mask;
    cfg->vhost = host;
    cfg->vnameserver = dns;
    cfg->vdhcp_start = dhcp;
    return true;
}

Netdev *net_slirp_new(Net *net, const char *id, const NetSlirpConfig *c, char *err, size_t errlen)
{
    /* QEMU's IPv6 defaults: prefix fec0::/64, host ::2, DNS ::3. */
    SlirpConfig cfg = {
        .version = SLIRP_CONFIG_VERSION,
        .restricted = c->restricted,
        .in_enabled = true,
        .in6_enabled = true,
        .vprefix_len = 64,
        .vhostname = c->hostname,
        .tftp_path = c->tftp,
        .bootfile = c->bootfile,
        .vdomainname = c->domainname,
    };
    if (net_find(net, id)) {
        snprintf(err, errlen, "Duplicate ID '%s' for netdev", id);
        return NULL;
    }
    if (!slirp_addresses(c, &cfg, err, errlen)) {
        return NULL;
    }
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vhost6 = cfg.vnameserver6 = cfg.vprefix_addr6;
    cfg.vhost6.s6_addr[15] = 2;
    cfg.vnameserver6.s6_addr[15] = 3;

    NetSlirp *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->network = cfg.vnetwork;
    s->restricted = c->restricted;
    if (!slirp_new(&cfg, &slirp_callbacks, s) || !s->slirp) {
        snprintf(err, errlen, "cannot start user networking");
        slirp_free(s);
        return NULL;
    }
    for (int i = 0; i < c->hostfwd_count; i++) {
        if (!hostfwd_add(s, c->hostfwd[i], err, errlen)) {
            slirp_free(s);
            return NULL;
        }
    }
    for (int i = 0; i < c->guestfwd_count; i++) {
        if (!guestfwd_add(s, c->guestfwd[i], err, errlen)) {
            slirp_free(s);
            return NULL;
        }
    }
    s->nd = netdev_new(net, id, &slirp_ops, s);
    if (!s->nd) {
        snprintf(err, errlen, "out of memory");
        slirp_free(s);
        return NULL;
    }
    return s->nd;
}

/* ---- the monitor ---- */

/* The user netdev named id, or the first; NULL with QEMU's words in msg. */
static NetSlirp *slirp_lookup(Net *net, const char *id, char *msg, size_t len)
{
    if (id) {
        Netdev *nd = net_find(net, id);
        NetSlirp *s = nd ? netdev_backend(nd, &slirp_ops) : NULL;
        if (!s) {
            snprintf(msg, len, nd ? "invalid device specified\n" : "unrecognized netdev id '%s'\n",
                     id);
        }
        return s;
    }
    for (Netdev *nd = net_next(net, NULL); nd; nd = net_next(net, nd)) {
        if (netdev_backend(nd, &slirp_ops)) {
            return netdev_backend(nd, &slirp_ops);
        }
    }
    snprintf(msg, len, "user mode network stack not in use\n");
    return NULL;
}

void net_slirp_hostfwd_add(Net *net, const char *id, const char *rule, char *msg, size_t len)
{
    msg[0] = '\0';
    NetSlirp *s = slirp_lookup(net, id, msg, len);
    if (s && !hostfwd_add(s, rule, msg, len - 1)) {
        strcat(msg, "\n");
    }
}

void net_slirp_hostfwd_remove(Net *net, const char *id, const char *rule, char *msg, size_t len)
{
    msg[0] = '\0';
    NetSlirp *s = slirp_lookup(net, id, msg, len);
    if (!s) {
        return;
    }
    /* [tcp|udp]:[HADDR]:HPORT */
    char buf[256];
    const char *p = rule;
    struct sockaddr_in host = {.sin_family = AF_INET};
    bool udp;
    int port;
    if (!take_field(buf, sizeof(buf), &p, ':') || !parse_proto(buf, &udp) ||
        !take_field(buf, sizeof(buf), &p, ':') || (buf[0] && !inet_aton(buf, &host.sin_addr)) ||
        !parse_port(p, 0, &port)) {
        snprintf(msg, len, "invalid format\n");
        return;
    }
    if (!buf[0]) {
        host.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* as hostfwd_parse */
    }
    host.sin_port = htons((uint16_t)port);
    int failed = slirp_remove_hostxfwd(s->slirp, (struct sockaddr *)&host, sizeof(host),
                                       udp ? SLIRP_HOSTFWD_UDP : 0);
    snprintf(msg, len, "host forwarding rule for %s %s\n", rule, failed ? "not found" : "removed");
}

void net_slirp_usernet_info(Net *net, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (Netdev *nd = net_next(net, NULL); nd && at < len; nd = net_next(net, nd)) {
        NetSlirp *s = netdev_backend(nd, &slirp_ops);
        char *info = s ? slirp_connection_info(s->slirp) : NULL;
        if (info) {
            /* QEMU names the hub the stack is on; popek has none. */
            int n = snprintf(buf + at, len - at, "Hub -1 (%s):\n%s", netdev_id(nd), info);
            at += n > 0 ? (size_t)n : 0;
            free(info);
        }
    }
}

/* ---- saved VMs ---- */

bool net_slirp_is_user(const Netdev *nd)
{
    return netdev_backend(nd, &slirp_ops) != NULL;
}

int net_slirp_state_version(void)
{
    return slirp_state_version();
}

/* libslirp's callbacks carry ssize_t and a void * only. */
typedef struct SlirpIO {
    NetSlirpPut put;
    NetSlirpGet get;
    void *opaque;
} SlirpIO;

static ssize_t slirp_io_write(const void *buf, size_t len, void *opaque)
{
    SlirpIO *io = opaque;
    io->put(io->opaque, buf, len);
    return (ssize_t)len;
}

static ssize_t slirp_io_read(void *buf, size_t len, void *opaque)
{
    SlirpIO *io = opaque;
    return io->get(io->opaque, buf, len) ? (ssize_t)len : -1;
}

void net_slirp_state_save(Netdev *nd, NetSlirpPut put, void *opaque)
{
    NetSlirp *s = netdev_backend(nd, &slirp_ops);
    SlirpIO io = {put, NULL, opaque};
    slirp_state_save(s->slirp, slirp_io_write, &io);
}

bool net_slirp_state_load(Netdev *nd, int version, NetSlirpGet get, void *opaque)
{
    NetSlirp *s = netdev_backend(nd, &slirp_ops);
    SlirpIO io = {NULL, get, opaque};
    return slirp_state_load(s->slirp, version, slirp_io_read, &io) == 0;
}
