/*
 * Debugger access to guest memory: see debugmem.h.
 */
#include "frontend/debugmem.h"
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define DEBUGMEM_PAGE 0x1000u

/* How many bytes from addr to the end of its page, at most len. */
static uint32_t debugmem_chunk(uint64_t addr, uint32_t len)
{
    uint32_t room = DEBUGMEM_PAGE - (addr & (DEBUGMEM_PAGE - 1));
    return room < len ? room : len;
}

uint32_t debugmem_read_phys(CPUState *cpu, uint32_t paddr, uint8_t *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len && (uint64_t)paddr + done < 0x100000000ull) {
        uint32_t chunk = debugmem_chunk(paddr + done, len - done);
        bool writable;
        /* phys_host_ptr() answers for RAM and ROM only. */
        const uint8_t *host = phys_host_ptr(cpu->phys, paddr + done, chunk, &writable);
        if (!host) {
            break;
        }
        for (uint32_t i = 0; i < chunk; i++) {
            buf[done + i] = host[i];
        }
        done += chunk;
    }
    return done;
}

/* Linear addresses are 64-bit in 64-bit mode and wrap at 4 GiB outside it
 * (cpu/mem.h lin_next). */
uint32_t debugmem_read_lin(CPUState *cpu, uint64_t lin, uint8_t *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        uint64_t at = lin_next(cpu, lin, done);
        uint32_t chunk = debugmem_chunk(at, len - done);
        uint32_t paddr;
        if (!mmu_debug_translate(cpu, at, &paddr)) {
            break;
        }
        uint32_t got = debugmem_read_phys(cpu, paddr, buf + done, chunk);
        done += got;
        if (got < chunk) {
            break;
        }
    }
    return done;
}

uint32_t debugmem_write_lin(CPUState *cpu, uint64_t lin, const uint8_t *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        uint64_t at = lin_next(cpu, lin, done);
        uint32_t chunk = debugmem_chunk(at, len - done);
        uint32_t paddr;
        bool writable = false;
        if (!mmu_debug_translate(cpu, at, &paddr) ||
            !phys_host_ptr(cpu->phys, paddr, chunk, &writable) || !writable) {
            break;
        }
        phys_write_buf(cpu->phys, paddr, buf + done, chunk);
        done += chunk;
    }
    return done;
}
