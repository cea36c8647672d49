/*
 * The transport-independent half of a virtio device (Virtio 1.2, chapter 2):
 * feature bits, the device status field, the device configuration space
 * with its generation count, and split virtqueues.
 *
 * A device type (net, later block) fills in VirtIODeviceOps and adds its
 * queues with a handler each; a transport (virtio_pci.c) owns a
 * VirtIODevice, forwards the driver's register accesses to the functions
 * below and turns virtio_notify*() into an interrupt through
 * VirtIOTransport.  Neither side knows the other's specifics.
 *
 * Guest memory is reached only through softmmu/phys.h, and only inside
 * [0, ram_size): a ring or buffer the driver places elsewhere is an error.
 * Errors the driver makes (a ring outside RAM, a descriptor chain that
 * loops or is longer than the queue) put the device in the error state of
 * 2.1.2: DEVICE_NEEDS_RESET is set, a configuration change is signalled,
 * and no queue is processed again until the driver resets the device.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "softmmu/phys.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

/* Reserved (transport and ring) feature bits (chapter 6). */
#define VIRTIO_F_ANY_LAYOUT    27 /* legacy: no assumptions about framing */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE  0x01
#define VIRTIO_ISR_CONFIG 0x02

#define VIRTIO_QUEUE_MAX      8  /* queues per device */
#define VIRTIO_CONFIG_MAX     64 /* bytes of device-specific configuration */
#define VIRTIO_QUEUE_SIZE_MAX 1024

/* "Not a queue": a notification about the configuration, not a queue. */
#define VIRTIO_NO_QUEUE (-1)

static inline uint64_t virtio_bit(int feature)
{
    return 1ull << feature;
}

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* One guest buffer of a descriptor chain. */
typedef struct VirtQueueSeg {
    uint64_t addr; /* guest physical, inside RAM (checked when the chain is read) */
    uint32_t len;
} VirtQueueSeg;

/*
 * A descriptor chain popped from the available ring: the device-readable
 * buffers first (seg[0..nout)), then the device-writable ones
 * (seg[nout..nseg)), the order 2.7.4.2 requires of the driver.  It lives
 * in the queue and stays valid until the next pop from that queue.
 */
typedef struct VirtQueueElement {
    uint16_t head;      /* first descriptor's index: what the used ring returns */
    unsigned nout;      /* device-readable segments */
    unsigned nseg;      /* all segments */
    uint64_t out_len;   /* bytes in the readable segments */
    uint64_t in_len;    /* bytes in the writable segments */
    VirtQueueSeg seg[]; /* as many as the queue's largest size */
} VirtQueueElement;

/* Called when the driver notifies a queue (the device checks DRIVER_OK). */
typedef void (*VirtQueueHandler)(void *opaque, VirtQueue *vq);

typedef struct VirtIODeviceOps {
    /* Fill in the config_len bytes of device-specific configuration. */
    void (*get_config)(void *opaque, uint8_t *config);
    /* The driver wrote configuration bytes; NULL: read-only. */
    void (*set_config)(void *opaque, const uint8_t *config);
    /* The driver changed the status (not called for a reset). */
    void (*set_status)(void *opaque, uint8_t old_status, uint8_t status);
    /* The driver reset the device (status 0) or the machine reset it. */
    void (*reset)(void *opaque);
} VirtIODeviceOps;

/*
 * How the device reaches the driver: queue is the queue index, or
 * VIRTIO_NO_QUEUE for a configuration change.  The ISR bit is already set
 * when this is called; INTx follows the ISR, and MSI-X (when popek has it)
 * will pick the vector mapped to queue.
 */
typedef struct VirtIOTransport {
    void (*notify)(void *opaque, int queue);
    void *opaque;
} VirtIOTransport;

struct VirtQueue {
    VirtIODevice *vdev;
    int index;
    uint16_t num;            /* queue size the driver uses */
    uint16_t num_max;        /* largest size the device supports */
    uint64_t desc;           /* descriptor table (guest physical) */
    uint64_t avail;          /* driver area: the available ring */
    uint64_t used;           /* device area: the used ring */
    bool ready;              /* enabled (modern) or given an address (legacy) */
    uint16_t last_avail_idx; /* next available ring entry the device reads */
    uint16_t used_idx;       /* the used ring's idx as the device last wrote it */
    uint16_t signalled_used; /* used_idx when the driver was last notified */
    VirtQueueHandler handler;
    VirtQueueElement *elem; /* storage for the chain being processed */
};

struct VirtIODevice {
    uint16_t device_id; /* virtio device type: 1 = network, 2 = block (chapter 5) */
    PhysMem *phys;      /* the only way to guest memory */
    const VirtIODeviceOps *ops;
    void *opaque; /* the device type's state */
    VirtIOTransport transport;
    uint64_t host_features;    /* offered by the device */
    uint64_t guest_features;   /* written by the driver (checked at FEATURES_OK) */
    uint8_t status;            /* device status field (2.1) */
    uint8_t isr;               /* VIRTIO_ISR_*: why the interrupt line is up */
    uint8_t config_generation; /* 2.5.1: changes when the configuration changes */
    bool config_changed;       /* changed since the driver last read it */
    uint16_t queue_sel;        /* the queue the transport's queue registers show */
    size_t config_len;         /* bytes of device-specific configuration */
    int busy;                  /* > 0 while the device processes a queue or does DMA */
    const char *error;         /* why NEEDS_RESET was set, for info; NULL if it is not */
    int nqueues;
    VirtQueue vq[VIRTIO_QUEUE_MAX];
};

/* Set up vdev (zeroed by the caller) for a device type.  config_len is at
 * most VIRTIO_CONFIG_MAX. */
void virtio_init(VirtIODevice *vdev, uint16_t device_id, PhysMem *phys, size_t config_len,
                 uint64_t host_features, const VirtIODeviceOps *ops, void *opaque);
/* Add the next queue (index nqueues) of at most num_max entries (a power
 * of two); returns it, or NULL when out of memory or queues. */
VirtQueue *virtio_add_queue(VirtIODevice *vdev, uint16_t num_max, VirtQueueHandler handler);
void virtio_cleanup(VirtIODevice *vdev);
/* Saved state of the core, nested in a device's section (migration/vmstate.h). */
extern const struct VMStateDesc virtio_vmstate;

/* ---- the driver's side, for transports ---- */

/* Status write (2.1): 0 resets; FEATURES_OK only sticks if the features do. */
void virtio_set_status(VirtIODevice *vdev, uint8_t status);
/* Reset to the state after power-on (2.4): status, features, queues, ISR. */
void virtio_reset(VirtIODevice *vdev);
/* Read and clear the ISR status (4.1.4.5). */
uint8_t virtio_isr_read_clear(VirtIODevice *vdev);

/* Device-specific configuration, little endian, any width and alignment;
 * bytes past config_len read 0 and ignore writes. */
uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t offset, int size);
void virtio_config_write(VirtIODevice *vdev, uint32_t offset, uint32_t value, int size);

/*
 * Queue setup.  The modern interface writes num, desc, avail and used of a
 * queue that is not ready straight into the VirtQueue; enabling checks
 * them (2.7: size a power of two, alignments, inside RAM).
 */
void virtio_queue_enable(VirtIODevice *vdev, int n);
/* Legacy (2.7.2): one contiguous area at base, the used ring at the next
 * multiple of align; base 0 takes the queue away. */
void virtio_queue_set_legacy(VirtIODevice *vdev, int n, uint64_t base, uint32_t align);
/* The driver notified queue n. */
void virtio_queue_notify(VirtIODevice *vdev, int n);

/* ---- the device type's side ---- */

/* Negotiated feature? */
static inline bool virtio_has_feature(const VirtIODevice *vdev, int feature)
{
    return (vdev->guest_features & virtio_bit(feature)) != 0;
}

/* May the device use its queues (DRIVER_OK and no error)? */
bool virtio_device_running(const VirtIODevice *vdev);

/* The next available chain, or NULL (empty, queue not ready, or an error,
 * which also sets NEEDS_RESET).  It is read into the queue's own element. */
VirtQueueElement *virtqueue_pop(VirtQueue *vq);
/* The same into an element of the device's (from virtqueue_element_new),
 * for a chain it holds on to while popping more; false for NULL. */
bool virtqueue_pop_into(VirtQueue *vq, VirtQueueElement *elem);
/* An element big enough for any chain of vq; the caller frees it. */
VirtQueueElement *virtqueue_element_new(const VirtQueue *vq);
/* Give back the last count popped chains unused (they will be popped again). */
void virtqueue_unpop(VirtQueue *vq, unsigned count);
/*
 * Writable bytes in the available chains, adding chains until want is
 * reached.  Consumes nothing; an error sets NEEDS_RESET and gives 0.
 */
uint64_t virtqueue_avail_in_bytes(VirtQueue *vq, uint64_t want);
/* Ask the driver to notify when it adds the next buffer (2.7.10). */
void virtqueue_want_notify(VirtQueue *vq);

/* Copy between a chain's buffers and the host, from byte offset of the
 * readable (out) or writable (in) part; returns the bytes copied. */
size_t virtqueue_read_out(VirtQueue *vq, const VirtQueueElement *elem, uint64_t offset, void *buf,
                          size_t len);
size_t virtqueue_write_in(VirtQueue *vq, const VirtQueueElement *elem, uint64_t offset,
                          const void *buf, size_t len);

/* Used ring (2.7.8): fill writes the idx-th entry past the used index,
 * flush publishes count entries; push is both for one chain. */
void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx);
void virtqueue_flush(VirtQueue *vq, unsigned count);
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len);

/* A used buffer notification, unless the driver suppressed it (2.7.7). */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
/* The device configuration changed: new generation, configuration interrupt. */
void virtio_config_changed(VirtIODevice *vdev);
/* Enter the error state (2.1.2); why is a static string. */
void virtio_error(VirtIODevice *vdev, const char *why);

#endif /* HW_VIRTIO_VIRTIO_H */
