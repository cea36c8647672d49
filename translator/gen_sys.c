/*
 * System instructions the kernel runs on every system call, through light
 * helpers instead of the interpreter callout (translator/helpers_sys.c):
 * segment-register loads, RDTSC, VERW, SYSENTER and SYSEXIT.
 *
 * A light helper still reaches C through the thunk (the guest registers
 * stored and reloaded), and still runs the interpreter's own code for the
 * instruction, so every descriptor check, fault and error code is the
 * interpreter's.  What it leaves out is what made the callout dear on the
 * kernel's paths:
 *
 * - MOV Sreg and POP Sreg into ES, DS, FS or GS no longer end their block
 *   (scan.c).  The helper compares the one segment's class with the
 *   block's key: Linux reloads DS and ES with the selector they already
 *   hold on every entry, and those go on in the same block.  A load that
 *   changes the key (FS between the user's null selector and the kernel's
 *   per-CPU segment) leaves the block at the next instruction through the
 *   jump cache under the new key, with no run-loop trip:
 *
 *       <call thunk: bt_helper_seg_load>
 *       cmp dword [r15+bt_tag_hi+4], key ; je go_on
 *       mov r14d, next_eip ; <indirect exit (gen.c)>
 *     go_on:
 *
 *   MOV SS and POP SS keep the callout and end the block: the instruction
 *   after them runs in their interrupt shadow on the interpreter, as
 *   before, and SS.B is part of the key.
 *
 * - SYSENTER and SYSEXIT compute the key of the mode they enter from the
 *   block's (CPL and SS change, SS to a flat segment) instead of
 *   bt_block_key() over every segment.
 *
 * - RDTSC and VERW change no mode: their helpers do the instruction and
 *   return, without the census or the end-of-callout checks.
 *
 * info jit counts them as "light helpers", apart from the callouts.
 */
#include "translator/gen64.h"
#include "translator/gen64_flow.h"

bool bt_seg_load_light(const Insn *insn)
{
    if (insn->op != OP_MOV_SREG_EW && insn->op != OP_POP_SREG) {
        return false;
    }
    int seg = insn->opnd[0].reg;
    return seg == SEG_ES || seg == SEG_DS || seg == SEG_FS || seg == SEG_GS;
}

/* Instructions with INSN_F_ENDBLOCK that scan.c lets a block go on after:
 * light segment loads, and MOV r32, CRn, which changes nothing (at CPL > 0
 * it faults in its callout). */
bool bt_sys_stays_in_block(const Insn *insn)
{
    return bt_seg_load_light(insn) || (insn->op == OP_MOV_CR && insn->opnd[0].kind == OPK_REG);
}

/* The same in 64-bit blocks: SWAPGS and WRMSR at CPL 0, MOV r64, CRn (at
 * CPL > 0 it faults in its callout) and the light segment loads
 * (gen64_sys_insn). */
bool bt_sys_stays_in_block64(const Insn *insn, uint32_t key)
{
    bool cpl0 = (key & KEY_CPL_MASK) == 0;
    return ((insn->op == OP_SWAPGS || insn->op == OP_WRMSR) && cpl0) || bt_seg_load_light(insn) ||
           (insn->op == OP_MOV_CR && insn->opnd[0].kind == OPK_REG);
}

/* A segment load; leaves through the jump cache when the key changed. */
static void gen_seg_load(Gen *g, const ScanInsn *si)
{
    Emit *e = &g->e;
    BTCallInfo *ci = gen_callinfo(g, si, bt_helper_seg_load);
    gen_call(g, ci);
    HostRM tag = hrm_mem(H_R15, CPU_OFF(bt_tag_hi) + 4);
    emit_alu32_imm(e, EXT_CMP, &tag, (int32_t)g->key);
    uint8_t *go_on = emit_jcc32(e, CC_E, NULL);
    emit_mov_r32_imm(e, H_R14, ci->next_eip);
    gen_exit_indirect(g);
    emit_bind32(e, go_on);
}

/*
 * Two reads run as one host instruction each, flag-neutral:
 *   MOV r32, Sreg   movzx r32, word [r15+seg[s].selector]   (zero-extended on the P6)
 *   MOV r16, Sreg   mov r16, word [r15+seg[s].selector]
 *   MOV r32, CRn    mov r32, dword [r15+crN]                (CPL 0; CR0, CR2, CR3, CR4)
 * (the kernel's savesegment() and read_cr0()/read_cr3() on every context
 * switch).  The memory form of MOV Sreg, MOV CRn at CPL > 0 (#GP) and
 * CR1, CR5-CR7 (#UD) stay callouts.
 */
static bool gen_sys_read(Gen *g, const Insn *in)
{
    const Operand *dst = &in->opnd[0], *src = &in->opnd[1];
    if (dst->kind != OPK_REG) {
        return false;
    }
    Emit *e = &g->e;
    if (in->op == OP_MOV_EW_SREG && src->kind == OPK_SREG) {
        HostRM m = hrm_mem(H_R15, CPU_OFF(seg[src->reg].selector));
        if (dst->size == 2) {
            emit_rm(e, EMIT_66, OPC_MOV_GvEv, hreg(dst->reg), &m);
        } else {
            emit_rm(e, 0, OPC_MOVZX_GvEw, hreg(dst->reg), &m);
        }
        return true;
    }
    if (in->op == OP_MOV_CR && src->kind == OPK_CREG && (g->key & KEY_CPL_MASK) == 0) {
        int32_t off;
        switch (src->reg) {
        case 0: off = CPU_OFF(cr0); break;
        case 2: off = CPU_OFF(cr2); break;
        case 3: off = CPU_OFF(cr3); break;
        case 4: off = CPU_OFF(cr4); break;
        default: return false;
        }
        emit_load32(e, hreg(dst->reg), H_R15, off);
        return true;
    }
    return false;
}

/*
 * In STI's shadow too (gen_ops.c asks here first): a helper ends the
 * shadow after its instruction, as the callout there would, and a native
 * STI before it left the shadow open in CPUState (not an instruction
 * sti_shadow_plain() accepts) or noted the count for a fault in it.
 */
bool gen_sys_insn(Gen *g, const ScanInsn *si)
{
    const Insn *in = &si->insn;
    BTHelper fn = NULL;
    switch (in->op) {
    case OP_RDTSC: fn = bt_helper_rdtsc; break;
    case OP_VERW: fn = bt_helper_sys_stay; break;
    case OP_SYSENTER:
    case OP_SYSEXIT:
        /* the block's last instruction (scan.c): gen.c emits its far exit */
        fn = bt_helper_sys_door;
        break;
    case OP_MOV_EW_SREG:
    case OP_MOV_CR:
        if (si > g->scan->in && si[-1].insn.op == OP_STI) {
            return false; /* gen_ops.c's shadow handling (a plain instruction) */
        }
        return gen_sys_read(g, in);
    default:
        if (!bt_seg_load_light(in)) {
            return false;
        }
        break;
    }
    g->sti_ci = NULL; /* what gen_ops.c's shadow instruction would reset */
    g->sti_native = false;
    if (fn) {
        gen_call(g, gen_callinfo(g, si, fn));
    } else {
        gen_seg_load(g, si);
    }
    return true;
}

/*
 * The reads of 64-bit blocks, one load from CPUState each (flag-neutral),
 * into the guest register, or through r9 into CPUState for R8-R15:
 *   MOV r32/r64, Sreg   movzx r32, word [r15+seg[s].selector]   (zero-extended to 64 bits)
 *   MOV r16, Sreg       mov r16, word [r15+seg[s].selector]     (bits 63:16 kept)
 *   MOV r64, CR2/CR3    mov r64, [r15+crN]                      (CPL 0)
 *   MOV r64, CR0/CR4    mov r32, dword [r15+crN]                (32 bits here, zero-extended)
 * (Linux's savesegment() of ES, DS, FS, GS and SS on every context
 * switch; read_cr0(), __read_cr3(), __read_cr4()).  CR8 is the APIC's
 * TPR behind CPUHooks: a light helper (gen64_sys_insn).  At CPL > 0 a CR
 * read is the interpreter's #GP(0); the memory form of MOV Sreg is a
 * callout.
 */
static bool gen64_sys_read(Gen *g, const Insn *in)
{
    const Operand *dst = &in->opnd[0], *src = &in->opnd[1];
    if (dst->kind != OPK_REG) {
        return false;
    }
    Emit *e = &g->e;
    int r = dst->reg, host = g64_pinned(r) ? hreg(r) : H_R9;
    if (in->op == OP_MOV_EW_SREG && src->kind == OPK_SREG) {
        HostRM sel = hrm_mem(H_R15, CPU_OFF(seg[src->reg].selector));
        if (dst->size == 2) {
            emit_rm(e, EMIT_66, OPC_MOV_GvEv, host, &sel);
        } else {
            emit_rm(e, 0, OPC_MOVZX_GvEw, host, &sel);
        }
    } else if (in->op == OP_MOV_CR && src->kind == OPK_CREG && (g->key & KEY_CPL_MASK) == 0) {
        switch (src->reg) {
        case 0: emit_load32(e, host, H_R15, CPU_OFF(cr0)); break;
        case 2: emit_load64(e, host, H_R15, CPU_OFF(cr2)); break;
        case 3: emit_load64(e, host, H_R15, CPU_OFF(cr3)); break;
        case 4: emit_load32(e, host, H_R15, CPU_OFF(cr4)); break;
        default: return false;
        }
    } else {
        return false;
    }
    if (host == H_R9) {
        HostRM slot = hrm_mem(H_R15, g64_reg_off(r));
        emit_rm(e, dst->size == 2 ? EMIT_66 : EMIT_W, OPC_MOV_EvGv, H_R9, &slot);
    }
    return true;
}

_Static_assert(sizeof(((CPUState *)0)->cr0) == 4 && sizeof(((CPUState *)0)->cr4) == 4 &&
                   sizeof(((CPUState *)0)->cr2) == 8 && sizeof(((CPUState *)0)->cr3) == 8,
               "gen64_sys_read loads CR0 and CR4 as dwords, CR2 and CR3 as qwords");

/*
 * 64-bit blocks: RDTSC and VERW through their light helpers, as above;
 * MOV Sreg and POP Sreg into ES, DS, FS or GS, MOV r64, CR8 and RDMSR
 * through bt_helper_sys_stay, after which the block goes on (a 64-bit key
 * holds no segment, scan.c); WRMSR at CPL 0 through bt_helper_wrmsr64,
 * which goes on after the FS, GS and kernel GS bases (the kernel's FS
 * base on every switch to a thread with TLS) and leaves after any other
 * MSR; the reads above; and SWAPGS at CPL 0 as four moves
 * (SDM Vol.2 SWAPGS: GS.base and IA32_KERNEL_GS_BASE exchanged, no flags):
 *     mov r9, [r15+seg[GS].base] ; mov r14, [r15+kernel_gs_base]
 *     mov [r15+seg[GS].base], r14 ; mov [r15+kernel_gs_base], r9
 * A 64-bit key holds neither base and 64-bit blocks read GS's as they run,
 * so the block goes on after it (scan.c).  At CPL 3 it is the
 * interpreter's #GP.  MOV SS keeps its callout and ends its block: the
 * instruction in its shadow runs on the interpreter.
 */
bool gen64_sys_insn(Gen *g, const ScanInsn *si)
{
    Emit *e = &g->e;
    const Insn *in = &si->insn;
    switch (in->op) {
    case OP_RDTSC: gen_call(g, gen_callinfo(g, si, bt_helper_rdtsc)); return true;
    case OP_VERW:
    case OP_RDMSR: gen_call(g, gen_callinfo(g, si, bt_helper_sys_stay)); return true;
    case OP_WRMSR:
        if ((g->key & KEY_CPL_MASK) != 0) {
            return false;
        }
        gen_call(g, gen_callinfo(g, si, bt_helper_wrmsr64));
        return true;
    case OP_MOV_SREG_EW:
    case OP_POP_SREG:
        if (!bt_seg_load_light(in)) {
            return false;
        }
        gen_call(g, gen_callinfo(g, si, bt_helper_sys_stay));
        return true;
    case OP_MOV_EW_SREG: return gen64_sys_read(g, in);
    case OP_MOV_CR:
        if (in->opnd[0].kind == OPK_REG && in->opnd[1].reg == 8) {
            gen_call(g, gen_callinfo(g, si, bt_helper_sys_stay));
            return true;
        }
        return gen64_sys_read(g, in);
    case OP_SWAPGS:
        if ((g->key & KEY_CPL_MASK) != 0) {
            return false;
        }
        emit_load64(e, H_R9, H_R15, CPU_OFF(seg[SEG_GS].base));
        emit_load64(e, H_R14, H_R15, CPU_OFF(kernel_gs_base));
        emit_store64(e, H_R15, CPU_OFF(seg[SEG_GS].base), H_R14);
        emit_store64(e, H_R15, CPU_OFF(kernel_gs_base), H_R9);
        return true;
    default: return false;
    }
}

/*
 * SYSCALL and SYSRET in 64-bit blocks, the block's last instruction: the
 * light helper runs the interpreter's instruction and works out whether
 * the mode allows going on (bt_helper_sys_door64), then the far exit looks
 * the target up in the jump cache under the new key and TLB view, so a
 * system call goes from the user's SYSCALL into the kernel and back from
 * its SYSRET without the run loop:
 *     <call thunk64: bt_helper_sys_door64>
 *     mov r14, [r15+eip] ; <jump-cache lookup (gen64_flow.c)>
 */
void gen64_sys_door(Gen *g, const ScanInsn *si)
{
    gen_call(g, gen_callinfo(g, si, bt_helper_sys_door64));
    gen64_exit_far(g);
}

/*
 * IRET in a 64-bit block (the block's last, scan.c): the same light
 * helper and far exit as SYSRET, so a return from an interrupt or
 * exception handler to 64-bit code, at the same CPL or to CPL 3, goes on
 * through the jump cache under the key it enters; everything else about
 * it (the frame's checks and faults, a return to compatibility mode, NMI
 * unblocking, the stack switch) is the interpreter's cpu_iret().
 */
bool gen64_sys_end(Gen *g, const ScanInsn *si)
{
    if (si->insn.op != OP_IRET) {
        return false;
    }
    gen64_sys_door(g, si);
    return true;
}
