/*
 * TestVMs for the translator's long-mode tests: protected mode, or long
 * mode set up directly (testvm_long_mode) in 64-bit or compatibility mode.
 */
#ifndef TESTS_UNIT_LM_FIXTURE_H
#define TESTS_UNIT_LM_FIXTURE_H

#include <check.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM  (4u << 20)
#define DATA 0x20000u

enum { MODE_LEGACY, MODE_COMPAT, MODE_64 };

static inline TestVM *make_vm(const uint8_t *code, size_t len, int mode)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    if (mode != MODE_LEGACY) {
        testvm_long_mode(vm, mode == MODE_64);
    }
    return vm;
}

#endif /* TESTS_UNIT_LM_FIXTURE_H */
