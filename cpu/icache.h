/*
 * The decoded-instruction cache: decoding is most of an interpreter's cost,
 * so each decoded instruction is kept, keyed by the physical address of its
 * first byte and the decoder mode it was decoded in (16-, 32- or 64-bit
 * code: the same bytes are different instructions in each).
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
    uint32_t key;      /* page generation << 2 | enum DecodeMode */
    Insn insn;
} ICacheEntry;

typedef struct ICache {
    ICacheEntry e[ICACHE_ENTRIES];
    uint32_t page_gen[1u << ICACHE_GEN_BITS];
} ICache;

struct CPUState;
/* Empty the cache and hook the physical map's code-write callback. */
void icache_init(struct CPUState *cpu);
static inline uint32_t icache_index(uint32_t phys)
{
    return (phys ^ (phys >> ICACHE_BITS)) & (ICACHE_ENTRIES - 1);
}

static inline uint32_t *icache_page_gen(ICache *ic, uint32_t phys)
{
    return &ic->page_gen[(phys >> 12) & ((1u << ICACHE_GEN_BITS) - 1)];
}

/* The cached decode of the instruction at phys, or NULL. */
static inline const Insn *icache_lookup(ICache *ic, uint32_t phys, enum DecodeMode mode)
{
    ICacheEntry *e = &ic->e[icache_index(phys)];
    if (e->phys == phys && e->key == ((*icache_page_gen(ic, phys) << 2) | (uint32_t)mode)) {
        return &e->insn;
    }
    return NULL;
}
/* Cache insn (decoded wholly from one page) and return the cached copy; an
 * instruction outside RAM is not cached and insn itself is returned. */
const Insn *icache_insert(struct CPUState *cpu, uint32_t phys, enum DecodeMode mode,
                          const Insn *insn);

#endif /* CPU_ICACHE_H */
