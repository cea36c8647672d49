/*
 * A bare CPU with RAM for tests, fuzzers and benchmarks: no devices, no
 * firmware.  Sets up real mode (after reset) or flat 32-bit protected mode
 * with a GDT, an IDT whose gates all lead to a HLT stub, and a TSS.
 */
#ifndef TESTS_SUPPORT_TESTVM_H
#define TESTS_SUPPORT_TESTVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

/* Physical layout used by testvm_flat32 (all below 64 KiB). */
#define TESTVM_GDT      0x0800u /* 8 descriptors */
#define TESTVM_IDT      0x1000u /* 256 gates */
#define TESTVM_TSS      0x1800u /* 104-byte 32-bit TSS */
#define TESTVM_HANDLERS 0x2000u /* per-vector stubs: record the vector, HLT */
#define TESTVM_STACK0   0x7000u /* ring-0 stack top */
#define TESTVM_CODE     0x10000u /* where tests usually put code */

/* GDT selectors. */
#define TESTVM_SEL_CODE0 0x08
#define TESTVM_SEL_DATA0 0x10
#define TESTVM_SEL_CODE3 0x1b
#define TESTVM_SEL_DATA3 0x23
#define TESTVM_SEL_TSS   0x28

/* The exception stubs store the vector here (and its error code after it). */
#define TESTVM_LAST_VECTOR 0x0700u

typedef struct TestVM {
    PhysMem phys;
    IOPortMap io;
    CPUState cpu;
} TestVM;

TestVM *testvm_new(uint32_t ram_bytes);
void testvm_free(TestVM *vm);
/* Flat 4 GiB segments at the given CPL (0 or 3), paging off, EIP = entry. */
void testvm_flat32(TestVM *vm, int cpl, uint32_t entry);
/* The same on any machine's RAM and CPU (a whole PC in tests/soak). */
void testvm_flat32_on(PhysMem *phys, CPUState *cpu, int cpl, uint32_t entry);
/* Paging on, from testvm_flat32's state: the first 4 MiB identity-mapped
 * by 4 KiB pages (the page directory at TESTVM_PD, its one table at
 * TESTVM_PT), present, writable and user, but the page at `unmapped` not
 * present and the one at `readonly` read-only (TESTVM_NO_PAGE for none);
 * CR0.WP, so CPL 0 honours read-only too. */
#define TESTVM_PD      0x100000u
#define TESTVM_PT      0x101000u
#define TESTVM_NO_PAGE 0xffffffffu
void testvm_paged32(TestVM *vm, uint32_t unmapped, uint32_t readonly);
/* Long mode set up directly, from testvm_flat32's state (SDM Vol.3 9.8.5
 * says how software gets there): the first 4 MiB identity-mapped by 2 MiB
 * pages in 4-level tables at TESTVM_PML4 (five pages), CR4.PAE,
 * EFER.LME|LMA, CR0.PG; with code64 CS.L (64-bit mode), else
 * compatibility mode.  Gates and TSS stay 32-bit. */
#define TESTVM_PML4 0x100000u
#define TESTVM_HIGH 0xffffffff80000000ull /* the first 2 MiB again, as a kernel maps itself */
void testvm_long_mode(TestVM *vm, bool code64);
void testvm_load(TestVM *vm, uint32_t paddr, const void *bytes, size_t len);
/* Run up to max_insns; returns the cpu_exec exit reason. */
int testvm_run(TestVM *vm, uint64_t max_insns);
/* The vector the stubs recorded, or -1 if no exception reached a stub. */
int testvm_last_vector(TestVM *vm);

#endif /* TESTS_SUPPORT_TESTVM_H */
