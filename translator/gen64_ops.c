/*
 * The integer instructions of 64-bit blocks: the ModRM forms re-encoded as
 * themselves and the divides (gen_native.c, shared with 32-bit blocks),
 * the verbatim forms on AL/eAX (gen_ops.c), and here the forms with a
 * register in the opcode, which REX.B extends to R8-R15: XCHG rAX, r
 * (90+r), BSWAP r (0F C8+r), MOV r8, imm8 (B0+r) with REX and MOV r16,
 * imm16 (66 B8+r).
 * A register in CPUState goes through R9, loaded and stored whole, so a
 * 32-bit result is zero-extended there as the host extended it in R9.
 * Also here: the bit strings of BT, BTS, BTR and BTC m, r, MOV between
 * rAX and a moffs, and BSF/BSR with F3 (gcc's `rep bsf`: without BMI1,
 * which popek's CPU lacks, it is BSF, SDM Vol.2 TZCNT).
 */
#include "translator/gen64.h"

static int opcode_reg(const Insn *in)
{
    return (int)(in->opcode & 7) | ((in->rex & INSN_REX_B) ? 8 : 0);
}

/*
 *     [mov r9, [r15+R]] ; xchg rR, rax     ; [mov [r15+R], r9]
 *     [mov r9, [r15+R]] ; bswap rR         ; [mov [r15+R], r9]
 *     mov rRb, imm8 (REX: SPL..DIL, SPL is R12B)  |  mov byte [r15+R], imm8
 *     mov rRw, imm16                               |  mov word [r15+R], imm16
 * (B8+r at 32 and 64 bits is gen64.c's.)
 */
static bool gen64_opcode_reg(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    unsigned op = in->opcode;
    int r = opcode_reg(in);
    int h = g64_pinned(r) ? hreg(r) : H_R9;
    unsigned flags = in->opsize == 2 ? EMIT_66 : in->opsize == 8 ? EMIT_W : 0;
    if (in->op == OP_MOV && in->opmap == 0 && op >= 0xb0 && op <= 0xb7) {
        if (g64_pinned(r)) {
            emit_opreg(e, EMIT_BYTE_X, 0xb0, h); /* mov r8, imm8 with REX */
        } else {
            HostRM m = g64_reg_loc(r);
            emit_rm(e, 0, OPC_MOV_EbIb, 0, &m); /* mov byte [r15+regs+8*r], imm8 */
        }
        emit_u8(e, (uint8_t)in->imm);
        return true;
    }
    if (in->op == OP_MOV && in->opmap == 0 && op >= 0xb8 && in->opsize == 2) {
        if (g64_pinned(r)) {
            emit_opreg(e, EMIT_66, OPC_MOV_ZvIv, h); /* mov r16, imm16 */
        } else {
            HostRM m = g64_reg_loc(r);
            emit_rm(e, EMIT_66, OPC_MOV_EvIz, 0, &m); /* mov word [r15+regs+8*r], imm16 */
        }
        emit_u16(e, (uint16_t)in->imm);
        return true;
    }
    bool xchg = in->op == OP_XCHG && in->opmap == 0 && (op & 0xf8) == 0x90;
    bool bswap = in->op == OP_BSWAP && in->opsize != 2; /* BSWAP r16 is undefined */
    if (!xchg && !bswap) {
        return false;
    }
    if (!g64_pinned(r)) {
        emit_load64(e, H_R9, H_R15, g64_reg_off(r));
    }
    if (xchg) {
        HostRM rm = hrm_reg(h);
        emit_rm(e, flags, OPC_XCHG_EvGv, H_RAX, &rm);
    } else {
        emit_opreg(e, flags, OPC_BSWAP_Zd, h);
    }
    if (!g64_pinned(r)) {
        emit_store64(e, H_R15, g64_reg_off(r), H_R9);
    }
    return true;
}

/*
 * BT, BTS, BTR, BTC m, r: a bit string (SDM Vol.2 BT, "bit-base
 * addressing"; 32-bit blocks: gen_memforms.c).  The offset is signed at
 * the operand size s and may reach outside the operand: the operand at
 * EA + s * (offset SAR log2(8s)) holds bit offset mod 8s.  The translator
 * moves the address itself and runs the register form on a copy, which
 * takes the offset modulo the width:
 *     <r14 = EA>                                       (gen64_operand_addr)
 *     movsx r9, offset16 | movsxd r9, offset32 | mov r9, offset64
 *     sar r9, 4|5|6 ; lea r14, [r14 + r9*s]
 *     <TLB check of s bytes at r14>
 *     [mov r10, [r15+regs+8*offset]]                   (an offset in CPUState)
 *     mov r9, [r14] ; bt* r9, offset ; [mov [r14], r9]
 * The access is the interpreter's (cpu/ops_bit.c): one read, or one
 * read-modify-write checked for write first; the slow path's helpers
 * (bt_helper_bitstr64_prep/commit) find the same address from the
 * registers, which none of these writes.  With 67h the address wraps to
 * 32 bits after the offset moved it: a callout.
 */
static void emit_bit_string64(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    Emit *e = &g->e;
    unsigned flags = in->opsize == 2 ? EMIT_66 : in->opsize == 8 ? EMIT_W : 0;
    int off = in->opnd[1].reg;
    int h = g64_pinned(off) ? hreg(off) : H_R10;
    if (!g64_pinned(off)) {
        emit_load64(e, H_R10, H_R15, g64_reg_off(off));
    }
    HostRM r14 = hrm_mem(H_R14, 0), r9 = hrm_reg(H_R9);
    emit_rm(e, flags, OPC_MOV_GvEv, H_R9, &r14);
    emit_rm(e, flags, OPC_0F | in->opcode, h, &r9);
    if (m->access == ACC_WRITE) {
        emit_rm(e, flags, OPC_MOV_EvGv, H_R9, &r14);
    }
}

static bool gen_bit_string64(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    if (in->adsize != 8 || !gen64_operand_addr(g, si)) {
        return false;
    }
    int off = in->opnd[1].reg;
    HostRM src = g64_pinned(off) ? hrm_reg(hreg(off)) : hrm_mem(H_R15, g64_reg_off(off));
    if (in->opsize == 2) {
        emit_rm(e, EMIT_W, OPC_0F | 0xbf, H_R9, &src); /* movsx r9, offset16 */
    } else if (in->opsize == 4) {
        emit_rm(e, EMIT_W, 0x63, H_R9, &src); /* movsxd r9, offset32 */
    } else {
        emit_rm(e, EMIT_W, OPC_MOV_GvEv, H_R9, &src); /* mov r9, offset64 */
    }
    int shift = in->opsize == 2 ? 1 : in->opsize == 4 ? 2 : 3; /* log2(s) */
    HostRM r9 = hrm_reg(H_R9), moved = hrm_sib(H_R14, H_R9, shift, 0);
    emit_rm(e, EMIT_W, OPC_GRP2_EvIb, EXT_SAR, &r9);
    emit_u8(e, (uint8_t)(shift + 3)); /* sar r9, log2(8s) */
    emit_lea64(e, H_R14, &moved);
    bool write = in->op != OP_BT;
    MemOp m;
    gen_memop_init(g, &m, si, emit_bit_string64);
    m.size = in->opsize;
    m.access = write ? ACC_WRITE : ACC_READ;
    m.rmw = write;
    m.flag_use = FU_MODIFY;
    m.prep = bt_helper_bitstr64_prep;
    m.commit = bt_helper_bitstr64_commit;
    gen_mem_access(g, &m);
    if (!g64_pinned(off)) {
        gen_page_forget(g); /* r10 held the offset */
    }
    return true;
}

/*
 * MOV AL/AX/EAX/RAX, moffs and back (A0-A3): the 64-bit absolute address
 * in the instruction (32-bit with 67h), plus an FS or GS base:
 *     mov r14, moffs ; [add r14, [r15+seg.base]] ; <TLB check> ; mov rax, [r14] | mov [r14], rax
 */
static void emit_moffs(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    unsigned flags = m->size == 2 ? EMIT_66 : m->size == 8 ? EMIT_W : 0;
    unsigned op;
    if (m->access == ACC_WRITE) {
        op = m->size == 1 ? OPC_MOV_EbGb : OPC_MOV_EvGv;
    } else {
        op = m->size == 1 ? OPC_MOV_GbEb : OPC_MOV_GvEv;
    }
    emit_rm(&g->e, flags, op, H_RAX, &r14);
}

static bool gen_moffs64(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    bool store = in->opcode >= 0xa2;
    uint64_t ea = in->adsize == 8 ? (uint64_t)in->hi << 32 | (uint32_t)in->disp : (uint32_t)in->disp;
    if (in->adsize == 2) {
        return false;
    }
    MemOp m;
    gen_memop_init(g, &m, si, emit_moffs);
    m.size = in->opnd[store ? 1 : 0].size;
    m.access = store ? ACC_WRITE : ACC_READ;
    m.flag_use = FU_NONE;
    gen_park(g);
    emit_mov_r64_imm(&g->e, H_R14, ea);
    if (in->seg == SEG_FS || in->seg == SEG_GS) {
        HostRM base = hrm_mem(H_R15, CPU_OFF(seg[in->seg].base));
        emit_rm(&g->e, EMIT_W, OPC_ADD_EvGv + 2, H_R14, &base); /* add r14, [r15+seg.base] */
    }
    gen_mem_access(g, &m);
    return true;
}

static bool is_bit_string(const Insn *in)
{
    return (in->op == OP_BT || in->op == OP_BTS || in->op == OP_BTR || in->op == OP_BTC) &&
           in->opmap == 1 && in->mod != 3 && in->opnd[1].kind == OPK_REG;
}

bool gen64_data_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    bool mem = insn_has_modrm_mem(in);
    if (gen_hint_insn(g, si)) {
        return true; /* gen_ops.c */
    }
    if (in->op == OP_NOP && !in->rep) {
        return true; /* at any operand size: 66 0F 1F /0 touches not its operand */
    }
    bool bit_scan = in->op == OP_BSF || in->op == OP_BSR; /* F3 or F2 changes nothing */
    if ((in->rep && !bit_scan) || in->opmap > 1 || in->op == OP_NOP || in->op == OP_LEA ||
        (mem && !g->bt->mem64_native)) {
        return false; /* (a LOCK where it is invalid the decoder made #UD) */
    }
    GenMark mark = gen_mark(g);
    bool done;
    if (is_bit_string(in)) {
        done = gen_bit_string64(g, si);
    } else if (in->op == OP_MOV && in->opmap == 0 && in->opcode >= 0xa0 && in->opcode <= 0xa3) {
        done = gen_moffs64(g, si);
    } else if (in->op == OP_DIV || in->op == OP_IDIV) {
        done = gen_divide(g, si);
    } else if (in->has_modrm) {
        done = gen_native_modrm(g, si);
    } else {
        done = gen_opcode_verbatim(g, si) || gen64_opcode_reg(g, si);
    }
    if (!done) {
        gen_rewind(g, &mark);
    }
    return done;
}
