/*
 * Bit and flag instructions: BT BTS BTR BTC BSF BSR SETcc CMOVcc BSWAP,
 * CBW/CWDE CWD/CDQ, LAHF SAHF, CLC STC CMC CLD STD (SDM Vol.2).
 *
 * Undefined flags: BT* define only CF, BSF/BSR only ZF; the other
 * arithmetic flags are left as they were.
 */
#include "cpu/ops.h"
#include "cpu/undef.h"

/* The arithmetic flags LAHF and SAHF move (SDM Vol.2 LAHF). */
#define AH_FLAGS (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF)

/* AH in the byte-register encoding (AL CL DL BL AH CH DH BH). */
enum { REG8_AH = 4 };

/* Materialise the lazy flags and replace the bits in mask with value. */
static void set_arith_bits(CPUState *cpu, uint32_t mask, uint32_t value)
{
    cpu_flush_flags(cpu);
    cpu->eflags = (cpu->eflags & ~mask) | (value & mask);
}

/*
 * Fetch the bit-base operand of BT/BTS/BTR/BTC (SDM Vol.2 BT, "bit-base
 * addressing", and Vol.1 3.3.1).  A register base takes the offset modulo
 * its width.  A memory base with a register offset treats the offset as a
 * signed number that may reach outside the operand: the word or dword at
 * EA + size * (offset SAR log2(width)) holds bit offset mod width; the
 * address wraps to the address size.  An immediate offset is taken modulo
 * the width (the processor ignores its high bits).  For a write (BTS, BTR,
 * BTC) the operand is checked for write access before it is read.
 */
static uint32_t bit_base_read(CPUState *cpu, const Insn *insn, bool write, RMW *rmw, uint32_t *bit)
{
    int size = insn->opnd[0].size;
    uint32_t bits = (uint32_t)size * 8;
    uint32_t offset = opnd_read(cpu, insn, 1);
    *bit = offset & (bits - 1);
    if (insn->opnd[0].kind != OPK_MEM || insn->opnd[1].kind != OPK_REG) {
        if (write) {
            return opnd_rmw_read(cpu, insn, 0, rmw);
        }
        return opnd_read(cpu, insn, 0);
    }
    int32_t signed_offset = size == 2 ? (int16_t)offset : (int32_t)offset;
    int32_t units = signed_offset >> (size == 2 ? 4 : 5);
    uint32_t ea = insn_ea(cpu, insn) + (uint32_t)units * (uint32_t)size;
    if (insn->adsize == 2) {
        ea &= 0xffff;
    }
    if (!write) {
        return seg_read(cpu, insn->seg, ea, size);
    }
    rmw->is_mem = true;
    rmw->size = (uint8_t)size;
    rmw->lin = seg_probe_write(cpu, insn->seg, ea, size);
    return lin_read(cpu, rmw->lin, size);
}

void op_BT(CPUState *cpu, const Insn *insn)
{
    uint32_t bit;
    uint32_t v = bit_base_read(cpu, insn, false, NULL, &bit);
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTS(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint32_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v | (1u << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint32_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v & ~(1u << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTC(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint32_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v ^ (1u << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

/* BSF/BSR of zero: ZF is set and the destination is undefined; the P6
 * leaves it unchanged, and so do we. */
static void bit_scan_zero(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, undef_result(cpu, opnd_read(cpu, insn, 0)));
    set_arith_bits(cpu, EFLAGS_ZF, EFLAGS_ZF);
}

/* BSF: index of the lowest set bit. */
void op_BSF(CPUState *cpu, const Insn *insn)
{
    uint32_t src = opnd_read(cpu, insn, 1);
    if (src == 0) {
        bit_scan_zero(cpu, insn);
        return;
    }
    opnd_write(cpu, insn, 0, (uint32_t)__builtin_ctz(src));
    set_arith_bits(cpu, EFLAGS_ZF, 0);
}

/* BSR: index of the highest set bit. */
void op_BSR(CPUState *cpu, const Insn *insn)
{
    uint32_t src = opnd_read(cpu, insn, 1);
    if (src == 0) {
        bit_scan_zero(cpu, insn);
        return;
    }
    opnd_write(cpu, insn, 0, 31u - (uint32_t)__builtin_clz(src));
    set_arith_bits(cpu, EFLAGS_ZF, 0);
}

void op_SETCC(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, flags_condition(cpu, insn->cond));
}

/*
 * CMOVcc: the source is read whatever the condition, so a bad memory
 * operand faults even when nothing moves; a false condition leaves the
 * destination alone (outside 64-bit mode there is no zero-extension;
 * SDM Vol.2 CMOVcc).
 */
void op_CMOV(CPUState *cpu, const Insn *insn)
{
    uint32_t v = opnd_read(cpu, insn, 1);
    if (flags_condition(cpu, insn->cond)) {
        opnd_write(cpu, insn, 0, v);
    }
}

/* BSWAP r32.  With a 16-bit operand the result is undefined; the P6
 * family clears the low word, and so do we. */
void op_BSWAP(CPUState *cpu, const Insn *insn)
{
    int reg = insn->opnd[0].reg;
    if (insn->opsize == 2) {
        reg_write(cpu, reg, 2, undef_result(cpu, 0));
    } else {
        cpu->regs[reg] = __builtin_bswap32(cpu->regs[reg]);
    }
}

/* CBW (AX = sign-extended AL) or, with a 32-bit operand size, CWDE. */
void op_CBW(CPUState *cpu, const Insn *insn)
{
    uint32_t eax = cpu->regs[R_EAX];
    if (insn->opsize == 2) {
        reg_write(cpu, R_EAX, 2, (uint32_t)(int32_t)(int8_t)eax);
    } else {
        cpu->regs[R_EAX] = (uint32_t)(int32_t)(int16_t)eax;
    }
}

/* CWD (DX = sign of AX) or CDQ (EDX = sign of EAX). */
void op_CWD(CPUState *cpu, const Insn *insn)
{
    uint32_t eax = cpu->regs[R_EAX];
    if (insn->opsize == 2) {
        reg_write(cpu, R_EDX, 2, (eax & 0x8000) ? 0xffff : 0);
    } else {
        cpu->regs[R_EDX] = (eax & 0x80000000u) ? 0xffffffffu : 0;
    }
}

/* LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. */
void op_LAHF(CPUState *cpu, const Insn *insn)
{
    uint32_t flags = cpu_get_eflags(cpu);
    reg_write(cpu, REG8_AH, 1, (flags & AH_FLAGS) | EFLAGS_FIXED);
}

/* SAHF: SF, ZF, AF, PF, CF from AH; OF is kept. */
void op_SAHF(CPUState *cpu, const Insn *insn)
{
    set_arith_bits(cpu, AH_FLAGS, cpu->regs[R_EAX] >> 8);
}

void op_CLC(CPUState *cpu, const Insn *insn)
{
    set_arith_bits(cpu, EFLAGS_CF, 0);
}

void op_STC(CPUState *cpu, const Insn *insn)
{
    set_arith_bits(cpu, EFLAGS_CF, EFLAGS_CF);
}

void op_CMC(CPUState *cpu, const Insn *insn)
{
    set_arith_bits(cpu, EFLAGS_CF, flags_carry(cpu) ? 0 : EFLAGS_CF);
}

/* DF is not an arithmetic flag: it is never lazy. */
void op_CLD(CPUState *cpu, const Insn *insn)
{
    cpu->eflags &= ~EFLAGS_DF;
}

void op_STD(CPUState *cpu, const Insn *insn)
{
    cpu->eflags |= EFLAGS_DF;
}
