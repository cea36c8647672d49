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
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *suite(void)
{
    Suite *s = suite_create("translator_tlbcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_known_address_32);
    tcase_add_test(tc, test_known_address_64);
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
