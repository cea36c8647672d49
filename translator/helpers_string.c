/*
 * REP MOVS and REP STOS a page at a time.
 *
 * The interpreter (cpu/ops_string.c) moves one element per iteration with
 * the full segment and TLB checks; kernels clear and copy whole pages this
 * way.  This helper keeps its exact semantics and does the common case
 * directly on host memory:
 *   - a batch is at most REP_BATCH elements (one "instruction" each, so
 *     instruction counts match), one element only when an event would be
 *     taken (cpu_events_waiting(): a masked interrupt does not count), and the instruction re-executes while ECX
 *     is not zero;
 *   - registers are committed after every run of elements, so a fault on an
 *     element leaves ESI/EDI/ECX describing exactly the elements done;
 *   - runs stay within one source and one destination page whose TLB
 *     entries allow the access on the fast path (read tag, write tag with
 *     no TLB_CODE/MMIO flags); anything else (a TLB miss, a page-crossing
 *     element, MMIO, a code page) is one element through cpu/mem.h's
 *     seg_read/seg_write, exactly as the interpreter does it, which also
 *     fills the TLB for the next run;
 *   - elements are copied one by one in the direction DF gives, so
 *     overlapping MOVS (the classic pattern fill) behaves as on hardware.
 * Segments must be usable with a 4 GiB limit (the translator's flat and
 * based classes); anything else, and 16-bit addressing, is the
 * interpreter's.
 */
#include <string.h>

#include "cpu/mem.h"
#include "translator/bt_internal.h"

static bool seg_fast(const SegmentCache *s, bool write)
{
    uint16_t bad = SEGCHK_EXPDOWN | SEGCHK_UNUSABLE | (write ? SEGCHK_NOWRITE : SEGCHK_NOREAD);
    return !(s->check & bad) && s->limit == 0xffffffffu;
}

/* Elements of size at lin, stepping by delta, that stay in lin's page. */
static uint32_t elements_in_page(uint32_t lin, int size, int32_t delta)
{
    uint32_t off = lin & 0xfff;
    if (off + (uint32_t)size > 0x1000) {
        return 0; /* this element straddles the page end */
    }
    return delta > 0 ? (0x1000 - off) / (uint32_t)size : off / (uint32_t)size + 1;
}

/* Host address of lin for access, when the TLB allows the fast path. */
static uint8_t *fast_host(CPUState *cpu, uint32_t lin, int access)
{
    TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    if (e->tag[access] != (lin & TLB_PAGE_MASK)) {
        return NULL;
    }
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* One element the interpreter's way (may fault, fills the TLB). */
static void slow_element(CPUState *cpu, const Insn *insn, int size, int32_t delta)
{
    if (insn->op == OP_MOVS) {
        uint32_t v = seg_read(cpu, insn->seg, cpu->regs[R_ESI], size);
        seg_write(cpu, SEG_ES, cpu->regs[R_EDI], size, v);
        cpu->regs[R_ESI] = (uint32_t)(cpu->regs[R_ESI] + (uint32_t)delta);
    } else {
        seg_write(cpu, SEG_ES, cpu->regs[R_EDI], size, reg_read(cpu, R_EAX, size));
    }
    /* 32-bit address size: the registers wrap at 4 GiB (their high
     * halves are zero outside 64-bit mode). */
    cpu->regs[R_EDI] = (uint32_t)(cpu->regs[R_EDI] + (uint32_t)delta);
    cpu->regs[R_ECX] = (uint32_t)(cpu->regs[R_ECX] - 1);
}

/* A run of elements within one source and one destination page; 0 if none fits. */
static uint32_t fast_run(CPUState *cpu, const Insn *insn, int size, int32_t delta, uint32_t left)
{
    bool movs = insn->op == OP_MOVS;
    uint32_t dst_lin = cpu->seg[SEG_ES].base + cpu->regs[R_EDI];
    uint32_t n = elements_in_page(dst_lin, size, delta);
    uint8_t *dst = fast_host(cpu, dst_lin, ACC_WRITE);
    const uint8_t *src = NULL;
    if (movs) {
        uint32_t src_lin = cpu->seg[insn->seg].base + cpu->regs[R_ESI];
        uint32_t m = elements_in_page(src_lin, size, delta);
        n = m < n ? m : n;
        src = fast_host(cpu, src_lin, ACC_READ);
    }
    if (n > left) {
        n = left;
    }
    if (n == 0 || !dst || (movs && !src)) {
        return 0;
    }
    size_t bytes_run = (size_t)n * (size_t)size;
    /* The lowest address of each run (DF=1 runs go down from the first element). */
    uint8_t *dst_lo = delta > 0 ? dst : dst - bytes_run + (size_t)size;
    const uint8_t *src_lo = movs ? (delta > 0 ? src : src - bytes_run + (size_t)size) : NULL;
    if (movs && (dst_lo + bytes_run <= src_lo || src_lo + bytes_run <= dst_lo)) {
        memcpy(dst_lo, src_lo, bytes_run); /* disjoint: the same as element by element */
    } else if (!movs && size == 1) {
        memset(dst_lo, (int)(cpu->regs[R_EAX] & 0xff), bytes_run);
    } else {
        uint32_t value = reg_read(cpu, R_EAX, size);
        for (uint32_t i = 0; i < n; i++) {
            if (movs) {
                memcpy(&value, src, (size_t)size); /* the whole element first: they may overlap */
                src += delta;
            }
            memcpy(dst, &value, (size_t)size);
            dst += delta;
        }
    }
    uint32_t bytes = n * (uint32_t)delta;
    cpu->regs[R_EDI] = (uint32_t)(cpu->regs[R_EDI] + bytes);
    if (movs) {
        cpu->regs[R_ESI] = (uint32_t)(cpu->regs[R_ESI] + bytes);
    }
    cpu->regs[R_ECX] = (uint32_t)(cpu->regs[R_ECX] - n);
    return n;
}

/* Whether the helper may do insn (else it is the interpreter's). */
static bool string_fast_ok(const CPUState *cpu, const Insn *insn)
{
    return insn->adsize == 4 && seg_fast(&cpu->seg[SEG_ES], true) &&
           (insn->op == OP_STOS || seg_fast(&cpu->seg[insn->seg], false));
}

int bt_helper_rep_string(CPUState *cpu, const BTCallInfo *ci)
{
    const Insn *insn = &ci->insn;
    bt_helper_enter(cpu, ci);
    bt_count_callout(cpu, ci);
    if (!string_fast_ok(cpu, insn)) {
        interp_exec_insn(cpu, insn);
    } else {
        int size = insn->opnd[0].size;
        int32_t delta = (cpu->eflags & EFLAGS_DF) ? -size : size;
        uint32_t limit = cpu_events_waiting(cpu) ? 1 : REP_BATCH;
        uint32_t done = 0;
        while (done < limit && cpu->regs[R_ECX] != 0) {
            uint32_t left = limit - done < cpu->regs[R_ECX] ? limit - done : cpu->regs[R_ECX];
            uint32_t n = fast_run(cpu, insn, size, delta, left);
            if (n == 0) {
                slow_element(cpu, insn, size, delta);
                n = 1;
                if (cpu_events_waiting(cpu)) {
                    limit = 0; /* the interpreter stops its batch here too */
                }
            }
            done += n;
        }
        cpu_rep_account(cpu, done);
        if (cpu->regs[R_ECX] != 0) {
            cpu->next_eip = cpu->eip; /* not finished: run the instruction again */
        }
    }
    return bt_helper_leave(cpu, ci, cpu->next_eip, cpu->next_eip != ci->next_eip);
}
