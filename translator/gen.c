/*
 * Block generation: the entry check, the flag tracking, callouts and exits.
 *
 * Flags.  Guest arithmetic flags are kept in the host EFLAGS while guest
 * ALU instructions run natively, and "parked" in R13 (LAHF byte and SETO,
 * which change no flags) while the translator's own code needs the host
 * flags: TLB checks, the entry check, jump-cache lookups.  Gen tracks
 * which of the two copies is valid; parking costs five register moves and
 * is done only when host-valid flags are about to be clobbered.  Between
 * blocks the flags are parked, so a block entry may compare freely, and a
 * block that sets all flags before reading them never unparks.  Every path
 * that can fault starts with the flags parked, so a fault in a callout or
 * slow path reports exactly the flags the guest had before the
 * instruction, even where the block later overwrites them.
 *
 *   park:   mov r9, rax ; lahf ; seto al ; mov r13, rax ; mov rax, r9
 *   unpark: mov r9, rax ; mov rax, r13 ; cmp al, 0x81 ; sahf ; mov rax, r9
 * (cmp al, 0x81 sets OF exactly when AL is 1: 1 - (-127) overflows, 0 - (-127)
 * does not; SAHF then sets SF ZF AF PF CF from AH and leaves OF.)
 *
 * Entry.  Each block first charges its length against the budget, which
 * lives in R8 while translated code runs (CPUState.bt_budget otherwise),
 * and leaves (refunding it) when the budget went negative:
 *   sub r8, n ; js noexec
 * An exit request takes BT_BUDGET_KICK off the budget as well (cpu/state.h),
 * so this one test also catches interrupts without a load.  The two
 * instructions are 10 bytes, so an invalidated block's entry can be
 * overwritten with a 5-byte jump (translator/smc.c).
 */
#include <inttypes.h>
#include <string.h>

#include "translator/gen.h"

void gen_park(Gen *g)
{
    if (g->fl_parked) {
        return;
    }
    Emit *e = &g->e;
    emit_mov_rr64(e, H_R9, H_RAX); /* mov r9, rax */
    emit_u8(e, OPC_LAHF);          /* lahf */
    HostRM al = hrm_reg(H_RAX);
    emit_rm(e, 0, OPC_SETCC_Eb + CC_O, 0, &al); /* seto al */
    emit_mov_rr64(e, H_R13, H_RAX);             /* mov r13, rax */
    emit_mov_rr64(e, H_RAX, H_R9);              /* mov rax, r9 */
    g->fl_parked = true;
}

void gen_unpark(Gen *g)
{
    if (g->fl_host) {
        return;
    }
    Emit *e = &g->e;
    emit_mov_rr64(e, H_R9, H_RAX);  /* mov r9, rax */
    emit_mov_rr64(e, H_RAX, H_R13); /* mov rax, r13 */
    HostRM al = hrm_reg(H_RAX);
    emit_cmp8_imm(e, &al, 0x81);   /* cmp al, 0x81: OF = image OF */
    emit_u8(e, OPC_SAHF);          /* sahf */
    emit_mov_rr64(e, H_RAX, H_R9); /* mov rax, r9 */
    g->fl_host = true;
}

void gen_clobber(Gen *g)
{
    gen_park(g);
    g->fl_host = false;
}

void gen_flags_before(Gen *g, int flag_use)
{
    if (flag_use == FU_READ || flag_use == FU_MODIFY) {
        gen_unpark(g);
    }
}

void gen_flags_after(Gen *g, int flag_use)
{
    if (flag_use == FU_WRITE || flag_use == FU_MODIFY) {
        g->fl_host = true;
        g->fl_parked = false;
    }
}

BTCallInfo *gen_callinfo(Gen *g, const ScanInsn *si, BTHelper fn)
{
    BTCallInfo *ci = bt_data_alloc(g->bt, sizeof(*ci));
    memset(ci, 0, sizeof(*ci));
    ci->fn = fn;
    ci->tb = g->tb;
    ci->eip = si->eip;
    ci->next_eip = si->eip + si->insn.len;
    if (!(g->key & KEY_CODE64)) {
        ci->next_eip = (uint32_t)ci->next_eip; /* EIP wraps at 4 GiB */
    }
    ci->index = (uint16_t)(si - g->scan->in);
    ci->mmu_idx = (uint8_t)g->mmu_idx;
    ci->insn = si->insn;
    ci->form = (uint16_t)insn_form(&si->insn); /* once here, not per run */
    ci->check_io = g->bt->mode == BT_MODE_CHECK && (si->insn.flags & (INSN_F_IO | INSN_F_FPU));
    return ci;
}

/* lea r9, [rip+ci] ; call thunk */
void gen_call(Gen *g, BTCallInfo *ci)
{
    gen_sse_flush(g); /* and the host's XMM registers and MXCSR (gen_sse.c) */
    gen_fpu_flush(g); /* C code needs the host FPU empty (gen_fpu.c) */
    gen_park(g);
    gen_page_forget(g);
    HostRM m = hrm_rip(bt_to_rx(g->bt, ci));
    emit_lea64(&g->e, H_R9, &m);
    emit_call32(&g->e, g->thunk);
    g->fl_host = false;
    g->fl_parked = true;
}

void gen_callout(Gen *g, const ScanInsn *si)
{
    gen_call(g, gen_callinfo(g, si, bt_helper_interp));
}

void gen_store_eip(Gen *g, uint64_t target)
{
    Emit *e = &g->e;
    if (!(g->key & KEY_CODE64)) {
        emit_store32_imm(e, H_R15, CPU_OFF(eip), (uint32_t)target); /* mov dword [r15+eip], imm32 */
    } else if ((uint64_t)(int64_t)(int32_t)target == target) {
        HostRM rip = hrm_mem(H_R15, CPU_OFF(eip));
        emit_rm(e, EMIT_W, OPC_MOV_EvIz, 0, &rip); /* mov qword [r15+eip], simm32 */
        emit_u32(e, (uint32_t)target);
    } else {
        emit_mov_r64_imm(e, H_R11, target); /* mov r11, imm64 ; mov [r15+eip], r11 */
        emit_store64(e, H_R15, CPU_OFF(eip), H_R11);
    }
}

/* mov [r15+eip], target ; [lea r11, [rip+exit] ; mov [r15+bt_exit], r11] ; jmp epilogue */
static void gen_exit_tail(Gen *g, uint64_t target, BTExit *x)
{
    Emit *e = &g->e;
    gen_store_eip(g, target);
    if (x) {
        HostRM m = hrm_rip(bt_to_rx(g->bt, x));
        emit_lea64(e, H_R11, &m);
        emit_store64(e, H_R15, CPU_OFF(bt_exit), H_R11);
    }
    emit_jmp32(e, g->epilogue);
}

void gen_exit_nochain(Gen *g, uint64_t target)
{
    gen_park(g);
    gen_exit_tail(g, target, NULL);
}


int32_t gen_cmp_fetch_tag(Gen *g, uint64_t page)
{
    int32_t slot = tlb_view_off(g->mmu_idx) + (int32_t)(tlb_slot(page) * sizeof(TLBEntry));
    HostRM tag = hrm_mem(H_R15, slot + (int32_t)offsetof(TLBEntry, tag[ACC_FETCH]));
    if ((uint64_t)(int64_t)(int32_t)page == page) {
        emit_alu64_imm(&g->e, EXT_CMP, &tag, (int32_t)page);
    } else {
        emit_mov_r64_imm(&g->e, H_R10, page); /* a page at 2 GiB and up, 64-bit ones too */
        emit_rm(&g->e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag); /* cmp r10, [..tag] */
    }
    return slot;
}

/*
 * A direct jump.  On the block's own linear page:
 *     jmp next            ; rel32, patched to the target block when chained
 *   next: <exit tail>
 * On another page, or after an instruction that may have changed the
 * mapping (MOV CR3, INVLPG: the block's last), the chained jump first
 * re-checks it (the tag is 64-bit; a page below 2 GiB fits a sign-extended
 * imm32, one above goes through r10, zero-extended):
 *     cmp qword [r15 + tlb[target].tag[FETCH]], target_page ; jne tail
 *       or  mov r10d, target_page ; cmp r10, [r15 + tlb[target].tag[FETCH]] ; jne tail
 *     cmp dword [r15 + tlb[target].phys], PHYS              ; jne tail (PHYS patched)
 *     jmp next            ; patched
 *   tail: <exit tail>
 */
static void gen_exit_chain(Gen *g, uint64_t target, bool recheck)
{
    gen_park(g);
    BTExit *x = bt_data_alloc(g->bt, sizeof(*x));
    memset(x, 0, sizeof(*x));
    x->tb = g->tb;
    x->target_eip = target;
    uint32_t lin = (uint32_t)target + g->cs_base;
    uint32_t block_lin = (uint32_t)g->scan->eip + g->cs_base;
    gen_exit_jump(g, x, recheck || ((lin ^ block_lin) & TLB_PAGE_MASK), lin);
    gen_exit_tail(g, target, x);
}

void gen_exit_direct(Gen *g, uint64_t target)
{
    gen_exit_chain(g, target, false);
}

/*
 * After a mode-changing instruction whose callout let the block go on
 * (translator/helpers.c, bt_may_go_on): the chained exit if the block key
 * is still this block's, else a jump-cache lookup under the new one.
 *     cmp dword [r15+bt_tag_hi+4], key ; jne lookup
 *     <direct exit, re-checking the mapping (MOV CR3 or INVLPG may be why we are here)>
 *   lookup: mov r14d, target ; <indirect exit>
 */
static void gen_exit_after_mode_change(Gen *g, uint32_t target)
{
    Emit *e = &g->e;
    gen_park(g);
    HostRM tag = hrm_mem(H_R15, CPU_OFF(bt_tag_hi) + 4);
    emit_alu32_imm(e, EXT_CMP, &tag, (int32_t)g->key);
    uint8_t *lookup = emit_jcc32(e, CC_NE, NULL);
    gen_exit_chain(g, target, true);
    emit_bind32(e, lookup);
    emit_mov_r32_imm(e, H_R14, target);
    gen_exit_indirect(g);
}

/*
 * An indirect jump to the EIP in r14d, through the jump cache:
 *     mov r11d, r14d ; and r11d, JC_MASK ; shl r11d, 5 ; add r11, [r15+bt_jc]
 *     mov r10, [r15+bt_tag_hi] ; or r10, r14 ; cmp r10, [r11] ; jne miss
 *     lea r10d, [r14+cs_base] ; <r9d = tlb_slot(r10d) * 64, gen_tlb_offset>
 *     and r10d, 0xfffff000 ; cmp r10, [r15+r9+tlb.tag[FETCH]] ; jne miss
 *     mov r10d, [r15+r9+tlb.phys] ; cmp r10d, [r11+16] ; jne miss
 *     jmp [r11+8]
 *   miss: mov [r15+eip], r14d ; jmp epilogue
 * with a count of lookups and of misses in CPUState for `info jit`.
 */
static void gen_exit_lookup(Gen *g, bool far, BTJumpEntry *fill);

void gen_exit_indirect(Gen *g)
{
    gen_exit_lookup(g, false, NULL);
}

/* JMP r/m32 and CALL r/m32: the site's inline cache, then the lookup,
 * whose hit fills the inline cache (gen_ic.c). */
void gen_exit_indirect_ic(Gen *g)
{
    gen_park(g);
    BTJumpEntry *site = gen_ic_site(g);
    if (site) {
        gen_ic_probe(g, site);
    }
    gen_exit_lookup(g, false, site);
}

/*
 * After a far door (SYSENTER, SYSEXIT, INT n, IRET as the block's last
 * instruction, translator/helpers.c): the target EIP is in CPUState and
 * the CPL may be new, so the lookup takes the TLB view from
 * bt_view_delta rather than from the block:
 *     mov r14d, [r15+eip] ; <lookup as below, with add r9, [r15+bt_view_delta]>
 */
static void gen_exit_far(Gen *g)
{
    gen_park(g);
    emit_load32(&g->e, H_R14, H_R15, CPU_OFF(eip));
    gen_exit_lookup(g, true, NULL);
}

static void gen_exit_lookup(Gen *g, bool far, BTJumpEntry *fill)
{
    Emit *e = &g->e;
    gen_park(g);
    HostRM lookups = hrm_mem(H_R15, CPU_OFF(bt_jc_lookups));
    emit_alu64_imm(e, EXT_ADD, &lookups, 1); /* add qword [r15+bt_jc_lookups], 1 */
    HostRM r11 = hrm_reg(H_R11), r10 = hrm_reg(H_R10);
    emit_mov_rr32(e, H_R11, H_R14);
    emit_alu32_imm(e, EXT_AND, &r11, BT_JC_ENTRIES - 1);
    emit_shift32_imm(e, EXT_SHL, H_R11, 5);
    HostRM jc = hrm_mem(H_R15, CPU_OFF(bt_jc));
    emit_rm(e, EMIT_W, OPC_ADD_EvGv + 2, H_R11, &jc); /* add r11, [r15+bt_jc] */
    emit_load64(e, H_R10, H_R15, CPU_OFF(bt_tag_hi));
    emit_rm(e, EMIT_W, OPC_OR_EvGv, H_R14, &r10); /* or r10, r14 */
    HostRM entry_tag = hrm_mem(H_R11, 0);
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &entry_tag); /* cmp r10, [r11] */
    uint8_t *miss1 = emit_jcc32(e, CC_NE, NULL);
    HostRM lin = hrm_mem(H_R14, (int32_t)g->cs_base);
    emit_lea32(e, H_R10, &lin);
    gen_jc_validate(g, far, miss1, fill);
    emit_store32(e, H_R15, CPU_OFF(eip), H_R14);
    emit_jmp32(e, g->epilogue);
}

void gen_exit_jump(Gen *g, BTExit *x, bool recheck, uint64_t lin)
{
    Emit *e = &g->e;
    uint8_t *skip1 = NULL, *skip2 = NULL;
    if (recheck) {
        int32_t slot = gen_cmp_fetch_tag(g, lin & TLB_PAGE_MASK);
        skip1 = emit_jcc8(e, CC_NE);
        HostRM phys = hrm_mem(H_R15, slot + (int32_t)offsetof(TLBEntry, phys));
        emit_rm(e, 0, OPC_GRP1_EvIz, EXT_CMP, &phys); /* cmp dword [..], imm32 */
        x->phys_patch = e->p;
        emit_u32(e, 0xffffffffu);
        skip2 = emit_jcc8(e, CC_NE);
    }
    x->patch = emit_jmp32(e, NULL); /* rel32 0: falls into the tail until chained */
    if (skip1) {
        emit_bind8(e, skip1);
        emit_bind8(e, skip2);
    }
}

void gen_jc_enter(Gen *g, bool far, BTJumpEntry *fill, uint8_t *miss[2], bool ic_hit)
{
    Emit *e = &g->e;
    HostRM r10 = hrm_reg(H_R10);
    gen_tlb_offset(g, H_R9, H_R10); /* the low 32 bits decide the slot (softmmu/tlb.h) */
    int view = g->mmu_idx;
    if (far) {
        HostRM delta = hrm_mem(H_R15, CPU_OFF(bt_view_delta));
        emit_rm(e, EMIT_W, OPC_ADD_EvGv + 2, H_R9, &delta); /* add r9, [r15+bt_view_delta] */
        view = 0;
    }
    /* a 32-bit page zero-extended, a 64-bit one as it is (imm32 sign-extended) */
    emit_alu64_imm(e, EXT_AND, &r10, (int32_t)TLB_PAGE_MASK);
    HostRM tag = hrm_sib(H_R15, H_R9, 0,
                         tlb_view_off(view) + (int32_t)offsetof(TLBEntry, tag[ACC_FETCH]));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag); /* 64-bit tag, r10 zero-extended */
    miss[0] = emit_jcc32(e, CC_NE, NULL);
    HostRM phys = hrm_sib(H_R15, H_R9, 0, tlb_view_off(view) + (int32_t)offsetof(TLBEntry, phys));
    emit_rm(e, 0, OPC_MOV_GvEv, H_R10, &phys);
    HostRM entry_phys = hrm_mem(H_R11, (int32_t)offsetof(BTJumpEntry, phys_page));
    emit_rm(e, 0, OPC_CMP_GvEv, H_R10, &entry_phys);
    miss[1] = emit_jcc32(e, CC_NE, NULL);
    if (fill) {
        gen_ic_fill(g, fill);
    }
    if (ic_hit) {
        HostRM hits = hrm_mem(H_R15, CPU_OFF(bt_ic_hits));
        emit_alu64_imm(e, EXT_ADD, &hits, 1);
    }
    HostRM code = hrm_mem(H_R11, (int32_t)offsetof(BTJumpEntry, code));
    emit_jmp_mem(e, &code);
}

void gen_jc_validate(Gen *g, bool far, uint8_t *miss1, BTJumpEntry *fill)
{
    Emit *e = &g->e;
    uint8_t *miss[2];
    gen_jc_enter(g, far, fill, miss, false);
    emit_bind32(e, miss1);
    emit_bind32(e, miss[0]);
    emit_bind32(e, miss[1]);
    HostRM misses = hrm_mem(H_R15, CPU_OFF(bt_jc_misses));
    emit_alu64_imm(e, EXT_ADD, &misses, 1);
}

/* The entry check; returns the rel32 field that leads to noexec. */
static uint8_t *gen_prologue(Gen *g)
{
    Emit *e = &g->e;
    HostRM budget = hrm_reg(H_R8);
    emit_alu64_imm(e, EXT_SUB, &budget, g->tb->ninsns); /* sub r8, n */
    return emit_jcc32(e, CC_S, NULL);
}

/*
 * noexec:       add r8, n ; mov dword [r15+eip], EIP ; jmp epilogue
 * exit_invalid: mov dword [r15+eip], EIP ; jmp epilogue
 */
static void gen_entry_exits(Gen *g, uint8_t *noexec)
{
    Emit *e = &g->e;
    emit_bind32(e, noexec);
    for (int i = 0; i < 2; i++) {
        if (g->stale[i]) {
            emit_bind32(e, g->stale[i]); /* the second page is not the one translated */
        }
    }
    HostRM budget = hrm_reg(H_R8);
    emit_alu64_imm(e, EXT_ADD, &budget, g->tb->ninsns);
    gen_store_eip(g, g->tb->eip);
    emit_jmp32(e, g->epilogue);
    g->tb->exit_invalid = (uint8_t *)emit_rx(e);
    gen_store_eip(g, g->tb->eip);
    emit_jmp32(e, g->epilogue);
}

static void gen_body(Gen *g)
{
    const BlockScan *scan = g->scan;
    bool ended = false;
    for (int i = 0; i < scan->n && !g->failed; i++) {
        g->cur = i;
        g->lin_known = false; /* no segment carries over from the last instruction */
        ended = gen_insn(g, &scan->in[i]);
    }
    if (!ended) {
        const Insn *last = &scan->in[scan->n - 1].insn;
        if (last->op == OP_SYSENTER || last->op == OP_SYSEXIT || last->op == OP_INT ||
            last->op == OP_IRET) {
            gen_exit_far(g); /* reached only when the callout let the block go on */
        } else if (last->flags & INSN_F_BRANCH) {
            gen_exit_nochain(g, scan->next_eip);
        } else if (last->flags & INSN_F_ENDBLOCK) {
            gen_exit_after_mode_change(g, scan->next_eip);
        } else {
            gen_exit_direct(g, scan->next_eip);
        }
    }
}

TB *bt_translate(BT *bt, uint64_t eip, uint32_t phys_pc, const uint8_t *host, uint32_t key)
{
    BlockScan scan_buf;
    BlockScan *scan = &scan_buf;
    bt_scan(bt, eip, phys_pc, host, key, scan);
    if (scan->n == 0 || !bt_cache_reserve(bt)) {
        return NULL;
    }
    size_t data_mark = bt->data_used;
    Gen gen_buf;
    Gen *g = &gen_buf;
    memset(g, 0, offsetof(Gen, slow)); /* slow[] is filled as used */
    g->nslow = 0;
    g->nfldcw = 0;
    g->failed = false;
    g->bt = bt;
    g->scan = scan;
    g->key = key;
    g->mmu_idx = (key & KEY_CPL_MASK) == 3 ? MMU_USER : MMU_KERNEL;
    g->cs_base = (key & KEY_CODE64) ? 0 : (uint32_t)bt->cpu->seg[SEG_CS].base;
    g->thunk = (key & KEY_CODE64) ? bt->thunk64 : bt->thunk;
    g->epilogue = (key & KEY_CODE64) ? bt->epilogue64 : bt->epilogue;
    g->fl_parked = true; /* the convention between blocks */
    g->fpu = GEN_FPU_UNKNOWN; /* x87 state may stay live from block to block (gen_fpu.c) */
    g->sse = GEN_SSE_UNKNOWN; /* so may the XMM state (gen_sse.c) */
    TB *tb = bt_data_alloc(bt, sizeof(TB));
    memset(tb, 0, sizeof(*tb));
    tb->phys_pc = phys_pc;
    tb->eip = eip;
    tb->cs_base = g->cs_base;
    tb->key = key;
    tb->ninsns = (uint16_t)scan->n;
    tb->guest_bytes = (uint16_t)(scan->next_eip - eip);
    tb->phys2 = scan->phys2;
    tb->lin2 = scan->lin2;
    tb->straddle = scan->straddle;
    g->tb = tb;
    emit_init(&g->e, bt->rw + bt->code_used, BT_MAX_CODE, bt->rx_delta);
    tb->code = (uint8_t *)emit_rx(&g->e);

    uint8_t *noexec = gen_prologue(g);
    if (scan->straddle) {
        gen_straddle_check(g);
    }
    if (key & KEY_CODE64) {
        gen64_body(g);
    } else {
        gen_body(g);
    }
    gen_slow_paths(g);
    gen_sse_stubs(g);
    gen_fpu_stubs(g);
    gen_entry_exits(g, noexec);
    if (g->e.overflow || g->failed || bt->data_used > bt->size - bt->code_used) {
        bt->data_used = data_mark;
        return NULL;
    }
    tb->code_size = (uint32_t)(g->e.p - (bt->rw + bt->code_used));
    bt->code_used += (tb->code_size + 15) & ~15u;
    bt_tb_insert(bt, tb);
    bt_smc_register(bt, tb);
    bt->stats.blocks_translated++;
    bt->stats.superblocks += tb->superblock;
    bt->stats.guest_bytes += tb->guest_bytes;
    bt->stats.host_bytes += tb->code_size;
    if (bt->out_asm) {
        bool two_pages = scan->straddle;
        bt_dump_block(bt, tb, two_pages ? scan->straddle_bytes : host + (phys_pc & 0xfff));
    }
    if (bt->perfmap) {
        fprintf(bt->perfmap, "%lx %x guest_%08" PRIx64 "_p%08x\n",
                (unsigned long)(uintptr_t)tb->code, tb->code_size, tb->eip, tb->phys_pc);
    }
    return tb;
}
_Static_assert(INSN_FORMS <= 65536, "BTCallInfo.form is 16 bits");
