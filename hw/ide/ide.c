/*
 * The IDE channel (see ide.h): registers, the two device positions,
 * interrupts, resets, PIO data blocks and the hand-off to bus-master DMA.
 * ATA disk commands are in ide_ata.c, ATAPI in ide_atapi.c.  Citations
 * are to ATA/ATAPI-6 (T13/1410D): 6.x protocol rules, 8.x commands.
 *
 * The two devices each keep a full task file; a write to a command block
 * register lands in both (ATA-6 5.2: both devices latch it), reads come
 * from the selected one.  When the selected position is empty the other
 * device answers with zeros, and a channel with no device at all reads
 * zeros too (rather than a floating 0xFF), so polling firmware sees "not
 * busy" and moves on at once, as QEMU's channel does.
 *
 * Status rules drivers depend on: BSY is never left set (commands complete
 * synchronously, except while SRST is held); DRQ means a PIO data block is
 * ready; reading the status register clears INTRQ, reading alternate
 * status does not; nIEN masks INTRQ at the pin.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/ide/ide_internal.h"

/* ---- helpers shared with ide_ata.c and ide_atapi.c ---- */

void ide_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* ATA strings hold two characters per word, first in the high byte. */
void ide_padstr(uint8_t *dst, const char *src, int len)
{
    for (int i = 0; i < len; i++) {
        dst[i ^ 1] = *src ? (uint8_t)*src++ : ' ';
    }
}

static void ide_update_irq(IDEBus *bus)
{
    int level = bus->dev[bus->cur].intrq && !(bus->ctrl & IDE_CTRL_NIEN);
    if (level != bus->irq_level) {
        bus->irq_level = level;
        irq_set_level(&bus->irq, level);
    }
}

void ide_raise_irq(IDEDevice *d)
{
    d->intrq = true;
    ide_update_irq(d->bus);
}

void ide_start_pio(IDEDevice *d, uint32_t len, IDEEndFunc end_fn)
{
    d->pos = 0;
    d->end = len;
    d->end_fn = end_fn;
    d->status |= IDE_STATUS_DRQ;
}

void ide_stop_transfer(IDEDevice *d)
{
    d->pos = d->end = 0;
    d->end_fn = NULL;
    d->dma_pending = false;
    d->status &= ~IDE_STATUS_DRQ;
}

/* Device signature in the task file after a reset or diagnostics (ATA-6
 * 9.12): ATA 01h/01h/00h/00h, ATAPI 01h/01h/14h/EBh. */
void ide_set_signature(IDEDevice *d)
{
    d->select &= 0xf0; /* keep DEV, LBA and the obsolete bits */
    d->nsector = d->hob_nsector = 1;
    d->sector = d->hob_sector = 1;
    if (d->kind == IDE_CD) {
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
    } else {
        d->lcyl = 0;
        d->hcyl = 0;
    }
    d->hob_lcyl = d->lcyl;
    d->hob_hcyl = d->hcyl;
}

/* ---- command completion ---- */

void ide_cmd_ok(IDEDevice *d)
{
    ide_stop_transfer(d);
    d->status = IDE_STATUS_READY;
    d->error = 0;
    ide_raise_irq(d);
}

void ide_cmd_error(IDEDevice *d, uint8_t error)
{
    ide_stop_transfer(d);
    d->status = IDE_STATUS_DRDY | IDE_STATUS_ERR;
    d->error = error;
    ide_raise_irq(d);
}

void ide_abort(IDEDevice *d)
{
    ide_cmd_error(d, IDE_ERROR_ABRT);
}

void ide_start_dma(IDEDevice *d, bool to_device, IDEDMAFunc fn)
{
    d->dma_pending = true;
    d->dma_to_device = to_device;
    d->dma_fn = fn;
    d->status = IDE_STATUS_READY | IDE_STATUS_DRQ;
    ide_bus_dma_kick(d->bus);
}

void ide_bus_dma_kick(IDEBus *bus)
{
    IDEDevice *d = &bus->dev[bus->cur];
    if (d->dma_pending && bus->dma_ops && bus->dma_ops->active(bus->dma_opaque)) {
        d->dma_fn(d);
    }
}

/* ---- commands every device type takes ---- */

/* EXECUTE DEVICE DIAGNOSTIC (8.11): both devices run it; device 0
 * reports, and interrupts. */
static void ide_cmd_diagnostic(IDEBus *bus)
{
    for (int i = 0; i < 2; i++) {
        IDEDevice *d = &bus->dev[i];
        if (d->kind == IDE_NONE) {
            continue;
        }
        ide_stop_transfer(d);
        ide_set_signature(d);
        d->error = 0x01; /* device 0 passed, device 1 passed or absent */
        d->status = d->kind == IDE_CD ? 0 : IDE_STATUS_READY;
    }
    bus->dev[0].select &= ~0x10;
    bus->dev[1].select &= ~0x10;
    bus->cur = 0;
    ide_raise_irq(&bus->dev[0]);
}

/* Commands an ATAPI device takes in the ATA register set (ATA-6 8.x
 * "Packet command feature set"): the rest abort, IDENTIFY DEVICE with the
 * ATAPI signature in the task file so drivers can tell what answered. */
static void atapi_exec(IDEDevice *d, uint8_t cmd)
{
    switch (cmd) {
    case ATA_PACKET: atapi_cmd_packet(d); break;
    case ATA_IDENTIFY_PACKET: atapi_cmd_identify(d); break;
    case ATA_DEVICE_RESET: atapi_reset(d); break;
    case ATA_IDENTIFY:
        ide_set_signature(d);
        ide_abort(d);
        break;
    default: ide_abort(d); break;
    }
}

static void ide_exec(IDEBus *bus, uint8_t cmd)
{
    IDEDevice *d = &bus->dev[bus->cur];
    if (d->kind == IDE_NONE || (d->status & IDE_STATUS_BSY)) {
        return; /* nobody there, or it cannot take a command now */
    }
    d->intrq = false; /* writing the command register clears INTRQ */
    ide_update_irq(bus);
    ide_stop_transfer(d);
    switch (cmd) {
    case ATA_DIAGNOSTIC: ide_cmd_diagnostic(bus); return;
    case ATA_SET_FEATURES: ide_cmd_set_features(d); return;
    case ATA_NOP: ide_abort(d); return; /* NOP always aborts (8.21) */
    case ATA_CHECK_POWER:
        d->nsector = 0xff; /* active or idle */
        ide_cmd_ok(d);
        return;
    case ATA_STANDBY_IMMEDIATE:
    case ATA_IDLE_IMMEDIATE:
    case ATA_STANDBY:
    case ATA_IDLE:
    case ATA_SLEEP: ide_cmd_ok(d); return;
    default: break;
    }
    if (d->kind == IDE_CD) {
        atapi_exec(d, cmd);
    } else {
        ata_exec(d, cmd);
    }
}

/* ---- registers ---- */

static uint32_t ide_data_read(IDEDevice *d, int size)
{
    if (!(d->status & IDE_STATUS_DRQ) || d->pos + (uint32_t)size > d->end) {
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        v |= (uint32_t)d->buf[d->pos + (uint32_t)i] << (8 * i);
    }
    d->pos += (uint32_t)size;
    if (d->pos >= d->end) {
        IDEEndFunc fn = d->end_fn;
        d->status &= ~IDE_STATUS_DRQ;
        d->end_fn = NULL;
        if (fn) {
            fn(d);
        }
    }
    return v;
}

static void ide_data_write(IDEDevice *d, uint32_t v, int size)
{
    if (!(d->status & IDE_STATUS_DRQ) || d->pos + (uint32_t)size > d->end) {
        return;
    }
    for (int i = 0; i < size; i++) {
        d->buf[d->pos + (uint32_t)i] = (uint8_t)(v >> (8 * i));
    }
    d->pos += (uint32_t)size;
    if (d->pos >= d->end) {
        IDEEndFunc fn = d->end_fn;
        d->status &= ~IDE_STATUS_DRQ;
        d->end_fn = NULL;
        if (fn) {
            fn(d);
        }
    }
}

uint32_t ide_cmd_read(IDEBus *bus, int reg, int size)
{
    IDEDevice *d = &bus->dev[bus->cur];
    bool hob = bus->ctrl & IDE_CTRL_HOB;
    if (d->kind == IDE_NONE) {
        return 0; /* absent position (or empty channel): reads as zero */
    }
    if (reg == 0) {
        return ide_data_read(d, size);
    }
    switch (reg) {
    case 1: return d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 6: return d->select;
    default:
        d->intrq = false; /* reading status acknowledges the interrupt */
        ide_update_irq(bus);
        return d->status;
    }
}

/* A command block register write: both devices latch it, the old value
 * moving to the HOB copy (ATA-6 6.20). */
static void ide_latch(IDEBus *bus, int reg, uint8_t v)
{
    for (int i = 0; i < 2; i++) {
        IDEDevice *d = &bus->dev[i];
        switch (reg) {
        case 1:
            d->hob_feature = d->feature;
            d->feature = v;
            break;
        case 2:
            d->hob_nsector = d->nsector;
            d->nsector = v;
            break;
        case 3:
            d->hob_sector = d->sector;
            d->sector = v;
            break;
        case 4:
            d->hob_lcyl = d->lcyl;
            d->lcyl = v;
            break;
        case 5:
            d->hob_hcyl = d->hcyl;
            d->hcyl = v;
            break;
        default: d->select = v | 0xa0; break; /* bits 7 and 5 read as one */
        }
    }
}

void ide_cmd_write(IDEBus *bus, int reg, uint32_t value, int size)
{
    IDEDevice *d = &bus->dev[bus->cur];
    if (reg == 0) {
        ide_data_write(d, value, size);
        return;
    }
    bus->ctrl &= ~IDE_CTRL_HOB; /* any command block write clears HOB */
    if (reg == 7) {
        ide_exec(bus, (uint8_t)value);
        return;
    }
    if (d->status & (IDE_STATUS_BSY | IDE_STATUS_DRQ)) {
        return; /* registers are not writable while busy or in a data phase */
    }
    ide_latch(bus, reg, (uint8_t)value);
    if (reg == 6) {
        bus->cur = (value >> 4) & 1;
        ide_update_irq(bus);
    }
}

uint8_t ide_altstatus_read(IDEBus *bus)
{
    IDEDevice *d = &bus->dev[bus->cur];
    return d->kind == IDE_NONE ? 0 : d->status;
}

/* Software reset (ATA-6 9.2): BSY while SRST is held, then each device
 * ends up with its signature and device 0 selected. */
static void ide_soft_reset(IDEBus *bus, bool assert_srst)
{
    for (int i = 0; i < 2; i++) {
        IDEDevice *d = &bus->dev[i];
        if (d->kind == IDE_NONE) {
            continue;
        }
        ide_stop_transfer(d);
        d->intrq = false;
        if (assert_srst) {
            d->status = IDE_STATUS_BSY | IDE_STATUS_DSC;
            continue;
        }
        d->select = 0xa0;
        ide_set_signature(d);
        d->error = 0x01;
        d->status = d->kind == IDE_CD ? 0 : IDE_STATUS_READY;
    }
    if (!assert_srst) {
        bus->cur = 0;
    }
    ide_update_irq(bus);
}

void ide_ctrl_write(IDEBus *bus, uint8_t value)
{
    uint8_t old = bus->ctrl;
    bus->ctrl = value;
    if ((value & IDE_CTRL_SRST) && !(old & IDE_CTRL_SRST)) {
        ide_soft_reset(bus, true);
    } else if (!(value & IDE_CTRL_SRST) && (old & IDE_CTRL_SRST)) {
        ide_soft_reset(bus, false);
    }
    ide_update_irq(bus);
}

/* ---- setup ---- */

IDEBus *ide_bus_new(IRQ irq)
{
    IDEBus *bus = calloc(1, sizeof(*bus));
    if (!bus) {
        return NULL;
    }
    bus->irq = irq;
    for (int i = 0; i < 2; i++) {
        bus->dev[i].bus = bus;
        bus->dev[i].unit = i;
        bus->dev[i].buf = calloc(1, IDE_BUF_SIZE);
        if (!bus->dev[i].buf) {
            ide_bus_free(bus);
            return NULL;
        }
    }
    return bus;
}

void ide_bus_free(IDEBus *bus)
{
    if (!bus) {
        return;
    }
    free(bus->dev[0].buf);
    free(bus->dev[1].buf);
    free(bus);
}

void ide_device_power_on(IDEDevice *d)
{
    ide_stop_transfer(d);
    d->intrq = false;
    d->select = 0xa0;
    d->feature = d->hob_feature = 0;
    ide_set_signature(d);
    d->error = 0x01;
    d->cur_heads = d->heads;
    d->cur_sectors = d->sectors;
    d->mult_sectors = IDE_MAX_MULT;
    d->write_cache = true;
    d->xfer_mode = 0x0c; /* PIO mode 4 */
    if (d->kind == IDE_CD) {
        atapi_reset(d);
    } else {
        d->status = IDE_STATUS_READY;
    }
}

void ide_bus_reset(IDEBus *bus)
{
    bus->cur = 0;
    bus->ctrl = 0;
    for (int i = 0; i < 2; i++) {
        if (bus->dev[i].kind != IDE_NONE) {
            ide_device_power_on(&bus->dev[i]);
        }
    }
    ide_update_irq(bus);
}

void ide_bus_set_dma(IDEBus *bus, const IDEDMAOps *ops, void *opaque)
{
    bus->dma_ops = ops;
    bus->dma_opaque = opaque;
}
