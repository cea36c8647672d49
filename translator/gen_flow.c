/*
 * The stack and control transfers, emitted natively: PUSH (of registers,
 * immediates, memory, segment selectors and EFLAGS), POP (to registers and
 * memory), LEAVE, near
 * JMP/Jcc/CALL/RET (direct and indirect), LOOP and JECXZ.
 *
 * POPF at CPL 0 (the kernel's irq-restore) is native too: gen_popf.
 *
 * Stack accesses go through SS with a 32-bit stack pointer (the block key
 * says SS.B=1 and SS is flat or based); other stacks are callouts.  Each
 * follows the interpreter's order (cpu/mem.h): the access first, ESP
 * after it, so a fault leaves ESP as it was.  The ESP update is part of the
 * memory op's emitter so the slow path does it too (gen_mem.c).
 *
 * 16-bit operand sizes of the transfers (which push 16-bit return
 * addresses) and 16-bit address sizes of LOOP/JCXZ (CX as the counter)
 * are callouts.  Targets need no CS limit check: translated code runs only
 * with a 4 GiB CS limit (translator/run.c).
 */
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

static void memop_stack(MemOp *m, const ScanInsn *si, MemOpEmit emit, int size, int access)
{
    *m = (MemOp){.emit = emit,
                 .si = si,
                 .size = (uint8_t)size,
                 .access = (uint8_t)access,
                 .flag_use = FU_NONE,
                 .next_eip = si->eip + si->insn.len,
                 .arg = -1};
}

/* mov [r14], reg / mov [r14], imm ; lea r12d, [r12 - size] */
static void emit_push_op(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    HostRM r14 = hrm_mem(H_R14, 0);
    unsigned flags = m->size == 2 ? EMIT_66 : 0;
    if (m->arg >= 0) {
        emit_rm(e, flags, OPC_MOV_EvGv, m->arg, &r14);
    } else {
        emit_rm(e, flags, OPC_MOV_EvIz, 0, &r14);
        if (m->size == 2) {
            emit_u16(e, (uint16_t)m->imm);
        } else {
            emit_u32(e, m->imm);
        }
    }
    HostRM sp = hrm_mem(H_R12, -(int32_t)m->size);
    emit_lea32(e, H_R12, &sp);
}

/* mov reg, [r14] ; lea r12d, [r12 + size]  (POP ESP: mov r12d, [r14]) */
static void emit_pop_op(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(e, m->size == 2 ? EMIT_66 : 0, OPC_MOV_GvEv, m->arg, &r14);
    if (m->arg != H_R12) {
        HostRM sp = hrm_mem(H_R12, m->size);
        emit_lea32(e, H_R12, &sp);
    }
}

/* lea r12d, [rbp + 4] ; mov ebp, [r14] */
static void emit_leave_op(Gen *g, const MemOp *m)
{
    HostRM sp = hrm_mem(H_RBP, 4);
    emit_lea32(&g->e, H_R12, &sp);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_GvEv, H_RBP, &r14);
}

/* mov r14d, [r14] ; lea r12d, [r12 + 4 + release] */
static void emit_ret_op(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_GvEv, H_R14, &r14);
    HostRM sp = hrm_mem(H_R12, 4 + (int32_t)m->imm);
    emit_lea32(&g->e, H_R12, &sp);
}

/* mov r14d, [r14]: an indirect jump's target */
static void emit_load_target_op(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_GvEv, H_R14, &r14);
}

/* mov r10d, [r14] ; mov [r15+bt_target], r10: an indirect call's target */
static void emit_save_target_op(Gen *g, const MemOp *m)
{
    gen_page_forget(g);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_GvEv, H_R10, &r14);
    emit_store64(&g->e, H_R15, CPU_OFF(bt_target), H_R10); /* zero-extended: C reads 64 bits */
}

/*
 * PUSH Sreg: writes the 2-byte selector and moves ESP by the operand size
 * (cpu/ops_segreg.c op_PUSH_SREG; m->imm is that size):
 *   movzx r10d, word [r15+seg[s].selector] ; mov [r14], r10w ; lea r12d, [r12 - opsize]
 */
static void emit_push_sreg_op(Gen *g, const MemOp *m)
{
    gen_page_forget(g);
    int seg = m->si->insn.opnd[0].reg;
    HostRM sel = hrm_mem(H_R15, CPU_OFF(seg[seg].selector));
    emit_rm(&g->e, 0, OPC_MOVZX_GvEw, H_R10, &sel);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, EMIT_66, OPC_MOV_EvGv, H_R10, &r14);
    HostRM sp = hrm_mem(H_R12, -(int32_t)m->imm);
    emit_lea32(&g->e, H_R12, &sp);
}

/*
 * PUSHF with a 32-bit operand (cpu/ops_system.c op_PUSHF outside vm86,
 * which translated code never runs), and PUSHFQ in 64-bit blocks
 * (gen64_stack.c): the arithmetic flags from their parked image in r13
 * (AH as LAHF left it, AL = OF, gen.c), the rest from cpu->eflags,
 * without VM and RF (RFLAGS' high half is reserved, 0).  The memory op
 * runs with the flags parked, so the host flags are free here:
 *   mov r10d, r13d ; shr r10d, 8 ; and r10d, SF|ZF|AF|PF|CF
 *   mov r9d, r13d ; and r9d, 1 ; shl r9d, 11 ; or r10d, r9d
 *   mov r9d, [r15+eflags] ; and r9d, ~(arith|VM|RF) ; or r9d, 2 ; or r10d, r9d
 *   mov [r14], r10d ; lea r12d, [r12 - 4]      (PUSHFQ: r10, r12, 8)
 */
void gen_pushf_image(Gen *g)
{
    Emit *e = &g->e;
    gen_page_forget(g);
    HostRM r10 = hrm_reg(H_R10), r9 = hrm_reg(H_R9);
    emit_mov_rr32(e, H_R10, H_R13);
    emit_shift32_imm(e, EXT_SHR, H_R10, 8);
    emit_alu32_imm(e, EXT_AND,
                   &r10, EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF);
    emit_mov_rr32(e, H_R9, H_R13);
    emit_alu32_imm(e, EXT_AND, &r9, 1);
    emit_shift32_imm(e, EXT_SHL, H_R9, 11); /* EFLAGS_OF */
    emit_rm(e, 0, OPC_OR_EvGv, H_R9, &r10);
    emit_load32(e, H_R9, H_R15, CPU_OFF(eflags));
    emit_alu32_imm(e, EXT_AND, &r9, (int32_t)~(EFLAGS_ARITH | EFLAGS_VM | EFLAGS_RF));
    emit_alu32_imm(e, EXT_OR, &r9, 2);
    emit_rm(e, 0, OPC_OR_EvGv, H_R9, &r10);
}

static void emit_pushf_op(Gen *g, const MemOp *m)
{
    gen_pushf_image(g);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, OPC_MOV_EvGv, H_R10, &r14);
    HostRM sp = hrm_mem(H_R12, -4);
    emit_lea32(&g->e, H_R12, &sp);
    (void)m;
}

/*
 * POPF with a 32-bit operand at CPL 0 (cpu/ops_system.c op_POPF outside
 * vm86, which translated code never runs): at CPL 0 every POPF may write
 * IOPL and IF (CPL 0 is never above IOPL), so the bits it writes are fixed
 * and RF is cleared.  The arithmetic flags become the parked image in r13
 * (AH as LAHF builds it, AL = OF), the others go to cpu->eflags, and r9d
 * keeps the bits that changed for the tests after the access:
 *   mov r10d, [r14] ; lea r12d, [r12 + 4]
 *   mov r11d, r10d ; and r11d, SF|ZF|AF|PF|CF ; or r11d, 2 ; shl r11d, 8
 *   mov r9d, r10d ; shr r9d, 11 ; and r9d, 1 ; or r11d, r9d ; mov r13, r11
 *   and r10d, WRITTEN & ~RF ; mov r9d, [r15+eflags] ; mov r11d, r9d
 *   and r11d, ~WRITTEN ; or r10d, r11d ; mov [r15+eflags], r10d ; xor r9d, r10d
 */
#define POPF0_WRITTEN                                                                              \
    (EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_IOPL | EFLAGS_IF | EFLAGS_AC | EFLAGS_ID |         \
     EFLAGS_RF)

static void emit_popf_op(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    gen_page_forget(g);
    HostRM r9 = hrm_reg(H_R9), r10 = hrm_reg(H_R10), r11 = hrm_reg(H_R11);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(e, 0, OPC_MOV_GvEv, H_R10, &r14);
    HostRM sp = hrm_mem(H_R12, 4);
    emit_lea32(e, H_R12, &sp);
    emit_mov_rr32(e, H_R11, H_R10);
    emit_alu32_imm(e, EXT_AND, &r11, EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF);
    emit_alu32_imm(e, EXT_OR, &r11, 2);
    emit_shift32_imm(e, EXT_SHL, H_R11, 8);
    emit_mov_rr32(e, H_R9, H_R10);
    emit_shift32_imm(e, EXT_SHR, H_R9, 11); /* EFLAGS_OF */
    emit_alu32_imm(e, EXT_AND, &r9, 1);
    emit_rm(e, 0, OPC_OR_EvGv, H_R9, &r11);
    emit_mov_rr64(e, H_R13, H_R11);
    emit_alu32_imm(e, EXT_AND, &r10, (int32_t)(POPF0_WRITTEN & ~EFLAGS_RF));
    emit_load32(e, H_R9, H_R15, CPU_OFF(eflags));
    emit_mov_rr32(e, H_R11, H_R9);
    emit_alu32_imm(e, EXT_AND, &r11, (int32_t)~POPF0_WRITTEN);
    emit_rm(e, 0, OPC_OR_EvGv, H_R11, &r10);
    emit_store32(e, H_R15, CPU_OFF(eflags), H_R10);
    emit_rm(e, 0, OPC_XOR_EvGv, H_R10, &r9);
    (void)m;
}

/*
 * After the access, the block (POPF ends it) goes on unless the mode
 * changed or an interrupt became deliverable:
 *     test r9d, TF|AC ; jnz leave         (TF: single-stepping; AC: hflags)
 *     test r9d, IF ; jz go                (IF unchanged)
 *     test dword [r15+eflags], IF ; jz go (cleared)
 *     cmp dword [r15+interrupt_request], 0 ; je go
 *   leave: <callout bt_helper_popf_leave, which does not come back>
 *   go:
 * A request that IF did not mask has kicked the budget already, so the
 * next block's entry sees it; one that IF masked (INTR raised while IF was
 * clear does not kick) is what the last test finds.
 */
static void gen_popf_tail(Gen *g, const ScanInsn *si)
{
    Emit *e = &g->e;
    HostRM r9 = hrm_reg(H_R9);
    emit_rm(e, 0, OPC_GRP3_Ev, 0, &r9); /* test r9d, imm32 */
    emit_u32(e, EFLAGS_TF | EFLAGS_AC);
    uint8_t *leave = emit_jcc8(e, CC_NE);
    emit_rm(e, 0, OPC_GRP3_Ev, 0, &r9);
    emit_u32(e, EFLAGS_IF);
    uint8_t *go1 = emit_jcc32(e, CC_E, NULL);
    HostRM fl = hrm_mem(H_R15, CPU_OFF(eflags));
    emit_rm(e, 0, OPC_GRP3_Ev, 0, &fl);
    emit_u32(e, EFLAGS_IF);
    uint8_t *go2 = emit_jcc32(e, CC_E, NULL);
    HostRM req = hrm_mem(H_R15, CPU_OFF(interrupt_request));
    emit_alu32_imm(e, EXT_CMP, &req, 0);
    uint8_t *go3 = emit_jcc32(e, CC_E, NULL);
    emit_bind8(e, leave);
    uint8_t fpu = g->fpu, sse = g->sse; /* the main line goes on as it was */
    gen_call(g, gen_callinfo(g, si, bt_helper_popf_leave));
    g->fpu = fpu;
    g->sse = sse;
    emit_bind32(e, go1);
    emit_bind32(e, go2);
    emit_bind32(e, go3);
}

static bool gen_popf(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4 || (g->key & KEY_CPL_MASK) != 0) {
        return false; /* IF and IOPL depend on CPL and IOPL: the interpreter's */
    }
    MemOp m;
    memop_stack(&m, si, emit_popf_op, 4, ACC_READ);
    gen_clobber(g);
    gen_stack_linear(g, 0);
    gen_mem_access(g, &m);
    gen_popf_tail(g, si);
    return true;
}

static bool gen_push_sreg(Gen *g, const ScanInsn *si)
{
    MemOp m;
    memop_stack(&m, si, emit_push_sreg_op, 2, ACC_WRITE);
    m.imm = si->insn.opsize;
    gen_clobber(g);
    gen_stack_linear(g, -(int32_t)si->insn.opsize);
    gen_mem_access(g, &m);
    return true;
}

static bool gen_pushf(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4) {
        return false;
    }
    MemOp m;
    memop_stack(&m, si, emit_pushf_op, 4, ACC_WRITE);
    gen_clobber(g);
    gen_stack_linear(g, -4);
    gen_mem_access(g, &m);
    return true;
}

/*
 * PUSH m: two accesses in the interpreter's order (cpu/ops_data.c op_PUSH):
 * the operand is read first, at an address computed with ESP as it was,
 * then pushed.  The value waits in CPUState.bt_target between them (the
 * second access's TLB check needs r9-r11):
 *   read:  mov r9d/r9w, [r14] ; mov [r15+bt_target], r9d/r9w
 *   push:  mov r9d/r9w, [r15+bt_target] ; mov [r14], r9d/r9w ; lea r12d, [r12 - size]
 * A fault in either leaves ESP and memory as they were.
 */
static void emit_push_load_op(Gen *g, const MemOp *m)
{
    unsigned flags = m->size == 2 ? EMIT_66 : 0;
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, flags, OPC_MOV_GvEv, H_R9, &r14);
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, flags, OPC_MOV_EvGv, H_R9, &tmp);
}

static void emit_push_stored_op(Gen *g, const MemOp *m)
{
    unsigned flags = m->size == 2 ? EMIT_66 : 0;
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, flags, OPC_MOV_GvEv, H_R9, &tmp);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, flags, OPC_MOV_EvGv, H_R9, &r14);
    HostRM sp = hrm_mem(H_R12, -(int32_t)m->size);
    emit_lea32(&g->e, H_R12, &sp);
}

static bool gen_push_mem(Gen *g, const ScanInsn *si)
{
    int size = si->insn.opsize;
    gen_clobber(g);
    if (!gen_operand_linear(g, &si->insn)) {
        return false;
    }
    MemOp load;
    memop_stack(&load, si, emit_push_load_op, size, ACC_READ);
    gen_mem_access(g, &load);
    MemOp push;
    memop_stack(&push, si, emit_push_stored_op, size, ACC_WRITE);
    gen_clobber(g);
    gen_stack_linear(g, -size);
    gen_mem_access(g, &push);
    return true;
}

static bool gen_push(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    int size = in->opsize;
    MemOp m;
    memop_stack(&m, si, emit_push_op, size, ACC_WRITE);
    if (in->opnd[0].kind == OPK_IMM) {
        m.imm = in->imm;
    } else if (in->opnd[0].kind == OPK_REG) {
        m.arg = hreg(in->opnd[0].reg);
    } else {
        return gen_push_mem(g, si);
    }
    gen_clobber(g);
    gen_stack_linear(g, -size);
    gen_mem_access(g, &m);
    return true;
}

/*
 * POP m: the stack read into bt_target, then the store, then ESP moves
 * (cpu/ops_data.c op_POP): an ESP base addresses with ESP as it is after
 * the pop (SDM Vol.2 POP), but a fault in the store leaves ESP as it was:
 *   read:  <as PUSH m's>                          ; [esp]
 *   store: [lea r12d, [r12 + size]] ; lea r14d, [ea] ; [lea r12d, [r12 - size]]
 *          mov r9d/r9w, [r15+bt_target] ; mov [r14], r9d/r9w ; lea r12d, [r12 + size]
 */
static void emit_pop_stored_op(Gen *g, const MemOp *m)
{
    unsigned flags = m->size == 2 ? EMIT_66 : 0;
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, flags, OPC_MOV_GvEv, H_R9, &tmp);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, flags, OPC_MOV_EvGv, H_R9, &r14);
    HostRM sp = hrm_mem(H_R12, (int32_t)m->size);
    emit_lea32(&g->e, H_R12, &sp);
}

static bool gen_pop_mem(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    int size = in->opsize;
    MemOp load;
    memop_stack(&load, si, emit_push_load_op, size, ACC_READ);
    gen_clobber(g);
    gen_stack_linear(g, 0);
    gen_mem_access(g, &load);
    gen_clobber(g);
    bool esp_base = in->base == R_ESP;
    if (esp_base) {
        HostRM after = hrm_mem(H_R12, size);
        emit_lea32(&g->e, H_R12, &after);
    }
    if (!gen_operand_linear(g, in)) {
        return false;
    }
    if (esp_base) {
        HostRM before = hrm_mem(H_R12, -size);
        emit_lea32(&g->e, H_R12, &before);
    }
    MemOp store;
    memop_stack(&store, si, emit_pop_stored_op, size, ACC_WRITE);
    gen_mem_access(g, &store);
    return true;
}

static bool gen_pop(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    int size = in->opsize;
    if (in->opnd[0].kind == OPK_MEM) {
        return gen_pop_mem(g, si);
    }
    if (in->opnd[0].kind != OPK_REG || (size == 2 && in->opnd[0].reg == R_ESP)) {
        return false; /* POP SP */
    }
    MemOp m;
    memop_stack(&m, si, emit_pop_op, size, ACC_READ);
    m.arg = hreg(in->opnd[0].reg);
    gen_clobber(g);
    gen_stack_linear(g, 0);
    gen_mem_access(g, &m);
    return true;
}

static bool gen_leave(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4) {
        return false;
    }
    MemOp m;
    memop_stack(&m, si, emit_leave_op, 4, ACC_READ);
    gen_clobber(g);
    HostRM bp = hrm_mem(H_RBP, 0);
    emit_lea32(&g->e, H_R14, &bp); /* lea r14d, [rbp] */
    gen_add_seg_base(g, SEG_SS);
    gen_mem_access(g, &m);
    return true;
}

static uint32_t rel_target(const ScanInsn *si)
{
    uint32_t target = si->eip + si->insn.len + si->insn.imm;
    return si->insn.opsize == 2 ? (target & 0xffff) : target;
}

/* Two exits: "jcc/loop taken" (rel32 field given) and the fall-through. */
static void gen_two_exits(Gen *g, const ScanInsn *si, uint8_t *taken)
{
    gen_exit_direct(g, si->eip + si->insn.len);
    emit_bind32(&g->e, taken);
    g->fl_parked = true;
    gen_exit_direct(g, rel_target(si));
}

/*
 * A Jcc the block goes on past (a superblock, translator/scan.c): the
 * taken side is a chained exit out of line, the fall-through the rest of
 * the block, after the check a block end makes.  The entry charged the
 * whole block against the budget, so each way out gives back what it
 * does not run:
 *     j!cc on                              ; rel32
 *     add r8, instructions after the Jcc
 *     <direct exit to target>
 *   on:
 *     test r8, r8 ; jns go
 *     add r8, instructions after the Jcc
 *     mov [r15+eip], next ; jmp epilogue
 *   go: ...                                ; the fall-through, the flags parked
 * After the entry's charge R8 is not negative, and only an exit request
 * (an interrupt a callout's device raised, BT_BUDGET_KICK) makes it so:
 * then the block leaves at the fall-through for the run loop, as it would
 * at the end of a block that ended at the Jcc.
 */
void gen_jcc_on(Gen *g, const ScanInsn *si, uint64_t target)
{
    Emit *e = &g->e;
    gen_unpark(g);
    gen_park(g); /* both copies valid: the exit needs the parked one */
    uint8_t *on = emit_jcc32(e, si->insn.cond ^ 1, NULL);
    bool pc = g->pc_live, pc_write = g->pc_write;
    HostRM budget = hrm_reg(H_R8);
    int32_t rest = g->tb->ninsns - g->cur - 1;
    emit_alu64_imm(e, EXT_ADD, &budget, rest);
    g->fl_host = false;
    if (g->key & KEY_CODE64) {
        gen64_exit(g, target);
    } else {
        gen_exit_direct(g, target);
    }
    emit_bind32(e, on);
    emit_rm(e, EMIT_W, OPC_TEST_EvGv, H_R8, &budget); /* test r8, r8 */
    uint8_t *go = emit_jcc8(e, CC_NS);
    emit_alu64_imm(e, EXT_ADD, &budget, rest);
    gen_exit_nochain(g, si->eip + si->insn.len);
    emit_bind8(e, go);
    g->fl_host = false;
    g->fl_parked = true;
    g->pc_live = pc;
    g->pc_write = pc_write;
    g->tb->superblock = true;
}

static void gen_jcc(Gen *g, const ScanInsn *si)
{
    gen_unpark(g);
    gen_park(g); /* both copies valid: the exits need the parked one */
    uint8_t *taken = emit_jcc32(&g->e, si->insn.cond, NULL);
    gen_two_exits(g, si, taken);
}

/*
 *     [67] loop/loope/loopne/jecxz 1f   ; 67h: ECX, not RCX
 *     jmp 2f
 * 1:  jmp taken                          ; rel32
 * 2:  <fall-through exit>
 */
static bool gen_loop(Gen *g, const ScanInsn *si)
{
    static const uint8_t host_op[] = {[OP_LOOPNE - OP_JCXZ] = 0xe0,
                                      [OP_LOOPE - OP_JCXZ] = 0xe1,
                                      [OP_LOOP - OP_JCXZ] = OPC_LOOP_Jb,
                                      [OP_JCXZ - OP_JCXZ] = OPC_JRCXZ_Jb};
    const Insn *in = &si->insn;
    if (in->adsize != 4) {
        return false;
    }
    if (in->op == OP_LOOPE || in->op == OP_LOOPNE) {
        gen_unpark(g);
    }
    gen_park(g);
    Emit *e = &g->e;
    emit_u8(e, 0x67);
    emit_u8(e, host_op[in->op - OP_JCXZ]);
    emit_u8(e, 2);
    emit_u8(e, OPC_JMP_Jb);
    emit_u8(e, 5);
    uint8_t *taken = emit_jmp32(e, NULL);
    gen_two_exits(g, si, taken);
    return true;
}

/*
 * Return prediction.  A translated CALL pushes a prediction and a RET pops
 * one (CPUState.bt_ras, a ring of BT_RAS_SIZE):
 *
 * CALL, after pushing the return address:
 *     mov r11d, [r15+ras_top] ; add r11d, 1 ; and r11d, MASK ; mov [r15+ras_top], r11d
 *     shl r11d, 4 ; mov r10, key << 32 | ret ; mov [r15+r11+ras], r10
 *     lea r10, [rip+cont] ; mov [r15+r11+ras+8], r10
 *     <the call's exit>
 *   cont: <direct exit to ret>
 * RET, with the popped return address in r14d:
 *     add qword [r15+ret_total], 1
 *     mov r11d, [r15+ras_top] ; lea r9d, [r11-1] ; and r9d, MASK ; mov [r15+ras_top], r9d
 *     shl r11d, 4 ; mov r10, key << 32 ; or r10, r14 ; cmp r10, [r15+r11+ras] ; jne miss
 *     jmp [r15+r11+ras+8]
 *   miss: add qword [r15+ret_miss], 1 ; <jump-cache lookup>
 *
 * cont is an ordinary direct exit of the calling block, chained to the
 * block at the return address like any other: a RET that finds its
 * prediction runs no lookup at all.  The key in the tag makes the return
 * land only in code translated for the mode it runs in (the CS base is
 * fixed while entries live: a change clears them with the jump cache).
 * A mismatch (a longjmp, a stack switch, a return address the program
 * rewrote, a ring that wrapped in deep recursion) costs the lookup that
 * would have run anyway.  cont's chain trusts the mapping of the return
 * address as the calling block saw it, so every TLB flush clears the ring.
 * 64-bit blocks (gen64_flow.c) share the ring: their tag is bt_jc_tag's,
 * so a 64-bit return never lands in a compatibility-mode block at the
 * same address, nor the reverse.
 */
#define RAS_MASK (BT_RAS_SIZE - 1)

uint8_t *gen_ras_push(Gen *g, uint64_t ret)
{
    Emit *e = &g->e;
    HostRM r11 = hrm_reg(H_R11);
    emit_load32(e, H_R11, H_R15, CPU_OFF(bt_ras_top));
    emit_alu32_imm(e, EXT_ADD, &r11, 1);
    emit_alu32_imm(e, EXT_AND, &r11, RAS_MASK);
    emit_store32(e, H_R15, CPU_OFF(bt_ras_top), H_R11);
    emit_shift32_imm(e, EXT_SHL, H_R11, 4);
    emit_mov_r64_imm(e, H_R10, bt_jc_tag(g->key, ret));
    HostRM tag = hrm_sib(H_R15, H_R11, 0, CPU_OFF(bt_ras));
    emit_rm(e, EMIT_W, OPC_MOV_EvGv, H_R10, &tag);
    HostRM here = hrm_rip(emit_rx(e)); /* displacement patched to cont by gen_ras_cont */
    emit_lea64(e, H_R10, &here);
    uint8_t *field = e->p - 4;
    HostRM code = hrm_sib(H_R15, H_R11, 0, CPU_OFF(bt_ras) + (int32_t)offsetof(BTRasEntry, code));
    emit_rm(e, EMIT_W, OPC_MOV_EvGv, H_R10, &code);
    return field;
}

/* The continuation the prediction points at: a direct exit to ret. */
void gen_ras_cont(Gen *g, uint8_t *field, uint64_t ret)
{
    emit_patch_rel32(field, g->e.rx_delta, emit_rx(&g->e));
    g->fl_parked = true; /* as between blocks: the RET that comes here parked them */
    g->fl_host = false;
    if (g->key & KEY_CODE64) {
        gen64_exit(g, ret);
    } else {
        gen_exit_direct(g, ret);
    }
}

/* 64-bit blocks compute the tag of r14 as mov r10, key << 48 ; xor r10, r14
 * (bt_jc_tag), and miss into their own lookup (gen64_flow.c). */
void gen_ras_pop_exit(Gen *g)
{
    Emit *e = &g->e;
    gen_park(g);
    HostRM total = hrm_mem(H_R15, CPU_OFF(bt_ret_total));
    emit_alu64_imm(e, EXT_ADD, &total, 1);
    emit_load32(e, H_R11, H_R15, CPU_OFF(bt_ras_top));
    HostRM prev = hrm_mem(H_R11, -1);
    emit_lea32(e, H_R9, &prev);
    HostRM r9 = hrm_reg(H_R9);
    emit_alu32_imm(e, EXT_AND, &r9, RAS_MASK);
    emit_store32(e, H_R15, CPU_OFF(bt_ras_top), H_R9);
    emit_shift32_imm(e, EXT_SHL, H_R11, 4);
    bool wide = (g->key & KEY_CODE64) != 0;
    emit_mov_r64_imm(e, H_R10, bt_jc_tag(g->key, 0));
    HostRM r10 = hrm_reg(H_R10);
    emit_rm(e, EMIT_W, wide ? OPC_XOR_EvGv : OPC_OR_EvGv, H_R14, &r10); /* xor/or r10, r14 */
    HostRM tag = hrm_sib(H_R15, H_R11, 0, CPU_OFF(bt_ras));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag);
    uint8_t *miss = emit_jcc8(e, CC_NE);
    HostRM code = hrm_sib(H_R15, H_R11, 0, CPU_OFF(bt_ras) + (int32_t)offsetof(BTRasEntry, code));
    emit_jmp_mem(e, &code);
    emit_bind8(e, miss);
    HostRM misses = hrm_mem(H_R15, CPU_OFF(bt_ret_miss));
    emit_alu64_imm(e, EXT_ADD, &misses, 1);
    if (wide) {
        gen64_exit_indirect(g);
    } else {
        gen_exit_indirect(g);
    }
}

static bool gen_near_call(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4 || !gen_stack_native(g)) {
        return false;
    }
    uint32_t target = rel_target(si);
    uint32_t ret = si->eip + si->insn.len;
    MemOp m;
    memop_stack(&m, si, emit_push_op, 4, ACC_WRITE);
    m.imm = ret;
    m.next_eip = target;
    gen_clobber(g);
    gen_stack_linear(g, -4);
    gen_mem_access(g, &m);
    uint8_t *cont = gen_ras_push(g, ret);
    gen_exit_direct(g, target);
    gen_ras_cont(g, cont, ret);
    return true;
}

/*
 * A call to a PC thunk the scan inlined (translator/scan.c): the CALL's
 * push as usual, then, instead of the exit, a check that the thunk's page
 * is still the one scanned (when it is another linear page than the
 * block's), and the thunk's MOV runs as itself.  Its RET pops and compares
 * the address with the return address; a different one (a stack in MMIO)
 * leaves through the jump cache.  The return prediction ring is untouched,
 * as a CALL and its RET together leave it.
 *     <push ret>
 *     cmp qword [r15 + tlb[thunk].tag[FETCH]], thunk_page ; jne call
 *     cmp dword [r15 + tlb[thunk].phys], PHYS             ; jne call
 *     ...                                   ; the thunk's mov REG, [esp]
 *     <r14d = [esp] ; esp += 4> ; cmp r14d, ret ; je on
 *     add r8, unrun ; <jump-cache exit to r14d>
 *   on: ...                                 ; the caller after the call
 *   call: add r8, unrun ; <direct exit to the thunk>   (out of line, below)
 * The budget was charged for the whole block, so each way out refunds the
 * instructions it does not run.
 */
static void gen_refund(Gen *g)
{
    HostRM budget = hrm_reg(H_R8);
    emit_alu64_imm(&g->e, EXT_ADD, &budget, g->tb->ninsns - g->cur - 1);
}

static bool gen_thunk_call(Gen *g, const ScanInsn *si)
{
    if (!gen_stack_native(g)) {
        return false;
    }
    Emit *e = &g->e;
    uint32_t target = rel_target(si);
    MemOp m;
    memop_stack(&m, si, emit_push_op, 4, ACC_WRITE);
    m.imm = si->eip + si->insn.len;
    m.next_eip = target;
    gen_clobber(g);
    gen_stack_linear(g, -4);
    gen_mem_access(g, &m);
    uint32_t lin = target + g->cs_base, block_lin = g->scan->eip + g->cs_base;
    if (!((lin ^ block_lin) & TLB_PAGE_MASK)) {
        return true; /* the block's own page: its running proves the mapping */
    }
    int32_t slot = tlb_view_off(g->mmu_idx) + (int32_t)(tlb_slot(lin) * sizeof(TLBEntry));
    HostRM tag = hrm_mem(H_R15, slot + (int32_t)offsetof(TLBEntry, tag[ACC_FETCH]));
    uint32_t page = lin & (uint32_t)TLB_PAGE_MASK;
    gen_park(g);
    if (page < 0x80000000u) {
        emit_alu64_imm(e, EXT_CMP, &tag, (int32_t)page);
    } else {
        emit_mov_r32_imm(e, H_R9, page);
        emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R9, &tag); /* cmp r9, [..tag] (r10 holds a page) */
    }
    uint8_t *call1 = emit_jcc32(e, CC_NE, NULL);
    HostRM phys = hrm_mem(H_R15, slot + (int32_t)offsetof(TLBEntry, phys));
    /* the thunk's physical page: the block's own when the scan found it there */
    uint32_t thunk_phys = g->scan->phys2 != BT_NO_PAGE2 ? g->scan->phys2
                                                        : g->scan->phys_pc & TLB_PAGE_MASK;
    emit_alu32_imm(e, EXT_CMP, &phys, (int32_t)thunk_phys);
    uint8_t *call2 = emit_jcc32(e, CC_NE, NULL);
    uint8_t *on = emit_jmp32(e, NULL);
    emit_bind32(e, call1);
    emit_bind32(e, call2);
    bool host = g->fl_host, parked = g->fl_parked, pc = g->pc_live;
    gen_refund(g);
    gen_exit_direct(g, target);
    g->fl_host = host;
    g->fl_parked = parked;
    g->pc_live = pc;
    emit_bind32(e, on);
    return true;
}

static bool gen_thunk_ret(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4 || si->insn.nopnds || !gen_stack_native(g)) {
        return false;
    }
    Emit *e = &g->e;
    MemOp m;
    memop_stack(&m, si, emit_ret_op, 4, ACC_READ);
    gen_clobber(g);
    gen_stack_linear(g, 0);
    gen_mem_access(g, &m);
    HostRM r14 = hrm_reg(H_R14);
    emit_alu32_imm(e, EXT_CMP, &r14, (int32_t)si[1].eip);
    uint8_t *on = emit_jcc32(e, CC_E, NULL);
    bool host = g->fl_host, parked = g->fl_parked, pc = g->pc_live;
    gen_refund(g);
    gen_exit_indirect(g);
    g->fl_host = host;
    g->fl_parked = parked;
    g->pc_live = pc;
    emit_bind32(e, on);
    return true;
}

/* Whether si is followed in its block by what it transfers to: a call
 * to an inlined PC thunk (translator/scan.c), or that thunk's RET. */
static bool flow_goes_on(const Gen *g, const ScanInsn *si)
{
    return si + 1 < g->scan->in + g->scan->n;
}

static bool gen_ret(Gen *g, const ScanInsn *si)
{
    if (si->insn.opsize != 4 || !gen_stack_native(g)) {
        return false;
    }
    MemOp m;
    memop_stack(&m, si, emit_ret_op, 4, ACC_READ);
    m.imm = si->insn.nopnds ? (si->insn.imm & 0xffff) : 0;
    gen_clobber(g);
    gen_stack_linear(g, 0);
    gen_mem_access(g, &m);
    gen_ras_pop_exit(g);
    return true;
}

/* JMP r/m32 and CALL r/m32. */
static bool gen_indirect(Gen *g, const ScanInsn *si, bool call)
{
    const Insn *in = &si->insn;
    if (in->opsize != 4 || (call && !gen_stack_native(g))) {
        return false;
    }
    Emit *e = &g->e;
    if (in->mod == 3) {
        gen_park(g);
        if (call) {
            emit_store64(e, H_R15, CPU_OFF(bt_target), hreg(in->rm)); /* zero-extended */
        } else {
            emit_mov_rr32(e, H_R14, hreg(in->rm));
        }
    } else {
        gen_clobber(g);
        if (!gen_operand_linear(g, in)) {
            return false;
        }
        MemOp m;
        memop_stack(&m, si, call ? emit_save_target_op : emit_load_target_op, 4, ACC_READ);
        gen_mem_access(g, &m);
    }
    if (call) {
        MemOp push;
        memop_stack(&push, si, emit_push_op, 4, ACC_WRITE);
        push.imm = si->eip + in->len;
        push.target_in_cpu = true;
        gen_clobber(g);
        gen_stack_linear(g, -4);
        gen_mem_access(g, &push);
        uint8_t *cont = gen_ras_push(g, si->eip + in->len);
        emit_load32(e, H_R14, H_R15, CPU_OFF(bt_target));
        gen_exit_indirect_ic(g);
        gen_ras_cont(g, cont, si->eip + in->len);
        return true;
    }
    gen_exit_indirect_ic(g);
    return true;
}

bool gen_flow_insn(Gen *g, const ScanInsn *si, bool *ended)
{
    const Insn *in = &si->insn;
    *ended = false;
    switch (in->op) {
    case OP_PUSH: return gen_stack_native(g) && gen_push(g, si);
    case OP_PUSH_SREG: return gen_stack_native(g) && gen_push_sreg(g, si);
    case OP_PUSHF: return gen_stack_native(g) && gen_pushf(g, si);
    case OP_POPF: return gen_stack_native(g) && gen_popf(g, si);
    case OP_POP: return gen_stack_native(g) && gen_pop(g, si);
    case OP_LEAVE: return gen_stack_native(g) && gen_leave(g, si);
    case OP_JMP:
        gen_exit_direct(g, rel_target(si));
        *ended = true;
        return true;
    case OP_JCC:
        if (flow_goes_on(g, si)) {
            gen_jcc_on(g, si, rel_target(si));
            return true;
        }
        gen_jcc(g, si);
        *ended = true;
        return true;
    case OP_LOOP:
    case OP_LOOPE:
    case OP_LOOPNE:
    case OP_JCXZ: *ended = gen_loop(g, si); return *ended;
    case OP_CALL:
        if (flow_goes_on(g, si)) {
            return gen_thunk_call(g, si);
        }
        *ended = gen_near_call(g, si);
        return *ended;
    case OP_RET:
        if (flow_goes_on(g, si)) {
            return gen_thunk_ret(g, si);
        }
        *ended = gen_ret(g, si);
        return *ended;
    case OP_JMP_EV:
    case OP_CALL_EV: *ended = gen_indirect(g, si, in->op == OP_CALL_EV); return *ended;
    default: return false;
    }
}
