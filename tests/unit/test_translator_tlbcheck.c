/*
 * The inline TLB check of a memory operand whose address the translator
 * knows (translator/gen_mem.c, gen_lin_const): an absolute operand in
 * 32-bit code, a RIP-relative or absolute one in 64-bit code (here at the
 * kernel-half alias, whose pages need 64 bits).  The slot and the page
 * are constants there, so a loop over a few globals must hit the TLB on
 * every iteration after the first (a wrong slot or page would send every
 * access to the slow path, which still gets the data right: only the
 * count of slow paths shows it), and an operand that crosses a page must
 * still miss and go the slow way.  Each program also runs on the
 * interpreter: registers and RAM must agree.
 *
 * Two pages TLB_ENTRIES pages apart share a slot of the TLB's first table,
 * and the second table (softmmu/tlb.h) is what keeps both: a loop that goes back
 * and forth between them must hit inline too, or every access is a call
 * into C (the memory benchmark ran 15x slower that way).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "softmmu/tlb.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define RAM (4u << 20)

/* clang-format off */
/*
 * at 0x10000:
 *         mov ecx, 200 ; xor ebx, ebx
 *   l:    mov edx, [0x20000] ; mov eax, [0x20008]     ; ModRM and moffs forms
 *         add [0x20004], edx ; add ebx, eax ; inc dword [0x20000]
 *         dec ecx ; jnz l
 *         mov edx, [0x20ffe]                          ; across a page: the slow path
 *         hlt
 */
static const uint8_t code32[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x8b, 0x15, 0x00, 0x00, 0x02,
    0x00, 0xa1, 0x08, 0x00, 0x02, 0x00, 0x01, 0x15, 0x04, 0x00, 0x02, 0x00,
    0x01, 0xc3, 0xff, 0x05, 0x00, 0x00, 0x02, 0x00, 0x49, 0x75, 0xe4, 0x8b,
    0x15, 0xfe, 0x0f, 0x02, 0x00, 0xf4,
};
/*
 * at TESTVM_HIGH + 0x10000 (data = TESTVM_HIGH + 0x20000):
 *         mov ecx, 200 ; xor ebx, ebx
 *   l:    mov rax, [rel data] ; add [rel data+8], rax ; add rbx, rax
 *         inc qword [rel data] ; add rbx, [abs data+0x10]
 *         dec ecx ; jnz l
 *         mov rdx, [rel data+0xffc]                   ; across a page
 *         hlt
 */
static const uint8_t code64[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x48, 0x8b, 0x05, 0xf2, 0xff,
    0x00, 0x00, 0x48, 0x01, 0x05, 0xf3, 0xff, 0x00, 0x00, 0x48, 0x01, 0xc3,
    0x48, 0xff, 0x05, 0xe1, 0xff, 0x00, 0x00, 0x48, 0x03, 0x1c, 0x25, 0x10,
    0x00, 0x02, 0x80, 0xff, 0xc9, 0x75, 0xdc, 0x48, 0x8b, 0x15, 0xca, 0x0f,
    0x01, 0x00, 0xf4,
};
#define ALIAS_A 0x00400000u
#define ALIAS_B (ALIAS_A + TLB_ENTRIES * 0x1000u) /* the same first-table slot */
/*
 * at 0x10000, with ALIAS_A and ALIAS_B mapped (one TLB slot; ALIAS_B's
 * bytes are put in by alias_code()):
 *         mov esi, ALIAS_A ; mov edi, ALIAS_B ; mov ecx, 200 ; xor ebx, ebx
 *   l:    mov eax, [esi] ; add [edi], eax ; add ebx, [esi+4]
 *         mov edx, [edi+8] ; add [esi+8], edx
 *         dec ecx ; jnz l
 *         hlt
 */
static uint8_t code_alias[] = {
    0xbe, 0x00, 0x00, 0x40, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0xb9, 0xc8,
    0x00, 0x00, 0x00, 0x31, 0xdb, 0x8b, 0x06, 0x01, 0x07, 0x03, 0x5e, 0x04,
    0x8b, 0x57, 0x08, 0x01, 0x56, 0x08, 0xff, 0xc9, 0x75, 0xef, 0xf4,
};
/*
 * The same pages, ALIAS_B read-only: it lives in the second table with a
 * read tag only, and a write to it must still fault (the write's check
 * looks at the second table's write tag):
 *         mov esi, ALIAS_A ; mov edi, ALIAS_B ; mov ecx, 50
 *   l:    mov eax, [esi] ; add eax, [edi] ; mov [esi+8], eax
 *         dec ecx ; jnz l
 *         mov [edi], eax                              ; #PF
 *         hlt
 */
static uint8_t code_alias_ro[] = {
    0xbe, 0x00, 0x00, 0x40, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0xb9, 0x32,
    0x00, 0x00, 0x00, 0x8b, 0x06, 0x03, 0x07, 0x89, 0x46, 0x08, 0xff, 0xc9,
    0x75, 0xf5, 0x89, 0x07, 0xf4,
};
/* clang-format on */

static TestVM *make_vm(const uint8_t *code, size_t len, bool code64)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    for (uint32_t a = 0x20000; a < 0x22000; a += 4) {
        uint32_t v = a * 2654435761u;
        testvm_load(vm, a, (const uint8_t *)&v, 4);
    }
    if (code64) {
        testvm_flat32(vm, 0, TESTVM_CODE);
        testvm_long_mode(vm, true);
        vm->cpu.eip = TESTVM_HIGH + TESTVM_CODE;
    } else {
        testvm_flat32(vm, 0, TESTVM_CODE);
        testvm_paged32(vm, TESTVM_NO_PAGE, TESTVM_NO_PAGE);
    }
    return vm;
}

/* Linear ALIAS_A and ALIAS_B onto physical 0x20000 and 0x21000. */
static void map_alias_pages(TestVM *vm, bool b_readonly)
{
    const uint32_t lins[2] = {ALIAS_A, ALIAS_B}, pts[2] = {0x30000, 0x31000},
                   frames[2] = {0x20000, 0x21000};
    for (int i = 0; i < 2; i++) {
        uint32_t pde = pts[i] | 7, pte = frames[i] | (i == 1 && b_readonly ? 5 : 7);
        testvm_load(vm, TESTVM_PD + 4 * (lins[i] >> 22), &pde, 4);
        testvm_load(vm, pts[i] + 4 * ((lins[i] >> 12) & 0x3ff), &pte, 4);
    }
    tlb_flush_all(&vm->cpu);
}

static void alias_code(uint8_t *code)
{
    uint32_t b = ALIAS_B;
    memcpy(&code[6], &b, 4); /* mov edi, imm32 */
}

static void run_both(const uint8_t *code, size_t len, bool code64)
{
    TestVM *ref = make_vm(code, len, code64);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    TestVM *vm = make_vm(code, len, code64);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_ptr_nonnull(bt);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_le(st->callout_insns, 1); /* HLT */
    /* 200 iterations of four or five accesses: only the first touches of
     * each page and the crossing operand miss. */
    ck_assert_uint_ge(st->mem_slow, 1);
    ck_assert_uint_lt(st->mem_slow, 10);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}

START_TEST(test_known_address_32)
{
    run_both(code32, sizeof(code32), false);
}
END_TEST

START_TEST(test_known_address_64)
{
    run_both(code64, sizeof(code64), true);
}
END_TEST

/* code on the interpreter and the translator with the alias pages mapped:
 * registers, RAM and the last vector must agree; returns the slow paths. */
static uint64_t run_alias(uint8_t *code, size_t len, bool b_readonly)
{
    ck_assert_uint_eq(tlb_slot(ALIAS_A), tlb_slot(ALIAS_B));
    ck_assert_uint_ne(tlb_slot2(ALIAS_A), tlb_slot2(ALIAS_B));
    ck_assert_uint_eq(ALIAS_A >> 22 != ALIAS_B >> 22, 1); /* two page tables */
    alias_code(code);
    TestVM *ref = make_vm(code, len, false);
    map_alias_pages(ref, b_readonly);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    TestVM *vm = make_vm(code, len, false);
    map_alias_pages(vm, b_readonly);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_ptr_nonnull(bt);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
    ck_assert_int_eq(testvm_last_vector(vm), testvm_last_vector(ref));
    ck_assert_int_eq(testvm_last_vector(vm), b_readonly ? EXC_PF : -1);
    uint64_t slow = bt_stats(bt)->mem_slow;
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
    return slow;
}

START_TEST(test_pages_sharing_a_slot)
{
    /* 200 iterations of five accesses, alternating pages: only the first
     * touches miss (a read fill, then a write fill of each page). */
    uint64_t slow = run_alias(code_alias, sizeof(code_alias), false);
    ck_assert_uint_ge(slow, 2);
    ck_assert_uint_lt(slow, 10);
}
END_TEST

START_TEST(test_readonly_page_in_second_table)
{
    run_alias(code_alias_ro, sizeof(code_alias_ro), true);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator_tlbcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_known_address_32);
    tcase_add_test(tc, test_known_address_64);
    tcase_add_test(tc, test_pages_sharing_a_slot);
    tcase_add_test(tc, test_readonly_page_in_second_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
