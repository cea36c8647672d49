/*
 * Guest programs that write code and run it (the .asm files in tests/bt/guest): a tiny
 * JIT that emits a new function into a data page each iteration, and a
 * loop that patches instructions of its own block just before they run.
 * Each runs on the interpreter, the translator and the translator in check
 * mode, in ring 0 and 3, with paging off and on; the result must be the sum
 * computed here from the programs' definition, and the translator must
 * have dropped stale blocks along the way.
 *
 *   test_bt_smc DIR      DIR holds jit.bin and smc.bin (the build's tests/bt)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/bt/bt_gen.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define ITERATIONS 300
#define BUDGET     200000

static const char *bin_dir = ".";

static uint8_t *load_bin(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", bin_dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    uint8_t *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

/* Identity-map the first 4 MiB, user and writable (SDM Vol.3 4.3). */
static void enable_paging(TestVM *vm)
{
    phys_write(&vm->phys, BTG_PD, BTG_PT | 7, 4);
    for (uint32_t i = 0; i < 1024; i++) {
        phys_write(&vm->phys, BTG_PT + 4 * i, i << 12 | 7, 4);
    }
    vm->cpu.cr3 = BTG_PD;
    vm->cpu.cr0 |= CR0_PG;
    cpu_update_mode(&vm->cpu);
    tlb_flush_all(&vm->cpu);
}

typedef struct Outcome {
    uint32_t eax, eip;
    uint64_t icount;
    BTStats stats;
} Outcome;

/* engine: -1 interpreter, else an enum BTMode. */
static Outcome run_program(const char *bin, int cpl, bool paging, int engine)
{
    size_t len;
    uint8_t *code = load_bin(bin, &len);
    TestVM *vm = testvm_new(BTG_RAM);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, cpl, TESTVM_CODE);
    if (paging) {
        enable_paging(vm);
    }
    vm->cpu.regs[R_ECX] = ITERATIONS;
    vm->cpu.regs[R_ESI] = BTG_JIT_PAGE;
    Outcome o = {0};
    BT *bt = engine >= 0 ? bt_new(&vm->cpu, 4u << 20, (enum BTMode)engine) : NULL;
    while (vm->cpu.icount < BUDGET) {
        uint64_t left = BUDGET - vm->cpu.icount;
        int r = bt ? bt_exec(bt, left) : cpu_exec(&vm->cpu, left);
        ck_assert_int_eq(r, CPU_EXIT_BUDGET);
    }
    if (bt) {
        o.stats = *bt_stats(bt);
        bt_free(bt);
    }
    o.eax = vm->cpu.regs[R_EAX];
    o.eip = vm->cpu.eip;
    o.icount = vm->cpu.icount;
    ck_assert_int_eq(testvm_last_vector(vm), -1); /* no exception on the way */
    testvm_free(vm);
    free(code);
    return o;
}

/* The JIT's sum: i*((i & 7) + 1) + 5i, with - 5i when i % 3 == 0. */
static uint32_t jit_expected(void)
{
    uint32_t sum = 0;
    for (uint32_t i = 1; i <= ITERATIONS; i++) {
        uint32_t v = i * ((i & 7) + 1);
        sum += i % 3 == 0 ? v - 5 * i : v + 5 * i;
    }
    return sum;
}

/* The patched loop's sum: i from the patched MOV, then +i and -i alternating. */
static uint32_t smc_expected(void)
{
    uint32_t sum = 0;
    for (uint32_t k = 0; k < ITERATIONS; k++) {
        uint32_t i = ITERATIONS - k;
        sum += i + (k % 2 == 0 ? i : -i);
    }
    return sum;
}

static void check_program(const char *bin, uint32_t expected, int variant)
{
    int cpl = (variant & 1) ? 3 : 0;
    bool paging = (variant & 2) != 0;
    Outcome ref = run_program(bin, cpl, paging, -1);
    ck_assert_uint_eq(ref.eax, expected);
    for (int mode = BT_MODE_RUN; mode <= BT_MODE_CHECK; mode++) {
        Outcome o = run_program(bin, cpl, paging, mode);
        ck_assert_msg(o.eax == expected, "%s cpl %d paging %d mode %d: eax %08x, want %08x", bin,
                      cpl, paging, mode, o.eax, expected);
        ck_assert_uint_eq(o.eip, ref.eip);
        ck_assert_uint_eq(o.icount, ref.icount);
        /* Every rewrite of code the translator had translated drops it. */
        ck_assert_uint_ge(o.stats.invalidations, ITERATIONS - 1);
    }
}

START_TEST(test_jit)
{
    check_program("jit.bin", jit_expected(), _i);
}
END_TEST

START_TEST(test_self_patching)
{
    check_program("smc.bin", smc_expected(), _i);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1) {
        bin_dir = argv[1];
    }
    Suite *s = suite_create("bt_smc");
    TCase *tc = tcase_create("guest");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_jit, 0, 4);
    tcase_add_loop_test(tc, test_self_patching, 0, 4);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
