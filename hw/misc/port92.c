/*
 * System control port A (see port92.h).
 *
 * The register is what the PIIX3 datasheet ("Port 92h") describes: bit 0
 * FAST_INIT starts a CPU reset on its 0 -> 1 edge and reads back as
 * written until that reset happens; bit 1 is the A20 gate; the other bits
 * are kept for the guest to read back.
 */
#include <stdlib.h>

#include "hw/misc/port92.h"
#include "migration/vmstate.h"

struct Port92State {
    IOPortMap *io;
    uint8_t value; /* as last written */
    void (*set_a20)(void *opaque, bool on);
    void (*reset_request)(void *opaque);
    void *opaque;
};

static uint32_t port92_read(void *opaque, uint16_t port, int size)
{
    Port92State *s = opaque;

    return s->value;
}

static void port92_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    Port92State *s = opaque;
    uint8_t val = (uint8_t)value;
    bool reset_edge = (val & PORT92_FAST_RESET) && !(s->value & PORT92_FAST_RESET);

    s->value = val;
    if (s->set_a20) {
        s->set_a20(s->opaque, val & PORT92_A20);
    }
    if (reset_edge && s->reset_request) {
        s->reset_request(s->opaque);
    }
}

Port92State *port92_new(IOPortMap *io, void (*set_a20)(void *opaque, bool on),
                        void (*reset_request)(void *opaque), void *opaque)
{
    Port92State *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    s->io = io;
    s->set_a20 = set_a20;
    s->reset_request = reset_request;
    s->opaque = opaque;
    if (ioport_register(io, PORT92_PORT, 1, 1, port92_read, port92_write, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void port92_free(Port92State *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, PORT92_PORT, 1);
    free(s);
}

void port92_reset(Port92State *s)
{
    s->value = 0;
}

/* ---- saved state (A20 itself is the board's) ---- */

static const VMField port92_fields[] = {
    VMS_U8(Port92State, value),
    VMS_END,
};

const VMStateDesc port92_vmstate = {
    .name = "port92",
    .version = 1,
    .min_version = 1,
    .fields = port92_fields,
};
