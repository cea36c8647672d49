/*
 * --accel check: every translated block runs on both engines and must
 * agree before the guest goes on.  translator/README.md has the design;
 * in short:
 *
 *   1. A shadow copy of guest RAM equals RAM at the start of each block.
 *      Every RAM write is seen: check mode marks all RAM pages as code, so
 *      each CPU store (translated or interpreted) and each DMA write goes
 *      through phys_write() and the code-write listeners; check mode
 *      adds one that logs the range (the others still invalidate decoded and
 *      translated code.  Logged ranges are copied to the shadow before the
 *      next block.
 *   2. A *span* of blocks runs translated (chaining off, so the loop here
 *      sees every block), including a fault and its delivery.  Its state
 *      and the bytes it wrote are kept; its writes are undone from the
 *      shadow, and the CPU state is put back.
 *   3. The interpreter replays the same number of instructions
 *      (cpu_exec_replay: no interrupts in between), from the same state.
 *   4. Registers, flags, segments, control and x87 state, the instruction
 *      count, and every byte either engine wrote must match.  If not, the
 *      replay is tried once more with an empty TLB (a TLB fill during the
 *      translated run sets Accessed/Dirty bits that a replay hitting the
 *      same entry does not).
 *   5. If they still differ, the host may have chosen other values than
 *      the interpreter for results the SDM leaves undefined.  The replay
 *      is repeated with undefined results set to each fill of cpu/undef.h
 *      in turn; every bit of the state and of memory that changes is
 *      *tainted* (derived from an undefined result), and the span passes
 *      if the translated run differs only in tainted bits
 *      (docs/undefined.md).  A last plain replay puts the interpreter's
 *      result back, and the machine goes on from it, so both engines start
 *      every span from one state and a tolerated value cannot cause a
 *      report later.  Otherwise the difference is reported: both states,
 *      the memory that differs, and the block's guest (CS_MODE_32) and
 *      host (CS_MODE_64) code.
 *
 * A span is one block, or up to SPAN_MAX_INSNS instructions of blocks that
 * already ran here without touching a device and whose fetch needs no page
 * walk (so nothing between them can fault or translate).  Checking spans
 * rather than blocks divides the fixed cost of a check (state capture,
 * snapshots) by the span's length.  A span that differs is not reported:
 * the machine goes back to its start and checks it again one block at a
 * time, which finds the block to report.
 *
 * Blocks that touch devices (port I/O, MMIO, x87 with FERR#) cannot be run
 * twice; they run translated once and are counted as unchecked.  Stores in
 * check mode always take the translated slow path (all pages are "code"),
 * so the fast-path store sequence is exercised by the differential test
 * (tests/bt) rather than here.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/fpu_internal.h"
#include "cpu/mem.h"
#include "cpu/undef.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/bt_internal.h"

typedef struct CheckWrite {
    uint32_t paddr;
    uint32_t size;
} CheckWrite;

/* A byte whose final value differs between the translated run and the replay. */
typedef struct CheckDiff {
    uint32_t paddr;
    uint8_t interp; /* the plain replay's value */
    uint8_t taint;  /* bits that changed in a perturbed replay */
} CheckDiff;

/* Wrapper context for one MMIO region: notes device accesses. */
typedef struct CheckMMIO {
    BTCheck *c;
    const MMIOOps *ops;
    void *opaque;
} CheckMMIO;

/* CPUState outside the TLB, icache, jmp_env, back ends and translator fields. */
#define SNAP_HOT_END   offsetof(CPUState, tlb)
#define SNAP_SYS_BEGIN offsetof(CPUState, cr0)
#define SNAP_SYS_END   offsetof(CPUState, jmp_env)
#define SNAP_MSR_BEGIN offsetof(CPUState, msr_misc_enable)
#define SNAP_MSR_END   offsetof(CPUState, bt_budget)
/* XMM8-15 and the long-mode MSRs, appended at the end of CPUState (a
 * replay that missed them saw SWAPGS's KERNEL_GS_BASE already swapped). */
#define SNAP_LM_BEGIN offsetof(CPUState, xmm_hi)
#define SNAP_LM_END   sizeof(CPUState)

_Static_assert(SNAP_LM_BEGIN >= SNAP_MSR_END, "the snapshot ranges overlap");

typedef struct CheckSnap {
    uint8_t hot[SNAP_HOT_END];
    uint8_t sys[SNAP_SYS_END - SNAP_SYS_BEGIN];
    uint8_t msr[SNAP_MSR_END - SNAP_MSR_BEGIN];
    uint8_t lm[SNAP_LM_END - SNAP_LM_BEGIN];
} CheckSnap;

/* What the comparison looks at, in a form both engines' results share. */
typedef struct CheckState {
    uint64_t regs[CPU_NB_REGS], eip;
    uint32_t eflags, cpl;
    SegmentCache seg[SEG_COUNT], ldtr, tr;
    TableRegister gdtr, idtr;
    uint32_t cr0, cr4, a20_mask;
    uint64_t cr2, cr3, dr[8]; /* 64 bits in long mode */
    uint64_t efer, pdpte[4];
    bool halted, inhibit_irq, in_nmi, triple_fault;
    uint64_t icount, tsc_offset;
    uint16_t fcw, fsw, ftw;
    uint8_t top;
    uint8_t st[8][10];
    uint32_t mxcsr;
    uint8_t xmm[16][16]; /* XMM8-15 after XMM0-7 */
} CheckState;

struct BTCheck {
    BT *bt;
    bool installed;
    uint8_t *shadow; /* RAM as it was when the span began */
    CheckWrite *log; /* RAM ranges written since the last sync */
    size_t nlog, cap_log;
    CheckWrite *bt_ranges; /* the ranges the translated run wrote ... */
    size_t nbt, cap_bt;
    uint8_t *bt_image;   /* ... and what it left in them (at RAM offsets) */
    uint8_t *bt_marks;   /* one bit per RAM byte: the translated run wrote it */
    bool io;             /* the span touched a device */
    bool in_block;       /* a block of the span is running translated */
    uint64_t single_end; /* check one block at a time until this icount */
    TB *tb;              /* the span's last block */
    int span_blocks;
    CheckSnap s0; /* CPU state before the span */
    CheckState before, after_bt, after_interp;
    CheckState taint; /* bits of the state derived from undefined results */
    CheckDiff *diffs; /* memory that differs, with its taint */
    size_t ndiffs, cap_diffs;
    CheckMMIO mmio[PHYS_MAX_REGIONS];
};

#define SPAN_MAX_INSNS 1024

enum { CHECK_BUDGET, CHECK_EVENTS, CHECK_INTERP, CHECK_CONTINUE, CHECK_MISMATCH };

/* ---- the write log and the shadow ---- */

static void push_range(CheckWrite **v, size_t *n, size_t *cap, uint32_t paddr, uint32_t size)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 4096;
        *v = realloc(*v, *cap * sizeof(**v));
        if (!*v) {
            fprintf(stderr, "popek: --accel check: out of memory for the write log\n");
            exit(1);
        }
    }
    (*v)[(*n)++] = (CheckWrite){paddr, size};
}

static void log_write(BTCheck *c, uint32_t paddr, uint32_t size)
{
    CheckWrite *last = c->nlog ? &c->log[c->nlog - 1] : NULL;
    if (last && last->size < (1u << 30)) {
        if (last->paddr + last->size == paddr) { /* the next element of a string store */
            last->size += size;
            return;
        }
        if (paddr + size == last->paddr) { /* the next push */
            last->paddr = paddr;
            last->size += size;
            return;
        }
    }
    push_range(&c->log, &c->nlog, &c->cap_log, paddr, size);
}

/* Every RAM write lands here while check mode is on. */
static void check_code_written(void *opaque, uint32_t paddr, int size)
{
    log_write(opaque, paddr, (uint32_t)size);
}

/* The part of a logged range inside RAM (writes past it are not RAM). */
static uint32_t ram_part(const BTCheck *c, CheckWrite w)
{
    uint32_t ram_size = c->bt->cpu->phys->ram_size;
    if (w.paddr >= ram_size) {
        return 0;
    }
    return w.size <= ram_size - w.paddr ? w.size : ram_size - w.paddr;
}

static void sync_shadow(BTCheck *c)
{
    PhysMem *pm = c->bt->cpu->phys;
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        memcpy(c->shadow + w.paddr, pm->ram + w.paddr, ram_part(c, w));
    }
    c->nlog = 0;
}

static uint32_t check_mmio_read(void *opaque, uint32_t offset, int size)
{
    CheckMMIO *m = opaque;
    m->c->io = true;
    return m->ops->read(m->opaque, offset, size);
}

static void check_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    CheckMMIO *m = opaque;
    m->c->io = true;
    m->ops->write(m->opaque, offset, value, size);
}

static const MMIOOps check_mmio_ops = {check_mmio_read, check_mmio_write};

static void wrap_mmio(BTCheck *c)
{
    PhysMem *pm = c->bt->cpu->phys;
    for (int i = 0; i < pm->nregions; i++) {
        PhysRegion *r = &pm->regions[i];
        if (r->kind == PHYS_MMIO && r->ops != &check_mmio_ops) {
            c->mmio[i] = (CheckMMIO){c, r->ops, r->opaque};
            r->ops = &check_mmio_ops;
            r->opaque = &c->mmio[i];
        }
    }
}

/* Listen to code-page writes, keep every page marked, and shadow RAM (on the first run, so that
 * firmware and kernel loaded before are in the shadow). */
static void check_install(BTCheck *c)
{
    CPUState *cpu = c->bt->cpu;
    PhysMem *pm = cpu->phys;
    if (!c->installed) {
        phys_add_code_listener(pm, check_code_written, c);
        pm->code_watch_all = true;
        memset(pm->code_pages, 1, pm->ram_size >> 12);
        tlb_flush_all(cpu);
        memcpy(c->shadow, pm->ram, pm->ram_size);
        c->nlog = 0;
        c->installed = true;
    }
    wrap_mmio(c);
}

/* Zeroed memory the host only backs where it is touched. */
static uint8_t *lazy_alloc(size_t size)
{
    void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

BTCheck *bt_check_new(BT *bt)
{
    BTCheck *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    uint32_t ram_size = bt->cpu->phys->ram_size;
    c->bt = bt;
    c->shadow = lazy_alloc(ram_size);
    c->bt_image = lazy_alloc(ram_size);
    c->bt_marks = lazy_alloc(ram_size / 8 + 1);
    if (!c->shadow || !c->bt_image || !c->bt_marks) {
        bt_check_free(c);
        return NULL;
    }
    return c;
}

void bt_check_free(BTCheck *c)
{
    CPUState *cpu = c->bt->cpu;
    PhysMem *pm = cpu->phys;
    if (c->installed) {
        phys_remove_code_listener(pm, check_code_written, c);
        pm->code_watch_all = false;
        memset(pm->code_pages, 0, pm->ram_size >> 12);
        tlb_flush_all(cpu);
        for (int i = 0; i < pm->nregions; i++) {
            if (pm->regions[i].ops == &check_mmio_ops) {
                pm->regions[i].ops = c->mmio[i].ops;
                pm->regions[i].opaque = c->mmio[i].opaque;
            }
        }
    }
    uint32_t ram_size = pm->ram_size;
    if (c->shadow) {
        munmap(c->shadow, ram_size ? ram_size : 1);
    }
    if (c->bt_image) {
        munmap(c->bt_image, ram_size ? ram_size : 1);
    }
    if (c->bt_marks) {
        munmap(c->bt_marks, ram_size / 8 + 1);
    }
    free(c->log);
    free(c->bt_ranges);
    free(c->diffs);
    free(c);
}

void bt_check_resync(BTCheck *c)
{
    if (c->installed) {
        memcpy(c->shadow, c->bt->cpu->phys->ram, c->bt->cpu->phys->ram_size);
        c->nlog = 0;
    }
}

void bt_check_note_io(BT *bt)
{
    if (bt->check) {
        bt->check->io = true;
    }
}

/* ---- CPU state ---- */

static void snap_save(const CPUState *cpu, CheckSnap *s)
{
    const uint8_t *p = (const uint8_t *)cpu;
    memcpy(s->hot, p, sizeof(s->hot));
    memcpy(s->sys, p + SNAP_SYS_BEGIN, sizeof(s->sys));
    memcpy(s->msr, p + SNAP_MSR_BEGIN, sizeof(s->msr));
    memcpy(s->lm, p + SNAP_LM_BEGIN, sizeof(s->lm));
}

static void snap_restore(CPUState *cpu, const CheckSnap *s)
{
    uint8_t *p = (uint8_t *)cpu;
    memcpy(p, s->hot, sizeof(s->hot));
    memcpy(p + SNAP_SYS_BEGIN, s->sys, sizeof(s->sys));
    memcpy(p + SNAP_MSR_BEGIN, s->msr, sizeof(s->msr));
    memcpy(p + SNAP_LM_BEGIN, s->lm, sizeof(s->lm));
}

static void state_capture(const CPUState *cpu, CheckState *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->regs, cpu->regs, sizeof(s->regs));
    s->eip = cpu->eip;
    s->eflags = cpu_get_eflags(cpu);
    s->cpl = cpu->cpl;
    memcpy(s->seg, cpu->seg, sizeof(s->seg));
    s->ldtr = cpu->ldtr;
    s->tr = cpu->tr;
    s->gdtr = cpu->gdtr;
    s->idtr = cpu->idtr;
    s->cr0 = cpu->cr0;
    s->cr2 = cpu->cr2;
    s->cr3 = cpu->cr3;
    s->cr4 = cpu->cr4;
    s->efer = cpu->efer;
    memcpy(s->pdpte, cpu->pdpte, sizeof(s->pdpte));
    memcpy(s->dr, cpu->dr, sizeof(s->dr));
    s->a20_mask = cpu->a20_mask;
    s->halted = cpu->halted;
    s->inhibit_irq = cpu->inhibit_irq;
    s->in_nmi = cpu->in_nmi;
    s->triple_fault = cpu->triple_fault;
    s->icount = cpu->icount;
    s->tsc_offset = cpu->tsc_offset;
    s->fcw = cpu->fpu.fcw;
    s->fsw = cpu->fpu.fsw;
    s->ftw = fpu_tag_word(cpu); /* as FNSTENV shows it: only "empty" is state of its own */
    s->top = cpu->fpu.top;
    for (int i = 0; i < 8; i++) {
        memcpy(s->st[i], &cpu->fpu.st[i], 10); /* the 80 bits, not the padding */
    }
    s->mxcsr = cpu->fpu.mxcsr;
    memcpy(s->xmm, cpu->fpu.xmm, sizeof(cpu->fpu.xmm));
    memcpy(s->xmm[8], cpu->xmm_hi, sizeof(cpu->xmm_hi));
}

/* Set in taint every bit in which a and b differ. */
static void taint_state(CheckState *taint, const CheckState *a, const CheckState *b)
{
    uint8_t *t = (uint8_t *)taint;
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    for (size_t i = 0; i < sizeof(*taint); i++) {
        t[i] |= x[i] ^ y[i];
    }
}

static void mask_state(CheckState *s, const CheckState *taint)
{
    uint8_t *p = (uint8_t *)s;
    const uint8_t *t = (const uint8_t *)taint;
    for (size_t i = 0; i < sizeof(*s); i++) {
        p[i] &= (uint8_t)~t[i];
    }
}

/* Whether two states agree outside the tainted bits; names the first difference. */
static bool state_equal(const CheckState *a, const CheckState *b, const CheckState *taint,
                        const char **what)
{
    CheckState x = *a, y = *b;
    mask_state(&x, taint);
    mask_state(&y, taint);
    for (int s = 0; s < SEG_COUNT; s++) {
        x.seg[s].check = y.seg[s].check = 0; /* derived from attr */
    }
    x.ldtr.check = y.ldtr.check = x.tr.check = y.tr.check = 0;
    *what = memcmp(x.regs, y.regs, sizeof(x.regs)) ? "general registers"
            : x.eip != y.eip                       ? "EIP"
            : x.eflags != y.eflags                 ? "EFLAGS"
            : x.icount != y.icount                 ? "instruction count"
            : memcmp(x.seg, y.seg, sizeof(x.seg))  ? "segment registers"
            : memcmp(&x, &y, sizeof(x))            ? "system or x87 state"
                                                   : NULL;
    return *what == NULL;
}

/* ---- one block ---- */

static void span_begin(BTCheck *c)
{
    CPUState *cpu = c->bt->cpu;
    sync_shadow(c);
    snap_save(cpu, &c->s0);
    state_capture(cpu, &c->before);
    c->io = false;
    c->span_blocks = 0;
}

static bool marked(const BTCheck *c, uint32_t paddr)
{
    return c->bt_marks[paddr >> 3] & (1u << (paddr & 7));
}

/* Set (on) the marks of w's bytes, or clear every mark byte w touches (the
 * neighbours' bits too: only the span's own ranges are ever cleared, all
 * together). */
static void mark_range(BTCheck *c, CheckWrite w, bool on)
{
    uint32_t a = w.paddr, end = w.paddr + ram_part(c, w);
    if (a == end) {
        return;
    }
    if (!on) {
        memset(c->bt_marks + (a >> 3), 0, ((end - 1) >> 3) - (a >> 3) + 1);
        return;
    }
    for (; a < end && (a & 7); a++) {
        c->bt_marks[a >> 3] |= (uint8_t)(1u << (a & 7));
    }
    if (end - a >= 8) {
        memset(c->bt_marks + (a >> 3), 0xff, (end - a) >> 3);
        a += (end - a) & ~7u;
    }
    for (; a < end; a++) {
        c->bt_marks[a >> 3] |= (uint8_t)(1u << (a & 7));
    }
}

/* Put w back as the shadow has it.  The page's decoded instructions are
 * retired, as a write would: a run may have decoded what it stored there. */
static void restore_range(BTCheck *c, CheckWrite w)
{
    CPUState *cpu = c->bt->cpu;
    uint32_t size = ram_part(c, w);
    if (size == 0) {
        return;
    }
    memcpy(cpu->phys->ram + w.paddr, c->shadow + w.paddr, size);
    for (uint32_t page = w.paddr >> 12; page <= (w.paddr + size - 1) >> 12; page++) {
        (*icache_page_gen(&cpu->icache, page << 12))++;
    }
}

/* Keep what the translated run wrote, then put RAM back as it was.  Two
 * passes, because logged ranges may overlap. */
static void keep_and_undo(BTCheck *c)
{
    uint8_t *ram = c->bt->cpu->phys->ram;
    c->nbt = 0;
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        w.size = ram_part(c, w);
        if (w.size) {
            memcpy(c->bt_image + w.paddr, ram + w.paddr, w.size);
            mark_range(c, w, true);
            push_range(&c->bt_ranges, &c->nbt, &c->cap_bt, w.paddr, w.size);
        }
    }
    for (size_t i = 0; i < c->nbt; i++) {
        restore_range(c, c->bt_ranges[i]);
    }
    c->nlog = 0;
}

/* What the translated run left at paddr. */
static uint8_t bt_final(const BTCheck *c, uint32_t paddr)
{
    return marked(c, paddr) ? c->bt_image[paddr] : c->shadow[paddr];
}

/* The first byte of w whose value in RAM (the replay's) is not the
 * translated run's, or ~0. */
static uint32_t range_difference(const BTCheck *c, CheckWrite w)
{
    const uint8_t *ram = c->bt->cpu->phys->ram;
    for (uint32_t a = w.paddr, end = w.paddr + ram_part(c, w); a < end; a++) {
        if (ram[a] != bt_final(c, a)) {
            return a;
        }
    }
    return ~0u;
}

/* The first byte either engine wrote whose final values differ, or ~0. */
static uint32_t memory_difference(const BTCheck *c)
{
    const uint8_t *ram = c->bt->cpu->phys->ram;
    for (size_t i = 0; i < c->nbt; i++) {
        CheckWrite w = c->bt_ranges[i];
        if (memcmp(ram + w.paddr, c->bt_image + w.paddr, w.size)) {
            uint32_t a = range_difference(c, w);
            if (a != ~0u) {
                return a;
            }
        }
    }
    for (size_t i = 0; i < c->nlog; i++) {
        uint32_t a = range_difference(c, c->log[i]);
        if (a != ~0u) {
            return a;
        }
    }
    return ~0u;
}

/* Undo the replay's writes and go back to the state before the span. */
static void undo_replay(BTCheck *c)
{
    for (size_t i = 0; i < c->nlog; i++) {
        restore_range(c, c->log[i]);
    }
    c->nlog = 0;
    snap_restore(c->bt->cpu, &c->s0);
}

/* Forget the translated run's writes; the shadow learns them (equal to the
 * replay's by now) at the next sync. */
static void drop_bt_writes(BTCheck *c, bool relog)
{
    for (size_t i = 0; i < c->nbt; i++) {
        mark_range(c, c->bt_ranges[i], false);
        if (relog) {
            log_write(c, c->bt_ranges[i].paddr, c->bt_ranges[i].size);
        }
    }
    c->nbt = 0;
}

static void report_mismatch(BTCheck *c, const char *what, uint32_t mem_at);

/* Replay the span on the interpreter from its start and compare. */
static bool replay_matches(BTCheck *c, uint64_t n, const char **what, uint32_t *mem_at)
{
    CPUState *cpu = c->bt->cpu;
    cpu_exec_replay(cpu, n);
    state_capture(cpu, &c->after_interp);
    memset(&c->taint, 0, sizeof(c->taint));
    *mem_at = memory_difference(c);
    bool same = state_equal(&c->after_bt, &c->after_interp, &c->taint, what);
    if (same && *mem_at != ~0u) {
        *what = "memory";
        same = false;
    }
    return same;
}

/* Note the bytes of w where the translated run and the replay differ. */
static void collect_range(BTCheck *c, CheckWrite w)
{
    const uint8_t *ram = c->bt->cpu->phys->ram;
    for (uint32_t a = w.paddr, end = w.paddr + ram_part(c, w); a < end; a++) {
        if (ram[a] == bt_final(c, a)) {
            continue;
        }
        if (c->ndiffs == c->cap_diffs) {
            c->cap_diffs = c->cap_diffs ? 2 * c->cap_diffs : 256;
            c->diffs = realloc(c->diffs, c->cap_diffs * sizeof(*c->diffs));
            if (!c->diffs) {
                fprintf(stderr, "popek: --accel check: out of memory for differences\n");
                exit(1);
            }
        }
        c->diffs[c->ndiffs++] = (CheckDiff){a, ram[a], 0};
    }
}

/* The first differing byte not wholly tainted, or ~0. */
static uint32_t untainted_difference(const BTCheck *c)
{
    for (size_t i = 0; i < c->ndiffs; i++) {
        const CheckDiff *d = &c->diffs[i];
        if ((bt_final(c, d->paddr) ^ d->interp) & ~d->taint) {
            return d->paddr;
        }
    }
    return ~0u;
}

/*
 * Step 5 of the file comment, after a plain replay that differs: replay
 * with each fill until the translated run differs from the plain replay
 * only in tainted bits.  Overlapping ranges may list a byte twice; both
 * entries get the same taint.  Ends with the plain replay's result in
 * place, as after replay_matches().
 */
static bool taint_matches(BTCheck *c, uint64_t n, const char **what, uint32_t *mem_at)
{
    CPUState *cpu = c->bt->cpu;
    const uint8_t *ram = cpu->phys->ram;
    CheckState plain = c->after_interp, perturbed;
    c->ndiffs = 0;
    for (size_t i = 0; i < c->nbt; i++) {
        collect_range(c, c->bt_ranges[i]);
    }
    for (size_t i = 0; i < c->nlog; i++) {
        collect_range(c, c->log[i]);
    }
    bool same = false, perturb = cpu->undef_perturb;
    uint32_t fill = cpu->undef_fill;
    for (int k = 0; k < UNDEF_NFILLS && !same; k++) {
        undo_replay(c);
        tlb_flush_all(cpu);
        cpu->undef_perturb = true;
        cpu->undef_fill = undef_fills[k];
        cpu_exec_replay(cpu, n);
        cpu->undef_perturb = perturb;
        cpu->undef_fill = fill;
        state_capture(cpu, &perturbed);
        taint_state(&c->taint, &plain, &perturbed);
        for (size_t i = 0; i < c->ndiffs; i++) {
            c->diffs[i].taint |= ram[c->diffs[i].paddr] ^ c->diffs[i].interp;
        }
        *mem_at = untainted_difference(c);
        same = state_equal(&c->after_bt, &plain, &c->taint, what) && *mem_at == ~0u;
        if (!*what && *mem_at != ~0u) {
            *what = "memory";
        }
    }
    undo_replay(c);
    tlb_flush_all(cpu);
    cpu_exec_replay(cpu, n);
    state_capture(cpu, &c->after_interp);
    return same;
}

/* Steps 2-5 of the file comment for the span that just ran; false on a
 * difference (reported). */
static bool span_end(BTCheck *c)
{
    BT *bt = c->bt;
    CPUState *cpu = bt->cpu;
    uint64_t n = cpu->icount - c->before.icount;
    if (c->io || n == 0) {
        bt->stats.unchecked_blocks += n != 0 ? (uint64_t)c->span_blocks : 0;
        return true; /* its writes stay in the log for the next sync */
    }
    state_capture(cpu, &c->after_bt);
    keep_and_undo(c);
    snap_restore(cpu, &c->s0);
    const char *what;
    uint32_t mem_at;
    bool same = replay_matches(c, n, &what, &mem_at);
    if (!same) {
        undo_replay(c);
        tlb_flush_all(cpu);
        same = replay_matches(c, n, &what, &mem_at);
    }
    if (!same) {
        same = taint_matches(c, n, &what, &mem_at);
        bt->stats.tainted_spans += same;
    }
    if (!same && c->span_blocks > 1) {
        /* Back to the span's start: check it again block by block. */
        undo_replay(c);
        drop_bt_writes(c, false);
        tlb_flush_all(cpu);
        c->single_end = c->before.icount + n;
        return true;
    }
    if (!same) {
        report_mismatch(c, what, mem_at);
        return false;
    }
    bt->stats.checked_blocks += (uint64_t)c->span_blocks;
    drop_bt_writes(c, true);
    return true;
}

/* The block at CS:EIP if it may extend the span: translated already, run
 * here before without touching a device, and its fetch needs no page walk
 * (so finding it can neither fault nor translate). */
static TB *span_next(BT *bt)
{
    BTCheck *c = bt->check;
    CPUState *cpu = bt->cpu;
    uint64_t done = cpu->icount - c->before.icount;
    if (c->io || cpu->icount < c->single_end || done >= SPAN_MAX_INSNS ||
        bt_events_pending(cpu) || cpu->icount >= bt->icount_end) {
        return NULL;
    }
    bool transient;
    if (!bt_mode_ok(cpu, &transient)) {
        return NULL;
    }
    uint32_t cs_base;
    uint64_t lin = bt_code_lin(cpu, &cs_base);
    TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    if (e->tag[ACC_FETCH] != (lin & TLB_PAGE_MASK) ||
        !phys_ram_page(cpu->phys, e->phys & TLB_PAGE_MASK)) {
        return NULL;
    }
    TB *tb = bt_tb_lookup(bt, e->phys | (lin & 0xfff), cpu->eip, cs_base, bt_block_key(cpu));
    if (!tb || tb->check_seen != CHECK_SEEN_RUN || bt->icount_end - cpu->icount < tb->ninsns ||
        tb->straddle) { /* its second page is checked by bt_find (straddle.c) */
        return NULL;
    }
    return tb;
}

static void run_block(BTCheck *c, TB *tb)
{
    c->tb = tb;
    c->span_blocks++;
    c->in_block = true;
    bt_run_tb(c->bt, tb);
    c->in_block = false;
    tb->check_seen |= CHECK_SEEN_RUN | (c->io ? CHECK_SEEN_IO : 0);
}

/* ---- the report ---- */

static void print_state(FILE *f, const char *name, const CheckState *s)
{
    fprintf(f,
            "  %-11s eax=%08" PRIx64 " ecx=%08" PRIx64 " edx=%08" PRIx64 " ebx=%08" PRIx64
            " esp=%08" PRIx64 " ebp=%08" PRIx64 " esi=%08" PRIx64 " edi=%08" PRIx64 "\n",
            name, s->regs[0], s->regs[1], s->regs[2], s->regs[3], s->regs[4], s->regs[5],
            s->regs[6], s->regs[7]);
    fprintf(f,
            "  %-11s eip=%08" PRIx64
            " eflags=%08x cpl=%u icount=%llu cr0=%08x cr2=%08" PRIx64 " cr3=%08" PRIx64
            " halted=%d\n",
            "", s->eip, s->eflags, s->cpl, (unsigned long long)s->icount, s->cr0, s->cr2, s->cr3,
            s->halted);
    fprintf(f,
            "  %-11s cs=%04x ss=%04x ds=%04x es=%04x fs=%04x(%08" PRIx64 ") gs=%04x(%08" PRIx64
            ")\n",
            "", s->seg[SEG_CS].selector, s->seg[SEG_SS].selector, s->seg[SEG_DS].selector,
            s->seg[SEG_ES].selector, s->seg[SEG_FS].selector, s->seg[SEG_FS].base,
            s->seg[SEG_GS].selector, s->seg[SEG_GS].base);
}

static void report_mismatch(BTCheck *c, const char *what, uint32_t mem_at)
{
    FILE *f = c->bt->report;
    TB *tb = c->tb;
    fprintf(f,
            "bt check: translated block at %08" PRIx64
            " (phys %08x, %u instructions) differs from the interpreter in %s\n",
            tb->eip, tb->phys_pc, tb->ninsns, what);
    print_state(f, "before", &c->before);
    print_state(f, "translated", &c->after_bt);
    print_state(f, "interpreter", &c->after_interp);
    if (mem_at != ~0u) {
        fprintf(f, "  memory at %08x: translated %02x, interpreter %02x\n", mem_at,
                bt_final(c, mem_at), c->bt->cpu->phys->ram[mem_at]);
    }
    size_t tainted = 0;
    for (size_t i = 0; i < c->ndiffs; i++) {
        tainted += c->diffs[i].taint != 0;
    }
    fprintf(f, "  derived from undefined results (not compared): eflags %08x, registers",
            c->taint.eflags);
    for (int r = 0; r < 8; r++) {
        fprintf(f, " %08" PRIx64, c->taint.regs[r]);
    }
    fprintf(f, ", %zu bytes of memory\n  guest code:\n", tainted);
    /* a straddling block (straddle.c): its first page's bytes only */
    uint32_t on_page = 0x1000 - (tb->phys_pc & 0xfff);
    bt_disassemble(f, (tb->key & KEY_CODE64) != 0, c->shadow + tb->phys_pc,
                   tb->guest_bytes < on_page ? tb->guest_bytes : on_page, tb->eip);
    fprintf(f, "  host code:\n");
    bt_disassemble(f, true, tb->code, tb->code_size, (uint64_t)(uintptr_t)tb->code);
    fflush(f);
}

/* ---- the loop ---- */

static int check_loop(BT *bt, uint64_t *interp_n)
{
    BTCheck *c = bt->check;
    CPUState *cpu = bt->cpu;
    if (setjmp(cpu->jmp_env)) {
        cpu->bt_exit = NULL;
        bt_fault_in_shadow(cpu);
        cpu_deliver_raised_exception(cpu);
        if (c->in_block) {
            c->in_block = false;
            c->tb->check_seen |= CHECK_SEEN_RUN | (c->io ? CHECK_SEEN_IO : 0);
            return span_end(c) ? CHECK_CONTINUE : CHECK_MISMATCH;
        }
    }
    if (bt_events_pending(cpu)) {
        return CHECK_EVENTS;
    }
    if (cpu->icount >= bt->icount_end) {
        return CHECK_BUDGET;
    }
    uint64_t left = bt->icount_end - cpu->icount;
    bool transient;
    if (!bt_mode_ok(cpu, &transient)) {
        *interp_n = transient ? 1 : (left < 64 ? left : 64);
        return CHECK_INTERP;
    }
    TB *tb = bt_find(bt);
    if (!tb || left < tb->ninsns) {
        *interp_n = tb ? left : 1;
        return CHECK_INTERP;
    }
    span_begin(c);
    bool alone = tb->check_seen != CHECK_SEEN_RUN; /* new, or touched a device */
    run_block(c, tb);
    while (!alone && (tb = span_next(bt)) != NULL) {
        run_block(c, tb);
    }
    return span_end(c) ? CHECK_CONTINUE : CHECK_MISMATCH;
}

int bt_check_exec(BT *bt, uint64_t max_insns)
{
    BTCheck *c = bt->check;
    CPUState *cpu = bt->cpu;
    check_install(c);
    bt->icount_end = cpu->icount + max_insns;
    for (;;) {
        uint64_t n = 0;
        int r = check_loop(bt, &n);
        if (r == CHECK_BUDGET) {
            return CPU_EXIT_BUDGET;
        }
        if (r == CHECK_MISMATCH) {
            return BT_EXIT_CHECK_MISMATCH;
        }
        if (r == CHECK_CONTINUE) {
            continue;
        }
        if (r == CHECK_EVENTS) {
            n = cpu->icount < bt->icount_end ? 1 : 0;
        }
        uint64_t before = cpu->icount;
        int reason = cpu_exec(cpu, n);
        bt->stats.interp_insns += cpu->icount - before;
        if (reason != CPU_EXIT_BUDGET || n == 0) {
            return reason;
        }
    }
}
