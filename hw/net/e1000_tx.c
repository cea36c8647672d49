/*
 * e1000 transmit (SDM 3.3-3.5): the ring from TDH to TDT holds legacy
 * descriptors, TCP/IP context descriptors and data descriptors.  Data
 * is gathered into one frame until a descriptor with EOP; the offloads
 * then insert checksums (legacy IC, or POPTS with the last context), and
 * with TSE the payload is cut into segments of MSS bytes behind copies
 * of the header, each with its IP length and ID, TCP sequence number and
 * flags, UDP length and checksums fixed up (SDM 3.5).
 *
 * A descriptor can ask for up to 1 MiB and a TSO segment can carry one
 * byte of payload, so one pass is bounded by a budget of bytes moved; when it
 * runs out the walk stops, even inside a descriptor, and a timer carries
 * on from there a microsecond later, so a guest cannot stall the machine
 * with one register write.
 */
#include <string.h>

#include "hw/net/e1000_internal.h"

/* Bytes read, copied and sent per pass before the walk yields (a 64 KiB
 * TSO send uses about twice its size), so a TDT write does a bounded
 * amount of work whatever the ring asks for. */
#define E1000_TX_BUDGET (256 << 10)
/* When the rest follows: strictly later, so that the timer list does not
 * run it in the same call, and the CPU runs in between. */
#define E1000_TX_RESUME_NS 1000

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_PSH 0x08
#define IPV6_HLEN    40u

/* A whole new packet: its first descriptor decides its kind. */
static void e1000_tx_packet_done(E1000State *s)
{
    E1000Tx *t = &s->tx;
    t->len = 0;
    t->started = false;
    t->tse = false;
    t->overflow = false;
    t->popts = 0;
    t->legacy_ic = false;
    t->vlan = false;
    t->tso_frames = 0;
    t->tso_sent = 0;
}

void e1000_tx_reset(E1000State *s)
{
    uint8_t *buf = s->tx.buf;
    memset(&s->tx, 0, sizeof(s->tx));
    s->tx.buf = buf;
    timer_del(&s->tx_timer);
}

/*
 * Insert the one's complement of the sum over bytes start..end (inclusive;
 * end 0 meaning the end of the frame) at offset, big endian.  Out-of-range
 * fields are left alone (the chip ignores such a request).  A result of
 * zero goes out as FFFFh, which means the same and is what UDP needs
 * (RFC 768).
 */
static void e1000_tx_csum(uint8_t *frame, uint32_t len, uint32_t offset, uint32_t start,
                          uint32_t end)
{
    uint32_t stop = (end && end < len) ? end + 1 : len;
    if (start >= stop || offset + 2 > len) {
        return;
    }
    uint16_t csum = (uint16_t)~e1000_csum_fold(e1000_csum_add(0, frame + start, stop - start));
    e1000_st_be16(frame + offset, csum ? csum : 0xffff);
}

/* The checksums POPTS asks for, as the context describes them. */
static void e1000_tx_offload(E1000State *s, const E1000TxContext *c)
{
    E1000Tx *t = &s->tx;
    if (t->popts & E1000_TXD_POPTS_TXSM) {
        e1000_tx_csum(t->buf, t->len, c->tucso, c->tucss, c->tucse);
    }
    if (t->popts & E1000_TXD_POPTS_IXSM) {
        e1000_tx_csum(t->buf, t->len, c->ipcso, c->ipcss, c->ipcse);
    }
}

static void e1000_tx_stats(E1000State *s, const uint8_t *frame, uint32_t wire_len)
{
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    e1000_stat_inc(s, E1000_TPT);
    e1000_stat_add64(s, E1000_TOTL, wire_len);
    if (wire_len >= 64) {
        e1000_stat_inc(s, E1000_GPTC);
        e1000_stat_add64(s, E1000_GOTCL, wire_len);
    }
    e1000_stat_size(s, E1000_PTC64, wire_len);
    if (memcmp(frame, broadcast, sizeof(broadcast)) == 0) {
        e1000_stat_inc(s, E1000_BPTC);
    } else if (frame[0] & 1) {
        e1000_stat_inc(s, E1000_MPTC);
    }
}

/*
 * Put the frame in tx.buf on the wire: an 802.1Q tag after the addresses
 * if asked (the checksums above never cover it, SDM 3.3.3 note 2), then
 * padding to the minimum with TCTL.PSP.  The link adds no FCS.
 */
static void e1000_tx_send(E1000State *s, uint32_t len)
{
    E1000Tx *t = &s->tx;
    uint8_t *frame = t->buf;
    if (len == 0) {
        return;
    }
    if (t->vlan && len >= 12) {
        memmove(frame + 16, frame + 12, len - 12);
        e1000_st_be16(frame + 12, e1000_reg(s, E1000_VET));
        e1000_st_be16(frame + 14, t->vlan_tci);
        len += E1000_VLAN_TAG_LEN;
    }
    if ((e1000_reg(s, E1000_TCTL) & E1000_TCTL_PSP) && len < E1000_MIN_FRAME) {
        memset(frame + len, 0, E1000_MIN_FRAME - len);
        len = E1000_MIN_FRAME;
    }
    t->budget -= len;
    if (len >= 6) {
        e1000_tx_stats(s, frame, len + E1000_FCS_LEN);
    }
    net_client_send(&s->nc, frame, len);
}

/*
 * Send the TSO segment in tx.buf (SDM 3.5.9): the header as the driver
 * wrote it, fixed up for this segment, and up to MSS bytes of payload.
 * FIN and PSH only go out in the last segment.  The driver seeds the
 * TCP/UDP checksum with a pseudo-header sum without the length; the
 * length of each segment is added here.
 */
static void e1000_tso_segment(E1000State *s, bool last)
{
    E1000Tx *t = &s->tx;
    const E1000TxContext *c = &t->seg_ctx;
    uint8_t *b = t->buf;
    uint32_t len = t->len;
    uint32_t payload = len - c->hdrlen;
    if (c->ipv4 && c->ipcss + 6u <= len) {
        e1000_st_be16(b + c->ipcss + 2, len - c->ipcss);
        e1000_st_be16(b + c->ipcss + 4, e1000_ld_be16(b + c->ipcss + 4) + t->tso_frames);
    } else if (!c->ipv4 && c->ipcss + IPV6_HLEN <= len) {
        /* Payload Length does not count the fixed IPv6 header. */
        e1000_st_be16(b + c->ipcss + 4, len - c->ipcss - IPV6_HLEN);
    }
    if (c->tcp && c->tucss + 14u <= len) {
        e1000_st_be32(b + c->tucss + 4, e1000_ld_be32(b + c->tucss + 4) + t->tso_sent);
        if (!last) {
            b[c->tucss + 13] &= (uint8_t) ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
        }
    } else if (!c->tcp && c->tucss + 6u <= len) {
        e1000_st_be16(b + c->tucss + 4, len - c->tucss);
    }
    if ((t->popts & E1000_TXD_POPTS_TXSM) && c->tucso + 2u <= len && c->tucss < len) {
        uint64_t seed = e1000_ld_be16(b + c->tucso) + (uint64_t)(len - c->tucss);
        e1000_st_be16(b + c->tucso, e1000_csum_fold(seed));
    }
    e1000_tx_offload(s, c);
    t->tso_frames++;
    t->tso_sent += payload;
    e1000_tx_send(s, len);
    /* The next segment starts from the driver's header again. */
    memcpy(b, t->header, c->hdrlen);
    t->len = c->hdrlen;
    t->budget -= c->hdrlen;
}

/* EOP: send what was gathered, or the last segment of a TSO packet. */
static void e1000_tx_end_packet(E1000State *s)
{
    E1000Tx *t = &s->tx;
    if (t->tse) {
        /* The header never arrived whole: the context fails. */
        if (t->len < t->seg_ctx.hdrlen) {
            e1000_stat_inc(s, E1000_TSCTFC);
        } else {
            if (t->len > t->seg_ctx.hdrlen || t->tso_frames == 0) {
                e1000_tso_segment(s, true);
            }
            e1000_stat_inc(s, E1000_TSCTC);
        }
    } else if (!t->overflow) {
        if (t->legacy_ic) {
            e1000_tx_csum(t->buf, t->len, t->legacy_cso, t->legacy_css, 0);
        } else {
            e1000_tx_offload(s, &t->ctx);
        }
        e1000_tx_send(s, t->len);
    }
    e1000_tx_packet_done(s);
}

/* ---- descriptors ---- */

static bool e1000_tx_is_context(uint32_t lower)
{
    return (lower & E1000_TXD_CMD_DEXT) &&
           (lower & E1000_TXD_DTYP_MASK) >> E1000_TXD_DTYP_SHIFT == E1000_TXD_DTYP_CONTEXT;
}

static bool e1000_tx_is_data(uint32_t lower)
{
    return (lower & E1000_TXD_CMD_DEXT) &&
           (lower & E1000_TXD_DTYP_MASK) >> E1000_TXD_DTYP_SHIFT == E1000_TXD_DTYP_DATA;
}

/* Legacy and data descriptors carry packet data (and EOP). */
static bool e1000_tx_carries_data(uint32_t lower)
{
    return !(lower & E1000_TXD_CMD_DEXT) || e1000_tx_is_data(lower);
}

/* A context descriptor (SDM 3.3.5) replaces the TSO context or the plain
 * checksum context, as its TSE bit says. */
static void e1000_tx_load_context(E1000State *s, const uint8_t *d)
{
    uint32_t lower = e1000_ld_le32(d + 8), upper = e1000_ld_le32(d + 12);
    E1000TxContext *c = (lower & E1000_TXD_CMD_TSE) ? &s->tx.tso_ctx : &s->tx.ctx;
    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = (uint16_t)(d[2] | d[3] << 8);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = (uint16_t)(d[6] | d[7] << 8);
    c->paylen = lower & E1000_TXD_DTALEN_MASK;
    c->ipv4 = lower & E1000_TXD_CMD_IP;
    c->tcp = lower & E1000_TXD_CMD_TCP;
    c->hdrlen = (uint8_t)(upper >> 8);
    c->mss = (uint16_t)(upper >> 16);
}

/* The first descriptor of a packet: legacy checksum fields (SDM 3.3.3:
 * CSS must be set in the first descriptor), or POPTS and TSE.  A TSO
 * context with MSS 0 cannot cut anything: the packet goes out whole. */
static void e1000_tx_start_packet(E1000State *s, uint32_t lower, uint32_t upper)
{
    E1000Tx *t = &s->tx;
    const E1000TxContext *c = &t->tso_ctx;
    t->started = true;
    if (!(lower & E1000_TXD_CMD_DEXT)) {
        t->legacy_ic = lower & E1000_TXD_CMD_IC;
        t->legacy_cso = (uint8_t)(lower >> 16);
        t->legacy_css = (uint8_t)(upper >> 8);
        return;
    }
    t->popts = (uint8_t)(upper >> 8);
    t->tse = (lower & E1000_TXD_CMD_TSE) && c->mss;
    if (t->tse) {
        /* The packet keeps this context even if another arrives meanwhile. */
        uint32_t limit = (uint32_t)c->hdrlen + c->mss;
        t->seg_ctx = *c;
        t->seg_limit = limit < E1000_TX_MAX_FRAME ? limit : E1000_TX_MAX_FRAME;
    }
}

/* Fetch the descriptor at TDH and do what needs doing once per descriptor. */
static void e1000_tx_fetch(E1000State *s)
{
    E1000Tx *t = &s->tx;
    uint64_t base = (uint64_t)e1000_reg(s, E1000_TDBAH) << 32 | e1000_reg(s, E1000_TDBAL);
    t->desc_addr = base + (uint64_t)e1000_reg(s, E1000_TDH) * E1000_DESC_SIZE;
    e1000_dma_read(s, t->desc_addr, t->desc, E1000_DESC_SIZE);
    t->desc_loaded = true;
    t->desc_done = 0;
    t->budget -= E1000_DESC_SIZE;

    uint32_t lower = e1000_ld_le32(t->desc + 8), upper = e1000_ld_le32(t->desc + 12);
    if (e1000_tx_is_context(lower)) {
        e1000_tx_load_context(s, t->desc);
        return;
    }
    if (!e1000_tx_carries_data(lower)) {
        return; /* reserved descriptor type: nothing to do but write it back */
    }
    if (!t->started) {
        e1000_tx_start_packet(s, lower, upper);
    }
    if ((lower & E1000_TXD_CMD_VLE) && (e1000_reg(s, E1000_CTRL) & E1000_CTRL_VME)) {
        t->vlan = true;
        t->vlan_tci = (uint16_t)(upper >> 16);
    }
}

/*
 * Gather the current descriptor's data from where the last pass stopped.
 * A null address or zero length carries nothing (SDM 3.3.3); data beyond
 * what one frame can hold is skipped and the packet dropped.  Returns
 * false if the budget ran out first.
 */
static bool e1000_tx_gather(E1000State *s)
{
    E1000Tx *t = &s->tx;
    uint32_t lower = e1000_ld_le32(t->desc + 8);
    uint64_t addr = e1000_ld_le64(t->desc);
    uint32_t total =
        (lower & E1000_TXD_CMD_DEXT) ? lower & E1000_TXD_DTALEN_MASK : lower & E1000_TXD_LEN_MASK;
    if (!e1000_tx_carries_data(lower) || addr == 0) {
        total = 0;
    }
    uint32_t hdrlen = t->seg_ctx.hdrlen;
    while (t->desc_done < total) {
        uint32_t limit = t->tse ? t->seg_limit : E1000_TX_MAX_FRAME;
        if (t->budget <= 0) {
            return false;
        }
        if (t->len >= limit) {
            t->overflow = true;
            break;
        }
        uint32_t chunk = total - t->desc_done;
        chunk = chunk < limit - t->len ? chunk : limit - t->len;
        e1000_dma_read(s, addr + t->desc_done, t->buf + t->len, chunk);
        if (t->tse && t->len < hdrlen && t->len + chunk >= hdrlen) {
            memcpy(t->header, t->buf, hdrlen);
        }
        t->len += chunk;
        t->desc_done += chunk;
        t->budget -= chunk;
        if (t->tse && t->len == t->seg_limit) {
            e1000_tso_segment(s, t->tso_sent + (t->len - hdrlen) >= t->seg_ctx.paylen);
        }
    }
    return true;
}

/* Report status (SDM 3.3.3.2): DD in the descriptor's STA field. */
static bool e1000_tx_write_back(E1000State *s)
{
    E1000Tx *t = &s->tx;
    uint32_t lower = e1000_ld_le32(t->desc + 8);
    if (!(lower & E1000_TXD_CMD_RS)) {
        return false;
    }
    uint8_t sta = (uint8_t)((t->desc[12] & 0xf0) | E1000_TXD_STAT_DD);
    e1000_dma_write(s, t->desc_addr + 12, &sta, 1);
    return true;
}

/*
 * Walk the ring from TDH to TDT.  Both must lie inside the ring, so the
 * walk ends within one lap.  TXDW follows each written-back descriptor
 * (delayed by TIDV/TADV when all of them had IDE), TXQE a walk that
 * emptied the ring.
 */
static void e1000_tx_walk(E1000State *s)
{
    E1000Tx *t = &s->tx;
    uint32_t n = e1000_reg(s, E1000_TDLEN) / E1000_DESC_SIZE;
    bool walked = false, written = false, delayed = true;
    if (!(e1000_reg(s, E1000_TCTL) & E1000_TCTL_EN) || !e1000_bus_master(s) || n == 0 ||
        e1000_reg(s, E1000_TDH) >= n || e1000_reg(s, E1000_TDT) >= n) {
        return;
    }
    t->budget = E1000_TX_BUDGET;
    for (;;) {
        if (!t->desc_loaded) {
            if (e1000_reg(s, E1000_TDH) == e1000_reg(s, E1000_TDT)) {
                break;
            }
            e1000_tx_fetch(s);
        }
        if (!e1000_tx_gather(s)) {
            timer_mod(&s->tx_timer, timer_now(s->tl) + E1000_TX_RESUME_NS);
            break;
        }
        uint32_t lower = e1000_ld_le32(t->desc + 8);
        if ((lower & E1000_TXD_CMD_EOP) && e1000_tx_carries_data(lower)) {
            e1000_tx_end_packet(s);
        }
        walked = true;
        if (e1000_tx_write_back(s)) {
            written = true;
            delayed = delayed && (lower & E1000_TXD_CMD_IDE);
        }
        t->desc_loaded = false;
        e1000_set_reg(s, E1000_TDH, (e1000_reg(s, E1000_TDH) + 1) % n);
        if (t->budget <= 0 && e1000_reg(s, E1000_TDH) != e1000_reg(s, E1000_TDT)) {
            timer_mod(&s->tx_timer, timer_now(s->tl) + E1000_TX_RESUME_NS);
            break;
        }
    }
    if (written) {
        e1000_tx_interrupt(s, delayed);
    }
    if (walked && e1000_reg(s, E1000_TDH) == e1000_reg(s, E1000_TDT)) {
        e1000_set_ics(s, E1000_ICR_TXQE);
    }
}

/* Called for TDT and TCTL writes, when bus mastering comes on, and by the
 * timer that resumes a walk; our own DMA must not reach our registers. */
void e1000_tx_run(E1000State *s)
{
    bool was_busy = s->busy;
    s->busy = true;
    e1000_tx_walk(s);
    s->busy = was_busy;
}

void e1000_tx_resume(void *opaque)
{
    e1000_tx_run(opaque);
}
