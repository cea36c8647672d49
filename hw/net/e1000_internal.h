/*
 * The e1000's state and what its parts share: e1000.c (registers,
 * interrupts, statistics, DMA, PCI glue), e1000_eeprom.c, e1000_phy.c,
 * e1000_rx.c (receive) and e1000_tx.c (transmit).
 */
#ifndef HW_NET_E1000_INTERNAL_H
#define HW_NET_E1000_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/net/e1000.h"
#include "hw/net/e1000_regs.h"

/* PCI subsystem IDs (QEMU's, which guests under QEMU already know); the
 * EEPROM carries the same. */
#define E1000_PCI_SUBSYS_VENDOR 0x1af4
#define E1000_PCI_SUBSYS_ID     0x1100

/* Registers are stored by offset / 4 up to here; the rest of BAR0 (the
 * wake-up filter tables and the packet buffer window) reads as zero. */
#define E1000_REG_SPACE 0x6000

/* Largest frame the receiver accepts, FCS included (RCTL.LPE, SDM 13.4 "RCTL"). */
#define E1000_RX_MAX_FRAME  16384
#define E1000_RX_MAX_NORMAL 1522 /* without LPE: 1518 plus an 802.1Q tag */
#define E1000_MIN_FRAME     60   /* shortest frame on the wire, without FCS */
#define E1000_FCS_LEN       4
#define E1000_VLAN_TAG_LEN  4

/* Bytes a transmitted frame may have before an inserted VLAN tag, so that
 * every frame handed to the link fits NET_MAX_FRAME. */
#define E1000_TX_MAX_FRAME (NET_MAX_FRAME - E1000_VLAN_TAG_LEN)

/* 1.024 us: the unit of RDTR, RADV, TIDV and TADV (SDM 13.4.30-31). */
#define E1000_DELAY_UNIT_NS 1024
/* 256 ns: the unit of ITR (SDM 13.4, "ITR"). */
#define E1000_ITR_UNIT_NS 256

/* One TCP/IP context (SDM 3.3.5): where the checksums go and, with TSE,
 * how the payload is cut into segments. */
typedef struct E1000TxContext {
    uint8_t ipcss;   /* IP checksum start */
    uint8_t ipcso;   /* where the IP checksum goes */
    uint16_t ipcse;  /* last byte of the IP checksum, 0 = end of frame */
    uint8_t tucss;   /* TCP/UDP checksum start */
    uint8_t tucso;   /* where the TCP/UDP checksum goes */
    uint16_t tucse;  /* last byte of the TCP/UDP checksum, 0 = end of frame */
    uint32_t paylen; /* TSO: payload bytes of the whole send */
    uint8_t hdrlen;  /* TSO: header bytes repeated in front of each segment */
    uint16_t mss;    /* TSO: payload bytes per segment */
    bool ipv4;       /* TUCMD.IP: IPv4 header, else IPv6 */
    bool tcp;        /* TUCMD.TCP: TCP, else UDP */
} E1000TxContext;

/* The transmit engine: contexts and the packet being gathered. */
typedef struct E1000Tx {
    E1000TxContext ctx;     /* last context without TSE: plain checksum offload */
    E1000TxContext tso_ctx; /* last context with TSE */
    E1000TxContext seg_ctx; /* TSO: the context this packet is cut by */
    uint8_t *buf;           /* the frame (or TSO segment) being gathered, NET_MAX_FRAME bytes */
    uint32_t len;           /* bytes in buf */
    uint8_t header[256];    /* TSO: the first hdrlen bytes as the driver wrote them */
    bool started;           /* the first descriptor of a packet has been seen */
    bool tse;               /* this packet is segmented (data descriptors with TSE) */
    bool overflow;          /* more data than a frame can hold: dropped at EOP */
    uint8_t popts;          /* data descriptors: POPTS of the first one */
    bool legacy_ic;         /* legacy descriptors: IC of the first one */
    uint8_t legacy_cso;     /* legacy: where the checksum goes */
    uint8_t legacy_css;     /* legacy: where it starts (first descriptor, SDM 3.3.3) */
    bool vlan;              /* insert an 802.1Q tag (VLE with CTRL.VME) */
    uint16_t vlan_tci;      /* the tag's TCI, from the descriptor's special field */
    uint32_t seg_limit;     /* TSO: hdrlen + mss, at most E1000_TX_MAX_FRAME */
    uint32_t tso_frames;    /* TSO: segments sent so far for this packet */
    uint32_t tso_sent;      /* TSO: payload bytes in them */
    uint8_t desc[E1000_DESC_SIZE]; /* the descriptor being worked on */
    uint64_t desc_addr;            /* where it was fetched (its status goes back there) */
    bool desc_loaded;              /* a pass stopped inside it: carry on there */
    uint32_t desc_done;            /* bytes of its buffer already gathered */
    int64_t budget;                /* bytes this pass may still move */
} E1000Tx;

struct E1000State {
    PCIDevice *pci;   /* our configuration space (owned by the bus) */
    PhysMem *phys;    /* every DMA goes through it */
    IOPortMap *io;    /* where BAR1 claims its ports */
    IRQ irq;          /* INTA# */
    TimerList *tl;    /* guest time for the delay and throttling timers */
    NetClient nc;     /* our side of the link */
    uint8_t mac[6];   /* the permanent address (EEPROM words 0-2) */
    int mmio_region;  /* BAR0's PhysRegion, enabled while BAR0 decodes */
    uint32_t io_base; /* where BAR1 decodes, or PCI_BAR_UNMAPPED */
    uint32_t ioaddr;  /* IOADDR: the register IODATA reaches */
    bool busy;        /* inside a register access: DMA into our own BARs is dropped */
    bool in_rx;       /* inside receive(): a frame delivered meanwhile is dropped */

    uint32_t regs[E1000_REG_SPACE / 4];  /* MAC registers by offset / 4, as stored */
    uint16_t phy[E1000_PHY_REGS];        /* the M88E1011's registers */
    uint16_t eeprom[E1000_EEPROM_WORDS]; /* contents, checksum word included */

    /* The Microwire EEPROM's serial interface as software drives it through
     * EECD (SDM chapter 5): start bit, 2-bit opcode, 6-bit address clocked in
     * on SK rising edges; a READ then shifts out a dummy 0 and the words
     * from that address on, MSB first. */
    uint32_t eecd;      /* SK, CS, DI, FWE and REQ as last written */
    uint32_t ee_shift;  /* bits clocked in since CS rose */
    int ee_bits;        /* how many */
    bool ee_reading;    /* a READ is shifting data out */
    uint32_t ee_addr;   /* the READ's first word */
    int32_t ee_out_bit; /* output position: -1 the dummy 0, then 16 per word */

    bool link_up;     /* carrier as STATUS.LU and the PHY report it */
    bool irq_level;   /* INTA# as the MAC drives it (before INTx Disable) */
    bool irq_out;     /* INTA# as last driven onto the line */
    int64_t itr_next; /* ITR: no new assertion before this time */
    Timer itr_timer;  /* ITR: the held-back assertion */
    Timer rdtr_timer; /* RDTR packet timer (restarted by each frame) */
    Timer radv_timer; /* RADV absolute timer (started by the first frame) */
    Timer tidv_timer; /* TIDV: as RDTR, for descriptors with IDE */
    Timer tadv_timer; /* TADV: as RADV, for descriptors with IDE */
    Timer tx_timer;   /* resumes a transmit walk that used up its budget */

    E1000Tx tx;
    uint8_t rx_buf[E1000_RX_MAX_FRAME]; /* a received frame as it will be stored */
};

/* Byte order helpers: descriptors are little endian, packet headers big. */
static inline uint16_t e1000_ld_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t e1000_ld_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void e1000_st_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void e1000_st_be32(uint8_t *p, uint32_t v)
{
    e1000_st_be16(p, v >> 16);
    e1000_st_be16(p + 2, v);
}

static inline uint32_t e1000_ld_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t e1000_ld_le64(const uint8_t *p)
{
    return (uint64_t)e1000_ld_le32(p + 4) << 32 | e1000_ld_le32(p);
}

static inline void e1000_st_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void e1000_st_le32(uint8_t *p, uint32_t v)
{
    e1000_st_le16(p, v);
    e1000_st_le16(p + 2, v >> 16);
}

static inline uint32_t e1000_reg(const E1000State *s, uint32_t offset)
{
    return s->regs[offset >> 2];
}

static inline void e1000_set_reg(E1000State *s, uint32_t offset, uint32_t value)
{
    s->regs[offset >> 2] = value;
}

/* e1000.c */
void e1000_set_ics(E1000State *s, uint32_t causes);
void e1000_rx_interrupt(E1000State *s);
void e1000_tx_interrupt(E1000State *s, bool delayed);
void e1000_stat_inc(E1000State *s, uint32_t offset);
void e1000_stat_add64(E1000State *s, uint32_t low_offset, uint64_t n);
void e1000_stat_size(E1000State *s, uint32_t first_bucket, uint32_t frame_len);
bool e1000_bus_master(E1000State *s);
void e1000_dma_read(E1000State *s, uint64_t addr, void *buf, uint32_t len);
void e1000_dma_write(E1000State *s, uint64_t addr, const void *buf, uint32_t len);
uint64_t e1000_csum_add(uint64_t sum, const uint8_t *data, uint32_t len);
uint16_t e1000_csum_fold(uint64_t sum);

/* e1000_eeprom.c */
void e1000_eeprom_init(E1000State *s);
void e1000_load_mac_address(E1000State *s);
uint32_t e1000_eecd_read(E1000State *s);
void e1000_eecd_write(E1000State *s, uint32_t value);
void e1000_eecd_reset(E1000State *s);
void e1000_eerd_write(E1000State *s, uint32_t value);

/* e1000_phy.c */
void e1000_phy_reset(E1000State *s);
void e1000_set_link(E1000State *s, bool up);
void e1000_link_sync(E1000State *s);
void e1000_link_changed(void *opaque, bool up);
void e1000_mdic_write(E1000State *s, uint32_t value);

/* e1000_rx.c */
bool e1000_can_receive(void *opaque, size_t len);
void e1000_receive(void *opaque, const uint8_t *frame, size_t len);
uint32_t e1000_rx_free_descriptors(const E1000State *s);

/* e1000_tx.c */
void e1000_tx_run(E1000State *s);
void e1000_tx_resume(void *opaque);
void e1000_tx_reset(E1000State *s);

#endif /* HW_NET_E1000_INTERNAL_H */
