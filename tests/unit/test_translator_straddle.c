/*
 * An instruction that straddles two pages runs translated, as a block of
 * its own that covers both (translator/straddle.c): found by its first
 * page, it checks its second page's mapping at entry, is dropped when
 * either page is written, and its fetch of the second page faults as the
 * interpreter's does.  Each program runs translated and on the
 * interpreter, which must agree on everything.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM  (4u << 20)
#define LIN2 0x41000u /* the second page of the straddling instruction */
#define P2   0x50000u /* physical pages LIN2 maps to, in turn */
#define P3   0x51000u

/*
 *       xor ebx, ebx ; xor esi, esi
 *   1:  call 0x40ffe              ; mov eax, imm32: 2 bytes on 40000h, 3 on LIN2
 *       add ebx, eax ; imul ebx, ebx, 3
 *       (LIN2's PTE = P2 + (esi & 1) * 4096, present) ; invlpg [LIN2]
 *       call 0x41010              ; a RET on LIN2: its fetch tag refilled
 *       inc esi ; cmp esi, 6 ; jb 1b
 *       call 0x40ffe ; add ebx, eax
 *       mov byte [0x41001], 0x99  ; a store into the second page
 *       call 0x40ffe ; add ebx, eax
 *       (LIN2's PTE = 0) ; invlpg [LIN2] ; mov ecx, 7
 *       call 0x40ffe              ; #PF on the fetch of LIN2
 *       mov ecx, 8 ; hlt
 * The loop's call is chained into the block after its first run, so from
 * the second iteration on only the block's own entry check can see that
 * LIN2 is another physical page now (the TLB's fetch tag for LIN2 matches:
 * the RET there refilled it).
 */
static const uint8_t code[] = {
    0x31, 0xdb, 0x31, 0xf6, 0xe8, 0xf5, 0x0f, 0x03, 0x00, 0x01, 0xc3, 0x6b, 0xdb, 0x03, 0x89, 0xf2,
    0x83, 0xe2, 0x01, 0xc1, 0xe2, 0x0c, 0x81, 0xc2, 0x07, 0x00, 0x05, 0x00, 0x89, 0x15, 0x04, 0x11,
    0x10, 0x00, 0x0f, 0x01, 0x3d, 0x00, 0x10, 0x04, 0x00, 0xe8, 0xe2, 0x0f, 0x03, 0x00, 0x46, 0x83,
    0xfe, 0x06, 0x72, 0xd0, 0xe8, 0xc5, 0x0f, 0x03, 0x00, 0x01, 0xc3, 0xc6, 0x05, 0x01, 0x10, 0x04,
    0x00, 0x99, 0xe8, 0xb7, 0x0f, 0x03, 0x00, 0x01, 0xc3, 0xc7, 0x05, 0x04, 0x11, 0x10, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x0f, 0x01, 0x3d, 0x00, 0x10, 0x04, 0x00, 0xb9, 0x07, 0x00, 0x00, 0x00, 0xe8,
    0x9a, 0x0f, 0x03, 0x00, 0xb9, 0x08, 0x00, 0x00, 0x00, 0xf4};

static TestVM *make_vm(void)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, sizeof(code));
    testvm_flat32(vm, 0, TESTVM_CODE);
    testvm_paged32(vm, TESTVM_NO_PAGE, TESTVM_NO_PAGE);
    phys_write(&vm->phys, TESTVM_PT + 4 * (LIN2 >> 12), P2 | 7, 4);
    static const uint8_t first[] = {0xb8, 0x11};               /* mov eax, .. */
    static const uint8_t second2[] = {0x22, 0x33, 0x44, 0xc3}; /* .. 0x44332211 ; ret */
    static const uint8_t second3[] = {0x66, 0x77, 0x08, 0xc3}; /* .. 0x08776611 ; ret */
    testvm_load(vm, LIN2 - 2, first, sizeof(first));
    testvm_load(vm, P2, second2, sizeof(second2));
    testvm_load(vm, P3, second3, sizeof(second3));
    phys_write(&vm->phys, P2 + 0x10, 0xc3, 1);
    phys_write(&vm->phys, P3 + 0x10, 0xc3, 1);
    tlb_flush_all(&vm->cpu);
    return vm;
}

START_TEST(test_straddling_instruction_translated)
{
    TestVM *ref = make_vm();
    TestVM *vm = make_vm();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_int_eq(testvm_last_vector(ref), EXC_PF);
    for (int r = 0; r < 8; r++) {
        ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r], "reg %d: %08x, interpreter %08x", r,
                      (unsigned)vm->cpu.regs[r], (unsigned)ref->cpu.regs[r]);
    }
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 7);
    ck_assert_uint_eq(vm->cpu.cr2, LIN2);
    ck_assert_uint_eq(ref->cpu.cr2, LIN2);
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
    /* The loop's EBX mixes both pages' immediates in order; the sum of the
     * last two calls sees the store (0x99 replaces the second byte). */
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_why[BT_WHY_NOBLOCK], 0); /* no instruction interpreted for it */
    ck_assert_uint_ge(st->invalidations, 6);              /* each remap, and the store */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* The same under the lockstep checker: every span agrees with the
 * interpreter, and the run ends where the interpreter's does. */
START_TEST(test_straddling_instruction_checked)
{
    TestVM *ref = make_vm();
    TestVM *vm = make_vm();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_CHECK);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * In 64-bit mode, at the kernel-half alias (TESTVM_HIGH: a second page
 * whose linear address needs 64 bits in the entry check):
 *       xor ebx, ebx ; mov ecx, 5
 *   1:  call H+20FFDh             ; mov rax, imm64: 3 bytes on one page, 7 on the next
 *       add rbx, rax ; dec ecx ; jnz 1b
 *       mov byte [21002h], 99h    ; through the low alias: a byte of the immediate
 *       call H+20FFDh ; add rbx, rax ; hlt
 */
static const uint8_t code64[] = {0x31, 0xdb, 0xb9, 0x05, 0x00, 0x00, 0x00, 0xe8, 0xf1,
                                 0x0f, 0x01, 0x00, 0x48, 0x01, 0xc3, 0xff, 0xc9, 0x75,
                                 0xf4, 0xc6, 0x04, 0x25, 0x02, 0x10, 0x02, 0x00, 0x99,
                                 0xe8, 0xdd, 0x0f, 0x01, 0x00, 0x48, 0x01, 0xc3, 0xf4};
static const uint8_t mov_rax_ret[] = {0x48, 0xb8, 0x88, 0x77, 0x66, 0x55,
                                      0x44, 0x33, 0x22, 0x11, 0xc3};

static TestVM *make_vm64(void)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code64, sizeof(code64));
    testvm_load(vm, 0x20ffd, mov_rax_ret, sizeof(mov_rax_ret));
    testvm_flat32(vm, 0, TESTVM_CODE);
    testvm_long_mode(vm, true);
    vm->cpu.eip = TESTVM_HIGH + TESTVM_CODE;
    return vm;
}

START_TEST(test_straddling_instruction_64)
{
    TestVM *ref = make_vm64();
    TestVM *vm = make_vm64();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(ref), -1);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 5 * 0x1122334455667788ull + 0x1122334499667788ull);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_why[BT_WHY_NOBLOCK], 0); /* translated, not interpreted */
    ck_assert_uint_ge(st->invalidations, 1);              /* the store into its second page */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_straddle");
    TCase *tc = tcase_create("straddle");
    tcase_add_test(tc, test_straddling_instruction_translated);
    tcase_add_test(tc, test_straddling_instruction_checked);
    tcase_add_test(tc, test_straddling_instruction_64);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
