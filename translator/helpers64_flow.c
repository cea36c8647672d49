/*
 * The C side of 64-bit blocks' control transfers (gen64_flow.c): the slow
 * path's commit of a CALL's push, and LEAVE's read.
 */
#include <string.h>

#include "softmmu/mmu.h"
#include "translator/gen64_flow.h"

/*
 * The push's prep (bt_helper_push64_prep) probed [RSP-8] for write and the
 * emitted code moved RSP, so the write cannot fault.  The CALL has retired
 * then: if the block must leave (its code was written, an exit request),
 * it leaves at the call's target, which is the instruction's (rel32) or
 * waits in CPUState.bt_target (r/m64).
 */
int bt_helper_call64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint64_t value;
    memcpy(&value, cpu->bt_bounce, sizeof(value));
    bt_helper_enter(cpu, ci);
    mmu_write_slow(cpu, cpu->regs[R_ESP], 8, value, ci->mmu_idx);
    uint64_t target = cpu->bt_target;
    if (ci->insn.op == OP_CALL) {
        target = ci->eip + ci->insn.len + (uint64_t)(int64_t)(int32_t)ci->insn.imm;
    }
    return bt_helper_leave(cpu, ci, target, false);
}

/* LEAVE reads [RBP] through SS: #SS(0) when it is not canonical (SDM
 * Vol.3 6.15), with RSP and RBP as they were. */
int bt_helper_leave64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    uint64_t lin = cpu->regs[R_EBP];
    if (!mmu_canonical(lin) || !mmu_canonical(lin + 7)) {
        cpu_raise_exception_err(cpu, EXC_SS, 0);
    }
    uint64_t value = mmu_read_slow(cpu, lin, 8, ci->mmu_idx, ACC_READ);
    memcpy(cpu->bt_bounce, &value, sizeof(value));
    return 0;
}
