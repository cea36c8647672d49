/*
 * The random program generator (see bt_gen.h): generator state, encoding,
 * memory operands and the flag bookkeeping; the instruction classes are in
 * bt_gen_insn.c and bt_gen_flow.c.
 *
 * Each class instruction may be preceded by setup instructions (MOV r32,
 * imm32, which touches no flags) that put an operand in place: a base
 * register so an address lands in the data window, a shift count, a
 * divisor.  Memory operands use every addressing form the decoder knows
 * (absolute, base, base+disp8/32, SIB with and without base, 16-bit
 * forms through FS), every segment class the translator distinguishes
 * (flat DS/ES/SS, FS with a base, GS with a limit), and sometimes straddle
 * a page boundary or land on the fault page.
 *
 * Flags: SDM Vol.1 Appendix A and each instruction's "Flags Affected".
 */
#include <string.h>

#include "tests/bt/bt_gen_internal.h"

uint64_t btg_rnd64(G *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t btg_rnd(G *g, uint32_t n)
{
    return (uint32_t)(btg_rnd64(g) % n);
}

bool btg_chance(G *g, uint32_t one_in)
{
    return btg_rnd(g, one_in) == 0;
}

/* ---- emission ---- */

bool btg_room(const G *g)
{
    return g->p->len + 64 < BTG_CODE_MAX;
}

void btg_e8(G *g, uint32_t v)
{
    if (g->p->len < BTG_CODE_MAX) {
        g->p->code[g->p->len++] = (uint8_t)v;
    }
}

void btg_e16(G *g, uint32_t v)
{
    btg_e8(g, v);
    btg_e8(g, v >> 8);
}

void btg_e32(G *g, uint32_t v)
{
    btg_e16(g, v);
    btg_e16(g, v >> 16);
}

void btg_put32(G *g, uint32_t at, uint32_t v)
{
    memcpy(g->p->code + at, &v, 4);
}

/* Start an instruction (for listings). */
void btg_begin(G *g)
{
    BTProgram *p = g->p;
    if (p->nstarts < sizeof(p->starts) / sizeof(p->starts[0])) {
        p->starts[p->nstarts++] = (uint16_t)p->len;
    }
}

uint32_t btg_here(const G *g)
{
    return g->p->code_at + g->p->len;
}

/* mov r32, imm32 */
void btg_setup_reg(G *g, int r, uint32_t v)
{
    btg_begin(g);
    btg_e8(g, 0xb8 + r);
    btg_e32(g, v);
}

/* cmp eax, imm8: defines all six arithmetic flags */
void btg_define_flags(G *g)
{
    btg_begin(g);
    btg_e8(g, 0x83);
    btg_e8(g, 0xf8);
    btg_e8(g, btg_rnd(g, 256));
    g->poison = 0;
}

void btg_flags_read(G *g, uint32_t mask)
{
    if (g->poison & mask) {
        btg_define_flags(g);
    }
}

void btg_flags_effect(G *g, uint32_t defined, uint32_t undefined)
{
    g->poison = (g->poison & ~defined) | undefined;
}

/* A register other than ESP. */
int btg_any_reg(G *g)
{
    int r = btg_rnd(g, 7);
    return r >= ESP ? r + 1 : r;
}

/* An address register: not ESP, not one an operand of the instruction holds. */
int btg_addr_reg(G *g)
{
    for (;;) {
        int r = btg_any_reg(g);
        if (!(g->reserved & (1u << r))) {
            return r;
        }
    }
}

/* ---- memory operands ---- */

void btg_mem_prefixes(G *g, const Mem *m)
{
    for (int i = 0; i < m->nprefix; i++) {
        btg_e8(g, m->prefix[i]);
    }
}

void btg_mem_modrm(G *g, const Mem *m, int reg)
{
    btg_e8(g, m->mod_rm | (reg & 7) << 3);
    if (m->has_sib) {
        btg_e8(g, m->sib);
    }
    for (int i = 0; i < m->ndisp; i++) {
        btg_e8(g, m->disp[i]);
    }
}

static void mem_disp(Mem *m, uint32_t v, int n)
{
    for (int i = 0; i < n; i++) {
        m->disp[i] = (uint8_t)(v >> (8 * i));
    }
    m->ndisp = n;
}

/* A linear address for an access of size bytes. */
static uint32_t pick_linear(G *g, int size, bool *faulty, bool aligned)
{
    *faulty = false;
    if (g->p->cfg.faults && g->p->cfg.paging && btg_chance(g, 12)) {
        *faulty = true;
        return BTG_FAULT_PAGE + (btg_rnd(g, 0x1000 - size) & (aligned ? ~(uint32_t)size + 1 : ~0u));
    }
    if (aligned) {
        uint32_t lin = BTG_DATA + (btg_rnd(g, BTG_DATA_SIZE - size) & ~(uint32_t)(size - 1));
        if (g->p->cfg.faults && btg_chance(g, 8)) {
            *faulty = true; /* misaligned: #GP(0) */
            lin += 1 + btg_rnd(g, (uint32_t)size - 1);
        }
        return lin;
    }
    if (size > 1 && btg_chance(g, 10)) {
        uint32_t page = BTG_DATA + 0x1000 * (1 + btg_rnd(g, 3));
        return page - 1 - btg_rnd(g, size - 1); /* straddles a page boundary */
    }
    uint32_t off = btg_rnd(g, BTG_DATA_SIZE - 8);
    if (btg_chance(g, 2)) {
        off &= ~3u;
    }
    return BTG_DATA + off;
}

/* 16-bit addressing through FS (base 0x20000): [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [disp16]
 * [bx] ± disp */
static void mem_16bit(G *g, Mem *m, uint32_t ea)
{
    static const int base16[8] = {EBX, EBX, EBP, EBP, -1, -1, EBP, EBX};
    static const int index16[8] = {ESI, EDI, ESI, EDI, ESI, EDI, -1, -1};
    int rm = btg_rnd(g, 8);
    int mod = rm == 6 ? btg_rnd(g, 3) : btg_rnd(g, 3);
    int32_t disp = mod == 1   ? (int32_t)btg_rnd(g, 256) - 128
                   : mod == 2 ? (int32_t)btg_rnd(g, 0x800)
                              : 0;
    if (mod == 0 && rm == 6) {
        mem_disp(m, ea, 2); /* [disp16] */
    } else {
        uint32_t rest = ea - (uint32_t)disp;
        int b = base16[rm], x = index16[rm];
        if (b >= 0 && x >= 0) {
            uint32_t xv = btg_rnd(g, 0x100);
            btg_setup_reg(g, x, xv);
            btg_setup_reg(g, b, (rest - xv) & 0xffff);
        } else {
            btg_setup_reg(g, b >= 0 ? b : x, rest & 0xffff);
        }
        mem_disp(m, (uint32_t)disp, mod == 1 ? 1 : mod == 2 ? 2 : 0);
    }
    m->mod_rm = (uint8_t)(mod << 6 | rm);
    m->prefix[m->nprefix++] = 0x67;
}

/* Choose a memory operand of size bytes and emit the setups it needs. */
Mem btg_gen_mem(G *g, int size, bool write)
{
    return btg_gen_mem_align(g, size, write, false);
}

Mem btg_gen_mem_align(G *g, int size, bool write, bool aligned)
{
    Mem m = {0};
    bool faulty;
    uint32_t lin = pick_linear(g, size, &faulty, aligned);
    m.may_fault = faulty;
    uint32_t seg_base = 0;
    int seg = btg_rnd(g, 10);
    if (seg == 0 && g->fs_ok) {
        m.prefix[m.nprefix++] = 0x64; /* FS: base 0x20000 */
        seg_base = BTG_FS_BASE;
        if (!faulty && btg_chance(g, 3)) {
            mem_16bit(g, &m, lin - seg_base);
            return m;
        }
    } else if (seg == 1 && g->gs_ok) {
        m.prefix[m.nprefix++] = 0x65; /* GS: limit 1 MiB */
        if (g->p->cfg.faults && btg_chance(g, 4)) {
            lin += 0x100000; /* past the limit: #GP(0) */
            m.may_fault = true;
        }
    } else if (seg == 2) {
        m.prefix[m.nprefix++] = 0x26; /* ES */
    } else if (seg == 3) {
        m.prefix[m.nprefix++] = 0x36; /* SS */
    } else if (seg == 4 && !write) {
        m.prefix[m.nprefix++] = 0x2e; /* CS: readable code segment */
    }
    uint32_t ea = lin - seg_base;
    int form = btg_rnd(g, 6);
    int base = btg_addr_reg(g);
    if (form == 0) {
        m.mod_rm = 0x05; /* [disp32] */
        mem_disp(&m, ea, 4);
    } else if (form == 1 && base != EBP) {
        btg_setup_reg(g, base, ea); /* [base] */
        m.mod_rm = (uint8_t)base;
    } else if (form <= 3) {
        bool d8 = form == 2;
        int32_t disp = d8 ? (int32_t)btg_rnd(g, 256) - 128 : (int32_t)btg_rnd64(g);
        btg_setup_reg(g, base, ea - (uint32_t)disp);
        m.mod_rm = (uint8_t)((d8 ? 0x40 : 0x80) | base);
        mem_disp(&m, (uint32_t)disp, d8 ? 1 : 4);
    } else {
        /* SIB: [base + index*scale + disp], or [index*scale + disp32] */
        int index = btg_addr_reg(g);
        int scale = btg_rnd(g, 4);
        uint32_t iv = btg_rnd(g, 0x200);
        btg_setup_reg(g, index, iv);
        m.has_sib = true;
        if (form == 4 || index == base) {
            m.mod_rm = 0x04;
            m.sib = (uint8_t)(scale << 6 | index << 3 | 5);
            mem_disp(&m, ea - (iv << scale), 4);
        } else {
            int32_t disp = (int32_t)btg_rnd(g, 256) - 128;
            btg_setup_reg(g, base, ea - (uint32_t)disp - (iv << scale));
            m.mod_rm = 0x44;
            m.sib = (uint8_t)(scale << 6 | index << 3 | base);
            mem_disp(&m, (uint32_t)disp, 1);
        }
    }
    return m;
}

/* Faults push EFLAGS: make them defined first. */
void btg_before_fault(G *g, const Mem *m)
{
    if (m->may_fault) {
        btg_flags_read(g, F_ALL);
    }
}

/* ---- instruction classes ---- */

void btg_opsize_prefix(G *g, int size)
{
    if (size == 2) {
        btg_e8(g, 0x66);
    }
}

int btg_pick_size(G *g)
{
    static const int sizes[4] = {1, 2, 4, 4};
    return sizes[btg_rnd(g, 4)];
}

/* A register operand of size that may be written: never ESP/SP. */
int btg_dst_reg(G *g, int size)
{
    return size == 1 ? (int)btg_rnd(g, 8) : btg_any_reg(g);
}

static bool gen_x87 = true;

void btg_set_x87(bool on)
{
    gen_x87 = on;
}

bool btg_x87_on(void)
{
    return gen_x87;
}

static void gen_one(G *g)
{
    if (btg_chance(g, 12)) {
        btg_gen_simd(g);
        return;
    }
    if (btg_chance(g, 10) && gen_x87) {
        btg_gen_x87(g); /* a run of x87 instructions (bt_gen_x87.c) */
        return;
    }
    int w = btg_rnd(g, 100);
    if (w < 22) {
        btg_gen_alu(g);
    } else if (w < 32) {
        btg_gen_unary(g);
    } else if (w < 46) {
        btg_gen_mov(g);
    } else if (w < 53) {
        btg_gen_shift(g);
    } else if (w < 58) {
        btg_gen_muldiv(g);
    } else if (w < 66) {
        btg_gen_bits(g);
    } else if (w < 74) {
        btg_gen_stack(g);
    } else if (w < 78) {
        btg_gen_string(g);
    } else if (w < 88) {
        btg_gen_branch(g);
    } else if (w < 91) {
        btg_gen_segment(g);
    } else if (w < 94 || !g->p->cfg.smc) {
        btg_gen_system(g);
    } else {
        btg_gen_smc_store(g);
    }
}

const BTGenConfig btg_configs[BTG_NCONFIGS_ALL] = {
    {.cpl = 0, .paging = false, .faults = false, .smc = false, .length = 40},
    {.cpl = 3, .paging = false, .faults = false, .smc = true, .length = 40},
    {.cpl = 0, .paging = true, .faults = false, .smc = true, .length = 40},
    {.cpl = 3, .paging = true, .faults = false, .smc = false, .length = 40},
    {.cpl = 0, .paging = true, .faults = true, .smc = true, .length = 60},
    {.cpl = 3, .paging = true, .faults = true, .smc = true, .length = 60},
    {.cpl = 0, .paging = false, .faults = true, .smc = false, .length = 60},
    {.cpl = 3, .paging = false, .faults = true, .smc = true, .length = 60},
    /* long mode: paging is always on, 4-level */
    {.cpl = 0, .paging = true, .faults = true, .smc = true, .length = 60, .mode = BTG_MODE_COMPAT},
    {.cpl = 3, .paging = true, .faults = true, .smc = false, .length = 60, .mode = BTG_MODE_COMPAT},
    {.cpl = 0, .paging = true, .faults = false, .smc = false, .length = 60, .mode = BTG_MODE_64},
    {.cpl = 3, .paging = true, .faults = false, .smc = false, .length = 60, .mode = BTG_MODE_64},
    {.cpl = 0, .paging = true, .faults = true, .smc = false, .length = 60, .mode = BTG_MODE_64},
    {.cpl = 3, .paging = true, .faults = true, .smc = false, .length = 60, .mode = BTG_MODE_64},
};

void btg_generate(BTProgram *p, int config, uint64_t seed, uint64_t index)
{
    const BTGenConfig *cfg = &btg_configs[config];
    memset(p, 0, sizeof(*p));
    G gs = {.p = p,
            .rng = seed * 0x2545f4914f6cdd1dull ^ (index + 1) * 0x9e3779b97f4a7c15ull ^
                   (uint64_t)(config + 1) * 0xd6e8feb86659fd93ull};
    G *g = &gs;
    p->cfg = *cfg;
    p->code_at = BTG_CODE + (btg_chance(g, 3) ? 0xf00 + btg_rnd(g, 0x100) : btg_rnd(g, 0x800));
    for (int i = 0; i < 8; i++) {
        p->regs[i] = (uint32_t)btg_rnd64(g);
    }
    if (cfg->mode == BTG_MODE_64) {
        for (int i = 0; i < 16; i++) {
            p->regs[i] = btg_rnd64(g);
        }
    }
    p->eflags = (uint32_t)btg_rnd64(g) & F_ALL;
    p->data_seed = (uint32_t)btg_rnd64(g);
    p->fault_kind = (int)btg_rnd(g, 3);
    p->wp = btg_chance(g, 2);
    p->load_fs = btg_chance(g, 2);
    p->load_gs = btg_chance(g, 2);
    g->fs_ok = p->load_fs;
    g->gs_ok = p->load_gs;
    if (cfg->mode == BTG_MODE_64) {
        btg_generate64(g);
        return;
    }
    for (int i = 0; i < cfg->length && btg_room(g); i++) {
        gen_one(g);
        btg_fwd_step(g);
        if (g->nsmc && btg_chance(g, 3)) {
            btg_gen_smc_target(g);
        }
    }
    if (g->nsmc) {
        btg_gen_smc_target(g);
    }
    while (g->nfwd) {
        btg_fwd_bind(g, &g->fwd[--g->nfwd]);
    }
    btg_begin(g);
    btg_e8(g, 0xeb);
    btg_e8(g, 0xfe); /* jmp $ */
    p->poison = g->poison;
    /* Drawn last, so the code of every program is what it was before PAE. */
    if (cfg->mode == BTG_MODE_COMPAT) {
        /* With NXE off, XD is a reserved bit: the alias page, which the
         * program writes through without defining flags first, has none. */
        p->pae = true;
        p->nxe_off = btg_chance(g, 6);
        p->alias_nx = !p->nxe_off && cfg->faults && btg_chance(g, 2);
        p->fault_nx = btg_chance(g, 2);
    } else if (cfg->paging) {
        p->pae = btg_chance(g, 2);
        p->alias_nx = p->pae && cfg->faults && btg_chance(g, 2);
        p->fault_nx = p->pae && btg_chance(g, 2);
    }
}
