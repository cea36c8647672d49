/*
 * Memory forms that need more than a re-encoded ModRM (gen_ops.c): the bit
 * strings of BT, BTS, BTR and BTC with a register bit offset, and
 * CMPXCHG8B m64.
 *
 * Bit strings (SDM Vol.2 BT, "bit-base addressing"; Vol.1 3.3.1).  With a
 * memory base and a register offset the offset is signed and may reach
 * outside the operand: the dword at EA + 4 * (offset SAR 5) (the word at
 * EA + 2 * (offset SAR 4) under 66h) holds bit offset mod 32 (16), and the
 * address wraps to the address size.  The host's own memory form would
 * apply the same rule to the host address, so the translator does the
 * addressing itself and the operation on a register copy, whose register
 * form takes the offset modulo the width:
 *     mov r9d, offset ; sar r9d, 5                 ; (movsx r9d, offset16 ; sar r9d, 4)
 *     lea r14d, [ea] ; lea r14d, [r14 + r9*4]      ; (r9*2), then the wrap and the base
 *     <TLB check of the dword at r14>
 *     mov r9d, [r14] ; bt r9d, offset ; [mov [r14], r9d]
 * The access is the interpreter's: one read of the operand, or one
 * read-modify-write checked for write first (cpu/ops_bit.c).  BT defines
 * CF, keeps ZF and leaves OF, SF, AF and PF undefined, as the host's
 * register form does.
 *
 * CMPXCHG8B m64 is the host's own (0F C7 /1 on [r14]): without REX.W it
 * compares EDX:EAX and stores ECX:EBX, and writes the old value back when
 * they differ, as the interpreter does (cpu/ops_alu.c).  It changes only
 * ZF.  The access is an 8-byte read-modify-write, so a page-crossing or
 * faulting operand runs the same instruction on the bounce buffer after
 * the whole quadword was probed for write.
 */
#include "translator/gen.h"

static void memop_for(MemOp *m, const ScanInsn *si, MemOpEmit emit, int size, bool write)
{
    *m = (MemOp){.emit = emit,
                 .si = si,
                 .next_eip = si->eip + si->insn.len,
                 .size = (uint8_t)size,
                 .access = write ? ACC_WRITE : ACC_READ,
                 .rmw = write,
                 .flag_use = FU_MODIFY};
}

/* mov r9d, [r14] ; bt* r9d, offset ; [mov [r14], r9d] (66h for words) */
static void emit_bit_string(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    Emit *e = &g->e;
    unsigned flags = in->opsize == 2 ? EMIT_66 : 0;
    HostRM r14 = hrm_mem(H_R14, 0), r9 = hrm_reg(H_R9);
    emit_rm(e, flags, OPC_MOV_GvEv, H_R9, &r14);
    emit_rm(e, flags, OPC_0F | in->opcode, hreg(in->reg), &r9);
    if (m->access == ACC_WRITE) {
        emit_rm(e, flags, OPC_MOV_EvGv, H_R9, &r14);
    }
}

static bool gen_bit_string(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    Emit *e = &g->e;
    bool word = in->opsize == 2;
    gen_clobber(g); /* the SAR below */
    if (word) {
        HostRM off = hrm_reg(hreg(in->reg));
        emit_rm(e, 0, OPC_0F | 0xbf, H_R9, &off); /* movsx r9d, offset16 */
    } else {
        emit_mov_rr32(e, H_R9, hreg(in->reg));
    }
    emit_shift32_imm(e, EXT_SAR, H_R9, word ? 4 : 5);
    if (!gen_operand_linear_plus(g, in, H_R9, word ? 1 : 2)) {
        return false;
    }
    MemOp m;
    memop_for(&m, si, emit_bit_string, in->opsize, in->op != OP_BT);
    gen_mem_access(g, &m);
    return true;
}

/* cmpxchg8b [r14] */
static void emit_cmpxchg8b(Gen *g, const MemOp *m)
{
    (void)m;
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_0F | 0xc7, 1, &r14);
}

static bool gen_cmpxchg8b(Gen *g, const ScanInsn *si)
{
    gen_clobber(g);
    if (!gen_operand_linear(g, &si->insn)) {
        return false;
    }
    MemOp m;
    memop_for(&m, si, emit_cmpxchg8b, 8, true);
    m.prep = bt_helper_qword_prep;
    m.commit = bt_helper_qword_commit;
    gen_mem_access(g, &m);
    return true;
}

bool gen_memform_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->mod == 3 || !in->has_modrm) {
        return false;
    }
    switch (in->op) {
    case OP_BT:
    case OP_BTS:
    case OP_BTR:
    case OP_BTC:
        if (in->opmap != 1 || in->opnd[1].kind != OPK_REG || in->opsize == 8) {
            return false;
        }
        return gen_bit_string(g, si);
    case OP_CMPXCHG8B: return (in->rex & INSN_REX_W) == 0 && gen_cmpxchg8b(g, si);
    default: return false;
    }
}
