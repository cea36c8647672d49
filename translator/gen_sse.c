/*
 * MMX, SSE, SSE2, SSE3 and SSSE3 instructions as host instructions.
 *
 * The guest's encoding is the host's: in 64-bit mode without REX the
 * legacy-prefixed 0F, 0F 38 and 0F 3A opcodes name the same operation on
 * xmm0-7 and mm0-7, and a 32-bit general register operand is the guest's
 * own (guest EAX..EDI live in the host registers of the same number; ESP,
 * in R12, would need REX and makes the instruction a callout).  So a
 * register form is copied byte for byte, and a memory form keeps its
 * prefixes but the segment overrides and 67h, gains REX.B, and has its
 * ModRM rewritten to [r14] behind the inline TLB check of gen_mem.c,
 * whose slow path runs the same instruction on the bounce buffer (the x87
 * prep and commit helpers: reads in the interpreter's pieces, a store's
 * pages probed first).  A 16-byte operand of a form that requires
 * alignment is tested first, `test r14d, 15 ; jnz misaligned`, and the
 * out-of-line path calls the interpreter, which raises #GP(0) as the
 * hardware does before any access (SDM Vol.1 11.6.8).
 *
 * XMM state.  The guest's XMM registers and MXCSR live in CPUState.fpu,
 * or in the host's xmm0-7 and MXCSR from the first native SSE instruction
 * until the next C call or the return to the run loop, across chained
 * blocks, as gen_fpu.c keeps the x87 state: CPUState.bt_sse_live says
 * which at run time, Gen.sse at translation time.
 *   enter:  [cmp byte [r15+bt_sse_live], 0 ; jne live]
 *           lea r9, [rip+ci] ; call thunk     ; bt_helper_sse_enter checks the mode
 *           movups xmm0..7, [r15+fpu.xmm]   ; ldmxcsr [r15+fpu.mxcsr]
 *           mov byte [r15+bt_sse_live], 1
 *   live:
 *   flush:  [cmp byte [r15+bt_sse_live], 0 ; je saved]
 *           movups [r15+fpu.xmm], xmm0..7   ; stmxcsr [r15+fpu.mxcsr]
 *           ldmxcsr [r15+bt_host_mxcsr]     ; mov byte [r15+bt_sse_live], 0
 *   saved:
 * gen_call() flushes before every C call (SysV: xmm0-15 are the callee's
 * to clobber, MXCSR's control bits must be the host's) and the epilogue
 * stub flushes on the way out (translator/stubs.c), so C code, faults and
 * the interpreter always find CPUState.fpu exact.  The alternative, each
 * instruction loading its registers from CPUState and storing its
 * destination back, was measured slower (translator/README.md).
 *
 * MXCSR.  The host runs under the guest's MXCSR itself, so rounding, DAZ,
 * FTZ and the flags are the hardware's; the flags accumulate in the host
 * MXCSR and the flush's STMXCSR stores them with the control bits, which
 * cannot have changed (LDMXCSR and FXRSTOR are callouts).  Only the common
 * case runs natively: bt_helper_sse_enter checks that CR0.EM and CR0.TS
 * are clear, CR4.OSFXSR set and all six MXCSR exceptions masked, so no
 * native instruction can fault (#XM needs an unmasked exception);
 * otherwise it runs that instruction in the interpreter (#UD, #NM, #XM and
 * the unbounded-exponent flag rules exactly as cpu/ops_simd.c) and leaves.
 *
 * MMX state lives where the x87 state does, in the host FPU (gen_fpu.c):
 * an MMX register is the low 64 bits of an x87 physical register, and the
 * host's MMX instructions make the same TOP = 0, tag and exponent changes
 * to the host's x87 registers the guest's make to its own, so with the
 * guest's x87 state loaded into the host FPU an MMX instruction or EMMS
 * runs as itself, and FNSAVE brings registers, TOP and tags back.  Keeping
 * a separate MMX copy would need a reconciliation at every x87/MMX switch.
 * Its entry check (bt_helper_fpu_enter: EM, TS, a pending x87 exception)
 * is a superset of the MMX one.  The forms that mix MMX and XMM registers
 * (MOVQ2DQ, CVTPI2PS, ...) and MASKMOVQ/MASKMOVDQU (implicit DS:EDI) stay
 * callouts.
 */
#include "cpu/simd.h"
#include "translator/gen.h"

_Static_assert(offsetof(CPUState, bt_bounce) % 16 == 0,
               "aligned SSE forms run on the bounce buffer");

enum {
    OPC_MOVUPS_VW = OPC_0F | 0x10, /* movups xmm, xmm/m128 */
    OPC_MOVUPS_WV = OPC_0F | 0x11, /* movups xmm/m128, xmm */
    OPC_GRP15 = OPC_0F | 0xae,     /* /2 ldmxcsr m32, /3 stmxcsr m32 */
    EXT_LDMXCSR = 2,
    EXT_STMXCSR = 3,
    REX_B = 0x41,
};

/* What one SIMD instruction needs for native emission. */
typedef struct SseForm {
    bool mmx;         /* names MMX registers (or is EMMS): the x87 state must be live */
    bool xmm;         /* names XMM registers or runs under MXCSR: the SSE state must be live */
    uint8_t size;     /* memory operand bytes; 0: register form */
    uint8_t access;   /* ACC_READ or ACC_WRITE */
    bool aligned;     /* a 16-byte memory operand that must be 16-byte aligned */
    uint8_t flag_use; /* enum FlagUse: (U)COMISS/SD write ZF PF CF, clear OF SF AF */
    bool has_imm;     /* an imm8 ends the instruction */
} SseForm;

static bool sse_form(const Insn *in, SseForm *f)
{
    if (!insn_op_is_simd(in->op) || in->lock || in->op == OP_MASKMOVQ || in->op == OP_MASKMOVDQU ||
        in->opmap < 1 || in->opmap > 3) {
        return false;
    }
    const SimdDesc *sd = &simd_descs[in->op - OP_SIMD_FIRST];
    bool has_mmx = false, has_xmm = false;
    f->size = 0;
    f->access = ACC_READ;
    f->has_imm = false;
    for (int i = 0; i < in->nopnds; i++) {
        const Operand *o = &in->opnd[i];
        switch (o->kind) {
        case OPK_MMX: has_mmx = true; break;
        case OPK_XMM: has_xmm = true; break;
        case OPK_IMM: f->has_imm = true; break;
        case OPK_REG:
            if (o->reg == R_ESP || o->size != 4) {
                return false; /* R12 would need REX */
            }
            break;
        case OPK_MEM:
            f->size = o->size;
            f->access = i == 0 ? ACC_WRITE : ACC_READ;
            break;
        default: return false;
        }
    }
    if (sd->form == SIMD_XM_F || sd->form == SIMD_MX_F || (has_mmx && has_xmm)) {
        return false; /* both states at once: rare, a callout */
    }
    f->mmx = has_mmx || in->op == OP_EMMS;
    f->xmm = has_xmm || simd_form_fp(sd->form);
    f->aligned = f->size == 16 && !(sd->flags & SF_UNALIGNED);
    f->flag_use = sd->form == SIMD_FL_F ? FU_WRITE : FU_NONE;
    return f->size <= sizeof(((CPUState *)0)->bt_bounce);
}

/* cmp byte [r15+bt_sse_live], 0 ; j<cc> (rel8, bound by the caller).  Parks the flags. */
static uint8_t *gen_test_live(Gen *g, int cc)
{
    gen_clobber(g);
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_sse_live));
    emit_cmp8_imm(&g->e, &live, 0);
    return emit_jcc8(&g->e, cc);
}

static void emit_set_live(Emit *e, uint8_t v)
{
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_sse_live));
    emit_rm(e, 0, OPC_MOV_EbIb, 0, &live); /* mov byte [r15+bt_sse_live], v */
    emit_u8(e, v);
}

void emit_sse_save(Emit *e)
{
    for (int i = 0; i < 8; i++) {
        HostRM m = hrm_mem(H_R15, CPU_OFF(fpu.xmm[i]));
        emit_rm(e, 0, OPC_MOVUPS_WV, i, &m); /* movups [r15+fpu.xmm[i]], xmm<i> */
    }
    HostRM guest = hrm_mem(H_R15, CPU_OFF(fpu.mxcsr));
    emit_rm(e, 0, OPC_GRP15, EXT_STMXCSR, &guest); /* stmxcsr [r15+fpu.mxcsr] */
    HostRM host = hrm_mem(H_R15, CPU_OFF(bt_host_mxcsr));
    emit_rm(e, 0, OPC_GRP15, EXT_LDMXCSR, &host); /* ldmxcsr [r15+bt_host_mxcsr] */
    emit_set_live(e, 0);
}

void gen_sse_flush(Gen *g)
{
    if (g->sse == GEN_SSE_SAVED) {
        return;
    }
    uint8_t *skip = g->sse == GEN_SSE_UNKNOWN ? gen_test_live(g, CC_E) : NULL;
    g->sse = GEN_SSE_SAVED;
    emit_call32(&g->e, g->bt->sse_save); /* the stub (stubs.c): emit_sse_save ; ret */
    if (skip && !emit_bind8(&g->e, skip)) {
        g->failed = true;
    }
}

void gen_sse_reload(Gen *g)
{
    Emit *e = &g->e;
    for (int i = 0; i < 8; i++) {
        HostRM m = hrm_mem(H_R15, CPU_OFF(fpu.xmm[i]));
        emit_rm(e, 0, OPC_MOVUPS_VW, i, &m); /* movups xmm<i>, [r15+fpu.xmm[i]] */
    }
    HostRM guest = hrm_mem(H_R15, CPU_OFF(fpu.mxcsr));
    emit_rm(e, 0, OPC_GRP15, EXT_LDMXCSR, &guest); /* ldmxcsr [r15+fpu.mxcsr] */
    emit_set_live(e, 1);
    g->sse = GEN_SSE_LIVE;
}

/* The SSE state into the host, checking the mode at run time (see above). */
static void gen_sse_enter(Gen *g, const ScanInsn *si)
{
    if (g->sse == GEN_SSE_LIVE) {
        return;
    }
    uint8_t *live = g->sse == GEN_SSE_UNKNOWN ? gen_test_live(g, CC_NE) : NULL;
    g->sse = GEN_SSE_SAVED;
    gen_call(g, gen_callinfo(g, si, bt_helper_sse_enter));
    gen_sse_reload(g);
    if (live && !emit_bind8(&g->e, live)) {
        g->failed = true;
    }
}

/* Whether a prefix byte is kept in the host copy: not the segment
 * overrides (FS and GS would add the host's bases in 64-bit mode) nor the
 * address-size prefix (it would truncate r14). */
static bool prefix_kept(uint8_t b, bool mem)
{
    bool seg = b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
    return !(mem && (seg || b == 0x67));
}

/* The instruction as the host runs it; mem: its memory operand is [r14]. */
static void emit_sse_copy(Gen *g, const ScanInsn *si, bool mem)
{
    Emit *e = &g->e;
    const Insn *in = &si->insn;
    const uint8_t *b = si->bytes;
    SseForm f;
    sse_form(in, &f);
    for (int i = 0; i < in->prefix_len; i++) {
        if (prefix_kept(b[i], mem)) {
            emit_u8(e, b[i]);
        }
    }
    if (mem) {
        emit_u8(e, REX_B); /* rex.b: ModRM.rm 110 is r14 */
    }
    int opcode_len = in->opmap == 1 ? 2 : 3; /* 0F op, 0F 38 op, 0F 3A op */
    emit_bytes(e, b + in->prefix_len, (size_t)opcode_len);
    if (!in->has_modrm) {
        return; /* EMMS */
    }
    emit_u8(e, mem ? (uint8_t)(in->reg << 3 | 6) : in->modrm); /* mod 00, rm 110: [r14] */
    if (f.has_imm) {
        uint8_t imm = b[in->len - 1];
        if (simd_descs[in->op - OP_SIMD_FIRST].form == SIMD_CMP_F) {
            imm &= 7; /* the predicate; bits 7:3 are reserved (cpu/simd_host.c runs imm & 7) */
        }
        emit_u8(e, imm);
    }
}

static void emit_sse_mem(Gen *g, const MemOp *m)
{
    emit_sse_copy(g, m->si, true);
}

/* test r14d, 15 ; jnz misaligned: the out-of-line callout raises #GP(0). */
static void gen_check_aligned(Gen *g)
{
    Emit *e = &g->e;
    HostRM r14 = hrm_reg(H_R14);
    emit_rm(e, 0, OPC_GRP3_Ev, 0, &r14); /* test r14d, imm32 */
    emit_u32(e, 15);
    if (g->nmisaligned >= BT_MAX_INSNS) {
        g->failed = true;
        return;
    }
    GenMisaligned *ma = &g->misaligned[g->nmisaligned++];
    ma->jnz = emit_jcc32(e, CC_NE, NULL);
    ma->index = g->cur;
    ma->fpu = g->fpu;
    ma->sse = g->sse;
}

void gen_sse_stubs(Gen *g)
{
    for (int i = 0; i < g->nmisaligned; i++) {
        const GenMisaligned *ma = &g->misaligned[i];
        const ScanInsn *si = &g->scan->in[ma->index];
        emit_bind32(&g->e, ma->jnz);
        gen_page_forget(g);
        g->cur = ma->index;
        g->fl_host = false;
        g->fl_parked = true;
        g->fpu = ma->fpu;
        g->sse = ma->sse;
        gen_callout(g, si); /* the interpreter raises #GP(0) */
        gen_exit_nochain(g, si->eip + si->insn.len);
    }
}

bool gen_sse_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    SseForm f;
    if (!g->bt->sse_native || !sse_form(in, &f) || (f.mmx && !g->bt->x87_native)) {
        return false;
    }
    if (f.size && (in->seg == SEG_CS || key_seg_class(g->key, in->seg) == SEGCLASS_OTHER)) {
        return false; /* the access needs the interpreter's segment checks */
    }
    if (f.mmx) {
        gen_fpu_enter(g, si);
    } else {
        gen_sse_enter(g, si);
    }
    if (!f.size) {
        gen_flags_before(g, f.flag_use);
        emit_sse_copy(g, si, false);
        gen_flags_after(g, f.flag_use);
        return true;
    }
    gen_park(g);
    if (!gen_operand_linear(g, in)) {
        g->failed = true; /* cannot happen: the segment class was checked */
        return true;
    }
    if (f.aligned) {
        gen_check_aligned(g);
    }
    MemOp m = {
        .emit = emit_sse_mem,
        .si = si,
        .size = f.size,
        .access = f.access,
        .flag_use = f.flag_use,
        .next_eip = si->eip + in->len,
        .arg = -1,
        .prep = bt_helper_fpu_mem_prep,
        .commit = bt_helper_fpu_mem_commit,
    };
    gen_mem_access(g, &m);
    return true;
}
