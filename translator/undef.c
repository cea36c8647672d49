/*
 * Which arithmetic flags an instruction leaves undefined (SDM Vol.1
 * Appendix A, "EFLAGS Cross-Reference", and each instruction's "Flags
 * Affected").  Translated code runs the host's own instruction, whose
 * undefined flags need not match the interpreter's choice, so the lockstep
 * check masks these after a block that ran one.
 */
#include "translator/bt_internal.h"

#define UNDEF_SZAP (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF)

/* Count of a shift or rotate, or -1 when it comes from CL. */
static int shift_count(const Insn *insn)
{
    int i = (insn->op == OP_SHLD || insn->op == OP_SHRD) ? 2 : 1;
    if (insn->opnd[i].kind == OPK_CONST1) {
        return 1;
    }
    if (insn->opnd[i].kind == OPK_IMM) {
        return (int)(insn->imm & 31);
    }
    return -1;
}

static uint32_t shift_undefined(const Insn *insn)
{
    int count = shift_count(insn);
    int bits = 8 * insn->opnd[0].size;
    if (count == 0) {
        return 0;
    }
    uint32_t u = count == 1 ? 0 : EFLAGS_OF;
    switch (insn->op) {
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR: return u;
    default:
        /* SHL SHR SAR SHLD SHRD: AF always; CF when the count may pass the width. */
        u |= EFLAGS_AF;
        if (count < 0 || count > bits) {
            u |= EFLAGS_CF;
        }
        if (insn->op == OP_SHLD || insn->op == OP_SHRD) {
            u |= count < 0 || count > bits ? EFLAGS_ARITH : 0;
        }
        return u;
    }
}

uint32_t bt_undefined_flags(const Insn *insn)
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
    case OP_BTC: return EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF;
    case OP_ROL:
    case OP_ROR:
    case OP_RCL:
    case OP_RCR:
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
    case OP_SHLD:
    case OP_SHRD: return shift_undefined(insn);
    case OP_AAA:
    case OP_AAS: return EFLAGS_OF | EFLAGS_SF | EFLAGS_ZF | EFLAGS_PF;
    case OP_AAM:
    case OP_AAD: return EFLAGS_OF | EFLAGS_AF | EFLAGS_CF;
    case OP_DAA:
    case OP_DAS: return EFLAGS_OF;
    default: return 0;
    }
}
