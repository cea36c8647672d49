/*
 * Memory operands in every addressing form (SDM Vol.2 2.1.5, Tables 2-1
 * to 2-3): 16-bit (67h) and 32-bit ModRM, SIB with every scale, base and
 * index, disp8/disp16/disp32, and segment overrides.
 *
 * The generator first picks the linear address the access must hit (inside
 * the data window, in the region the operand belongs to), then a random
 * form, then solves for register values: base random (edge-biased), index
 * whatever makes base + index*scale + disp wrap to the target, so address
 * arithmetic that overflows 32 (or 16) bits is exercised too.  The chosen
 * values are loaded by MOV setups right before the instruction.  ESP as a
 * base uses the tracked stack pointer instead.
 *
 * 16-bit addressing yields offsets below 64 KiB, so it always goes through
 * FS (or ES when the test made ES the window too): the window segment whose
 * base is the data window.
 *
 * In mode64 there is neither 16-bit addressing nor a segment override:
 * every operand gets the address-size slot (oracle_gen.h), and [disp32]
 * is written with a SIB, since mod 00 rm 101 is RIP-relative there.
 */
#include "tests/cpu/oracle/gen_internal.h"

#define MARGIN 48u /* room around a target for bit-string and string overreach */

static const uint32_t region_lo[] = {ORACLE_INT_LO, ORACLE_STACK_LO, ORACLE_FPCONST,
                                     ORACLE_FPSTORE};
static const uint32_t region_hi[] = {ORACLE_INT_HI, ORACLE_STACK_HI, ORACLE_FPSTORE,
                                     ORACLE_FPSTORE_HI};

uint32_t gen_target(Gen *g, int region, int size)
{
    uint32_t lo = region_lo[region] + MARGIN;
    uint32_t hi = region_hi[region] - MARGIN - (uint32_t)size;
    uint32_t off = lo + gen_below(g, hi - lo);
    if (gen_chance(g, 60)) {
        off &= ~(uint32_t)(size >= 4 ? 3 : size - 1); /* mostly aligned, sometimes not */
    }
    return ORACLE_DATA_BASE + off;
}

static void put_disp(MemRef *m, uint32_t disp, int len)
{
    m->disp_len = len;
    for (int i = 0; i < len; i++) {
        m->disp[i] = (uint8_t)(disp >> (8 * i));
    }
}

static uint32_t pick_disp(Gen *g, int mod)
{
    if (mod == 1) {
        static const int8_t d8[] = {0, -128, 127, -1, 1, 4, -4};
        return gen_chance(g, 40) ? (uint32_t)(int32_t)d8[gen_below(g, 7)]
                                 : (uint32_t)(int32_t)(int8_t)gen_rand(g);
    }
    return mod == 2 ? gen_value(g, 4) : 0;
}

/* Multiplicative inverse of an odd number modulo 2^32 (Newton's iteration). */
static uint32_t inverse_odd(uint32_t a)
{
    uint32_t x = a;
    for (int i = 0; i < 5; i++) {
        x *= 2 - a * x;
    }
    return x;
}

/* 16-bit forms: rm 0..7 = BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 if mod 0), BX. */
static bool mem16(Gen *g, MemRef *m, uint32_t offset, uint32_t avoid)
{
    static const int first[8] = {G_EBX, G_EBX, G_EBP, G_EBP, G_ESI, G_EDI, G_EBP, G_EBX};
    static const int second[8] = {G_ESI, G_EDI, G_ESI, G_EDI, -1, -1, -1, -1};
    int mod = (int)gen_below(g, 3), rm = (int)gen_below(g, 8);
    uint32_t disp = mod == 1 ? pick_disp(g, 1) : (mod == 2 ? gen_rand(g) & 0xffff : 0);
    m->modrm = (uint8_t)(mod << 6 | rm);
    if (mod == 0 && rm == 6) {
        put_disp(m, offset, 2);
        return true;
    }
    int r1 = first[rm], r2 = second[rm];
    if ((avoid & (1u << r1)) || (r2 >= 0 && (avoid & (1u << r2)))) {
        return false;
    }
    put_disp(m, disp, mod == 1 ? 1 : (mod == 2 ? 2 : 0));
    uint32_t v1 = gen_value(g, 4);
    if (r2 < 0) {
        v1 = (v1 & 0xffff0000u) | ((offset - disp) & 0xffff);
        gen_set_reg(g, r1, v1);
        return true;
    }
    /* High halves are random: 16-bit addressing must ignore them. */
    uint32_t v2 = (gen_rand(g) & 0xffff0000u) | ((offset - disp - v1) & 0xffff);
    gen_set_reg(g, r1, v1);
    gen_set_reg(g, r2, v2);
    return true;
}

/* Solve base + (index << scale) + disp == offset (mod 2^32); false to retry. */
static bool solve32(Gen *g, int base, int index, int scale, int mod, uint32_t offset,
                    uint32_t esp_now, uint32_t *disp_out)
{
    uint32_t disp = pick_disp(g, mod);
    if (base == G_ESP && index < 0) {
        /* Only the displacement can move the address: the target follows it. */
        return false;
    }
    if (base >= 0 && base == index) {
        uint32_t mult = 1 + (1u << scale);
        uint32_t want = offset - disp;
        uint32_t v;
        if (mult & 1) {
            v = want * inverse_odd(mult);
        } else if (want & 1) {
            return false;
        } else {
            v = (want >> 1) | (gen_rand(g) & 0x80000000u);
        }
        gen_set_reg(g, base, v);
        *disp_out = disp;
        return true;
    }
    uint32_t base_val = 0;
    if (base == G_ESP) {
        base_val = esp_now;
    } else if (base >= 0) {
        base_val = gen_value(g, 4);
    }
    if (base < 0 && index < 0) {
        *disp_out = offset; /* SIB with neither base nor index: [disp32] */
        return true;
    }
    if (index < 0) {
        gen_set_reg(g, base, offset - disp);
        *disp_out = disp;
        return true;
    }
    uint32_t rem = offset - disp - base_val;
    uint32_t low = rem & ((1u << scale) - 1);
    if (low) {
        if (base < 0 || base == G_ESP) {
            return false;
        }
        base_val += low;
        rem -= low;
    }
    uint32_t idx = rem >> scale;
    if (scale) {
        idx |= gen_rand(g) << (32 - scale); /* the high bits shift out: wraparound */
    }
    if (base >= 0 && base != G_ESP) {
        gen_set_reg(g, base, base_val);
    }
    gen_set_reg(g, index, idx);
    *disp_out = disp;
    return true;
}

/* ESP-relative forms without index: the displacement picks the target. */
static bool mem32_esp(Gen *g, MemRef *m, int size, uint32_t esp_now, uint32_t seg_base)
{
    int mod = (int)gen_below(g, 3);
    uint32_t lo = ORACLE_DATA_BASE + ORACLE_STACK_LO + MARGIN;
    uint32_t hi = ORACLE_DATA_BASE + ORACLE_STACK_HI - MARGIN - (uint32_t)size;
    uint32_t disp = mod == 1 ? (uint32_t)(int32_t)(int8_t)gen_rand(g)
                             : (mod == 2 ? (uint32_t)(int32_t)(gen_below(g, 512) - 256) : 0);
    uint32_t target = esp_now + disp;
    if (target < lo || target > hi || seg_base != 0) {
        return false;
    }
    m->modrm = (uint8_t)(mod << 6 | 4);
    m->has_sib = true;
    m->sib = (uint8_t)(gen_below(g, 4) << 6 | 4 << 3 | G_ESP); /* index 100: none */
    put_disp(m, disp, mod == 1 ? 1 : (mod == 2 ? 4 : 0));
    m->linear = target;
    return true;
}

static bool mem32(Gen *g, MemRef *m, uint32_t offset, uint32_t avoid, uint32_t esp_now)
{
    int mod = (int)gen_below(g, 3), rm = (int)gen_below(g, 8);
    int base = rm, index = -1, scale = 0;
    m->has_sib = false;
    if (rm == 4) {
        m->has_sib = true;
        scale = (int)gen_below(g, 4);
        index = (int)gen_below(g, 8);
        base = (int)gen_below(g, 8);
        m->sib = (uint8_t)(scale << 6 | index << 3 | base);
        if (index == 4) {
            index = -1;
        }
        if (mod == 0 && base == 5) {
            base = -1; /* [index*scale + disp32] */
        }
    } else if (mod == 0 && rm == 5) {
        m->modrm = 0005;
        if (g->mode64) {
            /* SIB index 100 (none), base 101 (none with mod 00); scale is ignored. */
            m->modrm = 0004;
            m->has_sib = true;
            m->sib = (uint8_t)(gen_below(g, 4) << 6 | 0045);
        }
        put_disp(m, offset, 4);
        return true;
    }
    if ((base >= 0 && base != G_ESP && (avoid & (1u << base))) ||
        (index >= 0 && (avoid & (1u << index)))) {
        return false;
    }
    if (base == G_ESP && index < 0) {
        return false;
    }
    int disp_mod = base < 0 ? 2 : mod;
    uint32_t disp;
    if (!solve32(g, base, index, scale, disp_mod, offset, esp_now, &disp)) {
        return false;
    }
    m->modrm = (uint8_t)(mod << 6 | rm);
    put_disp(m, disp, disp_mod == 1 ? 1 : (disp_mod == 2 ? 4 : 0));
    return true;
}

/* Segment override for a 32-bit form: none, DS, SS, ES, FS (the window);
 * in mode64 the address-size slot. */
static uint8_t pick_seg32(Gen *g, int *seg)
{
    static const uint8_t prefix[] = {0, 0, 0, 0x3e, 0x36, 0x26, 0x64};
    static const int segno[] = {3, 3, 3, 3, 2, 0, 4};
    if (g->mode64) {
        *seg = 3;
        return ORACLE_SLOT_PREFIX;
    }
    int i = (int)gen_below(g, 7);
    *seg = segno[i];
    return prefix[i];
}

void gen_mem(Gen *g, MemRef *m, int size, int region, uint32_t avoid, int32_t esp_adjust)
{
    uint32_t esp_now = g->esp + (uint32_t)esp_adjust;
    for (;;) {
        *m = (MemRef){0};
        uint32_t target = gen_target(g, region, size);
        m->linear = target;
        if (!g->mode64 && gen_chance(g, 15)) {
            /* 16-bit addressing through the window segment. */
            bool use_es = g->t->es_win && gen_chance(g, 30);
            m->seg_prefix = use_es ? 0x26 : 0x64;
            m->addr16 = true;
            if (mem16(g, m, target - ORACLE_DATA_BASE, avoid)) {
                return;
            }
            continue;
        }
        int seg;
        m->seg_prefix = pick_seg32(g, &seg);
        uint32_t base = g->seg_base[seg];
        if (region == REGION_STACK && gen_chance(g, 50) &&
            mem32_esp(g, m, size, esp_now, base)) {
            return;
        }
        if (mem32(g, m, target - base, avoid, esp_now)) {
            return;
        }
    }
}

void gen_mem_at(Gen *g, MemRef *m, uint32_t linear, uint32_t avoid)
{
    for (;;) {
        *m = (MemRef){0};
        m->linear = linear;
        int seg;
        m->seg_prefix = pick_seg32(g, &seg);
        if (mem32(g, m, linear - g->seg_base[seg], avoid, g->esp)) {
            return;
        }
    }
}
