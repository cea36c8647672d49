/*
 * The port I/O space (see ioport.h).
 *
 * Every port holds a one-byte index into a small handler table, so dispatch
 * is two loads.  An access the owning device cannot take at its width is
 * split in halves (a 32-bit access becomes two 16-bit ones, a 16-bit access
 * two byte ones), each half looked up again by its own port, because on the
 * ISA bus port+1 may belong to a different device than port.  For a device
 * that only takes bytes this gives byte accesses to port, port+1, ... in
 * little-endian order, as the bus controller's cycle splitting does.
 *
 * A byte access to a device that does not take bytes at all finds no
 * receiver and behaves like an unclaimed port (reads 0xff, writes vanish).
 */
#include <stdbool.h>
#include <string.h>

#include "softmmu/ioport.h"

#define IOPORT_COUNT        65536u
#define IOPORT_MAX_HANDLERS 256

/* All-ones value of an access of 'size' bytes: what a floating bus reads. */
static uint32_t ioport_ones(int size)
{
    switch (size) {
    case 1: return 0xff;
    case 2: return 0xffff;
    default: return 0xffffffffu;
    }
}

static bool ioport_size_valid(int size)
{
    return size == 1 || size == 2 || size == 4;
}

void ioport_init(IOPortMap *map)
{
    memset(map, 0, sizeof(*map));
}

/* A handler slot is free when no range was ever given to it or all of its
 * ranges were unregistered; 'sizes' is never 0 in a live slot. */
static bool ioport_slot_free(const IOPortHandler *h)
{
    return h->sizes == 0;
}

/* Port 'port' changes owner to 'index' (0: nobody); a slot left with no
 * port is freed.  Counting ports per slot keeps claiming and releasing a
 * range (a PCI BAR moved, a device freed) independent of the map's size. */
static void ioport_set_owner(IOPortMap *map, uint32_t port, int index)
{
    int old = map->owner[port];
    if (old == index) {
        return;
    }
    map->owner[port] = (uint16_t)index;
    if (index != 0) {
        map->handlers[index].nports++;
    }
    if (old != 0 && --map->handlers[old].nports == 0) {
        memset(&map->handlers[old], 0, sizeof(map->handlers[old]));
        map->nhandlers--;
    }
}

/* Find a slot with the same callbacks (a device registering several ranges
 * uses one slot), else a free one.  Returns 0 when the table is full. */
static int ioport_find_slot(IOPortMap *map, uint8_t sizes, IOPortRead read, IOPortWrite write,
                            void *opaque)
{
    for (int i = 1; i < IOPORT_MAX_HANDLERS; i++) {
        const IOPortHandler *h = &map->handlers[i];
        if (!ioport_slot_free(h) && h->read == read && h->write == write && h->opaque == opaque &&
            h->sizes == sizes) {
            return i;
        }
    }
    for (int i = 1; i < IOPORT_MAX_HANDLERS; i++) {
        if (ioport_slot_free(&map->handlers[i])) {
            IOPortHandler *h = &map->handlers[i];
            h->read = read;
            h->write = write;
            h->opaque = opaque;
            h->sizes = sizes;
            map->nhandlers++;
            return i;
        }
    }
    return 0;
}

int ioport_register(IOPortMap *map, uint16_t base, uint32_t count, uint8_t sizes, IOPortRead read,
                    IOPortWrite write, void *opaque)
{
    sizes &= 1 | 2 | 4;
    if (count == 0 || base + count > IOPORT_COUNT || sizes == 0) {
        return -1;
    }
    int index = ioport_find_slot(map, sizes, read, write, opaque);
    if (index == 0) {
        return -1;
    }
    /* A later claim overrides an earlier one, port by port (like a PCI BAR
     * moved over a legacy range); slots left without ports are freed. */
    for (uint32_t i = 0; i < count; i++) {
        ioport_set_owner(map, base + i, index);
    }
    return 0;
}

void ioport_unregister(IOPortMap *map, uint16_t base, uint32_t count)
{
    for (uint32_t i = 0; i < count && base + i < IOPORT_COUNT; i++) {
        ioport_set_owner(map, base + i, 0);
    }
}

static uint32_t ioport_dispatch_read(IOPortMap *map, uint16_t port, int size)
{
    const IOPortHandler *h = &map->handlers[map->owner[port]];
    if (map->owner[port] != 0 && (h->sizes & size)) {
        if (!h->read) {
            return ioport_ones(size);
        }
        return h->read(h->opaque, port, size) & ioport_ones(size);
    }
    if (size == 1) {
        return ioport_ones(size);
    }
    /* Split even when 'port' itself is unclaimed: port+half may be owned. */
    int half = size / 2;
    uint32_t lo = ioport_dispatch_read(map, port, half);
    uint32_t hi = ioport_dispatch_read(map, (uint16_t)(port + half), half);
    return lo | (hi << (half * 8));
}

static void ioport_dispatch_write(IOPortMap *map, uint16_t port, uint32_t value, int size)
{
    const IOPortHandler *h = &map->handlers[map->owner[port]];
    if (map->owner[port] != 0 && (h->sizes & size)) {
        if (h->write) {
            h->write(h->opaque, port, value & ioport_ones(size), size);
        }
        return;
    }
    if (size == 1) {
        return;
    }
    /* Split even when 'port' itself is unclaimed: port+half may be owned. */
    int half = size / 2;
    ioport_dispatch_write(map, port, value & ioport_ones(half), half);
    ioport_dispatch_write(map, (uint16_t)(port + half), value >> (half * 8), half);
}

uint32_t ioport_read(IOPortMap *map, uint16_t port, int size)
{
    if (!ioport_size_valid(size)) {
        return 0xffffffffu;
    }
    pacer_tick(map->pacer);
    uint32_t value = ioport_dispatch_read(map, port, size);
    if (map->observer) {
        map->observer(map->observer_opaque, port, value, size, 0);
    }
    return value;
}

void ioport_write(IOPortMap *map, uint16_t port, uint32_t value, int size)
{
    if (!ioport_size_valid(size)) {
        return;
    }
    value &= ioport_ones(size);
    pacer_tick(map->pacer);
    if (map->observer) {
        map->observer(map->observer_opaque, port, value, size, 1);
    }
    ioport_dispatch_write(map, port, value, size);
}

void ioport_set_observer(IOPortMap *map, IOPortObserver observer, void *opaque)
{
    map->observer = observer;
    map->observer_opaque = opaque;
}
