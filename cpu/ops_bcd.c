/*
 * Decimal arithmetic: DAA DAS AAA AAS AAM AAD, and SALC (SDM Vol.2).
 *
 * These follow the SDM pseudo-code of the P6 family and later, where AAA
 * adds 106h to the whole of AX and AAS subtracts 6 from AX (so the borrow
 * reaches AH) before decrementing AH.  Flags the SDM leaves undefined are
 * given fixed values: OF = 0 everywhere, SF/ZF/PF from AL after AAA and
 * AAS, CF = AF = 0 after AAM and AAD.
 */
#include "cpu/ops.h"

static inline uint32_t reg_al(const CPUState *cpu)
{
    return cpu->regs[R_EAX] & 0xff;
}

static inline uint32_t reg_ah(const CPUState *cpu)
{
    return (cpu->regs[R_EAX] >> 8) & 0xff;
}

/* SF, ZF, PF from al, then CF and AF as given; OF = 0. */
static void set_bcd_flags(CPUState *cpu, uint32_t al, bool cf, bool af)
{
    set_cc(cpu, CC_OP_LOGICB, 1, al, 0, 0);
    cpu_flush_flags(cpu);
    cpu->eflags |= (cf ? EFLAGS_CF : 0) | (af ? EFLAGS_AF : 0);
}

/* AF as it stands before the instruction. */
static bool aux_carry(const CPUState *cpu)
{
    return cpu_get_eflags(cpu) & EFLAGS_AF;
}

/* DAA: adjust AL after adding two packed BCD bytes. */
void op_DAA(CPUState *cpu, const Insn *insn)
{
    uint32_t old_al = reg_al(cpu), al = old_al;
    bool old_cf = flags_carry(cpu);
    bool af = false, cf = false;
    if ((old_al & 0x0f) > 9 || aux_carry(cpu)) {
        al += 0x06;
        af = true;
    }
    /* The carry out of AL + 6 only happens when old_al > 99h, which the
     * second step turns into CF = 1 anyway. */
    if (old_al > 0x99 || old_cf) {
        al += 0x60;
        cf = true;
    }
    reg_write(cpu, R_EAX, 1, al);
    set_bcd_flags(cpu, al & 0xff, cf, af);
}

/* DAS: adjust AL after subtracting packed BCD.  Unlike DAA, a borrow out
 * of AL - 6 sets CF even when the second step is skipped. */
void op_DAS(CPUState *cpu, const Insn *insn)
{
    uint32_t old_al = reg_al(cpu), al = old_al;
    bool old_cf = flags_carry(cpu);
    bool af = false, cf = false;
    if ((old_al & 0x0f) > 9 || aux_carry(cpu)) {
        cf = old_cf || al < 0x06;
        al -= 0x06;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al -= 0x60;
        cf = true;
    }
    reg_write(cpu, R_EAX, 1, al);
    set_bcd_flags(cpu, al & 0xff, cf, af);
}

/* AAA: adjust after an unpacked BCD add; AX += 106h on a decimal carry. */
void op_AAA(CPUState *cpu, const Insn *insn)
{
    uint32_t ax = cpu->regs[R_EAX] & 0xffff;
    bool adjust = (ax & 0x0f) > 9 || aux_carry(cpu);
    if (adjust) {
        ax += 0x106;
    }
    ax = (ax & 0xff00) | (ax & 0x0f);
    reg_write(cpu, R_EAX, 2, ax);
    set_bcd_flags(cpu, ax & 0xff, adjust, adjust);
}

/* AAS: adjust after an unpacked BCD subtract; AX -= 6, then AH -= 1. */
void op_AAS(CPUState *cpu, const Insn *insn)
{
    uint32_t ax = cpu->regs[R_EAX] & 0xffff;
    bool adjust = (ax & 0x0f) > 9 || aux_carry(cpu);
    if (adjust) {
        ax -= 6;
        ax -= 0x100;
    }
    ax = (ax & 0xff00) | (ax & 0x0f);
    reg_write(cpu, R_EAX, 2, ax);
    set_bcd_flags(cpu, ax & 0xff, adjust, adjust);
}

/* AAM imm8: AH = AL / imm8, AL = AL % imm8; #DE for imm8 = 0. */
void op_AAM(CPUState *cpu, const Insn *insn)
{
    uint32_t base = insn->imm & 0xff;
    if (base == 0) {
        cpu_raise_exception(cpu, EXC_DE);
    }
    uint32_t al = reg_al(cpu);
    uint32_t q = al / base, r = al % base;
    reg_write(cpu, R_EAX, 2, q << 8 | r);
    set_cc(cpu, CC_OP_LOGICB, 1, r, 0, 0);
}

/* AAD imm8: AL = (AL + AH * imm8) & FFh, AH = 0. */
void op_AAD(CPUState *cpu, const Insn *insn)
{
    uint32_t al = (reg_al(cpu) + reg_ah(cpu) * (insn->imm & 0xff)) & 0xff;
    reg_write(cpu, R_EAX, 2, al);
    set_cc(cpu, CC_OP_LOGICB, 1, al, 0, 0);
}

/* SALC (undocumented D6): AL = CF ? FFh : 00h; no flags change. */
void op_SALC(CPUState *cpu, const Insn *insn)
{
    reg_write(cpu, R_EAX, 1, flags_carry(cpu) ? 0xff : 0);
}
