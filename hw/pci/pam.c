/*
 * PAM shadow-RAM control (see pam.h).
 *
 * Changing what a segment decodes to changes the bytes the CPU sees at
 * those physical addresses without any write, so decoded or translated
 * code from there must be dropped: every change reports the segment's
 * code pages through the same hook a write would use.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pam.h"
#include "hw/pci/piix.h"

#define PAM_SMALL_SEGMENT 0x4000u
#define PAM_PAGE_SIZE     4096u

typedef struct PAMSegment {
    uint32_t start;
    uint32_t size;
    int region;   /* its ROM region in the physical map */
    uint8_t attr; /* PAM_READ_ENABLE | PAM_WRITE_ENABLE */
} PAMSegment;

struct PAMState {
    PhysMem *pm;
    PAMSegment seg[PAM_SEGMENTS];
    uint8_t rom_side[PAM_WINDOW_END - PAM_WINDOW_START]; /* what RE=0 reads */
    int mmio_region; /* the write-only-RAM helper over the whole window */
};

static int pam_segment_index(uint32_t paddr)
{
    if (paddr < PAM_WINDOW_START || paddr >= PAM_WINDOW_END) {
        return -1;
    }
    if (paddr >= 0xf0000u) {
        return PAM_SEGMENTS - 1;
    }
    return (int)((paddr - PAM_WINDOW_START) / PAM_SMALL_SEGMENT);
}

/* Tell the code tracker that the bytes behind [start, start+size) changed. */
static void pam_report_code(PAMState *s, uint32_t start, uint32_t size)
{
    PhysMem *pm = s->pm;
    for (uint32_t a = start; a < start + size && a < pm->ram_size; a += PAM_PAGE_SIZE) {
        if (pm->code_pages[a >> 12]) {
            phys_code_written(pm, a, (int)PAM_PAGE_SIZE);
        }
    }
}

/* A RAM store from the MMIO helper: as phys.c's own stores, it marks the
 * page dirty and reports code pages. */
static void pam_ram_store(PAMState *s, uint32_t paddr, uint32_t value, int size)
{
    PhysMem *pm = s->pm;
    if (paddr + (uint32_t)size > pm->ram_size) {
        return;
    }
    for (int i = 0; i < size; i++) {
        pm->ram[paddr + (uint32_t)i] = (uint8_t)(value >> (8 * i));
    }
    pm->dirty_pages[paddr >> 12] = 1;
    if (pm->code_pages[paddr >> 12]) {
        phys_code_written(pm, paddr, size);
    }
}

/* MMIO helper, enabled while some segment is RE=0 WE=1: it sees only the
 * segments no ROM region covers (RE=1 WE=1 and RE=0 WE=1); accesses here
 * are byte-split at segment edges by phys.c, so one segment per access. */
static uint32_t pam_mmio_read(void *opaque, uint32_t offset, int size)
{
    PAMState *s = opaque;
    uint32_t paddr = PAM_WINDOW_START + offset;
    uint32_t value = 0;
    for (int i = 0; i < size; i++) {
        uint32_t a = paddr + (uint32_t)i;
        int seg = pam_segment_index(a);
        uint8_t byte;
        if (seg >= 0 && (s->seg[seg].attr & PAM_READ_ENABLE) && a < s->pm->ram_size) {
            byte = s->pm->ram[a];
        } else {
            byte = s->rom_side[a - PAM_WINDOW_START];
        }
        value |= (uint32_t)byte << (8 * i);
    }
    return value;
}

static void pam_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    PAMState *s = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t a = PAM_WINDOW_START + offset + (uint32_t)i;
        int seg = pam_segment_index(a);
        if (seg >= 0 && (s->seg[seg].attr & PAM_WRITE_ENABLE)) {
            pam_ram_store(s, a, (value >> (8 * i)) & 0xff, 1);
        }
    }
}

static const MMIOOps pam_mmio_ops = {pam_mmio_read, pam_mmio_write};

/* Put segment seg into the state attr describes. */
static void pam_apply(PAMState *s, int seg, uint8_t attr)
{
    PAMSegment *g = &s->seg[seg];
    PhysRegion *r = &s->pm->regions[g->region];
    bool rom_region = !(attr & PAM_WRITE_ENABLE);

    if (attr == g->attr) {
        return;
    }
    if (rom_region && (attr & PAM_READ_ENABLE)) {
        /* Read-only RAM: freeze the RAM bytes as they are now. */
        for (uint32_t i = 0; i < g->size; i++) {
            uint32_t a = g->start + i;
            r->host[i] = a < s->pm->ram_size ? s->pm->ram[a] : 0xff;
        }
    } else if (rom_region) {
        memcpy(r->host, s->rom_side + (g->start - PAM_WINDOW_START), g->size);
    }
    g->attr = attr;
    phys_region_enable(s->pm, g->region, rom_region);

    bool need_mmio = false;
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        if (s->seg[i].attr == PAM_WRITE_ENABLE) {
            need_mmio = true;
        }
    }
    phys_region_enable(s->pm, s->mmio_region, need_mmio);
    pam_report_code(s, g->start, g->size);
}

bool pam_set(PAMState *s, int pam_index, uint8_t value)
{
    uint8_t before[PAM_SEGMENTS];
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        before[i] = s->seg[i].attr;
    }
    if (pam_index == 0) {
        /* PAM0 bits 5:4 control 0xF0000-0xFFFFF; bits 1:0 are reserved. */
        pam_apply(s, PAM_SEGMENTS - 1, (value >> 4) & 3);
    } else if (pam_index > 0 && pam_index < I440FX_PAM_COUNT) {
        /* PAMn (n >= 1): bits 1:0 the lower 16 KiB segment, 5:4 the upper. */
        int lo = (pam_index - 1) * 2;
        pam_apply(s, lo, value & 3);
        pam_apply(s, lo + 1, (value >> 4) & 3);
    }
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        if (before[i] != s->seg[i].attr) {
            return true;
        }
    }
    return false;
}

int pam_attr(PAMState *s, uint32_t paddr)
{
    int seg = pam_segment_index(paddr);
    return seg < 0 ? -1 : s->seg[seg].attr;
}

PAMState *pam_new(PhysMem *pm, const uint8_t *rom, uint32_t rom_len)
{
    PAMState *s = calloc(1, sizeof(*s));
    uint32_t window = PAM_WINDOW_END - PAM_WINDOW_START;
    if (!s || rom_len > window || pm->nregions + PAM_SEGMENTS + 1 > PHYS_MAX_REGIONS) {
        free(s);
        return NULL;
    }
    s->pm = pm;
    memset(s->rom_side, 0xff, window);
    memcpy(s->rom_side + window - rom_len, rom, rom_len);
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        PAMSegment *g = &s->seg[i];
        g->start = PAM_WINDOW_START + (uint32_t)i * PAM_SMALL_SEGMENT;
        g->size = i == PAM_SEGMENTS - 1 ? 0x10000u : PAM_SMALL_SEGMENT;
        g->attr = 0;
        /* Priority 1: above RAM and the MMIO helper, like the BIOS ROM. */
        g->region =
            phys_map_rom(pm, g->start, s->rom_side + (g->start - PAM_WINDOW_START), g->size, 1);
    }
    s->mmio_region = phys_map_mmio(pm, PAM_WINDOW_START, window, &pam_mmio_ops, s, 0);
    phys_region_enable(pm, s->mmio_region, false);
    return s;
}

void pam_free(PAMState *s)
{
    free(s); /* the regions belong to the physical map */
}
