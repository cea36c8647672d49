/*
 * The local APIC (Intel SDM Vol.3 chapter 11), xAPIC mode, one CPU.
 *
 * Priorities (SDM 11.8.3): a vector's class is its high nibble; PPR is TPR
 * when TPR's class is at least that of the highest vector in service, else
 * that class.  A vector in IRR reaches the CPU only if its class is above
 * PPR's.  INTA moves the highest IRR vector to ISR; EOI retires the highest
 * ISR vector and, when TMR says it was level-triggered, broadcasts the EOI
 * to the I/O APIC (which clears the entry's remote IRR).
 *
 * The 8259 on LINT0 (SDM 11.5.1, MP spec 3.6.2.2 virtual wire mode): while
 * LINT0 is unmasked with delivery mode ExtINT, the 8259's INT output raises
 * INTR and INTA asks the 8259 for the vector, priorities bypassed.  With the
 * APIC globally disabled (IA32_APIC_BASE bit 11 clear) the 8259 drives INTR
 * directly and the APIC page is gone from the bus.
 *
 * The timer (SDM 11.5.4) counts the 1 GHz bus clock divided by DCR; its
 * deadline is a Timer on the machine's list, so it follows virtual time and
 * the current count is computed from it when read.  In TSC-deadline mode the
 * deadline is IA32_TSC_DEADLINE, in TSC ticks (= ns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/intc/apic.h"
#include "migration/vmstate.h"

/* Writable bits of each LVT (SDM Figure 11-8): timer, thermal and perf
 * counters, LINT0/1, error. */
#define LVT_TIMER_BITS 0x700ffu /* vector, mask, mode 18:17 */
#define LVT_DM_BITS    0x107ffu /* vector, delivery mode, mask */
#define LVT_LINT_BITS  0x1a7ffu /* + polarity, trigger mode */
#define LVT_ERROR_BITS 0x100ffu

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

struct APICState {
    PhysMem *phys;      /* where the register page is mapped */
    TimerList *timers;  /* the machine's clock, for the timer */
    int region;         /* the APIC page in phys, moved with the base */
    IRQ intr;           /* the CPU's INTR */
    IRQ nmi;            /* the CPU's NMI (raised, never lowered: an edge) */
    APICHooks hooks;    /* the board: 8259 INTA, EOI broadcast, map changes, INIT, TSC */
    uint8_t initial_id; /* ID at reset */
    bool intr_level;    /* last level driven on intr */

    uint64_t base;                   /* IA32_APIC_BASE */
    uint8_t id;                      /* ID register bits 31:24 */
    uint8_t tpr;                     /* task priority */
    uint8_t ldr;                     /* LDR bits 31:24 */
    uint8_t dfr;                     /* DFR bits 31:28 (model), low 28 bits read as 1 */
    uint32_t svr;                    /* spurious vector 7:0, software enable 8, focus check 9 */
    uint32_t isr[8], tmr[8], irr[8]; /* 256-bit: vector v is bit v%32 of word v/32 */
    uint32_t esr;                    /* as last latched by an ESR write */
    uint32_t esr_pending;            /* errors seen since */
    uint32_t icr_lo, icr_hi;         /* interrupt command register, as last written */
    uint32_t lvt[LVT_COUNT];         /* timer, thermal, perf, LINT0, LINT1, error */
    bool lint_level[2];              /* LINT0/LINT1 pin levels */
    bool extint_req;                 /* an ExtINT message (I/O APIC virtual wire) awaits INTA */

    uint32_t timer_initial; /* initial count (0: stopped) */
    uint32_t dcr;           /* divide configuration, bits 3 and 1:0 */
    int timer_shift;        /* log2 of the divider */
    int64_t timer_start;    /* virtual ns when the count was (re)loaded */
    uint64_t tsc_deadline;  /* IA32_TSC_DEADLINE (0: disarmed) */
    Timer timer;            /* the next count-to-zero or deadline */
};

/* ---- 256-bit registers ---- */

static void bit_set(uint32_t *r, int v)
{
    r[v >> 5] |= 1u << (v & 31);
}

static void bit_clear(uint32_t *r, int v)
{
    r[v >> 5] &= ~(1u << (v & 31));
}

static bool bit_test(const uint32_t *r, int v)
{
    return (r[v >> 5] >> (v & 31)) & 1;
}

/* The highest set vector, or -1. */
static int highest_bit(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--) {
        if (r[i]) {
            return i * 32 + 31 - __builtin_clz(r[i]);
        }
    }
    return -1;
}

/* ---- priority and the INTR pin ---- */

static uint8_t apic_ppr(const APICState *s)
{
    int isrv = highest_bit(s->isr);
    uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xf0);
    return (s->tpr & 0xf0) >= isr_class ? s->tpr : isr_class;
}

static bool apic_hw_enabled(const APICState *s)
{
    return (s->base & APIC_BASE_ENABLE) != 0;
}

static bool apic_sw_enabled(const APICState *s)
{
    return (s->svr & APIC_SVR_ENABLE) != 0;
}

static int lvt_mode(uint32_t lvt)
{
    return (lvt >> APIC_LVT_MODE_SHIFT) & 7;
}

/* The 8259's INT (on LINT0) reaches INTR: APIC globally off, LINT0 an
 * unmasked ExtINT, or an ExtINT message from the I/O APIC's pin 0 (which the
 * same INT output drives) not yet acknowledged. */
static bool extint_pending(const APICState *s)
{
    if (!s->lint_level[0]) {
        return false;
    }
    if (!apic_hw_enabled(s) || s->extint_req) {
        return true;
    }
    uint32_t lint0 = s->lvt[LVT_LINT0];
    return !(lint0 & APIC_LVT_MASKED) && lvt_mode(lint0) == APIC_DM_EXTINT;
}

/* The highest IRR vector if the CPU may take it now, else -1. */
static int deliverable_vector(const APICState *s)
{
    if (!apic_hw_enabled(s) || !apic_sw_enabled(s)) {
        return -1;
    }
    int v = highest_bit(s->irr);
    if (v < 0 || (v & 0xf0) <= (apic_ppr(s) & 0xf0)) {
        return -1;
    }
    return v;
}

static void apic_update(APICState *s)
{
    bool level = extint_pending(s) || deliverable_vector(s) >= 0;
    if (level != s->intr_level) {
        s->intr_level = level;
        irq_set_level(&s->intr, level);
    }
}

/* ---- errors ---- */

static void apic_error(APICState *s, uint32_t bits);

/* Accept a fixed interrupt: vectors 0-15 are illegal (SDM 11.5.3). */
static void apic_set_irr(APICState *s, int vector, bool level_trigger)
{
    if (vector < 16) {
        apic_error(s, APIC_ESR_RECV_ILLEGAL);
        return;
    }
    bit_set(s->irr, vector);
    if (level_trigger) {
        bit_set(s->tmr, vector);
    } else {
        bit_clear(s->tmr, vector);
    }
    apic_update(s);
}

/* An error is logged, then signalled through the error LVT (SDM 11.5.3). */
static void apic_error(APICState *s, uint32_t bits)
{
    uint32_t fresh = bits & ~s->esr_pending;
    s->esr_pending |= bits;
    uint32_t lvt = s->lvt[LVT_ERROR];
    if (fresh && !(lvt & APIC_LVT_MASKED)) {
        int vector = (int)(lvt & APIC_LVT_VECTOR);
        if (vector >= 16) {
            apic_set_irr(s, vector, false);
        } else {
            s->esr_pending |= APIC_ESR_RECV_ILLEGAL; /* no second signal */
        }
    }
}

/* ---- local interrupt sources (LVT) ---- */

/* Deliver what LVT entry i says (a timer expiry, a LINT edge, ...).  ExtINT
 * is not an event: the 8259's level is looked at by extint_pending. */
static void lvt_deliver(APICState *s, int i)
{
    uint32_t lvt = s->lvt[i];
    if (lvt & APIC_LVT_MASKED) {
        return;
    }
    int mode = i == LVT_TIMER || i == LVT_ERROR ? APIC_DM_FIXED : lvt_mode(lvt);
    switch (mode) {
    case APIC_DM_FIXED:
        apic_set_irr(s, (int)(lvt & APIC_LVT_VECTOR),
                     (i == LVT_LINT0 || i == LVT_LINT1) && (lvt & APIC_LVT_LEVEL));
        break;
    case APIC_DM_NMI: irq_raise(&s->nmi); break;
    default: break; /* SMI (no SMM), INIT on a LINT pin (unused on a PC), ExtINT */
    }
}

static void apic_lint(void *opaque, int n, int level)
{
    APICState *s = opaque;
    bool rising = level && !s->lint_level[n];
    s->lint_level[n] = level != 0;
    if (n == 0 && !level) {
        s->extint_req = false; /* the 8259 withdrew its request */
    }
    int i = n == 0 ? LVT_LINT0 : LVT_LINT1;
    uint32_t lvt = s->lvt[i];
    if (!apic_hw_enabled(s) && n == 1 && rising) {
        irq_raise(&s->nmi); /* APIC off: LINT1 is the CPU's NMI pin */
    }
    if (apic_hw_enabled(s) && lvt_mode(lvt) != APIC_DM_EXTINT) {
        /* A level-triggered fixed LINT0 keeps its request while the pin
         * stays up and remote IRR is clear; edges otherwise. */
        bool level_fixed =
            i == LVT_LINT0 && lvt_mode(lvt) == APIC_DM_FIXED && (lvt & APIC_LVT_LEVEL);
        if (level_fixed ? (level && !(lvt & APIC_LVT_REMOTE_IRR) && !(lvt & APIC_LVT_MASKED))
                        : rising) {
            if (level_fixed) {
                s->lvt[i] |= APIC_LVT_REMOTE_IRR;
            }
            lvt_deliver(s, i);
        }
    }
    apic_update(s);
}

IRQ apic_lint0(APICState *s)
{
    return irq_make(apic_lint, s, 0);
}

IRQ apic_lint1(APICState *s)
{
    return irq_make(apic_lint, s, 1);
}

/* ---- the timer ---- */

static int timer_mode(const APICState *s)
{
    return (s->lvt[LVT_TIMER] >> APIC_TIMER_MODE_SHIFT) & 3;
}

/* Bus ticks of the divided clock since the count was loaded. */
static uint64_t timer_ticks(const APICState *s)
{
    int64_t now = timer_now(s->timers);
    uint64_t ns = now > s->timer_start ? (uint64_t)(now - s->timer_start) : 0;
    return ns >> s->timer_shift;
}

static uint32_t timer_current(const APICState *s)
{
    if (timer_mode(s) == APIC_TIMER_TSC_DEADLINE || s->timer_initial == 0) {
        return 0; /* the current count reads 0 in TSC-deadline mode (SDM 11.5.4.1) */
    }
    uint64_t ticks = timer_ticks(s);
    if (timer_mode(s) == APIC_TIMER_PERIODIC) {
        return s->timer_initial - (uint32_t)(ticks % s->timer_initial);
    }
    return ticks >= s->timer_initial ? 0 : s->timer_initial - (uint32_t)ticks;
}

/* Arm the Timer for the next time the count reaches zero. */
static void timer_arm(APICState *s)
{
    int mode = timer_mode(s);
    if (mode == APIC_TIMER_TSC_DEADLINE) {
        if (s->tsc_deadline == 0) {
            timer_del(&s->timer);
            return;
        }
        uint64_t tsc = s->hooks.tsc ? s->hooks.tsc(s->hooks.opaque) : 0;
        int64_t now = timer_now(s->timers);
        uint64_t wait = s->tsc_deadline > tsc ? s->tsc_deadline - tsc : 0;
        timer_mod(&s->timer,
                  wait > (uint64_t)(TIMER_NEVER - now) ? TIMER_NEVER - 1 : now + (int64_t)wait);
        return;
    }
    if (s->timer_initial == 0) {
        timer_del(&s->timer);
        return;
    }
    uint64_t period = (uint64_t)s->timer_initial << s->timer_shift;
    uint64_t periods = 1;
    if (mode == APIC_TIMER_PERIODIC) {
        /* The next multiple of the period after now: periods the machine
         * could not serve in time are lost, as on a busy CPU, never queued. */
        periods = timer_ticks(s) / s->timer_initial + 1;
    } else if (timer_ticks(s) >= s->timer_initial) {
        timer_del(&s->timer); /* one-shot already expired */
        return;
    }
    timer_mod(&s->timer, s->timer_start + (int64_t)(period * periods));
}

static void timer_expired(void *opaque)
{
    APICState *s = opaque;
    if (timer_mode(s) == APIC_TIMER_TSC_DEADLINE) {
        s->tsc_deadline = 0; /* the MSR reads 0 once the deadline passed */
    } else if (timer_mode(s) == APIC_TIMER_PERIODIC) {
        timer_arm(s);
    }
    lvt_deliver(s, LVT_TIMER);
}

/* Load the count (a write of the initial count): 0 stops the timer. */
static void timer_load(APICState *s, uint32_t count)
{
    s->timer_initial = count;
    s->timer_start = timer_now(s->timers);
    timer_arm(s);
}

/* DCR bits 3, 1:0 (SDM Figure 11-10): 000b divides by 2 ... 110b by 128, 111b by 1. */
static void timer_set_dcr(APICState *s, uint32_t value)
{
    uint32_t current = timer_current(s);
    s->dcr = value & 0xb;
    int code = (int)((s->dcr & 3) | ((s->dcr >> 1) & 4));
    s->timer_shift = (code + 1) & 7;
    if (s->timer_initial && timer_mode(s) != APIC_TIMER_TSC_DEADLINE && current) {
        /* Keep counting down from where the count is, at the new rate. */
        s->timer_start =
            timer_now(s->timers) - ((int64_t)(s->timer_initial - current) << s->timer_shift);
        timer_arm(s);
    }
}

static void timer_set_lvt(APICState *s, uint32_t value)
{
    int old_mode = timer_mode(s);
    s->lvt[LVT_TIMER] = value;
    int mode = timer_mode(s);
    if (mode == 3) {
        /* Mode 11b is reserved: keep bit 17 (periodic), drop bit 18. */
        s->lvt[LVT_TIMER] &= ~(1u << (APIC_TIMER_MODE_SHIFT + 1));
        mode = APIC_TIMER_PERIODIC;
    }
    if (mode != old_mode &&
        (mode == APIC_TIMER_TSC_DEADLINE || old_mode == APIC_TIMER_TSC_DEADLINE)) {
        /* Switching to or from TSC-deadline mode disarms the timer (SDM 11.5.4.1). */
        s->tsc_deadline = 0;
        s->timer_initial = 0;
        timer_del(&s->timer);
    } else if (mode != old_mode) {
        timer_arm(s);
    }
}

uint64_t apic_get_tsc_deadline(APICState *s)
{
    return timer_mode(s) == APIC_TIMER_TSC_DEADLINE ? s->tsc_deadline : 0;
}

void apic_set_tsc_deadline(APICState *s, uint64_t value)
{
    if (timer_mode(s) != APIC_TIMER_TSC_DEADLINE || !apic_hw_enabled(s)) {
        return;
    }
    s->tsc_deadline = value;
    timer_arm(s);
}

/* ---- INTA and EOI ---- */

int apic_ack(APICState *s)
{
    int v = deliverable_vector(s);
    if (v >= 0) {
        bit_clear(s->irr, v);
        bit_set(s->isr, v);
        apic_update(s);
        return v;
    }
    if (extint_pending(s)) {
        int vector = s->hooks.extint_ack ? s->hooks.extint_ack(s->hooks.opaque) : -1;
        if (!s->lint_level[0]) {
            s->extint_req = false; /* else the 8259 has more: INT stayed up */
        }
        apic_update(s);
        return vector;
    }
    /* INTR was raised for a vector whose class TPR has since covered: the
     * CPU gets the spurious vector and no ISR bit (SDM 11.9). */
    int pending = apic_hw_enabled(s) && apic_sw_enabled(s) ? highest_bit(s->irr) : -1;
    apic_update(s);
    return pending >= 0 ? (int)(s->svr & 0xff) : -1;
}

static void apic_eoi(APICState *s)
{
    int v = highest_bit(s->isr);
    if (v < 0) {
        return;
    }
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v)) {
        bit_clear(s->tmr, v);
        if (s->hooks.eoi) {
            s->hooks.eoi(s->hooks.opaque, v);
        }
    }
    /* A level-triggered fixed LINT0 of this vector may request again. */
    uint32_t lint0 = s->lvt[LVT_LINT0];
    if ((lint0 & APIC_LVT_REMOTE_IRR) && (int)(lint0 & APIC_LVT_VECTOR) == v) {
        s->lvt[LVT_LINT0] &= ~APIC_LVT_REMOTE_IRR;
        apic_lint(s, 0, s->lint_level[0]);
    }
    apic_update(s);
}

/* ---- interrupt messages ---- */

static bool apic_match(const APICState *s, bool logical, uint8_t dest)
{
    if (dest == 0xff) {
        return true; /* broadcast, physical or logical */
    }
    if (!logical) {
        return dest == s->id;
    }
    if ((s->dfr >> 4) == 0xf) {
        return (s->ldr & dest) != 0; /* flat model: a bitmap */
    }
    /* cluster model: cluster in 7:4, members in 3:0 */
    return (s->ldr >> 4) == (dest >> 4) && (s->ldr & dest & 0x0f) != 0;
}

static void apic_do_init(APICState *s);

/* Accept a message addressed to this APIC. */
static void apic_accept(APICState *s, int mode, int vector, bool level_trigger)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST: /* one CPU: it is always the lowest priority */
        if (apic_sw_enabled(s)) {
            apic_set_irr(s, vector, level_trigger);
        }
        break;
    case APIC_DM_NMI: irq_raise(&s->nmi); break;
    case APIC_DM_INIT: apic_do_init(s); break;
    case APIC_DM_EXTINT:
        /* The 8259 answers the INTA: only meaningful with its INT up. */
        s->extint_req = s->lint_level[0];
        apic_update(s);
        break;
    default: break; /* SMI: no SMM; STARTUP: the BSP never waits for one */
    }
}

void apic_deliver(APICState *s, int delivery_mode, int vector, bool level_trigger, bool logical,
                  uint8_t dest)
{
    if (apic_hw_enabled(s) && apic_match(s, logical, dest)) {
        apic_accept(s, delivery_mode, vector, level_trigger);
    }
}

/* A write to ICR low sends an IPI (SDM 11.6.1).  With one CPU only the
 * messages that address this APIC do anything. */
static void apic_send_ipi(APICState *s)
{
    int mode = lvt_mode(s->icr_lo);
    int vector = (int)(s->icr_lo & 0xff);
    int shorthand = (int)(s->icr_lo >> APIC_ICR_SHORT_SHIFT) & 3;
    bool level_trigger = (s->icr_lo & APIC_LVT_LEVEL) != 0;
    if (mode == APIC_DM_INIT && level_trigger && !(s->icr_lo & APIC_ICR_ASSERT)) {
        return; /* INIT level de-assert: arbitration IDs only */
    }
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        apic_error(s, APIC_ESR_SEND_ILLEGAL);
        return;
    }
    bool self;
    switch (shorthand) {
    case APIC_SH_SELF:
    case APIC_SH_ALL: self = true; break;
    case APIC_SH_OTHERS: self = false; break;
    default:
        self = apic_match(s, (s->icr_lo & APIC_ICR_LOGICAL) != 0, (uint8_t)(s->icr_hi >> 24));
        break;
    }
    if (self) {
        apic_accept(s, mode, vector, false);
    }
}

/* ---- registers ---- */

uint32_t apic_read(APICState *s, uint32_t offset)
{
    offset &= 0xff0;
    if (offset >= APIC_ISR && offset < APIC_ISR + 0x80) {
        return s->isr[(offset - APIC_ISR) >> 4];
    }
    if (offset >= APIC_TMR && offset < APIC_TMR + 0x80) {
        return s->tmr[(offset - APIC_TMR) >> 4];
    }
    if (offset >= APIC_IRR && offset < APIC_IRR + 0x80) {
        return s->irr[(offset - APIC_IRR) >> 4];
    }
    if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR) {
        return s->lvt[(offset - APIC_LVT_TIMER) >> 4];
    }
    switch (offset) {
    case APIC_ID: return (uint32_t)s->id << 24;
    case APIC_VERSION: return APIC_VERSION_VALUE;
    case APIC_TPR: return s->tpr;
    case APIC_APR: return 0; /* arbitration priority: no bus arbitration to model */
    case APIC_PPR: return apic_ppr(s);
    case APIC_EOI: return 0;
    case APIC_LDR: return (uint32_t)s->ldr << 24;
    case APIC_DFR: return ((uint32_t)s->dfr << 24) | 0x0fffffffu;
    case APIC_SVR: return s->svr;
    case APIC_ESR: return s->esr;
    case APIC_ICR_LO: return s->icr_lo & ~APIC_LVT_PENDING; /* sent at once: idle */
    case APIC_ICR_HI: return s->icr_hi;
    case APIC_TIMER_ICR: return s->timer_initial;
    case APIC_TIMER_CCR: return timer_current(s);
    case APIC_TIMER_DCR: return s->dcr;
    default: apic_error(s, APIC_ESR_ILLEGAL_ADDRESS); return 0;
    }
}

/* While the APIC is software-disabled every LVT keeps its mask set (SDM 11.4.7.2). */
static uint32_t lvt_write_value(const APICState *s, uint32_t value, uint32_t writable)
{
    value &= writable;
    if (!apic_sw_enabled(s)) {
        value |= APIC_LVT_MASKED;
    }
    return value;
}

static void apic_write_lvt(APICState *s, int i, uint32_t value)
{
    static const uint32_t writable[LVT_COUNT] = {LVT_TIMER_BITS, LVT_DM_BITS,   LVT_DM_BITS,
                                                 LVT_LINT_BITS,  LVT_LINT_BITS, LVT_ERROR_BITS};
    uint32_t v = lvt_write_value(s, value, writable[i]);
    if (i == LVT_TIMER) {
        timer_set_lvt(s, v);
    } else {
        /* Remote IRR is the APIC's, not the writer's. */
        s->lvt[i] = v | (s->lvt[i] & APIC_LVT_REMOTE_IRR);
        if ((i == LVT_LINT0 || i == LVT_LINT1) && !(v & APIC_LVT_MASKED)) {
            apic_lint(s, i - LVT_LINT0, s->lint_level[i - LVT_LINT0]);
        }
    }
    apic_update(s);
}

void apic_write(APICState *s, uint32_t offset, uint32_t value)
{
    offset &= 0xff0;
    if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR) {
        apic_write_lvt(s, (int)(offset - APIC_LVT_TIMER) >> 4, value);
        return;
    }
    switch (offset) {
    case APIC_ID: s->id = (uint8_t)(value >> 24); break;
    case APIC_TPR:
        s->tpr = (uint8_t)value;
        apic_update(s);
        break;
    case APIC_EOI: apic_eoi(s); break;
    case APIC_LDR: s->ldr = (uint8_t)(value >> 24); break;
    case APIC_DFR: s->dfr = (uint8_t)((value >> 24) | 0x0f); break;
    case APIC_SVR:
        s->svr = value & 0x3ff; /* vector, enable, focus check */
        if (!apic_sw_enabled(s)) {
            for (int i = 0; i < LVT_COUNT; i++) {
                s->lvt[i] |= APIC_LVT_MASKED;
            }
        }
        apic_update(s);
        break;
    case APIC_ESR:
        /* A write latches the errors seen since the last one (SDM 11.5.3). */
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        break;
    case APIC_ICR_LO:
        s->icr_lo = value & 0x000cdfffu;
        apic_send_ipi(s);
        break;
    case APIC_ICR_HI: s->icr_hi = value & 0xff000000u; break;
    case APIC_TIMER_ICR:
        if (timer_mode(s) != APIC_TIMER_TSC_DEADLINE) {
            timer_load(s, value);
        }
        break;
    case APIC_TIMER_DCR: timer_set_dcr(s, value); break;
    case APIC_VERSION:
    case APIC_APR:
    case APIC_PPR:
    case APIC_RRD:
    case APIC_TIMER_CCR: break; /* read-only */
    default:
        if ((offset >= APIC_ISR && offset < APIC_IRR + 0x80)) {
            break; /* ISR, TMR, IRR: read-only */
        }
        apic_error(s, APIC_ESR_ILLEGAL_ADDRESS);
        break;
    }
}

/* The APIC page: 32-bit registers on 16-byte boundaries.  Narrower reads
 * see their bytes of the register; narrower writes are dropped, as in QEMU
 * (the SDM leaves them undefined). */
static uint32_t apic_mmio_read(void *opaque, uint32_t offset, int size)
{
    APICState *s = opaque;
    uint32_t v = apic_read(s, offset);
    int shift = 8 * (int)(offset & 3);
    v >>= shift;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void apic_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    if (size == 4 && !(offset & 3)) {
        apic_write(opaque, offset, value);
    }
}

static const MMIOOps apic_mmio_ops = {apic_mmio_read, apic_mmio_write};

/* ---- base, reset, INIT ---- */

/* Everything INIT resets (SDM 11.4.7.3): all but the ID and the base. */
static void apic_reset_registers(APICState *s)
{
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xff;
    s->svr = 0xff;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    s->extint_req = false;
    for (int i = 0; i < LVT_COUNT; i++) {
        s->lvt[i] = APIC_LVT_MASKED;
    }
    if (s->base & APIC_BASE_BSP) {
        s->lvt[LVT_LINT0] = APIC_DM_EXTINT << APIC_LVT_MODE_SHIFT;
    }
    s->timer_initial = 0;
    s->dcr = 0;
    s->timer_shift = 1;
    s->tsc_deadline = 0;
    timer_del(&s->timer);
}

static void apic_do_init(APICState *s)
{
    apic_reset_registers(s);
    apic_update(s);
    if (s->hooks.init) {
        s->hooks.init(s->hooks.opaque);
    }
}

static void apic_map(APICState *s)
{
    phys_region_move(s->phys, s->region, (uint32_t)s->base & APIC_BASE_ADDR);
    phys_region_enable(s->phys, s->region, apic_hw_enabled(s));
    if (s->hooks.map_changed) {
        s->hooks.map_changed(s->hooks.opaque);
    }
}

uint64_t apic_get_base(APICState *s)
{
    return s->base;
}

bool apic_set_base(APICState *s, uint64_t value)
{
    /* BSP (8), enable (11), base 31:12 with 32-bit physical addresses. */
    if (value & ~0xfffff900ull) {
        return false;
    }
    bool was_enabled = apic_hw_enabled(s);
    /* The BSP flag is the hardware's: software cannot change it. */
    s->base = (value & ~(uint64_t)APIC_BASE_BSP) | (s->base & APIC_BASE_BSP);
    if (was_enabled && !apic_hw_enabled(s)) {
        /* Global disable is like a reset of the APIC's state (SDM 11.4.3);
         * re-enabling needs a RESET to restore everything, we restore the
         * register values of one. */
        apic_reset_registers(s);
    }
    apic_map(s);
    apic_update(s);
    return true;
}

bool apic_enabled(APICState *s)
{
    return apic_hw_enabled(s);
}

void apic_reset(APICState *s)
{
    s->base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP;
    s->id = s->initial_id;
    apic_reset_registers(s);
    apic_map(s);
    apic_update(s);
}

APICState *apic_new(PhysMem *phys, TimerList *timers, uint8_t apic_id, IRQ intr, IRQ nmi,
                    const APICHooks *hooks)
{
    APICState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->phys = phys;
    s->timers = timers;
    s->intr = intr;
    s->nmi = nmi;
    if (hooks) {
        s->hooks = *hooks;
    }
    s->initial_id = apic_id;
    /* Above every other region: the CPU's own APIC hides whatever is there. */
    s->region = phys_map_mmio(phys, APIC_DEFAULT_BASE, 0x1000, &apic_mmio_ops, s, 100);
    if (s->region < 0) {
        free(s);
        return NULL;
    }
    timer_init(&s->timer, timers, timer_expired, s);
    apic_reset(s);
    return s;
}

void apic_free(APICState *s)
{
    if (s) {
        timer_del(&s->timer);
        phys_region_enable(s->phys, s->region, false);
        free(s);
    }
}

int apic_info(APICState *s, char *buf, size_t len)
{
    int n =
        snprintf(buf, len,
                 "LAPIC id %u base 0x%llx %s, SVR %03x, TPR %02x, PPR %02x, ESR %02x\n"
                 "LVT timer %05x thermal %05x perf %05x LINT0 %05x LINT1 %05x error %05x\n"
                 "timer initial %u current %u DCR %x, TSC deadline %llu\n",
                 s->id, (unsigned long long)(s->base & APIC_BASE_ADDR),
                 apic_hw_enabled(s) ? "enabled" : "disabled", s->svr, s->tpr, apic_ppr(s), s->esr,
                 s->lvt[0], s->lvt[1], s->lvt[2], s->lvt[3], s->lvt[4], s->lvt[5], s->timer_initial,
                 timer_current(s), s->dcr, (unsigned long long)s->tsc_deadline);
    static const char *names[3] = {"IRR", "ISR", "TMR"};
    const uint32_t *regs[3] = {s->irr, s->isr, s->tmr};
    for (int r = 0; r < 3; r++) {
        size_t used = (size_t)n < len ? (size_t)n : len;
        n += snprintf(buf + used, len - used, "%s", names[r]);
        for (int v = 0; v < 256; v++) {
            if (bit_test(regs[r], v)) {
                used = (size_t)n < len ? (size_t)n : len;
                n += snprintf(buf + used, len - used, " %02x", v);
            }
        }
        used = (size_t)n < len ? (size_t)n : len;
        n += snprintf(buf + used, len - used, "\n");
    }
    return n;
}

/* ---- saved state ---- */

static bool apic_post_load(VMReader *r, void *opaque, uint32_t version)
{
    APICState *s = opaque;
    apic_map(s); /* the register page follows the restored base */
    return true;
}

static const VMField apic_fields[] = {
    VMS_BOOL(APICState, intr_level),
    VMS_U64(APICState, base),
    VMS_U8(APICState, id),
    VMS_U8(APICState, tpr),
    VMS_U8(APICState, ldr),
    VMS_U8(APICState, dfr),
    VMS_U32(APICState, svr),
    VMS_U32_ARRAY(APICState, isr, 8),
    VMS_U32_ARRAY(APICState, tmr, 8),
    VMS_U32_ARRAY(APICState, irr, 8),
    VMS_U32(APICState, esr),
    VMS_U32(APICState, esr_pending),
    VMS_U32(APICState, icr_lo),
    VMS_U32(APICState, icr_hi),
    VMS_U32_ARRAY(APICState, lvt, LVT_COUNT),
    VMS_BOOL_ARRAY(APICState, lint_level, 2),
    VMS_BOOL(APICState, extint_req),
    VMS_U32(APICState, timer_initial),
    VMS_U32(APICState, dcr),
    VMS_INT_RANGE(APICState, timer_shift, 0, 7),
    VMS_I64(APICState, timer_start),
    VMS_U64(APICState, tsc_deadline),
    VMS_TIMER(APICState, timer),
    VMS_END,
};

const VMStateDesc apic_vmstate = {
    .name = "apic",
    .version = 1,
    .min_version = 1,
    .fields = apic_fields,
    .post_load = apic_post_load,
};
