/*
 * The device fuzzer's own parts: the double-fetch watch (a re-read after a
 * write is reported, a plain re-read only counted, the harness's own
 * stores ignored, each operation on its own) and the board's target
 * tables, which must come from the machine's maps: the ports and regions
 * of devices the board builds, and a PCI BAR where the guest moved it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pci.h"
#include "tests/fuzz/dma_watch.h"
#include "tests/fuzz/fuzz_board.h"

#define RAM (64u << 10)

typedef struct Reports {
    int count;
    DmaFetchReport last;
} Reports;

static void on_report(void *opaque, const DmaFetchReport *r)
{
    Reports *rep = opaque;
    rep->count++;
    rep->last = *r;
}

static PhysMem pm;
static Reports rep;
static DmaWatch *w;

static void setup(void)
{
    ck_assert(phys_init(&pm, RAM));
    memset(&rep, 0, sizeof(rep));
    w = dma_watch_new(&pm, on_report, &rep);
    ck_assert_ptr_nonnull(w);
    dma_watch_begin(w);
}

static void teardown(void)
{
    dma_watch_free(w);
    ck_assert_ptr_null(pm.access_observer);
    phys_destroy(&pm);
}

START_TEST(test_read_write_read_is_a_double_fetch)
{
    uint8_t buf[16];
    phys_read_buf(&pm, 0x1000, buf, 16); /* access 1: a descriptor */
    phys_write(&pm, 0x1008, 0xabcd, 2);  /* access 2: something rewrites its length */
    ck_assert_int_eq(rep.count, 0);
    ck_assert_uint_eq(phys_read(&pm, 0x1008, 4), 0xabcd); /* access 3: read again */
    ck_assert_int_eq(rep.count, 1);
    ck_assert_uint_eq(rep.last.paddr, 0x1008);
    ck_assert_uint_eq(rep.last.first_seq, 1);
    ck_assert_uint_eq(rep.last.write_seq, 2);
    ck_assert_uint_eq(rep.last.second_seq, 3);
    ck_assert_uint_eq(rep.last.second_start, 0x1008);
    ck_assert_uint_eq(rep.last.second_len, 4);
    ck_assert_uint_eq(dma_watch_double_fetches(w), 1);
}
END_TEST

START_TEST(test_plain_reread_is_counted_not_reported)
{
    uint8_t buf[8];
    phys_read_buf(&pm, 0x2000, buf, 8);
    phys_read_buf(&pm, 0x2004, buf, 8); /* overlaps the first by 4 bytes */
    phys_write(&pm, 0x3000, 1, 4);      /* a write elsewhere changes nothing */
    (void)phys_read(&pm, 0x2000, 2);
    ck_assert_int_eq(rep.count, 0);
    ck_assert_uint_eq(dma_watch_rereads(w), 2);
}
END_TEST

START_TEST(test_other_shapes_over_written_bytes_are_data)
{
    uint8_t buf[128];
    phys_read_buf(&pm, 0x3000, buf, 16);  /* a descriptor */
    phys_write(&pm, 0x300c, 1, 1);        /* its status written back */
    phys_read_buf(&pm, 0x3000, buf, 60);  /* a packet buffer the driver put over it */
    phys_read_buf(&pm, 0x6000, buf, 128); /* a buffer is no structure: */
    phys_write(&pm, 0x6004, 1, 1);
    (void)phys_read(&pm, 0x6004, 4); /* reading part of it again is data */
    ck_assert_int_eq(rep.count, 0);
    ck_assert_uint_eq(dma_watch_rereads(w), 2);
    /* A part of the descriptor read again is the structure again. */
    phys_read_buf(&pm, 0x7000, buf, 16);
    phys_write(&pm, 0x7008, 0, 4);
    (void)phys_read(&pm, 0x7008, 4);
    ck_assert_int_eq(rep.count, 1);
}
END_TEST

START_TEST(test_write_then_read_is_not_a_refetch)
{
    /* A device reading back what it wrote has fetched nothing twice. */
    phys_write(&pm, 0x1000, 7, 4);
    ck_assert_uint_eq(phys_read(&pm, 0x1000, 4), 7);
    ck_assert_uint_eq(phys_read(&pm, 0x1000, 4), 7);
    ck_assert_int_eq(rep.count, 0);
    ck_assert_uint_eq(dma_watch_rereads(w), 1);
}
END_TEST

START_TEST(test_operations_are_separate)
{
    (void)phys_read(&pm, 0x1000, 4);
    phys_write(&pm, 0x1000, 5, 4);
    dma_watch_begin(w); /* the guest could run here */
    (void)phys_read(&pm, 0x1000, 4);
    ck_assert_int_eq(rep.count, 0);
    ck_assert_uint_eq(dma_watch_rereads(w), 0);
}
END_TEST

START_TEST(test_paused_accesses_are_the_harness)
{
    (void)phys_read(&pm, 0x1000, 4);
    dma_watch_pause(w, true);
    phys_write(&pm, 0x1000, 5, 4); /* the guest's store, not a device's */
    dma_watch_pause(w, false);
    (void)phys_read(&pm, 0x1000, 4);
    ck_assert_int_eq(rep.count, 0);
}
END_TEST

START_TEST(test_page_boundary_and_ram_end)
{
    uint8_t buf[32];
    phys_read_buf(&pm, 0x1ff0, buf, 32); /* across a page */
    phys_write(&pm, 0x2004, 0, 1);
    phys_read_buf(&pm, 0x1ff0, buf, 32);
    ck_assert_int_eq(rep.count, 1);
    ck_assert_uint_eq(rep.last.paddr, 0x2004);
    phys_read_buf(&pm, RAM - 8, buf, 32); /* past RAM: only RAM is watched */
    ck_assert_uint_eq(buf[31], 0xff);
}
END_TEST

/* ---- the board's tables come from the machine ---- */

static bool has_port_range(FuzzBoard *b, uint16_t port)
{
    const FuzzPortRange *r;
    int n = fuzz_board_port_ranges(b, &r);
    for (int i = 0; i < n; i++) {
        if (port >= r[i].base && (uint32_t)(port - r[i].base) < r[i].count) {
            return true;
        }
    }
    return false;
}

static bool has_region(FuzzBoard *b, uint32_t addr)
{
    for (uint32_t i = 0; i < PHYS_MAX_REGIONS; i++) {
        uint32_t start, size;
        if (fuzz_board_region(b, i, &start, &size) && addr - start < size) {
            return true;
        }
    }
    return false;
}

START_TEST(test_board_targets_from_the_maps)
{
    static FuzzBoard b;
    fuzz_board_start(&b);
    /* A port of each kind of ISA device the board builds. */
    static const uint16_t ports[] = {0x20,  0x40,  0x70,  0x60,  0x92,  0x1f0, 0x170, 0x3f5, 0x3f8,
                                     0x2e8, 0x1ce, 0x3d4, 0x510, 0x600, 0xe9,  0x402, 0x501, 0xcf8};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        ck_assert_msg(has_port_range(&b, ports[i]), "port %#x", ports[i]);
    }
    ck_assert(!has_port_range(&b, 0xc000));
    ck_assert(has_region(&b, 0xa0000));    /* VGA window */
    ck_assert(has_region(&b, 0xfee00000)); /* local APIC */
    ck_assert(has_region(&b, 0xfec00000)); /* I/O APIC */
    ck_assert(has_region(&b, 0xffff0000)); /* the blank BIOS */
    ck_assert(!has_region(&b, 0xfebc0000));
    /* Host bridge, PIIX3, IDE, VGA, e1000, virtio-net, as a guest finds them. */
    ck_assert_int_eq(b.npci, 6);
    ck_assert_uint_eq(b.pci_devfn[2], PCI_DEVFN(1, 1));
    ck_assert_uint_eq(b.pci_devfn[4], PCI_DEVFN(3, 0));

    /* The guest moves the e1000's BARs: the tables follow. */
    ioport_write(&b.pc.io, PCI_CONFIG_ADDRESS, 0x80000000u | PCI_DEVFN(3, 0) << 8 | 0x10, 4);
    ioport_write(&b.pc.io, PCI_CONFIG_DATA, 0xfebc0000u, 4);
    ioport_write(&b.pc.io, PCI_CONFIG_ADDRESS, 0x80000000u | PCI_DEVFN(3, 0) << 8 | 0x14, 4);
    ioport_write(&b.pc.io, PCI_CONFIG_DATA, 0xc001u, 4);
    ioport_write(&b.pc.io, PCI_CONFIG_ADDRESS, 0x80000000u | PCI_DEVFN(3, 0) << 8 | 0x04, 4);
    ioport_write(&b.pc.io, PCI_CONFIG_DATA, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    b.ports_stale = true;
    ck_assert(has_region(&b, 0xfebc0000));
    ck_assert(has_port_range(&b, 0xc000));

    /* A second board in place of the first starts from power-on again. */
    fuzz_board_start(&b);
    ck_assert(!has_region(&b, 0xfebc0000));
    ck_assert(!has_port_range(&b, 0xc000));
    fuzz_board_stop(&b);
}
END_TEST

static void on_batch(void *opaque)
{
    (*(int *)opaque)++;
}

START_TEST(test_board_clock_fires_timers)
{
    static FuzzBoard b;
    fuzz_board_start(&b);
    /* The RTC's periodic interrupt at 1024 Hz; reading register C clears its flags. */
    ioport_write(&b.pc.io, 0x70, 0x0a, 1);
    ioport_write(&b.pc.io, 0x71, 0x26, 1);
    ioport_write(&b.pc.io, 0x70, 0x0b, 1);
    ioport_write(&b.pc.io, 0x71, 0x42, 1);
    ioport_write(&b.pc.io, 0x70, 0x0c, 1);
    (void)ioport_read(&b.pc.io, 0x71, 1);
    ioport_write(&b.pc.io, 0x70, 0x0c, 1);
    ck_assert_uint_eq(ioport_read(&b.pc.io, 0x71, 1) & 0xc0, 0);
    int batches = 0;
    fuzz_board_advance(&b, 5 * 1000 * 1000, on_batch, &batches);
    ck_assert_int_ge(batches, 2); /* each expiry on its own, then the rest of the time */
    ioport_write(&b.pc.io, 0x70, 0x0c, 1);
    ck_assert_uint_eq(ioport_read(&b.pc.io, 0x71, 1) & 0xc0, 0xc0); /* IRQF, PF */
    ck_assert_uint_eq(timer_now(&b.pc.timers), 5 * 1000 * 1000);
    fuzz_board_stop(&b);
}
END_TEST

static Suite *fuzz_board_suite(void)
{
    Suite *s = suite_create("fuzz_board");
    TCase *tc = tcase_create("dma_watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_read_write_read_is_a_double_fetch);
    tcase_add_test(tc, test_plain_reread_is_counted_not_reported);
    tcase_add_test(tc, test_other_shapes_over_written_bytes_are_data);
    tcase_add_test(tc, test_write_then_read_is_not_a_refetch);
    tcase_add_test(tc, test_operations_are_separate);
    tcase_add_test(tc, test_paused_accesses_are_the_harness);
    tcase_add_test(tc, test_page_boundary_and_ram_end);
    suite_add_tcase(s, tc);
    TCase *board = tcase_create("board");
    tcase_set_timeout(board, 60);
    tcase_add_test(board, test_board_targets_from_the_maps);
    tcase_add_test(board, test_board_clock_fires_timers);
    suite_add_tcase(s, board);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fuzz_board_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
