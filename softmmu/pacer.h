/*
 * The access pacer: every PACER_PERIOD device accesses (MMIO and port I/O)
 * a callback runs, so the machine can look at the host clock in the middle
 * of a slice.  An instruction that reaches a device may cost the host far
 * more than one that does not (one write of a NIC's transmit tail sends a
 * ring of frames), and a slice counted in instructions would then hold the
 * main loop, the monitor and the window for as long as the guest likes.
 * Counting is all the hot path pays; the callback reads the clock.
 */
#ifndef SOFTMMU_PACER_H
#define SOFTMMU_PACER_H

#include <stdint.h>

#define PACER_PERIOD 64

typedef struct AccessPacer {
    uint32_t count;           /* device accesses so far */
    void (*fn)(void *opaque); /* every PACER_PERIOD of them */
    void *opaque;
} AccessPacer;

/* One device access; p may be NULL (no pacing: tests, tools). */
static inline void pacer_tick(AccessPacer *p)
{
    if (p && ++p->count % PACER_PERIOD == 0 && p->fn) {
        p->fn(p->opaque);
    }
}

#endif /* SOFTMMU_PACER_H */
