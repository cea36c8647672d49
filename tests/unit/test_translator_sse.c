/*
 * MMX and SSE instructions in translated code (translator/gen_sse.c,
 * sse_state.c): the guest's XMM registers and MXCSR handed between
 * CPUState and the host around a callout (with the MXCSR flags the native
 * instructions raised), TLB-miss and page-crossing slow paths, the
 * alignment #GP(0) of the aligned forms, #NM from CR0.TS and #XM with an
 * exception unmasked (both through the interpreter), the guest's rounding
 * control in the host, MMX between x87 instructions on the host FPU, and
 * slices ending and an interrupt arriving with the state live across
 * chained blocks.  Each program runs on the translator and on the
 * interpreter; registers, XMM, MXCSR, x87 state and memory must agree, the
 * host's MXCSR must be the host's again afterwards, and the statistics
 * must show the instructions ran natively.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#include "cpu/fpu_internal.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM      (4u << 20)
#define UNMAPPED 0x40000u

static TestVM *make_vm(const uint8_t *code, size_t len, bool paging)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    vm->cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (paging) {
        testvm_paged32(vm, UNMAPPED, TESTVM_NO_PAGE);
    }
    return vm;
}

static void put_bytes(TestVM *ref, TestVM *vm, uint32_t at, const void *p, size_t n)
{
    phys_write_buf(&ref->phys, at, p, n);
    phys_write_buf(&vm->phys, at, p, n);
}

static void put_floats(TestVM *ref, TestVM *vm, uint32_t at, float a, float b, float c, float d)
{
    float v[4] = {a, b, c, d};
    put_bytes(ref, vm, at, v, sizeof(v));
}

static void assert_same(TestVM *ref, TestVM *vm)
{
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_mem_eq(vm->cpu.fpu.xmm, ref->cpu.fpu.xmm, sizeof(vm->cpu.fpu.xmm));
    ck_assert_uint_eq(vm->cpu.fpu.mxcsr, ref->cpu.fpu.mxcsr);
    for (int i = 0; i < 8; i++) {
        ck_assert_mem_eq(&vm->cpu.fpu.st[i], &ref->cpu.fpu.st[i], 10);
    }
    ck_assert_uint_eq(vm->cpu.fpu.top, ref->cpu.fpu.top);
    ck_assert_uint_eq(vm->cpu.fpu.fsw, ref->cpu.fpu.fsw);
    ck_assert_uint_eq(fpu_tag_word(&vm->cpu), fpu_tag_word(&ref->cpu));
    ck_assert_int_eq(memcmp(ref->phys.ram, vm->phys.ram, RAM), 0);
    ck_assert_uint_eq(vm->cpu.bt_sse_live, 0);
    ck_assert_uint_eq(vm->cpu.bt_fpu_live, 0);
}

static uint32_t read32(TestVM *vm, uint32_t at)
{
    return phys_read(&vm->phys, at, 4);
}

static float read_float(TestVM *vm, uint32_t at)
{
    uint32_t v = read32(vm, at);
    float f;
    memcpy(&f, &v, sizeof(f));
    return f;
}

/*
 *   movups xmm1, [0x20000] ; divps xmm1, xmm2 ; stmxcsr [0x20100]
 *   mulps xmm1, xmm1 ; movups [0x20200], xmm1 ; hlt
 * xmm2 is zero: DIVPS raises ZE (masked) in the host's MXCSR, which holds
 * the guest's; STMXCSR is a callout, so the state goes back to CPUState
 * before it (its image shows ZE) and is loaded again after it.
 */
START_TEST(test_callout_between_native_sse)
{
    static const uint8_t code[] = {0x0f, 0x10, 0x0d, 0x00, 0x00, 0x02, 0x00, 0x0f, 0x5e, 0xca,
                                   0x0f, 0xae, 0x1d, 0x00, 0x01, 0x02, 0x00, 0x0f, 0x59, 0xc9,
                                   0x0f, 0x11, 0x0d, 0x00, 0x02, 0x02, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    put_floats(ref, vm, 0x20000, 1.0f, -2.0f, 0.0f, 3.0f);
    unsigned host_mxcsr = _mm_getcsr();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(_mm_getcsr(), host_mxcsr);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    ck_assert_uint_eq(read32(vm, 0x20100), 0x1f80 | 0x4 | 0x1); /* ZE, and IE from 0/0 */
    ck_assert_uint_eq(vm->cpu.fpu.mxcsr, 0x1f80 | 0x4 | 0x1);
    ck_assert(read_float(vm, 0x20200) == __builtin_inff());
    ck_assert_uint_eq(bt_stats(bt)->sse_loads, 2); /* movups..divps, then mulps..movups */
    ck_assert_uint_eq(bt_stats(bt)->sse_fallbacks, 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * Paging on and an empty TLB: every access misses first, two cross a page.
 *   movups xmm3, [0x20ff8] ; addps xmm3, xmm3 ; movdqu [0x21ffc], xmm3
 *   addps xmm3, [0x30000] (aligned, a TLB miss) ; movaps [0x30010], xmm3 ; hlt
 */
START_TEST(test_slow_path_sse_operands)
{
    static const uint8_t code[] = {0x0f, 0x10, 0x1d, 0xf8, 0x0f, 0x02, 0x00, 0x0f, 0x58,
                                   0xdb, 0xf3, 0x0f, 0x7f, 0x1d, 0xfc, 0x1f, 0x02, 0x00,
                                   0x0f, 0x58, 0x1d, 0x00, 0x00, 0x03, 0x00, 0x0f, 0x29,
                                   0x1d, 0x10, 0x00, 0x03, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), true);
    TestVM *vm = make_vm(code, sizeof(code), true);
    put_floats(ref, vm, 0x20ff8, 1.0f, 2.0f, 3.0f, 4.0f);
    put_floats(ref, vm, 0x30000, 0.5f, 0.25f, 0.125f, 8.0f);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    ck_assert(read_float(vm, 0x21ffc) == 2.0f && read_float(vm, 0x22008) == 8.0f);
    ck_assert(read_float(vm, 0x30010) == 2.5f && read_float(vm, 0x3001c) == 16.0f);
    ck_assert_uint_eq(bt_stats(bt)->sse_loads, 1);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   movups xmm0, [0x20000] ; movaps xmm1, [0x20008] ; hlt
 * The misaligned MOVAPS raises #GP(0) with xmm0 loaded and xmm1 untouched.
 */
START_TEST(test_misaligned_movaps_raises_gp)
{
    static const uint8_t code[] = {0x0f, 0x10, 0x05, 0x00, 0x00, 0x02, 0x00, 0x0f,
                                   0x28, 0x0d, 0x08, 0x00, 0x02, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    put_floats(ref, vm, 0x20000, 1.0f, 2.0f, 3.0f, 4.0f);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_GP);
    assert_same(ref, vm);
    ck_assert_uint_eq(vm->cpu.fpu.xmm[0][15], 0x40); /* 4.0f's top byte */
    ck_assert_uint_eq(vm->cpu.fpu.xmm[1][15], 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* CR0.TS: the first SSE instruction raises #NM through the interpreter. */
START_TEST(test_ts_raises_nm)
{
    static const uint8_t code[] = {0x0f, 0x58, 0xc1, 0xf4}; /* addps xmm0, xmm1 ; hlt */
    TestVM *vm = make_vm(code, sizeof(code), false);
    vm->cpu.cr0 |= CR0_TS;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_NM);
    ck_assert_uint_eq(bt_stats(bt)->sse_loads, 0);
    ck_assert_uint_eq(bt_stats(bt)->sse_fallbacks, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * Divide by zero unmasked: #XM through the interpreter, the destination
 * unchanged and ZE set; with all masked the same code runs natively.
 *   movups xmm1, [0x20000] ; divps xmm1, xmm2 ; hlt
 */
START_TEST(test_unmasked_exception_raises_xm)
{
    static const uint8_t code[] = {0x0f, 0x10, 0x0d, 0x00, 0x00, 0x02,
                                   0x00, 0x0f, 0x5e, 0xca, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    put_floats(ref, vm, 0x20000, 1.0f, 2.0f, 3.0f, 4.0f);
    vm->cpu.fpu.mxcsr = ref->cpu.fpu.mxcsr = 0x1f80 & ~0x200u; /* ZM clear */
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_XM);
    assert_same(ref, vm);
    ck_assert_uint_eq(vm->cpu.fpu.mxcsr, (0x1f80 & ~0x200u) | 0x4);
    ck_assert_uint_eq(vm->cpu.fpu.xmm[1][3], 0x3f);    /* 1.0f still */
    ck_assert_uint_eq(bt_stats(bt)->sse_fallbacks, 2); /* the MOVUPS too: the stretch's first */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * The guest's rounding control runs in the host:
 *   cvtsd2si eax, xmm1 ; hlt   with xmm1 = -2.5, RC = toward +inf: -2
 */
START_TEST(test_guest_rounding_control)
{
    static const uint8_t code[] = {0xf2, 0x0f, 0x2d, 0xc1, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), false);
    double v = -2.5;
    memcpy(vm->cpu.fpu.xmm[1], &v, sizeof(v));
    vm->cpu.fpu.mxcsr = 0x1f80 | 0x4000; /* RC = 10b: up */
    unsigned host_mxcsr = _mm_getcsr();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(_mm_getcsr(), host_mxcsr);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], (uint32_t)-2);
    ck_assert_uint_eq(vm->cpu.fpu.mxcsr, 0x1f80 | 0x4000 | 0x20); /* PE */
    ck_assert_uint_eq(bt_stats(bt)->sse_loads, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * MMX on the host FPU between x87 instructions:
 *   fld1 ; fldpi ; movq mm0, [0x20000] ; paddb mm0, mm0 ; movq [0x20100], mm0
 *   emms ; fld1 ; fstp qword [0x20200] ; hlt
 * MOVQ sets TOP to 0 and every tag valid, writes R0's exponent all ones;
 * EMMS empties the tags; FLD1 then pushes onto R7.
 */
START_TEST(test_mmx_between_x87)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0x0f, 0x6f, 0x05, 0x00, 0x00, 0x02, 0x00,
                                   0x0f, 0xfc, 0xc0, 0x0f, 0x7f, 0x05, 0x00, 0x01, 0x02, 0x00, 0x0f,
                                   0x77, 0xd9, 0xe8, 0xdd, 0x1d, 0x00, 0x02, 0x02, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    uint64_t q = 0x0102030405060708ull;
    put_bytes(ref, vm, 0x20000, &q, sizeof(q));
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    ck_assert_uint_eq(read32(vm, 0x20100), 0x0a0c0e10);
    ck_assert_uint_eq(read32(vm, 0x20204), 0x3ff00000); /* 1.0 */
    ck_assert_uint_eq(vm->cpu.fpu.top, 0);
    ck_assert_uint_eq(cpu_mmx_read(&vm->cpu, 0), 0x020406080a0c0e10ull);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 1); /* one stretch: x87 and MMX alike */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

static int ack_0x40(void *opaque)
{
    cpu_clear_interrupt(opaque, CPU_INTERRUPT_HARD);
    return 0x40;
}

/*
 *   sti ; L: addpd xmm0, xmm1 ; movupd [0x20000], xmm0 ; jmp M ; M: jmp L
 * Two chained blocks and no callout: the XMM state stays live from block
 * to block, loaded once.  Slices of every length end it at a block entry
 * with the state live; bt_exec returns with it back in CPUState, as the
 * interpreter has it after as many instructions.  Then an interrupt
 * arrives between blocks.
 */
START_TEST(test_slices_and_interrupt_with_state_live)
{
    static const uint8_t code[] = {0xfb, 0x66, 0x0f, 0x58, 0xc1, 0x66, 0x0f, 0x11, 0x05,
                                   0x00, 0x00, 0x02, 0x00, 0xeb, 0x00, 0xeb, 0xf0};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    double one_and_tenth[2] = {1.0, 0.1};
    memcpy(vm->cpu.fpu.xmm[1], one_and_tenth, 16);
    memcpy(ref->cpu.fpu.xmm[1], one_and_tenth, 16);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_exec(bt, 20000);
    ck_assert_int_eq(cpu_exec(&ref->cpu, vm->cpu.icount), CPU_EXIT_BUDGET);
    assert_same(ref, vm);
    ck_assert_uint_lt(bt_stats(bt)->sse_loads, 10); /* not once per block: it stayed live */
    for (uint64_t slice = 1; vm->cpu.icount < 30000; slice = slice % 23 + 1) {
        ck_assert_int_eq(bt_exec(bt, slice), CPU_EXIT_BUDGET);
        ck_assert_int_eq(cpu_exec(&ref->cpu, vm->cpu.icount - ref->cpu.icount), CPU_EXIT_BUDGET);
        assert_same(ref, vm);
    }
    vm->cpu.hooks.opaque = &vm->cpu;
    vm->cpu.hooks.irq_ack = ack_0x40;
    ref->cpu.hooks.opaque = &ref->cpu;
    ref->cpu.hooks.irq_ack = ack_0x40;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
    cpu_set_interrupt(&ref->cpu, CPU_INTERRUPT_HARD);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    assert_same(ref, vm);
    double sum[2];
    memcpy(sum, vm->cpu.fpu.xmm[0], 16);
    ck_assert(sum[0] > 5000.0);
    ck_assert_uint_eq(vm->cpu.fpu.mxcsr, 0x1f80 | 0x20); /* PE: 0.1 + 0.1 + 0.1 is inexact */
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* With native SSE off every SSE instruction is a callout. */
START_TEST(test_sse_native_can_be_off)
{
    static const uint8_t code[] = {0x0f, 0x58, 0xc1, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_sse_native(bt, false);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(bt_stats(bt)->sse_loads, 0);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 2); /* addps and hlt */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_sse");
    TCase *tc = tcase_create("handoff");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_callout_between_native_sse);
    tcase_add_test(tc, test_slow_path_sse_operands);
    tcase_add_test(tc, test_misaligned_movaps_raises_gp);
    tcase_add_test(tc, test_ts_raises_nm);
    tcase_add_test(tc, test_unmasked_exception_raises_xm);
    tcase_add_test(tc, test_guest_rounding_control);
    tcase_add_test(tc, test_mmx_between_x87);
    tcase_add_test(tc, test_slices_and_interrupt_with_state_live);
    tcase_add_test(tc, test_sse_native_can_be_off);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
