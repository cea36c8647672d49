/*
 * Integer instruction classes: ALU, shifts and rotates, SHLD/SHRD,
 * multiply and divide, BCD adjust, bit tests and scans.  Flags left
 * undefined follow each instruction's "Flags Affected" in SDM Vol.2.
 */
#include "tests/cpu/oracle/gen_internal.h"

/* Maybe give a register a fresh edge-biased value (reg in r/m numbering). */
static bool maybe_seed_reg(Gen *g, int reg, int size, uint32_t percent)
{
    if (!gen_chance(g, percent)) {
        return false;
    }
    int gpr = size == 1 ? (reg & 3) : reg;
    if (gpr == G_ESP) {
        return false;
    }
    uint32_t v = gen_value(g, 4);
    if (size == 1 && reg >= 4) {
        v = (v & 0xffff00ffu) | (gen_value(g, 1) << 8);
    }
    gen_set_reg(g, gpr, v);
    return true;
}

/* Give the size-byte register reg (r/m numbering) the value v, keeping the
 * rest of its GPR random; ESP is left alone. */
static void set_subreg(Gen *g, int reg, int size, uint32_t v)
{
    int gpr = size == 1 ? (reg & 3) : reg;
    if (gpr == G_ESP) {
        return;
    }
    uint32_t full = gen_rand(g);
    if (size == 4) {
        full = v;
    } else if (size == 2) {
        full = (full & 0xffff0000u) | (v & 0xffff);
    } else if (reg >= 4) {
        full = (full & 0xffff00ffu) | (v & 0xff) << 8;
    } else {
        full = (full & 0xffffff00u) | (v & 0xff);
    }
    gen_set_reg(g, gpr, full);
}

static void maybe_seed_rm(Gen *g, const Rm *rm, int size, uint32_t percent)
{
    if (rm->mem) {
        if (gen_chance(g, percent)) {
            gen_set_mem(g, rm->m.linear, gen_value(g, size), size);
        }
    } else {
        maybe_seed_reg(g, rm->reg, size, percent);
    }
}

static uint32_t gpr_bit(int reg, int size)
{
    return 1u << (size == 1 ? (reg & 3) : reg);
}

/* Immediate length for an Iz operand of this size. */
static int iz_len(int size)
{
    return size == 4 ? 4 : size;
}

/* ---- ALU ---- */

/* ADD OR ADC SBB AND SUB XOR CMP in all their forms (SDM Vol.2 Table A-2 rows 0-3, 80-83). */
static void alu_binary(Gen *g)
{
    int op = (int)gen_below(g, 8), size = gen_size(g), form = (int)gen_below(g, 4);
    bool writes = op != 7;
    uint32_t undef = (op == 1 || op == 4 || op == 6) ? F_AF : 0; /* logic ops: AF undefined */
    gen_need_flags(g, (op == 2 || op == 3) ? F_CF : 0);
    bool w = size != 1;
    Rm rm;
    uint8_t opc[1];
    if (form <= 1) {
        bool rm_dst = form == 0;
        int reg = (!rm_dst && writes) ? gen_dst_reg(g, size, 0) : gen_any_reg(g, 0);
        uint32_t avoid = maybe_seed_reg(g, reg, size, 30) ? gpr_bit(reg, size) : 0;
        gen_rm(g, &rm, size, rm_dst && writes, avoid, 50);
        maybe_seed_rm(g, &rm, size, 30);
        opc[0] = (uint8_t)(op * 8 + (rm_dst ? 0 : 2) + w);
        uint8_t lock = (rm_dst && writes && rm.mem && gen_chance(g, 20)) ? 0xf0 : 0;
        gen_begin(g, false);
        gen_modrm(g, size == 2, lock, 0, opc, 1, reg, &rm, 0, 0);
    } else if (form == 2) {
        maybe_seed_reg(g, G_EAX, size, 30);
        gen_begin(g, false);
        gen_prefixes(g, size == 2, 0, 0, 0, false);
        gen_byte(g, (uint8_t)(op * 8 + 4 + w));
        uint32_t imm = gen_value(g, size);
        for (int i = 0; i < size; i++) {
            gen_byte(g, (uint8_t)(imm >> (8 * i)));
        }
    } else {
        gen_rm(g, &rm, size, writes, 0, 50);
        maybe_seed_rm(g, &rm, size, 30);
        int imm_len = iz_len(size);
        if (size == 1) {
            /* 82: the 80 alias, invalid in 64-bit mode */
            opc[0] = !g->mode64 && gen_chance(g, 15) ? 0x82 : 0x80;
        } else if (gen_chance(g, 50)) {
            opc[0] = 0x83; /* Ib, sign-extended */
            imm_len = 1;
        } else {
            opc[0] = 0x81;
        }
        uint8_t lock = (writes && rm.mem && gen_chance(g, 20)) ? 0xf0 : 0;
        gen_begin(g, false);
        gen_modrm(g, size == 2, lock, 0, opc, 1, op, &rm, gen_value(g, imm_len), imm_len);
    }
    gen_end(g, F_ALL & ~undef, undef);
}

/* TEST Eb/Ev,Gb/Gv (84/85), AL/eAX,imm (A8/A9), Eb/Ev,imm (F6/F7 /0). */
static void alu_test(Gen *g)
{
    int size = gen_size(g), form = (int)gen_below(g, 3);
    bool w = size != 1;
    Rm rm;
    gen_rm(g, &rm, size, false, 0, 50);
    maybe_seed_rm(g, &rm, size, 30);
    gen_begin(g, false);
    if (form == 0) {
        uint8_t opc = (uint8_t)(0x84 + w);
        gen_modrm(g, size == 2, 0, 0, &opc, 1, gen_any_reg(g, 0), &rm, 0, 0);
    } else if (form == 1) {
        gen_prefixes(g, size == 2, 0, 0, 0, false);
        gen_byte(g, (uint8_t)(0xa8 + w));
        uint32_t imm = gen_value(g, size);
        for (int i = 0; i < size; i++) {
            gen_byte(g, (uint8_t)(imm >> (8 * i)));
        }
    } else {
        uint8_t opc = (uint8_t)(0xf6 + w);
        gen_modrm(g, size == 2, 0, 0, &opc, 1, 0, &rm, gen_value(g, size), size);
    }
    gen_end(g, F_ALL & ~F_AF, F_AF);
}

/* INC/DEC (40+r, 48+r, FE/FF /0 /1): CF kept; NEG (F6/F7 /3); NOT (/2): no flags.
 * 40-4F are REX prefixes in 64-bit mode: mode64 uses FE/FF only. */
static void alu_unary(Gen *g)
{
    int kind = (int)gen_below(g, 4), size = gen_size(g);
    Rm rm;
    gen_rm(g, &rm, size, true, 0, 50);
    maybe_seed_rm(g, &rm, size, 40);
    uint8_t lock = (rm.mem && gen_chance(g, 20)) ? 0xf0 : 0;
    gen_begin(g, false);
    if (kind <= 1) {
        if (!rm.mem && size != 1 && !g->mode64 && gen_chance(g, 50)) {
            gen_prefixes(g, size == 2, 0, 0, 0, false);
            gen_byte(g, (uint8_t)((kind ? 0x48 : 0x40) + rm.reg));
        } else {
            uint8_t opc = size == 1 ? 0xfe : 0xff;
            gen_modrm(g, size == 2, lock, 0, &opc, 1, kind, &rm, 0, 0);
        }
        gen_end(g, F_ALL & ~F_CF, 0);
        return;
    }
    uint8_t opc = size == 1 ? 0xf6 : 0xf7;
    gen_modrm(g, size == 2, lock, 0, &opc, 1, kind == 2 ? 3 : 2, &rm, 0, 0);
    gen_end(g, kind == 2 ? F_ALL : 0, 0);
}

void gen_alu(Gen *g)
{
    uint32_t k = gen_below(g, 10);
    if (k < 6) {
        alu_binary(g);
    } else if (k < 7) {
        alu_test(g);
    } else {
        alu_unary(g);
    }
}

/* ---- shifts and rotates (C0/C1, D0/D1, D2/D3) ---- */

static uint32_t pick_count(Gen *g, int width)
{
    uint32_t c[] = {0, 1, 2, (uint32_t)width - 1, (uint32_t)width, (uint32_t)width + 1, 31, 32,
                    33, 63, 255, 9, 17};
    if (gen_chance(g, 30)) {
        return gen_below(g, 256);
    }
    return c[gen_below(g, sizeof(c) / sizeof(c[0]))];
}

void gen_shift(Gen *g)
{
    static const int ops[7] = {0, 1, 2, 3, 4, 5, 7}; /* ROL ROR RCL RCR SHL SHR SAR */
    int op = ops[gen_below(g, 7)], size = gen_size(g), form = (int)gen_below(g, 3);
    int width = size * 8;
    uint32_t count = form == 0 ? 1 : pick_count(g, width);
    uint32_t masked = count & 31;
    bool w = size != 1;
    Rm rm;
    if (form == 2) {
        gen_set_reg(g, G_ECX, (gen_rand(g) & ~0xffu) | count);
    }
    gen_rm(g, &rm, size, true, form == 2 ? 1u << G_ECX : 0, 50);
    /* Shifting a part of ECX by CL: keep the count just set up. */
    bool rm_is_ecx = !rm.mem && (size == 1 ? (rm.reg & 3) : rm.reg) == G_ECX;
    if (!(form == 2 && rm_is_ecx)) {
        maybe_seed_rm(g, &rm, size, 40);
    }
    bool rcx = op == 2 || op == 3;
    gen_need_flags(g, rcx ? F_CF : 0);
    gen_begin(g, false);
    uint8_t opc = (uint8_t)((form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) + w);
    gen_modrm(g, size == 2, 0, 0, &opc, 1, op, &rm, count, form == 1 ? 1 : 0);
    uint32_t def = 0, undef = 0;
    if (masked != 0) {
        uint32_t of = masked == 1 ? F_OF : 0;
        if (op <= 3) {
            def = F_CF | of;
            undef = F_OF & ~of;
        } else {
            def = F_SF | F_ZF | F_PF | F_CF | of;
            undef = F_AF | (F_OF & ~of);
            if (op != 7 && masked >= (uint32_t)width) {
                def &= ~F_CF; /* SHL/SHR count >= width: CF undefined (SDM Vol.2 SAL/SAR/SHL/SHR) */
                undef |= F_CF;
            }
        }
    }
    gen_end(g, def, undef);
}

/* ---- SHLD/SHRD (0F A4/A5/AC/AD) ---- */

void gen_shxd(Gen *g)
{
    int size = gen_chance(g, 50) ? 2 : 4, right = (int)gen_below(g, 2);
    bool by_cl = gen_chance(g, 50);
    /* A count above the operand size leaves the result undefined: never generated. */
    uint32_t masked = size == 2 ? gen_below(g, 17) : gen_below(g, 32);
    if (gen_chance(g, 30)) {
        masked = gen_chance(g, 50) ? 1 : (uint32_t)size * 8 - (size == 4);
    }
    uint32_t count = masked | (gen_below(g, 8) << 5);
    uint32_t avoid = 0;
    if (by_cl) {
        gen_set_reg(g, G_ECX, (gen_rand(g) & ~0xffu) | count);
        avoid = 1u << G_ECX;
    }
    int reg = gen_any_reg(g, avoid);
    if (maybe_seed_reg(g, reg, size, 40)) {
        avoid |= 1u << reg;
    }
    Rm rm;
    gen_rm(g, &rm, size, true, avoid, 50);
    if (rm.mem || !(avoid & (1u << rm.reg))) {
        maybe_seed_rm(g, &rm, size, 40);
    }
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, (uint8_t)((right ? 0xac : 0xa4) + by_cl)};
    gen_modrm(g, size == 2, 0, 0, opc, 2, reg, &rm, count, by_cl ? 0 : 1);
    uint32_t def = 0, undef = 0;
    if (masked) {
        def = F_CF | F_SF | F_ZF | F_PF | (masked == 1 ? F_OF : 0);
        undef = F_AF | (masked == 1 ? 0 : F_OF);
    }
    gen_end(g, def, undef);
}

/* ---- MUL, IMUL, DIV, IDIV ---- */

static void muldiv_setup_dividend(Gen *g, int size, bool signed_div, uint32_t divisor)
{
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    uint32_t lo = gen_value(g, 4);
    uint32_t hi;
    if (signed_div) {
        uint32_t sign = (lo >> (size * 8 - 1)) & 1;
        hi = sign ? mask : 0;
    } else {
        hi = divisor & mask ? gen_below(g, divisor & mask) : 0;
    }
    if (size == 1) {
        gen_set_reg(g, G_EAX, (lo & 0xffff00ffu) | (hi & 0xff) << 8);
    } else {
        gen_set_reg(g, G_EAX, lo);
        gen_set_reg(g, G_EDX, (gen_rand(g) & ~mask) | (hi & mask));
    }
}

void gen_muldiv(Gen *g)
{
    int kind = (int)gen_below(g, 7), size = gen_size(g);
    bool is_div = kind >= 5;
    if (kind >= 2 && kind <= 4 && size == 1) {
        size = 4;
    }
    Rm rm;
    uint32_t divisor = gen_value(g, size);
    if (is_div && divisor == 0 && gen_chance(g, 70)) {
        divisor = 3; /* keep #DE the exception, not the rule */
    }
    bool setup_dividend = is_div && gen_chance(g, 75);
    uint32_t avoid = setup_dividend ? (1u << G_EAX | 1u << G_EDX) : 0;
    if (kind <= 1 && maybe_seed_reg(g, G_EAX, 4, 30)) {
        avoid |= 1u << G_EAX;
    }
    int reg = 0;
    if (kind >= 2 && kind <= 4) {
        reg = gen_dst_reg(g, size, 0);
        if (maybe_seed_reg(g, reg, size, 40)) {
            avoid |= 1u << reg;
        }
    }
    gen_rm(g, &rm, size, false, avoid, 40);
    if (is_div) {
        if (rm.mem) {
            gen_set_mem(g, rm.m.linear, divisor, size);
        } else {
            set_subreg(g, rm.reg, size, divisor);
        }
        bool overlaps = !rm.mem && (size == 1 ? (rm.reg & 3) == 0 : (rm.reg == G_EAX || rm.reg == G_EDX));
        if (setup_dividend && !overlaps) {
            muldiv_setup_dividend(g, size, kind == 6, divisor);
        }
    } else {
        maybe_seed_rm(g, &rm, size, 40);
    }
    gen_begin(g, false);
    uint8_t opc[2];
    if (kind <= 1 || is_div) {
        opc[0] = size == 1 ? 0xf6 : 0xf7;
        static const int sub[7] = {4, 5, 0, 0, 0, 6, 7};
        gen_modrm(g, size == 2, 0, 0, opc, 1, sub[kind], &rm, 0, 0);
    } else if (kind == 2) {
        opc[0] = 0x0f;
        opc[1] = 0xaf;
        gen_modrm(g, size == 2, 0, 0, opc, 2, reg, &rm, 0, 0);
    } else {
        opc[0] = kind == 3 ? 0x69 : 0x6b;
        int imm_len = kind == 3 ? size : 1;
        gen_modrm(g, size == 2, 0, 0, opc, 1, reg, &rm, gen_value(g, imm_len), imm_len);
    }
    if (is_div) {
        gen_end(g, 0, F_ALL);
    } else {
        gen_end(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
    }
}

/* ---- BCD: DAA DAS AAA AAS AAM AAD (invalid in 64-bit mode: never in mode64) ---- */

void gen_bcd(Gen *g)
{
    int kind = (int)gen_below(g, 6);
    if (gen_chance(g, 50)) {
        gen_set_reg(g, G_EAX, gen_value(g, 4));
    }
    if (kind <= 3 && gen_chance(g, 50)) {
        /* ADD/SUB AL, imm8: a realistic AF/CF pair for the adjust that follows. */
        gen_begin(g, false);
        gen_byte(g, (kind == 1 || kind == 3) ? 0x2c : 0x04);
        gen_byte(g, (uint8_t)gen_value(g, 1));
        gen_end(g, F_ALL, 0);
    }
    gen_need_flags(g, kind <= 1 ? (F_AF | F_CF) : (kind <= 3 ? F_AF : 0));
    gen_begin(g, false);
    static const uint8_t opcodes[6] = {0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5};
    gen_byte(g, opcodes[kind]);
    if (kind >= 4) {
        uint32_t r = gen_below(g, 10);
        gen_byte(g, (uint8_t)(r < 6 ? 10 : r < 7 ? 0 : gen_rand(g)));
    }
    if (kind <= 1) {
        gen_end(g, F_ALL & ~F_OF, F_OF);
    } else if (kind <= 3) {
        gen_end(g, F_AF | F_CF, F_OF | F_SF | F_ZF | F_PF);
    } else {
        gen_end(g, F_SF | F_ZF | F_PF, F_OF | F_AF | F_CF);
    }
}

/* ---- BT BTS BTR BTC (0F A3/AB/B3/BB, 0F BA /4-/7), BSF BSR (0F BC/BD) ---- */

static void bit_test(Gen *g, int size)
{
    int op = (int)gen_below(g, 4); /* BT BTS BTR BTC */
    bool imm = gen_chance(g, 40);
    Rm rm;
    int reg = 0;
    uint32_t avoid = 0;
    if (!imm) {
        reg = gen_any_reg(g, 0);
        if (reg != G_ESP) {
            /* Memory forms address a bit string: keep the offset within the margin. */
            uint32_t off = (uint32_t)((int32_t)gen_below(g, 512) - 256);
            gen_set_reg(g, reg, size == 2 ? (gen_rand(g) & 0xffff0000u) | (off & 0xffff) : off);
            avoid = 1u << reg;
        }
    }
    gen_rm(g, &rm, size, op != 0, avoid, reg == G_ESP ? 0 : 50);
    if (rm.mem || !(avoid & (1u << rm.reg))) {
        maybe_seed_rm(g, &rm, size, 30);
    }
    uint8_t lock = (op && rm.mem && gen_chance(g, 20)) ? 0xf0 : 0;
    gen_begin(g, false);
    if (imm) {
        uint8_t opc[2] = {0x0f, 0xba};
        gen_modrm(g, size == 2, lock, 0, opc, 2, 4 + op, &rm, gen_rand(g), 1);
    } else {
        uint8_t opc[2] = {0x0f, (uint8_t)(0xa3 + 8 * op)};
        gen_modrm(g, size == 2, lock, 0, opc, 2, reg, &rm, 0, 0);
    }
    gen_end(g, F_CF, F_OF | F_SF | F_AF | F_PF);
}

static void bit_scan(Gen *g, int size)
{
    bool reverse = gen_chance(g, 50);
    int dst = gen_dst_reg(g, size, 0);
    Rm rm;
    gen_rm(g, &rm, size, false, 0, 40);
    /* The source value decides whether the destination is defined: set it. */
    uint32_t v = gen_value(g, size);
    bool zero = gen_chance(g, 15);
    if (zero) {
        v = 0;
    } else if (v == 0) {
        v = 1u << gen_below(g, (uint32_t)size * 8);
    }
    if (rm.mem) {
        gen_set_mem(g, rm.m.linear, v, size);
    } else if (rm.reg != G_ESP) {
        set_subreg(g, rm.reg, size, v);
    } else {
        zero = false; /* ESP is never zero */
    }
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, (uint8_t)(reverse ? 0xbd : 0xbc)};
    gen_modrm(g, size == 2, 0, 0, opc, 2, dst, &rm, 0, 0);
    gen_end(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
    if (zero) {
        gen_set_reg(g, dst, gen_value(g, 4)); /* source 0: destination undefined */
    }
}

void gen_bit(Gen *g)
{
    int size = gen_chance(g, 40) ? 2 : 4;
    if (gen_chance(g, 60)) {
        bit_test(g, size);
    } else {
        bit_scan(g, size);
    }
}
