/*
 * popek-bt-diff: the differential test as a command, for long runs.
 *
 *   popek-bt-diff [--seed N] [--count N] [--start N] [--config C] [--check | --contained]
 *                 [--show N]
 *
 * Runs programs --start .. --start+--count-1 of seed --seed in each of the
 * configurations of bt_gen.h (legacy, compatibility and 64-bit mode) (or only --config C), prints the first
 * --show differences in full and a summary.  A program is named by
 * (seed, config, index) and is the same on every machine, so a CI failure
 * replays with the line test_bt_diff prints.  --check runs the translator
 * in lockstep check mode instead of plain translation.  --contained checks
 * the generator instead: that nothing but the flags it names at the end
 * derives from undefined results (btd_contained).  Exit status 0 when
 * every program agreed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bt/bt_diff.h"

int main(int argc, char **argv)
{
    uint64_t seed = 1, count = 10000, start = 0;
    int config = -1, show = 3;
    enum BTMode mode = BT_MODE_RUN;
    bool contained = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--check")) {
            mode = BT_MODE_CHECK;
        } else if (!strcmp(a, "--contained")) {
            contained = true;
            btg_set_x87(false); /* see bt_gen.h */
        } else if (v && !strcmp(a, "--seed")) {
            seed = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--count")) {
            count = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--start")) {
            start = strtoull(v, NULL, 0), i++;
        } else if (v && !strcmp(a, "--config")) {
            config = atoi(v), i++;
        } else if (v && !strcmp(a, "--show")) {
            show = atoi(v), i++;
        } else {
            fprintf(stderr,
                    "usage: %s [--seed N] [--count N] [--start N] [--config C] [--check | "
                    "--contained] [--show N]\n",
                    argv[0]);
            return 2;
        }
    }
    BTDiff *d = btd_new(mode);
    if (!d) {
        fprintf(stderr, "popek-bt-diff: cannot create the test machines\n");
        return 2;
    }
    static char report[1 << 16];
    static BTProgram prog;
    if (config >= BTG_NCONFIGS_ALL) {
        fprintf(stderr, "popek-bt-diff: --config wants 0..%d\n", BTG_NCONFIGS_ALL - 1);
        return 2;
    }
    uint64_t failed = 0, runs = 0;
    for (uint64_t i = start; i < start + count; i++) {
        for (int c = 0; c < BTG_NCONFIGS_ALL; c++) {
            if (config >= 0 && c != config) {
                continue;
            }
            btg_generate(&prog, c, seed, i);
            runs++;
            bool ok = contained ? btd_contained(d, &prog, 20000, report, sizeof(report))
                                : btd_run(d, &prog, 20000, report, sizeof(report));
            if (!ok) {
                if (failed < (uint64_t)show) {
                    printf("---- seed %llu config %d program %llu differs ----\n%s\n",
                           (unsigned long long)seed, c, (unsigned long long)i, report);
                }
                failed++;
            }
        }
    }
    const BTStats *s = btd_stats(d);
    printf(
        "%llu programs, %llu differ; %llu blocks translated (%llu guest bytes -> %llu host bytes), "
        "%llu chains, %llu invalidations, %llu insns interpreted\n",
        (unsigned long long)runs, (unsigned long long)failed,
        (unsigned long long)s->blocks_translated, (unsigned long long)s->guest_bytes,
        (unsigned long long)s->host_bytes, (unsigned long long)s->chains,
        (unsigned long long)s->invalidations, (unsigned long long)s->interp_insns);
    printf("native stretches: %llu x87, %llu SSE; %llu SSE refused (CR0.TS/EM, OSFXSR, unmasked "
           "MXCSR)\n",
           (unsigned long long)s->x87_loads, (unsigned long long)s->sse_loads,
           (unsigned long long)s->sse_fallbacks);
    printf("ended in: none %llu", (unsigned long long)btd_endings(d, -1));
    for (int v = 0; v < 256; v++) {
        if (btd_endings(d, v)) {
            printf(", vector %d %llu", v, (unsigned long long)btd_endings(d, v));
        }
    }
    printf("; #PF(I/D) %llu\n", (unsigned long long)btd_nx_faults(d));
    if (mode == BT_MODE_CHECK) {
        printf("check mode: %llu blocks compared, %llu run once (I/O), %llu spans differed only "
               "in undefined results\n",
               (unsigned long long)s->checked_blocks, (unsigned long long)s->unchecked_blocks,
               (unsigned long long)s->tainted_spans);
    }
    btd_free(d);
    return failed ? 1 : 0;
}
