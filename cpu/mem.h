/*
 * Guest memory access from the CPU, in three layers:
 *
 *   seg_*   segmented: limit and type checks against the descriptor cache
 *           (#GP(0), or #SS(0) for SS), then base + offset;
 *   lin_*   linear: the shadow TLB inline, softmmu/mmu.c on a miss
 *           (page walk, #PF, MMIO, page-crossing, code-page writes);
 *   stack   push/pop through SS with the B-bit-sized stack pointer.
 *
 * Every access can fault; a fault longjmps out of the instruction, so a
 * handler must not commit architectural state before its last access that
 * can fault (SDM Vol.3 6.5: faults are restartable).
 */
#ifndef CPU_MEM_H
#define CPU_MEM_H

#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/mmu.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- linear ---- */

/* Linear addresses are 64-bit: below 4 GiB outside long mode, canonical
 * (checked by seg_translate) in 64-bit mode.  Sizes 1, 2, 4 and 8. */
static inline TLBEntry *tlb_entry(CPUState *cpu, int mmu_idx, uint64_t lin)
{
    return &cpu->tlb.e[mmu_idx][tlb_slot(lin)];
}

/* The entry of either table (softmmu/tlb.h) whose tag for access is lin's
 * page without flags, else NULL. */
static inline TLBEntry *tlb_hit(CPUState *cpu, int mmu_idx, uint64_t lin, int access)
{
    uint64_t page = lin & TLB_PAGE_MASK;
    TLBEntry *e = &cpu->tlb.e[mmu_idx][tlb_slot(lin)];
    if (likely(e->tag[access] == page)) {
        return e;
    }
    e = &cpu->tlb.e[mmu_idx][tlb_slot2(lin)];
    return e->tag[access] == page ? e : NULL;
}

/* size bytes at lin into out when a TLB entry (either table) lets the read
 * go straight to memory within one page; false otherwise, with nothing
 * read and nothing faulted or filled.  For checks that must not fault. */
static inline bool lin_peek(CPUState *cpu, uint64_t lin, int size, int mmu_idx, void *out)
{
    TLBEntry *e = (lin & 0xfff) <= 0x1000u - (uint32_t)size ? tlb_hit(cpu, mmu_idx, lin, ACC_READ)
                                                             : NULL;
    if (!e) {
        return false;
    }
    memcpy(out, (const uint8_t *)(uintptr_t)(lin + e->addend), (size_t)size);
    return true;
}

static inline uint64_t lin_read_at(CPUState *cpu, uint64_t lin, int size, int mmu_idx,
                                   bool second)
{
    TLBEntry *e = tlb_entry(cpu, mmu_idx, lin);
    if (unlikely(e->tag[ACC_READ] != (lin & TLB_PAGE_MASK))) {
        e = second ? tlb_hit(cpu, mmu_idx, lin, ACC_READ) : NULL;
    }
    if (likely(e && (lin & 0xfff) <= 0x1000u - size)) {
        const uint8_t *p = (const uint8_t *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1: return *p;
        case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
        case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
        default: { uint64_t v; memcpy(&v, p, 8); return v; }
        }
    }
    return mmu_read_slow(cpu, lin, size, mmu_idx, ACC_READ);
}

static inline uint64_t lin_read_idx(CPUState *cpu, uint64_t lin, int size, int mmu_idx)
{
    return lin_read_at(cpu, lin, size, mmu_idx, false);
}

static inline void lin_write_idx(CPUState *cpu, uint64_t lin, int size, uint64_t value, int mmu_idx)
{
    TLBEntry *e = tlb_entry(cpu, mmu_idx, lin);
    if (likely(e->tag[ACC_WRITE] == (lin & TLB_PAGE_MASK) && (lin & 0xfff) <= 0x1000u - size)) {
        uint8_t *p = (uint8_t *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1: *p = (uint8_t)value; break;
        case 2: { uint16_t v = (uint16_t)value; memcpy(p, &v, 2); break; }
        case 4: { uint32_t v = (uint32_t)value; memcpy(p, &v, 4); break; }
        default: memcpy(p, &value, 8); break;
        }
        return;
    }
    mmu_write_slow(cpu, lin, size, value, mmu_idx);
}

/* The host address of lin when lin's TLB entry lets this access go
 * straight to memory (a plain RAM page, no flag in its tag), else NULL;
 * valid up to the end of lin's page.  For bulk copies (FXSAVE's 512 bytes)
 * that would otherwise go through the TLB a dword at a time. */
static inline uint8_t *lin_host_ptr(CPUState *cpu, uint64_t lin, int access)
{
    TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    if (e->tag[access] != (lin & TLB_PAGE_MASK)) {
        return NULL;
    }
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* lin + n for the next part of a multi-part access: linear addresses wrap
 * at 4 GiB outside 64-bit mode. */
static inline uint64_t lin_next(const CPUState *cpu, uint64_t lin, uint32_t n)
{
    return (cpu->hflags & HF_CS64) ? lin + n : (uint32_t)(lin + n);
}

/* Accesses with the current privilege (CPL 3 = user view). */
static inline uint64_t lin_read(CPUState *cpu, uint64_t lin, int size)
{
    return lin_read_idx(cpu, lin, size, cpu->mmu_idx);
}

static inline void lin_write(CPUState *cpu, uint64_t lin, int size, uint64_t value)
{
    lin_write_idx(cpu, lin, size, value, cpu->mmu_idx);
}

/* Implicit supervisor accesses: descriptor tables, TSS, IDT (SDM Vol.3 4.6.1).
 * Reads look in the second table too, without swapping: a miss in C swaps
 * the second table's entry into the first (the next access from C or
 * translated code is the cheapest there), but a descriptor table that
 * shares a slot with a hot kernel page would swap with it at every read
 * (tlb_victim_swap was 1.9% of the i386 syscall workload; looking there
 * for every C access instead made fork 10% slower). */
static inline uint64_t lin_read_sys(CPUState *cpu, uint64_t lin, int size)
{
    return lin_read_at(cpu, lin, size, MMU_KERNEL, true);
}

static inline void lin_write_sys(CPUState *cpu, uint64_t lin, int size, uint64_t value)
{
    lin_write_idx(cpu, lin, size, value, MMU_KERNEL);
}

/* ---- segmented ---- */

/* Checks that fail the fast path; seg_translate_slow() raises the fault. */
uint32_t seg_translate_slow(CPUState *cpu, int seg, uint32_t offset, int size, bool write);

/* #AC: a misaligned data access at CPL 3 with CR0.AM and EFLAGS.AC
 * (SDM Vol.3 6.15, Interrupt 17: words on 2, dwords on 4, qwords on 8). */
static inline void check_alignment(CPUState *cpu, uint64_t lin, int size)
{
    uint32_t align = size >= 8 ? 8 : (uint32_t)size;
    if ((lin & (align - 1)) && (align & (align - 1)) == 0) {
        cpu_raise_exception_err(cpu, EXC_AC, 0);
    }
}

/*
 * 64-bit mode (SDM Vol.3 3.2.4, 5.3.1): no limit or type checks; the base
 * counts only for FS and GS; every byte of the access must be canonical,
 * else #SS(0) for a reference through SS and #GP(0) for the rest.  Out of
 * line (cpu/interp.c), so the 32-bit path inlined everywhere stays small.
 */
uint64_t seg_translate64(CPUState *cpu, int seg, uint64_t offset, int size);

/* Linear address of seg:offset for an access of size bytes, or fault.
 * Outside 64-bit mode offset is below 4 GiB (the address size's mask). */
static inline uint64_t seg_translate(CPUState *cpu, int seg, uint64_t offset, int size, bool write)
{
    const SegmentCache *s = &cpu->seg[seg];
    uint16_t bad = SEGCHK_EXPDOWN | SEGCHK_UNUSABLE | (write ? SEGCHK_NOWRITE : SEGCHK_NOREAD);
    uint64_t lin;
    if (unlikely(cpu->hflags & HF_CS64)) {
        lin = seg_translate64(cpu, seg, offset, size);
    } else if (likely(!(s->check & bad) && offset + (uint32_t)(size - 1) <= s->limit)) {
        lin = (uint32_t)(s->base + offset);
    } else {
        lin = seg_translate_slow(cpu, seg, (uint32_t)offset, size, write);
    }
    if (unlikely(cpu->hflags & HF_AC)) {
        check_alignment(cpu, lin, size);
    }
    return lin;
}

static inline uint64_t seg_read(CPUState *cpu, int seg, uint64_t offset, int size)
{
    return lin_read(cpu, seg_translate(cpu, seg, offset, size, false), size);
}

static inline void seg_write(CPUState *cpu, int seg, uint64_t offset, int size, uint64_t value)
{
    lin_write(cpu, seg_translate(cpu, seg, offset, size, true), size, value);
}

/* 64-bit and multi-part helpers (CMPXCHG8B, far pointers, descriptors). */
static inline uint64_t seg_read64(CPUState *cpu, int seg, uint64_t offset)
{
    return seg_read(cpu, seg, offset, 8);
}

/* Make sure a later write of size bytes at seg:offset cannot fault (used
 * before read-modify-write and multi-part stores to keep them atomic). */
static inline uint64_t seg_probe_write(CPUState *cpu, int seg, uint64_t offset, int size)
{
    uint64_t lin = seg_translate(cpu, seg, offset, size, true);
    mmu_probe(cpu, lin, size, ACC_WRITE, cpu->mmu_idx);
    return lin;
}

/* ---- instruction fetch helpers for the interpreter ---- */

/* Effective address of the ModRM/moffs memory operand (no segment), at the
 * address size: 16 and 32 bits wrap, 64 does not; a RIP-relative operand
 * is relative to the next instruction (SDM Vol.2 2.2.1.6). */
static inline uint64_t insn_ea(const CPUState *cpu, const Insn *insn)
{
    uint64_t ea = (uint64_t)(int64_t)insn->disp;
    if (insn->base != REG_NONE) {
        ea += unlikely(insn->base == INSN_BASE_RIP) ? cpu->next_eip : cpu->regs[insn->base];
    }
    if (insn->index != REG_NONE) {
        ea += cpu->regs[insn->index] << insn->scale;
    }
    switch (insn->adsize) {
    case 2: return ea & 0xffff;
    case 4: return (uint32_t)ea;
    default:
        if (unlikely(insn->opmap == 0 && (insn->opcode & 0xfc) == 0xa0)) {
            return (uint64_t)insn->hi << 32 | (uint32_t)insn->disp; /* MOV moffs64 */
        }
        return ea;
    }
}

/* ---- stack ---- */

/* The stack pointer's width: RSP in 64-bit mode, else SS.B's ESP or SP. */
static inline uint64_t stack_mask(const CPUState *cpu)
{
    if (unlikely(cpu->hflags & HF_CS64)) {
        return ~UINT64_C(0);
    }
    return (cpu->seg[SEG_SS].attr & DESC_B) ? 0xffffffffu : 0xffffu;
}

/* Store the stack pointer at its width: a 16-bit stack changes only SP, a
 * 32-bit one writes ESP (high half zero), 64-bit mode all of RSP. */
static inline void stack_set_sp(CPUState *cpu, uint64_t sp)
{
    uint64_t mask = stack_mask(cpu);
    if (mask == 0xffffu) {
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
    } else {
        cpu->regs[R_ESP] = sp & mask;
    }
}

/* Access at an explicit stack pointer value (for multi-item frames). */
static inline void stack_write_at(CPUState *cpu, uint64_t sp, int size, uint64_t value)
{
    seg_write(cpu, SEG_SS, sp & stack_mask(cpu), size, value);
}

static inline uint64_t stack_read_at(CPUState *cpu, uint64_t sp, int size)
{
    return seg_read(cpu, SEG_SS, sp & stack_mask(cpu), size);
}

/* PUSH: write first, then commit ESP, so a fault leaves ESP unchanged. */
static inline void stack_push(CPUState *cpu, int size, uint64_t value)
{
    uint64_t sp = cpu->regs[R_ESP] - (uint64_t)size;
    stack_write_at(cpu, sp, size, value);
    stack_set_sp(cpu, sp);
}

static inline uint64_t stack_pop(CPUState *cpu, int size)
{
    uint64_t value = stack_read_at(cpu, cpu->regs[R_ESP], size);
    stack_set_sp(cpu, cpu->regs[R_ESP] + (uint64_t)size);
    return value;
}

#endif /* CPU_MEM_H */
