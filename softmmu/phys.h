/*
 * The physical address space: RAM, ROM and MMIO regions.
 *
 * RAM is one host mapping reserved with mmap(MAP_NORESERVE) so untouched guest
 * pages cost nothing.  ROM regions are host buffers that ignore writes.  MMIO
 * regions dispatch to device callbacks.  Anything else reads as all ones and
 * ignores writes, as an unclaimed PC bus does.  A guest write can only ever
 * reach the RAM mapping: every host pointer handed out is inside it or inside
 * a ROM buffer, and phys_host_ptr() refuses any range that leaves them.
 */
#ifndef SOFTMMU_PHYS_H
#define SOFTMMU_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "softmmu/pacer.h"

typedef struct MMIOOps {
    /* size is 1, 2 or 4; offset is relative to the region start. */
    uint32_t (*read)(void *opaque, uint32_t offset, int size);
    void (*write)(void *opaque, uint32_t offset, uint32_t value, int size);
} MMIOOps;

enum { PHYS_RAM = 1, PHYS_ROM, PHYS_MMIO, PHYS_VRAM };

typedef struct PhysRegion {
    uint32_t start;       /* first physical address */
    uint32_t size;        /* bytes */
    int kind;             /* PHYS_ROM, PHYS_MMIO or PHYS_VRAM (RAM is not a region) */
    int priority;         /* higher wins where regions overlap */
    uint8_t *host;        /* ROM: backing bytes (owned); VRAM: the device's buffer */
    uint8_t *dirty;       /* VRAM: one byte per 4 KiB page of the region, set by stores */
    const MMIOOps *ops;   /* MMIO: callbacks */
    void *opaque;
    bool enabled;
} PhysRegion;

#define PHYS_MAX_REGIONS 32

/*
 * Code-page write notification: whoever keeps work derived from guest code
 * (the interpreter's decoded-instruction cache, the translator's blocks,
 * the lockstep checker) registers a listener, and every write that hits a
 * page marked in code_pages (by the CPU, by DMA, by a PAM remap) calls each
 * one, after the bytes are stored.
 */
typedef void (*PhysCodeWriteFn)(void *opaque, uint32_t paddr, int size);
#define PHYS_MAX_CODE_LISTENERS 4
typedef struct PhysCodeListener {
    PhysCodeWriteFn fn;
    void *opaque;
} PhysCodeListener;

/*
 * Access observer: told of every RAM range read or written by address
 * (phys_read, phys_write, the bulk copies: device DMA, loaders, the CPU's
 * slow path), not of the TLB's direct host-pointer accesses.  The device
 * fuzzer's double-fetch check (tests/fuzz/dma_watch.c) is the one user.
 */
typedef void (*PhysAccessFn)(void *opaque, uint32_t paddr, uint32_t len, bool is_write);

/*
 * Paging-structure store notification (softmmu/tlb_ctx.c): called before a
 * store of len bytes at paddr (within one page) lands in a RAM page whose
 * pt_pages byte is nonzero, with the new bytes (src, or len copies of fill
 * when src is NULL), so the listener can compare them with the old ones.
 */
typedef void (*PhysPTWriteFn)(void *opaque, uint32_t paddr, const uint8_t *src, uint8_t fill,
                              uint32_t len);

typedef struct PhysMem {
    uint8_t *ram;          /* host mapping of guest RAM [0, ram_size) */
    uint32_t ram_size;     /* bytes of guest RAM (multiple of 4 KiB) */
    PhysRegion regions[PHYS_MAX_REGIONS];
    int nregions;
    uint8_t *code_pages;   /* one byte per RAM page: nonzero if it holds translated code */
    uint8_t *dirty_pages;  /* one byte per RAM page: set by writes (video tracking) */
    uint8_t *pt_pages;     /* one byte per RAM page: a bit per TLB context whose walks
                            * read paging structures there (softmmu/tlb_ctx.c) */
    PhysPTWriteFn pt_write; /* NULL, or told of stores to pages with a pt_pages bit */
    void *pt_write_opaque;
    PhysCodeListener code_listeners[PHYS_MAX_CODE_LISTENERS];
    int ncode_listeners;
    bool code_watch_all;   /* every RAM page stays marked as code (the lockstep
                            * checker sees every write); listeners leave marks */
    uint8_t *ram_shadowed; /* one byte per RAM page: nonzero when an enabled region covers
                            * any byte of it (kept by phys.c; see phys_ram_page) */
    PhysAccessFn access_observer; /* NULL, or told of RAM accesses (see PhysAccessFn) */
    void *access_observer_opaque;
    AccessPacer *pacer;           /* NULL, or ticked by each MMIO access (softmmu/pacer.h) */
} PhysMem;

/* Add / remove a code-page write listener (at most PHYS_MAX_CODE_LISTENERS;
 * one more is a programming error: a one-line message and exit; adding a
 * pair already there does nothing). */
void phys_add_code_listener(PhysMem *pm, PhysCodeWriteFn fn, void *opaque);
void phys_remove_code_listener(PhysMem *pm, PhysCodeWriteFn fn, void *opaque);
/* [paddr, paddr+size) changed and may hold code: tell every listener. */
void phys_code_written(PhysMem *pm, uint32_t paddr, int size);

/* Create guest RAM of ram_size bytes; returns false with errno on failure. */
bool phys_init(PhysMem *pm, uint32_t ram_size);
void phys_destroy(PhysMem *pm);

/* Map a ROM image (copied) or an MMIO window.  Later and higher-priority
 * regions shadow RAM and earlier ones. Returns the region index or -1. */
int phys_map_rom(PhysMem *pm, uint32_t start, const void *data, uint32_t size, int priority);
int phys_map_mmio(PhysMem *pm, uint32_t start, uint32_t size, const MMIOOps *ops, void *opaque,
                  int priority);
void phys_region_enable(PhysMem *pm, int region, bool enabled);
/* Move a region to a new start (a PCI BAR reprogrammed); the caller flushes
 * the TLBs as after any map change. */
void phys_region_move(PhysMem *pm, int region, uint32_t start);

/*
 * Map device memory the CPU reads and writes directly, as RAM (a video
 * card's framebuffer): host backs [start, start+size) and stays owned by
 * the device; size is a multiple of 4 KiB.  Every store sets the page's
 * byte in dirty (one per 4 KiB page of the region), so a display can
 * redraw only what changed.  Stores through the TLB fast path cannot mark
 * anything, so the MMU marks the page when it fills a WRITE entry for it,
 * as for RAM: a device that clears a dirty byte must then drop the TLB
 * entries of that page (tlb_flush_phys_page), and the next store through
 * the TLB misses and marks it again.
 */
int phys_map_vram(PhysMem *pm, uint32_t start, uint32_t size, uint8_t *host, uint8_t *dirty,
                  int priority);

/* Set the dirty byte of the page holding paddr: RAM's dirty_pages or a
 * VRAM region's own; nothing for ROM, MMIO and unclaimed addresses. */
void phys_mark_dirty(PhysMem *pm, uint32_t paddr);

/*
 * Host pointer for [paddr, paddr+len) if it lies wholly in RAM or in one ROM
 * or VRAM region, else NULL.  *writable tells whether writes may go straight
 * there (RAM and VRAM: yes, once the page is marked dirty; ROM: no).  Used
 * by the TLB fill and by DMA.
 */
uint8_t *phys_host_ptr(PhysMem *pm, uint32_t paddr, uint32_t len, bool *writable);

/*
 * Host pointer to the RAM byte at paddr when its whole 4 KiB page is plain
 * RAM (inside [0, ram_size) and shadowed by no enabled region), else NULL.
 * The one-compare test behind the page walker and the RAM fast paths; the
 * caller must stay inside the page.
 */
static inline uint8_t *phys_ram_page(const PhysMem *pm, uint32_t paddr)
{
    if (paddr < pm->ram_size && !pm->ram_shadowed[paddr >> 12]) {
        return pm->ram + paddr;
    }
    return NULL;
}

/* Slow-path accesses by physical address (size 1, 2, 4; little endian; any
 * alignment).  Writes to code pages call the code write hook. */
uint32_t phys_read(PhysMem *pm, uint32_t paddr, int size);
void phys_write(PhysMem *pm, uint32_t paddr, uint32_t value, int size);

/* Bulk copies for loaders and DMA; they honour ROM and MMIO like the CPU. */
void phys_read_buf(PhysMem *pm, uint32_t paddr, void *buf, uint32_t len);
void phys_write_buf(PhysMem *pm, uint32_t paddr, const void *buf, uint32_t len);
/* Store len copies of byte from paddr on, as phys_write_buf would; a span
 * of unmapped space costs one step (a device told to clear 4 GiB). */
void phys_fill(PhysMem *pm, uint32_t paddr, uint8_t byte, uint32_t len);

/* Loaders may write into ROM (firmware images): this one ignores read-only. */
void phys_load(PhysMem *pm, uint32_t paddr, const void *buf, uint32_t len);

#endif /* SOFTMMU_PHYS_H */
