/*
 * The translator under long mode (EFER.LMA): the block key carries the
 * code mode, 64-bit code runs in 64-bit blocks (or, turned off, on the
 * interpreter), and compatibility-mode
 * code (a 32-bit code segment under a 64-bit kernel) runs translated on the
 * 32-bit path with the 4-level walk behind the TLB.  The long-mode state is
 * set up directly (SDM Vol.3 9.8.5 describes how software gets there):
 * identity-mapped 4-level tables with 2 MiB pages, CR4.PAE, EFER.LME|LMA,
 * CR0.PG, and CS.L for 64-bit mode.  Each program runs on the translator
 * and on the interpreter alone from the same state, and must end the same.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

/* The program on the interpreter alone and on bt (run or check mode):
 * both stop at its HLT with the same registers, EIP, count and data page. */
static BT *run_both(const uint8_t *code, size_t len, int mode, enum BTMode bt_mode, bool code64,
                    TestVM **out)
{
    TestVM *ref = make_vm(code, len, mode);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    TestVM *vm = make_vm(code, len, mode);
    BT *bt = bt_new(&vm->cpu, 1u << 20, bt_mode);
    ck_assert_ptr_nonnull(bt);
    bt_set_code64(bt, code64);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    for (int r = 0; r < CPU_NB_REGS; r++) {
        ck_assert_uint_eq(vm->cpu.regs[r], ref->cpu.regs[r]);
    }
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_int_eq(memcmp(vm->phys.ram + DATA, ref->phys.ram + DATA, 0x1000), 0);
    testvm_free(ref);
    *out = vm;
    return bt;
}

/*
 * mov ecx, 100 ; xor eax, eax ; mov edi, DATA
 * l: add eax, ecx ; mov [edi], eax ; add edi, 4 ; dec ecx (FF /1) ; jnz l
 * hlt
 * The same bytes mean the same in every mode (no 40-4F opcode), so the
 * sums are known: 100 + 99 + ... + 1 = 5050.
 */
static const uint8_t sum_loop[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
    0x31, 0xc0,                   /* xor eax, eax */
    0xbf, 0x00, 0x00, 0x02, 0x00, /* mov edi, DATA */
    0x01, 0xc8,                   /* l: add eax, ecx */
    0x89, 0x07,                   /* mov [edi], eax */
    0x83, 0xc7, 0x04,             /* add edi, 4 */
    0xff, 0xc9,                   /* dec ecx */
    0x75, 0xf5,                   /* jnz l */
    0xf4,                         /* hlt */
};

/* Compatibility mode: the loop is translated (the counter `info jit`
 * shows), its stores go through the 4-level walk, and it ends as the
 * interpreter ends it. */
START_TEST(test_compat_translated)
{
    TestVM *vm;
    BT *bt = run_both(sum_loop, sizeof(sum_loop), MODE_COMPAT, BT_MODE_RUN, true, &vm);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 5050);
    ck_assert_uint_eq(phys_read(&vm->phys, DATA + 99 * 4, 4), 5050);
    const BTStats *s = bt_stats(bt);
    ck_assert_uint_gt(s->compat_blocks, 0);
    ck_assert_uint_eq(s->compat_blocks, s->blocks_translated);
    ck_assert_uint_eq(s->interp_why[BT_WHY_CODE64], 0);
    /* The loop ran translated: only the tail of the slice or nothing interpreted. */
    ck_assert_uint_lt(s->interp_insns, 10);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* The lockstep check runs compatibility-mode blocks on both engines too. */
START_TEST(test_compat_checked)
{
    TestVM *vm;
    BT *bt = run_both(sum_loop, sizeof(sum_loop), MODE_COMPAT, BT_MODE_CHECK, true, &vm);
    ck_assert_uint_gt(bt_stats(bt)->checked_blocks, 0);
    ck_assert_uint_gt(bt_stats(bt)->compat_blocks, 0);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* With bt_set_code64() off, 64-bit mode is the interpreter's, on bt and
 * on check alike, and the statistics say why. */
START_TEST(test_code64_interpreted)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        TestVM *vm;
        BT *bt = run_both(sum_loop, sizeof(sum_loop), MODE_64, modes[i], false, &vm);
        ck_assert_uint_eq(vm->cpu.regs[R_EAX], 5050);
        const BTStats *s = bt_stats(bt);
        ck_assert_uint_eq(s->blocks_translated, 0);
        ck_assert_uint_eq(s->interp_insns, vm->cpu.icount);
        if (modes[i] == BT_MODE_RUN) {
            ck_assert_uint_eq(s->interp_why[BT_WHY_CODE64], vm->cpu.icount);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * 64-bit code translated (gen64.c), its CALL and RET too (gen64_flow.c), on bt
 * and under the lockstep check, against the interpreter:
 *     mov esi, DATA ; mov r8, 0x123456789 ; xor eax, eax ; mov ecx, 50
 *   l: add rax, r8 ; mov [rsi+rcx*8], rax ; push rax ; pop r9 ; call f
 *     dec ecx ; jnz l ; hlt
 *   f: add r9, 1 ; ret
 */
START_TEST(test_code64_translated)
{
    static const uint8_t code[] = {0xbe, 0x00, 0x00, 0x02, 0x00, 0x49, 0xb8, 0x89, 0x67, 0x45,
                                   0x23, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xb9, 0x32, 0x00,
                                   0x00, 0x00, 0x4c, 0x01, 0xc0, 0x48, 0x89, 0x04, 0xce, 0x50,
                                   0x41, 0x59, 0xe8, 0x05, 0x00, 0x00, 0x00, 0xff, 0xc9, 0x75,
                                   0xed, 0xf4, 0x49, 0x83, 0xc1, 0x01, 0xc3};
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        TestVM *vm;
        BT *bt = run_both(code, sizeof(code), MODE_64, modes[i], true, &vm);
        ck_assert_uint_eq(vm->cpu.regs[R_EAX], 50 * 0x123456789ull);
        ck_assert_uint_eq(vm->cpu.regs[9], 50 * 0x123456789ull + 1);
        ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
        uint64_t first = (uint64_t)phys_read(&vm->phys, DATA + 8 * 50 + 4, 4) << 32 |
                         phys_read(&vm->phys, DATA + 8 * 50, 4);
        ck_assert_uint_eq(first, 0x123456789ull);
        const BTStats *st = bt_stats(bt);
        ck_assert_uint_gt(st->blocks_translated, 0);
        ck_assert_uint_eq(st->interp_why[BT_WHY_CODE64], 0);
        if (modes[i] == BT_MODE_RUN) {
            /* Everything native (the store, PUSH, POP, CALL and RET);
             * the HLT is the one callout.  Every RET
             * finds its prediction. */
            ck_assert_uint_eq(st->callout_insns, 1);
            ck_assert_uint_eq(vm->cpu.bt_ret_total, 50);
            ck_assert_uint_eq(vm->cpu.bt_ret_miss, 0);
        } else {
            ck_assert_uint_gt(st->checked_blocks, 0);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * The key: the same physical code run in protected mode and then in
 * compatibility mode is two blocks, and a block found under one mode is
 * never entered under the other.
 */
START_TEST(test_key_carries_mode)
{
    TestVM *vm = make_vm(sum_loop, sizeof(sum_loop), MODE_LEGACY);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    uint64_t legacy_blocks = bt_stats(bt)->blocks_translated;
    ck_assert_uint_gt(legacy_blocks, 0);
    ck_assert_uint_eq(bt_stats(bt)->compat_blocks, 0);
    uint32_t legacy_key = bt_block_key(&vm->cpu);
    ck_assert_uint_eq(legacy_key & (KEY_LMA | KEY_CODE64), 0);

    vm->cpu.halted = false;
    vm->cpu.eip = TESTVM_CODE;
    testvm_long_mode(vm, false);
    uint32_t compat_key = bt_block_key(&vm->cpu);
    ck_assert_uint_eq(compat_key, legacy_key | KEY_LMA);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 5050);
    ck_assert_uint_eq(bt_stats(bt)->blocks_translated, 2 * legacy_blocks);
    ck_assert_uint_eq(bt_stats(bt)->compat_blocks, legacy_blocks);

    vm->cpu.seg[SEG_CS].attr = (vm->cpu.seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    cpu_update_mode(&vm->cpu);
    /* 64-bit mode: the mode bits and the CPL; no segment class (run.c),
     * so SWAPGS or a new FS base leave the key as it is. */
    uint32_t key64 = bt_block_key(&vm->cpu);
    ck_assert_uint_eq(key64 & (KEY_LMA | KEY_CODE64 | KEY_CPL_MASK),
                      (legacy_key & KEY_CPL_MASK) | KEY_LMA | KEY_CODE64);
    vm->cpu.seg[SEG_GS].base = 0xffff888000000000ull;
    vm->cpu.seg[SEG_FS].base = 0x7f0000001000ull;
    vm->cpu.seg[SEG_DS].limit = 0xffff;
    ck_assert_uint_eq(bt_block_key(&vm->cpu), key64);
    vm->cpu.cpl = 3;
    ck_assert_uint_eq(bt_block_key(&vm->cpu), key64 | 3);
    vm->cpu.cpl = 0;
    bool transient;
    ck_assert(bt_mode_ok(&vm->cpu, &transient));
    bt_set_code64(bt, false);
    ck_assert(!bt_mode_ok(&vm->cpu, &transient));
    ck_assert(!transient);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator_lm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_compat_translated);
    tcase_add_test(tc, test_compat_checked);
    tcase_add_test(tc, test_code64_interpreted);
    tcase_add_test(tc, test_code64_translated);
    tcase_add_test(tc, test_key_carries_mode);
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
