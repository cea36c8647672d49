/*
 * popek-oracle-native: the host CPU as the oracle for 32-bit code.
 *
 * A static i386 program (built with gcc -m32 -static) that popek-oracle
 * starts once and then drives test by test.  It maps the code and data
 * windows, which popek-oracle also maps (the same memfds), at the fixed
 * addresses of oracle_abi.h, so a test's bytes run here at the very linear
 * addresses the interpreter uses.
 *
 * A test runs as: load the initial registers and EFLAGS from the mailbox,
 * FNINIT, jump to the code.  Every sequence ends in HLT, which at CPL 3 is
 * #GP (SDM Vol.2 HLT), so every test, passing or faulting, ends in a signal.
 * The handler (on its own stack, since ESP belongs to the test) copies the
 * registers, EFLAGS, the trap number, the error code and the x87 state
 * (the kernel's FNSAVE-format image) out of the ucontext into the mailbox,
 * and siglongjmps back to the command loop.  Telling the end marker from a
 * genuine fault is popek-oracle's business (by EIP).
 *
 * Usage (by popek-oracle only):
 *   popek-oracle-native CODE_FD DATA_FD MAILBOX_FD CMD_FD REPLY_FD
 */
#include <asm/ldt.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "oracle_abi.h"

#ifndef __i386__
#error "the native runner is a 32-bit program: build it with -m32"
#endif

/* What the trampoline reads by absolute address (static, non-PIE binary). */
OracleRegs oracle_entry_regs;
uint16_t oracle_entry_es;
uint16_t oracle_entry_fs;

static sigjmp_buf runner_return;
static OracleMailbox *mailbox;
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

static void die(const char *what)
{
    perror(what);
    exit(2);
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

static void on_trap(int sig, siginfo_t *info, void *ctx)
{
    const ucontext_t *uc = ctx;
    const greg_t *g = uc->uc_mcontext.gregs;
    OracleResult *r = &mailbox->result;
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
    r->ok = 1;
    siglongjmp(runner_return, 1);
}

static void install_handlers(void)
{
    static uint8_t alt_stack[65536];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        die("sigaltstack");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            die("sigaction");
        }
    }
}

/* LDT entry 0: the data window as a 64 KiB byte-granular data segment. */
static void install_window_segment(void)
{
    struct user_desc d;
    memset(&d, 0, sizeof(d));
    d.entry_number = 0;
    d.base_addr = ORACLE_DATA_BASE;
    d.limit = 0xffff;
    d.seg_32bit = 1;
    d.useable = 1;
    if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0) {
        die("modify_ldt");
    }
}

static void map_fixed(int fd, uint32_t addr, uint32_t size, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (p != (void *)(uintptr_t)addr) {
        die("mmap (fixed window)");
    }
}

static void run_one(void)
{
    memset(&mailbox->result, 0, sizeof(mailbox->result));
    mailbox->result.vector = -1;
    oracle_entry_regs = mailbox->init;
    oracle_entry_es = mailbox->es_win ? ORACLE_WIN_SEL : flat_data_sel;
    oracle_entry_fs = mailbox->fs_win ? ORACLE_WIN_SEL : 0;
    if (sigsetjmp(runner_return, 1) == 0) {
        oracle_enter();
    }
    /* The C library's string functions use ES: make it flat again. */
    __asm__ volatile("movw %0, %%es" : : "r"(flat_data_sel));
    __asm__ volatile("movw %0, %%fs" : : "r"((uint16_t)0));
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "popek-oracle-native: started by popek-oracle only\n");
        return 2;
    }
    int code_fd = atoi(argv[1]), data_fd = atoi(argv[2]), mb_fd = atoi(argv[3]);
    int cmd_fd = atoi(argv[4]), reply_fd = atoi(argv[5]);
    map_fixed(code_fd, ORACLE_CODE_BASE, ORACLE_CODE_SIZE, PROT_READ | PROT_EXEC);
    map_fixed(data_fd, ORACLE_DATA_BASE, ORACLE_DATA_SIZE, PROT_READ | PROT_WRITE);
    mailbox = mmap(NULL, sizeof(OracleMailbox), PROT_READ | PROT_WRITE, MAP_SHARED, mb_fd, 0);
    if (mailbox == MAP_FAILED) {
        die("mmap (mailbox)");
    }
    __asm__ volatile("movw %%ds, %0" : "=r"(flat_data_sel));
    install_window_segment();
    install_handlers();
    for (;;) {
        char cmd;
        if (read(cmd_fd, &cmd, 1) != 1 || cmd == ORACLE_CMD_QUIT) {
            return 0;
        }
        run_one();
        char reply = ORACLE_REPLY_OK;
        if (write(reply_fd, &reply, 1) != 1) {
            return 2;
        }
    }
}
