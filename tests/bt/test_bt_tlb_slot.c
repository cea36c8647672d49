/*
 * Accesses that cross from one page into the next where the two pages
 * share a TLB slot.  The translator's inline check compares the page of
 * an access's last byte with the tag in the slot of its first byte
 * (translator/gen_mem.c), which is sound only if a page and the page
 * after it never share a slot.  tlb_slot once folded the 4 MiB region
 * number in with XOR, which put pages 7FFFFh and 80000h in one slot, and
 * FFFFFh and 0 (an access wrapping at 4 GiB): a dword read at 7FFFFFFEh
 * right after one at 80000000h took its bytes from the host memory before
 * the second page's, and one at FFFFFFFFh wrote outside guest RAM (found
 * by the hostile-code soak, tests/soak: seed 1, program 18).
 *
 * Each program runs on the interpreter and the translator: each must read
 * or write exactly the two mapped pages' bytes (or fault), never the host
 * memory beside them, and at 2 GiB they must agree.
 */
#include <check.h>
#include <stdlib.h>

#include "softmmu/mmu.h"
#include "softmmu/tlb.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define RAM    (2u << 20)
#define PD     0x100000u
#define BUDGET 1000

typedef struct Result {
    uint32_t eax;
    int vector;
} Result;

/* Identity-map the first 4 MiB; map linear page lo_page to phys lo and
 * the page after it to phys hi (SDM Vol.3 4.3: 4 KiB pages, supervisor). */
static void map_pair(TestVM *vm, uint32_t lo_page, uint32_t lo, uint32_t hi)
{
    uint32_t hi_page = (lo_page + 1) & 0xfffff;
    uint32_t pt_low = PD + 0x1000, pt_a = PD + 0x2000, pt_b = PD + 0x3000;
    phys_write(&vm->phys, PD, pt_low | 3, 4);
    for (uint32_t i = 0; i < 1024; i++) {
        phys_write(&vm->phys, pt_low + 4 * i, i << 12 | 3, 4);
    }
    phys_write(&vm->phys, PD + 4 * (lo_page >> 10), pt_a | 3, 4);
    if (hi_page >> 10) {
        phys_write(&vm->phys, PD + 4 * (hi_page >> 10), pt_b | 3, 4);
    } else {
        /* Page 0 (wrapping at 4 GiB): keep the first 4 MiB's table, and the
         * GDT that page 0 holds, at its new place. */
        pt_b = pt_low;
        uint8_t page0[4096];
        phys_read_buf(&vm->phys, 0, page0, sizeof(page0));
        phys_write_buf(&vm->phys, hi, page0, sizeof(page0));
    }
    phys_write(&vm->phys, pt_a + 4 * (lo_page & 0x3ff), lo | 3, 4);
    phys_write(&vm->phys, pt_b + 4 * (hi_page & 0x3ff), hi | 3, 4);
    vm->cpu.cr3 = PD;
    vm->cpu.cr0 |= CR0_PG;
    cpu_update_mode(&vm->cpu);
    tlb_flush_all(&vm->cpu);
}

/* mov ebx, [second page] ; OP at the last bytes of the first page ; hlt */
static Result run(bool translate, uint32_t lo_page, bool write)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_flat32(vm, 0, TESTVM_CODE);
    uint32_t lo = 0x30000, hi = 0x40000; /* far apart in RAM */
    map_pair(vm, lo_page, lo, hi);
    /* The bytes around both pages' edges, told apart. */
    phys_write(&vm->phys, lo + 0xffe, 0x2211, 2);
    phys_write(&vm->phys, hi, 0x4433, 2);
    phys_write(&vm->phys, hi - 2, 0xffee, 2);
    uint32_t second = ((lo_page + 1) & 0xfffff) << 12;
    uint32_t edge = (lo_page << 12) + 0xffe;
    uint8_t code[] = {
        0x8b, 0x1d, 0, 0, 0, 0, /* mov ebx, [second]: its entry fills the shared slot */
        0x90, 0x05, 0, 0, 0, 0, /* read: mov eax, [edge] (8B 05); write: mov [edge], eax (89 05) */
        0xf4,                   /* hlt */
    };
    memcpy(code + 2, &second, 4);
    code[6] = write ? 0x89 : 0x8b;
    memcpy(code + 8, &edge, 4);
    testvm_load(vm, TESTVM_CODE, code, sizeof(code));
    vm->cpu.regs[R_EAX] = 0x5a5a5a5a;
    BT *bt = translate ? bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN) : NULL;
    if (bt) {
        bt_exec(bt, BUDGET);
    } else {
        cpu_exec(&vm->cpu, BUDGET);
    }
    /* The exception stubs record at linear TESTVM_LAST_VECTOR, in page 0. */
    uint32_t rec = phys_read(&vm->phys, (second == 0 ? hi : 0) + TESTVM_LAST_VECTOR, 4);
    Result r = {vm->cpu.regs[R_EAX], rec == 0xffffffffu ? -1 : (int)rec};
    if (write) {
        /* What the store left in the bytes it may have touched. */
        r.eax = phys_read(&vm->phys, lo + 0xffe, 2) | phys_read(&vm->phys, hi, 2) << 16;
        ck_assert_uint_eq(phys_read(&vm->phys, hi - 2, 2), 0xffee); /* never touched */
    }
    bt_free(bt);
    testvm_free(vm);
    return r;
}

/* The access went through both pages' mappings, or faulted. */
static void check_result(const char *engine, uint32_t lo_page, bool write, Result r)
{
    uint32_t want = write ? 0x5a5a5a5au : 0x44332211u;
    ck_assert_msg(r.vector >= 0 || r.eax == want,
                  "page %05x %s on the %s: eax %08x (want %08x), vector %d", lo_page,
                  write ? "write" : "read", engine, r.eax, want, r.vector);
}

static void check_pair(uint32_t lo_page, bool write, bool agree)
{
    Result interp = run(false, lo_page, write);
    Result trans = run(true, lo_page, write);
    check_result("interpreter", lo_page, write, interp);
    check_result("translator", lo_page, write, trans);
    if (agree) {
        ck_assert_msg(interp.vector == trans.vector && interp.eax == trans.eax,
                      "page %05x %s: interpreter eax %08x vector %d, translator eax %08x "
                      "vector %d",
                      lo_page, write ? "write" : "read", interp.eax, interp.vector, trans.eax,
                      trans.vector);
    }
}

START_TEST(test_adjacent_pages_never_share_a_slot)
{
    uint32_t shared = 0, shared2 = 0;
    for (uint32_t p = 0; p < 0x100000; p++) {
        shared += tlb_slot(p << 12) == tlb_slot(((p + 1) & 0xfffff) << 12);
        shared2 += tlb_slot2(p << 12) == tlb_slot2(((p + 1) & 0xfffff) << 12);
    }
    ck_assert_uint_eq(shared, 0);
    ck_assert_uint_eq(shared2, 0); /* the second table is checked inline too */
    /* Pages TLB_ENTRIES apart share the first table's slot and not the
     * second's (softmmu/tlb.h), and the tables do not overlap. */
    const uint32_t far = 0x00400000u + TLB_ENTRIES * 0x1000u;
    ck_assert_uint_eq(tlb_slot(0x00400000), tlb_slot(far));
    ck_assert_uint_ne(tlb_slot2(0x00400000), tlb_slot2(far));
    ck_assert_uint_lt(tlb_slot(0xfffff000), TLB_ENTRIES);
    ck_assert_uint_ge(tlb_slot2(0), TLB_ENTRIES);
    ck_assert_uint_lt(tlb_slot2(0xfffff000), TLB_SLOTS);
}
END_TEST

START_TEST(test_crossing_at_2g)
{
    check_pair(0x7ffff, false, true);
    check_pair(0x7ffff, true, true);
}
END_TEST

START_TEST(test_crossing_at_4g)
{
    /* A dword at FFFFFFFEh is past the flat segment's limit (its last
     * byte is at offset 1_00000001h): both engines raise #GP and leave
     * memory as it was (SDM Vol.3 5.3).  The translator once wrapped. */
    check_pair(0xfffff, false, true);
    check_pair(0xfffff, true, true);
}
END_TEST

/* Ring 3, paging off: code, then hlt; the vector it raised on an engine. */
static int run_ring3(bool translate, const uint8_t *code, size_t len)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_flat32(vm, 3, TESTVM_CODE);
    testvm_load(vm, TESTVM_CODE, code, len);
    BT *bt = translate ? bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN) : NULL;
    if (bt) {
        bt_exec(bt, BUDGET);
    } else {
        cpu_exec(&vm->cpu, BUDGET);
    }
    int vector = testvm_last_vector(vm);
    bt_free(bt);
    testvm_free(vm);
    return vector;
}

static void check_limit_fault(const char *what, const uint8_t *code, size_t len, int want)
{
    int interp = run_ring3(false, code, len), trans = run_ring3(true, code, len);
    ck_assert_msg(interp == want && trans == want, "%s: interpreter vector %d, translator %d (want %d)",
                  what, interp, trans, want);
}

START_TEST(test_wrap_past_the_limit_faults)
{
    /* The stack (SS: #SS), an x87 operand (its own slow path) and an
     * ordinary one through DS, each with the last byte past FFFFFFFFh. */
    static const uint8_t pop[] = {0xbc, 0xfe, 0xff, 0xff, 0xff, /* mov esp, 0xfffffffe */
                                  0x58, 0xf4};                   /* pop eax ; hlt */
    static const uint8_t push[] = {0xbc, 0x02, 0, 0, 0, /* mov esp, 2 */
                                   0x50, 0xf4};         /* push eax ; hlt */
    static const uint8_t fld[] = {0xd9, 0x05, 0xfe, 0xff, 0xff, 0xff, /* fld dword [0xfffffffe] */
                                  0xf4};
    static const uint8_t add[] = {0x01, 0x05, 0xfd, 0xff, 0xff, 0xff, /* add [0xfffffffd], eax */
                                  0xf4};
    check_limit_fault("pop", pop, sizeof(pop), 12);
    check_limit_fault("push", push, sizeof(push), 12);
    check_limit_fault("fld", fld, sizeof(fld), 13);
    check_limit_fault("add", add, sizeof(add), 13);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bt_tlb_slot");
    TCase *tc = tcase_create("crossing");
    tcase_add_test(tc, test_adjacent_pages_never_share_a_slot);
    tcase_add_test(tc, test_crossing_at_2g);
    tcase_add_test(tc, test_crossing_at_4g);
    tcase_add_test(tc, test_wrap_past_the_limit_faults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
