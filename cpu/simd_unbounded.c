/*
 * The precision flag beside an unmasked underflow or overflow.
 *
 * With underflow (overflow) unmasked, an SSE instruction whose result is
 * tiny (too large) raises #XM and stores nothing; PE is then set when the
 * result rounded with an unbounded exponent is inexact (SDM Vol.1 4.9.1.4,
 * 4.9.1.5, 11.5.2; observed: (1 + 2^-23)^2 * 2^-140 sets UE and PE,
 * 1.5^2 * 2^-150 only UE, though its denormal is inexact; 2 * FLT_MAX only
 * OE).  The host runs every operation masked, which rounds tiny results to
 * denormals and huge ones to infinity or the largest finite value, and so
 * reports PE for that rounding.  For multiply, divide, double-to-single
 * conversion, add and subtract, the horizontal and alternating forms
 * included (a square root can do neither), each lane is run again as the
 * scalar
 * host instruction: as it is, for the lanes that do not underflow
 * (overflow), and with its operands scaled by powers of two for the lanes
 * that do, which keeps the exactness of the result and brings it into
 * range.
 */
#include <stddef.h>

#include "cpu/simd.h"

/* A nonzero finite value's significand in [1, 2), sign kept: the exponent
 * field set to the bias, a denormal normalized first. */
static uint64_t norm_bits(uint64_t v, int frac_bits, int exp_bits)
{
    uint64_t frac_mask = (1ull << frac_bits) - 1;
    uint64_t exp_mask = ((1ull << exp_bits) - 1) << frac_bits;
    uint64_t sign = v & (1ull << (frac_bits + exp_bits));
    uint64_t frac = v & frac_mask;
    if ((v & exp_mask) == 0) {
        if (frac == 0) {
            return v;
        }
        while (!(frac >> frac_bits)) {
            frac <<= 1;
        }
        frac &= frac_mask;
    } else if ((v & exp_mask) == exp_mask) {
        return v; /* infinity or NaN: no underflow comes from it */
    }
    uint64_t bias = (1ull << (exp_bits - 1)) - 1;
    return sign | bias << frac_bits | frac;
}

/* A finite value divided by 4, exactly unless it is tiny (then left). */
static uint64_t quarter_bits(uint64_t v, int frac_bits, int exp_bits)
{
    uint64_t exp_mask = ((1ull << exp_bits) - 1) << frac_bits;
    uint64_t e = (v & exp_mask) >> frac_bits;
    if (e <= 2 || (v & exp_mask) == exp_mask) {
        return v;
    }
    return v - (2ull << frac_bits);
}

/* How a lane is scaled so its result can neither underflow nor overflow:
 * each operand's significand alone for a product, quotient or conversion
 * (their exactness depends on nothing else), both operands by the same
 * factor for a sum. */
enum { SCALE_NONE, SCALE_NORM, SCALE_QUARTER };

static uint64_t scale(uint64_t v, bool dbl, int how)
{
    int frac = dbl ? 52 : 23, exp = dbl ? 11 : 8;
    if (how == SCALE_NORM) {
        return norm_bits(v, frac, exp);
    }
    return how == SCALE_QUARTER ? quarter_bits(v, frac, exp) : v;
}

/* Which source elements make result lane i (SDM Vol.2 HADDPS, ADDSUBPS). */
enum { LANE_SAME, LANE_HORIZONTAL };

/* Element idx of the concatenation d:s (d first) of lanes-wide registers. */
static uint64_t element(const SimdIO *in, bool dbl, int idx, int lanes)
{
    const SimdReg *r = idx < lanes ? &in->d : &in->s;
    idx %= lanes;
    return dbl ? r->q[idx] : r->d[idx];
}

/* Run result lane i as the scalar operation; returns the MXCSR flags. */
static uint32_t lane_flags(SimdFn scalar, const SimdIO *in, bool dbl, int lane, int lanes, int map,
                           int how, uint32_t guest)
{
    SimdIO io = {0};
    io.mxcsr = (guest & ~(MXCSR_FLAGS | MXCSR_FTZ)) | MXCSR_MASKS;
    uint64_t a, b;
    if (map == LANE_HORIZONTAL) {
        a = element(in, dbl, 2 * lane, lanes); /* d0+d1, d2+d3, then s0+s1, s2+s3 */
        b = element(in, dbl, 2 * lane + 1, lanes);
    } else {
        a = element(in, dbl, lane, lanes);
        b = element(in, dbl, lanes + lane, lanes);
    }
    if (dbl) {
        io.d.q[0] = scale(a, true, how);
        io.s.q[0] = scale(b, true, how);
    } else {
        io.d.d[0] = (uint32_t)scale(a, false, how);
        io.s.d[0] = (uint32_t)scale(b, false, how);
    }
    scalar(&io);
    return io.mxcsr & MXCSR_FLAGS;
}

typedef struct UnboundedOp {
    uint16_t op, scalar_op; /* the operation and its scalar form (of the odd lanes, for ADDSUB) */
    uint16_t even_op;       /* ADDSUBPS/PD: the scalar form of the even lanes; else 0 */
    uint8_t lanes;          /* lanes of the packed form (1: scalar) */
    bool dbl;               /* the sources are doubles */
    uint8_t how;            /* SCALE_NORM or SCALE_QUARTER */
    uint8_t map;            /* LANE_* */
} UnboundedOp;

static const UnboundedOp unbounded_ops[] = {
    {OP_MULPS, OP_MULSS, 0, 4, false, SCALE_NORM, LANE_SAME},
    {OP_MULSS, OP_MULSS, 0, 1, false, SCALE_NORM, LANE_SAME},
    {OP_MULPD, OP_MULSD, 0, 2, true, SCALE_NORM, LANE_SAME},
    {OP_MULSD, OP_MULSD, 0, 1, true, SCALE_NORM, LANE_SAME},
    {OP_DIVPS, OP_DIVSS, 0, 4, false, SCALE_NORM, LANE_SAME},
    {OP_DIVSS, OP_DIVSS, 0, 1, false, SCALE_NORM, LANE_SAME},
    {OP_DIVPD, OP_DIVSD, 0, 2, true, SCALE_NORM, LANE_SAME},
    {OP_DIVSD, OP_DIVSD, 0, 1, true, SCALE_NORM, LANE_SAME},
    {OP_CVTPD2PS, OP_CVTSD2SS, 0, 2, true, SCALE_NORM, LANE_SAME},
    {OP_CVTSD2SS, OP_CVTSD2SS, 0, 1, true, SCALE_NORM, LANE_SAME},
    {OP_ADDPS, OP_ADDSS, 0, 4, false, SCALE_QUARTER, LANE_SAME},
    {OP_ADDSS, OP_ADDSS, 0, 1, false, SCALE_QUARTER, LANE_SAME},
    {OP_ADDPD, OP_ADDSD, 0, 2, true, SCALE_QUARTER, LANE_SAME},
    {OP_ADDSD, OP_ADDSD, 0, 1, true, SCALE_QUARTER, LANE_SAME},
    {OP_SUBPS, OP_SUBSS, 0, 4, false, SCALE_QUARTER, LANE_SAME},
    {OP_SUBSS, OP_SUBSS, 0, 1, false, SCALE_QUARTER, LANE_SAME},
    {OP_SUBPD, OP_SUBSD, 0, 2, true, SCALE_QUARTER, LANE_SAME},
    {OP_SUBSD, OP_SUBSD, 0, 1, true, SCALE_QUARTER, LANE_SAME},
    {OP_HADDPS, OP_ADDSS, 0, 4, false, SCALE_QUARTER, LANE_HORIZONTAL},
    {OP_HADDPD, OP_ADDSD, 0, 2, true, SCALE_QUARTER, LANE_HORIZONTAL},
    {OP_HSUBPS, OP_SUBSS, 0, 4, false, SCALE_QUARTER, LANE_HORIZONTAL},
    {OP_HSUBPD, OP_SUBSD, 0, 2, true, SCALE_QUARTER, LANE_HORIZONTAL},
    {OP_ADDSUBPS, OP_ADDSS, OP_SUBSS, 4, false, SCALE_QUARTER, LANE_SAME},
    {OP_ADDSUBPD, OP_ADDSD, OP_SUBSD, 2, true, SCALE_QUARTER, LANE_SAME},
};

uint32_t simd_unbounded_pe(unsigned op, const SimdIO *in, uint32_t guest, uint32_t raised,
                           uint32_t flag)
{
    const UnboundedOp *u = NULL;
    for (size_t i = 0; i < sizeof(unbounded_ops) / sizeof(unbounded_ops[0]); i++) {
        if (unbounded_ops[i].op == op) {
            u = &unbounded_ops[i];
        }
    }
    if (!u) {
        return raised;
    }
    uint32_t pe = 0;
    for (int lane = 0; lane < u->lanes; lane++) {
        unsigned sop = u->even_op && !(lane & 1) ? u->even_op : u->scalar_op;
        SimdFn scalar = simd_descs[sop - OP_SIMD_FIRST].fn;
        uint32_t f = lane_flags(scalar, in, u->dbl, lane, u->lanes, u->map, SCALE_NONE, guest);
        if (f & flag) {
            f = lane_flags(scalar, in, u->dbl, lane, u->lanes, u->map, u->how, guest);
        }
        pe |= f & MXCSR_PE;
    }
    return (raised & ~MXCSR_PE) | pe;
}
