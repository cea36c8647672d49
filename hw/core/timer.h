/*
 * Virtual time and the one timer list that holds every device deadline.
 *
 * Time is in nanoseconds of virtual time.  By default it follows the host's
 * monotonic clock; in deterministic mode (-icount SHIFT) it is derived from
 * the number of guest instructions retired (each counts 2^SHIFT ns), so the
 * same guest and inputs give the same run.  Devices never read a host clock:
 * they ask timer_now() and arm Timers.  The main loop runs the CPU until
 * timerlist_next_deadline() and then calls timerlist_run().
 */
#ifndef HW_CORE_TIMER_H
#define HW_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL
#define TIMER_NEVER INT64_MAX

typedef void (*TimerCallback)(void *opaque);

typedef struct TimerList TimerList;

typedef struct Timer {
    int64_t deadline;     /* virtual ns; meaningful when armed */
    TimerCallback cb;     /* called from timerlist_run() once the deadline passes */
    void *opaque;
    TimerList *list;
    struct Timer *next;   /* sorted singly linked list, earliest first */
    bool armed;
} Timer;

struct TimerList {
    Timer *head;          /* earliest deadline first */
    bool deterministic;   /* true: time from instruction count */
    int icount_shift;     /* deterministic: ns per instruction = 1 << shift */
    const uint64_t *icount; /* deterministic: the CPU's retired-instruction counter */
    int64_t host_start;   /* host: monotonic ns at timerlist_init */
    int64_t frozen_ns;    /* time while stopped (debugger, paused) */
    bool stopped;
    /* While the CPU runs a slice that ends at slice_end (virtual ns), a
     * timer armed for earlier calls slice_cut, so the slice ends at once
     * and the new deadline is served on time (an RTC handler re-arms the
     * periodic interrupt in the middle of a slice sized when nothing was
     * armed).  INT64_MIN between slices. */
    int64_t slice_end;
    void (*slice_cut)(void *opaque);
    void *slice_cut_opaque;
};

/* Host-clock mode. */
void timerlist_init(TimerList *tl);
/* Deterministic mode: time = (*icount) << shift. */
void timerlist_init_icount(TimerList *tl, const uint64_t *icount, int shift);
int64_t timer_now(const TimerList *tl);
/* Set virtual time to now_ns (a saved VM's clock, restored): in
 * deterministic mode the instruction counter already says it, so only a
 * mismatch is reported (false); on the host clock the origin moves, and a
 * stopped list takes it as its frozen time. */
bool timerlist_set_now(TimerList *tl, int64_t now_ns);
/* Earliest armed deadline, or TIMER_NEVER. */
int64_t timerlist_next_deadline(const TimerList *tl);
/* Fire every timer whose deadline is <= now; callbacks may re-arm. Returns count fired. */
int timerlist_run(TimerList *tl);

void timer_init(Timer *t, TimerList *tl, TimerCallback cb, void *opaque);
void timer_mod(Timer *t, int64_t deadline_ns);  /* arm or re-arm */
void timer_del(Timer *t);                       /* disarm (no-op if not armed) */
static inline bool timer_pending(const Timer *t)
{
    return t->armed;
}

/* Host monotonic clock in ns (for the main loop only; devices use timer_now). */
int64_t host_clock_ns(void);

/* Freeze virtual time (debugger stop, pause) and let it run on from the same
 * value: a stopped guest sees no time pass. */
void timerlist_stop(TimerList *tl);
void timerlist_resume(TimerList *tl);

/* Conversions between virtual ns and the cycles of a device clock of 'hz'
 * (e.g. the PIT's 1193182 Hz), exact for any int64 ns.  ns_to_ticks gives the
 * cycles completed at 'ns' (floor); ticks_to_ns the first ns at which 'ticks'
 * cycles are complete (ceiling), so ns_to_ticks(ticks_to_ns(t)) == t. */
int64_t timer_ns_to_ticks(int64_t ns, uint32_t hz);
int64_t timer_ticks_to_ns(int64_t ticks, uint32_t hz);

#endif /* HW_CORE_TIMER_H */
