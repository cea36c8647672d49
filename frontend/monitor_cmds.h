/*
 * The monitor's inspection commands (frontend/monitor_cmds.c), apart from
 * its consoles and dispatch (frontend/monitor.c): registers, page tables,
 * memory dumps and address expressions.
 */
#ifndef FRONTEND_MONITOR_CMDS_H
#define FRONTEND_MONITOR_CMDS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"

/* A growing string: command output. */
typedef struct MonBuf {
    char *data; /* NUL-terminated once anything was printed; NULL before */
    size_t len;
    size_t cap;
} MonBuf;

void monbuf_printf(MonBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* info registers / info tlb / info mem */
void moncmd_info_registers(MonBuf *out, CPUState *cpu);
void moncmd_info_tlb(MonBuf *out, CPUState *cpu);
void moncmd_info_mem(MonBuf *out, CPUState *cpu);

/* info jit: the translator's counters (QEMU's name for the command). */
void moncmd_info_jit(MonBuf *out, CPUState *cpu);

/* x/FMT ADDR (physical = false) and xp/FMT ADDR; fmt is what follows the
 * slash ("" for none), expr the address expression.  cs_handle: an open
 * capstone handle (csh) for the i format. */
void moncmd_dump(MonBuf *out, CPUState *cpu, size_t cs_handle, bool physical, const char *fmt,
                 const char *expr);

/* An address expression: numbers (C syntax: 0x10, 16; up to 64 bits),
 * $registers ($eax, $eip, $cr3, ...; $rax..$r15, $rip for a 64-bit guest;
 * $pc is CS.base + RIP), joined by + and -, in 64-bit arithmetic.  False
 * on a syntax error. */
bool moncmd_eval(CPUState *cpu, const char *expr, uint64_t *value);

#endif /* FRONTEND_MONITOR_CMDS_H */
