/*
 * The Intel MultiProcessor Specification 1.4 tables for a direct boot: the
 * MP floating pointer and the MP configuration table describing the CPU,
 * the PCI and ISA buses, the I/O APIC and where each interrupt source
 * reaches it, for kernels that look for them instead of (or before) the
 * ACPI MADT.  SeaBIOS builds its own for a BIOS boot.
 */
#ifndef BIOS_MPTABLE_H
#define BIOS_MPTABLE_H

#include <stdint.h>

#include "softmmu/phys.h"

#define MPTABLE_MAX_PCI_IRQS 32
#define MPTABLE_MAX_LEN      0x400 /* bytes the tables may take from base */

/* A PCI function's INTx pin and the ISA IRQ (= I/O APIC input) it reaches. */
typedef struct MPTablePCIIrq {
    uint8_t slot;    /* device number on bus 0 */
    uint8_t pin;     /* 1-4: INTA-INTD */
    uint8_t isa_irq; /* where its PIRQ line is steered */
} MPTablePCIIrq;

typedef struct MPTableConfig {
    uint32_t cpu_signature; /* CPUID.1:EAX */
    uint32_t cpu_features;  /* CPUID.1:EDX */
    uint16_t level_irqs;    /* ISA IRQs that are level-triggered, active high (the SCI) */
    int npci;
    MPTablePCIIrq pci[MPTABLE_MAX_PCI_IRQS];
} MPTableConfig;

/* Write the floating pointer at base (16-byte aligned, in a region the
 * guest scans: F0000h-FFFFFh) and the configuration table after it;
 * returns the bytes used. */
uint32_t mptable_build(PhysMem *pm, uint32_t base, const MPTableConfig *cfg);

#endif /* BIOS_MPTABLE_H */
