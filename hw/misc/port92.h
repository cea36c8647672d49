/*
 * System control port A (port 0x92, "fast A20 and reset" on PS/2 and on
 * the PIIX/PIIX3): bit 1 gates A20, a 0 -> 1 edge of bit 0 resets the CPU.
 */
#ifndef HW_MISC_PORT92_H
#define HW_MISC_PORT92_H

#include <stdbool.h>

#include "softmmu/ioport.h"

#define PORT92_PORT       0x92
#define PORT92_FAST_RESET 0x01
#define PORT92_A20        0x02

typedef struct Port92State Port92State;

/*
 * set_a20 is called on every write with the new bit 1; reset_request when
 * bit 0 goes from 0 to 1.  Either may be NULL.
 */
Port92State *port92_new(IOPortMap *io, void (*set_a20)(void *opaque, bool on),
                        void (*reset_request)(void *opaque), void *opaque);
void port92_free(Port92State *s);
/* Back to 0 (A20 gate off here; the keyboard controller's gate is separate).
 * The callbacks are not called. */
void port92_reset(Port92State *s);
/* Saved state: section "port92" (migration/vmstate.h). */
extern const struct VMStateDesc port92_vmstate;

#endif /* HW_MISC_PORT92_H */
