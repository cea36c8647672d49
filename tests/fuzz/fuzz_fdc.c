/*
 * libFuzzer harness: the 82077AA floppy controller and the ISA DMA pair
 * under a hostile guest.  The input is a list of commands: reads and
 * writes of the controller's ports and of every DMA port (controllers 1
 * and 2, page registers), bytes stored in guest RAM, well-formed
 * controller commands with fuzzed parameters (so the execution phases are
 * reached often), channel 2 programmed in one go with addresses anywhere
 * in the 16 MiB the DMA reaches (guest RAM is 256 KiB), bursts of FIFO
 * traffic, and resets.  Two drives: a writable 1.44 MB disk and a
 * write-protected 720 KiB one.
 *
 * Nothing may crash or trip a sanitizer; the disks abort if the
 * controller asks for a sector past their end.  There is no clock to
 * advance: the controller and the DMA arm no timers (commands complete
 * as their last byte arrives, transfers as the channel is served).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/block/fdc.h"
#include "hw/dma/i8257.h"
#include "tests/fuzz/fuzz_input.h"

#define FUZZ_RAM (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct MemDisk {
    uint8_t *data;
    uint64_t sectors;
} MemDisk;

typedef struct FuzzMachine {
    IOPortMap io;
    PhysMem pm;
    I8257State *dma;
    FDCState *fdc;
    MemDisk disk[2];
    uint32_t sink; /* bytes read are summed here, so ASan sees every one */
} FuzzMachine;

static FuzzMachine *m;

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    if (count == 0 || sector >= d->sectors || count > d->sectors - sector) {
        abort();
    }
    memcpy(buf, d->data + sector * 512, (size_t)count * 512);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    if (count == 0 || sector >= d->sectors || count > d->sectors - sector) {
        abort();
    }
    memcpy(d->data + sector * 512, buf, (size_t)count * 512);
    return 0;
}

static int disk_flush(void *opaque)
{
    return 0;
}

static void irq_cb(void *opaque, int n, int level)
{
}

static uint16_t pick_dma_port(FuzzInput *in)
{
    uint32_t v = fuzz_take(in, 1);
    switch (v >> 6) {
    case 0: return (uint16_t)(v & 0x0f);
    case 1: return (uint16_t)(0x80 + (v & 0x0f));
    default: return (uint16_t)(0xc0 + (v & 0x1f));
    }
}

/* A command the controller knows, with fuzzed bits and parameters. */
static void cmd_well_formed(FuzzInput *in)
{
    static const uint8_t firsts[] = {0x46, 0xc6, 0xe6, 0x45, 0xc5, 0x4a, 0x4d, 0x03,
                                     0x04, 0x07, 0x08, 0x0f, 0x8f, 0xcf, 0x10, 0x13,
                                     0x14, 0x94, 0x0e, 0x12, 0x06, 0x0d, 0x8e, 0x18};
    uint32_t sel = fuzz_take(in, 1);
    ioport_write(&m->io, FDC_BASE + 5, firsts[sel % sizeof(firsts)], 1);
    uint32_t n = fuzz_take(in, 1) % 10;
    for (uint32_t i = 0; i < n; i++) {
        ioport_write(&m->io, FDC_BASE + 5, fuzz_take(in, 1), 1);
    }
}

/* Channel 2 in one go: mode, address (anywhere the DMA reaches), count, unmask. */
static void cmd_channel2(FuzzInput *in)
{
    uint32_t mode = fuzz_take(in, 1);
    uint32_t addr = fuzz_take(in, 3);
    uint32_t count = fuzz_take(in, 2);
    if (mode & 1) {
        addr %= FUZZ_RAM; /* mostly inside RAM, so transfers land somewhere */
    }
    ioport_write(&m->io, 0x0a, 0x06, 1);
    ioport_write(&m->io, 0x0c, 0, 1);
    ioport_write(&m->io, 0x0b, (mode & 0xfc) | 2, 1);
    ioport_write(&m->io, 0x04, addr & 0xff, 1);
    ioport_write(&m->io, 0x04, (addr >> 8) & 0xff, 1);
    ioport_write(&m->io, 0x81, (addr >> 16) & 0xff, 1);
    ioport_write(&m->io, 0x05, count & 0xff, 1);
    ioport_write(&m->io, 0x05, count >> 8, 1);
    ioport_write(&m->io, 0x0a, 0x02, 1);
}

static void cmd_ram(FuzzInput *in)
{
    uint32_t addr = fuzz_take(in, 3) % FUZZ_RAM;
    uint32_t len = fuzz_take(in, 1);
    uint8_t buf[256];
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)fuzz_take(in, 1);
    }
    phys_write_buf(&m->pm, addr, buf, len);
}

/* Many FIFO accesses at once: what a driver that ignores MSR would do. */
static void cmd_burst(FuzzInput *in)
{
    uint32_t n = fuzz_take(in, 2);
    bool write = fuzz_take(in, 1) & 1;
    uint8_t v = (uint8_t)fuzz_take(in, 1);
    for (uint32_t i = 0; i < n; i++) {
        if (write) {
            ioport_write(&m->io, FDC_BASE + 5, v, 1);
        } else {
            m->sink += ioport_read(&m->io, FDC_BASE + 5, 1);
        }
    }
}

static void machine_start(void)
{
    m = calloc(1, sizeof(*m));
    ioport_init(&m->io);
    if (!phys_init(&m->pm, FUZZ_RAM)) {
        abort();
    }
    m->dma = i8257_new(&m->io, &m->pm);
    m->fdc = fdc_new(&m->io, FDC_BASE, irq_make(irq_cb, NULL, 6), m->dma, FDC_DMA_CHAN);
    if (!m->dma || !m->fdc) {
        abort();
    }
    static const uint32_t bytes[2] = {1474560, 737280};
    for (int i = 0; i < 2; i++) {
        MemDisk *d = &m->disk[i];
        d->sectors = bytes[i] / 512;
        d->data = calloc(1, bytes[i]);
        BlockDev blk = {d, d->sectors, i == 1, disk_read, disk_write, disk_flush};
        if (!d->data || !fdc_attach(m->fdc, i, &blk)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    if (!m) {
        machine_start();
    }
    memset(m->pm.ram, 0, FUZZ_RAM);
    i8257_reset(m->dma);
    fdc_reset(m->fdc);
    while (in.left) {
        uint32_t op = fuzz_take(&in, 1) % 12;
        switch (op) {
        case 0:
        case 1:
        case 2: {
            uint16_t port = (uint16_t)(FDC_BASE + (fuzz_take(&in, 1) & 7));
            ioport_write(&m->io, port, fuzz_take(&in, 1), 1);
            break;
        }
        case 3: m->sink += ioport_read(&m->io, (uint16_t)(FDC_BASE + (fuzz_take(&in, 1) & 7)), 1); break;
        case 4:
        case 5: {
            uint16_t port = pick_dma_port(&in);
            ioport_write(&m->io, port, fuzz_take(&in, 1), 1);
            break;
        }
        case 6: m->sink += ioport_read(&m->io, pick_dma_port(&in), 1); break;
        case 7: cmd_ram(&in); break;
        case 8:
        case 9: cmd_well_formed(&in); break;
        case 10: cmd_channel2(&in); break;
        default:
            if (fuzz_take(&in, 1) & 1) {
                cmd_burst(&in);
            } else {
                fdc_reset(m->fdc);
                i8257_reset(m->dma);
            }
            break;
        }
    }
    return 0;
}
