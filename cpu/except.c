/*
 * Interrupt and exception delivery (SDM Vol.3 6.12-6.15, Vol.2 INT n
 * pseudo-code): the real-mode IVT, IDT interrupt, trap and task gates with
 * and without a stack switch, the exit from vm86 to ring 0, and the
 * double- and triple-fault rules of SDM Vol.3 Table 6-5.  IA-32e mode
 * delivers through cpu/except_lm.c.
 *
 * Delivery is one more instruction-like step: it checks the gate and the
 * target, builds the frame on a pending stack (cpu/desc.h), and commits
 * last.  A fault on the way longjmps to the run loop, which comes back to
 * cpu_deliver_exception() with delivering_vector still naming the event we
 * were delivering; that is how a #GP while delivering a #GP becomes #DF.
 */
#include "cpu/desc.h"

/* Exception classes for the double-fault rules (SDM Vol.3 Table 6-4). */
enum { EXC_CLASS_BENIGN, EXC_CLASS_CONTRIBUTORY, EXC_CLASS_PAGE_FAULT, EXC_CLASS_DOUBLE };

static int exception_class(int vector)
{
    switch (vector) {
    case EXC_DE:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP: return EXC_CLASS_CONTRIBUTORY;
    case EXC_PF: return EXC_CLASS_PAGE_FAULT;
    case EXC_DF: return EXC_CLASS_DOUBLE;
    default: return EXC_CLASS_BENIGN;
    }
}

/* Fault-class exceptions: reported at the faulting instruction, which
 * re-executes after the handler returns (SDM Vol.3 Table 6-1).  #DB is
 * left out: an instruction-breakpoint #DB must not set RF. */
static bool exception_is_fault(int vector)
{
    switch (vector) {
    case EXC_DE:
    case EXC_BR:
    case EXC_UD:
    case EXC_NM:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
    case EXC_PF:
    case EXC_MF:
    case EXC_AC:
    case EXC_XM: return true;
    default: return false;
    }
}

bool cpu_exception_has_error(int vector)
{
    switch (vector) {
    case EXC_DF:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
    case EXC_PF:
    case EXC_AC: return true;
    default: return false;
    }
}

/* Whether second, raised while delivering first, becomes #DF (Table 6-5). */
static bool becomes_double_fault(int first, int second)
{
    int c1 = exception_class(first), c2 = exception_class(second);
    if (c1 == EXC_CLASS_CONTRIBUTORY) {
        return c2 == EXC_CLASS_CONTRIBUTORY;
    }
    if (c1 == EXC_CLASS_PAGE_FAULT) {
        return c2 == EXC_CLASS_CONTRIBUTORY || c2 == EXC_CLASS_PAGE_FAULT;
    }
    return false;
}

/* ---- real mode (SDM Vol.3 20.1.4) ---- */

static void interrupt_real(CPUState *cpu, int vector, uint32_t return_eip)
{
    uint32_t offset = (uint32_t)vector * 4;
    if (offset + 3 > cpu->idtr.limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t entry = lin_read_sys(cpu, cpu->idtr.base + offset, 4);
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    pstack_push(cpu, &ps, 2, cpu_get_eflags(cpu));
    pstack_push(cpu, &ps, 2, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, 2, return_eip);
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_load_real(cpu, SEG_CS, (uint16_t)(entry >> 16));
    cpu_set_eflags(cpu, 0, EFLAGS_IF | EFLAGS_TF | EFLAGS_AC | EFLAGS_RF);
    cpu->next_eip = entry & 0xffff;
}

/* ---- protected mode and vm86 ---- */

/* What every gate delivery needs to know about the event. */
typedef struct Event {
    int vector;
    bool has_error;
    uint32_t error_code;
    uint32_t return_eip;
    uint32_t ext; /* EXT bit for error codes: 1 unless INT n/INT3/INTO (SDM Vol.3 6.13) */
} Event;

/* Task gate: switch to the task, then push the error code on its stack
 * (SDM Vol.2 INT n, TASK-GATE). */
static void interrupt_task_gate(CPUState *cpu, uint64_t gate, const Event *ev)
{
    uint16_t tss_sel = gate_selector(gate);
    if (tss_sel & 4) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(tss_sel) | ev->ext);
    }
    uint64_t tss_desc = seg_fetch_descriptor(cpu, tss_sel, EXC_GP, sel_error(tss_sel) | ev->ext);
    if (!desc_is_available_tss(tss_desc)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(tss_sel) | ev->ext);
    }
    if (!desc_present(tss_desc)) {
        cpu_raise_exception_err(cpu, EXC_NP, sel_error(tss_sel) | ev->ext);
    }
    cpu_task_switch(cpu, tss_sel, tss_desc, TASK_INT, ev->return_eip);
    if (ev->has_error) {
        PendingStack ps;
        pstack_init_current(cpu, &ps);
        ps.fault_code = ev->ext;
        pstack_push(cpu, &ps, desc_is_tss32(tss_desc) ? 4 : 2, ev->error_code);
        cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    }
}

/* EFLAGS an interrupt or trap gate clears (SDM Vol.3 6.12.1.3); interrupt
 * gates also clear IF. */
static void clear_gate_flags(CPUState *cpu, uint64_t gate)
{
    uint32_t mask = EFLAGS_TF | EFLAGS_NT | EFLAGS_VM | EFLAGS_RF;
    if (desc_type(gate) == SYS_INT_GATE16 || desc_type(gate) == SYS_INT_GATE32) {
        mask |= EFLAGS_IF;
    }
    cpu_set_eflags(cpu, 0, mask);
}

/*
 * To a more privileged level, or from vm86 to ring 0: stack from the TSS,
 * frame [GS FS DS ES] SS ESP EFLAGS CS EIP [error] (SDM Vol.3 Figures 6-4
 * and 20-5), data segment registers zeroed when leaving vm86.
 */
static void interrupt_inner(CPUState *cpu, uint64_t gate, uint16_t code_sel, uint64_t code,
                            const Event *ev)
{
    uint32_t dpl = desc_dpl(code);
    bool from_vm86 = (cpu->hflags & HF_VM) != 0;
    uint16_t ss_sel;
    uint32_t esp;
    uint64_t ss_desc = tss_inner_stack(cpu, dpl, ev->ext, &ss_sel, &esp);

    int size = gate_size(gate);
    PendingStack ps;
    pstack_init_new(&ps, ss_sel, ss_desc, esp, dpl, ev->ext);
    if (from_vm86) {
        pstack_push(cpu, &ps, size, cpu->seg[SEG_GS].selector);
        pstack_push(cpu, &ps, size, cpu->seg[SEG_FS].selector);
        pstack_push(cpu, &ps, size, cpu->seg[SEG_DS].selector);
        pstack_push(cpu, &ps, size, cpu->seg[SEG_ES].selector);
    }
    pstack_push(cpu, &ps, size, cpu->seg[SEG_SS].selector);
    pstack_push(cpu, &ps, size, cpu->regs[R_ESP]);
    pstack_push(cpu, &ps, size, cpu_get_eflags(cpu));
    pstack_push(cpu, &ps, size, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, size, ev->return_eip);
    if (ev->has_error) {
        pstack_push(cpu, &ps, size, ev->error_code);
    }
    uint32_t offset = gate_offset(gate);
    if (offset > desc_limit(code)) {
        cpu_raise_exception_err(cpu, EXC_GP, ev->ext);
    }

    seg_set_accessed(cpu, ss_sel, ss_desc);
    seg_set_accessed(cpu, code_sel, code);
    if (from_vm86) {
        seg_load_null(cpu, SEG_GS, 0);
        seg_load_null(cpu, SEG_FS, 0);
        seg_load_null(cpu, SEG_DS, 0);
        seg_load_null(cpu, SEG_ES, 0);
    }
    seg_commit_ss(cpu, ss_sel, ss_desc);
    cpu->regs[R_ESP] = pstack_esp(&ps, esp);
    seg_commit_cs(cpu, code_sel, code, dpl);
    clear_gate_flags(cpu, gate);
    cpu_update_mode(cpu);
    cpu->next_eip = offset;
}

/* Same privilege (or conforming code): frame EFLAGS CS EIP [error] on the
 * current stack (SDM Vol.3 Figure 6-4). */
static void interrupt_same(CPUState *cpu, uint64_t gate, uint16_t code_sel, uint64_t code,
                           const Event *ev)
{
    int size = gate_size(gate);
    PendingStack ps;
    pstack_init_current(cpu, &ps);
    ps.fault_code = ev->ext;
    pstack_push(cpu, &ps, size, cpu_get_eflags(cpu));
    pstack_push(cpu, &ps, size, cpu->seg[SEG_CS].selector);
    pstack_push(cpu, &ps, size, ev->return_eip);
    if (ev->has_error) {
        pstack_push(cpu, &ps, size, ev->error_code);
    }
    uint32_t offset = gate_offset(gate);
    if (offset > desc_limit(code)) {
        cpu_raise_exception_err(cpu, EXC_GP, ev->ext);
    }
    seg_set_accessed(cpu, code_sel, code);
    cpu->regs[R_ESP] = pstack_esp(&ps, cpu->regs[R_ESP]);
    seg_commit_cs(cpu, code_sel, code, cpu->cpl);
    clear_gate_flags(cpu, gate);
    cpu->next_eip = offset;
}

static bool is_idt_gate_type(uint64_t gate)
{
    if (desc_is_segment(gate)) {
        return false;
    }
    switch (desc_type(gate)) {
    case SYS_TASK_GATE:
    case SYS_INT_GATE16:
    case SYS_TRAP_GATE16:
    case SYS_INT_GATE32:
    case SYS_TRAP_GATE32: return true;
    default: return false;
    }
}

/* SDM Vol.2 INT n, PROTECTED-MODE. */
static void interrupt_protected(CPUState *cpu, bool is_sw, const Event *ev)
{
    uint32_t idt_error = (uint32_t)ev->vector * 8 + 2 + ev->ext;
    if ((uint32_t)ev->vector * 8 + 7 > cpu->idtr.limit) {
        cpu_raise_exception_err(cpu, EXC_GP, idt_error);
    }
    uint32_t lin = cpu->idtr.base + (uint32_t)ev->vector * 8;
    uint64_t gate = lin_read_sys(cpu, lin, 4);
    gate |= (uint64_t)lin_read_sys(cpu, lin + 4, 4) << 32;
    if (!is_idt_gate_type(gate)) {
        cpu_raise_exception_err(cpu, EXC_GP, idt_error);
    }
    /* Software interrupts may only use gates the caller could call. */
    if (is_sw && desc_dpl(gate) < cpu->cpl) {
        cpu_raise_exception_err(cpu, EXC_GP, (uint32_t)ev->vector * 8 + 2);
    }
    if (!desc_present(gate)) {
        cpu_raise_exception_err(cpu, EXC_NP, idt_error);
    }
    if (desc_type(gate) == SYS_TASK_GATE) {
        interrupt_task_gate(cpu, gate, ev);
        return;
    }

    uint16_t code_sel = gate_selector(gate);
    if (sel_is_null(code_sel)) {
        cpu_raise_exception_err(cpu, EXC_GP, ev->ext);
    }
    uint32_t code_error = sel_error(code_sel) | ev->ext;
    uint64_t code = seg_fetch_descriptor(cpu, code_sel, EXC_GP, code_error);
    if (!desc_is_code(code) || desc_dpl(code) > cpu->cpl) {
        cpu_raise_exception_err(cpu, EXC_GP, code_error);
    }
    if (!desc_present(code)) {
        cpu_raise_exception_err(cpu, EXC_NP, code_error);
    }
    bool from_vm86 = (cpu->hflags & HF_VM) != 0;
    if (!desc_is_conforming_code(code) && desc_dpl(code) < cpu->cpl) {
        /* vm86 may only interrupt into ring 0 (SDM Vol.3 20.3.1.1). */
        if (from_vm86 && desc_dpl(code) != 0) {
            cpu_raise_exception_err(cpu, EXC_GP, code_error);
        }
        interrupt_inner(cpu, gate, code_sel, code, ev);
        return;
    }
    if (from_vm86) {
        cpu_raise_exception_err(cpu, EXC_GP, code_error);
    }
    interrupt_same(cpu, gate, code_sel, code, ev);
}

void cpu_do_interrupt(CPUState *cpu, int vector, bool is_sw, bool has_error, uint32_t error_code,
                      uint64_t return_eip)
{
    if (!(cpu->hflags & HF_PE)) {
        interrupt_real(cpu, vector, (uint32_t)return_eip);
        return;
    }
    if (cpu_lma(cpu)) {
        cpu_interrupt_lm(cpu, vector, is_sw, has_error, error_code, return_eip);
        return;
    }
    Event ev = {
        .vector = vector,
        .has_error = has_error,
        .error_code = error_code,
        .return_eip = (uint32_t)return_eip,
        .ext = is_sw ? 0 : 1,
    };
    interrupt_protected(cpu, is_sw, &ev);
}

/*
 * An exception raised by an instruction, or by the delivery of an earlier
 * event (delivering_vector >= 0).  Anything while delivering #DF shuts the
 * processor down; benign exceptions are simply delivered in turn (SDM
 * Vol.3 6.15, Interrupt 8).  delivering_vector is cleared only once a
 * delivery completes, because a fault in it longjmps straight out.
 */
void cpu_deliver_exception(CPUState *cpu, int vector, bool has_error, uint32_t error_code)
{
    int first = cpu->delivering_vector;
    if (first == EXC_DF) {
        cpu->triple_fault = true;
        cpu->delivering_vector = -1;
        return;
    }
    if (first >= 0 && becomes_double_fault(first, vector)) {
        vector = EXC_DF;
        has_error = true;
        error_code = 0;
    }
    if (cpu->hooks.on_exception) {
        cpu->hooks.on_exception(cpu->hooks.observer, cpu, vector, error_code, false);
    }
    /* A fault pushes RF=1 so that IRET back to the faulting instruction
     * does not retrigger its instruction breakpoint (SDM Vol.3 17.3.1.1);
     * the gate then clears RF in the handler's EFLAGS. */
    if (exception_is_fault(vector)) {
        cpu->eflags |= EFLAGS_RF;
    }
    cpu->delivering_vector = vector;
    cpu_do_interrupt(cpu, vector, false, has_error, error_code, cpu->eip);
    cpu->delivering_vector = -1;
}
