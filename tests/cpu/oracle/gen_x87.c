/*
 * x87 instructions on operands from the constant area of the data window.
 *
 * All exceptions stay masked (the control words FLDCW loads vary only
 * rounding and precision control), so invalid operations, stack overflow
 * and underflow produce their masked responses and sticky flags, which
 * the comparison checks.  Condition codes C0-C3 an instruction leaves
 * undefined are tracked like EFLAGS (gen_need_fsw before FNSTSW).
 *
 * Not generated, because results differ between CPU generations (the
 * host is not a P6): FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
 * FYL2XP1 (transcendental accuracy); FNSTENV, FNSAVE,
 * FLDENV, FRSTOR (they hold FCS and FDS selectors, which differ between
 * the native process and the test VM); unmasked exceptions.  C1 after
 * FCOMI/FCOMIP/FUCOMI/FUCOMIP is not judged (see x87_compare).
 */
#include <string.h>

#include "tests/cpu/oracle/gen_internal.h"

/* C1 defined (round-up or stack fault), C0 C2 C3 undefined: most x87 ops. */
#define CC_ARITH_DEF FSW_C1
#define CC_ARITH_UNDEF (FSW_C0 | FSW_C2 | FSW_C3)

/* ---- the constant area ---- */

static const uint32_t special_f32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x40200000, 0xc0200000,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x00000001, 0x807fffff,
    0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x5f000000, 0x46fffe00, 0xc7000100,
};

static const uint64_t special_f64[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3fe0000000000000ull, 0x4004000000000000ull, 0xc004000000000000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull,
    0x000fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull, 0x41dfffffffc00000ull,
    0xc1e0000000000000ull, 0x43e0000000000000ull, 0x400921fb54442d18ull, 0x3fb999999999999aull,
    0x40dfffe000000000ull, 0xc0e0001000000000ull, 0x4330000000000001ull,
};

/* {significand, sign+exponent} pairs, including formats the 387 and later reject. */
static const struct {
    uint64_t sig;
    uint16_t se;
} special_f80[] = {
    {0, 0},                                       /* +0 */
    {0, 0x8000},                                  /* -0 */
    {0x8000000000000000ull, 0x3fff},              /* 1 */
    {0xc90fdaa22168c235ull, 0x4000},              /* pi */
    {0x8000000000000000ull, 0x7fff},              /* +inf */
    {0xc000000000000000ull, 0xffff},              /* QNaN indefinite */
    {0xa000000000000000ull, 0x7fff},              /* SNaN */
    {0x0000000000000001ull, 0x0000},              /* denormal */
    {0x8000000000000001ull, 0x0000},              /* pseudo-denormal */
    {0x4000000000000000ull, 0x3fff},              /* unnormal */
    {0x0000000000000000ull, 0x7fff},              /* pseudo-infinity */
    {0xffffffffffffffffull, 0x7ffe},              /* largest finite */
    {0x8000000000000000ull, 0x0001},              /* smallest normal */
    {0xffffffffffffffffull, 0x403e},              /* 2^64 - 1 */
    {0x8000000000000000ull, 0x401e},              /* 2^31 */
    {0xc000000000000000ull, 0x3ffe},              /* 0.75 */
    {0xa000000000000000ull, 0x4000},              /* 2.5 */
    {0x8000000000000400ull, 0x3fff},              /* 1 + 2^-53: rounds per PC */
    {0x8000008000000000ull, 0x3fff},              /* 1 + 2^-24: rounds per PC */
};

static uint32_t random_f32(Gen *g)
{
    uint32_t exp = 127 + gen_below(g, 80) - 40;
    return (gen_rand(g) & 0x807fffffu) | exp << 23;
}

static uint64_t random_f64(Gen *g)
{
    uint64_t exp = 1023 + gen_below(g, 160) - 80;
    uint64_t sig = ((uint64_t)gen_rand(g) << 32 | gen_rand(g)) & 0x800fffffffffffffull;
    return sig | exp << 52;
}

static void put(Gen *g, uint32_t off, const void *p, size_t n)
{
    memcpy(&g->t->data[ORACLE_FPCONST + off], p, n);
}

/* Packed BCD: 18 valid digits and a sign byte (invalid digits are undefined). */
static void put_bcd(Gen *g, uint32_t off)
{
    uint8_t b[10] = {0};
    int digits = (int)gen_below(g, 19);
    for (int i = 0; i < digits; i++) {
        uint8_t d = (uint8_t)gen_below(g, 10);
        b[i / 2] |= (uint8_t)(i & 1 ? d << 4 : d);
    }
    b[9] = gen_chance(g, 30) ? 0x80 : 0;
    put(g, off, b, 10);
}

static void put_ints(Gen *g)
{
    static const int64_t edges[] = {0, 1, -1, 32767, -32768, 2147483647, -2147483647 - 1,
                                    INT64_MAX, INT64_MIN, 65536, 123456789};
    for (uint32_t i = 0; i < 32; i++) {
        int64_t v = gen_chance(g, 40) ? edges[gen_below(g, 11)]
                                      : (int64_t)((uint64_t)gen_rand(g) << 32 | gen_rand(g)) >>
                                            gen_below(g, 60);
        int16_t v16 = (int16_t)v;
        int32_t v32 = (int32_t)v;
        put(g, FPC_I16 + 2 * i, &v16, 2);
        put(g, FPC_I32 + 4 * i, &v32, 4);
        put(g, FPC_I64 + 8 * i, &v, 8);
    }
}

void gen_fp_constants(Gen *g)
{
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t f = gen_chance(g, 50) ? special_f32[gen_below(g, sizeof(special_f32) / 4)]
                                       : random_f32(g);
        uint64_t d = gen_chance(g, 50) ? special_f64[gen_below(g, sizeof(special_f64) / 8)]
                                       : random_f64(g);
        put(g, FPC_F32 + 4 * i, &f, 4);
        put(g, FPC_F64 + 8 * i, &d, 8);
        uint64_t sig;
        uint16_t se;
        if (gen_chance(g, 40)) {
            int k = (int)gen_below(g, sizeof(special_f80) / sizeof(special_f80[0]));
            sig = special_f80[k].sig;
            se = special_f80[k].se;
        } else {
            sig = ((uint64_t)gen_rand(g) << 32 | gen_rand(g)) | 1ull << 63;
            se = (uint16_t)((gen_rand(g) & 0x8000) | (0x3fff + gen_below(g, 200) - 100));
        }
        if (gen_chance(g, 20)) {
            se ^= 0x8000;
        }
        put(g, FPC_F80 + 10 * i, &sig, 8);
        put(g, FPC_F80 + 10 * i + 8, &se, 2);
    }
    put_ints(g);
    for (uint32_t i = 0; i < 16; i++) {
        put_bcd(g, FPC_BCD + 10 * i);
        /* Exceptions masked, bit 6 as FNINIT leaves it; RC any, PC 24/53/64 bits. */
        static const uint16_t pcs[3] = {0x000, 0x200, 0x300};
        uint16_t cw = (uint16_t)(0x007f | pcs[gen_below(g, 3)] | gen_below(g, 4) << 10);
        put(g, FPC_CW + 2 * i, &cw, 2);
    }
}

/* ---- instructions ---- */

static void fp_mem(Gen *g, uint8_t esc, int sub, uint32_t linear, uint16_t def, uint16_t undef)
{
    Rm rm = {.mem = true};
    gen_mem_at(g, &rm.m, linear, 0);
    gen_begin(g, false);
    gen_modrm(g, false, 0, 0, &esc, 1, sub, &rm, 0, 0);
    gen_end_fpu(g, def, undef);
}

static void fp_reg(Gen *g, uint8_t esc, uint8_t modrm, uint16_t def, uint16_t undef)
{
    gen_begin(g, false);
    gen_byte(g, esc);
    gen_byte(g, modrm);
    gen_end_fpu(g, def, undef);
}

static uint32_t fpconst(uint32_t off)
{
    return ORACLE_DATA_BASE + ORACLE_FPCONST + off;
}

/* FLD m32/m64/m80, FILD m16/m32/m64, FBLD, FLD ST(i), FLDZ..FLDLN2. */
static void x87_load(Gen *g)
{
    uint32_t i = gen_below(g, 64), j = gen_below(g, 32);
    switch (gen_below(g, 9)) {
    case 0: fp_mem(g, 0xd9, 0, fpconst(FPC_F32 + 4 * i), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 1: fp_mem(g, 0xdd, 0, fpconst(FPC_F64 + 8 * i), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 2: fp_mem(g, 0xdb, 5, fpconst(FPC_F80 + 10 * i), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 3: fp_mem(g, 0xdf, 0, fpconst(FPC_I16 + 2 * j), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 4: fp_mem(g, 0xdb, 0, fpconst(FPC_I32 + 4 * j), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 5: fp_mem(g, 0xdf, 5, fpconst(FPC_I64 + 8 * j), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 6: fp_mem(g, 0xdf, 4, fpconst(FPC_BCD + 10 * (j & 15)), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 7: fp_reg(g, 0xd9, (uint8_t)(0xc0 + gen_below(g, 8)), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    default: {
        static const uint8_t consts[7] = {0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee};
        fp_reg(g, 0xd9, consts[gen_below(g, 7)], CC_ARITH_DEF, CC_ARITH_UNDEF);
        break;
    }
    }
}

/* FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR: register and memory forms. */
static void x87_arith(Gen *g)
{
    int op = (int)gen_below(g, 8), i = (int)gen_below(g, 8);
    bool cmp = op == 2 || op == 3;
    uint16_t def = cmp ? FSW_CC : CC_ARITH_DEF, undef = cmp ? 0 : CC_ARITH_UNDEF;
    switch (gen_below(g, 6)) {
    case 0: /* D8: ST(0) op= ST(i) */
        fp_reg(g, 0xd8, (uint8_t)(0xc0 + 8 * op + i), def, undef);
        break;
    case 1: /* DC: ST(i) op= ST(0); DE: and pop (FCOM2/FCOMP3 aliases skipped) */
    case 2:
        if (cmp) {
            fp_reg(g, 0xde, 0xd9, FSW_CC, 0); /* FCOMPP */
        } else {
            fp_reg(g, gen_chance(g, 50) ? 0xdc : 0xde, (uint8_t)(0xc0 + 8 * op + i), def, undef);
        }
        break;
    case 3:
        fp_mem(g, 0xd8, op, fpconst(FPC_F32 + 4 * gen_below(g, 64)), def, undef);
        break;
    case 4:
        fp_mem(g, 0xdc, op, fpconst(FPC_F64 + 8 * gen_below(g, 64)), def, undef);
        break;
    default:
        if (gen_chance(g, 50)) {
            fp_mem(g, 0xda, op, fpconst(FPC_I32 + 4 * gen_below(g, 32)), def, undef);
        } else {
            fp_mem(g, 0xde, op, fpconst(FPC_I16 + 2 * gen_below(g, 32)), def, undef);
        }
        break;
    }
}

/* One-operand and stack housekeeping operations (D9 E0-FF, FXCH, FFREE, FNCLEX). */
static void x87_misc(Gen *g)
{
    int i = (int)gen_below(g, 8);
    switch (gen_below(g, 14)) {
    case 0: fp_reg(g, 0xd9, 0xe0, FSW_C1, CC_ARITH_UNDEF); break; /* FCHS */
    case 1: fp_reg(g, 0xd9, 0xe1, FSW_C1, CC_ARITH_UNDEF); break; /* FABS */
    case 2: fp_reg(g, 0xd9, 0xe4, FSW_CC, 0); break;              /* FTST */
    case 3: fp_reg(g, 0xd9, 0xe5, FSW_CC, 0); break;              /* FXAM */
    case 4: fp_reg(g, 0xd9, 0xfa, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FSQRT */
    case 5: fp_reg(g, 0xd9, 0xfc, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FRNDINT */
    case 6: fp_reg(g, 0xd9, 0xfd, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FSCALE */
    case 7: fp_reg(g, 0xd9, 0xf4, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FXTRACT */
    case 8:
        /* FPREM, FPREM1.  With a NaN or invalid operand there is no quotient
         * and the host leaves C0, C1, C3 as they were: make them defined
         * first, so the interpreter must leave them alone too. */
        gen_need_fsw(g, FSW_CC);
        fp_reg(g, 0xd9, gen_chance(g, 50) ? 0xf8 : 0xf5, FSW_CC, 0);
        break;
    case 9: fp_reg(g, 0xd9, (uint8_t)(0xc8 + i), FSW_C1, CC_ARITH_UNDEF); break; /* FXCH */
    case 10: fp_reg(g, 0xdd, (uint8_t)(0xc0 + i), 0, FSW_CC); break; /* FFREE */
    case 11: fp_reg(g, 0xd9, gen_chance(g, 50) ? 0xf7 : 0xf6, FSW_C1, CC_ARITH_UNDEF); break;
    case 12: fp_reg(g, 0xdb, 0xe2, 0, FSW_CC); break; /* FNCLEX */
    default: fp_reg(g, 0xd9, 0xd0, 0, FSW_CC); break; /* FNOP */
    }
}

/* FST/FSTP to registers and memory, FIST/FISTP, SSE3's FISTTP, FBSTP. */
static void x87_store(Gen *g)
{
    uint32_t target = gen_target(g, REGION_FPSTORE, 10);
    int i = (int)gen_below(g, 8);
    if (gen_chance(g, 10)) {
        static const uint8_t fisttp_esc[3] = {0xdf, 0xdb, 0xdd}; /* m16, m32, m64 */
        fp_mem(g, fisttp_esc[gen_below(g, 3)], 1, target, CC_ARITH_DEF, CC_ARITH_UNDEF);
        return;
    }
    switch (gen_below(g, 8)) {
    case 0: fp_reg(g, 0xdd, (uint8_t)((gen_chance(g, 50) ? 0xd0 : 0xd8) + i), CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 1: fp_mem(g, 0xd9, 2 + (int)gen_below(g, 2), target, CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 2: fp_mem(g, 0xdd, 2 + (int)gen_below(g, 2), target, CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 3: fp_mem(g, 0xdb, 7, target, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FSTP m80 */
    case 4: fp_mem(g, 0xdf, 2 + (int)gen_below(g, 2), target, CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 5: fp_mem(g, 0xdb, 2 + (int)gen_below(g, 2), target, CC_ARITH_DEF, CC_ARITH_UNDEF); break;
    case 6: fp_mem(g, 0xdf, 7, target, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FISTP m64 */
    default: fp_mem(g, 0xdf, 6, target, CC_ARITH_DEF, CC_ARITH_UNDEF); break; /* FBSTP */
    }
}

/* FUCOM*, FCOMI*, FUCOMI*, FCMOVcc: the P6 additions that touch EFLAGS. */
static void x87_compare(Gen *g)
{
    int i = (int)gen_below(g, 8);
    switch (gen_below(g, 4)) {
    case 0: {
        static const uint8_t ucom[3][2] = {{0xdd, 0xe0}, {0xdd, 0xe8}, {0xda, 0xe9}};
        int k = (int)gen_below(g, 3);
        fp_reg(g, ucom[k][0], (uint8_t)(ucom[k][1] + (k < 2 ? i : 0)), FSW_CC, 0);
        break;
    }
    case 1:
    case 2: {
        /* DB F0 FCOMI, DF F0 FCOMIP, DB E8 FUCOMI, DF E8 FUCOMIP */
        uint8_t esc = gen_chance(g, 50) ? 0xdb : 0xdf;
        uint8_t base = gen_chance(g, 50) ? 0xf0 : 0xe8;
        gen_begin(g, false);
        gen_byte(g, esc);
        gen_byte(g, (uint8_t)(base + i));
        /* The SDM says C1 is cleared; the host leaves it unchanged, and
         * what a P6 does is not known here: C1 is not judged. */
        gen_end(g, F_ALL, 0);
        g->fpoison |= FSW_C1;
        break;
    }
    default: {
        /* FCMOVB/E/BE/U (DA C0/C8/D0/D8), FCMOVNB/NE/NBE/NU (DB ...) */
        int kind = (int)gen_below(g, 4);
        static const uint32_t reads[4] = {F_CF, F_ZF, F_CF | F_ZF, F_PF};
        gen_need_flags(g, reads[kind]);
        /* C1 changes only on stack underflow: make it defined first, so
         * "left alone" can be checked. */
        gen_need_fsw(g, FSW_C1);
        fp_reg(g, gen_chance(g, 50) ? 0xda : 0xdb, (uint8_t)(0xc0 + 8 * kind + i), FSW_C1,
               CC_ARITH_UNDEF);
        break;
    }
    }
}

/* FLDCW, FNSTCW, FNSTSW AX/m16, FNINIT. */
static void x87_control(Gen *g)
{
    switch (gen_below(g, 5)) {
    case 0:
        fp_mem(g, 0xd9, 5, fpconst(FPC_CW + 2 * gen_below(g, 16)), 0, FSW_CC);
        break;
    case 1:
        fp_mem(g, 0xd9, 7, gen_target(g, REGION_FPSTORE, 2), 0, FSW_CC);
        break;
    case 2:
        gen_need_fsw(g, FSW_CC);
        fp_reg(g, 0xdf, 0xe0, 0, FSW_CC); /* FNSTSW AX */
        break;
    case 3:
        gen_need_fsw(g, FSW_CC);
        fp_mem(g, 0xdd, 7, gen_target(g, REGION_FPSTORE, 2), 0, FSW_CC);
        break;
    default:
        fp_reg(g, 0xdb, 0xe3, FSW_CC, 0); /* FNINIT */
        break;
    }
}

void gen_x87(Gen *g)
{
    uint32_t k = gen_below(g, 20);
    if (k < 5 || (g->fdepth < 2 && gen_chance(g, 70))) {
        x87_load(g);
        g->fdepth++;
    } else if (k < 10) {
        x87_arith(g);
    } else if (k < 13) {
        x87_misc(g);
    } else if (k < 16) {
        x87_store(g);
    } else if (k < 18) {
        x87_compare(g);
    } else {
        x87_control(g);
    }
}
