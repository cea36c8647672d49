/*
 * PCI bus 0 with configuration mechanism #1 (PCI Local Bus Specification
 * 2.1, 3.7.4.1): a dword address register at 0xCF8 (bit 31 enables, bus in
 * 23:16, device in 15:11, function in 10:8, register in 7:2) and a data
 * window at 0xCFC-0xCFF taking byte, word and dword accesses.
 *
 * Each function has a 256-byte configuration space with a per-byte write
 * mask, so read-only fields (IDs, class code, header type, BAR type bits)
 * keep their values whatever the guest writes.  BARs follow 6.2.5.1:
 * writing all ones and reading back gives the size mask; the map callback
 * hears where a BAR decodes whenever that changes (command register enable
 * bits, BAR writes).
 *
 * Capabilities (PCI 2.2, 6.7) are appended to a list starting at 0x34 and
 * laid out from 0x40 upward; their bytes are read-only unless the device
 * gives them a write mask.
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "softmmu/ioport.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc

#define PCI_DEVFN(slot, func) ((((slot) & 0x1f) << 3) | ((func) & 0x07))
#define PCI_SLOT(devfn)       (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)       ((devfn) & 0x07)

/* Type 0 header offsets (PCI 2.1, 6.1). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a /* subclass at 0x0a, base class at 0x0b */
#define PCI_CACHE_LINE          0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_CONFIG_HEADER_SIZE  0x40 /* capabilities go after the header */

#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_PARITY       0x0040
#define PCI_COMMAND_SERR         0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008 /* the function asserts INTx# (PCI 2.3, 6.2.3) */
#define PCI_STATUS_CAP_LIST  0x0010 /* 0x34 points to a capabilities list */

/* A capability's first two bytes: its ID and the offset of the next one. */
#define PCI_CAP_LIST_ID   0
#define PCI_CAP_LIST_NEXT 1
#define PCI_CAP_ID_VNDR   0x09 /* vendor specific */

#define PCI_HEADER_MULTIFUNCTION 0x80

#define PCI_BAR_IO       0x01 /* BAR bit 0: I/O space */
#define PCI_NUM_BARS     6
#define PCI_BAR_UNMAPPED 0xffffffffu /* map callback address: BAR not decoded */

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* Called with the BAR's new decoded address, or PCI_BAR_UNMAPPED. */
typedef void (*PCIBarMapFunc)(void *opaque, int bar, uint32_t addr);

/*
 * Called after a guest write to configuration space has been applied
 * through the write mask.  old_value and new_value are the size bytes at
 * offset before and after the write.
 */
typedef void (*PCIConfigWriteHook)(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                                   uint32_t new_value, int size);

/* Claims ports 0xCF8 (dword accesses only) and 0xCFC-0xCFF. */
PCIBus *pci_bus_new(IOPortMap *io);
/* Unregisters the ports and frees the bus with all its devices. */
void pci_bus_free(PCIBus *bus);
/* Saved state: section "pci" (migration/vmstate.h). */
extern const struct VMStateDesc pci_vmstate;
/* The port space the bus decodes: where a function claims its I/O BARs. */
IOPortMap *pci_bus_io(PCIBus *bus);

/*
 * Add a function at devfn (0-255).  The header gets the IDs, class code and
 * header type (set PCI_HEADER_MULTIFUNCTION on function 0 of a multi-function
 * device) and the standard write masks.  Returns NULL if devfn is taken.
 */
PCIDevice *pci_register_device(PCIBus *bus, int devfn, uint16_t vendor, uint16_t device,
                               uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                               uint8_t revision, uint8_t header_type);
PCIDevice *pci_find_device(PCIBus *bus, int devfn);
int pci_device_devfn(const PCIDevice *dev);

/*
 * Declare BAR 0-5.  size is rounded up to a power of two (at least 4 bytes
 * for I/O, 16 for memory); memory BARs are 32-bit non-prefetchable.  map may
 * be NULL.
 */
void pci_register_bar(PCIDevice *dev, int bar, uint32_t size, bool io, PCIBarMapFunc map,
                      void *opaque);
/* Current decoded address of a BAR, or PCI_BAR_UNMAPPED. */
uint32_t pci_bar_address(const PCIDevice *dev, int bar);

/* Guest-view accessors: size 1, 2 or 4, little endian, within the 256 bytes. */
uint32_t pci_config_read(PCIDevice *dev, int offset, int size);
void pci_config_write(PCIDevice *dev, int offset, uint32_t value, int size);

/* Device setup: store a value or a write mask regardless of the current mask. */
void pci_config_set(PCIDevice *dev, int offset, uint32_t value, int size);
/* The device's own view: the stored bytes, without the read hook. */
uint32_t pci_config_get(const PCIDevice *dev, int offset, int size);
void pci_config_set_wmask(PCIDevice *dev, int offset, uint32_t mask, int size);

void pci_set_config_write_hook(PCIDevice *dev, PCIConfigWriteHook hook, void *opaque);

/*
 * Called before a guest read of configuration space returns, so a device
 * can refresh the bytes at [offset, offset+size) with pci_config_set (a
 * window onto its registers).
 */
typedef void (*PCIConfigReadHook)(void *opaque, PCIDevice *dev, int offset, int size);
void pci_set_config_read_hook(PCIDevice *dev, PCIConfigReadHook hook, void *opaque);

/*
 * Append a capability of size bytes (at least 2) to the list: sets status
 * bit 4 and links it after the last one.  Its ID and next pointer are
 * filled in, the rest is zero and read-only.  Returns the capability's
 * offset, or -1 when it does not fit in the 256 bytes.
 */
int pci_add_capability(PCIDevice *dev, uint8_t cap_id, int size);

/* Write a text listing of the bus (one line per function, one per BAR) into
 * buf; returns the length it needed, as snprintf does. */
int pci_info(PCIBus *bus, char *buf, size_t len);

#endif /* HW_PCI_PCI_H */
