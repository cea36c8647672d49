/*
 * popek-sst: runs the SingleStepTests 80286 real-mode vectors
 * (../shared/fixtures/sst-80286-real) on popek's CPU and reports pass rates
 * per opcode file.
 *
 * Full run (all 325 opcode files, all tests), from the build directory:
 *
 *     ./tests/cpu/popek-sst
 *
 * CI runs a fixed sample (ctest cpu.sst_sample: the first 40 tests of each
 * file).  Options:
 *
 *     popek-sst [-f DIR] [-n N] [-v] [-d N] [-q] [--report-only] [OPCODE...]
 *
 *   -f, --fixtures DIR  the sst-80286-real directory (default: $POPEK_FIXTURES,
 *                       else the path configured at build time)
 *   -n, --limit N       run at most the first N tests of each file (0: all)
 *   -v, --verbose       show the first failures of each opcode in detail
 *   -d, --details N     how many failures per opcode -v shows (default 3)
 *   -q, --quiet         print only failing opcodes and the summary
 *   --report-only       exit 0 even when tests fail
 *   OPCODE              file names or prefixes: "00", "80.1", "F6" (= F6.0-F6.7)
 *
 * Exit status: 0 all applicable tests passed (or --report-only), 1 some
 * failed, 2 the fixtures or options were unusable.
 *
 * The 286-vs-P6 differences that make the runner skip or mask a test are
 * in sst_skips.c; each one is printed with its opcode and count.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tests/cpu/moo.h"
#include "tests/cpu/sst_exec.h"
#include "tests/cpu/sst_meta.h"
#include "tests/cpu/sst_skips.h"

#ifndef SST_DEFAULT_FIXTURES
#define SST_DEFAULT_FIXTURES "../shared/fixtures/sst-80286-real"
#endif

#define SST_MAX_FILES 1024
#define SST_NAME_LEN 16
#define SST_DIR_LEN 4000   /* longest fixtures path accepted */
#define SST_PATH_LEN 4200  /* a file in it: room for "/metadata.json" and the like */

typedef struct SstOptions {
    const char *fixtures;
    unsigned limit;
    bool verbose;
    unsigned details;
    bool quiet;
    bool report_only;
    char **select;      /* opcode names or prefixes; none: all */
    int nselect;
} SstOptions;

/* Counts for one opcode file. */
typedef struct SstFileStats {
    char name[SST_NAME_LEN];
    char mnemonic[9];
    char status[16];
    unsigned pass, fail;
    unsigned rule_hits[SST_RULE_COUNT];
} SstFileStats;

typedef struct SstRun {
    SstOptions opt;
    SstMeta meta;
    SstRevoked revoked;
    SstMachine *machine;
    SstFileStats *files;
    int nfiles;
} SstRun;

static void usage(FILE *out)
{
    fprintf(out, "usage: popek-sst [-f DIR] [-n N] [-v] [-d N] [-q] [--report-only] "
                 "[OPCODE...]\n"
                 "Runs the 80286 real-mode SingleStepTests on popek's CPU.\n"
                 "  -f, --fixtures DIR  sst-80286-real directory (env POPEK_FIXTURES; "
                 "default %s)\n"
                 "  -n, --limit N       first N tests per opcode file (0 = all)\n"
                 "  -v, --verbose       show failures in detail\n"
                 "  -d, --details N     failures shown per opcode with -v (default 3)\n"
                 "  -q, --quiet         only failing opcodes and the summary\n"
                 "  --report-only       exit 0 even if tests fail\n",
                 SST_DEFAULT_FIXTURES);
}

static bool parse_count(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 1000000000ul) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool parse_options(SstOptions *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"fixtures", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'n'},
        {"verbose", no_argument, NULL, 'v'},
        {"details", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"report-only", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (SstOptions){.details = 3};
    o->fixtures = getenv("POPEK_FIXTURES");
    if (!o->fixtures || !*o->fixtures) {
        o->fixtures = SST_DEFAULT_FIXTURES;
    }
    int c;
    while ((c = getopt_long(argc, argv, "f:n:vd:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o->fixtures = optarg; break;
        case 'n':
            if (!parse_count(optarg, &o->limit)) {
                fprintf(stderr, "popek-sst: bad --limit '%s'\n", optarg);
                return false;
            }
            break;
        case 'v': o->verbose = true; break;
        case 'd':
            if (!parse_count(optarg, &o->details)) {
                fprintf(stderr, "popek-sst: bad --details '%s'\n", optarg);
                return false;
            }
            break;
        case 'q': o->quiet = true; break;
        case 'r': o->report_only = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return false;
        }
    }
    o->select = argv + optind;
    o->nselect = argc - optind;
    return true;
}

/* "80.1" is selected by "80.1" and by "80"; "80" alone by "80". */
static bool selected(const SstOptions *o, const char *name)
{
    if (o->nselect == 0) {
        return true;
    }
    for (int i = 0; i < o->nselect; i++) {
        size_t n = strlen(o->select[i]);
        if (strncasecmp(name, o->select[i], n) == 0 && (name[n] == '\0' || name[n] == '.')) {
            return true;
        }
    }
    return false;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The opcode files in dir ("00" for 00.MOO.gz), sorted; -1 on error. */
static int list_files(const char *dir, char (*names)[SST_NAME_LEN], int max)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        const char *dot = strstr(e->d_name, ".MOO");
        if (!dot || (strcmp(dot, ".MOO.gz") != 0 && strcmp(dot, ".MOO") != 0) ||
            (size_t)(dot - e->d_name) >= SST_NAME_LEN) {
            continue;
        }
        snprintf(names[n], SST_NAME_LEN, "%.*s", (int)(dot - e->d_name), e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, SST_NAME_LEN, compare_names);
    return n;
}

/* The metadata entry for this test: the file's own ("80.1", "D8"), or
 * for files that hold several /reg forms ("8F", "C6", "C7") the form's. */
static const SstOpMeta *test_meta(const SstRun *run, const char *file, const SstInsn *insn)
{
    const SstOpMeta *m = sst_meta_find(&run->meta, file);
    if (!m && insn->has_modrm) {
        char form[SST_NAME_LEN + 4];
        snprintf(form, sizeof(form), "%s.%d", file, sst_insn_reg(insn));
        m = sst_meta_find(&run->meta, form);
    }
    return m;
}

static void print_regs(const char *label, const uint16_t *v)
{
    printf("    %-9s", label);
    for (int i = 0; i < MOO_NREGS; i++) {
        printf(" %s=%04x", moo_reg_names[i], v[i]);
    }
    printf("\n");
}

static void print_failure(const SstFileStats *fs, const MooTest *t, const SstResult *r)
{
    printf("  FAIL %s test %u: %.*s\n    bytes    ", fs->name, t->index, (int)t->name_len,
           t->name);
    for (uint32_t i = 0; i < t->nbytes; i++) {
        printf(" %02x", t->bytes[i]);
    }
    printf("   hash ");
    for (int i = 0; i < 20; i++) {
        printf("%02x", t->hash[i]);
    }
    printf("\n");
    print_regs("initial", t->init.regs.value);
    for (int i = 0; i < MOO_NREGS; i++) {
        if (r->reg_diff & (1u << i)) {
            printf("    %-9s expected %04x got %04x (compared bits %04x, initial %04x)\n",
                   moo_reg_names[i], r->want[i], r->got[i], r->cmp_mask[i],
                   t->init.regs.value[i]);
        }
    }
    for (int i = 0; i < r->nmem; i++) {
        const SstMemDiff *d = &r->mem[i];
        printf("    mem %06x expected %02x got %02x (initial %02x%s)\n", d->addr, d->want,
               d->got, d->init, d->mask != 0xff ? ", pushed FLAGS byte, masked" : "");
    }
    if (r->nmem_total > r->nmem) {
        printf("    ... %d more differing bytes\n", r->nmem_total - r->nmem);
    }
    if (r->other[0]) {
        printf("    other: %s\n", r->other);
    }
    printf("    recorded exception: ");
    if (t->has_exception) {
        printf("%u (FLAGS pushed at %06x)", t->exception, t->flag_addr);
    } else {
        printf("none");
    }
    printf("; popek raised:");
    for (int i = 0; i < r->nvectors; i++) {
        printf(" %d", r->vectors[i]);
    }
    printf("%s; steps %d\n", r->nvectors ? "" : " none", r->steps);
}

/* Decide how to judge test t, run it, count the outcome. */
static void run_one(SstRun *run, SstFileStats *fs, const MooFile *f, const MooTest *t,
                    unsigned *shown)
{
    SstInsn insn;
    sst_insn_scan(t, &insn);
    if (t->has_hash && sst_revoked_has(&run->revoked, t->hash)) {
        fs->rule_hits[SST_SKIP_REVOKED]++;
        return;
    }
    int skip = sst_skip_rule(&insn);
    if (skip >= 0) {
        fs->rule_hits[skip]++;
        return;
    }
    const SstOpMeta *om = test_meta(run, fs->name, &insn);
    uint16_t meta_mask = om ? om->flags_mask : 0xffff;
    int rules[2], nrules;
    uint16_t p6_undefined = sst_p6_undefined_flags(&insn, &t->init.regs, rules, &nrules);
    int regs_rule;
    uint16_t ignore_regs = sst_ignored_registers(&insn, t, &regs_rule);
    SstPlan plan = {
        .flags_mask = meta_mask & (uint16_t)~p6_undefined,
        .pushed_flags_mask = meta_mask & (uint16_t)~p6_undefined,
        .ignore_regs = ignore_regs,
        .alias_ss_gp = t->has_exception && t->exception == EXC_GP,
        .hlt_under_test = insn.opcode == 0xf4,
        .rep_string = sst_insn_is_rep_string(&insn),
    };
    SstResult r;
    sst_run_test(run->machine, f, t, &plan, &r);
    /* A mask rule counts only where it hid something the metadata did not
     * already hide, or (for #SS-for-#GP) where the P6 took the other vector. */
    for (int i = 0; i < nrules; i++) {
        uint16_t bit = rules[i] == SST_MASK_SHIFT_OF ? 0x0800 : 0x0001;
        if (meta_mask & bit) {
            fs->rule_hits[rules[i]]++;
        }
    }
    if (regs_rule >= 0) {
        fs->rule_hits[regs_rule]++;
    }
    if (plan.alias_ss_gp && r.nvectors > 0 && r.vectors[0] == EXC_SS) {
        fs->rule_hits[SST_MASK_SS_FAULT]++;
    }
    if (r.pass) {
        fs->pass++;
        return;
    }
    fs->fail++;
    if (run->opt.verbose && *shown < run->opt.details) {
        print_failure(fs, t, &r);
        (*shown)++;
    }
}

/* Run (the selected part of) one opcode file; false if it cannot be read. */
static bool run_file(SstRun *run, SstFileStats *fs, const char *dir)
{
    char path[SST_PATH_LEN], err[512];
    snprintf(path, sizeof(path), "%s/%s.MOO.gz", dir, fs->name);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(path, sizeof(path), "%s/%s.MOO", dir, fs->name);
    }
    MooFile f;
    if (!moo_load(&f, path, err, sizeof(err))) {
        fprintf(stderr, "popek-sst: %s\n", err);
        return false;
    }
    snprintf(fs->mnemonic, sizeof(fs->mnemonic), "%s", f.has_meta ? f.meta.mnemonic : "?");
    const SstOpMeta *om = sst_meta_find(&run->meta, fs->name);
    snprintf(fs->status, sizeof(fs->status), "%s", om ? om->status : "by-reg");
    uint32_t n = f.ntests;
    if (run->opt.limit && run->opt.limit < n) {
        n = run->opt.limit;
    }
    unsigned shown = 0;
    for (uint32_t i = 0; i < n; i++) {
        run_one(run, fs, &f, &f.tests[i], &shown);
    }
    moo_free(&f);
    return true;
}

static unsigned skipped_count(const SstFileStats *fs)
{
    unsigned n = 0;
    for (int k = 0; k < SST_RULE_COUNT; k++) {
        n += sst_rules[k].skip ? fs->rule_hits[k] : 0;
    }
    return n;
}

static void print_file_line(const SstRun *run, const SstFileStats *fs)
{
    if (run->opt.quiet && fs->fail == 0) {
        return;
    }
    unsigned applicable = fs->pass + fs->fail;
    printf("%-6s %-8s %-12s pass %4u  fail %4u  skip %3u  %6.1f%%\n", fs->name, fs->mnemonic,
           fs->status, fs->pass, fs->fail, skipped_count(fs),
           applicable ? 100.0 * fs->pass / applicable : 100.0);
}

/* The skip and mask rules with the opcodes and counts they touched. */
static void print_rules(const SstRun *run, bool skip)
{
    printf("\n%s:\n", skip ? "skipped (286 and P6 differ; tests not run)"
                           : "masked (286 and P6 differ; part of the result not compared)");
    if (!skip) {
        for (int i = 0; sst_global_masks[i]; i++) {
            printf("  all opcodes: %s\n", sst_global_masks[i]);
        }
    }
    for (int k = 0; k < SST_RULE_COUNT; k++) {
        if (sst_rules[k].skip != skip) {
            continue;
        }
        unsigned total = 0;
        for (int i = 0; i < run->nfiles; i++) {
            total += run->files[i].rule_hits[k];
        }
        if (total == 0) {
            continue;
        }
        printf("  [%s] %u test(s): %s\n   ", sst_rules[k].id, total, sst_rules[k].reason);
        for (int i = 0; i < run->nfiles; i++) {
            if (run->files[i].rule_hits[k]) {
                printf(" %s:%u", run->files[i].name, run->files[i].rule_hits[k]);
            }
        }
        printf("\n");
    }
}

static int report(const SstRun *run)
{
    unsigned pass = 0, fail = 0, skip = 0;
    for (int i = 0; i < run->nfiles; i++) {
        pass += run->files[i].pass;
        fail += run->files[i].fail;
        skip += skipped_count(&run->files[i]);
    }
    print_rules(run, true);
    print_rules(run, false);
    if (fail) {
        printf("\nfailing opcodes:");
        for (int i = 0; i < run->nfiles; i++) {
            if (run->files[i].fail) {
                printf(" %s(%u)", run->files[i].name, run->files[i].fail);
            }
        }
        printf("\n");
    }
    unsigned applicable = pass + fail;
    printf("\npopek-sst: %u/%u applicable tests passed (%.2f%%), %u failed, %u skipped, "
           "%d opcode files\n",
           pass, applicable, applicable ? 100.0 * pass / applicable : 0.0, fail, skip,
           run->nfiles);
    return fail && !run->opt.report_only ? 1 : 0;
}

/* Load metadata, revocation list, machine; false with a message printed. */
static bool setup(SstRun *run, const char *dir)
{
    char path[SST_PATH_LEN], err[512];
    struct stat st;
    if (stat(run->opt.fixtures, &st) != 0 || !S_ISDIR(st.st_mode) || stat(dir, &st) != 0) {
        fprintf(stderr,
                "popek-sst: fixtures not found: %s does not exist (point --fixtures or "
                "POPEK_FIXTURES at the sst-80286-real directory)\n",
                dir);
        return false;
    }
    snprintf(path, sizeof(path), "%s/metadata.json", dir);
    if (!sst_meta_load(&run->meta, path, err, sizeof(err))) {
        fprintf(stderr, "popek-sst: %s\n", err);
        return false;
    }
    snprintf(path, sizeof(path), "%s/revocation_list.txt", run->opt.fixtures);
    if (!sst_revoked_load(&run->revoked, path, err, sizeof(err))) {
        fprintf(stderr, "popek-sst: %s\n", err);
        return false;
    }
    run->machine = malloc(sizeof(*run->machine));
    if (!run->machine || !sst_machine_init(run->machine, err, sizeof(err))) {
        fprintf(stderr, "popek-sst: %s\n", run->machine ? err : "out of memory");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static char names[SST_MAX_FILES][SST_NAME_LEN];
    SstRun run = {0};
    if (!parse_options(&run.opt, argc, argv)) {
        return 2;
    }
    char dir[SST_DIR_LEN];
    if (strlen(run.opt.fixtures) + sizeof("/v1_real_mode") > sizeof(dir)) {
        fprintf(stderr, "popek-sst: fixtures path too long\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s/v1_real_mode", run.opt.fixtures);
    int status = 2;
    if (!setup(&run, dir)) {
        goto out;
    }
    int n = list_files(dir, names, SST_MAX_FILES);
    run.files = calloc(n > 0 ? (size_t)n : 1, sizeof(*run.files));
    if (n <= 0 || !run.files) {
        fprintf(stderr, "popek-sst: no opcode files in %s\n", dir);
        goto out;
    }
    if (run.opt.limit) {
        printf("popek-sst: %s, first %u tests per file\n", run.opt.fixtures, run.opt.limit);
    } else {
        printf("popek-sst: %s, all tests\n", run.opt.fixtures);
    }
    for (int i = 0; i < n; i++) {
        if (!selected(&run.opt, names[i])) {
            continue;
        }
        SstFileStats *fs = &run.files[run.nfiles++];
        snprintf(fs->name, sizeof(fs->name), "%s", names[i]);
        if (!run_file(&run, fs, dir)) {
            goto out;
        }
        print_file_line(&run, fs);
        fflush(stdout);
    }
    if (run.nfiles == 0) {
        fprintf(stderr, "popek-sst: no opcode file matches the selection\n");
        goto out;
    }
    status = report(&run);
out:
    if (run.machine) {
        sst_machine_destroy(run.machine);
        free(run.machine);
    }
    free(run.files);
    sst_meta_free(&run.meta);
    sst_revoked_free(&run.revoked);
    return status;
}
