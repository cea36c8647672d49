/*
 * The 82077AA's registers, its command/result machine and the commands
 * with no data phase (see fdc.h; the data commands are in fdc_rw.c).
 *
 * Facts are from the Intel 82077AA datasheet (290166): register bits,
 * command encodings and lengths, result bytes, the status registers, the
 * polling interrupt after a reset (four SENSE INTERRUPT STATUS commands
 * report drives 0-3 with ST0 = C0h + drive), VERSION = 90h, and what LOCK
 * keeps across a software reset.  Commands the 82077AA has but popek does
 * not model (READ TRACK, VERIFY, READ/WRITE DELETED DATA, SCAN) answer as
 * invalid commands do: one result byte, 80h.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/block/fdc_internal.h"
#include "migration/vmstate.h"

typedef struct FDCCommand {
    uint8_t mask, value; /* the first byte matches when (byte & mask) == value */
    uint8_t len;         /* command bytes, the first included (<= FDC_CMD_MAX) */
    void (*run)(FDCState *s);
} FDCCommand;

/* ---- formats ---- */

static const FDCFormat formats[] = {
    {737280, 80, 2, 9, 2, FDC_CMOS_144M, "720 KiB"},
    {1474560, 80, 2, 18, 0, FDC_CMOS_144M, "1.44 MB"},
    {2949120, 80, 2, 36, 3, FDC_CMOS_288M, "2.88 MB"},
};

const FDCFormat *fdc_format_for_size(uint64_t bytes)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].bytes == bytes) {
            return &formats[i];
        }
    }
    return NULL;
}

/* ---- interrupt and DMA request lines ---- */

void fdc_update_irq(FDCState *s)
{
    /* In AT mode DOR bit 3 gates INT; a controller held in reset drives nothing. */
    bool level = s->int_latch && (s->dor & DOR_DMAEN) && (s->dor & DOR_NRESET);
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set_level(&s->irq, level);
    }
}

void fdc_update_dreq(FDCState *s)
{
    if (!s->dma) {
        return;
    }
    bool level =
        s->phase == FDC_PHASE_EXEC && s->dma_mode && (s->dor & DOR_DMAEN) && (s->dor & DOR_NRESET);
    i8257_set_dreq(s->dma, s->dma_chan, level);
}

void fdc_set_result(FDCState *s, const uint8_t *bytes, int n, bool irq)
{
    if (n < 0) {
        n = 0;
    }
    if (n > FDC_RESULT_MAX) {
        n = FDC_RESULT_MAX;
    }
    if (n) {
        memcpy(s->res, bytes, (size_t)n);
    }
    s->res_len = (uint8_t)n;
    s->res_pos = 0;
    s->phase = n ? FDC_PHASE_RESULT : FDC_PHASE_COMMAND;
    if (irq) {
        s->int_latch = true;
    }
    fdc_update_dreq(s);
    fdc_update_irq(s);
}

/* A seek, a recalibration or a reset left a status for SENSE INTERRUPT STATUS. */
static void fdc_post_status(FDCState *s, int unit, uint8_t st0)
{
    s->sense_st0[unit] = st0;
    s->sense_pending |= (uint8_t)(1u << unit);
    s->int_latch = true;
    fdc_update_irq(s);
}

/* ---- commands with no data phase ---- */

static void cmd_invalid(FDCState *s)
{
    uint8_t r = ST0_INVALID;
    fdc_set_result(s, &r, 1, false);
}

static void cmd_specify(FDCState *s)
{
    s->srt_hut = s->cmd[1];
    s->hlt_nd = s->cmd[2];
    fdc_set_result(s, NULL, 0, false);
}

static void cmd_sense_drive_status(FDCState *s)
{
    int unit = s->cmd[1] & 3, head = (s->cmd[1] >> 2) & 1;
    FDCDrive *d = &s->drive[unit];
    /* ST3: bit 5 and bit 3 read as 1 on the 82077AA; WP and TRK0 from the drive. */
    uint8_t st3 = (uint8_t)(0x28 | (head << 2) | unit);
    if (d->present) {
        st3 |= d->blk.read_only ? 0x40 : 0;
        st3 |= d->pcn == 0 ? 0x10 : 0;
    }
    fdc_set_result(s, &st3, 1, false);
}

static void cmd_recalibrate(FDCState *s)
{
    int unit = s->cmd[1] & 3;
    FDCDrive *d = &s->drive[unit];
    fdc_set_result(s, NULL, 0, false);
    d->pcn = 0;
    if (!d->present) {
        /* 79 step pulses and no TRK0 from a missing drive: equipment check. */
        fdc_post_status(s, unit, (uint8_t)(ST0_ABNORMAL | ST0_SE | ST0_EC | unit));
        return;
    }
    d->disk_changed = false;
    fdc_post_status(s, unit, (uint8_t)(ST0_SE | unit));
}

/* SEEK (00001111b) and RELATIVE SEEK (1 DIR 001111b). */
static void cmd_seek(FDCState *s)
{
    int unit = s->cmd[1] & 3, head = (s->cmd[1] >> 2) & 1;
    FDCDrive *d = &s->drive[unit];
    int target = s->cmd[2];
    if (s->cmd[0] & 0x80) {
        target = (s->cmd[0] & 0x40) ? d->pcn + target : d->pcn - target;
        target = target < 0 ? 0 : target > 255 ? 255 : target;
    }
    fdc_set_result(s, NULL, 0, false);
    d->pcn = (uint8_t)target;
    if (d->present) {
        d->disk_changed = false;
    }
    fdc_post_status(s, unit, (uint8_t)(ST0_SE | (head << 2) | unit));
}

static void cmd_sense_interrupt(FDCState *s)
{
    if (!s->sense_pending) {
        cmd_invalid(s); /* nothing to report: the datasheet's answer is "invalid" */
        return;
    }
    int unit = 0;
    while (!(s->sense_pending & (1u << unit))) {
        unit++;
    }
    s->sense_pending &= (uint8_t) ~(1u << unit);
    s->int_latch = false;
    uint8_t r[2] = {s->sense_st0[unit], s->drive[unit].pcn};
    fdc_set_result(s, r, 2, false);
}

static void cmd_version(FDCState *s)
{
    uint8_t r = 0x90;
    fdc_set_result(s, &r, 1, false);
}

static void cmd_configure(FDCState *s)
{
    s->config = s->cmd[2];
    s->pretrk = s->cmd[3];
    fdc_set_result(s, NULL, 0, false);
}

static void cmd_lock(FDCState *s)
{
    s->lock = (s->cmd[0] & 0x80) != 0;
    uint8_t r = (uint8_t)(s->lock ? 0x10 : 0);
    fdc_set_result(s, &r, 1, false);
}

static void cmd_dumpreg(FDCState *s)
{
    uint8_t r[10] = {
        s->drive[0].pcn,
        s->drive[1].pcn,
        s->drive[2].pcn,
        s->drive[3].pcn,
        s->srt_hut,
        s->hlt_nd,
        s->last_eot,
        (uint8_t)((s->lock ? 0x80 : 0) | (s->perp & 0x3f)),
        (uint8_t)(s->config & 0x7f),
        s->pretrk,
    };
    fdc_set_result(s, r, 10, false);
}

static void cmd_perpendicular(FDCState *s)
{
    uint8_t v = s->cmd[1];
    if (v & 0x80) { /* OW: the drive bits D3-D0 are written too */
        s->perp = (uint8_t)((s->perp & 0x03) | (v & 0x3c));
    }
    s->perp = (uint8_t)((s->perp & 0x3c) | (v & 0x03));
    fdc_set_result(s, NULL, 0, false);
}

static const FDCCommand commands[] = {
    {0x1f, 0x06, 9, fdc_cmd_read_write}, /* READ DATA: MT MFM SK 0 0110 */
    {0x3f, 0x05, 9, fdc_cmd_read_write}, /* WRITE DATA: MT MFM 0 0101 */
    {0xbf, 0x0a, 2, fdc_cmd_read_id},    /* READ ID: 0 MFM 00 1010 */
    {0xbf, 0x0d, 6, fdc_cmd_format},     /* FORMAT TRACK: 0 MFM 00 1101 */
    {0xff, 0x03, 3, cmd_specify},
    {0xff, 0x04, 2, cmd_sense_drive_status},
    {0xff, 0x07, 2, cmd_recalibrate},
    {0xff, 0x08, 1, cmd_sense_interrupt},
    {0xff, 0x0f, 3, cmd_seek},
    {0xbf, 0x8f, 3, cmd_seek}, /* RELATIVE SEEK: 1 DIR 00 1111 */
    {0xff, 0x10, 1, cmd_version},
    {0xff, 0x13, 4, cmd_configure},
    {0x7f, 0x14, 1, cmd_lock}, /* LOCK: LOCK 00 10100 */
    {0xff, 0x0e, 1, cmd_dumpreg},
    {0xff, 0x12, 2, cmd_perpendicular},
};

static const FDCCommand invalid_command = {0, 0, 1, cmd_invalid};

static const FDCCommand *lookup(uint8_t first)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if ((first & commands[i].mask) == commands[i].value) {
            return &commands[i];
        }
    }
    return &invalid_command;
}

/* ---- the FIFO ---- */

static void fifo_write(FDCState *s, uint8_t v)
{
    if (s->phase == FDC_PHASE_EXEC) {
        if (!s->dma_mode) {
            fdc_pio_write(s, v);
        }
        return;
    }
    if (s->phase != FDC_PHASE_COMMAND) {
        return; /* result bytes are pending: the controller does not take writes */
    }
    if (s->cmd_pos == 0) {
        const FDCCommand *c = lookup(v);
        s->cmd_len = c->len <= FDC_CMD_MAX ? c->len : FDC_CMD_MAX;
    }
    if (s->cmd_pos < s->cmd_len && s->cmd_pos < FDC_CMD_MAX) {
        s->cmd[s->cmd_pos++] = v;
    }
    if (s->cmd_pos >= s->cmd_len) {
        s->cmd_pos = 0;
        lookup(s->cmd[0])->run(s);
    }
}

static uint8_t fifo_read(FDCState *s)
{
    if (s->phase == FDC_PHASE_EXEC) {
        return s->dma_mode ? 0 : fdc_pio_read(s);
    }
    if (s->phase != FDC_PHASE_RESULT || s->res_pos >= s->res_len || s->res_pos >= FDC_RESULT_MAX) {
        return 0; /* nothing to read: DIO says so, and the bus reads 0 */
    }
    uint8_t v = s->res[s->res_pos++];
    if (s->res_pos == 1) {
        s->int_latch = false; /* reading the result clears the command's interrupt */
        fdc_update_irq(s);
    }
    if (s->res_pos >= s->res_len) {
        s->phase = FDC_PHASE_COMMAND;
        s->res_len = s->res_pos = 0;
    }
    return v;
}

static uint8_t msr(FDCState *s)
{
    if (!(s->dor & DOR_NRESET)) {
        return 0;
    }
    switch (s->phase) {
    case FDC_PHASE_COMMAND: return s->cmd_pos ? MSR_RQM | MSR_CB : MSR_RQM;
    case FDC_PHASE_RESULT: return MSR_RQM | MSR_DIO | MSR_CB;
    case FDC_PHASE_EXEC:
        if (s->dma_mode) {
            return MSR_CB;
        }
        return (uint8_t)(MSR_RQM | MSR_NDMA | MSR_CB | (s->op == FDC_OP_READ ? MSR_DIO : 0));
    }
    return 0;
}

/* ---- resets ---- */

/* What DOR bit 2 and DSR bit 7 do: stop the command, drop the FIFO and,
 * unless LOCK is set, the CONFIGURE values; with polling on, one
 * interrupt and a status per drive for SENSE INTERRUPT STATUS. */
static void fdc_soft_reset(FDCState *s)
{
    s->phase = FDC_PHASE_COMMAND;
    s->cmd_pos = s->cmd_len = 0;
    s->res_pos = s->res_len = 0;
    s->data_pos = 0;
    s->int_latch = false;
    s->sense_pending = 0;
    if (!s->lock) {
        s->config = CONFIG_EFIFO;
        s->pretrk = 0;
    }
    s->perp &= 0x3c; /* GAP and WGATE clear; D3-D0 kept (only power on clears them) */
    fdc_update_dreq(s);
    if (!(s->config & CONFIG_POLL)) {
        for (int unit = 0; unit < FDC_UNITS; unit++) {
            fdc_post_status(s, unit, (uint8_t)(ST0_POLL | unit));
        }
    }
    fdc_update_irq(s);
}

/* ---- ports ---- */

static uint32_t fdc_read(void *opaque, uint16_t port, int size)
{
    FDCState *s = opaque;
    switch (port - s->base) {
    case 2: return s->dor;
    case 3: return s->tdr & 3;
    case 4: return msr(s);
    case 5: return (s->dor & DOR_NRESET) ? fifo_read(s) : 0;
    case 7: {
        FDCDrive *d = &s->drive[s->dor & DOR_SELECT];
        return d->present && d->disk_changed ? 0x80 : 0;
    }
    default: return 0xff; /* status registers A and B: PS/2 mode only */
    }
}

static void fdc_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    FDCState *s = opaque;
    uint8_t v = (uint8_t)value;
    switch (port - s->base) {
    case 2: {
        bool was_reset = !(s->dor & DOR_NRESET);
        s->dor = v;
        if (!(v & DOR_NRESET)) {
            /* Held in reset: the command stops now, the interrupt comes on release. */
            s->phase = FDC_PHASE_COMMAND;
            s->cmd_pos = s->cmd_len = 0;
            s->res_pos = s->res_len = 0;
            s->int_latch = false;
            fdc_update_dreq(s);
            fdc_update_irq(s);
        } else if (was_reset) {
            fdc_soft_reset(s);
        } else {
            fdc_update_irq(s);
            fdc_update_dreq(s);
        }
        break;
    }
    case 3: s->tdr = v & 3; break;
    case 4:
        s->dsr = v & 0x7f; /* bit 7 (reset) clears itself */
        if ((v & DSR_SWRESET) && (s->dor & DOR_NRESET)) {
            fdc_soft_reset(s);
        }
        break;
    case 5:
        if (s->dor & DOR_NRESET) {
            fifo_write(s, v);
        }
        break;
    case 7: /* CCR: the data rate, shared with the DSR */
        s->dsr = (uint8_t)((s->dsr & ~3) | (v & 3));
        break;
    }
}

/* ---- life cycle ---- */

void fdc_reset(FDCState *s)
{
    s->dor = DOR_NRESET | DOR_DMAEN; /* as QEMU: out of reset with DMA enabled */
    s->tdr = 0;
    s->dsr = 2; /* 250 kb/s */
    s->srt_hut = s->hlt_nd = 0;
    s->lock = false;
    s->perp = 0;
    s->last_eot = 0;
    s->config = CONFIG_EFIFO;
    s->pretrk = 0;
    for (int unit = 0; unit < FDC_UNITS; unit++) {
        FDCDrive *d = &s->drive[unit];
        d->pcn = 0;
        d->next_id = 0;
        d->disk_changed = d->present; /* the disk is new to whoever boots */
    }
    s->phase = FDC_PHASE_COMMAND;
    s->cmd_pos = s->cmd_len = 0;
    s->res_pos = s->res_len = 0;
    s->data_pos = 0;
    s->int_latch = false;
    s->sense_pending = 0;
    fdc_update_dreq(s);
    fdc_update_irq(s);
}

FDCState *fdc_new(IOPortMap *io, uint16_t base, IRQ irq, I8257State *dma, int dma_chan)
{
    FDCState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->base = base;
    s->irq = irq;
    s->dma = dma;
    s->dma_chan = dma_chan;
    if (dma) {
        i8257_connect(dma, dma_chan, fdc_dma_service, s);
    }
    ioport_register(io, base, 6, 1, fdc_read, fdc_write, s); /* base+6 is the IDE's */
    ioport_register(io, base + 7, 1, 1, fdc_read, fdc_write, s);
    fdc_reset(s);
    return s;
}

void fdc_free(FDCState *s)
{
    if (!s) {
        return;
    }
    if (s->dma) {
        i8257_connect(s->dma, s->dma_chan, NULL, NULL);
    }
    ioport_unregister(s->io, s->base, 6);
    ioport_unregister(s->io, s->base + 7, 1);
    free(s);
}

bool fdc_attach(FDCState *s, int unit, const BlockDev *blk)
{
    if (unit < 0 || unit >= FDC_MAX_DRIVES || s->drive[unit].present || !blk) {
        return false;
    }
    const FDCFormat *fmt = fdc_format_for_size(blk->sectors * BLOCK_SECTOR_SIZE);
    if (!fmt) {
        return false;
    }
    FDCDrive *d = &s->drive[unit];
    d->present = true;
    d->blk = *blk;
    d->fmt = fmt;
    d->disk_changed = true;
    return true;
}

int fdc_cmos_type(FDCState *s, int unit)
{
    if (unit < 0 || unit >= FDC_MAX_DRIVES || !s->drive[unit].present) {
        return FDC_CMOS_NONE;
    }
    return s->drive[unit].fmt->drive_cmos;
}

/* ---- saved state: registers, the command/result machine and a sector in
 * flight; which drives exist and their disks come from the command line ---- */

static const VMField fdc_drive_fields[] = {
    VMS_U8(FDCDrive, pcn),
    VMS_BOOL(FDCDrive, disk_changed),
    VMS_U8(FDCDrive, next_id),
    VMS_END,
};

static const VMStateDesc fdc_drive_desc = {.name = "drive", .fields = fdc_drive_fields};

static const VMField fdc_fields[] = {
    VMS_STRUCT_ARRAY(FDCState, drive, FDC_UNITS, FDCDrive, fdc_drive_desc),
    VMS_U8(FDCState, dor),
    VMS_U8(FDCState, tdr),
    VMS_U8(FDCState, dsr),
    VMS_U8(FDCState, srt_hut),
    VMS_U8(FDCState, hlt_nd),
    VMS_U8(FDCState, config),
    VMS_U8(FDCState, pretrk),
    VMS_U8(FDCState, perp),
    VMS_BOOL(FDCState, lock),
    VMS_U8(FDCState, last_eot),
    VMS_ENTRY_(FDCState, phase, enum FDCPhase, VMF_INT, 1, FDC_PHASE_COMMAND, FDC_PHASE_RESULT),
    VMS_BYTES(FDCState, cmd, FDC_CMD_MAX),
    VMS_U8_RANGE(FDCState, cmd_len, 0, FDC_CMD_MAX),
    VMS_U8_RANGE(FDCState, cmd_pos, 0, FDC_CMD_MAX),
    VMS_BYTES(FDCState, res, FDC_RESULT_MAX),
    VMS_U8_RANGE(FDCState, res_len, 0, FDC_RESULT_MAX),
    VMS_U8_RANGE(FDCState, res_pos, 0, FDC_RESULT_MAX),
    VMS_BOOL(FDCState, int_latch),
    VMS_BOOL(FDCState, irq_level),
    VMS_U8(FDCState, sense_pending),
    VMS_BYTES(FDCState, sense_st0, FDC_UNITS),
    VMS_ENTRY_(FDCState, op, enum FDCOp, VMF_INT, 1, FDC_OP_READ, FDC_OP_FORMAT),
    VMS_BOOL(FDCState, dma_mode),
    VMS_U8_RANGE(FDCState, unit, 0, FDC_UNITS - 1),
    VMS_U8_RANGE(FDCState, head, 0, 1),
    VMS_U8(FDCState, id_c),
    VMS_U8(FDCState, id_h),
    VMS_U8(FDCState, id_r),
    VMS_U8(FDCState, eot),
    VMS_BOOL(FDCState, mt),
    VMS_BYTES(FDCState, sector, FDC_SECTOR),
    VMS_U16_RANGE(FDCState, data_pos, 0, FDC_SECTOR),
    VMS_BYTES(FDCState, fmt_id, 4),
    VMS_U8_RANGE(FDCState, fmt_pos, 0, 4),
    VMS_U8(FDCState, fmt_left),
    VMS_U8(FDCState, fmt_fill),
    VMS_END,
};

static bool fdc_post_load(VMReader *r, void *opaque, uint32_t version)
{
    FDCState *s = opaque;
    if (s->phase == FDC_PHASE_EXEC && !s->drive[s->unit].present) {
        return vm_fail(r, "a transfer on drive %u, which this machine does not have", s->unit);
    }
    return true;
}

const VMStateDesc fdc_vmstate = {
    .name = "fdc",
    .version = 1,
    .min_version = 1,
    .fields = fdc_fields,
    .post_load = fdc_post_load,
};
