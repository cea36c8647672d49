/*
 * An IDE channel (ATA/ATAPI-6): two device positions (0 = master,
 * 1 = slave) behind one set of task-file registers, with ATA hard disks
 * and ATAPI CD-ROMs.  This is chip logic only: the legacy I/O ports and
 * the bus-master DMA engine belong to the controller (hw/ide/piix_ide.c),
 * which calls the register functions below, so the chip can be driven
 * with no CPU in tests.
 *
 * Command block registers (reg 0-7 at base 0x1F0/0x170):
 *   0 data (16/32-bit), 1 error / features, 2 sector count (ATAPI:
 *   interrupt reason), 3 LBA low, 4 LBA mid (ATAPI: byte count low),
 *   5 LBA high (byte count high), 6 device/head, 7 status / command.
 * Control block register (0x3F6/0x376): alternate status / device
 * control (nIEN, SRST, HOB).
 *
 * Commands complete at once (there is no seek time): the status a driver
 * reads right after writing the command is already the final one, and
 * INTRQ has been raised where the protocol raises it.
 */
#ifndef HW_IDE_IDE_H
#define HW_IDE_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "hw/core/irq.h"

/* Status register bits (ATA-6 7.15.6). */
#define IDE_STATUS_ERR  0x01
#define IDE_STATUS_DRQ  0x08
#define IDE_STATUS_DSC  0x10 /* seek complete; ATAPI: SERV */
#define IDE_STATUS_DF   0x20
#define IDE_STATUS_DRDY 0x40
#define IDE_STATUS_BSY  0x80

/* Error register bits. */
#define IDE_ERROR_AMNF 0x01
#define IDE_ERROR_ABRT 0x04
#define IDE_ERROR_IDNF 0x10
#define IDE_ERROR_UNC  0x40

/* Device control register bits. */
#define IDE_CTRL_NIEN 0x02
#define IDE_CTRL_SRST 0x04
#define IDE_CTRL_HOB  0x80

/* ATAPI interrupt reason (sector count register). */
#define ATAPI_REASON_COD 0x01
#define ATAPI_REASON_IO  0x02

typedef struct IDEBus IDEBus;

/*
 * The bus-master side of DMA, supplied by the controller.  rw moves up to
 * len bytes between buf and guest memory along the controller's PRD table,
 * continuing where the previous call of the same transfer stopped, and
 * returns how many it moved (fewer when the table ran out).  to_memory is
 * a device-to-memory transfer (a read command).  active tells whether the
 * engine has been started.  done ends the transfer (error: the table was
 * too short or the device failed).
 */
typedef struct IDEDMAOps {
    uint32_t (*rw)(void *opaque, uint8_t *buf, uint32_t len, bool to_memory);
    bool (*active)(void *opaque);
    void (*done)(void *opaque, bool error);
} IDEDMAOps;

/* A channel with no devices; irq is its INTRQ line (level, active high). */
IDEBus *ide_bus_new(IRQ irq);
/* Saved state of a bus and its two devices, for the controller's section
 * (hw/ide/ide_vmstate.c, migration/vmstate.h). */
extern const struct VMStateDesc ide_bus_vmstate;
void ide_bus_free(IDEBus *bus);
/* Hardware reset (power on, system reset): both devices to their
 * power-on state with their signatures, settings back to defaults. */
void ide_bus_reset(IDEBus *bus);

/* Attach an ATA disk (blk copied) at unit 0 or 1.  Returns false if the
 * position is taken or blk has no sectors. */
bool ide_attach_disk(IDEBus *bus, int unit, const BlockDev *blk);
/* Attach an ATAPI CD-ROM drive; blk NULL = no disc in it. */
bool ide_attach_cdrom(IDEBus *bus, int unit, const BlockDev *blk);
/* Put a new disc in (blk) or take it out (NULL): the drive reports a
 * medium change (UNIT ATTENTION, and a GESN media event). */
void ide_cdrom_change(IDEBus *bus, int unit, const BlockDev *blk);
/* A CD-ROM drive's state for the monitor (false if unit is no CD-ROM):
 * a disc in it, the guest's PREVENT MEDIUM REMOVAL lock, the tray. */
bool ide_cdrom_state(IDEBus *bus, int unit, bool *has_media, bool *locked, bool *tray_open);
/* The default CHS geometry of a disk at unit (false if none). */
bool ide_disk_geometry(IDEBus *bus, int unit, uint32_t *cylinders, uint32_t *heads,
                       uint32_t *sectors);

/* Register access: reg 0-7 of the command block, size 1, 2 or 4 (only
 * the data register takes 2 and 4). */
uint32_t ide_cmd_read(IDEBus *bus, int reg, int size);
void ide_cmd_write(IDEBus *bus, int reg, uint32_t value, int size);
/* Alternate status (does not acknowledge an interrupt). */
uint8_t ide_altstatus_read(IDEBus *bus);
void ide_ctrl_write(IDEBus *bus, uint8_t value);

void ide_bus_set_dma(IDEBus *bus, const IDEDMAOps *ops, void *opaque);
/* The controller's engine was started: run a DMA command that waits for it. */
void ide_bus_dma_kick(IDEBus *bus);

#endif /* HW_IDE_IDE_H */
