/*
 * The slow path of a 64-bit block's memory operand (gen64.c): the C side
 * when the inline TLB check refuses an access (a miss, MMIO, a code page,
 * a page crossing, a non-canonical address).
 *
 * The linear address is the interpreter's own: the instruction's effective
 * address from the guest registers the thunk stored (insn_mem_linear), so
 * a non-canonical one raises #GP(0), or #SS(0) through SS, exactly as
 * there (SDM Vol.3 6.15), with CPUState as it was before the instruction.
 * The registers an operation writes are never its address's (XCHG, XADD
 * and CMPXCHG that would write one are callouts, gen_native.c), so the
 * commit after the operation finds the same address.
 */
#include <string.h>

#include "cpu/ops.h"
#include "softmmu/mmu.h"
#include "translator/bt_internal.h"

/* The linear address of ci's memory operand, for a write or not (may fault). */
typedef uint64_t (*OperandLin)(CPUState *cpu, const BTCallInfo *ci, bool write);

static uint64_t operand_lin(CPUState *cpu, const BTCallInfo *ci, bool write)
{
    return insn_mem_linear(cpu, &ci->insn, ci->size, write);
}

/* A slow path's prep: probe a write, read the operand into the bounce
 * buffer if the instruction reads it (read: always, else a read or a
 * read-modify-write). */
static int prep_at(CPUState *cpu, const BTCallInfo *ci, OperandLin lin_of, bool read)
{
    bool write = ci->access == ACC_WRITE;
    uint64_t lin = lin_of(cpu, ci, write);
    uint64_t value = 0;
    if (write) {
        mmu_probe(cpu, lin, ci->size, ACC_WRITE, ci->mmu_idx);
    }
    if (read || !write || ci->rmw) {
        value = mmu_read_slow(cpu, lin, ci->size, ci->mmu_idx, ACC_READ);
    }
    memcpy(cpu->bt_bounce, &value, sizeof(value));
    return 0;
}

/* Its commit: the bounce buffer written back to the operand, which prep
 * probed (no fault).  gen_mem.c hands commits a 32-bit next EIP
 * (MemOp.next_eip); a RIP-relative address needs the whole RIP. */
static int commit_at(CPUState *cpu, const BTCallInfo *ci, OperandLin lin_of)
{
    uint64_t value;
    memcpy(&value, cpu->bt_bounce, sizeof(value));
    bt_helper_enter(cpu, ci);
    cpu->next_eip = ci->eip + ci->insn.len;
    mmu_write_slow(cpu, lin_of(cpu, ci, true), ci->size, value, ci->mmu_idx);
    return bt_helper_leave(cpu, ci, ci->eip + ci->insn.len, false);
}

int bt_helper_mem64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    cpu->bt_mem_slow++;
    return prep_at(cpu, ci, operand_lin, false);
}

int bt_helper_mem64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    return commit_at(cpu, ci, operand_lin);
}

/*
 * PUSH and POP of a 64-bit block (gen64.c).  The address is RSP's: before
 * the instruction RSP - size for PUSH and RSP for POP (prep), and after
 * PUSH's emitted RSP update, RSP itself (commit).  A stack access outside
 * the canonical range raises #SS(0) (SDM Vol.3 6.15).
 */
static uint64_t stack_lin(CPUState *cpu, uint64_t lin, int size)
{
    if (!mmu_canonical(lin) || !mmu_canonical(lin + (uint64_t)(size - 1))) {
        cpu_raise_exception_err(cpu, EXC_SS, 0);
    }
    return lin;
}

int bt_helper_push64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    uint64_t lin = stack_lin(cpu, cpu->regs[R_ESP] - ci->size, ci->size);
    mmu_probe(cpu, lin, ci->size, ACC_WRITE, ci->mmu_idx);
    return 0;
}

int bt_helper_push64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint64_t value;
    memcpy(&value, cpu->bt_bounce, sizeof(value));
    bt_helper_enter(cpu, ci);
    mmu_write_slow(cpu, cpu->regs[R_ESP], ci->size, value, ci->mmu_idx); /* probed: no fault */
    return bt_helper_leave(cpu, ci, ci->eip + ci->insn.len, false);
}

int bt_helper_pop64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    uint64_t lin = stack_lin(cpu, cpu->regs[R_ESP], ci->size);
    uint64_t value = mmu_read_slow(cpu, lin, ci->size, ci->mmu_idx, ACC_READ);
    memcpy(cpu->bt_bounce, &value, sizeof(value));
    return 0;
}

/*
 * The bit strings of BT, BTS, BTR and BTC m, r (gen64_ops.c): the operand
 * at EA + size * (offset SAR log2(8 * size)), the offset the register's
 * signed value at the operand size, as cpu/ops_bit.c finds it.  No
 * register changes in between, so the commit finds the same address.
 */
static uint64_t bit_string_lin(CPUState *cpu, const BTCallInfo *ci, bool write)
{
    const Insn *in = &ci->insn;
    int size = ci->size;
    int64_t units = sext(cpu->regs[in->opnd[1].reg], size) >> __builtin_ctz((unsigned)size * 8);
    uint64_t ea = (insn_ea(cpu, in) + (uint64_t)units * (uint64_t)size) & size_mask(in->adsize);
    return seg_translate(cpu, in->seg, ea, size, write);
}

int bt_helper_bitstr64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    return prep_at(cpu, ci, bit_string_lin, true);
}

int bt_helper_bitstr64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    return commit_at(cpu, ci, bit_string_lin);
}

/*
 * POP m (gen64_stack.c): the destination's address is computed with RSP
 * already incremented (SDM Vol.2 POP), as cpu/ops_data.c does, before the
 * emitted code increments it; the commit then finds it from the new RSP
 * (bt_helper_mem64_commit).
 */
int bt_helper_popm64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    uint64_t old_sp = cpu->regs[R_ESP];
    cpu->regs[R_ESP] = old_sp + ci->size;
    uint64_t ea = insn_ea(cpu, &ci->insn);
    cpu->regs[R_ESP] = old_sp;
    uint64_t lin = seg_translate(cpu, ci->insn.seg, ea, ci->size, true);
    mmu_probe(cpu, lin, ci->size, ACC_WRITE, ci->mmu_idx);
    return 0;
}
