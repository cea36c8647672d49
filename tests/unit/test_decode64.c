/*
 * The decoder in 64-bit mode (SDM Vol.2 2.2.1 and Appendix A): REX and what
 * it turns 40-4F into, REX.W operand size, the default and forced 64-bit
 * operand sizes, SPL..DIL, RIP-relative and 32-bit (67h) addressing,
 * MOVSXD, MOV r64, imm64, moffs64, CMPXCHG16B, CR8, the instructions that
 * are #UD in 64-bit mode, and the ignored segment overrides.  Bytes in,
 * fields out; the same bytes in 32-bit mode keep their old meaning.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/decode.h"
#include "cpu/state.h"

#define D64(insn, ...)                                                                             \
    decode_bytes(insn, DECODE_64, (const uint8_t[]){__VA_ARGS__},                                  \
                 (int)sizeof((const uint8_t[]){__VA_ARGS__}))
#define D32(insn, ...)                                                                             \
    decode_bytes(insn, DECODE_32, (const uint8_t[]){__VA_ARGS__},                                  \
                 (int)sizeof((const uint8_t[]){__VA_ARGS__}))

/* Decodes exactly n bytes (the whole buffer must be one instruction). */
static void decode_bytes(Insn *insn, enum DecodeMode mode, const uint8_t *bytes, int n)
{
    uint8_t buf[INSN_MAX_LEN + 1] = {0};
    for (int i = 0; i < n; i++) {
        buf[i] = bytes[i];
    }
    ck_assert_int_eq(decode_insn_mode(insn, buf, INSN_MAX_LEN, mode), DECODE_OK);
    if (insn->op != OP_UD) {
        ck_assert_msg(insn->len == n, "length %d, expected %d (first byte %02x)", insn->len, n,
                      bytes[0]);
    }
}

static void check_reg(const Operand *o, int reg, int size)
{
    ck_assert_int_eq(o->kind, OPK_REG);
    ck_assert_int_eq(o->reg, reg);
    ck_assert_int_eq(o->size, size);
}

START_TEST(test_rex_registers_and_width)
{
    Insn i;
    D64(&i, 0x48, 0x01, 0xc8); /* add rax, rcx */
    ck_assert_int_eq(i.op, OP_ADD);
    ck_assert_int_eq(i.rex, 0x48);
    ck_assert_int_eq(i.opsize, 8);
    check_reg(&i.opnd[0], R_EAX, 8);
    check_reg(&i.opnd[1], R_ECX, 8);
    D64(&i, 0x4d, 0x01, 0xc8); /* add r8, r9 */
    check_reg(&i.opnd[0], 8, 8);
    check_reg(&i.opnd[1], 9, 8);
    D64(&i, 0x01, 0xc8); /* add eax, ecx: 32 bits is the default */
    ck_assert_int_eq(i.opsize, 4);
    D64(&i, 0x66, 0x01, 0xc8); /* add ax, cx */
    ck_assert_int_eq(i.opsize, 2);
    D64(&i, 0x66, 0x48, 0x01, 0xc8); /* REX.W wins over 66h */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0x48, 0x66, 0x01, 0xc8); /* a REX before a legacy prefix is ignored */
    ck_assert_int_eq(i.rex, 0);
    ck_assert_int_eq(i.opsize, 2);
    D64(&i, 0x44, 0x48, 0x01, 0xc8); /* only the last REX counts: W, no R */
    check_reg(&i.opnd[1], R_ECX, 8);
    D64(&i, 0x48, 0x83, 0xc0, 0xff); /* add rax, -1: the immediate is sign-extended to 64 */
    ck_assert_uint_eq(insn_imm64(&i), UINT64_MAX);
    ck_assert_int_eq(i.opnd[1].size, 8);
    D64(&i, 0x48, 0x05, 0x00, 0x00, 0x00, 0x80); /* add rax, 0x80000000 → ffffffff80000000 */
    ck_assert_uint_eq(insn_imm64(&i), 0xffffffff80000000ull);
    D64(&i, 0x05, 0x00, 0x00, 0x00, 0x80); /* add eax, 0x80000000 */
    ck_assert_uint_eq(insn_imm64(&i), 0x80000000ull);
    D64(&i, 0x48, 0x0f, 0xc8); /* bswap rax */
    check_reg(&i.opnd[0], R_EAX, 8);
    D64(&i, 0x41, 0x0f, 0xc8); /* bswap r8d */
    check_reg(&i.opnd[0], 8, 4);
}
END_TEST

START_TEST(test_byte_registers)
{
    Insn i;
    D64(&i, 0x88, 0xe0); /* mov al, ah: no REX, AH as ever */
    check_reg(&i.opnd[0], 0, 1);
    check_reg(&i.opnd[1], 4, 1);
    D64(&i, 0x40, 0x88, 0xe0); /* mov al, spl */
    check_reg(&i.opnd[1], REG_BYTE_REX + R_ESP, 1);
    D64(&i, 0x40, 0xb6, 0x01); /* mov sil, 1 */
    check_reg(&i.opnd[0], REG_BYTE_REX + R_ESI, 1);
    D64(&i, 0x41, 0x88, 0xc0); /* mov r8b, al */
    check_reg(&i.opnd[0], 8, 1);
    check_reg(&i.opnd[1], 0, 1);
    D64(&i, 0x44, 0x88, 0xf8); /* mov al, r15b */
    check_reg(&i.opnd[1], 15, 1);
}
END_TEST

/* The census's forms (info jit): 64-bit operand sizes are named as such,
 * and only AH..BH count as high bytes. */
START_TEST(test_form_names)
{
    static const struct {
        uint8_t bytes[4];
        int len;
        const char *name;
    } cases[] = {
        {{0x48, 0x01, 0xc8}, 3, "ADD r64"},       /* add rax, rcx */
        {{0x01, 0xc8}, 2, "ADD r32"},             /* add eax, ecx */
        {{0x48, 0x8b, 0x06}, 3, "MOV m64"},       /* mov rax, [rsi] */
        {{0x88, 0xe0}, 2, "MOV r8 AH-BH"},        /* mov al, ah */
        {{0x40, 0x88, 0xe0}, 3, "MOV r8"},        /* mov al, spl */
        {{0x41, 0x88, 0xc0}, 3, "MOV r8"},        /* mov r8b, al */
        {{0xf3, 0x48, 0xa5}, 3, "MOVS m64 rep"},  /* rep movsq */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        Insn i;
        decode_bytes(&i, DECODE_64, cases[k].bytes, cases[k].len);
        char name[40];
        insn_form_name(insn_form(&i), name, sizeof(name));
        ck_assert_str_eq(name, cases[k].name);
    }
}
END_TEST

START_TEST(test_addressing)
{
    Insn i;
    D64(&i, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00); /* mov rax, [rip+0x10] */
    ck_assert_int_eq(i.base, INSN_BASE_RIP);
    ck_assert_int_eq(i.index, REG_NONE);
    ck_assert_int_eq(i.disp, 0x10);
    ck_assert_int_eq(i.adsize, 8);
    D64(&i, 0x41, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff); /* REX.B does not make it r13 */
    ck_assert_int_eq(i.base, INSN_BASE_RIP);
    ck_assert_int_eq(i.disp, -16);
    D64(&i, 0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00); /* mov eax, [eip+0x10] */
    ck_assert_int_eq(i.base, INSN_BASE_RIP);
    ck_assert_int_eq(i.adsize, 4);
    D32(&i, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00); /* 32-bit mode: absolute [0x10] */
    ck_assert_int_eq(i.base, REG_NONE);
    D64(&i, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00); /* mov eax, [0x10]: SIB, no base */
    ck_assert_int_eq(i.base, REG_NONE);
    ck_assert_int_eq(i.index, REG_NONE);
    D64(&i, 0x42, 0x8b, 0x04, 0x20); /* mov eax, [rax+r12]: R12 can index */
    ck_assert_int_eq(i.base, R_EAX);
    ck_assert_int_eq(i.index, 12);
    D64(&i, 0x41, 0x8b, 0x04, 0x24); /* mov eax, [r12]: base R12, data segment */
    ck_assert_int_eq(i.base, 12);
    ck_assert_int_eq(i.index, REG_NONE);
    ck_assert_int_eq(i.seg, SEG_DS);
    D64(&i, 0x8b, 0x04, 0x24); /* mov eax, [rsp]: the stack */
    ck_assert_int_eq(i.base, R_ESP);
    ck_assert_int_eq(i.seg, SEG_SS);
    D64(&i, 0x41, 0x8b, 0x45, 0x00); /* mov eax, [r13+0] */
    ck_assert_int_eq(i.base, 13);
    ck_assert_int_eq(i.seg, SEG_DS);
    D64(&i, 0x43, 0x8b, 0x44, 0xfd, 0x08); /* mov eax, [r13+r15*8+8] */
    ck_assert_int_eq(i.base, 13);
    ck_assert_int_eq(i.index, 15);
    ck_assert_int_eq(i.scale, 3);
    ck_assert_int_eq(i.disp, 8);
    /* ES, CS, SS and DS overrides are ignored; FS and GS are not */
    D64(&i, 0x2e, 0x8b, 0x00);
    ck_assert_int_eq(i.seg_override, SEG_NONE);
    ck_assert_int_eq(i.seg, SEG_DS);
    D64(&i, 0x36, 0x8b, 0x00);
    ck_assert_int_eq(i.seg, SEG_DS);
    D64(&i, 0x65, 0x48, 0x8b, 0x00); /* mov rax, gs:[rax] */
    ck_assert_int_eq(i.seg, SEG_GS);
    ck_assert_int_eq(i.rex, 0x48);
}
END_TEST

START_TEST(test_wide_immediates_and_moffs)
{
    Insn i;
    D64(&i, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11); /* mov rax, imm64 */
    ck_assert_int_eq(i.op, OP_MOV);
    ck_assert_uint_eq(insn_imm64(&i), 0x1122334455667788ull);
    ck_assert_int_eq(i.opnd[1].size, 8);
    D64(&i, 0x49, 0xbf, 1, 0, 0, 0, 0, 0, 0, 0x80); /* mov r15, imm64 */
    check_reg(&i.opnd[0], 15, 8);
    ck_assert_uint_eq(insn_imm64(&i), 0x8000000000000001ull);
    D64(&i, 0xb8, 0x78, 0x56, 0x34, 0x12); /* mov eax, imm32 */
    ck_assert_int_eq(i.opsize, 4);
    ck_assert_uint_eq(insn_imm64(&i), 0x12345678u);
    D64(&i, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff); /* mov rax, -1 (imm32 sign-extended) */
    ck_assert_uint_eq(insn_imm64(&i), UINT64_MAX);
    D64(&i, 0x48, 0xa1, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01); /* mov rax, [moffs64] */
    ck_assert_int_eq(i.opnd[1].kind, OPK_MEM);
    ck_assert_int_eq(i.opnd[1].size, 8);
    ck_assert_uint_eq((uint32_t)i.disp, 0x05060708u);
    ck_assert_uint_eq(i.hi, 0x01020304u);
    D64(&i, 0xa2, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01); /* mov [moffs64], al */
    ck_assert_int_eq(i.opnd[0].size, 1);
    D64(&i, 0x67, 0xa1, 0x04, 0x03, 0x02, 0x01); /* mov eax, [moffs32] */
    ck_assert_uint_eq((uint32_t)i.disp, 0x01020304u);
    ck_assert_uint_eq(i.hi, 0);
}
END_TEST

START_TEST(test_default_64bit_operand_size)
{
    Insn i;
    D64(&i, 0x50); /* push rax */
    ck_assert_int_eq(i.opsize, 8);
    check_reg(&i.opnd[0], R_EAX, 8);
    D64(&i, 0x41, 0x5f); /* pop r15 */
    check_reg(&i.opnd[0], 15, 8);
    D64(&i, 0x66, 0x50); /* push ax */
    ck_assert_int_eq(i.opsize, 2);
    D64(&i, 0x6a, 0xff); /* push -1: 8 bytes of ones */
    ck_assert_int_eq(i.opsize, 8);
    ck_assert_uint_eq(insn_imm64(&i), UINT64_MAX);
    D64(&i, 0xff, 0x30); /* push qword [rax] */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0x8f, 0x00); /* pop qword [rax] */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0xff, 0x00); /* inc dword [rax]: not a stack op */
    ck_assert_int_eq(i.opsize, 4);
    D64(&i, 0xff, 0xd0); /* call rax */
    ck_assert_int_eq(i.op, OP_CALL_EV);
    check_reg(&i.opnd[0], R_EAX, 8);
    D64(&i, 0x41, 0xff, 0xe3); /* jmp r11 */
    check_reg(&i.opnd[0], 11, 8);
    D64(&i, 0x66, 0xe8, 0x00, 0x01, 0x00, 0x00); /* call rel32: 66h changes nothing */
    ck_assert_int_eq(i.opsize, 8);
    ck_assert_int_eq(i.len, 6);
    D64(&i, 0xeb, 0xfe); /* jmp $ */
    ck_assert_uint_eq(insn_imm64(&i), (uint64_t)-2);
    D64(&i, 0x0f, 0x84, 0x00, 0x00, 0x00, 0x80); /* je rel32: sign-extended to 64 */
    ck_assert_int_eq(i.opsize, 8);
    ck_assert_uint_eq(insn_imm64(&i), 0xffffffff80000000ull);
    D64(&i, 0xc3); /* ret */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0x9c); /* pushfq */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0x0f, 0xa8); /* push gs */
    ck_assert_int_eq(i.opsize, 8);
    D64(&i, 0xc9); /* leave */
    ck_assert_int_eq(i.opsize, 8);
}
END_TEST

START_TEST(test_new_and_changed_forms)
{
    Insn i;
    D64(&i, 0x48, 0x63, 0xc1); /* movsxd rax, ecx */
    ck_assert_int_eq(i.op, OP_MOVSX);
    check_reg(&i.opnd[0], R_EAX, 8);
    check_reg(&i.opnd[1], R_ECX, 4);
    D32(&i, 0x63, 0xc1); /* arpl cx, ax in 32-bit code */
    ck_assert_int_eq(i.op, OP_ARPL);
    D64(&i, 0x90); /* nop */
    ck_assert_int_eq(i.op, OP_NOP);
    D64(&i, 0x48, 0x90); /* REX.W nop */
    ck_assert_int_eq(i.op, OP_NOP);
    D64(&i, 0x41, 0x90); /* xchg r8d, eax */
    ck_assert_int_eq(i.op, OP_XCHG);
    check_reg(&i.opnd[0], 8, 4);
    D64(&i, 0x48, 0x0f, 0xc7, 0x08); /* cmpxchg16b [rax] */
    ck_assert_int_eq(i.op, OP_CMPXCHG8B);
    ck_assert_int_eq(i.opnd[0].size, 16);
    D64(&i, 0xf0, 0x48, 0x0f, 0xc7, 0x08); /* lock cmpxchg16b [rax] */
    ck_assert_int_eq(i.op, OP_CMPXCHG8B);
    D64(&i, 0x0f, 0xc7, 0x08); /* cmpxchg8b [rax] */
    ck_assert_int_eq(i.opnd[0].size, 8);
    D64(&i, 0x0f, 0x20, 0xc0); /* mov rax, cr0 */
    check_reg(&i.opnd[0], R_EAX, 8);
    D64(&i, 0x44, 0x0f, 0x20, 0xc0); /* mov rax, cr8 */
    ck_assert_int_eq(i.op, OP_MOV_CR);
    ck_assert_int_eq(i.opnd[1].reg, 8);
    D64(&i, 0x41, 0x0f, 0x22, 0xd8); /* mov cr3, r8 */
    ck_assert_int_eq(i.op, OP_MOV_CR);
    check_reg(&i.opnd[1], 8, 8);
    D64(&i, 0x0f, 0x20, 0xc8); /* cr1 does not exist */
    ck_assert_int_eq(i.op, OP_UD);
    D64(&i, 0x44, 0x0f, 0x20, 0xc8); /* nor cr9 */
    ck_assert_int_eq(i.op, OP_UD);
    D32(&i, 0x0f, 0x20, 0xc0); /* mov eax, cr0 in 32-bit code */
    check_reg(&i.opnd[0], R_EAX, 4);
    D32(&i, 0x48); /* dec eax in 32-bit code */
    ck_assert_int_eq(i.op, OP_DEC);
}
END_TEST

/* One-byte opcodes that are #UD in 64-bit mode and valid in 32-bit mode
 * (SDM Vol.2 Table A-2, i64), each with enough bytes for its 32-bit form. */
static const struct {
    uint8_t bytes[8];
    int len32;
} i64_cases[] = {
    {{0x06}, 1},
    {{0x07}, 1},
    {{0x0e}, 1},
    {{0x16}, 1},
    {{0x17}, 1},
    {{0x1e}, 1},
    {{0x1f}, 1},
    {{0x27}, 1},
    {{0x2f}, 1},
    {{0x37}, 1},
    {{0x3f}, 1},
    {{0x60}, 1},
    {{0x61}, 1},
    {{0x62, 0x00}, 2},
    {{0x82, 0xc0, 0x01}, 3},
    {{0x9a, 1, 2, 3, 4, 5, 6}, 7},
    {{0xc4, 0x00}, 2},
    {{0xc5, 0x00}, 2},
    {{0xce}, 1},
    {{0xd4, 0x0a}, 2},
    {{0xd5, 0x0a}, 2},
    {{0xd6}, 1},
    {{0xea, 1, 2, 3, 4, 5, 6}, 7},
};

START_TEST(test_invalid_in_64bit_mode)
{
    for (size_t k = 0; k < sizeof(i64_cases) / sizeof(i64_cases[0]); k++) {
        Insn i;
        uint8_t buf[INSN_MAX_LEN] = {0};
        for (int b = 0; b < i64_cases[k].len32; b++) {
            buf[b] = i64_cases[k].bytes[b];
        }
        ck_assert_int_eq(decode_insn_mode(&i, buf, INSN_MAX_LEN, DECODE_32), DECODE_OK);
        ck_assert_msg(i.op != OP_UD, "%02x is valid in 32-bit code", buf[0]);
        ck_assert_int_eq(i.len, i64_cases[k].len32);
        ck_assert_int_eq(decode_insn_mode(&i, buf, INSN_MAX_LEN, DECODE_64), DECODE_OK);
        ck_assert_msg(i.op == OP_UD, "%02x decodes as op %d in 64-bit mode", buf[0], i.op);
    }
    /* 40-4F are prefixes: alone they need the opcode that follows */
    for (int b = 0x40; b < 0x50; b++) {
        Insn i;
        uint8_t buf[1] = {(uint8_t)b};
        ck_assert_int_eq(decode_insn_mode(&i, buf, 1, DECODE_64), DECODE_NEED_MORE);
        ck_assert_int_eq(decode_insn_mode(&i, buf, 1, DECODE_32), DECODE_OK);
        ck_assert_int_eq(i.op, b < 0x48 ? OP_INC : OP_DEC);
    }
    /* fifteen REX bytes and an opcode: too long, as with any prefixes */
    uint8_t rexes[16];
    for (int k = 0; k < 15; k++) {
        rexes[k] = 0x48;
    }
    rexes[15] = 0x90;
    Insn i;
    ck_assert_int_eq(decode_insn_mode(&i, rexes, 16, DECODE_64), DECODE_TOO_LONG);
}
END_TEST

static Suite *decode64_suite(void)
{
    Suite *s = suite_create("decode64");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rex_registers_and_width);
    tcase_add_test(tc, test_byte_registers);
    tcase_add_test(tc, test_form_names);
    tcase_add_test(tc, test_addressing);
    tcase_add_test(tc, test_wide_immediates_and_moffs);
    tcase_add_test(tc, test_default_64bit_operand_size);
    tcase_add_test(tc, test_new_and_changed_forms);
    tcase_add_test(tc, test_invalid_in_64bit_mode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode64_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
