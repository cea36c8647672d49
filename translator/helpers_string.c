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
 * Outside 64-bit mode, segments must be usable with a 4 GiB limit (the
 * translator's flat and based classes); anything else, and 16-bit
 * addressing, is the interpreter's.  In 64-bit mode (SDM Vol.3 3.2.4) no
 * segment has a limit and only an FS or GS source has a base; the index
 * registers and RCX are 64-bit, or 32-bit under a 67h prefix (a dword
 * write zero-extends).  A non-canonical element matches no TLB tag, so it
 * is one element through seg_read/seg_write, which raises #GP(0) (#SS(0)
 * through SS) as the interpreter does.  Alignment checking (CR0.AM,
 * EFLAGS.AC at CPL 3) is the interpreter's too.
 */
#include <string.h>

#include "cpu/mem.h"
#include "translator/bt_internal.h"

/* What the address size and mode make of the string registers. */
typedef struct RepCtx {
    uint64_t amask;      /* the index and count registers' width */
    uint64_t src_base;   /* linear base of the source segment */
    uint64_t dst_base;   /* ES's */
    bool wrap32;         /* linear addresses wrap at 4 GiB (not 64-bit mode) */
} RepCtx;

static bool seg_fast(const SegmentCache *s, bool write)
{
    uint16_t bad = SEGCHK_EXPDOWN | SEGCHK_UNUSABLE | (write ? SEGCHK_NOWRITE : SEGCHK_NOREAD);
    return !(s->check & bad) && s->limit == 0xffffffffu;
}

/* The context for insn, or false when the helper may not do it (the
 * interpreter's then). */
static bool rep_ctx(const CPUState *cpu, const Insn *insn, RepCtx *c)
{
    if (cpu->hflags & HF_AC) {
        return false;
    }
    if (cpu->hflags & HF_CS64) {
        if (insn->adsize != 8 && insn->adsize != 4) {
            return false;
        }
        int s = insn->seg;
        c->amask = insn->adsize == 8 ? UINT64_MAX : UINT32_MAX;
        c->src_base = s == SEG_FS || s == SEG_GS ? cpu->seg[s].base : 0;
        c->dst_base = 0;
        c->wrap32 = false;
        return true;
    }
    if (insn->adsize != 4 || !seg_fast(&cpu->seg[SEG_ES], true) ||
        (insn->op == OP_MOVS && !seg_fast(&cpu->seg[insn->seg], false))) {
        return false;
    }
    c->amask = UINT32_MAX;
    c->src_base = (uint32_t)cpu->seg[insn->seg].base;
    c->dst_base = (uint32_t)cpu->seg[SEG_ES].base;
    c->wrap32 = true;
    return true;
}

static uint64_t rep_lin(const RepCtx *c, uint64_t base, uint64_t index)
{
    uint64_t lin = base + (index & c->amask);
    return c->wrap32 ? (uint32_t)lin : lin;
}

/* reg += delta within the address size (a dword result zero-extends). */
static void rep_step(CPUState *cpu, const RepCtx *c, int reg, int64_t delta)
{
    cpu->regs[reg] = (cpu->regs[reg] + (uint64_t)delta) & c->amask;
}

/* Elements of size at lin, stepping by delta, that stay in lin's page. */
static uint64_t elements_in_page(uint64_t lin, int size, int32_t delta)
{
    uint32_t off = lin & 0xfff;
    if (off + (uint32_t)size > 0x1000) {
        return 0; /* this element straddles the page end */
    }
    return delta > 0 ? (0x1000 - off) / (uint32_t)size : off / (uint32_t)size + 1;
}

/* One element the interpreter's way (may fault, fills the TLB). */
static void slow_element(CPUState *cpu, const Insn *insn, const RepCtx *c, int size, int32_t delta)
{
    if (insn->op == OP_MOVS) {
        uint64_t v = seg_read(cpu, insn->seg, cpu->regs[R_ESI] & c->amask, size);
        seg_write(cpu, SEG_ES, cpu->regs[R_EDI] & c->amask, size, v);
        rep_step(cpu, c, R_ESI, delta);
    } else {
        seg_write(cpu, SEG_ES, cpu->regs[R_EDI] & c->amask, size, reg_read(cpu, R_EAX, size));
    }
    rep_step(cpu, c, R_EDI, delta);
    rep_step(cpu, c, R_ECX, -1);
}

/* A run of elements within one source and one destination page; 0 if none fits. */
static uint64_t fast_run(CPUState *cpu, const Insn *insn, const RepCtx *c, int size, int32_t delta,
                         uint64_t left)
{
    bool movs = insn->op == OP_MOVS;
    uint64_t dst_lin = rep_lin(c, c->dst_base, cpu->regs[R_EDI]);
    uint64_t n = elements_in_page(dst_lin, size, delta);
    uint8_t *dst = lin_host_ptr(cpu, dst_lin, ACC_WRITE);
    const uint8_t *src = NULL;
    if (movs) {
        uint64_t src_lin = rep_lin(c, c->src_base, cpu->regs[R_ESI]);
        uint64_t m = elements_in_page(src_lin, size, delta);
        n = m < n ? m : n;
        src = lin_host_ptr(cpu, src_lin, ACC_READ);
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
    uint64_t fill = reg_read(cpu, R_EAX, size);
    if (movs && (dst_lo + bytes_run <= src_lo || src_lo + bytes_run <= dst_lo)) {
        memcpy(dst_lo, src_lo, bytes_run); /* disjoint: the same as element by element */
    } else if (!movs && fill == (fill & 0xff) * (UINT64_MAX / 0xff >> (64 - 8 * size))) {
        memset(dst_lo, (int)(fill & 0xff), bytes_run); /* every byte the same: a kernel's clear_page */
    } else {
        uint64_t value = fill;
        for (uint64_t i = 0; i < n; i++) {
            if (movs) {
                memcpy(&value, src, (size_t)size); /* the whole element first: they may overlap */
                src += delta;
            }
            memcpy(dst, &value, (size_t)size); /* little-endian: the low size bytes */
            dst += delta;
        }
    }
    int64_t bytes = (int64_t)n * delta;
    rep_step(cpu, c, R_EDI, bytes);
    if (movs) {
        rep_step(cpu, c, R_ESI, bytes);
    }
    rep_step(cpu, c, R_ECX, -(int64_t)n);
    return n;
}

int bt_helper_rep_string(CPUState *cpu, const BTCallInfo *ci)
{
    const Insn *insn = &ci->insn;
    bt_helper_enter(cpu, ci);
    bt_count_callout(cpu, ci);
    RepCtx c;
    if (!rep_ctx(cpu, insn, &c)) {
        interp_exec_insn(cpu, insn);
    } else {
        int size = insn->opnd[0].size;
        int32_t delta = (cpu->eflags & EFLAGS_DF) ? -size : size;
        uint64_t limit = cpu_events_waiting(cpu) ? 1 : REP_BATCH;
        uint64_t done = 0;
        while (done < limit && (cpu->regs[R_ECX] & c.amask) != 0) {
            uint64_t count = cpu->regs[R_ECX] & c.amask;
            uint64_t left = limit - done < count ? limit - done : count;
            uint64_t n = fast_run(cpu, insn, &c, size, delta, left);
            if (n == 0) {
                slow_element(cpu, insn, &c, size, delta);
                n = 1;
                if (cpu_events_waiting(cpu)) {
                    limit = 0; /* the interpreter stops its batch here too */
                }
            }
            done += n;
        }
        cpu_rep_account(cpu, (uint32_t)done);
        if ((cpu->regs[R_ECX] & c.amask) != 0) {
            cpu->next_eip = cpu->eip; /* not finished: run the instruction again */
        }
    }
    return bt_helper_leave(cpu, ci, cpu->next_eip, cpu->next_eip != ci->next_eip);
}
