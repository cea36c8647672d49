/*
 * Guest memory as a debugger sees it (gdb stub, monitor): linear addresses
 * go through the current page tables with mmu_debug_translate (no fault, no
 * Accessed/Dirty update), and only RAM and ROM are touched, never MMIO, so
 * looking at memory cannot disturb a device.  Writes reach RAM only, through
 * phys_write() so cached decoded instructions of the page are dropped.
 */
#ifndef FRONTEND_DEBUGMEM_H
#define FRONTEND_DEBUGMEM_H

#include <stdint.h>

#include "cpu/state.h"

/* Each returns how many bytes it transferred before the first one it could
 * not (an unmapped page, MMIO or the unclaimed bus, ROM for writes). */
uint32_t debugmem_read_phys(CPUState *cpu, uint32_t paddr, uint8_t *buf, uint32_t len);
uint32_t debugmem_read_lin(CPUState *cpu, uint64_t lin, uint8_t *buf, uint32_t len);
uint32_t debugmem_write_lin(CPUState *cpu, uint64_t lin, const uint8_t *buf, uint32_t len);

#endif /* FRONTEND_DEBUGMEM_H */
