/*
 * Running one generated program on both engines and comparing them.
 *
 * Two machines start from the same state (bt_gen.h's memory map, ring 0
 * or 3, paging on or off); one runs the interpreter (cpu_exec), the other
 * the translator (bt_exec, in run or check mode), each until it halts or
 * a fixed instruction budget runs out.  Then everything guest-visible must
 * agree: general registers, EIP, EFLAGS, segment registers with their
 * caches, CR0/CR2/CR3/CR4, the instruction count, HLT state, and every
 * byte of RAM (which holds the vector the exception stubs record, and the
 * frames exception delivery pushed).
 *
 * Bits derived from results the SDM leaves undefined are not compared: the
 * host CPU may choose other values than the interpreter.  When the
 * machines differ, the interpreter runs the program again with undefined
 * results filled with each of cpu/undef.h's fills, and the bits that
 * change are left out (docs/undefined.md).
 */
#ifndef TESTS_BT_BT_DIFF_H
#define TESTS_BT_BT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"
#include "softmmu/phys.h"
#include "tests/bt/bt_gen.h"
#include "translator/translator.h"

typedef struct BTDiff BTDiff;

/* mode: the translator's mode for the second machine. */
BTDiff *btd_new(enum BTMode mode);
void btd_free(BTDiff *d);

/* Run p on both engines; true if they agree.  On a difference, report gets
 * a description: the program listing and both final states. */
bool btd_run(BTDiff *d, const BTProgram *p, uint64_t budget, char *report, size_t report_len);

/* Fill undefined results on the translator's machine (its interpreted
 * instructions and callouts; native ones get the host's values), as a CPU
 * whose choices differ from the interpreter's would. */
void btd_set_fill(BTDiff *d, bool on, uint32_t fill);

/* Whether p keeps undefined results where the generator says it does: a
 * run with undefined results filled differently changes nothing but the
 * flags p->poison names.  On a difference, report gets the program and
 * what changed. */
bool btd_contained(BTDiff *d, const BTProgram *p, uint64_t budget, char *report, size_t report_len);

/* Runs whose interpreter ended in a #PF with I/D set (an instruction
 * fetch from an execute-disable page under PAE), for coverage checks. */
uint64_t btd_nx_faults(const BTDiff *d);

/* Runs whose interpreter ended in the exception or interrupt vector (its
 * stub recorded it), or with none for vector -1, for coverage checks. */
uint64_t btd_endings(const BTDiff *d, int vector);

/* Put p into a machine's RAM and CPU as both engines start it (GDT, IDT
 * and TSS of tests/support/testvm.h, the data window, registers, paging),
 * without resetting anything else: tests/soak runs programs on a whole PC. */
void btd_load(PhysMem *phys, CPUState *cpu, const BTProgram *p);

/* Translator statistics accumulated over the runs. */
const BTStats *btd_stats(const BTDiff *d);

#endif /* TESTS_BT_BT_DIFF_H */
