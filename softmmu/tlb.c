/*
 * Shadow TLB invalidation (SDM Vol.3 4.10.4).
 *
 * The TLB caches 4 KiB pieces of pages, so a 4 MiB page may occupy up to
 * 1024 slots.  INVLPG must drop the whole page, so fills from 4 MiB pages set
 * a bit per 4 MiB region (TLB.large_regions), and INVLPG in such a region
 * sweeps both views for pieces of it; anywhere else it touches one slot per
 * view.  A full flush costs 6144 stores, cheap next to the guest work that
 * triggers it (CR0/CR4 writes, A20 changes, debug register writes).
 */
#include <string.h>

#include "cpu/state.h"
#include "softmmu/mmu.h"

static inline void tlb_entry_invalidate(TLBEntry *e)
{
    e->tag[ACC_READ] = TLB_INVALID;
    e->tag[ACC_WRITE] = TLB_INVALID;
    e->tag[ACC_FETCH] = TLB_INVALID;
}

/* Whether any valid tag of e satisfies (tag & mask) == (lin & mask). */
static inline bool tlb_entry_matches(const TLBEntry *e, uint32_t lin, uint32_t mask)
{
    for (int k = 0; k < 3; k++) {
        uint32_t tag = e->tag[k];
        if (!(tag & TLB_INVALID) && ((tag ^ lin) & mask) == 0) {
            return true;
        }
    }
    return false;
}

void tlb_flush_all(CPUState *cpu)
{
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t i = 0; i < TLB_ENTRIES; i++) {
            tlb_entry_invalidate(&cpu->tlb.e[view][i]);
        }
    }
    memset(cpu->tlb.large_regions, 0, sizeof(cpu->tlb.large_regions));
}

void tlb_flush_nonglobal(CPUState *cpu)
{
    /* large_regions keeps its bits: global 4 MiB pieces may survive, and a
     * stale bit only costs one sweep at the next INVLPG there. */
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t i = 0; i < TLB_ENTRIES; i++) {
            TLBEntry *e = &cpu->tlb.e[view][i];
            if (!e->global) {
                tlb_entry_invalidate(e);
            }
        }
    }
}

void tlb_flush_page(CPUState *cpu, uint32_t lin)
{
    uint32_t region = lin >> 22;
    uint32_t *word = &cpu->tlb.large_regions[region / 32];
    uint32_t bit = 1u << (region % 32);
    if (*word & bit) {
        for (int view = 0; view < MMU_COUNT; view++) {
            for (uint32_t i = 0; i < TLB_ENTRIES; i++) {
                TLBEntry *e = &cpu->tlb.e[view][i];
                if (tlb_entry_matches(e, lin, 0xffc00000u)) {
                    tlb_entry_invalidate(e);
                }
            }
        }
        *word &= ~bit;
        return;
    }
    for (int view = 0; view < MMU_COUNT; view++) {
        TLBEntry *e = &cpu->tlb.e[view][(lin >> 12) & (TLB_ENTRIES - 1)];
        if (tlb_entry_matches(e, lin, TLB_PAGE_MASK)) {
            tlb_entry_invalidate(e);
        }
    }
}

void tlb_flush_phys_page(CPUState *cpu, uint32_t paddr)
{
    uint32_t phys_page = paddr & TLB_PAGE_MASK;
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t i = 0; i < TLB_ENTRIES; i++) {
            TLBEntry *e = &cpu->tlb.e[view][i];
            if (e->phys == phys_page) {
                tlb_entry_invalidate(e);
            }
        }
    }
}

void mmu_debug_regs_changed(CPUState *cpu)
{
    tlb_flush_all(cpu);
}
