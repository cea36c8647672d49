/*
 * The IDE chip's saved state: both devices of a bus with a command in
 * flight.  A PIO transfer keeps its data block (the bytes of buf still
 * to move, and those moved, since an end function may read them) and
 * the function it ends with, saved as its number in a fixed list; a DMA
 * command waiting for the bus master keeps which data phase it runs.
 * The drive's kind and geometry come from the command line (the same
 * images), so they are compared, never loaded.
 */
#include <string.h>

#include "hw/ide/ide_internal.h"
#include "migration/vmstate.h"

/* Function numbers in the file: 0 none, then ATA's, then ATAPI's. */
static uint8_t end_fn_number(IDEEndFunc fn)
{
    for (int i = 0; i < IDE_ATA_END_FNS; i++) {
        if (ide_ata_end_fns[i] == fn) {
            return (uint8_t)(1 + i);
        }
    }
    for (int i = 0; i < IDE_ATAPI_END_FNS; i++) {
        if (ide_atapi_end_fns[i] == fn) {
            return (uint8_t)(1 + IDE_ATA_END_FNS + i);
        }
    }
    return 0;
}

static const VMField ide_device_fields[] = {
    VMS_U8(IDEDevice, feature),
    VMS_U8(IDEDevice, hob_feature),
    VMS_U8(IDEDevice, nsector),
    VMS_U8(IDEDevice, hob_nsector),
    VMS_U8(IDEDevice, sector),
    VMS_U8(IDEDevice, hob_sector),
    VMS_U8(IDEDevice, lcyl),
    VMS_U8(IDEDevice, hob_lcyl),
    VMS_U8(IDEDevice, hcyl),
    VMS_U8(IDEDevice, hob_hcyl),
    VMS_U8(IDEDevice, select),
    VMS_U8(IDEDevice, status),
    VMS_U8(IDEDevice, error),
    VMS_BOOL(IDEDevice, intrq),
    VMS_U32_RANGE(IDEDevice, cur_heads, 0, 16),
    VMS_U32_RANGE(IDEDevice, cur_sectors, 0, 255),
    VMS_INT_RANGE(IDEDevice, mult_sectors, 0, IDE_MAX_MULT),
    VMS_BOOL(IDEDevice, write_cache),
    VMS_U8(IDEDevice, xfer_mode),
    VMS_U32_RANGE(IDEDevice, pos, 0, IDE_BUF_SIZE),
    VMS_U32_RANGE(IDEDevice, end, 0, IDE_BUF_SIZE),
    VMS_U64(IDEDevice, xfer_lba),
    VMS_U32(IDEDevice, xfer_left),
    VMS_BOOL(IDEDevice, xfer_lba48),
    VMS_U32_RANGE(IDEDevice, xfer_block, 0, IDE_BUF_SIZE / IDE_SECTOR),
    VMS_BOOL(IDEDevice, dma_pending),
    VMS_BOOL(IDEDevice, dma_to_device),
    VMS_BYTES(IDEDevice, packet, ATAPI_PACKET_LEN),
    VMS_U8(IDEDevice, sense_key),
    VMS_U8(IDEDevice, asc),
    VMS_U8(IDEDevice, ascq),
    VMS_U8(IDEDevice, ua_asc),
    VMS_INT(IDEDevice, media_event),
    VMS_BOOL(IDEDevice, tray_open),
    VMS_BOOL(IDEDevice, locked),
    VMS_BOOL(IDEDevice, packet_dma),
    VMS_U32_RANGE(IDEDevice, reply_off, 0, IDE_BUF_SIZE),
    VMS_U32_RANGE(IDEDevice, reply_len, 0, IDE_BUF_SIZE),
    VMS_BOOL(IDEDevice, reading),
    VMS_END,
};

/* The bytes of buf in use: the PIO block and a buffered ATAPI reply. */
static uint32_t buf_used(const IDEDevice *d)
{
    uint32_t reply = d->reply_off + d->reply_len;
    return d->end > reply ? d->end : reply;
}

static void ide_device_save(VMWriter *w, void *opaque)
{
    IDEDevice *d = opaque;
    vm_put_u8(w, (uint8_t)d->kind);
    vm_put_u8(w, d->has_media);
    vm_put_u8(w, end_fn_number(d->end_fn));
    vm_put_u8(w, d->dma_fn == ide_ata_dma_fn ? 1 : d->dma_fn == ide_atapi_dma_fn ? 2 : 0);
    vm_put_blob(w, d->buf, buf_used(d));
}

static bool ide_device_load(VMReader *r, void *opaque, uint32_t version)
{
    IDEDevice *d = opaque;
    uint8_t kind = vm_get_u8(r);
    uint8_t has_media = vm_get_u8(r);
    uint8_t end_fn = vm_get_u8(r);
    uint8_t dma_fn = vm_get_u8(r);
    if (r->failed) {
        return false;
    }
    if (kind != (uint8_t)d->kind) {
        return vm_fail(r, "unit %d: a different drive (kind %u, here %d)", d->unit, kind,
                       (int)d->kind);
    }
    if (has_media > 1 || end_fn > IDE_ATA_END_FNS + IDE_ATAPI_END_FNS || dma_fn > 2) {
        return vm_fail(r, "unit %d: bad transfer state", d->unit);
    }
    if (has_media && !d->has_media) {
        return vm_fail(r, "unit %d: the saved VM has a disc in this drive, here it is empty",
                       d->unit);
    }
    /* A disc this process has but the saved VM had taken out stays out. */
    d->has_media = has_media;
    d->end_fn = end_fn == 0                 ? NULL
                : end_fn <= IDE_ATA_END_FNS ? ide_ata_end_fns[end_fn - 1]
                                            : ide_atapi_end_fns[end_fn - 1 - IDE_ATA_END_FNS];
    d->dma_fn = dma_fn == 1 ? ide_ata_dma_fn : dma_fn == 2 ? ide_atapi_dma_fn : NULL;
    uint32_t n = vm_get_blob(r, d->buf, IDE_BUF_SIZE);
    if (r->failed) {
        return false;
    }
    if (d->pos > d->end || d->reply_off + d->reply_len > IDE_BUF_SIZE || n != buf_used(d)) {
        return vm_fail(r, "unit %d: transfer position outside its block", d->unit);
    }
    if (d->dma_pending && !d->dma_fn) {
        return vm_fail(r, "unit %d: a DMA command with no data phase", d->unit);
    }
    return true;
}

static const VMStateDesc ide_device_desc = {
    .name = "device",
    .fields = ide_device_fields,
    .save = ide_device_save,
    .load = ide_device_load,
};

static const VMField ide_bus_fields[] = {
    VMS_STRUCT_ARRAY(IDEBus, dev, 2, IDEDevice, ide_device_desc),
    VMS_INT_RANGE(IDEBus, cur, 0, 1),
    VMS_U8(IDEBus, ctrl),
    VMS_INT_RANGE(IDEBus, irq_level, 0, 1),
    VMS_END,
};

const VMStateDesc ide_bus_vmstate = {
    .name = "ide-bus",
    .fields = ide_bus_fields,
};
