/*
 * softmmu/paging_lm.c, the 4-level walk of long mode, and the 64-bit
 * linear addresses of the shadow TLB (softmmu/tlb.h, tlb.c, mmu.c),
 * against the SDM rules: Vol.3 4.5 (structures, 2 MiB and 1 GiB pages),
 * 4.6 (rights accumulated over the levels, CR0.WP, XD), 4.7 (error codes
 * with RSVD and I/D), 4.8 (A/D bits), 4.10 (global pages, INVLPG) and
 * 3.3.7.1 (canonical addresses).
 *
 * The CPU cannot enter long mode by itself yet (cpu/ does that), so the
 * tests set CR0, CR4, CR3 and EFER.LMA directly.  Tables are built by hand
 * in guest RAM; LIN is a kernel-half address whose walk goes through
 * PML4[256], PDPT[0], PD[2] and PT[3].
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MIB   (1024u * 1024u)
#define PML4  0x1000u
#define PDPT  0x2000u
#define PD    0x3000u
#define PT    0x4000u
#define FRAME 0x8000u

#define P  0x001ull
#define RW 0x002ull
#define US 0x004ull
#define A  0x020ull
#define D  0x040ull
#define PS 0x080ull
#define G  0x100ull
#define XD (1ull << 63)

#define LIN 0xffff800000403000ull /* PML4 256, PDPT 0, PD 2, PT 3 */

#define PDPE1GB (1u << 26) /* CPUID.80000001h:EDX */

static PhysMem pm;
static CPUState *cpu;

/* Table base and index of LIN's entry at each level (0 = PT, 3 = PML4). */
static const uint32_t table_of[4] = {PT, PD, PDPT, PML4};

static void put64(uint32_t paddr, uint64_t v)
{
    memcpy(pm.ram + paddr, &v, 8);
}

static uint64_t get64(uint32_t paddr)
{
    uint64_t v;
    memcpy(&v, pm.ram + paddr, 8);
    return v;
}

static uint32_t entry_addr(int level, uint64_t lin)
{
    return table_of[level] + (uint32_t)((lin >> (12 + 9 * level)) & 0x1ff) * 8;
}

static void set_entry(int level, uint64_t lin, uint64_t v)
{
    put64(entry_addr(level, lin), v);
}

static uint64_t entry_of(int level, uint64_t lin)
{
    return get64(entry_addr(level, lin));
}

/* The four entries mapping lin to FRAME with all rights, plus extra. */
static void map_4k(uint64_t lin, uint64_t extra)
{
    set_entry(3, lin, PDPT | P | RW | US | extra);
    set_entry(2, lin, PD | P | RW | US | extra);
    set_entry(1, lin, PT | P | RW | US | extra);
    set_entry(0, lin, FRAME | P | RW | US | extra);
}

static void setup(void)
{
    ck_assert(phys_init(&pm, 16 * MIB));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu_init(cpu, &pm, NULL);
    map_4k(LIN, 0);
    /* Long mode as a kernel leaves it: PAE, LME/LMA, paging on. */
    cpu->cr0 = CR0_PE | CR0_PG | CR0_WP;
    cpu->cr4 = CR4_PAE;
    cpu->cr3 = PML4;
    cpu->efer = EFER_LME | EFER_LMA | EFER_NXE;
    tlb_flush_all(cpu);
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

typedef struct Walk {
    bool ok;
    uint64_t phys;
    uint32_t error;
    bool global;
    uint32_t size;
} Walk;

static Walk walk(uint64_t lin, int access, int mmu_idx)
{
    Walk w = {0};
    w.ok = paging_walk(cpu, lin, access, mmu_idx, true, &w.phys, &w.error, &w.global, &w.size);
    return w;
}

/* An access through the slow path; returns the vector (-1: none). */
static int access_slow(uint64_t lin, int access, int mmu_idx, uint64_t *value)
{
    if (setjmp(cpu->jmp_env)) {
        int v = cpu->exception_vector;
        cpu->exception_vector = -1;
        return v;
    }
    if (access == ACC_WRITE) {
        mmu_write_slow(cpu, lin, 8, *value, mmu_idx);
    } else {
        *value = mmu_read_slow(cpu, lin, 8, mmu_idx, access);
    }
    return -1;
}

START_TEST(test_lm_4k_walk)
{
    put64(FRAME + 0x18, 0x1122334455667788ull);
    Walk w = walk(LIN + 0x18, ACC_READ, MMU_KERNEL);
    ck_assert(w.ok);
    ck_assert_uint_eq(w.phys, FRAME + 0x18);
    ck_assert_uint_eq(w.size, 0x1000);
    ck_assert(!w.global);
    uint64_t v = 0;
    ck_assert_int_eq(access_slow(LIN + 0x18, ACC_READ, MMU_KERNEL, &v), -1);
    ck_assert_uint_eq(v, 0x1122334455667788ull);
    /* An 8-byte write crossing into an unmapped page stores nothing. */
    v = 0xaabbccddeeff0011ull;
    ck_assert_int_eq(access_slow(LIN + 0xffc, ACC_WRITE, MMU_KERNEL, &v), EXC_PF);
    ck_assert_uint_eq(get64(FRAME + 0xff8), 0);
    ck_assert_uint_eq(cpu->cr2, (__typeof__(cpu->cr2))(LIN + 0x1000));
    ck_assert_uint_eq(cpu->exception_error, PF_ERR_W);
}
END_TEST

/*
 * Rights over all four levels: U/S and R/W of each level (2^8), XD in none
 * or one level, NXE, CR0.WP, user or supervisor, read/write/fetch.  The
 * SDM's rules restated: rights are the AND over the levels, a user access
 * needs U/S everywhere and R/W everywhere to write, a supervisor write to
 * a read-only page faults only with WP, a fetch faults if any level has
 * XD (with NXE; without it XD is a reserved bit).  A success sets A in
 * every entry and D in the leaf on a write; a fault touches nothing.
 */
START_TEST(test_lm_rights_matrix)
{
    static const int accesses[3] = {ACC_READ, ACC_WRITE, ACC_FETCH};
    for (int bits = 0; bits < 256; bits++) {
        for (int xd_level = -1; xd_level < 4; xd_level++) {
            for (int mode = 0; mode < 8; mode++) {
                bool nxe = mode & 1, wp = mode & 2, user = mode & 4;
                uint64_t entry[4];
                bool all_us = true, all_rw = true;
                for (int l = 0; l < 4; l++) {
                    bool us = bits & (1 << (2 * l)), rw = bits & (2 << (2 * l));
                    all_us &= us;
                    all_rw &= rw;
                    uint64_t base = l == 3 ? PDPT : l == 2 ? PD : l == 1 ? PT : FRAME;
                    entry[l] = base | P | (us ? US : 0) | (rw ? RW : 0) | (xd_level == l ? XD : 0);
                }
                for (int k = 0; k < 3; k++) {
                    int access = accesses[k];
                    bool write = access == ACC_WRITE, fetch = access == ACC_FETCH;
                    for (int l = 0; l < 4; l++) {
                        set_entry(l, LIN, entry[l]);
                    }
                    cpu->cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
                    cpu->efer = EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0);
                    bool rsvd = !nxe && xd_level >= 0;
                    bool rights = user ? (all_us && (!write || all_rw))
                                       : (!write || all_rw || !wp);
                    bool exec = !fetch || xd_level < 0;
                    bool expect_ok = !rsvd && rights && exec;
                    Walk w = walk(LIN, access, user ? MMU_USER : MMU_KERNEL);
                    ck_assert_msg(w.ok == expect_ok, "bits %#x xd %d mode %d access %d", bits,
                                  xd_level, mode, access);
                    for (int l = 0; l < 4; l++) {
                        uint64_t want = entry[l];
                        if (expect_ok) {
                            want |= A | (l == 0 && write ? D : 0);
                        }
                        ck_assert_uint_eq(entry_of(l, LIN), want);
                    }
                    if (!expect_ok) {
                        uint32_t err = PF_ERR_P | (write ? PF_ERR_W : 0) |
                                       (user ? PF_ERR_U : 0) | (rsvd ? PF_ERR_RSVD : 0) |
                                       (fetch && nxe ? PF_ERR_I : 0);
                        ck_assert_msg(w.error == err, "bits %#x xd %d mode %d access %d: %#x",
                                      bits, xd_level, mode, access, w.error);
                    }
                }
            }
        }
    }
}
END_TEST

/* A not-present entry at any level: P = 0 in the error code, reserved
 * bits in it ignored, and I/D on a fetch only with NXE. */
START_TEST(test_lm_not_present)
{
    for (int l = 0; l < 4; l++) {
        map_4k(LIN, 0);
        set_entry(l, LIN, entry_of(l, LIN) & ~P);
        set_entry(l, LIN, entry_of(l, LIN) | (1ull << 45)); /* reserved, but not present */
        Walk w = walk(LIN, ACC_WRITE, MMU_USER);
        ck_assert(!w.ok);
        ck_assert_uint_eq(w.error, PF_ERR_W | PF_ERR_U);
        w = walk(LIN, ACC_FETCH, MMU_KERNEL);
        ck_assert_uint_eq(w.error, PF_ERR_I);
        cpu->efer &= ~(uint64_t)EFER_NXE;
        w = walk(LIN, ACC_FETCH, MMU_KERNEL);
        ck_assert_uint_eq(w.error, 0);
        cpu->efer |= EFER_NXE;
        /* A walk that faults sets no Accessed bit. */
        for (int k = 3; k > l; k--) {
            ck_assert_uint_eq(entry_of(k, LIN) & A, 0);
        }
    }
}
END_TEST

/* Reserved bits: 51:MAXPHYADDR in every entry, PML4E.PS, and 62:52 are
 * ignored.  RSVD comes with P whatever the access. */
START_TEST(test_lm_reserved_bits)
{
    for (int l = 0; l < 4; l++) {
        for (int bit = MMU_LM_MAXPHYADDR; bit <= 62; bit++) {
            map_4k(LIN, 0);
            set_entry(l, LIN, entry_of(l, LIN) | (1ull << bit));
            Walk w = walk(LIN, ACC_READ, MMU_USER);
            if (bit <= 51) {
                ck_assert_msg(!w.ok, "level %d bit %d", l, bit);
                ck_assert_uint_eq(w.error, PF_ERR_P | PF_ERR_U | PF_ERR_RSVD);
            } else {
                ck_assert_msg(w.ok, "level %d bit %d is ignored", l, bit);
                ck_assert_uint_eq(w.phys, FRAME);
            }
        }
    }
    map_4k(LIN, 0);
    set_entry(3, LIN, entry_of(3, LIN) | PS);
    Walk w = walk(LIN, ACC_WRITE, MMU_KERNEL);
    ck_assert(!w.ok);
    ck_assert_uint_eq(w.error, PF_ERR_P | PF_ERR_W | PF_ERR_RSVD);
    /* A reserved bit beats a rights violation. */
    map_4k(LIN, 0);
    set_entry(0, LIN, (FRAME | P | (1ull << 40)));
    w = walk(LIN, ACC_WRITE, MMU_USER);
    ck_assert_uint_eq(w.error, PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD);
}
END_TEST

/* 2 MiB pages: PD.PS, bits 20:13 reserved, bit 12 (PAT) not; D, A, G. */
START_TEST(test_lm_2m_pages)
{
    uint64_t lin = 0xffff800000600000ull + 0x12345; /* PD[3] */
    set_entry(1, lin, 0x400000 | P | RW | PS | G);
    cpu->cr4 |= CR4_PGE;
    Walk w = walk(lin, ACC_WRITE, MMU_KERNEL);
    ck_assert(w.ok);
    ck_assert_uint_eq(w.phys, 0x400000 + 0x12345);
    ck_assert_uint_eq(w.size, 0x200000);
    ck_assert(w.global);
    ck_assert_uint_eq(entry_of(1, lin), 0x400000 | P | RW | PS | G | A | D);
    for (int bit = 13; bit <= 20; bit++) {
        set_entry(1, lin, 0x400000 | P | RW | PS | (1ull << bit));
        ck_assert_msg(!walk(lin, ACC_READ, MMU_KERNEL).ok, "bit %d", bit);
    }
    set_entry(1, lin, 0x400000 | P | RW | PS | (1ull << 12));
    ck_assert(walk(lin, ACC_READ, MMU_KERNEL).ok);
    /* G outside a leaf is ignored. */
    map_4k(LIN, G);
    w = walk(LIN, ACC_READ, MMU_KERNEL);
    ck_assert(w.ok && w.global);
    set_entry(0, LIN, FRAME | P);
    w = walk(LIN, ACC_READ, MMU_KERNEL);
    ck_assert(w.ok && !w.global);
}
END_TEST

/* 1 GiB pages exist only where the model reports Page1GB. */
START_TEST(test_lm_1g_pages)
{
    uint64_t lin = 0xffff800040000000ull + 0x2345678; /* PDPT[1] */
    set_entry(2, lin, 0x00000000ull | P | RW | PS);
    cpu->cpuid.ext_edx &= ~PDPE1GB;
    Walk w = walk(lin, ACC_READ, MMU_KERNEL);
    ck_assert(!w.ok);
    ck_assert_uint_eq(w.error, PF_ERR_P | PF_ERR_RSVD);
    cpu->cpuid.ext_edx |= PDPE1GB;
    w = walk(lin, ACC_READ, MMU_KERNEL);
    ck_assert(w.ok);
    ck_assert_uint_eq(w.phys, 0x2345678);
    ck_assert_uint_eq(w.size, 0x40000000u);
    ck_assert_uint_eq(entry_of(2, lin), P | RW | PS | A);
    for (int bit = 13; bit <= 29; bit++) {
        set_entry(2, lin, P | RW | PS | (1ull << bit));
        ck_assert_msg(!walk(lin, ACC_READ, MMU_KERNEL).ok, "bit %d", bit);
    }
    set_entry(2, lin, P | RW | PS | (1ull << 12)); /* PAT */
    ck_assert(walk(lin, ACC_READ, MMU_KERNEL).ok);
    /* Above 4 GiB: no memory, reads all ones. */
    set_entry(2, lin, (1ull << 32) | P | RW | PS);
    uint64_t v = 0;
    ck_assert_int_eq(access_slow(lin, ACC_READ, MMU_KERNEL, &v), -1);
    ck_assert_uint_eq(v, ~0ull);
}
END_TEST

/* A paging structure above 4 GiB (nothing there) reads as all ones. */
START_TEST(test_lm_table_above_4g)
{
    set_entry(2, LIN, (1ull << 33) | P | RW | US);
    Walk w = walk(LIN, ACC_READ, MMU_KERNEL);
    ck_assert(!w.ok);
    ck_assert_uint_eq(w.error, PF_ERR_P | PF_ERR_RSVD);
}
END_TEST

/* Compatibility mode: a 32-bit address still walks four levels. */
START_TEST(test_lm_low_addresses)
{
    uint64_t lin = 0x00403000ull; /* PML4 0, PDPT 0, PD 2, PT 3 */
    set_entry(3, lin, PDPT | P | RW | US);
    Walk w = walk(lin, ACC_READ, MMU_USER);
    ck_assert(w.ok);
    ck_assert_uint_eq(w.phys, FRAME);
    /* Without LMA the same CR3 is a PAE PDPT: a different walk. */
    cpu->efer = EFER_NXE;
    cpu->pdpte[0] = 0;
    ck_assert(!walk(lin, ACC_READ, MMU_USER).ok);
}
END_TEST

/*
 * The TLB tells apart linear pages that differ only above bit 31: 0x5000
 * and 4 GiB + 0x5000 share a slot.  With a 32-bit tag the second would
 * hit the first's entry.  The inline check (cpu/mem.h) and the slow path
 * both must see the right page.
 */
START_TEST(test_lm_tlb_tags_above_4g)
{
    uint64_t low = 0x5000, high = 0x100005000ull;
    ck_assert_uint_eq(tlb_slot(low), tlb_slot(high));
    set_entry(3, low, PDPT | P | RW | US);
    set_entry(2, low, PD | P | RW | US);
    set_entry(2, high, 0x6000 | P | RW | US); /* PDPT[4] */
    put64(0x6000, 0x7000 | P | RW | US);       /* a PD */
    put64(0x7000 + 5 * 8, 0x9000 | P | RW | US); /* a PT: page 5 -> 0x9000 */
    set_entry(1, low, 0xa000 | P | RW | US);
    put64(0xa000 + 5 * 8, FRAME | P | RW | US); /* page 5 of the low 2 MiB -> FRAME */
    put64(FRAME, 0x1111);
    put64(0x9000, 0x2222);
    uint64_t v = 0;
    ck_assert_int_eq(access_slow(high, ACC_READ, MMU_KERNEL, &v), -1);
    ck_assert_uint_eq(v, 0x2222);
    ck_assert_uint_eq(lin_read_idx(cpu, (uint32_t)low, 4, MMU_KERNEL), 0x1111);
    ck_assert_uint_eq(mmu_read_slow(cpu, high, 4, MMU_KERNEL, ACC_READ), 0x2222);
    ck_assert_uint_eq(cpu->tlb.e[MMU_KERNEL][tlb_slot(high)].tag[ACC_READ], high);
}
END_TEST

/* INVLPG anywhere in a 1 GiB page drops every 4 KiB piece of it, though
 * they lie in different 4 MiB regions. */
START_TEST(test_lm_invlpg_1g)
{
    cpu->cpuid.ext_edx |= PDPE1GB;
    uint64_t base = 0xffff800040000000ull; /* PDPT[1] */
    uint64_t a = base + 0x10000, b = base + 0xc01000ull; /* regions 0 and 3 of the page */
    set_entry(2, base, P | RW | PS); /* physical 0 */
    put64(0x10000, 0xaaaa);
    ck_assert_uint_eq(mmu_read_slow(cpu, a, 4, MMU_KERNEL, ACC_READ), 0xaaaa);
    ck_assert_uint_eq(mmu_read_slow(cpu, b, 4, MMU_KERNEL, ACC_READ), 0);
    set_entry(2, base, 0x40000000ull | P | RW | PS); /* beyond RAM: all ones */
    tlb_flush_page(cpu, base + 0x800000ull); /* region 2 */
    ck_assert_uint_eq(mmu_read_slow(cpu, a, 4, MMU_KERNEL, ACC_READ), 0xffffffffu);
    ck_assert_uint_eq(mmu_read_slow(cpu, b, 4, MMU_KERNEL, ACC_READ), 0xffffffffu);
}
END_TEST

/* Regions 4 GiB apart share a large_regions bit: INVLPG in one clears it,
 * so it must drop the large-page pieces of the other as well. */
START_TEST(test_lm_invlpg_shared_region_bit)
{
    uint64_t low = 0x00400000ull, high = 0x100400000ull;
    set_entry(3, low, PDPT | P | RW | US);
    set_entry(2, low, PD | P | RW | US);
    set_entry(2, high, 0x6000 | P | RW | US); /* PDPT[4] -> a PD at 0x6000 */
    put64(0x6000 + 2 * 8, 0x200000 | P | RW | PS);
    set_entry(1, low, 0x400000 | P | RW | PS);
    put64(0x200000 + 0x1000, 0x1234);
    ck_assert_uint_eq(mmu_read_slow(cpu, high + 0x1000, 4, MMU_KERNEL, ACC_READ), 0x1234);
    ck_assert_uint_eq(mmu_read_slow(cpu, low, 4, MMU_KERNEL, ACC_READ), 0);
    tlb_flush_page(cpu, low);
    put64(0x6000 + 2 * 8, 0x600000 | P | RW | PS);
    put64(0x600000 + 0x1000, 0x5678);
    tlb_flush_page(cpu, high);
    ck_assert_uint_eq(mmu_read_slow(cpu, high + 0x1000, 4, MMU_KERNEL, ACC_READ), 0x5678);
}
END_TEST

START_TEST(test_lm_canonical)
{
    ck_assert(mmu_canonical(0));
    ck_assert(mmu_canonical(0x00007fffffffffffull));
    ck_assert(!mmu_canonical(0x0000800000000000ull));
    ck_assert(!mmu_canonical(0xffff7fffffffffffull));
    ck_assert(mmu_canonical(0xffff800000000000ull));
    ck_assert(mmu_canonical(~0ull));
    ck_assert(!mmu_canonical(1ull << 63));
    ck_assert(!mmu_canonical(0x0001000000000000ull));
}
END_TEST

static Suite *paging_lm_suite(void)
{
    Suite *s = suite_create("paging_lm");
    TCase *tc = tcase_create("lm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lm_4k_walk);
    tcase_add_test(tc, test_lm_rights_matrix);
    tcase_add_test(tc, test_lm_not_present);
    tcase_add_test(tc, test_lm_reserved_bits);
    tcase_add_test(tc, test_lm_2m_pages);
    tcase_add_test(tc, test_lm_1g_pages);
    tcase_add_test(tc, test_lm_table_above_4g);
    tcase_add_test(tc, test_lm_low_addresses);
    tcase_add_test(tc, test_lm_tlb_tags_above_4g);
    tcase_add_test(tc, test_lm_invlpg_1g);
    tcase_add_test(tc, test_lm_invlpg_shared_region_bit);
    tcase_add_test(tc, test_lm_canonical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(paging_lm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
