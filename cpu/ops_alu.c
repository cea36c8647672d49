/*
 * Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC
 * NOT NEG, and the exchanging forms XADD CMPXCHG CMPXCHG8B (SDM Vol.2).
 *
 * Every handler reads its operands first (a memory destination through
 * opnd_rmw_read, which checks write access before the read), computes, and
 * only then writes: the writes cannot fault any more, so a fault leaves the
 * guest state as before the instruction.  Flags are left lazy (cpu/flags.c);
 * values may carry bits above the operand size, which the writes and the
 * flag computation mask.  LOCK needs nothing here: one guest CPU runs on one
 * host thread, so every read-modify-write is already atomic to the guest.
 */
#include "cpu/ops.h"

void op_ADD(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint64_t res = a + b;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_ADDB, dst.size, res, a, b);
}

void op_OR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t res = a | opnd_read(cpu, insn, 1);
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_LOGICB, dst.size, res, 0, 0);
}

/* ADC: the carry in is kept in cc_aux so CF can be rebuilt (res <= a with a carry in). */
void op_ADC(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint64_t cin = flags_carry(cpu);
    uint64_t res = a + b + cin;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_ADCB, dst.size, res, a, b);
    cpu->cc_aux = cin;
}

void op_SBB(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint64_t cin = flags_carry(cpu);
    uint64_t res = a - b - cin;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SBBB, dst.size, res, a, b);
    cpu->cc_aux = cin;
}

void op_AND(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t res = a & opnd_read(cpu, insn, 1);
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_LOGICB, dst.size, res, 0, 0);
}

void op_SUB(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint64_t res = a - b;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SUBB, dst.size, res, a, b);
}

void op_XOR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t res = a ^ opnd_read(cpu, insn, 1);
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_LOGICB, dst.size, res, 0, 0);
}

/* CMP: SUB without the write; the destination is only read (no write check). */
void op_CMP(CPUState *cpu, const Insn *insn)
{
    uint64_t a = opnd_read(cpu, insn, 0);
    uint64_t b = opnd_read(cpu, insn, 1);
    set_cc(cpu, CC_OP_SUBB, insn->opnd[0].size, a - b, a, b);
}

void op_TEST(CPUState *cpu, const Insn *insn)
{
    uint64_t res = opnd_read(cpu, insn, 0) & opnd_read(cpu, insn, 1);
    set_cc(cpu, CC_OP_LOGICB, insn->opnd[0].size, res, 0, 0);
}

/* INC and DEC leave CF alone (SDM Vol.2 INC): the old CF goes to cc_aux. */
void op_INC(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t cf = flags_carry(cpu);
    uint64_t res = a + 1;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_INCB, dst.size, res, a, 1);
    cpu->cc_aux = cf;
}

void op_DEC(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t cf = flags_carry(cpu);
    uint64_t res = a - 1;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_DECB, dst.size, res, a, 1);
    cpu->cc_aux = cf;
}

/* NOT changes no flags. */
void op_NOT(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    opnd_rmw_write(cpu, &dst, ~a);
}

/* NEG is 0 - a: CF = (a != 0), OF for the most negative value (SDM Vol.2 NEG). */
void op_NEG(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t res = 0 - a;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SUBB, dst.size, res, 0, a);
}

/*
 * XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (SDM Vol.2 XADD).  The
 * source register is written before the destination, so XADD r, r with the
 * same register leaves the sum.
 */
void op_XADD(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint64_t res = a + b;
    opnd_write(cpu, insn, 1, a);
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_ADDB, dst.size, res, a, b);
}

/*
 * CMPXCHG: compare the accumulator with DEST (flags as CMP acc, DEST); if
 * equal DEST = SRC, else the accumulator = DEST.  The destination is written
 * either way, with its own value on a mismatch (SDM Vol.2 CMPXCHG: "the
 * destination operand is written back if the comparison fails"), so a
 * read-only destination faults as a write in both cases.
 */
void op_CMPXCHG(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    int size = insn->opnd[0].size;
    uint64_t dest = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t src = opnd_read(cpu, insn, 1);
    uint64_t acc = reg_read(cpu, R_EAX, size);
    set_cc(cpu, CC_OP_SUBB, size, acc - dest, acc, dest);
    if (acc == dest) {
        opnd_rmw_write(cpu, &dst, src);
    } else {
        if (dst.is_mem) {
            opnd_rmw_write(cpu, &dst, dest);
        }
        /* a register destination is not written: in 64-bit mode its
         * upper half stays (the host CPU's behaviour) */
        reg_write(cpu, R_EAX, size, dest);
    }
}

/*
 * CMPXCHG8B m64: compare EDX:EAX with m64; equal: ZF = 1 and m64 = ECX:EBX;
 * else ZF = 0 and EDX:EAX = m64, with m64 written back unchanged.  Only ZF
 * changes (SDM Vol.2 CMPXCHG8B).  The whole quadword is checked for write
 * before anything is read, so a fault (also on a page-crossing operand)
 * leaves memory and registers untouched.  With REX.W it is CMPXCHG16B m128
 * on RDX:RAX and RCX:RBX, whose operand must be 16-byte aligned (#GP(0)).
 */
void op_CMPXCHG8B(CPUState *cpu, const Insn *insn)
{
    bool wide = insn->opnd[0].size == 16;
    int half = wide ? 8 : 4;
    uint64_t lin = seg_translate(cpu, insn->seg, insn_ea(cpu, insn), 2 * half, true);
    if (wide && (lin & 15)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0); /* before any #PF */
    }
    mmu_probe(cpu, lin, 2 * half, ACC_WRITE, cpu->mmu_idx);
    uint64_t lo = lin_read(cpu, lin, half);
    uint64_t hi = lin_read(cpu, lin_next(cpu, lin, (uint32_t)half), half);
    bool equal = lo == reg_read(cpu, R_EAX, half) && hi == reg_read(cpu, R_EDX, half);
    if (equal) {
        lin_write(cpu, lin, half, cpu->regs[R_EBX]);
        lin_write(cpu, lin_next(cpu, lin, (uint32_t)half), half, cpu->regs[R_ECX]);
    } else {
        lin_write(cpu, lin, half, lo);
        lin_write(cpu, lin_next(cpu, lin, (uint32_t)half), half, hi);
        reg_write(cpu, R_EAX, half, lo);
        reg_write(cpu, R_EDX, half, hi);
    }
    cpu_flush_flags(cpu);
    cpu->eflags = (cpu->eflags & ~EFLAGS_ZF) | (equal ? EFLAGS_ZF : 0);
}
