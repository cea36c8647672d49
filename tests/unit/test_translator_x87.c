/*
 * x87 instructions in translated code (translator/gen_fpu.c, fpu_state.c):
 * the guest's x87 state handed between CPUState and the host FPU around a
 * callout, a TLB-miss and page-crossing slow path, a page fault on an x87
 * memory operand, slices ending and an interrupt arriving while the state
 * is live in the host FPU across chained blocks, CR0.TS.  Each program runs on the translator
 * and on the interpreter; the x87 state, registers and memory must agree,
 * and the translator's statistics must show the instructions ran natively.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

/* The whole architectural x87 state, registers' 80 bits only. */
static void assert_fpu_equal(const CPUState *a, const CPUState *b)
{
    for (int i = 0; i < 8; i++) {
        ck_assert_mem_eq(&a->fpu.st[i], &b->fpu.st[i], 10);
    }
    ck_assert_uint_eq(a->fpu.fcw, b->fpu.fcw);
    ck_assert_uint_eq(a->fpu.fsw, b->fpu.fsw);
    ck_assert_uint_eq(a->fpu.ftw, b->fpu.ftw);
    ck_assert_uint_eq(a->fpu.top, b->fpu.top);
    ck_assert_uint_eq(a->fpu.fop, b->fpu.fop);
    ck_assert_uint_eq(a->fpu.fip, b->fpu.fip);
    ck_assert_uint_eq(a->fpu.fcs, b->fpu.fcs);
    ck_assert_uint_eq(a->fpu.fdp, b->fpu.fdp);
    ck_assert_uint_eq(a->fpu.fds, b->fpu.fds);
}

static void assert_same(TestVM *ref, TestVM *vm)
{
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    assert_fpu_equal(&ref->cpu, &vm->cpu);
    ck_assert_int_eq(memcmp(ref->phys.ram, vm->phys.ram, RAM), 0);
    ck_assert_uint_eq(vm->cpu.bt_fpu_live, 0);
}

static double get_double(TestVM *vm, uint32_t at)
{
    double d;
    uint64_t v = phys_read(&vm->phys, at, 4) | (uint64_t)phys_read(&vm->phys, at + 4, 4) << 32;
    memcpy(&d, &v, sizeof(d));
    return d;
}

/*
 *   fld1 ; fldpi ; fnstenv [0x20100] ; faddp st(1) ; fstp qword [0x20200] ; hlt
 * FNSTENV is a callout: the state goes back to CPUState before it (the image
 * it stores shows TOP 6 and two valid tags) and is loaded again after it.
 */
START_TEST(test_callout_between_native_x87)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0xd9, 0x35, 0x00, 0x01, 0x02, 0x00,
                                   0xde, 0xc1, 0xdd, 0x1d, 0x00, 0x02, 0x02, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    ck_assert_uint_eq(phys_read(&vm->phys, 0x20104, 2), 0x3000);          /* FSW: TOP 6 */
    ck_assert_uint_eq(phys_read(&vm->phys, 0x20108, 2), 0x0fff);          /* ST0 R6, ST1 R7 valid */
    ck_assert_uint_eq(phys_read(&vm->phys, 0x2010c, 4), TESTVM_CODE + 2); /* FIP: fldpi */
    ck_assert(get_double(vm, 0x20200) == 1.0 + 3.14159265358979323846);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 2); /* fld1..fldpi, then faddp..fstp */
    ck_assert_uint_eq(bt_stats(bt)->x87_fallbacks, 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * With paging on and an empty TLB every access misses first, and three
 * cross a page: each takes the slow path, which saves the x87 state for its
 * C helpers, loads it again and runs the same instruction on the bounce
 * buffer.
 *   fld tword [0x20ffb] ; fld qword [0x30000] ; fmulp st(1) ; fstp tword [0x21ffc]
 *   fild dword [0x20010] ; fistp word [0x22fff] ; hlt
 */
START_TEST(test_slow_path_x87_operands)
{
    static const uint8_t code[] = {0xdb, 0x2d, 0xfb, 0x0f, 0x02, 0x00, 0xdd, 0x05, 0x00,
                                   0x00, 0x03, 0x00, 0xde, 0xc9, 0xdb, 0x3d, 0xfc, 0x1f,
                                   0x02, 0x00, 0xdb, 0x05, 0x10, 0x00, 0x02, 0x00, 0xdf,
                                   0x1d, 0xff, 0x2f, 0x02, 0x00, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), true);
    TestVM *vm = make_vm(code, sizeof(code), true);
    static const uint8_t three[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x40}; /* 3.0 */
    double two_and_half = 2.5;
    uint32_t n = 1234;
    put_bytes(ref, vm, 0x20ffb, three, sizeof(three));
    put_bytes(ref, vm, 0x30000, &two_and_half, sizeof(two_and_half));
    put_bytes(ref, vm, 0x20010, &n, sizeof(n));
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    static const uint8_t seven_and_half[10] = {0, 0, 0, 0, 0, 0, 0, 0xf0, 0x01, 0x40};
    uint8_t got[10];
    for (int i = 0; i < 10; i++) {
        got[i] = (uint8_t)phys_read(&vm->phys, 0x21ffc + (uint32_t)i, 1);
    }
    ck_assert_mem_eq(got, seven_and_half, 10);
    ck_assert_uint_eq(phys_read(&vm->phys, 0x22fff, 1) | phys_read(&vm->phys, 0x23000, 1) << 8,
                      1234);
    ck_assert_uint_eq(vm->cpu.fpu.top, 0);
    ck_assert_uint_eq(vm->cpu.fpu.ftw, 0xffff);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 1);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   fld1 ; fldpi ; fld qword [UNMAPPED] ; ...
 * The load faults (#PF) with the state live: the guest sees ST0 = pi, ST1 = 1,
 * TOP 6, FIP/FOP of FLDPI, as if the FLD had never started.
 */
START_TEST(test_page_fault_on_fld_m64_is_exact)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0xdd, 0x05, 0x00,
                                   0x00, 0x04, 0x00, 0xd9, 0xe8, 0xf4};
    TestVM *ref = make_vm(code, sizeof(code), true);
    TestVM *vm = make_vm(code, sizeof(code), true);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.cr2, UNMAPPED);
    assert_same(ref, vm);
    ck_assert_uint_eq(vm->cpu.fpu.top, 6);
    ck_assert_uint_eq(vm->cpu.fpu.fip, TESTVM_CODE + 2);
    ck_assert_uint_eq(vm->cpu.fpu.fop, 0x1eb);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 1);
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
 *   sti ; fldz ; L: fld1 ; faddp st(1) ; fst qword [0x20000] ; jmp M ; M: jmp L
 * Two chained blocks and no callout: the state stays live in the host FPU
 * from block to block, loaded once.  Slices of every length end it at a
 * block entry (the budget test) with the state live; bt_exec returns with
 * it back in CPUState, exactly the interpreter's after as many
 * instructions, and the next slice goes on from it.  Then an interrupt
 * arrives between blocks: delivered with the x87 state exact.
 */
START_TEST(test_slices_and_interrupt_with_state_live)
{
    static const uint8_t code[] = {0xfb, 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xc1, 0xdd, 0x15,
                                   0x00, 0x00, 0x02, 0x00, 0xeb, 0x00, 0xeb, 0xf2};
    TestVM *ref = make_vm(code, sizeof(code), false);
    TestVM *vm = make_vm(code, sizeof(code), false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_exec(bt, 20000); /* translate and chain */
    ck_assert_int_eq(cpu_exec(&ref->cpu, vm->cpu.icount), CPU_EXIT_BUDGET);
    assert_same(ref, vm);
    uint64_t loads = bt_stats(bt)->x87_loads;
    ck_assert_uint_lt(loads, 10); /* not once per block (8000 of them): it stayed live */
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
    ck_assert(get_double(vm, 0x20000) > 5000.0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* The same programs with native x87 off run every x87 instruction as a callout. */
START_TEST(test_x87_native_can_be_off)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_x87_native(bt, false);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 0);
    ck_assert_uint_eq(vm->cpu.fpu.top, 7);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * CR0.TS set: the first x87 instruction raises #NM through the interpreter,
 * with nothing loaded into the host FPU.
 */
START_TEST(test_ts_raises_nm)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), false);
    vm->cpu.cr0 |= CR0_TS;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_NM);
    ck_assert_uint_eq(vm->cpu.fpu.top, 0);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 0);
    ck_assert_uint_eq(bt_stats(bt)->x87_fallbacks, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_x87");
    TCase *tc = tcase_create("handoff");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_callout_between_native_x87);
    tcase_add_test(tc, test_slow_path_x87_operands);
    tcase_add_test(tc, test_page_fault_on_fld_m64_is_exact);
    tcase_add_test(tc, test_slices_and_interrupt_with_state_live);
    tcase_add_test(tc, test_x87_native_can_be_off);
    tcase_add_test(tc, test_ts_raises_nm);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
