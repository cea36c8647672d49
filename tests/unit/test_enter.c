/*
 * ENTER where the SDM's pseudo-code leaves room and Intel CPUs decide: the
 * frame pointer on a 16-bit stack, and the check of the final stack
 * pointer before anything is pushed.
 */
#include <check.h>
#include <string.h>

#include "pm_fixture.h"
#include "softmmu/mmu.h"

#define PD_BASE     0x100000u
#define PT_BASE     0x101000u
#define KERNEL_PAGE 0x9000u /* the one supervisor-only page */

static PMFixture fx;
static CPUState *cpu;

static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
}

static void teardown(void)
{
    pm_teardown(&fx);
}

/* Decode and run one instruction through the interpreter's dispatch; the
 * vector of a fault (not delivered), or -1. */
static int run_code(const uint8_t *code, int len)
{
    static Insn insn;
    memset(&insn, 0, sizeof(insn));
    ck_assert_int_eq(decode_insn(&insn, code, len, true), DECODE_OK);
    cpu->next_eip = cpu->eip + insn.len;
    cpu->exception_vector = -1;
    if (setjmp(cpu->jmp_env) != 0) {
        return cpu->exception_vector;
    }
    interp_exec_insn(cpu, &insn);
    cpu->eip = cpu->next_eip;
    return -1;
}

/* o32 enter 8, 4 with SS a 16-bit segment: SP wraps from 0 to FFFCh and BP
 * takes the frame, EBP's upper half stays (what Intel CPUs do). */
START_TEST(test_o32_enter_16bit_stack_keeps_ebp_high)
{
    gdt_set(&fx, GDT_FREE_INDEX, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_W));
    pm_force_seg(&fx, SEG_SS, GDT_FREE_INDEX << 3);
    cpu_update_mode(cpu);
    cpu->regs[R_ESP] = 0x10000;
    cpu->regs[R_EBP] = 0x1ffec;
    static const uint8_t enter[] = {0xc8, 0x08, 0x00, 0x04}; /* enter 8, 4 */
    ck_assert_int_eq(run_code(enter, sizeof(enter)), -1);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x0001fffcu);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x0001ffe4u); /* SP = FFFC - 3*4 - 4 - 8 */
    ck_assert_uint_eq(pm_rd32(&fx, 0xfffc), 0x1ffec); /* the old EBP */
    ck_assert_uint_eq(pm_rd32(&fx, 0xffec), 0xfffc);  /* the frame pointer pushed last */
}
END_TEST

/* Paging on: 0-4 MiB identity-mapped for user, except KERNEL_PAGE. */
static void user_paging(void)
{
    pm_wr32(&fx, PD_BASE, PT_BASE | 0x7);
    for (uint32_t page = 0; page < 1024; page++) {
        uint32_t flags = page * 4096 == KERNEL_PAGE ? 0x3 : 0x7;
        pm_wr32(&fx, PT_BASE + 4 * page, page * 4096 | flags);
    }
    cpu_write_cr3(cpu, PD_BASE);
    cpu_write_cr0(cpu, cpu->cr0 | CR0_PG);
}

/* At CPL 3 an ENTER whose final ESP is in a supervisor page faults there
 * before it pushes anything: memory, ESP and EBP stay as they were. */
START_TEST(test_enter_final_esp_checked_first)
{
    user_paging();
    pm_enter_ring3(&fx);
    cpu->regs[R_ESP] = 0xa800;
    cpu->regs[R_EBP] = 0x12345678;
    pm_wr32(&fx, 0xa7fc, 0xdeadbeef);
    static const uint8_t enter[] = {0xc8, 0x00, 0x10, 0x00}; /* enter 1000h, 0 */
    ck_assert_int_eq(run_code(enter, sizeof(enter)), EXC_PF);
    ck_assert_uint_eq(cpu->cr2, 0x97fc);
    ck_assert_uint_eq(cpu->exception_error, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(pm_rd32(&fx, 0xa7fc), 0xdeadbeef);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0xa800);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x12345678);
    /* A smaller frame that stays in user pages goes through. */
    static const uint8_t small[] = {0xc8, 0x00, 0x01, 0x00}; /* enter 100h, 0 */
    ck_assert_int_eq(run_code(small, sizeof(small)), -1);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0xa7fc);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0xa6fc);
    ck_assert_uint_eq(pm_rd32(&fx, 0xa7fc), 0x12345678);
}
END_TEST

static Suite *enter_suite(void)
{
    Suite *s = suite_create("enter");
    TCase *tc = tcase_create("enter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_o32_enter_16bit_stack_keeps_ebp_high);
    tcase_add_test(tc, test_enter_final_esp_checked_first);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(enter_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
