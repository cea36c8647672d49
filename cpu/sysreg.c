/*
 * System registers: CR0, CR3, CR4, the time-stamp counter, the MSRs and
 * CPUID.
 *
 * One rule ties this file together: report only what is implemented, and
 * implement what is reported.  The CPUID feature bits are the single source
 * of truth: a CR4 bit is writable exactly when the feature that defines it
 * is reported (CR4.PAE faults because PAE is not), and an MSR exists exactly
 * when its feature does.  Guests probe features through CPUID and then rely
 * on them without asking again, so a mismatch is a guest crash later on.
 *
 * The CPU is a P6 (family 6, model 8, "Pentium III" era) without MMX, SSE,
 * PAE or a local APIC, since none of those are implemented yet.
 *
 * Time-stamp counter: one tick per nanosecond of virtual time (a 1 GHz
 * TSC), taken from the machine's clock (CPUHooks.clock_ns), which is the
 * same clock the PIT, RTC and ACPI timer count.  So the TSC agrees with the
 * other timers Linux checks it against, runs through HLT, and is exact in
 * deterministic (-icount) runs, where virtual time is the instruction count.
 * A CPU with no machine around it (unit tests) counts instructions.
 *
 * Performance counters: a P6 has two, PERFCTR0/1 with their event selects
 * PERFEVTSEL0/1, and no CPUID bit says so (family 6 is the promise; Linux
 * probes them by writing a counter and reading it back).  They exist here as
 * registers that keep what is written, with the P6's write rule, but count
 * no events: popek models no microarchitecture to count.
 *
 * CPUID.1:ECX bit 31 (the hypervisor bit, reserved for that use by Intel
 * and AMD) is set and leaf 40000000h names popek, as QEMU names TCG, so a
 * guest knows its TSC and timers are emulated.
 */
#include "cpu/cpu.h"
#include "softmmu/mmu.h"

/* ---- CPUID ---- */

/* CPUID.1:EAX (and EDX after RESET, SDM Vol.3 9.1.4): family 6, model 8, stepping 3. */
#define CPU_SIGNATURE      0x00000683u
#define CPUID_MAX_BASIC    2u
#define CPUID_MAX_EXTENDED 0x80000004u
#define CPUID_HV_BASE      0x40000000u /* hypervisor leaves 40000000h-4FFFFFFFh */
#define CPUID_HV_MAX       0x40000000u /* popek has only the vendor leaf */
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/*
 * Leaf 2 cache and TLB descriptors (SDM Vol.2 CPUID, Table 3-12), those of a
 * Coppermine Pentium III: 01h ITLB 4K 32 entries, 02h ITLB 4M 2 entries,
 * 03h DTLB 4K 64 entries, 04h DTLB 4M 8 entries, 08h L1I 16K, 0Ch L1D 16K,
 * 82h L2 256K 8-way 32-byte lines.  AL = 01h: one CPUID(2) call suffices.
 */
static const uint32_t cpuid_leaf2[4] = {0x03020101u, 0, 0, 0x0c040882u};

static const char cpuid_brand[48] = "popek virtual CPU";
/* EBX, ECX, EDX of leaf 40000000h, 12 bytes and no NUL (QEMU's TCG says "TCGTCGTCGTCG"). */
static const char cpuid_hv_vendor[12] = {'p', 'o', 'p', 'e', 'k', 'p', 'o', 'p', 'e', 'k', 'p', 'o'};

uint32_t cpu_cpuid_features(const CPUState *cpu)
{
    /* Not reported: PAE, MCE/MCA (no machine-check architecture), APIC,
     * PSE-36, CLFSH, MMX, SSE, SSE2: none is implemented.  Nor VME (the
     * interrupt redirection bitmap is not implemented in interrupt delivery)
     * or DE (I/O breakpoints are not checked by IN/OUT). */
    return CPUID_FPU | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 |
           CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT | CPUID_FXSR;
}

/* Four bytes of a string as a register, least significant byte first. */
static uint32_t cpuid_chars(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 | (uint32_t)(uint8_t)s[2] << 16 |
           (uint32_t)(uint8_t)s[3] << 24;
}

static void cpuid_basic(CPUState *cpu, uint32_t leaf, uint32_t out[4])
{
    switch (leaf) {
    case 0:
        /* Vendor "GenuineIntel" in EBX, EDX, ECX order. */
        out[0] = CPUID_MAX_BASIC;
        out[1] = cpuid_chars("Genu");
        out[3] = cpuid_chars("ineI");
        out[2] = cpuid_chars("ntel");
        break;
    case 1:
        /* EBX: no brand index, no CLFLUSH size, APIC ID 0.  ECX: no SSE3 and
         * later; bit 31, running under a hypervisor. */
        out[0] = CPU_SIGNATURE;
        out[1] = 0;
        out[2] = CPUID_1_ECX_HYPERVISOR;
        out[3] = cpu_cpuid_features(cpu);
        break;
    default:
        for (int i = 0; i < 4; i++) {
            out[i] = cpuid_leaf2[i];
        }
        break;
    }
}

static void cpuid_extended(uint32_t leaf, uint32_t out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    if (leaf == 0x80000000u) {
        out[0] = CPUID_MAX_EXTENDED; /* Intel reserves EBX, ECX, EDX here: 0 */
    } else if (leaf >= 0x80000002u) {
        /* Processor brand string, 16 bytes per leaf (SDM Vol.2 CPUID, Figure 3-10). */
        const char *part = cpuid_brand + 16 * (leaf - 0x80000002u);
        for (int i = 0; i < 4; i++) {
            out[i] = cpuid_chars(part + 4 * i);
        }
    }
    /* 0x80000001: no extended features (no NX, no long mode). */
}

void cpu_cpuid(CPUState *cpu, uint32_t leaf, uint32_t regs_out[4])
{
    /* regs_out: EAX, EBX, ECX, EDX.  A leaf above the maximum basic or
     * extended leaf returns the data of the highest basic leaf (SDM Vol.2
     * CPUID, "If a value entered for CPUID.EAX is higher than the maximum
     * input value ..."). */
    if (leaf >= 0x80000000u && leaf <= CPUID_MAX_EXTENDED) {
        cpuid_extended(leaf, regs_out);
    } else if ((leaf & 0xf0000000u) == CPUID_HV_BASE) {
        /* The hypervisor range: EAX the highest leaf, EBX ECX EDX the
         * vendor; leaves above it read 0, as KVM and QEMU answer them. */
        regs_out[0] = regs_out[1] = regs_out[2] = regs_out[3] = 0;
        if (leaf == CPUID_HV_BASE) {
            regs_out[0] = CPUID_HV_MAX;
            regs_out[1] = cpuid_chars(cpuid_hv_vendor);
            regs_out[2] = cpuid_chars(cpuid_hv_vendor + 4);
            regs_out[3] = cpuid_chars(cpuid_hv_vendor + 8);
        }
    } else if (leaf <= CPUID_MAX_BASIC) {
        cpuid_basic(cpu, leaf, regs_out);
    } else {
        cpuid_basic(cpu, CPUID_MAX_BASIC, regs_out);
    }
}

/* ---- control registers ---- */

/* CR0 bits that exist on a P6; writes to the others are ignored (SDM Vol.3 2.5). */
#define CR0_IMPLEMENTED                                                                            \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |     \
     CR0_PG)

/*
 * MOV to CR0 (SDM Vol.2 MOV-Move to/from Control Registers, Vol.3 2.5).
 * Raises #GP(0) itself for the invalid combinations PG without PE and NW
 * without CD; LMSW and CLTS come through here too and can produce neither.
 */
void cpu_write_cr0(CPUState *cpu, uint32_t value)
{
    /* ET is hardwired to 1 on the P6 family: the x87 is always on chip. */
    uint32_t new_cr0 = (value & CR0_IMPLEMENTED) | CR0_ET;
    if ((new_cr0 & CR0_PG) && !(new_cr0 & CR0_PE)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if ((new_cr0 & CR0_NW) && !(new_cr0 & CR0_CD)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t changed = cpu->cr0 ^ new_cr0;
    cpu->cr0 = new_cr0;
    /* Paging on/off, the supervisor write-protect rule and the user/kernel
     * split (PE moves CPL) are baked into TLB entries (SDM Vol.3 4.10.4.1). */
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) {
        tlb_flush_all(cpu);
    }
    cpu_update_mode(cpu);
}

/*
 * MOV to CR3.  With 32-bit paging only bits 31:12 (the page directory),
 * PCD and PWT have a meaning; the rest are ignored, not reserved (SDM Vol.3
 * 4.3, Table 4-3), so any value is accepted and kept.  Global entries
 * survive (SDM Vol.3 4.10.4.1).
 */
void cpu_write_cr3(CPUState *cpu, uint32_t value)
{
    cpu->cr3 = value;
    tlb_flush_nonglobal(cpu);
}

/* The CR4 bits a guest may set: those whose defining feature CPUID reports.
 * PCE has no CPUID bit; it exists on every P6 (SDM Vol.3 2.5). */
static uint32_t cr4_writable(const CPUState *cpu)
{
    uint32_t features = cpu_cpuid_features(cpu);
    uint32_t bits = CR4_PCE;
    if (features & CPUID_VME) {
        bits |= CR4_VME | CR4_PVI;
    }
    if (features & CPUID_TSC) {
        bits |= CR4_TSD;
    }
    if (features & CPUID_DE) {
        bits |= CR4_DE;
    }
    if (features & CPUID_PSE) {
        bits |= CR4_PSE;
    }
    if (features & CPUID_PAE) {
        bits |= CR4_PAE;
    }
    if (features & CPUID_MCE) {
        bits |= CR4_MCE;
    }
    if (features & CPUID_PGE) {
        bits |= CR4_PGE;
    }
    if (features & CPUID_FXSR) {
        bits |= CR4_OSFXSR;
    }
    if (features & CPUID_SSE) {
        bits |= CR4_OSXMMEXCPT;
    }
    return bits;
}

/*
 * MOV to CR4: setting a reserved bit (here: any bit of a feature we do not
 * report) is #GP(0) (SDM Vol.2 MOV CR, Protected Mode Exceptions).  A change
 * of PSE or PGE changes how TLB entries are filled or kept, so flush them
 * all, global ones included (SDM Vol.3 4.10.4.1).
 */
void cpu_write_cr4(CPUState *cpu, uint32_t value)
{
    if (value & ~cr4_writable(cpu)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t changed = cpu->cr4 ^ value;
    cpu->cr4 = value;
    if (changed & (CR4_PSE | CR4_PGE | CR4_PAE)) {
        tlb_flush_all(cpu);
    }
    cpu_update_mode(cpu);
}

/* ---- time-stamp counter ---- */

static uint64_t tsc_base(CPUState *cpu)
{
    return cpu->hooks.clock_ns ? (uint64_t)cpu->hooks.clock_ns(cpu->hooks.opaque) : cpu->icount;
}

uint64_t cpu_rdtsc(CPUState *cpu)
{
    return tsc_base(cpu) + cpu->tsc_offset;
}

/* WRMSR to the TSC: before family 0Fh model 3 only the low 32 bits are
 * writable and a write clears the high 32 (SDM Vol.4, MSRs in the Pentium 4
 * and P6 processors: IA32_TIME_STAMP_COUNTER). */
static void tsc_write(CPUState *cpu, uint64_t value)
{
    cpu->tsc_offset = (value & 0xffffffffu) - tsc_base(cpu);
}

/* ---- MSRs ---- */

/* IA32_MTRRCAP: no variable ranges (VCNT = 0), fixed ranges (bit 8), WC (bit 10). */
#define MTRRCAP_VALUE 0x500u

/* IA32_MISC_ENABLE bits 11 and 12 read as 1 and ignore writes: no branch
 * trace store, no PEBS (SDM Vol.4 Table 2-2). */
#define MISC_ENABLE_FIXED ((1u << 11) | (1u << 12))

/* Memory types an MTRR may hold: UC, WC, WT, WP, WB (SDM Vol.3 Table 11-8). */
static bool mtrr_type_ok(uint32_t type)
{
    return type == 0 || type == 1 || type == 4 || type == 5 || type == 6;
}

/* Eight MTRR memory-type bytes (fixed ranges, SDM Vol.3 11.11.2.2). */
static bool mtrr_fixed_ok(uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        if (!mtrr_type_ok((uint32_t)(value >> (8 * i)) & 0xffu)) {
            return false;
        }
    }
    return true;
}

/* Eight PAT entries: 3-bit types, UC- (7) allowed, 2 and 3 reserved (SDM Vol.3 11.12.2). */
static bool pat_ok(uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        uint32_t entry = (uint32_t)(value >> (8 * i)) & 0xffu;
        if (entry > 7 || entry == 2 || entry == 3) {
            return false;
        }
    }
    return true;
}

/* Index into cpu->mtrr_fixed for a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t index)
{
    if (index == MSR_IA32_MTRR_FIX64K_00000) {
        return 0;
    }
    if (index == MSR_IA32_MTRR_FIX16K_80000 || index == MSR_IA32_MTRR_FIX16K_A0000) {
        return 1 + (int)(index - MSR_IA32_MTRR_FIX16K_80000);
    }
    if (index >= MSR_IA32_MTRR_FIX4K_C0000 && index < MSR_IA32_MTRR_FIX4K_C0000 + 8) {
        return 3 + (int)(index - MSR_IA32_MTRR_FIX4K_C0000);
    }
    return -1;
}

/* Index into cpu->mtrr_var, or -1. */
static int mtrr_var_index(uint32_t index)
{
    if (index >= MSR_IA32_MTRR_PHYSBASE0 && index < MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_VAR_STORED) {
        return (int)(index - MSR_IA32_MTRR_PHYSBASE0);
    }
    return -1;
}

/*
 * A variable-range pair (SDM Vol.3 11.11.2.3) with the P6's 36-bit
 * physical addresses: PHYSBASE holds a type in 7:0, PHYSMASK the valid bit
 * 11; bits 63:36 and the low bits between are reserved.
 */
static bool mtrr_var_ok(int slot, uint64_t value)
{
    if (slot % 2 == 0) {
        return !(value & 0xfffffff000000f00ull) && mtrr_type_ok((uint32_t)value & 0xffu);
    }
    return !(value & 0xfffffff0000007ffull);
}

bool cpu_rdmsr(CPUState *cpu, uint32_t index, uint64_t *value)
{
    int slot;
    switch (index) {
    case MSR_IA32_TSC: *value = cpu_rdtsc(cpu); return true;
    case MSR_IA32_PLATFORM_ID: *value = 0; return true;
    case MSR_IA32_APIC_BASE: *value = cpu->apic_base; return true;
    case MSR_IA32_BIOS_SIGN_ID: *value = 0; return true;
    case MSR_IA32_MTRRCAP: *value = MTRRCAP_VALUE; return true;
    case MSR_IA32_SYSENTER_CS: *value = cpu->sysenter_cs; return true;
    case MSR_IA32_SYSENTER_ESP: *value = cpu->sysenter_esp; return true;
    case MSR_IA32_SYSENTER_EIP: *value = cpu->sysenter_eip; return true;
    case MSR_IA32_MISC_ENABLE: *value = cpu->msr_misc_enable | MISC_ENABLE_FIXED; return true;
    case MSR_IA32_CR_PAT: *value = cpu->msr_pat; return true;
    case MSR_IA32_MTRR_DEF_TYPE: *value = cpu->mtrr_def_type; return true;
    case MSR_P6_PERFCTR0:
    case MSR_P6_PERFCTR0 + 1: *value = cpu->perf_ctr[index - MSR_P6_PERFCTR0]; return true;
    case MSR_P6_EVNTSEL0:
    case MSR_P6_EVNTSEL0 + 1: *value = cpu->perf_evtsel[index - MSR_P6_EVNTSEL0]; return true;
    default: break;
    }
    if ((slot = mtrr_fixed_index(index)) >= 0) {
        *value = cpu->mtrr_fixed[slot];
        return true;
    }
    if ((slot = mtrr_var_index(index)) >= 0) {
        *value = cpu->mtrr_var[slot];
        return true;
    }
    return false;
}

/* The fixed- and variable-range MTRRs.  A WRMSR to any MTRR invalidates
 * the TLBs, global entries included (SDM Vol.2 WRMSR). */
static bool wrmsr_mtrr_range(CPUState *cpu, uint32_t index, uint64_t value)
{
    int slot;
    if ((slot = mtrr_fixed_index(index)) >= 0) {
        if (!mtrr_fixed_ok(value)) {
            return false;
        }
        cpu->mtrr_fixed[slot] = value;
    } else if ((slot = mtrr_var_index(index)) >= 0) {
        if (!mtrr_var_ok(slot, value)) {
            return false;
        }
        cpu->mtrr_var[slot] = value;
    } else {
        return false;
    }
    tlb_flush_all(cpu);
    return true;
}

/* WRMSR: false (the caller raises #GP(0)) for an unknown or read-only MSR
 * or a value with reserved bits set (SDM Vol.2 WRMSR). */
bool cpu_wrmsr(CPUState *cpu, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_IA32_TSC: tsc_write(cpu, value); return true;
    case MSR_IA32_APIC_BASE:
        /* BSP (8), global enable (11), base 31:12; no APIC answers there. */
        if (value & ~0xfffff900ull) {
            return false;
        }
        cpu->apic_base = value;
        return true;
    case MSR_IA32_BIOS_SIGN_ID:
        return true; /* software writes 0 before reading the revision back */
    case MSR_IA32_SYSENTER_CS: cpu->sysenter_cs = (uint32_t)value; return true;
    case MSR_IA32_SYSENTER_ESP: cpu->sysenter_esp = (uint32_t)value; return true;
    case MSR_IA32_SYSENTER_EIP: cpu->sysenter_eip = (uint32_t)value; return true;
    case MSR_IA32_MISC_ENABLE:
        cpu->msr_misc_enable = value & ~(uint64_t)MISC_ENABLE_FIXED;
        return true;
    case MSR_IA32_CR_PAT:
        if (!pat_ok(value)) {
            return false;
        }
        cpu->msr_pat = value;
        return true;
    case MSR_IA32_MTRR_DEF_TYPE:
        /* Type in 7:0, FE (10), E (11); the rest reserved (SDM Vol.3 11.11.2.1). */
        if ((value & ~0xcffull) || !mtrr_type_ok((uint32_t)value & 0xffu)) {
            return false;
        }
        cpu->mtrr_def_type = value;
        tlb_flush_all(cpu);
        return true;
    case MSR_P6_PERFCTR0:
    case MSR_P6_PERFCTR0 + 1:
        /* Only bits 31:0 are written; bits 39:32 take bit 31's value (SDM
         * Vol.3 "Performance Monitoring, P6 Family Processors"). */
        cpu->perf_ctr[index - MSR_P6_PERFCTR0] =
            (uint64_t)(int64_t)(int32_t)(uint32_t)value & CPU_PERFCTR_MASK;
        return true;
    case MSR_P6_EVNTSEL0:
    case MSR_P6_EVNTSEL0 + 1:
        if (value >> 32) { /* bits 63:32 are reserved */
            return false;
        }
        cpu->perf_evtsel[index - MSR_P6_EVNTSEL0] = value;
        return true;
    default: break;
    }
    return wrmsr_mtrr_range(cpu, index, value);
}

void cpu_msr_reset(CPUState *cpu)
{
    /* RESET clears MTRRdefType (all MTRRs off, SDM Vol.3 11.11.5) and the
     * TSC (SDM Vol.3 17.17); the other MTRRs are undefined, we clear them. */
    cpu->msr_misc_enable = 0;
    cpu->mtrr_def_type = 0;
    for (int i = 0; i < MTRR_FIXED_COUNT; i++) {
        cpu->mtrr_fixed[i] = 0;
    }
    for (int i = 0; i < 2 * MTRR_VAR_STORED; i++) {
        cpu->mtrr_var[i] = 0;
    }
    for (int i = 0; i < 2; i++) {
        cpu->perf_evtsel[i] = 0; /* RESET clears the event selects and counters */
        cpu->perf_ctr[i] = 0;
    }
    cpu->tsc_offset = 0 - tsc_base(cpu);
}
