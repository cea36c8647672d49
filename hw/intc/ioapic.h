/*
 * The I/O APIC (Intel 82093AA datasheet, order 290566): 24 interrupt inputs,
 * each with a redirection entry that turns its level or edge into a message
 * for the local APICs.  Registers are reached through IOREGSEL (offset 00h)
 * and IOWIN (offset 10h) in a page at FEC00000h.
 *
 * On the PC, input n is GSI n: ISA IRQ n for n < 16 except that the PIT's
 * IRQ0 arrives on input 2 (the MADT's interrupt source override) and input
 * 0 carries the 8259's INT output (for ExtINT virtual wire mode); inputs
 * 16-23 are unused on the i440FX board, whose PCI interrupts reach the
 * ISA IRQs their PIRQ lines are steered to, as on QEMU's pc machine.
 */
#ifndef HW_INTC_IOAPIC_H
#define HW_INTC_IOAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "softmmu/phys.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_PINS         24
#define IOAPIC_VERSION_VALUE 0x11 /* 82093AA */
/* The PC's I/O APIC ID: 1, after the one CPU's local APIC 0, so the two
 * share no ID on the APIC bus (the MADT and the MP table say so too). */
#define PC_IOAPIC_ID 1

/* Register indexes (through IOREGSEL). */
#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_ARB   0x02
#define IOAPIC_REG_REDTBL 0x10 /* entry n: 10h + 2n (low), 11h + 2n (high) */

/* Redirection entry bits (82093AA 3.2.4). */
#define IOAPIC_RTE_VECTOR     0xffull
#define IOAPIC_RTE_MODE_SHIFT 8
#define IOAPIC_RTE_LOGICAL    (1ull << 11)
#define IOAPIC_RTE_PENDING    (1ull << 12) /* delivery status */
#define IOAPIC_RTE_POLARITY   (1ull << 13) /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL      (1ull << 15)
#define IOAPIC_RTE_MASKED     (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

typedef struct IOAPICState IOAPICState;

/*
 * Where the I/O APIC's messages go: the local APIC's apic_deliver, with the
 * same arguments.  ExtINT messages ask the local APIC to take the 8259's
 * vector.
 */
typedef void (*IOAPICDeliverFn)(void *opaque, int delivery_mode, int vector, bool level_trigger,
                                bool logical, uint8_t dest);

IOAPICState *ioapic_new(PhysMem *phys, uint8_t id, IOAPICDeliverFn deliver, void *opaque);
void ioapic_free(IOAPICState *s);
/* Power-on: every entry masked, edge, fixed, vector 0. */
void ioapic_reset(IOAPICState *s);
/* Saved state: section "ioapic" (migration/vmstate.h). */
extern const struct VMStateDesc ioapic_vmstate;

/* The line for input pin (GSI) 0-23. */
IRQ ioapic_input(IOAPICState *s, int pin);
void ioapic_set_irq(IOAPICState *s, int pin, int level);
/* A local APIC's EOI of a level-triggered vector: remote IRR clears on the
 * entries with that vector, and a line still asserted is delivered again. */
void ioapic_eoi(IOAPICState *s, int vector);

/* The register window as the CPU sees it (for tests: the MMIO callbacks). */
uint32_t ioapic_mmio_read(void *opaque, uint32_t offset, int size);
void ioapic_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size);

/* Redirection table for `info ioapic` / `info pic` (snprintf rules). */
int ioapic_info(IOAPICState *s, char *buf, size_t len);

#endif /* HW_INTC_IOAPIC_H */
