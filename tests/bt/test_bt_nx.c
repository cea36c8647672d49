/*
 * Execute-disable and translated code: a guest runs a function often
 * enough for the translator to have it translated, chained and in the
 * jump cache, then sets XD in the function's PTE, INVLPGs it and calls
 * it again.  The call must raise #PF with P and I/D set (error 11h), CR2
 * and the saved EIP at the function, under the translator as under the
 * interpreter.  Variants: a direct call, an indirect call (jump cache),
 * and code that marks its own page NX (the block after INVLPG).
 *
 * PAE paging identity-maps the first 2 MiB with 4 KiB pages; ring 0.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define RAM    (2u << 20)
#define PDPT   0x100000u
#define PD     0x101000u
#define PT     0x102000u
#define MAIN   0x10000u
#define FUNC   0x30000u /* add eax, 1 ; ret */
#define LOOPS  1000
#define BUDGET 200000

enum { VAR_DIRECT, VAR_INDIRECT, VAR_SELF, VAR_COUNT };

static void put32(TestVM *vm, uint32_t paddr, uint32_t v)
{
    phys_write(&vm->phys, paddr, v, 4);
}

static uint32_t get32(TestVM *vm, uint32_t paddr)
{
    return phys_read(&vm->phys, paddr, 4);
}

/* Append bytes to the code buffer. */
typedef struct Code {
    uint8_t b[256];
    uint32_t n;
} Code;

static void emit(Code *c, const uint8_t *bytes, uint32_t len)
{
    memcpy(c->b + c->n, bytes, len);
    c->n += len;
}

static void emit32(Code *c, uint32_t v)
{
    emit(c, (const uint8_t *)&v, 4);
}

/*
 * The main program at MAIN; returns the linear address expected to fault.
 * The loop runs LOOPS times, then XD goes on and the same loop runs once
 * more, so the very block (and chained exit, or jump-cache entry) that
 * called FUNC before is what must fault now:
 *       mov ecx, LOOPS ; mov edi, FUNC
 *   loop: call FUNC | call edi | (nothing: VAR_SELF)
 *       dec ecx ; jnz loop
 *       or dword [PTE(page) + 4], 80000000h ; invlpg [page]
 *       mov ecx, 1 ; jmp loop
 */
static uint32_t build_main(Code *c, int variant)
{
    uint32_t target = FUNC;
    emit(c, (const uint8_t[]){0xb9}, 1); /* mov ecx, LOOPS */
    emit32(c, LOOPS);
    emit(c, (const uint8_t[]){0xbf}, 1); /* mov edi, FUNC */
    emit32(c, FUNC);
    uint32_t loop = c->n;
    if (variant == VAR_INDIRECT) {
        emit(c, (const uint8_t[]){0xff, 0327}, 2); /* call edi (FF /2, mod 11 reg 010 rm 111) */
    } else if (variant == VAR_DIRECT) {
        emit(c, (const uint8_t[]){0xe8}, 1); /* call rel32 FUNC */
        emit32(c, FUNC - (MAIN + c->n + 4));
    } else {
        emit(c, (const uint8_t[]){0x40}, 1); /* inc eax */
    }
    emit(c, (const uint8_t[]){0x49}, 1);                               /* dec ecx */
    emit(c, (const uint8_t[]){0x75, (uint8_t)(loop - (c->n + 2))}, 2); /* jnz loop */
    uint32_t page = variant == VAR_SELF ? MAIN : FUNC;
    /* or dword [PT + page/4096*8 + 4], 80000000h: XD is bit 63 of the PTE */
    emit(c, (const uint8_t[]){0x81, 0015}, 2); /* 81 /1, mod 00 reg 001 rm 101: disp32 */
    emit32(c, PT + (page >> 12) * 8 + 4);
    emit32(c, 0x80000000u);
    emit(c, (const uint8_t[]){0x0f, 0x01, 0075}, 3); /* invlpg [disp32] (0F 01 /7) */
    emit32(c, page);
    if (variant == VAR_SELF) {
        target = MAIN + c->n; /* the next instruction is on the page just marked NX */
    }
    emit(c, (const uint8_t[]){0xb9}, 1); /* mov ecx, 1 */
    emit32(c, 1);
    emit(c, (const uint8_t[]){0xe9}, 1); /* jmp loop */
    emit32(c, loop - (c->n + 4));
    return target;
}

typedef struct Outcome {
    int vector;
    uint32_t error, cr2, fault_eip, eax;
    uint64_t blocks, interp_insns;
} Outcome;

/* engine: -1 interpreter, else an enum BTMode. */
static Outcome run_variant(int variant, int engine, uint32_t *expect_lin)
{
    TestVM *vm = testvm_new(RAM);
    Code c = {.n = 0};
    *expect_lin = build_main(&c, variant);
    testvm_load(vm, MAIN, c.b, c.n);
    testvm_load(vm, FUNC, (const uint8_t[]){0x83, 0300, 0x01, 0xc3}, 4); /* add eax, 1 ; ret */
    testvm_flat32(vm, 0, MAIN);
    CPUState *cpu = &vm->cpu;
    put32(vm, PDPT, PD | 1);
    put32(vm, PD, PT | 3);
    for (uint32_t i = 0; i < 512; i++) {
        put32(vm, PT + 8 * i, i << 12 | 3);
    }
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
    cpu_write_cr4(cpu, CR4_PAE);
    cpu_write_cr3(cpu, PDPT);
    cpu_write_cr0(cpu, cpu->cr0 | CR0_PG);
    BT *bt = engine >= 0 ? bt_new(cpu, 4u << 20, (enum BTMode)engine) : NULL;
    while (cpu->icount < BUDGET && !cpu->halted) {
        uint64_t left = BUDGET - cpu->icount;
        int r = bt ? bt_exec(bt, left) : cpu_exec(cpu, left);
        if (r == CPU_EXIT_HALT) {
            break;
        }
        ck_assert_int_eq(r, CPU_EXIT_BUDGET);
    }
    Outcome o = {.vector = testvm_last_vector(vm), .cr2 = cpu->cr2, .eax = cpu->regs[R_EAX]};
    uint32_t esp = cpu->regs[R_ESP];
    o.error = get32(vm, esp);
    o.fault_eip = get32(vm, esp + 4);
    if (bt) {
        o.blocks = bt_stats(bt)->blocks_translated;
        o.interp_insns = bt_stats(bt)->interp_insns;
        bt_free(bt);
    }
    testvm_free(vm);
    return o;
}

START_TEST(test_nx_after_translation)
{
    int variant = _i;
    for (int engine = -1; engine <= BT_MODE_CHECK; engine++) {
        uint32_t lin;
        Outcome o = run_variant(variant, engine, &lin);
        ck_assert_msg(o.vector == EXC_PF, "variant %d engine %d: vector %d", variant, engine,
                      o.vector);
        ck_assert_msg(o.error == (PF_ERR_P | PF_ERR_I), "variant %d engine %d: error %#x", variant,
                      engine, o.error);
        ck_assert_uint_eq(o.cr2, lin);
        ck_assert_uint_eq(o.fault_eip, lin);
        ck_assert_uint_eq(o.eax, LOOPS); /* FUNC ran LOOPS times, never after XD */
        if (engine >= 0) {
            /* The loop ran as translated code before FUNC became NX. */
            ck_assert_uint_gt(o.blocks, 0);
            ck_assert_uint_lt(o.interp_insns, LOOPS);
        }
    }
}
END_TEST

static Suite *bt_nx_suite(void)
{
    Suite *s = suite_create("bt_nx");
    TCase *tc = tcase_create("nx");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_nx_after_translation, 0, VAR_COUNT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bt_nx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
