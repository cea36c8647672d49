/*
 * Guest memory operands in translated code: the effective address, the
 * inline shadow-TLB check, and the out-of-line slow path.
 *
 * Fast path (softmmu/tlb.h gives the layout), for an access of size bytes
 * at the linear address in r14d:
 *     mov r11d, r14d ; shr r11d, 6 ; and r11d, 0x3ffc0    ; entry offset: tlb_slot * 64
 *     lea r10d, [r14 + size-1] ; and r10d, 0xfffff000    ; page of the last byte
 *     cmp r10, [r15 + r11 + tlb.e[view].tag[access]]     ; also fails on any tag flag
 *     jne second
 *     mov r11, [r15 + r11 + tlb.e[view].addend]
 *   hit: add r14, r11                                    ; host address
 *     <the guest instruction, with its memory operand rewritten to [r14]>
 * Comparing the page of the last byte catches page-crossing accesses too.
 * The tags are 64-bit (long mode's linear pages); the 32-bit page in r10
 * is zero-extended, so a page above 4 GiB never matches it.
 * A read-modify-write checks the write tag: a write fill grants reads.
 *
 * The second table (softmmu/tlb.h: tlb_slot2, the 4 MiB region folded in),
 * out of line where the slow path starts, through a stub shared by all
 * operands of a view and access kind (stubs.c):
 *   second: call tlb2[view][access] ; je hit      ; ZF: a hit, r11 = its addend
 *   slow: ...
 *
 * Slow path: the same instruction, run on a bounce buffer in CPUState:
 *     mov [r15+bt_lin], r14d ; call prep    ; probe (and read) through the MMU in C
 *     lea r14, [r15+bt_bounce]
 *     <the guest instruction again>
 *     call commit                           ; stores: write the bounce buffer back
 *     jmp after
 * prep may fault (#PF, with the guest state exact: nothing has changed
 * yet); commit cannot, because prep probed the write.  The emitted
 * instruction sequence is the same on both paths, which is what makes the
 * slow path trustworthy: MMIO, code pages (self-modifying code), page
 * crossings and TLB misses all run the one translation.  A memory op's
 * emitter therefore includes every effect of the instruction that follows
 * the store (PUSH's ESP update), so commit ends the instruction and may
 * leave translated code right there.
 *
 * The last page.  Most accesses of a block touch the page the one before
 * touched (the stack, a frame's locals, one object), so the fast path
 * keeps what its check found: r10 = the page's linear base and r11 = its
 * addend.  The next access in the block then checks only that it lies
 * wholly inside that page:
 *     mov r9, r14 ; sub r9, r10 ; cmp r9, 0x1000-size ; jbe hit
 *     <the full check above, with mov r11, [..addend]>
 *   hit: add r14, r11 ; <the instruction>
 * in 64-bit arithmetic, so the slow path can make the next test fail by
 * leaving r10 = PAGE_NONE (2^40, above any linear address).  A read's
 * page serves reads only; a write's (a write fill grants reads) both.
 * Callouts and exits clobber r10 and r11 (gen_page_forget), and within a
 * block nothing else can change a mapping: TLB flushes come from
 * callouts, and a page becomes code only when a block is translated.
 *
 * Segment limits.  Translated accesses go only through segments with a
 * 4 GiB limit (SEGCLASS_FLAT and SEGCLASS_BASED), where the one offset
 * past the limit is an access whose last byte wraps past FFFFFFFFh (a
 * dword at FFFFFFFEh: #GP, or #SS on the stack, SDM Vol.3 5.3).  In a flat
 * segment such an access wraps its linear address too, so its last byte's
 * page (page 0) is never the first byte's TLB slot's tag (tlb_slot keeps
 * neighbouring pages, FFFFFh and 0 included, apart) and it always takes
 * the slow path: prep checks the limit there (bt_helper_limit_check), and
 * the fast path stays as it was.  A based segment's offset can wrap while
 * its linear address does not; that case is checked only when it misses
 * the TLB.
 */
#define PAGE_NONE (1ull << 40)
#include "translator/gen.h"

bool gen_stack_native(const Gen *g)
{
    return (g->key & KEY_SS32) && key_seg_class(g->key, SEG_SS) != SEGCLASS_OTHER;
}

/* add r14d, [r15 + seg[s].base] when the segment has a base; r14 now
 * holds a linear address in that segment. */
void gen_add_seg_base(Gen *g, int seg)
{
    if (key_seg_class(g->key, seg) == SEGCLASS_BASED) {
        HostRM base = hrm_mem(H_R15, CPU_OFF(seg[seg].base));
        emit_rm(&g->e, 0, OPC_ADD_EvGv + 2, H_R14, &base);
    }
    g->lin_known = true;
    g->lin_seg = (uint8_t)seg;
}

bool gen_operand_linear(Gen *g, const Insn *insn)
{
    return gen_operand_linear_plus(g, insn, H_NONE, 0);
}

bool gen_operand_linear_plus(Gen *g, const Insn *insn, int plus, int shift)
{
    int seg = insn->seg;
    if (seg == SEG_CS || key_seg_class(g->key, seg) == SEGCLASS_OTHER) {
        return false;
    }
    Emit *e = &g->e;
    if (insn->base == REG_NONE && insn->index == REG_NONE) {
        emit_mov_r32_imm(e, H_R14, (uint32_t)insn->disp);
    } else {
        HostRM m =
            hrm_sib(insn->base == REG_NONE ? H_NONE : hreg(insn->base),
                    insn->index == REG_NONE ? H_NONE : hreg(insn->index), insn->scale, insn->disp);
        emit_lea32(e, H_R14, &m); /* lea r14d, [base + index*scale + disp] */
    }
    if (plus != H_NONE) {
        HostRM sum = hrm_sib(H_R14, plus, shift, 0);
        emit_lea32(e, H_R14, &sum); /* lea r14d, [r14 + plus << shift] */
    }
    if (insn->adsize == 2) {
        emit_movzx16(e, H_R14, H_R14); /* 16-bit addressing wraps at 64 KiB */
    }
    gen_add_seg_base(g, seg);
    if (insn->base == REG_NONE && insn->index == REG_NONE && plus == H_NONE &&
        insn->adsize == 4 && key_seg_class(g->key, seg) == SEGCLASS_FLAT) {
        gen_lin_const(g, (uint32_t)insn->disp);
    }
    return true;
}

void gen_lin_const(Gen *g, uint64_t lin)
{
    g->lin_const = lin;
    g->lin_const_at = g->e.p;
}

bool gen_stack_linear(Gen *g, int32_t delta)
{
    if (!gen_stack_native(g)) {
        return false;
    }
    HostRM m = hrm_mem(H_R12, delta);
    emit_lea32(&g->e, H_R14, &m); /* lea r14d, [r12 + delta] */
    gen_add_seg_base(g, SEG_SS);
    return true;
}

_Static_assert(sizeof(TLBEntry) == 64, "gen_tlb_offset's shifts");

void gen_tlb_offset(Gen *g, int dst, int lin)
{
    Emit *e = &g->e;
    HostRM d = hrm_reg(dst);
    emit_mov_rr32(e, dst, lin);
    emit_shift32_imm(e, EXT_SHR, dst, 6); /* page << 6, and the offset's top bits */
    emit_alu32_imm(e, EXT_AND, &d, (int32_t)((TLB_ENTRIES - 1) * sizeof(TLBEntry)));
}

/*
 * The check of the address in r14 against the TLB, leaving r14 the host
 * address, r10 the page and r11 its addend (the last page, above); returns
 * the miss's jump to the slow path.
 */
static uint8_t *gen_tlb_check(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    int32_t view = tlb_view_off(g->mmu_idx);
    HostRM r10 = hrm_reg(H_R10);
    uint8_t *hit = NULL;
    if (g->pc_live && (g->pc_write || m->access == ACC_READ)) {
        HostRM r9 = hrm_reg(H_R9);
        emit_mov_rr64(e, H_R9, H_R14);
        emit_rm(e, EMIT_W, OPC_SUB_EvGv, H_R10, &r9);                    /* sub r9, r10 */
        emit_alu64_imm(e, EXT_CMP, &r9, (int32_t)(0x1000 - m->size));
        hit = emit_jcc32(e, CC_BE, NULL);
    }
    gen_tlb_offset(g, H_R11, H_R14);
    HostRM last = hrm_mem(H_R14, m->size - 1);
    if (g->key & KEY_CODE64) {
        emit_lea64(e, H_R10, &last); /* 64-bit blocks: lea r10, [r14+size-1] ; and r10, ~0xfff */
        emit_alu64_imm(e, EXT_AND, &r10, (int32_t)TLB_PAGE_MASK);
    } else {
        if (m->size > 1) {
            emit_lea32(e, H_R10, &last);
        } else {
            emit_mov_rr32(e, H_R10, H_R14);
        }
        emit_alu32_imm(e, EXT_AND, &r10, (int32_t)TLB_PAGE_MASK);
    }
    HostRM tag = hrm_sib(H_R15, H_R11, 0, view + (int32_t)offsetof(TLBEntry, tag[m->access]));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag); /* cmp r10, [..tag]: 64-bit tag */
    uint8_t *jne = emit_jcc32(e, CC_NE, NULL);
    HostRM addend = hrm_sib(H_R15, H_R11, 0, view + (int32_t)offsetof(TLBEntry, addend));
    emit_rm(e, EMIT_W, OPC_MOV_GvEv, H_R11, &addend); /* mov r11, [..addend] */
    if (hit) {
        emit_bind32(e, hit);
    }
    return jne;
}

/*
 * The same for an address the translator knows (gen_lin_const): the slot
 * and the last byte's page are constants, so the check is
 *     mov r10, page ; cmp r10, [r15 + tlb.e[view][slot].tag[access]] ; jne slow
 *     mov r11, [r15 + tlb.e[view][slot].addend]
 * where the general one computes both from r14 first.  The page of the
 * last byte wraps as at run time (at 4 GiB outside 64-bit blocks), so an
 * access that crosses a page, or wraps, misses as it would there.
 */
static uint8_t *gen_tlb_check_known(Gen *g, const MemOp *m, uint64_t lin)
{
    Emit *e = &g->e;
    uint64_t last = lin + (uint64_t)(m->size - 1);
    if (!(g->key & KEY_CODE64)) {
        last = (uint32_t)last;
    }
    int32_t entry = tlb_view_off(g->mmu_idx) + (int32_t)(tlb_slot(lin) * sizeof(TLBEntry));
    emit_mov_r64_imm(e, H_R10, last & TLB_PAGE_MASK);
    HostRM tag = hrm_mem(H_R15, entry + (int32_t)offsetof(TLBEntry, tag[m->access]));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag);
    uint8_t *jne = emit_jcc32(e, CC_NE, NULL);
    HostRM addend = hrm_mem(H_R15, entry + (int32_t)offsetof(TLBEntry, addend));
    emit_rm(e, EMIT_W, OPC_MOV_GvEv, H_R11, &addend);
    return jne;
}

void gen_mem_access(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    g->fl_host = false; /* the caller parked them before computing the address */
    bool known = g->lin_const_at && g->lin_const_at == e->p;
    g->lin_const_at = NULL;
    uint8_t *jne = known ? gen_tlb_check_known(g, m, g->lin_const) : gen_tlb_check(g, m);
    const uint8_t *hit = emit_rx(e);
    HostRM r11 = hrm_reg(H_R11);
    emit_rm(e, EMIT_W, OPC_ADD_EvGv + 2, H_R14, &r11); /* add r14, r11 */
    g->pc_live = true;
    g->pc_write = m->access == ACC_WRITE;

    gen_flags_before(g, m->flag_use);
    m->emit(g, m);
    gen_flags_after(g, m->flag_use);

    if (g->nslow >= BT_MAX_SLOW) {
        g->failed = true;
        return;
    }
    SlowPath *sp = &g->slow[g->nslow++];
    sp->op = *m;
    sp->jne = jne;
    sp->hit = hit;
    sp->after = emit_rx(e);
    sp->after_host = g->fl_host;
    sp->after_parked = g->fl_parked;
    sp->fpu = g->fpu;
    sp->sse = g->sse;
    sp->seg = g->lin_known ? g->lin_seg : SEG_NONE;
    g->lin_known = false;
    sp->index = g->cur;
}

/* After a helper: the x87 and XMM state back into the host if they were live. */
static void gen_slow_reload(Gen *g, const SlowPath *sp)
{
    if (sp->fpu == GEN_FPU_LIVE) {
        gen_fpu_reload(g);
    }
    if (sp->sse == GEN_SSE_LIVE) {
        gen_sse_reload(g);
    }
}

static void gen_slow_path(Gen *g, const SlowPath *sp)
{
    Emit *e = &g->e;
    const MemOp *m = &sp->op;
    emit_bind32(e, sp->jne);
    /* The second table (softmmu/tlb.h), with r14 the linear address and
     * r10 its last byte's page as the first check left them (stubs.c). */
    emit_call32(e, g->bt->tlb2[g->mmu_idx][m->access]);
    emit_jcc32(e, CC_E, sp->hit); /* je hit: add r14, r11 ; the instruction */
    gen_page_forget(g);
    g->cur = sp->index;
    g->fl_host = false;
    g->fl_parked = true;
    g->fpu = sp->fpu; /* gen_call saves it for the helpers, and it comes back if it was live */
    g->sse = sp->sse;
    BTCallInfo *prep = gen_callinfo(g, m->si, m->prep ? m->prep : bt_helper_mem_prep);
    prep->size = m->size;
    prep->access = m->access;
    prep->rmw = m->rmw;
    prep->seg = sp->seg;
    emit_store32(e, H_R15, CPU_OFF(bt_lin), H_R14);
    gen_call(g, prep);
    gen_slow_reload(g, sp);
    HostRM bounce = hrm_mem(H_R15, CPU_OFF(bt_bounce));
    emit_lea64(e, H_R14, &bounce);
    gen_flags_before(g, m->flag_use);
    m->emit(g, m);
    gen_flags_after(g, m->flag_use);
    if (m->access == ACC_WRITE) {
        BTCallInfo *commit = gen_callinfo(g, m->si, m->commit ? m->commit : bt_helper_mem_commit);
        commit->size = m->size;
        commit->access = m->access;
        commit->next_eip = m->next_eip;
        commit->target_in_cpu = m->target_in_cpu;
        gen_call(g, commit);
        gen_slow_reload(g, sp);
    }
    emit_mov_r64_imm(e, H_R10, PAGE_NONE); /* the next access checks in full */
    if (sp->after_host) {
        gen_unpark(g);
    }
    emit_jmp32(e, sp->after);
}

void gen_slow_paths(Gen *g)
{
    for (int i = 0; i < g->nslow; i++) {
        gen_slow_path(g, &g->slow[i]);
    }
}
