/*
 * Interrupt and exception delivery (SDM Vol.3 6.12-6.15, 20.1.4, 20.3):
 * the real-mode IVT, protected-mode interrupt and trap gates at the same
 * and at an inner privilege level with their frames, gate and target
 * checks with their error codes (EXT, IDT bits), the vm86 exit to ring 0
 * and the IRET back, and the double- and triple-fault rules of Table 6-5.
 */
#include <check.h>

#include "pm_fixture.h"

static PMFixture fx;
static CPUState *cpu;

/* Vectors delivered, as seen by the on_exception hook. */
static int seen[16];
static int nseen;

static void record_exception(void *opaque, CPUState *c, int vector, uint32_t error_code,
                             bool is_hw_irq)
{
    if (nseen < 16) {
        seen[nseen++] = vector;
    }
}

static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
    nseen = 0;
    cpu->hooks.on_exception = record_exception;
}

static void teardown(void)
{
    pm_teardown(&fx);
}

static uint64_t int_gate(uint32_t offset, uint32_t dpl)
{
    return make_gate(SEL_CODE0, offset, SYS_INT_GATE32, dpl, 0);
}

static uint64_t not_present(uint64_t desc)
{
    return desc & ~((uint64_t)DESC_P << 32);
}

typedef struct IntArgs {
    int vector;
    bool is_sw;
    bool has_error;
    uint32_t error_code;
    uint32_t return_eip;
} IntArgs;

static void do_interrupt(CPUState *c, void *arg)
{
    const IntArgs *a = arg;
    cpu_do_interrupt(c, a->vector, a->is_sw, a->has_error, a->error_code, a->return_eip);
}

static int try_int(int vector, bool is_sw, bool has_error, uint32_t error_code, uint32_t return_eip)
{
    IntArgs a = {vector, is_sw, has_error, error_code, return_eip};
    return pm_try(cpu, do_interrupt, &a);
}

/* ---- real mode ---- */

static void enter_real_mode(void)
{
    cpu->cr0 &= ~CR0_PE;
    cpu_update_mode(cpu);
    seg_load_real(cpu, SEG_CS, 0x1000);
    seg_load_real(cpu, SEG_SS, 0);
    cpu->seg[SEG_CS].limit = cpu->seg[SEG_SS].limit = 0xffff;
    cpu->seg[SEG_CS].attr &= ~DESC_B;
    cpu->seg[SEG_SS].attr &= ~DESC_B;
    cpu_update_mode(cpu);
    cpu->regs[R_ESP] = IVT_STACK;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0x3ff;
}

START_TEST(test_real_mode_ivt)
{
    enter_real_mode();
    pm_wr16(&fx, 0x21 * 4, 0x0123);
    pm_wr16(&fx, 0x21 * 4 + 2, 0x2000);
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_TF | EFLAGS_CF, 0xffffffffu);
    ck_assert_int_eq(try_int(0x21, true, false, 0, 0x0456), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], IVT_STACK - 6);
    ck_assert_uint_eq(pm_rd16(&fx, IVT_STACK - 6), 0x0456);
    ck_assert_uint_eq(pm_rd16(&fx, IVT_STACK - 4), 0x1000);
    uint32_t pushed = pm_rd16(&fx, IVT_STACK - 2);
    ck_assert_uint_eq(pushed & (EFLAGS_IF | EFLAGS_TF | EFLAGS_CF),
                      EFLAGS_IF | EFLAGS_TF | EFLAGS_CF);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x2000);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0x20000);
    ck_assert_uint_eq(cpu->next_eip, 0x0123);
    ck_assert(!(cpu->eflags & (EFLAGS_IF | EFLAGS_TF)));
    ck_assert(cpu->eflags & EFLAGS_CF);
}
END_TEST

START_TEST(test_real_mode_ivt_limit)
{
    enter_real_mode();
    cpu->idtr.limit = 0x85; /* entry 0x21 is 84h..87h */
    ck_assert_int_eq(try_int(0x21, true, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->regs[R_ESP], IVT_STACK);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x1000);
}
END_TEST

/* LIDT with limit 0, then INT3: #GP, #GP again (#DF), then shutdown,
 * through the real run loop (the classic reboot trick). */
START_TEST(test_real_mode_triple_fault_through_run_loop)
{
    enter_real_mode();
    cpu->idtr.limit = 0;
    pm_wr8(&fx, 0x10000 + 0x100, 0xcc); /* INT3 at 1000:0100 */
    cpu->eip = 0x100;
    int reason = cpu_exec(cpu, 10);
    ck_assert_int_eq(reason, CPU_EXIT_RESET);
    ck_assert(cpu->triple_fault);
    ck_assert_int_eq(nseen, 2);
    ck_assert_int_eq(seen[0], EXC_GP);
    ck_assert_int_eq(seen[1], EXC_DF);
}
END_TEST

/* ---- protected mode, same privilege ---- */

START_TEST(test_interrupt_gate_same_privilege)
{
    idt_set(&fx, EXC_GP, int_gate(0x4000, 0));
    uint32_t esp = cpu->regs[R_ESP];
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_TF | EFLAGS_NT | EFLAGS_CF, 0xffffffffu);
    ck_assert_int_eq(try_int(EXC_GP, false, true, 0x1234, 0x00abcdef), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 16);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 16), 0x1234);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 12), 0x00abcdef);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 8) & 0xffff, SEL_CODE0);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 4) & (EFLAGS_IF | EFLAGS_TF | EFLAGS_NT | EFLAGS_CF),
                      EFLAGS_IF | EFLAGS_TF | EFLAGS_NT | EFLAGS_CF);
    ck_assert_uint_eq(cpu->next_eip, 0x4000);
    ck_assert(!(cpu->eflags & (EFLAGS_IF | EFLAGS_TF | EFLAGS_NT)));
    ck_assert(cpu->eflags & EFLAGS_CF);
}
END_TEST

/* Faults push RF=1 (SDM Vol.3 17.3.1.1); software interrupts push RF as it is. */
START_TEST(test_fault_pushes_rf)
{
    idt_set(&fx, EXC_UD, int_gate(0x4000, 0));
    idt_set(&fx, EXC_BP, int_gate(0x4100, 0));
    uint32_t esp = cpu->regs[R_ESP];
    pm_deliver_like_run_loop(cpu, EXC_UD, false, 0);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 4) & EFLAGS_RF, EFLAGS_RF);
    ck_assert(!(cpu->eflags & EFLAGS_RF));
    esp = cpu->regs[R_ESP];
    ck_assert_int_eq(try_int(EXC_BP, true, false, 0, 0x10), -1);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 4) & EFLAGS_RF, 0);
}
END_TEST

START_TEST(test_trap_gate_keeps_if)
{
    idt_set(&fx, 0x40, make_gate(SEL_CODE0, 0x4100, SYS_TRAP_GATE32, 0, 0));
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_TF, 0xffffffffu);
    ck_assert_int_eq(try_int(0x40, true, false, 0, 0x10), -1);
    ck_assert(cpu->eflags & EFLAGS_IF);
    ck_assert(!(cpu->eflags & EFLAGS_TF));
    ck_assert_uint_eq(cpu->next_eip, 0x4100);
}
END_TEST

START_TEST(test_16bit_gate_pushes_words)
{
    idt_set(&fx, 0x41, make_gate(SEL_CODE0, 0x12345, SYS_INT_GATE16, 0, 0));
    uint32_t esp = cpu->regs[R_ESP];
    ck_assert_int_eq(try_int(0x41, false, true, 0xbeef, 0x1122), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 8);
    ck_assert_uint_eq(pm_rd16(&fx, esp - 8), 0xbeef);
    ck_assert_uint_eq(pm_rd16(&fx, esp - 6), 0x1122);
    ck_assert_uint_eq(pm_rd16(&fx, esp - 4), SEL_CODE0);
    ck_assert_uint_eq(cpu->next_eip, 0x2345); /* a 16-bit gate has a 16-bit offset */
}
END_TEST

/* ---- protected mode, inner privilege ---- */

START_TEST(test_interrupt_from_ring3_switches_stack)
{
    idt_set(&fx, 0x80, int_gate(0x4200, 3));
    pm_enter_ring3(&fx);
    cpu->regs[R_ESP] = STACK3_TOP - 0x10;
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_ZF, 0xffffffffu);
    ck_assert_int_eq(try_int(0x80, true, false, 0, 0x999), -1);
    uint32_t sp = STACK0_TOP - 20;
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE0);
    ck_assert_uint_eq(cpu->regs[R_ESP], sp);
    ck_assert_uint_eq(pm_rd32(&fx, sp), 0x999);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 4) & 0xffff, SEL_CODE3);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 8) & (EFLAGS_IF | EFLAGS_ZF), EFLAGS_IF | EFLAGS_ZF);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 12), STACK3_TOP - 0x10);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 16) & 0xffff, SEL_DATA3);
    ck_assert_uint_eq(cpu->next_eip, 0x4200);
    ck_assert_uint_eq(cpu->mmu_idx, MMU_KERNEL);
    ck_assert(!(cpu->eflags & EFLAGS_IF));
}
END_TEST

START_TEST(test_gate_dpl_applies_to_software_interrupts_only)
{
    idt_set(&fx, 0x80, int_gate(0x4200, 0));
    pm_enter_ring3(&fx);
    /* INT 80h from CPL 3 to a DPL-0 gate: #GP(vector*8+2), no EXT. */
    ck_assert_int_eq(try_int(0x80, true, false, 0, 0x999), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x80 * 8 + 2);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK3_TOP);
    /* A hardware interrupt through the same gate is fine. */
    ck_assert_int_eq(try_int(0x80, false, false, 0, 0x999), -1);
    ck_assert_uint_eq(cpu->cpl, 0);
}
END_TEST

START_TEST(test_gate_fault_error_codes)
{
    /* Not present: #NP(vector*8+2+EXT). */
    idt_set(&fx, 0x30, not_present(int_gate(0x4000, 0)));
    ck_assert_int_eq(try_int(0x30, false, false, 0, 0), EXC_NP);
    ck_assert_uint_eq(cpu->exception_error, 0x30 * 8 + 3);
    ck_assert_int_eq(try_int(0x30, true, false, 0, 0), EXC_NP);
    ck_assert_uint_eq(cpu->exception_error, 0x30 * 8 + 2);
    /* Beyond the IDT limit: #GP(vector*8+2+EXT). */
    cpu->idtr.limit = 0x30 * 8 + 6;
    ck_assert_int_eq(try_int(0x30, false, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x30 * 8 + 3);
    cpu->idtr.limit = 256 * 8 - 1;
    /* Not a gate type (a TSS descriptor in the IDT). */
    idt_set(&fx, 0x31, make_desc(0, 0x67, DESC_P | (SYS_TSS32_AVAIL << DESC_TYPE_SHIFT)));
    ck_assert_int_eq(try_int(0x31, false, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x31 * 8 + 3);
    /* Gate to a data segment: #GP(selector + EXT). */
    idt_set(&fx, 0x32, make_gate(SEL_DATA0, 0x4000, SYS_INT_GATE32, 0, 0));
    ck_assert_int_eq(try_int(0x32, false, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_DATA0 | 1);
    /* Gate to a null selector: #GP(EXT). */
    idt_set(&fx, 0x33, make_gate(0, 0x4000, SYS_INT_GATE32, 0, 0));
    ck_assert_int_eq(try_int(0x33, false, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 1);
    /* Handler offset beyond the code limit: #GP(EXT). */
    gdt_set(&fx, GDT_FREE_INDEX,
            make_desc(0, 0xfff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_B));
    idt_set(&fx, 0x34, make_gate(GDT_FREE_INDEX << 3, 0x1000, SYS_INT_GATE32, 0, 0));
    ck_assert_int_eq(try_int(0x34, false, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 1);
    /* Ring-0 stack not present in the TSS's SS0: #SS(SS0 + EXT). */
    gdt_set(&fx, GDT_FREE_INDEX + 1, make_desc(0, 0xfffff, (ATTR_DATA32 & ~DESC_P)));
    pm_wr16(&fx, TSS_A_BASE + 8, (GDT_FREE_INDEX + 1) << 3);
    idt_set(&fx, 0x35, int_gate(0x4000, 3));
    pm_enter_ring3(&fx);
    ck_assert_int_eq(try_int(0x35, false, false, 0, 0), EXC_SS);
    ck_assert_uint_eq(cpu->exception_error, ((GDT_FREE_INDEX + 1) << 3) | 1);
    ck_assert_uint_eq(cpu->cpl, 3);
}
END_TEST

/* ---- vm86 ---- */

static void enter_vm86(void)
{
    cpu_set_eflags(cpu, EFLAGS_VM | EFLAGS_IF | EFLAGS_IOPL, 0xffffffffu);
    static const uint16_t sels[SEG_COUNT] = {0x4000, 0x1000, 0x2000, 0x3000, 0x5000, 0x6000};
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_vm86(cpu, s, sels[s]);
    }
    cpu->regs[R_ESP] = 0xfff0;
    cpu_update_mode(cpu);
}

static void do_iret32(CPUState *c, void *arg)
{
    cpu_iret(c, 4);
}

START_TEST(test_vm86_interrupt_to_ring0_and_iret_back)
{
    idt_set(&fx, EXC_GP, int_gate(0x4300, 0));
    enter_vm86();
    ck_assert_uint_eq(cpu->cpl, 3);
    cpu->eip = 0x0234;
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0);
    ck_assert_int_eq(cpu->delivering_vector, -1);
    uint32_t top = STACK0_TOP;
    ck_assert_uint_eq(cpu->regs[R_ESP], top - 40);
    ck_assert_uint_eq(pm_rd32(&fx, top - 4), 0x6000);  /* GS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 8), 0x5000);  /* FS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 12), 0x3000); /* DS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 16), 0x4000); /* ES */
    ck_assert_uint_eq(pm_rd32(&fx, top - 20), 0x2000); /* SS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 24), 0xfff0); /* ESP */
    ck_assert(pm_rd32(&fx, top - 28) & EFLAGS_VM);     /* EFLAGS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 32), 0x1000); /* CS */
    ck_assert_uint_eq(pm_rd32(&fx, top - 36), 0x0234); /* EIP */
    ck_assert_uint_eq(pm_rd32(&fx, top - 40), 0);      /* error code */
    ck_assert(!(cpu->eflags & EFLAGS_VM));
    ck_assert(!(cpu->hflags & HF_VM));
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->next_eip, 0x4300);
    for (int s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS || s == SEG_SS) {
            continue;
        }
        ck_assert_uint_eq(cpu->seg[s].selector, 0);
        ck_assert(cpu->seg[s].check & SEGCHK_UNUSABLE);
    }

    /* The handler drops the error code and IRETs back into vm86. */
    cpu->regs[R_ESP] += 4;
    ck_assert_int_eq(pm_try(cpu, do_iret32, NULL), -1);
    ck_assert(cpu->hflags & HF_VM);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->next_eip, 0x0234);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0xfff0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0x10000);
    ck_assert_uint_eq(cpu->seg[SEG_SS].base, 0x20000);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0x30000);
    ck_assert_uint_eq(cpu->seg[SEG_ES].base, 0x40000);
    ck_assert_uint_eq(cpu->seg[SEG_FS].base, 0x50000);
    ck_assert_uint_eq(cpu->seg[SEG_GS].base, 0x60000);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xffff);
}
END_TEST

START_TEST(test_vm86_interrupt_needs_ring0_handler)
{
    gdt_set(&fx, GDT_FREE_INDEX, make_desc(0, 0xfffff, ATTR_CODE32 | ATTR_DPL(3)));
    idt_set(&fx, 0x50, make_gate(GDT_FREE_INDEX << 3, 0x10, SYS_INT_GATE32, 3, 0));
    enter_vm86();
    ck_assert_int_eq(try_int(0x50, true, false, 0, 0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, GDT_FREE_INDEX << 3);
    ck_assert(cpu->hflags & HF_VM);
}
END_TEST

START_TEST(test_vm86_iret_needs_iopl3)
{
    enter_vm86();
    cpu_set_eflags(cpu, 0, EFLAGS_IOPL);
    ck_assert_int_eq(pm_try(cpu, do_iret32, NULL), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
}
END_TEST

/* ---- double and triple faults ---- */

START_TEST(test_contributory_during_contributory_is_double_fault)
{
    idt_set(&fx, EXC_GP, not_present(int_gate(0x4000, 0)));
    idt_set(&fx, EXC_DF, int_gate(0x4800, 0));
    uint32_t esp = cpu->regs[R_ESP];
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0x20);
    ck_assert(!cpu->triple_fault);
    ck_assert_int_eq(cpu->delivering_vector, -1);
    ck_assert_uint_eq(cpu->next_eip, 0x4800);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 16);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 16), 0); /* #DF pushes error code 0 */
    ck_assert_int_eq(nseen, 2);
    ck_assert_int_eq(seen[0], EXC_GP);
    ck_assert_int_eq(seen[1], EXC_DF);
}
END_TEST

START_TEST(test_contributory_during_page_fault_is_double_fault)
{
    idt_set(&fx, EXC_PF, not_present(int_gate(0x4000, 0)));
    idt_set(&fx, EXC_DF, int_gate(0x4800, 0));
    pm_deliver_like_run_loop(cpu, EXC_PF, true, 2);
    ck_assert_uint_eq(cpu->next_eip, 0x4800);
    ck_assert_int_eq(nseen, 2);
    ck_assert_int_eq(seen[1], EXC_DF);
}
END_TEST

START_TEST(test_fault_during_benign_is_delivered_serially)
{
    idt_set(&fx, EXC_DB, not_present(int_gate(0x4000, 0)));
    idt_set(&fx, EXC_NP, int_gate(0x4900, 0));
    idt_set(&fx, EXC_DF, int_gate(0x4800, 0));
    uint32_t esp = cpu->regs[R_ESP];
    pm_deliver_like_run_loop(cpu, EXC_DB, false, 0);
    ck_assert_uint_eq(cpu->next_eip, 0x4900);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 16), EXC_DB * 8 + 3);
    ck_assert_int_eq(nseen, 2);
    ck_assert_int_eq(seen[1], EXC_NP);
}
END_TEST

/* Identity-map the first 4 MiB with 4 KiB pages, then unmap one page. */
static void enable_paging_without(uint32_t hole)
{
    const uint32_t pd = 0x10000, pt = 0x11000;
    pm_wr32(&fx, pd, pt | 3);
    for (uint32_t i = 0; i < 1024; i++) {
        pm_wr32(&fx, pt + i * 4, (i << 12) | 3);
    }
    pm_wr32(&fx, pt + (hole >> 12) * 4, 0);
    cpu->cr3 = pd;
    cpu->cr0 |= CR0_PG;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

/* #GP whose frame push page-faults: the #PF is delivered in turn (not a
 * #DF); its own push page-faults: #DF; the #DF push faults: shutdown. */
START_TEST(test_page_fault_chain_to_triple_fault)
{
    idt_set(&fx, EXC_GP, int_gate(0x4000, 0));
    idt_set(&fx, EXC_PF, int_gate(0x4100, 0));
    idt_set(&fx, EXC_DF, int_gate(0x4800, 0));
    cpu->regs[R_ESP] = 0x8008; /* the frame crosses into the unmapped page 7000h */
    enable_paging_without(0x7000);
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0);
    ck_assert(cpu->triple_fault);
    ck_assert_int_eq(nseen, 3);
    ck_assert_int_eq(seen[0], EXC_GP);
    ck_assert_int_eq(seen[1], EXC_PF);
    ck_assert_int_eq(seen[2], EXC_DF);
    ck_assert_int_eq(cpu->delivering_vector, -1);
    ck_assert_uint_eq(cpu->cr2 & ~0xfffu, 0x7000);
    /* Nothing was committed: still at the faulting frame's ESP. */
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x8008);
}
END_TEST

START_TEST(test_exception_has_error)
{
    static const int with_error[] = {EXC_DF, EXC_TS, EXC_NP, EXC_SS, EXC_GP, EXC_PF, EXC_AC};
    static const int without[] = {EXC_DE, EXC_DB, EXC_NMI, EXC_BP, EXC_OF, EXC_BR,
                                  EXC_UD, EXC_NM, EXC_MF,  EXC_MC, EXC_XM};
    for (unsigned i = 0; i < sizeof(with_error) / sizeof(with_error[0]); i++) {
        ck_assert(cpu_exception_has_error(with_error[i]));
    }
    for (unsigned i = 0; i < sizeof(without) / sizeof(without[0]); i++) {
        ck_assert(!cpu_exception_has_error(without[i]));
    }
}
END_TEST

static Suite *interrupt_suite(void)
{
    Suite *s = suite_create("interrupt");
    TCase *tc = tcase_create("real");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_real_mode_ivt);
    tcase_add_test(tc, test_real_mode_ivt_limit);
    tcase_add_test(tc, test_real_mode_triple_fault_through_run_loop);
    suite_add_tcase(s, tc);

    tc = tcase_create("protected");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_interrupt_gate_same_privilege);
    tcase_add_test(tc, test_fault_pushes_rf);
    tcase_add_test(tc, test_trap_gate_keeps_if);
    tcase_add_test(tc, test_16bit_gate_pushes_words);
    tcase_add_test(tc, test_interrupt_from_ring3_switches_stack);
    tcase_add_test(tc, test_gate_dpl_applies_to_software_interrupts_only);
    tcase_add_test(tc, test_gate_fault_error_codes);
    suite_add_tcase(s, tc);

    tc = tcase_create("vm86");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vm86_interrupt_to_ring0_and_iret_back);
    tcase_add_test(tc, test_vm86_interrupt_needs_ring0_handler);
    tcase_add_test(tc, test_vm86_iret_needs_iopl3);
    suite_add_tcase(s, tc);

    tc = tcase_create("double_fault");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_contributory_during_contributory_is_double_fault);
    tcase_add_test(tc, test_contributory_during_page_fault_is_double_fault);
    tcase_add_test(tc, test_fault_during_benign_is_delivered_serially);
    tcase_add_test(tc, test_page_fault_chain_to_triple_fault);
    tcase_add_test(tc, test_exception_has_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(interrupt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
