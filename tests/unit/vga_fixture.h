/*
 * The fixture the VGA unit tests share (test_vga.c, test_vga_vbe.c): a
 * VGA on a PCI bus with 1 MiB of RAM and deterministic time, and helpers
 * that reach it the way a guest does, through ports and physical memory.
 */
#ifndef TESTS_UNIT_VGA_FIXTURE_H
#define TESTS_UNIT_VGA_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/display/vga.h"

#define VGA_DEVFN PCI_DEVFN(2, 0)
#define LFB_ADDR  0xe0000000u
#define FRAME_NS  (31778LL * 449) /* one 70 Hz frame of 449 lines */

typedef struct Fixture {
    PhysMem phys;
    IOPortMap io;
    PCIBus *pci;
    TimerList timers;
    uint64_t icount; /* virtual time in ns (-icount 0) */
    VGAState *vga;
    int flushes;      /* flush_phys calls */
    uint32_t flushed; /* bytes they covered */
} Fixture;

static Fixture *f;

static inline void count_flush(void *opaque, uint32_t paddr, uint32_t len)
{
    Fixture *fx = opaque;
    fx->flushes++;
    fx->flushed += len;
}

static inline void setup(void)
{
    f = calloc(1, sizeof(*f));
    ck_assert(phys_init(&f->phys, 1u << 20));
    ioport_init(&f->io);
    timerlist_init_icount(&f->timers, &f->icount, 0);
    f->pci = pci_bus_new(&f->io);
    VGAHooks hooks = {f, count_flush, NULL};
    f->vga = vga_new(&f->io, &f->phys, f->pci, VGA_DEVFN, &f->timers, VGA_VRAM_DEFAULT, &hooks);
    ck_assert_ptr_nonnull(f->vga);
}

static inline void teardown(void)
{
    vga_free(f->vga);
    pci_bus_free(f->pci);
    phys_destroy(&f->phys);
    free(f);
}

static inline void out8(uint16_t port, uint8_t v)
{
    ioport_write(&f->io, port, v, 1);
}

static inline uint8_t in8(uint16_t port)
{
    return (uint8_t)ioport_read(&f->io, port, 1);
}

static inline void out_indexed(uint16_t port, uint8_t index, uint8_t v)
{
    out8(port, index);
    out8((uint16_t)(port + 1), v);
}

static inline void ac_write(uint8_t index, uint8_t v)
{
    in8(0x3da); /* flip-flop to "index" */
    out8(0x3c0, index);
    out8(0x3c0, v);
}

static inline void vbe_write(uint16_t index, uint16_t v)
{
    ioport_write(&f->io, 0x1ce, index, 2);
    ioport_write(&f->io, 0x1cf, v, 2);
}

static inline uint16_t vbe_read(uint16_t index)
{
    ioport_write(&f->io, 0x1ce, index, 2);
    return (uint16_t)ioport_read(&f->io, 0x1cf, 2);
}

static inline uint32_t frame_pixel(int x, int y)
{
    int w, h;
    const uint32_t *frame = vga_frame(f->vga, &w, &h);
    ck_assert_int_lt(x, w);
    ck_assert_int_lt(y, h);
    return frame[(size_t)y * (size_t)w + (size_t)x];
}

/* Planar access to A0000h (64 KiB), odd/even off, write and read mode 0. */
static inline void set_planar(void)
{
    out_indexed(0x3c4, 0x02, 0x0f); /* all planes */
    out_indexed(0x3c4, 0x04, 0x06); /* odd/even off, chain 4 off */
    out_indexed(0x3ce, 0x05, 0x00);
    out_indexed(0x3ce, 0x06, 0x05); /* graphics, A0000h 64 KiB */
    out_indexed(0x3ce, 0x08, 0xff);
}

static inline uint8_t plane_byte(int plane, uint32_t offset)
{
    uint32_t size;
    return vga_vram(f->vga, &size)[offset * 4 + (uint32_t)plane];
}

static inline void pci_write32(int reg, uint32_t v)
{
    ioport_write(&f->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | (uint32_t)reg, 4);
    ioport_write(&f->io, 0xcfc, v, 4);
}

static inline uint32_t pci_read32(int reg)
{
    ioport_write(&f->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | (uint32_t)reg, 4);
    return ioport_read(&f->io, 0xcfc, 4);
}

#endif /* TESTS_UNIT_VGA_FIXTURE_H */
