/*
 * 64-bit blocks (KEY_CODE64): guest code in 64-bit mode as host code.
 *
 * Registers.  The guest has sixteen and so has the host, which needs six
 * for itself (R8 the budget, R13 the parked flags, R15 CPUState, R9-R11
 * and R14 scratch).  The scheme is the 32-bit one widened: RAX..RDI live
 * in the host registers of the same name and RSP in R12, all at 64 bits
 * (the 64-bit entry, epilogue and thunk of stubs.c move them whole); R8-R15
 * stay in CPUState.regs.  The integer instructions are gen_native.c's,
 * shared with 32-bit blocks (the guest opcode re-encoded, a CPUState
 * register staged through R9 or R14 and stored back whole, so a 32-bit
 * result is zero-extended as the host extended it, SDM Vol.1 3.4.1.1),
 * dispatched from gen64_native through gen64_ops.c.
 *
 * Here: MOV of immediates to registers (imm64 included), PUSH and POP of
 * registers, LEA with 64-bit addressing (RIP-relative operands are
 * constants: the next instruction's RIP is known here), NOP, and JMP/Jcc
 * rel, and the memory operand's address (FS and GS bases included).
 * Everything else is a callout to the interpreter with CPUState exact
 * (helpers.c), as in 32-bit blocks.
 *
 * Exits, CALL, RET and indirect transfers: gen64_flow.c (chained across
 * pages, the jump cache and return prediction with 64-bit tags).
 * x87, MMX and SSE instructions are gen_fpu.c's and gen_sse.c's, whose
 * state (XMM0-15 here) stays live across chained 64-bit blocks.
 */
#include "softmmu/mmu.h"
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

/* value into guest register r at operand size 8 (a 32-bit immediate is
 * given zero-extended); no flags. */
void gen64_set_reg_imm(Gen *g, int r, uint64_t value)
{
    Emit *e = &g->e;
    if (g64_pinned(r)) {
        emit_mov_r64_imm(e, hreg(r), value);
    } else if ((uint64_t)(int64_t)(int32_t)value == value) {
        HostRM m = g64_reg_loc(r);
        emit_rm(e, EMIT_W, OPC_MOV_EvIz, 0, &m); /* mov qword [..], simm32 */
        emit_u32(e, (uint32_t)value);
    } else {
        emit_mov_r64_imm(e, H_R9, value); /* mov r9, imm ; mov [..], r9 */
        emit_store64(e, H_R15, g64_reg_off(r), H_R9);
    }
}

/* LEA Gv, M with 64-bit addressing: the host's LEA on the guest's registers. */
static bool gen_lea(Gen *g, const ScanInsn *si, unsigned w)
{
    const Insn *in = &si->insn;
    if (in->adsize != 8 || in->mod == 3) {
        return false;
    }
    int dst = g64_reg_reg(in);
    if (in->base == INSN_BASE_RIP) {
        uint64_t ea = si->eip + in->len + (uint64_t)(int64_t)in->disp;
        gen64_set_reg_imm(g, dst, w ? ea : (uint32_t)ea);
        return true;
    }
    /* r9 and r14 only: r10 and r11 hold gen_mem.c's last page. */
    int base = in->base == REG_NONE ? H_NONE : g64_reg_to_host(g, in->base, H_R9);
    int index = in->index == REG_NONE ? H_NONE : g64_reg_to_host(g, in->index, H_R14);
    HostRM m = hrm_sib(base, index, in->scale, in->disp);
    int out = g64_pinned(dst) ? hreg(dst) : H_R14;
    if (w) {
        emit_lea64(&g->e, out, &m);
    } else {
        emit_lea32(&g->e, out, &m); /* the low 32 bits of the 64-bit address, zero-extended */
    }
    if (!g64_pinned(dst)) {
        emit_store64(&g->e, H_R15, g64_reg_off(dst), H_R14);
    }
    return true;
}

/* An exit to target: chained when it is on the block's own page. */
void gen64_exit(Gen *g, uint64_t target)
{
    gen64_exit_chain(g, target, false); /* gen64_flow.c */
}

/* JMP rel8/rel32, Jcc rel8/rel32 (operand size 64: f64).  A non-canonical
 * target faults on the branch itself: that is the interpreter's.  A Jcc
 * that is not the block's last is a superblock's (scan.c). */
static bool gen_branch(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if ((in->op != OP_JMP && in->op != OP_JCC) || in->opsize != 8 || in->opnd[0].kind != OPK_REL) {
        return false;
    }
    uint64_t next = si->eip + in->len;
    uint64_t target = next + (uint64_t)(int64_t)(int32_t)in->imm;
    if (!mmu_canonical(target)) {
        return false;
    }
    if (in->op == OP_JMP) {
        gen64_exit(g, target);
        return true;
    }
    if (si + 1 < g->scan->in + g->scan->n) {
        gen_jcc_on(g, si, target); /* a superblock's Jcc (scan.c): the block goes on */
        return true;
    }
    /* Both copies of the flags valid, so neither exit changes the state the other sees. */
    gen_unpark(g);
    gen_park(g);
    uint8_t *not_taken = emit_jcc32(&g->e, in->cond ^ 1, NULL);
    gen64_exit(g, target);
    emit_bind32(&g->e, not_taken);
    gen64_exit(g, next);
    return true;
}

/*
 * Memory operands.  The linear address goes to r14 (CS's, DS's, ES's and
 * SS's bases are 0 in 64-bit mode, SDM Vol.3 3.2.4):
 *     lea r14, [base + index*scale + disp]     (a CPUState base is loaded into
 *                                               r14 and a CPUState index into r9 first)
 *     mov r14, imm64                           (RIP-relative: a constant)
 *     add r14, [r15 + seg[FS or GS].base]      (an FS or GS override)
 * (with 67h, 32-bit addressing, `lea r14d`: the effective address wraps to
 * 32 bits before an FS or GS base is added, SDM Vol.1 3.3.7)
 * then gen_mem_access's inline TLB check at 64 bits and the operation on
 * [r14]; its slow path runs the operation on the bounce buffer around
 * bt_helper_mem64_prep/commit (helpers64.c).  A register operand in
 * CPUState goes through r9, which is free once the check is done.
 */
/* add r14, [r15 + seg[s].base] for an FS or GS operand (the others' bases are 0). */
static void add_seg_base64(Gen *g, int seg)
{
    if (seg == SEG_FS || seg == SEG_GS) {
        HostRM base = hrm_mem(H_R15, CPU_OFF(seg[seg].base));
        emit_rm(&g->e, EMIT_W, OPC_ADD_EvGv + 2, H_R14, &base);
    }
}

bool gen64_operand_linear(Gen *g, const Insn *in)
{
    if (in->adsize == 2 || in->base == INSN_BASE_RIP) {
        return false;
    }
    Emit *e = &g->e;
    gen_park(g); /* the TLB check clobbers the host flags */
    int base = H_NONE, index = H_NONE;
    if (in->base != REG_NONE) {
        base = g64_reg_to_host(g, in->base, H_R14);
    }
    if (in->index != REG_NONE) {
        index = g64_reg_to_host(g, in->index, H_R9);
    }
    HostRM m = hrm_sib(base, index, in->scale, in->disp);
    if (in->adsize == 8) {
        emit_lea64(e, H_R14, &m);
    } else {
        emit_lea32(e, H_R14, &m); /* 67h: the effective address wraps at 4 GiB */
    }
    add_seg_base64(g, in->seg);
    g->lin_known = false;
    if (base == H_NONE && index == H_NONE && in->seg != SEG_FS && in->seg != SEG_GS) {
        /* [abs disp32], sign-extended (67h: zero-extended) */
        gen_lin_const(g, in->adsize == 8 ? (uint64_t)(int64_t)in->disp : (uint32_t)in->disp);
    }
    return true;
}

bool gen64_operand_addr(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->base != INSN_BASE_RIP) {
        return gen64_operand_linear(g, in);
    }
    if (in->adsize == 2) {
        return false;
    }
    uint64_t ea = si->eip + in->len + (uint64_t)(int64_t)in->disp;
    gen_park(g);
    uint64_t lin = in->adsize == 8 ? ea : (uint32_t)ea; /* 67h: EIP-relative */
    emit_mov_r64_imm(&g->e, H_R14, lin);
    add_seg_base64(g, in->seg);
    g->lin_known = false;
    if (in->seg != SEG_FS && in->seg != SEG_GS) {
        gen_lin_const(g, lin); /* a global's address: its TLB slot is known */
    }
    return true;
}

/* The register operand b of a memory form in a host register: its own, or r9. */
static int mem_reg_in(Gen *g, int b)
{
    return g64_reg_to_host(g, b, H_R9);
}

/*
 * PUSH r64 and POP r64 (50+r, 58+r; 66h's 16-bit forms: gen64_stack.c):
 *     lea r14, [r12-8] ; <TLB check> ; mov [r14], src ; lea r12, [r12-8]
 *     lea r14, [r12]   ; <TLB check> ; mov dst, [r14] ; lea r12, [r12+8]
 * The RSP update is part of the operation, so the slow path's commit
 * (bt_helper_push64_commit) finds the new RSP.  PUSH RSP stores the old
 * value; POP RSP leaves RSP the value popped (SDM Vol.2 POP).
 */
static void emit_push(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0), down = hrm_mem(H_R12, -8);
    emit_rm(&g->e, EMIT_W, OPC_MOV_EvGv, mem_reg_in(g, m->arg), &mem);
    emit_lea64(&g->e, H_R12, &down);
}

static void emit_pop(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0), up = hrm_mem(H_R12, 8);
    int r = m->arg;
    if (r == R_ESP) {
        emit_rm(&g->e, EMIT_W, OPC_MOV_GvEv, H_R12, &mem);
        return;
    }
    emit_rm(&g->e, EMIT_W, OPC_MOV_GvEv, g64_pinned(r) ? hreg(r) : H_R9, &mem);
    if (!g64_pinned(r)) {
        emit_store64(&g->e, H_R15, g64_reg_off(r), H_R9);
    }
    emit_lea64(&g->e, H_R12, &up);
}

static bool gen_push_pop(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    bool push = in->opcode >= 0x50 && in->opcode <= 0x57;
    if (in->opmap != 0 || in->opsize != 8 || (!push && (in->opcode < 0x58 || in->opcode > 0x5f))) {
        return false;
    }
    MemOp m = {.si = si,
               .size = 8,
               .access = push ? ACC_WRITE : ACC_READ,
               .flag_use = FU_NONE,
               .next_eip = (uint32_t)(si->eip + in->len),
               .arg = (in->opcode & 7) | ((in->rex & INSN_REX_B) ? 8 : 0),
               .emit = push ? emit_push : emit_pop,
               .prep = push ? bt_helper_push64_prep : bt_helper_pop64_prep,
               .commit = bt_helper_push64_commit};
    gen_park(g);
    HostRM top = hrm_mem(H_R12, push ? -8 : 0);
    emit_lea64(&g->e, H_R14, &top);
    gen_mem_access(g, &m);
    return true;
}

/* Emit si natively; false (nothing emitted) when it is a callout. */
static bool gen64_native(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if ((in->op == OP_MOVS || in->op == OP_STOS) && in->rep != REP_NONE) {
        gen_rep_string(g, si); /* gen_string.c: inline or a page at a time */
        return true;
    }
    if (gen64_data_insn(g, si)) {
        return true; /* the integer forms (gen64_ops.c) */
    }
    if (gen_fpu_insn(g, si) || gen_sse_insn(g, si) || gen64_sys_insn(g, si)) {
        return true;
    }
    if (g->bt->mem64_native && !in->lock && !in->rep &&
        (gen_push_pop(g, si) || gen64_stack_insn(g, si))) {
        return true; /* gen64_stack_insn takes 66h's 16-bit forms too */
    }
    if (in->lock || in->rep || in->opmap > 1 || (in->opsize != 4 && in->opsize != 8)) {
        return false;
    }
    unsigned w = in->opsize == 8 ? EMIT_W : 0;
    if (in->op == OP_NOP) {
        return true;
    }
    if (in->op == OP_LEA) {
        return gen_lea(g, si, w);
    }
    if (in->opmap != 0) {
        return false;
    }
    if (in->opcode >= 0xb8 && in->opcode <= 0xbf) { /* MOV Zv, Iv */
        int r = (in->opcode & 7) | ((in->rex & INSN_REX_B) ? 8 : 0);
        gen64_set_reg_imm(g, r, w ? insn_imm64(in) : in->imm);
        return true;
    }
    return false;
}

void gen64_body(Gen *g)
{
    const BlockScan *scan = g->scan;
    g->fpu = GEN_FPU_UNKNOWN; /* live across chained blocks (gen_fpu.c, gen_sse.c) */
    g->sse = GEN_SSE_UNKNOWN;
    bool callout = false;
    for (int i = 0; i < scan->n && !g->failed; i++) {
        const ScanInsn *si = &scan->in[i];
        g->cur = i;
        g->lin_known = false;
        if (gen64_sti_insn(g, si, &callout)) {
            continue; /* STI and its shadow (gen_ops.c) */
        }
        if (gen_branch(g, si) || gen64_flow_end(g, si) || gen64_sys_end(g, si)) {
            if (i + 1 < scan->n) {
                callout = false;
                continue; /* a superblock's Jcc (gen_jcc_on) */
            }
            return; /* the block's last: it emitted the exits */
        }
        callout = !gen64_native(g, si);
        if (callout) {
            gen_callout(g, si);
        }
    }
    const Insn *last = &scan->in[scan->n - 1].insn;
    if (callout && (last->flags & (INSN_F_BRANCH | INSN_F_ENDBLOCK)) && last->op != OP_STI) {
        /* The callout went on (helpers.c): a branch not taken, or a mode
         * change or door after which the mode allows going on; a door set
         * CPUState's RIP itself. */
        if (last->op == OP_SYSENTER || last->op == OP_SYSEXIT || last->op == OP_INT ||
            last->op == OP_IRET) {
            gen64_exit_far(g); /* gen64_flow.c: under the key and view the door left */
        } else if (last->flags & INSN_F_ENDBLOCK) {
            gen64_exit_after_mode_change(g, scan->next_eip);
        } else {
            gen_exit_nochain(g, scan->next_eip);
        }
        return;
    }
    gen64_exit(g, scan->next_eip);
}
