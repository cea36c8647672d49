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

#include "cpu/undef.h"
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

/*
 * The ModRM integer forms gen_native.c re-encodes, for both tests: the
 * opcode (0x100: the 0F map), what the reg field is ('v' a register of
 * the operand size, 'b' a byte register, '0'-'7' an extension, 'x' any
 * extension but 6), the r/m's size ('v', 'b', 'w', 'd'), the immediate
 * (0, 'b' imm8, 'z' imm16/32), and whether the memory test takes it (a
 * register bit offset makes a memory operand a bit string: a callout).
 */
typedef struct Form {
    uint16_t op;
    char g, e, imm;
    bool mem;
} Form;

static const Form forms[] = {
    {0x00, 'b', 'b', 0, 1},    {0x08, 'b', 'b', 0, 1},    {0x10, 'b', 'b', 0, 1},
    {0x18, 'b', 'b', 0, 1},    {0x20, 'b', 'b', 0, 1},    {0x28, 'b', 'b', 0, 1},
    {0x30, 'b', 'b', 0, 1},    {0x38, 'b', 'b', 0, 1},    {0x02, 'b', 'b', 0, 1},
    {0x1a, 'b', 'b', 0, 1},    {0x2a, 'b', 'b', 0, 1},    {0x3a, 'b', 'b', 0, 1},
    {0x84, 'b', 'b', 0, 1},    {0x86, 'b', 'b', 0, 1},    {0x88, 'b', 'b', 0, 1},
    {0x8a, 'b', 'b', 0, 1},    {0x01, 'v', 'v', 0, 1},    {0x13, 'v', 'v', 0, 1},
    {0x29, 'v', 'v', 0, 1},    {0x3b, 'v', 'v', 0, 1},    {0x87, 'v', 'v', 0, 1},
    {0x89, 'v', 'v', 0, 1},    {0x8b, 'v', 'v', 0, 1},    {0x80, 'x', 'b', 'b', 1},
    {0x81, 'x', 'v', 'z', 1},  {0x83, 'x', 'v', 'b', 1},  {0xc6, '0', 'b', 'b', 1},
    {0xc7, '0', 'v', 'z', 1},  {0xf6, '0', 'b', 'b', 1},  {0xf6, '2', 'b', 0, 1},
    {0xf6, '3', 'b', 0, 1},    {0xf6, '4', 'b', 0, 1},    {0xf6, '5', 'b', 0, 1},
    {0xf7, '0', 'v', 'z', 1},  {0xf7, '2', 'v', 0, 1},    {0xf7, '3', 'v', 0, 1},
    {0xf7, '4', 'v', 0, 1},    {0xf7, '5', 'v', 0, 1},    {0xfe, '0', 'b', 0, 1},
    {0xfe, '1', 'b', 0, 1},    {0xff, '0', 'v', 0, 1},    {0xff, '1', 'v', 0, 1},
    {0xc0, 'x', 'b', 'b', 1},  {0xc1, 'x', 'v', 'b', 1},  {0xd0, 'x', 'b', 0, 1},
    {0xd1, 'x', 'v', 0, 1},    {0xd2, 'x', 'b', 0, 1},    {0xd3, 'x', 'v', 0, 1},
    {0x69, 'v', 'v', 'z', 1},  {0x6b, 'v', 'v', 'b', 1},  {0x63, 'v', 'd', 0, 1},
    {0x1a3, 'v', 'v', 0, 0},   {0x1ab, 'v', 'v', 0, 0},   {0x1b3, 'v', 'v', 0, 0},
    {0x1bb, 'v', 'v', 0, 0},   {0x1ba, '4', 'v', 'b', 1}, {0x1ba, '5', 'v', 'b', 1},
    {0x1ba, '6', 'v', 'b', 1}, {0x1ba, '7', 'v', 'b', 1}, {0x1a4, 'v', 'v', 'b', 1},
    {0x1ac, 'v', 'v', 'b', 1}, {0x1a5, 'v', 'v', 0, 1},   {0x1ad, 'v', 'v', 0, 1},
    {0x1af, 'v', 'v', 0, 1},   {0x1b6, 'v', 'b', 0, 1},   {0x1be, 'v', 'b', 0, 1},
    {0x1b7, 'v', 'w', 0, 1},   {0x1bf, 'v', 'w', 0, 1},   {0x1bc, 'v', 'v', 0, 1},
    {0x1bd, 'v', 'v', 0, 1},   {0x1c0, 'b', 'b', 0, 1},   {0x1c1, 'v', 'v', 0, 1},
    {0x1b0, 'b', 'b', 0, 1},   {0x1b1, 'v', 'v', 0, 1},   {0x142, 'v', 'v', 0, 1},
    {0x14f, 'v', 'v', 0, 1},   {0x145, 'v', 'v', 0, 1},   {0x194, '0', 'b', 0, 1},
    {0x19c, '0', 'b', 0, 1},   {0x197, '0', 'b', 0, 1},
};

/* A form's operand size: 2, 4 or 8 for 'v' forms (MOVSXD, SHLD, SHRD: 4 or 8). */
static int form_size(const Form *f)
{
    if (f->op == 0x63 || (f->op & ~0x9u) == 0x1a4) {
        return (rnd() & 1) ? 8 : 4; /* SHLD/SHRD r/m16 by more than 16: undefined */
    }
    static const int sizes[] = {2, 4, 8, 8};
    return sizes[rnd() & 3];
}

/* The reg field's value: its extension, or a register from pick. */
static int form_ext(const Form *f)
{
    if (f->g == 'x') {
        int x;
        do {
            x = (int)(rnd() & 7);
        } while (x == 6);
        return x;
    }
    return f->g - '0';
}

static bool form_g_is_reg(const Form *f)
{
    return f->g == 'v' || f->g == 'b';
}

/* [seg] [66] [REX] [0F] opcode: REX when asked, or needed by W or a register >= 8. */
static void put_form_head(Seq *s, const Form *f, int size, bool want_rex, int reg, int index,
                          int base)
{
    bool w = size == 8 && (f->e == 'v' || f->e == 'd' || f->g == 'v');
    if (size == 2) {
        put(s, 0x66);
    }
    if (want_rex || w || reg >= 8 || index >= 8 || base >= 8) {
        put(s, rex(w, reg, index, base));
    }
    if (f->op & 0x100) {
        put(s, 0x0f);
    }
    put(s, (uint8_t)f->op);
}

static void put_form_imm(Seq *s, const Form *f, int size)
{
    if (f->imm == 'b') {
        put(s, (uint8_t)rnd());
    } else if (f->imm == 'z') {
        uint32_t v = (uint32_t)rnd();
        put(s, (uint8_t)v);
        put(s, (uint8_t)(v >> 8));
        if (size != 2) {
            put(s, (uint8_t)(v >> 16));
            put(s, (uint8_t)(v >> 24));
        }
    }
}

/* A register of a field: without REX 0-7 (4-7 of a byte field are
 * AH..BH; RSP never), with REX any but RSP and SPL, unless rsp_ok. */
static int pick_reg(bool byte, bool has_rex, bool rsp_ok)
{
    int r;
    do {
        r = (int)(rnd() & (has_rex ? 15 : 7));
    } while (r == 4 && !rsp_ok && !(byte && !has_rex));
    return r;
}

/* A register form of a random Form: both fields registers. */
static void put_form_rr(Seq *s, bool rsp_ok)
{
    const Form *f = &forms[rnd() % (sizeof(forms) / sizeof(forms[0]))];
    int size = form_size(f);
    bool has_rex = (rnd() & 1) || size == 8;
    /* RSP (R12) only with REX: without, a byte field may be AH..BH, which
     * no instruction with R12 can name (a callout). */
    int reg = form_g_is_reg(f) ? pick_reg(f->g == 'b', has_rex, rsp_ok && has_rex) : form_ext(f);
    int rm = pick_reg(f->e == 'b', has_rex, rsp_ok && has_rex);
    put_form_head(s, f, size, has_rex, reg, 0, rm);
    put(s, (uint8_t)(0300 | (reg & 7) << 3 | (rm & 7)));
    put_form_imm(s, f, size);
}

/* Forms without ModRM: ALU on AL/eAX with an immediate, TEST, CBW..CQO,
 * CMC/CLC/STC, XCHG rAX (90+r, REX.B), BSWAP, MOV r8, imm8 with and
 * without REX, MOV r16, imm16. */
static void put_opcode_form(Seq *s, bool rsp_ok)
{
    int size = (int[]){2, 4, 8, 8}[rnd() & 3];
    int r = pick_reg(false, true, rsp_ok);
    switch (rnd() % 7) {
    case 6: /* MOV r16, imm16 */
        put(s, 0x66);
        put(s, rex(false, 0, 0, r));
        put(s, (uint8_t)(0xb8 | (r & 7)));
        put(s, (uint8_t)rnd());
        put(s, (uint8_t)rnd());
        break;
    case 0: { /* 04/05 + 8n ; A8/A9 */
        uint8_t op = (rnd() & 3) ? (uint8_t)(8 * (rnd() & 7) + 4 + (rnd() & 1))
                                 : (uint8_t)(0xa8 + (rnd() & 1));
        if (size == 2) {
            put(s, 0x66);
        } else if (size == 8) {
            put(s, 0x48);
        }
        put(s, op);
        put_form_imm(s, &(Form){.imm = (op & 1) ? 'z' : 'b'}, size);
        break;
    }
    case 1: { /* 98 99 F5 F8 F9 */
        static const uint8_t ops[] = {0x98, 0x99, 0xf5, 0xf8, 0xf9};
        if (size == 2) {
            put(s, 0x66);
        } else if (size == 8) {
            put(s, 0x48);
        }
        put(s, ops[rnd() % sizeof(ops)]);
        break;
    }
    case 2: /* XCHG r, rAX */
        if (r == 0) {
            r = 8; /* 90 without REX.B is NOP */
        }
        if (size == 2) {
            put(s, 0x66);
        }
        put(s, rex(size == 8, 0, 0, r));
        put(s, (uint8_t)(0x90 | (r & 7)));
        break;
    case 3: /* BSWAP r32/r64 */
        put(s, rex(size == 8, 0, 0, r));
        put(s, 0x0f);
        put(s, (uint8_t)(0xc8 | (r & 7)));
        break;
    case 4: /* MOV r8, imm8 with REX: SPL..DIL (SPL: rsp_ok), R8B..R15B */
        put(s, rex(false, 0, 0, r));
        put(s, (uint8_t)(0xb0 | (r & 7)));
        put(s, (uint8_t)rnd());
        break;
    default: /* MOV r8, imm8 without REX: AL..BH */
        put(s, (uint8_t)(0xb0 | (rnd() & 7)));
        put(s, (uint8_t)rnd());
        break;
    }
}

/* One random instruction of the natively emitted forms. */
static void put_insn(Seq *s)
{
    static const uint8_t alu_rr[] = {0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b, 0x21, 0x23,
                                     0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b, 0x85, 0x89, 0x8b};
    bool w = rnd() & 1;
    int a = any_reg(), b = any_reg();
    switch (rnd() % 11) {
    case 8:
    case 9: /* gen_native.c's ModRM forms */ put_form_rr(s, false); break;
    case 10: put_opcode_form(s, false); break;
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
 * Flags the SDM leaves undefined differ between CPUs (docs/undefined.md),
 * and the translator lets an instruction that writes the flags run on
 * whatever the host flags were, so an undefined flag may differ from a
 * host run.  The sequences track them: a flag left undefined (for any
 * count of a shift) is not compared at the end, and an instruction
 * reading flags while some are undefined gets a CMP first, which defines
 * all six.
 */
static bool reads_flags(const Insn *in)
{
    switch (in->op) {
    case OP_ADC:
    case OP_SBB:
    case OP_RCL:
    case OP_RCR:
    case OP_CMOV:
    case OP_SETCC:
    case OP_JCC:
    case OP_CMC: return true;
    default: return false;
    }
}

/* The ALU (ADD to TEST, consecutive in enum InsnOp), NEG, XADD, CMPXCHG. */
static bool writes_all_flags(const Insn *in)
{
    return (in->op >= OP_ADD && in->op <= OP_TEST) || in->op == OP_NEG || in->op == OP_XADD ||
           in->op == OP_CMPXCHG;
}

/* t appended to s, with a CMP before it if it reads an undefined flag;
 * *undef: the flags undefined after it. */
static void put_tracked(Seq *s, const Seq *t, uint32_t *undef)
{
    for (size_t pos = 0; pos < t->len;) {
        Insn in;
        ck_assert_int_eq(decode_insn_mode(&in, t->b + pos, (int)(t->len - pos), DECODE_64),
                         DECODE_OK);
        if (pos == 0 && reads_flags(&in) && *undef) {
            put(s, 0x48);
            put(s, 0x39);
            put(s, 0xc8); /* cmp rax, rcx */
            *undef = 0;
        }
        if (writes_all_flags(&in)) {
            *undef = 0;
        }
        for (uint32_t count = 0; count < 32; count++) {
            *undef |= cpu_undefined_flags(&in, count);
        }
        pos += in.len;
    }
    for (size_t i = 0; i < t->len; i++) {
        put(s, t->b[i]);
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

static void check_seq(const Seq *s, HostRegs *in, uint32_t undef)
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
    ck_assert_uint_eq(guest.flags & EFLAGS_ARITH & ~undef, host.flags & EFLAGS_ARITH & ~undef);
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

/* A memory operand's addressing: kind 0 [rsi+disp], 1 [r13+disp] (R13
 * in CPUState), 2 [rsi+rdi*scale+disp32], 3 [rip+disp32], 4 [disp32],
 * 5 [rdi*scale+disp32]. */
typedef struct MemAddr {
    int kind, base, index;
    size_t disp_at; /* RIP-relative: where the disp32 goes */
    int32_t target;
} MemAddr;

static MemAddr mem_addr_pick(bool has_rex)
{
    MemAddr a = {.kind = (int)(rnd() % 6)};
    if (a.kind == 1 && !has_rex) {
        a.kind = 0; /* R13 needs REX.B */
    }
    a.base = a.kind == 1 ? 13 : a.kind >= 3 ? 0 : 6;
    a.index = a.kind == 2 || a.kind == 5 ? 7 : 0;
    return a;
}

/* ModRM, SIB and displacement (within two data pages, now and then across the first's end). */
static void put_mem_modrm(Seq *s, int reg, MemAddr *a)
{
    if (a->kind == 4) { /* [disp32]: an absolute address (SIB, no base, no index) */
        put(s, (uint8_t)((reg & 7) << 3 | 4));
        put(s, 0x25);
        put32(s, DATA + (uint32_t)(rnd() % 0x1ff8));
    } else if (a->kind == 5) { /* [rdi*2^scale + disp32]: no base */
        put(s, (uint8_t)((reg & 7) << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 5));
        put32(s, DATA + (uint32_t)(rnd() % 0x1f00));
    } else if (a->kind == 3) { /* [rip + disp32] to DATA + x */
        put(s, (uint8_t)((reg & 7) << 3 | 5));
        a->disp_at = s->len;
        a->target = (int32_t)(DATA + (rnd() % 0x1ff8));
        put32(s, 0);
    } else if (a->kind == 2) { /* [rsi + rdi*2^scale + disp32] */
        put(s, (uint8_t)(2 << 6 | (reg & 7) << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 6));
        put32(s, (uint32_t)(rnd() % 0x1f00));
    } else if (rnd() & 1) { /* [base + disp8] */
        put(s, (uint8_t)(1 << 6 | (reg & 7) << 3 | (a->base & 7)));
        put(s, (uint8_t)(rnd() & 0x7f));
    } else { /* [base + disp32], now and then across the page end */
        put(s, (uint8_t)(2 << 6 | (reg & 7) << 3 | (a->base & 7)));
        put32(s, (rnd() & 3) ? (uint32_t)(rnd() % 0x7f8) : 0xffc - (a->base == 13 ? 0x800 : 0));
    }
}

/* The RIP-relative displacement, once the instruction is complete. */
static void put_mem_fixup(Seq *s, const MemAddr *a)
{
    if (a->kind == 3) {
        uint32_t d = (uint32_t)a->target - (TESTVM_CODE + (uint32_t)s->len);
        memcpy(&s->b[a->disp_at], &d, 4);
    }
}

static void put_mem_insn(Seq *s)
{
    static const uint8_t ops[] = {0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b,
                                  0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b,
                                  0x85, 0x89, 0x8b, 0x81, 0x83, 0xc7, 0xf7};
    bool w = rnd() & 1;
    unsigned op = ops[rnd() % sizeof(ops)];
    int reg = (op == 0x81 || op == 0x83) ? (int)(rnd() & 7) : (op >= 0xc7) ? 0 : data_reg();
    MemAddr a = mem_addr_pick(true);
    put(s, rex(w, reg, a.index, a.base));
    put(s, (uint8_t)op);
    put_mem_modrm(s, reg, &a);
    if (op == 0x83) {
        put(s, (uint8_t)rnd());
    } else if (op == 0x81 || op == 0xc7 || op == 0xf7) {
        put32(s, (uint32_t)rnd());
    }
    put_mem_fixup(s, &a);
}

/* A Form of gen_native.c on memory: byte registers with and without REX
 * (SPL now and then: RSP stays in the stack page), 16-bit forms, FS and
 * GS overrides. */
static void put_mem_form(Seq *s)
{
    const Form *f;
    do {
        f = &forms[rnd() % (sizeof(forms) / sizeof(forms[0]))];
    } while (!f->mem);
    int size = form_size(f);
    bool has_rex = (rnd() & 1) || size == 8;
    int reg;
    if (!form_g_is_reg(f)) {
        reg = form_ext(f);
    } else if (f->g == 'b' && !has_rex) {
        reg = (int)(rnd() & 7); /* AL..BH */
    } else if (f->g == 'b' && rnd() % 8 == 0) {
        reg = 4; /* SPL */
    } else {
        do {
            reg = data_reg();
        } while (!has_rex && reg >= 8);
    }
    MemAddr a = mem_addr_pick(has_rex);
    if (rnd() % 4 == 0) {
        put(s, (rnd() & 1) ? 0x64 : 0x65); /* FS: or GS: */
    }
    put_form_head(s, f, size, has_rex, reg, a.index, a.base);
    put_mem_modrm(s, reg, &a);
    put_form_imm(s, f, size);
    put_mem_fixup(s, &a);
}

START_TEST(test_memory_forms_match_interp)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    for (int n = 0; n < 100; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 30);
        uint32_t undef = 0;
        for (int i = 0; i < count; i++) {
            int pick = (int)(rnd() % 8);
            Seq t = {.len = 0};
            if (pick == 0) { /* PUSH r64 (RSP too: its old value) */
                int r = (rnd() % 8) ? data_reg() : 4;
                put(&t, rex(false, 0, 0, r));
                put(&t, (uint8_t)(0x50 | (r & 7)));
            } else if (pick == 1) { /* POP r64 */
                int r = data_reg();
                put(&t, rex(false, 0, 0, r));
                put(&t, (uint8_t)(0x58 | (r & 7)));
            } else if (pick < 4) {
                put_mem_insn(&t);
            } else if (pick < 7) {
                put_mem_form(&t);
            } else {
                put_modrm_rr(&t, rnd() & 1, 0x01 + 8 * (rnd() % 8), data_reg(), data_reg());
            }
            put_tracked(&s, &t, &undef);
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
            vm[e]->cpu.seg[SEG_FS].base = 0x1000;
            vm[e]->cpu.seg[SEG_GS].base = 0x800;
            uint32_t x = seed | 1;
            for (uint32_t a = DATA; a < DATA + 0x3000; a += 4) {
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
            uint32_t compared = EFLAGS_ARITH & ~EFLAGS_AF & ~undef;
            ck_assert_uint_eq(cpu_get_eflags(&vm[e]->cpu) & compared,
                              cpu_get_eflags(&vm[0]->cpu) & compared);
            ck_assert_uint_eq(vm[e]->cpu.icount, vm[0]->cpu.icount);
            ck_assert_int_eq(memcmp(vm[e]->phys.ram + DATA, vm[0]->phys.ram + DATA, 0x3000), 0);
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
        uint32_t undef = 0;
        for (int i = 0; i < count; i++) {
            Seq t = {.len = 0};
            put_insn(&t);
            put_tracked(&s, &t, &undef);
        }
        HostRegs in;
        random_regs(&in);
        check_seq(&s, &in, undef);
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

/* code run by the interpreter and by bt in run and check modes from regs;
 * all three must agree on the registers and the flags but undef. */
static void check_against_interp(const Seq *s, const uint64_t *regs, uint32_t undef,
                                 uint64_t want_callouts)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    TestVM *ref = make_vm(s->b, s->len, MODE_64);
    memcpy(ref->cpu.regs, regs, 16 * sizeof(uint64_t));
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    for (int m = 0; m < 2; m++) {
        TestVM *vm = make_vm(s->b, s->len, MODE_64);
        memcpy(vm->cpu.regs, regs, 16 * sizeof(uint64_t));
        BT *bt = bt_new(&vm->cpu, 1u << 20, modes[m]);
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
        for (int r = 0; r < 16; r++) {
            ck_assert_msg(vm->cpu.regs[r] == ref->cpu.regs[r],
                          "register %d: translated %016llx, interpreter %016llx", r,
                          (unsigned long long)vm->cpu.regs[r],
                          (unsigned long long)ref->cpu.regs[r]);
        }
        uint32_t compared = EFLAGS_ARITH & ~EFLAGS_AF & ~undef;
        ck_assert_uint_eq(cpu_get_eflags(&vm->cpu) & compared,
                          cpu_get_eflags(&ref->cpu) & compared);
        if (m == 0) {
            ck_assert_uint_eq(bt_stats(bt)->callout_insns, want_callouts);
        }
        bt_free(bt);
        testvm_free(vm);
    }
    testvm_free(ref);
}

/*
 * The register forms with RSP and SPL too, which the host run cannot
 * have (its stack): guest RSP is host R12 and SPL R12B, against the
 * interpreter, among byte registers with REX (SPL..DIL, R8B..R15B) and
 * without (AH..BH).  Every instruction must be native (the HLT aside).
 */
START_TEST(test_rsp_forms_match_interp)
{
    for (int n = 0; n < 100; n++) {
        Seq s = {.len = 0};
        uint32_t undef = 0;
        int count = 1 + (int)(rnd() % 30);
        for (int i = 0; i < count; i++) {
            Seq t = {.len = 0};
            if (rnd() & 3) {
                put_form_rr(&t, true);
            } else {
                put_opcode_form(&t, true);
            }
            put_tracked(&s, &t, &undef);
        }
        put(&s, 0xf4);
        HostRegs in;
        random_regs(&in);
        check_against_interp(&s, in.r, undef, 1);
    }
}
END_TEST

/*
 * The zero-extension rules of 64-bit mode (SDM Vol.1 3.4.1.1), on pinned
 * and CPUState registers: a 32-bit result clears bits 63:32, an 8- or
 * 16-bit one keeps them, CMOVcc r32 clears them even when it does not
 * move, and SPL (REX) is not AH (no REX):
 *   add r8d, 0 ; mov r9w, 1 ; mov r10b, 2 ; add ecx, 0 ; mov dx, 3
 *   xor r11d, r11d ; cmovne r12d, eax (ZF set: no move) ; inc bpl
 *   mov ah, 5 ; mov spl, 6 (REX) ; xchg r13d, eax ; bswap r14 ; hlt
 */
START_TEST(test_zero_extension)
{
    static const uint8_t code[] = {
        0x41, 0x83, 0xc0, 0x00,       /* add r8d, 0 */
        0x66, 0x41, 0xb9, 0x01, 0x00, /* mov r9w, 1 */
        0x41, 0xb2, 0x02,             /* mov r10b, 2 */
        0x83, 0xc1, 0x00,             /* add ecx, 0 */
        0x66, 0xba, 0x03, 0x00,       /* mov dx, 3 */
        0x45, 0x31, 0xdb,             /* xor r11d, r11d */
        0x44, 0x0f, 0x45, 0xe0,       /* cmovne r12d, eax */
        0x40, 0xfe, 0xc5,             /* inc bpl */
        0xb4, 0x05,                   /* mov ah, 5 */
        0x40, 0xb4, 0x06,             /* mov spl, 6 */
        0x41, 0x95,                   /* xchg r13d, eax */
        0x49, 0x0f, 0xce,             /* bswap r14 */
        0xf4,
    };
    static const uint64_t ones = 0xffffffffffffffffull;
    TestVM *vm = make_vm(code, sizeof(code), MODE_64);
    for (int r = 0; r < 16; r++) {
        vm->cpu.regs[r] = ones;
    }
    vm->cpu.regs[R_EAX] = 0x1122334455667788ull;
    vm->cpu.regs[14] = 0x0102030405060708ull;
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[8], 0xffffffffull);
    ck_assert_uint_eq(vm->cpu.regs[9], 0xffffffffffff0001ull);
    ck_assert_uint_eq(vm->cpu.regs[10], 0xffffffffffffff02ull);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0xffffffffull);
    ck_assert_uint_eq(vm->cpu.regs[R_EDX], 0xffffffffffff0003ull);
    ck_assert_uint_eq(vm->cpu.regs[11], 0);
    ck_assert_uint_eq(vm->cpu.regs[12], 0xffffffffull); /* cmovne after xor: ZF set */
    ck_assert_uint_eq(vm->cpu.regs[R_EBP], 0xffffffffffffff00ull);
    ck_assert_uint_eq(vm->cpu.regs[R_ESP], 0xffffffffffffff06ull);
    ck_assert_uint_eq(vm->cpu.regs[13], 0x55660588ull); /* EAX with AH = 5, zero-extended */
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0xffffffffull);
    ck_assert_uint_eq(vm->cpu.regs[14], 0x0807060504030201ull);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* the HLT */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * User-space TLS: FS- and GS-based operands add the segment's 64-bit base
 * (glibc's stack protector reads fs:[0x28]):
 *   mov rax, fs:[0x28] ; mov rbx, gs:[rsi+8] ; add qword fs:[rdi], 1 ; hlt
 */
START_TEST(test_fs_gs_operands)
{
    static const uint8_t code[] = {
        0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, /* mov rax, fs:[0x28] */
        0x65, 0x48, 0x8b, 0x5e, 0x08,                         /* mov rbx, gs:[rsi+8] */
        0x64, 0x48, 0x83, 0x07, 0x01,                         /* add qword fs:[rdi], 1 */
        0xf4,
    };
    TestVM *vm = make_vm(code, sizeof(code), MODE_64);
    vm->cpu.seg[SEG_FS].base = DATA;
    vm->cpu.seg[SEG_GS].base = DATA + 0x100;
    vm->cpu.regs[R_ESI] = 0x10;
    vm->cpu.regs[R_EDI] = 0x40;
    phys_write(&vm->phys, DATA + 0x28, 0xcafef00du, 4);
    phys_write(&vm->phys, DATA + 0x118, 0x12345678u, 4);
    phys_write(&vm->phys, DATA + 0x40, 0xffffffffu, 4);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0xcafef00du);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 0x12345678u);
    ck_assert_uint_eq(phys_read(&vm->phys, DATA + 0x40, 4), 0);
    ck_assert_uint_eq(phys_read(&vm->phys, DATA + 0x44, 4), 1);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * DIV and IDIV at 32 and 64 bits, on pinned, CPUState and memory
 * divisors: native when they cannot fault, the interpreter's callout for
 * a dividend IDIV's check does not take (not sign-extended, yet fitting):
 *   mov <divisor>, d ; [cqo/cdq] ; div/idiv <divisor> ; hlt
 */
START_TEST(test_divide)
{
    static const struct {
        uint64_t rax, rdx, d;
        uint8_t ext; /* 6 DIV, 7 IDIV */
        bool w;
        int callouts; /* the HLT, and the divide when it goes to the interpreter */
    } cases[] = {
        {1000000007ull, 0, 10, 6, false, 1},
        {0xfedcba9876543210ull, 0x12ull, 0x1000ull, 6, true, 1},
        {(uint64_t)-100, (uint64_t)-1, 7, 7, true, 1},
        {(uint64_t)-100, 0xffffffffull, 7, 7, false, 1},
        {5, 1, 0x10, 7, true, 2}, /* rdx:rax not sign-extended */
        {0x10, 0, 0x100000000ull, 6, true, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int place = 0; place < 3; place++) { /* rbx, r9, [rsi] */
            Seq s = {.len = 0};
            if (place == 2) {
                put(&s, 0x48);
                put(&s, 0xc7); /* mov qword [rsi], d (simm32 here) */
                put(&s, 0x06);
                put32(&s, (uint32_t)cases[i].d);
            }
            put(&s, (uint8_t)(0x40 | (cases[i].w ? 8 : 0) | (place == 1 ? 1 : 0)));
            put(&s, 0xf7);
            put(&s, (uint8_t)((place == 2 ? 0 : 0300) | cases[i].ext << 3 |
                              (place == 0   ? 3
                               : place == 1 ? 1
                                            : 6)));
            put(&s, 0xf4);
            uint64_t regs[16] = {0};
            regs[R_EAX] = cases[i].rax;
            regs[R_EDX] = cases[i].rdx;
            regs[R_EBX] = cases[i].d;
            regs[9] = cases[i].d;
            regs[R_ESI] = DATA;
            if (place == 2 && cases[i].d > 0x7fffffffull) {
                continue; /* not an imm32 */
            }
            check_against_interp(&s, regs, EFLAGS_ARITH, (uint64_t)cases[i].callouts);
        }
    }
}
END_TEST

/*
 * Instructions that touch no state translated code holds are native in
 * 64-bit blocks too (gen_hint_insn), and a NOP at any operand size:
 *   nop word [rax+rax+0] ; pause ; mfence ; std ; cld ; std ; hlt
 */
START_TEST(test_hints)
{
    static const uint8_t code[] = {
        0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, /* nop word [rax+rax+0] */
        0xf3, 0x90,                         /* pause */
        0x0f, 0xae, 0xf0,                   /* mfence */
        0xfd, 0xfc, 0xfd,                   /* std ; cld ; std */
        0xf4,
    };
    TestVM *vm = make_vm(code, sizeof(code), MODE_64);
    BT *bt = bt_new(&vm->cpu, 1u << 20, BT_MODE_RUN);
    bt_set_code64(bt, true);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    ck_assert(cpu_get_eflags(&vm->cpu) & EFLAGS_DF);
    ck_assert_uint_eq(vm->cpu.icount, 7);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1); /* the HLT */
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
    tcase_add_test(tc, test_rsp_forms_match_interp);
    tcase_add_test(tc, test_zero_extension);
    tcase_add_test(tc, test_fs_gs_operands);
    tcase_add_test(tc, test_divide);
    tcase_add_test(tc, test_hints);
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
