/*
 * softmmu/paging.c, tlb.c and mmu.c: the 32-bit page walk against the SDM
 * rules (Vol.3 4.3 structures, 4.6 access rights, 4.7 error codes, 4.8 A/D
 * bits, 4.10 TLB invalidation), page-crossing accesses, the TLB fill and
 * its per-kind tags, ROM/MMIO/code pages and data breakpoints (17.2).
 *
 * Page tables are built by hand in guest RAM: the page directory at PD, one
 * page table at PT covering linear 0x00400000-0x007fffff (PDE 1).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MIB (1024u * 1024u)
#define PD  0x1000u
#define PT  0x2000u

#define P  0x001u
#define RW 0x002u
#define US 0x004u
#define A  0x020u
#define D  0x040u
#define PS 0x080u
#define G  0x100u

#define LIN   0x00400000u /* PDE 1, PTE 0 */
#define FRAME 0x5000u

static PhysMem pm;
static CPUState *cpu;

static void put32(uint32_t paddr, uint32_t v)
{
    /* Through the bus, as a guest or device store: the TLB contexts see
     * paging-structure stores there (softmmu/tlb_ctx.c). */
    phys_write_buf(&pm, paddr, &v, 4);
}

static uint32_t get32(uint32_t paddr)
{
    uint32_t v;
    memcpy(&v, pm.ram + paddr, 4);
    return v;
}

static void set_pde(uint32_t lin, uint32_t v)
{
    put32(PD + (lin >> 22) * 4, v);
}

static uint32_t pde_of(uint32_t lin)
{
    return get32(PD + (lin >> 22) * 4);
}

/* PTEs for linear pages in 0x00400000-0x007fffff (page table PT). */
static void set_pte(uint32_t lin, uint32_t v)
{
    put32(PT + ((lin >> 12) & 0x3ff) * 4, v);
}

static uint32_t pte_of(uint32_t lin)
{
    return get32(PT + ((lin >> 12) & 0x3ff) * 4);
}

static void setup(void)
{
    ck_assert(phys_init(&pm, 16 * MIB));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu->phys = &pm;
    cpu->a20_mask = 0xffffffffu;
    cpu->cr0 = CR0_PE | CR0_PG | CR0_WP;
    cpu->cr3 = PD;
    cpu->exception_vector = -1;
    tlb_flush_all(cpu);
    set_pde(LIN, PT | P | RW | US);
    set_pte(LIN, FRAME | P | RW | US);
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

/* Outcome of one guest access: ok, or the #PF error code and CR2. */
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

static Outcome do_read(uint32_t lin, int size, int mmu_idx)
{
    if (setjmp(cpu->jmp_env)) {
        return fault_outcome();
    }
    Outcome o = {.ok = true};
    o.value = lin_read_idx(cpu, lin, size, mmu_idx);
    return o;
}

static Outcome do_write(uint32_t lin, int size, uint32_t value, int mmu_idx)
{
    if (setjmp(cpu->jmp_env)) {
        return fault_outcome();
    }
    lin_write_idx(cpu, lin, size, value, mmu_idx);
    return (Outcome){.ok = true};
}

static Outcome do_fetch(uint32_t lin, int mmu_idx)
{
    if (setjmp(cpu->jmp_env)) {
        return fault_outcome();
    }
    Outcome o = {.ok = true};
    o.value = mmu_read_slow(cpu, lin, 1, mmu_idx, ACC_FETCH);
    return o;
}

static Outcome do_probe(uint32_t lin, int size, int access, int mmu_idx)
{
    if (setjmp(cpu->jmp_env)) {
        return fault_outcome();
    }
    mmu_probe(cpu, lin, size, access, mmu_idx);
    return (Outcome){.ok = true};
}

static TLBEntry *entry_for(int mmu_idx, uint32_t lin)
{
    return &cpu->tlb.e[mmu_idx][tlb_slot(lin)];
}

/* ---- access rights, SDM Vol.3 4.6.1 ---- */

/*
 * Every combination of PDE and PTE U/S and R/W, CR0.WP, user/supervisor and
 * read/write.  The rule from the SDM: the rights of a 4 KiB page are the AND
 * of both levels; a user access needs U/S=1 and, to write, R/W=1; a
 * supervisor access may read any page and may write a read-only one only
 * with CR0.WP=0.  A violation is #PF with P=1, W and U/S describing the
 * access, CR2 the linear address.
 */
START_TEST(test_rights_matrix)
{
    for (int combo = 0; combo < 128; combo++) {
        bool pde_us = combo & 1, pde_rw = combo & 2, pte_us = combo & 4, pte_rw = combo & 8;
        bool wp = combo & 16, user = combo & 32, write = combo & 64;
        set_pde(LIN, PT | P | (pde_us ? US : 0) | (pde_rw ? RW : 0));
        set_pte(LIN, FRAME | P | (pte_us ? US : 0) | (pte_rw ? RW : 0));
        cpu->cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
        tlb_flush_all(cpu);
        put32(FRAME + 0x10, 0x11111111);

        bool user_ok = pde_us && pte_us;
        bool write_ok = pde_rw && pte_rw;
        bool expect_ok = user ? (user_ok && (!write || write_ok)) : (!write || write_ok || !wp);
        int idx = user ? MMU_USER : MMU_KERNEL;
        Outcome o = write ? do_write(LIN + 0x10, 4, 0x22222222, idx) : do_read(LIN + 0x10, 4, idx);

        ck_assert_msg(o.ok == expect_ok, "combo %d: ok=%d expected %d", combo, o.ok, expect_ok);
        if (expect_ok) {
            ck_assert_uint_eq(get32(FRAME + 0x10), write ? 0x22222222u : 0x11111111u);
            if (!write) {
                ck_assert_uint_eq(o.value, 0x11111111u);
            }
        } else {
            uint32_t err = PF_ERR_P | (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0);
            ck_assert_msg(o.error == err, "combo %d: error %#x expected %#x", combo, o.error, err);
            ck_assert_uint_eq(o.cr2, LIN + 0x10);
            ck_assert_uint_eq(get32(FRAME + 0x10), 0x11111111u);
        }
    }
}
END_TEST

/* A few of the same rules spelled out, with the SDM error codes as numbers. */
START_TEST(test_rights_examples)
{
    /* User write to a user page read-only at the PTE: #PF(7). */
    set_pte(LIN, FRAME | P | US);
    Outcome o = do_write(LIN, 1, 0, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, 7);
    /* User read of a page whose PDE is supervisor: #PF(5). */
    set_pde(LIN, PT | P | RW);
    set_pte(LIN, FRAME | P | RW | US);
    tlb_flush_all(cpu);
    o = do_read(LIN, 4, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, 5);
    /* Supervisor read of it is fine; supervisor write to read-only with WP=1: #PF(3). */
    ck_assert(do_read(LIN, 4, MMU_KERNEL).ok);
    set_pte(LIN, FRAME | P);
    tlb_flush_all(cpu);
    o = do_write(LIN, 2, 0, MMU_KERNEL);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, 3);
    /* WP=0: the same write succeeds and sets Dirty. */
    cpu->cr0 &= ~CR0_WP;
    tlb_flush_all(cpu);
    ck_assert(do_write(LIN, 2, 0xbeef, MMU_KERNEL).ok);
    ck_assert_uint_eq(get32(FRAME) & 0xffff, 0xbeef);
    ck_assert_uint_eq(pte_of(LIN) & (A | D), A | D);
}
END_TEST

START_TEST(test_not_present_error_codes)
{
    /* PDE not present: P=0; W and U still describe the access. */
    Outcome o = do_write(0x00c00123, 4, 0, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(o.cr2, 0x00c00123);
    o = do_read(0x00c00123, 1, MMU_KERNEL);
    ck_assert_uint_eq(o.error, 0);
    /* PTE not present. */
    set_pte(LIN + 0x3000, FRAME);
    o = do_read(LIN + 0x3456, 2, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_U);
    ck_assert_uint_eq(o.cr2, LIN + 0x3456);
    /* Fetches are reads without PAE: no I bit. */
    o = do_fetch(LIN + 0x3000, MMU_USER);
    ck_assert_uint_eq(o.error, PF_ERR_U);
    set_pte(LIN + 0x3000, FRAME | P);
    o = do_fetch(LIN + 0x3000, MMU_USER);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_U);
}
END_TEST

/* ---- Accessed and Dirty, SDM Vol.3 4.8 ---- */

START_TEST(test_accessed_dirty)
{
    set_pde(LIN, PT | P | RW | US);
    set_pte(LIN, FRAME | P | RW | US);
    ck_assert(do_read(LIN, 4, MMU_KERNEL).ok);
    ck_assert_uint_eq(pde_of(LIN), PT | P | RW | US | A); /* D in a PDE is ignored */
    ck_assert_uint_eq(pte_of(LIN), FRAME | P | RW | US | A);
    /* The read filled the TLB; the first write must still walk and set D. */
    ck_assert(do_write(LIN, 4, 1, MMU_KERNEL).ok);
    ck_assert_uint_eq(pte_of(LIN), FRAME | P | RW | US | A | D);
    ck_assert_uint_eq(pde_of(LIN), PT | P | RW | US | A);

    /* The OS clears D and invalidates: the next write sets it again. */
    set_pte(LIN, FRAME | P | RW | US | A);
    tlb_flush_page(cpu, LIN);
    ck_assert(do_write(LIN + 8, 1, 1, MMU_USER).ok);
    ck_assert_uint_eq(pte_of(LIN), FRAME | P | RW | US | A | D);

    /* A failed write does not set D. */
    set_pte(LIN + 0x1000, (FRAME + 0x1000) | P | US | A);
    ck_assert(!do_write(LIN + 0x1000, 4, 1, MMU_USER).ok);
    ck_assert_uint_eq(pte_of(LIN + 0x1000) & D, 0);
}
END_TEST

typedef struct HookCount {
    int calls;
} HookCount;

static void count_hook(void *opaque, uint32_t paddr, int size)
{
    ((HookCount *)opaque)->calls++;
}

/* A/D are written back only when they change: watch the page-table page. */
START_TEST(test_ad_written_only_on_change)
{
    HookCount hook = {0};
    pm.ncode_listeners = 0; /* this listener alone, as if nothing else kept code */
    phys_add_code_listener(&pm, count_hook, &hook);
    pm.code_pages[PD >> 12] = 1;
    pm.code_pages[PT >> 12] = 1;
    ck_assert(do_write(LIN, 4, 1, MMU_KERNEL).ok);
    ck_assert_int_eq(hook.calls, 2); /* PDE.A, then PTE.A|D */
    tlb_flush_all(cpu);
    ck_assert(do_write(LIN, 4, 1, MMU_KERNEL).ok);
    ck_assert(do_read(LIN + 0x40, 4, MMU_USER).ok);
    ck_assert_int_eq(hook.calls, 2);
}
END_TEST

/* ---- 4 MiB pages, SDM Vol.3 4.3 ---- */

START_TEST(test_pse_large_page)
{
    uint32_t lin = 0x00800000; /* PDE 2 */
    set_pde(lin, 0x00c00000 | PS | P | RW | US);
    put32(0x00c12344, 0x600dcafe);
    cpu->cr4 |= CR4_PSE;
    tlb_flush_all(cpu);
    Outcome o = do_read(lin + 0x12344, 4, MMU_USER);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0x600dcafe);
    ck_assert_uint_eq(pde_of(lin), 0x00c00000 | PS | P | RW | US | A);
    ck_assert(do_write(lin + 0x3ffffc, 4, 0x12345678, MMU_USER).ok);
    ck_assert_uint_eq(get32(0x00fffffc), 0x12345678);
    ck_assert_uint_eq(pde_of(lin), 0x00c00000 | PS | P | RW | US | A | D);

    /* Read-only user 4 MiB page: user write faults with P|W|U. */
    set_pde(lin, 0x00c00000 | PS | P | US);
    tlb_flush_all(cpu);
    o = do_write(lin + 4, 4, 0, MMU_USER);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_W | PF_ERR_U);

    /* Bits 21:13 are reserved without PSE-36: P and RSVD. */
    set_pde(lin, 0x00c00000 | 0x2000 | PS | P | RW | US);
    tlb_flush_all(cpu);
    o = do_read(lin, 4, MMU_KERNEL);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_RSVD);
}
END_TEST

START_TEST(test_ps_ignored_without_cr4_pse)
{
    uint32_t lin = 0x00800000;
    set_pde(lin, 0x00c00000 | PS | P | RW | US);
    /* Without CR4.PSE the PDE points at a page table at 0x00c00000. */
    put32(0x00c00000 + 0x12 * 4, 0x7000 | P | RW | US);
    put32(0x7344, 0xabcdef01);
    put32(0x00c12344, 0x600dcafe);
    Outcome o = do_read(lin + 0x12344, 4, MMU_KERNEL);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0xabcdef01);
}
END_TEST

/* ---- global pages and invalidation, SDM Vol.3 4.10.2.4, 4.10.4.1 ---- */

/* Map LIN to frame, fill the TLB, then remap it to FRAME+0x1000 in memory only. */
static void fill_then_remap(uint32_t flags)
{
    put32(FRAME, 0xaaaaaaaa);
    put32(FRAME + 0x1000, 0xbbbbbbbb);
    set_pte(LIN, FRAME | P | RW | US | flags);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xaaaaaaaa);
    set_pte(LIN, (FRAME + 0x1000) | P | RW | US | flags);
}

START_TEST(test_global_survives_cr3_flush)
{
    cpu->cr4 |= CR4_PGE;
    fill_then_remap(G);
    tlb_flush_nonglobal(cpu);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xaaaaaaaa);
    tlb_flush_page(cpu, LIN);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xbbbbbbbb);

    fill_then_remap(G);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xbbbbbbbb);
}
END_TEST

/*
 * Two pages that share a TLB slot: filling the second moves the first to
 * the second table, so reading it again uses its cached translation (a
 * remap in memory alone is not seen: no walk) until INVLPG, a CR3 write
 * or a flush of its physical page drops it, wherever it sits then.
 */
START_TEST(test_victim_keeps_evicted_translation)
{
    const uint32_t lin2 = LIN + TLB_ENTRIES * 0x1000u, pt2 = 0x3000u, frame2 = 0x7000u;
    ck_assert_uint_eq(tlb_slot(lin2), tlb_slot(LIN));
    ck_assert_uint_ne(tlb_slot2(lin2), tlb_slot2(LIN));
    set_pde(lin2, pt2 | P | RW | US);
    put32(pt2 + ((lin2 >> 12) & 0x3ff) * 4, frame2 | P | RW | US);
    put32(frame2, 0x22222222);
    for (int round = 0; round < 3; round++) {
        fill_then_remap(0);
        ck_assert_uint_eq(do_read(lin2, 4, MMU_KERNEL).value, 0x22222222);
        ck_assert_uint_eq(entry_for(MMU_KERNEL, LIN)->tag[ACC_READ], lin2);
        ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xaaaaaaaa); /* swapped back */
        ck_assert_uint_eq(entry_for(MMU_KERNEL, LIN)->tag[ACC_READ], LIN);
        ck_assert_uint_eq(cpu->tlb.e[MMU_KERNEL][tlb_slot2(lin2)].tag[ACC_READ], lin2);
        ck_assert_uint_eq(do_read(lin2, 4, MMU_KERNEL).value, 0x22222222); /* LIN second again */
        if (round == 0) {
            tlb_flush_page(cpu, LIN);
        } else if (round == 1) {
            tlb_flush_nonglobal(cpu);
        } else {
            tlb_flush_phys_page(cpu, FRAME);
        }
        ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xbbbbbbbb);
    }
}
END_TEST

/*
 * Descriptor-table reads (lin_read_sys) use a second-table entry where it
 * is, without swapping it with the hot page in its first slot.
 */
START_TEST(test_sys_read_from_second_table)
{
    const uint32_t lin2 = LIN + TLB_ENTRIES * 0x1000u, pt2 = 0x3000u, frame2 = 0x7000u;
    set_pde(lin2, pt2 | P | RW | US);
    put32(pt2 + ((lin2 >> 12) & 0x3ff) * 4, frame2 | P | RW | US);
    put32(frame2, 0x22222222);
    fill_then_remap(0);
    ck_assert_uint_eq(do_read(lin2, 4, MMU_KERNEL).value, 0x22222222);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(lin_read_sys(cpu, LIN, 4), 0xaaaaaaaa); /* the cached translation */
        ck_assert_uint_eq(entry_for(MMU_KERNEL, LIN)->tag[ACC_READ], lin2);
        ck_assert_uint_eq(cpu->tlb.e[MMU_KERNEL][tlb_slot2(LIN)].tag[ACC_READ], LIN);
    }
    tlb_flush_page(cpu, LIN);
    ck_assert_uint_eq(lin_read_sys(cpu, LIN, 4), 0xbbbbbbbb);
}
END_TEST

START_TEST(test_nonglobal_dropped_by_cr3_flush)
{
    cpu->cr4 |= CR4_PGE;
    fill_then_remap(0);
    tlb_flush_nonglobal(cpu);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xbbbbbbbb);
    /* Without CR4.PGE the G bit means nothing. */
    cpu->cr4 &= ~CR4_PGE;
    fill_then_remap(G);
    tlb_flush_nonglobal(cpu);
    ck_assert_uint_eq(do_read(LIN, 4, MMU_KERNEL).value, 0xbbbbbbbb);
}
END_TEST

/* INVLPG of any address in a 4 MiB page drops the whole page. */
START_TEST(test_invlpg_large_page)
{
    uint32_t lin = 0x00800000;
    cpu->cr4 |= CR4_PSE;
    put32(0x00400000 + 0x100000, 0x11111111);
    put32(0x00c00000 + 0x100000, 0x22222222);
    set_pde(lin, 0x00400000 | PS | P | RW);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(lin, 4, MMU_KERNEL).value, 0);
    ck_assert_uint_eq(do_read(lin + 0x100000, 4, MMU_KERNEL).value, 0x11111111);
    set_pde(lin, 0x00c00000 | PS | P | RW);
    tlb_flush_page(cpu, lin);
    ck_assert_uint_eq(do_read(lin + 0x100000, 4, MMU_KERNEL).value, 0x22222222);
}
END_TEST

START_TEST(test_tlb_hit_after_fill)
{
    put32(FRAME + 0x20, 0x01020304);
    ck_assert_uint_eq(do_read(LIN + 0x20, 4, MMU_USER).value, 0x01020304);
    TLBEntry *e = entry_for(MMU_USER, LIN);
    ck_assert_uint_eq(e->tag[ACC_READ], LIN);
    ck_assert_uint_eq(e->tag[ACC_WRITE] & TLB_INVALID, TLB_INVALID);
    ck_assert_uint_eq(e->tag[ACC_FETCH] & TLB_INVALID, TLB_INVALID);
    ck_assert_uint_eq(entry_for(MMU_KERNEL, LIN)->tag[ACC_READ] & TLB_INVALID, TLB_INVALID);
    /* Unmap without invalidating: the cached translation is still used. */
    set_pte(LIN, 0);
    ck_assert_uint_eq(do_read(LIN + 0x20, 4, MMU_USER).value, 0x01020304);
    /* A write has no cached permission and walks: not present now. */
    Outcome o = do_write(LIN + 0x20, 4, 0, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_W | PF_ERR_U);

    set_pte(LIN, FRAME | P | RW | US);
    tlb_flush_page(cpu, LIN);
    ck_assert(do_write(LIN + 0x20, 4, 5, MMU_USER).ok);
    ck_assert_uint_eq(e->tag[ACC_WRITE], LIN);
    ck_assert_uint_eq(e->tag[ACC_READ], LIN);
    ck_assert_ptr_eq((uint8_t *)(uintptr_t)(LIN + e->addend), pm.ram + FRAME);
    ck_assert(pm.dirty_pages[FRAME >> 12]);
}
END_TEST

START_TEST(test_fetch_tag_and_ptr)
{
    put32(FRAME + 0xff0, 0x90909090);
    uint32_t avail = 0;
    const uint8_t *p = NULL;
    if (setjmp(cpu->jmp_env)) {
        ck_abort_msg("unexpected fault");
    }
    p = mmu_fetch_ptr(cpu, LIN + 0xff0, MMU_USER, &avail);
    ck_assert_ptr_eq(p, pm.ram + FRAME + 0xff0);
    ck_assert_uint_eq(avail, 0x10);
    TLBEntry *e = entry_for(MMU_USER, LIN);
    ck_assert_uint_eq(e->tag[ACC_FETCH], LIN);
    ck_assert_uint_eq(e->tag[ACC_WRITE] & TLB_INVALID, TLB_INVALID);
}
END_TEST

/* ---- page-crossing accesses ---- */

START_TEST(test_crossing_write_faults_on_second_page)
{
    put32(FRAME + 0xffc, 0x55555555);
    set_pte(LIN + 0x1000, 0);
    Outcome o = do_write(LIN + 0xffe, 4, 0x11223344, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.cr2, LIN + 0x1000);
    ck_assert_uint_eq(o.error, PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(get32(FRAME + 0xffc), 0x55555555);

    /* Second page present but read-only: protection fault, still no store. */
    set_pte(LIN + 0x1000, 0x9000 | P | US);
    o = do_write(LIN + 0xfff, 2, 0x1122, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.cr2, LIN + 0x1000);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(get32(FRAME + 0xffc), 0x55555555);

    /* First page faulting: CR2 is the first byte. */
    set_pte(LIN, FRAME | P | US);
    tlb_flush_all(cpu);
    o = do_write(LIN + 0xffd, 4, 0, MMU_USER);
    ck_assert_uint_eq(o.cr2, LIN + 0xffd);
}
END_TEST

START_TEST(test_crossing_access_two_frames)
{
    set_pte(LIN + 0x1000, 0x9000 | P | RW | US);
    put32(FRAME + 0xffc, 0x44332211);
    put32(0x9000, 0x88776655);
    Outcome o = do_read(LIN + 0xffe, 4, MMU_USER);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0x66554433);
    ck_assert(do_write(LIN + 0xfff, 4, 0xddccbbaa, MMU_USER).ok);
    ck_assert_uint_eq(pm.ram[FRAME + 0xfff], 0xaa);
    ck_assert_uint_eq(get32(0x9000), 0x88ddccbb);
    /* The linear address space wraps at 4 GiB (the top is open bus here). */
    put32(0, 0x00009988);
    cpu->cr0 &= ~CR0_PG;
    tlb_flush_all(cpu);
    o = do_read(0xfffffffe, 4, MMU_KERNEL);
    ck_assert(o.ok);
    ck_assert_uint_eq(o.value, 0x9988ffff);
}
END_TEST

START_TEST(test_probe)
{
    set_pte(LIN, FRAME | P | US);
    Outcome o = do_probe(LIN + 0x10, 4, ACC_WRITE, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.error, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(o.cr2, LIN + 0x10);
    ck_assert(do_probe(LIN + 0x10, 4, ACC_READ, MMU_USER).ok);
    /* A 108-byte FSAVE image across into an unmapped page. */
    set_pte(LIN, FRAME | P | RW | US);
    tlb_flush_all(cpu);
    o = do_probe(LIN + 0xfc0, 108, ACC_WRITE, MMU_USER);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.cr2, LIN + 0x1000);
}
END_TEST

START_TEST(test_debug_translate_no_side_effects)
{
    uint32_t phys = 0;
    if (setjmp(cpu->jmp_env)) {
        ck_abort_msg("debug translate faulted");
    }
    ck_assert(mmu_debug_translate(cpu, LIN + 0x123, &phys));
    ck_assert_uint_eq(phys, FRAME + 0x123);
    ck_assert_uint_eq(pte_of(LIN) & A, 0);
    ck_assert_uint_eq(pde_of(LIN) & A, 0);
    ck_assert(!mmu_debug_translate(cpu, 0x00c00000, &phys));
    ck_assert_uint_eq(cpu->cr2, 0);
}
END_TEST

/* ---- A20 and paging off ---- */

START_TEST(test_paging_off_and_a20)
{
    cpu->cr0 = CR0_PE;
    put32(0x10, 0x0a0a0a0a);
    put32(0x100010, 0x0b0b0b0b);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(0x100010, 4, MMU_USER).value, 0x0b0b0b0b);
    cpu->a20_mask = 0xffefffff;
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(0x100010, 4, MMU_USER).value, 0x0a0a0a0a);
    /* With paging, the frame address is masked too. */
    cpu->cr0 = CR0_PE | CR0_PG;
    set_pte(LIN, 0x100000 | P | RW);
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(LIN + 0x10, 4, MMU_KERNEL).value, 0x0a0a0a0a);
}
END_TEST

/* ---- ROM, MMIO and code pages behind the TLB ---- */

START_TEST(test_rom_page_through_tlb)
{
    uint8_t image[0x1000];
    memset(image, 0x3c, sizeof(image));
    ck_assert_int_ge(phys_map_rom(&pm, 0xf0000, image, sizeof(image), 0), 0);
    cpu->cr0 = CR0_PE;
    tlb_flush_all(cpu);
    ck_assert_uint_eq(do_read(0xf0010, 4, MMU_KERNEL).value, 0x3c3c3c3c);
    ck_assert(do_write(0xf0010, 4, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(do_read(0xf0010, 4, MMU_KERNEL).value, 0x3c3c3c3c);
    TLBEntry *e = entry_for(MMU_KERNEL, 0xf0000);
    ck_assert_uint_eq(e->tag[ACC_READ], 0xf0000);
    ck_assert(e->tag[ACC_WRITE] & TLB_MMIO);
    ck_assert_uint_eq(pm.ram[0xf0010], 0);
}
END_TEST

typedef struct Counter {
    int reads, writes;
    uint32_t last_value;
} Counter;

static uint32_t counter_read(void *opaque, uint32_t offset, int size)
{
    ((Counter *)opaque)->reads++;
    return 0x12345678u + offset;
}

static void counter_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    ((Counter *)opaque)->writes++;
    ((Counter *)opaque)->last_value = value;
}

static const MMIOOps counter_ops = {counter_read, counter_write};

START_TEST(test_mmio_page_through_tlb)
{
    Counter dev = {0};
    ck_assert_int_ge(phys_map_mmio(&pm, 0xa0000, 0x1000, &counter_ops, &dev, 0), 0);
    set_pte(LIN, 0xa0000 | P | RW | US);
    ck_assert_uint_eq(do_read(LIN + 4, 4, MMU_USER).value, 0x1234567c);
    ck_assert_uint_eq(do_read(LIN + 4, 4, MMU_USER).value, 0x1234567c);
    ck_assert_int_eq(dev.reads, 2); /* every access reaches the device */
    ck_assert(do_write(LIN + 8, 2, 0xabcd, MMU_USER).ok);
    ck_assert(do_write(LIN + 8, 2, 0xabce, MMU_USER).ok);
    ck_assert_int_eq(dev.writes, 2);
    ck_assert_uint_eq(dev.last_value, 0xabce);
}
END_TEST

START_TEST(test_code_page_write_hook)
{
    HookCount hook = {0};
    pm.ncode_listeners = 0; /* this listener alone, as if nothing else kept code */
    phys_add_code_listener(&pm, count_hook, &hook);
    pm.code_pages[FRAME >> 12] = 1;
    ck_assert(do_write(LIN, 4, 1, MMU_USER).ok);
    ck_assert(do_write(LIN + 4, 4, 2, MMU_USER).ok);
    ck_assert_int_eq(hook.calls, 2);
    ck_assert_uint_eq(get32(FRAME + 4), 2);
    ck_assert(entry_for(MMU_USER, LIN)->tag[ACC_WRITE] & TLB_CODE);
}
END_TEST

START_TEST(test_flush_phys_page)
{
    set_pte(LIN + 0x1000, FRAME | P | RW | US); /* alias of LIN */
    ck_assert(do_write(LIN, 4, 1, MMU_USER).ok);
    ck_assert(do_write(LIN + 0x1000, 4, 2, MMU_USER).ok);
    HookCount hook = {0};
    pm.ncode_listeners = 0; /* this listener alone, as if nothing else kept code */
    phys_add_code_listener(&pm, count_hook, &hook);
    pm.code_pages[FRAME >> 12] = 1;
    tlb_flush_phys_page(cpu, FRAME + 0x123);
    ck_assert(do_write(LIN, 4, 3, MMU_USER).ok);
    ck_assert(do_write(LIN + 0x1000, 4, 4, MMU_USER).ok);
    ck_assert_int_eq(hook.calls, 2);
}
END_TEST

/* ---- data breakpoints, SDM Vol.3 17.2 ---- */

/* DR7 bits for breakpoint i: local enable, R/W and LEN fields. */
static uint32_t dr7_bp(int i, uint32_t rw, uint32_t len)
{
    return (1u << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i));
}

START_TEST(test_data_breakpoints)
{
    cpu->cr0 = CR0_PE;
    tlb_flush_all(cpu);
    ck_assert(do_write(0x3000, 4, 0, MMU_KERNEL).ok); /* page cached before DR7 */
    cpu->dr[0] = 0x3002;
    cpu->dr[7] = dr7_bp(0, 1, 1); /* write, 2 bytes at 0x3002 */
    mmu_debug_regs_changed(cpu);

    ck_assert(do_write(0x3003, 1, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 1);
    cpu->pending_dr6 = 0;
    ck_assert(do_write(0x3003, 1, 0, MMU_KERNEL).ok); /* still not cached */
    ck_assert_uint_eq(cpu->pending_dr6, 1);
    cpu->pending_dr6 = 0;
    ck_assert(do_write(0x3004, 4, 0, MMU_KERNEL).ok);
    ck_assert(do_write(0x3000, 2, 0, MMU_KERNEL).ok);
    ck_assert(do_read(0x3002, 2, MMU_KERNEL).ok); /* write-only breakpoint */
    ck_assert_uint_eq(cpu->pending_dr6, 0);
    ck_assert(do_write(0x3001, 2, 0, MMU_KERNEL).ok); /* overlaps one byte */
    ck_assert_uint_eq(cpu->pending_dr6, 1);
    cpu->pending_dr6 = 0;

    /* DR1: read/write, 4 bytes; its address is aligned down to 0x3ff8. */
    cpu->dr[1] = 0x3ffb;
    cpu->dr[7] |= dr7_bp(1, 3, 3);
    mmu_debug_regs_changed(cpu);
    ck_assert(do_read(0x3ff6, 4, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 2);
    cpu->pending_dr6 = 0;
    ck_assert(do_read(0x3ffc, 4, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 0);
    ck_assert(do_write(0x3ffa, 4, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 2);
    cpu->pending_dr6 = 0;
    /* DR2 on the first byte of the next page: a crossing write hits it. */
    cpu->dr[2] = 0x4000;
    cpu->dr[7] |= dr7_bp(2, 1, 0);
    mmu_debug_regs_changed(cpu);
    ck_assert(do_write(0x3ffe, 4, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 4);
    cpu->pending_dr6 = 0;
    ck_assert(do_write(0x3ffc, 4, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 0);
    /* Fetches never match data breakpoints. */
    ck_assert(do_fetch(0x3ff8, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 0);

    /* Disabled (no L/G bit): no hit even with R/W and LEN set. */
    cpu->dr[7] = (1u << 16) | (1u << 18);
    mmu_debug_regs_changed(cpu);
    ck_assert(do_write(0x3002, 2, 0, MMU_KERNEL).ok);
    ck_assert_uint_eq(cpu->pending_dr6, 0);
    ck_assert_uint_eq(entry_for(MMU_KERNEL, 0x3000)->tag[ACC_WRITE], 0x3000);
}
END_TEST

static Suite *paging_suite(void)
{
    Suite *s = suite_create("paging");
    TCase *tc = tcase_create("walk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rights_matrix);
    tcase_add_test(tc, test_rights_examples);
    tcase_add_test(tc, test_not_present_error_codes);
    tcase_add_test(tc, test_accessed_dirty);
    tcase_add_test(tc, test_ad_written_only_on_change);
    tcase_add_test(tc, test_pse_large_page);
    tcase_add_test(tc, test_ps_ignored_without_cr4_pse);
    tcase_add_test(tc, test_global_survives_cr3_flush);
    tcase_add_test(tc, test_victim_keeps_evicted_translation);
    tcase_add_test(tc, test_sys_read_from_second_table);
    tcase_add_test(tc, test_nonglobal_dropped_by_cr3_flush);
    tcase_add_test(tc, test_invlpg_large_page);
    tcase_add_test(tc, test_tlb_hit_after_fill);
    tcase_add_test(tc, test_fetch_tag_and_ptr);
    tcase_add_test(tc, test_crossing_write_faults_on_second_page);
    tcase_add_test(tc, test_crossing_access_two_frames);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_debug_translate_no_side_effects);
    tcase_add_test(tc, test_paging_off_and_a20);
    tcase_add_test(tc, test_rom_page_through_tlb);
    tcase_add_test(tc, test_mmio_page_through_tlb);
    tcase_add_test(tc, test_code_page_write_hook);
    tcase_add_test(tc, test_flush_phys_page);
    tcase_add_test(tc, test_data_breakpoints);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(paging_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
