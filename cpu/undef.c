/*
 * Which arithmetic flags an instruction leaves undefined (SDM Vol.1
 * Appendix A, "EFLAGS Cross-Reference", and each instruction's "Flags
 * Affected" in Vol.2).  A flag an instruction leaves *unaffected* is not
 * undefined: it keeps its value on every CPU.
 *
 * The interpreter perturbs exactly these when CPUState.undef_perturb is
 * set (cpu/interp.c); the checkers use that to find what derives from them
 * (docs/undefined.md).  The undefined destinations are perturbed by their
 * handlers through undef_result(): SHLD/SHRD r/m16 by 17..31
 * (ops_shift.c), BSF/BSR of zero and BSWAP r16 (ops_bit.c).
 */
#include "cpu/undef.h"

#define UNDEF_SZAP (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF)

const uint32_t undef_fills[UNDEF_NFILLS] = {
    0xffffffffu, 0x00000000u, 0x55555555u, 0xaaaaaaaau, 0x33333333u, 0xccccccccu,
    0x0f0f0f0fu, 0xf0f0f0f0u, 0x00ff00ffu, 0xff00ff00u, 0x0000ffffu, 0xffff0000u,
};

int cpu_count_operand(const Insn *insn)
{
    switch (insn->op) {
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR:
    case OP_SHL:
    case OP_SHR:
    case OP_SAR: return 1;
    case OP_SHLD:
    case OP_SHRD: return 2;
    default: return -1;
    }
}

/*
 * Shifts and rotates by a masked count of 0 change no flag.  Otherwise OF
 * is defined only for a count of 1 (for RCL/RCR too, even when the count
 * modulo 9 or 17 rotates nothing), and the shifts leave AF undefined.  CF
 * is undefined after SHL/SHR by the operand width or more; SAR's is the
 * sign.  SHLD/SHRD by more than the width (16-bit operands: 17..31) leave
 * everything undefined, the destination too.
 */
static uint32_t shift_undefined(const Insn *insn, uint32_t count)
{
    uint32_t bits = 8u * insn->opnd[0].size;
    if (count == 0) {
        return 0;
    }
    uint32_t u = count == 1 ? 0 : EFLAGS_OF;
    switch (insn->op) {
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR: return u;
    case OP_SHL:
    case OP_SHR: return u | EFLAGS_AF | (count >= bits ? EFLAGS_CF : 0);
    case OP_SAR: return u | EFLAGS_AF;
    default: return count > bits ? EFLAGS_ARITH : u | EFLAGS_AF; /* SHLD SHRD */
    }
}

uint32_t cpu_undefined_flags(const Insn *insn, uint32_t count)
{
    switch (insn->op) {
    case OP_AND:
    case OP_OR:
    case OP_XOR:
    case OP_TEST: return EFLAGS_AF;
    case OP_MUL:
    case OP_IMUL1:
    case OP_IMUL2:
    case OP_IMUL3: return UNDEF_SZAP;
    case OP_DIV:
    case OP_IDIV: return EFLAGS_ARITH;
    case OP_BSF:
    case OP_BSR: return EFLAGS_ARITH & ~EFLAGS_ZF;
    case OP_BT:
    case OP_BTS:
    case OP_BTR:
    case OP_BTC: return EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF; /* ZF unaffected */
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR:
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
    case OP_SHLD:
    case OP_SHRD: return shift_undefined(insn, count);
    case OP_AAA:
    case OP_AAS: return EFLAGS_OF | EFLAGS_SF | EFLAGS_ZF | EFLAGS_PF;
    case OP_AAM:
    case OP_AAD: return EFLAGS_OF | EFLAGS_AF | EFLAGS_CF;
    case OP_DAA:
    case OP_DAS: return EFLAGS_OF;
    default: return 0;
    }
}
