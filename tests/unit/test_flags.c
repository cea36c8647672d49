/*
 * Lazy flags and the integer ALU instructions (cpu/flags.c, cpu/ops_alu.c,
 * ops_muldiv.c, ops_shift.c, ops_bcd.c, ops_bit.c).
 *
 * Three kinds of checks:
 *   1. flags_compute/flags_carry/flags_condition on hand-built lazy states,
 *      with the expected flags worked out by hand from the SDM definitions
 *      (Vol.1 Appendix A, Vol.2 per instruction) at the boundaries;
 *   2. instructions decoded from real bytes and run through the interpreter,
 *      against SDM vectors (BCD examples, #DE cases, count rules);
 *   3. the host CPU as an oracle: the same instruction run natively (x86-64
 *      computes the same defined flags) over many pseudo-random inputs,
 *      comparing results and every flag the SDM defines for that case.
 */
#include <inttypes.h>
#include <check.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/ops.h"
#include "cpu/undef.h"
#include "softmmu/phys.h"
#include "tests/support/testvm.h"

#define F_CF  EFLAGS_CF
#define F_PF  EFLAGS_PF
#define F_AF  EFLAGS_AF
#define F_ZF  EFLAGS_ZF
#define F_SF  EFLAGS_SF
#define F_OF  EFLAGS_OF
#define F_ALL EFLAGS_ARITH

/* ---- harness ---- */

static CPUState *new_cpu(void)
{
    CPUState *cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu->eflags = EFLAGS_FIXED;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->exception_vector = -1;
    return cpu;
}

/* Materialised arithmetic flags in, lazy state cleared. */
static void set_flags(CPUState *cpu, uint32_t arith)
{
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->eflags = (cpu->eflags & ~F_ALL) | (arith & F_ALL) | EFLAGS_FIXED;
}

static uint32_t arith_flags(const CPUState *cpu)
{
    return cpu_get_eflags(cpu) & F_ALL;
}

/* Decode bytes as 32-bit code and execute them; returns the exception
 * vector raised, or -1. */
static int run_bytes(CPUState *cpu, const uint8_t *bytes, int n)
{
    Insn insn;
    /* Plain ifs rather than ck_assert in the hot paths: every passing
     * ck_assert records its location through a system call. */
    if (decode_insn(&insn, bytes, n, true) != DECODE_OK || insn.len != n || insn.op == OP_UD) {
        ck_abort_msg("bad test encoding (%d bytes, opcode %02x)", n, bytes[0]);
    }
    cpu->next_eip = cpu->eip + insn.len;
    cpu->exception_vector = -1;
    if (setjmp(cpu->jmp_env)) {
        return cpu->exception_vector;
    }
    interp_exec_insn(cpu, &insn);
    return -1;
}

#define RUN(cpu, ...)                                                                              \
    run_bytes(cpu, (const uint8_t[]){__VA_ARGS__}, (int)sizeof((const uint8_t[]){__VA_ARGS__}))

/* Jcc conditions from flags, written out from SDM Vol.1 Appendix B. */
static bool cond_from_flags(uint32_t f, int cc)
{
    bool cf = f & F_CF, zf = f & F_ZF, sf = f & F_SF, of = f & F_OF, pf = f & F_PF;
    bool r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return r != (cc & 1);
}

/* The flags condition cc reads. */
static uint32_t cond_inputs(int cc)
{
    static const uint32_t in[8] = {F_OF, F_CF, F_ZF,        F_CF | F_ZF,
                                   F_SF, F_PF, F_SF | F_OF, F_ZF | F_SF | F_OF};
    return in[cc >> 1];
}

/*
 * Whether the lazy state in cpu disagrees with the expected flags on a flag
 * in defined: flags_compute, flags_carry, and flags_condition for each of
 * the 16 conditions whose inputs are all defined.  Checked before anything
 * materialises the flags, so the lazy fast paths are what is tested.  The
 * first difference goes to msg.
 */
static bool lazy_mismatch(const CPUState *cpu, uint32_t expect, uint32_t defined, char *msg,
                          size_t len)
{
    for (int cc = 0; cc < 16; cc++) {
        if ((cond_inputs(cc) & defined) == cond_inputs(cc) &&
            flags_condition(cpu, cc) != cond_from_flags(expect, cc)) {
            snprintf(msg, len, "condition %d (cc_op %u res %" PRIx64 " src %" PRIx64 " %" PRIx64 ")",
                     cc, cpu->cc_op, cpu->cc_res, cpu->cc_src1, cpu->cc_src2);
            return true;
        }
    }
    if ((defined & F_CF) && flags_carry(cpu) != !!(expect & F_CF)) {
        snprintf(msg, len, "flags_carry");
        return true;
    }
    uint32_t got = cpu_get_eflags(cpu) & defined;
    if (got != (expect & defined)) {
        snprintf(msg, len, "flags %03x, expected %03x (mask %03x)", got, expect & defined, defined);
        return true;
    }
    return false;
}

static void check_lazy(const CPUState *cpu, uint32_t expect, uint32_t defined, const char *what)
{
    char msg[96];
    if (lazy_mismatch(cpu, expect, defined, msg, sizeof(msg))) {
        ck_abort_msg("%s: %s", what, msg);
    }
}

/* ---- 1. hand-worked lazy states ---- */

typedef struct LazyVector {
    uint32_t op, res, src1, src2, aux;
    uint32_t flags;   /* expected OSZAPC */
    uint32_t defined; /* which of them the SDM defines */
} LazyVector;

/* PF is set for an even number of ones in the low byte; each vector's
 * comment gives the reasoning. */
static const LazyVector lazy_vectors[] = {
    /* ADD: ff+01 = 00: carry out of bit 7 and of bit 3, zero, even parity */
    {CC_OP_ADDB, 0x00, 0xff, 0x01, 0, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    /* 7f+01 = 80: signed overflow positive -> negative; 80 has one bit set */
    {CC_OP_ADDB, 0x80, 0x7f, 0x01, 0, F_OF | F_SF | F_AF, F_ALL},
    /* 80+80 = 00: carry and overflow negative -> positive, no nibble carry */
    {CC_OP_ADDB, 0x00, 0x80, 0x80, 0, F_CF | F_OF | F_ZF | F_PF, F_ALL},
    /* 08+08 = 10: nibble carry only; 10h has one bit set */
    {CC_OP_ADDB, 0x10, 0x08, 0x08, 0, F_AF, F_ALL},
    /* operands may carry junk above the size: 1ff+101 is still ff+01 */
    {CC_OP_ADDB, 0x300, 0x1ff, 0x101, 0, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    {CC_OP_ADDW, 0x0000, 0xffff, 0x0001, 0, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    /* 7fff+1 = 8000: overflow; low byte 00 has even parity */
    {CC_OP_ADDW, 0x8000, 0x7fff, 0x0001, 0, F_OF | F_SF | F_AF | F_PF, F_ALL},
    /* 00ff+0001 = 0100: a byte-sized carry is not a word carry */
    {CC_OP_ADDW, 0x0100, 0x00ff, 0x0001, 0, F_AF | F_PF, F_ALL},
    {CC_OP_ADDL, 0x00000000, 0xffffffff, 0x00000001, 0, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    {CC_OP_ADDL, 0x80000000, 0x7fffffff, 0x00000001, 0, F_OF | F_SF | F_AF | F_PF, F_ALL},
    {CC_OP_ADDL, 0x00000000, 0x80000000, 0x80000000, 0, F_CF | F_OF | F_ZF | F_PF, F_ALL},
    /* ADC: ff+00+1 = 00 carries; 7f+00+1 = 80 overflows; ff+ff+1 = ff carries */
    {CC_OP_ADCB, 0x00, 0xff, 0x00, 1, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    {CC_OP_ADCB, 0x80, 0x7f, 0x00, 1, F_OF | F_SF | F_AF, F_ALL},
    {CC_OP_ADCB, 0xff, 0xff, 0xff, 1, F_CF | F_AF | F_SF | F_PF, F_ALL},
    {CC_OP_ADCB, 0xfe, 0xff, 0xff, 0, F_CF | F_AF | F_SF, F_ALL},
    {CC_OP_ADCL, 0xffffffff, 0xffffffff, 0xffffffff, 1, F_CF | F_SF | F_PF | F_AF, F_ALL},
    /* SUB: 00-01 = ff borrows out of both; 80-01 = 7f overflows */
    {CC_OP_SUBB, 0xff, 0x00, 0x01, 0, F_CF | F_AF | F_SF | F_PF, F_ALL},
    {CC_OP_SUBB, 0x7f, 0x80, 0x01, 0, F_OF | F_AF, F_ALL},
    /* 7f-ff = 80: borrow and positive - negative overflow, no nibble borrow */
    {CC_OP_SUBB, 0x80, 0x7f, 0xff, 0, F_CF | F_OF | F_SF, F_ALL},
    {CC_OP_SUBB, 0x00, 0x42, 0x42, 0, F_ZF | F_PF, F_ALL},
    {CC_OP_SUBW, 0x7fff, 0x8000, 0x0001, 0, F_OF | F_AF | F_PF, F_ALL},
    {CC_OP_SUBW, 0xffff, 0x0000, 0x0001, 0, F_CF | F_AF | F_SF | F_PF, F_ALL},
    {CC_OP_SUBL, 0x7fffffff, 0x80000000, 0x00000001, 0, F_OF | F_AF | F_PF, F_ALL},
    {CC_OP_SUBL, 0xfffffffe, 0x7ffffffe, 0x80000000, 0, F_CF | F_OF | F_SF, F_ALL},
    /* SBB: 00-ff-1 = 00 borrows; 05-05-1 = ff borrows from both */
    {CC_OP_SBBB, 0x00, 0x00, 0xff, 1, F_CF | F_AF | F_ZF | F_PF, F_ALL},
    {CC_OP_SBBL, 0xffffffff, 0x00000005, 0x00000005, 1, F_CF | F_AF | F_SF | F_PF, F_ALL},
    /* 80-00-1 = 7f: overflow from the carry in alone */
    {CC_OP_SBBW, 0x7fff, 0x8000, 0x0000, 1, F_OF | F_AF | F_PF, F_ALL},
    /* LOGIC: CF = OF = 0 */
    {CC_OP_LOGICB, 0x00, 0, 0, 0, F_ZF | F_PF, F_ALL & ~F_AF},
    {CC_OP_LOGICB, 0x80, 0, 0, 0, F_SF, F_ALL & ~F_AF},
    {CC_OP_LOGICW, 0x8003, 0, 0, 0, F_SF | F_PF, F_ALL & ~F_AF},
    {CC_OP_LOGICL, 0x80000100, 0, 0, 0, F_SF | F_PF, F_ALL & ~F_AF},
    /* INC keeps CF (aux); 7f+1 overflows, ff+1 wraps to zero without CF */
    {CC_OP_INCB, 0x80, 0x7f, 1, 1, F_CF | F_OF | F_SF | F_AF, F_ALL},
    {CC_OP_INCB, 0x00, 0xff, 1, 0, F_ZF | F_AF | F_PF, F_ALL},
    {CC_OP_INCW, 0x8000, 0x7fff, 1, 0, F_OF | F_SF | F_AF | F_PF, F_ALL},
    {CC_OP_INCL, 0x80000000, 0x7fffffff, 1, 1, F_CF | F_OF | F_SF | F_AF | F_PF, F_ALL},
    /* DEC: 80-1 = 7f overflows; 00-1 = ff, CF kept */
    {CC_OP_DECB, 0x7f, 0x80, 1, 0, F_OF | F_AF, F_ALL},
    {CC_OP_DECB, 0xff, 0x00, 1, 1, F_CF | F_SF | F_AF | F_PF, F_ALL},
    {CC_OP_DECL, 0x7fffffff, 0x80000000, 1, 0, F_OF | F_AF | F_PF, F_ALL},
    /* SHL by 1: CF = old MSB, OF = MSB(result) XOR CF (SDM Vol.2 SAL) */
    {CC_OP_SHLB, 0x02, 0x81, 1, 0, F_CF | F_OF, F_ALL & ~F_AF},
    {CC_OP_SHLB, 0x80, 0x40, 1, 0, F_OF | F_SF, F_ALL & ~F_AF},
    /* SHL 81h by 7: last bit out is bit 1 (0); result 80h */
    {CC_OP_SHLB, 0x80, 0x81, 7, 0, F_SF, F_CF | F_ZF | F_SF | F_PF},
    {CC_OP_SHLB, 0x00, 0x81, 8, 0, F_ZF | F_PF, F_ZF | F_SF | F_PF},
    {CC_OP_SHLW, 0x0000, 0x8000, 1, 0, F_CF | F_OF | F_ZF | F_PF, F_ALL & ~F_AF},
    {CC_OP_SHLL, 0x00000002, 0x80000001, 1, 0, F_CF | F_OF, F_ALL & ~F_AF},
    /* SHR by 1: CF = old LSB, OF = old MSB */
    {CC_OP_SHRB, 0x40, 0x81, 1, 0, F_CF | F_OF, F_ALL & ~F_AF},
    {CC_OP_SHRB, 0x00, 0x01, 1, 0, F_CF | F_ZF | F_PF, F_ALL & ~F_AF},
    /* SHR 8000h by 15: CF = bit 14 = 0; result 1 */
    {CC_OP_SHRW, 0x0001, 0x8000, 15, 0, 0, F_CF | F_ZF | F_SF | F_PF},
    {CC_OP_SHRL, 0x00000001, 0x00000003, 1, 0, F_CF, F_ALL & ~F_AF},
    /* SAR by 1: OF = 0, the sign stays */
    {CC_OP_SARB, 0xc0, 0x81, 1, 0, F_CF | F_SF | F_PF, F_ALL & ~F_AF},
    /* SAR 80h by 7: the last bit out is bit 6 (0); result ffh */
    {CC_OP_SARB, 0xff, 0x80, 7, 0, F_SF | F_PF, F_CF | F_ZF | F_SF | F_PF},
    {CC_OP_SARW, 0xffff, 0x8000, 15, 0, F_SF | F_PF, F_CF | F_ZF | F_SF | F_PF},
    {CC_OP_SARL, 0xc0000000, 0x80000001, 1, 0, F_CF | F_SF | F_PF, F_ALL & ~F_AF},
    /* MUL: only CF = OF is defined */
    {CC_OP_MULB, 0x00, 0x10, 0x10, 1, F_CF | F_OF, F_CF | F_OF},
    {CC_OP_MULL, 0x12345678, 0, 0, 0, 0, F_CF | F_OF},
};

START_TEST(test_lazy_vectors)
{
    CPUState *cpu = new_cpu();
    for (size_t i = 0; i < sizeof(lazy_vectors) / sizeof(lazy_vectors[0]); i++) {
        const LazyVector *v = &lazy_vectors[i];
        char what[32];
        snprintf(what, sizeof(what), "vector %zu", i);
        cpu->eflags = EFLAGS_FIXED | (F_ALL & ~v->flags); /* stale bits must not leak */
        cpu->cc_op = v->op;
        cpu->cc_res = v->res;
        cpu->cc_src1 = v->src1;
        cpu->cc_src2 = v->src2;
        cpu->cc_aux = v->aux;
        check_lazy(cpu, v->flags, v->defined, what);
    }
    free(cpu);
}
END_TEST

/* CC_OP_EFLAGS: conditions read the stored bits, for all 64 flag patterns. */
START_TEST(test_eflags_conditions)
{
    CPUState *cpu = new_cpu();
    static const uint32_t bits[6] = {F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF};
    for (uint32_t pattern = 0; pattern < 64; pattern++) {
        uint32_t f = 0;
        for (int b = 0; b < 6; b++) {
            if (pattern & (1u << b)) {
                f |= bits[b];
            }
        }
        set_flags(cpu, f);
        check_lazy(cpu, f, F_ALL, "eflags");
        cpu_flush_flags(cpu);
        ck_assert_uint_eq(cpu->eflags & F_ALL, f);
    }
    free(cpu);
}
END_TEST

/* ---- 2. instructions against SDM vectors ---- */

/* Shift count 0 (after masking) changes nothing, even lazy flags. */
START_TEST(test_shift_count_zero)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x80000000u;
    cpu->regs[R_EBX] = 0x80000000u;
    RUN(cpu, 0x01, 0xd8); /* add eax, ebx: CF OF ZF PF */
    uint32_t before = arith_flags(cpu);
    cpu->regs[R_EAX] = 0x12345678u;
    cpu->regs[R_ECX] = 32; /* masks to 0 */
    RUN(cpu, 0xd3, 0xe0);  /* shl eax, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x12345678u);
    ck_assert_uint_eq(arith_flags(cpu), before);
    RUN(cpu, 0xd3, 0xd0);       /* rcl eax, cl */
    RUN(cpu, 0xc1, 0xc8, 0x00); /* ror eax, 0 */
    RUN(cpu, 0x0f, 0xa5, 0xd8); /* shld eax, ebx, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x12345678u);
    ck_assert_uint_eq(arith_flags(cpu), before);
    free(cpu);
}
END_TEST

/* The count is masked to 5 bits before anything else: shl by 33 is shl by 1,
 * for bytes too (SDM Vol.2 SAL: "masked to 5 bits"). */
START_TEST(test_shift_count_masking)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x40000001u;
    cpu->regs[R_ECX] = 33;
    RUN(cpu, 0xd3, 0xe0); /* shl eax, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x80000002u);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF | F_SF), F_OF | F_SF);
    /* a byte shifted by 9 (not masked to 3 bits) is 0, by 8+32 = 40 too */
    cpu->regs[R_EAX] = 0xff;
    cpu->regs[R_ECX] = 9;
    RUN(cpu, 0xd2, 0xe0); /* shl al, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert(arith_flags(cpu) & F_ZF);
    /* sar of a negative byte by 20: all sign bits, CF = sign */
    cpu->regs[R_EAX] = 0x80;
    cpu->regs[R_ECX] = 20;
    RUN(cpu, 0xd2, 0xf8); /* sar al, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xff);
    ck_assert(arith_flags(cpu) & F_CF);
    free(cpu);
}
END_TEST

/* RCL/RCR of bytes and words rotate 9/17 bits: a count of 9 (17) is a full
 * turn and changes nothing; 10 (18) acts as 1. */
START_TEST(test_rcl_rcr_modulo)
{
    CPUState *cpu = new_cpu();
    set_flags(cpu, F_CF);
    cpu->regs[R_EAX] = 0x81;
    cpu->regs[R_ECX] = 9;
    RUN(cpu, 0xd2, 0xd0); /* rcl al, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x81);
    ck_assert(arith_flags(cpu) & F_CF);
    cpu->regs[R_ECX] = 10;
    RUN(cpu, 0xd2, 0xd0); /* rcl al, cl: 1 0000 0001 <- CF=1: 03, CF=1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x03);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), F_CF | F_OF);
    set_flags(cpu, 0);
    cpu->regs[R_EAX] = 0x0001;
    cpu->regs[R_ECX] = 18;
    RUN(cpu, 0x66, 0xd3, 0xd8); /* rcr ax, cl: acts as rcr ax, 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0000);
    ck_assert_uint_eq(arith_flags(cpu) & F_CF, F_CF);
    cpu->regs[R_ECX] = 17;
    RUN(cpu, 0x66, 0xd3, 0xd8); /* full turn: unchanged, CF still 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0000);
    ck_assert_uint_eq(arith_flags(cpu) & F_CF, F_CF);
    free(cpu);
}
END_TEST

/* ROL by a multiple of the width leaves the value but sets CF = LSB. */
START_TEST(test_rol_full_turn_sets_cf)
{
    CPUState *cpu = new_cpu();
    set_flags(cpu, 0);
    cpu->regs[R_EAX] = 0x01;
    cpu->regs[R_ECX] = 8;
    RUN(cpu, 0xd2, 0xc0); /* rol al, cl */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x01);
    ck_assert(arith_flags(cpu) & F_CF);
    free(cpu);
}
END_TEST

START_TEST(test_mul_overflow_flags)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x10;
    cpu->regs[R_ECX] = 0x10;
    RUN(cpu, 0xf6, 0xe1); /* mul cl: 100h */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x100);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), F_CF | F_OF);
    cpu->regs[R_EAX] = 0x0f;
    cpu->regs[R_ECX] = 0x11;
    RUN(cpu, 0xf6, 0xe1); /* mul cl: ffh fits */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xff);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), 0);
    cpu->regs[R_EAX] = 0x80;
    cpu->regs[R_ECX] = 0xff;
    RUN(cpu, 0xf6, 0xe9); /* imul cl: -128 * -1 = 128 does not fit a byte */
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0x0080);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), F_CF | F_OF);
    cpu->regs[R_EAX] = 0xff;
    RUN(cpu, 0xf6, 0xe9); /* imul cl: -1 * -1 = 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0x0001);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), 0);
    cpu->regs[R_EAX] = 0xffff4000u;
    cpu->regs[R_ECX] = 2;
    RUN(cpu, 0x66, 0x0f, 0xaf, 0xc1); /* imul ax, cx: 8000h overflows */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffff8000u);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), F_CF | F_OF);
    cpu->regs[R_ECX] = 0xfffffffdu;
    RUN(cpu, 0x6b, 0xc1, 0xfe); /* imul eax, ecx, -2: -3 * -2 = 6 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 6);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), 0);
    RUN(cpu, 0x66, 0x69, 0xc1, 0x00, 0x80); /* imul ax, cx, 8000h: -3 * -32768 */
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0x8000);
    ck_assert_uint_eq(arith_flags(cpu) & (F_CF | F_OF), F_CF | F_OF);
    free(cpu);
}
END_TEST

/* #DE leaves every register as it was. */
static void expect_de(CPUState *cpu, const uint8_t *bytes, int n)
{
    uint32_t eax = cpu->regs[R_EAX], edx = cpu->regs[R_EDX];
    ck_assert_int_eq(run_bytes(cpu, bytes, n), EXC_DE);
    ck_assert_uint_eq(cpu->regs[R_EAX], eax);
    ck_assert_uint_eq(cpu->regs[R_EDX], edx);
}

#define EXPECT_DE(cpu, ...)                                                                        \
    expect_de(cpu, (const uint8_t[]){__VA_ARGS__}, (int)sizeof((const uint8_t[]){__VA_ARGS__}))

START_TEST(test_divide_errors)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x1234;
    cpu->regs[R_EDX] = 0x5678;
    cpu->regs[R_ECX] = 0;
    EXPECT_DE(cpu, 0xf6, 0xf1);       /* div cl by 0 */
    EXPECT_DE(cpu, 0x66, 0xf7, 0xf1); /* div cx by 0 */
    EXPECT_DE(cpu, 0xf7, 0xf9);       /* idiv ecx by 0 */
    cpu->regs[R_EAX] = 0x1000;
    cpu->regs[R_ECX] = 0x10;
    EXPECT_DE(cpu, 0xf6, 0xf1); /* 1000h / 10h = 100h does not fit AL */
    cpu->regs[R_EAX] = 0x0ffe;
    RUN(cpu, 0xf6, 0xf1); /* 0ffeh / 10h = ffh rem 0eh */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0eff);
    /* IDIV: the most negative dividend over -1 */
    cpu->regs[R_EAX] = 0x8000;
    cpu->regs[R_ECX] = 0xff;
    EXPECT_DE(cpu, 0xf6, 0xf9); /* -32768 / -1 */
    cpu->regs[R_EAX] = 0xff80;
    EXPECT_DE(cpu, 0xf6, 0xf9); /* -128 / -1 = 128 > 127 */
    cpu->regs[R_ECX] = 0x01;
    RUN(cpu, 0xf6, 0xf9); /* -128 / 1 = -128 fits */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0080);
    cpu->regs[R_EDX] = 0x80000000u;
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_ECX] = 0xffffffffu;
    EXPECT_DE(cpu, 0xf7, 0xf9); /* -2^63 / -1: would trap the host if divided */
    cpu->regs[R_EDX] = 0xffffffffu;
    cpu->regs[R_EAX] = 0x80000000u;
    EXPECT_DE(cpu, 0xf7, 0xf9); /* -2^31 / -1 = 2^31 */
    cpu->regs[R_ECX] = 1;
    RUN(cpu, 0xf7, 0xf9); /* -2^31 / 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x80000000u);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
    /* remainder takes the dividend's sign: -7 / 2 = -3 rem -1 */
    cpu->regs[R_EAX] = 0xfff9;
    cpu->regs[R_EDX] = 0xffff;
    cpu->regs[R_ECX] = 2;
    RUN(cpu, 0x66, 0xf7, 0xf9); /* idiv cx */
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0xfffd);
    ck_assert_uint_eq(cpu->regs[R_EDX] & 0xffff, 0xffff);
    free(cpu);
}
END_TEST

/* SDM Vol.2 DAA and DAS examples (AL, then flags as S Z A P C). */
START_TEST(test_daa_das_sdm_examples)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x79;
    cpu->regs[R_EBX] = 0x35;
    RUN(cpu, 0x00, 0xd8); /* add al, bl: AEh, O=1 S=1 Z=0 A=0 P=0 C=0 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xae);
    ck_assert_uint_eq(arith_flags(cpu), F_OF | F_SF);
    RUN(cpu, 0x27); /* daa: 79 + 35 = 114: AL=14h, A=1 P=1 C=1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x14);
    ck_assert_uint_eq(arith_flags(cpu) & ~F_OF, F_AF | F_PF | F_CF);
    /* The SDM's second DAA example starts from AL=2Eh with C=0: low digit
     * Eh > 9 adds 6 (AL=34h, A=1); AL <= 99h and C=0, so C=0; 34h has odd
     * parity. */
    cpu->regs[R_EAX] = 0x2e;
    set_flags(cpu, F_SF);
    RUN(cpu, 0x27);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x34);
    ck_assert_uint_eq(arith_flags(cpu) & ~F_OF, F_AF);

    cpu->regs[R_EAX] = 0x35;
    cpu->regs[R_EBX] = 0x47;
    RUN(cpu, 0x28, 0xd8); /* sub al, bl: EEh, O=0 S=1 Z=0 A=1 P=1 C=1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xee);
    ck_assert_uint_eq(arith_flags(cpu), F_SF | F_AF | F_PF | F_CF);
    RUN(cpu, 0x2f); /* das: 35 - 47 = -12 -> 88 with borrow */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x88);
    ck_assert_uint_eq(arith_flags(cpu) & ~F_OF, F_SF | F_AF | F_PF | F_CF);
    /* DAS: AF=1 and AL=03h: AL-6 borrows, which sets CF although the
     * high digit needs no adjustment (SDM pseudo-code, first step). */
    cpu->regs[R_EAX] = 0x03;
    set_flags(cpu, F_AF);
    RUN(cpu, 0x2f);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xfd);
    ck_assert_uint_eq(arith_flags(cpu) & (F_AF | F_CF), F_AF | F_CF);
    free(cpu);
}
END_TEST

/* Unpacked BCD: 8 + 9 = 17 (AAA), 1 - 2 = -1 -> 9 with borrow (AAS),
 * 79 = 7,9 (AAM), 7,9 = 79 (AAD), AAM 0 is #DE. */
START_TEST(test_ascii_adjust)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0x0008;
    cpu->regs[R_EBX] = 0x09;
    RUN(cpu, 0x00, 0xd8); /* add al, bl: 11h, AF=1 */
    RUN(cpu, 0x37);       /* aaa */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0107);
    ck_assert_uint_eq(arith_flags(cpu) & (F_AF | F_CF), F_AF | F_CF);
    cpu->regs[R_EAX] = 0x0004;
    RUN(cpu, 0x00, 0xc0); /* add al, al: 8, no adjust needed */
    RUN(cpu, 0x37);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0008);
    ck_assert_uint_eq(arith_flags(cpu) & (F_AF | F_CF), 0);
    /* AAA on the P6 adds 106h to AX: AL=FAh carries into AH twice */
    cpu->regs[R_EAX] = 0x00fa;
    set_flags(cpu, 0);
    RUN(cpu, 0x37);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0200);

    cpu->regs[R_EAX] = 0x0501;
    cpu->regs[R_EBX] = 0x02;
    RUN(cpu, 0x28, 0xd8); /* sub al, bl: FFh, AF=1 CF=1 */
    RUN(cpu, 0x3f);       /* aas */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0409);
    ck_assert_uint_eq(arith_flags(cpu) & (F_AF | F_CF), F_AF | F_CF);

    cpu->regs[R_EAX] = 79;
    RUN(cpu, 0xd4, 0x0a); /* aam */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0709);
    ck_assert_uint_eq(arith_flags(cpu) & (F_ZF | F_SF | F_PF), F_PF); /* 09h: even */
    RUN(cpu, 0xd5, 0x0a);                                             /* aad */
    ck_assert_uint_eq(cpu->regs[R_EAX], 79);
    RUN(cpu, 0xd4, 0x10); /* aam 16: nibbles */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x040f);
    cpu->regs[R_EAX] = 0x1234;
    EXPECT_DE(cpu, 0xd4, 0x00);
    /* SALC */
    set_flags(cpu, F_CF);
    RUN(cpu, 0xd6);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x12ff);
    set_flags(cpu, 0);
    RUN(cpu, 0xd6);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1200);
    free(cpu);
}
END_TEST

START_TEST(test_bsf_bsr)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 0xdeadbeefu;
    cpu->regs[R_ECX] = 0;
    RUN(cpu, 0x0f, 0xbc, 0xc1); /* bsf eax, ecx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdeadbeefu);
    ck_assert(arith_flags(cpu) & F_ZF);
    RUN(cpu, 0x0f, 0xbd, 0xc1); /* bsr eax, ecx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdeadbeefu);
    ck_assert(arith_flags(cpu) & F_ZF);
    cpu->regs[R_ECX] = 0x00410000u;
    RUN(cpu, 0x0f, 0xbc, 0xc1);
    ck_assert_uint_eq(cpu->regs[R_EAX], 16);
    ck_assert(!(arith_flags(cpu) & F_ZF));
    RUN(cpu, 0x0f, 0xbd, 0xc1);
    ck_assert_uint_eq(cpu->regs[R_EAX], 22);
    cpu->regs[R_EAX] = 0xffff0000u;
    cpu->regs[R_ECX] = 0x8000;
    RUN(cpu, 0x66, 0x0f, 0xbd, 0xc1); /* bsr ax, cx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffff000fu);
    free(cpu);
}
END_TEST

START_TEST(test_misc_flag_and_convert)
{
    CPUState *cpu = new_cpu();
    /* CBW, CWDE, CWD, CDQ */
    cpu->regs[R_EAX] = 0x12345680u;
    RUN(cpu, 0x66, 0x98);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1234ff80u);
    RUN(cpu, 0x98);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffffff80u);
    cpu->regs[R_EDX] = 0x55555555u;
    cpu->regs[R_EAX] = 0x00008000u;
    RUN(cpu, 0x66, 0x99);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x5555ffffu);
    RUN(cpu, 0x99);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
    /* LAHF after a lazy op: AH = SF ZF 0 AF 0 PF 1 CF */
    cpu->regs[R_EAX] = 0xff;
    cpu->regs[R_EBX] = 0x01;
    RUN(cpu, 0x00, 0xd8); /* add al, bl: 00, CF AF ZF PF */
    RUN(cpu, 0x9f);
    ck_assert_uint_eq((cpu->regs[R_EAX] >> 8) & 0xff, 0x57);
    /* SAHF keeps OF */
    set_flags(cpu, F_OF);
    cpu->regs[R_EAX] = 0xd500; /* SF ZF AF PF CF, and the fixed bits */
    RUN(cpu, 0x9e);
    ck_assert_uint_eq(arith_flags(cpu), F_ALL);
    /* CLC, STC, CMC on lazy flags */
    cpu->regs[R_EAX] = 0xff;
    RUN(cpu, 0x00, 0xd8); /* add al, bl: carries */
    RUN(cpu, 0xf5);       /* cmc after a carry */
    ck_assert_uint_eq(arith_flags(cpu) & F_CF, 0);
    RUN(cpu, 0xf9);
    ck_assert_uint_eq(arith_flags(cpu) & F_CF, F_CF);
    RUN(cpu, 0xf8);
    ck_assert_uint_eq(arith_flags(cpu) & F_CF, 0);
    RUN(cpu, 0xfd);
    ck_assert(cpu->eflags & EFLAGS_DF);
    RUN(cpu, 0xfc);
    ck_assert(!(cpu->eflags & EFLAGS_DF));
    /* BSWAP */
    cpu->regs[R_EBX] = 0x11223344u;
    RUN(cpu, 0x0f, 0xcb);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x44332211u);
    RUN(cpu, 0x66, 0x0f, 0xcb); /* 16-bit: low word cleared (P6) */
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x44330000u);
    /* bt with a register base and an immediate: offset modulo 32 */
    cpu->regs[R_EAX] = 0x00000008u;
    RUN(cpu, 0x0f, 0xba, 0xe0, 35); /* bt eax, 35 */
    ck_assert(arith_flags(cpu) & F_CF);
    /* add eax, -1 (83 /0 with a sign-extended imm8): 1 + ffffffffh carries */
    cpu->regs[R_EAX] = 1;
    RUN(cpu, 0x83, 0xc0, 0xff);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(arith_flags(cpu), F_CF | F_ZF | F_PF | F_AF);
    free(cpu);
}
END_TEST

/* CMOVcc with a false condition leaves a 32-bit destination alone; SETcc
 * writes 0 or 1 to a byte. */
START_TEST(test_cmov_setcc)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 5;
    cpu->regs[R_EBX] = 7;
    RUN(cpu, 0x39, 0xd8); /* cmp eax, ebx: 5 < 7 */
    cpu->regs[R_ECX] = 0xaaaaaaaau;
    cpu->regs[R_EDX] = 0x11111111u;
    RUN(cpu, 0x0f, 0x4f, 0xca); /* cmovg ecx, edx: false */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0xaaaaaaaau);
    RUN(cpu, 0x0f, 0x4c, 0xca); /* cmovl ecx, edx: true */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x11111111u);
    RUN(cpu, 0x0f, 0x92, 0xc5); /* setb ch */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x11110111u);
    RUN(cpu, 0x0f, 0x97, 0xc5); /* seta ch */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x11110011u);
    free(cpu);
}
END_TEST

/* XADD with the same register twice leaves the sum; CMPXCHG both ways. */
START_TEST(test_xadd_cmpxchg)
{
    CPUState *cpu = new_cpu();
    cpu->regs[R_EAX] = 3;
    RUN(cpu, 0x0f, 0xc1, 0xc0); /* xadd eax, eax */
    ck_assert_uint_eq(cpu->regs[R_EAX], 6);
    cpu->regs[R_EAX] = 10;
    cpu->regs[R_EDX] = 10;
    cpu->regs[R_ECX] = 99;
    RUN(cpu, 0x0f, 0xb1, 0xca); /* cmpxchg edx, ecx: equal */
    ck_assert_uint_eq(cpu->regs[R_EDX], 99);
    ck_assert_uint_eq(cpu->regs[R_EAX], 10);
    ck_assert(arith_flags(cpu) & F_ZF);
    RUN(cpu, 0x0f, 0xb1, 0xca); /* not equal: EAX = EDX */
    ck_assert_uint_eq(cpu->regs[R_EDX], 99);
    ck_assert_uint_eq(cpu->regs[R_EAX], 99);
    ck_assert_uint_eq(arith_flags(cpu) & (F_ZF | F_CF), F_CF); /* 10 - 99 borrows */
    free(cpu);
}
END_TEST

/* ---- memory operands (flat 32-bit protected mode, paging off) ---- */

#define MEM_BASE 0x20000u /* test data: linear = physical */

static TestVM *new_vm(void)
{
    TestVM *vm = testvm_new(1024 * 1024);
    ck_assert_ptr_nonnull(vm);
    testvm_flat32(vm, 0, TESTVM_CODE);
    return vm;
}

static uint32_t peek32(TestVM *vm, uint32_t paddr)
{
    return phys_read(&vm->phys, paddr, 4);
}

static void poke32(TestVM *vm, uint32_t paddr, uint32_t value)
{
    phys_write(&vm->phys, paddr, value, 4);
}

/* The four bytes of a disp32 operand, low first. */
#define D32(x) (uint8_t)(x), (uint8_t)((x) >> 8), (uint8_t)((x) >> 16), (uint8_t)((x) >> 24)

/*
 * BT with a memory base and a register offset (SDM Vol.2 BT, Vol.1 3.3.1
 * bit-string addressing): the offset is signed, so -1 is bit 31 of the
 * dword below the operand and 35 is bit 3 of the dword above it.
 */
START_TEST(test_bt_memory_offsets)
{
    TestVM *vm = new_vm();
    CPUState *cpu = &vm->cpu;
    uint32_t base = MEM_BASE + 0x100;
    poke32(vm, base - 8, 0);
    poke32(vm, base - 4, 0x80000000u);
    poke32(vm, base, 0);
    poke32(vm, base + 4, 0x00000008u);

    cpu->regs[R_EAX] = 35;
    RUN(cpu, 0x0f, 0xa3, 0x05, D32(base)); /* bt [base], eax */
    ck_assert(arith_flags(cpu) & F_CF);
    cpu->regs[R_EAX] = 0xffffffffu;
    RUN(cpu, 0x0f, 0xa3, 0x05, D32(base)); /* bit -1 */
    ck_assert(arith_flags(cpu) & F_CF);
    cpu->regs[R_EAX] = (uint32_t)-33;      /* bit 31 of the dword at base - 8 */
    RUN(cpu, 0x0f, 0xab, 0x05, D32(base)); /* bts */
    ck_assert(!(arith_flags(cpu) & F_CF));
    ck_assert_uint_eq(peek32(vm, base - 8), 0x80000000u);
    cpu->regs[R_EAX] = 35;
    RUN(cpu, 0x0f, 0xb3, 0x05, D32(base)); /* btr: clears bit 3 of base + 4 */
    ck_assert(arith_flags(cpu) & F_CF);
    ck_assert_uint_eq(peek32(vm, base + 4), 0);
    cpu->regs[R_EAX] = 32 * 64 + 1;        /* 256 bytes up */
    RUN(cpu, 0x0f, 0xbb, 0x05, D32(base)); /* btc */
    ck_assert_uint_eq(peek32(vm, base + 256), 2);
    ck_assert_uint_eq(peek32(vm, base), 0);

    /* 16-bit operand: words, offset sign-extended from 16 bits */
    cpu->regs[R_EAX] = 0x1234ffffu;              /* ax = -1: bit 15 of the word at base - 2 */
    RUN(cpu, 0x66, 0x0f, 0xa3, 0x05, D32(base)); /* bt word [base], ax */
    ck_assert(arith_flags(cpu) & F_CF);
    cpu->regs[R_EAX] = 17;                       /* bit 1 of the word at base + 2 */
    RUN(cpu, 0x66, 0x0f, 0xab, 0x05, D32(base)); /* bts */
    ck_assert_uint_eq(peek32(vm, base), 0x00020000u);

    /* immediate offset: modulo the operand size, no address change */
    RUN(cpu, 0x0f, 0xba, 0x25, D32(base + 4), 35); /* bt dword [base+4], 35 */
    ck_assert(!(arith_flags(cpu) & F_CF));
    RUN(cpu, 0x0f, 0xba, 0x2d, D32(base + 4), 35); /* bts dword [base+4], 35 */
    ck_assert_uint_eq(peek32(vm, base + 4), 8);
    testvm_free(vm);
}
END_TEST

START_TEST(test_cmpxchg8b)
{
    TestVM *vm = new_vm();
    CPUState *cpu = &vm->cpu;
    uint32_t m = MEM_BASE + 0x200;
    poke32(vm, m, 0x11111111u);
    poke32(vm, m + 4, 0x22222222u);
    cpu->regs[R_EAX] = 0x11111111u;
    cpu->regs[R_EDX] = 0x22222222u;
    cpu->regs[R_EBX] = 0x33333333u;
    cpu->regs[R_ECX] = 0x44444444u;
    set_flags(cpu, F_CF | F_SF);
    RUN(cpu, 0x0f, 0xc7, 0x0d, D32(m)); /* cmpxchg8b [m]: equal */
    ck_assert_uint_eq(peek32(vm, m), 0x33333333u);
    ck_assert_uint_eq(peek32(vm, m + 4), 0x44444444u);
    ck_assert_uint_eq(arith_flags(cpu), F_CF | F_SF | F_ZF); /* only ZF changes */
    RUN(cpu, 0x0f, 0xc7, 0x0d, D32(m));                      /* now different: EDX:EAX = m64 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x33333333u);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x44444444u);
    ck_assert_uint_eq(peek32(vm, m), 0x33333333u);
    ck_assert_uint_eq(arith_flags(cpu), F_CF | F_SF);
    testvm_free(vm);
}
END_TEST

/* Memory destinations: the value lands in memory, and a shift by 0 leaves
 * memory and flags alone. */
START_TEST(test_memory_rmw)
{
    TestVM *vm = new_vm();
    CPUState *cpu = &vm->cpu;
    uint32_t m = MEM_BASE + 0x300;
    poke32(vm, m, 0xfffffff0u);
    cpu->regs[R_ECX] = 0x20;
    RUN(cpu, 0x01, 0x0d, D32(m)); /* add [m], ecx: carries */
    ck_assert_uint_eq(peek32(vm, m), 0x10);
    ck_assert_uint_eq(arith_flags(cpu), F_CF); /* no nibble carry; 10h: odd parity */
    RUN(cpu, 0x0f, 0xc1, 0x0d, D32(m));        /* xadd [m], ecx: [m] = 30h, ecx = 10h */
    ck_assert_uint_eq(peek32(vm, m), 0x30);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x10);
    cpu->regs[R_ECX] = 0;
    RUN(cpu, 0xd3, 0x25, D32(m)); /* shl dword [m], cl with cl = 0 */
    ck_assert_uint_eq(peek32(vm, m), 0x30);
    ck_assert_uint_eq(arith_flags(cpu), F_PF); /* still those of 10h + 20h = 30h */
    RUN(cpu, 0xd0, 0x0d, D32(m));              /* ror byte [m], 1 */
    ck_assert_uint_eq(peek32(vm, m), 0x18);
    RUN(cpu, 0xf6, 0x1d, D32(m)); /* neg byte [m] */
    ck_assert_uint_eq(peek32(vm, m), 0xe8);
    ck_assert(arith_flags(cpu) & F_CF);
    testvm_free(vm);
}
END_TEST

/* A fault on the memory operand leaves registers, flags and memory as
 * before the instruction (SDM Vol.3 6.5: faults are restartable). */
START_TEST(test_memory_fault_commits_nothing)
{
    TestVM *vm = new_vm();
    CPUState *cpu = &vm->cpu;
    cpu->seg[SEG_DS].limit = 0xffff; /* MEM_BASE is past the limit */
    cpu->regs[R_EAX] = 5;
    cpu->regs[R_EBX] = 5;
    RUN(cpu, 0x29, 0xd8); /* sub eax, ebx: ZF */
    uint32_t flags = arith_flags(cpu);
    cpu->regs[R_ECX] = 0x1234;
    ck_assert_int_eq(RUN(cpu, 0x0f, 0xc1, 0x0d, D32(MEM_BASE)), EXC_GP); /* xadd [m], ecx */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x1234);
    ck_assert_uint_eq(arith_flags(cpu), flags);
    ck_assert_int_eq(RUN(cpu, 0x0f, 0xb1, 0x0d, D32(MEM_BASE)), EXC_GP); /* cmpxchg [m], ecx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(arith_flags(cpu), flags);
    cpu->regs[R_EAX] = 0x100;
    cpu->regs[R_EDX] = 0x200;
    ck_assert_int_eq(RUN(cpu, 0xf7, 0x35, D32(MEM_BASE)), EXC_GP); /* div dword [m] */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x100);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x200);
    /* a bit offset that leaves the segment faults although the base is inside */
    cpu->regs[R_EAX] = 8 * 0x10000;
    ck_assert_int_eq(RUN(cpu, 0x0f, 0xab, 0x05, D32(0x100)), EXC_GP); /* bts [100h], eax */
    ck_assert_uint_eq(arith_flags(cpu), flags);
    ck_assert_int_eq(RUN(cpu, 0x0f, 0xc7, 0x0d, D32(0xfffc)), EXC_GP); /* cmpxchg8b at the limit */
    ck_assert_uint_eq(arith_flags(cpu), flags);
    /* CMOVcc reads its source whatever the condition (SDM Vol.2 CMOVcc):
     * a false cmovg (ZF is set) still faults on a bad operand. */
    ck_assert_int_eq(RUN(cpu, 0x0f, 0x4f, 0x0d, D32(MEM_BASE)), EXC_GP); /* cmovg ecx, [m] */
    ck_assert_uint_eq(arith_flags(cpu), flags);
    testvm_free(vm);
}
END_TEST

/* ---- 3. the host as oracle ---- */

/*
 * The x86-64 host runs the same instruction on the same register values.
 * Only what the SDM defines for the case is compared: CPUs differ in the
 * flags and destinations it leaves undefined (docs/undefined.md), so the
 * host may too.  Each case also runs with the interpreter's undefined
 * results filled with other values (CPUState.undef_perturb), as another
 * CPU's would be, which must pass as well.  Inputs lean toward the
 * boundaries: 0, 1, the sign bits and their neighbours of each size, and
 * small shift counts.
 */

/* Host registers as the asm sees them (only the low 32 bits matter). */
typedef struct HostRegs {
    uint64_t eax, ecx, edx, flags;
} HostRegs;

typedef void (*HostFn)(HostRegs *r);

/*
 * One host instruction between loading and saving the flags.  It steps below
 * the red zone before pushing, as the compiler may keep locals there.  The
 * trailing prototype only lets each use end with a semicolon.
 */
#define HOST_FN(name, text)                                                                        \
    static void name(HostRegs *r)                                                                  \
    {                                                                                              \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[fl]\n\tpopf\n\t" text                   \
                         "\n\tpushf\n\tpop %[fl]\n\tlea 128(%%rsp), %%rsp"                         \
                         : "+a"(r->eax), "+c"(r->ecx), "+d"(r->edx), [fl] "+r"(r->flags)           \
                         :                                                                         \
                         : "cc", "memory");                                                        \
    }                                                                                              \
    static void name(HostRegs *r)

/* One line per mnemonic, in its sizes. */
/* clang-format off */
HOST_FN(h_addb, "addb %%cl, %%al"); HOST_FN(h_addw, "addw %%cx, %%ax"); HOST_FN(h_addl, "addl %%ecx, %%eax");
HOST_FN(h_orb, "orb %%cl, %%al"); HOST_FN(h_orw, "orw %%cx, %%ax"); HOST_FN(h_orl, "orl %%ecx, %%eax");
HOST_FN(h_adcb, "adcb %%cl, %%al"); HOST_FN(h_adcw, "adcw %%cx, %%ax"); HOST_FN(h_adcl, "adcl %%ecx, %%eax");
HOST_FN(h_sbbb, "sbbb %%cl, %%al"); HOST_FN(h_sbbw, "sbbw %%cx, %%ax"); HOST_FN(h_sbbl, "sbbl %%ecx, %%eax");
HOST_FN(h_andb, "andb %%cl, %%al"); HOST_FN(h_andw, "andw %%cx, %%ax"); HOST_FN(h_andl, "andl %%ecx, %%eax");
HOST_FN(h_subb, "subb %%cl, %%al"); HOST_FN(h_subw, "subw %%cx, %%ax"); HOST_FN(h_subl, "subl %%ecx, %%eax");
HOST_FN(h_xorb, "xorb %%cl, %%al"); HOST_FN(h_xorw, "xorw %%cx, %%ax"); HOST_FN(h_xorl, "xorl %%ecx, %%eax");
HOST_FN(h_cmpb, "cmpb %%cl, %%al"); HOST_FN(h_cmpw, "cmpw %%cx, %%ax"); HOST_FN(h_cmpl, "cmpl %%ecx, %%eax");
HOST_FN(h_testb, "testb %%cl, %%al"); HOST_FN(h_testw, "testw %%cx, %%ax"); HOST_FN(h_testl, "testl %%ecx, %%eax");
HOST_FN(h_incb, "incb %%al"); HOST_FN(h_incw, "incw %%ax"); HOST_FN(h_incl, "incl %%eax");
HOST_FN(h_decb, "decb %%al"); HOST_FN(h_decw, "decw %%ax"); HOST_FN(h_decl, "decl %%eax");
HOST_FN(h_negb, "negb %%al"); HOST_FN(h_negw, "negw %%ax"); HOST_FN(h_negl, "negl %%eax");
HOST_FN(h_notb, "notb %%al"); HOST_FN(h_notw, "notw %%ax"); HOST_FN(h_notl, "notl %%eax");
HOST_FN(h_xaddb, "xaddb %%cl, %%al"); HOST_FN(h_xaddw, "xaddw %%cx, %%ax"); HOST_FN(h_xaddl, "xaddl %%ecx, %%eax");
HOST_FN(h_cmpxchgb, "cmpxchgb %%cl, %%dl"); HOST_FN(h_cmpxchgw, "cmpxchgw %%cx, %%dx");
HOST_FN(h_cmpxchgl, "cmpxchgl %%ecx, %%edx");
HOST_FN(h_rolb, "rolb %%cl, %%al"); HOST_FN(h_rolw, "rolw %%cl, %%ax"); HOST_FN(h_roll, "roll %%cl, %%eax");
HOST_FN(h_rorb, "rorb %%cl, %%al"); HOST_FN(h_rorw, "rorw %%cl, %%ax"); HOST_FN(h_rorl, "rorl %%cl, %%eax");
HOST_FN(h_rclb, "rclb %%cl, %%al"); HOST_FN(h_rclw, "rclw %%cl, %%ax"); HOST_FN(h_rcll, "rcll %%cl, %%eax");
HOST_FN(h_rcrb, "rcrb %%cl, %%al"); HOST_FN(h_rcrw, "rcrw %%cl, %%ax"); HOST_FN(h_rcrl, "rcrl %%cl, %%eax");
HOST_FN(h_shlb, "shlb %%cl, %%al"); HOST_FN(h_shlw, "shlw %%cl, %%ax"); HOST_FN(h_shll, "shll %%cl, %%eax");
HOST_FN(h_shrb, "shrb %%cl, %%al"); HOST_FN(h_shrw, "shrw %%cl, %%ax"); HOST_FN(h_shrl, "shrl %%cl, %%eax");
HOST_FN(h_sarb, "sarb %%cl, %%al"); HOST_FN(h_sarw, "sarw %%cl, %%ax"); HOST_FN(h_sarl, "sarl %%cl, %%eax");
HOST_FN(h_shldw, "shldw %%cl, %%dx, %%ax"); HOST_FN(h_shldl, "shldl %%cl, %%edx, %%eax");
HOST_FN(h_shrdw, "shrdw %%cl, %%dx, %%ax"); HOST_FN(h_shrdl, "shrdl %%cl, %%edx, %%eax");
HOST_FN(h_mulb, "mulb %%cl"); HOST_FN(h_mulw, "mulw %%cx"); HOST_FN(h_mull, "mull %%ecx");
HOST_FN(h_imulb, "imulb %%cl"); HOST_FN(h_imulw, "imulw %%cx"); HOST_FN(h_imull, "imull %%ecx");
HOST_FN(h_imul2w, "imulw %%cx, %%ax"); HOST_FN(h_imul2l, "imull %%ecx, %%eax");
HOST_FN(h_divb, "divb %%cl"); HOST_FN(h_divw, "divw %%cx"); HOST_FN(h_divl, "divl %%ecx");
HOST_FN(h_idivb, "idivb %%cl"); HOST_FN(h_idivw, "idivw %%cx"); HOST_FN(h_idivl, "idivl %%ecx");
HOST_FN(h_bsfw, "bsfw %%cx, %%ax"); HOST_FN(h_bsfl, "bsfl %%ecx, %%eax");
HOST_FN(h_bsrw, "bsrw %%cx, %%ax"); HOST_FN(h_bsrl, "bsrl %%ecx, %%eax");
HOST_FN(h_btw, "btw %%cx, %%ax"); HOST_FN(h_btl, "btl %%ecx, %%eax");
HOST_FN(h_btsw, "btsw %%cx, %%ax"); HOST_FN(h_btsl, "btsl %%ecx, %%eax");
HOST_FN(h_btrw, "btrw %%cx, %%ax"); HOST_FN(h_btrl, "btrl %%ecx, %%eax");
HOST_FN(h_btcw, "btcw %%cx, %%ax"); HOST_FN(h_btcl, "btcl %%ecx, %%eax");
/* clang-format on */

/* Which flags the SDM defines (sets, or leaves unaffected), by instruction family. */
enum OracleKind {
    K_ARITH, /* all six */
    K_LOGIC, /* all but AF */
    K_NONE,  /* NOT: no flag changes, so all six must be kept */
    K_SHIFT, /* SHL SHR SAR */
    K_ROT,   /* ROL ROR RCL RCR: CF, OF; the rest kept */
    K_SHD,   /* SHLD SHRD */
    K_MUL,   /* CF = OF */
    K_DIV,   /* none; #DE cases */
    K_BSF,   /* ZF; the destination too unless the source is 0 */
    K_BT,    /* CF, and ZF (unaffected) */
};

typedef struct OracleCase {
    const char *name;
    uint8_t bytes[5];
    uint8_t len;
    HostFn host;
    uint8_t kind;
    uint8_t size; /* operand size in bytes */
} OracleCase;

#define BYTES(...) {__VA_ARGS__}, (uint8_t)sizeof((uint8_t[]){__VA_ARGS__})

static const OracleCase oracle_cases[] = {
    {"add b", BYTES(0x00, 0xc8), h_addb, K_ARITH, 1},
    {"add w", BYTES(0x66, 0x01, 0xc8), h_addw, K_ARITH, 2},
    {"add l", BYTES(0x01, 0xc8), h_addl, K_ARITH, 4},
    {"or b", BYTES(0x08, 0xc8), h_orb, K_LOGIC, 1},
    {"or w", BYTES(0x66, 0x09, 0xc8), h_orw, K_LOGIC, 2},
    {"or l", BYTES(0x09, 0xc8), h_orl, K_LOGIC, 4},
    {"adc b", BYTES(0x10, 0xc8), h_adcb, K_ARITH, 1},
    {"adc w", BYTES(0x66, 0x11, 0xc8), h_adcw, K_ARITH, 2},
    {"adc l", BYTES(0x11, 0xc8), h_adcl, K_ARITH, 4},
    {"sbb b", BYTES(0x18, 0xc8), h_sbbb, K_ARITH, 1},
    {"sbb w", BYTES(0x66, 0x19, 0xc8), h_sbbw, K_ARITH, 2},
    {"sbb l", BYTES(0x19, 0xc8), h_sbbl, K_ARITH, 4},
    {"and b", BYTES(0x20, 0xc8), h_andb, K_LOGIC, 1},
    {"and w", BYTES(0x66, 0x21, 0xc8), h_andw, K_LOGIC, 2},
    {"and l", BYTES(0x21, 0xc8), h_andl, K_LOGIC, 4},
    {"sub b", BYTES(0x28, 0xc8), h_subb, K_ARITH, 1},
    {"sub w", BYTES(0x66, 0x29, 0xc8), h_subw, K_ARITH, 2},
    {"sub l", BYTES(0x29, 0xc8), h_subl, K_ARITH, 4},
    {"xor b", BYTES(0x30, 0xc8), h_xorb, K_LOGIC, 1},
    {"xor w", BYTES(0x66, 0x31, 0xc8), h_xorw, K_LOGIC, 2},
    {"xor l", BYTES(0x31, 0xc8), h_xorl, K_LOGIC, 4},
    {"cmp b", BYTES(0x38, 0xc8), h_cmpb, K_ARITH, 1},
    {"cmp w", BYTES(0x66, 0x39, 0xc8), h_cmpw, K_ARITH, 2},
    {"cmp l", BYTES(0x39, 0xc8), h_cmpl, K_ARITH, 4},
    {"test b", BYTES(0x84, 0xc8), h_testb, K_LOGIC, 1},
    {"test w", BYTES(0x66, 0x85, 0xc8), h_testw, K_LOGIC, 2},
    {"test l", BYTES(0x85, 0xc8), h_testl, K_LOGIC, 4},
    {"inc b", BYTES(0xfe, 0xc0), h_incb, K_ARITH, 1},
    {"inc w", BYTES(0x66, 0x40), h_incw, K_ARITH, 2},
    {"inc l", BYTES(0x40), h_incl, K_ARITH, 4},
    {"dec b", BYTES(0xfe, 0xc8), h_decb, K_ARITH, 1},
    {"dec w", BYTES(0x66, 0x48), h_decw, K_ARITH, 2},
    {"dec l", BYTES(0xff, 0xc8), h_decl, K_ARITH, 4},
    {"neg b", BYTES(0xf6, 0xd8), h_negb, K_ARITH, 1},
    {"neg w", BYTES(0x66, 0xf7, 0xd8), h_negw, K_ARITH, 2},
    {"neg l", BYTES(0xf7, 0xd8), h_negl, K_ARITH, 4},
    {"not b", BYTES(0xf6, 0xd0), h_notb, K_NONE, 1},
    {"not w", BYTES(0x66, 0xf7, 0xd0), h_notw, K_NONE, 2},
    {"not l", BYTES(0xf7, 0xd0), h_notl, K_NONE, 4},
    {"xadd b", BYTES(0x0f, 0xc0, 0xc8), h_xaddb, K_ARITH, 1},
    {"xadd w", BYTES(0x66, 0x0f, 0xc1, 0xc8), h_xaddw, K_ARITH, 2},
    {"xadd l", BYTES(0x0f, 0xc1, 0xc8), h_xaddl, K_ARITH, 4},
    {"cmpxchg b", BYTES(0x0f, 0xb0, 0xca), h_cmpxchgb, K_ARITH, 1},
    {"cmpxchg w", BYTES(0x66, 0x0f, 0xb1, 0xca), h_cmpxchgw, K_ARITH, 2},
    {"cmpxchg l", BYTES(0x0f, 0xb1, 0xca), h_cmpxchgl, K_ARITH, 4},
    {"rol b", BYTES(0xd2, 0xc0), h_rolb, K_ROT, 1},
    {"rol w", BYTES(0x66, 0xd3, 0xc0), h_rolw, K_ROT, 2},
    {"rol l", BYTES(0xd3, 0xc0), h_roll, K_ROT, 4},
    {"ror b", BYTES(0xd2, 0xc8), h_rorb, K_ROT, 1},
    {"ror w", BYTES(0x66, 0xd3, 0xc8), h_rorw, K_ROT, 2},
    {"ror l", BYTES(0xd3, 0xc8), h_rorl, K_ROT, 4},
    {"rcl b", BYTES(0xd2, 0xd0), h_rclb, K_ROT, 1},
    {"rcl w", BYTES(0x66, 0xd3, 0xd0), h_rclw, K_ROT, 2},
    {"rcl l", BYTES(0xd3, 0xd0), h_rcll, K_ROT, 4},
    {"rcr b", BYTES(0xd2, 0xd8), h_rcrb, K_ROT, 1},
    {"rcr w", BYTES(0x66, 0xd3, 0xd8), h_rcrw, K_ROT, 2},
    {"rcr l", BYTES(0xd3, 0xd8), h_rcrl, K_ROT, 4},
    {"shl b", BYTES(0xd2, 0xe0), h_shlb, K_SHIFT, 1},
    {"shl w", BYTES(0x66, 0xd3, 0xe0), h_shlw, K_SHIFT, 2},
    {"shl l", BYTES(0xd3, 0xe0), h_shll, K_SHIFT, 4},
    {"shr b", BYTES(0xd2, 0xe8), h_shrb, K_SHIFT, 1},
    {"shr w", BYTES(0x66, 0xd3, 0xe8), h_shrw, K_SHIFT, 2},
    {"shr l", BYTES(0xd3, 0xe8), h_shrl, K_SHIFT, 4},
    {"sar b", BYTES(0xd2, 0xf8), h_sarb, K_SHIFT, 1},
    {"sar w", BYTES(0x66, 0xd3, 0xf8), h_sarw, K_SHIFT, 2},
    {"sar l", BYTES(0xd3, 0xf8), h_sarl, K_SHIFT, 4},
    {"shld w", BYTES(0x66, 0x0f, 0xa5, 0xd0), h_shldw, K_SHD, 2},
    {"shld l", BYTES(0x0f, 0xa5, 0xd0), h_shldl, K_SHD, 4},
    {"shrd w", BYTES(0x66, 0x0f, 0xad, 0xd0), h_shrdw, K_SHD, 2},
    {"shrd l", BYTES(0x0f, 0xad, 0xd0), h_shrdl, K_SHD, 4},
    {"mul b", BYTES(0xf6, 0xe1), h_mulb, K_MUL, 1},
    {"mul w", BYTES(0x66, 0xf7, 0xe1), h_mulw, K_MUL, 2},
    {"mul l", BYTES(0xf7, 0xe1), h_mull, K_MUL, 4},
    {"imul b", BYTES(0xf6, 0xe9), h_imulb, K_MUL, 1},
    {"imul w", BYTES(0x66, 0xf7, 0xe9), h_imulw, K_MUL, 2},
    {"imul l", BYTES(0xf7, 0xe9), h_imull, K_MUL, 4},
    {"imul2 w", BYTES(0x66, 0x0f, 0xaf, 0xc1), h_imul2w, K_MUL, 2},
    {"imul2 l", BYTES(0x0f, 0xaf, 0xc1), h_imul2l, K_MUL, 4},
    {"div b", BYTES(0xf6, 0xf1), h_divb, K_DIV, 1},
    {"div w", BYTES(0x66, 0xf7, 0xf1), h_divw, K_DIV, 2},
    {"div l", BYTES(0xf7, 0xf1), h_divl, K_DIV, 4},
    {"idiv b", BYTES(0xf6, 0xf9), h_idivb, K_DIV, 1},
    {"idiv w", BYTES(0x66, 0xf7, 0xf9), h_idivw, K_DIV, 2},
    {"idiv l", BYTES(0xf7, 0xf9), h_idivl, K_DIV, 4},
    {"bsf w", BYTES(0x66, 0x0f, 0xbc, 0xc1), h_bsfw, K_BSF, 2},
    {"bsf l", BYTES(0x0f, 0xbc, 0xc1), h_bsfl, K_BSF, 4},
    {"bsr w", BYTES(0x66, 0x0f, 0xbd, 0xc1), h_bsrw, K_BSF, 2},
    {"bsr l", BYTES(0x0f, 0xbd, 0xc1), h_bsrl, K_BSF, 4},
    {"bt w", BYTES(0x66, 0x0f, 0xa3, 0xc8), h_btw, K_BT, 2},
    {"bt l", BYTES(0x0f, 0xa3, 0xc8), h_btl, K_BT, 4},
    {"bts w", BYTES(0x66, 0x0f, 0xab, 0xc8), h_btsw, K_BT, 2},
    {"bts l", BYTES(0x0f, 0xab, 0xc8), h_btsl, K_BT, 4},
    {"btr w", BYTES(0x66, 0x0f, 0xb3, 0xc8), h_btrw, K_BT, 2},
    {"btr l", BYTES(0x0f, 0xb3, 0xc8), h_btrl, K_BT, 4},
    {"btc w", BYTES(0x66, 0x0f, 0xbb, 0xc8), h_btcw, K_BT, 2},
    {"btc l", BYTES(0x0f, 0xbb, 0xc8), h_btcl, K_BT, 4},
};

/* Flags the SDM defines after this case with this count (CL). */
static uint32_t defined_flags(const OracleCase *c, uint32_t cl)
{
    uint32_t bits = c->size * 8u;
    uint32_t count = cl & 31;
    switch (c->kind) {
    case K_ARITH:
    case K_NONE: return F_ALL;
    case K_LOGIC: return F_ALL & ~F_AF;
    case K_SHIFT: {
        if (count == 0) {
            return F_ALL;
        }
        uint32_t f = F_SF | F_ZF | F_PF;
        /* SAR's CF is always the last bit out; SHL/SHR's is undefined once
         * the count reaches the width (SDM Vol.2 SAL/SAR/SHL/SHR). */
        if (count < bits || c->bytes[c->len - 1] == 0xf8) {
            f |= F_CF;
        }
        return count == 1 ? f | F_OF : f;
    }
    case K_ROT:
        /* CF, and the four flags rotates never touch; OF only for count 1. */
        return count == 1 || count == 0 ? F_ALL : F_ALL & ~F_OF;
    case K_SHD:
        if (count == 0) {
            return F_ALL;
        }
        if (count > bits) {
            return 0;
        }
        return count == 1 ? F_CF | F_SF | F_ZF | F_PF | F_OF : F_CF | F_SF | F_ZF | F_PF;
    case K_MUL: return F_CF | F_OF;
    case K_BSF: return F_ZF;
    case K_BT: return F_CF | F_ZF;
    default: return 0;
    }
}

/*
 * The bits of EAX the SDM leaves undefined (ECX and EDX are always
 * defined): the 16-bit destination of SHLD/SHRD by more than 16, and the
 * destination of BSF/BSR when the source (CX or ECX) is 0.
 */
static uint32_t undefined_eax(const OracleCase *c, uint32_t ecx)
{
    uint32_t mask = c->size == 2 ? 0xffffu : 0xffffffffu;
    if (c->kind == K_SHD && (ecx & 31) > c->size * 8u) {
        return mask;
    }
    if (c->kind == K_BSF && (ecx & mask) == 0) {
        return mask;
    }
    return 0;
}

typedef struct Rng {
    uint64_t state;
} Rng;

static uint32_t rng_next(Rng *r)
{
    r->state ^= r->state << 13;
    r->state ^= r->state >> 7;
    r->state ^= r->state << 17;
    return (uint32_t)(r->state >> 16);
}

/* A register value: a boundary of some size, a small number, or anything. */
static uint32_t rng_value(Rng *r)
{
    static const uint32_t edges[] = {
        0,      1,      2,       9,          0x0f,        0x10,        0x7e,        0x7f,
        0x80,   0x81,   0xfe,    0xff,       0x100,       0x7fff,      0x8000,      0x8001,
        0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu,
    };
    switch (rng_next(r) % 4) {
    case 0: return edges[rng_next(r) % (sizeof(edges) / sizeof(edges[0]))];
    case 1: return rng_next(r) & 0x3f;
    case 2: return (rng_next(r) << 16) | edges[rng_next(r) % (sizeof(edges) / sizeof(edges[0]))];
    default: return rng_next(r) ^ (rng_next(r) << 16);
    }
}

static sigjmp_buf host_fpe_env;

static void host_fpe_handler(int sig)
{
    (void)sig;
    siglongjmp(host_fpe_env, 1);
}

/* Run a host function that may raise #DE (SIGFPE on the host). */
static bool host_run(const OracleCase *c, HostRegs *r)
{
    if (c->kind != K_DIV) {
        c->host(r);
        return true;
    }
    if (sigsetjmp(host_fpe_env, 1)) {
        return false;
    }
    c->host(r);
    return true;
}

/* Run case c on the interpreter in cpu; the exception vector, or -1. */
static int oracle_interp(CPUState *cpu, const OracleCase *c, uint32_t eax, uint32_t ecx,
                         uint32_t edx, uint32_t flags)
{
    cpu->regs[R_EAX] = eax;
    cpu->regs[R_ECX] = ecx;
    cpu->regs[R_EDX] = edx;
    set_flags(cpu, flags);
    return run_bytes(cpu, c->bytes, c->len);
}

/*
 * Whether the interpreter's result in cpu (lazy flags as the instruction
 * left them) differs from the host's h in anything the SDM defines for
 * case c with count register ecx; the difference goes to msg.
 */
static bool oracle_mismatch(const CPUState *cpu, const OracleCase *c, uint32_t ecx,
                            const HostRegs *h, char *msg, size_t len)
{
    if (lazy_mismatch(cpu, (uint32_t)h->flags, defined_flags(c, ecx), msg, len)) {
        return true;
    }
    uint32_t eax_mask = ~undefined_eax(c, ecx);
    if (((cpu->regs[R_EAX] ^ (uint32_t)h->eax) & eax_mask) ||
        cpu->regs[R_ECX] != (uint32_t)h->ecx || cpu->regs[R_EDX] != (uint32_t)h->edx) {
        snprintf(msg, len, "got %08x %08x %08x, host %08x %08x %08x (eax mask %08x)",
                 (uint32_t)cpu->regs[R_EAX], (uint32_t)cpu->regs[R_ECX],
                 (uint32_t)cpu->regs[R_EDX], (uint32_t)h->eax,
                 (uint32_t)h->ecx, (uint32_t)h->edx, eax_mask);
        return true;
    }
    return false;
}

/*
 * One input on the host and on the interpreter twice: as it is, and with
 * its undefined results filled with random bits (perturbed has
 * undef_perturb set), as a CPU that chooses differently would.
 */
static void oracle_one(CPUState *cpu, CPUState *perturbed, const OracleCase *c, Rng *rng)
{
    uint32_t eax = rng_value(rng), ecx = rng_value(rng), edx = rng_value(rng);
    uint32_t fin = rng_next(rng) & F_ALL;
    if (c->kind == K_DIV && (rng_next(rng) & 1)) {
        /* A high half of zeros or of sign bits, so that quotients that fit
         * are as common as overflows. */
        bool ones = rng_next(rng) & 1;
        switch (c->size) {
        case 1: eax = (eax & ~0xff00u) | (ones ? 0xff00u : 0); break;
        case 2: edx = (edx & ~0xffffu) | (ones ? 0xffffu : 0); break;
        default: edx = ones ? 0xffffffffu : 0; break;
        }
    }
    HostRegs h = {eax, ecx, edx, fin | EFLAGS_FIXED};
    bool host_ok = host_run(c, &h);
    perturbed->undef_fill = rng_next(rng) ^ (rng_next(rng) << 16);
    char what[96], msg[128];
    snprintf(what, sizeof(what), "%s eax=%08x ecx=%08x edx=%08x flags=%03x", c->name, eax, ecx, edx,
             fin);
    CPUState *engines[2] = {cpu, perturbed};
    for (int i = 0; i < 2; i++) {
        CPUState *e = engines[i];
        int vector = oracle_interp(e, c, eax, ecx, edx, fin);
        if (!host_ok) {
            if (vector != EXC_DE) {
                ck_abort_msg("%s: expected #DE, got %d", what, vector);
            }
            if (e->regs[R_EAX] != eax || e->regs[R_EDX] != edx) {
                ck_abort_msg("%s: registers changed on #DE", what);
            }
            continue;
        }
        if (vector != -1) {
            ck_abort_msg("%s: unexpected exception %d", what, vector);
        }
        if (oracle_mismatch(e, c, ecx, &h, msg, sizeof(msg))) {
            ck_abort_msg("%s%s: %s", what, i ? " (undefined results filled)" : "", msg);
        }
    }
}

START_TEST(test_host_oracle)
{
    const OracleCase *c = &oracle_cases[_i];
    CPUState *cpu = new_cpu(), *perturbed = new_cpu();
    perturbed->undef_perturb = true;
    Rng rng = {0x9e3779b97f4a7c15ull ^ (uint64_t)_i};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = host_fpe_handler;
    sigaction(SIGFPE, &sa, &old);
    for (int n = 0; n < 10000; n++) {
        oracle_one(cpu, perturbed, c, &rng);
    }
    sigaction(SIGFPE, &old, NULL);
    free(cpu);
    free(perturbed);
}
END_TEST

/* The oracle's own reading of the SDM (defined_flags) against the table
 * the interpreter perturbs by (cpu_undefined_flags), for every count. */
START_TEST(test_undefined_table)
{
    const OracleCase *c = &oracle_cases[_i];
    Insn insn;
    ck_assert_int_eq(decode_insn(&insn, c->bytes, c->len, true), DECODE_OK);
    for (uint32_t count = 0; count < 32; count++) {
        uint32_t undefined = F_ALL & ~defined_flags(c, count);
        ck_assert_msg(cpu_undefined_flags(&insn, count) == undefined,
                      "%s by %u: table %03x, oracle %03x", c->name, count,
                      cpu_undefined_flags(&insn, count), undefined);
    }
}
END_TEST

/*
 * Two CPUs that differ only in undefined results must both pass the oracle
 * comparison; one that differs in a defined result must not.  A CI host
 * computed SHLD AX, DX, CL by 31 as e367 where the interpreter has 8008:
 * here the "host" is the interpreter with its undefined results filled
 * with all ones, then all zeros.
 */
START_TEST(test_oracle_ignores_undefined)
{
    static const struct {
        const char *name;
        uint32_t eax, ecx, edx, flags;
    } inputs[] = {
        {"shld w", 0x00000011u, 0x82c9007fu, 0xae7ac6cfu, 0x0d1u}, /* by 31 */
        {"shrd w", 0x12345678u, 0x00000011u, 0x9abcdef0u, 0x000u}, /* by 17 */
        {"bsf w", 0xdeadbeefu, 0xffff0000u, 0x00000000u, 0x8d5u},  /* CX = 0 */
        {"bsr l", 0xdeadbeefu, 0x00000000u, 0x00000000u, 0x000u},  /* ECX = 0 */
        {"mul l", 0x00010001u, 0x00010001u, 0x00000000u, 0x000u},
        {"div b", 0x00000100u, 0x00000007u, 0x00000000u, 0x8d5u},
    };
    CPUState *cpu = new_cpu(), *host = new_cpu();
    char msg[128];
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        const OracleCase *c = NULL;
        for (size_t k = 0; k < sizeof(oracle_cases) / sizeof(oracle_cases[0]); k++) {
            if (!strcmp(oracle_cases[k].name, inputs[i].name)) {
                c = &oracle_cases[k];
            }
        }
        ck_assert_ptr_nonnull(c);
        uint32_t eax = inputs[i].eax, ecx = inputs[i].ecx, edx = inputs[i].edx;
        uint32_t fin = inputs[i].flags;
        bool changed = false;
        for (int fill = 0; fill < 2; fill++) {
            host->undef_perturb = true;
            host->undef_fill = fill ? 0 : 0xffffffffu;
            ck_assert_int_eq(oracle_interp(host, c, eax, ecx, edx, fin), -1);
            HostRegs h = {host->regs[R_EAX], host->regs[R_ECX], host->regs[R_EDX],
                          cpu_get_eflags(host)};
            ck_assert_int_eq(oracle_interp(cpu, c, eax, ecx, edx, fin), -1);
            changed |= h.eax != cpu->regs[R_EAX] || (h.flags ^ cpu_get_eflags(cpu)) & F_ALL;
            ck_assert_msg(!oracle_mismatch(cpu, c, ecx, &h, msg, sizeof(msg)), "%s: %s", c->name,
                          msg);
            /* A defined difference: the count register, or a defined flag. */
            h.ecx ^= 0x100;
            ck_assert_int_eq(oracle_interp(cpu, c, eax, ecx, edx, fin), -1);
            ck_assert(oracle_mismatch(cpu, c, ecx, &h, msg, sizeof(msg)));
            h.ecx ^= 0x100;
            uint32_t defined = defined_flags(c, ecx);
            if (defined) {
                h.flags ^= defined & -defined; /* the lowest defined flag */
                ck_assert_int_eq(oracle_interp(cpu, c, eax, ecx, edx, fin), -1);
                ck_assert(oracle_mismatch(cpu, c, ecx, &h, msg, sizeof(msg)));
            }
        }
        ck_assert_msg(changed, "%s: the fills changed nothing", c->name);
    }
    free(cpu);
    free(host);
}
END_TEST

static Suite *flags_suite(void)
{
    Suite *s = suite_create("flags");
    TCase *tc = tcase_create("lazy");
    tcase_add_test(tc, test_lazy_vectors);
    tcase_add_test(tc, test_eflags_conditions);
    suite_add_tcase(s, tc);
    tc = tcase_create("insn");
    tcase_add_test(tc, test_shift_count_zero);
    tcase_add_test(tc, test_shift_count_masking);
    tcase_add_test(tc, test_rcl_rcr_modulo);
    tcase_add_test(tc, test_rol_full_turn_sets_cf);
    tcase_add_test(tc, test_mul_overflow_flags);
    tcase_add_test(tc, test_divide_errors);
    tcase_add_test(tc, test_daa_das_sdm_examples);
    tcase_add_test(tc, test_ascii_adjust);
    tcase_add_test(tc, test_bsf_bsr);
    tcase_add_test(tc, test_misc_flag_and_convert);
    tcase_add_test(tc, test_cmov_setcc);
    tcase_add_test(tc, test_xadd_cmpxchg);
    suite_add_tcase(s, tc);
    tc = tcase_create("memory");
    tcase_add_test(tc, test_bt_memory_offsets);
    tcase_add_test(tc, test_cmpxchg8b);
    tcase_add_test(tc, test_memory_rmw);
    tcase_add_test(tc, test_memory_fault_commits_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("host-oracle");
    tcase_add_loop_test(tc, test_host_oracle, 0,
                        (int)(sizeof(oracle_cases) / sizeof(oracle_cases[0])));
    tcase_add_loop_test(tc, test_undefined_table, 0,
                        (int)(sizeof(oracle_cases) / sizeof(oracle_cases[0])));
    tcase_add_test(tc, test_oracle_ignores_undefined);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(flags_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
