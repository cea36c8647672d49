/*
 * The light helpers of translator/gen_sys.c and helpers_sys.c: segment
 * loads into ES, DS, FS and GS that stay in their block when the key
 * stays and leave it when it changes, MOV SS still through the callout
 * (faults, its interrupt shadow), RDTSC (CR4.TSD, the count it reads),
 * VERW's ZF, SYSENTER/SYSEXIT with the key worked out from the block's,
 * and MOV r, Sreg and MOV r, CRn as loads from CPUState.  Each program
 * runs translated and on the interpreter, and the states (registers,
 * flags, count, all of RAM with the exception frames) must agree; the
 * statistics show which path ran.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM (4u << 20)

#define SEL_BASED  0x30 /* ring-0 read/write data, base BASED_AT, 4 GiB */
#define SEL_RDONLY 0x38 /* ring-0 read-only data, flat */
#define BASED_AT   0x100000u
#define DATA       0x20000u

static void put_desc(TestVM *vm, uint32_t sel, uint32_t base, uint8_t access)
{
    uint64_t d = 0xffffu | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
                 (uint64_t)0xcf << 48 | (uint64_t)(base >> 24) << 56;
    phys_write(&vm->phys, TESTVM_GDT + sel, (uint32_t)d, 4);
    phys_write(&vm->phys, TESTVM_GDT + sel + 4, (uint32_t)(d >> 32), 4);
}

static TestVM *make_vm(const uint8_t *code, size_t len, int cpl)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, cpl, TESTVM_CODE);
    /* not yet accessed: the load sets the A bit in the GDT (compared) */
    put_desc(vm, SEL_BASED, BASED_AT, 0x92);
    put_desc(vm, SEL_RDONLY, 0, 0x91);
    for (uint32_t i = 0; i < 64; i++) {
        phys_write(&vm->phys, DATA + 4 * i, 0x1000u + i, 4);
        phys_write(&vm->phys, BASED_AT + DATA + 4 * i, 0x2000u + i, 4);
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
    ck_assert_uint_eq(vm->cpu.cpl, ref->cpu.cpl);
    for (int s = 0; s < SEG_COUNT; s++) {
        ck_assert_uint_eq(vm->cpu.seg[s].selector, ref->cpu.seg[s].selector);
        ck_assert_uint_eq(vm->cpu.seg[s].base, ref->cpu.seg[s].base);
        ck_assert_uint_eq(vm->cpu.seg[s].attr, ref->cpu.seg[s].attr);
    }
    ck_assert_int_eq(testvm_last_vector(vm), testvm_last_vector(ref));
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
}

typedef struct Run {
    TestVM *vm, *ref;
    BT *bt;
    int r;
} Run;

/* Run code translated and interpreted for up to n instructions. */
static Run run_both(const uint8_t *code, size_t len, int cpl, uint64_t n, void (*setup)(TestVM *))
{
    Run run;
    run.vm = make_vm(code, len, cpl);
    run.ref = make_vm(code, len, cpl);
    if (setup) {
        setup(run.vm);
        setup(run.ref);
    }
    run.bt = bt_new(&run.vm->cpu, 1u << 20, BT_MODE_RUN);
    run.r = bt_exec(run.bt, n);
    ck_assert_int_eq(testvm_run(run.ref, run.vm->cpu.icount), run.r);
    assert_same(run.vm, run.ref);
    return run;
}

static void run_free(Run *run)
{
    bt_free(run->bt);
    testvm_free(run->vm);
    testvm_free(run->ref);
}

/*
 *   mov eax, 0x10 ; mov ds, ax ; mov es, eax ; mov ebx, [DATA] ; mov ecx, 7 ; hlt
 * DS and ES get the flat selector they hold: two light helpers, and the
 * whole program is one block entered once (MOV Sreg ended its block).
 */
START_TEST(test_seg_load_same_class_stays)
{
    static const uint8_t code[] = {0xb8, 0x10, 0,    0, 0,    0x8e, 0xd8, 0x8e, 0xc0, 0x8b, 0x1d,
                                   0,    0,    0x02, 0, 0xb9, 0x07, 0,    0,    0,    0xf4};
    Run run = run_both(code, sizeof(code), 0, 1000, NULL);
    ck_assert_int_eq(run.r, CPU_EXIT_HALT);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EBX], 0x1000);
    const BTStats *s = bt_stats(run.bt);
    ck_assert_uint_eq(s->helper_insns, 2);
    ck_assert_uint_eq(s->callout_insns, 1); /* HLT */
    ck_assert_uint_eq(s->blocks_translated, 1);
    ck_assert_uint_eq(s->entries, 1);
    run_free(&run);
}
END_TEST

/*
 *   mov eax, SEL_BASED ; mov fs, ax ; mov ebx, fs:[DATA] ; mov ds, ax ;
 *   mov ecx, [DATA+4] ; hlt
 * Each load makes a flat segment based: the key changes, the block must
 * leave after it (the next access adds the base), and the A bit is set.
 */
START_TEST(test_seg_load_key_change_leaves)
{
    static const uint8_t code[] = {0xb8, SEL_BASED, 0,    0, 0,    0x8e, 0xe0, /* mov fs, ax */
                                   0x64, 0x8b,      0x1d, 0, 0,    0x02, 0,    /* mov ebx, fs:[] */
                                   0x8e, 0xd8,                                 /* mov ds, ax */
                                   0x8b, 0x0d,      0x04, 0, 0x02, 0,          /* mov ecx, [] */
                                   0xf4};
    Run run = run_both(code, sizeof(code), 0, 1000, NULL);
    ck_assert_int_eq(run.r, CPU_EXIT_HALT);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EBX], 0x2000);
    ck_assert_uint_eq(run.vm->cpu.regs[R_ECX], 0x2001);
    ck_assert_uint_eq(phys_read(&run.vm->phys, TESTVM_GDT + SEL_BASED + 5, 1), 0x93);
    const BTStats *s = bt_stats(run.bt);
    ck_assert_uint_eq(s->helper_insns, 2);
    ck_assert_uint_eq(s->blocks_translated, 3);
    run_free(&run);
}
END_TEST

/*
 *   push SEL_BASED ; pop fs ; mov ebx, fs:[DATA] ; push 0 ; pop es ;
 *   mov ecx, 5 ; mov eax, es:[DATA]
 * POP FS (light) makes FS based; a null selector into ES loads, and the
 * first access through it raises #GP(0).
 */
START_TEST(test_pop_sreg_and_null_selector)
{
    static const uint8_t code[] = {0x6a, SEL_BASED, 0x0f, 0xa1,                /* push ; pop fs */
                                   0x64, 0x8b,      0x1d, 0,    0,    0x02, 0, /* mov ebx, fs:[] */
                                   0x6a, 0x00,      0x07,                      /* push 0 ; pop es */
                                   0xb9, 0x05,      0,    0,    0,             /* mov ecx, 5 */
                                   0x26, 0xa1,      0,    0,    0x02, 0,       /* mov eax, es:[] */
                                   0xf4};
    Run run = run_both(code, sizeof(code), 0, 1000, NULL);
    ck_assert_int_eq(run.r, CPU_EXIT_HALT);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EBX], 0x2000);
    ck_assert_uint_eq(run.vm->cpu.regs[R_ECX], 5);
    ck_assert_int_eq(testvm_last_vector(run.vm), EXC_GP);
    ck_assert_uint_eq(run.vm->cpu.seg[SEG_ES].selector, 0);
    ck_assert_uint_eq(bt_stats(run.bt)->helper_insns, 2);
    run_free(&run);
}
END_TEST

/*
 *   mov eax, SEL_BASED ; mov fs, ax ; mov ebx, fs:[DATA] ; mov fs, ax
 *   mov byte [GDT + SEL_BASED + 4], 0 ; mov fs, ax ; mov ecx, fs:[DATA]
 *   push eax ; pop fs ; mov edx, fs:[DATA+4] ; hlt
 * The second MOV FS and the POP FS change nothing and return from their
 * helper at once (seg_load_data_is_noop); the third follows the guest's
 * store to the descriptor (base 100000h -> 0) as the interpreter does.
 */
START_TEST(test_seg_reload_noop_and_changed_descriptor)
{
    static const uint8_t code[] = {
        0xb8, SEL_BASED, 0, 0, 0, 0x8e, 0xe0,             /* mov eax, SEL_BASED ; mov fs, ax */
        0x64, 0x8b, 0x1d, 0, 0, 0x02, 0, 0x8e, 0xe0,      /* mov ebx, fs:[DATA] ; mov fs, ax */
        0xc6, 0x05, (TESTVM_GDT + SEL_BASED + 4) & 0xff, (TESTVM_GDT + SEL_BASED + 4) >> 8, 0, 0,
        0x00,                                             /* mov byte [base 23:16], 0 */
        0x8e, 0xe0, 0x64, 0x8b, 0x0d, 0, 0, 0x02, 0,      /* mov fs, ax ; mov ecx, fs:[DATA] */
        0x50, 0x0f, 0xa1,                                 /* push eax ; pop fs */
        0x64, 0x8b, 0x15, 0x04, 0, 0x02, 0, 0xf4,         /* mov edx, fs:[DATA+4] ; hlt */
    };
    Run run = run_both(code, sizeof(code), 0, 1000, NULL);
    ck_assert_int_eq(run.r, CPU_EXIT_HALT);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EBX], 0x2000);
    ck_assert_uint_eq(run.vm->cpu.regs[R_ECX], 0x1000);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EDX], 0x1001);
    ck_assert_uint_eq(run.vm->cpu.seg[SEG_FS].base, 0);
    ck_assert_uint_eq(bt_stats(run.bt)->helper_insns, 4);
    run_free(&run);
}
END_TEST

/*
 * Loads that fault, each exactly as the interpreter (vector, error code
 * in the frame, EIP, nothing loaded):
 *   MOV DS with the ring-0 data selector at CPL 3 (DPL < CPL), light;
 *   MOV SS with a read-only data selector, and with a ring-3 selector at
 *   CPL 0 (RPL and DPL not CPL), through the callout.
 */
static const uint8_t fault_ds3[] = {0xb8, 0x10, 0, 0, 0, 0x8e, 0xd8, 0xf4};
static const uint8_t fault_ss_ro[] = {0xb8, SEL_RDONLY, 0, 0, 0, 0x8e, 0xd0, 0xf4};
static const uint8_t fault_ss_dpl[] = {0xb8, 0x23, 0, 0, 0, 0x8e, 0xd0, 0xf4};

START_TEST(test_seg_load_faults)
{
    static const struct {
        const uint8_t *code;
        int cpl;
    } cases[] = {{fault_ds3, 3}, {fault_ss_ro, 0}, {fault_ss_dpl, 0}};
    int i = _i;
    Run run = run_both(cases[i].code, 8, cases[i].cpl, 1000, NULL);
    ck_assert_int_eq(testvm_last_vector(run.vm), EXC_GP);
    ck_assert_uint_eq(run.vm->cpu.seg[SEG_DS].selector, cases[i].cpl ? 0x23 : 0x10);
    ck_assert_uint_eq(run.vm->cpu.seg[SEG_SS].selector, 0x10);
    run_free(&run);
}
END_TEST

/* A device that raises INTR with vector 0x40 once. */
static int dev_ack(void *opaque)
{
    CPUState *cpu = opaque;
    cpu_clear_interrupt(cpu, CPU_INTERRUPT_HARD);
    return 0x40;
}

static void irq_waiting(TestVM *vm)
{
    vm->cpu.hooks.opaque = &vm->cpu;
    vm->cpu.hooks.irq_ack = dev_ack;
    vm->cpu.eflags |= EFLAGS_IF;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
}

/*
 *   mov eax, 0x10 ; mov ss, ax ; mov esp, 0x6000 ; mov ebx, 1 ; hlt
 * with an interrupt waiting from the start, IF set: it is taken before
 * MOV EAX; then, once the handler's frame is set up, the program is
 * rerun from its start with another interrupt waiting, which must wait
 * out MOV SS's shadow: its frame lands on the new stack (ESP 6000h).
 */
START_TEST(test_mov_ss_shadow)
{
    static const uint8_t code[] = {0xb8, 0x10, 0, 0,    0,    0x8e, 0xd0, 0xbc, 0x00,
                                   0x60, 0,    0, 0xbb, 0x01, 0,    0,    0,    0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0);
    TestVM *ref = make_vm(code, sizeof(code), 0);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    /* the first two instructions, then the interrupt arrives */
    ck_assert_int_eq(bt_exec(bt, 2), CPU_EXIT_BUDGET);
    ck_assert_int_eq(testvm_run(ref, 2), CPU_EXIT_BUDGET);
    assert_same(vm, ref);
    ck_assert_int_eq(vm->cpu.inhibit_irq, 1);
    irq_waiting(vm);
    irq_waiting(ref);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
    assert_same(vm, ref);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    ck_assert_uint_eq(vm->cpu.regs[R_ESP], 0x6000 - 12);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

static void set_tsd(TestVM *vm)
{
    vm->cpu.cr4 |= CR4_TSD;
    cpu_update_mode(&vm->cpu);
}

/*
 *   mov ecx, 3 ; rdtsc ; mov ebx, eax ; mov esi, edx ; rdtsc ; hlt
 * At CPL 0 (CR4.TSD set or not) RDTSC reads the count-based TSC (the test
 * machine has no clock): both values must be the interpreter's, so the
 * count is exact at each.  At CPL 3 with CR4.TSD it raises #GP(0) (the
 * callout), without it it reads the TSC.
 */
START_TEST(test_rdtsc)
{
    static const uint8_t code[] = {0xb9, 0x03, 0,    0,    0,    0x0f, 0x31, 0x89,
                                   0xc3, 0x89, 0xd6, 0x0f, 0x31, 0xf4, 0xeb, 0xfe};
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        for (int tsd = 0; tsd <= 1; tsd++) {
            Run run = run_both(code, sizeof(code), cpl, cpl ? 50 : 1000, tsd ? set_tsd : NULL);
            const BTStats *s = bt_stats(run.bt);
            if (cpl && tsd) {
                ck_assert_int_eq(testvm_last_vector(run.vm), EXC_GP);
                ck_assert_uint_eq(run.vm->cpu.regs[R_ECX], 3);
                ck_assert_uint_eq(s->helper_insns, 0);
            } else {
                ck_assert_int_eq(testvm_last_vector(run.vm), cpl ? EXC_GP : -1); /* HLT at 3 */
                ck_assert_uint_eq(s->helper_insns, 2);
                ck_assert_uint_ne(run.vm->cpu.regs[R_EBX], run.vm->cpu.regs[R_EAX]);
            }
            run_free(&run);
        }
    }
}
END_TEST

/*
 *   stc ; verw [DATA+0x100] ; setz al ; setc ah ; mov ebx, eax ... ; hlt
 * for the flat writable selector (ZF 1), read-only data, code, a null
 * selector and one past the GDT (ZF 0); CF kept.  The selector is
 * stored at DATA+0x100 first.
 */
START_TEST(test_verw)
{
    static const uint8_t code[] = {0xf9, 0x0f, 0x00, 0x2d, 0x00, 0x01, 0x02, 0x00, /* verw [] */
                                   0x0f, 0x94, 0xc0, 0x0f, 0x92, 0xc4, 0xf4};
    static const uint16_t sels[] = {0x10, SEL_RDONLY, 0x08, 0x00, 0x40, 0x23};
    for (size_t i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
        TestVM *vm = make_vm(code, sizeof(code), 0);
        TestVM *ref = make_vm(code, sizeof(code), 0);
        phys_write(&vm->phys, DATA + 0x100, sels[i], 2);
        phys_write(&ref->phys, DATA + 0x100, sels[i], 2);
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
        ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
        assert_same(vm, ref);
        bool writable = sels[i] == 0x10 || sels[i] == 0x23;
        ck_assert_uint_eq(vm->cpu.regs[R_EAX] & 0xffff, writable ? 0x0101 : 0x0100);
        ck_assert_uint_eq(bt_stats(bt)->helper_insns, 1);
        bt_free(bt);
        testvm_free(vm);
        testvm_free(ref);
    }
}
END_TEST

#define KERNEL_ENTRY 0x11000u
#define USER_BACK    0x10100u

static void sysenter_msrs(TestVM *vm)
{
    static const uint8_t kernel[] = {0xbb, 0x05, 0,    0,    0,        /* mov ebx, 5 */
                                     0xba, 0x00, 0x01, 0x01, 0x00,     /* mov edx, USER_BACK */
                                     0x89, 0xe9,                       /* mov ecx, ebp */
                                     0xfb,                             /* sti */
                                     0x0f, 0x35};                      /* sysexit */
    static const uint8_t user_back[] = {0x46,                          /* inc esi */
                                        0xe9, 0xfa, 0xfe, 0xff, 0xff}; /* jmp TESTVM_CODE */
    testvm_load(vm, KERNEL_ENTRY, kernel, sizeof(kernel));
    testvm_load(vm, USER_BACK, user_back, sizeof(user_back));
    vm->cpu.sysenter_cs = TESTVM_SEL_CODE0;
    vm->cpu.sysenter_esp = 0x6000;
    vm->cpu.sysenter_eip = KERNEL_ENTRY;
}

/*
 *   user: mov ebp, esp ; sysenter
 *   kernel: mov ebx, 5 ; mov edx, USER_BACK ; mov ecx, ebp ; sti ; sysexit
 *   user: inc esi ; jmp user
 * 100 round trips (9 instructions each) through the light door helpers,
 * in translated code once the jump cache knows both sides (a handful of
 * entries from the run loop for all of them), with the right CPL,
 * segments and key, and agreeing with the interpreter.  SYSEXIT at CPL 3
 * raises #GP(0).
 */
START_TEST(test_sysenter_sysexit)
{
    static const uint8_t code[] = {0x89, 0xe5, 0x0f, 0x34};
    Run run = run_both(code, sizeof(code), 3, 900, sysenter_msrs);
    ck_assert_uint_eq(run.vm->cpu.cpl, 3);
    ck_assert_uint_eq(run.vm->cpu.eip, TESTVM_CODE);
    ck_assert_uint_eq(run.vm->cpu.regs[R_ESI], 100);
    ck_assert_uint_eq(run.vm->cpu.regs[R_EBX], 5);
    ck_assert_uint_eq(run.vm->cpu.eflags & EFLAGS_IF, EFLAGS_IF);
    const BTStats *s = bt_stats(run.bt);
    ck_assert_uint_eq(s->helper_insns, 200);
    ck_assert_uint_eq(s->callout_insns, 0);
    ck_assert_uint_le(s->entries, 5);
    /* The key the doors left is the one the run loop computes. */
    ck_assert_uint_eq(run.vm->cpu.bt_tag_hi >> 32, bt_block_key(&run.vm->cpu));
    run_free(&run);

    static const uint8_t sysexit3[] = {0xb9, 0x01, 0, 0, 0, 0x0f, 0x35, 0xeb, 0xfe};
    Run bad = run_both(sysexit3, sizeof(sysexit3), 3, 50, sysenter_msrs);
    ck_assert_int_eq(testvm_last_vector(bad.vm), EXC_GP);
    ck_assert_uint_eq(bad.vm->cpu.regs[R_ECX], 1);
    ck_assert_uint_eq(bad.vm->cpu.cpl, 0);
    run_free(&bad);
}
END_TEST

static void set_crs(TestVM *vm)
{
    vm->cpu.cr2 = 0x12345678u;
    vm->cpu.cr3 = 0x5000u;
    vm->cpu.cr4 |= CR4_TSD;
    vm->cpu.regs[R_EBX] = 0xaaaabbbbu;
}

/*
 *   mov eax, SEL_BASED ; mov fs, ax ; mov eax, fs ; mov bx, ds ; mov esi, es ;
 *   mov ecx, cr0 ; mov edx, cr3 ; mov edi, cr4 ; mov ebp, cr2 ; hlt
 * The selector and CR reads are loads from CPUState in one block (a CR
 * read no longer ends it): only HLT is a callout, MOV BX keeps EBX's top
 * half.  At CPL 3 the first CR read raises #GP(0); CR5 is #UD.
 */
START_TEST(test_sreg_and_cr_reads)
{
    static const uint8_t code[] = {0xb8, SEL_BASED, 0,    0,    0,    0x8e, 0xe0, /* mov fs, ax */
                                   0x8c, 0xe0,      0x66, 0x8c, 0xdb, 0x8c, 0xc6, 0x0f, 0x20, 0xc1,
                                   0x0f, 0x20,      0xda, 0x0f, 0x20, 0xe7, 0x0f, 0x20, 0xd5, 0xf4};
    Run run = run_both(code, sizeof(code), 0, 1000, set_crs);
    CPUState *cpu = &run.vm->cpu;
    ck_assert_int_eq(run.r, CPU_EXIT_HALT);
    ck_assert_uint_eq(cpu->regs[R_EAX], SEL_BASED);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0xaaaa0010u);
    ck_assert_uint_eq(cpu->regs[R_ESI], 0x10);
    ck_assert_uint_eq(cpu->regs[R_ECX], cpu->cr0);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x5000);
    ck_assert_uint_eq(cpu->regs[R_EDI], cpu->cr4);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x12345678u);
    const BTStats *s = bt_stats(run.bt);
    ck_assert_uint_eq(s->callout_insns, 1);
    ck_assert_uint_eq(s->helper_insns, 1);
    ck_assert_uint_eq(s->blocks_translated, 2);
    run_free(&run);

    static const uint8_t user[] = {0x8c, 0xe0, 0x0f, 0x20, 0xc1, 0xeb, 0xfe};
    Run r3 = run_both(user, sizeof(user), 3, 50, set_crs);
    ck_assert_int_eq(testvm_last_vector(r3.vm), EXC_GP);
    ck_assert_uint_eq(r3.vm->cpu.regs[R_EAX], 0x23);
    run_free(&r3);

    static const uint8_t cr5[] = {0x0f, 0x20, 0xe8, 0xf4};
    Run ud = run_both(cr5, sizeof(cr5), 0, 50, NULL);
    ck_assert_int_eq(testvm_last_vector(ud.vm), EXC_UD);
    run_free(&ud);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator_sys");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_seg_load_same_class_stays);
    tcase_add_test(tc, test_seg_load_key_change_leaves);
    tcase_add_test(tc, test_seg_reload_noop_and_changed_descriptor);
    tcase_add_test(tc, test_pop_sreg_and_null_selector);
    tcase_add_loop_test(tc, test_seg_load_faults, 0, 3);
    tcase_add_test(tc, test_mov_ss_shadow);
    tcase_add_test(tc, test_rdtsc);
    tcase_add_test(tc, test_verw);
    tcase_add_test(tc, test_sysenter_sysexit);
    tcase_add_test(tc, test_sreg_and_cr_reads);
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
