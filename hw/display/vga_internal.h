/*
 * The VGA's state, shared by its files: registers and ports (vga.c), the
 * legacy memory window (vga_mem.c), Bochs VBE and the PCI card
 * (vga_vbe.c), the renderer (vga_render.c, vga_draw.c) and text screens
 * (vga_text.c).  Nothing outside hw/vga*.c includes this.
 */
#ifndef HW_DISPLAY_VGA_INTERNAL_H
#define HW_DISPLAY_VGA_INTERNAL_H

#include "hw/display/vga.h"

#define VGA_PAGE_SHIFT  12
#define VGA_PLANE_SLOTS 0x10000u /* 64 KiB per plane on a standard VGA */
#define VGA_LEGACY_BASE 0xa0000u
#define VGA_LEGACY_SIZE 0x20000u

/* Register indices used by name (IBM VGA Technical Reference). */
enum {
    SR_CLOCKING = 0x01, /* bit 0: 8-dot chars; bit 3: dot clock / 2; bit 5: screen off */
    SR_MAP_MASK = 0x02, /* planes CPU writes go to */
    SR_CHAR_MAP = 0x03, /* text fonts A and B */
    SR_MEM_MODE = 0x04, /* bit 2: odd/even writes off; bit 3: chain 4 */
    GR_SET_RESET = 0x00,
    GR_ENABLE_SET_RESET = 0x01,
    GR_COLOR_COMPARE = 0x02,
    GR_DATA_ROTATE = 0x03, /* bits 0-2 rotate count, bits 3-4 logical op */
    GR_READ_MAP = 0x04,
    GR_MODE = 0x05, /* bits 0-1 write mode, 3 read mode, 4 odd/even reads,
                     * 5 CGA shift, 6 256-colour shift */
    GR_MISC = 0x06, /* bit 0 graphics, bits 2-3 memory map */
    GR_COLOR_DONT_CARE = 0x07,
    GR_BIT_MASK = 0x08,
    CR_H_DISP_END = 0x01,
    CR_OVERFLOW = 0x07,
    CR_MAX_SCAN = 0x09, /* bits 0-4 scan lines per row - 1, 6 LC bit 9, 7 double scan */
    CR_CURSOR_START = 0x0a,
    CR_CURSOR_END = 0x0b,
    CR_START_HI = 0x0c,
    CR_START_LO = 0x0d,
    CR_CURSOR_HI = 0x0e,
    CR_CURSOR_LO = 0x0f,
    CR_V_RETRACE_END = 0x11, /* bit 7 protects CR0-CR7 */
    CR_V_DISP_END = 0x12,
    CR_OFFSET = 0x13,
    CR_MODE = 0x17, /* bits 0-1 CGA/Hercules bank lines, 6 byte mode */
    CR_LINE_COMPARE = 0x18,
    AR_MODE = 0x10, /* bit 2 line graphics, 3 blink, 6 8-bit pixels, 7 P5-4 select */
    AR_PLANE_ENABLE = 0x12,
    AR_COLOR_SELECT = 0x14,
};

/* Bochs VBE ("DISPI") registers, as QEMU and Bochs number them. */
enum {
    VBE_INDEX_ID = 0,
    VBE_INDEX_XRES,
    VBE_INDEX_YRES,
    VBE_INDEX_BPP,
    VBE_INDEX_ENABLE,
    VBE_INDEX_BANK,
    VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT,
    VBE_INDEX_X_OFFSET,
    VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K,
    VBE_INDEX_COUNT
};
#define VBE_ID0         0xb0c0
#define VBE_ID5         0xb0c5
#define VBE_ENABLED     0x01
#define VBE_GETCAPS     0x02
#define VBE_8BIT_DAC    0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM  0x80
#define VBE_MAX_XRES    2560
#define VBE_MAX_YRES    1600
#define VBE_MAX_BPP     32
#define VBE_PORT_INDEX  0x1ce
#define VBE_PORT_DATA   0x1cf

/* What the renderer shows, derived from the registers at each frame. */
enum VGAShow {
    VGA_SHOW_BLANK, /* screen off, palette being loaded, or no sane geometry */
    VGA_SHOW_TEXT,
    VGA_SHOW_PLANAR4, /* 16 colours, a bit per plane per pixel */
    VGA_SHOW_CGA2,    /* 4 colours, CGA interleaved shift (modes 4, 5) */
    VGA_SHOW_PACKED8, /* 256 colours, 4 pixels per address (mode 13h, mode X) */
    VGA_SHOW_VBE,     /* Bochs VBE packed/direct colour from linear memory */
};

typedef struct VGAGeometry {
    enum VGAShow show;
    int width, height;   /* frame pixels */
    uint32_t start;      /* VGA modes: first address (a slot: 4 plane bytes);
                          * VBE: first byte */
    uint32_t row_stride; /* VGA modes: slots per row; VBE: bytes per line */
    int bpp;             /* VBE: 8, 15, 16, 24, 32 */
    uint32_t slot_mask;  /* VGA modes: slot addresses wrap at this + 1 */
    int row_lines;       /* graphics: frame lines per memory row */
    int bank_lines;      /* CR17 bits 0-1: rows use banks (CGA) when row_lines > 1 */
    bool byte_mode;      /* CR17 bit 6 */
    int split_line;      /* first frame line shown from address 0 (line compare) */
    int cols, rows;      /* text: cells */
    int cell_w, cell_h;  /* text: pixels per cell */
} VGAGeometry;

/* The renderer's memory of what it drew. */
typedef struct VGARender {
    uint32_t *frame;       /* width * height XRGB pixels */
    size_t frame_cap;      /* pixels allocated */
    VGAGeometry geom;      /* what frame shows */
    uint32_t palette[256]; /* resolved colours the frame was drawn with */
    bool full;             /* redraw everything at the next update */
    uint32_t *cells;       /* text: per cell, what was drawn (see vga_text.c) */
    size_t cells_cap;
    uint8_t font[2][8192]; /* text: plane 2 glyphs of fonts A and B as drawn */
    uint64_t text_phase;   /* text: cursor place, shape and blink phases as drawn */
    int y0, y1;            /* rows changed by this update */
} VGARender;

struct VGAState {
    PhysMem *pm;
    IOPortMap *io;
    TimerList *timers; /* retrace timing and text blink */
    VGAHooks hooks;

    uint8_t *vram; /* vram_size bytes (mmap); plane p offset o at 4 * o + p */
    uint32_t vram_size;
    uint8_t *vram_dirty; /* a byte per 4 KiB page of vram, set by guest stores */
    uint32_t latch;      /* the four plane latches, plane p in bits 8p..8p+7 */

    uint8_t misc;    /* misc output (0x3C2 write, 0x3CC read) */
    uint8_t feature; /* feature control (0x3DA write, 0x3CA read) */
    uint8_t enable;  /* VGA enable (0x3C3) */
    uint8_t seq_index;
    uint8_t seq[8];
    uint8_t crtc_index;
    uint8_t crtc[0x40];
    uint8_t gc_index;
    uint8_t gc[16];
    uint8_t ac_index;  /* bits 0-4 register, bit 5 palette address source */
    bool ac_data_next; /* the attribute flip-flop: next 0x3C0 write is data */
    uint8_t ac[0x20];
    uint8_t pel_mask;    /* 0x3C6 */
    uint8_t dac[256][3]; /* 6-bit (or 8-bit with VBE_8BIT_DAC) R, G, B */
    uint8_t dac_read_index;
    uint8_t dac_write_index;
    uint8_t dac_component; /* 0-2: which of R, G, B the next data access is */
    uint8_t dac_state;     /* 0x3C7 read: 0 after a write index, 3 after a read index */
    uint8_t dac_latch[3];  /* the colour being written */

    uint16_t vbe_index;
    uint16_t vbe[VBE_INDEX_COUNT];
    uint32_t bank_offset; /* VBE bank: added to legacy window offsets */

    PCIDevice *pci;         /* NULL for an ISA card */
    int lfb_region;         /* the framebuffer BAR's phys region, -1 for none */
    uint32_t lfb_addr;      /* where BAR0 decodes, PCI_BAR_UNMAPPED when it does not */
    int legacy_region;      /* the A0000-BFFFF window's phys region */
    bool ports_claimed;     /* 0x3B0-0x3DF are ours (to give back at vga_free) */
    bool vbe_ports_claimed; /* 0x1CE-0x1CF likewise */

    VGARender r;
};

/* vga.c */
void vga_dac_reset(VGAState *s);
/* vga_mem.c */
extern const MMIOOps vga_legacy_ops;
/* vga_vbe.c */
bool vga_vbe_init(VGAState *s, PCIBus *pci, int devfn);
void vga_vbe_reset(VGAState *s);
void vga_vbe_free(VGAState *s);
/* vga_render.c: what the registers say is on screen */
void vga_geometry(const VGAState *s, VGAGeometry *g);
/* Mark vram bytes [offset, offset+len) as written by the host side. */
void vga_mark_dirty(VGAState *s, uint32_t offset, uint32_t len);
/* Clear the dirty bytes of pages [first, last] once a frame has read them,
 * and have the TLB drop the framebuffer entries of those that were set. */
void vga_clear_dirty(VGAState *s, uint32_t first, uint32_t last);
/* Whether any page of vram bytes [offset, offset+len) is dirty (no wrap). */
bool vga_range_dirty(const VGAState *s, uint32_t offset, uint32_t len);
/* A DAC entry as 0x00RRGGBB. */
uint32_t vga_dac_rgb(const VGAState *s, int index);
/* vga_text.c */
void vga_text_draw(VGAState *s, const VGAGeometry *g);
/* vga_draw.c: one frame line of a graphics mode */
void vga_draw_line(VGAState *s, const VGAGeometry *g, int y, uint32_t *out);
/* The vram bytes line y reads: [*offset, *offset + *len), split in two when
 * it wraps around a plane (*len2 bytes from *offset2); returns false when
 * the line shows nothing from memory. */
bool vga_line_span(const VGAState *s, const VGAGeometry *g, int y, uint32_t *offset, uint32_t *len,
                   uint32_t *offset2, uint32_t *len2);

#endif /* HW_DISPLAY_VGA_INTERNAL_H */
