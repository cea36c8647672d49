/*
 * MC146818 RTC/CMOS through ports 0x70/0x71 with deterministic virtual
 * time: the update cycle and UIP, data formats, SET, the divider, the three
 * interrupt sources and register C, NMI mask, CMOS RAM and memory sizing.
 *
 * The clock starts at 2024-02-29 23:59:58 (a Thursday) at virtual time 0,
 * two seconds before a leap-day rollover.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/timer/rtc.h"

#define BASE_TIME 1709251198LL /* 2024-02-29 23:59:58 UTC */
#define MS        1000000LL

static uint64_t now_ns;
static TimerList tl;
static IOPortMap *io;
static RTCState *rtc;
static int irq8_level;
static int irq8_rises;

static void irq8_handler(void *opaque, int n, int level)
{
    if (level && !irq8_level) {
        irq8_rises++;
    }
    irq8_level = level;
}

static void outb(uint16_t port, uint8_t value)
{
    ioport_write(io, port, value, 1);
}

static uint8_t inb(uint16_t port)
{
    return ioport_read(io, port, 1);
}

static uint8_t cmos_read(int index)
{
    outb(0x70, index);
    return inb(0x71);
}

static void cmos_write(int index, uint8_t value)
{
    outb(0x70, index);
    outb(0x71, value);
}

static void set_ns(int64_t ns)
{
    now_ns = ns;
    timerlist_run(&tl);
}

static void setup(void)
{
    now_ns = 0;
    timerlist_init_icount(&tl, &now_ns, 0);
    io = malloc(sizeof(*io));
    ck_assert_ptr_nonnull(io);
    ioport_init(io);
    irq8_level = 0;
    irq8_rises = 0;
    rtc = rtc_new(io, &tl, irq_make(irq8_handler, NULL, 8), BASE_TIME);
    ck_assert_ptr_nonnull(rtc);
}

static void teardown(void)
{
    rtc_free(rtc);
    free(io);
}

START_TEST(test_power_on_registers_and_time)
{
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
    ck_assert_uint_eq(cmos_read(0x0b), 0x02);
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    ck_assert_uint_eq(cmos_read(0x0d), 0x80); /* VRT: battery good */
    ck_assert_uint_eq(cmos_read(0x00), 0x58);
    ck_assert_uint_eq(cmos_read(0x02), 0x59);
    ck_assert_uint_eq(cmos_read(0x04), 0x23);
    ck_assert_uint_eq(cmos_read(0x06), 0x05); /* Thursday, Sunday = 1 */
    ck_assert_uint_eq(cmos_read(0x07), 0x29);
    ck_assert_uint_eq(cmos_read(0x08), 0x02);
    ck_assert_uint_eq(cmos_read(0x09), 0x24);
    ck_assert_uint_eq(cmos_read(0x32), 0x20);
}
END_TEST

START_TEST(test_update_rolls_over_leap_day)
{
    set_ns(2 * NS_PER_SEC - 1);
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    ck_assert_uint_eq(cmos_read(0x07), 0x29);
    set_ns(2 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x00);
    ck_assert_uint_eq(cmos_read(0x02), 0x00);
    ck_assert_uint_eq(cmos_read(0x04), 0x00);
    ck_assert_uint_eq(cmos_read(0x06), 0x06); /* Friday */
    ck_assert_uint_eq(cmos_read(0x07), 0x01);
    ck_assert_uint_eq(cmos_read(0x08), 0x03);
    ck_assert_uint_eq(cmos_read(0x09), 0x24);
}
END_TEST

START_TEST(test_uip_before_each_update)
{
    /* UIP is set for the 244 us (8 divider cycles) before the update. */
    set_ns(NS_PER_SEC - 245000);
    ck_assert_uint_eq(cmos_read(0x0a) & 0x80, 0);
    set_ns(NS_PER_SEC - 244000);
    ck_assert_uint_eq(cmos_read(0x0a) & 0x80, 0x80);
    ck_assert_uint_eq(cmos_read(0x00), 0x58); /* not updated yet */
    set_ns(NS_PER_SEC - 1);
    ck_assert_uint_eq(cmos_read(0x0a), 0xa6);
    set_ns(NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    /* With SET there are no updates and so no UIP. */
    cmos_write(0x0b, 0x82);
    set_ns(2 * NS_PER_SEC - 1000);
    ck_assert_uint_eq(cmos_read(0x0a) & 0x80, 0);
}
END_TEST

START_TEST(test_binary_mode)
{
    cmos_write(0x0b, 0x06);
    ck_assert_uint_eq(cmos_read(0x00), 58);
    ck_assert_uint_eq(cmos_read(0x02), 59);
    ck_assert_uint_eq(cmos_read(0x04), 23);
    ck_assert_uint_eq(cmos_read(0x07), 29);
    ck_assert_uint_eq(cmos_read(0x09), 24);
    ck_assert_uint_eq(cmos_read(0x32), 20);
}
END_TEST

START_TEST(test_12_hour_mode)
{
    cmos_write(0x0b, 0x00);                   /* BCD, 12-hour */
    ck_assert_uint_eq(cmos_read(0x04), 0x91); /* 11 PM */
    set_ns(2 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x04), 0x12); /* midnight is 12 AM */
    cmos_write(0x0b, 0x04);                   /* binary, 12-hour */
    set_ns(3 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x04), 12);
    /* Set 12 noon in 12-hour binary: reads back with the PM bit. */
    cmos_write(0x0b, 0x84);
    cmos_write(0x04, 0x80 | 12);
    cmos_write(0x0b, 0x04);
    ck_assert_uint_eq(cmos_read(0x04), 0x80 | 12);
    cmos_write(0x0b, 0x06); /* 24-hour view of the same time */
    ck_assert_uint_eq(cmos_read(0x04), 12);
}
END_TEST

START_TEST(test_set_freezes_and_sets_time)
{
    cmos_write(0x0b, 0x92); /* SET with UIE: SET clears UIE */
    ck_assert_uint_eq(cmos_read(0x0b), 0x82);
    set_ns(5 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x58); /* frozen */
    cmos_write(0x00, 0x59);
    cmos_write(0x02, 0x59);
    cmos_write(0x04, 0x23);
    cmos_write(0x07, 0x31);
    cmos_write(0x08, 0x12);
    cmos_write(0x09, 0x99);
    cmos_write(0x32, 0x19);
    set_ns(5300 * MS);
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    cmos_write(0x0b, 0x02);
    /* The divider kept its phase: the next update is at 6 s. */
    set_ns(6 * NS_PER_SEC - 1);
    ck_assert_uint_eq(cmos_read(0x09), 0x99);
    set_ns(6 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x00);
    ck_assert_uint_eq(cmos_read(0x04), 0x00);
    ck_assert_uint_eq(cmos_read(0x07), 0x01);
    ck_assert_uint_eq(cmos_read(0x08), 0x01);
    ck_assert_uint_eq(cmos_read(0x09), 0x00);
    ck_assert_uint_eq(cmos_read(0x32), 0x20);
    ck_assert_uint_eq(cmos_read(0x06), 0x07); /* 2000-01-01 was a Saturday */
}
END_TEST

START_TEST(test_write_time_register_while_running)
{
    set_ns(500 * MS);
    cmos_write(0x02, 0x10);
    ck_assert_uint_eq(cmos_read(0x02), 0x10);
    set_ns(NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    ck_assert_uint_eq(cmos_read(0x02), 0x10);
    set_ns(2 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x02), 0x11);
    ck_assert_uint_eq(cmos_read(0x04), 0x23);
}
END_TEST

START_TEST(test_periodic_interrupt)
{
    cmos_write(0x0b, 0x42); /* PIE; register A selects 1024 Hz */
    /* The first edge is 32 divider cycles in: 976562.5 ns. */
    set_ns(976562);
    ck_assert_int_eq(irq8_level, 0);
    set_ns(976563);
    ck_assert_int_eq(irq8_level, 1);
    ck_assert_uint_eq(cmos_read(0x0c), 0xc0);
    ck_assert_int_eq(irq8_level, 0); /* reading C released IRQ8 */
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    /* A handler that reads C every time gets 1024 interrupts a second. */
    irq8_rises = 0;
    for (;;) {
        int64_t deadline = timerlist_next_deadline(&tl);
        if (deadline > NS_PER_SEC + 976563) {
            break;
        }
        set_ns(deadline);
        ck_assert_int_eq(irq8_level, 1);
        ck_assert_uint_eq(cmos_read(0x0c) & 0xc0, 0xc0);
    }
    ck_assert_int_eq(irq8_rises, 1024);
    /* Rate 15: 2 Hz. */
    cmos_write(0x0a, 0x2f);
    irq8_rises = 0;
    int64_t start = now_ns;
    while (timerlist_next_deadline(&tl) <= start + 2 * NS_PER_SEC) {
        set_ns(timerlist_next_deadline(&tl));
        cmos_read(0x0c);
    }
    ck_assert_int_eq(irq8_rises, 4);
}
END_TEST

START_TEST(test_unserviced_interrupt_stays_pending)
{
    cmos_write(0x0b, 0x42);
    set_ns(10 * MS);
    ck_assert_int_eq(irq8_rises, 1);
    /* IRQF is set: no more edges and no timer until C is read. */
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
    set_ns(500 * MS);
    ck_assert_int_eq(irq8_rises, 1);
    ck_assert_int_eq(irq8_level, 1);
    ck_assert_uint_eq(cmos_read(0x0c), 0xc0);
    ck_assert(timerlist_next_deadline(&tl) != TIMER_NEVER);
}
END_TEST

START_TEST(test_flags_without_interrupt_enable)
{
    set_ns(1 * MS);
    /* PF is set at every period even with PIE clear, but IRQF is not. */
    ck_assert_uint_eq(cmos_read(0x0c), 0x40);
    ck_assert_int_eq(irq8_rises, 0);
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    /* Enabling PIE with PF already set asserts IRQF at once. */
    set_ns(2 * MS);
    cmos_write(0x0b, 0x42);
    ck_assert_int_eq(irq8_level, 1);
    ck_assert_uint_eq(cmos_read(0x0c), 0xc0);
    cmos_write(0x0b, 0x02);
    /* UF after an update, AF on a match, without UIE/AIE. */
    cmos_write(0x0a, 0x20); /* no periodic rate */
    cmos_read(0x0c);
    cmos_write(0x01, 0x30);
    cmos_write(0x03, 0x00);
    cmos_write(0x05, 0x00);
    set_ns(100 * NS_PER_SEC); /* passes 00:00:30 without anyone looking */
    ck_assert_uint_eq(cmos_read(0x0c), 0x30);
    ck_assert_int_eq(irq8_rises, 1);
}
END_TEST

START_TEST(test_update_ended_interrupt)
{
    cmos_write(0x0a, 0x20); /* no periodic rate, so PF stays clear */
    cmos_write(0x0b, 0x12); /* UIE */
    set_ns(NS_PER_SEC - 1);
    ck_assert_int_eq(irq8_level, 0);
    set_ns(NS_PER_SEC);
    ck_assert_int_eq(irq8_level, 1);
    ck_assert_uint_eq(cmos_read(0x0c), 0x90);
    ck_assert_int_eq(irq8_level, 0);
    set_ns(2 * NS_PER_SEC);
    ck_assert_int_eq(irq8_rises, 2);
    /* The handler sees the new second. */
    ck_assert_uint_eq(cmos_read(0x00), 0x00);
}
END_TEST

START_TEST(test_alarm_interrupt)
{
    cmos_write(0x0a, 0x20);
    cmos_write(0x01, 0x01);
    cmos_write(0x03, 0x00);
    cmos_write(0x05, 0x00);
    cmos_write(0x0b, 0x22); /* AIE */
    for (int sec = 1; sec <= 2; sec++) {
        set_ns(sec * NS_PER_SEC);
        ck_assert_int_eq(irq8_level, 0);
    }
    set_ns(3 * NS_PER_SEC); /* 00:00:01 */
    ck_assert_int_eq(irq8_level, 1);
    ck_assert_uint_eq(cmos_read(0x0c), 0xb0); /* IRQF, AF and UF */
    set_ns(100 * NS_PER_SEC);
    ck_assert_int_eq(irq8_rises, 1); /* once a day */
}
END_TEST

START_TEST(test_alarm_dont_care)
{
    cmos_write(0x0a, 0x20);
    cmos_write(0x01, 0x05);
    cmos_write(0x03, 0xc0); /* any minute */
    cmos_write(0x05, 0xff); /* any hour */
    cmos_write(0x0b, 0x22);
    int64_t hits[4];
    int nhits = 0;
    for (int sec = 1; sec <= 130 && nhits < 4; sec++) {
        set_ns(sec * NS_PER_SEC);
        if (irq8_level) {
            hits[nhits++] = sec;
            cmos_read(0x0c);
        }
    }
    /* 00:00:05 and 00:01:05 and 00:02:05, counted from 23:59:58. */
    ck_assert_int_eq(nhits, 3);
    ck_assert_int_eq(hits[0], 7);
    ck_assert_int_eq(hits[1], 67);
    ck_assert_int_eq(hits[2], 127);
}
END_TEST

START_TEST(test_divider_reset_and_restart)
{
    set_ns(300 * MS);
    cmos_write(0x0a, 0x70); /* divider chain in reset */
    cmos_read(0x0c);        /* drop the PF of the periods so far */
    cmos_write(0x0b, 0x42);
    set_ns(5 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x58); /* time stood still */
    ck_assert_uint_eq(cmos_read(0x0a) & 0x80, 0);
    ck_assert_int_eq(irq8_rises, 0); /* and no periodic interrupt */
    cmos_write(0x0a, 0x26);
    /* The first update comes 500 ms after the divider restarts. */
    set_ns(5500 * MS - 1);
    ck_assert_uint_eq(cmos_read(0x00), 0x58);
    set_ns(5500 * MS);
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    ck_assert_int_eq(irq8_rises, 1);
}
END_TEST

START_TEST(test_registers_c_d_read_only)
{
    cmos_write(0x0d, 0x00);
    ck_assert_uint_eq(cmos_read(0x0d), 0x80);
    cmos_write(0x0c, 0xff);
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    cmos_write(0x0a, 0xa6); /* UIP is read-only too */
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
}
END_TEST

START_TEST(test_nmi_mask_bit)
{
    outb(0x70, 0x80 | 0x0d);
    ck_assert(rtc_nmi_masked(rtc));
    ck_assert_uint_eq(inb(0x71), 0x80); /* index is bits 6-0 */
    outb(0x70, 0x0d);
    ck_assert(!rtc_nmi_masked(rtc));
    outb(0x70, 0x80 | 0x40);
    outb(0x71, 0x5a);
    ck_assert_uint_eq(cmos_read(0x40), 0x5a);
}
END_TEST

static uint16_t checksum(void)
{
    uint16_t sum = 0;
    for (int i = 0x10; i <= 0x2d; i++) {
        sum += cmos_read(i);
    }
    return sum;
}

START_TEST(test_memory_size_fields)
{
    rtc_set_cmos(rtc, 0x14, 0x41); /* two floppy bits set by someone else */
    rtc_set_memory_size(rtc, 128ull << 20);
    ck_assert_uint_eq(cmos_read(0x15), 0x80);
    ck_assert_uint_eq(cmos_read(0x16), 0x02); /* 640 KiB */
    ck_assert_uint_eq(cmos_read(0x17), 0xff); /* 127 MiB in KiB, capped */
    ck_assert_uint_eq(cmos_read(0x18), 0xff);
    ck_assert_uint_eq(cmos_read(0x30), 0xff);
    ck_assert_uint_eq(cmos_read(0x31), 0xff);
    ck_assert_uint_eq(cmos_read(0x34), 0x00); /* 112 MiB / 64 KiB = 0x700 */
    ck_assert_uint_eq(cmos_read(0x35), 0x07);
    ck_assert_uint_eq(cmos_read(0x14), 0x43); /* FPU, VGA, floppies kept */
    ck_assert_uint_eq(cmos_read(0x2e) << 8 | cmos_read(0x2f), checksum());

    rtc_set_memory_size(rtc, 8ull << 20);
    ck_assert_uint_eq(cmos_read(0x17) | cmos_read(0x18) << 8, 7 * 1024);
    ck_assert_uint_eq(cmos_read(0x30) | cmos_read(0x31) << 8, 7 * 1024);
    ck_assert_uint_eq(cmos_read(0x34) | cmos_read(0x35) << 8, 0);

    rtc_set_memory_size(rtc, 8ull << 30);
    ck_assert_uint_eq(cmos_read(0x34) | cmos_read(0x35) << 8, 0xffff);

    /* Host writes in the checksummed range keep the checksum right. */
    rtc_set_cmos(rtc, 0x10, 0x40);
    ck_assert_uint_eq(rtc_get_cmos(rtc, 0x10), 0x40);
    ck_assert_uint_eq(cmos_read(0x2e) << 8 | cmos_read(0x2f), checksum());
}
END_TEST

START_TEST(test_host_access_does_not_clear_c)
{
    set_ns(2 * MS);
    ck_assert_uint_eq(rtc_get_cmos(rtc, 0x0c), 0x40);
    ck_assert_uint_eq(rtc_get_cmos(rtc, 0x0c), 0x40);
    ck_assert_uint_eq(cmos_read(0x0c), 0x40);
    ck_assert_uint_eq(rtc_get_cmos(rtc, 0x00), 0x58);
}
END_TEST

START_TEST(test_reset_pin)
{
    cmos_write(0x0b, 0x7a);
    set_ns(2 * NS_PER_SEC);
    ck_assert_int_eq(irq8_level, 1);
    rtc_reset(rtc);
    ck_assert_int_eq(irq8_level, 0);
    ck_assert_uint_eq(cmos_read(0x0b), 0x02);
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    ck_assert_uint_eq(cmos_read(0x00), 0x00); /* the clock kept going */
}
END_TEST

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("rtc");
    TCase *tc = tcase_create("mc146818");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_power_on_registers_and_time);
    tcase_add_test(tc, test_update_rolls_over_leap_day);
    tcase_add_test(tc, test_uip_before_each_update);
    tcase_add_test(tc, test_binary_mode);
    tcase_add_test(tc, test_12_hour_mode);
    tcase_add_test(tc, test_set_freezes_and_sets_time);
    tcase_add_test(tc, test_write_time_register_while_running);
    tcase_add_test(tc, test_periodic_interrupt);
    tcase_add_test(tc, test_unserviced_interrupt_stays_pending);
    tcase_add_test(tc, test_flags_without_interrupt_enable);
    tcase_add_test(tc, test_update_ended_interrupt);
    tcase_add_test(tc, test_alarm_interrupt);
    tcase_add_test(tc, test_alarm_dont_care);
    tcase_add_test(tc, test_divider_reset_and_restart);
    tcase_add_test(tc, test_registers_c_d_read_only);
    tcase_add_test(tc, test_nmi_mask_bit);
    tcase_add_test(tc, test_memory_size_fields);
    tcase_add_test(tc, test_host_access_does_not_clear_c);
    tcase_add_test(tc, test_reset_pin);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rtc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
