/*
 * The reference interpreter's dispatch and operand access.
 *
 * Decoded operands are already resolved (register number, memory, immediate),
 * so handlers are written once per operation, not once per encoding: they
 * read and write operand i through opnd_read/opnd_write (register operands
 * inline in cpu/ops.h, the rest here), and the size comes
 * with the operand.
 */
#include "cpu/ops.h"
#include "cpu/undef.h"

static const InsnHandler interp_handlers[OP_COUNT] = {
#define INSN_HANDLER_ENTRY(name) [OP_##name] = op_##name,
    INSN_OPS(INSN_HANDLER_ENTRY)
#undef INSN_HANDLER_ENTRY
#define SIMD_HANDLER_ENTRY(name, ...) [OP_##name] = op_simd,
    SIMD_OPS(SIMD_HANDLER_ENTRY)
#undef SIMD_HANDLER_ENTRY
};

/*
 * An instruction with CPUState.undef_perturb set: its undefined flags take
 * the bits of undef_fill.  The count of a shift is read first, as the
 * instruction may change CL.  A fault leaves before the fill, with the
 * flags as they were.  Kept out of line so that interp_exec_insn() stays a
 * test and a tail jump (inlined, it cost 5% on the call loop of
 * popek-bench-interp).
 */
__attribute__((noinline, cold)) static void exec_perturbed(CPUState *cpu, const Insn *insn)
{
    int i = cpu_count_operand(insn);
    uint32_t count =
        i < 0 ? 0 : (uint32_t)opnd_read(cpu, insn, i) & (insn->opnd[0].size == 8 ? 63 : 31);
    uint32_t undef = cpu_undefined_flags(insn, count);
    interp_handlers[insn->op](cpu, insn);
    if (undef) {
        cpu_flush_flags(cpu);
        cpu->eflags = (cpu->eflags & ~undef) | (cpu->undef_fill & undef);
    }
}

void interp_exec_insn(CPUState *cpu, const Insn *insn)
{
    if (unlikely(cpu->undef_perturb)) {
        exec_perturbed(cpu, insn);
        return;
    }
    interp_handlers[insn->op](cpu, insn);
}

uint64_t seg_translate64(CPUState *cpu, int seg, uint64_t offset, int size)
{
    uint64_t lin = offset;
    if (seg >= SEG_FS) {
        lin += cpu->seg[seg].base;
    }
    if (unlikely(!mmu_canonical(lin) || !mmu_canonical(lin + (uint64_t)(size - 1)))) {
        cpu_raise_exception_err(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
    }
    return lin;
}

uint64_t opnd_read_other(CPUState *cpu, const Insn *insn, int i)
{
    const Operand *o = &insn->opnd[i];
    switch (o->kind) {
    case OPK_MEM:
        /* Far pointers and wider operands read their first dword here. */
        return seg_read(cpu, insn->seg, insn_ea(cpu, insn),
                        o->size == 8 ? 8 : o->size > 4 ? 4 : o->size);
    case OPK_IMM:
        /* Which immediate: the first IMM operand is imm, a second one imm2;
         * at operand size 8 the first is sign-extended (or imm64) into hi. */
        if (i > 0 && insn->opnd[0].kind == OPK_IMM) {
            return insn->imm2;
        }
        return o->size == 8 ? insn_imm64(insn) : insn->imm;
    case OPK_CONST1:
        return 1;
    case OPK_SREG:
        return cpu->seg[o->reg].selector;
    default:
        return 0;
    }
}

void opnd_write_mem(CPUState *cpu, const Insn *insn, int i, uint64_t value)
{
    seg_write(cpu, insn->seg, insn_ea(cpu, insn), insn->opnd[i].size, value);
}

uint64_t opnd_rmw_read(CPUState *cpu, const Insn *insn, int i, RMW *rmw)
{
    const Operand *o = &insn->opnd[i];
    rmw->size = o->size;
    if (o->kind == OPK_REG) {
        rmw->is_mem = false;
        rmw->reg = o->reg;
        return reg_read(cpu, o->reg, o->size);
    }
    rmw->is_mem = true;
    /* Check write permission first: a read-modify-write to a read-only page
     * faults as a write (SDM Vol.3 4.7, W/R bit). */
    rmw->lin = seg_probe_write(cpu, insn->seg, insn_ea(cpu, insn), o->size);
    return lin_read(cpu, rmw->lin, o->size);
}

void opnd_rmw_write(CPUState *cpu, const RMW *rmw, uint64_t value)
{
    if (rmw->is_mem) {
        lin_write(cpu, rmw->lin, rmw->size, value);
    } else {
        reg_write(cpu, rmw->reg, rmw->size, value);
    }
}
