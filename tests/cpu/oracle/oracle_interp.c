/*
 * The interpreter side: a TestVM in flat 32-bit protected mode at CPL 3,
 * with the code and data windows at the native runner's addresses.
 *
 * The end-marker HLT, like any fault, is delivered through the test VM's
 * IDT: an interrupt gate to ring 0, which switches to the TSS ring-0 stack
 * (SDM Vol.3 6.12.1) and pushes SS, ESP, EFLAGS, CS, EIP and, for some
 * vectors, an error code.  The stub records the vector and halts; the
 * GPRs other than ESP are still those of the faulting instant, and the
 * rest of the user state is read back from that frame.
 *
 * Long-mode tests (--long) run in 64-bit mode instead, entered directly,
 * and end at their first exception, whose state the exception hook takes
 * before delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/cpu/oracle/oracle_run.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define INTERP_RAM (8u << 20)
#define INTERP_MAX_INSNS 200000

/* Long-mode tests: identity-mapped 4-level tables with 2 MiB user pages
 * for the first 8 MiB (PML4, PDPT, PD), below the windows. */
#define LM_PML4 0x30000u

/* What the exception hook saw when a long-mode run ended. */
typedef struct LongEnd {
    bool seen;
    int vector;
    uint32_t error_code;
    uint64_t regs[16];
    uint64_t rip;
    uint32_t eflags;
} LongEnd;

struct InterpRunner {
    LongEnd end;
    TestVM *vm;
    BT *bt;                         /* --accel bt: the translator, else NULL */
    uint8_t code[ORACLE_CODE_SIZE]; /* the code window as loaded: the test, then HLTs */
};

InterpRunner *interp_start(bool translated)
{
    InterpRunner *ir = calloc(1, sizeof(*ir));
    if (!ir) {
        return NULL;
    }
    ir->vm = testvm_new(INTERP_RAM);
    if (!ir->vm) {
        free(ir);
        return NULL;
    }
    if (translated) {
        ir->bt = bt_new(&ir->vm->cpu, 8u << 20, BT_MODE_RUN);
        if (!ir->bt) {
            interp_stop(ir);
            return NULL;
        }
    }
    return ir;
}

void interp_report(InterpRunner *ir)
{
    if (ir->bt) {
        const BTStats *s = bt_stats(ir->bt);
        printf("translator: %llu blocks, x87 state loaded into the host FPU %llu times, "
               "x87 interpreted %llu times (unmasked exceptions, CR0.TS)\n",
               (unsigned long long)s->blocks_translated, (unsigned long long)s->x87_loads,
               (unsigned long long)s->x87_fallbacks);
    }
}

void interp_stop(InterpRunner *ir)
{
    if (ir) {
        bt_free(ir->bt);
        testvm_free(ir->vm);
        free(ir);
    }
}

/* The native runner's LDT segment: the data window, 64 KiB, DPL 3 data. */
static void load_window_segment(CPUState *cpu, int seg)
{
    uint64_t base = ORACLE_DATA_BASE, limit = 0xffff;
    uint64_t d = (limit & 0xffff) | (base & 0xffffff) << 16 | (uint64_t)0xf3 << 40 |
                 ((limit >> 16) & 0xf) << 48 | (uint64_t)0x4 << 52 | (base >> 24) << 56;
    seg_cache_from_descriptor(&cpu->seg[seg], ORACLE_WIN_SEL, d);
}

/* The tag FNSAVE stores for a register that is not empty, from its
 * contents (as the native runners report it): 00 valid, 01 zero, 10
 * special.  It differs from the kept tag after MMX instructions, which
 * mark every register valid whatever it holds. */
static unsigned fsave_tag(const uint8_t st[10])
{
    uint64_t significand;
    uint16_t exponent;
    memcpy(&significand, st, 8);
    memcpy(&exponent, st + 8, 2);
    exponent &= 0x7fff;
    if (exponent == 0x7fff) {
        return 2;
    }
    if (exponent == 0) {
        return significand == 0 ? 1 : 2;
    }
    return significand >> 63 ? 0 : 2;
}

static void capture_fpu(const CPUState *cpu, OracleFpu *out)
{
    unsigned top = cpu->fpu.top & 7;
    out->fcw = cpu->fpu.fcw;
    out->fsw = (uint16_t)((cpu->fpu.fsw & ~0x3800u) | top << 11);
    unsigned ftw = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned tag = (cpu->fpu.ftw >> (2 * phys)) & 3;
        if (tag != 3) {
            tag = fsave_tag((const uint8_t *)&cpu->fpu.st[phys]);
        }
        ftw |= tag << (2 * phys);
    }
    out->ftw = (uint16_t)ftw;
    for (unsigned i = 0; i < 8; i++) {
        memcpy(out->st[i], &cpu->fpu.st[(top + i) & 7], 10);
    }
}

static void setup(TestVM *vm, uint8_t *code, const OracleTest *t)
{
    CPUState *cpu = &vm->cpu;
    cpu_reset(cpu);
    /* Through the physical map, so cached decodes of the last test's code go stale. */
    memset(code, 0xf4, ORACLE_CODE_SIZE);
    memcpy(code, t->code, t->code_len);
    testvm_load(vm, ORACLE_CODE_BASE, code, ORACLE_CODE_SIZE);
    testvm_load(vm, ORACLE_DATA_BASE, t->data, ORACLE_DATA_SIZE);
    testvm_flat32(vm, 3, t->init.eip);
    /* As Linux runs user code: CR0.NE (x87 errors as #MF) and MP, SSE
     * enabled with #XM for its exceptions. */
    cpu->cr0 |= CR0_NE | CR0_MP;
    cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    memcpy(cpu->fpu.xmm, t->simd.xmm, sizeof(cpu->fpu.xmm));
    cpu->fpu.mxcsr = t->simd.mxcsr;
    if (t->es_win) {
        load_window_segment(cpu, SEG_ES);
    }
    if (t->fs_win) {
        load_window_segment(cpu, SEG_FS);
    }
    memset(cpu->regs, 0, sizeof(cpu->regs));
    for (int r = 0; r < 8; r++) {
        cpu->regs[r] = t->init.gpr[r];
    }
    cpu->eflags = t->init.eflags | EFLAGS_FIXED;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

static void put64(TestVM *vm, uint32_t paddr, uint64_t v)
{
    phys_write_buf(&vm->phys, paddr, &v, 8);
}

/* The first exception of a long-mode run ends it: its state is taken here,
 * before delivery (the test VM's IDT is a 32-bit one). */
static void long_on_exception(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                              bool external)
{
    InterpRunner *ir = opaque;
    if (external || ir->end.seen) {
        return;
    }
    ir->end.seen = true;
    ir->end.vector = vector;
    ir->end.error_code = error_code;
    memcpy(ir->end.regs, cpu->regs, sizeof(ir->end.regs));
    ir->end.rip = cpu->eip;
    ir->end.eflags = cpu_get_eflags(cpu);
}

/* A long-mode test: 64-bit mode at CPL 3, entered directly (EFER.LME|LMA,
 * CR0.PG|PE, CR4.PAE, CS.L), then run one instruction at a time until the
 * first exception (the end marker's #GP, or a genuine fault). */
static void interp_run_long(InterpRunner *ir, const OracleTest *t, OracleResult *res,
                            uint8_t *data_out)
{
    TestVM *vm = ir->vm;
    CPUState *cpu = &vm->cpu;
    setup(vm, ir->code, t);
    put64(vm, LM_PML4, (LM_PML4 + 0x1000) | 7);
    put64(vm, LM_PML4 + 0x1000, (LM_PML4 + 0x2000) | 7);
    for (int i = 0; i < 4; i++) {
        put64(vm, LM_PML4 + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x87);
    }
    cpu->cr3 = LM_PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer = EFER_LME | EFER_LMA;
    cpu->cr0 |= CR0_PG;
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    memcpy(cpu->regs, t->init64, sizeof(cpu->regs));
    memcpy(cpu->xmm_hi, t->xmm_hi, sizeof(cpu->xmm_hi));
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
    memset(&ir->end, 0, sizeof(ir->end));
    void *saved_observer = cpu->hooks.observer;
    cpu->hooks.observer = ir;
    cpu->hooks.on_exception = long_on_exception;
    for (int i = 0; i < INTERP_MAX_INSNS && !ir->end.seen && !cpu->triple_fault; i++) {
        cpu_step(cpu);
    }
    cpu->hooks.on_exception = NULL;
    cpu->hooks.observer = saved_observer;
    memset(res, 0, sizeof(*res));
    res->ok = 1;
    const uint64_t *regs = ir->end.seen ? ir->end.regs : cpu->regs;
    uint64_t rip = ir->end.seen ? ir->end.rip : cpu->eip;
    for (int r = 0; r < 16; r++) {
        res->r64[r][0] = (uint32_t)regs[r];
        res->r64[r][1] = (uint32_t)(regs[r] >> 32);
        if (r < 8) {
            res->regs.gpr[r] = (uint32_t)regs[r];
        }
    }
    res->r64[16][0] = (uint32_t)rip;
    res->r64[16][1] = (uint32_t)(rip >> 32);
    res->regs.eip = (uint32_t)rip;
    res->regs.eflags = ir->end.seen ? ir->end.eflags : cpu_get_eflags(cpu);
    res->vector = ir->end.seen ? ir->end.vector : -1;
    res->error_code = ir->end.error_code;
    capture_fpu(cpu, &res->fpu);
    memcpy(res->simd.xmm, cpu->fpu.xmm, sizeof(res->simd.xmm));
    memcpy(res->xmm_hi, cpu->xmm_hi, sizeof(res->xmm_hi));
    res->simd.mxcsr = cpu->fpu.mxcsr;
    if (data_out) {
        memcpy(data_out, vm->phys.ram + ORACLE_DATA_BASE, ORACLE_DATA_SIZE);
    }
}

void interp_run(InterpRunner *ir, const OracleTest *t, OracleResult *res, uint8_t *data_out)
{
    if (t->lm64) {
        interp_run_long(ir, t, res, data_out);
        return;
    }
    TestVM *vm = ir->vm;
    CPUState *cpu = &vm->cpu;
    setup(vm, ir->code, t);
    if (ir->bt) {
        bt_exec(ir->bt, INTERP_MAX_INSNS);
    } else {
        testvm_run(vm, INTERP_MAX_INSNS);
    }
    memset(res, 0, sizeof(*res));
    res->ok = 1;
    for (int r = 0; r < 8; r++) {
        res->regs.gpr[r] = (uint32_t)cpu->regs[r];
    }
    res->regs.eip = cpu->eip;
    res->regs.eflags = cpu_get_eflags(cpu);
    res->vector = testvm_last_vector(vm);
    if (res->vector >= 0) {
        /* The ring-0 frame: [error code], EIP, CS, EFLAGS, ESP, SS. */
        uint32_t sp = cpu->regs[R_ESP];
        bool has_error = TESTVM_STACK0 - sp == 24;
        if (has_error) {
            res->error_code = phys_read(&vm->phys, sp, 4);
            sp += 4;
        }
        res->regs.eip = phys_read(&vm->phys, sp, 4);
        res->regs.eflags = phys_read(&vm->phys, sp + 8, 4);
        res->regs.gpr[R_ESP] = phys_read(&vm->phys, sp + 12, 4);
    }
    capture_fpu(cpu, &res->fpu);
    memcpy(res->simd.xmm, cpu->fpu.xmm, sizeof(res->simd.xmm));
    res->simd.mxcsr = cpu->fpu.mxcsr;
    if (data_out) {
        memcpy(data_out, vm->phys.ram + ORACLE_DATA_BASE, ORACLE_DATA_SIZE);
    }
}
