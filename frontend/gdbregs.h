/*
 * The registers the gdb stub shows: gdb's i386 core feature (general,
 * segment and x87 registers, in the order of the 'g' packet) and popek's
 * own feature for the system registers (CR0-CR4, DR0-DR7, GDTR, IDTR, LDTR,
 * TR), and the target description that names them for gdb.
 */
#ifndef FRONTEND_GDBREGS_H
#define FRONTEND_GDBREGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/state.h"

#define GDB_REG_MAX_BYTES 10 /* an x87 register */

/* The target description (qXfer:features:read:target.xml). */
extern const char gdbregs_target_xml[];

/* Number of registers, and the size in bytes of register n (0: none). */
int gdbregs_count(void);
int gdbregs_size(int n);
/* Register n as gdb wants it (little endian); returns its size, 0 for none. */
int gdbregs_read(CPUState *cpu, int n, uint8_t *buf);
/* Write register n from gdbregs_size(n) bytes; false if the value is
 * refused (a selector with no usable descriptor, a CR0 the CPU rejects). */
bool gdbregs_write(CPUState *cpu, int n, const uint8_t *buf);

#endif /* FRONTEND_GDBREGS_H */
