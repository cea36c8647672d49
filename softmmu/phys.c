/*
 * The physical address space (see phys.h).
 *
 * RAM sits at the bottom of the map, beneath every region: an enabled ROM or
 * MMIO region always shadows the RAM it overlaps (the VGA window at 0xA0000,
 * the BIOS at 0xF0000), and among overlapping regions the higher priority
 * wins, the later-mapped one on a tie.  Disabling a region (PAM shadowing,
 * a BAR being moved) exposes whatever lies beneath it again.
 *
 * The RAM fast path must stay one compare, so the map keeps a byte per RAM
 * page saying whether any region covers part of it (ram_shadowed); that table
 * is rebuilt whenever the map changes.  Everything else resolves an address
 * by scanning the few regions, which also yields how far from that address
 * the same mapping continues (a "run"): an access that fits in its run is
 * dispatched whole, one that straddles a run boundary is split into bytes,
 * each resolved on its own, as a bus cycle split between two decoders is.
 *
 * VRAM regions (a framebuffer in a PCI BAR) are device buffers the CPU
 * reads and writes like RAM, each with its own dirty byte per page; stores
 * here mark them, and the MMU marks a page when it hands out a writable TLB
 * entry for it (see phys_map_vram in phys.h for the protocol).
 *
 * Writers of the map (ROM/MMIO mapping, enabling) must flush the CPU TLBs
 * afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "softmmu/phys.h"

#define PHYS_PAGE_SIZE  4096u
#define PHYS_PAGE_SHIFT 12
#define PHYS_SPACE_END  0x100000000ull

bool phys_init(PhysMem *pm, uint32_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    if (ram_size == 0 || (ram_size & (PHYS_PAGE_SIZE - 1)) != 0) {
        errno = EINVAL;
        return false;
    }
    /* MAP_NORESERVE: the kernel commits a host page only when the guest first
     * writes it, so a 2 GiB guest that touches 64 MiB costs 64 MiB. */
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        return false;
    }
    uint32_t npages = ram_size >> PHYS_PAGE_SHIFT;
    pm->ram = ram;
    pm->ram_size = ram_size;
    pm->code_pages = calloc(npages, 1);
    pm->dirty_pages = calloc(npages, 1);
    pm->pt_pages = calloc(npages, 1);
    pm->ram_shadowed = calloc(npages, 1);
    if (!pm->code_pages || !pm->dirty_pages || !pm->pt_pages || !pm->ram_shadowed) {
        phys_destroy(pm);
        errno = ENOMEM;
        return false;
    }
    return true;
}

void phys_destroy(PhysMem *pm)
{
    if (pm->ram) {
        munmap(pm->ram, pm->ram_size);
    }
    for (int i = 0; i < pm->nregions; i++) {
        if (pm->regions[i].kind == PHYS_ROM) {
            free(pm->regions[i].host);
        }
    }
    free(pm->code_pages);
    free(pm->dirty_pages);
    free(pm->pt_pages);
    free(pm->ram_shadowed);
    memset(pm, 0, sizeof(*pm));
}

/* ---- the map ---- */

/* Recompute ram_shadowed from the enabled regions. */
static void phys_rebuild_shadow(PhysMem *pm)
{
    memset(pm->ram_shadowed, 0, pm->ram_size >> PHYS_PAGE_SHIFT);
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        if (!r->enabled || r->start >= pm->ram_size) {
            continue;
        }
        uint64_t end = (uint64_t)r->start + r->size;
        if (end > pm->ram_size) {
            end = pm->ram_size;
        }
        uint32_t first = r->start >> PHYS_PAGE_SHIFT;
        uint32_t last = (uint32_t)((end - 1) >> PHYS_PAGE_SHIFT);
        memset(pm->ram_shadowed + first, 1, last - first + 1);
    }
}

static int phys_add_region(PhysMem *pm, const PhysRegion *proto)
{
    if (pm->nregions >= PHYS_MAX_REGIONS || proto->size == 0 ||
        (uint64_t)proto->start + proto->size > PHYS_SPACE_END) {
        return -1;
    }
    int index = pm->nregions++;
    pm->regions[index] = *proto;
    pm->regions[index].enabled = true;
    phys_rebuild_shadow(pm);
    return index;
}

int phys_map_rom(PhysMem *pm, uint32_t start, const void *data, uint32_t size, int priority)
{
    if (size == 0) {
        return -1;
    }
    uint8_t *copy = malloc(size);
    if (!copy) {
        return -1;
    }
    if (data) {
        memcpy(copy, data, size);
    } else {
        memset(copy, 0xff, size);
    }
    PhysRegion r = {
        .start = start,
        .size = size,
        .kind = PHYS_ROM,
        .priority = priority,
        .host = copy,
    };
    int index = phys_add_region(pm, &r);
    if (index < 0) {
        free(copy);
    }
    return index;
}

int phys_map_mmio(PhysMem *pm, uint32_t start, uint32_t size, const MMIOOps *ops, void *opaque,
                  int priority)
{
    PhysRegion r = {
        .start = start,
        .size = size,
        .kind = PHYS_MMIO,
        .priority = priority,
        .ops = ops,
        .opaque = opaque,
    };
    return phys_add_region(pm, &r);
}

int phys_map_vram(PhysMem *pm, uint32_t start, uint32_t size, uint8_t *host, uint8_t *dirty,
                  int priority)
{
    if (!host || !dirty || (size & (PHYS_PAGE_SIZE - 1)) != 0) {
        return -1;
    }
    PhysRegion r = {
        .start = start,
        .size = size,
        .kind = PHYS_VRAM,
        .priority = priority,
        .host = host,
        .dirty = dirty,
    };
    return phys_add_region(pm, &r);
}

void phys_region_move(PhysMem *pm, int region, uint32_t start)
{
    if (region < 0 || region >= pm->nregions || pm->regions[region].start == start ||
        (uint64_t)start + pm->regions[region].size > PHYS_SPACE_END) {
        return;
    }
    pm->regions[region].start = start;
    phys_rebuild_shadow(pm);
}

void phys_region_enable(PhysMem *pm, int region, bool enabled)
{
    if (region < 0 || region >= pm->nregions || pm->regions[region].enabled == enabled) {
        return;
    }
    pm->regions[region].enabled = enabled;
    phys_rebuild_shadow(pm);
}

/* Whether region a shadows region b (b < 0: RAM or the empty bus). */
static bool phys_outranks(const PhysMem *pm, int a, int b)
{
    if (b < 0) {
        return true;
    }
    int pa = pm->regions[a].priority, pb = pm->regions[b].priority;
    return pa > pb || (pa == pb && a > b);
}

/*
 * Which region paddr goes to (-1: RAM below ram_size, else nothing), and in
 * *run_end the first address past paddr where that may change: the end of
 * the winner, cut short by any region starting later that would shadow it.
 */
static int phys_resolve(const PhysMem *pm, uint32_t paddr, uint64_t *run_end)
{
    int best = -1;
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        if (r->enabled && paddr - r->start < r->size && phys_outranks(pm, i, best)) {
            best = i;
        }
    }
    uint64_t end;
    if (best >= 0) {
        end = (uint64_t)pm->regions[best].start + pm->regions[best].size;
    } else {
        end = paddr < pm->ram_size ? pm->ram_size : PHYS_SPACE_END;
    }
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        if (r->enabled && r->start > paddr && r->start < end && phys_outranks(pm, i, best)) {
            end = r->start;
        }
    }
    *run_end = end;
    return best;
}

uint8_t *phys_host_ptr(PhysMem *pm, uint32_t paddr, uint32_t len, bool *writable)
{
    uint64_t last = (uint64_t)paddr + (len ? len : 1);
    if (last > PHYS_SPACE_END) {
        return NULL;
    }
    uint8_t *ram = phys_ram_page(pm, paddr);
    if (ram && (paddr & (PHYS_PAGE_SIZE - 1)) + len <= PHYS_PAGE_SIZE) {
        *writable = true;
        return ram;
    }
    uint64_t run_end;
    int region = phys_resolve(pm, paddr, &run_end);
    if (last > run_end) {
        return NULL;
    }
    if (region < 0) {
        if (paddr >= pm->ram_size) {
            return NULL;
        }
        *writable = true;
        return pm->ram + paddr;
    }
    const PhysRegion *r = &pm->regions[region];
    if (r->kind == PHYS_MMIO) {
        return NULL;
    }
    *writable = r->kind == PHYS_VRAM;
    return r->host + (paddr - r->start);
}

/* Mark the pages of [offset, offset+len) of a VRAM region dirty. */
static void phys_vram_mark(const PhysRegion *r, uint32_t offset, uint32_t len)
{
    uint32_t first = offset >> PHYS_PAGE_SHIFT;
    uint32_t last = (offset + (len ? len : 1) - 1) >> PHYS_PAGE_SHIFT;
    for (uint32_t page = first; page <= last; page++) {
        r->dirty[page] = 1;
    }
}

void phys_mark_dirty(PhysMem *pm, uint32_t paddr)
{
    if (phys_ram_page(pm, paddr)) {
        pm->dirty_pages[paddr >> PHYS_PAGE_SHIFT] = 1;
        return;
    }
    uint64_t run_end;
    int region = phys_resolve(pm, paddr, &run_end);
    if (region < 0 && paddr < pm->ram_size) {
        pm->dirty_pages[paddr >> PHYS_PAGE_SHIFT] = 1;
    } else if (region >= 0 && pm->regions[region].kind == PHYS_VRAM) {
        phys_vram_mark(&pm->regions[region], paddr - pm->regions[region].start, 1);
    }
}

/* ---- RAM stores: every one marks the page dirty and reports code pages ---- */

void phys_add_code_listener(PhysMem *pm, PhysCodeWriteFn fn, void *opaque)
{
    for (int i = 0; i < pm->ncode_listeners; i++) {
        if (pm->code_listeners[i].fn == fn && pm->code_listeners[i].opaque == opaque) {
            return; /* already listening (a CPU initialised again on the same memory) */
        }
    }
    if (pm->ncode_listeners == PHYS_MAX_CODE_LISTENERS) {
        fprintf(stderr, "popek: internal error: more than %d code-write listeners\n",
                PHYS_MAX_CODE_LISTENERS);
        exit(1);
    }
    pm->code_listeners[pm->ncode_listeners++] = (PhysCodeListener){fn, opaque};
}

void phys_remove_code_listener(PhysMem *pm, PhysCodeWriteFn fn, void *opaque)
{
    for (int i = 0; i < pm->ncode_listeners; i++) {
        if (pm->code_listeners[i].fn == fn && pm->code_listeners[i].opaque == opaque) {
            pm->code_listeners[i] = pm->code_listeners[--pm->ncode_listeners];
            return;
        }
    }
}

void phys_code_written(PhysMem *pm, uint32_t paddr, int size)
{
    for (int i = 0; i < pm->ncode_listeners; i++) {
        pm->code_listeners[i].fn(pm->code_listeners[i].opaque, paddr, size);
    }
}

/* Tell the access observer (if any) of a RAM range read or written. */
static inline void phys_observe(PhysMem *pm, uint32_t paddr, uint32_t len, bool is_write)
{
    if (pm->access_observer) {
        pm->access_observer(pm->access_observer_opaque, paddr, len, is_write);
    }
}

/* Store len bytes at paddr in RAM: from src, or (src NULL) the byte fill. */
static void phys_ram_store(PhysMem *pm, uint32_t paddr, const void *src, uint8_t fill, uint32_t len)
{
    if (pm->pt_write) {
        /* Before the store: the listener compares old entries with new. */
        for (uint32_t done = 0; done < len;) {
            uint32_t at = paddr + done;
            uint32_t chunk = PHYS_PAGE_SIZE - (at & (PHYS_PAGE_SIZE - 1));
            if (chunk > len - done) {
                chunk = len - done;
            }
            if (pm->pt_pages[at >> PHYS_PAGE_SHIFT]) {
                pm->pt_write(pm->pt_write_opaque, at, src ? (const uint8_t *)src + done : NULL,
                             fill, chunk);
            }
            done += chunk;
        }
    }
    if (src) {
        memcpy(pm->ram + paddr, src, len);
    } else {
        memset(pm->ram + paddr, fill, len);
    }
    phys_observe(pm, paddr, len, true);
    while (len > 0) {
        uint32_t page = paddr >> PHYS_PAGE_SHIFT;
        uint32_t chunk = PHYS_PAGE_SIZE - (paddr & (PHYS_PAGE_SIZE - 1));
        if (chunk > len) {
            chunk = len;
        }
        pm->dirty_pages[page] = 1;
        /* After the store, so a hook that re-translates sees the new bytes. */
        if (pm->code_pages[page]) {
            phys_code_written(pm, paddr, (int)chunk);
        }
        paddr += chunk;
        len -= chunk;
    }
}

/* ---- single accesses ---- */

static uint32_t phys_ones(int size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t phys_load_le(const uint8_t *p, int size)
{
    uint32_t v = 0;
    memcpy(&v, p, (size_t)size);
    return v;
}

/* An access wholly inside one run whose mapping is region (or -1). */
static uint32_t phys_read_run(PhysMem *pm, int region, uint32_t paddr, int size)
{
    if (region < 0) {
        if (paddr >= pm->ram_size) {
            return phys_ones(size);
        }
        phys_observe(pm, paddr, (uint32_t)size, false);
        return phys_load_le(pm->ram + paddr, size);
    }
    const PhysRegion *r = &pm->regions[region];
    uint32_t offset = paddr - r->start;
    if (r->kind != PHYS_MMIO) {
        return phys_load_le(r->host + offset, size);
    }
    if (!r->ops->read) {
        return phys_ones(size);
    }
    pacer_tick(pm->pacer);
    return r->ops->read(r->opaque, offset, size) & phys_ones(size);
}

static void phys_write_run(PhysMem *pm, int region, uint32_t paddr, uint32_t value, int size)
{
    if (region < 0) {
        if (paddr < pm->ram_size) {
            phys_ram_store(pm, paddr, &value, 0, (uint32_t)size);
        }
        return;
    }
    const PhysRegion *r = &pm->regions[region];
    if (r->kind == PHYS_VRAM) {
        memcpy(r->host + (paddr - r->start), &value, (size_t)size);
        phys_vram_mark(r, paddr - r->start, (uint32_t)size);
    } else if (r->kind == PHYS_MMIO && r->ops->write) {
        pacer_tick(pm->pacer);
        r->ops->write(r->opaque, paddr - r->start, value & phys_ones(size), size);
    }
}

uint32_t phys_read(PhysMem *pm, uint32_t paddr, int size)
{
    const uint8_t *ram = phys_ram_page(pm, paddr);
    if (ram && (paddr & (PHYS_PAGE_SIZE - 1)) <= PHYS_PAGE_SIZE - (uint32_t)size) {
        phys_observe(pm, paddr, (uint32_t)size, false);
        return phys_load_le(ram, size);
    }
    uint64_t run_end;
    int region = phys_resolve(pm, paddr, &run_end);
    if ((uint64_t)paddr + (uint32_t)size <= run_end) {
        return phys_read_run(pm, region, paddr, size);
    }
    uint32_t value = 0;
    for (int i = 0; i < size; i++) {
        uint32_t byte_addr = paddr + (uint32_t)i;
        region = phys_resolve(pm, byte_addr, &run_end);
        value |= phys_read_run(pm, region, byte_addr, 1) << (8 * i);
    }
    return value;
}

void phys_write(PhysMem *pm, uint32_t paddr, uint32_t value, int size)
{
    if (phys_ram_page(pm, paddr) &&
        (paddr & (PHYS_PAGE_SIZE - 1)) <= PHYS_PAGE_SIZE - (uint32_t)size) {
        phys_ram_store(pm, paddr, &value, 0, (uint32_t)size);
        return;
    }
    uint64_t run_end;
    int region = phys_resolve(pm, paddr, &run_end);
    if ((uint64_t)paddr + (uint32_t)size <= run_end) {
        phys_write_run(pm, region, paddr, value, size);
        return;
    }
    for (int i = 0; i < size; i++) {
        uint32_t byte_addr = paddr + (uint32_t)i;
        region = phys_resolve(pm, byte_addr, &run_end);
        phys_write_run(pm, region, byte_addr, (value >> (8 * i)) & 0xff, 1);
    }
}

/* ---- bulk copies ---- */

/* Length of the piece of [paddr, paddr+len) that maps like paddr does. */
static uint32_t phys_chunk(const PhysMem *pm, uint32_t paddr, uint32_t len, int *region)
{
    uint64_t run_end;
    *region = phys_resolve(pm, paddr, &run_end);
    uint64_t avail = run_end - paddr;
    return avail < len ? (uint32_t)avail : len;
}

void phys_read_buf(PhysMem *pm, uint32_t paddr, void *buf, uint32_t len)
{
    uint8_t *out = buf;
    while (len > 0) {
        int region;
        uint32_t chunk = phys_chunk(pm, paddr, len, &region);
        const PhysRegion *r = region >= 0 ? &pm->regions[region] : NULL;
        if (!r && paddr < pm->ram_size) {
            memcpy(out, pm->ram + paddr, chunk);
            phys_observe(pm, paddr, chunk, false);
        } else if (!r) {
            memset(out, 0xff, chunk);
        } else if (r->kind != PHYS_MMIO) {
            memcpy(out, r->host + (paddr - r->start), chunk);
        } else {
            for (uint32_t i = 0; i < chunk; i++) {
                out[i] = (uint8_t)phys_read_run(pm, region, paddr + i, 1);
            }
        }
        out += chunk;
        paddr += chunk;
        len -= chunk;
    }
}

/*
 * Shared by phys_write_buf, phys_fill and phys_load: the bytes come from
 * buf, or (buf NULL) are all fill; rom_writable lets loaders fill ROM.
 * Unmapped space is skipped a run at a time, so a device asked to store
 * 4 GiB costs what RAM, VRAM and MMIO it reaches, not the span.
 */
static void phys_store_buf(PhysMem *pm, uint32_t paddr, const void *buf, uint8_t fill,
                           uint32_t len, bool rom_writable)
{
    const uint8_t *in = buf;
    while (len > 0) {
        int region;
        uint32_t chunk = phys_chunk(pm, paddr, len, &region);
        PhysRegion *r = region >= 0 ? &pm->regions[region] : NULL;
        if (!r && paddr < pm->ram_size) {
            phys_ram_store(pm, paddr, in, fill, chunk);
        } else if (r && (r->kind == PHYS_VRAM || (r->kind == PHYS_ROM && rom_writable))) {
            uint8_t *host = r->host + (paddr - r->start);
            if (in) {
                memcpy(host, in, chunk);
            } else {
                memset(host, fill, chunk);
            }
            if (r->kind == PHYS_VRAM) {
                phys_vram_mark(r, paddr - r->start, chunk);
            }
        } else if (r && r->kind != PHYS_ROM) {
            for (uint32_t i = 0; i < chunk; i++) {
                phys_write_run(pm, region, paddr + i, in ? in[i] : fill, 1);
            }
        }
        in = in ? in + chunk : NULL;
        paddr += chunk;
        len -= chunk;
    }
}

void phys_write_buf(PhysMem *pm, uint32_t paddr, const void *buf, uint32_t len)
{
    phys_store_buf(pm, paddr, buf, 0, len, false);
}

void phys_fill(PhysMem *pm, uint32_t paddr, uint8_t byte, uint32_t len)
{
    phys_store_buf(pm, paddr, NULL, byte, len, false);
}

void phys_load(PhysMem *pm, uint32_t paddr, const void *buf, uint32_t len)
{
    phys_store_buf(pm, paddr, buf, 0, len, true);
}
