/*
 * ACPI PM1a registers and PM timer through their ports, with virtual time
 * from a local counter: S5 power-off, SLP_EN/SLP_TYP rules, SCI_EN, the
 * 3.579545 MHz timer and its 24-bit wrap, TMR_STS/TMR_EN and the SCI, the
 * power button, write-one-to-clear status.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/acpi/acpi_pm.h"

typedef struct Fixture {
    IOPortMap io;
    TimerList tl;
    uint64_t clock; /* virtual ns */
    AcpiPMState *pm;
    int poweroffs;
    int sci;
} Fixture;

static Fixture *f;

static void on_poweroff(void *opaque)
{
    ((Fixture *)opaque)->poweroffs++;
}

static void sci_probe(void *opaque, int n, int level)
{
    ((Fixture *)opaque)->sci = level;
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    timerlist_init_icount(&f->tl, &f->clock, 0);
    f->pm = acpi_pm_new(&f->io, &f->tl, irq_make(sci_probe, f, ACPI_PM_SCI_IRQ), on_poweroff, f);
    ck_assert_ptr_nonnull(f->pm);
}

static void teardown(void)
{
    acpi_pm_free(f->pm);
    free(f);
}

static void advance(int64_t ns)
{
    f->clock += (uint64_t)ns;
    timerlist_run(&f->tl);
}

static uint32_t pm_tmr(void)
{
    return ioport_read(&f->io, ACPI_PM_TMR_BLK, 4);
}

static uint16_t pm1_sts(void)
{
    return (uint16_t)ioport_read(&f->io, ACPI_PM1A_EVT_BLK, 2);
}

START_TEST(test_sci_en_always_set)
{
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SCI_EN,
                      ACPI_PM1_CNT_SCI_EN);
    ioport_write(&f->io, ACPI_PM1A_CNT_BLK, 0, 2);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SCI_EN,
                      ACPI_PM1_CNT_SCI_EN);
}
END_TEST

START_TEST(test_s5_powers_off)
{
    uint16_t typ = ACPI_PM_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT;

    /* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN. */
    ioport_write(&f->io, ACPI_PM1A_CNT_BLK, typ | ACPI_PM1_CNT_SCI_EN, 2);
    ck_assert_int_eq(f->poweroffs, 0);
    ioport_write(&f->io, ACPI_PM1A_CNT_BLK, typ | ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_SCI_EN, 2);
    ck_assert_int_eq(f->poweroffs, 1);
    /* SLP_EN is write-only. */
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_EN, 0);
    /* The high byte alone, as a byte write, works too. */
    ioport_write(&f->io, ACPI_PM1A_CNT_BLK + 1, (typ | ACPI_PM1_CNT_SLP_EN) >> 8, 1);
    ck_assert_int_eq(f->poweroffs, 2);
}
END_TEST

START_TEST(test_other_sleep_types_do_not_power_off)
{
    for (int typ = 1; typ < 8; typ++) {
        ioport_write(&f->io, ACPI_PM1A_CNT_BLK,
                     (typ << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN, 2);
        ck_assert_uint_eq((ioport_read(&f->io, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_TYP) >>
                              ACPI_PM1_CNT_SLP_TYP_SHIFT,
                          typ);
    }
    ck_assert_int_eq(f->poweroffs, 0);
}
END_TEST

START_TEST(test_pm_timer_rate)
{
    uint32_t t0 = pm_tmr();

    advance(NS_PER_SEC);
    ck_assert_uint_eq((pm_tmr() - t0) & 0xffffff, ACPI_PM_TIMER_HZ);
    /* 1 ms is 3579.545 ticks. */
    t0 = pm_tmr();
    advance(1000000);
    uint32_t d = (pm_tmr() - t0) & 0xffffff;
    ck_assert(d == 3579 || d == 3580);
    /* Same time, same value; the upper byte of the 24-bit timer is 0. */
    ck_assert_uint_eq(pm_tmr(), pm_tmr());
    ck_assert_uint_eq(pm_tmr() >> 24, 0);
    /* Byte reads see the same counter. */
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM_TMR_BLK, 1), pm_tmr() & 0xff);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM_TMR_BLK + 2, 1), (pm_tmr() >> 16) & 0xff);
    /* The timer is read-only. */
    uint32_t before = pm_tmr();
    ioport_write(&f->io, ACPI_PM_TMR_BLK, 0, 4);
    ck_assert_uint_eq(pm_tmr(), before);
}
END_TEST

START_TEST(test_pm_timer_wraps_at_24_bits)
{
    /* 2^24 ticks is 4.687 s. */
    advance(4 * NS_PER_SEC);
    uint32_t t0 = pm_tmr();
    ck_assert_uint_gt(t0, 0xd00000);
    advance(NS_PER_SEC);
    ck_assert_uint_lt(pm_tmr(), t0);
    ck_assert_uint_eq(pm_tmr(), (t0 + ACPI_PM_TIMER_HZ) & 0xffffff);
}
END_TEST

START_TEST(test_tmr_sts_and_sci)
{
    /* TMR_STS sets when bit 23 flips: every 2^23 ticks (2.343 s). */
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_TMR, 0);
    advance(2 * NS_PER_SEC);
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_TMR, 0);
    advance(NS_PER_SEC / 2);
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_TMR, ACPI_PM1_TMR);
    ck_assert_int_eq(f->sci, 0);                              /* TMR_EN is off */
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK, ACPI_PM1_TMR, 2); /* write 1 to clear */
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_TMR, 0);
    /* With TMR_EN the next flip raises the SCI without anyone polling. */
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK + 2, ACPI_PM1_TMR, 2);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_EVT_BLK + 2, 2), ACPI_PM1_TMR);
    advance(2 * NS_PER_SEC);
    ck_assert_int_eq(f->sci, 0);
    advance(NS_PER_SEC / 2);
    ck_assert_int_eq(f->sci, 1);
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK, ACPI_PM1_TMR, 2);
    ck_assert_int_eq(f->sci, 0);
}
END_TEST

START_TEST(test_power_button)
{
    acpi_pm_power_button(f->pm);
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_PWRBTN, ACPI_PM1_PWRBTN);
    ck_assert_int_eq(f->sci, 0);
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK + 2, ACPI_PM1_PWRBTN, 2);
    ck_assert_int_eq(f->sci, 1);
    /* Writing 0 bits leaves status alone; writing 1 clears. */
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK, 0, 2);
    ck_assert_int_eq(f->sci, 1);
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK + 1, ACPI_PM1_PWRBTN >> 8, 1);
    ck_assert_uint_eq(pm1_sts() & ACPI_PM1_PWRBTN, 0);
    ck_assert_int_eq(f->sci, 0);
    /* Unimplemented enable bits do not stick. */
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK + 2, 0xffff, 2);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_EVT_BLK + 2, 2),
                      ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN |
                          ACPI_PM1_RTC);
}
END_TEST

START_TEST(test_dword_event_block_access)
{
    /* PM1_STS and PM1_EN in one dword, as some OSes read PM1a_EVT_BLK. */
    acpi_pm_power_button(f->pm);
    ioport_write(&f->io, ACPI_PM1A_EVT_BLK + 2, ACPI_PM1_PWRBTN, 2);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_EVT_BLK, 4),
                      ((uint32_t)ACPI_PM1_PWRBTN << 16) | ACPI_PM1_PWRBTN);
    acpi_pm_reset(f->pm);
    ck_assert_uint_eq(ioport_read(&f->io, ACPI_PM1A_EVT_BLK, 4), 0);
    ck_assert_int_eq(f->sci, 0);
}
END_TEST

static Suite *acpi_pm_suite(void)
{
    Suite *s = suite_create("acpi_pm");
    TCase *tc = tcase_create("pm1");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sci_en_always_set);
    tcase_add_test(tc, test_s5_powers_off);
    tcase_add_test(tc, test_other_sleep_types_do_not_power_off);
    tcase_add_test(tc, test_pm_timer_rate);
    tcase_add_test(tc, test_pm_timer_wraps_at_24_bits);
    tcase_add_test(tc, test_tmr_sts_and_sci);
    tcase_add_test(tc, test_power_button);
    tcase_add_test(tc, test_dword_event_block_access);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(acpi_pm_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
