/*
 * The CPU with a local APIC, wired through the CPU's hooks as the PC board
 * wires them (hw/pc/pc.c): CPUID.1:EDX.APIC following IA32_APIC_BASE's
 * enable bit, the APIC MSRs, a self-IPI taken right after the ICR write, a
 * timer interrupt waking HLT, and INIT keeping what INIT keeps.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/intc/apic.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define RESULT 0x3000u /* where the guest code stores what it read */

static TestVM *vm;
static CPUState *cpu;
static uint64_t now_ns;
static TimerList tl;
static APICState *apic;

static void intr_line(void *opaque, int n, int level)
{
    if (level) {
        cpu_set_interrupt(cpu, CPU_INTERRUPT_HARD);
    } else {
        cpu_clear_interrupt(cpu, CPU_INTERRUPT_HARD);
    }
}

static int irq_ack(void *opaque)
{
    return apic_ack(apic);
}

static int64_t clock_ns(void *opaque)
{
    return (int64_t)now_ns;
}

static bool msr_read(void *opaque, uint32_t index, uint64_t *value)
{
    switch (index) {
    case MSR_IA32_APIC_BASE: *value = apic_get_base(apic); return true;
    case MSR_IA32_TSC_DEADLINE: *value = apic_get_tsc_deadline(apic); return true;
    default: return false;
    }
}

static bool msr_write(void *opaque, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_IA32_APIC_BASE: return apic_set_base(apic, value);
    case MSR_IA32_TSC_DEADLINE: apic_set_tsc_deadline(apic, value); return true;
    default: return false;
    }
}

static void map_changed(void *opaque)
{
    tlb_flush_all(cpu);
}

static uint64_t tsc(void *opaque)
{
    return cpu_rdtsc(cpu);
}

static uint8_t cr8_read(void *opaque)
{
    return (uint8_t)(apic_read(apic, APIC_TPR) >> 4);
}

static void cr8_write(void *opaque, uint8_t cr8)
{
    apic_write(apic, APIC_TPR, (uint32_t)cr8 << 4);
}

static void setup(void)
{
    now_ns = 0;
    vm = testvm_new(2 << 20); /* testvm_long_mode puts its tables at 1 MiB */
    ck_assert_ptr_nonnull(vm);
    cpu = &vm->cpu;
    timerlist_init_icount(&tl, &now_ns, 0);
    APICHooks hooks = {NULL, NULL, NULL, map_changed, NULL, tsc};
    apic = apic_new(&vm->phys, &tl, 0, irq_make(intr_line, NULL, 0), (IRQ){0}, &hooks);
    ck_assert_ptr_nonnull(apic);
    cpu->hooks.irq_ack = irq_ack;
    cpu->hooks.clock_ns = clock_ns;
    cpu->hooks.msr_read = msr_read;
    cpu->hooks.msr_write = msr_write;
    cpu->hooks.cr8_read = cr8_read;
    cpu->hooks.cr8_write = cr8_write;
    testvm_flat32(vm, 0, TESTVM_CODE);
}

static void teardown(void)
{
    apic_free(apic);
    testvm_free(vm);
}

static void run_code(const uint8_t *code, size_t len)
{
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_run(vm, 1000);
}

START_TEST(test_cpuid_and_msrs)
{
    static const uint8_t code[] = {
        0xb8, 0x01, 0x00, 0x00, 0x00,       /* mov eax, 1 */
        0x0f, 0xa2,                         /* cpuid */
        0x89, 0x15, 0x00, 0x30, 0x00, 0x00, /* mov [0x3000], edx */
        0xb9, 0x1b, 0x00, 0x00, 0x00,       /* mov ecx, 0x1b */
        0x0f, 0x32,                         /* rdmsr */
        0xa3, 0x04, 0x30, 0x00, 0x00,       /* mov [0x3004], eax */
        0xf4,                               /* hlt */
    };
    run_code(code, sizeof(code));
    ck_assert(phys_read(&vm->phys, RESULT, 4) & CPUID_APIC);
    ck_assert_uint_eq(phys_read(&vm->phys, RESULT + 4, 4), 0xfee00900u);
    /* Globally disabled, the APIC leaves CPUID too (SDM Vol.3 11.4.3). */
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_APIC_BASE, 0xfee00000u));
    ck_assert(!(cpu_cpuid_features(cpu) & CPUID_APIC));
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_APIC_BASE, 0xfee00800u));
    ck_assert(cpu_cpuid_features(cpu) & CPUID_APIC);
    /* Reserved bits: #GP (WRMSR fails). */
    ck_assert(!cpu_wrmsr(cpu, MSR_IA32_APIC_BASE, 0x1fee00800ull));
    /* IA32_TSC_DEADLINE exists with the APIC, reads 0 outside its mode. */
    uint64_t v = 1;
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_TSC_DEADLINE, &v));
    ck_assert_uint_eq(v, 0);
    /* Other unknown MSRs still #GP. */
    ck_assert(!cpu_rdmsr(cpu, 0x6e1, &v));
    ck_assert(!cpu_wrmsr(cpu, 0x6e1, 0));
}
END_TEST

START_TEST(test_self_ipi_taken_after_icr_write)
{
    static const uint8_t code[] = {
        0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, /* mov dword [SVR], 0x1ff */
        0xfb,                                                       /* sti */
        0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x51, 0x00, 0x04, 0x00, /* mov dword [ICR], self|0x51 */
        0xc7, 0x05, 0x08, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* mov dword [0x3008], 1 */
        0xf4,                                                       /* hlt */
    };
    run_code(code, sizeof(code));
    ck_assert_int_eq(testvm_last_vector(vm), 0x51);
    /* Taken before the next instruction ran. */
    ck_assert_uint_eq(phys_read(&vm->phys, RESULT + 8, 4), 0);
    ck_assert_uint_eq(apic_read(apic, APIC_ISR + 0x20), 1u << (0x51 - 64));
}
END_TEST

START_TEST(test_timer_wakes_hlt)
{
    static const uint8_t code[] = {
        0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, /* mov dword [SVR], 0x1ff */
        0xc7, 0x05, 0xe0, 0x03, 0xe0, 0xfe, 0x0b, 0x00, 0x00, 0x00, /* mov dword [DCR], 0xb (/1) */
        0xc7, 0x05, 0x20, 0x03, 0xe0, 0xfe, 0x42, 0x00, 0x00, 0x00, /* mov dword [LVTT], 0x42 */
        0xc7, 0x05, 0x80, 0x03, 0xe0, 0xfe, 0xe8, 0x03, 0x00, 0x00, /* mov dword [TMICT], 1000 */
        0xfb,                                                       /* sti */
        0xf4,                                                       /* hlt */
    };
    run_code(code, sizeof(code));
    ck_assert(cpu->halted);
    ck_assert_int_eq(testvm_last_vector(vm), -1);
    now_ns = 999;
    timerlist_run(&tl);
    testvm_run(vm, 10);
    ck_assert_int_eq(testvm_last_vector(vm), -1);
    now_ns = 1000;
    timerlist_run(&tl);
    testvm_run(vm, 10);
    ck_assert_int_eq(testvm_last_vector(vm), 0x42);
}
END_TEST

START_TEST(test_init_keeps_x87_and_msrs)
{
    cpu->fpu.fcw = 0x027f;
    cpu->sysenter_cs = 0x10;
    cpu->msr_pat = 0x0007040600070406ull ^ 1;
    cpu->cr0 |= CR0_PG | CR0_CD;
    cpu->regs[R_EAX] = 0x1234;
    cpu_init_signal(cpu);
    ck_assert_uint_eq(cpu->eip, 0xfff0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0xf000);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert(!(cpu->cr0 & CR0_PE) && !(cpu->cr0 & CR0_PG));
    ck_assert(cpu->cr0 & CR0_CD);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x027f);
    ck_assert_uint_eq(cpu->sysenter_cs, 0x10);
    ck_assert_uint_eq(cpu->msr_pat, 0x0007040600070406ull ^ 1);
}
END_TEST

/* CR8 is TPR[7:4] of the APIC, both ways (SDM Vol.3 10.8.6.1): a write
 * clears TPR[3:0], and a class at or below CR8 waits for it to drop. */
START_TEST(test_cr8_is_the_tpr)
{
    static const uint8_t code[] = {
        0xb8, 0x06, 0x00, 0x00, 0x00, /* mov eax, 6 */
        0x44, 0x0f, 0x22, 0xc0,       /* mov cr8, rax */
        0x44, 0x0f, 0x20, 0xc3,       /* mov rbx, cr8 */
        0xf4,                         /* hlt */
        0x44, 0x0f, 0x20, 0xc1,       /* mov rcx, cr8 */
        0xb8, 0x05, 0x00, 0x00, 0x00, /* mov eax, 5 */
        0x44, 0x0f, 0x22, 0xc0,       /* mov cr8, rax */
        0xf4,                         /* hlt */
    };
    testvm_load(vm, TESTVM_CODE, code, sizeof(code));
    testvm_long_mode(vm, true);
    apic_write(apic, APIC_SVR, 0x1ff);
    apic_write(apic, APIC_TPR, 0x2f);
    testvm_run(vm, 3);
    ck_assert_uint_eq(apic_read(apic, APIC_TPR), 0x60);
    ck_assert_uint_eq(cpu->regs[R_EBX], 6);
    apic_deliver(apic, 0, 0x65, false, false, 0); /* class 6: waits */
    ck_assert(!(cpu->interrupt_request & CPU_INTERRUPT_HARD));
    apic_write(apic, APIC_TPR, 0x5f);
    cpu->halted = false;
    cpu->eip++;
    testvm_run(vm, 3);
    ck_assert_uint_eq(cpu->regs[R_ECX], 5);
    ck_assert_uint_eq(apic_read(apic, APIC_TPR), 0x50);
    ck_assert(cpu->interrupt_request & CPU_INTERRUPT_HARD); /* class 6 > 5 */
}
END_TEST

static Suite *apic_cpu_suite(void)
{
    Suite *s = suite_create("apic_cpu");
    TCase *tc = tcase_create("cpu");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cpuid_and_msrs);
    tcase_add_test(tc, test_self_ipi_taken_after_icr_write);
    tcase_add_test(tc, test_timer_wakes_hlt);
    tcase_add_test(tc, test_init_keeps_x87_and_msrs);
    tcase_add_test(tc, test_cr8_is_the_tpr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apic_cpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
