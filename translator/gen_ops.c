/*
 * Guest instructions emitted natively: the integer ALU, moves, bit
 * operations, shifts, multiplies, conditional moves and sets.
 *
 * x86 on x86: the host instruction is the guest's own opcode with its
 * ModRM re-encoded: guest ESP becomes R12 (a REX prefix), a memory operand
 * becomes [r14] (REX.B) after the TLB check (gen_mem.c), 16-bit operands
 * keep their 66h prefix, and immediates are copied from the guest bytes.
 * The host then computes the same result and the same defined flags.
 *
 * Re-encoding limits (SDM Vol.2 2.2.1): AH, CH, DH, BH cannot appear in an
 * instruction with a REX prefix, so a byte instruction naming one of them
 * together with [r14] runs in its register form on a borrowed legacy
 * register (emit_native_mem_high).  Opcodes that mean
 * something else in 64-bit mode (40-4F are REX, 82h is #UD, 63h is MOVSXD)
 * are re-encoded or left to callouts.  DIV and IDIV fault (#DE), and no
 * host signal may leave translated code: the 32-bit register forms run
 * natively behind a check that they cannot fault, and call out otherwise
 * (gen_divide); the other forms are callouts.
 */
#include "translator/gen.h"

/* The operand the ModRM reg field names, or -1 when it is an opcode extension. */
static int modrm_g_operand(const Insn *in)
{
    unsigned op = in->opcode;
    if (in->opmap == 0) {
        if (op < 0x40 && (op & 7) < 4) {
            return (op & 2) ? 0 : 1; /* the ALU block: bit 1 is the direction */
        }
        switch (op) {
        case 0x84:
        case 0x85:
        case 0x86:
        case 0x87:
        case 0x88:
        case 0x89: return 1;
        case 0x8a:
        case 0x8b:
        case 0x8d:
        case 0x69:
        case 0x6b: return 0;
        default: return -1;
        }
    }
    switch (op) {
    case 0xa3:
    case 0xa4:
    case 0xa5:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xb3:
    case 0xbb:
    case 0xb0:
    case 0xb1:
    case 0xc0:
    case 0xc1: return 1;
    case 0xaf:
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf:
    case 0xbc:
    case 0xbd: return 0;
    default: return (op & 0xf0) == 0x40 ? 0 : -1; /* CMOVcc Gv, Ev */
    }
}

/* Offset of the immediate in the guest instruction's bytes. */
static int insn_imm_offset(const Insn *in)
{
    int off = in->prefix_len + (in->opmap ? 2 : 1);
    if (!in->has_modrm) {
        return off;
    }
    off++;
    if (in->mod == 3) {
        return off;
    }
    if (in->adsize == 4) {
        off += in->rm == 4; /* SIB */
        if (in->mod == 1) {
            off += 1;
        } else if (in->mod == 2 || in->base == REG_NONE) {
            off += 4;
        }
    } else if (in->mod == 1) {
        off += 1;
    } else if (in->mod == 2 || in->rm == 6) {
        off += 2;
    }
    return off;
}

static void emit_guest_imm(Gen *g, const ScanInsn *si)
{
    int off = insn_imm_offset(&si->insn);
    emit_bytes(&g->e, si->bytes + off, (size_t)(si->insn.len - off));
}

/* How a native ModRM instruction is encoded on the host. */
typedef struct NativeForm {
    unsigned opcode;
    int reg;        /* ModRM reg field */
    unsigned flags; /* EMIT_* */
    int e_index;    /* the r/m operand */
} NativeForm;

static void native_form(const Insn *in, NativeForm *f)
{
    unsigned opc = (in->opmap ? OPC_0F : 0) | in->opcode;
    if (opc == 0x82) {
        opc = OPC_GRP1_EbIb; /* 82h is 80h in 32-bit code, #UD in 64-bit mode */
    }
    int gi = modrm_g_operand(in);
    bool high = false;
    f->opcode = opc;
    f->flags = in->opsize == 2 ? EMIT_66 : 0;
    f->e_index = gi == 0 ? 1 : 0;
    if (gi >= 0) {
        bool byte = in->opnd[gi].size == 1;
        f->reg = byte ? in->reg : hreg(in->reg);
        high |= byte && in->reg >= 4;
    } else {
        /* /6 of the shift group is an undocumented SAL alias: emit SHL. */
        f->reg = (in->op == OP_SHL) ? EXT_SHL : in->reg;
    }
    const Operand *e = &in->opnd[f->e_index];
    high |= e->kind == OPK_REG && e->size == 1 && e->reg >= 4;
    if (high) {
        f->flags |= EMIT_BYTE_H;
    }
}

static HostRM native_rm_reg(const Insn *in, const NativeForm *f)
{
    const Operand *e = &in->opnd[f->e_index];
    return hrm_reg(e->size == 1 ? in->rm : hreg(in->rm));
}

static bool native_encodable(const NativeForm *f, const HostRM *rm)
{
    return !(f->flags & EMIT_BYTE_H) || !emit_needs_rex(f->flags & ~EMIT_BYTE_H, f->reg, rm);
}

/* The memory-operand emitter: the guest instruction on [r14]. */
static void emit_native_mem(Gen *g, const MemOp *m)
{
    NativeForm f;
    native_form(&m->si->insn, &f);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, f.flags, f.opcode, f.reg, &r14);
    emit_guest_imm(g, m->si);
}

static int flag_use(const Insn *in)
{
    switch (in->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_AND:
    case OP_OR:
    case OP_XOR:
    case OP_CMP:
    case OP_TEST:
    case OP_NEG:
    case OP_MUL:
    case OP_IMUL1:
    case OP_IMUL2:
    case OP_IMUL3:
    case OP_XADD:
    case OP_CMPXCHG: return FU_WRITE;
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
    case OP_SHLD:
    case OP_SHRD: {
        /* A zero count leaves every flag alone (SDM Vol.2 SAL/SAR/SHL/SHR). */
        bool dbl = in->op == OP_SHLD || in->op == OP_SHRD;
        bool by_imm = in->opnd[dbl ? 2 : 1].kind == OPK_IMM;
        bool by_one = !dbl && in->opnd[1].kind == OPK_CONST1;
        return (by_one || (by_imm && (in->imm & 31))) ? FU_WRITE : FU_MODIFY;
    }
    case OP_ADC:
    case OP_SBB:
    case OP_INC:
    case OP_DEC:
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR:
    case OP_BT:
    case OP_BTS:
    case OP_BTR:
    case OP_BTC:
    case OP_BSF:
    case OP_BSR:
    case OP_SAHF:
    case OP_CLC:
    case OP_STC:
    case OP_CMC: return FU_MODIFY;
    case OP_CMOV:
    case OP_SETCC:
    case OP_LAHF: return FU_READ;
    default: return FU_NONE;
    }
}

/* Which ops run natively in ModRM form (anything else is a callout). */
static bool modrm_op_native(const Insn *in)
{
    switch (in->op) {
    case OP_ADD:
    case OP_OR:
    case OP_ADC:
    case OP_SBB:
    case OP_AND:
    case OP_SUB:
    case OP_XOR:
    case OP_CMP:
    case OP_TEST:
    case OP_INC:
    case OP_DEC:
    case OP_NOT:
    case OP_NEG:
    case OP_MUL:
    case OP_IMUL1:
    case OP_IMUL2:
    case OP_IMUL3:
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR:
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
    case OP_SHLD:
    case OP_SHRD:
    case OP_MOV:
    case OP_MOVZX:
    case OP_MOVSX:
    case OP_XCHG:
    case OP_XADD:
    case OP_CMPXCHG:
    case OP_CMOV:
    case OP_SETCC:
    case OP_BSF:
    case OP_BSR: return true;
    case OP_BT:
    case OP_BTS:
    case OP_BTR:
    case OP_BTC:
        /* With a register bit offset, a memory operand is a bit string
         * reaching outside the operand: leave that to the interpreter. */
        return in->mod == 3 || in->opnd[1].kind == OPK_IMM;
    default: return false;
    }
}

static int mem_operand_index(const Insn *in)
{
    for (int i = 0; i < in->nopnds; i++) {
        if (in->opnd[i].kind == OPK_MEM) {
            return i;
        }
    }
    return -1;
}

static void memop_init(MemOp *m, const ScanInsn *si, MemOpEmit emit)
{
    *m = (MemOp){.emit = emit, .si = si, .next_eip = si->eip + si->insn.len};
}

/*
 * A byte instruction naming AH..BH with a memory operand: [r14] needs REX,
 * which makes byte registers 4-7 SPL..DIL.  The memory byte goes through
 * the low byte of a legacy register T (EBX, EDX or ECX: not the high
 * register's own, and never EAX, which CMPXCHG reads), saved in r9, and
 * the instruction runs in its register form; none of it touches the flags:
 *     mov r9, rT ; [mov Tl, [r14]] ; <op Tl, AH..BH> ; [mov [r14], Tl] ; mov rT, r9
 * e.g. cmp [esi], ah  ->  mov r9, rbx ; mov bl, [r14] ; cmp bl, ah ; mov rbx, r9
 */
static int high_byte_temp(const Insn *in)
{
    int high_base = in->reg - 4;
    return high_base == R_EBX ? H_RDX : H_RBX;
}

static void emit_native_mem_high(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    Emit *e = &g->e;
    NativeForm f;
    native_form(in, &f);
    int t = high_byte_temp(in);
    HostRM r14 = hrm_mem(H_R14, 0), rt = hrm_reg(t);
    emit_mov_rr64(e, H_R9, t);
    if (m->access == ACC_READ || m->rmw) {
        emit_rm(e, 0, OPC_MOV_GbEb, t, &r14); /* mov Tl, [r14] */
    }
    emit_rm(e, f.flags, f.opcode, f.reg, &rt);
    emit_guest_imm(g, m->si);
    if (m->access == ACC_WRITE) {
        emit_rm(e, 0, OPC_MOV_EbGb, t, &r14); /* mov [r14], Tl */
    }
    emit_mov_rr64(e, t, H_R9);
}

/* A native instruction with a memory operand; false if it needs a callout. */
static bool gen_native_mem(Gen *g, const ScanInsn *si, int mem_index)
{
    const Insn *in = &si->insn;
    NativeForm f;
    native_form(in, &f);
    HostRM r14 = hrm_mem(H_R14, 0);
    MemOpEmit emit = emit_native_mem;
    if (!native_encodable(&f, &r14)) {
        HostRM rt = hrm_reg(high_byte_temp(in));
        if (in->opnd[mem_index].size != 1 || !native_encodable(&f, &rt)) {
            return false;
        }
        emit = emit_native_mem_high;
    }
    MemOp m;
    memop_init(&m, si, emit);
    m.size = in->opnd[mem_index].size;
    m.flag_use = (uint8_t)flag_use(in);
    m.access = ACC_READ;
    if (mem_index == 0 && in->op != OP_CMP && in->op != OP_TEST && in->op != OP_BT &&
        in->op != OP_MUL && in->op != OP_IMUL1) {
        m.access = ACC_WRITE;
        m.rmw = in->op != OP_MOV && in->op != OP_SETCC;
    }
    gen_clobber(g);
    if (!gen_operand_linear(g, in)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}

static bool gen_native_modrm(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (!modrm_op_native(in)) {
        return false;
    }
    if (in->mod != 3) {
        return gen_native_mem(g, si, mem_operand_index(in));
    }
    NativeForm f;
    native_form(in, &f);
    HostRM rm = native_rm_reg(in, &f);
    if (!native_encodable(&f, &rm)) {
        return false;
    }
    int fu = flag_use(in);
    gen_flags_before(g, fu);
    emit_rm(&g->e, f.flags, f.opcode, f.reg, &rm);
    emit_guest_imm(g, si);
    gen_flags_after(g, fu);
    return true;
}

/*
 * DIV/IDIV r/m32 natively when they cannot fault (SDM Vol.2 DIV, IDIV:
 * #DE for a zero divisor or a quotient that does not fit), with the
 * divisor d in a register (a memory divisor is loaded into r10d first):
 *     test d, d ; jz callout
 *   DIV:  cmp edx, d ; jae callout                  ; quotient >= 2^32
 *   IDIV: mov r9d, eax ; sar r9d, 31 ; cmp r9d, edx ; jne callout  ; 64-bit dividend
 *         cmp d, -1 ; jne go ; cmp eax, 0x80000000 ; je callout    ; INT_MIN / -1
 *   go:   div/idiv d ; jmp done
 *   callout: <the interpreter's DIV: raises #DE or divides> ; unpark
 *   done:
 * IDIV's test is exact only for a sign-extended dividend (CDQ ; IDIV, what
 * compilers emit); any other dividend takes the callout, which is exact.
 * The flags are undefined afterwards; both paths leave them in the host.
 * The caller has parked the flags.
 */
static void emit_divide(Gen *g, const ScanInsn *si, int d)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    HostRM rd = hrm_reg(d), r9 = hrm_reg(H_R9);
    gen_fpu_flush(g); /* the callout below is on one path only: save the x87 state for both */
    gen_sse_flush(g); /* and the XMM state */
    emit_rm(e, 0, OPC_TEST_EvGv, d, &rd);
    uint8_t *slow[3] = {emit_jcc32(e, CC_E, NULL), NULL, NULL};
    if (in->op == OP_DIV) {
        HostRM edx = hrm_reg(H_RDX);
        emit_rm(e, 0, OPC_CMP_EvGv, d, &edx); /* cmp edx, d */
        slow[1] = emit_jcc32(e, CC_AE, NULL);
    } else {
        emit_mov_rr32(e, H_R9, H_RAX);
        emit_shift32_imm(e, EXT_SAR, H_R9, 31);
        emit_rm(e, 0, OPC_CMP_EvGv, H_RDX, &r9); /* cmp r9d, edx */
        slow[1] = emit_jcc32(e, CC_NE, NULL);
        emit_alu32_imm(e, EXT_CMP, &rd, -1);
        uint8_t *go = emit_jcc8(e, CC_NE);
        HostRM eax = hrm_reg(H_RAX);
        emit_alu32_imm(e, EXT_CMP, &eax, (int32_t)0x80000000u);
        slow[2] = emit_jcc32(e, CC_E, NULL);
        emit_bind8(e, go);
    }
    emit_rm(e, 0, OPC_GRP3_Ev, in->op == OP_DIV ? EXT_DIV : EXT_IDIV, &rd);
    uint8_t *done = emit_jmp32(e, NULL);
    for (int i = 0; i < 3; i++) {
        if (slow[i]) {
            emit_bind32(e, slow[i]);
        }
    }
    gen_callout(g, si); /* the flags are parked already: nothing to park */
    gen_unpark(g);
    emit_bind32(e, done);
    g->fl_host = true;
    g->fl_parked = false;
}

static bool is_divide32(const Insn *in)
{
    return (in->op == OP_DIV || in->op == OP_IDIV) && in->opmap == 0 && in->opcode == 0xf7 &&
           in->opsize == 4;
}

/* The memory form's emitter: the divisor from [r14], the page itself or,
 * out of line, the bounce buffer prep filled (an MMIO divisor is read again
 * only when the callout must run the instruction). */
static void emit_divide_mem(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_GvEv, H_R10, &r14); /* mov r10d, [r14] */
    emit_divide(g, m->si, H_R10);
}

static bool gen_divide(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (!is_divide32(in)) {
        return false;
    }
    if (in->mod == 3) {
        gen_clobber(g);
        emit_divide(g, si, hreg(in->rm));
        return true;
    }
    MemOp m;
    memop_init(&m, si, emit_divide_mem);
    m.size = 4;
    m.access = ACC_READ;
    m.flag_use = FU_NONE; /* the emitter keeps the flag state itself */
    gen_clobber(g);
    if (!gen_operand_linear(g, in)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}

/* LEA: the address arithmetic straight into the destination. */
static bool gen_lea(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    int dst = hreg(in->reg);
    Emit *e = &g->e;
    HostRM m = hrm_sib(in->base == REG_NONE ? H_NONE : hreg(in->base),
                       in->index == REG_NONE ? H_NONE : hreg(in->index), in->scale, in->disp);
    if (in->opsize == 2) {
        emit_rm(e, EMIT_66, OPC_LEA_GvM, dst, &m); /* lea r16, [..]: the low 16 bits */
    } else {
        emit_lea32(e, dst, &m);
        if (in->adsize == 2) {
            emit_movzx16(e, dst, dst);
        }
    }
    return true;
}

/* moffs forms A0-A3 become 8A/8B/88/89 with the register AL/eAX. */
static void emit_moffs(Gen *g, const MemOp *m)
{
    static const unsigned opc[4] = {OPC_MOV_GbEb, OPC_MOV_GvEv, OPC_MOV_EbGb, OPC_MOV_EvGv};
    const Insn *in = &m->si->insn;
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, in->opsize == 2 ? EMIT_66 : 0, opc[in->opcode - 0xa0], H_RAX, &r14);
}

static bool gen_moffs(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    MemOp m;
    memop_init(&m, si, emit_moffs);
    m.size = in->opcode & 1 ? in->opsize : 1;
    m.access = in->opcode >= 0xa2 ? ACC_WRITE : ACC_READ;
    gen_clobber(g);
    if (!gen_operand_linear(g, in)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}

/* One-byte forms with no ModRM that mean the same in 64-bit mode. */
static bool opcode_verbatim(const Insn *in)
{
    unsigned op = in->opcode;
    if (in->opmap != 0) {
        return false;
    }
    if (op < 0x40 && ((op & 7) == 4 || (op & 7) == 5)) {
        return true; /* ALU AL, Ib / eAX, Iz */
    }
    switch (op) {
    case 0xa8:
    case 0xa9: /* TEST AL/eAX, imm */
    case 0x98:
    case 0x99: /* CBW/CWDE, CWD/CDQ */
    case 0x9e:
    case 0x9f: /* SAHF, LAHF */
    case 0xf5:
    case 0xf8:
    case 0xf9: /* CMC, CLC, STC */ return true;
    default: return op >= 0xb0 && op <= 0xb7; /* MOV r8, imm8: AL..BH need no REX */
    }
}

/* Register forms with the register in the opcode, re-encoded for R12. */
static bool gen_opcode_reg(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    unsigned flags = in->opsize == 2 ? EMIT_66 : 0;
    unsigned op = in->opcode;
    int r = hreg(op & 7);
    if (in->opmap == 1 && op >= 0xc8) {
        /* bswap r32; or, under 66h, the host's own BSWAP r16, whose low word
         * is undefined but whose high word is kept as the guest's is */
        emit_opreg(e, flags, OPC_BSWAP_Zd, r);
        return true;
    }
    if (in->opmap != 0) {
        return false;
    }
    if (op >= 0xb8 && op <= 0xbf) {
        emit_opreg(e, flags, OPC_MOV_ZvIv, r); /* mov r, imm */
        emit_guest_imm(g, si);
        return true;
    }
    if (op >= 0x40 && op <= 0x4f) {
        HostRM rm = hrm_reg(r);
        gen_flags_before(g, FU_MODIFY);
        emit_rm(e, flags, OPC_GRP5_Ev, op >= 0x48 ? 1 : 0, &rm); /* inc/dec r (FF /0, /1) */
        gen_flags_after(g, FU_MODIFY);
        return true;
    }
    if (op >= 0x91 && op <= 0x97) {
        HostRM rm = hrm_reg(r);
        emit_rm(e, flags, OPC_XCHG_EvGv, H_RAX, &rm); /* xchg r, eax */
        return true;
    }
    return false;
}

/*
 * Instructions with no effect on the guest state translated code holds:
 *   lfence / mfence / sfence   the host's own (one guest CPU needs no
 *                              ordering, but timing code fences for a reason)
 *   pause                      the host's own: a spin loop yields its core
 *   cld / std                  and dword [r15+eflags], ~DF / or dword [..], DF
 *                              (guest DF lives only in CPUState)
 *   cli at CPL 0               and dword [r15+eflags], ~IF: CPL 0 is never above
 *                              IOPL, and translated code is never vm86, so CLI
 *                              cannot fault or mean VIF there (cpu/ops_system.c).
 *                              Clearing IF makes no interrupt deliverable, so
 *                              nothing needs to look at events; at CPL 1-3 (the
 *                              CPL is in the block key, IOPL is not) it stays a
 *                              callout, which raises #GP(0) when CPL > IOPL
 */
static bool gen_hint_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    if (in->lock) {
        return false; /* #UD through the interpreter */
    }
    if (in->op == OP_FENCE) {
        emit_u8(e, 0x0f);
        emit_u8(e, 0xae);
        emit_u8(e, (uint8_t)(0300 | in->reg << 3)); /* 0F AE /5 /6 /7, mod 11 */
        return true;
    }
    if (in->op == OP_NOP && in->opmap == 0 && in->opcode == 0x90 && in->rep == REP_F3) {
        emit_u8(e, 0xf3);
        emit_u8(e, 0x90); /* pause */
        return true;
    }
    if (in->op == OP_CLI && (g->key & KEY_CPL_MASK) == 0) {
        gen_clobber(g);
        HostRM fl = hrm_mem(H_R15, CPU_OFF(eflags));
        emit_alu32_imm(e, EXT_AND, &fl, (int32_t)~EFLAGS_IF);
        return true;
    }
    if (in->op == OP_CLD || in->op == OP_STD) {
        gen_clobber(g);
        HostRM fl = hrm_mem(H_R15, CPU_OFF(eflags));
        emit_alu32_imm(e, in->op == OP_CLD ? EXT_AND : EXT_OR, &fl,
                       in->op == OP_CLD ? (int32_t)~EFLAGS_DF : (int32_t)EFLAGS_DF);
        return true;
    }
    return false;
}

static bool gen_data_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (gen_hint_insn(g, si)) {
        return true;
    }
    if (in->op == OP_NOP) {
        return true;
    }
    if (in->op == OP_LEA) {
        return gen_lea(g, si);
    }
    if (in->op == OP_DIV || in->op == OP_IDIV) {
        return gen_divide(g, si);
    }
    if (in->op == OP_MOV && in->opmap == 0 && in->opcode >= 0xa0 && in->opcode <= 0xa3) {
        return gen_moffs(g, si);
    }
    if (!in->has_modrm && opcode_verbatim(in)) {
        int fu = flag_use(in);
        gen_flags_before(g, fu);
        if (in->opsize == 2) {
            emit_u8(&g->e, 0x66);
        }
        emit_u8(&g->e, in->opcode);
        emit_guest_imm(g, si);
        gen_flags_after(g, fu);
        return true;
    }
    if (!in->has_modrm) {
        return gen_opcode_reg(g, si);
    }
    if (!modrm_op_native(in) || in->op == OP_BT || in->op == OP_BTS || in->op == OP_BTR ||
        in->op == OP_BTC) {
        if (gen_memform_insn(g, si)) {
            return true; /* bit strings, CMPXCHG8B (gen_memforms.c) */
        }
    }
    return gen_native_modrm(g, si);
}

/* Where generation of one instruction started, to undo a native attempt. */
typedef struct GenMark {
    size_t data_used;
    uint8_t *code;
    bool host, parked;
    int nslow;
    uint8_t fpu;             /* gen_fpu.c's state, which a callout in the attempt changes */
    BTCallInfo *fpu_save_ci; /* (an attempt may have allocated it in data now given back) */
    uint8_t sse;             /* gen_sse.c's state, likewise */
} GenMark;

static GenMark gen_mark(const Gen *g)
{
    return (GenMark){g->bt->data_used, g->e.p,   g->fl_host,        g->fl_parked,
                     g->nslow,         g->fpu, g->fpu_save_ci, g->sse};
}

static void gen_rewind(Gen *g, const GenMark *m)
{
    g->bt->data_used = m->data_used;
    g->e.p = m->code;
    g->fl_host = m->host;
    g->fl_parked = m->parked;
    g->nslow = m->nslow;
    g->fpu = m->fpu;
    g->fpu_save_ci = m->fpu_save_ci;
    g->sse = m->sse;
}

/* Whether the instruction in STI's shadow can be native code (gen_sti_shadow). */
static bool sti_shadow_plain(const Insn *in)
{
    return !(in->flags & (INSN_F_ENDBLOCK | INSN_F_IO | INSN_F_FPU | INSN_F_STRING)) &&
           in->op != OP_HLT && in->op != OP_DIV && in->op != OP_IDIV;
}

/*
 * STI at CPL 0 natively.  When IF was set it does nothing (no shadow).
 * Otherwise it sets IF, and an interrupt already waiting (or an exit
 * request, which has taken its kick off the budget) makes it leave with
 * the shadow open, as its callout would.  Else, no interrupt can arrive
 * before the next instruction ends:
 *
 * - before an instruction that is a callout anyway (the kernel's "sti ;
 *   sysexit"), STI opens the shadow in CPUState as op_STI does, and that
 *   callout ends it after its instruction (helpers.c), as cpu_exec() does;
 * - before one that can be native (the kernel's "sti ; ret"), the shadow
 *   stays closed and STI notes the next instruction's count in
 *   bt_shadow_icount (slice end - budget - instructions of the block from
 *   it on), so a fault in it reopens the shadow (helpers.c,
 *   bt_fault_in_shadow), as cpu_exec() leaves it open on a fault.
 *
 *     test dword [r15+eflags], IF ; jnz done
 *     or dword [r15+eflags], IF
 *     cmp dword [r15+interrupt_request], 0 ; jne leave
 *     cmp byte [r15+bt_exit_request], 0 ; jne leave
 *     mov byte [r15+inhibit_irq], 1 ; mov byte [r15+ss_shadow], 0     (callout next)
 *   | mov r9, [r15+bt_icount_end] ; sub r9, r8 ; sub r9, n - i - 1
 *     mov [r15+bt_shadow_icount], r9                                  (native next)
 *     jmp done
 *   leave: mov byte [r15+inhibit_irq], 1 ; mov byte [r15+ss_shadow], 0
 *     add r8, unrun ; mov dword [r15+eip], next ; jmp epilogue
 *   done:
 * At CPL 1-3 (IOPL decides) and as a block's last instruction STI is a
 * callout (gen_sti_shadow).
 */
static void emit_open_shadow(Emit *e)
{
    HostRM inhibit = hrm_mem(H_R15, CPU_OFF(inhibit_irq));
    emit_rm(e, 0, OPC_MOV_EbIb, 0, &inhibit);
    emit_u8(e, 1);
    HostRM ss_shadow = hrm_mem(H_R15, CPU_OFF(ss_shadow));
    emit_rm(e, 0, OPC_MOV_EbIb, 0, &ss_shadow);
    emit_u8(e, 0);
}

static bool gen_sti(Gen *g, const ScanInsn *si)
{
    const ScanInsn *next = si + 1;
    if ((g->key & KEY_CPL_MASK) != 0 || si->insn.lock || next >= g->scan->in + g->scan->n) {
        return false;
    }
    bool plain = sti_shadow_plain(&next->insn);
    Emit *e = &g->e;
    gen_clobber(g);
    HostRM fl = hrm_mem(H_R15, CPU_OFF(eflags));
    emit_rm(e, 0, OPC_GRP3_Ev, 0, &fl); /* test dword [..], imm32 */
    emit_u32(e, EFLAGS_IF);
    uint8_t *done1 = emit_jcc32(e, CC_NE, NULL);
    emit_alu32_imm(e, EXT_OR, &fl, EFLAGS_IF);
    HostRM req = hrm_mem(H_R15, CPU_OFF(interrupt_request));
    emit_alu32_imm(e, EXT_CMP, &req, 0);
    uint8_t *leave1 = emit_jcc32(e, CC_NE, NULL);
    HostRM kick = hrm_mem(H_R15, CPU_OFF(bt_exit_request));
    emit_cmp8_imm(e, &kick, 0);
    uint8_t *leave2 = emit_jcc32(e, CC_NE, NULL);
    if (plain) {
        HostRM r9 = hrm_reg(H_R9);
        emit_load64(e, H_R9, H_R15, CPU_OFF(bt_icount_end));
        emit_rm(e, EMIT_W, OPC_SUB_EvGv, H_R8, &r9); /* sub r9, r8 */
        emit_alu64_imm(e, EXT_SUB, &r9, g->tb->ninsns - g->cur - 1);
        emit_store64(e, H_R15, CPU_OFF(bt_shadow_icount), H_R9);
    } else {
        emit_open_shadow(e);
    }
    uint8_t *done2 = emit_jmp32(e, NULL);
    emit_bind32(e, leave1);
    emit_bind32(e, leave2);
    emit_open_shadow(e);
    HostRM budget = hrm_reg(H_R8);
    emit_alu64_imm(e, EXT_ADD, &budget, g->tb->ninsns - g->cur - 1);
    emit_store32_imm(e, H_R15, CPU_OFF(eip), next->eip);
    emit_jmp32(e, g->bt->epilogue);
    emit_bind32(e, done1);
    emit_bind32(e, done2);
    g->sti_native = true;
    return true;
}

/*
 * The instruction in STI's shadow (STI is a callout, the previous
 * instruction of this block).  Native code when it can be, with no
 * interpreter callout that could see or change the shadow: then STI's
 * callout ends the shadow as the block goes on (helpers.c, bt_sti_leave).
 * Otherwise a callout, which ends the shadow after it as cpu_exec() does.
 */
static bool gen_sti_shadow(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    BTCallInfo *sti = g->sti_ci;
    bool native_sti = g->sti_native;
    g->sti_ci = NULL;
    g->sti_native = false;
    bool plain = (sti || native_sti) && sti_shadow_plain(in);
    if (plain) {
        GenMark mark = gen_mark(g);
        bool ended = false;
        if (gen_flow_insn(g, si, &ended)) {
            if (sti) {
                sti->shadow_native = 1;
            }
            return ended;
        }
        gen_rewind(g, &mark);
        if (gen_data_insn(g, si)) {
            if (sti) {
                sti->shadow_native = 1;
            }
            return false;
        }
        gen_rewind(g, &mark);
    }
    gen_callout(g, si); /* its callout ends the shadow (helpers.c) */
    return false;
}

bool gen_insn(Gen *g, const ScanInsn *si)
{
    if (gen_sys_insn(g, si)) {
        return false; /* light helpers end STI's shadow themselves (gen_sys.c) */
    }
    if (si > g->scan->in && si[-1].insn.op == OP_STI) {
        return gen_sti_shadow(g, si);
    }
    if (gen_fpu_insn(g, si) || gen_sse_insn(g, si)) {
        return false;
    }
    if (si->insn.op == OP_STI && gen_sti(g, si)) {
        return false;
    }
    GenMark mark = gen_mark(g);
    bool ended = false;
    if (gen_flow_insn(g, si, &ended)) {
        return ended;
    }
    gen_rewind(g, &mark);
    if (gen_data_insn(g, si)) {
        return false;
    }
    gen_rewind(g, &mark);
    if (gen_string_insn(g, si)) {
        return false;
    }
    /* Not native after all: drop what was emitted and call out. */
    gen_rewind(g, &mark);
    const Insn *in = &si->insn;
    if ((in->op == OP_MOVS || in->op == OP_STOS) && in->rep != REP_NONE) {
        gen_rep_string(g, si); /* gen_string.c */
    } else {
        BTCallInfo *ci = gen_callinfo(g, si, bt_helper_interp);
        gen_call(g, ci);
        g->sti_ci = in->op == OP_STI ? ci : NULL;
    }
    return false;
}
