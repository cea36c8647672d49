/*
 * Virtual time and the timer list: deterministic time, deadline order,
 * re-arming, deletion, stop/resume, and the device-clock conversions.
 */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "hw/core/timer.h"

static uint64_t icount;
static TimerList tl;

#define MAX_EVENTS 64

/* Order in which callbacks ran, by timer id. */
static int fired_ids[MAX_EVENTS];
static int nfired;

typedef struct TestTimer {
    Timer timer;
    int id;
    int64_t period; /* > 0: re-arm at deadline + period */
    int64_t fired_at[MAX_EVENTS];
    int nfired;
    Timer *victim; /* deleted from the callback when set */
} TestTimer;

static void test_cb(void *opaque)
{
    TestTimer *t = opaque;
    if (nfired < MAX_EVENTS) {
        fired_ids[nfired++] = t->id;
    }
    if (t->nfired < MAX_EVENTS) {
        t->fired_at[t->nfired] = timer_now(t->timer.list);
    }
    t->nfired++;
    if (t->victim) {
        timer_del(t->victim);
    }
    if (t->period > 0) {
        timer_mod(&t->timer, t->timer.deadline + t->period);
    }
}

static void make_timer(TestTimer *t, int id)
{
    *t = (TestTimer){.id = id};
    timer_init(&t->timer, &tl, test_cb, t);
}

static void setup(void)
{
    icount = 0;
    nfired = 0;
    timerlist_init_icount(&tl, &icount, 0);
}

START_TEST(test_deterministic_time_follows_icount)
{
    ck_assert_int_eq(timer_now(&tl), 0);
    icount = 1234;
    ck_assert_int_eq(timer_now(&tl), 1234);
    /* Each instruction counts 2^shift ns. */
    timerlist_init_icount(&tl, &icount, 3);
    ck_assert_int_eq(timer_now(&tl), 1234 * 8);
}
END_TEST

START_TEST(test_fire_in_deadline_order)
{
    TestTimer a, b, c, d;
    make_timer(&a, 1);
    make_timer(&b, 2);
    make_timer(&c, 3);
    make_timer(&d, 4);
    timer_mod(&a.timer, 300);
    timer_mod(&b.timer, 100);
    timer_mod(&c.timer, 200);
    timer_mod(&d.timer, 200); /* same deadline as c, armed later: fires after c */
    ck_assert_int_eq(timerlist_next_deadline(&tl), 100);
    icount = 1000;
    ck_assert_int_eq(timerlist_run(&tl), 4);
    ck_assert_int_eq(fired_ids[0], 2);
    ck_assert_int_eq(fired_ids[1], 3);
    ck_assert_int_eq(fired_ids[2], 4);
    ck_assert_int_eq(fired_ids[3], 1);
    ck_assert(!timer_pending(&a.timer));
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
}
END_TEST

START_TEST(test_only_expired_fire)
{
    TestTimer a, b;
    make_timer(&a, 1);
    make_timer(&b, 2);
    timer_mod(&a.timer, 100);
    timer_mod(&b.timer, 101);
    icount = 99;
    ck_assert_int_eq(timerlist_run(&tl), 0);
    icount = 100; /* a deadline is due when now reaches it */
    ck_assert_int_eq(timerlist_run(&tl), 1);
    ck_assert_int_eq(a.nfired, 1);
    ck_assert_int_eq(a.fired_at[0], 100);
    ck_assert_int_eq(b.nfired, 0);
    ck_assert(timer_pending(&b.timer));
    ck_assert_int_eq(timerlist_next_deadline(&tl), 101);
}
END_TEST

START_TEST(test_mod_moves_an_armed_timer)
{
    TestTimer a, b;
    make_timer(&a, 1);
    make_timer(&b, 2);
    timer_mod(&a.timer, 100);
    timer_mod(&b.timer, 200);
    timer_mod(&a.timer, 300); /* re-arming moves it; it must not fire twice */
    ck_assert_int_eq(timerlist_next_deadline(&tl), 200);
    timer_mod(&a.timer, 50); /* and earlier again */
    ck_assert_int_eq(timerlist_next_deadline(&tl), 50);
    icount = 1000;
    ck_assert_int_eq(timerlist_run(&tl), 2);
    ck_assert_int_eq(a.nfired, 1);
    ck_assert_int_eq(fired_ids[0], 1);
    ck_assert_int_eq(fired_ids[1], 2);
}
END_TEST

START_TEST(test_periodic_rearm_catches_up)
{
    TestTimer a;
    make_timer(&a, 1);
    a.period = 100;
    timer_mod(&a.timer, 100);
    /* One late run covering ten periods fires ten times, at the first
     * deadline beyond 'now' it stops. */
    icount = 1050;
    ck_assert_int_eq(timerlist_run(&tl), 10);
    ck_assert_int_eq(a.nfired, 10);
    ck_assert_int_eq(timerlist_next_deadline(&tl), 1100);
    icount = 1100;
    ck_assert_int_eq(timerlist_run(&tl), 1);
}
END_TEST

START_TEST(test_del_disarms)
{
    TestTimer a, b, c;
    make_timer(&a, 1);
    make_timer(&b, 2);
    make_timer(&c, 3);
    timer_del(&a.timer); /* never armed: harmless */
    timer_mod(&a.timer, 100);
    timer_mod(&b.timer, 200);
    timer_mod(&c.timer, 300);
    timer_del(&b.timer);
    ck_assert(!timer_pending(&b.timer));
    /* A callback may delete a timer that is also due in this run. */
    a.victim = &c.timer;
    icount = 1000;
    ck_assert_int_eq(timerlist_run(&tl), 1);
    ck_assert_int_eq(b.nfired, 0);
    ck_assert_int_eq(c.nfired, 0);
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
}
END_TEST

START_TEST(test_stop_freezes_time)
{
    icount = 500;
    timerlist_stop(&tl);
    icount = 900;
    ck_assert_int_eq(timer_now(&tl), 500);
    timerlist_resume(&tl);
    ck_assert_int_eq(timer_now(&tl), 900);

    /* Host mode: the time spent stopped is not seen by the guest. */
    TimerList host;
    timerlist_init(&host);
    int64_t before = timer_now(&host);
    timerlist_stop(&host);
    int64_t frozen = timer_now(&host);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    ck_assert_int_eq(timer_now(&host), frozen);
    timerlist_resume(&host);
    int64_t after = timer_now(&host);
    ck_assert_int_ge(after, frozen);
    ck_assert_int_lt(after - before, 40 * 1000 * 1000);
}
END_TEST

START_TEST(test_host_time_advances)
{
    TimerList host;
    timerlist_init(&host);
    int64_t t0 = timer_now(&host);
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, NULL);
    int64_t t1 = timer_now(&host);
    ck_assert_int_ge(t1 - t0, 2 * 1000 * 1000);
}
END_TEST

START_TEST(test_tick_conversions)
{
    const uint32_t pit_hz = 1193182;
    /* One second is exactly hz ticks; one tick is 838.1 ns. */
    ck_assert_int_eq(timer_ns_to_ticks(NS_PER_SEC, pit_hz), pit_hz);
    ck_assert_int_eq(timer_ns_to_ticks(838, pit_hz), 0);
    ck_assert_int_eq(timer_ns_to_ticks(839, pit_hz), 1);
    ck_assert_int_eq(timer_ticks_to_ns(1, pit_hz), 839);
    /* Round trip, including past the point where ns * hz overflows 64
     * bits (about 2 hours for the PIT) and before time 0. */
    static const int64_t ticks[] = {
        0, 1, 2, 12345, pit_hz - 1, 9000000000LL, 123456789012345LL, -1, -pit_hz - 7};
    for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
        int64_t ns = timer_ticks_to_ns(ticks[i], pit_hz);
        ck_assert_int_eq(timer_ns_to_ticks(ns, pit_hz), ticks[i]);
        ck_assert_int_eq(timer_ns_to_ticks(ns - 1, pit_hz), ticks[i] - 1);
    }
    /* 10 hours of ns: 42954552000 ticks. */
    ck_assert_int_eq(timer_ns_to_ticks(36000 * NS_PER_SEC, pit_hz), 36000LL * pit_hz);
    /* The RTC's 32768 Hz divides a second evenly into 30517.578125 ns. */
    ck_assert_int_eq(timer_ticks_to_ns(32768, 32768), NS_PER_SEC);
    ck_assert_int_eq(timer_ticks_to_ns(8, 32768), 244141);
}
END_TEST

static int cuts;
static void count_cut(void *opaque)
{
    cuts++;
}

/* A timer armed during a slice for before the slice's end cuts the slice
 * once; one armed for after it, or between slices, does not. */
START_TEST(test_early_timer_cuts_slice)
{
    TestTimer a, b, c;
    make_timer(&a, 1);
    make_timer(&b, 2);
    make_timer(&c, 3);
    cuts = 0;
    tl.slice_cut = count_cut;
    timer_mod(&a.timer, 500); /* between slices */
    ck_assert_int_eq(cuts, 0);
    tl.slice_end = 1000;
    timer_mod(&b.timer, 2000);
    ck_assert_int_eq(cuts, 0);
    timer_mod(&b.timer, 900);
    ck_assert_int_eq(cuts, 1);
    timer_mod(&c.timer, 800); /* the slice is already cut */
    ck_assert_int_eq(cuts, 1);
    ck_assert_int_eq(tl.slice_end, INT64_MIN);
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("list");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_deterministic_time_follows_icount);
    tcase_add_test(tc, test_fire_in_deadline_order);
    tcase_add_test(tc, test_only_expired_fire);
    tcase_add_test(tc, test_mod_moves_an_armed_timer);
    tcase_add_test(tc, test_periodic_rearm_catches_up);
    tcase_add_test(tc, test_del_disarms);
    tcase_add_test(tc, test_stop_freezes_time);
    tcase_add_test(tc, test_host_time_advances);
    tcase_add_test(tc, test_tick_conversions);
    tcase_add_test(tc, test_early_timer_cuts_slice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
