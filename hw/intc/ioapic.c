/*
 * The 82093AA I/O APIC (datasheet order 290566, section 3).
 *
 * Edge-triggered inputs send a message on each rising edge while unmasked;
 * an edge that arrives while the entry is masked is lost (3.2.4, "Interrupt
 * Mask").  A level-triggered input sends one message while it is asserted
 * and sets remote IRR; the local APIC's EOI for that vector clears remote
 * IRR and, if the line is still asserted, the message goes again.
 *
 * Polarity is the wire's business: the board's lines carry "asserted" as
 * level 1 whatever their electrical sense, so the polarity bit is stored and
 * read back but does not invert the line (QEMU does the same; the MADT
 * describes its PCI interrupts as active high for that reason).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"
#include "migration/vmstate.h"

struct IOAPICState {
    PhysMem *phys;             /* where the register window is mapped */
    int region;                /* the window in phys */
    IOAPICDeliverFn deliver;   /* messages to the local APIC(s) */
    void *opaque;              /* deliver's context */
    uint8_t initial_id;        /* ID at reset */
    uint8_t id;                /* ID register bits 27:24 */
    uint8_t regsel;            /* IOREGSEL */
    uint32_t level;            /* input pins asserted, one bit per pin */
    uint64_t rte[IOAPIC_PINS]; /* redirection table */
};

static bool rte_level(uint64_t rte)
{
    return (rte & IOAPIC_RTE_LEVEL) != 0;
}

static void ioapic_send(IOAPICState *s, int pin)
{
    uint64_t rte = s->rte[pin];
    int mode = (int)(rte >> IOAPIC_RTE_MODE_SHIFT) & 7;
    bool level = rte_level(rte);
    if (level && mode != APIC_DM_EXTINT) {
        s->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
    }
    if (s->deliver) {
        s->deliver(s->opaque, mode, (int)(rte & IOAPIC_RTE_VECTOR), level,
                   (rte & IOAPIC_RTE_LOGICAL) != 0, (uint8_t)(rte >> IOAPIC_RTE_DEST_SHIFT));
    }
}

/* A level-triggered entry whose line is asserted sends unless masked or
 * waiting for its EOI. */
static void ioapic_service_level(IOAPICState *s, int pin)
{
    uint64_t rte = s->rte[pin];
    if (rte_level(rte) && (s->level & (1u << pin)) && !(rte & IOAPIC_RTE_MASKED) &&
        !(rte & IOAPIC_RTE_REMOTE_IRR)) {
        ioapic_send(s, pin);
    }
}

void ioapic_set_irq(IOAPICState *s, int pin, int level)
{
    if (pin < 0 || pin >= IOAPIC_PINS) {
        return;
    }
    uint32_t bit = 1u << pin;
    bool rising = level && !(s->level & bit);
    if (level) {
        s->level |= bit;
    } else {
        s->level &= ~bit;
    }
    uint64_t rte = s->rte[pin];
    if (rte_level(rte)) {
        ioapic_service_level(s, pin);
    } else if (rising && !(rte & IOAPIC_RTE_MASKED)) {
        ioapic_send(s, pin);
    }
}

static void ioapic_irq_handler(void *opaque, int n, int level)
{
    ioapic_set_irq(opaque, n, level);
}

IRQ ioapic_input(IOAPICState *s, int pin)
{
    return irq_make(ioapic_irq_handler, s, pin);
}

void ioapic_eoi(IOAPICState *s, int vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t rte = s->rte[pin];
        if ((rte & IOAPIC_RTE_REMOTE_IRR) && (int)(rte & IOAPIC_RTE_VECTOR) == vector) {
            s->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
            ioapic_service_level(s, pin);
        }
    }
}

static uint32_t ioapic_reg_read(IOAPICState *s)
{
    uint8_t reg = s->regsel;
    if (reg >= IOAPIC_REG_REDTBL && reg < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
        uint64_t rte = s->rte[(reg - IOAPIC_REG_REDTBL) >> 1];
        return (reg & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    switch (reg) {
    case IOAPIC_REG_ID: return (uint32_t)s->id << 24;
    case IOAPIC_REG_VER: return ((uint32_t)(IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION_VALUE;
    case IOAPIC_REG_ARB: return (uint32_t)s->id << 24;
    default: return 0; /* reserved registers read as 0 */
    }
}

static void ioapic_reg_write(IOAPICState *s, uint32_t value)
{
    uint8_t reg = s->regsel;
    if (reg == IOAPIC_REG_ID) {
        s->id = (uint8_t)((value >> 24) & 0x0f);
        return;
    }
    if (reg < IOAPIC_REG_REDTBL || reg >= IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
        return; /* version, arbitration and reserved registers are read-only */
    }
    int pin = (reg - IOAPIC_REG_REDTBL) >> 1;
    uint64_t rte = s->rte[pin];
    if (reg & 1) {
        rte = (rte & 0xffffffffull) | ((uint64_t)(value & 0xff000000u) << 32);
    } else {
        /* Delivery status and remote IRR are read-only. */
        const uint64_t ro = IOAPIC_RTE_PENDING | IOAPIC_RTE_REMOTE_IRR;
        rte = (rte & (0xffffffff00000000ull | ro)) | (value & 0x1ffffu & ~ro);
        if (!rte_level(rte)) {
            rte &= ~IOAPIC_RTE_REMOTE_IRR; /* meaningless for edge entries */
        }
    }
    s->rte[pin] = rte;
    ioapic_service_level(s, pin); /* an unmasked, asserted level line sends now */
}

uint32_t ioapic_mmio_read(void *opaque, uint32_t offset, int size)
{
    IOAPICState *s = opaque;
    switch (offset & ~3u) {
    case 0x00: return s->regsel;
    case 0x10: {
        uint32_t v = ioapic_reg_read(s) >> (8 * (offset & 3));
        return size == 4 ? v : v & ((1u << (8 * size)) - 1);
    }
    default: return 0;
    }
}

void ioapic_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    IOAPICState *s = opaque;
    if (offset == 0x00) {
        s->regsel = (uint8_t)value;
    } else if (offset == 0x10 && size == 4) {
        ioapic_reg_write(s, value);
    }
}

static const MMIOOps ioapic_mmio_ops = {ioapic_mmio_read, ioapic_mmio_write};

void ioapic_reset(IOAPICState *s)
{
    s->id = s->initial_id;
    s->regsel = 0;
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        s->rte[pin] = IOAPIC_RTE_MASKED;
    }
}

IOAPICState *ioapic_new(PhysMem *phys, uint8_t id, IOAPICDeliverFn deliver, void *opaque)
{
    IOAPICState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->phys = phys;
    s->deliver = deliver;
    s->opaque = opaque;
    s->initial_id = id & 0x0f;
    s->region = phys_map_mmio(phys, IOAPIC_DEFAULT_BASE, 0x1000, &ioapic_mmio_ops, s, 10);
    if (s->region < 0) {
        free(s);
        return NULL;
    }
    ioapic_reset(s);
    return s;
}

void ioapic_free(IOAPICState *s)
{
    if (s) {
        phys_region_enable(s->phys, s->region, false);
        free(s);
    }
}

int ioapic_info(IOAPICState *s, char *buf, size_t len)
{
    int n = snprintf(buf, len, "IOAPIC id %u, input levels %06x\n", s->id, s->level);
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t rte = s->rte[pin];
        if (rte == IOAPIC_RTE_MASKED) {
            continue;
        }
        size_t used = (size_t)n < len ? (size_t)n : len;
        n += snprintf(buf + used, len - used,
                      "  pin %2d: vector 0x%02x mode %d %s %s%s%s dest 0x%02x\n", pin,
                      (unsigned)(rte & 0xff), (int)(rte >> 8) & 7,
                      (rte & IOAPIC_RTE_LOGICAL) ? "logical" : "physical",
                      rte_level(rte) ? "level" : "edge", (rte & IOAPIC_RTE_MASKED) ? " masked" : "",
                      (rte & IOAPIC_RTE_REMOTE_IRR) ? " remote-irr" : "",
                      (unsigned)(rte >> IOAPIC_RTE_DEST_SHIFT));
    }
    return n;
}

/* ---- saved state ---- */

static const VMField ioapic_fields[] = {
    VMS_U8(IOAPICState, id),
    VMS_U8(IOAPICState, regsel),
    VMS_U32(IOAPICState, level),
    VMS_U64_ARRAY(IOAPICState, rte, IOAPIC_PINS),
    VMS_END,
};

const VMStateDesc ioapic_vmstate = {
    .name = "ioapic",
    .version = 1,
    .min_version = 1,
    .fields = ioapic_fields,
};
