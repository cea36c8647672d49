/*
 * Control transfer: near jumps, calls and returns, conditional branches and
 * loops, and the thin handlers for far transfers, IRET and software
 * interrupts, whose protection rules live in cpu/far.c and cpu/except.c.
 */
#include "cpu/ops.h"

/* A near branch faults at the branch if the target is past the CS limit,
 * or in 64-bit mode not canonical (SDM Vol.2 JMP: #GP(0)), not at the
 * first fetch there. */
static inline void near_branch(CPUState *cpu, const Insn *insn, uint64_t target)
{
    target = branch_target(insn, target);
    /* In 64-bit mode the limit is not checked, and the limit compare
     * against a non-canonical target would pass it: test that first. */
    if (unlikely(target > cpu->seg[SEG_CS].limit) &&
        (!(cpu->hflags & HF_CS64) || !mmu_canonical(target))) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu->next_eip = target;
}

/* The target of a relative branch: the displacement is signed (to 64
 * bits in 64-bit mode; branch_target() wraps the narrower sizes). */
static inline uint64_t rel_target(const CPUState *cpu, const Insn *insn)
{
    return cpu->next_eip + (uint64_t)(int64_t)(int32_t)insn->imm;
}

void op_JMP(CPUState *cpu, const Insn *insn)
{
    near_branch(cpu, insn, rel_target(cpu, insn));
}

void op_JCC(CPUState *cpu, const Insn *insn)
{
    if (flags_condition(cpu, insn->cond)) {
        near_branch(cpu, insn, rel_target(cpu, insn));
    }
}

/* The count register is CX, ECX or RCX by address size (SDM Vol.2 LOOP, JCXZ). */
static uint64_t count_mask(const Insn *insn)
{
    return size_mask(insn->adsize);
}

void op_JCXZ(CPUState *cpu, const Insn *insn)
{
    if ((cpu->regs[R_ECX] & count_mask(insn)) == 0) {
        near_branch(cpu, insn, rel_target(cpu, insn));
    }
}

static void loop_common(CPUState *cpu, const Insn *insn, int zf_cond)
{
    uint64_t mask = count_mask(insn);
    uint64_t count = (cpu->regs[R_ECX] - 1) & mask;
    bool take = count != 0;
    if (take && zf_cond >= 0) {
        bool zf = (cpu_get_eflags(cpu) & EFLAGS_ZF) != 0;
        take = zf == (zf_cond != 0);
    }
    if (take) {
        near_branch(cpu, insn, rel_target(cpu, insn));
    }
    if (mask == 0xffffffffu) {
        cpu->regs[R_ECX] = count; /* ECX: a dword write (zero-extends in 64-bit mode) */
    } else {
        cpu->regs[R_ECX] = (cpu->regs[R_ECX] & ~mask) | count;
    }
}

void op_LOOP(CPUState *cpu, const Insn *insn)
{
    loop_common(cpu, insn, -1);
}

void op_LOOPE(CPUState *cpu, const Insn *insn)
{
    loop_common(cpu, insn, 1);
}

void op_LOOPNE(CPUState *cpu, const Insn *insn)
{
    loop_common(cpu, insn, 0);
}

static void near_call(CPUState *cpu, const Insn *insn, uint64_t target)
{
    uint64_t return_eip = cpu->next_eip;
    near_branch(cpu, insn, target);
    stack_push(cpu, insn->opsize, return_eip);
}

void op_CALL(CPUState *cpu, const Insn *insn)
{
    near_call(cpu, insn, rel_target(cpu, insn));
}

void op_CALL_EV(CPUState *cpu, const Insn *insn)
{
    near_call(cpu, insn, opnd_read(cpu, insn, 0));
}

void op_JMP_EV(CPUState *cpu, const Insn *insn)
{
    near_branch(cpu, insn, opnd_read(cpu, insn, 0));
}

/* RET [imm16]: pop EIP, then release imm16 bytes of parameters. */
void op_RET(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t target = stack_read_at(cpu, cpu->regs[R_ESP], size);
    near_branch(cpu, insn, target);
    uint64_t release = insn->nopnds ? (insn->imm & 0xffff) : 0;
    stack_set_sp(cpu, cpu->regs[R_ESP] + (uint64_t)size + release);
}

void op_JMPF(CPUState *cpu, const Insn *insn)
{
    cpu_far_jmp(cpu, (uint16_t)insn->imm2, insn->imm, cpu->next_eip);
}

void op_CALLF(CPUState *cpu, const Insn *insn)
{
    cpu_far_call(cpu, (uint16_t)insn->imm2, insn->imm, insn->opsize, cpu->next_eip);
}

/* Read an m16:16, m16:32 or (REX.W) m16:64 far pointer operand: offset
 * first, selector after. */
static void read_far_pointer(CPUState *cpu, const Insn *insn, uint16_t *selector,
                             uint64_t *offset)
{
    uint64_t ea = insn_ea(cpu, insn);
    int size = insn->opsize;
    *offset = seg_read(cpu, insn->seg, ea, size);
    *selector =
        (uint16_t)seg_read(cpu, insn->seg, (ea + (uint32_t)size) & size_mask(insn->adsize), 2);
}

void op_JMPF_EP(CPUState *cpu, const Insn *insn)
{
    uint16_t selector;
    uint64_t offset;
    read_far_pointer(cpu, insn, &selector, &offset);
    cpu_far_jmp(cpu, selector, offset, cpu->next_eip);
}

void op_CALLF_EP(CPUState *cpu, const Insn *insn)
{
    uint16_t selector;
    uint64_t offset;
    read_far_pointer(cpu, insn, &selector, &offset);
    cpu_far_call(cpu, selector, offset, insn->opsize, cpu->next_eip);
}

void op_RETF(CPUState *cpu, const Insn *insn)
{
    cpu_far_ret(cpu, insn->opsize, insn->nopnds ? (uint16_t)insn->imm : 0);
}

void op_IRET(CPUState *cpu, const Insn *insn)
{
    cpu_iret(cpu, insn->opsize);
}

/*
 * INT n is IOPL-sensitive in vm86 mode (SDM Vol.3 20.2.7); INT3, INTO and
 * INT1 are not.  In protected mode the gate DPL check is in cpu_do_interrupt.
 */
void op_INT(CPUState *cpu, const Insn *insn)
{
    if (insn->imm2 == 1) {
        /* INT1 (F1, ICEBP): a #DB trap with no DPL check. */
        cpu_do_interrupt(cpu, EXC_DB, false, false, 0, cpu->next_eip);
        return;
    }
    if ((cpu->hflags & HF_VM) && ((cpu->eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT) < 3) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu_do_interrupt(cpu, insn->imm & 0xff, true, false, 0, cpu->next_eip);
}

void op_INT3(CPUState *cpu, const Insn *insn)
{
    cpu_do_interrupt(cpu, EXC_BP, true, false, 0, cpu->next_eip);
}

void op_INTO(CPUState *cpu, const Insn *insn)
{
    if (cpu_get_eflags(cpu) & EFLAGS_OF) {
        cpu_do_interrupt(cpu, EXC_OF, true, false, 0, cpu->next_eip);
    }
}

/* BOUND: #BR (a fault) when the signed index is outside [lower, upper]. */
void op_BOUND(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint64_t ea = insn_ea(cpu, insn);
    uint64_t mask = size_mask(insn->adsize);
    int32_t lower, upper, index;
    uint32_t lo = (uint32_t)seg_read(cpu, insn->seg, ea, size);
    uint32_t hi = (uint32_t)seg_read(cpu, insn->seg, (ea + (uint32_t)size) & mask, size);
    if (size == 2) {
        lower = (int16_t)lo;
        upper = (int16_t)hi;
        index = (int16_t)reg_read(cpu, insn->opnd[0].reg, 2);
    } else {
        lower = (int32_t)lo;
        upper = (int32_t)hi;
        index = (int32_t)cpu->regs[insn->opnd[0].reg];
    }
    if (index < lower || index > upper) {
        cpu_raise_exception(cpu, EXC_BR);
    }
}
