/*
 * The differential test in CI: a fixed seed, every configuration (ring 0
 * and 3, paging off and on, with faulting instructions, with stores into
 * the program's own code), each program on the interpreter and on the
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
    if (btg_configs[config].paging && btg_configs[config].faults && count >= 100) {
        ck_assert_uint_gt(btd_nx_faults(d), 0);
    }
    if (count >= 100) {
        /* and its SSE stretches natively (translator/gen_sse.c), not all as callouts */
        ck_assert_uint_gt(s->sse_loads, (uint64_t)count / 10);
    }
    free(p);
    btd_free(d);
    ck_assert_msg(failed == 0, "%d of %d programs differ (config %d)", failed, count, config);
}

START_TEST(test_translated_matches_interpreter)
{
    run_config(BT_MODE_RUN, _i, PROGRAMS_PER_CONFIG, NULL);
}
END_TEST

START_TEST(test_check_mode_agrees)
{
    run_config(BT_MODE_CHECK, _i, CHECK_PROGRAMS_PER_CONFIG, NULL);
}
END_TEST

/* Undefined results all ones, then all zeros on the translator's machine
 * (its callouts and interpreted code), in both modes. */
START_TEST(test_other_undefined_results_agree)
{
    static const uint32_t fills[2] = {0xffffffffu, 0};
    for (int i = 0; i < 2; i++) {
        run_config(BT_MODE_RUN, _i, FILL_PROGRAMS_PER_CONFIG, &fills[i]);
        run_config(BT_MODE_CHECK, _i, FILL_PROGRAMS_PER_CONFIG / 4, &fills[i]);
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
    for (int i = 0; i < CONTAINED_PER_CONFIG; i++) {
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
    tcase_add_loop_test(tc, test_translated_matches_interpreter, 0, BTG_NCONFIGS);
    suite_add_tcase(s, tc);
    tc = tcase_create("check");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_check_mode_agrees, 0, BTG_NCONFIGS);
    suite_add_tcase(s, tc);
    tc = tcase_create("undefined");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_other_undefined_results_agree, 0, BTG_NCONFIGS);
    tcase_add_loop_test(tc, test_generator_contains_undefined, 0, BTG_NCONFIGS);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
