/*
 * x87 arithmetic, comparison and transcendental instructions.
 *
 * Each handler reads its memory operand first (the only access that can
 * fault), then checks the register stack: an empty operand register is a
 * stack underflow (IE and SF, C1=0), whose masked response writes the QNaN
 * indefinite to the destination (SDM Vol.1 8.5.1.1).  The operation itself
 * runs on the host FPU (cpu/fpu_host.c); fpu_finish() merges its flags and
 * says whether an unmasked exception stopped the instruction before its
 * result was written (SDM Vol.1 8.5: the operands, the destination and the
 * stack are then left as they were).
 */
#include "cpu/fpu_internal.h"

/* ---- FADD FSUB FSUBR FMUL FDIV FDIVR and their P and integer forms ---- */

/* ST(dst) = ST(dst) op b, popping afterwards if asked. */
static void arith_to_reg(CPUState *cpu, int dst, int op, const F80 *b, bool pop)
{
    F80 a = fpu_get(cpu, dst);
    uint16_t sw = x87_binop(cpu->fpu.fcw, op, &a, b);
    if (fpu_finish(cpu, sw, FSW_C1, false)) {
        fpu_set(cpu, dst, a);
        if (pop) {
            fpu_pop(cpu);
        }
    }
}

/* Masked response to an empty operand: the destination gets the indefinite. */
static void arith_underflow(CPUState *cpu, int dst, bool pop)
{
    if (fpu_stack_fault(cpu, false)) {
        fpu_set(cpu, dst, fpu_indefinite);
        if (pop) {
            fpu_pop(cpu);
        }
    }
}

static void arith_regs(CPUState *cpu, int dst, int src, int op, bool pop)
{
    if (fpu_empty(cpu, dst) || fpu_empty(cpu, src)) {
        arith_underflow(cpu, dst, pop);
        return;
    }
    F80 b = fpu_get(cpu, src);
    arith_to_reg(cpu, dst, op, &b, pop);
}

/* D8 reg: ST(0) = ST(0) op ST(i). */
void fpu_op_arith_st0(CPUState *cpu, const Insn *insn, int op)
{
    arith_regs(cpu, 0, insn->rm, op, false);
}

/* DC reg: ST(i) = ST(i) op ST(0). */
void fpu_op_arith_sti(CPUState *cpu, const Insn *insn, int op)
{
    arith_regs(cpu, insn->rm, 0, op, false);
}

/* DE reg: ST(i) = ST(i) op ST(0), then pop. */
void fpu_op_arith_sti_pop(CPUState *cpu, const Insn *insn, int op)
{
    arith_regs(cpu, insn->rm, 0, op, true);
}

void fpu_op_arith_m32(CPUState *cpu, const Insn *insn, int op)
{
    uint32_t m = (uint32_t)fpu_read_operand(cpu, insn, 4);
    if (fpu_empty(cpu, 0)) {
        arith_underflow(cpu, 0, false);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint16_t sw = x87_binop_m32(cpu->fpu.fcw, op, &a, m);
    if (fpu_finish(cpu, sw, FSW_C1, false)) {
        fpu_set(cpu, 0, a);
    }
}

void fpu_op_arith_m64(CPUState *cpu, const Insn *insn, int op)
{
    uint64_t m = fpu_read_operand(cpu, insn, 8);
    if (fpu_empty(cpu, 0)) {
        arith_underflow(cpu, 0, false);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint16_t sw = x87_binop_m64(cpu->fpu.fcw, op, &a, m);
    if (fpu_finish(cpu, sw, FSW_C1, false)) {
        fpu_set(cpu, 0, a);
    }
}

/* An integer operand converts to extended exactly, so FIADD and friends
 * are the register operation on the converted value. */
static void arith_int(CPUState *cpu, int op, int64_t value)
{
    if (fpu_empty(cpu, 0)) {
        arith_underflow(cpu, 0, false);
        return;
    }
    F80 b = fpu_from_int64(value);
    arith_to_reg(cpu, 0, op, &b, false);
}

void fpu_op_arith_i16(CPUState *cpu, const Insn *insn, int op)
{
    arith_int(cpu, op, (int16_t)fpu_read_operand(cpu, insn, 2));
}

void fpu_op_arith_i32(CPUState *cpu, const Insn *insn, int op)
{
    arith_int(cpu, op, (int32_t)fpu_read_operand(cpu, insn, 4));
}

/* ---- FCOM FCOMP FCOMPP FUCOM* FICOM* FCOMI* FUCOMI* ---- */

/* FCOMI and friends: ZF, PF, CF from C3, C2, C0; OF, SF, AF cleared
 * (SDM Vol.2 FCOMI, Table 3-27). */
static void compare_set_eflags(CPUState *cpu, uint16_t cc)
{
    cpu_flush_flags(cpu);
    cpu->eflags &= ~(EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF | EFLAGS_OF | EFLAGS_SF | EFLAGS_AF);
    if (cc & FSW_C3) {
        cpu->eflags |= EFLAGS_ZF;
    }
    if (cc & FSW_C2) {
        cpu->eflags |= EFLAGS_PF;
    }
    if (cc & FSW_C0) {
        cpu->eflags |= EFLAGS_CF;
    }
}

static void compare_pop(CPUState *cpu, int variant)
{
    if (variant & (FCMP_POP1 | FCMP_POP2)) {
        fpu_pop(cpu);
    }
    if (variant & FCMP_POP2) {
        fpu_pop(cpu);
    }
}

/* Commit a comparison the host made: FCOM's result goes to C3, C2, C0 (C1
 * cleared); FCOMI's to EFLAGS, with only C1 changing in the status word. */
static void compare_finish(CPUState *cpu, uint16_t sw, int variant)
{
    if (variant & FCMP_EFLAGS) {
        if (fpu_finish(cpu, sw, FSW_C1, false)) {
            compare_set_eflags(cpu, sw);
            compare_pop(cpu, variant);
        }
    } else if (fpu_finish(cpu, sw, FSW_CC, false)) {
        compare_pop(cpu, variant);
    }
}

/* An empty operand: masked, the result is "unordered". */
static void compare_underflow(CPUState *cpu, int variant)
{
    if (!fpu_stack_fault(cpu, false)) {
        return;
    }
    if (variant & FCMP_EFLAGS) {
        compare_set_eflags(cpu, FSW_C3 | FSW_C2 | FSW_C0);
    } else {
        cpu->fpu.fsw |= FSW_C3 | FSW_C2 | FSW_C0;
    }
    compare_pop(cpu, variant);
}

static void compare_regs(CPUState *cpu, int i, int variant)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, i)) {
        compare_underflow(cpu, variant);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    F80 b = fpu_get(cpu, i);
    uint16_t sw = x87_compare(cpu->fpu.fcw, &a, &b, variant & FCMP_UNORDERED);
    compare_finish(cpu, sw, variant);
}

void fpu_op_com_sti(CPUState *cpu, const Insn *insn, int variant)
{
    compare_regs(cpu, insn->rm, variant);
}

/* FCOMPP, FUCOMPP: always ST(0) with ST(1). */
void fpu_op_com_st1(CPUState *cpu, const Insn *insn, int variant)
{
    compare_regs(cpu, 1, variant);
}

void fpu_op_com_m32(CPUState *cpu, const Insn *insn, int variant)
{
    uint32_t m = (uint32_t)fpu_read_operand(cpu, insn, 4);
    if (fpu_empty(cpu, 0)) {
        compare_underflow(cpu, variant);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    compare_finish(cpu, x87_compare_m32(cpu->fpu.fcw, &a, m), variant);
}

void fpu_op_com_m64(CPUState *cpu, const Insn *insn, int variant)
{
    uint64_t m = fpu_read_operand(cpu, insn, 8);
    if (fpu_empty(cpu, 0)) {
        compare_underflow(cpu, variant);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    compare_finish(cpu, x87_compare_m64(cpu->fpu.fcw, &a, m), variant);
}

static void compare_int(CPUState *cpu, int64_t value, int variant)
{
    if (fpu_empty(cpu, 0)) {
        compare_underflow(cpu, variant);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    F80 b = fpu_from_int64(value);
    compare_finish(cpu, x87_compare(cpu->fpu.fcw, &a, &b, false), variant);
}

void fpu_op_com_i16(CPUState *cpu, const Insn *insn, int variant)
{
    compare_int(cpu, (int16_t)fpu_read_operand(cpu, insn, 2), variant);
}

void fpu_op_com_i32(CPUState *cpu, const Insn *insn, int variant)
{
    compare_int(cpu, (int32_t)fpu_read_operand(cpu, insn, 4), variant);
}

void fpu_op_ftst(CPUState *cpu, const Insn *insn, int arg)
{
    if (fpu_empty(cpu, 0)) {
        compare_underflow(cpu, 0);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    fpu_finish(cpu, x87_unary(cpu->fpu.fcw, X87_FTST, &a), FSW_CC, false);
}

/* FXAM never faults; an empty ST(0) is the class C3=1 C2=0 C0=1 with C1
 * still the sign of whatever the register holds (SDM Vol.2 FXAM). */
void fpu_op_fxam(CPUState *cpu, const Insn *insn, int arg)
{
    F80 a = fpu_get(cpu, 0);
    if (fpu_empty(cpu, 0)) {
        uint16_t cc = FSW_C3 | FSW_C0 | ((a.se & F80_SIGN) ? FSW_C1 : 0);
        cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~FSW_CC) | cc);
        return;
    }
    fpu_finish(cpu, x87_unary(cpu->fpu.fcw, X87_FXAM, &a), FSW_CC, false);
}

/* ---- operations on ST(0) ---- */

static bool st0_underflow(CPUState *cpu)
{
    if (!fpu_empty(cpu, 0)) {
        return false;
    }
    arith_underflow(cpu, 0, false);
    return true;
}

/* FCHS and FABS only touch the sign: no exception, not even for an SNaN. */
void fpu_op_fchs(CPUState *cpu, const Insn *insn, int arg)
{
    if (st0_underflow(cpu)) {
        return;
    }
    F80 a = fpu_get(cpu, 0);
    a.se ^= F80_SIGN;
    fpu_set(cpu, 0, a);
    fpu_set_c1(cpu, false);
}

void fpu_op_fabs(CPUState *cpu, const Insn *insn, int arg)
{
    if (st0_underflow(cpu)) {
        return;
    }
    F80 a = fpu_get(cpu, 0);
    a.se &= (uint16_t)~F80_SIGN;
    fpu_set(cpu, 0, a);
    fpu_set_c1(cpu, false);
}

/* FSQRT, FRNDINT, F2XM1, FSIN, FCOS.  FSIN and FCOS set C2 and leave ST(0)
 * alone when |ST(0)| >= 2^63 (SDM Vol.2 FSIN). */
void fpu_op_unary(CPUState *cpu, const Insn *insn, int op)
{
    if ((op == X87_FSIN || op == X87_FCOS) && fpu_empty(cpu, 0)) {
        /* After a stack fault FSIN and FCOS report an operand in range
         * (C2=0), as the hardware does (the translator runs them natively) */
        cpu->fpu.fsw &= (uint16_t) ~FSW_C2;
    }
    if (st0_underflow(cpu)) {
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint16_t cc = (op == X87_FSIN || op == X87_FCOS) ? (FSW_C1 | FSW_C2) : FSW_C1;
    uint16_t sw = x87_unary(cpu->fpu.fcw, op, &a);
    if (fpu_finish(cpu, sw, cc, false)) {
        fpu_set(cpu, 0, a);
    }
}

/* FSCALE, FPREM, FPREM1: ST(0) = op(ST(0), ST(1)).  FPREM reports the low
 * quotient bits in C0, C3, C1 and an incomplete reduction in C2. */
void fpu_op_binary_st0(CPUState *cpu, const Insn *insn, int op)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, 1)) {
        if (op != X87_FSCALE) {
            /* After a stack fault FPREM reports a complete reduction
             * (C2=0) and leaves C0/C3, as the hardware does (host-CPU
             * oracle). */
            cpu->fpu.fsw &= (uint16_t) ~FSW_C2;
        }
        arith_underflow(cpu, 0, false);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    F80 b = fpu_get(cpu, 1);
    F80 r;
    uint16_t cc = op == X87_FSCALE ? FSW_C1 : FSW_CC;
    if (op != X87_FSCALE && (f80_is_nan(&a) || f80_is_nan(&b))) {
        /* A NaN operand yields no quotient bits: the hardware clears C1
         * and C2 and leaves C0 and C3 (host-CPU oracle). */
        cc = FSW_C1 | FSW_C2;
    }
    uint16_t sw = x87_binary(cpu->fpu.fcw, op, &a, &b, &r);
    if (op != X87_FSCALE && (sw & FSW_IE)) {
        /* Nor does any other invalid operand (an infinity, a zero divisor):
         * C0 and C3 stay the guest's, not what the host FPU had before
         * (the translator runs FPREM natively, on the guest's status). */
        cc = FSW_C1 | FSW_C2;
    }
    if (fpu_finish(cpu, sw, cc, false)) {
        fpu_set(cpu, 0, r);
    }
}

/* FYL2X, FYL2XP1, FPATAN: ST(1) = op(ST(0), ST(1)), then pop. */
void fpu_op_binary_pop(CPUState *cpu, const Insn *insn, int op)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, 1)) {
        arith_underflow(cpu, 1, true);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    F80 b = fpu_get(cpu, 1);
    F80 r;
    uint16_t sw = x87_binary(cpu->fpu.fcw, op, &a, &b, &r);
    if (fpu_finish(cpu, sw, FSW_C1, false)) {
        fpu_set(cpu, 1, r);
        fpu_pop(cpu);
    }
}

/*
 * FPTAN, FSINCOS, FXTRACT replace ST(0) and push a second result, so they
 * need ST(7) free as well.  The masked response to either stack fault is
 * the indefinite in both places.  FPTAN and FSINCOS out of range set C2
 * and change nothing else.
 */
void fpu_op_split(CPUState *cpu, const Insn *insn, int op)
{
    bool underflow = fpu_empty(cpu, 0);
    if (underflow || !fpu_empty(cpu, 7)) {
        if (op != X87_FXTRACT) {
            cpu->fpu.fsw &= (uint16_t) ~FSW_C2; /* in range, as FSIN's stack fault */
        }
        if (fpu_stack_fault(cpu, !underflow)) {
            fpu_set(cpu, 0, fpu_indefinite);
            fpu_push(cpu, fpu_indefinite);
        }
        return;
    }
    F80 a = fpu_get(cpu, 0);
    F80 below, pushed;
    uint16_t cc = op == X87_FXTRACT ? FSW_C1 : (FSW_C1 | FSW_C2);
    uint16_t sw = x87_split(cpu->fpu.fcw, op, &a, &below, &pushed);
    if (!fpu_finish(cpu, sw, cc, false)) {
        return;
    }
    if (op != X87_FXTRACT && (sw & FSW_C2)) {
        return;
    }
    fpu_set(cpu, 0, below);
    fpu_push(cpu, pushed);
}
