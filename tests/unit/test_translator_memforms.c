/*
 * Memory forms translated code runs natively although the host cannot
 * re-encode them as they are (translator/gen_ops.c emit_native_mem_high,
 * translator/gen_memforms.c): byte instructions naming AH..BH with a
 * memory operand, BT/BTS/BTR/BTC with a register bit offset into a memory
 * bit string, CMPXCHG8B, and POP m (gen_flow.c).  Each program runs translated and on the
 * interpreter; registers, flags (all but those the SDM leaves undefined),
 * CR2, the exception taken and all of RAM must agree, and the callout
 * count shows the forms ran natively.  The bit offsets are signed and
 * reach outside the operand in both directions, operands sit at page ends
 * and cross pages, and faults come in the middle of the programs.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM      (4u << 20)
#define UNMAPPED 0x30000u
#define READONLY 0x31000u

static TestVM *make_vm(const uint8_t *code, size_t len)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    testvm_paged32(vm, UNMAPPED, READONLY);
    for (uint32_t a = 0x1f000; a < 0x22000; a += 4) {
        uint32_t v = a * 0x9e3779b1u;
        phys_write(&vm->phys, a, v ^ v >> 15, 4); /* data the forms work on */
    }
    for (uint32_t a = 0x2f000; a < 0x30000; a += 4) {
        phys_write(&vm->phys, a, a * 0x85ebca6bu, 4);
    }
    return vm;
}

/*
 * Runs code translated and interpreted from the same start; both must end
 * in HLT (the program's, or the exception stub's) with the same state, and
 * so must a run under the lockstep checker.
 * undefined: flags the program may leave undefined.  Returns the
 * translated run's callout count.
 */
static uint64_t run_both(const uint8_t *code, size_t len, uint32_t undefined, int vector,
                         void (*setup)(TestVM *))
{
    TestVM *ref = make_vm(code, len);
    TestVM *vm = make_vm(code, len);
    if (setup) {
        setup(ref);
        setup(vm);
    }
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 10000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 10000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), vector);
    ck_assert_int_eq(testvm_last_vector(ref), vector);
    for (int r = 0; r < 8; r++) {
        ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r], "reg %d: %08x, interpreter %08x", r,
                      (unsigned)vm->cpu.regs[r], (unsigned)ref->cpu.regs[r]);
    }
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu) & ~undefined,
                      cpu_get_eflags(&ref->cpu) & ~undefined);
    ck_assert_uint_eq(vm->cpu.cr2, ref->cpu.cr2);
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    if (memcmp(vm->phys.ram, ref->phys.ram, RAM) != 0) {
        for (uint32_t a = 0; a < RAM; a += 4) {
            ck_assert_msg(phys_read(&vm->phys, a, 4) == phys_read(&ref->phys, a, 4),
                          "RAM at %08x: %08x, interpreter %08x", a, phys_read(&vm->phys, a, 4),
                          phys_read(&ref->phys, a, 4));
        }
    }
    uint64_t callouts = bt_stats(bt)->callout_insns;
    bt_free(bt);
    testvm_free(vm);
    /* and under the lockstep checker, which must find no difference */
    TestVM *chk = make_vm(code, len);
    if (setup) {
        setup(chk);
    }
    bt = bt_new(&chk->cpu, 1u << 20, BT_MODE_CHECK);
    ck_assert_int_eq(bt_exec(bt, 10000), CPU_EXIT_HALT);
    ck_assert_mem_eq(chk->cpu.regs, ref->cpu.regs, sizeof(chk->cpu.regs));
    ck_assert_int_eq(memcmp(chk->phys.ram, ref->phys.ram, RAM), 0);
    bt_free(bt);
    testvm_free(chk);
    testvm_free(ref);
    return callouts;
}

/*
 *   mov esi, 0x20000 ; mov eax, 0x12345678 ; mov ebx, 0x9abcdef0
 *   mov ecx, 0x0f0f0f0f ; mov edx, 0x80402010
 *   cmp [esi], ah ; pushfd ; add [esi+1], bh ; adc ch, [esi+2]
 *   sub [esi+3], dh ; xchg [esi+4], ah ; mov [esi+5], ch ; mov dh, [esi+6]
 *   xadd [esi+7], bh ; cmpxchg [esi+8], ch ; test [esi+9], dh ; pushfd
 *   sbb bh, [esi+0xfff] ; xor [0x21fff], ch ; cmp ah, [esi+10] ; pushfd ; hlt
 * Every high-byte form but HLT runs natively, through EBX or EDX borrowed
 * (never the high register's own, never EAX, which CMPXCHG compares);
 * the last byte of a page and the page after are operands too.
 */
START_TEST(test_high_byte_with_memory)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x02, 0x00, 0xb8, 0x78, 0x56, 0x34, 0x12, 0xbb, 0xf0, 0xde, 0xbc, 0x9a,
        0xb9, 0x0f, 0x0f, 0x0f, 0x0f, 0xba, 0x10, 0x20, 0x40, 0x80, 0x38, 0x26, 0x9c, 0x00, 0x7e,
        0x01, 0x12, 0x6e, 0x02, 0x28, 0x76, 0x03, 0x86, 0x66, 0x04, 0x88, 0x6e, 0x05, 0x8a, 0x76,
        0x06, 0x0f, 0xc0, 0x7e, 0x07, 0x0f, 0xb0, 0x6e, 0x08, 0x84, 0x76, 0x09, 0x9c, 0x1a, 0xbe,
        0xff, 0x0f, 0x00, 0x00, 0x30, 0x2d, 0xff, 0x1f, 0x02, 0x00, 0x3a, 0x66, 0x0a, 0x9c, 0xf4};
    ck_assert_uint_eq(run_both(code, sizeof(code), 0, -1, NULL), 1);
}
END_TEST

/*
 *   mov ebx, 0x11223344 ; mov eax, 0x55667788 ; mov edx, 0x99aabbcc
 *   mov ecx, 0xdeadbeef ; sub [0x20000], dh ; add [UNMAPPED], bh
 *   mov ecx, 1 ; hlt
 * The second high-byte form faults (#PF): EDX, the register it borrows,
 * and everything else are as before it; the first one's store is done.
 */
START_TEST(test_high_byte_fault)
{
    static const uint8_t code[] = {0xbb, 0x44, 0x33, 0x22, 0x11, 0xb8, 0x88, 0x77, 0x66, 0x55,
                                   0xba, 0xcc, 0xbb, 0xaa, 0x99, 0xb9, 0xef, 0xbe, 0xad, 0xde,
                                   0x28, 0x35, 0x00, 0x00, 0x02, 0x00, 0x00, 0x3d, 0x00, 0x00,
                                   0x03, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
    run_both(code, sizeof(code), 0, EXC_PF, NULL);
}
END_TEST

/*
 *   mov esi, 0x20100 ; xor edi, edi
 *   (mov ecx, N ; bt* [esi+d], ecx ; adc edi, edi) for
 *     bts 37, btr -1 (the dword below), btc -100 at [esi+8], bt 5000
 *   mov edx, 0x0001fffd ; btc [esi+0x20], dx   ; -3 as a word offset
 *   mov edx, 0x7ffffff0 ; bts [esi], dx        ; -16: the word below
 *   bts [esi], esi ; bt [esi], esp             ; the base register as offset; R12
 *   mov ebx, 0x20ffe ; mov ecx, 20 ; bts [ebx], ecx ; adc edi, edi  ; crosses a page
 *   mov ecx, -9 ; btr [0x21002], ecx ; adc edi, edi
 *   cmp eax, eax ; mov ecx, 3 ; bt [esi], ecx ; hlt   ; ZF survives BT
 * EDI collects each CF; memory, flags (OF SF AF PF undefined) agree.
 */
START_TEST(test_bit_strings)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x01, 0x02, 0x00, 0x31, 0xff, 0xb9, 0x25, 0x00, 0x00, 0x00, 0x0f, 0xab,
        0x0e, 0x11, 0xff, 0xb9, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xb3, 0x0e, 0x11, 0xff, 0xb9,
        0x9c, 0xff, 0xff, 0xff, 0x0f, 0xbb, 0x4e, 0x08, 0x11, 0xff, 0xb9, 0x88, 0x13, 0x00,
        0x00, 0x0f, 0xa3, 0x0e, 0x11, 0xff, 0xba, 0xfd, 0xff, 0x01, 0x00, 0x66, 0x0f, 0xbb,
        0x56, 0x20, 0x11, 0xff, 0xba, 0xf0, 0xff, 0xff, 0x7f, 0x66, 0x0f, 0xab, 0x16, 0x11,
        0xff, 0x0f, 0xab, 0x36, 0x11, 0xff, 0x0f, 0xa3, 0x26, 0x11, 0xff, 0xbb, 0xfe, 0x0f,
        0x02, 0x00, 0xb9, 0x14, 0x00, 0x00, 0x00, 0x0f, 0xab, 0x0b, 0x11, 0xff, 0xb9, 0xf7,
        0xff, 0xff, 0xff, 0x0f, 0xb3, 0x0d, 0x02, 0x10, 0x02, 0x00, 0x11, 0xff, 0x39, 0xc0,
        0xb9, 0x03, 0x00, 0x00, 0x00, 0x0f, 0xa3, 0x0e, 0xf4};
    ck_assert_uint_eq(
        run_both(code, sizeof(code), EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, -1, NULL), 1);
}
END_TEST

/*
 *   mov esi, 0x20000 ; mov ecx, 3 ; bts [esi], ecx
 *   mov ecx, 0x88080 ; bts [esi], ecx          ; the dword at READONLY+0x10
 *   mov ecx, 1 ; hlt
 * The offset reaches a read-only page: #PF (present, write) with CR2 at
 * the dword the offset selects, ECX as it was.
 */
START_TEST(test_bit_string_fault_far_away)
{
    static const uint8_t code[] = {0xbe, 0x00, 0x00, 0x02, 0x00, 0xb9, 0x03, 0x00, 0x00,
                                   0x00, 0x0f, 0xab, 0x0e, 0xb9, 0x80, 0x80, 0x08, 0x00,
                                   0x0f, 0xab, 0x0e, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
    run_both(code, sizeof(code), EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, EXC_PF, NULL);
}
END_TEST

/*
 *   mov esi, 0x2fffe ; mov ecx, 40 ; btr [esi-4], ecx ; bt [esi+0x1c], ecx
 *   mov ecx, 1 ; hlt
 * 40 SAR 5 = 1: the dword at 0x2fffe, which crosses into the unmapped
 * page: #PF with CR2 = 0x30000 and nothing written.
 */
START_TEST(test_bit_string_page_crossing_fault)
{
    static const uint8_t code[] = {0xbe, 0xfe, 0xff, 0x02, 0x00, 0xb9, 0x28, 0x00,
                                   0x00, 0x00, 0x0f, 0xb3, 0x4e, 0xfc, 0x0f, 0xa3,
                                   0x4e, 0x1c, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
    run_both(code, sizeof(code), EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, EXC_PF, NULL);
}
END_TEST

static void cmpxchg8b_data(TestVM *vm)
{
    phys_write(&vm->phys, 0x20200, 0x22222222u, 4);
    phys_write(&vm->phys, 0x20204, 0x11111111u, 4);
    phys_write(&vm->phys, 0x20ffc, 0xaaaaaaaau, 4);
    phys_write(&vm->phys, 0x21000, 0xbbbbbbbbu, 4);
}

/*
 *   mov esi, 0x20200 ; mov eax, 0x22222222 ; mov edx, 0x11111111
 *   mov ebx, 0xaaaaaaaa ; mov ecx, 0xbbbbbbbb
 *   cmpxchg8b [esi] ; setz [0x20300]      ; equal: ECX:EBX stored
 *   cmpxchg8b [esi] ; setz [0x20301]      ; differs: EDX:EAX loaded
 *   cmpxchg8b [0x20ffc] ; setz [0x20302]  ; crosses a page, equal
 *   hlt
 */
START_TEST(test_cmpxchg8b)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x02, 0x02, 0x00, 0xb8, 0x22, 0x22, 0x22, 0x22, 0xba, 0x11, 0x11, 0x11, 0x11,
        0xbb, 0xaa, 0xaa, 0xaa, 0xaa, 0xb9, 0xbb, 0xbb, 0xbb, 0xbb, 0x0f, 0xc7, 0x0e, 0x0f, 0x94,
        0x05, 0x00, 0x03, 0x02, 0x00, 0x0f, 0xc7, 0x0e, 0x0f, 0x94, 0x05, 0x01, 0x03, 0x02, 0x00,
        0x0f, 0xc7, 0x0d, 0xfc, 0x0f, 0x02, 0x00, 0x0f, 0x94, 0x05, 0x02, 0x03, 0x02, 0x00, 0xf4};
    ck_assert_uint_eq(run_both(code, sizeof(code), 0, -1, cmpxchg8b_data), 1);
}
END_TEST

/*
 *   cf: mov eax, .. ; mov edx, .. ; mov ebx, .. ; mov ecx, ..
 *       cmpxchg8b [0x20200] ; cmpxchg8b [READONLY+8] ; mov ecx, 1 ; hlt
 *   cx: the same registers ; cmpxchg8b [0x2fffc] ; mov ecx, 1 ; hlt
 * The operand is probed for write even when the compare fails (#PF on the
 * read-only page), and one crossing into the unmapped page faults with
 * CR2 = 0x30000 and its first half unwritten.
 */
START_TEST(test_cmpxchg8b_faults)
{
    {
        static const uint8_t code[] = {0xb8, 0x22, 0x22, 0x22, 0x22, 0xba, 0x11, 0x11, 0x11, 0x11,
                                       0xbb, 0xaa, 0xaa, 0xaa, 0xaa, 0xb9, 0xbb, 0xbb, 0xbb, 0xbb,
                                       0x0f, 0xc7, 0x0d, 0x00, 0x02, 0x02, 0x00, 0x0f, 0xc7, 0x0d,
                                       0x08, 0x10, 0x03, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
        run_both(code, sizeof(code), 0, EXC_PF, cmpxchg8b_data);
    }
    {
        static const uint8_t code[] = {0xb8, 0x22, 0x22, 0x22, 0x22, 0xba, 0x11, 0x11, 0x11,
                                       0x11, 0xbb, 0xaa, 0xaa, 0xaa, 0xaa, 0xb9, 0xbb, 0xbb,
                                       0xbb, 0xbb, 0x0f, 0xc7, 0x0d, 0xfc, 0xff, 0x02, 0x00,
                                       0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
        run_both(code, sizeof(code), 0, EXC_PF, cmpxchg8b_data);
    }
}
END_TEST

/*
 *   mov esi, 0x20000 ; push 0x11223344 ; push 0x55667788 ; push 0x99aabbcc
 *   pop dword [esi] ; pop dword [esp+4]   ; ESP as after the pop: [old esp+8]
 *   pop word [esi+6] ; pop word [esp]
 *   push 0x01020304 ; pop dword [0x20ffe]  ; crosses a page
 *   mov ebx, esp ; push 0x0badf00d ; pop dword [UNMAPPED] ; mov ecx, 1 ; hlt
 * POP m runs natively (gen_flow.c); the last one faults with ESP as it
 * was before it (the value it read still on the stack).
 */
START_TEST(test_pop_mem)
{
    static const uint8_t code[] = {0xbe, 0x00, 0x00, 0x02, 0x00, 0x68, 0x44, 0x33, 0x22, 0x11, 0x68,
                                   0x88, 0x77, 0x66, 0x55, 0x68, 0xcc, 0xbb, 0xaa, 0x99, 0x8f, 0x06,
                                   0x8f, 0x44, 0x24, 0x04, 0x66, 0x8f, 0x46, 0x06, 0x66, 0x8f, 0x04,
                                   0x24, 0x68, 0x04, 0x03, 0x02, 0x01, 0x8f, 0x05, 0xfe, 0x0f, 0x02,
                                   0x00, 0x89, 0xe3, 0x68, 0x0d, 0xf0, 0xad, 0x0b, 0x8f, 0x05, 0x00,
                                   0x00, 0x03, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
    ck_assert_uint_le(run_both(code, sizeof(code), 0, EXC_PF, NULL), 1); /* the stub's HLT */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_memforms");
    TCase *tc = tcase_create("native");
    tcase_add_test(tc, test_high_byte_with_memory);
    tcase_add_test(tc, test_high_byte_fault);
    tcase_add_test(tc, test_bit_strings);
    tcase_add_test(tc, test_bit_string_fault_far_away);
    tcase_add_test(tc, test_bit_string_page_crossing_fault);
    tcase_add_test(tc, test_cmpxchg8b);
    tcase_add_test(tc, test_cmpxchg8b_faults);
    tcase_add_test(tc, test_pop_mem);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
