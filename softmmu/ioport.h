/*
 * The port I/O space: 64 Ki ports, each optionally owned by one device.
 *
 * A device registers a range with a read and a write callback that take the
 * access size (1, 2 or 4).  A 16- or 32-bit access to a range whose device
 * only handles bytes is split into byte accesses, as the ISA bus does; an
 * access to an unclaimed port reads all ones and writes nowhere.
 */
#ifndef SOFTMMU_IOPORT_H
#define SOFTMMU_IOPORT_H

#include <stdint.h>

#include "softmmu/pacer.h"

typedef uint32_t (*IOPortRead)(void *opaque, uint16_t port, int size);
typedef void (*IOPortWrite)(void *opaque, uint16_t port, uint32_t value, int size);

typedef struct IOPortHandler {
    IOPortRead read;
    IOPortWrite write;
    void *opaque;
    uint8_t sizes;       /* bit mask of access sizes handled natively: 1, 2, 4 */
    uint32_t nports;     /* ports that point here: the slot is freed when none is left */
} IOPortHandler;

/* Called on every access when set (trace category ioport). */
typedef void (*IOPortObserver)(void *opaque, uint16_t port, uint32_t value, int size,
                               int is_write);

typedef struct IOPortMap {
    uint16_t owner[65536];          /* index into handlers, 0 = unclaimed */
    IOPortHandler handlers[256];    /* [0] is unused */
    int nhandlers;                  /* live entries in handlers[] */
    IOPortObserver observer;
    void *observer_opaque;
    AccessPacer *pacer;             /* NULL, or ticked by each access (softmmu/pacer.h) */
} IOPortMap;

void ioport_init(IOPortMap *map);
/* Claim ports [base, base+count).  sizes: bit mask of 1|2|4 the callbacks take
 * natively; other widths are split into bytes.  Returns 0, or -1 when full. */
int ioport_register(IOPortMap *map, uint16_t base, uint32_t count, uint8_t sizes,
                    IOPortRead read, IOPortWrite write, void *opaque);
void ioport_unregister(IOPortMap *map, uint16_t base, uint32_t count);
uint32_t ioport_read(IOPortMap *map, uint16_t port, int size);
void ioport_write(IOPortMap *map, uint16_t port, uint32_t value, int size);
/* Install (or, with NULL, remove) the observer called once per CPU-level access. */
void ioport_set_observer(IOPortMap *map, IOPortObserver observer, void *opaque);

#endif /* SOFTMMU_IOPORT_H */
