/*
 * Virtio over PCI (Virtio 1.2, 4.1), as a transitional device: a legacy
 * driver finds the legacy interface in I/O BAR0 (4.1.4.10), a modern one
 * finds vendor-specific capabilities pointing into memory BAR4 (common
 * configuration, notifications, ISR status, device configuration) and the
 * configuration-space access window.  Interrupts are INTx, level, driven
 * by the ISR status.
 *
 * MSI-X is not there yet: BAR1 is left free for its table, the vector
 * registers read NO_VECTOR, and VirtIOTransport.notify already says which
 * queue an interrupt is for.
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/core/irq.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

typedef struct VirtIOPCIProxy VirtIOPCIProxy;

/*
 * Put vdev (with its queues added) on the bus at devfn with the
 * transitional PCI device ID (0x1000 + ..., 4.1.2.1) and class code the
 * device type has.  Takes vdev's transport.  NULL if devfn is taken.
 */
VirtIOPCIProxy *virtio_pci_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq, VirtIODevice *vdev,
                               uint16_t pci_device_id, uint8_t class_code, uint8_t subclass);
/* Hardware reset: PCI registers (BARs unmapped) and the virtio device. */
void virtio_pci_reset(VirtIOPCIProxy *proxy);
/* Release the BARs and the interrupt; the PCIDevice stays with the bus. */
void virtio_pci_free(VirtIOPCIProxy *proxy);
/* Saved state, nested in the device's section (migration/vmstate.h). */
extern const struct VMStateDesc virtio_pci_vmstate;
int virtio_pci_devfn(const VirtIOPCIProxy *proxy);

#endif /* HW_VIRTIO_VIRTIO_PCI_H */
