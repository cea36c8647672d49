/*
 * One frame line of a graphics mode, from video RAM to XRGB pixels.
 *
 * VGA modes address memory in slots (four plane bytes, see vga_mem.c):
 * the CRTC fetches one slot per character clock and the shift registers
 * turn it into 8 pixels (16 colours, a bit from each plane; or CGA's 4
 * colours, two bits per pixel, planes 0 then 1), or 4 pixels of 8 bits
 * (256 colours).  A line starts at the start address plus the offset
 * register's stride per row; with CR17 bits 0-1 clear (CGA and Hercules
 * compatibility) the row scan counter replaces address bits, which puts
 * odd lines in a second bank (B8000h and BA000h for CGA modes).  Past the
 * line compare the address starts again at 0 (split screen).
 *
 * VBE modes are linear: line y starts at start + y * stride bytes.
 */
#include <string.h>

#include "hw/display/vga_internal.h"

/* The first slot of frame line y of a VGA mode. */
static uint32_t vga_line_slot(const VGAGeometry *g, int y)
{
    uint32_t base = g->start;
    int line = y;
    if (y >= g->split_line) {
        base = 0;
        line = y - g->split_line;
    }
    uint32_t row = (uint32_t)(line / g->row_lines), scan = (uint32_t)(line % g->row_lines);
    uint32_t slot = base + row * g->row_stride;
    if (g->row_lines > 1) {
        /* MA13 (MA12 in word mode, where a slot is two CPU bytes) and the
         * bit above take the row scan counter's bits 0 and 1. */
        int bit = 12 + (g->byte_mode ? 1 : 0);
        if (!(g->bank_lines & 1)) {
            slot = (slot & ~(1u << bit)) | ((scan & 1) << bit);
        }
        if (!(g->bank_lines & 2)) {
            slot = (slot & ~(2u << bit)) | ((scan & 2) << bit);
        }
    }
    return slot & g->slot_mask;
}

static uint32_t vga_line_slots(const VGAGeometry *g)
{
    return (uint32_t)g->width / (g->show == VGA_SHOW_PACKED8 ? 4 : 8);
}

bool vga_line_span(const VGAState *s, const VGAGeometry *g, int y, uint32_t *offset, uint32_t *len,
                   uint32_t *offset2, uint32_t *len2)
{
    *offset2 = *len2 = 0;
    if (g->show == VGA_SHOW_VBE) {
        uint64_t first = g->start + (uint64_t)y * g->row_stride;
        uint64_t bytes = (uint64_t)g->width * (((uint32_t)g->bpp + 7) / 8);
        if (first + bytes > s->vram_size) {
            return false;
        }
        *offset = (uint32_t)first;
        *len = (uint32_t)bytes;
        return true;
    }
    uint32_t slot = vga_line_slot(g, y);
    uint32_t slots = vga_line_slots(g);
    uint32_t wrap = g->slot_mask + 1;
    if ((uint64_t)wrap * 4 > s->vram_size) {
        return false;
    }
    uint32_t before_wrap = wrap - slot;
    if (slots > before_wrap) {
        *offset2 = 0;
        *len2 = (slots - before_wrap) * 4;
        slots = before_wrap;
    }
    *offset = slot * 4;
    *len = slots * 4;
    return true;
}

static void vga_draw_planar4(const VGAState *s, const VGAGeometry *g, uint32_t slot, uint32_t *out)
{
    const uint32_t *pal = s->r.palette;
    uint32_t slots = vga_line_slots(g);
    for (uint32_t i = 0; i < slots; i++) {
        const uint8_t *p = s->vram + (((slot + i) & g->slot_mask) << 2);
        for (int bit = 7; bit >= 0; bit--) {
            unsigned index = ((p[0] >> bit) & 1) | (((p[1] >> bit) & 1) << 1) |
                             (((p[2] >> bit) & 1) << 2) | (((p[3] >> bit) & 1) << 3);
            *out++ = pal[index];
        }
    }
}

/* CGA 4-colour shift: four 2-bit pixels from plane 0 (bits 2-3 of the
 * colour from plane 2), then four from plane 1 (and 3). */
static void vga_draw_cga2(const VGAState *s, const VGAGeometry *g, uint32_t slot, uint32_t *out)
{
    const uint32_t *pal = s->r.palette;
    uint32_t slots = vga_line_slots(g);
    for (uint32_t i = 0; i < slots; i++) {
        const uint8_t *p = s->vram + (((slot + i) & g->slot_mask) << 2);
        for (int half = 0; half < 2; half++) {
            uint8_t lo = p[half], hi = p[half + 2];
            for (int shift = 6; shift >= 0; shift -= 2) {
                *out++ = pal[((lo >> shift) & 3) | (((hi >> shift) & 3) << 2)];
            }
        }
    }
}

static void vga_draw_packed8(const VGAState *s, const VGAGeometry *g, uint32_t slot, uint32_t *out)
{
    const uint32_t *pal = s->r.palette;
    uint32_t slots = vga_line_slots(g);
    for (uint32_t i = 0; i < slots; i++) {
        const uint8_t *p = s->vram + (((slot + i) & g->slot_mask) << 2);
        for (int k = 0; k < 4; k++) {
            *out++ = pal[p[k]];
        }
    }
}

static uint32_t vga_rgb555(uint32_t v)
{
    uint32_t r = (v >> 10) & 0x1f, g = (v >> 5) & 0x1f, b = v & 0x1f;
    return (((r << 3) | (r >> 2)) << 16) | (((g << 3) | (g >> 2)) << 8) | ((b << 3) | (b >> 2));
}

static uint32_t vga_rgb565(uint32_t v)
{
    uint32_t r = (v >> 11) & 0x1f, g = (v >> 5) & 0x3f, b = v & 0x1f;
    return (((r << 3) | (r >> 2)) << 16) | (((g << 2) | (g >> 4)) << 8) | ((b << 3) | (b >> 2));
}

/* VBE packed and direct colour: little-endian pixels, blue in the low bits. */
static void vga_draw_vbe(const VGAState *s, const VGAGeometry *g, uint32_t offset, uint32_t *out)
{
    const uint8_t *p = s->vram + offset;
    for (int x = 0; x < g->width; x++) {
        switch (g->bpp) {
        case 8: out[x] = s->r.palette[p[x]]; break;
        case 15: out[x] = vga_rgb555((uint32_t)p[2 * x] | ((uint32_t)p[2 * x + 1] << 8)); break;
        case 16: out[x] = vga_rgb565((uint32_t)p[2 * x] | ((uint32_t)p[2 * x + 1] << 8)); break;
        case 24:
            out[x] =
                (uint32_t)p[3 * x] | ((uint32_t)p[3 * x + 1] << 8) | ((uint32_t)p[3 * x + 2] << 16);
            break;
        default:
            out[x] =
                (uint32_t)p[4 * x] | ((uint32_t)p[4 * x + 1] << 8) | ((uint32_t)p[4 * x + 2] << 16);
            break;
        }
    }
}

void vga_draw_line(VGAState *s, const VGAGeometry *g, int y, uint32_t *out)
{
    if (g->show == VGA_SHOW_VBE) {
        vga_draw_vbe(s, g, g->start + (uint32_t)y * g->row_stride, out);
        return;
    }
    uint32_t slot = vga_line_slot(g, y);
    switch (g->show) {
    case VGA_SHOW_CGA2: vga_draw_cga2(s, g, slot, out); break;
    case VGA_SHOW_PACKED8: vga_draw_packed8(s, g, slot, out); break;
    default: vga_draw_planar4(s, g, slot, out); break;
    }
}
