/*
 * Hardware task switches (SDM Vol.3 7.3): through a TSS descriptor and
 * through a task gate, by JMP, CALL, IRET and an exception.  Checks the
 * state saved in the old TSS, the state loaded from the new one, busy bits,
 * NT and the back link, and where faults are reported (Table 7-1).
 */
#include <check.h>

#include "pm_fixture.h"

static PMFixture fx;
static CPUState *cpu;

#define TASK_B_EIP      0x5000u
#define TASK_B_EFLAGS   (EFLAGS_FIXED | EFLAGS_IF | EFLAGS_CF)
#define TASK_B_ESP      0x7000u
#define TASK_GATE_INDEX GDT_FREE_INDEX
#define SEL_TASK_GATE   (GDT_FREE_INDEX << 3)

/* Fill TSS B with a complete ring-0 task. */
static void tss_b_init(void)
{
    pm_wr32(&fx, TSS_B_BASE + 0x20, TASK_B_EIP);
    pm_wr32(&fx, TSS_B_BASE + 0x24, TASK_B_EFLAGS);
    for (int i = 0; i < 8; i++) {
        pm_wr32(&fx, TSS_B_BASE + 0x28 + 4 * i, 0xb0000000u + (uint32_t)i);
    }
    pm_wr32(&fx, TSS_B_BASE + 0x38, TASK_B_ESP);
    static const uint16_t segs[SEG_COUNT] = {SEL_DATA0, SEL_CODE0, SEL_DATA0, SEL_DATA0, 0, 0};
    for (int s = 0; s < SEG_COUNT; s++) {
        pm_wr16(&fx, TSS_B_BASE + 0x48 + 4 * s, segs[s]);
    }
    pm_wr16(&fx, TSS_B_BASE + 0x60, 0);
    pm_wr16(&fx, TSS_B_BASE + 0x64, 0);
    /* Ring-0 stack of task B for exceptions taken while B runs. */
    pm_wr32(&fx, TSS_B_BASE + 4, 0x7800);
    pm_wr16(&fx, TSS_B_BASE + 8, SEL_DATA0);
}

static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
    tss_b_init();
    for (int i = 0; i < 8; i++) {
        cpu->regs[i] = 0xa0000000u + (uint32_t)i;
    }
    cpu->regs[R_ESP] = STACK0_TOP - 0x100;
    cpu_set_eflags(cpu, EFLAGS_ZF | EFLAGS_IF, 0xffffffffu);
    gdt_set(&fx, TASK_GATE_INDEX, make_gate(SEL_TSS_B, 0, SYS_TASK_GATE, 0, 0));
}

static void teardown(void)
{
    pm_teardown(&fx);
}

static uint32_t tss_type(uint16_t selector)
{
    return desc_type(gdt_get(&fx, selector >> 3));
}

typedef struct SwitchArgs {
    uint16_t selector;
} SwitchArgs;

static void do_jmp(CPUState *c, void *arg)
{
    cpu_far_jmp(c, ((SwitchArgs *)arg)->selector, 0, 0x1236);
}

static void do_call(CPUState *c, void *arg)
{
    cpu_far_call(c, ((SwitchArgs *)arg)->selector, 0, 4, 0x1236);
}

static void do_iret(CPUState *c, void *arg)
{
    c->next_eip = 0x5555;
    cpu_iret(c, 4);
}

static int try_switch(PMAction action, uint16_t selector)
{
    SwitchArgs a = {selector};
    return pm_try(cpu, action, &a);
}

/* Task B's state is in the registers. */
static void assert_in_task_b(void)
{
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_B);
    ck_assert_uint_eq(cpu->tr.base, TSS_B_BASE);
    ck_assert_uint_eq(cpu->next_eip, TASK_B_EIP);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xb0000000u);
    ck_assert_uint_eq(cpu->regs[R_EDI], 0xb0000007u);
    ck_assert_uint_eq(cpu->regs[R_ESP], TASK_B_ESP);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    ck_assert_uint_eq(cpu->seg[SEG_FS].selector, 0);
    ck_assert(cpu->eflags & EFLAGS_CF);
    ck_assert(!(cpu->eflags & EFLAGS_ZF));
    ck_assert(cpu->cr0 & CR0_TS);
}

/* Task A's state as saved into its TSS when it left at EIP 0x1236. */
static void assert_task_a_saved(uint32_t eflags_set)
{
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x20), 0x1236);
    uint32_t fl = pm_rd32(&fx, TSS_A_BASE + 0x24);
    ck_assert_uint_eq(fl & (EFLAGS_ZF | EFLAGS_IF | EFLAGS_NT), eflags_set);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x28), 0xa0000000u);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x38), STACK0_TOP - 0x100);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x44), 0xa0000007u);
    ck_assert_uint_eq(pm_rd16(&fx, TSS_A_BASE + 0x4c), SEL_CODE0);
    ck_assert_uint_eq(pm_rd16(&fx, TSS_A_BASE + 0x50), SEL_DATA0);
}

START_TEST(test_jmp_to_tss)
{
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), -1);
    assert_in_task_b();
    assert_task_a_saved(EFLAGS_ZF | EFLAGS_IF);
    /* JMP: old task no longer busy, new one busy, no nesting. */
    ck_assert_uint_eq(tss_type(SEL_TSS_A), SYS_TSS32_AVAIL);
    ck_assert_uint_eq(tss_type(SEL_TSS_B), SYS_TSS32_BUSY);
    ck_assert(!(cpu->eflags & EFLAGS_NT));
    ck_assert_uint_eq(pm_rd16(&fx, TSS_B_BASE), 0);
    ck_assert_uint_eq((cpu->tr.attr & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT, SYS_TSS32_BUSY);
}
END_TEST

START_TEST(test_call_through_task_gate_and_iret_back)
{
    ck_assert_int_eq(try_switch(do_call, SEL_TASK_GATE), -1);
    assert_in_task_b();
    assert_task_a_saved(EFLAGS_ZF | EFLAGS_IF);
    /* CALL nests: both busy, back link to A, NT set in B. */
    ck_assert_uint_eq(tss_type(SEL_TSS_A), SYS_TSS32_BUSY);
    ck_assert_uint_eq(tss_type(SEL_TSS_B), SYS_TSS32_BUSY);
    ck_assert_uint_eq(pm_rd16(&fx, TSS_B_BASE), SEL_TSS_A);
    ck_assert(cpu->eflags & EFLAGS_NT);

    /* IRET with NT=1 returns through the back link. */
    cpu->regs[R_EAX] = 0xbbbbbbbb;
    ck_assert_int_eq(pm_try(cpu, do_iret, NULL), -1);
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_A);
    ck_assert_uint_eq(cpu->next_eip, 0x1236);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xa0000000u);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK0_TOP - 0x100);
    ck_assert(cpu->eflags & EFLAGS_ZF);
    ck_assert(!(cpu->eflags & EFLAGS_NT));
    /* B: not busy any more, its saved image has NT cleared and its EAX. */
    ck_assert_uint_eq(tss_type(SEL_TSS_B), SYS_TSS32_AVAIL);
    ck_assert_uint_eq(tss_type(SEL_TSS_A), SYS_TSS32_BUSY);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_B_BASE + 0x24) & EFLAGS_NT, 0);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_B_BASE + 0x28), 0xbbbbbbbb);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_B_BASE + 0x20), 0x5555);
}
END_TEST

START_TEST(test_switch_refusals)
{
    /* JMP to the running (busy) task. */
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_A), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS_A);
    /* TSS DPL 0 from CPL 3. */
    pm_enter_ring3(&fx);
    ck_assert_int_eq(try_switch(do_call, SEL_TSS_B | 3), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS_B);
    ck_assert_int_eq(try_switch(do_call, SEL_TASK_GATE | 3), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TASK_GATE);
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_A);
    ck_assert_uint_eq(tss_type(SEL_TSS_B), SYS_TSS32_AVAIL);
}
END_TEST

START_TEST(test_bad_tss_descriptor)
{
    /* Limit below 67h: #TS(new TSS). */
    gdt_set(&fx, SEL_TSS_B >> 3,
            make_desc(TSS_B_BASE, 0x60, DESC_P | (SYS_TSS32_AVAIL << DESC_TYPE_SHIFT)));
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), EXC_TS);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS_B);
    /* Not present: #NP(new TSS). */
    gdt_set(&fx, SEL_TSS_B >> 3, make_desc(TSS_B_BASE, 0x67, SYS_TSS32_AVAIL << DESC_TYPE_SHIFT));
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), EXC_NP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS_B);
    /* Nothing changed. */
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_A);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xa0000000u);
    ck_assert_uint_eq(tss_type(SEL_TSS_A), SYS_TSS32_BUSY);
    ck_assert(!(cpu->cr0 & CR0_TS));
}
END_TEST

/* A bad segment in the new TSS faults after the commit point, in the new
 * task: TR, registers and EIP are already B's. */
START_TEST(test_fault_after_commit_is_in_new_task)
{
    pm_wr16(&fx, TSS_B_BASE + 0x54, SEL_TSS_A); /* DS = a system descriptor */
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), EXC_TS);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS_A);
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_B);
    ck_assert_uint_eq(cpu->eip, TASK_B_EIP);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xb0000000u);
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, SEL_TSS_A);
    ck_assert_uint_eq(tss_type(SEL_TSS_B), SYS_TSS32_BUSY);
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x20), 0x1236);
}
END_TEST

START_TEST(test_code_segment_rpl_sets_cpl)
{
    /* Task B runs at ring 3. */
    pm_wr16(&fx, TSS_B_BASE + 0x4c, SEL_CODE3);
    pm_wr16(&fx, TSS_B_BASE + 0x50, SEL_DATA3);
    pm_wr16(&fx, TSS_B_BASE + 0x48, SEL_DATA3);
    pm_wr16(&fx, TSS_B_BASE + 0x54, SEL_DATA3);
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), -1);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->mmu_idx, MMU_USER);
    /* Stack DPL must match CS.RPL: SS of DPL 0 with a ring-3 CS is #TS(SS). */
    teardown();
    setup();
    pm_wr16(&fx, TSS_B_BASE + 0x4c, SEL_CODE3);
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), EXC_TS);
    ck_assert_uint_eq(cpu->exception_error, SEL_DATA0);
}
END_TEST

START_TEST(test_t_bit_requests_debug_trap)
{
    pm_wr16(&fx, TSS_B_BASE + 0x64, 1);
    cpu->pending_dr6 = 0;
    ck_assert_int_eq(try_switch(do_jmp, SEL_TSS_B), -1);
    ck_assert_uint_eq(cpu->pending_dr6 & 0x8000u, 0x8000u); /* DR6.BT */
}
END_TEST

START_TEST(test_jmp_to_16bit_tss)
{
    const uint32_t base = 0x6000;
    gdt_set(&fx, GDT_FREE_INDEX + 1,
            make_desc(base, 0x2b, DESC_P | (SYS_TSS16_AVAIL << DESC_TYPE_SHIFT)));
    pm_wr16(&fx, base + 0x0e, 0x0321);                   /* IP */
    pm_wr16(&fx, base + 0x10, EFLAGS_FIXED | EFLAGS_CF); /* FLAGS */
    pm_wr16(&fx, base + 0x12, 0x1111);                   /* AX */
    pm_wr16(&fx, base + 0x1a, 0x6ff0);                   /* SP */
    pm_wr16(&fx, base + 0x22, SEL_DATA0);                /* ES */
    pm_wr16(&fx, base + 0x24, SEL_CODE0);                /* CS */
    pm_wr16(&fx, base + 0x26, SEL_DATA0);                /* SS */
    pm_wr16(&fx, base + 0x28, SEL_DATA0);                /* DS */
    pm_wr16(&fx, base + 0x2a, 0);                        /* LDT */
    ck_assert_int_eq(try_switch(do_jmp, (GDT_FREE_INDEX + 1) << 3), -1);
    ck_assert_uint_eq(cpu->next_eip, 0x321);
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0x1111);
    ck_assert_uint_eq(cpu->regs[R_ESP] & 0xffff, 0x6ff0);
    ck_assert(cpu->eflags & EFLAGS_CF);
    ck_assert_uint_eq(cpu->seg[SEG_FS].selector, 0);
    ck_assert_uint_eq(tss_type((GDT_FREE_INDEX + 1) << 3), SYS_TSS16_BUSY);
}
END_TEST

/* A 16-bit TSS holds only FLAGS: entering one from vm86 through a task gate
 * clears EFLAGS' upper word (VM included), as Intel CPUs do. */
START_TEST(test_vm86_task_gate_to_16bit_tss_clears_upper_eflags)
{
    const uint32_t base = 0x6000;
    gdt_set(&fx, GDT_FREE_INDEX + 1,
            make_desc(base, 0x2b, DESC_P | (SYS_TSS16_AVAIL << DESC_TYPE_SHIFT)));
    pm_wr16(&fx, base + 0x0e, 0x0321);                   /* IP */
    pm_wr16(&fx, base + 0x10, EFLAGS_FIXED | EFLAGS_CF); /* FLAGS */
    pm_wr16(&fx, base + 0x1a, 0x6ff0);                   /* SP */
    pm_wr16(&fx, base + 0x22, SEL_DATA0);                /* ES */
    pm_wr16(&fx, base + 0x24, SEL_CODE0);                /* CS */
    pm_wr16(&fx, base + 0x26, SEL_DATA0);                /* SS */
    pm_wr16(&fx, base + 0x28, SEL_DATA0);                /* DS */
    pm_wr16(&fx, base + 0x2a, 0);                        /* LDT */
    idt_set(&fx, 0x41, make_gate((GDT_FREE_INDEX + 1) << 3, 0, SYS_TASK_GATE, 3, 0));
    /* vm86 with IOPL 3 (INT n goes to the IDT), AC and ID set too. */
    cpu_set_eflags(cpu, EFLAGS_VM | EFLAGS_IF | EFLAGS_IOPL | EFLAGS_AC | EFLAGS_ID, 0xffffffffu);
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_real(cpu, s, 0x1000);
    }
    cpu_update_mode(cpu);
    cpu->eip = 0x100;
    cpu->next_eip = 0x102;
    cpu_do_interrupt(cpu, 0x41, true, false, 0, 0x102);
    ck_assert_uint_eq(cpu->tr.selector, (GDT_FREE_INDEX + 1) << 3);
    ck_assert_uint_eq(cpu->next_eip, 0x321);
    ck_assert_uint_eq(cpu->eflags & 0xffff0000u, 0);
    ck_assert(cpu->eflags & EFLAGS_CF);
    ck_assert(!(cpu->hflags & HF_VM));
    ck_assert_uint_eq(cpu->cpl, 0);
    /* The vm86 task's EFLAGS, VM included, went into its 32-bit TSS. */
    ck_assert(pm_rd32(&fx, TSS_A_BASE + 0x24) & EFLAGS_VM);
}
END_TEST

/* An exception through an IDT task gate: nested switch, error code pushed
 * on the new task's stack (SDM Vol.3 6.12.2). */
START_TEST(test_exception_through_task_gate)
{
    idt_set(&fx, EXC_GP, make_gate(SEL_TSS_B, 0, SYS_TASK_GATE, 0, 0));
    cpu->eip = 0x1236;
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0x50);
    ck_assert(!cpu->triple_fault);
    ck_assert_int_eq(cpu->delivering_vector, -1);
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS_B);
    ck_assert_uint_eq(cpu->next_eip, TASK_B_EIP);
    ck_assert_uint_eq(cpu->regs[R_ESP], TASK_B_ESP - 4);
    ck_assert_uint_eq(pm_rd32(&fx, TASK_B_ESP - 4), 0x50);
    ck_assert(cpu->eflags & EFLAGS_NT);
    ck_assert_uint_eq(pm_rd16(&fx, TSS_B_BASE), SEL_TSS_A);
    /* The faulting instruction's EIP is what the old task resumes at. */
    ck_assert_uint_eq(pm_rd32(&fx, TSS_A_BASE + 0x20), 0x1236);
}
END_TEST

static Suite *task_suite(void)
{
    Suite *s = suite_create("task");
    TCase *tc = tcase_create("switch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_jmp_to_tss);
    tcase_add_test(tc, test_call_through_task_gate_and_iret_back);
    tcase_add_test(tc, test_switch_refusals);
    tcase_add_test(tc, test_bad_tss_descriptor);
    tcase_add_test(tc, test_fault_after_commit_is_in_new_task);
    tcase_add_test(tc, test_code_segment_rpl_sets_cpl);
    tcase_add_test(tc, test_t_bit_requests_debug_trap);
    tcase_add_test(tc, test_jmp_to_16bit_tss);
    tcase_add_test(tc, test_exception_through_task_gate);
    tcase_add_test(tc, test_vm86_task_gate_to_16bit_tss_clears_upper_eflags);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(task_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
