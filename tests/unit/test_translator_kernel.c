/*
 * The kernel's interrupt-flag instructions in translated code
 * (translator/gen_ops.c, gen_flow.c, helpers.c): CLI and POPF at CPL 0 run
 * natively, CLI at CPL 3 still faults when IOPL forbids it and POPF there
 * still leaves IF and IOPL alone, a POPF that sets IF with an interrupt
 * waiting or sets TF leaves for the run loop, and the instruction in STI's
 * shadow runs natively (the kernel's "sti ; ret") with the shadow exact:
 * an interrupt already waiting is taken after it and not before, and a
 * fault in it is delivered with the shadow still open, as the interpreter
 * does.  Each runs translated and on the interpreter, and the states must
 * agree; the callout counts show what ran natively.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM      (4u << 20)
#define UNMAPPED 0x30000u

static TestVM *make_vm(const uint8_t *code, size_t len, int cpl, bool paging)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, cpl, TESTVM_CODE);
    if (paging) {
        testvm_paged32(vm, UNMAPPED, TESTVM_NO_PAGE);
    }
    return vm;
}

static void assert_same(TestVM *vm, TestVM *ref)
{
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_int_eq(vm->cpu.inhibit_irq, ref->cpu.inhibit_irq);
    ck_assert_int_eq(testvm_last_vector(vm), testvm_last_vector(ref));
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
}

/* A device that raises INTR with vector 0x40 and counts acknowledgements. */
static int acks;

static int dev_ack(void *opaque)
{
    CPUState *cpu = opaque;
    acks++;
    cpu_clear_interrupt(cpu, CPU_INTERRUPT_HARD);
    return 0x40;
}

static void pending_irq(TestVM *vm)
{
    vm->cpu.hooks.opaque = &vm->cpu;
    vm->cpu.hooks.irq_ack = dev_ack;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
}

/* cli ; mov eax, 5 ; hlt at CPL 0: only HLT is a callout. */
START_TEST(test_cli_native_at_cpl0)
{
    static const uint8_t code[] = {0xfa, 0xb8, 0x05, 0, 0, 0, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    vm->cpu.eflags |= EFLAGS_IF;
    ref->cpu.eflags |= EFLAGS_IF;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, 0);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * mov eax, 1 ; cli ; mov eax, 2 ; jmp $ at CPL 3: with IOPL 0 CLI raises
 * #GP(0) before it changes anything; with IOPL 3 it clears IF.
 */
START_TEST(test_cli_cpl3_follows_iopl)
{
    static const uint8_t code[] = {0xb8, 0x01, 0, 0, 0, 0xfa, 0xb8, 0x02, 0, 0, 0, 0xeb, 0xfe};
    for (int iopl = 0; iopl <= 3; iopl += 3) {
        TestVM *vm = make_vm(code, sizeof(code), 3, false);
        TestVM *ref = make_vm(code, sizeof(code), 3, false);
        uint32_t fl = EFLAGS_IF | (uint32_t)iopl << EFLAGS_IOPL_SHIFT;
        vm->cpu.eflags |= fl;
        ref->cpu.eflags |= fl;
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        int r = bt_exec(bt, 500);
        ck_assert_int_eq(testvm_run(ref, vm->cpu.icount), r);
        assert_same(vm, ref);
        if (iopl == 0) {
            ck_assert_int_eq(r, CPU_EXIT_HALT);
            ck_assert_int_eq(testvm_last_vector(vm), EXC_GP);
            ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1);
        } else {
            ck_assert_int_eq(testvm_last_vector(vm), -1);
            ck_assert_uint_eq(vm->cpu.regs[R_EAX], 2);
            ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, 0);
        }
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

/*
 *   call f ; mov ecx, 9 ; jmp $
 *   f: mov ebx, 3 ; sti ; ret
 * with IF clear: the RET in STI's shadow is native and the block goes on
 * to its continuation without the run loop (a RET callout would leave).  At CPL 0 STI is native too
 * (no callout at all); at CPL 3 with IOPL 3 it is a callout that ends the
 * shadow itself (one callout).
 */
START_TEST(test_sti_ret_native)
{
    static const uint8_t code[] = {0xe8, 0x07, 0,    0, 0, 0xb9, 0x09, 0, 0, 0, 0xeb, 0xfe,
                                   0xbb, 0x03, 0,    0, 0, 0xfb, 0xc3};
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        TestVM *vm = make_vm(code, sizeof(code), cpl, false);
        TestVM *ref = make_vm(code, sizeof(code), cpl, false);
        vm->cpu.eflags |= 3u << EFLAGS_IOPL_SHIFT;
        ref->cpu.eflags |= 3u << EFLAGS_IOPL_SHIFT;
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        ck_assert_int_eq(bt_exec(bt, 200), CPU_EXIT_BUDGET);
        ck_assert_int_eq(testvm_run(ref, 200), CPU_EXIT_BUDGET);
        assert_same(vm, ref);
        ck_assert_uint_eq(vm->cpu.regs[R_ECX], 9);
        ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, EFLAGS_IF);
        ck_assert_int_eq(vm->cpu.inhibit_irq, 0);
        ck_assert_uint_eq(bt_stats(bt)->callout_insns, cpl == 0 ? 0 : 1);
        /* Again, with every exit chained: call, f, the return and the
         * loop's first round are one entry from the run loop. */
        uint32_t esp = vm->cpu.regs[R_ESP] + 4;
        vm->cpu.regs[R_ESP] = esp;
        vm->cpu.eip = TESTVM_CODE;
        vm->cpu.eflags &= ~EFLAGS_IF;
        uint64_t entries = bt_stats(bt)->entries;
        ck_assert_int_eq(bt_exec(bt, 6), CPU_EXIT_BUDGET);
        ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + 10);
        ck_assert_uint_eq(vm->cpu.regs[R_ESP], esp);
        ck_assert_uint_eq(bt_stats(bt)->entries - entries, 1);
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

/*
 *   sti ; mov eax, 1 ; mov ebx, 2 ; hlt   (IF clear, INTR waiting)
 * The interrupt is taken after the instruction in the shadow and before
 * the next: EAX = 1, EBX unchanged, and the frame's EIP is the second MOV.
 */
START_TEST(test_sti_shadow_pending_irq)
{
    static const uint8_t code[] = {0xfb, 0xb8, 0x01, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    pending_irq(vm);
    pending_irq(ref);
    acks = 0;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(acks, 2);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
    ck_assert_uint_eq(phys_read(&vm->phys, vm->cpu.regs[R_ESP], 4), TESTVM_CODE + 6);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   sti ; mov eax, 1 ; jmp L ; L: mov ebx, 2 ; hlt   (IF clear)
 * A slice of exactly STI, its shadow instruction and the JMP: translated
 * code stops with the shadow over, as the interpreter does.  An interrupt
 * raised then is taken at once, before MOV EBX, on both.
 */
START_TEST(test_sti_shadow_slice_end)
{
    static const uint8_t code[] = {0xfb, 0xb8, 0x01, 0, 0, 0, 0xeb, 0x00, 0xbb, 0x02, 0, 0, 0, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 3), CPU_EXIT_BUDGET);
    ck_assert_int_eq(testvm_run(ref, 3), CPU_EXIT_BUDGET);
    assert_same(vm, ref);
    ck_assert_int_eq(vm->cpu.inhibit_irq, 0);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1);
    pending_irq(vm);
    pending_irq(ref);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   sti ; jmp dword [UNMAPPED]   (paging on, IF clear)
 * The native JMP in the shadow faults: #PF is delivered with the shadow
 * still open (the interpreter ends it only after an instruction that
 * completes), so right after the delivery both engines show it.  At CPL 0
 * STI is native (no callout), at CPL 3 with IOPL 3 a callout; the JMP is
 * native in both.
 */
START_TEST(test_sti_shadow_fault_keeps_shadow)
{
    static const uint8_t code[] = {0xfb, 0xff, 0x25, 0x00, 0x00, 0x03, 0x00};
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        TestVM *vm = make_vm(code, sizeof(code), cpl, true);
        TestVM *ref = make_vm(code, sizeof(code), cpl, true);
        vm->cpu.eflags |= 3u << EFLAGS_IOPL_SHIFT;
        ref->cpu.eflags |= 3u << EFLAGS_IOPL_SHIFT;
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        ck_assert_int_eq(bt_exec(bt, 2), CPU_EXIT_BUDGET);
        ck_assert_int_eq(testvm_run(ref, 2), CPU_EXIT_BUDGET);
        ck_assert_uint_eq(vm->cpu.cr2, UNMAPPED);
        ck_assert_uint_eq(vm->cpu.cr2, ref->cpu.cr2);
        ck_assert_int_eq(vm->cpu.inhibit_irq, 1);
        assert_same(vm, ref);
        ck_assert_uint_eq(bt_stats(bt)->callout_insns, cpl == 0 ? 0 : 1);
        /* The handler's first instruction closes the shadow on both. */
        ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
        ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
        assert_same(vm, ref);
        ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

/*
 *   mov eax, 1 ; sti ; hlt   at CPL 0, IF clear
 * STI before a callout (HLT) is native: only HLT calls out.  With INTR
 * waiting, the shadow still covers HLT, so the interrupt arrives after it:
 * the frame's EIP is past HLT, on both engines.
 */
START_TEST(test_sti_native_before_callout)
{
    static const uint8_t code[] = {0xb8, 0x01, 0, 0, 0, 0xfb, 0xf4};
    for (int waiting = 0; waiting < 2; waiting++) {
        TestVM *vm = make_vm(code, sizeof(code), 0, false);
        TestVM *ref = make_vm(code, sizeof(code), 0, false);
        if (waiting) {
            pending_irq(vm);
            pending_irq(ref);
        }
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
        ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
        assert_same(vm, ref);
        ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, waiting ? 0 : EFLAGS_IF);
        if (waiting) {
            ck_assert_int_eq(testvm_last_vector(vm), 0x40);
            ck_assert_uint_eq(phys_read(&vm->phys, vm->cpu.regs[R_ESP], 4), TESTVM_CODE + 7);
        } else {
            ck_assert_int_eq(testvm_last_vector(vm), -1);
            ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
        }
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

/* push 0x3cd7 ; popfd ; pushfd ; pop eax ; hlt at CPL 0: every flag POPF
 * writes there (IOPL 3, DF, OF and the arithmetic ones), natively. */
START_TEST(test_popf_native_at_cpl0)
{
    static const uint8_t code[] = {0x68, 0xd7, 0x3c, 0, 0, 0x9d, 0x9c, 0x58, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0x3cd7);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* hlt */
    /* and back: push 0 ; popfd clears them all again */
    static const uint8_t back[] = {0x6a, 0x00, 0x9d, 0x9c, 0x58, 0xf4};
    testvm_load(vm, TESTVM_CODE + 0x100, back, sizeof(back));
    testvm_load(ref, TESTVM_CODE + 0x100, back, sizeof(back));
    vm->cpu.eip = ref->cpu.eip = TESTVM_CODE + 0x100;
    vm->cpu.halted = ref->cpu.halted = false;
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 2);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 2);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   push 0x202 ; popfd ; mov eax, 1 ; hlt   (IF clear, INTR waiting)
 * POPF has no shadow: the interrupt is taken right after it, before the
 * MOV, whose address is the frame's EIP.
 */
START_TEST(test_popf_sets_if_with_irq_waiting)
{
    static const uint8_t code[] = {0x68, 0x02, 0x02, 0, 0, 0x9d, 0xb8, 0x01, 0, 0, 0, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    pending_irq(vm);
    pending_irq(ref);
    acks = 0;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(acks, 2);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0);
    ck_assert_uint_eq(phys_read(&vm->phys, vm->cpu.regs[R_ESP], 4), TESTVM_CODE + 6);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   push 0x102 ; popfd ; mov eax, 1 ; mov ebx, 2 ; hlt
 * TF set by POPF traps after the next instruction: #DB with EAX = 1 and
 * EBX not yet written, translated as interpreted.
 */
START_TEST(test_popf_sets_tf)
{
    static const uint8_t code[] = {0x68, 0x02, 0x01, 0, 0, 0x9d, 0xb8, 0x01, 0, 0,
                                   0,    0xbb, 0x02, 0, 0, 0,    0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    TestVM *ref = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_DB);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   push 0x3002 ; popfd ; pushfd ; pop eax ; jmp $   at CPL 3, IOPL 0, IF set
 * POPF there changes neither IF nor IOPL (SDM Vol.2 POPF): EAX keeps IF 1,
 * IOPL 0.
 */
START_TEST(test_popf_cpl3_keeps_if_iopl)
{
    static const uint8_t code[] = {0x68, 0x02, 0x30, 0, 0, 0x9d, 0x9c, 0x58, 0xeb, 0xfe};
    TestVM *vm = make_vm(code, sizeof(code), 3, false);
    TestVM *ref = make_vm(code, sizeof(code), 3, false);
    vm->cpu.eflags |= EFLAGS_IF;
    ref->cpu.eflags |= EFLAGS_IF;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 200), CPU_EXIT_BUDGET);
    ck_assert_int_eq(testvm_run(ref, 200), CPU_EXIT_BUDGET);
    assert_same(vm, ref);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX] & (EFLAGS_IF | EFLAGS_IOPL), EFLAGS_IF);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 *   mov esp, UNMAPPED - 2 ; popfd ; hlt   (paging on, flags with CF set)
 * The stack read crosses into the unmapped page and faults before POPF
 * changes anything: #PF with the old EFLAGS in the frame and ESP as it was.
 */
START_TEST(test_popf_fault_is_precise)
{
    static const uint8_t code[] = {0xbc, 0xfe, 0xff, 0x02, 0x00, 0x9d, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, true);
    TestVM *ref = make_vm(code, sizeof(code), 0, true);
    vm->cpu.eflags |= EFLAGS_CF;
    ref->cpu.eflags |= EFLAGS_CF;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.cr2, UNMAPPED);
    uint32_t sp = vm->cpu.regs[R_ESP];
    ck_assert_uint_eq(sp, UNMAPPED - 2 - 16);
    ck_assert_uint_eq(phys_read(&vm->phys, sp + 4, 4), TESTVM_CODE + 5);
    ck_assert_uint_eq(phys_read(&vm->phys, sp + 12, 4) & EFLAGS_CF, EFLAGS_CF);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator_kernel");
    TCase *tc = tcase_create("interrupt_flag");
    tcase_add_test(tc, test_cli_native_at_cpl0);
    tcase_add_test(tc, test_cli_cpl3_follows_iopl);
    tcase_add_test(tc, test_sti_ret_native);
    tcase_add_test(tc, test_sti_shadow_pending_irq);
    tcase_add_test(tc, test_sti_shadow_slice_end);
    tcase_add_test(tc, test_sti_shadow_fault_keeps_shadow);
    tcase_add_test(tc, test_sti_native_before_callout);
    tcase_add_test(tc, test_popf_native_at_cpl0);
    tcase_add_test(tc, test_popf_sets_if_with_irq_waiting);
    tcase_add_test(tc, test_popf_sets_tf);
    tcase_add_test(tc, test_popf_cpl3_keeps_if_iopl);
    tcase_add_test(tc, test_popf_fault_is_precise);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
