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
 * EBX holds EFLAGS with DF set, EAX with it clear; only HLT is a callout
 * (PUSHFD runs natively too, translator/gen_flow.c).
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
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* hlt: PUSHFD is native too (gen_flow.c) */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   mov esi, 0x20000 ; mov edi, 0x20100
 *   push dword [0x20000] ; push word [0x20004] ; push dword [esp+4]
 *   lodsb ; lodsd ; stosw ; movsd ; scasb ; cmpsb
 *   std ; lodsw ; stosb ; movsb ; scasd ; cmpsd ; cld
 *   pop ebx ; pop ecx ; pop dx ; hlt
 * PUSH m (gen_flow.c) and the string instructions without REP
 * (gen_string.c), in both directions, run with no callout but HLT; the
 * registers, flags and memory agree with the interpreter's.
 */
START_TEST(test_push_mem_and_strings_run_natively)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x00, 0x01, 0x02, 0x00, 0xff, 0x35,
        0x00, 0x00, 0x02, 0x00, 0x66, 0xff, 0x35, 0x04, 0x00, 0x02, 0x00, 0xff,
        0x74, 0x24, 0x04, 0xac, 0xad, 0x66, 0xab, 0xa5, 0xae, 0xa6, 0xfd, 0x66,
        0xad, 0xaa, 0xa4, 0xaf, 0xa7, 0xfc, 0x5b, 0x59, 0x66, 0x5a, 0xf4};
    static const uint8_t data[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                   0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x01};
    TestVM *ref = make_vm(code, sizeof(code));
    TestVM *vm = make_vm(code, sizeof(code));
    testvm_load(ref, 0x20000, data, sizeof(data));
    testvm_load(vm, 0x20000, data, sizeof(data));
    testvm_load(ref, 0x20100, data + 3, 8);
    testvm_load(vm, 0x20100, data + 3, 8);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_int_eq(memcmp(ref->phys.ram, vm->phys.ram, RAM), 0);
    /* push [esp+4] read at ESP before its decrement: the high word of the
     * first push and the two zero bytes above it */
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0x00004433u);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0x22116655u);
    ck_assert_uint_eq(vm->cpu.regs[R_EDX] & 0xffff, 0x4433u);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* hlt */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   fldcw [0x20000] ; fld dword [0x20008] ; fistp dword [0x20010]
 *   fldcw [0x20004] ; fldcw [0x20006] ; hlt
 * with the words 0F7Fh (round toward zero, all masked: what a C cast
 * loads), 037Fh and 037Eh (invalid-operation unmasked).  The first two
 * FLDCW run natively (translator/gen_fpu.c) and FISTP truncates 2.7 to 2
 * under the guest's RC; the third must go to the interpreter (a callout
 * that leaves), so the callouts are it and HLT, and the control word
 * ends as the interpreter's.
 */
START_TEST(test_fldcw_runs_natively_while_masked)
{
    static const uint8_t code[] = {0xd9, 0x2d, 0x00, 0x00, 0x02, 0x00, 0xd9, 0x05, 0x08, 0x00,
                                   0x02, 0x00, 0xdb, 0x1d, 0x10, 0x00, 0x02, 0x00, 0xd9, 0x2d,
                                   0x04, 0x00, 0x02, 0x00, 0xd9, 0x2d, 0x06, 0x00, 0x02, 0x00,
                                   0xf4};
    static const uint8_t data[] = {0x7f, 0x0f, 0x00, 0x00, 0x7f, 0x03, 0x7e, 0x03,
                                   0xcd, 0xcc, 0x2c, 0x40}; /* 2.7f */
    TestVM *ref = make_vm(code, sizeof(code));
    TestVM *vm = make_vm(code, sizeof(code));
    testvm_load(ref, 0x20000, data, sizeof(data));
    testvm_load(vm, 0x20000, data, sizeof(data));
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(phys_read(&vm->phys, 0x20010, 4), 2);
    ck_assert_uint_eq(phys_read(&ref->phys, 0x20010, 4), 2);
    ck_assert_uint_eq(vm->cpu.fpu.fcw, 0x037e);
    ck_assert_uint_eq(vm->cpu.fpu.fcw, ref->cpu.fpu.fcw);
    ck_assert_uint_eq(vm->cpu.fpu.fsw, ref->cpu.fpu.fsw);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 2); /* FLDCW 037Eh and HLT */
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
    tcase_add_test(tc, test_push_mem_and_strings_run_natively);
    tcase_add_test(tc, test_fldcw_runs_natively_while_masked);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
