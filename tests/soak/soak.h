/*
 * The hostile-code soak: random and mutated guest code on a whole PC.
 *
 * A program starts from one of tests/bt's random programs (bt_gen.h: ring
 * 0 or 3, paging on or off, self-modifying stores), which is then made
 * hostile: bytes flipped, whole programs of random bytes, and snippets
 * written over instruction starts that reach for the dangerous parts of
 * the machine: every I/O port with every access size (string forms too),
 * PCI configuration and BAR moves, MMIO (local and I/O APIC, VGA, beyond
 * RAM), far jumps and calls to random selectors, task switches into
 * garbage TSSes, INT n through a garbage IDT, LIDT/LTR/LLDT of garbage,
 * control registers, MSRs, POPF of random flags, STI;HLT so device
 * interrupts arrive through whatever the tables say, and stores into the
 * code itself.  The GDT gets eight more entries of garbage (most of them
 * TSS descriptors and gates with random bases and limits), the IDT may get
 * some, and ring-3 programs sometimes run with IOPL 3 so their port
 * accesses reach the devices.
 *
 * The machine is the real board (hw/pc: every device popek builds, two
 * NICs without a cable, an empty CD-ROM drive), reset between programs,
 * on deterministic time; a program ends when its instruction budget runs
 * out or the machine resets, powers off or triple-faults.  Nothing is
 * compared: what is checked is that the host survives (no crash, no
 * abort, no sanitizer report) and that the machine stays usable.
 */
#ifndef TESTS_SOAK_SOAK_H
#define TESTS_SOAK_SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pc/pc.h"
#include "tests/bt/bt_gen.h"

/* Extra GDT entries of garbage: selectors 0x40-0x78. */
#define SOAK_GDT_GARBAGE_FIRST 8
#define SOAK_GDT_GARBAGE_COUNT 8

typedef struct SoakProgram {
    BTProgram bt; /* code, registers, ring, paging (bt_gen.h) */
    uint64_t gdt_garbage[SOAK_GDT_GARBAGE_COUNT];
    int idt_garbage;   /* IDT gates overwritten ... */
    uint64_t idt_seed; /* ... with garbage from this seed */
    bool iopl3;        /* EFLAGS.IOPL = 3 (ring 3 may use ports) */
    int32_t reenter;   /* >= 0: every exception stub jumps back into the code at
                        * this offset instead of halting (frames pile up and the
                        * stack runs down over the tables); -1: stubs halt */
    const char *kind;  /* how it was made, for listings */
} SoakProgram;

/* Program index of seed: the same on every machine. */
void soak_generate(SoakProgram *sp, uint64_t seed, uint64_t index);

typedef struct SoakStats {
    uint64_t programs;
    uint64_t insns;
    uint64_t budget_out; /* ran until the budget ended it */
    uint64_t time_out;   /* ran out of host time first (slow REP elements) */
    uint64_t resets;     /* triple fault, i8042 or port 92h/CF9 reset */
    uint64_t exits;      /* powered off (ACPI) */
} SoakStats;

typedef struct SoakMachine SoakMachine;

/* A PC for soaking on the given engine; NULL with the reason in err. */
SoakMachine *soak_new(enum Accel accel, char *err, size_t errlen);
void soak_free(SoakMachine *m);
/* Reset the machine, load sp and run it for up to budget instructions. */
void soak_run(SoakMachine *m, const SoakProgram *sp, uint64_t budget);
const SoakStats *soak_stats(const SoakMachine *m);

#endif /* TESTS_SOAK_SOAK_H */
