/*
 * Self-test of a native runner alone: a few hand-written sequences whose
 * outcome the SDM fixes, run on popek-oracle-native or
 * popek-oracle-native64 only.  It proves the plumbing (registers and EFLAGS
 * in, the end marker, fault capture with vector and EIP, the x87 image and
 * its tag word, the data window, the FS window segment of the 32-bit
 * runner, the address-size slots of the 64-bit one) before any comparison
 * with the interpreter means anything.
 *
 * The cases with slots run on both runners: 3Eh (a DS override, a no-op
 * in the flat 32-bit process) where the 64-bit runner gets 67h.  Without
 * the patch they would fault there or load from elsewhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/oracle/oracle_run.h"

typedef struct SelfTest {
    NativeRunner *nr;
    bool mode64;
    const char *name; /* of the runner */
    OracleTest *t;
    OracleResult r;
    uint8_t data[ORACLE_DATA_SIZE];
    int passed, failures;
} SelfTest;

static void prepare(SelfTest *st, const uint8_t *code, uint32_t len)
{
    OracleTest *t = st->t;
    memset(t, 0, sizeof(*t));
    memcpy(t->code, code, len);
    t->code[len] = 0xf4; /* the end marker */
    t->code_len = len + 1;
    t->mode64 = st->mode64;
    t->init.eip = ORACLE_CODE_BASE;
    t->init.gpr[4] = ORACLE_DATA_BASE + 0xa000;
    t->init.eflags = 0x202;
    t->fs_win = !st->mode64;
    for (uint32_t i = 0; i < ORACLE_DATA_SIZE; i++) {
        t->data[i] = (uint8_t)(i * 7);
    }
}

/* The byte at offset of the code is an address-size slot (oracle_gen.h). */
static void slot(SelfTest *st, uint16_t offset)
{
    st->t->slot[st->t->n_slot++] = offset;
}

static void check(SelfTest *st, const char *name, bool ok)
{
    if (!ok) {
        printf("%s self-test FAILED: %s (vector %d eip %08x eax %08x ebx %08x efl %08x "
               "fsw %04x ftw %04x)\n",
               st->name, name, st->r.vector, st->r.regs.eip, st->r.regs.gpr[0], st->r.regs.gpr[3],
               st->r.regs.eflags, st->r.fpu.fsw, st->r.fpu.ftw);
        st->failures++;
    } else {
        st->passed++;
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

/* MOV [abs], EAX; MOV BX, FS:[10h]: the data window and the FS window
 * segment (32-bit runner only). */
static void test_window(SelfTest *st)
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

/* The same without segments, as mode64 tests address: moffs32 (A3 takes a
 * 64-bit offset in 64-bit mode, 67h makes it 32) and [disp32] through a
 * SIB with no base and no index (mod 00 rm 101 would be RIP-relative). */
static void test_flat_memory(SelfTest *st)
{
    static const uint8_t code[] = {0x3e, 0xa3, 0x00, 0x01, 0x50, 0x00, /* mov [500100h], eax */
                                   0x66, 0x3e, 0x8b, 0034, 0045,       /* mov bx, [500010h] */
                                   0x10, 0x00, 0x50, 0x00};
    prepare(st, code, sizeof(code));
    slot(st, 0);
    slot(st, 7);
    st->t->init.gpr[0] = 0x12345678u;
    st->t->init.gpr[3] = 0xaaaa0000u;
    uint32_t word = (uint32_t)st->t->data[0x10] | (uint32_t)st->t->data[0x11] << 8;
    bool ok = run(st) && st->r.vector == 13 && st->r.regs.eip == ORACLE_CODE_BASE + 15 &&
              st->data[0x100] == 0x78 && st->data[0x103] == 0x12 &&
              st->r.regs.gpr[3] == (0xaaaa0000u | word);
    check(st, "flat memory with slots", ok);
}

/* MOV EAX, [EBX+ECX] with a sum past 2^32: 32-bit addressing wraps (in
 * 64-bit mode only under 67h; without it the access would fault). */
static void test_wrap(SelfTest *st)
{
    static const uint8_t code[] = {0x3e, 0x8b, 0004, 0013}; /* SIB: index ECX, base EBX */
    prepare(st, code, sizeof(code));
    slot(st, 0);
    st->t->init.gpr[3] = 0x80500000u;
    st->t->init.gpr[1] = 0x80000020u;
    uint32_t dword;
    memcpy(&dword, &st->t->data[0x20], 4);
    bool ok = run(st) && st->r.vector == 13 && st->r.regs.eip == ORACLE_CODE_BASE + 4 &&
              st->r.regs.gpr[0] == dword;
    check(st, "address wraps at 2^32", ok);
}

/* STD; PUSHFD; POP EBX: DF, IF and bit 1 as pushed (PUSHFQ and POP RBX in
 * 64-bit mode, which leave ESP where it was too). */
static void test_flags(SelfTest *st)
{
    static const uint8_t code[] = {0xfd, 0x9c, 0x5b};
    prepare(st, code, sizeof(code));
    bool ok = run(st) && st->r.vector == 13 && (st->r.regs.gpr[3] & 0x602) == 0x602 &&
              st->r.regs.gpr[4] == st->t->init.gpr[4];
    check(st, "std; pushf; pop", ok);
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

/*
 * The full tag word (the 64-bit runner computes it from the contents):
 * FLDZ FLD1 FLD1 FLDZ leave zero, valid, valid, zero in R7..R4; FDIVP
 * ST(1), ST(0) makes R5 1/0 = +inf (special) and pops R4; FLD m80 of a
 * denormal puts it (special, no #D for 80-bit loads) in R4.  Tags from R7
 * down: 01 00 10 10, then four empty: 4AFFh.  TOP 4, ZE set.
 */
static void test_x87_tags(SelfTest *st)
{
    static const uint8_t code[] = {
        0xd9, 0xee, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xee, /* fldz; fld1; fld1; fldz */
        0xde, 0xf9,                                     /* fdivp st(1), st */
        0x3e, 0xdb, 0054, 0045, 0x00, 0x02, 0x50, 0x00, /* fld tbyte [500200h] */
    };
    prepare(st, code, sizeof(code));
    slot(st, 10);
    memset(&st->t->data[0x200], 0, 10);
    st->t->data[0x200] = 1;
    bool ok = run(st) && st->r.vector == 13 && st->r.fpu.ftw == 0x4aff &&
              ((st->r.fpu.fsw >> 11) & 7) == 4 && (st->r.fpu.fsw & 0x4);
    check(st, "x87 tag word", ok);
}

int oracle_selftest(const char *native_path, bool mode64)
{
    SelfTest st = {.mode64 = mode64, .name = mode64 ? "64-bit native" : "32-bit native"};
    char why[512];
    st.nr = native_start(native_path, mode64, why, sizeof(why));
    if (!st.nr) {
        bool refused = errno == ENOEXEC;
        printf("%s self-test: %s: %s\n", st.name,
               refused ? "SKIP, not available on this host" : "FAILED, the runner does not work",
               why);
        return refused ? ORACLE_EXIT_SKIP : 2;
    }
    st.t = malloc(sizeof(*st.t));
    if (!st.t) {
        native_stop(st.nr);
        return 2;
    }
    test_add(&st);
    test_div0(&st);
    test_int3(&st);
    if (!mode64) {
        test_window(&st);
    }
    test_flat_memory(&st);
    test_wrap(&st);
    test_flags(&st);
    test_x87(&st);
    test_x87_tags(&st);
    printf("%s self-test: %d passed, %d failed\n", st.name, st.passed, st.failures);
    native_stop(st.nr);
    free(st.t);
    return st.failures ? 1 : 0;
}
