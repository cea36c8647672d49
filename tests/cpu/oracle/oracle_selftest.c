/*
 * Self-test of the native side alone: a few hand-written sequences whose
 * outcome the SDM fixes, run on popek-oracle-native only.  It proves the
 * plumbing (registers and EFLAGS in, the end marker, fault capture with
 * vector and EIP, the x87 image, the data window, the FS window segment)
 * before any comparison with the interpreter means anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/oracle/oracle_run.h"

typedef struct SelfTest {
    NativeRunner *nr;
    OracleTest *t;
    OracleResult r;
    uint8_t data[ORACLE_DATA_SIZE];
    int failures;
} SelfTest;

static void prepare(SelfTest *st, const uint8_t *code, uint32_t len)
{
    OracleTest *t = st->t;
    memset(t, 0, sizeof(*t));
    memcpy(t->code, code, len);
    t->code[len] = 0xf4; /* the end marker */
    t->code_len = len + 1;
    t->init.eip = ORACLE_CODE_BASE;
    t->init.gpr[4] = ORACLE_DATA_BASE + 0xa000;
    t->init.eflags = 0x202;
    t->fs_win = true;
    for (uint32_t i = 0; i < ORACLE_DATA_SIZE; i++) {
        t->data[i] = (uint8_t)(i * 7);
    }
}

static void check(SelfTest *st, const char *name, bool ok)
{
    if (!ok) {
        printf("native self-test FAILED: %s (vector %d eip %08x eax %08x ebx %08x efl %08x)\n",
               name, st->r.vector, st->r.regs.eip, st->r.regs.gpr[0], st->r.regs.gpr[3],
               st->r.regs.eflags);
        st->failures++;
    }
}

static bool run(SelfTest *st)
{
    return native_run(st->nr, st->t, &st->r, st->data);
}

/* ADD EAX, EBX: FFFFFFFF + 1 = 0 with CF ZF AF PF set, OF SF clear (SDM Vol.2 ADD). */
static void test_add(SelfTest *st)
{
    static const uint8_t code[] = {0x01, 0xd8};
    prepare(st, code, sizeof(code));
    st->t->init.gpr[0] = 0xffffffffu;
    st->t->init.gpr[3] = 1;
    bool ok = run(st) && st->r.vector == 13 && st->r.regs.eip == ORACLE_CODE_BASE + 2 &&
              st->r.regs.gpr[0] == 0 && st->r.regs.gpr[3] == 1 &&
              (st->r.regs.eflags & 0x8d5) == 0x55;
    check(st, "add eax, ebx", ok);
}

/* DIV ECX with ECX = 0: #DE, a fault: EIP on the DIV, registers unchanged. */
static void test_div0(SelfTest *st)
{
    static const uint8_t code[] = {0x90, 0xf7, 0xf1};
    prepare(st, code, sizeof(code));
    st->t->init.gpr[0] = 1234;
    bool ok = run(st) && st->r.vector == 0 && st->r.regs.eip == ORACLE_CODE_BASE + 1 &&
              st->r.regs.gpr[0] == 1234;
    check(st, "div by zero", ok);
}

/* INT3: #BP, a trap: EIP after it. */
static void test_int3(SelfTest *st)
{
    static const uint8_t code[] = {0xcc};
    prepare(st, code, sizeof(code));
    bool ok = run(st) && st->r.vector == 3 && st->r.regs.eip == ORACLE_CODE_BASE + 1;
    check(st, "int3", ok);
}

/* MOV [abs], EAX; MOV BX, FS:[10h]: the data window and the FS window segment. */
static void test_memory(SelfTest *st)
{
    static const uint8_t code[] = {0xa3, 0x00, 0x01, 0x50, 0x00,       /* mov [500100h], eax */
                                   0x64, 0x66, 0x8b, 0x1d, 0x10, 0, 0, 0}; /* mov bx, fs:[10h] */
    prepare(st, code, sizeof(code));
    st->t->init.gpr[0] = 0x12345678u;
    st->t->init.gpr[3] = 0xaaaa0000u;
    uint32_t word = (uint32_t)st->t->data[0x10] | (uint32_t)st->t->data[0x11] << 8;
    bool ok = run(st) && st->r.vector == 13 && st->data[0x100] == 0x78 &&
              st->data[0x103] == 0x12 && st->r.regs.gpr[3] == (0xaaaa0000u | word);
    check(st, "memory and fs window", ok);
}

/* STD; PUSHFD; POP EBX: DF, IF and bit 1 as pushed. */
static void test_flags(SelfTest *st)
{
    static const uint8_t code[] = {0xfd, 0x9c, 0x5b};
    prepare(st, code, sizeof(code));
    bool ok = run(st) && st->r.vector == 13 && (st->r.regs.gpr[3] & 0x602) == 0x602 &&
              st->r.regs.gpr[4] == st->t->init.gpr[4];
    check(st, "std; pushfd", ok);
}

/* FLD1; FLDPI; FADDP: TOP 7, ST0 = 1 + pi rounded to 64 bits (the host's long double). */
static void test_x87(SelfTest *st)
{
    static const uint8_t code[] = {0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1};
    prepare(st, code, sizeof(code));
    uint8_t pi_bytes[16] = {0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40};
    long double pi, sum;
    memcpy(&pi, pi_bytes, sizeof(pi));
    sum = 1.0L + pi;
    bool ok = run(st) && st->r.vector == 13 && ((st->r.fpu.fsw >> 11) & 7) == 7 &&
              memcmp(st->r.fpu.st[0], &sum, 10) == 0;
    check(st, "fld1; fldpi; faddp", ok);
}

int oracle_selftest(const char *native_path)
{
    SelfTest st = {0};
    st.nr = native_start(native_path);
    st.t = malloc(sizeof(*st.t));
    if (!st.nr || !st.t) {
        free(st.t);
        native_stop(st.nr);
        return 2;
    }
    test_add(&st);
    test_div0(&st);
    test_int3(&st);
    test_memory(&st);
    test_flags(&st);
    test_x87(&st);
    printf("%d passed, %d failed\n", 6 - st.failures, st.failures);
    native_stop(st.nr);
    free(st.t);
    return st.failures ? 1 : 0;
}
