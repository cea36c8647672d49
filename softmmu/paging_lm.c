/*
 * The 4-level page walker of long mode (SDM Vol.3 4.5, "4-level paging"):
 * CR3 -> PML4 -> PDPT -> page directory -> page table, 8-byte entries,
 * 4 KiB pages, 2 MiB pages (PDE.PS), 1 GiB pages (PDPTE.PS, only on a CPU
 * model that reports Page1GB, CPUID.80000001h:EDX[26]), and with
 * IA32_EFER.NXE the execute-disable bit (XD, bit 63).  paging.c selects it
 * whenever IA32_EFER.LMA is set, in 64-bit and in compatibility mode.
 *
 * Access rights accumulate over the levels (SDM Vol.3 4.6.1): a user
 * access needs U/S = 1 in every entry, a write R/W = 1 in every entry (a
 * supervisor write only with CR0.WP = 1), and a fetch faults if any entry
 * has XD set.  SMEP and SMAP are not implemented: no model reports them,
 * so CR4 cannot enable them.
 *
 * MAXPHYADDR is MMU_LM_MAXPHYADDR (40, what CPUID 80000008h reports, as
 * QEMU's TCG does): entry bits 51:40 are reserved, 62:52 ignored, bit 63
 * reserved with NXE off; PML4E.PS is reserved, and so is PDPTE.PS without
 * 1 GiB pages; a 1 GiB PDPTE reserves bits 29:13 and a 2 MiB PDE bits
 * 20:13 (bit 12 is PAT).  A reserved bit in a present entry faults with
 * P = 1 and RSVD = 1 whatever the access (SDM Vol.3 4.7).  As in PAE
 * paging, with NXE every #PF on a fetch sets I/D.
 *
 * popek's physical address space ends at 4 GiB: a paging structure above
 * it reads as all ones (reserved bits set, so RSVD), and a page above it
 * is no memory (mmu.c).  A20 masking does not apply: A20M# is not
 * supported in IA-32e mode.  Accessed bits are set only by walks that
 * succeed, as in paging.c; linear addresses are canonical (the CPU checks
 * before it gets here), so bits 63:48 play no part.
 */
#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/paging_entry.h"
#include "softmmu/phys.h"

/* Bits 51:MAXPHYADDR of every entry (SDM Vol.3 Tables 4-14 to 4-19). */
#define LM_RSVD_HIGH (((1ull << 52) - 1) & ~((1ull << MMU_LM_MAXPHYADDR) - 1))
#define LM_FRAME     (((1ull << MMU_LM_MAXPHYADDR) - 1) & ~0xfffull)
#define LM_2M_RSVD   0x00000000001fe000ull /* bits 20:13 */
#define LM_2M_FRAME  (((1ull << MMU_LM_MAXPHYADDR) - 1) & ~0x1fffffull)
#define LM_1G_RSVD   0x000000003fffe000ull /* bits 29:13 */
#define LM_1G_FRAME  (((1ull << MMU_LM_MAXPHYADDR) - 1) & ~0x3fffffffull)

/* One walk's state: the levels visited so far. */
typedef struct LMWalk {
    uint64_t addr[4];  /* physical address of the entry used at each level */
    uint64_t entry[4]; /* its value */
    int levels;        /* how many are valid */
} LMWalk;

bool paging_lm_walk(CPUState *cpu, uint64_t lin, int access, int mmu_idx, bool set_ad,
                    uint64_t *phys, uint32_t *pf_error, bool *global, uint32_t *page_size)
{
    PhysMem *pm = cpu->phys;
    bool write = access == ACC_WRITE;
    bool user = mmu_idx == MMU_USER;
    bool nxe = (cpu->efer & EFER_NXE) != 0;
    bool gib = (cpu->cpuid.ext_edx & CPUID_EXT_PDPE1GB) != 0;
    uint32_t err = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0) |
                   (access == ACC_FETCH && nxe ? PF_ERR_I : 0);
    uint64_t rsvd = LM_RSVD_HIGH | (nxe ? 0 : PTE_XD);

    LMWalk w = {.levels = 0};
    uint64_t table = (uint64_t)cpu->cr3 & LM_FRAME;
    uint64_t rights = PTE_RW | PTE_US; /* AND over the levels */
    uint64_t xd = 0;                   /* OR over the levels */
    uint64_t frame = 0;
    uint32_t size = PAGE_4K;
    /* Level 3 is the PML4, 0 the page table; shift picks the index bits. */
    for (int level = 3; level >= 0; level--) {
        int shift = 12 + 9 * level;
        uint64_t addr = table | (((lin >> shift) & 0x1ff) << 3);
        paging_note_table(cpu, addr);
        uint64_t entry = paging_read_entry64(pm, addr);
        if (!(entry & PTE_P)) {
            *pf_error = err;
            return false;
        }
        uint64_t bad = entry & rsvd;
        bool leaf = level == 0;
        if (level == 3) {
            bad |= entry & PTE_PS; /* PML4E.PS is reserved */
        } else if (level == 2 && (entry & PTE_PS)) {
            if (!gib) {
                bad |= PTE_PS; /* without 1 GiB pages PDPTE.PS is reserved */
            }
            bad |= entry & LM_1G_RSVD;
            leaf = true;
            size = PAGE_1G;
        } else if (level == 1 && (entry & PTE_PS)) {
            bad |= entry & LM_2M_RSVD;
            leaf = true;
            size = PAGE_2M;
        }
        if (bad) {
            *pf_error = err | PF_ERR_P | PF_ERR_RSVD;
            return false;
        }
        rights &= entry;
        xd |= entry & PTE_XD;
        w.addr[w.levels] = addr;
        w.entry[w.levels] = entry;
        w.levels++;
        if (leaf) {
            frame = entry & (size == PAGE_1G ? LM_1G_FRAME : size == PAGE_2M ? LM_2M_FRAME
                                                                             : LM_FRAME);
            break;
        }
        table = entry & LM_FRAME;
    }

    if (!paging_allowed(cpu, rights, write, user) || (access == ACC_FETCH && nxe && xd)) {
        *pf_error = err | PF_ERR_P;
        return false;
    }
    if (set_ad) {
        for (int i = 0; i < w.levels - 1; i++) {
            paging_update_entry(pm, w.addr[i], w.entry[i], PTE_A);
        }
        int last = w.levels - 1;
        paging_update_entry(pm, w.addr[last], w.entry[last], PTE_A | (write ? PTE_D : 0));
    }
    uint64_t leaf_entry = w.entry[w.levels - 1];
    *phys = frame | (lin & (size - 1));
    *global = (leaf_entry & PTE_G) && (cpu->cr4 & CR4_PGE);
    *page_size = size;
    return true;
}
