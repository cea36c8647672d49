/*
 * popek-soak: hostile programs on a whole PC, on both engines (soak.h).
 *
 *   popek-soak [--seed S] [--count N] [--start I] [--accel bt|interp|both]
 *              [--budget INSNS] [--verbose]
 *
 * Runs programs --start .. --start+N-1 of seed S (each the same on every
 * machine) on the translator, the interpreter or both, each for up to
 * --budget instructions, and prints how they ended.  The run passes when
 * the process survives: a crash, an abort or a sanitizer report is the
 * failure, and --verbose names each program before it runs, so the last
 * line names the culprit.  CI: ctest soak.hostile (a fixed seed).  A long
 * run: popek-soak --seed 7 --count 1000000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/soak/soak.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--seed S] [--count N] [--start I] [--accel bt|interp|both] "
            "[--budget INSNS] [--verbose]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, count = 1000, start = 0, budget = 10000;
    bool verbose = false, want_bt = true, want_interp = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            verbose = true;
        } else if (v && !strcmp(a, "--seed")) {
            seed = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--count")) {
            count = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--start")) {
            start = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--budget")) {
            budget = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--accel")) {
            want_bt = !strcmp(v, "bt") || !strcmp(v, "both");
            want_interp = !strcmp(v, "interp") || !strcmp(v, "both");
            if (!want_bt && !want_interp) {
                return usage(argv[0]);
            }
            i++;
        } else {
            return usage(argv[0]);
        }
    }
    char err[256];
    SoakMachine *bt = NULL, *interp = NULL;
    if ((want_bt && !(bt = soak_new(ACCEL_BT, err, sizeof(err)))) ||
        (want_interp && !(interp = soak_new(ACCEL_INTERP, err, sizeof(err))))) {
        fprintf(stderr, "popek-soak: %s\n", err);
        return 2;
    }
    double t0 = now_s();
    static SoakProgram sp;
    for (uint64_t i = start; i < start + count; i++) {
        soak_generate(&sp, seed, i);
        if (verbose) {
            printf("program seed %llu index %llu: ring %d, paging %s, %s, %u bytes\n",
                   (unsigned long long)seed, (unsigned long long)i, sp.bt.cfg.cpl,
                   sp.bt.cfg.paging ? "on" : "off", sp.kind, sp.bt.len);
            fflush(stdout);
        }
        double p0 = now_s();
        if (bt) {
            soak_run(bt, &sp, budget);
        }
        if (interp) {
            soak_run(interp, &sp, budget);
        }
        if (verbose) {
            printf("  done in %.1f ms\n", (now_s() - p0) * 1e3);
        }
    }
    double secs = now_s() - t0;
    SoakMachine *machines[2] = {bt, interp};
    const char *names[2] = {"translator", "interpreter"};
    for (int k = 0; k < 2; k++) {
        if (!machines[k]) {
            continue;
        }
        const SoakStats *s = soak_stats(machines[k]);
        printf("%s: %llu programs, %llu instructions; %llu ran out of budget, %llu out of "
               "time, %llu reset or triple-faulted, %llu powered off\n",
               names[k], (unsigned long long)s->programs, (unsigned long long)s->insns,
               (unsigned long long)s->budget_out, (unsigned long long)s->time_out,
               (unsigned long long)s->resets, (unsigned long long)s->exits);
    }
    printf("seed %llu, programs %llu..%llu: no host crash in %.1f s\n", (unsigned long long)seed,
           (unsigned long long)start, (unsigned long long)(start + count - 1), secs);
    soak_free(bt);
    soak_free(interp);
    return 0;
}
