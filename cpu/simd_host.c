/*
 * The host's MMX and SSE units as the guest's.
 *
 * The x86-64 host implements every MMX, SSE, SSE2, SSE3 and SSSE3
 * instruction the guest may run, with the same rounding, NaN rules, DAZ,
 * FTZ, flags and approximations (RCPPS, RSQRTPS), so each guest operation
 * runs as that very host instruction on copies of its operands: a macro
 * per form wraps one instruction in the loads and stores of its operands,
 * and cpu/simd_ops.def instantiates it once per mnemonic.
 *
 * The constraints this file lives under:
 * - Floating-point forms run under the guest's rounding control, DAZ and
 *   FTZ with every exception masked: an unmasked one would be a host
 *   SIGFPE.  The flags the host sets are handed back, and cpu/ops_simd.c
 *   decides what the guest's masks make of them (a result is discarded
 *   when the guest would take #XM, as the hardware does not store it).
 *   The host's own MXCSR is saved before and restored after, since C code
 *   around us computes in SSE registers.
 * - MMX forms use the host's x87 registers: MMX instructions set the host
 *   x87 TOP to 0 and every tag valid, so each sequence ends with EMMS,
 *   which leaves the stack empty as the SysV ABI (and cpu/fpu_host.c)
 *   expect between statements.
 * - The instructions with an imm8 encode it in the instruction, so only
 *   the compare predicates (eight of them) are generated here; the
 *   shuffles are C (cpu/simd_move.c), and a shift by an immediate runs as
 *   the shift by a count register, which the SDM defines the same.
 */
#include "cpu/simd.h"

#define XMM_CLOBBERS "xmm0", "xmm1", "cc", "memory"
#define MMX_CLOBBERS "mm0", "mm1", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "cc", "memory"

/* Run BODY under io->mxcsr, keeping the host's MXCSR around it. */
#define FP_ENTER "stmxcsr %[host]\n\tldmxcsr %[mx]\n\t"
#define FP_LEAVE "stmxcsr %[mx]\n\tldmxcsr %[host]\n\t"

/* d = d OP s on XMM registers: INSN xmm1, xmm0 */
#define X_BODY(INSN) "movdqu %[d], %%xmm0\n\tmovdqu %[s], %%xmm1\n\t" INSN " %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[d]\n\t"
/* d = d OP s on MMX registers, then EMMS */
#define M_BODY(INSN) "movq %[d], %%mm0\n\tmovq %[s], %%mm1\n\t" INSN " %%mm1, %%mm0\n\tmovq %%mm0, %[d]\n\temms\n\t"

#define HOST_X_I(name, insn)                                                                       \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        __asm__ volatile(X_BODY(insn) : [d] "+m"(io->d) : [s] "m"(io->s) : XMM_CLOBBERS);          \
    }
#define HOST_M_I(name, insn)                                                                       \
    static void host_mmx_##name(SimdIO *io)                                                        \
    {                                                                                              \
        __asm__ volatile(M_BODY(insn) : [d] "+m"(io->d) : [s] "m"(io->s) : MMX_CLOBBERS);          \
    }
#define HOST_X_F(name, insn)                                                                       \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER X_BODY(insn) FP_LEAVE                                            \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s)                                                          \
                         : XMM_CLOBBERS);                                                          \
    }
/* CVTPI2PS xmm0, mm1 */
#define HOST_XM_F(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[d], %%xmm0\n\tmovq %[s], %%mm1\n\t" insn               \
                                  " %%mm1, %%xmm0\n\tmovdqu %%xmm0, %[d]\n\temms\n\t" FP_LEAVE     \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s)                                                          \
                         : XMM_CLOBBERS, MMX_CLOBBERS);                                            \
    }
/* CVTPS2PI mm0, xmm1 */
#define HOST_MX_F(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movq %[d], %%mm0\n\tmovdqu %[s], %%xmm1\n\t" insn               \
                                  " %%xmm1, %%mm0\n\tmovq %%mm0, %[d]\n\temms\n\t" FP_LEAVE        \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s)                                                          \
                         : XMM_CLOBBERS, MMX_CLOBBERS);                                            \
    }
/* CVTSI2SS xmm0, m32 */
#define HOST_XG_F(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[d], %%xmm0\n\t" insn                                   \
                                  " %[s], %%xmm0\n\tmovdqu %%xmm0, %[d]\n\t" FP_LEAVE              \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s.d[0])                                                     \
                         : XMM_CLOBBERS);                                                          \
    }
/* CVTSS2SI eax, xmm1 */
#define HOST_GX_F(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[s], %%xmm1\n\t" insn " %%xmm1, %%eax\n\t"              \
                                  "movl %%eax, %[d]\n\t" FP_LEAVE                                  \
                         : [d] "=m"(io->d.d[0]), [mx] "+m"(io->mxcsr), [host] "=m"(host)           \
                         : [s] "m"(io->s)                                                          \
                         : "eax", XMM_CLOBBERS);                                                   \
    }
/* MOVMSKPS eax, xmm1 */
#define HOST_GX_I(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        __asm__ volatile("movdqu %[s], %%xmm1\n\t" insn " %%xmm1, %%eax\n\tmovl %%eax, %[d]\n\t"   \
                         : [d] "=m"(io->d.d[0])                                                    \
                         : [s] "m"(io->s)                                                          \
                         : "eax", XMM_CLOBBERS);                                                   \
    }
/* PMOVMSKB eax, mm1 */
#define HOST_GM_I(name, insn)                                                                      \
    static void host_mmx_##name(SimdIO *io)                                                        \
    {                                                                                              \
        __asm__ volatile("movq %[s], %%mm1\n\t" insn " %%mm1, %%eax\n\tmovl %%eax, %[d]\n\temms\n\t" \
                         : [d] "=m"(io->d.d[0])                                                    \
                         : [s] "m"(io->s)                                                          \
                         : "eax", MMX_CLOBBERS);                                                   \
    }
/* COMISS xmm0, xmm1: ZF, PF, CF */
#define HOST_FL_F(name, insn)                                                                      \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[d], %%xmm0\n\tmovdqu %[s], %%xmm1\n\t" insn            \
                                  " %%xmm1, %%xmm0\n\tsetz %[zf]\n\tsetp %[pf]\n\tsetc %[cf]\n\t"   \
                                  FP_LEAVE                                                         \
                         : [zf] "=m"(io->zf), [pf] "=m"(io->pf), [cf] "=m"(io->cf),                \
                           [mx] "+m"(io->mxcsr), [host] "=m"(host)                                 \
                         : [d] "m"(io->d), [s] "m"(io->s)                                          \
                         : XMM_CLOBBERS);                                                          \
    }
/* CMPPS xmm0, xmm1, imm8: one host instruction per predicate (bits 2:0). */
#define CMP_CASE(insn, n)                                                                          \
    case n:                                                                                        \
        __asm__ volatile(FP_ENTER "movdqu %[d], %%xmm0\n\tmovdqu %[s], %%xmm1\n\t" insn " $" #n    \
                                  ", %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[d]\n\t" FP_LEAVE           \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s)                                                          \
                         : XMM_CLOBBERS);                                                          \
        break;
#define HOST_CMP_F(name, insn)                                                                     \
    static void host_##name(SimdIO *io)                                                            \
    {                                                                                              \
        uint32_t host;                                                                             \
        switch (io->imm & 7) {                                                                     \
            CMP_CASE(insn, 0) CMP_CASE(insn, 1) CMP_CASE(insn, 2) CMP_CASE(insn, 3)                \
            CMP_CASE(insn, 4) CMP_CASE(insn, 5) CMP_CASE(insn, 6) CMP_CASE(insn, 7)                \
        }                                                                                          \
    }

/* Instantiate: one host function (two for the MMX-or-XMM forms) per operation. */
#define HOST_FN_P_I(name, insn) HOST_X_I(name, insn) HOST_M_I(name, insn)
#define HOST_FN_X_I(name, insn) HOST_X_I(name, insn)
#define HOST_FN_X_F(name, insn) HOST_X_F(name, insn)
#define HOST_FN_XM_F(name, insn) HOST_XM_F(name, insn)
#define HOST_FN_MX_F(name, insn) HOST_MX_F(name, insn)
#define HOST_FN_XG_F(name, insn) HOST_XG_F(name, insn)
#define HOST_FN_GX_F(name, insn) HOST_GX_F(name, insn)
#define HOST_FN_GX_I(name, insn) HOST_GX_I(name, insn)
#define HOST_FN_G_I(name, insn) HOST_GX_I(name, insn) HOST_GM_I(name, insn)
#define HOST_FN_FL_F(name, insn) HOST_FL_F(name, insn)
#define HOST_FN_CMP_F(name, insn) HOST_CMP_F(name, insn)
#define HOST_FN_C(name, fn)
#define SIMD_HOST_FN(name, form, how, flags) HOST_FN_##form(name, how)
SIMD_OPS(SIMD_HOST_FN)

/* The 64-bit-integer forms (REX.W) of the scalar conversions. */
#define HOST_XG_F64(name, insn)                                                                    \
    static void host_##name##_q(SimdIO *io)                                                        \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[d], %%xmm0\n\t" insn                                   \
                                  " %[s], %%xmm0\n\tmovdqu %%xmm0, %[d]\n\t" FP_LEAVE              \
                         : [d] "+m"(io->d), [mx] "+m"(io->mxcsr), [host] "=m"(host)                \
                         : [s] "m"(io->s.q[0])                                                     \
                         : XMM_CLOBBERS);                                                          \
    }
#define HOST_GX_F64(name, insn)                                                                    \
    static void host_##name##_q(SimdIO *io)                                                        \
    {                                                                                              \
        uint32_t host;                                                                             \
        __asm__ volatile(FP_ENTER "movdqu %[s], %%xmm1\n\t" insn " %%xmm1, %%rax\n\t"              \
                                  "movq %%rax, %[d]\n\t" FP_LEAVE                                  \
                         : [d] "=m"(io->d.q[0]), [mx] "+m"(io->mxcsr), [host] "=m"(host)           \
                         : [s] "m"(io->s)                                                          \
                         : "rax", XMM_CLOBBERS);                                                   \
    }
HOST_XG_F64(cvtsi2ss, "cvtsi2ssq")
HOST_XG_F64(cvtsi2sd, "cvtsi2sdq")
HOST_GX_F64(cvtss2si, "cvtss2si")
HOST_GX_F64(cvttss2si, "cvttss2si")
HOST_GX_F64(cvtsd2si, "cvtsd2si")
HOST_GX_F64(cvttsd2si, "cvttsd2si")

SimdFn simd_fn_int64(unsigned op)
{
    switch (op) {
    case OP_CVTSI2SS: return host_cvtsi2ss_q;
    case OP_CVTSI2SD: return host_cvtsi2sd_q;
    case OP_CVTSS2SI: return host_cvtss2si_q;
    case OP_CVTTSS2SI: return host_cvttss2si_q;
    case OP_CVTSD2SI: return host_cvtsd2si_q;
    case OP_CVTTSD2SI: return host_cvttsd2si_q;
    default: return NULL;
    }
}

/* The descriptor of each operation. */
#define DESC_P_I(name, how, flags) {host_##name, host_mmx_##name, SIMD_P_I, flags}
#define DESC_G_I(name, how, flags) {host_##name, host_mmx_##name, SIMD_G_I, flags}
#define DESC_C(name, how, flags) {how, how, SIMD_C, flags}
#define DESC_X_I(name, how, flags) {host_##name, 0, SIMD_X_I, flags}
#define DESC_X_F(name, how, flags) {host_##name, 0, SIMD_X_F, flags}
#define DESC_XM_F(name, how, flags) {host_##name, 0, SIMD_XM_F, flags}
#define DESC_MX_F(name, how, flags) {host_##name, 0, SIMD_MX_F, flags}
#define DESC_XG_F(name, how, flags) {host_##name, 0, SIMD_XG_F, flags}
#define DESC_GX_F(name, how, flags) {host_##name, 0, SIMD_GX_F, flags}
#define DESC_GX_I(name, how, flags) {host_##name, 0, SIMD_GX_I, flags}
#define DESC_FL_F(name, how, flags) {host_##name, 0, SIMD_FL_F, flags}
#define DESC_CMP_F(name, how, flags) {host_##name, 0, SIMD_CMP_F, flags}
#define SIMD_DESC(name, form, how, flags) [OP_##name - OP_SIMD_FIRST] = DESC_##form(name, how, flags),

const SimdDesc simd_descs[OP_COUNT - OP_SIMD_FIRST] = {
    SIMD_OPS(SIMD_DESC)
};
