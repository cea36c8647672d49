/*
 * The translator's x86-64 encoder (translator/emit_x86_64.c): byte
 * sequences checked against the encodings of SDM Vol.2 chapter 2 (REX,
 * ModRM, SIB, the RBP/R13 and RSP/R12 special cases, RIP-relative
 * operands), each also disassembled with capstone as a second opinion,
 * and the REX restriction on AH-BH.
 */
#include <capstone/capstone.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "translator/emit_x86_64.h"

static uint8_t buf[256];

static Emit fresh(void)
{
    Emit e;
    memset(buf, 0xcc, sizeof(buf));
    emit_init(&e, buf, sizeof(buf), 0);
    return e;
}

/* The emitted bytes are exactly want, and capstone reads them as text. */
static void expect(const Emit *e, const uint8_t *want, size_t len, const char *text)
{
    size_t got = (size_t)(e->p - buf);
    ck_assert_msg(!e->overflow, "%s: emitter overflow", text);
    ck_assert_msg(got == len && memcmp(buf, want, len) == 0, "%s: %zu bytes, first %02x %02x %02x",
                  text, got, buf[0], buf[1], buf[2]);
    csh cs;
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
    cs_insn *insn;
    size_t n = cs_disasm(cs, buf, got, (uint64_t)(uintptr_t)buf, 0, &insn);
    char line[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %s", i ? "; " : "",
                                 insn[i].mnemonic, insn[i].op_str);
    }
    if (n) {
        cs_free(insn, n);
    }
    cs_close(&cs);
    ck_assert_msg(strcmp(line, text) == 0, "capstone reads '%s', want '%s'", line, text);
}

#define EXPECT(e, text, ...)                                                                       \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        expect(e, want_, sizeof(want_), text);                                                     \
    } while (0)

START_TEST(test_loads_and_stores)
{
    Emit e = fresh();
    emit_load32(&e, H_RAX, H_R15, 0x10);
    EXPECT(&e, "mov eax, dword ptr [r15 + 0x10]", 0x41, 0x8b, 0107, 0x10);
    e = fresh();
    emit_load32(&e, H_R12, H_R15, 0x58620);
    EXPECT(&e, "mov r12d, dword ptr [r15 + 0x58620]", 0x45, 0x8b, 0247, 0x20, 0x86, 0x05, 0x00);
    e = fresh();
    emit_store64(&e, H_R15, 0x40, H_R13);
    EXPECT(&e, "mov qword ptr [r15 + 0x40], r13", 0x4d, 0x89, 0157, 0x40);
    e = fresh();
    emit_store32_imm(&e, H_R15, 0x20, 0xb7fc6564u);
    EXPECT(&e, "mov dword ptr [r15 + 0x20], 0xb7fc6564", 0x41, 0xc7, 0107, 0x20, 0x64, 0x65, 0xfc,
           0xb7);
}
END_TEST

/* RBP/R13 as a base always needs a displacement; RSP/R12 always a SIB byte. */
START_TEST(test_special_bases)
{
    Emit e = fresh();
    emit_load32(&e, H_RAX, H_RBP, 0);
    EXPECT(&e, "mov eax, dword ptr [rbp]", 0x8b, 0105, 0x00);
    e = fresh();
    emit_load32(&e, H_RAX, H_R13, 0);
    EXPECT(&e, "mov eax, dword ptr [r13]", 0x41, 0x8b, 0105, 0x00);
    e = fresh();
    HostRM m = hrm_mem(H_R12, 4);
    emit_lea32(&e, H_R14, &m);
    EXPECT(&e, "lea r14d, [r12 + 4]", 0x45, 0x8d, 0164, 0044, 0x04);
    e = fresh();
    m = hrm_mem(H_R14, 0);
    emit_rm(&e, 0, OPC_MOV_GvEv, H_RCX, &m);
    EXPECT(&e, "mov ecx, dword ptr [r14]", 0x41, 0x8b, 0016);
}
END_TEST

START_TEST(test_sib_and_absolute)
{
    Emit e = fresh();
    HostRM m = hrm_sib(H_RBX, H_RSI, 2, 0x10);
    emit_lea32(&e, H_R14, &m);
    EXPECT(&e, "lea r14d, [rbx + rsi*4 + 0x10]", 0x44, 0x8d, 0164, 0263, 0x10);
    e = fresh();
    m = hrm_sib(H_R15, H_R11, 0, 0x80c0);
    emit_rm(&e, EMIT_W, OPC_ADD_EvGv + 2, H_R14, &m);
    EXPECT(&e, "add r14, qword ptr [r15 + r11 + 0x80c0]", 0x4f, 0x03, 0264, 0037, 0xc0, 0x80, 0x00,
           0x00);
    e = fresh();
    m = hrm_sib(H_NONE, H_RDI, 3, 0x1234);
    emit_lea32(&e, H_RAX, &m);
    EXPECT(&e, "lea eax, [rdi*8 + 0x1234]", 0x8d, 0004, 0375, 0x34, 0x12, 0x00, 0x00);
    e = fresh();
    m = hrm_mem(H_NONE, 0x20000);
    emit_rm(&e, 0, OPC_MOV_GvEv, H_RDX, &m);
    EXPECT(&e, "mov edx, dword ptr [0x20000]", 0x8b, 0024, 0045, 0x00, 0x00, 0x02, 0x00);
}
END_TEST

START_TEST(test_immediates)
{
    Emit e = fresh();
    HostRM r = hrm_reg(H_R11);
    emit_alu32_imm(&e, EXT_AND, &r, 0x7fe0);
    EXPECT(&e, "and r11d, 0x7fe0", 0x41, 0x81, 0343, 0xe0, 0x7f, 0x00, 0x00);
    e = fresh();
    HostRM budget = hrm_mem(H_R15, 0x58620);
    emit_alu64_imm(&e, EXT_SUB, &budget, 7);
    EXPECT(&e, "sub qword ptr [r15 + 0x58620], 7", 0x49, 0x83, 0257, 0x20, 0x86, 0x05, 0x00, 0x07);
    e = fresh();
    emit_shift32_imm(&e, EXT_SHR, H_R11, 7);
    EXPECT(&e, "shr r11d, 7", 0x41, 0xc1, 0353, 0x07);
    e = fresh();
    emit_mov_r64_imm(&e, H_R10, 0x123456789ull);
    EXPECT(&e, "movabs r10, 0x123456789", 0x49, 0xba, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00,
           0x00);
    e = fresh();
    emit_mov_r64_imm(&e, H_RAX, 5);
    EXPECT(&e, "mov eax, 5", 0xb8, 0x05, 0x00, 0x00, 0x00);
}
END_TEST

START_TEST(test_rel32_targets)
{
    Emit e = fresh();
    uint8_t *field = emit_jcc32(&e, CC_NE, NULL);
    ck_assert_int_eq(buf[0], 0x0f);
    ck_assert_int_eq(buf[1], 0x85);
    /* Bind to 0x40 bytes later: rel32 counts from the end of the instruction. */
    emit_patch_rel32(field, 0, buf + 6 + 0x40);
    int32_t rel;
    memcpy(&rel, field, 4);
    ck_assert_int_eq(rel, 0x40);
    /* With a separate executable mapping the displacement is computed there. */
    Emit x;
    emit_init(&x, buf, sizeof(buf), 0x1000);
    uint8_t *f2 = emit_call32(&x, (const uint8_t *)((uintptr_t)buf + 0x1000 + 0x20));
    memcpy(&rel, f2, 4);
    ck_assert_int_eq(rel, 0x20 - 5);
    /* rel8 binding and its range limit */
    Emit s = fresh();
    uint8_t *j = emit_jcc8(&s, CC_E);
    emit_u8(&s, 0x90);
    ck_assert(emit_bind8(&s, j));
    ck_assert_int_eq(*j, 1);
}
END_TEST

START_TEST(test_rip_relative)
{
    Emit e = fresh();
    HostRM m = hrm_rip(buf + 0x80);
    emit_lea64(&e, H_R9, &m);
    /* lea r9, [rip + disp32]: disp counts from the end of the 7-byte instruction */
    int32_t disp;
    memcpy(&disp, buf + 3, 4);
    ck_assert_int_eq(buf[0], 0x4c);
    ck_assert_int_eq(buf[1], 0x8d);
    ck_assert_int_eq(buf[2], 0015);
    ck_assert_int_eq(disp, 0x80 - 7);
}
END_TEST

/* AH-BH exist only without REX (SDM Vol.2 3.7.2.1). */
START_TEST(test_high_byte_registers)
{
    HostRM r14 = hrm_mem(H_R14, 0);
    ck_assert(emit_needs_rex(0, 4, &r14));
    HostRM rbx = hrm_mem(H_RBX, 0);
    ck_assert(!emit_needs_rex(0, 4, &rbx));
    Emit e = fresh();
    HostRM cl = hrm_reg(H_RCX);
    emit_rm(&e, EMIT_BYTE_H, 0x88, 4, &cl); /* mov cl, ah: fine */
    EXPECT(&e, "mov cl, ah", 0x88, 0341);
    e = fresh();
    emit_rm(&e, EMIT_BYTE_H, 0x88, 4, &r14); /* mov [r14], ah: impossible */
    ck_assert(e.overflow);
}
END_TEST

START_TEST(test_overflow)
{
    Emit e;
    emit_init(&e, buf, 3, 0);
    emit_load32(&e, H_RAX, H_R15, 0x10);
    ck_assert(e.overflow);
    ck_assert_ptr_eq(e.p, buf + 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_emit");
    TCase *tc = tcase_create("encode");
    tcase_add_test(tc, test_loads_and_stores);
    tcase_add_test(tc, test_special_bases);
    tcase_add_test(tc, test_sib_and_absolute);
    tcase_add_test(tc, test_immediates);
    tcase_add_test(tc, test_rel32_targets);
    tcase_add_test(tc, test_rip_relative);
    tcase_add_test(tc, test_high_byte_registers);
    tcase_add_test(tc, test_overflow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
