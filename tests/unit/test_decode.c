/*
 * Decoder unit tests: bytes in, decoded fields out, checked against the
 * encodings in the Intel SDM Vol.2 (ModRM/SIB tables 2-1..2-3, Appendix A).
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/decode.h"
#include "cpu/state.h"

static Insn dec(const uint8_t *bytes, int n, bool code32)
{
    Insn insn;
    ck_assert_int_eq(decode_insn(&insn, bytes, n, code32), DECODE_OK);
    return insn;
}

#define DEC32(...) dec((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), true)
#define DEC16(...) dec((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), false)

START_TEST(test_add_modrm_reg)
{
    Insn i = DEC32(0x01, 0xd8); /* add eax, ebx */
    ck_assert_int_eq(i.op, OP_ADD);
    ck_assert_int_eq(i.len, 2);
    ck_assert_int_eq(i.opnd[0].kind, OPK_REG);
    ck_assert_int_eq(i.opnd[0].reg, R_EAX);
    ck_assert_int_eq(i.opnd[0].size, 4);
    ck_assert_int_eq(i.opnd[1].reg, R_EBX);
    ck_assert(!(i.flags & INSN_F_MEM));
}
END_TEST

START_TEST(test_sib_disp32)
{
    /* mov eax, [ebx + esi*4 + 0x12345678]: 8B 84 B3 78 56 34 12 */
    Insn i = DEC32(0x8b, 0x84, 0xb3, 0x78, 0x56, 0x34, 0x12);
    ck_assert_int_eq(i.op, OP_MOV);
    ck_assert_int_eq(i.len, 7);
    ck_assert_int_eq(i.opnd[1].kind, OPK_MEM);
    ck_assert_int_eq(i.base, R_EBX);
    ck_assert_int_eq(i.index, R_ESI);
    ck_assert_int_eq(i.scale, 2);
    ck_assert_int_eq(i.disp, 0x12345678);
    ck_assert_int_eq(i.seg, SEG_DS);
    ck_assert(i.flags & INSN_F_MEM);
}
END_TEST

START_TEST(test_sib_no_base_and_ebp_default_ss)
{
    /* mov eax, [ecx*8 + 0x100]: mod 00, rm 100, SIB base 101 -> disp32, no base */
    Insn i = DEC32(0x8b, 0x04, 0xcd, 0x00, 0x01, 0x00, 0x00);
    ck_assert_int_eq(i.base, REG_NONE);
    ck_assert_int_eq(i.index, R_ECX);
    ck_assert_int_eq(i.scale, 3);
    ck_assert_int_eq(i.disp, 0x100);
    /* mov eax, [ebp - 4]: default segment SS */
    Insn j = DEC32(0x8b, 0x45, 0xfc);
    ck_assert_int_eq(j.base, R_EBP);
    ck_assert_int_eq(j.disp, -4);
    ck_assert_int_eq(j.seg, SEG_SS);
    /* [esp] via SIB with index none: SS too */
    Insn k = DEC32(0x8b, 0x04, 0x24);
    ck_assert_int_eq(k.base, R_ESP);
    ck_assert_int_eq(k.index, REG_NONE);
    ck_assert_int_eq(k.seg, SEG_SS);
}
END_TEST

START_TEST(test_modrm16_forms)
{
    /* mov ax, [bp+si+0x12]: 8B 42 12 -> base BP index SI, SS */
    Insn i = DEC16(0x8b, 0x42, 0x12);
    ck_assert_int_eq(i.adsize, 2);
    ck_assert_int_eq(i.opsize, 2);
    ck_assert_int_eq(i.base, R_EBP);
    ck_assert_int_eq(i.index, R_ESI);
    ck_assert_int_eq(i.disp, 0x12);
    ck_assert_int_eq(i.seg, SEG_SS);
    /* mov ax, [0x1234]: mod 00 rm 110 is disp16 */
    Insn j = DEC16(0x8b, 0x06, 0x34, 0x12);
    ck_assert_int_eq(j.base, REG_NONE);
    ck_assert_int_eq(j.index, REG_NONE);
    ck_assert_int_eq(j.disp, 0x1234);
    ck_assert_int_eq(j.len, 4);
    /* with a segment override the override wins: ES: */
    Insn k = DEC16(0x26, 0x8b, 0x42, 0x12);
    ck_assert_int_eq(k.seg, SEG_ES);
    ck_assert_int_eq(k.prefix_len, 1);
}
END_TEST

START_TEST(test_size_prefixes)
{
    /* 66 B8 imm16 in 32-bit code: mov ax, imm16 (length 4) */
    Insn i = DEC32(0x66, 0xb8, 0x34, 0x12);
    ck_assert_int_eq(i.opsize, 2);
    ck_assert_int_eq(i.len, 4);
    ck_assert_uint_eq(i.imm, 0x1234);
    /* 66 B8 imm32 in 16-bit code */
    Insn j = DEC16(0x66, 0xb8, 0x78, 0x56, 0x34, 0x12);
    ck_assert_int_eq(j.opsize, 4);
    ck_assert_uint_eq(j.imm, 0x12345678);
    /* 67 in 32-bit code switches to 16-bit addressing */
    Insn k = DEC32(0x67, 0x8b, 0x07); /* mov eax, [bx] */
    ck_assert_int_eq(k.adsize, 2);
    ck_assert_int_eq(k.base, R_EBX);
    ck_assert_int_eq(k.index, REG_NONE);
}
END_TEST

START_TEST(test_immediates)
{
    Insn i = DEC32(0x83, 0xc0, 0xff); /* add eax, -1 (Ib sign-extended) */
    ck_assert_int_eq(i.op, OP_ADD);
    ck_assert_uint_eq(i.imm, 0xffffffffu);
    Insn j = DEC32(0x81, 0xc1, 0x01, 0x02, 0x03, 0x04); /* add ecx, 0x04030201 */
    ck_assert_uint_eq(j.imm, 0x04030201u);
    Insn k = DEC32(0xc8, 0x10, 0x00, 0x03); /* enter 16, 3 */
    ck_assert_int_eq(k.op, OP_ENTER);
    ck_assert_uint_eq(k.imm, 16);
    ck_assert_uint_eq(k.imm2, 3);
    Insn l = DEC32(0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00); /* jmp 0x08:0x12345678 */
    ck_assert_int_eq(l.op, OP_JMPF);
    ck_assert_uint_eq(l.imm, 0x12345678u);
    ck_assert_uint_eq(l.imm2, 8);
    ck_assert_int_eq(l.len, 7);
    Insn m = DEC32(0x69, 0xc3, 0x10, 0x00, 0x00, 0x00); /* imul eax, ebx, 16 */
    ck_assert_int_eq(m.op, OP_IMUL3);
    ck_assert_uint_eq(m.imm, 16);
}
END_TEST

START_TEST(test_relative_branches)
{
    Insn i = DEC32(0x74, 0xfe); /* jz $ */
    ck_assert_int_eq(i.op, OP_JCC);
    ck_assert_int_eq(i.cond, 4);
    ck_assert_uint_eq(i.imm, 0xfffffffeu);
    ck_assert(i.flags & INSN_F_BRANCH);
    ck_assert(i.flags & INSN_F_COND);
    Insn j = DEC32(0x0f, 0x8f, 0x00, 0x01, 0x00, 0x00); /* jg rel32 */
    ck_assert_int_eq(j.op, OP_JCC);
    ck_assert_int_eq(j.cond, 0xf);
    ck_assert_int_eq(j.len, 6);
    Insn k = DEC16(0xe8, 0x00, 0x80); /* call rel16 */
    ck_assert_int_eq(k.op, OP_CALL);
    ck_assert_uint_eq(k.imm, 0xffff8000u);
    ck_assert_int_eq(k.len, 3);
}
END_TEST

START_TEST(test_groups)
{
    ck_assert_int_eq(DEC32(0xc1, 0xe0, 0x04).op, OP_SHL);       /* shl eax, 4 */
    ck_assert_int_eq(DEC32(0xd1, 0xf8).op, OP_SAR);             /* sar eax, 1 */
    ck_assert_int_eq(DEC32(0xd1, 0xf8).opnd[1].kind, OPK_CONST1);
    ck_assert_int_eq(DEC32(0xf7, 0xf1).op, OP_DIV);             /* div ecx */
    ck_assert_int_eq(DEC32(0xf6, 0xc3, 0x01).op, OP_TEST);      /* test bl, 1 */
    ck_assert_int_eq(DEC32(0xff, 0xd0).op, OP_CALL_EV);         /* call eax */
    ck_assert_int_eq(DEC32(0xff, 0x30).op, OP_PUSH);            /* push dword [eax] */
    ck_assert_int_eq(DEC32(0x0f, 0x01, 0x38).op, OP_INVLPG);    /* invlpg [eax] */
    ck_assert_int_eq(DEC32(0x0f, 0xba, 0xe0, 0x05).op, OP_BT);  /* bt eax, 5 */
    ck_assert_int_eq(DEC32(0x0f, 0xc7, 0x0e).op, OP_CMPXCHG8B); /* cmpxchg8b [esi] */
}
END_TEST

START_TEST(test_invalid_encodings)
{
    ck_assert_int_eq(DEC32(0xff, 0xff).op, OP_UD);             /* FF /7 */
    ck_assert_int_eq(DEC32(0x8d, 0xc0).op, OP_UD);             /* lea eax, eax */
    ck_assert_int_eq(DEC32(0x0f, 0x0b).op, OP_UD2);
    ck_assert_int_eq(DEC32(0xc4, 0xc0).op, OP_UD);             /* les eax, eax */
    ck_assert_int_eq(DEC32(0x8e, 0xc8).op, OP_UD);             /* mov cs, ax */
    ck_assert_int_eq(DEC32(0x0f, 0x20, 0xc8).op, OP_UD);       /* mov eax, cr1 */
    ck_assert_int_eq(DEC32(0x0f, 0xc7, 0xc8).op, OP_UD);       /* cmpxchg8b with a register */
    ck_assert_int_eq(DEC32(0x0f, 0xff).op, OP_UD);
    /* LOCK on a non-lockable instruction or a register destination is #UD */
    ck_assert_int_eq(DEC32(0xf0, 0x89, 0x00).op, OP_UD);       /* lock mov [eax], eax */
    ck_assert_int_eq(DEC32(0xf0, 0x01, 0xc0).op, OP_UD);       /* lock add eax, eax */
    Insn ok = DEC32(0xf0, 0x01, 0x00);                         /* lock add [eax], eax */
    ck_assert_int_eq(ok.op, OP_ADD);
    ck_assert(ok.lock);
}
END_TEST

START_TEST(test_length_limits)
{
    Insn insn;
    /* 14 prefixes + a 1-byte instruction = 15 bytes: fine */
    uint8_t fifteen[16];
    for (int i = 0; i < 14; i++) {
        fifteen[i] = 0x26;
    }
    fifteen[14] = 0x90;
    ck_assert_int_eq(decode_insn(&insn, fifteen, 15, true), DECODE_OK);
    ck_assert_int_eq(insn.len, 15);
    /* 15 prefixes + opcode = 16 bytes: #GP */
    uint8_t sixteen[16];
    for (int i = 0; i < 15; i++) {
        sixteen[i] = 0x3e;
    }
    sixteen[15] = 0x90;
    ck_assert_int_eq(decode_insn(&insn, sixteen, 16, true), DECODE_TOO_LONG);
    /* truncated input asks for more */
    const uint8_t partial[] = {0x8b, 0x84, 0xb3, 0x78};
    ck_assert_int_eq(decode_insn(&insn, partial, 4, true), DECODE_NEED_MORE);
    ck_assert_int_eq(decode_insn(&insn, partial, 0, true), DECODE_NEED_MORE);
}
END_TEST

START_TEST(test_properties)
{
    ck_assert(DEC32(0xfa).flags & INSN_F_SENSITIVE);                 /* cli */
    ck_assert(DEC32(0x0f, 0x22, 0xd8).flags & INSN_F_PRIV);          /* mov cr3, eax */
    ck_assert(DEC32(0x0f, 0x22, 0xd8).flags & INSN_F_ENDBLOCK);
    ck_assert(DEC32(0xe4, 0x60).flags & INSN_F_IO);                  /* in al, 0x60 */
    ck_assert(DEC32(0xf3, 0xa5).flags & INSN_F_STRING);              /* rep movsd */
    ck_assert_int_eq(DEC32(0xf3, 0xa5).rep, REP_F3);
    ck_assert(DEC32(0x50).flags & INSN_F_MEM);                       /* push: implicit stack */
    ck_assert(!(DEC32(0x8d, 0x00).flags & INSN_F_MEM));              /* lea does not touch memory */
    ck_assert(DEC32(0xd9, 0xc0).flags & INSN_F_FPU);                 /* fld st0 */
    ck_assert(DEC32(0xcd, 0x80).flags & INSN_F_BRANCH);              /* int 0x80 */
    ck_assert_int_eq(DEC32(0xdd, 0x45, 0x08).len, 3);                /* fld qword [ebp+8] */
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_add_modrm_reg);
    tcase_add_test(tc, test_sib_disp32);
    tcase_add_test(tc, test_sib_no_base_and_ebp_default_ss);
    tcase_add_test(tc, test_modrm16_forms);
    tcase_add_test(tc, test_size_prefixes);
    tcase_add_test(tc, test_immediates);
    tcase_add_test(tc, test_relative_branches);
    tcase_add_test(tc, test_groups);
    tcase_add_test(tc, test_invalid_encodings);
    tcase_add_test(tc, test_length_limits);
    tcase_add_test(tc, test_properties);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
