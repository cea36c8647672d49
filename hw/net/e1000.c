/*
 * Intel 82540EM: registers, interrupts, statistics, DMA and the PCI
 * function.  The EEPROM is in e1000_eeprom.c, the PHY in e1000_phy.c,
 * receive in e1000_rx.c, transmit in e1000_tx.c.
 *
 * The guest reaches the registers through BAR0 (memory) or through the
 * IOADDR/IODATA pair in BAR1 (SDM chapter 13).  Everything is done at once: a
 * write to TDT walks the transmit ring before returning, a frame from the
 * link lands in the receive ring inside receive(), the PHY completes auto-
 * negotiation as soon as it is asked, an MDIC access is ready when written.
 * Only the interrupt moderation timers (RDTR, RADV, TIDV, TADV, ITR) take
 * guest time, through the timer list.
 *
 * A guest can point descriptors and buffers anywhere, including at this
 * device's own registers.  DMA goes through phys_read_buf/phys_write_buf,
 * which keep every access inside guest RAM or a mapped region; while the
 * device is busy (in a register access or delivering a frame) accesses to
 * its own BARs are dropped instead of recursing into it.  A ring walk ends
 * within one lap of the ring, and the transmit side also stops after a
 * budget of bytes (e1000_tx.c), so no register write does unbounded work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/net/e1000_internal.h"

/* PCI identity: QEMU's e1000 (revision 3). */
#define E1000_PCI_REVISION 0x03
#define E1000_PCI_MIN_GNT  0x3e /* configuration offset; 82540EM: FFh */

/* PCI status bits the function reports (PCI 2.3, 6.2.3). */
#define E1000_PCI_STATUS_INTERRUPT    0x0008 /* INTx# pending */
#define E1000_PCI_STATUS_MASTER_ABORT 0x2000 /* received master abort */

/* Register values after reset (SDM 13.4, initial values). */
#define E1000_CTRL_DEFAULT   (E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPEED_1000)
#define E1000_VET_DEFAULT    0x8100     /* the 802.1Q EtherType */
#define E1000_LEDCTL_DEFAULT 0x07068302 /* LED0 link up, LED1/2/3 activity, speed */
#define E1000_PBA_TOTAL_KB   64         /* packet buffer, split between RX and TX */
#define E1000_PBA_DEFAULT    48         /* KB for receive */
#define E1000_TSPMT_DEFAULT  0x01000400

/* The machine's physical address space ends at 4 GiB. */
#define E1000_DMA_LIMIT (1ull << 32)

/* Which registers exist and which of their bits a write may change. */
typedef struct E1000Reg {
    uint32_t offset; /* first register */
    uint32_t count;  /* registers in the array */
    uint32_t wmask;  /* writable bits (the rest are read-only or self-clearing) */
    uint32_t stride; /* bytes between registers of the array; 0 = 4 */
} E1000Reg;

static const E1000Reg e1000_reg_table[] = {
    {E1000_CTRL, 1, 0xdffc1be9},
    {E1000_STATUS, 1, 0},
    {E1000_EECD, 1, 0},
    {E1000_EERD, 1, 0},
    {E1000_CTRL_EXT, 1, 0xffffcfffu},
    {E1000_MDIC, 1, 0},
    {E1000_FCAL, 1, 0xffffffffu},
    {E1000_FCAH, 1, 0x0000ffff},
    {E1000_FCT, 1, 0x0000ffff},
    {E1000_VET, 1, 0x0000ffff},
    {E1000_ICR, 1, 0},
    {E1000_ITR, 1, 0x0000ffff},
    {E1000_ICS, 1, 0},
    {E1000_IMS, 1, 0},
    {E1000_IMC, 1, 0},
    {E1000_RCTL, 1, 0x06dfb3fe},
    {E1000_FCTTV, 1, 0x0000ffff},
    {E1000_TXCW, 1, 0xc000ffffu},
    {E1000_RXCW, 1, 0},
    {E1000_TCTL, 1, 0x037ffffa},
    {E1000_TIPG, 1, 0x3fffffff},
    {E1000_LEDCTL, 1, 0xffffffffu},
    {E1000_PBA, 1, 0x0000003f},
    {E1000_FCRTL, 1, 0x8000fff8u},
    {E1000_FCRTH, 1, 0x0000fff8},
    {E1000_RDBAL, 1, 0xfffffff0u},
    {E1000_RDBAH, 1, 0xffffffffu},
    {E1000_RDLEN, 1, 0x000fff80},
    {E1000_RDH, 1, 0x0000ffff},
    {E1000_RDT, 1, 0x0000ffff},
    {E1000_RDTR, 1, E1000_RDTR_DELAY_MASK},
    {E1000_RXDCTL, 1, 0x013f3f3f},
    {E1000_RADV, 1, 0x0000ffff},
    {E1000_RSRPD, 1, 0x00000fff},
    {E1000_TXDMAC, 1, 0x00000001},
    {E1000_TDBAL, 1, 0xfffffff0u},
    {E1000_TDBAH, 1, 0xffffffffu},
    {E1000_TDLEN, 1, 0x000fff80},
    {E1000_TDH, 1, 0x0000ffff},
    {E1000_TDT, 1, 0x0000ffff},
    {E1000_TIDV, 1, 0x0000ffff},
    {E1000_TXDCTL, 1, 0xff3f3f3fu},
    {E1000_TADV, 1, 0x0000ffff},
    {E1000_TSPMT, 1, 0xffffffffu},
    {E1000_STATS_FIRST, (E1000_STATS_LAST - E1000_STATS_FIRST) / 4 + 1, 0},
    {E1000_RXCSUM, 1, 0x000003ff},
    {E1000_MTA, E1000_MTA_WORDS, 0xffffffffu},
    {E1000_RA, E1000_RA_ENTRIES, 0xffffffffu, .stride = 8},
    {E1000_RA + 4, E1000_RA_ENTRIES, E1000_RAH_AV | E1000_RAH_AS_MASK | 0xffff, .stride = 8},
    {E1000_VFTA, E1000_VFTA_WORDS, 0xffffffffu},
    {E1000_WUC, 1, 0x0000000f},
    {E1000_WUFC, 1, 0x000f00ff},
    {E1000_WUS, 1, 0x000f00ff},
    {E1000_MANC, 1, 0xffffffffu},
    {E1000_IPAV, 1, 0x00010001},
    {E1000_IP4AT, 4, 0xffffffffu, .stride = 8},
    {E1000_IP6AT, 4, 0xffffffffu},
    {E1000_WUPL, 1, 0},
    {E1000_WUPM, 32, 0},
    {E1000_FFLT, 4, 0x000007ff, .stride = 8},
};

static const E1000Reg *e1000_reg_find(uint32_t offset)
{
    for (size_t i = 0; i < sizeof(e1000_reg_table) / sizeof(e1000_reg_table[0]); i++) {
        const E1000Reg *r = &e1000_reg_table[i];
        uint32_t stride = r->stride ? r->stride : 4;
        uint32_t delta = offset - r->offset;
        if (offset >= r->offset && delta % stride == 0 && delta / stride < r->count) {
            return r;
        }
    }
    return NULL;
}

/* ---- checksums and DMA ---- */

/* Add data to a one's complement sum of big-endian 16-bit words (RFC 1071),
 * an odd last byte padded with zero. */
uint64_t e1000_csum_add(uint64_t sum, const uint8_t *data, uint32_t len)
{
    uint32_t i;
    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)data[i] << 8 | data[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)data[len - 1] << 8;
    }
    return sum;
}

uint16_t e1000_csum_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

bool e1000_bus_master(E1000State *s)
{
    return pci_config_read(s->pci, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

static void e1000_pci_status_set(E1000State *s, uint32_t bits, bool on)
{
    uint32_t status = pci_config_read(s->pci, PCI_STATUS, 2);
    pci_config_set(s->pci, PCI_STATUS, on ? status | bits : status & ~bits, 2);
}

/* Whether anything answers at paddr: RAM or an enabled region. */
static bool e1000_dma_claimed(const PhysMem *pm, uint32_t paddr)
{
    if (paddr < pm->ram_size) {
        return true;
    }
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        if (r->enabled && paddr - r->start < r->size) {
            return true;
        }
    }
    return false;
}

/*
 * Bytes of [addr, addr+len) that lie below 4 GiB, the whole physical space
 * of this machine; a 64-bit descriptor address beyond it reaches nothing.
 * An access nobody claims ends in a master abort (PCI 2.1, 3.3.3.1): reads
 * return all ones, writes vanish, and the function records it in its
 * status register, which is what the guest can observe.
 */
static uint32_t e1000_dma_span(E1000State *s, uint64_t addr, uint32_t len)
{
    uint64_t end = addr + len;
    uint32_t n = addr >= E1000_DMA_LIMIT ? 0
                 : end > E1000_DMA_LIMIT ? (uint32_t)(E1000_DMA_LIMIT - addr)
                                         : len;
    if (n < len || !e1000_dma_claimed(s->phys, (uint32_t)addr) ||
        !e1000_dma_claimed(s->phys, (uint32_t)(addr + n - 1))) {
        e1000_pci_status_set(s, E1000_PCI_STATUS_MASTER_ABORT, true);
    }
    return n;
}

void e1000_dma_read(E1000State *s, uint64_t addr, void *buf, uint32_t len)
{
    if (len == 0) {
        return;
    }
    uint32_t n = e1000_dma_span(s, addr, len);
    if (n) {
        phys_read_buf(s->phys, (uint32_t)addr, buf, n);
    }
    memset((uint8_t *)buf + n, 0xff, len - n);
}

void e1000_dma_write(E1000State *s, uint64_t addr, const void *buf, uint32_t len)
{
    if (len == 0) {
        return;
    }
    uint32_t n = e1000_dma_span(s, addr, len);
    if (n) {
        phys_write_buf(s->phys, (uint32_t)addr, buf, n);
    }
}

/* ---- interrupts (SDM 13.4: ICR, ICS, IMS, IMC, ITR) ---- */

/* Drive INTA# from the MAC's level, unless the command register's INTx
 * Disable holds it off; the status register shows the level either way.
 * The line is only touched when it changes: others may share it. */
static void e1000_drive_irq(E1000State *s)
{
    bool disabled = pci_config_read(s->pci, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
    bool out = s->irq_level && !disabled;
    e1000_pci_status_set(s, E1000_PCI_STATUS_INTERRUPT, s->irq_level);
    if (out != s->irq_out) {
        s->irq_out = out;
        irq_set_level(&s->irq, out);
    }
}

/*
 * INTA# follows ICR & IMS, except that with ITR programmed a new assertion
 * waits until ITR x 256 ns after the previous one (SDM 13.4, "ITR"); the
 * causes keep accumulating in ICR meanwhile.
 */
static void e1000_update_irq(E1000State *s)
{
    bool pending = (e1000_reg(s, E1000_ICR) & e1000_reg(s, E1000_IMS)) != 0;
    if (pending && !s->irq_level) {
        uint32_t interval = e1000_reg(s, E1000_ITR) & 0xffff;
        int64_t now = timer_now(s->tl);
        if (interval && now < s->itr_next) {
            timer_mod(&s->itr_timer, s->itr_next);
            return;
        }
        s->itr_next = now + (int64_t)interval * E1000_ITR_UNIT_NS;
    }
    s->irq_level = pending;
    e1000_drive_irq(s);
}

void e1000_set_ics(E1000State *s, uint32_t causes)
{
    e1000_set_reg(s, E1000_ICR, e1000_reg(s, E1000_ICR) | (causes & E1000_ICR_CAUSES));
    e1000_update_irq(s);
}

static void e1000_itr_expired(void *opaque)
{
    e1000_update_irq(opaque);
}

/*
 * Receive interrupt moderation (SDM 3.2.7.1): with RDTR zero every frame
 * raises RXT0 at once.  Otherwise each frame restarts the packet timer
 * (RDTR) and the first frame starts the absolute timer (RADV, if nonzero);
 * whichever expires first raises RXT0 and stops both.
 */
void e1000_rx_interrupt(E1000State *s)
{
    uint32_t rdtr = e1000_reg(s, E1000_RDTR) & E1000_RDTR_DELAY_MASK;
    uint32_t radv = e1000_reg(s, E1000_RADV) & 0xffff;
    int64_t now = timer_now(s->tl);
    if (rdtr == 0) {
        e1000_set_ics(s, E1000_ICR_RXT0);
        return;
    }
    timer_mod(&s->rdtr_timer, now + (int64_t)rdtr * E1000_DELAY_UNIT_NS);
    if (radv && !timer_pending(&s->radv_timer)) {
        timer_mod(&s->radv_timer, now + (int64_t)radv * E1000_DELAY_UNIT_NS);
    }
}

static void e1000_rx_timer_expired(void *opaque)
{
    E1000State *s = opaque;
    timer_del(&s->rdtr_timer);
    timer_del(&s->radv_timer);
    e1000_set_ics(s, E1000_ICR_RXT0);
}

/* The same for TXDW, for descriptors written back with IDE set (TIDV as
 * the packet timer, TADV as the absolute one, SDM 3.3.8). */
void e1000_tx_interrupt(E1000State *s, bool delayed)
{
    uint32_t tidv = e1000_reg(s, E1000_TIDV) & 0xffff;
    uint32_t tadv = e1000_reg(s, E1000_TADV) & 0xffff;
    int64_t now = timer_now(s->tl);
    if (!delayed || tidv == 0) {
        timer_del(&s->tidv_timer);
        timer_del(&s->tadv_timer);
        e1000_set_ics(s, E1000_ICR_TXDW);
        return;
    }
    timer_mod(&s->tidv_timer, now + (int64_t)tidv * E1000_DELAY_UNIT_NS);
    if (tadv && !timer_pending(&s->tadv_timer)) {
        timer_mod(&s->tadv_timer, now + (int64_t)tadv * E1000_DELAY_UNIT_NS);
    }
}

static void e1000_tx_timer_expired(void *opaque)
{
    E1000State *s = opaque;
    timer_del(&s->tidv_timer);
    timer_del(&s->tadv_timer);
    e1000_set_ics(s, E1000_ICR_TXDW);
}

/* ---- statistics (SDM 13.7) ---- */

void e1000_stat_inc(E1000State *s, uint32_t offset)
{
    uint32_t v = e1000_reg(s, offset);
    if (v != UINT32_MAX) {
        e1000_set_reg(s, offset, v + 1);
    }
}

/* A 64-bit counter in a low/high pair; it sticks at its maximum. */
void e1000_stat_add64(E1000State *s, uint32_t low_offset, uint64_t n)
{
    uint64_t v = (uint64_t)e1000_reg(s, low_offset + 4) << 32 | e1000_reg(s, low_offset);
    v = v + n < v ? UINT64_MAX : v + n;
    e1000_set_reg(s, low_offset, (uint32_t)v);
    e1000_set_reg(s, low_offset + 4, (uint32_t)(v >> 32));
}

/* The size buckets PRC64..PRC1522 / PTC64..PTC1522: 64, 65-127, 128-255,
 * 256-511, 512-1023 and 1024 up, frame_len counting the FCS. */
void e1000_stat_size(E1000State *s, uint32_t first_bucket, uint32_t frame_len)
{
    static const uint32_t upper[] = {64, 127, 255, 511, 1023};
    uint32_t bucket = 0;
    if (frame_len < 64) {
        return;
    }
    while (bucket < 5 && frame_len > upper[bucket]) {
        bucket++;
    }
    e1000_stat_inc(s, first_bucket + 4 * bucket);
}

/* Reading a counter clears it; the octet counters clear as a pair when the
 * high half is read, so a driver reads low then high. */
static uint32_t e1000_stat_read(E1000State *s, uint32_t offset)
{
    uint32_t v = e1000_reg(s, offset);
    switch (offset) {
    case E1000_GORCL:
    case E1000_GOTCL:
    case E1000_TORL:
    case E1000_TOTL: return v;
    case E1000_GORCH:
    case E1000_GOTCH:
    case E1000_TORH:
    case E1000_TOTH: e1000_set_reg(s, offset - 4, 0); break;
    default: break;
    }
    e1000_set_reg(s, offset, 0);
    return v;
}

/* ---- register file ---- */

/* CTRL.RST and power-on: every MAC register back to its initial value,
 * receive address 0 reloaded from the EEPROM, both engines idle.  The PHY
 * and the PCI configuration keep their state. */
static void e1000_mac_reset(E1000State *s)
{
    timer_del(&s->itr_timer);
    timer_del(&s->rdtr_timer);
    timer_del(&s->radv_timer);
    timer_del(&s->tidv_timer);
    timer_del(&s->tadv_timer);
    memset(s->regs, 0, sizeof(s->regs));
    e1000_set_reg(s, E1000_CTRL, E1000_CTRL_DEFAULT);
    e1000_set_reg(s, E1000_VET, E1000_VET_DEFAULT);
    e1000_set_reg(s, E1000_LEDCTL, E1000_LEDCTL_DEFAULT);
    e1000_set_reg(s, E1000_PBA, E1000_PBA_DEFAULT | (E1000_PBA_TOTAL_KB - E1000_PBA_DEFAULT) << 16);
    e1000_set_reg(s, E1000_TSPMT, E1000_TSPMT_DEFAULT);
    e1000_load_mac_address(s);
    e1000_eecd_reset(s);
    s->itr_next = 0;
    e1000_tx_reset(s);
    e1000_update_irq(s);
}

static uint32_t e1000_status(E1000State *s)
{
    uint32_t v = E1000_STATUS_FD | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000;
    e1000_link_sync(s);
    return s->link_up ? v | E1000_STATUS_LU : v;
}

static uint32_t e1000_read_reg(E1000State *s, uint32_t offset)
{
    if (offset >= E1000_STATS_FIRST && offset <= E1000_STATS_LAST) {
        return e1000_stat_read(s, offset);
    }
    switch (offset) {
    case E1000_STATUS: return e1000_status(s);
    case E1000_EECD: return e1000_eecd_read(s);
    case E1000_ICR: {
        /* Reading ICR acknowledges every cause (SDM 13.4, "ICR"). */
        uint32_t causes = e1000_reg(s, E1000_ICR);
        e1000_set_reg(s, E1000_ICR, 0);
        e1000_update_irq(s);
        return causes;
    }
    case E1000_ICS:
        /* Documented write-only, but the chip returns ICR here without
         * clearing it, and some drivers rely on that. */
        return e1000_reg(s, E1000_ICR);
    case E1000_IMC: return 0;
    default: break;
    }
    return e1000_reg_find(offset) ? e1000_reg(s, offset) : 0;
}

/* Offer the frame the link may be holding for us, if there is room now. */
static void e1000_rx_kick(E1000State *s)
{
    if (e1000_rx_free_descriptors(s) > 0) {
        net_client_flush(&s->nc);
    }
}

static void e1000_ctrl_written(E1000State *s, uint32_t old)
{
    uint32_t ctrl = e1000_reg(s, E1000_CTRL);
    if (ctrl & ~old & E1000_CTRL_PHY_RST) {
        e1000_phy_reset(s);
    }
    if (ctrl & E1000_CTRL_RST) {
        e1000_mac_reset(s);
    }
}

/* PBA.TXA (bits 31:16) is what the receive side leaves of the 64 KB. */
static void e1000_pba_written(E1000State *s)
{
    uint32_t rx_kb = e1000_reg(s, E1000_PBA) & 0xffff;
    uint32_t tx_kb = rx_kb < E1000_PBA_TOTAL_KB ? E1000_PBA_TOTAL_KB - rx_kb : 0;
    e1000_set_reg(s, E1000_PBA, rx_kb | tx_kb << 16);
}

/*
 * A write of the bytes in 'bytes' (a byte-lane mask for sub-dword accesses).
 * Stored registers take the writable bits of those lanes; registers whose
 * writes are commands (ICR, ICS, IMS, IMC, EERD, MDIC...) see the value
 * with the other lanes zero.
 */
static void e1000_write_reg(E1000State *s, uint32_t offset, uint32_t value, uint32_t bytes)
{
    const E1000Reg *r = e1000_reg_find(offset);
    if (!r) {
        return;
    }
    uint32_t old = e1000_reg(s, offset);
    uint32_t mask = r->wmask & bytes;
    e1000_set_reg(s, offset, (old & ~mask) | (value & mask));
    value &= bytes;
    switch (offset) {
    case E1000_CTRL: e1000_ctrl_written(s, old); break;
    case E1000_EECD: e1000_eecd_write(s, (s->eecd & ~bytes) | value); break;
    case E1000_EERD: e1000_eerd_write(s, value); break;
    case E1000_CTRL_EXT:
        if (value & E1000_CTRL_EXT_EE_RST) {
            e1000_load_mac_address(s);
        }
        break;
    case E1000_MDIC: e1000_mdic_write(s, value); break;
    case E1000_ICR:
        e1000_set_reg(s, E1000_ICR, e1000_reg(s, E1000_ICR) & ~value);
        e1000_update_irq(s);
        break;
    case E1000_ICS: e1000_set_ics(s, value); break;
    case E1000_IMS:
        e1000_set_reg(s, E1000_IMS, e1000_reg(s, E1000_IMS) | (value & E1000_ICR_CAUSES));
        e1000_update_irq(s);
        break;
    case E1000_IMC:
        e1000_set_reg(s, E1000_IMS, e1000_reg(s, E1000_IMS) & ~value);
        e1000_update_irq(s);
        break;
    case E1000_RCTL:
    case E1000_RDT: e1000_rx_kick(s); break;
    case E1000_RDTR:
        /* FPD: expire the packet timer now, if a frame is waiting on it. */
        if ((value & E1000_RDTR_FPD) &&
            (timer_pending(&s->rdtr_timer) || timer_pending(&s->radv_timer))) {
            e1000_rx_timer_expired(s);
        }
        break;
    case E1000_TCTL:
    case E1000_TDT: e1000_tx_run(s); break;
    case E1000_PBA: e1000_pba_written(s); break;
    default: break;
    }
}

/* ---- the guest's ways in: BAR0, BAR1 and configuration space ---- */

static uint32_t e1000_mmio_read(void *opaque, uint32_t offset, int size)
{
    E1000State *s = opaque;
    if (s->busy) {
        return 0xffffffffu; /* our own DMA looping back: nobody answers */
    }
    s->busy = true;
    uint32_t v = e1000_read_reg(s, offset & ~3u) >> (8 * (offset & 3));
    s->busy = false;
    return v;
}

static void e1000_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    E1000State *s = opaque;
    if (s->busy) {
        return;
    }
    s->busy = true;
    int shift = 8 * (int)(offset & 3);
    uint64_t lanes = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    e1000_write_reg(s, offset & ~3u, (uint32_t)((uint64_t)value << shift),
                    (uint32_t)(lanes << shift));
    s->busy = false;
}

static const MMIOOps e1000_mmio_ops = {e1000_mmio_read, e1000_mmio_write};

/* BAR1: IOADDR selects a register (any offset of BAR0), IODATA reaches it. */
static uint32_t e1000_io_read(void *opaque, uint16_t port, int size)
{
    E1000State *s = opaque;
    uint32_t off = (uint32_t)port - s->io_base;
    if (off < E1000_IODATA) {
        return s->ioaddr >> (8 * off);
    }
    return e1000_mmio_read(s, (s->ioaddr & ~3u) + (off - E1000_IODATA), size);
}

static void e1000_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    E1000State *s = opaque;
    uint32_t off = (uint32_t)port - s->io_base;
    if (off < E1000_IODATA) {
        uint32_t lanes = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << (8 * off);
        s->ioaddr = ((s->ioaddr & ~lanes) | (value << (8 * off))) & (E1000_MMIO_SIZE - 1);
        return;
    }
    e1000_mmio_write(s, (s->ioaddr & ~3u) + (off - E1000_IODATA), value, size);
}

/*
 * BAR0 moved or was switched off: the register region follows.  BARs live
 * in the PCI hole, which the TLB never maps as RAM, so no translation can
 * go stale here.
 */
static void e1000_mmio_map(void *opaque, int bar, uint32_t addr)
{
    E1000State *s = opaque;
    if (addr == PCI_BAR_UNMAPPED) {
        phys_region_enable(s->phys, s->mmio_region, false);
        return;
    }
    phys_region_move(s->phys, s->mmio_region, addr);
    phys_region_enable(s->phys, s->mmio_region, true);
}

static void e1000_io_map(void *opaque, int bar, uint32_t addr)
{
    E1000State *s = opaque;
    if (s->io_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(s->io, (uint16_t)s->io_base, E1000_IO_SIZE);
    }
    s->io_base = PCI_BAR_UNMAPPED;
    /* A 32-bit I/O BAR beyond the x86's 64 Ki ports decodes nothing. */
    if (addr == PCI_BAR_UNMAPPED || addr > 0x10000 - E1000_IO_SIZE) {
        return;
    }
    if (ioport_register(s->io, (uint16_t)addr, E1000_IO_SIZE, 1 | 2 | 4, e1000_io_read,
                        e1000_io_write, s) == 0) {
        s->io_base = addr;
    }
}

/* The command register gates INTA# (INTx Disable) and DMA (Bus Master):
 * enabling mastering lets pending work go. */
static void e1000_config_write(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                               uint32_t new_value, int size)
{
    E1000State *s = opaque;
    if (offset > PCI_COMMAND + 1 || offset + size <= PCI_COMMAND) {
        return;
    }
    e1000_drive_irq(s);
    if (e1000_bus_master(s)) {
        e1000_tx_run(s);
        e1000_rx_kick(s);
    }
}

/* ---- life cycle ---- */

E1000State *e1000_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq, TimerList *tl,
                      const uint8_t mac[6])
{
    E1000State *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->tx.buf = malloc(NET_MAX_FRAME);
    s->pci = pci_register_device(bus, devfn, E1000_VENDOR_INTEL, E1000_DEV_ID_82540EM, 0x02, 0x00,
                                 0x00, E1000_PCI_REVISION, 0);
    if (!s->tx.buf || !s->pci) {
        free(s->tx.buf);
        free(s);
        return NULL;
    }
    s->mmio_region = phys_map_mmio(phys, 0, E1000_MMIO_SIZE, &e1000_mmio_ops, s, 0);
    if (s->mmio_region < 0) {
        free(s->tx.buf);
        free(s);
        return NULL;
    }
    phys_region_enable(phys, s->mmio_region, false);
    s->phys = phys;
    s->io = pci_bus_io(bus);
    s->irq = irq;
    s->tl = tl;
    s->io_base = PCI_BAR_UNMAPPED;
    memcpy(s->mac, mac, sizeof(s->mac));
    s->nc.opaque = s;
    s->nc.can_receive = e1000_can_receive;
    s->nc.receive = e1000_receive;
    s->nc.link_changed = e1000_link_changed;
    timer_init(&s->itr_timer, tl, e1000_itr_expired, s);
    timer_init(&s->rdtr_timer, tl, e1000_rx_timer_expired, s);
    timer_init(&s->radv_timer, tl, e1000_rx_timer_expired, s);
    timer_init(&s->tidv_timer, tl, e1000_tx_timer_expired, s);
    timer_init(&s->tadv_timer, tl, e1000_tx_timer_expired, s);
    timer_init(&s->tx_timer, tl, e1000_tx_resume, s);

    pci_config_set(s->pci, PCI_SUBSYSTEM_VENDOR_ID, E1000_PCI_SUBSYS_VENDOR, 2);
    pci_config_set(s->pci, PCI_SUBSYSTEM_ID, E1000_PCI_SUBSYS_ID, 2);
    pci_config_set(s->pci, PCI_INTERRUPT_PIN, 1, 1); /* INTA# */
    pci_config_set(s->pci, E1000_PCI_MIN_GNT, 0xff, 1);
    pci_register_bar(s->pci, 0, E1000_MMIO_SIZE, false, e1000_mmio_map, s);
    pci_register_bar(s->pci, 1, E1000_IO_SIZE, true, e1000_io_map, s);
    pci_set_config_write_hook(s->pci, e1000_config_write, s);
    e1000_eeprom_init(s);
    e1000_reset(s);
    return s;
}

NetClient *e1000_net_client(E1000State *s)
{
    return &s->nc;
}

void e1000_reset(E1000State *s)
{
    /* PCI reset: decoding, mastering and the BARs off (the map callbacks
     * take the regions down), error bits clear. */
    pci_config_write(s->pci, PCI_COMMAND, 0, 2);
    pci_config_write(s->pci, PCI_BASE_ADDRESS_0, 0, 4);
    pci_config_write(s->pci, PCI_BASE_ADDRESS_0 + 4, 0, 4);
    pci_config_set(s->pci, PCI_STATUS, 0, 2);
    s->ioaddr = 0;
    s->irq_level = false;
    s->link_up = net_client_link_up(&s->nc);
    e1000_phy_reset(s);
    e1000_mac_reset(s);
}

void e1000_free(E1000State *s)
{
    if (!s) {
        return;
    }
    timer_del(&s->itr_timer);
    timer_del(&s->rdtr_timer);
    timer_del(&s->radv_timer);
    timer_del(&s->tidv_timer);
    timer_del(&s->tadv_timer);
    timer_del(&s->tx_timer);
    if (s->io_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(s->io, (uint16_t)s->io_base, E1000_IO_SIZE);
    }
    phys_region_enable(s->phys, s->mmio_region, false);
    /* The bus outlives us: it must not call back into freed state. */
    pci_register_bar(s->pci, 0, E1000_MMIO_SIZE, false, NULL, NULL);
    pci_register_bar(s->pci, 1, E1000_IO_SIZE, true, NULL, NULL);
    pci_set_config_write_hook(s->pci, NULL, NULL);
    free(s->tx.buf);
    free(s);
}

int e1000_info(E1000State *s, char *buf, size_t len)
{
    uint32_t ral = e1000_reg(s, E1000_RA), rah = e1000_reg(s, E1000_RA + 4);
    uint8_t m[6];
    if (rah & E1000_RAH_AV) {
        for (int i = 0; i < 4; i++) {
            m[i] = (uint8_t)(ral >> (8 * i));
        }
        m[4] = (uint8_t)rah;
        m[5] = (uint8_t)(rah >> 8);
    } else {
        memcpy(m, s->mac, sizeof(m));
    }
    return snprintf(buf, len, "model=e1000,macaddr=%02x:%02x:%02x:%02x:%02x:%02x,link=%s", m[0],
                    m[1], m[2], m[3], m[4], m[5], net_client_link_up(&s->nc) ? "up" : "down");
}
