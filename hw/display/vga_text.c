/*
 * Text modes: cells drawn from the fonts in plane 2, and the screen read
 * back as UTF-8.
 *
 * A cell is a slot: the character in plane 0, its attribute in plane 1
 * (foreground in bits 0-3, background in bits 4-7, or 4-6 with bit 7
 * blinking when AR10 bit 3 is set).  Glyphs are 32 bytes apart in plane 2,
 * one byte per scan line; SR3 picks font A (attribute bit 3 set) and font
 * B among eight 8 KiB banks.  A 9-dot cell repeats the 8th column for the
 * line-drawing characters C0h-DFh when AR10 bit 2 asks for it, and is
 * background elsewhere.  The cursor covers scan lines CR0A..CR0B of the
 * cell at the cursor address, in the foreground colour; it blinks every
 * 16 frames and blinking characters every 32, as on the hardware.
 *
 * The renderer remembers, per cell, what it drew (character, attribute,
 * cursor, blink phase) and redraws only the cells whose key changed; it
 * looks at the cells at all only when a page they live in is dirty or
 * the cursor or blink phase moved on.  Fonts are compared against the
 * copy the frame was drawn with when their pages are dirty; a new glyph
 * redraws everything.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/display/vga_internal.h"

#define VGA_FRAME_NS   (31778 * 449) /* one 70 Hz frame (vga.c's timing) */
#define VGA_FONT_BYTES 8192          /* 256 glyphs of 32 bytes */
#define CELL_DRAWN     0x80000000u   /* key bit: the cell holds a drawing */
#define CELL_CURSOR    0x10000u      /* key bit: cursor shown in the cell */
#define CELL_BLINK_OFF 0x20000u      /* key bit: blinking character hidden */

/* Code page 437 as Unicode: the control range 00h-1Fh (NUL shows blank). */
static const uint16_t cp437_low[32] = {
    0x0020, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25d8, 0x25cb, 0x25d9,
    0x2642, 0x2640, 0x266a, 0x266b, 0x263c, 0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7,
    0x25ac, 0x21a8, 0x2191, 0x2193, 0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc,
};

/* ... and 7Fh-FFh. */
static const uint16_t cp437_high[129] = {
    0x2302, 0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, /* 80 */
    0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9,
    0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9, /* 90 */
    0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1,
    0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba, /* A0 */
    0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb, 0x2591,
    0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, /* B0 */
    0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510, 0x2514,
    0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, /* C0 */
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567, 0x2568,
    0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b, /* D0 */
    0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580, 0x03b1,
    0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, /* E0 */
    0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229, 0x2261,
    0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248, /* F0 */
    0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static uint32_t cp437_to_unicode(uint8_t c)
{
    if (c < 0x20) {
        return cp437_low[c];
    }
    if (c < 0x7f) {
        return c;
    }
    return cp437_high[c - 0x7f];
}

/* Plane 2 offset of font bank m (SR3's 3-bit map numbers). */
static uint32_t vga_font_offset(unsigned m)
{
    return ((m & 3u) << 14) | ((m & 4u) << 11);
}

static void vga_font_offsets(const VGAState *s, uint32_t *font_a, uint32_t *font_b)
{
    uint8_t sel = s->seq[SR_CHAR_MAP];
    *font_a = vga_font_offset((((unsigned)sel >> 5) & 1) << 2 | (((unsigned)sel >> 2) & 3));
    *font_b = vga_font_offset((((unsigned)sel >> 4) & 1) << 2 | ((unsigned)sel & 3));
}

static uint32_t vga_cell_slot(const VGAGeometry *g, int row, int col)
{
    return (g->start + (uint32_t)row * g->row_stride + (uint32_t)col) & g->slot_mask;
}

/* ---- drawing ---- */

typedef struct TextState {
    uint32_t cursor_slot;
    int cursor_first, cursor_last; /* scan lines; first > last: no cursor */
    bool cursor_on;                /* blink phase */
    bool chars_on;                 /* blink phase of blinking characters */
    bool blink;                    /* AR10 bit 3: attribute bit 7 blinks */
} TextState;

static void vga_text_state(const VGAState *s, TextState *t)
{
    int64_t now = s->timers ? timer_now(s->timers) : 0;
    int64_t frame = now / VGA_FRAME_NS;
    t->cursor_slot =
        (((uint32_t)s->crtc[CR_CURSOR_HI] << 8) | s->crtc[CR_CURSOR_LO]) & (VGA_PLANE_SLOTS - 1);
    t->cursor_first = s->crtc[CR_CURSOR_START] & 0x1f;
    t->cursor_last = s->crtc[CR_CURSOR_END] & 0x1f;
    if (s->crtc[CR_CURSOR_START] & 0x20) {
        t->cursor_first = 32; /* cursor off */
    }
    t->cursor_on = ((frame >> 3) & 1) == 0;
    t->chars_on = ((frame >> 4) & 1) == 0;
    t->blink = (s->ac[AR_MODE] & 0x08) != 0;
}

static uint32_t vga_cell_key(const TextState *t, uint32_t slot, uint8_t ch, uint8_t attr)
{
    uint32_t key = CELL_DRAWN | ch | ((uint32_t)attr << 8);
    if (slot == t->cursor_slot && t->cursor_on && t->cursor_first <= t->cursor_last) {
        key |= CELL_CURSOR;
    }
    if (t->blink && (attr & 0x80) && !t->chars_on) {
        key |= CELL_BLINK_OFF;
    }
    return key;
}

static void vga_draw_cell(VGAState *s, const VGAGeometry *g, const TextState *t, int row, int col,
                          uint32_t key)
{
    VGARender *r = &s->r;
    uint8_t ch = (uint8_t)key, attr = (uint8_t)(key >> 8);
    uint32_t fg = r->palette[attr & 0x0f];
    uint32_t bg = r->palette[(attr >> 4) & (t->blink ? 0x07 : 0x0f)];
    if (key & CELL_BLINK_OFF) {
        fg = bg;
    }
    const uint8_t *glyph = r->font[(attr & 0x08) ? 0 : 1] + ch * 32;
    bool ninth_repeats = (s->ac[AR_MODE] & 0x04) && ch >= 0xc0 && ch <= 0xdf;
    for (int line = 0; line < g->cell_h; line++) {
        uint32_t *out = r->frame + (size_t)(row * g->cell_h + line) * (size_t)g->width +
                        (size_t)col * (size_t)g->cell_w;
        uint8_t bits = line < 32 ? glyph[line] : 0;
        if ((key & CELL_CURSOR) && line >= t->cursor_first && line <= t->cursor_last) {
            bits = 0xff;
            ninth_repeats = true;
        }
        for (int x = 0; x < 8; x++) {
            out[x] = (bits & (0x80 >> x)) ? fg : bg;
        }
        if (g->cell_w == 9) {
            out[8] = (ninth_repeats && (bits & 1)) ? fg : bg;
        }
    }
}

/* Reload both fonts from plane 2; true if a glyph differs from the frame's. */
static bool vga_fonts_changed(VGAState *s)
{
    uint32_t offsets[2];
    uint8_t font[VGA_FONT_BYTES];
    bool changed = false;
    vga_font_offsets(s, &offsets[0], &offsets[1]);
    for (int f = 0; f < 2; f++) {
        for (uint32_t i = 0; i < VGA_FONT_BYTES; i++) {
            font[i] = s->vram[((offsets[f] + i) << 2) | 2];
        }
        if (memcmp(font, s->r.font[f], VGA_FONT_BYTES) != 0) {
            memcpy(s->r.font[f], font, VGA_FONT_BYTES);
            changed = true;
        }
    }
    return changed;
}

/* Whether the slots [first, first+count) (wrapping in a plane) hold a dirty
 * page; clears them if clear is set. */
static bool vga_slots_dirty(VGAState *s, uint32_t first, uint32_t count, bool clear)
{
    uint32_t end = first + count;
    uint32_t len1 = end > VGA_PLANE_SLOTS ? VGA_PLANE_SLOTS - first : count;
    uint32_t len2 = count - len1;
    bool dirty = vga_range_dirty(s, first * 4, len1 * 4) || vga_range_dirty(s, 0, len2 * 4);
    if (clear) {
        vga_clear_dirty(s, (first * 4) >> VGA_PAGE_SHIFT,
                        (first * 4 + len1 * 4 - 1) >> VGA_PAGE_SHIFT);
        if (len2) {
            vga_clear_dirty(s, 0, (len2 * 4 - 1) >> VGA_PAGE_SHIFT);
        }
    }
    return dirty;
}

void vga_load_font(VGAState *s, const uint8_t *glyphs, int height)
{
    if (height < 1 || height > 32) {
        return;
    }
    for (uint32_t ch = 0; ch < 256; ch++) {
        for (uint32_t line = 0; line < 32; line++) {
            uint32_t slot = ch * 32 + line;
            s->vram[(slot << 2) | 2] = line < (uint32_t)height ? glyphs[ch * height + line] : 0;
        }
    }
    vga_mark_dirty(s, 0, VGA_FONT_BYTES * 4);
    s->r.full = true;
}

void vga_text_draw(VGAState *s, const VGAGeometry *g)
{
    VGARender *r = &s->r;
    size_t ncells = (size_t)g->cols * (size_t)g->rows;
    if (ncells > r->cells_cap) {
        uint32_t *cells = realloc(r->cells, ncells * sizeof(uint32_t));
        if (!cells) {
            return;
        }
        r->cells = cells;
        r->cells_cap = ncells;
        r->full = true;
    }
    uint32_t font_a, font_b;
    vga_font_offsets(s, &font_a, &font_b);
    bool fonts_dirty = vga_slots_dirty(s, font_a, VGA_FONT_BYTES, false) ||
                       vga_slots_dirty(s, font_b, VGA_FONT_BYTES, false);
    if ((fonts_dirty || r->full) && vga_fonts_changed(s)) {
        r->full = true;
    }
    uint32_t text_slots = g->row_stride * (uint32_t)(g->rows - 1) + (uint32_t)g->cols;
    if (text_slots > VGA_PLANE_SLOTS) {
        text_slots = VGA_PLANE_SLOTS;
    }
    bool text_dirty = vga_slots_dirty(s, g->start, text_slots, false);
    TextState t;
    vga_text_state(s, &t);
    /* A moved or reshaped cursor, a blink phase change or a dirty page
     * needs a look at the cells; otherwise they are as drawn. */
    uint64_t phase = ((uint64_t)t.cursor_slot << 16) | ((uint64_t)t.cursor_first << 8) |
                     ((uint64_t)t.cursor_last << 3) | ((uint64_t)t.cursor_on << 2) |
                     ((uint64_t)t.chars_on << 1) | (uint64_t)t.blink;
    bool phase_changed = phase != r->text_phase;
    r->text_phase = phase;
    if (r->full) {
        memset(r->cells, 0, ncells * sizeof(uint32_t)); /* no key: CELL_DRAWN is clear */
    } else if (!text_dirty && !phase_changed && !fonts_dirty) {
        return;
    }
    for (int row = 0; row < g->rows; row++) {
        bool row_drawn = false;
        for (int col = 0; col < g->cols; col++) {
            uint32_t slot = vga_cell_slot(g, row, col);
            const uint8_t *cell = s->vram + ((size_t)slot << 2);
            uint32_t key = vga_cell_key(&t, slot, cell[0], cell[1]);
            uint32_t *drawn = &r->cells[(size_t)row * (size_t)g->cols + (size_t)col];
            if (*drawn != key) {
                vga_draw_cell(s, g, &t, row, col, key);
                *drawn = key;
                row_drawn = true;
            }
        }
        if (row_drawn) {
            if (row * g->cell_h < r->y0) {
                r->y0 = row * g->cell_h;
            }
            if ((row + 1) * g->cell_h > r->y1) {
                r->y1 = (row + 1) * g->cell_h;
            }
        }
    }
    vga_slots_dirty(s, g->start, text_slots, true);
    vga_slots_dirty(s, font_a, VGA_FONT_BYTES, true);
    vga_slots_dirty(s, font_b, VGA_FONT_BYTES, true);
}

/* ---- reading the screen ---- */

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

int vga_text_dump(const VGAState *s, char *buf, size_t len)
{
    VGAGeometry g;
    vga_geometry(s, &g);
    if (g.show != VGA_SHOW_TEXT) {
        return -1;
    }
    size_t total = 0;
    for (int row = 0; row < g.rows; row++) {
        /* Trailing blanks (space and NUL) are not part of the line. */
        int used = g.cols;
        while (used > 0) {
            uint8_t ch = s->vram[(size_t)vga_cell_slot(&g, row, used - 1) << 2];
            if (ch != ' ' && ch != 0) {
                break;
            }
            used--;
        }
        for (int col = 0; col <= used; col++) {
            char utf8[4];
            size_t n;
            if (col == used) {
                utf8[0] = '\n';
                n = 1;
            } else {
                n = utf8_encode(cp437_to_unicode(s->vram[(size_t)vga_cell_slot(&g, row, col) << 2]),
                                utf8);
            }
            for (size_t i = 0; i < n; i++, total++) {
                if (total + 1 < len) {
                    buf[total] = utf8[i];
                }
            }
        }
    }
    if (len) {
        buf[total < len ? total : len - 1] = '\0';
    }
    return (int)total;
}
