/*
 * x87 and FXSR instructions on the whole CPU: the run loop delivering #MF
 * through the IDT at the next waiting instruction (CR0.NE=1) or raising
 * FERR# instead (NE=0), and memory operands through the real page walker,
 * where an operand that runs into a not-present page must fault before
 * anything is stored, popped or loaded (SDM Vol.3 6.5: faults are
 * restartable).  Uses the protected-mode fixture (tests/unit/pm_fixture.h).
 */
#include <check.h>
#include <string.h>

#include "cpu/ops.h"
#include "pm_fixture.h"
#include "softmmu/mmu.h"

#define CODE_BASE  0x6000u
#define MF_HANDLER 0x7000u
#define DATA_CW    0x8000u
#define PD_BASE    0x20000u
#define PT_BASE    0x21000u
#define HOLE       0x50000u /* the one not-present page */

#define A32(a)                                                                                     \
    (uint8_t)((a)&0xff), (uint8_t)(((a) >> 8) & 0xff), (uint8_t)(((a) >> 16) & 0xff),              \
        (uint8_t)(((a) >> 24) & 0xff)
#define RUN(...)                                                                                   \
    run_code((const uint8_t[]){__VA_ARGS__}, (int)sizeof((const uint8_t[]){__VA_ARGS__}))

static PMFixture fx;
static CPUState *cpu;

static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
    cpu->cr0 |= CR0_NE;
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

static void put_code(uint32_t addr, const uint8_t *code, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        pm_wr8(&fx, addr + (uint32_t)i, code[i]);
    }
}

/* ---- #MF and FERR# through the run loop ---- */

/* fldcw [DATA_CW]; fld1; fldz; fdivp st1, st0; nop; fwait; hlt */
static const uint8_t divide_by_zero_prog[] = {
    0xd9, 0x2d, A32(DATA_CW), /* 6000 */
    0xd9, 0xe8,               /* 6006 */
    0xd9, 0xee,               /* 6008 */
    0xde, 0xf9,               /* 600a: 1/0 with ZE unmasked */
    0x90,                     /* 600c */
    0x9b,                     /* 600d: fwait */
    0xf4,                     /* 600e */
};

static void load_divide_by_zero(void)
{
    put_code(CODE_BASE, divide_by_zero_prog, sizeof(divide_by_zero_prog));
    pm_wr16(&fx, DATA_CW, 0x037b); /* ZM = 0 */
    pm_wr8(&fx, MF_HANDLER, 0xf4);
    idt_set(&fx, EXC_MF, make_gate(SEL_CODE0, MF_HANDLER, SYS_INT_GATE32, 0, 0));
    cpu->eip = CODE_BASE;
}

START_TEST(test_mf_delivered_at_next_waiting_insn)
{
    load_divide_by_zero();
    uint32_t esp = cpu->regs[R_ESP];
    ck_assert_int_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    ck_assert_uint_eq(cpu->eip, MF_HANDLER + 1);
    /* #MF is a fault on the FWAIT: the frame returns to it. */
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 12);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 12), 0x600d);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 8) & 0xffff, SEL_CODE0);
    /* The FPU names the FDIVP as the failing instruction. */
    ck_assert_uint_eq(cpu->fpu.fip, 0x600a);
    ck_assert_uint_eq(cpu->fpu.fcs, SEL_CODE0);
    ck_assert_uint_eq(cpu->fpu.fop, 0x6f9);
    ck_assert(!cpu->ferr_pending);
}
END_TEST

START_TEST(test_ferr_when_ne_clear)
{
    cpu->cr0 &= ~CR0_NE;
    load_divide_by_zero();
    ck_assert_int_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    ck_assert_uint_eq(cpu->eip, 0x600f); /* ran on to the HLT */
    ck_assert(cpu->ferr_pending);
}
END_TEST

/* ---- page faults on x87 memory operands ---- */

/* Identity-map the 2 MiB of RAM with 4 KiB pages, HOLE not present. */
static void enable_paging(void)
{
    pm_wr32(&fx, PD_BASE, PT_BASE | 0x3);
    for (uint32_t i = 0; i < PM_RAM_SIZE >> 12; i++) {
        pm_wr32(&fx, PT_BASE + 4 * i, (i << 12) == HOLE ? 0 : ((i << 12) | 0x3));
    }
    cpu->cr3 = PD_BASE;
    cpu->cr0 |= CR0_PG;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

static void fill(uint32_t addr, uint32_t len, uint8_t v)
{
    for (uint32_t i = 0; i < len; i++) {
        pm_wr8(&fx, addr + i, v);
    }
}

static bool untouched(uint32_t addr, uint32_t len, uint8_t v)
{
    for (uint32_t i = 0; i < len; i++) {
        if (pm_rd8(&fx, addr + i) != v) {
            return false;
        }
    }
    return true;
}

static void assert_pf_at_hole(bool write)
{
    ck_assert_uint_eq(cpu->cr2, HOLE);
    ck_assert_uint_eq(cpu->exception_error & (PF_ERR_P | PF_ERR_W), write ? PF_ERR_W : 0);
}

static int fpu_top(void)
{
    return cpu->fpu.top;
}

START_TEST(test_stores_across_hole_store_nothing)
{
    enable_paging();
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1); /* fld1 */
    ck_assert_int_eq(RUN(0xd9, 0xeb), -1); /* fldpi */
    fill(HOLE - 0x100, 0x100, 0x5a);

    ck_assert_int_eq(RUN(0xdb, 0x3d, A32(HOLE - 4)), EXC_PF); /* fstp tbyte */
    assert_pf_at_hole(true);
    ck_assert_int_eq(fpu_top(), 6);
    ck_assert_int_eq(RUN(0xdd, 0x1d, A32(HOLE - 4)), EXC_PF); /* fstp qword */
    ck_assert_int_eq(RUN(0xdf, 0x35, A32(HOLE - 8)), EXC_PF); /* fbstp */
    ck_assert_int_eq(fpu_top(), 6);

    pm_wr16(&fx, DATA_CW, 0x0372); /* unmask IE and ZE */
    ck_assert_int_eq(RUN(0xd9, 0x2d, A32(DATA_CW)), -1);
    ck_assert_int_eq(RUN(0xd9, 0x35, A32(HOLE - 16)), EXC_PF); /* fnstenv: 28 bytes */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x0372);                   /* masks not set */
    ck_assert_int_eq(RUN(0xdd, 0x35, A32(HOLE - 64)), EXC_PF); /* fnsave: 108 bytes */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x0372);                   /* no FNINIT */
    ck_assert_int_eq(fpu_top(), 6);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(HOLE - 256)), EXC_PF); /* fxsave */
    assert_pf_at_hole(true);
    ck_assert(untouched(HOLE - 0x100, 0x100, 0x5a));
}
END_TEST

START_TEST(test_loads_across_hole_change_nothing)
{
    enable_paging();
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1); /* fld1 */
    uint16_t fcw = cpu->fpu.fcw;
    ck_assert_int_eq(RUN(0xdb, 0x2d, A32(HOLE - 4)), EXC_PF); /* fld tbyte */
    assert_pf_at_hole(false);
    ck_assert_int_eq(fpu_top(), 7);
    ck_assert_int_eq(RUN(0xd8, 0x05, A32(HOLE - 2)), EXC_PF);         /* fadd dword */
    ck_assert_int_eq(RUN(0xd9, 0x25, A32(HOLE - 16)), EXC_PF);        /* fldenv */
    ck_assert_int_eq(RUN(0xdd, 0x25, A32(HOLE - 64)), EXC_PF);        /* frstor */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(HOLE - 256)), EXC_PF); /* fxrstor */
    assert_pf_at_hole(false);
    ck_assert_int_eq(fpu_top(), 7);
    ck_assert_uint_eq(cpu->fpu.fcw, fcw);
    ck_assert_uint_eq(cpu->fpu.fip, cpu->eip - 2); /* still the FLD1 */
}
END_TEST

/* Operands that straddle two present pages work like any other. */
START_TEST(test_operands_across_present_pages)
{
    enable_paging();
    uint32_t at = HOLE - 0x1000;           /* the page before HOLE-0x1000 is present too */
    ck_assert_int_eq(RUN(0xd9, 0xeb), -1); /* fldpi */
    ck_assert_int_eq(RUN(0xdb, 0x3d, A32(at - 4)), -1);         /* fstp tbyte */
    ck_assert_int_eq(pm_rd32(&fx, at - 4), 0x2168c235u);        /* low significand */
    ck_assert_int_eq(pm_rd16(&fx, at + 4), 0x4000);             /* sign/exponent */
    ck_assert_int_eq(RUN(0xdb, 0x2d, A32(at - 4)), -1);         /* fld tbyte */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(at - 256)), -1); /* fxsave */
    ck_assert_uint_eq(pm_rd32(&fx, at - 256 + 32), 0x2168c235u);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);                      /* fninit */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(at - 256)), -1); /* fxrstor */
    ck_assert_int_eq(fpu_top(), 7);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
}
END_TEST

/*
 * FXSAVE and FXRSTOR across two pages that are not neighbours in physical
 * memory: each part lands in its own frame (the image is copied a page at
 * a time where the TLB allows, cpu/fpu_load.c), and a write to a page
 * holding code still reaches the code-write check.
 */
START_TEST(test_fxsave_across_scattered_pages)
{
    enable_paging();
    const uint32_t lin = 0x40000u, frame2 = 0x60000u; /* lin + 4 KiB -> frame2 */
    pm_wr32(&fx, PT_BASE + 4 * ((lin + 0x1000) >> 12), frame2 | 0x3);
    tlb_flush_all(cpu);
    fill(lin + 0x1000, 0x100, 0x5a); /* what the identity frame holds: never written */
    ck_assert_int_eq(RUN(0xd9, 0xeb), -1);                             /* fldpi */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(lin + 0x1000 - 32)), -1); /* fxsave */
    ck_assert_uint_eq(pm_rd16(&fx, lin + 0x1000 - 32), 0x037f);       /* FCW, first page */
    ck_assert_uint_eq(pm_rd32(&fx, frame2), 0x2168c235u);             /* ST0 at +32 */
    ck_assert(untouched(lin + 0x1000, 0x100, 0x5a));
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);                             /* fninit */
    pm_wr32(&fx, frame2 + 4, 0xc90fdaa2u ^ 1);                         /* ST0's high dword, changed */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0d, A32(lin + 0x1000 - 32)), -1); /* fxrstor */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x05, A32(0x30000)), -1);       /* fxsave, one page */
    ck_assert_uint_eq(pm_rd32(&fx, 0x30000 + 36), 0xc90fdaa2u ^ 1);
}
END_TEST

static Suite *fpu_machine_suite(void)
{
    Suite *s = suite_create("fpu_machine");
    TCase *tc = tcase_create("delivery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mf_delivered_at_next_waiting_insn);
    tcase_add_test(tc, test_ferr_when_ne_clear);
    suite_add_tcase(s, tc);
    tc = tcase_create("paging");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stores_across_hole_store_nothing);
    tcase_add_test(tc, test_loads_across_hole_change_nothing);
    tcase_add_test(tc, test_operands_across_present_pages);
    tcase_add_test(tc, test_fxsave_across_scattered_pages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_machine_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
