/*
 * MP tables (Intel MultiProcessor Specification 1.4, chapter 4).
 *
 * Bus 0 is PCI, bus 1 ISA.  ISA IRQ n reaches I/O APIC input n, IRQ0 input
 * 2, and the 8259's INT input 0 (an ExtINT source, so a kernel can find
 * the 8259 for virtual wire mode); IRQ 2 is the cascade and has no entry.
 * Each PCI function with an interrupt pin gets an entry naming the ISA IRQ
 * its PIRQ line is steered to, level-triggered and active low as PCI
 * interrupts are.  LINT0 takes the 8259 (ExtINT) and LINT1 NMI on every
 * CPU.  IMCRP is clear: the machine starts in virtual wire mode, with no
 * IMCR to switch.
 */
#include <string.h>

#include "bios/mptable.h"
#include "bios/table_bytes.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"

#define MPF_LEN        16
#define MPC_HEADER_LEN 44

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINTR = 3, MP_LINTR = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
/* Interrupt entry flags: polarity in 1:0, trigger mode in 3:2 (01 high/edge, 11 low/level). */
#define MP_FLAGS_CONFORM    0x0
#define MP_FLAGS_HIGH_LEVEL 0xd
#define MP_FLAGS_LOW_LEVEL  0xf
#define MP_BUS_PCI          0
#define MP_BUS_ISA          1

typedef struct MPWriter {
    uint8_t *buf; /* the configuration table */
    uint32_t len;
    uint16_t count; /* entries */
} MPWriter;

static uint8_t *entry(MPWriter *w, uint32_t size)
{
    uint8_t *e = w->buf + w->len;
    w->len += size;
    w->count++;
    return e;
}

static void intr_entry(MPWriter *w, int type, int kind, uint16_t flags, uint8_t bus, uint8_t irq,
                       uint8_t dest_id, uint8_t dest_pin)
{
    uint8_t *e = entry(w, 8);
    e[0] = (uint8_t)type;
    e[1] = (uint8_t)kind;
    put16(e + 2, flags);
    e[4] = bus;
    e[5] = irq;
    e[6] = dest_id;
    e[7] = dest_pin;
}

static void bus_entry(MPWriter *w, uint8_t id, const char name[6])
{
    uint8_t *e = entry(w, 8);
    e[0] = MP_BUS;
    e[1] = id;
    memcpy(e + 2, name, 6);
}

uint32_t mptable_build(PhysMem *pm, uint32_t base, const MPTableConfig *cfg)
{
    uint8_t out[MPTABLE_MAX_LEN];
    memset(out, 0, sizeof(out));
    MPWriter w = {out + MPF_LEN, MPC_HEADER_LEN, 0};

    uint8_t *cpu = entry(&w, 20);
    cpu[0] = MP_PROCESSOR;
    cpu[1] = 0;                         /* local APIC ID */
    cpu[2] = APIC_VERSION_VALUE & 0xff; /* local APIC version */
    cpu[3] = 0x03;                      /* enabled, bootstrap processor */
    put32(cpu + 4, cfg->cpu_signature);
    put32(cpu + 8, cfg->cpu_features);
    bus_entry(&w, MP_BUS_PCI, "PCI   ");
    bus_entry(&w, MP_BUS_ISA, "ISA   ");
    uint8_t *io = entry(&w, 8);
    io[0] = MP_IOAPIC;
    io[1] = PC_IOAPIC_ID;
    io[2] = IOAPIC_VERSION_VALUE;
    io[3] = 0x01; /* enabled */
    put32(io + 4, IOAPIC_DEFAULT_BASE);

    for (int i = 0; i < cfg->npci && i < MPTABLE_MAX_PCI_IRQS; i++) {
        const MPTablePCIIrq *p = &cfg->pci[i];
        /* PCI source IRQ: device number in 6:2, pin (0 = INTA) in 1:0. */
        intr_entry(&w, MP_IOINTR, MP_INT, MP_FLAGS_LOW_LEVEL, MP_BUS_PCI,
                   (uint8_t)((p->slot << 2) | ((p->pin - 1) & 3)), PC_IOAPIC_ID, p->isa_irq);
    }
    intr_entry(&w, MP_IOINTR, MP_EXTINT, MP_FLAGS_CONFORM, MP_BUS_ISA, 0, PC_IOAPIC_ID, 0);
    for (int irq = 0; irq < 16; irq++) {
        if (irq == 2) {
            continue;
        }
        uint16_t flags = (cfg->level_irqs >> irq) & 1 ? MP_FLAGS_HIGH_LEVEL : MP_FLAGS_CONFORM;
        intr_entry(&w, MP_IOINTR, MP_INT, flags, MP_BUS_ISA, (uint8_t)irq, PC_IOAPIC_ID,
                   (uint8_t)(irq == 0 ? 2 : irq));
    }
    intr_entry(&w, MP_LINTR, MP_EXTINT, MP_FLAGS_CONFORM, MP_BUS_ISA, 0, 0xff, 0);
    intr_entry(&w, MP_LINTR, MP_NMI, MP_FLAGS_CONFORM, MP_BUS_ISA, 0, 0xff, 1);

    uint8_t *h = w.buf;
    memcpy(h, "PCMP", 4);
    put16(h + 4, (uint16_t)w.len);
    h[6] = 4; /* specification revision 1.4 */
    memcpy(h + 8, "POPEK   ", 8);
    memcpy(h + 16, "POPEKPC     ", 12);
    put16(h + 34, w.count);
    put32(h + 36, APIC_DEFAULT_BASE);
    h[7] = checksum(h, w.len);

    uint8_t *f = out;
    memcpy(f, "_MP_", 4);
    put32(f + 4, base + MPF_LEN);
    f[8] = 1;  /* length in 16-byte units */
    f[9] = 4;  /* revision 1.4 */
    f[11] = 0; /* feature 1: a configuration table is present */
    f[12] = 0; /* feature 2: IMCRP clear, virtual wire mode */
    f[10] = checksum(f, MPF_LEN);

    uint32_t total = MPF_LEN + w.len;
    phys_load(pm, base, out, total);
    return total;
}
