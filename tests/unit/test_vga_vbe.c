/*
 * VGA graphics modes and the Bochs VBE interface (as QEMU implements it)
 * with no CPU: mode 13h and 16-colour planar pixels, the VBE registers, the
 * PCI identity and framebuffer BAR, packed and direct colour through the
 * linear framebuffer, the banked window, planar VBE modes; then the dirty
 * page protocol, on its own and with a real CPU storing into the
 * framebuffer through the TLB.
 */
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"
#include "tests/unit/vga_fixture.h"

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
    ck_assert_uint_eq(pci_read32(0x10), (uint32_t) - (int32_t)VGA_VRAM_DEFAULT | 0x08);
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

START_TEST(test_vbe_planar4)
{
    /* 800x600 in 16 colours (SeaBIOS's VBE mode 102h): planar through the
     * A0000h window, 100 bytes a line. */
    vbe_write(1, 800);
    vbe_write(2, 600);
    vbe_write(3, 4);
    vbe_write(4, 0x01);
    out_indexed(0x3c4, 0x02, 0x0f);
    out_indexed(0x3c4, 0x04, 0x06);
    out_indexed(0x3ce, 0x05, 0x02); /* write mode 2 */
    out_indexed(0x3ce, 0x08, 0x80); /* leftmost pixel of the byte */
    phys_read(&f->phys, 0xa0000 + 100 * 10, 1);
    phys_write(&f->phys, 0xa0000 + 100 * 10, 12, 1);
    vga_update(f->vga);
    int w, h;
    vga_frame(f->vga, &w, &h);
    ck_assert_int_eq(w, 800);
    ck_assert_int_eq(h, 600);
    ck_assert_uint_eq(frame_pixel(0, 10), 0xff5555); /* CGA colour 12: light red */
    ck_assert_uint_eq(frame_pixel(1, 10), 0);
    ck_assert_uint_eq(frame_pixel(0, 9), 0);
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

static Suite *vga_vbe_suite(void)
{
    Suite *s = suite_create("vga_vbe");
    TCase *graphics = tcase_create("graphics");
    tcase_add_checked_fixture(graphics, setup, teardown);
    tcase_add_test(graphics, test_mode13_pixels);
    tcase_add_test(graphics, test_planar16_pixels);
    suite_add_tcase(s, graphics);
    TCase *vbe = tcase_create("vbe");
    tcase_add_checked_fixture(vbe, setup, teardown);
    tcase_add_test(vbe, test_vbe_registers);
    tcase_add_test(vbe, test_vbe_lfb_pixels);
    tcase_add_test(vbe, test_vbe_banked_window);
    tcase_add_test(vbe, test_vbe_planar4);
    suite_add_tcase(s, vbe);
    TCase *dirty = tcase_create("dirty");
    tcase_add_checked_fixture(dirty, setup, teardown);
    tcase_add_test(dirty, test_unchanged_frame_reads_no_page);
    tcase_add_test(dirty, test_dirty_pages_with_cpu);
    suite_add_tcase(s, dirty);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(vga_vbe_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
