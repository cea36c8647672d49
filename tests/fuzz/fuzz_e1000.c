/*
 * libFuzzer harness: the e1000 under a hostile guest.  The input is a
 * list of commands: register reads and writes (BAR0 and the I/O window),
 * descriptors and bytes stored in guest RAM with buffer addresses aimed
 * anywhere (RAM, past its end, above 4 GiB, unclaimed space, the NIC's own
 * registers), frames from the wire, guest time passing, link changes,
 * configuration space writes and resets.  Nothing may crash, hang or trip
 * a sanitizer, and every frame the NIC sends must fit NET_MAX_FRAME.
 *
 * The test defines the net layer's three functions as the wire.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/net/e1000.h"
#include "hw/net/e1000_regs.h"
#include "tests/fuzz/fuzz_input.h"

#define FUZZ_RAM   (256u << 10)
#define FUZZ_DEVFN PCI_DEVFN(3, 0)
#define MMIO_BASE  0xfebc0000u
#define IO_BASE    0xc000u

/* Guest RAM at the start of each input: both rings set up, receive
 * buffers behind them, and a TCP/IPv4 frame to transmit from. */
#define RING_DESCS 32
#define TX_RING    0x1000u
#define RX_RING    0x2000u
#define RX_BUFS    0x4000u /* RING_DESCS x 2 KiB */
#define PACKET     0x20000u
#define PACKET_LEN 1514u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct FuzzMachine {
    IOPortMap io;
    PhysMem pm;
    PCIBus *pci;
    PCIDevice *dev;
    TimerList tl;
    uint64_t clock;
    E1000State *nic;
    NetClient *nc;
    bool link_up;
    uint8_t *ram_image; /* RAM as each input starts with it */
    uint8_t held[NET_MAX_FRAME];
    size_t held_len;
    uint32_t sink; /* frames sent are read into this, so ASan sees every byte */
} FuzzMachine;

static FuzzMachine *m;

void net_client_send(NetClient *nc, const uint8_t *frame, size_t len)
{
    if (nc != m->nc || len == 0 || len > NET_MAX_FRAME) {
        abort();
    }
    for (size_t i = 0; i < len; i++) {
        m->sink += frame[i];
    }
}

void net_client_flush(NetClient *nc)
{
    if (m->held_len && nc->can_receive(nc->opaque, m->held_len)) {
        size_t len = m->held_len;
        m->held_len = 0;
        nc->receive(nc->opaque, m->held, len);
    }
}

bool net_client_link_up(const NetClient *nc)
{
    return m->link_up;
}

static void irq_cb(void *opaque, int n, int level)
{
}

/* ---- reading the input ---- */

/* Registers worth hitting often; anything else by raw offset. */
static const uint32_t interesting[] = {
    E1000_CTRL,   E1000_STATUS, E1000_EECD,  E1000_EERD,   E1000_CTRL_EXT, E1000_MDIC,
    E1000_ICR,    E1000_ITR,    E1000_ICS,   E1000_IMS,    E1000_IMC,      E1000_RCTL,
    E1000_TCTL,   E1000_RDBAL,  E1000_RDBAH, E1000_RDLEN,  E1000_RDH,      E1000_RDT,
    E1000_RDTR,   E1000_RADV,   E1000_TDBAL, E1000_TDBAH,  E1000_TDLEN,    E1000_TDH,
    E1000_TDT,    E1000_TIDV,   E1000_TADV,  E1000_RXCSUM, E1000_MTA,      E1000_RA,
    E1000_RA + 4, E1000_VFTA,   E1000_VET,   E1000_PBA,    E1000_GORCH,    E1000_TOTH,
};

static uint32_t pick_offset(FuzzInput *in)
{
    uint32_t sel = fuzz_take(in, 1);
    uint32_t n = sizeof(interesting) / sizeof(interesting[0]);
    if (sel < n) {
        return interesting[sel];
    }
    return fuzz_take(in, 3) & (E1000_MMIO_SIZE - 1);
}

/* Where a buffer or ring may point. */
static uint64_t pick_address(FuzzInput *in)
{
    uint32_t kind = fuzz_take(in, 1) % 6;
    uint32_t v = fuzz_take(in, 4);
    switch (kind) {
    case 0: return v % FUZZ_RAM;
    case 1: return FUZZ_RAM - (v & 0xff); /* straddling the end of RAM */
    case 2: return (uint64_t)v << 8;      /* anywhere in 4 GiB and beyond */
    case 3: return MMIO_BASE + (v & 0x1ffff);
    case 4: return 0;
    default: return (uint64_t)v << 32 | fuzz_take(in, 4);
    }
}

static int pick_size(uint32_t sel)
{
    static const int sizes[4] = {4, 4, 2, 1};
    return sizes[sel & 3];
}

/* ---- commands ---- */

static void cmd_mmio(FuzzInput *in, bool write)
{
    uint32_t offset = pick_offset(in);
    int size = pick_size(fuzz_take(in, 1));
    if (write) {
        phys_write(&m->pm, MMIO_BASE + offset, fuzz_take(in, 4), size);
    } else {
        m->sink += phys_read(&m->pm, MMIO_BASE + offset, size);
    }
}

/* A descriptor in one of the rings, perhaps handed to the NIC at once. */
static void cmd_descriptor(FuzzInput *in)
{
    uint32_t sel = fuzz_take(in, 1);
    uint32_t ring = sel & 1 ? RX_RING : TX_RING;
    uint32_t index = (sel >> 1) % RING_DESCS;
    uint64_t addr = (sel & 0x80) ? PACKET + fuzz_take(in, 2) % PACKET_LEN : pick_address(in);
    uint8_t desc[16];
    for (int i = 0; i < 8; i++) {
        desc[i] = (uint8_t)(addr >> (8 * i));
    }
    for (int i = 8; i < 16; i++) {
        desc[i] = (uint8_t)fuzz_take(in, 1);
    }
    phys_write_buf(&m->pm, ring + 16 * index, desc, sizeof(desc));
    if (sel & 0x40) {
        uint32_t tail = (index + 1) % RING_DESCS;
        phys_write(&m->pm, MMIO_BASE + (ring == TX_RING ? E1000_TDT : E1000_RDT), tail, 4);
    }
}

static void cmd_ram(FuzzInput *in)
{
    uint32_t addr = fuzz_take(in, 3) % FUZZ_RAM;
    uint32_t len = fuzz_take(in, 1);
    uint8_t buf[256];
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)fuzz_take(in, 1);
    }
    phys_write_buf(&m->pm, addr, buf, len);
}

/*
 * A context descriptor for the template packet (IP header at 14, TCP at
 * 34), TSO or not, with fuzzed MSS, payload length and header length,
 * then data descriptors carrying the packet in two pieces, all handed to
 * the NIC: the segmentation and offload paths in one command.
 */
static void cmd_offload(FuzzInput *in)
{
    uint32_t sel = fuzz_take(in, 1);
    uint32_t mss = fuzz_take(in, 2);
    uint32_t hdrlen = sel & 1 ? 54 : fuzz_take(in, 1);
    uint32_t paylen = fuzz_take(in, 2) & 0xfffff;
    uint32_t split = fuzz_take(in, 2) % PACKET_LEN;
    bool huge = fuzz_take(in, 1) == 0xff; /* a 1 MiB buffer: the transmit budget runs out */
    uint32_t tail = phys_read(&m->pm, MMIO_BASE + E1000_TDT, 4) % RING_DESCS;
    uint32_t tse = sel & 2 ? E1000_TXD_CMD_TSE : 0;
    uint32_t data = E1000_TXD_DTYP_DATA << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_DEXT | tse |
                    (sel & 0x80 ? E1000_TXD_CMD_VLE : 0) | E1000_TXD_CMD_RS;
    uint32_t upper = (sel >> 2 & 3) << 8 | (uint32_t)fuzz_take(in, 2) << 16;
    uint32_t words[3][4] = {
        {14 | 24 << 8 | 33u << 16, 34 | 50 << 8,
         paylen | E1000_TXD_CMD_DEXT | tse | (sel & 0x10 ? E1000_TXD_CMD_IP : 0) |
             (sel & 0x20 ? E1000_TXD_CMD_TCP : 0),
         hdrlen << 8 | mss << 16},
        {PACKET, 0, split | data, upper},
        {PACKET + split, 0,
         (huge ? E1000_TXD_DTALEN_MASK : PACKET_LEN - split) | data | E1000_TXD_CMD_EOP, upper},
    };
    for (uint32_t i = 0; i < 3; i++) {
        phys_write_buf(&m->pm, TX_RING + 16 * ((tail + i) % RING_DESCS), words[i], 16);
    }
    if (sel & 0x40) {
        phys_write(&m->pm, MMIO_BASE + E1000_CTRL, E1000_CTRL_VME | E1000_CTRL_SLU, 4);
    }
    phys_write(&m->pm, MMIO_BASE + E1000_TDT, (tail + 3) % RING_DESCS, 4);
}

/* Ring sizes, control registers and interrupt moderation, within reason,
 * so the descriptor paths stay reachable. */
static void cmd_rings(FuzzInput *in)
{
    static const uint32_t delays[] = {E1000_ITR, E1000_RDTR, E1000_RADV, E1000_TIDV, E1000_TADV};
    for (uint32_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        phys_write(&m->pm, MMIO_BASE + delays[i], fuzz_take(in, 1), 4);
    }
    uint32_t n = (fuzz_take(in, 1) & 3) + 1;
    phys_write(&m->pm, MMIO_BASE + E1000_TDLEN, 128 * n, 4);
    phys_write(&m->pm, MMIO_BASE + E1000_RDLEN, 128 * n, 4);
    phys_write(&m->pm, MMIO_BASE + E1000_RDT, fuzz_take(in, 1) % (8 * n), 4);
    phys_write(&m->pm, MMIO_BASE + E1000_RCTL, fuzz_take(in, 4) | E1000_RCTL_EN, 4);
    phys_write(&m->pm, MMIO_BASE + E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP, 4);
}

static void cmd_frame(FuzzInput *in)
{
    static uint8_t frame[NET_MAX_FRAME];
    static const uint8_t dst[3][6] = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
                                      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                      {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
    uint32_t sel = fuzz_take(in, 1);
    uint32_t len = fuzz_take(in, 2);
    if (sel & 0x80) {
        len = len * 4 % NET_MAX_FRAME + 1; /* up to the largest frame the link carries */
    }
    for (uint32_t i = 0; i < len; i++) {
        frame[i] = in->left ? (uint8_t)fuzz_take(in, 1) : (uint8_t)(i * 31);
    }
    if (len >= 6 && (sel & 3) < 3) {
        memcpy(frame, dst[sel & 3], 6);
    }
    if (len == 0) {
        return;
    }
    if (m->nc->can_receive(m->nc->opaque, len)) {
        m->nc->receive(m->nc->opaque, frame, len);
    } else if (!m->held_len) {
        memcpy(m->held, frame, len);
        m->held_len = len;
    }
}

static void cmd_config(FuzzInput *in)
{
    static const int offsets[] = {PCI_COMMAND, PCI_STATUS, PCI_BASE_ADDRESS_0,
                                  PCI_BASE_ADDRESS_0 + 4};
    int offset = offsets[fuzz_take(in, 1) % 4];
    uint32_t value = fuzz_take(in, 4);
    if (offset == PCI_BASE_ADDRESS_0 && !(value & 1)) {
        value = MMIO_BASE; /* keep BAR0 where the commands look for it, mostly */
    }
    pci_config_write(m->dev, offset, value, offset == PCI_COMMAND || offset == PCI_STATUS ? 2 : 4);
}

/* The I/O window, decoding switched on first.  (It is off otherwise:
 * claiming and releasing ports is slow enough to dominate every run.) */
static void cmd_io(FuzzInput *in)
{
    uint32_t command = pci_config_read(m->dev, PCI_COMMAND, 2);
    pci_config_write(m->dev, PCI_COMMAND, command | PCI_COMMAND_IO, 2);
    uint32_t port = IO_BASE + (fuzz_take(in, 1) & 7);
    int size = pick_size(fuzz_take(in, 1));
    if (fuzz_take(in, 1) & 1) {
        ioport_write(&m->io, (uint16_t)port, fuzz_take(in, 4), size);
    } else {
        m->sink += ioport_read(&m->io, (uint16_t)port, size);
    }
}

static void machine_start(void)
{
    m = calloc(1, sizeof(*m));
    ioport_init(&m->io);
    if (!phys_init(&m->pm, FUZZ_RAM)) {
        abort();
    }
    m->pci = pci_bus_new(&m->io);
    timerlist_init_icount(&m->tl, &m->clock, 0);
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    m->nic = e1000_new(m->pci, FUZZ_DEVFN, &m->pm, irq_make(irq_cb, NULL, 0), &m->tl, mac);
    if (!m->nic) {
        abort();
    }
    m->nc = e1000_net_client(m->nic);
    m->dev = pci_find_device(m->pci, FUZZ_DEVFN);
    m->ram_image = calloc(1, FUZZ_RAM);
    for (uint32_t i = 0; i < RING_DESCS; i++) {
        uint32_t buf = RX_BUFS + 2048 * i;
        memcpy(m->ram_image + RX_RING + 16 * i, &buf, 4);
    }
    /* Ethernet to the peer, IPv4 10.0.2.15 -> 10.0.2.2, TCP, a payload. */
    static const uint8_t header[54] = {
        0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00,
        0x45, 0x00, 0x05, 0xdc, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,   0,
        2,    15,   10,   0,    2,    2,    0x04, 0xd2, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
        0x00, 0x00, 0x00, 0x00, 0x50, 0x19, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
    uint8_t *packet = m->ram_image + PACKET;
    memcpy(packet, header, sizeof(header));
    for (uint32_t i = sizeof(header); i < PACKET_LEN; i++) {
        packet[i] = (uint8_t)(i * 7);
    }
}

static void wr(uint32_t reg, uint32_t value)
{
    phys_write(&m->pm, MMIO_BASE + reg, value, 4);
}

/* Each input starts from the same state: RAM as in the image, the device
 * reset, BAR0 decoding, both rings programmed, every interrupt enabled. */
static void machine_reset(void)
{
    memcpy(m->pm.ram, m->ram_image, FUZZ_RAM);
    m->link_up = true;
    m->held_len = 0;
    e1000_reset(m->nic);
    pci_config_write(m->dev, PCI_BASE_ADDRESS_0, MMIO_BASE, 4);
    pci_config_write(m->dev, PCI_BASE_ADDRESS_0 + 4, IO_BASE, 4);
    pci_config_write(m->dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    wr(E1000_TDBAL, TX_RING);
    wr(E1000_TDLEN, 16 * RING_DESCS);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    wr(E1000_RDBAL, RX_RING);
    wr(E1000_RDLEN, 16 * RING_DESCS);
    wr(E1000_RDT, RING_DESCS - 1);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    wr(E1000_IMS, E1000_ICR_CAUSES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    if (!m) {
        machine_start();
    }
    machine_reset();
    while (in.left) {
        switch (fuzz_take(&in, 1) % 13) {
        case 0:
        case 1: cmd_mmio(&in, true); break;
        case 2: cmd_mmio(&in, false); break;
        case 3: cmd_descriptor(&in); break;
        case 4: cmd_ram(&in); break;
        case 5: cmd_rings(&in); break;
        case 6: cmd_frame(&in); break;
        case 7:
            m->clock += (uint64_t)fuzz_take(&in, 2) << (fuzz_take(&in, 1) & 15);
            timerlist_run(&m->tl);
            break;
        case 8:
            m->link_up = !m->link_up;
            m->nc->link_changed(m->nc->opaque, m->link_up);
            break;
        case 9: cmd_config(&in); break;
        case 10: cmd_io(&in); break;
        case 11: cmd_offload(&in); break;
        default: {
            char line[128];
            m->sink += (uint32_t)e1000_info(m->nic, line, sizeof(line));
            e1000_reset(m->nic);
            break;
        }
        }
    }
    /* Guest time goes on, as the main loop would let it: every moderation
     * timer expires (the longest, RADV/TADV, is 65535 x 1.024 us) and a
     * transmit walk that ran out of budget carries on a few passes. */
    for (int i = 0; i < 4; i++) {
        m->clock += 100 * 1000 * 1000;
        timerlist_run(&m->tl);
    }
    return 0;
}
