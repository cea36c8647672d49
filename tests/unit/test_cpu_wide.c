/*
 * The widened CPUState (issue 19, step 1): sixteen 64-bit registers, a
 * 64-bit instruction pointer, 64-bit lazy-flag operands with the CC_OP_*Q
 * group members, 64-bit segment and table bases.
 *
 *  - the flags of every lazy operation at quadword size against the host
 *    CPU running the same operation on the same 64-bit operands (this host
 *    is x86-64; flags the SDM leaves undefined are masked);
 *  - register writes by size: byte and word keep bits 63..8/16, a dword
 *    zero-extends (SDM Vol.1 3.4.1.1);
 *  - the invariant the translator relies on: 32-bit code, interpreted or
 *    translated, leaves the high halves zero and R8-R15 alone;
 *  - the saved VM's cpu section carries all 64 bits of each.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "hw/pc/vmstate_pc.h"
#include "migration/vmstate.h"
#include "tests/support/testvm.h"
#include "translator/translator.h"

#define F_ALL (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* ---- 64-bit lazy flags against the host ---- */

typedef enum HostOp {
    H_ADD,
    H_ADC,
    H_SUB,
    H_SBB,
    H_AND,
    H_INC,
    H_DEC,
    H_SHL,
    H_SHR,
    H_SAR,
    H_IMUL,
    H_NEG,
    H_COUNT
} HostOp;

/* Runs op on the host with CF = cin first; returns the result and the
 * host's RFLAGS after it. */
static uint64_t host_op(HostOp op, uint64_t a, uint64_t b, bool cin, uint64_t *flags)
{
    uint64_t r = a, f;
    uint8_t count = (uint8_t)b;
    /* bt sets CF from cin; every op below then writes the flags. */
    uint64_t c = cin;
    switch (op) {
    case H_ADD:
        __asm__("bt $0, %2\n\tadd %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    case H_ADC:
        __asm__("bt $0, %2\n\tadc %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    case H_SUB:
        __asm__("bt $0, %2\n\tsub %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    case H_SBB:
        __asm__("bt $0, %2\n\tsbb %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    case H_AND:
        __asm__("bt $0, %2\n\tand %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    case H_INC:
        __asm__("bt $0, %2\n\tinc %0\n\tpushfq\n\tpop %1" : "+r"(r), "=r"(f) : "r"(c) : "cc");
        break;
    case H_DEC:
        __asm__("bt $0, %2\n\tdec %0\n\tpushfq\n\tpop %1" : "+r"(r), "=r"(f) : "r"(c) : "cc");
        break;
    case H_SHL:
        __asm__("bt $0, %2\n\tshl %%cl, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "c"(count)
                : "cc");
        break;
    case H_SHR:
        __asm__("bt $0, %2\n\tshr %%cl, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "c"(count)
                : "cc");
        break;
    case H_SAR:
        __asm__("bt $0, %2\n\tsar %%cl, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "c"(count)
                : "cc");
        break;
    case H_IMUL:
        __asm__("bt $0, %2\n\timul %3, %0\n\tpushfq\n\tpop %1"
                : "+r"(r), "=r"(f)
                : "r"(c), "r"(b)
                : "cc");
        break;
    default:
        __asm__("bt $0, %2\n\tneg %0\n\tpushfq\n\tpop %1" : "+r"(r), "=r"(f) : "r"(c) : "cc");
        break;
    }
    *flags = f;
    return r;
}

/* The lazy state the interpreter's handlers record for the same operation
 * (cpu/ops_alu.c, ops_shift.c, ops_muldiv.c conventions); the flags the SDM
 * defines for it go to *defined. */
static void lazy_state(CPUState *cpu, HostOp op, uint64_t a, uint64_t b, bool cin, uint64_t res,
                       uint32_t *defined)
{
    cpu->cc_aux = 0;
    *defined = F_ALL;
    switch (op) {
    case H_ADD: cpu->cc_op = CC_OP_ADDQ; break;
    case H_ADC:
        cpu->cc_op = CC_OP_ADCQ;
        cpu->cc_aux = cin;
        break;
    case H_SUB: cpu->cc_op = CC_OP_SUBQ; break;
    case H_SBB:
        cpu->cc_op = CC_OP_SBBQ;
        cpu->cc_aux = cin;
        break;
    case H_AND:
        cpu->cc_op = CC_OP_LOGICQ;
        *defined &= ~EFLAGS_AF;
        break;
    case H_INC:
        cpu->cc_op = CC_OP_INCQ;
        cpu->cc_aux = cin;
        b = 1;
        break;
    case H_DEC:
        cpu->cc_op = CC_OP_DECQ;
        cpu->cc_aux = cin;
        b = 1;
        break;
    case H_SHL:
    case H_SHR:
    case H_SAR:
        cpu->cc_op = op == H_SHL ? CC_OP_SHLQ : op == H_SHR ? CC_OP_SHRQ : CC_OP_SARQ;
        b &= 63;
        /* AF undefined; OF defined for a count of 1 only */
        *defined &= ~(EFLAGS_AF | (b == 1 ? 0 : EFLAGS_OF));
        break;
    case H_IMUL: {
        cpu->cc_op = CC_OP_MULQ;
        __int128 full = (__int128)(int64_t)a * (int64_t)b;
        cpu->cc_aux = full != (__int128)(int64_t)res;
        *defined = EFLAGS_CF | EFLAGS_OF; /* SF, ZF, AF, PF undefined */
        break;
    }
    default: /* NEG is 0 - a */
        cpu->cc_op = CC_OP_SUBQ;
        b = a;
        a = 0;
        break;
    }
    cpu->cc_res = res;
    cpu->cc_src1 = a;
    cpu->cc_src2 = b;
}

static bool cond_from_flags(uint32_t f, int cc)
{
    bool cf = f & EFLAGS_CF, zf = f & EFLAGS_ZF, sf = f & EFLAGS_SF, of = f & EFLAGS_OF;
    bool r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = f & EFLAGS_PF; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return r != (cc & 1);
}

static uint32_t cond_inputs(int cc)
{
    static const uint32_t in[8] = {EFLAGS_OF,
                                   EFLAGS_CF,
                                   EFLAGS_ZF,
                                   EFLAGS_CF | EFLAGS_ZF,
                                   EFLAGS_SF,
                                   EFLAGS_PF,
                                   EFLAGS_SF | EFLAGS_OF,
                                   EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF};
    return in[cc >> 1];
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Operands that reach the edges: 0, 1, the sign boundary, all ones, and
 * random values with random bits cleared. */
static uint64_t operand(void)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     2,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     0xffffffffffffffffull,
                                     0xffffffffull,
                                     0x100000000ull,
                                     0x0f,
                                     0x10,
                                     0x80000000ull};
    uint64_t r = rng64();
    switch (r & 7) {
    case 0: return edges[(r >> 3) % (sizeof(edges) / sizeof(edges[0]))];
    case 1: return rng64() & rng64();
    default: return rng64();
    }
}

START_TEST(test_flags64_host_oracle)
{
    CPUState *cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    for (int i = 0; i < 200000; i++) {
        HostOp op = (HostOp)(i % H_COUNT);
        uint64_t a = operand(), b = operand();
        bool cin = rng64() & 1;
        if (op == H_SHL || op == H_SHR || op == H_SAR) {
            b = 1 + rng64() % 63; /* count 0 leaves the flags: not a lazy state */
        }
        uint64_t host_flags;
        uint64_t res = host_op(op, a, b, cin, &host_flags);
        uint32_t defined;
        lazy_state(cpu, op, a, b, cin, res, &defined);
        uint32_t want = (uint32_t)host_flags & F_ALL;
        /* the lazy fast paths first, before anything materialises */
        for (int cc = 0; cc < 16; cc++) {
            if ((cond_inputs(cc) & defined) == cond_inputs(cc) &&
                flags_condition(cpu, cc) != cond_from_flags(want, cc)) {
                ck_abort_msg("op %d a %016" PRIx64 " b %016" PRIx64 " cin %d: condition %d", op, a,
                             b, cin, cc);
            }
        }
        if ((defined & EFLAGS_CF) && flags_carry(cpu) != !!(want & EFLAGS_CF)) {
            ck_abort_msg("op %d a %016" PRIx64 " b %016" PRIx64 " cin %d: carry", op, a, b, cin);
        }
        uint32_t got = flags_compute(cpu) & defined;
        if (got != (want & defined)) {
            ck_abort_msg("op %d a %016" PRIx64 " b %016" PRIx64 " cin %d: flags %03x, host %03x "
                         "(mask %03x)",
                         op, a, b, cin, got, want & defined, defined);
        }
    }
    free(cpu);
}
END_TEST

/* The smaller sizes still look at their own bits only: a quadword of
 * garbage above a byte operation changes nothing. */
START_TEST(test_flags_sizes_ignore_high_bits)
{
    CPUState *cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    /* ADDB 0xff + 0x01 = 0x00 with bits above set: CF ZF AF PF */
    cpu->cc_op = CC_OP_ADDB;
    cpu->cc_res = 0xdeadbeef12345600ull;
    cpu->cc_src1 = 0xffffffffffffffffull;
    cpu->cc_src2 = 0x8000000000000001ull;
    ck_assert_uint_eq(flags_compute(cpu), EFLAGS_CF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF);
    /* the same operands as ADDQ: 0xffff...ff + 0x8000...01 carries, no zero */
    cpu->cc_op = CC_OP_ADDQ;
    cpu->cc_res = 0x8000000000000000ull;
    ck_assert(flags_carry(cpu));
    ck_assert(!flags_condition(cpu, 4)); /* not Z */
    ck_assert(flags_condition(cpu, 8));  /* S */
    /* SUBL compares the low dwords: 1 - 2 borrows; SUBQ with 2^32 above does not */
    cpu->cc_op = CC_OP_SUBL;
    cpu->cc_src1 = 0x100000001ull;
    cpu->cc_src2 = 2;
    cpu->cc_res = cpu->cc_src1 - cpu->cc_src2;
    ck_assert(flags_condition(cpu, 2)); /* B */
    cpu->cc_op = CC_OP_SUBQ;
    ck_assert(!flags_condition(cpu, 2));
    ck_assert(flags_condition(cpu, 15)); /* G: 0x100000001 > 2 signed */
    free(cpu);
}
END_TEST

/* ---- register writes by size ---- */

START_TEST(test_reg_write_widths)
{
    CPUState *cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    const uint64_t pattern = 0x1122334455667788ull;
    cpu->regs[R_EAX] = pattern;
    reg_write(cpu, R_EAX, 1, 0xab); /* AL */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x11223344556677abull);
    reg_write(cpu, 4, 1, 0xcd); /* AH */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x112233445566cdabull);
    reg_write(cpu, R_EAX, 2, 0xbeef); /* AX */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x112233445566beefull);
    ck_assert_uint_eq(reg_read(cpu, R_EAX, 4), 0x5566beefu);
    ck_assert_uint_eq(reg_read(cpu, 4, 1), 0xbeu);
    reg_write(cpu, R_EAX, 4, 0xcafef00d); /* EAX: zero-extends */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xcafef00dull);
    free(cpu);
}
END_TEST

/* ---- 32-bit code keeps the high halves zero ---- */

/* Every GPR written by 32-, 16- and 8-bit operations, several wrapping at
 * 4 GiB, then a REP STOSB (the translator's string helper): */
static const uint8_t wide_code[] = {
    0xb8, 0xff, 0xff, 0xff, 0xff, /* mov eax, -1 */
    0x83, 0xc0, 0x02,             /* add eax, 2       ; wraps to 1 */
    0xb9, 0,    0,    0,    0,    /* mov ecx, 0 */
    0x49,                         /* dec ecx          ; wraps to ffffffff */
    0xba, 0xff, 0xff, 0xff, 0xff, /* mov edx, -1 */
    0x42,                         /* inc edx          ; wraps to 0 */
    0xf7, 0xd2,                   /* not edx          ; ffffffff, not 64 ones */
    0xbb, 0,    0,    0,    0x80, /* mov ebx, 0x80000000 */
    0x01, 0xdb,                   /* add ebx, ebx     ; 0, CF */
    0xbd, 5,    0,    0,    0,    /* mov ebp, 5 */
    0x66, 0x83, 0xed, 0x06,       /* sub bp, 6        ; 0000ffff */
    0xbe, 0xfe, 0xff, 0xff, 0xff, /* mov esi, 0xfffffffe */
    0x66, 0x46,                   /* inc si */
    0x66, 0x46,                   /* inc si           ; ffff0000 */
    0xb4, 0x12,                   /* mov ah, 0x12     ; 1201 */
    0x50,                         /* push eax */
    0x5f,                         /* pop edi */
    0xb9, 4,    0,    0,    0,    /* mov ecx, 4 */
    0xbf, 0,    0,    2,    0,    /* mov edi, 0x20000 */
    0xfc,                         /* cld */
    0xf3, 0xaa,                   /* rep stosb */
    0xeb, 0xfe,                   /* jmp $ */
};

/* Enough to reach the final jmp $ and spin there. */
#define WIDE_INSNS 200

/* R8-R15 hold a pattern no 32-bit instruction may touch. */
static uint64_t upper_pattern(int r)
{
    return 0xa5a5000000000000ull | ((uint64_t)r << 40) | 0x1234;
}

static TestVM *wide_vm(void)
{
    TestVM *vm = testvm_new(1u << 20);
    testvm_load(vm, TESTVM_CODE, wide_code, sizeof(wide_code));
    testvm_flat32(vm, 0, TESTVM_CODE);
    for (int r = 8; r < CPU_NB_REGS; r++) {
        vm->cpu.regs[r] = upper_pattern(r);
    }
    return vm;
}

static void check_wide_result(const CPUState *cpu)
{
    for (int r = 0; r < 8; r++) {
        ck_assert_msg(cpu->regs[r] >> 32 == 0, "reg %d = %016" PRIx64, r, cpu->regs[r]);
    }
    for (int r = 8; r < CPU_NB_REGS; r++) {
        ck_assert_uint_eq(cpu->regs[r], upper_pattern(r));
    }
    ck_assert_uint_eq(cpu->eip, TESTVM_CODE + sizeof(wide_code) - 2);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1201);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0xffffffffu);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0xffffu);
    ck_assert_uint_eq(cpu->regs[R_ESI], 0xffff0000u);
    ck_assert_uint_eq(cpu->regs[R_EDI], 0x20004);
}

START_TEST(test_interp_keeps_high_halves_zero)
{
    TestVM *vm = wide_vm();
    ck_assert_int_eq(cpu_exec(&vm->cpu, WIDE_INSNS), CPU_EXIT_BUDGET);
    check_wide_result(&vm->cpu);
    testvm_free(vm);
}
END_TEST

START_TEST(test_bt_keeps_high_halves_zero)
{
    TestVM *ref = wide_vm();
    TestVM *vm = wide_vm();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, WIDE_INSNS), CPU_EXIT_BUDGET);
    ck_assert_int_eq(cpu_exec(&ref->cpu, WIDE_INSNS), CPU_EXIT_BUDGET);
    check_wide_result(&vm->cpu);
    ck_assert_mem_eq(vm->cpu.regs, ref->cpu.regs, sizeof(vm->cpu.regs));
    ck_assert_uint_eq(vm->cpu.eip, ref->cpu.eip);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/* REP STOSB and MOVSB whose EDI and ESI run past 4 GiB wrap to 0 (32-bit
 * address size), in the interpreter and in the translator's string
 * helper: ES and DS based at 0x20000, EDI = ESI = 0xfffffffe, 4 bytes.
 *   rep stosb ; mov edi, -2 ; mov esi, -2 ; mov ecx, 4 ; rep movsb ; jmp $ */
static const uint8_t wrap_code[] = {
    0xf3, 0xaa,                   /* rep stosb */
    0xbf, 0xfe, 0xff, 0xff, 0xff, /* mov edi, -2 */
    0xbe, 0xfe, 0xff, 0xff, 0xff, /* mov esi, -2 */
    0xb9, 4,    0,    0,    0,    /* mov ecx, 4 */
    0xf3, 0xa4,                   /* rep movsb */
    0xeb, 0xfe,                   /* jmp $ */
};

static TestVM *wrap_vm(void)
{
    TestVM *vm = testvm_new(1u << 20);
    testvm_load(vm, TESTVM_CODE, wrap_code, sizeof(wrap_code));
    testvm_flat32(vm, 0, TESTVM_CODE);
    vm->cpu.seg[SEG_ES].base = 0x20000;
    vm->cpu.seg[SEG_DS].base = 0x20000;
    vm->cpu.regs[R_EAX] = 0x5a;
    vm->cpu.regs[R_EDI] = 0xfffffffe;
    vm->cpu.regs[R_ECX] = 4;
    return vm;
}

static void check_wrap(TestVM *vm)
{
    CPUState *cpu = &vm->cpu;
    ck_assert_uint_eq(cpu->eip, TESTVM_CODE + sizeof(wrap_code) - 2);
    ck_assert_uint_eq(cpu->regs[R_EDI], 2);
    ck_assert_uint_eq(cpu->regs[R_ESI], 2);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    for (uint32_t a = 0x1fffe; a < 0x20002; a++) {
        ck_assert_uint_eq(phys_read(&vm->phys, a, 1), 0x5a);
    }
}

START_TEST(test_string_wraps_at_4g)
{
    TestVM *vm = wrap_vm();
    ck_assert_int_eq(cpu_exec(&vm->cpu, WIDE_INSNS), CPU_EXIT_BUDGET);
    check_wrap(vm);
    testvm_free(vm);
    vm = wrap_vm();
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, WIDE_INSNS), CPU_EXIT_BUDGET);
    check_wrap(vm);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* ---- the saved VM's cpu section ---- */

START_TEST(test_vmstate_carries_64_bits)
{
    TestVM *a = testvm_new(1u << 16), *b = testvm_new(1u << 16);
    testvm_flat32(a, 0, TESTVM_CODE);
    testvm_flat32(b, 0, TESTVM_CODE);
    for (int r = 0; r < CPU_NB_REGS; r++) {
        a->cpu.regs[r] = 0x0123456789abcdefull ^ ((uint64_t)r << 56) ^ (uint64_t)r;
    }
    a->cpu.eip = 0xffffffff80001234ull;
    a->cpu.cc_op = CC_OP_SUBQ;
    a->cpu.cc_res = 0xfedcba9876543210ull;
    a->cpu.cc_src1 = 0x8000000000000000ull;
    a->cpu.cc_src2 = 0x7fffffff00000001ull;
    a->cpu.seg[SEG_GS].base = 0xffff888000000000ull;
    a->cpu.idtr.base = 0xfffffe0000000000ull;
    VMWriter w;
    vm_writer_init(&w);
    vmstate_save_fields(&w, &cpu_vmstate, &a->cpu);
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    ck_assert(vmstate_load_fields(&r, &cpu_vmstate, &b->cpu, cpu_vmstate.version));
    ck_assert_mem_eq(b->cpu.regs, a->cpu.regs, sizeof(a->cpu.regs));
    ck_assert_uint_eq(b->cpu.eip, a->cpu.eip);
    ck_assert_uint_eq(b->cpu.cc_op, CC_OP_SUBQ);
    ck_assert_uint_eq(b->cpu.cc_res, a->cpu.cc_res);
    ck_assert_uint_eq(b->cpu.cc_src1, a->cpu.cc_src1);
    ck_assert_uint_eq(b->cpu.cc_src2, a->cpu.cc_src2);
    ck_assert_uint_eq(b->cpu.seg[SEG_GS].base, a->cpu.seg[SEG_GS].base);
    ck_assert_uint_eq(b->cpu.idtr.base, a->cpu.idtr.base);
    ck_assert_uint_ge(cpu_vmstate.min_version, 2); /* a 32-bit-register section is refused */
    vm_writer_free(&w);
    testvm_free(a);
    testvm_free(b);
}
END_TEST

static Suite *wide_suite(void)
{
    Suite *s = suite_create("cpu_wide");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_flags64_host_oracle);
    tcase_add_test(tc, test_flags_sizes_ignore_high_bits);
    tcase_add_test(tc, test_reg_write_widths);
    tcase_add_test(tc, test_interp_keeps_high_halves_zero);
    tcase_add_test(tc, test_bt_keeps_high_halves_zero);
    tcase_add_test(tc, test_string_wraps_at_4g);
    tcase_add_test(tc, test_vmstate_carries_64_bits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wide_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
