/*
 * The renderer: from the registers, what the screen shows (the geometry),
 * and a 32-bit frame of it that is redrawn only where video memory, the
 * palette or the geometry changed.
 *
 * Dirty tracking.  Video RAM has a dirty byte per 4 KiB page
 * (VGAState.vram_dirty).  Three kinds of store set it:
 *   - the legacy window (vga_mem.c), which is MMIO: every store is seen;
 *   - the framebuffer BAR, a PHYS_VRAM region (softmmu/phys.h): stores the
 *     softmmu handles itself mark the page, and the TLB marks it when it
 *     hands out a writable entry, after which stores go straight to the
 *     host buffer unseen;
 *   - the card itself (VBE clearing the screen).
 * A frame redraws the lines whose bytes lie in a dirty page, then clears
 * the bytes of the pages it looked at and asks the machine (hooks.
 * flush_phys) to drop the TLB entries of the framebuffer pages it cleared,
 * so the next guest store into such a page misses the TLB and marks it
 * again.  A page nobody writes costs nothing after that: no scan of video
 * RAM, no fault, no copy.  Anything else that changes the picture (mode,
 * start address, palette, fonts, cursor, blink) forces a full redraw or,
 * in text modes, a redraw of the cells it affects.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/display/vga_internal.h"

#define VGA_MAX_WIDTH  4096
#define VGA_MAX_HEIGHT 4096
#define VGA_BLANK_W    640 /* the frame size while nothing was ever shown */
#define VGA_BLANK_H    480

/* ---- dirty pages ---- */

void vga_mark_dirty(VGAState *s, uint32_t offset, uint32_t len)
{
    if (len == 0 || offset >= s->vram_size) {
        return;
    }
    uint32_t last = offset + len - 1 < s->vram_size ? offset + len - 1 : s->vram_size - 1;
    memset(s->vram_dirty + (offset >> VGA_PAGE_SHIFT), 1,
           (last >> VGA_PAGE_SHIFT) - (offset >> VGA_PAGE_SHIFT) + 1);
}

bool vga_range_dirty(const VGAState *s, uint32_t offset, uint32_t len)
{
    if (len == 0 || offset >= s->vram_size) {
        return false;
    }
    uint32_t last = offset + len - 1 < s->vram_size ? offset + len - 1 : s->vram_size - 1;
    for (uint32_t page = offset >> VGA_PAGE_SHIFT; page <= last >> VGA_PAGE_SHIFT; page++) {
        if (s->vram_dirty[page]) {
            return true;
        }
    }
    return false;
}

/* Tell the machine that framebuffer pages [first, first+count) take TLB
 * misses again (their dirty bytes were cleared). */
static void vga_flush_pages(VGAState *s, uint32_t first, uint32_t count)
{
    if (count && s->lfb_addr != PCI_BAR_UNMAPPED && s->hooks.flush_phys) {
        s->hooks.flush_phys(s->hooks.opaque, s->lfb_addr + (first << VGA_PAGE_SHIFT),
                            count << VGA_PAGE_SHIFT);
    }
}

void vga_clear_dirty(VGAState *s, uint32_t first, uint32_t last)
{
    uint32_t npages = s->vram_size >> VGA_PAGE_SHIFT;
    uint32_t run_start = 0, run = 0;
    for (uint32_t page = first; page <= last && page < npages; page++) {
        if (s->vram_dirty[page]) {
            s->vram_dirty[page] = 0;
            run_start = run ? run_start : page;
            run++;
        } else if (run) {
            vga_flush_pages(s, run_start, run);
            run = 0;
        }
    }
    vga_flush_pages(s, run_start, run);
}

/* ---- geometry ---- */

static void vga_vbe_geometry(const VGAState *s, VGAGeometry *g)
{
    int bpp = s->vbe[VBE_INDEX_BPP];
    uint32_t virt = s->vbe[VBE_INDEX_VIRT_WIDTH];
    uint32_t xres = s->vbe[VBE_INDEX_XRES];
    if (virt < xres) {
        virt = xres;
    }
    g->width = (int)xres;
    g->height = s->vbe[VBE_INDEX_YRES];
    g->split_line = g->height;
    g->row_lines = 1;
    g->bank_lines = 3;
    if (bpp == 4) {
        /* Planar VBE modes (SeaBIOS's 102h, 104h): slots of 8 pixels. */
        g->show = VGA_SHOW_PLANAR4;
        g->row_stride = virt / 8;
        g->start = s->vbe[VBE_INDEX_Y_OFFSET] * g->row_stride + s->vbe[VBE_INDEX_X_OFFSET] / 8;
        g->slot_mask = (s->vram_size >> 2) - 1;
        return;
    }
    uint32_t bytes_pp = ((uint32_t)bpp + 7) / 8;
    g->show = VGA_SHOW_VBE;
    g->bpp = bpp;
    g->row_stride = virt * bytes_pp;
    g->start = s->vbe[VBE_INDEX_Y_OFFSET] * g->row_stride + s->vbe[VBE_INDEX_X_OFFSET] * bytes_pp;
}

static void vga_text_geometry(const VGAState *s, VGAGeometry *g, int lines, int clocks)
{
    g->show = VGA_SHOW_TEXT;
    g->cell_w = (s->seq[SR_CLOCKING] & 0x01) ? 8 : 9;
    g->cell_h = (s->crtc[CR_MAX_SCAN] & 0x1f) + 1;
    g->cols = clocks;
    g->rows = lines / g->cell_h;
    g->width = g->cols * g->cell_w;
    g->height = g->rows * g->cell_h;
}

void vga_geometry(const VGAState *s, VGAGeometry *g)
{
    memset(g, 0, sizeof(*g));
    g->show = VGA_SHOW_BLANK;
    /* Screen off (SR1 bit 5), or the palette is being loaded (AR index
     * bit 5 clear): the monitor shows black. */
    if ((s->seq[SR_CLOCKING] & 0x20) || !(s->ac_index & 0x20)) {
        return;
    }
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED) {
        vga_vbe_geometry(s, g);
    } else {
        const uint8_t *cr = s->crtc;
        int lines = cr[CR_V_DISP_END] + ((cr[CR_OVERFLOW] & 0x02) << 7) +
                    ((cr[CR_OVERFLOW] & 0x40) << 3) + 1;
        int line_compare =
            cr[CR_LINE_COMPARE] + ((cr[CR_OVERFLOW] & 0x10) << 4) + ((cr[CR_MAX_SCAN] & 0x40) << 3);
        int scan_div = (cr[CR_MAX_SCAN] & 0x80) ? 2 : 1; /* double scanning */
        int clocks = cr[CR_H_DISP_END] + 1;
        int row_lines = (cr[CR_MAX_SCAN] & 0x1f) + 1;
        lines /= scan_div;
        g->start = ((uint32_t)cr[CR_START_HI] << 8) | cr[CR_START_LO];
        g->row_stride = (uint32_t)cr[CR_OFFSET] * 2;
        g->slot_mask = VGA_PLANE_SLOTS - 1;
        if (!(s->gc[GR_MISC] & 0x01)) {
            vga_text_geometry(s, g, lines, clocks);
        } else {
            g->show = (s->gc[GR_MODE] & 0x40)   ? VGA_SHOW_PACKED8
                      : (s->gc[GR_MODE] & 0x20) ? VGA_SHOW_CGA2
                                                : VGA_SHOW_PLANAR4;
            g->width = clocks * (g->show == VGA_SHOW_PACKED8 ? 4 : 8);
            g->bank_lines = cr[CR_MODE] & 3;
            g->byte_mode = (cr[CR_MODE] & 0x40) != 0;
            /* Without CGA banks the lines of a row repeat: show each once. */
            int line_div = g->bank_lines == 3 ? row_lines : 1;
            g->row_lines = g->bank_lines == 3 ? 1 : row_lines;
            g->height = lines / line_div;
            g->split_line = (line_compare + 1) / scan_div / line_div;
        }
    }
    if (g->width <= 0 || g->height <= 0 || g->width > VGA_MAX_WIDTH || g->height > VGA_MAX_HEIGHT) {
        memset(g, 0, sizeof(*g));
        g->show = VGA_SHOW_BLANK;
    }
    if (g->split_line > g->height || g->split_line <= 0) {
        g->split_line = g->height;
    }
}

/* ---- palette ---- */

uint32_t vga_dac_rgb(const VGAState *s, int index)
{
    const uint8_t *c = s->dac[index & 0xff];
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) {
        return ((uint32_t)c[0] << 16) | ((uint32_t)c[1] << 8) | c[2];
    }
    uint32_t rgb = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t v = c[i] & 0x3f;
        rgb = (rgb << 8) | (v << 2) | (v >> 4);
    }
    return rgb;
}

/*
 * The colours the frame's pixel values stand for.  16-colour modes go
 * through the attribute controller: colour plane enable, the palette
 * register, then bits 4-5 (with AR10 bit 7) and 6-7 from the colour
 * select register form the DAC index.  256-colour and VBE 8-bit pixels
 * index the DAC directly.
 */
static void vga_resolve_palette(const VGAState *s, const VGAGeometry *g, uint32_t pal[256])
{
    memset(pal, 0, 256 * sizeof(uint32_t));
    if (g->show == VGA_SHOW_PACKED8 || (g->show == VGA_SHOW_VBE && g->bpp == 8)) {
        for (int i = 0; i < 256; i++) {
            pal[i] = vga_dac_rgb(s, i & s->pel_mask);
        }
        return;
    }
    if (g->show == VGA_SHOW_VBE || g->show == VGA_SHOW_BLANK) {
        return;
    }
    for (int i = 0; i < 16; i++) {
        uint8_t v = s->ac[i & s->ac[AR_PLANE_ENABLE] & 0x0f] & 0x3f;
        if (s->ac[AR_MODE] & 0x80) {
            v = (uint8_t)((v & 0x0f) | ((s->ac[AR_COLOR_SELECT] & 0x03) << 4));
        }
        v |= (uint8_t)((s->ac[AR_COLOR_SELECT] & 0x0c) << 4);
        pal[i] = vga_dac_rgb(s, v & s->pel_mask);
    }
}

/* ---- frame ---- */

static void vga_mark_rows(VGARender *r, int y0, int y1)
{
    if (y0 < r->y0) {
        r->y0 = y0;
    }
    if (y1 > r->y1) {
        r->y1 = y1;
    }
}

static void vga_draw_graphics(VGAState *s, const VGAGeometry *g)
{
    VGARender *r = &s->r;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int y = 0; y < g->height; y++) {
        uint32_t off, len, off2, len2;
        uint32_t *row = r->frame + (size_t)y * (size_t)g->width;
        bool in_vram = vga_line_span(s, g, y, &off, &len, &off2, &len2);
        bool redraw = r->full;
        if (in_vram) {
            redraw = redraw || vga_range_dirty(s, off, len) || vga_range_dirty(s, off2, len2);
            lo = off < lo ? off : lo;
            hi = off + len - 1 > hi ? off + len - 1 : hi;
            if (len2) {
                lo = off2 < lo ? off2 : lo;
                hi = off2 + len2 - 1 > hi ? off2 + len2 - 1 : hi;
            }
        }
        if (!redraw) {
            continue;
        }
        if (in_vram) {
            vga_draw_line(s, g, y, row);
        } else {
            memset(row, 0, (size_t)g->width * sizeof(uint32_t));
        }
        vga_mark_rows(r, y, y + 1);
    }
    if (lo <= hi) {
        vga_clear_dirty(s, lo >> VGA_PAGE_SHIFT, hi >> VGA_PAGE_SHIFT);
    }
}

/* Make the frame hold width x height pixels; false if out of memory. */
static bool vga_frame_resize(VGARender *r, int width, int height)
{
    size_t need = (size_t)width * (size_t)height;
    if (need > r->frame_cap) {
        uint32_t *frame = realloc(r->frame, need * sizeof(uint32_t));
        if (!frame) {
            return false;
        }
        r->frame = frame;
        r->frame_cap = need;
    }
    memset(r->frame, 0, need * sizeof(uint32_t));
    return true;
}

VGAUpdate vga_update(VGAState *s)
{
    VGARender *r = &s->r;
    VGAUpdate u = {false, 0, 0};
    VGAGeometry g;
    vga_geometry(s, &g);
    if (g.show == VGA_SHOW_BLANK) {
        /* Black at the size last shown, so a blanked mode switch keeps the window. */
        g.width = r->geom.width ? r->geom.width : VGA_BLANK_W;
        g.height = r->geom.height ? r->geom.height : VGA_BLANK_H;
    }
    if (g.width != r->geom.width || g.height != r->geom.height || !r->frame) {
        if (!vga_frame_resize(r, g.width, g.height)) {
            return u;
        }
        u.resized = true;
        r->full = true;
    }
    if (memcmp(&g, &r->geom, sizeof(g)) != 0) {
        r->full = true;
    }
    uint32_t pal[256];
    vga_resolve_palette(s, &g, pal);
    if (memcmp(pal, r->palette, sizeof(pal)) != 0) {
        memcpy(r->palette, pal, sizeof(pal));
        r->full = true;
    }
    r->y0 = g.height;
    r->y1 = 0;
    if (g.show == VGA_SHOW_BLANK) {
        if (r->full) {
            memset(r->frame, 0, (size_t)g.width * (size_t)g.height * sizeof(uint32_t));
            vga_mark_rows(r, 0, g.height);
        }
    } else if (g.show == VGA_SHOW_TEXT) {
        vga_text_draw(s, &g);
    } else {
        vga_draw_graphics(s, &g);
    }
    r->geom = g;
    r->full = false;
    if (r->y0 < r->y1) {
        u.y0 = r->y0;
        u.y1 = r->y1;
    }
    return u;
}

void vga_invalidate(VGAState *s)
{
    s->r.full = true;
}

const uint32_t *vga_frame(const VGAState *s, int *width, int *height)
{
    *width = s->r.geom.width;
    *height = s->r.geom.height;
    return s->r.frame;
}
