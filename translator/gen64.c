/*
 * 64-bit blocks (KEY_CODE64): guest code in 64-bit mode as host code.
 *
 * Registers.  The guest has sixteen and so has the host, which needs six
 * for itself (R8 the budget, R13 the parked flags, R15 CPUState, R9-R11
 * and R14 scratch).  The scheme is the 32-bit one widened: RAX..RDI live
 * in the host registers of the same name and RSP in R12, all at 64 bits
 * (the 64-bit entry, epilogue and thunk of stubs.c move them whole); R8-R15
 * stay in CPUState.regs and are addressed as memory operands
 * [r15 + regs + 8*n], which most instructions take in their r/m field.  So
 * an instruction on two pinned registers is copied with its own REX.W, one
 * with one register in CPUState is the same opcode with a memory r/m (or
 * its direction twin, 01 <-> 03, when the CPUState register is in the reg
 * field), and one with two goes through R9.  A 32-bit result in a pinned
 * register is zero-extended by the host as by the guest (SDM Vol.1
 * 3.4.1.1); one written to CPUState is a dword store, followed by a dword
 * store of zero to the high half.
 *
 * Native forms: ALU (ADD OR ADC SBB AND SUB XOR CMP TEST) between
 * registers, with immediates and with memory, MOV between registers, of
 * immediates (imm64 included), to and from memory, INC DEC NOT NEG on
 * registers, PUSH and POP of registers, LEA with 64-bit addressing
 * (RIP-relative operands are constants: the next instruction's RIP is
 * known here), NOP, and JMP/Jcc rel, at operand size 4 or 8.  Everything else is a callout to the
 * interpreter with CPUState exact (helpers.c), as in 32-bit blocks.
 *
 * Exits.  A branch to the block's own page chains (the block running
 * proves the page is mapped the same); any other leaves to the run loop,
 * which looks the target up in C.  64-bit blocks are not in the jump
 * cache, whose tags hold 32-bit EIPs, and return prediction is not used.
 * x87, MMX and SSE instructions are gen_fpu.c's and gen_sse.c's, whose
 * state (XMM0-15 here) stays live across chained 64-bit blocks.
 */
#include "softmmu/mmu.h"
#include "translator/gen64.h"

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

/*
 * opcode with guest register a in r/m and b in the reg field; writes:
 * 0 neither (CMP, TEST), 1 a, 2 b.  twin: the same operation with the
 * fields swapped (01 <-> 03 for the ALU and MOV; TEST is its own).
 */
static void emit_rr(Gen *g, unsigned opcode, unsigned twin, unsigned w, int a, int b, int writes)
{
    Emit *e = &g->e;
    if (!g64_pinned(a) && !g64_pinned(b)) {
        emit_load64(e, H_R9, H_R15, g64_reg_off(b)); /* mov r9, [b] ; op [a], r9 */
        HostRM m = g64_reg_loc(a);
        emit_rm(e, w, opcode, H_R9, &m);
        if (writes == 2) {
            emit_store64(e, H_R15, g64_reg_off(b), H_R9); /* a 32-bit op zero-extended r9 */
        } else if (writes == 1 && !w) {
            g64_zero_high(g, a);
        }
        return;
    }
    if (!g64_pinned(b)) {
        int t = a;
        a = b;
        b = t;
        opcode = twin;
        writes = writes ? 3 - writes : 0;
    }
    HostRM m = g64_reg_loc(a);
    emit_rm(e, w, opcode, hreg(b), &m);
    if (writes == 1 && !w && !g64_pinned(a)) {
        g64_zero_high(g, a);
    }
}

/* How an ALU operation (ModRM reg field of 80-83, bits 5:3 of 00-3F) uses the flags. */
static int alu_flag_use(int ext)
{
    return ext == EXT_ADC || ext == EXT_SBB ? FU_MODIFY : FU_WRITE;
}

/* 00-3B: op Ev,Gv (01, 09, ...) and op Gv,Ev (03, 0B, ...); 85 TEST; 89/8B MOV. */
static bool gen_alu_rr(Gen *g, const Insn *in, unsigned w)
{
    unsigned op = in->opcode;
    int a = g64_rm_reg(in), b = g64_reg_reg(in);
    if (op < 0x40 && (op & 7) <= 3 && (op & 1)) {
        int ext = (int)(op >> 3);
        int writes = ext == EXT_CMP ? 0 : (op & 2) ? 2 : 1;
        int fu = alu_flag_use(ext);
        gen_flags_before(g, fu);
        emit_rr(g, op, op ^ 2, w, a, b, writes);
        gen_flags_after(g, fu);
        return true;
    }
    if (op == OPC_TEST_EvGv) {
        gen_flags_before(g, FU_WRITE);
        emit_rr(g, op, op, w, a, b, 0);
        gen_flags_after(g, FU_WRITE);
        return true;
    }
    if (op == OPC_MOV_EvGv || op == OPC_MOV_GvEv) {
        emit_rr(g, op, op ^ 2, w, a, b, op == OPC_MOV_EvGv ? 1 : 2);
        return true;
    }
    return false;
}

/* 81 /n Ev,Iz, 83 /n Ev,Ib, F7 /0 TEST Ev,Iz, C7 /0 MOV Ev,Iz on a register. */
static bool gen_alu_ri(Gen *g, const Insn *in, unsigned w)
{
    Emit *e = &g->e;
    int a = g64_rm_reg(in), ext = in->reg;
    unsigned op = in->opcode;
    if (op == OPC_MOV_EvIz && ext == 0) {
        uint64_t v = w ? (uint64_t)(int64_t)(int32_t)in->imm : in->imm;
        gen64_set_reg_imm(g, a, v);
        return true;
    }
    bool test = op == OPC_GRP3_Ev && ext == 0;
    if (op != OPC_GRP1_EvIz && op != OPC_GRP1_EvIb && !test) {
        return false;
    }
    int fu = test ? FU_WRITE : alu_flag_use(ext);
    gen_flags_before(g, fu);
    HostRM m = g64_reg_loc(a);
    emit_rm(e, w, op, ext, &m);
    if (op == OPC_GRP1_EvIb) {
        emit_u8(e, (uint8_t)in->imm);
    } else {
        emit_u32(e, in->imm);
    }
    gen_flags_after(g, fu);
    if (!w && !test && ext != EXT_CMP && !g64_pinned(a)) {
        g64_zero_high(g, a);
    }
    return true;
}

/* FF /0 INC, FF /1 DEC, F7 /2 NOT, F7 /3 NEG on a register. */
static bool gen_unary(Gen *g, const Insn *in, unsigned w)
{
    int a = g64_rm_reg(in), ext = in->reg, fu;
    if (in->opcode == OPC_GRP5_Ev && ext <= 1) {
        fu = FU_MODIFY; /* CF survives */
    } else if (in->opcode == OPC_GRP3_Ev && (ext == EXT_NOT || ext == EXT_NEG)) {
        fu = ext == EXT_NOT ? FU_NONE : FU_WRITE;
    } else {
        return false;
    }
    gen_flags_before(g, fu);
    HostRM m = g64_reg_loc(a);
    emit_rm(&g->e, w, in->opcode, ext, &m);
    gen_flags_after(g, fu);
    if (!w && !g64_pinned(a)) {
        g64_zero_high(g, a);
    }
    return true;
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
    if (((target ^ g->scan->eip) & TLB_PAGE_MASK) == 0) {
        gen_exit_direct(g, target);
    } else {
        gen_exit_nochain(g, target);
    }
}

/* JMP rel8/rel32, Jcc rel8/rel32 (operand size 64: f64).  A non-canonical
 * target faults on the branch itself: that is the interpreter's. */
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
 * SS's bases are 0 in 64-bit mode; FS and GS overrides are callouts):
 *     lea r14, [base + index*scale + disp]     (a CPUState base is loaded into
 *                                               r14 and a CPUState index into r9 first)
 *     mov r14, imm64                           (RIP-relative: a constant)
 * then gen_mem_access's inline TLB check at 64 bits and the operation on
 * [r14]; its slow path runs the operation on the bounce buffer around
 * bt_helper_mem64_prep/commit (helpers64.c).  A register operand in
 * CPUState goes through r9, which is free once the check is done.
 */
bool gen64_operand_linear(Gen *g, const Insn *in)
{
    if (in->adsize != 8 || in->seg == SEG_FS || in->seg == SEG_GS) {
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
    emit_lea64(e, H_R14, &m);
    g->lin_known = false;
    return true;
}

/* The register operand b of a memory form in a host register: its own, or r9. */
static int mem_reg_in(Gen *g, int b)
{
    return g64_reg_to_host(g, b, H_R9);
}

/* op [r14], Gv (MOV, ALU, TEST): m->arg is the guest register. */
static void emit_mem_ev_gv(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, in->opsize == 8 ? EMIT_W : 0, in->opcode, mem_reg_in(g, m->arg), &mem);
}

/* op Gv, [r14] (MOV load, ALU): a CPUState destination through r9. */
static void emit_mem_gv_ev(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    unsigned w = in->opsize == 8 ? EMIT_W : 0;
    int b = m->arg;
    HostRM mem = hrm_mem(H_R14, 0);
    if (g64_pinned(b)) {
        emit_rm(&g->e, w, in->opcode, hreg(b), &mem);
        return;
    }
    bool mov = in->opcode == OPC_MOV_GvEv, cmp = in->opcode == 0x3b;
    if (!mov) {
        emit_load64(&g->e, H_R9, H_R15, g64_reg_off(b));
    }
    emit_rm(&g->e, w, in->opcode, H_R9, &mem);
    if (!cmp) {
        emit_store64(&g->e, H_R15, g64_reg_off(b), H_R9); /* a 32-bit op zero-extended r9 */
    }
}

/* op [r14], imm (81, 83, F7 /0, C7 /0): m->imm is the immediate. */
static void emit_mem_imm(Gen *g, const MemOp *m)
{
    const Insn *in = &m->si->insn;
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, in->opsize == 8 ? EMIT_W : 0, in->opcode, in->reg, &mem);
    if (in->opcode == OPC_GRP1_EvIb) {
        emit_u8(&g->e, (uint8_t)m->imm);
    } else {
        emit_u32(&g->e, m->imm);
    }
}

static bool gen_mem_form(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    unsigned op = in->opcode;
    MemOp m = {.si = si,
               .size = in->opsize,
               .access = ACC_READ,
               .flag_use = FU_NONE,
               .next_eip = (uint32_t)(si->eip + in->len),
               .arg = g64_reg_reg(in),
               .imm = in->imm,
               .prep = bt_helper_mem64_prep,
               .commit = bt_helper_mem64_commit};
    if (op < 0x40 && (op & 7) <= 3 && (op & 1)) {
        int ext = (int)(op >> 3);
        m.flag_use = (uint8_t)alu_flag_use(ext);
        if (op & 2) {
            m.emit = emit_mem_gv_ev;
        } else {
            m.emit = emit_mem_ev_gv;
            m.access = ext == EXT_CMP ? ACC_READ : ACC_WRITE;
            m.rmw = ext != EXT_CMP;
        }
    } else if (op == OPC_TEST_EvGv) {
        m.emit = emit_mem_ev_gv;
        m.flag_use = FU_WRITE;
    } else if (op == OPC_MOV_EvGv) {
        m.emit = emit_mem_ev_gv;
        m.access = ACC_WRITE;
    } else if (op == OPC_MOV_GvEv) {
        m.emit = emit_mem_gv_ev;
    } else if ((op == OPC_GRP1_EvIz || op == OPC_GRP1_EvIb) ||
               ((op == OPC_GRP3_Ev || op == OPC_MOV_EvIz) && in->reg == 0)) {
        m.emit = emit_mem_imm;
        bool cmp_or_test = (op == OPC_GRP3_Ev) || (op != OPC_MOV_EvIz && in->reg == EXT_CMP);
        m.flag_use = op == OPC_MOV_EvIz  ? FU_NONE
                     : op == OPC_GRP3_Ev ? FU_WRITE
                                         : (uint8_t)alu_flag_use(in->reg);
        if (!cmp_or_test) {
            m.access = ACC_WRITE;
            m.rmw = op != OPC_MOV_EvIz;
        }
    } else {
        return false;
    }
    if (in->base == INSN_BASE_RIP) {
        if (in->adsize != 8 || in->seg == SEG_FS || in->seg == SEG_GS) {
            return false;
        }
        gen_park(g);
        emit_mov_r64_imm(&g->e, H_R14, si->eip + in->len + (uint64_t)(int64_t)in->disp);
    } else if (!gen64_operand_linear(g, in)) {
        return false;
    }
    gen_mem_access(g, &m);
    return true;
}

/*
 * PUSH r64 and POP r64 (50+r, 58+r; 66h's 16-bit forms are callouts):
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
    if (gen_fpu_insn(g, si) || gen_sse_insn(g, si)) {
        return true;
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
    if (g->bt->mem64_native && gen_push_pop(g, si)) {
        return true;
    }
    if (in->opcode >= 0xb8 && in->opcode <= 0xbf) { /* MOV Zv, Iv */
        int r = (in->opcode & 7) | ((in->rex & INSN_REX_B) ? 8 : 0);
        gen64_set_reg_imm(g, r, w ? insn_imm64(in) : in->imm);
        return true;
    }
    if (!in->has_modrm) {
        return false;
    }
    if (in->mod != 3) {
        return g->bt->mem64_native && gen_mem_form(g, si);
    }
    return gen_alu_rr(g, in, w) || gen_alu_ri(g, in, w) || gen_unary(g, in, w);
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
        if (gen_branch(g, si)) {
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
            gen_park(g);
            emit_jmp32(&g->e, g->epilogue);
        } else {
            gen_exit_nochain(g, scan->next_eip);
        }
        return;
    }
    gen64_exit(g, scan->next_eip);
}
