/*
 * x86 instruction decoder: prefixes, opcode maps, ModRM/SIB, displacement and
 * immediates, driven by the tables in decode_tables.c.
 *
 * The decoder is pure: bytes in, Insn out.  It knows nothing of CPU state
 * beyond the code segment's mode (16, 32 or 64-bit), so the interpreter,
 * the translator, the tracer and the tests all share it.
 *
 * 64-bit mode (SDM Vol.2 2.2.1): 40-4F are REX prefixes, which count only
 * right before the opcode; REX.W makes the operand size 8 and R, X, B add
 * a fourth bit to ModRM.reg, SIB.index and ModRM.rm / SIB.base / the
 * opcode's register.  Insn.reg and Insn.rm keep the raw three-bit fields
 * (they select group members); the operands carry the full numbers.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/decode_tables.h"
#include "cpu/state.h"

typedef struct Cursor {
    const uint8_t *bytes;
    int avail;
    int pos;
    bool short_read; /* ran past avail */
    bool mode64;     /* decoding 64-bit code */
} Cursor;

static uint32_t take(Cursor *c, int n)
{
    uint32_t v = 0;
    if (c->pos + n > c->avail) {
        c->short_read = true;
        c->pos += n;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        v |= (uint32_t)c->bytes[c->pos + i] << (8 * i);
    }
    c->pos += n;
    return v;
}

static uint32_t sign_extend(uint32_t v, int bytes)
{
    switch (bytes) {
    case 1: return (uint32_t)(int32_t)(int8_t)v;
    case 2: return (uint32_t)(int32_t)(int16_t)v;
    default: return v;
    }
}

/* 16-bit ModRM memory forms (SDM Vol.2 Table 2-1): base, index. */
static const uint8_t modrm16_base[8] = {R_EBX, R_EBX, R_EBP, R_EBP, REG_NONE, REG_NONE, R_EBP, R_EBX};
static const uint8_t modrm16_index[8] = {R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, REG_NONE, REG_NONE};

/* Parse ModRM (already read) plus SIB and displacement for a memory operand. */
static void decode_modrm_mem(Insn *insn, Cursor *c, bool mode64)
{
    uint8_t rex_b = (insn->rex & INSN_REX_B) ? 8 : 0, rex_x = (insn->rex & INSN_REX_X) ? 8 : 0;
    uint8_t mod = insn->mod, rm = insn->rm;
    insn->base = REG_NONE;
    insn->index = REG_NONE;
    insn->scale = 0;
    insn->disp = 0;
    if (insn->adsize == 2) {
        if (mod == 0 && rm == 6) {
            insn->disp = (int32_t)sign_extend(take(c, 2), 2);
        } else {
            insn->base = modrm16_base[rm];
            insn->index = modrm16_index[rm];
            if (mod == 1) {
                insn->disp = (int32_t)sign_extend(take(c, 1), 1);
            } else if (mod == 2) {
                insn->disp = (int32_t)sign_extend(take(c, 2), 2);
            }
        }
        return;
    }
    if (rm == 4) {
        uint8_t sib = (uint8_t)take(c, 1);
        uint8_t sib_base = sib & 7, sib_index = (sib >> 3) & 7;
        insn->scale = sib >> 6;
        /* index 100b is "none" only without REX.X: R12 can be an index */
        insn->index = (sib_index | rex_x) == 4 ? REG_NONE : (uint8_t)(sib_index | rex_x);
        if (sib_base == 5 && mod == 0) {
            insn->disp = (int32_t)take(c, 4); /* no base, REX.B or not */
        } else {
            insn->base = (uint8_t)(sib_base | rex_b);
        }
    } else if (rm == 5 && mod == 0) {
        /* disp32; in 64-bit mode relative to the next RIP (SDM Vol.2 2.2.1.6) */
        insn->base = mode64 ? INSN_BASE_RIP : REG_NONE;
        insn->disp = (int32_t)take(c, 4);
    } else {
        insn->base = (uint8_t)(rm | rex_b);
    }
    if (mod == 1) {
        insn->disp = (int32_t)sign_extend(take(c, 1), 1);
    } else if (mod == 2) {
        insn->disp = (int32_t)take(c, 4);
    }
}

static bool spec_needs_modrm(uint8_t spec)
{
    switch (spec) {
    case Eb: case Ew: case Ed: case Ev: case EwRv: case Gb: case Gw: case Gd: case Gv:
    case M: case Mp: case Ma: case Mq: case Ms: case Sw: case Cd: case Dd: case Rd:
    case Md: case Mb: case Mx: case Vx: case Ux: case Wx: case Wq: case Wd: case Pq: case Nq:
    case Qq: case Qd:
        return true;
    default:
        return false;
    }
}

/* A general register operand: number n (REX bit included) of size bytes.
 * With REX, byte registers 4-7 are SPL..DIL, not AH..BH. */
static void gpr_operand(const Insn *insn, Operand *o, unsigned n, uint8_t size)
{
    o->kind = OPK_REG;
    o->size = size;
    o->reg = (uint8_t)((size == 1 && insn->rex && n >= 4 && n < 8) ? REG_BYTE_REX + n : n);
}

/* Store a decoded immediate; at operand size 8 its sign fills bits 63..32. */
static void put_imm(Insn *insn, int *nimm, uint32_t val, bool widen)
{
    if ((*nimm)++ == 0) {
        insn->imm = val;
        insn->hi = widen && (val & 0x80000000u) ? 0xffffffffu : 0;
    } else {
        insn->imm2 = val;
    }
}

/* Resolve one operand spec; returns false for an invalid encoding. */
static bool decode_operand(Insn *insn, Cursor *c, uint8_t spec, Operand *o, int *nimm)
{
    uint8_t v = insn->opsize;
    unsigned rex_r = (insn->rex & INSN_REX_R) ? 8 : 0, rex_b = (insn->rex & INSN_REX_B) ? 8 : 0;
    memset(o, 0, sizeof(*o));
    switch (spec) {
    case Eb: case Ew: case Ed: case Ev: case EwRv: {
        static const uint8_t esize[] = {[Eb] = 1, [Ew] = 2, [Ed] = 4, [Ev] = 0, [EwRv] = 0};
        uint8_t size = esize[spec] ? esize[spec] : v;
        if (insn->mod == 3) {
            gpr_operand(insn, o, insn->rm | rex_b, size);
        } else {
            o->kind = OPK_MEM;
            o->size = spec == EwRv ? 2 : size;
        }
        return true;
    }
    case Gb: case Gw: case Gd: case Gv:
        gpr_operand(insn, o, insn->reg | rex_r,
                    spec == Gb   ? 1
                    : spec == Gw ? 2
                    : spec == Gd ? 4
                                 : v);
        return true;
    case M: case Mp: case Ma: case Mq: case Ms:
        if (insn->mod == 3) {
            return false;
        }
        o->kind = OPK_MEM;
        o->size = spec == Mp ? (uint8_t)(v + 2) : spec == Ma ? (uint8_t)(2 * v)
                : spec == Mq ? 8 : spec == Ms ? 6 : v;
        return true;
    case Md: case Mb: case Mx:
        if (insn->mod == 3) {
            return false;
        }
        o->kind = OPK_MEM;
        o->size = spec == Md ? 4 : spec == Mb ? 1 : 16;
        return true;
    case Vx: case Pq:
        o->kind = spec == Vx ? OPK_XMM : OPK_MMX;
        o->reg = (uint8_t)(spec == Vx ? insn->reg | rex_r : insn->reg); /* MMX ignores REX */
        o->size = spec == Vx ? 16 : 8;
        return true;
    case Ux: case Nq: case Wx: case Wq: case Wd: case Qq: case Qd: {
        bool xmm = spec == Ux || spec == Wx || spec == Wq || spec == Wd;
        if (insn->mod == 3) {
            o->kind = xmm ? OPK_XMM : OPK_MMX;
            o->reg = (uint8_t)(xmm ? insn->rm | rex_b : insn->rm);
            o->size = xmm ? 16 : 8;
            return true;
        }
        if (spec == Ux || spec == Nq) {
            return false;
        }
        o->kind = OPK_MEM;
        o->size = (spec == Wx) ? 16 : (spec == Wq || spec == Qq) ? 8 : 4;
        return true;
    }
    case Rd: case Cd: case Dd:
        /* MOV to/from CRn/DRn: 64-bit registers in 64-bit mode, whatever 66h/REX.W say */
        o->kind = spec == Rd ? OPK_REG : spec == Cd ? OPK_CREG : OPK_DREG;
        o->reg = (uint8_t)(spec == Rd ? insn->rm | rex_b : insn->reg | rex_r);
        o->size = c->mode64 ? 8 : 4;
        return true;
    case Sw:
        if (insn->reg >= SEG_COUNT) {
            return false;
        }
        o->kind = OPK_SREG;
        o->reg = insn->reg;
        o->size = 2;
        return true;
    case Ib: case Ibs: case Iw: case Iz: {
        int n = spec == Iz ? (v == 2 ? 2 : 4) : spec == Iw ? 2 : 1;
        if (spec == Iz && v == 8 && insn->opmap == 0 && (insn->opcode & 0xf8) == 0xb8) {
            /* MOV r64, imm64: the one full 64-bit immediate (SDM Vol.2 MOV) */
            insn->imm = take(c, 4);
            insn->hi = take(c, 4);
            (*nimm)++;
            o->kind = OPK_IMM;
            o->size = 8;
            return true;
        }
        uint32_t val = take(c, n);
        if (spec == Ibs || (spec == Iz && v == 8)) {
            val = sign_extend(val, n);
        }
        put_imm(insn, nimm, val, v == 8 && (spec == Ibs || spec == Iz));
        o->kind = OPK_IMM;
        o->size = spec == Ibs || (spec == Iz && v == 8) ? v : (uint8_t)n;
        return true;
    }
    case Jb: case Jz: {
        int n = spec == Jb ? 1 : (v == 2 ? 2 : 4);
        put_imm(insn, nimm, sign_extend(take(c, n), n), v == 8);
        o->kind = OPK_REL;
        o->size = v;
        return true;
    }
    case Ob: case Ov:
        insn->base = REG_NONE;
        insn->index = REG_NONE;
        if (insn->adsize == 8) {
            insn->disp = (int32_t)take(c, 4); /* moffs64: the address's low half ... */
            insn->hi = take(c, 4);            /* ... and its high half */
        } else {
            insn->disp = (int32_t)take(c, insn->adsize);
        }
        o->kind = OPK_MEM;
        o->size = spec == Ob ? 1 : v;
        return true;
    case Ap:
        insn->imm = take(c, v);
        insn->imm2 = take(c, 2);
        o->kind = OPK_FAR;
        o->size = (uint8_t)(v + 2);
        return true;
    case Zb: case Zv: case Zd:
        /* Zd is BSWAP's: 32 bits, or 64 with REX.W */
        gpr_operand(insn, o, (insn->opcode & 7) | rex_b,
                    spec == Zb   ? 1
                    : spec == Zd ? (v == 8 ? 8 : 4)
                                 : v);
        return true;
    case AL: case CL: case DX: case eAX:
        o->kind = OPK_REG;
        o->reg = spec == CL ? R_ECX : spec == DX ? R_EDX : R_EAX;
        o->size = spec == eAX ? v : spec == DX ? 2 : 1;
        return true;
    case One:
        o->kind = OPK_CONST1;
        o->size = 1;
        return true;
    case sES: case sCS: case sSS: case sDS: case sFS: case sGS:
        o->kind = OPK_SREG;
        o->reg = (uint8_t)(spec - sES);
        o->size = 2;
        return true;
    case Xb: case Yb:
        o->size = 1;
        return true;
    case Xv: case Yv:
        o->size = v;
        return true;
    default:
        return true;
    }
}

/* The SSE/MMX forms whose dword integer operand is a qword with REX.W. */
static bool simd_widens_with_rex_w(unsigned op)
{
    switch (op) {
    case OP_MOVD:
    case OP_CVTSI2SS:
    case OP_CVTSI2SD:
    case OP_CVTSS2SI:
    case OP_CVTTSS2SI:
    case OP_CVTSD2SI:
    case OP_CVTTSD2SI: return true;
    default: return false;
    }
}

static void make_invalid(Insn *insn)
{
    insn->op = OP_UD;
    insn->flags = INSN_F_ENDBLOCK;
    insn->nopnds = 0;
}

int decode_insn_mode(Insn *insn, const uint8_t *bytes, int avail, enum DecodeMode mode)
{
    bool mode64 = mode == DECODE_64, code32 = mode == DECODE_32;
    Cursor c = {bytes, avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN, 0, false, mode64};
    bool opsize_prefix = false, adsize_prefix = false;

    memset(insn, 0, sizeof(*insn));
    insn->seg_override = SEG_NONE;
    insn->base = REG_NONE;
    insn->index = REG_NONE;

    /* Prefixes (SDM Vol.2 2.1.1): any number, any order; the last segment
     * override and the last of F2/F3 win.  In 64-bit mode a REX counts only
     * as the last prefix (2.2.1), and the ES, CS, SS and DS overrides are
     * ignored (Vol.1 3.3.7.1). */
    for (;;) {
        if (c.pos >= c.avail) {
            return c.avail < INSN_MAX_LEN ? DECODE_NEED_MORE : DECODE_TOO_LONG;
        }
        uint8_t b = bytes[c.pos];
        if (mode64 && (b & 0xf0) == 0x40) {
            insn->rex = b;
            c.pos++;
            continue;
        }
        switch (b) {
        case 0x26: insn->seg_override = mode64 ? insn->seg_override : SEG_ES; break;
        case 0x2e: insn->seg_override = mode64 ? insn->seg_override : SEG_CS; break;
        case 0x36: insn->seg_override = mode64 ? insn->seg_override : SEG_SS; break;
        case 0x3e: insn->seg_override = mode64 ? insn->seg_override : SEG_DS; break;
        case 0x64: insn->seg_override = SEG_FS; break;
        case 0x65: insn->seg_override = SEG_GS; break;
        case 0x66: opsize_prefix = true; break;
        case 0x67: adsize_prefix = true; break;
        case 0xf0: insn->lock = 1; break;
        case 0xf2: insn->rep = REP_F2; break;
        case 0xf3: insn->rep = REP_F3; break;
        default: goto prefixes_done;
        }
        insn->rex = 0; /* a legacy prefix after a REX: the REX is ignored */
        c.pos++;
    }
prefixes_done:
    insn->prefix_len = (uint8_t)c.pos;
    if (mode64) {
        insn->opsize = (insn->rex & INSN_REX_W) ? 8 : opsize_prefix ? 2 : 4;
        insn->adsize = adsize_prefix ? 4 : 8;
    } else {
        insn->opsize = (code32 ^ opsize_prefix) ? 4 : 2;
        insn->adsize = (code32 ^ adsize_prefix) ? 4 : 2;
    }

    /* The mandatory prefix of a SIMD opcode: the last of F2/F3, else 66
     * (SDM Vol.2 2.1.2). */
    int pfx = insn->rep == REP_F3 ? PFX_F3 : insn->rep == REP_F2 ? PFX_F2 : opsize_prefix ? PFX_66 : PFX_NONE;
    uint8_t opcode = (uint8_t)take(&c, 1);
    const OpcodeEntry *entry;
    if (opcode == 0x0f) {
        insn->opmap = 1;
        opcode = (uint8_t)take(&c, 1);
        entry = &opcode_table_0f[opcode];
        if (opcode == 0x38 || opcode == 0x3a) {
            insn->opmap = opcode == 0x38 ? 2 : 3;
            opcode = (uint8_t)take(&c, 1);
            entry = insn->opmap == 2 ? &simd_table_0f38[opcode][pfx] : &simd_table_0f3a[opcode][pfx];
        } else if (entry->flags & E_SIMD) {
            entry = &simd_table_0f[opcode][pfx];
        }
    } else {
        entry = &opcode_table_1byte[opcode];
        if (mode64 && opcode == 0x63) {
            entry = &opcode_movsxd;
        } else if (mode64 && opcode == 0x90 && (insn->rex & INSN_REX_B)) {
            entry = &opcode_table_1byte[0x91]; /* XCHG r8, rAX: not NOP */
        }
    }
    insn->opcode = opcode;
    if (c.short_read) {
        return c.avail < INSN_MAX_LEN ? DECODE_NEED_MORE : DECODE_TOO_LONG;
    }

    /* Does this opcode take a ModRM byte? */
    bool want_modrm = (entry->flags & E_GROUP) || (insn->opmap == 0 && opcode >= 0xd8 && opcode <= 0xdf);
    for (int i = 0; i < 3 && !want_modrm; i++) {
        want_modrm = spec_needs_modrm(entry->spec[i]);
    }
    if (want_modrm) {
        insn->has_modrm = 1;
        insn->modrm = (uint8_t)take(&c, 1);
        insn->mod = insn->modrm >> 6;
        insn->reg = (insn->modrm >> 3) & 7;
        insn->rm = insn->modrm & 7;
    }

    /* Group opcodes: the ModRM reg field selects the operation. */
    const uint8_t *spec = entry->spec;
    uint8_t eflags = entry->flags;
    uint16_t op = entry->op;
    if (insn->opmap == 1 && pfx == PFX_NONE && insn->mod == 3 && simd_table_0f_modreg[opcode].op != OP_UD &&
        (opcode_table_0f[opcode].flags & E_SIMD)) {
        entry = &simd_table_0f_modreg[opcode]; /* MOVHLPS, MOVLHPS */
        spec = entry->spec;
        eflags = entry->flags;
        op = entry->op;
    } else if (entry->flags & E_GROUP) {
        const OpcodeEntry *g;
        if (insn->opmap == 1 && (opcode_table_0f[opcode].flags & E_SIMD)) {
            g = &simd_group_table[entry->group][insn->reg][pfx];
        } else if (entry->group == GRP15 && insn->mod == 3) {
            g = &group_table[GRP15R][insn->reg];
        } else if (entry->group == GRP7 && insn->mod == 3 && insn->reg == 7) {
            g = &group_table[GRP7R7][insn->rm];
        } else {
            g = &group_table[entry->group][insn->reg];
        }
        op = g->op;
        eflags = g->flags;
        if (g->spec[0] != __) {
            spec = g->spec;
        }
    }
    if (insn->opmap == 0 && opcode == 0xf1) {
        op = OP_INT; /* INT1 / ICEBP: a #DB trap with no IOPL or DPL check */
        insn->imm = 1;
        insn->imm2 = 1;
    } else if (insn->opmap == 0 && opcode >= 0xd8 && opcode <= 0xdf) {
        op = OP_FPU;
    }
    insn->op = op;
    if (eflags & E_COND) {
        insn->cond = opcode & 0xf;
    }
    bool valid = op != OP_UD;
    if (mode64) {
        uint8_t m64 = insn->opmap == 0   ? mode64_1byte[opcode]
                      : insn->opmap == 1 ? mode64_0f[opcode]
                                         : 0;
        if (insn->opmap == 0 && opcode == 0xff) {
            m64 = mode64_grp5[insn->reg];
        }
        if (m64 & M64_I64) {
            valid = false;
        } else if (m64 & M64_F64) {
            insn->opsize = 8;
        } else if ((m64 & M64_D64) && insn->opsize == 4) {
            insn->opsize = 8;
        }
    }

    /* Memory operand: SIB and displacement come right after ModRM. */
    if (insn->has_modrm && insn->mod != 3 && op != OP_MOV_CR && op != OP_MOV_DR) {
        decode_modrm_mem(insn, &c, mode64);
    }

    int nimm = 0;
    for (int i = 0; i < 3 && valid; i++) {
        if (spec[i] == __) {
            break;
        }
        valid = decode_operand(insn, &c, spec[i], &insn->opnd[i], &nimm);
        insn->nopnds = (uint8_t)(i + 1);
    }
    if (valid && op == OP_MOV_SREG_EW && insn->opnd[0].reg == SEG_CS) {
        valid = false; /* MOV CS, r/m is #UD (SDM Vol.2 MOV) */
    }
    if (valid && op == OP_MOV_CR) {
        /* only CR0, CR2, CR3, CR4 exist, and CR8 (the TPR) in 64-bit mode */
        unsigned cr = insn->opnd[insn->opnd[0].kind == OPK_CREG ? 0 : 1].reg;
        valid = (1u << cr) & (mode64 ? 0x11du : 0x1du);
    }
    if (valid && op == OP_CMPXCHG8B && (insn->rex & INSN_REX_W)) {
        insn->opnd[0].size = 16; /* CMPXCHG16B m128 */
    }
    if (valid && (insn->rex & INSN_REX_W) && simd_widens_with_rex_w(op)) {
        /* MOVD becomes MOVQ r/m64 <-> xmm/mm, and the scalar conversions
         * take or give a 64-bit integer (SDM Vol.2 MOVD/MOVQ, CVTSI2SD...) */
        for (int i = 0; i < insn->nopnds; i++) {
            Operand *o = &insn->opnd[i];
            if ((o->kind == OPK_REG || o->kind == OPK_MEM) && o->size == 4) {
                o->size = 8;
            }
        }
        if (op == OP_MOVD) {
            op = OP_MOVQ;
            insn->op = OP_MOVQ;
        }
    }

    if (c.short_read) {
        return c.avail < INSN_MAX_LEN ? DECODE_NEED_MORE : DECODE_TOO_LONG;
    }
    insn->len = (uint8_t)c.pos;

    if (!valid) {
        make_invalid(insn);
        return DECODE_OK;
    }
    /* LOCK is #UD unless the instruction is lockable and writes memory (SDM Vol.2 LOCK). */
    if (insn->lock && (!(eflags & E_LOCK) || !insn_has_modrm_mem(insn))) {
        make_invalid(insn);
        return DECODE_OK;
    }

    /* Default segment: SS for EBP/ESP-based addressing, else DS (SDM Vol.1 3.7.4). */
    uint8_t default_seg = (insn->base == R_EBP || insn->base == R_ESP) ? SEG_SS : SEG_DS;
    insn->seg = insn->seg_override != SEG_NONE ? insn->seg_override : default_seg;

    insn->flags = insn_op_flags[op];
    if (eflags & E_LOCK) {
        insn->flags |= INSN_F_LOCKABLE;
    }
    if (eflags & E_COND) {
        insn->flags |= INSN_F_COND;
    }
    if (op == OP_LOOP || op == OP_LOOPE || op == OP_LOOPNE || op == OP_JCXZ) {
        insn->flags |= INSN_F_COND;
    }
    if (insn_has_modrm_mem(insn) && op != OP_LEA && op != OP_NOP) {
        insn->flags |= INSN_F_MEM;
    }
    for (int i = 0; i < insn->nopnds; i++) {
        if (insn->opnd[i].kind == OPK_MEM && op != OP_LEA) {
            insn->flags |= INSN_F_MEM;
        }
    }
    return DECODE_OK;
}

int insn_form(const Insn *insn)
{
    bool mem = (insn->flags & INSN_F_MEM) != 0;
    if (insn->op == OP_FPU) {
        return INSN_FORM_FPU + (((insn->opcode & 7) * 8 + insn->reg) * 2 + mem);
    }
    int size = insn->opsize == 2 ? 1 : insn->opsize == 8 ? 3 : 2;
    bool hibyte = false;
    for (int i = 0; i < insn->nopnds; i++) {
        const Operand *o = &insn->opnd[i];
        if (o->kind == OPK_REG && o->size == 1) {
            size = 0;
            hibyte |= o->reg >= 4 && o->reg < 8; /* AH..BH; SPL..DIL and R8B-R15B are not */
        } else if (o->kind == OPK_MEM && o->size == 1 && i == 0) {
            size = 0;
        }
    }
    int variant = size * 8 + mem * 4 + (insn->rep != REP_NONE) * 2 + hibyte;
    return insn->op * INSN_FORM_VARIANTS + variant;
}

int insn_form_name(int form, char *buf, size_t len)
{
    if (form >= INSN_FORM_FPU) {
        int f = form - INSN_FORM_FPU;
        return snprintf(buf, len, "x87 %02X/%d %s", 0xd8 + f / 16, (f / 2) % 8, (f & 1) ? "m" : "r");
    }
    static const char *const sizes[4] = {"8", "16", "32", "64"};
    int op = form / INSN_FORM_VARIANTS, v = form % INSN_FORM_VARIANTS;
    return snprintf(buf, len, "%s %s%s%s%s", insn_op_names[op], (v & 4) ? "m" : "r",
                    sizes[v / 8], (v & 2) ? " rep" : "", (v & 1) ? " AH-BH" : "");
}
