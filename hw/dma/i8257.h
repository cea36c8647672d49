/*
 * The PC's ISA DMA: two 8237A controllers (QEMU calls the pair "i8257")
 * and the 74LS612 page registers.
 *
 *   controller 1, channels 0-3, byte transfers:  ports 0x00-0x0F
 *   controller 2, channels 4-7, word transfers:  ports 0xC0-0xDF (even)
 *   page registers:                              ports 0x80-0x8F
 * Channel 4 cascades controller 1 into controller 2.  Each channel has a
 * 16-bit address and count, a page byte (address bits 23:16; for word
 * channels bits 23:17, the address counting words), and a mode: verify,
 * write (device to memory) or read (memory to device), increment or
 * decrement, autoinitialize.
 *
 * A device asks for service by raising its DREQ (i8257_set_dreq).  While
 * DREQ is high and the channel is unmasked the controller calls the
 * device's service function, which moves bytes with i8257_transfer; a
 * channel masked at that time is served as soon as it is unmasked.
 * Transfers are synchronous: nothing runs on a timer.
 *
 * Memory is reached only through softmmu/phys.h (RAM, ROM and MMIO as the
 * CPU sees them, unclaimed addresses reading all ones), so no address a
 * guest programs can reach host memory outside guest RAM.  Memory-to-
 * memory transfers (command bit 0, channels 0 and 1) are not modelled.
 */
#ifndef HW_DMA_I8257_H
#define HW_DMA_I8257_H

#include <stdbool.h>
#include <stdint.h>

#include "softmmu/ioport.h"
#include "softmmu/phys.h"

#define I8257_CHANNELS 8

typedef struct I8257State I8257State;

/* Called while DREQ is high and the channel may transfer. */
typedef void (*I8257ServiceFn)(void *opaque);

I8257State *i8257_new(IOPortMap *io, PhysMem *pm);
void i8257_free(I8257State *s);
/* System reset: both controllers to the state of a master clear. */
void i8257_reset(I8257State *s);
/* Saved state: section "i8257" (migration/vmstate.h). */
extern const struct VMStateDesc i8257_vmstate;

/* Attach a device's service function to channel chan (0-3, 5-7). */
void i8257_connect(I8257State *s, int chan, I8257ServiceFn fn, void *opaque);
/* The device's DREQ line for chan. */
void i8257_set_dreq(I8257State *s, int chan, bool level);

/*
 * Move up to len bytes between buf and memory as channel chan's mode says:
 * write mode stores buf into memory, read mode fills buf from memory,
 * verify mode only counts.  Stops at terminal count (*tc set, and then the
 * channel reinitializes or masks itself as its mode says) or when the
 * channel is masked or disabled.  Returns the bytes counted.
 */
uint32_t i8257_transfer(I8257State *s, int chan, uint8_t *buf, uint32_t len, bool *tc);

#endif /* HW_DMA_I8257_H */
