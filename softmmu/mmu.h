/*
 * The MMU behind the shadow TLB: TLB fill and flush, the page walkers
 * (32-bit: 4 KiB and 4 MiB PSE pages; PAE: 4 KiB and 2 MiB pages, NX;
 * 4-level (long mode): 4 KiB, 2 MiB and 1 GiB pages, NX; all: global
 * pages, CR0.WP, Accessed/Dirty),
 * and the slow paths for accesses the inline TLB check refuses (misses,
 * MMIO, page-crossing, writes to code pages).
 *
 * Faults: a failed walk sets CR2 and raises #PF with the SDM Vol.3 4.7 error
 * code through cpu_raise_exception_err(), which does not return.
 *
 * Linear addresses are 64-bit.  Outside long mode they are below 4 GiB
 * (callers pass 32-bit values); in long mode the CPU checks that they are
 * canonical (mmu_canonical) before it gets here, raising #GP or #SS.
 */
#ifndef SOFTMMU_MMU_H
#define SOFTMMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "softmmu/tlb.h"

typedef struct CPUState CPUState;

/* Whether lin is canonical for 48-bit linear addresses: bits 63:47 all
 * equal (SDM Vol.3 3.3.7.1).  A non-canonical reference raises #GP(0), or
 * #SS(0) through SS (SDM Vol.3 6.15); cpu/ checks, softmmu does not. */
static inline bool mmu_canonical(uint64_t lin)
{
    return (uint64_t)((int64_t)(lin << 16) >> 16) == lin;
}

/* MAXPHYADDR under 4-level paging, reported by CPUID 80000008h:EAX[7:0]
 * (QEMU's TCG reports 40 too); PAE paging keeps the P6's 36. */
#define MMU_LM_MAXPHYADDR 40

/* Slow-path accesses.  size 1, 2, 4 or 8; any alignment, may cross a page.
 * A write that crosses a page checks both pages before storing any byte. */
uint64_t mmu_read_slow(CPUState *cpu, uint64_t lin, int size, int mmu_idx, int access);
void mmu_write_slow(CPUState *cpu, uint64_t lin, int size, uint64_t value, int mmu_idx);
/* Fault now if lin..lin+size-1 is not accessible for access (ACC_*). */
void mmu_probe(CPUState *cpu, uint64_t lin, int size, int access, int mmu_idx);

/*
 * Fetch helper for the decoder: a host pointer to the code at lin and how
 * many bytes are readable there without leaving the page (>= 1), filling
 * the TLB (or faulting) as needed.  For MMIO/ROM-less pages returns NULL and
 * the caller fetches byte by byte with mmu_read_slow(.., ACC_FETCH).
 */
const uint8_t *mmu_fetch_ptr(CPUState *cpu, uint64_t lin, int mmu_idx, uint32_t *avail);

/* Walk the page tables for lin.  On success returns true with the physical
 * address (above 4 GiB only under PAE or long mode: no memory there); on
 * failure false with the #PF error code.  set_ad: write the Accessed/Dirty
 * bits as the hardware does (false for debugger look-ups).  32-bit paging
 * in paging.c, PAE paging (CR4.PAE) in paging_pae.c, 4-level paging
 * (EFER.LMA) in paging_lm.c. */
bool paging_walk(CPUState *cpu, uint64_t lin, int access, int mmu_idx, bool set_ad,
                 uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size);
bool paging_pae_walk(CPUState *cpu, uint32_t lin, int access, int mmu_idx, bool set_ad,
                     uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size);
bool paging_lm_walk(CPUState *cpu, uint64_t lin, int access, int mmu_idx, bool set_ad,
                    uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size);
/* Read the four PDPTEs of the PDPT at cr3 (SDM Vol.3 4.4.1) into pdpte;
 * false, with pdpte partly written, when a present one has a reserved bit
 * set (the caller raises #GP(0) and keeps its old registers). */
bool paging_pae_load_pdptes(CPUState *cpu, uint32_t cr3, uint64_t pdpte[4]);

/* Linear to physical with no side effects and no fault (gdb, monitor). */
bool mmu_debug_translate(CPUState *cpu, uint64_t lin, uint32_t *phys);

/* TLB maintenance (SDM Vol.3 4.10.4). */
void tlb_flush_all(CPUState *cpu);       /* CR0.PG/WP, CR4.PSE/PGE changes, A20 */
void tlb_flush_nonglobal(CPUState *cpu); /* MOV CR3 */
void tlb_flush_page(CPUState *cpu, uint64_t lin); /* INVLPG: both views, global too */
/* A fill from a page larger than 4 KiB: mark the regions it covers so
 * INVLPG sweeps for its pieces (softmmu/tlb.c). */
void tlb_note_large_page(CPUState *cpu, uint64_t lin, uint32_t page_size);
/* A fill is replacing e (in view mmu_idx): keep it among the victims. */
void tlb_evict(CPUState *cpu, int mmu_idx, const TLBEntry *e);
/* A victim with a valid tag for lin's page and this access goes back into
 * lin's slot (the entry there takes its place); false if none has one. */
bool tlb_victim_swap(CPUState *cpu, int mmu_idx, uint64_t lin, int access);
/* Drop every entry whose physical page is paddr's page (SMC, remaps),
 * saved contexts' too. */
void tlb_flush_phys_page(CPUState *cpu, uint32_t paddr);

/* TLB contexts (softmmu/tlb_ctx.c).  tlb_ctx_init: at cpu_init, take the
 * memory's paging-structure store listener.  tlb_switch_cr3: MOV CR3, after
 * CR3 and the PDPTEs took their new values: save the running context (its
 * key old_cr3, old_pdpte), flush the non-global entries, restore a saved
 * context for the new CR3 if one is valid.  tlb_ctx_note_walk: a
 * non-global fill from the walk just done.  tlb_ctx_reset: every context
 * dropped (tlb_flush_all).  tlb_ctx_flush_phys_page: saved entries of a
 * physical page dropped (tlb_flush_phys_page). */
void tlb_ctx_init(CPUState *cpu);
void tlb_switch_cr3(CPUState *cpu, uint64_t old_cr3, const uint64_t old_pdpte[4]);
void tlb_ctx_note_walk(CPUState *cpu);
void tlb_ctx_reset(CPUState *cpu);
void tlb_ctx_flush_phys_page(CPUState *cpu, uint64_t phys_page);

/*
 * Data breakpoints (SDM Vol.3 17.2): pages holding an enabled data
 * breakpoint are never cached for reads or writes, so every access to them
 * reaches the slow path, which sets the matching B0-B3 bits in
 * cpu->pending_dr6.  Call this after writing DR0-DR3 or DR7 (it flushes the
 * TLB so the new breakpoints take effect at once).
 */
void mmu_debug_regs_changed(CPUState *cpu);

/*
 * Debugger watchpoints (gdb Z2/Z3/Z4), kept apart from DR0-DR7 so the guest
 * never sees them.  They work like data breakpoints: pages they touch get
 * no READ or WRITE tag, and the slow path matches each data access.  The
 * first hit is recorded and CPU_INTERRUPT_EXIT makes cpu_exec() return once
 * the accessing instruction is complete.  Point cpu->watch at the list and
 * call tlb_flush_all() whenever the list changes.
 */
#define MMU_WATCH_MAX 8
enum { MMU_WATCH_WRITE = 1, MMU_WATCH_READ = 2, MMU_WATCH_ACCESS = 3 };

typedef struct MMUWatch {
    uint32_t lin;  /* first linear address watched */
    uint32_t len;  /* bytes watched, 1..4096 */
    unsigned kind; /* MMU_WATCH_* */
} MMUWatch;

typedef struct MMUWatchList {
    MMUWatch w[MMU_WATCH_MAX];
    int count;
    int hit;          /* index of the first watchpoint hit, -1 for none */
    uint32_t hit_lin; /* the access that hit it */
    bool hit_write;   /* whether that access was a write */
} MMUWatchList;

#endif /* SOFTMMU_MMU_H */
