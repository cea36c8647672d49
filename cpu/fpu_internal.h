/*
 * Private interface of the x87 implementation (cpu/fpu*.c).
 *
 * The guest's x87 registers hold 80-bit extended values; the host's x87 has
 * the same format and the same arithmetic, so every operation that rounds or
 * can raise a floating-point exception runs on the host FPU (cpu/fpu_host.c)
 * under the guest's control word, and the host status word it leaves is
 * folded into the guest's.  The register stack, tags, stack faults, the
 * environment formats and exception delivery are kept in software here.
 */
#ifndef CPU_FPU_INTERNAL_H
#define CPU_FPU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"

/*
 * An 80-bit extended value as the host's FLD/FSTP m80 see it: significand
 * (with the explicit integer bit 63) then sign and 15-bit exponent
 * (SDM Vol.1 4.2.2).  The first ten bytes are the memory format.
 */
typedef struct F80 {
    uint64_t sig;
    uint16_t se;
} F80;

#define F80_EXP_MASK 0x7fffu
#define F80_SIGN     0x8000u
#define F80_INT_BIT  0x8000000000000000ull

/* Status word bits (SDM Vol.1 8.1.3). */
#define FSW_IE        0x0001u
#define FSW_DE        0x0002u
#define FSW_ZE        0x0004u
#define FSW_OE        0x0008u
#define FSW_UE        0x0010u
#define FSW_PE        0x0020u
#define FSW_SF        0x0040u
#define FSW_ES        0x0080u
#define FSW_C0        0x0100u
#define FSW_C1        0x0200u
#define FSW_C2        0x0400u
#define FSW_TOP       0x3800u
#define FSW_C3        0x4000u
#define FSW_B         0x8000u
#define FSW_EXC       0x003fu /* the six exception flags */
#define FSW_CC        (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_TOP_SHIFT 11

/* Control word (SDM Vol.1 8.1.5): masks in bits 0-5, PC 8-9, RC 10-11, IC 12. */
#define FCW_EXC_MASKS 0x003fu
#define FCW_PC_SHIFT  8
#define FCW_RC_SHIFT  10
#define FCW_RC_MASK   0x0c00u
/* Bits 6, 7 and 13-15 are reserved; bit 6 reads back as 1 on the P6. */
#define FCW_RESERVED 0xe0c0u
#define FCW_BIT6     0x0040u
#define FCW_INIT     0x037fu /* FNINIT: all masked, 64-bit precision, nearest */

/* Tag values (SDM Vol.1 8.1.7). */
enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/* MXCSR as this CPU implements it: all 16 bits, DAZ included (SDM Vol.1 11.6.6). */
#define FPU_MXCSR_MASK    0x0000ffffu
#define FPU_MXCSR_DEFAULT 0x00001f80u

/* A NaN: maximum exponent, and a fraction other than the infinity's
 * 1.000... (SDM Vol.1 4.8.3.7; unsupported encodings count as NaN too). */
static inline bool f80_is_nan(const F80 *v)
{
    return (v->se & F80_EXP_MASK) == F80_EXP_MASK && v->sig != 0x8000000000000000ull;
}

/* The QNaN floating-point indefinite (SDM Vol.1 4.8.3.7, Table 4-3). */
static const F80 fpu_indefinite = {0xc000000000000000ull, 0xffff};

/* ---- register stack (cpu/fpu.c) ---- */

static inline int fpu_phys(const CPUState *cpu, int i)
{
    return (cpu->fpu.top + i) & 7;
}

static inline int fpu_tag_phys(const CPUState *cpu, int phys)
{
    return (cpu->fpu.ftw >> (2 * phys)) & 3;
}

static inline bool fpu_empty(const CPUState *cpu, int i)
{
    return fpu_tag_phys(cpu, fpu_phys(cpu, i)) == TAG_EMPTY;
}

static inline bool fpu_masked(const CPUState *cpu, uint16_t exc)
{
    return (cpu->fpu.fcw & exc) == exc;
}

int fpu_tag_of(F80 v);
F80 fpu_get_phys(const CPUState *cpu, int phys);
void fpu_set_phys(CPUState *cpu, int phys, F80 v);
void fpu_set_tag(CPUState *cpu, int phys, int tag);
/* ST(i) read and write (the write also sets the tag from the value). */
F80 fpu_get(const CPUState *cpu, int i);
void fpu_set(CPUState *cpu, int i, F80 v);
/* Push: TOP-1, then ST0 = v.  Pop: ST0 becomes empty, TOP+1. */
void fpu_push(CPUState *cpu, F80 v);
void fpu_pop(CPUState *cpu);

/* ---- exceptions (cpu/fpu.c) ---- */

/* Set C1 alone (the other condition codes unchanged). */
void fpu_set_c1(CPUState *cpu, bool c1);
/* Recompute ES and B from the exception flags and masks: an unmasked flag
 * is pending for the next waiting instruction. */
void fpu_update_es(CPUState *cpu);
/*
 * Stack overflow (overflow=true) or underflow: IE and SF set, C1 the
 * direction (SDM Vol.1 8.5.1.1).  Returns true when IE is masked, in which
 * case the caller performs the masked response (QNaN indefinite).
 */
bool fpu_stack_fault(CPUState *cpu, bool overflow);
/*
 * Whether a host status word means the instruction must not write its
 * result: an unmasked invalid, zero-divide or denormal exception (detected
 * before the computation), or an unmasked overflow or underflow when the
 * destination is memory (SDM Vol.1 8.5.4, 8.5.5).  Pure: commits nothing.
 */
bool fpu_blocked(const CPUState *cpu, uint16_t host_sw, bool to_memory);
/*
 * Fold a host status word into the guest's: exception flags are sticky,
 * condition codes in cc_mask are replaced (unless the instruction was
 * blocked), ES/B follow unmasked flags.  Returns !blocked.
 */
bool fpu_finish(CPUState *cpu, uint16_t host_sw, uint16_t cc_mask, bool to_memory);

/* ---- guest memory operands (cpu/fpu_load.c) ---- */

/* Linear-address forms, for images whose segment check is done once. */
void fpu_read_linear(CPUState *cpu, uint64_t lin, int size, uint8_t *buf);
void fpu_probe_linear(CPUState *cpu, uint64_t lin, int size);
void fpu_write_linear(CPUState *cpu, uint64_t lin, int size, const uint8_t *buf);
void fpu_mem_read(CPUState *cpu, int seg, uint64_t offset, int size, uint8_t *buf);
/* Checks the whole range for write access first, so a fault stores nothing. */
void fpu_mem_write(CPUState *cpu, int seg, uint64_t offset, int size, const uint8_t *buf);

/* The instruction's memory operand, little-endian, read before any state changes. */
static inline uint64_t fpu_read_operand(CPUState *cpu, const Insn *insn, int size)
{
    uint8_t buf[8] = {0};
    uint64_t v;
    fpu_mem_read(cpu, insn->seg, insn_ea(cpu, insn), size, buf);
    memcpy(&v, buf, sizeof(v));
    return v;
}

static inline void fpu_write_operand(CPUState *cpu, const Insn *insn, int size, uint64_t v)
{
    uint8_t buf[8];
    memcpy(buf, &v, sizeof(buf));
    fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), size, buf);
}

/* Exact integer to extended conversion (no exception can occur). */
F80 fpu_from_int64(int64_t v);

/* ---- the host FPU (cpu/fpu_host.c); each returns the host status word ---- */

/* Binary operations in D8 /reg order: dst = dst op src. */
enum { X87_ADD = 0, X87_MUL = 1, X87_SUB = 4, X87_SUBR = 5, X87_DIV = 6, X87_DIVR = 7 };
uint16_t x87_binop(uint16_t fcw, int op, F80 *dst, const F80 *src);
uint16_t x87_binop_m32(uint16_t fcw, int op, F80 *dst, uint32_t src);
uint16_t x87_binop_m64(uint16_t fcw, int op, F80 *dst, uint64_t src);

/* FCOM/FUCOM of a with b: C3, C2, C0 as the SDM's comparison table. */
uint16_t x87_compare(uint16_t fcw, const F80 *a, const F80 *b, bool unordered);
uint16_t x87_compare_m32(uint16_t fcw, const F80 *a, uint32_t b);
uint16_t x87_compare_m64(uint16_t fcw, const F80 *a, uint64_t b);

/* One-operand instructions on ST0 (FTST and FXAM only set the status). */
enum { X87_FSQRT, X87_FRNDINT, X87_F2XM1, X87_FSIN, X87_FCOS, X87_FTST, X87_FXAM };
uint16_t x87_unary(uint16_t fcw, int op, F80 *st0);

/* FSCALE, FPREM, FPREM1 (result in ST0) and FYL2X, FYL2XP1, FPATAN (result
 * replaces ST1, then pop): *res = op(st0, st1). */
enum { X87_FSCALE, X87_FPREM, X87_FPREM1, X87_FYL2X, X87_FYL2XP1, X87_FPATAN };
uint16_t x87_binary(uint16_t fcw, int op, const F80 *st0, const F80 *st1, F80 *res);

/* FPTAN, FSINCOS, FXTRACT: *below replaces ST0, *pushed is pushed on top. */
enum { X87_FPTAN, X87_FSINCOS, X87_FXTRACT };
uint16_t x87_split(uint16_t fcw, int op, const F80 *st0, F80 *below, F80 *pushed);

/* Constants in D9 E8..EE order: FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ. */
uint16_t x87_const(uint16_t fcw, int which, F80 *out);

/* Conversions from and to memory formats. */
uint16_t x87_load_m32(uint16_t fcw, uint32_t in, F80 *out);
uint16_t x87_load_m64(uint16_t fcw, uint64_t in, F80 *out);
uint16_t x87_load_bcd(uint16_t fcw, const uint8_t in[10], F80 *out);
uint16_t x87_store_m32(uint16_t fcw, const F80 *in, uint32_t *out);
uint16_t x87_store_m64(uint16_t fcw, const F80 *in, uint64_t *out);
uint16_t x87_store_i16(uint16_t fcw, const F80 *in, uint16_t *out);
uint16_t x87_store_i32(uint16_t fcw, const F80 *in, uint32_t *out);
uint16_t x87_store_i64(uint16_t fcw, const F80 *in, uint64_t *out);
uint16_t x87_store_bcd(uint16_t fcw, const F80 *in, uint8_t out[10]);
/* FISTTP m16/m32/m64 (size 2, 4, 8): round toward zero. */
uint16_t x87_store_trunc(uint16_t fcw, const F80 *in, int size, uint64_t *out);

/* ---- instruction handlers, called from the decode tables in cpu/fpu.c ---- */

/* A handler's arg carries the variant its table entry selects. */
typedef void (*FpuHandler)(CPUState *cpu, const Insn *insn, int arg);

/* FIST variants: the arg is the size in bytes, plus this bit to pop, and
 * FIST_TRUNC for SSE3's FISTTP (truncating, always popping). */
#define FIST_POP 0x10
#define FIST_TRUNC 0x20

/* Compare variants (arg bits). */
#define FCMP_POP1      0x01 /* pop once afterwards (FCOMP) */
#define FCMP_POP2      0x02 /* pop twice (FCOMPP, FUCOMPP) */
#define FCMP_UNORDERED 0x04 /* FUCOM: only SNaNs are invalid */
#define FCMP_EFLAGS    0x08 /* FCOMI: result in ZF, PF, CF */

/* cpu/fpu_arith.c */
void fpu_op_arith_st0(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_sti(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_sti_pop(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_m32(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_m64(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_i16(CPUState *cpu, const Insn *insn, int op);
void fpu_op_arith_i32(CPUState *cpu, const Insn *insn, int op);
void fpu_op_com_sti(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_com_st1(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_com_m32(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_com_m64(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_com_i16(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_com_i32(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_ftst(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fxam(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fchs(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fabs(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_unary(CPUState *cpu, const Insn *insn, int op);
void fpu_op_binary_st0(CPUState *cpu, const Insn *insn, int op);
void fpu_op_binary_pop(CPUState *cpu, const Insn *insn, int op);
void fpu_op_split(CPUState *cpu, const Insn *insn, int op);

/* cpu/fpu_load.c */
void fpu_op_fld_sti(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fst_sti(CPUState *cpu, const Insn *insn, int pop);
void fpu_op_fxch(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fcmov(CPUState *cpu, const Insn *insn, int cond);
void fpu_op_fld_const(CPUState *cpu, const Insn *insn, int which);
void fpu_op_fld_m32(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fld_m64(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fld_m80(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fild(CPUState *cpu, const Insn *insn, int size);
void fpu_op_fbld(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fst_m32(CPUState *cpu, const Insn *insn, int pop);
void fpu_op_fst_m64(CPUState *cpu, const Insn *insn, int pop);
void fpu_op_fstp_m80(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fist(CPUState *cpu, const Insn *insn, int variant);
void fpu_op_fbstp(CPUState *cpu, const Insn *insn, int arg);

/* cpu/fpu_env.c */
void fpu_op_fnop(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_ffree(CPUState *cpu, const Insn *insn, int pop);
void fpu_op_fincstp(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fdecstp(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fninit(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnclex(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fldcw(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnstcw(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnstsw_m(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnstsw_ax(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fldenv(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnstenv(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_frstor(CPUState *cpu, const Insn *insn, int arg);
void fpu_op_fnsave(CPUState *cpu, const Insn *insn, int arg);

/* FNINIT's effect on the x87 state (not MXCSR or XMM, not register contents). */
void fpu_init_state(CPUState *cpu);
/* The status word with TOP folded in, as FNSTSW stores it. */
uint16_t fpu_status_word(const CPUState *cpu);
/* The full tag word, recomputed from register contents for non-empty registers. */
uint16_t fpu_tag_word(const CPUState *cpu);

#endif /* CPU_FPU_INTERNAL_H */
