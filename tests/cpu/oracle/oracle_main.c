/*
 * popek-oracle: random 32-bit protected-mode instruction sequences, run on
 * the host CPU (a native runner process) and on popek's interpreter,
 * compared state by state.  See README.md beside this file.
 *
 *   popek-oracle --seed N --count N [--native 32|64|auto] [--verbose]
 *                [--class NAME] [--show N] [--start N] [--print]
 *                [--native-path32 PATH] [--native-path64 PATH]
 *   popek-oracle --selftest [--native 32|64|auto]   (a native runner alone)
 *
 * There are two native runners: popek-oracle-native, an i386 process that
 * runs every test the generator can make, and popek-oracle-native64, an
 * x86-64 process that runs tests generated for it from the instructions
 * whose results 64-bit mode does not change.  A kernel without IA32
 * emulation cannot run the first.  --native auto (the default) sends
 * odd-numbered tests to the 64-bit runner and even-numbered ones to the
 * 32-bit runner, or every test to the 64-bit runner when the host cannot
 * run the 32-bit one; it says so, and the summary counts each runner's
 * tests apart.  Test i of seed s for a given runner is the same on every
 * machine, so a failure replays with --start i --count 1 and that runner's
 * --native.
 *
 * The long runs, from the build directory:
 *   ./tests/cpu/oracle/popek-oracle --seed 1 --count 1000000
 *   ./tests/cpu/oracle/popek-oracle --native 64 --seed 1 --count 1000000
 *
 * Output: the first failures in detail (the shortest failing prefix of the
 * sequence, disassembled, with the initial state and both final states),
 * pass/fail counts per runner and instruction class, and a closing "N
 * passed, M failed" line.  Exit status 0 when all passed, 1 on any
 * mismatch, 2 when a runner cannot start or the options are wrong, and 77
 * (ORACLE_EXIT_SKIP) when the tests asked for need the 32-bit runner and
 * the kernel refuses to execute it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/oracle/oracle_run.h"

#ifndef ORACLE_NATIVE_PATH
#define ORACLE_NATIVE_PATH "popek-oracle-native"
#endif
#ifndef ORACLE_NATIVE64_PATH
#define ORACLE_NATIVE64_PATH "popek-oracle-native64"
#endif

typedef enum NativeMode { NATIVE_AUTO, NATIVE_32, NATIVE_64 } NativeMode;

/* The runners, as indices into Oracle.runner and the counts (and in the
 * order of the summary: the one that runs everywhere first). */
enum { R64, R32, N_RUNNERS };

static const char *const runner_names[N_RUNNERS] = {"64-bit native", "32-bit native"};

typedef struct Options {
    uint64_t seed;
    uint32_t count;
    uint32_t start;
    int cls;
    int show;
    bool verbose;
    bool selftest;
    bool print_all;
    bool translated; /* --accel bt: popek's side through the binary translator */
    bool lm64;       /* --long: long-mode tests (gen_lm64.c) on the 64-bit runner */
    NativeMode native;
    const char *path[N_RUNNERS];
} Options;

typedef struct Oracle {
    NativeRunner *runner[N_RUNNERS];
    char absent[N_RUNNERS][600]; /* why a runner is not used */
    InterpRunner *interp;
    OracleTest *t, *cut;
    uint8_t *native_data, *interp_data;
    OracleResult nres, eres;
    char why[1024];
} Oracle;

static void usage(void)
{
    fprintf(stderr, "usage: popek-oracle --seed N --count N [--native 32|64|auto] [--verbose] "
                    "[--class NAME] [--show N] [--start N] [--print]\n"
                    "                    [--long] [--accel interp|bt] [--native-path32 PATH] "
                    "[--native-path64 PATH]\n"
                    "       popek-oracle --selftest [--native 32|64|auto]\nclasses:");
    for (int c = 0; c < OC_COUNT; c++) {
        fprintf(stderr, " %s", oracle_class_name(c));
    }
    fprintf(stderr, "\n");
}

static bool parse_native(const char *v, NativeMode *mode)
{
    static const char *const names[] = {"auto", "32", "64"};
    for (int m = 0; m < 3; m++) {
        if (!strcmp(v, names[m])) {
            *mode = (NativeMode)m;
            return true;
        }
    }
    return false;
}

static bool parse(int argc, char **argv, Options *o)
{
    *o = (Options){.seed = 1, .count = 10000, .cls = -1, .show = 3,
                   .native = NATIVE_AUTO,
                   .path = {ORACLE_NATIVE64_PATH, ORACLE_NATIVE_PATH}};
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
        if (!strcmp(a, "--long")) {
            o->lm64 = true;
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
            if (!parse_native(v, &o->native)) {
                return false;
            }
        } else if (!strcmp(a, "--accel")) {
            if (strcmp(v, "interp") && strcmp(v, "bt")) {
                return false;
            }
            o->translated = !strcmp(v, "bt");
        } else if (!strcmp(a, "--native-path32")) {
            o->path[R32] = v;
        } else if (!strcmp(a, "--native-path64")) {
            o->path[R64] = v;
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
    if (o->lm64) {
        /* 64-bit code: the 64-bit runner and popek's interpreter only */
        if (o->native == NATIVE_32 || o->cls >= 0 || o->translated) {
            fprintf(stderr,
                    "popek-oracle: --long takes neither --native 32, --class nor --accel bt\n");
            return false;
        }
        o->native = NATIVE_64;
    }
    if (o->native == NATIVE_64 && o->cls >= 0 && !oracle_class_in_mode64(o->cls)) {
        fprintf(stderr, "popek-oracle: class %s has no tests for the 64-bit runner (README.md)\n",
                oracle_class_name(o->cls));
        return false;
    }
    return true;
}

/* The runner test i goes to (see the head of this file). */
static int runner_for(const Options *o, const Oracle *or, uint32_t i)
{
    if (o->native != NATIVE_AUTO) {
        return o->native == NATIVE_64 ? R64 : R32;
    }
    if (!or->runner[R64]) {
        return R32;
    }
    return !or->runner[R32] || (i & 1) ? R64 : R32;
}

/* Run t on both sides; true when they agree. */
static bool run_both(Oracle *or, const OracleTest *t)
{
    if (!native_run(or->runner[t->mode64 ? R64 : R32], t, &or->nres, or->native_data)) {
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

/* Show the shortest prefix of t that already disagrees, and how to replay t. */
static void show_failure(Oracle *or, const Options *o, const OracleTest *t)
{
    printf("FAIL test %u (%s, %s):%s\n", t->index, oracle_class_name(t->cls),
           runner_names[t->mode64 ? R64 : R32], or->why);
    printf("  replay: popek-oracle --seed %llu --start %u --count 1 --native %s%s%s%s\n",
           (unsigned long long)t->seed, t->index, t->mode64 ? "64" : "32", t->lm64 ? " --long" : "",
           o->cls >= 0 ? " --class " : "", o->cls >= 0 ? oracle_class_name(o->cls) : "");
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

/* Failures counted by the mnemonic of the first instruction that diverges
 * and the runner. */
typedef struct Culprits {
    char name[32][32];
    uint32_t count[32];
    int n;
} Culprits;

static void count_culprit(Oracle *or, const OracleTest *t, Culprits *c)
{
    char mnemonic[24] = "(whole sequence)", name[32];
    int k = first_divergence(or, t);
    if (k > 0) {
        oracle_insn_mnemonic(or->cut, k - 1, mnemonic, sizeof(mnemonic));
    }
    snprintf(name, sizeof(name), "%s (%s)", mnemonic, t->mode64 ? "64" : "32");
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

/*
 * Start the runners the options ask for.  The 64-bit runner must start
 * (every x86-64 host can run it); the 32-bit one is optional in auto mode.
 * 0 when the run can go ahead, else the exit status.
 */
static int start_runners(Oracle *or, const Options *o)
{
    bool need32 = o->native == NATIVE_32 || (o->cls >= 0 && !oracle_class_in_mode64(o->cls));
    bool want64 = o->native != NATIVE_32 && !need32;
    char why[512];
    if (want64) {
        or->runner[R64] = native_start(o->path[R64], true, why, sizeof(why));
        if (!or->runner[R64]) {
            fprintf(stderr, "popek-oracle: the 64-bit native runner does not work: %s\n", why);
            return 2;
        }
    } else {
        snprintf(or->absent[R64], sizeof(or->absent[R64]), "not used (%s)",
                 o->native == NATIVE_32 ? "--native 32" : "the class has no 64-bit tests");
    }
    if (o->native == NATIVE_64) {
        snprintf(or->absent[R32], sizeof(or->absent[R32]), "not used (--native 64)");
        return 0;
    }
    or->runner[R32] = native_start(o->path[R32], false, why, sizeof(why));
    if (or->runner[R32]) {
        return 0;
    }
    int exec_errno = errno;
    snprintf(or->absent[R32], sizeof(or->absent[R32]), "not available on this host: %s", why);
    if (!need32) {
        printf("popek-oracle: the 32-bit native runner is %s; every test goes to the 64-bit "
               "runner\n",
               or->absent[R32]);
        return 0;
    }
    printf("popek-oracle: SKIP: the 32-bit native runner is %s\n", or->absent[R32]);
    return exec_errno == ENOEXEC ? ORACLE_EXIT_SKIP : 2;
}

static void print_counts(const Oracle *or, const uint32_t pass[N_RUNNERS][OC_COUNT],
                         const uint32_t fail[N_RUNNERS][OC_COUNT], const Culprits *culprits)
{
    for (int r = 0; r < N_RUNNERS; r++) {
        if (!or->runner[r]) {
            continue;
        }
        printf("  %s:\n", runner_names[r]);
        for (int c = 0; c < OC_COUNT; c++) {
            if (pass[r][c] + fail[r][c]) {
                printf("    %-8s %7u passed %7u failed\n", oracle_class_name(c), pass[r][c],
                       fail[r][c]);
            }
        }
    }
    for (int i = 0; i < culprits->n; i++) {
        printf("  first diverging instruction %-16s %u failures\n", culprits->name[i],
               culprits->count[i]);
    }
    uint32_t total_pass = 0, total_fail = 0;
    for (int r = 0; r < N_RUNNERS; r++) {
        uint32_t p = 0, f = 0;
        for (int c = 0; c < OC_COUNT; c++) {
            p += pass[r][c];
            f += fail[r][c];
        }
        if (or->runner[r]) {
            printf("%s: %u passed, %u failed\n", runner_names[r], p, f);
        } else {
            printf("%s: %s\n", runner_names[r], or->absent[r]);
        }
        total_pass += p;
        total_fail += f;
    }
    interp_report(or->interp);
    printf("%u passed, %u failed\n", total_pass, total_fail);
}

static int run(const Options *o)
{
    Oracle or = {0};
    int status = start_runners(&or, o);
    if (status) {
        native_stop(or.runner[R64]);
        return status;
    }
    or.t = malloc(sizeof(OracleTest));
    or.cut = malloc(sizeof(OracleTest));
    or.native_data = malloc(ORACLE_DATA_SIZE);
    or.interp_data = malloc(ORACLE_DATA_SIZE);
    or.interp = interp_start(o->translated);
    if (!or.t || !or.cut || !or.native_data || !or.interp_data || !or.interp) {
        fprintf(stderr, "popek-oracle: setup failed\n");
        return 2;
    }
    uint32_t pass[N_RUNNERS][OC_COUNT] = {{0}}, fail[N_RUNNERS][OC_COUNT] = {{0}};
    int shown = 0;
    Culprits culprits = {.n = 0};
    for (uint32_t i = o->start; i < o->start + o->count; i++) {
        int r = runner_for(o, &or, i);
        if (o->lm64) {
            oracle_generate_lm64(or.t, o->seed, i);
        } else {
            oracle_generate(or.t, o->seed, i, o->cls, r == R64);
        }
        bool ok = run_both(&or, or.t);
        if (o->print_all) {
            printf("%s test %u\n", ok ? "pass" : "FAIL", i);
            oracle_print_test(or.t, &or.nres, &or.eres);
        }
        if (ok) {
            pass[r][or.t->cls]++;
            continue;
        }
        fail[r][or.t->cls]++;
        count_culprit(&or, or.t, &culprits);
        if (shown < o->show) {
            shown++;
            show_failure(&or, o, or.t);
        } else if (o->verbose) {
            printf("FAIL test %u (%s, %s):%s\n", i, oracle_class_name(or.t->cls),
                   runner_names[r], or.why);
        }
    }
    printf("popek-oracle: seed %llu, tests %u..%u\n", (unsigned long long)o->seed, o->start,
           o->start + o->count - 1);
    print_counts(&or, pass, fail, &culprits);
    bool failed = false;
    for (int r = 0; r < N_RUNNERS; r++) {
        for (int c = 0; c < OC_COUNT; c++) {
            failed |= fail[r][c] != 0;
        }
        native_stop(or.runner[r]);
    }
    interp_stop(or.interp);
    free(or.t);
    free(or.cut);
    free(or.native_data);
    free(or.interp_data);
    return failed ? 1 : 0;
}

/* The self-tests the mode asks for; auto runs both and fails if either does. */
static int selftest(const Options *o)
{
    if (o->native != NATIVE_AUTO) {
        bool mode64 = o->native == NATIVE_64;
        return oracle_selftest(o->path[mode64 ? R64 : R32], mode64);
    }
    int s64 = oracle_selftest(o->path[R64], true);
    int s32 = oracle_selftest(o->path[R32], false);
    if (s64) {
        return s64;
    }
    return s32 == ORACLE_EXIT_SKIP ? 0 : s32;
}

int main(int argc, char **argv)
{
    Options o;
    if (!parse(argc, argv, &o)) {
        usage();
        return 2;
    }
    return o.selftest ? selftest(&o) : run(&o);
}
