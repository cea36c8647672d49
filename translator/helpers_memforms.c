/*
 * The slow path of CMPXCHG8B m64 (translator/gen_memforms.c): the
 * quadword as the interpreter accesses it (cpu/ops_alu.c), the whole of it
 * probed for write first, then read and written as two dwords, low first.
 * The instruction itself runs between them on the bounce buffer.
 */
#include <string.h>

#include "softmmu/mmu.h"
#include "translator/bt_internal.h"

int bt_helper_qword_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bt_helper_limit_check(cpu, ci);
    uint32_t lin = (uint32_t)cpu->bt_lin;
    mmu_probe(cpu, lin, 8, ACC_WRITE, ci->mmu_idx);
    uint32_t half[2];
    half[0] = (uint32_t)mmu_read_slow(cpu, lin, 4, ci->mmu_idx, ACC_READ);
    half[1] = (uint32_t)mmu_read_slow(cpu, (uint32_t)(lin + 4), 4, ci->mmu_idx, ACC_READ);
    memcpy(cpu->bt_bounce, half, sizeof(half));
    return 0;
}

int bt_helper_qword_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint32_t half[2];
    memcpy(half, cpu->bt_bounce, sizeof(half));
    bt_helper_enter(cpu, ci);
    uint32_t lin = (uint32_t)cpu->bt_lin;
    mmu_write_slow(cpu, lin, 4, half[0], ci->mmu_idx);
    mmu_write_slow(cpu, (uint32_t)(lin + 4), 4, half[1], ci->mmu_idx);
    return bt_helper_leave(cpu, ci, ci->next_eip, false);
}
