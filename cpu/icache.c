/*
 * Decoded-instruction cache (see cpu/icache.h for the invalidation rules).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/icache.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

/* A write hit a code page: retire its decoded instructions and let the
 * page take fast writes again until code is decoded from it once more. */
static void icache_code_written(void *opaque, uint32_t paddr, int size)
{
    CPUState *cpu = opaque;
    PhysMem *pm = cpu->phys;
    uint32_t first = paddr >> 12, last = (paddr + (uint32_t)size - 1) >> 12;
    for (uint32_t page = first; page <= last; page++) {
        (*icache_page_gen(&cpu->icache, page << 12))++;
        if (page < pm->ram_size >> 12 && pm->code_pages[page] && !pm->code_watch_all) {
            pm->code_pages[page] = 0;
            tlb_flush_phys_page(cpu, page << 12);
        }
    }
}

void icache_init(CPUState *cpu)
{
    ICache *ic = &cpu->icache;
    for (uint32_t i = 0; i < ICACHE_ENTRIES; i++) {
        ic->e[i].phys = ~0u;
    }
    if (cpu->phys) {
        phys_add_code_listener(cpu->phys, icache_code_written, cpu);
    }
}

const Insn *icache_insert(CPUState *cpu, uint32_t phys, enum DecodeMode mode, const Insn *insn)
{
    PhysMem *pm = cpu->phys;
    uint32_t page = phys >> 12;
    if (page >= pm->ram_size >> 12) {
        return insn; /* ROM or MMIO: not tracked, not cached */
    }
    if (!pm->code_pages[page]) {
        pm->code_pages[page] = 1;
        tlb_flush_phys_page(cpu, phys); /* refill write tags with TLB_CODE */
    }
    ICache *ic = &cpu->icache;
    ICacheEntry *e = &ic->e[icache_index(phys)];
    e->phys = phys;
    e->key = (*icache_page_gen(ic, phys) << 2) | (uint32_t)mode;
    e->insn = *insn;
    return &e->insn;
}
