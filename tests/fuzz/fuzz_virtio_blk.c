/*
 * libFuzzer harness for virtio-blk-pci (hw/virtio/virtio_blk.c on
 * hw/virtio/virtio_pci.c and virtio.c): the input is a driver that does
 * anything at all through configuration space, both BARs and guest RAM,
 * with rings, request headers and buffers pointing anywhere, over a disk
 * held in memory.  Nothing may crash, hang or make a sanitizer report;
 * the device reaches guest memory only through phys_* and the disk only
 * through BlockDev, whose callbacks here check every range they are
 * given, so an access outside either shows as an abort or an ASan report.
 *
 * Input: byte 0 holds options (bit 0: the disk is read-only; bit 1: the
 * disk fails every operation with -EIO; bits 2-4 as virtio_fuzz.h says).
 * The rest is a list of operations, each an opcode byte and its operands:
 * the driver's (virtio_fuzz.c), a machine reset, and a whole request
 * (header, data buffers, status byte) made available and notified, with
 * types and sectors mostly ones the device knows, so the fuzzer reaches
 * the disk without finding the request format by itself.  The disk is refilled
 * before each input, so an input runs the same whatever ran before it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/virtio/virtio_blk.h"
#include "virtio_fuzz.h"

#define FUZZ_DISK_SECTORS 64 /* 32 KiB: small, so requests reach its end */

enum { OP_RESET = VFUZZ_OP_COUNT, OP_REQUEST, OP_COUNT };

/* A machine with the disk writable, and one with it read-only (the RO
 * feature is fixed when the device is made); option bit 0 picks one. */
typedef struct Machine {
    VirtioFuzz v; /* the machine and the driver */
    VirtioBlkState *blk;
    BlockDev disk;
    bool fail; /* the disk fails every operation */
    int irq_level;
    uint8_t data[FUZZ_DISK_SECTORS * BLOCK_SECTOR_SIZE];
} Machine;

static Machine *machines[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* BlockDev's contract (block/block.h): sector + count within the disk. */
static void disk_check(uint64_t sector, uint32_t count)
{
    if (sector > FUZZ_DISK_SECTORS || count > FUZZ_DISK_SECTORS - sector) {
        fprintf(stderr, "fuzz_virtio_blk: disk access past the end (%llu + %u)\n",
                (unsigned long long)sector, count);
        abort();
    }
}

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    Machine *m = opaque;

    disk_check(sector, count);
    if (m->fail) {
        return -5;
    }
    memcpy(buf, m->data + sector * BLOCK_SECTOR_SIZE, (size_t)count * BLOCK_SECTOR_SIZE);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    Machine *m = opaque;

    disk_check(sector, count);
    if (m->disk.read_only) {
        fprintf(stderr, "fuzz_virtio_blk: write to a read-only disk\n");
        abort();
    }
    if (m->fail) {
        return -5;
    }
    memcpy(m->data + sector * BLOCK_SECTOR_SIZE, buf, (size_t)count * BLOCK_SECTOR_SIZE);
    return 0;
}

static int disk_flush(void *opaque)
{
    Machine *m = opaque;

    return m->fail ? -5 : 0;
}

/* Request buffers land in RAM unless the input's bit 0 of how asks for
 * any address at all (then the device must refuse the chain). */
static uint32_t buffer_addr(VFuzzStream *st, bool anywhere)
{
    return anywhere ? vfuzz_take_addr(st) : (vfuzz_take(st, 2) * 4u) % (VFUZZ_RAM - 4096);
}

/*
 * A request on queue 0: the header (type, sector) at an address from the
 * input, zero to three data buffers of whole sectors or any length,
 * readable or writable as the type wants unless the input flips them (a
 * write-zeroes range is put in the first one), then a one-byte status
 * buffer; made available and notified.
 */
static void add_request(Machine *m, VFuzzStream *st)
{
    static const uint32_t types[8] = {0, 1, 4, 8, 13, 11, 0, 1}; /* IN OUT FLUSH GET_ID WZ DISCARD */
    uint32_t sel = vfuzz_take(st, 1);
    uint32_t type = sel & 0x80 ? vfuzz_take(st, 4) : types[sel & 7];
    uint64_t sector = vfuzz_take(st, 1) % (FUZZ_DISK_SECTORS + 8);
    uint32_t hdr = buffer_addr(st, false);
    unsigned nbufs = (sel >> 3) & 3;
    VFuzzRing *r = &m->v.ring[0];
    uint16_t head, d;

    if (r->num == 0) {
        return;
    }
    phys_write(&m->v.pm, hdr, type, 4);
    phys_write(&m->v.pm, hdr + 4, 0, 4);
    phys_write(&m->v.pm, hdr + 8, (uint32_t)sector, 4);
    phys_write(&m->v.pm, hdr + 12, 0, 4);
    head = (uint16_t)(vfuzz_take(st, 1) % r->num);
    d = head;
    vfuzz_put_desc(&m->v, 0, d, hdr, sel & 0x40 ? vfuzz_take(st, 1) : 16, 1, (uint16_t)(d + 1));
    for (unsigned b = 0; b < nbufs; b++) {
        uint32_t how = vfuzz_take(st, 1);
        uint32_t addr = buffer_addr(st, how & 0x20);
        uint32_t len = how & 0x80 ? vfuzz_take(st, 2) : 512u * (how % 9);
        bool writable = (type == 0 || type == 8) != ((how & 0x40) != 0);

        if (b == 0 && (type == 13 || type == 11)) {
            /* {sector le64, num_sectors le32, flags le32} */
            phys_write(&m->v.pm, addr, vfuzz_take(st, 1) % (FUZZ_DISK_SECTORS + 8), 4);
            phys_write(&m->v.pm, addr + 4, 0, 4);
            phys_write(&m->v.pm, addr + 8, vfuzz_take(st, 1), 4);
            phys_write(&m->v.pm, addr + 12, vfuzz_take(st, 1) & 3, 4);
            len = how & 0x80 ? len : 16;
        }
        d = (uint16_t)(d + 1);
        vfuzz_put_desc(&m->v, 0, d, addr, len, (uint16_t)(1 | (writable ? 2 : 0)),
                       (uint16_t)(d + 1));
    }
    d = (uint16_t)(d + 1);
    vfuzz_put_desc(&m->v, 0, d, buffer_addr(st, false), 1, 2, 0);
    vfuzz_avail_push(&m->v, 0, head);
    vfuzz_notify(&m->v, 0, sel & 0x20);
}

static void run_op(Machine *m, VFuzzStream *st)
{
    uint32_t op = vfuzz_take(st, 1) % OP_COUNT;

    if (op == OP_REQUEST) {
        add_request(m, st);
    } else if (op == OP_RESET) {
        char info[512];

        /* What the monitor would show, then the machine's reset. */
        m->v.sum += (unsigned)virtio_blk_info(m->blk, info, sizeof(info));
        virtio_blk_reset(m->blk);
    } else {
        vfuzz_run_op(&m->v, st, op);
    }
}

static void fuzz_irq(void *opaque, int n, int level)
{
    Machine *m = opaque;

    m->irq_level = level;
}

static Machine *machine_new(bool read_only)
{
    Machine *m = calloc(1, sizeof(*m));

    if (!m) {
        abort();
    }
    vfuzz_init(&m->v, 1);
    m->disk = (BlockDev){m, FUZZ_DISK_SECTORS, read_only, disk_read, disk_write, disk_flush};
    m->blk = virtio_blk_new(m->v.bus, VFUZZ_DEVFN, &m->v.pm, irq_make(fuzz_irq, m, 0), &m->disk,
                            "fuzz-serial");
    if (!m->blk) {
        abort();
    }
    vfuzz_attach(&m->v);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VFuzzStream st = {data, size};
    uint8_t options;
    Machine *m;

    if (size < 1) {
        return 0;
    }
    options = (uint8_t)vfuzz_take(&st, 1);
    if (!machines[options & 1]) {
        machines[options & 1] = machine_new(options & 1);
    }
    m = machines[options & 1];
    m->fail = options & 2;
    for (size_t i = 0; i < sizeof(m->data); i++) {
        m->data[i] = (uint8_t)(i * 31 + (i >> 9));
    }
    vfuzz_start(&m->v, &st, options);
    for (int n = 0; n < VFUZZ_MAX_OPS && st.left; n++) {
        run_op(m, &st);
    }
    return 0;
}
