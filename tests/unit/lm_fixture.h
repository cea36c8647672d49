/*
 * A TestVM in long mode for the translator's tests, set up directly rather
 * than by the guest (SDM Vol.3 9.8.5 describes how software gets there):
 * identity-mapped 4-level tables with 2 MiB pages over the first 4 MiB,
 * CR4.PAE, EFER.LME|LMA, CR0.PG; CS.L for 64-bit mode, else the 32-bit
 * code segment of tests/support/testvm.h (compatibility mode).
 */
#ifndef TESTS_UNIT_LM_FIXTURE_H
#define TESTS_UNIT_LM_FIXTURE_H

#include <check.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM  (4u << 20)
#define PML4 0x100000u
#define PDPT 0x101000u
#define PD   0x102000u
#define DATA 0x20000u

enum { MODE_LEGACY, MODE_COMPAT, MODE_64 };

static inline void lm_put64(TestVM *vm, uint32_t paddr, uint64_t v)
{
    phys_write(&vm->phys, paddr, (uint32_t)v, 4);
    phys_write(&vm->phys, paddr + 4, (uint32_t)(v >> 32), 4);
}

/* Paging as long mode has it (SDM Vol.3 4.5): the first 4 MiB
 * identity-mapped by two 2 MiB pages, supervisor and user, writable. */
static inline void enter_long_mode(TestVM *vm, bool code64)
{
    CPUState *cpu = &vm->cpu;
    lm_put64(vm, PML4, PDPT | 7);
    lm_put64(vm, PDPT, PD | 7);
    lm_put64(vm, PD, 0x000000 | 0x87);
    lm_put64(vm, PD + 8, 0x200000 | 0x87);
    cpu->cr3 = PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer |= EFER_LME | EFER_LMA;
    cpu->cr0 |= CR0_PG;
    if (code64) {
        /* CS.L with CS.D clear: 64-bit mode (SDM Vol.3 5.2.1). */
        cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    }
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

static inline TestVM *make_vm(const uint8_t *code, size_t len, int mode)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    if (mode != MODE_LEGACY) {
        enter_long_mode(vm, mode == MODE_64);
    }
    return vm;
}

#endif /* TESTS_UNIT_LM_FIXTURE_H */
