/*
 * The stack forms of 64-bit blocks beyond PUSH/POP r64 (gen64.c): PUSH
 * imm, PUSH m64, PUSHFQ and LEAVE, each in the interpreter's order of accesses
 * and register updates (cpu/ops_data.c), so a fault leaves RSP and RBP as
 * they were.  The 16-bit (66h) forms and POP m64 (whose address uses the
 * RSP after the pop, which the slow path's helpers, taking the address
 * from the registers, would have to see before the store commits) stay
 * callouts.
 *
 *   PUSH imm:  lea r14, [r12-8] ; <TLB check> ; mov qword [r14], simm32 ; lea r12, [r12-8]
 *   PUSH m64:  lea r14, [ea] ; <TLB check> ; mov r9, [r14] ; mov [r15+bt_target], r9
 *              lea r14, [r12-8] ; <TLB check> ; mov r9, [r15+bt_target] ; mov [r14], r9
 *              lea r12, [r12-8]
 *   LEAVE:     lea r14, [rbp] ; <TLB check> ; lea r12, [rbp+8] ; mov rbp, [r14]
 */
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

static void memop_stack64(MemOp *m, const ScanInsn *si, MemOpEmit emit, int access)
{
    *m = (MemOp){.si = si,
                 .size = 8,
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

static void emit_push_imm(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0), down = hrm_mem(H_R12, -8);
    emit_rm(&g->e, EMIT_W, OPC_MOV_EvIz, 0, &mem); /* mov qword [r14], simm32 */
    emit_u32(&g->e, m->imm);
    emit_lea64(&g->e, H_R12, &down);
}

/* mov r9, [r14] ; mov [r15+bt_target], r9: PUSH m64's operand */
static void emit_push_load(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, EMIT_W, OPC_MOV_GvEv, H_R9, &mem);
    emit_store64(&g->e, H_R15, CPU_OFF(bt_target), H_R9);
    (void)m;
}

/* mov r9, [r15+bt_target] ; mov [r14], r9 ; lea r12, [r12-8] */
static void emit_push_stored(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0), down = hrm_mem(H_R12, -8);
    emit_load64(&g->e, H_R9, H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, EMIT_W, OPC_MOV_EvGv, H_R9, &mem);
    emit_lea64(&g->e, H_R12, &down);
    (void)m;
}

static bool gen_push(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    MemOp m;
    if (in->opnd[0].kind == OPK_IMM) {
        memop_stack64(&m, si, emit_push_imm, ACC_WRITE);
        m.imm = in->imm; /* sign-extended to 32 bits by the decoder, to 64 by the host */
        gen_stack_lin(g, -8);
        gen_mem_access(g, &m);
        return true;
    }
    if (in->opnd[0].kind != OPK_MEM || in->base == INSN_BASE_RIP) {
        return false; /* registers: gen64.c; RIP-relative: below */
    }
    if (!gen64_operand_linear(g, in)) {
        return false;
    }
    MemOp load = {.si = si,
                  .size = 8,
                  .access = ACC_READ,
                  .flag_use = FU_NONE,
                  .next_eip = (uint32_t)(si->eip + in->len),
                  .arg = -1,
                  .emit = emit_push_load,
                  .prep = bt_helper_mem64_prep};
    gen_mem_access(g, &load);
    memop_stack64(&m, si, emit_push_stored, ACC_WRITE);
    gen_stack_lin(g, -8);
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
    if (in->opsize != 8 || in->lock || in->rep) {
        return false;
    }
    switch (in->op) {
    case OP_PUSH: return gen_push(g, si);
    case OP_PUSHF: return gen_pushfq(g, si);
    case OP_LEAVE: return gen_leave(g, si);
    default: return false;
    }
}
