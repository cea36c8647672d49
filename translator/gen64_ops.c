/*
 * The integer instructions of 64-bit blocks: the ModRM forms re-encoded as
 * themselves and the divides (gen_native.c, shared with 32-bit blocks),
 * the verbatim forms on AL/eAX (gen_ops.c), and here the forms with a
 * register in the opcode, which REX.B extends to R8-R15: XCHG rAX, r
 * (90+r), BSWAP r (0F C8+r), MOV r8, imm8 (B0+r) with REX and MOV r16,
 * imm16 (66 B8+r).
 * A register in CPUState goes through R9, loaded and stored whole, so a
 * 32-bit result is zero-extended there as the host extended it in R9.
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
    if (in->rep || in->opmap > 1 || in->op == OP_NOP || in->op == OP_LEA ||
        (mem && !g->bt->mem64_native)) {
        return false; /* (a LOCK where it is invalid the decoder made #UD) */
    }
    GenMark mark = gen_mark(g);
    bool done;
    if (in->op == OP_DIV || in->op == OP_IDIV) {
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
