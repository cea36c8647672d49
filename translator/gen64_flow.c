/*
 * Control transfers of 64-bit blocks: CALL rel32, CALL r/m64, JMP r/m64,
 * RET and RET imm16 natively, exits chained across pages, and indirect
 * exits through the jump cache, as 32-bit blocks have them (gen_flow.c,
 * gen.c) with 64-bit RIPs.
 *
 * Tags.  The jump cache and the return ring hold both widths; a 64-bit
 * entry's tag is RIP ^ key << 48 (bt_jc_tag, bt_internal.h), which is
 * exact for canonical RIPs and never equals a 32-bit tag, so a lookup or
 * a prediction only ever enters a block of its own mode.  That needs the
 * target canonical first, which the SDM wants anyway: a near branch to a
 * non-canonical RIP raises #GP(0) at the branch, before CALL pushes or RET
 * moves RSP (SDM Vol.2 CALL, RET, JMP).  So every computed target gets
 *     mov r9, r14 ; shl r9, 16 ; sar r9, 16 ; cmp r9, r14 ; je ok
 *     <callout: the interpreter runs the instruction and raises #GP(0)>
 *   ok:
 * and a relative one that is not canonical is a callout at translation.
 *
 * CALL (the stack access as PUSH's in gen64.c; its slow path's commit,
 * bt_helper_call64_commit, leaves at the target if it must):
 *     lea r14, [r12-8] ; <TLB check> ; mov qword [r14], ret ; lea r12, [r12-8]
 *     <return ring push (gen_flow.c)> ; <exit to the target> ; cont: <exit to ret>
 * CALL r/m64 first reads the target (a register, or memory through the TLB
 * check) into r14, checks it, and keeps it in CPUState.bt_target while the
 * push's check clobbers the scratch registers.
 * RET [imm16]:
 *     lea r14, [r12] ; <TLB check> ; mov r14, [r14] ; <canonical check>
 *     lea r12, [r12 + 8 + imm16] ; <return ring pop, else the jump cache>
 * so a fault in the read, or #GP on the target, leaves RSP as it was.
 *
 * A mismatched return (longjmp, a switched stack, a rewritten return
 * address) misses the ring and goes through the jump cache; CR3 writes and
 * INVLPG clear the ring (softmmu/tlb.c), and every jump-cache hit is
 * checked against the TLB's fetch entry, so neither trusts a stale mapping.
 *
 * Also here: the exits after a callout that may have changed the mode
 * and after a door (INT, IRETQ; SYSCALL and SYSRET through gen_sys.c's
 * light helper), which go on through the jump cache under the new key.
 */
#include <string.h>

#include "softmmu/mmu.h"
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

/* shl/shr/sar r64, imm8 */
static void emit_shift64_imm(Emit *e, int ext, int reg, uint8_t count)
{
    HostRM rm = hrm_reg(reg);
    emit_rm(e, EMIT_W, OPC_GRP2_EvIb, ext, &rm);
    emit_u8(e, count);
}

/* mov [r15+eip], r14 ; jmp epilogue64 (the flags are parked) */
static void gen_leave_at_r14(Gen *g)
{
    emit_store64(&g->e, H_R15, CPU_OFF(eip), H_R14);
    emit_jmp32(&g->e, g->epilogue);
}

/*
 * An exit to target.  On the block's own page, without recheck, a jump
 * patched when chained (the block running proves the page is mapped as
 * translated); otherwise the chained jump first checks the target page's
 * TLB fetch tag (64 bits: a sign-extended imm32 when the page is one, else
 * through r10) and physical page (patched when chained):
 *     cmp qword [r15 + tlb[target].tag[FETCH]], page ; jne tail
 *       or  mov r10, page ; cmp r10, [r15 + tlb[target].tag[FETCH]] ; jne tail
 *     cmp dword [r15 + tlb[target].phys], PHYS ; jne tail
 *     jmp next                   ; patched
 *   tail: mov [r15+eip], target ; lea r11, [rip+exit] ; mov [r15+bt_exit], r11 ; jmp epilogue
 */
void gen64_exit_chain(Gen *g, uint64_t target, bool recheck)
{
    Emit *e = &g->e;
    gen_park(g);
    BTExit *x = bt_data_alloc(g->bt, sizeof(*x));
    memset(x, 0, sizeof(*x));
    x->tb = g->tb;
    x->target_eip = target;
    gen_exit_jump(g, x, recheck || ((target ^ g->scan->eip) & TLB_PAGE_MASK), target);
    gen_store_eip(g, target);
    HostRM m = hrm_rip(bt_to_rx(g->bt, x));
    emit_lea64(e, H_R11, &m);
    emit_store64(e, H_R15, CPU_OFF(bt_exit), H_R11);
    emit_jmp32(e, g->epilogue);
}

/*
 * The jump-cache lookup of the RIP in r14 (canonical), as gen.c's for
 * 32-bit blocks but with the 64-bit tag and page:
 *     add qword [r15+bt_jc_lookups], 1
 *     mov r11d, r14d ; and r11d, JC_MASK ; shl r11d, 5 ; add r11, [r15+bt_jc]
 *     mov r10, key << 48                     ; far: mov r10, [r15+bt_tag_hi] ; shl r10, 16
 *     xor r10, r14 ; cmp r10, [r11] ; jne miss
 *     mov r10, r14 ; <r9d = tlb_slot(r10) * 64> [; add r9, [r15+bt_view_delta]]
 *     and r10, ~0xfff ; cmp r10, [r15+r9+tlb.tag[FETCH]] ; jne miss
 *     mov r10d, [r15+r9+tlb.phys] ; cmp r10d, [r11+phys_page] ; jne miss
 *     jmp [r11+code]
 *   miss: add qword [r15+bt_jc_misses], 1 ; mov [r15+eip], r14 ; jmp epilogue64
 */
static void gen64_exit_lookup(Gen *g, bool far, BTJumpEntry *fill)
{
    Emit *e = &g->e;
    gen_park(g);
    HostRM lookups = hrm_mem(H_R15, CPU_OFF(bt_jc_lookups));
    emit_alu64_imm(e, EXT_ADD, &lookups, 1);
    HostRM r11 = hrm_reg(H_R11), r10 = hrm_reg(H_R10);
    emit_mov_rr32(e, H_R11, H_R14);
    emit_alu32_imm(e, EXT_AND, &r11, BT_JC_ENTRIES - 1);
    emit_shift32_imm(e, EXT_SHL, H_R11, 5);
    HostRM jc = hrm_mem(H_R15, CPU_OFF(bt_jc));
    emit_rm(e, EMIT_W, OPC_ADD_EvGv + 2, H_R11, &jc); /* add r11, [r15+bt_jc] */
    if (far) {
        emit_load64(e, H_R10, H_R15, CPU_OFF(bt_tag_hi)); /* the new key << 32 */
        emit_shift64_imm(e, EXT_SHL, H_R10, 16);
    } else {
        emit_mov_r64_imm(e, H_R10, bt_jc_tag(g->key, 0));
    }
    emit_rm(e, EMIT_W, OPC_XOR_EvGv, H_R14, &r10); /* xor r10, r14 */
    HostRM entry_tag = hrm_mem(H_R11, (int32_t)offsetof(BTJumpEntry, tag));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &entry_tag);
    uint8_t *miss1 = emit_jcc32(e, CC_NE, NULL);
    emit_mov_rr64(e, H_R10, H_R14);
    gen_jc_validate(g, far, miss1, fill);
    gen_leave_at_r14(g);
}

void gen64_exit_indirect(Gen *g)
{
    gen64_exit_lookup(g, false, NULL);
}

/* JMP r/m64 and CALL r/m64: the site's inline cache first (gen_ic.c). */
static void gen64_exit_indirect_ic(Gen *g)
{
    gen_park(g);
    BTJumpEntry *site = gen_ic_site(g);
    if (site) {
        gen_ic_probe(g, site);
    }
    gen64_exit_lookup(g, false, site);
}

/* mov r14, [r15+eip] ; <lookup under bt_tag_hi's key and bt_view_delta's view> */
void gen64_exit_far(Gen *g)
{
    gen_park(g);
    emit_load64(&g->e, H_R14, H_R15, CPU_OFF(eip));
    gen64_exit_lookup(g, true, NULL);
}

/*
 *     cmp dword [r15+bt_tag_hi+4], key ; jne lookup
 *     <chained exit to target, re-checking its TLB entry (MOV CR3, INVLPG)>
 *   lookup: mov r14, target ; <jump-cache lookup under bt_tag_hi and bt_view_delta>
 */
void gen64_exit_after_mode_change(Gen *g, uint64_t target)
{
    Emit *e = &g->e;
    gen_park(g);
    HostRM tag = hrm_mem(H_R15, CPU_OFF(bt_tag_hi) + 4);
    emit_alu32_imm(e, EXT_CMP, &tag, (int32_t)g->key);
    uint8_t *lookup = emit_jcc32(e, CC_NE, NULL);
    gen64_exit_chain(g, target, true);
    emit_bind32(e, lookup);
    emit_mov_r64_imm(e, H_R14, target);
    gen64_exit_lookup(g, true, NULL);
}

/*
 * The target in r14 must be canonical, else si raises #GP(0) with nothing
 * done: the interpreter runs it out of line.  The flags are parked.
 */
static void gen_canonical_check(Gen *g, const ScanInsn *si)
{
    Emit *e = &g->e;
    emit_mov_rr64(e, H_R9, H_R14);
    emit_shift64_imm(e, EXT_SHL, H_R9, 16);
    emit_shift64_imm(e, EXT_SAR, H_R9, 16);
    HostRM r14 = hrm_reg(H_R14);
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R9, &r14); /* cmp r9, r14 */
    uint8_t *ok = emit_jcc32(e, CC_E, NULL);
    /* the main line goes on as it was (x87 or XMM state live, the last page) */
    bool pc = g->pc_live, pc_write = g->pc_write;
    uint8_t fpu = g->fpu, sse = g->sse;
    gen_callout(g, si); /* #GP(0): does not come back */
    gen_exit_nochain(g, si->eip + si->insn.len);
    g->fl_parked = true;
    g->fl_host = false;
    g->pc_live = pc;
    g->pc_write = pc_write;
    g->fpu = fpu;
    g->sse = sse;
    emit_bind32(e, ok);
}

/* mov r14, [r14]: a branch target from memory (RET's stack slot, JMP m64) */
static void emit_load_target(Gen *g, const MemOp *m)
{
    HostRM mem = hrm_mem(H_R14, 0);
    emit_rm(&g->e, EMIT_W, OPC_MOV_GvEv, H_R14, &mem);
    (void)m;
}

/* mov qword [r14], ret (simm32, or through r9) ; lea r12, [r12-8] */
static void emit_push_ret(Gen *g, const MemOp *m)
{
    Emit *e = &g->e;
    uint64_t ret = m->si->eip + m->si->insn.len;
    HostRM mem = hrm_mem(H_R14, 0), down = hrm_mem(H_R12, -8);
    if ((uint64_t)(int64_t)(int32_t)ret == ret) {
        emit_rm(e, EMIT_W, OPC_MOV_EvIz, 0, &mem);
        emit_u32(e, (uint32_t)ret);
    } else {
        emit_mov_r64_imm(e, H_R9, ret);
        emit_rm(e, EMIT_W, OPC_MOV_EvGv, H_R9, &mem);
    }
    emit_lea64(e, H_R12, &down);
}

/* The return address pushed; the block's exit is the caller's. */
static void gen_push_ret(Gen *g, const ScanInsn *si)
{
    MemOp m = {.si = si,
               .size = 8,
               .access = ACC_WRITE,
               .flag_use = FU_NONE,
               .next_eip = (uint32_t)(si->eip + si->insn.len),
               .arg = -1,
               .emit = emit_push_ret,
               .prep = bt_helper_push64_prep,
               .commit = bt_helper_call64_commit};
    gen_park(g);
    HostRM top = hrm_mem(H_R12, -8);
    emit_lea64(&g->e, H_R14, &top);
    gen_mem_access(g, &m);
}

static bool gen_call_rel(Gen *g, const ScanInsn *si)
{
    uint64_t ret = si->eip + si->insn.len;
    uint64_t target = ret + (uint64_t)(int64_t)(int32_t)si->insn.imm;
    if (!mmu_canonical(target)) {
        return false; /* the interpreter raises #GP(0) */
    }
    gen_push_ret(g, si);
    uint8_t *cont = gen_ras_push(g, ret);
    gen64_exit_chain(g, target, false);
    gen_ras_cont(g, cont, ret);
    return true;
}

/* r14 = the target of JMP/CALL r/m64 (register, or memory through the TLB
 * check); false if the operand needs a callout (FS/GS, 32-bit addressing). */
static bool gen_load_indirect(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->mod == 3) {
        gen_park(g);
        int r = g64_rm_reg(in);
        if (g64_pinned(r)) {
            emit_mov_rr64(&g->e, H_R14, hreg(r));
        } else {
            emit_load64(&g->e, H_R14, H_R15, g64_reg_off(r));
        }
        return true;
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
    MemOp m = {.si = si,
               .size = 8,
               .access = ACC_READ,
               .flag_use = FU_NONE,
               .next_eip = (uint32_t)(si->eip + in->len),
               .arg = -1,
               .emit = emit_load_target,
               .prep = bt_helper_mem64_prep};
    gen_mem_access(g, &m);
    return true;
}

static bool gen_indirect(Gen *g, const ScanInsn *si, bool call)
{
    if (!gen_load_indirect(g, si)) {
        return false;
    }
    gen_canonical_check(g, si);
    if (!call) {
        gen64_exit_indirect_ic(g);
        return true;
    }
    uint64_t ret = si->eip + si->insn.len;
    emit_store64(&g->e, H_R15, CPU_OFF(bt_target), H_R14);
    gen_push_ret(g, si);
    uint8_t *cont = gen_ras_push(g, ret);
    emit_load64(&g->e, H_R14, H_R15, CPU_OFF(bt_target));
    gen64_exit_indirect_ic(g);
    gen_ras_cont(g, cont, ret);
    return true;
}

static bool gen_ret(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    MemOp m = {.si = si,
               .size = 8,
               .access = ACC_READ,
               .flag_use = FU_NONE,
               .next_eip = (uint32_t)(si->eip + in->len),
               .arg = -1,
               .emit = emit_load_target,
               .prep = bt_helper_pop64_prep};
    gen_park(g);
    HostRM top = hrm_mem(H_R12, 0);
    emit_lea64(&g->e, H_R14, &top);
    gen_mem_access(g, &m);
    gen_canonical_check(g, si);
    int32_t release = in->nopnds ? (int32_t)(in->imm & 0xffff) : 0;
    HostRM up = hrm_mem(H_R12, 8 + release);
    emit_lea64(&g->e, H_R12, &up);
    gen_ras_pop_exit(g);
    return true;
}

bool gen64_flow_end(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    if (in->op == OP_SYSCALL || in->op == OP_SYSRET) {
        gen64_sys_door(g, si); /* gen_sys.c */
        return true;
    }
    if (!g->bt->mem64_native || in->opsize != 8 || in->lock || in->rep) {
        return false; /* 66h: 16-bit return addresses, the interpreter's */
    }
    switch (in->op) {
    case OP_CALL: return gen_call_rel(g, si);
    case OP_CALL_EV: return gen_indirect(g, si, true);
    case OP_JMP_EV: return gen_indirect(g, si, false);
    case OP_RET: return gen_ret(g, si);
    default: return false;
    }
}
