/*
 * 8254 PIT through ports 0x40-0x43 and 0x61, with virtual time stepped one
 * PIT clock at a time: counts and OUT in every mode, latching, read-back,
 * BCD, gates, port 0x61, and the edges counter 0 puts on IRQ0.
 *
 * A count written at tick t is loaded on the CLK edge t+1 ("Mode
 * Definitions"), so in these tests a count N written at tick 0 reads N at
 * tick 1 and N-k at tick 1+k.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/timer/pit.h"

static uint64_t now_ns;
static TimerList tl;
static IOPortMap *io;
static PITState *pit;
static int irq0_level;
static int irq0_rises;
static int64_t last_rise_tick;

static void irq0_handler(void *opaque, int n, int level)
{
    if (level && !irq0_level) {
        irq0_rises++;
        last_rise_tick = timer_ns_to_ticks(timer_now(&tl), PIT_FREQ_HZ);
    }
    irq0_level = level;
}

static void outb(uint16_t port, uint8_t value)
{
    ioport_write(io, port, value, 1);
}

static uint8_t inb(uint16_t port)
{
    return ioport_read(io, port, 1);
}

/* Advance virtual time to the start of PIT clock 'tick' and run timers. */
static void set_tick(int64_t tick)
{
    now_ns = timer_ticks_to_ns(tick, PIT_FREQ_HZ);
    timerlist_run(&tl);
}

static void write_count16(uint16_t port, uint16_t count)
{
    outb(port, count & 0xff);
    outb(port, count >> 8);
}

static uint16_t read_count16(uint16_t port)
{
    uint8_t lo = inb(port);
    return lo | inb(port) << 8;
}

/* Counter latch command, then the two bytes. */
static uint16_t latch_and_read(int channel)
{
    outb(0x43, channel << 6);
    return read_count16(0x40 + channel);
}

static int out2(void)
{
    return (inb(0x61) >> 5) & 1;
}

static void setup(void)
{
    now_ns = 0;
    timerlist_init_icount(&tl, &now_ns, 0);
    io = malloc(sizeof(*io));
    ck_assert_ptr_nonnull(io);
    ioport_init(io);
    irq0_level = 0;
    pit = pit_new(io, &tl, irq_make(irq0_handler, NULL, 0));
    ck_assert_ptr_nonnull(pit);
    /* Power-on leaves OUT0 (and so IRQ0) high; count edges from here. */
    ck_assert_int_eq(irq0_level, 1);
    irq0_rises = 0;
    last_rise_tick = -1;
}

static void teardown(void)
{
    pit_free(pit);
    free(io);
}

START_TEST(test_mode0_interrupt_on_terminal_count)
{
    outb(0x43, 0x30);                         /* counter 0, LSB then MSB, mode 0, binary */
    ck_assert_int_eq(pit_get_out(pit, 0), 0); /* mode 0 starts low */
    write_count16(0x40, 100);
    set_tick(1);
    ck_assert_uint_eq(latch_and_read(0), 100);
    set_tick(51);
    ck_assert_uint_eq(latch_and_read(0), 50);
    set_tick(100);
    ck_assert_uint_eq(latch_and_read(0), 1);
    ck_assert_int_eq(irq0_level, 0);
    /* OUT rises N+1 clocks after the count was written. */
    set_tick(101);
    ck_assert_int_eq(irq0_level, 1);
    ck_assert_int_eq(irq0_rises, 1);
    ck_assert_int_eq(last_rise_tick, 101);
    /* The counter wraps and keeps counting; OUT stays high, no more edges,
     * and no timer keeps ticking. */
    set_tick(102);
    ck_assert_uint_eq(latch_and_read(0), 0xffff);
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
    set_tick(200000);
    ck_assert_int_eq(irq0_rises, 1);
    ck_assert_int_eq(irq0_level, 1);
}
END_TEST

START_TEST(test_mode0_rewrite_restarts)
{
    outb(0x43, 0x30);
    write_count16(0x40, 100);
    set_tick(200);
    ck_assert_int_eq(irq0_level, 1);
    /* The first byte of a new count drops OUT and stops the counter. */
    outb(0x40, 10);
    ck_assert_int_eq(irq0_level, 0);
    uint16_t held = latch_and_read(0);
    set_tick(300);
    ck_assert_uint_eq(latch_and_read(0), held);
    outb(0x40, 0);
    set_tick(301);
    ck_assert_uint_eq(latch_and_read(0), 10);
    set_tick(311);
    ck_assert_int_eq(irq0_rises, 2);
    ck_assert_int_eq(last_rise_tick, 311);
}
END_TEST

START_TEST(test_mode2_rate_generator)
{
    outb(0x43, 0x34); /* counter 0, LSB/MSB, mode 2 */
    ck_assert_int_eq(pit_get_out(pit, 0), 1);
    write_count16(0x40, 10);
    set_tick(1);
    ck_assert_uint_eq(latch_and_read(0), 10);
    set_tick(2);
    ck_assert_uint_eq(latch_and_read(0), 9);
    set_tick(10);
    ck_assert_uint_eq(latch_and_read(0), 1);
    ck_assert_int_eq(pit_get_out(pit, 0), 0); /* low for the one clock at 1 */
    set_tick(11);
    ck_assert_uint_eq(latch_and_read(0), 10); /* reloaded */
    ck_assert_int_eq(pit_get_out(pit, 0), 1);
    ck_assert_int_eq(irq0_rises, 1);
    /* One rising edge per period, stepping clock by clock. */
    for (int64_t t = 12; t <= 1001; t++) {
        set_tick(t);
    }
    ck_assert_int_eq(irq0_rises, 100);
    ck_assert_int_eq(last_rise_tick, 1001);
}
END_TEST

START_TEST(test_mode2_late_timers_keep_edges)
{
    outb(0x43, 0x34);
    write_count16(0x40, 10);
    /* The main loop may serve timers late, missing whole low pulses; every
     * late service still shows the PIC a rising edge. */
    int steps = 0;
    for (int64_t t = 37; t < 3700; t += 37) {
        set_tick(t);
        steps++;
        ck_assert_int_eq(irq0_rises, steps);
    }
}
END_TEST

START_TEST(test_mode3_square_wave_even)
{
    outb(0x61, 0x01); /* gate 2 high */
    outb(0x43, 0xb6); /* counter 2, LSB/MSB, mode 3 */
    write_count16(0x42, 10);
    static const int expect_out[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1};
    static const int expect_val[] = {10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10, 8};
    for (int i = 0; i < 12; i++) {
        set_tick(1 + i);
        ck_assert_int_eq(out2(), expect_out[i]);
        ck_assert_uint_eq(latch_and_read(2), expect_val[i]);
    }
}
END_TEST

START_TEST(test_mode3_square_wave_odd)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb6);
    write_count16(0x42, 7);
    /* Odd N: high for (N+1)/2 clocks, low for (N-1)/2; N-1 loaded. */
    static const int expect_out[] = {1, 1, 1, 1, 0, 0, 0, 1, 1};
    static const int expect_val[] = {6, 4, 2, 0, 6, 4, 2, 6, 4};
    for (int i = 0; i < 9; i++) {
        set_tick(1 + i);
        ck_assert_int_eq(out2(), expect_out[i]);
        ck_assert_uint_eq(latch_and_read(2), expect_val[i]);
    }
}
END_TEST

START_TEST(test_mode3_irq0_at_18hz)
{
    outb(0x43, 0x36);
    write_count16(0x40, 0); /* 0 = 65536: the BIOS's 18.2 Hz tick */
    for (int64_t t = 1000; t <= PIT_FREQ_HZ; t += 1000) {
        set_tick(t);
    }
    ck_assert_int_eq(irq0_rises, 18);
    /* Rising edges come at multiples of 65536 clocks after the load. */
    ck_assert_int_eq(last_rise_tick / 1000, (18 * 65536 + 1) / 1000 + 1);
}
END_TEST

START_TEST(test_mode1_one_shot_needs_gate)
{
    outb(0x43, 0xb2); /* counter 2, LSB/MSB, mode 1 */
    write_count16(0x42, 5);
    set_tick(100);
    ck_assert_int_eq(out2(), 1); /* no trigger yet */
    outb(0x61, 0x01);            /* rising gate: trigger */
    set_tick(101);
    ck_assert_int_eq(out2(), 0);
    ck_assert_uint_eq(latch_and_read(2), 5);
    set_tick(105);
    ck_assert_int_eq(out2(), 0);
    set_tick(106);
    ck_assert_int_eq(out2(), 1);
    /* Retrigger during the pulse restarts it. */
    set_tick(200);
    outb(0x61, 0x00);
    outb(0x61, 0x01);
    set_tick(203);
    outb(0x61, 0x00);
    outb(0x61, 0x01);
    set_tick(208);
    ck_assert_int_eq(out2(), 0);
    set_tick(209);
    ck_assert_int_eq(out2(), 1);
}
END_TEST

START_TEST(test_mode4_software_strobe)
{
    outb(0x43, 0x38); /* counter 0, LSB/MSB, mode 4 */
    write_count16(0x40, 20);
    set_tick(20);
    ck_assert_int_eq(pit_get_out(pit, 0), 1);
    set_tick(21);
    ck_assert_int_eq(pit_get_out(pit, 0), 0); /* one clock low at count 0 */
    set_tick(22);
    ck_assert_int_eq(pit_get_out(pit, 0), 1);
    ck_assert_int_eq(irq0_rises, 1);
    ck_assert_int_eq(last_rise_tick, 22);
    set_tick(100000);
    ck_assert_int_eq(irq0_rises, 1); /* not periodic */
}
END_TEST

START_TEST(test_mode5_hardware_strobe)
{
    outb(0x43, 0xba); /* counter 2, LSB/MSB, mode 5 */
    write_count16(0x42, 4);
    set_tick(10);
    ck_assert_int_eq(out2(), 1);
    outb(0x61, 0x01);
    set_tick(14);
    ck_assert_int_eq(out2(), 1);
    set_tick(15);
    ck_assert_int_eq(out2(), 0);
    set_tick(16);
    ck_assert_int_eq(out2(), 1);
    set_tick(1000);
    ck_assert_int_eq(out2(), 1);
}
END_TEST

START_TEST(test_mode0_gate_suspends_counting)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb0); /* counter 2, LSB/MSB, mode 0 */
    write_count16(0x42, 50);
    set_tick(20);
    ck_assert_uint_eq(latch_and_read(2), 31);
    outb(0x61, 0x00);
    set_tick(40);
    ck_assert_uint_eq(latch_and_read(2), 31);
    outb(0x61, 0x01);
    set_tick(45);
    ck_assert_uint_eq(latch_and_read(2), 26);
    /* Twenty clocks were lost: OUT rises at 71 instead of 51. */
    set_tick(70);
    ck_assert_int_eq(out2(), 0);
    set_tick(71);
    ck_assert_int_eq(out2(), 1);
}
END_TEST

START_TEST(test_mode2_gate_low_forces_out_high)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb4); /* counter 2, LSB/MSB, mode 2 */
    write_count16(0x42, 10);
    set_tick(10);
    ck_assert_int_eq(out2(), 0);
    outb(0x61, 0x00);
    ck_assert_int_eq(out2(), 1); /* at once, no clock needed */
    set_tick(30);
    ck_assert_int_eq(out2(), 1);
    outb(0x61, 0x01); /* rising gate reloads on the next clock */
    set_tick(31);
    ck_assert_uint_eq(latch_and_read(2), 10);
    set_tick(40);
    ck_assert_int_eq(out2(), 0);
    set_tick(41);
    ck_assert_int_eq(out2(), 1);
}
END_TEST

START_TEST(test_counter_latch_freezes_value)
{
    outb(0x43, 0x34);
    write_count16(0x40, 1000);
    set_tick(101);
    outb(0x43, 0x00);
    set_tick(200);
    outb(0x43, 0x00); /* ignored: the first latch is still unread */
    set_tick(500);
    ck_assert_uint_eq(read_count16(0x40), 900);
    /* Once read, the counter reads live again. */
    ck_assert_uint_eq(latch_and_read(0), 501);
}
END_TEST

START_TEST(test_unlatched_reads_toggle)
{
    outb(0x43, 0x34);
    write_count16(0x40, 0x1234);
    set_tick(1);
    ck_assert_uint_eq(inb(0x40), 0x34);
    ck_assert_uint_eq(inb(0x40), 0x12);
    ck_assert_uint_eq(inb(0x40), 0x34);
    ck_assert_uint_eq(inb(0x43), 0xff); /* the control register is write-only */
}
END_TEST

START_TEST(test_readback_status_and_count)
{
    outb(0x43, 0x74); /* counter 1, LSB/MSB, mode 2 */
    /* Status after a control word: OUT high, NULL COUNT set. */
    outb(0x43, 0xe4);
    ck_assert_uint_eq(inb(0x41), 0xc0 | 0x34);
    write_count16(0x41, 100);
    outb(0x43, 0xe4);
    ck_assert_uint_eq(inb(0x41), 0xc0 | 0x34); /* not loaded yet */
    set_tick(1);
    outb(0x43, 0xe4);
    ck_assert_uint_eq(inb(0x41), 0x80 | 0x34); /* CR moved to CE */
    /* Status and count together: status first, then the count. */
    set_tick(100);
    outb(0x43, 0xc4);
    set_tick(150);
    ck_assert_uint_eq(inb(0x41), 0x00 | 0x34); /* OUT was low at tick 100 */
    ck_assert_uint_eq(read_count16(0x41), 1);
}
END_TEST

START_TEST(test_readback_several_counters)
{
    outb(0x61, 0x01);
    outb(0x43, 0x34);
    write_count16(0x40, 300);
    outb(0x43, 0x74);
    write_count16(0x41, 200);
    outb(0x43, 0xb4);
    write_count16(0x42, 100);
    set_tick(11);
    outb(0x43, 0xde); /* latch counts of counters 0, 1 and 2 */
    set_tick(50);
    ck_assert_uint_eq(read_count16(0x40), 290);
    ck_assert_uint_eq(read_count16(0x41), 190);
    ck_assert_uint_eq(read_count16(0x42), 90);
}
END_TEST

START_TEST(test_bcd_counting)
{
    outb(0x43, 0x31); /* counter 0, LSB/MSB, mode 0, BCD */
    write_count16(0x40, 0x0100);
    set_tick(11);
    ck_assert_uint_eq(latch_and_read(0), 0x0090);
    set_tick(101);
    ck_assert_int_eq(irq0_level, 1); /* 100 decimal clocks, not 256 */
    /* 0 means 10000 in BCD; it wraps to 9999. */
    outb(0x43, 0x31);
    write_count16(0x40, 0x0000);
    set_tick(102);
    ck_assert_uint_eq(latch_and_read(0), 0x0000);
    set_tick(103);
    ck_assert_uint_eq(latch_and_read(0), 0x9999);
    set_tick(103 + 1234);
    ck_assert_uint_eq(latch_and_read(0), 0x8765);
}
END_TEST

START_TEST(test_lsb_only_and_msb_only)
{
    outb(0x43, 0x10); /* counter 0, LSB only, mode 0 */
    outb(0x40, 0x50);
    set_tick(11);
    outb(0x43, 0x00);
    ck_assert_uint_eq(inb(0x40), 0x50 - 10);
    outb(0x43, 0x20); /* counter 0, MSB only, mode 0 */
    outb(0x40, 0x02); /* count 0x200 */
    set_tick(22);
    outb(0x43, 0x00);
    ck_assert_uint_eq(inb(0x40), (0x200 - 10) >> 8);
    ck_assert_uint_eq(inb(0x40), (0x200 - 10) >> 8); /* live read, also MSB */
}
END_TEST

START_TEST(test_port61_bits)
{
    outb(0x61, 0xff);
    ck_assert_uint_eq(inb(0x61) & 0xcf, 0x0f); /* bits 0-3 stored, 6-7 zero */
    ck_assert(pit_speaker_enabled(pit));
    outb(0x61, 0x01);
    ck_assert(!pit_speaker_enabled(pit));
    /* The refresh bit toggles every 18 clocks (15.085 us). */
    set_tick(0);
    ck_assert_uint_eq(inb(0x61) & 0x10, 0x00);
    set_tick(17);
    ck_assert_uint_eq(inb(0x61) & 0x10, 0x00);
    set_tick(18);
    ck_assert_uint_eq(inb(0x61) & 0x10, 0x10);
    set_tick(35);
    ck_assert_uint_eq(inb(0x61) & 0x10, 0x10);
    set_tick(36);
    ck_assert_uint_eq(inb(0x61) & 0x10, 0x00);
}
END_TEST

START_TEST(test_out2_gated_square_wave_for_speaker)
{
    outb(0x43, 0xb6);
    write_count16(0x42, 4);
    /* Gate low: mode 3 holds OUT high and does not count. */
    set_tick(50);
    ck_assert_int_eq(out2(), 1);
    ck_assert_uint_eq(latch_and_read(2), 4);
    outb(0x61, 0x03);
    set_tick(53);
    ck_assert_int_eq(out2(), 0);
    set_tick(55);
    ck_assert_int_eq(out2(), 1);
}
END_TEST

START_TEST(test_mode2_new_count_waits_for_period_end)
{
    outb(0x43, 0x34);
    write_count16(0x40, 10);
    set_tick(5);
    write_count16(0x40, 4);
    /* The running period ends as programmed (edge at 11), then the new
     * count takes over: edges at 15, 19. */
    set_tick(10);
    ck_assert_uint_eq(latch_and_read(0), 1);
    set_tick(11);
    ck_assert_int_eq(last_rise_tick, 11);
    ck_assert_uint_eq(latch_and_read(0), 4);
    set_tick(15);
    ck_assert_int_eq(last_rise_tick, 15);
    set_tick(19);
    ck_assert_int_eq(last_rise_tick, 19);
    ck_assert_int_eq(irq0_rises, 3);
}
END_TEST

START_TEST(test_mode3_new_count_at_half_cycle)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb6);
    write_count16(0x42, 10);
    set_tick(2);
    write_count16(0x42, 4);
    /* High half of 10 runs out (ticks 1-5); the new count starts with the
     * low half: 6-7 low, 8-9 high, 10-11 low. */
    static const int expect[] = {1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1};
    for (int i = 0; i < 11; i++) {
        set_tick(2 + i);
        ck_assert_int_eq(out2(), expect[i]);
    }
}
END_TEST

START_TEST(test_reset_stops_counters)
{
    outb(0x43, 0x34);
    write_count16(0x40, 10);
    set_tick(15);
    pit_reset(pit);
    /* Idle with OUT high; no more edges. */
    ck_assert_int_eq(pit_get_out(pit, 0), 1);
    ck_assert_int_eq(irq0_level, 1);
    int rises = irq0_rises;
    set_tick(1000);
    ck_assert_int_eq(irq0_rises, rises);
    ck_assert_uint_eq(inb(0x61) & 0x0f, 0);
}
END_TEST

static Suite *pit_suite(void)
{
    Suite *s = suite_create("pit");
    TCase *tc = tcase_create("8254");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode0_interrupt_on_terminal_count);
    tcase_add_test(tc, test_mode0_rewrite_restarts);
    tcase_add_test(tc, test_mode2_rate_generator);
    tcase_add_test(tc, test_mode2_late_timers_keep_edges);
    tcase_add_test(tc, test_mode3_square_wave_even);
    tcase_add_test(tc, test_mode3_square_wave_odd);
    tcase_add_test(tc, test_mode3_irq0_at_18hz);
    tcase_add_test(tc, test_mode1_one_shot_needs_gate);
    tcase_add_test(tc, test_mode4_software_strobe);
    tcase_add_test(tc, test_mode5_hardware_strobe);
    tcase_add_test(tc, test_mode0_gate_suspends_counting);
    tcase_add_test(tc, test_mode2_gate_low_forces_out_high);
    tcase_add_test(tc, test_counter_latch_freezes_value);
    tcase_add_test(tc, test_unlatched_reads_toggle);
    tcase_add_test(tc, test_readback_status_and_count);
    tcase_add_test(tc, test_readback_several_counters);
    tcase_add_test(tc, test_bcd_counting);
    tcase_add_test(tc, test_lsb_only_and_msb_only);
    tcase_add_test(tc, test_port61_bits);
    tcase_add_test(tc, test_out2_gated_square_wave_for_speaker);
    tcase_add_test(tc, test_mode2_new_count_waits_for_period_end);
    tcase_add_test(tc, test_mode3_new_count_at_half_cycle);
    tcase_add_test(tc, test_reset_stops_counters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
