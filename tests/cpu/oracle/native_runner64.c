/*
 * The x86-64 half of popek-oracle-native64 (built with -static-pie, with
 * native_runner.c): for hosts whose kernel cannot run i386 programs, and
 * for CI everywhere.
 *
 * The tests it gets are generated for it (README.md, "The 64-bit native
 * runner"): only instructions whose 32-bit-operand results are the same in
 * 64-bit mode, every memory access with an address-size prefix (67h), so
 * addresses are computed in 32 bits and wrap as in the 32-bit guest, and
 * no segment registers.  The registers are loaded zero-extended and read
 * back as their low 32 bits.
 *
 * Long-mode tests (--long, gen_lm64.c) are 64-bit code: all sixteen
 * registers are loaded (oracle_enter_long) and all are read back, whole,
 * into OracleResult.r64.
 *
 * The runner is a static PIE because a non-PIE x86-64 program is linked at
 * 0x400000, which is the code window; the kernel loads a static PIE far
 * above 4 GiB.
 *
 * A 64-bit process gets its x87 state from the kernel in FXSAVE format,
 * with an abridged tag word; capture_fpu turns it into the FNSAVE layout
 * the comparison expects, as the kernel does for a 32-bit process.
 */
#include <string.h>

#include "native_runner.h"

#ifndef __x86_64__
#error "native_runner64.c is for the 64-bit runner: build it for x86-64"
#endif

/* What the trampoline reads, RIP-relative. */
typedef struct OracleEntry64 {
    uint64_t gpr[8]; /* RAX RCX RDX RBX RSP RBP RSI RDI, zero-extended */
    uint64_t rip;
    uint64_t rflags;
    uint32_t mxcsr;  /* at 80 */
    uint32_t pad[3];
    uint8_t xmm[8][16]; /* at 96 */
} OracleEntry64;

OracleEntry64 oracle_entry64;

void oracle_enter64(void);

/*
 * As the 32-bit trampoline: a serializing CPUID (the code window was just
 * written by another process: SDM Vol.3 8.1.3), FNINIT, RFLAGS through the
 * current stack, the eight registers (RSP last but one) and an indirect
 * jump that touches no flag.  R8-R15 keep whatever they hold: tests carry
 * no REX prefix, so they cannot reach them.
 */
__asm__(".text\n"
        ".globl oracle_enter64\n"
        "oracle_enter64:\n"
        "    xorl %eax, %eax\n"
        "    cpuid\n"
        "    fninit\n"
        "    ldmxcsr oracle_entry64+80(%rip)\n"
        "    movdqu oracle_entry64+96(%rip), %xmm0\n"
        "    movdqu oracle_entry64+112(%rip), %xmm1\n"
        "    movdqu oracle_entry64+128(%rip), %xmm2\n"
        "    movdqu oracle_entry64+144(%rip), %xmm3\n"
        "    movdqu oracle_entry64+160(%rip), %xmm4\n"
        "    movdqu oracle_entry64+176(%rip), %xmm5\n"
        "    movdqu oracle_entry64+192(%rip), %xmm6\n"
        "    movdqu oracle_entry64+208(%rip), %xmm7\n"
        "    pushq oracle_entry64+72(%rip)\n"
        "    popfq\n"
        "    movq oracle_entry64+0(%rip), %rax\n"
        "    movq oracle_entry64+8(%rip), %rcx\n"
        "    movq oracle_entry64+16(%rip), %rdx\n"
        "    movq oracle_entry64+24(%rip), %rbx\n"
        "    movq oracle_entry64+40(%rip), %rbp\n"
        "    movq oracle_entry64+48(%rip), %rsi\n"
        "    movq oracle_entry64+56(%rip), %rdi\n"
        "    movq oracle_entry64+32(%rip), %rsp\n"
        "    jmpq *oracle_entry64+64(%rip)\n");

/* Long-mode tests (--long) load all sixteen registers. */
typedef struct OracleEntryLong {
    uint64_t gpr[16];      /* RAX..R15 */
    uint64_t rip;          /* at 128 */
    uint8_t xmm_hi[8][16]; /* XMM8-XMM15, at 136 */
} OracleEntryLong;

OracleEntryLong oracle_entry_long;

void oracle_enter_long(void);

/* As oracle_enter64, with R8-R15 too. */
__asm__(".text\n"
        ".globl oracle_enter_long\n"
        "oracle_enter_long:\n"
        "    xorl %eax, %eax\n"
        "    cpuid\n"
        "    fninit\n"
        "    ldmxcsr oracle_entry64+80(%rip)\n"
        "    movdqu oracle_entry64+96(%rip), %xmm0\n"
        "    movdqu oracle_entry64+112(%rip), %xmm1\n"
        "    movdqu oracle_entry64+128(%rip), %xmm2\n"
        "    movdqu oracle_entry64+144(%rip), %xmm3\n"
        "    movdqu oracle_entry64+160(%rip), %xmm4\n"
        "    movdqu oracle_entry64+176(%rip), %xmm5\n"
        "    movdqu oracle_entry64+192(%rip), %xmm6\n"
        "    movdqu oracle_entry64+208(%rip), %xmm7\n"
        "    movdqu oracle_entry_long+136(%rip), %xmm8\n"
        "    movdqu oracle_entry_long+152(%rip), %xmm9\n"
        "    movdqu oracle_entry_long+168(%rip), %xmm10\n"
        "    movdqu oracle_entry_long+184(%rip), %xmm11\n"
        "    movdqu oracle_entry_long+200(%rip), %xmm12\n"
        "    movdqu oracle_entry_long+216(%rip), %xmm13\n"
        "    movdqu oracle_entry_long+232(%rip), %xmm14\n"
        "    movdqu oracle_entry_long+248(%rip), %xmm15\n"
        "    pushq oracle_entry64+72(%rip)\n"
        "    popfq\n"
        "    movq oracle_entry_long+64(%rip), %r8\n"
        "    movq oracle_entry_long+72(%rip), %r9\n"
        "    movq oracle_entry_long+80(%rip), %r10\n"
        "    movq oracle_entry_long+88(%rip), %r11\n"
        "    movq oracle_entry_long+96(%rip), %r12\n"
        "    movq oracle_entry_long+104(%rip), %r13\n"
        "    movq oracle_entry_long+112(%rip), %r14\n"
        "    movq oracle_entry_long+120(%rip), %r15\n"
        "    movq oracle_entry_long+0(%rip), %rax\n"
        "    movq oracle_entry_long+8(%rip), %rcx\n"
        "    movq oracle_entry_long+16(%rip), %rdx\n"
        "    movq oracle_entry_long+24(%rip), %rbx\n"
        "    movq oracle_entry_long+40(%rip), %rbp\n"
        "    movq oracle_entry_long+48(%rip), %rsi\n"
        "    movq oracle_entry_long+56(%rip), %rdi\n"
        "    movq oracle_entry_long+32(%rip), %rsp\n"
        "    jmpq *oracle_entry_long+128(%rip)\n");

/* Nothing to set up: tests for this runner use no segment register. */
void runner_arch_init(void)
{
}

void runner_arch_enter(const OracleMailbox *mb)
{
    for (int i = 0; i < 8; i++) {
        oracle_entry64.gpr[i] = mb->init.gpr[i];
    }
    oracle_entry64.rip = mb->init.eip;
    oracle_entry64.rflags = mb->init.eflags;
    oracle_entry64.mxcsr = mb->simd.mxcsr;
    memcpy(oracle_entry64.xmm, mb->simd.xmm, sizeof(oracle_entry64.xmm));
    if (mb->lm64) {
        for (int i = 0; i < 16; i++) {
            oracle_entry_long.gpr[i] = (uint64_t)mb->init64[i][1] << 32 | mb->init64[i][0];
        }
        oracle_entry_long.rip = mb->init.eip;
        memcpy(oracle_entry_long.xmm_hi, mb->init_xmm_hi, sizeof(oracle_entry_long.xmm_hi));
        oracle_enter_long();
    }
    oracle_enter64();
}

/* Nothing to undo: a test cannot change FS or GS here, and the kernel
 * clears DF for the signal handler. */
void runner_arch_restore(void)
{
}

/*
 * The tag FNSAVE stores for a register FXSAVE marks non-empty, from its
 * contents (SDM Vol.2 FXSAVE, "Recreating FSAVE Format"): 00 valid,
 * 01 zero, 10 special (NaN, infinity, denormal, pseudo-denormal, unnormal).
 */
static unsigned fsave_tag(const uint8_t st[10])
{
    uint64_t significand;
    uint16_t exponent;
    memcpy(&significand, st, 8);
    memcpy(&exponent, st + 8, 2);
    exponent &= 0x7fff;
    if (exponent == 0x7fff) {
        return 2;
    }
    if (exponent == 0) {
        return significand == 0 ? 1 : 2;
    }
    return significand >> 63 ? 0 : 2;
}

/* The kernel's FXSAVE-format image into the FNSAVE layout of OracleFpu.
 * Both keep the registers in stack order (ST(0) first); the abridged tag
 * word has one bit per physical register, set when it is not empty. */
static void capture_fpu(const ucontext_t *uc, OracleFpu *out)
{
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    memset(out, 0, sizeof(*out));
    if (!fp) {
        return;
    }
    out->fcw = fp->cwd;
    out->fsw = fp->swd;
    for (int i = 0; i < 8; i++) {
        memcpy(out->st[i], fp->_st[i].significand, 8);
        memcpy(out->st[i] + 8, &fp->_st[i].exponent, 2);
    }
    unsigned top = (fp->swd >> 11) & 7;
    unsigned ftw = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned tag = 3;
        if (fp->ftw & (1u << phys)) {
            tag = fsave_tag(out->st[(phys - top) & 7]);
        }
        ftw |= tag << (2 * phys);
    }
    out->ftw = (uint16_t)ftw;
}

static void capture_simd(const ucontext_t *uc, OracleSimd *out)
{
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    memset(out, 0, sizeof(*out));
    if (!fp) {
        return;
    }
    out->mxcsr = fp->mxcsr;
    for (int i = 0; i < 8; i++) {
        memcpy(out->xmm[i], fp->_xmm[i].element, 16);
    }
}

static void capture_xmm_hi(const ucontext_t *uc, uint8_t out[8][16])
{
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    for (int i = 0; fp && i < 8; i++) {
        memcpy(out[i], fp->_xmm[8 + i].element, 16);
    }
}

void runner_arch_capture(const ucontext_t *uc, OracleResult *r)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    static const int order[8] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX,
                                 REG_RSP, REG_RBP, REG_RSI, REG_RDI};
    for (int i = 0; i < 8; i++) {
        r->regs.gpr[i] = (uint32_t)g[order[i]];
    }
    r->regs.eip = (uint32_t)g[REG_RIP];
    r->regs.eflags = (uint32_t)g[REG_EFL];
    static const int order64[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                    REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                    REG_R12, REG_R13, REG_R14, REG_R15};
    for (int i = 0; i < 16; i++) {
        r->r64[i][0] = (uint32_t)g[order64[i]];
        r->r64[i][1] = (uint32_t)((uint64_t)g[order64[i]] >> 32);
    }
    r->r64[16][0] = (uint32_t)g[REG_RIP];
    r->r64[16][1] = (uint32_t)((uint64_t)g[REG_RIP] >> 32);
    r->vector = (int32_t)g[REG_TRAPNO];
    r->error_code = (uint32_t)g[REG_ERR];
    capture_fpu(uc, &r->fpu);
    capture_simd(uc, &r->simd);
    capture_xmm_hi(uc, r->xmm_hi);
}
