/*
 * Generator core: the random stream, instruction bookkeeping with the
 * undefined-flag poison (see gen_internal.h), setup instructions, and the
 * sequence driver that builds one test.
 */
#include <stddef.h>
#include <string.h>

#include "tests/cpu/oracle/gen_internal.h"

static const char *const class_names[OC_COUNT] = {
    "alu", "shift", "shxd", "muldiv", "bcd", "bit", "cond",
    "misc", "string", "stack", "branch", "x87", "fault", "simd", "mix",
};

/* The classes a mode64 test may draw from: BCD adjusts are invalid in
 * 64-bit mode and the stack instructions are 64 bits wide there. */
static const int classes64[] = {
    OC_ALU, OC_SHIFT, OC_SHXD, OC_MULDIV, OC_BIT, OC_COND,
    OC_MISC, OC_STRING, OC_BRANCH, OC_X87, OC_FAULT, OC_SIMD, OC_MIX,
};
#define N_CLASSES64 (sizeof(classes64) / sizeof(classes64[0]))

const char *oracle_class_name(int cls)
{
    return cls >= 0 && cls < OC_COUNT ? class_names[cls] : "?";
}

bool oracle_class_in_mode64(int cls)
{
    for (size_t i = 0; i < N_CLASSES64; i++) {
        if (classes64[i] == cls) {
            return true;
        }
    }
    return false;
}

/* ---- random numbers: splitmix64 to seed, xorshift64* to draw ---- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint32_t gen_rand(Gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * 0x2545f4914f6cdd1dull) >> 32);
}

uint32_t gen_below(Gen *g, uint32_t n)
{
    return n ? (uint32_t)(((uint64_t)gen_rand(g) * n) >> 32) : 0;
}

bool gen_chance(Gen *g, uint32_t percent)
{
    return gen_below(g, 100) < percent;
}

static const uint32_t edge_values[] = {
    0x00000000, 0x00000001, 0xffffffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0x00000002,
    0x0000007f, 0x00000080, 0x000000ff, 0x00007fff, 0x00008000, 0x0000ffff, 0x00010000,
    0x80000001, 0x55555555, 0xaaaaaaaa, 0x0f0f0f0f, 0x00000100, 0xffffff80, 0xffff8000,
};

uint32_t gen_value(Gen *g, int size)
{
    uint32_t v;
    uint32_t sign = 1u << (size * 8 - 1);
    switch (gen_below(g, 8)) {
    case 0:
    case 1:
        v = edge_values[gen_below(g, sizeof(edge_values) / sizeof(edge_values[0]))];
        break;
    case 2:
        v = gen_below(g, 17);
        break;
    case 3:
        v = 0u - gen_below(g, 17);
        break;
    case 4:
        v = sign + gen_below(g, 5) - 2; /* around the sign boundary of this size */
        break;
    default:
        v = gen_rand(g);
        break;
    }
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

int gen_size(Gen *g)
{
    static const int sizes[] = {1, 2, 4, 4};
    return sizes[gen_below(g, 4)];
}

int gen_dst_reg(Gen *g, int size, uint32_t avoid_mask)
{
    for (;;) {
        int r = (int)gen_below(g, 8);
        int gpr = size == 1 ? (r & 3) : r;
        if ((size != 1 && r == G_ESP) || (avoid_mask & (1u << gpr))) {
            continue;
        }
        return r;
    }
}

int gen_any_reg(Gen *g, uint32_t avoid_mask)
{
    for (;;) {
        int r = (int)gen_below(g, 8);
        if (!(avoid_mask & (1u << r))) {
            return r;
        }
    }
}

/* ---- instruction bookkeeping ---- */

void gen_begin(Gen *g, bool setup)
{
    OracleTest *t = g->t;
    OracleInsn *in = &t->insn[t->n_insn];
    in->offset = (uint16_t)t->code_len;
    in->setup = setup;
    in->cls = (uint8_t)g->cls;
    in->poison_flags = g->poison;
    in->poison_fsw = g->fpoison;
    g->cur = t->n_insn;
}

void gen_byte(Gen *g, uint8_t b)
{
    OracleTest *t = g->t;
    if (t->code_len < ORACLE_MAX_CODE) {
        t->code[t->code_len++] = b;
    }
}

void gen_u16(Gen *g, uint16_t v)
{
    gen_byte(g, (uint8_t)v);
    gen_byte(g, (uint8_t)(v >> 8));
}

void gen_u32(Gen *g, uint32_t v)
{
    gen_u16(g, (uint16_t)v);
    gen_u16(g, (uint16_t)(v >> 16));
}

void gen_addr_slot(Gen *g)
{
    OracleTest *t = g->t;
    if (!g->mode64) {
        return;
    }
    if (t->code_len < ORACLE_MAX_CODE && t->n_slot < ORACLE_MAX_INSNS) {
        t->slot[t->n_slot++] = (uint16_t)t->code_len;
        gen_byte(g, ORACLE_SLOT_PREFIX);
    }
}

void gen_abs_modrm(Gen *g, int reg, uint32_t linear)
{
    if (g->mode64) {
        gen_byte(g, (uint8_t)(0004 | (reg & 7) << 3)); /* mod 00, rm 100: a SIB follows */
        gen_byte(g, 0045); /* scale 0, index 100 (none), base 101 (none with mod 00) */
    } else {
        gen_byte(g, (uint8_t)(0005 | (reg & 7) << 3)); /* mod 00, rm 101: disp32 */
    }
    gen_u32(g, linear);
}

void gen_end(Gen *g, uint32_t defined, uint32_t undefined)
{
    OracleTest *t = g->t;
    OracleInsn *in = &t->insn[g->cur];
    in->len = (uint8_t)(t->code_len - in->offset);
    t->n_insn++;
    g->cur = -1;
    g->poison = (g->poison & ~defined) | undefined;
}

void gen_end_fpu(Gen *g, uint16_t defined, uint16_t undefined)
{
    gen_end(g, 0, 0);
    g->fpoison = (uint16_t)((g->fpoison & ~defined) | undefined);
}

bool gen_room(const Gen *g)
{
    return g->t->n_insn + 16 < ORACLE_MAX_INSNS && g->t->code_len + 256 < ORACLE_MAX_CODE;
}

/* CMP r32, imm32 (81 /7): defines all six arithmetic flags, writes nothing. */
void gen_need_flags(Gen *g, uint32_t reads)
{
    if (!(reads & g->poison)) {
        return;
    }
    gen_begin(g, true);
    gen_byte(g, 0x81);
    gen_byte(g, (uint8_t)(0xf8 | gen_any_reg(g, 0)));
    gen_u32(g, gen_value(g, 4));
    gen_end(g, F_ALL, 0);
}

/* FXAM (D9 E5) defines C0-C3 whatever ST(0) holds, even when empty. */
void gen_need_fsw(Gen *g, uint16_t reads)
{
    if (!(reads & g->fpoison)) {
        return;
    }
    gen_begin(g, true);
    gen_byte(g, 0xd9);
    gen_byte(g, 0xe5);
    gen_end_fpu(g, FSW_CC, 0);
}

/* MOV r32, imm32 (B8+r). */
void gen_set_reg(Gen *g, int reg, uint32_t value)
{
    gen_begin(g, true);
    gen_byte(g, (uint8_t)(0xb8 + reg));
    gen_u32(g, value);
    gen_end(g, 0, 0);
}

/* MOV [disp32], imm: C6/C7 /0 with an absolute address. */
void gen_set_mem(Gen *g, uint32_t linear, uint32_t value, int size)
{
    gen_begin(g, true);
    if (size == 2) {
        gen_byte(g, 0x66);
    }
    gen_addr_slot(g);
    gen_byte(g, size == 1 ? 0xc6 : 0xc7);
    gen_abs_modrm(g, 0, linear);
    if (size == 1) {
        gen_byte(g, (uint8_t)value);
    } else if (size == 2) {
        gen_u16(g, (uint16_t)value);
    } else {
        gen_u32(g, value);
    }
    gen_end(g, 0, 0);
}

/* ---- prefixes and ModRM instructions ---- */

static void shuffle_emit(Gen *g, uint8_t *p, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)gen_below(g, (uint32_t)i + 1);
        uint8_t tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    for (int i = 0; i < n; i++) {
        if (p[i] == ORACLE_SLOT_PREFIX && g->mode64) {
            gen_addr_slot(g);
        } else {
            gen_byte(g, p[i]);
        }
    }
}

void gen_prefixes(Gen *g, bool opsize16, uint8_t lock, uint8_t rep, uint8_t seg, bool addr16)
{
    uint8_t p[5];
    int n = 0;
    if (opsize16) {
        p[n++] = 0x66;
    }
    if (lock) {
        p[n++] = lock;
    }
    if (rep) {
        p[n++] = rep;
    }
    if (seg) {
        p[n++] = seg;
    }
    if (addr16) {
        p[n++] = 0x67;
    }
    shuffle_emit(g, p, n);
}

void gen_modrm(Gen *g, bool opsize16, uint8_t lock, uint8_t rep, const uint8_t *op, int oplen,
               int reg, const Rm *rm, uint32_t imm, int imm_len)
{
    const MemRef *m = &rm->m;
    if (rm->mem) {
        gen_prefixes(g, opsize16, lock, rep, m->seg_prefix, m->addr16);
    } else {
        gen_prefixes(g, opsize16, lock, rep, 0, false);
    }
    for (int i = 0; i < oplen; i++) {
        gen_byte(g, op[i]);
    }
    if (rm->mem) {
        gen_byte(g, (uint8_t)(m->modrm | (reg & 7) << 3));
        if (m->has_sib) {
            gen_byte(g, m->sib);
        }
        for (int i = 0; i < m->disp_len; i++) {
            gen_byte(g, m->disp[i]);
        }
    } else {
        gen_byte(g, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm->reg & 7)));
    }
    for (int i = 0; i < imm_len; i++) {
        gen_byte(g, (uint8_t)(imm >> (8 * i)));
    }
}

void gen_rm(Gen *g, Rm *rm, int size, bool dst, uint32_t avoid, int mem_percent)
{
    rm->mem = gen_chance(g, (uint32_t)mem_percent);
    if (rm->mem) {
        gen_mem(g, &rm->m, size, REGION_INT, avoid, 0);
        rm->reg = 0;
    } else {
        rm->reg = dst ? gen_dst_reg(g, size, avoid) : gen_any_reg(g, avoid);
    }
}

/* ---- the sequence driver ---- */

static void init_state(Gen *g)
{
    OracleTest *t = g->t;
    for (int r = 0; r < 8; r++) {
        t->init.gpr[r] = gen_value(g, 4);
    }
    uint32_t esp = ORACLE_DATA_BASE + 0xa000 + gen_below(g, 0x400) * 4;
    if (gen_chance(g, 10)) {
        esp += 1 + gen_below(g, 3); /* a misaligned stack works too (AC is off) */
    }
    t->init.gpr[G_ESP] = esp;
    g->esp = esp;
    t->init.eip = ORACLE_CODE_BASE;
    t->init.eflags = 0x202 | (gen_rand(g) & F_ALL) | (gen_chance(g, 25) ? F_DF : 0);
    for (uint32_t i = 0; i < ORACLE_DATA_SIZE; i += 4) {
        uint32_t v = gen_chance(g, 10) ? gen_value(g, 4) : gen_rand(g);
        memcpy(&t->data[i], &v, 4);
    }
    gen_fp_constants(g);
    gen_simd_state(g);
}

static void emit_class(Gen *g, int cls)
{
    static void (*const emitters[OC_MIX])(Gen *) = {
        gen_alu, gen_shift, gen_shxd, gen_muldiv, gen_bcd, gen_bit, gen_cond,
        gen_misc, gen_string, gen_stack, gen_branch, gen_x87, gen_fault, gen_simd,
    };
    g->cls = cls;
    emitters[cls](g);
}

/* A class for test or mix member: any, or in mode64 one valid there. */
static int pick_class(Gen *g, bool for_mix)
{
    if (g->mode64) {
        return classes64[gen_below(g, N_CLASSES64 - for_mix)];
    }
    return (int)gen_below(g, for_mix ? OC_MIX : OC_COUNT);
}

/*
 * The 32-bit generation draws exactly what it drew before mode64 existed,
 * so a (seed, index) names the same 32-bit test as in older builds; mode64
 * choices draw only in mode64.
 */
void oracle_generate(OracleTest *t, uint64_t seed, uint32_t index, int cls, bool mode64)
{
    memset(t, 0, offsetof(OracleTest, data));
    Gen g;
    memset(&g, 0, sizeof(g));
    g.t = t;
    g.mode64 = mode64;
    g.rng = splitmix64(seed * 0x100000001b3ull ^ splitmix64(index)) | 1;
    g.cur = -1;
    t->seed = seed;
    t->index = index;
    t->mode64 = mode64;
    t->cls = cls >= 0 && cls < OC_COUNT ? cls : pick_class(&g, false);
    /* The window segments serve 16-bit addressing, which mode64 leaves out. */
    t->fs_win = !mode64;
    t->es_win = !mode64 && (t->cls == OC_STRING || t->cls == OC_MIX) && gen_chance(&g, 40);
    g.seg_base[4] = t->fs_win ? ORACLE_DATA_BASE : 0; /* FS */
    g.seg_base[0] = t->es_win ? ORACLE_DATA_BASE : 0;
    init_state(&g);
    /* The flags start defined; the x87 starts from FNINIT (all defined). */
    int n = 2 + (int)gen_below(&g, 12);
    for (int i = 0; i < n && gen_room(&g); i++) {
        int c = t->cls == OC_MIX ? pick_class(&g, true) : t->cls;
        if (t->cls == OC_MIX && c == OC_FAULT && gen_chance(&g, 70)) {
            c = OC_ALU; /* a fault ends the run: keep mixes mostly fault-free */
        }
        emit_class(&g, c);
    }
    g.cls = t->cls;
    gen_begin(&g, false);
    gen_byte(&g, 0xf4); /* HLT: #GP at CPL 3, the end marker */
    t->insn[t->n_insn].len = 1;
}

void oracle_generate_lm64(OracleTest *t, uint64_t seed, uint32_t index)
{
    memset(t, 0, offsetof(OracleTest, data));
    Gen g;
    memset(&g, 0, sizeof(g));
    g.t = t;
    g.mode64 = true; /* setups use the encodings valid in 64-bit mode */
    g.rng = splitmix64(seed * 0x100000001b3ull ^ splitmix64(index) ^ 0x6c6d3634u) | 1;
    g.cur = -1;
    t->seed = seed;
    t->index = index;
    t->mode64 = true;
    oracle_generate_long(&g);
    g.cls = t->cls;
    gen_begin(&g, false);
    gen_byte(&g, 0xf4); /* HLT: #GP at CPL 3, the end marker */
    t->insn[t->n_insn].len = 1;
    t->n_slot = 0; /* 64-bit code: nothing to patch for the runner */
}

void oracle_truncate(OracleTest *t, int n)
{
    if (n < 0 || n > t->n_insn) {
        return;
    }
    OracleInsn *end = &t->insn[n];
    memset(t->code + end->offset, 0xf4, t->code_len - end->offset);
    t->code_len = end->offset + 1u;
    end->len = 1;
    t->n_insn = n;
    while (t->n_slot > 0 && t->slot[t->n_slot - 1] >= end->offset) {
        t->n_slot--;
    }
}

uint32_t oracle_end_eip(const OracleTest *t)
{
    return ORACLE_CODE_BASE + t->insn[t->n_insn].offset;
}

int oracle_insn_at(const OracleTest *t, uint32_t eip)
{
    for (int i = 0; i <= t->n_insn; i++) {
        if (ORACLE_CODE_BASE + t->insn[i].offset == eip) {
            return i;
        }
    }
    return -1;
}
