/*
 * The driver half of the virtio-pci fuzz harnesses (see virtio_fuzz.h).
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_fuzz.h"

#define VFUZZ_IO_BASE    0xc000u
#define VFUZZ_MEM_BASE   0xfebf0000u
#define VFUZZ_RING_BASE  0x10000u /* queue q's rings at (q + 1) times this */
#define VFUZZ_BAR_IN_RAM 0x30000u /* where option bit 4 puts BAR4 */

/* Modern BAR layout and registers (Virtio 1.2, 4.1.4.3), as the device lays them out. */
#define COMMON     0x0000u
#define NOTIFY     0x3000u
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_STATUS   0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE   0x18
#define C_Q_ENABLE 0x1c
#define C_Q_DESC   0x20
#define C_Q_AVAIL  0x28
#define C_Q_USED   0x30
/* Legacy registers (4.1.4.10). */
#define L_GUEST_FEATURES 0x04
#define L_QUEUE_PFN      0x08
#define L_QUEUE_SEL      0x0e
#define L_QUEUE_NOTIFY   0x10
#define L_STATUS         0x12

uint32_t vfuzz_take(VFuzzStream *st, int n)
{
    return fuzz_take(st, n);
}

int vfuzz_take_size(VFuzzStream *st)
{
    return fuzz_access_size(fuzz_take(st, 1));
}

uint32_t vfuzz_take_addr(VFuzzStream *st)
{
    uint32_t v = vfuzz_take(st, 4);

    return (v & 1) ? v : (v >> 1) % VFUZZ_RAM;
}

/* ---- register access ---- */

static void cfg_write(VirtioFuzz *v, int reg, uint32_t value, int size)
{
    ioport_write(&v->io, PCI_CONFIG_ADDRESS, 0x80000000u | (VFUZZ_DEVFN << 8) | (reg & 0xfc), 4);
    ioport_write(&v->io, PCI_CONFIG_DATA + (reg & 3), value, size);
}

static uint32_t cfg_read(VirtioFuzz *v, int reg, int size)
{
    ioport_write(&v->io, PCI_CONFIG_ADDRESS, 0x80000000u | (VFUZZ_DEVFN << 8) | (reg & 0xfc), 4);
    return ioport_read(&v->io, PCI_CONFIG_DATA + (reg & 3), size);
}

/* The BARs wherever the input moved them (PCI_BAR_UNMAPPED: nowhere). */
static uint32_t bar(VirtioFuzz *v, int n)
{
    return pci_bar_address(pci_find_device(v->bus, VFUZZ_DEVFN), n);
}

static void lwrite(VirtioFuzz *v, uint32_t off, uint32_t value, int size)
{
    if (bar(v, 0) != PCI_BAR_UNMAPPED) {
        ioport_write(&v->io, (uint16_t)(bar(v, 0) + off), value, size);
    }
}

static uint32_t lread(VirtioFuzz *v, uint32_t off, int size)
{
    return bar(v, 0) == PCI_BAR_UNMAPPED ? 0
                                         : ioport_read(&v->io, (uint16_t)(bar(v, 0) + off), size);
}

static void mwrite(VirtioFuzz *v, uint32_t off, uint32_t value, int size)
{
    if (bar(v, 4) != PCI_BAR_UNMAPPED) {
        phys_write(&v->pm, bar(v, 4) + off, value, size);
    }
}

static uint32_t mread(VirtioFuzz *v, uint32_t off, int size)
{
    return bar(v, 4) == PCI_BAR_UNMAPPED ? 0 : phys_read(&v->pm, bar(v, 4) + off, size);
}

/* ---- driver-shaped operations ---- */

/* A driver allocates its rings zeroed; 12 KiB holds any layout of 256. */
static void ring_zero(VirtioFuzz *v, uint32_t base)
{
    memset(v->pm.ram + base, 0, 0x3000);
}

static bool good_queue(const VirtioFuzz *v, int q, bool good)
{
    return good && q < v->good_queues;
}

/* A queue's rings at its place, or somewhere the input says. */
static void modern_queue(VirtioFuzz *v, VFuzzStream *st, int q, bool good)
{
    VFuzzRing *r = &v->ring[q];
    uint32_t shape = good ? 4 : vfuzz_take(st, 1);
    uint32_t base = good ? VFUZZ_RING_BASE * (uint32_t)(q + 1) : vfuzz_take_addr(st) & ~0xfu;

    r->num = (uint16_t)(1u << (shape % 10));
    if (good) {
        ring_zero(v, base);
    }
    r->desc = base;
    r->avail = base + 16u * r->num;
    r->avail_idx = 0;
    mwrite(v, COMMON + C_Q_SELECT, (uint32_t)q, 2);
    mwrite(v, COMMON + C_Q_SIZE, r->num, 2);
    mwrite(v, COMMON + C_Q_DESC, r->desc, 4);
    mwrite(v, COMMON + C_Q_AVAIL, r->avail, 4);
    mwrite(v, COMMON + C_Q_USED, (r->avail + 6 + 2u * r->num + 3) & ~3u, 4);
    if (shape & 0x80) {
        /* Somewhere else entirely, maybe above 4 GiB. */
        mwrite(v, COMMON + C_Q_USED + (shape & 0x40 ? 4 : 0), vfuzz_take_addr(st), 4);
    }
    mwrite(v, COMMON + C_Q_ENABLE, 1, 2);
}

/* 3.1.1 through the modern interface; good: VERSION_1 and rings in RAM. */
static void modern_setup(VirtioFuzz *v, VFuzzStream *st, bool good)
{
    uint32_t status = 0x01 | 0x02;

    mwrite(v, COMMON + C_STATUS, 0, 1);
    mwrite(v, COMMON + C_STATUS, status, 1);
    mwrite(v, COMMON + C_GFSELECT, 0, 4);
    /* good: a subset of what the device offers, so FEATURES_OK sticks. */
    mwrite(v, COMMON + C_DFSELECT, 0, 4);
    mwrite(v, COMMON + C_GF, vfuzz_take(st, 4) & (good ? mread(v, COMMON + C_DF, 4) : ~0u), 4);
    mwrite(v, COMMON + C_GFSELECT, 1, 4);
    mwrite(v, COMMON + C_GF, good ? 1 : vfuzz_take(st, 1), 4);
    status |= 0x08;
    mwrite(v, COMMON + C_STATUS, status, 1);
    for (int q = 0; q < VFUZZ_QUEUES; q++) {
        modern_queue(v, st, q, good_queue(v, q, good));
    }
    mwrite(v, COMMON + C_STATUS, status | 0x04, 1);
}

static void legacy_setup(VirtioFuzz *v, VFuzzStream *st, bool good)
{
    lwrite(v, L_STATUS, 0, 1);
    lwrite(v, L_STATUS, 0x01 | 0x02, 1);
    lwrite(v, L_GUEST_FEATURES, vfuzz_take(st, 4) & (good ? lread(v, 0, 4) : ~0u), 4);
    for (int q = 0; q < VFUZZ_QUEUES; q++) {
        VFuzzRing *r = &v->ring[q];
        bool place = good_queue(v, q, good);
        uint32_t base =
            place ? VFUZZ_RING_BASE * (uint32_t)(q + 1) : vfuzz_take_addr(st) & ~0xfffu;

        r->num = 256;
        if (place) {
            ring_zero(v, base);
        }
        r->desc = base;
        r->avail = base + 16u * r->num;
        r->avail_idx = 0;
        lwrite(v, L_QUEUE_SEL, (uint32_t)q, 2);
        lwrite(v, L_QUEUE_PFN, base >> 12, 4);
    }
    lwrite(v, L_STATUS, 0x01 | 0x02 | 0x04, 1);
}

/* A descriptor in a queue's table, or in an indirect table anywhere. */
static void put_desc(VirtioFuzz *v, VFuzzStream *st)
{
    uint32_t sel = vfuzz_take(st, 1);
    uint32_t table = (sel & 0x80) ? vfuzz_take_addr(st) : v->ring[sel % VFUZZ_QUEUES].desc;
    uint32_t d = table + 16u * ((sel >> 2) & 0x1f);
    uint32_t addr = vfuzz_take_addr(st);
    uint32_t len = vfuzz_take(st, 2);
    uint32_t flags_next = vfuzz_take(st, 2);

    phys_write(&v->pm, d, addr, 4);
    phys_write(&v->pm, d + 4, (sel & 0x40) ? vfuzz_take(st, 4) : 0, 4);
    phys_write(&v->pm, d + 8, (sel & 0x20) ? len << 4 : len, 4);
    phys_write(&v->pm, d + 12, flags_next & 7, 2);
    phys_write(&v->pm, d + 14, flags_next >> 8, 2);
}

static void add_avail(VirtioFuzz *v, VFuzzStream *st)
{
    uint32_t sel = vfuzz_take(st, 1);
    VFuzzRing *r = &v->ring[sel % VFUZZ_QUEUES];

    if (r->num == 0) {
        return;
    }
    phys_write(&v->pm, r->avail + 4 + 2u * (r->avail_idx % r->num), vfuzz_take(st, 1), 2);
    r->avail_idx++;
    phys_write(&v->pm, r->avail + 2, r->avail_idx, 2);
    if (sel & 0x80) {
        /* used_event, past the ring */
        phys_write(&v->pm, r->avail + 4 + 2u * r->num, vfuzz_take(st, 2), 2);
    }
}

void vfuzz_notify(VirtioFuzz *v, uint32_t q, bool legacy)
{
    if (legacy) {
        lwrite(v, L_QUEUE_NOTIFY, q, 2);
    } else {
        mwrite(v, NOTIFY + 4 * q, q, 2);
    }
}

void vfuzz_put_desc(VirtioFuzz *v, int q, uint16_t i, uint32_t addr, uint32_t len, uint16_t flags,
                    uint16_t next)
{
    VFuzzRing *r = &v->ring[q];
    uint32_t d;

    if (r->num == 0) {
        return;
    }
    d = r->desc + 16u * (i % r->num);
    phys_write(&v->pm, d, addr, 4);
    phys_write(&v->pm, d + 4, 0, 4);
    phys_write(&v->pm, d + 8, len, 4);
    phys_write(&v->pm, d + 12, flags, 2);
    phys_write(&v->pm, d + 14, next, 2);
}

void vfuzz_avail_push(VirtioFuzz *v, int q, uint16_t head)
{
    VFuzzRing *r = &v->ring[q];

    if (r->num == 0) {
        return;
    }
    phys_write(&v->pm, r->avail + 4 + 2u * (r->avail_idx % r->num), head, 2);
    r->avail_idx++;
    phys_write(&v->pm, r->avail + 2, r->avail_idx, 2);
}

/*
 * A whole chain of one to four descriptors from the input's addresses,
 * lengths and flags (linked in order unless the input names the next),
 * made available and, if the input says so, notified.
 */
static void add_chain(VirtioFuzz *v, VFuzzStream *st)
{
    uint32_t sel = vfuzz_take(st, 1);
    uint32_t q = sel % VFUZZ_QUEUES;
    VFuzzRing *r = &v->ring[q];
    unsigned n = 1 + ((sel >> 2) & 3);
    uint16_t head;

    if (r->num == 0) {
        return;
    }
    head = (uint16_t)(vfuzz_take(st, 1) % r->num);
    for (unsigned i = 0; i < n; i++) {
        uint32_t d = r->desc + 16u * ((head + i) % r->num);
        uint32_t addr = vfuzz_take_addr(st);
        uint32_t len = vfuzz_take(st, 2);
        uint32_t how = vfuzz_take(st, 1);

        /* Mostly the sizes drivers use, so data spans several buffers. */
        if (!(how & 0x80)) {
            len %= 2048;
        }
        uint16_t flags = (uint16_t)((how & 1 ? 2 : 0) | (how & 2 ? 4 : 0) | (i + 1 < n ? 1 : 0));
        uint32_t next = how & 4 ? vfuzz_take(st, 1) : (head + i + 1) % r->num;

        phys_write(&v->pm, d, addr, 4);
        phys_write(&v->pm, d + 4, 0, 4);
        phys_write(&v->pm, d + 8, len, 4);
        phys_write(&v->pm, d + 12, flags, 2);
        phys_write(&v->pm, d + 14, next, 2);
    }
    phys_write(&v->pm, r->avail + 4 + 2u * (r->avail_idx % r->num), head, 2);
    r->avail_idx++;
    phys_write(&v->pm, r->avail + 2, r->avail_idx, 2);
    if (sel & 0x80) {
        vfuzz_notify(v, q, sel & 0x40);
    }
}

/* An access through the PCI_CFG capability's window (4.1.4.9). */
static void cfg_window(VirtioFuzz *v, VFuzzStream *st)
{
    uint32_t sel = vfuzz_take(st, 1);
    int size = vfuzz_take_size(st);

    cfg_write(v, v->cfg_cap + 4, sel & 0x80 ? sel & 7 : 4, 1);
    cfg_write(v, v->cfg_cap + 12, sel & 0x40 ? vfuzz_take(st, 4) : (uint32_t)size, 4);
    cfg_write(v, v->cfg_cap + 8, vfuzz_take(st, 2), 4);
    if (sel & 1) {
        cfg_write(v, v->cfg_cap + 16, vfuzz_take(st, 4), size);
    } else {
        v->sum += cfg_read(v, v->cfg_cap + 16, size);
    }
}

void vfuzz_run_op(VirtioFuzz *v, VFuzzStream *st, uint32_t op)
{
    uint32_t off;
    int size;

    switch (op) {
    case VFUZZ_OP_CFG_WRITE:
        off = vfuzz_take(st, 1);
        size = vfuzz_take_size(st);
        cfg_write(v, (int)off, vfuzz_take(st, 4), size);
        break;
    case VFUZZ_OP_CFG_READ:
        off = vfuzz_take(st, 1);
        v->sum += cfg_read(v, (int)off, vfuzz_take_size(st));
        break;
    case VFUZZ_OP_LEGACY_WRITE:
        off = vfuzz_take(st, 1) % 0x80;
        size = vfuzz_take_size(st);
        lwrite(v, off, vfuzz_take(st, 4), size);
        break;
    case VFUZZ_OP_LEGACY_READ:
        off = vfuzz_take(st, 1) % 0x80;
        v->sum += lread(v, off, vfuzz_take_size(st));
        break;
    case VFUZZ_OP_MODERN_WRITE:
        off = vfuzz_take(st, 2) % 0x4000;
        size = vfuzz_take_size(st);
        mwrite(v, off, vfuzz_take(st, 4), size);
        break;
    case VFUZZ_OP_MODERN_READ:
        off = vfuzz_take(st, 2) % 0x4000;
        v->sum += mread(v, off, vfuzz_take_size(st));
        break;
    case VFUZZ_OP_RAM_WRITE: {
        uint32_t addr = vfuzz_take_addr(st);
        uint32_t len = vfuzz_take(st, 1) % 33;

        for (uint32_t i = 0; i < len; i++) {
            phys_write(&v->pm, addr + i, vfuzz_take(st, 1), 1);
        }
        break;
    }
    case VFUZZ_OP_MODERN_SETUP: modern_setup(v, st, false); break;
    case VFUZZ_OP_LEGACY_SETUP: legacy_setup(v, st, false); break;
    case VFUZZ_OP_NOTIFY:
        off = vfuzz_take(st, 1);
        vfuzz_notify(v, off % VFUZZ_QUEUES, off & 0x80);
        break;
    case VFUZZ_OP_DESC: put_desc(v, st); break;
    case VFUZZ_OP_AVAIL: add_avail(v, st); break;
    case VFUZZ_OP_CHAIN: add_chain(v, st); break;
    case VFUZZ_OP_CFG_WINDOW: cfg_window(v, st); break;
    default: break;
    }
}

/* ---- the machine ---- */

void vfuzz_init(VirtioFuzz *v, int good_queues)
{
    if (!phys_init(&v->pm, VFUZZ_RAM)) {
        abort();
    }
    ioport_init(&v->io);
    v->bus = pci_bus_new(&v->io);
    if (!v->bus) {
        abort();
    }
    v->good_queues = good_queues < VFUZZ_QUEUES ? good_queues : VFUZZ_QUEUES - 1;
    for (uint32_t i = 0; i < VFUZZ_RAM; i++) {
        v->ram_pattern[i] = (uint8_t)((i * 2654435761u) >> 13);
    }
}

void vfuzz_attach(VirtioFuzz *v)
{
    for (int cap = (int)cfg_read(v, PCI_CAPABILITY_LIST, 1); cap;
         cap = (int)cfg_read(v, cap + 1, 1)) {
        if (cfg_read(v, cap + 3, 1) == 5) {
            v->cfg_cap = cap;
        }
    }
}

/*
 * Power-on state through what a guest can write: the firmware's BAR
 * placement (unchanged addresses cost no remapping), the other writable
 * configuration bytes, device status 0, the feature selectors.
 */
static void vfuzz_reset(VirtioFuzz *v, uint8_t options)
{
    /* Not zeros: buffers the input does not write still hold headers with
     * every flag in some place. */
    memcpy(v->pm.ram, v->ram_pattern, VFUZZ_RAM);
    memset(v->ring, 0, sizeof(v->ring));
    cfg_write(v, PCI_BASE_ADDRESS_0, VFUZZ_IO_BASE, 4);
    cfg_write(v, PCI_BASE_ADDRESS_0 + 16, VFUZZ_MEM_BASE, 4);
    cfg_write(v, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cfg_write(v, PCI_CACHE_LINE, 0, 2);
    cfg_write(v, PCI_INTERRUPT_LINE, 0, 1);
    for (int off = 4; off < 20; off += 4) {
        cfg_write(v, v->cfg_cap + off, 0, 4);
    }
    mwrite(v, COMMON + C_STATUS, 0, 1);
    mwrite(v, COMMON + C_DFSELECT, 0, 4);
    mwrite(v, COMMON + C_GFSELECT, 0, 4);
    if (options & 0x10) {
        cfg_write(v, PCI_BASE_ADDRESS_0 + 16, VFUZZ_BAR_IN_RAM, 4);
    }
}

void vfuzz_start(VirtioFuzz *v, VFuzzStream *st, uint8_t options)
{
    vfuzz_reset(v, options);
    switch ((options >> 2) & 3) {
    case 1: modern_setup(v, st, true); break;
    case 2: legacy_setup(v, st, true); break;
    default: break;
    }
}
