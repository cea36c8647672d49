/*
 * Far JMP, CALL, RET and IRET in IA-32e mode (SDM Vol.2 JMP, CALL, RET and
 * IRET, their "IA-32e mode" branches; Vol.3 5.8.3.1 and 6.14.3).
 *
 * The differences from protected mode (cpu/far.c):
 *   - a code segment may be 64-bit (L=1); L and D both set is #GP;
 *     a 64-bit target's offset must be canonical instead of within limit;
 *   - call gates are 16 bytes (type Ch, the upper half's type 0), lead to
 *     64-bit code only, copy no parameters and push 8-byte items; on a
 *     privilege change the new RSP comes from the 64-bit TSS and SS
 *     becomes null with RPL = new CPL;
 *   - task gates and TSS targets are #GP: no task switching;
 *   - IRET with NT is #GP(0); from 64-bit mode IRET always pops SS:RSP,
 *     and RET/IRET to 64-bit code at CPL < 3 may return a null SS;
 *   - stacks: in 64-bit mode RSP is the linear address (LMStack), in
 *     compatibility mode the legacy SS:ESP (PendingStack).
 */
#include "cpu/desc.h"

static noreturn void raise_sel(CPUState *cpu, int vector, uint16_t selector)
{
    cpu_raise_exception_err(cpu, vector, sel_error(selector));
}

/* A stack in either form: 64-bit mode or compatibility mode. */
typedef struct AnyStack {
    bool mode64;
    LMStack lm;
    PendingStack ps;
} AnyStack;

static void stack_current(CPUState *cpu, AnyStack *st)
{
    st->mode64 = (cpu->hflags & HF_CS64) != 0;
    st->lm = (LMStack){.sp = cpu->regs[R_ESP], .mmu_idx = (int)cpu->mmu_idx, .fault_code = 0};
    pstack_init_current(cpu, &st->ps);
}

static uint64_t any_pop(CPUState *cpu, AnyStack *st, int size)
{
    if (st->mode64) {
        return lmstack_pop(cpu, &st->lm, size);
    }
    if (size == 8) { /* a REX.W form does not exist outside 64-bit mode */
        cpu_raise_exception(cpu, EXC_UD);
    }
    return pstack_pop(cpu, &st->ps, size);
}

static void any_push(CPUState *cpu, AnyStack *st, int size, uint64_t value)
{
    if (st->mode64) {
        lmstack_push(cpu, &st->lm, size, value);
    } else {
        pstack_push(cpu, &st->ps, size, (uint32_t)value);
    }
}

static void stack_skip(AnyStack *st, uint16_t bytes)
{
    st->lm.sp += bytes;
    st->ps.sp += bytes;
}

/* RSP after the transfer, for a transfer that stays on this stack. */
static uint64_t stack_rsp(const CPUState *cpu, const AnyStack *st)
{
    return st->mode64 ? st->lm.sp : pstack_esp(&st->ps, (uint32_t)cpu->regs[R_ESP]);
}

/* L and D both set is reserved for code segments (SDM Vol.3 5.2.1). */
static void check_code_size(CPUState *cpu, uint16_t selector, uint64_t desc)
{
    if ((desc_hi(desc) & DESC_L) && (desc_hi(desc) & DESC_B)) {
        raise_sel(cpu, EXC_GP, selector);
    }
}

/* The new RIP: canonical for a 64-bit target, within the limit otherwise. */
static void check_target(CPUState *cpu, uint64_t desc, uint64_t rip)
{
    bool ok = (desc_hi(desc) & DESC_L) ? mmu_canonical(rip) : rip <= desc_limit(desc);
    if (!ok) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* ---- JMP and CALL ---- */

/* A 64-bit call gate: its upper half, and the 64-bit code it leads to. */
static uint64_t call_gate64(CPUState *cpu, uint16_t selector, uint64_t gate, uint16_t *code_sel,
                            uint64_t *code)
{
    far_check_gate(cpu, selector, gate);
    uint32_t hi = seg_fetch_descriptor_upper(cpu, selector, EXC_GP, sel_error(selector));
    *code_sel = gate_selector(gate);
    if (sel_is_null(*code_sel)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    *code = seg_read_descriptor(cpu, *code_sel, EXC_GP);
    if (!desc_is_code64(*code) || desc_dpl(*code) > cpu->cpl) {
        raise_sel(cpu, EXC_GP, *code_sel);
    }
    if (!desc_present(*code)) {
        raise_sel(cpu, EXC_NP, *code_sel);
    }
    uint64_t target = ((uint64_t)hi << 32) | (gate & 0xffffu) | (desc_hi(gate) & 0xffff0000u);
    if (!mmu_canonical(target)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    return target;
}

/* The descriptor of a far JMP/CALL target, or #GP for what IA-32e mode
 * does not allow (anything but code and 64-bit call gates). */
static uint64_t far_target_descriptor(CPUState *cpu, uint16_t selector)
{
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (desc_is_segment(desc) ? !desc_is_code(desc) : !desc_is_system_type(desc, SYS_CALL_GATE32)) {
        raise_sel(cpu, EXC_GP, selector);
    }
    return desc;
}

void cpu_far_jmp_lm(CPUState *cpu, uint16_t selector, uint64_t offset)
{
    uint64_t desc = far_target_descriptor(cpu, selector);
    uint16_t code_sel = selector;
    uint64_t code = desc;
    if (!desc_is_segment(desc)) {
        offset = call_gate64(cpu, selector, desc, &code_sel, &code);
        if (!desc_is_conforming_code(code) && desc_dpl(code) != cpu->cpl) {
            raise_sel(cpu, EXC_GP, code_sel);
        }
    } else {
        far_check_code(cpu, selector, desc);
        check_code_size(cpu, selector, desc);
    }
    check_target(cpu, code, offset);
    seg_set_accessed(cpu, code_sel, code);
    seg_commit_cs(cpu, code_sel, code, cpu->cpl);
    cpu->next_eip = offset;
}

/* CALL through a 64-bit gate to a more privileged level: RSPn of the TSS,
 * null SS, then old SS, old RSP, CS, RIP as 8-byte items. */
static void far_call_gate64_inner(CPUState *cpu, uint16_t code_sel, uint64_t code, uint64_t target,
                                  uint64_t next_rip)
{
    uint32_t dpl = desc_dpl(code);
    LMStack ls = {.sp = tss64_stack(cpu, dpl, 0, 0), .mmu_idx = mmu_idx_for_cpl(dpl)};
    lmstack_push(cpu, &ls, 8, cpu->seg[SEG_SS].selector);
    lmstack_push(cpu, &ls, 8, cpu->regs[R_ESP]);
    lmstack_push(cpu, &ls, 8, cpu->seg[SEG_CS].selector);
    lmstack_push(cpu, &ls, 8, next_rip);
    seg_set_accessed(cpu, code_sel, code);
    seg_load_null_ss64(cpu, dpl);
    cpu->regs[R_ESP] = ls.sp;
    seg_commit_cs(cpu, code_sel, code, dpl);
    cpu->next_eip = target;
}

void cpu_far_call_lm(CPUState *cpu, uint16_t selector, uint64_t offset, int opsize,
                     uint64_t next_rip)
{
    uint64_t desc = far_target_descriptor(cpu, selector);
    uint16_t code_sel = selector;
    uint64_t code = desc;
    int size = opsize;
    if (!desc_is_segment(desc)) {
        offset = call_gate64(cpu, selector, desc, &code_sel, &code);
        if (!desc_is_conforming_code(code) && desc_dpl(code) < cpu->cpl) {
            far_call_gate64_inner(cpu, code_sel, code, offset, next_rip);
            return;
        }
        size = 8;
    } else {
        far_check_code(cpu, selector, desc);
        check_code_size(cpu, selector, desc);
        if (opsize == 2) {
            offset &= 0xffff;
        }
    }
    AnyStack st;
    stack_current(cpu, &st);
    if (size == 8 && !st.mode64) { /* a gate from compatibility mode */
        st.mode64 = true;
        st.lm.sp = (uint32_t)cpu->regs[R_ESP];
    }
    any_push(cpu, &st, size, cpu->seg[SEG_CS].selector);
    any_push(cpu, &st, size, next_rip);
    check_target(cpu, code, offset);
    seg_set_accessed(cpu, code_sel, code);
    cpu->regs[R_ESP] = stack_rsp(cpu, &st);
    seg_commit_cs(cpu, code_sel, code, cpu->cpl);
    cpu->next_eip = offset;
}

/* ---- RET and IRET ---- */

/*
 * The stack an outer-level return (or any IRET from 64-bit mode) pops:
 * a null SS is allowed when returning to 64-bit code at CPL < 3, as the
 * null SS an interrupt or gate left (SDM Vol.2 IRET, IA-32e-MODE).
 * Returns false for that null SS.
 */
static bool check_return_stack(CPUState *cpu, uint16_t ss_sel, uint32_t rpl, uint64_t code,
                               uint64_t *ss_desc)
{
    if (sel_is_null(ss_sel) && (desc_hi(code) & DESC_L) && rpl != 3) {
        return false;
    }
    *ss_desc = far_check_return_ss(cpu, ss_sel, rpl);
    return true;
}

/* The common end of RET and IRET once CS:RIP (and for IRET RFLAGS) are
 * popped; pops SS:RSP when going outward or when pop_ss says so. */
static void return_lm(CPUState *cpu, AnyStack *st, uint64_t rip, uint16_t cs_sel, int opsize,
                      uint16_t pop_bytes, bool pop_ss, uint32_t eflags, uint32_t eflags_mask)
{
    uint64_t code = far_check_return_cs(cpu, cs_sel);
    check_code_size(cpu, cs_sel, code);
    uint32_t rpl = sel_rpl(cs_sel);
    bool outer = rpl > cpu->cpl;
    stack_skip(st, pop_bytes);
    if (!outer && !pop_ss) {
        check_target(cpu, code, rip);
        seg_set_accessed(cpu, cs_sel, code);
        cpu->regs[R_ESP] = stack_rsp(cpu, st);
        cpu_set_eflags(cpu, eflags, eflags_mask);
        seg_commit_cs(cpu, cs_sel, code, rpl);
        cpu->next_eip = rip;
        cpu_clear_high_halves(cpu);
        return;
    }
    uint64_t new_rsp = any_pop(cpu, st, opsize);
    uint16_t ss_sel = (uint16_t)any_pop(cpu, st, opsize);
    uint64_t ss_desc = 0;
    bool ss_usable = check_return_stack(cpu, ss_sel, rpl, code, &ss_desc);
    check_target(cpu, code, rip);
    seg_set_accessed(cpu, cs_sel, code);
    if (ss_usable) {
        seg_set_accessed(cpu, ss_sel, ss_desc);
    }
    cpu_set_eflags(cpu, eflags, eflags_mask);
    seg_commit_cs(cpu, cs_sel, code, rpl);
    if (ss_usable) {
        seg_commit_ss(cpu, ss_sel, ss_desc);
    } else {
        seg_load_null_ss64(cpu, rpl);
        cpu->seg[SEG_SS].selector = ss_sel;
    }
    new_rsp += pop_bytes;
    if (opsize == 2) {
        new_rsp = (cpu->regs[R_ESP] & ~0xffffull) | (new_rsp & 0xffff);
    } else if (opsize == 4) {
        new_rsp = (uint32_t)new_rsp;
    }
    cpu->regs[R_ESP] = new_rsp;
    if (outer) {
        far_null_inaccessible_segments(cpu);
    }
    cpu->next_eip = rip;
    cpu_clear_high_halves(cpu);
}

void cpu_far_ret_lm(CPUState *cpu, int opsize, uint16_t pop_bytes)
{
    AnyStack st;
    stack_current(cpu, &st);
    uint64_t rip = any_pop(cpu, &st, opsize);
    uint16_t cs_sel = (uint16_t)any_pop(cpu, &st, opsize);
    return_lm(cpu, &st, rip, cs_sel, opsize, pop_bytes, false, 0, 0);
}

/* EFLAGS bits IRET may restore in IA-32e mode: as in protected mode, but
 * never VM (no vm86 under IA-32e mode), and only bits 31:0 exist. */
static uint32_t iret_lm_eflags_mask(const CPUState *cpu, int opsize)
{
    uint32_t mask =
        EFLAGS_ARITH | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
    if (cpu->cpl <= cpu_iopl(cpu)) {
        mask |= EFLAGS_IF;
    }
    if (cpu->cpl == 0) {
        mask |= EFLAGS_IOPL | EFLAGS_VIF | EFLAGS_VIP;
    }
    return opsize == 2 ? (mask & 0xffffu) : mask;
}

void cpu_iret_lm(CPUState *cpu, int opsize)
{
    if (cpu->eflags & EFLAGS_NT) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    AnyStack st;
    stack_current(cpu, &st);
    uint64_t rip = any_pop(cpu, &st, opsize);
    uint16_t cs_sel = (uint16_t)any_pop(cpu, &st, opsize);
    uint32_t eflags = (uint32_t)any_pop(cpu, &st, opsize);
    return_lm(cpu, &st, rip, cs_sel, opsize, 0, st.mode64, eflags,
              iret_lm_eflags_mask(cpu, opsize));
    cpu->in_nmi = false;
}
