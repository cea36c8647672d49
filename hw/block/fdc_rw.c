/*
 * The 82077AA's data commands: READ DATA, WRITE DATA, FORMAT TRACK and
 * READ ID, and their execution phase through DMA or through the FIFO.
 *
 * A sector is found the way the controller finds it on a disk: the head
 * is over cylinder pcn (where the last SEEK or RECALIBRATE left it, or the
 * command's C with implied seek on), the drive must spin a disk recorded
 * at the data rate the DSR/CCR selects and in MFM, and the command's ID
 * (C, H, R, N) must match one on the track.  Otherwise the command ends
 * as the datasheet says: missing address mark (no disk, wrong rate, FM,
 * a track past the last one), no data plus wrong or bad cylinder, no
 * data for a sector number that is not on the track.
 *
 * The transfer ends at terminal count from the DMA controller (a normal
 * end) or after sector EOT (of head 1 with MT) with "end of cylinder"
 * (ST0 abnormal, ST1 EN), which is also how a non-DMA transfer ends.
 * Results carry the ID of the sector after the last one transferred.
 */
#include <string.h>

#include "hw/block/fdc_internal.h"

static FDCDrive *cur_drive(FDCState *s)
{
    return &s->drive[s->unit & 3];
}

/* End the command: result ST0 ST1 ST2 C H R N and the interrupt. */
static void finish(FDCState *s, uint8_t st0, uint8_t st1, uint8_t st2)
{
    uint8_t r[7] = {(uint8_t)(st0 | (s->head << 2) | s->unit),
                    st1,
                    st2,
                    s->id_c,
                    s->id_h,
                    s->id_r,
                    FDC_SECTOR_N};
    s->data_pos = 0;
    fdc_set_result(s, r, 7, true);
}

/* Can the head read ID fields here at all?  ST1_MA if not. */
static uint8_t track_check(FDCState *s, bool mfm)
{
    FDCDrive *d = cur_drive(s);
    if (!d->present || (s->dsr & 3) != d->fmt->rate || !mfm || d->pcn >= d->fmt->cylinders) {
        return ST1_MA;
    }
    return 0;
}

/* Is the sector with ID (id_c, id_h, id_r, n) on this track?  ST1 bits if not. */
static uint8_t sector_check(FDCState *s, uint8_t n, uint8_t *st2)
{
    FDCDrive *d = cur_drive(s);
    *st2 = 0;
    if (n != FDC_SECTOR_N || s->id_h != s->head || s->id_r < 1 || s->id_r > d->fmt->sectors) {
        return ST1_ND;
    }
    if (s->id_c != d->pcn) {
        *st2 = s->id_c == 0xff ? ST2_BC : ST2_WC;
        return ST1_ND;
    }
    return 0;
}

static uint64_t sector_lba(FDCState *s, uint8_t r)
{
    FDCDrive *d = cur_drive(s);
    return ((uint64_t)d->pcn * d->fmt->heads + s->head) * d->fmt->sectors + (r - 1u);
}

/* Read the current sector into s->sector; on a host error end the command. */
static bool load_sector(FDCState *s)
{
    FDCDrive *d = cur_drive(s);
    uint64_t lba = sector_lba(s, s->id_r);
    if (lba >= d->blk.sectors || d->blk.read(d->blk.opaque, lba, s->sector, 1) < 0) {
        finish(s, ST0_ABNORMAL, ST1_DE, ST2_DD);
        return false;
    }
    return true;
}

static bool store_sector(FDCState *s, uint8_t r)
{
    FDCDrive *d = cur_drive(s);
    uint64_t lba = sector_lba(s, r);
    if (lba >= d->blk.sectors || d->blk.write(d->blk.opaque, lba, s->sector, 1) < 0) {
        finish(s, ST0_ABNORMAL, ST1_DE, 0);
        return false;
    }
    return true;
}

/*
 * Step the ID to the next sector of the transfer.  Returns false when the
 * track (with MT: head 1's track) ended with sector EOT; the ID is then
 * the one the datasheet reports: next cylinder, sector 1.
 */
static bool next_sector(FDCState *s)
{
    if (s->id_r != s->eot) {
        s->id_r++;
        return true;
    }
    s->id_r = 1;
    if (s->mt && s->head == 0) {
        s->head = 1;
        s->id_h = 1;
        return true;
    }
    if (s->mt) {
        s->id_h ^= 1;
    }
    s->id_c++;
    return false;
}

/* After a whole sector: go on to the next one, or end the command. */
static bool continue_transfer(FDCState *s, bool tc)
{
    bool more = next_sector(s);
    uint8_t st1, st2;
    if (tc) {
        finish(s, 0, 0, 0);
        return false;
    }
    if (!more) {
        finish(s, ST0_ABNORMAL, ST1_EN, 0);
        return false;
    }
    st1 = sector_check(s, FDC_SECTOR_N, &st2);
    if (st1) {
        finish(s, ST0_ABNORMAL, st1, st2);
        return false;
    }
    return s->op != FDC_OP_READ || load_sector(s);
}

/* Start the execution phase; DMA starts at once if the channel is open. */
static void enter_exec(FDCState *s)
{
    s->dma_mode = !(s->hlt_nd & 1) && s->dma;
    s->data_pos = 0;
    s->fmt_pos = 0;
    s->phase = FDC_PHASE_EXEC;
    if (!s->dma_mode) {
        s->int_latch = true; /* non-DMA: INT asks the CPU for the bytes */
        fdc_update_irq(s);
    }
    fdc_update_dreq(s);
}

void fdc_cmd_read_write(FDCState *s)
{
    bool write = (s->cmd[0] & 0x1f) == 0x05;
    s->op = write ? FDC_OP_WRITE : FDC_OP_READ;
    s->unit = s->cmd[1] & 3;
    s->head = (s->cmd[1] >> 2) & 1;
    s->id_c = s->cmd[2];
    s->id_h = s->cmd[3];
    s->id_r = s->cmd[4];
    s->eot = s->cmd[6];
    s->mt = (s->cmd[0] & 0x80) != 0;
    s->last_eot = s->eot;
    FDCDrive *d = cur_drive(s);
    if ((s->config & CONFIG_EIS) && d->present) {
        d->pcn = s->id_c; /* implied seek */
        d->disk_changed = false;
    }
    uint8_t st2 = 0;
    uint8_t st1 = track_check(s, s->cmd[0] & 0x40);
    if (!st1 && write && d->blk.read_only) {
        st1 = ST1_NW;
    }
    if (!st1) {
        st1 = sector_check(s, s->cmd[5], &st2);
    }
    if (st1) {
        finish(s, ST0_ABNORMAL, st1, st2);
        return;
    }
    if (!write && !load_sector(s)) {
        return;
    }
    enter_exec(s);
}

void fdc_cmd_read_id(FDCState *s)
{
    s->unit = s->cmd[1] & 3;
    s->head = (s->cmd[1] >> 2) & 1;
    FDCDrive *d = cur_drive(s);
    s->id_c = d->pcn;
    s->id_h = s->head;
    uint8_t st1 = track_check(s, s->cmd[0] & 0x40);
    if (st1) {
        s->id_r = 0;
        finish(s, ST0_ABNORMAL, st1, 0);
        return;
    }
    /* The disk turns: each READ ID sees the next sector of the track. */
    d->next_id = (uint8_t)(d->next_id % d->fmt->sectors);
    s->id_r = (uint8_t)(d->next_id + 1);
    d->next_id++;
    finish(s, 0, 0, 0);
}

void fdc_cmd_format(FDCState *s)
{
    s->op = FDC_OP_FORMAT;
    s->unit = s->cmd[1] & 3;
    s->head = (s->cmd[1] >> 2) & 1;
    FDCDrive *d = cur_drive(s);
    s->id_c = d->pcn;
    s->id_h = s->head;
    s->id_r = 1;
    s->fmt_left = s->cmd[3];
    s->fmt_fill = s->cmd[5];
    s->last_eot = s->cmd[3];
    uint8_t st1 = track_check(s, s->cmd[0] & 0x40);
    if (!st1 && d->blk.read_only) {
        st1 = ST1_NW;
    }
    if (!st1 && s->cmd[2] != FDC_SECTOR_N) {
        st1 = ST1_ND; /* the image holds 512-byte sectors only */
    }
    if (st1) {
        finish(s, ST0_ABNORMAL, st1, 0);
        return;
    }
    if (!s->fmt_left) {
        finish(s, 0, 0, 0);
        return;
    }
    enter_exec(s);
}

/*
 * One sector ID of FORMAT TRACK has arrived: fill that sector with the
 * filler byte.  IDs for sectors the image does not hold (a sector number
 * past the format, another size) leave the image as it is.  Returns false
 * once the command has ended.
 */
static bool format_id_done(FDCState *s)
{
    FDCDrive *d = cur_drive(s);
    s->id_c = s->fmt_id[0];
    s->id_h = s->fmt_id[1];
    s->id_r = s->fmt_id[2];
    uint8_t r = s->fmt_id[2];
    if (r >= 1 && r <= d->fmt->sectors && s->fmt_id[3] == FDC_SECTOR_N) {
        memset(s->sector, s->fmt_fill, sizeof(s->sector));
        if (!store_sector(s, r)) {
            return false;
        }
    }
    if (--s->fmt_left == 0) {
        finish(s, 0, 0, 0);
        return false;
    }
    return true;
}

static void format_dma(FDCState *s)
{
    for (;;) {
        bool tc = false;
        uint32_t want = (uint32_t)sizeof(s->fmt_id) - s->fmt_pos;
        uint32_t moved = i8257_transfer(s->dma, s->dma_chan, s->fmt_id + s->fmt_pos, want, &tc);
        s->fmt_pos = (uint8_t)(s->fmt_pos + moved);
        if (s->fmt_pos >= sizeof(s->fmt_id)) {
            s->fmt_pos = 0;
            if (!format_id_done(s)) {
                return;
            }
        }
        if (tc) {
            finish(s, 0, 0, 0);
            return;
        }
        if (s->fmt_pos != 0 || moved == 0) {
            return; /* the channel stopped mid-way: wait to be served again */
        }
    }
}

void fdc_dma_service(void *opaque)
{
    FDCState *s = opaque;
    if (s->phase != FDC_PHASE_EXEC || !s->dma_mode) {
        return;
    }
    if (s->op == FDC_OP_FORMAT) {
        format_dma(s);
        return;
    }
    for (;;) {
        bool tc = false;
        if (s->data_pos >= FDC_SECTOR) {
            s->data_pos = 0;
        }
        uint32_t moved = i8257_transfer(s->dma, s->dma_chan, s->sector + s->data_pos,
                                        FDC_SECTOR - s->data_pos, &tc);
        s->data_pos = (uint16_t)(s->data_pos + moved);
        if (!tc && s->data_pos < FDC_SECTOR) {
            return; /* the channel stopped mid-sector: wait to be served again */
        }
        if (s->op == FDC_OP_WRITE) {
            /* A sector cut short by terminal count is completed with zeros. */
            memset(s->sector + s->data_pos, 0, FDC_SECTOR - s->data_pos);
            if (!store_sector(s, s->id_r)) {
                return;
            }
        }
        s->data_pos = 0;
        if (!continue_transfer(s, tc)) {
            return;
        }
    }
}

uint8_t fdc_pio_read(FDCState *s)
{
    if (s->op != FDC_OP_READ || s->data_pos >= FDC_SECTOR) {
        return 0;
    }
    uint8_t v = s->sector[s->data_pos++];
    s->int_latch = false;
    fdc_update_irq(s);
    if (s->data_pos >= FDC_SECTOR) {
        s->data_pos = 0;
        continue_transfer(s, false);
    }
    return v;
}

void fdc_pio_write(FDCState *s, uint8_t v)
{
    s->int_latch = false;
    fdc_update_irq(s);
    if (s->op == FDC_OP_FORMAT) {
        if (s->fmt_pos < sizeof(s->fmt_id)) {
            s->fmt_id[s->fmt_pos++] = v;
        }
        if (s->fmt_pos >= sizeof(s->fmt_id)) {
            s->fmt_pos = 0;
            format_id_done(s);
        }
        return;
    }
    if (s->op != FDC_OP_WRITE || s->data_pos >= FDC_SECTOR) {
        return;
    }
    s->sector[s->data_pos++] = v;
    if (s->data_pos >= FDC_SECTOR) {
        s->data_pos = 0;
        if (store_sector(s, s->id_r)) {
            continue_transfer(s, false);
        }
    }
}
