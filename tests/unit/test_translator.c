/*
 * The binary translator's contract, one behaviour at a time: precise
 * faults (registers, EFLAGS pushed, CR2 and error code as the SDM defines
 * them, Vol.3 6.12 and 4.7), exact instruction counts across any slicing,
 * interrupts and exit requests reaching translated loops, the code cache
 * flushing when full, W^X, DF kept out of the host, and the lockstep check
 * catching a block that computes the wrong thing but not one whose only
 * differences derive from results the SDM leaves undefined.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/ioport.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/bt_internal.h"

#define RAM      (4u << 20)
#define UNMAPPED 0x30000u
#define READONLY 0x31000u

static TestVM *make_vm(const uint8_t *code, size_t len, int cpl, bool paging)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, cpl, TESTVM_CODE);
    if (paging) {
        testvm_paged32(vm, UNMAPPED, READONLY);
    }
    return vm;
}

static uint32_t ram32(TestVM *vm, uint32_t paddr)
{
    return phys_read(&vm->phys, paddr, 4);
}

/*
 *   mov eax, 1 ; mov ebx, 2 ; cmp eax, ebx ; mov ecx, [UNMAPPED] ; mov edx, 4 ; jmp $
 * The load faults; everything before it is done, nothing after it.
 */
START_TEST(test_page_fault_is_precise)
{
    static const uint8_t code[] = {0xb8, 0x01, 0,    0,    0,    0xbb, 0x02, 0,    0,
                                   0,    0x39, 0xd8, 0x8b, 0x0d, 0x00, 0x00, 0x03, 0x00,
                                   0xba, 0x04, 0,    0,    0,    0xeb, 0xfe};
    TestVM *vm = make_vm(code, sizeof(code), 0, true);
    vm->cpu.regs[R_ECX] = 0x11111111;
    vm->cpu.regs[R_EDX] = 0x22222222;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    CPUState *cpu = &vm->cpu;
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(cpu->cr2, UNMAPPED);
    ck_assert_uint_eq(cpu->regs[R_EAX], 1);
    ck_assert_uint_eq(cpu->regs[R_EBX], 2);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x11111111);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x22222222);
    /* Ring-0 frame (SDM Vol.3 6.12.1): error code, EIP, CS, EFLAGS. */
    uint32_t sp = cpu->regs[R_ESP];
    ck_assert_uint_eq(ram32(vm, sp), 0); /* not present, read, supervisor */
    ck_assert_uint_eq(ram32(vm, sp + 4), TESTVM_CODE + 12);
    ck_assert_uint_eq(ram32(vm, sp + 8), TESTVM_SEL_CODE0);
    /* 1 - 2: CF (borrow), AF (borrow from bit 4), SF, PF (0xff has 8 ones); not ZF, OF. */
    ck_assert_uint_eq(ram32(vm, sp + 12) & EFLAGS_ARITH,
                      EFLAGS_CF | EFLAGS_AF | EFLAGS_SF | EFLAGS_PF);
    /* mov, mov, cmp, the faulting load, then the stub's mov and hlt. */
    ck_assert_uint_eq(cpu->icount, 6);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * REP MOVS and REP STOS run inline when the whole instruction stays in
 * one source and one destination page (translator/gen_string.c); one that
 * reaches an unmapped page takes the helper, which does the elements
 * before the page and faults with ESI, EDI and ECX counting exactly those.
 *   a: mov eax, [0x2fff8] ; mov [0x20000], eax (the TLB entries the inline
 *      path needs) ; mov esi, 0x2fff8 ; mov edi, 0x20000 ; mov ecx, 16 ;
 *      rep movsb ; jmp $
 *   b: mov [0x2fff8], eax ; mov edi, 0x2fff8 ; mov ecx, 4 ;
 *      mov eax, 0x11223344 ; rep stosd ; jmp $
 *   c: (mov esi, 0x20000 ; mov edi, 0x20100 ; mov ecx, 8 ; rep movsd) twice ; hlt
 * The first REP MOVSD of c finds the TLB empty and takes the helper, which
 * fills it; the second runs inline.
 */
START_TEST(test_rep_string_inline_and_page_end)
{
    static const uint8_t a[] = {0xa1, 0xf8, 0xff, 0x02, 0x00, 0xa3, 0x00, 0x00, 0x02, 0x00,
                                0xbe, 0xf8, 0xff, 0x02, 0x00, 0xbf, 0x00, 0x00, 0x02, 0x00,
                                0xb9, 0x10, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xeb, 0xfe};
    static const uint8_t b[] = {0xa3, 0xf8, 0xff, 0x02, 0x00,
                                0xbf, 0xf8, 0xff, 0x02, 0x00, 0xb9, 0x04, 0x00, 0x00, 0x00,
                                0xb8, 0x44, 0x33, 0x22, 0x11, 0xf3, 0xab, 0xeb, 0xfe};
    static const uint8_t c[] = {0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x00, 0x01, 0x02, 0x00,
                                0xb9, 0x08, 0x00, 0x00, 0x00, 0xf3, 0xa5, 0xbe, 0x00, 0x00,
                                0x02, 0x00, 0xbf, 0x00, 0x01, 0x02, 0x00, 0xb9, 0x08, 0x00,
                                0x00, 0x00, 0xf3, 0xa5, 0xf4};
    TestVM *vm = make_vm(a, sizeof(a), 0, true);
    for (uint32_t i = 0; i < 8; i++) {
        phys_write(&vm->phys, 0x2fff8 + i, 0xa0 + i, 1);
    }
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.cr2, UNMAPPED);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], UNMAPPED);
    ck_assert_uint_eq(vm->cpu.regs[R_EDI], 0x20008);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 8);
    ck_assert_uint_eq(ram32(vm, 0x20004), 0xa7a6a5a4u);
    ck_assert_uint_eq(phys_read(&vm->phys, 0x20008, 1), 0);
    bt_free(bt);
    testvm_free(vm);

    vm = make_vm(b, sizeof(b), 0, true);
    bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.cr2, UNMAPPED);
    ck_assert_uint_eq(vm->cpu.regs[R_EDI], UNMAPPED);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 2);
    ck_assert_uint_eq(ram32(vm, 0x2fff8), 0x11223344u);
    ck_assert_uint_eq(ram32(vm, 0x2fffc), 0x11223344u);
    bt_free(bt);
    testvm_free(vm);

    vm = make_vm(c, sizeof(c), 0, true);
    for (uint32_t i = 0; i < 32; i++) {
        phys_write(&vm->phys, 0x20000 + i, 0x10 + i, 1);
    }
    bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], 0x20020);
    ck_assert_uint_eq(vm->cpu.regs[R_EDI], 0x20120);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
    ck_assert_uint_eq(ram32(vm, 0x2011c), 0x2f2e2d2cu);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 2); /* the first REP MOVSD and HLT */
    ck_assert_uint_eq(vm->cpu.icount, 9);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* A ring-3 store to a read-only page: #PF with P|W|U and the old registers. */
START_TEST(test_write_fault_ring3)
{
    /* mov edi, READONLY+8 ; mov eax, 7 ; add dword [edi], eax ; jmp $ */
    static const uint8_t code[] = {0xbf, 0x08, 0x10, 0x03, 0x00, 0xb8, 0x07,
                                   0,    0,    0,    0x01, 0x07, 0xeb, 0xfe};
    TestVM *vm = make_vm(code, sizeof(code), 3, true);
    phys_write(&vm->phys, READONLY + 8, 1000, 4);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.cr2, READONLY + 8);
    ck_assert_uint_eq(ram32(vm, READONLY + 8), 1000);
    /* The handler runs on the ring-0 stack: error code then EIP. */
    uint32_t sp = vm->cpu.regs[R_ESP];
    ck_assert_uint_eq(ram32(vm, sp), PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(ram32(vm, sp + 4), TESTVM_CODE + 10);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * DIV/IDIV r/m32 run natively only when they cannot fault: every way they
 * can (SDM Vol.2 DIV, IDIV) still gives #DE with the registers untouched
 * and the divide's own EIP pushed, and the forms that do not fault divide.
 *   <div or idiv> ; jmp $
 */
START_TEST(test_divide_faults_exactly)
{
    static const struct {
        uint8_t modrm;  /* F7 /6 (div) or /7 (idiv), register in rm */
        uint32_t eax, edx, ecx;
        bool de;
        uint32_t q, r; /* EAX, EDX afterwards when it does not fault */
    } cases[] = {
        {0xf1, 10, 0, 0, true, 0, 0},                              /* div ecx: by zero */
        {0xf1, 0, 5, 5, true, 0, 0},                               /* div ecx: quotient >= 2^32 */
        {0xf2, 1, 3, 0, true, 0, 0},                               /* div edx: always overflows */
        {0xf1, 100, 1, 7, false, 0x24924932, 6},                   /* div ecx: (2^32 + 100) / 7 */
        {0xf9, 0x80000000u, 0xffffffffu, 0xffffffffu, true, 0, 0}, /* idiv ecx: INT_MIN / -1 */
        {0xf9, 7, 0, 0, true, 0, 0},                               /* idiv ecx: by zero */
        {0xf9, 0xfffffff9u, 0xffffffffu, 2, false, 0xfffffffdu, 0xffffffffu}, /* -7 / 2 */
        {0xf9, 0, 1, 4, false, 0x40000000u, 0},      /* 2^32 / 4: not sign-extended */
        {0xf9, 0, 1, 1, true, 0, 0},                 /* 2^32 / 1 does not fit */
        {0xf9, 0x80000000u, 0xffffffffu, 1, false, 0x80000000u, 0}, /* INT_MIN / 1 */
    };
    /* Each case with the divisor in a register, then (ECX cases) in memory:
     * div/idiv dword [0x20000]. */
    for (size_t k = 0; k < 2 * sizeof(cases) / sizeof(cases[0]); k++) {
        size_t i = k / 2;
        bool mem = k % 2;
        if (mem && (cases[i].modrm & 7) != 1) {
            continue;
        }
        uint8_t code[] = {0xf7, cases[i].modrm, 0xeb, 0xfe, 0, 0, 0, 0};
        size_t len = 4;
        if (mem) {
            static const uint8_t tail[] = {0x00, 0x00, 0x02, 0x00, 0xeb, 0xfe};
            code[1] = (uint8_t)((cases[i].modrm & 0x38) | 5); /* mod 0, rm 5: [disp32] */
            memcpy(code + 2, tail, sizeof(tail));
            len = 8;
        }
        TestVM *vm = make_vm(code, len, 0, false);
        CPUState *cpu = &vm->cpu;
        cpu->regs[R_EAX] = cases[i].eax;
        cpu->regs[R_EDX] = cases[i].edx;
        cpu->regs[R_ECX] = cases[i].ecx;
        phys_write(&vm->phys, 0x20000, cases[i].ecx, 4);
        BT *bt = bt_new(cpu, 1u << 20, BT_MODE_RUN);
        int reason = bt_exec(bt, 50);
        if (cases[i].de) {
            ck_assert_msg(reason == CPU_EXIT_HALT && testvm_last_vector(vm) == EXC_DE,
                          "case %zu%s: no #DE", i, mem ? " (memory)" : "");
            ck_assert_uint_eq(cpu->regs[R_EAX], cases[i].eax);
            ck_assert_uint_eq(cpu->regs[R_EDX], cases[i].edx);
            ck_assert_uint_eq(ram32(vm, cpu->regs[R_ESP]), TESTVM_CODE); /* faults: its own EIP */
        } else {
            ck_assert_msg(reason == CPU_EXIT_BUDGET, "case %zu%s: stopped (%d)", i,
                          mem ? " (memory)" : "", reason);
            ck_assert_msg(cpu->regs[R_EAX] == cases[i].q && cpu->regs[R_EDX] == cases[i].r,
                          "case %zu%s: %08x:%08x", i, mem ? " (memory)" : "",
                          (uint32_t)cpu->regs[R_EDX], (uint32_t)cpu->regs[R_EAX]);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * A loop with calls, memory and a data-dependent branch, run in slices of
 * 1, 2, ... 23 instructions: the state after every slice boundary matches the
 * interpreter run to the same count.
 *   mov ecx, 400 ; L: mov edx, ecx ; and edx, 3 ; jz S ; call F ; S: dec ecx ; jnz L ; jmp $
 *   F: push ebx ; add [0x20000], ecx ; pop ebx ; ret
 */
static const uint8_t slice_code[] = {
    0xb9, 0x90, 0x01, 0,    0,    0x89, 0xca, 0x83, 0xe2, 0x03, 0x74, 0x05, 0xe8, 0x05, 0,   0,
    0,    0x49, 0x75, 0xf1, 0xeb, 0xfe, 0x53, 0x01, 0x0d, 0x00, 0x00, 0x02, 0x00, 0x5b, 0xc3};

START_TEST(test_exact_counts_in_slices)
{
    TestVM *ref = make_vm(slice_code, sizeof(slice_code), 0, false);
    TestVM *vm = make_vm(slice_code, sizeof(slice_code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    for (uint64_t slice = 1; vm->cpu.icount < 3000; slice = slice % 23 + 1) {
        ck_assert_int_eq(bt_exec(bt, slice), CPU_EXIT_BUDGET);
        ck_assert_int_eq(cpu_exec(&ref->cpu, vm->cpu.icount - ref->cpu.icount), CPU_EXIT_BUDGET);
        ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
        ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
        ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    }
    ck_assert_uint_eq(ram32(vm, 0x20000), ram32(ref, 0x20000));
    ck_assert_uint_gt(bt_stats(bt)->chains, 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* A device whose 10th read raises the interrupt line, or whose write asks to exit. */
typedef struct Device {
    CPUState *cpu;
    int reads;
    int acks;
} Device;

static uint32_t dev_read(void *opaque, uint32_t offset, int size)
{
    Device *d = opaque;
    if (++d->reads == 10) {
        cpu_set_interrupt(d->cpu, CPU_INTERRUPT_HARD);
    }
    return 0;
}

static void dev_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    Device *d = opaque;
    cpu_set_interrupt(d->cpu, CPU_INTERRUPT_EXIT);
}

static const MMIOOps dev_ops = {dev_read, dev_write};

static int dev_ack(void *opaque)
{
    Device *d = opaque;
    d->acks++;
    cpu_clear_interrupt(d->cpu, CPU_INTERRUPT_HARD);
    return 0x40;
}

/* sti ; L: mov eax, [0xe0000000] ; jmp L -- a chained loop the interrupt must break into. */
START_TEST(test_interrupt_reaches_translated_loop)
{
    static const uint8_t code[] = {0xfb, 0xa1, 0x00, 0x00, 0x00, 0xe0, 0xeb, 0xf9};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    Device dev = {&vm->cpu, 0, 0};
    phys_map_mmio(&vm->phys, 0xe0000000u, 0x1000, &dev_ops, &dev, 1);
    vm->cpu.hooks.opaque = &dev;
    vm->cpu.hooks.irq_ack = dev_ack;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(testvm_last_vector(vm), 0x40);
    ck_assert_int_eq(dev.acks, 1);
    /* Taken at the next block boundary: at most one more read after the 10th. */
    ck_assert_int_le(dev.reads, 11);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * cli ; mov ecx, 100000 ; mov edi, 0x40000 ; rep stosb ; hlt, with INTR
 * raised while IF is clear: a masked interrupt must cost nothing.  REP
 * STOS keeps its full batches (it once broke after every element while any
 * request was pending, sending a CLI section back to the run loop 18
 * million times a second), and raising INTR does not make translated code
 * leave.
 */
static const uint8_t cli_rep_stos[] = {0xfa, 0xb9, 0xa0, 0x86, 0x01, 0x00, 0xbf, 0x00,
                                       0x00, 0x04, 0x00, 0xf3, 0xaa, 0xf4};

static void count_insn(void *opaque, CPUState *cpu, const struct Insn *insn)
{
    (*(int *)opaque)++;
}

START_TEST(test_masked_interrupt_costs_nothing)
{
    TestVM *vm = make_vm(cli_rep_stos, sizeof(cli_rep_stos), 0, false);
    Device dev = {&vm->cpu, 0, 0};
    vm->cpu.hooks.opaque = &dev;
    vm->cpu.hooks.irq_ack = dev_ack;
    vm->cpu.eflags &= ~EFLAGS_IF;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
    ck_assert_int_eq(vm->cpu.bt_exit_request, 0);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
    ck_assert_uint_eq(ram32(vm, 0x40000 + 99996), 0);
    ck_assert_int_eq(dev.acks, 0);
    /* 100000 elements are 25 batches of 4096: a few dozen entries at most. */
    ck_assert_uint_le(bt_stats(bt)->entries, 40);
    bt_free(bt);
    testvm_free(vm);

    /* The interpreter: the same batches, so the same instruction count. */
    vm = make_vm(cli_rep_stos, sizeof(cli_rep_stos), 0, false);
    int steps = 0;
    vm->cpu.hooks.observer = &steps;
    vm->cpu.hooks.on_insn = count_insn;
    vm->cpu.hooks.opaque = &dev;
    vm->cpu.hooks.irq_ack = dev_ack;
    vm->cpu.eflags &= ~EFLAGS_IF;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
    ck_assert_int_eq(cpu_exec(&vm->cpu, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
    ck_assert_int_le(steps, 40);
    testvm_free(vm);
}
END_TEST

/*
 * mov ecx, 10 ; L: in al, 80h ; loop L ; hlt -- the callout census counts
 * IN ten times as a callout (POP m32, which it used before, is native now,
 * as PUSH m32 is, and RDTSC is a light helper), and HLT once.
 */
START_TEST(test_callout_census)
{
    static const uint8_t code[] = {0xb9, 0x0a, 0x00, 0x00, 0x00, 0xe4, 0x80, 0xe2, 0xfc, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    Insn port_in;
    ck_assert_int_eq(decode_insn(&port_in, code + 5, sizeof(code) - 5, true), DECODE_OK);
    const BTStats *s = bt_stats(bt);
    ck_assert_uint_eq(s->census_callout[insn_form(&port_in)], 10);
    ck_assert_uint_eq(s->callout_insns, 11);
    char name[40];
    insn_form_name(insn_form(&port_in), name, sizeof(name));
    ck_assert_str_eq(name, "IN r8");
    Insn hlt;
    ck_assert_int_eq(decode_insn(&hlt, code + 9, 1, true), DECODE_OK);
    ck_assert_uint_eq(s->census_callout[insn_form(&hlt)] + s->census_interp[insn_form(&hlt)], 1);
    insn_form_name(insn_form(&hlt), name, sizeof(name));
    ck_assert_str_eq(name, "HLT r32");
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * Return prediction: mov ecx, 1000 ; L: call f ; dec ecx ; jnz L ; hlt ;
 * f: inc eax ; ret -- every RET but the first few finds its prediction; and
 * a RET to an address the callee rewrote (f2: mov dword [esp], L2 ; ret)
 * misses it and still lands where the stack says.
 */
START_TEST(test_return_prediction)
{
    static const uint8_t code[] = {0xb9, 0xe8, 0x03, 0x00, 0x00, /* mov ecx, 1000 */
                                   0xe8, 0x04, 0x00, 0x00, 0x00, /* L: call f */
                                   0x49,                         /* dec ecx */
                                   0x75, 0xf8,                   /* jnz L */
                                   0xf4,                         /* hlt */
                                   0x40, 0xc3};                  /* f: inc eax ; ret */
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1000);
    const BTStats *s = bt_stats(bt);
    ck_assert_uint_eq(s->ret_total, 1000);
    ck_assert_uint_le(s->ret_miss, 2);
    bt_free(bt);
    testvm_free(vm);

    /* call f2 ; hlt ; L2: mov ebx, 7 ; hlt ; f2: mov dword [esp], L2 ; ret */
    static const uint8_t rewrite[] = {0xe8, 0x07, 0x00, 0x00, 0x00,       /* call f2 */
                                      0xf4,                               /* hlt (skipped) */
                                      0xbb, 0x07, 0x00, 0x00, 0x00, 0xf4, /* L2: mov ebx, 7 ; hlt */
                                      0xc7, 0x04, 0x24, 0x06, 0x00, 0x01, 0x00, /* mov [esp], L2 */
                                      0xc3};                              /* ret */
    vm = make_vm(rewrite, sizeof(rewrite), 0, false);
    bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 7);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + 12);
    ck_assert_uint_eq(bt_stats(bt)->ret_miss, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* L: mov [0xe0000000], eax ; jmp L -- the store asks to leave; bt_exec returns right after it. */
START_TEST(test_exit_request_after_store)
{
    static const uint8_t code[] = {0xa3, 0x00, 0x00, 0x00, 0xe0, 0xeb, 0xf9};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    Device dev = {&vm->cpu, 0, 0};
    phys_map_mmio(&vm->phys, 0xe0000000u, 0x1000, &dev_ops, &dev, 1);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_REQUEST);
    ck_assert_uint_eq(vm->cpu.icount, 1);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + 5);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* 3000 blocks of "add eax, 1 ; jmp next" run twice through a cache too small for them. */
START_TEST(test_cache_flushes_when_full)
{
    enum { BLOCKS = 3000 };
    size_t len = BLOCKS * 5 + 32;
    uint8_t *code = malloc(len);
    size_t at = 0;
    code[at++] = 0xb9; /* mov ecx, 2 */
    code[at++] = 2;
    code[at++] = 0;
    code[at++] = 0;
    code[at++] = 0;
    for (int i = 0; i < BLOCKS; i++) {
        code[at++] = 0x83; /* add eax, 1 */
        code[at++] = 0xc0;
        code[at++] = 0x01;
        code[at++] = 0xeb; /* jmp +0 */
        code[at++] = 0x00;
    }
    size_t dec_at = at;
    code[at++] = 0x49; /* dec ecx ; jnz first block (rel32) ; jmp $ */
    code[at++] = 0x0f;
    code[at++] = 0x85;
    int32_t rel = 5 - (int32_t)(dec_at + 7);
    memcpy(code + at, &rel, 4);
    at += 4;
    code[at++] = 0xeb;
    code[at++] = 0xfe;
    TestVM *vm = make_vm(code, at, 0, false);
    vm->cpu.regs[R_EAX] = 0;
    BT *bt = bt_new(&vm->cpu, 64u << 10, BT_MODE_RUN); /* raised to the minimum */
    bt_exec(bt, 4 * BLOCKS + 10);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 2 * BLOCKS);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + at - 2);
    ck_assert_uint_gt(bt_stats(bt)->flushes, 0);
    bt_free(bt);
    testvm_free(vm);
    free(code);
}
END_TEST

/* The permissions of the mapping that contains addr, from /proc/self/maps. */
static bool mapping_perms(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && (uintptr_t)addr >= lo &&
            (uintptr_t)addr < hi) {
            found = true;
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return found;
}

/* Code runs from a mapping that is never writable, and is written through one never executable. */
START_TEST(test_code_cache_is_w_xor_x)
{
    TestVM *vm = make_vm(slice_code, sizeof(slice_code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_exec(bt, 100);
    char rx[5], rw[5];
    ck_assert(mapping_perms(bt->rx, rx));
    ck_assert(mapping_perms(bt->rw, rw));
    ck_assert_msg(rx[2] == 'x' && rx[1] != 'w', "executable mapping is %s", rx);
    ck_assert_msg(rw[1] == 'w' && rw[2] != 'x', "writable mapping is %s", rw);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * Guest DF lives in CPUState: STD ; REP MOVSD copies downwards, and the host
 * never sees DF set when translated code returns.
 *   std ; mov esi, 0x2000c ; mov edi, 0x2100c ; mov ecx, 4 ; rep movsd ; cld ;
 *   mov eax, [0x21000] ; jmp $
 */
START_TEST(test_direction_flag_stays_in_cpustate)
{
    static const uint8_t code[] = {0xfd, 0xbe, 0x0c, 0x00, 0x02, 0x00, 0xbf, 0x0c, 0x10,
                                   0x02, 0x00, 0xb9, 0x04, 0,    0,    0,    0xf3, 0xa5,
                                   0xfc, 0xa1, 0x00, 0x10, 0x02, 0x00, 0xeb, 0xfe};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    for (uint32_t i = 0; i < 4; i++) {
        phys_write(&vm->phys, 0x20000 + 4 * i, 0xa0 + i, 4);
    }
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_exec(bt, 100);
    ck_assert_uint_eq(__builtin_ia32_readeflags_u64() & EFLAGS_DF, 0);
    for (uint32_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(ram32(vm, 0x21000 + 4 * i), 0xa0 + i);
    }
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0xa0);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], 0x1fffc);
    ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_DF, 0);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* The first occurrence of bytes in the translated code, or NULL. */
static uint8_t *find_host_code(BT *bt, const uint8_t *bytes, size_t len)
{
    return memmem(bt->rw + bt->stubs_size, bt->code_used - bt->stubs_size, bytes, len);
}

/*
 * Lockstep check mode must notice a block that computes the wrong result:
 * translate "L: mov eax, 5 ; inc ebx ; jmp L", then corrupt the translation's
 * immediate (5 -> 6) and run again.
 */
START_TEST(test_check_mode_catches_wrong_block)
{
    static const uint8_t code[] = {0xb8, 0x05, 0, 0, 0, 0x43, 0xeb, 0xf8};
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_CHECK);
    char *text = NULL;
    size_t text_len = 0;
    FILE *report = open_memstream(&text, &text_len);
    bt_set_report(bt, report);
    ck_assert_int_eq(bt_exec(bt, 9), CPU_EXIT_BUDGET); /* three clean passes */
    static const uint8_t pattern[] = {0xb8, 0x05, 0x00, 0x00, 0x00};
    uint8_t *at = find_host_code(bt, pattern, sizeof(pattern));
    ck_assert_ptr_nonnull(at);
    at[1] = 0x06;
    ck_assert_int_eq(bt_exec(bt, 9), BT_EXIT_CHECK_MISMATCH);
    fflush(report);
    ck_assert_ptr_nonnull(strstr(text, "differs from the interpreter in general registers"));
    ck_assert_ptr_nonnull(strstr(text, "guest code:"));
    ck_assert_ptr_nonnull(strstr(text, "host code:"));
    fclose(report);
    free(text);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* A check-mode translator on vm whose reports go to a memory stream. */
typedef struct CheckRun {
    BT *bt;
    FILE *report;
    char *text;
    size_t len;
} CheckRun;

static void check_run_start(CheckRun *r, TestVM *vm)
{
    r->bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_CHECK);
    ck_assert_ptr_nonnull(r->bt);
    r->text = NULL;
    r->len = 0;
    r->report = open_memstream(&r->text, &r->len);
    bt_set_report(r->bt, r->report);
}

/* The report so far ("" when check mode found nothing). */
static const char *check_run_report(CheckRun *r)
{
    fflush(r->report);
    return r->text ? r->text : "";
}

/* Done; returns the spans that differed only in undefined results. */
static uint64_t check_run_end(CheckRun *r)
{
    uint64_t tainted = bt_stats(r->bt)->tainted_spans;
    fclose(r->report);
    free(r->text);
    bt_free(r->bt);
    return tainted;
}

/*
 * L: mov ecx, 40 ; mov edi, 0x20000 ; shr ecx, 2 ; rep stosd ; pushfd ;
 *    pushfd ; pop eax ; pop edx ; jmp L
 * AF is undefined after SHR, and the PUSHFD images carry it into EAX, EDX,
 * the stack and (stored by the next pass's STOSD) the data.
 */
static const uint8_t shr_pushf_loop[] = {0xb9, 0x28, 0,    0,    0,    0xbf, 0x00,
                                         0x00, 0x02, 0x00, 0xc1, 0xe9, 0x02, 0xf3,
                                         0xab, 0x9c, 0x9c, 0x58, 0x5a, 0xeb, 0xeb};

/*
 * The host CPU decides what SHR leaves in AF, the interpreter fills it
 * with all ones, then with all zeros (CPUState.undef_perturb): on any host
 * one of the two disagrees with the translated run, as a CPU of another
 * make would, and check mode must see that only undefined bits differ.
 */
START_TEST(test_check_mode_tolerates_undefined_flags)
{
    uint64_t tainted = 0;
    for (int fill = 0; fill < 2; fill++) {
        TestVM *vm = make_vm(shr_pushf_loop, sizeof(shr_pushf_loop), 0, false);
        vm->cpu.undef_perturb = true;
        vm->cpu.undef_fill = fill ? 0 : 0xffffffffu;
        CheckRun r;
        check_run_start(&r, vm);
        ck_assert_int_eq(bt_exec(r.bt, 9 * 20), CPU_EXIT_BUDGET);
        ck_assert_str_eq(check_run_report(&r), "");
        ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0);
        ck_assert_uint_eq(vm->cpu.regs[R_EDI], 0x20000 + 40);
        tainted += check_run_end(&r);
        testvm_free(vm);
    }
    ck_assert_uint_gt(tainted, 0);
}
END_TEST

/* The same loop with the translation of shr ecx, 2 made shr ecx, 3: ECX,
 * EDI and the data differ as well, and must be reported. */
START_TEST(test_check_mode_reports_defined_difference)
{
    TestVM *vm = make_vm(shr_pushf_loop, sizeof(shr_pushf_loop), 0, false);
    vm->cpu.undef_perturb = true;
    vm->cpu.undef_fill = 0xffffffffu;
    CheckRun r;
    check_run_start(&r, vm);
    ck_assert_int_eq(bt_exec(r.bt, 9 * 3), CPU_EXIT_BUDGET);
    static const uint8_t shr_ecx_2[] = {0xc1, 0xe9, 0x02};
    uint8_t *at = find_host_code(r.bt, shr_ecx_2, sizeof(shr_ecx_2));
    ck_assert_ptr_nonnull(at);
    at[2] = 0x03;
    ck_assert_int_eq(bt_exec(r.bt, 9 * 3), BT_EXIT_CHECK_MISMATCH);
    ck_assert_ptr_nonnull(strstr(check_run_report(&r), "differs from the interpreter"));
    check_run_end(&r);
    testvm_free(vm);
}
END_TEST

/*
 * mov ecx, 40 ; shr ecx, 2 ; mov eax, [UNMAPPED] ; jmp $
 * The #PF frame holds EFLAGS with the AF SHR left undefined.
 */
START_TEST(test_check_mode_tolerates_undefined_in_fault_frame)
{
    static const uint8_t code[] = {0xb9, 0x28, 0,    0,    0,    0xc1, 0xe9, 0x02,
                                   0xa1, 0x00, 0x00, 0x03, 0x00, 0xeb, 0xfe};
    uint64_t tainted = 0;
    for (int fill = 0; fill < 2; fill++) {
        TestVM *vm = make_vm(code, sizeof(code), 0, true);
        vm->cpu.undef_perturb = true;
        vm->cpu.undef_fill = fill ? 0 : 0xffffffffu;
        CheckRun r;
        check_run_start(&r, vm);
        ck_assert_int_eq(bt_exec(r.bt, 100), CPU_EXIT_HALT);
        ck_assert_str_eq(check_run_report(&r), "");
        ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
        ck_assert_uint_eq(ram32(vm, vm->cpu.regs[R_ESP] + 4), TESTVM_CODE + 8);
        tainted += check_run_end(&r);
        testvm_free(vm);
    }
    ck_assert_uint_gt(tainted, 0);
}
END_TEST

/*
 * BSWAP with a 16-bit operand leaves the low word undefined and the high
 * word alone: mov eax, 0x12345678 ; bswap ax ; jmp $.  The translation
 * must not swap the whole register.
 */
START_TEST(test_bswap16_keeps_high_word)
{
    static const uint8_t code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0x66, 0x0f, 0xc8, 0xeb, 0xfe};
    for (int fill = 0; fill < 2; fill++) {
        TestVM *vm = make_vm(code, sizeof(code), 0, false);
        vm->cpu.undef_perturb = true;
        vm->cpu.undef_fill = fill ? 0 : 0xffffffffu;
        CheckRun r;
        check_run_start(&r, vm);
        ck_assert_int_eq(bt_exec(r.bt, 10), CPU_EXIT_BUDGET);
        ck_assert_str_eq(check_run_report(&r), "");
        check_run_end(&r);
        testvm_free(vm);
    }
    TestVM *vm = make_vm(code, sizeof(code), 0, false);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 10), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX] >> 16, 0x1234);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* Descriptor with base, byte-granular or 4 KiB limit, access byte, flags (SDM Vol.3 3.4.5). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

/*
 * Code in a segment based at 0x10000 (EIP 0 is linear 0x10000) with a 16-bit
 * stack segment (SS.B = 0: SP wraps at 64 KiB, PUSH/POP are callouts), run on
 * both engines:
 *   mov sp, 0x0004 ; push 0x1234 ; call F ; pop ebx ; mov [0x20000], ebx ;
 *   call [0x20004] (a near pointer to F) ; jmp $
 *   F: add eax, 5 ; ret
 */
START_TEST(test_based_code_and_16bit_stack)
{
    static const uint8_t code[] = {0x66, 0xbc, 0x04, 0x00, 0x68, 0x34, 0x12, 0x00, 0x00,
                                   0xe8, 0x12, 0,    0,    0,    0x5b, 0x89, 0x1d, 0x00,
                                   0x00, 0x02, 0x00, 0xff, 0x15, 0x04, 0x00, 0x02, 0x00,
                                   0xeb, 0xfe, 0,    0,    0,    0x83, 0xc0, 0x05, 0xc3};
    TestVM *vm[2];
    for (int i = 0; i < 2; i++) {
        vm[i] = make_vm(code, sizeof(code), 0, false);
        CPUState *cpu = &vm[i]->cpu;
        seg_cache_from_descriptor(&cpu->seg[SEG_CS], 0x30,
                                  descriptor(TESTVM_CODE, 0xfffff, 0x9b, 0xc));
        seg_cache_from_descriptor(&cpu->seg[SEG_SS], 0x38, descriptor(0x40000, 0xffff, 0x93, 0x0));
        cpu->eip = 0;
        cpu->regs[R_ESP] = 0xabcd0000;
        phys_write(&vm[i]->phys, 0x20004, 32, 4); /* F's EIP in the based segment */
        cpu_update_mode(cpu);
        tlb_flush_all(cpu);
    }
    BT *bt = bt_new(&vm[1]->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(cpu_exec(&vm[0]->cpu, 50), CPU_EXIT_BUDGET);
    ck_assert_int_eq(bt_exec(bt, 50), CPU_EXIT_BUDGET);
    CPUState *a = &vm[0]->cpu, *b = &vm[1]->cpu;
    ck_assert_uint_eq(b->regs[R_EAX], a->regs[R_EAX]);
    ck_assert_mem_eq(a->regs, b->regs, sizeof(a->regs));
    ck_assert_uint_eq(a->eip, b->eip);
    ck_assert_uint_eq(b->eip, 27);                    /* at the jmp $ */
    ck_assert_uint_eq(b->regs[R_ESP], 0xabcd0004);    /* SP wrapped, the high half kept */
    ck_assert_uint_eq(ram32(vm[1], 0x20000), 0x1234); /* pushed and popped via SS:0 */
    ck_assert_uint_eq(ram32(vm[1], 0x40000), 27);     /* then the last return address */
    ck_assert_uint_eq(ram32(vm[1], 0x4fffc), 14);     /* CALL F's, at SS:FFFC after the wrap */
    ck_assert_mem_eq(vm[0]->phys.ram, vm[1]->phys.ram, RAM);
    ck_assert_uint_gt(bt_stats(bt)->blocks_translated, 0);
    bt_free(bt);
    testvm_free(vm[0]);
    testvm_free(vm[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translator");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_page_fault_is_precise);
    tcase_add_test(tc, test_rep_string_inline_and_page_end);
    tcase_add_test(tc, test_write_fault_ring3);
    tcase_add_test(tc, test_divide_faults_exactly);
    tcase_add_test(tc, test_exact_counts_in_slices);
    tcase_add_test(tc, test_interrupt_reaches_translated_loop);
    tcase_add_test(tc, test_masked_interrupt_costs_nothing);
    tcase_add_test(tc, test_callout_census);
    tcase_add_test(tc, test_return_prediction);
    tcase_add_test(tc, test_exit_request_after_store);
    tcase_add_test(tc, test_cache_flushes_when_full);
    tcase_add_test(tc, test_code_cache_is_w_xor_x);
    tcase_add_test(tc, test_direction_flag_stays_in_cpustate);
    tcase_add_test(tc, test_check_mode_catches_wrong_block);
    tcase_add_test(tc, test_check_mode_tolerates_undefined_flags);
    tcase_add_test(tc, test_check_mode_reports_defined_difference);
    tcase_add_test(tc, test_check_mode_tolerates_undefined_in_fault_frame);
    tcase_add_test(tc, test_bswap16_keeps_high_word);
    tcase_add_test(tc, test_based_code_and_16bit_stack);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
