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
 * 64-bit blocks run the same code: XMM0-15 live in the host's xmm0-15
 * (XMM8-15 from CPUState.xmm_hi), an instruction is re-encoded with its
 * REX rebuilt (emit_sse_copy64: a general register operand is its host
 * register, RSP R12, or r9 for R8-R15 in CPUState), and a memory operand
 * is gen64.c's (gen64_operand_addr: an FS or GS base added as it runs,
 * 67h's 32-bit addressing; RIP-relative: a constant, its alignment checked
 * at translation unless a base comes with it).
 *
 * XMM state.  The guest's XMM registers and MXCSR live in CPUState.fpu,
 * or in the host's xmm0-7 (xmm0-15 in 64-bit blocks) and MXCSR from the
 * first native SSE instruction until the next C call or the return to the
 * run loop, across chained blocks, as gen_fpu.c keeps the x87 state:
 * CPUState.bt_sse_live says which at run time, Gen.sse at translation time.
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
#include "translator/gen64.h"

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
    int8_t gpr;       /* the general-register operand's index, or -1 */
    bool gpr_in_reg;  /* it is ModRM.reg's (else ModRM.rm's) */
} SseForm;

/*
 * Where a general register operand sits: ModRM.reg for a destination
 * (CVTSS2SI, PMOVMSKB, PEXTRW, MOVMSKPS) or with a memory operand, else
 * ModRM.rm (MOVD/MOVQ both ways, CVTSI2SS, PINSRW).  In 64-bit mode the
 * register must be that field's (REX included); anything else would be a
 * decoder this file does not know, and is a callout.
 */
static bool sse_gpr_field(const Insn *in, SseForm *f)
{
    f->gpr_in_reg = f->size || (f->gpr == 0 && in->op != OP_MOVD && in->op != OP_MOVQ);
    int want = f->gpr_in_reg ? g64_reg_reg(in) : g64_rm_reg(in);
    return in->opnd[f->gpr].reg == want;
}

static bool sse_form(const Insn *in, bool code64, SseForm *f)
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
    f->gpr = -1;
    for (int i = 0; i < in->nopnds; i++) {
        const Operand *o = &in->opnd[i];
        switch (o->kind) {
        case OPK_MMX: has_mmx = true; break;
        case OPK_XMM: has_xmm = true; break;
        case OPK_IMM: f->has_imm = true; break;
        case OPK_REG: {
            /* PINSRW names a 32-bit register and reads its low word */
            int size = o->size == 2 && in->op == OP_PINSRW ? 4 : o->size;
            if (code64 ? size != 4 && size != 8 : o->reg == R_ESP || size != 4) {
                return false; /* 32-bit code: R12 would need REX */
            }
            f->gpr = (int8_t)i;
            break;
        }
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
    if (code64 && f->gpr >= 0 && !sse_gpr_field(in, f)) {
        return false;
    }
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

/* The same with a rel32 (bound with emit_bind32): the load it skips is
 * over 127 bytes in 64-bit blocks (sixteen MOVUPS). */
static uint8_t *gen_test_live32(Gen *g, int cc)
{
    gen_clobber(g);
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_sse_live));
    emit_cmp8_imm(&g->e, &live, 0);
    return emit_jcc32(&g->e, cc, NULL);
}

static void emit_set_live(Emit *e, uint8_t v)
{
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_sse_live));
    emit_rm(e, 0, OPC_MOV_EbIb, 0, &live); /* mov byte [r15+bt_sse_live], v */
    emit_u8(e, v);
}

/* The place of guest XMM register i in CPUState: fpu.xmm, or xmm_hi for XMM8-15. */
static HostRM xmm_home(int i)
{
    return hrm_mem(H_R15, i < 8 ? CPU_OFF(fpu.xmm[i]) : CPU_OFF(xmm_hi[i - 8]));
}

/* xmm0-7, or xmm0-15 for 64-bit code: the registers the guest can name
 * (XMM8-15 need REX); 32-bit code leaves the high eight in CPUState. */
static int xmm_count(bool wide)
{
    return wide ? 16 : 8;
}

void emit_sse_save(Emit *e, bool wide)
{
    for (int i = 0; i < xmm_count(wide); i++) {
        HostRM m = xmm_home(i);
        emit_rm(e, 0, OPC_MOVUPS_WV, i, &m); /* movups [r15+..], xmm<i> */
    }
    HostRM guest = hrm_mem(H_R15, CPU_OFF(fpu.mxcsr));
    emit_rm(e, 0, OPC_GRP15, EXT_STMXCSR, &guest); /* stmxcsr [r15+fpu.mxcsr] */
    HostRM host = hrm_mem(H_R15, CPU_OFF(bt_host_mxcsr));
    emit_rm(e, 0, OPC_GRP15, EXT_LDMXCSR, &host); /* ldmxcsr [r15+bt_host_mxcsr] */
    emit_set_live(e, 0);
}

static bool gen_wide(const Gen *g)
{
    return (g->key & KEY_CODE64) != 0;
}

void gen_sse_flush(Gen *g)
{
    if (g->sse == GEN_SSE_SAVED) {
        return;
    }
    if (gen_wide(g) && g->sse == GEN_SSE_UNKNOWN && g->fpu == GEN_FPU_UNKNOWN) {
        /* both tests, and the x87 save, in one stub (stubs.c): 64-bit code
         * has many callouts */
        gen_clobber(g);
        gen_page_forget(g); /* the x87 save calls C */
        emit_call32(&g->e, g->bt->state_flush64);
        g->sse = GEN_SSE_SAVED;
        g->fpu = GEN_FPU_SAVED;
        return;
    }
    uint8_t *skip = g->sse == GEN_SSE_UNKNOWN ? gen_test_live(g, CC_E) : NULL;
    g->sse = GEN_SSE_SAVED;
    /* the stub (stubs.c): emit_sse_save ; ret */
    emit_call32(&g->e, gen_wide(g) ? g->bt->sse_save64 : g->bt->sse_save);
    if (skip && !emit_bind8(&g->e, skip)) {
        g->failed = true;
    }
}

void gen_sse_reload(Gen *g)
{
    Emit *e = &g->e;
    for (int i = 0; i < xmm_count(gen_wide(g)); i++) {
        HostRM m = xmm_home(i);
        emit_rm(e, 0, OPC_MOVUPS_VW, i, &m); /* movups xmm<i>, [r15+..] */
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
    uint8_t *live = g->sse == GEN_SSE_UNKNOWN ? gen_test_live32(g, CC_NE) : NULL;
    g->sse = GEN_SSE_SAVED;
    gen_call(g, gen_callinfo(g, si, bt_helper_sse_enter));
    gen_sse_reload(g);
    if (live) {
        emit_bind32(&g->e, live);
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

/* The imm8 that ends the instruction, as the host runs it. */
static void emit_sse_imm(Gen *g, const ScanInsn *si)
{
    uint8_t imm = si->bytes[si->insn.len - 1];
    if (simd_descs[si->insn.op - OP_SIMD_FIRST].form == SIMD_CMP_F) {
        imm &= 7; /* the predicate; bits 7:3 are reserved (cpu/simd_host.c runs imm & 7) */
    }
    emit_u8(&g->e, imm);
}

/* The instruction as the host runs it in a 32-bit block; mem: its memory operand is [r14]. */
static void emit_sse_copy32(Gen *g, const ScanInsn *si, const SseForm *f, bool mem)
{
    Emit *e = &g->e;
    const Insn *in = &si->insn;
    const uint8_t *b = si->bytes;
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
    if (f->has_imm) {
        emit_sse_imm(g, si);
    }
}

/*
 * The same in a 64-bit block.  XMM n is host xmm n and an MMX register is
 * itself, so only a general register operand changes: RAX..RDI are
 * themselves, RSP is R12, and R8-R15 (in CPUState) go through r9, loaded
 * before a source and stored after a destination at 64 bits (a 32-bit
 * destination's host write zero-extends, as the guest's does).  The REX
 * prefix is rebuilt: W as the guest's, R and B from the host fields.
 */
static void emit_sse_copy64(Gen *g, const ScanInsn *si, const SseForm *f, bool mem)
{
    Emit *e = &g->e;
    const Insn *in = &si->insn;
    const uint8_t *b = si->bytes;
    int reg = g64_reg_reg(in), rm = g64_rm_reg(in);
    int gpr = f->gpr >= 0 ? in->opnd[f->gpr].reg : -1;
    if (gpr >= 0) {
        int host = g64_pinned(gpr) ? hreg(gpr) : H_R9;
        if (f->gpr_in_reg) {
            reg = host;
        } else {
            rm = host;
        }
        if (!g64_pinned(gpr) && f->gpr != 0) {
            emit_load64(e, H_R9, H_R15, g64_reg_off(gpr)); /* mov r9, [r15+regs+8*gpr] */
        }
    }
    for (int i = 0; i < in->prefix_len; i++) {
        if (b[i] == 0x66 || b[i] == 0xf2 || b[i] == 0xf3) {
            emit_u8(e, b[i]); /* mandatory prefixes, in their order */
        }
    }
    uint8_t rex = (uint8_t)(0x40 | (in->rex & INSN_REX_W) | (reg >= 8 ? INSN_REX_R : 0) |
                            (mem || rm >= 8 ? INSN_REX_B : 0));
    if (rex != 0x40) {
        emit_u8(e, rex);
    }
    int opcode_len = in->opmap == 1 ? 2 : 3;
    emit_bytes(e, b + in->prefix_len, (size_t)opcode_len);
    if (in->has_modrm) {
        /* mod 00 rm 110 with REX.B: [r14] */
        emit_u8(e, (uint8_t)((mem ? 0x06 : 0xc0 | (rm & 7)) | (reg & 7) << 3));
        if (f->has_imm) {
            emit_sse_imm(g, si);
        }
    }
    if (gpr >= 0 && !g64_pinned(gpr) && f->gpr == 0) {
        emit_store64(e, H_R15, g64_reg_off(gpr), H_R9); /* mov [r15+regs+8*gpr], r9 */
    }
}

static void emit_sse_copy(Gen *g, const ScanInsn *si, bool mem)
{
    SseForm f;
    bool wide = gen_wide(g);
    sse_form(&si->insn, wide, &f);
    if (wide) {
        emit_sse_copy64(g, si, &f, mem);
    } else {
        emit_sse_copy32(g, si, &f, mem);
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
    if (!g->bt->sse_native || !sse_form(in, gen_wide(g), &f) || (f.mmx && !g->bt->x87_native)) {
        return false;
    }
    bool wide = gen_wide(g);
    if (f.size && !(wide ? in->adsize != 2 : gen_fpmem_ok(g, in))) {
        return false; /* the access needs the interpreter's segment checks */
    }
    uint64_t rip_ea = 0;
    bool based = in->seg == SEG_FS || in->seg == SEG_GS; /* 64-bit: a base added as it runs */
    bool rip = f.size && !based && in->adsize == 8 && gen_fpmem_rip(g, si, &rip_ea);
    if (rip && f.aligned && (rip_ea & 15)) {
        return false; /* a constant misaligned address: the interpreter raises #GP(0) */
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
    MemOp m = {
        .emit = emit_sse_mem,
        .si = si,
        .size = f.size,
        .access = f.access,
        .flag_use = f.flag_use,
        .next_eip = (uint32_t)(si->eip + in->len),
        .arg = -1,
    };
    if (wide) {
        /* gen64.c's address: FS and GS bases, RIP-relative and 67h operands */
        m.prep = bt_helper_fpu64_prep;
        m.commit = bt_helper_fpu64_commit;
        if (!gen64_operand_addr(g, si)) {
            g->failed = true; /* cannot happen: the address size was checked */
            return true;
        }
    } else {
        gen_fpmem_linear(g, si, &m);
    }
    if (f.aligned && !rip) {
        gen_check_aligned(g);
    }
    gen_mem_access(g, &m);
    return true;
}
