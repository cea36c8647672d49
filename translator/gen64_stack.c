/*
 * The stack forms of 64-bit blocks beyond PUSH/POP r64 (gen64.c): PUSH
 * imm, PUSH r/m, POP r/m, PUSHFQ and LEAVE, each in the interpreter's order of
 * accesses and register updates (cpu/ops_data.c), so a fault leaves RSP
 * and RBP as they were.  PUSH and POP take 64-bit operands or, with 66h,
 * 16-bit ones (RSP moves by 2; a 16-bit POP keeps bits 63:16 of its
 * register, SDM Vol.1 3.4.1.1).
 *
 *   PUSH imm:  lea r14, [r12-s] ; <TLB check> ; mov [r14], simm32|imm16 ; lea r12, [r12-s]
 *   PUSH r:    lea r14, [r12-s] ; <TLB check> ; mov [r14], r ; lea r12, [r12-s]
 *   POP r:     lea r14, [r12]   ; <TLB check> ; mov r, [r14] ; lea r12, [r12+s]
 *   PUSH m:    lea r14, [ea] ; <TLB check> ; mov r9, [r14] ; mov [r15+bt_target], r9
 *              lea r14, [r12-s] ; <TLB check> ; mov r9, [r15+bt_target] ; mov [r14], r9
 *              lea r12, [r12-s]
 *   POP m:     lea r14, [r12] ; <TLB check> ; mov r9, [r14] ; mov [r15+bt_target], r9
 *              lea r14, [ea] ; [lea r14, [r14+s]] ; <TLB check>
 *              mov r9, [r15+bt_target] ; mov [r14], r9 ; lea r12, [r12+s]
 *   LEAVE:     lea r14, [rbp] ; <TLB check> ; lea r12, [rbp+8] ; mov rbp, [r14]
 * (s the operand size, 8 or 2; a CPUState register goes through r9.)
 * POP m's destination address uses RSP after the pop (SDM Vol.2 POP):
 * with RSP as its base the code adds s, and the slow path's prep finds it
 * the same way (bt_helper_popm64_prep); the RSP update is the store's, so
 * a faulting destination leaves RSP as it was, and the commit finds the
 * address from the new RSP.  With 67h and RSP as the base (the address
 * would wrap after the addition) it is a callout.
 */
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

static void memop_stack64(MemOp *m, const ScanInsn *si, MemOpEmit emit, int access)
{
    *m = (MemOp){.si = si,
                 .size = si->insn.opsize,
                 .access = (uint8_t)access,
                 .flag_use = FU_NONE,
                 .next_eip = (uint32_t)(si->eip + si->insn.len),
                 .arg = -1,
                 .emit = emit,
                 .prep = access == ACC_WRITE ? bt_helper_push64_prep : bt_helper_pop64_prep,
                 .commit = bt_helper_push64_commit};
}

/* lea r14, [r12 + delta] with the flags parked, for a stack access */
static void gen_stack_lin(Gen *g, int32_t delta)
{
    gen_park(g);
    HostRM top = hrm_mem(H_R12, delta);
    emit_lea64(&g->e, H_R14, &top);
}

/* EMIT_W or EMIT_66: a stack operand's width */
static unsigned stack_width(const MemOp *m)
{
    return m->size == 8 ? EMIT_W : EMIT_66;
}

/* lea r12, [r12 + delta]: the RSP update */
static void emit_rsp_add(Gen *g, int delta)
{
    HostRM moved = hrm_mem(H_R12, delta);
    emit_lea64(&g->e, H_R12, &moved);
}

static void emit_push_imm(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, stack_width(m), OPC_MOV_EvIz, 0, &mem); /* mov qword [r14], simm32 */
    if (m->size == 8) {
        emit_u32(&g->e, m->imm);
    } else {
        emit_u16(&g->e, (uint16_t)m->imm); /* mov word [r14], imm16 */
    }
    emit_rsp_add(g, -m->size);
}

/* mov [r14], r (RSP: R12, its value before the push) ; lea r12, [r12-s] */
static void emit_push_reg(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, stack_width(m), OPC_MOV_EvGv, g64_reg_to_host(g, m->arg, H_R9), &mem);
    emit_rsp_add(g, -m->size);
}

/* mov r, [r14] ; lea r12, [r12+s].  POP RSP: RSP is incremented before
 * the value is written (SDM Vol.2 POP), so it ends the value popped, or
 * at 16 bits SP does. */
static void emit_pop_reg(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    unsigned w = stack_width(m);
    int r = m->arg;
    if (r == R_ESP) {
        if (m->size != 8) {
            emit_rsp_add(g, m->size);
        }
        emit_rm(&g->e, w, OPC_MOV_GvEv, H_R12, &mem);
        return;
    }
    emit_rm(&g->e, w, OPC_MOV_GvEv, g64_pinned(r) ? hreg(r) : H_R9, &mem);
    if (!g64_pinned(r)) {
        HostRM home = hrm_mem(H_R15, g64_reg_off(r));
        emit_rm(&g->e, w, OPC_MOV_EvGv, H_R9, &home); /* the low word only at 16 bits */
    }
    emit_rsp_add(g, m->size);
}

/* mov r9, [r14] ; mov [r15+bt_target], r9: PUSH m's operand, POP's value */
static void emit_stack_load(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, stack_width(m), OPC_MOV_GvEv, H_R9, &mem);
    emit_store64(&g->e, H_R15, CPU_OFF(bt_target), H_R9);
}

/* mov r9, [r15+bt_target] ; mov [r14], r9 ; lea r12, [r12 -+ s] */
static void emit_stack_stored(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_load64(&g->e, H_R9, H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, stack_width(m), OPC_MOV_EvGv, H_R9, &mem);
    emit_rsp_add(g, m->arg == 0 ? -m->size : m->size); /* arg: 0 PUSH, 1 POP */
}

/* The guest register of a register operand: 50+r, 58+r (REX.B) or FF /6, 8F /0. */
static int stack_reg(const Insn *in)
{
    return in->has_modrm ? g64_rm_reg(in) : (in->opcode & 7) | ((in->rex & INSN_REX_B) ? 8 : 0);
}

static bool gen_push_pop_reg(Gen *g, const ScanInsn *si, bool push)
{
    MemOp m;
    memop_stack64(&m, si, push ? emit_push_reg : emit_pop_reg, push ? ACC_WRITE : ACC_READ);
    m.arg = stack_reg(&si->insn);
    gen_stack_lin(g, push ? -(int32_t)m.size : 0);
    gen_mem_access(g, &m);
    return true;
}

/* The memory operand's address into r14 (an FS or GS base, RIP-relative
 * and 67h operands included); false if it needs a callout. */
static bool stack_operand_addr(Gen *g, const ScanInsn *si)
{
    return si->insn.adsize != 2 && gen64_operand_addr(g, si);
}

static bool gen_push(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    MemOp m;
    if (in->opnd[0].kind == OPK_IMM) {
        memop_stack64(&m, si, emit_push_imm, ACC_WRITE);
        m.imm = in->imm; /* sign-extended to 32 bits by the decoder, to 64 by the host */
        gen_stack_lin(g, -(int32_t)m.size);
        gen_mem_access(g, &m);
        return true;
    }
    if (in->opnd[0].kind == OPK_REG) {
        return gen_push_pop_reg(g, si, true);
    }
    if (in->opnd[0].kind != OPK_MEM || !stack_operand_addr(g, si)) {
        return false;
    }
    MemOp load;
    gen_memop_init(g, &load, si, emit_stack_load);
    load.size = in->opsize;
    load.access = ACC_READ;
    load.flag_use = FU_NONE;
    gen_mem_access(g, &load);
    memop_stack64(&m, si, emit_stack_stored, ACC_WRITE);
    m.arg = 0;
    gen_stack_lin(g, -(int32_t)m.size);
    gen_mem_access(g, &m);
    return true;
}

static bool gen_pop(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->opnd[0].kind == OPK_REG) {
        return gen_push_pop_reg(g, si, false);
    }
    bool rsp_based = in->base == R_ESP;
    if (in->opnd[0].kind != OPK_MEM || in->adsize == 2 || (rsp_based && in->adsize != 8)) {
        return false;
    }
    MemOp load;
    memop_stack64(&load, si, emit_stack_load, ACC_READ);
    gen_stack_lin(g, 0);
    gen_mem_access(g, &load);
    if (!gen64_operand_addr(g, si)) {
        g->failed = true; /* cannot happen: the address size was checked */
        return true;
    }
    if (rsp_based) {
        HostRM after = hrm_mem(H_R14, in->opsize);
        emit_lea64(&g->e, H_R14, &after); /* lea r14, [r14+s]: RSP after the pop */
    }
    MemOp m;
    gen_memop_init(g, &m, si, emit_stack_stored);
    m.size = in->opsize;
    m.access = ACC_WRITE;
    m.flag_use = FU_NONE;
    m.arg = 1;
    m.prep = bt_helper_popm64_prep;
    gen_mem_access(g, &m);
    return true;
}

/* PUSHFQ: gen_flow.c's EFLAGS image, zero-extended ; mov [r14], r10 ; lea r12, [r12-8] */
static void emit_pushfq(Gen *g, const MemOp *m)
{
    gen_pushf_image(g);
    HostRM mem = hrm_mem(H_R14, 0), down = hrm_mem(H_R12, -8);
    emit_rm(&g->e, EMIT_W, OPC_MOV_EvGv, H_R10, &mem);
    emit_lea64(&g->e, H_R12, &down);
    (void)m;
}

static bool gen_pushfq(Gen *g, const ScanInsn *si)
{
    MemOp m;
    memop_stack64(&m, si, emit_pushfq, ACC_WRITE);
    gen_stack_lin(g, -8);
    gen_mem_access(g, &m);
    return true;
}

/* lea r12, [rbp+8] ; mov rbp, [r14] */
static void emit_leave(Gen *g, const MemOp *m)
{
    HostRM up = hrm_mem(H_RBP, 8), mem = hrm_mem(H_R14, 0);
    emit_lea64(&g->e, H_R12, &up);
    emit_rm(&g->e, EMIT_W, OPC_MOV_GvEv, H_RBP, &mem);
    (void)m;
}

static bool gen_leave(Gen *g, const ScanInsn *si)
{
    MemOp m;
    memop_stack64(&m, si, emit_leave, ACC_READ);
    m.prep = bt_helper_leave64_prep;
    gen_park(g);
    HostRM bp = hrm_mem(H_RBP, 0);
    emit_lea64(&g->e, H_R14, &bp);
    gen_mem_access(g, &m);
    return true;
}

bool gen64_stack_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if ((in->opsize != 8 && in->opsize != 2) || in->lock || in->rep || in->opmap != 0) {
        return false;
    }
    switch (in->op) {
    case OP_PUSH: return gen_push(g, si);
    case OP_POP: return gen_pop(g, si);
    case OP_PUSHF: return in->opsize == 8 && gen_pushfq(g, si);
    case OP_LEAVE: return in->opsize == 8 && gen_leave(g, si);
    default: return false;
    }
}
