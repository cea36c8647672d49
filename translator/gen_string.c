/*
 * String instructions without a REP prefix, emitted natively: MOVS, STOS,
 * LODS, CMPS and SCAS with a 32-bit address size.  (REP MOVS and REP STOS
 * have an inline run and their own helper, helpers_string.c, in 32-bit
 * and 64-bit blocks; the other REP forms, 16-bit addressing, INS and OUTS
 * are callouts.)
 *
 * Each element access goes through the inline TLB check like any memory
 * operand (gen_mem.c): the source at seg:ESI (DS unless overridden; a CS
 * override is a callout), the destination or second operand at ES:EDI.
 * The accesses run in the interpreter's order (cpu/ops_string.c: source
 * first), and ESI and EDI move only in the emitter of the last access, so
 * a fault in either leaves every register as it was.  A first access's
 * value waits in CPUState.bt_target while the second one's TLB check
 * uses r9-r11, as PUSH m does (gen_flow.c).
 *
 * The step is +size or -size by the guest's DF, which lives in
 * cpu->eflags, never in the host (host DF stays clear).  It is computed
 * without a branch, before anything that sets the guest's flags:
 *     mov r9d, [r15+eflags] ; shr r9d, 10 ; and r9d, 1 ; neg r9d   ; 0 or -1
 *     lea esi, [rsi + r9*2size + size]                             ; +size or -size
 * (LEA changes no flags and its 32-bit result wraps as the guest's does.)
 * Every access runs with the guest's flags parked, so the host flags are
 * free until CMPS/SCAS compare.
 */
#include "translator/gen.h"

/* r9d = 0 when DF is clear, 0xffffffff when set.  Clobbers host flags. */
static void emit_df_mask(Gen *g)
{
    Emit *e = &g->e;
    HostRM r9 = hrm_reg(H_R9);
    emit_load32(e, H_R9, H_R15, CPU_OFF(eflags));
    emit_shift32_imm(e, EXT_SHR, H_R9, 10); /* EFLAGS_DF is bit 10 */
    emit_alu32_imm(e, EXT_AND, &r9, 1);
    emit_rm(e, 0, OPC_GRP3_Ev, EXT_NEG, &r9);
}

_Static_assert(EFLAGS_DF == 1u << 10, "emit_df_mask's shift");

/* lea reg32, [reg + r9*2size + size]: the index register's step. */
static void emit_index_step(Gen *g, int reg, int size)
{
    int scale = size == 1 ? 1 : size == 2 ? 2 : 3;
    HostRM m = hrm_sib(reg, H_R9, scale, size);
    emit_lea32(&g->e, reg, &m);
}

/* Opcode and prefix of a size-byte "mov/cmp reg, r/m" or "mov r/m, reg". */
static unsigned size_flags(int size)
{
    return size == 2 ? EMIT_66 : 0;
}

static unsigned sized_opc(unsigned opc_v, int size)
{
    return size == 1 ? opc_v - 1 : opc_v; /* 8B->8A, 89->88, 3B->3A */
}

/* mov r9, [r14] ; mov [r15+bt_target], r9: the first access's value (MOVS, CMPS). */
static void emit_stash_op(Gen *g, const MemOp *m)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_GvEv, m->size), H_R9, &r14);
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_EvGv, m->size), H_R9, &tmp);
}

/* MOVS, the store: mov r9, [bt_target] ; mov [r14], r9 ; step ESI and EDI. */
static void emit_movs_op(Gen *g, const MemOp *m)
{
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_GvEv, m->size), H_R9, &tmp);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_EvGv, m->size), H_R9, &r14);
    emit_df_mask(g);
    emit_index_step(g, H_RSI, m->size);
    emit_index_step(g, H_RDI, m->size);
}

/* STOS: step mask ; mov [r14], al/ax/eax ; step EDI. */
static void emit_stos_op(Gen *g, const MemOp *m)
{
    emit_df_mask(g);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_EvGv, m->size), H_RAX, &r14);
    emit_index_step(g, H_RDI, m->size);
}

/* LODS: step mask ; mov al/ax/eax, [r14] ; step ESI.  (A byte or word load
 * keeps the rest of EAX, as the guest's does.) */
static void emit_lods_op(Gen *g, const MemOp *m)
{
    emit_df_mask(g);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_GvEv, m->size), H_RAX, &r14);
    emit_index_step(g, H_RSI, m->size);
}

/* SCAS: step mask ; cmp al/ax/eax, [r14] (flags of EAX - m) ; step EDI. */
static void emit_scas_op(Gen *g, const MemOp *m)
{
    emit_df_mask(g);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_CMP_GvEv, m->size), H_RAX, &r14);
    emit_index_step(g, H_RDI, m->size);
}

/* CMPS, the second access: step mask ; mov r10, [bt_target] ;
 * cmp r10, [r14] (flags of [ESI] - [EDI]) ; step ESI and EDI.  r10 is the
 * last page's base (gen_mem.c): forgotten here. */
static void emit_cmps_op(Gen *g, const MemOp *m)
{
    gen_page_forget(g);
    emit_df_mask(g);
    HostRM tmp = hrm_mem(H_R15, CPU_OFF(bt_target));
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_MOV_GvEv, m->size), H_R10, &tmp);
    HostRM r14 = hrm_mem(H_R14, 0);
    emit_rm(&g->e, size_flags(m->size), sized_opc(OPC_CMP_GvEv, m->size), H_R10, &r14);
    emit_index_step(g, H_RSI, m->size);
    emit_index_step(g, H_RDI, m->size);
}

/* r14d = the linear address of seg:reg; false if seg needs a callout. */
static bool gen_string_linear(Gen *g, int seg, int reg)
{
    if (seg == SEG_CS || key_seg_class(g->key, seg) == SEGCLASS_OTHER) {
        return false;
    }
    emit_mov_rr32(&g->e, H_R14, reg);
    if (key_seg_class(g->key, seg) == SEGCLASS_BASED) {
        HostRM base = hrm_mem(H_R15, CPU_OFF(seg[seg].base));
        emit_rm(&g->e, 0, OPC_ADD_EvGv + 2, H_R14, &base); /* add r14d, [..base] */
    }
    return true;
}

static void memop_string(MemOp *m, const ScanInsn *si, MemOpEmit emit, int access, int flag_use)
{
    *m = (MemOp){.emit = emit,
                 .si = si,
                 .size = (uint8_t)si->insn.opnd[0].size,
                 .access = (uint8_t)access,
                 .flag_use = (uint8_t)flag_use,
                 .next_eip = si->eip + si->insn.len,
                 .arg = -1};
}

/* One access of the instruction at seg:reg. */
static bool gen_string_access(Gen *g, const ScanInsn *si, int seg, int reg, MemOpEmit emit,
                              int access, int flag_use)
{
    gen_clobber(g);
    if (!gen_string_linear(g, seg, reg)) {
        return false;
    }
    MemOp m;
    memop_string(&m, si, emit, access, flag_use);
    gen_mem_access(g, &m);
    return true;
}

bool gen_string_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->rep != REP_NONE || in->adsize != 4) {
        return false;
    }
    int src = in->seg;
    /* Both segments are checked before anything is emitted, so a false
     * return never follows a first access (the caller rewinds anyway). */
    bool es_ok = key_seg_class(g->key, SEG_ES) != SEGCLASS_OTHER;
    bool src_ok = src != SEG_CS && key_seg_class(g->key, src) != SEGCLASS_OTHER;
    switch (in->op) {
    case OP_MOVS:
        return es_ok && src_ok &&
               gen_string_access(g, si, src, H_RSI, emit_stash_op, ACC_READ, FU_NONE) &&
               gen_string_access(g, si, SEG_ES, H_RDI, emit_movs_op, ACC_WRITE, FU_NONE);
    case OP_CMPS:
        return es_ok && src_ok &&
               gen_string_access(g, si, src, H_RSI, emit_stash_op, ACC_READ, FU_NONE) &&
               gen_string_access(g, si, SEG_ES, H_RDI, emit_cmps_op, ACC_READ, FU_WRITE);
    case OP_STOS:
        return es_ok && gen_string_access(g, si, SEG_ES, H_RDI, emit_stos_op, ACC_WRITE, FU_NONE);
    case OP_LODS:
        return src_ok && gen_string_access(g, si, src, H_RSI, emit_lods_op, ACC_READ, FU_NONE);
    case OP_SCAS:
        return es_ok && gen_string_access(g, si, SEG_ES, H_RDI, emit_scas_op, ACC_READ, FU_WRITE);
    default: return false;
    }
}

/*
 * REP MOVS and REP STOS that fit in one page each, inline.  The helper
 * (helpers_string.c) copies a page at a time through the TLB, but as a
 * callout: the thunk stores and reloads every guest register, and the
 * x87 and XMM states are saved around it.  Compilers copy and clear small
 * structures with REP MOVSD and REP STOSB, a few dozen bytes at a time,
 * where that dominates.  The inline path takes the case where the whole
 * instruction is one run the helper would do in one go, and otherwise
 * (it checks everything before anything changes) calls the helper:
 *   ECX = 0: nothing to do (as the helper: no element, no count)
 *   no exit request (an event would cut the batch to one element), DF clear,
 *   ECX*size within one source and one destination page (so ECX <= REP_BATCH,
 *   one batch: one instruction), rep_elements + ECX below REP_CUT_ELEMENTS,
 *   each page's TLB tag matching for the access (no MMIO, no code page: a
 *   store into code takes the helper, which invalidates it)
 * then the host's own REP MOVS/STOS on host addresses (its result is the
 * architectural element-by-element one, overlapping copies included):
 *     add dword [r15+rep_elements], ecx
 *     mov r10d, esi ; mov r11d, edi ; mov rsi, r14 ; mov rdi, r9
 *     rep movs ; sub rsi, r14 ; add esi, r10d ; sub rdi, r9 ; add edi, r11d
 * with r14 and r9 the host source and destination.  ECX ends at 0.
 *
 * 64-bit blocks take the same path with a 64-bit address size (a 67h
 * prefix is the helper's): RSI, RDI and RCX whole (the count compared at
 * 64 bits, so a high half sends it to the helper), an FS or GS source
 * adding its base and no other segment a base, MOVSQ/STOSQ with REX.W,
 * the page compare at 64 bits (a range off the canonical range matches no
 * tag), and the indexes moved back at 64 bits.
 */
#define REP_SLOW_MAX 8

typedef struct RepSlow {
    uint8_t *jumps[REP_SLOW_MAX];
    int n;
} RepSlow;

static void rep_slow_jcc(Gen *g, RepSlow *s, int cc)
{
    uint8_t *j = emit_jcc32(&g->e, cc, NULL);
    if (s->n < REP_SLOW_MAX) {
        s->jumps[s->n++] = j;
    } else {
        g->failed = true;
    }
}

/* mov dst, src: the whole register in 64-bit blocks, else its dword. */
static void mov_index(Emit *e, bool wide, int dst, int src)
{
    if (wide) {
        emit_mov_rr64(e, dst, src);
    } else {
        emit_mov_rr32(e, dst, src);
    }
}

/* host = the host address of seg:reg's RCX*size bytes, checked for access;
 * clobbers r10, r11 (and host flags).  wide: a 64-bit block, where the
 * index and count are 64-bit and only FS and GS have a base. */
static void gen_rep_range(Gen *g, RepSlow *slow, int seg, int reg, int host, int size, int access,
                          bool wide)
{
    Emit *e = &g->e;
    unsigned w = wide ? EMIT_W : 0;
    mov_index(e, wide, host, reg);
    if (wide ? seg == SEG_FS || seg == SEG_GS : key_seg_class(g->key, seg) == SEGCLASS_BASED) {
        HostRM base = hrm_mem(H_R15, CPU_OFF(seg[seg].base));
        emit_rm(e, w, OPC_ADD_EvGv + 2, host, &base); /* add host, [..base] */
    }
    int scale = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    /* The page of the last byte against the tag of the first byte's slot,
     * as gen_mem.c does: a range that crosses a page (or wraps, or leaves
     * the canonical range: no tag holds such a page) fails. */
    HostRM last = hrm_sib(host, H_RCX, scale, -1);
    HostRM r10 = hrm_reg(H_R10);
    if (wide) {
        emit_lea64(e, H_R10, &last); /* lea r10, [host + rcx*size - 1] */
        emit_alu64_imm(e, EXT_AND, &r10, (int32_t)TLB_PAGE_MASK);
    } else {
        emit_lea32(e, H_R10, &last);
        emit_alu32_imm(e, EXT_AND, &r10, (int32_t)TLB_PAGE_MASK);
    }
    gen_tlb_offset(g, H_R11, host);
    int32_t view = tlb_view_off(g->mmu_idx);
    HostRM tag = hrm_sib(H_R15, H_R11, 0, view + (int32_t)offsetof(TLBEntry, tag[access]));
    emit_rm(e, w, OPC_CMP_GvEv, H_R10, &tag);
    rep_slow_jcc(g, slow, CC_NE);
    HostRM addend = hrm_sib(H_R15, H_R11, 0, view + (int32_t)offsetof(TLBEntry, addend));
    emit_rm(e, EMIT_W, OPC_ADD_EvGv + 2, host, &addend); /* add host, [..addend] */
}

/* reg = saved + (host_now - host_start): the guest index after the run
 * (a dword outside 64-bit blocks). */
static void gen_rep_index_back(Gen *g, int reg, int host_start, int saved, bool wide)
{
    HostRM r = hrm_reg(reg);
    emit_rm(&g->e, EMIT_W, OPC_SUB_EvGv, host_start, &r);        /* sub reg, host_start */
    emit_rm(&g->e, wide ? EMIT_W : 0, OPC_ADD_EvGv, saved, &r); /* add reg, saved */
}

void gen_rep_string(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    bool movs = in->op == OP_MOVS;
    int size = in->opnd[0].size;
    bool wide = (g->key & KEY_CODE64) != 0;
    unsigned w = wide ? EMIT_W : 0;
    bool inline_ok = wide ? in->adsize == 8
                          : in->adsize == 4 && key_seg_class(g->key, SEG_ES) != SEGCLASS_OTHER &&
                                (!movs || (in->seg != SEG_CS &&
                                           key_seg_class(g->key, in->seg) != SEGCLASS_OTHER));
    if (!inline_ok) {
        gen_call(g, gen_callinfo(g, si, bt_helper_rep_string));
        return;
    }
    Emit *e = &g->e;
    RepSlow slow = {.n = 0};
    gen_clobber(g);
    gen_page_forget(g);
    HostRM ecx = hrm_reg(H_RCX);
    emit_rm(e, w, OPC_TEST_EvGv, H_RCX, &ecx);
    uint8_t *nothing = emit_jcc32(e, CC_E, NULL);
    HostRM kick = hrm_mem(H_R15, CPU_OFF(bt_exit_request));
    emit_cmp8_imm(e, &kick, 0);
    rep_slow_jcc(g, &slow, CC_NE);
    HostRM df = hrm_mem(H_R15, CPU_OFF(eflags) + 1);
    emit_rm(e, 0, OPC_GRP3_Eb, 0, &df); /* test byte [r15+eflags+1], DF >> 8 */
    emit_u8(e, (uint8_t)(EFLAGS_DF >> 8));
    rep_slow_jcc(g, &slow, CC_NE);
    if (wide) {
        emit_alu64_imm(e, EXT_CMP, &ecx, 4096 / size);
    } else {
        emit_alu32_imm(e, EXT_CMP, &ecx, 4096 / size);
    }
    rep_slow_jcc(g, &slow, CC_A);
    emit_load32(e, H_R9, H_R15, CPU_OFF(rep_elements));
    HostRM r9 = hrm_reg(H_R9);
    emit_rm(e, 0, OPC_ADD_EvGv, H_RCX, &r9); /* add r9d, ecx */
    emit_alu32_imm(e, EXT_CMP, &r9, (int32_t)REP_CUT_ELEMENTS);
    rep_slow_jcc(g, &slow, CC_AE);
    if (movs) {
        gen_rep_range(g, &slow, in->seg, H_RSI, H_R14, size, ACC_READ, wide);
    }
    gen_rep_range(g, &slow, SEG_ES, H_RDI, H_R9, size, ACC_WRITE, wide);
    HostRM count = hrm_mem(H_R15, CPU_OFF(rep_elements));
    emit_rm(e, 0, OPC_ADD_EvGv, H_RCX, &count); /* add [r15+rep_elements], ecx */
    if (movs) {
        mov_index(e, wide, H_R10, H_RSI);
        emit_mov_rr64(e, H_RSI, H_R14);
    }
    mov_index(e, wide, H_R11, H_RDI);
    emit_mov_rr64(e, H_RDI, H_R9);
    if (size == 2) {
        emit_u8(e, 0x66);
    }
    emit_u8(e, 0xf3); /* rep */
    if (size == 8) {
        emit_u8(e, 0x48); /* REX.W: movsq/stosq */
    }
    emit_u8(e, (uint8_t)((movs ? 0xa4 : 0xaa) + (size > 1)));
    if (movs) {
        gen_rep_index_back(g, H_RSI, H_R14, H_R10, wide);
    }
    gen_rep_index_back(g, H_RDI, H_R9, H_R11, wide);
    uint8_t *done = emit_jmp32(e, NULL);

    /* The helper, for everything else; the x87 and XMM states come back
     * if they were live, so both paths meet in the same state. */
    for (int i = 0; i < slow.n; i++) {
        emit_bind32(e, slow.jumps[i]);
    }
    uint8_t fpu = g->fpu, sse = g->sse;
    gen_call(g, gen_callinfo(g, si, bt_helper_rep_string));
    if (fpu == GEN_FPU_LIVE) {
        gen_fpu_reload(g);
    }
    if (sse == GEN_SSE_LIVE) {
        gen_sse_reload(g);
    }
    g->fpu = fpu;
    g->sse = sse;
    emit_bind32(e, nothing);
    emit_bind32(e, done);
    gen_page_forget(g);
    g->fl_host = false;
    g->fl_parked = true;
}
