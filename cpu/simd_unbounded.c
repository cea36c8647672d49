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
 * conversion, add and subtract (a square root can do neither; the
 * horizontal forms are left as they are), each lane is run again as the
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

/* Run one lane as the scalar operation (sources of width dbl); returns
 * the MXCSR flags. */
static uint32_t lane_flags(SimdFn scalar, const SimdIO *in, bool dbl, int lane, int how,
                           uint32_t guest)
{
    SimdIO io = {0};
    io.mxcsr = (guest & ~(MXCSR_FLAGS | MXCSR_FTZ)) | MXCSR_MASKS;
    if (dbl) {
        io.d.q[0] = scale(in->d.q[lane], true, how);
        io.s.q[0] = scale(in->s.q[lane], true, how);
    } else {
        io.d.d[0] = (uint32_t)scale(in->d.d[lane], false, how);
        io.s.d[0] = (uint32_t)scale(in->s.d[lane], false, how);
    }
    scalar(&io);
    return io.mxcsr & MXCSR_FLAGS;
}

typedef struct UnboundedOp {
    uint16_t op, scalar_op; /* the operation and its scalar form */
    uint8_t lanes;          /* lanes of the packed form (1: scalar) */
    bool dbl;               /* the sources are doubles */
    uint8_t how;            /* SCALE_NORM or SCALE_QUARTER */
} UnboundedOp;

static const UnboundedOp unbounded_ops[] = {
    {OP_MULPS, OP_MULSS, 4, false, SCALE_NORM},
    {OP_MULSS, OP_MULSS, 1, false, SCALE_NORM},
    {OP_MULPD, OP_MULSD, 2, true, SCALE_NORM},
    {OP_MULSD, OP_MULSD, 1, true, SCALE_NORM},
    {OP_DIVPS, OP_DIVSS, 4, false, SCALE_NORM},
    {OP_DIVSS, OP_DIVSS, 1, false, SCALE_NORM},
    {OP_DIVPD, OP_DIVSD, 2, true, SCALE_NORM},
    {OP_DIVSD, OP_DIVSD, 1, true, SCALE_NORM},
    {OP_CVTPD2PS, OP_CVTSD2SS, 2, true, SCALE_NORM},
    {OP_CVTSD2SS, OP_CVTSD2SS, 1, true, SCALE_NORM},
    {OP_ADDPS, OP_ADDSS, 4, false, SCALE_QUARTER},
    {OP_ADDSS, OP_ADDSS, 1, false, SCALE_QUARTER},
    {OP_ADDPD, OP_ADDSD, 2, true, SCALE_QUARTER},
    {OP_ADDSD, OP_ADDSD, 1, true, SCALE_QUARTER},
    {OP_SUBPS, OP_SUBSS, 4, false, SCALE_QUARTER},
    {OP_SUBSS, OP_SUBSS, 1, false, SCALE_QUARTER},
    {OP_SUBPD, OP_SUBSD, 2, true, SCALE_QUARTER},
    {OP_SUBSD, OP_SUBSD, 1, true, SCALE_QUARTER},
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
    SimdFn scalar = simd_descs[u->scalar_op - OP_SIMD_FIRST].fn;
    uint32_t pe = 0;
    for (int lane = 0; lane < u->lanes; lane++) {
        uint32_t f = lane_flags(scalar, in, u->dbl, lane, SCALE_NONE, guest);
        if (f & flag) {
            f = lane_flags(scalar, in, u->dbl, lane, u->how, guest);
        }
        pe |= f & MXCSR_PE;
    }
    return (raised & ~MXCSR_PE) | pe;
}
