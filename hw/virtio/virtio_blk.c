/*
 * virtio-blk (see virtio_blk.h).  Section numbers are those of Virtio 1.2.
 *
 * A request is one descriptor chain (5.2.6): a 16-byte header (type,
 * reserved, sector) and, for a write, the data in the device-readable
 * part; the device-writable part holds the data of a read (or GET_ID's
 * serial) and ends in the status byte.  With ANY_LAYOUT (and for legacy
 * drivers, which QEMU serves the same way) the split of those bytes into
 * buffers is the driver's business, so everything here works on byte
 * offsets into the chain, never on which buffer holds what.
 *
 * The chain's descriptors are read once, into the element, when it is
 * popped (virtio.c); the header is read once into a local copy.  Nothing
 * the driver can change afterwards is looked at again.
 *
 * I/O is synchronous, because BlockDev is: every chain the available ring
 * offers is carried out when the driver notifies, its data moved, its
 * status byte written after the data, then its used entry; one interrupt
 * covers the batch.  The driver may have a whole queue of requests
 * posted at once; they complete in ring order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_blk.h"
#include "migration/vmstate.h"
#include "hw/virtio/virtio_pci.h"

#define VIRTIO_ID_BLOCK          2
#define VIRTIO_BLK_PCI_DEVICE_ID 0x1001 /* transitional (4.1.2.1) */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* struct virtio_blk_config (5.2.4), the fields popek fills. */
#define VIRTIO_BLK_CFG_CAPACITY         0  /* le64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SEG_MAX          12 /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE         20 /* le32 */
#define VIRTIO_BLK_CFG_WZ_MAX_SECTORS   48 /* le32: max_write_zeroes_sectors */
#define VIRTIO_BLK_CFG_WZ_MAX_SEG       52 /* le32: max_write_zeroes_seg */
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP     56 /* u8 */
#define VIRTIO_BLK_CONFIG_LEN           60

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2

#define VIRTIO_BLK_HDR_LEN 16 /* type le32, reserved le32, sector le64 */
#define VIRTIO_BLK_WZ_LEN  16 /* write-zeroes range: sector le64, num_sectors le32, flags le32 */
#define VIRTIO_BLK_WZ_F_UNMAP 1

#define VIRTIO_BLK_QUEUE_SIZE 256 /* QEMU's default */
/* QEMU's: a chain may hold the whole queue but the header and the status. */
#define VIRTIO_BLK_SEG_MAX (VIRTIO_BLK_QUEUE_SIZE - 2)
/* Write-zeroes ranges are done in bounce-buffer pieces; this bounds one. */
#define VIRTIO_BLK_WZ_MAX_SECTORS (1u << 22) /* 2 GiB */
#define VIRTIO_BLK_BOUNCE (64 * 1024)

struct VirtioBlkState {
    VirtIODevice vdev;
    VirtIOPCIProxy *proxy;
    const BlockDev *media;                   /* the disk; never NULL */
    VirtQueue *vq;                           /* the request queue */
    char serial[VIRTIO_BLK_ID_BYTES];        /* GET_ID's answer, zero-padded */
    uint64_t requests[VIRTIO_BLK_T_WRITE_ZEROES + 1]; /* completed, by type (for info) */
    uint64_t errors;                         /* requests answered IOERR or UNSUPP */
    uint8_t bounce[VIRTIO_BLK_BOUNCE];       /* data between the disk and guest memory */
};

static uint64_t get_le(const uint8_t *p, int size)
{
    uint64_t v = 0;

    for (int i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put_le(uint8_t *p, uint64_t v, int size)
{
    for (int i = 0; i < size; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* [sector, sector + count) on the disk? */
static bool virtio_blk_range_ok(const VirtioBlkState *s, uint64_t sector, uint64_t count)
{
    return sector <= s->media->sectors && count <= s->media->sectors - sector;
}

/* ---- the requests ---- */

/* VIRTIO_BLK_T_IN: disk to the writable part, all but its last byte. */
static uint8_t virtio_blk_read(VirtioBlkState *s, const VirtQueueElement *elem, uint64_t sector,
                               uint32_t *written)
{
    uint64_t len = elem->in_len - 1;

    if (len % BLOCK_SECTOR_SIZE || !virtio_blk_range_ok(s, sector, len / BLOCK_SECTOR_SIZE)) {
        return VIRTIO_BLK_S_IOERR;
    }
    for (uint64_t done = 0; done < len;) {
        uint32_t n = len - done < VIRTIO_BLK_BOUNCE ? (uint32_t)(len - done) : VIRTIO_BLK_BOUNCE;

        if (s->media->read(s->media->opaque, sector + done / BLOCK_SECTOR_SIZE, s->bounce,
                           n / BLOCK_SECTOR_SIZE) < 0) {
            return VIRTIO_BLK_S_IOERR;
        }
        virtqueue_write_in(s->vq, elem, done, s->bounce, n);
        done += n;
        *written = (uint32_t)done;
    }
    return VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_T_OUT: the readable part after the header, to the disk. */
static uint8_t virtio_blk_write(VirtioBlkState *s, const VirtQueueElement *elem, uint64_t sector)
{
    uint64_t len = elem->out_len - VIRTIO_BLK_HDR_LEN;

    if (s->media->read_only || len % BLOCK_SECTOR_SIZE ||
        !virtio_blk_range_ok(s, sector, len / BLOCK_SECTOR_SIZE)) {
        return VIRTIO_BLK_S_IOERR;
    }
    for (uint64_t done = 0; done < len;) {
        uint32_t n = len - done < VIRTIO_BLK_BOUNCE ? (uint32_t)(len - done) : VIRTIO_BLK_BOUNCE;

        virtqueue_read_out(s->vq, elem, VIRTIO_BLK_HDR_LEN + done, s->bounce, n);
        if (s->media->write(s->media->opaque, sector + done / BLOCK_SECTOR_SIZE, s->bounce,
                            n / BLOCK_SECTOR_SIZE) < 0) {
            return VIRTIO_BLK_S_IOERR;
        }
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_T_FLUSH: every completed write made durable (5.2.6.4). */
static uint8_t virtio_blk_flush(VirtioBlkState *s)
{
    if (s->media->read_only) {
        return VIRTIO_BLK_S_OK; /* nothing was written */
    }
    return s->media->flush(s->media->opaque) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_T_GET_ID: the serial, as much of its 20 bytes as fits. */
static uint8_t virtio_blk_get_id(VirtioBlkState *s, const VirtQueueElement *elem,
                                 uint32_t *written)
{
    uint64_t room = elem->in_len - 1;
    size_t n = room < VIRTIO_BLK_ID_BYTES ? (size_t)room : VIRTIO_BLK_ID_BYTES;

    *written = (uint32_t)virtqueue_write_in(s->vq, elem, 0, s->serial, n);
    return VIRTIO_BLK_S_OK;
}

/*
 * VIRTIO_BLK_T_WRITE_ZEROES (5.2.6.2): one range (max_write_zeroes_seg 1)
 * after the header.  UNMAP may be set; zeroes are written either way,
 * which the device is allowed to do.  Other flag bits are unknown: UNSUPP.
 */
static uint8_t virtio_blk_write_zeroes(VirtioBlkState *s, const VirtQueueElement *elem)
{
    uint8_t range[VIRTIO_BLK_WZ_LEN];
    uint64_t sector;
    uint32_t count;

    if (elem->out_len != VIRTIO_BLK_HDR_LEN + VIRTIO_BLK_WZ_LEN) {
        return VIRTIO_BLK_S_UNSUPP; /* no range, or more ranges than max_write_zeroes_seg */
    }
    virtqueue_read_out(s->vq, elem, VIRTIO_BLK_HDR_LEN, range, sizeof(range));
    sector = get_le(range, 8);
    count = (uint32_t)get_le(range + 8, 4);
    if (get_le(range + 12, 4) & ~(uint64_t)VIRTIO_BLK_WZ_F_UNMAP) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (s->media->read_only || count > VIRTIO_BLK_WZ_MAX_SECTORS ||
        !virtio_blk_range_ok(s, sector, count)) {
        return VIRTIO_BLK_S_IOERR;
    }
    memset(s->bounce, 0, VIRTIO_BLK_BOUNCE);
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < VIRTIO_BLK_BOUNCE / BLOCK_SECTOR_SIZE
                         ? count - done
                         : VIRTIO_BLK_BOUNCE / BLOCK_SECTOR_SIZE;

        if (s->media->write(s->media->opaque, sector + done, s->bounce, n) < 0) {
            return VIRTIO_BLK_S_IOERR;
        }
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

/*
 * One request: header, the work, then the status byte (the last byte of
 * the writable part, written after all the data), then the used entry
 * with the bytes written.  A chain with no writable byte has nowhere for
 * a status: the driver broke the protocol, and the device needs a reset.
 */
static void virtio_blk_request(VirtioBlkState *s, const VirtQueueElement *elem)
{
    uint8_t hdr[VIRTIO_BLK_HDR_LEN];
    uint32_t type;
    uint64_t sector;
    uint32_t written = 0;
    uint8_t status;

    if (elem->in_len == 0) {
        virtio_error(&s->vdev, "block request without a status byte");
        return;
    }
    if (elem->out_len < VIRTIO_BLK_HDR_LEN || elem->in_len > UINT32_MAX) {
        /* No header; or more to write than the used ring's 32-bit length
         * can say (buffers repeated over one another): refused. */
        status = VIRTIO_BLK_S_IOERR;
        type = UINT32_MAX;
    } else {
        virtqueue_read_out(s->vq, elem, 0, hdr, sizeof(hdr));
        type = (uint32_t)get_le(hdr, 4);
        sector = get_le(hdr + 8, 8);
        switch (type) {
        case VIRTIO_BLK_T_IN:
            status = virtio_blk_read(s, elem, sector, &written);
            break;
        case VIRTIO_BLK_T_OUT:
            status = virtio_blk_write(s, elem, sector);
            break;
        case VIRTIO_BLK_T_FLUSH:
            status = virtio_blk_flush(s);
            break;
        case VIRTIO_BLK_T_GET_ID:
            status = virtio_blk_get_id(s, elem, &written);
            break;
        case VIRTIO_BLK_T_WRITE_ZEROES:
            status = virtio_blk_write_zeroes(s, elem);
            break;
        default:
            status = VIRTIO_BLK_S_UNSUPP;
            break;
        }
    }
    if (status == VIRTIO_BLK_S_OK) {
        s->requests[type]++;
    } else {
        s->errors++;
    }
    virtqueue_write_in(s->vq, elem, elem->in_len - 1, &status, 1);
    virtqueue_push(s->vq, elem, written + 1);
}

static void virtio_blk_handle_queue(void *opaque, VirtQueue *vq)
{
    VirtioBlkState *s = opaque;
    unsigned done = 0;

    /* At most a queue's worth per notification, so a used ring written
     * over the available ring cannot keep the device here. */
    while (done < vq->num) {
        VirtQueueElement *elem = virtqueue_pop(vq);

        if (!elem) {
            break;
        }
        virtio_blk_request(s, elem);
        done++;
    }
    if (done) {
        virtio_notify(&s->vdev, vq);
    }
}

/* ---- configuration ---- */

static void virtio_blk_get_config(void *opaque, uint8_t *config)
{
    VirtioBlkState *s = opaque;

    put_le(config + VIRTIO_BLK_CFG_CAPACITY, s->media->sectors, 8);
    put_le(config + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
    put_le(config + VIRTIO_BLK_CFG_BLK_SIZE, BLOCK_SECTOR_SIZE, 4);
    put_le(config + VIRTIO_BLK_CFG_WZ_MAX_SECTORS, VIRTIO_BLK_WZ_MAX_SECTORS, 4);
    put_le(config + VIRTIO_BLK_CFG_WZ_MAX_SEG, 1, 4);
    config[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 0;
}

static const VirtIODeviceOps virtio_blk_ops = {
    .get_config = virtio_blk_get_config,
};

/* ---- life cycle ---- */

VirtioBlkState *virtio_blk_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq,
                               const BlockDev *media, const char *serial)
{
    uint64_t features = virtio_bit(VIRTIO_BLK_F_SEG_MAX) | virtio_bit(VIRTIO_BLK_F_BLK_SIZE) |
                        virtio_bit(VIRTIO_BLK_F_FLUSH) | virtio_bit(VIRTIO_BLK_F_WRITE_ZEROES) |
                        virtio_bit(VIRTIO_F_ANY_LAYOUT) | virtio_bit(VIRTIO_F_INDIRECT_DESC) |
                        virtio_bit(VIRTIO_F_EVENT_IDX) | virtio_bit(VIRTIO_F_VERSION_1);
    VirtioBlkState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    if (media->read_only) {
        features |= virtio_bit(VIRTIO_BLK_F_RO);
    }
    s->media = media;
    if (serial) {
        memcpy(s->serial, serial, strnlen(serial, sizeof(s->serial)));
    }
    virtio_init(&s->vdev, VIRTIO_ID_BLOCK, phys, VIRTIO_BLK_CONFIG_LEN, features, &virtio_blk_ops,
                s);
    s->vq = virtio_add_queue(&s->vdev, VIRTIO_BLK_QUEUE_SIZE, virtio_blk_handle_queue);
    if (s->vq) {
        /* Class 01/00: mass storage, SCSI (QEMU's choice for virtio-blk). */
        s->proxy =
            virtio_pci_new(bus, devfn, phys, irq, &s->vdev, VIRTIO_BLK_PCI_DEVICE_ID, 0x01, 0x00);
    }
    if (!s->proxy) {
        virtio_blk_free(s);
        return NULL;
    }
    virtio_blk_reset(s);
    return s;
}

void virtio_blk_reset(VirtioBlkState *s)
{
    virtio_pci_reset(s->proxy);
}

void virtio_blk_free(VirtioBlkState *s)
{
    if (!s) {
        return;
    }
    virtio_pci_free(s->proxy);
    virtio_cleanup(&s->vdev);
    free(s);
}

int virtio_blk_info(VirtioBlkState *s, char *buf, size_t len)
{
    int devfn = virtio_pci_devfn(s->proxy);

    return snprintf(buf, len,
                    "virtio-blk-pci 00:%02x.%d %llu sectors%s, status 0x%02x features 0x%llx, "
                    "requests: %llu read %llu write %llu flush %llu get-id %llu write-zeroes, "
                    "%llu failed%s%s\n",
                    PCI_SLOT(devfn), PCI_FUNC(devfn), (unsigned long long)s->media->sectors,
                    s->media->read_only ? " read-only" : "", s->vdev.status,
                    (unsigned long long)s->vdev.guest_features,
                    (unsigned long long)s->requests[VIRTIO_BLK_T_IN],
                    (unsigned long long)s->requests[VIRTIO_BLK_T_OUT],
                    (unsigned long long)s->requests[VIRTIO_BLK_T_FLUSH],
                    (unsigned long long)s->requests[VIRTIO_BLK_T_GET_ID],
                    (unsigned long long)s->requests[VIRTIO_BLK_T_WRITE_ZEROES],
                    (unsigned long long)s->errors, s->vdev.error ? ", error: " : "",
                    s->vdev.error ? s->vdev.error : "");
}

/* ---- saved state: the core and the transport; requests complete within
 * one notification, so none is ever in flight between slices ---- */

static void virtio_blk_save_parts(VMWriter *w, void *opaque)
{
    VirtioBlkState *s = opaque;
    vmstate_save_fields(w, &virtio_vmstate, &s->vdev);
    vmstate_save_fields(w, &virtio_pci_vmstate, s->proxy);
}

static bool virtio_blk_load_parts(VMReader *r, void *opaque, uint32_t version)
{
    VirtioBlkState *s = opaque;
    return vmstate_load_fields(r, &virtio_vmstate, &s->vdev, version) &&
           vmstate_load_fields(r, &virtio_pci_vmstate, s->proxy, version);
}

const VMStateDesc virtio_blk_vmstate = {
    .name = "virtio-blk",
    .version = 1,
    .min_version = 1,
    .save = virtio_blk_save_parts,
    .load = virtio_blk_load_parts,
};
