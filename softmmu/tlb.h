/*
 * The shadow TLB: a software cache from guest linear pages to host memory,
 * two direct-mapped tables per privilege view (below).
 *
 * Layout is fixed because translated code reads it inline:
 *   entry = &cpu->tlb.e[mmu_idx][tlb_slot(linear)], else [tlb_slot2(linear)]
 *   hit   = (linear & TLB_PAGE_MASK) == entry->tag[access]   (for an access
 *           that does not cross the page)
 *   host  = (uint8_t *)(uintptr_t)(linear + entry->addend)
 * Any flag bit in a tag (TLB_INVALID, TLB_MMIO, TLB_CODE) makes
 * the compare fail, which sends the access to the slow path in C.
 *
 * Linear addresses are 64-bit (long mode), and so are the tags: the whole
 * linear page, so a page above 4 GiB never matches a 32-bit address with
 * the same low bits.  32-bit code compares a zero-extended 32-bit page
 * with the 64-bit tag in the one instruction it used before
 * (cmp r10, [tag] instead of cmp r10d, [tag]: a REX.W bit), and 64-bit
 * code does the same with a 64-bit page.  The 8-byte tags make an entry
 * 64 bytes, one cache line; the alternatives were a second compare of a
 * tag high half on every access, or splitting phys/global into a parallel
 * array, which costs the jump-cache lookup an extra shift (docs/
 * architecture.md has the measurement).
 */
#ifndef SOFTMMU_TLB_H
#define SOFTMMU_TLB_H

#include <stdint.h>

/* 4096 entries per table: against 1024, the i386 guest's fork+exit+wait
 * ran in 0.53-0.55 s instead of 0.64, page faults 0.30-0.32 instead of
 * 0.35, fork+exec of /bin/true 0.36-0.39 instead of 0.43 (guest_bench.py
 * --reps 2, alternated), user-mode compute the same; the index costs the
 * same instructions, and 1 MiB of CPUState, a quarter of it touched. */
#define TLB_BITS      12
#define TLB_ENTRIES   (1u << TLB_BITS)
/* The page of a linear address.  All ones above bit 31, so a 32-bit
 * (uint32_t)/(int32_t) use of it is the 32-bit page mask 0xfffff000. */
#define TLB_PAGE_MASK 0xfffffffffffff000ull

/*
 * Two direct-mapped tables per view, one after the other in TLB.e[view]:
 *
 * The first is indexed by page number alone, which translated code
 * computes in three instructions on every access:
 *   slot * sizeof(TLBEntry) = (lin >> 6) & ((TLB_ENTRIES - 1) << 6)
 * Pages a multiple of 4 MiB apart (a copy between power-of-two-sized
 * buffers) share a slot there, so a fill that replaces an entry for
 * another page moves it to the second table (tlb_evict), indexed by the
 * page number folded with its 4 MiB region number:
 *   slot2 = TLB_ENTRIES + (((lin >> 12) + (lin >> 22)) & (TLB_ENTRIES - 1))
 * where such pages fall apart.  Translated code looks there, out of line,
 * only when the first misses (translator/gen_mem.c), so two pages that
 * share a first slot cost a few instructions each access, not a call into
 * C.  Measured on the i386 guest (tests/bench/guest_bench.py, session 10):
 * the fold on every access cost about 10% of translated code's time
 * (kernel decompression 1.60-1.73 s with it, 1.43-1.47 s without), and
 * dropping it without a second table made the memory workload 15x slower.
 *
 * The fold is an addition, not an XOR: translated code checks an access
 * against the slot of its first byte with the page of its last
 * (translator/gen_mem.c), which is sound only if a page and the page
 * after it never share a slot, in either table.  With XOR, 7FFFFh and
 * 80000h did, and FFFFFh and 0 (a wrap at 4 GiB), and an access across
 * them reached host memory outside guest RAM (tests/bt/test_bt_tlb_slot.c).
 * With the sum, neighbours in a region differ by one slot and across a
 * region boundary by two; by page number alone they always differ by one.
 * Both use bits 12-31 only (32-bit arithmetic in translated code; bits 32
 * and up of a 64-bit address shift out of the mask in C).
 */
static inline uint32_t tlb_slot(uint64_t lin)
{
    return (uint32_t)(lin >> 12) & (TLB_ENTRIES - 1);
}

static inline uint32_t tlb_slot2(uint64_t lin)
{
    return TLB_ENTRIES + (((uint32_t)(lin >> 12) + (uint32_t)(lin >> 22)) & (TLB_ENTRIES - 1));
}

/* Slots per view: both tables. */
#define TLB_SLOTS (2 * TLB_ENTRIES)

/* Tag flag bits (low 12 bits of a tag are free because tags are page aligned). */
#define TLB_INVALID   0x001u /* entry empty */
#define TLB_MMIO      0x002u /* page is MMIO or unmapped: dispatch through softmmu/phys.c */
#define TLB_CODE      0x004u /* write tag only: page holds translated code (SMC check) */
#define TLB_PTWATCH   0x008u /* write tag only: page holds paging structures a saved or the
                              * running TLB context was filled from (softmmu/tlb_ctx.c) */

#define TLB_NO_FRAME 0xffffffffu

/* Privilege views (SDM Vol.3 4.6: supervisor and user access rights). */
enum { MMU_KERNEL = 0, MMU_USER = 1, MMU_COUNT };

/* Access kinds; index into TLBEntry.tag. */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

typedef struct TLBEntry {
    uint64_t tag[3];   /* [ACC_READ/WRITE/FETCH]: linear page | TLB_* flags */
    uint64_t addend;   /* host pointer = linear + addend (mod 2^64) */
    uint32_t phys;     /* physical page address of this linear page */
    uint32_t phys_hi;  /* physical page address bits 63:32 (PAE); nonzero: no memory */
    uint32_t global;   /* nonzero: PTE.G with CR4.PGE, survives CR3 writes */
    uint32_t page_size; /* size of the page this 4 KiB piece was filled from (INVLPG) */
    uint32_t frames[4]; /* page numbers of the paging structures its walk read, top
                         * down, TLB_NO_FRAME after the last (softmmu/tlb_ctx.c);
                         * also makes 64 bytes, one cache line: index with a shift */
} TLBEntry;
_Static_assert(sizeof(TLBEntry) == 64, "translated code indexes the TLB by slot << 6");

/* 4 MiB linear regions, one bit each in TLB.large_regions: the low 4 GiB
 * region by region; above 4 GiB regions share bits modulo 1024 (a shared
 * bit only costs INVLPG a sweep it did not need). */
#define TLB_LARGE_REGIONS 1024u

/*
 * TLB contexts (softmmu/tlb_ctx.c): on MOV CR3 the running address space's
 * non-global entries are saved, tagged by CR3, and a later MOV CR3 back to
 * it puts them back instead of refilling from page walks.  A saved context
 * is dropped as soon as a guest store changes a paging-structure entry any
 * of its walks read; PhysMem.pt_pages has a bit per context on each frame
 * those walks read (bits 0..TLB_CTX_COUNT-1 the saved ones, bit
 * TLB_CTX_RUNNING the running one).  Fixed sizes: nothing grows with the
 * number of processes.
 */
#define TLB_CTX_COUNT   7   /* saved contexts, least recently saved replaced first */
#define TLB_CTX_RUNNING 7   /* PhysMem.pt_pages bit of the running context */
#define TLB_CTX_ENTRIES 256 /* entries a context keeps; more are dropped */
#define TLB_CTX_FRAMES  32  /* paging-structure frames a context may depend on */
#define TLB_CTX_STALE   8   /* of the running one's, changed by stores since its walks */

typedef struct TLBContext {
    TLBEntry e[TLB_CTX_ENTRIES];
    uint16_t where[TLB_CTX_ENTRIES];   /* view << (TLB_BITS + 1) | slot of e[i] */
    uint32_t frames[TLB_CTX_FRAMES];   /* page numbers of the paging structures its walks read */
    uint64_t cr3;                      /* the key: CR3 as written */
    uint64_t pdpte[4];                 /* and, under PAE paging, the PDPTEs it was walked with */
    uint64_t stamp;                    /* when it was saved (replacement order) */
    uint32_t nentries;
    uint32_t nframes;
    bool valid;
} TLBContext;

/* What the contexts did, for tests and `info tlb`-style statistics. */
typedef struct TLBCtxStats {
    uint64_t walks;    /* page walks by TLB fills */
    uint64_t saves;    /* contexts saved at MOV CR3 */
    uint64_t restores; /* contexts put back at MOV CR3 */
    uint64_t entries_restored;
    uint64_t dropped;  /* saved contexts dropped by a store to their paging structures */
    uint64_t run_stale; /* tables of the running context changed by stores: the entries
                         * walked through them are not saved */
    uint64_t tainted;  /* running contexts made unsaveable (tables outside RAM, too many) */
    uint64_t replaced; /* saved contexts replaced to make room */
} TLBCtxStats;

typedef struct TLB {
    TLBEntry e[MMU_COUNT][TLB_SLOTS]; /* [0, TLB_ENTRIES): tlb_slot; then tlb_slot2 */
    /* Bit per 4 MiB linear region holding entries filled from a 4 MiB page
     * since the last full flush: INVLPG there must drop every 4 KiB piece of
     * that page (SDM Vol.3 4.10.4.1), not just the one slot it indexes. */
    uint32_t large_regions[TLB_LARGE_REGIONS / 32];
    /* Bit per slot filled since the last full flush, so CR3 writes and
     * physical-page flushes visit only those (a superset of valid slots). */
    uint32_t used[MMU_COUNT][TLB_SLOTS / 32];
    /* The same for fills of non-global entries since the last CR3 flush:
     * the slots MOV CR3 saves and flushes (a superset again).  Kernel
     * entries are global and most of the used ones; a switch need not
     * visit them. */
    uint32_t nonglobal[MMU_COUNT][TLB_SLOTS / 32];

    /* ---- contexts (softmmu/tlb_ctx.c); translated code never reads these ---- */
    TLBContext ctx[TLB_CTX_COUNT];
    uint32_t run_frames[TLB_CTX_FRAMES]; /* frames the running context's walks read */
    uint32_t run_nframes;
    uint32_t run_stale[TLB_CTX_STALE]; /* those of them stores changed since */
    uint32_t run_nstale;
    bool run_tainted;       /* they did not fit, or are outside RAM: not saveable */
    uint64_t run_cr3;       /* CR3 (and PDPTEs) the running context was started under */
    uint64_t run_pdpte[4];
    uint32_t walk_frames[4]; /* page numbers of the tables the last walk read, top down */
    uint32_t walk_nframes;
    uint64_t ctx_clock;     /* stamps TLBContext.stamp */
    bool ctx_off;           /* contexts disabled: MOV CR3 only flushes */
    TLBCtxStats ctx_stats;
} TLB;

#endif /* SOFTMMU_TLB_H */
