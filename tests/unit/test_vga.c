/*
 * The VGA through its ports and memory with no CPU (IBM VGA Technical
 * Reference; Bochs VBE as QEMU implements it): register indexing and the
 * attribute flip-flop, the DAC's auto-increment, input status timing,
 * the read and write modes with the latches, chain 4 and odd/even, text
 * rendering from a font in plane 2 and the UTF-8 text dump, mode 13h, VBE
 * modes through the banked window and the PCI framebuffer, and the dirty
 * page protocol with a real CPU storing into the framebuffer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/vga.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define VGA_DEVFN   PCI_DEVFN(2, 0)
#define LFB_ADDR    0xe0000000u
#define FRAME_NS    (31778LL * 449) /* one 70 Hz frame of 449 lines */

typedef struct Fixture {
    PhysMem phys;
    IOPortMap io;
    PCIBus *pci;
    TimerList timers;
    uint64_t icount;    /* virtual time in ns (-icount 0) */
    VGAState *vga;
    int flushes;        /* flush_phys calls */
    uint32_t flushed;   /* bytes they covered */
} Fixture;

static Fixture *f;

static void count_flush(void *opaque, uint32_t paddr, uint32_t len)
{
    Fixture *fx = opaque;
    fx->flushes++;
    fx->flushed += len;
}

static void setup(void)
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

static void teardown(void)
{
    vga_free(f->vga);
    pci_bus_free(f->pci);
    phys_destroy(&f->phys);
    free(f);
}

static void out8(uint16_t port, uint8_t v)
{
    ioport_write(&f->io, port, v, 1);
}

static uint8_t in8(uint16_t port)
{
    return (uint8_t)ioport_read(&f->io, port, 1);
}

static void out_indexed(uint16_t port, uint8_t index, uint8_t v)
{
    out8(port, index);
    out8((uint16_t)(port + 1), v);
}

static void ac_write(uint8_t index, uint8_t v)
{
    in8(0x3da); /* flip-flop to "index" */
    out8(0x3c0, index);
    out8(0x3c0, v);
}

static void vbe_write(uint16_t index, uint16_t v)
{
    ioport_write(&f->io, 0x1ce, index, 2);
    ioport_write(&f->io, 0x1cf, v, 2);
}

static uint16_t vbe_read(uint16_t index)
{
    ioport_write(&f->io, 0x1ce, index, 2);
    return (uint16_t)ioport_read(&f->io, 0x1cf, 2);
}

static uint32_t frame_pixel(int x, int y)
{
    int w, h;
    const uint32_t *frame = vga_frame(f->vga, &w, &h);
    ck_assert_int_lt(x, w);
    ck_assert_int_lt(y, h);
    return frame[(size_t)y * (size_t)w + (size_t)x];
}

/* Planar access to A0000h (64 KiB), odd/even off, write and read mode 0. */
static void set_planar(void)
{
    out_indexed(0x3c4, 0x02, 0x0f); /* all planes */
    out_indexed(0x3c4, 0x04, 0x06); /* odd/even off, chain 4 off */
    out_indexed(0x3ce, 0x05, 0x00);
    out_indexed(0x3ce, 0x06, 0x05); /* graphics, A0000h 64 KiB */
    out_indexed(0x3ce, 0x08, 0xff);
}

static uint8_t plane_byte(int plane, uint32_t offset)
{
    uint32_t size;
    return vga_vram(f->vga, &size)[offset * 4 + (uint32_t)plane];
}

/* ---- registers ---- */

START_TEST(test_register_indexing)
{
    out_indexed(0x3c4, 0x02, 0x05);
    ck_assert_uint_eq(in8(0x3c4), 0x02);
    ck_assert_uint_eq(in8(0x3c5), 0x05);
    out_indexed(0x3ce, 0x08, 0x3c);
    ck_assert_uint_eq(in8(0x3ce), 0x08);
    ck_assert_uint_eq(in8(0x3cf), 0x3c);
    /* Colour addressing after reset (misc bit 0): CRTC at 3D4h. */
    ck_assert_uint_eq(in8(0x3cc) & 1, 1);
    out_indexed(0x3d4, 0x0e, 0x12);
    ck_assert_uint_eq(in8(0x3d5), 0x12);
    ck_assert_uint_eq(in8(0x3b5), 0xff); /* the mono address does not decode */
    out8(0x3c2, 0x66);                   /* misc: mono addressing */
    ck_assert_uint_eq(in8(0x3cc), 0x66);
    ck_assert_uint_eq(in8(0x3b5), 0x12);
    ck_assert_uint_eq(in8(0x3d5), 0xff);
}
END_TEST

START_TEST(test_crtc_write_protect)
{
    out_indexed(0x3d4, 0x11, 0x8e); /* CR11 bit 7: protect CR0-CR7 */
    out_indexed(0x3d4, 0x01, 0x27);
    ck_assert_uint_eq(in8(0x3d5), 0x4f);
    out_indexed(0x3d4, 0x07, 0x00); /* only the line compare bit 8 changes */
    ck_assert_uint_eq(in8(0x3d5), 0x0f);
    out_indexed(0x3d4, 0x11, 0x0e);
    out_indexed(0x3d4, 0x01, 0x27);
    ck_assert_uint_eq(in8(0x3d5), 0x27);
}
END_TEST

START_TEST(test_attribute_flip_flop)
{
    in8(0x3da);
    out8(0x3c0, 0x05); /* index */
    out8(0x3c0, 0x2a); /* data */
    ck_assert_uint_eq(in8(0x3c1), 0x2a);
    out8(0x3c0, 0x26); /* index again (flip-flop back), PAS set */
    ck_assert_uint_eq(in8(0x3c0), 0x26);
    out8(0x3c0, 0x3b);
    ck_assert_uint_eq(in8(0x3c1), 0x3b);
    /* A read of input status 1 makes the next write an index. */
    out8(0x3c0, 0x25);
    in8(0x3da);
    out8(0x3c0, 0x24);
    ck_assert_uint_eq(in8(0x3c0), 0x24);
    out8(0x3c0, 0x11);
    ck_assert_uint_eq(in8(0x3c1), 0x11);
    out8(0x3c0, 0x25);
    ck_assert_uint_eq(in8(0x3c1), 0x2a); /* register 5 untouched */
}
END_TEST

START_TEST(test_dac_auto_increment)
{
    out8(0x3c8, 5);
    out8(0x3c9, 0x3f);
    out8(0x3c9, 0x20);
    out8(0x3c9, 0x41); /* 6-bit DAC: 0x01 */
    out8(0x3c9, 1);
    out8(0x3c9, 2);
    out8(0x3c9, 3);
    ck_assert_uint_eq(in8(0x3c8), 7); /* two entries written */
    ck_assert_uint_eq(in8(0x3c7), 0); /* state: writing */
    out8(0x3c7, 5);
    ck_assert_uint_eq(in8(0x3c7), 3); /* state: reading */
    ck_assert_uint_eq(in8(0x3c9), 0x3f);
    ck_assert_uint_eq(in8(0x3c9), 0x20);
    ck_assert_uint_eq(in8(0x3c9), 0x01);
    ck_assert_uint_eq(in8(0x3c9), 1);
    ck_assert_uint_eq(in8(0x3c9), 2);
    ck_assert_uint_eq(in8(0x3c9), 3);
    /* Writing the index restarts at red. */
    out8(0x3c7, 5);
    in8(0x3c9);
    out8(0x3c7, 6);
    ck_assert_uint_eq(in8(0x3c9), 1);
}
END_TEST

START_TEST(test_input_status_retrace)
{
    /* 449 lines of 31.78 us; vertical retrace on lines 412-413. */
    f->icount = 100 * 31778;
    ck_assert_uint_eq(in8(0x3da) & 0x08, 0);
    f->icount = 412 * 31778 + 100;
    ck_assert_uint_eq(in8(0x3da) & 0x09, 0x09);
    f->icount = FRAME_NS + 10 * 31778; /* next frame, active display */
    ck_assert_uint_eq(in8(0x3da) & 0x09, 0);
    f->icount = FRAME_NS + 10 * 31778 + 30000; /* horizontal blanking */
    ck_assert_uint_eq(in8(0x3da) & 0x09, 0x01);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_write_mode0_set_reset_bit_mask)
{
    set_planar();
    phys_write(&f->phys, 0xa0000, 0xa5, 1);
    for (int p = 0; p < 4; p++) {
        ck_assert_uint_eq(plane_byte(p, 0), 0xa5);
    }
    /* Set/reset enabled for planes 0 and 2, set/reset value 0001b: plane 0
     * gets 0xFF, plane 2 0x00; planes 1 and 3 take the CPU byte. */
    out_indexed(0x3ce, 0x00, 0x01);
    out_indexed(0x3ce, 0x01, 0x05);
    phys_write(&f->phys, 0xa0001, 0x3c, 1);
    ck_assert_uint_eq(plane_byte(0, 1), 0xff);
    ck_assert_uint_eq(plane_byte(1, 1), 0x3c);
    ck_assert_uint_eq(plane_byte(2, 1), 0x00);
    ck_assert_uint_eq(plane_byte(3, 1), 0x3c);
    /* Bit mask 0Fh: the high nibble comes from the latches (loaded from
     * offset 0 by the read). */
    out_indexed(0x3ce, 0x01, 0x00);
    out_indexed(0x3ce, 0x08, 0x0f);
    ck_assert_uint_eq(phys_read(&f->phys, 0xa0000, 1), 0xa5);
    phys_write(&f->phys, 0xa0002, 0x00, 1);
    for (int p = 0; p < 4; p++) {
        ck_assert_uint_eq(plane_byte(p, 2), 0xa0);
    }
    /* Rotate by 4 and XOR with the latches. */
    out_indexed(0x3ce, 0x08, 0xff);
    out_indexed(0x3ce, 0x03, 0x18 | 4);
    phys_write(&f->phys, 0xa0003, 0x0f, 1);
    ck_assert_uint_eq(plane_byte(0, 3), 0xa5 ^ 0xf0);
}
END_TEST

START_TEST(test_write_mode1_copies_latches)
{
    set_planar();
    out_indexed(0x3c4, 0x02, 0x01);
    phys_write(&f->phys, 0xa0010, 0x11, 1);
    out_indexed(0x3c4, 0x02, 0x02);
    phys_write(&f->phys, 0xa0010, 0x22, 1);
    out_indexed(0x3c4, 0x02, 0x04);
    phys_write(&f->phys, 0xa0010, 0x44, 1);
    out_indexed(0x3c4, 0x02, 0x08);
    phys_write(&f->phys, 0xa0010, 0x88, 1);
    out_indexed(0x3c4, 0x02, 0x0f);
    out_indexed(0x3ce, 0x05, 0x01);
    out_indexed(0x3ce, 0x08, 0x00); /* write mode 1 ignores the bit mask */
    phys_read(&f->phys, 0xa0010, 1);
    phys_write(&f->phys, 0xa0020, 0x00, 1);
    ck_assert_uint_eq(plane_byte(0, 0x20), 0x11);
    ck_assert_uint_eq(plane_byte(1, 0x20), 0x22);
    ck_assert_uint_eq(plane_byte(2, 0x20), 0x44);
    ck_assert_uint_eq(plane_byte(3, 0x20), 0x88);
}
END_TEST

START_TEST(test_write_modes_2_and_3)
{
    set_planar();
    /* Mode 2: bits 0-3 of the byte fill planes 0-3, under the bit mask. */
    out_indexed(0x3ce, 0x05, 0x02);
    out_indexed(0x3ce, 0x08, 0xf0);
    phys_read(&f->phys, 0xa0030, 1); /* latches: zeros */
    phys_write(&f->phys, 0xa0030, 0x09, 1);
    ck_assert_uint_eq(plane_byte(0, 0x30), 0xf0);
    ck_assert_uint_eq(plane_byte(1, 0x30), 0x00);
    ck_assert_uint_eq(plane_byte(2, 0x30), 0x00);
    ck_assert_uint_eq(plane_byte(3, 0x30), 0xf0);
    /* Mode 3: set/reset is the colour, the byte ANDs the bit mask. */
    out_indexed(0x3ce, 0x05, 0x03);
    out_indexed(0x3ce, 0x00, 0x06);
    out_indexed(0x3ce, 0x08, 0x3c);
    phys_read(&f->phys, 0xa0031, 1);
    phys_write(&f->phys, 0xa0031, 0x0f, 1);
    ck_assert_uint_eq(plane_byte(0, 0x31), 0x00);
    ck_assert_uint_eq(plane_byte(1, 0x31), 0x0c);
    ck_assert_uint_eq(plane_byte(2, 0x31), 0x0c);
    ck_assert_uint_eq(plane_byte(3, 0x31), 0x00);
}
END_TEST

START_TEST(test_read_modes)
{
    set_planar();
    const uint8_t planes[4] = {0xf0, 0xcc, 0xaa, 0x0f};
    for (int p = 0; p < 4; p++) {
        out_indexed(0x3c4, 0x02, (uint8_t)(1 << p));
        phys_write(&f->phys, 0xa0040, planes[p], 1);
    }
    for (int p = 0; p < 4; p++) {
        out_indexed(0x3ce, 0x04, (uint8_t)p);
        ck_assert_uint_eq(phys_read(&f->phys, 0xa0040, 1), planes[p]);
    }
    /* Read mode 1: bit set where planes 0-3 equal colour 0101b. */
    out_indexed(0x3ce, 0x05, 0x08);
    out_indexed(0x3ce, 0x02, 0x05);
    out_indexed(0x3ce, 0x07, 0x0f);
    uint8_t expect = 0;
    for (int bit = 0; bit < 8; bit++) {
        int color = 0;
        for (int p = 0; p < 4; p++) {
            color |= ((planes[p] >> bit) & 1) << p;
        }
        expect |= (uint8_t)((color == 5) << bit);
    }
    ck_assert_uint_eq(phys_read(&f->phys, 0xa0040, 1), expect);
    /* Don't-care planes: compare plane 0 only. */
    out_indexed(0x3ce, 0x07, 0x01);
    ck_assert_uint_eq(phys_read(&f->phys, 0xa0040, 1), 0xf0);
}
END_TEST

START_TEST(test_chain4_and_odd_even)
{
    /* Reset state is mode 3: odd/even at B8000h, planes 0 and 1. */
    phys_write(&f->phys, 0xb8000, 0x1e41, 2);
    ck_assert_uint_eq(plane_byte(0, 0), 'A');
    ck_assert_uint_eq(plane_byte(1, 0), 0x1e);
    ck_assert_uint_eq(phys_read(&f->phys, 0xb8000, 2), 0x1e41);
    ck_assert_uint_eq(phys_read(&f->phys, 0xa0000, 1), 0xff); /* outside B8000-BFFFF */
    /* Chain 4: byte A goes to plane A & 3. */
    out_indexed(0x3c4, 0x02, 0x0f);
    out_indexed(0x3c4, 0x04, 0x0e);
    out_indexed(0x3ce, 0x05, 0x40);
    out_indexed(0x3ce, 0x06, 0x05);
    phys_write(&f->phys, 0xa0004, 0x44332211, 4);
    for (int p = 0; p < 4; p++) {
        ck_assert_uint_eq(plane_byte(p, 1), 0x11u * (unsigned)(p + 1));
    }
    out_indexed(0x3c4, 0x02, 0x0b); /* plane 2 write-protected */
    phys_write(&f->phys, 0xa0004, 0xffffffff, 4);
    ck_assert_uint_eq(plane_byte(2, 1), 0x33);
    ck_assert_uint_eq(plane_byte(3, 1), 0xff);
}
END_TEST

/* ---- text ---- */

static void write_text(int row, int col, const char *text, uint8_t attr)
{
    for (int i = 0; text[i]; i++) {
        uint32_t addr = 0xb8000 + (uint32_t)(row * 80 + col + i) * 2;
        phys_write(&f->phys, addr, (uint8_t)text[i] | ((uint32_t)attr << 8), 2);
    }
}

/* Load one glyph into font 0 the way a BIOS does: plane 2 alone, sequential. */
static void load_glyph(uint8_t ch, const uint8_t *lines, int count)
{
    out_indexed(0x3c4, 0x02, 0x04);
    out_indexed(0x3c4, 0x04, 0x06);
    out_indexed(0x3ce, 0x04, 0x02);
    out_indexed(0x3ce, 0x05, 0x00);
    out_indexed(0x3ce, 0x06, 0x04);
    for (int i = 0; i < count; i++) {
        phys_write(&f->phys, 0xa0000 + ch * 32u + (uint32_t)i, lines[i], 1);
    }
    out_indexed(0x3c4, 0x02, 0x03);
    out_indexed(0x3c4, 0x04, 0x02);
    out_indexed(0x3ce, 0x04, 0x00);
    out_indexed(0x3ce, 0x05, 0x10);
    out_indexed(0x3ce, 0x06, 0x0e);
}

START_TEST(test_text_dump)
{
    write_text(0, 0, "Hello, world", 0x07);
    write_text(1, 2, "\xc9\xcd\xbb", 0x07); /* box corner, line, corner */
    write_text(24, 79, "!", 0x07);
    char buf[4096];
    int n = vga_text_dump(f->vga, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(n, (int)strlen(buf));
    /* C9h CDh BBh are U+2554 U+2550 U+2557 in code page 437. */
    const char *top = "Hello, world\n  \xe2\x95\x94\xe2\x95\x90\xe2\x95\x97\n\n";
    ck_assert(!strncmp(buf, top, strlen(top)));
    int lines = 0;
    for (int i = 0; i < n; i++) {
        lines += buf[i] == '\n';
    }
    ck_assert_int_eq(lines, 25);
    ck_assert_str_eq(buf + n - 81, "                                                                               !\n");
    /* A short buffer gets what fits and the full length back. */
    char small[8];
    ck_assert_int_eq(vga_text_dump(f->vga, small, sizeof(small)), n);
    ck_assert_str_eq(small, "Hello, ");
}
END_TEST

START_TEST(test_text_render)
{
    static const uint8_t glyph[3] = {0xff, 0x00, 0x81};
    const uint32_t yellow = 0xffff55, blue = 0x0000aa; /* CGA colours 14 and 1 */
    load_glyph(0x01, glyph, 3);
    write_text(0, 0, "\x01", 0x1e);
    VGAUpdate u = vga_update(f->vga);
    int w, h;
    vga_frame(f->vga, &w, &h);
    ck_assert_int_eq(w, 720); /* 80 columns of 9 dots */
    ck_assert_int_eq(h, 400); /* 25 rows of 16 lines */
    ck_assert(u.resized);
    for (int x = 0; x < 8; x++) {
        ck_assert_uint_eq(frame_pixel(x, 0), yellow);
        ck_assert_uint_eq(frame_pixel(x, 1), blue);
    }
    ck_assert_uint_eq(frame_pixel(8, 0), blue); /* 9th dot: background for 01h */
    ck_assert_uint_eq(frame_pixel(0, 2), yellow);
    ck_assert_uint_eq(frame_pixel(3, 2), blue);
    ck_assert_uint_eq(frame_pixel(7, 2), yellow);
    /* The cursor (mode 3: lines 13-14) sits at address 0. */
    ck_assert_uint_eq(frame_pixel(4, 13), yellow);
    ck_assert_uint_eq(frame_pixel(4, 15), blue);
    /* Nothing changed: nothing redrawn. */
    u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, u.y1);
    /* Cursor off (CR0A bit 5): only row 0 is redrawn. */
    out_indexed(0x3d4, 0x0a, 0x2d);
    u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, 0);
    ck_assert_int_eq(u.y1, 16);
    ck_assert_uint_eq(frame_pixel(4, 13), blue);
    /* A cell on row 3 changes: rows 48-63 only. */
    write_text(3, 5, "\x01", 0x1e);
    u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, 48);
    ck_assert_int_eq(u.y1, 64);
    ck_assert_uint_eq(frame_pixel(5 * 9, 48), yellow);
}
END_TEST

START_TEST(test_text_blink)
{
    static const uint8_t glyph[1] = {0xff};
    load_glyph(0x02, glyph, 1);
    write_text(0, 1, "\x02", 0x9e); /* blinking yellow on blue */
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel(9, 0), 0xffff55);
    f->icount = 16 * FRAME_NS + 1; /* second half of the 32-frame period */
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel(9, 0), 0x0000aa);
    /* AR10 bit 3 clear: bit 7 is background intensity, no blinking. */
    ac_write(0x10, 0x04);
    ac_write(0x20, 0);
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel(9, 0), 0xffff55);
    ck_assert_uint_eq(frame_pixel(9, 1), 0x5555ff); /* colour 9 background */
}
END_TEST

/* ---- graphics ---- */

/* The BIOS's mode 13h register values. */
static void set_mode13(void)
{
    static const uint8_t seq[5] = {0x03, 0x01, 0x0f, 0x00, 0x0e};
    static const uint8_t crtc[0x19] = {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00,
                                       0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
                                       0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff};
    static const uint8_t gc[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff};
    out8(0x3c2, 0x63);
    for (int i = 0; i < 5; i++) {
        out_indexed(0x3c4, (uint8_t)i, seq[i]);
    }
    out_indexed(0x3d4, 0x11, 0x0e);
    for (int i = 0; i < 0x19; i++) {
        out_indexed(0x3d4, (uint8_t)i, crtc[i]);
    }
    for (int i = 0; i < 9; i++) {
        out_indexed(0x3ce, (uint8_t)i, gc[i]);
    }
    for (int i = 0; i < 16; i++) {
        ac_write((uint8_t)i, (uint8_t)i);
    }
    ac_write(0x10, 0x41);
    ac_write(0x11, 0x00);
    ac_write(0x12, 0x0f);
    ac_write(0x13, 0x00);
    ac_write(0x14, 0x00);
    ac_write(0x20, 0); /* palette address source: display on */
}

START_TEST(test_mode13_pixels)
{
    set_mode13();
    out8(0x3c8, 4);
    out8(0x3c9, 63);
    out8(0x3c9, 0);
    out8(0x3c9, 0);
    phys_write(&f->phys, 0xa0000 + 320 * 10 + 20, 4, 1);
    phys_write(&f->phys, 0xa0000 + 320 * 199 + 319, 1, 1); /* DAC 1: EGA blue */
    VGAUpdate u = vga_update(f->vga);
    int w, h;
    vga_frame(f->vga, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert(u.resized);
    ck_assert_uint_eq(frame_pixel(20, 10), 0xff0000);
    ck_assert_uint_eq(frame_pixel(21, 10), 0x000000);
    ck_assert_uint_eq(frame_pixel(319, 199), 0x0000aa);
    /* A store redraws the lines its 4 KiB page touches and no others:
     * byte 32000 is in page 7 (28672-32767), lines 89-102 of 320 bytes. */
    phys_write(&f->phys, 0xa0000 + 320 * 100, 4, 1);
    u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, 28672 / 320);
    ck_assert_int_eq(u.y1, 32767 / 320 + 1);
    ck_assert_uint_eq(frame_pixel(0, 100), 0xff0000);
    /* The palette changes: everything is redrawn. */
    out8(0x3c8, 4);
    out8(0x3c9, 0);
    out8(0x3c9, 63);
    out8(0x3c9, 0);
    u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, 0);
    ck_assert_int_eq(u.y1, 200);
    ck_assert_uint_eq(frame_pixel(20, 10), 0x00ff00);
}
END_TEST

START_TEST(test_planar16_pixels)
{
    /* Mode 12h-like: 640x480, 16 colours; colour 9 (bright blue) at x=3. */
    set_mode13();
    out_indexed(0x3c4, 0x04, 0x06);
    out_indexed(0x3ce, 0x05, 0x00);
    ac_write(0x10, 0x01);
    ac_write(0x20, 0);
    out_indexed(0x3d4, 0x09, 0x40);
    out_indexed(0x3d4, 0x12, 0xdf);
    out_indexed(0x3d4, 0x07, 0x3e); /* VDE bit 8 set, bit 9 clear: 479 */
    out_indexed(0x3d4, 0x14, 0x00);
    out_indexed(0x3d4, 0x17, 0xe3);
    ac_write(9, 0x39);
    ac_write(0x20, 0);
    out_indexed(0x3ce, 0x05, 0x02); /* write mode 2 */
    out_indexed(0x3ce, 0x08, 0x10); /* pixel 3 of the byte */
    phys_read(&f->phys, 0xa0000 + 80 * 7, 1);
    phys_write(&f->phys, 0xa0000 + 80 * 7, 9, 1);
    vga_update(f->vga);
    int w, h;
    vga_frame(f->vga, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(frame_pixel(3, 7), 0x5555ff);
    ck_assert_uint_eq(frame_pixel(2, 7), 0x000000);
    ck_assert_uint_eq(frame_pixel(4, 7), 0x000000);
}
END_TEST

/* ---- VBE ---- */

static void pci_write32(int reg, uint32_t v)
{
    ioport_write(&f->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | (uint32_t)reg, 4);
    ioport_write(&f->io, 0xcfc, v, 4);
}

static uint32_t pci_read32(int reg)
{
    ioport_write(&f->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | (uint32_t)reg, 4);
    return ioport_read(&f->io, 0xcfc, 4);
}

START_TEST(test_vbe_registers)
{
    ck_assert_uint_eq(vbe_read(0), 0xb0c5);
    vbe_write(0, 0xb0c0);
    ck_assert_uint_eq(vbe_read(0), 0xb0c0);
    vbe_write(0, 0x1234); /* not an interface version: ignored */
    ck_assert_uint_eq(vbe_read(0), 0xb0c0);
    ck_assert_uint_eq(vbe_read(10), VGA_VRAM_DEFAULT >> 16);
    vbe_write(4, 0x02); /* GETCAPS: XRES/YRES/BPP read their maxima */
    ck_assert_uint_ge(vbe_read(1), 1600);
    ck_assert_uint_eq(vbe_read(3), 32);
    vbe_write(4, 0);
    vbe_write(3, 7); /* not a depth */
    ck_assert_uint_eq(vbe_read(3), 0);
    /* PCI identity: QEMU's stdvga. */
    ck_assert_uint_eq(pci_read32(0x00), 0x11111234);
    ck_assert_uint_eq(pci_read32(0x08) >> 8, 0x030000);
    pci_write32(0x10, 0xffffffff);
    ck_assert_uint_eq(pci_read32(0x10), (uint32_t)-(int32_t)VGA_VRAM_DEFAULT | 0x08);
}
END_TEST

START_TEST(test_vbe_lfb_pixels)
{
    pci_write32(0x10, LFB_ADDR);
    pci_write32(0x04, 0x0003); /* I/O and memory decoding */
    phys_write(&f->phys, LFB_ADDR, 0x77, 1);
    vbe_write(1, 640);
    vbe_write(2, 480);
    vbe_write(3, 32);
    vbe_write(4, 0x41); /* enabled, LFB, screen cleared */
    ck_assert_uint_eq(phys_read(&f->phys, LFB_ADDR, 1), 0);
    ck_assert_uint_eq(vbe_read(6), 640);
    ck_assert_uint_eq(vbe_read(7), VGA_VRAM_DEFAULT / (640 * 4));
    phys_write(&f->phys, LFB_ADDR + (5u * 640 + 7) * 4, 0x00123456, 4);
    vga_update(f->vga);
    int w, h;
    vga_frame(f->vga, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(frame_pixel(7, 5), 0x123456);
    ck_assert_uint_eq(frame_pixel(8, 5), 0);
    /* Y offset pans by whole lines. */
    vbe_write(9, 5);
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel(7, 0), 0x123456);
    /* 16 bpp, without clearing: 0xF800 is pure red in 5:6:5. */
    vbe_write(4, 0);
    vbe_write(3, 16);
    vbe_write(4, 0xc1);
    phys_write(&f->phys, LFB_ADDR + 2 * 3, 0xf800, 2);
    phys_write(&f->phys, LFB_ADDR + 2 * 4, 0x001f, 2);
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel(3, 0), 0xff0000);
    ck_assert_uint_eq(frame_pixel(4, 0), 0x0000ff);
    /* BAR moved: the framebuffer follows. */
    pci_write32(0x10, 0xd0000000);
    ck_assert_uint_eq(phys_read(&f->phys, 0xd0000000 + 6, 2), 0xf800);
    ck_assert_uint_eq(phys_read(&f->phys, LFB_ADDR + 6, 2), 0xffff);
}
END_TEST

START_TEST(test_vbe_banked_window)
{
    vbe_write(1, 640);
    vbe_write(2, 480);
    vbe_write(3, 8);
    vbe_write(4, 0x01); /* enabled, banked (no LFB) */
    vbe_write(5, 3);
    ck_assert_uint_eq(vbe_read(5), 3);
    phys_write(&f->phys, 0xa0010, 0x2a, 1);
    ck_assert_uint_eq(plane_byte(0, (3u << 16) / 4 + 4), 0x2a);
    uint32_t offset = (3u << 16) + 0x10; /* pixel (offset % 640, offset / 640) */
    out8(0x3c8, 0x2a);
    out8(0x3c9, 0);
    out8(0x3c9, 0);
    out8(0x3c9, 63);
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel((int)(offset % 640), (int)(offset / 640)), 0x0000ff);
    /* 8-bit DAC: entries keep 8 bits. */
    vbe_write(4, 0x21);
    out8(0x3c8, 0x2a);
    out8(0x3c9, 0x80);
    out8(0x3c9, 0x81);
    out8(0x3c9, 0x82);
    vga_update(f->vga);
    ck_assert_uint_eq(frame_pixel((int)(offset % 640), (int)(offset / 640)), 0x808182);
}
END_TEST

/* ---- the dirty page protocol with a CPU ---- */

static void flush_cpu(void *opaque, uint32_t paddr, uint32_t len)
{
    TestVM *vm = opaque;
    for (uint32_t off = 0; off < len; off += 4096) {
        tlb_flush_phys_page(&vm->cpu, paddr + off);
    }
}

static void flush_all(void *opaque)
{
    tlb_flush_all(&((TestVM *)opaque)->cpu);
}

/* mov dword [addr], imm32 ; hlt */
static void store_insn(TestVM *vm, uint32_t at, uint32_t addr, uint32_t value)
{
    uint8_t code[11] = {0xc7, 0x05};
    memcpy(code + 2, &addr, 4);
    memcpy(code + 6, &value, 4);
    code[10] = 0xf4;
    testvm_load(vm, at, code, sizeof(code));
}

static void run_from(TestVM *vm, uint32_t eip)
{
    vm->cpu.eip = eip;
    vm->cpu.halted = false;
    testvm_run(vm, 100);
}

START_TEST(test_dirty_pages_with_cpu)
{
    TestVM *vm = testvm_new(1u << 20);
    PCIBus *bus = pci_bus_new(&vm->io);
    VGAHooks hooks = {vm, flush_cpu, flush_all};
    VGAState *vga = vga_new(&vm->io, &vm->phys, bus, VGA_DEVFN, NULL, VGA_VRAM_DEFAULT, &hooks);
    ck_assert_ptr_nonnull(vga);
    ioport_write(&vm->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | 0x10, 4);
    ioport_write(&vm->io, 0xcfc, LFB_ADDR, 4);
    ioport_write(&vm->io, 0xcf8, 0x80000000u | (VGA_DEVFN << 8) | 0x04, 4);
    ioport_write(&vm->io, 0xcfc, 2, 4);
    static const uint16_t mode[][2] = {{1, 640}, {2, 480}, {3, 32}, {4, 0x41}};
    for (int i = 0; i < 4; i++) {
        ioport_write(&vm->io, 0x1ce, mode[i][0], 2);
        ioport_write(&vm->io, 0x1cf, mode[i][1], 2);
    }
    uint32_t line20 = LFB_ADDR + 20 * 640 * 4;
    store_insn(vm, TESTVM_CODE, line20 + 4 * 10, 0x00abcdef);
    store_insn(vm, TESTVM_CODE + 0x20, line20 + 4 * 11, 0x00fedcba);
    testvm_flat32(vm, 0, TESTVM_CODE);
    vga_update(vga);
    VGAUpdate u = vga_update(vga);
    ck_assert_int_eq(u.y0, u.y1);
    /* First store: fills a writable TLB entry and marks the page. */
    run_from(vm, TESTVM_CODE);
    u = vga_update(vga);
    ck_assert_int_le(u.y0, 20);
    ck_assert_int_gt(u.y1, 20);
    int w, h;
    const uint32_t *frame = vga_frame(vga, &w, &h);
    ck_assert_uint_eq(frame[20 * 640 + 10], 0xabcdef);
    u = vga_update(vga);
    ck_assert_int_eq(u.y0, u.y1);
    /* Second store to the same page: the frame cleared its dirty byte and
     * dropped the TLB entry, so the store misses and marks it again. */
    run_from(vm, TESTVM_CODE + 0x20);
    u = vga_update(vga);
    ck_assert_int_le(u.y0, 20);
    ck_assert_int_gt(u.y1, 20);
    frame = vga_frame(vga, &w, &h);
    ck_assert_uint_eq(frame[20 * 640 + 11], 0xfedcba);
    vga_free(vga);
    pci_bus_free(bus);
    testvm_free(vm);
}
END_TEST

START_TEST(test_unchanged_frame_reads_no_page)
{
    pci_write32(0x10, LFB_ADDR);
    pci_write32(0x04, 0x0002);
    vbe_write(1, 800);
    vbe_write(2, 600);
    vbe_write(3, 32);
    vbe_write(4, 0x41);
    vga_update(f->vga);
    int flushes = f->flushes;
    f->flushed = 0;
    VGAUpdate u = vga_update(f->vga);
    ck_assert_int_eq(u.y0, u.y1);
    ck_assert_int_eq(f->flushes, flushes); /* no dirty byte was set, none cleared */
    phys_write(&f->phys, LFB_ADDR + 300 * 800 * 4, 0xffffff, 4);
    u = vga_update(f->vga);
    ck_assert_int_eq(f->flushes, flushes + 1);
    ck_assert_uint_eq(f->flushed, 4096);
    ck_assert_int_le(u.y0, 300);
    ck_assert_int_ge(u.y1, 301);
    ck_assert_int_le(u.y1 - u.y0, 3); /* a 4 KiB page spans at most 3 lines of 3200 bytes */
}
END_TEST

static Suite *vga_suite(void)
{
    Suite *s = suite_create("vga");
    TCase *regs = tcase_create("registers");
    tcase_add_checked_fixture(regs, setup, teardown);
    tcase_add_test(regs, test_register_indexing);
    tcase_add_test(regs, test_crtc_write_protect);
    tcase_add_test(regs, test_attribute_flip_flop);
    tcase_add_test(regs, test_dac_auto_increment);
    tcase_add_test(regs, test_input_status_retrace);
    suite_add_tcase(s, regs);
    TCase *mem = tcase_create("memory");
    tcase_add_checked_fixture(mem, setup, teardown);
    tcase_add_test(mem, test_write_mode0_set_reset_bit_mask);
    tcase_add_test(mem, test_write_mode1_copies_latches);
    tcase_add_test(mem, test_write_modes_2_and_3);
    tcase_add_test(mem, test_read_modes);
    tcase_add_test(mem, test_chain4_and_odd_even);
    suite_add_tcase(s, mem);
    TCase *render = tcase_create("render");
    tcase_add_checked_fixture(render, setup, teardown);
    tcase_add_test(render, test_text_dump);
    tcase_add_test(render, test_text_render);
    tcase_add_test(render, test_text_blink);
    tcase_add_test(render, test_mode13_pixels);
    tcase_add_test(render, test_planar16_pixels);
    tcase_add_test(render, test_vbe_registers);
    tcase_add_test(render, test_vbe_lfb_pixels);
    tcase_add_test(render, test_vbe_banked_window);
    tcase_add_test(render, test_unchanged_frame_reads_no_page);
    tcase_add_test(render, test_dirty_pages_with_cpu);
    suite_add_tcase(s, render);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(vga_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
