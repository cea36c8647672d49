/*
 * The firmware tables that describe the interrupt controllers: the ACPI
 * MADT (found through RSDP and RSDT, as a kernel finds it) and the MP
 * floating pointer and configuration table, each checked for checksums,
 * lengths and every entry.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bios/acpi.h"
#include "bios/mptable.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"

#define TABLES_BASE 0xe0000u
#define MP_BASE     0xf0000u

static PhysMem *pm;

static void setup(void)
{
    pm = malloc(sizeof(*pm));
    ck_assert(phys_init(pm, 1 << 20));
}

static void teardown(void)
{
    phys_destroy(pm);
    free(pm);
}

static uint8_t sum(uint32_t addr, uint32_t len)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; i++) {
        s = (uint8_t)(s + phys_read(pm, addr + i, 1));
    }
    return s;
}

static uint32_t r8(uint32_t a)
{
    return phys_read(pm, a, 1);
}

static uint32_t r16(uint32_t a)
{
    return phys_read(pm, a, 2);
}

static uint32_t r32(uint32_t a)
{
    return phys_read(pm, a, 4);
}

static bool sig_is(uint32_t a, const char *sig)
{
    for (size_t i = 0; i < strlen(sig); i++) {
        if (r8(a + (uint32_t)i) != (uint8_t)sig[i]) {
            return false;
        }
    }
    return true;
}

/* The MADT through RSDP -> RSDT, or 0. */
static uint32_t find_madt(void)
{
    uint32_t rsdp = acpi_build_tables(pm, TABLES_BASE, 256u << 20);
    ck_assert(sig_is(rsdp, "RSD PTR "));
    ck_assert_uint_eq(sum(rsdp, 20), 0);
    uint32_t rsdt = r32(rsdp + 16);
    ck_assert(sig_is(rsdt, "RSDT"));
    uint32_t len = r32(rsdt + 4);
    ck_assert_uint_eq(sum(rsdt, len), 0);
    for (uint32_t p = rsdt + 36; p < rsdt + len; p += 4) {
        if (sig_is(r32(p), "APIC")) {
            return r32(p);
        }
    }
    return 0;
}

START_TEST(test_madt)
{
    uint32_t madt = find_madt();
    ck_assert_uint_ne(madt, 0);
    uint32_t len = r32(madt + 4);
    ck_assert_uint_eq(sum(madt, len), 0);
    ck_assert_uint_eq(r32(madt + 36), APIC_DEFAULT_BASE);
    ck_assert_uint_eq(r32(madt + 40), 1); /* PCAT_COMPAT */
    int lapics = 0, ioapics = 0, nmis = 0;
    int overrides[16];
    memset(overrides, -1, sizeof(overrides));
    uint32_t gsi_of[16];
    uint32_t p = madt + 44;
    while (p < madt + len) {
        uint32_t type = r8(p), elen = r8(p + 1);
        ck_assert_uint_ge(elen, 2);
        switch (type) {
        case 0:
            ck_assert_uint_eq(elen, 8);
            ck_assert_uint_eq(r8(p + 3), 0);  /* APIC ID */
            ck_assert_uint_eq(r32(p + 4), 1); /* enabled */
            lapics++;
            break;
        case 1:
            ck_assert_uint_eq(elen, 12);
            ck_assert_uint_eq(r8(p + 2), PC_IOAPIC_ID);
            ck_assert_uint_eq(r32(p + 4), IOAPIC_DEFAULT_BASE);
            ck_assert_uint_eq(r32(p + 8), 0); /* GSI base */
            ioapics++;
            break;
        case 2:
            ck_assert_uint_eq(elen, 10);
            ck_assert_uint_eq(r8(p + 2), 0); /* ISA */
            ck_assert_uint_lt(r8(p + 3), 16);
            overrides[r8(p + 3)] = (int)r16(p + 8);
            gsi_of[r8(p + 3)] = r32(p + 4);
            break;
        case 4:
            ck_assert_uint_eq(elen, 6);
            ck_assert_uint_eq(r8(p + 2), 0xff); /* every CPU */
            ck_assert_uint_eq(r8(p + 5), 1);    /* LINT1 */
            nmis++;
            break;
        default: ck_abort_msg("unexpected MADT entry type %u", type);
        }
        p += elen;
    }
    ck_assert_uint_eq(p, madt + len);
    ck_assert_int_eq(lapics, 1);
    ck_assert_int_eq(ioapics, 1);
    ck_assert_int_eq(nmis, 1);
    ck_assert_int_eq(overrides[0], 0); /* IRQ0 -> GSI 2, bus defaults */
    ck_assert_uint_eq(gsi_of[0], 2);
    static const int level_irqs[] = {5, 9, 10, 11};
    for (size_t i = 0; i < sizeof(level_irqs) / sizeof(level_irqs[0]); i++) {
        int irq = level_irqs[i];
        ck_assert_int_eq(overrides[irq], 0xd); /* active high, level */
        ck_assert_uint_eq(gsi_of[irq], (uint32_t)irq);
    }
    ck_assert_int_eq(overrides[1], -1);
    ck_assert_int_eq(overrides[4], -1);
    ck_assert_int_eq(overrides[14], -1);
}
END_TEST

START_TEST(test_mptable)
{
    MPTableConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cpu_signature = 0x683;
    cfg.cpu_features = 0x0383fbff;
    cfg.level_irqs = 1u << 9;
    cfg.npci = 2;
    cfg.pci[0] = (MPTablePCIIrq){3, 1, 11};
    cfg.pci[1] = (MPTablePCIIrq){4, 1, 10};
    uint32_t used = mptable_build(pm, MP_BASE, &cfg);
    ck_assert_uint_le(used, MPTABLE_MAX_LEN);

    /* The floating pointer. */
    ck_assert(sig_is(MP_BASE, "_MP_"));
    ck_assert_uint_eq(r8(MP_BASE + 8), 1);
    ck_assert_uint_eq(r8(MP_BASE + 9), 4);
    ck_assert_uint_eq(sum(MP_BASE, 16), 0);
    ck_assert_uint_eq(r8(MP_BASE + 11), 0); /* a table follows, no default config */
    uint32_t mpc = r32(MP_BASE + 4);
    ck_assert_uint_eq(mpc, MP_BASE + 16);

    /* The configuration table. */
    ck_assert(sig_is(mpc, "PCMP"));
    uint32_t len = r16(mpc + 4);
    ck_assert_uint_eq(16 + len, used);
    ck_assert_uint_eq(r8(mpc + 6), 4);
    ck_assert_uint_eq(sum(mpc, len), 0);
    ck_assert_uint_eq(r32(mpc + 36), APIC_DEFAULT_BASE);
    uint32_t count = r16(mpc + 34);
    int cpus = 0, buses = 0, ioapics = 0, lints = 0, isa_pins[16], pci_pins[2] = {-1, -1};
    bool extint_pin0 = false;
    memset(isa_pins, -1, sizeof(isa_pins));
    uint32_t p = mpc + 44;
    for (uint32_t i = 0; i < count; i++) {
        switch (r8(p)) {
        case 0:
            ck_assert_uint_eq(r8(p + 1), 0);
            ck_assert_uint_eq(r8(p + 2), 0x14);
            ck_assert_uint_eq(r8(p + 3), 3); /* enabled, BSP */
            ck_assert_uint_eq(r32(p + 4), 0x683);
            ck_assert_uint_eq(r32(p + 8), 0x0383fbff);
            cpus++;
            p += 20;
            break;
        case 1:
            ck_assert(r8(p + 1) == 0 ? sig_is(p + 2, "PCI   ") : sig_is(p + 2, "ISA   "));
            buses++;
            p += 8;
            break;
        case 2:
            ck_assert_uint_eq(r8(p + 1), PC_IOAPIC_ID);
            ck_assert_uint_eq(r8(p + 2), 0x11);
            ck_assert_uint_eq(r8(p + 3), 1);
            ck_assert_uint_eq(r32(p + 4), IOAPIC_DEFAULT_BASE);
            ioapics++;
            p += 8;
            break;
        case 3:
            ck_assert_uint_eq(r8(p + 6), PC_IOAPIC_ID);
            if (r8(p + 1) == 3) { /* ExtINT */
                ck_assert_uint_eq(r8(p + 7), 0);
                extint_pin0 = true;
            } else if (r8(p + 4) == 1) { /* ISA */
                isa_pins[r8(p + 5)] = (int)r8(p + 7);
                ck_assert_uint_eq(r16(p + 2), r8(p + 5) == 9 ? 0xd : 0);
            } else {                                /* PCI: device << 2 | pin */
                ck_assert_uint_eq(r16(p + 2), 0xf); /* level, active low */
                int slot = (int)r8(p + 5) >> 2;
                ck_assert_uint_eq(r8(p + 5) & 3, 0); /* INTA */
                ck_assert(slot == 3 || slot == 4);
                pci_pins[slot - 3] = (int)r8(p + 7);
            }
            p += 8;
            break;
        case 4:
            ck_assert_uint_eq(r8(p + 6), 0xff);
            ck_assert_uint_eq(r8(p + 1), r8(p + 7) == 0 ? 3 : 1); /* LINT0 ExtINT, LINT1 NMI */
            lints++;
            p += 8;
            break;
        default: ck_abort_msg("unexpected MP entry type %u", r8(p));
        }
    }
    ck_assert_uint_eq(p, mpc + len);
    ck_assert_int_eq(cpus, 1);
    ck_assert_int_eq(buses, 2);
    ck_assert_int_eq(ioapics, 1);
    ck_assert_int_eq(lints, 2);
    ck_assert(extint_pin0);
    ck_assert_int_eq(isa_pins[0], 2);
    ck_assert_int_eq(isa_pins[2], -1);
    for (int irq = 1; irq < 16; irq++) {
        if (irq != 2) {
            ck_assert_int_eq(isa_pins[irq], irq);
        }
    }
    ck_assert_int_eq(pci_pins[0], 11);
    ck_assert_int_eq(pci_pins[1], 10);
}
END_TEST

static Suite *tables_suite(void)
{
    Suite *s = suite_create("apic_tables");
    TCase *tc = tcase_create("tables");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_madt);
    tcase_add_test(tc, test_mptable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tables_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
