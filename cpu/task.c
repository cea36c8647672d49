/*
 * Hardware task switching (SDM Vol.3 7.3) and the TSS stack look-up used by
 * privilege-raising calls and interrupts (SDM Vol.3 7.2.1).
 *
 * A task switch has a commit point.  Before it, everything that can fault
 * in the old task's context is done: TSS present and limit checks, reading
 * the whole new TSS, probing the writes to the old TSS, the back link and
 * the busy bits.  After it the switch always completes (busy bits, state
 * saved, TR, CR0.TS, CR3, registers, EFLAGS, EIP), and only then are the
 * new LDTR and segment registers checked; a fault there is delivered in the
 * new task, exactly as Table 7-1 lists it.
 */
#include "cpu/desc.h"

/* DR6.BT: debug trap raised by the T bit of the new TSS (SDM Vol.3 17.2.3). */
#define DR6_BT 0x8000u
/* DR7 L0-L3 and LE, cleared by every task switch (SDM Vol.3 17.2.4). */
#define DR7_LOCAL_ENABLES 0x155u

/* Minimum TSS limits: 104 bytes for a 32-bit TSS, 44 for a 16-bit one. */
#define TSS32_MIN_LIMIT 0x67u
#define TSS16_MIN_LIMIT 0x2bu

/* Where the dynamic fields sit (SDM Vol.3 Figures 7-2 and 7-11). */
typedef struct TSSLayout {
    uint32_t eip, eflags, regs, segs, ldt; /* offsets */
    int width;                             /* 4 or 2: field stride and size */
    int nsegs;                             /* 6, or 4 (ES CS SS DS) in a 16-bit TSS */
} TSSLayout;

static const TSSLayout tss32_layout = {0x20, 0x24, 0x28, 0x48, 0x60, 4, 6};
static const TSSLayout tss16_layout = {0x0e, 0x10, 0x12, 0x22, 0x2a, 2, 4};

/* The state a TSS holds for a task. */
typedef struct TaskState {
    uint32_t cr3;
    uint32_t eip;
    uint32_t eflags;
    uint32_t regs[8];
    uint16_t segs[SEG_COUNT];
    uint16_t ldt;
    bool trap; /* T bit: #DB on entry */
} TaskState;

static bool tr_is_tss32(const CPUState *cpu)
{
    return (cpu->tr.attr & (8u << DESC_TYPE_SHIFT)) != 0;
}

/* ---- the inner-level stack ---- */

uint64_t tss_inner_stack(CPUState *cpu, uint32_t dpl, uint32_t ext, uint16_t *ss_sel, uint32_t *esp)
{
    bool tss32 = tr_is_tss32(cpu);
    uint32_t offset = tss32 ? dpl * 8 + 4 : dpl * 4 + 2;
    uint32_t last = offset + (tss32 ? 5 : 3);
    if (last > cpu->tr.limit) {
        cpu_raise_exception_err(cpu, EXC_TS, sel_error(cpu->tr.selector) | ext);
    }
    uint32_t lin = cpu->tr.base + offset;
    uint16_t sel;
    if (tss32) {
        *esp = lin_read_sys(cpu, lin, 4);
        sel = (uint16_t)lin_read_sys(cpu, lin + 4, 2);
    } else {
        *esp = lin_read_sys(cpu, lin, 2);
        sel = (uint16_t)lin_read_sys(cpu, lin + 2, 2);
    }
    *ss_sel = sel;
    if (sel_is_null(sel)) {
        cpu_raise_exception_err(cpu, EXC_TS, ext);
    }
    uint64_t desc = seg_fetch_descriptor(cpu, sel, EXC_TS, sel_error(sel) | ext);
    if (sel_rpl(sel) != dpl || desc_dpl(desc) != dpl || !desc_is_writable_data(desc)) {
        cpu_raise_exception_err(cpu, EXC_TS, sel_error(sel) | ext);
    }
    if (!desc_present(desc)) {
        cpu_raise_exception_err(cpu, EXC_SS, sel_error(sel) | ext);
    }
    return desc;
}

/*
 * The 64-bit TSS (SDM Vol.3 Figure 7-11): RSP0-2 at 4, 12, 20 and IST1-7
 * at 24h + 8 (n - 1), each 8 bytes; it holds no SS.  The read must lie
 * inside TR's limit, else #TS(TR selector + EXT).
 */
uint64_t tss64_stack(CPUState *cpu, uint32_t dpl, uint32_t ist, uint32_t ext)
{
    uint32_t offset = ist ? 0x24 + (ist - 1) * 8 : 4 + dpl * 8;
    if (offset + 7 > cpu->tr.limit) {
        cpu_raise_exception_err(cpu, EXC_TS, sel_error(cpu->tr.selector) | ext);
    }
    return sys_read(cpu, cpu->tr.base + offset, 8);
}

/* ---- reading and writing TSS images ---- */

static void tss_read(CPUState *cpu, uint32_t base, bool tss32, TaskState *ts)
{
    const TSSLayout *l = tss32 ? &tss32_layout : &tss16_layout;
    int w = l->width;
    ts->cr3 = tss32 ? lin_read_sys(cpu, base + 0x1c, 4) : 0;
    ts->eip = lin_read_sys(cpu, base + l->eip, w);
    ts->eflags = lin_read_sys(cpu, base + l->eflags, w);
    for (int i = 0; i < 8; i++) {
        ts->regs[i] = lin_read_sys(cpu, base + l->regs + (uint32_t)(i * w), w);
        if (!tss32) {
            /* A 16-bit TSS sets the upper halves to ones, as P6 processors do. */
            ts->regs[i] |= 0xffff0000u;
        }
    }
    for (int s = 0; s < SEG_COUNT; s++) {
        ts->segs[s] = 0;
        if (s < l->nsegs) {
            ts->segs[s] = (uint16_t)lin_read_sys(cpu, base + l->segs + (uint32_t)(s * w), 2);
        }
    }
    ts->ldt = (uint16_t)lin_read_sys(cpu, base + l->ldt, 2);
    ts->trap = tss32 && (lin_read_sys(cpu, base + 0x64, 2) & 1);
}

/* Store the outgoing task's dynamic state (SDM Vol.3 7.3 step 9). */
static void tss_save(CPUState *cpu, uint32_t base, bool tss32, uint32_t eip, uint32_t eflags)
{
    const TSSLayout *l = tss32 ? &tss32_layout : &tss16_layout;
    int w = l->width;
    lin_write_sys(cpu, base + l->eip, w, eip);
    lin_write_sys(cpu, base + l->eflags, w, eflags);
    for (int i = 0; i < 8; i++) {
        lin_write_sys(cpu, base + l->regs + (uint32_t)(i * w), w, cpu->regs[i]);
    }
    for (int s = 0; s < l->nsegs; s++) {
        lin_write_sys(cpu, base + l->segs + (uint32_t)(s * w), 2, cpu->seg[s].selector);
    }
}

/* Fault now, in the old task, if lin..lin+len-1 cannot be written. */
static void probe_write_range(CPUState *cpu, uint32_t lin, uint32_t len)
{
    mmu_probe(cpu, lin, 1, ACC_WRITE, MMU_KERNEL);
    mmu_probe(cpu, lin + len - 1, 1, ACC_WRITE, MMU_KERNEL);
}

/* Flip the busy bit of a TSS descriptor in the GDT (SDM Vol.3 7.2.2). */
static void tss_set_busy(CPUState *cpu, uint16_t selector, bool busy)
{
    uint32_t lin = seg_desc_linear(cpu, selector) + 5;
    uint32_t access_byte = lin_read_sys(cpu, lin, 1);
    access_byte = busy ? (access_byte | SYS_TSS_BUSY_BIT) : (access_byte & ~SYS_TSS_BUSY_BIT);
    lin_write_sys(cpu, lin, 1, access_byte);
}

/* ---- loading the new task's segments (after the commit point) ---- */

static noreturn void task_fault(CPUState *cpu, int vector, uint16_t selector)
{
    cpu_raise_exception_err(cpu, vector, sel_error(selector));
}

static void task_load_ldt(CPUState *cpu, uint16_t selector)
{
    cpu->ldtr.selector = selector;
    cpu->ldtr.base = 0;
    cpu->ldtr.limit = 0;
    cpu->ldtr.attr = 0;
    seg_update_check(&cpu->ldtr);
    if (sel_is_null(selector)) {
        return;
    }
    if (selector & 4) {
        task_fault(cpu, EXC_TS, selector);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_TS);
    if (!desc_is_system_type(desc, SYS_LDT) || !desc_present(desc)) {
        task_fault(cpu, EXC_TS, selector);
    }
    seg_cache_from_descriptor(&cpu->ldtr, selector, desc);
}

static void task_load_ss(CPUState *cpu, uint16_t selector, uint32_t cpl)
{
    if (sel_is_null(selector)) {
        task_fault(cpu, EXC_TS, selector);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_TS);
    if (!desc_is_writable_data(desc)) {
        task_fault(cpu, EXC_TS, selector);
    }
    if (!desc_present(desc)) {
        task_fault(cpu, EXC_SS, selector);
    }
    if (desc_dpl(desc) != cpl || desc_dpl(desc) != sel_rpl(selector)) {
        task_fault(cpu, EXC_TS, selector);
    }
    seg_set_accessed(cpu, selector, desc);
    seg_commit_ss(cpu, selector, desc);
}

static void task_load_data(CPUState *cpu, int seg, uint16_t selector, uint32_t cpl)
{
    if (sel_is_null(selector)) {
        seg_load_null(cpu, seg, selector);
        return;
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_TS);
    if (!desc_is_readable(desc)) {
        task_fault(cpu, EXC_TS, selector);
    }
    if (!desc_is_conforming_code(desc) &&
        (desc_dpl(desc) < cpl || desc_dpl(desc) < sel_rpl(selector))) {
        task_fault(cpu, EXC_TS, selector);
    }
    if (!desc_present(desc)) {
        task_fault(cpu, EXC_NP, selector);
    }
    seg_set_accessed(cpu, selector, desc);
    seg_cache_from_descriptor(&cpu->seg[seg], selector, desc | ((uint64_t)DESC_A << 32));
}

static void task_load_cs(CPUState *cpu, uint16_t selector)
{
    if (sel_is_null(selector)) {
        task_fault(cpu, EXC_TS, selector);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_TS);
    if (!desc_is_code(desc)) {
        task_fault(cpu, EXC_TS, selector);
    }
    if (desc_is_conforming_code(desc) ? desc_dpl(desc) > sel_rpl(selector)
                                      : desc_dpl(desc) != sel_rpl(selector)) {
        task_fault(cpu, EXC_TS, selector);
    }
    if (!desc_present(desc)) {
        task_fault(cpu, EXC_NP, selector);
    }
    seg_set_accessed(cpu, selector, desc);
    seg_commit_cs(cpu, selector, desc, sel_rpl(selector));
}

/*
 * The selectors are in place before any check, with unusable caches, so a
 * fault shows the new task's selectors.  While LDTR and SS are checked the
 * CPL reads as 3 (SS.DPL 3), so a fault there switches to a stack from the
 * new TSS instead of using the unchecked SS.
 */
static void task_load_segments(CPUState *cpu, const TaskState *ts)
{
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_null(cpu, s, ts->segs[s]);
    }
    if (ts->eflags & EFLAGS_VM) {
        task_load_ldt(cpu, ts->ldt);
        for (int s = 0; s < SEG_COUNT; s++) {
            seg_load_vm86(cpu, s, ts->segs[s]);
        }
        cpu_update_mode(cpu);
        return;
    }
    cpu->seg[SEG_SS].attr = DESC_DPL_MASK;
    cpu_update_mode(cpu);
    task_load_ldt(cpu, ts->ldt);
    uint32_t cpl = sel_rpl(ts->segs[SEG_CS]);
    task_load_ss(cpu, ts->segs[SEG_SS], cpl);
    task_load_data(cpu, SEG_DS, ts->segs[SEG_DS], cpl);
    task_load_data(cpu, SEG_ES, ts->segs[SEG_ES], cpl);
    task_load_data(cpu, SEG_FS, ts->segs[SEG_FS], cpl);
    task_load_data(cpu, SEG_GS, ts->segs[SEG_GS], cpl);
    task_load_cs(cpu, ts->segs[SEG_CS]);
}

/* ---- the switch ---- */

void cpu_task_switch(CPUState *cpu, uint16_t tss_sel, uint64_t tss_desc, int source,
                     uint32_t next_eip)
{
    /* IA-32e mode has no hardware task switching (SDM Vol.3 7.7). */
    if (cpu_lma(cpu)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(tss_sel));
    }
    /* Checks reported in the old task (SDM Vol.3 7.3 steps 3-5, Table 7-1). */
    if (!desc_present(tss_desc)) {
        cpu_raise_exception_err(cpu, EXC_NP, sel_error(tss_sel));
    }
    bool new32 = desc_is_tss32(tss_desc);
    if (desc_limit(tss_desc) < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT)) {
        cpu_raise_exception_err(cpu, EXC_TS, sel_error(tss_sel));
    }
    bool old32 = tr_is_tss32(cpu);
    if (cpu->tr.limit < (old32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT)) {
        cpu_raise_exception_err(cpu, EXC_TS, sel_error(cpu->tr.selector));
    }
    uint32_t new_base = desc_base(tss_desc);
    uint32_t old_base = cpu->tr.base;
    TaskState next;
    tss_read(cpu, new_base, new32, &next);
    const TSSLayout *old_layout = old32 ? &tss32_layout : &tss16_layout;
    probe_write_range(cpu, old_base + old_layout->eip, old_layout->ldt - old_layout->eip);
    bool nesting = source == TASK_CALL || source == TASK_INT;
    if (nesting) {
        probe_write_range(cpu, new_base, 2);
    }
    if (source == TASK_JMP || source == TASK_IRET) {
        probe_write_range(cpu, seg_desc_linear(cpu, cpu->tr.selector) + 5, 1);
    }
    if (source != TASK_IRET) {
        probe_write_range(cpu, seg_desc_linear(cpu, tss_sel) + 5, 1);
    }

    /* Commit point: the switch completes from here on. */
    uint32_t old_eflags = cpu_get_eflags(cpu);
    if (source == TASK_IRET) {
        old_eflags &= ~EFLAGS_NT; /* the task being left is no longer nested */
    }
    if (source == TASK_JMP || source == TASK_IRET) {
        tss_set_busy(cpu, cpu->tr.selector, false);
    }
    tss_save(cpu, old_base, old32, next_eip, old_eflags);
    if (nesting) {
        lin_write_sys(cpu, new_base, 2, cpu->tr.selector);
        next.eflags |= EFLAGS_NT;
    }
    if (source != TASK_IRET) {
        tss_set_busy(cpu, tss_sel, true);
    }
    seg_cache_from_descriptor(&cpu->tr, tss_sel,
                              tss_desc | ((uint64_t)(SYS_TSS_BUSY_BIT << DESC_TYPE_SHIFT) << 32));
    cpu->cr0 |= CR0_TS;
    cpu->dr[7] &= ~DR7_LOCAL_ENABLES;
    if (new32 && (cpu->cr0 & CR0_PG)) {
        cpu_write_cr3(cpu, next.cr3);
    }
    for (int i = 0; i < 8; i++) {
        cpu->regs[i] = next.regs[i];
    }
    /* A 16-bit TSS holds FLAGS: the upper word (VM, RF, AC, ...) is cleared,
     * so a switch out of vm86 into a 16-bit task leaves vm86. */
    cpu_set_eflags(cpu, new32 ? next.eflags : next.eflags & 0xffffu, 0xffffffffu);
    /* From here faults belong to the new task: report them at its EIP. */
    cpu->eip = next.eip;
    cpu->next_eip = next.eip;

    task_load_segments(cpu, &next);
    if (next.eip > cpu->seg[SEG_CS].limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (next.trap) {
        cpu->pending_dr6 |= DR6_BT;
    }
}
