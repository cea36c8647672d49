/*
 * The native runners' shared frame (native_runner.c) and what each
 * architecture supplies (native_runner32.c for the i386 process,
 * native_runner64.c for the x86-64 one).
 *
 * A runner is started once by popek-oracle and then serves tests: load the
 * mailbox's initial state into the CPU, jump to the code window, and catch
 * the signal every run ends in.  The frame does everything that does not
 * depend on the architecture: mapping the shared windows at their fixed
 * addresses, the signal handlers on their own stack, and the command loop.
 */
#ifndef TESTS_CPU_ORACLE_NATIVE_RUNNER_H
#define TESTS_CPU_ORACLE_NATIVE_RUNNER_H

#include <ucontext.h>

#include "oracle_abi.h"

/* Report a failed system call and exit with status 2. */
void runner_die(const char *what);

/* Once, after the windows are mapped and before the first test. */
void runner_arch_init(void);
/* Load mb->init (and the segments it asks for) and jump to the code; the
 * run ends in a signal, so this does not return. */
void runner_arch_enter(const OracleMailbox *mb);
/* From the signal handler: registers, EFLAGS, trap number, error code and
 * x87 state at the signal, into r (r->ok is the frame's business). */
void runner_arch_capture(const ucontext_t *uc, OracleResult *r);
/* Back in C after a run: undo what the test may have left that C needs. */
void runner_arch_restore(void);

#endif /* TESTS_CPU_ORACLE_NATIVE_RUNNER_H */
