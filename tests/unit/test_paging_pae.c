/*
 * softmmu/paging_pae.c and the PAE parts of cpu/sysreg.c: the PAE walk
 * against the SDM rules (Vol.3 4.4 structures and PDPTE loading, 4.6
 * access rights with execute-disable, 4.7 error codes with RSVD and I/D,
 * 4.8 A/D bits, 4.10 global pages) and IA32_EFER.
 *
 * Tables are built by hand in guest RAM: the PDPT at PDPT, the page
 * directory of the first GiB at PD, one page table at PT for linear
 * 0x00400000-0x005fffff (PDE 2).
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MIB  (1024u * 1024u)
#define PDPT 0x1000u
#define PD   0x2000u
#define PT   0x3000u
#define PD2  0x4000u /* a second page directory, for PDPTE caching */

#define P  0x001ull
#define RW 0x002ull
#define US 0x004ull
#define A  0x020ull
#define D  0x040ull
#define PS 0x080ull
#define G  0x100ull
#define XD (1ull << 63)

#define LIN   0x00400000u /* PDPTE 0, PDE 2, PTE 0 */
#define FRAME 0x6000u
#define LIN2M 0x00800000u /* PDE 4: 2 MiB pages */

static PhysMem pm;
static CPUState *cpu;

static void put64(uint32_t paddr, uint64_t v)
{
    /* Through the bus, as a guest or device store: the TLB contexts see
     * paging-structure stores there (softmmu/tlb_ctx.c). */
    phys_write_buf(&pm, paddr, &v, 8);
}

static uint64_t get64(uint32_t paddr)
{
    uint64_t v;
    memcpy(&v, pm.ram + paddr, 8);
    return v;
}

static void set_pde(uint32_t lin, uint64_t v)
{
    put64(PD + ((lin >> 21) & 0x1ff) * 8, v);
}

static uint64_t pde_of(uint32_t lin)
{
    return get64(PD + ((lin >> 21) & 0x1ff) * 8);
}

static void set_pte(uint32_t lin, uint64_t v)
{
    put64(PT + ((lin >> 12) & 0x1ff) * 8, v);
}

static uint64_t pte_of(uint32_t lin)
{
    return get64(PT + ((lin >> 12) & 0x1ff) * 8);
}

/* Run f(arg) with a landing pad for #GP/#PF; returns the vector or -1. */
static int guarded(void (*f)(uint32_t), uint32_t arg)
{
    if (setjmp(cpu->jmp_env)) {
        int v = cpu->exception_vector;
        cpu->exception_vector = -1;
        return v;
    }
    f(arg);
    return -1;
}

static void write_cr0(uint32_t v)
{
    cpu_write_cr0(cpu, v);
}

static void write_cr3(uint32_t v)
{
    cpu_write_cr3(cpu, v);
}

static void write_cr4(uint32_t v)
{
    cpu_write_cr4(cpu, v);
}

static void setup(void)
{
    ck_assert(phys_init(&pm, 16 * MIB));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu_init(cpu, &pm, NULL); /* the default model: PAE and NX */
    put64(PDPT, PD | P);
    set_pde(LIN, PT | P | RW | US);
    set_pte(LIN, FRAME | P | RW | US);
    /* Into protected mode with PAE paging, the way a kernel does it. */
    cpu_write_cr0(cpu, CR0_PE);
    cpu_write_cr4(cpu, CR4_PAE);
    cpu_write_cr3(cpu, PDPT);
    ck_assert_int_eq(guarded(write_cr0, CR0_PE | CR0_PG | CR0_WP), -1);
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

typedef struct Outcome {
    bool ok;
    uint32_t value;
    uint32_t error;
    uint32_t cr2;
} Outcome;

static Outcome fault_outcome(void)
{
    Outcome o = {.ok = false, .error = cpu->exception_error, .cr2 = cpu->cr2};
    ck_assert_int_eq(cpu->exception_vector, EXC_PF);
    cpu->exception_vector = -1;
    return o;
}

static Outcome do_access(uint32_t lin, int access, int mmu_idx, uint32_t value)
{
    if (setjmp(cpu->jmp_env)) {
        return fault_outcome();
    }
    Outcome o = {.ok = true};
    if (access == ACC_WRITE) {
        mmu_write_slow(cpu, lin, 4, value, mmu_idx);
    } else {
        o.value = mmu_read_slow(cpu, lin, 4, mmu_idx, access);
    }
    return o;
}

/*
 * Every combination of PDE and PTE U/S, R/W and XD, EFER.NXE, CR0.WP,
 * user/supervisor and read/write/fetch (2^8 x 2 x 3 = 1536).  The SDM's
 * rules, restated here: with NXE off bit 63 is reserved, so a present
 * entry with it set faults with P and RSVD whatever the access; otherwise
 * the rights are the AND of both levels, a user access needs U/S=1 and
 * R/W=1 to write, a supervisor write to a read-only page faults only with
 * CR0.WP, and a fetch from a page whose PDE or PTE has XD faults (both
 * privilege levels).  The error code has W and U/S from the access, and
 * I/D on every fetch fault when NXE is on.  A success sets A in both
 * entries and D in the PTE on a write; a fault touches nothing.
 */
START_TEST(test_pae_rights_matrix)
{
    static const int accesses[3] = {ACC_READ, ACC_WRITE, ACC_FETCH};
    for (int combo = 0; combo < 512; combo++) {
        bool pde_us = combo & 1, pde_rw = combo & 2, pte_us = combo & 4, pte_rw = combo & 8;
        bool pde_xd = combo & 16, pte_xd = combo & 32, nxe = combo & 64, wp = combo & 128;
        bool user = combo & 256;
        for (int k = 0; k < 3; k++) {
            int access = accesses[k];
            bool write = access == ACC_WRITE, fetch = access == ACC_FETCH;
            uint64_t pde = PT | P | (pde_us ? US : 0) | (pde_rw ? RW : 0) | (pde_xd ? XD : 0);
            uint64_t pte = FRAME | P | (pte_us ? US : 0) | (pte_rw ? RW : 0) | (pte_xd ? XD : 0);
            set_pde(LIN, pde);
            set_pte(LIN, pte);
            cpu->cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
            cpu->efer = nxe ? EFER_NXE : 0;
            tlb_flush_all(cpu);
            put64(FRAME + 0x10, 0x11111111);

            bool rsvd = !nxe && (pde_xd || pte_xd);
            bool rights = user ? (pde_us && pte_us && (!write || (pde_rw && pte_rw)))
                               : (!write || (pde_rw && pte_rw) || !wp);
            bool exec = !fetch || !nxe || !(pde_xd || pte_xd);
            bool expect_ok = !rsvd && rights && exec;
            Outcome o = do_access(LIN + 0x10, access, user ? MMU_USER : MMU_KERNEL, 0x22222222);
            ck_assert_msg(o.ok == expect_ok, "combo %d access %d: ok=%d expected %d", combo, access,
                          o.ok, expect_ok);
            if (expect_ok) {
                ck_assert_uint_eq(get64(FRAME + 0x10), write ? 0x22222222u : 0x11111111u);
                ck_assert_uint_eq(pde_of(LIN), pde | A);
                ck_assert_uint_eq(pte_of(LIN), pte | A | (write ? D : 0));
            } else {
                uint32_t err = PF_ERR_P | (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0) |
                               (rsvd ? PF_ERR_RSVD : 0) | (fetch && nxe ? PF_ERR_I : 0);
                ck_assert_msg(o.error == err, "combo %d access %d: error %#x expected %#x", combo,
                              access, o.error, err);
                ck_assert_uint_eq(o.cr2, LIN + 0x10);
                ck_assert_uint_eq(get64(FRAME + 0x10), 0x11111111u);
                ck_assert_uint_eq(pde_of(LIN), pde);
                ck_assert_uint_eq(pte_of(LIN), pte);
            }
        }
    }
}
END_TEST

/* Not-present entries at each level: P=0 in the error code, I/D on fetches
 * only with NXE (SDM Vol.3 4.7). */
START_TEST(test_pae_not_present)
{
    set_pte(LIN, 0);
    Outcome o = do_access(LIN, ACC_FETCH, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_I);
    o = do_access(LIN, ACC_WRITE, MMU_USER, 0);
    ck_assert_uint_eq(o.error, PF_ERR_W | PF_ERR_U);
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, 0));
    o = do_access(LIN, ACC_FETCH, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, 0);
    /* A not-present PDE, and a not-present PDPTE (PDPTE 1: 1-2 GiB). */
    set_pte(LIN, FRAME | P | RW);
    set_pde(LIN, 0);
    tlb_flush_all(cpu);
    o = do_access(LIN, ACC_READ, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, 0);
    o = do_access(0x40000000u, ACC_WRITE, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_W);
    ck_assert_uint_eq(o.cr2, 0x40000000u);
}
END_TEST

/* Reserved bits in PDEs and PTEs: 62:36 always, 20:13 in a 2 MiB PDE;
 * P=1 and RSVD=1 whatever the rights (SDM Vol.3 4.7). */
START_TEST(test_pae_reserved_bits)
{
    static const uint64_t high[] = {1ull << 36, 1ull << 51, 1ull << 62};
    for (size_t i = 0; i < 3; i++) {
        set_pte(LIN, FRAME | P | RW | US | high[i]);
        tlb_flush_all(cpu);
        Outcome o = do_access(LIN, ACC_READ, MMU_USER, 0);
        ck_assert(!o.ok);
        ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_RSVD | PF_ERR_U);
        set_pte(LIN, FRAME | P | RW | US);
        set_pde(LIN, PT | P | RW | US | high[i]);
        tlb_flush_all(cpu);
        o = do_access(LIN, ACC_WRITE, MMU_KERNEL, 0);
        ck_assert(!o.ok);
        ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_RSVD | PF_ERR_W);
        set_pde(LIN, PT | P | RW | US);
    }
    /* A 2 MiB page with bit 13 (between PAT at 12 and the frame at 21). */
    set_pde(LIN2M, 0x00600000u | PS | P | RW | (1ull << 13));
    tlb_flush_all(cpu);
    Outcome o = do_access(LIN2M, ACC_FETCH, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_RSVD | PF_ERR_I);
    /* Bit 12 of a 2 MiB PDE is PAT, not reserved. */
    set_pde(LIN2M, 0x00600000u | PS | P | RW | (1ull << 12));
    tlb_flush_all(cpu);
    ck_assert(do_access(LIN2M, ACC_READ, MMU_KERNEL, 0).ok);
}
END_TEST

/* A frame in bits 35:32 is a valid address above popek's 4 GiB bus:
 * nothing answers there (reads all ones, writes vanish), no fault. */
START_TEST(test_pae_frame_above_4g)
{
    set_pte(LIN, 0x100000000ull | FRAME | P | RW);
    put64(FRAME, 0x1234);
    tlb_flush_all(cpu);
    Outcome o = do_access(LIN, ACC_READ, MMU_KERNEL, 0);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0xffffffffu);
    ck_assert(do_access(LIN, ACC_WRITE, MMU_KERNEL, 0x5678).ok);
    ck_assert_uint_eq(get64(FRAME), 0x1234);
    uint32_t phys;
    ck_assert(!mmu_debug_translate(cpu, LIN, &phys));
}
END_TEST

/* 2 MiB pages: the frame from PDE bits 35:21, the offset from 20:0; A and
 * D set in the PDE; U/S, R/W and XD from the PDE alone. */
START_TEST(test_pae_2m_pages)
{
    set_pde(LIN2M, 0x00600000u | PS | P | RW | US);
    put64(0x00600000u + 0x1ffff8u, 0xabcdef);
    tlb_flush_all(cpu);
    Outcome o = do_access(LIN2M + 0x1ffff8u, ACC_READ, MMU_USER, 0);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0xabcdef);
    ck_assert_uint_eq(pde_of(LIN2M), 0x00600000u | PS | P | RW | US | A);
    ck_assert(do_access(LIN2M + 0x12340u, ACC_WRITE, MMU_USER, 0x77).ok);
    ck_assert_uint_eq(get64(0x00612340u), 0x77);
    ck_assert_uint_eq(pde_of(LIN2M), 0x00600000u | PS | P | RW | US | A | D);
    uint32_t phys;
    ck_assert(mmu_debug_translate(cpu, LIN2M + 0x154321u, &phys));
    ck_assert_uint_eq(phys, 0x00754321u);
    /* XD in the PDE makes the whole 2 MiB page non-executable. */
    set_pde(LIN2M, 0x00600000u | PS | P | RW | US | XD);
    tlb_flush_all(cpu);
    o = do_access(LIN2M + 0x100000u, ACC_FETCH, MMU_USER, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_U | PF_ERR_I);
    ck_assert(do_access(LIN2M + 0x100000u, ACC_READ, MMU_USER, 0).ok);
    /* INVLPG of any 4 KiB piece drops every cached piece of the page. */
    set_pde(LIN2M, 0x00600000u | PS | P | RW | US);
    tlb_flush_all(cpu);
    ck_assert(do_access(LIN2M + 0x3000u, ACC_READ, MMU_KERNEL, 0).ok);
    set_pde(LIN2M, 0x00a00000u | PS | P | RW | US);
    tlb_flush_page(cpu, LIN2M + 0x100000u);
    put64(0x00a03000u, 0x99);
    ck_assert_uint_eq(do_access(LIN2M + 0x3000u, ACC_READ, MMU_KERNEL, 0).value, 0x99);
}
END_TEST

/*
 * PDPTE loading (SDM Vol.3 4.4.1): MOV CR3 under PAE paging, and MOV
 * CR0/CR4 entering PAE paging, load the four PDPTEs; a present one with
 * reserved bits (63:36, 8:5, 2:1; XD too: PDPTEs have none) is #GP(0) and
 * the register keeps its old value.  Not-present ones may hold anything.
 * Walks use the loaded registers, not the PDPT in memory.
 */
START_TEST(test_pae_pdpte_load)
{
    static const uint64_t bad[] = {1ull << 1,  1ull << 2,  1ull << 5, 1ull << 8,
                                   1ull << 36, 1ull << 62, XD};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put64(0x5000 + 8, PD | P | bad[i]);
        put64(0x5000, PD | P);
        ck_assert_int_eq(guarded(write_cr3, 0x5000), EXC_GP);
        ck_assert_uint_eq(cpu->exception_error, 0);
        ck_assert_uint_eq(cpu->cr3, PDPT);
        put64(0x5000 + 8, bad[i] | 0xfffffff0ull); /* not present: anything goes */
        ck_assert_int_eq(guarded(write_cr3, 0x5000), -1);
        ck_assert_uint_eq(cpu->cr3, 0x5000);
        ck_assert_int_eq(guarded(write_cr3, PDPT), -1);
    }
    /* PWT, PCD and the ignored bits 11:9 are allowed. */
    put64(0x5000 + 8, PD | P | 0x18 | 0xe00);
    ck_assert_int_eq(guarded(write_cr3, 0x5000), -1);
    ck_assert_uint_eq(cpu->pdpte[1], PD | P | 0x18 | 0xe00);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1);

    /* The registers, not memory: a PDPT changed in memory has no effect
     * until the next load. */
    put64(PD2 + 2 * 8, PT | P | RW);
    put64(PT + 8, 0x7000 | P | RW);
    put64(0x7000, 0xfeed);
    put64(FRAME, 0xbeef);
    put64(PDPT, PD2 | P);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 0xbeef);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1);
    ck_assert_uint_eq(do_access(LIN + 0x1000, ACC_READ, MMU_KERNEL, 0).value, 0xfeed);
    put64(PDPT, PD | P);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1);

    /* CR4 and CR0 writes that enter PAE paging load them too. */
    put64(PDPT + 24, P | 2);
    ck_assert_int_eq(guarded(write_cr4, CR4_PAE | CR4_PGE), EXC_GP);
    ck_assert_uint_eq(cpu->cr4, CR4_PAE);
    ck_assert_int_eq(guarded(write_cr0, CR0_PE), -1); /* paging off: no load */
    ck_assert_int_eq(guarded(write_cr0, CR0_PE | CR0_PG), EXC_GP);
    ck_assert_uint_eq(cpu->cr0 & CR0_PG, 0);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1); /* paging off: no load, no check */
    put64(PDPT + 24, 0);
    ck_assert_int_eq(guarded(write_cr0, CR0_PE | CR0_PG), -1);
    ck_assert_int_eq(guarded(write_cr4, CR4_PAE | CR4_PGE), -1);
    ck_assert_uint_eq(cpu->cr4, CR4_PAE | CR4_PGE);
}
END_TEST

/* A global page (G with CR4.PGE) survives MOV CR3; a non-global one does
 * not; INVLPG drops both (SDM Vol.3 4.10.4.1). */
START_TEST(test_pae_global_survives_cr3)
{
    ck_assert_int_eq(guarded(write_cr4, CR4_PAE | CR4_PGE), -1);
    set_pte(LIN, FRAME | P | RW | G);
    set_pte(LIN + 0x1000, (FRAME + 0x1000) | P | RW);
    put64(FRAME, 1);
    put64(FRAME + 0x1000, 2);
    put64(0x9000, 3);
    put64(0xa000, 4);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 1);
    ck_assert_uint_eq(do_access(LIN + 0x1000, ACC_READ, MMU_KERNEL, 0).value, 2);
    set_pte(LIN, 0x9000 | P | RW | G);
    set_pte(LIN + 0x1000, 0xa000 | P | RW);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 1); /* still cached */
    ck_assert_uint_eq(do_access(LIN + 0x1000, ACC_READ, MMU_KERNEL, 0).value, 4);
    tlb_flush_page(cpu, LIN);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 3);
    /* Without PGE the G bit means nothing. */
    ck_assert_int_eq(guarded(write_cr4, CR4_PAE), -1);
    set_pte(LIN, FRAME | P | RW | G);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 1);
    set_pte(LIN, 0x9000 | P | RW | G);
    ck_assert_int_eq(guarded(write_cr3, PDPT), -1);
    ck_assert_uint_eq(do_access(LIN, ACC_READ, MMU_KERNEL, 0).value, 3);
}
END_TEST

/* A read fills no execute permission: a page read first and then fetched
 * still checks XD (the TLB's FETCH tag comes from fetch walks only). */
START_TEST(test_pae_read_then_fetch)
{
    set_pte(LIN, FRAME | P | RW | XD);
    tlb_flush_all(cpu);
    ck_assert(do_access(LIN, ACC_READ, MMU_KERNEL, 0).ok);
    ck_assert(do_access(LIN, ACC_WRITE, MMU_KERNEL, 0).ok);
    Outcome o = do_access(LIN, ACC_FETCH, MMU_KERNEL, 0);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_I);
}
END_TEST

/* IA32_EFER on a 32-bit model with NX: 0 after RESET, NXE read/write, the
 * long-mode bits and the rest reserved (#GP: cpu_wrmsr false). */
START_TEST(test_efer)
{
    cpu_reset(cpu);
    uint64_t v = 1;
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
    ck_assert_uint_eq(v, EFER_NXE);
    static const uint64_t reserved[] = {EFER_SCE, EFER_LME, EFER_LMA, 1u << 12, 1ull << 32, 2};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        ck_assert(!cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE | reserved[i]));
        ck_assert(cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
        ck_assert_uint_eq(v, EFER_NXE);
    }
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, 0));
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
    ck_assert_uint_eq(v, 0);
    /* Turning NXE on applies at once to cached translations. */
    cpu_write_cr0(cpu, CR0_PE);
    cpu_write_cr4(cpu, CR4_PAE);
    cpu_write_cr3(cpu, PDPT);
    cpu_write_cr0(cpu, CR0_PE | CR0_PG);
    set_pte(LIN, FRAME | P | RW);
    ck_assert(do_access(LIN, ACC_FETCH, MMU_KERNEL, 0).ok);
    set_pte(LIN, FRAME | P | RW | XD);
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
    ck_assert(!do_access(LIN, ACC_FETCH, MMU_KERNEL, 0).ok);
}
END_TEST

static Suite *paging_pae_suite(void)
{
    Suite *s = suite_create("paging_pae");
    TCase *tc = tcase_create("pae");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pae_rights_matrix);
    tcase_add_test(tc, test_pae_not_present);
    tcase_add_test(tc, test_pae_reserved_bits);
    tcase_add_test(tc, test_pae_frame_above_4g);
    tcase_add_test(tc, test_pae_2m_pages);
    tcase_add_test(tc, test_pae_pdpte_load);
    tcase_add_test(tc, test_pae_global_survives_cr3);
    tcase_add_test(tc, test_pae_read_then_fetch);
    tcase_add_test(tc, test_efer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(paging_pae_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
