/*
 * The 32-bit (non-PAE) page walker, and the entry of every walk (PAE
 * paging is paging_pae.c's, 4-level paging paging_lm.c's): SDM Vol.3 4.3 (structures), 4.6 (access
 * rights), 4.7 (#PF error code), 4.8 (Accessed and Dirty flags).
 *
 * It runs on every TLB miss; reading entries, setting A/D and the rights
 * check are shared with the other walkers (paging_entry.h).  Without PAE
 * there is no execute-disable: fetches are reads.
 *
 * Accessed bits are set only by walks that succeed: a walk that faults
 * leaves the tables untouched (the SDM allows either; Bochs does the same).
 */
#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/paging_entry.h"
#include "softmmu/phys.h"

#define PDE_4M_FRAME 0xffc00000u
/* Bits 21:13 of a 4 MiB PDE: PSE-36 address bits we do not implement, so
 * reserved with MAXPHYADDR = 32 (SDM Vol.3 4.3, Table 4-4). */
#define PDE_4M_RSVD 0x003fe000u
#define PT_FRAME    0xfffff000u

bool paging_walk(CPUState *cpu, uint64_t lin64, int access, int mmu_idx, bool set_ad,
                 uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size)
{
    uint32_t a20 = cpu->a20_mask;
    /* Outside long mode linear addresses are 32-bit. */
    uint32_t lin = (uint32_t)lin64;
    cpu->tlb.walk_nframes = 0;
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
    paging_note_table(cpu, pde_addr);
    uint32_t pde = paging_read_entry32(pm, pde_addr);
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
    paging_note_table(cpu, pte_addr);
    uint32_t pte = paging_read_entry32(pm, pte_addr);
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
