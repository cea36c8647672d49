/*
 * Private interface of the MMX/SSE implementation (cpu/ops_simd.c,
 * cpu/simd_host.c, cpu/simd_move.c).
 *
 * Every operation of cpu/simd_ops.def works on one SimdIO: the destination
 * register's old value and the source (a register, or a memory operand
 * zero-extended to 16 bytes) in, the result out.  ops_simd.c does what the
 * architecture wraps around the operation (CR0/CR4 checks, operand fetch,
 * alignment, MXCSR exceptions, the MMX/x87 aliasing, write-back); the
 * operation itself is a host instruction (simd_host.c) or, for data
 * movement and the shuffles that take an immediate, a few lines of C
 * (simd_move.c).
 */
#ifndef CPU_SIMD_H
#define CPU_SIMD_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/decode.h"

/* MXCSR (SDM Vol.1 10.2.3): six flags, DAZ, six masks, RC, FTZ. */
#define MXCSR_IE         0x0001u
#define MXCSR_DE         0x0002u
#define MXCSR_ZE         0x0004u
#define MXCSR_OE         0x0008u
#define MXCSR_UE         0x0010u
#define MXCSR_PE         0x0020u
#define MXCSR_FLAGS      0x003fu
#define MXCSR_DAZ        0x0040u
#define MXCSR_MASKS      0x1f80u /* IM DM ZM OM UM PM: the flags shifted left by 7 */
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC         0x6000u
#define MXCSR_FTZ        0x8000u
/* Flags of the exceptions detected before the computation (SDM Vol.1 11.5.2). */
#define MXCSR_PRE (MXCSR_IE | MXCSR_DE | MXCSR_ZE)

/* One XMM value, or an MMX value in the low 8 bytes. */
typedef union SimdReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} __attribute__((aligned(16))) SimdReg;

typedef struct SimdIO {
    SimdReg d; /* destination: its old value in (zero when it is memory), the result out;
                * a 32-bit register destination takes d.d[0] */
    SimdReg s; /* source: register, memory (zero-extended), 32-bit register in s.d[0],
                * or a shift count immediate in s.q[0] */
    uint32_t
        mxcsr; /* in: the MXCSR to run under (flags clear, all masked); out: as the host left it */
    uint8_t imm;        /* the imm8 operand */
    bool mmx;           /* the registers are MMX (8 bytes), not XMM */
    bool store;         /* the destination is memory */
    uint8_t zf, pf, cf; /* FL_F forms: the flags the compare set (0 or 1) */
} SimdIO;

typedef void (*SimdFn)(SimdIO *io);

/* How an operation runs (the FORM column of cpu/simd_ops.def). */
enum SimdForm {
    SIMD_P_I,
    SIMD_X_I,
    SIMD_X_F,
    SIMD_XM_F,
    SIMD_MX_F,
    SIMD_XG_F,
    SIMD_GX_F,
    SIMD_GX_I,
    SIMD_G_I,
    SIMD_FL_F,
    SIMD_CMP_F,
    SIMD_C,
};

/* SimdDesc.flags */
#define SF_UNALIGNED 0x01 /* a 16-byte memory operand need not be aligned */
#define SF_ZMEM      0x02 /* from memory, the destination is zeroed first (MOVSS, MOVSD) */

typedef struct SimdDesc {
    SimdFn fn;     /* XMM form (or the only one) */
    SimdFn fn_mmx; /* MMX form of a P_I or G_I operation */
    uint8_t form;  /* enum SimdForm */
    uint8_t flags; /* SF_* */
} SimdDesc;

/* Indexed by op - OP_SIMD_FIRST (cpu/simd_host.c). */
extern const SimdDesc simd_descs[OP_COUNT - OP_SIMD_FIRST];
/* The host function of a scalar conversion with a 64-bit integer operand
 * (REX.W: CVTSI2SS/SD r64, CVT(T)SS/SD2SI r64), or NULL. */
SimdFn simd_fn_int64(unsigned op);

/* Whether the form runs under MXCSR and may raise SIMD floating-point exceptions. */
static inline bool simd_form_fp(int form)
{
    return form == SIMD_X_F || form == SIMD_XM_F || form == SIMD_MX_F || form == SIMD_XG_F ||
           form == SIMD_GX_F || form == SIMD_FL_F || form == SIMD_CMP_F;
}

/*
 * With underflow (flag MXCSR_UE) or overflow (MXCSR_OE) unmasked and
 * raised: the PE flag the hardware reports, that of the result rounded
 * with an unbounded exponent (cpu/simd_unbounded.c).  raised: the flags of
 * the masked run; in: its operands; guest: the guest's MXCSR.  Returns
 * raised with PE corrected.
 */
uint32_t simd_unbounded_pe(unsigned op, const SimdIO *in, uint32_t guest, uint32_t raised,
                           uint32_t flag);

/* The C operations (cpu/simd_move.c); EMMS and the MASKMOV pair are run by
 * cpu/ops_simd.c itself and have no body here. */
void simd_emms(SimdIO *io);
void simd_maskmov(SimdIO *io);
void simd_movd(SimdIO *io);
void simd_movq(SimdIO *io);
void simd_copy16(SimdIO *io);
void simd_copy_lo32(SimdIO *io);
void simd_copy_lo64(SimdIO *io);
void simd_movhlps(SimdIO *io);
void simd_movhp(SimdIO *io);
void simd_pshufw(SimdIO *io);
void simd_pshufd(SimdIO *io);
void simd_pshufhw(SimdIO *io);
void simd_pshuflw(SimdIO *io);
void simd_shufps(SimdIO *io);
void simd_shufpd(SimdIO *io);
void simd_palignr(SimdIO *io);
void simd_pinsrw(SimdIO *io);
void simd_pextrw(SimdIO *io);
void simd_psrldq(SimdIO *io);
void simd_pslldq(SimdIO *io);

#endif /* CPU_SIMD_H */
