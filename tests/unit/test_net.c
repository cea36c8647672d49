/*
 * The net layer (net/net.c) with fake NICs and backends: frames both ways,
 * the one frame kept for a busy receiver, drops, the link state as the
 * NIC hears it, garbage, info lines, and the pcap file of filter-dump.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/dump.h"
#include "net_fixture.h"

static Net *net;
static FakeNic *nic;
static FakeBackend *be;

static void setup(void)
{
    net = net_new();
    ck_assert_ptr_nonnull(net);
    nic = fake_nic_new();
    be = fake_backend_new(net, "n0");
    ck_assert(net_client_attach(&nic->nc, be->nd));
}

static void teardown(void)
{
    net_free(net);
    free(nic);
}

START_TEST(test_delivery_both_ways)
{
    uint8_t f[100];
    make_frame(f, sizeof(f), 1);
    net_client_send(&nic->nc, f, sizeof(f));
    ck_assert_int_eq(be->rx.count, 1);
    ck_assert_uint_eq(be->rx.len[0], sizeof(f));
    ck_assert_mem_eq(be->rx.data[0], f, sizeof(f));

    make_frame(f, sizeof(f), 2);
    netdev_send(be->nd, f, sizeof(f));
    ck_assert_int_eq(nic->rx.count, 1);
    ck_assert_mem_eq(nic->rx.data[0], f, sizeof(f));

    const NetdevStats *st = netdev_stats(be->nd);
    ck_assert_uint_eq(st->from_nic, 1);
    ck_assert_uint_eq(st->to_nic, 1);
    ck_assert_uint_eq(st->dropped, 0);
    ck_assert(net_client_link_up(&nic->nc));
    ck_assert_ptr_eq(net_find(net, "n0"), be->nd);
    ck_assert_ptr_null(net_find(net, "n1"));
}
END_TEST

START_TEST(test_busy_nic_keeps_one_frame)
{
    uint8_t f1[64], f2[64], f3[64];
    make_frame(f1, 64, 1);
    make_frame(f2, 64, 2);
    make_frame(f3, 64, 3);
    nic->full = true;
    ck_assert(netdev_can_send(be->nd));
    netdev_send(be->nd, f1, 64); /* kept */
    ck_assert(!netdev_can_send(be->nd));
    netdev_send(be->nd, f2, 64); /* dropped: the slot is taken */
    ck_assert_int_eq(nic->rx.count, 0);
    ck_assert_uint_eq(netdev_stats(be->nd)->dropped, 1);

    net_client_flush(&nic->nc); /* still full: nothing happens */
    ck_assert_int_eq(nic->rx.count, 0);
    nic->full = false;
    net_client_flush(&nic->nc);
    ck_assert_int_eq(nic->rx.count, 1);
    ck_assert_mem_eq(nic->rx.data[0], f1, 64);
    ck_assert(netdev_can_send(be->nd));

    /* A kept frame goes before a newer one, even without a flush. */
    nic->full = true;
    netdev_send(be->nd, f2, 64);
    nic->full = false;
    netdev_send(be->nd, f3, 64);
    ck_assert_int_eq(nic->rx.count, 3);
    ck_assert_mem_eq(nic->rx.data[1], f2, 64);
    ck_assert_mem_eq(nic->rx.data[2], f3, 64);
    ck_assert_uint_eq(netdev_stats(be->nd)->to_nic, 3);
}
END_TEST

START_TEST(test_busy_backend_keeps_one_frame)
{
    uint8_t f1[80], f2[80];
    make_frame(f1, 80, 1);
    make_frame(f2, 80, 2);
    be->full = true;
    net_client_send(&nic->nc, f1, 80);
    net_client_send(&nic->nc, f2, 80);
    ck_assert_int_eq(be->rx.count, 0);
    ck_assert_uint_eq(netdev_stats(be->nd)->dropped, 1);
    be->full = false;
    netdev_flush(be->nd);
    ck_assert_int_eq(be->rx.count, 1);
    ck_assert_mem_eq(be->rx.data[0], f1, 80);
    netdev_flush(be->nd); /* nothing left */
    ck_assert_int_eq(be->rx.count, 1);
}
END_TEST

START_TEST(test_link_state)
{
    uint8_t f[64];
    make_frame(f, 64, 1);

    /* set_link on the netdev: the NIC hears it; frames are dropped both ways. */
    netdev_set_link(be->nd, false);
    ck_assert_int_eq(nic->link_events, 1);
    ck_assert(!nic->link_up);
    ck_assert(!net_client_link_up(&nic->nc));
    net_client_send(&nic->nc, f, 64);
    netdev_send(be->nd, f, 64);
    ck_assert_int_eq(be->rx.count, 0);
    ck_assert_int_eq(nic->rx.count, 0);
    ck_assert_uint_eq(netdev_stats(be->nd)->dropped, 2);
    netdev_set_link(be->nd, false); /* no change: no news */
    ck_assert_int_eq(nic->link_events, 1);
    netdev_set_link(be->nd, true);
    ck_assert_int_eq(nic->link_events, 2);
    ck_assert(nic->link_up);

    /* set_link on the NIC, and a lost carrier: the same for the NIC. */
    netdev_set_nic_link(be->nd, false);
    ck_assert(!nic->link_up);
    ck_assert(!netdev_nic_link_on(be->nd));
    netdev_set_carrier(be->nd, false); /* already down: no news */
    ck_assert_int_eq(nic->link_events, 3);
    netdev_set_nic_link(be->nd, true);
    ck_assert_int_eq(nic->link_events, 3); /* still no carrier */
    ck_assert(!net_client_link_up(&nic->nc));
    netdev_set_carrier(be->nd, true);
    ck_assert_int_eq(nic->link_events, 4);
    ck_assert(nic->link_up && net_client_link_up(&nic->nc));

    /* A frame kept for a busy NIC is stale once the link goes down. */
    nic->full = true;
    netdev_send(be->nd, f, 64);
    netdev_set_carrier(be->nd, false);
    nic->full = false;
    netdev_set_carrier(be->nd, true);
    net_client_flush(&nic->nc);
    ck_assert_int_eq(nic->rx.count, 0);
    ck_assert(netdev_can_send(be->nd));
}
END_TEST

START_TEST(test_attach_to_a_down_link)
{
    FakeBackend *b2 = fake_backend_new(net, "n1");
    FakeNic *n2 = fake_nic_new();
    netdev_set_carrier(b2->nd, false);
    ck_assert(net_client_attach(&n2->nc, b2->nd));
    ck_assert_int_eq(n2->link_events, 1);
    ck_assert(!n2->link_up);
    /* One NIC per netdev. */
    ck_assert(!net_client_attach(&nic->nc, b2->nd));
    /* Without a NIC a backend's frames are dropped. */
    FakeBackend *b3 = fake_backend_new(net, "n2");
    uint8_t f[64];
    make_frame(f, 64, 0);
    netdev_send(b3->nd, f, 64);
    ck_assert_uint_eq(netdev_stats(b3->nd)->dropped, 1);
    /* net_free leaves attached NICs without a link. */
    net_free(net);
    net = net_new();
    ck_assert_ptr_null(n2->nc.link);
    ck_assert_ptr_null(nic->nc.link);
    ck_assert(!net_client_link_up(&n2->nc));
    net_client_send(&n2->nc, f, 64); /* no cable: vanishes */
    net_client_flush(&n2->nc);
    free(n2);
}
END_TEST

START_TEST(test_garbage_and_runts)
{
    static uint8_t big[NET_MAX_FRAME + 1];
    make_frame(big, sizeof(big), 0);
    netdev_send(be->nd, big, 0);
    netdev_send(be->nd, big, NET_MIN_FRAME - 1);
    netdev_send(be->nd, big, NET_MAX_FRAME + 1);
    net_client_send(&nic->nc, big, 3);
    net_client_send(&nic->nc, big, NET_MAX_FRAME + 1);
    ck_assert_int_eq(nic->rx.count, 0);
    ck_assert_int_eq(be->rx.count, 0);
    ck_assert_uint_eq(netdev_stats(be->nd)->garbage, 5);

    /* The largest frame passes; a runt reaches the NIC padded to 60 bytes. */
    netdev_send(be->nd, big, NET_MAX_FRAME);
    ck_assert_int_eq(nic->rx.count, 1);
    ck_assert_uint_eq(nic->rx.len[0], NET_MAX_FRAME);
    netdev_send(be->nd, big, 42);
    ck_assert_int_eq(nic->rx.count, 2);
    ck_assert_uint_eq(nic->rx.len[1], 60);
    ck_assert_mem_eq(nic->rx.data[1], big, 42);
    for (int i = 42; i < 60; i++) {
        ck_assert_uint_eq(nic->rx.data[1][i], 0);
    }
    netdev_count_garbage(be->nd);
    ck_assert_uint_eq(netdev_stats(be->nd)->garbage, 6);
}
END_TEST

/* Two NICs on two netdevs joined back to back by a crossover backend. */
typedef struct Crossover {
    Netdev *nd;
    Netdev *other;
} Crossover;

static void crossover_receive(void *opaque, const uint8_t *frame, size_t len)
{
    netdev_send(((Crossover *)opaque)->other, frame, len);
}

static const NetdevOps crossover_ops = {
    .type = "crossover",
    .receive = crossover_receive,
    .poll_fill = fake_backend_poll_fill,
    .poll_service = fake_backend_poll_service,
    .info = fake_backend_info,
    .free = free,
};

START_TEST(test_two_nics_through_the_layer)
{
    Crossover *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    a->nd = netdev_new(net, "a", &crossover_ops, a);
    b->nd = netdev_new(net, "b", &crossover_ops, b);
    a->other = b->nd;
    b->other = a->nd;
    FakeNic *na = fake_nic_new(), *nb = fake_nic_new();
    ck_assert(net_client_attach(&na->nc, a->nd));
    ck_assert(net_client_attach(&nb->nc, b->nd));
    uint8_t f[1514];
    make_frame(f, sizeof(f), 7);
    net_client_send(&na->nc, f, sizeof(f));
    ck_assert_int_eq(nb->rx.count, 1);
    ck_assert_mem_eq(nb->rx.data[0], f, sizeof(f));
    net_client_send(&nb->nc, f, 100);
    ck_assert_int_eq(na->rx.count, 1);
    ck_assert_int_eq(nb->rx.count, 1);
    /* B's cable pulled: A's frames are lost on B's side. */
    netdev_set_nic_link(b->nd, false);
    ck_assert(na->link_up);
    net_client_send(&na->nc, f, 100);
    ck_assert_int_eq(nb->rx.count, 1);
    ck_assert_uint_eq(netdev_stats(b->nd)->dropped, 1);
    /* Netdevs are listed in the order they were opened. */
    ck_assert_ptr_eq(net_next(net, NULL), be->nd);
    ck_assert_ptr_eq(net_next(net, be->nd), a->nd);
    ck_assert_ptr_eq(net_next(net, a->nd), b->nd);
    ck_assert_ptr_null(net_next(net, b->nd));
    net_free(net);
    net = net_new();
    free(na);
    free(nb);
}
END_TEST

START_TEST(test_info_lines)
{
    char buf[512];
    netdev_info(be->nd, buf, sizeof(buf));
    ck_assert_str_eq(buf, "n0: index=0,type=fake,fake\n");
    ck_assert_str_eq(netdev_id(be->nd), "n0");
    netdev_set_link(be->nd, false);
    netdev_info(be->nd, buf, sizeof(buf));
    ck_assert_str_eq(buf, "n0: index=0,type=fake,fake,link=down\n");
}
END_TEST

/* ---- filter-dump ---- */

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

START_TEST(test_dump_writes_pcap)
{
    char path[64], err[256], buf[512];
    snprintf(path, sizeof(path), "/tmp/popek-net-dump-%d.pcap", (int)getpid());
    ck_assert_msg(net_dump_attach(be->nd, "d0", path, 64, err, sizeof(err)), "%s", err);
    uint8_t f[100];
    make_frame(f, sizeof(f), 9);
    net_client_send(&nic->nc, f, 50);
    netdev_send(be->nd, f, 100); /* cut to maxlen 64 in the file */
    netdev_set_link(be->nd, false);
    net_client_send(&nic->nc, f, 70); /* dropped: not on the wire, not in the dump */
    netdev_info(be->nd, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "filters:\n  - d0: type=filter-dump,file="));

    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    uint8_t file[1024];
    size_t n = fread(file, 1, sizeof(file), fp);
    fclose(fp);
    unlink(path);
    ck_assert_uint_eq(n, 24 + (16 + 50) + (16 + 64));
    ck_assert_uint_eq(get32(file), 0xa1b2c3d4);
    ck_assert_uint_eq(file[4] | file[5] << 8, 2); /* version 2.4 */
    ck_assert_uint_eq(file[6] | file[7] << 8, 4);
    ck_assert_uint_eq(get32(file + 16), 64); /* snaplen */
    ck_assert_uint_eq(get32(file + 20), 1);  /* LINKTYPE_ETHERNET */
    const uint8_t *r1 = file + 24, *r2 = r1 + 16 + 50;
    ck_assert_uint_gt(get32(r1), 1600000000); /* a wall-clock time */
    ck_assert_uint_eq(get32(r1 + 8), 50);
    ck_assert_uint_eq(get32(r1 + 12), 50);
    ck_assert_mem_eq(r1 + 16, f, 50);
    ck_assert_uint_eq(get32(r2 + 8), 64);
    ck_assert_uint_eq(get32(r2 + 12), 100);
    ck_assert_mem_eq(r2 + 16, f, 64);
    ck_assert_uint_ge(get32(r2) * 1000000ull + get32(r2 + 4),
                      get32(r1) * 1000000ull + get32(r1 + 4));

    ck_assert(!net_dump_attach(be->nd, "d1", "/nonexistent/dir/x.pcap", 100, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/x.pcap"));
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_delivery_both_ways);
    tcase_add_test(tc, test_busy_nic_keeps_one_frame);
    tcase_add_test(tc, test_busy_backend_keeps_one_frame);
    tcase_add_test(tc, test_link_state);
    tcase_add_test(tc, test_attach_to_a_down_link);
    tcase_add_test(tc, test_garbage_and_runts);
    tcase_add_test(tc, test_two_nics_through_the_layer);
    tcase_add_test(tc, test_info_lines);
    tcase_add_test(tc, test_dump_writes_pcap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
