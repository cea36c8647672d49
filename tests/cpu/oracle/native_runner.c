/*
 * popek-oracle-native and popek-oracle-native64: the host CPU as the
 * oracle.  This file is the part both runners share; native_runner32.c
 * (linked into the static i386 program) and native_runner64.c (the static
 * x86-64 one) supply the entry trampoline and the reading of the signal
 * context (native_runner.h).
 *
 * popek-oracle starts a runner once and then drives it test by test.  The
 * runner maps the code and data windows, which popek-oracle also maps (the
 * same memfds), at the fixed addresses of oracle_abi.h, so a test's bytes
 * run here at the very linear addresses the interpreter uses.
 *
 * A test runs as: load the initial registers and EFLAGS from the mailbox,
 * FNINIT, jump to the code.  Every sequence ends in HLT, which at CPL 3 is
 * #GP (SDM Vol.2 HLT), so every test, passing or faulting, ends in a signal.
 * The handler (on its own stack, since ESP belongs to the test) copies the
 * registers, EFLAGS, the trap number, the error code and the x87 state out
 * of the ucontext into the mailbox, and siglongjmps back to the command
 * loop.  Telling the end marker from a genuine fault is popek-oracle's
 * business (by EIP).
 *
 * Usage (by popek-oracle only):
 *   popek-oracle-native CODE_FD DATA_FD MAILBOX_FD CMD_FD REPLY_FD
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "native_runner.h"

static sigjmp_buf runner_return;
static OracleMailbox *mailbox;

void runner_die(const char *what)
{
    perror(what);
    exit(2);
}

static void on_trap(int sig, siginfo_t *info, void *ctx)
{
    OracleResult *r = &mailbox->result;
    runner_arch_capture(ctx, r);
    r->ok = 1;
    siglongjmp(runner_return, 1);
}

static void install_handlers(void)
{
    static uint8_t alt_stack[65536];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        runner_die("sigaltstack");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            runner_die("sigaction");
        }
    }
}

/* MAP_FIXED_NOREPLACE: a window that would land on the runner's own image
 * is a build error (the image must be linked elsewhere), not something to
 * overwrite silently. */
static void map_fixed(int fd, uint32_t addr, uint32_t size, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (p != (void *)(uintptr_t)addr) {
        runner_die("mmap (fixed window)");
    }
}

static void run_one(void)
{
    memset(&mailbox->result, 0, sizeof(mailbox->result));
    mailbox->result.vector = -1;
    if (sigsetjmp(runner_return, 1) == 0) {
        runner_arch_enter(mailbox);
    }
    runner_arch_restore();
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "%s: started by popek-oracle only\n", argv[0]);
        return 2;
    }
    int code_fd = atoi(argv[1]), data_fd = atoi(argv[2]), mb_fd = atoi(argv[3]);
    int cmd_fd = atoi(argv[4]), reply_fd = atoi(argv[5]);
    map_fixed(code_fd, ORACLE_CODE_BASE, ORACLE_CODE_SIZE, PROT_READ | PROT_EXEC);
    map_fixed(data_fd, ORACLE_DATA_BASE, ORACLE_DATA_SIZE, PROT_READ | PROT_WRITE);
    mailbox = mmap(NULL, sizeof(OracleMailbox), PROT_READ | PROT_WRITE, MAP_SHARED, mb_fd, 0);
    if (mailbox == MAP_FAILED) {
        runner_die("mmap (mailbox)");
    }
    runner_arch_init();
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
