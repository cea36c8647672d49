/*
 * The VGA through its ports and memory with no CPU (IBM VGA Technical
 * Reference): register indexing and the attribute flip-flop, the DAC's
 * auto-increment, input status timing, the read and write modes with the
 * latches, chain 4 and odd/even, and text modes: rendering from a font in
 * plane 2, cursor, blink, and the UTF-8 text dump.  Graphics and VBE modes
 * are in test_vga_vbe.c.
 */
#include "tests/unit/vga_fixture.h"

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
    ck_assert_str_eq(
        buf + n - 81,
        "                                                                               !\n");
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
    TCase *text = tcase_create("text");
    tcase_add_checked_fixture(text, setup, teardown);
    tcase_add_test(text, test_text_dump);
    tcase_add_test(text, test_text_render);
    tcase_add_test(text, test_text_blink);
    suite_add_tcase(s, text);
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
