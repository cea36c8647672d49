/*
 * Intel 8254 programmable interval timer (datasheet order 231164, sections
 * "Control Word Format", "Read Operations", "Read-Back Command" and "Mode
 * Definitions"), plus port 0x61 as the PC/AT system control port B.
 *
 * Nothing ticks.  A counter's state is the sequence its counting element
 * (CE) started at some clock edge with some initial count; its value and
 * OUT at any later clock follow from the elapsed clocks by a formula per
 * mode.  Clock ticks are counted from virtual time 0, so the CLK edges are
 * fixed in time as on a board with a free-running oscillator.
 *
 * Two sequences may be in force at once: the mode 2 and 3 rules keep the
 * current period running after a new count is written, and every load
 * happens on the CLK edge after the write, so 'prev' covers the time before
 * 'seg' takes over.  Before any load the CE holds 'held_value' and OUT
 * 'held_out'; a counter stopped by its gate is held the same way.
 *
 * Counter 0 arms one Timer for its next OUT transition and mirrors OUT on
 * IRQ0, so the PIC sees each rising edge even when the timer fires late.
 */
#include <stdlib.h>

#include "hw/timer/pit.h"
#include "migration/vmstate.h"

#define PIT_NEVER INT64_MAX
/* Port 0x61 bit 4 toggles on each DRAM refresh request, which the BIOS set
 * up as counter 1 in mode 2 with count 18: every 15.085 us. */
#define PIT_REFRESH_TICKS 18

#define PORT61_GATE2    0x01
#define PORT61_SPEAKER  0x02
#define PORT61_WRITABLE 0x0f
#define PORT61_REFRESH  0x10
#define PORT61_OUT2     0x20

typedef struct PITSegment {
    int64_t start;  /* CLK tick at which the CE was loaded */
    uint32_t count; /* initial count: 1-65536, or 1-10000 in BCD */
    bool start_low; /* mode 3: sequence begins with the low half */
} PITSegment;

typedef struct PITCounter {
    uint8_t ctrl;         /* control word bits 5-0 (RW, M, BCD) for status */
    int mode;             /* 0-5; modes 6 and 7 are 2 and 3 */
    int rw;               /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
    bool bcd;             /* four-decade BCD counting */
    bool gate;            /* GATE input level */
    uint32_t cr;          /* count register: last complete initial count */
    bool has_count;       /* cr was written since the control word */
    bool write_msb_next;  /* rw 3: the LSB was written, MSB expected */
    uint8_t write_lsb;    /* rw 3: the LSB waiting for its MSB */
    bool read_msb_next;   /* rw 3: next unlatched read returns the MSB */
    int latch_bytes;      /* latched count bytes still unread */
    uint16_t latch_value; /* latched count, as read */
    bool status_latched;  /* a read-back status byte is waiting */
    uint8_t status;       /* the latched status byte */
    bool loaded;          /* seg (and prev) describe the CE */
    PITSegment seg;       /* sequence in force from seg.start */
    PITSegment prev;      /* sequence in force before seg.start */
    bool has_prev;
    uint32_t held_value;   /* CE when not loaded or before the first load */
    bool held_out;         /* OUT when not loaded or before the first load */
    bool gated;            /* mode 0/4: counting suspended by GATE low */
    int64_t gated_elapsed; /* mode 0/4: clocks counted before suspension */
    bool null_pending;     /* CR written, not yet moved to the CE ... */
    int64_t null_until;    /* ... until this tick (status NULL COUNT) */
} PITCounter;

struct PITState {
    PITCounter counter[3];
    IOPortMap *io;
    TimerList *tl;
    Timer irq_timer; /* next OUT transition of counter 0 */
    IRQ irq0;
    bool irq_level;   /* level driven on irq0 */
    int64_t irq_tick; /* tick up to which irq0 reflects OUT0 */
    uint8_t port61;   /* port 0x61 bits 3-0 as written */
};

static int64_t pit_tick_now(const PITState *s)
{
    return timer_ns_to_ticks(timer_now(s->tl), PIT_FREQ_HZ);
}

static uint32_t pit_modulus(const PITCounter *c)
{
    return c->bcd ? 10000 : 65536;
}

/* The CE as a guest reads it: 16 bits binary or four BCD digits. */
static uint16_t pit_encode(const PITCounter *c, uint32_t value)
{
    if (!c->bcd) {
        return value & 0xffff;
    }
    value %= 10000;
    return (value / 1000) << 12 | (value / 100 % 10) << 8 | (value / 10 % 10) << 4 | value % 10;
}

/* An initial count as written; 0 stands for the modulus ("Mode Definitions":
 * 0 is 2^16 in binary, 10^4 in BCD).  Non-decimal BCD digits are the
 * guest's problem; they are weighted as written. */
static uint32_t pit_decode(const PITCounter *c, uint16_t raw)
{
    uint32_t value = raw;
    if (c->bcd) {
        value = (raw >> 12) * 1000 + (raw >> 8 & 15) * 100 + (raw >> 4 & 15) * 10 + (raw & 15);
        value %= 10000;
    }
    return value ? value : pit_modulus(c);
}

/* Mode 3 half-cycles: for an odd count OUT is high one clock longer. */
static void pit_mode3_halves(uint32_t n, uint32_t *high, uint32_t *low)
{
    *high = (n + 1) / 2;
    *low = n / 2;
}

/* Value and OUT of sequence g at tick >= g->start. */
static void pit_seg_eval(const PITCounter *c, const PITSegment *g, int64_t tick, uint32_t *value,
                         bool *out)
{
    uint64_t d = (uint64_t)(tick - g->start);
    uint32_t n = g->count;
    uint32_t mod = pit_modulus(c);

    switch (c->mode) {
    case 2: {
        /* Rate generator: N, N-1, ..., 1 with OUT low during 1, reload. */
        uint32_t p = d % n;
        *value = n - p;
        *out = p != n - 1;
        break;
    }
    case 3: {
        /* Square wave: the CE counts by two through each half-cycle; an odd
         * count loads N-1 and adds a clock to the high half. */
        uint32_t high, low;
        pit_mode3_halves(n, &high, &low);
        uint32_t first = g->start_low ? low : high;
        uint32_t p = d % n;
        bool in_first = p < first;
        uint32_t q = in_first ? p : p - first;
        bool is_low = in_first ? g->start_low : !g->start_low;
        *value = (n & ~1u) - 2 * q;
        *out = !is_low;
        break;
    }
    default:
        /* Modes 0, 1, 4, 5 count down once and wrap on past terminal
         * count. */
        *value = (n + mod - (uint32_t)(d % mod)) % mod;
        if (c->mode == 0 || c->mode == 1) {
            *out = d >= n;
        } else {
            *out = d != n;
        }
        break;
    }
}

/* The first tick after 'tick' (>= g->start) at which sequence g changes OUT. */
static int64_t pit_seg_next_change(const PITCounter *c, const PITSegment *g, int64_t tick)
{
    uint64_t d = (uint64_t)(tick - g->start);
    uint32_t n = g->count;

    switch (c->mode) {
    case 0:
    case 1: return d < n ? g->start + n : PIT_NEVER;
    case 4:
    case 5:
        if (d < n) {
            return g->start + n;
        }
        return d == n ? g->start + n + 1 : PIT_NEVER;
    case 2: {
        if (n == 1) {
            return PIT_NEVER; /* illegal count: OUT stays low */
        }
        uint32_t p = d % n;
        return p < n - 1 ? tick + (n - 1 - p) : tick + 1;
    }
    default: {
        uint32_t high, low;
        pit_mode3_halves(n, &high, &low);
        if (low == 0) {
            return PIT_NEVER; /* count 1: OUT never goes low */
        }
        uint32_t first = g->start_low ? low : high;
        uint32_t p = d % n;
        return p < first ? tick + (first - p) : tick + (n - p);
    }
    }
}

static void pit_eval(const PITCounter *c, int64_t tick, uint32_t *value, bool *out)
{
    if (c->loaded && tick >= c->seg.start) {
        pit_seg_eval(c, &c->seg, tick, value, out);
    } else if (c->loaded && c->has_prev && tick >= c->prev.start) {
        pit_seg_eval(c, &c->prev, tick, value, out);
    } else {
        *value = c->held_value;
        *out = c->held_out;
    }
}

static bool pit_out_at(const PITCounter *c, int64_t tick)
{
    uint32_t value;
    bool out;
    pit_eval(c, tick, &value, &out);
    return out;
}

static uint32_t pit_value_at(const PITCounter *c, int64_t tick)
{
    uint32_t value;
    bool out;
    pit_eval(c, tick, &value, &out);
    return value;
}

/* The first tick after 'tick' at which OUT changes, or PIT_NEVER. */
static int64_t pit_next_change(const PITCounter *c, int64_t tick)
{
    if (!c->loaded) {
        return PIT_NEVER;
    }
    if (tick < c->seg.start) {
        bool now = pit_out_at(c, tick);
        if (c->has_prev && tick >= c->prev.start) {
            int64_t next = pit_seg_next_change(c, &c->prev, tick);
            if (next < c->seg.start) {
                return next;
            }
        }
        if (pit_out_at(c, c->seg.start) != now) {
            return c->seg.start;
        }
        tick = c->seg.start;
    }
    return pit_seg_next_change(c, &c->seg, tick);
}

/* At tick t, start sequence 'count' at 'start' (> t), keeping the sequence
 * in force at t (if any) until then. */
static void pit_start_seg(PITCounter *c, int64_t t, int64_t start, uint32_t count, bool start_low)
{
    if (!c->loaded) {
        c->has_prev = false;
    } else if (c->seg.start <= t) {
        c->prev = c->seg;
        c->has_prev = true;
    }
    /* else: seg was replaced before it began; prev stays in force. */
    c->seg = (PITSegment){.start = start, .count = count, .start_low = start_low};
    c->loaded = true;
}

/* Stop counting; the CE and OUT keep the values they have at 'tick'. */
static void pit_hold(PITCounter *c, int64_t tick, bool out)
{
    c->held_value = pit_value_at(c, tick);
    c->held_out = out;
    c->loaded = false;
    c->has_prev = false;
}

static void pit_mark_null(PITCounter *c, int64_t until)
{
    c->null_pending = true;
    c->null_until = until;
}

/* A complete initial count arrives at tick t ("Mode Definitions", "writing
 * a new count" rules of each mode). */
static void pit_load_count(PITCounter *c, int64_t t, uint16_t raw)
{
    uint32_t n = pit_decode(c, raw);
    c->cr = n;
    c->has_count = true;

    switch (c->mode) {
    case 0:
    case 4:
        if (!c->gate) {
            /* Loaded on the next CLK, but GATE low keeps it from counting. */
            pit_hold(c, t, c->mode == 4);
            c->held_value = n;
            c->seg = (PITSegment){.start = t + 1, .count = n};
            c->gated = true;
            c->gated_elapsed = 0;
        } else {
            c->gated = false;
            pit_start_seg(c, t, t + 1, n, false);
        }
        pit_mark_null(c, t + 1);
        break;
    case 1:
    case 5:
        /* Used from the next GATE trigger on; a running one-shot goes on. */
        pit_mark_null(c, PIT_NEVER);
        break;
    default:
        if (!c->gate) {
            pit_hold(c, t, true);
            c->held_value = n;
            pit_mark_null(c, t + 1);
        } else if (!c->loaded || (t < c->seg.start && !c->has_prev)) {
            pit_start_seg(c, t, t + 1, n, false);
            pit_mark_null(c, t + 1);
        } else if (t < c->seg.start) {
            /* A switch is already pending: it takes the newer count. */
            c->seg.count = n;
            pit_mark_null(c, c->seg.start);
        } else {
            /* The current period (mode 2) or half-cycle (mode 3) ends with
             * the old count; the new count is loaded at its end. */
            const PITSegment *g = &c->seg;
            uint64_t d = (uint64_t)(t - g->start);
            int64_t boundary;
            bool start_low = false;
            if (c->mode == 2) {
                boundary = g->start + (int64_t)((d / g->count + 1) * g->count);
            } else {
                uint32_t high, low;
                pit_mode3_halves(g->count, &high, &low);
                uint32_t first = g->start_low ? low : high;
                uint32_t p = d % g->count;
                if (p < first) {
                    boundary = t + (first - p);
                    start_low = !g->start_low;
                } else {
                    boundary = t + (g->count - p);
                    start_low = g->start_low;
                }
            }
            pit_start_seg(c, t, boundary, n, start_low);
            pit_mark_null(c, boundary);
        }
        break;
    }
}

/* The GATE input changes at tick t ("Mode Definitions", GATE rules). */
static void pit_set_gate(PITCounter *c, int64_t t, bool level)
{
    if (level == c->gate) {
        return;
    }
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
        if (!level && c->loaded) {
            int64_t elapsed = t >= c->seg.start ? t - c->seg.start : 0;
            PITSegment seg = c->seg;
            uint32_t value;
            bool out;
            pit_seg_eval(c, &seg, seg.start + elapsed, &value, &out);
            c->held_value = value;
            c->held_out = out;
            c->loaded = false;
            c->has_prev = false;
            c->gated = true;
            c->gated_elapsed = elapsed;
        } else if (level && c->gated) {
            c->gated = false;
            c->seg.start = t - c->gated_elapsed;
            c->loaded = true;
            c->has_prev = false;
        }
        break;
    case 1:
    case 5:
        /* A rising edge triggers (or retriggers) the one-shot. */
        if (level && c->has_count) {
            pit_start_seg(c, t, t + 1, c->cr, false);
            if (c->null_pending) {
                c->null_until = t + 1;
            }
        }
        break;
    default:
        if (!level) {
            /* OUT goes high at once and counting stops. */
            if (c->loaded) {
                pit_hold(c, t, true);
            }
        } else if (c->has_count) {
            /* A rising edge reloads the initial count on the next CLK. */
            c->loaded = false;
            pit_start_seg(c, t, t + 1, c->cr, false);
            if (c->null_pending) {
                c->null_until = t + 1;
            }
        }
        break;
    }
}

/* Control word for one counter: mode, access and format, all control
 * logic reset, OUT to its initial state (low for mode 0, else high). */
static void pit_write_control(PITCounter *c, int64_t t, uint8_t value)
{
    c->held_value = pit_value_at(c, t);
    c->ctrl = value & 0x3f;
    c->rw = (value >> 4) & 3;
    c->mode = (value >> 1) & 7;
    if (c->mode > 5) {
        c->mode -= 4;
    }
    c->bcd = value & 1;
    c->held_out = c->mode != 0;
    c->loaded = false;
    c->has_prev = false;
    c->gated = false;
    c->has_count = false;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_bytes = 0;
    c->status_latched = false;
    pit_mark_null(c, PIT_NEVER);
}

static void pit_latch_count(PITCounter *c, int64_t t)
{
    /* A second latch before the first is read is ignored. */
    if (c->latch_bytes == 0) {
        c->latch_value = pit_encode(c, pit_value_at(c, t));
        c->latch_bytes = c->rw == 3 ? 2 : 1;
    }
}

static bool pit_null_count(PITCounter *c, int64_t t)
{
    if (c->null_pending && t >= c->null_until) {
        c->null_pending = false;
    }
    return c->null_pending;
}

static void pit_latch_status(PITCounter *c, int64_t t)
{
    if (!c->status_latched) {
        c->status = (pit_out_at(c, t) ? 0x80 : 0) | (pit_null_count(c, t) ? 0x40 : 0) | c->ctrl;
        c->status_latched = true;
    }
}

/* Bring IRQ0 up to date with OUT0, delivering a rising edge that happened
 * since the last look even if OUT0 went low again, and arm the timer for
 * the next transition. */
static void pit_irq_sync(PITState *s)
{
    const PITCounter *c = &s->counter[0];
    int64_t now = pit_tick_now(s);
    bool out = pit_out_at(c, now);
    bool rose = false;
    int64_t first = pit_next_change(c, s->irq_tick);
    if (first <= now) {
        rose = pit_out_at(c, first) || pit_next_change(c, first) <= now;
    }
    if (rose) {
        if (s->irq_level) {
            irq_lower(&s->irq0);
        }
        irq_raise(&s->irq0);
        s->irq_level = true;
    }
    if (out != s->irq_level) {
        s->irq_level = out;
        irq_set_level(&s->irq0, out);
    }
    s->irq_tick = now;
    int64_t next = pit_next_change(c, now);
    if (next == PIT_NEVER) {
        timer_del(&s->irq_timer);
    } else {
        timer_mod(&s->irq_timer, timer_ticks_to_ns(next, PIT_FREQ_HZ));
    }
}

static void pit_irq_timer_cb(void *opaque)
{
    pit_irq_sync(opaque);
}

static uint8_t pit_read_counter(PITCounter *c, int64_t t)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_bytes > 0) {
        bool msb = c->rw == 2 || (c->rw == 3 && c->latch_bytes == 1);
        c->latch_bytes--;
        return msb ? c->latch_value >> 8 : c->latch_value & 0xff;
    }
    uint16_t raw = pit_encode(c, pit_value_at(c, t));
    bool msb = c->rw == 2;
    if (c->rw == 3) {
        msb = c->read_msb_next;
        c->read_msb_next = !c->read_msb_next;
    }
    return msb ? raw >> 8 : raw & 0xff;
}

static void pit_write_counter(PITCounter *c, int64_t t, uint8_t value)
{
    switch (c->rw) {
    case 1: pit_load_count(c, t, value); break;
    case 2: pit_load_count(c, t, value << 8); break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = value;
            c->write_msb_next = true;
            if (c->mode == 0) {
                /* Mode 0: the first byte stops counting and drops OUT. */
                pit_hold(c, t, false);
                c->gated = false;
            }
        } else {
            c->write_msb_next = false;
            pit_load_count(c, t, c->write_lsb | value << 8);
        }
        break;
    }
}

/* Port 0x43: control word, counter latch or read-back command. */
static void pit_write_mode_port(PITState *s, int64_t t, uint8_t value)
{
    int select = value >> 6;
    if (select == 3) {
        /* Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status,
         * bits 3-1 select counters 2-0. */
        for (int i = 0; i < 3; i++) {
            if (value & (2 << i)) {
                if (!(value & 0x20)) {
                    pit_latch_count(&s->counter[i], t);
                }
                if (!(value & 0x10)) {
                    pit_latch_status(&s->counter[i], t);
                }
            }
        }
    } else if (((value >> 4) & 3) == 0) {
        pit_latch_count(&s->counter[select], t);
    } else {
        pit_write_control(&s->counter[select], t, value);
    }
}

static uint32_t pit_port_read(void *opaque, uint16_t port, int size)
{
    PITState *s = opaque;
    int index = port & 3;
    if (index == 3) {
        return 0xff; /* the control word register cannot be read */
    }
    return pit_read_counter(&s->counter[index], pit_tick_now(s));
}

static void pit_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PITState *s = opaque;
    int64_t t = pit_tick_now(s);
    pit_irq_sync(s);
    if ((port & 3) == 3) {
        pit_write_mode_port(s, t, value);
    } else {
        pit_write_counter(&s->counter[port & 3], t, value);
    }
    pit_irq_sync(s);
}

static uint32_t pit_port61_read(void *opaque, uint16_t port, int size)
{
    PITState *s = opaque;
    int64_t t = pit_tick_now(s);
    uint8_t value = s->port61 & PORT61_WRITABLE;
    if ((t / PIT_REFRESH_TICKS) & 1) {
        value |= PORT61_REFRESH;
    }
    if (pit_out_at(&s->counter[2], t)) {
        value |= PORT61_OUT2;
    }
    return value;
}

static void pit_port61_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PITState *s = opaque;
    s->port61 = value & PORT61_WRITABLE;
    pit_set_gate(&s->counter[2], pit_tick_now(s), value & PORT61_GATE2);
}

int pit_get_out(PITState *s, int channel)
{
    if (channel < 0 || channel > 2) {
        return 0;
    }
    return pit_out_at(&s->counter[channel], pit_tick_now(s));
}

bool pit_speaker_enabled(PITState *s)
{
    return (s->port61 & (PORT61_GATE2 | PORT61_SPEAKER)) == (PORT61_GATE2 | PORT61_SPEAKER);
}

void pit_reset(PITState *s)
{
    int64_t t = pit_tick_now(s);
    for (int i = 0; i < 3; i++) {
        PITCounter *c = &s->counter[i];
        *c = (PITCounter){0};
        /* Gates 0 and 1 are tied high; gate 2 follows port 0x61 bit 0. */
        c->gate = i != 2;
        /* The 8254 powers up with mode, count and OUT undefined.  Mode 3
         * with no count keeps OUT high and idle, so the BIOS programming
         * mode 2 or 3 (the usual tick) causes no edge on IRQ0. */
        pit_write_control(c, t, 0x36);
    }
    s->port61 = 0;
    s->irq_tick = t;
    pit_irq_sync(s);
}

PITState *pit_new(IOPortMap *io, TimerList *tl, IRQ irq0)
{
    PITState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->tl = tl;
    s->irq0 = irq0;
    timer_init(&s->irq_timer, tl, pit_irq_timer_cb, s);
    pit_reset(s);
    if (ioport_register(io, 0x40, 4, 1, pit_port_read, pit_port_write, s) < 0) {
        goto fail_counters;
    }
    if (ioport_register(io, 0x61, 1, 1, pit_port61_read, pit_port61_write, s) < 0) {
        goto fail_port61;
    }
    return s;

fail_port61:
    ioport_unregister(io, 0x40, 4);
fail_counters:
    timer_del(&s->irq_timer);
    free(s);
    return NULL;
}

void pit_free(PITState *s)
{
    if (!s) {
        return;
    }
    timer_del(&s->irq_timer);
    ioport_unregister(s->io, 0x40, 4);
    ioport_unregister(s->io, 0x61, 1);
    free(s);
}

/* ---- saved state ---- */

static const VMField pit_segment_fields[] = {
    VMS_I64(PITSegment, start),
    VMS_U32_RANGE(PITSegment, count, 0, 65536),
    VMS_BOOL(PITSegment, start_low),
    VMS_END,
};

static const VMStateDesc pit_segment_desc = {.name = "segment", .fields = pit_segment_fields};

static const VMField pit_counter_fields[] = {
    VMS_U8(PITCounter, ctrl),
    VMS_INT_RANGE(PITCounter, mode, 0, 5),
    VMS_INT_RANGE(PITCounter, rw, 0, 3),
    VMS_BOOL(PITCounter, bcd),
    VMS_BOOL(PITCounter, gate),
    VMS_U32_RANGE(PITCounter, cr, 0, 65536),
    VMS_BOOL(PITCounter, has_count),
    VMS_BOOL(PITCounter, write_msb_next),
    VMS_U8(PITCounter, write_lsb),
    VMS_BOOL(PITCounter, read_msb_next),
    VMS_INT_RANGE(PITCounter, latch_bytes, 0, 2),
    VMS_U16(PITCounter, latch_value),
    VMS_BOOL(PITCounter, status_latched),
    VMS_U8(PITCounter, status),
    VMS_BOOL(PITCounter, loaded),
    VMS_STRUCT(PITCounter, seg, PITSegment, pit_segment_desc),
    VMS_STRUCT(PITCounter, prev, PITSegment, pit_segment_desc),
    VMS_BOOL(PITCounter, has_prev),
    VMS_U32_RANGE(PITCounter, held_value, 0, 65536),
    VMS_BOOL(PITCounter, held_out),
    VMS_BOOL(PITCounter, gated),
    VMS_I64(PITCounter, gated_elapsed),
    VMS_BOOL(PITCounter, null_pending),
    VMS_I64(PITCounter, null_until),
    VMS_END,
};

static bool pit_counter_post_load(VMReader *r, void *opaque, uint32_t version)
{
    PITCounter *c = opaque;
    /* A loaded sequence divides by its count. */
    if ((c->loaded && c->seg.count == 0) || (c->has_prev && c->prev.count == 0)) {
        return vm_fail(r, "a counter loaded with count 0");
    }
    return true;
}

static const VMStateDesc pit_counter_desc = {
    .name = "counter",
    .fields = pit_counter_fields,
    .post_load = pit_counter_post_load,
};

static const VMField pit_fields[] = {
    VMS_STRUCT_ARRAY(PITState, counter, 3, PITCounter, pit_counter_desc),
    VMS_TIMER(PITState, irq_timer),
    VMS_BOOL(PITState, irq_level),
    VMS_I64(PITState, irq_tick),
    VMS_U8(PITState, port61),
    VMS_END,
};

const VMStateDesc pit_vmstate = {
    .name = "pit",
    .version = 1,
    .min_version = 1,
    .fields = pit_fields,
};
