/*
 * Inline caches of indirect JMP/CALL (translator/gen_ic.c) and superblocks
 * (translator/scan.c, gen_flow.c gen_jcc_on), in 32-bit and 64-bit blocks,
 * in lockstep with the interpreter: each program runs on the interpreter,
 * on bt and under the lockstep check, and all three must end with the
 * same registers, EIP, flags, instruction count and RAM.  The programs
 * are built so that a wrong inline-cache hit runs another function and
 * ends with other registers: call sites cycling through 1, 2, 3 and 8
 * targets, a table rewritten between calls, a called function rewritten
 * (SMC), a CR3 write that maps other code at the called address, and one
 * site run in 64-bit and in compatibility mode, calling code whose bytes
 * mean different things in the two.  For superblocks: Jccs taken and not
 * taken in turn (also in slices of 1 to 11 instructions, so the budget a
 * taken side gives back is exact), an interrupt raised by a device read
 * in the part after a Jcc (taken at the next Jcc, as at a block end), and
 * a #PF there (precise state).
 *
 * The programs were assembled with nasm; their source is beside them in
 * words.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

/* clang-format off */
/* 32-bit: 400 calls through a table, the index cycling through EBP targets; f_i adds 8^i to EBX */
static const uint8_t cycle32_prog[] = {
    0xb9, 0x90, 0x01, 0x00, 0x00, 0x31, 0xdb, 0x31, 0xd2, 0xbe, 0x50, 0x00, 0x01, 0x00, 0xff,
    0x14, 0x96, 0x42, 0x39, 0xea, 0x72, 0x02, 0x31, 0xd2, 0x49, 0x75, 0xf3, 0xf4, 0x83, 0xc3,
    0x01, 0xc3, 0x83, 0xc3, 0x08, 0xc3, 0x83, 0xc3, 0x40, 0xc3, 0x81, 0xc3, 0x00, 0x02, 0x00,
    0x00, 0xc3, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, 0xc3, 0x81, 0xc3, 0x00, 0x80, 0x00, 0x00,
    0xc3, 0x81, 0xc3, 0x00, 0x00, 0x04, 0x00, 0xc3, 0x81, 0xc3, 0x00, 0x00, 0x20, 0x00, 0xc3,
    0x90, 0x90, 0x90, 0x90, 0x90, 0x1c, 0x00, 0x01, 0x00, 0x20, 0x00, 0x01, 0x00, 0x24, 0x00,
    0x01, 0x00, 0x28, 0x00, 0x01, 0x00, 0x2f, 0x00, 0x01, 0x00, 0x36, 0x00, 0x01, 0x00, 0x3d,
    0x00, 0x01, 0x00, 0x44, 0x00, 0x01, 0x00,
};
/* 32-bit: a table entry at 20000h (f0 at first) flipped between f0 and f1 after each call, another call every 8th round */
static const uint8_t rewrite32_prog[] = {
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x00, 0x00, 0x02, 0x00, 0xc7, 0x06, 0x2d,
    0x00, 0x01, 0x00, 0xbf, 0x1c, 0x00, 0x00, 0x00, 0xff, 0x16, 0x8b, 0x06, 0x31, 0xf8, 0x89,
    0x06, 0xf7, 0xc1, 0x07, 0x00, 0x00, 0x00, 0x75, 0x02, 0xff, 0x16, 0x49, 0x75, 0xeb, 0xf4,
    0x83, 0xc3, 0x01, 0xc3, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, 0xc3,
};
/* 32-bit: 200 calls to 30000h (add ebx, imm32 ; ret), its imm32 doubled when ECX & 49 is 0 */
static const uint8_t smc32_prog[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x00, 0x00, 0x03, 0x00, 0xbf, 0x01, 0x00,
    0x00, 0x00, 0xff, 0xd6, 0xf7, 0xc1, 0x31, 0x00, 0x00, 0x00, 0x75, 0x05, 0x01, 0xff, 0x89,
    0x7e, 0x02, 0x49, 0x75, 0xee, 0xf4,
};
/* 32-bit: three calls through EDX to 230000h, then CR3 ^= ESI (the other tables), 20 rounds */
static const uint8_t cr3_32_prog[] = {
    0xb9, 0x14, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xba, 0x00, 0x00, 0x23, 0x00, 0xff, 0xd2, 0xff,
    0xd2, 0xff, 0xd2, 0x0f, 0x20, 0xd8, 0x31, 0xf0, 0x0f, 0x22, 0xd8, 0x49, 0x75, 0xef, 0xf4,
};
/* 32-bit: a loop whose Jccs go taken and not taken in turn */
static const uint8_t alt32_prog[] = {
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xdb, 0x31, 0xd2, 0x83, 0xc2, 0x03, 0xf7,
    0xc1, 0x01, 0x00, 0x00, 0x00, 0x75, 0x05, 0x01, 0xc8, 0x6b, 0xd8, 0x07, 0x01, 0xd3, 0xf7,
    0xc1, 0x02, 0x00, 0x00, 0x00, 0x74, 0x05, 0x83, 0xe8, 0x05, 0x31, 0xc2, 0x39, 0xd8, 0x7c,
    0x03, 0x83, 0xc0, 0x01, 0x49, 0x75, 0xd7, 0xf4,
};
/* 32-bit: a load after a not-taken JA reaching the unmapped page at 400000h */
static const uint8_t fault32_prog[] = {
    0xbe, 0x00, 0xc0, 0x3f, 0x00, 0x31, 0xdb, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x83, 0xc3, 0x01,
    0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, 0x77, 0x17, 0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0x8b,
    0x16, 0x81, 0xc3, 0x00, 0x00, 0x01, 0x00, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75,
    0xde, 0xf4,
};
/* 64-bit: 400 calls through a table, the index cycling through EBP targets; f_i adds 8^i to EBX */
static const uint8_t cycle64_prog[] = {
    0xb9, 0x90, 0x01, 0x00, 0x00, 0x31, 0xdb, 0x31, 0xd2, 0x48, 0x8d, 0x35, 0x40, 0x00, 0x00,
    0x00, 0xff, 0x14, 0xd6, 0xff, 0xc2, 0x39, 0xea, 0x72, 0x02, 0x31, 0xd2, 0xff, 0xc9, 0x75,
    0xf1, 0xf4, 0x83, 0xc3, 0x01, 0xc3, 0x83, 0xc3, 0x08, 0xc3, 0x83, 0xc3, 0x40, 0xc3, 0x81,
    0xc3, 0x00, 0x02, 0x00, 0x00, 0xc3, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, 0xc3, 0x81, 0xc3,
    0x00, 0x80, 0x00, 0x00, 0xc3, 0x81, 0xc3, 0x00, 0x00, 0x04, 0x00, 0xc3, 0x81, 0xc3, 0x00,
    0x00, 0x20, 0x00, 0xc3, 0x90, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x33, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x3a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x41, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x48, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* 64-bit: a table entry at 20000h (f0 at first) flipped between f0 and f1 after each call, another call every 8th round */
static const uint8_t rewrite64_prog[] = {
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x00, 0x00, 0x02, 0x00, 0xc7, 0x06, 0x2e,
    0x00, 0x01, 0x00, 0xbf, 0x1c, 0x00, 0x00, 0x00, 0xff, 0x16, 0x8b, 0x06, 0x31, 0xf8, 0x89,
    0x06, 0xf7, 0xc1, 0x07, 0x00, 0x00, 0x00, 0x75, 0x02, 0xff, 0x16, 0xff, 0xc9, 0x75, 0xea,
    0xf4, 0x83, 0xc3, 0x01, 0xc3, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, 0xc3,
};
/* 64-bit: 200 calls to 30000h (add ebx, imm32 ; ret), its imm32 doubled when ECX & 49 is 0 */
static const uint8_t smc64_prog[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x00, 0x00, 0x03, 0x00, 0xbf, 0x01, 0x00,
    0x00, 0x00, 0xff, 0xd6, 0xf7, 0xc1, 0x31, 0x00, 0x00, 0x00, 0x75, 0x05, 0x01, 0xff, 0x89,
    0x7e, 0x02, 0xff, 0xc9, 0x75, 0xed, 0xf4,
};
/* 64-bit: three calls through EDX to 230000h, then CR3 ^= ESI (the other tables), 20 rounds */
static const uint8_t cr3_64_prog[] = {
    0xb9, 0x14, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xba, 0x00, 0x00, 0x23, 0x00, 0xff, 0xd2, 0xff,
    0xd2, 0xff, 0xd2, 0x0f, 0x20, 0xd8, 0x48, 0x31, 0xf0, 0x0f, 0x22, 0xd8, 0xff, 0xc9, 0x75,
    0xed, 0xf4,
};
/* 64-bit: a loop whose Jccs go taken and not taken in turn */
static const uint8_t alt64_prog[] = {
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xdb, 0x31, 0xd2, 0x83, 0xc2, 0x03, 0xf7,
    0xc1, 0x01, 0x00, 0x00, 0x00, 0x75, 0x05, 0x01, 0xc8, 0x6b, 0xd8, 0x07, 0x01, 0xd3, 0xf7,
    0xc1, 0x02, 0x00, 0x00, 0x00, 0x74, 0x05, 0x83, 0xe8, 0x05, 0x31, 0xc2, 0x39, 0xd8, 0x7c,
    0x03, 0x83, 0xc0, 0x01, 0xff, 0xc9, 0x75, 0xd6, 0xf4,
};
/* 64-bit: a load after a not-taken JA reaching the unmapped page at 400000h */
static const uint8_t fault64_prog[] = {
    0xbe, 0x00, 0xc0, 0x3f, 0x00, 0x31, 0xdb, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x83, 0xc3, 0x01,
    0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, 0x77, 0x18, 0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0x8b,
    0x16, 0x81, 0xc3, 0x00, 0x00, 0x01, 0x00, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, 0xff, 0xc9,
    0x75, 0xdd, 0xf4,
};
/* 32-bit: device reads between not-taken Jccs; the 10th raises the interrupt line */
static const uint8_t irq32_prog[] = {
    0xfb, 0x31, 0xdb, 0xa1, 0x00, 0x00, 0x00, 0xe0, 0x85, 0xc0, 0x75, 0x15, 0x83, 0xc3, 0x01,
    0x8b, 0x15, 0x00, 0x00, 0x00, 0xe0, 0x85, 0xd2, 0x75, 0x08, 0x81, 0xc3, 0x00, 0x01, 0x00,
    0x00, 0xeb, 0xe2, 0xf4,
};
/* S (call rdi/edi ; jmp rsi/esi) run in 64-bit and in compatibility mode, calling T: 64-bit add rax, 1 ; ret, compatibility dec eax ; add eax, 1 ; ret */
static const uint8_t modes_prog[] = {
    0xb9, 0x28, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xdb, 0xbf, 0x50, 0x00, 0x01, 0x00, 0x48,
    0x8d, 0x35, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x29, 0xff, 0x2d, 0x1b, 0x00, 0x00, 0x00, 0xbe,
    0x24, 0x00, 0x01, 0x00, 0xeb, 0x1c, 0x83, 0xc3, 0x01, 0xea, 0x2e, 0x00, 0x01, 0x00, 0x30,
    0x00, 0xff, 0xc9, 0x75, 0xdc, 0xf4, 0x90, 0x90, 0x90, 0x90, 0x90, 0x1d, 0x00, 0x01, 0x00,
    0x08, 0x00, 0x90, 0x90, 0xff, 0xd7, 0xff, 0xe6, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x90, 0x90, 0x90, 0x90, 0x90, 0x48, 0x83, 0xc0, 0x01, 0xc3,
};
/* clang-format on */

static TestVM *ic_prog_vm(const uint8_t *code, size_t len, int mode, Setup setup)
{
    TestVM *vm = make_vm(code, len, mode);
    if (setup) {
        setup(vm);
    }
    return vm;
}

/* Run to the HLT in slices of slice instructions. */
static int run_sliced(TestVM *vm, BT *bt, uint64_t slice)
{
    for (uint64_t done = 0; done < 4000000; done += slice) {
        int r = bt ? bt_exec(bt, slice) : cpu_exec(&vm->cpu, slice);
        if (r != CPU_EXIT_BUDGET) {
            return r;
        }
    }
    return CPU_EXIT_BUDGET;
}

static void assert_same(const TestVM *vm, const TestVM *ref, int m)
{
    for (int r = 0; r < CPU_NB_REGS; r++) {
        ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r],
                      "run %d register %d: translated %016llx, interpreter %016llx", m, r,
                      (unsigned long long)vm->cpu.regs[r], (unsigned long long)ref->cpu.regs[r]);
    }
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    ck_assert_uint_eq(vm->cpu.icount, ref->cpu.icount);
    ck_assert_uint_eq(vm->cpu.hflags & (HF_CS64 | HF_LMA), ref->cpu.hflags & (HF_CS64 | HF_LMA));
    ck_assert_uint_eq(cpu_get_eflags(&vm->cpu), cpu_get_eflags(&ref->cpu));
    ck_assert_int_eq(memcmp(vm->phys.ram, ref->phys.ram, RAM), 0);
}

/*
 * The program on the interpreter, then on bt (in slices of slice) and
 * under check, both of which must agree with it to the byte; the bt run's
 * VM and translator stay for the caller (free both).
 */
static TestVM *ic_lockstep(const uint8_t *code, size_t len, int mode, Setup setup, uint64_t slice,
                           BT **bt_out)
{
    TestVM *ref = ic_prog_vm(code, len, mode, setup);
    ck_assert_int_eq(run_sliced(ref, NULL, 1000000), CPU_EXIT_HALT);
    TestVM *kept = NULL;
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int m = 0; m < 2; m++) {
        TestVM *vm = ic_prog_vm(code, len, mode, setup);
        BT *bt = bt_new(&vm->cpu, 1u << 20, modes[m]);
        ck_assert_ptr_nonnull(bt);
        ck_assert_int_eq(run_sliced(vm, bt, m == 0 ? slice : 1000000), CPU_EXIT_HALT);
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

static const int widths[] = {MODE_LEGACY, MODE_64};

/* ---- inline caches ---- */

static uint32_t ntargets;

static void setup_targets(TestVM *vm)
{
    vm->cpu.regs[R_EBP] = ntargets;
}

/*
 * One call site cycling through 1, 2, 3 and 8 targets.  With one or two
 * the site's two ways hold them all: a handful of misses while it fills.
 * With three the ways thrash until the site stops refilling (BT_IC_FILLS),
 * then keep two of the three; with eight, two of eight.
 */
START_TEST(test_cycle_targets)
{
    static const uint32_t counts[] = {1, 2, 3, 8};
    for (int w = 0; w < 2; w++) {
        for (int c = 0; c < 4; c++) {
            ntargets = counts[c];
            const uint8_t *code = w ? cycle64_prog : cycle32_prog;
            size_t len = w ? sizeof(cycle64_prog) : sizeof(cycle32_prog);
            BT *bt;
            TestVM *vm = ic_lockstep(code, len, widths[w], setup_targets, 1000000, &bt);
            uint32_t expect = 0;
            for (uint32_t i = 0; i < 400; i++) {
                expect += 1u << (3 * (i % ntargets));
            }
            ck_assert_uint_eq(vm->cpu.regs[R_EBX], expect);
            const BTStats *st = bt_stats(bt);
            ck_assert_uint_eq(st->ic_lookups, 400);
            uint64_t hits = st->ic_lookups - st->ic_misses;
            if (ntargets <= 2) {
                ck_assert_uint_lt(st->ic_misses, 6);
            } else {
                ck_assert_uint_gt(hits, ntargets == 3 ? 200 : 50);
            }
            bt_free(bt);
            testvm_free(vm);
        }
    }
}
END_TEST

/* A table entry flipped between two functions after every call: each
 * call must reach the function the table names now. */
START_TEST(test_table_rewritten)
{
    for (int w = 0; w < 2; w++) {
        const uint8_t *code = w ? rewrite64_prog : rewrite32_prog;
        size_t len = w ? sizeof(rewrite64_prog) : sizeof(rewrite32_prog);
        BT *bt;
        TestVM *vm = ic_lockstep(code, len, widths[w], NULL, 1000000, &bt);
        uint32_t expect = 0, table = 0;
        for (uint32_t ecx = 300; ecx > 0; ecx--) {
            expect += table ? 0x1000 : 1;
            table ^= 1;
            if ((ecx & 7) == 0) {
                expect += table ? 0x1000 : 1;
            }
        }
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], expect);
        ck_assert_uint_gt(bt_stats(bt)->ic_lookups - bt_stats(bt)->ic_misses, 250);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

static void setup_smc(TestVM *vm)
{
    static const uint8_t f[] = {0x81, 0xc3, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* add ebx, 1 ; ret */
    testvm_load(vm, 0x30000, f, sizeof(f));
}

/*
 * The called function rewritten after the site cached it: its block is
 * invalidated, and the site must not keep entering the dead block (that
 * would be correct, through the run loop, but every call would leave
 * translated code): the entries of an older invalidation epoch miss.
 */
START_TEST(test_target_rewritten)
{
    for (int w = 0; w < 2; w++) {
        const uint8_t *code = w ? smc64_prog : smc32_prog;
        size_t len = w ? sizeof(smc64_prog) : sizeof(smc32_prog);
        BT *bt;
        TestVM *vm = ic_lockstep(code, len, widths[w], setup_smc, 1000000, &bt);
        uint32_t expect = 0, imm = 1, edi = 1, rewrites = 0;
        for (uint32_t ecx = 200; ecx > 0; ecx--) {
            expect += imm;
            if ((ecx & 49) == 0) {
                edi += edi;
                imm = edi;
                rewrites++;
            }
        }
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], expect);
        const BTStats *st = bt_stats(bt);
        ck_assert_uint_ge(st->invalidations, rewrites);
        ck_assert_uint_lt(st->entries, 2 * rewrites + 20);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/* Second tables that map linear 230000h to physical 30000h: 2-level for
 * 32-bit code, 4-level for 64-bit code; ESI is the XOR of the two CR3s. */
#define PD_B   0x108000u
#define PT_B   0x109000u
#define PML4_B (TESTVM_PML4 + 0x8000)

static void load_two_functions(TestVM *vm)
{
    static const uint8_t code_a[] = {0x83, 0xc3, 0x01, 0xc3}; /* add ebx, 1 ; ret */
    static const uint8_t code_b[] = {0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0xc3}; /* add ebx, 0x100 */
    testvm_load(vm, 0x230000, code_a, sizeof(code_a));
    testvm_load(vm, 0x030000, code_b, sizeof(code_b));
}

static void setup_two_cr3_32(TestVM *vm)
{
    testvm_paged32(vm, TESTVM_NO_PAGE, TESTVM_NO_PAGE);
    memcpy(vm->phys.ram + PD_B, vm->phys.ram + TESTVM_PD, 4096);
    memcpy(vm->phys.ram + PT_B, vm->phys.ram + TESTVM_PT, 4096);
    phys_write(&vm->phys, PD_B, PT_B | 7, 4);
    phys_write(&vm->phys, PT_B + 0x230 * 4, 0x30000 | 7, 4);
    load_two_functions(vm);
    vm->cpu.regs[R_ESI] = TESTVM_PD ^ PD_B;
}

static void setup_two_cr3_64(TestVM *vm)
{
    const uint32_t entries[][2] = {{PML4_B, (PML4_B + 0x1000) | 7},
                                   {PML4_B + 0x1000, (PML4_B + 0x2000) | 7},
                                   {PML4_B + 0x2000, 0x000000 | 0x87},
                                   {PML4_B + 0x2008, 0x000000 | 0x87}};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        phys_write(&vm->phys, entries[i][0], entries[i][1], 4);
        phys_write(&vm->phys, entries[i][0] + 4, 0, 4);
    }
    load_two_functions(vm);
    vm->cpu.regs[R_ESI] = TESTVM_PML4 ^ PML4_B;
}

/* CR3 writes between calls through a register to 230000h, which the two
 * sets of tables map to different code: a hit must re-check the mapping.
 * Each site's two ways end up holding the two blocks of the one address,
 * and the way the mapping fits is the one that hits. */
START_TEST(test_cr3_change)
{
    for (int w = 0; w < 2; w++) {
        const uint8_t *code = w ? cr3_64_prog : cr3_32_prog;
        size_t len = w ? sizeof(cr3_64_prog) : sizeof(cr3_32_prog);
        BT *bt;
        TestVM *vm = ic_lockstep(code, len, widths[w], w ? setup_two_cr3_64 : setup_two_cr3_32,
                                 1000000, &bt);
        ck_assert_uint_eq(vm->cpu.regs[R_EBX], 10 * 3 * 1 + 10 * 3 * 0x100);
        ck_assert_uint_gt(bt_stats(bt)->ic_lookups - bt_stats(bt)->ic_misses, 25);
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/* GDT[6] (selector 30h): a ring-0 64-bit code segment (L set, D clear). */
static void setup_code64_selector(TestVM *vm)
{
    phys_write(&vm->phys, TESTVM_GDT + 0x30, 0x0000ffffu, 4);
    phys_write(&vm->phys, TESTVM_GDT + 0x34, 0x00af9b00u, 4);
}

/*
 * One site at one linear address run in 64-bit and in compatibility mode
 * in turn, 40 rounds: each mode's block of the site has its own inline
 * cache, filled under its own key, so the 64-bit call reaches T's 64-bit
 * block (RAX + 1) and the compatibility-mode one T's other block (EAX
 * unchanged).
 */
START_TEST(test_modes_same_site)
{
    BT *bt;
    TestVM *vm =
        ic_lockstep(modes_prog, sizeof(modes_prog), MODE_64, setup_code64_selector, 1000000, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 40);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 40);
    ck_assert_uint_gt(bt_stats(bt)->compat_blocks, 0);
    ck_assert_uint_gt(bt_stats(bt)->ic_lookups - bt_stats(bt)->ic_misses, 60);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* ---- superblocks ---- */

/* Jccs taken and not taken in turn, whole and in slices of 1 to 11
 * instructions: the taken side's refund keeps every count exact. */
START_TEST(test_alternating_jcc)
{
    static const uint64_t slices[] = {1000000, 1, 2, 3, 5, 7, 11};
    for (int w = 0; w < 2; w++) {
        for (size_t s = 0; s < sizeof(slices) / sizeof(slices[0]); s++) {
            const uint8_t *code = w ? alt64_prog : alt32_prog;
            size_t len = w ? sizeof(alt64_prog) : sizeof(alt32_prog);
            BT *bt;
            TestVM *vm = ic_lockstep(code, len, widths[w], NULL, slices[s], &bt);
            ck_assert_uint_gt(bt_stats(bt)->superblocks, 0);
            bt_free(bt);
            testvm_free(vm);
        }
    }
}
END_TEST

/* A device whose 10th read raises the interrupt line (vector 40h). */
typedef struct Device {
    CPUState *cpu;
    int reads;
} Device;

static uint32_t dev_read(void *opaque, uint32_t offset, int size)
{
    Device *d = opaque;
    (void)offset;
    (void)size;
    if (++d->reads == 10) {
        cpu_set_interrupt(d->cpu, CPU_INTERRUPT_HARD);
    }
    return 0;
}

static void dev_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    (void)opaque;
    (void)offset;
    (void)value;
    (void)size;
}

static const MMIOOps dev_ops = {dev_read, dev_write};

static int dev_ack(void *opaque)
{
    Device *d = opaque;
    cpu_clear_interrupt(d->cpu, CPU_INTERRUPT_HARD);
    return 0x40;
}

/*
 * An interrupt raised by a device read in the part of a superblock after
 * a Jcc: translated code takes interrupts at block ends, so the block
 * must leave at its next Jcc (its fall-through checks for an exit
 * request, as a block end does) and not run on to its end.  The
 * interpreter takes it right after the read; translated code runs the
 * TEST and JNZ after the read too, and nothing more: the same reads and
 * EBX (the ADD after the JNZ is not run), two more instructions.
 */
START_TEST(test_interrupt_mid_superblock)
{
    TestVM *vm[3];
    Device dev[3];
    BT *bt[3] = {NULL, NULL, NULL};
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int e = 0; e < 3; e++) {
        vm[e] = make_vm(irq32_prog, sizeof(irq32_prog), MODE_LEGACY);
        dev[e] = (Device){&vm[e]->cpu, 0};
        phys_map_mmio(&vm[e]->phys, 0xe0000000u, 0x1000, &dev_ops, &dev[e], 1);
        vm[e]->cpu.hooks.opaque = &dev[e];
        vm[e]->cpu.hooks.irq_ack = dev_ack;
        if (e > 0) {
            bt[e] = bt_new(&vm[e]->cpu, 1u << 20, modes[e - 1]);
        }
        ck_assert_int_eq(run_sliced(vm[e], bt[e], 1000000), CPU_EXIT_HALT);
        ck_assert_int_eq(testvm_last_vector(vm[e]), 0x40);
        ck_assert_int_eq(dev[e].reads, 10);
        ck_assert_uint_eq(vm[e]->cpu.regs[R_EBX], 0x405);
    }
    ck_assert_uint_eq(vm[1]->cpu.icount, vm[0]->cpu.icount + 2);
    ck_assert_uint_gt(bt_stats(bt[1])->superblocks, 0);
    for (int e = 0; e < 3; e++) {
        bt_free(bt[e]);
        testvm_free(vm[e]);
    }
}
END_TEST

static void setup_paged32(TestVM *vm)
{
    testvm_paged32(vm, TESTVM_NO_PAGE, TESTVM_NO_PAGE);
}

/*
 * A load after a not-taken JA reaching the unmapped page at 400000h:
 * #PF at the load with EBX counting the instructions before it exactly.
 * 32-bit code takes it through the test VM's gate (the frame, with the
 * faulting EIP, compared in RAM); in 64-bit code the fault as the CPU
 * raises it is compared (the test VM's gates are 32-bit).
 */
START_TEST(test_fault_after_jcc)
{
    BT *bt;
    TestVM *vm =
        ic_lockstep(fault32_prog, sizeof(fault32_prog), MODE_LEGACY, setup_paged32, 1000000, &bt);
    ck_assert_int_eq(testvm_last_vector(vm), EXC_PF);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 4 * 0x10101 + 0x101);
    ck_assert_uint_gt(bt_stats(bt)->superblocks, 0);
    bt_free(bt);
    testvm_free(vm);

    FirstFault f[2];
    TestVM *v[2];
    for (int e = 0; e < 2; e++) {
        v[e] = make_vm(fault64_prog, sizeof(fault64_prog), MODE_64);
        f[e] = (FirstFault){.vector = -1};
        v[e]->cpu.hooks.observer = &f[e];
        v[e]->cpu.hooks.on_exception = first_fault_note;
    }
    testvm_run(v[0], 10000);
    bt = bt_new(&v[1]->cpu, 1u << 20, BT_MODE_RUN);
    bt_exec(bt, 10000);
    for (int e = 0; e < 2; e++) {
        ck_assert_int_eq(f[e].vector, EXC_PF);
        ck_assert_uint_eq(f[e].rbx, 4 * 0x10101 + 0x101);
    }
    ck_assert_uint_eq(f[1].rip, f[0].rip);
    ck_assert_uint_eq(f[1].error, f[0].error);
    ck_assert_uint_eq(f[1].rsp, f[0].rsp);
    ck_assert_uint_gt(bt_stats(bt)->superblocks, 0);
    bt_free(bt);
    for (int e = 0; e < 2; e++) {
        testvm_free(v[e]);
    }
}
END_TEST

static Suite *ic_suite(void)
{
    Suite *s = suite_create("translator_ic");
    TCase *tc = tcase_create("inline_cache");
    tcase_add_test(tc, test_cycle_targets);
    tcase_add_test(tc, test_table_rewritten);
    tcase_add_test(tc, test_target_rewritten);
    tcase_add_test(tc, test_cr3_change);
    tcase_add_test(tc, test_modes_same_site);
    suite_add_tcase(s, tc);
    TCase *sb = tcase_create("superblock");
    tcase_add_test(sb, test_alternating_jcc);
    tcase_add_test(sb, test_interrupt_mid_superblock);
    tcase_add_test(sb, test_fault_after_jcc);
    suite_add_tcase(s, sb);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
