/*
 * The i386 half of popek-oracle-native (built with gcc -m32 -static, with
 * native_runner.c): the trampoline into a test, the window segments, and
 * the reading of a 32-bit signal context.
 *
 * 16-bit addressing needs a segment whose base is the data window: LDT
 * entry 0 (ORACLE_WIN_SEL), which a test may ask for in ES and FS.  The
 * kernel hands a 32-bit process its x87 state in FNSAVE format, the very
 * layout OracleFpu has.
 */
#include <asm/ldt.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "native_runner.h"

#ifndef __i386__
#error "native_runner32.c is for the 32-bit runner: build it with -m32"
#endif

/* What the trampoline reads by absolute address (static, non-PIE binary). */
OracleRegs oracle_entry_regs;
uint32_t oracle_entry_mxcsr;
uint8_t oracle_entry_xmm[8][16];
uint16_t oracle_entry_es;
uint16_t oracle_entry_fs;

static uint16_t flat_data_sel;

void oracle_enter(void);

/*
 * The trampoline: segment registers, a serializing CPUID (the code window
 * was just written by another process: SDM Vol.3 8.1.3, cross-modifying
 * code), FNINIT, EFLAGS through the current stack, then the eight
 * registers (ESP last but one) and an indirect jump that touches no flag.
 */
__asm__(".text\n"
        ".globl oracle_enter\n"
        "oracle_enter:\n"
        "    xorl %eax, %eax\n"
        "    cpuid\n"
        "    movw oracle_entry_es, %ax\n"
        "    movw %ax, %es\n"
        "    movw oracle_entry_fs, %ax\n"
        "    movw %ax, %fs\n"
        "    fninit\n"
        "    ldmxcsr oracle_entry_mxcsr\n"
        "    movdqu oracle_entry_xmm+0, %xmm0\n"
        "    movdqu oracle_entry_xmm+16, %xmm1\n"
        "    movdqu oracle_entry_xmm+32, %xmm2\n"
        "    movdqu oracle_entry_xmm+48, %xmm3\n"
        "    movdqu oracle_entry_xmm+64, %xmm4\n"
        "    movdqu oracle_entry_xmm+80, %xmm5\n"
        "    movdqu oracle_entry_xmm+96, %xmm6\n"
        "    movdqu oracle_entry_xmm+112, %xmm7\n"
        "    pushl oracle_entry_regs+36\n"
        "    popfl\n"
        "    movl oracle_entry_regs+0, %eax\n"
        "    movl oracle_entry_regs+4, %ecx\n"
        "    movl oracle_entry_regs+8, %edx\n"
        "    movl oracle_entry_regs+12, %ebx\n"
        "    movl oracle_entry_regs+20, %ebp\n"
        "    movl oracle_entry_regs+24, %esi\n"
        "    movl oracle_entry_regs+28, %edi\n"
        "    movl oracle_entry_regs+16, %esp\n"
        "    jmp *oracle_entry_regs+32\n");

/* LDT entry 0: the data window as a 64 KiB byte-granular data segment. */
void runner_arch_init(void)
{
    struct user_desc d;
    memset(&d, 0, sizeof(d));
    d.entry_number = 0;
    d.base_addr = ORACLE_DATA_BASE;
    d.limit = 0xffff;
    d.seg_32bit = 1;
    d.useable = 1;
    if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0) {
        runner_die("modify_ldt");
    }
    __asm__ volatile("movw %%ds, %0" : "=r"(flat_data_sel));
}

void runner_arch_enter(const OracleMailbox *mb)
{
    oracle_entry_regs = mb->init;
    oracle_entry_mxcsr = mb->simd.mxcsr;
    memcpy(oracle_entry_xmm, mb->simd.xmm, sizeof(oracle_entry_xmm));
    oracle_entry_es = mb->es_win ? ORACLE_WIN_SEL : flat_data_sel;
    oracle_entry_fs = mb->fs_win ? ORACLE_WIN_SEL : 0;
    oracle_enter();
}

/* The C library's string functions use ES: make it flat again. */
void runner_arch_restore(void)
{
    __asm__ volatile("movw %0, %%es" : : "r"(flat_data_sel));
    __asm__ volatile("movw %0, %%fs" : : "r"((uint16_t)0));
}

/* The kernel's FNSAVE-format image (struct _libc_fpstate) into OracleFpu. */
static void capture_fpu(const ucontext_t *uc, OracleFpu *out)
{
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    memset(out, 0, sizeof(*out));
    if (!fp) {
        return;
    }
    out->fcw = (uint16_t)fp->cw;
    out->fsw = (uint16_t)fp->sw;
    out->ftw = (uint16_t)fp->tag;
    for (int i = 0; i < 8; i++) {
        memcpy(out->st[i], fp->_st[i].significand, 8);
        memcpy(out->st[i] + 8, &fp->_st[i].exponent, 2);
    }
}

/*
 * The kernel's i386 signal frame holds the FNSAVE image glibc describes,
 * then, when its magic is 0 (X86_FXSR_MAGIC), the FXSAVE image's MXCSR
 * and XMM registers (struct _fpstate_32 in the kernel's uapi sigcontext.h):
 * status and magic at 108, MXCSR at 136, XMM0-7 at 272.
 */
static void capture_simd(const ucontext_t *uc, OracleSimd *out)
{
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    memset(out, 0, sizeof(*out));
    uint16_t magic;
    if (!fp) {
        return;
    }
    memcpy(&magic, fp + 110, 2);
    if (magic != 0) {
        return;
    }
    memcpy(&out->mxcsr, fp + 136, 4);
    memcpy(out->xmm, fp + 272, sizeof(out->xmm));
}

void runner_arch_capture(const ucontext_t *uc, OracleResult *r)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    static const int order[8] = {REG_EAX, REG_ECX, REG_EDX, REG_EBX,
                                 REG_ESP, REG_EBP, REG_ESI, REG_EDI};
    for (int i = 0; i < 8; i++) {
        r->regs.gpr[i] = (uint32_t)g[order[i]];
    }
    r->regs.eip = (uint32_t)g[REG_EIP];
    r->regs.eflags = (uint32_t)g[REG_EFL];
    r->vector = (int32_t)g[REG_TRAPNO];
    r->error_code = (uint32_t)g[REG_ERR];
    capture_fpu(uc, &r->fpu);
    capture_simd(uc, &r->simd);
}
