/*
 * x87 exceptions and state: stack faults and their masked responses,
 * unmasked exceptions (#MF at the next waiting instruction, FERR# with
 * CR0.NE=0), #NM from CR0.EM/TS/MP, faults that must change nothing, and
 * the FNSTENV/FNSAVE/FXSAVE images checked byte by byte against the SDM's
 * layouts.  The fixture is in fpu_fixture.h.
 */
#include <check.h>

#include "fpu_fixture.h"

/* ---- stack faults (SDM Vol.1 8.5.1.1) ---- */

START_TEST(test_stack_overflow_masked)
{
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
    }
    ck_assert_uint_eq(fnstsw() & (SW_IE | SW_SF), 0);
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
    uint16_t sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_IE | SW_SF | SW_C1 | SW_ES), SW_IE | SW_SF | SW_C1);
    ck_assert_int_eq((sw >> 11) & 7, 7);
    assert_indefinite(0);
}
END_TEST

START_TEST(test_stack_overflow_unmasked)
{
    fldcw(0x037e); /* IM = 0 */
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
    }
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
    uint16_t sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_IE | SW_SF | SW_C1 | SW_ES | SW_B),
                      SW_IE | SW_SF | SW_C1 | SW_ES | SW_B);
    ck_assert_int_eq((sw >> 11) & 7, 0); /* nothing pushed */
    ck_assert(st(0) == 1.0L);
}
END_TEST

START_TEST(test_stack_underflow_masked)
{
    ck_assert_int_eq(RUN(0xd8, 0xc1), -1); /* fadd st0, st1 on an empty stack */
    uint16_t sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF);
    assert_indefinite(0);
    fnclex();
    ck_assert_int_eq(RUN(0xdd, 0xd8), -1); /* pop the indefinite */
    /* FSTP m32 of an empty ST0 stores the single indefinite and pops. */
    ck_assert_int_eq(RUN(0xd9, 0x1d, A32(A_OUT)), -1);
    ck_assert_uint_eq(peek32(A_OUT), 0xffc00000u);
    ck_assert_int_eq(top(), 2);
    ck_assert_uint_eq(fnstsw() & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF);
}
END_TEST

START_TEST(test_stack_underflow_unmasked)
{
    fldcw(0x037e);
    push(5.0L);
    poke32(A_OUT, 0x12345678u);
    ck_assert_int_eq(RUN(0xd8, 0xc1), -1); /* ST1 is empty */
    ck_assert(st(0) == 5.0L);
    ck_assert(st_empty(1));
    ck_assert_uint_eq(fnstsw() & (SW_IE | SW_SF | SW_ES), SW_IE | SW_SF | SW_ES);
}
END_TEST

START_TEST(test_fxch_empty_masked)
{
    push(7.0L);
    ck_assert_int_eq(RUN(0xd9, 0xc9), -1); /* fxch st1, ST1 empty */
    assert_indefinite(0);
    ck_assert(st(1) == 7.0L);
    ck_assert_uint_eq(fnstsw() & (SW_IE | SW_SF), SW_IE | SW_SF);
}
END_TEST

/* ---- unmasked exceptions and their delivery (SDM Vol.1 8.7, Vol.3 6.15) ---- */

START_TEST(test_unmasked_zero_divide_raises_mf)
{
    fldcw(0x037b); /* ZM = 0 */
    push(1.0L);
    poke32(A_VAL, 0);
    cpu->eip = 0x2000;
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1); /* fdiv: flags only */
    ck_assert(st(0) == 1.0L);                          /* destination unchanged */
    /* FNSTSW does not wait. */
    uint16_t sw = fnstsw();
    ck_assert_uint_eq(sw & (SW_ZE | SW_ES | SW_B), SW_ZE | SW_ES | SW_B);
    /* The next waiting instruction takes #MF before doing anything. */
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXC_MF);
    ck_assert(st(0) == 1.0L);
    ck_assert_int_eq(RUN(0x9b), EXC_MF);
    /* The pointers still name the failing FDIV. */
    ck_assert_uint_eq(cpu->fpu.fip, 0x2000);
    ck_assert_uint_eq(cpu->fpu.fdp, A_VAL);
    fnclex();
    ck_assert_int_eq(RUN(0x9b), -1);
    ck_assert(!cpu->ferr_pending);
}
END_TEST

START_TEST(test_unmasked_exception_ferr_when_ne_clear)
{
    cpu->cr0 &= ~CR0_NE;
    fldcw(0x037b);
    push(1.0L);
    poke32(A_VAL, 0);
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1);
    ck_assert(!cpu->ferr_pending);
    ck_assert_int_eq(RUN(0x9b), -1);
    ck_assert(cpu->ferr_pending);
}
END_TEST

/* Unmasked overflow to a register: the result is delivered with its
 * exponent reduced by 24576 (SDM Vol.1 8.5.4). */
START_TEST(test_unmasked_overflow_scales_register_result)
{
    fldcw(0x0377); /* OM = 0 */
    push(0x1p16000L);
    push(0x1p16000L);
    ck_assert_int_eq(RUN(0xd8, 0xc9), -1); /* fmul st0, st1 */
    ck_assert(st(0) == 0x1p7424L);
    ck_assert_uint_eq(fnstsw() & (SW_OE | SW_ES), SW_OE | SW_ES);
    ck_assert_uint_eq(host_fcw(), 0x037f);
}
END_TEST

/* ... but to memory, nothing is stored and nothing is popped. */
START_TEST(test_unmasked_overflow_store_keeps_memory)
{
    fldcw(0x0377);
    push(0x1p200L);
    poke32(A_OUT, 0xdeadbeefu);
    ck_assert_int_eq(RUN(0xd9, 0x1d, A32(A_OUT)), -1); /* fstp dword */
    ck_assert_uint_eq(peek32(A_OUT), 0xdeadbeefu);
    ck_assert(st(0) == 0x1p200L);
    ck_assert_uint_eq(fnstsw() & (SW_OE | SW_ES), SW_OE | SW_ES);
    /* Masked, the single overflows to infinity. */
    fnclex();
    fldcw(0x037f);
    ck_assert_int_eq(RUN(0xd9, 0x1d, A32(A_OUT)), -1);
    ck_assert_uint_eq(peek32(A_OUT), 0x7f800000u);
    ck_assert(st_empty(0));
    ck_assert_uint_eq(fnstsw() & 0x3f, SW_OE | SW_PE);
}
END_TEST

START_TEST(test_fldcw_unmasks_pending_flag)
{
    push(1.0L);
    poke32(A_VAL, 0x40400000u);
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1); /* 1/3: PE */
    ck_assert_uint_eq(fnstsw() & (SW_PE | SW_ES), SW_PE);
    fldcw(0x035f); /* PM = 0 */
    ck_assert_uint_eq(fnstsw() & (SW_ES | SW_B), SW_ES | SW_B);
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXC_MF);
}
END_TEST

/* ---- CR0.EM / TS / MP (SDM Vol.3 Table 2-2) ---- */

START_TEST(test_nm_checks)
{
    cpu->cr0 |= CR0_TS;
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXC_NM);
    ck_assert_int_eq(RUN(0x9b), -1); /* WAIT: TS alone is fine */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), EXC_NM);
    cpu->cr0 |= CR0_MP;
    ck_assert_int_eq(RUN(0x9b), EXC_NM);
    cpu->cr0 &= ~(CR0_TS | CR0_MP);
    cpu->cr0 |= CR0_EM;
    ck_assert_int_eq(RUN(0xdb, 0xe3), EXC_NM); /* even FNINIT */
    ck_assert_int_eq(RUN(0x9b), -1);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), EXC_NM);
    cpu->cr0 &= ~CR0_EM;
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
}
END_TEST

/* ---- memory faults change nothing ---- */

START_TEST(test_memory_fault_commits_nothing)
{
    push(1.0L);
    cpu->eip = 0x3000;
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1); /* a non-control insn to set FIP */
    cpu->seg[SEG_DS].limit = A_LIMIT;
    seg_update_check(&cpu->seg[SEG_DS]);
    ck_assert_int_eq(RUN(0xd9, 0x1d, A32(A_LIMIT - 1)), EXC_GP); /* fstp dword */
    ck_assert_int_eq(top(), 6);
    ck_assert(st(0) == 1.0L);
    ck_assert_int_eq(RUN(0xd9, 0x05, A32(A_LIMIT - 1)), EXC_GP); /* fld dword */
    ck_assert_int_eq(top(), 6);
    ck_assert_int_eq(RUN(0xdd, 0x35, A32(A_LIMIT - 50)), EXC_GP); /* fnsave */
    ck_assert_int_eq(top(), 6);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    ck_assert_uint_eq(cpu->fpu.fip, 0x3000);
    ck_assert_uint_eq(fnstsw() & 0xff, 0);
}
END_TEST

/* ---- environment and state images (SDM Vol.1 8.1.10) ---- */

/* A known state: FCW 027F, ST0 = 3.0, ST1 = 1.0 (TOP 6), and the last
 * non-control instruction FADD dword [A_VAL] at 0008:00001234. */
static void make_state(void)
{
    fldcw(0x027f);
    push(1.0L);
    push(2.0L);
    poke32(A_VAL, 0x3f800000u);
    cpu->eip = 0x1234;
    ck_assert_int_eq(RUN(0xd8, 0x05, A32(A_VAL)), -1);
    ck_assert(st(0) == 3.0L);
}

START_TEST(test_fnsave_frstor_layout_32bit_protected)
{
    make_state();
    ck_assert_int_eq(RUN(0xdd, 0x35, A32(A_ENV)), -1); /* fnsave */
    ck_assert_uint_eq(peek32(A_ENV + 0), 0xffff027fu);
    ck_assert_uint_eq(peek32(A_ENV + 4), 0xffff3000u);
    ck_assert_uint_eq(peek32(A_ENV + 8), 0xffff0fffu); /* R6, R7 valid */
    ck_assert_uint_eq(peek32(A_ENV + 12), 0x1234);
    ck_assert_uint_eq(peek16(A_ENV + 16), 0x0008);
    ck_assert_uint_eq(peek16(A_ENV + 18), 0x0005); /* D8 05 -> 0 0000 0101 */
    ck_assert_uint_eq(peek32(A_ENV + 20), A_VAL);
    ck_assert_uint_eq(peek32(A_ENV + 24), 0xffff0010u);
    ck_assert(peek80(A_ENV + 28) == 3.0L);
    ck_assert(peek80(A_ENV + 38) == 1.0L);
    /* FNSAVE ends with FNINIT. */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    ck_assert_uint_eq(cpu->fpu.ftw, 0xffff);
    ck_assert_int_eq(top(), 0);
    ck_assert_int_eq(RUN(0xdd, 0x25, A32(A_ENV)), -1); /* frstor */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x027f);
    ck_assert_int_eq(top(), 6);
    ck_assert(st(0) == 3.0L && st(1) == 1.0L);
    ck_assert(st_empty(2));
    ck_assert_uint_eq(cpu->fpu.fip, 0x1234);
    ck_assert_uint_eq(cpu->fpu.fop, 0x005);
}
END_TEST

START_TEST(test_fnstenv_tags_and_masking)
{
    push(0.0L);             /* zero */
    push_raw(0x0000, 1);    /* denormal: special */
    push(__builtin_infl()); /* special */
    push(5.0L);             /* valid */
    fldcw(0x037b);
    poke32(A_VAL, 0);
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1); /* unmasked ZE pending */
    ck_assert_int_eq(RUN(0xd9, 0x35, A32(A_ENV)), -1); /* fnstenv: does not wait */
    /* R7 zero (01), R6 special, R5 special, R4 valid, R0-R3 empty. */
    ck_assert_uint_eq(peek16(A_ENV + 8), 0x68ff);
    ck_assert_uint_eq(peek16(A_ENV + 4) & (SW_ZE | SW_ES), SW_ZE | SW_ES);
    /* Afterwards every exception is masked and nothing is pending. */
    ck_assert_uint_eq(cpu->fpu.fcw & 0x3f, 0x3f);
    ck_assert_int_eq(RUN(0x9b), -1);
    /* FLDENV brings the unmasked ZE back. */
    ck_assert_int_eq(RUN(0xd9, 0x25, A32(A_ENV)), -1);
    ck_assert_int_eq(RUN(0x9b), EXC_MF);
}
END_TEST

START_TEST(test_fnstenv_16bit_real_mode_layout)
{
    cpu->cr0 &= ~CR0_PE;
    cpu->seg[SEG_CS].selector = 0x1234;
    cpu->seg[SEG_DS].selector = 0x2000;
    cpu->eip = 0x0010;
    poke32(A_VAL, 0x3f800000u);
    ck_assert_int_eq(RUN(0xd9, 0x05, A32(A_VAL)), -1);       /* fld dword */
    ck_assert_int_eq(RUN(0x66, 0xd9, 0x35, A32(A_ENV)), -1); /* 16-bit fnstenv */
    uint32_t ip = 0x12340 + 0x10;
    uint32_t dp = 0x20000 + A_VAL;
    ck_assert_uint_eq(peek16(A_ENV + 0), 0x037f);
    ck_assert_uint_eq(peek16(A_ENV + 2), 0x3800); /* TOP 7 */
    ck_assert_uint_eq(peek16(A_ENV + 4), 0x3fff);
    ck_assert_uint_eq(peek16(A_ENV + 6), ip & 0xffff);
    ck_assert_uint_eq(peek16(A_ENV + 8), ((ip >> 16) << 12) | 0x105); /* D9 05 */
    ck_assert_uint_eq(peek16(A_ENV + 10), dp & 0xffff);
    ck_assert_uint_eq(peek16(A_ENV + 12), (dp >> 16) << 12);
    /* 32-bit real-mode layout (Figure 8-10). */
    ck_assert_int_eq(RUN(0xd9, 0x35, A32(A_ENV)), -1);
    ck_assert_uint_eq(peek32(A_ENV + 12), 0xffff0000u | (ip & 0xffff));
    ck_assert_uint_eq(peek32(A_ENV + 16), ((ip >> 16) << 12) | 0x105);
    ck_assert_uint_eq(peek32(A_ENV + 20), 0xffff0000u | (dp & 0xffff));
    ck_assert_uint_eq(peek32(A_ENV + 24), (dp >> 16) << 12);
}
END_TEST

START_TEST(test_fnstenv_16bit_protected_layout)
{
    make_state();
    ck_assert_int_eq(RUN(0x66, 0xd9, 0x35, A32(A_ENV)), -1);
    ck_assert_uint_eq(peek16(A_ENV + 0), 0x027f);
    ck_assert_uint_eq(peek16(A_ENV + 2), 0x3000);
    ck_assert_uint_eq(peek16(A_ENV + 4), 0x0fff);
    ck_assert_uint_eq(peek16(A_ENV + 6), 0x1234);
    ck_assert_uint_eq(peek16(A_ENV + 8), 0x0008);
    ck_assert_uint_eq(peek16(A_ENV + 10), A_VAL & 0xffff);
    ck_assert_uint_eq(peek16(A_ENV + 12), 0x0010);
}
END_TEST

START_TEST(test_control_insns_keep_pointers)
{
    make_state();
    cpu->eip = 0x5555;
    ck_assert_int_eq(RUN(0xd9, 0x3d, A32(A_OUT)), -1); /* fnstcw */
    ck_assert_uint_eq(peek16(A_OUT), 0x027f);
    ck_assert_int_eq(RUN(0xdd, 0x3d, A32(A_OUT)), -1); /* fnstsw word */
    ck_assert_uint_eq(peek16(A_OUT), 0x3000);
    ck_assert_uint_eq(cpu->fpu.fip, 0x1234);
    ck_assert_uint_eq(cpu->fpu.fop, 0x005);
    ck_assert_uint_eq(cpu->fpu.fdp, A_VAL);
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1); /* fld1 is not a control insn */
    ck_assert_uint_eq(cpu->fpu.fip, 0x5555 + 6 + 6);
    ck_assert_uint_eq(cpu->fpu.fop, 0x1e8);
    ck_assert_uint_eq(cpu->fpu.fdp, A_VAL); /* no memory operand: kept */
}
END_TEST

/* ---- FXSAVE / FXRSTOR (SDM Vol.2 FXSAVE, Table 3-53) ---- */

START_TEST(test_fxsave_layout)
{
    make_state();
    cpu->cr4 |= CR4_OSFXSR;
    for (int i = 0; i < 16; i++) {
        cpu->fpu.xmm[0][i] = (uint8_t)(0x40 + i);
        cpu->fpu.xmm[7][i] = (uint8_t)(0x70 + i);
    }
    memset(at(A_FX), 0xaa, 512);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    ck_assert_uint_eq(peek16(A_FX + 0), 0x027f);
    ck_assert_uint_eq(peek16(A_FX + 2), 0x3000);
    ck_assert_uint_eq(*at(A_FX + 4), 0xc0); /* abridged: R6, R7 in use */
    ck_assert_uint_eq(peek16(A_FX + 6), 0x005);
    ck_assert_uint_eq(peek32(A_FX + 8), 0x1234);
    ck_assert_uint_eq(peek16(A_FX + 12), 0x0008);
    ck_assert_uint_eq(peek32(A_FX + 16), A_VAL);
    ck_assert_uint_eq(peek16(A_FX + 20), 0x0010);
    ck_assert_uint_eq(peek32(A_FX + 24), 0x1f80);
    ck_assert_uint_eq(peek32(A_FX + 28), 0xffff); /* MXCSR_MASK: DAZ supported */
    ck_assert(peek80(A_FX + 32) == 3.0L);
    ck_assert(peek80(A_FX + 48) == 1.0L);
    ck_assert_uint_eq(*at(A_FX + 160), 0x40);
    ck_assert_uint_eq(*at(A_FX + 160 + 7 * 16 + 15), 0x7f);
    ck_assert_uint_eq(*at(A_FX + 300), 0xaa); /* beyond the image: untouched */
    /* FXSAVE leaves the FPU as it was (unlike FNSAVE). */
    ck_assert_int_eq(top(), 6);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x027f);
    /* With CR4.OSFXSR=0 the XMM registers are neither saved nor restored;
     * MXCSR is. */
    cpu->cr4 &= ~CR4_OSFXSR;
    memset(at(A_FX), 0xaa, 512);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    ck_assert_uint_eq(peek32(A_FX + 24), 0x1f80);
    ck_assert_uint_eq(*at(A_FX + 160), 0xaa);
    poke32(A_FX + 24, 0x1f80 | 0x40); /* DAZ: a valid bit now */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), -1);
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x1fc0);
    ck_assert_uint_eq(cpu->fpu.xmm[0][0], 0x40);
    cpu->cr4 |= CR4_OSFXSR;
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), -1);
    ck_assert_uint_eq(cpu->fpu.xmm[0][0], 0xaa);
}
END_TEST

START_TEST(test_fxsave_fxrstor_round_trip)
{
    make_state();
    cpu->fpu.mxcsr = 0x1f80 | 0x6000; /* RC = chop */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    cpu->fpu.mxcsr = 0x1f80;
    push(9.0L);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), -1);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x027f);
    ck_assert_int_eq(top(), 6);
    ck_assert(st(0) == 3.0L && st(1) == 1.0L);
    ck_assert(st_empty(2) && st_empty(7));
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x7f80);
    /* Full tags rebuilt from contents: FNSTENV reports R6, R7 valid. */
    ck_assert_int_eq(RUN(0xd9, 0x35, A32(A_ENV)), -1);
    ck_assert_uint_eq(peek16(A_ENV + 8), 0x0fff);
}
END_TEST

START_TEST(test_fxsave_faults)
{
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX + 8)), EXC_GP); /* misaligned */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX + 8)), EXC_GP);
    push(4.0L);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(A_FX)), -1);
    poke32(A_FX + 24, 0x00011f80u); /* reserved MXCSR bit 16 */
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(A_FX)), EXC_GP);
    ck_assert_int_eq(top(), 0); /* nothing restored */
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x1f80);
}
END_TEST

/* The host FPU is left as found whatever the guest did. */
START_TEST(test_host_state_restored)
{
    fldcw(0x0040); /* everything unmasked, 24-bit, nearest */
    push(1.0L);
    poke32(A_VAL, 0);
    ck_assert_int_eq(RUN(0xd8, 0x35, A32(A_VAL)), -1);
    ck_assert_uint_eq(host_fcw(), 0x037f);
    uint16_t host_sw;
    __asm__ volatile("fnstsw %0" : "=m"(host_sw));
    ck_assert_uint_eq(host_sw & 0x80, 0); /* no host exception pending */
    volatile long double x = 1.0L;
    ck_assert(x / 3.0L != 0.0L); /* host arithmetic still works, no SIGFPE */
}
END_TEST

static Suite *fpu_state_suite(void)
{
    Suite *s = suite_create("fpu_state");
    TCase *tc;

    tc = tcase_create("exceptions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stack_overflow_masked);
    tcase_add_test(tc, test_stack_overflow_unmasked);
    tcase_add_test(tc, test_stack_underflow_masked);
    tcase_add_test(tc, test_stack_underflow_unmasked);
    tcase_add_test(tc, test_fxch_empty_masked);
    tcase_add_test(tc, test_unmasked_zero_divide_raises_mf);
    tcase_add_test(tc, test_unmasked_exception_ferr_when_ne_clear);
    tcase_add_test(tc, test_unmasked_overflow_scales_register_result);
    tcase_add_test(tc, test_unmasked_overflow_store_keeps_memory);
    tcase_add_test(tc, test_fldcw_unmasks_pending_flag);
    tcase_add_test(tc, test_nm_checks);
    tcase_add_test(tc, test_memory_fault_commits_nothing);
    tcase_add_test(tc, test_host_state_restored);
    suite_add_tcase(s, tc);

    tc = tcase_create("state images");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fnsave_frstor_layout_32bit_protected);
    tcase_add_test(tc, test_fnstenv_tags_and_masking);
    tcase_add_test(tc, test_fnstenv_16bit_real_mode_layout);
    tcase_add_test(tc, test_fnstenv_16bit_protected_layout);
    tcase_add_test(tc, test_control_insns_keep_pointers);
    tcase_add_test(tc, test_fxsave_layout);
    tcase_add_test(tc, test_fxsave_fxrstor_round_trip);
    tcase_add_test(tc, test_fxsave_faults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_state_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
