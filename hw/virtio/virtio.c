/*
 * Virtio devices, transport-independent (see virtio.h).  Section numbers
 * are those of Virtio 1.2.
 *
 * Everything the driver hands the device is an address in guest memory,
 * read again on every use: rings and descriptors go through phys_* one
 * access at a time and no host pointer is kept.  Each ring and buffer is
 * checked to lie inside RAM before it is touched, every walk is bounded by
 * the queue size, and the only allocations are one element per queue,
 * made when the device is built.
 *
 * The device's own DMA may land on its own registers (a buffer inside a
 * BAR placed over RAM).  busy counts the device's queue processing and
 * DMA; the transport ignores register accesses while it is non-zero, so
 * the device is never re-entered half-way through a chain.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/virtio/virtio.h"
#include "migration/vmstate.h"

/* Descriptor flags (2.7.5). */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4
#define VRING_DESC_SIZE       16

/* Available ring flag: no used buffer notifications, please (2.7.7). */
#define VRING_AVAIL_F_NO_INTERRUPT 1

typedef struct VRingDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VRingDesc;

/* ---- guest memory ---- */

/* [addr, addr+len) inside guest RAM: the only memory a driver may hand us. */
static bool virtio_in_ram(const VirtIODevice *vdev, uint64_t addr, uint64_t len)
{
    uint64_t ram = vdev->phys->ram_size;

    return addr <= ram && len <= ram - addr;
}

/* Callers have checked the range with virtio_in_ram, so it fits 32 bits. */
static void virtio_dma_read(VirtIODevice *vdev, uint64_t addr, void *buf, uint32_t len)
{
    vdev->busy++;
    phys_read_buf(vdev->phys, (uint32_t)addr, buf, len);
    vdev->busy--;
}

static void virtio_dma_write(VirtIODevice *vdev, uint64_t addr, const void *buf, uint32_t len)
{
    vdev->busy++;
    phys_write_buf(vdev->phys, (uint32_t)addr, buf, len);
    vdev->busy--;
}

static uint16_t vring_load16(VirtIODevice *vdev, uint64_t addr)
{
    uint8_t b[2];

    virtio_dma_read(vdev, addr, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

static void vring_store16(VirtIODevice *vdev, uint64_t addr, uint16_t value)
{
    uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};

    virtio_dma_write(vdev, addr, b, 2);
}

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

/* ---- split ring layout (2.7) ---- */

/* flags, idx, ring[num], used_event */
static uint64_t vring_avail_size(uint16_t num)
{
    return 6 + 2ull * num;
}

/* flags, idx, ring[num] of {id, len}, avail_event */
static uint64_t vring_used_size(uint16_t num)
{
    return 6 + 8ull * num;
}

static uint16_t vring_avail_flags(VirtQueue *vq)
{
    return vring_load16(vq->vdev, vq->avail);
}

static uint16_t vring_avail_idx(VirtQueue *vq)
{
    return vring_load16(vq->vdev, vq->avail + 2);
}

static uint16_t vring_avail_ring(VirtQueue *vq, uint16_t pos)
{
    return vring_load16(vq->vdev, vq->avail + 4 + 2ull * (pos % vq->num));
}

/* Event index fields (2.7.7, 2.7.10): each sits past the other side's ring. */
static uint16_t vring_used_event(VirtQueue *vq)
{
    return vring_load16(vq->vdev, vq->avail + 4 + 2ull * vq->num);
}

static void vring_set_avail_event(VirtQueue *vq, uint16_t value)
{
    vring_store16(vq->vdev, vq->used + 4 + 8ull * vq->num, value);
}

static void vring_read_desc(VirtIODevice *vdev, uint64_t addr, VRingDesc *d)
{
    uint8_t raw[VRING_DESC_SIZE];

    virtio_dma_read(vdev, addr, raw, sizeof(raw));
    d->addr = get_le(raw, 8);
    d->len = (uint32_t)get_le(raw + 8, 4);
    d->flags = (uint16_t)get_le(raw + 12, 2);
    d->next = (uint16_t)get_le(raw + 14, 2);
}

static bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    return a < b + b_len && b < a + a_len;
}

/*
 * What enabling a queue requires (2.7): a size that is a power of two the
 * device supports, the alignments of 2.7 (descriptors 16, available ring
 * 2, used ring 4), all three areas inside RAM, and the used ring (the one
 * the device writes) clear of the two it reads: on top of them, the
 * device's own writes would change the descriptors and indexes it reads
 * next, midway through a notification (a double fetch, which the device
 * fuzzer's watch reports: tests/fuzz/dma_watch.h).  No correct driver
 * lays its rings over each other, so refusing it costs nothing.
 */
static bool vring_layout_ok(const VirtQueue *vq)
{
    const VirtIODevice *vdev = vq->vdev;
    uint16_t num = vq->num;
    uint64_t desc_len = (uint64_t)VRING_DESC_SIZE * num;

    return num != 0 && num <= vq->num_max && (num & (num - 1)) == 0 && vq->desc % 16 == 0 &&
           vq->avail % 2 == 0 && vq->used % 4 == 0 && virtio_in_ram(vdev, vq->desc, desc_len) &&
           virtio_in_ram(vdev, vq->avail, vring_avail_size(num)) &&
           virtio_in_ram(vdev, vq->used, vring_used_size(num)) &&
           !ranges_overlap(vq->used, vring_used_size(num), vq->desc, desc_len) &&
           !ranges_overlap(vq->used, vring_used_size(num), vq->avail, vring_avail_size(num));
}

/* ---- device life cycle ---- */

void virtio_init(VirtIODevice *vdev, uint16_t device_id, PhysMem *phys, size_t config_len,
                 uint64_t host_features, const VirtIODeviceOps *ops, void *opaque)
{
    vdev->device_id = device_id;
    vdev->phys = phys;
    vdev->config_len = config_len < VIRTIO_CONFIG_MAX ? config_len : VIRTIO_CONFIG_MAX;
    vdev->host_features = host_features;
    vdev->ops = ops;
    vdev->opaque = opaque;
}

static void virtio_queue_reset(VirtQueue *vq)
{
    vq->num = vq->num_max;
    vq->desc = 0;
    vq->avail = 0;
    vq->used = 0;
    vq->ready = false;
    vq->last_avail_idx = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, uint16_t num_max, VirtQueueHandler handler)
{
    VirtQueue *vq;

    if (vdev->nqueues == VIRTIO_QUEUE_MAX || num_max == 0 || num_max > VIRTIO_QUEUE_SIZE_MAX) {
        return NULL;
    }
    vq = &vdev->vq[vdev->nqueues];
    vq->num_max = num_max;
    vq->elem = virtqueue_element_new(vq);
    if (!vq->elem) {
        return NULL;
    }
    vq->vdev = vdev;
    vq->index = vdev->nqueues++;
    vq->handler = handler;
    virtio_queue_reset(vq);
    return vq;
}

void virtio_cleanup(VirtIODevice *vdev)
{
    for (int i = 0; i < vdev->nqueues; i++) {
        free(vdev->vq[i].elem);
        vdev->vq[i].elem = NULL;
    }
}

void virtio_reset(VirtIODevice *vdev)
{
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->isr = 0;
    vdev->queue_sel = 0;
    vdev->config_changed = false;
    vdev->error = NULL;
    for (int i = 0; i < vdev->nqueues; i++) {
        virtio_queue_reset(&vdev->vq[i]);
    }
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev->opaque);
    }
}

bool virtio_device_running(const VirtIODevice *vdev)
{
    return (vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
           VIRTIO_STATUS_DRIVER_OK;
}

/* ---- interrupts ---- */

static void virtio_notify_config(VirtIODevice *vdev)
{
    /* No notifications before DRIVER_OK (3.1.1). */
    if (!(vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_CONFIG;
    vdev->transport.notify(vdev->transport.opaque, VIRTIO_NO_QUEUE);
}

void virtio_config_changed(VirtIODevice *vdev)
{
    vdev->config_changed = true;
    virtio_notify_config(vdev);
}

void virtio_error(VirtIODevice *vdev, const char *why)
{
    if (vdev->status & VIRTIO_STATUS_NEEDS_RESET) {
        return; /* keep the first reason */
    }
    vdev->error = why;
    vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
    /* 2.1.2: with DRIVER_OK set, the driver hears of it as a configuration change. */
    virtio_notify_config(vdev);
}

/* The driver wants a notification once used_idx passes event (2.7.7.2). */
static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static bool virtio_should_notify(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    uint16_t old_idx = vq->signalled_used;

    if (!vq->ready || !virtio_device_running(vdev)) {
        return false;
    }
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX)) {
        vq->signalled_used = vq->used_idx;
        return vring_need_event(vring_used_event(vq), vq->used_idx, old_idx);
    }
    return !(vring_avail_flags(vq) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (virtio_should_notify(vq)) {
        vdev->isr |= VIRTIO_ISR_QUEUE;
        vdev->transport.notify(vdev->transport.opaque, vq->index);
    }
}

uint8_t virtio_isr_read_clear(VirtIODevice *vdev)
{
    uint8_t isr = vdev->isr;

    vdev->isr = 0;
    return isr;
}

/* ---- the driver's registers ---- */

/*
 * FEATURES_OK (3.1.1 step 5): only features the device offered (2.2.1),
 * and VERSION_1, which a driver using this status bit must accept (6.1;
 * the device may refuse to work without it, 6.2).
 */
static bool virtio_features_ok(const VirtIODevice *vdev)
{
    return !(vdev->guest_features & ~vdev->host_features) &&
           virtio_has_feature(vdev, VIRTIO_F_VERSION_1);
}

void virtio_set_status(VirtIODevice *vdev, uint8_t status)
{
    uint8_t old_status = vdev->status;

    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old_status & VIRTIO_STATUS_FEATURES_OK) &&
        !virtio_features_ok(vdev)) {
        status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    /* NEEDS_RESET is the device's to set, and only a reset clears it. */
    status =
        (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) | (old_status & VIRTIO_STATUS_NEEDS_RESET));
    vdev->status = status;
    if (vdev->ops->set_status) {
        vdev->ops->set_status(vdev->opaque, old_status, status);
    }
}

static void virtio_config_fetch(VirtIODevice *vdev, uint8_t *config)
{
    memset(config, 0, VIRTIO_CONFIG_MAX);
    vdev->ops->get_config(vdev->opaque, config);
}

uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t offset, int size)
{
    uint8_t config[VIRTIO_CONFIG_MAX];
    uint32_t value = 0;

    virtio_config_fetch(vdev, config);
    /*
     * 4.1.4.3.1: a driver that reads a changed value must then see a new
     * generation.  Counting reads after changes, not changes, keeps the
     * 8-bit count from wrapping back to a value the driver saw.
     */
    if (vdev->config_changed) {
        vdev->config_generation++;
        vdev->config_changed = false;
    }
    for (int i = 0; i < size; i++) {
        if ((uint64_t)offset + i < vdev->config_len) {
            value |= (uint32_t)config[offset + i] << (8 * i);
        }
    }
    return value;
}

void virtio_config_write(VirtIODevice *vdev, uint32_t offset, uint32_t value, int size)
{
    uint8_t config[VIRTIO_CONFIG_MAX];

    if (!vdev->ops->set_config) {
        return;
    }
    virtio_config_fetch(vdev, config);
    for (int i = 0; i < size; i++) {
        if ((uint64_t)offset + i < vdev->config_len) {
            config[offset + i] = (uint8_t)(value >> (8 * i));
        }
    }
    vdev->ops->set_config(vdev->opaque, config);
}

/* A queue starts empty: both indices 0, nothing signalled yet. */
static void virtio_queue_start(VirtIODevice *vdev, VirtQueue *vq)
{
    if (!vring_layout_ok(vq)) {
        virtio_error(vdev, "virtqueue size, alignment or place in memory is invalid");
        return;
    }
    vq->ready = true;
    vq->last_avail_idx = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
}

void virtio_queue_enable(VirtIODevice *vdev, int n)
{
    if (n >= 0 && n < vdev->nqueues && !vdev->vq[n].ready) {
        virtio_queue_start(vdev, &vdev->vq[n]);
    }
}

void virtio_queue_set_legacy(VirtIODevice *vdev, int n, uint64_t base, uint32_t align)
{
    VirtQueue *vq;

    if (n < 0 || n >= vdev->nqueues) {
        return;
    }
    vq = &vdev->vq[n];
    if (base == 0) {
        virtio_queue_reset(vq);
        return;
    }
    /* 2.7.2: descriptors, then the available ring, then padding up to
     * align, then the used ring. */
    vq->desc = base;
    vq->avail = base + (uint64_t)VRING_DESC_SIZE * vq->num;
    vq->used = (vq->avail + vring_avail_size(vq->num) + align - 1) & ~((uint64_t)align - 1);
    vq->ready = false;
    virtio_queue_start(vdev, vq);
}

void virtio_queue_notify(VirtIODevice *vdev, int n)
{
    VirtQueue *vq;

    if (n < 0 || n >= vdev->nqueues) {
        return;
    }
    vq = &vdev->vq[n];
    if (vq->handler) {
        vdev->busy++;
        vq->handler(vdev->opaque, vq);
        vdev->busy--;
    }
}

/* ---- descriptor chains ---- */

static bool virtqueue_chain_error(VirtIODevice *vdev, const char *why)
{
    virtio_error(vdev, why);
    return false;
}

/*
 * Read the chain starting at descriptor head into elem.  Every step either
 * adds a segment (at most the queue size of them, 2.7.5.3.1, which also
 * stops a chain that loops) or enters the one indirect table a chain may
 * have (2.7.5.3), so the walk is bounded.
 */
static bool virtqueue_read_chain(VirtQueue *vq, uint16_t head, VirtQueueElement *elem)
{
    VirtIODevice *vdev = vq->vdev;
    uint64_t table = vq->desc;
    uint32_t table_len = vq->num; /* entries */
    uint32_t i = head;
    bool indirect = false;

    elem->head = head;
    elem->nout = 0;
    elem->nseg = 0;
    elem->out_len = 0;
    elem->in_len = 0;
    for (;;) {
        VRingDesc d;

        if (i >= table_len) {
            return virtqueue_chain_error(vdev, "descriptor index past the end of its table");
        }
        vring_read_desc(vdev, table + (uint64_t)VRING_DESC_SIZE * i, &d);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            /* 2.7.5.3.1: one table, not nested, and last in the chain; its
             * own WRITE flag means nothing (2.7.5.3.2). */
            if (indirect || (d.flags & VRING_DESC_F_NEXT)) {
                return virtqueue_chain_error(vdev, "misplaced indirect descriptor");
            }
            if (d.len == 0 || d.len % VRING_DESC_SIZE || !virtio_in_ram(vdev, d.addr, d.len)) {
                return virtqueue_chain_error(vdev, "indirect table invalid or outside RAM");
            }
            table = d.addr;
            table_len = d.len / VRING_DESC_SIZE;
            i = 0;
            indirect = true;
            continue;
        }
        if (elem->nseg == vq->num) {
            return virtqueue_chain_error(vdev, "descriptor chain longer than the queue (a loop)");
        }
        if (!virtio_in_ram(vdev, d.addr, d.len)) {
            return virtqueue_chain_error(vdev, "buffer outside guest RAM");
        }
        if (d.flags & VRING_DESC_F_WRITE) {
            elem->in_len += d.len;
        } else if (elem->nseg > elem->nout) {
            /* 2.7.4.2: readable buffers come before writable ones. */
            return virtqueue_chain_error(vdev, "device-readable buffer after a writable one");
        } else {
            elem->nout++;
            elem->out_len += d.len;
        }
        elem->seg[elem->nseg++] = (VirtQueueSeg){d.addr, d.len};
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
    }
}

/*
 * The chain the available ring offers k entries past last_avail_idx, if
 * there is one.  The driver may be at most a queue's worth ahead (2.7.6).
 */
static bool virtqueue_read_avail(VirtQueue *vq, uint16_t k, VirtQueueElement *elem)
{
    VirtIODevice *vdev = vq->vdev;
    uint16_t pending = (uint16_t)(vring_avail_idx(vq) - vq->last_avail_idx);
    uint16_t head;

    if (pending > vq->num) {
        return virtqueue_chain_error(vdev, "available index more than a queue ahead");
    }
    if (k >= pending) {
        return false;
    }
    head = vring_avail_ring(vq, (uint16_t)(vq->last_avail_idx + k));
    if (head >= vq->num) {
        return virtqueue_chain_error(vdev, "available ring names a descriptor past the table");
    }
    return virtqueue_read_chain(vq, head, elem);
}

/* 3.1.1: no buffers are used before DRIVER_OK; none after an error. */
static bool virtqueue_usable(const VirtQueue *vq)
{
    return vq->ready && virtio_device_running(vq->vdev);
}

VirtQueueElement *virtqueue_element_new(const VirtQueue *vq)
{
    return malloc(sizeof(VirtQueueElement) + vq->num_max * sizeof(VirtQueueSeg));
}

bool virtqueue_pop_into(VirtQueue *vq, VirtQueueElement *elem)
{
    if (!virtqueue_usable(vq) || !virtqueue_read_avail(vq, 0, elem)) {
        return false;
    }
    vq->last_avail_idx++;
    /* Have the driver notify us again when it adds past what we took. */
    if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
        vring_set_avail_event(vq, vq->last_avail_idx);
    }
    return true;
}

VirtQueueElement *virtqueue_pop(VirtQueue *vq)
{
    return virtqueue_pop_into(vq, vq->elem) ? vq->elem : NULL;
}

void virtqueue_unpop(VirtQueue *vq, unsigned count)
{
    vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - count);
}

uint64_t virtqueue_avail_in_bytes(VirtQueue *vq, uint64_t want)
{
    uint64_t total = 0;

    if (!virtqueue_usable(vq)) {
        return 0;
    }
    /* Bounded: read_avail fails once k reaches the (at most num) pending chains. */
    for (uint16_t k = 0; total < want && virtqueue_read_avail(vq, k, vq->elem); k++) {
        total += vq->elem->in_len;
    }
    return virtio_device_running(vq->vdev) ? total : 0;
}

void virtqueue_want_notify(VirtQueue *vq)
{
    if (virtqueue_usable(vq) && virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
        vring_set_avail_event(vq, vring_avail_idx(vq));
    }
}

/* Copy between buf and segments [first, end) of elem, starting offset bytes
 * into them: device-readable ones are read, device-writable ones written. */
static size_t segs_copy(VirtQueue *vq, const VirtQueueElement *elem, unsigned first, unsigned end,
                        uint64_t offset, uint8_t *buf, size_t len, bool write)
{
    size_t done = 0;

    for (unsigned s = first; s < end && done < len; s++) {
        const VirtQueueSeg *seg = &elem->seg[s];
        size_t n;

        if (offset >= seg->len) {
            offset -= seg->len;
            continue;
        }
        n = seg->len - offset < len - done ? seg->len - offset : len - done;
        if (write) {
            virtio_dma_write(vq->vdev, seg->addr + offset, buf + done, (uint32_t)n);
        } else {
            virtio_dma_read(vq->vdev, seg->addr + offset, buf + done, (uint32_t)n);
        }
        done += n;
        offset = 0;
    }
    return done;
}

size_t virtqueue_read_out(VirtQueue *vq, const VirtQueueElement *elem, uint64_t offset, void *buf,
                          size_t len)
{
    return segs_copy(vq, elem, 0, elem->nout, offset, buf, len, false);
}

size_t virtqueue_write_in(VirtQueue *vq, const VirtQueueElement *elem, uint64_t offset,
                          const void *buf, size_t len)
{
    /* segs_copy only reads buf when it writes guest memory. */
    return segs_copy(vq, elem, elem->nout, elem->nseg, offset, (uint8_t *)buf, len, true);
}

/* ---- the used ring (2.7.8) ---- */

void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx)
{
    uint8_t entry[8];
    uint16_t slot;

    if (!vq->ready) {
        return;
    }
    slot = (uint16_t)((vq->used_idx + idx) % vq->num);
    put_le(entry, elem->head, 4);
    put_le(entry + 4, len, 4);
    virtio_dma_write(vq->vdev, vq->used + 4 + 8ull * slot, entry, sizeof(entry));
}

void virtqueue_flush(VirtQueue *vq, unsigned count)
{
    if (!vq->ready) {
        return;
    }
    vq->used_idx = (uint16_t)(vq->used_idx + count);
    vring_store16(vq->vdev, vq->used + 2, vq->used_idx);
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len)
{
    virtqueue_fill(vq, elem, len, 0);
    virtqueue_flush(vq, 1);
}

/* ---- saved state of the device core, nested in each virtio device's
 * section: status, features, interrupt status and every queue's layout
 * and indices (the rings themselves are in guest RAM) ---- */

static const VMField virtqueue_fields[] = {
    VMS_U16(VirtQueue, num),
    VMS_U64(VirtQueue, desc),
    VMS_U64(VirtQueue, avail),
    VMS_U64(VirtQueue, used),
    VMS_BOOL(VirtQueue, ready),
    VMS_U16(VirtQueue, last_avail_idx),
    VMS_U16(VirtQueue, used_idx),
    VMS_U16(VirtQueue, signalled_used),
    VMS_END,
};

static bool virtqueue_post_load(VMReader *r, void *opaque, uint32_t version)
{
    VirtQueue *vq = opaque;
    if (vq->num > vq->num_max || (vq->ready && !vring_layout_ok(vq))) {
        return vm_fail(r, "queue %d: size %u or ring layout not valid", vq->index, vq->num);
    }
    return true;
}

static const VMStateDesc virtqueue_desc = {
    .name = "queue",
    .fields = virtqueue_fields,
    .post_load = virtqueue_post_load,
};

static void virtio_save_queues(VMWriter *w, void *opaque)
{
    VirtIODevice *vdev = opaque;
    vm_put_u8(w, vdev->error != NULL);
    vm_put_u32(w, (uint32_t)vdev->nqueues);
    for (int i = 0; i < vdev->nqueues; i++) {
        vmstate_save_fields(w, &virtqueue_desc, &vdev->vq[i]);
    }
}

static bool virtio_load_queues(VMReader *r, void *opaque, uint32_t version)
{
    VirtIODevice *vdev = opaque;
    uint8_t error = vm_get_u8(r);
    uint32_t nqueues = vm_get_u32(r);
    if (!r->failed && (error > 1 || nqueues != (uint32_t)vdev->nqueues)) {
        return vm_fail(r, "%u queues saved, the device has %d", nqueues, vdev->nqueues);
    }
    /* The reason itself is not kept: the driver sees NEEDS_RESET either way. */
    vdev->error = error ? "set before the VM was saved" : NULL;
    for (int i = 0; i < vdev->nqueues && !r->failed; i++) {
        vmstate_load_fields(r, &virtqueue_desc, &vdev->vq[i], version);
    }
    return !r->failed;
}

static const VMField virtio_fields[] = {
    VMS_U64(VirtIODevice, guest_features),
    VMS_U8(VirtIODevice, status),
    VMS_U8(VirtIODevice, isr),
    VMS_U8(VirtIODevice, config_generation),
    VMS_BOOL(VirtIODevice, config_changed),
    VMS_U16(VirtIODevice, queue_sel),
    VMS_END,
};

const VMStateDesc virtio_vmstate = {
    .name = "virtio",
    .fields = virtio_fields,
    .save = virtio_save_queues,
    .load = virtio_load_queues,
};
