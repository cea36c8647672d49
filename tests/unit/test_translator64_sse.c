/*
 * SSE and x87 in 64-bit blocks (translator/gen_sse.c, gen_fpu.c widened to
 * 64-bit mode): random sequences of SSE, SSE2, SSE3 and SSSE3 forms on
 * XMM0-15 (REX.R and REX.B on either field), with general register
 * operands of both sizes (REX.W: MOVQ, CVTSI2SD r64, CVTTSD2SI r64) among
 * RAX..RDI, RSP and R8-R15 in CPUState, memory operands on [rsi+disp8],
 * [r13+disp32] (a CPUState base), [rsi+rdi*s+disp32], [r8+r9*s+disp8]
 * (base and index in CPUState) and RIP-relative constants, some crossing
 * into the next page (the slow path), with x87 instructions on the same
 * addressing, chained block ends, and callouts in the middle (FXSAVE,
 * which stores XMM0-15 and must find the live state flushed, STMXCSR,
 * CPUID).  Each runs on the interpreter, on the translator and under the
 * lockstep checker; registers, flags, XMM0-15, MXCSR, the x87 state and
 * memory must agree, and the statistics must show the SIMD and x87
 * instructions ran natively.  Then directed cases: the 16-byte alignment
 * #GP(0) through a register base and a RIP-relative constant, and a
 * non-canonical operand's #GP(0) from the slow path; a loop on XMM8-15
 * and R8-R15 with FXSAVE in it; FLDCW (native, and out of line when it
 * unmasks) and MMX in 64-bit code.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#include "cpu/fpu_internal.h"
#include "tests/unit/lm_fixture.h"

#define SAVE (DATA + 0x2000) /* FXSAVE and STMXCSR images: a page of their own */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    return seq_rnd(&rng);
}

/* A general register the sequence may write: not RSP, nor the address
 * registers RSI, RDI, R8, R9, R13. */
static int data_reg(void)
{
    static const int regs[] = {0, 1, 2, 3, 5, 10, 11, 12, 14, 15};
    return regs[rnd() % (sizeof(regs) / sizeof(regs[0]))];
}

/* A general register the sequence may read: any, RSP included. */
static int any_reg(void)
{
    return (int)(rnd() & 15);
}

/*
 * One instruction: prefix (0 for none), REX.W, the opcode bytes, ModRM.reg
 * (0-15) and either a register ModRM.rm (0-15) or a memory operand of
 * size bytes, aligned to 16 when align, then an optional imm8.
 */
typedef struct Form {
    uint8_t pfx;
    bool w;
    uint8_t op[3];
    int oplen;
    int reg;
    int rm;   /* register form: 0-15; -1: memory */
    int size; /* memory operand bytes */
    bool align;
    int imm; /* -1: none */
} Form;

static void put_form(Seq *s, const Form *f)
{
    if (f->pfx) {
        put(s, f->pfx);
    }
    int kind = (int)(rnd() % 6);
    int base = kind == 1 ? 13 : kind == 4 || kind == 5 ? 8 : 6;
    int index = kind == 2 ? 7 : kind == 4 ? 9 : 0;
    uint8_t rex = (uint8_t)(0x40 | (f->w ? 8 : 0) | ((f->reg & 8) ? 4 : 0));
    if (f->rm >= 0) {
        rex |= (f->rm & 8) ? 1 : 0;
    } else {
        rex |= (uint8_t)(((index & 8) ? 2 : 0) | (kind != 3 && (base & 8) ? 1 : 0));
    }
    if (rex != 0x40 || (rnd() & 3) == 0) {
        put(s, rex); /* now and then a REX that changes nothing */
    }
    for (int i = 0; i < f->oplen; i++) {
        put(s, f->op[i]);
    }
    int reg = f->reg & 7;
    size_t disp_at = 0;
    uint32_t target = 0;
    /* Displacements: multiples of 16 for aligned operands, else any,
     * sometimes ending past the page (DATA + 0x1000) so the slow path runs. */
    uint32_t cross = f->align || !f->size ? 0 : (uint32_t)(rnd() % (uint32_t)f->size);
    bool crossing = !f->align && (rnd() & 3) == 0;
    uint32_t amask = f->align ? ~15u : ~0u;
    if (f->rm >= 0) {
        put(s, (uint8_t)(0300 | reg << 3 | (f->rm & 7)));
    } else if (kind == 0) { /* [rsi + disp8] */
        put(s, (uint8_t)(1 << 6 | reg << 3 | 6));
        put(s, (uint8_t)(rnd() & 0x70 & amask));
    } else if (kind == 1 || kind == 5) { /* [r13 + disp32] (R13 = DATA+0x800), [r8 + disp32] */
        put(s, (uint8_t)(2 << 6 | reg << 3 | (kind == 5 ? 0 : 5)));
        uint32_t page_end = kind == 1 ? 0x800 : 0;
        uint32_t d =
            crossing ? page_end - (uint32_t)f->size + 1 + cross : (uint32_t)(rnd() % 0x700) & amask;
        put32(s, kind == 5 && !crossing ? d - 0x800 : d);
    } else if (kind == 2) { /* [rsi + rdi*2^scale + disp32] */
        put(s, (uint8_t)(2 << 6 | reg << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | 7 << 3 | 6));
        put32(s, (uint32_t)(rnd() % 0x800) & amask);
    } else if (kind == 3) { /* [rip + disp32] to DATA + x */
        put(s, (uint8_t)(reg << 3 | 5));
        disp_at = s->len;
        target = crossing ? DATA + 0x1000 - (uint32_t)f->size + 1 + cross
                          : (DATA + (uint32_t)(rnd() % 0x1f00)) & amask;
        put32(s, 0);
    } else { /* [r8 + r9*2^scale + disp8] (R8 = DATA+0x1000) */
        put(s, (uint8_t)(1 << 6 | reg << 3 | 4));
        put(s, (uint8_t)((rnd() & 3) << 6 | (9 & 7) << 3 | (8 & 7)));
        put(s, (uint8_t)(rnd() & 0x70 & amask));
    }
    if (f->imm >= 0) {
        put(s, (uint8_t)f->imm);
    }
    if (disp_at) {
        uint32_t d = target - (TESTVM_CODE + (uint32_t)s->len);
        memcpy(&s->b[disp_at], &d, 4);
    }
}

/* XMM-XMM operations: prefix, opcode bytes, whether an imm8 follows, and
 * whether the memory form must be aligned. */
static const struct {
    uint8_t pfx, op[3];
    int oplen;
    bool imm, align;
    int size;
} xx_ops[] = {
    {0x00, {0x0f, 0x58}, 2, false, true, 16},       /* addps */
    {0x66, {0x0f, 0x58}, 2, false, true, 16},       /* addpd */
    {0xf3, {0x0f, 0x58}, 2, false, false, 4},       /* addss */
    {0xf2, {0x0f, 0x59}, 2, false, false, 8},       /* mulsd */
    {0xf2, {0x0f, 0x5c}, 2, false, false, 8},       /* subsd */
    {0xf2, {0x0f, 0x5e}, 2, false, false, 8},       /* divsd */
    {0xf2, {0x0f, 0x51}, 2, false, false, 8},       /* sqrtsd */
    {0x00, {0x0f, 0x59}, 2, false, true, 16},       /* mulps */
    {0x66, {0x0f, 0xef}, 2, false, true, 16},       /* pxor */
    {0x66, {0x0f, 0xfe}, 2, false, true, 16},       /* paddd */
    {0x66, {0x0f, 0xd4}, 2, false, true, 16},       /* paddq */
    {0x66, {0x0f, 0x74}, 2, false, true, 16},       /* pcmpeqb */
    {0x66, {0x0f, 0xda}, 2, false, true, 16},       /* pminub */
    {0x66, {0x0f, 0x60}, 2, false, true, 16},       /* punpcklbw */
    {0x00, {0x0f, 0x14}, 2, false, true, 16},       /* unpcklps */
    {0x66, {0x0f, 0x6f}, 2, false, true, 16},       /* movdqa */
    {0xf3, {0x0f, 0x6f}, 2, false, false, 16},      /* movdqu */
    {0x00, {0x0f, 0x28}, 2, false, true, 16},       /* movaps */
    {0x00, {0x0f, 0x10}, 2, false, false, 16},      /* movups */
    {0xf2, {0x0f, 0x10}, 2, false, false, 8},       /* movsd */
    {0xf3, {0x0f, 0x7e}, 2, false, false, 8},       /* movq xmm, xmm/m64 */
    {0x00, {0x0f, 0xc6}, 2, true, true, 16},        /* shufps */
    {0x66, {0x0f, 0x70}, 2, true, true, 16},        /* pshufd */
    {0x66, {0x0f, 0xc2}, 2, true, true, 16},        /* cmppd */
    {0x66, {0x0f, 0x38, 0x00}, 3, false, true, 16}, /* pshufb (SSSE3) */
    {0x66, {0x0f, 0x38, 0x04}, 3, false, true, 16}, /* pmaddubsw (SSSE3) */
    {0x66, {0x0f, 0x3a, 0x0f}, 3, true, true, 16},  /* palignr (SSSE3) */
    {0xf2, {0x0f, 0x7c}, 2, false, true, 16},       /* haddps (SSE3) */
    {0x66, {0x0f, 0x2f}, 2, false, false, 8},       /* comisd: flags */
    {0x00, {0x0f, 0x2e}, 2, false, false, 4},       /* ucomiss: flags */
    {0xf3, {0x0f, 0x5a}, 2, false, false, 4},       /* cvtss2sd */
    {0x66, {0x0f, 0x5b}, 2, false, true, 16},       /* cvtps2dq */
};

/* Stores: xmm to memory (or the register form of the same opcode). */
static const struct {
    uint8_t pfx, op;
    bool align;
    int size;
} store_ops[] = {
    {0x00, 0x11, false, 16}, /* movups */
    {0x00, 0x29, true, 16},  /* movaps */
    {0x66, 0x7f, true, 16},  /* movdqa */
    {0xf3, 0x7f, false, 16}, /* movdqu */
    {0xf2, 0x11, false, 8},  /* movsd */
    {0x66, 0xd6, false, 8},  /* movq xmm/m64, xmm */
    {0x00, 0x13, false, 8},  /* movlps m64, xmm (memory only) */
};

static void put_sse(Seq *s)
{
    Form f = {.imm = -1, .reg = (int)(rnd() & 15), .rm = (rnd() % 3) ? (int)(rnd() & 15) : -1};
    f.w = (rnd() & 7) == 0; /* REX.W on forms that ignore it */
    switch (rnd() % 10) {
    case 0: { /* stores */
        size_t i = rnd() % (sizeof(store_ops) / sizeof(store_ops[0]));
        f.pfx = store_ops[i].pfx;
        f.op[0] = 0x0f;
        f.op[1] = store_ops[i].op;
        f.oplen = 2;
        f.align = store_ops[i].align;
        f.size = store_ops[i].size;
        if (store_ops[i].op == 0x13 || store_ops[i].op == 0xd6) {
            f.rm = -1; /* movlps: memory only; movq's register form zeroes the high half */
        }
        break;
    }
    case 1: /* movd/movq xmm, r/m32/64 (66 0F 6E); cvtsi2sd/ss xmm, r/m (F2/F3 0F 2A) */
    case 2: {
        int k = (int)(rnd() % 3);
        f.pfx = k == 0 ? 0x66 : k == 1 ? 0xf2 : 0xf3;
        f.op[0] = 0x0f;
        f.op[1] = k == 0 ? 0x6e : 0x2a;
        f.oplen = 2;
        f.w = rnd() & 1;
        f.size = f.w ? 8 : 4;
        if (f.rm >= 0) {
            f.rm = any_reg();
        }
        break;
    }
    case 3: /* movd/movq r/m32/64, xmm (66 0F 7E): the general register in ModRM.rm, written */
        f.pfx = 0x66;
        f.op[0] = 0x0f;
        f.op[1] = 0x7e;
        f.oplen = 2;
        f.w = rnd() & 1;
        f.size = f.w ? 8 : 4;
        if (f.rm >= 0) {
            f.rm = data_reg();
        }
        break;
    case 4: { /* cvttsd2si/cvtsd2si/cvttss2si r32/64, xmm/m (GPR in ModRM.reg) */
        int k = (int)(rnd() % 3);
        f.pfx = k == 2 ? 0xf3 : 0xf2;
        f.op[0] = 0x0f;
        f.op[1] = k == 1 ? 0x2d : 0x2c;
        f.oplen = 2;
        f.w = rnd() & 1;
        f.size = k == 2 ? 4 : 8;
        f.reg = data_reg();
        break;
    }
    case 5: { /* pmovmskb, movmskps, pextrw r32, xmm ; pinsrw xmm, r32/m16 */
        int k = (int)(rnd() % 4);
        f.pfx = k == 1 ? 0 : 0x66;
        f.op[0] = 0x0f;
        f.op[1] = k == 0 ? 0xd7 : k == 1 ? 0x50 : k == 2 ? 0xc5 : 0xc4;
        f.oplen = 2;
        f.imm = k >= 2 ? (int)(rnd() & 0xff) : -1;
        if (k < 3) {
            f.reg = data_reg();
            f.rm = (int)(rnd() & 15);
        } else {
            f.size = 2;
            if (f.rm >= 0) {
                f.rm = any_reg();
            }
        }
        break;
    }
    case 6: /* psrldq/pslldq/psrlq/psllw xmm, imm8: ModRM.reg an opcode extension */
        f.pfx = 0x66;
        f.op[0] = 0x0f;
        f.op[1] = (rnd() & 1) ? 0x73 : 0x71;
        f.oplen = 2;
        f.reg = f.op[1] == 0x73 ? (int)((rnd() & 1) ? 3 : 7) : 6;
        f.rm = (int)(rnd() & 15);
        f.imm = (int)(rnd() % 20);
        break;
    default: {
        size_t i = rnd() % (sizeof(xx_ops) / sizeof(xx_ops[0]));
        f.pfx = xx_ops[i].pfx;
        memcpy(f.op, xx_ops[i].op, 3);
        f.oplen = xx_ops[i].oplen;
        f.align = xx_ops[i].align;
        f.size = xx_ops[i].size;
        f.imm = xx_ops[i].imm ? (int)(rnd() & 0xff) : -1;
        break;
    }
    }
    put_form(s, &f);
}

/* One x87 instruction, the stack depth kept within 0..7. */
static void put_x87(Seq *s)
{
    int d = s->depth;
    Form f = {.oplen = 1, .rm = -1, .imm = -1};
    switch (rnd() % 8) {
    case 0: /* fld m64 (DD /0), fild m32 (DB /0), fld m32 (D9 /0) */
        if (d >= 7) {
            break;
        }
        f.op[0] = (uint8_t)((rnd() % 3 == 0) ? 0xdd : (rnd() & 1) ? 0xdb : 0xd9);
        f.size = f.op[0] == 0xdd ? 8 : 4;
        f.reg = 0;
        put_form(s, &f);
        s->depth++;
        return;
    case 1: /* fstp m64 (DD /3), fistp m32 (DB /3), fst m32 (D9 /2) */
        if (d == 0) {
            break;
        }
        f.op[0] = (uint8_t)((rnd() & 1) ? 0xdd : 0xdb);
        f.size = f.op[0] == 0xdd ? 8 : 4;
        f.reg = 3;
        if ((rnd() & 3) == 0) {
            f.op[0] = 0xd9;
            f.reg = 2;
            f.size = 4;
            s->depth++; /* no pop */
        }
        put_form(s, &f);
        s->depth--;
        return;
    case 2: /* fadd/fmul/fsub/fdiv m64 (DC /0 /1 /4 /6) */
        if (d == 0) {
            break;
        }
        f.op[0] = 0xdc;
        f.size = 8;
        f.reg = (int)((rnd() & 1) ? (rnd() & 1) : 4 + 2 * (rnd() & 1));
        put_form(s, &f);
        return;
    case 3: /* fadd/fmul/fsub/fdiv st, st(i) */
        if (d == 0) {
            break;
        }
        put(s, 0xd8);
        put(s, (uint8_t)(0xc0 | (uint8_t)(rnd() % 4) << 4 | (uint8_t)(rnd() % (unsigned)d)));
        return;
    case 4: /* faddp/fmulp st(1) */
        if (d < 2) {
            break;
        }
        put(s, 0xde);
        put(s, (rnd() & 1) ? 0xc1 : 0xc9);
        s->depth--;
        return;
    case 5: /* fxch, fsqrt, fchs, fabs */
        if (d == 0) {
            break;
        }
        put(s, 0xd9);
        put(s, (uint8_t)((rnd() & 1) ? 0xc8 | (uint8_t)(rnd() % (unsigned)d)
                                     : (const uint8_t[]){0xfa, 0xe0, 0xe1}[rnd() % 3]));
        return;
    case 6: /* fcomi st, st(i): EFLAGS */
        if (d == 0) {
            break;
        }
        put(s, 0xdb);
        put(s, (uint8_t)(0xf0 | (uint8_t)(rnd() % (unsigned)d)));
        return;
    default: break;
    }
    if (d < 7) { /* fld1, fldpi */
        put(s, 0xd9);
        put(s, (rnd() & 1) ? 0xe8 : 0xeb);
        s->depth++;
    }
}

/* A callout by design: FXSAVE [rsi + 0x2000] (all sixteen XMM registers),
 * STMXCSR [rsi + 0x2200 + 4n], CPUID. */
static void put_callout(Seq *s)
{
    switch (rnd() % 3) {
    case 0:
        put(s, 0x0f);
        put(s, 0xae);
        put(s, 0x86); /* fxsave [rsi + disp32] */
        put32(s, SAVE - DATA);
        break;
    case 1:
        put(s, 0x0f);
        put(s, 0xae);
        put(s, 0x9e); /* stmxcsr [rsi + disp32] */
        put32(s, SAVE - DATA + 0x200 + 4 * (uint32_t)(rnd() % 16));
        break;
    default:
        put(s, 0x0f);
        put(s, 0xa2); /* cpuid */
        break;
    }
    s->callouts++;
}

static void random_fill(TestVM *vm, uint32_t seed)
{
    uint32_t x = seed | 1;
    for (uint32_t a = DATA; a < DATA + 0x2000; a += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        /* every other qword a modest double, so arithmetic stays in range */
        uint32_t v = ((a >> 2) & 3) == 1 ? 0x40000000u | (x & 0x0fffffffu) : x;
        phys_write(&vm->phys, a, v, 4);
    }
}

/* The callout census, when a sequence had more callouts than it should. */
static void dump_callouts(BT *bt)
{
    for (int i = 0; i < INSN_FORMS; i++) {
        if (bt_stats(bt)->census_callout[i]) {
            char buf[64];
            insn_form_name(i, buf, sizeof(buf));
            fprintf(stderr, "callout %s: %llu\n", buf,
                    (unsigned long long)bt_stats(bt)->census_callout[i]);
        }
    }
}

static void assert_same(TestVM *ref, TestVM *vm)
{
    CPUState *a = &ref->cpu, *b = &vm->cpu;
    for (int r = 0; r < 16; r++) {
        ck_assert_msg(b->regs[r] == a->regs[r],
                      "register %d: translated %016llx, interpreter %016llx", r,
                      (unsigned long long)b->regs[r], (unsigned long long)a->regs[r]);
    }
    ck_assert_uint_eq(b->eip, a->eip);
    ck_assert_uint_eq(b->icount, a->icount);
    ck_assert_uint_eq(cpu_get_eflags(b), cpu_get_eflags(a));
    for (int i = 0; i < 16; i++) {
        ck_assert_msg(memcmp(cpu_xmm(b, i), cpu_xmm(a, i), 16) == 0, "xmm%d differs", i);
    }
    ck_assert_uint_eq(b->fpu.mxcsr, a->fpu.mxcsr);
    for (int i = 0; i < 8; i++) {
        ck_assert_mem_eq(&b->fpu.st[i], &a->fpu.st[i], 10);
    }
    ck_assert_uint_eq(b->fpu.top, a->fpu.top);
    /* C0, C2, C3 are undefined after most arithmetic, and an AMD host
     * keeps C1 after FCOMI where the SDM clears it (docs/undefined.md) */
    uint16_t cc = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
    ck_assert_uint_eq(b->fpu.fsw & ~cc, a->fpu.fsw & ~cc);
    ck_assert_uint_eq(b->fpu.fcw, a->fpu.fcw);
    ck_assert_uint_eq(fpu_tag_word(b), fpu_tag_word(a));
    ck_assert_uint_eq(b->fpu.fip, a->fpu.fip);
    ck_assert_uint_eq(b->fpu.fop, a->fpu.fop);
    ck_assert_uint_eq(b->fpu.fdp, a->fpu.fdp);
    ck_assert_uint_eq(b->bt_sse_live, 0);
    ck_assert_uint_eq(b->bt_fpu_live, 0);
}

static TestVM *vm64(const uint8_t *code, size_t len)
{
    TestVM *vm = make_vm(code, len, MODE_64);
    vm->cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    return vm;
}

static BT *bt64(TestVM *vm, enum BTMode mode)
{
    BT *bt = bt_new(&vm->cpu, 1u << 20, mode);
    bt_set_code64(bt, true);
    bt_set_mem64_native(bt, true);
    return bt;
}

START_TEST(test_random_sse_x87_match_interp)
{
    static const enum BTMode modes[] = {BT_MODE_RUN, BT_MODE_CHECK};
    unsigned host_mxcsr = _mm_getcsr();
    uint64_t native_sse = 0;
    for (int n = 0; n < 120; n++) {
        Seq s = {.len = 0};
        int count = 1 + (int)(rnd() % 40);
        for (int i = 0; i < count; i++) {
            int pick = (int)(rnd() % 16);
            if (pick < 10) {
                put_sse(&s);
            } else if (pick < 13) {
                put_x87(&s);
            } else if (pick == 13) {
                put(&s, 0xeb); /* jmp +0: the block ends, the next is chained */
                put(&s, 0x00);
            } else if (pick == 14 && (rnd() & 1)) {
                put_callout(&s);
            } else { /* jcc over a 3-byte MOV: reads the flags COMISD/FCOMI left */
                put(&s, (uint8_t)(0x70 | (rnd() & 15)));
                put(&s, 3);
                int a = data_reg(), b = any_reg();
                put(&s, (uint8_t)(0x48 | (b & 8) >> 1 | (a & 8) >> 3));
                put(&s, 0x89);
                put(&s, (uint8_t)(0300 | (b & 7) << 3 | (a & 7)));
            }
        }
        put(&s, 0xf4); /* hlt */
        uint64_t regs[16];
        for (int r = 0; r < 16; r++) {
            regs[r] = rnd();
        }
        regs[R_ESP] = 0x7000;
        regs[6] = DATA;
        regs[7] = 16 * (rnd() % 16);
        regs[8] = DATA + 0x1000;
        regs[9] = 16 * (rnd() % 16);
        regs[13] = DATA + 0x800;
        uint8_t xmm[16][16];
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j += 8) {
                uint64_t v = (rnd() & 1) ? rnd() : 0x3ff0000000000000ull | (rnd() >> 20);
                memcpy(&xmm[i][j], &v, 8);
            }
        }
        uint32_t flags = (uint32_t)rnd() & EFLAGS_ARITH;
        uint32_t mxcsr = 0x1f80 | (uint32_t)(rnd() & 3) << 13; /* the rounding control too */
        uint32_t seed = (uint32_t)rnd();
        TestVM *vm[3];
        for (int e = 0; e < 3; e++) {
            vm[e] = vm64(s.b, s.len);
            memcpy(vm[e]->cpu.regs, regs, sizeof(regs));
            vm[e]->cpu.eflags = EFLAGS_FIXED | flags;
            for (int i = 0; i < 16; i++) {
                memcpy(cpu_xmm(&vm[e]->cpu, i), xmm[i], 16);
            }
            vm[e]->cpu.fpu.mxcsr = mxcsr;
            random_fill(vm[e], seed);
        }
        ck_assert_int_eq(testvm_run(vm[0], 100000), CPU_EXIT_HALT);
        for (int e = 1; e < 3; e++) {
            BT *bt = bt64(vm[e], modes[e - 1]);
            ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
            ck_assert_uint_eq(_mm_getcsr(), host_mxcsr);
            assert_same(vm[0], vm[e]);
            ck_assert_int_eq(memcmp(vm[e]->phys.ram + DATA, vm[0]->phys.ram + DATA, 0x3000), 0);
            if (e == 1) {
                /* the HLT and the callouts put; every SIMD and x87 form native */
                if (bt_stats(bt)->callout_insns != (uint64_t)s.callouts + 1) {
                    dump_callouts(bt);
                }
                ck_assert_uint_eq(bt_stats(bt)->callout_insns, (uint64_t)s.callouts + 1);
                ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
                native_sse += bt_stats(bt)->sse_loads;
            }
            bt_free(bt);
        }
        for (int e = 0; e < 3; e++) {
            testvm_free(vm[e]);
        }
    }
    ck_assert_uint_gt(native_sse, 100);
}
END_TEST

/* code (which loads xmm9 from [rsi] first) runs until its first fault:
 * which one, where, and what xmm9 and xmm10 hold then. */
static FirstFault run_to_fault(const uint8_t *code, size_t len, TestVM **out)
{
    TestVM *vm = vm64(code, len);
    vm->cpu.regs[6] = DATA;
    vm->cpu.regs[13] = DATA + 8;
    vm->cpu.regs[R_EAX] = 0x0000800000000000ull;
    for (int i = 0; i < 16; i++) {
        phys_write(&vm->phys, DATA + (uint32_t)i, (uint32_t)(0xa0 + i), 1);
    }
    FirstFault f = {.vector = -1};
    vm->cpu.hooks.observer = &f;
    vm->cpu.hooks.on_exception = first_fault_note;
    BT *bt = bt64(vm, BT_MODE_RUN);
    bt_exec(bt, 1000);
    ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0); /* the block ran translated */
    ck_assert_uint_ge(bt_stats(bt)->sse_loads, 1);
    bt_free(bt);
    *out = vm;
    return f;
}

/*
 * A 16-byte operand that must be aligned and is not raises #GP(0) at the
 * instruction, the XMM state before it intact:
 *   movups xmm9, [rsi] ; movaps xmm10, [r13]      (R13 = DATA + 8)
 *   movups xmm9, [rsi] ; movdqa xmm10, [rip+x]    (a constant: DATA + 4)
 *   movups xmm9, [rsi] ; movups xmm10, [rax]      (non-canonical: #GP(0) from the slow path)
 */
START_TEST(test_64bit_operand_faults)
{
    uint8_t a[] = {0x44, 0x0f, 0x10, 0x0e, 0x45, 0x0f, 0x28, 0x55, 0x00, 0xf4};
    uint8_t b[] = {0x44, 0x0f, 0x10, 0x0e, 0x66, 0x44, 0x0f, 0x6f, 0x15, 0, 0, 0, 0, 0xf4};
    uint8_t c[] = {0x44, 0x0f, 0x10, 0x0e, 0x44, 0x0f, 0x10, 0x10, 0xf4};
    uint32_t d = DATA + 4 - (TESTVM_CODE + 13);
    memcpy(b + 9, &d, 4);
    const struct {
        const uint8_t *code;
        size_t len, at;
    } cases[] = {{a, sizeof(a), 4}, {b, sizeof(b), 4}, {c, sizeof(c), 4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TestVM *vm;
        FirstFault f = run_to_fault(cases[i].code, cases[i].len, &vm);
        ck_assert_int_eq(f.vector, EXC_GP);
        ck_assert_uint_eq(f.error, 0);
        ck_assert_uint_eq(f.rip, TESTVM_CODE + cases[i].at);
        ck_assert_uint_eq(cpu_xmm(&vm->cpu, 9)[15], 0xaf); /* the MOVUPS ran */
        ck_assert_uint_eq(cpu_xmm(&vm->cpu, 10)[0], 0);    /* the faulting load did not */
        testvm_free(vm);
    }
}
END_TEST

/*
 * The state stays live across chained blocks and comes back whole at a
 * callout in the middle of a loop on XMM8-15 and R8-R15:
 *   mov ecx, 100
 *   l: cvtsi2sd xmm8, r10 ; addsd xmm15, xmm8 ; movq r11, xmm15 ; add r10, 3
 *      test ecx, 7 ; jnz +3 ; fxsave [rsi] ; dec ecx ; jnz l ; hlt
 */
START_TEST(test_loop_xmm_hi_and_callout)
{
    static const uint8_t code[] = {
        0xb9, 0x64, 0x00, 0x00, 0x00,       /* mov ecx, 100 */
        0xf2, 0x4d, 0x0f, 0x2a, 0xc2,       /* l: cvtsi2sd xmm8, r10 */
        0xf2, 0x45, 0x0f, 0x58, 0xf8,       /* addsd xmm15, xmm8 */
        0x66, 0x4d, 0x0f, 0x7e, 0xfb,       /* movq r11, xmm15 */
        0x49, 0x83, 0xc2, 0x03,             /* add r10, 3 */
        0xf7, 0xc1, 0x07, 0x00, 0x00, 0x00, /* test ecx, 7 */
        0x75, 0x03,                         /* jnz +3 */
        0x0f, 0xae, 0x06,                   /* fxsave [rsi] */
        0xff, 0xc9,                         /* dec ecx */
        0x75, 0xde,                         /* jnz l */
        0xf4,                               /* hlt */
    };
    TestVM *ref = vm64(code, sizeof(code));
    TestVM *vm = vm64(code, sizeof(code));
    for (int e = 0; e < 2; e++) {
        TestVM *t = e ? vm : ref;
        t->cpu.regs[6] = DATA;
        t->cpu.regs[10] = 1;
    }
    ck_assert_int_eq(testvm_run(ref, 100000), CPU_EXIT_HALT);
    BT *bt = bt64(vm, BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 100000), CPU_EXIT_HALT);
    assert_same(ref, vm);
    ck_assert_int_eq(memcmp(vm->phys.ram + DATA, ref->phys.ram + DATA, 512), 0);
    double sum = 0;
    for (int i = 0; i < 100; i++) {
        sum += 1 + 3 * i;
    }
    uint64_t bits;
    memcpy(&bits, &sum, 8);
    ck_assert_uint_eq(vm->cpu.regs[11], bits);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns,
                      12 + 1); /* the FXSAVEs (ECX 96, 88, .., 8) and the HLT */
    ck_assert_uint_gt(bt_stats(bt)->chains, 0);
    bt_free(bt);
    testvm_free(vm);
    testvm_free(ref);
}
END_TEST

/*
 * FLDCW and MMX in a 64-bit block, with R8 and R13 (CPUState) bases and a
 * RIP-relative operand:
 *   fldcw [rip+x] (DATA+26: 0C7Fh, truncate, all masked) ; fld qword [r13] ;
 *   fistp dword [rsi+8] ; movq mm1, [r8] ; paddd mm1, mm1 ; movq [rsi+16], mm1 ;
 *   emms ; fldcw [rsi+24] (037Eh: IM unmasked, the interpreter's) ; hlt
 */
START_TEST(test_fldcw_and_mmx)
{
    uint8_t code[] = {0xd9, 0x2d, 0,    0,    0,    0,    0x41, 0xdd, 0x45, 0x00,
                      0xdb, 0x5e, 0x08, 0x41, 0x0f, 0x6f, 0x08, 0x0f, 0xfe, 0xc9,
                      0x0f, 0x7f, 0x4e, 0x10, 0x0f, 0x77, 0xd9, 0x6e, 0x18, 0xf4};
    uint32_t d = DATA + 26 - (TESTVM_CODE + 6);
    memcpy(code + 2, &d, 4);
    TestVM *vm[2];
    double v = -1234.75;
    uint16_t cw[2] = {0x037e, 0x0c7f};
    for (int e = 0; e < 2; e++) {
        vm[e] = vm64(code, sizeof(code));
        vm[e]->cpu.regs[6] = vm[e]->cpu.regs[8] = vm[e]->cpu.regs[13] = DATA;
        phys_write_buf(&vm[e]->phys, DATA, &v, 8);
        phys_write_buf(&vm[e]->phys, DATA + 24, cw, 4);
    }
    ck_assert_int_eq(testvm_run(vm[0], 1000), CPU_EXIT_HALT);
    BT *bt = bt64(vm[1], BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    assert_same(vm[0], vm[1]);
    ck_assert_int_eq(memcmp(vm[1]->phys.ram + DATA, vm[0]->phys.ram + DATA, 64), 0);
    ck_assert_uint_eq(phys_read(&vm[1]->phys, DATA + 8, 4), (uint32_t)-1234); /* truncated */
    ck_assert_uint_eq(vm[1]->cpu.fpu.fcw, 0x037e);
    /* the unmasking FLDCW (out of line to the interpreter) and the HLT */
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 2);
    ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
    ck_assert_uint_eq(bt_stats(bt)->x87_loads, 1);
    bt_free(bt);
    testvm_free(vm[0]);
    testvm_free(vm[1]);
}
END_TEST

/* code run by the interpreter and by the translator (mode: MODE_64 or
 * MODE_LEGACY) from the same state; both must agree, with only the HLT a
 * callout. */
static void check_directed(const uint8_t *code, size_t len, int mode)
{
    TestVM *vm[2];
    for (int e = 0; e < 2; e++) {
        vm[e] = make_vm(code, len, mode);
        vm[e]->cpu.cr4 |= CR4_OSFXSR;
        vm[e]->cpu.regs[R_ESP] = 0x7000;
        vm[e]->cpu.regs[13] = 0xfffffffffedcba98ull;
    }
    ck_assert_int_eq(testvm_run(vm[0], 1000), CPU_EXIT_HALT);
    BT *bt = bt64(vm[1], BT_MODE_RUN);
    ck_assert_int_eq(bt_exec(bt, 1000), CPU_EXIT_HALT);
    assert_same(vm[0], vm[1]);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
    ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0);
    bt_free(bt);
    testvm_free(vm[0]);
    testvm_free(vm[1]);
}

/*
 * MMX with general registers in CPUState, in a 64-bit block:
 *   mov r9, 0x8040201008040201 ; movq mm0, r9 ; paddb mm0, mm0 ; movd r10d, mm0 ;
 *   pmovmskb r11d, mm0 ; pextrw r12d, mm0, 3 ; pinsrw mm1, r13d, 2 ; emms ; hlt
 * and PINSRW from a 32-bit register in 32-bit code (the decoder names it a
 * word register; the host copy reads the same low word):
 *   mov eax, 0x12345678 ; pinsrw xmm1, eax, 3 ; hlt
 */
START_TEST(test_mmx_gpr_forms)
{
    static const uint8_t code64[] = {0x49, 0xb9, 0x01, 0x02, 0x04,
                                     0x08, 0x10, 0x20, 0x40, 0x80, /* mov r9, imm64 */
                                     0x49, 0x0f, 0x6e, 0xc1,       /* movq mm0, r9 */
                                     0x0f, 0xfc, 0xc0,             /* paddb mm0, mm0 */
                                     0x41, 0x0f, 0x7e, 0xc2,       /* movd r10d, mm0 */
                                     0x44, 0x0f, 0xd7, 0xd8,       /* pmovmskb r11d, mm0 */
                                     0x44, 0x0f, 0xc5, 0xe0, 0x03, /* pextrw r12d, mm0, 3 */
                                     0x41, 0x0f, 0xc4, 0xcd, 0x02, /* pinsrw mm1, r13d, 2 */
                                     0x0f, 0x77,                   /* emms */
                                     0xf4};
    static const uint8_t code32[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0x66,
                                     0x0f, 0xc4, 0xc8, 0x03, 0xf4};
    check_directed(code64, sizeof(code64), MODE_64);
    check_directed(code32, sizeof(code32), MODE_LEGACY);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64_sse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_random_sse_x87_match_interp);
    tcase_add_test(tc, test_64bit_operand_faults);
    tcase_add_test(tc, test_loop_xmm_hi_and_callout);
    tcase_add_test(tc, test_fldcw_and_mmx);
    tcase_add_test(tc, test_mmx_gpr_forms);
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
