/*
 * System registers: CR0, CR3, CR4, the time-stamp counter and the MSRs.
 * (CPUID is cpu/cpuid.c, the models it answers for cpu/models.c.)
 *
 * One rule ties this file together: report only what is implemented, and
 * implement what is reported.  The CPUID feature words (CPUState.cpuid)
 * are the single source of truth: a CR4 bit is writable exactly when the
 * feature that defines it is reported, and an MSR exists exactly when its
 * feature does (SYSENTER MSRs with SEP, the MTRRs with MTRR, IA32_PAT with
 * PAT, IA32_EFER with NX, SYSCALL or LM, the SYSCALL MSRs with SYSCALL, the
 * segment-base MSRs with LM, TSC_AUX with RDTSCP).  Guests probe features through CPUID and then
 * rely on them without asking again, so a mismatch is a guest crash later.
 *
 * PAE paging (CR4.PAE with CR0.PG): MOV CR3, and MOV CR0/CR4 that leave
 * PAE paging on while changing PG, CD, NW, PAE, PGE or PSE, load the four
 * PDPTEs (SDM Vol.3 4.4.1); a reserved bit in a present one makes the
 * write #GP(0) and leaves the register as it was.
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
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/models.h"
#include "softmmu/mmu.h"

/* ---- control registers ---- */

/* CR0 bits that exist on a P6; writes to the others are ignored (SDM Vol.3 2.5). */
#define CR0_IMPLEMENTED                                                                            \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |     \
     CR0_PG)

static void cpu_load_pdptes(CPUState *cpu, uint64_t cr3);

/*
 * MOV to CR0 (SDM Vol.2 MOV-Move to/from Control Registers, Vol.3 2.5).
 * Raises #GP(0) itself for the invalid combinations PG without PE and NW
 * without CD; LMSW and CLTS come through here too and can produce neither.
 *
 * Long mode (SDM Vol.3 9.8.5): setting PG with EFER.LME set activates
 * IA-32e mode (EFER.LMA), which needs CR4.PAE and a CS with L clear, else
 * #GP(0); clearing PG deactivates it, which is #GP(0) from 64-bit mode
 * (only compatibility mode may leave).  Under 4-level paging there are no
 * PDPTE registers to load.
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
    uint64_t efer = cpu->efer;
    if ((changed & CR0_PG) && (new_cr0 & CR0_PG) && (efer & EFER_LME)) {
        if (!(cpu->cr4 & CR4_PAE) || (cpu->seg[SEG_CS].attr & DESC_L)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        efer |= EFER_LMA;
    } else if ((changed & CR0_PG) && !(new_cr0 & CR0_PG) && (efer & EFER_LMA)) {
        if (cpu->hflags & HF_CS64) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        efer &= ~(uint64_t)EFER_LMA;
    }
    if ((new_cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) && !(efer & EFER_LMA) &&
        (changed & (CR0_PG | CR0_CD | CR0_NW))) {
        cpu_load_pdptes(cpu, cpu->cr3);
        changed |= CR0_PG; /* new PDPTEs: nothing cached from the old ones may stay */
    }
    cpu->cr0 = new_cr0;
    cpu->efer = efer;
    /* Paging on/off, the supervisor write-protect rule and the user/kernel
     * split (PE moves CPL) are baked into TLB entries (SDM Vol.3 4.10.4.1). */
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) {
        tlb_flush_all(cpu);
    }
    cpu_update_mode(cpu);
}

/* Load the PDPTEs from the PDPT at cr3, or #GP(0) with nothing changed. */
static void cpu_load_pdptes(CPUState *cpu, uint64_t cr3)
{
    uint64_t pdpte[4];
    if (!paging_pae_load_pdptes(cpu, (uint32_t)cr3, pdpte)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    memcpy(cpu->pdpte, pdpte, sizeof(pdpte));
}

/*
 * MOV to CR3.  With 32-bit paging only bits 31:12 (the page directory),
 * PCD and PWT have a meaning; the rest are ignored, not reserved (SDM Vol.3
 * 4.3, Table 4-3), so any value is accepted and kept.  Under PAE paging
 * the PDPTEs load from bits 31:5.  In IA-32e mode CR3 is 64 bits wide and
 * bits 63:MAXPHYADDR are reserved (#GP(0), SDM Vol.3 4.5 Table 4-12).
 * Outside 64-bit mode the callers pass 32-bit values.  Global entries
 * survive (SDM Vol.3 4.10.4.1).
 */
void cpu_write_cr3(CPUState *cpu, uint64_t value)
{
    uint64_t old_cr3 = cpu->cr3;
    uint64_t old_pdpte[4];
    memcpy(old_pdpte, cpu->pdpte, sizeof(old_pdpte));
    if (cpu->efer & EFER_LMA) {
        if (value >> MMU_LM_MAXPHYADDR) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
    } else if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE)) {
        cpu_load_pdptes(cpu, value);
    }
    cpu->cr3 = value;
    tlb_switch_cr3(cpu, old_cr3, old_pdpte); /* flushes the non-global entries */
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
    /* IA-32e mode needs PAE: clearing it there is #GP(0) (SDM Vol.2 MOV CR). */
    if ((cpu->efer & EFER_LMA) && !(value & CR4_PAE)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t changed = cpu->cr4 ^ value;
    if ((cpu->cr0 & CR0_PG) && (value & CR4_PAE) && !(cpu->efer & EFER_LMA) &&
        (changed & (CR4_PAE | CR4_PGE | CR4_PSE))) {
        cpu_load_pdptes(cpu, cpu->cr3);
    }
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

/* IA32_MTRRCAP: eight variable ranges (VCNT), fixed ranges (bit 8), WC
 * (bit 10), as on the P6 and the Pentium 4 (SDM Vol.3 11.11.1). */
#define MTRRCAP_VALUE (0x500u | MTRR_VAR_STORED)

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
 * A variable-range pair (SDM Vol.3 11.11.2.3): PHYSBASE holds a type in
 * 7:0, PHYSMASK the valid bit 11; bits 63:MAXPHYADDR (36 on the P6, 40 on
 * a model with long mode, which SeaBIOS fills in from CPUID 80000008h)
 * and the low bits between are reserved.
 */
static bool mtrr_var_ok(const CPUState *cpu, int slot, uint64_t value)
{
    uint64_t above = ~0ull << cpu_maxphyaddr(cpu);
    if (slot % 2 == 0) {
        return !(value & (above | 0xf00u)) && mtrr_type_ok((uint32_t)value & 0xffu);
    }
    return !(value & (above | 0x7ffu));
}

/* Whether MSR index exists on this model: the architectural MSRs of a
 * feature exist exactly when CPUID reports it (SDM Vol.4 Table 2-2). */
static bool msr_exists(const CPUState *cpu, uint32_t index)
{
    uint32_t edx = cpu->cpuid.edx1;
    switch (index) {
    case MSR_IA32_SYSENTER_CS:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP: return (edx & CPUID_SEP) != 0;
    case MSR_IA32_CR_PAT: return (edx & CPUID_PAT) != 0;
    case MSR_IA32_EFER:
        return (cpu->cpuid.ext_edx & (CPUID_EXT_NX | CPUID_EXT_SYSCALL | CPUID_EXT_LM)) != 0;
    case MSR_IA32_MTRRCAP:
    case MSR_IA32_MTRR_DEF_TYPE: return (edx & CPUID_MTRR) != 0;
    default:
        if (mtrr_fixed_index(index) >= 0 || mtrr_var_index(index) >= 0) {
            return (edx & CPUID_MTRR) != 0;
        }
        return true;
    }
}

/*
 * IA32_EFER (SDM Vol.4 Table 2-2): NXE is writable on a model with NX,
 * SCE with SYSCALL, LME with long mode; any other set bit is reserved
 * (#GP(0), SDM Vol.2 WRMSR).  LMA is the processor's: with long mode a
 * write keeps it as it is (SDM Vol.3 9.8.5), without it the bit is reserved.  LME may not change
 * while paging is on
 * (#GP(0)): IA-32e mode is entered and left only through CR0.PG.  NXE
 * changes what PAE entries mean (XD, the reserved bit 63), so cached
 * translations go.
 */
static uint64_t efer_writable(const CPUState *cpu)
{
    uint64_t bits = 0;
    if (cpu->cpuid.ext_edx & CPUID_EXT_NX) {
        bits |= EFER_NXE;
    }
    if (cpu->cpuid.ext_edx & CPUID_EXT_SYSCALL) {
        bits |= EFER_SCE;
    }
    if (cpu->cpuid.ext_edx & CPUID_EXT_LM) {
        bits |= EFER_LME;
    }
    return bits;
}

static bool wrmsr_efer(CPUState *cpu, uint64_t value)
{
    uint64_t writable = efer_writable(cpu);
    if (writable & EFER_LME) {
        value &= ~(uint64_t)EFER_LMA; /* read-only, not reserved, with long mode */
    }
    if (value & ~writable) {
        return false;
    }
    if ((cpu->cr0 & CR0_PG) && ((cpu->efer ^ value) & EFER_LME)) {
        return false;
    }
    if ((cpu->efer ^ value) & EFER_NXE) {
        tlb_flush_all(cpu);
    }
    cpu->efer = value | (cpu->efer & EFER_LMA);
    cpu_update_mode(cpu);
    return true;
}

/*
 * The long-mode MSRs: STAR, LSTAR, CSTAR and FMASK with SYSCALL; FS.base,
 * GS.base and KERNEL_GS_BASE with long mode; TSC_AUX with RDTSCP.  An
 * address MSR takes only canonical values (#GP(0), SDM Vol.2 WRMSR); FMASK
 * bits 63:32 are reserved, TSC_AUX keeps 31:0 (SDM Vol.4 Table 2-2).
 * FS_BASE and GS_BASE are the segment registers' hidden bases.
 */
/* Whether the -cpu model is AMD's (qemu64). */
static bool cpu_model_is_amd(const CPUState *cpu)
{
    const CPUModel *m = cpu->cpuid.model;
    return m && m->vendor && !strcmp(m->vendor, "AuthenticAMD");
}

/*
 * SYSCFG and IntPend exist on AMD's processors since the K8 (AMD BKDG for
 * family 0Fh, MSRs C001_0010h and C001_0055h): Linux reads them unguarded
 * on AMD family 0Fh and later (its MTRR code; the erratum 400 idle
 * routine).  popek's memory has no DRAM-mapping or fixed-MTRR extensions
 * and its CPU no C1E state, so both read 0 after RESET and keep what bits
 * 31:0 are written (63:32 reserved, #GP), with no other effect.
 */
static bool lm_msr_exists(const CPUState *cpu, uint32_t index)
{
    uint32_t ext = cpu->cpuid.ext_edx;
    switch (index) {
    case MSR_K8_SYSCFG:
    case MSR_K8_INT_PENDING: return cpu_model_is_amd(cpu);
    case MSR_STAR:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FMASK: return (ext & (CPUID_EXT_SYSCALL | CPUID_EXT_LM)) != 0;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE: return (ext & CPUID_EXT_LM) != 0;
    case MSR_TSC_AUX: return (ext & CPUID_EXT_RDTSCP) != 0;
    default: return false;
    }
}

static bool lm_msr_read(CPUState *cpu, uint32_t index, uint64_t *value)
{
    switch (index) {
    case MSR_STAR: *value = cpu->msr_star; break;
    case MSR_LSTAR: *value = cpu->msr_lstar; break;
    case MSR_CSTAR: *value = cpu->msr_cstar; break;
    case MSR_FMASK: *value = cpu->msr_fmask; break;
    case MSR_FS_BASE: *value = cpu->seg[SEG_FS].base; break;
    case MSR_GS_BASE: *value = cpu->seg[SEG_GS].base; break;
    case MSR_KERNEL_GS_BASE: *value = cpu->kernel_gs_base; break;
    case MSR_TSC_AUX: *value = cpu->msr_tsc_aux; break;
    case MSR_K8_SYSCFG: *value = cpu->msr_syscfg; break;
    case MSR_K8_INT_PENDING: *value = cpu->msr_intpend; break;
    default: return false;
    }
    return true;
}

static bool lm_msr_write(CPUState *cpu, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_STAR: cpu->msr_star = value; return true;
    case MSR_FMASK:
        if (value >> 32) {
            return false;
        }
        cpu->msr_fmask = value;
        return true;
    case MSR_TSC_AUX:
        if (value >> 32) {
            return false;
        }
        cpu->msr_tsc_aux = value;
        return true;
    case MSR_K8_SYSCFG:
    case MSR_K8_INT_PENDING:
        if (value >> 32) {
            return false;
        }
        *(index == MSR_K8_SYSCFG ? &cpu->msr_syscfg : &cpu->msr_intpend) = value;
        return true;
    default: break;
    }
    if (!mmu_canonical(value)) {
        return false;
    }
    switch (index) {
    case MSR_LSTAR: cpu->msr_lstar = value; return true;
    case MSR_CSTAR: cpu->msr_cstar = value; return true;
    case MSR_FS_BASE: cpu->seg[SEG_FS].base = value; return true;
    case MSR_GS_BASE: cpu->seg[SEG_GS].base = value; return true;
    case MSR_KERNEL_GS_BASE: cpu->kernel_gs_base = value; return true;
    default: return false;
    }
}

bool cpu_rdmsr(CPUState *cpu, uint32_t index, uint64_t *value)
{
    int slot;
    if (lm_msr_exists(cpu, index)) {
        return lm_msr_read(cpu, index, value);
    }
    if (!msr_exists(cpu, index)) {
        return false;
    }
    switch (index) {
    case MSR_IA32_EFER: *value = cpu->efer; return true;
    case MSR_IA32_TSC: *value = cpu_rdtsc(cpu); return true;
    case MSR_IA32_PLATFORM_ID: *value = 0; return true;
    case MSR_IA32_APIC_BASE:
        if (cpu->hooks.msr_read) {
            break; /* the machine's APIC */
        }
        *value = cpu->apic_base;
        return true;
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
    return cpu->hooks.msr_read && cpu->hooks.msr_read(cpu->hooks.opaque, index, value);
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
        if (!mtrr_var_ok(cpu, slot, value)) {
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
    if (lm_msr_exists(cpu, index)) {
        return lm_msr_write(cpu, index, value);
    }
    if (!msr_exists(cpu, index)) {
        return false;
    }
    switch (index) {
    case MSR_IA32_EFER: return wrmsr_efer(cpu, value);
    case MSR_IA32_TSC: tsc_write(cpu, value); return true;
    case MSR_IA32_APIC_BASE:
        if (cpu->hooks.msr_write) {
            return cpu->hooks.msr_write(cpu->hooks.opaque, index, value);
        }
        /* BSP (8), global enable (11), base 31:12; no APIC answers there. */
        if (value & ~0xfffff900ull) {
            return false;
        }
        cpu->apic_base = value;
        return true;
    case MSR_IA32_BIOS_SIGN_ID:
        return true; /* software writes 0 before reading the revision back */
    case MSR_IA32_SYSENTER_CS: cpu->sysenter_cs = (uint32_t)value; return true;
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        /* With long mode they hold canonical 64-bit addresses (SDM Vol.4
         * Table 2-2); a P6 keeps 32 bits. */
        if (!(cpu->cpuid.ext_edx & CPUID_EXT_LM)) {
            value = (uint32_t)value;
        } else if (!mmu_canonical(value)) {
            return false;
        }
        *(index == MSR_IA32_SYSENTER_ESP ? &cpu->sysenter_esp : &cpu->sysenter_eip) = value;
        return true;
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
    if (mtrr_fixed_index(index) < 0 && mtrr_var_index(index) < 0) {
        return cpu->hooks.msr_write && cpu->hooks.msr_write(cpu->hooks.opaque, index, value);
    }
    return wrmsr_mtrr_range(cpu, index, value);
}

void cpu_msr_reset(CPUState *cpu)
{
    /* RESET clears MTRRdefType (all MTRRs off, SDM Vol.3 11.11.5) and the
     * TSC (SDM Vol.3 17.17); the other MTRRs are undefined, we clear them. */
    cpu->msr_misc_enable = 0;
    cpu->mtrr_def_type = 0;
    cpu->msr_star = cpu->msr_lstar = cpu->msr_cstar = cpu->msr_fmask = 0;
    cpu->kernel_gs_base = 0;
    cpu->msr_tsc_aux = 0;
    cpu->msr_syscfg = 0;
    cpu->msr_intpend = 0;
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
