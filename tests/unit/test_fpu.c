/*
 * x87 arithmetic and data movement: rounding control and precision control,
 * denormals, infinities and NaNs, comparisons, the transcendental and
 * remainder instructions, integer and BCD formats, reserved encodings.
 * Expected values come from the Intel SDM (rounding tables, special-value
 * rules, constants) or are exact arithmetic facts.  The fixture is in
 * fpu_fixture.h.
 */
#include <check.h>

#include "fpu_fixture.h"

/* ---- rounding control (SDM Vol.1 4.8.4, Table 4-8) ---- */

static const long double round_in[4] = {2.5L, -2.5L, 3.5L, -1.5L};
static const long double round_out[4][4] = {
    [RC_NEAREST] = {2.0L, -2.0L, 4.0L, -2.0L},
    [RC_DOWN] = {2.0L, -3.0L, 3.0L, -2.0L},
    [RC_UP] = {3.0L, -2.0L, 4.0L, -1.0L},
    [RC_CHOP] = {2.0L, -2.0L, 3.0L, -1.0L},
};

START_TEST(test_frndint_rounding_modes)
{
    for (int rc = 0; rc < 4; rc++) {
        for (int i = 0; i < 4; i++) {
            ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
            fldcw(CW(rc));
            push(round_in[i]);
            ck_assert_int_eq(RUN(0xd9, 0xfc), -1);
            ck_assert_msg(st(0) == round_out[rc][i], "RC %d: frndint(%Lg) = %Lg", rc, round_in[i],
                          st(0));
            ck_assert(fnstsw() & SW_PE);
        }
    }
}
END_TEST

START_TEST(test_fist_rounding_modes)
{
    for (int rc = 0; rc < 4; rc++) {
        for (int i = 0; i < 4; i++) {
            ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
            fldcw(CW(rc));
            push(round_in[i]);
            ck_assert_int_eq(RUN(0xdb, 0x15, A32(A_OUT)), -1); /* fist dword */
            ck_assert_int_eq((int32_t)peek32(A_OUT), (int32_t)round_out[rc][i]);
            ck_assert_int_eq(RUN(0xdf, 0x3d, A32(A_OUT)), -1); /* fistp qword */
            ck_assert_int_eq((int64_t)peek64(A_OUT), (int64_t)round_out[rc][i]);
            ck_assert(st_empty(0));
        }
    }
}
END_TEST

/* Integer overflow is invalid; the masked response is the integer
 * indefinite (SDM Vol.2 FIST). */
START_TEST(test_fist_out_of_range)
{
    push(40000.0L);
    ck_assert_int_eq(RUN(0xdf, 0x15, A32(A_OUT)), -1); /* fist word */
    ck_assert_uint_eq(peek16(A_OUT), 0x8000);
    ck_assert(fnstsw() & SW_IE);
}
END_TEST

/* FLDPI is pi rounded per RC: C90FDAA2 2168C234 C4... (SDM Vol.1 8.3.8). */
START_TEST(test_constants_follow_rc)
{
    static const uint64_t pi[4] = {0xc90fdaa22168c235ull, 0xc90fdaa22168c234ull,
                                   0xc90fdaa22168c235ull, 0xc90fdaa22168c234ull};
    for (int rc = 0; rc < 4; rc++) {
        fldcw(CW(rc));
        ck_assert_int_eq(RUN(0xd9, 0xeb), -1);
        ck_assert_uint_eq(st_se(0), 0x4000);
        ck_assert_uint_eq(st_sig(0), pi[rc]);
    }
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1); /* fld1 */
    ck_assert(st(0) == 1.0L);
    ck_assert_int_eq(RUN(0xd9, 0xee), -1); /* fldz */
    ck_assert(st(0) == 0.0L);
    ck_assert_uint_eq(host_fcw(), 0x037f);
}
END_TEST

/* ---- precision control (SDM Vol.1 8.1.5.2) ---- */

START_TEST(test_precision_control)
{
    static const struct {
        uint16_t cw;
        uint64_t sig;
    } pc[3] = {
        {0x007f, 0xaaaaab0000000000ull}, /* 24 bits, rounded up */
        {0x027f, 0xaaaaaaaaaaaaa800ull}, /* 53 bits, rounded down */
        {0x037f, 0xaaaaaaaaaaaaaaabull}, /* 64 bits, rounded up */
    };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
        fldcw(pc[i].cw);
        push(1.0L);
        poke32(A_VAL, 0x40400000u);                        /* 3.0f */
        ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1); /* fdiv dword */
        ck_assert_uint_eq(st_sig(0), pc[i].sig);
        ck_assert_uint_eq(st_se(0), 0x3ffd);
        uint16_t sw = fnstsw();
        ck_assert(sw & SW_PE);
        ck_assert_uint_eq(!!(sw & SW_C1), i != 1); /* C1: rounded up */
    }
}
END_TEST

/* ---- denormals and gradual underflow (SDM Vol.1 4.8.3.2, 8.5.2, 8.5.5) ---- */

START_TEST(test_denormal_single_load)
{
    poke32(A_VAL, 0x00000001u); /* smallest single denormal, 2^-149 */
    ck_assert_int_eq(RUN(0xd9, 0x05, A32(A_VAL)), -1);
    ck_assert(st(0) == 0x1p-149L);
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_DE);
}
END_TEST

START_TEST(test_gradual_underflow)
{
    push(0x1p-16382L);                                 /* smallest normal */
    poke32(A_VAL, 0x3f000000u);                        /* 0.5f */
    ck_assert_int_eq(RUN(0xd8, 0x0d, A32(A_VAL)), -1); /* fmul dword */
    ck_assert_uint_eq(st_se(0), 0);
    ck_assert_uint_eq(st_sig(0), 0x4000000000000000ull);
    /* Exact tiny result with UE masked: no underflow flag, no DE. */
    ck_assert_uint_eq(fnstsw() & 0x3f, 0);
    /* The denormal as an operand raises DE. */
    poke32(A_VAL, 0x3f400000u); /* 0.75f */
    ck_assert_int_eq(RUN(0xd8, 0x0d, A32(A_VAL)), -1);
    ck_assert_uint_eq(st_sig(0), 0x3000000000000000ull);
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_DE);
    fnclex();
    /* Half the smallest denormal, ties to even: zero, tiny and inexact. */
    push_raw(0x0000, 1);
    poke32(A_VAL, 0x3f000000u);
    ck_assert_int_eq(RUN(0xd8, 0x0d, A32(A_VAL)), -1);
    ck_assert(st(0) == 0.0L);
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_DE | SW_UE | SW_PE);
}
END_TEST

START_TEST(test_store_single_underflow)
{
    push(0x1p-140L); /* a single denormal: 2^-140 = 512 * 2^-149 */
    ck_assert_int_eq(RUN(0xd9, 0x15, A32(A_OUT)), -1); /* fst dword */
    ck_assert_uint_eq(peek32(A_OUT), 0x200);
    ck_assert_uint_eq(fnstsw() & 0x3f, 0); /* exact */
    push(0x1.8p-149L * 1.25L);             /* not a multiple of 2^-149 */
    ck_assert_int_eq(RUN(0xd9, 0x15, A32(A_OUT)), -1);
    ck_assert_uint_eq(peek32(A_OUT), 2); /* 1.875 -> 2 */
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_UE | SW_PE);
}
END_TEST

/* ---- infinities, zero divide, NaNs ---- */

START_TEST(test_zero_divide_masked)
{
    push(-1.0L);
    poke32(A_VAL, 0); /* +0.0f */
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1);
    ck_assert_uint_eq(st_se(0), 0xffff);
    ck_assert_uint_eq(st_sig(0), 0x8000000000000000ull); /* -inf */
    ck_assert_uint_eq(fnstsw() & 0xff, SW_ZE);
}
END_TEST

START_TEST(test_inf_minus_inf_invalid)
{
    push(__builtin_infl());
    ck_assert_int_eq(RUN(0xd8, 0xe0), -1); /* fsub st0, st0 */
    assert_indefinite(0);
    ck_assert_uint_eq(fnstsw() & 0x7f, SW_IE); /* not a stack fault */
    /* Infinity times anything finite nonzero is exact. */
    fnclex();
    push(__builtin_infl());
    poke32(A_VAL, 0xc0000000u); /* -2.0f */
    ck_assert_int_eq(RUN(0xd8, 0x0d, A32(A_VAL)), -1);
    ck_assert(st(0) == -__builtin_infl());
    ck_assert_uint_eq(fnstsw() & 0x3f, 0);
}
END_TEST

START_TEST(test_qnan_propagates_quietly)
{
    push_raw(0x7fff, 0xc000000000000123ull);
    poke32(A_VAL, 0x3f800000u);
    ck_assert_int_eq(RUN(0xd8, 0x05, A32(A_VAL)), -1); /* fadd dword 1.0 */
    ck_assert_uint_eq(st_sig(0), 0xc000000000000123ull);
    ck_assert_uint_eq(fnstsw() & 0x3f, 0);
    /* Two QNaNs: the larger significand wins (SDM Vol.1 Table 4-7). */
    push_raw(0xffff, 0xc000000000000456ull);
    ck_assert_int_eq(RUN(0xd8, 0xc1), -1);
    ck_assert_uint_eq(st_sig(0), 0xc000000000000456ull);
    ck_assert_uint_eq(fnstsw() & 0x3f, 0);
}
END_TEST

START_TEST(test_snan_is_invalid)
{
    push_raw(0x7fff, 0x8000000000000001ull);
    poke32(A_VAL, 0x3f800000u);
    ck_assert_int_eq(RUN(0xd8, 0x05, A32(A_VAL)), -1);
    ck_assert_uint_eq(st_se(0), 0x7fff);
    ck_assert_uint_eq(st_sig(0), 0xc000000000000001ull); /* quieted */
    ck_assert_uint_eq(fnstsw() & 0x7f, SW_IE);
    /* A single SNaN converts to the quieted extended NaN. */
    fnclex();
    poke32(A_VAL, 0x7f800001u);
    ck_assert_int_eq(RUN(0xd9, 0x05, A32(A_VAL)), -1);
    ck_assert_uint_eq(st_se(0), 0x7fff);
    ck_assert_uint_eq(st_sig(0), 0xc000010000000000ull);
    ck_assert_uint_eq(fnstsw() & 0x7f, SW_IE);
}
END_TEST

START_TEST(test_fcom_and_fucom_nan)
{
    push(1.0L);
    push_raw(0x7fff, 0xc000000000000000ull); /* QNaN */
    ck_assert_int_eq(RUN(0xdd, 0xe1), -1);   /* fucom st1 */
    uint16_t sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_C3 | SW_C2 | SW_C0), SW_C3 | SW_C2 | SW_C0);
    ck_assert_uint_eq(sw & SW_IE, 0);
    ck_assert_int_eq(RUN(0xd8, 0xd1), -1); /* fcom st1 */
    sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_C3 | SW_C2 | SW_C0), SW_C3 | SW_C2 | SW_C0);
    ck_assert(sw & SW_IE);
}
END_TEST

/* ---- comparisons ---- */

START_TEST(test_fcom_condition_codes)
{
    push(1.0L);
    push(2.0L);
    ck_assert_int_eq(RUN(0xd8, 0xd1), -1); /* 2 > 1 */
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C1 | SW_C0), 0);
    poke32(A_VAL, 0x40400000u);                        /* 3.0f */
    ck_assert_int_eq(RUN(0xd8, 0x15, A32(A_VAL)), -1); /* fcom dword: 2 < 3 */
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C0), SW_C0);
    poke16(A_VAL, 2);
    ck_assert_int_eq(RUN(0xde, 0x15, A32(A_VAL)), -1); /* ficom word: 2 == 2 */
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C0), SW_C3);
    ck_assert_int_eq(RUN(0xde, 0xd9), -1); /* fcompp */
    ck_assert(st_empty(0) && st_empty(1));
    ck_assert_int_eq(top(), 0);
}
END_TEST

START_TEST(test_fcomi_sets_eflags)
{
    push(1.0L);
    push(2.0L);
    cpu->eflags |= EFLAGS_OF | EFLAGS_SF | EFLAGS_AF;
    ck_assert_int_eq(RUN(0xdb, 0xf1), -1); /* fcomi st0, st1: greater */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, 0);
    ck_assert_int_eq(RUN(0xd9, 0xc9), -1); /* fxch: now 1 vs 2 */
    ck_assert_int_eq(RUN(0xdb, 0xf1), -1);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, EFLAGS_CF);
    ck_assert_int_eq(RUN(0xd9, 0xc0), -1); /* fld st0 */
    ck_assert_int_eq(RUN(0xdf, 0xe9), -1); /* fucomip st0, st1: equal, pops */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, EFLAGS_ZF);
    ck_assert(st(0) == 1.0L && st(1) == 2.0L);
    push_raw(0x7fff, 0xc000000000000000ull);
    ck_assert_int_eq(RUN(0xdb, 0xe9), -1); /* fucomi: unordered, QNaN is fine */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF);
    ck_assert_uint_eq(fnstsw() & SW_IE, 0);
    ck_assert_int_eq(RUN(0xdf, 0xf1), -1); /* fcomip: QNaN is invalid */
    ck_assert(fnstsw() & SW_IE);
    ck_assert(st(0) == 1.0L);
}
END_TEST

START_TEST(test_ftst_fxam)
{
    static const struct {
        uint16_t se;
        uint64_t sig;
        uint16_t cc; /* C3 C2 C1 C0 from SDM Vol.2 FXAM Table 3-45 */
    } cases[] = {
        {0x3fff, 0x8000000000000000ull, SW_C2},         /* +normal */
        {0xbfff, 0x8000000000000000ull, SW_C2 | SW_C1}, /* -normal */
        {0x7fff, 0x8000000000000000ull, SW_C2 | SW_C0}, /* +inf */
        {0x7fff, 0xc000000000000000ull, SW_C0},         /* NaN */
        {0x0000, 0x0000000000000000ull, SW_C3},         /* +0 */
        {0x0000, 0x0000000000000001ull, SW_C3 | SW_C2}, /* denormal */
        {0x3fff, 0x0000000000000001ull, 0},             /* unnormal: unsupported */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        push_raw(cases[i].se, cases[i].sig);
        ck_assert_int_eq(RUN(0xd9, 0xe5), -1);
        ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C1 | SW_C0), cases[i].cc);
        ck_assert_int_eq(RUN(0xdd, 0xd8), -1); /* fstp st0: pop */
    }
    /* Empty: C3 and C0. */
    ck_assert_int_eq(RUN(0xd9, 0xe5), -1);
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C0), SW_C3 | SW_C0);
    push(-3.0L);
    ck_assert_int_eq(RUN(0xd9, 0xe4), -1); /* ftst: below zero */
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C0), SW_C0);
}
END_TEST

/* ---- FPREM, FPREM1 (SDM Vol.2 FPREM) ---- */

START_TEST(test_fprem_partial_remainder)
{
    push(3.0L);
    push(0x1p100L);
    ck_assert_int_eq(RUN(0xd9, 0xf8), -1);
    ck_assert(fnstsw() & SW_C2); /* exponents differ by > 63: partial */
    int rounds = 1;
    while ((fnstsw() & SW_C2) && rounds < 10) {
        ck_assert_int_eq(RUN(0xd9, 0xf8), -1);
        rounds++;
    }
    ck_assert_uint_eq(fnstsw() & SW_C2, 0);
    ck_assert(st(0) == 1.0L); /* 2^100 = 4^50 = 1 mod 3 */
    ck_assert(st(1) == 3.0L);
}
END_TEST

START_TEST(test_fprem_quotient_bits)
{
    push(3.0L);
    push(7.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf8), -1); /* 7 = 2*3 + 1 */
    ck_assert(st(0) == 1.0L);
    /* Q = 2: C0 = Q2 = 0, C3 = Q1 = 1, C1 = Q0 = 0. */
    ck_assert_uint_eq(fnstsw() & (SW_C3 | SW_C2 | SW_C1 | SW_C0), SW_C3);
    ck_assert_int_eq(RUN(0xdd, 0xd8), -1);
    push(8.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf8), -1); /* FPREM truncates: 8 - 2*3 */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xdd, 0xd8), -1);
    push(8.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf5), -1); /* FPREM1 rounds: 8 - 3*3 */
    ck_assert(st(0) == -1.0L);
}
END_TEST

/* ---- other arithmetic ---- */

START_TEST(test_arith_forms_and_operand_order)
{
    push(3.0L);
    push(5.0L);
    ck_assert_int_eq(RUN(0xd8, 0xe1), -1); /* fsub st0, st1: 5 - 3 */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xd8, 0xe9), -1); /* fsubr st0, st1: 3 - 2 */
    ck_assert(st(0) == 1.0L);
    ck_assert_int_eq(RUN(0xdc, 0xe9), -1); /* fsub st1, st0: 3 - 1 */
    ck_assert(st(1) == 2.0L);
    ck_assert_int_eq(RUN(0xdc, 0xe1), -1); /* fsubr st1, st0: 1 - 2 */
    ck_assert(st(1) == -1.0L);
    ck_assert_int_eq(RUN(0xde, 0xf9), -1); /* fdivp st1, st0: -1 / 1, pop */
    ck_assert(st(0) == -1.0L);
    ck_assert_int_eq(top(), 7);
    poke16(A_VAL, (uint16_t)-4);
    ck_assert_int_eq(RUN(0xde, 0x05, A32(A_VAL)), -1); /* fiadd word: -1 + -4 */
    ck_assert(st(0) == -5.0L);
    poke64(A_VAL, 0x4004000000000000ull);              /* 2.5 */
    ck_assert_int_eq(RUN(0xdc, 0x0d, A32(A_VAL)), -1); /* fmul qword */
    ck_assert(st(0) == -12.5L);
    poke32(A_VAL, 5);
    ck_assert_int_eq(RUN(0xda, 0x3d, A32(A_VAL)), -1); /* fidivr dword: 5 / -12.5 */
    ck_assert(st(0) == -0.4L);
}
END_TEST

START_TEST(test_transcendental_and_misc)
{
    push(2.0L);
    ck_assert_int_eq(RUN(0xd9, 0xfa), -1); /* fsqrt */
    ck_assert(st(0) == 1.41421356237309504880168872420969807857L);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(-1.0L);
    ck_assert_int_eq(RUN(0xd9, 0xfa), -1);
    assert_indefinite(0);
    ck_assert(fnstsw() & SW_IE);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(3.0L);
    push(1.5L);
    ck_assert_int_eq(RUN(0xd9, 0xfd), -1); /* fscale: 1.5 * 2^3 */
    ck_assert(st(0) == 12.0L);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(3.0L);
    push(8.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf1), -1); /* fyl2x: 3 * log2(8), pops */
    ck_assert(st(0) == 9.0L);
    ck_assert_int_eq(top(), 7);
    push(8.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf4), -1); /* fxtract */
    ck_assert(st(0) == 1.0L && st(1) == 3.0L);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(0.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf2), -1); /* fptan: tan 0, then 1.0 pushed */
    ck_assert(st(0) == 1.0L && st(1) == 0.0L);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(0.0L);
    ck_assert_int_eq(RUN(0xd9, 0xfb), -1); /* fsincos: sin below, cos on top */
    ck_assert(st(0) == 1.0L && st(1) == 0.0L);
    ck_assert_uint_eq(fnstsw() & SW_C2, 0);
    push(-2.0L);
    ck_assert_int_eq(RUN(0xd9, 0xe1), -1); /* fabs */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xd9, 0xe0), -1); /* fchs */
    ck_assert(st(0) == -2.0L);
}
END_TEST

/* |x| >= 2^63 is out of range: C2 set and ST0 unchanged (SDM Vol.2 FSIN). */
START_TEST(test_fsin_out_of_range)
{
    push(0x1p63L);
    ck_assert_int_eq(RUN(0xd9, 0xfe), -1);
    ck_assert(fnstsw() & SW_C2);
    ck_assert(st(0) == 0x1p63L);
    ck_assert_int_eq(RUN(0xd9, 0xf2), -1); /* fptan: nothing pushed */
    ck_assert(fnstsw() & SW_C2);
    ck_assert_int_eq(top(), 7);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    push(0.0L);
    ck_assert_int_eq(RUN(0xd9, 0xfe), -1);
    ck_assert_uint_eq(fnstsw() & SW_C2, 0);
}
END_TEST

START_TEST(test_fcmov)
{
    push(1.0L);
    push(2.0L);
    cpu->eflags |= EFLAGS_CF;
    ck_assert_int_eq(RUN(0xdb, 0xc1), -1); /* fcmovnb: CF=1, no move */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xda, 0xc9), -1); /* fcmove: ZF=0, no move */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xda, 0xc1), -1); /* fcmovb: CF=1, move */
    ck_assert(st(0) == 1.0L);
}
END_TEST

START_TEST(test_stack_management)
{
    push(1.0L);
    push(2.0L);
    ck_assert_int_eq(RUN(0xd9, 0xf7), -1); /* fincstp */
    ck_assert_int_eq(top(), 7);
    ck_assert(st(0) == 1.0L);
    ck_assert(!st_empty(7));               /* the 2.0 is still tagged, now ST7 */
    ck_assert_int_eq(RUN(0xd9, 0xf6), -1); /* fdecstp */
    ck_assert(st(0) == 2.0L);
    ck_assert_int_eq(RUN(0xdd, 0xc1), -1); /* ffree st1 */
    ck_assert(st_empty(1));
    ck_assert_int_eq(RUN(0xdf, 0xc0), -1); /* ffreep st0 */
    ck_assert(st_empty(7));
    ck_assert_int_eq(top(), 7);
    ck_assert_int_eq(RUN(0xd9, 0xd0), -1); /* fnop */
}
END_TEST

/* ---- integer and BCD formats ---- */

START_TEST(test_fild_fistp_64)
{
    poke64(A_VAL, (uint64_t)-9223372036854775807ll);
    ck_assert_int_eq(RUN(0xdf, 0x2d, A32(A_VAL)), -1); /* fild qword */
    ck_assert_int_eq(RUN(0xdf, 0x3d, A32(A_OUT)), -1); /* fistp qword */
    ck_assert_uint_eq(peek64(A_OUT), (uint64_t)-9223372036854775807ll);
    ck_assert_uint_eq(fnstsw() & 0x3f, 0);
    poke16(A_VAL, (uint16_t)-300);
    ck_assert_int_eq(RUN(0xdf, 0x05, A32(A_VAL)), -1); /* fild word */
    ck_assert(st(0) == -300.0L);
}
END_TEST

START_TEST(test_fbstp_fbld_round_trip)
{
    static const uint8_t bcd[10] = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00};
    push(123456789012345678.0L);
    ck_assert_int_eq(RUN(0xdf, 0x35, A32(A_OUT)), -1); /* fbstp */
    ck_assert_mem_eq(at(A_OUT), bcd, 10);
    ck_assert(st_empty(0));
    ck_assert_int_eq(RUN(0xdf, 0x25, A32(A_OUT)), -1); /* fbld */
    ck_assert(st(0) == 123456789012345678.0L);
    push(-1234.0L);
    ck_assert_int_eq(RUN(0xdf, 0x35, A32(A_OUT)), -1);
    static const uint8_t neg[10] = {0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80};
    ck_assert_mem_eq(at(A_OUT), neg, 10);
    /* Too many digits: invalid, the BCD indefinite FFFF C000 0000 0000 0000. */
    push(1e18L);
    ck_assert_int_eq(RUN(0xdf, 0x35, A32(A_OUT)), -1);
    static const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};
    ck_assert_mem_eq(at(A_OUT), indef, 10);
    ck_assert(fnstsw() & SW_IE);
}
END_TEST

START_TEST(test_fld_fstp_m64_m80)
{
    poke64(A_VAL, 0xbff8000000000000ull); /* -1.5 */
    ck_assert_int_eq(RUN(0xdd, 0x05, A32(A_VAL)), -1);
    ck_assert(st(0) == -1.5L);
    ck_assert_int_eq(RUN(0xdb, 0x3d, A32(A_OUT)), -1); /* fstp tbyte */
    ck_assert(peek80(A_OUT) == -1.5L);
    push(0.1L);
    ck_assert_int_eq(RUN(0xdd, 0x1d, A32(A_OUT)), -1); /* fstp qword: rounded */
    ck_assert_uint_eq(peek64(A_OUT), 0x3fb999999999999aull);
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_PE);
}
END_TEST

/* SSE3's FISTTP: truncation under any RC, then pop; each integer size. */
START_TEST(test_fisttp)
{
    push(-2.75L);
    push(2.75L);
    ck_assert_int_eq(RUN(0xdb, 0x0d, A32(A_OUT)), -1); /* fisttp dword */
    ck_assert_uint_eq(peek32(A_OUT), 2);
    ck_assert_int_eq(RUN(0xdf, 0x0d, A32(A_OUT)), -1); /* fisttp word */
    ck_assert_uint_eq(peek32(A_OUT) & 0xffff, 0xfffe);
    ck_assert_int_eq(top(), 0);
    push(1e19L);
    ck_assert_int_eq(RUN(0xdd, 0x0d, A32(A_OUT)), -1); /* fisttp qword: too big */
    ck_assert_uint_eq(peek64(A_OUT), 0x8000000000000000ull); /* the integer indefinite */
    ck_assert_uint_eq(fnstsw() & SW_IE, SW_IE);
}
END_TEST

START_TEST(test_reserved_encodings_ud)
{
    ck_assert_int_eq(RUN(0xd9, 0xd1), EXC_UD);
    ck_assert_int_eq(RUN(0xd9, 0xe2), EXC_UD);
    ck_assert_int_eq(RUN(0xd9, 0x0d, A32(A_VAL)), EXC_UD); /* D9 /1 */
    ck_assert_int_eq(RUN(0xdd, 0x2d, A32(A_VAL)), EXC_UD); /* DD /5 */
    ck_assert_int_eq(RUN(0xdf, 0xe1), EXC_UD);
    ck_assert_int_eq(top(), 0);
}
END_TEST

static Suite *fpu_suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *tc;

    tc = tcase_create("rounding");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_frndint_rounding_modes);
    tcase_add_test(tc, test_fist_rounding_modes);
    tcase_add_test(tc, test_fist_out_of_range);
    tcase_add_test(tc, test_constants_follow_rc);
    tcase_add_test(tc, test_precision_control);
    suite_add_tcase(s, tc);

    tc = tcase_create("special values");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_denormal_single_load);
    tcase_add_test(tc, test_gradual_underflow);
    tcase_add_test(tc, test_store_single_underflow);
    tcase_add_test(tc, test_zero_divide_masked);
    tcase_add_test(tc, test_inf_minus_inf_invalid);
    tcase_add_test(tc, test_qnan_propagates_quietly);
    tcase_add_test(tc, test_snan_is_invalid);
    tcase_add_test(tc, test_fcom_and_fucom_nan);
    suite_add_tcase(s, tc);

    tc = tcase_create("instructions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fcom_condition_codes);
    tcase_add_test(tc, test_fcomi_sets_eflags);
    tcase_add_test(tc, test_ftst_fxam);
    tcase_add_test(tc, test_fprem_partial_remainder);
    tcase_add_test(tc, test_fprem_quotient_bits);
    tcase_add_test(tc, test_arith_forms_and_operand_order);
    tcase_add_test(tc, test_transcendental_and_misc);
    tcase_add_test(tc, test_fsin_out_of_range);
    tcase_add_test(tc, test_fcmov);
    tcase_add_test(tc, test_stack_management);
    tcase_add_test(tc, test_fild_fistp_64);
    tcase_add_test(tc, test_fbstp_fbld_round_trip);
    tcase_add_test(tc, test_fld_fstp_m64_m80);
    tcase_add_test(tc, test_reserved_encodings_ud);
    tcase_add_test(tc, test_fisttp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
