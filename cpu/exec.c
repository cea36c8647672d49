/*
 * The CPU run loop: events, fetch, decode, execute, retire.
 *
 * One instruction at a time: take pending events at the instruction
 * boundary (NMI, then INTR when IF=1 and no interrupt shadow), check
 * instruction breakpoints, fetch and decode, run the handler, then raise
 * the debug traps the instruction earned (TF single-step, data
 * breakpoints).  Faults anywhere inside longjmp back here with the guest
 * state as it was before the instruction (handlers commit last), and are
 * delivered through cpu_deliver_exception(), which applies the double- and
 * triple-fault rules.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/models.h"
#include "cpu/mem.h"
#include "cpu/ops.h"
#include "softmmu/mmu.h"

void cpu_update_mode(CPUState *cpu)
{
    uint32_t hf = 0;
    if (cpu->cr0 & CR0_PE) {
        hf |= HF_PE;
        if (cpu->eflags & EFLAGS_VM) {
            hf |= HF_VM;
            cpu->cpl = 3;
        } else {
            /* CPL is the DPL of SS (SDM Vol.3 5.5): right even just after
             * CR0.PE is set, when CS still holds a real-mode selector. */
            cpu->cpl = (cpu->seg[SEG_SS].attr & DESC_DPL_MASK) >> DESC_DPL_SHIFT;
        }
    } else {
        hf |= HF_REAL;
        cpu->cpl = 0;
    }
    if ((cpu->efer & EFER_LMA) && (hf & HF_PE)) {
        hf |= HF_LMA;
    }
    if ((hf & HF_LMA) && !(hf & HF_VM) && (cpu->seg[SEG_CS].attr & DESC_L)) {
        /* CS.L=1 with CS.D=1 is reserved (SDM Vol.3 5.2.1); CS.L wins here. */
        hf |= HF_CS64;
    } else if (!(hf & HF_VM) && (cpu->seg[SEG_CS].attr & DESC_B)) {
        hf |= HF_CS32;
    }
    if (cpu->seg[SEG_SS].attr & DESC_B) {
        hf |= HF_SS32;
    }
    if (cpu->cr0 & CR0_PG) {
        hf |= HF_PG;
    }
    if ((cpu->cr0 & CR0_AM) && (cpu->eflags & EFLAGS_AC) && cpu->cpl == 3) {
        hf |= HF_AC;
    }
    cpu->hflags = hf;
    cpu->mmu_idx = cpu->cpl == 3 ? MMU_USER : MMU_KERNEL;
}

/* EFLAGS bits that exist on a P6 (SDM Vol.1 3.4.3); the rest read as 0. */
#define EFLAGS_IMPLEMENTED                                                                   \
    (EFLAGS_ARITH | EFLAGS_TF | EFLAGS_IF | EFLAGS_DF | EFLAGS_IOPL | EFLAGS_NT |            \
     EFLAGS_RF | EFLAGS_VM | EFLAGS_AC | EFLAGS_VIF | EFLAGS_VIP | EFLAGS_ID)

void cpu_set_eflags(CPUState *cpu, uint32_t value, uint32_t mask)
{
    cpu_flush_flags(cpu);
    uint32_t old = cpu->eflags;
    uint32_t v = (old & ~mask) | (value & mask);
    cpu->eflags = (v & EFLAGS_IMPLEMENTED) | EFLAGS_FIXED;
    if ((old ^ cpu->eflags) & (EFLAGS_VM | EFLAGS_AC)) {
        cpu_update_mode(cpu);
    }
}

static void seg_reset(SegmentCache *sc, uint16_t selector, uint32_t base, uint32_t attr)
{
    sc->selector = selector;
    sc->base = base;
    sc->limit = 0xffff;
    sc->attr = attr;
    seg_update_check(sc);
}

void cpu_init(CPUState *cpu, struct PhysMem *phys, struct IOPortMap *io)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->phys = phys;
    cpu->io = io;
    cpu->cpuid = cpu_model_config(cpu_model_default());
    icache_init(cpu);
    tlb_ctx_init(cpu);
    cpu_reset(cpu);
}

/* Processor state after RESET (SDM Vol.3 Table 9-1). */
void cpu_reset(CPUState *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = cpu_signature(cpu); /* as CPUID.1:EAX */
    cpu->eip = 0xfff0;
    cpu->next_eip = 0xfff0;
    cpu->eflags = EFLAGS_FIXED;
    cpu->cc_op = CC_OP_EFLAGS;
    const uint32_t data_attr = DESC_P | DESC_S | DESC_W | DESC_A;
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_reset(&cpu->seg[s], 0, 0, data_attr);
    }
    /* CS.base = FFFF0000h so the first fetch is at FFFFFFF0h, the top of the BIOS ROM. */
    seg_reset(&cpu->seg[SEG_CS], 0xf000, 0xffff0000u, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A);
    cpu->gdtr = (TableRegister){0, 0xffff};
    cpu->idtr = (TableRegister){0, 0xffff};
    seg_reset(&cpu->ldtr, 0, 0, DESC_P | (2u << DESC_TYPE_SHIFT));
    seg_reset(&cpu->tr, 0, 0, DESC_P | (11u << DESC_TYPE_SHIFT));
    cpu->cr0 = CR0_ET | CR0_CD | CR0_NW;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    cpu->cr8 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0u;
    cpu->dr[7] = 0x00000400u;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->msr_pat = 0x0007040600070406ull; /* WB WT UC- UC, twice (SDM Vol.3 11.12.4) */
    cpu->efer = 0;
    memset(cpu->pdpte, 0, sizeof(cpu->pdpte));
    cpu->apic_base = 0;
    cpu->a20_mask = 0xffffffffu;
    cpu->halted = false;
    cpu->inhibit_irq = false;
    cpu->ss_shadow = false;
    cpu->in_nmi = false;
    cpu->ferr_pending = false;
    cpu->exception_vector = -1;
    cpu->delivering_vector = -1;
    cpu->pending_dr6 = 0;
    cpu->deferred_dr6 = 0;
    cpu->triple_fault = false;
    cpu->tsc_offset = 0;
    cpu_msr_reset(cpu);
    cpu->interrupt_request &= ~(CPU_INTERRUPT_RESET | CPU_INTERRUPT_NMI);
    fpu_reset(cpu);
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

/*
 * INIT is RESET but for the caches, the MSRs, the MTRRs and the x87 state
 * (SDM Vol.3 10.1).  Long mode's MSRs stay: STAR, LSTAR, CSTAR, SFMASK,
 * KERNEL_GS_BASE, TSC_AUX; EFER is cleared, as QEMU clears it, since INIT
 * leaves the processor in real mode; FS.base and GS.base are segment state
 * and reset with FS and GS.  XMM8-15 are SSE state and stay with XMM0-7.
 */
void cpu_init_signal(CPUState *cpu)
{
    FPURegs fpu = cpu->fpu;
    uint8_t xmm_hi[sizeof(cpu->xmm_hi)];
    memcpy(xmm_hi, cpu->xmm_hi, sizeof(xmm_hi));
    uint64_t lm_msrs[7] = {cpu->msr_star,      cpu->msr_lstar,   cpu->msr_cstar,
                           cpu->msr_fmask,     cpu->kernel_gs_base, cpu->msr_tsc_aux,
                           cpu->msr_syscfg};
    uint32_t cache_bits = cpu->cr0 & (CR0_CD | CR0_NW);
    uint64_t tsc_offset = cpu->tsc_offset;
    uint64_t sysenter[3] = {cpu->sysenter_cs, cpu->sysenter_esp, cpu->sysenter_eip};
    uint64_t pat = cpu->msr_pat, apic_base = cpu->apic_base;
    uint64_t misc = cpu->msr_misc_enable, def_type = cpu->mtrr_def_type;
    uint64_t fixed[MTRR_FIXED_COUNT], var[2 * MTRR_VAR_STORED];
    memcpy(fixed, cpu->mtrr_fixed, sizeof(fixed));
    memcpy(var, cpu->mtrr_var, sizeof(var));
    cpu_reset(cpu);
    cpu->fpu = fpu;
    memcpy(cpu->xmm_hi, xmm_hi, sizeof(xmm_hi));
    cpu->msr_star = lm_msrs[0];
    cpu->msr_lstar = lm_msrs[1];
    cpu->msr_cstar = lm_msrs[2];
    cpu->msr_fmask = lm_msrs[3];
    cpu->kernel_gs_base = lm_msrs[4];
    cpu->msr_tsc_aux = lm_msrs[5];
    cpu->msr_syscfg = lm_msrs[6];
    cpu->cr0 = (cpu->cr0 & ~(CR0_CD | CR0_NW)) | cache_bits;
    cpu->tsc_offset = tsc_offset;
    cpu->sysenter_cs = (uint32_t)sysenter[0];
    cpu->sysenter_esp = sysenter[1];
    cpu->sysenter_eip = sysenter[2];
    cpu->msr_pat = pat;
    cpu->apic_base = apic_base;
    cpu->msr_misc_enable = misc;
    cpu->mtrr_def_type = def_type;
    memcpy(cpu->mtrr_fixed, fixed, sizeof(fixed));
    memcpy(cpu->mtrr_var, var, sizeof(var));
}

void cpu_set_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_or_fetch(&cpu->interrupt_request, mask, __ATOMIC_SEQ_CST);
    /* Translated code leaves at its next block entry, where it tests the
     * budget.  INTR with IF clear need not make it leave: every instruction
     * that can set IF (STI, POPF, IRET, task switches) is a callout that
     * looks for waiting events itself (translator/helpers.c), and leaving
     * anyway would send a CLI section back to the run loop at every block. */
    if ((mask & ~CPU_INTERRUPT_HARD) == 0 && !(cpu->eflags & EFLAGS_IF)) {
        return;
    }
    if (!cpu->bt_exit_request) {
        cpu->bt_exit_request = 1;
        cpu->bt_budget -= BT_BUDGET_KICK;
    }
}

void cpu_clear_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_and_fetch(&cpu->interrupt_request, ~mask, __ATOMIC_SEQ_CST);
}

void cpu_rep_account(CPUState *cpu, uint32_t elements)
{
    cpu->rep_elements += elements;
    if (cpu->rep_elements >= REP_CUT_ELEMENTS) {
        cpu->rep_elements = 0;
        cpu_set_interrupt(cpu, CPU_INTERRUPT_EXIT);
    }
}

bool cpu_events_waiting(const CPUState *cpu)
{
    uint32_t req = cpu->interrupt_request;
    if (req & (CPU_INTERRUPT_RESET | CPU_INTERRUPT_EXIT)) {
        return true;
    }
    if ((req & CPU_INTERRUPT_NMI) && !cpu->in_nmi) {
        return true;
    }
    return (req & CPU_INTERRUPT_HARD) && (cpu->eflags & EFLAGS_IF) && !cpu->inhibit_irq &&
           cpu->hooks.irq_ack;
}

noreturn void cpu_raise_exception_err(CPUState *cpu, int vector, uint32_t error_code)
{
    cpu->exception_vector = vector;
    cpu->exception_error = error_code;
    cpu->exception_has_error = true;
    longjmp(cpu->jmp_env, 1);
}

noreturn void cpu_raise_exception(CPUState *cpu, int vector)
{
    cpu->exception_vector = vector;
    cpu->exception_error = 0;
    cpu->exception_has_error = false;
    longjmp(cpu->jmp_env, 1);
}

/*
 * Fetch and decode the instruction at CS:EIP.  The decoder first sees only
 * the bytes left in the current page (and CS limit); it asks for more only
 * when the instruction really continues, so the next page is touched (and
 * may #PF) exactly when the hardware would touch it.  In 64-bit mode there
 * is no CS base or limit: the bytes must be at canonical addresses instead
 * (#GP(0) otherwise), and the decoder runs in 64-bit mode.
 */
static const Insn *fetch_decode(CPUState *cpu, Insn *insn)
{
    const SegmentCache *cs = &cpu->seg[SEG_CS];
    uint64_t eip = cpu->eip;
    enum DecodeMode mode;
    uint64_t limit_avail;
    uint64_t lin;
    if (likely(!(cpu->hflags & HF_CS64))) {
        mode = (cpu->hflags & HF_CS32) ? DECODE_32 : DECODE_16;
        if (unlikely(eip > cs->limit)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        limit_avail = (uint64_t)cs->limit - eip + 1;
        lin = (uint32_t)(cs->base + eip);
    } else {
        mode = DECODE_64;
        if (unlikely(!mmu_canonical(eip))) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        lin = eip;
        /* bytes up to the end of the canonical lower half, or of memory */
        limit_avail = (eip < (UINT64_C(1) << 47)) ? (UINT64_C(1) << 47) - eip : 0 - eip;
    }
    TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    const uint8_t *p;
    uint32_t avail;
    int status = DECODE_NEED_MORE;
    if (likely(e->tag[ACC_FETCH] == (lin & TLB_PAGE_MASK))) {
        uint32_t phys = e->phys | (lin & 0xfff);
        const Insn *hit = icache_lookup(&cpu->icache, phys, mode);
        if (likely(hit && hit->len <= limit_avail)) {
            return hit;
        }
        p = (const uint8_t *)(uintptr_t)(lin + e->addend);
        avail = 0x1000 - (lin & 0xfff);
        if (avail > limit_avail) {
            avail = (uint32_t)limit_avail;
        }
        status = decode_insn_mode(insn, p, (int)avail, mode);
        if (likely(status == DECODE_OK)) {
            return icache_insert(cpu, phys, mode, insn);
        }
    } else {
        p = mmu_fetch_ptr(cpu, lin, cpu->mmu_idx, &avail);
        if (avail > limit_avail) {
            avail = (uint32_t)limit_avail;
        }
        if (p) {
            status = decode_insn_mode(insn, p, (int)avail, mode);
            if (likely(status == DECODE_OK)) {
                return insn; /* cached on the next execution, once the TLB holds the page */
            }
        }
    }
    /* Slow path: page-crossing, MMIO/ROM-less code, or CS limit (or the
     * end of the canonical half in 64-bit mode). */
    uint8_t buf[INSN_MAX_LEN];
    uint32_t have = 0;
    if (p) {
        have = avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN;
        memcpy(buf, p, have);
    }
    while (status == DECODE_NEED_MORE) {
        if (have >= limit_avail) {
            cpu_raise_exception_err(cpu, EXC_GP, 0); /* runs past the CS limit */
        }
        uint64_t at = mode == DECODE_64 ? lin + have : (uint32_t)(lin + have);
        buf[have] = (uint8_t)mmu_read_slow(cpu, at, 1, cpu->mmu_idx, ACC_FETCH);
        have++;
        status = decode_insn_mode(insn, buf, (int)have, mode);
    }
    if (status == DECODE_TOO_LONG) {
        cpu_raise_exception_err(cpu, EXC_GP, 0); /* over 15 bytes (SDM Vol.2 2.3.11) */
    }
    return insn;
}

/* DR7 enables an instruction breakpoint at CS:EIP (SDM Vol.3 17.2.4)? */
__attribute__((noinline, cold)) static uint32_t exec_breakpoint_hits(const CPUState *cpu)
{
    uint32_t dr7 = (uint32_t)cpu->dr[7], hits = 0;
    if (!(dr7 & 0xff)) {
        return 0;
    }
    /* in 64-bit mode the CS base does not count: the address is RIP */
    uint64_t lin = (cpu->hflags & HF_CS64) ? cpu->eip : (uint32_t)(cpu->seg[SEG_CS].base + cpu->eip);
    for (int i = 0; i < 4; i++) {
        bool enabled = (dr7 >> (2 * i)) & 3;
        uint32_t rw = (dr7 >> (16 + 4 * i)) & 3;
        uint64_t dr = (cpu->hflags & HF_CS64) ? cpu->dr[i] : (uint32_t)cpu->dr[i];
        if (enabled && rw == 0 && dr == lin) {
            hits |= 1u << i;
        }
    }
    return hits;
}

/* Execute one instruction; faults longjmp out to the caller's setjmp. */
static void exec_one(CPUState *cpu)
{
    Insn scratch;
    bool inhibited = cpu->inhibit_irq;
    uint32_t eflags_before = cpu->eflags;

    /* Instruction breakpoints: not with RF set, nor on the instruction
     * right after MOV SS / POP SS, which Intel CPUs let pass. */
    if (unlikely(cpu->dr[7] & 0xff) && !(eflags_before & EFLAGS_RF) &&
        !(inhibited && cpu->ss_shadow)) {
        uint32_t hits = exec_breakpoint_hits(cpu);
        if (hits) {
            cpu->dr[6] = (cpu->dr[6] & ~0xfu) | hits;
            cpu_raise_exception(cpu, EXC_DB); /* a fault: EIP stays on the instruction */
        }
    }
    const Insn *insn = fetch_decode(cpu, &scratch);
    uint64_t next = cpu->eip + insn->len;
    if (cpu->hflags & HF_CS32) {
        next = (uint32_t)next;
    } else if (!(cpu->hflags & HF_CS64)) {
        next &= 0xffff;
    }
    cpu->next_eip = next;
    cpu->pending_dr6 = 0;
    if (unlikely(cpu->hooks.on_insn != NULL)) {
        cpu->hooks.on_insn(cpu->hooks.observer, cpu, insn);
    }
    if (cpu->insn_census) {
        cpu->insn_census[insn_form(insn)]++;
    }
    interp_exec_insn(cpu, insn);
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (inhibited) {
        cpu->inhibit_irq = false;
        cpu->ss_shadow = false;
    }
    if (eflags_before & EFLAGS_RF) {
        cpu->eflags &= ~EFLAGS_RF; /* RF lasts for one completed instruction (SDM Vol.3 17.3.1.1) */
    }
    /* Traps the instruction earned: data breakpoints and single-step (SDM
     * Vol.3 17.3.1.3: TF as it was when the instruction began), plus any
     * held back by a MOV SS / POP SS just before. */
    uint32_t dr6_bits = cpu->pending_dr6 | cpu->deferred_dr6;
    cpu->deferred_dr6 = 0;
    if (eflags_before & EFLAGS_TF) {
        dr6_bits |= 1u << 14; /* BS */
    }
    if (unlikely(dr6_bits)) {
        cpu->pending_dr6 = 0;
        if (insn->op == OP_MOV_SREG_EW || insn->op == OP_POP_SREG) {
            /* A load of SS holds its debug traps until after the next
             * instruction, so SS:ESP can be switched atomically (SDM
             * Vol.3 6.8.3); they are delayed, never dropped. */
            if (insn->opnd[0].reg == SEG_SS) {
                cpu->deferred_dr6 = dr6_bits;
                return;
            }
        }
        cpu->dr[6] = (cpu->dr[6] & ~0xfu) | dr6_bits;
        cpu->next_eip = cpu->eip;
        cpu_do_interrupt(cpu, EXC_DB, false, false, 0, cpu->eip);
        cpu->eip = cpu->next_eip;
    }
}

/* Take NMI or INTR at an instruction boundary; true if one was delivered. */
static bool take_interrupt(CPUState *cpu)
{
    uint32_t req = cpu->interrupt_request;
    if ((req & CPU_INTERRUPT_NMI) && !cpu->in_nmi) {
        cpu_clear_interrupt(cpu, CPU_INTERRUPT_NMI);
        cpu->halted = false;
        cpu->in_nmi = true;
        cpu->next_eip = cpu->eip;
        cpu_do_interrupt(cpu, EXC_NMI, false, false, 0, cpu->eip);
        cpu->eip = cpu->next_eip;
        return true;
    }
    if ((req & CPU_INTERRUPT_HARD) && (cpu->eflags & EFLAGS_IF) && !cpu->inhibit_irq &&
        cpu->hooks.irq_ack) {
        int vector = cpu->hooks.irq_ack(cpu->hooks.opaque);
        cpu->halted = false;
        if (vector < 0) {
            return false; /* the request went away before INTA */
        }
        if (cpu->hooks.on_exception) {
            cpu->hooks.on_exception(cpu->hooks.observer, cpu, vector & 0xff, 0, true);
        }
        cpu->next_eip = cpu->eip;
        cpu_do_interrupt(cpu, vector & 0xff, false, false, 0, cpu->eip);
        cpu->eip = cpu->next_eip;
        return true;
    }
    return false;
}

/* Deliver the exception a handler raised (we are back from longjmp). */
void cpu_deliver_raised_exception(CPUState *cpu)
{
    int vector = cpu->exception_vector;
    cpu->exception_vector = -1;
    cpu->next_eip = cpu->eip;
    cpu_deliver_exception(cpu, vector, cpu->exception_has_error, cpu->exception_error);
    cpu->eip = cpu->next_eip;
    /* A faulting instruction counts as one step, so cpu_step() always advances. */
    cpu->icount++;
}

int cpu_exec(CPUState *cpu, uint64_t max_insns)
{
    uint64_t end = cpu->icount + max_insns;
    if (setjmp(cpu->jmp_env)) {
        /* A fault: in an instruction, or in the delivery of an event. */
        cpu_deliver_raised_exception(cpu);
    }
    for (;;) {
        if (unlikely(cpu->triple_fault)) {
            return CPU_EXIT_RESET;
        }
        uint32_t req = cpu->interrupt_request;
        if (unlikely(req)) {
            if (req & CPU_INTERRUPT_RESET) {
                return CPU_EXIT_RESET;
            }
            if (req & CPU_INTERRUPT_EXIT) {
                cpu_clear_interrupt(cpu, CPU_INTERRUPT_EXIT);
                return CPU_EXIT_REQUEST;
            }
            take_interrupt(cpu);
        }
        if (cpu->halted) {
            return CPU_EXIT_HALT;
        }
        if (cpu->icount >= end) {
            return CPU_EXIT_BUDGET;
        }
        exec_one(cpu);
    }
}

int cpu_step(CPUState *cpu)
{
    return cpu_exec(cpu, 1);
}

int cpu_exec_replay(CPUState *cpu, uint64_t n)
{
    uint64_t end = cpu->icount + n;
    if (setjmp(cpu->jmp_env)) {
        cpu_deliver_raised_exception(cpu);
    }
    while (cpu->icount < end && !cpu->triple_fault && !cpu->halted) {
        exec_one(cpu);
    }
    return cpu->triple_fault ? CPU_EXIT_RESET : CPU_EXIT_BUDGET;
}
