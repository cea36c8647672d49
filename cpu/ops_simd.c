/*
 * Interpreter handlers for the MMX, SSE, SSE2, SSE3 and SSSE3 instructions
 * (one handler, op_simd, for every operation of cpu/simd_ops.def) and the
 * non-arithmetic SSE/SSE2 instructions: LDMXCSR, STMXCSR, CLFLUSH, the
 * fences and MOVNTI.
 *
 * What op_simd wraps around each operation, in the order the SDM lists the
 * exception conditions (Vol.3 Tables 2-2 and 13-1, Vol.2 3.1.1.13 and 22.x):
 *
 *   CR0.EM=1 -> #UD; an XMM or SIMD floating-point instruction with
 *   CR4.OSFXSR=0 -> #UD; CR0.TS=1 -> #NM; an instruction on MMX registers
 *   with an x87 exception pending -> #MF (or FERR#, as any waiting x87
 *   instruction); then the memory operand (#GP/#SS/#PF; #GP(0) for a
 *   16-byte operand that is not 16-byte aligned, Vol.1 11.6.8); then the
 *   operation; an unmasked SIMD floating-point exception leaves the
 *   destination as it was and raises #XM with CR4.OSXMMEXCPT=1, #UD with 0
 *   (Vol.3 6.15, Interrupt 19).
 *
 * MMX registers are the low 64 bits of the x87 physical registers R0-R7
 * (Vol.1 9.5): a write sets the register's exponent and sign bits to all
 * ones, and every MMX instruction sets TOP to 0 and all tags to valid but
 * EMMS, which sets them all empty (Vol.1 Table 9-2).
 */
#include <string.h>

#include "cpu/fpu_internal.h"
#include "cpu/ops.h"
#include "cpu/simd.h"

/* The CR0/CR4 checks and the pending x87 error (see above). */
static void simd_check(CPUState *cpu, bool mmx, bool sse)
{
    if (cpu->cr0 & CR0_EM) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (sse && !(cpu->cr4 & CR4_OSFXSR)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (cpu->cr0 & CR0_TS) {
        cpu_raise_exception(cpu, EXC_NM);
    }
    if (mmx) {
        fpu_check_pending(cpu);
    }
}

uint64_t cpu_mmx_read(const CPUState *cpu, int reg)
{
    return fpu_get_phys(cpu, reg).sig;
}

void cpu_mmx_write(CPUState *cpu, int reg, uint64_t value)
{
    F80 v = {value, 0xffff};
    fpu_set_phys(cpu, reg, v);
}

/* The x87-to-MMX transition: TOP = 0, every tag valid. */
static void mmx_enter(CPUState *cpu)
{
    cpu->fpu.top = 0;
    cpu->fpu.ftw = 0;
}

/* The segment base that counts for an alignment check: in 64-bit mode only
 * FS's and GS's. */
static uint64_t simd_base(const CPUState *cpu, const Insn *insn)
{
    if ((cpu->hflags & HF_CS64) && insn->seg < SEG_FS) {
        return 0;
    }
    return cpu->seg[insn->seg].base;
}

static bool opnd_is(const Insn *insn, int kind)
{
    return insn->opnd[0].kind == kind || insn->opnd[1].kind == kind;
}

/* Read a register or memory operand into *v (memory zero-extended). */
static void simd_read(CPUState *cpu, const Insn *insn, int i, uint8_t flags, SimdReg *v)
{
    const Operand *o = &insn->opnd[i];
    memset(v, 0, sizeof(*v));
    switch (o->kind) {
    case OPK_XMM: memcpy(v, cpu_xmm(cpu, o->reg), 16); break;
    case OPK_MMX: v->q[0] = cpu_mmx_read(cpu, o->reg); break;
    case OPK_REG: v->q[0] = reg_read(cpu, o->reg, o->size); break;
    case OPK_IMM: v->q[0] = insn->imm & 0xff; break;
    case OPK_MEM: {
        uint64_t ea = insn_ea(cpu, insn);
        if (o->size == 16 && !(flags & SF_UNALIGNED) && (simd_base(cpu, insn) + ea) & 15) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        fpu_mem_read(cpu, insn->seg, ea, o->size, v->b);
        break;
    }
    default: break;
    }
}

/* Check a 16-byte memory destination's alignment before anything is run. */
static void simd_check_store(CPUState *cpu, const Insn *insn, uint8_t flags)
{
    const Operand *o = &insn->opnd[0];
    if (o->kind == OPK_MEM && o->size == 16 && !(flags & SF_UNALIGNED) &&
        ((simd_base(cpu, insn) + insn_ea(cpu, insn)) & 15)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

static void simd_write(CPUState *cpu, const Insn *insn, const SimdReg *v)
{
    const Operand *o = &insn->opnd[0];
    switch (o->kind) {
    case OPK_XMM: memcpy(cpu_xmm(cpu, o->reg), v, 16); break;
    case OPK_MMX: cpu_mmx_write(cpu, o->reg, v->q[0]); break;
    case OPK_REG: reg_write(cpu, o->reg, o->size == 8 ? 8 : 4, v->q[0]); break;
    case OPK_MEM: fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), o->size, v->b); break;
    default: break;
    }
}

/*
 * Fold the flags an operation raised into the guest's MXCSR.  With an
 * unmasked exception detected before the computation (invalid, denormal,
 * divide by zero), the computation does not happen, so only those flags
 * are set (SDM Vol.1 11.5.2).  Returns whether the guest takes the fault.
 */
static bool simd_fp_finish(CPUState *cpu, uint32_t host_mxcsr)
{
    uint32_t guest = cpu->fpu.mxcsr;
    uint32_t raised = host_mxcsr & MXCSR_FLAGS;
    uint32_t unmasked = raised & ~(guest >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
    if (unmasked & MXCSR_PRE) {
        raised &= MXCSR_PRE;
    }
    cpu->fpu.mxcsr = guest | raised;
    return unmasked != 0;
}

/*
 * With underflow unmasked, a tiny result raises UE even when it is exact;
 * masked, only a tiny and inexact one does (SDM Vol.1 11.5.2.3).  The host
 * runs masked, so a second run with FTZ set tells: FTZ flushes every tiny
 * result and then reports UE.  Returns MXCSR_UE or 0.
 */
static uint32_t simd_tiny_exact(SimdFn fn, const SimdIO *in, uint32_t guest)
{
    SimdIO again = *in;
    again.mxcsr = (guest & ~MXCSR_FLAGS) | MXCSR_MASKS | MXCSR_FTZ;
    fn(&again);
    return again.mxcsr & MXCSR_UE;
}

static void simd_raise_xm(CPUState *cpu)
{
    cpu_raise_exception(cpu, (cpu->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
}

/* MASKMOVQ/MASKMOVDQU: the bytes of the first register whose mask byte in
 * the second has bit 7 set go to DS:[eDI] (segment overridable).  Every
 * selected byte is checked before any is stored. */
static void simd_maskmove(CPUState *cpu, const Insn *insn, bool mmx)
{
    SimdReg data, mask;
    simd_read(cpu, insn, 0, 0, &data);
    simd_read(cpu, insn, 1, 0, &mask);
    int n = mmx ? 8 : 16;
    uint64_t amask = size_mask(insn->adsize); /* DI, EDI or RDI */
    uint64_t base = cpu->regs[R_EDI] & amask;
    uint64_t lin[16];
    for (int i = 0; i < n; i++) {
        if (mask.b[i] & 0x80) {
            uint64_t off = (base + (uint64_t)i) & amask;
            lin[i] = seg_translate(cpu, insn->seg, off, 1, true);
            fpu_probe_linear(cpu, lin[i], 1);
        }
    }
    for (int i = 0; i < n; i++) {
        if (mask.b[i] & 0x80) {
            lin_write(cpu, lin[i], 1, data.b[i]);
        }
    }
}

void op_simd(CPUState *cpu, const Insn *insn)
{
    const SimdDesc *sd = &simd_descs[insn->op - OP_SIMD_FIRST];
    bool has_mmx = opnd_is(insn, OPK_MMX);
    bool has_xmm = opnd_is(insn, OPK_XMM);
    bool fp = simd_form_fp(sd->form);
    simd_check(cpu,
               has_mmx || insn->op == OP_EMMS || sd->form == SIMD_XM_F || sd->form == SIMD_MX_F,
               has_xmm || fp);
    if (insn->op == OP_EMMS) {
        cpu->fpu.top = 0; /* SDM Vol.1 Table 9-2: TOS 000, every tag empty */
        cpu->fpu.ftw = 0xffff;
        return;
    }
    if (insn->op == OP_MASKMOVQ || insn->op == OP_MASKMOVDQU) {
        simd_maskmove(cpu, insn, insn->op == OP_MASKMOVQ);
        if (has_mmx) {
            mmx_enter(cpu);
        }
        return;
    }

    SimdIO io;
    memset(&io, 0, sizeof(io));
    io.mmx = has_mmx && !has_xmm;
    io.store = insn->opnd[0].kind == OPK_MEM;
    simd_check_store(cpu, insn, sd->flags);
    if (!io.store) {
        simd_read(cpu, insn, 0, sd->flags, &io.d);
    }
    simd_read(cpu, insn, 1, sd->flags, &io.s);
    if ((sd->flags & SF_ZMEM) && insn->opnd[1].kind == OPK_MEM) {
        memset(&io.d, 0, sizeof(io.d));
    }
    if (insn->nopnds > 2) {
        io.imm = (uint8_t)insn->imm;
    }
    if (has_mmx && !io.store) {
        mmx_enter(cpu); /* before an #XM too, as the hardware does */
    }
    SimdFn fn = io.mmx && sd->fn_mmx ? sd->fn_mmx : sd->fn;
    if ((sd->form == SIMD_XG_F && insn->opnd[1].size == 8) ||
        (sd->form == SIMD_GX_F && insn->opnd[0].size == 8)) {
        fn = simd_fn_int64(insn->op); /* REX.W: a 64-bit integer */
    }
    SimdIO in = io;
    io.mxcsr = (cpu->fpu.mxcsr & ~MXCSR_FLAGS) | MXCSR_MASKS;
    if (!(cpu->fpu.mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT))) {
        io.mxcsr &= ~MXCSR_FTZ; /* FTZ applies only with underflow masked (SDM Vol.1 10.2.3.3) */
    }
    fn(&io);
    if (fp) {
        uint32_t raised = io.mxcsr;
        if (!(cpu->fpu.mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT)) && !(raised & MXCSR_UE)) {
            raised |= simd_tiny_exact(fn, &in, cpu->fpu.mxcsr);
        }
        uint32_t post = raised & ~(cpu->fpu.mxcsr >> MXCSR_MASK_SHIFT) & (MXCSR_UE | MXCSR_OE);
        if (post) {
            raised = simd_unbounded_pe(insn->op, &in, cpu->fpu.mxcsr, raised, post);
        }
        if (simd_fp_finish(cpu, raised)) {
            simd_raise_xm(cpu);
        }
    }
    if (sd->form == SIMD_FL_F) {
        /* (U)COMISS/SD: ZF, PF, CF from the compare; OF, SF, AF cleared. */
        cpu_flush_flags(cpu);
        cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | (io.zf ? EFLAGS_ZF : 0) |
                      (io.pf ? EFLAGS_PF : 0) | (io.cf ? EFLAGS_CF : 0);
    } else {
        simd_write(cpu, insn, &io.d);
    }
    if (has_mmx && io.store) {
        mmx_enter(cpu); /* after the store: a #PF or #GP on it leaves TOP and the tags alone */
    }
}

/* ---- the rest of SSE/SSE2's additions ---- */

void op_LDMXCSR(CPUState *cpu, const Insn *insn)
{
    simd_check(cpu, false, true);
    uint32_t v = (uint32_t)seg_read(cpu, insn->seg, insn_ea(cpu, insn), 4);
    if (v & ~FPU_MXCSR_MASK) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu->fpu.mxcsr = v;
}

void op_STMXCSR(CPUState *cpu, const Insn *insn)
{
    simd_check(cpu, false, true);
    seg_write(cpu, insn->seg, insn_ea(cpu, insn), 4, cpu->fpu.mxcsr);
}

/* CLFLUSH: there is no cache to flush, but the access is checked as a
 * one-byte read, faults included (SDM Vol.2 CLFLUSH); memory-mapped
 * devices see nothing. */
void op_CLFLUSH(CPUState *cpu, const Insn *insn)
{
    uint64_t lin = seg_translate(cpu, insn->seg, insn_ea(cpu, insn), 1, false);
    TLBEntry *e = tlb_entry(cpu, (int)cpu->mmu_idx, lin);
    if (e->tag[ACC_READ] != (lin & TLB_PAGE_MASK)) {
        mmu_probe(cpu, lin, 1, ACC_READ, (int)cpu->mmu_idx);
    }
}

/* LFENCE, MFENCE, SFENCE: one instruction at a time is already ordered. */
void op_FENCE(CPUState *cpu, const Insn *insn)
{
    (void)cpu;
    (void)insn;
}

/* MOVNTI: a plain store (the non-temporal hint has no effect here). */
void op_MOVNTI(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, opnd_read(cpu, insn, 1));
}
