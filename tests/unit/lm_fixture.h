/*
 * TestVMs for the translator's long-mode tests: protected mode, or long
 * mode set up directly (testvm_long_mode) in 64-bit or compatibility mode.
 */
#ifndef TESTS_UNIT_LM_FIXTURE_H
#define TESTS_UNIT_LM_FIXTURE_H

#include <check.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM  (4u << 20)
#define DATA 0x20000u

enum { MODE_LEGACY, MODE_COMPAT, MODE_64 };

static inline TestVM *make_vm(const uint8_t *code, size_t len, int mode)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    if (mode != MODE_LEGACY) {
        testvm_long_mode(vm, mode == MODE_64);
    }
    return vm;
}

/* Random instruction sequences: a xorshift64 step on *state (non-zero),
 * and code bytes appended to a Seq. */
static inline uint64_t seq_rnd(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#define SEQ_MAX 4096

typedef struct Seq {
    uint8_t b[SEQ_MAX];
    size_t len;
    int callouts; /* instructions put that are callouts by design */
    int depth;    /* x87 stack depth, for generators that keep it within 0..7 */
} Seq;

static inline void put(Seq *s, uint8_t v)
{
    ck_assert_uint_lt(s->len, SEQ_MAX);
    s->b[s->len++] = v;
}

static inline void put32(Seq *s, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        put(s, (uint8_t)(v >> (8 * i)));
    }
}

/* The first exception raised, as the CPU hook sees it before delivery
 * (testvm's 32-bit gates are no use in long mode): set vector to -1,
 * then hooks.observer = &fault and hooks.on_exception = first_fault_note. */
typedef struct FirstFault {
    int vector;
    uint32_t error;
    uint64_t rip, rbx, rsp;
} FirstFault;

static inline void first_fault_note(void *opaque, CPUState *cpu, int vector, uint32_t error,
                                    bool hw)
{
    (void)hw;
    FirstFault *f = opaque;
    if (f->vector < 0) {
        f->vector = vector;
        f->error = error;
        f->rip = cpu->eip;
        f->rbx = cpu->regs[R_EBX];
        f->rsp = cpu->regs[R_ESP];
    }
}

/* code in 64-bit mode on the interpreter (vm[0]) and on bt (vm[1]), 100
 * instructions at most, each noting its first exception in f[0] and f[1];
 * returns bt (the caller frees it and both VMs). */
static inline BT *run_to_first_fault(const uint8_t *code, size_t len, TestVM *vm[2],
                                     FirstFault f[2])
{
    for (int e = 0; e < 2; e++) {
        vm[e] = make_vm(code, len, MODE_64);
        f[e] = (FirstFault){.vector = -1};
        vm[e]->cpu.hooks.observer = &f[e];
        vm[e]->cpu.hooks.on_exception = first_fault_note;
    }
    testvm_run(vm[0], 100);
    BT *bt = bt_new(&vm[1]->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_ptr_nonnull(bt);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    bt_exec(bt, 100);
    return bt;
}

/* Programs: segments of code or data loaded at addresses, and a setup. */
typedef struct Seg {
    uint32_t addr;
    const uint8_t *bytes;
    size_t len;
} Seg;

typedef void (*Setup)(TestVM *vm);

/* A VM in 64-bit mode with segs loaded and setup applied. */
static inline TestVM *prog_vm(const Seg *segs, int nsegs, Setup setup)
{
    TestVM *vm = make_vm(segs[0].bytes, segs[0].len, MODE_64);
    for (int i = 1; i < nsegs; i++) {
        testvm_load(vm, segs[i].addr, segs[i].bytes, segs[i].len);
    }
    if (setup) {
        setup(vm);
    }
    return vm;
}

/*
 * The program on the interpreter, then on bt and under check, both of
 * which must agree with it to the byte (registers, RIP, flags, mode,
 * instruction count, RAM); the bt run's VM and statistics stay for the
 * caller (free both).
 */
static inline TestVM *run_lockstep(const Seg *segs, int nsegs, Setup setup, BT **bt_out)
{
    TestVM *ref = prog_vm(segs, nsegs, setup);
    ck_assert_int_eq(testvm_run(ref, 1000000), CPU_EXIT_HALT);
    TestVM *kept = NULL;
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int m = 0; m < 2; m++) {
        TestVM *vm = prog_vm(segs, nsegs, setup);
        BT *bt = bt_new(&vm->cpu, 1u << 20, modes[m]);
        ck_assert_ptr_nonnull(bt);
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        ck_assert_int_eq(bt_exec(bt, 1000000), CPU_EXIT_HALT);
        for (int r = 0; r < CPU_NB_REGS; r++) {
            ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r],
                          "mode %d register %d: translated %016llx, interpreter %016llx", m, r,
                          (unsigned long long)vm->cpu.regs[r],
                          (unsigned long long)ref->cpu.regs[r]);
        }
        ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
        ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
        ck_assert_uint_eq(vm->cpu.hflags & (HF_CS64 | HF_LMA),
                          ref->cpu.hflags & (HF_CS64 | HF_LMA));
        ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
        ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
        if (m == 0) {
            kept = vm;
            *bt_out = bt;
        } else {
            bt_free(bt);
            testvm_free(vm);
        }
    }
    testvm_free(ref);
    return kept;
}

#endif /* TESTS_UNIT_LM_FIXTURE_H */
