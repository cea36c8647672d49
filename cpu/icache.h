/*
 * The decoded-instruction cache: decoding is most of an interpreter's cost,
 * so each decoded instruction is kept, keyed by the physical address of its
 * first byte and the code size it was decoded for.
 *
 * Staleness is handled through physical pages: decoding from a RAM page
 * marks it as a code page (PhysMem.code_pages), which makes the TLB send
 * every write to it down the slow path; a write (by the CPU or by DMA)
 * calls back here and bumps the page's generation, which retires all its
 * entries at once.  Only instructions wholly inside one RAM page are cached,
 * so one generation covers all their bytes.  The binary translator keys its
 * blocks the same way and hangs off the same callback.
 */
#ifndef CPU_ICACHE_H
#define CPU_ICACHE_H

#include <stdint.h>

#include "cpu/decode.h"

#define ICACHE_BITS     12
#define ICACHE_ENTRIES  (1u << ICACHE_BITS)
#define ICACHE_GEN_BITS 14 /* page generations, hashed: aliasing only over-invalidates */

typedef struct ICacheEntry {
    uint32_t phys;     /* physical address of the first byte; ~0 = empty */
    uint32_t key;      /* page generation << 1 | code32 */
    Insn insn;
} ICacheEntry;

typedef struct ICache {
    ICacheEntry e[ICACHE_ENTRIES];
    uint32_t page_gen[1u << ICACHE_GEN_BITS];
    uint64_t hits, misses; /* statistics (info and benchmarks) */
} ICache;

struct CPUState;
/* Empty the cache and hook the physical map's code-write callback. */
void icache_init(struct CPUState *cpu);
/* The cached decode of the instruction at phys, or NULL. */
const Insn *icache_lookup(struct CPUState *cpu, uint32_t phys, bool code32);
/* Cache insn (decoded wholly from one page) and return the cached copy; an
 * instruction outside RAM is not cached and insn itself is returned. */
const Insn *icache_insert(struct CPUState *cpu, uint32_t phys, bool code32, const Insn *insn);

#endif /* CPU_ICACHE_H */
