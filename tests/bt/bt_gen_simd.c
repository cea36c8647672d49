/*
 * MMX and SSE instructions for the random programs.  The translator runs
 * them as callouts into the interpreter (translator/scan.c treats an
 * operation it has no emitter for as one), so what this class checks is
 * that they do: that translated code hands the interpreter exact guest
 * registers, flags and memory around them, that a fault inside one leaves
 * the block precisely, and that their stores reach self-modifying-code
 * and dirty tracking.  Register-register forms of XMM and MMX
 * arithmetic, unaligned-safe loads and stores, moves to and from general
 * registers, COMISD (which writes EFLAGS), EMMS, the fences, PAUSE and
 * CLFLUSH.  MXCSR keeps every exception masked, so nothing here raises #XM.
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

void btg_gen_simd(G *g)
{
    int form = (int)btg_rnd(g, 12);
    int r1 = (int)btg_rnd(g, 8), r2 = (int)btg_rnd(g, 8);
    if (form <= 2) {
        const SimdOp *op = &xmm_ops[btg_rnd(g, sizeof(xmm_ops) / sizeof(xmm_ops[0]))];
        btg_begin(g);
        prefix(g, op->pfx);
        btg_e8(g, 0x0f);
        btg_e8(g, op->opc);
        btg_e8(g, 0xc0 | r1 << 3 | r2);
    } else if (form <= 4) {
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, mmx_ops[btg_rnd(g, sizeof(mmx_ops))]);
        btg_e8(g, 0xc0 | r1 << 3 | r2);
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
        btg_begin(g);
        btg_e8(g, 0x66);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x2f);
        btg_e8(g, 0xc0 | r1 << 3 | r2);
        btg_flags_effect(g, F_ALL, 0);
    } else if (form == 10) {
        mem_form(g, 0, 0xae, 1, false, 7); /* clflush m8 */
    } else {
        static const uint8_t misc[4][3] = {
            {0x0f, 0x77, 0},    /* emms */
            {0x0f, 0xae, 0xf0}, /* mfence */
            {0x0f, 0xae, 0xe8}, /* lfence */
            {0xf3, 0x90, 0},    /* pause */
        };
        const uint8_t *b = misc[btg_rnd(g, 4)];
        btg_begin(g);
        btg_e8(g, b[0]);
        btg_e8(g, b[1]);
        if (b[2]) {
            btg_e8(g, b[2]);
        }
    }
}
