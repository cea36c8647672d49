/*
 * The fixed stubs at the start of the code cache: the C-callable entry
 * into translated code, the two epilogues that leave it, and the callout
 * thunk; and an entry, epilogue and thunk for 64-bit blocks, which move
 * the guest's RAX..RDI and RSP at 64 bits.
 *
 * Entry saves the host's callee-saved registers and aligns RSP to 16, so
 * translated code runs with RSP % 16 == 0 and a thunk can call C after one
 * more 8-byte adjustment (SysV ABI 3.2.2).  Host DF is clear throughout
 * (the guest's DF lives in CPUState), as the ABI wants at every call.  A
 * guest fault inside a callout longjmps straight out to the run loop,
 * whose setjmp restores the callee-saved registers; nothing here needs to
 * unwind.
 */
#include <stddef.h>

#include "translator/bt_internal.h"

/* Guest register i lives in host register guest_host_reg[i]. */
static const int guest_host_reg[8] = {H_RAX, H_RCX, H_RDX, H_RBX, H_R12, H_RBP, H_RSI, H_RDI};

static void emit_push(Emit *e, int reg)
{
    if (reg >= 8) {
        emit_u8(e, 0x41); /* REX.B */
    }
    emit_u8(e, (uint8_t)(0x50 | (reg & 7))); /* push reg */
}

static void emit_pop(Emit *e, int reg)
{
    if (reg >= 8) {
        emit_u8(e, 0x41); /* REX.B */
    }
    emit_u8(e, (uint8_t)(0x58 | (reg & 7))); /* pop reg */
}

/* mov eax, [r15+0] ... mov edi, [r15+56]; mov r13, [r15+bt_flags]; mov r8, [r15+bt_budget].
 * The guest registers are 8 bytes apart (CPUState.regs is 64-bit); 32-bit
 * code owns only the low halves, whose loads zero-extend and whose stores
 * leave the high halves (zero outside 64-bit mode) alone.  64-bit blocks
 * (wide) move rax..rdi whole; their R8-R15 stay in CPUState (gen64.c). */
static void emit_load_guest(Emit *e, bool wide)
{
    for (int i = 0; i < 8; i++) {
        int32_t off = (int32_t)(offsetof(CPUState, regs) + 8 * i);
        if (wide) {
            emit_load64(e, guest_host_reg[i], H_R15, off);
        } else {
            emit_load32(e, guest_host_reg[i], H_R15, off);
        }
    }
    emit_load64(e, H_R13, H_R15, offsetof(CPUState, bt_flags));
    emit_load64(e, H_R8, H_R15, offsetof(CPUState, bt_budget));
}

/* mov [r15+0], eax ... mov [r15+56], edi; mov [r15+bt_flags], r13; mov [r15+bt_budget], r8 */
static void emit_store_guest(Emit *e, bool wide)
{
    for (int i = 0; i < 8; i++) {
        int32_t off = (int32_t)(offsetof(CPUState, regs) + 8 * i);
        if (wide) {
            emit_store64(e, H_R15, off, guest_host_reg[i]);
        } else {
            emit_store32(e, H_R15, off, guest_host_reg[i]);
        }
    }
    emit_store64(e, H_R15, offsetof(CPUState, bt_flags), H_R13);
    emit_store64(e, H_R15, offsetof(CPUState, bt_budget), H_R8);
}

static const int callee_saved[6] = {H_RBP, H_RBX, H_R12, H_R13, H_R14, H_R15};

/*
 * enter(cpu, code):
 *   push rbp; push rbx; push r12; push r13; push r14; push r15
 *   sub rsp, 8                 ; RSP % 16 == 0 from here on
 *   mov r15, rdi
 *   mov r11, rsi
 *   <load guest registers and parked flags>
 *   jmp r11
 */
static void emit_enter(Emit *e, void (**enter)(CPUState *, const uint8_t *), bool wide)
{
    *enter = (void (*)(CPUState *, const uint8_t *))(uintptr_t)emit_rx(e);
    for (int i = 0; i < 6; i++) {
        emit_push(e, callee_saved[i]);
    }
    HostRM rsp = hrm_reg(H_RSP);
    emit_alu64_imm(e, EXT_SUB, &rsp, 8);
    emit_mov_rr64(e, H_R15, H_RDI);
    emit_mov_rr64(e, H_R11, H_RSI);
    emit_load_guest(e, wide);
    HostRM r11 = hrm_reg(H_R11);
    emit_jmp_mem(e, &r11); /* FF /4 with a register operand: jmp r11 */
}

/*
 * epilogue:          cmp byte [r15+bt_sse_live], 0 ; je saved (rel32)
 *                    <the guest's XMM state back to CPUState, the host's MXCSR (gen_sse.c)>
 *             saved: <store guest registers and parked flags>
 * epilogue_nostore:  add rsp, 8; pop r15; pop r14; pop r13; pop r12; pop rbx; pop rbp; ret
 */
static void emit_epilogues(BT *bt, Emit *e, bool wide)
{
    const uint8_t *nostore = bt->epilogue_nostore;
    *(wide ? &bt->epilogue64 : &bt->epilogue) = emit_rx(e);
    HostRM live = hrm_mem(H_R15, (int32_t)offsetof(CPUState, bt_sse_live));
    emit_cmp8_imm(e, &live, 0);
    uint8_t *saved = emit_jcc32(e, CC_E, NULL); /* rel32: sixteen MOVUPS are over 127 bytes */
    emit_sse_save(e, wide);                     /* 64-bit code's XMM8-15 too */
    emit_bind32(e, saved);
    emit_store_guest(e, wide);
    if (wide) {
        emit_jmp32(e, nostore); /* the 32-bit epilogue's tail, emitted first */
        return;
    }
    bt->epilogue_nostore = emit_rx(e);
    HostRM rsp = hrm_reg(H_RSP);
    emit_alu64_imm(e, EXT_ADD, &rsp, 8);
    for (int i = 5; i >= 0; i--) {
        emit_pop(e, callee_saved[i]);
    }
    emit_u8(e, OPC_RET); /* ret */
}

/*
 * thunk (called from a block; r9 = BTCallInfo, whose first field is the C function):
 *   <store guest registers and parked flags>
 *   mov rdi, r15
 *   mov rsi, r9
 *   sub rsp, 8                 ; the call into the thunk left RSP % 16 == 8
 *   call [r9]
 *   add rsp, 8
 *   test eax, eax
 *   jnz .leave
 *   <load guest registers and parked flags>
 *   ret
 * .leave:
 *   add rsp, 8                 ; drop the return address into the block
 *   jmp epilogue_nostore
 */
static void emit_thunk(BT *bt, Emit *e, bool wide)
{
    *(wide ? &bt->thunk64 : &bt->thunk) = emit_rx(e);
    emit_store_guest(e, wide);
    emit_mov_rr64(e, H_RDI, H_R15);
    emit_mov_rr64(e, H_RSI, H_R9);
    HostRM rsp = hrm_reg(H_RSP);
    emit_alu64_imm(e, EXT_SUB, &rsp, 8);
    HostRM fn = hrm_mem(H_R9, 0);
    emit_call_mem(e, &fn);
    emit_alu64_imm(e, EXT_ADD, &rsp, 8);
    HostRM eax = hrm_reg(H_RAX);
    emit_rm(e, 0, OPC_TEST_EvGv, H_RAX, &eax);
    uint8_t *leave = emit_jcc8(e, CC_NE);
    emit_load_guest(e, wide);
    emit_u8(e, OPC_RET);
    emit_bind8(e, leave);
    emit_alu64_imm(e, EXT_ADD, &rsp, 8);
    emit_jmp32(e, bt->epilogue_nostore);
}

/*
 * sse_save (called from a block whose XMM state is live, gen_sse.c):
 *   <the guest's XMM state back to CPUState, the host's MXCSR> ; ret
 * One copy here instead of about 90 bytes in every slow path and callout
 * of a block that may have it live; sse_save64 moves XMM8-15 too.
 */
static void emit_sse_save_stub(BT *bt, Emit *e, bool wide)
{
    *(wide ? &bt->sse_save64 : &bt->sse_save) = emit_rx(e);
    emit_sse_save(e, wide);
    emit_u8(e, OPC_RET);
}

/*
 * state_flush64 (called from a 64-bit block that knows neither state, before a C call):
 *   cmp byte [r15+bt_sse_live], 0 ; je 1f ; call sse_save64
 *   1: cmp byte [r15+bt_fpu_live], 0 ; je 2f
 *   fnsave [r15+bt_fpu_img] ; mov r9, &fpu_save_ci
 *   sub rsp, 8 ; call thunk64 ; add rsp, 8   ; the thunk wants RSP % 16 == 8 at entry
 *   2: ret
 * Five bytes at each callout instead of both tests inline: 64-bit code
 * has many callouts, and the inline tests grew its host code by a fifth.
 */
static void emit_state_flush64_stub(BT *bt, Emit *e)
{
    bt->state_flush64 = emit_rx(e);
    bt->fpu_save_ci.fn = bt_helper_fpu_save;
    HostRM sse_live = hrm_mem(H_R15, (int32_t)offsetof(CPUState, bt_sse_live));
    emit_cmp8_imm(e, &sse_live, 0);
    uint8_t *no_sse = emit_jcc8(e, CC_E);
    emit_call32(e, bt->sse_save64);
    emit_bind8(e, no_sse);
    HostRM fpu_live = hrm_mem(H_R15, (int32_t)offsetof(CPUState, bt_fpu_live));
    emit_cmp8_imm(e, &fpu_live, 0);
    uint8_t *no_fpu = emit_jcc8(e, CC_E);
    HostRM img = hrm_mem(H_R15, (int32_t)offsetof(CPUState, bt_fpu_img));
    emit_rm(e, 0, 0xdd, 6, &img); /* fnsave */
    emit_mov_r64_imm(e, H_R9, (uint64_t)(uintptr_t)&bt->fpu_save_ci);
    HostRM rsp = hrm_reg(H_RSP);
    emit_alu64_imm(e, EXT_SUB, &rsp, 8);
    emit_call32(e, bt->thunk64);
    emit_alu64_imm(e, EXT_ADD, &rsp, 8);
    emit_bind8(e, no_fpu);
    emit_u8(e, OPC_RET);
}

/*
 * tlb2[view][access] (called from a memory operand's first-table miss, with
 * r14 the linear address and r10 its last byte's page; softmmu/tlb.h):
 *   mov r11d, r14d ; shr r11d, 22 ; shl r11d, 12 ; add r11d, r14d
 *   shr r11d, 6 ; and r11d, 0x3ffc0                ; (tlb_slot2 - 4096) * 64
 *   cmp r10, [r15 + r11 + tlb.e[view][4096].tag[access]]
 *   mov r11, [r15 + r11 + tlb.e[view][4096].addend] ; ret   ; ZF: hit
 * and at the operand: call tlb2[view][access] ; je hit ; <the slow path>.
 * Shared, so each operand spends eleven bytes on it: inline at every
 * operand it grew translated code by a sixth, and the fork-heavy
 * workloads lost that much to the extra cache flushes.  A miss loads the
 * wrong entry's addend, which the slow path does not read.
 */
static void emit_tlb2_stub(BT *bt, Emit *e, int view, int access)
{
    bt->tlb2[view][access] = emit_rx(e);
    int32_t second = (int32_t)(offsetof(CPUState, tlb) + offsetof(TLB, e)) +
                     (int32_t)(((size_t)view * TLB_SLOTS + TLB_ENTRIES) * sizeof(TLBEntry));
    HostRM r11 = hrm_reg(H_R11);
    emit_mov_rr32(e, H_R11, H_R14);
    emit_shift32_imm(e, EXT_SHR, H_R11, 22);
    emit_shift32_imm(e, EXT_SHL, H_R11, 12); /* the region number, above the page offset */
    emit_rm(e, 0, OPC_ADD_EvGv, H_R14, &r11); /* lin + (lin >> 22 << 12) */
    emit_shift32_imm(e, EXT_SHR, H_R11, 6);   /* (page + region) << 6 */
    emit_alu32_imm(e, EXT_AND, &r11, (int32_t)((TLB_ENTRIES - 1) * sizeof(TLBEntry)));
    HostRM tag = hrm_sib(H_R15, H_R11, 0, second + (int32_t)offsetof(TLBEntry, tag[access]));
    emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &tag);
    HostRM addend = hrm_sib(H_R15, H_R11, 0, second + (int32_t)offsetof(TLBEntry, addend));
    emit_rm(e, EMIT_W, OPC_MOV_GvEv, H_R11, &addend); /* leaves the flags */
    emit_u8(e, OPC_RET);
}

bool bt_emit_stubs(BT *bt)
{
    Emit e;
    emit_init(&e, bt->rw, 4096, bt->rx_delta);
    emit_enter(&e, &bt->enter, false);
    emit_epilogues(bt, &e, false);
    emit_thunk(bt, &e, false);
    emit_enter(&e, &bt->enter64, true);
    emit_epilogues(bt, &e, true);
    emit_thunk(bt, &e, true);
    emit_sse_save_stub(bt, &e, false);
    emit_sse_save_stub(bt, &e, true);
    emit_state_flush64_stub(bt, &e);
    for (int view = 0; view < MMU_COUNT; view++) {
        for (int access = 0; access < 3; access++) {
            emit_tlb2_stub(bt, &e, view, access);
        }
    }
    if (e.overflow) {
        return false; /* the stubs outgrew their 4096 bytes: a build error, never input */
    }
    bt->stubs_size = ((size_t)(e.p - bt->rw) + 63) & ~(size_t)63;
    bt->code_used = bt->stubs_size;
    bt->stats.host_bytes += bt->stubs_size;
    return true;
}
