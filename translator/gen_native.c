/*
 * Guest instructions emitted as themselves: the integer ALU, moves, bit
 * operations, shifts, multiplies, divides, conditional moves and sets, in
 * 32-bit and in 64-bit blocks alike.
 *
 * x86 on x86: the host instruction is the guest's own opcode with its
 * ModRM re-encoded (NativeForm): guest ESP/RSP becomes R12 (a REX
 * prefix), a memory operand becomes [r14] (REX.B) after the TLB check
 * (gen_mem.c), 16-bit operands keep their 66h prefix, 64-bit ones get
 * REX.W, and immediates are copied from the guest bytes.  The host then
 * computes the same result and the same defined flags.
 *
 * 64-bit blocks (gen64.c's register scheme): a guest register in CPUState
 * (R8-R15) is staged, the reg field's through R9 and a register r/m's
 * through R14, each loaded whole before the instruction and stored whole
 * after it when the instruction writes it (an r/m the host can use in
 * place, [r15 + regs + 8*r], is: native_e_in_place).  Whole: a 32-bit result then
 * reaches CPUState zero-extended, as the host extended it in R9 (SDM
 * Vol.1 3.4.1.1), and an 8- or 16-bit result keeps the other bits.  A
 * byte register with REX is SPL..DIL (SPL is R12B) or R8B..R15B; without
 * REX, 4-7 are AH..BH.  The guest's LOCK is dropped: one guest CPU.
 *
 * Re-encoding limits (SDM Vol.2 2.2.1): AH, CH, DH, BH cannot appear in an
 * instruction with a REX prefix, so a byte instruction naming one of them
 * together with [r14] runs in its register form on a borrowed legacy
 * register (emit_native_mem_high); with R12 or a staged register it is a
 * callout.  Opcodes that mean something else in 64-bit mode (40-4F are
 * REX, 82h is #UD, 63h is MOVSXD) are re-encoded or left to callouts.
 * DIV and IDIV fault (#DE), and no host signal may leave translated code:
 * the 32- and 64-bit forms run natively behind a check that they cannot
 * fault, and call out otherwise (gen_divide); the other forms are callouts.
 */
#include "translator/gen64.h"

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
        case 0x63: /* MOVSXD Gv, Ed (64-bit mode; ARPL is never native) */
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

/* Offset of the immediate in the guest instruction's bytes (REX is a prefix). */
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
    if (in->adsize >= 4) {
        off += in->rm == 4; /* SIB */
        if (in->mod == 1) {
            off += 1;
        } else if (in->mod == 2 || in->base == REG_NONE || in->base == INSN_BASE_RIP) {
            off += 4;
        }
    } else if (in->mod == 1) {
        off += 1;
    } else if (in->mod == 2 || in->rm == 6) {
        off += 2;
    }
    return off;
}

void gen_emit_guest_imm(Gen *g, const ScanInsn *si)
{
    int off = insn_imm_offset(&si->insn);
    emit_bytes(&g->e, si->bytes + off, (size_t)(si->insn.len - off));
}

/* How a native ModRM instruction is encoded on the host. */
typedef struct NativeForm {
    unsigned opcode;
    int reg;        /* ModRM reg field: a host register or an extension */
    unsigned flags; /* EMIT_* */
    int e_index;    /* the r/m operand */
    int e_host;     /* register forms: the r/m's host register */
    int g_stage;    /* guest register the reg field stages through R9, or -1 */
    int e_stage;    /* register forms: guest register the r/m stages through R14, or -1 */
} NativeForm;

/* A guest register operand's host register (EMIT_BYTE_* into *flags for
 * byte registers 4-7), or -1 when it lives in CPUState. */
static int native_host_reg(const Operand *o, unsigned *flags)
{
    int r = o->reg;
    if (o->size == 1 && r >= REG_BYTE_REX) {
        *flags |= EMIT_BYTE_X; /* SPL BPL SIL DIL: SPL is R12B */
        return hreg(r - REG_BYTE_REX);
    }
    if (o->size == 1 && r >= 4 && r < 8) {
        *flags |= EMIT_BYTE_H; /* AH CH DH BH */
        return r;
    }
    return r < 8 ? hreg(r) : -1;
}

static void native_form(const Insn *in, NativeForm *f)
{
    unsigned opc = (in->opmap ? OPC_0F : 0) | in->opcode;
    if (opc == 0x82) {
        opc = OPC_GRP1_EbIb; /* 82h is 80h in 32-bit code, #UD in 64-bit mode */
    }
    int gi = modrm_g_operand(in);
    f->opcode = opc;
    f->flags = in->opsize == 2 ? EMIT_66 : in->opsize == 8 ? EMIT_W : 0;
    f->e_index = gi == 0 ? 1 : 0;
    f->g_stage = -1;
    f->e_stage = -1;
    if (gi >= 0) {
        f->reg = native_host_reg(&in->opnd[gi], &f->flags);
        if (f->reg < 0) {
            f->g_stage = in->opnd[gi].reg;
            f->reg = H_R9;
        }
    } else {
        /* /6 of the shift group is an undocumented SAL alias: emit SHL. */
        f->reg = (in->op == OP_SHL) ? EXT_SHL : in->reg;
    }
    const Operand *e = &in->opnd[f->e_index];
    f->e_host = H_NONE;
    if (e->kind == OPK_REG) {
        f->e_host = native_host_reg(e, &f->flags);
        if (f->e_host < 0) {
            f->e_stage = e->reg;
            f->e_host = H_R14;
        }
    }
}

static bool native_encodable(const NativeForm *f, const HostRM *rm)
{
    return !(f->flags & EMIT_BYTE_H) || !emit_needs_rex(f->flags & ~EMIT_BYTE_H, f->reg, rm);
}

/* Whether the instruction writes its operand i (0: the destination). */
static bool native_writes(const Insn *in, int i)
{
    switch (in->op) {
    case OP_CMP:
    case OP_TEST:
    case OP_BT:
    case OP_MUL:
    case OP_IMUL1: return false; /* MUL's operand is a source */
    case OP_XCHG:
    case OP_XADD: return true;
    default: return i == 0;
    }
}

/* Whether operand i is written whole without being read: its staging
 * needs no load (a 32-bit result is zero-extended, SDM Vol.1 3.4.1.1). */
static bool native_write_only(const Insn *in, int i)
{
    return i == 0 && in->opnd[0].size >= 4 &&
           (in->op == OP_MOV || in->op == OP_MOVZX || in->op == OP_MOVSX);
}

/* mov host, [r15 + regs + 8*r] before the instruction, when it reads r. */
static void native_stage_in(Gen *g, const Insn *in, int stage, int index, int host)
{
    if (stage >= 0 && !native_write_only(in, index)) {
        emit_load64(&g->e, host, H_R15, g64_reg_off(stage));
    }
}

/* mov [r15 + regs + 8*r], host after it, when it wrote r. */
static void native_stage_out(Gen *g, const Insn *in, int stage, int index, int host)
{
    if (stage >= 0 && native_writes(in, index)) {
        emit_store64(&g->e, H_R15, g64_reg_off(stage), host);
    }
}

/* The instruction on rm (a host register or [r14]), with its staging:
 *     [mov r9, [r15+Rg]] [mov r14, [r15+Re]] <op reg, rm> [mov [r15+Rg], r9] [mov [r15+Re], r14]
 * The r/m is stored last: when both name one register it is the destination. */
static void emit_native(Gen *g, const ScanInsn *si, const NativeForm *f, const HostRM *rm)
{
    const Insn *in = &si->insn;
    int gi = 1 - f->e_index;
    native_stage_in(g, in, f->g_stage, gi, H_R9);
    native_stage_in(g, in, f->e_stage, f->e_index, H_R14);
    emit_rm(&g->e, f->flags, f->opcode, f->reg, rm);
    gen_emit_guest_imm(g, si);
    native_stage_out(g, in, f->g_stage, gi, H_R9);
    native_stage_out(g, in, f->e_stage, f->e_index, H_R14);
}

/*
 * A CPUState r/m register used where it lies, [r15 + regs + 8*r], with no
 * staging: not when a 32-bit result would need its zero extension, when a
 * register bit offset would index past it (BT* on memory is a bit
 * string), when the reg field stages the same register (stored after
 * the instruction, it would win over the r/m's result), or for XCHG,
 * which the host locks on memory (SDM Vol.2 XCHG).
 */
static bool native_e_in_place(const Insn *in, const NativeForm *f)
{
    bool bit_string =
        (in->op == OP_BT || in->op == OP_BTS || in->op == OP_BTR || in->op == OP_BTC) &&
        in->opnd[1].kind == OPK_REG;
    bool widens = in->opnd[f->e_index].size == 4 && native_writes(in, f->e_index);
    return !bit_string && !widens && in->op != OP_XCHG && f->g_stage != f->e_stage;
}

/* The memory-operand emitter: the guest instruction on [r14]. */
static void emit_native_mem(Gen *g, const MemOp *m)
{
    NativeForm f;
    native_form(&m->si->insn, &f);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_native(g, m->si, &f, &r14);
}

int gen_flag_use(const Insn *in)
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
        /* A zero count (masked to 6 bits at 64 bits, else 5) leaves every
         * flag alone (SDM Vol.2 SAL/SAR/SHL/SHR). */
        bool dbl = in->op == OP_SHLD || in->op == OP_SHRD;
        bool by_imm = in->opnd[dbl ? 2 : 1].kind == OPK_IMM;
        bool by_one = !dbl && in->opnd[1].kind == OPK_CONST1;
        uint32_t mask = in->opsize == 8 ? 63 : 31;
        return (by_one || (by_imm && (in->imm & mask))) ? FU_WRITE : FU_MODIFY;
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
bool gen_native_op(const Insn *in)
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

void gen_memop_init(const Gen *g, MemOp *m, const ScanInsn *si, MemOpEmit emit)
{
    *m = (MemOp){.emit = emit, .si = si, .next_eip = (uint32_t)(si->eip + si->insn.len)};
    if (g->key & KEY_CODE64) {
        m->prep = bt_helper_mem64_prep; /* the address again from the registers (helpers64.c) */
        m->commit = bt_helper_mem64_commit;
    }
}

/* r14 = the linear address of the ModRM memory operand; false if it needs a callout. */
static bool native_operand_linear(Gen *g, const ScanInsn *si)
{
    if (g->key & KEY_CODE64) {
        return gen64_operand_addr(g, si);
    }
    gen_clobber(g);
    return gen_operand_linear(g, &si->insn);
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
    gen_emit_guest_imm(g, m->si);
    if (m->access == ACC_WRITE) {
        emit_rm(e, 0, OPC_MOV_EbGb, t, &r14); /* mov [r14], Tl */
    }
    emit_mov_rr64(e, t, H_R9);
}

/*
 * A 64-bit block's slow-path commit finds the address again from the
 * registers after the operation (helpers64.c), so an operation that
 * writes a register of its own address cannot be native: XCHG and XADD
 * write the reg field's, CMPXCHG RAX.
 */
static bool native_mem_address_kept(const Gen *g, const Insn *in)
{
    if (!(g->key & KEY_CODE64)) {
        return true; /* 32-bit commits take bt_lin */
    }
    int written;
    if (in->op == OP_XCHG || in->op == OP_XADD) {
        written = in->opnd[1].reg;
    } else if (in->op == OP_CMPXCHG) {
        written = R_EAX;
    } else {
        return true;
    }
    if (in->opnd[1].size == 1 && written >= REG_BYTE_REX) {
        written -= REG_BYTE_REX; /* SPL..DIL */
    } else if (in->opnd[1].size == 1 && written >= 4 && written < 8) {
        written -= 4; /* AH..BH */
    }
    return in->base != written && in->index != written;
}

/* A native instruction with a memory operand; false if it needs a callout. */
static bool gen_native_mem(Gen *g, const ScanInsn *si, int mem_index)
{
    const Insn *in = &si->insn;
    NativeForm f;
    native_form(in, &f);
    HostRM r14 = hrm_mem(H_R14, 0);
    MemOpEmit emit = emit_native_mem;
    if (!native_mem_address_kept(g, in)) {
        return false;
    }
    if (!native_encodable(&f, &r14)) {
        HostRM rt = hrm_reg(high_byte_temp(in));
        if (in->opnd[mem_index].size != 1 || !native_encodable(&f, &rt)) {
            return false;
        }
        emit = emit_native_mem_high;
    }
    MemOp m;
    gen_memop_init(g, &m, si, emit);
    m.size = in->opnd[mem_index].size;
    m.flag_use = (uint8_t)gen_flag_use(in);
    m.access = ACC_READ;
    if (mem_index == 0 && in->op != OP_CMP && in->op != OP_TEST && in->op != OP_BT &&
        in->op != OP_MUL && in->op != OP_IMUL1) {
        m.access = ACC_WRITE;
        m.rmw = in->op != OP_MOV && in->op != OP_SETCC;
    }
    if (!native_operand_linear(g, si)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}

bool gen_native_modrm(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (!gen_native_op(in)) {
        return false;
    }
    if (in->mod != 3) {
        return gen_native_mem(g, si, mem_operand_index(in));
    }
    NativeForm f;
    native_form(in, &f);
    HostRM rm = hrm_reg(f.e_host);
    if (f.e_stage >= 0 && native_e_in_place(in, &f)) {
        rm = hrm_mem(H_R15, g64_reg_off(f.e_stage));
        f.e_stage = -1;
    }
    if (!native_encodable(&f, &rm)) {
        return false;
    }
    int fu = gen_flag_use(in);
    gen_flags_before(g, fu);
    emit_native(g, si, &f, &rm);
    gen_flags_after(g, fu);
    return true;
}

/*
 * DIV/IDIV r/m32 and r/m64 natively when they cannot fault (SDM Vol.2
 * DIV, IDIV: #DE for a zero divisor or a quotient that does not fit), with
 * the divisor d in a register (a memory divisor is loaded into r10 first,
 * a CPUState one into r14), at 32 bits (shown) or 64:
 *     test d, d ; jz callout
 *   DIV:  cmp edx, d ; jae callout                  ; quotient >= 2^32
 *   IDIV: mov r9d, eax ; sar r9d, 31 ; cmp r9d, edx ; jne callout  ; a wider dividend
 *         cmp d, -1 ; jne go ; cmp eax, 0x80000000 ; je callout    ; INT_MIN / -1
 *         (64 bits: mov r9, 1 << 63 ; cmp rax, r9 ; je callout)
 *   go:   div/idiv d ; jmp done
 *   callout: <the interpreter's DIV: raises #DE or divides> ; unpark
 *   done:
 * IDIV's test is exact only for a sign-extended dividend (CDQ/CQO ; IDIV,
 * what compilers emit); any other dividend takes the callout, which is
 * exact.  The flags are undefined afterwards; both paths leave them in the
 * host.  The caller has parked the flags.
 */
/* jmp done ; callout: <the interpreter's DIV> ; unpark ; done: */
static void emit_divide_tail(Gen *g, const ScanInsn *si, uint8_t *slow[3])
{
    Emit *e = &g->e;
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

static void emit_divide(Gen *g, const ScanInsn *si, int d)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    unsigned w = in->opsize == 8 ? EMIT_W : 0;
    HostRM rd = hrm_reg(d), r9 = hrm_reg(H_R9), eax = hrm_reg(H_RAX);
    gen_fpu_flush(g); /* the callout below is on one path only: save the x87 state for both */
    gen_sse_flush(g); /* and the XMM state */
    emit_rm(e, w, OPC_TEST_EvGv, d, &rd);
    uint8_t *slow[3] = {emit_jcc32(e, CC_E, NULL), NULL, NULL};
    if (in->op == OP_DIV) {
        HostRM edx = hrm_reg(H_RDX);
        emit_rm(e, w, OPC_CMP_EvGv, d, &edx); /* cmp edx, d */
        slow[1] = emit_jcc32(e, CC_AE, NULL);
    } else {
        emit_rm(e, w, OPC_MOV_EvGv, H_RAX, &r9); /* mov r9d, eax */
        emit_rm(e, w, OPC_GRP2_EvIb, EXT_SAR, &r9);
        emit_u8(e, w ? 63 : 31);                 /* sar r9d, 31 */
        emit_rm(e, w, OPC_CMP_EvGv, H_RDX, &r9); /* cmp r9d, edx */
        slow[1] = emit_jcc32(e, CC_NE, NULL);
        emit_rm(e, w, OPC_GRP1_EvIb, EXT_CMP, &rd);
        emit_u8(e, 0xff); /* cmp d, -1 */
        uint8_t *go = emit_jcc8(e, CC_NE);
        if (w) {
            emit_mov_r64_imm(e, H_R9, 1ull << 63);
            emit_rm(e, EMIT_W, OPC_CMP_EvGv, H_R9, &eax); /* cmp rax, r9 */
        } else {
            emit_alu32_imm(e, EXT_CMP, &eax, (int32_t)0x80000000u);
        }
        slow[2] = emit_jcc32(e, CC_E, NULL);
        emit_bind8(e, go);
    }
    emit_rm(e, w, OPC_GRP3_Ev, in->op == OP_DIV ? EXT_DIV : EXT_IDIV, &rd);
    emit_divide_tail(g, si, slow);
}

/*
 * DIV/IDIV r/m8 and r/m16 the same way, with the divisor zero-extended
 * into r10d first (movzx r10d, d ; an AH..BH divisor, which no instruction
 * with REX can name: movzx r10d, <its word> ; shr r10d, 8) and the
 * dividend AX (8 bits) or DX:AX (16):
 *     test r10d, r10d ; jz callout
 *   DIV 8:   movzx r9d, ax ; shr r9d, 8 ; cmp r9d, r10d ; jae callout   ; AH >= d
 *   DIV 16:  movzx r9d, dx ; cmp r9d, r10d ; jae callout                ; DX >= d
 *   IDIV 8:  movsx r9d, al ; cmp r9w, ax ; jne callout                  ; AX is not CBW's
 *            cmp r10d, 0xff ; jne go ; cmp al, 0x80 ; je callout        ; -128 / -1
 *   IDIV 16: movsx r9d, ax ; sar r9d, 16 ; cmp r9w, dx ; jne callout    ; DX:AX is not CWD's
 *            cmp r10d, 0xffff ; jne go ; cmp ax, 0x8000 ; je callout
 *   go:      div/idiv r10b | r10w ; jmp done
 * (the host's 8-bit divide with REX still divides AX into AL and AH).
 */
static void emit_divide_small(Gen *g, const ScanInsn *si, int size)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    unsigned w = size == 2 ? EMIT_66 : 0;
    HostRM r9 = hrm_reg(H_R9), r10 = hrm_reg(H_R10), ax = hrm_reg(H_RAX);
    gen_fpu_flush(g);
    gen_sse_flush(g);
    emit_rm(e, 0, OPC_TEST_EvGv, H_R10, &r10);
    uint8_t *slow[3] = {emit_jcc32(e, CC_E, NULL), NULL, NULL};
    if (in->op == OP_DIV) {
        HostRM high = hrm_reg(size == 1 ? H_RAX : H_RDX);
        emit_rm(e, 0, OPC_MOVZX_GvEw, H_R9, &high); /* movzx r9d, ax|dx */
        if (size == 1) {
            emit_shift32_imm(e, EXT_SHR, H_R9, 8);
        }
        emit_rm(e, 0, OPC_CMP_EvGv, H_R10, &r9); /* cmp r9d, r10d */
        slow[1] = emit_jcc32(e, CC_AE, NULL);
    } else {
        emit_rm(e, 0, size == 1 ? OPC_0F | 0xbe : OPC_0F | 0xbf, H_R9, &ax); /* movsx r9d, al|ax */
        if (size == 2) {
            emit_shift32_imm(e, EXT_SAR, H_R9, 16);
        }
        emit_rm(e, EMIT_66, OPC_CMP_EvGv, size == 1 ? H_RAX : H_RDX, &r9); /* cmp r9w, ax|dx */
        slow[1] = emit_jcc32(e, CC_NE, NULL);
        emit_alu32_imm(e, EXT_CMP, &r10, size == 1 ? 0xff : 0xffff);
        uint8_t *go = emit_jcc8(e, CC_NE);
        if (size == 1) {
            emit_rm(e, 0, OPC_GRP1_EbIb, EXT_CMP, &ax);
            emit_u8(e, 0x80); /* cmp al, 0x80 */
        } else {
            emit_rm(e, EMIT_66, OPC_GRP1_EvIz, EXT_CMP, &ax);
            emit_u16(e, 0x8000); /* cmp ax, 0x8000 */
        }
        slow[2] = emit_jcc32(e, CC_E, NULL);
        emit_bind8(e, go);
    }
    emit_rm(e, w | (size == 1 ? EMIT_BYTE_X : 0), size == 1 ? OPC_GRP3_Eb : OPC_GRP3_Ev,
            in->op == OP_DIV ? EXT_DIV : EXT_IDIV, &r10);
    emit_divide_tail(g, si, slow);
}

/* movzx r10d, a register divisor of 8 or 16 bits */
static void emit_divisor_small(Gen *g, const Operand *o)
{
    Emit *e = &g->e;
    unsigned flags = 0;
    int h = native_host_reg(o, &flags);
    unsigned op = o->size == 1 ? OPC_MOVZX_GvEb : OPC_MOVZX_GvEw;
    if (h < 0) {
        HostRM home = hrm_mem(H_R15, g64_reg_off(o->reg));
        emit_rm(e, 0, op, H_R10, &home); /* movzx r10d, [r15+regs+8*r] */
    } else if (flags & EMIT_BYTE_H) {
        HostRM word = hrm_reg(h - 4);
        emit_rm(e, 0, OPC_MOVZX_GvEw, H_R10, &word); /* movzx r10d, ax..bx ; shr r10d, 8 */
        emit_shift32_imm(e, EXT_SHR, H_R10, 8);
    } else {
        HostRM reg = hrm_reg(h);
        emit_rm(e, flags, op, H_R10, &reg);
    }
}

static bool is_divide(const Insn *in)
{
    return (in->op == OP_DIV || in->op == OP_IDIV) && in->opmap == 0 &&
           (in->opcode == 0xf6 || in->opcode == 0xf7);
}

/* The memory form's emitter: the divisor from [r14], the page itself or,
 * out of line, the bounce buffer prep filled (an MMIO divisor is read again
 * only when the callout must run the instruction). */
static void emit_divide_mem(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    if (m->size < 4) {
        emit_rm(&g->e, 0, m->size == 1 ? OPC_MOVZX_GvEb : OPC_MOVZX_GvEw, H_R10, &r14);
        emit_divide_small(g, m->si, m->size); /* movzx r10d, byte|word [r14] */
        return;
    }
    unsigned w = m->size == 8 ? EMIT_W : 0;
    emit_rm(&g->e, w, OPC_MOV_GvEv, H_R10, &r14); /* mov r10d, [r14] */
    emit_divide(g, m->si, H_R10);
}

bool gen_divide(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (!is_divide(in)) {
        return false;
    }
    int size = in->opnd[0].size;
    if (in->mod == 3 && size < 4) {
        gen_clobber(g);
        emit_divisor_small(g, &in->opnd[0]);
        emit_divide_small(g, si, size);
        return true;
    }
    if (in->mod == 3) {
        unsigned flags = 0;
        int d = native_host_reg(&in->opnd[0], &flags);
        gen_clobber(g);
        if (d < 0) {
            emit_load64(&g->e, H_R14, H_R15, g64_reg_off(in->opnd[0].reg));
            d = H_R14; /* mov r14, [r15+regs+8*r]: the callout reads CPUState's */
        }
        emit_divide(g, si, d);
        return true;
    }
    MemOp m;
    gen_memop_init(g, &m, si, emit_divide_mem);
    m.size = (uint8_t)size;
    m.access = ACC_READ;
    m.flag_use = FU_NONE; /* the emitter keeps the flag state itself */
    if (!native_operand_linear(g, si)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}
