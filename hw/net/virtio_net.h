/*
 * virtio-net (Virtio 1.2, 5.1) on the PCI transport, as QEMU's
 * virtio-net-pci: a transitional device 1AF4:1000, subsystem 1AF4:0001,
 * class 0200 (Ethernet), with one receive and one transmit queue.
 *
 * Offered features: MAC, STATUS (link state in the configuration, with a
 * configuration interrupt when it changes), CSUM (the device completes a
 * checksum the driver left partial), GUEST_CSUM, MRG_RXBUF, and the ring
 * features INDIRECT_DESC, EVENT_IDX, ANY_LAYOUT and VERSION_1.  No control
 * queue: there is nothing to control without its RX-mode, VLAN or MAC
 * features, so every frame on the link is delivered (promiscuous).
 *
 * The NIC's side of the link is a NetClient (net/net.h).
 */
#ifndef HW_NET_VIRTIO_NET_H
#define HW_NET_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/pci/pci.h"
#include "net/net.h"
#include "softmmu/phys.h"

typedef struct VirtioNetState VirtioNetState;

/* A virtio-net-pci NIC at devfn (transitional: legacy I/O BAR + modern
 * memory BAR), INTA through irq (level); DMA only through phys.  NULL if
 * devfn is taken or memory runs out. */
VirtioNetState *virtio_net_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq,
                               const uint8_t mac[6]);
/* The NIC's end of the link, for net_client_attach. */
NetClient *virtio_net_client(VirtioNetState *s);
/* Machine reset: PCI registers, the virtio device, the configured MAC. */
void virtio_net_reset(VirtioNetState *s);
/* Saved state: section "virtio-net" (migration/vmstate.h). */
extern const struct VMStateDesc virtio_net_vmstate;
void virtio_net_free(VirtioNetState *s);
/* One line: model, PCI address, MAC, link, driver state; as snprintf. */
int virtio_net_info(VirtioNetState *s, char *buf, size_t len);

#endif /* HW_NET_VIRTIO_NET_H */
