/*
 * Instructions translated code runs with no callout though the guest state
 * they touch is not in host registers (translator/gen_ops.c gen_hint_insn,
 * gen_fpu.c): the fences and PAUSE as the host's own, CLD/STD on the DF
 * bit in CPUState, FNSTCW from the host FPU holding the guest's control
 * word.  The callout count shows they ran natively; the interpreter agrees
 * on the result.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM (4u << 20)

static TestVM *make_vm(const uint8_t *code, size_t len)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    return vm;
}

/*
 *   std ; mfence ; lfence ; sfence ; pause ; fld1 ; fnstcw [0x20000]
 *   pushfd ; cld ; pushfd ; pop eax ; pop ebx ; hlt
 * EBX holds EFLAGS with DF set, EAX with it clear; only PUSHFD and HLT are
 * callouts.
 */
START_TEST(test_hints_run_natively)
{
    static const uint8_t code[] = {0xfd, 0x0f, 0xae, 0xf0, 0x0f, 0xae, 0xe8, 0x0f, 0xae,
                                   0xf8, 0xf3, 0x90, 0xd9, 0xe8, 0xd9, 0x3d, 0x00, 0x00,
                                   0x02, 0x00, 0x9c, 0xfc, 0x9c, 0x58, 0x5b, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code));
    TestVM *vm = make_vm(code, sizeof(code));
    ref->cpu.fpu.fcw = vm->cpu.fpu.fcw = 0x0b7f; /* RC down: not the host's */
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_int_eq(memcmp(ref->phys.ram, vm->phys.ram, RAM), 0);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX] & EFLAGS_DF, EFLAGS_DF);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX] & EFLAGS_DF, 0);
    ck_assert_uint_eq(phys_read(&vm->phys, 0x20000, 2), 0x0b7f);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 3); /* the two pushfd and hlt */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_hints");
    TCase *tc = tcase_create("native");
    tcase_add_test(tc, test_hints_run_natively);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
