/*
 * Intel 8254 programmable interval timer at ports 0x40-0x43, and the PC's
 * system control port B (0x61) that carries counter 2's gate and output.
 *
 * Counter 0's OUT drives IRQ0; counter 1 is the old DRAM refresh timer
 * (its effect, the refresh toggle in port 0x61 bit 4, is kept); counter 2
 * feeds the speaker, gated by port 0x61 bit 0.  The counters run from a
 * 1193182 Hz clock derived from virtual time.
 */
#ifndef HW_TIMER_PIT_H
#define HW_TIMER_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "softmmu/ioport.h"

#define PIT_FREQ_HZ 1193182u

typedef struct PITState PITState;

PITState *pit_new(IOPortMap *io, TimerList *tl, IRQ irq0);
void pit_free(PITState *s);
/* Power-on: counters idle (mode 3, no count, OUT high) until programmed,
 * port 0x61 = 0. */
void pit_reset(PITState *s);
/* Saved state: section "pit" (migration/vmstate.h). */
extern const struct VMStateDesc pit_vmstate;

/* Current level of a counter's OUT pin (channel 0-2). */
int pit_get_out(PITState *s, int channel);
/* Counter 2's gate (port 0x61 bit 0) and speaker data enable (bit 1): the
 * speaker sounds while both are set and counter 2 produces a wave. */
bool pit_speaker_enabled(PITState *s);

#endif /* HW_TIMER_PIT_H */
