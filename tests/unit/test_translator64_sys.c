/*
 * The kernel's system instructions in 64-bit blocks (translator/gen_ops.c,
 * gen_sys.c, helpers_sys.c) in lockstep with the interpreter: each program
 * runs on the interpreter, on bt and under the lockstep check, and all
 * three must end with the same registers, RIP, RFLAGS, interrupt shadow,
 * segments, control registers, instruction count and RAM.  The machine
 * is a small 64-bit kernel's: 16-byte interrupt gates to stubs that note
 * the vector and halt, a 64-bit TSS (RSP0), 64-bit code segments for
 * rings 0 and 3 and the 32-bit ring-3 one for compatibility mode.
 *
 * STI does not end a 64-bit block: at CPL 0 it is native code, the
 * instruction in its shadow runs in the block, and an interrupt waiting
 * is taken exactly after that instruction; a fault in it is delivered
 * with the shadow open.  The statistics show what ran where (no callout,
 * no interpreted instruction, few run-loop entries), so a fast path that
 * is not taken fails as surely as one that computes the wrong state.
 *
 * The programs were assembled with nasm; each instruction's bytes stand
 * beside it with its offset.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

#define IDT64       0x3000u /* 256 16-byte gates */
#define STUBS64     0x4000u /* a stub per vector, 16 bytes each */
#define SEL_CODE64  0x08    /* testvm's ring-0 code, made 64-bit here */
#define SEL_UCODE64 0x33    /* GDT slot 30h: 64-bit ring-3 code */
#define SEL_UCODE32 0x1b    /* testvm's ring-3 code: compatibility mode */
#define SEL_BADCS   0x38    /* GDT slot 38h: a data segment */
#define NONCANON    0x0000800000000000ull

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)(limit >> 16 & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

static void put64(TestVM *vm, uint32_t at, uint64_t v)
{
    phys_write(&vm->phys, at, (uint32_t)v, 4);
    phys_write(&vm->phys, at + 4, (uint32_t)(v >> 32), 4);
}

/* Interrupt gate 16 bytes (SDM Vol.3 6.14.1), DPL 3 so INT n works from ring 3. */
static void set_gate(TestVM *vm, int vector, uint64_t handler)
{
    uint32_t at = IDT64 + 16u * (uint32_t)vector;
    put64(vm, at,
          (uint64_t)(SEL_CODE64 << 16 | (handler & 0xffff)) |
              (uint64_t)((handler & 0xffff0000u) | 0xee00u) << 32);
    put64(vm, at + 8, handler >> 32);
}

/*
 * A 64-bit kernel's machine around code at TESTVM_CODE + entry, in 64-bit
 * mode at cpl (ring 3: CS 33h, SS 23h, RSP 9000h), with RFLAGS.IOPL iopl
 * and IF clear.
 */
static TestVM *kernel_vm(const uint8_t *code, size_t len, uint32_t entry, int cpl, int iopl)
{
    TestVM *vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    testvm_load(vm, TESTVM_CODE, code, len);
    testvm_flat32(vm, cpl, TESTVM_CODE + entry);
    testvm_long_mode(vm, true);
    put64(vm, TESTVM_GDT + SEL_CODE64, desc(0, 0xfffff, 0x9b, 0xa));
    put64(vm, TESTVM_GDT + (SEL_UCODE64 & ~7u), desc(0, 0xfffff, 0xfb, 0xa));
    put64(vm, TESTVM_GDT + SEL_BADCS, desc(0, 0xfffff, 0x93, 0xc));
    for (uint32_t v = 0; v < 256; v++) {
        /* mov dword [abs LAST_VECTOR], v ; hlt ; jmp $-1 */
        uint8_t stub[14] = {0xc7, 0x04, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0xf4, 0xeb, 0xfd};
        memcpy(stub + 3, &(uint32_t){TESTVM_LAST_VECTOR}, 4);
        memcpy(stub + 7, &v, 4);
        testvm_load(vm, STUBS64 + 16 * v, stub, sizeof(stub));
        set_gate(vm, (int)v, STUBS64 + 16 * v);
    }
    CPUState *cpu = &vm->cpu;
    cpu->cpuid.ext_edx |= CPUID_EXT_LM | CPUID_EXT_SYSCALL | CPUID_EXT_NX; /* the MSRs exist */
    cpu->idtr.base = IDT64;
    cpu->idtr.limit = 256 * 16 - 1;
    put64(vm, TESTVM_TSS + 4, TESTVM_STACK0); /* RSP0 of the 64-bit TSS (SDM Vol.3 8.7) */
    if (cpl == 3) {
        seg_cache_from_descriptor(&cpu->seg[SEG_CS], SEL_UCODE64,
                                  desc(0, 0xfffff, 0xfb, 0xa) | (uint64_t)DESC_A << 32);
    }
    cpu->eflags = (cpu->eflags & ~(EFLAGS_IF | EFLAGS_IOPL)) | (uint32_t)iopl << EFLAGS_IOPL_SHIFT;
    cpu_update_mode(cpu);
    return vm;
}

/* A device that raises INTR with vector 0x40. */
static int dev_ack(void *opaque)
{
    cpu_clear_interrupt(opaque, CPU_INTERRUPT_HARD);
    return 0x40;
}

static void pending_irq(TestVM *vm)
{
    vm->cpu.hooks.opaque = &vm->cpu;
    vm->cpu.hooks.irq_ack = dev_ack;
    cpu_set_interrupt(&vm->cpu, CPU_INTERRUPT_HARD);
}

static void assert_same(const TestVM *vm, const TestVM *ref, int m)
{
    const CPUState *a = &vm->cpu, *b = &ref->cpu;
    for (int r = 0; r < CPU_NB_REGS; r++) {
        ck_assert_msg(a->regs[r] == b->regs[r],
                      "mode %d register %d: translated %016llx, interpreter %016llx", m, r,
                      (unsigned long long)a->regs[r], (unsigned long long)b->regs[r]);
    }
    ck_assert_uint_eq(a->eip, b->eip);
    ck_assert_uint_eq(a->icount, b->icount);
    ck_assert_uint_eq(cpu_get_eflags((CPUState *)a), cpu_get_eflags((CPUState *)b));
    ck_assert_int_eq(a->inhibit_irq, b->inhibit_irq);
    ck_assert_uint_eq(a->cpl, b->cpl);
    ck_assert_uint_eq(a->hflags & (HF_CS64 | HF_LMA), b->hflags & (HF_CS64 | HF_LMA));
    for (int s = 0; s < SEG_COUNT; s++) {
        ck_assert_uint_eq(a->seg[s].selector, b->seg[s].selector);
        ck_assert_uint_eq(a->seg[s].base, b->seg[s].base);
        ck_assert_uint_eq(a->seg[s].attr, b->seg[s].attr);
    }
    ck_assert_uint_eq(a->cr0, b->cr0);
    ck_assert_uint_eq(a->cr3, b->cr3);
    ck_assert_uint_eq(a->cr4, b->cr4);
    ck_assert_uint_eq(a->cr8, b->cr8);
    ck_assert_uint_eq(a->kernel_gs_base, b->kernel_gs_base);
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
}

typedef struct Prog {
    const uint8_t *code;
    size_t len;
    uint32_t entry;
    int cpl, iopl;
    bool irq;                  /* INTR waiting from the start */
    void (*setup)(TestVM *vm); /* or NULL */
} Prog;

static TestVM *sys_prog_vm(const Prog *p)
{
    TestVM *vm = kernel_vm(p->code, p->len, p->entry, p->cpl, p->iopl);
    if (p->setup) {
        p->setup(vm);
    }
    if (p->irq) {
        pending_irq(vm);
    }
    return vm;
}

/*
 * p for budget instructions on the interpreter, then on bt and under
 * check, which must agree with it and end the same way (exit); the bt
 * run's VM and translator stay for the caller (free both).
 */
static TestVM *lockstep(const Prog *p, uint64_t budget, int exit, BT **bt_out)
{
    TestVM *ref = sys_prog_vm(p);
    ck_assert_int_eq(testvm_run(ref, budget), exit);
    TestVM *kept = NULL;
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int m = 0; m < 2; m++) {
        TestVM *vm = sys_prog_vm(p);
        BT *bt = bt_new(&vm->cpu, 1u << 20, modes[m]);
        ck_assert_ptr_nonnull(bt);
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        ck_assert_int_eq(bt_exec(bt, budget), exit);
        assert_same(vm, ref, m);
        if (m == 0) {
            kept = vm;
            *bt_out = bt;
        } else {
            bt_free(bt);
            testvm_free(vm);
        }
    }
    testvm_free(ref);
    return kept;
}

static uint64_t stack_qword(const TestVM *vm, int i)
{
    uint64_t at = vm->cpu.regs[R_ESP] + 8u * (uint64_t)i;
    return phys_read((PhysMem *)&vm->phys, (uint32_t)at, 4) |
           (uint64_t)phys_read((PhysMem *)&vm->phys, (uint32_t)at + 4, 4) << 32;
}

/* ---- STI ---- */

/* clang-format off */
static const uint8_t sti_loop[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00,                   /* 000: mov ecx, 100 */
    0x31, 0xf6,                                     /* 005: xor esi, esi */
    0xfa,                                           /* 007: next: cli */
    0xfb,                                           /* 008: sti */
    0x0f, 0x1f, 0x00,                               /* 009: nop dword [rax+0] */
    0xe8, 0x07, 0x00, 0x00, 0x00,                   /* 00c: call f */
    0x01, 0xc6,                                     /* 011: add esi, eax */
    0xff, 0xc9,                                     /* 013: dec ecx */
    0x75, 0xf0,                                     /* 015: jnz next */
    0xf4,                                           /* 017: hlt */
    0xb8, 0x03, 0x00, 0x00, 0x00,                   /* 018: f: mov eax, 3 */
    0xfa,                                           /* 01d: cli */
    0xfb,                                           /* 01e: sti */
    0xc3,                                           /* 01f: ret */
};

static const uint8_t sti_pending[] = {
    0xfb,                                           /* 000: sti */
    0xb8, 0x01, 0x00, 0x00, 0x00,                   /* 001: mov eax, 1 */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* 006: mov ebx, 2 */
    0xf4,                                           /* 00b: hlt */
};

static const uint8_t sti_sti[] = {
    0xfb,                                           /* 000: sti */
    0xfb,                                           /* 001: sti */
    0xb8, 0x01, 0x00, 0x00, 0x00,                   /* 002: mov eax, 1 */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* 007: mov ebx, 2 */
    0xf4,                                           /* 00c: hlt */
};

static const uint8_t sti_hlt[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00,                   /* 000: mov eax, 1 */
    0xfb,                                           /* 005: sti */
    0xf4,                                           /* 006: hlt */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* 007: mov ebx, 2 */
    0xf4,                                           /* 00c: hlt */
};

static const uint8_t sti_fault[] = {
    0xbb, 0x05, 0x00, 0x00, 0x00,                   /* 000: mov ebx, 5 */
    0xfb,                                           /* 005: sti */
    0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, /* 006: mov rax, [abs 0x500000] (#PF) */
    0xf4,                                           /* 00e: hlt */
    0xbb, 0x05, 0x00, 0x00, 0x00,                   /* 00f: mov ebx, 5 */
    0xfb,                                           /* 014: sti */
    0x48, 0x8b, 0x01,                               /* 015: mov rax, [rcx] (#GP) */
    0xf4,                                           /* 018: hlt */
    0xbb, 0x05, 0x00, 0x00, 0x00,                   /* 019: mov ebx, 5 */
    0x51,                                           /* 01e: push rcx */
    0xfb,                                           /* 01f: sti */
    0xc3,                                           /* 020: ret (#GP) */
};
/* clang-format on */

/*
 * 100 times "cli ; sti ; nop dword [rax]" and a call to "cli ; sti ; ret":
 * at CPL 0 CLI and STI are native and the instructions in the shadow run
 * in the block, so HLT is the one callout, nothing is interpreted and the
 * loop stays in translated code.  At CPL 3 under IOPL 3 CLI and STI are
 * callouts, and STI's lets the block go on, the shadow ended by it; HLT
 * there raises #GP(0), whose handler halts.
 */
START_TEST(test_sti_in_block)
{
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        const Prog p = {sti_loop, sizeof(sti_loop), 0, cpl, 3, false, NULL};
        BT *bt;
        TestVM *vm = lockstep(&p, 100000, CPU_EXIT_HALT, &bt);
        ck_assert_uint_eq(vm->cpu.regs[R_ESI], 300);
        const BTStats *st = bt_stats(bt);
        ck_assert_uint_eq(st->interp_insns, 0);
        /* CPL 3: CLI and STI, and HLT (#GP) then the handler's */
        ck_assert_uint_eq(st->callout_insns, cpl ? 400 + 2 : 1);
        ck_assert_uint_lt(st->entries, 10);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * sti ; mov eax, 1 ; mov ebx, 2 ; hlt with IF clear and INTR waiting: the
 * interrupt is taken after the instruction in the shadow and before the
 * next (RAX 1, RBX 0, the frame's RIP the second MOV), at CPL 0 (native
 * STI) and at CPL 3 (its callout).
 */
START_TEST(test_sti_shadow_pending_irq)
{
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        const Prog p = {sti_pending, sizeof(sti_pending), 0, cpl, 3, true, NULL};
        BT *bt;
        TestVM *vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
        ck_assert_int_eq(testvm_last_vector(vm), 0x40);
        ck_assert_uint_eq(vm->cpu.regs[R_EAX], 1);
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
        ck_assert_uint_eq(stack_qword(vm, 0), TESTVM_CODE + 6);
        ck_assert_uint_eq(stack_qword(vm, 1), cpl ? SEL_UCODE64 : SEL_CODE64);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * sti ; sti ; mov eax, 1 (INTR waiting): the second STI, in the first's
 * shadow, opens none of its own (IF is set by then), so the interrupt is
 * taken right after it (SDM Vol.2 STI).
 */
START_TEST(test_sti_sti)
{
    for (int irq = 0; irq < 2; irq++) {
        const Prog p = {sti_sti, sizeof(sti_sti), 0, 0, 0, irq, NULL};
        BT *bt;
        TestVM *vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
        ck_assert_uint_eq(vm->cpu.regs[R_EAX], irq ? 0 : 1);
        if (irq) {
            ck_assert_int_eq(testvm_last_vector(vm), 0x40);
            ck_assert_uint_eq(stack_qword(vm, 0), TESTVM_CODE + 2);
        } else {
            ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
            ck_assert_uint_eq(bt_stats(bt)->entries, 1);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * mov eax, 1 ; sti ; hlt: HLT is in the shadow, so an interrupt waiting
 * wakes it: the frame's RIP is past HLT.  Without one the CPU halts with
 * IF set, HLT the one callout.
 */
START_TEST(test_sti_hlt)
{
    for (int irq = 0; irq < 2; irq++) {
        const Prog p = {sti_hlt, sizeof(sti_hlt), 0, 0, 0, irq, NULL};
        BT *bt;
        TestVM *vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
        if (irq) {
            ck_assert_int_eq(testvm_last_vector(vm), 0x40);
            ck_assert_uint_eq(stack_qword(vm, 0), TESTVM_CODE + 7);
        } else {
            ck_assert_int_eq(testvm_last_vector(vm), -1);
            ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, EFLAGS_IF);
            ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

static void noncanonical_rcx(TestVM *vm)
{
    vm->cpu.regs[R_ECX] = NONCANON;
}

/*
 * STI, then an instruction in its shadow that faults: a load from an
 * unmapped page (#PF through the native load's slow path), a load from a
 * non-canonical address (#GP(0)), RET to a non-canonical address (#GP(0)
 * at the RET).  The fault is delivered with the shadow still open, as
 * the interpreter leaves it until an instruction completes, so right
 * after the delivery both engines show it; the handler's first
 * instruction closes it.  At CPL 0 and at CPL 3 (IOPL 3).
 */
START_TEST(test_sti_shadow_fault)
{
    static const struct {
        uint32_t entry;
        int vector;
    } cases[] = {{0x00, EXC_PF}, {0x0f, EXC_GP}, {0x19, EXC_GP}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int cpl = 0; cpl <= 3; cpl += 3) {
            const Prog p = {sti_fault, sizeof(sti_fault), cases[i].entry, cpl, 3,
                            false,     noncanonical_rcx};
            uint64_t upto = cases[i].entry == 0x19 ? 4 : 3;
            BT *bt;
            TestVM *vm = lockstep(&p, upto, CPU_EXIT_BUDGET, &bt);
            ck_assert_int_eq(vm->cpu.inhibit_irq, 1);
            ck_assert_uint_eq(vm->cpu.eip, STUBS64 + 16u * (uint32_t)cases[i].vector);
            bt_free(bt);
            testvm_free(vm);
            vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
            ck_assert_int_eq(testvm_last_vector(vm), cases[i].vector);
            ck_assert_int_eq(vm->cpu.inhibit_irq, 0);
            ck_assert_uint_eq(vm->cpu.regs[R_EBX], 5);
            bt_free(bt);
            testvm_free(vm);
        }
    }
}
END_TEST

/* clang-format off */
static const uint8_t sti_slice[] = {
    0xfb,                                           /* 000: sti */
    0xb8, 0x01, 0x00, 0x00, 0x00,                   /* 001: mov eax, 1 */
    0xeb, 0x00,                                     /* 006: jmp l1 */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* 008: l1: mov ebx, 2 */
    0xf4,                                           /* 00d: hlt */
    0xfb,                                           /* 00e: sti */
    0x0f, 0x01, 0xf8,                               /* 00f: swapgs */
    0xeb, 0x00,                                     /* 012: jmp l2 */
    0x0f, 0x01, 0xf8,                               /* 014: l2: swapgs */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* 017: mov ebx, 2 */
    0xf4,                                           /* 01c: hlt */
};
/* clang-format on */

/*
 * A slice of exactly STI, the instruction in its shadow and a JMP: the
 * shadow is over when translated code stops, as on the interpreter, and
 * an interrupt raised then is taken at once, before MOV EBX.  The
 * instruction in the shadow is a plain MOV (at CPL 0 after native STI, at
 * CPL 3 after STI's callout, which must end the shadow itself) or SWAPGS,
 * which is not plain: a callout that ends the shadow after it, where its
 * native form would leave the shadow open.
 */
START_TEST(test_sti_shadow_slice_end)
{
    static const struct {
        uint32_t entry;
        int cpl;
    } cases[] = {{0x00, 0}, {0x00, 3}, {0x0e, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int m = 0; m < 2; m++) {
            const Prog p = {sti_slice, sizeof(sti_slice), cases[i].entry, cases[i].cpl, 3, false,
                            NULL};
            TestVM *ref = sys_prog_vm(&p), *vm = sys_prog_vm(&p);
            BT *bt = bt_new(&vm->cpu, 1u << 20, m ? BT_MODE_CHECK : BT_MODE_RUN);
            bt_set_code64(bt, true);
            bt_set_mem64_native(bt, true);
            ck_assert_int_eq(bt_exec(bt, 3), CPU_EXIT_BUDGET);
            ck_assert_int_eq(testvm_run(ref, 3), CPU_EXIT_BUDGET);
            assert_same(vm, ref, m);
            ck_assert_int_eq(vm->cpu.inhibit_irq, 0);
            ck_assert_uint_eq(vm->cpu.eflags & EFLAGS_IF, EFLAGS_IF);
            pending_irq(vm);
            pending_irq(ref);
            ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
            ck_assert_int_eq(testvm_run(ref, 1000), CPU_EXIT_HALT);
            assert_same(vm, ref, m);
            ck_assert_int_eq(testvm_last_vector(vm), 0x40);
            ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0);
            bt_free(bt);
            testvm_free(vm);
            testvm_free(ref);
        }
    }
}
END_TEST

/* ---- IRETQ ---- */

/* clang-format off */
static const uint8_t iret_prog[] = {
    0xbb, 0x3c, 0x00, 0x00, 0x00,                   /* 000: mov ebx, 60 */
    0x31, 0xf6,                                     /* 005: xor esi, esi */
    0x48, 0x89, 0xe0,                               /* 007: next: mov rax, rsp */
    0x6a, 0x10,                                     /* 00a: push 0x10 */
    0x50,                                           /* 00c: push rax */
    0x9c,                                           /* 00d: pushfq */
    0x6a, 0x08,                                     /* 00e: push 0x08 */
    0x48, 0x8d, 0x0d, 0x03, 0x00, 0x00, 0x00,       /* 010: lea rcx, [rel back0] */
    0x51,                                           /* 017: push rcx */
    0x48, 0xcf,                                     /* 018: iretq */
    0x83, 0xc6, 0x01,                               /* 01a: back0: add esi, 1 */
    0x6a, 0x23,                                     /* 01d: push 0x23 */
    0x68, 0x00, 0x90, 0x00, 0x00,                   /* 01f: push 0x9000 */
    0x68, 0x02, 0x32, 0x00, 0x00,                   /* 024: push 0x3202 */
    0xf6, 0xc3, 0x01,                               /* 029: test bl, 1 */
    0x74, 0x0c,                                     /* 02c: jz compat */
    0x6a, 0x33,                                     /* 02e: push 0x33 */
    0x48, 0x8d, 0x0d, 0x0f, 0x00, 0x00, 0x00,       /* 030: lea rcx, [rel user64] */
    0x51,                                           /* 037: push rcx */
    0x48, 0xcf,                                     /* 038: iretq */
    0x6a, 0x1b,                                     /* 03a: compat: push 0x1b */
    0x48, 0x8d, 0x0d, 0x08, 0x00, 0x00, 0x00,       /* 03c: lea rcx, [rel user32] */
    0x51,                                           /* 043: push rcx */
    0x48, 0xcf,                                     /* 044: iretq */
    0x83, 0xc6, 0x64,                               /* 046: user64 (CPL 3): add esi, 100 */
    0xcd, 0x81,                                     /* 049: int 0x81 */
    0x81, 0xc6, 0x10, 0x27, 0x00, 0x00,             /* 04b: user32 (CPL 3, compat): add esi, 10000 */
    0xcd, 0x81,                                     /* 051: int 0x81 */
    0x48, 0x83, 0xc4, 0x28,                         /* 053: kentry (INT 81h): add rsp, 40 */
    0xff, 0xcb,                                     /* 057: dec ebx */
    0x75, 0xac,                                     /* 059: jnz next */
    0xf4,                                           /* 05b: hlt */
    0x48, 0x89, 0xe0,                               /* 05c: bad: mov rax, rsp */
    0x6a, 0x10,                                     /* 05f: push 0x10 */
    0x50,                                           /* 061: push rax */
    0x9c,                                           /* 062: pushfq */
    0x52,                                           /* 063: push rdx */
    0x51,                                           /* 064: push rcx */
    0x48, 0xcf,                                     /* 065: iretq */
};
/* clang-format on */

#define IRET_KENTRY 0x53
#define IRET_BAD    0x5c

static void iret_gate(TestVM *vm)
{
    set_gate(vm, 0x81, TESTVM_CODE + IRET_KENTRY);
}

/*
 * 60 rounds of IRETQ to CPL 0 (a frame built on the stack), then IRETQ to
 * CPL 3, to 64-bit code (CS 33h) or to compatibility mode (CS 1Bh) in
 * turn, whose INT 81h comes back.  Each IRETQ is a light helper (not a
 * callout) and goes on through the jump cache under the key it enters, so
 * only INT n, the HLT and the compatibility-mode blocks (entered by the
 * run loop, another width) cost run-loop entries.
 */
START_TEST(test_iretq)
{
    const Prog p = {iret_prog, sizeof(iret_prog), 0, 0, 0, false, iret_gate};
    BT *bt;
    TestVM *vm = lockstep(&p, 100000, CPU_EXIT_HALT, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], 60 + 30 * 100 + 30 * 10000);
    ck_assert_uint_eq(vm->cpu.regs[R_ESP], TESTVM_STACK0);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_insns, 0);
    ck_assert_uint_eq(st->helper_insns, 2 * 60);  /* the IRETQs */
    ck_assert_uint_eq(st->callout_insns, 60 + 1); /* INT 81h and HLT */
    ck_assert_uint_gt(st->compat_blocks, 0);
    /* the returns to compatibility mode and its INT 81h (run-loop trips
     * between the widths), a few more */
    ck_assert_uint_lt(st->entries, 2 * 30 + 10);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static uint64_t bad_cs, bad_rip;

static void iret_bad_frame(TestVM *vm)
{
    vm->cpu.regs[R_EDX] = bad_cs;
    vm->cpu.regs[R_ECX] = bad_rip;
}

/*
 * IRETQ from a frame it must refuse, with #GP at the IRETQ and nothing
 * loaded: a non-canonical RIP (#GP(0), SDM Vol.2 IRET), a data segment as
 * CS (#GP(38h)), and a return to CPL 3 with a ring-0 SS (#GP(10h)).
 */
START_TEST(test_iretq_faults)
{
    static const struct {
        uint64_t cs, rip;
        uint32_t error;
    } cases[] = {
        {SEL_CODE64, NONCANON, 0},
        {SEL_BADCS, TESTVM_CODE, SEL_BADCS},
        {SEL_UCODE64, TESTVM_CODE, 0x10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bad_cs = cases[i].cs;
        bad_rip = cases[i].rip;
        const Prog p = {iret_prog, sizeof(iret_prog), IRET_BAD, 0, 0, false, iret_bad_frame};
        BT *bt;
        TestVM *vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
        ck_assert_int_eq(testvm_last_vector(vm), EXC_GP);
        ck_assert_uint_eq(stack_qword(vm, 0), cases[i].error);
        ck_assert_uint_eq(stack_qword(vm, 1), TESTVM_CODE + 0x65);
        ck_assert_uint_eq(vm->cpu.cpl, 0);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/* ---- MOV r, Sreg; MOV Sreg, r; MOV r, CRn ---- */

/* clang-format off */
static const uint8_t sreg_prog[] = {
    0xb9, 0x32, 0x00, 0x00, 0x00,                   /* 000: mov ecx, 50 */
    0x31, 0xf6,                                     /* 005: xor esi, esi */
    0x8c, 0xd8,                                     /* 007: next: mov eax, ds */
    0x48, 0x01, 0xc6,                               /* 009: add rsi, rax */
    0x41, 0x8c, 0xc1,                               /* 00c: mov r9d, es */
    0x4c, 0x01, 0xce,                               /* 00f: add rsi, r9 */
    0x48, 0x8c, 0xd2,                               /* 012: mov rdx, ss (REX.W) */
    0x48, 0x01, 0xd6,                               /* 015: add rsi, rdx */
    0x49, 0xc7, 0xc2, 0xff, 0xff, 0xff, 0xff,       /* 018: mov r10, -1 */
    0x66, 0x41, 0x8c, 0xe2,                         /* 01f: mov r10w, fs */
    0x4c, 0x01, 0xd6,                               /* 023: add rsi, r10 */
    0x66, 0x8c, 0xe8,                               /* 026: mov ax, gs */
    0x48, 0x01, 0xc6,                               /* 029: add rsi, rax */
    0x0f, 0x20, 0xc0,                               /* 02c: mov rax, cr0 */
    0x48, 0x01, 0xc6,                               /* 02f: add rsi, rax */
    0x41, 0x0f, 0x20, 0xdb,                         /* 032: mov r11, cr3 */
    0x4c, 0x01, 0xde,                               /* 036: add rsi, r11 */
    0x0f, 0x20, 0xe3,                               /* 039: mov rbx, cr4 */
    0x48, 0x01, 0xde,                               /* 03c: add rsi, rbx */
    0x0f, 0x20, 0xd0,                               /* 03f: mov rax, cr2 */
    0x48, 0x01, 0xc6,                               /* 042: add rsi, rax */
    0x45, 0x0f, 0x20, 0xc4,                         /* 045: mov r12, cr8 */
    0x4c, 0x01, 0xe6,                               /* 049: add rsi, r12 */
    0x41, 0x0f, 0x20, 0xd5,                         /* 04c: mov r13, cr2 */
    0x4c, 0x01, 0xee,                               /* 050: add rsi, r13 */
    0xb8, 0x23, 0x00, 0x00, 0x00,                   /* 053: mov eax, 0x23 */
    0x8e, 0xd8,                                     /* 058: mov ds, eax */
    0x8e, 0xc0,                                     /* 05a: mov es, eax */
    0x8e, 0xe0,                                     /* 05c: mov fs, eax */
    0x8e, 0xe8,                                     /* 05e: mov gs, eax */
    0xb8, 0x10, 0x00, 0x00, 0x00,                   /* 060: mov eax, 0x10 */
    0x8e, 0xd8,                                     /* 065: mov ds, eax */
    0x8e, 0xc0,                                     /* 067: mov es, eax */
    0x8e, 0xe0,                                     /* 069: mov fs, eax */
    0x89, 0xca,                                     /* 06b: mov edx, ecx */
    0x83, 0xe2, 0x0f,                               /* 06d: and edx, 15 */
    0x44, 0x0f, 0x22, 0xc2,                         /* 070: mov cr8, rdx */
    0x41, 0x0f, 0x22, 0xdb,                         /* 074: mov cr3, r11 */
    0xff, 0xc9,                                     /* 078: dec ecx */
    0x75, 0x8b,                                     /* 07a: jnz next */
    0xf4,                                           /* 07c: hlt */
    0xbb, 0x05, 0x00, 0x00, 0x00,                   /* 07d: fault: mov ebx, 5 */
    0x8e, 0xd8,                                     /* 082: mov ds, eax */
    0xf4,                                           /* 084: hlt */
    0xbb, 0x05, 0x00, 0x00, 0x00,                   /* 085: crfault: mov ebx, 5 */
    0x0f, 0x20, 0xd8,                               /* 08a: mov rax, cr3 */
    0xf4,                                           /* 08d: hlt */
};
/* clang-format on */

static void sys_regs(TestVM *vm)
{
    vm->cpu.cr2 = 0xffff800012345678ull;
    vm->cpu.cr8 = 5;
}

/*
 * 50 rounds of reading every segment register at 16, 32 and 64 bits into
 * RAX..RDI and R8-R15 (a 16-bit read keeps bits 63:16), CR0, CR2 (64
 * bits), CR3, CR4 and CR8, loading DS, ES, FS and GS with the ring-3 data
 * segment and back, and writing CR8 and CR3.  The reads are native (no
 * callout, no helper), the loads and CR8 reads light helpers, and the
 * block goes on after all of them; the CR writes are callouts.
 */
START_TEST(test_sreg_cr)
{
    const Prog p = {sreg_prog, sizeof(sreg_prog), 0, 0, 0, false, sys_regs};
    BT *bt;
    TestVM *vm = lockstep(&p, 100000, CPU_EXIT_HALT, &bt);
    ck_assert_uint_eq(vm->cpu.seg[SEG_GS].selector, 0x23);
    ck_assert_uint_eq(vm->cpu.seg[SEG_DS].selector, 0x10);
    ck_assert_uint_eq(vm->cpu.cr8, 1);
    ck_assert_uint_eq(vm->cpu.regs[10], 0xffffffffffff0000ull | 0x10);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_insns, 0);
    ck_assert_uint_eq(st->helper_insns, 50 * (7 + 1)); /* the loads and MOV r12, CR8 */
    ck_assert_uint_eq(st->callout_insns, 50 * 2 + 1);  /* the CR writes and HLT */
    /* one block for the loop, which MOV CR3's TLB flush leaves through the run loop */
    ck_assert_uint_lt(st->blocks_translated, 6);
    ck_assert_uint_lt(st->entries, 50 + 6);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static uint32_t fault_eax;

static void fault_selector(TestVM *vm)
{
    vm->cpu.regs[R_EAX] = fault_eax;
}

/*
 * The loads and reads that fault, with nothing changed but the fault:
 * MOV DS, the TSS's selector (#GP(28h)) at CPL 0; MOV DS, the ring-0
 * data segment (#GP(10h)) and MOV RAX, CR3 (#GP(0)) at CPL 3.  A null
 * selector loads at CPL 3 (64-bit mode allows it in DS).
 */
START_TEST(test_sreg_cr_faults)
{
    static const struct {
        uint32_t entry, eax;
        int cpl, vector;
        uint32_t error;
    } cases[] = {
        {0x7d, TESTVM_SEL_TSS, 0, EXC_GP, TESTVM_SEL_TSS},
        {0x7d, TESTVM_SEL_DATA0, 3, EXC_GP, TESTVM_SEL_DATA0},
        {0x7d, 0, 3, -1, 0},
        {0x85, 0, 3, EXC_GP, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fault_eax = cases[i].eax;
        const Prog p = {sreg_prog, sizeof(sreg_prog), cases[i].entry, cases[i].cpl, 0,
                        false,     fault_selector};
        BT *bt;
        TestVM *vm = lockstep(&p, 1000, CPU_EXIT_HALT, &bt);
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], 5);
        if (cases[i].vector < 0) {
            /* HLT at CPL 3 is #GP(0) after the load */
            ck_assert_uint_eq(vm->cpu.seg[SEG_DS].selector, 0);
            ck_assert_uint_eq(stack_qword(vm, 1), TESTVM_CODE + 0x84);
        } else {
            ck_assert_int_eq(testvm_last_vector(vm), cases[i].vector);
            ck_assert_uint_eq(stack_qword(vm, 0), cases[i].error);
            ck_assert_uint_eq(stack_qword(vm, 1), TESTVM_CODE + cases[i].entry + 5);
            ck_assert_uint_ne(vm->cpu.seg[SEG_DS].selector, cases[i].eax);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/* clang-format off */
static const uint8_t pop_sreg_prog[] = {
    0xb9, 0x14, 0x00, 0x00, 0x00,                   /* 000: mov ecx, 20 */
    0x31, 0xf6,                                     /* 005: xor esi, esi */
    0x6a, 0x23,                                     /* 007: next: push 0x23 */
    0x0f, 0xa1,                                     /* 009: pop fs */
    0x51,                                           /* 00b: push rcx */
    0x6a, 0x10,                                     /* 00c: push 0x10 */
    0x0f, 0xa9,                                     /* 00e: pop gs */
    0x58,                                           /* 010: pop rax */
    0x48, 0x01, 0xc6,                               /* 011: add rsi, rax */
    0x8c, 0xe0,                                     /* 014: mov eax, fs */
    0x48, 0x01, 0xc6,                               /* 016: add rsi, rax */
    0xff, 0xc9,                                     /* 019: dec ecx */
    0x75, 0xea,                                     /* 01b: jnz next */
    0xf4,                                           /* 01d: hlt */
};
/* clang-format on */

/*
 * POP FS and POP GS, 20 times, between pushes and pops of other values:
 * light helpers that move RSP (the thunk hands the helper RSP and takes
 * it back) and end no block.
 */
START_TEST(test_pop_sreg)
{
    const Prog p = {pop_sreg_prog, sizeof(pop_sreg_prog), 0, 0, 0, false, NULL};
    BT *bt;
    TestVM *vm = lockstep(&p, 100000, CPU_EXIT_HALT, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], 20 * 21 / 2 + 20 * 0x23);
    ck_assert_uint_eq(vm->cpu.regs[R_ESP], TESTVM_STACK0);
    ck_assert_uint_eq(vm->cpu.seg[SEG_GS].selector, 0x10);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->helper_insns, 2 * 20);
    ck_assert_uint_eq(st->callout_insns, 1); /* HLT */
    ck_assert_uint_lt(st->blocks_translated, 4);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* ---- RDMSR, WRMSR ---- */

/* clang-format off */
static const uint8_t msr_prog[] = {
    0xbf, 0x32, 0x00, 0x00, 0x00,                   /* 000: mov edi, 50 */
    0x31, 0xf6,                                     /* 005: xor esi, esi */
    0xb9, 0x00, 0x01, 0x00, 0xc0,                   /* 007: next: mov ecx, 0xc0000100 (FS_BASE) */
    0x89, 0xf8,                                     /* 00c: mov eax, edi */
    0xc1, 0xe0, 0x03,                               /* 00e: shl eax, 3 */
    0x05, 0x00, 0x00, 0x02, 0x00,                   /* 011: add eax, 0x20000 */
    0x31, 0xd2,                                     /* 016: xor edx, edx */
    0x0f, 0x30,                                     /* 018: wrmsr */
    0x64, 0x48, 0x03, 0x34, 0x25, 0x00, 0x00, 0x00, 0x00, /* 01a: add rsi, [fs:0] */
    0xb9, 0x02, 0x01, 0x00, 0xc0,                   /* 023: mov ecx, 0xc0000102 (KERNEL_GS_BASE) */
    0x0f, 0x32,                                     /* 028: rdmsr */
    0x48, 0x01, 0xc6,                               /* 02a: add rsi, rax */
    0xff, 0xcf,                                     /* 02d: dec edi */
    0x75, 0xd6,                                     /* 02f: jnz next */
    0xb9, 0x82, 0x00, 0x00, 0xc0,                   /* 031: mov ecx, 0xc0000082 (LSTAR) */
    0xb8, 0x45, 0x23, 0x01, 0x00,                   /* 036: mov eax, 0x12345 */
    0x0f, 0x30,                                     /* 03b: wrmsr */
    0xbb, 0x07, 0x00, 0x00, 0x00,                   /* 03d: mov ebx, 7 */
    0xf4,                                           /* 042: hlt */
};
/* clang-format on */

static void msr_data(TestVM *vm)
{
    for (uint32_t i = 0; i <= 50; i++) {
        put64(vm, DATA + 8 * i, 0x1000000000ull * i + i * i);
    }
    vm->cpu.kernel_gs_base = 0xffff888000005000ull;
}

/*
 * 50 rounds of WRMSR to FS.base, a load through FS at once, and RDMSR of
 * the kernel GS base: both are light helpers and the block goes on after
 * them (the load sees the new base); then WRMSR to LSTAR, after which the
 * block leaves for the run loop.
 */
START_TEST(test_msr)
{
    const Prog p = {msr_prog, sizeof(msr_prog), 0, 0, 0, false, msr_data};
    BT *bt;
    TestVM *vm = lockstep(&p, 100000, CPU_EXIT_HALT, &bt);
    ck_assert_uint_eq(vm->cpu.seg[SEG_FS].base, DATA + 8);
    ck_assert_uint_eq(vm->cpu.msr_lstar, 0xffff888000012345ull); /* EDX from the RDMSR */
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 7);
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= 50; i++) {
        sum += 0x1000000000ull * i + i * i + 0x5000; /* RDMSR: EAX, zero-extended */
    }
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], sum);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->interp_insns, 0);
    ck_assert_uint_eq(st->helper_insns, 2 * 50 + 1);
    ck_assert_uint_eq(st->callout_insns, 1);     /* HLT */
    ck_assert_uint_lt(st->blocks_translated, 5); /* the WRMSRs to FS.base end none */
    ck_assert_uint_lt(st->entries, 8);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64_sys");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sti_in_block);
    tcase_add_test(tc, test_sti_shadow_pending_irq);
    tcase_add_test(tc, test_sti_sti);
    tcase_add_test(tc, test_sti_hlt);
    tcase_add_test(tc, test_sti_shadow_fault);
    tcase_add_test(tc, test_sti_shadow_slice_end);
    tcase_add_test(tc, test_iretq);
    tcase_add_test(tc, test_iretq_faults);
    tcase_add_test(tc, test_sreg_cr);
    tcase_add_test(tc, test_sreg_cr_faults);
    tcase_add_test(tc, test_pop_sreg);
    tcase_add_test(tc, test_msr);
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
