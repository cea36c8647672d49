/*
 * Results the SDM leaves undefined, and the knob that perturbs them.
 *
 * Real CPUs differ in what they leave in an undefined flag or destination
 * (Intel and AMD, and generation to generation), so no test may compare
 * one with a particular CPU: docs/undefined.md has the rule and how the
 * checkers follow it.  This is the ISA side: which flags each instruction
 * leaves undefined (cpu/undef.c), the value an undefined result takes
 * (CPUState.undef_perturb, undef_fill) and the fills the checkers replay
 * the interpreter with.
 */
#ifndef CPU_UNDEF_H
#define CPU_UNDEF_H

#include <stdint.h>

#include "cpu/decode.h"
#include "cpu/state.h"

/*
 * The arithmetic flags insn leaves undefined (SDM Vol.1 Appendix A and each
 * instruction's "Flags Affected"), given the masked count (count & 1Fh) of
 * a shift or rotate, which the caller reads before the instruction runs;
 * other instructions ignore count.
 */
uint32_t cpu_undefined_flags(const Insn *insn, uint32_t count);

/* The operand holding the count of a shift or rotate, or -1. */
int cpu_count_operand(const Insn *insn);

/* An undefined destination: the interpreter's own value, or the fill. */
static inline uint32_t undef_result(const CPUState *cpu, uint32_t own)
{
    return cpu->undef_perturb ? cpu->undef_fill : own;
}

/*
 * The undef_fill values a checker replays with, in order: all ones, all
 * zeros, then the bits whose index has bit 0, 1, 2, 3 or 4 clear and their
 * complements.  The fills are set, not XORed into the interpreter's value,
 * because some undefined results are the instruction's inputs (DIV keeps
 * the flags, BSF of zero its destination) and two XORs would cancel.  Any
 * two undefined bits at different positions take all four combinations of
 * values across these fills, so whatever a CPU leaves in them, some
 * replay leaves the same.
 */
#define UNDEF_NFILLS 12
extern const uint32_t undef_fills[UNDEF_NFILLS];

#endif /* CPU_UNDEF_H */
