/*
 * Execution traces in QEMU's -d style: categories, an output file (-D), an
 * address filter (-dfilter) and a window: from an instruction count
 * (-dstart) or from the first time EIP reaches an address (-dtrigger), for
 * a number of instructions (-dcount).
 */
#ifndef FRONTEND_TRACE_H
#define FRONTEND_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/state.h"

#define TRACE_EXEC         0x01u  /* each executed instruction, disassembled */
#define TRACE_CPU          0x02u  /* registers before each traced instruction */
#define TRACE_CPU_DELTA    0x04u  /* with cpu: only registers that changed */
#define TRACE_INT          0x08u  /* interrupts and exceptions */
#define TRACE_IOPORT       0x10u  /* port accesses */
#define TRACE_GUEST_ERRORS 0x20u  /* guest misbehaviour the machine noticed */
#define TRACE_ATT          0x40u  /* AT&T syntax instead of Intel */
#define TRACE_IN_ASM       0x80u  /* guest code the first time it runs */
#define TRACE_MMU          0x100u /* page faults */
#define TRACE_OUT_ASM      0x200u /* host code of each translated block */

typedef struct TraceRange {
    uint64_t lo, hi; /* inclusive linear address range (64-bit in long mode) */
} TraceRange;

/* Instructions already shown by in_asm, keyed by physical address, code
 * size and a hash of the bytes (so code rewritten in place shows again). */
typedef struct TraceSeen {
    uint64_t *keys; /* open addressing; TRACE_SEEN_EMPTY marks a free slot */
    size_t mask;    /* capacity - 1 (capacity is a power of two) */
    size_t used;
} TraceSeen;

typedef struct Trace {
    unsigned categories;  /* TRACE_* */
    FILE *out;            /* -D file, or stderr */
    CPUState *cpu;        /* the traced CPU (for the window of port and interrupt events) */
    TraceRange ranges[8]; /* -dfilter ranges; none = everything */
    int nranges;
    uint64_t start_insn;  /* -dstart: the window opens at this instruction count */
    uint64_t max_insns;   /* -dcount: it stays open for this many instructions (0 = forever) */
    bool has_trigger;     /* -dtrigger given */
    uint64_t trigger;     /* ... the window opens when CS.base + RIP first equals this */
    bool open;            /* the window has opened */
    uint64_t open_icount; /* the instruction count when it did */
    uint64_t traced;      /* instructions traced so far */
    uint64_t prev_regs[CPU_NB_REGS]; /* for cpu,delta: RAX..R15 (EAX..EDI outside long mode) */
    uint32_t prev_eflags;
    size_t cs_handle; /* capstone handle (csh) */
    bool cs_open;
    TraceSeen seen;      /* in_asm */
    bool in_block;       /* the previous instruction was printed by in_asm */
    uint64_t block_next; /* ... and this is the linear address after it */
} Trace;

/* Parse "-d" categories ("exec,cpu,int", "help"); returns false on an unknown name. */
bool trace_parse_categories(Trace *t, const char *list, char *bad, size_t badlen);
/* Parse a -dfilter list: "0xc0100000..0xc0200000,0x7c00+0x200"; addresses
 * are 64-bit (a long-mode kernel's 0xffffffff81000000..). */
bool trace_parse_filter(Trace *t, const char *list);
/* The window: opens at instruction start (and, with a trigger, at the
 * first instruction at linear address trigger after that), closes after
 * count instructions (0: never). */
void trace_set_window(Trace *t, uint64_t start, uint64_t count, bool has_trigger, uint64_t trigger);
/* Open the output and the disassembler; install hooks on the CPU. */
bool trace_start(Trace *t, CPUState *cpu, const char *path);
void trace_stop(Trace *t);
/* The port observer (softmmu/ioport.h) for -d ioport. */
void trace_ioport(void *opaque, uint16_t port, uint32_t value, int size, int is_write);

#endif /* FRONTEND_TRACE_H */
