/*
 * The PC's pair of Intel 8259A programmable interrupt controllers.
 *
 * The master sits at ports 0x20/0x21 and drives the CPU's INTR pin; the slave
 * sits at 0xA0/0xA1 and is cascaded on the master's IR2.  The PIIX edge/level
 * control registers (ELCR) are at 0x4D0 (IRQ 0-7) and 0x4D1 (IRQ 8-15).
 * ISA IRQ n is the master's IRn for n < 8 and the slave's IR(n-8) otherwise.
 */
#ifndef HW_INTC_PIC_H
#define HW_INTC_PIC_H

#include <stdbool.h>
#include <stddef.h>

#include "hw/core/irq.h"
#include "softmmu/ioport.h"

typedef struct PICState PICState;

/* Create the pair and claim its ports.  cpu_intr follows the master's INT
 * output: raised while an unmasked request outranks everything in service. */
PICState *pic_new(IOPortMap *io, IRQ cpu_intr);
void pic_free(PICState *s);
/* Power-on state: both chips uninitialised, every input masked, ELCR 0. */
void pic_reset(PICState *s);
/* Saved state: section "pic" (migration/vmstate.h). */
extern const struct VMStateDesc pic_vmstate;

/* The line a device drives for ISA IRQ 0-15 (2 is the ISA bus's IRQ2/9 pin,
 * which an AT routes to IRQ9 because IR2 carries the cascade). */
IRQ pic_input(PICState *s, int irq);
void pic_set_irq(PICState *s, int irq, int level);

/* The CPU's interrupt-acknowledge cycle: returns the vector and moves the
 * request from IRR to ISR.  A request that went away before INTA gives the
 * vector of IR7 of the chip that lost it, with its ISR left untouched. */
int pic_ack(PICState *s);
/* True while the master's INT output is asserted. */
bool pic_intr_pending(PICState *s);

/* IRR, IMR, ISR, vector base and ELCR of each chip, for `info pic`.
 * Returns the length snprintf would have written. */
int pic_info(PICState *s, char *buf, size_t len);

#endif /* HW_INTC_PIC_H */
