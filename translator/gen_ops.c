/*
 * Guest instructions of 32-bit blocks emitted natively, one generator per
 * family, and gen_insn's dispatch between them, the flow (gen_flow.c),
 * string, x87 and SSE generators and callouts.  The ModRM forms re-encoded
 * as themselves, which 64-bit blocks share, are gen_native.c's.
 */
#include "translator/gen.h"

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
    gen_memop_init(g, &m, si, emit_moffs);
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

/*
 * The forms of opcode_verbatim as they stand, in 32- and 64-bit blocks:
 *     [66 | 48] opcode [imm]     e.g. 48 98 cdqe ; 48 25 imm32 and rax, simm32
 * (no REX but REX.W: their register is AL/eAX, or AH in SAHF/LAHF, which
 * 64-bit blocks leave to callouts since LAHF-LM decides them; MOV r8,
 * imm8 only without REX, where 4-7 are AH..BH as on the host).
 */
bool gen_opcode_verbatim(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->has_modrm || !opcode_verbatim(in)) {
        return false;
    }
    bool mov_r8 = in->opcode >= 0xb0 && in->opcode <= 0xb7;
    if ((g->key & KEY_CODE64) &&
        (in->opcode == 0x9e || in->opcode == 0x9f || (in->rex && mov_r8))) {
        return false;
    }
    int fu = gen_flag_use(in);
    gen_flags_before(g, fu);
    if (in->opsize == 2) {
        emit_u8(&g->e, 0x66);
    } else if (in->opsize == 8) {
        emit_u8(&g->e, 0x48); /* REX.W */
    }
    emit_u8(&g->e, in->opcode);
    gen_emit_guest_imm(g, si);
    gen_flags_after(g, fu);
    return true;
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
        gen_emit_guest_imm(g, si);
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
bool gen_hint_insn(Gen *g, const ScanInsn *si)
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
    if (gen_opcode_verbatim(g, si)) {
        return true;
    }
    if (!in->has_modrm) {
        return gen_opcode_reg(g, si);
    }
    if (!gen_native_op(in) || in->op == OP_BT || in->op == OP_BTS || in->op == OP_BTR ||
        in->op == OP_BTC) {
        if (gen_memform_insn(g, si)) {
            return true; /* bit strings, CMPXCHG8B (gen_memforms.c) */
        }
    }
    return gen_native_modrm(g, si);
}

GenMark gen_mark(const Gen *g)
{
    return (GenMark){g->bt->data_used, g->e.p,   g->fl_host,        g->fl_parked,
                     g->nslow,         g->fpu, g->fpu_save_ci, g->sse};
}

void gen_rewind(Gen *g, const GenMark *m)
{
    g->bt->data_used = m->data_used;
    g->e.p = m->code;
    g->fl_host = m->host;
    g->fl_parked = m->parked;
    g->nslow = m->nslow;
    g->fpu = m->fpu;
    g->fpu_save_ci = m->fpu_save_ci;
    g->sse = m->sse;
    g->lin_const_at = NULL;
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
 *     add r8, unrun ; mov [r15+eip], next ; jmp epilogue      (a qword RIP in 64-bit blocks)
 *   done:
 * At CPL 1-3 (IOPL decides) and as a block's last instruction STI is a
 * callout (gen_sti_shadow, gen64_sti_insn).  64-bit blocks use the same
 * code: it touches no guest register.
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
    gen_store_eip(g, next->eip);
    emit_jmp32(e, g->epilogue);
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

/*
 * 64-bit blocks (gen64.c asks before its own dispatch): STI, and an
 * instruction in its shadow that is not plain, under the 32-bit rules
 * above.  STI at CPL 0 is gen_sti's native code.  As a callout (CPL 1-3)
 * it is told whether the next instruction is plain: then its callout ends
 * the shadow as the block goes on and notes the count (helpers.c,
 * bt_sti_leave), whether that instruction turns out native, a slow path
 * or a callout, since none of those takes an interrupt.  An instruction
 * that is not plain (a mode change, SWAPGS, x87, a string, HLT, DIV) runs
 * as a callout, which ends the shadow that STI left open after itself as
 * cpu_exec() does; native code would leave it open past its instruction.
 * True if si was generated, *callout saying how.
 */
bool gen64_sti_insn(Gen *g, const ScanInsn *si, bool *callout)
{
    const ScanInsn *end = g->scan->in + g->scan->n;
    if (si > g->scan->in && si[-1].insn.op == OP_STI && !sti_shadow_plain(&si->insn)) {
        gen_callout(g, si); /* its callout ends the shadow (helpers.c) */
        *callout = true;
        return true;
    }
    if (si->insn.op != OP_STI) {
        return false;
    }
    *callout = !gen_sti(g, si);
    g->sti_native = false; /* (gen_sti_shadow's, of 32-bit blocks) */
    if (*callout) {
        BTCallInfo *ci = gen_callinfo(g, si, bt_helper_interp);
        gen_call(g, ci);
        ci->shadow_native = si + 1 < end && sti_shadow_plain(&si[1].insn);
    }
    return true;
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
