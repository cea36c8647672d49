/*
 * Virtual time and the timer list (see timer.h).
 *
 * The list is a sorted singly linked list.  A machine has a handful of armed
 * timers (PIT channel 0, RTC, UART, IDE), so insertion by linear search
 * costs less than any tree would, and the main loop's question "when is the
 * next deadline" is answered by reading the head.  Timers with equal
 * deadlines fire in the order they were armed, so runs repeat exactly.
 */
#include <time.h>

#include "hw/core/timer.h"

int64_t host_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void timerlist_init_common(TimerList *tl)
{
    tl->head = NULL;
    tl->deterministic = false;
    tl->icount_shift = 0;
    tl->icount = NULL;
    tl->host_start = 0;
    tl->frozen_ns = 0;
    tl->stopped = false;
    tl->slice_end = INT64_MIN;
    tl->slice_cut = NULL;
    tl->slice_cut_opaque = NULL;
}

void timerlist_init(TimerList *tl)
{
    timerlist_init_common(tl);
    tl->host_start = host_clock_ns();
}

void timerlist_init_icount(TimerList *tl, const uint64_t *icount, int shift)
{
    timerlist_init_common(tl);
    tl->deterministic = true;
    tl->icount = icount;
    tl->icount_shift = shift;
}

/* Time as the running clock gives it, ignoring 'stopped'. */
static int64_t timerlist_clock(const TimerList *tl)
{
    if (tl->deterministic) {
        uint64_t count = tl->icount ? *tl->icount : 0;
        return (int64_t)(count << tl->icount_shift);
    }
    return host_clock_ns() - tl->host_start;
}

int64_t timer_now(const TimerList *tl)
{
    if (tl->stopped) {
        return tl->frozen_ns;
    }
    return timerlist_clock(tl);
}

void timerlist_stop(TimerList *tl)
{
    if (tl->stopped) {
        return;
    }
    tl->frozen_ns = timerlist_clock(tl);
    tl->stopped = true;
}

void timerlist_resume(TimerList *tl)
{
    if (!tl->stopped) {
        return;
    }
    /* In host mode, shift the origin so the host time spent stopped is not
     * seen by the guest.  In deterministic mode no instructions retire while
     * stopped, so the clock already carries on from the same value. */
    if (!tl->deterministic) {
        tl->host_start = host_clock_ns() - tl->frozen_ns;
    }
    tl->stopped = false;
}

bool timerlist_set_now(TimerList *tl, int64_t now_ns)
{
    if (tl->deterministic) {
        if (tl->stopped) {
            tl->frozen_ns = timerlist_clock(tl);
        }
        return timerlist_clock(tl) == now_ns;
    }
    tl->host_start = host_clock_ns() - now_ns;
    tl->frozen_ns = now_ns;
    return true;
}

int64_t timerlist_next_deadline(const TimerList *tl)
{
    return tl->head ? tl->head->deadline : TIMER_NEVER;
}

static void timer_unlink(Timer *t)
{
    Timer **link = &t->list->head;
    while (*link && *link != t) {
        link = &(*link)->next;
    }
    if (*link) {
        *link = t->next;
    }
    t->next = NULL;
    t->armed = false;
}

void timer_init(Timer *t, TimerList *tl, TimerCallback cb, void *opaque)
{
    t->deadline = TIMER_NEVER;
    t->cb = cb;
    t->opaque = opaque;
    t->list = tl;
    t->next = NULL;
    t->armed = false;
}

void timer_mod(Timer *t, int64_t deadline_ns)
{
    if (t->armed) {
        timer_unlink(t);
    }
    t->deadline = deadline_ns;
    /* Insert after every timer due at or before this one (FIFO among ties). */
    Timer **link = &t->list->head;
    while (*link && (*link)->deadline <= deadline_ns) {
        link = &(*link)->next;
    }
    t->next = *link;
    *link = t;
    t->armed = true;
    if (deadline_ns < t->list->slice_end && t->list->slice_cut) {
        t->list->slice_end = INT64_MIN; /* once per slice */
        t->list->slice_cut(t->list->slice_cut_opaque);
    }
}

void timer_del(Timer *t)
{
    if (t->armed) {
        timer_unlink(t);
    }
}

int timerlist_run(TimerList *tl)
{
    /* 'now' is read once: a callback that re-arms its timer for a deadline
     * that has already passed (catching up after the host was late) fires
     * again in this same call, but one that re-arms for the future waits. */
    int64_t now = timer_now(tl);
    int fired = 0;
    while (tl->head && tl->head->deadline <= now) {
        Timer *t = tl->head;
        tl->head = t->next;
        t->next = NULL;
        t->armed = false;
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

/* Floor division for a possibly negative dividend and positive divisor. */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b;
    int64_t r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

int64_t timer_ns_to_ticks(int64_t ns, uint32_t hz)
{
    /* ns = q s + r ns; r * hz < 1e9 * 2^32 fits in int64. */
    int64_t r;
    int64_t q = floor_div(ns, NS_PER_SEC, &r);
    return q * (int64_t)hz + (r * (int64_t)hz) / NS_PER_SEC;
}

int64_t timer_ticks_to_ns(int64_t ticks, uint32_t hz)
{
    /* ticks = q * hz + r; r * 1e9 < 2^32 * 1e9 fits in int64. */
    int64_t r;
    int64_t q = floor_div(ticks, hz, &r);
    return q * NS_PER_SEC + (r * NS_PER_SEC + hz - 1) / hz;
}
