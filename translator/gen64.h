/*
 * The 64-bit blocks' register scheme (gen64.c), shared by the generators
 * of 64-bit code: RAX..RDI in the host registers of the same name and
 * RSP in R12, at 64 bits; R8-R15 in CPUState.regs.
 */
#ifndef TRANSLATOR_GEN64_H
#define TRANSLATOR_GEN64_H

#include "translator/gen.h"

/* Guest register r's place: a host register for RAX..RDI and RSP. */
static inline bool g64_pinned(int r)
{
    return r < 8;
}

static inline int32_t g64_reg_off(int r)
{
    return CPU_OFF(regs) + 8 * r;
}

static inline HostRM g64_reg_loc(int r)
{
    return g64_pinned(r) ? hrm_reg(hreg(r)) : hrm_mem(H_R15, g64_reg_off(r));
}

/* mov dword [r15 + regs + 8*r + 4], 0: a 32-bit result's zero extension. */
static inline void g64_zero_high(Gen *g, int r)
{
    emit_store32_imm(&g->e, H_R15, g64_reg_off(r) + 4, 0);
}

/* A 64-bit guest register into host scratch (its own host register if pinned). */
static inline int g64_reg_to_host(Gen *g, int r, int scratch)
{
    if (g64_pinned(r)) {
        return hreg(r);
    }
    emit_load64(&g->e, scratch, H_R15, g64_reg_off(r)); /* mov scratch, [r15+regs+8*r] */
    return scratch;
}

/* The r/m register of a register-form ModRM (mod 3). */
static inline int g64_rm_reg(const Insn *in)
{
    return in->rm | ((in->rex & INSN_REX_B) ? 8 : 0);
}

static inline int g64_reg_reg(const Insn *in)
{
    return in->reg | ((in->rex & INSN_REX_R) ? 8 : 0);
}

/* value into guest register r at operand size 8 (a 32-bit immediate is
 * given zero-extended); no flags. */
void gen64_set_reg_imm(Gen *g, int r, uint64_t value);

/* An exit to target: chained when it is on the block's own page. */
void gen64_exit(Gen *g, uint64_t target);

/* r14 = the linear address of insn's ModRM memory operand (64-bit
 * addressing, not RIP-relative; an FS or GS base added); false if it
 * needs a callout.  Parks the flags. */
bool gen64_operand_linear(Gen *g, const Insn *in);

/* The same for any of si's ModRM memory operands, RIP-relative ones too
 * (a constant: the next instruction's RIP is known). */
bool gen64_operand_addr(Gen *g, const ScanInsn *si);

/* The integer instruction forms of 64-bit blocks (gen64_ops.c); false
 * (nothing emitted) if si is not one or needs a callout. */
bool gen64_data_insn(Gen *g, const ScanInsn *si);

#endif /* TRANSLATOR_GEN64_H */
