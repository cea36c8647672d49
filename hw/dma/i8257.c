/*
 * The PC's ISA DMA controllers (see i8257.h).
 *
 * Register facts are from the Intel 8237A datasheet and the PIIX3
 * datasheet's "DMA registers" section: a flip-flop selects the low or the
 * high byte of the 16-bit address and count registers; writing one sets
 * both the base and the current register; a master clear masks every
 * channel; at terminal count a channel without autoinitialize sets its
 * own mask bit.  Deviation, as in QEMU: controller 1 is not gated by the
 * mask of channel 4 (the cascade), so a guest booted with no BIOS (direct
 * -kernel) can use channel 2 without first programming the cascade.
 */
#include <stdlib.h>

#include "hw/dma/i8257.h"
#include "migration/vmstate.h"

/* Mode register (0x0B / 0xD6): bits 3:2 transfer type. */
#define MODE_TYPE_MASK   0x0c
#define MODE_TYPE_VERIFY 0x00
#define MODE_TYPE_WRITE  0x04 /* device to memory */
#define MODE_TYPE_READ   0x08 /* memory to device */
#define MODE_AUTOINIT    0x10
#define MODE_DECREMENT   0x20
/* Command register bit 2: the controller is disabled. */
#define CMD_DISABLE 0x04

/* Controller registers, by index (port & 0xF on controller 1, (port -
 * 0xC0) / 2 on controller 2); 0-7 are address/count pairs per channel. */
enum {
    REG_STATUS_COMMAND = 8, /* read status / write command */
    REG_REQUEST = 9,
    REG_SINGLE_MASK = 10,
    REG_MODE = 11,
    REG_CLEAR_FLIPFLOP = 12,
    REG_MASTER_CLEAR = 13, /* write; a read gives the temporary register */
    REG_CLEAR_MASK = 14,
    REG_ALL_MASK = 15, /* write all mask bits; the PIIX3 reads them back */
};

typedef struct DMAChannel {
    uint16_t base_addr; /* reloaded by autoinitialize */
    uint16_t base_count;
    uint16_t addr;          /* current address (words on controller 2) */
    uint16_t count;         /* current count: transfers left minus one */
    uint8_t mode;           /* mode register as written (bits 1:0 dropped) */
    I8257ServiceFn service; /* the device on this channel, or NULL */
    void *opaque;
} DMAChannel;

typedef struct DMAController {
    DMAChannel ch[4];
    uint8_t command;   /* command register */
    uint8_t status_tc; /* bits 3:0: channel reached terminal count (cleared by a status read) */
    uint8_t mask;      /* bits 3:0: channel masked */
    uint8_t dreq;      /* bits 3:0: device DREQ lines */
    uint8_t request;   /* bits 3:0: software requests (request register) */
    bool flipflop;     /* next address/count access is the high byte */
    bool in_service;   /* a service function of this controller is running */
} DMAController;

struct I8257State {
    IOPortMap *io;
    PhysMem *pm;
    DMAController ctl[2]; /* [0]: channels 0-3, bytes; [1]: channels 4-7, words */
    uint8_t page[16];     /* ports 0x80-0x8F: page registers and spare bytes */
};

/* Which byte of 0x80-0x8F is each channel's page register (the PC/AT map). */
static const uint8_t page_index[I8257_CHANNELS] = {7, 3, 1, 2, 0xf, 0xb, 9, 0xa};

static DMAController *ctl_of(I8257State *s, int chan)
{
    return &s->ctl[chan >> 2];
}

static bool channel_ready(I8257State *s, int chan)
{
    DMAController *c = ctl_of(s, chan);
    int bit = 1 << (chan & 3);
    return !(c->command & CMD_DISABLE) && !(c->mask & bit);
}

/* Serve every channel of c whose request is up and that may transfer. */
static void controller_run(I8257State *s, int ctl)
{
    DMAController *c = &s->ctl[ctl];
    if (c->in_service) {
        return; /* the running service function sees the change itself */
    }
    for (int i = 0; i < 4; i++) {
        int chan = ctl * 4 + i;
        DMAChannel *ch = &c->ch[i];
        if (((c->dreq | c->request) & (1 << i)) && channel_ready(s, chan) && ch->service) {
            c->in_service = true;
            ch->service(ch->opaque);
            c->in_service = false;
        }
    }
}

static void controller_master_clear(DMAController *c)
{
    c->command = 0;
    c->status_tc = 0;
    c->request = 0;
    c->flipflop = false;
    c->mask = 0x0f;
}

static uint8_t controller_read(I8257State *s, int ctl, int reg)
{
    DMAController *c = &s->ctl[ctl];
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? ch->count : ch->addr;
        bool high = c->flipflop;
        c->flipflop = !c->flipflop;
        return (uint8_t)(high ? v >> 8 : v);
    }
    switch (reg) {
    case REG_STATUS_COMMAND: {
        uint8_t v = (uint8_t)(c->status_tc | ((c->dreq | c->request) << 4));
        c->status_tc = 0;
        return v;
    }
    case REG_MASTER_CLEAR:
        return 0; /* temporary register: only memory-to-memory transfers fill it */
    case REG_ALL_MASK: return (uint8_t)(0xf0 | c->mask);
    default: return 0xff;
    }
}

static void controller_write(I8257State *s, int ctl, int reg, uint8_t v)
{
    DMAController *c = &s->ctl[ctl];
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        uint16_t *cur = (reg & 1) ? &ch->count : &ch->addr;
        *base = c->flipflop ? (uint16_t)((*base & 0x00ff) | (v << 8))
                            : (uint16_t)((*base & 0xff00) | v);
        *cur = *base;
        c->flipflop = !c->flipflop;
        return;
    }
    switch (reg) {
    case REG_STATUS_COMMAND: c->command = v; break;
    case REG_REQUEST:
        if (v & 4) {
            c->request |= (uint8_t)(1 << (v & 3));
        } else {
            c->request &= (uint8_t) ~(1 << (v & 3));
        }
        break;
    case REG_SINGLE_MASK:
        if (v & 4) {
            c->mask |= (uint8_t)(1 << (v & 3));
        } else {
            c->mask &= (uint8_t) ~(1 << (v & 3));
        }
        break;
    case REG_MODE: c->ch[v & 3].mode = v & 0xfc; break;
    case REG_CLEAR_FLIPFLOP: c->flipflop = false; break;
    case REG_MASTER_CLEAR: controller_master_clear(c); break;
    case REG_CLEAR_MASK: c->mask = 0; break;
    case REG_ALL_MASK: c->mask = v & 0x0f; break;
    }
    controller_run(s, ctl);
}

static uint32_t ctl1_read(void *opaque, uint16_t port, int size)
{
    return controller_read(opaque, 0, port & 0x0f);
}

static void ctl1_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    controller_write(opaque, 0, port & 0x0f, (uint8_t)value);
}

static uint32_t ctl2_read(void *opaque, uint16_t port, int size)
{
    return controller_read(opaque, 1, ((port - 0xc0) >> 1) & 0x0f);
}

static void ctl2_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    controller_write(opaque, 1, ((port - 0xc0) >> 1) & 0x0f, (uint8_t)value);
}

static uint32_t page_read(void *opaque, uint16_t port, int size)
{
    I8257State *s = opaque;
    return s->page[port & 0x0f];
}

static void page_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    I8257State *s = opaque;
    s->page[port & 0x0f] = (uint8_t)value;
}

/* Physical address of channel chan's current position. */
static uint32_t channel_phys(I8257State *s, int chan)
{
    DMAChannel *ch = &ctl_of(s, chan)->ch[chan & 3];
    uint32_t page = s->page[page_index[chan]];
    if (chan >= 4) {
        return ((page & 0xfe) << 16) | ((uint32_t)ch->addr << 1);
    }
    return (page << 16) | ch->addr;
}

uint32_t i8257_transfer(I8257State *s, int chan, uint8_t *buf, uint32_t len, bool *tc)
{
    *tc = false;
    if (chan < 0 || chan >= I8257_CHANNELS || chan == 4) {
        return 0;
    }
    DMAController *c = ctl_of(s, chan);
    DMAChannel *ch = &c->ch[chan & 3];
    uint32_t unit = chan >= 4 ? 2 : 1;
    uint32_t moved = 0;
    while (len - moved >= unit && channel_ready(s, chan)) {
        /* Units this step: all that remain, but an incrementing address
         * wraps inside its 64 Ki-unit page (the page register does not
         * count) and a decrementing one goes a unit at a time. */
        uint32_t n = (len - moved) / unit;
        uint32_t left = (uint32_t)ch->count + 1;
        n = n < left ? n : left;
        if (ch->mode & MODE_DECREMENT) {
            n = 1;
        } else if (n > 0x10000u - ch->addr) {
            n = 0x10000u - ch->addr;
        }
        uint32_t paddr = channel_phys(s, chan);
        uint32_t bytes = n * unit;
        switch (ch->mode & MODE_TYPE_MASK) {
        case MODE_TYPE_WRITE: phys_write_buf(s->pm, paddr, buf + moved, bytes); break;
        case MODE_TYPE_READ: phys_read_buf(s->pm, paddr, buf + moved, bytes); break;
        default: /* verify (and the illegal type 3): addresses and counts only */ break;
        }
        moved += bytes;
        ch->addr = (uint16_t)((ch->mode & MODE_DECREMENT) ? ch->addr - n : ch->addr + n);
        if (n == left) {
            /* Terminal count: the count register rolled over to FFFFh. */
            ch->count = 0xffff;
            c->status_tc |= (uint8_t)(1 << (chan & 3));
            c->request &= (uint8_t) ~(1 << (chan & 3));
            if (ch->mode & MODE_AUTOINIT) {
                ch->addr = ch->base_addr;
                ch->count = ch->base_count;
            } else {
                c->mask |= (uint8_t)(1 << (chan & 3));
            }
            *tc = true;
            break;
        }
        ch->count = (uint16_t)(ch->count - n);
    }
    return moved;
}

void i8257_connect(I8257State *s, int chan, I8257ServiceFn fn, void *opaque)
{
    if (chan < 0 || chan >= I8257_CHANNELS) {
        return;
    }
    DMAChannel *ch = &ctl_of(s, chan)->ch[chan & 3];
    ch->service = fn;
    ch->opaque = opaque;
}

void i8257_set_dreq(I8257State *s, int chan, bool level)
{
    if (chan < 0 || chan >= I8257_CHANNELS) {
        return;
    }
    DMAController *c = ctl_of(s, chan);
    if (level) {
        c->dreq |= (uint8_t)(1 << (chan & 3));
        controller_run(s, chan >> 2);
    } else {
        c->dreq &= (uint8_t) ~(1 << (chan & 3));
    }
}

void i8257_reset(I8257State *s)
{
    for (int i = 0; i < 2; i++) {
        controller_master_clear(&s->ctl[i]);
        for (int j = 0; j < 4; j++) {
            s->ctl[i].ch[j].mode = 0;
        }
    }
}

I8257State *i8257_new(IOPortMap *io, PhysMem *pm)
{
    I8257State *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->pm = pm;
    i8257_reset(s);
    ioport_register(io, 0x00, 16, 1, ctl1_read, ctl1_write, s);
    ioport_register(io, 0xc0, 32, 1, ctl2_read, ctl2_write, s);
    ioport_register(io, 0x80, 16, 1, page_read, page_write, s);
    return s;
}

void i8257_free(I8257State *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, 0x00, 16);
    ioport_unregister(s->io, 0xc0, 32);
    ioport_unregister(s->io, 0x80, 16);
    free(s);
}

/* ---- saved state ---- */

static const VMField dma_channel_fields[] = {
    VMS_U16(DMAChannel, base_addr),
    VMS_U16(DMAChannel, base_count),
    VMS_U16(DMAChannel, addr),
    VMS_U16(DMAChannel, count),
    VMS_U8(DMAChannel, mode),
    VMS_END,
};

static const VMStateDesc dma_channel_desc = {.name = "channel", .fields = dma_channel_fields};

static const VMField dma_controller_fields[] = {
    VMS_STRUCT_ARRAY(DMAController, ch, 4, DMAChannel, dma_channel_desc),
    VMS_U8(DMAController, command),
    VMS_U8(DMAController, status_tc),
    VMS_U8(DMAController, mask),
    VMS_U8(DMAController, dreq),
    VMS_U8(DMAController, request),
    VMS_BOOL(DMAController, flipflop),
    VMS_END,
};

static const VMStateDesc dma_controller_desc = {.name = "controller",
                                                .fields = dma_controller_fields};

static const VMField i8257_fields[] = {
    VMS_STRUCT_ARRAY(I8257State, ctl, 2, DMAController, dma_controller_desc),
    VMS_BYTES(I8257State, page, 16),
    VMS_END,
};

const VMStateDesc i8257_vmstate = {
    .name = "i8257",
    .version = 1,
    .min_version = 1,
    .fields = i8257_fields,
};
