/*
 * Execution traces in QEMU's -d style: categories, an output file (-D), an
 * address filter (-dfilter) and an instruction-count window.
 */
#ifndef FRONTEND_TRACE_H
#define FRONTEND_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/state.h"

#define TRACE_EXEC         0x01u /* each executed instruction, disassembled */
#define TRACE_CPU          0x02u /* registers after each traced instruction */
#define TRACE_CPU_DELTA    0x04u /* with cpu: only registers that changed */
#define TRACE_INT          0x08u /* interrupts and exceptions */
#define TRACE_IOPORT       0x10u /* port accesses */
#define TRACE_GUEST_ERRORS 0x20u /* guest misbehaviour the machine noticed */
#define TRACE_ATT          0x40u /* AT&T syntax instead of Intel */

typedef struct TraceRange {
    uint32_t lo, hi;      /* inclusive linear address range */
} TraceRange;

typedef struct Trace {
    unsigned categories;  /* TRACE_* */
    FILE *out;            /* -D file, or stderr */
    TraceRange ranges[8]; /* -dfilter ranges; none = everything */
    int nranges;
    uint64_t start_insn;  /* trace from this instruction count on */
    uint64_t max_insns;   /* stop after this many traced instructions (0 = no limit) */
    uint64_t traced;      /* instructions traced so far */
    uint32_t prev_regs[8];/* for cpu,delta */
    uint32_t prev_eflags;
    size_t cs_handle;     /* capstone handle (csh) */
    bool cs_open;
} Trace;

/* Parse "-d" categories ("exec,cpu,int", "help"); returns false on an unknown name. */
bool trace_parse_categories(Trace *t, const char *list, char *bad, size_t badlen);
/* Parse a -dfilter list: "0xc0100000..0xc0200000,0x7c00+0x200". */
bool trace_parse_filter(Trace *t, const char *list);
/* Open the output and the disassembler; install hooks on the CPU. */
bool trace_start(Trace *t, CPUState *cpu, const char *path);
void trace_stop(Trace *t);
/* The port observer (softmmu/ioport.h) for -d ioport. */
void trace_ioport(void *opaque, uint16_t port, uint32_t value, int size, int is_write);

#endif /* FRONTEND_TRACE_H */
