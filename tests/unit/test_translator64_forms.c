/*
 * The integer and SSE forms of 64-bit blocks beyond the ModRM re-encoding
 * (translator/gen64_ops.c, gen64_stack.c, gen_native.c's divides,
 * gen_sse.c's FS/GS operands, gen64.c's 67h addressing), each run in
 * lockstep: the interpreter, bt and bt's check mode from the same state
 * must end with the same registers, flags (but those the SDM leaves
 * undefined), XMM registers, memory and instruction count, and under bt
 * every instruction but the final HLT must have run as translated code
 * (no callout).  Operands are random; memory operands sit in pages
 * around DATA and the stack around STACK, some across a page end (the
 * slow path).  Faulting forms (#GP, #SS, #PF, #DE) must raise the same
 * first exception at the same instruction with the same registers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

#define DATA_LEN 0x5000u  /* DATA..DATA+DATA_LEN: compared */
#define STACK    0x31004u /* a misaligned RSP: pushes and pops cross 31000h */
#define STACK_LO 0x30000u
#define STACK_HI 0x32000u

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    return seq_rnd(&rng);
}

/* The state every engine starts from. */
typedef struct FormState {
    uint64_t regs[16];
    uint32_t flags;
    uint64_t fs, gs;
    uint32_t seed;      /* the memory pattern */
    uint64_t rip;       /* 0: TESTVM_CODE */
    uint32_t poke_addr; /* a value stored after the pattern (0: none) */
    uint64_t poke;
    int poke_size;
    bool legacy; /* 32-bit protected mode (32-bit blocks), registers at 32 bits */
} FormState;

static void setup_default(FormState *st)
{
    memset(st, 0, sizeof(*st));
    for (int r = 0; r < 16; r++) {
        st->regs[r] = rnd();
    }
    st->regs[R_ESP] = STACK;
    st->regs[R_ESI] = DATA + 0x1000;
    st->regs[R_EDI] = rnd() % 16;
    st->regs[13] = DATA + 0x2000; /* R13: a base in CPUState */
    st->flags = (uint32_t)rnd() & EFLAGS_ARITH;
    st->fs = 0x1000;
    st->gs = 0x800;
    st->seed = (uint32_t)rnd() | 1;
}

static TestVM *setup_vm(const Seq *s, const FormState *st)
{
    TestVM *vm = make_vm(s->b, s->len, st->legacy ? MODE_LEGACY : MODE_64);
    CPUState *cpu = &vm->cpu;
    memcpy(cpu->regs, st->regs, sizeof(st->regs));
    for (int r = 0; st->legacy && r < 16; r++) {
        cpu->regs[r] = r < 8 ? (uint32_t)cpu->regs[r] : 0; /* zero outside 64-bit mode */
    }
    cpu->eflags = EFLAGS_FIXED | (st->flags & EFLAGS_ARITH);
    cpu->seg[SEG_FS].base = st->fs;
    cpu->seg[SEG_GS].base = st->gs;
    cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (st->rip) {
        cpu->eip = st->rip;
    }
    uint32_t x = st->seed;
    for (int i = 0; i < 16; i++) {
        uint8_t *xmm = i < 8 ? cpu->fpu.xmm[i] : cpu->xmm_hi[i - 8];
        for (int b = 0; b < 16; b++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            xmm[b] = (uint8_t)x;
        }
    }
    for (uint32_t a = DATA; a < DATA + DATA_LEN; a += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        phys_write(&vm->phys, a, x, 4);
    }
    for (uint32_t a = STACK_LO; a < STACK_HI; a += 4) {
        phys_write(&vm->phys, a, a * 0x9e3779b1u, 4);
    }
    if (st->poke_addr) {
        phys_write(&vm->phys, st->poke_addr, st->poke, st->poke_size);
    }
    return vm;
}

static BT *bt64(TestVM *vm, enum BTMode mode)
{
    BT *bt = bt_new(&vm->cpu, 1u << 20, mode);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    return bt;
}

static void assert_same(TestVM *a, TestVM *ref, uint32_t undef, const char *engine)
{
    for (int r = 0; r < 16; r++) {
        ck_assert_msg(a->cpu.regs[r] == ref->cpu.regs[r],
                      "%s: register %d %016llx, interpreter %016llx", engine, r,
                      (unsigned long long)a->cpu.regs[r], (unsigned long long)ref->cpu.regs[r]);
    }
    uint32_t compared = EFLAGS_ARITH & ~undef;
    ck_assert_msg((cpu_get_eflags(&a->cpu) & compared) == (cpu_get_eflags(&ref->cpu) & compared),
                  "%s: flags %x, interpreter %x", engine, cpu_get_eflags(&a->cpu) & compared,
                  cpu_get_eflags(&ref->cpu) & compared);
    ck_assert_uint_eq(a->cpu.eip, ref->cpu.eip);
    ck_assert_uint_eq(a->cpu.icount, ref->cpu.icount);
    ck_assert_msg(memcmp(a->cpu.fpu.xmm, ref->cpu.fpu.xmm, sizeof(a->cpu.fpu.xmm)) == 0 &&
                      memcmp(a->cpu.xmm_hi, ref->cpu.xmm_hi, sizeof(a->cpu.xmm_hi)) == 0,
                  "%s: XMM registers differ", engine);
    ck_assert_msg(memcmp(a->phys.ram + DATA, ref->phys.ram + DATA, DATA_LEN) == 0,
                  "%s: data memory differs", engine);
    ck_assert_msg(memcmp(a->phys.ram + STACK_LO, ref->phys.ram + STACK_LO, STACK_HI - STACK_LO) == 0,
                  "%s: stack memory differs", engine);
}

/* s (ending in HLT) from st in all three engines; under bt, want_callouts
 * callouts (1: the HLT alone). */
static void lockstep(const Seq *s, const FormState *st, uint32_t undef, uint64_t want_callouts)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    static const char *names[] = {"bt", "check"};
    TestVM *ref = setup_vm(s, st);
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    for (int m = 0; m < 2; m++) {
        TestVM *vm = setup_vm(s, st);
        BT *bt = bt64(vm, modes[m]);
        ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
        assert_same(vm, ref, undef, names[m]);
        if (modes[m] == BT_MODE_RUN) {
            ck_assert_uint_eq(bt_stats(bt)->callout_insns, want_callouts);
            ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
        }
        bt_free(bt);
        testvm_free(vm);
    }
    testvm_free(ref);
}

/* s from st faults: the interpreter and bt raise want_vector first, at the
 * same instruction, with the same error code, RBX, RSP, CR2 and memory. */
static void lockstep_fault(const Seq *s, const FormState *st, int want_vector)
{
    FirstFault f[2] = {{.vector = -1}, {.vector = -1}};
    TestVM *vm[2];
    for (int e = 0; e < 2; e++) {
        vm[e] = setup_vm(s, st);
        vm[e]->cpu.hooks.observer = &f[e];
        vm[e]->cpu.hooks.on_exception = first_fault_note;
    }
    testvm_run(vm[0], 1000);
    BT *bt = bt64(vm[1], BT_MODE_RUN);
    bt_exec(bt, 1000);
    ck_assert_int_eq(f[0].vector, want_vector);
    ck_assert_int_eq(f[1].vector, want_vector);
    ck_assert_uint_eq(f[1].error, f[0].error);
    ck_assert_uint_eq(f[1].rip, f[0].rip);
    ck_assert_uint_eq(f[1].rbx, f[0].rbx);
    ck_assert_uint_eq(f[1].rsp, f[0].rsp);
    if (want_vector == EXC_PF) {
        ck_assert_uint_eq(vm[1]->cpu.cr2, vm[0]->cpu.cr2);
    }
    ck_assert(memcmp(vm[1]->phys.ram + DATA, vm[0]->phys.ram + DATA, DATA_LEN) == 0);
    ck_assert(memcmp(vm[1]->phys.ram + STACK_LO, vm[0]->phys.ram + STACK_LO,
                     STACK_HI - STACK_LO) == 0);
    bt_free(bt);
    testvm_free(vm[0]);
    testvm_free(vm[1]);
}

static uint8_t rex(bool w, int reg, int index, int base)
{
    return (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
                     ((base & 8) ? 1 : 0));
}

/*
 * A memory operand: kind 0 [rsi+disp] (now and then across the page end
 * at DATA+2000h), 1 [r13+disp] (R13 in CPUState), 2 [rsi+rdi*s+disp32],
 * 3 [rip+disp32], 4 [disp32], 5 [rsp+disp8].  The prefixes and the
 * opcode come first: put_mem_head writes them with the REX the operand
 * needs.
 */
typedef struct MemOpnd {
    int kind;
    size_t disp_at; /* RIP-relative: where the disp32 goes */
    uint32_t target;
} MemOpnd;

static int mem_base(const MemOpnd *a)
{
    static const int bases[] = {R_ESI, 13, R_ESI, 0, 0, R_ESP};
    return bases[a->kind];
}

static int mem_index(const MemOpnd *a)
{
    return a->kind == 2 ? R_EDI : 0;
}

/* [seg] [66] REX opcode bytes: REX when w, or a register >= 8, or always_rex */
static void put_mem_head(Seq *s, const MemOpnd *a, int seg, bool o16, bool w, int reg,
                         bool always_rex, const uint8_t *op, size_t oplen)
{
    if (seg) {
        put(s, (uint8_t)seg);
    }
    if (o16) {
        put(s, 0x66);
    }
    uint8_t r = rex(w, reg, mem_index(a), mem_base(a));
    if (always_rex || r != 0x40) {
        put(s, r);
    }
    for (size_t i = 0; i < oplen; i++) {
        put(s, op[i]);
    }
}

static void put_mem_modrm(Seq *s, int reg, MemOpnd *a, uint32_t span)
{
    uint8_t r = (uint8_t)((reg & 7) << 3);
    switch (a->kind) {
    case 0:
    case 1:
        if (rnd() & 1) {
            put(s, (uint8_t)(0100 | r | (mem_base(a) & 7)));
            put(s, (uint8_t)(rnd() & 0x7f)); /* [base + disp8] */
        } else {
            put(s, (uint8_t)(0200 | r | (mem_base(a) & 7)));
            put32(s, (rnd() & 3) ? (uint32_t)(rnd() % 0x7f0) : 0x1000 - span / 2);
        }
        break;
    case 2:
        put(s, (uint8_t)(0204 | r)); /* [rsi + rdi*2^scale + disp32] */
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 6));
        put32(s, (uint32_t)(rnd() % 0x7f0));
        break;
    case 3:
        put(s, (uint8_t)(0005 | r)); /* [rip + disp32] */
        a->disp_at = s->len;
        a->target = DATA + (uint32_t)(rnd() % (0x1ff0 - span));
        put32(s, 0);
        break;
    case 4:
        put(s, (uint8_t)(0004 | r)); /* [disp32]: SIB, no base, no index */
        put(s, 0x25);
        put32(s, DATA + (uint32_t)(rnd() % 0x1ff0));
        break;
    default:
        put(s, (uint8_t)(0104 | r)); /* [rsp + disp8] */
        put(s, 0x24);
        put(s, (uint8_t)(rnd() % 0x78));
        break;
    }
}

/* The RIP-relative displacement, once the instruction is complete (code at TESTVM_CODE). */
static void put_mem_fixup(Seq *s, const MemOpnd *a)
{
    if (a->kind == 3) {
        uint32_t d = a->target - (TESTVM_CODE + (uint32_t)s->len);
        memcpy(&s->b[a->disp_at], &d, 4);
    }
}

/* A segment override now and then: FS, GS (not with RSP as the base: the
 * stack area lies apart from DATA), or none. */
static int pick_seg(const MemOpnd *a)
{
    if (a->kind == 5 || rnd() % 4) {
        return 0;
    }
    return (rnd() & 1) ? 0x64 : 0x65;
}

/* A register RSI, RDI, R13 and RSP leave alone: the addresses. */
static int data_reg(void)
{
    int r;
    do {
        r = (int)(rnd() & 15);
    } while (r == R_ESP || r == R_ESI || r == R_EDI || r == 13);
    return r;
}

/*
 * PUSH and POP of every operand kind at 64 and 16 bits (66h): PUSH r/m
 * (FF /6, 50+r), POP r/m (8F /0, 58+r), PUSH imm8/imm16/imm32, on
 * pinned and CPUState registers and every addressing kind, RSP-based
 * destinations included, among register ALU forms.
 */
static void put_stack_insn(Seq *s)
{
    bool o16 = rnd() % 3 == 0;
    int pick = (int)(rnd() % 7);
    if (pick <= 1) { /* PUSH m (FF /6) or POP m (8F /0) */
        MemOpnd a = {.kind = (int)(rnd() % 6)};
        uint8_t op = pick == 0 ? 0xff : 0x8f;
        put_mem_head(s, &a, pick_seg(&a), o16, false, pick == 0 ? 6 : 0, false, &op, 1);
        put_mem_modrm(s, pick == 0 ? 6 : 0, &a, 8);
        put_mem_fixup(s, &a);
    } else if (pick <= 3) { /* PUSH r / POP r: 50+r, 58+r, FF /6, 8F /0 */
        int r = pick == 2 && rnd() % 4 == 0 ? R_ESP : data_reg();
        if (o16) {
            put(s, 0x66);
        }
        if (rnd() & 1) {
            if (r >= 8) {
                put(s, 0x41);
            }
            put(s, (uint8_t)((pick == 2 ? 0x50 : 0x58) | (r & 7)));
        } else {
            if (r >= 8) {
                put(s, 0x41);
            }
            put(s, pick == 2 ? 0xff : 0x8f);
            put(s, (uint8_t)(0300 | (pick == 2 ? 6 : 0) << 3 | (r & 7)));
        }
    } else if (pick == 4) { /* PUSH imm8 / imm16 / imm32 */
        if (o16) {
            put(s, 0x66);
        }
        if (rnd() & 1) {
            put(s, 0x6a);
            put(s, (uint8_t)rnd());
        } else {
            put(s, 0x68);
            put(s, (uint8_t)rnd());
            put(s, (uint8_t)rnd());
            if (!o16) {
                put(s, (uint8_t)rnd());
                put(s, (uint8_t)rnd());
            }
        }
    } else { /* add/xor r, r */
        int a = data_reg(), b = data_reg();
        put(s, rex(true, b, 0, a));
        put(s, (rnd() & 1) ? 0x01 : 0x31);
        put(s, (uint8_t)(0300 | (b & 7) << 3 | (a & 7)));
    }
}

START_TEST(test_push_pop_forms)
{
    for (int n = 0; n < 150; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 24);
        for (int i = 0; i < count; i++) {
            put_stack_insn(&s);
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        lockstep(&s, &st, EFLAGS_AF, 1); /* AF: undefined after XOR */
    }
}
END_TEST

/*
 * POP m and PUSH m faults leave RSP and memory as they were:
 *   pop qword [rbx]        with RBX unmapped (#PF), non-canonical (#GP)
 *   pop qword [rbx]        with RSP non-canonical (#SS), unmapped (#PF)
 *   push qword [rbx]       with RBX non-canonical (#GP)
 *   pop qword [rsp+8]      with RSP+16 past the end of RAM's mapping (#PF on the store)
 *   66 pop word [rbx]      with RBX unmapped (#PF)
 */
START_TEST(test_push_pop_faults)
{
    static const struct {
        uint8_t code[8];
        size_t len;
        uint64_t rbx, rsp;
        int vector;
    } cases[] = {
        {{0x8f, 0x03}, 2, 0x800000, STACK, EXC_PF},
        {{0x8f, 0x03}, 2, 0x0000800000000000ull, STACK, EXC_GP},
        {{0x8f, 0x03}, 2, DATA, 0x0000800000000000ull, EXC_SS},
        {{0x8f, 0x03}, 2, DATA, 0x800000, EXC_PF},
        {{0xff, 0x33}, 2, 0x0000800000000000ull, STACK, EXC_GP},
        {{0x8f, 0x44, 0x24, 0x08}, 4, DATA, 0x3ffff8, EXC_PF},
        {{0x66, 0x8f, 0x03}, 3, 0x7ffffe, STACK, EXC_PF},
        {{0x66, 0xff, 0x33}, 3, 0x3fffff, STACK, EXC_PF},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Seq s = {.len = 0};
        for (size_t b = 0; b < cases[i].len; b++) {
            put(&s, cases[i].code[b]);
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        st.regs[R_EBX] = cases[i].rbx;
        st.regs[R_ESP] = cases[i].rsp;
        lockstep_fault(&s, &st, cases[i].vector);
    }
}
END_TEST

/*
 * BT, BTS, BTR, BTC m, r: the register's signed offset moves the address
 * (a bit string), at 16, 32 and 64 bits, the offset in a pinned or a
 * CPUState register, on every addressing kind but RSP's.
 */
START_TEST(test_bit_strings)
{
    static const uint8_t ops[] = {0xa3, 0xab, 0xb3, 0xbb};
    for (int n = 0; n < 150; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 16);
        int size = (int[]){2, 4, 8}[rnd() % 3]; /* one per sequence: the offsets suit it */
        for (int i = 0; i < count; i++) {
            MemOpnd a = {.kind = (int)(rnd() % 5)};
            int reg = data_reg();
            uint8_t op[2] = {0x0f, ops[rnd() % 4]};
            put_mem_head(&s, &a, pick_seg(&a), size == 2, size == 8, reg, false, op, 2);
            put_mem_modrm(&s, reg, &a, 8);
            put_mem_fixup(&s, &a);
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        st.regs[R_ESI] = DATA + 0x1800;
        st.fs = 0x400;
        st.gs = 0;
        for (int r = 0; r < 16; r++) {
            if (r != R_ESP && r != R_ESI && r != R_EDI && r != 13) {
                /* -8000h..7fffh bits, 4 KiB either way, signed at the
                 * operand size, with other bits above it */
                uint64_t bits = (uint64_t)((int64_t)(rnd() % 0x10000) - 0x8000);
                uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
                st.regs[r] = (bits & mask) | (rnd() & ~mask);
            }
        }
        lockstep(&s, &st, EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, 1);
    }
}
END_TEST

/*
 * A RIP-relative bit string run from the kernel half (TESTVM_HIGH), its
 * first access a TLB miss: the slow path's commit must take the whole
 * RIP (a truncated one made the amd64 kernel's set_bit on a global write
 * elsewhere, and it hung before its first line of output):
 *   bts [rip + x], rax ; btr [rip + x], rcx ; hlt
 */
START_TEST(test_bit_string_rip_high)
{
    Seq s = {.len = 0};
    uint64_t rip = TESTVM_HIGH + TESTVM_CODE;
    for (int i = 0; i < 2; i++) {
        put(&s, 0x48);
        put(&s, 0x0f);
        put(&s, i ? 0xb3 : 0xab);
        put(&s, i ? 0x0d : 0x05);
        put32(&s, (uint32_t)(TESTVM_HIGH + DATA + 0x100 - (rip + s.len + 4)));
    }
    put(&s, 0xf4);
    FormState st;
    setup_default(&st);
    st.rip = rip;
    st.regs[R_EAX] = 0x45;
    st.regs[R_ECX] = (uint64_t)-0x3f;
    lockstep(&s, &st, EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, 1);
}
END_TEST

/*
 * Bit strings that fault where the offset moved the address, not where
 * the operand is: bts [rbx], rcx with RBX in RAM and RCX's offset past
 * the mapped 4 MiB (#PF, CR2 the moved address) or past the canonical
 * range (#GP); bt [rbx], rcx with RCX negative under 0 (#PF at the top).
 */
START_TEST(test_bit_string_faults)
{
    static const struct {
        uint8_t code[4];
        uint64_t rbx, rcx;
        int vector;
    } cases[] = {
        {{0x48, 0x0f, 0xab, 0x0b}, 0x3ffff8, 0x40, EXC_PF},
        {{0x48, 0x0f, 0xab, 0x0b}, 0x00007ffffffffff8ull, 0x40, EXC_GP},
        {{0x48, 0x0f, 0xa3, 0x0b}, 0x10, (uint64_t)-0x100, EXC_PF},
        {{0x66, 0x0f, 0xb3, 0x0b}, 0x3ffffe, 0x10, EXC_PF},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Seq s = {.len = 0};
        for (int b = 0; b < 4; b++) {
            put(&s, cases[i].code[b]);
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        st.regs[R_EBX] = cases[i].rbx;
        st.regs[R_ECX] = cases[i].rcx;
        lockstep_fault(&s, &st, cases[i].vector);
    }
}
END_TEST

/* The value of byte register r (AH..BH without REX, SPL..DIL with) or of a wider one. */
static uint64_t reg_value(const uint64_t *regs, int r, int size, bool has_rex)
{
    if (size == 1 && !has_rex && r >= 4) {
        return (regs[r - 4] >> 8) & 0xff;
    }
    return regs[r] & (size == 1 ? 0xff : 0xffff);
}

/*
 * DIV and IDIV r/m8 and r/m16, the divisor in a legacy byte register
 * (AH..BH too), SPL..DIL, R8B..R15B (CPUState), a word register, or
 * memory: native when the divide cannot fault and, for IDIV, the
 * dividend is CBW's or CWD's (what compilers emit), the interpreter's
 * otherwise; #DE exactly as the interpreter raises it.
 */
/*
 * The edges of the divide checks: a quotient one past the range (#DE,
 * which the host divide must never meet: a SIGFPE would end popek) and
 * one inside it:
 *   div bl (AH = BL: #DE; AH = BL-1: fits) ; div bx (DX = BX ; DX = BX-1)
 *   idiv bl with AX = -128 sign-extended, BL = -1 (#DE) ; idiv bx: -32768 / -1
 */
START_TEST(test_divide_edges)
{
    static const struct {
        uint8_t code[3];
        size_t len;
        uint64_t rax, rdx, rbx;
        int vector; /* -1: none */
    } cases[] = {
        {{0xf6, 0xf3}, 2, 0x3400, 0, 0x34, EXC_DE},
        {{0xf6, 0xf3}, 2, 0x33ff, 0, 0x34, -1},
        {{0x66, 0xf7, 0xf3}, 3, 0xffff, 0x1234, 0x1234, EXC_DE},
        {{0x66, 0xf7, 0xf3}, 3, 0xffff, 0x1233, 0x1234, -1},
        {{0xf6, 0xfb}, 2, 0xff80, 0, 0xff, EXC_DE},
        {{0xf6, 0xfb}, 2, 0xff81, 0, 0xff, -1},
        {{0x66, 0xf7, 0xfb}, 3, 0x8000, 0xffff, 0xffff, EXC_DE},
        {{0x66, 0xf7, 0xfb}, 3, 0x8001, 0xffff, 0xffff, -1},
        {{0xf6, 0xfb}, 2, 0x0080, 0, 0xff, -1}, /* not CBW's: the interpreter's */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Seq s = {.len = 0};
        for (size_t b = 0; b < cases[i].len; b++) {
            put(&s, cases[i].code[b]);
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        st.regs[R_EAX] = cases[i].rax;
        st.regs[R_EDX] = cases[i].rdx;
        st.regs[R_EBX] = cases[i].rbx;
        if (cases[i].vector >= 0) {
            lockstep_fault(&s, &st, cases[i].vector);
        } else {
            lockstep(&s, &st, EFLAGS_ARITH, i == sizeof(cases) / sizeof(cases[0]) - 1 ? 2 : 1);
        }
    }
}
END_TEST

static void divide_cases(bool legacy)
{
    int native = 0, called = 0, faults = 0;
    for (int n = 0; n < 300; n++) {
        int size = (rnd() & 1) ? 1 : 2;
        bool idiv = rnd() & 1;
        bool mem = rnd() % 4 == 0;
        bool has_rex = !legacy && !mem && (rnd() & 1);
        int r = (int)(rnd() & (has_rex ? 15 : 7));
        FormState st;
        setup_default(&st);
        st.legacy = legacy;
        uint64_t rax = rnd(), rdx = rnd();
        if (rnd() & 1) { /* a sign-extended dividend, as CBW/CWD leave it */
            if (size == 1) {
                rax = (rax & ~0xffffull) | (uint16_t)(int16_t)(int8_t)rax;
            } else {
                rdx = (rdx & ~0xffffull) | ((rax & 0x8000) ? 0xffff : 0);
            }
        }
        if (rnd() % 4 == 0) {
            rax &= ~0xff00ull; /* small dividends: quotients that fit */
            rdx &= ~0xffffull;
        }
        st.regs[R_EAX] = rax;
        st.regs[R_EDX] = rdx;
        uint64_t d_pick = rnd() % 8 == 0 ? 0 : rnd() % 8 == 0 ? 0xffff : rnd() % 300;
        uint64_t d;
        Seq s = {.len = 0};
        if (size == 2) {
            put(&s, 0x66);
        }
        if (mem) {
            st.poke_addr = DATA + 0xffe + (uint32_t)(rnd() % 2); /* across the page end too */
            st.poke = d_pick;
            st.poke_size = size;
            st.regs[R_EBX] = st.poke_addr;
            put(&s, size == 1 ? 0xf6 : 0xf7);
            put(&s, (uint8_t)((idiv ? 7 : 6) << 3 | R_EBX)); /* [rbx] */
            d = d_pick & (size == 1 ? 0xff : 0xffff);
        } else {
            if (r != R_EAX && r != R_EDX && r != R_ESP && !(size == 1 && !has_rex && r >= 4)) {
                st.regs[r] = (st.regs[r] & ~0xffffull) | d_pick;
            }
            if (has_rex) {
                put(&s, rex(false, 0, 0, r));
            }
            put(&s, size == 1 ? 0xf6 : 0xf7);
            put(&s, (uint8_t)(0300 | (idiv ? 7 : 6) << 3 | (r & 7)));
            d = reg_value(st.regs, r, size, has_rex);
        }
        put(&s, 0xf4);
        uint64_t ax = st.regs[R_EAX] & 0xffff, dx = st.regs[R_EDX] & 0xffff;
        bool fault, takes;
        if (size == 1) {
            int64_t sq = d ? (int64_t)(int16_t)ax / (int64_t)(int8_t)d : 0;
            fault = d == 0 || (idiv ? sq < -128 || sq > 127 : ax / d > 0xff);
            takes = idiv ? (int16_t)ax == (int8_t)ax && !(d == 0xff && ax == 0xff80) : true;
        } else {
            int64_t dividend = (int32_t)(uint32_t)(dx << 16 | ax);
            int64_t sq = d ? dividend / (int64_t)(int16_t)d : 0;
            fault = d == 0 || (idiv ? sq < -32768 || sq > 32767 : (dx << 16 | ax) / d > 0xffff);
            takes = idiv ? dx == ((ax & 0x8000) ? 0xffff : 0) && !(d == 0xffff && ax == 0x8000) : true;
        }
        if (fault) {
            faults++;
            lockstep_fault(&s, &st, EXC_DE);
        } else if (takes) {
            native++;
            lockstep(&s, &st, EFLAGS_ARITH, 1);
        } else {
            called++;
            lockstep(&s, &st, EFLAGS_ARITH, 2); /* the interpreter's, exactly */
        }
    }
    ck_assert_int_gt(native, 50);
    ck_assert_int_gt(called, 5);
    ck_assert_int_gt(faults, 10);
}

START_TEST(test_divide_small)
{
    divide_cases(false);
}
END_TEST

/* The same divides in 32-bit code (protected mode): gen_divide serves
 * 32-bit blocks too. */
START_TEST(test_divide_small_legacy)
{
    divide_cases(true);
}
END_TEST

/*
 * MOV AL/AX/EAX/RAX, moffs and back (A0-A3) with the 64-bit absolute
 * address (in RAM, and in the kernel half of the address space where
 * TESTVM_HIGH maps RAM again), an FS or GS override, a 32-bit moffs
 * under 67h, and across a page end.
 */
START_TEST(test_moffs)
{
    for (int n = 0; n < 200; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 8);
        for (int i = 0; i < count; i++) {
            int size = (int[]){1, 2, 4, 8}[rnd() & 3];
            bool a32 = rnd() % 4 == 0;
            int seg = rnd() % 4 ? 0 : (rnd() & 1) ? 0x64 : 0x65;
            uint32_t off = (rnd() & 3) ? (uint32_t)(rnd() % 0x1ff0) : 0x1000 - (uint32_t)size / 2;
            uint64_t addr = DATA + off;
            if (!a32 && !seg && (rnd() & 1)) {
                addr += TESTVM_HIGH;
            }
            if (seg) {
                put(&s, (uint8_t)seg);
            }
            if (a32) {
                put(&s, 0x67);
            }
            if (size == 2) {
                put(&s, 0x66);
            } else if (size == 8) {
                put(&s, 0x48);
            }
            put(&s, (uint8_t)(0xa0 + ((rnd() & 1) ? 2 : 0) + (size > 1)));
            put32(&s, (uint32_t)addr);
            if (!a32) {
                put32(&s, (uint32_t)(addr >> 32));
            }
        }
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        lockstep(&s, &st, 0, 1);
    }
}
END_TEST

/* A non-canonical moffs: #GP(0); an unmapped one, above 4 GiB too: #PF. */
START_TEST(test_moffs_faults)
{
    static const uint8_t code[][20] = {
        {0x48, 0xa1, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xf4}, /* mov rax, [0x0000800000000000] */
        {0xa2, 0, 0, 0x80, 0, 0, 0, 0, 0, 0xf4},       /* mov [0x800000], al */
        /* mov eax, [DATA] ; mov eax, [0x100000000 + DATA]: the address
         * truncated to 32 bits would hit the TLB entry the first filled */
        {0xa1, 0, 0, 0x02, 0, 0, 0, 0, 0, 0xa1, 0, 0, 0x02, 0, 1, 0, 0, 0, 0xf4},
    };
    static const int vectors[] = {EXC_GP, EXC_PF, EXC_PF};
    static const size_t lens[] = {11, 10, 19};
    for (int i = 0; i < 3; i++) {
        Seq s = {.len = 0};
        for (size_t b = 0; b < lens[i]; b++) {
            put(&s, code[i][b]);
        }
        FormState st;
        setup_default(&st);
        lockstep_fault(&s, &st, vectors[i]);
    }
}
END_TEST

/*
 * 67h in 64-bit mode: the effective address wraps to 32 bits before an
 * FS or GS base is added (SDM Vol.1 3.3.7).  RSI's high half is set, so
 * the untruncated address is non-canonical; ESI + EDI wraps past 4 GiB:
 *   mov rax, [esi+0x10] ; add [esi+edi+0x20], rax ; push qword [esi]
 *   pop qword [esi+8] ; add ebx, fs:[esi+0x40] ; movups xmm9, [esi+0x50]
 *   bt qword [esi], 5 ; mov ecx, [eip+x] (from the kernel half: x is
 *   relative to EIP's low 32 bits) ; hlt
 */
START_TEST(test_addr32)
{
    Seq s = {.len = 0};
    static const uint8_t head[] = {
        0x67, 0x48, 0x8b, 0x46, 0x10,       /* mov rax, [esi+0x10] */
        0x67, 0x48, 0x01, 0x44, 0x3e, 0x20, /* add [esi+edi+0x20], rax */
        0x67, 0xff, 0x36,                   /* push qword [esi] */
        0x67, 0x8f, 0x46, 0x08,             /* pop qword [esi+8] */
        0x64, 0x67, 0x03, 0x5e, 0x40,       /* add ebx, fs:[esi+0x40] */
        0x67, 0x44, 0x0f, 0x10, 0x4e, 0x50, /* movups xmm9, [esi+0x50] */
        0x67, 0x48, 0x0f, 0xba, 0x26, 0x05, /* bt qword [esi], 5 */
        0x67, 0x8b, 0x0d,                   /* mov ecx, [eip+disp32] */
    };
    for (size_t i = 0; i < sizeof(head); i++) {
        put(&s, head[i]);
    }
    uint64_t rip = TESTVM_HIGH + TESTVM_CODE;
    uint32_t next = (uint32_t)(rip + s.len + 4);
    put32(&s, DATA + 0x100 - next); /* EIP-relative: DATA + 0x100 */
    put(&s, 0xf4);
    FormState st;
    setup_default(&st);
    st.rip = rip;
    st.regs[R_ESI] = 0x00ff000000000000ull | (DATA + 0x200); /* non-canonical at 64 bits */
    st.regs[R_EDI] = 0x00ff0000ffffff00ull;                  /* ESI + EDI wraps */
    st.fs = 0x100;
    lockstep(&s, &st, EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | EFLAGS_PF, 1); /* BT's undefined */
    /* The untruncated address mapped and in the TLB (TESTVM_HIGH maps
     * RAM again), the truncated one not: 67h must fault at 80020000h:
     *   mov rax, [rsi] ; mov rbx, [esi] (#PF) ; hlt
     * and, RIP-relative from the kernel half:
     *   mov rax, [rsi] ; mov ecx, [eip + x] (#PF at 80020100h) ; hlt */
    static const uint8_t warm[] = {0x48, 0x8b, 0x06, 0x67, 0x48, 0x8b, 0x1e, 0xf4};
    Seq w = {.len = 0};
    for (size_t i = 0; i < sizeof(warm); i++) {
        put(&w, warm[i]);
    }
    FormState hi;
    setup_default(&hi);
    hi.regs[R_ESI] = TESTVM_HIGH + DATA;
    lockstep_fault(&w, &hi, EXC_PF);
    Seq r = {.len = 0};
    for (size_t i = 0; i < 3; i++) {
        put(&r, warm[i]);
    }
    put(&r, 0x67);
    put(&r, 0x8b);
    put(&r, 0x0d);
    put32(&r, 0x80020100u - (uint32_t)(rip + r.len + 4));
    put(&r, 0xf4);
    hi.rip = rip;
    lockstep_fault(&r, &hi, EXC_PF);
    /* and without 67h the same address is non-canonical */
    Seq t = {.len = 0};
    put(&t, 0x48);
    put(&t, 0x8b);
    put(&t, 0x46);
    put(&t, 0x10);
    put(&t, 0xf4);
    lockstep_fault(&t, &st, EXC_GP);
}
END_TEST

/*
 * SSE and MMX memory operands with an FS or GS override (TLS data: the
 * base added as the code runs), RIP-relative ones with a base too, and
 * across a page end; an aligned form the base misaligns raises #GP(0).
 */
START_TEST(test_sse_fs_gs)
{
    static const struct {
        uint8_t prefix; /* the mandatory prefix, or 0 */
        uint8_t op;     /* after 0F */
        bool aligned;   /* a 16-byte operand that must be aligned */
        bool mmx;
    } forms[] = {
        {0, 0x10, false, false},    /* movups xmm, m128 */
        {0, 0x11, false, false},    /* movups m128, xmm */
        {0x66, 0x6f, true, false},  /* movdqa xmm, m128 */
        {0x66, 0xd4, true, false},  /* paddq xmm, m128 */
        {0xf2, 0x58, false, false}, /* addsd xmm, m64 */
        {0xf2, 0x11, false, false}, /* movsd m64, xmm */
        {0x66, 0x7e, false, false}, /* movd m32, xmm */
        {0, 0xfe, false, true},     /* paddd mm, m64 */
    };
    for (int n = 0; n < 150; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 10);
        for (int i = 0; i < count; i++) {
            int k = (int)(rnd() % (sizeof(forms) / sizeof(forms[0])));
            bool aligned = forms[k].aligned;
            MemOpnd a = {.kind = aligned ? 3 : (int)(rnd() % 5)};
            int reg = (int)(rnd() & (forms[k].mmx ? 7 : 15)); /* MMX: no REX.R */
            put(&s, (rnd() & 1) ? 0x64 : 0x65);
            if (forms[k].prefix) {
                put(&s, forms[k].prefix); /* the mandatory prefix before REX */
            }
            uint8_t r = rex(false, reg, mem_index(&a), mem_base(&a));
            if (r != 0x40) {
                put(&s, r);
            }
            put(&s, 0x0f);
            put(&s, forms[k].op);
            if (aligned) {
                /* [rip + disp32] to a 16-byte aligned DATA + x: FS's and GS's bases are too */
                put(&s, (uint8_t)(0005 | (reg & 7) << 3));
                a.disp_at = s.len;
                a.target = DATA + (uint32_t)(rnd() % 0x1f0) * 16;
                put32(&s, 0);
            } else {
                put_mem_modrm(&s, reg, &a, 16);
            }
            put_mem_fixup(&s, &a);
        }
        put(&s, 0x0f);
        put(&s, 0x77); /* emms */
        put(&s, 0xf4);
        FormState st;
        setup_default(&st);
        st.fs = 0x1000;
        st.gs = 0x800;
        lockstep(&s, &st, 0, 1);
    }
    /* movaps xmm0, fs:[rsi] with FS's base 8 off alignment: #GP(0) */
    static const uint8_t bad[] = {0x64, 0x0f, 0x28, 0x06, 0xf4};
    Seq s = {.len = 0};
    for (size_t b = 0; b < sizeof(bad); b++) {
        put(&s, bad[b]);
    }
    FormState st;
    setup_default(&st);
    st.fs = 0x1008;
    lockstep_fault(&s, &st, EXC_GP);
}
END_TEST

/*
 * BSF with F3 (gcc's `rep bsf` for __builtin_ctz): without BMI1, which
 * popek's CPU lacks, it is BSF, at 16, 32 and 64 bits, on registers and
 * memory (non-zero sources: BSF of zero leaves a destination the SDM
 * calls undefined).
 */
START_TEST(test_rep_bsf)
{
    for (int n = 0; n < 100; n++) {
        Seq s = {.len = 0};
        FormState st;
        setup_default(&st);
        for (int r = 0; r < 16; r++) {
            if (r != R_ESP && r != R_ESI && r != R_EDI && r != 13) {
                st.regs[r] = (rnd() | 1) << (rnd() % 64);
                st.regs[r] |= (uint64_t)1 << (rnd() % 16);
            }
        }
        int count = 1 + (int)(rnd() % 10);
        for (int i = 0; i < count; i++) {
            int size = (int[]){2, 4, 8}[rnd() % 3];
            int dst = data_reg(), src = data_reg();
            if (size == 2) {
                put(&s, 0x66);
            }
            put(&s, 0xf3);
            put(&s, rex(size == 8, dst, 0, src));
            put(&s, 0x0f);
            put(&s, (rnd() & 1) ? 0xbc : 0xbd);
            put(&s, (uint8_t)(0300 | (dst & 7) << 3 | (src & 7)));
        }
        put(&s, 0xf4);
        lockstep(&s, &st, EFLAGS_ARITH & ~EFLAGS_ZF, 1);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64_forms");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_push_pop_forms);
    tcase_add_test(tc, test_push_pop_faults);
    tcase_add_test(tc, test_bit_strings);
    tcase_add_test(tc, test_bit_string_faults);
    tcase_add_test(tc, test_bit_string_rip_high);
    tcase_add_test(tc, test_divide_edges);
    tcase_add_test(tc, test_divide_small);
    tcase_add_test(tc, test_divide_small_legacy);
    tcase_add_test(tc, test_moffs);
    tcase_add_test(tc, test_moffs_faults);
    tcase_add_test(tc, test_addr32);
    tcase_add_test(tc, test_sse_fs_gs);
    tcase_add_test(tc, test_rep_bsf);
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
