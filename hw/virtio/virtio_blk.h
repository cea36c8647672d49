/*
 * virtio-blk (Virtio 1.2, 5.2) on the PCI transport, as QEMU's
 * virtio-blk-pci: a transitional device 1AF4:1001, subsystem 1AF4:0002,
 * class 0100 (mass storage), with one request queue of 256 entries.
 *
 * Offered features: SEG_MAX, BLK_SIZE (512), FLUSH (the guest's cache
 * flush reaches BlockDev.flush, fdatasync on the host), WRITE_ZEROES (one
 * range per request, written as zeroes: nothing is unmapped), RO for a
 * read-only drive, and the ring features INDIRECT_DESC, EVENT_IDX,
 * ANY_LAYOUT and VERSION_1.  DISCARD is not offered: BlockDev has no way
 * to give sectors back to the host.
 *
 * The disk is a BlockDev (block/block.h); the device never sees a file.
 */
#ifndef HW_VIRTIO_VIRTIO_BLK_H
#define HW_VIRTIO_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "hw/core/irq.h"
#include "hw/pci/pci.h"
#include "softmmu/phys.h"

typedef struct VirtioBlkState VirtioBlkState;

/* Longest serial number GET_ID returns (5.2.6: 20 bytes, not terminated). */
#define VIRTIO_BLK_ID_BYTES 20

/*
 * A virtio-blk-pci disk at devfn over media (read-only when
 * media->read_only), INTA through irq (level); DMA only through phys.
 * serial (may be NULL) is what GET_ID reports, cut to 20 bytes.  NULL if
 * devfn is taken or memory runs out.
 */
VirtioBlkState *virtio_blk_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq,
                               const BlockDev *media, const char *serial);
/* Machine reset: PCI registers and the virtio device. */
void virtio_blk_reset(VirtioBlkState *s);
/* Saved state: section "virtio-blk" (migration/vmstate.h). */
extern const struct VMStateDesc virtio_blk_vmstate;
void virtio_blk_free(VirtioBlkState *s);
/* One line: model, PCI address, size, driver state and request counts; as snprintf. */
int virtio_blk_info(VirtioBlkState *s, char *buf, size_t len);

#endif /* HW_VIRTIO_VIRTIO_BLK_H */
