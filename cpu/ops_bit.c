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
 * signed number that may reach outside the operand: the word, dword or
 * qword at EA + size * (offset SAR log2(width)) holds bit offset mod width;
 * the address wraps to the address size.  An immediate offset is taken
 * modulo the width (the processor ignores its high bits).  For a write
 * (BTS, BTR, BTC) the operand is checked for write access before it is read.
 */
static uint64_t bit_base_read(CPUState *cpu, const Insn *insn, bool write, RMW *rmw, uint32_t *bit)
{
    int size = insn->opnd[0].size;
    uint32_t bits = (uint32_t)size * 8;
    uint64_t offset = opnd_read(cpu, insn, 1);
    *bit = (uint32_t)offset & (bits - 1);
    if (insn->opnd[0].kind != OPK_MEM || insn->opnd[1].kind != OPK_REG) {
        if (write) {
            return opnd_rmw_read(cpu, insn, 0, rmw);
        }
        return opnd_read(cpu, insn, 0);
    }
    int64_t units = sext(offset, size) >> __builtin_ctz(bits);
    uint64_t ea = insn_ea(cpu, insn) + (uint64_t)units * (uint64_t)size;
    ea &= size_mask(insn->adsize);
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
    uint64_t v = bit_base_read(cpu, insn, false, NULL, &bit);
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTS(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint64_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v | (UINT64_C(1) << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint64_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v & ~(UINT64_C(1) << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

void op_BTC(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint32_t bit;
    uint64_t v = bit_base_read(cpu, insn, true, &dst, &bit);
    opnd_rmw_write(cpu, &dst, v ^ (UINT64_C(1) << bit));
    set_arith_bits(cpu, EFLAGS_CF, (v >> bit) & 1);
}

/* BSF/BSR of zero: ZF is set and the destination is undefined; the P6
 * leaves it unchanged, and so do we (all 64 bits of it). */
static void bit_scan_zero(CPUState *cpu, const Insn *insn)
{
    const Operand *d = &insn->opnd[0]; /* always a register (Gv) */
    if (d->size == 2) {
        opnd_write(cpu, insn, 0, undef_result(cpu, (uint32_t)opnd_read(cpu, insn, 0)));
    } else if (d->size == 4) {
        /* a 32-bit write would zero-extend in 64-bit mode: keep bits 63..32 */
        uint32_t low = undef_result(cpu, (uint32_t)cpu->regs[d->reg]);
        cpu->regs[d->reg] = (cpu->regs[d->reg] & ~UINT64_C(0xffffffff)) | low;
    }
    set_arith_bits(cpu, EFLAGS_ZF, EFLAGS_ZF);
}

/* BSF: index of the lowest set bit. */
void op_BSF(CPUState *cpu, const Insn *insn)
{
    uint64_t src = opnd_read(cpu, insn, 1);
    if (src == 0) {
        bit_scan_zero(cpu, insn);
        return;
    }
    opnd_write(cpu, insn, 0, (uint64_t)__builtin_ctzll(src));
    set_arith_bits(cpu, EFLAGS_ZF, 0);
}

/* BSR: index of the highest set bit. */
void op_BSR(CPUState *cpu, const Insn *insn)
{
    uint64_t src = opnd_read(cpu, insn, 1);
    if (src == 0) {
        bit_scan_zero(cpu, insn);
        return;
    }
    opnd_write(cpu, insn, 0, 63u - (uint64_t)__builtin_clzll(src));
    set_arith_bits(cpu, EFLAGS_ZF, 0);
}

void op_SETCC(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, flags_condition(cpu, insn->cond));
}

/*
 * CMOVcc: the source is read whatever the condition, so a bad memory
 * operand faults even when nothing moves; a false condition leaves the
 * destination alone, except that in 64-bit mode a 32-bit destination is
 * zero-extended whatever the condition (SDM Vol.2 CMOVcc).
 */
void op_CMOV(CPUState *cpu, const Insn *insn)
{
    uint64_t v = opnd_read(cpu, insn, 1);
    if (flags_condition(cpu, insn->cond)) {
        opnd_write(cpu, insn, 0, v);
    } else if (insn->opnd[0].size == 4 && (cpu->hflags & HF_CS64)) {
        cpu->regs[insn->opnd[0].reg] &= 0xffffffffu;
    }
}

/* BSWAP r32 or r64.  With a 16-bit operand the result is undefined; the P6
 * family clears the low word, and so do we. */
void op_BSWAP(CPUState *cpu, const Insn *insn)
{
    int reg = insn->opnd[0].reg;
    if (insn->opsize == 2) {
        reg_write(cpu, reg, 2, undef_result(cpu, 0));
    } else if (insn->opnd[0].size == 8) {
        cpu->regs[reg] = __builtin_bswap64(cpu->regs[reg]);
    } else {
        cpu->regs[reg] = __builtin_bswap32((uint32_t)cpu->regs[reg]);
    }
}

/* CBW (AX = sign-extended AL), CWDE (EAX = sign-extended AX) or CDQE
 * (RAX = sign-extended EAX), by operand size. */
void op_CBW(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    reg_write(cpu, R_EAX, size, (uint64_t)sext(cpu->regs[R_EAX], size / 2));
}

/* CWD (DX = sign of AX), CDQ (EDX = sign of EAX) or CQO (RDX = sign of RAX). */
void op_CWD(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    bool neg = (cpu->regs[R_EAX] & size_sign(size)) != 0;
    reg_write(cpu, R_EDX, size, neg ? ~UINT64_C(0) : 0);
}

/* LAHF and SAHF exist in 64-bit mode only with CPUID.80000001h:ECX.LAHF-SAHF. */
static void check_lahf_lm(CPUState *cpu)
{
    if ((cpu->hflags & HF_CS64) && !(cpu->cpuid.ext_ecx & CPUID_EXT3_LAHF_LM)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
}

void op_LAHF(CPUState *cpu, const Insn *insn)
{
    check_lahf_lm(cpu);
    uint32_t flags = cpu_get_eflags(cpu);
    reg_write(cpu, REG8_AH, 1, (flags & AH_FLAGS) | EFLAGS_FIXED);
}

/* SAHF: SF, ZF, AF, PF, CF from AH; OF is kept. */
void op_SAHF(CPUState *cpu, const Insn *insn)
{
    check_lahf_lm(cpu);
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
