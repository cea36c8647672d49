/*
 * Lazy arithmetic flags (SDM Vol.1 3.4.3.1 and Appendix A, "EFLAGS Cross-
 * Reference").
 *
 * An ALU instruction stores its result and operands in cc_res/cc_src1/
 * cc_src2/cc_aux and names what it did in cc_op; most of the time the next
 * instruction overwrites them without anyone looking.  When the flags are
 * needed, they are derived here:
 *
 *   ZF, SF, PF  always from the result (PF: even parity of its low byte);
 *   CF, OF, AF  from the operands, per operation.
 *
 * Every CC_OP_* group comes in byte, word, dword and qword variants in that
 * order, so (cc_op - 1) / 4 names the operation and (cc_op - 1) % 4 the
 * size.  Operands are held in 64 bits and may carry bits above the
 * operation size; everything is masked to the size here, so handlers need
 * not mask what they store.
 *
 * flags_condition() is on the path of every Jcc, SETcc and CMOVcc, so the
 * common cases (Z, S, and the unsigned and signed comparisons after CMP/SUB)
 * are answered from the lazy operands without building all six flags.
 */
#include "cpu/cpu.h"

/* The operation groups of enum CCOp, in enum order. */
enum CCKind {
    CCK_ADD,
    CCK_ADC,
    CCK_SUB,
    CCK_SBB,
    CCK_LOGIC,
    CCK_INC,
    CCK_DEC,
    CCK_SHL,
    CCK_SHR,
    CCK_SAR,
    CCK_MUL,
};

/* cc_kind() and cc_size() rely on the enum CCOp layout: groups of four from 1. */
_Static_assert(CC_OP_SUBB == 1 + 4 * CCK_SUB && CC_OP_LOGICB == 1 + 4 * CCK_LOGIC &&
                   CC_OP_MULQ == 1 + 4 * CCK_MUL + 3 && CC_OP_COUNT == CC_OP_MULQ + 1,
               "enum CCOp must list B, W, L, Q groups in CCKind order");

/* Value mask, sign bit and width in bits of each size index (byte, word, dword, qword). */
static const uint64_t cc_size_mask[4] = {0xffu, 0xffffu, 0xffffffffu, UINT64_MAX};
static const uint64_t cc_size_sign[4] = {0x80u, 0x8000u, 0x80000000u, UINT64_C(1) << 63};
static const uint32_t cc_size_bits[4] = {8, 16, 32, 64};

static inline unsigned cc_kind(uint32_t op)
{
    return (op - 1) >> 2;
}

static inline unsigned cc_size(uint32_t op)
{
    return (op - 1) & 3;
}

/* Sign-extend value from the width of size index sz to 64 bits. */
static inline int64_t cc_sext(uint64_t value, unsigned sz)
{
    unsigned shift = 64 - cc_size_bits[sz];
    return (int64_t)(value << shift) >> shift;
}

/* PF: set when the low byte of the result has an even number of ones. */
static inline uint32_t parity_flag(uint64_t res)
{
    return __builtin_parity((uint32_t)res & 0xffu) ? 0 : EFLAGS_PF;
}

/* ZF, SF, PF of a result already masked to its size. */
static inline uint32_t szp_flags(uint64_t res, uint64_t sign)
{
    uint32_t f = parity_flag(res);
    if (res == 0) {
        f |= EFLAGS_ZF;
    }
    if (res & sign) {
        f |= EFLAGS_SF;
    }
    return f;
}

/*
 * CF of a shift left by n (1..63; 8- and 16-bit shifts take counts up to
 * 31): the last bit shifted out, bit (width - n) of the operand.  A count
 * past the width shifts out only the zeros that came in, so CF is 0 then
 * (SDM Vol.2 SAL/SAR/SHL/SHR: the pseudo-code moves one bit at a time).
 */
static inline bool shl_carry(uint64_t a, uint64_t n, unsigned sz)
{
    unsigned bits = cc_size_bits[sz];
    n &= 63;
    return n <= bits && n != 0 && ((a >> (bits - n)) & 1);
}

/* CF of a logical right shift by n (1..63) of a zero-extended operand. */
static inline bool shr_carry(uint64_t a, uint64_t n)
{
    return (a >> ((n - 1) & 63)) & 1;
}

/* CF of an arithmetic right shift: the sign fills in, so big counts give the sign. */
static inline bool sar_carry(int64_t a, uint64_t n)
{
    return (a >> ((n - 1) & 63)) & 1;
}

/* CF for the lazy operation op (not CC_OP_EFLAGS). */
static bool lazy_carry(const CPUState *cpu, uint32_t op)
{
    unsigned sz = cc_size(op);
    uint64_t mask = cc_size_mask[sz];
    uint64_t res = cpu->cc_res & mask;
    uint64_t a = cpu->cc_src1 & mask;
    uint64_t b = cpu->cc_src2 & mask;

    switch (cc_kind(op)) {
    case CCK_ADD: return res < a;
    case CCK_ADC: return cpu->cc_aux ? res <= a : res < a;
    case CCK_SUB: return a < b;
    case CCK_SBB: return cpu->cc_aux ? a <= b : a < b;
    case CCK_LOGIC: return false;
    case CCK_INC:
    case CCK_DEC:
    case CCK_MUL: return cpu->cc_aux != 0;
    case CCK_SHL: return shl_carry(a, cpu->cc_src2, sz);
    case CCK_SHR: return shr_carry(a, cpu->cc_src2);
    case CCK_SAR: return sar_carry(cc_sext(a, sz), cpu->cc_src2);
    default: return false;
    }
}

bool flags_carry(const CPUState *cpu)
{
    uint32_t op = cpu->cc_op;
    if (op == CC_OP_EFLAGS) {
        return cpu->eflags & EFLAGS_CF;
    }
    return lazy_carry(cpu, op);
}

/*
 * The full set, with one dispatch on the operation.  OF for additions: both
 * operands have one sign and the result the other; for subtractions: the
 * operands differ in sign and the result's sign differs from the minuend's.
 * AF is the carry or borrow out of bit 3, which is bit 4 of a ^ b ^ res for
 * adds and subtracts alike (INC and DEC are adds and subtracts of 1).
 */
uint32_t flags_compute(const CPUState *cpu)
{
    uint32_t op = cpu->cc_op;
    if (op == CC_OP_EFLAGS) {
        return cpu->eflags & EFLAGS_ARITH;
    }
    unsigned sz = cc_size(op);
    uint64_t mask = cc_size_mask[sz], sign = cc_size_sign[sz];
    uint64_t res = cpu->cc_res & mask;
    uint64_t a = cpu->cc_src1 & mask;
    uint64_t b = cpu->cc_src2 & mask;
    uint64_t af = 0;
    bool cf = false, of = false;

    switch (cc_kind(op)) {
    case CCK_ADD:
        cf = res < a;
        of = (~(a ^ b) & (a ^ res)) & sign;
        af = a ^ b ^ res;
        break;
    case CCK_ADC:
        cf = cpu->cc_aux ? res <= a : res < a;
        of = (~(a ^ b) & (a ^ res)) & sign;
        af = a ^ b ^ res;
        break;
    case CCK_SUB:
        cf = a < b;
        of = ((a ^ b) & (a ^ res)) & sign;
        af = a ^ b ^ res;
        break;
    case CCK_SBB:
        cf = cpu->cc_aux ? a <= b : a < b;
        of = ((a ^ b) & (a ^ res)) & sign;
        af = a ^ b ^ res;
        break;
    case CCK_LOGIC:
        /* CF = OF = 0; AF is undefined and the P6 clears it. */
        break;
    case CCK_INC:
        cf = cpu->cc_aux;
        of = res == sign; /* 7f + 1 */
        af = (res - 1) ^ res;
        break;
    case CCK_DEC:
        cf = cpu->cc_aux;
        of = res == sign - 1; /* 80 - 1 */
        af = (res + 1) ^ res;
        break;
    case CCK_SHL:
        /* OF = MSB(result) XOR CF: the SDM's count-1 rule, which the P6
         * family applies to every count.  AF is undefined: 0. */
        cf = shl_carry(a, cpu->cc_src2, sz);
        of = ((res & sign) != 0) != cf;
        break;
    case CCK_SHR:
        /* Count 1: OF = MSB of the original operand (SDM Vol.2 SHR);
         * written as a sign change so SHRD shares it (SDM Vol.2 SHRD:
         * "OF is set if a sign change occurred"). */
        cf = shr_carry(a, cpu->cc_src2);
        of = (a ^ res) & sign;
        break;
    case CCK_SAR:
        /* OF = 0 for SAR (the sign never changes). */
        cf = sar_carry(cc_sext(a, sz), cpu->cc_src2);
        break;
    case CCK_MUL:
        /* CF = OF = whether the high half is significant; SF, ZF, PF
         * follow the low half and AF is 0 (undefined in the SDM). */
        cf = of = cpu->cc_aux;
        break;
    default: break;
    }
    return szp_flags(res, sign) | (af & EFLAGS_AF) | (cf ? EFLAGS_CF : 0) | (of ? EFLAGS_OF : 0);
}

/* Jcc condition from materialised EFLAGS (SDM Vol.1 Appendix B). */
static bool eflags_condition(uint32_t f, int cc)
{
    bool cf = f & EFLAGS_CF, zf = f & EFLAGS_ZF, sf = f & EFLAGS_SF, of = f & EFLAGS_OF;
    switch (cc >> 1) {
    case 0: return of;                /* O */
    case 1: return cf;                /* B, C, NAE */
    case 2: return zf;                /* E, Z */
    case 3: return cf || zf;          /* BE, NA */
    case 4: return sf;                /* S */
    case 5: return f & EFLAGS_PF;     /* P, PE */
    case 6: return sf != of;          /* L, NGE */
    default: return zf || (sf != of); /* LE, NG */
    }
}

/* Bit 63 of a value shifted left by this is the sign bit of each size. */
static const uint8_t cc_size_shift[4] = {56, 48, 32, 0};

/*
 * After SUB/CMP (also NEG, CMPXCHG, CMPS, SCAS) the orders come straight
 * from the operands: B is a < b, BE is a <= b, L and LE the same on signed
 * values.  Shifted so their sign is bit 63, the operands compare like the
 * sized values with no masking or sign extension.  Returns -1 for the
 * conditions left to the caller.
 */
static int sub_condition(const CPUState *cpu, uint32_t op, int cc)
{
    unsigned shift = cc_size_shift[cc_size(op)];
    uint64_t a = cpu->cc_src1 << shift, b = cpu->cc_src2 << shift;
    switch (cc >> 1) {
    case 3: return a <= b;
    case 6: return (int64_t)a < (int64_t)b;
    case 7: return (int64_t)a <= (int64_t)b;
    default: return -1;
    }
}

/* After AND/OR/XOR/TEST, CF = OF = 0: O is false, BE is ZF, L is SF, LE is
 * ZF or SF.  Returns -1 for P. */
static int logic_condition(uint64_t res, uint64_t sign, int cc)
{
    switch (cc >> 1) {
    case 0: return 0;
    case 3: return res == 0;
    case 6: return (res & sign) != 0;
    case 7: return res == 0 || (res & sign) != 0;
    default: return -1;
    }
}

/*
 * Z, S and B first: ZF and SF of every lazy operation come from its result
 * and CF has its own short path; then the orders after SUB and LOGIC; the
 * rest from the full flags.
 */
bool flags_condition(const CPUState *cpu, int cc)
{
    uint32_t op = cpu->cc_op;
    bool invert = cc & 1;
    if (op == CC_OP_EFLAGS) {
        return eflags_condition(cpu->eflags, cc) != invert;
    }
    unsigned sz = cc_size(op);
    uint64_t res = cpu->cc_res & cc_size_mask[sz];
    int r = -1;
    switch (cc >> 1) {
    case 1: return lazy_carry(cpu, op) != invert;
    case 2: return (res == 0) != invert;
    case 4: return ((res & cc_size_sign[sz]) != 0) != invert;
    default: break;
    }
    if (cc_kind(op) == CCK_SUB) {
        r = sub_condition(cpu, op, cc);
    } else if (cc_kind(op) == CCK_LOGIC) {
        r = logic_condition(res, cc_size_sign[sz], cc);
    }
    if (r < 0) {
        r = eflags_condition(flags_compute(cpu), cc);
    }
    return (r != 0) != invert;
}
