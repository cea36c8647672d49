/*
 * x87 instructions as host x87 instructions.
 *
 * The host FPU is the guest's (same format, same rounding under PC and RC,
 * same NaN rules and masked responses), so an x87 instruction runs as
 * itself: the escape byte and ModRM are copied, a memory operand becomes
 * [r14] through the inline TLB check (gen_mem.c), whose slow path runs the
 * same instruction on the bounce buffer.
 *
 * State.  The guest's x87 state lives in CPUState.fpu, or in the host FPU
 * from the first native x87 instruction until the next C call (a callout,
 * a slow path's helper) or the return to the run loop: across block exits,
 * chained jumps and jump-cache lookups, so a hot loop of several blocks
 * loads it once.  CPUState.bt_fpu_live says which at run time; within a
 * block the generator knows it after the first x87 instruction or C call
 * (Gen.fpu: unknown at entry, then saved or live), and tests the flag only
 * while it does not:
 *   enter:  [cmp byte [r15+bt_fpu_live], 0 ; jne live]
 *           lea r9, [rip+ci] ; call thunk   ; bt_helper_fpu_enter builds the image
 *           frstor [r15+bt_fpu_img] ; mov byte [r15+bt_fpu_live], 1
 *   live:
 *   flush:  [cmp byte [r15+bt_fpu_live], 0 ; je saved]
 *           fnsave [r15+bt_fpu_img]          ; also empties the host FPU (FNINIT)
 *           lea r9, [rip+ci] ; call thunk   ; bt_helper_fpu_save reads it back, clears the flag
 *   saved:
 * gen_call() flushes before every C call and bt_run_tb() (bt_fpu_sync)
 * right after translated code returns, so the host FPU is empty, under
 * the host's control word, whenever popek's own C code runs (the SysV ABI
 * requires it, and cpu/fpu_host.c uses the x87), and a fault, an
 * interrupt or the interpreter always finds CPUState.fpu exact.  A slow
 * path, having flushed for its helper, reloads the image it saved
 * (frstor alone: the helpers do not touch the x87 state).
 *
 * The common case only.  bt_helper_fpu_enter checks at each stretch's start
 * that CR0.EM and CR0.TS are clear and that the guest's control word masks
 * all six exceptions with none pending; otherwise it runs that instruction
 * in the interpreter (#NM, #UD, #MF, FERR# as cpu_exec() has them) and
 * leaves.  With everything masked, native execution cannot raise anything:
 * every exception's masked response is the hardware's own, exactly what
 * the interpreter gets from the same hardware.  Instructions that load a
 * control word or an environment, FNINIT, FNCLEX, the environment stores,
 * the reserved aliases (FSTP1, FCOM2, FXCH4, FFREEP, ...) and
 * anything with a LOCK prefix stay callouts, which end the stretch.
 *
 * FIP, FCS, FOP, FDP and FDS are stored into CPUState.fpu after each
 * non-control instruction, the guest's values, as cpu/fpu.c does; the
 * host's (host addresses) are dropped at the save.
 *
 * 64-bit blocks run the same code, their memory operands (and gen_sse.c's)
 * addressed by gen_fpmem_linear below with gen64.c's scheme; FIP and FDP
 * are the low halves of RIP and of the offset, as cpu/fpu.c keeps them.
 */
#include "cpu/fpu_internal.h"
#include "translator/gen64.h"

/* What one x87 encoding is, for native emission. */
typedef struct FpuForm {
    uint8_t size;     /* memory operand bytes; 0: register form */
    uint8_t access;   /* ACC_READ or ACC_WRITE */
    bool note;        /* a non-control instruction: updates FIP/FOP (and FDP) */
    uint8_t flag_use; /* enum FlagUse: FCMOVcc reads, FCOMI writes EFLAGS */
} FpuForm;

/* Memory forms by escape and ModRM.reg: the operand size, 0 = callout;
 * negative: a store. */
static const int8_t fpu_mem_size[8][8] = {
    {4, 4, 4, 4, 4, 4, 4, 4},      /* D8: arithmetic and compare, m32real */
    {4, 0, -4, -4, 0, 0, 0, -2},   /* D9: FLD, FST, FSTP m32real; FLDENV, FLDCW, FNSTENV; FNSTCW */
    {4, 4, 4, 4, 4, 4, 4, 4},      /* DA: m32int */
    {4, 0, -4, -4, 0, 10, 0, -10}, /* DB: FILD, FIST, FISTP m32int; FLD, FSTP m80real */
    {8, 8, 8, 8, 8, 8, 8, 8},      /* DC: m64real */
    {8, 0, -8, -8, 0, 0, 0, -2},   /* DD: FLD, FST, FSTP m64real; FRSTOR, FNSAVE; FNSTSW m16 */
    {2, 2, 2, 2, 2, 2, 2, 2},      /* DE: m16int */
    {2, 0, -2, -2, 10, 8, -10,
     -8}, /* DF: FILD, FIST, FISTP m16int; FBLD, FILD m64, FBSTP, FISTP m64 */
};

/* Register forms: esc * 64 + (ModRM & 0x3f). */
static bool fpu_reg_form(int esc, int low, FpuForm *f)
{
    f->size = 0;
    f->access = ACC_READ;
    f->note = true;
    f->flag_use = FU_NONE;
    switch (esc) {
    case 0: return true; /* D8: ST(0) op ST(i), FCOM, FCOMP */
    case 1:              /* D9 */
        return low <= 0x10 || low == 0x20 || low == 0x21 || low == 0x24 || low == 0x25 ||
               (low >= 0x28 && low <= 0x2e) || low >= 0x30;
    case 2: /* DA: FCMOVB/E/BE/U, FUCOMPP */
        if (low < 0x20) {
            f->flag_use = FU_READ;
            return true;
        }
        return low == 0x29;
    case 3: /* DB: FCMOVNB/NE/NBE/NU, FUCOMI, FCOMI */
        if (low < 0x20) {
            f->flag_use = FU_READ;
            return true;
        }
        if (low >= 0x28 && low < 0x38) {
            f->flag_use = FU_WRITE; /* ZF PF CF set, OF SF AF cleared */
            return true;
        }
        return false;
    case 4: return low < 0x10 || low >= 0x20;                 /* DC: not the FCOM2/FCOMP3 aliases */
    case 5: return low < 0x08 || (low >= 0x10 && low < 0x30); /* DD: FFREE, FST, FSTP, FUCOM(P) */
    case 6: return low < 0x10 || low == 0x19 || low >= 0x20;  /* DE: not FCOMP5 */
    default:                                                  /* DF */
        if (low == 0x20) {
            f->note = false; /* FNSTSW AX: a control instruction */
            return true;
        }
        if (low >= 0x28 && low < 0x38) {
            f->flag_use = FU_WRITE; /* FUCOMIP, FCOMIP */
            return true;
        }
        return false;
    }
}

static bool fpu_form(const Insn *in, FpuForm *f)
{
    if (in->op != OP_FPU || in->lock || in->opcode < 0xd8) {
        return false;
    }
    int esc = in->opcode & 7;
    if (in->mod == 3) {
        return fpu_reg_form(esc, in->modrm & 0x3f, f);
    }
    int s = fpu_mem_size[esc][in->reg];
    if (s == 0) {
        return false;
    }
    f->size = (uint8_t)(s < 0 ? -s : s);
    f->access = s < 0 ? ACC_WRITE : ACC_READ;
    /* FNSTSW m16 and FNSTCW m16 are control instructions; the host's
     * control word is the guest's while the state is live. */
    f->note = !((esc == 5 || esc == 1) && in->reg == 7);
    f->flag_use = FU_NONE;
    return true;
}

bool bt_fpu_native_insn(const Insn *insn)
{
    FpuForm f;
    return fpu_form(insn, &f);
}

/*
 * The memory operand of an x87, MMX or SSE instruction, in a block of
 * either width: 32-bit blocks address it through gen_mem.c with the
 * segment's class, 64-bit blocks through gen64.c's addressing (a
 * RIP-relative address is a constant; FS and GS overrides and 67h are
 * callouts), and their slow path takes the address from the instruction
 * as the interpreter does (bt_helper_fpu64_prep/commit: #GP(0) or #SS(0)
 * off the canonical range).
 */
bool gen_fpmem_ok(const Gen *g, const Insn *in)
{
    if (g->key & KEY_CODE64) {
        return in->adsize == 8 && in->seg != SEG_FS && in->seg != SEG_GS;
    }
    return in->seg != SEG_CS && key_seg_class(g->key, in->seg) != SEGCLASS_OTHER;
}

bool gen_fpmem_rip(const Gen *g, const ScanInsn *si, uint64_t *ea)
{
    if (!(g->key & KEY_CODE64) || si->insn.base != INSN_BASE_RIP) {
        return false;
    }
    *ea = si->eip + si->insn.len + (uint64_t)(int64_t)si->insn.disp;
    return true;
}

void gen_fpmem_linear(Gen *g, const ScanInsn *si, MemOp *m)
{
    const Insn *in = &si->insn;
    uint64_t ea;
    gen_park(g);
    if (!(g->key & KEY_CODE64)) {
        m->prep = bt_helper_fpu_mem_prep;
        m->commit = bt_helper_fpu_mem_commit;
        if (!gen_operand_linear(g, in)) {
            g->failed = true; /* cannot happen: gen_fpmem_ok said yes */
        }
        return;
    }
    m->prep = bt_helper_fpu64_prep;
    m->commit = bt_helper_fpu64_commit;
    if (gen_fpmem_rip(g, si, &ea)) {
        emit_mov_r64_imm(&g->e, H_R14, ea);
        g->lin_known = false;
        gen_lin_const(g, ea); /* a constant's address: its TLB slot is known */
    } else if (!gen64_operand_linear(g, in)) {
        g->failed = true; /* cannot happen: gen_fpmem_ok said yes */
    }
}

/* frstor/fnsave [r15+bt_fpu_img]: DD /4, DD /6 */
static void emit_fpu_image(Gen *g, int ext)
{
    HostRM img = hrm_mem(H_R15, CPU_OFF(bt_fpu_img));
    emit_rm(&g->e, 0, 0xdd, ext, &img);
}

/* cmp byte [r15+bt_fpu_live], 0 ; j<cc> (rel8, bound by the caller).  Parks the flags. */
static uint8_t *gen_test_live(Gen *g, int cc)
{
    gen_clobber(g);
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_fpu_live));
    emit_cmp8_imm(&g->e, &live, 0);
    return emit_jcc8(&g->e, cc);
}

/* mov byte [r15+bt_fpu_live], v */
static void gen_set_live(Gen *g, uint8_t v)
{
    HostRM live = hrm_mem(H_R15, CPU_OFF(bt_fpu_live));
    emit_rm(&g->e, 0, OPC_MOV_EbIb, 0, &live);
    emit_u8(&g->e, v);
}

void gen_fpu_flush(Gen *g)
{
    if (g->fpu == GEN_FPU_SAVED) {
        return;
    }
    uint8_t *skip = g->fpu == GEN_FPU_UNKNOWN ? gen_test_live(g, CC_E) : NULL;
    g->fpu = GEN_FPU_SAVED;
    emit_fpu_image(g, 6); /* fnsave */
    if (!g->fpu_save_ci) {
        g->fpu_save_ci = gen_callinfo(g, &g->scan->in[g->cur], bt_helper_fpu_save);
    }
    gen_call(g, g->fpu_save_ci); /* clears bt_fpu_live */
    if (skip && !emit_bind8(&g->e, skip)) {
        g->failed = true;
    }
}

void gen_fpu_reload(Gen *g)
{
    emit_fpu_image(g, 4); /* frstor */
    gen_set_live(g, 1);
    g->fpu = GEN_FPU_LIVE;
}

/* The instruction on [r14]: its escape byte, its ModRM.reg, REX.B for r14. */
static void emit_fpu_mem(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, 0, m->imm, m->arg, &r14);
}

/* mov r9d, sel ; mov word [r15+field], r9w: a selector into FCS or FDS. */
static void emit_note_selector(Gen *g, int seg, int32_t field)
{
    Emit *e = &g->e;
    HostRM sel = hrm_mem(H_R15, CPU_OFF(seg[seg].selector));
    emit_rm(e, 0, OPC_MOVZX_GvEw, H_R9, &sel); /* movzx r9d, word [..] */
    HostRM dst = hrm_mem(H_R15, field);
    emit_rm(e, EMIT_66, OPC_MOV_EvGv, H_R9, &dst); /* mov [..], r9w */
}

/* What cpu/fpu.c's fpu_note_insn records, after the instruction. */
static void gen_fpu_note(Gen *g, const ScanInsn *si)
{
    Emit *e = &g->e;
    const Insn *in = &si->insn;
    emit_store32_imm(e, H_R15, CPU_OFF(fpu.fip), si->eip);
    HostRM fop = hrm_mem(H_R15, CPU_OFF(fpu.fop));
    emit_rm(e, EMIT_66, OPC_MOV_EvIz, 0, &fop); /* mov word [..], imm16 */
    emit_u16(e, (uint16_t)(((in->opcode & 7u) << 8) | in->modrm));
    emit_note_selector(g, SEG_CS, CPU_OFF(fpu.fcs));
    if (in->mod != 3) {
        uint64_t ea;
        if (gen_fpmem_rip(g, si, &ea)) {
            emit_mov_r32_imm(e, H_R9, (uint32_t)ea); /* FDP is 32 bits: the offset's low half */
        } else if (in->base == REG_NONE && in->index == REG_NONE) {
            emit_mov_r32_imm(e, H_R9, (uint32_t)in->disp);
        } else if (g->key & KEY_CODE64) {
            /* r14 is free after the access; R8-R15 come from CPUState */
            int base = in->base == REG_NONE ? H_NONE : g64_reg_to_host(g, in->base, H_R9);
            int index = in->index == REG_NONE ? H_NONE : g64_reg_to_host(g, in->index, H_R14);
            HostRM m = hrm_sib(base, index, in->scale, in->disp);
            emit_lea32(e, H_R9, &m);
        } else {
            HostRM m =
                hrm_sib(in->base == REG_NONE ? H_NONE : hreg(in->base),
                        in->index == REG_NONE ? H_NONE : hreg(in->index), in->scale, in->disp);
            emit_lea32(e, H_R9, &m);
        }
        if (in->adsize == 2) {
            emit_movzx16(e, H_R9, H_R9);
        }
        emit_store32(e, H_R15, CPU_OFF(fpu.fdp), H_R9);
        emit_note_selector(g, in->seg, CPU_OFF(fpu.fds));
    }
}

void gen_fpu_enter(Gen *g, const ScanInsn *si)
{
    if (g->fpu == GEN_FPU_LIVE) {
        return;
    }
    /* [cmp byte [r15+bt_fpu_live], 0 ; jne live] call enter ; frstor ; live: */
    uint8_t *live = g->fpu == GEN_FPU_UNKNOWN ? gen_test_live(g, CC_NE) : NULL;
    g->fpu = GEN_FPU_SAVED;
    gen_call(g, gen_callinfo(g, si, bt_helper_fpu_enter));
    gen_fpu_reload(g);
    if (live && !emit_bind8(&g->e, live)) {
        g->failed = true;
    }
}

/*
 * FLDCW m16 runs natively while the word it loads keeps all six exceptions
 * masked (compilers switch RC to truncate around every FISTP of a C cast,
 * and back): then the host FPU, holding the guest's state, takes the new
 * control word and stays fit to run natively.  The word must also be one
 * the interpreter keeps as it is (reserved bits clear, bit 6 set: cpu/
 * fpu_env.c), so the host's copy is the guest's exactly.  Any other word
 * leaves out of line to the interpreter, which loads it, and the block
 * leaves (bt_helper_fpu_interp_leave); the test runs on the slow path's
 * bounce buffer too:
 *     movzx r9d, word [r14] ; and r9d, RESERVED|MASKS ; cmp r9d, BIT6|MASKS ; jne other
 *     fldcw [r14]
 *   other: <callout: the interpreter's FLDCW, leave>
 */
static void emit_fldcw_op(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(e, 0, OPC_MOVZX_GvEw, H_R9, &r14);
    HostRM r9 = hrm_reg(H_R9);
    emit_alu32_imm(e, EXT_AND, &r9, (int32_t)(FCW_RESERVED | FCW_EXC_MASKS));
    emit_alu32_imm(e, EXT_CMP, &r9, (int32_t)(FCW_BIT6 | FCW_EXC_MASKS));
    uint8_t *jnz = emit_jcc32(e, CC_NE, NULL);
    if (g->nfldcw < (int)(sizeof(g->fldcw_unmask) / sizeof(g->fldcw_unmask[0]))) {
        g->fldcw_unmask[g->nfldcw++] =
            (GenMisaligned){.jnz = jnz, .index = g->cur, .fpu = GEN_FPU_LIVE, .sse = g->sse};
    } else {
        g->failed = true;
    }
    emit_rm(e, 0, 0xd9, 5, &r14); /* fldcw [r14] */
    (void)m;
}

void gen_fpu_stubs(Gen *g)
{
    for (int i = 0; i < g->nfldcw; i++) {
        const GenMisaligned *u = &g->fldcw_unmask[i];
        emit_bind32(&g->e, u->jnz);
        gen_page_forget(g);
        g->cur = u->index;
        g->fl_host = false;
        g->fl_parked = true; /* the access ran with them parked */
        g->fpu = u->fpu;
        g->sse = u->sse;
        gen_call(g, gen_callinfo(g, &g->scan->in[u->index], bt_helper_fpu_interp_leave));
        emit_u8(&g->e, 0x0f); /* ud2: the helper always leaves */
        emit_u8(&g->e, 0x0b);
    }
}

static bool gen_fldcw(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (!gen_fpmem_ok(g, in)) {
        return false;
    }
    gen_fpu_enter(g, si);
    MemOp m = {
        .emit = emit_fldcw_op,
        .si = si,
        .size = 2,
        .access = ACC_READ,
        .flag_use = FU_NONE,
        .next_eip = (uint32_t)(si->eip + in->len),
        .arg = -1,
    };
    gen_fpmem_linear(g, si, &m);
    gen_mem_access(g, &m);
    return true;
}

bool gen_fpu_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    FpuForm f;
    if (g->bt->x87_native && in->op == OP_FPU && !in->lock && in->opcode == 0xd9 && in->mod != 3 &&
        in->reg == 5) {
        return gen_fldcw(g, si);
    }
    if (!g->bt->x87_native || !fpu_form(in, &f)) {
        return false;
    }
    if (f.size && !gen_fpmem_ok(g, in)) {
        return false; /* the access needs the interpreter's segment checks, or FS/GS */
    }
    Emit *e = &g->e;
    gen_fpu_enter(g, si);
    if (f.size) {
        MemOp m = {
            .emit = emit_fpu_mem,
            .si = si,
            .size = f.size,
            .access = f.access,
            .flag_use = FU_NONE,
            .next_eip = (uint32_t)(si->eip + in->len),
            .arg = in->reg,
            .imm = in->opcode,
        };
        gen_fpmem_linear(g, si, &m);
        gen_mem_access(g, &m);
    } else {
        gen_flags_before(g, f.flag_use);
        emit_u8(e, in->opcode);
        emit_u8(e, in->modrm);
        gen_flags_after(g, f.flag_use);
    }
    if (f.note) {
        gen_fpu_note(g, si);
    }
    return true;
}
