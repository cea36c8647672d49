/*
 * The shadow TLB: a direct-mapped software cache from guest linear pages to
 * host memory, one table per privilege view.
 *
 * Layout is fixed because translated code reads it inline:
 *   entry = &cpu->tlb.e[mmu_idx][tlb_slot(linear)]
 *   hit   = (linear & TLB_PAGE_MASK) == entry->tag[access]   (for an access
 *           that does not cross the page)
 *   host  = (uint8_t *)(uintptr_t)(linear + entry->addend)
 * Any flag bit in a tag (TLB_INVALID, TLB_MMIO, TLB_CODE) makes
 * the compare fail, which sends the access to the slow path in C.
 */
#ifndef SOFTMMU_TLB_H
#define SOFTMMU_TLB_H

#include <stdint.h>

#define TLB_BITS      10
#define TLB_ENTRIES   (1u << TLB_BITS)
#define TLB_PAGE_MASK 0xfffff000u

/*
 * The slot of a linear address: its page number folded with its 4 MiB
 * region number.  Direct-mapped by page number alone, pages a multiple of
 * 4 MiB apart (a copy between power-of-two-sized buffers) evict each other
 * on every access; folding costs translated code two instructions:
 *   slot * sizeof(TLBEntry) = ((lin >> 7) ^ (lin >> 17)) & 0x7fe0
 */
static inline uint32_t tlb_slot(uint32_t lin)
{
    return ((lin >> 12) ^ (lin >> 22)) & (TLB_ENTRIES - 1);
}

/* Tag flag bits (low 12 bits of a tag are free because tags are page aligned). */
#define TLB_INVALID   0x001u /* entry empty */
#define TLB_MMIO      0x002u /* page is MMIO or unmapped: dispatch through softmmu/phys.c */
#define TLB_CODE      0x004u /* write tag only: page holds translated code (SMC check) */

/* Privilege views (SDM Vol.3 4.6: supervisor and user access rights). */
enum { MMU_KERNEL = 0, MMU_USER = 1, MMU_COUNT };

/* Access kinds; index into TLBEntry.tag. */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

typedef struct TLBEntry {
    uint32_t tag[3];   /* [ACC_READ/WRITE/FETCH]: linear page | TLB_* flags */
    uint32_t phys;     /* physical page address of this linear page */
    uint64_t addend;   /* host pointer = linear + addend (mod 2^64) */
    uint32_t global;   /* nonzero: PTE.G with CR4.PGE, survives CR3 writes */
    uint32_t phys_hi;  /* physical page address bits 63:32 (PAE); nonzero: no memory */
} TLBEntry;            /* 32 bytes: index with a shift */

/* 4 MiB linear regions, one bit each in TLB.large_regions. */
#define TLB_LARGE_REGIONS 1024u

typedef struct TLB {
    TLBEntry e[MMU_COUNT][TLB_ENTRIES];
    /* Bit per 4 MiB linear region holding entries filled from a 4 MiB page
     * since the last full flush: INVLPG there must drop every 4 KiB piece of
     * that page (SDM Vol.3 4.10.4.1), not just the one slot it indexes. */
    uint32_t large_regions[TLB_LARGE_REGIONS / 32];
    /* Bit per slot filled since the last full flush, so CR3 writes and
     * physical-page flushes visit only those (a superset of valid slots). */
    uint32_t used[MMU_COUNT][TLB_ENTRIES / 32];
} TLB;

#endif /* SOFTMMU_TLB_H */
