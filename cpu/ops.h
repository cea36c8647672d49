/*
 * What every instruction handler (cpu/ops_*.c) sees: the handler signature
 * and the generic operand accessors that follow the decoder's resolved
 * operands.  One handler per enum InsnOp, named op_<NAME>; the dispatch
 * table is in cpu/interp.c.
 *
 * Handler contract: on entry cpu->eip is the instruction's address and
 * cpu->next_eip the address after it.  A handler that transfers control sets
 * cpu->next_eip (and CS, for far transfers).  It may fault at any point
 * before it commits state; after the last possible fault it commits.  The
 * dispatcher then sets cpu->eip = cpu->next_eip.
 */
#ifndef CPU_OPS_H
#define CPU_OPS_H

#include "cpu/cpu.h"
#include "cpu/mem.h"

typedef void (*InsnHandler)(CPUState *cpu, const Insn *insn);

#define INSN_HANDLER_DECL(name) void op_##name(CPUState *cpu, const Insn *insn);
INSN_OPS(INSN_HANDLER_DECL)
#undef INSN_HANDLER_DECL
/* Every operation of cpu/simd_ops.def (cpu/ops_simd.c). */
void op_simd(CPUState *cpu, const Insn *insn);

/* Operand i of insn: read, write, and the read-modify-write pair, which
 * checks write access once before reading so a fault is reported as a
 * write, as the hardware does for RMW instructions. */
uint64_t opnd_read_other(CPUState *cpu, const Insn *insn, int i);
void opnd_write_mem(CPUState *cpu, const Insn *insn, int i, uint64_t value);

/* Registers are most operands: keep that case inline. */
static inline uint64_t opnd_read(CPUState *cpu, const Insn *insn, int i)
{
    const Operand *o = &insn->opnd[i];
    if (likely(o->kind == OPK_REG)) {
        return reg_read(cpu, o->reg, o->size);
    }
    return opnd_read_other(cpu, insn, i);
}

static inline void opnd_write(CPUState *cpu, const Insn *insn, int i, uint64_t value)
{
    const Operand *o = &insn->opnd[i];
    if (likely(o->kind == OPK_REG)) {
        reg_write(cpu, o->reg, o->size, value);
    } else {
        opnd_write_mem(cpu, insn, i, value);
    }
}

typedef struct RMW {
    bool is_mem;     /* memory operand (else register) */
    uint64_t lin;    /* linear address of a memory operand, access-checked */
    uint8_t reg;     /* register operand number */
    uint8_t size;    /* 1, 2, 4, 8 */
} RMW;

uint64_t opnd_rmw_read(CPUState *cpu, const Insn *insn, int i, RMW *rmw);
void opnd_rmw_write(CPUState *cpu, const RMW *rmw, uint64_t value);

/* Linear address of the memory operand (segment checked for size bytes). */
static inline uint64_t insn_mem_linear(CPUState *cpu, const Insn *insn, int size, bool write)
{
    return seg_translate(cpu, insn->seg, insn_ea(cpu, insn), size, write);
}

/* Mask a branch target to the operand size: 16-bit operands wrap IP,
 * 32-bit ones EIP; 64-bit mode's are 64-bit (the 32-bit operand size does
 * not exist for near branches there). */
static inline uint64_t branch_target(const Insn *insn, uint64_t target)
{
    switch (insn->opsize) {
    case 2: return target & 0xffff;
    case 4: return (uint32_t)target;
    default: return target;
    }
}

/* The value mask of an operand size (1, 2, 4, 8 bytes). */
static inline uint64_t size_mask(int size)
{
    return size >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
}

/* The sign bit of an operand size. */
static inline uint64_t size_sign(int size)
{
    return UINT64_C(1) << (8 * size - 1);
}

/* value sign-extended from size bytes to 64 bits. */
static inline int64_t sext(uint64_t value, int size)
{
    int sh = 64 - 8 * size;
    return (int64_t)(value << sh) >> sh;
}

/* Set the lazy flags after an ALU op of size bytes (1, 2, 4, 8): op is the
 * byte variant of the CC_OP group (CC_OP_ADDB, CC_OP_SUBB, ...) and the
 * size index is log2(size). */
static inline void set_cc(CPUState *cpu, uint32_t op_b, int size, uint64_t res, uint64_t src1,
                          uint64_t src2)
{
    cpu->cc_op = op_b + (uint32_t)__builtin_ctz((unsigned)size);
    cpu->cc_res = res;
    cpu->cc_src1 = src1;
    cpu->cc_src2 = src2;
}

/* IOPL-sensitive instructions (CLI, STI, IN, OUT, INS, OUTS, PUSHF/POPF in
 * vm86) are allowed when CPL <= IOPL (SDM Vol.1 18.3.1). */
static inline bool cpu_iopl_ok(const CPUState *cpu)
{
    return !(cpu->hflags & HF_PE) ||
           (!(cpu->hflags & HF_VM) && cpu->cpl <= ((cpu->eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT)) ||
           ((cpu->hflags & HF_VM) && ((cpu->eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT) == 3);
}

/* Port access permission: IOPL, else the TSS I/O bitmap (SDM Vol.1 18.5.2);
 * raises #GP(0) when denied. */
void cpu_check_io(CPUState *cpu, uint16_t port, int size);

#endif /* CPU_OPS_H */
