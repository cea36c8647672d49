/*
 * -netdev socket (net/socket.c) in one process over 127.0.0.1: a listener
 * and a connecting netdev pass frames both ways in QEMU's framing; a raw
 * peer's garbage is counted and skipped; disconnects take the link down
 * and a listener takes the next peer; a busy NIC slows the peer instead of
 * losing frames; multicast on the loopback interface reaches the other
 * member of the group but not the sender.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/socket.h"
#include "net_fixture.h"

static Net *net;
static FakeNic *nic_a, *nic_b;

static void setup(void)
{
    net = net_new();
    nic_a = fake_nic_new();
    nic_b = fake_nic_new();
}

static void teardown(void)
{
    net_free(net);
    free(nic_a);
    free(nic_b);
}

static Netdev *open_socket(Net *n, const char *id, NetSocketConfig cfg)
{
    char err[256];
    Netdev *nd = net_socket_new(n, id, &cfg, err, sizeof(err));
    ck_assert_msg(nd != NULL, "%s: %s", id, err);
    return nd;
}

/* A listener on an ephemeral loopback port; its address in where. */
static Netdev *open_listener(Net *n, const char *id, char *where, size_t len)
{
    Netdev *nd = open_socket(n, id, (NetSocketConfig){.listen = "127.0.0.1:0"});
    snprintf(where, len, "127.0.0.1:%u", net_socket_local_port(nd));
    return nd;
}

/* Run the loop until the NIC's link is up (or 5 s). */
static bool pump_until_link(Net *n, FakeNic *nic, bool up)
{
    for (int64_t end = now_ms() + 5000; now_ms() < end;) {
        if (net_client_link_up(&nic->nc) == up) {
            return true;
        }
        net_pump(n, 20);
    }
    return net_client_link_up(&nic->nc) == up;
}

START_TEST(test_frames_both_ways)
{
    char where[64], info[256];
    Netdev *l = open_listener(net, "l", where, sizeof(where));
    Netdev *c = open_socket(net, "c", (NetSocketConfig){.connect = where});
    ck_assert(net_client_attach(&nic_a->nc, l));
    ck_assert(net_client_attach(&nic_b->nc, c));
    ck_assert(!nic_a->link_up); /* told at attach: no peer yet */
    netdev_info(l, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "waiting for a peer,link=down"));
    ck_assert(pump_until_link(net, nic_a, true));
    ck_assert_int_eq(nic_a->link_events, 2);
    netdev_info(l, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "type=socket,socket: connection from 127.0.0.1:"));
    char want[128];
    snprintf(want, sizeof(want), "c: index=0,type=socket,socket: connect to %s\n", where);
    netdev_info(c, info, sizeof(info));
    ck_assert_str_eq(info, want);

    static const size_t sizes[] = {60, 1514, 9018, NET_MAX_FRAME};
    static uint8_t f[NET_MAX_FRAME];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        make_frame(f, sizes[i], (uint8_t)i);
        net_client_send(&nic_b->nc, f, sizes[i]);
        ck_assert(net_pump_until(net, &nic_a->rx.count, (int)i + 1, 5000));
        ck_assert_uint_eq(nic_a->rx.len[i], sizes[i]);
        ck_assert_mem_eq(nic_a->rx.data[i], f,
                         sizes[i] < FAKE_FRAME_MAX ? sizes[i] : FAKE_FRAME_MAX);
        make_frame(f, sizes[i], (uint8_t)(i + 100));
        net_client_send(&nic_a->nc, f, sizes[i]);
        ck_assert(net_pump_until(net, &nic_b->rx.count, (int)i + 1, 5000));
        ck_assert_uint_eq(nic_b->rx.len[i], sizes[i]);
        ck_assert_mem_eq(nic_b->rx.data[i], f,
                         sizes[i] < FAKE_FRAME_MAX ? sizes[i] : FAKE_FRAME_MAX);
    }
    ck_assert_uint_eq(netdev_stats(l)->garbage, 0);
    ck_assert_uint_eq(netdev_stats(c)->dropped, 0);
}
END_TEST

/* A plain TCP client: the peer we control byte by byte. */
static int raw_connect(const char *where)
{
    unsigned port;
    ck_assert(sscanf(where, "127.0.0.1:%u", &port) == 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr = {htonl(INADDR_LOOPBACK)}};
    ck_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

static void raw_write(int fd, const void *buf, size_t len)
{
    ck_assert(write(fd, buf, len) == (ssize_t)len);
}

static void raw_frame(int fd, uint32_t len, const uint8_t *body, size_t body_len)
{
    uint8_t word[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    raw_write(fd, word, 4);
    if (body_len) {
        raw_write(fd, body, body_len);
    }
}

START_TEST(test_garbage_is_counted_and_skipped)
{
    char where[64], info[256];
    static uint8_t junk[70000];
    uint8_t good[100];
    make_frame(good, sizeof(good), 42);
    memset(junk, 0xee, sizeof(junk));
    Netdev *l = open_listener(net, "l", where, sizeof(where));
    ck_assert(net_client_attach(&nic_a->nc, l));
    int fd = raw_connect(where);
    ck_assert(pump_until_link(net, nic_a, true));

    raw_frame(fd, 0, NULL, 0);                       /* empty */
    raw_frame(fd, sizeof(junk), junk, sizeof(junk)); /* over NET_MAX_FRAME */
    raw_frame(fd, 5, junk, 5);                       /* shorter than a header */
    raw_frame(fd, sizeof(good), good, sizeof(good)); /* and the framing still holds */
    ck_assert(net_pump_until(net, &nic_a->rx.count, 1, 5000));
    ck_assert_uint_eq(nic_a->rx.len[0], sizeof(good));
    ck_assert_mem_eq(nic_a->rx.data[0], good, sizeof(good));
    ck_assert_uint_eq(netdev_stats(l)->garbage, 3);

    /* A frame cut short by the peer leaving: counted; the link goes down. */
    raw_frame(fd, 100, good, 10);
    close(fd);
    ck_assert(pump_until_link(net, nic_a, false));
    ck_assert(!nic_a->link_up);
    ck_assert_uint_eq(netdev_stats(l)->garbage, 4);
    ck_assert_int_eq(nic_a->rx.count, 1);
    netdev_info(l, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "waiting for a peer,link=down"));

    /* The next peer brings the link back. */
    fd = raw_connect(where);
    ck_assert(pump_until_link(net, nic_a, true));
    ck_assert(nic_a->link_up);
    raw_frame(fd, sizeof(good), good, sizeof(good));
    ck_assert(net_pump_until(net, &nic_a->rx.count, 2, 5000));
    close(fd);
}
END_TEST

START_TEST(test_peer_leaves_connect_side)
{
    char where[64], info[256];
    Net *other = net_new();
    open_listener(other, "l", where, sizeof(where));
    Netdev *c = open_socket(net, "c", (NetSocketConfig){.connect = where});
    ck_assert(net_client_attach(&nic_b->nc, c));
    ck_assert(net_client_link_up(&nic_b->nc));
    for (int i = 0; i < 5; i++) {
        net_pump(other, 10); /* the listener takes the peer */
    }
    net_free(other); /* the other VM goes away */
    ck_assert(pump_until_link(net, nic_b, false));
    ck_assert_int_eq(nic_b->link_events, 1);
    netdev_info(c, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, ", peer gone,link=down"));
    /* The NIC's frames now go nowhere, and popek goes on. */
    uint8_t f[60];
    make_frame(f, sizeof(f), 0);
    net_client_send(&nic_b->nc, f, sizeof(f));
    net_pump(net, 10);
    ck_assert_uint_eq(netdev_stats(c)->dropped, 1);
}
END_TEST

START_TEST(test_bad_configs)
{
    char err[256], where[64];
    Netdev *l = open_listener(net, "l", where, sizeof(where));
    uint16_t port = net_socket_local_port(l);
    net_free(net); /* the port is free again: nobody listens there */
    net = net_new();
    static const struct {
        NetSocketConfig cfg;
        const char *err; /* the start of the message */
    } cases[] = {
        {{0}, "exactly one of listen=, connect= or mcast= is required"},
        {{.listen = ":1", .connect = "127.0.0.1:1"}, "exactly one of"},
        {{.connect = "127.0.0.1:1", .localaddr = "127.0.0.1"},
         "localaddr= is only valid with mcast="},
        {{.listen = "127.0.0.1"}, "bad address '127.0.0.1' (want HOST:PORT)"},
        {{.listen = "127.0.0.1:99999"}, "bad port in '127.0.0.1:99999'"},
        {{.listen = "127.0.0.1:x"}, "bad port in"},
        {{.mcast = "127.0.0.1:5000"}, "mcast=127.0.0.1:5000: not a multicast address"},
        {{.mcast = "239.255.0.1:5000", .localaddr = "nowhere"},
         "localaddr 'nowhere' is not a valid IPv4 address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_ptr_null(net_socket_new(net, "s", &cases[i].cfg, err, sizeof(err)));
        ck_assert_msg(!strncmp(err, cases[i].err, strlen(cases[i].err)), "case %zu: %s", i, err);
    }
    /* An absent peer is an error at once, not a link that never comes up. */
    snprintf(where, sizeof(where), "127.0.0.1:%u", port);
    NetSocketConfig cfg = {.connect = where};
    ck_assert_ptr_null(net_socket_new(net, "c", &cfg, err, sizeof(err)));
    char want[128];
    snprintf(want, sizeof(want), "cannot connect to %s: %s", where, strerror(ECONNREFUSED));
    ck_assert_str_eq(err, want);
    /* A port in use. */
    open_listener(net, "l", where, sizeof(where));
    cfg = (NetSocketConfig){.listen = where};
    ck_assert_ptr_null(net_socket_new(net, "l2", &cfg, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot listen on %s: %s", where, strerror(EADDRINUSE));
    ck_assert_str_eq(err, want);
    cfg = (NetSocketConfig){.listen = "127.0.0.1:0"};
    ck_assert_ptr_null(net_socket_new(net, "l", &cfg, err, sizeof(err)));
    ck_assert_str_eq(err, "Duplicate ID 'l' for netdev");
}
END_TEST

START_TEST(test_busy_nic_slows_the_peer)
{
    char where[64];
    Netdev *l = open_listener(net, "l", where, sizeof(where));
    Netdev *c = open_socket(net, "c", (NetSocketConfig){.connect = where});
    ck_assert(net_client_attach(&nic_a->nc, l));
    ck_assert(net_client_attach(&nic_b->nc, c));
    ck_assert(pump_until_link(net, nic_a, true));
    nic_a->full = true;
    uint8_t f[3][200];
    for (int i = 0; i < 3; i++) {
        make_frame(f[i], sizeof(f[i]), (uint8_t)i);
        net_client_send(&nic_b->nc, f[i], sizeof(f[i]));
    }
    for (int i = 0; i < 10; i++) {
        net_pump(net, 10);
    }
    ck_assert_int_eq(nic_a->rx.count, 0);
    ck_assert(!netdev_can_send(l)); /* one kept; the rest wait in TCP */
    nic_a->full = false;
    net_client_flush(&nic_a->nc);
    ck_assert_int_eq(nic_a->rx.count, 1);
    ck_assert(net_pump_until(net, &nic_a->rx.count, 3, 5000));
    for (int i = 0; i < 3; i++) {
        ck_assert_mem_eq(nic_a->rx.data[i], f[i], sizeof(f[i]));
    }
    ck_assert_uint_eq(netdev_stats(l)->dropped, 0);
}
END_TEST

/* The NIC sends faster than the peer reads: the socket's buffers fill, the
 * net layer keeps one frame and drops the rest; what was taken arrives
 * whole and in order once the peer reads again. */
START_TEST(test_full_socket_drops_whole_frames)
{
    char where[64];
    Net *other = net_new();
    Netdev *l = open_listener(other, "l", where, sizeof(where));
    Netdev *c = open_socket(net, "c", (NetSocketConfig){.connect = where});
    ck_assert(net_client_attach(&nic_a->nc, l));
    ck_assert(net_client_attach(&nic_b->nc, c));
    ck_assert(pump_until_link(other, nic_a, true));
    static uint8_t f[NET_MAX_FRAME];
    const int sent = 400; /* 26 MB: more than loopback TCP buffers hold */
    for (int i = 0; i < sent; i++) {
        make_frame(f, sizeof(f), (uint8_t)i);
        net_client_send(&nic_b->nc, f, sizeof(f));
    }
    uint64_t dropped = netdev_stats(c)->dropped;
    ck_assert_uint_gt(dropped, 0);
    int taken = sent - (int)dropped;
    for (int64_t end = now_ms() + 10000; nic_a->rx.count < taken && now_ms() < end;) {
        net_pump(net, 0);
        net_pump(other, 5);
    }
    ck_assert_int_eq(nic_a->rx.count, taken);
    ck_assert_uint_eq(netdev_stats(l)->garbage, 0);
    for (int i = 0; i < FAKE_FRAMES && i < taken; i++) {
        ck_assert_uint_eq(nic_a->rx.len[i], NET_MAX_FRAME);
        ck_assert_uint_eq(nic_a->rx.data[i][14], (uint8_t)(i + 14)); /* in order */
    }
    net_free(other);
}
END_TEST

/* ---- multicast ---- */

static int udp_socket_on_loopback(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    int ttl = 0;
    ck_assert(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)) == 0);
    ck_assert(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == 0);
    return fd;
}

/* Does this host's loopback interface carry multicast?  Asked with plain
 * sockets, apart from the code under test. */
static bool loopback_multicast(const struct sockaddr_in *group)
{
    int rx = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    struct ip_mreq mreq = {group->sin_addr, {htonl(INADDR_LOOPBACK)}};
    setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bool ok = bind(rx, (const struct sockaddr *)group, sizeof(*group)) == 0 &&
              setsockopt(rx, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) == 0;
    int tx = udp_socket_on_loopback();
    ok = ok && sendto(tx, "probe", 5, 0, (const struct sockaddr *)group, sizeof(*group)) == 5;
    struct pollfd p = {rx, POLLIN, 0};
    ok = ok && poll(&p, 1, 1000) == 1;
    close(rx);
    close(tx);
    return ok;
}

START_TEST(test_mcast_on_loopback)
{
    char where[64];
    /* A group and port of our own, so parallel runs do not meet. */
    unsigned pid = (unsigned)getpid();
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in group = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t len = sizeof(group);
    ck_assert(bind(probe, (struct sockaddr *)&group, sizeof(group)) == 0);
    ck_assert(getsockname(probe, (struct sockaddr *)&group, &len) == 0);
    close(probe);
    group.sin_addr.s_addr = htonl(0xefff0000u | (pid & 0xffff)); /* 239.255.x.y */
    if (!loopback_multicast(&group)) {
        printf("test_mcast_on_loopback: SKIPPED: this host's loopback carries no multicast\n");
        return;
    }
    printf("test_mcast_on_loopback: this host's loopback carries multicast\n");
    snprintf(where, sizeof(where), "239.255.%u.%u:%u", (pid >> 8) & 0xff, pid & 0xff,
             ntohs(group.sin_port));
    NetSocketConfig cfg = {.mcast = where, .localaddr = "127.0.0.1"};
    Netdev *a = open_socket(net, "a", cfg);
    Netdev *b = open_socket(net, "b", cfg);
    ck_assert(net_client_attach(&nic_a->nc, a));
    ck_assert(net_client_attach(&nic_b->nc, b));
    ck_assert(nic_a->link_up && net_client_link_up(&nic_a->nc));
    uint8_t f[1514];
    make_frame(f, sizeof(f), 3);
    net_client_send(&nic_a->nc, f, sizeof(f));
    ck_assert(net_pump_until(net, &nic_b->rx.count, 1, 5000));
    ck_assert_uint_eq(nic_b->rx.len[0], sizeof(f));
    ck_assert_mem_eq(nic_b->rx.data[0], f, sizeof(f));
    make_frame(f, 100, 4);
    net_client_send(&nic_b->nc, f, 100);
    ck_assert(net_pump_until(net, &nic_a->rx.count, 1, 5000));
    ck_assert_mem_eq(nic_a->rx.data[0], f, 100);
    for (int i = 0; i < 10; i++) {
        net_pump(net, 5);
    }
    /* Neither got its own frame back. */
    ck_assert_int_eq(nic_a->rx.count, 1);
    ck_assert_int_eq(nic_b->rx.count, 1);

    /* An empty datagram from elsewhere in the group is garbage to both. */
    int tx = udp_socket_on_loopback();
    ck_assert(sendto(tx, "", 0, 0, (struct sockaddr *)&group, sizeof(group)) == 0);
    close(tx);
    for (int64_t end = now_ms() + 5000; netdev_stats(b)->garbage < 1 && now_ms() < end;) {
        net_pump(net, 20);
    }
    ck_assert_uint_eq(netdev_stats(a)->garbage, 1);
    ck_assert_uint_eq(netdev_stats(b)->garbage, 1);
    char info[256];
    netdev_info(a, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "type=socket,socket: mcast=239.255."));
}
END_TEST

static Suite *socket_suite(void)
{
    Suite *s = suite_create("net_socket");
    TCase *tc = tcase_create("socket");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_frames_both_ways);
    tcase_add_test(tc, test_garbage_is_counted_and_skipped);
    tcase_add_test(tc, test_peer_leaves_connect_side);
    tcase_add_test(tc, test_bad_configs);
    tcase_add_test(tc, test_busy_nic_slows_the_peer);
    tcase_add_test(tc, test_full_socket_drops_whole_frames);
    tcase_add_test(tc, test_mcast_on_loopback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(socket_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
