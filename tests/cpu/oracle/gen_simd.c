/*
 * MMX, SSE, SSE2, SSE3 and SSSE3 instructions: every one of them, in
 * register and memory forms, on XMM registers that start with random
 * contents biased to the floating-point edges (zeros, denormals,
 * infinities, quiet and signalling NaNs, the integer-conversion limits),
 * under a random MXCSR (rounding, DAZ, FTZ, sticky flags; in some tests
 * unmasked exceptions, which end the run with #XM on both sides, since the
 * runners catch SIGFPE).  MMX registers are loaded from the constant area
 * first (MOVQ setups), because the x87 registers keep whatever the last
 * test left.
 *
 * 16-byte operands of the forms that require it are 16-byte aligned, save
 * a few misaligned on purpose (#GP(0)).  LDMXCSR sometimes loads a reserved
 * bit (#GP(0)).
 *
 * Every instruction here means the same in 64-bit mode without REX (its
 * 32-bit register operands are zero-extended there, and read back as their
 * low halves), so mode64 tests draw from the whole list.
 */
#include <string.h>

#include "tests/cpu/oracle/gen_internal.h"

enum { K_X = 1, K_M, K_G, K_EXT };          /* operand kinds: XMM, MMX, GPR, /digit */
enum { RM_BOTH, RM_MEM, RM_REG };           /* which ModRM r/m forms exist */
#define SG_STORE 0x01 /* r/m is the destination */
#define SG_ALIGN 0x02 /* a 16-byte memory operand must be aligned */
#define SG_IMM   0x04 /* imm8 follows */
#define SG_FLAGS 0x08 /* writes ZF PF CF, clears OF SF AF (COMISS) */
#define SG_PRED  0x10 /* the imm8 is a compare predicate 0-7 */
#define SG_MASKMOV 0x20 /* stores through DS:[EDI] */

typedef struct SimdGenOp {
    uint8_t pfx;   /* mandatory prefix: 0, 66, F3, F2 */
    uint8_t map;   /* 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t opc;
    uint8_t regk;  /* what ModRM.reg names (K_EXT: the digit in ext) */
    uint8_t rmk;   /* what ModRM.r/m names in register form */
    uint8_t mode;  /* RM_* */
    uint8_t size;  /* memory operand bytes */
    uint8_t flags; /* SG_* */
    uint8_t ext;
} SimdGenOp;

#define E(pfx, opc, regk, rmk, mode, size, flags) {pfx, 1, opc, regk, rmk, mode, size, flags, 0}
/* The MMX form (no prefix) and the XMM form (66) of an integer operation. */
#define P2(opc) E(0, opc, K_M, K_M, RM_BOTH, 8, 0), E(0x66, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN)
#define P2M(map, opc, fl)                                                                          \
    {0, map, opc, K_M, K_M, RM_BOTH, 8, fl, 0}, {0x66, map, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN | (fl), 0}
/* Packed single and double (aligned), scalar single and double. */
#define FP4(opc)                                                                                   \
    E(0, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0x66, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN),     \
        E(0xf3, opc, K_X, K_X, RM_BOTH, 4, 0), E(0xf2, opc, K_X, K_X, RM_BOTH, 8, 0)
#define FP2(opc) E(0, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0x66, opc, K_X, K_X, RM_BOTH, 16, SG_ALIGN)
#define SHIFT_IB(opc, ext)                                                                         \
    {0, 1, opc, K_EXT, K_M, RM_REG, 0, SG_IMM, ext}, {0x66, 1, opc, K_EXT, K_X, RM_REG, 0, SG_IMM, ext}

static const SimdGenOp simd_ops[] = {
    /* moves */
    E(0, 0x10, K_X, K_X, RM_BOTH, 16, 0), E(0x66, 0x10, K_X, K_X, RM_BOTH, 16, 0),
    E(0xf3, 0x10, K_X, K_X, RM_BOTH, 4, 0), E(0xf2, 0x10, K_X, K_X, RM_BOTH, 8, 0),
    E(0, 0x11, K_X, K_X, RM_BOTH, 16, SG_STORE), E(0x66, 0x11, K_X, K_X, RM_BOTH, 16, SG_STORE),
    E(0xf3, 0x11, K_X, K_X, RM_BOTH, 4, SG_STORE), E(0xf2, 0x11, K_X, K_X, RM_BOTH, 8, SG_STORE),
    E(0, 0x12, K_X, K_X, RM_BOTH, 8, 0), E(0x66, 0x12, K_X, K_X, RM_MEM, 8, 0),
    E(0xf3, 0x12, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf2, 0x12, K_X, K_X, RM_BOTH, 8, 0),
    E(0, 0x13, K_X, K_X, RM_MEM, 8, SG_STORE), E(0x66, 0x13, K_X, K_X, RM_MEM, 8, SG_STORE),
    FP2(0x14), FP2(0x15),
    E(0, 0x16, K_X, K_X, RM_BOTH, 8, 0), E(0x66, 0x16, K_X, K_X, RM_MEM, 8, 0),
    E(0xf3, 0x16, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0, 0x17, K_X, K_X, RM_MEM, 8, SG_STORE), E(0x66, 0x17, K_X, K_X, RM_MEM, 8, SG_STORE),
    FP2(0x28),
    E(0, 0x29, K_X, K_X, RM_BOTH, 16, SG_STORE | SG_ALIGN),
    E(0x66, 0x29, K_X, K_X, RM_BOTH, 16, SG_STORE | SG_ALIGN),
    E(0, 0x2b, K_X, K_X, RM_MEM, 16, SG_STORE | SG_ALIGN),
    E(0x66, 0x2b, K_X, K_X, RM_MEM, 16, SG_STORE | SG_ALIGN),
    E(0x66, 0xd6, K_X, K_X, RM_BOTH, 8, SG_STORE), E(0xf3, 0xd6, K_X, K_M, RM_REG, 0, 0),
    E(0xf2, 0xd6, K_M, K_X, RM_REG, 0, 0),
    E(0, 0x6e, K_M, K_G, RM_BOTH, 4, 0), E(0x66, 0x6e, K_X, K_G, RM_BOTH, 4, 0),
    E(0, 0x7e, K_M, K_G, RM_BOTH, 4, SG_STORE), E(0x66, 0x7e, K_X, K_G, RM_BOTH, 4, SG_STORE),
    E(0xf3, 0x7e, K_X, K_X, RM_BOTH, 8, 0),
    E(0, 0x6f, K_M, K_M, RM_BOTH, 8, 0), E(0x66, 0x6f, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0xf3, 0x6f, K_X, K_X, RM_BOTH, 16, 0),
    E(0, 0x7f, K_M, K_M, RM_BOTH, 8, SG_STORE),
    E(0x66, 0x7f, K_X, K_X, RM_BOTH, 16, SG_STORE | SG_ALIGN),
    E(0xf3, 0x7f, K_X, K_X, RM_BOTH, 16, SG_STORE),
    E(0, 0xe7, K_M, K_M, RM_MEM, 8, SG_STORE), E(0x66, 0xe7, K_X, K_X, RM_MEM, 16, SG_STORE | SG_ALIGN),
    E(0, 0xc3, K_G, K_G, RM_MEM, 4, SG_STORE), E(0xf2, 0xf0, K_X, K_X, RM_MEM, 16, 0),
    E(0, 0x50, K_G, K_X, RM_REG, 0, 0), E(0x66, 0x50, K_G, K_X, RM_REG, 0, 0),
    E(0, 0xd7, K_G, K_M, RM_REG, 0, 0), E(0x66, 0xd7, K_G, K_X, RM_REG, 0, 0),
    E(0, 0xf7, K_M, K_M, RM_REG, 0, SG_MASKMOV), E(0x66, 0xf7, K_X, K_X, RM_REG, 0, SG_MASKMOV),
    E(0, 0x77, 0, 0, RM_REG, 0, 0), /* EMMS */
    /* shuffles and inserts */
    E(0, 0x70, K_M, K_M, RM_BOTH, 8, SG_IMM), E(0x66, 0x70, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_ALIGN),
    E(0xf3, 0x70, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_ALIGN),
    E(0xf2, 0x70, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_ALIGN),
    E(0, 0xc6, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_ALIGN),
    E(0x66, 0xc6, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_ALIGN),
    E(0, 0xc4, K_M, K_G, RM_BOTH, 2, SG_IMM), E(0x66, 0xc4, K_X, K_G, RM_BOTH, 2, SG_IMM),
    E(0, 0xc5, K_G, K_M, RM_REG, 0, SG_IMM), E(0x66, 0xc5, K_G, K_X, RM_REG, 0, SG_IMM),
    P2M(3, 0x0f, SG_IMM),
    SHIFT_IB(0x71, 2), SHIFT_IB(0x71, 4), SHIFT_IB(0x71, 6),
    SHIFT_IB(0x72, 2), SHIFT_IB(0x72, 4), SHIFT_IB(0x72, 6),
    SHIFT_IB(0x73, 2), SHIFT_IB(0x73, 6),
    {0x66, 1, 0x73, K_EXT, K_X, RM_REG, 0, SG_IMM, 3}, {0x66, 1, 0x73, K_EXT, K_X, RM_REG, 0, SG_IMM, 7},
    /* floating point */
    FP4(0x51), FP4(0x58), FP4(0x59), FP4(0x5c), FP4(0x5d), FP4(0x5e), FP4(0x5f),
    E(0, 0x52, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf3, 0x52, K_X, K_X, RM_BOTH, 4, 0),
    E(0, 0x53, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf3, 0x53, K_X, K_X, RM_BOTH, 4, 0),
    FP2(0x54), FP2(0x55), FP2(0x56), FP2(0x57),
    E(0x66, 0x7c, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf2, 0x7c, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0x66, 0x7d, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf2, 0x7d, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0x66, 0xd0, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf2, 0xd0, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0, 0xc2, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_PRED | SG_ALIGN),
    E(0x66, 0xc2, K_X, K_X, RM_BOTH, 16, SG_IMM | SG_PRED | SG_ALIGN),
    E(0xf3, 0xc2, K_X, K_X, RM_BOTH, 4, SG_IMM | SG_PRED),
    E(0xf2, 0xc2, K_X, K_X, RM_BOTH, 8, SG_IMM | SG_PRED),
    E(0, 0x2e, K_X, K_X, RM_BOTH, 4, SG_FLAGS), E(0x66, 0x2e, K_X, K_X, RM_BOTH, 8, SG_FLAGS),
    E(0, 0x2f, K_X, K_X, RM_BOTH, 4, SG_FLAGS), E(0x66, 0x2f, K_X, K_X, RM_BOTH, 8, SG_FLAGS),
    /* conversions */
    E(0, 0x2a, K_X, K_M, RM_BOTH, 8, 0), E(0x66, 0x2a, K_X, K_M, RM_BOTH, 8, 0),
    E(0xf3, 0x2a, K_X, K_G, RM_BOTH, 4, 0), E(0xf2, 0x2a, K_X, K_G, RM_BOTH, 4, 0),
    E(0, 0x2c, K_M, K_X, RM_BOTH, 8, 0), E(0x66, 0x2c, K_M, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0xf3, 0x2c, K_G, K_X, RM_BOTH, 4, 0), E(0xf2, 0x2c, K_G, K_X, RM_BOTH, 8, 0),
    E(0, 0x2d, K_M, K_X, RM_BOTH, 8, 0), E(0x66, 0x2d, K_M, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0xf3, 0x2d, K_G, K_X, RM_BOTH, 4, 0), E(0xf2, 0x2d, K_G, K_X, RM_BOTH, 8, 0),
    E(0, 0x5a, K_X, K_X, RM_BOTH, 8, 0), E(0x66, 0x5a, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0xf3, 0x5a, K_X, K_X, RM_BOTH, 4, 0), E(0xf2, 0x5a, K_X, K_X, RM_BOTH, 8, 0),
    E(0, 0x5b, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0x66, 0x5b, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0xf3, 0x5b, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0x66, 0xe6, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0xf3, 0xe6, K_X, K_X, RM_BOTH, 8, 0),
    E(0xf2, 0xe6, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    /* integer */
    E(0, 0x60, K_M, K_M, RM_BOTH, 4, 0), E(0x66, 0x60, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0, 0x61, K_M, K_M, RM_BOTH, 4, 0), E(0x66, 0x61, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    E(0, 0x62, K_M, K_M, RM_BOTH, 4, 0), E(0x66, 0x62, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    P2(0x63), P2(0x64), P2(0x65), P2(0x66), P2(0x67), P2(0x68), P2(0x69), P2(0x6a), P2(0x6b),
    E(0x66, 0x6c, K_X, K_X, RM_BOTH, 16, SG_ALIGN), E(0x66, 0x6d, K_X, K_X, RM_BOTH, 16, SG_ALIGN),
    P2(0x74), P2(0x75), P2(0x76),
    P2(0xd1), P2(0xd2), P2(0xd3), P2(0xd4), P2(0xd5), P2(0xd8), P2(0xd9), P2(0xda), P2(0xdb),
    P2(0xdc), P2(0xdd), P2(0xde), P2(0xdf), P2(0xe0), P2(0xe1), P2(0xe2), P2(0xe3), P2(0xe4),
    P2(0xe5), P2(0xe8), P2(0xe9), P2(0xea), P2(0xeb), P2(0xec), P2(0xed), P2(0xee), P2(0xef),
    P2(0xf1), P2(0xf2), P2(0xf3), P2(0xf4), P2(0xf5), P2(0xf6), P2(0xf8), P2(0xf9), P2(0xfa),
    P2(0xfb), P2(0xfc), P2(0xfd), P2(0xfe),
    /* SSSE3 */
    P2M(2, 0x00, 0), P2M(2, 0x01, 0), P2M(2, 0x02, 0), P2M(2, 0x03, 0), P2M(2, 0x04, 0),
    P2M(2, 0x05, 0), P2M(2, 0x06, 0), P2M(2, 0x07, 0), P2M(2, 0x08, 0), P2M(2, 0x09, 0),
    P2M(2, 0x0a, 0), P2M(2, 0x0b, 0), P2M(2, 0x1c, 0), P2M(2, 0x1d, 0), P2M(2, 0x1e, 0),
};
#define N_SIMD_OPS (sizeof(simd_ops) / sizeof(simd_ops[0]))

/* ---- values ---- */

static const uint32_t edge_f32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x7f800000, 0xff800000,
    0x7fc00000, 0xffc00000, 0x7fa00000, 0xff812345, 0x00000001, 0x807fffff, 0x00800000,
    0x80800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x4effffff, 0x3f000000,
};
static const uint64_t edge_f64[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
    0xfff0000000000001ull, 0x0000000000000001ull, 0x800fffffffffffffull, 0x0010000000000000ull,
    0x7fefffffffffffffull, 0x41dfffffffc00000ull, 0xc1e0000000000000ull, 0xc1e0000000200000ull,
    0x41e0000000000000ull, 0x3fe0000000000000ull, 0x3810000000000000ull, 0x47efffffe0000000ull,
};

static uint32_t rand_f32(Gen *g)
{
    if (gen_chance(g, 40)) {
        return edge_f32[gen_below(g, sizeof(edge_f32) / sizeof(edge_f32[0]))];
    }
    uint32_t exp = gen_chance(g, 20) ? gen_below(g, 256) : 127 + gen_below(g, 60) - 30;
    return (gen_rand(g) & 0x807fffffu) | exp << 23;
}

static uint64_t rand_f64(Gen *g)
{
    if (gen_chance(g, 40)) {
        return edge_f64[gen_below(g, sizeof(edge_f64) / sizeof(edge_f64[0]))];
    }
    uint64_t exp = gen_chance(g, 20) ? gen_below(g, 2048) : 1023 + gen_below(g, 120) - 60;
    uint64_t sig = ((uint64_t)gen_rand(g) << 32 | gen_rand(g)) & 0x800fffffffffffffull;
    return sig | exp << 52;
}

/* Sixteen bytes of one kind: single or double lanes, integer edges, noise. */
static void rand_vec(Gen *g, uint8_t v[16])
{
    switch (gen_below(g, 4)) {
    case 0:
        for (int i = 0; i < 4; i++) {
            uint32_t x = rand_f32(g);
            memcpy(v + 4 * i, &x, 4);
        }
        break;
    case 1:
        for (int i = 0; i < 2; i++) {
            uint64_t x = rand_f64(g);
            memcpy(v + 8 * i, &x, 8);
        }
        break;
    case 2:
        for (int i = 0; i < 4; i++) {
            uint32_t x = gen_value(g, 1 << gen_below(g, 3));
            x = gen_chance(g, 50) ? x : (x & 0xffff) | (gen_value(g, 2) << 16);
            memcpy(v + 4 * i, &x, 4);
        }
        break;
    default:
        for (int i = 0; i < 4; i++) {
            uint32_t x = gen_rand(g);
            memcpy(v + 4 * i, &x, 4);
        }
        break;
    }
}

void gen_simd_state(Gen *g)
{
    OracleTest *t = g->t;
    for (int r = 0; r < 8; r++) {
        rand_vec(g, t->simd.xmm[r]);
    }
    for (uint32_t off = ORACLE_SIMDCONST; off < ORACLE_SIMDSTORE; off += 16) {
        rand_vec(g, &t->data[off]);
    }
    uint32_t mxcsr = 0x1f80 | gen_below(g, 4) << 13;
    if (gen_chance(g, 25)) {
        mxcsr |= 0x0040; /* DAZ */
    }
    if (gen_chance(g, 25)) {
        mxcsr |= 0x8000; /* FTZ */
    }
    if (gen_chance(g, 30)) {
        mxcsr |= gen_below(g, 64); /* sticky flags */
    }
    if (gen_chance(g, 15)) {
        mxcsr &= ~(gen_rand(g) & 0x1f80u); /* unmasked: #XM on both sides */
    }
    t->simd.mxcsr = mxcsr;
    g->mmx_ready = false;
}

/* MOVQ mm0-mm7 from the constant area, so every x87 register is defined. */
static void load_mmx(Gen *g)
{
    for (int r = 0; r < 8; r++) {
        gen_begin(g, true);
        gen_addr_slot(g);
        gen_byte(g, 0x0f);
        gen_byte(g, 0x6f);
        gen_abs_modrm(g, r, ORACLE_DATA_BASE + ORACLE_SIMDCONST + 8 * gen_below(g, 0x1f0));
        gen_end(g, 0, 0);
    }
    g->mmx_ready = true;
}

/* An address for a size-byte operand: aligned to 16 where the form needs
 * it, save a few misaligned on purpose. */
static uint32_t simd_target(Gen *g, bool store, int size, bool align)
{
    uint32_t lo = store || gen_chance(g, 10) ? ORACLE_SIMDSTORE : ORACLE_SIMDCONST;
    uint32_t off = gen_below(g, 0x1000 - 32);
    if (align) {
        off &= ~15u;
        if (gen_chance(g, 4)) {
            off += 4 << gen_below(g, 2); /* #GP(0) */
        }
    } else if (gen_chance(g, 60)) {
        off &= ~(uint32_t)(size >= 8 ? 7 : size - 1);
    }
    return ORACLE_DATA_BASE + lo + off;
}

static void emit_mxcsr_op(Gen *g)
{
    Rm rm = {.mem = true};
    bool load = gen_chance(g, 50);
    uint32_t linear = simd_target(g, !load, 4, false);
    if (load) {
        uint32_t v = 0x1f80 | gen_below(g, 4) << 13 | (gen_chance(g, 20) ? 0x8040 : 0);
        if (gen_chance(g, 10)) {
            v &= ~(gen_rand(g) & 0x1f80u);
        }
        if (gen_chance(g, 5)) {
            /* reserved: #GP(0); not bit 17, which is AMD's MM mask on hosts
             * with misaligned SSE mode */
            v |= gen_chance(g, 20) ? 1u << 16 : 1u << (18 + gen_below(g, 14));
        }
        gen_set_mem(g, linear, v, 4);
    }
    gen_mem_at(g, &rm.m, linear, 0);
    gen_begin(g, false);
    static const uint8_t op[2] = {0x0f, 0xae};
    gen_modrm(g, false, 0, 0, op, 2, load ? 2 : 3, &rm, 0, 0);
    gen_end(g, 0, 0);
}

void gen_simd(Gen *g)
{
    if (gen_chance(g, 4)) {
        emit_mxcsr_op(g);
        return;
    }
    const SimdGenOp *op = &simd_ops[gen_below(g, N_SIMD_OPS)];
    if (!g->mmx_ready && (op->regk == K_M || op->rmk == K_M)) {
        load_mmx(g);
    }
    Rm rm = {0};
    int reg = 0;
    rm.mem = op->mode == RM_MEM || (op->mode == RM_BOTH && gen_chance(g, 45));
    bool store = op->flags & SG_STORE;
    /* The GPR destinations: never ESP (the generator tracks it). */
    if (op->regk == K_G) {
        reg = store ? gen_any_reg(g, 0) : gen_dst_reg(g, 4, 0);
    } else if (op->regk == K_EXT) {
        reg = op->ext;
    } else {
        reg = (int)gen_below(g, 8);
    }
    if (rm.mem) {
        gen_mem_at(g, &rm.m, simd_target(g, store, op->size, op->flags & SG_ALIGN), 0);
    } else if (op->rmk == K_G) {
        rm.reg = store ? gen_dst_reg(g, 4, 0) : gen_any_reg(g, 0);
    } else {
        rm.reg = (int)gen_below(g, 8);
    }
    if (op->flags & SG_MASKMOV) {
        gen_set_reg(g, G_EDI, ORACLE_DATA_BASE + ORACLE_SIMDSTORE + gen_below(g, 0x1000 - 16));
        rm.m.seg_prefix = g->mode64 ? ORACLE_SLOT_PREFIX : 0;
    }
    uint32_t imm = 0;
    if (op->flags & SG_PRED) {
        imm = gen_below(g, 8);
    } else if (op->flags & SG_IMM) {
        imm = gen_chance(g, 50) ? gen_below(g, 34) : gen_rand(g) & 0xff;
    }
    uint8_t bytes[3] = {0x0f, op->opc, 0};
    int n = 2;
    if (op->map != 1) {
        bytes[1] = op->map == 2 ? 0x38 : 0x3a;
        bytes[2] = op->opc;
        n = 3;
    }
    gen_begin(g, false);
    if (op->flags & SG_MASKMOV) {
        gen_addr_slot(g);
    }
    if (op->opc == 0x77 && op->map == 1) {
        gen_byte(g, 0x0f);
        gen_byte(g, 0x77);
    } else {
        gen_modrm(g, op->pfx == 0x66, 0, op->pfx == 0x66 ? 0 : op->pfx, bytes, n, reg, &rm, imm,
                  (op->flags & SG_IMM) ? 1 : 0);
    }
    gen_end(g, (op->flags & SG_FLAGS) ? F_ALL : 0, 0);
}
