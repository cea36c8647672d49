/*
 * 64-bit blocks (translator/gen64.c) against the host CPU: the guest's
 * 64-bit code is host code, so a sequence of the forms gen64.c emits
 * natively runs once as translated guest code and once on the host, from
 * the same sixteen registers, and must end with the same registers and
 * arithmetic flags (the host runs the very instructions the translator
 * emits, so even the flags the SDM leaves undefined agree).  The
 * sequences are random: REX.W or not, every register but RSP (the host's
 * own stack) in either ModRM field, so pinned registers and R8-R15 in
 * CPUState meet in every combination, immediates, LEA with any base,
 * index and scale, and forward Jcc over the next instruction, which ends a
 * block and chains to the next.  The statistics prove the code ran
 * translated: the one callout is the HLT at the end.  Memory forms, whose
 * addresses differ between guest and host, are compared with the
 * interpreter instead.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/unit/lm_fixture.h"

typedef struct HostRegs {
    uint64_t r[16];
    uint64_t flags;
} HostRegs;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    return seq_rnd(&rng);
}

/* Any register but RSP (4): the host's stack pointer cannot take part. */
static int any_reg(void)
{
    int r;
    do {
        r = (int)(rnd() & 15);
    } while (r == 4);
    return r;
}

static uint8_t rex(bool w, int reg, int index, int base)
{
    return (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
                     ((base & 8) ? 1 : 0));
}

static void put_modrm_rr(Seq *s, bool w, unsigned op, int reg, int rm)
{
    put(s, rex(w, reg, 0, rm));
    put(s, (uint8_t)op);
    put(s, (uint8_t)(0300 | (reg & 7) << 3 | (rm & 7)));
}

/* One random instruction of the natively emitted forms. */
static void put_insn(Seq *s)
{
    static const uint8_t alu_rr[] = {0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b, 0x21, 0x23,
                                     0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b, 0x85, 0x89, 0x8b};
    bool w = rnd() & 1;
    int a = any_reg(), b = any_reg();
    switch (rnd() % 8) {
    case 0:
    case 1: /* op Ev,Gv / Gv,Ev, TEST, MOV */
        put_modrm_rr(s, w, alu_rr[rnd() % sizeof(alu_rr)], b, a);
        break;
    case 2: /* 81 /n Ev,Iz ; 83 /n Ev,Ib */
        if (rnd() & 1) {
            put_modrm_rr(s, w, 0x81, (int)(rnd() & 7), a);
            put32(s, (uint32_t)rnd());
        } else {
            put_modrm_rr(s, w, 0x83, (int)(rnd() & 7), a);
            put(s, (uint8_t)rnd());
        }
        break;
    case 3: /* F7 /0 TEST Ev,Iz ; C7 /0 MOV Ev,Iz */
        put_modrm_rr(s, w, (rnd() & 1) ? 0xf7 : 0xc7, 0, a);
        put32(s, (uint32_t)rnd());
        break;
    case 4: /* FF /0 INC, /1 DEC ; F7 /2 NOT, /3 NEG */
        if (rnd() & 1) {
            put_modrm_rr(s, w, 0xff, (int)(rnd() & 1), a);
        } else {
            put_modrm_rr(s, w, 0xf7, 2 + (int)(rnd() & 1), a);
        }
        break;
    case 5: /* B8+r MOV Zv, imm32 / REX.W imm64 */
        put(s, rex(w, 0, 0, a));
        put(s, (uint8_t)(0xb8 | (a & 7)));
        put32(s, (uint32_t)rnd());
        if (w) {
            put32(s, (uint32_t)rnd());
        }
        break;
    case 6: { /* LEA Gv, [base + index*2^scale + disp] through a SIB byte */
        int index = (rnd() & 3) ? any_reg() : 4; /* 4 without REX.X: no index */
        int mod = (int)(rnd() % 3);
        int base = a;
        if (mod == 0 && (base & 7) == 5) {
            mod = 1; /* mod 0 base 5 is disp32 without a base */
        }
        put(s, rex(w, b, index, base));
        put(s, 0x8d);
        put(s, (uint8_t)(mod << 6 | (b & 7) << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | (index & 7) << 3 | (base & 7)));
        if (mod == 1) {
            put(s, (uint8_t)rnd());
        } else if (mod == 2) {
            put32(s, (uint32_t)rnd());
        }
        break;
    }
    default: /* Jcc rel8 over the next instruction (a 3-byte MOV) */
        put(s, (uint8_t)(0x70 | (rnd() & 15)));
        put(s, 3);
        put_modrm_rr(s, w, 0x89, b, a);
        break;
    }
}

/*
 * The sequence on the host, as a function of io:
 *   push rbx ; push rbp ; push r12 ; push r13 ; push r14 ; push r15 ; push rdi
 *   push qword [rdi+128] ; popfq ; mov rax, [rdi] ... mov r15, [rdi+120] ; mov rdi, [rdi+56]
 *   <the sequence>
 *   push rdi ; mov rdi, [rsp+8] ; mov [rdi], rax ... mov [rdi+120], r15
 *   pop rax ; mov [rdi+56], rax ; pushfq ; pop rax ; mov [rdi+128], rax
 *   pop rdi ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbp ; pop rbx ; ret
 */
static void run_host(const Seq *s, HostRegs *io)
{
    size_t size = 2 * SEQ_MAX + 4096;
    uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);
    Emit e;
    emit_init(&e, mem, size, 0);
    static const int saved[] = {H_RBX, H_RBP, H_R12, H_R13, H_R14, H_R15, H_RDI};
    for (int i = 0; i < 7; i++) {
        if (saved[i] >= 8) {
            emit_u8(&e, 0x41);
        }
        emit_u8(&e, (uint8_t)(0x50 | (saved[i] & 7)));
    }
    HostRM fl = hrm_mem(H_RDI, 128);
    emit_rm(&e, 0, OPC_GRP5_Ev, 6, &fl); /* push qword [rdi+128] */
    emit_u8(&e, 0x9d);                   /* popfq */
    for (int r = 0; r < 16; r++) {
        if (r != H_RSP && r != H_RDI) {
            emit_load64(&e, r, H_RDI, 8 * r);
        }
    }
    emit_load64(&e, H_RDI, H_RDI, 8 * H_RDI);
    emit_bytes(&e, s->b, s->len);
    emit_u8(&e, 0x57); /* push rdi */
    emit_load64(&e, H_RDI, H_RSP, 8);
    for (int r = 0; r < 16; r++) {
        if (r != H_RSP && r != H_RDI) {
            emit_store64(&e, H_RDI, 8 * r, r);
        }
    }
    emit_u8(&e, 0x58); /* pop rax */
    emit_store64(&e, H_RDI, 8 * H_RDI, H_RAX);
    emit_u8(&e, 0x9c); /* pushfq */
    emit_u8(&e, 0x58); /* pop rax */
    emit_store64(&e, H_RDI, 128, H_RAX);
    for (int i = 6; i >= 0; i--) {
        if (saved[i] >= 8) {
            emit_u8(&e, 0x41);
        }
        emit_u8(&e, (uint8_t)(0x58 | (saved[i] & 7)));
    }
    emit_u8(&e, OPC_RET);
    ck_assert(!e.overflow);
    ck_assert_int_eq(mprotect(mem, size, PROT_READ | PROT_EXEC), 0);
    void (*fn)(HostRegs *) = (void (*)(HostRegs *))(uintptr_t)mem;
    fn(io);
    munmap(mem, size);
}

/* The sequence and a HLT as 64-bit guest code from in's registers under
 * bt: the registers and flags it ends with, and the statistics. */
static void run_guest(const Seq *s, const HostRegs *in, HostRegs *out, BTStats *stats)
{
    uint8_t code[SEQ_MAX + 1];
    memcpy(code, s->b, s->len);
    code[s->len] = 0xf4; /* hlt */
    TestVM *vm = make_vm(code, s->len + 1, MODE_64);
    for (int r = 0; r < 16; r++) {
        if (r != R_ESP) {
            vm->cpu.regs[r] = in->r[r];
        }
    }
    vm->cpu.eflags = EFLAGS_FIXED | ((uint32_t)in->flags & EFLAGS_ARITH);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_CODE + s->len + 1);
    memcpy(out->r, vm->cpu.regs, sizeof(out->r));
    out->flags = cpu_get_eflags(&vm->cpu);
    *stats = *bt_stats(bt);
    bt_free(bt);
    testvm_free(vm);
}

static void check_seq(const Seq *s, HostRegs *in)
{
    HostRegs host = *in, guest;
    BTStats st;
    run_host(s, &host);
    run_guest(s, in, &guest, &st);
    for (int r = 0; r < 16; r++) {
        if (r != R_ESP) {
            ck_assert_msg(guest.r[r] == host.r[r], "register %d: translated %016llx, host %016llx",
                          r, (unsigned long long)guest.r[r], (unsigned long long)host.r[r]);
        }
    }
    ck_assert_uint_eq(guest.flags & EFLAGS_ARITH, host.flags & EFLAGS_ARITH);
    ck_assert_uint_gt(st.blocks_translated, 0);
    ck_assert_uint_eq(st.callout_insns, 1); /* the HLT */
    ck_assert_uint_eq(st.interp_insns, 0);
}

static void random_regs(HostRegs *in)
{
    for (int r = 0; r < 16; r++) {
        /* Some small, some with bit 31 set, some full width. */
        uint64_t v = rnd();
        in->r[r] = (r & 1) ? v : (r & 2) ? (uint32_t)v : v & 0xff;
    }
    in->flags = 0x2 | (rnd() & EFLAGS_ARITH);
}

/*
 * Memory forms against the interpreter: MOV to and from memory, the ALU
 * and TEST with a memory operand, immediates to memory, PUSH and POP (on
 * a misaligned stack, so some cross a page), on [rsi+disp],
 * [r13+disp] (R13 in CPUState), [rsi+rdi*scale+disp] and RIP-relative
 * operands, in two data pages, some accesses crossing from one to the
 * other (the slow path), among register ALU forms.  RSI, RDI and R13 hold
 * the addresses and are never written.  Both engines must end with the
 * same registers, memory and flags (AF, which the SDM leaves undefined
 * after the logic operations, aside), and the lockstep check must agree.
 */
static int data_reg(void)
{
    int r;
    do {
        r = any_reg();
    } while (r == 6 || r == 7 || r == 13);
    return r;
}

static void put_mem_insn(Seq *s)
{
    static const uint8_t ops[] = {0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b,
                                  0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b,
                                  0x85, 0x89, 0x8b, 0x81, 0x83, 0xc7, 0xf7};
    bool w = rnd() & 1;
    unsigned op = ops[rnd() % sizeof(ops)];
    int reg = (op == 0x81 || op == 0x83) ? (int)(rnd() & 7) : (op >= 0xc7) ? 0 : data_reg();
    int kind = (int)(rnd() % 6);
    int base = kind == 1 ? 13 : 6;
    put(s, rex(w, reg, kind == 2 || kind == 5 ? 7 : 0, kind >= 3 ? 0 : base));
    put(s, (uint8_t)op);
    size_t disp_at = 0;
    int32_t target = 0;
    if (kind == 4) { /* [disp32]: an absolute address (SIB, no base, no index) */
        put(s, (uint8_t)((reg & 7) << 3 | 4));
        put(s, 0x25);
        put32(s, DATA + (uint32_t)(rnd() % 0x1ff8));
    } else if (kind == 5) { /* [rdi*2^scale + disp32]: no base */
        put(s, (uint8_t)((reg & 7) << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 5));
        put32(s, DATA + (uint32_t)(rnd() % 0x1f00));
    } else if (kind == 3) { /* [rip + disp32] to DATA + x */
        put(s, (uint8_t)((reg & 7) << 3 | 5));
        disp_at = s->len;
        target = (int32_t)(DATA + (rnd() % 0x1ff8));
        put32(s, 0);
    } else if (kind == 2) { /* [rsi + rdi*2^scale + disp32] */
        put(s, (uint8_t)(2 << 6 | (reg & 7) << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 6));
        put32(s, (uint32_t)(rnd() % 0x1f00));
    } else if (rnd() & 1) { /* [base + disp8] */
        put(s, (uint8_t)(1 << 6 | (reg & 7) << 3 | (base & 7)));
        put(s, (uint8_t)(rnd() & 0x7f));
    } else { /* [base + disp32], now and then across the page end */
        put(s, (uint8_t)(2 << 6 | (reg & 7) << 3 | (base & 7)));
        put32(s, (rnd() & 3) ? (uint32_t)(rnd() % 0x7f8) : 0xffc - (base == 13 ? 0x800 : 0));
    }
    if (op == 0x83) {
        put(s, (uint8_t)rnd());
    } else if (op == 0x81 || op == 0xc7 || op == 0xf7) {
        put32(s, (uint32_t)rnd());
    }
    if (kind == 3) {
        uint32_t next = TESTVM_CODE + (uint32_t)s->len;
        uint32_t d = (uint32_t)target - next;
        memcpy(&s->b[disp_at], &d, 4);
    }
}

START_TEST(test_memory_forms_match_interp)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int n = 0; n < 100; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 30);
        for (int i = 0; i < count; i++) {
            int pick = (int)(rnd() % 6);
            if (pick == 0) { /* PUSH r64 (RSP too: its old value) */
                int r = (rnd() % 8) ? data_reg() : 4;
                put(&s, rex(false, 0, 0, r));
                put(&s, (uint8_t)(0x50 | (r & 7)));
            } else if (pick == 1) { /* POP r64 */
                int r = data_reg();
                put(&s, rex(false, 0, 0, r));
                put(&s, (uint8_t)(0x58 | (r & 7)));
            } else if (pick < 5) {
                put_mem_insn(&s);
            } else {
                put_modrm_rr(&s, rnd() & 1, 0x01 + 8 * (rnd() % 8), data_reg(), data_reg());
            }
        }
        put(&s, 0xf4); /* hlt */
        uint64_t regs[16];
        for (int r = 0; r < 16; r++) {
            regs[r] = rnd();
        }
        regs[6] = DATA;
        regs[7] = rnd() % 16;
        regs[13] = DATA + 0x800;
        regs[4] = 0x7004; /* a misaligned stack: PUSH and POP across 7000h take the slow path */
        uint32_t flags = (uint32_t)rnd() & EFLAGS_ARITH;
        uint32_t seed = (uint32_t)rnd();
        TestVM *vm[3];
        for (int e = 0; e < 3; e++) {
            vm[e] = make_vm(s.b, s.len, MODE_64);
            memcpy(vm[e]->cpu.regs, regs, sizeof(regs));
            vm[e]->cpu.eflags = EFLAGS_FIXED | flags;
            uint32_t x = seed | 1;
            for (uint32_t a = DATA; a < DATA + 0x2000; a += 4) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                phys_write(&vm[e]->phys, a, x, 4);
            }
        }
        ck_assert_int_eq(testvm_run(vm[0], 100000), CPU_EXIT_HALT);
        for (int e = 1; e < 3; e++) {
            BT *bt = bt_new(&vm[e]->cpu, 1u << 20, modes[e - 1]);
            bt_set_code64(bt, true);
            bt_set_mem64_native(bt, true);
            ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
            for (int r = 0; r < 16; r++) {
                ck_assert_msg(vm[e]->cpu.regs[r] == vm[0]->cpu.regs[r],
                              "register %d: translated %016llx, interpreter %016llx", r,
                              (unsigned long long)vm[e]->cpu.regs[r],
                              (unsigned long long)vm[0]->cpu.regs[r]);
            }
            ck_assert_uint_eq(cpu_get_eflags(&vm[e]->cpu) & EFLAGS_ARITH & ~EFLAGS_AF,
                              cpu_get_eflags(&vm[0]->cpu) & EFLAGS_ARITH & ~EFLAGS_AF);
            ck_assert_uint_eq(vm[e]->cpu.icount, vm[0]->cpu.icount);
            ck_assert_int_eq(memcmp(vm[e]->phys.ram + DATA, vm[0]->phys.ram + DATA, 0x2000), 0);
            ck_assert_int_eq(memcmp(vm[e]->phys.ram + 0x6000, vm[0]->phys.ram + 0x6000, 0x2000), 0);
            if (e == 1) {
                ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* the HLT */
            }
            bt_free(bt);
        }
        for (int e = 0; e < 3; e++) {
            testvm_free(vm[e]);
        }
    }
}
END_TEST

/* 200 random sequences of 1 to 40 instructions. */
START_TEST(test_native_forms_match_host)
{
    for (int n = 0; n < 200; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 40);
        for (int i = 0; i < count; i++) {
            put_insn(&s);
        }
        HostRegs in;
        random_regs(&in);
        check_seq(&s, &in);
    }
}
END_TEST

/*
 * RIP-relative LEA takes the next instruction's RIP, known at translation:
 *   lea rax, [rip+0x10] ; lea r9, [rip-0x10] ; lea ecx, [rip+0] ; hlt
 */
START_TEST(test_lea_rip_relative)
{
    static const uint8_t code[] = {0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x0d, 0xf0,
                                   0xff, 0xff, 0xff, 0x8d, 0x0d, 0x00, 0x00, 0x00, 0x00, 0xf4};
    TestVM *vm = make_vm(code, sizeof(code), MODE_64);
    vm->cpu.regs[R_ECX] = 0xffffffff00000000ull;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], TESTVM_CODE + 7 + 0x10);
    ck_assert_uint_eq(vm->cpu.regs[9], TESTVM_CODE + 14 - 0x10);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], TESTVM_CODE + 20); /* zero-extended */
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * A loop that chains to itself in one page, with its counter in R8 (in
 * CPUState) and a 32-bit result in R9D (its high half zeroed):
 *   mov r8d, 1000 ; mov r9, -1 ; xor eax, eax
 *   l: add rax, r8 ; add r9d, 1 ; dec r8 ; jnz l
 *   hlt
 * Exact instruction counts across any slicing (the interpreter runs the
 * tails): the budget is charged per block as in 32-bit code.
 */
START_TEST(test_loop_in_cpustate_register)
{
    static const uint8_t code[] = {
        0x41, 0xb8, 0xe8, 0x03, 0x00, 0x00,       /* mov r8d, 1000 */
        0x49, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, /* mov r9, -1 */
        0x31, 0xc0,                               /* xor eax, eax */
        0x4c, 0x01, 0xc0,                         /* l: add rax, r8 */
        0x41, 0x83, 0xc1, 0x01,                   /* add r9d, 1 */
        0x49, 0xff, 0xc8,                         /* dec r8 */
        0x75, 0xf4,                               /* jnz l */
        0xf4,                                     /* hlt */
    };
    static const uint64_t slices[] = {1000000, 7, 1};
    for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
        TestVM *vm = make_vm(code, sizeof(code), MODE_64);
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        int r;
        do {
            r = bt_exec(bt, slices[i]);
        } while (r == CPU_EXIT_BUDGET);
        ck_assert_int_eq(r, CPU_EXIT_HALT);
        ck_assert_uint_eq(vm->cpu.regs[R_EAX], 500500);
        ck_assert_uint_eq(vm->cpu.regs[8], 0);
        ck_assert_uint_eq(vm->cpu.regs[9], 999); /* -1 + 1000 in 32 bits, zero-extended */
        ck_assert_uint_eq(vm->cpu.icount, 3 + 4 * 1000 + 1);
        if (slices[i] == 1000000) {
            ck_assert_uint_gt(bt_stats(bt)->chains, 0);
            ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
            ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
        }
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * A non-canonical memory operand of a native form raises #GP(0), or
 * #SS(0) through SS (RBP as the base), at the instruction with the
 * registers before it (SDM Vol.3 6.15):
 *   mov rax, 0x0000800000000000 ; mov rbp, rax ; mov ebx, 5
 *   add rbx, [rax]  (or add rbx, [rbp+0]) ; hlt
 */
START_TEST(test_noncanonical_faults)
{
    static const uint8_t head[] = {0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
                                   0x00, 0x48, 0x89, 0xc5, 0xbb, 0x05, 0x00, 0x00, 0x00};
    static const struct {
        uint8_t insn[4];
        size_t len;
        int vector;
    } cases[] = {{{0x48, 0x03, 0x18}, 3, EXC_GP}, {{0x48, 0x03, 0x5d, 0x00}, 4, EXC_SS}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t code[32];
        memcpy(code, head, sizeof(head));
        memcpy(code + sizeof(head), cases[i].insn, cases[i].len);
        code[sizeof(head) + cases[i].len] = 0xf4;
        TestVM *vm = make_vm(code, sizeof(head) + cases[i].len + 1, MODE_64);
        FirstFault f = {.vector = -1};
        vm->cpu.hooks.observer = &f;
        vm->cpu.hooks.on_exception = first_fault_note;
        BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        bt_exec(bt, 1000);
        ck_assert_int_eq(f.vector, cases[i].vector);
        ck_assert_uint_eq(f.error, 0);
        ck_assert_uint_eq(f.rip, TESTVM_CODE + sizeof(head));
        ck_assert_uint_eq(f.rbx, 5);
        ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0); /* the access was translated code's */
        bt_free(bt);
        testvm_free(vm);
    }
}
END_TEST

/*
 * A RIP-relative store run from a kernel-half address (TESTVM_HIGH) takes
 * the slow path on its first access, whose commit must use the whole RIP
 * (the amd64 kernel's `mov qword [rip+x], imm32` in early boot once wrote
 * through a RIP truncated to 32 bits, --accel check found it):
 *   mov qword [rip + DATA - next], -0x735fc000 ; hlt
 */
START_TEST(test_rip_relative_store_high)
{
    uint8_t code[] = {0x48, 0xc7, 0x05, 0, 0, 0, 0, 0x00, 0x40, 0xa0, 0x8c, 0xf4};
    uint32_t disp = DATA - (TESTVM_CODE + 11);
    memcpy(code + 3, &disp, 4);
    TestVM *vm = make_vm(code, sizeof(code), MODE_64);
    vm->cpu.eip = TESTVM_HIGH + TESTVM_CODE;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.eip, TESTVM_HIGH + TESTVM_CODE + sizeof(code));
    ck_assert_uint_eq(phys_read(&vm->phys, DATA, 4), 0x8ca04000u);
    ck_assert_uint_eq(phys_read(&vm->phys, DATA + 4, 4), 0xffffffffu);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* the HLT: the store was native */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_native_forms_match_host);
    tcase_add_test(tc, test_memory_forms_match_interp);
    tcase_add_test(tc, test_lea_rip_relative);
    tcase_add_test(tc, test_noncanonical_faults);
    tcase_add_test(tc, test_rip_relative_store_high);
    tcase_add_test(tc, test_loop_in_cpustate_register);
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
