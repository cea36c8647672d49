/*
 * The differential test in CI: a fixed seed, every configuration (ring 0
 * and 3, paging off and on, with faulting instructions, with stores into
 * the program's own code), each program on the interpreter and on the
 * translator, and a smaller share with the translator in lockstep check
 * mode (which must agree with the interpreter and report nothing).
 * popek-bt-diff runs the same programs for as long as wanted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/bt/bt_diff.h"

#define CI_SEED                   20261121u
#define PROGRAMS_PER_CONFIG       400
#define CHECK_PROGRAMS_PER_CONFIG 40
#define BUDGET                    20000

static void run_config(enum BTMode mode, int config, int count)
{
    BTDiff *d = btd_new(mode);
    ck_assert_ptr_nonnull(d);
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
    free(p);
    btd_free(d);
    ck_assert_msg(failed == 0, "%d of %d programs differ (config %d)", failed, count, config);
}

START_TEST(test_translated_matches_interpreter)
{
    run_config(BT_MODE_RUN, _i, PROGRAMS_PER_CONFIG);
}
END_TEST

START_TEST(test_check_mode_agrees)
{
    run_config(BT_MODE_CHECK, _i, CHECK_PROGRAMS_PER_CONFIG);
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
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
