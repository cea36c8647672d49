/*
 * Interrupt and exception delivery in IA-32e mode (SDM Vol.3 6.14, Vol.2
 * INT n "IA-32e-MODE"), in 64-bit and compatibility mode alike: the handler
 * always runs in 64-bit mode.
 *
 * What differs from protected mode (cpu/except.c):
 *   - IDT gates are 16 bytes; only 64-bit interrupt (Eh) and trap (Fh)
 *     gates exist, anything else (task gates included) is #GP;
 *   - the target must be a 64-bit code segment (L=1, D=0);
 *   - the stack: RSPn of the 64-bit TSS on a privilege change, or ISTn
 *     when the gate names one (whatever the privilege); then RSP is
 *     aligned down to 16 bytes;
 *   - the frame is SS, RSP, RFLAGS, CS, RIP [, error code], eight bytes
 *     each, SS:RSP pushed even without a privilege change;
 *   - a privilege change loads SS with the null selector, RPL = new CPL.
 *
 * The frame is written before anything commits, so a fault on the way
 * leaves the interrupted state intact and the double-fault rules of
 * cpu_deliver_exception() apply as in protected mode.
 */
#include "cpu/desc.h"

/* The upper 8 bytes of a 16-byte gate give offset 63:32 (SDM Vol.3 Figure 6-8). */
static uint64_t gate64_offset(uint64_t gate_lo, uint64_t gate_hi)
{
    uint64_t low = (gate_lo & 0xffffu) | ((uint64_t)desc_hi(gate_lo) & 0xffff0000u);
    return low | (gate_hi << 32);
}

/* The IST index, bits 2:0 of the gate's byte 4. */
static uint32_t gate64_ist(uint64_t gate_lo)
{
    return (uint32_t)(gate_lo >> 32) & 7u;
}

void cpu_interrupt_lm(CPUState *cpu, int vector, bool is_sw, bool has_error, uint32_t error_code,
                      uint64_t return_rip)
{
    uint32_t ext = is_sw ? 0 : 1;
    uint32_t idt_error = (uint32_t)vector * 8 + 2 + ext;
    if ((uint32_t)vector * 16 + 15 > cpu->idtr.limit) {
        cpu_raise_exception_err(cpu, EXC_GP, idt_error);
    }
    uint64_t lin = cpu->idtr.base + (uint64_t)vector * 16;
    uint64_t gate = sys_read(cpu, lin, 8);
    uint64_t gate_hi = sys_read(cpu, lin + 8, 8);
    uint32_t type = desc_type(gate);
    if (desc_is_segment(gate) || (type != SYS_INT_GATE32 && type != SYS_TRAP_GATE32)) {
        cpu_raise_exception_err(cpu, EXC_GP, idt_error);
    }
    if (is_sw && desc_dpl(gate) < cpu->cpl) {
        cpu_raise_exception_err(cpu, EXC_GP, (uint32_t)vector * 8 + 2);
    }
    if (!desc_present(gate)) {
        cpu_raise_exception_err(cpu, EXC_NP, idt_error);
    }

    uint16_t code_sel = gate_selector(gate);
    if (sel_is_null(code_sel)) {
        cpu_raise_exception_err(cpu, EXC_GP, ext);
    }
    uint32_t code_error = sel_error(code_sel) | ext;
    uint64_t code = seg_fetch_descriptor(cpu, code_sel, EXC_GP, code_error);
    if (!desc_is_code64(code) || desc_dpl(code) > cpu->cpl) {
        cpu_raise_exception_err(cpu, EXC_GP, code_error);
    }
    if (!desc_present(code)) {
        cpu_raise_exception_err(cpu, EXC_NP, code_error);
    }
    uint64_t target = gate64_offset(gate, gate_hi);
    if (!mmu_canonical(target)) {
        cpu_raise_exception_err(cpu, EXC_GP, ext);
    }

    uint32_t new_cpl = desc_is_conforming_code(code) ? cpu->cpl : desc_dpl(code);
    bool inner = new_cpl < cpu->cpl;
    uint32_t ist = gate64_ist(gate);
    LMStack ls = {.mmu_idx = mmu_idx_for_cpl(new_cpl), .fault_code = ext};
    if (inner || ist) {
        ls.sp = tss64_stack(cpu, new_cpl, ist, ext);
    } else {
        ls.sp = cpu->regs[R_ESP];
    }
    ls.sp &= ~(uint64_t)15;

    uint64_t old_rsp = cpu->regs[R_ESP];
    lmstack_push(cpu, &ls, 8, cpu->seg[SEG_SS].selector);
    lmstack_push(cpu, &ls, 8, old_rsp);
    lmstack_push(cpu, &ls, 8, cpu_get_eflags(cpu));
    lmstack_push(cpu, &ls, 8, cpu->seg[SEG_CS].selector);
    lmstack_push(cpu, &ls, 8, return_rip);
    if (has_error) {
        lmstack_push(cpu, &ls, 8, error_code);
    }

    seg_set_accessed(cpu, code_sel, code);
    if (inner) {
        seg_load_null_ss64(cpu, new_cpl);
    }
    cpu->regs[R_ESP] = ls.sp;
    seg_commit_cs(cpu, code_sel, code, new_cpl);
    uint32_t clear = EFLAGS_TF | EFLAGS_NT | EFLAGS_VM | EFLAGS_RF;
    if (type == SYS_INT_GATE32) {
        clear |= EFLAGS_IF;
    }
    cpu_set_eflags(cpu, 0, clear);
    cpu_update_mode(cpu);
    cpu->next_eip = target;
}
