/*
 * ATAPI CD-ROM: the PACKET command protocol (ATA-6 9.9 and 9.11) and the
 * SCSI/MMC commands a BIOS's El Torito boot and Linux's sr driver use
 * (SPC-3, MMC-3).  Discs are single-session data discs of 2048-byte
 * sectors (an ISO image), track 1 from LBA 0.
 *
 * Packet flow: PACKET sets DRQ with reason CoD (no interrupt: the
 * IDENTIFY PACKET data says DRQ comes within 50 us), the host writes 12
 * bytes, then each data block is announced by DRQ, reason IO, its length
 * in the byte count registers and an interrupt; completion is reason
 * IO|CoD, DRDY, and an interrupt.  Errors end with ERR, the sense key in
 * the error register's high nibble, and REQUEST SENSE tells the rest.
 */
#include <string.h>

#include "hw/ide/ide_internal.h"

/* SCSI sense keys and additional sense codes (SPC-3 4.5.6, annex D). */
#define SENSE_NONE            0x0
#define SENSE_NOT_READY       0x2
#define SENSE_ILLEGAL_REQUEST 0x5
#define SENSE_UNIT_ATTENTION  0x6
#define SENSE_ABORTED_COMMAND 0xb
#define ASC_INVALID_OPCODE    0x20
#define ASC_LBA_OUT_OF_RANGE  0x21
#define ASC_INVALID_FIELD     0x24
#define ASC_MEDIUM_CHANGED    0x28
#define ASC_POWER_ON_RESET    0x29
#define ASC_SAVING_PARAMS     0x39
#define ASC_NO_MEDIUM         0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-3 6.5.2.4). */
#define MEDIA_EVENT_NEW     2
#define MEDIA_EVENT_REMOVAL 3

#define CD_FRAMES_PER_SEC 75
#define CD_LEADIN_FRAMES  150    /* MSF 00:02:00 is LBA 0 */
#define CD_MAX_CD_SECTORS 360000 /* beyond this an image is a DVD */

static uint32_t get_be16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return (get_be16(p) << 16) | get_be16(p + 2);
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

static uint32_t cd_sectors(const IDEDevice *d)
{
    return (uint32_t)(d->blk.sectors / (CD_SECTOR / IDE_SECTOR));
}

static bool cd_ready(const IDEDevice *d)
{
    return d->has_media && !d->tray_open;
}

/* ---- completion ---- */

static void atapi_ok(IDEDevice *d)
{
    d->pos = d->end = 0;
    d->end_fn = NULL;
    d->reading = false;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    d->error = 0;
    d->nsector = ATAPI_REASON_IO | ATAPI_REASON_COD;
    ide_raise_irq(d);
}

static void atapi_fail(IDEDevice *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->pos = d->end = 0;
    d->end_fn = NULL;
    d->reading = false;
    d->dma_pending = false;
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_ERR;
    d->error = (uint8_t)(key << 4);
    d->nsector = ATAPI_REASON_IO | ATAPI_REASON_COD;
    ide_raise_irq(d);
}

static void atapi_invalid_field(IDEDevice *d)
{
    atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* NOT READY for a drive with no disc (or its tray open). */
static bool atapi_need_medium(IDEDevice *d)
{
    if (cd_ready(d)) {
        return true;
    }
    atapi_fail(d, SENSE_NOT_READY, ASC_NO_MEDIUM, d->tray_open ? 0x02 : 0x01);
    return false;
}

/* ---- data-in phase ---- */

/* The host's byte count limit from the PACKET command: even, never 0. */
static uint32_t atapi_byte_limit(const IDEDevice *d)
{
    uint32_t limit = ((uint32_t)d->hcyl << 8) | d->lcyl;
    if (limit == 0 || limit == 0xffff) {
        limit = 0xfffe;
    }
    return limit & ~1u;
}

static void atapi_pio_next(IDEDevice *d);

/* Announce a DRQ block of n bytes at buf[off]. */
static void atapi_pio_block(IDEDevice *d, uint32_t off, uint32_t n)
{
    d->pos = off;
    d->end = off + n;
    d->end_fn = atapi_pio_next;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = ATAPI_REASON_IO;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
    ide_raise_irq(d);
}

static bool atapi_read_sectors(IDEDevice *d, uint32_t n)
{
    uint32_t per = CD_SECTOR / IDE_SECTOR;
    return d->blk.read(d->blk.opaque, d->xfer_lba * per, d->buf, n * per) == 0;
}

/* The next PIO block of a reply or a disc read; completion after the last. */
static void atapi_pio_next(IDEDevice *d)
{
    uint32_t limit = atapi_byte_limit(d);
    if (d->reading) {
        if (d->xfer_left == 0) {
            atapi_ok(d);
            return;
        }
        /* Whole sectors per block: a limit under 2048 still gets one. */
        uint32_t n = limit / CD_SECTOR;
        n = n < 1 ? 1 : n;
        n = n > d->xfer_left ? d->xfer_left : n;
        n = n > IDE_BUF_SIZE / CD_SECTOR ? IDE_BUF_SIZE / CD_SECTOR : n;
        if (!atapi_read_sectors(d, n)) {
            atapi_fail(d, SENSE_ABORTED_COMMAND, 0, 0);
            return;
        }
        d->xfer_lba += n;
        d->xfer_left -= n;
        atapi_pio_block(d, 0, n * CD_SECTOR);
        return;
    }
    if (d->reply_len == 0) {
        atapi_ok(d);
        return;
    }
    uint32_t n = d->reply_len < limit ? d->reply_len : limit;
    uint32_t off = d->reply_off;
    d->reply_off += n;
    d->reply_len -= n;
    atapi_pio_block(d, off, n);
}

static void atapi_dma_run(IDEDevice *d)
{
    IDEBus *bus = d->bus;
    bool error = false;
    if (d->reading) {
        while (d->xfer_left > 0 && !error) {
            uint32_t n =
                d->xfer_left < IDE_BUF_SIZE / CD_SECTOR ? d->xfer_left : IDE_BUF_SIZE / CD_SECTOR;
            error = !atapi_read_sectors(d, n) ||
                    bus->dma_ops->rw(bus->dma_opaque, d->buf, n * CD_SECTOR, true) != n * CD_SECTOR;
            d->xfer_lba += n;
            d->xfer_left -= n;
        }
    } else if (d->reply_len) {
        error = bus->dma_ops->rw(bus->dma_opaque, d->buf + d->reply_off, d->reply_len, true) !=
                d->reply_len;
    }
    d->dma_pending = false;
    bus->dma_ops->done(bus->dma_opaque, error);
    if (error) {
        atapi_fail(d, SENSE_ABORTED_COMMAND, 0, 0);
    } else {
        atapi_ok(d);
    }
}

static void atapi_start_data(IDEDevice *d)
{
    if (d->packet_dma && d->bus->dma_ops) {
        ide_start_dma(d, false, atapi_dma_run);
    } else {
        atapi_pio_next(d);
    }
}

/* Send the first min(len, alloc) bytes of buf. */
static void atapi_reply(IDEDevice *d, uint32_t len, uint32_t alloc)
{
    d->reading = false;
    d->reply_off = 0;
    d->reply_len = len < alloc ? len : alloc;
    if (d->reply_len == 0) {
        atapi_ok(d);
        return;
    }
    atapi_start_data(d);
}

static void atapi_read(IDEDevice *d, uint32_t lba, uint32_t count)
{
    if (!atapi_need_medium(d)) {
        return;
    }
    if ((uint64_t)lba + count > cd_sectors(d)) {
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (count == 0) {
        atapi_ok(d);
        return;
    }
    d->reading = true;
    d->xfer_lba = lba;
    d->xfer_left = count;
    atapi_start_data(d);
}

/* ---- SPC commands ---- */

static void atapi_request_sense(IDEDevice *d)
{
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70; /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    d->sense_key = SENSE_NONE;
    d->asc = d->ascq = 0;
    atapi_reply(d, 18, d->packet[4]);
}

static void atapi_inquiry(IDEDevice *d)
{
    uint8_t *b = d->buf;
    if (d->packet[1] & 1) {
        atapi_invalid_field(d); /* no vital product data pages */
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05; /* CD/DVD device */
    b[1] = 0x80; /* removable */
    b[3] = 0x21; /* ATAPI, response data format 1 */
    b[4] = 31;
    memcpy(b + 8, "POPEK   ", 8);
    memcpy(b + 16, "POPEK CD-ROM    ", 16);
    memcpy(b + 32, "1.0 ", 4);
    atapi_reply(d, 36, get_be16(d->packet + 3));
}

/* ---- MMC commands ---- */

static void atapi_read_capacity(IDEDevice *d)
{
    if (!atapi_need_medium(d)) {
        return;
    }
    put_be32(d->buf, cd_sectors(d) - 1);
    put_be32(d->buf + 4, CD_SECTOR);
    atapi_reply(d, 8, 8);
}

/* A TOC address: LBA, or MSF counted from the 2-second lead-in. */
static void put_toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (!msf) {
        put_be32(p, lba);
        return;
    }
    lba += CD_LEADIN_FRAMES;
    p[0] = 0;
    p[1] = (uint8_t)(lba / (CD_FRAMES_PER_SEC * 60));
    p[2] = (uint8_t)((lba / CD_FRAMES_PER_SEC) % 60);
    p[3] = (uint8_t)(lba % CD_FRAMES_PER_SEC);
}

/* One raw TOC entry (format 2): session 1, ADR 1, data track. */
static uint8_t *put_raw_entry(uint8_t *q, uint8_t point, uint32_t pmsf_lba, bool lba_form,
                              uint8_t pmin)
{
    memset(q, 0, 11);
    q[0] = 1;
    q[1] = 0x14;
    q[3] = point;
    if (lba_form) {
        put_toc_addr(q + 7, pmsf_lba, true); /* q[7] stays 0 */
    } else {
        q[8] = pmin;
    }
    return q + 11;
}

static void atapi_read_toc(IDEDevice *d)
{
    const uint8_t *p = d->packet;
    bool msf = p[1] & 2;
    int format = p[2] & 0x0f;
    uint8_t start = p[6];
    uint8_t *b = d->buf, *q = b + 4;
    if (!atapi_need_medium(d)) {
        return;
    }
    if (format == 0) {
        format = p[9] >> 6; /* SFF-8020 drivers put the format here */
    }
    memset(b, 0, 64);
    b[2] = 1; /* first track (format 0) / first session (1, 2) */
    b[3] = 1;
    switch (format) {
    case 0:
        if (start > 1 && start != 0xaa) {
            atapi_invalid_field(d);
            return;
        }
        if (start <= 1) {
            q[1] = 0x14; /* ADR 1, data track */
            q[2] = 1;
            put_toc_addr(q + 4, 0, msf);
            q += 8;
        }
        q[1] = 0x14;
        q[2] = 0xaa; /* lead-out */
        put_toc_addr(q + 4, cd_sectors(d), msf);
        q += 8;
        break;
    case 1: /* multi-session info: one session starting at track 1 */
        q[1] = 0x14;
        q[2] = 1;
        put_toc_addr(q + 4, 0, msf);
        q += 8;
        break;
    case 2: /* raw TOC: A0 first track, A1 last track, A2 lead-out, track 1 */
        q = put_raw_entry(q, 0xa0, 0, false, 1);
        q = put_raw_entry(q, 0xa1, 0, false, 1);
        q = put_raw_entry(q, 0xa2, cd_sectors(d), true, 0);
        q = put_raw_entry(q, 1, 0, true, 0);
        break;
    default: atapi_invalid_field(d); return;
    }
    uint32_t len = (uint32_t)(q - b);
    put_be16(b, len - 2);
    atapi_reply(d, len, get_be16(p + 7));
}

/* Mode pages 01h (read error recovery) and 2Ah (capabilities). */
static uint32_t mode_page(IDEDevice *d, uint8_t page, uint8_t *q)
{
    if (page == 0x01) {
        memset(q, 0, 12);
        q[0] = 0x01;
        q[1] = 10;
        return 12;
    }
    memset(q, 0, 22);
    q[0] = 0x2a;
    q[1] = 20;
    q[2] = 0x3b;                       /* reads CD-R, CD-RW, method 2, DVD-ROM */
    q[4] = 0x71;                       /* audio play, composite, mode 2 forms, multi-session */
    q[6] = 0x29 | (d->locked ? 2 : 0); /* tray loader, eject, lock (and its state) */
    put_be16(q + 8, 706);              /* maximum read speed, kB/s */
    put_be16(q + 10, 2);               /* volume levels */
    put_be16(q + 12, 512);             /* buffer size, KiB */
    put_be16(q + 14, 706);             /* current read speed */
    return 22;
}

static void atapi_mode_sense(IDEDevice *d, bool ten)
{
    const uint8_t *p = d->packet;
    uint8_t page = p[2] & 0x3f, pc = p[2] >> 6;
    uint32_t hdr = ten ? 8 : 4, len = hdr;
    uint8_t *b = d->buf;
    if (pc == 3) {
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMS, 0);
        return;
    }
    if (page != 0x01 && page != 0x2a && page != 0x3f) {
        atapi_invalid_field(d);
        return;
    }
    memset(b, 0, hdr);
    if (page == 0x01 || page == 0x3f) {
        len += mode_page(d, 0x01, b + len);
    }
    if (page == 0x2a || page == 0x3f) {
        len += mode_page(d, 0x2a, b + len);
    }
    if (ten) {
        put_be16(b, len - 2);
        b[2] = 0x70; /* medium type, as QEMU reports it */
    } else {
        b[0] = (uint8_t)(len - 1);
        b[1] = 0x70;
    }
    atapi_reply(d, len, ten ? get_be16(p + 7) : p[4]);
}

/* GET CONFIGURATION (MMC-3 6.6): profile list, core, removable medium
 * and random readable features; current profile CD-ROM or DVD-ROM. */
static void atapi_get_configuration(IDEDevice *d)
{
    const uint8_t *p = d->packet;
    int rt = p[1] & 3;
    uint32_t first = get_be16(p + 2);
    bool dvd = cd_ready(d) && cd_sectors(d) > CD_MAX_CD_SECTORS;
    uint16_t profile = !cd_ready(d) ? 0 : dvd ? 0x0010 : 0x0008;
    uint8_t *b = d->buf, *q = b + 8;
    static const uint16_t features[] = {0x0000, 0x0001, 0x0003, 0x0010};
    memset(b, 0, 64);
    put_be16(b + 6, profile);
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        uint16_t f = features[i];
        bool current = f != 0x0010 || cd_ready(d);
        if (f < first || (rt == 1 && !current) || (rt == 2 && f != first)) {
            continue;
        }
        put_be16(q, f);
        q[2] = (uint8_t)((f == 0x0001 ? 1 << 2 : 0) | (f <= 0x0003 ? 2 : 0) | (current ? 1 : 0));
        switch (f) {
        case 0x0000:
            q[3] = 8;
            put_be16(q + 4, 0x0010);
            q[6] = profile == 0x0010;
            put_be16(q + 8, 0x0008);
            q[10] = profile == 0x0008;
            break;
        case 0x0001:
            q[3] = 8;
            put_be32(q + 4, 2); /* physical interface: ATAPI */
            break;
        case 0x0003:
            q[3] = 4;
            q[4] = 0x29; /* tray loader, eject, lock */
            break;
        default:
            q[3] = 8;
            put_be32(q + 4, CD_SECTOR);
            put_be16(q + 8, dvd ? 16 : 1);
            break;
        }
        q += 4 + q[3];
    }
    uint32_t len = (uint32_t)(q - b);
    put_be32(b, len - 4);
    atapi_reply(d, len, get_be16(p + 7));
}

/* GET EVENT STATUS NOTIFICATION (MMC-3 6.5), polled form, media class. */
static void atapi_event_status(IDEDevice *d)
{
    const uint8_t *p = d->packet;
    uint8_t *b = d->buf;
    if (!(p[1] & 1)) {
        atapi_invalid_field(d); /* asynchronous notification is not offered */
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10; /* supported classes: media */
    uint32_t len = 4;
    if (p[4] & 0x10) {
        b[2] = 0x04;
        b[4] = (uint8_t)d->media_event;
        b[5] = (uint8_t)((cd_ready(d) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->media_event = 0;
        len = 8;
    } else {
        b[2] = 0x80; /* no event available */
    }
    put_be16(b, len - 2);
    atapi_reply(d, len, get_be16(p + 7));
}

static void atapi_start_stop(IDEDevice *d)
{
    bool loej = d->packet[4] & 2, start = d->packet[4] & 1;
    if (loej && !start) {
        if (d->locked) {
            atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
            return;
        }
        if (!d->tray_open && d->has_media) {
            d->media_event = MEDIA_EVENT_REMOVAL;
        }
        d->tray_open = true;
    } else if (loej && d->tray_open) {
        d->tray_open = false;
        if (d->has_media) {
            d->media_event = MEDIA_EVENT_NEW;
            d->ua_asc = ASC_MEDIUM_CHANGED;
        }
    }
    atapi_ok(d);
}

static void atapi_read_disc_info(IDEDevice *d)
{
    uint8_t *b = d->buf;
    if (!atapi_need_medium(d)) {
        return;
    }
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e; /* last session complete, disc complete */
    b[3] = 1;    /* first track */
    b[4] = 1;    /* sessions */
    b[5] = 1;    /* first track of the last session */
    b[6] = 1;    /* last track of the last session */
    atapi_reply(d, 34, get_be16(d->packet + 7));
}

static void atapi_mechanism_status(IDEDevice *d)
{
    memset(d->buf, 0, 8);
    d->buf[1] = d->tray_open ? 0x10 : 0;
    atapi_reply(d, 8, get_be16(d->packet + 8));
}

/* READ CD: only the 2048-byte user data of mode 1 sectors. */
static void atapi_read_cd(IDEDevice *d)
{
    const uint8_t *p = d->packet;
    uint32_t count = ((uint32_t)p[6] << 16) | get_be16(p + 7);
    if (p[9] == 0) {
        atapi_ok(d); /* no fields selected: nothing to transfer */
    } else if ((p[9] & 0xf8) == 0x10) {
        atapi_read(d, get_be32(p + 2), count);
    } else {
        atapi_invalid_field(d);
    }
}

/* MODE SELECT: take the parameter list and keep nothing of it. */
static void atapi_mode_select(IDEDevice *d, uint32_t len)
{
    if (len == 0) {
        atapi_ok(d);
        return;
    }
    len = len > IDE_BUF_SIZE ? IDE_BUF_SIZE : len;
    d->lcyl = (uint8_t)len;
    d->hcyl = (uint8_t)(len >> 8);
    d->nsector = 0; /* data out */
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    ide_start_pio(d, len, atapi_ok);
    ide_raise_irq(d);
}

/* ---- dispatch ---- */

/* Commands a pending UNIT ATTENTION does not fail (MMC-3 4.1.6.1). */
static bool atapi_ua_exempt(uint8_t op)
{
    return op == 0x12 || op == 0x03 || op == 0x4a;
}

static void atapi_packet_received(IDEDevice *d)
{
    const uint8_t *p = d->packet;
    memcpy(d->packet, d->buf, ATAPI_PACKET_LEN);
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    if (p[0] != 0x03) {
        d->sense_key = SENSE_NONE;
        d->asc = d->ascq = 0;
    }
    if (d->ua_asc && !atapi_ua_exempt(p[0])) {
        uint8_t asc = d->ua_asc;
        d->ua_asc = 0;
        atapi_fail(d, SENSE_UNIT_ATTENTION, asc, 0);
        return;
    }
    switch (p[0]) {
    case 0x00: /* TEST UNIT READY */
        if (atapi_need_medium(d)) {
            atapi_ok(d);
        }
        break;
    case 0x03: atapi_request_sense(d); break;
    case 0x12: atapi_inquiry(d); break;
    case 0x1a: atapi_mode_sense(d, false); break;
    case 0x5a: atapi_mode_sense(d, true); break;
    case 0x15: atapi_mode_select(d, p[4]); break;
    case 0x55: atapi_mode_select(d, get_be16(p + 7)); break;
    case 0x1b: atapi_start_stop(d); break;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = p[4] & 1;
        atapi_ok(d);
        break;
    case 0x25: atapi_read_capacity(d); break;
    case 0x28: atapi_read(d, get_be32(p + 2), get_be16(p + 7)); break;
    case 0xa8: atapi_read(d, get_be32(p + 2), get_be32(p + 6)); break;
    case 0xbe: atapi_read_cd(d); break;
    case 0x2b: /* SEEK(10) */
        if (atapi_need_medium(d)) {
            atapi_ok(d);
        }
        break;
    case 0x43: atapi_read_toc(d); break;
    case 0x46: atapi_get_configuration(d); break;
    case 0x4a: atapi_event_status(d); break;
    case 0x51: atapi_read_disc_info(d); break;
    case 0xbd: atapi_mechanism_status(d); break;
    case 0x35: /* SYNCHRONIZE CACHE */
    case 0xbb: /* SET CD SPEED */ atapi_ok(d); break;
    default: atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0); break;
    }
}

void atapi_cmd_packet(IDEDevice *d)
{
    d->packet_dma = d->feature & 1;
    d->reading = false;
    d->nsector = ATAPI_REASON_COD;
    d->status = IDE_STATUS_DRDY;
    ide_start_pio(d, ATAPI_PACKET_LEN, atapi_packet_received);
}

/* IDENTIFY PACKET DEVICE (ATA-6 8.16). */
void atapi_cmd_identify(IDEDevice *d)
{
    uint8_t *id = d->buf;
    memset(id, 0, 512);
    /* ATAPI, CD-ROM (type 5), removable, DRQ within 50 us, 12-byte packets. */
    ide_put_le16(id + 0, (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5));
    ide_padstr(id + 20, d->unit ? "PK00004" : "PK00003", 20);
    ide_padstr(id + 46, "1.0", 8);
    ide_padstr(id + 54, "POPEK CD-ROM", 40);
    ide_put_le16(id + 98, (1 << 9) | (1 << 8)); /* LBA, DMA */
    ide_put_le16(id + 106, 0x0006);             /* words 64-70 and 88 valid */
    ide_put_le16(id + 126, 0x0007);             /* multiword DMA 0-2 */
    ide_put_le16(id + 128, 0x0003);             /* PIO 3-4 */
    ide_put_le16(id + 130, 120);
    ide_put_le16(id + 132, 120);
    ide_put_le16(id + 134, 120);
    ide_put_le16(id + 136, 120);
    ide_put_le16(id + 160, 0x001e);               /* ATA-1 to ATA-4 */
    ide_put_le16(id + 164, (1 << 14) | (1 << 4)); /* NOP, PACKET */
    ide_put_le16(id + 166, 0x4000);
    ide_put_le16(id + 168, 0x4000);
    ide_put_le16(id + 170, (1 << 14) | (1 << 4));
    ide_put_le16(id + 174, 0x4000);
    ide_put_le16(id + 176, 0x003f); /* Ultra DMA 0-5 */
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    ide_start_pio(d, 512, NULL);
    ide_raise_irq(d);
}

/* DEVICE RESET and power-on: signature, status 0 (ATAPI devices do not
 * set DRDY after a reset, ATA-6 9.2), no interrupt. */
void atapi_reset(IDEDevice *d)
{
    ide_set_signature(d);
    d->status = 0;
    d->error = 0x01;
    d->reading = false;
    d->packet_dma = false;
    d->ua_asc = d->has_media ? ASC_POWER_ON_RESET : 0;
}

bool ide_attach_cdrom(IDEBus *bus, int unit, const BlockDev *blk)
{
    if (unit < 0 || unit > 1 || bus->dev[unit].kind != IDE_NONE) {
        return false;
    }
    IDEDevice *d = &bus->dev[unit];
    d->kind = IDE_CD;
    d->has_media = blk != NULL;
    if (blk) {
        d->blk = *blk;
    }
    d->heads = d->sectors = 1;
    ide_device_power_on(d);
    return true;
}

bool ide_cdrom_state(IDEBus *bus, int unit, bool *has_media, bool *locked, bool *tray_open)
{
    IDEDevice *d = &bus->dev[unit & 1];
    if (d->kind != IDE_CD) {
        return false;
    }
    *has_media = d->has_media;
    *locked = d->locked;
    *tray_open = d->tray_open;
    return true;
}

void ide_cdrom_change(IDEBus *bus, int unit, const BlockDev *blk)
{
    IDEDevice *d = &bus->dev[unit & 1];
    if (d->kind != IDE_CD) {
        return;
    }
    d->has_media = blk != NULL;
    if (blk) {
        d->blk = *blk;
    }
    d->media_event = blk ? MEDIA_EVENT_NEW : MEDIA_EVENT_REMOVAL;
    d->ua_asc = ASC_MEDIUM_CHANGED;
}

/* What a transfer in flight may continue with (saved state names them). */
const IDEEndFunc ide_atapi_end_fns[IDE_ATAPI_END_FNS] = {atapi_ok, atapi_pio_next,
                                                         atapi_packet_received};
const IDEDMAFunc ide_atapi_dma_fn = atapi_dma_run;
