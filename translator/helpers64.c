/*
 * The slow path of a 64-bit block's memory operand (gen64.c): the C side
 * when the inline TLB check refuses an access (a miss, MMIO, a code page,
 * a page crossing, a non-canonical address).
 *
 * The linear address is the interpreter's own: the instruction's effective
 * address from the guest registers the thunk stored (insn_mem_linear), so
 * a non-canonical one raises #GP(0), or #SS(0) through SS, exactly as
 * there (SDM Vol.3 6.15), with CPUState as it was before the instruction.
 * The registers an operation writes are never its address's (gen64.c
 * emits none that are), so the commit after the operation finds the same
 * address.
 */
#include <string.h>

#include "cpu/ops.h"
#include "softmmu/mmu.h"
#include "translator/bt_internal.h"

int bt_helper_mem64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bool write = ci->access == ACC_WRITE;
    uint64_t lin = insn_mem_linear(cpu, &ci->insn, ci->size, write);
    uint64_t value = 0;
    if (write) {
        mmu_probe(cpu, lin, ci->size, ACC_WRITE, ci->mmu_idx);
    }
    if (!write || ci->rmw) {
        value = mmu_read_slow(cpu, lin, ci->size, ci->mmu_idx, ACC_READ);
    }
    memcpy(cpu->bt_bounce, &value, sizeof(value));
    return 0;
}

int bt_helper_mem64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint64_t value;
    memcpy(&value, cpu->bt_bounce, sizeof(value));
    bt_helper_enter(cpu, ci);
    uint64_t lin = insn_mem_linear(cpu, &ci->insn, ci->size, true); /* probed: no fault */
    mmu_write_slow(cpu, lin, ci->size, value, ci->mmu_idx);
    return bt_helper_leave(cpu, ci, ci->eip + ci->insn.len, false);
}
