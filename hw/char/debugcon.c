/*
 * Debug console port (see debugcon.h).  It takes bytes only: a wider OUT is
 * split by the bus into byte writes, and only the first lands on our port,
 * which is what QEMU's debugcon does with the low byte.
 */
#include <stdlib.h>

#include "hw/char/debugcon.h"

struct DebugconState {
    IOPortMap *io;
    uint16_t port;
    CharBackend chr;
};

static uint32_t debugcon_read(void *opaque, uint16_t port, int size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    DebugconState *s = opaque;
    uint8_t byte = (uint8_t)value;

    if (s->chr.write) {
        s->chr.write(s->chr.opaque, &byte, 1);
    }
}

DebugconState *debugcon_new(IOPortMap *io, uint16_t port, const CharBackend *chr)
{
    DebugconState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    s->io = io;
    s->port = port;
    if (chr) {
        s->chr = *chr;
    }
    if (ioport_register(io, port, 1, 1, debugcon_read, debugcon_write, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void debugcon_free(DebugconState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, s->port, 1);
    free(s);
}
