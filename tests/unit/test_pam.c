/*
 * i440FX PAM shadowing (hw/pci/pam.c) as the 82441FX datasheet defines the
 * attribute bits, driven through the host bridge's PCI configuration
 * registers: ROM until enabled, RAM read/write, read-only RAM (writes
 * lost), write-only RAM (reads from ROM), and code-tracking callbacks
 * when the bytes behind an address change.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pam.h"
#include "hw/pci/pci.h"
#include "hw/pci/piix.h"

static IOPortMap *io;
static PhysMem pm;
static PCIBus *bus;
static I440FXState *nb;
static PAMState *pam;
static uint8_t rom[0x20000];
static int code_hook_calls;

static void pam_changed(void *opaque, int index, uint8_t value)
{
    pam_set(pam, index, value);
}

static void code_hook(void *opaque, uint32_t paddr, int size)
{
    code_hook_calls++;
}

static void setup(void)
{
    io = calloc(1, sizeof(*io));
    ioport_init(io);
    ck_assert(phys_init(&pm, 2u << 20));
    for (size_t i = 0; i < sizeof(rom); i++) {
        rom[i] = (uint8_t)(i * 3 + 1);
    }
    pam = pam_new(&pm, rom, sizeof(rom)); /* shows at 0xE0000-0xFFFFF */
    ck_assert_ptr_nonnull(pam);
    bus = pci_bus_new(io);
    nb = i440fx_new(bus, pam_changed, NULL);
    pm.ncode_listeners = 0; /* this listener alone */
    phys_add_code_listener(&pm, code_hook, NULL);
    code_hook_calls = 0;
}

static void teardown(void)
{
    i440fx_free(nb);
    pci_bus_free(bus);
    pam_free(pam);
    phys_destroy(&pm);
    free(io);
}

static void write_pam(int index, uint8_t value)
{
    int reg = I440FX_PAM0 + index;
    ioport_write(io, PCI_CONFIG_ADDRESS, 0x80000000u | (reg & 0xfc), 4);
    ioport_write(io, PCI_CONFIG_DATA + (reg & 3), value, 1);
}

static uint8_t rom_at(uint32_t paddr)
{
    return rom[paddr - 0xe0000];
}

START_TEST(test_reset_reads_rom_and_drops_writes)
{
    ck_assert_uint_eq(phys_read(&pm, 0xffff0, 1), rom_at(0xffff0));
    ck_assert_uint_eq(phys_read(&pm, 0xe4001, 1), rom_at(0xe4001));
    phys_write(&pm, 0xf1000, 0xaa, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), rom_at(0xf1000));
    /* Below the image, the ROM side is an empty bus. */
    ck_assert_uint_eq(phys_read(&pm, 0xc8000, 1), 0xff);
    ck_assert_int_eq(pam_attr(pam, 0xf0000), 0);
}
END_TEST

START_TEST(test_shadow_sequence)
{
    /* SeaBIOS: 0x30 (RAM read/write), copy, then 0x10 (read-only). */
    write_pam(0, 0x30);
    ck_assert_int_eq(pam_attr(pam, 0xfffff), PAM_READ_ENABLE | PAM_WRITE_ENABLE);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), 0); /* fresh RAM */
    phys_write(&pm, 0xf1000, 0x5c, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), 0x5c);
    write_pam(0, 0x10);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), 0x5c);
    phys_write(&pm, 0xf1000, 0x99, 1); /* write-protected */
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), 0x5c);
    /* Back to ROM, and the RAM copy is still there underneath. */
    write_pam(0, 0x00);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), rom_at(0xf1000));
    write_pam(0, 0x30);
    ck_assert_uint_eq(phys_read(&pm, 0xf1000, 1), 0x5c);
}
END_TEST

START_TEST(test_segments_are_independent)
{
    /* PAM5: 0xE0000 in bits 1:0, 0xE4000 in bits 5:4. */
    write_pam(5, 0x03);
    phys_write(&pm, 0xe0010, 0x42, 1);
    phys_write(&pm, 0xe4010, 0x42, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xe0010, 1), 0x42);
    ck_assert_uint_eq(phys_read(&pm, 0xe4010, 1), rom_at(0xe4010));
    /* A 4-byte access across the 0xE4000 boundary splits by segment. */
    uint32_t v = phys_read(&pm, 0xe3ffe, 4);
    ck_assert_uint_eq(v >> 16, rom_at(0xe4000) | (rom_at(0xe4001) << 8));
    ck_assert_uint_eq(v & 0xffff, 0);
}
END_TEST

START_TEST(test_write_only_ram)
{
    /* PAM1 low (0xC0000) = 0x02: reads from the bus, writes to DRAM. */
    write_pam(1, 0x02);
    phys_write(&pm, 0xc0100, 0x37, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xc0100, 1), 0xff);
    write_pam(1, 0x03);
    ck_assert_uint_eq(phys_read(&pm, 0xc0100, 1), 0x37);
    /* Other segments stay as they were meanwhile. */
    ck_assert_uint_eq(phys_read(&pm, 0xf0000, 1), rom_at(0xf0000));
}
END_TEST

START_TEST(test_code_pages_reported)
{
    pm.code_pages[0xf2000 >> 12] = 1;
    write_pam(0, 0x30);
    ck_assert_int_ge(code_hook_calls, 1);
    int before = code_hook_calls;
    write_pam(0, 0x30); /* no change, no report */
    ck_assert_int_eq(code_hook_calls, before);
    /* The reset of the host bridge puts everything back to ROM. */
    i440fx_reset(nb);
    ck_assert_int_eq(pam_attr(pam, 0xf0000), 0);
    ck_assert_uint_eq(phys_read(&pm, 0xf2000, 1), rom_at(0xf2000));
}
END_TEST

static Suite *pam_suite(void)
{
    Suite *s = suite_create("pam");
    TCase *tc = tcase_create("pam");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_reads_rom_and_drops_writes);
    tcase_add_test(tc, test_shadow_sequence);
    tcase_add_test(tc, test_segments_are_independent);
    tcase_add_test(tc, test_write_only_ram);
    tcase_add_test(tc, test_code_pages_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pam_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
