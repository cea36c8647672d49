/*
 * Interpreter handlers for the x87 and FXSR instructions: the CR0 checks
 * that come before anything else (SDM Vol.3 2.5, Table 2-2 and 13.2), then
 * cpu/fpu.c does the work.
 *
 *   CR0.EM  CR0.TS  CR0.MP   x87 escape   WAIT/FWAIT   FXSAVE/FXRSTOR
 *     1       x       x        #NM          -            #NM
 *     0       1       1        #NM          #NM          #NM
 *     0       1       0        #NM          -            #NM
 *
 * The #NM handler of an OS that switches FPU state lazily relies on this.
 */
#include "cpu/ops.h"

void op_FPU(CPUState *cpu, const Insn *insn)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM);
    }
    fpu_exec(cpu, insn);
}

void op_WAIT(CPUState *cpu, const Insn *insn)
{
    if ((cpu->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP)) {
        cpu_raise_exception(cpu, EXC_NM);
    }
    fpu_check_pending(cpu);
}

/* FXSAVE/FXRSTOR take only a memory operand; the register form is #UD. */
static void fxsr_check(CPUState *cpu, const Insn *insn)
{
    if (!insn_has_modrm_mem(insn)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM);
    }
}

void op_FXSAVE(CPUState *cpu, const Insn *insn)
{
    fxsr_check(cpu, insn);
    fpu_fxsave(cpu, insn->seg, insn_ea(cpu, insn), (insn->rex & INSN_REX_W) != 0);
}

void op_FXRSTOR(CPUState *cpu, const Insn *insn)
{
    fxsr_check(cpu, insn);
    fpu_fxrstor(cpu, insn->seg, insn_ea(cpu, insn), (insn->rex & INSN_REX_W) != 0);
}
