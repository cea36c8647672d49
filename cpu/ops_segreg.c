/*
 * Segment-register and descriptor-table instructions: PUSH/POP/MOV Sreg,
 * LDS/LES/LSS/LFS/LGS, SLDT/STR/LLDT/LTR, SGDT/SIDT/LGDT/LIDT, and the
 * descriptor probes LAR, LSL, VERR, VERW and ARPL.
 *
 * The probes answer "would this selector work?" without loading anything:
 * a selector that is null, outside its table, of the wrong type or too
 * privileged only clears ZF (SDM Vol.2 LAR, LSL, VERR/VERW).  Reading the
 * operand or the descriptor table can still fault (#GP/#SS/#PF), since
 * those are ordinary memory accesses.
 *
 * The protection checks of the loads themselves live in cpu/seg.c.
 */
#include "cpu/desc.h"
#include "cpu/ops.h"

/* Protected mode outside vm86. */
static bool mode_protected(const CPUState *cpu)
{
    return (cpu->hflags & HF_PE) && !(cpu->hflags & HF_VM);
}

/* SLDT, STR, LLDT, LTR, LAR, LSL, VERR, VERW and ARPL are not recognised in
 * real and vm86 mode (SDM Vol.2, their "Real-Address Mode Exceptions"). */
static void require_protected(CPUState *cpu)
{
    if (!mode_protected(cpu)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
}

static void require_cpl0(CPUState *cpu)
{
    if (cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* ZF as the probes report their answer; the other flags are kept. */
static void set_zf(CPUState *cpu, bool zf)
{
    cpu_flush_flags(cpu);
    if (zf) {
        cpu->eflags |= EFLAGS_ZF;
    } else {
        cpu->eflags &= ~EFLAGS_ZF;
    }
}

/* ---- segment registers ---- */

/* With a 32-bit operand the SDM allows either a zero-extended push or a
 * 16-bit store into the 4-byte slot (SDM Vol.2 PUSH); we do the 16-bit
 * store, leaving the upper half as it was, as recent Intel CPUs do. */
void op_PUSH_SREG(CPUState *cpu, const Insn *insn)
{
    uint16_t selector = cpu->seg[insn->opnd[0].reg].selector;
    uint64_t sp = cpu->regs[R_ESP] - (uint64_t)insn->opsize;
    stack_write_at(cpu, sp, 2, selector);
    stack_set_sp(cpu, sp);
}

/*
 * POP Sreg: the new ESP is computed with the old stack size, and committed
 * only after the load's checks pass.  POP SS and MOV SS block interrupts
 * and debug traps until the next instruction has run, so that a following
 * MOV ESP completes the stack switch (SDM Vol.2 MOV, POP).
 */
void op_POP_SREG(CPUState *cpu, const Insn *insn)
{
    int seg = insn->opnd[0].reg;
    uint64_t esp = cpu->regs[R_ESP];
    uint64_t mask = stack_mask(cpu);
    uint16_t selector = (uint16_t)stack_read_at(cpu, esp, insn->opsize);
    uint64_t new_esp = (esp & ~mask) | ((esp + (uint64_t)insn->opsize) & mask);
    seg_load(cpu, seg, selector);
    cpu->regs[R_ESP] = new_esp;
    if (seg == SEG_SS) {
        cpu->inhibit_irq = true;
        cpu->ss_shadow = true;
    }
}

/*
 * POP DS/ES/FS/GS when the load would change nothing (seg_load_data_is_noop)
 * in 16/32-bit code: ESP moves and nothing else does.  Reads the stack only
 * through the TLB and never faults; false leaves everything as it was, for
 * op_POP_SREG.  The Linux i386 kernel pops the user's DS and ES back, the
 * selectors they already hold, on every return to user mode.
 */
bool pop_sreg_if_noop(CPUState *cpu, const Insn *insn)
{
    int seg = insn->opnd[0].reg;
    const SegmentCache *ss = &cpu->seg[SEG_SS];
    if ((cpu->hflags & HF_CS64) || seg == SEG_SS || ss->check != 0) {
        return false;
    }
    uint64_t esp = cpu->regs[R_ESP], mask = stack_mask(cpu);
    uint32_t offset = (uint32_t)(esp & mask);
    if ((uint64_t)offset + (uint64_t)insn->opsize - 1 > ss->limit) {
        return false;
    }
    uint32_t value = 0; /* the whole operand is read, as the POP would (it may cross a page) */
    if ((insn->opsize != 2 && insn->opsize != 4) ||
        !lin_peek(cpu, (uint32_t)(ss->base + offset), insn->opsize, (int)cpu->mmu_idx, &value) ||
        !seg_load_data_is_noop(cpu, seg, (uint16_t)value)) {
        return false;
    }
    cpu->regs[R_ESP] = (esp & ~mask) | ((esp + (uint64_t)insn->opsize) & mask);
    return true;
}

void op_MOV_SREG_EW(CPUState *cpu, const Insn *insn)
{
    int seg = insn->opnd[0].reg;
    seg_load(cpu, seg, (uint16_t)opnd_read(cpu, insn, 1));
    if (seg == SEG_SS) {
        cpu->inhibit_irq = true;
        cpu->ss_shadow = true;
    }
}

/* To memory: 16 bits.  To a 32-bit register: zero-extended on the P6
 * family (SDM Vol.2 MOV, "Description"). */
void op_MOV_EW_SREG(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, opnd_read(cpu, insn, 1));
}

/* Which register LDS, LES, LSS, LFS and LGS load (SDM Vol.2 LDS/LES/LFS/LGS/LSS). */
static int lxs_segment(const Insn *insn)
{
    if (insn->opmap == 0) {
        return insn->opcode == 0xc4 ? SEG_ES : SEG_DS;
    }
    switch (insn->opcode) {
    case 0xb2: return SEG_SS;
    case 0xb4: return SEG_FS;
    default: return SEG_GS;
    }
}

/* m16:16 or m16:32, offset first.  The segment load may fault, so the
 * general register is written last. */
void op_LxS(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint32_t ea = insn_ea(cpu, insn);
    uint32_t offset = seg_read(cpu, insn->seg, ea, size);
    uint16_t selector = (uint16_t)seg_read(cpu, insn->seg, ea + (uint32_t)size, 2);
    seg_load(cpu, lxs_segment(insn), selector);
    reg_write(cpu, insn->opnd[0].reg, size, offset);
}

/* ---- LDTR and TR ---- */

void op_SLDT(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    opnd_write(cpu, insn, 0, cpu->ldtr.selector);
}

void op_STR(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    opnd_write(cpu, insn, 0, cpu->tr.selector);
}

/*
 * LLDT (SDM Vol.2 LLDT): a null selector leaves LDTR unusable, so any later
 * TI=1 reference faults; otherwise the selector must name a present LDT
 * descriptor in the GDT.
 */
void op_LLDT(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    require_cpl0(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 0);
    if (sel_is_null(selector)) {
        cpu->ldtr.selector = selector;
        cpu->ldtr.base = 0;
        cpu->ldtr.limit = 0;
        cpu->ldtr.attr = 0;
        seg_update_check(&cpu->ldtr);
        return;
    }
    if (selector & 4) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    uint64_t desc = seg_fetch_descriptor(cpu, selector, EXC_GP, sel_error(selector));
    if (!desc_is_system_type(desc, SYS_LDT)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    uint32_t base_hi = 0;
    if (cpu_lma(cpu)) {
        base_hi = seg_fetch_descriptor_upper(cpu, selector, EXC_GP, sel_error(selector));
    }
    if (!desc_present(desc)) {
        cpu_raise_exception_err(cpu, EXC_NP, sel_error(selector));
    }
    seg_cache_from_descriptor(&cpu->ldtr, selector, desc);
    cpu->ldtr.base |= (uint64_t)base_hi << 32;
}

/*
 * LTR (SDM Vol.2 LTR): the selector must name a present, available TSS in
 * the GDT; LTR marks that descriptor busy in memory, which is the last
 * access that can fault, before TR is loaded.
 */
void op_LTR(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    require_cpl0(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 0);
    if (sel_is_null(selector)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (selector & 4) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    uint64_t desc = seg_fetch_descriptor(cpu, selector, EXC_GP, sel_error(selector));
    /* IA-32e mode knows only the 64-bit TSS, type 9 (SDM Vol.3 7.7). */
    bool lma = cpu_lma(cpu);
    if (lma ? !desc_is_system_type(desc, SYS_TSS32_AVAIL) : !desc_is_available_tss(desc)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    uint32_t base_hi = 0;
    if (lma) {
        base_hi = seg_fetch_descriptor_upper(cpu, selector, EXC_GP, sel_error(selector));
    }
    if (!desc_present(desc)) {
        cpu_raise_exception_err(cpu, EXC_NP, sel_error(selector));
    }
    uint64_t busy = (uint64_t)(SYS_TSS_BUSY_BIT << DESC_TYPE_SHIFT) << 32;
    uint32_t access_byte = (desc_hi(desc) >> 8) & 0xffu;
    sys_write(cpu, seg_desc_linear(cpu, selector) + 5, 1, access_byte | SYS_TSS_BUSY_BIT);
    seg_cache_from_descriptor(&cpu->tr, selector, desc | busy);
    cpu->tr.base |= (uint64_t)base_hi << 32;
}

/* ---- GDTR and IDTR ---- */

/*
 * SGDT/SIDT store the 16-bit limit and then the full 32-bit base whatever
 * the operand size (SDM Vol.2 SGDT, Operation; the 386 manual says the
 * same); in 64-bit mode the base is 8 bytes (a 10-byte operand).  Both
 * ends of the operand are probed first so a fault on the second page
 * leaves memory untouched.
 */
static int table_operand_size(const CPUState *cpu)
{
    return (cpu->hflags & HF_CS64) ? 10 : 6;
}

static void store_table_register(CPUState *cpu, const Insn *insn, const TableRegister *tr)
{
    int size = table_operand_size(cpu);
    uint64_t lin = insn_mem_linear(cpu, insn, size, true);
    int mmu_idx = (int)cpu->mmu_idx;
    mmu_probe(cpu, lin, 1, ACC_WRITE, mmu_idx);
    mmu_probe(cpu, lin + (uint64_t)size - 1, 1, ACC_WRITE, mmu_idx);
    mmu_write_slow(cpu, lin, 2, tr->limit, mmu_idx);
    mmu_write_slow(cpu, lin + 2, size - 2, size == 10 ? tr->base : (uint32_t)tr->base, mmu_idx);
}

/* LGDT/LIDT with a 16-bit operand load only 24 bits of base (SDM Vol.2
 * LGDT); in 64-bit mode the operand is 10 bytes whatever its size
 * attribute, and the base must be canonical (#GP(0)). */
static TableRegister load_table_register(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    int size = table_operand_size(cpu);
    uint64_t lin = insn_mem_linear(cpu, insn, size, false);
    int mmu_idx = (int)cpu->mmu_idx;
    TableRegister tr;
    tr.limit = (uint32_t)mmu_read_slow(cpu, lin, 2, mmu_idx, ACC_READ);
    tr.base = mmu_read_slow(cpu, lin + 2, size - 2, mmu_idx, ACC_READ);
    if (size == 10 && !mmu_canonical(tr.base)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (size == 6 && insn->opsize == 2) {
        tr.base &= 0x00ffffffu;
    }
    return tr;
}

void op_SGDT(CPUState *cpu, const Insn *insn)
{
    store_table_register(cpu, insn, &cpu->gdtr);
}

void op_SIDT(CPUState *cpu, const Insn *insn)
{
    store_table_register(cpu, insn, &cpu->idtr);
}

void op_LGDT(CPUState *cpu, const Insn *insn)
{
    cpu->gdtr = load_table_register(cpu, insn);
}

void op_LIDT(CPUState *cpu, const Insn *insn)
{
    cpu->idtr = load_table_register(cpu, insn);
}

/* ---- descriptor probes ---- */

/*
 * The descriptor a probe asks about, or false when the selector is null or
 * its 8 bytes pass the GDT or LDT limit (the same bounds seg_fetch_descriptor
 * applies, so the read below cannot raise #GP; it may still #PF).
 */
static bool probe_descriptor(CPUState *cpu, uint16_t selector, uint64_t *desc)
{
    uint32_t limit;
    if (sel_is_null(selector)) {
        return false;
    }
    if (selector & 4) {
        if (sel_is_null(cpu->ldtr.selector) || !(cpu->ldtr.attr & DESC_P)) {
            return false;
        }
        limit = cpu->ldtr.limit;
    } else {
        limit = cpu->gdtr.limit;
    }
    if ((uint32_t)(selector & 0xfff8u) + 7 > limit) {
        return false;
    }
    *desc = seg_fetch_descriptor(cpu, selector, EXC_GP, sel_error(selector));
    return true;
}

/* DPL >= CPL and DPL >= RPL: the descriptor is visible at this privilege. */
static bool probe_privilege_ok(const CPUState *cpu, uint16_t selector, uint64_t desc)
{
    return desc_dpl(desc) >= cpu->cpl && desc_dpl(desc) >= sel_rpl(selector);
}

/* System types LAR reports (SDM Vol.2 LAR, its table of valid descriptor
 * types): TSSs, LDT, call and task gates; LSL only those with a limit, the
 * TSSs and the LDT (SDM Vol.2 LSL).  Interrupt and trap gates never. */
static const bool lar_system_ok[16] = {
    [SYS_TSS16_AVAIL] = true, [SYS_LDT] = true,        [SYS_TSS16_BUSY] = true,
    [SYS_CALL_GATE16] = true, [SYS_TASK_GATE] = true,  [SYS_TSS32_AVAIL] = true,
    [SYS_TSS32_BUSY] = true,  [SYS_CALL_GATE32] = true};
static const bool lsl_system_ok[16] = {[SYS_TSS16_AVAIL] = true,
                                       [SYS_LDT] = true,
                                       [SYS_TSS16_BUSY] = true,
                                       [SYS_TSS32_AVAIL] = true,
                                       [SYS_TSS32_BUSY] = true};

/* Whether LAR/LSL may report on this descriptor: conforming code always,
 * other code and data and the allowed system types when privilege allows. */
static bool probe_lar_lsl(CPUState *cpu, uint16_t selector, uint64_t *desc,
                          const bool system_ok[16])
{
    if (!probe_descriptor(cpu, selector, desc)) {
        return false;
    }
    if (desc_is_conforming_code(*desc)) {
        return true;
    }
    if (!desc_is_segment(*desc) && !system_ok[desc_type(*desc)]) {
        return false;
    }
    return probe_privilege_ok(cpu, selector, *desc);
}

/* LAR: the access-rights bytes of the descriptor's high dword, masked with
 * 00F0FF00h (32-bit) or FF00h (16-bit). */
void op_LAR(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 1);
    uint64_t desc;
    if (!probe_lar_lsl(cpu, selector, &desc, lar_system_ok)) {
        set_zf(cpu, false);
        return;
    }
    opnd_write(cpu, insn, 0, desc_hi(desc) & (insn->opsize == 4 ? 0x00f0ff00u : 0xff00u));
    set_zf(cpu, true);
}

/* LSL: the byte-granular limit (G applied), truncated to 16 bits for a
 * 16-bit operand. */
void op_LSL(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 1);
    uint64_t desc;
    if (!probe_lar_lsl(cpu, selector, &desc, lsl_system_ok)) {
        set_zf(cpu, false);
        return;
    }
    opnd_write(cpu, insn, 0, desc_limit(desc));
    set_zf(cpu, true);
}

/* VERR: readable code or data, visible at CPL and RPL; conforming code
 * skips the privilege test (SDM Vol.2 VERR/VERW). */
void op_VERR(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 0);
    uint64_t desc;
    bool ok = probe_descriptor(cpu, selector, &desc) && desc_is_readable(desc) &&
              (desc_is_conforming_code(desc) || probe_privilege_ok(cpu, selector, desc));
    set_zf(cpu, ok);
}

/* VERW: writable data visible at CPL and RPL; code is never writable. */
void op_VERW(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    uint16_t selector = (uint16_t)opnd_read(cpu, insn, 0);
    uint64_t desc;
    bool ok = probe_descriptor(cpu, selector, &desc) && desc_is_writable_data(desc) &&
              probe_privilege_ok(cpu, selector, desc);
    set_zf(cpu, ok);
}

/* ARPL: raise the destination selector's RPL to the source's, ZF telling
 * whether it changed (SDM Vol.2 ARPL).  Memory is written only on change,
 * but checked for write access first, as for any read-modify-write. */
void op_ARPL(CPUState *cpu, const Insn *insn)
{
    require_protected(cpu);
    RMW rmw;
    uint32_t dest = opnd_rmw_read(cpu, insn, 0, &rmw);
    uint32_t src = opnd_read(cpu, insn, 1);
    if ((dest & 3) < (src & 3)) {
        opnd_rmw_write(cpu, &rmw, (dest & ~3u) | (src & 3));
        set_zf(cpu, true);
    } else {
        set_zf(cpu, false);
    }
}
