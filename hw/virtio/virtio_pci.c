/*
 * The virtio PCI transport (see virtio_pci.h).  Section numbers are those
 * of Virtio 1.2.
 *
 * BAR0 (I/O) is the legacy register block followed by the device
 * configuration.  BAR4 (memory, 16 KiB) holds one modern structure per
 * 4 KiB page, as QEMU lays it out: common configuration, ISR status,
 * device configuration, notifications (one 4-byte slot per queue).  Both
 * interfaces drive the same VirtIODevice; which one the driver speaks
 * shows in whether it accepts VERSION_1.
 *
 * Every register access is refused while the device is busy: it can only
 * come from the device's own DMA landing on its BAR (virtio.c).
 */
#include <stdlib.h>

#include "hw/virtio/virtio_pci.h"
#include "migration/vmstate.h"

#define VIRTIO_PCI_VENDOR_ID 0x1af4

#define VIRTIO_PCI_LEGACY_BAR 0
#define VIRTIO_PCI_MODERN_BAR 4

/* Legacy register block (4.1.4.10), without MSI-X. */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES  0x00 /* 32, R */
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES 0x04 /* 32, RW */
#define VIRTIO_PCI_LEGACY_QUEUE_PFN      0x08 /* 32, RW: address / 4096 */
#define VIRTIO_PCI_LEGACY_QUEUE_NUM      0x0c /* 16, R */
#define VIRTIO_PCI_LEGACY_QUEUE_SEL      0x0e /* 16, RW */
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY   0x10 /* 16, RW */
#define VIRTIO_PCI_LEGACY_STATUS         0x12 /* 8, RW */
#define VIRTIO_PCI_LEGACY_ISR            0x13 /* 8, R, read clears */
#define VIRTIO_PCI_LEGACY_CONFIG         0x14 /* device configuration */
#define VIRTIO_PCI_LEGACY_PFN_SHIFT      12
#define VIRTIO_PCI_LEGACY_VRING_ALIGN    4096 /* 4.1.5.1.3.1 */

/* The modern BAR: one structure per page. */
#define VIRTIO_PCI_PAGE        0x1000
#define VIRTIO_PCI_COMMON_PAGE 0
#define VIRTIO_PCI_ISR_PAGE    1
#define VIRTIO_PCI_DEVICE_PAGE 2
#define VIRTIO_PCI_NOTIFY_PAGE 3
#define VIRTIO_PCI_MODERN_SIZE (4 * VIRTIO_PCI_PAGE)
#define VIRTIO_PCI_NOTIFY_MULT 4 /* bytes between queues' notify addresses */

/* struct virtio_pci_common_cfg (4.1.4.3), up to the queue_device field. */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34
#define VIRTIO_PCI_COMMON_LEN       0x38

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* struct virtio_pci_cap (4.1.4) and what follows it. */
#define VIRTIO_PCI_CAP_CFG_TYPE    3
#define VIRTIO_PCI_CAP_BAR         4
#define VIRTIO_PCI_CAP_OFFSET      8
#define VIRTIO_PCI_CAP_LENGTH      12
#define VIRTIO_PCI_CAP_SIZE        16
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* notify_off_multiplier */
#define VIRTIO_PCI_CFG_CAP_DATA    16 /* pci_cfg_data */
#define VIRTIO_PCI_CAP_LEN         2  /* cap_len byte */

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

struct VirtIOPCIProxy {
    VirtIODevice *vdev;
    PCIDevice *pci;
    PhysMem *phys;
    IOPortMap *io;
    IRQ irq;
    int irq_level;        /* what we last drove on irq */
    uint32_t legacy_size; /* BAR0 bytes: registers and configuration, a power of two */
    uint32_t legacy_base; /* BAR0's first port, or PCI_BAR_UNMAPPED */
    int modern_region;    /* BAR4's MMIO region in phys */
    uint32_t dfselect;    /* device_feature_select */
    uint32_t gfselect;    /* driver_feature_select */
    int cfg_cap;          /* configuration offset of the PCI_CFG capability */
};

static uint32_t ones(int size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* ---- interrupt ---- */

/*
 * 4.1.4.5.1: without MSI-X the PCI status Interrupt Status bit is the OR
 * of the ISR bits, and INTx follows it unless the command register's
 * Interrupt Disable masks it (PCI 2.3, 6.2.2).
 */
static void virtio_pci_update_irq(VirtIOPCIProxy *proxy)
{
    bool pending = proxy->vdev->isr != 0;
    uint32_t status = pci_config_get(proxy->pci, PCI_STATUS, 2);
    uint32_t command = pci_config_get(proxy->pci, PCI_COMMAND, 2);
    int level = pending && !(command & PCI_COMMAND_INTX_DISABLE);

    status = pending ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
    pci_config_set(proxy->pci, PCI_STATUS, status, 2);
    if (level != proxy->irq_level) {
        proxy->irq_level = level;
        irq_set_level(&proxy->irq, level);
    }
}

static void virtio_pci_notify(void *opaque, int queue)
{
    virtio_pci_update_irq(opaque);
}

static VirtQueue *virtio_pci_selected_queue(VirtIOPCIProxy *proxy)
{
    VirtIODevice *vdev = proxy->vdev;

    return vdev->queue_sel < vdev->nqueues ? &vdev->vq[vdev->queue_sel] : NULL;
}

/* ---- legacy interface (BAR0) ---- */

static uint32_t virtio_pci_legacy_reg_read(VirtIOPCIProxy *proxy, uint32_t offset, int size)
{
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = virtio_pci_selected_queue(proxy);
    uint32_t value;

    if (offset >= VIRTIO_PCI_LEGACY_CONFIG) {
        return virtio_config_read(vdev, offset - VIRTIO_PCI_LEGACY_CONFIG, size);
    }
    switch (offset) {
    case VIRTIO_PCI_LEGACY_HOST_FEATURES: return (uint32_t)vdev->host_features;
    case VIRTIO_PCI_LEGACY_GUEST_FEATURES: return (uint32_t)vdev->guest_features;
    case VIRTIO_PCI_LEGACY_QUEUE_PFN:
        return vq ? (uint32_t)(vq->desc >> VIRTIO_PCI_LEGACY_PFN_SHIFT) : 0;
    case VIRTIO_PCI_LEGACY_QUEUE_NUM: return vq ? vq->num : 0;
    case VIRTIO_PCI_LEGACY_QUEUE_SEL: return vdev->queue_sel;
    case VIRTIO_PCI_LEGACY_STATUS: return vdev->status;
    case VIRTIO_PCI_LEGACY_ISR:
        value = virtio_isr_read_clear(vdev);
        virtio_pci_update_irq(proxy);
        return value;
    default: return 0;
    }
}

static void virtio_pci_legacy_reg_write(VirtIOPCIProxy *proxy, uint32_t offset, uint32_t value,
                                        int size)
{
    VirtIODevice *vdev = proxy->vdev;

    if (offset >= VIRTIO_PCI_LEGACY_CONFIG) {
        virtio_config_write(vdev, offset - VIRTIO_PCI_LEGACY_CONFIG, value, size);
        return;
    }
    switch (offset) {
    case VIRTIO_PCI_LEGACY_GUEST_FEATURES:
        /* Only bits 0-31 exist here; the rest are not acknowledged (4.1.4.10). */
        if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
            vdev->guest_features = value & vdev->host_features;
        }
        break;
    case VIRTIO_PCI_LEGACY_QUEUE_PFN:
        virtio_queue_set_legacy(vdev, vdev->queue_sel,
                                (uint64_t)value << VIRTIO_PCI_LEGACY_PFN_SHIFT,
                                VIRTIO_PCI_LEGACY_VRING_ALIGN);
        break;
    case VIRTIO_PCI_LEGACY_QUEUE_SEL: vdev->queue_sel = (uint16_t)value; break;
    case VIRTIO_PCI_LEGACY_QUEUE_NOTIFY: virtio_queue_notify(vdev, (uint16_t)value); break;
    case VIRTIO_PCI_LEGACY_STATUS: virtio_set_status(vdev, (uint8_t)value); break;
    default: break;
    }
    virtio_pci_update_irq(proxy);
}

static uint32_t virtio_pci_legacy_read(void *opaque, uint16_t port, int size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (proxy->vdev->busy) {
        return ones(size);
    }
    return virtio_pci_legacy_reg_read(proxy, (uint32_t)(port - proxy->legacy_base), size);
}

static void virtio_pci_legacy_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (!proxy->vdev->busy) {
        virtio_pci_legacy_reg_write(proxy, (uint32_t)(port - proxy->legacy_base), value, size);
    }
}

static void virtio_pci_legacy_map(void *opaque, int bar, uint32_t addr)
{
    VirtIOPCIProxy *proxy = opaque;

    if (proxy->legacy_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(proxy->io, (uint16_t)proxy->legacy_base, proxy->legacy_size);
    }
    proxy->legacy_base = addr;
    if (addr != PCI_BAR_UNMAPPED) {
        ioport_register(proxy->io, (uint16_t)addr, proxy->legacy_size, 1 | 2 | 4,
                        virtio_pci_legacy_read, virtio_pci_legacy_write, proxy);
    }
}

/* ---- modern interface (BAR4) ---- */

static uint32_t virtio_pci_common_read(VirtIOPCIProxy *proxy, uint32_t offset)
{
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = virtio_pci_selected_queue(proxy);

    switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT: return proxy->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        return proxy->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * proxy->dfselect)) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return proxy->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return proxy->gfselect < 2 ? (uint32_t)(vdev->guest_features >> (32 * proxy->gfselect)) : 0;
    case VIRTIO_PCI_COMMON_MSIX: return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_NUMQ: return (uint32_t)vdev->nqueues;
    case VIRTIO_PCI_COMMON_STATUS: return vdev->status;
    case VIRTIO_PCI_COMMON_CFGGEN: return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT: return vdev->queue_sel;
    default: break;
    }
    if (!vq) {
        return 0; /* queue_size 0: no such queue (4.1.4.3) */
    }
    switch (offset) {
    case VIRTIO_PCI_COMMON_Q_SIZE: return vq->num;
    case VIRTIO_PCI_COMMON_Q_MSIX: return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE: return vq->ready;
    case VIRTIO_PCI_COMMON_Q_NOFF: return (uint32_t)vq->index;
    case VIRTIO_PCI_COMMON_Q_DESCLO: return (uint32_t)vq->desc;
    case VIRTIO_PCI_COMMON_Q_DESCHI: return (uint32_t)(vq->desc >> 32);
    case VIRTIO_PCI_COMMON_Q_AVAILLO: return (uint32_t)vq->avail;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: return (uint32_t)(vq->avail >> 32);
    case VIRTIO_PCI_COMMON_Q_USEDLO: return (uint32_t)vq->used;
    case VIRTIO_PCI_COMMON_Q_USEDHI: return (uint32_t)(vq->used >> 32);
    default: return 0;
    }
}

/* Replace the low or high half of a 64-bit queue address. */
static void set_half(uint64_t *field, bool high, uint32_t value)
{
    if (high) {
        *field = (*field & 0xffffffffu) | ((uint64_t)value << 32);
    } else {
        *field = (*field & ~0xffffffffull) | value;
    }
}

static void virtio_pci_queue_write(VirtIOPCIProxy *proxy, uint32_t offset, uint32_t value)
{
    VirtQueue *vq = virtio_pci_selected_queue(proxy);

    /* The driver configures a queue before enabling it (4.1.4.3.2); after
     * that its fields stay as they were. */
    if (!vq || vq->ready) {
        return;
    }
    switch (offset) {
    case VIRTIO_PCI_COMMON_Q_SIZE: vq->num = (uint16_t)value; break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        /* Writing 0 is not the driver's to do (4.1.4.3.2). */
        if (value == 1) {
            virtio_queue_enable(proxy->vdev, vq->index);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        set_half(&vq->desc, offset == VIRTIO_PCI_COMMON_Q_DESCHI, value);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        set_half(&vq->avail, offset == VIRTIO_PCI_COMMON_Q_AVAILHI, value);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        set_half(&vq->used, offset == VIRTIO_PCI_COMMON_Q_USEDHI, value);
        break;
    default: break;
    }
}

static void virtio_pci_common_write(VirtIOPCIProxy *proxy, uint32_t offset, uint32_t value)
{
    VirtIODevice *vdev = proxy->vdev;

    switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT: proxy->dfselect = value; break;
    case VIRTIO_PCI_COMMON_GFSELECT: proxy->gfselect = value; break;
    case VIRTIO_PCI_COMMON_GF:
        /*
         * Kept as written, offered or not: FEATURES_OK checks them
         * (4.1.4.3.1).  Frozen once FEATURES_OK is set (3.1.1).
         */
        if (proxy->gfselect < 2 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
            uint64_t mask = 0xffffffffull << (32 * proxy->gfselect);

            vdev->guest_features =
                (vdev->guest_features & ~mask) | ((uint64_t)value << (32 * proxy->gfselect));
        }
        break;
    case VIRTIO_PCI_COMMON_STATUS: virtio_set_status(vdev, (uint8_t)value); break;
    case VIRTIO_PCI_COMMON_Q_SELECT: vdev->queue_sel = (uint16_t)value; break;
    default: virtio_pci_queue_write(proxy, offset, value); break;
    }
}

static uint32_t virtio_pci_modern_reg_read(VirtIOPCIProxy *proxy, uint32_t offset, int size)
{
    VirtIODevice *vdev = proxy->vdev;
    uint32_t in_page = offset % VIRTIO_PCI_PAGE;
    uint32_t value;

    switch (offset / VIRTIO_PCI_PAGE) {
    case VIRTIO_PCI_COMMON_PAGE: return virtio_pci_common_read(proxy, in_page) & ones(size);
    case VIRTIO_PCI_ISR_PAGE:
        if (in_page != 0) {
            return 0;
        }
        value = virtio_isr_read_clear(vdev);
        virtio_pci_update_irq(proxy);
        return value;
    case VIRTIO_PCI_DEVICE_PAGE: return virtio_config_read(vdev, in_page, size);
    default: return 0; /* notifications are write-only */
    }
}

static void virtio_pci_modern_reg_write(VirtIOPCIProxy *proxy, uint32_t offset, uint32_t value,
                                        int size)
{
    VirtIODevice *vdev = proxy->vdev;
    uint32_t in_page = offset % VIRTIO_PCI_PAGE;

    switch (offset / VIRTIO_PCI_PAGE) {
    case VIRTIO_PCI_COMMON_PAGE: virtio_pci_common_write(proxy, in_page, value); break;
    case VIRTIO_PCI_DEVICE_PAGE: virtio_config_write(vdev, in_page, value, size); break;
    case VIRTIO_PCI_NOTIFY_PAGE:
        /* The address says which queue (4.1.4.4); queue_notify_off is its index. */
        if (in_page % VIRTIO_PCI_NOTIFY_MULT == 0) {
            virtio_queue_notify(vdev, (int)(in_page / VIRTIO_PCI_NOTIFY_MULT));
        }
        break;
    default: break; /* the ISR is read-only */
    }
    virtio_pci_update_irq(proxy);
}

static uint32_t virtio_pci_modern_read(void *opaque, uint32_t offset, int size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (proxy->vdev->busy || offset >= VIRTIO_PCI_MODERN_SIZE) {
        return ones(size);
    }
    return virtio_pci_modern_reg_read(proxy, offset, size);
}

static void virtio_pci_modern_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (!proxy->vdev->busy && offset < VIRTIO_PCI_MODERN_SIZE) {
        virtio_pci_modern_reg_write(proxy, offset, value, size);
    }
}

static const MMIOOps virtio_pci_modern_ops = {
    .read = virtio_pci_modern_read,
    .write = virtio_pci_modern_write,
};

static void virtio_pci_modern_map(void *opaque, int bar, uint32_t addr)
{
    VirtIOPCIProxy *proxy = opaque;

    if (addr == PCI_BAR_UNMAPPED) {
        phys_region_enable(proxy->phys, proxy->modern_region, false);
    } else {
        phys_region_move(proxy->phys, proxy->modern_region, addr);
        phys_region_enable(proxy->phys, proxy->modern_region, true);
    }
}

/* ---- configuration space ---- */

/*
 * The PCI_CFG capability's window (4.1.4.9): cap.bar, cap.offset and
 * cap.length select an access to the modern BAR.  Only aligned 1, 2 or
 * 4-byte accesses inside it are carried out.
 */
static bool virtio_pci_cfg_window(VirtIOPCIProxy *proxy, uint32_t *offset, int *len)
{
    int cap = proxy->cfg_cap;
    uint32_t bar = pci_config_get(proxy->pci, cap + VIRTIO_PCI_CAP_BAR, 1);

    *offset = pci_config_get(proxy->pci, cap + VIRTIO_PCI_CAP_OFFSET, 4);
    *len = (int)pci_config_get(proxy->pci, cap + VIRTIO_PCI_CAP_LENGTH, 4);
    return bar == VIRTIO_PCI_MODERN_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           *offset % (uint32_t)*len == 0 && *offset < VIRTIO_PCI_MODERN_SIZE;
}

static bool virtio_pci_touches_cfg_data(const VirtIOPCIProxy *proxy, int offset, int size)
{
    int data = proxy->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;

    return offset < data + 4 && offset + size > data;
}

static void virtio_pci_config_read(void *opaque, PCIDevice *dev, int offset, int size)
{
    VirtIOPCIProxy *proxy = opaque;
    uint32_t bar_offset;
    int len;

    if (virtio_pci_touches_cfg_data(proxy, offset, size) &&
        virtio_pci_cfg_window(proxy, &bar_offset, &len)) {
        pci_config_set(dev, proxy->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA,
                       virtio_pci_modern_read(proxy, bar_offset, len), len);
    }
}

static void virtio_pci_config_write(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                                    uint32_t new_value, int size)
{
    VirtIOPCIProxy *proxy = opaque;
    uint32_t bar_offset;
    int len;

    if (virtio_pci_touches_cfg_data(proxy, offset, size) &&
        virtio_pci_cfg_window(proxy, &bar_offset, &len)) {
        virtio_pci_modern_write(proxy, bar_offset,
                                pci_config_get(dev, proxy->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, len),
                                len);
    }
    if (offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND) {
        virtio_pci_update_irq(proxy); /* Interrupt Disable may have changed */
    }
}

/* One virtio structure capability (4.1.4) pointing into the modern BAR. */
static int virtio_pci_add_cap(PCIDevice *pci, uint8_t cfg_type, uint32_t offset, uint32_t length,
                              int cap_len)
{
    int cap = pci_add_capability(pci, PCI_CAP_ID_VNDR, cap_len);

    if (cap >= 0) {
        pci_config_set(pci, cap + VIRTIO_PCI_CAP_LEN, (uint32_t)cap_len, 1);
        pci_config_set(pci, cap + VIRTIO_PCI_CAP_CFG_TYPE, cfg_type, 1);
        pci_config_set(pci, cap + VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_MODERN_BAR, 1);
        pci_config_set(pci, cap + VIRTIO_PCI_CAP_OFFSET, offset, 4);
        pci_config_set(pci, cap + VIRTIO_PCI_CAP_LENGTH, length, 4);
    }
    return cap;
}

static bool virtio_pci_add_caps(VirtIOPCIProxy *proxy)
{
    PCIDevice *pci = proxy->pci;
    VirtIODevice *vdev = proxy->vdev;
    int notify;

    if (virtio_pci_add_cap(pci, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_PAGE * VIRTIO_PCI_PAGE,
                           VIRTIO_PCI_COMMON_LEN, VIRTIO_PCI_CAP_SIZE) < 0 ||
        virtio_pci_add_cap(pci, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_PAGE * VIRTIO_PCI_PAGE, 1,
                           VIRTIO_PCI_CAP_SIZE) < 0 ||
        virtio_pci_add_cap(pci, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_PAGE * VIRTIO_PCI_PAGE,
                           (uint32_t)vdev->config_len, VIRTIO_PCI_CAP_SIZE) < 0) {
        return false;
    }
    notify = virtio_pci_add_cap(
        pci, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_PAGE * VIRTIO_PCI_PAGE,
        (uint32_t)vdev->nqueues * VIRTIO_PCI_NOTIFY_MULT, VIRTIO_PCI_CAP_SIZE + 4);
    proxy->cfg_cap = virtio_pci_add_cap(pci, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, VIRTIO_PCI_CAP_SIZE + 4);
    if (notify < 0 || proxy->cfg_cap < 0) {
        return false;
    }
    pci_config_set(pci, notify + VIRTIO_PCI_NOTIFY_CAP_MULT, VIRTIO_PCI_NOTIFY_MULT, 4);
    /* The window's selector and data are the driver's to write (4.1.4.9). */
    pci_config_set_wmask(pci, proxy->cfg_cap + VIRTIO_PCI_CAP_BAR, 0xff, 1);
    pci_config_set_wmask(pci, proxy->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 0xffffffffu, 4);
    pci_config_set_wmask(pci, proxy->cfg_cap + VIRTIO_PCI_CAP_LENGTH, 0xffffffffu, 4);
    pci_config_set_wmask(pci, proxy->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, 0xffffffffu, 4);
    return true;
}

/* ---- life cycle ---- */

VirtIOPCIProxy *virtio_pci_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq, VirtIODevice *vdev,
                               uint16_t pci_device_id, uint8_t class_code, uint8_t subclass)
{
    VirtIOPCIProxy *proxy;
    PCIDevice *pci;

    /* Transitional: revision 0, subsystem ID the virtio device ID (4.1.2.3). */
    pci = pci_register_device(bus, devfn, VIRTIO_PCI_VENDOR_ID, pci_device_id, class_code, subclass,
                              0x00, 0x00, 0x00);
    if (!pci) {
        return NULL;
    }
    proxy = calloc(1, sizeof(*proxy));
    if (!proxy) {
        return NULL;
    }
    proxy->vdev = vdev;
    proxy->pci = pci;
    proxy->phys = phys;
    proxy->io = pci_bus_io(bus);
    proxy->irq = irq;
    proxy->legacy_base = PCI_BAR_UNMAPPED;
    vdev->transport.notify = virtio_pci_notify;
    vdev->transport.opaque = proxy;
    pci_config_set(pci, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR_ID, 2);
    pci_config_set(pci, PCI_SUBSYSTEM_ID, vdev->device_id, 2);
    pci_config_set(pci, PCI_INTERRUPT_PIN, 1, 1); /* INTA# */
    if (!virtio_pci_add_caps(proxy)) {
        free(proxy);
        return NULL;
    }
    proxy->modern_region =
        phys_map_mmio(phys, 0, VIRTIO_PCI_MODERN_SIZE, &virtio_pci_modern_ops, proxy, 0);
    if (proxy->modern_region < 0) {
        free(proxy);
        return NULL;
    }
    phys_region_enable(phys, proxy->modern_region, false);
    proxy->legacy_size = 4;
    while (proxy->legacy_size < VIRTIO_PCI_LEGACY_CONFIG + vdev->config_len) {
        proxy->legacy_size <<= 1;
    }
    pci_register_bar(pci, VIRTIO_PCI_LEGACY_BAR, proxy->legacy_size, true, virtio_pci_legacy_map,
                     proxy);
    pci_register_bar(pci, VIRTIO_PCI_MODERN_BAR, VIRTIO_PCI_MODERN_SIZE, false,
                     virtio_pci_modern_map, proxy);
    pci_set_config_read_hook(pci, virtio_pci_config_read, proxy);
    pci_set_config_write_hook(pci, virtio_pci_config_write, proxy);
    return proxy;
}

void virtio_pci_reset(VirtIOPCIProxy *proxy)
{
    PCIDevice *pci = proxy->pci;
    int cap = proxy->cfg_cap;

    /* Command 0 unmaps both BARs (pci.c calls the map callbacks). */
    pci_config_write(pci, PCI_COMMAND, 0, 2);
    pci_config_write(pci, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_LEGACY_BAR, 0, 4);
    pci_config_write(pci, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_MODERN_BAR, 0, 4);
    pci_config_set(pci, PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
    pci_config_set(pci, cap + VIRTIO_PCI_CAP_BAR, 0, 1);
    pci_config_set(pci, cap + VIRTIO_PCI_CAP_OFFSET, 0, 4);
    pci_config_set(pci, cap + VIRTIO_PCI_CAP_LENGTH, 0, 4);
    pci_config_set(pci, cap + VIRTIO_PCI_CFG_CAP_DATA, 0, 4);
    proxy->dfselect = 0;
    proxy->gfselect = 0;
    virtio_reset(proxy->vdev);
    virtio_pci_update_irq(proxy);
}

void virtio_pci_free(VirtIOPCIProxy *proxy)
{
    if (!proxy) {
        return;
    }
    if (proxy->legacy_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(proxy->io, (uint16_t)proxy->legacy_base, proxy->legacy_size);
    }
    phys_region_enable(proxy->phys, proxy->modern_region, false);
    if (proxy->irq_level) {
        irq_lower(&proxy->irq);
    }
    /* The bus outlives the proxy: forget every callback into it. */
    pci_register_bar(proxy->pci, VIRTIO_PCI_LEGACY_BAR, proxy->legacy_size, true, NULL, NULL);
    pci_register_bar(proxy->pci, VIRTIO_PCI_MODERN_BAR, VIRTIO_PCI_MODERN_SIZE, false, NULL, NULL);
    pci_set_config_read_hook(proxy->pci, NULL, NULL);
    pci_set_config_write_hook(proxy->pci, NULL, NULL);
    free(proxy);
}

int virtio_pci_devfn(const VirtIOPCIProxy *proxy)
{
    return pci_device_devfn(proxy->pci);
}

/* ---- saved state of the transport, nested in the device's section;
 * where BAR0 and BAR4 decode follows the restored configuration space ---- */

static const VMField virtio_pci_fields[] = {
    VMS_INT_RANGE(VirtIOPCIProxy, irq_level, 0, 1),
    VMS_U32(VirtIOPCIProxy, dfselect),
    VMS_U32(VirtIOPCIProxy, gfselect),
    VMS_END,
};

const VMStateDesc virtio_pci_vmstate = {
    .name = "virtio-pci",
    .fields = virtio_pci_fields,
};
