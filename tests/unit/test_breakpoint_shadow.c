/*
 * Instruction breakpoints (DR0-DR3, SDM Vol.3 17.2.4) around interrupt
 * shadows, through the run loop: on the instruction right after MOV SS or
 * POP SS Intel CPUs do not take them (SDM Vol.3 6.8.3), after STI they do.
 */
#include <check.h>
#include <stdlib.h>

#include "tests/support/testvm.h"

static TestVM *vm;

static void setup(void)
{
    vm = testvm_new(1 << 20);
    ck_assert_ptr_nonnull(vm);
    testvm_flat32(vm, 0, TESTVM_CODE);
}

static void teardown(void)
{
    testvm_free(vm);
}

/* Code at TESTVM_CODE; an execute breakpoint (DR0) at TESTVM_CODE + at. */
static int run_with_breakpoint(const uint8_t *code, size_t len, uint32_t at)
{
    testvm_load(vm, TESTVM_CODE, code, len);
    vm->cpu.dr[0] = TESTVM_CODE + at;
    vm->cpu.dr[7] = 0x00000401u; /* L0, execute, 1 byte */
    testvm_run(vm, 100);
    return testvm_last_vector(vm);
}

START_TEST(test_after_mov_ss_not_taken)
{
    static const uint8_t code[] = {
        0x66, 0xb8, 0x10, 0x00, /* 0: mov ax, 0x10 */
        0x8e, 0xd0,             /* 4: mov ss, ax */
        0x90,                   /* 6: nop  <- breakpoint */
        0xf4,                   /* 7: hlt */
    };
    ck_assert_int_eq(run_with_breakpoint(code, sizeof(code), 6), -1);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + 8);
}
END_TEST

START_TEST(test_after_pop_ss_not_taken)
{
    static const uint8_t code[] = {
        0x6a, 0x10, /* 0: push 0x10 */
        0x17,       /* 2: pop ss */
        0x90,       /* 3: nop  <- breakpoint */
        0xf4,       /* 4: hlt */
    };
    ck_assert_int_eq(run_with_breakpoint(code, sizeof(code), 3), -1);
}
END_TEST

START_TEST(test_one_later_taken)
{
    static const uint8_t code[] = {
        0x66, 0xb8, 0x10, 0x00, /* 0: mov ax, 0x10 */
        0x8e, 0xd0,             /* 4: mov ss, ax */
        0x90,                   /* 6: nop */
        0x90,                   /* 7: nop  <- breakpoint */
        0xf4,                   /* 8: hlt */
    };
    ck_assert_int_eq(run_with_breakpoint(code, sizeof(code), 7), EXC_DB);
    ck_assert_uint_eq(vm->cpu.dr[6] & 0xf, 1);
}
END_TEST

START_TEST(test_after_sti_taken)
{
    static const uint8_t code[] = {
        0xfa, /* 0: cli */
        0xfb, /* 1: sti */
        0x90, /* 2: nop  <- breakpoint */
        0xf4, /* 3: hlt */
    };
    ck_assert_int_eq(run_with_breakpoint(code, sizeof(code), 2), EXC_DB);
}
END_TEST

static Suite *shadow_suite(void)
{
    Suite *s = suite_create("breakpoint_shadow");
    TCase *tc = tcase_create("shadow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_after_mov_ss_not_taken);
    tcase_add_test(tc, test_after_pop_ss_not_taken);
    tcase_add_test(tc, test_one_later_taken);
    tcase_add_test(tc, test_after_sti_taken);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shadow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
