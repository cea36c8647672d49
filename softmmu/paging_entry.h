/*
 * What the three page walkers share (paging.c: 32-bit, paging_pae.c: PAE,
 * paging_lm.c: 4-level): the entry bits every format keeps in the same
 * place, reading an entry, setting its Accessed/Dirty bits, and the access
 * rights check of SDM Vol.3 4.6.1.  Private to softmmu/'s walkers.
 *
 * Entries are read straight from the RAM mapping whenever their page is
 * plain RAM, and through phys_read() for the odd guest that keeps paging
 * structures in ROM or nowhere at all (which reads all ones, as the bus
 * does).  A/D updates go through phys_write(), so they mark the page dirty
 * and reach the code-write hook like any other store; they happen only
 * when a bit actually changes, and only the low dword (which holds both).
 */
#ifndef SOFTMMU_PAGING_ENTRY_H
#define SOFTMMU_PAGING_ENTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/phys.h"

/* Paging-structure entry bits (SDM Vol.3 Tables 4-5, 4-9 to 4-11, 4-14 to 4-19). */
#define PTE_P  0x001u       /* present */
#define PTE_RW 0x002u       /* writes allowed */
#define PTE_US 0x004u       /* user-mode accesses allowed */
#define PTE_A  0x020u       /* accessed */
#define PTE_D  0x040u       /* dirty (in an entry that maps a page) */
#define PTE_PS 0x080u       /* maps a large page (PDE; PDPTE in 4-level paging) */
#define PTE_G  0x100u       /* global (with CR4.PGE), in an entry that maps a page */
#define PTE_XD (1ull << 63) /* execute-disable with EFER.NXE (8-byte entries) */

#define PAGE_4K 0x1000u
#define PAGE_2M 0x200000u
#define PAGE_4M 0x400000u
#define PAGE_1G 0x40000000u

/* Note the page of a paging structure the walk reads an entry from; a fill
 * makes the running TLB context depend on it (softmmu/tlb_ctx.c).  No walk
 * reads more than four (4-level paging); paging_walk() starts the list. */
static inline void paging_note_table(CPUState *cpu, uint64_t entry_addr)
{
    cpu->tlb.walk_frames[cpu->tlb.walk_nframes++ & 3] = (uint32_t)(entry_addr >> 12);
}

/* A 4-byte entry (32-bit paging). */
static inline uint32_t paging_read_entry32(PhysMem *pm, uint32_t paddr)
{
    const uint8_t *p = phys_ram_page(pm, paddr);
    if (p) {
        uint32_t entry;
        memcpy(&entry, p, 4);
        return entry;
    }
    return phys_read(pm, paddr, 4);
}

/* An 8-byte entry (PAE and 4-level paging); all ones above 4 GiB, where
 * popek has nothing: reserved bits set, so the walk faults with RSVD. */
static inline uint64_t paging_read_entry64(PhysMem *pm, uint64_t paddr)
{
    if (paddr > 0xfffffff8ull) {
        return ~0ull;
    }
    const uint8_t *p = phys_ram_page(pm, (uint32_t)paddr);
    uint64_t entry;
    if (p) {
        memcpy(&entry, p, 8);
        return entry;
    }
    entry = phys_read(pm, (uint32_t)paddr, 4);
    return entry | (uint64_t)phys_read(pm, (uint32_t)paddr + 4, 4) << 32;
}

/* Set Accessed (and Dirty) in an entry the walk used, if not set yet.  An
 * entry a walk succeeded through lies below 4 GiB. */
static inline void paging_update_entry(PhysMem *pm, uint64_t paddr, uint64_t entry, uint32_t bits)
{
    if (((uint32_t)entry & bits) != bits) {
        phys_write(pm, (uint32_t)paddr, (uint32_t)entry | bits, 4);
    }
}

/*
 * SDM Vol.3 4.6.1 with the rights of every level combined (the AND of R/W
 * and of U/S).  User accesses need U/S=1, and R/W=1 to write; supervisor
 * accesses may read anything and write a read-only page only when
 * CR0.WP=0.  Execute rights (NX) are the caller's.
 */
static inline bool paging_allowed(const CPUState *cpu, uint64_t rights, bool write, bool user)
{
    if (user && !(rights & PTE_US)) {
        return false;
    }
    if (write && !(rights & PTE_RW)) {
        return !user && !(cpu->cr0 & CR0_WP);
    }
    return true;
}

#endif /* SOFTMMU_PAGING_ENTRY_H */
