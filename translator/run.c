/*
 * The translator's run loop: bt_exec(), a drop-in for cpu_exec().
 *
 *     for (;;) {
 *         events (interrupts, NMI, reset, exit, halt)  -> cpu_exec(cpu, 1)
 *         slice budget used up                          -> return
 *         mode not translatable                         -> cpu_exec(cpu, n)
 *         look up the block at CS:EIP (or translate it), chain the exit
 *         just taken to it, enter it
 *     }
 *
 * Translated code runs with a 32-bit code segment of limit 4 GiB in
 * protected mode (not vm86) or compatibility mode, without TF, RF, DR7 breakpoints, #AC
 * checking, an interrupt shadow or an instruction observer (trace,
 * single-step); an observer that only wants the debugger's breakpoints
 * (CPUHooks.insn_bp) leaves translated code running, since no block holds
 * an instruction at a breakpoint (translator/scan.c).  Everything else is the interpreter's, a bounded number of
 * instructions at a time, so the switch back happens within 64
 * instructions of the mode allowing it.
 *
 * Faults.  A guest fault in a callout longjmps here with CPUState exact
 * (translator/helpers.c) and is delivered as cpu_exec() delivers it.  The
 * interpreter's cpu_exec() re-arms cpu->jmp_env for itself, so each call to
 * it returns to bt_exec() and bt_loop() arms the jump again.
 *
 * Instruction counts.  bt_exec() gives translated code the rest of the
 * slice as CPUState.bt_budget; a block charges its length at entry and
 * leaves if the budget went negative, so a block never overruns the slice
 * and the last few instructions of a slice run on the interpreter.  The
 * count after a run is icount_end - budget, exact for -icount.
 */
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/bt_internal.h"

#define BT_INTERP_CHUNK 64 /* instructions per interpreter call for untranslatable modes */

enum { LOOP_BUDGET, LOOP_EVENTS, LOOP_INTERP };

uint32_t bt_seg_class(const SegmentCache *s)
{
    if (s->check & (SEGCHK_UNUSABLE | SEGCHK_EXPDOWN | SEGCHK_NOWRITE | SEGCHK_NOREAD) ||
        s->limit != 0xffffffffu) {
        return SEGCLASS_OTHER;
    }
    return s->base ? SEGCLASS_BASED : SEGCLASS_FLAT;
}

/*
 * 64-bit mode ignores the bases and limits of CS, DS, ES and SS and
 * checks no segment type on an access (SDM Vol.3 3.4.4, 5.3.1), and 64-bit
 * blocks address FS and GS only through callouts and the stack only
 * through RSP, so the key of 64-bit code holds no class or SS.B of its
 * own: ES, DS and SS are flat, FS and GS "other", SS.B set.  Otherwise
 * every SWAPGS (GS's base between the user's and the per-CPU area), every
 * FS base a context switch writes and every null SS an interrupt loads
 * would make a new key, a block translated again and a chain that cannot
 * be made.
 */
#define KEY_CODE64_FIXED                                                                           \
    (KEY_SS32 | (uint32_t)SEGCLASS_OTHER << (KEY_SEG_SHIFT + 2 * SEG_CS) |                         \
     (uint32_t)SEGCLASS_OTHER << (KEY_SEG_SHIFT + 2 * SEG_FS) |                                    \
     (uint32_t)SEGCLASS_OTHER << (KEY_SEG_SHIFT + 2 * SEG_GS))

uint32_t bt_block_key(const CPUState *cpu)
{
    uint32_t key = cpu->cpl & KEY_CPL_MASK;
    if (cpu->hflags & HF_CS64) {
        return key | KEY_LMA | KEY_CODE64 | KEY_CODE64_FIXED;
    }
    if (cpu->hflags & HF_SS32) {
        key |= KEY_SS32;
    }
    if (cpu->hflags & HF_LMA) {
        key |= KEY_LMA;
    }
    if (cpu->hflags & HF_CS64) {
        key |= KEY_CODE64;
    }
    for (int s = 0; s < SEG_COUNT; s++) {
        uint32_t c = s == SEG_CS ? SEGCLASS_OTHER : bt_seg_class(&cpu->seg[s]);
        key |= c << (KEY_SEG_SHIFT + 2 * s);
    }
    return key;
}

bool bt_mode_ok(const CPUState *cpu, bool *transient)
{
    *transient =
        cpu->inhibit_irq || (cpu->eflags & EFLAGS_RF) || cpu->pending_dr6 || cpu->deferred_dr6;
    if (*transient) {
        return false;
    }
    if ((cpu->eflags & EFLAGS_TF) || (cpu->dr[7] & 0xff) ||
        (cpu->hooks.on_insn && !cpu->hooks.insn_bp)) {
        return false;
    }
    /* 64-bit mode (HF_CS64, HF_CS32 clear) has no CS limit (SDM Vol.3
     * 5.3.1); its blocks are gen64.c's.  Compatibility mode is 32-bit code
     * as in protected mode (SDM Vol.3 5.2.1: segmentation, operand and
     * address sizes as there); what differs, the 64-bit IDT and TSS and the
     * 4-level walk, is behind the interpreter's delivery and the TLB, which
     * callouts and slow paths use. */
    if (cpu->hflags & HF_CS64) {
        const BT *bt = bt_of(cpu);
        return bt && bt->code64 && !(cpu->hflags & HF_AC);
    }
    return (cpu->hflags & (HF_PE | HF_VM | HF_CS32 | HF_AC)) == (HF_PE | HF_CS32) &&
           cpu->seg[SEG_CS].limit == 0xffffffffu;
}

bool bt_events_pending(const CPUState *cpu)
{
    return cpu->triple_fault || cpu->halted || cpu_events_waiting(cpu);
}

/* NULL when the code is not in plain RAM or cannot start a block. */
TB *bt_find(BT *bt)
{
    CPUState *cpu = bt->cpu;
    uint32_t cs_base;
    uint64_t eip = cpu->eip, lin = bt_code_lin(cpu, &cs_base);
    if (!mmu_canonical(lin)) {
        return NULL; /* the interpreter's fetch raises #GP(0) */
    }
    if (cs_base != bt->jc_cs_base) {
        bt_jc_clear(bt);
        bt->jc_cs_base = cs_base;
    }
    TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    if (e->tag[ACC_FETCH] != (lin & TLB_PAGE_MASK)) {
        uint32_t avail;
        mmu_fetch_ptr(cpu, lin, cpu->mmu_idx, &avail); /* fills the entry or faults */
    }
    uint32_t phys = e->phys | (lin & 0xfff);
    /* phys_hi: a PAE frame above 4 GiB, where no code can be (mmu.c). */
    const uint8_t *host = e->phys_hi ? NULL : phys_ram_page(cpu->phys, phys & TLB_PAGE_MASK);
    if (!host) {
        return NULL;
    }
    uint32_t key = bt_block_key(cpu);
    TB *tb = bt_tb_lookup(bt, phys, eip, cs_base, key);
    if (tb && tb->straddle && bt_straddle_stale(bt, tb)) {
        bt_tb_invalidate(bt, tb); /* its second page is another one now (straddle.c) */
        tb = NULL;
    }
    if (!tb) {
        tb = bt_translate(bt, eip, phys, host, key);
        if (!tb) {
            return NULL;
        }
        if ((key & (KEY_LMA | KEY_CODE64)) == KEY_LMA) { /* not 64-bit blocks */
            bt->stats.compat_blocks++;
        }
    }
    if (cpu->bt_exit) {
        bt_chain(bt, bt_to_rw(bt, cpu->bt_exit), tb);
    }
    bt_jc_insert(bt, tb);
    return tb;
}

void bt_run_tb(BT *bt, TB *tb)
{
    CPUState *cpu = bt->cpu;
    cpu->bt_budget = (int64_t)(bt->icount_end - cpu->icount);
    cpu->bt_exit_request = 0;
    cpu->bt_exit = NULL;
    cpu->bt_tag_hi = (uint64_t)tb->key << 32;
    cpu->bt_icount_end = bt->icount_end;
    bt_flags_out(cpu);
    bt->stats.entries++;
    if (tb->key & KEY_CODE64) {
        bt->enter64(cpu, tb->code);
    } else {
        bt->enter(cpu, tb->code);
    }
    cpu->bt_shadow_icount = UINT64_MAX; /* a shadow STI ended has been run (helpers.c) */
    bt_fpu_sync(cpu); /* x87 state left live in the host FPU back to CPUState (fpu_state.c) */
    cpu->icount = bt->icount_end - (uint64_t)bt_budget_left(cpu);
    bt_flags_in(cpu);
}

/* Why a mode is not translatable (BT_WHY_*), for the statistics. */
static int untranslatable_why(const CPUState *cpu, bool transient)
{
    if (transient) {
        return BT_WHY_TRANSIENT;
    }
    if (!(cpu->hflags & HF_PE)) {
        return BT_WHY_REAL;
    }
    if (cpu->hflags & HF_VM) {
        return BT_WHY_VM86;
    }
    if ((cpu->hflags & HF_CS64) && !bt_of(cpu)->code64) {
        return BT_WHY_CODE64;
    }
    if (!(cpu->hflags & HF_CS32) || cpu->seg[SEG_CS].limit != 0xffffffffu) {
        return BT_WHY_CODE16;
    }
    return BT_WHY_DEBUG;
}

static int bt_loop(BT *bt, uint64_t *interp_n, int *why)
{
    CPUState *cpu = bt->cpu;
    if (setjmp(cpu->jmp_env)) {
        cpu->bt_exit = NULL;
        bt_fault_in_shadow(cpu);
        cpu_deliver_raised_exception(cpu);
    }
    for (;;) {
        if (bt_events_pending(cpu)) {
            return LOOP_EVENTS;
        }
        if (cpu->icount >= bt->icount_end) {
            return LOOP_BUDGET;
        }
        uint64_t left = bt->icount_end - cpu->icount;
        bool transient;
        if (!bt_mode_ok(cpu, &transient)) {
            *interp_n = transient ? 1 : (left < BT_INTERP_CHUNK ? left : BT_INTERP_CHUNK);
            *why = untranslatable_why(cpu, transient);
            return LOOP_INTERP;
        }
        TB *tb = bt_find(bt);
        if (!tb) {
            *interp_n = 1;
            *why = BT_WHY_NOBLOCK;
            return LOOP_INTERP;
        }
        if (left < tb->ninsns) {
            *interp_n = left;
            *why = BT_WHY_TAIL;
            return LOOP_INTERP;
        }
        bt_run_tb(bt, tb);
    }
}

int bt_exec(BT *bt, uint64_t max_insns)
{
    if (bt->mode == BT_MODE_CHECK) {
        return bt_check_exec(bt, max_insns);
    }
    CPUState *cpu = bt->cpu;
    bt->icount_end = cpu->icount + max_insns;
    for (;;) {
        uint64_t n = 0;
        int why = BT_WHY_EVENT;
        int r = bt_loop(bt, &n, &why);
        if (r == LOOP_BUDGET) {
            return CPU_EXIT_BUDGET;
        }
        if (r == LOOP_EVENTS) {
            /* Events and then one instruction, so the loop always advances. */
            n = cpu->icount < bt->icount_end ? 1 : 0;
        }
        uint64_t before = cpu->icount;
        int reason = cpu_exec(cpu, n);
        bt->stats.interp_insns += cpu->icount - before;
        bt->stats.interp_why[why] += cpu->icount - before;
        if (reason != CPU_EXIT_BUDGET || n == 0) {
            return reason;
        }
    }
}
