/*
 * Both engines on one program (see bt_diff.h).
 */
#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/undef.h"
#include "softmmu/mmu.h"
#include "cpu/fpu_internal.h"
#include "tests/bt/bt_diff.h"
#include "tests/support/testvm.h"

/* What is compared, captured the same way from any of the machines. */
typedef struct DiffState {
    uint64_t regs[16], eip;
    uint64_t kernel_gs_base; /* SWAPGS's other half */
    uint32_t eflags, cpl;
    uint32_t cr0, cr2, cr3, cr4;
    uint64_t icount;
    bool halted, triple_fault;
    struct {
        uint64_t base;
        uint32_t limit, attr, selector;
    } seg[SEG_COUNT];
    uint8_t xmm[16][16]; /* the SSE state (the MMX registers are the x87 ones) */
    uint32_t mxcsr;
    struct { /* x87: the registers' 80 bits, not their padding */
        uint8_t st[8][10];
        uint16_t fcw, fsw, ftw, fop, fcs, fds;
        uint32_t fip, fdp, top, ferr_pending;
    } fpu;
} DiffState;

enum { VM_INTERP, VM_BT, VM_PERTURBED, VM_COUNT };

struct BTDiff {
    enum BTMode mode;
    TestVM *vm[VM_COUNT]; /* the interpreter, the translator, the perturbed interpreter */
    bool fill_bt;         /* the translator's machine has undefined results filled ... */
    uint32_t fill;        /* ... with these bits (btd_set_fill) */
    bool tainted;         /* taint and ram_taint may be nonzero */
    DiffState taint;      /* bits derived from undefined results (taint_by_replays) */
    uint8_t *ram_taint;   /* the same for each byte of RAM */
    BTStats stats;
    uint64_t nx_faults;   /* runs that ended in #PF(I/D) on an execute-disable page */
    uint64_t endings[257];/* runs by the vector the interpreter's ended in (256: none) */
    FILE *check_report; /* where check mode's own report goes */
    char *check_buf;
    size_t check_len;
};

BTDiff *btd_new(enum BTMode mode)
{
    BTDiff *d = calloc(1, sizeof(*d));
    d->mode = mode;
    d->ram_taint = malloc(BTG_RAM);
    for (int i = 0; i < VM_COUNT; i++) {
        d->vm[i] = testvm_new(BTG_RAM);
        if (!d->vm[i] || !d->ram_taint) {
            btd_free(d);
            return NULL;
        }
    }
    d->check_report = open_memstream(&d->check_buf, &d->check_len);
    return d;
}

void btd_free(BTDiff *d)
{
    if (!d) {
        return;
    }
    for (int i = 0; i < VM_COUNT; i++) {
        testvm_free(d->vm[i]);
    }
    if (d->check_report) {
        fclose(d->check_report);
    }
    free(d->ram_taint);
    free(d->check_buf);
    free(d);
}

void btd_set_fill(BTDiff *d, bool on, uint32_t fill)
{
    d->fill_bt = on;
    d->fill = fill;
}

uint64_t btd_nx_faults(const BTDiff *d)
{
    return d->nx_faults;
}

uint64_t btd_endings(const BTDiff *d, int vector)
{
    return d->endings[vector < 0 || vector > 255 ? 256 : vector];
}

const BTStats *btd_stats(const BTDiff *d)
{
    return &d->stats;
}

/* Descriptor with base, limit (units per G), access byte and flags nibble (SDM Vol.3 3.4.5). */
static uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

static void put_desc(PhysMem *phys, uint32_t at, uint64_t d)
{
    phys_write(phys, at, (uint32_t)d, 4);
    phys_write(phys, at + 4, (uint32_t)(d >> 32), 4);
}

/* The PTE of linear page i: identity, but for the fault and alias pages. */
static uint64_t program_pte(const BTProgram *p, uint32_t i)
{
    enum { P = 1, RW = 2, US = 4 };
    const uint64_t xd = 1ull << 63;
    if (i == BTG_FAULT_PAGE >> 12) {
        uint64_t pte = p->fault_kind == BTG_FAULT_NP   ? 0
                       : p->fault_kind == BTG_FAULT_RO ? (i << 12 | P | US)
                                                       : (i << 12 | P | RW);
        return pte | (p->fault_nx && pte ? xd : 0);
    }
    if (i == BTG_ALIAS_PAGE >> 12) {
        return BTG_CODE | P | RW | US | (p->alias_nx ? xd : 0);
    }
    return i << 12 | P | RW | US;
}

/* Page tables identity-mapping the first 4 MiB, with the fault and alias
 * pages: 32-bit paging, or PAE paging with NXE (the PDPT at BTG_PD). */
static void setup_paging(PhysMem *phys, CPUState *cpu, const BTProgram *p)
{
    enum { P = 1, RW = 2, US = 4 };
    if (p->pae) {
        phys_write(phys, BTG_PD, BTG_PAE_PD | P, 4);
        for (uint32_t t = 0; t < 2; t++) {
            phys_write(phys, BTG_PAE_PD + 8 * t, (BTG_PAE_PT + 0x1000 * t) | P | RW | US, 4);
        }
        for (uint32_t i = 0; i < 1024; i++) {
            uint64_t pte = program_pte(p, i);
            phys_write(phys, BTG_PAE_PT + 8 * i, (uint32_t)pte, 4);
            phys_write(phys, BTG_PAE_PT + 8 * i + 4, (uint32_t)(pte >> 32), 4);
        }
        cpu->efer = EFER_NXE;
        cpu->cr4 |= CR4_PAE;
        if (!paging_pae_load_pdptes(cpu, BTG_PD, cpu->pdpte)) {
            abort(); /* the PDPT written just above is valid */
        }
    } else {
        phys_write(phys, BTG_PD, BTG_PT | P | RW | US, 4);
        for (uint32_t i = 0; i < 1024; i++) {
            phys_write(phys, BTG_PT + 4 * i, (uint32_t)program_pte(p, i), 4);
        }
    }
    cpu->cr3 = BTG_PD;
    cpu->cr0 |= CR0_PG | (p->wp ? CR0_WP : 0);
}

/* A 16-byte interrupt gate to handler (SDM Vol.3 6.14.1): DPL 3, so INT n
 * works from ring 3 too, on stack ist (0: the legacy switch). */
static void put_gate64(PhysMem *phys, uint32_t at, uint32_t handler, int ist)
{
    phys_write(phys, at, (BTG_SEL_CODE64_0 << 16) | (handler & 0xffff), 4);
    phys_write(phys, at + 4, (handler & 0xffff0000u) | 0xee00u | (uint32_t)ist, 4);
    phys_write(phys, at + 8, 0, 4);
    phys_write(phys, at + 12, 0, 4);
}

/*
 * Long mode as a 64-bit kernel leaves it (bt_gen.h): 4-level tables
 * mapping RAM with the program's pages, the 64-bit IDT, TSS and code
 * segments, EFER.LME|LMA (and NXE unless nxe_off), and CS a 64-bit code
 * segment for BTG_MODE_64 or testvm's 32-bit one for compatibility mode.
 */
static void setup_long_mode(PhysMem *phys, CPUState *cpu, const BTProgram *p)
{
    enum { P = 1, RW = 2, US = 4 };
    const uint32_t pdpt = BTG_PML4 + 0x1000, pd = BTG_PML4 + 0x2000, pt = BTG_PML4 + 0x3000;
    phys_write(phys, BTG_PML4, pdpt | P | RW | US, 4);
    phys_write(phys, pdpt, pd | P | RW | US, 4);
    phys_write(phys, pd, pt | P | RW | US, 4);
    for (uint32_t i = 0; i < BTG_RAM >> 12; i++) {
        uint64_t pte = program_pte(p, i);
        phys_write(phys, pt + 8 * i, (uint32_t)pte, 4);
        phys_write(phys, pt + 8 * i + 4, (uint32_t)(pte >> 32), 4);
    }
    /* 64-bit code segments: L=1, D=0 (SDM Vol.3 5.2.1) */
    put_desc(phys, TESTVM_GDT + BTG_SEL_CODE64_0, make_desc(0, 0xfffff, 0x9b, 0xa));
    put_desc(phys, TESTVM_GDT + (BTG_SEL_CODE64_3 & ~7u), make_desc(0, 0xfffff, 0xfb, 0xa));
    cpu->gdtr.limit = 10 * 8 - 1;
    /* Each vector's stub: mov dword [abs32], vector ; hlt ; jmp $-1 */
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t at = BTG_HANDLERS64 + 16 * v;
        uint8_t stub[14] = {0xc7, 0x04, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0xf4, 0xeb, 0xfd};
        memcpy(stub + 3, &(uint32_t){TESTVM_LAST_VECTOR}, 4);
        memcpy(stub + 7, &v, 4);
        phys_write_buf(phys, at, stub, sizeof(stub));
        put_gate64(phys, BTG_IDT64 + 16 * v, at, v == EXC_SS ? 1 : v == EXC_DF ? 2 : 0);
    }
    cpu->idtr.base = BTG_IDT64;
    cpu->idtr.limit = 256 * 16 - 1;
    /* The 64-bit TSS (SDM Vol.3 8.7): RSP0, IST1, IST2; no I/O bitmap. */
    static const uint8_t zero_tss[104];
    phys_write_buf(phys, BTG_TSS64, zero_tss, sizeof(zero_tss));
    phys_write(phys, BTG_TSS64 + 4, TESTVM_STACK0, 4);
    phys_write(phys, BTG_TSS64 + 36, BTG_IST1, 4);
    phys_write(phys, BTG_TSS64 + 44, BTG_IST2, 4);
    phys_write(phys, BTG_TSS64 + 102, 104, 2);
    seg_cache_from_descriptor(&cpu->tr, TESTVM_SEL_TSS, make_desc(BTG_TSS64, 103, 0x8b, 0));
    cpu->cr3 = BTG_PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer = EFER_LME | EFER_LMA | (p->nxe_off ? 0 : EFER_NXE);
    cpu->cr0 |= CR0_PG | (p->wp ? CR0_WP : 0);
    if (p->cfg.mode == BTG_MODE_64) {
        int cpl = p->cfg.cpl;
        uint16_t sel = cpl ? BTG_SEL_CODE64_3 : BTG_SEL_CODE64_0;
        seg_cache_from_descriptor(&cpu->seg[SEG_CS], sel,
                                  make_desc(0, 0xfffff, cpl ? 0xfb : 0x9b, 0xa) |
                                      (uint64_t)DESC_A << 32);
        for (int r = 8; r < 16; r++) {
            cpu->regs[r] = p->regs[r];
        }
        cpu->kernel_gs_base = BTG_FS_BASE; /* SWAPGS makes GS based like FS */
    }
}

static void setup_vm(TestVM *vm, const BTProgram *p)
{
    memset(vm->phys.ram, 0, vm->phys.ram_size);
    memset(vm->phys.code_pages, 0, vm->phys.ram_size >> 12);
    cpu_init(&vm->cpu, &vm->phys, &vm->io);
    btd_load(&vm->phys, &vm->cpu, p);
}

void btd_load(PhysMem *phys, CPUState *cpu, const BTProgram *p)
{
    testvm_flat32_on(phys, cpu, p->cfg.cpl, p->code_at);
    cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT; /* SSE on, as an OS that uses it sets */
    uint64_t fs = make_desc(BTG_FS_BASE, 0xfffff, 0xf3, 0xc);
    uint64_t gs = make_desc(0, BTG_GS_LIMIT, 0xf3, 0x4);
    put_desc(phys, TESTVM_GDT + (BTG_SEL_FS & ~7u), fs);
    put_desc(phys, TESTVM_GDT + (BTG_SEL_GS & ~7u), gs);
    if (p->load_fs) {
        seg_cache_from_descriptor(&cpu->seg[SEG_FS], BTG_SEL_FS, fs | (uint64_t)DESC_A << 32);
    }
    if (p->load_gs) {
        seg_cache_from_descriptor(&cpu->seg[SEG_GS], BTG_SEL_GS, gs | (uint64_t)DESC_A << 32);
    }
    phys_write_buf(phys, p->code_at, p->code, p->len);
    uint32_t x = p->data_seed | 1;
    for (uint32_t a = BTG_DATA; a < BTG_DATA + BTG_DATA_SIZE; a += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        phys_write(phys, a, x, 4);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            cpu->regs[r] = p->regs[r];
        }
    }
    cpu->eflags = EFLAGS_FIXED | (p->eflags & (EFLAGS_ARITH | EFLAGS_DF));
    cpu->cc_op = CC_OP_EFLAGS;
    if (p->cfg.mode != BTG_MODE_LEGACY) {
        setup_long_mode(phys, cpu, p);
    } else if (p->cfg.paging) {
        setup_paging(phys, cpu, p);
    }
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

static void run_engine(CPUState *cpu, BT *bt, uint64_t budget)
{
    uint64_t end = cpu->icount + budget;
    while (cpu->icount < end) {
        int r = bt ? bt_exec(bt, end - cpu->icount) : cpu_exec(cpu, end - cpu->icount);
        if (r != CPU_EXIT_BUDGET) {
            break;
        }
    }
}

/* ---- reporting ---- */

typedef struct Out {
    char *buf;
    size_t len, used;
} Out;

/* Append to o's text; o may be NULL when only the verdict is wanted. */
static void out(Out *o, const char *fmt, ...)
{
    if (!o || o->used >= o->len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->used += (size_t)n;
    }
}

static void list_program(Out *o, const BTProgram *p)
{
    csh cs;
    if (cs_open(CS_ARCH_X86, p->cfg.mode == BTG_MODE_64 ? CS_MODE_64 : CS_MODE_32, &cs) !=
        CS_ERR_OK) {
        return;
    }
    static const char *const modes[3] = {"legacy", "compat", "64-bit"};
    out(o, "program (%s, cpl %d, paging %d, pae %d, nxe %d, faults %d, smc %d, fault page %d%s, "
        "alias nx %d, wp %d, fs %d, gs %d):\n",
        modes[p->cfg.mode], p->cfg.cpl, p->cfg.paging, p->pae, !p->nxe_off, p->cfg.faults,
        p->cfg.smc, p->fault_kind, p->fault_nx ? " nx" : "", p->alias_nx, p->wp, p->load_fs,
        p->load_gs);
    for (int i = 0; i < p->nstarts; i++) {
        uint32_t at = p->starts[i];
        uint32_t end = i + 1 < p->nstarts ? p->starts[i + 1] : p->len;
        cs_insn *insn;
        size_t n = cs_disasm(cs, p->code + at, end - at, p->code_at + at, 1, &insn);
        out(o, "  %08x  ", p->code_at + at);
        for (uint32_t b = at; b < end && b < at + 10; b++) {
            out(o, "%02x", p->code[b]);
        }
        out(o, "%*s %s %s\n", (int)(2 * (10 - (end - at < 10 ? end - at : 10))), "",
            n ? insn->mnemonic : "(bad)", n ? insn->op_str : "");
        if (n) {
            cs_free(insn, n);
        }
    }
    cs_close(&cs);
}

static void dump_state(Out *o, const char *name, const CPUState *c)
{
    static const char *const names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    out(o, "%-6s", name);
    for (int r = 0; r < 16; r++) {
        out(o, " %s=%016llx%s", names[r], (unsigned long long)c->regs[r],
            r % 4 == 3 ? "\n      " : "");
    }
    out(o, " rip=%016llx eflags=%08x icount=%llu halted=%d cpl=%u cr0=%08x cr2=%08llx "
        "cr3=%08llx efer=%llx\n",
        (unsigned long long)c->eip, cpu_get_eflags(c), (unsigned long long)c->icount, c->halted,
        c->cpl, c->cr0, (unsigned long long)c->cr2, (unsigned long long)c->cr3,
        (unsigned long long)c->efer);
    for (int s = 0; s < SEG_COUNT; s++) {
        out(o, "       %s=%04x base=%08llx limit=%08x attr=%08x\n", "ES\0CS\0SS\0DS\0FS\0GS" + 3 * s,
            c->seg[s].selector, (unsigned long long)c->seg[s].base, c->seg[s].limit,
            c->seg[s].attr);
    }
    out(o,
        "       fcw=%04x fsw=%04x top=%u ftw=%04x fip=%08x fcs=%04x fop=%03x fdp=%08x fds=%04x "
        "ferr=%d\n",
        c->fpu.fcw, c->fpu.fsw, c->fpu.top, c->fpu.ftw, c->fpu.fip, c->fpu.fcs, c->fpu.fop,
        c->fpu.fdp, c->fpu.fds, c->ferr_pending);
    for (int i = 0; i < 8; i++) {
        uint8_t b[10];
        memcpy(b, &c->fpu.st[i], 10);
        out(o, "%s       R%d=%02x%02x:%02x%02x%02x%02x%02x%02x%02x%02x", i % 2 ? "" : "", i, b[9],
            b[8], b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0]);
        if (i % 2) {
            out(o, "\n");
        }
    }
    out(o, "       mxcsr=%08x\n", c->fpu.mxcsr);
    for (int i = 0; i < 8; i++) {
        uint64_t q[2];
        memcpy(q, c->fpu.xmm[i], 16);
        out(o, "       xmm%d=%016llx%016llx%s", i, (unsigned long long)q[1], (unsigned long long)q[0],
            i % 2 ? "\n" : "");
    }
}

static void capture(const CPUState *c, DiffState *s)
{
    memset(s, 0, sizeof(*s));
    for (int r = 0; r < 16; r++) {
        s->regs[r] = c->regs[r];
    }
    s->eip = c->eip;
    s->kernel_gs_base = c->kernel_gs_base;
    s->eflags = cpu_get_eflags(c);
    s->cpl = c->cpl;
    s->cr0 = c->cr0;
    s->cr2 = c->cr2;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->icount = c->icount;
    s->halted = c->halted;
    s->triple_fault = c->triple_fault;
    for (int i = 0; i < SEG_COUNT; i++) {
        s->seg[i].base = c->seg[i].base;
        s->seg[i].limit = c->seg[i].limit;
        s->seg[i].attr = c->seg[i].attr;
        s->seg[i].selector = c->seg[i].selector;
    }
    memcpy(s->xmm, c->fpu.xmm, sizeof(c->fpu.xmm));
    memcpy(s->xmm[8], c->xmm_hi, sizeof(c->xmm_hi));
    s->mxcsr = c->fpu.mxcsr;
    for (int i = 0; i < 8; i++) {
        memcpy(s->fpu.st[i], &c->fpu.st[i], 10);
    }
    s->fpu.fcw = c->fpu.fcw;
    s->fpu.fsw = c->fpu.fsw;
    s->fpu.ftw = fpu_tag_word(c); /* as FNSTENV shows it: only "empty" is state of its own */
    s->fpu.fop = c->fpu.fop;
    s->fpu.fcs = c->fpu.fcs;
    s->fpu.fds = c->fpu.fds;
    s->fpu.fip = c->fpu.fip;
    s->fpu.fdp = c->fpu.fdp;
    s->fpu.top = c->fpu.top;
    s->fpu.ferr_pending = c->ferr_pending;
}

/* Set in taint every bit in which a and b differ. */
static void taint_bytes(void *taint, const void *a, const void *b, size_t n)
{
    uint8_t *t = taint;
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        t[i] |= x[i] ^ y[i];
    }
}

/* Whether the machines agree outside the tainted bits; the differences go to o. */
static bool compare(Out *o, const BTDiff *d, TestVM *a, TestVM *b)
{
    DiffState x, y;
    capture(&a->cpu, &x);
    capture(&b->cpu, &y);
    uint8_t *px = (uint8_t *)&x, *py = (uint8_t *)&y;
    const uint8_t *t = (const uint8_t *)&d->taint;
    for (size_t i = 0; i < sizeof(x); i++) {
        px[i] &= (uint8_t)~t[i];
        py[i] &= (uint8_t)~t[i];
    }
    bool ok = true;
    if (memcmp(x.regs, y.regs, sizeof(x.regs)) || x.eip != y.eip ||
        x.kernel_gs_base != y.kernel_gs_base) {
        out(o, "registers, EIP or KERNEL_GS_BASE differ\n");
        ok = false;
    }
    if (x.eflags != y.eflags) {
        out(o, "EFLAGS differ\n");
        ok = false;
    }
    if (x.icount != y.icount || x.halted != y.halted || x.triple_fault != y.triple_fault) {
        out(o, "instruction count or halt state differ\n");
        ok = false;
    }
    for (int s = 0; s < SEG_COUNT; s++) {
        if (memcmp(&x.seg[s], &y.seg[s], sizeof(x.seg[s]))) {
            out(o, "segment register %d differs\n", s);
            ok = false;
        }
    }
    if (memcmp(&x.fpu, &y.fpu, sizeof(x.fpu))) {
        out(o, "x87 state differs:");
        for (int i = 0; i < 8; i++) {
            if (memcmp(x.fpu.st[i], y.fpu.st[i], 10)) {
                out(o, " R%d", i);
            }
        }
#define FPU_FIELD(f) out(o, x.fpu.f != y.fpu.f ? " " #f : "")
        FPU_FIELD(fcw);
        FPU_FIELD(fsw);
        FPU_FIELD(ftw);
        FPU_FIELD(top);
        FPU_FIELD(fop);
        FPU_FIELD(fip);
        FPU_FIELD(fcs);
        FPU_FIELD(fdp);
        FPU_FIELD(fds);
        FPU_FIELD(ferr_pending);
#undef FPU_FIELD
        out(o, "\n");
        ok = false;
    }
    if (x.cr0 != y.cr0 || x.cr2 != y.cr2 || x.cr3 != y.cr3 || x.cr4 != y.cr4 || x.cpl != y.cpl) {
        out(o, "control registers or CPL differ\n");
        ok = false;
    }
    if (memcmp(x.xmm, y.xmm, sizeof(x.xmm)) || x.mxcsr != y.mxcsr) {
        out(o, "XMM or MXCSR differ\n");
        ok = false;
    }
    const uint8_t *ra = a->phys.ram, *rb = b->phys.ram;
    if (memcmp(ra, rb, BTG_RAM)) {
        int shown = 0;
        for (uint32_t i = 0; i < BTG_RAM; i++) {
            if ((ra[i] ^ rb[i]) & ~d->ram_taint[i]) {
                if (shown++ < 8) {
                    out(o, "memory differs at %08x: interp %02x, bt %02x\n", i, ra[i], rb[i]);
                }
                ok = false;
            }
        }
    }
    if (!ok && d->tainted) {
        out(o, "(derived from undefined results, not compared: eflags %08x, rax..r15",
            d->taint.eflags);
        for (int r = 0; r < 16; r++) {
            out(o, " %llx", (unsigned long long)d->taint.regs[r]);
        }
        out(o, ")\n");
    }
    return ok;
}

/*
 * The program on the interpreter again with undefined results filled with
 * each of undef_fills in turn: every bit that changes from the plain run
 * derives from undefined results (docs/undefined.md).  Unless all, stops
 * once the interpreter and translator machines agree outside those bits.
 */
static void taint_by_replays(BTDiff *d, const BTProgram *p, uint64_t budget, bool all)
{
    TestVM *plain = d->vm[VM_INTERP], *vm = d->vm[VM_PERTURBED];
    DiffState before, after;
    capture(&plain->cpu, &before);
    memset(&d->taint, 0, sizeof(d->taint));
    memset(d->ram_taint, 0, BTG_RAM);
    d->tainted = true;
    for (int k = 0; k < UNDEF_NFILLS; k++) {
        setup_vm(vm, p);
        vm->cpu.undef_perturb = true;
        vm->cpu.undef_fill = undef_fills[k];
        run_engine(&vm->cpu, NULL, budget);
        capture(&vm->cpu, &after);
        taint_bytes(&d->taint, &before, &after, sizeof(before));
        taint_bytes(d->ram_taint, plain->phys.ram, vm->phys.ram, BTG_RAM);
        if (!all && compare(NULL, d, plain, d->vm[VM_BT])) {
            return;
        }
    }
}

static void add_stats(BTStats *sum, const BTStats *s)
{
    sum->blocks_translated += s->blocks_translated;
    sum->guest_bytes += s->guest_bytes;
    sum->host_bytes += s->host_bytes;
    sum->invalidations += s->invalidations;
    sum->chains += s->chains;
    sum->entries += s->entries;
    sum->interp_insns += s->interp_insns;
    sum->checked_blocks += s->checked_blocks;
    sum->unchecked_blocks += s->unchecked_blocks;
    sum->tainted_spans += s->tainted_spans;
    sum->x87_loads += s->x87_loads;
    sum->sse_loads += s->sse_loads;
    sum->sse_fallbacks += s->sse_fallbacks;
}

/* Nothing is tainted: the next comparison is exact. */
static void untaint(BTDiff *d)
{
    if (d->tainted) {
        memset(&d->taint, 0, sizeof(d->taint));
        memset(d->ram_taint, 0, BTG_RAM);
        d->tainted = false;
    }
}

bool btd_run(BTDiff *d, const BTProgram *p, uint64_t budget, char *report, size_t report_len)
{
    Out o = {report, report_len, 0};
    if (report_len) {
        report[0] = 0;
    }
    TestVM *interp = d->vm[VM_INTERP], *trans = d->vm[VM_BT];
    untaint(d);
    setup_vm(interp, p);
    setup_vm(trans, p);
    trans->cpu.undef_perturb = d->fill_bt;
    trans->cpu.undef_fill = d->fill;
    run_engine(&interp->cpu, NULL, budget);
    int vector = testvm_last_vector(interp);
    d->endings[vector < 0 ? 256 : vector]++;
    if (p->pae && vector == EXC_PF && interp->cpu.regs[R_ESP] < BTG_RAM &&
        (phys_read(&interp->phys, (uint32_t)interp->cpu.regs[R_ESP], 4) & PF_ERR_I)) {
        d->nx_faults++;
    }
    BT *bt = bt_new(&trans->cpu, 1u << 20, d->mode);
    if (!bt) {
        out(&o, "bt_new failed\n");
        return false;
    }
    rewind(d->check_report);
    bt_set_report(bt, d->check_report);
    run_engine(&trans->cpu, bt, budget);
    add_stats(&d->stats, bt_stats(bt));
    bt_free(bt);
    bool ok = compare(NULL, d, interp, trans);
    if (!ok) {
        taint_by_replays(d, p, budget, false);
        ok = compare(&o, d, interp, trans);
    }
    fflush(d->check_report);
    if (d->mode == BT_MODE_CHECK && ftell(d->check_report) > 0) {
        out(&o, "check mode reported a mismatch:\n%.*s\n", (int)ftell(d->check_report),
            d->check_buf);
        ok = false;
    }
    if (!ok) {
        list_program(&o, p);
        dump_state(&o, "interp", &interp->cpu);
        dump_state(&o, "bt", &trans->cpu);
    }
    return ok;
}

bool btd_contained(BTDiff *d, const BTProgram *p, uint64_t budget, char *report, size_t report_len)
{
    Out o = {report, report_len, 0};
    if (report_len) {
        report[0] = 0;
    }
    TestVM *interp = d->vm[VM_INTERP];
    setup_vm(interp, p);
    run_engine(&interp->cpu, NULL, budget);
    taint_by_replays(d, p, budget, true);
    DiffState allowed = {.eflags = p->poison};
    const uint8_t *t = (const uint8_t *)&d->taint, *a = (const uint8_t *)&allowed;
    bool ok = true;
    for (size_t i = 0; i < sizeof(allowed); i++) {
        ok &= (t[i] & ~a[i]) == 0;
    }
    for (uint32_t i = 0; i < BTG_RAM; i++) {
        if (d->ram_taint[i]) {
            out(&o, "memory at %08x derives from undefined results (bits %02x)\n", i,
                d->ram_taint[i]);
            ok = false;
            break;
        }
    }
    if (!ok) {
        out(&o, "derived from undefined results: eflags %08x (%03x expected), rax..r15",
            d->taint.eflags, p->poison);
        for (int r = 0; r < 16; r++) {
            out(&o, " %llx", (unsigned long long)d->taint.regs[r]);
        }
        out(&o, ", rip %llx\n", (unsigned long long)d->taint.eip);
        list_program(&o, p);
        dump_state(&o, "interp", &interp->cpu);
    }
    return ok;
}
