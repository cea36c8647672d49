/*
 * CPUID (SDM Vol.2 CPUID), answered from the -cpu model (cpu/models.c)
 * and the feature words -cpu's +feat/-feat left (CPUState.cpuid).
 *
 * One rule: report only what is implemented, and implement what is
 * reported.  The feature words are the single source of truth: a CR4 bit
 * is writable exactly when the feature that defines it is reported, and an
 * MSR exists exactly when its feature does (cpu/sysreg.c).
 *
 * Two bits follow the machine as well as the model: APIC (CPUID.1:EDX.9)
 * is reported while the machine's local APIC is globally enabled
 * (IA32_APIC_BASE bit 11, SDM Vol.3 11.4.3), and the APIC timer's
 * TSC-deadline mode (CPUID.1:ECX.24) only with that APIC and SSE2, since
 * kernels order the deadline write with MFENCE.
 *
 * CPUID.1:ECX bit 31 (the hypervisor bit, reserved for that use by Intel
 * and AMD) is set and leaf 40000000h names popek, as QEMU names TCG, so a
 * guest knows its TSC and timers are emulated.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/models.h"
#include "softmmu/mmu.h"

/* CPUID.1:EBX bits 15:8: the CLFLUSH line size in 8-byte units (64 bytes). */
#define CPUID_CLFLUSH_LINE (8u << 8)
#define CPUID_HV_BASE      0x40000000u /* hypervisor leaves 40000000h-4FFFFFFFh */
#define CPUID_HV_MAX       0x40000000u /* popek has only the vendor leaf */
#define CPUID_ADDR_SIZES   0x80000008u /* physical and linear address sizes */
/* CPUID.1:EDX bits AMD repeats in CPUID.80000001h:EDX (FPU to PGE, MCA to
 * PSE-36, MMX, FXSR), as AMD's processors and QEMU's AMD models do. */
#define CPUID_AMD_ALIASES 0x0183f3ffu

/* EBX, ECX, EDX of leaf 40000000h, 12 bytes and no NUL (QEMU's TCG says "TCGTCGTCGTCG"). */
static const char cpuid_hv_vendor[12] = {'p', 'o', 'p', 'e', 'k', 'p',
                                         'o', 'p', 'e', 'k', 'p', 'o'};

/* The machine has a local APIC and it is globally enabled: CPUID.1:EDX.APIC
 * follows IA32_APIC_BASE bit 11 (SDM Vol.3 11.4.3). */
bool cpu_apic_enabled(const CPUState *cpu)
{
    uint64_t base;
    return cpu->hooks.msr_read &&
           cpu->hooks.msr_read(cpu->hooks.opaque, MSR_IA32_APIC_BASE, &base) && (base & (1u << 11));
}

uint32_t cpu_cpuid_features(const CPUState *cpu)
{
    uint32_t edx = cpu->cpuid.edx1;
    if (!cpu_apic_enabled(cpu)) {
        edx &= ~CPUID_APIC;
    }
    return edx;
}

unsigned cpu_maxphyaddr(const CPUState *cpu)
{
    return (cpu->cpuid.ext_edx & CPUID_EXT_LM) ? MMU_LM_MAXPHYADDR : 36u;
}

uint32_t cpu_signature(const CPUState *cpu)
{
    return cpu->cpuid.model->signature;
}

void cpu_set_cpuid(CPUState *cpu, const CPUIDConfig *cfg)
{
    cpu->cpuid = *cfg;
}

/* Four bytes of a string as a register, least significant byte first;
 * past the string's end, NULs. */
static uint32_t cpuid_chars(const char *s, size_t len, size_t at)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        uint32_t c = at + i < len ? (uint8_t)s[at + i] : 0;
        v |= c << (8 * i);
    }
    return v;
}

/* Leaf 4, deterministic cache parameters (SDM Vol.2 CPUID, Table 3-8):
 * one cache per subleaf, type 0 after the last.  One core, one thread,
 * self-initializing caches, no write-back-invalidate or inclusion
 * guarantees described (EDX 0). */
static void cpuid_leaf4(const CPUModel *m, uint32_t subleaf, uint32_t out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    if (subleaf >= CPU_MODEL_CACHES || !m->caches[subleaf].type) {
        return;
    }
    const CPUCacheInfo *c = &m->caches[subleaf];
    out[0] = c->type | (uint32_t)c->level << 5 | 1u << 8;
    out[1] = (uint32_t)(c->line - 1) | (uint32_t)(c->ways - 1) << 22;
    out[2] = c->sets - 1;
}

static void cpuid_basic(CPUState *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    const CPUModel *m = cpu->cpuid.model;
    out[0] = out[1] = out[2] = out[3] = 0;
    switch (leaf) {
    case 0: {
        /* The vendor ("GenuineIntel", "AuthenticAMD") in EBX, EDX, ECX order. */
        const char *vendor = m->vendor ? m->vendor : "GenuineIntel";
        out[0] = m->max_basic;
        out[1] = cpuid_chars(vendor, 12, 0);
        out[3] = cpuid_chars(vendor, 12, 4);
        out[2] = cpuid_chars(vendor, 12, 8);
        break;
    }
    case 1:
        /* EBX: no brand index, the CLFLUSH line size, APIC ID 0. */
        out[0] = m->signature;
        out[1] = (cpu->cpuid.edx1 & CPUID_CLFSH) ? CPUID_CLFLUSH_LINE : 0;
        out[3] = cpu_cpuid_features(cpu);
        out[2] = cpu->cpuid.ecx1;
        if (!cpu_apic_enabled(cpu) || !(out[3] & CPUID_SSE2)) {
            out[2] &= ~CPUID_ECX_TSC_DEADLINE;
        }
        break;
    case 2:
        for (int i = 0; i < 4; i++) {
            out[i] = m->leaf2[i];
        }
        break;
    case 4: cpuid_leaf4(m, subleaf, out); break;
    default: break; /* leaf 3: no processor serial number */
    }
}

/* The highest extended leaf: the model's, and with long mode reported at
 * least the address sizes leaf, which 64-bit kernels read. */
static uint32_t cpuid_max_ext(const CPUState *cpu)
{
    uint32_t max = cpu->cpuid.model->max_ext;
    if ((cpu->cpuid.ext_edx & CPUID_EXT_LM) && max < CPUID_ADDR_SIZES) {
        max = CPUID_ADDR_SIZES;
    }
    return max;
}

static void cpuid_extended(const CPUState *cpu, uint32_t leaf, uint32_t out[4])
{
    const CPUModel *m = cpu->cpuid.model;
    out[0] = out[1] = out[2] = out[3] = 0;
    if (leaf == 0x80000000u) {
        out[0] = cpuid_max_ext(cpu); /* Intel reserves EBX, ECX, EDX here: 0 */
    } else if (leaf == 0x80000001u) {
        out[2] = cpu->cpuid.ext_ecx;
        out[3] = cpu->cpuid.ext_edx;
        if (m->vendor && !strcmp(m->vendor, "AuthenticAMD")) {
            out[3] |= cpu_cpuid_features(cpu) & CPUID_AMD_ALIASES;
        } else if (!(cpu->efer & EFER_LMA)) {
            /* Intel reports SYSCALL only to 64-bit software: outside
             * IA-32e mode the bit reads 0 (SDM Vol.2 CPUID, 80000001h:
             * "SYSCALL/SYSRET available in 64-bit mode"), as QEMU's TCG
             * answers too, and SYSCALL is #UD there (cpu/syscall.c). */
            out[3] &= ~CPUID_EXT_SYSCALL;
        }
    } else if (leaf == CPUID_ADDR_SIZES) {
        /* EAX: physical address bits 7:0, linear 15:8 (SDM Vol.2 CPUID).
         * With long mode the 4-level walk's MAXPHYADDR and 48-bit linear
         * addresses; without it PAE's 36 and 32. */
        bool lm = (cpu->cpuid.ext_edx & CPUID_EXT_LM) != 0;
        out[0] = cpu_maxphyaddr(cpu) | (lm ? 48u : 32u) << 8;
    } else if (leaf >= 0x80000002u && leaf <= 0x80000004u && m->brand) {
        /* Processor brand string, 16 bytes per leaf, NUL-padded (SDM Vol.2
         * CPUID, Figure 3-10). */
        size_t len = strlen(m->brand);
        size_t at = 16 * (leaf - 0x80000002u);
        for (int i = 0; i < 4; i++) {
            out[i] = cpuid_chars(m->brand, len, at + 4 * (size_t)i);
        }
    }
}

void cpu_cpuid(CPUState *cpu, uint32_t leaf, uint32_t subleaf, uint32_t regs_out[4])
{
    /* regs_out: EAX, EBX, ECX, EDX.  A leaf above the maximum basic or
     * extended leaf returns the data of the highest basic leaf (SDM Vol.2
     * CPUID, "If a value entered for CPUID.EAX is higher than the maximum
     * input value ..."); on a model with no extended leaves that is every
     * leaf from 80000000h. */
    const CPUModel *m = cpu->cpuid.model;
    if (leaf >= 0x80000000u && leaf <= cpuid_max_ext(cpu)) {
        cpuid_extended(cpu, leaf, regs_out);
    } else if ((leaf & 0xf0000000u) == CPUID_HV_BASE) {
        /* The hypervisor range: EAX the highest leaf, EBX ECX EDX the
         * vendor; leaves above it read 0, as KVM and QEMU answer them. */
        regs_out[0] = regs_out[1] = regs_out[2] = regs_out[3] = 0;
        if (leaf == CPUID_HV_BASE && (cpu->cpuid.ecx1 & CPUID_ECX_HYPERVISOR)) {
            regs_out[0] = CPUID_HV_MAX;
            regs_out[1] = cpuid_chars(cpuid_hv_vendor, 12, 0);
            regs_out[2] = cpuid_chars(cpuid_hv_vendor, 12, 4);
            regs_out[3] = cpuid_chars(cpuid_hv_vendor, 12, 8);
        }
    } else if (leaf <= m->max_basic) {
        cpuid_basic(cpu, leaf, subleaf, regs_out);
    } else {
        cpuid_basic(cpu, m->max_basic, subleaf, regs_out);
    }
}
