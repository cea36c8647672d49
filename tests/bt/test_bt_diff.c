/*
 * The differential test in CI: a fixed seed, every configuration (ring 0
 * and 3, paging off and on, with faulting instructions, with stores into
 * the program's own code; legacy protected mode, and long mode's
 * compatibility and 64-bit modes under 4-level paging), each program on the interpreter and on the
 * translator, and a smaller share with the translator in lockstep check
 * mode (which must agree with the interpreter and report nothing).  Then
 * the same with the translator's machine filling undefined results with
 * other values than the interpreter's, as a CPU of another make would;
 * and the generator's own promise, that no program lets an undefined
 * result reach anything but the flags it names at the end.
 * popek-bt-diff runs the same programs for as long as wanted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "tests/bt/bt_diff.h"

#define CI_SEED                   20261121u
#define PROGRAMS_PER_CONFIG       400
#define CHECK_PROGRAMS_PER_CONFIG 40
#define FILL_PROGRAMS_PER_CONFIG  40
#define CONTAINED_PER_CONFIG      150
#define BUDGET                    20000
#define CONTAINED_BUDGET          2000 /* the programs end long before; the rest is jmp $ */

static void run_config(enum BTMode mode, int config, int count, const uint32_t *fill)
{
    BTDiff *d = btd_new(mode);
    ck_assert_ptr_nonnull(d);
    if (fill) {
        btd_set_fill(d, true, *fill);
    }
    static char report[1 << 16];
    BTProgram *p = malloc(sizeof(*p));
    int failed = 0;
    for (int i = 0; i < count; i++) {
        btg_generate(p, config, CI_SEED, (uint64_t)i);
        if (!btd_run(d, p, BUDGET, report, sizeof(report))) {
            if (failed++ == 0) {
                fprintf(stderr,
                        "replay: popek-bt-diff --seed %u --config %d --start %d --count 1%s\n%s\n",
                        CI_SEED, config, i, mode == BT_MODE_CHECK ? " --check" : "", report);
            }
        }
    }
    const BTStats *s = btd_stats(d);
    /* The programs must have exercised the translator, not just the interpreter. */
    ck_assert_uint_gt(s->blocks_translated, (uint64_t)count);
    if (mode == BT_MODE_CHECK) {
        ck_assert_uint_gt(s->checked_blocks, (uint64_t)count);
    }
    /* With paging and faults, some programs run under PAE and call into
     * the execute-disable alias page: those must fault on both engines. */
    /* (compatibility mode's share of programs is too small for a call into
     * the alias page to be sure) */
    if (btg_configs[config].paging && btg_configs[config].faults && count >= 100 &&
        btg_configs[config].mode != BTG_MODE_COMPAT) {
        ck_assert_uint_gt(btd_nx_faults(d), 0);
    }
    /* Long mode with faults: programs end in each fault the generator aims
     * at: #GP (non-canonical data), #PF (4-level paging), #UD (opcodes
     * 64-bit mode lacks) and, in 64-bit mode, #SS on IST1 (non-canonical
     * stack references). */
    const BTGenConfig *cfg = &btg_configs[config];
    if (cfg->mode != BTG_MODE_LEGACY && cfg->faults && count >= 100) {
        ck_assert_uint_gt(btd_endings(d, EXC_GP), 0);
        ck_assert_uint_gt(btd_endings(d, EXC_PF), 0);
        ck_assert_uint_gt(btd_endings(d, EXC_UD), 0);
        if (cfg->mode == BTG_MODE_64) {
            ck_assert_uint_gt(btd_endings(d, EXC_SS), 0);
        }
    }
    if (cfg->mode != BTG_MODE_LEGACY && count >= 100) {
        ck_assert_uint_gt(btd_endings(d, -1), 0); /* and some run to their end */
    }
    if (count >= 100 && btg_configs[config].mode != BTG_MODE_64) {
        /* and its SSE stretches natively (translator/gen_sse.c), not all as callouts
         * (64-bit programs have no SSE yet) */
        ck_assert_uint_gt(s->sse_loads, (uint64_t)count / 10);
    }
    free(p);
    btd_free(d);
    ck_assert_msg(failed == 0, "%d of %d programs differ (config %d)", failed, count, config);
}

/* Long-mode configurations run a quarter as many programs, so the test
 * stays within its time as configurations are added (popek-bt-diff runs
 * any number). */
static int share(int config, int count)
{
    return btg_configs[config].mode == BTG_MODE_LEGACY ? count : count / 4;
}

START_TEST(test_translated_matches_interpreter)
{
    run_config(BT_MODE_RUN, _i, share(_i, PROGRAMS_PER_CONFIG), NULL);
}
END_TEST

START_TEST(test_check_mode_agrees)
{
    run_config(BT_MODE_CHECK, _i, share(_i, CHECK_PROGRAMS_PER_CONFIG), NULL);
}
END_TEST

/* Undefined results all ones, then all zeros on the translator's machine
 * (its callouts and interpreted code), in both modes. */
START_TEST(test_other_undefined_results_agree)
{
    static const uint32_t fills[2] = {0xffffffffu, 0};
    for (int i = 0; i < 2; i++) {
        run_config(BT_MODE_RUN, _i, share(_i, FILL_PROGRAMS_PER_CONFIG), &fills[i]);
        run_config(BT_MODE_CHECK, _i, share(_i, FILL_PROGRAMS_PER_CONFIG / 4), &fills[i]);
    }
}
END_TEST

START_TEST(test_generator_contains_undefined)
{
    BTDiff *d = btd_new(BT_MODE_RUN);
    ck_assert_ptr_nonnull(d);
    static char report[1 << 16];
    BTProgram *p = malloc(sizeof(*p));
    int failed = 0;
    btg_set_x87(false); /* x87 condition codes are left undefined everywhere (bt_gen.h) */
    for (int i = 0; i < share(_i, CONTAINED_PER_CONFIG); i++) {
        btg_generate(p, _i, CI_SEED, (uint64_t)i);
        if (!btd_contained(d, p, CONTAINED_BUDGET, report, sizeof(report)) && failed++ == 0) {
            fprintf(stderr,
                    "replay: popek-bt-diff --seed %u --config %d --start %d --count 1 "
                    "--contained\n%s\n",
                    CI_SEED, _i, i, report);
        }
    }
    free(p);
    btd_free(d);
    ck_assert_msg(failed == 0, "%d of %d programs let undefined results out (config %d)", failed,
                  CONTAINED_PER_CONFIG, _i);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bt_diff");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_translated_matches_interpreter, 0, BTG_NCONFIGS_ALL);
    suite_add_tcase(s, tc);
    tc = tcase_create("check");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_check_mode_agrees, 0, BTG_NCONFIGS_ALL);
    suite_add_tcase(s, tc);
    tc = tcase_create("undefined");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_other_undefined_results_agree, 0, BTG_NCONFIGS_ALL);
    tcase_add_loop_test(tc, test_generator_contains_undefined, 0, BTG_NCONFIGS_ALL);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
