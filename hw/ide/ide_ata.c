/*
 * ATA hard disk commands (ATA/ATAPI-6, T13/1410D: 6.x protocol rules,
 * 8.x commands, 9.x protocols): IDENTIFY DEVICE, sector reads and writes
 * in PIO (single and multiple) and DMA, LBA28, LBA48 and CHS addressing,
 * VERIFY, FLUSH CACHE, SET FEATURES and the geometry commands.  The
 * channel, its registers and the PIO/DMA plumbing are in ide.c.
 */
#include <string.h>

#include "hw/ide/ide_internal.h"

#define LBA28_MAX 0x0fffffffu

/* ---- ATA addressing ---- */

static uint32_t ata_count(const IDEDevice *d, bool lba48)
{
    if (lba48) {
        uint32_t n = ((uint32_t)d->hob_nsector << 8) | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* The command's starting sector: LBA28, LBA48 or CHS (ATA-6 6.2). */
static bool ata_get_lba(const IDEDevice *d, bool lba48, uint64_t *lba)
{
    if (lba48) {
        *lba = ((uint64_t)d->hob_hcyl << 40) | ((uint64_t)d->hob_lcyl << 32) |
               ((uint64_t)d->hob_sector << 24) | ((uint64_t)d->hcyl << 16) |
               ((uint64_t)d->lcyl << 8) | d->sector;
        return true;
    }
    if (d->select & 0x40) {
        *lba = ((uint64_t)(d->select & 0x0f) << 24) | ((uint64_t)d->hcyl << 16) |
               ((uint64_t)d->lcyl << 8) | d->sector;
        return true;
    }
    uint32_t cyl = ((uint32_t)d->hcyl << 8) | d->lcyl;
    uint32_t head = d->select & 0x0f;
    if (d->sector == 0 || d->sector > d->cur_sectors || head >= d->cur_heads) {
        return false;
    }
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_sectors + d->sector - 1;
    return true;
}

/* Leave lba in the task file, in the addressing the command used: after a
 * command the registers name the last sector transferred (ATA-6 8.x
 * "Normal outputs"), or the failing one after an error. */
static void ata_set_lba(IDEDevice *d, bool lba48, uint64_t lba)
{
    if (lba48) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & 0x40) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else {
        uint32_t per_cyl = d->cur_heads * d->cur_sectors;
        uint32_t cyl = (uint32_t)(lba / per_cyl);
        uint32_t rest = (uint32_t)(lba % per_cyl);
        d->hcyl = (uint8_t)(cyl >> 8);
        d->lcyl = (uint8_t)cyl;
        d->select = (uint8_t)((d->select & 0xf0) | (rest / d->cur_sectors));
        d->sector = (uint8_t)(rest % d->cur_sectors + 1);
    }
}

/* Set up xfer_* for a sector command; false (and the error reported) if
 * the range is not on the disk: IDNF (ATA-6 8.x "Error outputs"). */
static bool ata_begin_xfer(IDEDevice *d, bool lba48)
{
    uint64_t lba;
    uint32_t count = ata_count(d, lba48);
    if (!ata_get_lba(d, lba48, &lba) || lba + count > d->blk.sectors) {
        ide_cmd_error(d, IDE_ERROR_IDNF);
        return false;
    }
    d->xfer_lba = lba;
    d->xfer_left = count;
    d->xfer_lba48 = lba48;
    return true;
}

/* ---- IDENTIFY DEVICE (8.15) ---- */

static void ata_identify_data(IDEDevice *d, uint8_t *id)
{
    uint64_t total = d->blk.sectors;
    uint32_t lba28 = total > LBA28_MAX ? LBA28_MAX : (uint32_t)total;
    uint32_t cur_cyl = (uint32_t)(total / (d->cur_heads * d->cur_sectors));
    if (cur_cyl > 65535) {
        cur_cyl = 65535;
    }
    uint32_t cur_cap = cur_cyl * d->cur_heads * d->cur_sectors;

    memset(id, 0, 512);
    ide_put_le16(id + 0, 0x0040); /* fixed device */
    ide_put_le16(id + 2, (uint16_t)d->cylinders);
    ide_put_le16(id + 6, (uint16_t)d->heads);
    ide_put_le16(id + 12, (uint16_t)d->sectors);
    ide_padstr(id + 20, d->unit ? "PK00002" : "PK00001", 20); /* serial */
    ide_padstr(id + 46, "1.0", 8);                            /* firmware revision */
    ide_padstr(id + 54, "POPEK HARDDISK", 40);                /* model */
    ide_put_le16(id + 94, 0x8000 | IDE_MAX_MULT);
    ide_put_le16(id + 98, (1 << 9) | (1 << 8)); /* LBA, DMA */
    ide_put_le16(id + 100, 0x4000);
    ide_put_le16(id + 102, 0x0200); /* PIO timing mode 2 */
    ide_put_le16(id + 106, 0x0007); /* words 54-58, 64-70 and 88 valid */
    ide_put_le16(id + 108, (uint16_t)cur_cyl);
    ide_put_le16(id + 110, (uint16_t)d->cur_heads);
    ide_put_le16(id + 112, (uint16_t)d->cur_sectors);
    ide_put_le16(id + 114, (uint16_t)cur_cap);
    ide_put_le16(id + 116, (uint16_t)(cur_cap >> 16));
    ide_put_le16(id + 118, (uint16_t)(d->mult_sectors ? 0x100 | d->mult_sectors : 0));
    ide_put_le16(id + 120, (uint16_t)lba28);
    ide_put_le16(id + 122, (uint16_t)(lba28 >> 16));
    /* Multiword DMA 0-2 supported; the selected mode in the high byte. */
    uint8_t mode = d->xfer_mode;
    ide_put_le16(id + 126, (uint16_t)(0x07 | ((mode >> 3) == 4 ? 0x100 << (mode & 7) : 0)));
    ide_put_le16(id + 128, 0x0003); /* PIO modes 3 and 4 */
    ide_put_le16(id + 130, 120);
    ide_put_le16(id + 132, 120);
    ide_put_le16(id + 134, 120);
    ide_put_le16(id + 136, 120);
    ide_put_le16(id + 160, 0x007e); /* ATA-1 to ATA-6 */
    /* 82-87: NOP, look-ahead, write cache; 48-bit, FLUSH CACHE (EXT). */
    ide_put_le16(id + 164, (1 << 14) | (1 << 6) | (1 << 5));
    ide_put_le16(id + 166, (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10));
    ide_put_le16(id + 168, 0x4000);
    ide_put_le16(id + 170, (uint16_t)((1 << 14) | (1 << 6) | (d->write_cache ? 1 << 5 : 0)));
    ide_put_le16(id + 172, (1 << 13) | (1 << 12) | (1 << 10));
    ide_put_le16(id + 174, 0x4000);
    /* Ultra DMA 0-5 supported; the selected mode in the high byte. */
    ide_put_le16(id + 176, (uint16_t)(0x3f | ((mode >> 3) == 8 ? 0x100 << (mode & 7) : 0)));
    ide_put_le16(id + 186, 0x4000 | 0x2000 | 0x0001); /* reset result, 80-wire cable */
    for (int i = 0; i < 4; i++) {
        ide_put_le16(id + 200 + 2 * i, (uint16_t)(total >> (16 * i)));
    }
}

static void ata_cmd_identify(IDEDevice *d)
{
    ata_identify_data(d, d->buf);
    d->status = IDE_STATUS_READY;
    ide_start_pio(d, 512, NULL);
    ide_raise_irq(d);
}

/* ---- PIO data commands (9.7 PIO data-in, 9.8 PIO data-out) ---- */

static void ata_pio_read_block(IDEDevice *d)
{
    if (d->xfer_left == 0) {
        ide_stop_transfer(d); /* no interrupt after the last block is read */
        d->status = IDE_STATUS_READY;
        return;
    }
    uint32_t n = d->xfer_left < d->xfer_block ? d->xfer_left : d->xfer_block;
    ata_set_lba(d, d->xfer_lba48, d->xfer_lba);
    if (d->blk.read(d->blk.opaque, d->xfer_lba, d->buf, n) < 0) {
        ide_cmd_error(d, IDE_ERROR_UNC);
        return;
    }
    ata_set_lba(d, d->xfer_lba48, d->xfer_lba + n - 1);
    d->xfer_lba += n;
    d->xfer_left -= n;
    d->status = IDE_STATUS_READY;
    ide_start_pio(d, n * IDE_SECTOR, ata_pio_read_block);
    ide_raise_irq(d);
}

static void ata_pio_write_block(IDEDevice *d)
{
    uint32_t n = d->end / IDE_SECTOR;
    ata_set_lba(d, d->xfer_lba48, d->xfer_lba);
    if (d->blk.write(d->blk.opaque, d->xfer_lba, d->buf, n) < 0 ||
        (!d->write_cache && d->blk.flush(d->blk.opaque) < 0)) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
        return;
    }
    ata_set_lba(d, d->xfer_lba48, d->xfer_lba + n - 1);
    d->xfer_lba += n;
    d->xfer_left -= n;
    if (d->xfer_left == 0) {
        ide_cmd_ok(d);
        return;
    }
    n = d->xfer_left < d->xfer_block ? d->xfer_left : d->xfer_block;
    d->status = IDE_STATUS_READY;
    ide_start_pio(d, n * IDE_SECTOR, ata_pio_write_block);
    ide_raise_irq(d);
}

static void ata_cmd_rw_pio(IDEDevice *d, bool lba48, bool multiple, bool write)
{
    if (multiple && d->mult_sectors == 0) {
        ide_abort(d); /* READ/WRITE MULTIPLE with multiple mode off */
        return;
    }
    if (write && d->blk.read_only) {
        ide_abort(d);
        return;
    }
    if (!ata_begin_xfer(d, lba48)) {
        return;
    }
    d->xfer_block = multiple ? (uint32_t)d->mult_sectors : 1;
    if (!write) {
        ata_pio_read_block(d);
        return;
    }
    /* Data-out: the first block is requested without an interrupt. */
    uint32_t n = d->xfer_left < d->xfer_block ? d->xfer_left : d->xfer_block;
    d->status = IDE_STATUS_READY;
    ide_start_pio(d, n * IDE_SECTOR, ata_pio_write_block);
}

/* ---- DMA commands (9.10) ---- */

static void ata_dma_transfer(IDEDevice *d)
{
    IDEBus *bus = d->bus;
    uint32_t chunk_max = IDE_BUF_SIZE / IDE_SECTOR;
    bool error = false;
    while (d->xfer_left > 0 && !error) {
        uint32_t n = d->xfer_left < chunk_max ? d->xfer_left : chunk_max;
        uint32_t bytes = n * IDE_SECTOR;
        ata_set_lba(d, d->xfer_lba48, d->xfer_lba);
        if (d->dma_to_device) {
            error = bus->dma_ops->rw(bus->dma_opaque, d->buf, bytes, false) != bytes ||
                    d->blk.write(d->blk.opaque, d->xfer_lba, d->buf, n) < 0;
        } else {
            error = d->blk.read(d->blk.opaque, d->xfer_lba, d->buf, n) < 0 ||
                    bus->dma_ops->rw(bus->dma_opaque, d->buf, bytes, true) != bytes;
        }
        if (!error) {
            ata_set_lba(d, d->xfer_lba48, d->xfer_lba + n - 1);
            d->xfer_lba += n;
            d->xfer_left -= n;
        }
    }
    if (!error && d->dma_to_device && !d->write_cache) {
        error = d->blk.flush(d->blk.opaque) < 0;
    }
    d->dma_pending = false;
    bus->dma_ops->done(bus->dma_opaque, error);
    if (error) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
    } else {
        ide_cmd_ok(d);
    }
}

static void ata_cmd_rw_dma(IDEDevice *d, bool lba48, bool write)
{
    if (!d->bus->dma_ops || (write && d->blk.read_only)) {
        ide_abort(d);
        return;
    }
    if (ata_begin_xfer(d, lba48)) {
        ide_start_dma(d, write, ata_dma_transfer);
    }
}

/* ---- other ATA commands ---- */

static void ata_cmd_verify(IDEDevice *d, bool lba48)
{
    if (ata_begin_xfer(d, lba48)) {
        ata_set_lba(d, lba48, d->xfer_lba + d->xfer_left - 1);
        ide_cmd_ok(d);
    }
}

static void ata_cmd_flush(IDEDevice *d)
{
    if (d->blk.flush(d->blk.opaque) < 0) {
        ide_abort(d);
    } else {
        ide_cmd_ok(d);
    }
}

/* SET FEATURES (8.36): subcommand in the features register. */
void ide_cmd_set_features(IDEDevice *d)
{
    switch (d->feature) {
    case 0x02: /* enable write cache */
    case 0x82: /* disable write cache (and flush what it held) */
        if (d->kind == IDE_DISK) {
            d->write_cache = d->feature == 0x02;
            if (!d->write_cache && d->blk.flush(d->blk.opaque) < 0) {
                ide_abort(d);
                return;
            }
        }
        break;
    case 0x03: { /* set transfer mode: PIO 0-4, MWDMA 0-2, UDMA 0-5 */
        uint8_t mode = d->nsector;
        uint8_t kind = mode >> 3, n = mode & 7;
        if (!((kind <= 1 && n <= 4) || (kind == 4 && n <= 2) || (kind == 8 && n <= 5))) {
            ide_abort(d);
            return;
        }
        d->xfer_mode = mode;
        break;
    }
    case 0x55:
    case 0xaa: /* read look-ahead off/on */
    case 0x66:
    case 0xcc: /* keep/revert power-on defaults */
    case 0x31:
    case 0x95: /* media status notification */ break;
    default: ide_abort(d); return;
    }
    ide_cmd_ok(d);
}

static void ata_cmd_set_multiple(IDEDevice *d)
{
    uint8_t n = d->nsector;
    /* 0 disables; otherwise a power of two up to the maximum. */
    if (n > IDE_MAX_MULT || (n & (n - 1)) != 0) {
        ide_abort(d);
        return;
    }
    d->mult_sectors = n;
    ide_cmd_ok(d);
}

/* INITIALIZE DEVICE PARAMETERS: the CHS translation for later commands. */
static void ata_cmd_init_params(IDEDevice *d)
{
    if (d->nsector == 0) {
        ide_abort(d);
        return;
    }
    d->cur_sectors = d->nsector;
    d->cur_heads = (uint32_t)(d->select & 0x0f) + 1;
    ide_cmd_ok(d);
}

/* Run an ATA command on a disk (the channel has handled the commands
 * every device type shares). */
void ata_exec(IDEDevice *d, uint8_t cmd)
{
    switch (cmd) {
    case ATA_IDENTIFY: ata_cmd_identify(d); break;
    case ATA_READ_SECTORS:
    case ATA_READ_SECTORS_NORETRY: ata_cmd_rw_pio(d, false, false, false); break;
    case ATA_READ_SECTORS_EXT: ata_cmd_rw_pio(d, true, false, false); break;
    case ATA_READ_MULTIPLE: ata_cmd_rw_pio(d, false, true, false); break;
    case ATA_READ_MULTIPLE_EXT: ata_cmd_rw_pio(d, true, true, false); break;
    case ATA_WRITE_SECTORS:
    case ATA_WRITE_SECTORS_NORETRY: ata_cmd_rw_pio(d, false, false, true); break;
    case ATA_WRITE_SECTORS_EXT: ata_cmd_rw_pio(d, true, false, true); break;
    case ATA_WRITE_MULTIPLE: ata_cmd_rw_pio(d, false, true, true); break;
    case ATA_WRITE_MULTIPLE_EXT: ata_cmd_rw_pio(d, true, true, true); break;
    case ATA_READ_DMA:
    case ATA_READ_DMA_NORETRY: ata_cmd_rw_dma(d, false, false); break;
    case ATA_READ_DMA_EXT: ata_cmd_rw_dma(d, true, false); break;
    case ATA_WRITE_DMA:
    case ATA_WRITE_DMA_NORETRY: ata_cmd_rw_dma(d, false, true); break;
    case ATA_WRITE_DMA_EXT: ata_cmd_rw_dma(d, true, true); break;
    case ATA_VERIFY:
    case ATA_VERIFY_NORETRY: ata_cmd_verify(d, false); break;
    case ATA_VERIFY_EXT: ata_cmd_verify(d, true); break;
    case ATA_FLUSH_CACHE:
    case ATA_FLUSH_CACHE_EXT: ata_cmd_flush(d); break;
    case ATA_SET_MULTIPLE: ata_cmd_set_multiple(d); break;
    case ATA_INIT_PARAMS: ata_cmd_init_params(d); break;
    case ATA_SEEK: ide_cmd_ok(d); break;
    default:
        if ((cmd & 0xf0) == ATA_RECALIBRATE) {
            ide_cmd_ok(d);
        } else {
            ide_abort(d);
        }
        break;
    }
}

/* The CHS geometry a BIOS would pick for a disk with no partition hints:
 * 16 heads, 63 sectors, as many cylinders as fit (at most 16383). */
static void ide_guess_geometry(IDEDevice *d)
{
    uint64_t cyls = d->blk.sectors / (16 * 63);
    d->heads = 16;
    d->sectors = 63;
    d->cylinders = (uint32_t)(cyls > 16383 ? 16383 : cyls < 1 ? 1 : cyls);
}

bool ide_attach_disk(IDEBus *bus, int unit, const BlockDev *blk)
{
    if (unit < 0 || unit > 1 || bus->dev[unit].kind != IDE_NONE || blk->sectors == 0) {
        return false;
    }
    IDEDevice *d = &bus->dev[unit];
    d->kind = IDE_DISK;
    d->blk = *blk;
    d->has_media = true;
    ide_guess_geometry(d);
    ide_device_power_on(d);
    return true;
}

bool ide_disk_geometry(IDEBus *bus, int unit, uint32_t *cylinders, uint32_t *heads,
                       uint32_t *sectors)
{
    if (unit < 0 || unit > 1 || bus->dev[unit].kind != IDE_DISK) {
        return false;
    }
    *cylinders = bus->dev[unit].cylinders;
    *heads = bus->dev[unit].heads;
    *sectors = bus->dev[unit].sectors;
    return true;
}

/* What a transfer in flight may continue with (saved state names them). */
const IDEEndFunc ide_ata_end_fns[IDE_ATA_END_FNS] = {ata_pio_read_block, ata_pio_write_block};
const IDEDMAFunc ide_ata_dma_fn = ata_dma_transfer;
