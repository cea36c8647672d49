/*
 * libFuzzer harness: the whole PC under a guest that does anything, in the
 * manner of QEMU's generic-fuzz.  The machine is fuzz_board.h's (every
 * device, firmware-free, deterministic time); the input is a list of
 * operations, each an opcode byte and its operands (little endian; bytes
 * missing at the end read as 0):
 *
 *   0 PIO_WRITE  range u8, offset u16, size u8, value u32
 *   1 PIO_READ   range u8, offset u16, size u8
 *   2 MMIO_WRITE region u8, offset u32, size u8, value u32
 *   3 MMIO_READ  region u8, offset u32, size u8
 *   4 PCI_WRITE  function u8, register u8, size u8, value u32
 *   5 PCI_BAR    function u8, bar u8, where u8, address u32: move a BAR
 *                and turn on I/O, memory and bus mastering
 *   6 RAM_WRITE  address u24, length u8, bytes
 *   7 RAM_PTR    address u24, where u8, value u32: a 32-bit pointer into
 *                RAM or at a region (descriptors, PRDs, rings aim anywhere)
 *   8 CLOCK      amount u16, shift u8: virtual time passes, timers fire
 *   9 FRAME      nic u8, length u16, bytes: a frame from the NIC's backend
 *  10 NET        nic u8, what u8: link up/down, backend busy/ready
 *  11 PIO_REPEAT range u8, offset u16, size u8, count u16, value u8: a REP
 *                INS/OUTS (bit 7 of size: write)
 *  12 HOST       what u8, argument u8: what the user does: a key, the mouse,
 *                serial input, a CD change, the display refreshed, reset
 *
 * A range is the n-th claimed port range (modulo their number; 0xFF: the
 * offset is any port, claimed or not), a region the n-th enabled memory
 * region (0xFF: the offset is any physical address), a function the n-th
 * PCI function found at start.  Every target comes from the machine's own
 * maps (fuzz_board.h), so a new device is fuzzed as soon as the board
 * builds it.
 *
 * Each port or memory access, each batch of timers, each frame is one
 * operation for the double-fetch watch (dma_watch.h), which aborts on a
 * device that reads a guest structure again after its bytes were written.
 * An input makes at most MAX_OPS operations and MAX_ACCESSES accesses, and
 * its devices move at most MAX_DMA_BYTES of guest RAM, so its cost is
 * bounded by the harness and a slow input is a device's doing.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/display/vga.h"
#include "hw/input/i8042.h"
#include "hw/pci/pci.h"
#include "tests/fuzz/dma_watch.h"
#include "tests/fuzz/fuzz_board.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    FZ_PIO_WRITE,
    FZ_PIO_READ,
    FZ_MMIO_WRITE,
    FZ_MMIO_READ,
    FZ_PCI_WRITE,
    FZ_PCI_BAR,
    FZ_RAM_WRITE,
    FZ_RAM_PTR,
    FZ_CLOCK,
    FZ_FRAME,
    FZ_NET,
    FZ_PIO_REPEAT,
    FZ_HOST,
    FZ_OP_COUNT
};

/* Operations per input at most, and device accesses (each port or memory
 * access, timer batch, frame, host event) at most: an input's cost stays
 * bounded by the harness, so one that takes long is a device's doing. */
#define MAX_OPS      4096
#define MAX_ACCESSES (1u << 16)
/* And guest-RAM bytes moved by DMA at most: one port write can start a
 * transfer over all of RAM (fw_cfg, IDE), which the watch follows byte by
 * byte; a few dozen of them per input would take minutes under ASan. */
#define MAX_DMA_BYTES (8ull * FUZZ_BOARD_RAM)

static FuzzBoard board;
static DmaWatch *watch;   /* made once, attached to each new board */
static uint32_t accesses; /* in this input, against MAX_ACCESSES */
static uint64_t dma_start; /* dma_watch_bytes() when this input began */
static bool tracing;      /* POPEK_FUZZ_TRACE set: each access on stderr (what an input does) */
static uint32_t sink;     /* values read, so nothing is optimised away */

/* Is the input's budget of accesses and DMA bytes not yet spent? */
static bool budget_left(void)
{
    return accesses < MAX_ACCESSES && dma_watch_bytes(watch) - dma_start < MAX_DMA_BYTES;
}

static void double_fetch(void *opaque, const DmaFetchReport *r)
{
    fprintf(stderr,
            "fuzz: double fetch: guest byte %#x read by access %u, written by access %u, "
            "read again by access %u ([%#x, +%u))\n",
            r->paddr, r->first_seq, r->write_seq, r->second_seq, r->second_start, r->second_len);
    abort();
}

/* A new operation for the watch: the guest could run before it. */
static void op_begin(void *opaque)
{
    dma_watch_begin(watch);
    accesses++;
}

/* Store bytes in guest RAM as the guest's CPU would (not a device's access). */
static void guest_store(uint32_t paddr, const void *buf, uint32_t len)
{
    dma_watch_pause(watch, true);
    phys_write_buf(&board.pc.phys, paddr, buf, len);
    dma_watch_pause(watch, false);
}

static uint16_t pick_port(FuzzInput *in)
{
    uint32_t range = fuzz_take(in, 1);
    uint32_t offset = fuzz_take(in, 2);
    const FuzzPortRange *ranges;
    if (range == 0xff) {
        return (uint16_t)offset;
    }
    int n = fuzz_board_port_ranges(&board, &ranges);
    if (n == 0) {
        return (uint16_t)offset;
    }
    const FuzzPortRange *r = &ranges[range % (uint32_t)n];
    return (uint16_t)(r->base + offset % r->count);
}

static uint32_t pick_address(FuzzInput *in)
{
    uint32_t region = fuzz_take(in, 1);
    uint32_t offset = fuzz_take(in, 4);
    uint32_t start, size;
    if (region == 0xff || !fuzz_board_region(&board, region, &start, &size)) {
        return offset;
    }
    return start + offset % size;
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    if (tracing) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
}

/* Port writes may move I/O BARs (PCI configuration) or reset the board. */
static void pio_write(uint16_t port, uint32_t value, int size)
{
    op_begin(NULL);
    trace("out %#06x/%d <- %#x\n", port, size, value);
    ioport_write(&board.pc.io, port, value, size);
    if (port >= PCI_CONFIG_ADDRESS && port < PCI_CONFIG_DATA + 4) {
        board.ports_stale = true;
    }
    fuzz_board_serve_requests(&board);
}

static uint32_t pio_read(uint16_t port, int size)
{
    op_begin(NULL);
    uint32_t v = ioport_read(&board.pc.io, port, size);
    trace("in  %#06x/%d -> %#x\n", port, size, v);
    fuzz_board_serve_requests(&board);
    return v;
}

static void pci_write(uint8_t devfn, uint8_t reg, uint32_t value, int size)
{
    pio_write(PCI_CONFIG_ADDRESS, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfcu), 4);
    pio_write((uint16_t)(PCI_CONFIG_DATA + (reg & 3)), value, size);
}

static void op_pci_write(FuzzInput *in)
{
    uint32_t fn = fuzz_take(in, 1);
    uint8_t reg = (uint8_t)fuzz_take(in, 1);
    int size = fuzz_access_size(fuzz_take(in, 1));
    uint32_t value = fuzz_take(in, 4);
    if (board.npci) {
        pci_write(board.pci_devfn[fn % (uint32_t)board.npci], reg, value, size);
    }
}

/* Where a BAR may go: anywhere, inside RAM, onto another region, or the
 * part of the space where firmware puts BARs. */
static void op_pci_bar(FuzzInput *in)
{
    uint32_t fn = fuzz_take(in, 1);
    uint32_t bar = fuzz_take(in, 1) % 7;
    uint32_t where = fuzz_take(in, 1);
    uint32_t addr = fuzz_take(in, 4);
    uint32_t start, size;
    switch (where & 3) {
    case 0: break;
    case 1: addr %= FUZZ_BOARD_RAM; break;
    case 2:
        if (fuzz_board_region(&board, addr >> 24, &start, &size)) {
            addr = start;
        }
        break;
    default: addr = 0xe0000000u + (addr & 0x0ffffff0u); break;
    }
    if (!board.npci) {
        return;
    }
    uint8_t devfn = board.pci_devfn[fn % (uint32_t)board.npci];
    uint8_t reg = bar == 6 ? 0x30 : (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
    pci_write(devfn, reg, addr, 4);
    pci_write(devfn, PCI_COMMAND,
              PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                  (where & 0x80 ? 0 : PCI_COMMAND_INTX_DISABLE),
              2);
}

static void op_ram_write(FuzzInput *in)
{
    uint32_t addr = fuzz_take(in, 3) % FUZZ_BOARD_RAM;
    uint32_t len = fuzz_take(in, 1);
    uint8_t buf[256];
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)fuzz_take(in, 1);
    }
    guest_store(addr, buf, len);
}

static void op_ram_ptr(FuzzInput *in)
{
    uint32_t addr = fuzz_take(in, 3) % FUZZ_BOARD_RAM;
    uint32_t where = fuzz_take(in, 1);
    uint32_t value = fuzz_take(in, 4);
    uint32_t start, size;
    switch (where & 3) {
    case 0: value %= FUZZ_BOARD_RAM; break;
    case 1:
        if (fuzz_board_region(&board, where >> 2, &start, &size)) {
            value = start + value % size;
        }
        break;
    case 2: value = FUZZ_BOARD_RAM - (value & 0xfff); break; /* straddling the end of RAM */
    default: break;
    }
    guest_store(addr, &value, 4);
}

static void op_frame(FuzzInput *in)
{
    static uint8_t frame[NET_MAX_FRAME];
    uint32_t nic = fuzz_take(in, 1) % FUZZ_BOARD_NICS;
    uint32_t len = fuzz_take(in, 2);
    for (uint32_t i = 0; i < len; i++) {
        frame[i] = in->left ? (uint8_t)fuzz_take(in, 1) : (uint8_t)(i * 31);
    }
    op_begin(NULL);
    trace("frame %u bytes to nic %u\n", len, nic);
    netdev_send(board.netdev[nic].nd, frame, len);
    fuzz_board_serve_requests(&board);
}

static void op_net(FuzzInput *in)
{
    FuzzNetdev *n = &board.netdev[fuzz_take(in, 1) % FUZZ_BOARD_NICS];
    uint32_t what = fuzz_take(in, 1);
    op_begin(NULL);
    switch (what & 3) {
    case 0: netdev_set_link(n->nd, what & 4); break;
    case 1: netdev_set_nic_link(n->nd, what & 4); break;
    case 2: n->can_receive = false; break;
    default:
        n->can_receive = true;
        netdev_flush(n->nd);
        break;
    }
}

static void op_pio_repeat(FuzzInput *in)
{
    uint16_t port = pick_port(in);
    uint32_t sel = fuzz_take(in, 1);
    uint32_t count = fuzz_take(in, 2);
    uint32_t value = fuzz_take(in, 1) * 0x01010101u;
    int size = fuzz_access_size(sel);
    for (uint32_t i = 0; i < count && budget_left(); i++) {
        if (sel & 0x80) {
            pio_write(port, value + i, size);
        } else {
            sink += pio_read(port, size);
        }
    }
}

/* What the user does: keys and the mouse (the window), serial input, the
 * monitor's CD commands, a frame drawn, a system reset. */
static void op_host(FuzzInput *in)
{
    uint32_t what = fuzz_take(in, 1);
    uint32_t arg = fuzz_take(in, 1);
    PC *pc = &board.pc;
    op_begin(NULL);
    switch (what % 7) {
    case 0:
        i8042_key_event(pc_keyboard(pc), (int)(arg & 0x7f) | (what & 0x80 ? 0xe000 : 0),
                        arg & 0x80);
        break;
    case 1:
        i8042_mouse_event(pc_keyboard(pc), (int8_t)arg, (int8_t)(arg * 7), (int)(what >> 7),
                          (int)arg & 7);
        break;
    case 2: {
        int port = (int)(arg & 3);
        uint8_t bytes[16];
        int room = pc_serial_room(pc, port);
        int n = room < (int)sizeof(bytes) ? room : (int)sizeof(bytes);
        for (int i = 0; i < n; i++) {
            bytes[i] = (uint8_t)(arg + i);
        }
        pc_serial_input(pc, port, bytes, n);
        break;
    }
    case 3: pc_cdrom_change(pc, 2, arg & 1 ? &board.cd.blk : NULL); break;
    case 4: {
        VGAState *vga = pc_vga(pc);
        char text[4096];
        if (vga) {
            if (arg & 1) {
                vga_invalidate(vga);
            }
            vga_update(vga);
            int w, h;
            const uint32_t *frame = vga_frame(vga, &w, &h);
            if (frame && w > 0 && h > 0) {
                sink += frame[(size_t)w * (size_t)h - 1];
            }
            sink += (uint32_t)vga_text_dump(vga, text, sizeof(text));
        }
        break;
    }
    case 5: {
        char text[4096];
        sink += (uint32_t)pc_pic_info(pc, text, sizeof(text));
        sink += (uint32_t)pc_lapic_info(pc, text, sizeof(text));
        sink += (uint32_t)pc_nic_info(pc, (int)(arg % FUZZ_BOARD_NICS), text, sizeof(text));
        break;
    }
    default:
        pc_reset(pc);
        board.ports_stale = true;
        break;
    }
    fuzz_board_serve_requests(&board);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    tracing = getenv("POPEK_FUZZ_TRACE") != NULL;
    fuzz_board_start(&board);
    if (!watch) {
        watch = dma_watch_new(&board.pc.phys, double_fetch, NULL);
        if (!watch) {
            abort();
        }
    } else {
        dma_watch_attach(watch, &board.pc.phys);
    }
    accesses = 0;
    dma_start = dma_watch_bytes(watch);
    for (int ops = 0; in.left && ops < MAX_OPS && budget_left(); ops++) {
        switch (fuzz_take(&in, 1) % FZ_OP_COUNT) {
        case FZ_PIO_WRITE: {
            uint16_t port = pick_port(&in);
            int sz = fuzz_access_size(fuzz_take(&in, 1));
            pio_write(port, fuzz_take(&in, 4), sz);
            break;
        }
        case FZ_PIO_READ: {
            uint16_t port = pick_port(&in);
            sink += pio_read(port, fuzz_access_size(fuzz_take(&in, 1)));
            break;
        }
        case FZ_MMIO_WRITE: {
            uint32_t addr = pick_address(&in);
            int sz = fuzz_access_size(fuzz_take(&in, 1));
            uint32_t value = fuzz_take(&in, 4);
            op_begin(NULL);
            trace("write %#010x/%d <- %#x\n", addr, sz, value);
            phys_write(&board.pc.phys, addr, value, sz);
            fuzz_board_serve_requests(&board);
            break;
        }
        case FZ_MMIO_READ: {
            uint32_t addr = pick_address(&in);
            int sz = fuzz_access_size(fuzz_take(&in, 1));
            op_begin(NULL);
            uint32_t v = phys_read(&board.pc.phys, addr, sz);
            trace("read  %#010x/%d -> %#x\n", addr, sz, v);
            sink += v;
            fuzz_board_serve_requests(&board);
            break;
        }
        case FZ_PCI_WRITE: op_pci_write(&in); break;
        case FZ_PCI_BAR: op_pci_bar(&in); break;
        case FZ_RAM_WRITE: op_ram_write(&in); break;
        case FZ_RAM_PTR: op_ram_ptr(&in); break;
        case FZ_CLOCK: {
            uint64_t amount = fuzz_take(&in, 2);
            uint32_t shift = fuzz_take(&in, 1) % 40;
            trace("clock +%llu ns\n", (unsigned long long)(amount << shift));
            fuzz_board_advance(&board, amount << shift, op_begin, NULL);
            break;
        }
        case FZ_FRAME: op_frame(&in); break;
        case FZ_NET: op_net(&in); break;
        case FZ_PIO_REPEAT: op_pio_repeat(&in); break;
        default: op_host(&in); break;
        }
    }
    /* Time goes on at the end, as it would for the guest: pending DMA,
     * moderation and completion timers all fire. */
    fuzz_board_advance(&board, 100ull * 1000 * 1000, op_begin, NULL);
    return 0;
}
