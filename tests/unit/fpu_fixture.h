/*
 * The fixture of the x87 and SIMD unit tests (test_fpu.c, test_fpu_state.c,
 * test_simd.c): instructions are decoded from bytes and run through the
 * interpreter handlers (op_FPU, op_WAIT, op_FXSAVE, op_FXRSTOR, the MMX/SSE
 * ones) on a CPUState whose
 * software TLB maps two pages of linear memory at 0x10000 to a host buffer,
 * with flat 32-bit segments.  A fault comes back as its vector, undelivered.
 */
#ifndef TESTS_UNIT_FPU_FIXTURE_H
#define TESTS_UNIT_FPU_FIXTURE_H

#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "cpu/ops.h"

#define MEM_BASE 0x10000u
#define MEM_SIZE 0x2000u
#define A_CW     0x10080u /* control word scratch */
#define A_VAL    0x10100u /* load operands */
#define A_OUT    0x10200u /* store results */
#define A_ENV    0x10400u /* FNSTENV / FNSAVE image */
#define A_FX     0x10800u /* FXSAVE image (16-byte aligned) */
#define A_LIMIT  0x11fffu /* DS limit in the fault tests */

#define A32(a)                                                                                     \
    (uint8_t)((a)&0xff), (uint8_t)(((a) >> 8) & 0xff), (uint8_t)(((a) >> 16) & 0xff),              \
        (uint8_t)(((a) >> 24) & 0xff)
#define RUN(...)                                                                                   \
    run_code((const uint8_t[]){__VA_ARGS__}, (int)sizeof((const uint8_t[]){__VA_ARGS__}))

/* FCW values: all masked, 64-bit precision, plus the RC field. */
#define CW(rc) (uint16_t)(0x037f | ((rc) << 10))
enum { RC_NEAREST, RC_DOWN, RC_UP, RC_CHOP };

/* Status word bits (SDM Vol.1 Figure 8-4). */
#define SW_IE 0x0001
#define SW_DE 0x0002
#define SW_ZE 0x0004
#define SW_OE 0x0008
#define SW_UE 0x0010
#define SW_PE 0x0020
#define SW_SF 0x0040
#define SW_ES 0x0080
#define SW_C0 0x0100
#define SW_C1 0x0200
#define SW_C2 0x0400
#define SW_C3 0x4000
#define SW_B  0x8000

/* One test process per test (Check forks), so file-scope state is fine. */
static CPUState *cpu;
static uint8_t *mem;

static inline void map_page(uint32_t lin)
{
    TLBEntry *e = &cpu->tlb.e[MMU_KERNEL][tlb_slot(lin)];
    e->tag[ACC_READ] = lin;
    e->tag[ACC_WRITE] = lin;
    e->addend = (uint64_t)(uintptr_t)mem - MEM_BASE;
}

static inline void set_seg(int seg, uint16_t selector, uint32_t attr)
{
    cpu->seg[seg].base = 0;
    cpu->seg[seg].limit = 0xffffffffu;
    cpu->seg[seg].attr = attr;
    cpu->seg[seg].selector = selector;
    seg_update_check(&cpu->seg[seg]);
}

static inline void setup(void)
{
    cpu = calloc(1, sizeof(*cpu));
    mem = aligned_alloc(4096, MEM_SIZE);
    memset(mem, 0, MEM_SIZE);
    for (int v = 0; v < MMU_COUNT; v++) {
        for (unsigned i = 0; i < TLB_SLOTS; i++) {
            for (int a = 0; a < 3; a++) {
                cpu->tlb.e[v][i].tag[a] = TLB_INVALID;
            }
        }
    }
    map_page(MEM_BASE);
    map_page(MEM_BASE + 0x1000);
    uint32_t data = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G;
    for (int s = 0; s < SEG_COUNT; s++) {
        set_seg(s, 0x10, data);
    }
    set_seg(SEG_CS, 0x08, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G);
    cpu->cr0 = CR0_PE | CR0_ET | CR0_NE;
    cpu->hflags = HF_PE | HF_CS32 | HF_SS32;
    cpu->mmu_idx = MMU_KERNEL;
    cpu->eflags = EFLAGS_FIXED;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->eip = 0x1000;
    cpu->exception_vector = -1;
    cpu->a20_mask = 0xffffffffu;
    fpu_reset(cpu);
}

static inline void teardown(void)
{
    free(mem);
    free(cpu);
}

/* Decode and execute one instruction; the vector it raised, or -1. */
static inline int run_code(const uint8_t *code, int len)
{
    static Insn insn;
    memset(&insn, 0, sizeof(insn));
    ck_assert_int_eq(decode_insn(&insn, code, len, true), DECODE_OK);
    ck_assert_int_eq(insn.len, len);
    cpu->next_eip = cpu->eip + insn.len;
    cpu->exception_vector = -1;
    if (setjmp(cpu->jmp_env) != 0) {
        return cpu->exception_vector;
    }
    switch (insn.op) {
    case OP_FPU: op_FPU(cpu, &insn); break;
    case OP_WAIT: op_WAIT(cpu, &insn); break;
    case OP_FXSAVE: op_FXSAVE(cpu, &insn); break;
    case OP_FXRSTOR: op_FXRSTOR(cpu, &insn); break;
    case OP_LDMXCSR:
    case OP_STMXCSR:
    case OP_CLFLUSH:
    case OP_FENCE:
    case OP_MOVNTI: interp_exec_insn(cpu, &insn); break;
    default:
        /* MMX and SSE (test_simd.c) */
        ck_assert_msg(insn_op_is_simd(insn.op), "not an x87 or SIMD instruction: op %d", insn.op);
        interp_exec_insn(cpu, &insn);
        break;
    }
    cpu->eip = cpu->next_eip;
    return -1;
}

/* ---- guest memory and register helpers ---- */

static inline uint8_t *at(uint32_t lin)
{
    return mem + (lin - MEM_BASE);
}

static inline void poke16(uint32_t a, uint16_t v)
{
    memcpy(at(a), &v, 2);
}
static inline void poke32(uint32_t a, uint32_t v)
{
    memcpy(at(a), &v, 4);
}
static inline void poke64(uint32_t a, uint64_t v)
{
    memcpy(at(a), &v, 8);
}
static inline void poke80(uint32_t a, long double v)
{
    memcpy(at(a), &v, 10);
}
static inline uint16_t peek16(uint32_t a)
{
    uint16_t v;
    memcpy(&v, at(a), 2);
    return v;
}
static inline uint32_t peek32(uint32_t a)
{
    uint32_t v;
    memcpy(&v, at(a), 4);
    return v;
}
static inline uint64_t peek64(uint32_t a)
{
    uint64_t v;
    memcpy(&v, at(a), 8);
    return v;
}

static inline long double peek80(uint32_t a)
{
    long double v = 0;
    memcpy(&v, at(a), 10);
    return v;
}

static inline void poke_f80(uint32_t a, uint16_t se, uint64_t sig)
{
    poke64(a, sig);
    poke16(a + 8, se);
}

/* Push through FLD m80, which takes any bit pattern unchanged. */
static inline void push_raw(uint16_t se, uint64_t sig)
{
    poke_f80(A_VAL, se, sig);
    ck_assert_int_eq(RUN(0xdb, 0x2d, A32(A_VAL)), -1);
}

static inline void push(long double v)
{
    poke80(A_VAL, v);
    ck_assert_int_eq(RUN(0xdb, 0x2d, A32(A_VAL)), -1);
}

static inline void fldcw(uint16_t cw)
{
    poke16(A_CW, cw);
    ck_assert_int_eq(RUN(0xd9, 0x2d, A32(A_CW)), -1);
}

static inline uint16_t fnstsw(void)
{
    ck_assert_int_eq(RUN(0xdf, 0xe0), -1);
    return (uint16_t)cpu->regs[R_EAX];
}

static inline void fnclex(void)
{
    ck_assert_int_eq(RUN(0xdb, 0xe2), -1);
}

static inline int top(void)
{
    return (fnstsw() >> 11) & 7;
}

static inline long double st(int i)
{
    long double v = 0;
    memcpy(&v, &cpu->fpu.st[(cpu->fpu.top + i) & 7], 10);
    return v;
}

static inline uint64_t st_sig(int i)
{
    uint64_t v;
    memcpy(&v, &cpu->fpu.st[(cpu->fpu.top + i) & 7], 8);
    return v;
}

static inline uint16_t st_se(int i)
{
    uint16_t v;
    memcpy(&v, (uint8_t *)&cpu->fpu.st[(cpu->fpu.top + i) & 7] + 8, 2);
    return v;
}

static inline bool st_empty(int i)
{
    return ((cpu->fpu.ftw >> (2 * ((cpu->fpu.top + i) & 7))) & 3) == 3;
}

static inline void assert_indefinite(int i)
{
    ck_assert_uint_eq(st_se(i), 0xffff);
    ck_assert_uint_eq(st_sig(i), 0xc000000000000000ull);
}

static inline uint16_t host_fcw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

#endif /* TESTS_UNIT_FPU_FIXTURE_H */
