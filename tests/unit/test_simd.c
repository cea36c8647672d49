/*
 * MMX and SSE in the interpreter (cpu/ops_simd.c): the mandatory-prefix
 * decoding, MXCSR (rounding, DAZ, FTZ, sticky flags, LDMXCSR's reserved
 * bits), #XM against #UD by CR4.OSXMMEXCPT with the destination left
 * alone, the 16-byte alignment rule, the CR0.EM/TS and CR4.OSFXSR checks,
 * a pending x87 error before an MMX instruction, the MMX registers as the
 * x87 registers' low halves with EMMS, (U)COMISS flags, MASKMOVDQU, and
 * FXSAVE/FXRSTOR with the XMM registers.  Expected values are worked out
 * from the SDM, not taken from the host.
 */
#include "tests/unit/fpu_fixture.h"

#define A_X   0x10300u /* 16-byte aligned operands */
#define M_IE  0x0080u  /* MXCSR masks */
#define M_ZE  0x0200u
#define M_ALL 0x1f80u
#define FL_IE 0x01u
#define FL_DE 0x02u
#define FL_ZE 0x04u
#define FL_UE 0x10u
#define FL_PE 0x20u
#define DAZ   0x0040u
#define FTZ   0x8000u

static void simd_setup(void)
{
    setup();
    cpu->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
}

static void set_xmm32(int r, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    uint32_t v[4] = {a, b, c, d};
    memcpy(cpu->fpu.xmm[r], v, 16);
}

static uint32_t xmm32(int r, int lane)
{
    uint32_t v;
    memcpy(&v, cpu->fpu.xmm[r] + 4 * lane, 4);
    return v;
}

static Insn decode(const uint8_t *b, int n)
{
    Insn insn;
    ck_assert_int_eq(decode_insn(&insn, b, n, true), DECODE_OK);
    return insn;
}
#define DEC(...) decode((const uint8_t[]){__VA_ARGS__}, (int)sizeof((const uint8_t[]){__VA_ARGS__}))

START_TEST(test_decode_mandatory_prefix)
{
    ck_assert_int_eq(DEC(0x0f, 0x58, 0xc1).op, OP_ADDPS);
    ck_assert_int_eq(DEC(0x66, 0x0f, 0x58, 0xc1).op, OP_ADDPD);
    ck_assert_int_eq(DEC(0xf3, 0x0f, 0x58, 0xc1).op, OP_ADDSS);
    ck_assert_int_eq(DEC(0xf2, 0x0f, 0x58, 0xc1).op, OP_ADDSD);
    ck_assert_int_eq(DEC(0x66, 0xf3, 0x0f, 0x58, 0xc1).op, OP_ADDSS); /* F3 over 66 */
    ck_assert_int_eq(DEC(0xf3, 0xf2, 0x0f, 0x58, 0xc1).op, OP_ADDSD); /* the last of F2/F3 */
    Insn i = DEC(0x0f, 0xfc, 0xca);                                   /* paddb mm1, mm2 */
    ck_assert_int_eq(i.op, OP_PADDB);
    ck_assert_int_eq(i.opnd[0].kind, OPK_MMX);
    ck_assert_int_eq(i.opnd[1].reg, 2);
    i = DEC(0x66, 0x0f, 0xfc, 0x48, 0x10); /* paddb xmm1, [eax+16] */
    ck_assert_int_eq(i.opnd[0].kind, OPK_XMM);
    ck_assert_int_eq(i.opnd[1].kind, OPK_MEM);
    ck_assert_int_eq(i.opnd[1].size, 16);
    ck_assert_int_eq(DEC(0x0f, 0x12, 0x08).op, OP_MOVLPS);
    ck_assert_int_eq(DEC(0x0f, 0x12, 0xc8).op, OP_MOVHLPS);
    ck_assert_int_eq(DEC(0x0f, 0x16, 0xc8).op, OP_MOVLHPS);
    ck_assert_int_eq(DEC(0x66, 0x0f, 0x12, 0xc8).op, OP_UD); /* MOVLPD has no register form */
    ck_assert_int_eq(DEC(0x66, 0x0f, 0x77).op, OP_UD);
    ck_assert_int_eq(DEC(0x0f, 0x73, 0xd8, 4).op, OP_UD); /* PSRLDQ needs 66 */
    i = DEC(0x66, 0x0f, 0x73, 0xd9, 4);                   /* psrldq xmm1, 4 */
    ck_assert_int_eq(i.op, OP_PSRLDQ);
    ck_assert_int_eq(i.opnd[0].reg, 1);
    i = DEC(0x66, 0x0f, 0x3a, 0x0f, 0xc1, 3); /* palignr xmm0, xmm1, 3 */
    ck_assert_int_eq(i.op, OP_PALIGNR);
    ck_assert_int_eq(i.len, 6);
    ck_assert_int_eq(i.imm, 3);
    ck_assert_int_eq(DEC(0x0f, 0x38, 0x00, 0xc1).op, OP_PSHUFB);
    ck_assert_int_eq(DEC(0x0f, 0x38, 0x0c, 0xc1).op, OP_UD); /* SSE4.1 and later: none */
    ck_assert_int_eq(DEC(0x0f, 0xae, 0xe8).op, OP_FENCE);    /* lfence */
    ck_assert_int_eq(DEC(0x0f, 0xae, 0xf0).op, OP_FENCE);    /* mfence */
    ck_assert_int_eq(DEC(0x0f, 0xae, 0xf8).op, OP_FENCE);    /* sfence */
    ck_assert_int_eq(DEC(0x0f, 0xae, 0x38).op, OP_CLFLUSH);
    ck_assert_int_eq(DEC(0x0f, 0xae, 0x10).op, OP_LDMXCSR);
    ck_assert_int_eq(DEC(0x0f, 0xae, 0xd0).op, OP_UD);       /* ldmxcsr with a register */
    ck_assert_int_eq(DEC(0xf3, 0x90).op, OP_NOP);            /* PAUSE */
    ck_assert_int_eq(DEC(0xf0, 0x0f, 0x58, 0x00).op, OP_UD); /* LOCK */
    ck_assert(DEC(0x0f, 0x28, 0x00).flags & INSN_F_MEM);
}
END_TEST

/* 1/3 under each rounding mode (SDM Vol.1 4.8.4), inexact every time. */
START_TEST(test_mxcsr_rounding)
{
    static const uint32_t third[4] = {0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaaa};
    for (unsigned rc = 0; rc < 4; rc++) {
        cpu->fpu.mxcsr = M_ALL | rc << 13;
        set_xmm32(0, 0x3f800000, 0x11111111, 0x22222222, 0x33333333); /* 1.0 */
        set_xmm32(1, 0x40400000, 0, 0, 0);                            /* 3.0 */
        ck_assert_int_eq(RUN(0xf3, 0x0f, 0x5e, 0xc1), -1);            /* divss xmm0, xmm1 */
        ck_assert_uint_eq(xmm32(0, 0), third[rc]);
        ck_assert_uint_eq(xmm32(0, 3), 0x33333333); /* scalar: the rest kept */
        ck_assert_uint_eq(cpu->fpu.mxcsr, (M_ALL | rc << 13 | FL_PE));
    }
    /* CVTSS2SI rounds by RC, CVTTSS2SI truncates. */
    cpu->fpu.mxcsr = M_ALL | 1u << 13;                 /* down */
    set_xmm32(2, 0xbfc00000, 0, 0, 0);                 /* -1.5 */
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x2d, 0xc2), -1); /* cvtss2si eax, xmm2 */
    ck_assert_uint_eq(cpu->regs[R_EAX], (uint32_t)-2);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x2c, 0xca), -1); /* cvttss2si ecx, xmm2 */
    ck_assert_uint_eq(cpu->regs[R_ECX], (uint32_t)-1);
}
END_TEST

START_TEST(test_mxcsr_daz_ftz)
{
    /* A denormal operand: DE and the exact denormal sum without DAZ; with
     * DAZ it counts as zero and DE stays clear (SDM Vol.1 10.2.3.4). */
    cpu->fpu.mxcsr = M_ALL;
    set_xmm32(0, 0x00000001, 0, 0, 0);
    set_xmm32(1, 0x00000002, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0xc1), -1); /* addss xmm0, xmm1 */
    ck_assert_uint_eq(xmm32(0, 0), 3);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | FL_DE);
    cpu->fpu.mxcsr = M_ALL | DAZ;
    set_xmm32(0, 0x00000001, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0xc1), -1);
    ck_assert_uint_eq(xmm32(0, 0), 0);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | DAZ);
    /* 2^-70 * 2^-70 = 2^-140, tiny and exact: a denormal, no flag; with FTZ
     * zero, UE and PE (SDM Vol.1 10.2.3.3). */
    cpu->fpu.mxcsr = M_ALL;
    set_xmm32(0, 0x1c800000, 0, 0, 0);
    set_xmm32(1, 0x1c800000, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x59, 0xc1), -1); /* mulss xmm0, xmm1 */
    ck_assert_uint_eq(xmm32(0, 0), 0x00000200);        /* 2^-149 * 2^9 */
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL);
    cpu->fpu.mxcsr = M_ALL | FTZ;
    set_xmm32(0, 0x1c800000, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x59, 0xc1), -1);
    ck_assert_uint_eq(xmm32(0, 0), 0);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | FTZ | FL_UE | FL_PE);
    /* Underflow unmasked: the exact tiny result is an underflow (#XM). */
    cpu->fpu.mxcsr = M_ALL & ~0x0800u;
    set_xmm32(0, 0x1c800000, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x59, 0xc1), EXC_XM);
    ck_assert_uint_eq(xmm32(0, 0), 0x1c800000);
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, FL_UE);
    /* Flags are sticky. */
    cpu->fpu.mxcsr = M_ALL | FL_ZE;
    set_xmm32(0, 0x3f800000, 0, 0, 0);
    set_xmm32(1, 0x3f800000, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0xc1), -1);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | FL_ZE);
}
END_TEST

/* With underflow or overflow unmasked, PE beside UE/OE on the #XM follows
 * the result rounded with an unbounded exponent, not the denormal or
 * infinity the masked response would store (values checked on hardware). */
START_TEST(test_unmasked_post_computation_pe)
{
    /* (1 + 2^-23)^2 * 2^-140: inexact in 24 bits: UE and PE. */
    cpu->fpu.mxcsr = M_ALL & ~0x0800u;
    set_xmm32(0, 0x1c800001, 0, 0, 0);
    set_xmm32(1, 0x1c800001, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x59, 0xc1), EXC_XM); /* mulss */
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, FL_UE | FL_PE);
    /* 1.5^2 * 2^-150: its denormal is inexact, the unbounded result is not:
     * UE alone. */
    cpu->fpu.mxcsr = M_ALL & ~0x0800u;
    set_xmm32(0, 0x1a400000, 0x3f800000, 0x3f800000, 0x3f800000); /* 1.5 * 2^-75 */
    set_xmm32(1, 0x1a400000, 0x3f800000, 0x3f800000, 0x3f800000);
    ck_assert_int_eq(RUN(0x0f, 0x59, 0xc1), EXC_XM); /* mulps: lanes 1-3 exact */
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, FL_UE);
    ck_assert_uint_eq(xmm32(0, 0), 0x1a400000); /* nothing stored */
    /* 2 * FLT_MAX with overflow unmasked: OE alone. */
    cpu->fpu.mxcsr = M_ALL & ~0x0400u;
    set_xmm32(2, 0x7f7fffff, 0, 0, 0);
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0xd2), EXC_XM); /* addss xmm2, xmm2 */
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, 0x08);
    /* ADDSUBPS: lane 1 (an add) overflows, exactly in unbounded range. */
    cpu->fpu.mxcsr = M_ALL & ~0x0400u;
    set_xmm32(3, 0x3f800000, 0x7f7fffff, 0x3f800000, 0x3f800000);
    ck_assert_int_eq(RUN(0xf2, 0x0f, 0xd0, 0xdb), EXC_XM); /* addsubps xmm3, xmm3 */
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, 0x08);
    /* Masked, the same sum is OE and PE (infinity is inexact). */
    cpu->fpu.mxcsr = M_ALL;
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0xd2), -1);
    ck_assert_uint_eq(cpu->fpu.mxcsr & 0x3f, 0x28);
    ck_assert_uint_eq(xmm32(2, 0), 0x7f800000);
}
END_TEST

/* 1/0 with ZE unmasked: #XM with OSXMMEXCPT, #UD without; the destination
 * is not written, the flag is (SDM Vol.3 6.15, Interrupt 19). */
START_TEST(test_unmasked_xm_or_ud)
{
    set_xmm32(1, 0, 0, 0, 0);
    set_xmm32(0, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000);
    cpu->fpu.mxcsr = M_ALL & ~M_ZE;
    ck_assert_int_eq(RUN(0x0f, 0x5e, 0xc1), EXC_XM); /* divps xmm0, xmm1 */
    ck_assert_uint_eq(xmm32(0, 2), 0x3f800000);
    ck_assert_uint_eq(cpu->fpu.mxcsr, (M_ALL & ~M_ZE) | FL_ZE);
    cpu->cr4 &= ~CR4_OSXMMEXCPT;
    cpu->fpu.mxcsr = M_ALL & ~M_ZE;
    ck_assert_int_eq(RUN(0x0f, 0x5e, 0xc1), EXC_UD);
    ck_assert_uint_eq(xmm32(0, 0), 0x3f800000);
    /* Masked: infinity, and the flag. */
    cpu->fpu.mxcsr = M_ALL;
    ck_assert_int_eq(RUN(0x0f, 0x5e, 0xc1), -1);
    ck_assert_uint_eq(xmm32(0, 1), 0x7f800000);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | FL_ZE);
    /* An invalid operation unmasked in one lane: nothing is stored, and no
     * post-computation flag is set. */
    cpu->cr4 |= CR4_OSXMMEXCPT;
    cpu->fpu.mxcsr = M_ALL & ~M_IE;
    set_xmm32(0, 0x3f800000, 0x7f800001, 0x3f800000, 0x3f800000); /* an SNaN in lane 1 */
    set_xmm32(1, 0x40400000, 0x40400000, 0x40400000, 0x40400000); /* 3: 1/3 inexact */
    ck_assert_int_eq(RUN(0x0f, 0x5e, 0xc1), EXC_XM);
    ck_assert_uint_eq(xmm32(0, 0), 0x3f800000);
    ck_assert_uint_eq(cpu->fpu.mxcsr, (M_ALL & ~M_IE) | FL_IE);
}
END_TEST

/* Legacy SSE 16-byte memory operands must be 16-byte aligned, except the
 * unaligned moves and LDDQU; scalar and 8-byte forms need not be
 * (SDM Vol.1 11.6.8). */
START_TEST(test_alignment)
{
    poke32(A_X + 8, 0x12345678);
    ck_assert_int_eq(RUN(0x0f, 0x28, 0x05, A32(A_X + 8)), EXC_GP); /* movaps */
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_int_eq(RUN(0x0f, 0x58, 0x05, A32(A_X + 8)), EXC_GP);       /* addps */
    ck_assert_int_eq(RUN(0x66, 0x0f, 0xfc, 0x05, A32(A_X + 4)), EXC_GP); /* paddb xmm */
    ck_assert_int_eq(RUN(0x0f, 0x10, 0x05, A32(A_X + 8)), -1);           /* movups */
    ck_assert_uint_eq(xmm32(0, 0), 0x12345678);
    ck_assert_int_eq(RUN(0xf2, 0x0f, 0xf0, 0x0d, A32(A_X + 8)), -1); /* lddqu */
    ck_assert_int_eq(RUN(0xf3, 0x0f, 0x58, 0x05, A32(A_X + 9)), -1); /* addss */
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0x05, A32(A_X + 3)), -1);       /* paddb mm */
    /* A misaligned store faults before writing. */
    set_xmm32(2, 1, 2, 3, 4);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x7f, 0x15, A32(A_X + 0x24)), EXC_GP); /* movdqa */
    ck_assert_uint_eq(peek32(A_X + 0x24), 0);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x7f, 0x15, A32(A_X + 0x20)), -1);
    ck_assert_uint_eq(peek32(A_X + 0x2c), 4);
    ck_assert_int_eq(RUN(0x0f, 0x2b, 0x15, A32(A_X + 0x38)), EXC_GP); /* movntps */
}
END_TEST

/* CR0.EM, CR0.TS and CR4.OSFXSR (SDM Vol.3 Table 2-2, 13.1). */
START_TEST(test_control_register_checks)
{
    cpu->cr0 |= CR0_EM;
    ck_assert_int_eq(RUN(0x0f, 0x58, 0xc1), EXC_UD); /* addps */
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0xc1), EXC_UD); /* paddb mm */
    ck_assert_int_eq(RUN(0x0f, 0x77), EXC_UD);       /* emms */
    cpu->cr0 &= ~CR0_EM;
    cpu->cr0 |= CR0_TS;
    ck_assert_int_eq(RUN(0x0f, 0x58, 0xc1), EXC_NM);
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0xc1), EXC_NM);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x15, A32(A_X)), EXC_NM); /* ldmxcsr */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0xf0), -1);               /* mfence: no check */
    cpu->cr0 &= ~CR0_TS;
    cpu->cr4 &= ~CR4_OSFXSR;
    ck_assert_int_eq(RUN(0x0f, 0x58, 0xc1), EXC_UD);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x15, A32(A_X)), EXC_UD);
    ck_assert_int_eq(RUN(0x0f, 0x2a, 0xc1), EXC_UD); /* cvtpi2ps: an XMM destination */
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0xc1), -1);     /* MMX runs without OSFXSR */
    ck_assert_int_eq(RUN(0x0f, 0xe0, 0xc1), -1);     /* and so does SSE's pavgb mm */
    /* EM before OSFXSR before TS. */
    cpu->cr0 |= CR0_TS;
    ck_assert_int_eq(RUN(0x0f, 0x58, 0xc1), EXC_UD);
}
END_TEST

/* A pending unmasked x87 exception: #MF before an MMX instruction, not
 * before an SSE one (SDM Vol.2, each MMX instruction's exceptions: "#MF If there
 * is a pending FPU exception"; the SSE ones list no #MF). */
START_TEST(test_mmx_pending_x87_error)
{
    cpu->fpu.fcw = 0x037e; /* IE unmasked */
    cpu->fpu.fsw = SW_IE | SW_ES | SW_B;
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0xc1), EXC_MF);
    ck_assert_int_eq(RUN(0x0f, 0x77), EXC_MF);
    ck_assert_int_eq(RUN(0x0f, 0x58, 0xc1), -1);
}
END_TEST

/* MMi is the significand of R_i; a write sets bits 64-79; every MMX
 * instruction sets TOP=0 and all tags valid, EMMS all empty (SDM Vol.1 9.5). */
START_TEST(test_mmx_aliasing_and_emms)
{
    push(1.0L);
    push(2.0L); /* TOP = 6 */
    poke64(A_X, 0x0102030405060708ull);
    ck_assert_int_eq(RUN(0x0f, 0x6f, 0x1d, A32(A_X)), -1); /* movq mm3, [A_X] */
    ck_assert_int_eq(cpu->fpu.top, 0);
    ck_assert_uint_eq(cpu->fpu.ftw, 0);
    uint64_t sig;
    uint16_t se;
    memcpy(&sig, &cpu->fpu.st[3], 8);
    memcpy(&se, (uint8_t *)&cpu->fpu.st[3] + 8, 2);
    ck_assert_uint_eq(sig, 0x0102030405060708ull);
    ck_assert_uint_eq(se, 0xffff);
    ck_assert_uint_eq(cpu_mmx_read(cpu, 3), 0x0102030405060708ull);
    /* R7 still holds 1.0 as the x87 left it: MM7 is its significand. */
    ck_assert_uint_eq(cpu_mmx_read(cpu, 7), 0x8000000000000000ull);
    ck_assert_int_eq(RUN(0x0f, 0xfc, 0xdb), -1); /* paddb mm3, mm3 */
    ck_assert_uint_eq(cpu_mmx_read(cpu, 3), 0x020406080a0c0e10ull);
    ck_assert_int_eq(RUN(0x0f, 0x7e, 0xd8), -1); /* movd eax, mm3 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x0a0c0e10);
    ck_assert_int_eq(RUN(0x0f, 0x77), -1); /* emms */
    ck_assert_uint_eq(cpu->fpu.ftw, 0xffff);
    ck_assert_int_eq(cpu->fpu.top, 0);
    /* FXSAVE shows the abridged tags: all empty after EMMS. */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    ck_assert_uint_eq(*at(A_FX + 4), 0);
}
END_TEST

/* A store of an MMX register that faults leaves TOP and the tags as they
 * were (a fault is precise; an AMD EPYC's signal frame shows TOP and the
 * tags of the x87 stack before a faulting MOVQ m64, mm unchanged). */
START_TEST(test_mmx_store_fault_keeps_x87_state)
{
    push(1.0L);
    push(2.0L); /* TOP = 6 */
    uint16_t ftw = cpu->fpu.ftw;
    cpu->seg[SEG_DS].limit = A_LIMIT;
    ck_assert_int_eq(RUN(0x0f, 0x7f, 0x1d, A32(A_LIMIT - 3)), EXC_GP); /* movq [..], mm3 */
    ck_assert_int_eq(cpu->fpu.top, 6);
    ck_assert_uint_eq(cpu->fpu.ftw, ftw);
    ck_assert_int_eq(RUN(0x0f, 0x7f, 0x1d, A32(A_LIMIT - 7)), -1); /* in the limit: runs */
    ck_assert_int_eq(cpu->fpu.top, 0);
    ck_assert_uint_eq(cpu->fpu.ftw, 0);
}
END_TEST

/* COMISS/UCOMISS: ZF PF CF, OF SF AF cleared; a QNaN is invalid for COMISS
 * only (SDM Vol.2 COMISS, UCOMISS). */
START_TEST(test_comiss_flags)
{
    cpu->eflags = EFLAGS_FIXED | EFLAGS_OF | EFLAGS_SF | EFLAGS_AF;
    set_xmm32(0, 0x3f800000, 0, 0, 0);
    set_xmm32(1, 0x40000000, 0, 0, 0);
    ck_assert_int_eq(RUN(0x0f, 0x2f, 0xc1), -1); /* 1 < 2: CF */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, EFLAGS_CF);
    set_xmm32(1, 0x7fc00000, 0, 0, 0);
    cpu->fpu.mxcsr = M_ALL;
    ck_assert_int_eq(RUN(0x0f, 0x2e, 0xc1), -1); /* ucomiss, QNaN: unordered */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ARITH, EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF);
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL);
    ck_assert_int_eq(RUN(0x0f, 0x2f, 0xc1), -1); /* comiss: invalid */
    ck_assert_uint_eq(cpu->fpu.mxcsr, M_ALL | FL_IE);
}
END_TEST

/* LDMXCSR: a reserved bit is #GP(0); DAZ is valid (MXCSR_MASK FFFFh). */
START_TEST(test_ldmxcsr_stmxcsr)
{
    poke32(A_X, 0x00009fc0);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x15, A32(A_X)), -1);
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x9fc0);
    poke32(A_X, 0x00011f80);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x15, A32(A_X)), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x9fc0);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x1d, A32(A_X + 4)), -1); /* stmxcsr */
    ck_assert_uint_eq(peek32(A_X + 4), 0x9fc0);
}
END_TEST

/* FXSAVE/FXRSTOR carry MXCSR and XMM0-7 (SDM Vol.2 FXSAVE, Table 3-53). */
START_TEST(test_fxsave_xmm)
{
    for (int r = 0; r < 8; r++) {
        set_xmm32(r, 0x11111111u * (uint32_t)r, 0xa0000000u + (uint32_t)r, 0, 0xdeadbeef);
    }
    cpu->fpu.mxcsr = 0x1fc0;
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    ck_assert_uint_eq(peek32(A_FX + 24), 0x1fc0);
    ck_assert_uint_eq(peek32(A_FX + 28), 0xffff);
    ck_assert_uint_eq(peek32(A_FX + 160 + 16 * 5 + 4), 0xa0000005);
    ck_assert_uint_eq(peek32(A_FX + 160 + 16 * 7 + 12), 0xdeadbeef);
    memset(cpu->fpu.xmm, 0, sizeof(cpu->fpu.xmm));
    cpu->fpu.mxcsr = 0x1f80;
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), -1);
    ck_assert_uint_eq(xmm32(3, 0), 0x33333333);
    ck_assert_uint_eq(xmm32(6, 1), 0xa0000006);
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x1fc0);
}
END_TEST

/* MASKMOVDQU stores the bytes whose mask byte has bit 7 set at DS:EDI. */
START_TEST(test_maskmovdqu)
{
    memset(at(A_X), 0xee, 16);
    set_xmm32(0, 0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c);
    set_xmm32(1, 0x80000080, 0, 0, 0xff000000);
    cpu->regs[R_EDI] = A_X;
    ck_assert_int_eq(RUN(0x66, 0x0f, 0xf7, 0xc1), -1);
    ck_assert_uint_eq(peek32(A_X), 0x03eeee00);
    ck_assert_uint_eq(peek32(A_X + 4), 0xeeeeeeee);
    ck_assert_uint_eq(peek32(A_X + 12), 0x0feeeeee);
}
END_TEST

/* Shuffles with an immediate and the shift by an immediate. */
START_TEST(test_shuffles)
{
    set_xmm32(1, 10, 11, 12, 13);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x70, 0xc1, 0x1b), -1); /* pshufd xmm0, xmm1, 0x1b */
    ck_assert_uint_eq(xmm32(0, 0), 13);
    ck_assert_uint_eq(xmm32(0, 3), 10);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x73, 0xd8, 4), -1); /* psrldq xmm0, 4 */
    ck_assert_uint_eq(xmm32(0, 0), 12);
    ck_assert_uint_eq(xmm32(0, 3), 0);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x72, 0xd1, 33), -1); /* psrld xmm1, 33: all zero */
    ck_assert_uint_eq(xmm32(1, 2), 0);
    set_xmm32(1, 0x80000000, 0, 0, 0);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x72, 0xe1, 33), -1); /* psrad xmm1, 33: the sign */
    ck_assert_uint_eq(xmm32(1, 0), 0xffffffff);
}
END_TEST

static Suite *simd_suite(void)
{
    Suite *s = suite_create("simd");
    TCase *tc = tcase_create("simd");
    tcase_add_checked_fixture(tc, simd_setup, teardown);
    tcase_add_test(tc, test_decode_mandatory_prefix);
    tcase_add_test(tc, test_mxcsr_rounding);
    tcase_add_test(tc, test_mmx_store_fault_keeps_x87_state);
    tcase_add_test(tc, test_mxcsr_daz_ftz);
    tcase_add_test(tc, test_unmasked_xm_or_ud);
    tcase_add_test(tc, test_unmasked_post_computation_pe);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_control_register_checks);
    tcase_add_test(tc, test_mmx_pending_x87_error);
    tcase_add_test(tc, test_mmx_aliasing_and_emms);
    tcase_add_test(tc, test_comiss_flags);
    tcase_add_test(tc, test_ldmxcsr_stmxcsr);
    tcase_add_test(tc, test_fxsave_xmm);
    tcase_add_test(tc, test_maskmovdqu);
    tcase_add_test(tc, test_shuffles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(simd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
