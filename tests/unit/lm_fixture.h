/*
 * TestVMs for the translator's long-mode tests: protected mode, or long
 * mode set up directly (testvm_long_mode) in 64-bit or compatibility mode.
 */
#ifndef TESTS_UNIT_LM_FIXTURE_H
#define TESTS_UNIT_LM_FIXTURE_H

#include <check.h>

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

#endif /* TESTS_UNIT_LM_FIXTURE_H */
