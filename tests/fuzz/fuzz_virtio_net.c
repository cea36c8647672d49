/*
 * libFuzzer harness for virtio-net-pci (hw/net/virtio_net.c on
 * hw/virtio/virtio_pci.c and virtio.c): the input is a driver that does
 * anything at all through configuration space, both BARs and guest RAM,
 * with rings and buffers pointing anywhere, while frames arrive from the
 * wire.  Nothing may crash, hang or make a sanitizer report; the device
 * can only reach guest memory through phys_*, so ASan would see any host
 * access outside the RAM mapping.
 *
 * Input: byte 0 holds options (bit 0: the wire loops every frame sent back
 * to the NIC, as a hub to itself would; bit 1: the link starts down; bits
 * 2-4 as virtio_fuzz.h says).  The rest is a list of operations, each an
 * opcode byte and its operands (missing bytes read as 0): the driver's
 * (virtio_fuzz.c) and the NIC's own (a frame from the wire, the link, a
 * machine reset).
 *
 * The machine is built once and brought back to its power-on state before
 * each input through what a guest can reach (RAM refilled, configuration
 * registers, device status 0), so an input runs the same whatever ran
 * before it; virtio_net_reset is one of the operations.
 *
 * The net layer is played here as net/net.h describes it: a frame the NIC
 * cannot take is kept (one) and offered again on net_client_flush.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/net/virtio_net.h"
#include "virtio_fuzz.h"

enum { OP_RECEIVE = VFUZZ_OP_COUNT, OP_LINK, OP_RESET, OP_COUNT };

typedef struct Fuzz {
    VirtioFuzz v; /* the machine and the driver */
    VirtioNetState *nic;
    NetClient *nc;
    bool loopback;
    bool link;
    int irq_level; /* INTA as the device drives it */
    int depth;     /* frames delivered from inside a delivery */
    bool held;     /* the net layer keeps a frame */
    size_t held_len;
    uint8_t held_frame[NET_MAX_FRAME];
    uint8_t flush_frame[NET_MAX_FRAME];
    uint8_t frame[NET_MAX_FRAME];
} Fuzz;

static Fuzz *fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the wire ---- */

/* Offer a frame as the net layer does: deliver it, or keep it if the NIC
 * says no and nothing is kept yet. */
static void offer(const uint8_t *frame, size_t len)
{
    if (fz->depth > 2) {
        return;
    }
    fz->depth++;
    if (fz->nc->can_receive(fz->nc->opaque, len)) {
        fz->nc->receive(fz->nc->opaque, frame, len);
    } else if (!fz->held) {
        memcpy(fz->held_frame, frame, len);
        fz->held_len = len;
        fz->held = true;
    }
    fz->depth--;
}

void net_client_send(NetClient *nc, const uint8_t *frame, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        fz->v.sum += frame[i];
    }
    if (fz->loopback && fz->link) {
        offer(frame, len);
    }
}

void net_client_flush(NetClient *nc)
{
    if (fz->held && fz->depth <= 2) {
        fz->held = false;
        /* Offered from a copy: the NIC may refuse it and it is kept again. */
        memcpy(fz->flush_frame, fz->held_frame, fz->held_len);
        offer(fz->flush_frame, fz->held_len);
    }
}

bool net_client_link_up(const NetClient *nc)
{
    return fz->link;
}

static void receive(VFuzzStream *st)
{
    uint32_t sel = vfuzz_take(st, 1);
    size_t len = vfuzz_take(st, 2);

    if (sel & 0x80) {
        len = NET_MAX_FRAME - (len & 0xff); /* the largest frames */
    } else {
        len %= 1600;
    }
    for (size_t i = 0; i < len; i++) {
        fz->frame[i] = (uint8_t)(i * sel);
    }
    if (sel & 0x40) {
        /* Straight in, as if the NIC had said yes a moment ago. */
        fz->nc->receive(fz->nc->opaque, fz->frame, len);
    } else {
        offer(fz->frame, len);
    }
}

static void run_op(VFuzzStream *st)
{
    uint32_t op = vfuzz_take(st, 1) % OP_COUNT;

    switch (op) {
    case OP_RECEIVE: receive(st); break;
    case OP_LINK:
        fz->link = !fz->link;
        fz->nc->link_changed(fz->nc->opaque, fz->link);
        break;
    case OP_RESET: {
        char info[256];

        /* What the monitor would show, then the machine's reset. */
        fz->v.sum += (unsigned)virtio_net_info(fz->nic, info, sizeof(info));
        virtio_net_reset(fz->nic);
        break;
    }
    default: vfuzz_run_op(&fz->v, st, op); break;
    }
}

static void fuzz_irq(void *opaque, int n, int level)
{
    fz->irq_level = level;
}

static void fuzz_machine_new(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    fz = calloc(1, sizeof(*fz));
    if (!fz) {
        abort();
    }
    vfuzz_init(&fz->v, 2);
    fz->link = true;
    fz->nic = virtio_net_new(fz->v.bus, VFUZZ_DEVFN, &fz->v.pm, irq_make(fuzz_irq, NULL, 0), mac);
    if (!fz->nic) {
        abort();
    }
    fz->nc = virtio_net_client(fz->nic);
    vfuzz_attach(&fz->v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VFuzzStream st = {data, size};
    uint8_t options;

    if (size < 1) {
        return 0;
    }
    if (!fz) {
        fuzz_machine_new();
    }
    options = (uint8_t)vfuzz_take(&st, 1);
    fz->loopback = options & 1;
    fz->link = !(options & 2);
    fz->held = false;
    fz->depth = 0;
    vfuzz_start(&fz->v, &st, options);
    for (int n = 0; n < VFUZZ_MAX_OPS && st.left; n++) {
        run_op(&st);
    }
    return 0;
}
