/*
 * Standard VGA with the Bochs VBE extension, as QEMU's "stdvga" PCI card
 * (1234:1111, class 0300): what SeaBIOS's vgabios-stdvga.bin and Linux's
 * vgacon, vesafb and bochs-drm drive.
 *
 * Guest interface:
 *   ports 0x3B0-0x3DF  sequencer, CRTC, graphics and attribute controllers,
 *                      DAC, misc output, input status (hw/display/vga.c)
 *   A0000-BFFFF        the legacy window onto the four planes, decoded as
 *                      the graphics controller's memory map select says
 *                      (hw/display/vga_mem.c)
 *   ports 0x1CE/0x1CF  Bochs VBE ("DISPI") index and data (hw/display/vga_vbe.c)
 *   PCI BAR0           the linear framebuffer: all of video RAM, mapped as
 *                      VRAM the CPU writes directly (softmmu/phys.h)
 *
 * Host interface: vga_update() brings a 32-bit XRGB frame of the current
 * mode up to date, reading only the video pages written since the last
 * call (hw/display/vga_render.c), and vga_text_dump() reads a text screen as UTF-8
 * (hw/display/vga_text.c).
 */
#ifndef HW_DISPLAY_VGA_H
#define HW_DISPLAY_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci/pci.h"
#include "hw/core/timer.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

#define VGA_VRAM_DEFAULT (16u << 20) /* QEMU's default vgamem_mb=16 */
#define VGA_PCI_VENDOR   0x1234
#define VGA_PCI_DEVICE   0x1111

typedef struct VGAState VGAState;

/* What the VGA asks of the machine; any callback may be NULL (unit tests). */
typedef struct VGAHooks {
    void *opaque;
    /* Guest stores to [paddr, paddr+len) must miss the TLB again, because
     * the dirty bytes of those video pages were cleared. */
    void (*flush_phys)(void *opaque, uint32_t paddr, uint32_t len);
    /* The physical map changed (the framebuffer BAR moved): drop every
     * TLB entry. */
    void (*map_changed)(void *opaque);
} VGAHooks;

/*
 * A VGA with vram_size bytes of video RAM (a power of two, 1 to 256 MiB).
 * pci may be NULL for an ISA card with no linear framebuffer.  Returns
 * NULL when out of memory or out of physical map regions.
 */
VGAState *vga_new(IOPortMap *io, PhysMem *pm, PCIBus *pci, int devfn, TimerList *timers,
                  uint32_t vram_size, const VGAHooks *hooks);
void vga_free(VGAState *s);
/* Power-on state: registers as a PC BIOS leaves them for mode 3 (80x25
 * colour text at B8000), VBE off, video RAM kept. */
void vga_reset(VGAState *s);
/* Saved state: section "vga" (hw/display/vga_vmstate.c, migration/vmstate.h). */
extern const struct VMStateDesc vga_vmstate;

/* ---- display ---- */

/* Which rows of the frame changed since the previous vga_update(). */
typedef struct VGAUpdate {
    bool resized; /* width or height changed: everything is new */
    int y0, y1;   /* changed rows [y0, y1); y0 == y1 when nothing changed */
} VGAUpdate;

/* Render what changed into the frame; returns the changed rows. */
VGAUpdate vga_update(VGAState *s);
/* Redraw everything at the next vga_update() (the host lost its copy). */
void vga_invalidate(VGAState *s);
/* The frame as of the last vga_update(): width * height pixels, 0x00RRGGBB,
 * row after row with no padding.  Valid until the next vga_update(). */
const uint32_t *vga_frame(const VGAState *s, int *width, int *height);

/*
 * Load a character set into font bank 0 of plane 2, as the VGA BIOS does
 * at mode set (INT 10h AX=1104h): 256 glyphs of height bytes each (1 to
 * 32), one byte per scan line.  For loaders that set up text mode with no
 * VGA BIOS (direct kernel boot).
 */
void vga_load_font(VGAState *s, const uint8_t *glyphs, int height);

/*
 * The text on screen as UTF-8 (code page 437 mapped to Unicode), one line
 * per row with trailing blanks dropped, each ending in '\n'.  Returns the
 * length written (snprintf rules: the length needed, buf may be too
 * small), or -1 when the display is not in a text mode.
 */
int vga_text_dump(const VGAState *s, char *buf, size_t len);

/* ---- access for tests and the debugger ---- */

/* Video RAM as stored: byte p of plane p's offset o is at 4 * o + p
 * (hw/display/vga_mem.c explains the layout). */
uint8_t *vga_vram(VGAState *s, uint32_t *size);

#endif /* HW_DISPLAY_VGA_H */
