/*
 * Port I/O dispatch: ownership, width splitting as the ISA bus does it,
 * unclaimed ports, the observer.
 */
#include <check.h>
#include <stdlib.h>

#include "softmmu/ioport.h"

#define LOG_MAX 32

/* A fake device that answers each port with a value derived from the port
 * and records every access it receives. */
typedef struct FakeDev {
    uint32_t read_base; /* value returned = read_base + port */
    int naccess;
    struct {
        uint16_t port;
        uint32_t value;
        int size;
        int is_write;
    } log[LOG_MAX];
} FakeDev;

static uint32_t fake_read(void *opaque, uint16_t port, int size)
{
    FakeDev *d = opaque;
    if (d->naccess < LOG_MAX) {
        d->log[d->naccess].port = port;
        d->log[d->naccess].size = size;
        d->log[d->naccess].is_write = 0;
        d->log[d->naccess].value = 0;
    }
    d->naccess++;
    return d->read_base + port;
}

static void fake_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    FakeDev *d = opaque;
    if (d->naccess < LOG_MAX) {
        d->log[d->naccess].port = port;
        d->log[d->naccess].size = size;
        d->log[d->naccess].is_write = 1;
        d->log[d->naccess].value = value;
    }
    d->naccess++;
}

static IOPortMap *map;

static void setup(void)
{
    map = malloc(sizeof(*map));
    ck_assert_ptr_nonnull(map);
    ioport_init(map);
}

static void teardown(void)
{
    free(map);
}

START_TEST(test_unclaimed_reads_all_ones)
{
    ck_assert_uint_eq(ioport_read(map, 0x1234, 1), 0xff);
    ck_assert_uint_eq(ioport_read(map, 0x1234, 2), 0xffff);
    ck_assert_uint_eq(ioport_read(map, 0x1234, 4), 0xffffffffu);
    /* Writes to nowhere are dropped, and do not claim the port. */
    ioport_write(map, 0x1234, 0x55, 1);
    ck_assert_uint_eq(ioport_read(map, 0x1234, 1), 0xff);
}
END_TEST

START_TEST(test_byte_device_gets_split_reads)
{
    FakeDev d = {.read_base = 0x10};
    ck_assert_int_eq(ioport_register(map, 0x60, 4, 1, fake_read, fake_write, &d), 0);
    /* 16-bit IN from byte ports: low byte from 0x60, high byte from 0x61. */
    ck_assert_uint_eq(ioport_read(map, 0x60, 2), 0x7170);
    ck_assert_int_eq(d.naccess, 2);
    ck_assert_uint_eq(d.log[0].port, 0x60);
    ck_assert_int_eq(d.log[0].size, 1);
    ck_assert_uint_eq(d.log[1].port, 0x61);
    ck_assert_int_eq(d.log[1].size, 1);
    /* 32-bit IN: four byte reads in address order. */
    d.naccess = 0;
    ck_assert_uint_eq(ioport_read(map, 0x60, 4), 0x73727170u);
    ck_assert_int_eq(d.naccess, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(d.log[i].port, 0x60 + i);
        ck_assert_int_eq(d.log[i].size, 1);
    }
}
END_TEST

START_TEST(test_byte_device_gets_split_writes)
{
    FakeDev d = {0};
    ck_assert_int_eq(ioport_register(map, 0x3f8, 8, 1, fake_read, fake_write, &d), 0);
    ioport_write(map, 0x3f8, 0xddccbbaa, 4);
    ck_assert_int_eq(d.naccess, 4);
    static const uint8_t expect[4] = {0xaa, 0xbb, 0xcc, 0xdd};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(d.log[i].is_write, 1);
        ck_assert_uint_eq(d.log[i].port, 0x3f8 + i);
        ck_assert_uint_eq(d.log[i].value, expect[i]);
        ck_assert_int_eq(d.log[i].size, 1);
    }
}
END_TEST

START_TEST(test_native_widths_not_split)
{
    FakeDev d = {.read_base = 0x12340000};
    ck_assert_int_eq(ioport_register(map, 0xcfc, 4, 1 | 2 | 4, fake_read, fake_write, &d), 0);
    ck_assert_uint_eq(ioport_read(map, 0xcfc, 4), 0x12340cfcu);
    ck_assert_int_eq(d.naccess, 1);
    ck_assert_int_eq(d.log[0].size, 4);
    ioport_write(map, 0xcfe, 0xbeef, 2);
    ck_assert_int_eq(d.naccess, 2);
    ck_assert_int_eq(d.log[1].size, 2);
    ck_assert_uint_eq(d.log[1].value, 0xbeef);
    /* A handler's reply is cut to the access width. */
    ck_assert_uint_eq(ioport_read(map, 0xcfd, 1), 0xfd);
}
END_TEST

START_TEST(test_word_device_takes_dword_as_two_words)
{
    FakeDev d = {.read_base = 0};
    ck_assert_int_eq(ioport_register(map, 0x1f0, 4, 2, fake_read, fake_write, &d), 0);
    /* A 16-bit-only device read with IN EAX: two word reads. */
    ck_assert_uint_eq(ioport_read(map, 0x1f0, 4), (0x1f2u << 16) | 0x1f0);
    ck_assert_int_eq(d.naccess, 2);
    ck_assert_uint_eq(d.log[0].port, 0x1f0);
    ck_assert_int_eq(d.log[0].size, 2);
    ck_assert_uint_eq(d.log[1].port, 0x1f2);
    ck_assert_int_eq(d.log[1].size, 2);
    /* A byte access it cannot take finds no receiver. */
    d.naccess = 0;
    ck_assert_uint_eq(ioport_read(map, 0x1f0, 1), 0xff);
    ioport_write(map, 0x1f0, 0x12, 1);
    ck_assert_int_eq(d.naccess, 0);
}
END_TEST

START_TEST(test_split_crosses_device_boundary)
{
    FakeDev a = {.read_base = 0xa0};
    FakeDev b = {.read_base = 0xb0};
    ck_assert_int_eq(ioport_register(map, 0x100, 1, 1, fake_read, fake_write, &a), 0);
    ck_assert_int_eq(ioport_register(map, 0x101, 1, 1, fake_read, fake_write, &b), 0);
    /* Each byte of a split access goes to the owner of its own port, and a
     * byte nobody owns floats high. */
    ck_assert_uint_eq(ioport_read(map, 0x100, 4),
                      0xffff0000u | ((0xb0 + 0x101) & 0xff) << 8 | ((0xa0 + 0x100) & 0xff));
    ck_assert_int_eq(a.naccess, 1);
    ck_assert_int_eq(b.naccess, 1);
    /* An access starting on an unclaimed port still reaches the owned half. */
    ck_assert_uint_eq(ioport_read(map, 0xff, 2), ((0xa0 + 0x100) & 0xff) << 8 | 0xff);
    ioport_write(map, 0xff, 0x4433, 2);
    ck_assert_int_eq(a.naccess, 3);
    ck_assert_uint_eq(a.log[2].value, 0x44);
}
END_TEST

START_TEST(test_split_wraps_at_top_of_space)
{
    FakeDev d = {.read_base = 0};
    ck_assert_int_eq(ioport_register(map, 0xffff, 1, 1, fake_read, fake_write, &d), 0);
    ck_assert_int_eq(ioport_register(map, 0x0000, 1, 1, fake_read, fake_write, &d), 0);
    /* Byte address arithmetic wraps in the 16-bit port space. */
    ck_assert_uint_eq(ioport_read(map, 0xffff, 2), 0x00ff);
    ck_assert_uint_eq(d.log[0].port, 0xffff);
    ck_assert_uint_eq(d.log[1].port, 0x0000);
}
END_TEST

typedef struct ObserverLog {
    int calls;
    uint16_t port;
    uint32_t value;
    int size;
    int is_write;
} ObserverLog;

static void observer(void *opaque, uint16_t port, uint32_t value, int size, int is_write)
{
    ObserverLog *o = opaque;
    o->calls++;
    o->port = port;
    o->value = value;
    o->size = size;
    o->is_write = is_write;
}

START_TEST(test_observer_sees_each_cpu_access_once)
{
    FakeDev d = {.read_base = 0x20};
    ObserverLog o = {0};
    ck_assert_int_eq(ioport_register(map, 0x60, 2, 1, fake_read, fake_write, &d), 0);
    ioport_set_observer(map, observer, &o);
    uint32_t v = ioport_read(map, 0x60, 2);
    ck_assert_int_eq(o.calls, 1); /* not once per split byte */
    ck_assert_uint_eq(o.port, 0x60);
    ck_assert_uint_eq(o.value, v);
    ck_assert_int_eq(o.size, 2);
    ck_assert_int_eq(o.is_write, 0);
    ioport_write(map, 0x80, 0x1ab, 1); /* unclaimed still observed, value cut */
    ck_assert_int_eq(o.calls, 2);
    ck_assert_uint_eq(o.port, 0x80);
    ck_assert_uint_eq(o.value, 0xab);
    ck_assert_int_eq(o.is_write, 1);
    ioport_set_observer(map, NULL, NULL);
    ioport_read(map, 0x60, 1);
    ck_assert_int_eq(o.calls, 2);
}
END_TEST

START_TEST(test_unregister_and_slot_reuse)
{
    FakeDev d = {.read_base = 0};
    /* Far more register/unregister cycles than there are handler slots. */
    for (int i = 0; i < 1000; i++) {
        FakeDev *opaque = (i & 1) ? &d : NULL;
        ck_assert_int_eq(ioport_register(map, 0x200, 8, 1, fake_read, fake_write, opaque), 0);
        ioport_unregister(map, 0x200, 8);
    }
    ck_assert_int_eq(map->nhandlers, 0);
    ck_assert_uint_eq(ioport_read(map, 0x200, 1), 0xff);
    /* Unregistering part of a range leaves the rest owned. */
    ck_assert_int_eq(ioport_register(map, 0x200, 8, 1, fake_read, fake_write, &d), 0);
    ioport_unregister(map, 0x204, 4);
    ck_assert_uint_eq(ioport_read(map, 0x203, 1), 0x03);
    ck_assert_uint_eq(ioport_read(map, 0x204, 1), 0xff);
    ck_assert_int_eq(map->nhandlers, 1);
}
END_TEST

START_TEST(test_later_claim_overrides)
{
    FakeDev a = {.read_base = 0x10};
    FakeDev b = {.read_base = 0x20};
    ck_assert_int_eq(ioport_register(map, 0x300, 4, 1, fake_read, fake_write, &a), 0);
    ck_assert_int_eq(ioport_register(map, 0x300, 4, 1, fake_read, fake_write, &b), 0);
    ck_assert_uint_eq(ioport_read(map, 0x301, 1), (0x20 + 0x301) & 0xff);
    ck_assert_int_eq(a.naccess, 0);
    /* a lost all its ports, so its slot was given back. */
    ck_assert_int_eq(map->nhandlers, 1);
}
END_TEST

START_TEST(test_partial_override_keeps_the_rest)
{
    FakeDev a = {.read_base = 0x10};
    FakeDev b = {.read_base = 0x20};
    ck_assert_int_eq(ioport_register(map, 0x300, 8, 1, fake_read, fake_write, &a), 0);
    ck_assert_int_eq(ioport_register(map, 0x304, 8, 1, fake_read, fake_write, &b), 0);
    ck_assert_int_eq(map->nhandlers, 2);
    ck_assert_uint_eq(map->handlers[map->owner[0x300]].nports, 4);
    ck_assert_uint_eq(map->handlers[map->owner[0x304]].nports, 8);
    /* a keeps 0x300-0x303 until they go too; then its slot is free. */
    ioport_unregister(map, 0x300, 3);
    ck_assert_int_eq(map->nhandlers, 2);
    ck_assert_uint_eq(ioport_read(map, 0x303, 1), (0x10 + 0x303) & 0xff);
    ioport_unregister(map, 0x303, 1);
    ck_assert_int_eq(map->nhandlers, 1);
    ck_assert_uint_eq(ioport_read(map, 0x30b, 1), (0x20 + 0x30b) & 0xff);
}
END_TEST

START_TEST(test_register_rejects_bad_ranges)
{
    FakeDev d = {.read_base = 1};
    ck_assert_int_eq(ioport_register(map, 0x10, 0, 1, fake_read, fake_write, &d), -1);
    ck_assert_int_eq(ioport_register(map, 0xfff0, 0x11, 1, fake_read, fake_write, &d), -1);
    ck_assert_int_eq(ioport_register(map, 0x10, 1, 0, fake_read, fake_write, &d), -1);
    ck_assert_int_eq(ioport_register(map, 0xfff0, 0x10, 1, fake_read, fake_write, &d), 0);
    /* The last port of the space can be claimed: 1 + 0xffff cut to 8 bits. */
    ck_assert_uint_eq(ioport_read(map, 0xffff, 1), 0x00);
}
END_TEST

START_TEST(test_table_full_returns_error)
{
    static FakeDev devs[300];
    int ok = 0;
    for (int i = 0; i < 300; i++) {
        if (ioport_register(map, 0x1000 + i, 1, 1, fake_read, fake_write, &devs[i]) == 0) {
            ok++;
        }
    }
    /* 255 usable slots; the rest are refused without disturbing them. */
    ck_assert_int_eq(ok, 255);
    ck_assert_uint_eq(ioport_read(map, 0x1000 + 254, 1), (0x1000 + 254) & 0xff);
    ck_assert_uint_eq(ioport_read(map, 0x1000 + 255, 1), 0xff);
    ck_assert_int_eq(devs[254].naccess, 1);
}
END_TEST

static Suite *ioport_suite(void)
{
    Suite *s = suite_create("ioport");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unclaimed_reads_all_ones);
    tcase_add_test(tc, test_byte_device_gets_split_reads);
    tcase_add_test(tc, test_byte_device_gets_split_writes);
    tcase_add_test(tc, test_native_widths_not_split);
    tcase_add_test(tc, test_word_device_takes_dword_as_two_words);
    tcase_add_test(tc, test_split_crosses_device_boundary);
    tcase_add_test(tc, test_split_wraps_at_top_of_space);
    tcase_add_test(tc, test_observer_sees_each_cpu_access_once);
    tcase_add_test(tc, test_unregister_and_slot_reuse);
    tcase_add_test(tc, test_later_claim_overrides);
    tcase_add_test(tc, test_partial_override_keeps_the_rest);
    tcase_add_test(tc, test_register_rejects_bad_ranges);
    tcase_add_test(tc, test_table_full_returns_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ioport_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
