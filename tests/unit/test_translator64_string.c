/*
 * REP MOVS and REP STOS in 64-bit blocks (translator/gen_string.c's inline
 * run and helpers_string.c's page-at-a-time helper), in lockstep with the
 * interpreter: the program runs on the interpreter, on bt and under the
 * lockstep check, and all three must end with the same registers, RIP,
 * flags, instruction count and RAM.  It covers what differs from 32-bit
 * code: 64-bit RSI/RDI/RCX, MOVSQ/STOSQ, a 67h prefix (ESI, EDI and ECX of
 * registers whose high halves are set, zero-extended when written), an FS
 * source with its base, DF=1, an overlapping copy, runs that cross a page,
 * a count of zero, and indexes at the kernel-half alias (above 4 GiB).  A non-canonical destination raises #GP(0) with
 * nothing done, on both engines.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

/* clang-format off */
/*
 * at 0x10000, assembled with nasm (DATA = 0x20000):
 *         mov ebx, 3                                    ; FS.base is 0x1000 (setup)
 * round:  mov rdi, DATA ; mov rax, 0x0123456789abcdef ; add rax, rbx
 *         mov ecx, 512 ; rep stosq                      ; a whole page: inline
 *         mov rsi, DATA+8 ; mov rdi, DATA+0x2ff0 ; mov ecx, 100
 *         rep movsb                                     ; crosses a page: helper
 *         mov rsi, 0xffffffff00000000+DATA+3 ; mov rdi, 0x1234567800000000+DATA+0x1800
 *         mov rcx, 0xffffffff00000005 ; a32 rep movsw   ; 67h
 *         std ; mov rsi, DATA+0xff8 ; mov rdi, DATA+0x1ff8 ; mov ecx, 10
 *         rep movsq ; cld                               ; DF=1
 *         mov rsi, DATA+0x100 ; lea rdi, [rsi+1] ; mov ecx, 200
 *         rep movsb                                     ; overlapping: a pattern fill
 *         mov [abs DATA-0x1000+0x40], rbx               ; that page in the TLB too
 *         mov rsi, DATA-0x1000+0x40 ; mov rdi, DATA+0x2400 ; mov ecx, 64
 *         fs rep movsd                                  ; FS source
 *         mov rdi, DATA+0x2800 ; mov ax, 0x5aa5 ; mov ecx, 33 ; rep stosw
 *         mov ecx, 17 ; rep stosd ; xor ecx, ecx ; rep stosb ; rep movsq
 *         mov al, 0x77 ; mov ecx, 3000 ; rep stosb      ; into the next page
 *         mov rsi, TESTVM_HIGH+DATA+0x10 ; mov rdi, TESTVM_HIGH+DATA+0x3800
 *         mov ecx, 100 ; rep movsb                      ; the kernel-half alias
 *         mov rax, rsi ; sub rax, rdi ; add rax, rcx
 *         mov rdi, DATA+0x3c00 ; xor eax, eax ; mov ecx, 600 ; rep stosd
 *         mov rdi, DATA+0x3e00 ; mov eax, 0x11223344 ; add eax, ebx
 *         mov ecx, 300 ; rep stosd                      ; across a page: zeros, a pattern
 *         dec ebx ; jnz round ; hlt
 */
static const uint8_t strings[] = {
    0xbb, 0x03, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x02, 0x00, 0x48, 0xb8,
    0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, 0x48, 0x01, 0xd8, 0xb9,
    0x00, 0x02, 0x00, 0x00, 0xf3, 0x48, 0xab, 0xbe, 0x08, 0x00, 0x02, 0x00,
    0xbf, 0xf0, 0x2f, 0x02, 0x00, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xf3, 0xa4,
    0x48, 0xbe, 0x03, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff, 0x48, 0xbf,
    0x00, 0x18, 0x02, 0x00, 0x78, 0x56, 0x34, 0x12, 0x48, 0xb9, 0x05, 0x00,
    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xf3, 0x66, 0x67, 0xa5, 0xfd, 0xbe,
    0xf8, 0x0f, 0x02, 0x00, 0xbf, 0xf8, 0x1f, 0x02, 0x00, 0xb9, 0x0a, 0x00,
    0x00, 0x00, 0xf3, 0x48, 0xa5, 0xfc, 0xbe, 0x00, 0x01, 0x02, 0x00, 0x48,
    0x8d, 0x7e, 0x01, 0xb9, 0xc8, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0x48, 0x89,
    0x1c, 0x25, 0x40, 0xf0, 0x01, 0x00, 0xbe, 0x40, 0xf0, 0x01, 0x00, 0xbf,
    0x00, 0x24, 0x02, 0x00, 0xb9, 0x40, 0x00, 0x00, 0x00, 0xf3, 0x64, 0xa5,
    0xbf, 0x00, 0x28, 0x02, 0x00, 0x66, 0xb8, 0xa5, 0x5a, 0xb9, 0x21, 0x00,
    0x00, 0x00, 0xf3, 0x66, 0xab, 0xb9, 0x11, 0x00, 0x00, 0x00, 0xf3, 0xab,
    0x31, 0xc9, 0xf3, 0xaa, 0xf3, 0x48, 0xa5, 0xb0, 0x77, 0xb9, 0xb8, 0x0b,
    0x00, 0x00, 0xf3, 0xaa, 0x48, 0xc7, 0xc6, 0x10, 0x00, 0x02, 0x80, 0x48,
    0xc7, 0xc7, 0x00, 0x38, 0x02, 0x80, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xf3,
    0xa4, 0x48, 0x89, 0xf0, 0x48, 0x29, 0xf8, 0x48, 0x01, 0xc8, 0xbf, 0x00,
    0x3c, 0x02, 0x00, 0x31, 0xc0, 0xb9, 0x58, 0x02, 0x00, 0x00, 0xf3, 0xab,
    0xbf, 0x00, 0x3e, 0x02, 0x00, 0xb8, 0x44, 0x33, 0x22, 0x11, 0x01, 0xd8,
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0xf3, 0xab, 0xff, 0xcb, 0x0f, 0x85, 0x06,
    0xff, 0xff, 0xff, 0xf4,
};
/* clang-format on */

static void setup_fs(TestVM *vm)
{
    vm->cpu.seg[SEG_FS].base = 0x1000;
}

START_TEST(test_rep_forms)
{
    const Seg segs[] = {{TESTVM_CODE, strings, sizeof(strings)}};
    BT *bt = NULL;
    TestVM *vm = run_lockstep(segs, 1, setup_fs, &bt);
    /* What the program left, so a run that did nothing cannot pass: the
     * 67h copy zero-extended RSI, RDI and RCX; the pattern fill repeated
     * DATA+0x100's byte. */
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
    uint8_t fill[201];
    memcpy(fill, vm->phys.ram + DATA + 0x100, sizeof(fill));
    for (size_t i = 1; i < sizeof(fill); i++) {
        ck_assert_uint_eq(fill[i], fill[0]);
    }
    uint64_t q;
    memcpy(&q, vm->phys.ram + DATA + 0x1800, 8);
    ck_assert_uint_ne(q, 0);
    ck_assert_uint_eq(vm->phys.ram[DATA + 0x2800 + 66 + 68 + 2999], 0x77);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], TESTVM_HIGH + DATA + 0x10 + 100);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_insns, 0); /* none left to the interpreter */
    /* Thirteen REP instructions a round: six are the helper's by design
     * (runs across a page, 67h, DF=1), the rest inline once their pages
     * are in the TLB, so three rounds make far fewer than 39 callouts. */
    ck_assert_uint_lt(st->callout_insns, 28);
    uint32_t d;
    memcpy(&d, vm->phys.ram + DATA + 0x3e00 + 4 * 299, 4);
    ck_assert_uint_eq(d, 0x11223344u + 1); /* the last round's */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * A destination off the canonical range: #GP(0) at the instruction with
 * RDI and RCX as they were, on bt as on the interpreter:
 *   mov rdi, 0x0000800000000000 ; mov ecx, 16 ; rep stosb ; hlt
 */
START_TEST(test_noncanonical_destination)
{
    static const uint8_t code[] = {
        0x48, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, /* mov rdi, 0x800000000000 */
        0xb9, 0x10, 0x00, 0x00, 0x00,                               /* mov ecx, 16 */
        0xf3, 0xaa,                                                 /* rep stosb */
        0xf4,                                                       /* hlt */
    };
    FirstFault f[2];
    TestVM *vm[2];
    BT *bt = run_to_first_fault(code, sizeof(code), vm, f);
    for (int e = 0; e < 2; e++) {
        ck_assert_int_eq(f[e].vector, EXC_GP);
        ck_assert_uint_eq(f[e].error, 0);
        ck_assert_uint_eq(f[e].rip, TESTVM_CODE + 15);
    }
    ck_assert_uint_eq(vm[1]->cpu.regs[R_EDI], UINT64_C(0x800000000000));
    ck_assert_uint_eq(vm[1]->cpu.regs[R_ECX], 16);
    bt_free(bt);
    for (int e = 0; e < 2; e++) {
        testvm_free(vm[e]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64_string");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rep_forms);
    tcase_add_test(tc, test_noncanonical_destination);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
