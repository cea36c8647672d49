/*
 * Instructions that straddle a page boundary, in 32-bit and 64-bit blocks.
 *
 * A block never crosses into its next page except here: an instruction
 * that starts on one page and ends on the next is a block of its own (it
 * used to be interpreted, about 1% of busybox's instructions).  Its bytes
 * come from two physical pages, and the second one's mapping can change
 * independently of the first's, by which the block is found.  So:
 *
 * - translating it fetches the second page as the instruction's fetch
 *   would (a #PF there is the instruction's), decodes the bytes of both
 *   pages from a copy, and records the second page's physical and linear
 *   address in the block (TB.phys2, TB.lin2);
 * - the block is on both pages' lists (smc.c), and both are code pages:
 *   a write to either drops it;
 * - its entry checks the second page's fetch tag and physical page in
 *   the TLB, after the budget (gen.c, gen_straddle_check below):
 *     cmp qword [r15 + tlb[lin2].tag[FETCH]], lin2 ; jne noexec
 *     cmp dword [r15 + tlb[lin2].phys], phys2       ; jne noexec
 *   so every way in (the run loop, a chained jump, the jump cache, a
 *   predicted return) goes through it;
 * - a failed check leaves to the run loop without running anything; the
 *   lookup there (run.c) fetches the second page again, filling the TLB or
 *   faulting, and drops the block if the page is now another one, so the
 *   next translation reads the new bytes.
 */
#include <string.h>

#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/gen.h"

/* The second page's physical address and host pointer, fetching it (may
 * fault, as the instruction's fetch would); false if it is not RAM. */
static bool page2_fetch(CPUState *cpu, uint64_t lin2, uint32_t *phys2, const uint8_t **host2,
                        uint32_t *avail)
{
    const uint8_t *p = mmu_fetch_ptr(cpu, lin2, cpu->mmu_idx, avail); /* fills the TLB or faults */
    const TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin2);
    /* phys_hi: a PAE frame above 4 GiB, where no RAM is */
    if (!p || e->tag[ACC_FETCH] != lin2 || e->phys_hi || !phys_ram_page(cpu->phys, e->phys)) {
        return false;
    }
    *phys2 = e->phys;
    *host2 = p;
    return true;
}

bool bt_scan_straddle(const BT *bt, const uint8_t *host, enum DecodeMode mode, BlockScan *out)
{
    CPUState *cpu = bt->cpu;
    uint32_t off = out->phys_pc & 0xfff;
    uint32_t first = 0x1000 - off; /* bytes on the first page, 1..14 */
    /* CS's base is 0 in 64-bit mode; outside it linear addresses wrap at 4 GiB. */
    uint64_t lin2 = mode == DECODE_64 ? out->eip + first
                                      : (uint32_t)(cpu->seg[SEG_CS].base + out->eip + first);
    uint32_t phys2, avail;
    const uint8_t *host2;
    /* A next page off the canonical range is the interpreter's (#GP on the fetch). */
    if (first >= INSN_MAX_LEN || !mmu_canonical(lin2) ||
        !page2_fetch(cpu, lin2, &phys2, &host2, &avail)) {
        return false;
    }
    uint32_t second = INSN_MAX_LEN - first;
    if (second > avail) {
        second = avail;
    }
    memcpy(out->straddle_bytes, host + off, first);
    memcpy(out->straddle_bytes + first, host2, second);
    ScanInsn *si = &out->in[0];
    if (decode_insn_mode(&si->insn, out->straddle_bytes, (int)(first + second), mode) != DECODE_OK ||
        si->insn.len <= first) {
        return false;
    }
    si->eip = out->eip;
    si->bytes = out->straddle_bytes;
    out->n = 1;
    out->next_eip = out->eip + si->insn.len;
    out->phys2 = phys2;
    out->lin2 = lin2;
    out->straddle = true;
    return true;
}

bool bt_straddle_stale(BT *bt, const TB *tb)
{
    uint32_t phys2, avail;
    const uint8_t *host2;
    return !page2_fetch(bt->cpu, tb->lin2, &phys2, &host2, &avail) || phys2 != tb->phys2;
}

void gen_straddle_check(Gen *g)
{
    Emit *e = &g->e;
    int32_t slot = gen_cmp_fetch_tag(g, g->scan->lin2);
    g->stale[0] = emit_jcc32(e, CC_NE, NULL);
    HostRM phys = hrm_mem(H_R15, slot + (int32_t)offsetof(TLBEntry, phys));
    emit_alu32_imm(e, EXT_CMP, &phys, (int32_t)g->scan->phys2);
    g->stale[1] = emit_jcc32(e, CC_NE, NULL);
}
