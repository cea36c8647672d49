/*
 * Light helpers: the C side of the system instructions gen_sys.c emits
 * (segment loads, RDTSC, VERW, SYSENTER, SYSEXIT; in 64-bit blocks also
 * CR8 reads, RDMSR, WRMSR, SYSCALL, SYSRET and IRET).  Each runs the
 * interpreter's own code for its instruction, so checks and faults are
 * exactly cpu_exec()'s, but none goes through bt_helper_interp(): no
 * census, no end-of-callout tests, and the block key after the
 * instruction is worked out from the block's own key and the one or two
 * segments the instruction changed, not by bt_block_key() over all six.
 *
 * An instruction in an interrupt shadow (after STI or MOV SS) ends it, as
 * in cpu_exec() and bt_helper_interp().
 */
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "translator/gen64_flow.h"

/* The instruction through the interpreter, its interrupt shadow ended. */
static void light_exec(CPUState *cpu, const BTCallInfo *ci)
{
    bt_of(cpu)->stats.helper_insns++;
    bool inhibited = cpu->inhibit_irq;
    interp_exec_insn(cpu, &ci->insn);
    if (inhibited) {
        cpu->inhibit_irq = false;
    }
}

/*
 * MOV Sreg and POP Sreg into ES, DS, FS or GS, in the middle of a block.
 * When the segment's class is the one the block's key has, the block goes
 * on.  Otherwise bt_tag_hi gets the new key, the rest of the block is
 * refunded, and the block leaves through the jump cache at the next
 * instruction (gen_sys.c); a data segment changes neither the CPL nor the
 * mode, so nothing else of bt_may_go_on() can have changed.
 *
 * MOV Sreg, r and POP Sreg that would change nothing but ESP
 * (seg_load_data_is_noop: the same selector and descriptor, checks
 * passing) return at once: the Linux i386 kernel reloads DS and ES with
 * the user's selector on every entry and pops them back on every exit, and
 * the interpreter's load was most of this helper's cost (fetch, checks,
 * the cache rebuilt, the flags in and out).
 */
int bt_helper_seg_load(CPUState *cpu, const BTCallInfo *ci)
{
    int dst = ci->insn.opnd[0].reg;
    if (ci->insn.op == OP_POP_SREG
            ? pop_sreg_if_noop(cpu, &ci->insn)
            : ci->insn.opnd[1].kind == OPK_REG &&
                  seg_load_data_is_noop(cpu, dst, (uint16_t)cpu->regs[ci->insn.opnd[1].reg])) {
        bt_of(cpu)->stats.helper_insns++;
        return 0;
    }
    bt_helper_enter(cpu, ci);
    light_exec(cpu, ci);
    int seg = ci->insn.opnd[0].reg;
    uint32_t shift = KEY_SEG_SHIFT + 2u * (uint32_t)seg;
    uint32_t key = ci->tb->key;
    uint32_t now = (key & ~(3u << shift)) | bt_seg_class(&cpu->seg[seg]) << shift;
    bool changed = now != key;
    if (changed) {
        cpu->bt_tag_hi = (uint64_t)now << 32;
    }
    int r = bt_helper_leave(cpu, ci, ci->next_eip, false);
    if (!r && changed) {
        cpu->bt_budget += ci->tb->ninsns - ci->index - 1; /* leaves after it */
    }
    return r;
}

/*
 * RDTSC: the count made exact first (the TSC follows it under -icount),
 * the flags left parked (RDTSC changes none).  CR4.TSD at CPL > 0 goes to
 * the interpreter callout, which raises #GP(0) with the state exact.
 */
int bt_helper_rdtsc(CPUState *cpu, const BTCallInfo *ci)
{
    if ((cpu->cr4 & CR4_TSD) && cpu->cpl != 0) {
        return bt_helper_interp(cpu, ci);
    }
    BT *bt = bt_of(cpu);
    cpu->icount =
        bt->icount_end - (uint64_t)bt_budget_left(cpu) - (uint64_t)(ci->tb->ninsns - ci->index);
    cpu->eip = ci->eip;
    cpu->next_eip = ci->next_eip;
    light_exec(cpu, ci);
    return 0;
}

/*
 * An instruction after which the block goes on as it is: VERW (the
 * kernel's buffer-clearing VERW on every return to user mode: ZF from the
 * interpreter's probe, the other flags kept); in 64-bit blocks RDMSR (the
 * count exact for one that reads the clock), MOV r64, CR8 (the APIC's TPR
 * through CPUHooks) and the loads of ES, DS, FS and
 * GS, whose bases and limits a 64-bit block's key does not hold (run.c:
 * FS's and GS's bases, the only ones 64-bit mode uses, are read from
 * CPUState as the block runs).
 */
int bt_helper_sys_stay(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    light_exec(cpu, ci);
    return bt_helper_leave(cpu, ci, ci->next_eip, false);
}

/*
 * WRMSR at CPL 0 in a 64-bit block (gen_sys.c), which does not end it.
 * FS.base, GS.base and IA32_KERNEL_GS_BASE are read by 64-bit blocks as
 * they run and are in no key, so the block goes on after those (Linux
 * writes FS.base on every switch to a thread with TLS).  Any other MSR may
 * change what translated code depends on (EFER.NXE, the APIC), and the
 * block leaves after it for the run loop to look at the mode afresh.  A
 * #GP (an MSR that does not exist, a non-canonical base) is the
 * interpreter's.
 */
int bt_helper_wrmsr64(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    uint32_t msr = (uint32_t)cpu->regs[R_ECX];
    light_exec(cpu, ci);
    bool base = msr == MSR_FS_BASE || msr == MSR_GS_BASE || msr == MSR_KERNEL_GS_BASE;
    return bt_helper_leave(cpu, ci, ci->next_eip, !base);
}

/*
 * SYSENTER and SYSEXIT, a block's last instruction (gen.c's far exit
 * follows).  Both load flat CS and SS (op_SYSENTER, op_SYSEXIT) and change
 * the CPL, so the new key is the block's with the CPL, SS.B and SS's class
 * replaced.  The block goes on through the jump cache when nothing is
 * pending and the new mode is translatable (bt_may_go_on() in helpers.c
 * for the other doors).
 */
int bt_helper_sys_door(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    light_exec(cpu, ci);
    uint32_t ss_bits = 3u << (KEY_SEG_SHIFT + 2u * SEG_SS);
    uint32_t key = (ci->tb->key & ~(KEY_CPL_MASK | KEY_SS32 | ss_bits)) |
                   (cpu->cpl & KEY_CPL_MASK) | KEY_SS32 |
                   (uint32_t)SEGCLASS_FLAT << (KEY_SEG_SHIFT + 2u * SEG_SS);
    bool transient;
    bool go_on = bt_mode_ok(cpu, &transient) && !bt_events_pending(cpu) &&
                 cpu->seg[SEG_CS].base == ci->tb->cs_base;
    if (go_on) {
        cpu->bt_tag_hi = (uint64_t)key << 32;
        cpu->bt_view_delta = (uint64_t)cpu->mmu_idx * TLB_SLOTS * sizeof(TLBEntry);
    }
    cpu->eip = cpu->next_eip; /* the block's far exit looks it up */
    return bt_helper_leave(cpu, ci, (uint32_t)cpu->next_eip, !go_on);
}

/*
 * SYSCALL, SYSRET and IRET of a 64-bit block (gen_sys.c, gen64_sys_door).
 * The new key is bt_block_key()'s, which in 64-bit mode depends on the
 * CPL alone (run.c).  The block goes on through the jump cache when
 * nothing is pending (SYSRET or IRET restoring IF with an interrupt
 * waiting, IRET ending NMI blocking with an NMI waiting, TF or RF set)
 * and the code is 64-bit still: SYSRET without REX.W and IRET to a 32-bit
 * code segment enter compatibility mode, whose blocks the run loop enters
 * with the 32-bit stub.  A fault (IRET's non-canonical RIP, a bad
 * selector) is the interpreter's, with the state exact.
 */
int bt_helper_sys_door64(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    light_exec(cpu, ci);
    uint32_t key = bt_block_key(cpu);
    bool transient;
    bool go_on = (key & KEY_CODE64) && bt_mode_ok(cpu, &transient) && !bt_events_pending(cpu);
    if (go_on) {
        cpu->bt_tag_hi = (uint64_t)key << 32;
        cpu->bt_view_delta = (uint64_t)cpu->mmu_idx * TLB_SLOTS * sizeof(TLBEntry);
    }
    cpu->eip = cpu->next_eip; /* the block's far exit looks it up */
    return bt_helper_leave(cpu, ci, cpu->next_eip, !go_on);
}
