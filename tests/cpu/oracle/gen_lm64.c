/*
 * Long-mode tests (--long): sequences of 64-bit-mode integer instructions
 * for the 64-bit native runner, run by the interpreter in 64-bit mode
 * (oracle_interp.c) and compared on all sixteen 64-bit registers.
 *
 * Unlike the mode64 tests of the other classes, these are 64-bit code:
 * REX prefixes (REX.W operand size, R8-R15, SPL..DIL), 64-bit immediates,
 * RIP-relative operands, [base + index * scale + disp] with 64-bit
 * registers (sums that wrap past 2^64), 67h 32-bit addressing (sums that
 * wrap past 2^32, upper register halves ignored), 32-bit writes that
 * zero-extend, 128-bit MUL/DIV, 6-bit shift counts, string instructions
 * on RSI/RDI/RCX, PUSH/POP at 64 bits, forward Jcc/JMP/LOOPcc/JRCXZ and
 * CALL/RET, and SSE with REX (XMM8-15, MOVQ r64, 64-bit conversions).  Memory operands land in the data
 * window's integer region (the stack region for PUSH/POP), as in the other
 * classes.  Undefined flags are tracked with the shared poison mask
 * (gen_internal.h).
 */
#include <string.h>

#include "tests/cpu/oracle/gen_internal.h"

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI };

typedef struct LGen {
    Gen *g;
    uint64_t rsp; /* tracked RSP (PUSH/POP only change it) */
} LGen;

static uint64_t rand64(Gen *g)
{
    return (uint64_t)gen_rand(g) << 32 | gen_rand(g);
}

static const uint64_t edge64[] = {
    0,
    1,
    UINT64_MAX,
    UINT64_C(0x7fffffffffffffff),
    UINT64_C(0x8000000000000000),
    UINT64_C(0x00000000ffffffff),
    UINT64_C(0x0000000100000000),
    UINT64_C(0x0000000080000000),
    UINT64_C(0xffffffff80000000),
    UINT64_C(0xffffffff00000000),
    UINT64_C(0x8000000000000001),
    UINT64_C(0x5555555555555555),
    UINT64_C(0xfffffffffffffffe),
    UINT64_C(0x00000000000000ff),
    UINT64_C(0x000000000000ff80),
};

/* A 64-bit value biased to the edges of 8, 16, 32 and 64 bits. */
static uint64_t value64(Gen *g)
{
    switch (gen_below(g, 6)) {
    case 0:
    case 1: return edge64[gen_below(g, sizeof(edge64) / sizeof(edge64[0]))];
    case 2: return gen_value(g, 4); /* zero-extended 32-bit edges */
    case 3: return (uint64_t)(int64_t)(int32_t)gen_value(g, 4);
    case 4: return gen_below(g, 130);
    default: return rand64(g);
    }
}

/* Any register but RSP. */
static int any_reg(Gen *g)
{
    int r = (int)gen_below(g, 15);
    return r >= R_RSP ? r + 1 : r;
}

static int pick_size(Gen *g)
{
    static const int sizes[] = {8, 8, 8, 4, 4, 2, 1};
    return sizes[gen_below(g, sizeof(sizes) / sizeof(sizes[0]))];
}

/* MOV r64, imm64 (REX.W B8+r): a setup. */
static void set_reg64(Gen *g, int reg, uint64_t v)
{
    gen_begin(g, true);
    gen_byte(g, (uint8_t)(0x48 | (reg >> 3)));
    gen_byte(g, (uint8_t)(0xb8 + (reg & 7)));
    gen_u32(g, (uint32_t)v);
    gen_u32(g, (uint32_t)(v >> 32));
    gen_end(g, 0, 0);
}

/* An r/m operand. */
typedef struct LRm {
    bool mem;
    int reg;         /* register operand */
    int kind;        /* memory: 0 RIP-relative, 1 SIB base+index*scale+disp32, 2 67h base+disp8 */
    int base, index; /* -1: none */
    int scale;
    int32_t disp;
    uint64_t target;
} LRm;

/* A memory operand at target, with base/index setups emitted now. */
static void mem_at(Gen *g, LRm *m, uint64_t target, uint32_t avoid)
{
    m->mem = true;
    m->target = target;
    m->base = m->index = -1;
    m->scale = 0;
    m->disp = 0;
    m->kind = (int)gen_below(g, 3);
    if (m->kind == 0) {
        return; /* RIP-relative: disp patched once the length is known */
    }
    do {
        m->base = any_reg(g);
    } while (avoid & (1u << m->base));
    if (m->kind == 2) {
        /* 32-bit addressing: the upper halves are ignored and the sum wraps at 2^32 */
        m->disp = (int8_t)gen_below(g, 256);
        uint64_t junk = (uint64_t)gen_rand(g) << 32;
        set_reg64(g, m->base, junk | (uint32_t)((uint32_t)target - (uint32_t)m->disp));
        return;
    }
    do {
        m->index = any_reg(g);
    } while ((avoid & (1u << m->index)) || m->index == m->base);
    m->scale = (int)gen_below(g, 4);
    m->disp = (int32_t)gen_rand(g) >> (gen_below(g, 3) * 8 + 8);
    uint64_t index_value = gen_chance(g, 50) ? gen_below(g, 64) : value64(g);
    uint64_t base_value = target - (index_value << m->scale) - (uint64_t)(int64_t)m->disp;
    set_reg64(g, m->index, index_value);
    set_reg64(g, m->base, base_value);
}

/* A memory operand somewhere in the integer region, for size bytes. */
static void mem_int(Gen *g, LRm *m, int size, uint32_t avoid)
{
    uint64_t target = ORACLE_DATA_BASE + ORACLE_INT_LO + 64 + gen_below(g, 0x7000);
    if (gen_chance(g, 70)) {
        target &= ~(uint64_t)(size - 1);
    }
    mem_at(g, m, target, avoid);
}

static void rm_pick(Gen *g, LRm *m, int size, uint32_t avoid, int mem_percent)
{
    if (gen_chance(g, (uint32_t)mem_percent)) {
        mem_int(g, m, size, avoid);
    } else {
        m->mem = false;
        do {
            m->reg = any_reg(g);
        } while (avoid & (1u << m->reg));
    }
}

/*
 * Emit one instruction: [66] [67] [REX] op... ModRM [SIB] [disp] [imm].
 * rex_w: REX.W; force_rex: a REX even with no bit set (byte registers
 * 4-7 are SPL..DIL then).  reg: the ModRM reg field (register number or
 * /digit).
 */
static void emit(Gen *g, bool opsize16, bool rex_w, bool force_rex, const uint8_t *op, int oplen,
                 int reg, const LRm *rm, uint64_t imm, int imm_len)
{
    if (opsize16) {
        gen_byte(g, 0x66);
    }
    if (rm->mem && rm->kind == 2) {
        gen_byte(g, 0x67);
    }
    uint8_t rex = (uint8_t)(0x40 | (rex_w ? 8 : 0) | ((reg & 8) ? 4 : 0));
    uint8_t modrm, sib = 0;
    bool has_sib = false;
    int disp_len = 0;
    if (!rm->mem) {
        rex |= (rm->reg & 8) ? 1 : 0;
        modrm = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm->reg & 7));
    } else if (rm->kind == 0) {
        modrm = (uint8_t)((reg & 7) << 3 | 5);
        disp_len = 4;
    } else if (rm->kind == 2) {
        rex |= (rm->base & 8) ? 1 : 0;
        modrm = (uint8_t)(0x44 | (reg & 7) << 3); /* mod 01, SIB */
        has_sib = true;
        sib = (uint8_t)(4 << 3 | (rm->base & 7)); /* no index */
        disp_len = 1;
    } else {
        rex |= (rm->base & 8) ? 1 : 0;
        rex |= (rm->index & 8) ? 2 : 0;
        modrm = (uint8_t)(0x84 | (reg & 7) << 3); /* mod 10, SIB */
        has_sib = true;
        sib = (uint8_t)(rm->scale << 6 | (rm->index & 7) << 3 | (rm->base & 7));
        disp_len = 4;
    }
    if (rex != 0x40 || force_rex) {
        gen_byte(g, rex);
    }
    for (int i = 0; i < oplen; i++) {
        gen_byte(g, op[i]);
    }
    gen_byte(g, modrm);
    if (has_sib) {
        gen_byte(g, sib);
    }
    uint32_t disp_at = g->t->code_len;
    if (disp_len == 1) {
        gen_byte(g, (uint8_t)rm->disp);
    } else if (disp_len == 4) {
        gen_u32(g, (uint32_t)rm->disp);
    }
    for (int i = 0; i < imm_len; i++) {
        gen_byte(g, (uint8_t)(imm >> (8 * i)));
    }
    if (rm->mem && rm->kind == 0) {
        uint64_t next = ORACLE_CODE_BASE + g->t->code_len;
        uint32_t d = (uint32_t)(rm->target - next);
        memcpy(&g->t->code[disp_at], &d, 4);
    }
}

/* Immediate of an ALU form at operand size: imm8 (83), or imm16/imm32. */
static int imm_len_of(int size)
{
    return size == 1 ? 1 : size == 2 ? 2 : 4;
}

/* ---- the instructions ---- */

static void lm_alu(LGen *lg)
{
    Gen *g = lg->g;
    int size = pick_size(g);
    int op = (int)gen_below(g, 8); /* ADD OR ADC SBB AND SUB XOR CMP */
    if (op == 2 || op == 3) {
        gen_need_flags(g, F_CF);
    }
    uint32_t undef = (op == 1 || op == 4 || op == 6) ? F_AF : 0;
    LRm rm;
    int form = (int)gen_below(g, 4);
    rm_pick(g, &rm, size, 0, 40);
    gen_begin(g, false);
    bool w = size == 8, b16 = size == 2, force = size == 1 && gen_chance(g, 50);
    if (form == 0 || form == 1) {
        uint8_t opc = (uint8_t)(op * 8 + (form == 0 ? 1 : 3) - (size == 1 ? 1 : 0));
        emit(g, b16, w, force, &opc, 1, any_reg(g), &rm, 0, 0);
    } else if (form == 2) {
        uint8_t opc = 0x83;
        if (size == 1) {
            opc = 0x80;
        }
        emit(g, b16, w, force, &opc, 1, op, &rm, (uint64_t)gen_value(g, 1), 1);
    } else {
        uint8_t opc = size == 1 ? 0x80 : 0x81;
        emit(g, b16, w, force, &opc, 1, op, &rm, gen_value(g, imm_len_of(size)), imm_len_of(size));
    }
    gen_end(g, F_ALL, undef);
}

static void lm_unary(LGen *lg)
{
    Gen *g = lg->g;
    int size = pick_size(g);
    int kind = (int)gen_below(g, 4); /* INC DEC NEG NOT */
    LRm rm;
    rm_pick(g, &rm, size, 0, 30);
    gen_begin(g, false);
    uint8_t opc = kind < 2 ? (size == 1 ? 0xfe : 0xff) : (size == 1 ? 0xf6 : 0xf7);
    int digit = kind < 2 ? kind : kind == 2 ? 3 : 2;
    emit(g, size == 2, size == 8, size == 1, &opc, 1, digit, &rm, 0, 0);
    if (kind < 2) {
        gen_end(g, F_ALL & ~F_CF, 0);
    } else if (kind == 2) {
        gen_end(g, F_ALL, 0);
    } else {
        gen_end(g, 0, 0);
    }
}

static void lm_mov(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    switch (gen_below(g, 7)) {
    case 0: { /* MOV r64, imm64 */
        int r = any_reg(g);
        uint64_t v = value64(g);
        gen_begin(g, false);
        gen_byte(g, (uint8_t)(0x48 | (r >> 3)));
        gen_byte(g, (uint8_t)(0xb8 + (r & 7)));
        gen_u32(g, (uint32_t)v);
        gen_u32(g, (uint32_t)(v >> 32));
        gen_end(g, 0, 0);
        return;
    }
    case 1: { /* MOV r/m, r or r, r/m at any size */
        int size = pick_size(g);
        rm_pick(g, &rm, size, 0, 50);
        gen_begin(g, false);
        uint8_t opc = (uint8_t)((gen_chance(g, 50) ? 0x88 : 0x8a) + (size == 1 ? 0 : 1));
        emit(g, size == 2, size == 8, size == 1 && gen_chance(g, 50), &opc, 1, any_reg(g), &rm, 0,
             0);
        gen_end(g, 0, 0);
        return;
    }
    case 2: { /* MOV r/m64, imm32 sign-extended */
        rm_pick(g, &rm, 8, 0, 50);
        gen_begin(g, false);
        uint8_t opc = 0xc7;
        emit(g, false, true, false, &opc, 1, 0, &rm, gen_value(g, 4), 4);
        gen_end(g, 0, 0);
        return;
    }
    case 3: { /* MOVSXD r64, r/m32 */
        rm_pick(g, &rm, 4, 0, 40);
        gen_begin(g, false);
        uint8_t opc = 0x63;
        emit(g, false, true, false, &opc, 1, any_reg(g), &rm, 0, 0);
        gen_end(g, 0, 0);
        return;
    }
    case 4: { /* MOVZX/MOVSX r64 or r32, r/m8 or r/m16 */
        bool word = gen_chance(g, 50);
        rm_pick(g, &rm, word ? 2 : 1, 0, 40);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)((gen_chance(g, 50) ? 0xb6 : 0xbe) + word)};
        emit(g, false, gen_chance(g, 60), !word && gen_chance(g, 50), opc, 2, any_reg(g), &rm, 0,
             0);
        gen_end(g, 0, 0);
        return;
    }
    case 5: { /* LEA r64/r32, m */
        mem_int(g, &rm, 1, 0);
        gen_begin(g, false);
        uint8_t opc = 0x8d;
        emit(g, false, gen_chance(g, 70), false, &opc, 1, any_reg(g), &rm, 0, 0);
        gen_end(g, 0, 0);
        return;
    }
    default: { /* XCHG r/m, r */
        int size = pick_size(g);
        rm_pick(g, &rm, size, 0, 40);
        gen_begin(g, false);
        uint8_t opc = size == 1 ? 0x86 : 0x87;
        emit(g, size == 2, size == 8, size == 1, &opc, 1, any_reg(g), &rm, 0, 0);
        gen_end(g, 0, 0);
        return;
    }
    }
}

/* Shifts and rotates at size 8 or 4, by 1, imm8 or CL (6-bit count with REX.W). */
static void lm_shift(LGen *lg)
{
    Gen *g = lg->g;
    int size = gen_chance(g, 70) ? 8 : 4;
    int digit = (int)gen_below(g, 7);
    if (digit == 6) {
        digit = 7; /* /6 is the undocumented SAL alias */
    }
    int form = (int)gen_below(g, 3);
    unsigned count = form == 0 ? 1 : gen_below(g, 80);
    if (form == 2) {
        set_reg64(g, R_RCX, (value64(g) & ~UINT64_C(0xff)) | count);
    }
    if (digit == 2 || digit == 3) {
        gen_need_flags(g, F_CF);
    }
    LRm rm;
    rm_pick(g, &rm, size, 1u << R_RCX, 30);
    gen_begin(g, false);
    uint8_t opc = form == 0 ? 0xd1 : form == 1 ? 0xc1 : 0xd3;
    emit(g, false, size == 8, false, &opc, 1, digit, &rm, count, form == 1 ? 1 : 0);
    unsigned masked = count & (size == 8 ? 63 : 31);
    if (masked == 0) {
        gen_end(g, 0, 0);
    } else if (digit < 4) {
        /* rotates: CF and OF (OF undefined past 1) */
        gen_end(g, F_CF | F_OF, masked == 1 ? 0 : F_OF);
    } else {
        gen_end(g, F_ALL, F_AF | (masked == 1 ? 0 : F_OF));
    }
}

static void lm_shxd(LGen *lg)
{
    Gen *g = lg->g;
    bool cl = gen_chance(g, 50);
    unsigned count = gen_below(g, 70);
    if (cl) {
        set_reg64(g, R_RCX, count);
    }
    LRm rm;
    rm_pick(g, &rm, 8, 1u << R_RCX, 30);
    int src;
    do {
        src = any_reg(g);
    } while (src == R_RCX && cl);
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, (uint8_t)((gen_chance(g, 50) ? 0xa4 : 0xac) + cl)};
    emit(g, false, true, false, opc, 2, src, &rm, count, cl ? 0 : 1);
    unsigned masked = count & 63;
    if (masked == 0) {
        gen_end(g, 0, 0);
    } else {
        gen_end(g, F_ALL, F_AF | (masked == 1 ? 0 : F_OF));
    }
}

static void lm_muldiv(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    int size = gen_chance(g, 75) ? 8 : 4;
    int kind = (int)gen_below(g, 6);
    if (kind >= 4) {
        /* DIV/IDIV: RDX small so the quotient mostly fits; a #DE ends the run */
        set_reg64(g, R_RDX, gen_chance(g, 70) ? gen_below(g, 3) : value64(g));
    }
    uint32_t avoid = (1u << R_RAX) | (1u << R_RDX);
    rm_pick(g, &rm, size, avoid, 30);
    if (kind >= 4) {
        uint64_t d = value64(g);
        if (d == 0 && gen_chance(g, 80)) {
            d = 3;
        }
        if (rm.mem) {
            gen_set_mem(g, (uint32_t)rm.target, (uint32_t)d, 4);
            if (size == 8) {
                gen_set_mem(g, (uint32_t)rm.target + 4, (uint32_t)(d >> 32), 4);
            }
        } else {
            set_reg64(g, rm.reg, d);
        }
    }
    gen_begin(g, false);
    if (kind < 4) {
        if (kind == 0 || kind == 1) { /* MUL / IMUL r/m */
            uint8_t opc = 0xf7;
            emit(g, false, size == 8, false, &opc, 1, 4 + kind, &rm, 0, 0);
        } else if (kind == 2) { /* IMUL r, r/m */
            uint8_t opc[2] = {0x0f, 0xaf};
            emit(g, false, size == 8, false, opc, 2, any_reg(g), &rm, 0, 0);
        } else { /* IMUL r, r/m, imm8 or imm32 */
            bool i8 = gen_chance(g, 50);
            uint8_t opc = i8 ? 0x6b : 0x69;
            emit(g, false, size == 8, false, &opc, 1, any_reg(g), &rm, gen_value(g, i8 ? 1 : 4),
                 i8 ? 1 : 4);
        }
        gen_end(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
    } else {
        uint8_t opc = 0xf7;
        emit(g, false, size == 8, false, &opc, 1, kind == 4 ? 6 : 7, &rm, 0, 0);
        gen_end(g, 0, F_ALL);
    }
}

static void lm_bit(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    int size = gen_chance(g, 70) ? 8 : 4;
    int kind = (int)gen_below(g, 3); /* bt-reg, bt-imm, bsf/bsr */
    if (kind == 0) {
        int src = any_reg(g);
        bool mem = gen_chance(g, 50);
        if (mem) {
            /* bit offsets reach a few qwords either way (and the 64-bit sign) */
            int64_t bits = (int64_t)gen_below(g, 1024) - 512;
            set_reg64(g, src, (uint64_t)bits);
            uint64_t target = ORACLE_DATA_BASE + 0x1000 + (gen_below(g, 0x100) * 8);
            mem_at(g, &rm, target, 1u << src);
        } else {
            rm.mem = false;
            rm.reg = any_reg(g);
        }
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0xa3 + 8 * gen_below(g, 4))};
        emit(g, false, size == 8, false, opc, 2, src, &rm, 0, 0);
        gen_end(g, F_CF, F_OF | F_SF | F_AF | F_PF);
    } else if (kind == 1) {
        rm_pick(g, &rm, size, 0, 40);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, 0xba};
        emit(g, false, size == 8, false, opc, 2, 4 + (int)gen_below(g, 4), &rm, gen_below(g, 256),
             1);
        gen_end(g, F_CF, F_OF | F_SF | F_AF | F_PF);
    } else {
        rm_pick(g, &rm, size, 0, 30);
        int dst = any_reg(g);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0xbc + gen_below(g, 2))};
        emit(g, false, size == 8, false, opc, 2, dst, &rm, 0, 0);
        gen_end(g, F_ZF, F_ALL & ~F_ZF);
        set_reg64(g, dst, value64(g)); /* undefined for a zero source */
    }
}

static void lm_cond(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    int cc = (int)gen_below(g, 16);
    gen_need_flags(g, gen_cc_reads(cc));
    if (gen_chance(g, 50)) { /* SETcc r/m8 (with REX: SPL..DIL, R8B..) */
        rm_pick(g, &rm, 1, 0, 30);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x90 + cc)};
        emit(g, false, false, gen_chance(g, 60), opc, 2, 0, &rm, 0, 0);
    } else { /* CMOVcc r, r/m: 32-bit zero-extends even when false */
        int size = gen_chance(g, 50) ? 8 : 4;
        rm_pick(g, &rm, size, 0, 30);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x40 + cc)};
        emit(g, false, size == 8, false, opc, 2, any_reg(g), &rm, 0, 0);
    }
    gen_end(g, 0, 0);
}

static void lm_misc(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    switch (gen_below(g, 6)) {
    case 0: { /* BSWAP r64 / r32 */
        int r = any_reg(g);
        gen_begin(g, false);
        bool w = gen_chance(g, 70);
        if (w || r >= 8) {
            gen_byte(g, (uint8_t)(0x40 | (w ? 8 : 0) | (r >> 3)));
        }
        gen_byte(g, 0x0f);
        gen_byte(g, (uint8_t)(0xc8 + (r & 7)));
        gen_end(g, 0, 0);
        return;
    }
    case 1: { /* CBW/CWDE/CDQE, CWD/CDQ/CQO */
        gen_begin(g, false);
        int s = (int)gen_below(g, 3);
        if (s == 0) {
            gen_byte(g, 0x66);
        } else if (s == 2) {
            gen_byte(g, 0x48);
        }
        gen_byte(g, (uint8_t)(0x98 + gen_below(g, 2)));
        gen_end(g, 0, 0);
        return;
    }
    case 2: { /* XADD r/m, r */
        int size = pick_size(g);
        rm_pick(g, &rm, size, 0, 40);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, size == 1 ? 0xc0 : 0xc1};
        emit(g, size == 2, size == 8, size == 1, opc, 2, any_reg(g), &rm, 0, 0);
        gen_end(g, F_ALL, 0);
        return;
    }
    case 3: { /* CMPXCHG r/m, r */
        int size = pick_size(g);
        rm_pick(g, &rm, size, 1u << R_RAX, 40);
        if (gen_chance(g, 50)) {
            /* make the compare succeed sometimes */
            uint64_t v = value64(g);
            set_reg64(g, R_RAX, v);
            if (rm.mem) {
                gen_set_mem(g, (uint32_t)rm.target, (uint32_t)v, 4);
                gen_set_mem(g, (uint32_t)rm.target + 4, (uint32_t)(v >> 32), 4);
            } else {
                set_reg64(g, rm.reg, v);
            }
        }
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, size == 1 ? 0xb0 : 0xb1};
        emit(g, size == 2, size == 8, size == 1, opc, 2, any_reg(g), &rm, 0, 0);
        gen_end(g, F_ALL, 0);
        return;
    }
    case 4: { /* CMPXCHG16B m128 (aligned) */
        uint64_t target = (ORACLE_DATA_BASE + 0x2000 + gen_below(g, 0x100) * 16);
        uint32_t avoid = (1u << R_RAX) | (1u << R_RDX) | (1u << R_RBX) | (1u << R_RCX);
        mem_at(g, &rm, target, avoid);
        if (gen_chance(g, 50)) {
            /* RDX:RAX equal to the memory operand: the exchange happens */
            uint64_t lo = value64(g), hi = value64(g);
            set_reg64(g, R_RAX, lo);
            set_reg64(g, R_RDX, hi);
            gen_set_mem(g, (uint32_t)target, (uint32_t)lo, 4);
            gen_set_mem(g, (uint32_t)target + 4, (uint32_t)(lo >> 32), 4);
            gen_set_mem(g, (uint32_t)target + 8, (uint32_t)hi, 4);
            gen_set_mem(g, (uint32_t)target + 12, (uint32_t)(hi >> 32), 4);
        }
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, 0xc7};
        emit(g, false, true, false, opc, 2, 1, &rm, 0, 0);
        gen_end(g, F_ZF, 0);
        return;
    }
    default: { /* TEST r/m, r */
        int size = pick_size(g);
        rm_pick(g, &rm, size, 0, 40);
        gen_begin(g, false);
        uint8_t opc = size == 1 ? 0x84 : 0x85;
        emit(g, size == 2, size == 8, size == 1, &opc, 1, any_reg(g), &rm, 0, 0);
        gen_end(g, F_ALL, F_AF);
        return;
    }
    }
}

/* String instructions at every element size, with REP and 64- or 32-bit addresses. */
static void lm_string(LGen *lg)
{
    Gen *g = lg->g;
    static const uint8_t ops[] = {0xa4, 0xaa, 0xac, 0xa6, 0xae}; /* MOVS STOS LODS CMPS SCAS */
    int k = (int)gen_below(g, 5);
    int size = pick_size(g);
    uint32_t n = gen_below(g, 9);
    bool a32 = gen_chance(g, 30);
    uint64_t hi = a32 ? (uint64_t)gen_rand(g) << 32 : 0; /* ignored with 67h */
    set_reg64(g, R_RSI, hi | (ORACLE_DATA_BASE + 0x100 + gen_below(g, 0x1000)));
    set_reg64(g, R_RDI, hi | (ORACLE_DATA_BASE + 0x3000 + gen_below(g, 0x1000)));
    set_reg64(g, R_RCX, hi | n);
    gen_begin(g, false);
    bool compares = k >= 3;
    /* none, F3 or F2; F2 only where it means REPNE */
    int rep = (int)gen_below(g, compares ? 3 : 2);
    if (size == 2) {
        gen_byte(g, 0x66);
    }
    if (a32) {
        gen_byte(g, 0x67);
    }
    if (rep) {
        gen_byte(g, rep == 1 ? 0xf3 : 0xf2);
    }
    if (size == 8) {
        gen_byte(g, 0x48);
    }
    gen_byte(g, (uint8_t)(ops[k] + (size == 1 ? 0 : 1)));
    bool any = !rep || n != 0;
    gen_end(g, compares && any ? F_ALL : 0, 0);
}

/* PUSH/POP r64 and imm, within the stack region. */
static void lm_stack(LGen *lg)
{
    Gen *g = lg->g;
    int r = any_reg(g);
    gen_begin(g, false);
    switch (gen_below(g, 4)) {
    case 0:
    case 1:
        if (r >= 8) {
            gen_byte(g, 0x41);
        }
        gen_byte(g, (uint8_t)(0x50 + (r & 7)));
        lg->rsp -= 8;
        break;
    case 2:
        if (r >= 8) {
            gen_byte(g, 0x41);
        }
        gen_byte(g, (uint8_t)(0x58 + (r & 7)));
        lg->rsp += 8;
        break;
    default:
        gen_byte(g, 0x6a); /* PUSH imm8, sign-extended to 64 */
        gen_byte(g, (uint8_t)gen_rand(g));
        lg->rsp -= 8;
        break;
    }
    gen_end(g, 0, 0);
}

/* SSE with REX: XMM8-XMM15, MOVD/MOVQ between XMM and 64-bit registers,
 * the scalar conversions on 64-bit integers, and a few packed operations. */
static void lm_sse(LGen *lg)
{
    Gen *g = lg->g;
    LRm rm;
    int x = (int)gen_below(g, 16);
    switch (gen_below(g, 5)) {
    case 0: { /* MOVD/MOVQ xmm, r/m32/64 (66 [REX.W] 0F 6E) or r/m, xmm (0F 7E) */
        bool w = gen_chance(g, 60);
        rm_pick(g, &rm, w ? 8 : 4, 0, 30);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(gen_chance(g, 50) ? 0x6e : 0x7e)};
        emit(g, true, w, false, opc, 2, x, &rm, 0, 0);
        break;
    }
    case 1: { /* CVTSI2SS/SD xmm, r/m32/64 */
        bool w = gen_chance(g, 60);
        rm_pick(g, &rm, w ? 8 : 4, 0, 30);
        gen_begin(g, false);
        gen_byte(g, gen_chance(g, 50) ? 0xf2 : 0xf3);
        uint8_t opc[2] = {0x0f, 0x2a};
        emit(g, false, w, false, opc, 2, x, &rm, 0, 0);
        break;
    }
    case 2: { /* CVT(T)SS/SD2SI r32/64, xmm/m */
        bool w = gen_chance(g, 60), sd = gen_chance(g, 50);
        if (gen_chance(g, 30)) {
            mem_at(g, &rm, ORACLE_DATA_BASE + ORACLE_SIMDCONST + gen_below(g, 0x100) * 8, 0);
        } else {
            rm.mem = false;
            rm.reg = (int)gen_below(g, 16);
        }
        gen_begin(g, false);
        gen_byte(g, sd ? 0xf2 : 0xf3);
        uint8_t opc[2] = {0x0f, (uint8_t)(gen_chance(g, 50) ? 0x2c : 0x2d)};
        emit(g, false, w, false, opc, 2, any_reg(g), &rm, 0, 0);
        break;
    }
    case 3: { /* packed integer and double operations, xmm8-15 either side */
        static const uint8_t ops[] = {0xd4, 0xef, 0xfa, 0x6c, 0x58, 0xfb, 0xdb};
        if (gen_chance(g, 30)) {
            mem_at(g, &rm, ORACLE_DATA_BASE + ORACLE_SIMDCONST + gen_below(g, 0x100) * 16, 0);
        } else {
            rm.mem = false;
            rm.reg = (int)gen_below(g, 16);
        }
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, ops[gen_below(g, sizeof(ops))]};
        emit(g, true, false, false, opc, 2, x, &rm, 0, 0);
        break;
    }
    default: { /* MOVDQA xmm, xmm/m128 or MOVDQU m128, xmm */
        bool store = gen_chance(g, 40);
        if (store || gen_chance(g, 40)) {
            uint64_t at = store ? ORACLE_DATA_BASE + ORACLE_SIMDSTORE + gen_below(g, 0xf0) * 16
                                : ORACLE_DATA_BASE + ORACLE_SIMDCONST + gen_below(g, 0x100) * 16;
            mem_at(g, &rm, at, 0);
        } else {
            rm.mem = false;
            rm.reg = (int)gen_below(g, 16);
        }
        gen_begin(g, false);
        if (store) {
            gen_byte(g, 0xf3);
        }
        uint8_t opc[2] = {0x0f, (uint8_t)(store ? 0x7f : 0x6f)};
        emit(g, !store, false, false, opc, 2, x, &rm, 0, 0);
        break;
    }
    }
    gen_end(g, 0, 0);
}

/* A block of MOV r64, imm64 setups that a forward branch may skip: both
 * paths leave the flags and their poison alone, and the registers tell
 * which path ran. */
static void skip_block(Gen *g)
{
    int k = 1 + (int)gen_below(g, 3);
    for (int i = 0; i < k; i++) {
        set_reg64(g, any_reg(g), value64(g));
    }
}

/* Patch the rel8 or rel32 that ends at code offset end to reach the current offset. */
static void patch_rel(Gen *g, uint32_t end, int len)
{
    int32_t rel = (int32_t)(g->t->code_len - end);
    if (len == 1) {
        g->t->code[end - 1] = (uint8_t)rel;
    } else {
        memcpy(&g->t->code[end - 4], &rel, 4);
    }
}

/* Forward near branches: Jcc, JMP, LOOPcc and JRCXZ (RCX, or ECX with 67h),
 * and CALL/RET with 64-bit return addresses. */
static void lm_branch(LGen *lg)
{
    Gen *g = lg->g;
    int kind = (int)gen_below(g, 5);
    if (kind == 0 || kind == 1) { /* Jcc rel8 / rel32, JMP rel8 / rel32 */
        bool jmp = gen_chance(g, 25);
        bool near32 = gen_chance(g, 40);
        int cc = (int)gen_below(g, 16);
        if (!jmp) {
            gen_need_flags(g, gen_cc_reads(cc));
        }
        gen_begin(g, false);
        if (jmp) {
            gen_byte(g, near32 ? 0xe9 : 0xeb);
        } else if (near32) {
            gen_byte(g, 0x0f);
            gen_byte(g, (uint8_t)(0x80 + cc));
        } else {
            gen_byte(g, (uint8_t)(0x70 + cc));
        }
        if (near32) {
            gen_u32(g, 0);
        } else {
            gen_byte(g, 0);
        }
        uint32_t end = g->t->code_len;
        gen_end(g, 0, 0);
        skip_block(g);
        patch_rel(g, end, near32 ? 4 : 1);
    } else if (kind == 2 || kind == 3) { /* LOOP LOOPE LOOPNE JRCXZ, 64- or 32-bit count */
        int op = (int)gen_below(g, 4);   /* E0 E1 E2 E3 */
        bool a32 = gen_chance(g, 30);
        uint64_t count = gen_chance(g, 50) ? gen_below(g, 3) : value64(g);
        set_reg64(g, R_RCX, count);
        if (op < 2) {
            gen_need_flags(g, F_ZF);
        }
        gen_begin(g, false);
        if (a32) {
            gen_byte(g, 0x67);
        }
        gen_byte(g, (uint8_t)(0xe0 + op));
        gen_byte(g, 0);
        uint32_t end = g->t->code_len;
        gen_end(g, 0, 0);
        skip_block(g);
        patch_rel(g, end, 1);
    } else if (lg->rsp > ORACLE_DATA_BASE + ORACLE_STACK_LO + 64) { /* call L; jmp over; L: ret */
        gen_begin(g, false);
        gen_byte(g, 0xe8);
        gen_u32(g, 2);
        gen_end(g, 0, 0);
        gen_begin(g, false);
        gen_byte(g, 0xeb);
        gen_byte(g, 1);
        gen_end(g, 0, 0);
        gen_begin(g, false);
        gen_byte(g, 0xc3);
        gen_end(g, 0, 0);
    }
}

void oracle_generate_long(Gen *g)
{
    OracleTest *t = g->t;
    LGen lg = {g, 0};
    g->cls = OC_MIX;
    t->cls = OC_MIX;
    t->lm64 = true;
    for (int r = 0; r < 16; r++) {
        t->init64[r] = value64(g);
    }
    lg.rsp = ORACLE_DATA_BASE + 0xa000 + gen_below(g, 0x400) * 8;
    t->init64[R_RSP] = lg.rsp;
    for (int r = 0; r < 8; r++) {
        t->init.gpr[r] = (uint32_t)t->init64[r];
    }
    t->init.eip = ORACLE_CODE_BASE;
    t->init.eflags = 0x202 | (gen_rand(g) & F_ALL);
    for (uint32_t i = 0; i < ORACLE_DATA_SIZE; i += 4) {
        uint32_t v = gen_chance(g, 10) ? gen_value(g, 4) : gen_rand(g);
        memcpy(&t->data[i], &v, 4);
    }
    gen_simd_state(g);
    for (int r = 0; r < 8; r++) {
        for (int q = 0; q < 2; q++) {
            uint64_t v = value64(g);
            memcpy(&t->xmm_hi[r][8 * q], &v, 8);
        }
    }
    int n = 2 + (int)gen_below(g, 12);
    for (int i = 0; i < n && gen_room(g); i++) {
        switch (gen_below(g, 13)) {
        case 0: lm_alu(&lg); break;
        case 1: lm_alu(&lg); break;
        case 2: lm_unary(&lg); break;
        case 3: lm_mov(&lg); break;
        case 4: lm_shift(&lg); break;
        case 5: lm_shxd(&lg); break;
        case 6: lm_muldiv(&lg); break;
        case 7: lm_bit(&lg); break;
        case 8: lm_cond(&lg); break;
        case 9: lm_misc(&lg); break;
        case 10: lm_branch(&lg); break;
        case 11: lm_sse(&lg); break;
        default:
            if (gen_chance(g, 50)) {
                lm_string(&lg);
            } else if (lg.rsp > ORACLE_DATA_BASE + ORACLE_STACK_LO + 64 &&
                       lg.rsp < ORACLE_DATA_BASE + ORACLE_STACK_HI - 64) {
                lm_stack(&lg);
            }
            break;
        }
    }
}
