/*
 * MMX and SSE instructions for the random programs.  The translator runs
 * most of them as host instructions (translator/gen_sse.c) with the
 * guest's XMM state and MXCSR in the host and MMX on the host FPU, and the
 * rest as callouts, so this class checks both: register forms of XMM and
 * MMX arithmetic, shuffles and compares with an imm8 (CMPPS's reserved
 * predicate bits too), SSSE3 (0F 38) and PALIGNR (0F 3A), unaligned-safe
 * loads and stores (across page boundaries), the 16-byte forms that
 * require alignment (misaligned on purpose: #GP(0)), moves to and from
 * general registers, COMISD (which writes EFLAGS), EMMS and MMX between
 * x87 instructions (the x87/MMX aliasing), LDMXCSR with other rounding,
 * DAZ, FTZ and sometimes unmasked exceptions (#XM), STMXCSR, CR0.TS set
 * before an SSE instruction (#NM), the fences, PAUSE, CLD/STD and CLFLUSH.
 */
#include "tests/bt/bt_gen_internal.h"

typedef struct SimdOp {
    uint8_t pfx; /* mandatory prefix or 0 */
    uint8_t opc; /* 0F opc */
} SimdOp;

/* xmm, xmm/m128 (aligned forms: register operands only) and mm, mm. */
static const SimdOp xmm_ops[] = {
    {0x00, 0x58}, {0x66, 0x59}, {0xf3, 0x5e}, {0xf2, 0x51}, {0x00, 0x5d}, {0x66, 0x5f},
    {0x00, 0x57}, {0x66, 0xfe}, {0x66, 0xd5}, {0x66, 0xef}, {0x66, 0x74}, {0x66, 0x60},
    {0x66, 0x6b}, {0x66, 0xf4}, {0x66, 0xe0}, {0x00, 0x14}, {0xf2, 0x7c}, {0x66, 0xd0},
    {0x66, 0x5b}, {0xf3, 0xe6}, {0x66, 0x5a}, {0xf3, 0x12}, {0x66, 0xd2}, {0x66, 0xe2},
};
static const uint8_t mmx_ops[] = {0xfc, 0xfd, 0xfe, 0xd4, 0xe8, 0xd8, 0xe5, 0xf5, 0xef, 0x63,
                                  0x67, 0x68, 0x74, 0xd1, 0xe1, 0xf3, 0xda, 0xe0, 0xf6};

/* Loads from memory that need no alignment: {prefix, opcode, size}. */
static const struct {
    uint8_t pfx, opc, size;
} loads[] = {
    {0x00, 0x10, 16}, {0xf3, 0x6f, 16}, {0xf3, 0x10, 4}, {0xf2, 0x10, 8},
    {0xf3, 0x58, 4},  {0xf2, 0x59, 8},  {0x66, 0x6e, 4}, {0xf2, 0x2a, 4},
    {0xf3, 0x7e, 8},  {0x66, 0x12, 8},  {0x00, 0x16, 8},
};
/* Stores to memory that need no alignment. */
static const struct {
    uint8_t pfx, opc, size;
} stores[] = {
    {0x00, 0x11, 16}, {0xf3, 0x7f, 16}, {0xf3, 0x11, 4}, {0xf2, 0x11, 8},
    {0x66, 0x7e, 4},  {0x66, 0xd6, 8},  {0x00, 0x17, 8},
};

static void prefix(G *g, uint8_t pfx)
{
    if (pfx) {
        btg_e8(g, pfx);
    }
}

static void mem_form(G *g, uint8_t pfx, uint8_t opc, int size, bool write, int reg)
{
    Mem m = btg_gen_mem(g, size, write);
    btg_before_fault(g, &m);
    btg_begin(g);
    btg_mem_prefixes(g, &m);
    prefix(g, pfx);
    btg_e8(g, 0x0f);
    btg_e8(g, opc);
    btg_mem_modrm(g, &m, reg);
}

/* Register form: [pfx] 0F [map] opc ModRM(r1, r2) [imm8]. */
static void reg_form(G *g, uint8_t pfx, uint8_t map, uint8_t opc, int r1, int r2, int imm)
{
    btg_begin(g);
    prefix(g, pfx);
    btg_e8(g, 0x0f);
    if (map) {
        btg_e8(g, map);
    }
    btg_e8(g, opc);
    btg_e8(g, 0xc0 | r1 << 3 | r2);
    if (imm >= 0) {
        btg_e8(g, (uint32_t)imm);
    }
}

/* Memory form with an aligned (sometimes deliberately misaligned) operand. */
static void mem_form_aligned(G *g, uint8_t pfx, uint8_t map, uint8_t opc, int size, bool write,
                             int reg, int imm)
{
    Mem m = btg_gen_mem_align(g, size, write, true);
    btg_before_fault(g, &m);
    btg_begin(g);
    btg_mem_prefixes(g, &m);
    prefix(g, pfx);
    btg_e8(g, 0x0f);
    if (map) {
        btg_e8(g, map);
    }
    btg_e8(g, opc);
    btg_mem_modrm(g, &m, reg);
    if (imm >= 0) {
        btg_e8(g, (uint32_t)imm);
    }
}

/* The 16-byte forms that require alignment (SDM Vol.1 11.6.8): {prefix, opcode, store}. */
static const struct {
    uint8_t pfx, opc;
    bool store;
} aligned16[] = {
    {0x00, 0x28, false}, {0x66, 0x6f, false}, {0x00, 0x58, false}, {0x66, 0x59, false},
    {0x66, 0xfe, false}, {0x66, 0xef, false}, {0x00, 0x54, false}, {0x66, 0x5e, false},
    {0xf2, 0x7c, false}, {0x66, 0x2f, false}, {0x00, 0x29, true},  {0x66, 0x7f, true},
    {0x00, 0x2b, true},  {0x66, 0xe7, true},
};

/* With an imm8: {prefix, map, opcode, mmx}: PSHUFD, SHUFPS, CMPPS, CMPSD, PSHUFW,
 * PALIGNR (xmm and mm), PSHUFHW. */
static const struct {
    uint8_t pfx, map, opc;
    bool mmx;
} with_imm[] = {
    {0x66, 0, 0x70, false},   {0x00, 0, 0xc6, false}, {0x00, 0, 0xc2, false},
    {0xf2, 0, 0xc2, false},   {0x00, 0, 0x70, true},  {0x66, 0x3a, 0x0f, false},
    {0x00, 0x3a, 0x0f, true}, {0xf3, 0, 0x70, false},
};

/* SSSE3 (0F 38): PSHUFB, PHADDW, PMADDUBSW, PMULHRSW, PSIGNB, PABSD. */
static const uint8_t ssse3_ops[] = {0x00, 0x01, 0x04, 0x0b, 0x08, 0x1e};

/* push imm32 ; ldmxcsr [esp] ; lea esp, [esp+4] */
static void load_mxcsr(G *g)
{
    uint32_t v = 0x1f80u | (btg_rnd(g, 4) << 13); /* RC */
    if (btg_chance(g, 4)) {
        v |= 0x0040u; /* DAZ */
    }
    if (btg_chance(g, 4)) {
        v |= 0x8000u; /* FTZ */
    }
    if (g->p->cfg.faults && btg_chance(g, 3)) {
        v &= ~(btg_rnd(g, 64) << 7); /* unmask some: #XM may follow */
    }
    btg_flags_read(g, F_ALL); /* #XM pushes EFLAGS */
    btg_begin(g);
    btg_e8(g, 0x68);
    btg_e32(g, v);
    btg_begin(g);
    btg_e8(g, 0x0f);
    btg_e8(g, 0xae);
    btg_e8(g, 0x14); /* /2, [esp] */
    btg_e8(g, 0x24);
    btg_begin(g);
    btg_e8(g, 0x8d);
    btg_e8(g, 0x64);
    btg_e8(g, 0x24);
    btg_e8(g, 0x04);
}

/* mov eax, cr0 ; or eax, 8 ; mov cr0, eax: the next SSE or MMX instruction raises #NM. */
static void set_ts(G *g)
{
    btg_flags_read(g, F_ALL);
    static const uint8_t seq[3][3] = {{0x0f, 0x20, 0xc0}, {0x83, 0xc8, 0x08}, {0x0f, 0x22, 0xc0}};
    for (int i = 0; i < 3; i++) {
        btg_begin(g);
        for (int k = 0; k < 3; k++) {
            btg_e8(g, seq[i][k]);
        }
    }
    btg_define_flags(g);
}

/* x87 and MMX in turn: fld1 ; <MMX op> ; fld1 (the stack is full: overflow) ;
 * emms ; fldz ; faddp */
static void x87_mmx_switch(G *g, int r1, int r2)
{
    static const uint8_t x87_a[2] = {0xd9, 0xe8}, x87_b[2] = {0xd9, 0xee}, faddp[2] = {0xde, 0xc1};
    btg_flags_read(g, F_ALL);
    btg_begin(g);
    btg_e8(g, x87_a[0]);
    btg_e8(g, x87_a[1]);
    reg_form(g, 0, 0, mmx_ops[btg_rnd(g, sizeof(mmx_ops))], r1, r2, -1);
    if (btg_chance(g, 2)) {
        btg_begin(g);
        btg_e8(g, x87_a[0]);
        btg_e8(g, x87_a[1]);
    }
    btg_begin(g);
    btg_e8(g, 0x0f);
    btg_e8(g, 0x77); /* emms */
    btg_begin(g);
    btg_e8(g, x87_b[0]);
    btg_e8(g, x87_b[1]);
    btg_begin(g);
    btg_e8(g, faddp[0]);
    btg_e8(g, faddp[1]);
    btg_flags_read(g, F_ALL);
}

void btg_gen_simd(G *g)
{
    int form = (int)btg_rnd(g, 18);
    int r1 = (int)btg_rnd(g, 8), r2 = (int)btg_rnd(g, 8);
    if (form <= 2) {
        const SimdOp *op = &xmm_ops[btg_rnd(g, sizeof(xmm_ops) / sizeof(xmm_ops[0]))];
        reg_form(g, op->pfx, 0, op->opc, r1, r2, -1);
    } else if (form <= 4) {
        reg_form(g, 0, 0, mmx_ops[btg_rnd(g, sizeof(mmx_ops))], r1, r2, -1);
    } else if (form == 5) {
        int i = (int)btg_rnd(g, sizeof(loads) / sizeof(loads[0]));
        mem_form(g, loads[i].pfx, loads[i].opc, loads[i].size, false, r1);
    } else if (form == 6) {
        int i = (int)btg_rnd(g, sizeof(stores) / sizeof(stores[0]));
        mem_form(g, stores[i].pfx, stores[i].opc, stores[i].size, true, r1);
    } else if (form == 7) {
        /* mm, m64 and m64, mm */
        bool store = btg_chance(g, 2);
        mem_form(g, 0, store ? 0x7f : 0xd4, 8, store, r1);
    } else if (form == 8) {
        /* To a general register: MOVD, PMOVMSKB, CVTTSD2SI, PEXTRW */
        static const SimdOp to_gpr[] = {{0x66, 0x7e}, {0x66, 0xd7}, {0xf2, 0x2c}, {0x00, 0xc5}};
        int i = (int)btg_rnd(g, 4);
        int dst = btg_dst_reg(g, 4);
        btg_begin(g);
        prefix(g, to_gpr[i].pfx);
        btg_e8(g, 0x0f);
        btg_e8(g, to_gpr[i].opc);
        btg_e8(g, i == 0 ? 0xc0 | r1 << 3 | dst : 0xc0 | dst << 3 | r1);
        if (i == 3) {
            btg_e8(g, btg_rnd(g, 256));
        }
    } else if (form == 9) {
        /* COMISD xmm, xmm: ZF PF CF from the compare, OF SF AF cleared */
        reg_form(g, 0x66, 0, 0x2f, r1, r2, -1);
        btg_flags_effect(g, F_ALL, 0);
    } else if (form == 10) {
        mem_form(g, 0, 0xae, 1, false, 7); /* clflush m8 */
    } else if (form == 11) {
        int i = (int)btg_rnd(g, sizeof(aligned16) / sizeof(aligned16[0]));
        mem_form_aligned(g, aligned16[i].pfx, 0, aligned16[i].opc, 16, aligned16[i].store, r1, -1);
        if (aligned16[i].opc == 0x2f) {
            btg_flags_effect(g, F_ALL, 0); /* comisd xmm, m64 */
        }
    } else if (form == 12) {
        int i = (int)btg_rnd(g, sizeof(with_imm) / sizeof(with_imm[0]));
        int imm = (int)btg_rnd(g, 256);
        if (btg_chance(g, 2)) {
            reg_form(g, with_imm[i].pfx, with_imm[i].map, with_imm[i].opc, r1, r2, imm);
        } else if (with_imm[i].mmx) {
            mem_form_aligned(g, with_imm[i].pfx, with_imm[i].map, with_imm[i].opc, 8, false, r1,
                             imm);
        } else {
            mem_form_aligned(g, with_imm[i].pfx, with_imm[i].map, with_imm[i].opc, 16, false, r1,
                             imm);
        }
    } else if (form == 13) {
        /* SSSE3, XMM or MMX; the shifts by an imm8 (66 0F 71-73 /2 /4 /6, /3 /7) */
        uint8_t pfx = btg_chance(g, 2) ? 0x66 : 0x00;
        if (btg_chance(g, 2)) {
            reg_form(g, pfx, 0x38, ssse3_ops[btg_rnd(g, sizeof(ssse3_ops))], r1, r2, -1);
        } else {
            static const uint8_t shifts[][2] = {{0x71, 2}, {0x71, 4}, {0x72, 6}, {0x73, 2},
                                                {0x73, 6}, {0x73, 3}, {0x73, 7}};
            int i = (int)btg_rnd(g, pfx ? 7 : 5); /* PSRLDQ, PSLLDQ: XMM only */
            reg_form(g, pfx, 0, shifts[i][0], shifts[i][1], r2, (int)btg_rnd(g, 80));
        }
    } else if (form == 14) {
        /* PINSRW xmm/mm, r32 or m16 */
        uint8_t pfx = btg_chance(g, 2) ? 0x66 : 0x00;
        if (btg_chance(g, 2)) {
            reg_form(g, pfx, 0, 0xc4, r1, btg_rnd(g, 8), (int)btg_rnd(g, 256));
        } else {
            Mem m = btg_gen_mem(g, 2, false);
            btg_before_fault(g, &m);
            btg_begin(g);
            btg_mem_prefixes(g, &m);
            prefix(g, pfx);
            btg_e8(g, 0x0f);
            btg_e8(g, 0xc4);
            btg_mem_modrm(g, &m, r1);
            btg_e8(g, btg_rnd(g, 256));
        }
    } else if (form == 15) {
        if (btg_chance(g, 3)) {
            mem_form(g, 0, 0xae, 4, true, 3); /* stmxcsr m32 */
        } else {
            load_mxcsr(g);
        }
    } else if (form == 16) {
        if (g->p->cfg.cpl == 0 && g->p->cfg.faults && btg_chance(g, 4)) {
            set_ts(g);
            reg_form(g, 0x66, 0, 0x58, r1, r2, -1); /* addpd: #NM */
        } else if (btg_x87_on()) {
            x87_mmx_switch(g, r1, r2);
        } else {
            btg_begin(g);
            btg_e8(g, 0x0f);
            btg_e8(g, 0x77); /* emms */
        }
    } else {
        static const uint8_t misc[7][3] = {
            {0x0f, 0x77, 0},    /* emms */
            {0x0f, 0xae, 0xf0}, /* mfence */
            {0x0f, 0xae, 0xe8}, /* lfence */
            {0x0f, 0xae, 0xf8}, /* sfence */
            {0xf3, 0x90, 0},    /* pause */
            {0xfc, 0, 0},       /* cld */
            {0xfd, 0, 0},       /* std */
        };
        int i = (int)btg_rnd(g, 7);
        const uint8_t *b = misc[i];
        btg_begin(g);
        btg_e8(g, b[0]);
        if (b[1]) {
            btg_e8(g, b[1]);
        }
        if (b[2]) {
            btg_e8(g, b[2]);
        }
        if (i >= 5) {
            g->df = i == 6;
            g->df_unknown = false;
        }
    }
}
