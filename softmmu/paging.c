/*
 * The 32-bit (non-PAE) page walker, and the entry of every walk (PAE
 * paging is paging_pae.c's, 4-level paging paging_lm.c's): SDM Vol.3 4.3 (structures), 4.6 (access
 * rights), 4.7 (#PF error code), 4.8 (Accessed and Dirty flags).
 *
 * It runs on every TLB miss, so it reads the page directory and page table
 * straight from the RAM mapping whenever their pages are plain RAM, and
 * falls back to phys_read() for the odd guest that keeps page tables in ROM
 * or nowhere at all (which reads all ones, as the bus does).  A/D updates go
 * through phys_write() so they mark the page dirty and reach the code-write
 * hook like any other store; they happen only when a bit actually changes.
 *
 * Accessed bits are set only by walks that succeed: a walk that faults
 * leaves the tables untouched (the SDM allows either; Bochs does the same).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

/* Paging-structure entry bits (SDM Vol.3 Tables 4-5, 4-6). */
#define PTE_P  0x001u /* present */
#define PTE_RW 0x002u /* writes allowed */
#define PTE_US 0x004u /* user-mode accesses allowed */
#define PTE_A  0x020u /* accessed */
#define PTE_D  0x040u /* dirty (PTE, or PDE mapping a 4 MiB page) */
#define PTE_PS 0x080u /* PDE: maps a 4 MiB page (with CR4.PSE) */
#define PTE_G  0x100u /* global (with CR4.PGE) */

#define PDE_4M_FRAME 0xffc00000u
/* Bits 21:13 of a 4 MiB PDE: PSE-36 address bits we do not implement, so
 * reserved with MAXPHYADDR = 32 (SDM Vol.3 4.3, Table 4-4). */
#define PDE_4M_RSVD 0x003fe000u
#define PT_FRAME    0xfffff000u

#define PAGE_4K 0x1000u
#define PAGE_4M 0x400000u

static inline uint32_t paging_read_entry(PhysMem *pm, uint32_t paddr)
{
    const uint8_t *p = phys_ram_page(pm, paddr);
    if (p) {
        uint32_t entry;
        memcpy(&entry, p, 4);
        return entry;
    }
    return phys_read(pm, paddr, 4);
}

/* Set Accessed (and Dirty) in an entry the walk used, if not set yet. */
static inline void paging_update_entry(PhysMem *pm, uint32_t paddr, uint32_t entry, uint32_t bits)
{
    if ((entry & bits) != bits) {
        phys_write(pm, paddr, entry | bits, 4);
    }
}

/*
 * SDM Vol.3 4.6.1 with the rights of both levels combined (AND of R/W and of
 * U/S).  User accesses need U/S=1, and R/W=1 to write.  Supervisor accesses
 * may read anything and may write a read-only page only when CR0.WP=0.
 * Fetches are reads: without PAE there is no execute-disable.
 */
static inline bool paging_allowed(const CPUState *cpu, uint32_t rights, bool write, bool user)
{
    if (user && !(rights & PTE_US)) {
        return false;
    }
    if (write && !(rights & PTE_RW)) {
        return !user && !(cpu->cr0 & CR0_WP);
    }
    return true;
}

bool paging_walk(CPUState *cpu, uint64_t lin64, int access, int mmu_idx, bool set_ad,
                 uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size)
{
    uint32_t a20 = cpu->a20_mask;
    /* Outside long mode linear addresses are 32-bit. */
    uint32_t lin = (uint32_t)lin64;
    if (!(cpu->cr0 & CR0_PG)) {
        *phys = lin & a20;
        *global = false;
        *page_size = PAGE_4K;
        return true;
    }
    if (cpu->efer & EFER_LMA) {
        return paging_lm_walk(cpu, lin64, access, mmu_idx, set_ad, phys, pf_error, global,
                              page_size);
    }
    if (cpu->cr4 & CR4_PAE) {
        return paging_pae_walk(cpu, lin, access, mmu_idx, set_ad, phys, pf_error, global,
                               page_size);
    }

    PhysMem *pm = cpu->phys;
    bool write = access == ACC_WRITE;
    bool user = mmu_idx == MMU_USER;
    /* SDM Vol.3 4.7: W and U describe the access, P whether it found a
     * present entry (protection) or not. */
    uint32_t err = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0);

    uint32_t pde_addr = ((cpu->cr3 & PT_FRAME) | ((lin >> 20) & 0xffc)) & a20;
    uint32_t pde = paging_read_entry(pm, pde_addr);
    if (!(pde & PTE_P)) {
        *pf_error = err;
        return false;
    }

    if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
        if (pde & PDE_4M_RSVD) {
            *pf_error = err | PF_ERR_P | PF_ERR_RSVD;
            return false;
        }
        if (!paging_allowed(cpu, pde, write, user)) {
            *pf_error = err | PF_ERR_P;
            return false;
        }
        if (set_ad) {
            paging_update_entry(pm, pde_addr, pde, PTE_A | (write ? PTE_D : 0));
        }
        *phys = ((pde & PDE_4M_FRAME) | (lin & (PAGE_4M - 1))) & a20;
        *global = (pde & PTE_G) && (cpu->cr4 & CR4_PGE);
        *page_size = PAGE_4M;
        return true;
    }

    uint32_t pte_addr = ((pde & PT_FRAME) | ((lin >> 10) & 0xffc)) & a20;
    uint32_t pte = paging_read_entry(pm, pte_addr);
    if (!(pte & PTE_P)) {
        *pf_error = err;
        return false;
    }
    if (!paging_allowed(cpu, pde & pte, write, user)) {
        *pf_error = err | PF_ERR_P;
        return false;
    }
    if (set_ad) {
        paging_update_entry(pm, pde_addr, pde, PTE_A);
        paging_update_entry(pm, pte_addr, pte, PTE_A | (write ? PTE_D : 0));
    }
    *phys = ((pte & PT_FRAME) | (lin & (PAGE_4K - 1))) & a20;
    *global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
    *page_size = PAGE_4K;
    return true;
}
