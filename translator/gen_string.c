/*
 * String instructions without a REP prefix, emitted natively: MOVS, STOS,
 * LODS, CMPS and SCAS with a 32-bit address size.  (REP MOVS and REP STOS
 * have their own helper, helpers_string.c; the other REP forms, 16-bit
 * addressing, INS and OUTS are callouts.)
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
