/*
 * Calls to PC thunks (i386 PIC code's __x86.get_pc_thunk.REG: "mov REG,
 * [esp] ; ret") run inside the calling block (translator/scan.c,
 * gen_flow.c): the block goes on at the return address with no exit and
 * no return lookup, and stays exact when the thunk is rewritten or its
 * page remapped.  Each program runs translated and on the interpreter,
 * which must agree on everything.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM   (4u << 20)
#define THUNK 0x30000u /* mov ebx, [esp] ; ret   and at +10h: mov ecx, [esp] ; ret */
#define ALT   0x32000u /* a page THUNK is remapped to: mov ebp, [esp] ; ret */

/*
 * loop:     xor esi, esi ; xor edi, edi
 *       1:  call THUNK ; add esi, ebx ; call THUNK+10h ; add esi, ecx
 *           imul esi, esi, 5 ; inc edi ; cmp edi, 5 ; jb 1b ; hlt
 * code:     xor esi, esi ; xor edi, edi
 *       1:  xor ebx, ebx ; xor edx, edx ; xor ebp, ebp ; call THUNK
 *           (ebx, edx, ebp += esi ; esi = (esi * 5 + ebx) ^ edx - ebp)
 *           iteration 1: mov byte [THUNK+1], 14h   ; now mov edx, [esp]
 *           iteration 2: THUNK's PTE = ALT ; invlpg ; call THUNK+10h
 *           iteration 3: THUNK's PTE = THUNK ; invlpg ; call THUNK+10h
 *           inc edi ; cmp edi, 5 ; jb 1b ; hlt
 * In code the loop's first block, with the thunk inlined, runs again after
 * each change: after the store it must have been dropped, after each remap
 * (the other call through the page refilled the TLB) its call must see the
 * page is another one.
 */
static const uint8_t code[] = {
    0x31, 0xf6, 0x31, 0xff, 0x31, 0xdb, 0x31, 0xd2, 0x31, 0xed, 0xe8, 0xf1, 0xff, 0x01, 0x00,
    0x01, 0xf3, 0x01, 0xf2, 0x01, 0xf5, 0x6b, 0xf6, 0x05, 0x01, 0xde, 0x31, 0xd6, 0x29, 0xee,
    0x83, 0xff, 0x01, 0x75, 0x07, 0xc6, 0x05, 0x01, 0x00, 0x03, 0x00, 0x14, 0x83, 0xff, 0x02,
    0x75, 0x16, 0xc7, 0x05, 0xc0, 0x10, 0x10, 0x00, 0x07, 0x20, 0x03, 0x00, 0x0f, 0x01, 0x3d,
    0x00, 0x00, 0x03, 0x00, 0xe8, 0xcb, 0xff, 0x01, 0x00, 0x83, 0xff, 0x03, 0x75, 0x16, 0xc7,
    0x05, 0xc0, 0x10, 0x10, 0x00, 0x07, 0x00, 0x03, 0x00, 0x0f, 0x01, 0x3d, 0x00, 0x00, 0x03,
    0x00, 0xe8, 0xb0, 0xff, 0x01, 0x00, 0x47, 0x83, 0xff, 0x05, 0x72, 0x9e, 0xf4};
static const uint8_t loop[] = {0x31, 0xf6, 0x31, 0xff, 0xe8, 0xf7, 0xff, 0x01, 0x00, 0x01,
                               0xde, 0xe8, 0x00, 0x00, 0x02, 0x00, 0x01, 0xce, 0x6b, 0xf6,
                               0x05, 0x47, 0x83, 0xff, 0x05, 0x72, 0xe9, 0xf4};

static TestVM *make_vm(const uint8_t *prog, size_t len)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, prog, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    testvm_paged32(vm, TESTVM_NO_PAGE, TESTVM_NO_PAGE);
    static const uint8_t ebx[] = {0x8b, 0x1c, 0x24, 0xc3}, ecx[] = {0x8b, 0x0c, 0x24, 0xc3},
                         ebp[] = {0x8b, 0x2c, 0x24, 0xc3};
    testvm_load(vm, THUNK, ebx, sizeof(ebx));
    testvm_load(vm, THUNK + 0x10, ecx, sizeof(ecx));
    testvm_load(vm, ALT, ebp, sizeof(ebp));
    testvm_load(vm, ALT + 0x10, ecx, sizeof(ecx));
    return vm;
}

static BT *run_both(TestVM *vm, TestVM *ref)
{
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), -1);
    for (int r = 0; r < 8; r++) {
        ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r], "reg %d: %08x, interpreter %08x", r,
                      (unsigned)vm->cpu.regs[r], (unsigned)ref->cpu.regs[r]);
    }
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
    return bt;
}

/* The loop's ten thunk calls: only the first one, before the thunk's page
 * was ever fetched, leaves the block (and its RET the jump cache); the
 * others run inline, with no return at all. */
START_TEST(test_thunk_calls_inline)
{
    TestVM *ref = make_vm(loop, sizeof(loop));
    TestVM *vm = make_vm(loop, sizeof(loop));
    BT *bt = run_both(vm, ref);
    ck_assert_uint_le(bt_stats(bt)->ret_total, 2);     /* 10 without inlining */
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* hlt */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* The thunk rewritten (the block that inlined it is dropped) and its page
 * remapped (the call sees the new mapping), then mapped back. */
START_TEST(test_thunk_rewritten_and_remapped)
{
    TestVM *ref = make_vm(code, sizeof(code));
    TestVM *vm = make_vm(code, sizeof(code));
    BT *bt = run_both(vm, ref);
    ck_assert_uint_ge(bt_stats(bt)->invalidations, 1);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* Both programs under the lockstep checker, which must find no difference. */
START_TEST(test_thunks_checked)
{
    const uint8_t *progs[] = {loop, code};
    size_t lens[] = {sizeof(loop), sizeof(code)};
    for (int i = 0; i < 2; i++) {
        TestVM *ref = make_vm(progs[i], lens[i]);
        TestVM *vm = make_vm(progs[i], lens[i]);
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_CHECK);
        ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
        ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
        ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
        ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_thunk");
    TCase *tc = tcase_create("thunk");
    tcase_add_test(tc, test_thunk_calls_inline);
    tcase_add_test(tc, test_thunk_rewritten_and_remapped);
    tcase_add_test(tc, test_thunks_checked);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
