/*
 * The host x87 as the guest's arithmetic unit.
 *
 * The x86-64 host has the very FPU the guest expects: the same 80-bit
 * format, the same rounding under RC and PC, the same NaN rules, the same
 * exception flags and the same responses to masked and unmasked exceptions.
 * So each guest operation is run as the one host instruction that does it,
 * on operands loaded with FLD m80 (which never raises an exception), under
 * the guest's own control word, exception masks included.  The status word
 * the operation leaves is the result the caller folds into the guest's.
 *
 * The constraint this file lives under: with unmasked exceptions loaded,
 * the host FPU would deliver SIGFPE at its next waiting instruction after an
 * error.  So every sequence reads the status with FNSTSW (non-waiting)
 * straight after the operation, clears it with FNCLEX when ES says an
 * unmasked exception is pending, and loads a fully masked control word
 * before storing results.  It ends by freeing all eight registers (the
 * operation may have left any depth; TOP itself need not return, only the
 * stack must be empty, as the SysV ABI requires between statements) and
 * restoring the host's control word.
 *
 * FNCLEX and FNINIT are microcoded and cost several times the arithmetic
 * (about 20 ns and 50 ns each on the build host, against 12 ns for a whole
 * FADD sequence without them), so the flags are cleared before an operation
 * only when an earlier one left some set, and FNINIT is not used at all.
 * FLDCW is costly too, and the guest usually runs under the very control
 * word the host has (037Fh, all masked), so each of the three loads is
 * skipped when the control word in force is already the one it would load.
 * Masked flags may therefore stay set in the host status word between
 * operations; nothing else in popek uses the x87.
 */
#include <string.h>

#include "cpu/fpu_internal.h"

/* Host control words for one sequence. */
typedef struct X87Frame {
    uint16_t gcw;   /* the guest's FCW, run with */
    uint16_t quiet; /* all masked, for storing results after the operation */
    uint16_t hcw;   /* the host's FCW, restored at the end */
    uint16_t sw;    /* the host status word right after the operation */
} X87Frame;

typedef struct Bcd80 {
    uint8_t b[10];
} Bcd80;

static X87Frame x87_frame(uint16_t fcw)
{
    X87Frame f = {fcw, FCW_INIT, 0, 0};
    return f;
}

/* Before: save the host CW, clear flags left by an earlier operation, run
 * under the guest's CW. */
#define X87_ENTER                                                                                  \
    "fnstcw %[hcw]\n\t"                                                                            \
    "fnstsw %%ax\n\t"                                                                              \
    "testb $0x3f, %%al\n\t"                                                                        \
    "jz 1f\n\t"                                                                                    \
    "fnclex\n"                                                                                     \
    "1:\n\t"                                                                                       \
    "movw %[hcw], %%ax\n\t"                                                                        \
    "cmpw %[gcw], %%ax\n\t"                                                                        \
    "je 3f\n\t"                                                                                    \
    "fldcw %[gcw]\n"                                                                               \
    "3:\n\t"
/* After the operation: take the status; if an unmasked exception is now
 * pending (ES), clear it before any waiting instruction; mask everything. */
#define X87_SETTLE                                                                                 \
    "fnstsw %[sw]\n\t"                                                                             \
    "testb $0x80, %[sw]\n\t"                                                                       \
    "jz 2f\n\t"                                                                                    \
    "fnclex\n"                                                                                     \
    "2:\n\t"                                                                                       \
    "movw %[quiet], %%ax\n\t"                                                                      \
    "cmpw %[gcw], %%ax\n\t"                                                                        \
    "je 4f\n\t"                                                                                    \
    "fldcw %[quiet]\n"                                                                             \
    "4:\n\t"
/* Empty the stack whatever its depth and give the host its CW back. */
#define X87_LEAVE                                                                                  \
    "ffree %%st(0)\n\tffree %%st(1)\n\tffree %%st(2)\n\tffree %%st(3)\n\t"                         \
    "ffree %%st(4)\n\tffree %%st(5)\n\tffree %%st(6)\n\tffree %%st(7)\n\t"                         \
    "movw %[hcw], %%ax\n\t"                                                                        \
    "cmpw %[quiet], %%ax\n\t"                                                                      \
    "je 5f\n\t"                                                                                    \
    "fldcw %[hcw]\n"                                                                               \
    "5:\n\t"
#define X87_CLOBBERS "ax", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"
#define X87_OUT(f)   [sw] "=m"((f)->sw), [hcw] "=m"((f)->hcw)
#define X87_IN(f)    [gcw] "m"((f)->gcw), [quiet] "m"((f)->quiet)

/* ST0 = dst, ST1 = src, INSN leaves its result in ST0. */
#define X87_ASM_REG2(INSN, f, dst, src)                                                            \
    __asm__ volatile(X87_ENTER "fldt %[b]\n\tfldt %[a]\n\t" INSN "\n\t" X87_SETTLE                 \
                               "fstpt %[a]\n\t" X87_LEAVE                                          \
                     : [a] "+m"(*(dst)), X87_OUT(f)                                                \
                     : [b] "m"(*(src)), X87_IN(f)                                                  \
                     : X87_CLOBBERS)

/* ST0 = dst, INSN takes its second operand from memory m. */
#define X87_ASM_MEM(INSN, f, dst, m)                                                               \
    __asm__ volatile(X87_ENTER "fldt %[a]\n\t" INSN " %[mem]\n\t" X87_SETTLE                       \
                               "fstpt %[a]\n\t" X87_LEAVE                                          \
                     : [a] "+m"(*(dst)), X87_OUT(f)                                                \
                     : [mem] "m"(m), X87_IN(f)                                                     \
                     : X87_CLOBBERS)

/* ST0 = st0, ST1 = st1, INSN's result (after any pop) in ST0 goes to res. */
#define X87_ASM_BINARY(INSN, f, st0, st1, res)                                                     \
    __asm__ volatile(X87_ENTER "fldt %[b]\n\tfldt %[a]\n\t" INSN "\n\t" X87_SETTLE                 \
                               "fstpt %[r]\n\t" X87_LEAVE                                          \
                     : [r] "=m"(*(res)), X87_OUT(f)                                                \
                     : [a] "m"(*(st0)), [b] "m"(*(st1)), X87_IN(f)                                 \
                     : X87_CLOBBERS)

/* INSN pushes a value (a constant or a converted memory operand). */
#define X87_ASM_PUSH(INSN, f, out, m)                                                              \
    __asm__ volatile(X87_ENTER INSN "\n\t" X87_SETTLE "fstpt %[r]\n\t" X87_LEAVE                   \
                     : [r] "=m"(*(out)), X87_OUT(f)                                                \
                     : [mem] "m"(m), X87_IN(f)                                                     \
                     : X87_CLOBBERS)

/* ST0 = in, INSN stores it to memory m (a copy is stored when INSN pops). */
#define X87_ASM_STORE(INSN, f, in, m)                                                              \
    __asm__ volatile(X87_ENTER "fldt %[a]\n\t" INSN " %[mem]\n\t" X87_SETTLE X87_LEAVE             \
                     : [mem] "+m"(m), X87_OUT(f)                                                   \
                     : [a] "m"(*(in)), X87_IN(f)                                                   \
                     : X87_CLOBBERS)

uint16_t x87_binop(uint16_t fcw, int op, F80 *dst, const F80 *src)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_ADD: X87_ASM_REG2("fadd %%st(1), %%st", &f, dst, src); break;
    case X87_MUL: X87_ASM_REG2("fmul %%st(1), %%st", &f, dst, src); break;
    case X87_SUB: X87_ASM_REG2("fsub %%st(1), %%st", &f, dst, src); break;
    case X87_SUBR: X87_ASM_REG2("fsubr %%st(1), %%st", &f, dst, src); break;
    case X87_DIV: X87_ASM_REG2("fdiv %%st(1), %%st", &f, dst, src); break;
    default: X87_ASM_REG2("fdivr %%st(1), %%st", &f, dst, src); break;
    }
    return f.sw;
}

/*
 * The memory forms run as the host's memory forms, not as a load and a
 * register operation: an SNaN or denormal single or double is then judged
 * together with ST0, which matters for which NaN is returned and which
 * exception wins (SDM Vol.1 4.8.3.5, Table 4-7).
 */
uint16_t x87_binop_m32(uint16_t fcw, int op, F80 *dst, uint32_t src)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_ADD: X87_ASM_MEM("fadds", &f, dst, src); break;
    case X87_MUL: X87_ASM_MEM("fmuls", &f, dst, src); break;
    case X87_SUB: X87_ASM_MEM("fsubs", &f, dst, src); break;
    case X87_SUBR: X87_ASM_MEM("fsubrs", &f, dst, src); break;
    case X87_DIV: X87_ASM_MEM("fdivs", &f, dst, src); break;
    default: X87_ASM_MEM("fdivrs", &f, dst, src); break;
    }
    return f.sw;
}

uint16_t x87_binop_m64(uint16_t fcw, int op, F80 *dst, uint64_t src)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_ADD: X87_ASM_MEM("faddl", &f, dst, src); break;
    case X87_MUL: X87_ASM_MEM("fmull", &f, dst, src); break;
    case X87_SUB: X87_ASM_MEM("fsubl", &f, dst, src); break;
    case X87_SUBR: X87_ASM_MEM("fsubrl", &f, dst, src); break;
    case X87_DIV: X87_ASM_MEM("fdivl", &f, dst, src); break;
    default: X87_ASM_MEM("fdivrl", &f, dst, src); break;
    }
    return f.sw;
}

uint16_t x87_compare(uint16_t fcw, const F80 *a, const F80 *b, bool unordered)
{
    X87Frame f = x87_frame(fcw);
    F80 scratch = *a;
    if (unordered) {
        X87_ASM_REG2("fucom %%st(1)", &f, &scratch, b);
    } else {
        X87_ASM_REG2("fcom %%st(1)", &f, &scratch, b);
    }
    return f.sw;
}

uint16_t x87_compare_m32(uint16_t fcw, const F80 *a, uint32_t b)
{
    X87Frame f = x87_frame(fcw);
    F80 scratch = *a;
    X87_ASM_MEM("fcoms", &f, &scratch, b);
    return f.sw;
}

uint16_t x87_compare_m64(uint16_t fcw, const F80 *a, uint64_t b)
{
    X87Frame f = x87_frame(fcw);
    F80 scratch = *a;
    X87_ASM_MEM("fcoml", &f, &scratch, b);
    return f.sw;
}

/* Operand-less instructions on ST0, as one "+m" round trip. */
#define X87_ASM_ST0(INSN, f, v)                                                                    \
    __asm__ volatile(X87_ENTER "fldt %[a]\n\t" INSN "\n\t" X87_SETTLE "fstpt %[a]\n\t" X87_LEAVE   \
                     : [a] "+m"(*(v)), X87_OUT(f)                                                  \
                     : X87_IN(f)                                                                   \
                     : X87_CLOBBERS)

uint16_t x87_unary(uint16_t fcw, int op, F80 *st0)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_FSQRT: X87_ASM_ST0("fsqrt", &f, st0); break;
    case X87_FRNDINT: X87_ASM_ST0("frndint", &f, st0); break;
    case X87_F2XM1: X87_ASM_ST0("f2xm1", &f, st0); break;
    case X87_FSIN: X87_ASM_ST0("fsin", &f, st0); break;
    case X87_FCOS: X87_ASM_ST0("fcos", &f, st0); break;
    case X87_FTST: X87_ASM_ST0("ftst", &f, st0); break;
    default: X87_ASM_ST0("fxam", &f, st0); break;
    }
    return f.sw;
}

uint16_t x87_binary(uint16_t fcw, int op, const F80 *st0, const F80 *st1, F80 *res)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_FSCALE: X87_ASM_BINARY("fscale", &f, st0, st1, res); break;
    case X87_FPREM: X87_ASM_BINARY("fprem", &f, st0, st1, res); break;
    case X87_FPREM1: X87_ASM_BINARY("fprem1", &f, st0, st1, res); break;
    case X87_FYL2X: X87_ASM_BINARY("fyl2x", &f, st0, st1, res); break;
    case X87_FYL2XP1: X87_ASM_BINARY("fyl2xp1", &f, st0, st1, res); break;
    default: X87_ASM_BINARY("fpatan", &f, st0, st1, res); break;
    }
    return f.sw;
}

/* ST0 = in; INSN replaces it and pushes a second value. */
#define X87_ASM_SPLIT(INSN, f, in, below, pushed)                                                  \
    __asm__ volatile(X87_ENTER "fldt %[a]\n\t" INSN "\n\t" X87_SETTLE                              \
                               "fstpt %[p]\n\tfstpt %[r]\n\t" X87_LEAVE                            \
                     : [p] "=m"(*(pushed)), [r] "=m"(*(below)), X87_OUT(f)                         \
                     : [a] "m"(*(in)), X87_IN(f)                                                   \
                     : X87_CLOBBERS)

/*
 * When FPTAN finds its operand out of range (C2) or an unmasked exception
 * stops it, nothing is pushed and the second store above pops an empty
 * register under the quiet control word; the caller ignores both outputs.
 */
uint16_t x87_split(uint16_t fcw, int op, const F80 *st0, F80 *below, F80 *pushed)
{
    X87Frame f = x87_frame(fcw);
    switch (op) {
    case X87_FPTAN: X87_ASM_SPLIT("fptan", &f, st0, below, pushed); break;
    case X87_FSINCOS: X87_ASM_SPLIT("fsincos", &f, st0, below, pushed); break;
    default: X87_ASM_SPLIT("fxtract", &f, st0, below, pushed); break;
    }
    return f.sw;
}

/* The constants are rounded under RC by the hardware (SDM Vol.1 8.3.8). */
uint16_t x87_const(uint16_t fcw, int which, F80 *out)
{
    X87Frame f = x87_frame(fcw);
    uint8_t unused = 0;
    switch (which) {
    case 0: X87_ASM_PUSH("fld1", &f, out, unused); break;
    case 1: X87_ASM_PUSH("fldl2t", &f, out, unused); break;
    case 2: X87_ASM_PUSH("fldl2e", &f, out, unused); break;
    case 3: X87_ASM_PUSH("fldpi", &f, out, unused); break;
    case 4: X87_ASM_PUSH("fldlg2", &f, out, unused); break;
    case 5: X87_ASM_PUSH("fldln2", &f, out, unused); break;
    default: X87_ASM_PUSH("fldz", &f, out, unused); break;
    }
    return f.sw;
}

uint16_t x87_load_m32(uint16_t fcw, uint32_t in, F80 *out)
{
    X87Frame f = x87_frame(fcw);
    X87_ASM_PUSH("flds %[mem]", &f, out, in);
    return f.sw;
}

uint16_t x87_load_m64(uint16_t fcw, uint64_t in, F80 *out)
{
    X87Frame f = x87_frame(fcw);
    X87_ASM_PUSH("fldl %[mem]", &f, out, in);
    return f.sw;
}

uint16_t x87_load_bcd(uint16_t fcw, const uint8_t in[10], F80 *out)
{
    X87Frame f = x87_frame(fcw);
    Bcd80 bcd;
    memcpy(bcd.b, in, sizeof(bcd.b));
    X87_ASM_PUSH("fbld %[mem]", &f, out, bcd);
    return f.sw;
}

uint16_t x87_store_m32(uint16_t fcw, const F80 *in, uint32_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint32_t m = 0;
    X87_ASM_STORE("fsts", &f, in, m);
    *out = m;
    return f.sw;
}

uint16_t x87_store_m64(uint16_t fcw, const F80 *in, uint64_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint64_t m = 0;
    X87_ASM_STORE("fstl", &f, in, m);
    *out = m;
    return f.sw;
}

uint16_t x87_store_i16(uint16_t fcw, const F80 *in, uint16_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint16_t m = 0;
    X87_ASM_STORE("fists", &f, in, m);
    *out = m;
    return f.sw;
}

uint16_t x87_store_i32(uint16_t fcw, const F80 *in, uint32_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint32_t m = 0;
    X87_ASM_STORE("fistl", &f, in, m);
    *out = m;
    return f.sw;
}

/* There is no non-popping 64-bit FIST: pop a copy. */
uint16_t x87_store_i64(uint16_t fcw, const F80 *in, uint64_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint64_t m = 0;
    X87_ASM_STORE("fld %%st(0)\n\tfistpll", &f, in, m);
    *out = m;
    return f.sw;
}

/* SSE3's FISTTP: truncation whatever RC says; it always pops, so pop a copy. */
uint16_t x87_store_trunc(uint16_t fcw, const F80 *in, int size, uint64_t *out)
{
    X87Frame f = x87_frame(fcw);
    uint64_t m = 0;
    uint16_t m16 = 0;
    uint32_t m32 = 0;
    switch (size) {
    case 2: X87_ASM_STORE("fld %%st(0)\n\tfisttps", &f, in, m16); m = m16; break;
    case 4: X87_ASM_STORE("fld %%st(0)\n\tfisttpl", &f, in, m32); m = m32; break;
    default: X87_ASM_STORE("fld %%st(0)\n\tfisttpll", &f, in, m); break;
    }
    *out = m;
    return f.sw;
}

uint16_t x87_store_bcd(uint16_t fcw, const F80 *in, uint8_t out[10])
{
    X87Frame f = x87_frame(fcw);
    Bcd80 m;
    memset(m.b, 0, sizeof(m.b));
    X87_ASM_STORE("fld %%st(0)\n\tfbstp", &f, in, m);
    memcpy(out, m.b, sizeof(m.b));
    return f.sw;
}
