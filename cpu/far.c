/*
 * Far JMP, CALL, RET and IRET: every case of the SDM Vol.2 pseudo-code for
 * the four instructions (real mode, vm86, and protected mode with
 * conforming and non-conforming code, call gates with and without a stack
 * switch, task gates and TSS targets, returns to outer levels, returns to
 * vm86 and nested-task returns).
 *
 * Each transfer checks everything and builds its stack frame on a pending
 * stack (cpu/desc.h) first, and commits CS, SS, ESP, EFLAGS and next_eip
 * last, so a fault leaves the instruction restartable (SDM Vol.3 6.5).
 * IA-32e mode has its own rules (cpu/far_lm.c).
 */
#include "cpu/desc.h"

/* Raise #GP with a selector error code. */
static noreturn void raise_sel(CPUState *cpu, int vector, uint16_t selector)
{
    cpu_raise_exception_err(cpu, vector, sel_error(selector));
}

static bool cpu_is_protected(const CPUState *cpu)
{
    return (cpu->hflags & HF_PE) && !(cpu->hflags & HF_VM);
}

/* ---- real mode and vm86 ---- */

static void far_jmp_real(CPUState *cpu, uint16_t selector, uint32_t offset)
{
    if (offset > cpu->seg[SEG_CS].limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    seg_load_real(cpu, SEG_CS, selector);
    cpu->next_eip = offset;
}

static void far_call_real(CPUState *cpu, uint16_t selector, uint32_t offset, int opsize,
                          uint32_t next_eip)
{
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    pstack_push(cpu, &ps, opsize, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, opsize, next_eip);
    if (offset > cpu->seg[SEG_CS].limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_load_real(cpu, SEG_CS, selector);
    cpu->next_eip = offset;
}

static void far_ret_real(CPUState *cpu, int opsize, uint16_t pop_bytes)
{
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    uint32_t eip = pstack_pop(cpu, &ps, opsize);
    uint16_t cs = (uint16_t)pstack_pop(cpu, &ps, opsize);
    if (eip > cpu->seg[SEG_CS].limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    ps.sp += pop_bytes;
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_load_real(cpu, SEG_CS, cs);
    cpu->next_eip = eip;
}

/*
 * IRET in real mode and in vm86 with IOPL 3 (SDM Vol.2 IRET,
 * REAL-ADDRESS-MODE and RETURN-FROM-VIRTUAL-8086-MODE).  vm86 keeps IOPL;
 * both keep VM, VIF and VIP.
 */
static void iret_real_or_vm86(CPUState *cpu, int opsize)
{
    bool vm86 = (cpu->hflags & HF_VM) != 0;
    if (vm86 && cpu_iopl(cpu) != 3) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    uint32_t eip = pstack_pop(cpu, &ps, opsize);
    uint16_t cs = (uint16_t)pstack_pop(cpu, &ps, opsize);
    uint32_t flags = pstack_pop(cpu, &ps, opsize);
    if ((eip >> 16) != 0 || eip > cpu->seg[SEG_CS].limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t mask = opsize == 4 ? 0x257fd5u : 0x7fd5u;
    if (vm86) {
        mask &= ~EFLAGS_IOPL;
    }
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_load_real(cpu, SEG_CS, cs);
    cpu_set_eflags(cpu, flags, mask);
    cpu->next_eip = eip;
    cpu->in_nmi = false;
}

/* ---- protected mode: targets ---- */

/* Direct JMP/CALL to a code segment (SDM Vol.2 JMP/CALL, CONFORMING- and
 * NONCONFORMING-CODE-SEGMENT). */
void far_check_code(CPUState *cpu, uint16_t selector, uint64_t desc)
{
    if (desc_is_conforming_code(desc)) {
        if (desc_dpl(desc) > cpu->cpl) {
            raise_sel(cpu, EXC_GP, selector);
        }
    } else if (sel_rpl(selector) > cpu->cpl || desc_dpl(desc) != cpu->cpl) {
        raise_sel(cpu, EXC_GP, selector);
    }
    if (!desc_present(desc)) {
        raise_sel(cpu, EXC_NP, selector);
    }
}

/* The gate itself: DPL >= max(CPL, RPL) and present. */
void far_check_gate(CPUState *cpu, uint16_t selector, uint64_t gate)
{
    if (desc_dpl(gate) < cpu->cpl || desc_dpl(gate) < sel_rpl(selector)) {
        raise_sel(cpu, EXC_GP, selector);
    }
    if (!desc_present(gate)) {
        raise_sel(cpu, EXC_NP, selector);
    }
}

/* The code segment a call gate points to: code with DPL <= CPL, present. */
static uint64_t call_gate_target(CPUState *cpu, uint16_t code_sel)
{
    if (sel_is_null(code_sel)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, code_sel, EXC_GP);
    if (!desc_is_code(desc) || desc_dpl(desc) > cpu->cpl) {
        raise_sel(cpu, EXC_GP, code_sel);
    }
    if (!desc_present(desc)) {
        raise_sel(cpu, EXC_NP, code_sel);
    }
    return desc;
}

/*
 * Task gate or TSS selector: switch tasks (SDM Vol.2 JMP/CALL, TASK-GATE
 * and TASK-STATE-SEGMENT): DPL >= max(CPL, RPL); a gate must be present
 * and name a GDT selector; the TSS must be available.  cpu_task_switch()
 * checks that the TSS is present and long enough.
 */
static void far_task(CPUState *cpu, uint16_t selector, uint64_t desc, int source, uint32_t next_eip)
{
    if (desc_dpl(desc) < cpu->cpl || desc_dpl(desc) < sel_rpl(selector)) {
        raise_sel(cpu, EXC_GP, selector);
    }
    uint16_t tss_sel = selector;
    uint64_t tss_desc = desc;
    if (desc_is_system_type(desc, SYS_TASK_GATE)) {
        if (!desc_present(desc)) {
            raise_sel(cpu, EXC_NP, selector);
        }
        tss_sel = gate_selector(desc);
        if (tss_sel & 4) {
            raise_sel(cpu, EXC_GP, tss_sel);
        }
        tss_desc = seg_read_descriptor(cpu, tss_sel, EXC_GP);
    }
    if (!desc_is_available_tss(tss_desc)) {
        raise_sel(cpu, EXC_GP, tss_sel);
    }
    cpu_task_switch(cpu, tss_sel, tss_desc, source, next_eip);
}

/* ---- protected mode: JMP ---- */

static void far_jmp_to_code(CPUState *cpu, uint16_t selector, uint64_t desc, uint32_t offset)
{
    if (offset > desc_limit(desc)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    seg_set_accessed(cpu, selector, desc);
    seg_commit_cs(cpu, selector, desc, cpu->cpl);
    cpu->next_eip = offset;
}

/* JMP through a call gate never changes privilege (SDM Vol.2 JMP, CALL-GATE). */
static void far_jmp_gate(CPUState *cpu, uint16_t selector, uint64_t gate)
{
    far_check_gate(cpu, selector, gate);
    uint16_t code_sel = gate_selector(gate);
    uint64_t code = call_gate_target(cpu, code_sel);
    if (!desc_is_conforming_code(code) && desc_dpl(code) != cpu->cpl) {
        raise_sel(cpu, EXC_GP, code_sel);
    }
    far_jmp_to_code(cpu, code_sel, code, gate_offset(gate));
}

void cpu_far_jmp(CPUState *cpu, uint16_t selector, uint64_t offset, uint64_t next_eip)
{
    if (cpu_lma(cpu)) {
        cpu_far_jmp_lm(cpu, selector, offset);
        return;
    }
    if (!cpu_is_protected(cpu)) {
        far_jmp_real(cpu, selector, offset);
        return;
    }
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (desc_is_segment(desc)) {
        if (!desc_is_code(desc)) {
            raise_sel(cpu, EXC_GP, selector);
        }
        far_check_code(cpu, selector, desc);
        far_jmp_to_code(cpu, selector, desc, (uint32_t)offset);
        return;
    }
    switch (desc_type(desc)) {
    case SYS_CALL_GATE16:
    case SYS_CALL_GATE32: far_jmp_gate(cpu, selector, desc); return;
    case SYS_TASK_GATE:
    case SYS_TSS16_AVAIL:
    case SYS_TSS32_AVAIL:
    case SYS_TSS16_BUSY:
    case SYS_TSS32_BUSY: far_task(cpu, selector, desc, TASK_JMP, (uint32_t)next_eip); return;
    default: raise_sel(cpu, EXC_GP, selector);
    }
}

/* ---- protected mode: CALL ---- */

/* Same privilege: push CS:EIP on the current stack (size: operand or gate size). */
static void far_call_same(CPUState *cpu, uint16_t code_sel, uint64_t code, uint32_t offset,
                          int size, uint32_t next_eip)
{
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    pstack_push(cpu, &ps, size, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, size, next_eip);
    if (offset > desc_limit(code)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    seg_set_accessed(cpu, code_sel, code);
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_commit_cs(cpu, code_sel, code, cpu->cpl);
    cpu->next_eip = offset;
}

/* Call gate to a more privileged non-conforming segment: switch to the
 * TSS stack, push the old SS:ESP, copy the parameters, push CS:EIP. */
static void far_call_gate_inner(CPUState *cpu, uint64_t gate, uint16_t code_sel, uint64_t code,
                                uint32_t next_eip)
{
    uint32_t dpl = desc_dpl(code);
    uint16_t ss_sel;
    uint32_t esp;
    uint64_t ss_desc = tss_inner_stack(cpu, dpl, 0, &ss_sel, &esp);

    int size = gate_size(gate);
    PendingStack old_stack, ps;
    pstack_init_current(cpu, &old_stack);
    pstack_init_new(&ps, ss_sel, ss_desc, esp, dpl, 0);
    pstack_push(cpu, &ps, size, cpu->seg[SEG_SS].selector);
    pstack_push(cpu, &ps, size, cpu->regs[R_ESP]);
    for (uint32_t i = gate_param_count(gate); i-- > 0;) {
        pstack_push(cpu, &ps, size, pstack_peek(cpu, &old_stack, i * (uint32_t)size, size));
    }
    pstack_push(cpu, &ps, size, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, size, next_eip);

    uint32_t offset = gate_offset(gate);
    if (offset > desc_limit(code)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    seg_set_accessed(cpu, ss_sel, ss_desc);
    seg_set_accessed(cpu, code_sel, code);
    seg_commit_ss(cpu, ss_sel, ss_desc);
    cpu->regs[R_ESP] = pstack_esp(&ps, esp);
    seg_commit_cs(cpu, code_sel, code, dpl);
    cpu->next_eip = offset;
}

static void far_call_gate(CPUState *cpu, uint16_t selector, uint64_t gate, uint32_t next_eip)
{
    far_check_gate(cpu, selector, gate);
    uint16_t code_sel = gate_selector(gate);
    uint64_t code = call_gate_target(cpu, code_sel);
    if (!desc_is_conforming_code(code) && desc_dpl(code) < cpu->cpl) {
        far_call_gate_inner(cpu, gate, code_sel, code, next_eip);
        return;
    }
    far_call_same(cpu, code_sel, code, gate_offset(gate), gate_size(gate), next_eip);
}

void cpu_far_call(CPUState *cpu, uint16_t selector, uint64_t offset64, int opsize,
                  uint64_t next_rip)
{
    if (cpu_lma(cpu)) {
        cpu_far_call_lm(cpu, selector, offset64, opsize, next_rip);
        return;
    }
    uint32_t offset = (uint32_t)offset64, next_eip = (uint32_t)next_rip;
    if (opsize == 2) {
        offset &= 0xffff;
    }
    if (!cpu_is_protected(cpu)) {
        far_call_real(cpu, selector, offset, opsize, next_eip);
        return;
    }
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (desc_is_segment(desc)) {
        if (!desc_is_code(desc)) {
            raise_sel(cpu, EXC_GP, selector);
        }
        far_check_code(cpu, selector, desc);
        far_call_same(cpu, selector, desc, offset, opsize, next_eip);
        return;
    }
    switch (desc_type(desc)) {
    case SYS_CALL_GATE16:
    case SYS_CALL_GATE32: far_call_gate(cpu, selector, desc, next_eip); return;
    case SYS_TASK_GATE:
    case SYS_TSS16_AVAIL:
    case SYS_TSS32_AVAIL:
    case SYS_TSS16_BUSY:
    case SYS_TSS32_BUSY: far_task(cpu, selector, desc, TASK_CALL, next_eip); return;
    default: raise_sel(cpu, EXC_GP, selector);
    }
}

/* ---- protected mode: RET and IRET ---- */

/* The code segment RET/IRET returns to (SDM Vol.2 RET, PROTECTED-MODE). */
uint64_t far_check_return_cs(CPUState *cpu, uint16_t selector)
{
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (!desc_is_code(desc) || sel_rpl(selector) < cpu->cpl) {
        raise_sel(cpu, EXC_GP, selector);
    }
    if (desc_is_conforming_code(desc) ? desc_dpl(desc) > sel_rpl(selector)
                                      : desc_dpl(desc) != sel_rpl(selector)) {
        raise_sel(cpu, EXC_GP, selector);
    }
    if (!desc_present(desc)) {
        raise_sel(cpu, EXC_NP, selector);
    }
    return desc;
}

/* The stack RET/IRET to an outer level returns to (RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
uint64_t far_check_return_ss(CPUState *cpu, uint16_t selector, uint32_t rpl)
{
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (sel_rpl(selector) != rpl || !desc_is_writable_data(desc) || desc_dpl(desc) != rpl) {
        raise_sel(cpu, EXC_GP, selector);
    }
    if (!desc_present(desc)) {
        raise_sel(cpu, EXC_SS, selector);
    }
    return desc;
}

/* After a return to an outer level, DS/ES/FS/GS that the new CPL may not
 * use are nulled (SDM Vol.2 RET: data or non-conforming code with DPL < CPL). */
void far_null_inaccessible_segments(CPUState *cpu)
{
    static const int data_segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++) {
        const SegmentCache *sc = &cpu->seg[data_segs[i]];
        bool conforming = (sc->attr & DESC_CODE) && (sc->attr & DESC_C);
        uint32_t dpl = (sc->attr & DESC_DPL_MASK) >> DESC_DPL_SHIFT;
        if ((sc->attr & DESC_P) && !conforming && dpl < cpu->cpl) {
            seg_load_null(cpu, data_segs[i], 0);
        }
    }
}

/*
 * The common tail of RET and IRET once the return CS:EIP is popped: same
 * privilege commits CS; an outer level also pops SS:ESP (after skipping
 * pop_bytes of parameters), switches stacks and nulls segments.
 * eflags/eflags_mask: what IRET restores (mask 0 for RET), written before
 * the CPL changes so the caller's mask follows the old CPL.
 */
static void return_common(CPUState *cpu, PendingStack *ps, uint32_t eip, uint16_t cs_sel,
                          int opsize, uint16_t pop_bytes, uint32_t eflags, uint32_t eflags_mask)
{
    uint64_t code = far_check_return_cs(cpu, cs_sel);
    uint32_t rpl = sel_rpl(cs_sel);
    if (rpl == cpu->cpl) {
        if (eip > desc_limit(code)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        seg_set_accessed(cpu, cs_sel, code);
        ps->sp += pop_bytes;
        cpu->regs[R_ESP] = pstack_esp(ps, cpu->regs[R_ESP]);
        seg_commit_cs(cpu, cs_sel, code, rpl);
        cpu_set_eflags(cpu, eflags, eflags_mask);
        cpu->next_eip = eip;
        return;
    }
    ps->sp += pop_bytes;
    uint32_t new_esp = pstack_pop(cpu, ps, opsize);
    uint16_t ss_sel = (uint16_t)pstack_pop(cpu, ps, opsize);
    uint64_t ss_desc = far_check_return_ss(cpu, ss_sel, rpl);
    if (eip > desc_limit(code)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    seg_set_accessed(cpu, cs_sel, code);
    seg_set_accessed(cpu, ss_sel, ss_desc);
    cpu_set_eflags(cpu, eflags, eflags_mask);
    seg_commit_cs(cpu, cs_sel, code, rpl);
    seg_commit_ss(cpu, ss_sel, ss_desc);
    new_esp += pop_bytes;
    if (ss_desc & ((uint64_t)DESC_B << 32)) {
        cpu->regs[R_ESP] = new_esp;
    } else {
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & 0xffff0000u) | (new_esp & 0xffffu);
    }
    far_null_inaccessible_segments(cpu);
    cpu->next_eip = eip;
}

void cpu_far_ret(CPUState *cpu, int opsize, uint16_t pop_bytes)
{
    if (cpu_lma(cpu)) {
        cpu_far_ret_lm(cpu, opsize, pop_bytes);
        return;
    }
    if (!cpu_is_protected(cpu)) {
        far_ret_real(cpu, opsize, pop_bytes);
        return;
    }
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    uint32_t eip = pstack_pop(cpu, &ps, opsize);
    uint16_t cs_sel = (uint16_t)pstack_pop(cpu, &ps, opsize);
    return_common(cpu, &ps, eip, cs_sel, opsize, pop_bytes, 0, 0);
}

/* IRET with NT=1: return to the task in the back link (SDM Vol.2 IRET,
 * TASK-RETURN). */
static void iret_task_return(CPUState *cpu)
{
    uint16_t link = (uint16_t)lin_read_sys(cpu, cpu->tr.base, 2);
    if (link & 4) {
        raise_sel(cpu, EXC_TS, link);
    }
    uint64_t desc = seg_read_descriptor(cpu, link, EXC_TS);
    if (!desc_is_busy_tss(desc)) {
        raise_sel(cpu, EXC_TS, link);
    }
    cpu_task_switch(cpu, link, desc, TASK_IRET, cpu->next_eip);
}

/* IRET at CPL 0 with VM set in the popped EFLAGS (RETURN-TO-VIRTUAL-8086-MODE). */
static void iret_to_vm86(CPUState *cpu, PendingStack *ps, uint32_t eip, uint16_t cs,
                         uint32_t eflags)
{
    uint32_t esp = pstack_pop(cpu, ps, 4);
    uint16_t sels[SEG_COUNT];
    sels[SEG_SS] = (uint16_t)pstack_pop(cpu, ps, 4);
    sels[SEG_ES] = (uint16_t)pstack_pop(cpu, ps, 4);
    sels[SEG_DS] = (uint16_t)pstack_pop(cpu, ps, 4);
    sels[SEG_FS] = (uint16_t)pstack_pop(cpu, ps, 4);
    sels[SEG_GS] = (uint16_t)pstack_pop(cpu, ps, 4);
    sels[SEG_CS] = cs;
    if (eip > 0xffff) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu_set_eflags(cpu, eflags, 0xffffffffu);
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_vm86(cpu, s, sels[s]);
    }
    cpu->regs[R_ESP] = esp;
    cpu_update_mode(cpu);
    cpu->next_eip = eip;
}

/* EFLAGS bits a protected-mode IRET may restore (SDM Vol.2 IRET,
 * RETURN-TO-SAME-PRIVILEGE-LEVEL): IF only when CPL <= IOPL, IOPL and
 * VIF/VIP only at CPL 0; VM is handled by the vm86 path. */
static uint32_t iret_eflags_mask(const CPUState *cpu, int opsize)
{
    uint32_t mask =
        EFLAGS_ARITH | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
    if (cpu->cpl <= cpu_iopl(cpu)) {
        mask |= EFLAGS_IF;
    }
    if (cpu->cpl == 0) {
        mask |= EFLAGS_IOPL | EFLAGS_VIF | EFLAGS_VIP;
    }
    return opsize == 4 ? mask : (mask & 0xffffu);
}

void cpu_iret(CPUState *cpu, int opsize)
{
    if (cpu_lma(cpu)) {
        cpu_iret_lm(cpu, opsize);
        return;
    }
    if (!cpu_is_protected(cpu)) {
        iret_real_or_vm86(cpu, opsize);
        return;
    }
    if (cpu->eflags & EFLAGS_NT) {
        iret_task_return(cpu);
        cpu->in_nmi = false;
        return;
    }
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    uint32_t eip = pstack_pop(cpu, &ps, opsize);
    uint16_t cs_sel = (uint16_t)pstack_pop(cpu, &ps, opsize);
    uint32_t eflags = pstack_pop(cpu, &ps, opsize);
    if (opsize == 4 && (eflags & EFLAGS_VM) && cpu->cpl == 0) {
        iret_to_vm86(cpu, &ps, eip, cs_sel, eflags);
    } else {
        return_common(cpu, &ps, eip, cs_sel, opsize, 0, eflags, iret_eflags_mask(cpu, opsize));
    }
    cpu->in_nmi = false;
}
