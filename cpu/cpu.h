/*
 * The CPU's interface: to the machine (init, reset, run, interrupts) and,
 * for the files of cpu/, the shared internals every instruction uses
 * (exceptions, flags, mode summary).  Memory access is in cpu/mem.h.
 */
#ifndef CPU_CPU_H
#define CPU_CPU_H

#include <stdnoreturn.h>

#include "cpu/decode.h"
#include "cpu/state.h"

/* Exception vectors (SDM Vol.3 6.3.1). */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* #PF error code bits (SDM Vol.3 4.7). */
#define PF_ERR_P    0x01u /* protection violation (0: not present) */
#define PF_ERR_W    0x02u /* write access */
#define PF_ERR_U    0x04u /* user-mode access */
#define PF_ERR_RSVD 0x08u
#define PF_ERR_I    0x10u /* instruction fetch (NX only) */

/* CPUState.hflags: mode summary, recomputed by cpu_update_mode(). */
#define HF_PE    0x0001u /* CR0.PE */
#define HF_VM    0x0002u /* EFLAGS.VM (vm86) */
#define HF_CS32  0x0004u /* CS.D: 32-bit default operand/address size */
#define HF_SS32  0x0008u /* SS.B: 32-bit stack pointer */
#define HF_PG    0x0010u /* CR0.PG */
#define HF_REAL  0x0020u /* real mode (PE=0) */
#define HF_AC    0x0040u /* alignment checking: CR0.AM, EFLAGS.AC and CPL 3 (SDM Vol.3 6.15, #AC) */
#define HF_LMA   0x0080u /* IA-32e mode active: EFER.LMA (SDM Vol.3 9.8.5) */
#define HF_CS64  0x0100u /* 64-bit mode: EFER.LMA and CS.L (then HF_CS32 is clear) */

/* The decoder's mode (DECODE_16/32/64) that hflags imply. */
static inline int cpu_decode_mode(uint32_t hflags)
{
    return (hflags & HF_CS64) ? DECODE_64 : (hflags & HF_CS32) ? DECODE_32 : DECODE_16;
}

/* ---- lifecycle and the run loop (cpu/exec.c) ---- */

/* Zero the state and attach back ends; the CPU is then in reset state. */
void cpu_init(CPUState *cpu, struct PhysMem *phys, struct IOPortMap *io);
/* RESET (SDM Vol.3 9.1.1): real mode at F000:FFF0, CS base FFFF0000. */
void cpu_reset(CPUState *cpu);
/* INIT (SDM Vol.3 9.1.1, Table 9-1): RESET's register state, but x87/SSE
 * state, the MSRs, the TSC and CR0.CD/NW keep their values. */
void cpu_init_signal(CPUState *cpu);
/* Run up to max_insns instructions; returns an enum CPUExitReason. */
int cpu_exec(CPUState *cpu, uint64_t max_insns);
/* Execute exactly one instruction (or deliver one pending event). */
int cpu_step(CPUState *cpu);
/* Execute exactly n instructions (a fault counts as one) without taking
 * interrupts between them: the translator's lockstep check replays a
 * translated block this way. */
int cpu_exec_replay(CPUState *cpu, uint64_t n);
/* Deliver the exception recorded by cpu_raise_exception*() after its
 * longjmp landed (cpu->eip is the faulting instruction); counts it as one
 * instruction.  For run loops other than cpu_exec() (the translator's). */
void cpu_deliver_raised_exception(CPUState *cpu);
/* Raise or clear the INTR pin / an exit request from outside the CPU. */
void cpu_set_interrupt(CPUState *cpu, uint32_t mask);
void cpu_clear_interrupt(CPUState *cpu, uint32_t mask);
/* Whether an event would be taken at the next instruction boundary: reset,
 * an exit request, an NMI outside an NMI handler, or INTR with IF set and
 * no interrupt shadow.  A pending but masked interrupt is not one: it must
 * cost nothing until IF opens (STI, POPF and IRET check again). */
bool cpu_events_waiting(const CPUState *cpu);
/* REP string instructions run at most this many elements per execution
 * (one counted instruction), fewer only when cpu_events_waiting(). */
#define REP_BATCH 4096
/*
 * A batch is one counted instruction however long its elements take; a
 * slice of SLICE_MAX_INSNS batches of REP STOSB into memory nothing
 * decodes took minutes, with the monitor unanswered.  So the engines count
 * the elements they do (cpu_rep_account, after each batch) and every
 * REP_CUT_ELEMENTS of them end the slice through CPU_INTERRUPT_EXIT.  The
 * cut depends only on what the guest ran, so -icount runs stay
 * deterministic; on RAM it costs one pass through the main loop per MiB.
 */
#define REP_CUT_ELEMENTS (1u << 18)
void cpu_rep_account(CPUState *cpu, uint32_t elements);

/* ---- exceptions (cpu/except.c) ---- */

/* Abort the current instruction and deliver vector with an error code. */
noreturn void cpu_raise_exception_err(CPUState *cpu, int vector, uint32_t error_code);
/* Same for vectors that push no error code. */
noreturn void cpu_raise_exception(CPUState *cpu, int vector);
/*
 * Deliver an interrupt or exception through the IVT (real mode), the IDT
 * (interrupt, trap and task gates, with stack switch and vm86 exit), as the
 * SDM Vol.3 6.12 says.  is_sw: INT n / INT3 / INTO / INT1 (gate DPL checked
 * against CPL for INT n, INT3, INTO; return address after the instruction).
 * return_eip: the EIP pushed.  Leaves the handler's EIP in cpu->next_eip and
 * its CS loaded.  May fault (longjmp), e.g. #GP on a bad gate.
 */
void cpu_do_interrupt(CPUState *cpu, int vector, bool is_sw, bool has_error, uint32_t error_code,
                      uint64_t return_eip);
/*
 * Deliver an exception raised by an instruction or by a previous delivery,
 * applying the double-fault rules (SDM Vol.3 Table 6-5): a contributory
 * fault or #PF during delivery of one becomes #DF; a fault while delivering
 * #DF is a triple fault, which sets cpu->triple_fault and returns.
 */
void cpu_deliver_exception(CPUState *cpu, int vector, bool has_error, uint32_t error_code);
/* Whether vector pushes an error code when raised as an exception. */
bool cpu_exception_has_error(int vector);

/* ---- flags (cpu/flags.c) ---- */

/* The six arithmetic flags from the lazy state, as EFLAGS bits. */
uint32_t flags_compute(const CPUState *cpu);
/* Just CF, cheaper than the full set. */
bool flags_carry(const CPUState *cpu);
/* Whether condition cc (0..15, Jcc encoding) holds. */
bool flags_condition(const CPUState *cpu, int cc);

/* Full EFLAGS with the lazy arithmetic flags folded in. */
static inline uint32_t cpu_get_eflags(const CPUState *cpu)
{
    if (cpu->cc_op == CC_OP_EFLAGS) {
        return cpu->eflags;
    }
    return (cpu->eflags & ~EFLAGS_ARITH) | flags_compute(cpu);
}

/* Materialise the lazy flags into cpu->eflags. */
static inline void cpu_flush_flags(CPUState *cpu)
{
    if (cpu->cc_op != CC_OP_EFLAGS) {
        cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | flags_compute(cpu);
        cpu->cc_op = CC_OP_EFLAGS;
    }
}

/*
 * Write EFLAGS bits selected by mask (the caller decides which bits the
 * instruction may change: POPF, IRET and task switches differ by mode and
 * privilege).  Keeps bit 1 set and reserved bits clear, and updates the
 * mode summary when VM changes.
 */
void cpu_set_eflags(CPUState *cpu, uint32_t value, uint32_t mask);

/* Recompute cpl-derived and mode-derived fields after CR0, CS, SS or VM change. */
void cpu_update_mode(CPUState *cpu);

/* ---- segments (cpu/seg.c) ---- */

/* Load a segment register in the current mode with full protection checks
 * (SDM Vol.3 5.4-5.6); raises #GP/#SS/#NP/#TS as the hardware does. */
void seg_load(CPUState *cpu, int seg, uint16_t selector);
/* Whether a DS/ES/FS/GS load of selector in protected mode (not vm86) would
 * change nothing and raise nothing; never faults (cpu/seg.c). */
bool seg_load_data_is_noop(CPUState *cpu, int seg, uint16_t selector);
/* POP DS/ES/FS/GS done when it changes nothing but ESP, outside 64-bit
 * mode; false: not done, nothing changed (cpu/ops_segreg.c). */
bool pop_sreg_if_noop(CPUState *cpu, const Insn *insn);
/* Real/vm86-mode load: base = selector << 4, cache otherwise kept (limit and
 * attributes are reset to the vm86 values in vm86 mode). */
void seg_load_real(CPUState *cpu, int seg, uint16_t selector);
/* Read the 8-byte descriptor for selector from the GDT or LDT; raises
 * #GP(selector) (or vector given) when outside the table limit. */
uint64_t seg_read_descriptor(CPUState *cpu, uint16_t selector, int vector);
/* Fill a SegmentCache from a descriptor. */
void seg_cache_from_descriptor(SegmentCache *sc, uint16_t selector, uint64_t desc);

/* Far transfers and their protection rules (cpu/far.c). */
void cpu_far_jmp(CPUState *cpu, uint16_t selector, uint64_t offset, uint64_t next_eip);
void cpu_far_call(CPUState *cpu, uint16_t selector, uint64_t offset, int opsize, uint64_t next_eip);
void cpu_far_ret(CPUState *cpu, int opsize, uint16_t pop_bytes);
void cpu_iret(CPUState *cpu, int opsize);

/* Hardware task switch (cpu/task.c).  source: TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT. */
enum { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
void cpu_task_switch(CPUState *cpu, uint16_t tss_selector, uint64_t tss_desc, int source,
                     uint32_t next_eip);

/* ---- system registers (cpu/sysreg.c) ---- */
void cpu_write_cr0(CPUState *cpu, uint32_t value);
void cpu_write_cr3(CPUState *cpu, uint64_t value);
void cpu_write_cr4(CPUState *cpu, uint32_t value);
uint64_t cpu_rdtsc(CPUState *cpu);
/* RDMSR/WRMSR; return false for an unknown MSR (the caller raises #GP(0)). */
bool cpu_rdmsr(CPUState *cpu, uint32_t index, uint64_t *value);
bool cpu_wrmsr(CPUState *cpu, uint32_t index, uint64_t value);
/* CPUID leaf (EAX) and subleaf (ECX, leaf 4) as the -cpu model answers it (cpu/cpuid.c). */
void cpu_cpuid(CPUState *cpu, uint32_t leaf, uint32_t subleaf, uint32_t regs_out[4]);
/* Choose the CPU model and features (cpu/models.h); before cpu_reset(). */
void cpu_set_cpuid(CPUState *cpu, const CPUIDConfig *cfg);
/* CPUID.1:EAX of the model (also EDX after RESET, SDM Vol.3 9.1.4). */
uint32_t cpu_signature(const CPUState *cpu);
/* RESET values of the MSRs kept only for read-back (MTRRs, MISC_ENABLE) and
 * a TSC that reads 0 again; cpu_reset() calls it. */
void cpu_msr_reset(CPUState *cpu);

/* CPUID.1:EDX feature bits (SDM Vol.2 CPUID, Table 3-11). */
#define CPUID_FPU   (1u << 0)
#define CPUID_VME   (1u << 1)
#define CPUID_DE    (1u << 2)
#define CPUID_PSE   (1u << 3)
#define CPUID_TSC   (1u << 4)
#define CPUID_MSR   (1u << 5)
#define CPUID_PAE   (1u << 6)
#define CPUID_MCE   (1u << 7)
#define CPUID_CX8   (1u << 8)
#define CPUID_APIC  (1u << 9)
#define CPUID_SEP   (1u << 11)
#define CPUID_MTRR  (1u << 12)
#define CPUID_PGE   (1u << 13)
#define CPUID_MCA   (1u << 14)
#define CPUID_CMOV  (1u << 15)
#define CPUID_PAT   (1u << 16)
#define CPUID_PSE36 (1u << 17)
#define CPUID_CLFSH (1u << 19)
#define CPUID_MMX   (1u << 23)
#define CPUID_FXSR  (1u << 24)
#define CPUID_SSE   (1u << 25)
#define CPUID_SSE2  (1u << 26)
/* CPUID.1:ECX feature bits (SDM Vol.2 CPUID, Table 3-10). */
#define CPUID_ECX_SSE3         (1u << 0)
#define CPUID_ECX_SSSE3        (1u << 9)
#define CPUID_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_ECX_HYPERVISOR   (1u << 31) /* reserved by Intel and AMD for this use */
/* CPUID.80000001h:EDX feature bits. */
#define CPUID_EXT_NX (1u << 20) /* execute-disable: IA32_EFER.NXE and the XD bit */
#define CPUID_EXT_SYSCALL (1u << 11) /* SYSCALL/SYSRET (in 64-bit mode) */
#define CPUID_EXT_PDPE1GB (1u << 26) /* 1 GiB pages in 4-level paging */
#define CPUID_EXT_RDTSCP  (1u << 27) /* RDTSCP and IA32_TSC_AUX */
#define CPUID_EXT_LM      (1u << 29) /* long mode (Intel 64, AMD64) */
#define CPUID_EXT3_LAHF_LM (1u << 0) /* CPUID.80000001h:ECX: LAHF/SAHF in 64-bit mode */
#define CPUID_ECX_CX16     (1u << 13) /* CMPXCHG16B */
/* Whether the machine gave the CPU a local APIC and it is globally enabled. */
bool cpu_apic_enabled(const CPUState *cpu);
/* The CPUID.1:EDX bits this CPU reports now. */
uint32_t cpu_cpuid_features(const CPUState *cpu);
/* MAXPHYADDR, the physical address width the model reports in CPUID
 * 80000008h: 40 with long mode (the 4-level walk's), else PAE's 36. */
unsigned cpu_maxphyaddr(const CPUState *cpu);

/* ---- x87 (cpu/fpu.c) ---- */
void fpu_reset(CPUState *cpu); /* FNINIT state */
/* Execute an x87 escape (D8-DF): insn decoded, CR0.EM/TS already checked. */
void fpu_exec(CPUState *cpu, const Insn *insn);
/* WAIT/FWAIT and the pending-exception check every x87 insn does first. */
void fpu_check_pending(CPUState *cpu);
/* FXSAVE; rex_w: FXSAVE64, whose image holds 64-bit FPU IP and DP in place
 * of the selectors (SDM Vol.2 FXSAVE, Tables 3-55 and 3-56). */
void fpu_fxsave(CPUState *cpu, int seg, uint64_t offset, bool rex_w);
/* MMX register reg: the significand of x87 physical register R<reg>; a
 * write also sets its sign and exponent to all ones (SDM Vol.1 9.5.1). */
uint64_t cpu_mmx_read(const CPUState *cpu, int reg);
void cpu_mmx_write(CPUState *cpu, int reg, uint64_t value);
/* FXRSTOR; rex_w: FXRSTOR64, reading the image FXSAVE64 writes. */
void fpu_fxrstor(CPUState *cpu, int seg, uint64_t offset, bool rex_w);

/* XMM register reg (0-15; 8-15 only with REX in 64-bit mode). */
static inline uint8_t *cpu_xmm(CPUState *cpu, int reg)
{
    return reg < 8 ? cpu->fpu.xmm[reg] : cpu->xmm_hi[reg & 7];
}

/* ---- the interpreter (cpu/interp.c) ---- */
/* Execute one decoded instruction at cpu->eip (next_eip already set). */
void interp_exec_insn(CPUState *cpu, const Insn *insn);

/* Register access by encoding (8-bit: 0-3 = AL..BL, 4-7 = AH..BH, and with
 * REX 8-15 = R8B..R15B, REG_BYTE_REX + 4..7 = SPL..DIL: cpu/decode.h). */
static inline bool reg_is_high_byte(int reg)
{
    return reg >= 4 && reg < 8;
}

static inline uint64_t reg_read(const CPUState *cpu, int reg, int size)
{
    switch (size) {
    case 1:
        return !reg_is_high_byte(reg) ? cpu->regs[reg & 15] & 0xff
                                      : (cpu->regs[reg - 4] >> 8) & 0xff;
    case 2: return cpu->regs[reg] & 0xffff;
    case 4: return (uint32_t)cpu->regs[reg];
    default: return cpu->regs[reg];
    }
}

/* Byte and word writes keep the rest of the 64-bit register; a dword write
 * zero-extends into it, as in 64-bit mode (SDM Vol.1 3.4.1.1), which
 * outside 64-bit mode keeps the high half zero; a qword writes it all. */
static inline void reg_write(CPUState *cpu, int reg, int size, uint64_t value)
{
    switch (size) {
    case 1:
        if (!reg_is_high_byte(reg)) {
            reg &= 15;
            cpu->regs[reg] = (cpu->regs[reg] & ~UINT64_C(0xff)) | (value & 0xff);
        } else {
            cpu->regs[reg - 4] = (cpu->regs[reg - 4] & ~UINT64_C(0xff00)) | ((value & 0xff) << 8);
        }
        break;
    case 2: cpu->regs[reg] = (cpu->regs[reg] & ~UINT64_C(0xffff)) | (value & 0xffff); break;
    case 4: cpu->regs[reg] = (uint32_t)value; break;
    default: cpu->regs[reg] = value; break;
    }
}

#endif /* CPU_CPU_H */
