/*
 * The driver half of the virtio-pci fuzz harnesses (fuzz_virtio_net.c,
 * fuzz_virtio_blk.c): a machine with RAM, ports and a PCI bus for one
 * virtio device at VFUZZ_DEVFN, and the operations a driver that does
 * anything at all can make through configuration space, both BARs and
 * guest RAM: raw register and memory accesses, and driver-shaped ones
 * (bring-up, a descriptor, an available ring entry, a whole chain made
 * available and notified), so the fuzzer reaches the rings without having
 * to find the whole protocol by itself.  A harness adds its device's own
 * operations (frames from the wire, a reset) after VFUZZ_OP_COUNT.
 *
 * Options byte (the input's first): bits 2-3 start with no driver, or one
 * brought up through the modern or the legacy interface with rings in
 * place; bit 4 puts BAR4 inside RAM, where buffers and rings may land on
 * the device's own registers.  Bits 0-1 are the harness's.
 */
#ifndef TESTS_FUZZ_VIRTIO_FUZZ_H
#define TESTS_FUZZ_VIRTIO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci/pci.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"
#include "tests/fuzz/fuzz_input.h"

#define VFUZZ_RAM     (256u << 10)
#define VFUZZ_DEVFN   PCI_DEVFN(3, 0)
#define VFUZZ_QUEUES  3 /* at most the device's queue count plus one */
#define VFUZZ_MAX_OPS 512

/* The fuzz input, consumed from the front; missing bytes read as 0
 * (tests/fuzz/fuzz_input.h, shared by every device harness). */
typedef FuzzInput VFuzzStream;

/* A queue as the driver side of the harness placed it. */
typedef struct VFuzzRing {
    uint32_t desc, avail;
    uint16_t num;
    uint16_t avail_idx;
} VFuzzRing;

typedef struct VirtioFuzz {
    PhysMem pm;
    IOPortMap io;
    PCIBus *bus;
    int good_queues; /* the device's queues: a good bring-up places these */
    int cfg_cap;     /* the PCI_CFG capability, whose window fields the guest writes */
    unsigned sum;    /* every byte the device hands out is read into this */
    VFuzzRing ring[VFUZZ_QUEUES];
    uint8_t ram_pattern[VFUZZ_RAM]; /* what RAM holds at the start of each input */
} VirtioFuzz;

/* The generic operations; a harness numbers its own from VFUZZ_OP_COUNT. */
enum {
    VFUZZ_OP_CFG_WRITE,
    VFUZZ_OP_CFG_READ,
    VFUZZ_OP_LEGACY_WRITE,
    VFUZZ_OP_LEGACY_READ,
    VFUZZ_OP_MODERN_WRITE,
    VFUZZ_OP_MODERN_READ,
    VFUZZ_OP_RAM_WRITE,
    VFUZZ_OP_MODERN_SETUP,
    VFUZZ_OP_LEGACY_SETUP,
    VFUZZ_OP_NOTIFY,
    VFUZZ_OP_DESC,
    VFUZZ_OP_AVAIL,
    VFUZZ_OP_CHAIN,
    VFUZZ_OP_CFG_WINDOW,
    VFUZZ_OP_COUNT
};

uint32_t vfuzz_take(VFuzzStream *st, int n);
/* An access size: 1, 2 or 4. */
int vfuzz_take_size(VFuzzStream *st);
/* Half of the addresses land in RAM, the others anywhere in 4 GiB. */
uint32_t vfuzz_take_addr(VFuzzStream *st);

/* RAM, ports and a PCI bus (aborts if out of memory); the harness then
 * puts its device at VFUZZ_DEVFN and calls vfuzz_attach. */
void vfuzz_init(VirtioFuzz *v, int good_queues);
void vfuzz_attach(VirtioFuzz *v);
/* Power-on state through what a guest can reach, then the bring-up the
 * options ask for. */
void vfuzz_start(VirtioFuzz *v, VFuzzStream *st, uint8_t options);
/* For a harness's own driver-shaped operations: write descriptor i of
 * queue q's table, make head available, notify queue q. */
void vfuzz_put_desc(VirtioFuzz *v, int q, uint16_t i, uint32_t addr, uint32_t len, uint16_t flags,
                    uint16_t next);
void vfuzz_avail_push(VirtioFuzz *v, int q, uint16_t head);
void vfuzz_notify(VirtioFuzz *v, uint32_t q, bool legacy);
/* One generic operation (op < VFUZZ_OP_COUNT). */
void vfuzz_run_op(VirtioFuzz *v, VFuzzStream *st, uint32_t op);

#endif /* TESTS_FUZZ_VIRTIO_FUZZ_H */
