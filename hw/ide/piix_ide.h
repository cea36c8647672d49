/*
 * The PIIX3 IDE function (82371SB, PCI 8086:7010 at 00:01.1): two IDE
 * channels in legacy (compatibility) mode at the ISA addresses
 *   primary   0x1F0-0x1F7, 0x3F6, IRQ 14
 *   secondary 0x170-0x177, 0x376, IRQ 15
 * and the bus-master IDE registers (BMIBA, BAR4: 16 I/O ports) that run
 * DMA from a Physical Region Descriptor table in guest memory.
 *
 * A channel's legacy ports decode while bit 15 (IDE Decode Enable) of its
 * IDETIM register (0x40 primary, 0x42 secondary) is set.  Real silicon
 * resets it to 0 and leaves it to the BIOS; popek resets it to 1 so that
 * a kernel booted directly (no BIOS) finds its disks, since Linux's
 * ata_piix skips a channel whose enable bit is clear.
 */
#ifndef HW_IDE_PIIX_IDE_H
#define HW_IDE_PIIX_IDE_H

#include "hw/ide/ide.h"
#include "hw/core/irq.h"
#include "hw/pci/pci.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

#define PIIX3_IDE_DEVICE_ID 0x7010
#define PIIX3_IDE_DEVFN     PCI_DEVFN(1, 1)
#define PIIX_IDETIM_PRI     0x40
#define PIIX_IDETIM_SEC     0x42
#define PIIX_IDETIM_DECODE  0x8000

/* Bus-master register offsets within a channel's 8 bytes, and bits. */
#define BM_CMD            0
#define BM_STATUS         2
#define BM_PRDT           4
#define BM_CMD_START      0x01
#define BM_CMD_TO_MEMORY  0x08 /* RWCON: bus master writes memory (a read) */
#define BM_STATUS_ACTIVE  0x01
#define BM_STATUS_ERROR   0x02
#define BM_STATUS_INTR    0x04
#define BM_STATUS_DMA_CAP 0x60 /* drive 0/1 DMA capable, software-set */

typedef struct PIIXIDEState PIIXIDEState;

/* irqs: the ISA IRQ 14 and 15 lines.  DMA goes through phys. */
PIIXIDEState *piix_ide_new(PCIBus *bus, IOPortMap *io, PhysMem *phys, IRQ irq14, IRQ irq15);
void piix_ide_free(PIIXIDEState *s);
/* System reset: PCI registers, bus-master engines and both channels. */
void piix_ide_reset(PIIXIDEState *s);
/* Saved state: section "ide" (migration/vmstate.h). */
extern const struct VMStateDesc piix_ide_vmstate;
/* Channel 0 (primary) or 1 (secondary), to attach drives to. */
IDEBus *piix_ide_bus(PIIXIDEState *s, int channel);

#endif /* HW_IDE_PIIX_IDE_H */
