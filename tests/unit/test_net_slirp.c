/*
 * -netdev user (net/slirp.c) with a fake NIC: DHCP and ARP answered from
 * QEMU's addresses, a host forwarding rule reaching the guest, the rules'
 * syntax and QEMU's messages, the monitor's hostfwd_add/remove, and a poll
 * timeout that lets an idle network sleep.  Nothing leaves 127.0.0.1: the
 * guest side is this process's fake NIC and the host side is loopback.
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

#include "net/slirp.h"
#include "net/socket.h"
#include "net_fixture.h"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

#define ETH_HLEN       14
#define IP_HLEN        20
#define UDP_HLEN       8
#define BOOTP_FIXED    236 /* up to the options' magic cookie */
#define BOOTP_OPT_LEN  312 /* the options field as libslirp's struct bootp_t has it */
#define DHCP_FRAME_LEN (ETH_HLEN + IP_HLEN + UDP_HLEN + BOOTP_FIXED + BOOTP_OPT_LEN)

static Net *net;
static FakeNic *nic;

static void setup(void)
{
    net = net_new();
    nic = fake_nic_new();
}

static void teardown(void)
{
    net_free(net);
    free(nic);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t ip4(const char *text)
{
    struct in_addr a;
    ck_assert(inet_pton(AF_INET, text, &a) == 1);
    return a.s_addr; /* network order, as in frames */
}

static void eth_header(uint8_t *f, const uint8_t *dst, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, type);
}

/* RFC 791 header checksum. */
static uint16_t ip_checksum(const uint8_t *h, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) {
        sum += get16(h + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* DHCPDISCOVER (RFC 2131) from guest_mac, broadcast from 0.0.0.0. */
static size_t build_dhcp_discover(uint8_t *f)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    memset(f, 0, DHCP_FRAME_LEN);
    eth_header(f, bcast, 0x0800);
    uint8_t *ip = f + ETH_HLEN, *udp = ip + IP_HLEN, *bootp = udp + UDP_HLEN;
    ip[0] = 0x45;
    put16(ip + 2, IP_HLEN + UDP_HLEN + BOOTP_FIXED + BOOTP_OPT_LEN);
    ip[8] = 64;
    ip[9] = 17; /* UDP */
    memset(ip + 16, 0xff, 4);
    put16(ip + 10, ip_checksum(ip, IP_HLEN));
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, UDP_HLEN + BOOTP_FIXED + BOOTP_OPT_LEN); /* checksum 0: none */
    bootp[0] = 1;                                           /* BOOTREQUEST */
    bootp[1] = 1;                                           /* Ethernet */
    bootp[2] = 6;
    memcpy(bootp + 4, "\x12\x34\x56\x78", 4); /* xid */
    memcpy(bootp + 28, guest_mac, 6);         /* chaddr */
    uint8_t *opt = bootp + BOOTP_FIXED;
    memcpy(opt, "\x63\x82\x53\x63", 4);     /* magic cookie */
    memcpy(opt + 4, "\x35\x01\x01\xff", 4); /* DHCP message type DISCOVER, end */
    return DHCP_FRAME_LEN;
}

/* A DHCP option's value in a received frame's options, or NULL. */
static const uint8_t *dhcp_option(const uint8_t *frame, size_t len, uint8_t code)
{
    size_t at = ETH_HLEN + IP_HLEN + UDP_HLEN + BOOTP_FIXED + 4;
    while (at + 2 <= len && frame[at] != 0xff) {
        if (frame[at] == 0) {
            at++;
            continue;
        }
        if (frame[at] == code) {
            return frame + at + 2;
        }
        at += 2u + frame[at + 1];
    }
    return NULL;
}

/* The first frame the NIC got that is IPv4/UDP from port 67, or -1. */
static int find_dhcp_reply(void)
{
    for (int i = 0; i < nic->rx.count && i < FAKE_FRAMES; i++) {
        const uint8_t *f = nic->rx.data[i];
        if (nic->rx.len[i] > ETH_HLEN + IP_HLEN + UDP_HLEN + BOOTP_FIXED &&
            get16(f + 12) == 0x0800 && f[ETH_HLEN + 9] == 17 &&
            get16(f + ETH_HLEN + IP_HLEN) == 67) {
            return i;
        }
    }
    return -1;
}

/* Send a DISCOVER; check the OFFER: yiaddr, server identifier and source. */
static void expect_offer(Netdev *nd, const char *yiaddr, const char *server)
{
    uint8_t f[DHCP_FRAME_LEN];
    ck_assert(net_client_attach(&nic->nc, nd));
    net_client_send(&nic->nc, f, build_dhcp_discover(f));
    int64_t end = now_ms() + 5000;
    while (find_dhcp_reply() < 0 && now_ms() < end) {
        net_pump(net, 20);
    }
    int i = find_dhcp_reply();
    ck_assert_msg(i >= 0, "no DHCP reply among %d frames", nic->rx.count);
    const uint8_t *r = nic->rx.data[i];
    size_t len = nic->rx.len[i] < FAKE_FRAME_MAX ? nic->rx.len[i] : FAKE_FRAME_MAX;
    const uint8_t *bootp = r + ETH_HLEN + IP_HLEN + UDP_HLEN;
    ck_assert(!memcmp(r, guest_mac, 6) || !memcmp(r, "\xff\xff\xff\xff\xff\xff", 6));
    ck_assert_uint_eq(bootp[0], 2); /* BOOTREPLY */
    ck_assert_mem_eq(bootp + 28, guest_mac, 6);
    ck_assert_mem_eq(bootp + 4, "\x12\x34\x56\x78", 4);
    uint32_t addr;
    memcpy(&addr, bootp + 16, 4);
    ck_assert_uint_eq(addr, ip4(yiaddr));
    memcpy(&addr, r + ETH_HLEN + 12, 4);
    ck_assert_uint_eq(addr, ip4(server));
    const uint8_t *type = dhcp_option(r, len, 53);
    ck_assert_ptr_nonnull(type);
    ck_assert_uint_eq(type[0], 2); /* DHCPOFFER */
    const uint8_t *sid = dhcp_option(r, len, 54);
    ck_assert_ptr_nonnull(sid);
    memcpy(&addr, sid, 4);
    ck_assert_uint_eq(addr, ip4(server));
}

START_TEST(test_dhcp_offer_qemu_defaults)
{
    char err[256];
    NetSlirpConfig cfg = {0};
    Netdev *nd = net_slirp_new(net, "u0", &cfg, err, sizeof(err));
    ck_assert_msg(nd != NULL, "%s", err);
    expect_offer(nd, "10.0.2.15", "10.0.2.2");
    char info[256];
    netdev_info(nd, info, sizeof(info));
    ck_assert_str_eq(info, "u0: index=0,type=user,net=10.0.2.0,restrict=off\n");
}
END_TEST

START_TEST(test_dhcp_offer_other_network)
{
    char err[256];
    NetSlirpConfig cfg = {.net = "192.168.76.0/24", .dhcpstart = "192.168.76.100"};
    Netdev *nd = net_slirp_new(net, "u0", &cfg, err, sizeof(err));
    ck_assert_msg(nd != NULL, "%s", err);
    expect_offer(nd, "192.168.76.100", "192.168.76.2");
}
END_TEST

START_TEST(test_arp_for_the_host)
{
    char err[256];
    NetSlirpConfig cfg = {0};
    Netdev *nd = net_slirp_new(net, "u0", &cfg, err, sizeof(err));
    ck_assert_msg(nd != NULL, "%s", err);
    ck_assert(net_client_attach(&nic->nc, nd));
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t f[42] = {0};
    eth_header(f, bcast, 0x0806);
    uint8_t *arp = f + ETH_HLEN;
    put16(arp, 1);          /* Ethernet */
    put16(arp + 2, 0x0800); /* IPv4 */
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, 1); /* request */
    memcpy(arp + 8, guest_mac, 6);
    uint32_t spa = ip4("10.0.2.15"), tpa = ip4("10.0.2.2");
    memcpy(arp + 14, &spa, 4);
    memcpy(arp + 24, &tpa, 4);
    net_client_send(&nic->nc, f, sizeof(f));
    net_pump_until(net, &nic->rx.count, 1, 2000);
    ck_assert_int_ge(nic->rx.count, 1);
    const uint8_t *r = nic->rx.data[0];
    ck_assert_uint_ge(nic->rx.len[0], 60); /* at least the Ethernet minimum */
    ck_assert_mem_eq(r, guest_mac, 6);
    ck_assert_uint_eq(get16(r + 12), 0x0806);
    ck_assert_uint_eq(get16(r + ETH_HLEN + 6), 2); /* reply */
    ck_assert_mem_eq(r + ETH_HLEN + 14, &tpa, 4);  /* 10.0.2.2 is at ... */
    ck_assert_mem_eq(r + ETH_HLEN + 18, guest_mac, 6);
    ck_assert_mem_eq(r + ETH_HLEN + 24, &spa, 4);
}
END_TEST

START_TEST(test_hostfwd_syntax)
{
    static const struct {
        const char *rule;
        const char *why; /* NULL: accepted */
    } cases[] = {
        {"", "No : separators"},
        {"tcp", "No : separators"},
        {"sctp::22-:22", "Bad protocol name"},
        {"tcp:127.0.0.1", "Missing : separator"},
        {"tcp:22-:22", "Bad host address"},
        {"tcp:1.2.3.4.5:22-:22", "Bad host address"},
        {"tcp::22", "Bad host port separator"},
        {"tcp::x-:22", "Bad host port"},
        {"tcp::70000-:22", "Bad host port"},
        {"tcp::-1-:22", "Bad host port"},
        {"tcp::22-22", "Missing guest address"},
        {"tcp::22-10.0.2.999:22", "Bad guest address"},
        {"tcp::22-:0", "Bad guest port"},
        {"tcp::22-:", "Bad guest port"},
        {"tcp::22-:22x", "Bad guest port"},
        {"tcp::2222-:22", NULL},
        {":127.0.0.1:2222-:22", NULL},
        {"udp:127.0.0.1:5353-10.0.2.15:53", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        bool ok = net_slirp_hostfwd_check(cases[i].rule, err, sizeof(err));
        if (!cases[i].why) {
            ck_assert_msg(ok, "'%s' refused: %s", cases[i].rule, err);
            continue;
        }
        char want[256];
        snprintf(want, sizeof(want), "Invalid host forwarding rule '%s' (%s)", cases[i].rule,
                 cases[i].why);
        ck_assert_msg(!ok, "'%s' accepted", cases[i].rule);
        ck_assert_str_eq(err, want);
    }
}
END_TEST

START_TEST(test_bad_configs)
{
    static const struct {
        NetSlirpConfig cfg;
        const char *err;
    } cases[] = {
        {{.net = "10.0.2.0/40"}, "Invalid netmask provided (must be in range 4-32)"},
        {{.net = "10.0.2"}, NULL}, /* inet_aton accepts it, as in QEMU */
        {{.net = "ten"}, "Failed to parse netmask"},
        {{.host = "10.0.3.2"}, "Host doesn't belong to network"},
        {{.dns = "10.0.2.2"}, "DNS must be different from host"},
        {{.dns = "1.1.1.1", .restricted = true}, "DNS doesn't belong to network"},
        {{.dhcpstart = "1.2.3.4"}, "DHCP doesn't belong to network"},
        {{.dhcpstart = "10.0.2.3"}, "DHCP must be different from host and DNS"},
        {{.hostfwd_count = 1, .hostfwd = {"tcp::22"}},
         "Invalid host forwarding rule 'tcp::22' (Bad host port separator)"},
        {{.guestfwd_count = 1, .guestfwd = {"tcp:10.0.2.100:80"}},
         "Invalid guest forwarding rule 'tcp:10.0.2.100:80'"},
        {{.guestfwd_count = 1, .guestfwd = {"tcp:10.0.2.100:80-tcp:127.0.0.1:80"}},
         "guest forwarding rule 'tcp:10.0.2.100:80-tcp:127.0.0.1:80': only cmd:COMMAND is "
         "supported"},
        {{.guestfwd_count = 1, .guestfwd = {"tcp:10.0.2.100:80-cmd:cat"}}, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "", id[16];
        snprintf(id, sizeof(id), "u%zu", i);
        Netdev *nd = net_slirp_new(net, id, &cases[i].cfg, err, sizeof(err));
        if (!cases[i].err) {
            ck_assert_msg(nd != NULL, "case %zu: %s", i, err);
        } else {
            ck_assert_msg(nd == NULL, "case %zu accepted", i);
            ck_assert_str_eq(err, cases[i].err);
        }
    }
    char err[256];
    NetSlirpConfig cfg = {0};
    ck_assert_ptr_null(net_slirp_new(net, "u1", &cfg, err, sizeof(err)));
    ck_assert_str_eq(err, "Duplicate ID 'u1' for netdev");
}
END_TEST

/* A loopback port nobody uses (bound, then let go). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t len = sizeof(a);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

START_TEST(test_hostfwd_port_in_use)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t len = sizeof(a);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    char rule[64], err[256], want[256];
    snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", ntohs(a.sin_port));
    NetSlirpConfig cfg = {.hostfwd_count = 1, .hostfwd = {rule}};
    ck_assert_ptr_null(net_slirp_new(net, "u0", &cfg, err, sizeof(err)));
    snprintf(want, sizeof(want), "Could not set up host forwarding rule '%s': %s", rule,
             strerror(EADDRINUSE));
    ck_assert_str_eq(err, want);
    close(fd);
    ck_assert_ptr_nonnull(net_slirp_new(net, "u0", &cfg, err, sizeof(err)));
}
END_TEST

/* A host connection to a forwarded port becomes the guest's: slirp
 * answers the accept by asking for 10.0.2.15 (ARP) or sending it a SYN. */
static bool frame_to_guest_port_22(const uint8_t *f, size_t len)
{
    uint32_t guest = ip4("10.0.2.15");
    if (len >= 42 && get16(f + 12) == 0x0806 && !memcmp(f + ETH_HLEN + 24, &guest, 4)) {
        return true;
    }
    return len >= 54 && get16(f + 12) == 0x0800 && f[ETH_HLEN + 9] == 6 &&
           !memcmp(f + ETH_HLEN + 16, &guest, 4) && get16(f + ETH_HLEN + IP_HLEN + 2) == 22;
}

START_TEST(test_hostfwd_reaches_the_guest)
{
    char rule[64], err[256];
    int port = free_port();
    snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", port);
    NetSlirpConfig cfg = {.hostfwd_count = 1, .hostfwd = {rule}};
    Netdev *nd = net_slirp_new(net, "u0", &cfg, err, sizeof(err));
    ck_assert_msg(nd != NULL, "%s", err);
    ck_assert(net_client_attach(&nic->nc, nd));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    a.sin_port = htons((uint16_t)port);
    ck_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
    bool seen = false;
    for (int64_t end = now_ms() + 5000; !seen && now_ms() < end;) {
        net_pump(net, 20);
        for (int i = 0; i < nic->rx.count && i < FAKE_FRAMES; i++) {
            seen |= frame_to_guest_port_22(nic->rx.data[i], nic->rx.len[i]);
        }
    }
    close(fd);
    ck_assert_msg(seen, "nothing for 10.0.2.15:22 among %d frames", nic->rx.count);
}
END_TEST

START_TEST(test_monitor_hostfwd)
{
    char err[256], msg[256], rule[64], want[128];
    NetSlirpConfig cfg = {0};
    NetSocketConfig sock = {.listen = "127.0.0.1:0"};
    net_slirp_hostfwd_add(net, NULL, "tcp::1-:22", msg, sizeof(msg));
    ck_assert_str_eq(msg, "user mode network stack not in use\n");
    ck_assert_ptr_nonnull(net_socket_new(net, "s0", &sock, err, sizeof(err)));
    ck_assert_ptr_nonnull(net_slirp_new(net, "u0", &cfg, err, sizeof(err)));

    int port = free_port();
    snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", port);
    net_slirp_hostfwd_add(net, NULL, rule, msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
    net_slirp_hostfwd_add(net, "u0", "tcp::22", msg, sizeof(msg));
    ck_assert_str_eq(msg, "Invalid host forwarding rule 'tcp::22' (Bad host port separator)\n");
    net_slirp_hostfwd_add(net, "nope", rule, msg, sizeof(msg));
    ck_assert_str_eq(msg, "unrecognized netdev id 'nope'\n");
    net_slirp_hostfwd_add(net, "s0", rule, msg, sizeof(msg));
    ck_assert_str_eq(msg, "invalid device specified\n");

    snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d", port);
    net_slirp_hostfwd_remove(net, "u0", rule, msg, sizeof(msg));
    snprintf(want, sizeof(want), "host forwarding rule for %s removed\n", rule);
    ck_assert_str_eq(msg, want);
    net_slirp_hostfwd_remove(net, NULL, rule, msg, sizeof(msg));
    snprintf(want, sizeof(want), "host forwarding rule for %s not found\n", rule);
    ck_assert_str_eq(msg, want);
    net_slirp_hostfwd_remove(net, NULL, "tcp:127.0.0.1", msg, sizeof(msg));
    ck_assert_str_eq(msg, "invalid format\n");
    net_slirp_hostfwd_remove(net, NULL, "icmp::22", msg, sizeof(msg));
    ck_assert_str_eq(msg, "invalid format\n");
}
END_TEST

START_TEST(test_idle_network_sleeps)
{
    char err[256];
    NetSlirpConfig cfg = {0};
    ck_assert_ptr_nonnull(net_slirp_new(net, "u0", &cfg, err, sizeof(err)));
    for (int round = 0; round < 3; round++) {
        net_pump(net, 0);
    }
    /* Nothing to do: the loop may sleep, but not forever (slirp's timers). */
    NetPollSet set = {NULL, 0, 0};
    int timeout = -1;
    net_poll_fill(net, &set, &timeout);
    ck_assert_int_gt(timeout, 0);
    ck_assert_int_le(timeout, 1000);
    net_poll_service(net, &set, false);
    /* A shorter wait from the caller stays. */
    set.n = 0;
    timeout = 50;
    net_poll_fill(net, &set, &timeout);
    ck_assert_int_eq(timeout, 50);
    net_poll_service(net, &set, false);
    net_pollset_free(&set);
}
END_TEST

static Suite *slirp_suite(void)
{
    Suite *s = suite_create("net_slirp");
    TCase *tc = tcase_create("user");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dhcp_offer_qemu_defaults);
    tcase_add_test(tc, test_dhcp_offer_other_network);
    tcase_add_test(tc, test_arp_for_the_host);
    tcase_add_test(tc, test_hostfwd_syntax);
    tcase_add_test(tc, test_bad_configs);
    tcase_add_test(tc, test_hostfwd_port_in_use);
    tcase_add_test(tc, test_hostfwd_reaches_the_guest);
    tcase_add_test(tc, test_monitor_hostfwd);
    tcase_add_test(tc, test_idle_network_sleeps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(slirp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
