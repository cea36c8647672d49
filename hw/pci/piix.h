/*
 * The i440FX chipset's PCI functions: the 82441FX host bridge (PMC) at
 * 00:00.0 and the 82371SB PIIX3 PCI-to-ISA bridge at 00:01.0, plus the
 * PIIX3 reset control register at port 0xCF9.
 *
 * The host bridge stores the PAM registers (shadow RAM attributes for
 * 0xC0000-0xFFFFF) and SMRAM; the machine hears about PAM changes through a
 * callback and does the remapping.  The ISA bridge routes the four PCI
 * interrupt lines PIRQA-D to ISA IRQs through its PIRQRC registers.  ELCR
 * (ports 0x4D0/0x4D1) belongs to the PIC emulation.
 */
#ifndef HW_PCI_PIIX_H
#define HW_PCI_PIIX_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/pci/pci.h"
#include "softmmu/ioport.h"

#define I440FX_VENDOR_ID 0x8086
#define I440FX_DEVICE_ID 0x1237
#define I440FX_DEVFN     PCI_DEVFN(0, 0)
#define I440FX_PAM0      0x59 /* PAM0-PAM6: 0x59-0x5F */
#define I440FX_PAM_COUNT 7
#define I440FX_SMRAM     0x72

/* PAM attribute field values (82441FX datasheet, PAM registers). */
#define PAM_READ_ENABLE  0x1 /* reads go to DRAM, else to PCI/ROM */
#define PAM_WRITE_ENABLE 0x2 /* writes go to DRAM, else to PCI/ROM */

/* SMRAM register bits. */
#define SMRAM_C_BASE_SEG 0x07 /* read-only 010: SMRAM at 0xA0000 */
#define SMRAM_G_SMRAME   0x08
#define SMRAM_D_LCK      0x10
#define SMRAM_D_CLS      0x20
#define SMRAM_D_OPEN     0x40

#define PIIX3_VENDOR_ID     0x8086
#define PIIX3_DEVICE_ID     0x7000
#define PIIX3_DEVFN         PCI_DEVFN(1, 0)
#define PIIX3_PIRQRC        0x60 /* PIRQRC[A-D]: 0x60-0x63 */
#define PIIX3_PIRQ_DISABLE  0x80
#define PIIX3_RESET_CONTROL 0xcf9

/* Reset control register (port 0xCF9) bits. */
#define PIIX3_RC_SRST 0x02 /* 1 = full system (hard) reset on the next RCPU edge */
#define PIIX3_RC_RCPU 0x04 /* 0 -> 1 starts the reset */

typedef struct I440FXState I440FXState;
typedef struct PIIX3State PIIX3State;

/*
 * pam_changed(opaque, pam_index, value) is called whenever PAM register
 * 0x59 + pam_index changes, by a guest write or by i440fx_reset.  PAM0
 * holds 0xF0000-0xFFFFF in bits 5:4; PAM1-6 hold two 16 KiB segments each,
 * the lower in bits 1:0 and the upper in bits 5:4, starting at 0xC0000.
 */
I440FXState *i440fx_new(PCIBus *bus,
                        void (*pam_changed)(void *opaque, int pam_index, uint8_t value),
                        void *opaque);
void i440fx_free(I440FXState *s);
void i440fx_reset(I440FXState *s);
/* Saved state: section "i440fx" (migration/vmstate.h). */
extern const struct VMStateDesc i440fx_vmstate;
PCIDevice *i440fx_pci_device(I440FXState *s);

/*
 * isa_irqs: the 16 ISA IRQ inputs the PIRQ lines can be steered to (copied;
 * may be NULL if PCI interrupts are not wired).  reset_request is called
 * when the guest starts a reset through port 0xCF9.  A soft reset (SRST = 0)
 * is reported the same way: popek resets the whole machine either way.
 */
PIIX3State *piix3_new(PCIBus *bus, IOPortMap *io, const IRQ *isa_irqs,
                      void (*reset_request)(void *opaque), void *opaque);
void piix3_free(PIIX3State *s);
void piix3_reset(PIIX3State *s);
/* Saved state: section "piix3" (migration/vmstate.h). */
extern const struct VMStateDesc piix3_vmstate;
PCIDevice *piix3_pci_device(PIIX3State *s);

/* ISA IRQ that PIRQ line 0-3 (A-D) is routed to, or -1 if routing is off. */
int piix3_pirq_route(PIIX3State *s, int pirq);
/* Drive PIRQ line 0-3.  Lines sharing an ISA IRQ are wire-ORed (level). */
void piix3_set_pirq(PIIX3State *s, int pirq, int level);
/*
 * The PIRQ line a device's INTx pin reaches on this board: slot N's INTA
 * goes to PIRQ (N - 1 + pin) mod 4, the swizzle SeaBIOS and the ACPI
 * tables assume.  pin is 1-4 (INTA-INTD) as in PCI_INTERRUPT_PIN.
 */
int piix3_pirq_for_pin(int devfn, int pin);

#endif /* HW_PCI_PIIX_H */
