/*
 * Multiply and divide: MUL, IMUL (one, two and three operands), DIV, IDIV
 * (SDM Vol.2).
 *
 * MUL and IMUL set CF = OF = "the upper half is significant" (for IMUL: the
 * product does not fit the destination as a signed value).  SF, ZF, AF and
 * PF are undefined; we keep them as CC_OP_MUL defines them (SF, ZF, PF from
 * the low half, AF = 0), which is deterministic.
 *
 * DIV and IDIV raise #DE for a zero divisor and for a quotient that does not
 * fit the destination (SDM Vol.2 DIV, IDIV), before any register changes.
 * All six flags are undefined; the P6 family leaves them unchanged, and so
 * do we.  Operand size 8 divides a 128-bit RDX:RAX (host __int128).  The
 * host division is never asked to overflow: -2^127 / -1 would be undefined
 * in the emulator itself.
 */
#include "cpu/ops.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static void set_mul_flags(CPUState *cpu, int size, uint64_t low, uint64_t a, uint64_t b,
                          bool overflow)
{
    set_cc(cpu, CC_OP_MULB, size, low, a, b);
    cpu->cc_aux = overflow;
}

/* Store a double-width result: AX for bytes, DX:AX, EDX:EAX or RDX:RAX otherwise. */
static void store_wide(CPUState *cpu, int size, u128 product)
{
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, (uint64_t)product);
    } else {
        reg_write(cpu, R_EAX, size, (uint64_t)product);
        reg_write(cpu, R_EDX, size, (uint64_t)(product >> (8 * size)));
    }
}

/* MUL r/m: AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32,
 * RDX:RAX = RAX * r/m64. */
void op_MUL(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint64_t b = opnd_read(cpu, insn, 0);
    uint64_t a = reg_read(cpu, R_EAX, size);
    u128 product = (u128)a * b;
    store_wide(cpu, size, product);
    set_mul_flags(cpu, size, (uint64_t)product, a, b, (product >> (8 * size)) != 0);
}

/* IMUL r/m (one operand): signed, same registers as MUL. */
void op_IMUL1(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint64_t b = opnd_read(cpu, insn, 0);
    uint64_t a = reg_read(cpu, R_EAX, size);
    s128 product = (s128)sext(a, size) * sext(b, size);
    uint64_t low = (uint64_t)product & size_mask(size);
    store_wide(cpu, size, (u128)product);
    set_mul_flags(cpu, size, low, a, b, product != sext(low, size));
}

/* Truncating signed multiply for the two- and three-operand forms. */
static void imul_truncating(CPUState *cpu, const Insn *insn, uint64_t a, uint64_t b)
{
    int size = insn->opnd[0].size;
    s128 product = (s128)sext(a, size) * sext(b, size);
    uint64_t low = (uint64_t)product & size_mask(size);
    opnd_write(cpu, insn, 0, low);
    set_mul_flags(cpu, size, low, a, b, product != sext(low, size));
}

/* IMUL r, r/m: r = r * r/m, truncated to the operand size. */
void op_IMUL2(CPUState *cpu, const Insn *insn)
{
    uint64_t b = opnd_read(cpu, insn, 1);
    imul_truncating(cpu, insn, opnd_read(cpu, insn, 0), b);
}

/* IMUL r, r/m, imm: r = r/m * imm (imm8 sign-extended, or imm16/imm32). */
void op_IMUL3(CPUState *cpu, const Insn *insn)
{
    uint64_t a = opnd_read(cpu, insn, 1);
    imul_truncating(cpu, insn, a, opnd_read(cpu, insn, 2));
}

/* The double-width dividend: AX, DX:AX, EDX:EAX or RDX:RAX. */
static u128 dividend_of(const CPUState *cpu, int size)
{
    if (size == 1) {
        return cpu->regs[R_EAX] & 0xffff;
    }
    return (u128)reg_read(cpu, R_EDX, size) << (8 * size) | reg_read(cpu, R_EAX, size);
}

/* DIV r/m: unsigned AX, DX:AX, EDX:EAX or RDX:RAX by r/m; quotient and
 * remainder to AL/AH, AX/DX, EAX/EDX or RAX/RDX. */
void op_DIV(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint64_t divisor = opnd_read(cpu, insn, 0);
    u128 dividend = dividend_of(cpu, size);
    if (divisor == 0) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    u128 quotient = dividend / divisor;
    u128 remainder = dividend % divisor;
    if (quotient > size_mask(size)) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, (uint64_t)(remainder << 8 | quotient));
    } else {
        reg_write(cpu, R_EAX, size, (uint64_t)quotient);
        reg_write(cpu, R_EDX, size, (uint64_t)remainder);
    }
}

/* IDIV r/m: signed; the quotient truncates toward zero and the remainder
 * takes the dividend's sign. */
void op_IDIV(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    s128 divisor = sext(opnd_read(cpu, insn, 0), size);
    /* sign-extend the 2*size-byte dividend from its top bit */
    u128 raw = dividend_of(cpu, size);
    int shift = 128 - 16 * size;
    s128 dividend = (s128)(raw << shift) >> shift;
    /* -2^127 / -1 would overflow the host's division itself; its quotient
     * fits no destination anyway. */
    const s128 min128 = (s128)((u128)1 << 127);
    if (divisor == 0 || (divisor == -1 && dividend == min128)) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    s128 limit = (s128)1 << (size * 8 - 1);
    s128 quotient = dividend / divisor;
    s128 remainder = dividend % divisor;
    if (quotient >= limit || quotient < -limit) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, ((uint64_t)remainder & 0xff) << 8 | ((uint64_t)quotient & 0xff));
    } else {
        reg_write(cpu, R_EAX, size, (uint64_t)quotient);
        reg_write(cpu, R_EDX, size, (uint64_t)remainder);
    }
}
