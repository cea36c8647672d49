/*
 * The 82540EM with no CPU: PCI identity and BARs through configuration
 * space, then registers through BAR0 (and BAR1's IOADDR/IODATA), the
 * EEPROM both ways (EERD and bit-banged Microwire), the PHY through MDIC,
 * interrupts and their moderation timers, transmit (legacy, checksum
 * offload, TSO, VLAN insertion) and receive (filters, multi-buffer frames,
 * VLAN stripping, checksum offload) against a test wire, and what a guest
 * can get wrong: DMA past RAM or into the device itself, bad ring
 * registers, an exhausted ring.  Expected values come from the SDM
 * (8254x Software Developer's Manual) and RFC 791/793/768 checksums,
 * computed here independently.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hw/net/e1000.h"
#include "hw/net/e1000_regs.h"

#define RAM_SIZE  (4u << 20)
#define DEVFN     PCI_DEVFN(3, 0)
#define MMIO_BASE 0xfebc0000u
#define IO_BASE   0xc000u
#define TX_RING   0x10000u
#define RX_RING   0x20000u
#define TX_BUF    0x40000u
#define RX_BUF    0x100000u
#define RX_BUFSZ  2048u
#define MAX_SENT  64

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct Fixture {
    IOPortMap io;
    PhysMem pm;
    PCIBus *pci;
    PCIDevice *dev;
    TimerList tl;
    uint64_t clock; /* ns of guest time */
    E1000State *nic;
    NetClient *nc;
    int irq_level;
    int irq_rises;
    /* The wire: what the NIC sent, the carrier, one frame held back. */
    uint8_t *sent[MAX_SENT];
    size_t sent_len[MAX_SENT];
    int nsent;
    bool link_up;
    uint8_t held[NET_MAX_FRAME];
    size_t held_len;
    int flushes;
} Fixture;

static Fixture *f;

/* ---- the net layer's side, as net/net.h promises it ---- */

void net_client_send(NetClient *nc, const uint8_t *frame, size_t len)
{
    ck_assert_ptr_eq(nc, f->nc);
    ck_assert_uint_le(len, NET_MAX_FRAME);
    if (f->nsent < MAX_SENT) {
        f->sent[f->nsent] = malloc(len);
        memcpy(f->sent[f->nsent], frame, len);
        f->sent_len[f->nsent] = len;
    }
    f->nsent++;
}

void net_client_flush(NetClient *nc)
{
    f->flushes++;
    if (f->held_len && nc->can_receive(nc->opaque, f->held_len)) {
        size_t len = f->held_len;
        f->held_len = 0;
        nc->receive(nc->opaque, f->held, len);
    }
}

bool net_client_link_up(const NetClient *nc)
{
    return f->link_up;
}

/* A frame from the peer: delivered, or held while the NIC has no room. */
static void inject(const uint8_t *frame, size_t len)
{
    if (f->nc->can_receive(f->nc->opaque, len)) {
        f->nc->receive(f->nc->opaque, frame, len);
    } else if (!f->held_len) {
        memcpy(f->held, frame, len);
        f->held_len = len;
    }
}

static void irq_cb(void *opaque, int n, int level)
{
    if (level && !f->irq_level) {
        f->irq_rises++;
    }
    f->irq_level = level;
}

/* ---- register and memory access ---- */

static uint32_t rd(uint32_t reg)
{
    return phys_read(&f->pm, MMIO_BASE + reg, 4);
}

static void wr(uint32_t reg, uint32_t v)
{
    phys_write(&f->pm, MMIO_BASE + reg, v, 4);
}

static void put_desc(uint32_t addr, uint64_t buf, uint32_t lower, uint32_t upper)
{
    phys_write(&f->pm, addr, (uint32_t)buf, 4);
    phys_write(&f->pm, addr + 4, (uint32_t)(buf >> 32), 4);
    phys_write(&f->pm, addr + 8, lower, 4);
    phys_write(&f->pm, addr + 12, upper, 4);
}

static void advance(uint64_t ns)
{
    f->clock += ns;
    timerlist_run(&f->tl);
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    ck_assert(phys_init(&f->pm, RAM_SIZE));
    f->pci = pci_bus_new(&f->io);
    timerlist_init_icount(&f->tl, &f->clock, 0);
    f->link_up = true;
    f->nic = e1000_new(f->pci, DEVFN, &f->pm, irq_make(irq_cb, NULL, 0), &f->tl, our_mac);
    ck_assert_ptr_nonnull(f->nic);
    f->nc = e1000_net_client(f->nic);
    f->dev = pci_find_device(f->pci, DEVFN);
    /* The firmware's part: BARs, then memory, I/O and bus mastering on. */
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0, MMIO_BASE, 4);
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0 + 4, IO_BASE, 4);
    pci_config_write(f->dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
                     2);
}

static void teardown(void)
{
    e1000_free(f->nic);
    pci_bus_free(f->pci);
    phys_destroy(&f->pm);
    for (int i = 0; i < f->nsent && i < MAX_SENT; i++) {
        free(f->sent[i]);
    }
    free(f);
}

/* ---- frames and checksums, computed independently of the model ---- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sum16(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* Sum over the IPv4 header (checksum included) is FFFFh when valid. */
static bool ipv4_ok(const uint8_t *frame)
{
    const uint8_t *ip = frame + 14;
    return fold(sum16(ip, (ip[0] & 15u) * 4)) == 0xffff;
}

/* The TCP or UDP checksum over pseudo-header and segment. */
static bool l4_ok(const uint8_t *frame)
{
    const uint8_t *ip = frame + 14;
    uint32_t ihl = (ip[0] & 15u) * 4, l4_len = be16(ip + 2) - ihl;
    uint32_t sum = sum16(ip + 12, 8) + ip[9] + l4_len + sum16(ip + ihl, l4_len);
    return fold(sum) == 0xffff;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (10.0.2.15 -> 10.0.2.2, ID 1234h) + TCP (seq 01020304h)
 * or UDP, payload bytes i * 7; checksum fields zero.  Returns the length. */
static uint32_t build_ipv4(uint8_t *p, const uint8_t *dst, bool tcp, uint32_t payload,
                           uint8_t flags)
{
    static const uint8_t addrs[8] = {10, 0, 2, 15, 10, 0, 2, 2};
    uint32_t l4_hlen = tcp ? 20 : 8;
    memset(p, 0, 14 + 20 + l4_hlen);
    memcpy(p, dst, 6);
    memcpy(p + 6, our_mac, 6);
    put16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    put16(ip + 2, 20 + l4_hlen + payload);
    put16(ip + 4, 0x1234);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    memcpy(ip + 12, addrs, 8);
    uint8_t *l4 = ip + 20;
    put16(l4, 1234);
    put16(l4 + 2, 80);
    if (tcp) {
        l4[4] = 1, l4[5] = 2, l4[6] = 3, l4[7] = 4;
        l4[12] = 5 << 4;
        l4[13] = flags;
        put16(l4 + 14, 0xffff);
    } else {
        put16(l4 + 4, 8 + payload);
    }
    for (uint32_t i = 0; i < payload; i++) {
        p[14 + 20 + l4_hlen + i] = (uint8_t)(i * 7);
    }
    return 14 + 20 + l4_hlen + payload;
}

/* What a driver seeds the TCP/UDP checksum with for offload: the folded
 * pseudo-header sum (l4_len 0 for TSO, where the NIC adds each length). */
static void seed_pseudo(uint8_t *frame, uint32_t l4_len, uint32_t csum_off)
{
    const uint8_t *ip = frame + 14;
    put16(frame + csum_off, fold(sum16(ip + 12, 8) + ip[9] + l4_len));
}

/* What a sender without offload puts in the IP and TCP/UDP checksums. */
static void fill_checksums(uint8_t *frame, uint32_t l4_csum_off)
{
    const uint8_t *ip = frame + 14;
    uint32_t l4_len = be16(ip + 2) - 20u;
    put16(frame + 24, 0);
    put16(frame + 24, fold(sum16(ip, 20)) ^ 0xffff);
    put16(frame + l4_csum_off, 0);
    put16(frame + l4_csum_off,
          fold(sum16(ip + 12, 8) + ip[9] + l4_len + sum16(ip + 20, l4_len)) ^ 0xffff);
}

/* ---- rings ---- */

static void tx_ring_setup(uint32_t ndesc)
{
    wr(E1000_TDBAL, TX_RING);
    wr(E1000_TDBAH, 0);
    wr(E1000_TDLEN, ndesc * 16);
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 0);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static void rx_ring_setup(uint32_t ndesc, uint32_t rctl)
{
    for (uint32_t i = 0; i < ndesc; i++) {
        put_desc(RX_RING + 16 * i, RX_BUF + RX_BUFSZ * i, 0, 0);
    }
    wr(E1000_RDBAL, RX_RING);
    wr(E1000_RDBAH, 0);
    wr(E1000_RDLEN, ndesc * 16);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, ndesc - 1);
    wr(E1000_RCTL, rctl);
}

static uint8_t rx_status(uint32_t i)
{
    return (uint8_t)phys_read(&f->pm, RX_RING + 16 * i + 12, 1);
}

static uint8_t rx_errors(uint32_t i)
{
    return (uint8_t)phys_read(&f->pm, RX_RING + 16 * i + 13, 1);
}

static uint16_t rx_length(uint32_t i)
{
    return (uint16_t)phys_read(&f->pm, RX_RING + 16 * i + 8, 2);
}

static uint8_t tx_sta(uint32_t i)
{
    return (uint8_t)phys_read(&f->pm, TX_RING + 16 * i + 12, 1) & 0x0f;
}

/* ---- PCI function ---- */

START_TEST(test_pci_identity_and_bars)
{
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_VENDOR_ID, 2), 0x8086);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_DEVICE_ID, 2), 0x100e);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_CLASS_DEVICE, 2), 0x0200);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_INTERRUPT_PIN, 1), 1);
    /* Sizing (PCI 2.1, 6.2.5.1): 128 KiB memory, 8 bytes of I/O. */
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_BASE_ADDRESS_0, 4), 0xfffe0000u);
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0 + 4, 0xffffffffu, 4);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_BASE_ADDRESS_0 + 4, 4), 0xfffffff9u);
    /* Moved: the registers follow, the old place is empty. */
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0, 0xfe000000u, 4);
    pci_config_write(f->dev, PCI_BASE_ADDRESS_0 + 4, 0xd000, 4);
    ck_assert_uint_eq(phys_read(&f->pm, 0xfe000000u + E1000_RA, 4), 0x12005452u);
    ck_assert_uint_eq(phys_read(&f->pm, MMIO_BASE + E1000_RA, 4), 0xffffffffu);
    ioport_write(&f->io, 0xd000, E1000_RA + 4, 4);
    ck_assert_uint_eq(ioport_read(&f->io, 0xd004, 4), E1000_RAH_AV | 0x5634);
    ck_assert_uint_eq(ioport_read(&f->io, IO_BASE + 4, 4), 0xffffffffu);
    /* Memory decoding off: nothing answers. */
    pci_config_write(f->dev, PCI_COMMAND, PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(phys_read(&f->pm, 0xfe000000u + E1000_RA, 4), 0xffffffffu);
}
END_TEST

/* ---- registers ---- */

START_TEST(test_register_defaults_and_masks)
{
    uint32_t status = rd(E1000_STATUS);
    ck_assert_uint_eq(status & (E1000_STATUS_LU | E1000_STATUS_FD | E1000_STATUS_SPEED_1000),
                      E1000_STATUS_LU | E1000_STATUS_FD | E1000_STATUS_SPEED_1000);
    /* Receive address 0 is loaded from the EEPROM, valid. */
    ck_assert_uint_eq(rd(E1000_RA), 0x12005452u);
    ck_assert_uint_eq(rd(E1000_RA + 4), E1000_RAH_AV | 0x5634);
    ck_assert_uint_eq(rd(E1000_VET), 0x8100);
    ck_assert_uint_eq(rd(E1000_PBA), 0x00100030u);
    /* Reserved low bits of the ring registers read 0. */
    wr(E1000_RDBAL, 0x12345678);
    ck_assert_uint_eq(rd(E1000_RDBAL), 0x12345670);
    wr(E1000_RDLEN, 0x12345);
    ck_assert_uint_eq(rd(E1000_RDLEN), 0x12300);
    wr(E1000_TDH, 0xabcdef);
    ck_assert_uint_eq(rd(E1000_TDH), 0xcdef);
    wr(E1000_ITR, 0x12345678);
    ck_assert_uint_eq(rd(E1000_ITR), 0x5678);
    /* STATUS is read-only; registers that do not exist read 0. */
    wr(E1000_STATUS, 0);
    ck_assert_uint_eq(rd(E1000_STATUS), status);
    ck_assert_uint_eq(rd(0x0004), 0);
    ck_assert_uint_eq(rd(0x7ff0), 0);
    ck_assert_uint_eq(rd(0x1fffc), 0);
    /* MTA and VFTA are plain storage; RAH keeps only AV, AS and 16 bits. */
    wr(E1000_MTA + 4 * 127, 0xdeadbeef);
    ck_assert_uint_eq(rd(E1000_MTA + 4 * 127), 0xdeadbeef);
    wr(E1000_RA + 8 * 15 + 4, 0xffffffffu);
    ck_assert_uint_eq(rd(E1000_RA + 8 * 15 + 4), 0x8003ffffu);
    /* Byte and word writes touch only their lanes. */
    wr(E1000_TIPG, 0x00602008);
    phys_write(&f->pm, MMIO_BASE + E1000_TIPG + 1, 0x0a, 1);
    ck_assert_uint_eq(rd(E1000_TIPG), 0x00600a08);
    ck_assert_uint_eq(phys_read(&f->pm, MMIO_BASE + E1000_TIPG + 2, 2), 0x0060);
    /* PBA.TXA is the rest of the 64 KB. */
    wr(E1000_PBA, 40);
    ck_assert_uint_eq(rd(E1000_PBA), 40 | 24u << 16);
}
END_TEST

START_TEST(test_io_window)
{
    ioport_write(&f->io, IO_BASE, E1000_STATUS, 4);
    ck_assert_uint_eq(ioport_read(&f->io, IO_BASE, 4), E1000_STATUS);
    ck_assert_uint_eq(ioport_read(&f->io, IO_BASE + 4, 4), rd(E1000_STATUS));
    ioport_write(&f->io, IO_BASE, E1000_TDBAL, 4);
    ioport_write(&f->io, IO_BASE + 4, 0x00abc000, 4);
    ck_assert_uint_eq(rd(E1000_TDBAL), 0x00abc000);
}
END_TEST

START_TEST(test_ctrl_reset)
{
    tx_ring_setup(8);
    wr(E1000_IMS, E1000_ICR_LSC);
    wr(E1000_RA, 0x11223344);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
    ck_assert_uint_eq(rd(E1000_CTRL) & E1000_CTRL_RST, 0);
    ck_assert_uint_eq(rd(E1000_TDLEN), 0);
    ck_assert_uint_eq(rd(E1000_TCTL), 0);
    ck_assert_uint_eq(rd(E1000_IMS), 0);
    ck_assert_uint_eq(rd(E1000_RA), 0x12005452u);
    /* A PCI reset takes the BARs down as well. */
    e1000_reset(f->nic);
    ck_assert_uint_eq(pci_bar_address(f->dev, 0), PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(phys_read(&f->pm, MMIO_BASE + E1000_RA, 4), 0xffffffffu);
}
END_TEST

/* ---- EEPROM ---- */

static uint16_t eerd(uint32_t addr)
{
    wr(E1000_EERD, E1000_EERD_START | addr << E1000_EERD_ADDR_SHIFT);
    uint32_t v = rd(E1000_EERD);
    ck_assert(v & E1000_EERD_DONE);
    return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

START_TEST(test_eeprom_eerd)
{
    uint16_t sum = 0;
    for (uint32_t i = 0; i < 64; i++) {
        sum = (uint16_t)(sum + eerd(i));
    }
    ck_assert_uint_eq(sum, 0xbaba);
    ck_assert_uint_eq(eerd(0), 0x5452);
    ck_assert_uint_eq(eerd(1), 0x1200);
    ck_assert_uint_eq(eerd(2), 0x5634);
    ck_assert_uint_eq(eerd(0x0d), 0x100e);
    ck_assert_uint_eq(eerd(0x0e), 0x8086);
    ck_assert_uint_eq(eerd(0x0a) >> 14, 1); /* signature 01b */
    /* Past the 64 words: done, no data.  The small EERD format has no
     * DONE in bit 1 (iPXE tells the formats apart by it). */
    ck_assert_uint_eq(eerd(200), 0);
    ck_assert_uint_eq(rd(E1000_EERD) & 0x2, 0);
}
END_TEST

/* Linux's e1000_read_eeprom on a Microwire part, pin by pin. */
static void ee_clock(uint32_t *eecd)
{
    *eecd |= E1000_EECD_SK;
    wr(E1000_EECD, *eecd);
    *eecd &= ~E1000_EECD_SK;
    wr(E1000_EECD, *eecd);
}

static uint16_t microwire_read(uint32_t addr)
{
    uint32_t eecd = rd(E1000_EECD) | E1000_EECD_REQ;
    wr(E1000_EECD, eecd);
    ck_assert(rd(E1000_EECD) & E1000_EECD_GNT);
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(E1000_EECD, eecd);
    /* Opcode 110b, then six address bits, MSB first. */
    uint32_t out = 0x6u << 6 | addr;
    for (int bit = 8; bit >= 0; bit--) {
        eecd = (out >> bit & 1) ? eecd | E1000_EECD_DI : eecd & ~E1000_EECD_DI;
        wr(E1000_EECD, eecd);
        ee_clock(&eecd);
    }
    eecd &= ~E1000_EECD_DI;
    wr(E1000_EECD, eecd);
    uint16_t data = 0;
    for (int i = 0; i < 16; i++) {
        eecd |= E1000_EECD_SK;
        wr(E1000_EECD, eecd);
        data = (uint16_t)(data << 1 | ((rd(E1000_EECD) & E1000_EECD_DO) ? 1 : 0));
        eecd &= ~E1000_EECD_SK;
        wr(E1000_EECD, eecd);
    }
    eecd &= ~(E1000_EECD_CS | E1000_EECD_REQ);
    wr(E1000_EECD, eecd);
    return data;
}

START_TEST(test_eeprom_microwire)
{
    ck_assert(rd(E1000_EECD) & E1000_EECD_PRES);
    ck_assert_uint_eq(rd(E1000_EECD) & E1000_EECD_GNT, 0);
    for (uint32_t i = 0; i < 64; i++) {
        ck_assert_uint_eq(microwire_read(i), eerd(i));
    }
}
END_TEST

/* ---- PHY ---- */

static uint32_t mdic(uint32_t op, uint32_t phy, uint32_t reg, uint32_t data)
{
    wr(E1000_MDIC, op | phy << E1000_MDIC_PHY_SHIFT | reg << E1000_MDIC_REG_SHIFT | data);
    uint32_t v = rd(E1000_MDIC);
    ck_assert(v & E1000_MDIC_READY);
    return v;
}

static uint16_t phy_read(uint32_t reg)
{
    uint32_t v = mdic(E1000_MDIC_OP_READ, 1, reg, 0);
    ck_assert_uint_eq(v & E1000_MDIC_ERROR, 0);
    return (uint16_t)v;
}

START_TEST(test_phy)
{
    ck_assert_uint_eq(phy_read(MII_PHYID1), 0x0141);
    ck_assert_uint_eq(phy_read(MII_PHYID2), 0x0c20);
    uint16_t bmsr = phy_read(MII_BMSR);
    ck_assert(bmsr & MII_BMSR_LINK);
    ck_assert(bmsr & MII_BMSR_ANEGDONE);
    ck_assert_uint_eq(phy_read(M88_PHY_SPEC_STATUS) & 0xc000, 0x8000); /* 1000 Mb/s */
    ck_assert(phy_read(MII_STAT1000) & MII_STAT1000_LP_FULL);
    /* Advertisement is writable, the IDs are not, restart self-clears. */
    mdic(E1000_MDIC_OP_WRITE, 1, MII_ANAR, 0x01e1);
    ck_assert_uint_eq(phy_read(MII_ANAR), 0x01e1);
    mdic(E1000_MDIC_OP_WRITE, 1, MII_PHYID1, 0);
    ck_assert_uint_eq(phy_read(MII_PHYID1), 0x0141);
    mdic(E1000_MDIC_OP_WRITE, 1, MII_BMCR, MII_BMCR_ANENABLE | MII_BMCR_ANRESTART);
    ck_assert_uint_eq(phy_read(MII_BMCR) & MII_BMCR_ANRESTART, 0);
    ck_assert(phy_read(MII_BMSR) & MII_BMSR_ANEGDONE);
    /* A software reset keeps the settings; CTRL.PHY_RST restores the
     * defaults (and does not clear itself). */
    mdic(E1000_MDIC_OP_WRITE, 1, MII_BMCR,
         MII_BMCR_RESET | MII_BMCR_ANENABLE | MII_BMCR_FD | MII_BMCR_SPEED1000);
    ck_assert_uint_eq(phy_read(MII_BMCR), 0x1140);
    ck_assert_uint_eq(phy_read(MII_ANAR), 0x01e1);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_PHY_RST);
    ck_assert(rd(E1000_CTRL) & E1000_CTRL_PHY_RST);
    wr(E1000_CTRL, rd(E1000_CTRL) & ~E1000_CTRL_PHY_RST);
    ck_assert_uint_eq(phy_read(MII_ANAR), 0x0de1);
    ck_assert(phy_read(MII_BMSR) & MII_BMSR_LINK);
    /* Nobody at address 2; the MDI interrupt when asked for. */
    ck_assert(mdic(E1000_MDIC_OP_READ, 2, MII_PHYID1, 0) & E1000_MDIC_ERROR);
    ck_assert_uint_eq(rd(E1000_ICR) & E1000_ICR_MDAC, 0);
    mdic(E1000_MDIC_OP_READ | E1000_MDIC_INT_EN, 1, MII_BMSR, 0);
    ck_assert(rd(E1000_ICR) & E1000_ICR_MDAC);
}
END_TEST

/* ---- interrupts ---- */

START_TEST(test_interrupt_registers)
{
    rd(E1000_ICR);
    wr(E1000_ICS, E1000_ICR_TXDW | E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 0); /* masked */
    ck_assert_uint_eq(rd(E1000_ICS), E1000_ICR_TXDW | E1000_ICR_RXO);
    wr(E1000_IMS, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(rd(E1000_IMS), E1000_ICR_RXO);
    /* Writing 1 to ICR clears that cause. */
    wr(E1000_ICR, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 0);
    wr(E1000_ICS, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 1);
    /* IMC masks; reading ICR returns and clears every cause. */
    wr(E1000_IMC, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 0);
    wr(E1000_IMS, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_TXDW | E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 0);
    ck_assert_uint_eq(rd(E1000_ICR), 0);
    /* INTx Disable holds the line off; the status bit still shows it. */
    pci_config_write(f->dev, PCI_COMMAND,
                     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
    wr(E1000_ICS, E1000_ICR_RXO);
    ck_assert_int_eq(f->irq_level, 0);
    ck_assert(pci_config_read(f->dev, PCI_STATUS, 2) & 0x0008);
    pci_config_write(f->dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    ck_assert_int_eq(f->irq_level, 1);
    rd(E1000_ICR);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_STATUS, 2) & 0x0008, 0);
}
END_TEST

START_TEST(test_interrupt_throttling)
{
    rd(E1000_ICR);
    wr(E1000_ITR, 100); /* 25.6 us between assertions */
    wr(E1000_IMS, E1000_ICR_TXDW);
    wr(E1000_ICS, E1000_ICR_TXDW);
    ck_assert_int_eq(f->irq_rises, 1);
    rd(E1000_ICR);
    advance(10000);
    wr(E1000_ICS, E1000_ICR_TXDW);
    ck_assert_int_eq(f->irq_level, 0); /* held back */
    advance(15000);
    ck_assert_int_eq(f->irq_level, 0);
    advance(600);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_int_eq(f->irq_rises, 2);
}
END_TEST

/* ---- link ---- */

START_TEST(test_link_change)
{
    wr(E1000_IMS, E1000_ICR_LSC);
    rd(E1000_ICR);
    f->link_up = false;
    f->nc->link_changed(f->nc->opaque, false);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_LSC);
    ck_assert_uint_eq(rd(E1000_STATUS) & E1000_STATUS_LU, 0);
    ck_assert_uint_eq(phy_read(MII_BMSR) & MII_BMSR_LINK, 0);
    char buf[128];
    e1000_info(f->nic, buf, sizeof(buf));
    ck_assert_str_eq(buf, "model=e1000,macaddr=52:54:00:12:34:56,link=down");
    f->link_up = true;
    f->nc->link_changed(f->nc->opaque, true);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_LSC);
    ck_assert(rd(E1000_STATUS) & E1000_STATUS_LU);
    ck_assert(phy_read(MII_BMSR) & MII_BMSR_LINK);
    /* A carrier the net layer changed without telling: seen on STATUS. */
    f->link_up = false;
    ck_assert_uint_eq(rd(E1000_STATUS) & E1000_STATUS_LU, 0);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_LSC);
    ck_assert_int_eq(e1000_info(f->nic, NULL, 0), (int)strlen(buf));
}
END_TEST

/* ---- transmit ---- */

START_TEST(test_tx_legacy)
{
    uint8_t frame[100];
    build_ipv4(frame, peer_mac, false, 100 - 42, 0);
    phys_load(&f->pm, TX_BUF, frame, 40);
    phys_load(&f->pm, TX_BUF + 0x1000, frame + 40, 60);
    tx_ring_setup(8);
    rd(E1000_ICR);
    wr(E1000_IMS, E1000_ICR_TXDW);
    put_desc(TX_RING, TX_BUF, 40 | E1000_TXD_CMD_RS, 0);
    put_desc(TX_RING + 16, TX_BUF + 0x1000, 60 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    wr(E1000_TDT, 2);
    ck_assert_int_eq(f->nsent, 1);
    ck_assert_uint_eq(f->sent_len[0], 100);
    ck_assert_mem_eq(f->sent[0], frame, 100);
    ck_assert_uint_eq(tx_sta(0), E1000_TXD_STAT_DD);
    ck_assert_uint_eq(tx_sta(1), E1000_TXD_STAT_DD);
    ck_assert_uint_eq(rd(E1000_TDH), 2);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
    /* A short frame padded (TCTL.PSP); no RS, no write-back. */
    put_desc(TX_RING + 32, TX_BUF, 20 | E1000_TXD_CMD_EOP, 0);
    wr(E1000_TDT, 3);
    ck_assert_int_eq(f->nsent, 2);
    ck_assert_uint_eq(f->sent_len[1], 60);
    ck_assert_uint_eq(tx_sta(2), 0);
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_TXQE);
    /* Statistics: 2 packets, 104 + 64 octets with FCS; cleared on read. */
    ck_assert_uint_eq(rd(E1000_GPTC), 2);
    ck_assert_uint_eq(rd(E1000_TPT), 2);
    ck_assert_uint_eq(rd(E1000_GOTCL), 168);
    ck_assert_uint_eq(rd(E1000_GOTCH), 0);
    ck_assert_uint_eq(rd(E1000_GOTCL), 0);
    ck_assert_uint_eq(rd(E1000_PTC64), 1);
    ck_assert_uint_eq(rd(E1000_PTC127), 1);
    ck_assert_uint_eq(rd(E1000_GPTC), 0);
    /* Nothing goes out with TCTL.EN clear. */
    wr(E1000_TCTL, 0);
    put_desc(TX_RING + 48, TX_BUF, 60 | E1000_TXD_CMD_EOP, 0);
    wr(E1000_TDT, 4);
    ck_assert_int_eq(f->nsent, 2);
    wr(E1000_TCTL, E1000_TCTL_EN);
    ck_assert_int_eq(f->nsent, 3);
}
END_TEST

START_TEST(test_tx_checksum_offload)
{
    uint8_t frame[200];
    uint32_t len = build_ipv4(frame, peer_mac, true, 146, 0x18);
    seed_pseudo(frame, len - 34, 34 + 16);
    phys_load(&f->pm, TX_BUF, frame, len);
    tx_ring_setup(8);
    /* Context: IP header 14..33 with its checksum at 24, TCP from 34 to the
     * end with its checksum at 50. */
    put_desc(TX_RING, 14 | 24 << 8 | 33u << 16 | (uint64_t)(34 | 50 << 8) << 32,
             E1000_TXD_CMD_DEXT | E1000_TXD_CMD_IP | E1000_TXD_CMD_TCP, 0);
    put_desc(TX_RING + 16, TX_BUF,
             len | E1000_TXD_DTYP_DATA << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_DEXT |
                 E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
             (E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
    wr(E1000_TDT, 2);
    ck_assert_int_eq(f->nsent, 1);
    ck_assert_uint_eq(f->sent_len[0], len);
    ck_assert(ipv4_ok(f->sent[0]));
    ck_assert(l4_ok(f->sent[0]));
    ck_assert_mem_eq(f->sent[0] + 54, frame + 54, len - 54);

    /* Legacy IC: UDP checksum from CSS 34 inserted at CSO 40. */
    len = build_ipv4(frame, peer_mac, false, 31, 0);
    fill_checksums(frame, 34 + 6);
    seed_pseudo(frame, len - 34, 34 + 6);
    phys_load(&f->pm, TX_BUF, frame, len);
    put_desc(TX_RING + 32, TX_BUF, len | 40 << 16 | E1000_TXD_CMD_IC | E1000_TXD_CMD_EOP, 34 << 8);
    wr(E1000_TDT, 3);
    ck_assert_int_eq(f->nsent, 2);
    ck_assert(ipv4_ok(f->sent[1]));
    ck_assert(l4_ok(f->sent[1]));
}
END_TEST

START_TEST(test_tx_tso)
{
    enum { MSS = 1000, PAYLEN = 2500, HDR = 54 };
    static uint8_t frame[HDR + PAYLEN];
    build_ipv4(frame, peer_mac, true, PAYLEN, 0x19); /* ACK PSH FIN */
    seed_pseudo(frame, 0, 34 + 16);
    put16(frame + 14 + 2, 0);
    phys_load(&f->pm, TX_BUF, frame, sizeof(frame));
    tx_ring_setup(8);
    put_desc(TX_RING, 14 | 24 << 8 | 33u << 16 | (uint64_t)(34 | 50 << 8) << 32,
             PAYLEN | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_IP | E1000_TXD_CMD_TCP,
             HDR << 8 | (uint32_t)MSS << 16);
    uint32_t data =
        E1000_TXD_DTYP_DATA << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE;
    uint32_t popts = (E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8;
    /* Header alone, then the payload in two pieces that straddle segments. */
    put_desc(TX_RING + 16, TX_BUF, HDR | data, popts);
    put_desc(TX_RING + 32, TX_BUF + HDR, 1500 | data, popts);
    put_desc(TX_RING + 48, TX_BUF + HDR + 1500,
             (PAYLEN - 1500) | data | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, popts);
    wr(E1000_TDT, 4);
    ck_assert_int_eq(f->nsent, 3);
    static const uint32_t payload[3] = {MSS, MSS, PAYLEN - 2 * MSS};
    for (int i = 0; i < 3; i++) {
        const uint8_t *seg = f->sent[i];
        ck_assert_uint_eq(f->sent_len[i], HDR + payload[i]);
        ck_assert_mem_eq(seg, frame, 14);
        ck_assert_uint_eq(be16(seg + 14 + 2), 40 + payload[i]); /* IP total length */
        ck_assert_uint_eq(be16(seg + 14 + 4), 0x1234 + i);      /* IP ID */
        ck_assert_uint_eq(be32(seg + 34 + 4), 0x01020304u + i * MSS);
        ck_assert_uint_eq(seg[34 + 13], i == 2 ? 0x19 : 0x10);
        ck_assert(ipv4_ok(seg));
        ck_assert(l4_ok(seg));
        ck_assert_mem_eq(seg + HDR, frame + HDR + i * MSS, payload[i]);
    }
    ck_assert_uint_eq(tx_sta(3), E1000_TXD_STAT_DD);
    ck_assert_uint_eq(rd(E1000_TSCTC), 1);

    /* UDP segmentation: each datagram's length fixed up. */
    uint32_t len = build_ipv4(frame, peer_mac, false, 1200, 0);
    seed_pseudo(frame, 0, 34 + 6);
    phys_load(&f->pm, TX_BUF, frame, len);
    put_desc(TX_RING + 64, 14 | 24 << 8 | 33u << 16 | (uint64_t)(34 | 40 << 8) << 32,
             1200 | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_IP,
             42 << 8 | 500u << 16);
    put_desc(TX_RING + 80, TX_BUF, len | data | E1000_TXD_CMD_EOP, popts);
    wr(E1000_TDT, 6);
    ck_assert_int_eq(f->nsent, 6);
    for (int i = 3; i < 6; i++) {
        uint32_t pl = i < 5 ? 500 : 200;
        ck_assert_uint_eq(f->sent_len[i], 42 + pl);
        ck_assert_uint_eq(be16(f->sent[i] + 34 + 4), 8 + pl);
        ck_assert(ipv4_ok(f->sent[i]));
        ck_assert(l4_ok(f->sent[i]));
    }
}
END_TEST

START_TEST(test_tx_vlan_insert)
{
    uint8_t frame[64];
    memset(frame, 0xab, sizeof(frame));
    memcpy(frame, peer_mac, 6);
    phys_load(&f->pm, TX_BUF, frame, sizeof(frame));
    tx_ring_setup(8);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_VME);
    put_desc(TX_RING, TX_BUF, 64 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE, 0x0123u << 16);
    wr(E1000_TDT, 1);
    ck_assert_int_eq(f->nsent, 1);
    ck_assert_uint_eq(f->sent_len[0], 68);
    ck_assert_mem_eq(f->sent[0], frame, 12);
    ck_assert_uint_eq(be16(f->sent[0] + 12), 0x8100);
    ck_assert_uint_eq(be16(f->sent[0] + 14), 0x0123);
    ck_assert_mem_eq(f->sent[0] + 16, frame + 12, 52);
}
END_TEST

START_TEST(test_tx_interrupt_delay)
{
    tx_ring_setup(8);
    rd(E1000_ICR);
    wr(E1000_IMS, E1000_ICR_TXDW);
    wr(E1000_TIDV, 10);
    wr(E1000_TADV, 15);
    for (int i = 0; i < 3; i++) {
        put_desc(TX_RING + 16 * i, TX_BUF,
                 60 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE, 0);
        wr(E1000_TDT, i + 1);
        ck_assert_int_eq(f->irq_level, 0);
        advance(6 * 1024);
    }
    /* The absolute timer (15 x 1.024 us after the first) fired meanwhile. */
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_int_eq(f->irq_rises, 1);
    ck_assert(rd(E1000_ICR) & E1000_ICR_TXDW);
}
END_TEST

/* A TDT write that asks for more than one pass may move: the rest follows
 * from the timer, and nothing is lost. */
START_TEST(test_tx_budget)
{
    enum { NDESC = 64, LEN = 60000 };
    tx_ring_setup(NDESC);
    for (int i = 0; i < NDESC - 1; i++) {
        put_desc(TX_RING + 16 * i, TX_BUF, LEN | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    }
    wr(E1000_TDT, NDESC - 1);
    ck_assert_int_lt(f->nsent, NDESC - 1);
    ck_assert_int_gt(f->nsent, 0);
    advance(0);
    ck_assert_int_lt(f->nsent, NDESC - 1); /* not in the same breath */
    for (int i = 0; i < 100 && f->nsent < NDESC - 1; i++) {
        advance(1000);
    }
    ck_assert_int_eq(f->nsent, NDESC - 1);
    ck_assert_uint_eq(rd(E1000_TDH), NDESC - 1);
    ck_assert_uint_eq(tx_sta(NDESC - 2), E1000_TXD_STAT_DD);
}
END_TEST

/* ---- receive ---- */

static uint32_t make_frame(uint8_t *p, const uint8_t *dst, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(i * 13 + 1);
    }
    memcpy(p, dst, 6);
    memcpy(p + 6, peer_mac, 6);
    put16(p + 12, 0x0800);
    return len;
}

START_TEST(test_rx_basic)
{
    uint8_t frame[300], buf[400];
    rx_ring_setup(8, E1000_RCTL_EN | E1000_RCTL_SECRC);
    rd(E1000_ICR);
    wr(E1000_IMS, E1000_ICR_RXT0);
    inject(frame, make_frame(frame, our_mac, 300));
    ck_assert_uint_eq(rx_status(0), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    ck_assert_uint_eq(rx_length(0), 300);
    phys_read_buf(&f->pm, RX_BUF, buf, 300);
    ck_assert_mem_eq(buf, frame, 300);
    ck_assert_uint_eq(rd(E1000_RDH), 1);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert(rd(E1000_ICR) & E1000_ICR_RXT0);
    /* A short frame comes padded; without SECRC the FCS is stored too. */
    wr(E1000_RCTL, E1000_RCTL_EN);
    inject(frame, 42);
    ck_assert_uint_eq(rx_length(1), 64);
    phys_read_buf(&f->pm, RX_BUF + RX_BUFSZ, buf, 64);
    ck_assert_mem_eq(buf, frame, 42);
    for (int i = 42; i < 60; i++) {
        ck_assert_uint_eq(buf[i], 0);
    }
    uint32_t fcs = (uint32_t)crc32(0, buf, 60);
    ck_assert_uint_eq(buf[60] | buf[61] << 8 | buf[62] << 16 | (uint32_t)buf[63] << 24, fcs);
    ck_assert_uint_eq(rd(E1000_GPRC), 2);
    ck_assert_uint_eq(rd(E1000_GORCL), 304 + 64);
    ck_assert_uint_eq(rd(E1000_GORCH), 0);
    ck_assert_uint_eq(rd(E1000_PRC64), 1);
    ck_assert_uint_eq(rd(E1000_PRC511), 1);
    /* Receiver off: the frame is dropped, not held. */
    wr(E1000_RCTL, 0);
    inject(frame, 300);
    ck_assert_uint_eq(rd(E1000_RDH), 2);
    ck_assert_uint_eq(f->held_len, 0);
}
END_TEST

START_TEST(test_rx_filters)
{
    static const uint8_t other[6] = {0x52, 0x54, 0x00, 0x99, 0x99, 0x99};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    static const uint8_t mcast2[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    uint8_t frame[100];
    uint32_t rdh = 0;
    rx_ring_setup(16, E1000_RCTL_EN | E1000_RCTL_SECRC);
    /* Unicast to someone else: dropped.  To us: taken. */
    inject(frame, make_frame(frame, other, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    inject(frame, make_frame(frame, our_mac, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    /* Broadcast needs BAM. */
    inject(frame, make_frame(frame, bcast_mac, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_BAM);
    inject(frame, make_frame(frame, bcast_mac, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    ck_assert_uint_eq(rd(E1000_BPRC), 1);
    /* Multicast through the table: MO=00 hashes address bits 47:36,
     * 01:00:5e:00:00:fb -> (0x00 >> 4 | 0xfb << 4) = 0xfb0. */
    inject(frame, make_frame(frame, mcast, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    wr(E1000_MTA + 4 * (0xfb0 >> 5), 1u << (0xfb0 & 31));
    inject(frame, make_frame(frame, mcast, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    inject(frame, make_frame(frame, mcast2, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    /* MO=11 hashes bits 43:32 instead: 0xb00 for the same address. */
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | 3u << E1000_RCTL_MO_SHIFT);
    inject(frame, make_frame(frame, mcast, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    wr(E1000_MTA + 4 * (0xb00 >> 5), 1u << (0xb00 & 31));
    inject(frame, make_frame(frame, mcast, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    ck_assert_uint_eq(rd(E1000_MPRC), 2);
    /* Multicast promiscuous takes any group; an exact entry in RA[3] too. */
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_MPE);
    inject(frame, make_frame(frame, mcast2, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC);
    wr(E1000_RA + 24, 0x99005452);
    wr(E1000_RA + 28, E1000_RAH_AV | 0x9999);
    inject(frame, make_frame(frame, other, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    wr(E1000_RA + 28, 0x9999); /* not valid any more */
    inject(frame, make_frame(frame, other, 100));
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    /* Unicast promiscuous. */
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_UPE);
    inject(frame, make_frame(frame, other, 100));
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
    /* The VLAN filter: a tagged frame with VID 5 only if VFTA says so. */
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_VFE);
    make_frame(frame, our_mac, 100);
    put16(frame + 12, 0x8100);
    put16(frame + 14, 5);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), rdh);
    wr(E1000_VFTA, 1u << 5);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), ++rdh);
}
END_TEST

START_TEST(test_rx_multi_buffer_and_long)
{
    static uint8_t frame[3000], buf[3000];
    /* 1024-byte buffers (BSIZE 01b). */
    rx_ring_setup(8, E1000_RCTL_EN | E1000_RCTL_SECRC | 1u << E1000_RCTL_BSIZE_SHIFT);
    make_frame(frame, our_mac, 3000);
    inject(frame, 3000);
    ck_assert_uint_eq(rd(E1000_RDH), 0); /* too long without LPE */
    ck_assert_uint_eq(rd(E1000_ROC), 1);
    inject(frame, 1518);
    ck_assert_uint_eq(rd(E1000_RDH), 2);
    wr(E1000_RCTL,
       E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_LPE | 1u << E1000_RCTL_BSIZE_SHIFT);
    inject(frame, 3000);
    ck_assert_uint_eq(rd(E1000_RDH), 5);
    ck_assert_uint_eq(rx_status(2), E1000_RXD_STAT_DD);
    ck_assert_uint_eq(rx_status(3), E1000_RXD_STAT_DD);
    ck_assert_uint_eq(rx_status(4), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    ck_assert_uint_eq(rx_length(2), 1024);
    ck_assert_uint_eq(rx_length(4), 3000 - 2048);
    for (int i = 0; i < 3; i++) {
        phys_read_buf(&f->pm, RX_BUF + RX_BUFSZ * (2 + i), buf + 1024 * i, i < 2 ? 1024 : 952);
    }
    ck_assert_mem_eq(buf, frame, 3000);
    /* BSEX: 16 x; BSIZE 11b with BSEX = 4096 bytes, one descriptor. */
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_LPE | E1000_RCTL_BSEX |
                       3u << E1000_RCTL_BSIZE_SHIFT);
    wr(E1000_RDT, 0);
    inject(frame, 3000);
    ck_assert_uint_eq(rd(E1000_RDH), 6);
    ck_assert_uint_eq(rx_length(5), 3000);
}
END_TEST

START_TEST(test_rx_ring_full)
{
    uint8_t frame[100];
    make_frame(frame, our_mac, 100);
    rx_ring_setup(8, E1000_RCTL_EN | E1000_RCTL_SECRC);
    wr(E1000_RDT, 2);
    rd(E1000_ICR);
    inject(frame, 100);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 2);
    /* No descriptor left: the link holds the next frame. */
    ck_assert(!f->nc->can_receive(f->nc->opaque, 100));
    frame[20] = 0x77;
    inject(frame, 100);
    ck_assert_uint_eq(f->held_len, 100);
    /* RDT moves: the device asks for it and gets it. */
    wr(E1000_RDT, 5);
    ck_assert_uint_eq(f->held_len, 0);
    ck_assert_uint_eq(rd(E1000_RDH), 3);
    ck_assert_uint_eq(phys_read(&f->pm, RX_BUF + 2 * RX_BUFSZ + 20, 1), 0x77);
    /* Delivered anyway with no room: an overrun, counted. */
    wr(E1000_RDT, 3);
    f->nc->receive(f->nc->opaque, frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 3);
    ck_assert(rd(E1000_ICR) & E1000_ICR_RXO);
    ck_assert_uint_eq(rd(E1000_MPC), 1);
    ck_assert_uint_eq(rd(E1000_RNBC), 1);
    /* RXDMT0 when free descriptors fall to half the ring (6, 5, then 4). */
    wr(E1000_RDT, 1);
    rd(E1000_ICR);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_ICR) & E1000_ICR_RXDMT0, 0);
    inject(frame, 100);
    ck_assert(rd(E1000_ICR) & E1000_ICR_RXDMT0);
}
END_TEST

START_TEST(test_rx_vlan_and_checksum)
{
    static uint8_t frame[300], tagged[304];
    rx_ring_setup(8, E1000_RCTL_EN | E1000_RCTL_SECRC);
    wr(E1000_RXCSUM, E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD);
    uint32_t len = build_ipv4(frame, our_mac, true, 200, 0x10);
    fill_checksums(frame, 50);
    ck_assert(ipv4_ok(frame));
    ck_assert(l4_ok(frame));
    inject(frame, len);
    ck_assert_uint_eq(rx_status(0), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP | E1000_RXD_STAT_IPCS |
                                        E1000_RXD_STAT_TCPCS);
    ck_assert_uint_eq(rx_errors(0), 0);
    /* A bad TCP checksum is reported, a fine IP header still passes. */
    frame[len - 1] ^= 0xff;
    inject(frame, len);
    ck_assert_uint_eq(rx_errors(1), E1000_RXD_ERR_TCPE);
    frame[len - 1] ^= 0xff;
    /* Tagged, with VLAN mode on: the tag goes to the special field. */
    memcpy(tagged, frame, 12);
    put16(tagged + 12, 0x8100);
    put16(tagged + 14, 0x2007);
    memcpy(tagged + 16, frame + 12, len - 12);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_VME);
    inject(tagged, len + 4);
    ck_assert(rx_status(2) & E1000_RXD_STAT_VP);
    ck_assert_uint_eq(rx_errors(2), 0);
    ck_assert_uint_eq(phys_read(&f->pm, RX_RING + 32 + 14, 2), 0x2007);
    ck_assert_uint_eq(rx_length(2), len);
    static uint8_t buf[300];
    phys_read_buf(&f->pm, RX_BUF + 2 * RX_BUFSZ, buf, len);
    ck_assert_mem_eq(buf, frame, len);
}
END_TEST

START_TEST(test_rx_interrupt_delay)
{
    uint8_t frame[100];
    make_frame(frame, our_mac, 100);
    rx_ring_setup(16, E1000_RCTL_EN | E1000_RCTL_SECRC);
    rd(E1000_ICR);
    wr(E1000_IMS, E1000_ICR_RXT0);
    wr(E1000_RDTR, 10);
    wr(E1000_RADV, 25);
    /* Frames 8 us apart keep restarting the packet timer... */
    for (int i = 0; i < 3; i++) {
        inject(frame, 100);
        advance(8 * 1024);
        ck_assert_int_eq(f->irq_level, 0);
    }
    /* ...until the absolute timer (25 x 1.024 us after the first) fires. */
    advance(1024);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(rd(E1000_ICR) & E1000_ICR_RXT0, E1000_ICR_RXT0);
    /* The packet timer alone; FPD flushes at once. */
    inject(frame, 100);
    advance(9 * 1024);
    ck_assert_int_eq(f->irq_level, 0);
    advance(1024);
    ck_assert_int_eq(f->irq_level, 1);
    rd(E1000_ICR);
    inject(frame, 100);
    wr(E1000_RDTR, 10 | E1000_RDTR_FPD);
    ck_assert_int_eq(f->irq_level, 1);
}
END_TEST

/* ---- what a guest can get wrong ---- */

START_TEST(test_dma_outside_ram)
{
    uint8_t frame[100];
    make_frame(frame, our_mac, 100);
    tx_ring_setup(8);
    /* A buffer above 4 GiB and one in unclaimed space: all ones go out,
     * the descriptors complete, the master abort shows in PCI status. */
    put_desc(TX_RING, 0x100000000ull, 60 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    put_desc(TX_RING + 16, 0xfffffff0u, 60 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    put_desc(TX_RING + 32, RAM_SIZE - 30, 60 | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    wr(E1000_TDT, 3);
    ck_assert_int_eq(f->nsent, 3);
    ck_assert_uint_eq(f->sent[0][0], 0xff);
    ck_assert_uint_eq(f->sent[0][59], 0xff);
    ck_assert_uint_eq(f->sent[2][30], 0xff);
    ck_assert_uint_eq(tx_sta(2), E1000_TXD_STAT_DD);
    ck_assert(pci_config_read(f->dev, PCI_STATUS, 2) & 0x2000);
    /* Write 1 to clear, as for any PCI error bit. */
    pci_config_write(f->dev, PCI_STATUS, 0x2000, 2);
    ck_assert_uint_eq(pci_config_read(f->dev, PCI_STATUS, 2) & 0x2000, 0);
    /* The whole receive ring past RAM, then buffers past RAM. */
    wr(E1000_RDBAL, 0xf0000000u);
    wr(E1000_RDLEN, 128);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, 4);
    wr(E1000_RCTL, E1000_RCTL_EN);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 1);
    ck_assert(pci_config_read(f->dev, PCI_STATUS, 2) & 0x2000);
    rx_ring_setup(8, E1000_RCTL_EN);
    put_desc(RX_RING, RAM_SIZE - 8, 0, 0);
    put_desc(RX_RING + 16, 0xffffffffffff0000ull, 0, 0);
    inject(frame, 100);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 2);
    ck_assert_uint_eq(rx_status(1), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    /* A null buffer address: handed back empty, the frame goes on in the
     * next descriptor. */
    put_desc(RX_RING + 32, 0, 0, 0);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 4);
    ck_assert_uint_eq(rx_status(2), E1000_RXD_STAT_DD);
    ck_assert_uint_eq(rx_length(2), 0);
    ck_assert_uint_eq(rx_length(3), 104);
}
END_TEST

START_TEST(test_bad_ring_registers)
{
    uint8_t frame[100];
    make_frame(frame, our_mac, 100);
    /* RDLEN 0: no ring, nothing to wait for (the ring can never hold it). */
    rx_ring_setup(8, E1000_RCTL_EN);
    wr(E1000_RDLEN, 0);
    ck_assert(f->nc->can_receive(f->nc->opaque, 100));
    f->nc->receive(f->nc->opaque, frame, 100);
    ck_assert(rd(E1000_ICR) & E1000_ICR_RXO);
    /* Head or tail outside the ring: no descriptors. */
    wr(E1000_RDLEN, 128);
    wr(E1000_RDH, 100);
    f->nc->receive(f->nc->opaque, frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 100);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, 8);
    f->nc->receive(f->nc->opaque, frame, 100);
    ck_assert_uint_eq(rd(E1000_RDH), 0);
    /* Transmit: TDT past the ring or TDH past it walk nothing. */
    tx_ring_setup(8);
    put_desc(TX_RING, TX_BUF, 60 | E1000_TXD_CMD_EOP, 0);
    wr(E1000_TDT, 9);
    ck_assert_int_eq(f->nsent, 0);
    wr(E1000_TDH, 12);
    wr(E1000_TDT, 1);
    ck_assert_int_eq(f->nsent, 0);
    /* TDLEN not a multiple of 128: the low bits do not exist. */
    wr(E1000_TDH, 0);
    wr(E1000_TDLEN, 200);
    ck_assert_uint_eq(rd(E1000_TDLEN), 128);
    wr(E1000_TDT, 1);
    ck_assert_int_eq(f->nsent, 1);
    /* A TSO context with MSS 0 cannot segment: the packet goes out whole. */
    put_desc(TX_RING + 16, 0, 64 | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE, 54 << 8);
    put_desc(TX_RING + 32, TX_BUF,
             100 | E1000_TXD_DTYP_DATA << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_DEXT |
                 E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP,
             0);
    wr(E1000_TDT, 3);
    ck_assert_int_eq(f->nsent, 2);
    ck_assert_uint_eq(f->sent_len[1], 100);
    /* A TSO packet that ends inside its header fails, counted. */
    put_desc(TX_RING + 48, 0, 64 | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE, 54 << 8 | 100u << 16);
    put_desc(TX_RING + 64, TX_BUF,
             20 | E1000_TXD_DTYP_DATA << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_DEXT |
                 E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP,
             0);
    wr(E1000_TDT, 5);
    ck_assert_int_eq(f->nsent, 2);
    ck_assert_uint_eq(rd(E1000_TSCTFC), 1);
}
END_TEST

/* Rings and buffers inside the device's own registers: the accesses are
 * dropped instead of re-entering it. */
START_TEST(test_dma_into_own_registers)
{
    uint8_t frame[100];
    make_frame(frame, our_mac, 100);
    /* The transmit ring is the register file: its "descriptors" read as
     * all ones (length FFFFh to address FF..FF, a reserved type). */
    wr(E1000_TDBAL, MMIO_BASE + E1000_TDBAL);
    wr(E1000_TDBAH, 0);
    wr(E1000_TDLEN, 128);
    wr(E1000_TDH, 0);
    wr(E1000_TCTL, E1000_TCTL_EN);
    wr(E1000_TDT, 7);
    ck_assert_uint_eq(rd(E1000_TDH), 7);
    ck_assert_uint_eq(rd(E1000_TDLEN), 128);
    /* A receive buffer over TDT and ICS. */
    tx_ring_setup(8);
    rx_ring_setup(8, E1000_RCTL_EN | E1000_RCTL_SECRC);
    put_desc(RX_RING, MMIO_BASE + E1000_TDT - 12, 0, 0);
    inject(frame, 100);
    ck_assert_uint_eq(rd(E1000_TDT), 0);
    ck_assert_uint_eq(rx_status(0), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    ck_assert_int_eq(f->nsent, 0);
}
END_TEST

static Suite *e1000_suite(void)
{
    Suite *s = suite_create("e1000");
    TCase *regs = tcase_create("registers");
    tcase_add_checked_fixture(regs, setup, teardown);
    tcase_add_test(regs, test_pci_identity_and_bars);
    tcase_add_test(regs, test_register_defaults_and_masks);
    tcase_add_test(regs, test_io_window);
    tcase_add_test(regs, test_ctrl_reset);
    tcase_add_test(regs, test_eeprom_eerd);
    tcase_add_test(regs, test_eeprom_microwire);
    tcase_add_test(regs, test_phy);
    tcase_add_test(regs, test_interrupt_registers);
    tcase_add_test(regs, test_interrupt_throttling);
    tcase_add_test(regs, test_link_change);
    suite_add_tcase(s, regs);
    TCase *tx = tcase_create("transmit");
    tcase_add_checked_fixture(tx, setup, teardown);
    tcase_add_test(tx, test_tx_legacy);
    tcase_add_test(tx, test_tx_checksum_offload);
    tcase_add_test(tx, test_tx_tso);
    tcase_add_test(tx, test_tx_vlan_insert);
    tcase_add_test(tx, test_tx_interrupt_delay);
    tcase_add_test(tx, test_tx_budget);
    suite_add_tcase(s, tx);
    TCase *rx = tcase_create("receive");
    tcase_add_checked_fixture(rx, setup, teardown);
    tcase_add_test(rx, test_rx_basic);
    tcase_add_test(rx, test_rx_filters);
    tcase_add_test(rx, test_rx_multi_buffer_and_long);
    tcase_add_test(rx, test_rx_ring_full);
    tcase_add_test(rx, test_rx_vlan_and_checksum);
    tcase_add_test(rx, test_rx_interrupt_delay);
    suite_add_tcase(s, rx);
    TCase *bad = tcase_create("hostile");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, test_dma_outside_ram);
    tcase_add_test(bad, test_bad_ring_registers);
    tcase_add_test(bad, test_dma_into_own_registers);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(e1000_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
