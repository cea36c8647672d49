/*
 * Intel 8259A programmable interrupt controller, master/slave pair as wired
 * in the PC/AT, with the PIIX edge/level control registers.
 *
 * References are to the Intel 8259A datasheet (order 231468):
 *   "Interrupt Sequence", "Initialization Command Words", "Operation
 *   Command Words", "Operating Modes" (fully nested, EOI, AEOI, rotation,
 *   special mask, poll, special fully nested), "Edge and Level Triggered
 *   Modes"; and to the Intel PIIX3 datasheet, 4.1.x ELCR.
 *
 * Inputs are levels (hw/core/irq.h).  An edge-triggered IR latches a request into
 * IRR on its rising edge and keeps it after the line falls, so that an
 * irq_pulse() from a device is never lost; a level-triggered IR's IRR bit
 * follows the line.  The slave's INT output is wired to the master's IR2 and
 * re-evaluated after every change.  IR2 is edge triggered as on the AT, so
 * the master keeps a cascade request the slave withdrew before INTA; the
 * slave then answers with its IR7 vector (a spurious IRQ15) and the master's
 * IR2 stays in service until the OS sends it an EOI, as Linux and Windows
 * expect.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hw/intc/pic.h"
#include "migration/vmstate.h"

#define PIC_MASTER     0
#define PIC_SLAVE      1
#define PIC_CASCADE_IR 2

/* PIIX3 ELCR: IRQ 0, 1, 2, 8 and 13 are edge-only (PIIX3 4.1.10/4.1.11). */
#define PIC_ELCR1_MASK 0xf8
#define PIC_ELCR2_MASK 0xde

typedef struct PICChip {
    uint8_t irr;         /* interrupt request register */
    uint8_t imr;         /* interrupt mask register (OCW1) */
    uint8_t isr;         /* in-service register */
    uint8_t input;       /* current level of the IR0-7 pins */
    uint8_t elcr;        /* PIIX edge/level control, 1 = level */
    uint8_t elcr_mask;   /* ELCR bits that exist on this chip */
    uint8_t vector_base; /* ICW2 T7-T3: vector of IR0 */
    uint8_t icw3;        /* master: IRs with a slave; slave: its ID */
    uint8_t highest_ir;  /* IR with the highest priority (rotation) */
    uint8_t init_step;   /* 0 = operational; 2, 3, 4 = next ICW expected */
    bool need_icw4;      /* ICW1 IC4 */
    bool single;         /* ICW1 SNGL: no cascade, no ICW3 */
    bool ltim;           /* ICW1 LTIM: every IR level triggered */
    bool auto_eoi;       /* ICW4 AEOI */
    bool sfnm;           /* ICW4 special fully nested mode */
    bool rotate_on_aeoi; /* OCW2 R=1 SL=0 EOI=0 */
    bool special_mask;   /* OCW3 ESMM/SMM */
    bool read_isr;       /* OCW3 RR/RIS: port A0=0 reads ISR, else IRR */
    bool poll;           /* OCW3 P: next read is a poll */
} PICChip;

struct PICState {
    PICChip chip[2]; /* [0] master (0x20), [1] slave (0xA0) */
    IOPortMap *io;
    IRQ cpu_intr;    /* the CPU's INTR pin */
    bool intr_level; /* last level driven on cpu_intr */
};

static uint8_t pic_level_mask(const PICChip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Priority rank of an IR, 0 = highest ("Operating Modes": rotation). */
static int pic_rank(const PICChip *c, int ir)
{
    return (ir - c->highest_ir) & 7;
}

/* The highest-priority IR whose bit is set in 'bits', or -1. */
static int pic_highest(const PICChip *c, uint8_t bits)
{
    for (int rank = 0; rank < 8; rank++) {
        int ir = (c->highest_ir + rank) & 7;
        if (bits & (1u << ir)) {
            return ir;
        }
    }
    return -1;
}

/* The IR this chip would present on INT, or -1: the highest unmasked
 * request, if it outranks every in-service level that still blocks it. */
static int pic_chip_pending(const PICChip *c, bool is_master)
{
    int ir = pic_highest(c, c->irr & ~c->imr);
    if (ir < 0) {
        return -1;
    }
    uint8_t blocking = c->isr;
    if (c->special_mask) {
        /* Special mask mode: a masked level in service blocks nothing. */
        blocking &= ~c->imr;
    }
    if (is_master && c->sfnm && ir == PIC_CASCADE_IR && !c->single) {
        /* Special fully nested mode: the slave may interrupt again while
         * the master's cascade level is in service. */
        blocking &= ~(1u << PIC_CASCADE_IR);
    }
    int in_service = pic_highest(c, blocking);
    if (in_service >= 0 && pic_rank(c, in_service) <= pic_rank(c, ir)) {
        return -1;
    }
    return ir;
}

static void pic_chip_set_input(PICChip *c, int ir, int level)
{
    uint8_t bit = 1u << ir;
    if (level) {
        if (!(c->input & bit) || (pic_level_mask(c) & bit)) {
            c->irr |= bit;
        }
        c->input |= bit;
    } else {
        c->input &= ~bit;
        if (pic_level_mask(c) & bit) {
            c->irr &= ~bit;
        }
    }
}

/* INTA (or poll) on one chip: the request moves to service. */
static void pic_chip_intack(PICChip *c, int ir)
{
    uint8_t bit = 1u << ir;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi) {
            c->highest_ir = (ir + 1) & 7;
        }
    } else {
        c->isr |= bit;
    }
    /* A level-triggered request stays in IRR while its line is high. */
    if (!(pic_level_mask(c) & bit)) {
        c->irr &= ~bit;
    }
}

/* Propagate the slave's INT to the master's IR2, then the master's INT to
 * the CPU. */
static void pic_update(PICState *s)
{
    PICChip *master = &s->chip[PIC_MASTER];
    bool slave_int = pic_chip_pending(&s->chip[PIC_SLAVE], false) >= 0;
    pic_chip_set_input(master, PIC_CASCADE_IR, slave_int);
    bool level = pic_chip_pending(master, true) >= 0;
    if (level != s->intr_level) {
        s->intr_level = level;
        irq_set_level(&s->cpu_intr, level);
    }
}

/* After INTA on the cascade level the slave drops INT for the rest of the
 * cycle and raises it again if it still has a request, which the master
 * sees as a new edge; without this a slave in AEOI mode with a second
 * request pending would never be heard again. */
static void pic_cascade_acked(PICState *s)
{
    s->chip[PIC_MASTER].input &= ~(1u << PIC_CASCADE_IR);
}

int pic_ack(PICState *s)
{
    PICChip *master = &s->chip[PIC_MASTER];
    PICChip *slave = &s->chip[PIC_SLAVE];
    int vector;
    int ir = pic_chip_pending(master, true);
    if (ir < 0) {
        /* The request vanished before INTA: IR7 vector, ISR untouched. */
        vector = master->vector_base | 7;
    } else if (ir == PIC_CASCADE_IR && !master->single) {
        int slave_ir = pic_chip_pending(slave, false);
        if (slave_ir >= 0) {
            pic_chip_intack(slave, slave_ir);
            vector = slave->vector_base | slave_ir;
        } else {
            /* Spurious IRQ15: the master did service its IR2. */
            vector = slave->vector_base | 7;
        }
        pic_chip_intack(master, ir);
        pic_cascade_acked(s);
    } else {
        pic_chip_intack(master, ir);
        vector = master->vector_base | ir;
    }
    pic_update(s);
    return vector;
}

bool pic_intr_pending(PICState *s)
{
    return pic_chip_pending(&s->chip[PIC_MASTER], true) >= 0;
}

void pic_set_irq(PICState *s, int irq, int level)
{
    if (irq < 0 || irq > 15) {
        return;
    }
    if (irq == PIC_CASCADE_IR) {
        irq = 9;
    }
    pic_chip_set_input(&s->chip[irq >> 3], irq & 7, level);
    pic_update(s);
}

static void pic_irq_handler(void *opaque, int n, int level)
{
    pic_set_irq(opaque, n, level);
}

IRQ pic_input(PICState *s, int irq)
{
    return irq_make(pic_irq_handler, s, irq);
}

/* ICW1: start the initialisation sequence ("Initialization Command Words"
 * a-f: edge sense reset, IMR cleared, IR7 lowest, SMM off, read IRR, and
 * ICW4 functions zero unless ICW4 follows). */
static void pic_write_icw1(PICChip *c, uint8_t value)
{
    c->need_icw4 = value & 0x01;
    c->single = value & 0x02;
    c->ltim = value & 0x08;
    c->init_step = 2;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->input & pic_level_mask(c);
    c->highest_ir = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->auto_eoi = false;
    c->sfnm = false;
    c->rotate_on_aeoi = false;
}

static void pic_write_icw(PICChip *c, uint8_t value)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = value & 0xf8;
        c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = value;
        c->init_step = c->need_icw4 ? 4 : 0;
        break;
    case 4:
        /* uPM (bit 0) selects 8086 vectors, the only kind a PC uses;
         * buffered mode (bits 2-3) has no effect without a bus. */
        c->auto_eoi = value & 0x02;
        c->sfnm = value & 0x10;
        c->init_step = 0;
        break;
    }
}

/* Non-specific EOI: the highest-priority level in service is the one being
 * serviced.  In special mask mode a masked ISR bit is not cleared by it. */
static int pic_eoi_target(const PICChip *c)
{
    uint8_t candidates = c->isr;
    if (c->special_mask) {
        candidates &= ~c->imr;
    }
    return pic_highest(c, candidates);
}

/* OCW2: R, SL, EOI in bits 7-5, level in bits 2-0. */
static void pic_write_ocw2(PICChip *c, uint8_t value)
{
    int level = value & 7;
    int ir;
    switch (value >> 5) {
    case 0: /* clear rotate in AEOI mode */ c->rotate_on_aeoi = false; break;
    case 4: /* set rotate in AEOI mode */ c->rotate_on_aeoi = true; break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        ir = pic_eoi_target(c);
        if (ir >= 0) {
            c->isr &= ~(1u << ir);
            if (value & 0x80) {
                c->highest_ir = (ir + 1) & 7;
            }
        }
        break;
    case 3: /* specific EOI */ c->isr &= ~(1u << level); break;
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->highest_ir = (level + 1) & 7;
        break;
    case 6: /* set priority: 'level' becomes the lowest */ c->highest_ir = (level + 1) & 7; break;
    default: /* 2: no operation */ break;
    }
}

/* OCW3: ESMM/SMM in bits 6-5, P in bit 2, RR/RIS in bits 1-0. */
static void pic_write_ocw3(PICChip *c, uint8_t value)
{
    if (value & 0x04) {
        c->poll = true;
    }
    if (value & 0x02) {
        c->read_isr = value & 0x01;
    }
    if (value & 0x40) {
        c->special_mask = value & 0x20;
    }
}

static PICChip *pic_chip_for_port(PICState *s, uint16_t port)
{
    return &s->chip[port >= 0xa0 ? PIC_SLAVE : PIC_MASTER];
}

static void pic_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PICState *s = opaque;
    PICChip *c = pic_chip_for_port(s, port);
    uint8_t byte = value;
    if ((port & 1) == 0) {
        if (byte & 0x10) {
            pic_write_icw1(c, byte);
        } else if (byte & 0x08) {
            pic_write_ocw3(c, byte);
        } else {
            pic_write_ocw2(c, byte);
        }
    } else if (c->init_step != 0) {
        pic_write_icw(c, byte);
    } else {
        c->imr = byte;
    }
    pic_update(s);
}

/* Poll command: the read acts as INTA and returns I (bit 7) and the level
 * (bits 2-0) of the highest request ("Poll Command"). */
static uint8_t pic_poll_read(PICState *s, PICChip *c)
{
    bool is_master = c == &s->chip[PIC_MASTER];
    int ir = pic_chip_pending(c, is_master);
    if (ir < 0) {
        return 0;
    }
    /* No INTA cycle reaches the slave: it keeps INT up until polled too. */
    pic_chip_intack(c, ir);
    pic_update(s);
    return 0x80 | ir;
}

static uint32_t pic_port_read(void *opaque, uint16_t port, int size)
{
    PICState *s = opaque;
    PICChip *c = pic_chip_for_port(s, port);
    if (c->poll) {
        c->poll = false;
        return pic_poll_read(s, c);
    }
    if (port & 1) {
        return c->imr;
    }
    return c->read_isr ? c->isr : c->irr;
}

static void pic_elcr_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PICState *s = opaque;
    PICChip *c = &s->chip[port & 1];
    c->elcr = value & c->elcr_mask;
    /* An IR that just became level triggered requests exactly while high. */
    uint8_t level = pic_level_mask(c);
    c->irr = (c->irr & ~level) | (c->input & level);
    pic_update(s);
}

static uint32_t pic_elcr_read(void *opaque, uint16_t port, int size)
{
    PICState *s = opaque;
    return s->chip[port & 1].elcr;
}

static void pic_chip_reset(PICChip *c, uint8_t elcr_mask)
{
    uint8_t input = c->input;
    *c = (PICChip){0};
    /* The input pins belong to the devices; they keep their levels. */
    c->input = input;
    c->elcr_mask = elcr_mask;
    /* The 8259A has no reset pin and powers up undefined; masking every
     * input keeps a stray request from reaching the CPU before ICW1. */
    c->imr = 0xff;
}

void pic_reset(PICState *s)
{
    pic_chip_reset(&s->chip[PIC_MASTER], PIC_ELCR1_MASK);
    pic_chip_reset(&s->chip[PIC_SLAVE], PIC_ELCR2_MASK);
    pic_update(s);
}

PICState *pic_new(IOPortMap *io, IRQ cpu_intr)
{
    PICState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->cpu_intr = cpu_intr;
    pic_reset(s);
    if (ioport_register(io, 0x20, 2, 1, pic_port_read, pic_port_write, s) < 0) {
        goto fail_master;
    }
    if (ioport_register(io, 0xa0, 2, 1, pic_port_read, pic_port_write, s) < 0) {
        goto fail_slave;
    }
    if (ioport_register(io, 0x4d0, 2, 1, pic_elcr_read, pic_elcr_write, s) < 0) {
        goto fail_elcr;
    }
    return s;

fail_elcr:
    ioport_unregister(io, 0xa0, 2);
fail_slave:
    ioport_unregister(io, 0x20, 2);
fail_master:
    free(s);
    return NULL;
}

void pic_free(PICState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, 0x20, 2);
    ioport_unregister(s->io, 0xa0, 2);
    ioport_unregister(s->io, 0x4d0, 2);
    free(s);
}

int pic_info(PICState *s, char *buf, size_t len)
{
    static const char *const names[2] = {"master", "slave"};
    int total = 0;
    for (int i = 0; i < 2; i++) {
        const PICChip *c = &s->chip[i];
        size_t used = (size_t)total < len ? (size_t)total : len;
        int n = snprintf(buf ? buf + used : NULL, buf ? len - used : 0,
                         "pic %s: irr=%02x imr=%02x isr=%02x base=%02x elcr=%02x "
                         "input=%02x prio=%d%s%s%s%s\n",
                         names[i], c->irr, c->imr, c->isr, c->vector_base, c->elcr, c->input,
                         c->highest_ir, c->auto_eoi ? " aeoi" : "", c->sfnm ? " sfnm" : "",
                         c->special_mask ? " smm" : "", c->init_step ? " initialising" : "");
        if (n < 0) {
            return n;
        }
        total += n;
    }
    return total;
}

/* ---- saved state ---- */

static const VMField pic_chip_fields[] = {
    VMS_U8(PICChip, irr),
    VMS_U8(PICChip, imr),
    VMS_U8(PICChip, isr),
    VMS_U8(PICChip, input),
    VMS_U8(PICChip, elcr),
    VMS_U8(PICChip, elcr_mask),
    VMS_U8(PICChip, vector_base),
    VMS_U8(PICChip, icw3),
    VMS_U8_RANGE(PICChip, highest_ir, 0, 7),
    VMS_U8_RANGE(PICChip, init_step, 0, 4),
    VMS_BOOL(PICChip, need_icw4),
    VMS_BOOL(PICChip, single),
    VMS_BOOL(PICChip, ltim),
    VMS_BOOL(PICChip, auto_eoi),
    VMS_BOOL(PICChip, sfnm),
    VMS_BOOL(PICChip, rotate_on_aeoi),
    VMS_BOOL(PICChip, special_mask),
    VMS_BOOL(PICChip, read_isr),
    VMS_BOOL(PICChip, poll),
    VMS_END,
};

static const VMStateDesc pic_chip_desc = {.name = "chip", .fields = pic_chip_fields};

static const VMField pic_fields[] = {
    VMS_STRUCT_ARRAY(PICState, chip, 2, PICChip, pic_chip_desc),
    VMS_BOOL(PICState, intr_level),
    VMS_END,
};

const VMStateDesc pic_vmstate = {
    .name = "pic",
    .version = 1,
    .min_version = 1,
    .fields = pic_fields,
};
