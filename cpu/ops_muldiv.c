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
 * do we.  The host division is never asked to overflow: INT64_MIN / -1
 * would raise SIGFPE in the emulator itself.
 */
#include "cpu/ops.h"

static inline int32_t sext_size(uint32_t v, int size)
{
    switch (size) {
    case 1: return (int8_t)v;
    case 2: return (int16_t)v;
    default: return (int32_t)v;
    }
}

static inline uint32_t size_mask(int size)
{
    return size == 1 ? 0xffu : size == 2 ? 0xffffu : 0xffffffffu;
}

static void set_mul_flags(CPUState *cpu, int size, uint32_t low, uint32_t a, uint32_t b,
                          bool overflow)
{
    set_cc(cpu, CC_OP_MULB, size, low, a, b);
    cpu->cc_aux = overflow;
}

/* Store a double-width result: AX for bytes, DX:AX or EDX:EAX otherwise. */
static void store_wide(CPUState *cpu, int size, uint64_t product)
{
    switch (size) {
    case 1: reg_write(cpu, R_EAX, 2, (uint32_t)product); break;
    case 2:
        reg_write(cpu, R_EAX, 2, (uint32_t)product);
        reg_write(cpu, R_EDX, 2, (uint32_t)(product >> 16));
        break;
    default:
        cpu->regs[R_EAX] = (uint32_t)product;
        cpu->regs[R_EDX] = (uint32_t)(product >> 32);
        break;
    }
}

/* MUL r/m: AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32. */
void op_MUL(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint32_t b = opnd_read(cpu, insn, 0);
    uint32_t a = reg_read(cpu, R_EAX, size);
    uint64_t product = (uint64_t)a * b;
    int bits = size * 8;
    store_wide(cpu, size, product);
    set_mul_flags(cpu, size, (uint32_t)product, a, b, (product >> bits) != 0);
}

/* IMUL r/m (one operand): signed, same registers as MUL. */
void op_IMUL1(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint32_t b = opnd_read(cpu, insn, 0);
    uint32_t a = reg_read(cpu, R_EAX, size);
    int64_t product = (int64_t)sext_size(a, size) * sext_size(b, size);
    uint32_t low = (uint32_t)product & size_mask(size);
    store_wide(cpu, size, (uint64_t)product);
    set_mul_flags(cpu, size, low, a, b, product != sext_size(low, size));
}

/* Truncating signed multiply for the two- and three-operand forms. */
static void imul_truncating(CPUState *cpu, const Insn *insn, uint32_t a, uint32_t b)
{
    int size = insn->opnd[0].size;
    int64_t product = (int64_t)sext_size(a, size) * sext_size(b, size);
    uint32_t low = (uint32_t)product & size_mask(size);
    opnd_write(cpu, insn, 0, low);
    set_mul_flags(cpu, size, low, a, b, product != sext_size(low, size));
}

/* IMUL r, r/m: r = r * r/m, truncated to the operand size. */
void op_IMUL2(CPUState *cpu, const Insn *insn)
{
    uint32_t b = opnd_read(cpu, insn, 1);
    imul_truncating(cpu, insn, opnd_read(cpu, insn, 0), b);
}

/* IMUL r, r/m, imm: r = r/m * imm (imm8 sign-extended, or imm16/imm32). */
void op_IMUL3(CPUState *cpu, const Insn *insn)
{
    uint32_t a = opnd_read(cpu, insn, 1);
    imul_truncating(cpu, insn, a, opnd_read(cpu, insn, 2));
}

/* DIV r/m: unsigned AX, DX:AX or EDX:EAX by r/m; quotient and remainder
 * to AL/AH, AX/DX or EAX/EDX. */
void op_DIV(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    uint64_t divisor = opnd_read(cpu, insn, 0);
    uint64_t dividend;
    switch (size) {
    case 1: dividend = cpu->regs[R_EAX] & 0xffff; break;
    case 2: dividend = (cpu->regs[R_EDX] & 0xffff) << 16 | (cpu->regs[R_EAX] & 0xffff); break;
    default: dividend = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX]; break;
    }
    if (divisor == 0) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    uint64_t quotient = dividend / divisor;
    uint64_t remainder = dividend % divisor;
    if (quotient > size_mask(size)) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, (uint32_t)(remainder << 8 | quotient));
    } else {
        reg_write(cpu, R_EAX, size, (uint32_t)quotient);
        reg_write(cpu, R_EDX, size, (uint32_t)remainder);
    }
}

/* IDIV r/m: signed; the quotient truncates toward zero and the remainder
 * takes the dividend's sign. */
void op_IDIV(CPUState *cpu, const Insn *insn)
{
    int size = insn->opnd[0].size;
    int64_t divisor = sext_size(opnd_read(cpu, insn, 0), size);
    int64_t dividend;
    switch (size) {
    case 1: dividend = (int16_t)cpu->regs[R_EAX]; break;
    case 2:
        dividend = (int32_t)((cpu->regs[R_EDX] & 0xffff) << 16 | (cpu->regs[R_EAX] & 0xffff));
        break;
    default: dividend = (int64_t)((uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX]); break;
    }
    if (divisor == 0 || (divisor == -1 && dividend == INT64_MIN)) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    int64_t quotient = dividend / divisor;
    int64_t remainder = dividend % divisor;
    int64_t limit = (int64_t)1 << (size * 8 - 1);
    if (quotient >= limit || quotient < -limit) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, ((uint32_t)remainder & 0xff) << 8 | ((uint32_t)quotient & 0xff));
    } else {
        reg_write(cpu, R_EAX, size, (uint32_t)quotient);
        reg_write(cpu, R_EDX, size, (uint32_t)remainder);
    }
}
