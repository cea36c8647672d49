/*
 * Segment registers: loading them with the protection checks of SDM Vol.3
 * 5.4-5.6 (and the MOV/POP Sreg pseudo-code in Vol.2), the access check
 * behind the inline fast path of cpu/mem.h, the pending stack used by far
 * transfers and interrupt delivery, and the I/O permission check.
 *
 * Checks come in the order the SDM lists them, because the order decides
 * which vector and error code a guest sees when several checks fail.
 * Nothing in a SegmentCache changes until every check has passed.
 */
#include "cpu/desc.h"
#include "cpu/ops.h"

/* ---- descriptor tables ---- */

/* Outside IA-32e mode linear addresses wrap at 4 GiB. */
uint64_t seg_desc_linear(const CPUState *cpu, uint16_t selector)
{
    uint64_t base = (selector & 4) ? cpu->ldtr.base : cpu->gdtr.base;
    uint64_t lin = base + (selector & 0xfff8u);
    return (cpu->efer & EFER_LMA) ? lin : (uint32_t)lin;
}

/* The limit of the table selector points into, or false for a TI=1
 * selector with a null or unusable LDTR. */
static bool seg_table_limit(const CPUState *cpu, uint16_t selector, uint32_t *limit)
{
    if (selector & 4) {
        if (sel_is_null(cpu->ldtr.selector) || !(cpu->ldtr.attr & DESC_P)) {
            return false;
        }
        *limit = cpu->ldtr.limit;
    } else {
        *limit = cpu->gdtr.limit;
    }
    return true;
}

/*
 * The descriptor must lie wholly inside the table: index*8+7 <= limit
 * (SDM Vol.3 3.5.1).  A TI=1 selector with a null or unusable LDTR fails
 * the same way.
 */
uint64_t seg_fetch_descriptor(CPUState *cpu, uint16_t selector, int vector, uint32_t error_code)
{
    uint32_t limit;
    if (!seg_table_limit(cpu, selector, &limit) || (uint32_t)(selector & 0xfff8u) + 7 > limit) {
        cpu_raise_exception_err(cpu, vector, error_code);
    }
    uint64_t lin = seg_desc_linear(cpu, selector);
    uint64_t lo = sys_read(cpu, lin, 4);
    return lo | sys_read(cpu, lin + 4, 4) << 32;
}

uint32_t seg_fetch_descriptor_upper(CPUState *cpu, uint16_t selector, int vector,
                                    uint32_t error_code)
{
    uint32_t limit;
    if (!seg_table_limit(cpu, selector, &limit) || (uint32_t)(selector & 0xfff8u) + 15 > limit) {
        cpu_raise_exception_err(cpu, vector, error_code);
    }
    uint64_t lin = seg_desc_linear(cpu, selector) + 8;
    uint32_t base_hi = (uint32_t)sys_read(cpu, lin, 4);
    if (sys_read(cpu, lin + 4, 4) & 0x1f00u) {
        cpu_raise_exception_err(cpu, EXC_GP, error_code);
    }
    return base_hi;
}

uint64_t seg_read_descriptor(CPUState *cpu, uint16_t selector, int vector)
{
    return seg_fetch_descriptor(cpu, selector, vector, sel_error(selector));
}

/* The processor sets the Accessed bit (type bit 0, byte 5) when it loads a
 * segment register from a descriptor (SDM Vol.3 3.4.5.1). */
void seg_set_accessed(CPUState *cpu, uint16_t selector, uint64_t desc)
{
    if (desc_hi(desc) & DESC_A) {
        return;
    }
    uint64_t lin = seg_desc_linear(cpu, selector) + 5;
    uint32_t access_byte = (desc_hi(desc) >> 8) & 0xffu;
    sys_write(cpu, lin, 1, access_byte | 1u);
}

void seg_cache_from_descriptor(SegmentCache *sc, uint16_t selector, uint64_t desc)
{
    sc->selector = selector;
    sc->base = desc_base(desc);
    sc->limit = desc_limit(desc);
    sc->attr = desc_hi(desc) & DESC_ATTR_MASK;
    seg_update_check(sc);
}

/* ---- committing checked descriptors ---- */

void seg_commit_cs(CPUState *cpu, uint16_t selector, uint64_t desc, uint32_t cpl)
{
    seg_cache_from_descriptor(&cpu->seg[SEG_CS], (uint16_t)((selector & 0xfffc) | cpl),
                              desc | ((uint64_t)DESC_A << 32));
    cpu_update_mode(cpu);
}

void seg_commit_ss(CPUState *cpu, uint16_t selector, uint64_t desc)
{
    seg_cache_from_descriptor(&cpu->seg[SEG_SS], selector, desc | ((uint64_t)DESC_A << 32));
    cpu_update_mode(cpu);
}

/* A null selector may sit in DS/ES/FS/GS; any access through it then faults
 * with #GP(0) (SDM Vol.3 5.4.1). */
void seg_load_null(CPUState *cpu, int seg, uint16_t selector)
{
    SegmentCache *sc = &cpu->seg[seg];
    sc->selector = selector;
    sc->base = 0;
    sc->limit = 0;
    sc->attr = 0;
    seg_update_check(sc);
}

/* vm86 segments are 64 KiB read/write data at DPL 3 whatever the register
 * held before (SDM Vol.3 20.1.1). */
void seg_load_vm86(CPUState *cpu, int seg, uint16_t selector)
{
    SegmentCache *sc = &cpu->seg[seg];
    sc->selector = selector;
    sc->base = (uint32_t)selector << 4;
    sc->limit = 0xffff;
    sc->attr = DESC_P | DESC_S | DESC_W | DESC_A | DESC_DPL_MASK;
    seg_update_check(sc);
}

/*
 * Real mode changes only selector and base; limit and attributes stay as
 * the last protected-mode load left them ("unreal mode", SDM Vol.3 9.9.2).
 * A register left unusable by a null selector becomes usable again, since
 * real mode has no null selector.
 */
void seg_load_real(CPUState *cpu, int seg, uint16_t selector)
{
    if (cpu->hflags & HF_VM) {
        seg_load_vm86(cpu, seg, selector);
        return;
    }
    SegmentCache *sc = &cpu->seg[seg];
    sc->selector = selector;
    sc->base = (uint32_t)selector << 4;
    if (!(sc->attr & DESC_P)) {
        sc->attr = DESC_P | DESC_S | DESC_W | DESC_A;
        seg_update_check(sc);
    }
}

/* ---- protected-mode loads (MOV/POP Sreg, LxS) ---- */

/* SS (SDM Vol.2 MOV: "IF SS is loaded").  64-bit mode allows a null SS
 * at CPL < 3 whose RPL is CPL (SDM Vol.3 5.4.1.1): it stays usable there. */
static void seg_load_ss(CPUState *cpu, uint16_t selector)
{
    if (sel_is_null(selector)) {
        if ((cpu->hflags & HF_CS64) && cpu->cpl != 3 && sel_rpl(selector) == cpu->cpl) {
            seg_load_null_ss64(cpu, cpu->cpl);
            cpu->seg[SEG_SS].selector = selector;
            return;
        }
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (sel_rpl(selector) != cpu->cpl || !desc_is_writable_data(desc) ||
        desc_dpl(desc) != cpu->cpl) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    if (!desc_present(desc)) {
        cpu_raise_exception_err(cpu, EXC_SS, sel_error(selector));
    }
    seg_set_accessed(cpu, selector, desc);
    seg_commit_ss(cpu, selector, desc);
}

/* Data and non-conforming code: max(CPL, RPL) <= DPL (SDM Vol.3 5.6). */
static bool seg_data_privilege_ok(const CPUState *cpu, uint16_t selector, uint64_t desc)
{
    return desc_is_conforming_code(desc) ||
           (sel_rpl(selector) <= desc_dpl(desc) && cpu->cpl <= desc_dpl(desc));
}

/* DS, ES, FS, GS (SDM Vol.2 MOV: "IF DS, ES, FS, or GS is loaded with
 * non-NULL selector"). */
static void seg_load_data(CPUState *cpu, int seg, uint16_t selector)
{
    if (sel_is_null(selector)) {
        seg_load_null(cpu, seg, selector);
        return;
    }
    uint64_t desc = seg_read_descriptor(cpu, selector, EXC_GP);
    if (!desc_is_readable(desc)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    if (!seg_data_privilege_ok(cpu, selector, desc)) {
        cpu_raise_exception_err(cpu, EXC_GP, sel_error(selector));
    }
    if (!desc_present(desc)) {
        cpu_raise_exception_err(cpu, EXC_NP, sel_error(selector));
    }
    seg_set_accessed(cpu, selector, desc);
    seg_cache_from_descriptor(&cpu->seg[seg], selector, desc | ((uint64_t)DESC_A << 32));
}

void seg_load(CPUState *cpu, int seg, uint16_t selector)
{
    if (!(cpu->hflags & HF_PE) || (cpu->hflags & HF_VM)) {
        seg_load_real(cpu, seg, selector);
        if (seg == SEG_SS) {
            cpu_update_mode(cpu);
        }
        return;
    }
    switch (seg) {
    case SEG_SS: seg_load_ss(cpu, selector); break;
    case SEG_CS:
        /* CS changes only through far transfers: MOV CS is #UD (SDM Vol.2 MOV). */
        cpu_raise_exception(cpu, EXC_UD);
    default: seg_load_data(cpu, seg, selector); break;
    }
}

/*
 * Whether loading selector into DS/ES/FS/GS in protected mode (not vm86)
 * would change nothing: the register already holds that selector and the
 * descriptor it was loaded from, unchanged in the table and with its
 * Accessed bit set, and the load would pass its checks.  Reads the table
 * only through the TLB and never faults, so the translator can skip such a
 * load (translator/helpers_sys.c): the Linux i386 kernel reloads DS and ES
 * with the selector they hold on every entry and exit.  False means "do
 * the load", never "the load faults".
 */
bool seg_load_data_is_noop(CPUState *cpu, int seg, uint16_t selector)
{
    const SegmentCache *sc = &cpu->seg[seg];
    if (selector != sc->selector || seg == SEG_SS || seg == SEG_CS) {
        return false;
    }
    if (sel_is_null(selector)) {
        return sc->base == 0 && sc->limit == 0 && sc->attr == 0; /* as seg_load_null left it */
    }
    uint32_t limit;
    if (!seg_table_limit(cpu, selector, &limit) || (uint32_t)(selector & 0xfff8u) + 7 > limit) {
        return false;
    }
    uint64_t desc;
    if (!lin_peek(cpu, seg_desc_linear(cpu, selector), 8, MMU_KERNEL, &desc)) {
        return false;
    }
    if (!(desc_hi(desc) & DESC_A) || !desc_is_readable(desc) || !desc_present(desc) ||
        !seg_data_privilege_ok(cpu, selector, desc)) {
        return false;
    }
    SegmentCache t;
    seg_cache_from_descriptor(&t, selector, desc);
    return t.base == sc->base && t.limit == sc->limit && t.attr == sc->attr;
}

/* ---- the access check behind seg_translate() ---- */

uint32_t seg_translate_slow(CPUState *cpu, int seg, uint32_t offset, int size, bool write)
{
    const SegmentCache *sc = &cpu->seg[seg];
    /* Real mode checks only limits: a write through CS works there
     * (SDM Vol.3 20.1.1: no type or privilege checks in real-address mode). */
    bool protected_mode = (cpu->hflags & HF_PE) != 0;
    if (protected_mode && (sc->check & SEGCHK_UNUSABLE)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (protected_mode && (sc->check & (write ? SEGCHK_NOWRITE : SEGCHK_NOREAD))) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (!seg_limit_ok(sc, offset, size)) {
        /* Limit violations through SS are stack faults (SDM Vol.3 6.15, #SS). */
        cpu_raise_exception_err(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
    }
    return sc->base + offset;
}

/* ---- the pending stack ---- */

void pstack_init_current(CPUState *cpu, PendingStack *ps)
{
    ps->ss = cpu->seg[SEG_SS];
    ps->sp = cpu->regs[R_ESP];
    ps->mmu_idx = (int)cpu->mmu_idx;
    ps->fault_code = 0;
}

void pstack_init_new(PendingStack *ps, uint16_t ss_sel, uint64_t ss_desc, uint32_t esp,
                     uint32_t cpl, uint32_t ext)
{
    seg_cache_from_descriptor(&ps->ss, ss_sel, ss_desc);
    ps->sp = esp;
    ps->mmu_idx = mmu_idx_for_cpl(cpl);
    ps->fault_code = sel_error(ss_sel) | ext;
}

static uint32_t pstack_mask(const PendingStack *ps)
{
    return (ps->ss.attr & DESC_B) ? 0xffffffffu : 0xffffu;
}

/* Linear address of size bytes at sp + delta, or #SS(fault_code). */
static uint32_t pstack_linear(CPUState *cpu, const PendingStack *ps, uint32_t delta, int size)
{
    uint32_t offset = (ps->sp + delta) & pstack_mask(ps);
    if ((ps->ss.check & SEGCHK_UNUSABLE) || !seg_limit_ok(&ps->ss, offset, size)) {
        cpu_raise_exception_err(cpu, EXC_SS, ps->fault_code);
    }
    return ps->ss.base + offset;
}

void pstack_push(CPUState *cpu, PendingStack *ps, int size, uint32_t value)
{
    uint32_t lin = pstack_linear(cpu, ps, (uint32_t)-size, size);
    lin_write_idx(cpu, lin, size, value, ps->mmu_idx);
    ps->sp -= (uint32_t)size;
}

uint32_t pstack_peek(CPUState *cpu, const PendingStack *ps, uint32_t offset, int size)
{
    uint32_t lin = pstack_linear(cpu, ps, offset, size);
    return lin_read_idx(cpu, lin, size, ps->mmu_idx);
}

uint32_t pstack_pop(CPUState *cpu, PendingStack *ps, int size)
{
    uint32_t value = pstack_peek(cpu, ps, 0, size);
    ps->sp += (uint32_t)size;
    return value;
}

uint32_t pstack_esp(const PendingStack *ps, uint32_t old_esp)
{
    uint32_t mask = pstack_mask(ps);
    return (old_esp & ~mask) | (ps->sp & mask);
}

/* ---- the 64-bit stack ---- */

static uint64_t lmstack_linear(CPUState *cpu, const LMStack *ls, uint64_t lin, int size)
{
    if (!mmu_canonical(lin) || !mmu_canonical(lin + (uint64_t)size - 1)) {
        cpu_raise_exception_err(cpu, EXC_SS, ls->fault_code);
    }
    return lin;
}

void lmstack_push(CPUState *cpu, LMStack *ls, int size, uint64_t value)
{
    uint64_t lin = lmstack_linear(cpu, ls, ls->sp - (uint64_t)size, size);
    lin_write_idx(cpu, lin, size, value, ls->mmu_idx);
    ls->sp -= (uint64_t)size;
}

uint64_t lmstack_pop(CPUState *cpu, LMStack *ls, int size)
{
    uint64_t lin = lmstack_linear(cpu, ls, ls->sp, size);
    uint64_t value = lin_read_idx(cpu, lin, size, ls->mmu_idx);
    ls->sp += (uint64_t)size;
    return value;
}

void seg_load_null_ss64(CPUState *cpu, uint32_t cpl)
{
    SegmentCache *sc = &cpu->seg[SEG_SS];
    sc->selector = (uint16_t)cpl;
    sc->base = 0;
    sc->limit = 0xffffffffu;
    sc->attr = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G | (cpl << DESC_DPL_SHIFT);
    seg_update_check(sc);
    cpu_update_mode(cpu);
}

/* ---- I/O permission (SDM Vol.1 18.5) ---- */

/*
 * Allowed when CPL <= IOPL outside vm86; in vm86 only the bitmap counts
 * (SDM Vol.3 20.2.8.1).  The bitmap lives in a 32-bit or 64-bit TSS at the offset
 * stored at 66h; every bit for port..port+size-1 must be clear.  The
 * processor reads two bytes, so both must be inside the TSS limit.
 */
void cpu_check_io(CPUState *cpu, uint16_t port, int size)
{
    if (!(cpu->hflags & HF_PE)) {
        return;
    }
    if (!(cpu->hflags & HF_VM) && cpu->cpl <= cpu_iopl(cpu)) {
        return;
    }
    uint32_t tr_type = (cpu->tr.attr & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT;
    if (!(cpu->tr.attr & DESC_P) || (tr_type & ~SYS_TSS_BUSY_BIT) != SYS_TSS32_AVAIL ||
        cpu->tr.limit < 0x67) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t bitmap = (uint32_t)sys_read(cpu, cpu->tr.base + 0x66, 2);
    uint32_t byte_offset = bitmap + (port >> 3);
    if (byte_offset + 1 > cpu->tr.limit) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint32_t bits = (uint32_t)sys_read(cpu, cpu->tr.base + byte_offset, 2);
    uint32_t wanted = ((1u << size) - 1) << (port & 7);
    if (bits & wanted) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}
