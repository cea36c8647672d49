/*
 * PCI bus 0 and configuration mechanism #1.
 *
 * Configuration space is plain bytes plus two masks per byte: which bits
 * the guest may write, and which are write-one-to-clear (the status
 * register's error bits, PCI 2.1 6.2.3).  Devices describe their registers
 * by setting values and masks once; a write hook lets them react to the
 * registers only they understand.  BAR decoding is derived from the BAR
 * value and the command register after every write that touches either.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw/pci/pci.h"
#include "migration/vmstate.h"

typedef struct PCIBar {
    uint32_t size;     /* bytes, a power of two; 0 = BAR not implemented */
    bool io;           /* I/O space, else 32-bit memory */
    PCIBarMapFunc map; /* told where the BAR decodes */
    void *opaque;
    uint32_t mapped; /* current decoded address, or PCI_BAR_UNMAPPED */
} PCIBar;

struct PCIDevice {
    PCIBus *bus;
    int devfn;            /* slot << 3 | function */
    uint8_t config[256];  /* configuration space as the guest reads it */
    uint8_t wmask[256];   /* bits a guest write may change */
    uint8_t w1cmask[256]; /* bits a guest write of 1 clears */
    PCIBar bars[PCI_NUM_BARS];
    PCIConfigWriteHook hook; /* device-specific registers */
    void *hook_opaque;
    PCIConfigReadHook read_hook; /* registers read through configuration space */
    void *read_hook_opaque;
    int cap_end; /* where the next capability goes (0: none added yet) */
};

struct PCIBus {
    IOPortMap *io;
    uint32_t config_address; /* CONFIG_ADDRESS as last written (bits 30:24, 1:0 read 0) */
    PCIDevice *devices[256]; /* by devfn */
};

static uint32_t pci_ones(int size)
{
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static uint32_t pci_get_le(const uint8_t *p, int size)
{
    uint32_t v = 0;

    for (int i = 0; i < size; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

static void pci_put_le(uint8_t *p, uint32_t v, int size)
{
    for (int i = 0; i < size; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static bool pci_range_ok(int offset, int size)
{
    return (size == 1 || size == 2 || size == 4) && offset >= 0 && offset + size <= 256;
}

/* Where a BAR decodes now: needs its enable bit and an address that fits. */
static uint32_t pci_bar_decode(const PCIDevice *dev, int bar)
{
    const PCIBar *b = &dev->bars[bar];
    uint32_t reg = pci_get_le(&dev->config[PCI_BASE_ADDRESS_0 + 4 * bar], 4);
    uint16_t cmd = (uint16_t)pci_get_le(&dev->config[PCI_COMMAND], 2);
    uint32_t addr;
    uint64_t last;

    if (b->size == 0) {
        return PCI_BAR_UNMAPPED;
    }
    if (b->io) {
        addr = reg & ~(b->size - 1) & ~3u;
        last = (uint64_t)addr + b->size - 1;
        if (!(cmd & PCI_COMMAND_IO) || addr == 0 || last > 0xffff) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    addr = reg & ~(b->size - 1) & ~0xfu;
    last = (uint64_t)addr + b->size - 1;
    /* Ending at 0xFFFFFFFF is the sizing pattern, not a placement. */
    if (!(cmd & PCI_COMMAND_MEMORY) || addr == 0 || last >= 0xffffffffu) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void pci_update_mappings(PCIDevice *dev)
{
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PCIBar *b = &dev->bars[i];
        uint32_t addr = pci_bar_decode(dev, i);

        if (b->size && addr != b->mapped) {
            b->mapped = addr;
            if (b->map) {
                b->map(b->opaque, i, addr);
            }
        }
    }
}

uint32_t pci_config_read(PCIDevice *dev, int offset, int size)
{
    if (!pci_range_ok(offset, size)) {
        return pci_ones(size == 1 || size == 2 ? size : 4);
    }
    if (dev->read_hook) {
        dev->read_hook(dev->read_hook_opaque, dev, offset, size);
    }
    return pci_get_le(&dev->config[offset], size);
}

void pci_config_write(PCIDevice *dev, int offset, uint32_t value, int size)
{
    uint32_t old_value;

    if (!pci_range_ok(offset, size)) {
        return;
    }
    old_value = pci_get_le(&dev->config[offset], size);
    for (int i = 0; i < size; i++) {
        int o = offset + i;
        uint8_t v = (uint8_t)(value >> (8 * i));

        dev->config[o] = (dev->config[o] & ~dev->wmask[o]) | (v & dev->wmask[o]);
        dev->config[o] &= ~(v & dev->w1cmask[o]);
    }
    if ((offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND) ||
        (offset < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS && offset + size > PCI_BASE_ADDRESS_0)) {
        pci_update_mappings(dev);
    }
    if (dev->hook) {
        dev->hook(dev->hook_opaque, dev, offset, old_value, pci_get_le(&dev->config[offset], size),
                  size);
    }
}

void pci_config_set(PCIDevice *dev, int offset, uint32_t value, int size)
{
    if (pci_range_ok(offset, size)) {
        pci_put_le(&dev->config[offset], value, size);
    }
}

uint32_t pci_config_get(const PCIDevice *dev, int offset, int size)
{
    if (!pci_range_ok(offset, size)) {
        return 0;
    }
    return pci_get_le(&dev->config[offset], size);
}

void pci_config_set_wmask(PCIDevice *dev, int offset, uint32_t mask, int size)
{
    if (pci_range_ok(offset, size)) {
        pci_put_le(&dev->wmask[offset], mask, size);
    }
}

void pci_set_config_write_hook(PCIDevice *dev, PCIConfigWriteHook hook, void *opaque)
{
    dev->hook = hook;
    dev->hook_opaque = opaque;
}

void pci_set_config_read_hook(PCIDevice *dev, PCIConfigReadHook hook, void *opaque)
{
    dev->read_hook = hook;
    dev->read_hook_opaque = opaque;
}

/*
 * Capabilities are dword aligned and live past the header (PCI 2.2, 6.7);
 * they are appended in the order added, so the list reads as it was built.
 */
int pci_add_capability(PCIDevice *dev, uint8_t cap_id, int size)
{
    int offset = dev->cap_end ? dev->cap_end : PCI_CONFIG_HEADER_SIZE;
    int link = PCI_CAPABILITY_LIST;

    if (size < 2 || offset + size > 256) {
        return -1;
    }
    /* At most 48 dwords past the header: a longer walk is a corrupt list. */
    for (int n = 0; dev->config[link] && n < 48; n++) {
        link = dev->config[link] + PCI_CAP_LIST_NEXT;
    }
    dev->config[link] = (uint8_t)offset;
    dev->config[offset + PCI_CAP_LIST_ID] = cap_id;
    dev->config[offset + PCI_CAP_LIST_NEXT] = 0;
    dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    dev->cap_end = (offset + size + 3) & ~3;
    return offset;
}

/* The device a CONFIG_ADDRESS value selects, or NULL (master abort). */
static PCIDevice *pci_selected(PCIBus *bus)
{
    uint32_t addr = bus->config_address;

    if (!(addr & 0x80000000u) || ((addr >> 16) & 0xff) != 0) {
        return NULL; /* disabled, or a bus behind a bridge we do not have */
    }
    return bus->devices[(addr >> 8) & 0xff];
}

static uint32_t pci_ioport_read(void *opaque, uint16_t port, int size)
{
    PCIBus *bus = opaque;
    PCIDevice *dev;
    int lane = port & 3;

    if (port == PCI_CONFIG_ADDRESS) {
        return bus->config_address;
    }
    dev = pci_selected(bus);
    if (!dev || lane + size > 4) {
        return pci_ones(size); /* master abort reads all ones */
    }
    return pci_config_read(dev, (bus->config_address & 0xfc) + lane, size);
}

static void pci_ioport_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PCIBus *bus = opaque;
    PCIDevice *dev;
    int lane = port & 3;

    if (port == PCI_CONFIG_ADDRESS) {
        bus->config_address = value & 0x80fffffcu;
        return;
    }
    dev = pci_selected(bus);
    if (dev && lane + size <= 4) {
        pci_config_write(dev, (bus->config_address & 0xfc) + lane, value, size);
    }
}

PCIBus *pci_bus_new(IOPortMap *io)
{
    PCIBus *bus = calloc(1, sizeof(*bus));

    if (!bus) {
        return NULL;
    }
    bus->io = io;
    /*
     * Only a dword access at 0xCF8 reaches CONFIG_ADDRESS (3.7.4.1); byte and
     * word accesses there pass to the bus as ordinary I/O, which is how
     * 0xCF9 can be the PIIX reset control register.
     */
    if (ioport_register(io, PCI_CONFIG_ADDRESS, 1, 4, pci_ioport_read, pci_ioport_write, bus) < 0 ||
        ioport_register(io, PCI_CONFIG_DATA, 4, 1 | 2 | 4, pci_ioport_read, pci_ioport_write, bus) <
            0) {
        ioport_unregister(io, PCI_CONFIG_ADDRESS, 1);
        free(bus);
        return NULL;
    }
    return bus;
}

IOPortMap *pci_bus_io(PCIBus *bus)
{
    return bus->io;
}

void pci_bus_free(PCIBus *bus)
{
    if (!bus) {
        return;
    }
    ioport_unregister(bus->io, PCI_CONFIG_ADDRESS, 1);
    ioport_unregister(bus->io, PCI_CONFIG_DATA, 4);
    for (int i = 0; i < 256; i++) {
        free(bus->devices[i]);
    }
    free(bus);
}

PCIDevice *pci_register_device(PCIBus *bus, int devfn, uint16_t vendor, uint16_t device,
                               uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                               uint8_t revision, uint8_t header_type)
{
    PCIDevice *dev;

    if (devfn < 0 || devfn > 255 || bus->devices[devfn]) {
        return NULL;
    }
    dev = calloc(1, sizeof(*dev));
    if (!dev) {
        return NULL;
    }
    dev->bus = bus;
    dev->devfn = devfn;
    pci_config_set(dev, PCI_VENDOR_ID, vendor, 2);
    pci_config_set(dev, PCI_DEVICE_ID, device, 2);
    pci_config_set(dev, PCI_REVISION_ID, revision, 1);
    pci_config_set(dev, PCI_CLASS_PROG, prog_if, 1);
    pci_config_set(dev, PCI_CLASS_DEVICE, subclass, 1);
    pci_config_set(dev, PCI_CLASS_DEVICE + 1, class_code, 1);
    pci_config_set(dev, PCI_HEADER_TYPE, header_type, 1);
    /* Writable in every function: the command register's enables and error
     * responses, cache line size, latency timer, interrupt line. */
    pci_config_set_wmask(dev, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                             PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
                         2);
    pci_config_set_wmask(dev, PCI_CACHE_LINE, 0xff, 1);
    pci_config_set_wmask(dev, PCI_LATENCY_TIMER, 0xff, 1);
    pci_config_set_wmask(dev, PCI_INTERRUPT_LINE, 0xff, 1);
    /* Status bits 8 and 11-15 are error flags, cleared by writing 1. */
    pci_put_le(&dev->w1cmask[PCI_STATUS], 0xf900, 2);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        dev->bars[i].mapped = PCI_BAR_UNMAPPED;
    }
    bus->devices[devfn] = dev;
    return dev;
}

PCIDevice *pci_find_device(PCIBus *bus, int devfn)
{
    if (devfn < 0 || devfn > 255) {
        return NULL;
    }
    return bus->devices[devfn];
}

int pci_device_devfn(const PCIDevice *dev)
{
    return dev->devfn;
}

void pci_register_bar(PCIDevice *dev, int bar, uint32_t size, bool io, PCIBarMapFunc map,
                      void *opaque)
{
    PCIBar *b;
    uint32_t pow2 = io ? 4 : 16;
    int offset = PCI_BASE_ADDRESS_0 + 4 * bar;

    if (bar < 0 || bar >= PCI_NUM_BARS) {
        return;
    }
    while (pow2 < size && pow2 < 0x80000000u) {
        pow2 <<= 1;
    }
    b = &dev->bars[bar];
    b->size = pow2;
    b->io = io;
    b->map = map;
    b->opaque = opaque;
    b->mapped = PCI_BAR_UNMAPPED;
    /* The low bits below the size read 0 (or the type bits): that is what
     * sizing software sees after writing all ones (6.2.5.1). */
    pci_config_set(dev, offset, io ? PCI_BAR_IO : 0, 4);
    pci_config_set_wmask(dev, offset, ~(pow2 - 1) & (io ? ~3u : ~0xfu), 4);
}

uint32_t pci_bar_address(const PCIDevice *dev, int bar)
{
    if (bar < 0 || bar >= PCI_NUM_BARS) {
        return PCI_BAR_UNMAPPED;
    }
    return dev->bars[bar].mapped;
}

/* snprintf that appends at *used and keeps counting past the end of buf. */
static void pci_appendf(char *buf, size_t len, int *used, const char *fmt, ...)
{
    va_list ap;
    size_t at = (size_t)*used < len ? (size_t)*used : len;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf ? buf + at : NULL, buf ? len - at : 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *used += n;
    }
}

int pci_info(PCIBus *bus, char *buf, size_t len)
{
    int used = 0;

    if (buf && len) {
        buf[0] = '\0';
    }
    for (int devfn = 0; devfn < 256; devfn++) {
        PCIDevice *dev = bus->devices[devfn];

        if (!dev) {
            continue;
        }
        pci_appendf(
            buf, len, &used, "00:%02x.%d %04x:%04x class %02x%02x prog-if %02x rev %02x%s\n",
            PCI_SLOT(devfn), PCI_FUNC(devfn), pci_config_read(dev, PCI_VENDOR_ID, 2),
            pci_config_read(dev, PCI_DEVICE_ID, 2), pci_config_read(dev, PCI_CLASS_DEVICE + 1, 1),
            pci_config_read(dev, PCI_CLASS_DEVICE, 1), pci_config_read(dev, PCI_CLASS_PROG, 1),
            pci_config_read(dev, PCI_REVISION_ID, 1),
            (dev->config[PCI_HEADER_TYPE] & PCI_HEADER_MULTIFUNCTION) ? " multifunction" : "");
        for (int i = 0; i < PCI_NUM_BARS; i++) {
            const PCIBar *b = &dev->bars[i];

            if (!b->size) {
                continue;
            }
            if (b->mapped == PCI_BAR_UNMAPPED) {
                pci_appendf(buf, len, &used, "    BAR%d: %s size 0x%x, not mapped\n", i,
                            b->io ? "I/O" : "memory", b->size);
            } else {
                pci_appendf(buf, len, &used, "    BAR%d: %s at 0x%x size 0x%x\n", i,
                            b->io ? "I/O" : "memory", b->mapped, b->size);
            }
        }
    }
    return used;
}

/* ---- saved state: CONFIG_ADDRESS and every function's configuration
 * space (the same functions exist in the loading machine: the command
 * line builds them); the BARs are decoded again from it ---- */

static void pci_save(VMWriter *w, void *opaque)
{
    PCIBus *bus = opaque;
    vm_put_u32(w, bus->config_address);
    for (int devfn = 0; devfn < 256; devfn++) {
        if (bus->devices[devfn]) {
            vm_put_u8(w, (uint8_t)devfn);
            vm_put_bytes(w, bus->devices[devfn]->config, 256);
        }
    }
}

static bool pci_load(VMReader *r, void *opaque, uint32_t version)
{
    PCIBus *bus = opaque;
    uint32_t config_address = vm_get_u32(r);
    for (int devfn = 0; devfn < 256 && !r->failed; devfn++) {
        if (!bus->devices[devfn]) {
            continue;
        }
        if (vm_get_u8(r) != devfn && !r->failed) {
            return vm_fail(r, "no saved configuration for device %02x.%x", devfn >> 3, devfn & 7);
        }
        vm_get_bytes(r, bus->devices[devfn]->config, 256);
    }
    if (r->failed) {
        return false;
    }
    bus->config_address = config_address & 0x80fffffcu;
    for (int devfn = 0; devfn < 256; devfn++) {
        if (bus->devices[devfn]) {
            pci_update_mappings(bus->devices[devfn]);
        }
    }
    return true;
}

const VMStateDesc pci_vmstate = {
    .name = "pci",
    .version = 1,
    .min_version = 1,
    .save = pci_save,
    .load = pci_load,
};
