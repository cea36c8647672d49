/*
 * ACPI PM1a event/control registers and PM timer (see acpi_pm.h).
 *
 * The PM timer is not a counter we tick: its value is computed from virtual
 * time at each read, so it costs nothing while nobody looks.  TMR_STS (set
 * whenever bit 23 of the timer changes: "Power Management Timer") is likewise worked out
 * when PM1_STS is read; a Timer is armed for the next change only while
 * TMR_EN asks for an SCI.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "hw/acpi/acpi_pm.h"
#include "migration/vmstate.h"

#define ACPI_PM1_EN_MASK                                                                           \
    (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define ACPI_PM_TMR_BITS 24

struct AcpiPMState {
    IOPortMap *io;
    TimerList *tl;
    Timer overflow_timer; /* next TMR_STS edge, armed while TMR_EN is set */
    IRQ sci;
    void (*poweroff)(void *opaque);
    void *opaque;

    uint16_t sts;          /* PM1_STS */
    uint16_t en;           /* PM1_EN */
    uint16_t cnt;          /* PM1_CNT without the write-only SLP_EN */
    uint64_t tmr_msb_seen; /* timer ticks >> 23 when TMR_STS was last brought up to date */
    int sci_level;
};

/* Whole PM timer ticks since virtual time 0 (no overflow for ~80 years). */
static uint64_t acpi_pm_ticks(const AcpiPMState *s)
{
    int64_t ns = timer_now(s->tl);
    uint64_t sec = (uint64_t)(ns / NS_PER_SEC);
    uint64_t rem = (uint64_t)(ns % NS_PER_SEC);

    return sec * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

/* The first virtual ns at which the timer reads 'ticks'. */
static int64_t acpi_pm_ticks_to_ns(uint64_t ticks)
{
    uint64_t sec = ticks / ACPI_PM_TIMER_HZ;
    uint64_t rem = ticks % ACPI_PM_TIMER_HZ;

    return (int64_t)(sec * NS_PER_SEC +
                     (rem * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

static void acpi_pm_update_tmr_sts(AcpiPMState *s)
{
    uint64_t msb = acpi_pm_ticks(s) >> (ACPI_PM_TMR_BITS - 1);

    if (msb != s->tmr_msb_seen) {
        s->tmr_msb_seen = msb;
        s->sts |= ACPI_PM1_TMR;
    }
}

static void acpi_pm_update_sci(AcpiPMState *s)
{
    int level = (s->cnt & ACPI_PM1_CNT_SCI_EN) && (s->sts & s->en & ACPI_PM1_EN_MASK);

    if (level != s->sci_level) {
        s->sci_level = level;
        irq_set_level(&s->sci, level);
    }
}

static void acpi_pm_arm_overflow(AcpiPMState *s)
{
    if (s->en & ACPI_PM1_TMR) {
        uint64_t next = (s->tmr_msb_seen + 1) << (ACPI_PM_TMR_BITS - 1);

        timer_mod(&s->overflow_timer, acpi_pm_ticks_to_ns(next));
    } else {
        timer_del(&s->overflow_timer);
    }
}

static void acpi_pm_overflow_cb(void *opaque)
{
    AcpiPMState *s = opaque;

    acpi_pm_update_tmr_sts(s);
    acpi_pm_arm_overflow(s);
    acpi_pm_update_sci(s);
}

static uint8_t acpi_pm_read_byte(AcpiPMState *s, int offset, uint32_t tmr)
{
    switch (offset) {
    case 0: return (uint8_t)s->sts;
    case 1: return (uint8_t)(s->sts >> 8);
    case 2: return (uint8_t)s->en;
    case 3: return (uint8_t)(s->en >> 8);
    case 4: return (uint8_t)s->cnt;
    case 5: return (uint8_t)(s->cnt >> 8);
    case 8: return (uint8_t)tmr;
    case 9: return (uint8_t)(tmr >> 8);
    case 10: return (uint8_t)(tmr >> 16);
    default: return 0; /* reserved bytes and timer bits 31:24 */
    }
}

/* Bytes of a wider access are read from one snapshot of the timer. */
static uint32_t acpi_pm_ioport_read(void *opaque, uint16_t port, int size)
{
    AcpiPMState *s = opaque;
    int offset = port - ACPI_PM_BASE;
    uint32_t tmr = (uint32_t)(acpi_pm_ticks(s) & ((1u << ACPI_PM_TMR_BITS) - 1));
    uint32_t val = 0;

    acpi_pm_update_tmr_sts(s);
    for (int i = 0; i < size; i++) {
        uint8_t b = offset + i < ACPI_PM_IO_LEN ? acpi_pm_read_byte(s, offset + i, tmr) : 0xff;

        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

/* PM1_CNT high byte: SLP_TYP is kept, SLP_EN starts the transition. */
static void acpi_pm_write_cnt_high(AcpiPMState *s, uint8_t b)
{
    uint16_t v = (uint16_t)(b << 8);

    s->cnt = (s->cnt & ~ACPI_PM1_CNT_SLP_TYP) | (v & ACPI_PM1_CNT_SLP_TYP);
    if (v & ACPI_PM1_CNT_SLP_EN) {
        int typ = (s->cnt & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

        if (typ == ACPI_PM_SLP_TYP_S5 && s->poweroff) {
            s->poweroff(s->opaque);
        }
    }
}

static void acpi_pm_write_byte(AcpiPMState *s, int offset, uint8_t b)
{
    switch (offset) {
    case 0:
    case 1:
        acpi_pm_update_tmr_sts(s);
        s->sts &= ~(uint16_t)(b << (8 * offset)); /* write 1 to clear */
        break;
    case 2:
    case 3: {
        int shift = 8 * (offset - 2);

        s->en = (uint16_t)((s->en & ~(0xff << shift)) | ((b << shift) & ACPI_PM1_EN_MASK));
        break;
    }
    case 4:
        /* SCI_EN stays 1 (no SMI_CMD); GBL_RLS would signal a BIOS we do not have. */
        s->cnt = (s->cnt & ~ACPI_PM1_CNT_BM_RLD) | (b & ACPI_PM1_CNT_BM_RLD);
        break;
    case 5: acpi_pm_write_cnt_high(s, b); break;
    default: break; /* the PM timer is read-only */
    }
}

static void acpi_pm_ioport_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    AcpiPMState *s = opaque;
    int offset = port - ACPI_PM_BASE;

    for (int i = 0; i < size && offset + i < ACPI_PM_IO_LEN; i++) {
        acpi_pm_write_byte(s, offset + i, (uint8_t)(value >> (8 * i)));
    }
    acpi_pm_arm_overflow(s);
    acpi_pm_update_sci(s);
}

AcpiPMState *acpi_pm_new(IOPortMap *io, TimerList *tl, IRQ sci, void (*poweroff)(void *opaque),
                         void *opaque)
{
    AcpiPMState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    s->io = io;
    s->tl = tl;
    s->sci = sci;
    s->poweroff = poweroff;
    s->opaque = opaque;
    timer_init(&s->overflow_timer, tl, acpi_pm_overflow_cb, s);
    acpi_pm_reset(s);
    if (ioport_register(io, ACPI_PM_BASE, ACPI_PM_IO_LEN, 1 | 2 | 4, acpi_pm_ioport_read,
                        acpi_pm_ioport_write, s) < 0) {
        timer_del(&s->overflow_timer);
        free(s);
        return NULL;
    }
    return s;
}

void acpi_pm_free(AcpiPMState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, ACPI_PM_BASE, ACPI_PM_IO_LEN);
    timer_del(&s->overflow_timer);
    free(s);
}

void acpi_pm_reset(AcpiPMState *s)
{
    s->sts = 0;
    s->en = 0;
    s->cnt = ACPI_PM1_CNT_SCI_EN;
    s->tmr_msb_seen = acpi_pm_ticks(s) >> (ACPI_PM_TMR_BITS - 1);
    timer_del(&s->overflow_timer);
    s->sci_level = 0;
    irq_set_level(&s->sci, 0);
}

void acpi_pm_power_button(AcpiPMState *s)
{
    s->sts |= ACPI_PM1_PWRBTN;
    acpi_pm_update_sci(s);
}

/* ---- saved state ---- */

static const VMField acpi_pm_fields[] = {
    VMS_U16(AcpiPMState, sts),
    VMS_U16(AcpiPMState, en),
    VMS_U16(AcpiPMState, cnt),
    VMS_U64(AcpiPMState, tmr_msb_seen),
    VMS_INT_RANGE(AcpiPMState, sci_level, 0, 1),
    VMS_TIMER(AcpiPMState, overflow_timer),
    VMS_END,
};

const VMStateDesc acpi_pm_vmstate = {
    .name = "acpi_pm",
    .version = 1,
    .min_version = 1,
    .fields = acpi_pm_fields,
};
