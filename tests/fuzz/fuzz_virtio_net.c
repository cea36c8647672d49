/*
 * libFuzzer harness for virtio-net-pci (hw/net/virtio_net.c on
 * hw/virtio/virtio_pci.c and virtio.c): the input is a driver that does
 * anything at all through configuration space, both BARs and guest RAM,
 * with rings and buffers pointing anywhere, while frames arrive from the
 * wire.  Nothing may crash, hang or make a sanitizer report; the device
 * can only reach guest memory through phys_*, so ASan would see any host
 * access outside the RAM mapping.
 *
 * Input: byte 0 holds options (bit 0: the wire loops every frame sent back
 * to the NIC, as a hub to itself would; bit 1: the link starts down; bits
 * 2-3: start with no driver, or one brought up through the modern or the
 * legacy interface with rings in place; bit 4: BAR4 sits inside RAM, where
 * buffers and rings may land on the device's own registers).  The rest is
 * a list of operations, each an opcode byte and its operands (missing
 * bytes read as 0).  Besides raw register and memory accesses there are
 * driver-shaped ones (bring-up, a descriptor, an available ring entry, a
 * whole chain made available and notified), so the fuzzer reaches the
 * rings without having to find the whole protocol by itself.
 *
 * The machine is built once and brought back to its power-on state before
 * each input through what a guest can reach (RAM refilled, configuration
 * registers, device status 0), so an input runs the same whatever ran
 * before it; virtio_net_reset is one of the operations.
 *
 * The net layer is played here as net/net.h describes it: a frame the NIC
 * cannot take is kept (one) and offered again on net_client_flush.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/net/virtio_net.h"
#include "hw/pci/pci.h"
#include "tests/fuzz/fuzz_input.h"

#define FUZZ_RAM        (256u << 10)
#define FUZZ_DEVFN      PCI_DEVFN(3, 0)
#define FUZZ_IO_BASE    0xc000u
#define FUZZ_MEM_BASE   0xfebf0000u
#define FUZZ_MAX_OPS    512
#define FUZZ_QUEUES     3 /* one more than the device has */
#define FUZZ_RX_RING    0x10000u
#define FUZZ_TX_RING    0x20000u
#define FUZZ_BAR_IN_RAM 0x30000u /* where option bit 4 puts BAR4 */

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

enum {
    OP_CFG_WRITE,
    OP_CFG_READ,
    OP_LEGACY_WRITE,
    OP_LEGACY_READ,
    OP_MODERN_WRITE,
    OP_MODERN_READ,
    OP_RAM_WRITE,
    OP_RECEIVE,
    OP_LINK,
    OP_RESET,
    OP_MODERN_SETUP,
    OP_LEGACY_SETUP,
    OP_NOTIFY,
    OP_DESC,
    OP_AVAIL,
    OP_CHAIN,
    OP_CFG_WINDOW,
    OP_COUNT
};

/* A queue as the driver side of the harness placed it. */
typedef struct FuzzRing {
    uint32_t desc, avail;
    uint16_t num;
    uint16_t avail_idx;
} FuzzRing;

typedef struct Fuzz {
    PhysMem pm;
    IOPortMap io;
    PCIBus *bus;
    VirtioNetState *nic;
    NetClient *nc;
    int cfg_cap; /* the PCI_CFG capability, whose window fields the guest writes */
    bool loopback;
    bool link;
    int irq_level; /* INTA as the device drives it */
    int depth;     /* frames delivered from inside a delivery */
    bool held;     /* the net layer keeps a frame */
    size_t held_len;
    unsigned sum; /* every byte the NIC hands out is read into this */
    FuzzRing ring[FUZZ_QUEUES];
    uint8_t ram_pattern[FUZZ_RAM]; /* what RAM holds at the start of each input */
    uint8_t held_frame[NET_MAX_FRAME];
    uint8_t flush_frame[NET_MAX_FRAME];
    uint8_t frame[NET_MAX_FRAME];
} Fuzz;

static Fuzz *fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int take_size(FuzzInput *st)
{
    return fuzz_access_size(fuzz_take(st, 1));
}

/* Half of the addresses land in RAM, the others anywhere in 4 GiB. */
static uint32_t take_addr(FuzzInput *st)
{
    uint32_t v = fuzz_take(st, 4);

    return (v & 1) ? v : (v >> 1) % FUZZ_RAM;
}

/* ---- the wire ---- */

/* Offer a frame as the net layer does: deliver it, or keep it if the NIC
 * says no and nothing is kept yet. */
static void offer(const uint8_t *frame, size_t len)
{
    if (fz->depth > 2) {
        return;
    }
    fz->depth++;
    if (fz->nc->can_receive(fz->nc->opaque, len)) {
        fz->nc->receive(fz->nc->opaque, frame, len);
    } else if (!fz->held) {
        memcpy(fz->held_frame, frame, len);
        fz->held_len = len;
        fz->held = true;
    }
    fz->depth--;
}

void net_client_send(NetClient *nc, const uint8_t *frame, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        fz->sum += frame[i];
    }
    if (fz->loopback && fz->link) {
        offer(frame, len);
    }
}

void net_client_flush(NetClient *nc)
{
    if (fz->held && fz->depth <= 2) {
        fz->held = false;
        /* Offered from a copy: the NIC may refuse it and it is kept again. */
        memcpy(fz->flush_frame, fz->held_frame, fz->held_len);
        offer(fz->flush_frame, fz->held_len);
    }
}

bool net_client_link_up(const NetClient *nc)
{
    return fz->link;
}

/* ---- register access ---- */

static void cfg_write(int reg, uint32_t value, int size)
{
    ioport_write(&fz->io, PCI_CONFIG_ADDRESS, 0x80000000u | (FUZZ_DEVFN << 8) | (reg & 0xfc), 4);
    ioport_write(&fz->io, PCI_CONFIG_DATA + (reg & 3), value, size);
}

static uint32_t cfg_read(int reg, int size)
{
    ioport_write(&fz->io, PCI_CONFIG_ADDRESS, 0x80000000u | (FUZZ_DEVFN << 8) | (reg & 0xfc), 4);
    return ioport_read(&fz->io, PCI_CONFIG_DATA + (reg & 3), size);
}

/* The BARs wherever the input moved them (PCI_BAR_UNMAPPED: nowhere). */
static uint32_t bar(int n)
{
    return pci_bar_address(pci_find_device(fz->bus, FUZZ_DEVFN), n);
}

static void lwrite(uint32_t off, uint32_t value, int size)
{
    if (bar(0) != PCI_BAR_UNMAPPED) {
        ioport_write(&fz->io, (uint16_t)(bar(0) + off), value, size);
    }
}

static uint32_t lread(uint32_t off, int size)
{
    return bar(0) == PCI_BAR_UNMAPPED ? 0 : ioport_read(&fz->io, (uint16_t)(bar(0) + off), size);
}

static void mwrite(uint32_t off, uint32_t value, int size)
{
    if (bar(4) != PCI_BAR_UNMAPPED) {
        phys_write(&fz->pm, bar(4) + off, value, size);
    }
}

static uint32_t mread(uint32_t off, int size)
{
    return bar(4) == PCI_BAR_UNMAPPED ? 0 : phys_read(&fz->pm, bar(4) + off, size);
}

/* ---- driver-shaped operations ---- */

/* A driver allocates its rings zeroed; 12 KiB holds any layout of 256. */
static void ring_zero(uint32_t base)
{
    memset(fz->pm.ram + base, 0, 0x3000);
}

/* A queue's rings at base, or somewhere the input says. */
static void modern_queue(FuzzInput *st, int q, bool good)
{
    FuzzRing *r = &fz->ring[q];
    uint32_t shape = good ? 4 : fuzz_take(st, 1);
    uint32_t base = good ? (q ? FUZZ_TX_RING : FUZZ_RX_RING) : take_addr(st) & ~0xfu;

    r->num = (uint16_t)(1u << (shape % 10));
    if (good) {
        ring_zero(base);
    }
    r->desc = base;
    r->avail = base + 16u * r->num;
    r->avail_idx = 0;
    mwrite(COMMON + C_Q_SELECT, (uint32_t)q, 2);
    mwrite(COMMON + C_Q_SIZE, r->num, 2);
    mwrite(COMMON + C_Q_DESC, r->desc, 4);
    mwrite(COMMON + C_Q_AVAIL, r->avail, 4);
    mwrite(COMMON + C_Q_USED, (r->avail + 6 + 2u * r->num + 3) & ~3u, 4);
    if (shape & 0x80) {
        /* Somewhere else entirely, maybe above 4 GiB. */
        mwrite(COMMON + C_Q_USED + (shape & 0x40 ? 4 : 0), take_addr(st), 4);
    }
    mwrite(COMMON + C_Q_ENABLE, 1, 2);
}

/* 3.1.1 through the modern interface; good: VERSION_1 and rings in RAM. */
static void modern_setup(FuzzInput *st, bool good)
{
    uint32_t status = 0x01 | 0x02;

    mwrite(COMMON + C_STATUS, 0, 1);
    mwrite(COMMON + C_STATUS, status, 1);
    mwrite(COMMON + C_GFSELECT, 0, 4);
    /* good: a subset of what the device offers, so FEATURES_OK sticks. */
    mwrite(COMMON + C_DFSELECT, 0, 4);
    mwrite(COMMON + C_GF, fuzz_take(st, 4) & (good ? mread(COMMON + C_DF, 4) : ~0u), 4);
    mwrite(COMMON + C_GFSELECT, 1, 4);
    mwrite(COMMON + C_GF, good ? 1 : fuzz_take(st, 1), 4);
    status |= 0x08;
    mwrite(COMMON + C_STATUS, status, 1);
    for (int q = 0; q < FUZZ_QUEUES; q++) {
        modern_queue(st, q, good && q < 2);
    }
    mwrite(COMMON + C_STATUS, status | 0x04, 1);
}

static void legacy_setup(FuzzInput *st, bool good)
{
    lwrite(L_STATUS, 0, 1);
    lwrite(L_STATUS, 0x01 | 0x02, 1);
    lwrite(L_GUEST_FEATURES, fuzz_take(st, 4) & (good ? lread(0, 4) : ~0u), 4);
    for (int q = 0; q < FUZZ_QUEUES; q++) {
        FuzzRing *r = &fz->ring[q];
        uint32_t base = good && q < 2 ? (q ? FUZZ_TX_RING : FUZZ_RX_RING) : take_addr(st) & ~0xfffu;

        r->num = 256;
        if (good && q < 2) {
            ring_zero(base);
        }
        r->desc = base;
        r->avail = base + 16u * r->num;
        r->avail_idx = 0;
        lwrite(L_QUEUE_SEL, (uint32_t)q, 2);
        lwrite(L_QUEUE_PFN, base >> 12, 4);
    }
    lwrite(L_STATUS, 0x01 | 0x02 | 0x04, 1);
}

/* A descriptor in a queue's table, or in an indirect table anywhere. */
static void put_desc(FuzzInput *st)
{
    uint32_t sel = fuzz_take(st, 1);
    uint32_t table = (sel & 0x80) ? take_addr(st) : fz->ring[sel % FUZZ_QUEUES].desc;
    uint32_t d = table + 16u * ((sel >> 2) & 0x1f);
    uint32_t addr = take_addr(st);
    uint32_t len = fuzz_take(st, 2);
    uint32_t flags_next = fuzz_take(st, 2);

    phys_write(&fz->pm, d, addr, 4);
    phys_write(&fz->pm, d + 4, (sel & 0x40) ? fuzz_take(st, 4) : 0, 4);
    phys_write(&fz->pm, d + 8, (sel & 0x20) ? len << 4 : len, 4);
    phys_write(&fz->pm, d + 12, flags_next & 7, 2);
    phys_write(&fz->pm, d + 14, flags_next >> 8, 2);
}

static void add_avail(FuzzInput *st)
{
    uint32_t sel = fuzz_take(st, 1);
    FuzzRing *r = &fz->ring[sel % FUZZ_QUEUES];

    if (r->num == 0) {
        return;
    }
    phys_write(&fz->pm, r->avail + 4 + 2u * (r->avail_idx % r->num), fuzz_take(st, 1), 2);
    r->avail_idx++;
    phys_write(&fz->pm, r->avail + 2, r->avail_idx, 2);
    if (sel & 0x80) {
        /* used_event, past the ring */
        phys_write(&fz->pm, r->avail + 4 + 2u * r->num, fuzz_take(st, 2), 2);
    }
}

static void notify(uint32_t q, bool legacy)
{
    if (legacy) {
        lwrite(L_QUEUE_NOTIFY, q, 2);
    } else {
        mwrite(NOTIFY + 4 * q, q, 2);
    }
}

/*
 * A whole chain of one to four descriptors from the input's addresses,
 * lengths and flags (linked in order unless the input names the next),
 * made available and, if the input says so, notified.
 */
static void add_chain(FuzzInput *st)
{
    uint32_t sel = fuzz_take(st, 1);
    uint32_t q = sel % FUZZ_QUEUES;
    FuzzRing *r = &fz->ring[q];
    unsigned n = 1 + ((sel >> 2) & 3);
    uint16_t head;

    if (r->num == 0) {
        return;
    }
    head = (uint16_t)(fuzz_take(st, 1) % r->num);
    for (unsigned i = 0; i < n; i++) {
        uint32_t d = r->desc + 16u * ((head + i) % r->num);
        uint32_t addr = take_addr(st);
        uint32_t len = fuzz_take(st, 2);
        uint32_t how = fuzz_take(st, 1);

        /* Mostly the sizes drivers use, so frames span several buffers. */
        if (!(how & 0x80)) {
            len %= 2048;
        }
        uint16_t flags = (uint16_t)((how & 1 ? 2 : 0) | (how & 2 ? 4 : 0) | (i + 1 < n ? 1 : 0));
        uint32_t next = how & 4 ? fuzz_take(st, 1) : (head + i + 1) % r->num;

        phys_write(&fz->pm, d, addr, 4);
        phys_write(&fz->pm, d + 4, 0, 4);
        phys_write(&fz->pm, d + 8, len, 4);
        phys_write(&fz->pm, d + 12, flags, 2);
        phys_write(&fz->pm, d + 14, next, 2);
    }
    phys_write(&fz->pm, r->avail + 4 + 2u * (r->avail_idx % r->num), head, 2);
    r->avail_idx++;
    phys_write(&fz->pm, r->avail + 2, r->avail_idx, 2);
    if (sel & 0x80) {
        notify(q, sel & 0x40);
    }
}

/* An access through the PCI_CFG capability's window (4.1.4.9). */
static void cfg_window(FuzzInput *st)
{
    uint32_t sel = fuzz_take(st, 1);
    int size = take_size(st);

    cfg_write(fz->cfg_cap + 4, sel & 0x80 ? sel & 7 : 4, 1);
    cfg_write(fz->cfg_cap + 12, sel & 0x40 ? fuzz_take(st, 4) : (uint32_t)size, 4);
    cfg_write(fz->cfg_cap + 8, fuzz_take(st, 2), 4);
    if (sel & 1) {
        cfg_write(fz->cfg_cap + 16, fuzz_take(st, 4), size);
    } else {
        fz->sum += cfg_read(fz->cfg_cap + 16, size);
    }
}

static void receive(FuzzInput *st)
{
    uint32_t sel = fuzz_take(st, 1);
    size_t len = fuzz_take(st, 2);

    if (sel & 0x80) {
        len = NET_MAX_FRAME - (len & 0xff); /* the largest frames */
    } else {
        len %= 1600;
    }
    for (size_t i = 0; i < len; i++) {
        fz->frame[i] = (uint8_t)(i * sel);
    }
    if (sel & 0x40) {
        /* Straight in, as if the NIC had said yes a moment ago. */
        fz->nc->receive(fz->nc->opaque, fz->frame, len);
    } else {
        offer(fz->frame, len);
    }
}

static void run_op(FuzzInput *st)
{
    uint32_t op = fuzz_take(st, 1) % OP_COUNT;
    uint32_t off;
    int size;

    switch (op) {
    case OP_CFG_WRITE:
        off = fuzz_take(st, 1);
        size = take_size(st);
        cfg_write((int)off, fuzz_take(st, 4), size);
        break;
    case OP_CFG_READ:
        off = fuzz_take(st, 1);
        fz->sum += cfg_read((int)off, take_size(st));
        break;
    case OP_LEGACY_WRITE:
        off = fuzz_take(st, 1) % 0x20;
        size = take_size(st);
        lwrite(off, fuzz_take(st, 4), size);
        break;
    case OP_LEGACY_READ:
        off = fuzz_take(st, 1) % 0x20;
        fz->sum += lread(off, take_size(st));
        break;
    case OP_MODERN_WRITE:
        off = fuzz_take(st, 2) % 0x4000;
        size = take_size(st);
        mwrite(off, fuzz_take(st, 4), size);
        break;
    case OP_MODERN_READ:
        off = fuzz_take(st, 2) % 0x4000;
        fz->sum += mread(off, take_size(st));
        break;
    case OP_RAM_WRITE: {
        uint32_t addr = take_addr(st);
        uint32_t len = fuzz_take(st, 1) % 33;

        for (uint32_t i = 0; i < len; i++) {
            phys_write(&fz->pm, addr + i, fuzz_take(st, 1), 1);
        }
        break;
    }
    case OP_RECEIVE: receive(st); break;
    case OP_LINK:
        fz->link = !fz->link;
        fz->nc->link_changed(fz->nc->opaque, fz->link);
        break;
    case OP_RESET: {
        char info[256];

        /* What the monitor would show, then the machine's reset. */
        fz->sum += (unsigned)virtio_net_info(fz->nic, info, sizeof(info));
        virtio_net_reset(fz->nic);
        break;
    }
    case OP_MODERN_SETUP: modern_setup(st, false); break;
    case OP_LEGACY_SETUP: legacy_setup(st, false); break;
    case OP_NOTIFY:
        off = fuzz_take(st, 1);
        notify(off % FUZZ_QUEUES, off & 0x80);
        break;
    case OP_DESC: put_desc(st); break;
    case OP_AVAIL: add_avail(st); break;
    case OP_CHAIN: add_chain(st); break;
    case OP_CFG_WINDOW: cfg_window(st); break;
    }
}

static void fuzz_irq(void *opaque, int n, int level)
{
    fz->irq_level = level;
}

static void fuzz_machine_new(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    fz = calloc(1, sizeof(*fz));
    if (!fz || !phys_init(&fz->pm, FUZZ_RAM)) {
        abort();
    }
    ioport_init(&fz->io);
    fz->bus = pci_bus_new(&fz->io);
    fz->link = true;
    fz->nic = virtio_net_new(fz->bus, FUZZ_DEVFN, &fz->pm, irq_make(fuzz_irq, NULL, 0), mac);
    if (!fz->bus || !fz->nic) {
        abort();
    }
    fz->nc = virtio_net_client(fz->nic);
    for (uint32_t i = 0; i < FUZZ_RAM; i++) {
        fz->ram_pattern[i] = (uint8_t)((i * 2654435761u) >> 13);
    }
    for (int cap = (int)cfg_read(PCI_CAPABILITY_LIST, 1); cap; cap = (int)cfg_read(cap + 1, 1)) {
        if (cfg_read(cap + 3, 1) == 5) {
            fz->cfg_cap = cap;
        }
    }
}

/*
 * Power-on state through what a guest can write: the firmware's BAR
 * placement (unchanged addresses cost no remapping), the other writable
 * configuration bytes, device status 0, the feature selectors.
 */
static void fuzz_machine_reset(uint8_t options)
{
    /* Not zeros: buffers the input does not write still hold headers with
     * every flag in some place. */
    memcpy(fz->pm.ram, fz->ram_pattern, FUZZ_RAM);
    memset(fz->ring, 0, sizeof(fz->ring));
    fz->loopback = options & 1;
    fz->link = !(options & 2);
    fz->held = false;
    fz->depth = 0;
    cfg_write(PCI_BASE_ADDRESS_0, FUZZ_IO_BASE, 4);
    cfg_write(PCI_BASE_ADDRESS_0 + 16, FUZZ_MEM_BASE, 4);
    cfg_write(PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cfg_write(PCI_CACHE_LINE, 0, 2);
    cfg_write(PCI_INTERRUPT_LINE, 0, 1);
    for (int off = 4; off < 20; off += 4) {
        cfg_write(fz->cfg_cap + off, 0, 4);
    }
    mwrite(COMMON + C_STATUS, 0, 1);
    mwrite(COMMON + C_DFSELECT, 0, 4);
    mwrite(COMMON + C_GFSELECT, 0, 4);
    if (options & 0x10) {
        cfg_write(PCI_BASE_ADDRESS_0 + 16, FUZZ_BAR_IN_RAM, 4);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput st = {data, size};
    uint8_t options;

    if (size < 1) {
        return 0;
    }
    if (!fz) {
        fuzz_machine_new();
    }
    options = (uint8_t)fuzz_take(&st, 1);
    fuzz_machine_reset(options);
    switch ((options >> 2) & 3) {
    case 1: modern_setup(&st, true); break;
    case 2: legacy_setup(&st, true); break;
    default: break;
    }
    for (int n = 0; n < FUZZ_MAX_OPS && st.left; n++) {
        run_op(&st);
    }
    return 0;
}
