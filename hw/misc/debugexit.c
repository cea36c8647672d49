/*
 * isa-debug-exit (see debugexit.h).  The value is taken at the width of the
 * access, as QEMU does, so "outw 0x1234" gives (0x1234 << 1) | 1; the exit
 * status a shell sees is that number's low 8 bits.
 */
#include <stdlib.h>

#include "hw/misc/debugexit.h"

struct DebugExitState {
    IOPortMap *io;
    uint16_t iobase;
    uint16_t iosize;
    void (*exit_cb)(void *opaque, int status);
    void *opaque;
};

static uint32_t debugexit_read(void *opaque, uint16_t port, int size)
{
    return 0xffffffffu; /* nothing to read: the bus floats */
}

static void debugexit_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    DebugExitState *s = opaque;

    if (s->exit_cb) {
        s->exit_cb(s->opaque, (int)((value << 1) | 1));
    }
}

DebugExitState *debugexit_new(IOPortMap *io, uint16_t iobase, uint16_t iosize,
                              void (*exit_cb)(void *opaque, int status), void *opaque)
{
    DebugExitState *s;

    if (iosize == 0) {
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->iobase = iobase;
    s->iosize = iosize;
    s->exit_cb = exit_cb;
    s->opaque = opaque;
    if (ioport_register(io, iobase, iosize, 1 | 2 | 4, debugexit_read, debugexit_write, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void debugexit_free(DebugExitState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, s->iobase, s->iosize);
    free(s);
}
