/*
 * The two executors of a test: the host CPU (through a native runner
 * process, the i386 or the x86-64 one) and popek's interpreter (a TestVM
 * in flat 32-bit protected mode at CPL 3).  Both fill the same
 * OracleResult and a copy of the final data window.
 */
#ifndef TESTS_CPU_ORACLE_ORACLE_RUN_H
#define TESTS_CPU_ORACLE_ORACLE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/cpu/oracle/oracle_gen.h"

typedef struct NativeRunner NativeRunner;
typedef struct InterpRunner InterpRunner;

/* Start the runner program at path (the x86-64 one if mode64) and check it
 * runs a first test.  NULL on failure, with the reason in why and errno
 * ENOEXEC if the kernel refused to execute it (as one without IA32
 * emulation does the i386 runner). */
NativeRunner *native_start(const char *path, bool mode64, char *why, size_t why_len);
/* Run one test; false if the runner died or hung (it is then restarted).
 * A 64-bit runner runs only tests generated with mode64, and gets their
 * code with the address-size slots patched. */
bool native_run(NativeRunner *nr, const OracleTest *t, OracleResult *res, uint8_t *data_out);
void native_stop(NativeRunner *nr);

/* translated: run the tests through the binary translator (--accel bt)
 * instead of the interpreter alone. */
InterpRunner *interp_start(bool translated);
void interp_run(InterpRunner *ir, const OracleTest *t, OracleResult *res, uint8_t *data_out);
void interp_stop(InterpRunner *ir);
/* --accel bt: one line of translator statistics (x87 run natively or not). */
void interp_report(InterpRunner *ir);

/* Exit status when the host cannot run the requested native runner. */
#define ORACLE_EXIT_SKIP 77

/* Run a native runner's self-test (SDM-fixed outcomes): 0 when it passes,
 * 1 on a failure, 2 when the runner does not start, ORACLE_EXIT_SKIP when
 * the kernel refuses to execute it. */
int oracle_selftest(const char *native_path, bool mode64);

/* Compare the two results of t; false on a mismatch, described in why. */
bool oracle_compare(const OracleTest *t, const OracleResult *native, const uint8_t *native_data,
                    const OracleResult *interp, const uint8_t *interp_data, char *why,
                    size_t why_len);
/* The mnemonic of instruction i of t (capstone's, "?" if it has none). */
void oracle_insn_mnemonic(const OracleTest *t, int i, char *buf, size_t len);
/* Print t (disassembled), its initial state and both results. */
void oracle_print_test(const OracleTest *t, const OracleResult *native,
                       const OracleResult *interp);

#endif /* TESTS_CPU_ORACLE_ORACLE_RUN_H */
