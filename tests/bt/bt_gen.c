/*
 * The random program generator (see bt_gen.h).
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

#include "tests/bt/bt_gen.h"

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_SZP (F_SF | F_ZF | F_PF)

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

typedef struct Fwd {
    uint32_t field; /* offset of the displacement */
    bool wide;      /* rel32 (else rel8) */
    int left;       /* class instructions still to skip */
    uint32_t poison;/* undefined flags where the branch is taken */
} Fwd;

typedef struct G {
    BTProgram *p;
    uint64_t rng;
    uint32_t poison;
    bool df;            /* EFLAGS.DF as the program leaves it (for string setups) */
    bool fs_ok, gs_ok;  /* FS/GS hold the special segments */
    Fwd fwd[8];
    int nfwd;
    uint32_t smc_field[4]; /* absolute-address fields of stores awaiting a target */
    int smc_byte[4];       /* byte offset into the target's imm32 (-1: dword store) */
    int nsmc;
    unsigned reserved;     /* registers gen_mem must not use for addressing */
} G;

static uint64_t rnd64(G *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rnd(G *g, uint32_t n)
{
    return (uint32_t)(rnd64(g) % n);
}

static bool chance(G *g, uint32_t one_in)
{
    return rnd(g, one_in) == 0;
}

/* ---- emission ---- */

static bool room(const G *g)
{
    return g->p->len + 64 < BTG_CODE_MAX;
}

static void e8(G *g, uint32_t v)
{
    if (g->p->len < BTG_CODE_MAX) {
        g->p->code[g->p->len++] = (uint8_t)v;
    }
}

static void e16(G *g, uint32_t v)
{
    e8(g, v);
    e8(g, v >> 8);
}

static void e32(G *g, uint32_t v)
{
    e16(g, v);
    e16(g, v >> 16);
}

static void put32(G *g, uint32_t at, uint32_t v)
{
    memcpy(g->p->code + at, &v, 4);
}

/* Start an instruction (for listings). */
static void begin(G *g)
{
    BTProgram *p = g->p;
    if (p->nstarts < sizeof(p->starts) / sizeof(p->starts[0])) {
        p->starts[p->nstarts++] = (uint16_t)p->len;
    }
}

static uint32_t here(const G *g)
{
    return g->p->code_at + g->p->len;
}

/* mov r32, imm32 */
static void setup_reg(G *g, int r, uint32_t v)
{
    begin(g);
    e8(g, 0xb8 + r);
    e32(g, v);
}

/* cmp eax, imm8: defines all six arithmetic flags */
static void define_flags(G *g)
{
    begin(g);
    e8(g, 0x83);
    e8(g, 0xf8);
    e8(g, rnd(g, 256));
    g->poison = 0;
}

static void flags_read(G *g, uint32_t mask)
{
    if (g->poison & mask) {
        define_flags(g);
    }
}

static void flags_effect(G *g, uint32_t defined, uint32_t undefined)
{
    g->poison = (g->poison & ~defined) | undefined;
}

/* A register other than ESP. */
static int any_reg(G *g)
{
    int r = rnd(g, 7);
    return r >= ESP ? r + 1 : r;
}

/* An address register: not ESP, not one an operand of the instruction holds. */
static int addr_reg(G *g)
{
    for (;;) {
        int r = any_reg(g);
        if (!(g->reserved & (1u << r))) {
            return r;
        }
    }
}

/* ---- memory operands ---- */

typedef struct Mem {
    uint8_t prefix[2];
    int nprefix;
    uint8_t mod_rm;    /* mod and rm bits of ModRM */
    bool has_sib;
    uint8_t sib;
    uint8_t disp[4];
    int ndisp;
    bool may_fault;
} Mem;

static void mem_prefixes(G *g, const Mem *m)
{
    for (int i = 0; i < m->nprefix; i++) {
        e8(g, m->prefix[i]);
    }
}

static void mem_modrm(G *g, const Mem *m, int reg)
{
    e8(g, m->mod_rm | (reg & 7) << 3);
    if (m->has_sib) {
        e8(g, m->sib);
    }
    for (int i = 0; i < m->ndisp; i++) {
        e8(g, m->disp[i]);
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
static uint32_t pick_linear(G *g, int size, bool *faulty)
{
    *faulty = false;
    if (g->p->cfg.faults && g->p->cfg.paging && chance(g, 12)) {
        *faulty = true;
        return BTG_FAULT_PAGE + rnd(g, 0x1000 - size);
    }
    if (size > 1 && chance(g, 10)) {
        uint32_t page = BTG_DATA + 0x1000 * (1 + rnd(g, 3));
        return page - 1 - rnd(g, size - 1); /* straddles a page boundary */
    }
    uint32_t off = rnd(g, BTG_DATA_SIZE - 8);
    if (chance(g, 2)) {
        off &= ~3u;
    }
    return BTG_DATA + off;
}

/* 16-bit addressing through FS (base 0x20000): [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [disp16] [bx] ± disp */
static void mem_16bit(G *g, Mem *m, uint32_t ea)
{
    static const int base16[8] = {EBX, EBX, EBP, EBP, -1, -1, EBP, EBX};
    static const int index16[8] = {ESI, EDI, ESI, EDI, ESI, EDI, -1, -1};
    int rm = rnd(g, 8);
    int mod = rm == 6 ? rnd(g, 3) : rnd(g, 3);
    int32_t disp = mod == 1 ? (int32_t)rnd(g, 256) - 128 : mod == 2 ? (int32_t)rnd(g, 0x800) : 0;
    if (mod == 0 && rm == 6) {
        mem_disp(m, ea, 2); /* [disp16] */
    } else {
        uint32_t rest = ea - (uint32_t)disp;
        int b = base16[rm], x = index16[rm];
        if (b >= 0 && x >= 0) {
            uint32_t xv = rnd(g, 0x100);
            setup_reg(g, x, xv);
            setup_reg(g, b, (rest - xv) & 0xffff);
        } else {
            setup_reg(g, b >= 0 ? b : x, rest & 0xffff);
        }
        mem_disp(m, (uint32_t)disp, mod == 1 ? 1 : mod == 2 ? 2 : 0);
    }
    m->mod_rm = (uint8_t)(mod << 6 | rm);
    m->prefix[m->nprefix++] = 0x67;
}

/* Choose a memory operand of size bytes and emit the setups it needs. */
static Mem gen_mem(G *g, int size, bool write)
{
    Mem m = {0};
    bool faulty;
    uint32_t lin = pick_linear(g, size, &faulty);
    m.may_fault = faulty;
    uint32_t seg_base = 0;
    int seg = rnd(g, 10);
    if (seg == 0 && g->fs_ok) {
        m.prefix[m.nprefix++] = 0x64; /* FS: base 0x20000 */
        seg_base = BTG_FS_BASE;
        if (!faulty && chance(g, 3)) {
            mem_16bit(g, &m, lin - seg_base);
            return m;
        }
    } else if (seg == 1 && g->gs_ok) {
        m.prefix[m.nprefix++] = 0x65; /* GS: limit 1 MiB */
        if (g->p->cfg.faults && chance(g, 4)) {
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
    int form = rnd(g, 6);
    int base = addr_reg(g);
    if (form == 0) {
        m.mod_rm = 0x05; /* [disp32] */
        mem_disp(&m, ea, 4);
    } else if (form == 1 && base != EBP) {
        setup_reg(g, base, ea); /* [base] */
        m.mod_rm = (uint8_t)base;
    } else if (form <= 3) {
        bool d8 = form == 2;
        int32_t disp = d8 ? (int32_t)rnd(g, 256) - 128 : (int32_t)rnd64(g);
        setup_reg(g, base, ea - (uint32_t)disp);
        m.mod_rm = (uint8_t)((d8 ? 0x40 : 0x80) | base);
        mem_disp(&m, (uint32_t)disp, d8 ? 1 : 4);
    } else {
        /* SIB: [base + index*scale + disp], or [index*scale + disp32] */
        int index = addr_reg(g);
        int scale = rnd(g, 4);
        uint32_t iv = rnd(g, 0x200);
        setup_reg(g, index, iv);
        m.has_sib = true;
        if (form == 4 || index == base) {
            m.mod_rm = 0x04;
            m.sib = (uint8_t)(scale << 6 | index << 3 | 5);
            mem_disp(&m, ea - (iv << scale), 4);
        } else {
            int32_t disp = (int32_t)rnd(g, 256) - 128;
            setup_reg(g, base, ea - (uint32_t)disp - (iv << scale));
            m.mod_rm = 0x44;
            m.sib = (uint8_t)(scale << 6 | index << 3 | base);
            mem_disp(&m, (uint32_t)disp, 1);
        }
    }
    return m;
}

/* Faults push EFLAGS: make them defined first. */
static void before_fault(G *g, const Mem *m)
{
    if (m->may_fault) {
        flags_read(g, F_ALL);
    }
}

/* ---- instruction classes ---- */

static void opsize_prefix(G *g, int size)
{
    if (size == 2) {
        e8(g, 0x66);
    }
}

static int pick_size(G *g)
{
    static const int sizes[4] = {1, 2, 4, 4};
    return sizes[rnd(g, 4)];
}

/* A register operand of size that may be written: never ESP/SP. */
static int dst_reg(G *g, int size)
{
    return size == 1 ? (int)rnd(g, 8) : any_reg(g);
}

/* ADD OR ADC SBB AND SUB XOR CMP in every form. */
static void gen_alu(G *g)
{
    int op = rnd(g, 8);
    int size = pick_size(g);
    bool logic = op == 1 || op == 4 || op == 6;
    if (op == 2 || op == 3) {
        flags_read(g, F_CF);
    }
    int form = rnd(g, 5);
    uint8_t w = size == 1 ? 0 : 1;
    if (form == 0) { /* Ev,Gv or Gv,Ev register-register */
        begin(g);
        opsize_prefix(g, size);
        bool dir = chance(g, 2);
        e8(g, op << 3 | (dir ? 2 : 0) | w);
        int dst = dst_reg(g, size), src = size == 1 ? (int)rnd(g, 8) : (int)rnd(g, 8);
        e8(g, 0xc0 | (dir ? dst << 3 | src : src << 3 | dst));
    } else if (form == 1) { /* AL/eAX, imm */
        begin(g);
        opsize_prefix(g, size);
        e8(g, op << 3 | 4 | w);
        if (size == 1) {
            e8(g, rnd(g, 256));
        } else if (size == 2) {
            e16(g, rnd(g, 0x10000));
        } else {
            e32(g, (uint32_t)rnd64(g));
        }
    } else if (form == 2) { /* group 1 on a register */
        begin(g);
        opsize_prefix(g, size);
        int imm8 = size != 1 && chance(g, 2);
        e8(g, size == 1 ? (chance(g, 8) ? 0x82 : 0x80) : imm8 ? 0x83 : 0x81);
        e8(g, 0xc0 | op << 3 | dst_reg(g, size));
        if (size == 1 || imm8) {
            e8(g, rnd(g, 256));
        } else if (size == 2) {
            e16(g, rnd(g, 0x10000));
        } else {
            e32(g, (uint32_t)rnd64(g));
        }
    } else { /* memory destination or source */
        Mem m = gen_mem(g, size, op != 7 && form == 3);
        before_fault(g, &m);
        begin(g);
        mem_prefixes(g, &m);
        opsize_prefix(g, size);
        if (form == 3 && chance(g, 2)) {
            int imm8 = size != 1 && chance(g, 2);
            e8(g, size == 1 ? 0x80 : imm8 ? 0x83 : 0x81);
            mem_modrm(g, &m, op);
            if (size == 1 || imm8) {
                e8(g, rnd(g, 256));
            } else if (size == 2) {
                e16(g, rnd(g, 0x10000));
            } else {
                e32(g, (uint32_t)rnd64(g));
            }
        } else {
            bool to_reg = form == 4;
            e8(g, op << 3 | (to_reg ? 2 : 0) | w);
            mem_modrm(g, &m, to_reg ? dst_reg(g, size) : (int)rnd(g, 8));
        }
    }
    if (logic) {
        flags_effect(g, F_ALL & ~F_AF, F_AF);
    } else {
        flags_effect(g, F_ALL, 0);
    }
}

/* INC DEC NOT NEG TEST */
static void gen_unary(G *g)
{
    int kind = rnd(g, 5);
    int size = pick_size(g);
    bool mem = chance(g, 3);
    Mem m;
    if (mem) {
        m = gen_mem(g, size, kind != 4);
        before_fault(g, &m);
    }
    begin(g);
    if (mem) {
        mem_prefixes(g, &m);
    }
    opsize_prefix(g, size);
    int reg = dst_reg(g, size);
    if (kind <= 1 && size != 1 && !mem && chance(g, 2)) {
        e8(g, (kind ? 0x48 : 0x40) + reg); /* inc/dec r32 short form */
    } else if (kind <= 1) {
        e8(g, size == 1 ? 0xfe : 0xff);
        mem ? mem_modrm(g, &m, kind) : e8(g, 0xc0 | kind << 3 | reg);
    } else if (kind <= 3) {
        e8(g, size == 1 ? 0xf6 : 0xf7);
        mem ? mem_modrm(g, &m, kind) : e8(g, 0xc0 | kind << 3 | reg);
    } else {
        bool imm = chance(g, 2);
        if (imm) {
            e8(g, size == 1 ? 0xf6 : 0xf7);
            mem ? mem_modrm(g, &m, 0) : e8(g, 0xc0 | reg);
            size == 1 ? e8(g, rnd(g, 256)) : size == 2 ? e16(g, rnd(g, 0x10000)) : e32(g, (uint32_t)rnd64(g));
        } else {
            e8(g, size == 1 ? 0x84 : 0x85);
            mem ? mem_modrm(g, &m, (int)rnd(g, 8)) : e8(g, 0xc0 | rnd(g, 8) << 3 | reg);
        }
    }
    if (kind <= 1) {
        flags_effect(g, F_ALL & ~F_CF, 0);
    } else if (kind == 3) {
        flags_effect(g, F_ALL, 0);
    } else if (kind == 4) {
        flags_effect(g, F_ALL & ~F_AF, F_AF);
    }
}

/* MOV in all its forms, MOVZX/MOVSX, LEA. */
static void gen_mov(G *g)
{
    int kind = rnd(g, 7);
    int size = pick_size(g);
    if (kind == 0) { /* register to register, either direction */
        begin(g);
        opsize_prefix(g, size);
        bool dir = chance(g, 2);
        e8(g, 0x88 | (dir ? 2 : 0) | (size != 1));
        int dst = dst_reg(g, size), src = (int)rnd(g, 8);
        e8(g, 0xc0 | (dir ? dst << 3 | src : src << 3 | dst));
    } else if (kind == 1) { /* immediate to register */
        begin(g);
        opsize_prefix(g, size);
        if (size == 1) {
            e8(g, 0xb0 + rnd(g, 8));
            e8(g, rnd(g, 256));
        } else {
            e8(g, 0xb8 + dst_reg(g, size));
            size == 2 ? e16(g, rnd(g, 0x10000)) : e32(g, (uint32_t)rnd64(g));
        }
    } else if (kind == 2 || kind == 3) { /* load or store */
        bool store = kind == 3;
        Mem m = gen_mem(g, size, store);
        before_fault(g, &m);
        bool imm = store && chance(g, 3);
        /* moffs form A0-A3: the disp32 of a [disp32] operand, no ModRM */
        bool moffs = !imm && m.mod_rm == 0x05 && !m.has_sib && chance(g, 2) &&
                     (m.nprefix == 0 || m.prefix[m.nprefix - 1] != 0x67);
        begin(g);
        mem_prefixes(g, &m);
        opsize_prefix(g, size);
        if (imm) {
            e8(g, size == 1 ? 0xc6 : 0xc7);
            mem_modrm(g, &m, 0);
            size == 1 ? e8(g, rnd(g, 256)) : size == 2 ? e16(g, rnd(g, 0x10000)) : e32(g, (uint32_t)rnd64(g));
        } else if (moffs) {
            e8(g, (store ? 0xa2 : 0xa0) | (size != 1));
            for (int i = 0; i < 4; i++) {
                e8(g, m.disp[i]);
            }
        } else {
            e8(g, (store ? 0x88 : 0x8a) | (size != 1));
            mem_modrm(g, &m, store ? (int)rnd(g, 8) : dst_reg(g, size));
        }
    } else if (kind == 4) { /* MOVZX / MOVSX */
        int dsize = chance(g, 3) ? 2 : 4;
        bool word = chance(g, 2);
        bool mem = chance(g, 2);
        Mem m;
        if (mem) {
            m = gen_mem(g, word ? 2 : 1, false);
            before_fault(g, &m);
        }
        begin(g);
        if (mem) {
            mem_prefixes(g, &m);
        }
        opsize_prefix(g, dsize);
        e8(g, 0x0f);
        e8(g, (chance(g, 2) ? 0xb6 : 0xbe) | word);
        int dst = any_reg(g);
        mem ? mem_modrm(g, &m, dst) : e8(g, 0xc0 | dst << 3 | rnd(g, 8));
    } else if (kind == 5) { /* LEA with any addressing, sometimes 66h/67h */
        begin(g);
        if (chance(g, 6)) {
            e8(g, 0x66);
        }
        bool a16 = chance(g, 6);
        if (a16) {
            e8(g, 0x67);
        }
        e8(g, 0x8d);
        int dst = any_reg(g);
        if (a16) {
            e8(g, 0x80 | dst << 3 | rnd(g, 8)); /* [16-bit base/index + disp16] */
            e16(g, rnd(g, 0x10000));
        } else if (chance(g, 2)) {
            e8(g, 0x84 | dst << 3); /* [base + index*s + disp32] */
            e8(g, rnd(g, 256));
            e32(g, (uint32_t)rnd64(g));
        } else {
            e8(g, 0x80 | dst << 3 | rnd(g, 8)); /* [reg + disp32] (rm 4: SIB) */
            if (((g->p->code[g->p->len - 1]) & 7) == 4) {
                e8(g, rnd(g, 256));
            }
            e32(g, (uint32_t)rnd64(g));
        }
    } else { /* high-byte register with memory (no REX possible on the host) */
        bool store = chance(g, 2);
        Mem m = gen_mem(g, 1, store);
        before_fault(g, &m);
        begin(g);
        mem_prefixes(g, &m);
        e8(g, store ? 0x88 : 0x8a);
        mem_modrm(g, &m, 4 + rnd(g, 4));
    }
}

/* ROL ROR RCL RCR SHL SHR SAL SAR by 1, imm8 or CL; SHLD/SHRD. */
static void gen_shift(G *g)
{
    int size = pick_size(g);
    int op = rnd(g, 8);
    int form = rnd(g, 3);
    unsigned count = form == 0 ? 1 : chance(g, 4) ? rnd(g, 256) : rnd(g, 34);
    bool dbl = chance(g, 5) && size != 1;
    if (dbl && size == 2) {
        count %= 17; /* counts over 16 leave the 16-bit result undefined */
    }
    if (form == 2) {
        begin(g);
        e8(g, 0xb1); /* mov cl, count */
        e8(g, count);
    }
    if (!dbl && (op == 2 || op == 3)) {
        flags_read(g, F_CF);
    }
    bool mem = chance(g, 3);
    Mem m;
    if (mem) {
        g->reserved = form == 2 ? 1u << ECX : 0; /* CL holds the count */
        m = gen_mem(g, size, true);
        g->reserved = 0;
        before_fault(g, &m);
    }
    begin(g);
    if (mem) {
        mem_prefixes(g, &m);
    }
    opsize_prefix(g, size);
    int reg = dst_reg(g, size);
    if (form == 2 && !mem && reg == ECX && size != 1) {
        reg = EDX; /* keep the count register distinct from what it shifts */
    }
    if (dbl) {
        e8(g, 0x0f);
        e8(g, (chance(g, 2) ? 0xa4 : 0xac) | (form == 2));
        int src = (int)rnd(g, 8);
        mem ? mem_modrm(g, &m, src) : e8(g, 0xc0 | src << 3 | reg);
        if (form != 2) {
            count = form == 0 ? 1 : count;
            e8(g, count);
        }
    } else {
        e8(g, (form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) | (size != 1));
        mem ? mem_modrm(g, &m, op) : e8(g, 0xc0 | op << 3 | reg);
        if (form == 1) {
            e8(g, count);
        }
    }
    unsigned c = count & 31;
    if (c == 0) {
        return;
    }
    unsigned bits = size * 8;
    if (dbl || op >= 4) {
        uint32_t undef = F_AF | (c == 1 ? 0 : F_OF) | (c > bits ? F_CF : 0);
        flags_effect(g, F_ALL & ~undef, undef);
    } else {
        uint32_t undef = c == 1 ? 0 : F_OF;
        flags_effect(g, (F_CF | F_OF) & ~undef, undef);
    }
}

/* MUL IMUL (1, 2, 3 operands), DIV IDIV with operands that do not fault
 * unless faults are wanted. */
static void gen_muldiv(G *g)
{
    int kind = rnd(g, 5);
    int size = pick_size(g);
    if (kind <= 2) {
        bool mem = chance(g, 3);
        Mem m;
        if (mem) {
            m = gen_mem(g, size, false);
            before_fault(g, &m);
        }
        begin(g);
        if (mem) {
            mem_prefixes(g, &m);
        }
        if (kind == 0) { /* MUL/IMUL r/m */
            opsize_prefix(g, size);
            e8(g, size == 1 ? 0xf6 : 0xf7);
            int ext = chance(g, 2) ? 4 : 5;
            mem ? mem_modrm(g, &m, ext) : e8(g, 0xc0 | ext << 3 | rnd(g, 8));
        } else {
            size = size == 1 ? 4 : size;
            opsize_prefix(g, size);
            int dst = any_reg(g);
            if (kind == 1) {
                e8(g, 0x0f);
                e8(g, 0xaf);
                mem ? mem_modrm(g, &m, dst) : e8(g, 0xc0 | dst << 3 | rnd(g, 8));
            } else {
                bool imm8 = chance(g, 2);
                e8(g, imm8 ? 0x6b : 0x69);
                mem ? mem_modrm(g, &m, dst) : e8(g, 0xc0 | dst << 3 | rnd(g, 8));
                imm8 ? e8(g, rnd(g, 256)) : size == 2 ? e16(g, rnd(g, 0x10000)) : e32(g, (uint32_t)rnd64(g));
            }
        }
        flags_effect(g, F_CF | F_OF, F_SZP | F_AF);
        return;
    }
    /* DIV/IDIV: dividend small, divisor register nonzero */
    bool zero = g->p->cfg.faults && chance(g, 4);
    /* BL/CL for bytes (ModRM 6 would be DH), EBX/ESI otherwise */
    int div = size == 1 ? (chance(g, 2) ? EBX : ECX) : (chance(g, 2) ? EBX : ESI);
    setup_reg(g, EDX, size == 1 ? 0 : rnd(g, 4));
    setup_reg(g, EAX, (uint32_t)rnd64(g) & (size == 1 ? 0x3ff : 0x7fffffffu));
    setup_reg(g, div, zero ? 0 : 16 + rnd(g, size == 1 ? 200 : 1000));
    if (zero) {
        flags_read(g, F_ALL);
    }
    begin(g);
    opsize_prefix(g, size);
    e8(g, size == 1 ? 0xf6 : 0xf7);
    e8(g, 0xc0 | (kind == 3 ? 6 : 7) << 3 | div);
    flags_effect(g, 0, F_ALL);
}

/* BT BTS BTR BTC, BSF BSR, BSWAP, XCHG XADD CMPXCHG, CBW CWD, flag moves, SETcc, CMOVcc. */
static void gen_bits(G *g)
{
    int kind = rnd(g, 9);
    int size = chance(g, 3) ? 2 : 4;
    if (kind == 0) { /* BT* with register or immediate bit offset */
        int op = rnd(g, 4);
        bool imm = chance(g, 2), mem = chance(g, 2);
        Mem m;
        if (mem) {
            if (!imm) {
                setup_reg(g, ECX, rnd(g, 128) - 32); /* a bit string reaching around the operand */
                g->reserved = 1u << ECX;
            }
            m = gen_mem(g, size, op != 0);
            g->reserved = 0;
            before_fault(g, &m);
        }
        begin(g);
        if (mem) {
            mem_prefixes(g, &m);
        }
        opsize_prefix(g, size);
        e8(g, 0x0f);
        if (imm) {
            e8(g, 0xba);
            mem ? mem_modrm(g, &m, 4 + op) : e8(g, 0xc0 | (4 + op) << 3 | any_reg(g));
            e8(g, rnd(g, 256));
        } else {
            e8(g, 0xa3 | op << 3);
            int off = mem ? ECX : (int)rnd(g, 8);
            mem ? mem_modrm(g, &m, off) : e8(g, 0xc0 | off << 3 | any_reg(g));
        }
        flags_effect(g, F_CF, F_OF | F_SF | F_AF | F_PF);
    } else if (kind == 1) { /* BSF/BSR */
        begin(g);
        opsize_prefix(g, size);
        e8(g, 0x0f);
        e8(g, chance(g, 2) ? 0xbc : 0xbd);
        e8(g, 0xc0 | any_reg(g) << 3 | rnd(g, 8));
        flags_effect(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
    } else if (kind == 2) { /* BSWAP, CBW/CWDE, CWD/CDQ */
        begin(g);
        int f = rnd(g, 3);
        if (f == 0) {
            e8(g, 0x0f);
            e8(g, 0xc8 + any_reg(g));
        } else {
            opsize_prefix(g, chance(g, 2) ? 2 : 4);
            e8(g, f == 1 ? 0x98 : 0x99);
        }
    } else if (kind == 3) { /* XCHG, XADD, CMPXCHG */
        int op = rnd(g, 3);
        int sz = pick_size(g);
        bool mem = chance(g, 2);
        Mem m;
        if (mem) {
            m = gen_mem(g, sz, true);
            before_fault(g, &m);
        }
        begin(g);
        if (mem) {
            mem_prefixes(g, &m);
            if (chance(g, 4)) {
                e8(g, 0xf0); /* LOCK */
            }
        }
        opsize_prefix(g, sz);
        if (op == 0 && sz != 1 && !mem && chance(g, 3)) {
            e8(g, 0x90 + any_reg(g)); /* xchg eax, r (0x90 is NOP) */
            return;
        }
        if (op == 0) {
            e8(g, 0x86 | (sz != 1));
        } else {
            e8(g, 0x0f);
            e8(g, (op == 1 ? 0xc0 : 0xb0) | (sz != 1));
        }
        int r = dst_reg(g, sz);
        mem ? mem_modrm(g, &m, r) : e8(g, 0xc0 | r << 3 | dst_reg(g, sz));
        if (op) {
            flags_effect(g, F_ALL, 0);
        }
    } else if (kind == 4) { /* LAHF SAHF CLC STC CMC */
        static const uint8_t ops[5] = {0x9f, 0x9e, 0xf8, 0xf9, 0xf5};
        int i = rnd(g, 5);
        if (i == 0) {
            flags_read(g, F_ALL & ~F_OF);
        } else if (i == 4) {
            flags_read(g, F_CF);
        }
        begin(g);
        e8(g, ops[i]);
        if (i == 1) {
            flags_effect(g, F_ALL & ~F_OF, 0);
        } else if (i >= 2) {
            flags_effect(g, F_CF, 0);
        }
    } else if (kind == 5 || kind == 6) { /* SETcc / CMOVcc */
        flags_read(g, F_ALL);
        int cc = rnd(g, 16);
        bool mem = chance(g, 3);
        bool set = kind == 5;
        Mem m;
        if (mem) {
            m = gen_mem(g, set ? 1 : size, set);
            before_fault(g, &m);
        }
        begin(g);
        if (mem) {
            mem_prefixes(g, &m);
        }
        if (!set) {
            opsize_prefix(g, size);
        }
        e8(g, 0x0f);
        e8(g, (set ? 0x90 : 0x40) + cc);
        int r = set ? (int)rnd(g, 8) : any_reg(g);
        mem ? mem_modrm(g, &m, set ? 0 : r) : e8(g, 0xc0 | (set ? 0 : r << 3) | (set ? r : (int)rnd(g, 8)));
    } else { /* ALU again: the most common code */
        gen_alu(g);
    }
}

/* PUSH POP (registers, immediates, memory), PUSHF/POPF, LEAVE, ENTER, PUSHA/POPA. */
static void gen_stack(G *g)
{
    int kind = rnd(g, 8);
    if (kind == 0) {
        begin(g);
        opsize_prefix(g, chance(g, 5) ? 2 : 4);
        e8(g, 0x50 + rnd(g, 8)); /* push r */
    } else if (kind == 1) {
        begin(g);
        e8(g, 0x58 + any_reg(g)); /* pop r */
    } else if (kind == 2) {
        begin(g);
        if (chance(g, 2)) {
            e8(g, 0x6a);
            e8(g, rnd(g, 256));
        } else {
            e8(g, 0x68);
            e32(g, (uint32_t)rnd64(g));
        }
    } else if (kind == 3) { /* push m / pop m */
        bool pop = chance(g, 2);
        Mem m = gen_mem(g, 4, pop);
        before_fault(g, &m);
        begin(g);
        mem_prefixes(g, &m);
        e8(g, pop ? 0x8f : 0xff);
        mem_modrm(g, &m, pop ? 0 : 6);
    } else if (kind == 4) { /* push imm ; popf (no TF), or pushf */
        if (chance(g, 2)) {
            uint32_t v = (uint32_t)rnd64(g) & (F_ALL | 0x400u | (g->p->cfg.cpl ? 0 : 0x200u));
            begin(g);
            e8(g, 0x68);
            e32(g, v | 0x200u);
            begin(g);
            e8(g, 0x9d);
            g->poison = 0;
            g->df = (v & 0x400u) != 0;
        } else {
            flags_read(g, F_ALL);
            begin(g);
            e8(g, 0x9c);
        }
    } else if (kind == 5) { /* mov ebp, esp ; ... ; leave */
        begin(g);
        e8(g, 0x55); /* push ebp */
        begin(g);
        e8(g, 0x89);
        e8(g, 0xe5); /* mov ebp, esp */
        begin(g);
        e8(g, 0x83);
        e8(g, 0xec);
        e8(g, rnd(g, 64)); /* sub esp, n */
        flags_effect(g, F_ALL, 0);
        begin(g);
        e8(g, 0xc9); /* leave */
    } else if (kind == 6) {
        int level = rnd(g, 3);
        if (level) {
            begin(g);
            e8(g, 0x89);
            e8(g, 0xe5); /* mov ebp, esp: the frames ENTER copies must be readable */
        }
        begin(g);
        e8(g, 0xc8); /* enter n, level */
        e16(g, rnd(g, 32));
        e8(g, level);
        begin(g);
        e8(g, 0xc9);
    } else {
        begin(g);
        e8(g, 0x60); /* pusha */
        begin(g);
        e8(g, 0x61); /* popa */
    }
}

/* MOVS STOS LODS CMPS SCAS, single or REP, either direction. */
static void gen_string(G *g)
{
    static const uint8_t ops[5] = {0xa4, 0xaa, 0xac, 0xa6, 0xae};
    int op = rnd(g, 5);
    int size = pick_size(g);
    uint32_t n = rnd(g, 40);
    bool rep = chance(g, 2);
    uint32_t span = (n + 1) * (uint32_t)size;
    uint32_t lo = g->df ? BTG_DATA + span + 8 : BTG_DATA;
    setup_reg(g, ESI, lo + rnd(g, BTG_DATA_SIZE / 2 - span));
    setup_reg(g, EDI, lo + BTG_DATA_SIZE / 2 - 8 + rnd(g, BTG_DATA_SIZE / 2 - span - 16));
    setup_reg(g, ECX, n);
    begin(g);
    if (rep) {
        e8(g, (op >= 3 && chance(g, 2)) ? 0xf2 : 0xf3);
    }
    opsize_prefix(g, size);
    e8(g, ops[op] | (size != 1));
    if (op >= 3) {
        flags_effect(g, F_ALL, 0);
    }
}

static void fwd_add(G *g, uint32_t field, bool wide)
{
    if (g->nfwd < 8) {
        g->fwd[g->nfwd++] = (Fwd){field, wide, 1 + (int)rnd(g, 4), g->poison};
    }
}

static void fwd_bind(G *g, const Fwd *f)
{
    uint32_t end = g->p->len;
    g->poison |= f->poison; /* two paths join here */
    if (f->wide) {
        put32(g, f->field, end - (f->field + 4));
    } else {
        uint32_t rel = end - (f->field + 1);
        g->p->code[f->field] = rel < 128 ? (uint8_t)rel : 0;
    }
}

/* One class instruction done: count down the pending forward branches. */
static void fwd_step(G *g)
{
    for (int i = 0; i < g->nfwd;) {
        if (--g->fwd[i].left <= 0) {
            fwd_bind(g, &g->fwd[i]);
            g->fwd[i] = g->fwd[--g->nfwd];
        } else {
            i++;
        }
    }
}

/* Jcc/JMP forward, JECXZ, LOOPs, CALL/RET, indirect jumps and calls. */
static void gen_branch(G *g)
{
    int kind = rnd(g, 8);
    if (kind <= 1) { /* forward Jcc / JMP, rel8 or rel32 */
        bool wide = chance(g, 2);
        bool jmp = chance(g, 5);
        if (!jmp) {
            flags_read(g, F_ALL);
        }
        begin(g);
        int cc = rnd(g, 16);
        if (jmp) {
            e8(g, wide ? 0xe9 : 0xeb);
        } else if (wide) {
            e8(g, 0x0f);
            e8(g, 0x80 + cc);
        } else {
            e8(g, 0x70 + cc);
        }
        fwd_add(g, g->p->len, wide);
        wide ? e32(g, 0) : e8(g, 0);
    } else if (kind == 2) { /* JECXZ forward */
        setup_reg(g, ECX, chance(g, 2) ? 0 : 1 + rnd(g, 3));
        begin(g);
        e8(g, 0xe3);
        fwd_add(g, g->p->len, false);
        e8(g, 0);
    } else if (kind == 3) { /* a small counted loop: mov ecx, n ; body: add/xor ; loop body */
        setup_reg(g, ECX, 1 + rnd(g, 5));
        uint32_t top = g->p->len;
        begin(g);
        e8(g, 0x01);
        e8(g, 0xc0 | rnd(g, 8) << 3 | (EAX + rnd(g, 2) * 3)); /* add eax/ebx, r */
        flags_effect(g, F_ALL, 0);
        int lk = rnd(g, 3);
        begin(g);
        e8(g, lk == 0 ? 0xe2 : lk == 1 ? 0xe1 : 0xe0);
        e8(g, (uint8_t)(top - (g->p->len + 1)));
    } else if (kind == 4) { /* a local subroutine: jmp over ; sub: insn ; ret ; over: call sub */
        begin(g);
        e8(g, 0xeb);
        uint32_t over = g->p->len;
        e8(g, 0);
        uint32_t sub = g->p->len;
        begin(g);
        e8(g, 0x01);
        e8(g, 0xc0 | rnd(g, 8) << 3 | (EDX + rnd(g, 2) * 5)); /* add edx/edi, r */
        flags_effect(g, F_ALL, 0);
        begin(g);
        if (chance(g, 3)) {
            e8(g, 0xc2); /* ret 4 after a push */
            e16(g, 4);
        } else {
            e8(g, 0xc3);
        }
        bool param = g->p->code[g->p->len - 3] == 0xc2;
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        if (param) {
            begin(g);
            e8(g, 0x6a);
            e8(g, rnd(g, 256)); /* push imm8: the parameter RET 4 drops */
        }
        begin(g);
        e8(g, 0xe8);
        e32(g, sub - (g->p->len + 4));
    } else if (kind == 5) { /* indirect call through a register or memory, to a subroutine */
        begin(g);
        e8(g, 0xeb);
        uint32_t over = g->p->len;
        e8(g, 0);
        uint32_t sub = g->p->code_at + g->p->len;
        begin(g);
        e8(g, 0xf7);
        e8(g, 0xd0 | rnd(g, 2) * 2); /* not eax / not edx */
        begin(g);
        e8(g, 0xc3);
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        if (chance(g, 2)) {
            int r = EBX + (int)rnd(g, 2) * 3;
            setup_reg(g, r, sub);
            begin(g);
            e8(g, 0xff);
            e8(g, 0xd0 | r); /* call r */
            if (g->p->cfg.paging && (sub >> 12) == (BTG_CODE >> 12)) {
                /* the same physical code again, at the alias page's linear address */
                setup_reg(g, r, BTG_ALIAS_PAGE + (sub & 0xfff));
                begin(g);
                e8(g, 0xff);
                e8(g, 0xd0 | r);
            }
        } else {
            Mem m = gen_mem(g, 4, true);
            before_fault(g, &m);
            begin(g);
            mem_prefixes(g, &m);
            e8(g, 0xc7);
            mem_modrm(g, &m, 0);
            e32(g, sub); /* mov dword [m], sub */
            begin(g);
            mem_prefixes(g, &m);
            e8(g, 0xff);
            mem_modrm(g, &m, 2); /* call [m] */
        }
    } else if (kind == 6) { /* indirect jump forward: push target ; ret, or jmp r */
        int r = EAX + (int)rnd(g, 2);
        uint32_t field_at = g->p->len + 1;
        setup_reg(g, r, 0);
        begin(g);
        bool via_ret = chance(g, 2);
        if (via_ret) {
            e8(g, 0x50 + r);
            begin(g);
            e8(g, 0xc3);
        } else {
            e8(g, 0xff);
            e8(g, 0xe0 | r);
        }
        /* skip one instruction's worth of junk-free code: a NOP pair */
        begin(g);
        e8(g, 0x90);
        put32(g, field_at, here(g));
    } else { /* forward JMP over data-like bytes that are never executed */
        begin(g);
        e8(g, 0xeb);
        e8(g, 2);
        e8(g, 0x0f);
        e8(g, 0x0b); /* ud2, skipped */
    }
}

/* Segment register loads and stores, far-pointer loads. */
static void gen_segment(G *g)
{
    int kind = rnd(g, 5);
    int cpl = g->p->cfg.cpl;
    uint16_t data_sel = cpl ? 0x23 : 0x10;
    if (kind == 0) { /* mov ax, sreg */
        begin(g);
        e8(g, 0x8c);
        e8(g, 0xc0 | rnd(g, 6) << 3 | any_reg(g));
    } else if (kind == 1) { /* mov ds/es, a flat data selector (addresses assume flat DS/ES) */
        uint16_t sel = data_sel;
        setup_reg(g, EAX, sel);
        begin(g);
        e8(g, 0x8e);
        e8(g, 0xc0 | (chance(g, 2) ? 0 : 3) << 3); /* es or ds */
    } else if (kind == 2) { /* push fs/gs ; pop fs/gs */
        bool gs = chance(g, 2);
        begin(g);
        e8(g, 0x0f);
        e8(g, gs ? 0xa8 : 0xa0);
        begin(g);
        e8(g, 0x0f);
        e8(g, gs ? 0xa9 : 0xa1);
    } else if (kind == 3) { /* reload FS or GS with its special selector, or GS with null */
        bool gs = chance(g, 2);
        uint16_t sel = gs ? (g->p->cfg.faults && chance(g, 4) ? 0 : BTG_SEL_GS) : BTG_SEL_FS;
        setup_reg(g, ECX, sel);
        begin(g);
        e8(g, 0x8e);
        e8(g, 0xc0 | (gs ? 5 : 4) << 3 | ECX);
        if (gs) {
            g->gs_ok = sel != 0;
        } else {
            g->fs_ok = true;
        }
    } else { /* push ds ; pop es, or mov ss with its own value (interrupt shadow) */
        begin(g);
        if (chance(g, 2)) {
            e8(g, 0x1e);
            begin(g);
            e8(g, 0x07);
        } else {
            e8(g, 0x8c);
            e8(g, 0xd0 | EDX); /* mov edx, ss */
            begin(g);
            e8(g, 0x8e);
            e8(g, 0xd0 | EDX); /* mov ss, edx */
        }
    }
}

/* Instructions whose behaviour depends on privilege, and traps. */
static void gen_system(G *g)
{
    int kind = rnd(g, 10);
    int cpl = g->p->cfg.cpl;
    bool faults = g->p->cfg.faults;
    if (cpl == 3 && !faults && kind <= 4) {
        kind = 5 + rnd(g, 2);
    }
    if (kind <= 4 || kind >= 7) {
        flags_read(g, F_ALL); /* may fault or interrupt: EFLAGS is pushed */
    }
    if (kind == 5 && !faults) {
        setup_reg(g, EAX, rnd(g, 2)); /* a leaf CPUID knows */
    }
    begin(g);
    switch (kind) {
    case 0: e8(g, 0xfa); break;                 /* cli */
    case 1: e8(g, 0xfb); break;                 /* sti */
    case 2: e8(g, 0x0f); e8(g, 0x20); e8(g, 0xc0 | any_reg(g)); break; /* mov r, cr0 */
    case 3: /* mov eax, cr3 ; mov cr3, eax: flushes the TLB */
        e8(g, 0x0f); e8(g, 0x20); e8(g, 0xd8);
        begin(g);
        e8(g, 0x0f); e8(g, 0x22); e8(g, 0xd8);
        break;
    case 4: /* invlpg [data] */
        e8(g, 0x0f); e8(g, 0x01); e8(g, 0x3d); e32(g, BTG_DATA + rnd(g, BTG_DATA_SIZE));
        break;
    case 5: e8(g, 0x0f); e8(g, 0xa2); break;     /* cpuid */
    case 6: e8(g, 0x0f); e8(g, 0x31); break;     /* rdtsc */
    case 7: e8(g, 0xcd); e8(g, 0x30 + rnd(g, 16)); break; /* int n: ends in the handler */
    case 8: e8(g, 0x0f); e8(g, 0x0b); break;     /* ud2 */
    default: e8(g, 0xce); break;                 /* into */
    }
}

/*
 * Self-modifying code: a store into the immediate of an instruction a few
 * instructions on (a MOV r32, imm32 that the generator places there), by
 * its linear address or, with paging, through the alias page.
 */
static void gen_smc_store(G *g)
{
    if (g->nsmc >= 4) {
        return;
    }
    bool byte = chance(g, 2);
    begin(g);
    e8(g, byte ? 0xc6 : 0xc7);
    e8(g, 0x05);
    g->smc_field[g->nsmc] = g->p->len;
    g->smc_byte[g->nsmc] = byte ? (int)rnd(g, 4) : -1;
    g->nsmc++;
    e32(g, 0);
    byte ? e8(g, rnd(g, 256)) : e32(g, (uint32_t)rnd64(g));
}

/* Give the pending stores their target: mov r32, imm32 here. */
static void gen_smc_target(G *g)
{
    int r = any_reg(g);
    begin(g);
    e8(g, 0xb8 + r);
    uint32_t imm_at = g->p->code_at + g->p->len;
    e32(g, (uint32_t)rnd64(g));
    for (int i = 0; i < g->nsmc; i++) {
        uint32_t at = imm_at + (uint32_t)(g->smc_byte[i] < 0 ? 0 : g->smc_byte[i]);
        if (g->p->cfg.paging && (at >> 12) == (BTG_CODE >> 12) && chance(g, 2)) {
            at = BTG_ALIAS_PAGE + (at & 0xfff);
        }
        put32(g, g->smc_field[i], at);
    }
    g->nsmc = 0;
}

static void gen_one(G *g)
{
    int w = rnd(g, 100);
    if (w < 22) {
        gen_alu(g);
    } else if (w < 32) {
        gen_unary(g);
    } else if (w < 46) {
        gen_mov(g);
    } else if (w < 53) {
        gen_shift(g);
    } else if (w < 58) {
        gen_muldiv(g);
    } else if (w < 66) {
        gen_bits(g);
    } else if (w < 74) {
        gen_stack(g);
    } else if (w < 78) {
        gen_string(g);
    } else if (w < 88) {
        gen_branch(g);
    } else if (w < 91) {
        gen_segment(g);
    } else if (w < 94 || !g->p->cfg.smc) {
        gen_system(g);
    } else {
        gen_smc_store(g);
    }
}

void btg_generate(BTProgram *p, const BTGenConfig *cfg, uint64_t seed, uint64_t index)
{
    memset(p, 0, sizeof(*p));
    G gs = {.p = p, .rng = seed * 0x2545f4914f6cdd1dull ^ (index + 1) * 0x9e3779b97f4a7c15ull};
    G *g = &gs;
    p->cfg = *cfg;
    p->code_at = BTG_CODE + (chance(g, 3) ? 0xf00 + rnd(g, 0x100) : rnd(g, 0x800));
    for (int i = 0; i < 8; i++) {
        p->regs[i] = (uint32_t)rnd64(g);
    }
    p->eflags = (uint32_t)rnd64(g) & F_ALL;
    p->data_seed = (uint32_t)rnd64(g);
    p->fault_kind = (int)rnd(g, 3);
    p->wp = chance(g, 2);
    p->load_fs = chance(g, 2);
    p->load_gs = chance(g, 2);
    g->fs_ok = p->load_fs;
    g->gs_ok = p->load_gs;
    for (int i = 0; i < cfg->length && room(g); i++) {
        gen_one(g);
        fwd_step(g);
        if (g->nsmc && chance(g, 3)) {
            gen_smc_target(g);
        }
    }
    if (g->nsmc) {
        gen_smc_target(g);
    }
    while (g->nfwd) {
        fwd_bind(g, &g->fwd[--g->nfwd]);
    }
    begin(g);
    e8(g, 0xeb);
    e8(g, 0xfe); /* jmp $ */
    p->poison = g->poison;
}
