/*
 * Data movement: MOV and its extending forms, LEA, XCHG, XLAT, NOP, and the
 * stack instructions PUSH, POP, PUSHA, POPA, ENTER, LEAVE.
 */
#include "cpu/ops.h"

void op_MOV(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, opnd_read(cpu, insn, 1));
}

void op_MOVZX(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, opnd_read(cpu, insn, 1));
}

void op_MOVSX(CPUState *cpu, const Insn *insn)
{
    /* MOVSXD (63 /r in 64-bit mode) is the dword source. */
    opnd_write(cpu, insn, 0, (uint64_t)sext(opnd_read(cpu, insn, 1), insn->opnd[1].size));
}

/* LEA computes in the address size and stores in the operand size (SDM Vol.2 LEA). */
void op_LEA(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, insn_ea(cpu, insn));
}

void op_XCHG(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    opnd_rmw_write(cpu, &dst, b);
    opnd_write(cpu, insn, 1, a);
}

/* AL = [seg:(E)BX + AL] (SDM Vol.2 XLAT). */
void op_XLAT(CPUState *cpu, const Insn *insn)
{
    uint64_t offset = cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xff);
    offset &= size_mask(insn->adsize);
    reg_write(cpu, R_EAX, 1, seg_read(cpu, insn->seg, offset, 1));
}

/* NOP, PAUSE (F3 90) and the hint NOPs 0F 18-1F: no access, even with a memory form. */
void op_NOP(CPUState *cpu, const Insn *insn)
{
}

/* PUSH r/m/imm: PUSH ESP pushes the value before the decrement (SDM Vol.2 PUSH). */
void op_PUSH(CPUState *cpu, const Insn *insn)
{
    stack_push(cpu, insn->opsize, opnd_read(cpu, insn, 0));
}

/*
 * POP r/m.  A memory destination that uses ESP as a base sees ESP after the
 * increment; if the store faults, ESP must be as before the instruction.
 */
void op_POP(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t old_sp = cpu->regs[R_ESP];
    uint64_t value = stack_read_at(cpu, old_sp, size);
    if (insn->opnd[0].kind == OPK_REG) {
        stack_set_sp(cpu, old_sp + (uint64_t)size);
        reg_write(cpu, insn->opnd[0].reg, size, value);
        return;
    }
    stack_set_sp(cpu, old_sp + (uint64_t)size);
    uint64_t ea = insn_ea(cpu, insn);
    cpu->regs[R_ESP] = old_sp;
    seg_write(cpu, insn->seg, ea, size, value);
    stack_set_sp(cpu, old_sp + (uint64_t)size);
}

void op_PUSHA(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t sp = cpu->regs[R_ESP];
    uint64_t saved_esp = cpu->regs[R_ESP];
    for (int r = R_EAX; r <= R_EDI; r++) {
        sp -= (uint64_t)size;
        stack_write_at(cpu, sp, size, r == R_ESP ? saved_esp : cpu->regs[r]);
    }
    stack_set_sp(cpu, sp);
}

/* POPA discards the saved ESP (SDM Vol.2 POPA). */
void op_POPA(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t sp = cpu->regs[R_ESP];
    uint64_t values[8];
    for (int r = R_EDI; r >= R_EAX; r--) {
        values[r] = stack_read_at(cpu, sp, size);
        sp += (uint64_t)size;
    }
    for (int r = R_EDI; r >= R_EAX; r--) {
        if (r != R_ESP) {
            reg_write(cpu, r, size, values[r]);
        }
    }
    stack_set_sp(cpu, sp);
}

/*
 * ENTER alloc, level (SDM Vol.2 ENTER pseudo-code), committed after all
 * stores.  Intel CPUs first check that the final stack pointer may be
 * written, so a #PF or #SS there comes before any push.  On a 16-bit stack
 * the frame pointer is BP ("BP <- FrameTemp"): EBP keeps its upper half
 * whatever the operand size.
 */
void op_ENTER(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t alloc = insn->imm & 0xffff;
    uint64_t level = insn->imm2 & 31;
    uint64_t mask = stack_mask(cpu);
    uint64_t sp = cpu->regs[R_ESP] - (uint64_t)size;
    uint64_t final_sp = sp - level * (uint64_t)size - alloc;
    seg_probe_write(cpu, SEG_SS, final_sp & mask, size);
    stack_write_at(cpu, sp, size, cpu->regs[R_EBP]);
    uint64_t frame = sp;
    if (level > 0) {
        uint64_t bp = cpu->regs[R_EBP];
        for (uint64_t i = 1; i < level; i++) {
            bp = (bp & ~mask) | ((bp - (uint64_t)size) & mask);
            sp -= (uint64_t)size;
            stack_write_at(cpu, sp, size, stack_read_at(cpu, bp, size));
        }
        sp -= (uint64_t)size;
        stack_write_at(cpu, sp, size, frame);
    }
    reg_write(cpu, R_EBP, mask == 0xffff ? 2 : size, frame);
    stack_set_sp(cpu, sp - alloc);
}

void op_LEAVE(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t sp = cpu->regs[R_EBP] & stack_mask(cpu);
    uint64_t value = stack_read_at(cpu, sp, size);
    stack_set_sp(cpu, sp + (uint64_t)size);
    reg_write(cpu, R_EBP, size, value);
}
