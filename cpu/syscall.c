/*
 * The fast system calls: SYSENTER/SYSEXIT (Intel's, also in IA-32e mode),
 * SYSCALL/SYSRET (64-bit mode, with EFER.SCE), and SWAPGS (SDM Vol.2
 * SYSENTER, SYSEXIT, SYSCALL, SYSRET, SWAPGS).
 *
 * None of them reads a descriptor: they load CS and SS with fixed flat
 * attributes from selectors the MSRs give, which is what makes them fast,
 * and what makes the kernel responsible for a GDT that matches.
 *
 * The two vendors differ, and a guest picks its entry by the vendor CPUID
 * names (Linux's 32-bit vDSO uses SYSENTER on Intel, SYSCALL on AMD):
 *   Intel: SYSCALL/SYSRET only in 64-bit mode (#UD elsewhere); SYSENTER
 *          and SYSEXIT everywhere in protected mode;
 *   AMD:   SYSCALL also from compatibility mode (to CSTAR) and in legacy
 *          protected mode (to STAR[31:0], 32-bit code), SYSRET also from
 *          legacy mode; SYSENTER/SYSEXIT #UD in IA-32e mode.
 * (AMD APM Vol.3 SYSCALL, SYSRET, SYSENTER; SDM Vol.2 SYSCALL, SYSRET.)
 */
#include <string.h>

#include "cpu/desc.h"
#include "cpu/models.h"
#include "cpu/ops.h"

/* Whether the -cpu model is AMD's (qemu64 is). */
static bool cpu_is_amd(const CPUState *cpu)
{
    const CPUModel *m = cpu->cpuid.model;
    return m && m->vendor && !strcmp(m->vendor, "AuthenticAMD");
}

/* The flat 4 GiB segments the fast system calls load: base 0, limit
 * FFFFFFFFh, G; a 64-bit code segment (L) or a 32-bit one (D). */
static void seg_set_flat(SegmentCache *sc, uint16_t selector, uint32_t attr, uint32_t dpl)
{
    sc->selector = selector;
    sc->base = 0;
    sc->limit = 0xffffffffu;
    sc->attr = attr | DESC_P | DESC_S | DESC_G | (dpl << DESC_DPL_SHIFT);
    seg_update_check(sc);
}

#define FLAT_CODE32_ATTR (DESC_CODE | DESC_R | DESC_A | DESC_B) /* execute/read, accessed */
#define FLAT_CODE64_ATTR (DESC_CODE | DESC_R | DESC_A | DESC_L)
#define FLAT_DATA_ATTR   (DESC_W | DESC_A | DESC_B) /* read/write, accessed */

static bool in_64bit_mode(const CPUState *cpu)
{
    return (cpu->hflags & HF_CS64) != 0;
}

/* ---- SYSENTER / SYSEXIT ---- */

/* In IA-32e mode SYSENTER enters 64-bit code at the full 64-bit
 * SYSENTER_EIP and _ESP, from compatibility mode as from 64-bit mode. */
void op_SYSENTER(CPUState *cpu, const Insn *insn)
{
    if (cpu_is_amd(cpu) && cpu_lma(cpu)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (!(cpu->cr0 & CR0_PE) || sel_is_null((uint16_t)cpu->sysenter_cs)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    bool lma = cpu_lma(cpu);
    uint16_t cs = (uint16_t)(cpu->sysenter_cs & 0xfffc);
    /* Leaves vm86 if it was there, with interrupts masked. */
    cpu_set_eflags(cpu, 0, EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
    seg_set_flat(&cpu->seg[SEG_CS], cs, lma ? FLAT_CODE64_ATTR : FLAT_CODE32_ATTR, 0);
    seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)(cs + 8), FLAT_DATA_ATTR, 0);
    cpu->regs[R_ESP] = lma ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
    cpu->next_eip = lma ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
    cpu_update_mode(cpu);
}

/* SYSEXIT with REX.W returns to 64-bit code at SYSENTER_CS + 32 (SS + 40),
 * RIP = RDX and RSP = RCX, both canonical; without it to 32-bit code at
 * SYSENTER_CS + 16 (SS + 24). */
void op_SYSEXIT(CPUState *cpu, const Insn *insn)
{
    if (cpu_is_amd(cpu) && cpu_lma(cpu)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (!(cpu->cr0 & CR0_PE) || sel_is_null((uint16_t)cpu->sysenter_cs) || cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (insn->opsize == 8) {
        uint64_t rip = cpu->regs[R_EDX], rsp = cpu->regs[R_ECX];
        if (!mmu_canonical(rip) || !mmu_canonical(rsp)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)((cs + 32) | 3), FLAT_CODE64_ATTR, 3);
        seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((cs + 40) | 3), FLAT_DATA_ATTR, 3);
        cpu->regs[R_ESP] = rsp;
        cpu->next_eip = rip;
    } else {
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)((cs + 16) | 3), FLAT_CODE32_ATTR, 3);
        seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((cs + 24) | 3), FLAT_DATA_ATTR, 3);
        cpu->regs[R_ESP] = (uint32_t)cpu->regs[R_ECX];
        cpu->next_eip = (uint32_t)cpu->regs[R_EDX];
    }
    cpu_update_mode(cpu);
    cpu_clear_high_halves(cpu);
}

/* ---- SYSCALL / SYSRET ---- */

/* #UD with EFER.SCE clear, and outside 64-bit mode on Intel; outside
 * protected mode (real mode, vm86) on AMD. */
static void require_syscall(CPUState *cpu)
{
    bool mode_ok = in_64bit_mode(cpu) ||
                   (cpu_is_amd(cpu) && (cpu->hflags & HF_PE) && !(cpu->hflags & HF_VM));
    if (!mode_ok || !(cpu->efer & EFER_SCE)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
}

/*
 * SYSCALL: CS = STAR[47:32] (DPL 0), SS = that + 8.  In IA-32e mode: RCX =
 * the next RIP, R11 = RFLAGS, RFLAGS &= ~FMASK (and RF cleared), 64-bit
 * code at LSTAR (from 64-bit mode) or CSTAR (from compatibility mode).
 * In AMD's legacy mode: ECX = the next EIP, IF, VM and RF cleared, 32-bit
 * code at STAR[31:0].  RSP stays: the kernel switches stacks itself.
 */
void op_SYSCALL(CPUState *cpu, const Insn *insn)
{
    require_syscall(cpu);
    uint16_t cs = (uint16_t)(cpu->msr_star >> 32);
    if (!cpu_lma(cpu)) {
        cpu->regs[R_ECX] = (uint32_t)cpu->next_eip;
        cpu_set_eflags(cpu, 0, EFLAGS_IF | EFLAGS_RF | EFLAGS_VM);
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(cs & 0xfffc), FLAT_CODE32_ATTR, 0);
        seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)(cs + 8), FLAT_DATA_ATTR, 0);
        cpu_update_mode(cpu);
        cpu->next_eip = (uint32_t)cpu->msr_star;
        return;
    }
    uint64_t target = in_64bit_mode(cpu) ? cpu->msr_lstar : cpu->msr_cstar;
    cpu->regs[R_ECX] = cpu->next_eip;
    cpu->regs[11] = cpu_get_eflags(cpu);
    cpu_set_eflags(cpu, 0, (uint32_t)cpu->msr_fmask | EFLAGS_RF | EFLAGS_VM);
    seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(cs & 0xfffc), FLAT_CODE64_ATTR, 0);
    seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)(cs + 8), FLAT_DATA_ATTR, 0);
    cpu_update_mode(cpu);
    cpu->next_eip = target;
}

/*
 * SYSRET: CPL 0 only.  With REX.W back to 64-bit code, CS = STAR[63:48] +
 * 16, RIP = RCX (non-canonical is #GP(0) here, before anything changes);
 * without it to compatibility mode, CS = STAR[63:48], RIP = ECX.  SS =
 * STAR[63:48] + 8, RPL 3 all; RFLAGS from R11 (RF and VM cleared, bit 1 set).
 * AMD's legacy-mode SYSRET returns to 32-bit code at ECX and sets IF.
 */
void op_SYSRET(CPUState *cpu, const Insn *insn)
{
    require_syscall(cpu);
    if (cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint16_t base = (uint16_t)(cpu->msr_star >> 48);
    uint64_t rip = cpu->regs[R_ECX];
    if (!cpu_lma(cpu)) { /* AMD's legacy mode: back to 32-bit code, IF set */
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(base | 3), FLAT_CODE32_ATTR, 3);
        seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((base + 8) | 3), FLAT_DATA_ATTR, 3);
        cpu_update_mode(cpu);
        cpu_set_eflags(cpu, EFLAGS_IF, EFLAGS_IF);
        cpu->next_eip = (uint32_t)rip;
        return;
    }
    if (insn->opsize == 8) {
        if (!mmu_canonical(rip)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)((base + 16) | 3), FLAT_CODE64_ATTR, 3);
    } else {
        rip = (uint32_t)rip;
        seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(base | 3), FLAT_CODE32_ATTR, 3);
    }
    seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((base + 8) | 3), FLAT_DATA_ATTR, 3);
    cpu_update_mode(cpu);
    cpu_set_eflags(cpu, (uint32_t)cpu->regs[11], ~(uint32_t)(EFLAGS_RF | EFLAGS_VM));
    cpu->next_eip = rip;
    cpu_clear_high_halves(cpu);
}

/* SWAPGS: exchange GS.base and KERNEL_GS_BASE; 64-bit mode, CPL 0. */
void op_SWAPGS(CPUState *cpu, const Insn *insn)
{
    if (!in_64bit_mode(cpu)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t gs_base = cpu->seg[SEG_GS].base;
    cpu->seg[SEG_GS].base = cpu->kernel_gs_base;
    cpu->kernel_gs_base = gs_base;
}
