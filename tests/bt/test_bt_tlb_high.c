/*
 * Translated 32-bit code against TLB entries for linear pages above 4 GiB.
 * Long mode puts such pages in the TLB, and a page 4 GiB above a 32-bit
 * one shares its slot (softmmu/tlb.h).  The inline check must compare the
 * whole 64-bit tag: with the 32-bit compare it had before, a 32-bit access
 * to 20000h hit an entry for 1_0002_0000h and went to that entry's host
 * memory.  Each test plants such an entry, with a decoy page as its host
 * memory, runs `mov eax, [20000h]` (or a store there) translated, and
 * requires the access to reach guest RAM through the slow path.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "softmmu/tlb.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define RAM    (1u << 20)
#define LIN    0x20000u
#define HIGH   (0x100000000ull + LIN) /* the same slot, 4 GiB up */
#define BUDGET 1000

static uint8_t decoy[4096] __attribute__((aligned(4096)));

/* A valid entry for HIGH in LIN's slot whose host memory, were LIN to
 * hit it, is the decoy page. */
static void plant(CPUState *cpu)
{
    ck_assert_uint_eq(tlb_slot(LIN), tlb_slot(HIGH));
    TLBEntry *e = &cpu->tlb.e[cpu->mmu_idx][tlb_slot(LIN)];
    e->tag[ACC_READ] = HIGH;
    e->tag[ACC_WRITE] = HIGH;
    e->tag[ACC_FETCH] = TLB_INVALID;
    e->addend = (uint64_t)(uintptr_t)decoy - LIN;
    e->phys = 0x50000;
    e->phys_hi = 0;
}

/* Run code at TESTVM_CODE on the translator; returns EAX. */
static uint32_t run(const uint8_t *code, size_t len, TestVM **out)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_flat32(vm, 0, TESTVM_CODE);
    testvm_load(vm, TESTVM_CODE, code, len);
    phys_write(&vm->phys, LIN, 0x11223344, 4);
    memset(decoy, 0xdd, sizeof(decoy));
    vm->cpu.regs[R_EAX] = 0x55667788;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_ptr_nonnull(bt);
    plant(&vm->cpu);
    bt_exec(bt, BUDGET);
    bt_free(bt);
    *out = vm;
    return vm->cpu.regs[R_EAX];
}

START_TEST(test_read_misses_high_entry)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x02, 0x00, /* mov eax, [0x20000] */
        0xf4,                         /* hlt */
    };
    TestVM *vm;
    ck_assert_uint_eq(run(code, sizeof(code), &vm), 0x11223344u);
    ck_assert_int_eq(testvm_last_vector(vm), -1);
    testvm_free(vm);
}
END_TEST

START_TEST(test_write_misses_high_entry)
{
    static const uint8_t code[] = {
        0xa3, 0x00, 0x00, 0x02, 0x00, /* mov [0x20000], eax */
        0xf4,                         /* hlt */
    };
    TestVM *vm;
    run(code, sizeof(code), &vm);
    ck_assert_uint_eq(phys_read(&vm->phys, LIN, 4), 0x55667788u);
    ck_assert_uint_eq(decoy[0], 0xdd);
    testvm_free(vm);
}
END_TEST

static Suite *tlb_high_suite(void)
{
    Suite *s = suite_create("bt_tlb_high");
    TCase *tc = tcase_create("high");
    tcase_add_test(tc, test_read_misses_high_entry);
    tcase_add_test(tc, test_write_misses_high_entry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tlb_high_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
