/*
 * The PAE page walker (SDM Vol.3 4.4): CR3 -> four PDPTE registers -> page
 * directory -> page table, 8-byte entries, 2 MiB pages, and with
 * IA32_EFER.NXE the execute-disable bit (XD, bit 63).
 *
 * The PDPTEs are not read by walks: MOV CR3, and the CR0/CR4 writes that
 * enter PAE paging or change its caching or paging bits, load them into
 * CPUState.pdpte (SDM Vol.3 4.4.1), and a reserved bit in a present PDPTE
 * fails that load with #GP(0) instead of a later #PF.
 *
 * MAXPHYADDR is 36, as on the P6 and the Pentium 4 without CPUID
 * 80000008h: entry bits 35:32 are address bits, 62:36 (and 63 with NXE
 * off) reserved.  popek's physical address space ends at 4 GiB, so a
 * frame above it is no memory at all: reads give all ones and writes
 * vanish, as on a bus where nothing answers (mmu.c), and a paging
 * structure there reads as all ones, which has reserved bits set.
 *
 * Reserved bits in a present entry fault with P=1 and RSVD=1 whatever the
 * access (SDM Vol.3 4.7).  With NXE, every #PF on an instruction fetch
 * sets I/D (bit 4), and a fetch from a page whose PDE or PTE has XD set
 * faults with P=1.  Accessed bits are set only by walks that succeed, as
 * in paging.c.
 */
#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/paging_entry.h"
#include "softmmu/phys.h"

#define PAE_MAXPHYADDR 36
/* Bits 62:MAXPHYADDR of a PDE or PTE (SDM Vol.3 Tables 4-9 to 4-11). */
#define PAE_RSVD_HIGH (((1ull << 63) - 1) & ~((1ull << PAE_MAXPHYADDR) - 1))
#define PAE_FRAME     (((1ull << PAE_MAXPHYADDR) - 1) & ~0xfffull)
/* A 2 MiB PDE: bits 20:13 are reserved (bit 12 is PAT). */
#define PAE_2M_RSVD  0x00000000001fe000ull
#define PAE_2M_FRAME (((1ull << PAE_MAXPHYADDR) - 1) & ~0x1fffffull)
/* A PDPTE: 63:MAXPHYADDR, 8:5 and 2:1 are reserved (SDM Vol.3 Table 4-8). */
#define PDPTE_RSVD (~((1ull << PAE_MAXPHYADDR) - 1) | 0x1e6ull)

bool paging_pae_load_pdptes(CPUState *cpu, uint32_t cr3, uint64_t pdpte[4])
{
    /* CR3 bits 31:5 address the 32-byte-aligned PDPT (SDM Vol.3 4.4.1). */
    uint32_t base = (cr3 & 0xffffffe0u) & cpu->a20_mask;
    for (int i = 0; i < 4; i++) {
        uint64_t e = paging_read_entry64(cpu->phys, base + 8u * (uint32_t)i);
        if ((e & PTE_P) && (e & PDPTE_RSVD)) {
            return false;
        }
        pdpte[i] = e;
    }
    return true;
}

bool paging_pae_walk(CPUState *cpu, uint32_t lin, int access, int mmu_idx, bool set_ad,
                     uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size)
{
    PhysMem *pm = cpu->phys;
    bool write = access == ACC_WRITE;
    bool user = mmu_idx == MMU_USER;
    bool nxe = (cpu->efer & EFER_NXE) != 0;
    uint32_t err = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0) |
                   (access == ACC_FETCH && nxe ? PF_ERR_I : 0);
    /* Bit 63 is reserved unless NXE is on. */
    uint64_t rsvd = PAE_RSVD_HIGH | (nxe ? 0 : PTE_XD);
    /* A20 masking applies to every physical address, as in paging.c. */
    uint64_t a20 = 0xffffffff00000000ull | cpu->a20_mask;

    uint64_t pdpte = cpu->pdpte[lin >> 30];
    if (!(pdpte & PTE_P)) {
        *pf_error = err;
        return false;
    }
    uint64_t pde_addr = ((pdpte & PAE_FRAME) | ((lin >> 18) & 0xff8u)) & a20;
    paging_note_table(cpu, pde_addr);
    uint64_t pde = paging_read_entry64(pm, pde_addr);
    if (!(pde & PTE_P)) {
        *pf_error = err;
        return false;
    }
    if (pde & PTE_PS) {
        if (pde & (rsvd | PAE_2M_RSVD)) {
            *pf_error = err | PF_ERR_P | PF_ERR_RSVD;
            return false;
        }
        if (!paging_allowed(cpu, pde, write, user) || (access == ACC_FETCH && (pde & PTE_XD))) {
            *pf_error = err | PF_ERR_P;
            return false;
        }
        if (set_ad) {
            paging_update_entry(pm, pde_addr, pde, PTE_A | (write ? PTE_D : 0));
        }
        *phys = ((pde & PAE_2M_FRAME) | (lin & (PAGE_2M - 1))) & a20;
        *global = (pde & PTE_G) && (cpu->cr4 & CR4_PGE);
        *page_size = PAGE_2M;
        return true;
    }
    if (pde & rsvd) {
        *pf_error = err | PF_ERR_P | PF_ERR_RSVD;
        return false;
    }
    uint64_t pte_addr = ((pde & PAE_FRAME) | ((lin >> 9) & 0xff8u)) & a20;
    paging_note_table(cpu, pte_addr);
    uint64_t pte = paging_read_entry64(pm, pte_addr);
    if (!(pte & PTE_P)) {
        *pf_error = err;
        return false;
    }
    if (pte & rsvd) {
        *pf_error = err | PF_ERR_P | PF_ERR_RSVD;
        return false;
    }
    if (!paging_allowed(cpu, pde & pte, write, user) ||
        (access == ACC_FETCH && ((pde | pte) & PTE_XD))) {
        *pf_error = err | PF_ERR_P;
        return false;
    }
    if (set_ad) {
        paging_update_entry(pm, pde_addr, pde, PTE_A);
        paging_update_entry(pm, pte_addr, pte, PTE_A | (write ? PTE_D : 0));
    }
    *phys = ((pte & PAE_FRAME) | (lin & (PAGE_4K - 1))) & a20;
    *global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
    *page_size = PAGE_4K;
    return true;
}
