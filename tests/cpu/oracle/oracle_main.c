/*
 * popek-oracle: random 32-bit protected-mode instruction sequences, run on
 * the host CPU (popek-oracle-native, a static i386 process) and on popek's
 * interpreter, compared state by state.  See README.md beside this file.
 *
 *   popek-oracle --seed N --count N [--verbose] [--class NAME] [--show N]
 *                [--start N] [--native PATH] [--print]
 *   popek-oracle --selftest       (the native runner alone, on SDM-fixed cases)
 *
 * The long run, from the build directory:
 *   ./tests/cpu/oracle/popek-oracle --seed 1 --count 1000000
 *
 * Output: the first failures in detail (the shortest failing prefix of the
 * sequence, disassembled, with the initial state and both final states),
 * pass/fail counts per instruction class, and a closing "N passed, M
 * failed" line.  Exit status 0 when all passed, 1 on any mismatch, 2 when
 * the runner cannot start or the options are wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/oracle/oracle_run.h"

#ifndef ORACLE_NATIVE_PATH
#define ORACLE_NATIVE_PATH "popek-oracle-native"
#endif

typedef struct Options {
    uint64_t seed;
    uint32_t count;
    uint32_t start;
    int cls;
    int show;
    bool verbose;
    bool selftest;
    bool print_all;
    const char *native;
} Options;

typedef struct Oracle {
    NativeRunner *native;
    InterpRunner *interp;
    OracleTest *t, *cut;
    uint8_t *native_data, *interp_data;
    OracleResult nres, eres;
    char why[1024];
} Oracle;

static void usage(void)
{
    fprintf(stderr, "usage: popek-oracle --seed N --count N [--verbose] [--class NAME] "
                    "[--show N] [--start N] [--native PATH] [--print]\n       popek-oracle --selftest\nclasses:");
    for (int c = 0; c < OC_COUNT; c++) {
        fprintf(stderr, " %s", oracle_class_name(c));
    }
    fprintf(stderr, "\n");
}

static bool parse(int argc, char **argv, Options *o)
{
    *o = (Options){.seed = 1, .count = 10000, .cls = -1, .show = 3,
                   .native = ORACLE_NATIVE_PATH};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--print")) {
            o->print_all = true;
            continue;
        }
        if (!strcmp(a, "--selftest")) {
            o->selftest = true;
            continue;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = true;
            o->show = o->show < 20 ? 20 : o->show;
            continue;
        }
        if (!v) {
            return false;
        }
        i++;
        if (!strcmp(a, "--seed")) {
            o->seed = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "--count")) {
            o->count = (uint32_t)strtoul(v, NULL, 0);
        } else if (!strcmp(a, "--start")) {
            o->start = (uint32_t)strtoul(v, NULL, 0);
        } else if (!strcmp(a, "--show")) {
            o->show = atoi(v);
        } else if (!strcmp(a, "--native")) {
            o->native = v;
        } else if (!strcmp(a, "--class")) {
            o->cls = -2;
            for (int c = 0; c < OC_COUNT; c++) {
                if (!strcmp(v, oracle_class_name(c))) {
                    o->cls = c;
                }
            }
            if (o->cls == -2) {
                return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

/* Run t on both sides; true when they agree. */
static bool run_both(Oracle *or, const OracleTest *t)
{
    if (!native_run(or->native, t, &or->nres, or->native_data)) {
        snprintf(or->why, sizeof(or->why), "native runner died or hung");
        return false;
    }
    interp_run(or->interp, t, &or->eres, or->interp_data);
    return oracle_compare(t, &or->nres, or->native_data, &or->eres, or->interp_data, or->why,
                          sizeof(or->why));
}

/* The length of the shortest prefix of t that already disagrees (left in
 * or->cut and or->why), or -1 when every prefix agrees. */
static int first_divergence(Oracle *or, const OracleTest *t)
{
    for (int k = 1; k <= t->n_insn; k++) {
        memcpy(or->cut, t, sizeof(*t));
        oracle_truncate(or->cut, k);
        if (!run_both(or, or->cut)) {
            return k;
        }
    }
    return -1;
}

/* Show the shortest prefix of t that already disagrees. */
static void show_failure(Oracle *or, const OracleTest *t)
{
    printf("FAIL test %u (%s):%s\n", t->index, oracle_class_name(t->cls), or->why);
    int k = first_divergence(or, t);
    if (k > 0) {
        printf("  first disagreement after instruction %d of %d:%s\n", k - 1, t->n_insn,
               or->why);
        oracle_print_test(or->cut, &or->nres, &or->eres);
        return;
    }
    run_both(or, t);
    oracle_print_test(t, &or->nres, &or->eres);
}

/* Failures counted by the mnemonic of the first instruction that diverges. */
typedef struct Culprits {
    char name[32][24];
    uint32_t count[32];
    int n;
} Culprits;

static void count_culprit(Oracle *or, const OracleTest *t, Culprits *c)
{
    char name[24] = "(whole sequence)";
    int k = first_divergence(or, t);
    if (k > 0) {
        oracle_insn_mnemonic(or->cut, k - 1, name, sizeof(name));
    }
    for (int i = 0; i < c->n; i++) {
        if (!strcmp(c->name[i], name)) {
            c->count[i]++;
            return;
        }
    }
    if (c->n < 32) {
        snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
        c->count[c->n++] = 1;
    }
}

static int run(const Options *o)
{
    Oracle or = {0};
    or.t = malloc(sizeof(OracleTest));
    or.cut = malloc(sizeof(OracleTest));
    or.native_data = malloc(ORACLE_DATA_SIZE);
    or.interp_data = malloc(ORACLE_DATA_SIZE);
    or.native = native_start(o->native);
    or.interp = interp_start();
    if (!or.t || !or.cut || !or.native_data || !or.interp_data || !or.native || !or.interp) {
        fprintf(stderr, "popek-oracle: setup failed\n");
        return 2;
    }
    uint32_t pass[OC_COUNT] = {0}, fail[OC_COUNT] = {0};
    int shown = 0;
    Culprits culprits = {.n = 0};
    for (uint32_t i = o->start; i < o->start + o->count; i++) {
        oracle_generate(or.t, o->seed, i, o->cls, false);
        bool ok = run_both(&or, or.t);
        if (o->print_all) {
            printf("%s test %u\n", ok ? "pass" : "FAIL", i);
            oracle_print_test(or.t, &or.nres, &or.eres);
        }
        if (ok) {
            pass[or.t->cls]++;
            continue;
        }
        fail[or.t->cls]++;
        count_culprit(&or, or.t, &culprits);
        if (shown < o->show) {
            shown++;
            show_failure(&or, or.t);
        } else if (o->verbose) {
            printf("FAIL test %u (%s):%s\n", i, oracle_class_name(or.t->cls), or.why);
        }
    }
    uint32_t total_pass = 0, total_fail = 0;
    printf("popek-oracle: seed %llu, tests %u..%u\n", (unsigned long long)o->seed, o->start,
           o->start + o->count - 1);
    for (int c = 0; c < OC_COUNT; c++) {
        if (pass[c] + fail[c]) {
            printf("  %-8s %7u passed %7u failed\n", oracle_class_name(c), pass[c], fail[c]);
        }
        total_pass += pass[c];
        total_fail += fail[c];
    }
    for (int i = 0; i < culprits.n; i++) {
        printf("  first diverging instruction %-12s %u failures\n", culprits.name[i],
               culprits.count[i]);
    }
    printf("%u passed, %u failed\n", total_pass, total_fail);
    native_stop(or.native);
    interp_stop(or.interp);
    free(or.t);
    free(or.cut);
    free(or.native_data);
    free(or.interp_data);
    return total_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
    Options o;
    if (!parse(argc, argv, &o)) {
        usage();
        return 2;
    }
    return o.selftest ? oracle_selftest(o.native) : run(&o);
}
