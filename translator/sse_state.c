/*
 * The run-time side of the MMX and SSE instructions translated code runs
 * natively (translator/gen_sse.c): the check at the start of each stretch
 * with the guest's XMM state in the host.
 *
 * The load and the save themselves are emitted code (movups and
 * LDMXCSR/STMXCSR straight between the host and CPUState.fpu), so only the
 * mode needs C: native execution is exact only when no instruction of the
 * stretch can fault, and that depends on CR0, CR4 and MXCSR, each of which
 * only a callout can change (MOV CR0/CR4, CLTS, LMSW, LDMXCSR, FXRSTOR, a
 * task switch), and every callout takes the state out of the host first.
 */
#include "cpu/simd.h"
#include "translator/bt_internal.h"

bool bt_sse_native_ok(const CPUState *cpu)
{
    return !(cpu->cr0 & (CR0_EM | CR0_TS)) && (cpu->cr4 & CR4_OSFXSR) &&
           (cpu->fpu.mxcsr & MXCSR_MASKS) == MXCSR_MASKS;
}

/*
 * The first native SSE instruction of a stretch: go on (the block then
 * loads the state), or, when it may fault (#UD from CR0.EM or CR4.OSFXSR,
 * #NM from CR0.TS, #XM or the unbounded-exponent flags with an exception
 * unmasked), run this instruction in the interpreter and leave translated
 * code after it.  The next block checks again at its first SSE
 * instruction.
 */
int bt_helper_sse_enter(CPUState *cpu, const BTCallInfo *ci)
{
    BT *bt = bt_of(cpu);
    if (bt_sse_native_ok(cpu)) {
        bt->stats.sse_loads++;
        return 0;
    }
    bt->stats.sse_fallbacks++;
    bt_helper_enter(cpu, ci);
    interp_exec_insn(cpu, &ci->insn);
    return bt_helper_leave(cpu, ci, cpu->next_eip, true);
}
