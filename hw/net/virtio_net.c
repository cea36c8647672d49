/*
 * virtio-net (see virtio_net.h).  Section numbers are those of Virtio 1.2.
 *
 * Every frame carries a struct virtio_net_hdr in front (5.1.6): 12 bytes
 * with VERSION_1 or MRG_RXBUF (the last two are num_buffers), 10 for a
 * legacy driver without MRG_RXBUF.  Transmit gathers the chain's readable
 * buffers into one frame, completes a partial checksum if the driver asked
 * (NEEDS_CSUM) and hands it to the net layer.  Receive writes header and
 * frame into one chain, or with MRG_RXBUF into as many as it takes, and
 * says how many in the first one's num_buffers.
 *
 * A frame can arrive while the device is receiving another one (its DMA
 * hit a device that sent to this link): it is refused, and the net layer
 * offers it again once this one is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/net/virtio_net.h"
#include "migration/vmstate.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"

#define VIRTIO_ID_NET            1
#define VIRTIO_NET_PCI_DEVICE_ID 0x1000 /* transitional (4.1.2.1) */

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16

/* Configuration (5.1.4): mac[6], then the status word. */
#define VIRTIO_NET_CONFIG_STATUS 6
#define VIRTIO_NET_CONFIG_LEN    8
#define VIRTIO_NET_S_LINK_UP     1

/* struct virtio_net_hdr (5.1.6). */
#define VIRTIO_NET_HDR_FLAGS        0
#define VIRTIO_NET_HDR_CSUM_START   6
#define VIRTIO_NET_HDR_CSUM_OFFSET  8
#define VIRTIO_NET_HDR_NUM_BUFFERS  10
#define VIRTIO_NET_HDR_LEN_LEGACY   10
#define VIRTIO_NET_HDR_LEN          12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1

#define VIRTIO_NET_QUEUE_SIZE 256 /* QEMU's default for both queues */
#define VIRTIO_NET_RX_QUEUE   0
#define VIRTIO_NET_TX_QUEUE   1

struct VirtioNetState {
    VirtIODevice vdev;
    VirtIOPCIProxy *proxy;
    NetClient nc;
    VirtQueue *rx_vq;
    VirtQueue *tx_vq;
    /* A frame's receive chains, all read before any byte of it is written;
     * [0] at creation, the others the first time a frame needs them. */
    VirtQueueElement *rx_chain[VIRTIO_NET_QUEUE_SIZE];
    uint8_t mac[NET_MAC_LEN];      /* as the driver sees it (a legacy driver may write it) */
    uint8_t conf_mac[NET_MAC_LEN]; /* as configured: what reset restores */
    bool link_up;                  /* VIRTIO_NET_S_LINK_UP */
    bool rx_active;                /* writing a frame into the receive queue */
    bool rx_refused;               /* a frame was refused meanwhile: flush afterwards */
    uint8_t tx_buf[VIRTIO_NET_HDR_LEN + NET_MAX_FRAME]; /* header + frame being sent */
    uint8_t rx_buf[VIRTIO_NET_HDR_LEN + NET_MAX_FRAME]; /* header + frame being received */
};

static size_t virtio_net_hdr_len(const VirtioNetState *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_F_VERSION_1) ||
                   virtio_has_feature(&s->vdev, VIRTIO_NET_F_MRG_RXBUF)
               ? VIRTIO_NET_HDR_LEN
               : VIRTIO_NET_HDR_LEN_LEGACY;
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- transmit (5.1.6.2) ---- */

/*
 * NEEDS_CSUM: the driver left the pseudo-header sum in the checksum field;
 * the ones' complement sum (RFC 1071) from csum_start to the end of the
 * frame goes to csum_start + csum_offset.  A field that does not fit in
 * the frame leaves the frame as it is.
 */
static void virtio_net_tx_checksum(uint8_t *frame, size_t len, uint16_t start, uint16_t offset)
{
    size_t field = (size_t)start + offset;
    uint32_t sum = 0;
    uint16_t csum;

    if (start >= len || field + 2 > len) {
        return;
    }
    for (size_t i = start; i + 1 < len; i += 2) {
        sum += (uint32_t)(frame[i] << 8 | frame[i + 1]);
    }
    if ((len - start) & 1) {
        sum += (uint32_t)frame[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    csum = (uint16_t)~sum;
    /* UDP sends a computed 0 as all ones (RFC 768); to TCP the two are the
     * same ones' complement number. */
    if (csum == 0) {
        csum = 0xffff;
    }
    frame[field] = (uint8_t)(csum >> 8);
    frame[field + 1] = (uint8_t)csum;
}

static void virtio_net_tx_one(VirtioNetState *s, VirtQueue *vq, VirtQueueElement *elem)
{
    size_t hdr_len = virtio_net_hdr_len(s);
    uint8_t *hdr = s->tx_buf;
    uint8_t *frame = s->tx_buf + hdr_len;
    size_t frame_len;

    if (elem->out_len < hdr_len) {
        virtio_error(&s->vdev, "transmit buffer shorter than the header");
        return;
    }
    if (elem->out_len - hdr_len > NET_MAX_FRAME) {
        virtqueue_push(vq, elem, 0); /* no such frame on Ethernet: dropped */
        return;
    }
    frame_len = (size_t)(elem->out_len - hdr_len);
    virtqueue_read_out(vq, elem, 0, s->tx_buf, hdr_len + frame_len);
    if (hdr[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        virtio_net_tx_checksum(frame, frame_len, get_le16(hdr + VIRTIO_NET_HDR_CSUM_START),
                               get_le16(hdr + VIRTIO_NET_HDR_CSUM_OFFSET));
    }
    /* The frame is ours now: give the buffer back before the net layer
     * runs (it may deliver to this device at once). */
    virtqueue_push(vq, elem, 0);
    if (frame_len) {
        net_client_send(&s->nc, frame, frame_len);
    }
}

static void virtio_net_handle_tx(void *opaque, VirtQueue *vq)
{
    VirtioNetState *s = opaque;
    unsigned sent = 0;

    /* At most a queue's worth per notification, so a used ring written
     * over the available ring cannot keep the device here. */
    while (sent < vq->num) {
        VirtQueueElement *elem = virtqueue_pop(vq);

        if (!elem) {
            break;
        }
        virtio_net_tx_one(s, vq, elem);
        sent++;
    }
    if (sent) {
        virtio_notify(&s->vdev, vq);
    }
}

/* ---- receive (5.1.6.3, 5.1.6.4) ---- */

static bool virtio_net_mergeable(const VirtioNetState *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_NET_F_MRG_RXBUF);
}

static bool virtio_net_can_receive(void *opaque, size_t len)
{
    VirtioNetState *s = opaque;
    /* Without MRG_RXBUF a frame takes one chain, which the driver sizes
     * for the largest frame (5.1.6.3.1): any chain will do. */
    uint64_t want = virtio_net_mergeable(s) ? virtio_net_hdr_len(s) + len : 1;

    if (s->rx_active) {
        s->rx_refused = true;
        return false;
    }
    if (virtqueue_avail_in_bytes(s->rx_vq, want) >= want) {
        return true;
    }
    virtqueue_want_notify(s->rx_vq);
    return false;
}

/* The frame's receive chain number n, into rx_chain[n]. */
static VirtQueueElement *virtio_net_rx_pop(VirtioNetState *s, unsigned n)
{
    if (n >= VIRTIO_NET_QUEUE_SIZE) {
        return NULL; /* more than a queue's worth: never pending at once */
    }
    if (!s->rx_chain[n] && !(s->rx_chain[n] = virtqueue_element_new(s->rx_vq))) {
        return NULL;
    }
    return virtqueue_pop_into(s->rx_vq, s->rx_chain[n]) ? s->rx_chain[n] : NULL;
}

/*
 * Header (flags 0: no checksum claims, 5.1.6.4.1; GSO_NONE) and frame,
 * into as many chains as it takes; nothing is published unless all of it
 * fits.  Every chain is read before any byte is written: the frame may
 * land on the descriptors of the chains after the first (a driver's
 * mistake), and the room was counted on them as the driver posted them,
 * so reading them again after would follow the frame's own bytes (the
 * machine harness's double-fetch watch).
 */
static void virtio_net_rx_frame(VirtioNetState *s, const uint8_t *frame, size_t len)
{
    VirtQueue *vq = s->rx_vq;
    bool mergeable = virtio_net_mergeable(s);
    size_t hdr_len = virtio_net_hdr_len(s);
    size_t total = hdr_len + len;
    uint64_t room = 0;
    unsigned nbufs = 0;

    while (room < total) {
        VirtQueueElement *elem = virtio_net_rx_pop(s, nbufs);

        if (!elem) {
            break;
        }
        nbufs++;
        if (mergeable ? elem->in_len < hdr_len : elem->in_len < total) {
            if (mergeable) {
                /* 5.1.6.3.1: each merged buffer holds at least a header. */
                virtio_error(&s->vdev, "receive buffer smaller than the header");
            }
            break; /* without MRG_RXBUF: too big for the driver's buffer, dropped */
        }
        room += elem->in_len;
    }
    if (room < total) {
        virtqueue_unpop(vq, nbufs);
        return;
    }
    memset(s->rx_buf, 0, hdr_len);
    memcpy(s->rx_buf + hdr_len, frame, len);
    size_t done = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t n = virtqueue_write_in(vq, s->rx_chain[i], 0, s->rx_buf + done, total - done);

        virtqueue_fill(vq, s->rx_chain[i], (uint32_t)n, i);
        done += n;
    }
    if (hdr_len == VIRTIO_NET_HDR_LEN) {
        uint8_t num_buffers[2] = {(uint8_t)nbufs, (uint8_t)(nbufs >> 8)};

        virtqueue_write_in(vq, s->rx_chain[0], VIRTIO_NET_HDR_NUM_BUFFERS, num_buffers, 2);
    }
    virtqueue_flush(vq, nbufs);
    virtio_notify(&s->vdev, vq);
}

static void virtio_net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    VirtioNetState *s = opaque;

    if (s->rx_active || len > NET_MAX_FRAME) {
        return;
    }
    s->rx_active = true;
    virtio_net_rx_frame(s, frame, len);
    s->rx_active = false;
    if (s->rx_refused) {
        s->rx_refused = false;
        net_client_flush(&s->nc);
    }
}

/* The driver added receive buffers: frames the net layer kept can come. */
static void virtio_net_handle_rx(void *opaque, VirtQueue *vq)
{
    VirtioNetState *s = opaque;

    net_client_flush(&s->nc);
}

/* ---- configuration and status ---- */

static void virtio_net_link_changed(void *opaque, bool up)
{
    VirtioNetState *s = opaque;

    if (up != s->link_up) {
        s->link_up = up;
        virtio_config_changed(&s->vdev);
    }
}

static void virtio_net_get_config(void *opaque, uint8_t *config)
{
    VirtioNetState *s = opaque;
    uint16_t status = s->link_up ? VIRTIO_NET_S_LINK_UP : 0;

    memcpy(config, s->mac, NET_MAC_LEN);
    config[VIRTIO_NET_CONFIG_STATUS] = (uint8_t)status;
    config[VIRTIO_NET_CONFIG_STATUS + 1] = (uint8_t)(status >> 8);
}

/* Through the legacy interface the MAC is writable (5.1.4.2); otherwise
 * the configuration is read-only. */
static void virtio_net_set_config(void *opaque, const uint8_t *config)
{
    VirtioNetState *s = opaque;

    if (!virtio_has_feature(&s->vdev, VIRTIO_F_VERSION_1)) {
        memcpy(s->mac, config, NET_MAC_LEN);
    }
}

static void virtio_net_set_status(void *opaque, uint8_t old_status, uint8_t status)
{
    VirtioNetState *s = opaque;

    /* Frames kept back until the driver was ready can come now. */
    if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old_status & VIRTIO_STATUS_DRIVER_OK)) {
        net_client_flush(&s->nc);
    }
}

static void virtio_net_device_reset(void *opaque)
{
    VirtioNetState *s = opaque;

    memcpy(s->mac, s->conf_mac, NET_MAC_LEN);
    s->link_up = net_client_link_up(&s->nc);
}

static const VirtIODeviceOps virtio_net_ops = {
    .get_config = virtio_net_get_config,
    .set_config = virtio_net_set_config,
    .set_status = virtio_net_set_status,
    .reset = virtio_net_device_reset,
};

/* ---- life cycle ---- */

VirtioNetState *virtio_net_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq, const uint8_t mac[6])
{
    uint64_t features = virtio_bit(VIRTIO_NET_F_CSUM) | virtio_bit(VIRTIO_NET_F_GUEST_CSUM) |
                        virtio_bit(VIRTIO_NET_F_MAC) | virtio_bit(VIRTIO_NET_F_MRG_RXBUF) |
                        virtio_bit(VIRTIO_NET_F_STATUS) | virtio_bit(VIRTIO_F_ANY_LAYOUT) |
                        virtio_bit(VIRTIO_F_INDIRECT_DESC) | virtio_bit(VIRTIO_F_EVENT_IDX) |
                        virtio_bit(VIRTIO_F_VERSION_1);
    VirtioNetState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    memcpy(s->conf_mac, mac, NET_MAC_LEN);
    s->nc.opaque = s;
    s->nc.can_receive = virtio_net_can_receive;
    s->nc.receive = virtio_net_receive;
    s->nc.link_changed = virtio_net_link_changed;
    virtio_init(&s->vdev, VIRTIO_ID_NET, phys, VIRTIO_NET_CONFIG_LEN, features, &virtio_net_ops, s);
    s->rx_vq = virtio_add_queue(&s->vdev, VIRTIO_NET_QUEUE_SIZE, virtio_net_handle_rx);
    s->tx_vq = virtio_add_queue(&s->vdev, VIRTIO_NET_QUEUE_SIZE, virtio_net_handle_tx);
    s->rx_chain[0] = s->rx_vq ? virtqueue_element_new(s->rx_vq) : NULL;
    if (s->rx_chain[0] && s->tx_vq) {
        /* Class 02/00: Ethernet controller. */
        s->proxy =
            virtio_pci_new(bus, devfn, phys, irq, &s->vdev, VIRTIO_NET_PCI_DEVICE_ID, 0x02, 0x00);
    }
    if (!s->proxy) {
        virtio_net_free(s);
        return NULL;
    }
    virtio_net_reset(s);
    return s;
}

NetClient *virtio_net_client(VirtioNetState *s)
{
    return &s->nc;
}

void virtio_net_reset(VirtioNetState *s)
{
    s->rx_active = false;
    s->rx_refused = false;
    virtio_pci_reset(s->proxy);
}

void virtio_net_free(VirtioNetState *s)
{
    if (!s) {
        return;
    }
    virtio_pci_free(s->proxy);
    virtio_cleanup(&s->vdev);
    for (int i = 0; i < VIRTIO_NET_QUEUE_SIZE; i++) {
        free(s->rx_chain[i]);
    }
    free(s);
}

int virtio_net_info(VirtioNetState *s, char *buf, size_t len)
{
    const uint8_t *m = s->mac;
    int devfn = virtio_pci_devfn(s->proxy);

    return snprintf(buf, len,
                    "virtio-net-pci 00:%02x.%d mac %02x:%02x:%02x:%02x:%02x:%02x link %s, "
                    "status 0x%02x features 0x%llx%s%s\n",
                    PCI_SLOT(devfn), PCI_FUNC(devfn), m[0], m[1], m[2], m[3], m[4], m[5],
                    s->link_up ? "up" : "down", s->vdev.status,
                    (unsigned long long)s->vdev.guest_features, s->vdev.error ? ", error: " : "",
                    s->vdev.error ? s->vdev.error : "");
}

/* ---- saved state: the core, the transport, then the card's own.  A
 * frame is only ever in rx_buf/tx_buf inside one call, so neither is
 * saved. ---- */

static void virtio_net_save_parts(VMWriter *w, void *opaque)
{
    VirtioNetState *s = opaque;
    vmstate_save_fields(w, &virtio_vmstate, &s->vdev);
    vmstate_save_fields(w, &virtio_pci_vmstate, s->proxy);
}

static bool virtio_net_load_parts(VMReader *r, void *opaque, uint32_t version)
{
    VirtioNetState *s = opaque;
    return vmstate_load_fields(r, &virtio_vmstate, &s->vdev, version) &&
           vmstate_load_fields(r, &virtio_pci_vmstate, s->proxy, version);
}

static const VMField virtio_net_fields[] = {
    VMS_BYTES(VirtioNetState, mac, NET_MAC_LEN),
    VMS_BOOL(VirtioNetState, link_up),
    VMS_END,
};

const VMStateDesc virtio_net_vmstate = {
    .name = "virtio-net",
    .version = 1,
    .min_version = 1,
    .fields = virtio_net_fields,
    .save = virtio_net_save_parts,
    .load = virtio_net_load_parts,
};
