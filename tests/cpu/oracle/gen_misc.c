/*
 * Flag consumers and data movement: SETcc, CMOVcc, LAHF/SAHF, the flag
 * instructions, BSWAP, XADD, CMPXCHG, CMPXCHG8B, MOVZX/MOVSX, LEA, XCHG,
 * MOV, CBW/CWD and multi-byte NOP.
 */
#include "tests/cpu/oracle/gen_internal.h"

/* Flags condition cc (Jcc numbering) reads (SDM Vol.1 Table B-1). */
uint32_t gen_cc_reads(int cc)
{
    static const uint32_t reads[8] = {F_OF, F_CF, F_ZF, F_CF | F_ZF,
                                      F_SF, F_PF, F_SF | F_OF, F_ZF | F_SF | F_OF};
    return reads[(cc >> 1) & 7];
}

/* ---- flag consumers and flag instructions ---- */

void gen_cond(Gen *g)
{
    int kind = (int)gen_below(g, 5);
    int cc = (int)gen_below(g, 16);
    Rm rm;
    if (kind == 0) {
        gen_rm(g, &rm, 1, true, 0, 40);
        gen_need_flags(g, gen_cc_reads(cc));
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x90 + cc)};
        gen_modrm(g, false, 0, 0, opc, 2, 0, &rm, 0, 0);
        gen_end(g, 0, 0);
    } else if (kind == 1) {
        int size = gen_chance(g, 30) ? 2 : 4;
        int reg = gen_dst_reg(g, size, 0);
        gen_rm(g, &rm, size, false, 0, 40);
        gen_need_flags(g, gen_cc_reads(cc));
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x40 + cc)};
        gen_modrm(g, size == 2, 0, 0, opc, 2, reg, &rm, 0, 0);
        gen_end(g, 0, 0);
    } else if (kind == 2) {
        bool store = gen_chance(g, 50); /* LAHF (9F) or SAHF (9E) */
        gen_need_flags(g, store ? (F_ALL & ~F_OF) : 0);
        gen_begin(g, false);
        gen_byte(g, store ? 0x9f : 0x9e);
        gen_end(g, store ? 0 : (F_ALL & ~F_OF), 0);
    } else {
        /* CMC F5, CLC F8, STC F9, CLD FC, STD FD */
        static const uint8_t ops[5] = {0xf5, 0xf8, 0xf9, 0xfc, 0xfd};
        int i = (int)gen_below(g, 5);
        gen_need_flags(g, i == 0 ? F_CF : 0);
        gen_begin(g, false);
        gen_byte(g, ops[i]);
        gen_end(g, i <= 2 ? F_CF : 0, 0);
    }
}

/* ---- exchange and compare ---- */

static void misc_xadd_cmpxchg(Gen *g)
{
    int size = gen_size(g);
    bool cmpxchg = gen_chance(g, 50);
    /* XADD writes its register operand too (the old destination). */
    int reg = cmpxchg ? gen_any_reg(g, 0) : gen_dst_reg(g, size, 0);
    Rm rm;
    gen_rm(g, &rm, size, true, 1u << G_EAX, 50);
    if (cmpxchg && gen_chance(g, 40)) {
        /* Make the accumulator match the destination half of the time. */
        uint32_t v = gen_value(g, size);
        if (rm.mem) {
            gen_set_mem(g, rm.m.linear, v, size);
        } else if (rm.reg != G_ESP && !(size == 1 && rm.reg >= 4)) {
            gen_set_reg(g, rm.reg, v);
        }
        if (rm.mem || rm.reg != G_ESP) {
            gen_set_reg(g, G_EAX, v);
        }
    }
    uint8_t lock = (rm.mem && gen_chance(g, 30)) ? 0xf0 : 0;
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, (uint8_t)((cmpxchg ? 0xb0 : 0xc0) + (size != 1))};
    gen_modrm(g, size == 2, lock, 0, opc, 2, reg, &rm, 0, 0);
    gen_end(g, F_ALL, 0);
}

/* CMPXCHG8B m64 (0F C7 /1): ZF only. */
static void misc_cmpxchg8b(Gen *g)
{
    uint32_t lo = gen_value(g, 4), hi = gen_value(g, 4);
    bool equal = gen_chance(g, 50);
    if (equal) {
        gen_set_reg(g, G_EAX, lo);
        gen_set_reg(g, G_EDX, hi);
    }
    MemRef m;
    gen_mem(g, &m, 8, REGION_INT, equal ? (1u << G_EAX | 1u << G_EDX) : 0, 0);
    if (equal) {
        gen_set_mem(g, m.linear, lo, 4);
        gen_set_mem(g, m.linear + 4, hi, 4);
    }
    Rm rm = {.mem = true, .m = m};
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, 0xc7};
    gen_modrm(g, false, gen_chance(g, 30) ? 0xf0 : 0, 0, opc, 2, 1, &rm, 0, 0);
    gen_end(g, F_ZF, 0);
}

/* XCHG Eb,Gb / Ev,Gv (86/87) and XCHG eAX,r (91-97). */
static void misc_xchg(Gen *g)
{
    int size = gen_size(g);
    if (size != 1 && gen_chance(g, 30)) {
        int r = gen_dst_reg(g, size, 1u << G_EAX);
        gen_begin(g, false);
        gen_prefixes(g, size == 2, 0, 0, 0, false);
        gen_byte(g, (uint8_t)(0x90 + r));
        gen_end(g, 0, 0);
        return;
    }
    int reg = gen_dst_reg(g, size, 0);
    Rm rm;
    gen_rm(g, &rm, size, true, 0, 50);
    gen_begin(g, false);
    uint8_t opc = (uint8_t)(0x86 + (size != 1));
    gen_modrm(g, size == 2, 0, 0, &opc, 1, reg, &rm, 0, 0);
    gen_end(g, 0, 0);
}

/* MOVZX/MOVSX Gv, Eb/Ew (0F B6/B7/BE/BF). */
static void misc_movx(Gen *g)
{
    bool sign = gen_chance(g, 50), word_src = gen_chance(g, 40);
    int dsize = word_src ? 4 : (gen_chance(g, 30) ? 2 : 4);
    int reg = gen_dst_reg(g, dsize, 0);
    Rm rm;
    gen_rm(g, &rm, word_src ? 2 : 1, false, 0, 50);
    gen_begin(g, false);
    uint8_t opc[2] = {0x0f, (uint8_t)((sign ? 0xbe : 0xb6) + word_src)};
    gen_modrm(g, dsize == 2, 0, 0, opc, 2, reg, &rm, 0, 0);
    gen_end(g, 0, 0);
}

/*
 * LEA Gv, M (8D): no access, so any register values do; half the time the
 * form is random with the registers as they are (no setups).  In mode64
 * the random form has the address-size slot, and [disp32] a SIB.
 */
static void misc_lea(Gen *g)
{
    int size = gen_chance(g, 25) ? 2 : 4;
    int reg = gen_dst_reg(g, size, 0);
    Rm rm = {.mem = true};
    if (gen_chance(g, 50)) {
        gen_mem(g, &rm.m, 1, REGION_INT, 0, 0);
    } else {
        MemRef *m = &rm.m;
        *m = (MemRef){0};
        m->addr16 = !g->mode64 && gen_chance(g, 25);
        int mod = (int)gen_below(g, 3), r = (int)gen_below(g, 8);
        if (g->mode64) {
            m->seg_prefix = ORACLE_SLOT_PREFIX;
            if (mod == 0 && r == 5) {
                r = 4; /* with a SIB of no base and no index below */
                m->has_sib = true;
                m->sib = (uint8_t)(gen_below(g, 4) << 6 | 0045);
            }
        }
        m->modrm = (uint8_t)(mod << 6 | r);
        int disp_len = mod == 1 ? 1 : (mod == 2 ? (m->addr16 ? 2 : 4) : 0);
        if (m->addr16 && mod == 0 && r == 6) {
            disp_len = 2;
        }
        if (!m->addr16 && r == 4) {
            if (!m->has_sib) {
                m->has_sib = true;
                m->sib = (uint8_t)gen_rand(g);
            }
            if (mod == 0 && (m->sib & 7) == 5) {
                disp_len = 4;
            }
        }
        if (!m->addr16 && mod == 0 && r == 5) {
            disp_len = 4;
        }
        uint32_t d = gen_value(g, 4);
        m->disp_len = disp_len;
        for (int i = 0; i < disp_len; i++) {
            m->disp[i] = (uint8_t)(d >> (8 * i));
        }
    }
    gen_begin(g, false);
    uint8_t opc = 0x8d;
    gen_modrm(g, size == 2, 0, 0, &opc, 1, reg, &rm, 0, 0);
    gen_end(g, 0, 0);
}

/* MOV in its forms: 88-8B, C6/C7, B0+r/B8+r, A0-A3 (moffs). */
static void misc_mov(Gen *g)
{
    int size = gen_size(g), form = (int)gen_below(g, 4);
    bool w = size != 1;
    Rm rm;
    if (form == 0) {
        bool to_rm = gen_chance(g, 50);
        int reg = to_rm ? gen_any_reg(g, 0) : gen_dst_reg(g, size, 0);
        gen_rm(g, &rm, size, to_rm, 0, 60);
        gen_begin(g, false);
        uint8_t opc = (uint8_t)((to_rm ? 0x88 : 0x8a) + w);
        gen_modrm(g, size == 2, 0, 0, &opc, 1, reg, &rm, 0, 0);
    } else if (form == 1) {
        gen_rm(g, &rm, size, true, 0, 60);
        gen_begin(g, false);
        uint8_t opc = (uint8_t)(0xc6 + w);
        gen_modrm(g, size == 2, 0, 0, &opc, 1, 0, &rm, gen_value(g, size), size);
    } else if (form == 2) {
        int r = gen_dst_reg(g, size, 0);
        gen_begin(g, false);
        gen_prefixes(g, size == 2, 0, 0, 0, false);
        gen_byte(g, (uint8_t)((w ? 0xb8 : 0xb0) + r));
        uint32_t v = gen_value(g, size);
        for (int i = 0; i < size; i++) {
            gen_byte(g, (uint8_t)(v >> (8 * i)));
        }
    } else {
        /* moffs: 32-bit offset, or 16-bit (67h) through the window segment.
         * In 64-bit mode moffs is 64 bits wide; the slot's 67h makes it 32. */
        bool a16 = !g->mode64 && gen_chance(g, 30);
        uint32_t target = gen_target(g, REGION_INT, size);
        bool store = gen_chance(g, 50);
        uint8_t seg = a16 ? 0x64 : (g->mode64 ? ORACLE_SLOT_PREFIX : 0);
        gen_begin(g, false);
        gen_prefixes(g, size == 2, 0, 0, seg, a16);
        gen_byte(g, (uint8_t)((store ? 0xa2 : 0xa0) + w));
        if (a16) {
            gen_u16(g, (uint16_t)(target - ORACLE_DATA_BASE));
        } else {
            gen_u32(g, target);
        }
    }
    gen_end(g, 0, 0);
}

void gen_misc(Gen *g)
{
    switch (gen_below(g, 10)) {
    case 0: {
        int r = gen_dst_reg(g, 4, 0); /* BSWAP r32 (0F C8+r); the 16-bit form is undefined */
        gen_begin(g, false);
        gen_byte(g, 0x0f);
        gen_byte(g, (uint8_t)(0xc8 + r));
        gen_end(g, 0, 0);
        break;
    }
    case 1:
        misc_xadd_cmpxchg(g);
        break;
    case 2:
        misc_cmpxchg8b(g);
        break;
    case 3:
        misc_xchg(g);
        break;
    case 4:
        misc_movx(g);
        break;
    case 5:
        misc_lea(g);
        break;
    case 6:
    case 7:
        misc_mov(g);
        break;
    case 8: {
        bool cwd = gen_chance(g, 50); /* CBW/CWDE 98, CWD/CDQ 99 */
        gen_begin(g, false);
        gen_prefixes(g, gen_chance(g, 40), 0, 0, 0, false);
        gen_byte(g, cwd ? 0x99 : 0x98);
        gen_end(g, 0, 0);
        break;
    }
    default: {
        /* NOP Ev (0F 1F /0), the P6's multi-byte NOP, with a real memory form. */
        Rm rm;
        gen_rm(g, &rm, 4, false, 0, 70);
        gen_begin(g, false);
        uint8_t opc[2] = {0x0f, 0x1f};
        gen_modrm(g, gen_chance(g, 30), 0, 0, opc, 2, 0, &rm, 0, 0);
        gen_end(g, 0, 0);
        break;
    }
    }
}
