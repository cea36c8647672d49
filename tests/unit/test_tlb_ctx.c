/*
 * softmmu/tlb_ctx.c: TLB contexts saved at MOV CR3 and put back at a switch
 * back, and the paging-structure store tracking that keeps them exact.
 *
 * Two address spaces under 32-bit paging with PSE and PGE: A (page
 * directory PD_A, page table PT_A) and B (PD_B, PT_B).  Both map linear
 * 0-4 MiB as one global 4 MiB kernel page onto physical 0-4 MiB, so either
 * can store into the other's paging structures through the CPU's store
 * path, as a kernel does.  Linear USER (PDE 1) is a user page in each,
 * LARGE (PDE 2) a 4 MiB page in A.  Walks are counted by
 * TLB.ctx_stats.walks: a restored translation costs none.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MIB (1024u * 1024u)

#define P  0x001u
#define RW 0x002u
#define US 0x004u
#define A_ 0x020u
#define D  0x040u
#define PS 0x080u
#define G  0x100u

#define PD_A  0x10000u
#define PD_B  0x11000u
#define PT_A  0x12000u
#define PT_B  0x13000u
#define PT_A2 0x14000u

#define USER  0x00400000u /* PDE 1, PTE 0 */
#define USER2 0x00401000u /* PDE 1, PTE 1 */
#define LARGE 0x00800000u /* PDE 2 */

/* Physical pages the user pages map to; each holds its own tag value. */
#define F_A  0x100000u
#define F_A2 0x101000u
#define F_B  0x102000u
#define F_N  0x103000u /* "new": what a changed entry points to */
#define F_4M 0x400000u /* 4 MiB frames for LARGE */
#define F_8M 0x800000u

static PhysMem pm;
static CPUState *cpu;

static uint32_t get32(uint32_t paddr)
{
    uint32_t v;
    memcpy(&v, pm.ram + paddr, 4);
    return v;
}

/* A store by a device (DMA), not by the CPU. */
static void dma32(uint32_t paddr, uint32_t v)
{
    phys_write_buf(&pm, paddr, &v, 4);
}

static uint32_t rd(uint32_t lin, int view)
{
    ck_assert_int_eq(setjmp(cpu->jmp_env), 0);
    return (uint32_t)lin_read_idx(cpu, lin, 4, view);
}

static void wr(uint32_t lin, uint32_t v, int view)
{
    ck_assert_int_eq(setjmp(cpu->jmp_env), 0);
    lin_write_idx(cpu, lin, 4, v, view);
}

/* A kernel store through the global 0-4 MiB mapping: the CPU's store path. */
static void kstore(uint32_t paddr, uint32_t v)
{
    wr(paddr, v, MMU_KERNEL);
}

static uint64_t walks(void)
{
    return cpu->tlb.ctx_stats.walks;
}

static void switch_to(uint32_t pd)
{
    ck_assert_int_eq(setjmp(cpu->jmp_env), 0);
    cpu_write_cr3(cpu, pd);
}

static int valid_contexts(void)
{
    int n = 0;
    for (int i = 0; i < TLB_CTX_COUNT; i++) {
        n += cpu->tlb.ctx[i].valid;
    }
    return n;
}

static void setup(void)
{
    ck_assert(phys_init(&pm, 16 * MIB));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu_init(cpu, &pm, NULL);
    dma32(PD_A + 0, 0 | P | RW | PS | G);
    dma32(PD_B + 0, 0 | P | RW | PS | G);
    dma32(PD_A + 4, PT_A | P | RW | US);
    dma32(PD_B + 4, PT_B | P | RW | US);
    dma32(PD_A + 8, F_4M | P | RW | US | PS);
    dma32(PT_A + 0, F_A | P | RW | US);
    dma32(PT_A + 4, F_A2 | P | RW | US);
    dma32(PT_B + 0, F_B | P | RW | US);
    dma32(PT_A2 + 0, F_N | P | RW | US);
    dma32(F_A, 0xa);
    dma32(F_A2, 0xa2);
    dma32(F_B, 0xb);
    dma32(F_N, 0x2e);
    dma32(F_4M, 0x4);
    dma32(F_8M, 0x8);
    cpu_write_cr0(cpu, CR0_PE);
    cpu_write_cr4(cpu, CR4_PSE | CR4_PGE);
    cpu_write_cr3(cpu, PD_A);
    cpu_write_cr0(cpu, CR0_PE | CR0_PG | CR0_WP);
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

/* A -> B -> A: A's translations come back without a walk, B's too. */
START_TEST(test_switch_reuses_translations)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2);
    switch_to(PD_B);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2);
    ck_assert_uint_eq(walks(), before);
    switch_to(PD_B);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    ck_assert_uint_eq(walks(), before);
    ck_assert_uint_eq(cpu->tlb.ctx_stats.restores, 2);
}
END_TEST

/* Turned off, MOV CR3 only flushes: the switch back walks again. */
START_TEST(test_off_only_flushes)
{
    cpu->tlb.ctx_off = true;
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    /* Nothing tracked either: no page-table page takes slow writes. */
    for (uint32_t page = 0; page < pm.ram_size >> 12; page++) {
        ck_assert_uint_eq(pm.pt_pages[page], 0);
    }
    switch_to(PD_B);
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* A store to A's PTE while B runs, through the CPU's store path: A's next
 * access walks and sees the new entry. */
START_TEST(test_cpu_store_to_pte_drops_context)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2);
    switch_to(PD_B);
    kstore(PT_A + 0, F_N | P | RW | US);
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
    ck_assert_uint_ge(walks(), before + 1);
    ck_assert_uint_eq(cpu->tlb.ctx_stats.dropped, 1);
}
END_TEST

/* A store to the running context's own page table leaves its entry in
 * force until MOV CR3 (as hardware may), and the save leaves out the
 * entries walked through that table, not the context: after a switch away
 * and back the changed page is walked again (new entry) and the others
 * come back without a walk. */
START_TEST(test_store_to_running_tables)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(rd(LARGE, MMU_USER), 0x4); /* walked through PD_A only */
    kstore(PT_A + 0, F_N | P | RW | US);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa); /* stale until a flush */
    switch_to(PD_B);
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(LARGE, MMU_USER), 0x4);
    ck_assert_uint_eq(walks(), before);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* The kernel's global write entry for the page table was filled before
 * any walk read the table: watching the table drops it, so the later
 * store still takes the slow path. */
START_TEST(test_write_entry_filled_before_watch)
{
    kstore(PT_A + 0x100, 0); /* fills a global write entry for PT_A's page */
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PD_B);
    kstore(PT_A + 0, F_N | P | RW | US);
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
}
END_TEST

/* The same for a device writing the page table (DMA). */
START_TEST(test_dma_to_pte_drops_context)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PD_B);
    dma32(PT_A + 0, F_N | P | RW | US);
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
}
END_TEST

/* A's page directory entry moved to another page table while B runs. */
START_TEST(test_store_to_pde_drops_context)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PD_B);
    kstore(PD_A + 4, PT_A2 | P | RW | US);
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
}
END_TEST

/* A 4 MiB page of A remapped while B runs. */
START_TEST(test_large_page_remap)
{
    ck_assert_uint_eq(rd(LARGE + 0x1000, MMU_USER), 0);
    ck_assert_uint_eq(rd(LARGE, MMU_USER), 0x4);
    switch_to(PD_B);
    kstore(PD_A + 8, F_8M | P | RW | US | PS);
    switch_to(PD_A);
    ck_assert_uint_eq(rd(LARGE, MMU_USER), 0x8);
}
END_TEST

/* Stores that change no translation drop nothing: the walker setting A and
 * D in A's tables, and a present entry written in a non-present slot. */
START_TEST(test_needless_stores_keep_context)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    wr(USER2, 0xa3, MMU_USER); /* the walk sets A and D in PT_A */
    ck_assert(get32(PT_A + 4) & D);
    dma32(PT_A + 8, F_N | P | RW | US); /* PTE 2 was not present */
    switch_to(PD_B);
    dma32(PT_A + 12, F_N | P | RW | US); /* nor was PTE 3 */
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa3);
    ck_assert_uint_eq(walks(), before);
    ck_assert_uint_eq(cpu->tlb.ctx_stats.dropped + cpu->tlb.ctx_stats.run_stale, 0);
}
END_TEST

/* A saved entry cached without D takes the walk at its first write, which
 * sets D; a guest clearing A while B runs sees it set again. */
START_TEST(test_accessed_dirty_bits)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(get32(PT_A) & (A_ | D), A_);
    switch_to(PD_B);
    switch_to(PD_A);
    uint64_t before = walks();
    wr(USER, 0xaa, MMU_USER);
    ck_assert_uint_eq(walks(), before + 1);
    ck_assert_uint_eq(get32(PT_A) & (A_ | D), A_ | D);

    switch_to(PD_B);
    kstore(PT_A, get32(PT_A) & ~(A_ | D)); /* page aging clears A (and D) */
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xaa);
    ck_assert_uint_eq(get32(PT_A) & (A_ | D), A_);
}
END_TEST

/* INVLPG in B drops B's translation of the page, not A's saved one, which
 * is still exact. */
START_TEST(test_invlpg_in_other_space)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PD_B);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    uint64_t before = walks();
    tlb_flush_page(cpu, USER);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    ck_assert_uint_eq(walks(), before + 1);
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* A global page survives MOV CR3 both ways, even with its PTE changed,
 * until INVLPG (SDM Vol.3 4.10.4.1). */
START_TEST(test_global_page_survives)
{
    dma32(PT_A + 4, F_A2 | P | RW | US | G);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2);
    switch_to(PD_B);
    kstore(PT_A + 4, F_N | P | RW | US | G);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2); /* B has no PTE there: the global entry */
    switch_to(PD_A);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0xa2);
    tlb_flush_page(cpu, USER2);
    ck_assert_uint_eq(rd(USER2, MMU_USER), 0x2e);
}
END_TEST

/* A physical-page flush (a page becoming code, a display clearing its
 * dirty byte) drops the saved entries of that page too. */
START_TEST(test_phys_page_flush_reaches_saved)
{
    wr(USER, 0xab, MMU_USER);
    switch_to(PD_B);
    tlb_flush_phys_page(cpu, F_A);
    switch_to(PD_A);
    uint64_t before = walks();
    wr(USER, 0xac, MMU_USER);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* CR4 changes drop every context (PGE here). */
START_TEST(test_cr4_drops_all)
{
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PD_B);
    ck_assert_int_eq(valid_contexts(), 1);
    cpu_write_cr4(cpu, CR4_PSE);
    ck_assert_int_eq(valid_contexts(), 0);
    switch_to(PD_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* 100 address spaces: at most TLB_CTX_COUNT saved, the most recent ones,
 * and no paging-structure page keeps a bit of a context that is gone. */
START_TEST(test_bounded_contexts)
{
    enum { N = 100 };
    const uint32_t base = 0x200000u; /* PD i at base + 0x1000 * i */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t pd = base + 0x1000u * i;
        dma32(pd + 0, 0 | P | RW | PS | G);
        dma32(pd + 4, PT_A | P | RW | US);
    }
    for (uint32_t i = 0; i < N; i++) {
        switch_to(base + 0x1000u * i);
        ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
        ck_assert_int_le(valid_contexts(), TLB_CTX_COUNT);
    }
    ck_assert_int_eq(valid_contexts(), TLB_CTX_COUNT);
    int marked = 0;
    for (uint32_t page = 0; page < pm.ram_size >> 12; page++) {
        marked += pm.pt_pages[page] != 0;
    }
    /* PT_A and the page directories of the live contexts. */
    ck_assert_int_le(marked, TLB_CTX_COUNT + 2);
    uint64_t before = walks();
    switch_to(base + 0x1000u * (N - 2));
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before);
    switch_to(base);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before + 1);
}
END_TEST

/* Under PAE paging the PDPTEs are registers MOV CR3 loads, not read by
 * walks: a PDPT edited while B runs must keep A's context from coming back
 * (the PDPTEs are part of its key). */
static void dma64(uint32_t paddr, uint64_t v)
{
    phys_write_buf(&pm, paddr, &v, 8);
}

START_TEST(test_pae_pdpte_is_key)
{
    enum {
        PDPT_PA = 0x15000, PDPT_PB = 0x16000, PD_PA = 0x17000, PT_PA = 0x18000,
        PD_PA2 = 0x19000, PT_PA2 = 0x1a000, PD_PB = 0x1b000, PT_PB = 0x1c000,
    };
    cpu_write_cr0(cpu, CR0_PE);
    cpu_write_cr4(cpu, CR4_PAE | CR4_PGE);
    dma64(PDPT_PA, PD_PA | P);
    dma64(PDPT_PB, PD_PB | P);
    dma64(PD_PA + 2 * 8, PT_PA | P | RW | US); /* linear 4 MiB: PDE 2 */
    dma64(PD_PA2 + 2 * 8, PT_PA2 | P | RW | US);
    dma64(PD_PB + 2 * 8, PT_PB | P | RW | US);
    dma64(PT_PA, F_A | P | RW | US);
    dma64(PT_PA2, F_N | P | RW | US);
    dma64(PT_PB, F_B | P | RW | US);
    cpu_write_cr3(cpu, PDPT_PA);
    cpu_write_cr0(cpu, CR0_PE | CR0_PG);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PDPT_PB);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    switch_to(PDPT_PA);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa); /* restored */
    ck_assert_uint_eq(walks(), before);
    switch_to(PDPT_PB);
    dma64(PDPT_PA, PD_PA2 | P);
    switch_to(PDPT_PA);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
}
END_TEST

/* 4-level paging: a PML4 entry of A repointed while B runs. */
START_TEST(test_lm_pml4_store_drops_context)
{
    enum {
        PML4_A = 0x20000, PML4_B = 0x21000, PDPT_A = 0x22000, PD_LA = 0x23000,
        PT_LA = 0x24000, PDPT_A2 = 0x25000, PD_LA2 = 0x26000, PT_LA2 = 0x27000,
        PDPT_B = 0x28000, PD_LB = 0x29000, PT_LB = 0x2a000,
    };
    const uint64_t up = P | RW | US;
    dma64(PML4_A, PDPT_A | up);
    dma64(PDPT_A, PD_LA | up);
    dma64(PD_LA + 2 * 8, PT_LA | up);
    dma64(PT_LA, F_A | up);
    dma64(PDPT_A2, PD_LA2 | up);
    dma64(PD_LA2 + 2 * 8, PT_LA2 | up);
    dma64(PT_LA2, F_N | up);
    dma64(PML4_B, PDPT_B | up);
    dma64(PDPT_B, PD_LB | up);
    dma64(PD_LB + 2 * 8, PT_LB | up);
    dma64(PT_LB, F_B | up);
    /* Long mode as a kernel leaves it: PAE, LME/LMA, paging on. */
    cpu->cr0 = CR0_PE | CR0_PG | CR0_WP;
    cpu->cr4 = CR4_PAE;
    cpu->cr3 = PML4_A;
    cpu->efer = EFER_LME | EFER_LMA;
    tlb_flush_all(cpu);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    switch_to(PML4_B);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xb);
    switch_to(PML4_A);
    uint64_t before = walks();
    ck_assert_uint_eq(rd(USER, MMU_USER), 0xa);
    ck_assert_uint_eq(walks(), before);
    switch_to(PML4_B);
    dma64(PML4_A, PDPT_A2 | up);
    switch_to(PML4_A);
    ck_assert_uint_eq(rd(USER, MMU_USER), 0x2e);
}
END_TEST

static Suite *tlb_ctx_suite(void)
{
    Suite *s = suite_create("tlb_ctx");
    TCase *tc = tcase_create("ctx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_switch_reuses_translations);
    tcase_add_test(tc, test_off_only_flushes);
    tcase_add_test(tc, test_cpu_store_to_pte_drops_context);
    tcase_add_test(tc, test_store_to_running_tables);
    tcase_add_test(tc, test_write_entry_filled_before_watch);
    tcase_add_test(tc, test_dma_to_pte_drops_context);
    tcase_add_test(tc, test_store_to_pde_drops_context);
    tcase_add_test(tc, test_large_page_remap);
    tcase_add_test(tc, test_needless_stores_keep_context);
    tcase_add_test(tc, test_accessed_dirty_bits);
    tcase_add_test(tc, test_invlpg_in_other_space);
    tcase_add_test(tc, test_global_page_survives);
    tcase_add_test(tc, test_phys_page_flush_reaches_saved);
    tcase_add_test(tc, test_cr4_drops_all);
    tcase_add_test(tc, test_bounded_contexts);
    tcase_add_test(tc, test_pae_pdpte_is_key);
    tcase_add_test(tc, test_lm_pml4_store_drops_context);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tlb_ctx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
