/*
 * Monitor inspection commands.  Everything here reads guest state without
 * changing it: memory through frontend/debugmem.c (no faults, no A/D bits,
 * no MMIO), page tables by reading them as memory.  Output formats follow
 * QEMU's monitor closely enough that its users read them without thinking.
 */
#include <capstone/capstone.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "frontend/cpudump.h"
#include "frontend/debugmem.h"
#include "frontend/monitor_cmds.h"
#include "translator/disas.h"
#include "translator/translator.h"

#define PAGE_4K        0x1000u
#define PAGE_4M        0x400000u
#define PTE_P          0x001u
#define PTE_W          0x002u
#define PTE_U          0x004u
#define PTE_PWT        0x008u
#define PTE_PCD        0x010u
#define PTE_A          0x020u
#define PTE_D          0x040u
#define PTE_PS         0x080u
#define PTE_G          0x100u
#define DUMP_MAX_ITEMS 4096 /* items one x/ or xp/ shows at most */

void monbuf_printf(MonBuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1) {
            cap *= 2;
        }
        char *data = realloc(b->data, cap);
        if (!data) {
            return; /* out of host memory: the output is cut short */
        }
        b->data = data;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- info registers ---- */

void moncmd_info_registers(MonBuf *out, CPUState *cpu)
{
    char dump[CPUDUMP_MAX];
    cpudump_format(cpu, dump, sizeof(dump));
    monbuf_printf(out, "%s", dump);
    uint16_t fsw = (uint16_t)((cpu->fpu.fsw & ~0x3800u) | ((cpu->fpu.top & 7u) << 11));
    monbuf_printf(out, "FCW=%04x FSW=%04x FTW=%04x MXCSR=%08x\n", cpu->fpu.fcw, fsw, cpu->fpu.ftw,
                  cpu->fpu.mxcsr);
    monbuf_printf(out, "ICOUNT=%llu\n", (unsigned long long)cpu->icount);
}

/* ---- page tables ---- */

/* Called for each present mapping: linear base, the entry that maps it,
 * its size, and the P/W/U rights of both levels combined. */
typedef void (*PageVisit)(void *ctx, uint32_t lin, uint32_t entry, uint32_t size, uint32_t rights);

/* Walk the 32-bit page tables (SDM Vol.3 4.3); false if CR3 is unreadable. */
static bool walk_pages(CPUState *cpu, PageVisit visit, void *ctx)
{
    uint32_t pd[1024], pt[1024];
    if (debugmem_read_phys(cpu, cpu->cr3 & 0xfffff000u, (uint8_t *)pd, sizeof(pd)) < sizeof(pd)) {
        return false;
    }
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pde = pd[i];
        if (!(pde & PTE_P)) {
            continue;
        }
        if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
            visit(ctx, i << 22, pde, PAGE_4M, pde & (PTE_P | PTE_W | PTE_U));
            continue;
        }
        if (debugmem_read_phys(cpu, pde & 0xfffff000u, (uint8_t *)pt, sizeof(pt)) < sizeof(pt)) {
            continue;
        }
        for (uint32_t j = 0; j < 1024; j++) {
            if (pt[j] & PTE_P) {
                visit(ctx, (i << 22) | (j << 12), pt[j], PAGE_4K,
                      pde & pt[j] & (PTE_P | PTE_W | PTE_U));
            }
        }
    }
    return true;
}

static void tlb_visit(void *ctx, uint32_t lin, uint32_t entry, uint32_t size, uint32_t rights)
{
    MonBuf *out = ctx;
    uint32_t frame = entry & (size == PAGE_4M ? 0xffc00000u : 0xfffff000u);
    monbuf_printf(out, "%08x: %08x %c%c%c%c%c%c%c%c\n", lin, frame, (entry & PTE_G) ? 'G' : '-',
                  size == PAGE_4M ? 'P' : '-', (entry & PTE_D) ? 'D' : '-',
                  (entry & PTE_A) ? 'A' : '-', (entry & PTE_PCD) ? 'C' : '-',
                  (entry & PTE_PWT) ? 'T' : '-', (entry & PTE_U) ? 'U' : '-',
                  (entry & PTE_W) ? 'W' : '-');
}

void moncmd_info_tlb(MonBuf *out, CPUState *cpu)
{
    if (!(cpu->cr0 & CR0_PG)) {
        monbuf_printf(out, "PG disabled\n");
        return;
    }
    if (!walk_pages(cpu, tlb_visit, out)) {
        monbuf_printf(out, "page directory at %08x is not in RAM\n",
                      (uint32_t)cpu->cr3 & 0xfffff000u);
    }
}

/* info mem: runs of contiguous mappings with the same rights. */
typedef struct MemRun {
    MonBuf *out;
    bool open;
    uint32_t start;
    uint64_t end;
    uint32_t rights;
} MemRun;

static void mem_run_flush(MemRun *run)
{
    if (run->open) {
        monbuf_printf(run->out, "%08x-%08llx %08llx %c%c%c\n", run->start,
                      (unsigned long long)run->end, (unsigned long long)(run->end - run->start),
                      (run->rights & PTE_U) ? 'u' : '-', 'r', (run->rights & PTE_W) ? 'w' : '-');
    }
    run->open = false;
}

static void mem_visit(void *ctx, uint32_t lin, uint32_t entry, uint32_t size, uint32_t rights)
{
    MemRun *run = ctx;
    if (!run->open || run->end != lin || run->rights != rights) {
        mem_run_flush(run);
        run->open = true;
        run->start = lin;
        run->rights = rights;
    }
    run->end = (uint64_t)lin + size;
}

void moncmd_info_mem(MonBuf *out, CPUState *cpu)
{
    if (!(cpu->cr0 & CR0_PG)) {
        monbuf_printf(out, "PG disabled\n");
        return;
    }
    MemRun run = {out, false, 0, 0, 0};
    if (!walk_pages(cpu, mem_visit, &run)) {
        monbuf_printf(out, "page directory at %08x is not in RAM\n",
                      (uint32_t)cpu->cr3 & 0xfffff000u);
    }
    mem_run_flush(&run);
}

/* ---- address expressions ---- */

static bool eval_register(CPUState *cpu, const char *name, size_t len, uint64_t *value)
{
    static const char *const gpr[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *const gpr64[CPU_NB_REGS] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                                   "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                                   "r12", "r13", "r14", "r15"};
    static const char *const segs[SEG_COUNT] = {"es", "cs", "ss", "ds", "fs", "gs"};
    char n[8];
    if (len == 0 || len >= sizeof(n)) {
        return false;
    }
    memcpy(n, name, len);
    n[len] = '\0';
    for (int i = 0; i < 8; i++) {
        if (!strcasecmp(n, gpr[i])) {
            *value = (uint32_t)cpu->regs[i];
            return true;
        }
    }
    for (int i = 0; i < CPU_NB_REGS; i++) {
        if (!strcasecmp(n, gpr64[i])) {
            *value = cpu->regs[i];
            return true;
        }
    }
    for (int i = 0; i < SEG_COUNT; i++) {
        if (!strcasecmp(n, segs[i])) {
            *value = cpu->seg[i].selector;
            return true;
        }
    }
    const struct {
        const char *name;
        uint64_t value;
    } sys[] = {{"eip", (uint32_t)cpu->eip},
               {"rip", cpu->eip},
               {"pc", lin_next(cpu, cpu->seg[SEG_CS].base + cpu->eip, 0)},
               {"eflags", cpu_get_eflags(cpu)},
               {"cr0", cpu->cr0},
               {"cr2", cpu->cr2},
               {"cr3", cpu->cr3},
               {"cr4", cpu->cr4}};
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
        if (!strcasecmp(n, sys[i].name)) {
            *value = sys[i].value;
            return true;
        }
    }
    return false;
}

bool moncmd_eval(CPUState *cpu, const char *expr, uint64_t *value)
{
    const char *p = expr;
    uint64_t total = 0;
    int sign = 1;
    bool want_term = true;
    for (;;) {
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        if (!want_term) {
            if (*p != '+' && *p != '-') {
                return false;
            }
            sign = *p == '-' ? -1 : 1;
            p++;
            want_term = true;
            continue;
        }
        uint64_t term;
        if (*p == '$') {
            const char *name = ++p;
            while (isalnum((unsigned char)*p)) {
                p++;
            }
            if (!eval_register(cpu, name, (size_t)(p - name), &term)) {
                return false;
            }
        } else if (isdigit((unsigned char)*p)) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p, &end, 0);
            if (errno == ERANGE) {
                return false;
            }
            term = v;
            p = end;
        } else {
            return false;
        }
        total = sign > 0 ? total + term : total - term;
        want_term = false;
    }
    if (want_term) {
        return false;
    }
    *value = total;
    return true;
}

/* ---- x/FMT and xp/FMT ---- */

typedef struct DumpFormat {
    unsigned count;
    char format; /* x d u o c i */
    int size;    /* 1 2 4 8 */
} DumpFormat;

static bool parse_format(const char *fmt, DumpFormat *df)
{
    *df = (DumpFormat){1, 'x', 4};
    const char *p = fmt;
    if (isdigit((unsigned char)*p)) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        df->count = v > DUMP_MAX_ITEMS ? DUMP_MAX_ITEMS : (unsigned)v;
        p = end;
    }
    for (; *p; p++) {
        switch (*p) {
        case 'x':
        case 'd':
        case 'u':
        case 'o':
        case 'c':
        case 'i': df->format = *p; break;
        case 'b': df->size = 1; break;
        case 'h': df->size = 2; break;
        case 'w': df->size = 4; break;
        case 'g': df->size = 8; break;
        default: return false;
        }
    }
    if (df->format == 'c') {
        df->size = 1;
    }
    return true;
}

static uint32_t dump_read(CPUState *cpu, bool physical, uint64_t addr, uint8_t *buf, uint32_t len)
{
    if (physical) {
        /* Physical memory ends at 4 GiB (softmmu/phys.h). */
        return addr >> 32 ? 0 : debugmem_read_phys(cpu, (uint32_t)addr, buf, len);
    }
    return debugmem_read_lin(cpu, addr, buf, len);
}

/* Address columns: 16 hex digits in long mode, as QEMU's x86_64 monitor
 * prints them, else 8. */
static int dump_width(const CPUState *cpu)
{
    return (cpu->efer & EFER_LMA) ? 16 : 8;
}

static void dump_value(MonBuf *out, const DumpFormat *df, const uint8_t *bytes)
{
    uint64_t v = 0;
    memcpy(&v, bytes, (size_t)df->size);
    int bits = df->size * 8;
    int64_t sv = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
    switch (df->format) {
    case 'd': monbuf_printf(out, " %lld", (long long)sv); break;
    case 'u': monbuf_printf(out, " %llu", (unsigned long long)v); break;
    case 'o': monbuf_printf(out, " %#llo", (unsigned long long)v); break;
    case 'c':
        if (isprint((int)v)) {
            monbuf_printf(out, " '%c'", (int)v);
        } else {
            monbuf_printf(out, " '\\x%02x'", (unsigned)v);
        }
        break;
    default: monbuf_printf(out, " 0x%0*llx", df->size * 2, (unsigned long long)v); break;
    }
}

static void dump_insns(MonBuf *out, CPUState *cpu, size_t cs_handle, bool physical,
                       const DumpFormat *df, uint64_t addr)
{
    csh handle = (csh)cs_handle;
    int w = dump_width(cpu);
    cs_option(handle, CS_OPT_MODE, disas_cs_mode(cpu_decode_mode(cpu->hflags)));
    for (unsigned i = 0; i < df->count; i++) {
        uint8_t bytes[INSN_MAX_LEN];
        uint32_t n = dump_read(cpu, physical, addr, bytes, sizeof(bytes));
        cs_insn *ci = NULL;
        size_t got = n ? cs_disasm(handle, bytes, n, addr, 1, &ci) : 0;
        if (!got) {
            monbuf_printf(out, "%0*llx: %s\n", w, (unsigned long long)addr,
                          n ? "(bad)" : "Cannot access memory");
            return;
        }
        char hex[3 * INSN_MAX_LEN + 1] = "";
        for (size_t k = 0; k < ci->size; k++) {
            snprintf(hex + 3 * k, 4, "%02x ", ci->bytes[k]);
        }
        monbuf_printf(out, "%0*llx:  %-24s %s%s%s\n", w, (unsigned long long)addr, hex,
                      ci->mnemonic, ci->op_str[0] ? " " : "", ci->op_str);
        addr += ci->size;
        cs_free(ci, got);
    }
}

void moncmd_dump(MonBuf *out, CPUState *cpu, size_t cs_handle, bool physical, const char *fmt,
                 const char *expr)
{
    DumpFormat df;
    uint64_t addr;
    /* QEMU also takes the format apart from the command: "x /10i $pc". */
    char spaced[16];
    while (isspace((unsigned char)*expr)) {
        expr++;
    }
    if (!fmt[0] && expr[0] == '/') {
        size_t len = strcspn(expr + 1, " \t");
        if (len >= sizeof(spaced)) {
            monbuf_printf(out, "invalid format '%.*s'\n", (int)len, expr + 1);
            return;
        }
        memcpy(spaced, expr + 1, len);
        spaced[len] = '\0';
        fmt = spaced;
        expr += 1 + len;
    }
    if (!parse_format(fmt, &df)) {
        monbuf_printf(out, "invalid format '%s' (count, then x d u o c i, then b h w g)\n", fmt);
        return;
    }
    if (!moncmd_eval(cpu, expr, &addr)) {
        monbuf_printf(out, "invalid address expression '%s'\n", expr);
        return;
    }
    if (!physical) {
        addr = lin_next(cpu, addr, 0); /* linear addresses wrap at 4 GiB outside 64-bit mode */
    }
    if (df.format == 'i') {
        dump_insns(out, cpu, cs_handle, physical, &df, addr);
        return;
    }
    unsigned per_line = 16u / (unsigned)df.size;
    int w = dump_width(cpu);
    for (unsigned i = 0; i < df.count; i++) {
        if (i % per_line == 0) {
            monbuf_printf(out, "%s%0*llx:", i ? "\n" : "", w, (unsigned long long)addr);
        }
        uint8_t bytes[8];
        if (dump_read(cpu, physical, addr, bytes, (uint32_t)df.size) < (uint32_t)df.size) {
            monbuf_printf(out, "\nCannot access memory at %0*llx", w, (unsigned long long)addr);
            break;
        }
        dump_value(out, &df, bytes);
        addr += (uint64_t)df.size;
    }
    monbuf_printf(out, "\n");
}

/* ---- info jit ---- */

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/*
 * The callout census: the instruction forms that most often ran outside
 * translated code, as callouts or on the interpreter, with their share of
 * every instruction the CPU ran.
 */
#define CENSUS_TOP 15

static void census_print(MonBuf *out, const BTStats *s, uint64_t total)
{
    int top[CENSUS_TOP];
    int ntop = 0;
    uint64_t below = UINT64_MAX; /* the next pick counts less than the last (or ties later) */
    int below_form = -1;
    for (; ntop < CENSUS_TOP; ntop++) {
        int best = -1;
        uint64_t best_n = 0;
        for (int f = 0; f < INSN_FORMS; f++) {
            uint64_t n = s->census_callout[f] + s->census_interp[f];
            bool after = n < below || (n == below && f > below_form);
            if (n > best_n && after) {
                best = f;
                best_n = n;
            }
        }
        if (best < 0) {
            break;
        }
        top[ntop] = best;
        below = best_n;
        below_form = best;
    }
    monbuf_printf(out, "outside translated code, by form (%% of all instructions):\n");
    for (int i = 0; i < ntop; i++) {
        int f = top[i];
        char name[40];
        insn_form_name(f, name, sizeof(name));
        uint64_t c = s->census_callout[f], n = s->census_interp[f];
        monbuf_printf(out, "  %-22s %6.2f%%  callout %llu  interpreted %llu\n", name,
                      percent(c + n, total), (unsigned long long)c, (unsigned long long)n);
    }
}

void moncmd_info_jit(MonBuf *out, CPUState *cpu)
{
    if (!bt_of(cpu)) {
        monbuf_printf(out, "accel: interp (no translator)\n");
        return;
    }
    const BTStats *s = bt_stats(bt_of(cpu));
    monbuf_printf(out, "accel: bt\n");
    monbuf_printf(out, "blocks translated: %llu\n", (unsigned long long)s->blocks_translated);
    monbuf_printf(out, "superblocks (on past a Jcc): %llu\n", (unsigned long long)s->superblocks);
    if (s->compat_blocks) {
        monbuf_printf(out, "  in compatibility mode: %llu\n", (unsigned long long)s->compat_blocks);
    }
    monbuf_printf(out, "guest code bytes: %llu\n", (unsigned long long)s->guest_bytes);
    monbuf_printf(out, "host code bytes: %llu\n", (unsigned long long)s->host_bytes);
    monbuf_printf(out, "host bytes per guest byte: %.2f\n",
                  s->guest_bytes ? (double)s->host_bytes / (double)s->guest_bytes : 0.0);
    monbuf_printf(out, "code cache: %llu of %llu KiB in use\n",
                  (unsigned long long)(s->cache_used >> 10),
                  (unsigned long long)(s->cache_size >> 10));
    monbuf_printf(out, "cache flushes: %llu\n", (unsigned long long)s->flushes);
    monbuf_printf(out, "blocks invalidated by writes: %llu\n",
                  (unsigned long long)s->invalidations);
    monbuf_printf(out, "direct jumps chained: %llu\n", (unsigned long long)s->chains);
    monbuf_printf(out, "entries from the run loop: %llu\n", (unsigned long long)s->entries);
    monbuf_printf(out, "instructions interpreted: %llu\n", (unsigned long long)s->interp_insns);
    uint64_t total = cpu->icount;
    monbuf_printf(out, "instructions run: %llu, as callouts %.2f%%, interpreted %.2f%%\n",
                  (unsigned long long)total, percent(s->callout_insns, total),
                  percent(s->interp_insns, total));
    monbuf_printf(out, "callouts: %llu\n", (unsigned long long)s->callout_insns);
    monbuf_printf(out, "light helpers: %llu\n", (unsigned long long)s->helper_insns);
    for (int w = 0; w < BT_WHY_COUNT; w++) {
        if (s->interp_why[w]) {
            monbuf_printf(out, "  interpreted for %s: %llu\n", bt_why_names[w],
                          (unsigned long long)s->interp_why[w]);
        }
    }
    const TLBCtxStats *t = &cpu->tlb.ctx_stats;
    monbuf_printf(out,
                  "page walks: %llu; TLB contexts: %llu saved, %llu restored (%llu entries), "
                  "%llu replaced, %llu dropped by page-table stores, %llu tables of the running "
                  "one changed, %llu not saveable\n",
                  (unsigned long long)t->walks, (unsigned long long)t->saves,
                  (unsigned long long)t->restores, (unsigned long long)t->entries_restored,
                  (unsigned long long)t->replaced, (unsigned long long)t->dropped,
                  (unsigned long long)t->run_stale, (unsigned long long)t->tainted);
    monbuf_printf(out, "returns: %llu, %.2f%% predicted\n", (unsigned long long)s->ret_total,
                  s->ret_total ? 100.0 - percent(s->ret_miss, s->ret_total) : 0.0);
    monbuf_printf(out, "jump cache: %llu lookups, %.2f%% hits, %llu misses\n",
                  (unsigned long long)s->jc_lookups,
                  s->jc_lookups ? 100.0 - percent(s->jc_misses, s->jc_lookups) : 0.0,
                  (unsigned long long)s->jc_misses);
    monbuf_printf(out, "inline caches: %llu lookups, %.2f%% hits, %llu misses\n",
                  (unsigned long long)s->ic_lookups,
                  s->ic_lookups ? 100.0 - percent(s->ic_misses, s->ic_lookups) : 0.0,
                  (unsigned long long)s->ic_misses);
    monbuf_printf(out, "memory operands off the inline TLB check: %llu\n",
                  (unsigned long long)s->mem_slow);
    if (s->checked_blocks || s->unchecked_blocks) {
        monbuf_printf(out, "blocks checked: %llu, run once (I/O): %llu\n",
                      (unsigned long long)s->checked_blocks,
                      (unsigned long long)s->unchecked_blocks);
    }
    census_print(out, s, total);
}
