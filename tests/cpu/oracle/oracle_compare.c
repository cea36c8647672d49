/*
 * Comparing the host CPU's result with the interpreter's, and printing a
 * test for a human: the sequence disassembled with capstone, the initial
 * state and both final states.
 *
 * What is compared: the exception vector and EIP the run ended at (the
 * end-marker HLT's #GP, or a genuine fault), the eight GPRs, EFLAGS (the
 * arithmetic flags less those undefined at that point, DF, and the system
 * flags user code can see), the error code of #TS/#NP/#SS/#GP, the whole
 * data window, and the x87 control word, status word (less undefined
 * condition codes), tag word (empty, valid, zero, special per register,
 * as FNSAVE stores it) and the contents of the non-empty registers.
 */
#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/cpu/oracle/gen_internal.h"
#include "tests/cpu/oracle/oracle_run.h"

/* EFLAGS bits user code can observe (through PUSHF) besides the six:
 * TF, IF, DF, IOPL, NT, AC, ID.  RF, VM, VIF and VIP are not compared. */
#define EFLAGS_VISIBLE (0x100u | 0x200u | F_DF | 0x3000u | 0x4000u | 0x40000u | 0x200000u)

static const char *const reg_names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

typedef struct Why {
    char *buf;
    size_t len, used;
} Why;

static void note(Why *w, const char *fmt, ...)
{
    if (w->used >= w->len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->used, w->len - w->used, fmt, ap);
    va_end(ap);
    if (n > 0) {
        w->used += (size_t)n;
    }
}

/* The instruction whose start-state poison applies to a run that ended at eip. */
static const OracleInsn *poison_at(const OracleTest *t, uint32_t eip)
{
    int k = oracle_insn_at(t, eip);
    return &t->insn[k >= 0 ? k : t->n_insn];
}

static void compare_fpu(const OracleFpu *a, const OracleFpu *b, uint16_t fsw_poison, Why *w)
{
    if (a->fcw != b->fcw) {
        note(w, " fcw %04x/%04x", a->fcw, b->fcw);
    }
    uint16_t fsw_diff = (uint16_t)((a->fsw ^ b->fsw) & ~fsw_poison);
    if (fsw_diff) {
        note(w, " fsw %04x/%04x", a->fsw, b->fsw);
    }
    if (a->ftw != b->ftw) {
        note(w, " ftw %04x/%04x", a->ftw, b->ftw);
    }
    unsigned top = (a->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        unsigned phys = (top + i) & 7;
        bool ea = ((a->ftw >> (2 * phys)) & 3) == 3, eb = ((b->ftw >> (2 * phys)) & 3) == 3;
        if (ea != eb) {
            note(w, " st%u-%s/%s", i, ea ? "empty" : "full", eb ? "empty" : "full");
        } else if (!ea && memcmp(a->st[i], b->st[i], 10) != 0) {
            uint64_t sa, sb;
            uint16_t xa, xb;
            memcpy(&sa, a->st[i], 8);
            memcpy(&xa, a->st[i] + 8, 2);
            memcpy(&sb, b->st[i], 8);
            memcpy(&xb, b->st[i] + 8, 2);
            note(w, " st%u %04x:%016llx/%04x:%016llx", i, xa, (unsigned long long)sa, xb,
                 (unsigned long long)sb);
        }
    }
}

static void compare_data(const uint8_t *a, const uint8_t *b, Why *w)
{
    int shown = 0;
    for (uint32_t i = 0; i < ORACLE_DATA_SIZE; i++) {
        if (a[i] != b[i]) {
            if (shown++ < 4) {
                note(w, " mem[%08x] %02x/%02x", ORACLE_DATA_BASE + i, a[i], b[i]);
            }
        }
    }
    if (shown > 4) {
        note(w, " (+%d more bytes)", shown - 4);
    }
}

bool oracle_compare(const OracleTest *t, const OracleResult *n, const uint8_t *nd,
                    const OracleResult *e, const uint8_t *ed, char *why, size_t why_len)
{
    Why w = {why, why_len, 0};
    why[0] = 0;
    if (!n->ok) {
        note(&w, "native runner failed");
        return false;
    }
    if (n->vector != e->vector || n->regs.eip != e->regs.eip) {
        note(&w, " end vector %d/%d at eip %08x/%08x", n->vector, e->vector, n->regs.eip,
             e->regs.eip);
    }
    const OracleInsn *at = poison_at(t, n->regs.eip);
    if (t->lm64) {
        /* all sixteen registers, whole, and the whole RIP */
        static const char *const names64[17] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                                "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                                "r12", "r13", "r14", "r15", "rip"};
        for (int r = 0; r < 17; r++) {
            if (memcmp(n->r64[r], e->r64[r], sizeof(n->r64[r])) != 0) {
                note(&w, " %s %08x%08x/%08x%08x", names64[r], n->r64[r][1], n->r64[r][0],
                     e->r64[r][1], e->r64[r][0]);
            }
        }
    }
    for (int r = 0; r < 8 && !t->lm64; r++) {
        if (n->regs.gpr[r] != e->regs.gpr[r]) {
            note(&w, " %s %08x/%08x", reg_names[r], n->regs.gpr[r], e->regs.gpr[r]);
        }
    }
    uint32_t fmask = (F_ALL & ~at->poison_flags) | EFLAGS_VISIBLE;
    if ((n->regs.eflags ^ e->regs.eflags) & fmask) {
        note(&w, " eflags %08x/%08x (compared bits %08x)", n->regs.eflags & fmask,
             e->regs.eflags & fmask, fmask);
    }
    bool end = n->vector == 13 && n->regs.eip == oracle_end_eip(t);
    if (!end && n->vector >= 10 && n->vector <= 13 && n->error_code != e->error_code) {
        note(&w, " error code %x/%x", n->error_code, e->error_code);
    }
    compare_data(nd, ed, &w);
    compare_fpu(&n->fpu, &e->fpu, at->poison_fsw, &w);
    for (int r = 0; r < 8; r++) {
        if (memcmp(n->simd.xmm[r], e->simd.xmm[r], 16) != 0) {
            note(&w, " xmm%d", r);
        }
    }
    for (int r = 0; t->lm64 && r < 8; r++) {
        if (memcmp(n->xmm_hi[r], e->xmm_hi[r], 16) != 0) {
            note(&w, " xmm%d", 8 + r);
        }
    }
    if (n->simd.mxcsr != e->simd.mxcsr) {
        note(&w, " mxcsr %08x/%08x", n->simd.mxcsr, e->simd.mxcsr);
    }
    return w.used == 0;
}

/* ---- printing ---- */

static void print_state(const char *label, const OracleRegs *r)
{
    printf("  %-8s", label);
    for (int i = 0; i < 8; i++) {
        printf(" %s=%08x", reg_names[i], r->gpr[i]);
    }
    printf(" eip=%08x efl=%08x\n", r->eip, r->eflags);
}

static void print_result(const char *label, const OracleResult *res)
{
    print_state(label, &res->regs);
    printf("  %-8s vector=%d err=%x fcw=%04x fsw=%04x ftw=%04x", "", res->vector,
           res->error_code, res->fpu.fcw, res->fpu.fsw, res->fpu.ftw);
    unsigned top = (res->fpu.fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        unsigned phys = (top + i) & 7;
        if (((res->fpu.ftw >> (2 * phys)) & 3) != 3) {
            uint64_t s;
            uint16_t x;
            memcpy(&s, res->fpu.st[i], 8);
            memcpy(&x, res->fpu.st[i] + 8, 2);
            printf(" st%u=%04x:%016llx", i, x, (unsigned long long)s);
        }
    }
    printf("\n  %-8s mxcsr=%08x", "", res->simd.mxcsr);
    for (int r = 0; r < 8; r++) {
        uint64_t lo, hi;
        memcpy(&lo, res->simd.xmm[r], 8);
        memcpy(&hi, res->simd.xmm[r] + 8, 8);
        printf("%s xmm%d=%016llx:%016llx", r == 4 ? "\n  \t  " : "", r, (unsigned long long)hi,
               (unsigned long long)lo);
    }
    printf("\n");
}

static bool is_slot(const OracleTest *t, uint32_t offset)
{
    for (int i = 0; i < t->n_slot; i++) {
        if (t->slot[i] == offset) {
            return true;
        }
    }
    return false;
}

/* One line per instruction: the bytes (an address-size slot marked 3e*),
 * capstone's disassembly of the 32-bit code, the class and the poison. */
static void print_insn(csh cs, const OracleTest *t, int i, uint32_t end_eip)
{
    const OracleInsn *in = &t->insn[i];
    uint32_t addr = ORACLE_CODE_BASE + in->offset;
    char bytes[80] = "";
    size_t used = 0;
    for (int b = 0; b < in->len && b < 15; b++) {
        uint32_t off = in->offset + (uint32_t)b;
        used += (size_t)snprintf(bytes + used, sizeof(bytes) - used, "%02x%s ", t->code[off],
                                 is_slot(t, off) ? "*" : "");
    }
    cs_insn *insn = NULL;
    size_t count = cs_disasm(cs, t->code + in->offset, in->len, addr, 1, &insn);
    printf("  %c %08x %-45s %-7s%s%s   [%s, undef flags %03x, x87 cc %04x]\n",
           addr == end_eip ? '>' : ' ', addr, bytes, count ? insn->mnemonic : "(bad)",
           count && insn->op_str[0] ? " " : "", count ? insn->op_str : "",
           in->setup ? "setup" : oracle_class_name(in->cls), in->poison_flags, in->poison_fsw);
    if (count) {
        cs_free(insn, count);
    }
}

void oracle_insn_mnemonic(const OracleTest *t, int i, char *buf, size_t len)
{
    csh cs;
    snprintf(buf, len, "?");
    if (cs_open(CS_ARCH_X86, t->lm64 ? CS_MODE_64 : CS_MODE_32, &cs) != CS_ERR_OK) {
        return;
    }
    cs_insn *insn = NULL;
    const OracleInsn *in = &t->insn[i];
    size_t count = cs_disasm(cs, t->code + in->offset, in->len, ORACLE_CODE_BASE + in->offset, 1,
                             &insn);
    if (count) {
        snprintf(buf, len, "%s", insn->mnemonic);
        cs_free(insn, count);
    }
    cs_close(&cs);
}

/* The sixteen 64-bit registers of a long-mode test (and RIP of a result). */
static void print_long(const char *what, const uint64_t *init, const OracleResult *r)
{
    printf("  %s (64-bit):", what);
    for (int i = 0; i < (r ? 17 : 16); i++) {
        uint64_t v = init ? init[i] : (uint64_t)r->r64[i][1] << 32 | r->r64[i][0];
        printf("%s%016llx", i % 4 ? " " : "\n    ", (unsigned long long)v);
    }
    printf("\n");
}

void oracle_print_test(const OracleTest *t, const OracleResult *native,
                       const OracleResult *interp)
{
    csh cs;
    bool have_cs = cs_open(CS_ARCH_X86, t->lm64 ? CS_MODE_64 : CS_MODE_32, &cs) == CS_ERR_OK;
    printf("  test %u of seed %llu, class %s, %s\n", t->index, (unsigned long long)t->seed,
           t->lm64 ? "long" : oracle_class_name(t->cls),
           t->lm64     ? "64-bit code in 64-bit mode"
           : t->mode64 ? "for the 64-bit runner (which has 67 for each 3e*), flat segments"
                       : (t->es_win ? "ES and FS window" : "ES flat, FS window"));
    uint32_t end = native->regs.eip;
    for (int i = 0; i <= t->n_insn; i++) {
        if (have_cs) {
            print_insn(cs, t, i, end);
        }
    }
    print_state("initial", &t->init);
    if (t->lm64) {
        print_long("initial", t->init64, NULL);
        print_long("native", NULL, native);
        print_long("popek", NULL, interp);
    }
    print_result("native", native);
    print_result("popek", interp);
    if (have_cs) {
        cs_close(&cs);
    }
}
