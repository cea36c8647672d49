/*
 * Creating and destroying a translator, and its statistics.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xmmintrin.h>

#include "softmmu/phys.h"
#include "translator/bt_internal.h"

/* Translated code parks flags with LAHF/SAHF, which 64-bit mode has only
 * when CPUID.80000001H:ECX.LAHF-SAHF[bit 0] says so. */
static bool host_has_lahf64(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) {
        return false;
    }
    return c & 1u;
}

BT *bt_new(CPUState *cpu, size_t cache_bytes, enum BTMode mode)
{
    if (!host_has_lahf64()) {
        fprintf(stderr, "popek: --accel bt: the host CPU lacks LAHF/SAHF in 64-bit mode\n");
        return NULL;
    }
    BT *bt = calloc(1, sizeof(*bt));
    if (!bt) {
        return NULL;
    }
    bt->cpu = cpu;
    bt->mode = mode;
    bt->chain = mode == BT_MODE_RUN;
    bt->x87_native = true;
    bt->sse_native = true;
    bt->code64 = true;
    bt->mem64_native = true;
    bt->inline_cache = true;
    bt->superblocks = true;
    cpu->bt_host_mxcsr = _mm_getcsr(); /* what translated code gives back to C (gen_sse.c) */
    cpu->bt_shadow_icount = UINT64_MAX; /* no native instruction in STI's shadow (helpers.c) */
    bt->memfd = -1;
    bt->report = stderr;
    if (!bt_cache_init(bt, cache_bytes)) {
        fprintf(stderr, "popek: --accel bt: cannot map a %zu-byte code cache\n", cache_bytes);
        bt_cache_destroy(bt);
        free(bt);
        return NULL;
    }
    if (!bt_emit_stubs(bt)) {
        fprintf(stderr, "popek: --accel bt: the translator's stubs outgrew their space\n");
        bt_cache_destroy(bt);
        free(bt);
        return NULL;
    }
    bt_smc_init(bt);
    cpu->accel = bt;
    if (mode == BT_MODE_RUN) {
        cpu->insn_census = bt->stats.census_interp; /* check mode's replays would count twice */
    }
    phys_add_code_listener(cpu->phys, bt_code_written, bt);
    if (mode == BT_MODE_CHECK) {
        bt->check = bt_check_new(bt);
        if (!bt->check) {
            fprintf(stderr, "popek: --accel check: out of memory for the shadow RAM\n");
            bt_free(bt);
            return NULL;
        }
    }
    return bt;
}

void bt_set_sse_native(BT *bt, bool on)
{
    bt->sse_native = on;
    bt_flush(bt);
}

void bt_set_code64(BT *bt, bool on)
{
    bt->code64 = on;
    bt_flush(bt);
}

void bt_set_mem64_native(BT *bt, bool on)
{
    bt->mem64_native = on;
    bt_flush(bt);
}

void bt_set_inline_cache(BT *bt, bool on)
{
    bt->inline_cache = on;
    bt_flush(bt);
}

void bt_set_superblocks(BT *bt, bool on)
{
    bt->superblocks = on;
    bt_flush(bt);
}

void bt_set_x87_native(BT *bt, bool on)
{
    bt->x87_native = on;
    bt_flush(bt);
}

void bt_free(BT *bt)
{
    if (!bt) {
        return;
    }
    if (bt->check) {
        bt_check_free(bt->check);
    }
    if (bt->cpu->accel == bt) {
        bt->cpu->accel = NULL;
        bt->cpu->bt_jc = NULL;
        bt->cpu->insn_census = NULL;
    }
    phys_remove_code_listener(bt->cpu->phys, bt_code_written, bt);
    if (bt->perfmap) {
        fclose(bt->perfmap);
    }
    bt_smc_destroy(bt);
    bt_cache_destroy(bt);
    free(bt);
}

const char *const bt_why_names[BT_WHY_COUNT] = {
    [BT_WHY_REAL] = "real mode",
    [BT_WHY_VM86] = "vm86 mode",
    [BT_WHY_CODE16] = "16-bit or limited code segment",
    [BT_WHY_CODE64] = "64-bit mode",
    [BT_WHY_DEBUG] = "single-step, breakpoints, tracing or alignment checks",
    [BT_WHY_TRANSIENT] = "interrupt shadow, RF or a pending debug trap",
    [BT_WHY_NOBLOCK] = "code outside RAM or crossing a page",
    [BT_WHY_TAIL] = "slice ends",
    [BT_WHY_EVENT] = "interrupt and exception delivery",
};

const BTStats *bt_stats(BT *bt)
{
    bt->stats.cache_size = bt->size;
    bt->stats.cache_used = bt->code_used + bt->data_used;
    bt->stats.jc_lookups = bt->cpu->bt_jc_lookups;
    bt->stats.jc_misses = bt->cpu->bt_jc_misses;
    bt->stats.ic_lookups = bt->cpu->bt_ic_hits + bt->cpu->bt_ic_misses;
    bt->stats.ic_misses = bt->cpu->bt_ic_misses;
    bt->stats.mem_slow = bt->cpu->bt_mem_slow;
    bt->stats.ret_total = bt->cpu->bt_ret_total;
    bt->stats.ret_miss = bt->cpu->bt_ret_miss;
    return &bt->stats;
}

bool bt_open_perfmap(BT *bt)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
    bt->perfmap = fopen(path, "w");
    if (!bt->perfmap) {
        fprintf(stderr, "popek: -perfmap: cannot create %s: %s\n", path, strerror(errno));
        return false;
    }
    setvbuf(bt->perfmap, NULL, _IOLBF, 0); /* perf may read it while popek runs */
    return true;
}

void bt_set_report(BT *bt, FILE *out)
{
    bt->report = out;
}
