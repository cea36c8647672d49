/*
 * i8042 keyboard controller (ports 0x60 and 0x64) with a PS/2 keyboard on
 * its first port and a PS/2 mouse on its auxiliary port.
 *
 * The controller raises IRQ1 for keyboard bytes and IRQ12 for mouse bytes
 * (command byte bits 0 and 1), drives A20 and the CPU reset line through its
 * output port, and can translate the keyboard's scancode set 2 into set 1
 * (command byte bit 6), as every PC BIOS leaves it.
 */
#ifndef HW_INPUT_I8042_H
#define HW_INPUT_I8042_H

#include <stdbool.h>

#include "hw/core/irq.h"
#include "hw/input/ps2.h"
#include "softmmu/ioport.h"

#define I8042_DATA_PORT   0x60
#define I8042_STATUS_PORT 0x64 /* read: status; write: controller command */

/* Status register bits. */
#define I8042_STR_OBF     0x01 /* output buffer full: a byte waits at 0x60 */
#define I8042_STR_IBF     0x02 /* input buffer full (always 0: writes are taken at once) */
#define I8042_STR_SYS     0x04 /* system flag: set by self-test or command byte bit 2 */
#define I8042_STR_A2      0x08 /* last write went to 0x64 (command), not 0x60 (data) */
#define I8042_STR_INH     0x10 /* 1 = keyboard not inhibited by the keylock */
#define I8042_STR_AUXB    0x20 /* the output buffer holds a mouse byte */
#define I8042_STR_TIMEOUT 0x40 /* transmit/receive timeout (devices always answer: 0) */
#define I8042_STR_PARITY  0x80 /* parity error (never: 0) */

/* Command byte (controller RAM byte 0) bits. */
#define I8042_CTR_KBDINT 0x01 /* IRQ1 on keyboard data */
#define I8042_CTR_AUXINT 0x02 /* IRQ12 on mouse data */
#define I8042_CTR_SYS    0x04 /* copied to the status SYS flag */
#define I8042_CTR_KBDDIS 0x10 /* keyboard clock held low: its bytes wait */
#define I8042_CTR_AUXDIS 0x20 /* mouse clock held low */
#define I8042_CTR_XLATE  0x40 /* translate set 2 to set 1 */

/* Output port bits (commands 0xD0/0xD1). */
#define I8042_OUT_RESET   0x01 /* 0 = hold the CPU in reset */
#define I8042_OUT_A20     0x02
#define I8042_OUT_KBD_OBF 0x10 /* IRQ1 line */
#define I8042_OUT_AUX_OBF 0x20 /* IRQ12 line */

typedef struct I8042Callbacks {
    void *opaque;
    void (*reset_request)(void *opaque);    /* output port bit 0 pulsed or written 0 */
    void (*set_a20)(void *opaque, bool on); /* every output port write */
} I8042Callbacks;

typedef struct I8042State I8042State;

/* Claims ports 0x60 and 0x64.  cb may be NULL. */
I8042State *i8042_new(IOPortMap *io, IRQ kbd_irq, IRQ mouse_irq, const I8042Callbacks *cb);
void i8042_free(I8042State *s);
/*
 * Power-on state of controller, keyboard and mouse.  The output port comes
 * up with A20 enabled and reset released; the callbacks are not called.
 */
void i8042_reset(I8042State *s);
/* Saved state: section "i8042" (migration/vmstate.h). */
extern const struct VMStateDesc i8042_vmstate;

/* A key went down or up: keycode as in ps2.h (set 1 make code, PS2_KEY_*).
 * Dropped while the keyboard is disabled (0xF5). */
void i8042_key_event(I8042State *s, int keycode, bool down);
/*
 * Mouse motion since the last call in host screen terms: dx > 0 right,
 * dy > 0 down, dz > 0 wheel turned towards the user; buttons is the
 * PS2_BUTTON_* state now.
 */
void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, int buttons);

#endif /* HW_INPUT_I8042_H */
