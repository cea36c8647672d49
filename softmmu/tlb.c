/*
 * Shadow TLB invalidation (SDM Vol.3 4.10.4).
 *
 * The TLB caches 4 KiB pieces of pages, so a 4 MiB page may occupy up to
 * 1024 slots.  INVLPG must drop the whole page, so fills from large pages
 * (2 MiB, 4 MiB, 1 GiB) set the bit of every 4 MiB region the page covers
 * (TLB.large_regions, regions above 4 GiB sharing bits modulo 1024), and
 * INVLPG in such a region sweeps the filled slots: it drops every piece in
 * a region that shares the bit (so the bit can be cleared) and every piece
 * of a large page that holds the address (a 1 GiB page spans 256 regions);
 * anywhere else it touches one slot per view.
 *
 * A fill that replaces an entry for another page moves it to the view's
 * second table (softmmu/tlb.h: tlb_slot2), where translated code finds it
 * inline; a miss in C that finds its page there swaps it back into the
 * first.  Every flush treats both tables alike: their entries are cached
 * translations like any other (SDM Vol.3 4.10.2).
 *
 * Every fill or move also sets the slot's bit in TLB.used.  A full flush
 * sweeps every entry of both tables (and so repairs a TLB nobody flushed yet) and
 * clears the bits; physical-page flushes visit only the used slots.
 * Measured on the 2-core build host: a CR3 flush with 64 slots in use takes
 * 0.2-0.35 us against 1.5 us for a full sweep, and breaks even with it when
 * all 1024 slots of a view are in use.  CR3 writes visit fewer still: the
 * slots of TLB.nonglobal, filled with non-global entries, since the global
 * kernel entries that fill most used slots survive them.  Before that, the
 * sweep over the used slots was 6.9% of popek's time in the ctxswitch
 * benchmark (tests/bench/guest_profile.py POPEK build/guest ctxswitch
 * --scale 0.5), with 8 non-global entries per switch on average.
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
static inline bool tlb_entry_matches(const TLBEntry *e, uint64_t lin, uint64_t mask)
{
    for (int k = 0; k < 3; k++) {
        uint64_t tag = e->tag[k];
        if (!(tag & TLB_INVALID) && ((tag ^ lin) & mask) == 0) {
            return true;
        }
    }
    return false;
}

void tlb_flush_all(CPUState *cpu)
{
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t i = 0; i < TLB_SLOTS; i++) {
            tlb_entry_invalidate(&cpu->tlb.e[view][i]);
        }
    }
    memset(cpu->tlb.large_regions, 0, sizeof(cpu->tlb.large_regions));
    memset(cpu->tlb.used, 0, sizeof(cpu->tlb.used));
    memset(cpu->tlb.nonglobal, 0, sizeof(cpu->tlb.nonglobal));
    tlb_ctx_reset(cpu);
    cpu_ras_clear(cpu->bt_ras); /* predicted returns trusted the old mappings */
}

/* Invalidate every used entry (both tables) for which drop(e, arg) holds,
 * and forget its used bit since it holds nothing now. */
static inline void tlb_sweep_used(CPUState *cpu, bool (*drop)(const TLBEntry *e, uint64_t arg),
                                  uint64_t arg)
{
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t w = 0; w < TLB_SLOTS / 32; w++) {
            uint32_t bits = cpu->tlb.used[view][w];
            while (bits) {
                uint32_t slot = w * 32 + (uint32_t)__builtin_ctz(bits);
                bits &= bits - 1;
                TLBEntry *e = &cpu->tlb.e[view][slot];
                if (drop(e, arg)) {
                    tlb_entry_invalidate(e);
                    cpu->tlb.used[view][w] &= ~(1u << (slot % 32));
                }
            }
        }
    }
}

void tlb_flush_nonglobal(CPUState *cpu)
{
    /* large_regions keeps its bits: global 4 MiB pieces may survive, and a
     * stale bit only costs one sweep at the next INVLPG there.  Only slots
     * filled with non-global entries need a visit. */
    for (int view = 0; view < MMU_COUNT; view++) {
        for (uint32_t w = 0; w < TLB_SLOTS / 32; w++) {
            uint32_t bits = cpu->tlb.nonglobal[view][w];
            while (bits) {
                uint32_t slot = w * 32 + (uint32_t)__builtin_ctz(bits);
                bits &= bits - 1;
                TLBEntry *e = &cpu->tlb.e[view][slot];
                if (!e->global) {
                    tlb_entry_invalidate(e);
                    cpu->tlb.used[view][w] &= ~(1u << (slot % 32));
                }
            }
            cpu->tlb.nonglobal[view][w] = 0;
        }
    }
    cpu_ras_clear(cpu->bt_ras);
}

/* The region bit of a linear address: its 4 MiB region modulo 1024. */
static inline uint32_t tlb_region_bit(uint64_t lin)
{
    return (uint32_t)(lin >> 22) % TLB_LARGE_REGIONS;
}

/* A piece in lin's region (modulo the bit sharing), or of a large page
 * that holds lin. */
static bool tlb_in_large_region(const TLBEntry *e, uint64_t lin)
{
    for (int k = 0; k < 3; k++) {
        uint64_t tag = e->tag[k];
        if (tag & TLB_INVALID) {
            continue;
        }
        if (tlb_region_bit(tag) == tlb_region_bit(lin) ||
            ((tag ^ lin) & ~((uint64_t)e->page_size - 1)) == 0) {
            return true;
        }
    }
    return false;
}

void tlb_note_large_page(CPUState *cpu, uint64_t lin, uint32_t page_size)
{
    uint64_t base = lin & ~((uint64_t)page_size - 1);
    uint32_t regions = page_size >> 22 ? page_size >> 22 : 1;
    for (uint32_t i = 0; i < regions && i < TLB_LARGE_REGIONS; i++) {
        uint32_t region = tlb_region_bit(base + ((uint64_t)i << 22));
        cpu->tlb.large_regions[region / 32] |= 1u << (region % 32);
    }
}

void tlb_flush_page(CPUState *cpu, uint64_t lin)
{
    cpu_ras_clear(cpu->bt_ras);
    uint32_t region = tlb_region_bit(lin);
    uint32_t *word = &cpu->tlb.large_regions[region / 32];
    uint32_t bit = 1u << (region % 32);
    if (*word & bit) {
        tlb_sweep_used(cpu, tlb_in_large_region, lin);
        *word &= ~bit;
        return;
    }
    for (int view = 0; view < MMU_COUNT; view++) {
        TLBEntry *e = &cpu->tlb.e[view][tlb_slot(lin)];
        if (tlb_entry_matches(e, lin, TLB_PAGE_MASK)) {
            tlb_entry_invalidate(e);
        }
        e = &cpu->tlb.e[view][tlb_slot2(lin)];
        if (tlb_entry_matches(e, lin, TLB_PAGE_MASK)) {
            tlb_entry_invalidate(e);
        }
    }
}

/* The page e holds, from any valid tag; false when it holds none. */
static bool tlb_entry_page(const TLBEntry *e, uint64_t *page)
{
    for (int k = 0; k < 3; k++) {
        if (!(e->tag[k] & TLB_INVALID)) {
            *page = e->tag[k] & TLB_PAGE_MASK;
            return true;
        }
    }
    return false;
}

/* Mark slot (of either table) filled, for the flushes that visit bits. */
static void tlb_note_slot(CPUState *cpu, int mmu_idx, uint32_t slot, bool global)
{
    cpu->tlb.used[mmu_idx][slot / 32] |= 1u << (slot % 32);
    if (!global) {
        cpu->tlb.nonglobal[mmu_idx][slot / 32] |= 1u << (slot % 32);
    }
}

void tlb_evict(CPUState *cpu, int mmu_idx, const TLBEntry *e)
{
    uint64_t page;
    if (!tlb_entry_page(e, &page)) {
        return;
    }
    uint32_t slot = tlb_slot2(page);
    cpu->tlb.e[mmu_idx][slot] = *e;
    /* Its large-page region bit is still set: the flush that clears one
     * sweeps both tables. */
    tlb_note_slot(cpu, mmu_idx, slot, e->global);
}

bool tlb_victim_swap(CPUState *cpu, int mmu_idx, uint64_t lin, int access)
{
    uint64_t page = lin & TLB_PAGE_MASK;
    TLBEntry *v = &cpu->tlb.e[mmu_idx][tlb_slot2(lin)];
    if ((v->tag[access] & (TLB_PAGE_MASK | TLB_INVALID)) != page) {
        return false;
    }
    uint32_t slot = tlb_slot(lin);
    TLBEntry *e = &cpu->tlb.e[mmu_idx][slot];
    TLBEntry old = *e;
    *e = *v;
    tlb_entry_invalidate(v);
    tlb_note_slot(cpu, mmu_idx, slot, e->global);
    tlb_evict(cpu, mmu_idx, &old); /* the first slot's page, if any, to its own second slot */
    return true;
}

static bool tlb_maps_phys_page(const TLBEntry *e, uint64_t phys_page)
{
    return e->phys == (uint32_t)phys_page && e->phys_hi == 0;
}

void tlb_flush_phys_page(CPUState *cpu, uint32_t paddr)
{
    tlb_sweep_used(cpu, tlb_maps_phys_page, paddr & TLB_PAGE_MASK);
    tlb_ctx_flush_phys_page(cpu, paddr & TLB_PAGE_MASK);
}

void mmu_debug_regs_changed(CPUState *cpu)
{
    tlb_flush_all(cpu);
}
