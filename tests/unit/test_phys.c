/*
 * softmmu/phys.c: RAM, ROM and MMIO dispatch, unclaimed addresses, accesses
 * straddling a region boundary, host pointer bounds and lazily backed RAM.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "softmmu/phys.h"

#define MIB (1024u * 1024u)

/* A fake device that records its accesses and reads back 0xA0 + offset per byte. */
typedef struct FakeDev {
    int reads, writes;
    uint32_t last_offset;
    int last_size;
    uint32_t last_value;
    uint8_t written[64]; /* bytes written at offsets 0..63 */
    uint32_t log_offset[8];
    int log_size[8];
    int nlog;
} FakeDev;

static uint32_t fake_read(void *opaque, uint32_t offset, int size)
{
    FakeDev *d = opaque;
    d->reads++;
    d->last_offset = offset;
    d->last_size = size;
    if (d->nlog < 8) {
        d->log_offset[d->nlog] = offset;
        d->log_size[d->nlog++] = size;
    }
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        v |= (uint32_t)((0xa0 + offset + i) & 0xff) << (8 * i);
    }
    return v;
}

static void fake_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    FakeDev *d = opaque;
    d->writes++;
    d->last_offset = offset;
    d->last_size = size;
    d->last_value = value;
    if (d->nlog < 8) {
        d->log_offset[d->nlog] = offset;
        d->log_size[d->nlog++] = size;
    }
    for (int i = 0; i < size; i++) {
        if (offset + i < sizeof(d->written)) {
            d->written[offset + i] = (uint8_t)(value >> (8 * i));
        }
    }
}

static const MMIOOps fake_ops = {fake_read, fake_write};

static PhysMem pm;

static void setup(void)
{
    ck_assert(phys_init(&pm, 1 * MIB));
}

static void teardown(void)
{
    phys_destroy(&pm);
}

START_TEST(test_init_rejects_bad_size)
{
    PhysMem bad;
    ck_assert(!phys_init(&bad, 0));
    ck_assert(!phys_init(&bad, 4096 + 1));
}
END_TEST

START_TEST(test_ram_little_endian_and_unaligned)
{
    phys_write(&pm, 0x1000, 0x11223344, 4);
    ck_assert_uint_eq(phys_read(&pm, 0x1000, 1), 0x44);
    ck_assert_uint_eq(phys_read(&pm, 0x1001, 2), 0x2233);
    ck_assert_uint_eq(phys_read(&pm, 0x1000, 4), 0x11223344);
    ck_assert_uint_eq(pm.ram[0x1003], 0x11);

    /* A dword across two RAM pages is still one RAM access. */
    phys_write(&pm, 0x1ffe, 0xaabbccdd, 4);
    ck_assert_uint_eq(phys_read(&pm, 0x1ffe, 4), 0xaabbccdd);
    ck_assert_uint_eq(pm.ram[0x2000], 0xbb);
    ck_assert(pm.dirty_pages[1]);
    ck_assert(pm.dirty_pages[2]);
    ck_assert(!pm.dirty_pages[3]);
}
END_TEST

START_TEST(test_rom_reads_ignores_writes)
{
    uint8_t image[0x100];
    for (int i = 0; i < 0x100; i++) {
        image[i] = (uint8_t)(i ^ 0x5a);
    }
    int r = phys_map_rom(&pm, 0xf0000, image, sizeof(image), 0);
    ck_assert_int_ge(r, 0);
    image[0] = 0; /* the map holds a copy */
    ck_assert_uint_eq(phys_read(&pm, 0xf0000, 1), 0x5a);
    ck_assert_uint_eq(phys_read(&pm, 0xf0010, 4), 0x49484b4au);

    phys_write(&pm, 0xf0000, 0xffffffff, 4);
    ck_assert_uint_eq(phys_read(&pm, 0xf0000, 1), 0x5a);
    uint8_t zeros[4] = {0};
    phys_write_buf(&pm, 0xf0004, zeros, 4);
    ck_assert_uint_eq(phys_read(&pm, 0xf0004, 1), 0x04 ^ 0x5a);

    /* Loaders may write ROM. */
    phys_load(&pm, 0xf0004, zeros, 4);
    ck_assert_uint_eq(phys_read(&pm, 0xf0004, 4), 0);

    /* The ROM shadows RAM; disabling it shows the RAM beneath. */
    ck_assert_uint_eq(pm.ram[0xf0000], 0);
    phys_region_enable(&pm, r, false);
    phys_write(&pm, 0xf0000, 0x77, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xf0000, 1), 0x77);
    phys_region_enable(&pm, r, true);
    ck_assert_uint_eq(phys_read(&pm, 0xf0000, 1), 0x5a);
}
END_TEST

START_TEST(test_mmio_dispatch_with_size)
{
    FakeDev dev = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x20000, &fake_ops, &dev, 0), 0);
    ck_assert_uint_eq(phys_read(&pm, 0xa0010, 2), 0xb1b0);
    ck_assert_uint_eq(dev.last_offset, 0x10);
    ck_assert_int_eq(dev.last_size, 2);
    phys_write(&pm, 0xa0020, 0xdeadbeef, 4);
    ck_assert_int_eq(dev.writes, 1);
    ck_assert_uint_eq(dev.last_offset, 0x20);
    ck_assert_int_eq(dev.last_size, 4);
    ck_assert_uint_eq(dev.last_value, 0xdeadbeef);
    phys_write(&pm, 0xa0001, 0x1234, 1);
    ck_assert_uint_eq(dev.last_value, 0x34); /* only the byte the access carries */
    /* RAM underneath is untouched. */
    ck_assert_uint_eq(pm.ram[0xa0020], 0);
}
END_TEST

START_TEST(test_unclaimed_reads_ones)
{
    ck_assert_uint_eq(phys_read(&pm, 2 * MIB, 1), 0xff);
    ck_assert_uint_eq(phys_read(&pm, 2 * MIB, 2), 0xffff);
    ck_assert_uint_eq(phys_read(&pm, 0xfffffffc, 4), 0xffffffff);
    phys_write(&pm, 2 * MIB, 0, 4);
    ck_assert_uint_eq(phys_read(&pm, 2 * MIB, 4), 0xffffffff);
    uint8_t buf[8];
    memset(buf, 0, sizeof(buf));
    phys_read_buf(&pm, 3 * MIB, buf, sizeof(buf));
    for (int i = 0; i < 8; i++) {
        ck_assert_uint_eq(buf[i], 0xff);
    }
    /* A dword starting in the last RAM bytes: RAM low half, open bus high half. */
    phys_write(&pm, MIB - 2, 0x1234, 2);
    ck_assert_uint_eq(phys_read(&pm, MIB - 2, 4), 0xffff1234);
}
END_TEST

START_TEST(test_priority_and_ties)
{
    FakeDev low = {0}, high = {0}, later = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x20000, &fake_ops, &low, 0), 0);
    int h = phys_map_mmio(&pm, 0xb0000, 0x1000, &fake_ops, &high, 5);
    ck_assert_int_ge(h, 0);
    /* Lower priority mapped later does not shadow the higher one. */
    ck_assert_int_ge(phys_map_mmio(&pm, 0xb0000, 0x100, &fake_ops, &later, 1), 0);
    phys_read(&pm, 0xb0004, 1);
    ck_assert_int_eq(high.reads, 1);
    ck_assert_uint_eq(high.last_offset, 4);
    ck_assert_int_eq(later.reads, 0);
    phys_read(&pm, 0xa0004, 1);
    ck_assert_int_eq(low.reads, 1);

    phys_region_enable(&pm, h, false);
    phys_read(&pm, 0xb0004, 1);
    ck_assert_int_eq(later.reads, 1);
    phys_read(&pm, 0xb0200, 1);
    ck_assert_int_eq(low.reads, 2);
    ck_assert_uint_eq(low.last_offset, 0x10200);

    /* Equal priority: the later mapping wins. */
    FakeDev tie = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x10, &fake_ops, &tie, 0), 0);
    phys_read(&pm, 0xa0008, 1);
    ck_assert_int_eq(tie.reads, 1);
    ck_assert_int_eq(low.reads, 2);
}
END_TEST

START_TEST(test_straddle_ram_mmio_split_into_bytes)
{
    FakeDev dev = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x1000, &fake_ops, &dev, 0), 0);
    phys_write(&pm, 0x9fffe, 0x2211, 2);
    /* Two RAM bytes then device bytes at offsets 0 and 1, one byte each. */
    ck_assert_uint_eq(phys_read(&pm, 0x9fffe, 4), 0xa1a02211u);
    ck_assert_int_eq(dev.nlog, 2);
    ck_assert_uint_eq(dev.log_offset[0], 0);
    ck_assert_int_eq(dev.log_size[0], 1);
    ck_assert_uint_eq(dev.log_offset[1], 1);
    ck_assert_int_eq(dev.log_size[1], 1);

    dev.nlog = 0;
    phys_write(&pm, 0x9ffff, 0x44332211, 4);
    ck_assert_uint_eq(pm.ram[0x9ffff], 0x11);
    ck_assert_int_eq(dev.writes, 3);
    ck_assert_uint_eq(dev.written[0], 0x22);
    ck_assert_uint_eq(dev.written[1], 0x33);
    ck_assert_uint_eq(dev.written[2], 0x44);
    ck_assert_int_eq(dev.log_size[2], 1);
    /* RAM past the region is reachable again. */
    phys_write(&pm, 0xa0fff, 0x6655, 2);
    ck_assert_uint_eq(dev.last_offset, 0xfff);
    ck_assert_uint_eq(dev.last_value, 0x55);
    ck_assert_uint_eq(pm.ram[0xa1000], 0x66);
    ck_assert_uint_eq(pm.ram[0xa0fff], 0);
}
END_TEST

START_TEST(test_straddle_ram_rom_write)
{
    uint8_t image[16];
    memset(image, 0xee, sizeof(image));
    ck_assert_int_ge(phys_map_rom(&pm, 0xc0000, image, sizeof(image), 0), 0);
    phys_write(&pm, 0xbfffe, 0x44332211, 4);
    ck_assert_uint_eq(pm.ram[0xbfffe], 0x11);
    ck_assert_uint_eq(pm.ram[0xbffff], 0x22);
    ck_assert_uint_eq(phys_read(&pm, 0xbfffe, 4), 0xeeee2211u);
}
END_TEST

START_TEST(test_host_ptr_bounds)
{
    bool writable = false;
    uint8_t image[0x2000];
    memset(image, 0, sizeof(image));
    FakeDev dev = {0};
    ck_assert_int_ge(phys_map_rom(&pm, 0xe0000, image, sizeof(image), 0), 0);
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x10000, &fake_ops, &dev, 0), 0);

    ck_assert_ptr_eq(phys_host_ptr(&pm, 0x5000, 0x1000, &writable), pm.ram + 0x5000);
    ck_assert(writable);
    /* Whole RAM below the MMIO window is one range. */
    ck_assert_ptr_eq(phys_host_ptr(&pm, 0, 0xa0000, &writable), pm.ram);
    ck_assert_ptr_null(phys_host_ptr(&pm, 0x9f000, 0x1001, &writable));
    ck_assert_ptr_null(phys_host_ptr(&pm, 0xa0000, 1, &writable));
    /* Past the end of RAM. */
    ck_assert_ptr_null(phys_host_ptr(&pm, MIB - 0x1000, 0x1001, &writable));
    ck_assert_ptr_null(phys_host_ptr(&pm, MIB, 1, &writable));
    ck_assert_ptr_null(phys_host_ptr(&pm, 0xfffff000, 0x2000, &writable));
    /* ROM: inside one region only, never writable. */
    uint8_t *rom = phys_host_ptr(&pm, 0xe1000, 0x1000, &writable);
    ck_assert_ptr_nonnull(rom);
    ck_assert(!writable);
    ck_assert_ptr_eq(phys_host_ptr(&pm, 0xe0000, 0x1000, &writable) + 0x1000, rom);
    ck_assert_ptr_null(phys_host_ptr(&pm, 0xe1000, 0x1001, &writable));
    ck_assert_ptr_null(phys_host_ptr(&pm, 0xdf000, 0x2000, &writable));
}
END_TEST

typedef struct HookLog {
    int calls;
    uint32_t paddr[4];
    int size[4];
} HookLog;

static void record_hook(void *opaque, uint32_t paddr, int size)
{
    HookLog *log = opaque;
    if (log->calls < 4) {
        log->paddr[log->calls] = paddr;
        log->size[log->calls] = size;
    }
    log->calls++;
}

START_TEST(test_code_write_hook)
{
    HookLog log = {0};
    pm.ncode_listeners = 0; /* this listener alone, as if nothing else kept code */
    phys_add_code_listener(&pm, record_hook, &log);
    pm.code_pages[2] = 1;
    phys_write(&pm, 0x3000, 1, 4);
    ck_assert_int_eq(log.calls, 0);
    phys_write(&pm, 0x2004, 0x12345678, 4);
    ck_assert_int_eq(log.calls, 1);
    ck_assert_uint_eq(log.paddr[0], 0x2004);
    ck_assert_int_eq(log.size[0], 4);
    ck_assert_uint_eq(phys_read(&pm, 0x2004, 4), 0x12345678);

    uint8_t buf[0x20];
    memset(buf, 0x90, sizeof(buf));
    phys_write_buf(&pm, 0x1ff0, buf, sizeof(buf));
    ck_assert_int_eq(log.calls, 2);
    ck_assert_uint_eq(log.paddr[1], 0x2000);
    ck_assert_int_eq(log.size[1], 0x10);
}
END_TEST

/* Every listener hears every code-page write; a listener added twice hears
 * it once; a removed one no more. */
START_TEST(test_code_write_listeners)
{
    HookLog a = {0}, b = {0};
    pm.ncode_listeners = 0;
    phys_add_code_listener(&pm, record_hook, &a);
    phys_add_code_listener(&pm, record_hook, &b);
    phys_add_code_listener(&pm, record_hook, &a);
    pm.code_pages[2] = 1;
    phys_write(&pm, 0x2008, 1, 2);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(b.calls, 1);
    ck_assert_uint_eq(b.paddr[0], 0x2008);
    phys_remove_code_listener(&pm, record_hook, &a);
    phys_write(&pm, 0x2010, 1, 2);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(b.calls, 2);
}
END_TEST

/* phys_fill over RAM, MMIO, ROM and nearly 4 GiB of unmapped space: each
 * kind gets what phys_write_buf would give it, and the unmapped span is
 * skipped in steps, not 64 Ki chunks (a fw_cfg DMA clearing 4 GiB). */
START_TEST(test_fill_across_kinds)
{
    FakeDev dev = {0};
    uint8_t image[0x100] = {0x11};
    ck_assert_int_ge(phys_map_mmio(&pm, 0x10000000u, 0x1000, &fake_ops, &dev, 0), 0);
    ck_assert_int_ge(phys_map_rom(&pm, 0xffff0000u, image, sizeof(image), 0), 0);
    pm.dirty_pages[MIB / 4096 - 1] = 0;
    phys_fill(&pm, MIB - 4, 0x5a, 0xffffffffu - (MIB - 4));
    for (uint32_t a = MIB - 4; a < MIB; a++) {
        ck_assert_uint_eq(pm.ram[a], 0x5a);
    }
    ck_assert_uint_eq(pm.ram[MIB - 5], 0);
    ck_assert(pm.dirty_pages[MIB / 4096 - 1]);
    ck_assert_int_eq(dev.writes, 0x1000); /* byte by byte, as phys_write_buf */
    ck_assert_uint_eq(dev.written[0], 0x5a);
    ck_assert_uint_eq(dev.written[63], 0x5a);
    ck_assert_uint_eq(phys_read(&pm, 0xffff0000u, 1), 0x11); /* ROM ignores it */
}
END_TEST

START_TEST(test_buffers_across_kinds)
{
    FakeDev dev = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, MIB - 0x1000, 0x1000, &fake_ops, &dev, 0), 0);
    /* RAM (2 bytes) | MMIO (0x1000 bytes) | open bus (2 bytes) */
    uint8_t buf[0x1004];
    phys_write(&pm, MIB - 0x1002, 0xbbaa, 2);
    phys_read_buf(&pm, MIB - 0x1002, buf, sizeof(buf));
    ck_assert_uint_eq(buf[0], 0xaa);
    ck_assert_uint_eq(buf[1], 0xbb);
    ck_assert_uint_eq(buf[2], 0xa0);
    ck_assert_uint_eq(buf[3], 0xa1);
    ck_assert_uint_eq(buf[0x1002], 0xff);
    ck_assert_uint_eq(buf[0x1003], 0xff);

    memset(buf, 0x42, sizeof(buf));
    phys_write_buf(&pm, MIB - 0x1002, buf, 4);
    ck_assert_uint_eq(pm.ram[MIB - 0x1001], 0x42);
    ck_assert_uint_eq(dev.written[0], 0x42);
    ck_assert_uint_eq(dev.written[1], 0x42);
    ck_assert_uint_eq(pm.ram[MIB - 0x1000], 0);
}
END_TEST

START_TEST(test_region_limits)
{
    FakeDev dev = {0};
    ck_assert_int_eq(phys_map_mmio(&pm, 0xfffff000, 0x2000, &fake_ops, &dev, 0), -1);
    ck_assert_int_eq(phys_map_mmio(&pm, 0xfffff000, 0, &fake_ops, &dev, 0), -1);
    ck_assert_int_ge(phys_map_mmio(&pm, 0xfffff000, 0x1000, &fake_ops, &dev, 0), 0);
    for (int i = 1; i < PHYS_MAX_REGIONS; i++) {
        ck_assert_int_ge(phys_map_mmio(&pm, 0xe0000000 + i * 0x1000, 0x1000, &fake_ops, &dev, 0),
                         0);
    }
    ck_assert_int_eq(phys_map_mmio(&pm, 0xd0000000, 0x1000, &fake_ops, &dev, 0), -1);
}
END_TEST

/* Resident pages of this process (second field of /proc/self/statm). */
static long resident_pages(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident;
}

START_TEST(test_lazy_ram)
{
    PhysMem big;
    long page = sysconf(_SC_PAGESIZE);
    long before = resident_pages();
    ck_assert(phys_init(&big, 1024 * MIB));
    long after_init = resident_pages();
    /* 1 GiB reserved; the per-page tables are 3 x 256 KiB at most. */
    ck_assert_int_lt((after_init - before) * page, 4 * (long)MIB);
    phys_write(&big, 512 * MIB, 0xcafe, 4);
    phys_write(&big, 1024 * MIB - 4, 0xbeef, 4);
    long after_write = resident_pages();
    ck_assert_int_lt((after_write - after_init) * page, 1 * (long)MIB);
    ck_assert_uint_eq(phys_read(&big, 512 * MIB, 4), 0xcafe);
    ck_assert_uint_eq(phys_read(&big, 1024 * MIB - 4, 4), 0xbeef);
    phys_destroy(&big);
}
END_TEST

static Suite *phys_suite(void)
{
    Suite *s = suite_create("phys");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_init_rejects_bad_size);
    tcase_add_test(tc, test_ram_little_endian_and_unaligned);
    tcase_add_test(tc, test_rom_reads_ignores_writes);
    tcase_add_test(tc, test_mmio_dispatch_with_size);
    tcase_add_test(tc, test_unclaimed_reads_ones);
    tcase_add_test(tc, test_priority_and_ties);
    tcase_add_test(tc, test_straddle_ram_mmio_split_into_bytes);
    tcase_add_test(tc, test_straddle_ram_rom_write);
    tcase_add_test(tc, test_host_ptr_bounds);
    tcase_add_test(tc, test_code_write_hook);
    tcase_add_test(tc, test_code_write_listeners);
    tcase_add_test(tc, test_buffers_across_kinds);
    tcase_add_test(tc, test_fill_across_kinds);
    tcase_add_test(tc, test_region_limits);
    tcase_add_test(tc, test_lazy_ram);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(phys_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
