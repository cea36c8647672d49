/*
 * e1000 receive (SDM 3.2): a frame from the link passes the length check
 * and the address filters, loses its 802.1Q tag if VLAN mode asks, gets
 * its checksums verified, gains an FCS unless RCTL.SECRC strips it (the
 * link carries frames without one), and is stored in the buffers of
 * legacy receive descriptors from RDH on, as many as it needs.
 *
 * The chip has a 48 KB receive FIFO to wait in for descriptors; here a
 * frame must fit the free descriptors when it arrives.  can_receive()
 * says so beforehand, so the link holds the frame until RDT moves and
 * the device asks for it again (net_client_flush).
 */
#include <string.h>
#include <zlib.h>

#include "hw/net/e1000_internal.h"

#define ETH_ALEN       6
#define ETH_HLEN       14
#define ETH_P_IPV4     0x0800
#define IPV4_MIN_HLEN  20
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17
#define TCP_MIN_HLEN   20
#define UDP_HLEN       8
#define IPV4_FRAG_MASK 0x3fff /* more-fragments flag and fragment offset */

/* RCTL.BSIZE with BSEX: 2048, 1024, 512, 256 bytes, or 16x that (the
 * reserved BSEX+00 encoding taken as 2048). */
static uint32_t e1000_rx_buf_size(uint32_t rctl)
{
    uint32_t bsize = (rctl & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT;
    if (rctl & E1000_RCTL_BSEX) {
        return bsize ? 32768u >> bsize : 2048;
    }
    return 2048u >> bsize;
}

static uint32_t e1000_rx_ring_size(const E1000State *s)
{
    return e1000_reg(s, E1000_RDLEN) / E1000_DESC_SIZE;
}

/* Descriptors software has given the hardware: from RDH up to RDT.  A
 * head or tail outside the ring leaves none usable. */
uint32_t e1000_rx_free_descriptors(const E1000State *s)
{
    uint32_t n = e1000_rx_ring_size(s);
    uint32_t head = e1000_reg(s, E1000_RDH), tail = e1000_reg(s, E1000_RDT);
    if (n == 0 || head >= n || tail >= n) {
        return 0;
    }
    return (tail + n - head) % n;
}

static bool e1000_rx_enabled(E1000State *s)
{
    return (e1000_reg(s, E1000_RCTL) & E1000_RCTL_EN) && e1000_bus_master(s);
}

/* Bytes a frame of len occupies in the buffers: padded to the minimum,
 * plus the FCS unless it is stripped. */
static uint32_t e1000_rx_stored_len(const E1000State *s, size_t len)
{
    uint32_t fcs = (e1000_reg(s, E1000_RCTL) & E1000_RCTL_SECRC) ? 0 : E1000_FCS_LEN;
    return (uint32_t)(len < E1000_MIN_FRAME ? E1000_MIN_FRAME : len) + fcs;
}

/*
 * Room for a frame of len now?  A disabled receiver drops frames, so there
 * is nothing to wait for; neither is there for a frame larger than the
 * whole ring could ever take (it is dropped as an overrun).
 */
bool e1000_can_receive(void *opaque, size_t len)
{
    E1000State *s = opaque;
    if (!e1000_rx_enabled(s) || len > E1000_RX_MAX_FRAME) {
        return true;
    }
    uint32_t buf_size = e1000_rx_buf_size(e1000_reg(s, E1000_RCTL));
    uint32_t need = (e1000_rx_stored_len(s, len) + buf_size - 1) / buf_size;
    uint32_t n = e1000_rx_ring_size(s);
    return need >= n || e1000_rx_free_descriptors(s) >= need;
}

/* ---- filtering (SDM 3.2.1) ---- */

static bool e1000_rx_vlan_tagged(const E1000State *s, const uint8_t *frame)
{
    return e1000_ld_be16(frame + 2 * ETH_ALEN) == (e1000_reg(s, E1000_VET) & 0xffff);
}

/* The 12 bits of the destination address that index the multicast table,
 * chosen by RCTL.MO: bits 47:36, 46:35, 45:34 or 43:32. */
static uint32_t e1000_mta_hash(uint32_t rctl, const uint8_t *dst)
{
    static const int shift[4] = {4, 3, 2, 0};
    uint32_t mo = (rctl & E1000_RCTL_MO_MASK) >> E1000_RCTL_MO_SHIFT;
    return ((uint32_t)dst[5] << 8 | dst[4]) >> shift[mo] & 0xfff;
}

static bool e1000_rx_address_match(const E1000State *s, const uint8_t *dst)
{
    for (uint32_t i = 0; i < E1000_RA_ENTRIES; i++) {
        uint32_t ral = e1000_reg(s, E1000_RA + 8 * i);
        uint32_t rah = e1000_reg(s, E1000_RA + 8 * i + 4);
        /* Only destination-address entries take part (AS = 00). */
        if (!(rah & E1000_RAH_AV) || (rah & E1000_RAH_AS_MASK)) {
            continue;
        }
        if (dst[0] == (uint8_t)ral && dst[1] == (uint8_t)(ral >> 8) &&
            dst[2] == (uint8_t)(ral >> 16) && dst[3] == (uint8_t)(ral >> 24) &&
            dst[4] == (uint8_t)rah && dst[5] == (uint8_t)(rah >> 8)) {
            return true;
        }
    }
    return false;
}

/*
 * Whether the filters pass a frame: a tagged frame's VLAN ID must be in
 * the VLAN filter table when RCTL.VFE is set; then broadcast passes with
 * BAM, multicast with MPE and unicast with UPE, and otherwise the
 * destination must match a receive address or, for multicast, hit the
 * multicast table.
 */
static bool e1000_rx_accept(const E1000State *s, const uint8_t *frame)
{
    static const uint8_t broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint32_t rctl = e1000_reg(s, E1000_RCTL);
    const uint8_t *dst = frame;
    bool multicast = dst[0] & 1;
    if ((rctl & E1000_RCTL_VFE) && e1000_rx_vlan_tagged(s, frame)) {
        uint32_t vid = e1000_ld_be16(frame + 2 * ETH_ALEN + 2) & 0xfff;
        if (!(e1000_reg(s, E1000_VFTA + 4 * (vid >> 5)) >> (vid & 31) & 1)) {
            return false;
        }
    }
    if (memcmp(dst, broadcast, ETH_ALEN) == 0) {
        if (rctl & E1000_RCTL_BAM) {
            return true;
        }
    } else if (rctl & (multicast ? E1000_RCTL_MPE : E1000_RCTL_UPE)) {
        return true;
    }
    if (e1000_rx_address_match(s, dst)) {
        return true;
    }
    if (multicast) {
        uint32_t hash = e1000_mta_hash(rctl, dst);
        return e1000_reg(s, E1000_MTA + 4 * (hash >> 5)) >> (hash & 31) & 1;
    }
    return false;
}

/* ---- checksum offload (SDM 3.2.9) ---- */

typedef struct E1000RxStatus {
    uint8_t status;   /* RDESC.STATUS bits beyond DD and EOP */
    uint8_t errors;   /* RDESC.ERRORS */
    uint16_t csum;    /* packet checksum from RXCSUM.PCSS */
    uint16_t special; /* the stripped 802.1Q TCI */
} E1000RxStatus;

/*
 * The packet checksum (a plain one's complement sum from PCSS on), and
 * with IPOFLD/TUOFLD the verdicts on an IPv4 header and an unfragmented
 * TCP or UDP payload (a UDP checksum of zero means none was sent).
 */
static void e1000_rx_checksum(const E1000State *s, const uint8_t *frame, uint32_t len,
                              E1000RxStatus *st)
{
    uint32_t rxcsum = e1000_reg(s, E1000_RXCSUM);
    uint32_t pcss = rxcsum & E1000_RXCSUM_PCSS_MASK;
    if (pcss < len) {
        st->csum = e1000_csum_fold(e1000_csum_add(0, frame + pcss, len - pcss));
    }
    if (!(rxcsum & (E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD)) ||
        e1000_ld_be16(frame + 2 * ETH_ALEN) != ETH_P_IPV4) {
        return;
    }
    const uint8_t *ip = frame + ETH_HLEN;
    uint32_t ihl = (ip[0] & 0xfu) * 4;
    uint32_t total = e1000_ld_be16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_HLEN || total < ihl || ETH_HLEN + total > len) {
        return;
    }
    if (rxcsum & E1000_RXCSUM_IPOFLD) {
        st->status |= E1000_RXD_STAT_IPCS;
        if (e1000_csum_fold(e1000_csum_add(0, ip, ihl)) != 0xffff) {
            st->errors |= E1000_RXD_ERR_IPE;
        }
    }
    const uint8_t *l4 = ip + ihl;
    uint32_t l4_len = total - ihl;
    bool tcp = ip[9] == IP_PROTO_TCP && l4_len >= TCP_MIN_HLEN;
    bool udp = ip[9] == IP_PROTO_UDP && l4_len >= UDP_HLEN && e1000_ld_be16(l4 + 6) != 0;
    if (!(rxcsum & E1000_RXCSUM_TUOFLD) || (e1000_ld_be16(ip + 6) & IPV4_FRAG_MASK) ||
        !(tcp || udp)) {
        return;
    }
    /* Pseudo-header: addresses, protocol, TCP/UDP length. */
    uint64_t sum = e1000_csum_add(0, ip + 12, 8) + ip[9] + l4_len;
    st->status |= E1000_RXD_STAT_TCPCS;
    if (e1000_csum_fold(e1000_csum_add(sum, l4, l4_len)) != 0xffff) {
        st->errors |= E1000_RXD_ERR_TCPE;
    }
}

/* ---- descriptors (SDM 3.2.3-3.2.6) ---- */

/* No descriptor for a frame: the chip would run out of FIFO and miss it. */
static void e1000_rx_overrun(E1000State *s)
{
    e1000_stat_inc(s, E1000_RNBC);
    e1000_stat_inc(s, E1000_MPC);
    e1000_set_ics(s, E1000_ICR_RXO);
}

/*
 * Store len bytes of rx_buf from RDH on, one buffer per descriptor; the
 * last descriptor gets EOP and the frame's status.  A descriptor with a
 * null buffer address is handed back empty.  Returns false if the
 * descriptors ran out (the frame is then lost).
 */
static bool e1000_rx_store(E1000State *s, uint32_t len, const E1000RxStatus *st)
{
    uint32_t buf_size = e1000_rx_buf_size(e1000_reg(s, E1000_RCTL));
    uint32_t n = e1000_rx_ring_size(s);
    uint32_t avail = e1000_rx_free_descriptors(s);
    uint64_t base = (uint64_t)e1000_reg(s, E1000_RDBAH) << 32 | e1000_reg(s, E1000_RDBAL);
    uint32_t head = e1000_reg(s, E1000_RDH);
    uint32_t done = 0;
    if (avail * (uint64_t)buf_size < len) {
        e1000_rx_overrun(s);
        return false;
    }
    while (done < len) {
        uint8_t desc[E1000_DESC_SIZE];
        uint8_t wb[8] = {0}; /* length, checksum, status, errors, special */
        uint64_t desc_addr = base + (uint64_t)head * E1000_DESC_SIZE;
        if (avail-- == 0) {
            e1000_rx_overrun(s);
            return false;
        }
        e1000_dma_read(s, desc_addr, desc, sizeof(desc));
        uint64_t buf_addr = e1000_ld_le64(desc);
        uint32_t chunk = 0;
        if (buf_addr) {
            chunk = len - done < buf_size ? len - done : buf_size;
            e1000_dma_write(s, buf_addr, s->rx_buf + done, chunk);
            done += chunk;
        }
        e1000_st_le16(wb, chunk);
        wb[4] = E1000_RXD_STAT_DD;
        if (done == len) {
            e1000_st_le16(wb + 2, st->csum);
            wb[4] |= E1000_RXD_STAT_EOP | st->status;
            wb[5] = st->errors;
            e1000_st_le16(wb + 6, st->special);
        }
        e1000_dma_write(s, desc_addr + 8, wb, sizeof(wb));
        head = (head + 1) % n;
        e1000_set_reg(s, E1000_RDH, head);
    }
    return true;
}

static void e1000_rx_stats(E1000State *s, const uint8_t *dst, uint32_t wire_len)
{
    static const uint8_t broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    e1000_stat_inc(s, E1000_GPRC);
    e1000_stat_add64(s, E1000_GORCL, wire_len);
    e1000_stat_size(s, E1000_PRC64, wire_len);
    if (memcmp(dst, broadcast, ETH_ALEN) == 0) {
        e1000_stat_inc(s, E1000_BPRC);
    } else if (dst[0] & 1) {
        e1000_stat_inc(s, E1000_MPRC);
    }
}

static void e1000_rx_frame(E1000State *s, const uint8_t *frame, size_t len)
{
    uint32_t rctl = e1000_reg(s, E1000_RCTL);
    uint32_t padded = (uint32_t)(len < E1000_MIN_FRAME ? E1000_MIN_FRAME : len);
    uint32_t wire_len = padded + E1000_FCS_LEN;
    uint32_t max_len = (rctl & E1000_RCTL_LPE) ? E1000_RX_MAX_FRAME : E1000_RX_MAX_NORMAL;
    E1000RxStatus st = {0};
    uint8_t *buf = s->rx_buf;

    e1000_stat_inc(s, E1000_TPR);
    e1000_stat_add64(s, E1000_TORL, wire_len);
    if (len > E1000_RX_MAX_FRAME || wire_len > max_len) {
        e1000_stat_inc(s, E1000_ROC);
        return;
    }
    memcpy(buf, frame, len);
    memset(buf + len, 0, padded - len);
    if (!e1000_rx_accept(s, buf)) {
        return;
    }
    /* The FCS a wire would have carried, over the frame as received. */
    uint32_t fcs = (uint32_t)crc32(0, buf, padded);
    uint32_t stored = padded;
    if ((e1000_reg(s, E1000_CTRL) & E1000_CTRL_VME) && e1000_rx_vlan_tagged(s, buf)) {
        st.special = e1000_ld_be16(buf + 2 * ETH_ALEN + 2);
        st.status |= E1000_RXD_STAT_VP;
        memmove(buf + 2 * ETH_ALEN, buf + 2 * ETH_ALEN + E1000_VLAN_TAG_LEN,
                stored - 2 * ETH_ALEN - E1000_VLAN_TAG_LEN);
        stored -= E1000_VLAN_TAG_LEN;
    }
    e1000_rx_checksum(s, buf, stored, &st);
    if (!(rctl & E1000_RCTL_SECRC)) {
        e1000_st_le32(buf + stored, fcs);
        stored += E1000_FCS_LEN;
    }
    if (!e1000_rx_store(s, stored, &st)) {
        return;
    }
    e1000_rx_stats(s, buf, wire_len);
    /* RXDMT0 when the free descriptors fall to RCTL.RDMTS of the ring. */
    uint32_t rdmts = (rctl & E1000_RCTL_RDMTS_MASK) >> E1000_RCTL_RDMTS_SHIFT;
    if (e1000_rx_free_descriptors(s) <= e1000_rx_ring_size(s) >> (rdmts + 1)) {
        e1000_set_ics(s, E1000_ICR_RXDMT0);
    }
    e1000_rx_interrupt(s);
}

void e1000_receive(void *opaque, const uint8_t *frame, size_t len)
{
    E1000State *s = opaque;
    if (!e1000_rx_enabled(s)) {
        return;
    }
    /* A frame arriving while we store another (our own DMA reached a device
     * that answered at once) finds the FIFO busy. */
    if (s->in_rx) {
        e1000_stat_inc(s, E1000_MPC);
        return;
    }
    bool was_busy = s->busy;
    s->in_rx = true;
    s->busy = true;
    e1000_rx_frame(s, frame, len);
    s->busy = was_busy;
    s->in_rx = false;
}
