/*
 * --accel check: every translated block runs on both engines and must
 * agree before the guest goes on.  translator/README.md has the design;
 * in short:
 *
 *   1. A shadow copy of guest RAM equals RAM at the start of each block.
 *      Every RAM write is seen: check mode marks all RAM pages as code, so
 *      each CPU store (translated or interpreted) and each DMA write goes
 *      through phys_write() and the code-write hook, which check mode
 *      takes over: it logs the range and still invalidates decoded and
 *      translated code.  Logged ranges are copied to the shadow before the
 *      next block.
 *   2. The block runs translated (chaining off, so exactly one block),
 *      including a fault and its delivery.  Its state and the bytes it
 *      wrote are kept; its writes are undone from the shadow, and the CPU
 *      state is put back.
 *   3. The interpreter replays the same number of instructions
 *      (cpu_exec_replay: no interrupts in between), from the same state.
 *   4. Registers, flags (minus those the block's native instructions leave
 *      undefined), segments, control and x87 state, the instruction count,
 *      and every byte either engine wrote must match.  If not, the replay
 *      is tried once more with an empty TLB (a TLB fill during the
 *      translated run sets Accessed/Dirty bits that a replay hitting the
 *      same entry does not), and then the difference is reported: both
 *      states, the memory that differs, and the block's guest (CS_MODE_32)
 *      and host (CS_MODE_64) code.
 *
 * Blocks that touch devices (port I/O, MMIO, x87 with FERR#) cannot be run
 * twice; they run translated once and are counted as unchecked.  Stores in
 * check mode always take the translated slow path (all pages are "code"),
 * so the fast-path store sequence is exercised by the differential test
 * (tests/bt) rather than here.
 */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/bt_internal.h"

typedef struct CheckWrite {
    uint32_t paddr;
    uint32_t size;
} CheckWrite;

typedef struct CheckByte {
    uint32_t paddr;
    uint8_t value;
} CheckByte;

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

typedef struct CheckSnap {
    uint8_t hot[SNAP_HOT_END];
    uint8_t sys[SNAP_SYS_END - SNAP_SYS_BEGIN];
    uint8_t msr[SNAP_MSR_END - SNAP_MSR_BEGIN];
} CheckSnap;

/* What the comparison looks at, in a form both engines' results share. */
typedef struct CheckState {
    uint32_t regs[8], eip, eflags, cpl;
    SegmentCache seg[SEG_COUNT], ldtr, tr;
    TableRegister gdtr, idtr;
    uint32_t cr0, cr2, cr3, cr4, dr[8], a20_mask;
    bool halted, inhibit_irq, in_nmi, triple_fault;
    uint64_t icount, tsc_offset;
    uint16_t fcw, fsw, ftw;
    uint8_t top;
    uint8_t st[8][10];
} CheckState;

struct BTCheck {
    BT *bt;
    bool installed;
    uint8_t *shadow; /* RAM as it was when the block began */
    CheckWrite *log; /* RAM ranges written since the last sync */
    size_t nlog, cap_log;
    CheckByte *bt_bytes; /* what the translated run left in the bytes it wrote */
    size_t nbytes, cap_bytes;
    bool io;       /* the block touched a device */
    bool in_block; /* the block under check is running translated */
    TB *tb;
    CheckSnap s0;           /* CPU state before the block */
    uint32_t stack_phys[4]; /* physical ranges near SS:ESP before and after the block, */
    uint32_t stack_len[4];  /* where pushed EFLAGS images (PUSHF, exception frames) lie */
    int nstack;
    CheckState before, after_bt, after_interp;
    PhysCodeWriteHook saved_hook;
    void *saved_opaque;
    CheckMMIO mmio[PHYS_MAX_REGIONS];
};

enum { CHECK_BUDGET, CHECK_EVENTS, CHECK_INTERP, CHECK_CONTINUE, CHECK_MISMATCH };

/* ---- the write log and the shadow ---- */

static void log_write(BTCheck *c, uint32_t paddr, uint32_t size)
{
    if (c->nlog == c->cap_log) {
        c->cap_log = c->cap_log ? 2 * c->cap_log : 4096;
        c->log = realloc(c->log, c->cap_log * sizeof(*c->log));
    }
    c->log[c->nlog++] = (CheckWrite){paddr, size};
}

/* Every RAM write lands here while check mode is on. */
static void check_code_written(void *opaque, uint32_t paddr, int size)
{
    BTCheck *c = opaque;
    CPUState *cpu = c->bt->cpu;
    log_write(c, paddr, (uint32_t)size);
    for (uint32_t page = paddr >> 12; page <= (paddr + (uint32_t)size - 1) >> 12; page++) {
        (*icache_page_gen(&cpu->icache, page << 12))++;
    }
    bt_code_written(c->bt, paddr, size);
}

static void sync_shadow(BTCheck *c)
{
    PhysMem *pm = c->bt->cpu->phys;
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        if (w.paddr < pm->ram_size) {
            uint32_t n = w.size <= pm->ram_size - w.paddr ? w.size : pm->ram_size - w.paddr;
            memcpy(c->shadow + w.paddr, pm->ram + w.paddr, n);
        }
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

/* Take over the code-write hook and shadow RAM (on the first run, so that
 * firmware and kernel loaded before are in the shadow). */
static void check_install(BTCheck *c)
{
    CPUState *cpu = c->bt->cpu;
    PhysMem *pm = cpu->phys;
    if (!c->installed) {
        c->saved_hook = pm->code_write_hook;
        c->saved_opaque = pm->code_write_opaque;
        pm->code_write_hook = check_code_written;
        pm->code_write_opaque = c;
        memset(pm->code_pages, 1, pm->ram_size >> 12);
        tlb_flush_all(cpu);
        memcpy(c->shadow, pm->ram, pm->ram_size);
        c->nlog = 0;
        c->installed = true;
    }
    wrap_mmio(c);
}

BTCheck *bt_check_new(BT *bt)
{
    BTCheck *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->bt = bt;
    c->shadow = malloc(bt->cpu->phys->ram_size ? bt->cpu->phys->ram_size : 1);
    if (!c->shadow) {
        free(c);
        return NULL;
    }
    return c;
}

void bt_check_free(BTCheck *c)
{
    CPUState *cpu = c->bt->cpu;
    PhysMem *pm = cpu->phys;
    if (c->installed) {
        pm->code_write_hook = c->saved_hook;
        pm->code_write_opaque = c->saved_opaque;
        memset(pm->code_pages, 0, pm->ram_size >> 12);
        tlb_flush_all(cpu);
        for (int i = 0; i < pm->nregions; i++) {
            if (pm->regions[i].ops == &check_mmio_ops) {
                pm->regions[i].ops = c->mmio[i].ops;
                pm->regions[i].opaque = c->mmio[i].opaque;
            }
        }
    }
    free(c->shadow);
    free(c->log);
    free(c->bt_bytes);
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
}

static void snap_restore(CPUState *cpu, const CheckSnap *s)
{
    uint8_t *p = (uint8_t *)cpu;
    memcpy(p, s->hot, sizeof(s->hot));
    memcpy(p + SNAP_SYS_BEGIN, s->sys, sizeof(s->sys));
    memcpy(p + SNAP_MSR_BEGIN, s->msr, sizeof(s->msr));
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
    s->ftw = cpu->fpu.ftw;
    s->top = cpu->fpu.top;
    for (int i = 0; i < 8; i++) {
        memcpy(s->st[i], &cpu->fpu.st[i], 10); /* the 80 bits, not the padding */
    }
}

/* Whether two states agree, flags in undef aside; names the first difference. */
static bool state_equal(const CheckState *a, const CheckState *b, uint32_t undef, const char **what)
{
    CheckState x = *a, y = *b;
    x.eflags &= ~undef;
    y.eflags &= ~undef;
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

/* Physical ranges of SS:ESP-64 .. SS:ESP+64 (per page) in the current state. */
static void note_stack(BTCheck *c, const CPUState *cpu)
{
    uint32_t lin = cpu->seg[SEG_SS].base + cpu->regs[R_ESP] - 64;
    uint32_t end = lin + 128;
    while (lin != end && c->nstack < 4) {
        uint32_t chunk = 0x1000 - (lin & 0xfff);
        if (chunk > end - lin) {
            chunk = end - lin;
        }
        uint32_t phys;
        if (mmu_debug_translate((CPUState *)cpu, lin, &phys)) {
            c->stack_phys[c->nstack] = phys;
            c->stack_len[c->nstack++] = chunk;
        }
        lin += chunk;
    }
}

static void check_before(BTCheck *c, TB *tb)
{
    CPUState *cpu = c->bt->cpu;
    sync_shadow(c);
    snap_save(cpu, &c->s0);
    state_capture(cpu, &c->before);
    c->nstack = 0;
    note_stack(c, cpu);
    c->tb = tb;
    c->io = false;
}

/* Keep what the translated run wrote, then put RAM back as it was. */
static void keep_and_undo(BTCheck *c)
{
    PhysMem *pm = c->bt->cpu->phys;
    c->nbytes = 0;
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        for (uint32_t k = 0; k < w.size && w.paddr + k < pm->ram_size; k++) {
            if (c->nbytes == c->cap_bytes) {
                c->cap_bytes = c->cap_bytes ? 2 * c->cap_bytes : 4096;
                c->bt_bytes = realloc(c->bt_bytes, c->cap_bytes * sizeof(*c->bt_bytes));
            }
            c->bt_bytes[c->nbytes++] = (CheckByte){w.paddr + k, pm->ram[w.paddr + k]};
        }
    }
    for (size_t i = 0; i < c->nbytes; i++) {
        pm->ram[c->bt_bytes[i].paddr] = c->shadow[c->bt_bytes[i].paddr];
    }
    c->nlog = 0;
}

static int byte_cmp(const void *a, const void *b)
{
    uint32_t x = ((const CheckByte *)a)->paddr, y = ((const CheckByte *)b)->paddr;
    return x < y ? -1 : x > y;
}

/* What the translated run left at paddr. */
static uint8_t bt_final(const BTCheck *c, uint32_t paddr)
{
    CheckByte key = {paddr, 0};
    const CheckByte *hit =
        c->nbytes ? bsearch(&key, c->bt_bytes, c->nbytes, sizeof(key), byte_cmp) : NULL;
    return hit ? hit->value : c->shadow[paddr];
}

/* An EFLAGS image pushed on the stack may differ in the flags the block's
 * native instructions left undefined. */
static bool byte_tolerated(const BTCheck *c, uint32_t paddr, uint8_t x, uint32_t undef)
{
    if (!undef || ((x & ~(undef & 0xff)) && (x & ~((undef >> 8) & 0xff)))) {
        return false;
    }
    for (int i = 0; i < c->nstack; i++) {
        if (paddr - c->stack_phys[i] < c->stack_len[i]) {
            return true;
        }
    }
    return false;
}

/* The first byte either engine wrote whose final values differ, or ~0. */
static uint32_t memory_difference(const BTCheck *c, uint32_t undef)
{
    const uint8_t *ram = c->bt->cpu->phys->ram;
    for (size_t i = 0; i < c->nbytes; i++) {
        uint32_t a = c->bt_bytes[i].paddr;
        if (ram[a] != c->bt_bytes[i].value &&
            !byte_tolerated(c, a, ram[a] ^ c->bt_bytes[i].value, undef)) {
            return a;
        }
    }
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        for (uint32_t k = 0; k < w.size && w.paddr + k < c->bt->cpu->phys->ram_size; k++) {
            uint32_t a = w.paddr + k;
            uint8_t want = bt_final(c, a);
            if (ram[a] != want && !byte_tolerated(c, a, ram[a] ^ want, undef)) {
                return a;
            }
        }
    }
    return ~0u;
}

/* Undo the replay's writes and go back to the state before the block. */
static void undo_replay(BTCheck *c)
{
    PhysMem *pm = c->bt->cpu->phys;
    for (size_t i = 0; i < c->nlog; i++) {
        CheckWrite w = c->log[i];
        for (uint32_t k = 0; k < w.size && w.paddr + k < pm->ram_size; k++) {
            pm->ram[w.paddr + k] = c->shadow[w.paddr + k];
        }
    }
    c->nlog = 0;
    snap_restore(c->bt->cpu, &c->s0);
}

static void report_mismatch(BTCheck *c, const char *what, uint32_t mem_at);

static bool replay_matches(BTCheck *c, uint64_t n, const char **what, uint32_t *mem_at)
{
    CPUState *cpu = c->bt->cpu;
    cpu_exec_replay(cpu, n);
    state_capture(cpu, &c->after_interp);
    uint32_t undef = c->tb->undef_flags;
    *mem_at = memory_difference(c, undef);
    bool same = state_equal(&c->after_bt, &c->after_interp, undef, what);
    if (same && *mem_at != ~0u) {
        *what = "memory";
        same = false;
    }
    return same;
}

/* Steps 2-4 of the file comment; false on a difference (reported). */
static bool check_after(BTCheck *c)
{
    BT *bt = c->bt;
    CPUState *cpu = bt->cpu;
    uint64_t n = cpu->icount - c->before.icount;
    if (c->io || n == 0) {
        bt->stats.unchecked_blocks += n != 0;
        return true; /* its writes stay in the log for the next sync */
    }
    state_capture(cpu, &c->after_bt);
    note_stack(c, cpu);
    keep_and_undo(c);
    if (c->nbytes) {
        qsort(c->bt_bytes, c->nbytes, sizeof(*c->bt_bytes), byte_cmp);
    }
    snap_restore(cpu, &c->s0);
    const char *what;
    uint32_t mem_at;
    bool same = replay_matches(c, n, &what, &mem_at);
    if (!same) {
        undo_replay(c);
        tlb_flush_all(cpu);
        same = replay_matches(c, n, &what, &mem_at);
    }
    bt->stats.checked_blocks++;
    if (!same) {
        report_mismatch(c, what, mem_at);
        return false;
    }
    /* The shadow learns both sets of writes (equal by now) at the next sync. */
    for (size_t i = 0; i < c->nbytes; i++) {
        log_write(c, c->bt_bytes[i].paddr, 1);
    }
    return true;
}

/* ---- the report ---- */

static void print_state(FILE *f, const char *name, const CheckState *s)
{
    fprintf(f, "  %-11s eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x\n",
            name, s->regs[0], s->regs[1], s->regs[2], s->regs[3], s->regs[4], s->regs[5],
            s->regs[6], s->regs[7]);
    fprintf(
        f, "  %-11s eip=%08x eflags=%08x cpl=%u icount=%llu cr0=%08x cr2=%08x cr3=%08x halted=%d\n",
        "", s->eip, s->eflags, s->cpl, (unsigned long long)s->icount, s->cr0, s->cr2, s->cr3,
        s->halted);
    fprintf(f, "  %-11s cs=%04x ss=%04x ds=%04x es=%04x fs=%04x(%08x) gs=%04x(%08x)\n", "",
            s->seg[SEG_CS].selector, s->seg[SEG_SS].selector, s->seg[SEG_DS].selector,
            s->seg[SEG_ES].selector, s->seg[SEG_FS].selector, s->seg[SEG_FS].base,
            s->seg[SEG_GS].selector, s->seg[SEG_GS].base);
}

static void disassemble(FILE *f, cs_mode mode, const uint8_t *code, size_t len, uint64_t addr)
{
    csh cs;
    if (cs_open(CS_ARCH_X86, mode, &cs) != CS_ERR_OK) {
        return;
    }
    cs_insn *insn;
    size_t n = cs_disasm(cs, code, len, addr, 0, &insn);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    %08llx  %-8s %s\n", (unsigned long long)insn[i].address, insn[i].mnemonic,
                insn[i].op_str);
    }
    if (n) {
        cs_free(insn, n);
    }
    cs_close(&cs);
}

static void report_mismatch(BTCheck *c, const char *what, uint32_t mem_at)
{
    FILE *f = c->bt->report;
    TB *tb = c->tb;
    fprintf(f,
            "bt check: translated block at %08x (phys %08x, %u instructions) differs from the "
            "interpreter in %s\n",
            tb->eip, tb->phys_pc, tb->ninsns, what);
    print_state(f, "before", &c->before);
    print_state(f, "translated", &c->after_bt);
    print_state(f, "interpreter", &c->after_interp);
    if (mem_at != ~0u) {
        fprintf(f, "  memory at %08x: translated %02x, interpreter %02x\n", mem_at,
                bt_final(c, mem_at), c->bt->cpu->phys->ram[mem_at]);
    }
    fprintf(f, "  undefined flags masked: %03x\n  guest code:\n", tb->undef_flags);
    disassemble(f, CS_MODE_32, c->shadow + tb->phys_pc, tb->guest_bytes, tb->eip);
    fprintf(f, "  host code:\n");
    disassemble(f, CS_MODE_64, tb->code, tb->code_size, (uint64_t)(uintptr_t)tb->code);
    fflush(f);
}

/* ---- the loop ---- */

static int check_loop(BT *bt, uint64_t *interp_n)
{
    BTCheck *c = bt->check;
    CPUState *cpu = bt->cpu;
    if (setjmp(cpu->jmp_env)) {
        cpu->bt_exit = NULL;
        cpu_deliver_raised_exception(cpu);
        if (c->in_block) {
            c->in_block = false;
            return check_after(c) ? CHECK_CONTINUE : CHECK_MISMATCH;
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
    check_before(c, tb);
    c->in_block = true;
    bt_run_tb(bt, tb);
    c->in_block = false;
    return check_after(c) ? CHECK_CONTINUE : CHECK_MISMATCH;
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
