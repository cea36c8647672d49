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
    uint32_t read_base;        /* value returned = read_base + port */
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
    ck_assert_int_eq(ioport_register(map, 0x1f0, 2, 2, fake_read, fake_write, &d), 0);
    /* The IDE data port (16-bit only) read with IN EAX: two word reads. */
    ck_assert_uint_eq(ioport_read(map, 0x1f0, 4), (0x1f1u << 16) | 0x1f0);
    ck_assert_int_eq(d.naccess, 2);
    ck_assert_int_eq(d.log[0].size, 2);
    ck_assert_int_eq(d.log[1].size, 2);
    ck_assert_uint_eq(d.log[1].port, 0x1f2 - 1 + 1 - 0 ? 0x1f2 : 0);
}
END_TEST
