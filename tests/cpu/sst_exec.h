/*
 * Running one recorded test on popek's CPU: a machine with 16 MiB of RAM
 * and no devices (every port reads all ones, as the fixture README asks for
 * IN), the test's initial state loaded in real mode, one instruction
 * executed with cpu_step(), and the final registers and RAM compared.
 *
 * One SstMachine serves a whole run: each test starts from cpu_reset(),
 * writes its RAM bytes, and zeroes them again when it is done, so tests do
 * not see each other's memory.
 */
#ifndef TESTS_CPU_SST_EXEC_H
#define TESTS_CPU_SST_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"
#include "tests/cpu/moo.h"

#define SST_RAM_SIZE (16u << 20) /* the suite assumes 16 MiB of writable RAM */
#define SST_MAX_VECTORS 4        /* exceptions remembered per test */
#define SST_MAX_MEMDIFF 16       /* differing bytes remembered per test */

typedef struct SstMachine {
    PhysMem phys;
    IOPortMap io;
    CPUState cpu;
    uint8_t *expect;   /* SST_RAM_SIZE bytes: the expected value at each listed address */
    uint8_t *listed;   /* SST_RAM_SIZE bytes: nonzero while expect[] holds a value */
    int vectors[SST_MAX_VECTORS]; /* exceptions delivered in this test (CPUHooks.on_exception) */
    int nvectors;
} SstMachine;

/* How to run and judge one test (decided by the runner from the metadata
 * and the rules in sst_skips.h). */
typedef struct SstPlan {
    uint16_t flags_mask;  /* FLAGS bits compared (bits 12-15 are never compared) */
    uint16_t pushed_flags_mask; /* bits compared in the FLAGS word an exception pushed */
    uint16_t ignore_regs; /* bit n: register n (enum MooReg) is not compared */
    bool alias_ss_gp;     /* copy IVT[13] to IVT[12] first (SST_MASK_SS_FAULT), unless
                           * the test lists bytes of IVT[12] itself */
    bool hlt_under_test;  /* the instruction is HLT, its own terminator: IP is compared as
                           * recorded and the CPU must be halted.  Otherwise the recorded IP
                           * is one past the terminating HLT, which is not run, and the
                           * expected IP is taken one less. */
    bool rep_string;      /* REP string: step again while it re-executes itself */
} SstPlan;

typedef struct SstMemDiff {
    uint32_t addr;
    uint8_t init;         /* value before the test (0 if not listed) */
    uint8_t want;
    uint8_t got;
    uint8_t mask;         /* bits compared */
} SstMemDiff;

typedef struct SstResult {
    bool pass;
    uint16_t want[MOO_NREGS];     /* expected registers (IP already adjusted) */
    uint16_t got[MOO_NREGS];      /* popek's registers */
    uint16_t cmp_mask[MOO_NREGS]; /* bits compared per register */
    uint16_t reg_diff;            /* bit n: register n differs under its mask */
    char other[256];              /* other differences (upper register halves, segment
                                   * bases, halt state, bad RAM address), "" if none */
    SstMemDiff mem[SST_MAX_MEMDIFF];
    int nmem;                     /* entries in mem[] */
    int nmem_total;               /* differing bytes in all */
    int vectors[SST_MAX_VECTORS]; /* exceptions popek delivered */
    int nvectors;
    int steps;                    /* cpu_step() calls */
} SstResult;

/* Create the machine (16 MiB RAM, empty port space); false with err set. */
bool sst_machine_init(SstMachine *m, char *err, size_t errlen);
void sst_machine_destroy(SstMachine *m);

/* Run test t of file f as plan says and compare; fills *r. */
void sst_run_test(SstMachine *m, const MooFile *f, const MooTest *t, const SstPlan *plan,
                  SstResult *r);

#endif /* TESTS_CPU_SST_EXEC_H */
