/*
 * Callouts: the C side of instructions translated code does not run
 * natively, and of memory accesses that miss the inline TLB check.
 *
 * The thunk (translator/stubs.c) has stored the guest registers and parked
 * flags in CPUState.  Each helper first makes CPUState exactly what the
 * interpreter would see before the instruction: flags unparked, EIP and
 * next EIP, and the instruction count, which translated code keeps only as
 * a budget (icount = slice end - budget - instructions of this block not yet
 * run).  So a device reading the clock, or a fault longjmping out to the
 * run loop, sees the precise state.
 *
 * A helper returns nonzero to leave translated code after its instruction:
 * when the instruction went somewhere other than where the block goes on
 * (a taken branch, a REP batch to resume, an exception delivered inline),
 * when it ends a block by nature (mode changes, INSN_F_ENDBLOCK), when a
 * write invalidated the running block (self-modifying code), or when an
 * interrupt or exit request arrived.  It then refunds the block's unrun
 * instructions so the budget counts exactly what retired.
 */
#include <string.h>

#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "translator/bt_internal.h"

void bt_helper_enter(CPUState *cpu, const BTCallInfo *ci)
{
    BT *bt = bt_of(cpu);
    bt_flags_in(cpu);
    cpu->icount =
        bt->icount_end - (uint64_t)bt_budget_left(cpu) - (uint64_t)(ci->tb->ninsns - ci->index);
    cpu->eip = ci->eip;
    cpu->next_eip = ci->next_eip;
}

int bt_helper_leave(CPUState *cpu, const BTCallInfo *ci, uint64_t next, bool leave)
{
    bt_flags_out(cpu);
    if (leave || ci->tb->invalid || cpu->bt_exit_request) {
        cpu->eip = next;
        cpu->bt_budget += ci->tb->ninsns - ci->index - 1;
        return 1;
    }
    return 0;
}

/*
 * After an instruction that may change the mode (a segment load, POPF,
 * MOV CR, ...; INSN_F_ENDBLOCK, always the last of its block): whether
 * translated code may go on to the next block without the run loop.  It
 * may when nothing the run loop would act on is pending, the mode is still
 * translatable, and CS base and CPL (the TLB view the block's exit checks
 * with) are what the block was translated under.  The block's exit then
 * takes its chained jump if the key is unchanged, or looks the next block
 * up in the jump cache under the new key (bt_tag_hi, set here): the kernel
 * switching FS between the user's and its per-CPU segment on every entry
 * and exit stays in translated code.
 */
static bool bt_may_go_on(CPUState *cpu, const TB *tb, bool any_cpl)
{
    bool transient;
    if (!bt_mode_ok(cpu, &transient) || bt_events_pending(cpu) ||
        cpu->seg[SEG_CS].base != tb->cs_base) {
        return false;
    }
    uint32_t key = bt_block_key(cpu);
    if (((key ^ tb->key) & KEY_CPL_MASK) && !any_cpl) {
        return false;
    }
    if ((key ^ tb->key) & KEY_CODE64) {
        return false; /* into or out of 64-bit mode: the run loop enters the other width */
    }
    cpu->bt_tag_hi = (uint64_t)key << 32;
    cpu->bt_view_delta = (uint64_t)cpu->mmu_idx * TLB_SLOTS * sizeof(TLBEntry);
    return true;
}

/*
 * The kernel's doors: SYSENTER, SYSEXIT, INT n and IRET end their block
 * (the next one runs under a new CPL and key), but need not go back to the
 * run loop.  When bt_may_go_on() allows it at the new CPL, the block's
 * exit looks the target up in the jump cache under the new key and TLB
 * view (gen.c, gen_exit_far), so a system call stays in translated code
 * from the user's SYSENTER to the kernel's SYSEXIT and back.
 */
static bool is_far_door(const Insn *insn)
{
    return insn->op == OP_SYSENTER || insn->op == OP_SYSEXIT || insn->op == OP_INT ||
           insn->op == OP_IRET;
}

/*
 * STI that opened an interrupt shadow: the shadow covers the next
 * instruction, which is in this block (scan.c does not end a block at
 * STI).  No interrupt arrives inside a block, so the block may go on
 * unless one is waiting already; then STI leaves with the shadow set and
 * the run loop runs the next instruction before taking it (STI ; HLT must
 * wake on it).
 *
 * When the next instruction is a callout (gen_ops.c, gen_sti_shadow), its
 * callout ends the shadow as cpu_exec() does.  When it is native code (the
 * kernel's "sti ; ret", a RET through the return prediction), STI's callout
 * ends the shadow itself as the block goes on, since nothing between can
 * take an interrupt, and notes the instruction's count: should the
 * instruction fault, bt_fault_in_shadow() reopens the shadow before the
 * fault is delivered, as cpu_exec() leaves it open on a fault.
 */
static bool bt_sti_may_go_on(CPUState *cpu, const BTCallInfo *ci)
{
    if (ci->index + 1 >= ci->tb->ninsns) {
        return false;
    }
    cpu->inhibit_irq = false;
    bool waiting = bt_events_pending(cpu);
    cpu->inhibit_irq = true;
    return !waiting;
}

static int bt_sti_leave(CPUState *cpu, const BTCallInfo *ci, bool leave)
{
    bool shadow = cpu->inhibit_irq;
    int r = bt_helper_leave(cpu, ci, cpu->next_eip, leave);
    if (!r && shadow && ci->shadow_native) {
        cpu->inhibit_irq = false;
        cpu->bt_shadow_icount = cpu->icount + 1; /* the next instruction's */
    }
    return r;
}

void bt_fault_in_shadow(CPUState *cpu)
{
    if (cpu->icount == cpu->bt_shadow_icount) {
        cpu->inhibit_irq = true;
        cpu->ss_shadow = false;
    }
    cpu->bt_shadow_icount = UINT64_MAX;
}

/* The callout census (`info jit`): the form was found at translation. */
void bt_count_callout(CPUState *cpu, const BTCallInfo *ci)
{
    BT *bt = bt_of(cpu);
    bt->stats.callout_insns++;
    bt->stats.census_callout[ci->form]++;
}

int bt_helper_interp(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bt_count_callout(cpu, ci);
    if (ci->check_io) {
        bt_check_note_io(bt_of(cpu));
    }
    bool inhibited = cpu->inhibit_irq; /* in STI's shadow: ends after this one (cpu_exec) */
    interp_exec_insn(cpu, &ci->insn);
    if (inhibited) {
        cpu->inhibit_irq = false;
    }
    bool leave = cpu->next_eip != ci->next_eip;
    if (is_far_door(&ci->insn) && ci->index + 1 == ci->tb->ninsns) {
        leave = !bt_may_go_on(cpu, ci->tb, true);
        cpu->eip = cpu->next_eip; /* the block's far exit looks it up */
    } else if (ci->insn.op == OP_STI && cpu->inhibit_irq) {
        return bt_sti_leave(cpu, ci, leave || !bt_sti_may_go_on(cpu, ci));
    } else if (ci->insn.flags & INSN_F_ENDBLOCK) {
        leave |= !bt_may_go_on(cpu, ci->tb, false);
    }
    return bt_helper_leave(cpu, ci, cpu->next_eip, leave);
}

/*
 * A native POPF (gen_flow.c) that set TF, changed AC or made an interrupt
 * deliverable: it has retired; the mode is brought up to date (AC is in
 * hflags) and translated code leaves, so the run loop single-steps,
 * interprets or takes the interrupt.
 */
int bt_helper_popf_leave(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    cpu_update_mode(cpu);
    return bt_helper_leave(cpu, ci, ci->next_eip, true);
}

/* Before the op: fault now if the access cannot be done, and fetch the
 * operand into the bounce buffer (RMW checks the write first, as
 * opnd_rmw_read does: a read-only page faults as a write). */
void bt_helper_limit_check(CPUState *cpu, const BTCallInfo *ci)
{
    if (ci->seg == SEG_NONE || ci->size == 0) {
        return;
    }
    /* The segment's limit is FFFFFFFFh (the block key says so), so only an
     * offset whose last byte wraps is past it. */
    uint32_t offset = cpu->bt_lin - cpu->seg[ci->seg].base;
    if (offset > 0xffffffffu - (uint32_t)(ci->size - 1)) {
        seg_translate_slow(cpu, ci->seg, offset, ci->size, ci->access == ACC_WRITE);
    }
}

int bt_helper_mem_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    cpu->bt_mem_slow++;
    bt_helper_limit_check(cpu, ci);
    uint32_t lin = cpu->bt_lin, value = 0;
    if (ci->access == ACC_WRITE) {
        mmu_probe(cpu, lin, ci->size, ACC_WRITE, ci->mmu_idx);
        if (ci->rmw) {
            value = mmu_read_slow(cpu, lin, ci->size, ci->mmu_idx, ACC_READ);
        }
    } else {
        value = mmu_read_slow(cpu, lin, ci->size, ci->mmu_idx, ACC_READ);
    }
    memcpy(cpu->bt_bounce, &value, sizeof(value));
    return 0;
}

/* After the op: store the bounce buffer (probed by prep, so no fault). */
int bt_helper_mem_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint32_t value;
    memcpy(&value, cpu->bt_bounce, sizeof(value));
    bt_helper_enter(cpu, ci);
    mmu_write_slow(cpu, cpu->bt_lin, ci->size, value, ci->mmu_idx);
    uint64_t next = ci->target_in_cpu ? cpu->bt_target : ci->next_eip;
    return bt_helper_leave(cpu, ci, next, false);
}
