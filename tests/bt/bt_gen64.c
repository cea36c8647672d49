/*
 * Random 64-bit mode programs for the differential test (bt_gen.h): the
 * integer instructions in their 8-, 16-, 32- and 64-bit forms with REX
 * registers (R8-R15, SPL/BPL/SIL/DIL beside AH..BH), RIP-relative, SIB,
 * absolute and 32-bit (67h) addressing, FS/GS overrides (in 64-bit mode
 * only their bases count: GS's 1 MiB limit does not), 64-bit pushes, pops,
 * calls and returns, forward branches and counted loops, and, with faults
 * allowed: the fault page under 4-level paging (not present, read-only,
 * supervisor-only, execute-disable, or XD as a reserved bit with
 * EFER.NXE clear), calls into the execute-disable alias page,
 * non-canonical addresses (#GP(0), or #SS(0) through RBP and for a push on
 * a non-canonical RSP, delivered on IST1), INT n through 16-byte gates,
 * and the opcodes 64-bit mode makes #UD.
 *
 * Flags follow bt_gen.c's poison bookkeeping (SDM Vol.1 Appendix A);
 * encodings follow SDM Vol.2 2.2.1 (REX) and 2.2.1.6 (RIP-relative).
 */
#include "tests/bt/bt_gen_internal.h"

enum { R8 = 8, R11 = 11, R12 = 12, R13 = 13 };

/* A memory operand: everything but ModRM.reg and the REX bits R and W. */
typedef struct Mem64 {
    bool addr32;       /* 67h: the address is computed in 32 bits */
    uint8_t seg;       /* 0, or the FS/GS override byte */
    uint8_t rex_xb;    /* REX.X and REX.B */
    uint8_t mod_rm;    /* mod and rm of ModRM */
    bool has_sib;
    uint8_t sib;
    uint32_t disp;
    int ndisp;
    bool rip;          /* disp is relative to the next instruction ... */
    uint64_t target;   /* ... and must reach this linear address */
    bool may_fault;
} Mem64;

/* Per-program state beside the common generator's. */
typedef struct G64 {
    G *g;
    int depth;         /* qwords the program pushed and has not popped */
    bool no_flag_reads;/* inside a loop body: flags differ between iterations */
    int ret_at;        /* offset of a RET in the first code page (alias calls), or -1 */
} G64;

/* ---- registers and encoding ---- */

/* Any register but RSP and a loop's counter, to write. */
static int dst_reg(G *g)
{
    for (;;) {
        int r = (int)btg_rnd(g, 15);
        r = r >= ESP ? r + 1 : r;
        if (!(g->keep & (1u << r))) {
            return r;
        }
    }
}

/* A byte register to write: without REX, 4-7 are AH..BH, the second
 * bytes of RAX..RBX, which must not be a kept register either. */
static int byte_dst(G *g)
{
    for (;;) {
        int r = dst_reg(g);
        if (r < 4 || r > 7 || !(g->keep & (1u << (r - 4)))) {
            return r;
        }
    }
}

/* A register for an address: not RSP, and not one the instruction's
 * operands hold (g->reserved, bits 0-15). */
static int addr_reg(G *g)
{
    for (;;) {
        int r = dst_reg(g);
        if (!((g->reserved | g->keep) & (1u << r))) {
            return r;
        }
    }
}

/* mov r32, imm32 (zero-extends) or mov r64, imm64 */
static void setup64(G *g, int r, uint64_t v)
{
    btg_begin(g);
    bool wide = v >> 32 || btg_chance(g, 4);
    if (wide || r >= R8) {
        btg_e8(g, 0x40 | (wide ? 8 : 0) | (r >= R8 ? 1 : 0));
    }
    btg_e8(g, 0xb8 + (r & 7));
    btg_e32(g, (uint32_t)v);
    if (wide) {
        btg_e32(g, (uint32_t)(v >> 32));
    }
}

/* A linear address in the data window for size bytes, sometimes
 * straddling a page; with faults, sometimes on the fault page. */
static uint64_t pick_linear64(G *g, int size, bool *faulty)
{
    *faulty = false;
    if (g->p->cfg.faults && btg_chance(g, 20)) {
        *faulty = true;
        return BTG_FAULT_PAGE + btg_rnd(g, 0x1000 - (uint32_t)size);
    }
    if (size > 1 && btg_chance(g, 10)) {
        uint32_t page = BTG_DATA + 0x1000 * (1 + btg_rnd(g, 3));
        return page - 1 - btg_rnd(g, (uint32_t)size - 1);
    }
    return BTG_DATA + (btg_rnd(g, BTG_DATA_SIZE - 8) & (btg_chance(g, 2) ? ~7u : ~0u));
}

/* High bits that make an address non-canonical (bits 63:47 not all equal). */
static uint64_t noncanonical_bits(G *g)
{
    static const uint64_t hi[4] = {0x0000800000000000ull, 0xffff000000000000ull,
                                   0x7fff800000000000ull, 0x8000000000000000ull};
    return hi[btg_rnd(g, 4)];
}

static Mem64 gen_mem64(G *g, int size)
{
    Mem64 m = {0};
    bool faulty;
    uint64_t lin = pick_linear64(g, size, &faulty);
    m.may_fault = faulty;
    uint64_t seg_base = 0;
    int seg = (int)btg_rnd(g, 8);
    if (seg == 0 && g->fs_ok) {
        m.seg = 0x64; /* FS: base 0x20000 */
        seg_base = BTG_FS_BASE;
    } else if (seg == 1 && g->gs_ok) {
        m.seg = 0x65; /* GS: base 0, and its 1 MiB limit is not checked */
        if (btg_chance(g, 3)) {
            lin += 0x100000 - 0x10000; /* beyond the limit: still RAM, no fault */
        }
    }
    uint64_t ea = lin - seg_base;
    bool noncanon = g->p->cfg.faults && btg_chance(g, 24);
    int form = (int)btg_rnd(g, 7);
    if (noncanon) {
        m.may_fault = true;
        form = 1 + (int)btg_rnd(g, 4); /* through a base register */
    } else if (btg_chance(g, 8)) {
        m.addr32 = true; /* 32-bit addresses: the registers' upper halves are ignored */
        if (form == 0) {
            form = 1;
        }
    }
    int base = addr_reg(g);
    uint64_t high = noncanon ? noncanonical_bits(g) : 0;
    uint64_t junk = m.addr32 ? btg_rnd64(g) << 32 : 0;
    if (form == 0) {
        /* [rip + disp32] */
        m.mod_rm = 0x05;
        m.rip = true;
        m.target = ea;
        m.ndisp = 4;
    } else if (form == 6) {
        /* [disp32] through a SIB with neither base nor index */
        m.mod_rm = 0x04;
        m.has_sib = true;
        m.sib = 0x25;
        m.disp = (uint32_t)ea;
        m.ndisp = 4;
    } else if (form <= 3) {
        /* [base], [base + disp8], [base + disp32] */
        int32_t disp = form == 1   ? 0
                       : form == 2 ? (int32_t)btg_rnd(g, 256) - 128
                                   : (int32_t)btg_rnd(g, 0x10000) - 0x8000;
        setup64(g, base, ((ea - (uint64_t)(int64_t)disp) | high) ^ junk);
        m.rex_xb = base >= R8 ? 1 : 0;
        int mod = form == 1 && (base & 7) != 5 ? 0 : form == 3 ? 2 : 1;
        m.mod_rm = (uint8_t)(mod << 6 | (base & 7));
        if ((base & 7) == 4) { /* R12 needs a SIB */
            m.has_sib = true;
            m.sib = 0x24;
        }
        m.disp = (uint32_t)disp;
        m.ndisp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    } else {
        /* [base + index * scale + disp8]: R12 may be an index (REX.X), RSP not */
        int index;
        do {
            index = addr_reg(g);
        } while (index == base);
        int scale = (int)btg_rnd(g, 4);
        uint64_t iv = btg_rnd(g, 0x200);
        int32_t disp = (int32_t)btg_rnd(g, 256) - 128;
        setup64(g, index, iv ^ junk);
        setup64(g, base, ((ea - (uint64_t)(int64_t)disp - (iv << scale)) | high) ^ junk);
        m.rex_xb = (uint8_t)((index >= R8 ? 2 : 0) | (base >= R8 ? 1 : 0));
        m.mod_rm = 0x44;
        m.has_sib = true;
        m.sib = (uint8_t)(scale << 6 | (index & 7) << 3 | (base & 7));
        m.disp = (uint32_t)disp;
        m.ndisp = 1;
    }
    return m;
}

/*
 * Emit [66] [67] [seg] [REX] opcode ModRM [SIB] [disp] for an operation of
 * size bytes whose ModRM.reg is reg (a register number 0-15 or an opcode
 * extension) on memory m, or on register rm when m is NULL.  rex_always:
 * emit a REX even when no bit needs it (byte registers 4-7 are then
 * SPL..DIL).  The caller emits any immediate, then calls end_insn.
 */
static void emit_rm(G *g, int size, const uint8_t *op, int nop, int reg, const Mem64 *m, int rm,
                    bool rex_always)
{
    btg_begin(g);
    if (size == 2) {
        btg_e8(g, 0x66);
    }
    if (m && m->addr32) {
        btg_e8(g, 0x67);
    }
    if (m && m->seg) {
        btg_e8(g, m->seg);
    }
    uint8_t rex = (uint8_t)((size == 8 ? 8 : 0) | (reg >= R8 ? 4 : 0) |
                            (m ? m->rex_xb : (rm >= R8 ? 1 : 0)));
    if (rex || rex_always) {
        btg_e8(g, 0x40 | rex);
    }
    for (int i = 0; i < nop; i++) {
        btg_e8(g, op[i]);
    }
    if (!m) {
        btg_e8(g, 0xc0 | (reg & 7) << 3 | (rm & 7));
        return;
    }
    btg_e8(g, m->mod_rm | (reg & 7) << 3);
    if (m->has_sib) {
        btg_e8(g, m->sib);
    }
    if (m->rip) {
        g->rip_field = (int)g->p->len;
        g->rip_target = m->target;
    }
    for (int i = 0; i < m->ndisp; i++) {
        btg_e8(g, m->disp >> (8 * i));
    }
}

/* The instruction is complete: a RIP-relative displacement counts from here. */
static void end_insn(G *g)
{
    if (g->rip_field >= 0) {
        uint64_t next = g->p->code_at + g->p->len;
        btg_put32(g, (uint32_t)g->rip_field, (uint32_t)(g->rip_target - next));
        g->rip_field = -1;
    }
}

static void emit_imm(G *g, int size, uint64_t v)
{
    if (size == 1) {
        btg_e8(g, (uint32_t)v);
    } else if (size == 2) {
        btg_e16(g, (uint32_t)v);
    } else {
        btg_e32(g, (uint32_t)v);
    }
}

static int pick_size64(G *g)
{
    static const int sizes[6] = {1, 2, 4, 4, 8, 8};
    return sizes[btg_rnd(g, 6)];
}

/* A register operand of size bytes, r or the memory operand m: either
 * may be chosen; faulting operands need defined flags (the frame holds
 * RFLAGS). */
static Mem64 *maybe_mem(G *g, Mem64 *m, int size)
{
    if (btg_chance(g, 2)) {
        return NULL;
    }
    *m = gen_mem64(g, size);
    if (m->may_fault) {
        btg_flags_read(g, F_ALL);
    }
    return m;
}

/* ---- instruction classes ---- */

/* add/or/adc/sbb/and/sub/xor/cmp in every form */
static void gen_alu64(G64 *x)
{
    G *g = x->g;
    int op = (int)btg_rnd(g, 8);
    if ((op == 2 || op == 3) && x->no_flag_reads) {
        op = 0;
    }
    if (op == 2 || op == 3) {
        btg_flags_read(g, F_CF);
    }
    int size = pick_size64(g);
    int form = (int)btg_rnd(g, 4);
    int reg = size == 1 ? byte_dst(g) : dst_reg(g);
    g->reserved = 1u << reg;
    Mem64 mb, *m = maybe_mem(g, &mb, size);
    int rm = m ? 0 : (size == 1 ? byte_dst(g) : dst_reg(g));
    uint8_t base = (uint8_t)(op << 3);
    if (form == 0) { /* r/m, r */
        uint8_t opc = (uint8_t)(base | (size == 1 ? 0 : 1));
        emit_rm(g, size, &opc, 1, reg, m, rm, false);
    } else if (form == 1) { /* r, r/m */
        uint8_t opc = (uint8_t)(base | (size == 1 ? 2 : 3));
        emit_rm(g, size, &opc, 1, reg, m, rm, false);
    } else if (form == 2 || size == 1) { /* r/m, imm8 (83) or r/m8, imm8 (80) */
        uint8_t opc = size == 1 ? 0x80 : 0x83;
        emit_rm(g, size, &opc, 1, op, m, rm, false);
        btg_e8(g, btg_rnd(g, 256));
    } else { /* r/m, imm16/32 (81): imm32 sign-extended for 64 bits */
        uint8_t opc = 0x81;
        emit_rm(g, size, &opc, 1, op, m, rm, false);
        emit_imm(g, size, btg_rnd64(g));
    }
    end_insn(g);
    g->reserved = 0;
    bool logic = op == 1 || op == 4 || op == 6;
    btg_flags_effect(g, logic ? F_ALL & ~F_AF : F_ALL, logic ? F_AF : 0);
}

/* mov in all directions, movsxd, movzx/movsx, lea, mov r64, imm64 */
static void gen_mov64(G64 *x)
{
    G *g = x->g;
    int kind = (int)btg_rnd(g, 7);
    int size = pick_size64(g);
    int reg = size == 1 ? byte_dst(g) : dst_reg(g);
    g->reserved = 1u << reg;
    Mem64 mb, *m;
    switch (kind) {
    case 0: { /* mov r/m, r */
        m = maybe_mem(g, &mb, size);
        uint8_t opc = size == 1 ? 0x88 : 0x89;
        emit_rm(g, size, &opc, 1, reg, m, m ? 0 : (size == 1 ? byte_dst(g) : dst_reg(g)), false);
        break;
    }
    case 1: { /* mov r, r/m */
        m = maybe_mem(g, &mb, size);
        uint8_t opc = size == 1 ? 0x8a : 0x8b;
        emit_rm(g, size, &opc, 1, reg, m, m ? 0 : dst_reg(g), false);
        break;
    }
    case 2: { /* mov r/m, imm (C6/C7: imm32 sign-extended for 64 bits) */
        m = maybe_mem(g, &mb, size);
        uint8_t opc = size == 1 ? 0xc6 : 0xc7;
        emit_rm(g, size, &opc, 1, 0, m, m ? 0 : reg, false);
        emit_imm(g, size, btg_rnd64(g));
        break;
    }
    case 3: { /* movsxd r64, r/m32 (or without REX.W: a 32-bit move) */
        m = maybe_mem(g, &mb, 4);
        uint8_t opc = 0x63;
        emit_rm(g, btg_chance(g, 4) ? 4 : 8, &opc, 1, reg, m, m ? 0 : dst_reg(g), false);
        break;
    }
    case 4: { /* movzx/movsx r, r/m8 or r/m16 */
        bool word = btg_chance(g, 2);
        int dsize = word ? (btg_chance(g, 2) ? 4 : 8) : (int)(2 << btg_rnd(g, 3));
        m = maybe_mem(g, &mb, word ? 2 : 1);
        uint8_t opc[2] = {0x0f, (uint8_t)((btg_chance(g, 2) ? 0xb6 : 0xbe) | (word ? 1 : 0))};
        emit_rm(g, dsize, opc, 2, reg, m, m ? 0 : dst_reg(g), btg_chance(g, 2));
        break;
    }
    case 5: { /* lea: 16, 32 or 64 bits of the address */
        mb = gen_mem64(g, 1);
        mb.seg = 0;
        uint8_t opc = 0x8d;
        emit_rm(g, size == 1 ? 8 : size, &opc, 1, reg, &mb, 0, false);
        break;
    }
    default: /* mov r64, imm64 */
        g->reserved = 0;
        setup64(g, reg, btg_rnd64(g));
        return;
    }
    end_insn(g);
    g->reserved = 0;
}

/* inc, dec, neg, not */
static void gen_unary64(G64 *x)
{
    G *g = x->g;
    int size = pick_size64(g);
    int kind = (int)btg_rnd(g, 4);
    Mem64 mb, *m = maybe_mem(g, &mb, size);
    int rm = size == 1 ? byte_dst(g) : dst_reg(g);
    uint8_t opc = kind < 2 ? (size == 1 ? 0xfe : 0xff) : (size == 1 ? 0xf6 : 0xf7);
    static const int ext[4] = {0, 1, 3, 2}; /* inc dec neg not */
    emit_rm(g, size, &opc, 1, ext[kind], m, rm, false);
    end_insn(g);
    if (kind < 2) {
        btg_flags_effect(g, F_ALL & ~F_CF, 0);
    } else if (kind == 2) {
        btg_flags_effect(g, F_ALL, 0);
    }
}

/* shl/shr/sar/rol/ror by an immediate, counts masked to 5 or 6 bits */
static void gen_shift64(G64 *x)
{
    G *g = x->g;
    int size = pick_size64(g);
    static const int ext[5] = {4, 5, 7, 0, 1};
    int kind = (int)btg_rnd(g, 5);
    int width = 8 * size;
    uint32_t count = 1 + btg_rnd(g, (uint32_t)width - 1);
    if (btg_chance(g, 8)) {
        count = size == 8 ? 64 : 32; /* masked to 0: no flag changes */
    }
    uint32_t masked = count & (size == 8 ? 63u : 31u);
    Mem64 mb, *m = maybe_mem(g, &mb, size);
    int rm = size == 1 ? byte_dst(g) : dst_reg(g);
    uint8_t opc = size == 1 ? 0xc0 : 0xc1;
    emit_rm(g, size, &opc, 1, ext[kind], m, rm, false);
    btg_e8(g, count);
    end_insn(g);
    if (masked == 0) {
        return;
    }
    uint32_t of = masked == 1 ? F_OF : 0;
    if (kind < 3) {
        btg_flags_effect(g, F_CF | F_SZP | of, F_AF | (F_OF & ~of));
    } else {
        btg_flags_effect(g, F_CF | of, F_OF & ~of);
    }
}

/* imul r, r/m and imul r, r/m, imm8 (16, 32, 64 bits) */
static void gen_imul64(G64 *x)
{
    G *g = x->g;
    static const int sizes[3] = {2, 4, 8};
    int size = sizes[btg_rnd(g, 3)];
    int reg = dst_reg(g);
    g->reserved = 1u << reg;
    Mem64 mb, *m = maybe_mem(g, &mb, size);
    if (btg_chance(g, 2)) {
        uint8_t opc[2] = {0x0f, 0xaf};
        emit_rm(g, size, opc, 2, reg, m, m ? 0 : dst_reg(g), false);
    } else {
        uint8_t opc = 0x6b;
        emit_rm(g, size, &opc, 1, reg, m, m ? 0 : dst_reg(g), false);
        btg_e8(g, btg_rnd(g, 256));
    }
    end_insn(g);
    g->reserved = 0;
    btg_flags_effect(g, F_CF | F_OF, F_SZP | F_AF);
}

/* push/pop of 64-bit registers (R8-R15 too), immediates, memory; 66h: 16-bit */
static void gen_stack64(G64 *x)
{
    G *g = x->g;
    int kind = (int)btg_rnd(g, 6);
    if (x->depth >= 24 || (x->depth == 0 && kind >= 3)) {
        kind = (int)btg_rnd(g, 3) + (x->depth >= 24 ? 3 : 0);
    }
    int r = (int)btg_rnd(g, 16);
    switch (kind) {
    case 0: /* push r64 */
        btg_begin(g);
        if (r >= R8) {
            btg_e8(g, 0x41);
        }
        btg_e8(g, 0x50 + (r & 7));
        x->depth++;
        break;
    case 1: /* push imm8 / imm32, sign-extended to 64 bits */
        btg_begin(g);
        if (btg_chance(g, 2)) {
            btg_e8(g, 0x6a);
            btg_e8(g, btg_rnd(g, 256));
        } else {
            btg_e8(g, 0x68);
            btg_e32(g, (uint32_t)btg_rnd64(g));
        }
        x->depth++;
        break;
    case 2: { /* push qword [m] */
        Mem64 m = gen_mem64(g, 8);
        if (m.may_fault) {
            btg_flags_read(g, F_ALL);
        }
        uint8_t opc = 0xff;
        emit_rm(g, 4, &opc, 1, 6, &m, 0, false);
        end_insn(g);
        x->depth++;
        break;
    }
    case 3: /* pop r64 (not RSP) */
        r = dst_reg(g);
        btg_begin(g);
        if (r >= R8) {
            btg_e8(g, 0x41);
        }
        btg_e8(g, 0x58 + (r & 7));
        x->depth--;
        break;
    case 4: { /* pop qword [m] */
        Mem64 m = gen_mem64(g, 8);
        if (m.may_fault) {
            btg_flags_read(g, F_ALL);
        }
        uint8_t opc = 0x8f;
        emit_rm(g, 4, &opc, 1, 0, &m, 0, false);
        end_insn(g);
        x->depth--;
        break;
    }
    default: /* push r16 ; pop r16: 2 bytes each */
        btg_begin(g);
        btg_e8(g, 0x66);
        btg_e8(g, 0x50 + (r & 7));
        r = dst_reg(g) & 7;
        btg_begin(g);
        btg_e8(g, 0x66);
        btg_e8(g, 0x58 + (r == ESP ? EBX : r));
        break;
    }
}

/* xchg, xadd, cmpxchg on a register or memory */
static void gen_xchg64(G64 *x)
{
    G *g = x->g;
    int size = pick_size64(g);
    int kind = (int)btg_rnd(g, 3);
    if (kind == 2 && (g->keep & (1u << EAX))) {
        kind = 1; /* CMPXCHG writes RAX, a loop's counter here */
    }
    int reg = size == 1 ? byte_dst(g) : dst_reg(g);
    g->reserved = 1u << reg | 1u << EAX;
    Mem64 mb, *m = maybe_mem(g, &mb, size);
    int rm = m ? 0 : (size == 1 ? byte_dst(g) : dst_reg(g));
    uint8_t opc[2] = {0x0f, 0};
    if (kind == 0) {
        opc[1] = size == 1 ? 0x86 : 0x87;
        emit_rm(g, size, opc + 1, 1, reg, m, rm, false);
    } else {
        opc[1] = (uint8_t)((kind == 1 ? 0xc0 : 0xb0) | (size == 1 ? 0 : 1));
        emit_rm(g, size, opc, 2, reg, m, rm, false);
    }
    end_insn(g);
    g->reserved = 0;
    if (kind) {
        btg_flags_effect(g, F_ALL, 0);
    }
}

static uint32_t cc_flags(int cc)
{
    static const uint32_t read[8] = {F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF,
                                     F_SF | F_OF, F_ZF | F_SF | F_OF};
    return read[(cc >> 1) & 7];
}

/* setcc r/m8, cmovcc r, r/m */
static void gen_cond64(G64 *x)
{
    G *g = x->g;
    if (x->no_flag_reads) {
        gen_mov64(x);
        return;
    }
    int cc = (int)btg_rnd(g, 16);
    btg_flags_read(g, cc_flags(cc));
    if (btg_chance(g, 2)) {
        Mem64 mb, *m = maybe_mem(g, &mb, 1);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x90 | cc)};
        emit_rm(g, 1, opc, 2, 0, m, m ? 0 : byte_dst(g), btg_chance(g, 2));
    } else {
        static const int sizes[3] = {2, 4, 8};
        int size = sizes[btg_rnd(g, 3)];
        int reg = dst_reg(g);
        g->reserved = 1u << reg;
        Mem64 mb, *m = maybe_mem(g, &mb, size);
        uint8_t opc[2] = {0x0f, (uint8_t)(0x40 | cc)};
        emit_rm(g, size, opc, 2, reg, m, m ? 0 : dst_reg(g), false);
        g->reserved = 0;
    }
    end_insn(g);
}

static void gen_straight(G64 *x);

/* jcc forward over one to three instructions (rel8 over one, else rel32) */
static void gen_branch64(G64 *x)
{
    G *g = x->g;
    int cc = (int)btg_rnd(g, 16);
    btg_flags_read(g, cc_flags(cc));
    int n = 1 + (int)btg_rnd(g, 3);
    btg_begin(g);
    uint32_t field;
    if (n == 1) {
        btg_e8(g, 0x70 | cc);
        field = g->p->len;
        btg_e8(g, 0);
    } else {
        btg_e8(g, 0x0f);
        btg_e8(g, 0x80 | cc);
        field = g->p->len;
        btg_e32(g, 0);
    }
    uint32_t taken_poison = g->poison;
    for (int i = 0; i < n; i++) {
        gen_straight(x);
    }
    uint32_t rel = g->p->len - (field + (n == 1 ? 1 : 4));
    if (n == 1) {
        g->p->code[field] = (uint8_t)rel; /* a body is at most ~50 bytes */
    } else {
        btg_put32(g, field, rel);
    }
    g->poison |= taken_poison;
}

/* mov ecx-like counter, n ; body ; dec counter ; jnz back: the body reads no flags */
static void gen_loop64(G64 *x)
{
    G *g = x->g;
    int counter = dst_reg(g);
    setup64(g, counter, 1 + btg_rnd(g, 4));
    uint32_t top = g->p->len;
    x->no_flag_reads = true;
    g->keep = 1u << counter;
    /* Later iterations see the flags the body and DEC leave: a body
     * instruction that must have defined flags (one that may fault)
     * defines them itself. */
    g->poison = F_ALL;
    int n = 1 + (int)btg_rnd(g, 2);
    for (int i = 0; i < n; i++) {
        gen_straight(x);
    }
    g->keep = 0;
    x->no_flag_reads = false;
    btg_begin(g);
    btg_e8(g, 0x48 | (counter >= R8 ? 1 : 0)); /* dec r64 */
    btg_e8(g, 0xff);
    btg_e8(g, 0xc8 | (counter & 7));
    btg_begin(g);
    btg_e8(g, 0x75); /* jnz top */
    btg_e8(g, (uint8_t)(top - (g->p->len + 1)));
    btg_flags_effect(g, F_ALL & ~F_CF, 0);
}

/* call a subroutine placed just after: call sub ; jmp over ; sub: body ; ret ; over: */
static void gen_call64(G64 *x)
{
    G *g = x->g;
    btg_begin(g);
    btg_e8(g, 0xe8);
    btg_e32(g, 2);
    btg_begin(g);
    btg_e8(g, 0xeb);
    uint32_t over = g->p->len;
    btg_e8(g, 0);
    x->depth++; /* the return address, while the body runs */
    gen_straight(x);
    x->depth--;
    btg_begin(g);
    if (btg_chance(g, 3)) {
        btg_e8(g, 0xc2); /* ret imm16: 0, as a 64-bit return with an immediate */
        btg_e16(g, 0);
    } else {
        btg_e8(g, 0xc3);
    }
    g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
}

/* call r64 to the RET at the program's start, directly or through the
 * alias page (execute-disable in some programs) */
static void gen_alias_call(G64 *x)
{
    G *g = x->g;
    if (x->ret_at < 0) {
        return;
    }
    uint32_t ret = g->p->code_at + (uint32_t)x->ret_at;
    bool alias = btg_chance(g, 2);
    if (alias) {
        btg_flags_read(g, F_ALL); /* may fault: RFLAGS is pushed */
    }
    setup64(g, R11, alias ? BTG_ALIAS_PAGE + (ret & 0xfff) : ret);
    btg_begin(g);
    btg_e8(g, 0x41);
    btg_e8(g, 0xff);
    btg_e8(g, 0xd3); /* call r11 */
}

/* Faults only: a push on a non-canonical RSP (#SS on IST1), INT n through
 * a 16-byte gate, UD2, and opcodes that are #UD in 64-bit mode */
static void gen_fault64(G64 *x)
{
    G *g = x->g;
    btg_flags_read(g, F_ALL);
    int kind = (int)btg_rnd(g, 4);
    if (kind == 0) {
        setup64(g, ESP, noncanonical_bits(g) | 0x8000);
        btg_begin(g);
        btg_e8(g, 0x50 + btg_rnd(g, 4)); /* push */
    } else if (kind == 1) {
        btg_begin(g);
        btg_e8(g, 0xcd);
        btg_e8(g, 0x30 + btg_rnd(g, 16));
    } else if (kind == 2) {
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x0b);
    } else {
        /* push es, daa, pusha, into, bound, les, aam, salc, jmp far */
        static const uint8_t invalid[] = {0x06, 0x27, 0x60, 0xce, 0x62, 0xc4, 0xd4, 0xd6, 0xea};
        btg_begin(g);
        btg_e8(g, invalid[btg_rnd(g, sizeof(invalid))]);
        btg_e8(g, 0xc0); /* a ModRM or immediate byte, should it decode */
    }
}

/* An instruction that falls through (branch and loop bodies). */
static void gen_straight(G64 *x)
{
    G *g = x->g;
    int w = (int)btg_rnd(g, 100);
    if (w < 30) {
        gen_alu64(x);
    } else if (w < 55) {
        gen_mov64(x);
    } else if (w < 65) {
        gen_unary64(x);
    } else if (w < 75) {
        gen_shift64(x);
    } else if (w < 82) {
        gen_imul64(x);
    } else if (w < 90 && !x->no_flag_reads) {
        gen_cond64(x);
    } else {
        gen_xchg64(x);
    }
}

/* SWAPGS (CPL 0; #GP at CPL 3): GS.base and KERNEL_GS_BASE change places */
static void gen_swapgs(G64 *x)
{
    G *g = x->g;
    if (g->p->cfg.cpl != 0 && !g->p->cfg.faults) {
        return;
    }
    if (g->p->cfg.cpl != 0) {
        btg_flags_read(g, F_ALL);
    }
    btg_begin(g);
    btg_e8(g, 0x0f);
    btg_e8(g, 0x01);
    btg_e8(g, 0xf8);
    g->gs_ok = false; /* its base is one of two now */
}

static void gen_one64(G64 *x)
{
    G *g = x->g;
    int w = (int)btg_rnd(g, 100);
    if (w < 2) {
        gen_swapgs(x);
    } else if (w < 62) {
        gen_straight(x);
    } else if (w < 72) {
        gen_stack64(x);
    } else if (w < 80) {
        gen_branch64(x);
    } else if (w < 85) {
        gen_loop64(x);
    } else if (w < 91) {
        gen_call64(x);
    } else if (w < 96 || !g->p->cfg.faults) {
        gen_alias_call(x);
    } else if (btg_chance(g, 3)) {
        gen_fault64(x);
    }
}

void btg_generate64(G *g)
{
    BTProgram *p = g->p;
    G64 x = {.g = g, .ret_at = -1};
    g->rip_field = -1;
    /* jmp over a RET the alias calls reach: in the first code page */
    btg_begin(g);
    btg_e8(g, 0xeb);
    btg_e8(g, 0x01);
    btg_begin(g);
    btg_e8(g, 0xc3);
    if (((p->code_at + 2) >> 12) == BTG_CODE >> 12) {
        x.ret_at = 2;
    }
    for (int i = 0; i < p->cfg.length && p->len + 400 < BTG_CODE_MAX; i++) {
        gen_one64(&x);
    }
    btg_begin(g);
    btg_e8(g, 0xeb);
    btg_e8(g, 0xfe); /* jmp $ */
    p->poison = g->poison;
    p->pae = true;
    p->nxe_off = p->cfg.faults && btg_chance(g, 6);
    p->alias_nx = p->cfg.faults && btg_chance(g, 2);
    p->fault_nx = btg_chance(g, 2);
}
