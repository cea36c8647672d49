/*
 * The Bochs VBE extension ("DISPI", as Bochs and QEMU define it) and the
 * PCI side of the card.
 *
 * Ports 0x1CE (index) and 0x1CF (data) reach sixteen-bit registers: ID
 * (0xB0C0-0xB0C5, the interface version), XRES, YRES, BPP (4, 8, 15, 16,
 * 24, 32), ENABLE, BANK (64 KiB window at A0000h), VIRT_WIDTH and
 * VIRT_HEIGHT (the virtual screen), X_OFFSET and Y_OFFSET (the displayed
 * part of it) and VIDEO_MEMORY_64K.  ENABLE bits: ENABLED, GETCAPS (XRES,
 * YRES and BPP then read their maxima), 8BIT_DAC, LFB_ENABLED and
 * NOCLEARMEM.  Enabling a mode clears the screen unless NOCLEARMEM says
 * not to, resets the virtual screen to XRES wide, and programs the VGA
 * registers so the A0000h window reaches the banked memory linearly
 * (chain 4) and old VGA code sees a graphics mode of that size.
 *
 * The PCI function is QEMU's stdvga: 1234:1111, class 0300, subsystem
 * 1AF4:1100, BAR0 the prefetchable framebuffer of all video RAM.  BAR0 is
 * a PHYS_VRAM region over the same buffer as the planes, so guests store
 * into it at RAM speed while the dirty bytes still tell the renderer
 * which pages changed.
 */
#include <string.h>

#include "hw/display/vga_internal.h"

#define VGA_PCI_REVISION 2

/* Bytes one line of width pixels takes at bpp (4 bpp: planar slots). */
static uint32_t vbe_line_bytes(int bpp, uint32_t width)
{
    return bpp == 4 ? width / 2 : width * (((uint32_t)bpp + 7) / 8);
}

/* Make old VGA code see the VBE mode, and the A0000h window reach it. */
static void vbe_set_vga_registers(VGAState *s, uint32_t line_bytes)
{
    uint32_t xres = s->vbe[VBE_INDEX_XRES], yres = s->vbe[VBE_INDEX_YRES];
    uint32_t last_line = yres ? yres - 1 : 0;
    /* Graphics, A0000h-AFFFFh (where the bank register applies). */
    s->gc[GR_MISC] = (uint8_t)((s->gc[GR_MISC] & ~0x0c) | 0x05);
    s->crtc[CR_MODE] |= 3; /* no CGA banks */
    s->crtc[CR_OFFSET] = (uint8_t)(line_bytes >> 3);
    s->crtc[CR_H_DISP_END] = (uint8_t)((xres >> 3) - 1);
    s->crtc[CR_V_DISP_END] = (uint8_t)last_line;
    s->crtc[CR_OVERFLOW] = (uint8_t)((s->crtc[CR_OVERFLOW] & ~0x42) | ((last_line >> 7) & 0x02) |
                                     ((last_line >> 3) & 0x40));
    /* Line compare at its maximum: no split screen. */
    s->crtc[CR_LINE_COMPARE] = 0xff;
    s->crtc[CR_OVERFLOW] |= 0x10;
    s->crtc[CR_MAX_SCAN] = (uint8_t)((s->crtc[CR_MAX_SCAN] & ~0x9f) | 0x40);
    if (s->vbe[VBE_INDEX_BPP] == 4) {
        s->gc[GR_MODE] &= (uint8_t)~0x60;
        s->seq[SR_CLOCKING] &= (uint8_t)~0x08;
    } else {
        s->seq[SR_MEM_MODE] |= 0x08;
        s->seq[SR_MAP_MASK] |= 0x0f;
        s->gc[GR_MODE] = (uint8_t)((s->gc[GR_MODE] & ~0x60) | 0x40);
    }
}

static void vbe_write_enable(VGAState *s, uint16_t value)
{
    bool was_enabled = (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED) != 0;
    if ((value & VBE_ENABLED) && !was_enabled) {
        int bpp = s->vbe[VBE_INDEX_BPP] ? s->vbe[VBE_INDEX_BPP] : 8;
        uint32_t line = vbe_line_bytes(bpp, s->vbe[VBE_INDEX_XRES]);
        uint32_t virt_height = line ? s->vram_size / line : 0;
        s->vbe[VBE_INDEX_BPP] = (uint16_t)bpp;
        s->vbe[VBE_INDEX_VIRT_WIDTH] = s->vbe[VBE_INDEX_XRES];
        s->vbe[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)(virt_height > 0xffff ? 0xffff : virt_height);
        s->vbe[VBE_INDEX_X_OFFSET] = 0;
        s->vbe[VBE_INDEX_Y_OFFSET] = 0;
        if (!(value & VBE_NOCLEARMEM)) {
            uint64_t bytes = (uint64_t)line * s->vbe[VBE_INDEX_YRES];
            uint32_t clear = bytes < s->vram_size ? (uint32_t)bytes : s->vram_size;
            memset(s->vram, 0, clear);
            vga_mark_dirty(s, 0, clear);
        }
        vbe_set_vga_registers(s, line);
    } else if (!(value & VBE_ENABLED)) {
        s->bank_offset = 0;
    }
    s->vbe[VBE_INDEX_ENABLE] = value;
}

/* A virtual screen must hold the mode and fit in video RAM. */
static void vbe_write_virt_width(VGAState *s, uint16_t width)
{
    uint32_t line = vbe_line_bytes(s->vbe[VBE_INDEX_BPP] ? s->vbe[VBE_INDEX_BPP] : 8, width);
    if (width < s->vbe[VBE_INDEX_XRES] || line == 0 ||
        s->vram_size / line < s->vbe[VBE_INDEX_YRES]) {
        return;
    }
    uint32_t virt_height = s->vram_size / line;
    s->vbe[VBE_INDEX_VIRT_WIDTH] = width;
    s->vbe[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)(virt_height > 0xffff ? 0xffff : virt_height);
}

static void vbe_write_register(VGAState *s, int index, uint16_t value)
{
    switch (index) {
    case VBE_INDEX_ID:
        if (value >= VBE_ID0 && value <= VBE_ID5) {
            s->vbe[index] = value;
        }
        break;
    case VBE_INDEX_XRES:
        if (value <= VBE_MAX_XRES) {
            s->vbe[index] = value;
        }
        break;
    case VBE_INDEX_YRES:
        if (value <= VBE_MAX_YRES) {
            s->vbe[index] = value;
        }
        break;
    case VBE_INDEX_BPP:
        if (value == 0) {
            value = 8;
        }
        if (value == 4 || value == 8 || value == 15 || value == 16 || value == 24 || value == 32) {
            s->vbe[index] = value;
        }
        break;
    case VBE_INDEX_ENABLE: vbe_write_enable(s, value); break;
    case VBE_INDEX_BANK:
        value &= (uint16_t)((s->vram_size >> 16) - 1);
        s->vbe[index] = value;
        s->bank_offset = (uint32_t)value << 16;
        break;
    case VBE_INDEX_VIRT_WIDTH: vbe_write_virt_width(s, value); break;
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET: s->vbe[index] = value; break;
    default: break; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are computed */
    }
}

static uint16_t vbe_read_register(const VGAState *s, int index)
{
    if (index >= VBE_INDEX_COUNT) {
        return 0;
    }
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
        switch (index) {
        case VBE_INDEX_XRES: return VBE_MAX_XRES;
        case VBE_INDEX_YRES: return VBE_MAX_YRES;
        case VBE_INDEX_BPP: return VBE_MAX_BPP;
        default: break;
        }
    }
    return s->vbe[index];
}

static uint32_t vbe_port_read(void *opaque, uint16_t port, int size)
{
    VGAState *s = opaque;
    return port == VBE_PORT_INDEX ? s->vbe_index : vbe_read_register(s, s->vbe_index);
}

static void vbe_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    VGAState *s = opaque;
    if (port == VBE_PORT_INDEX) {
        s->vbe_index = (uint16_t)value;
    } else {
        vbe_write_register(s, s->vbe_index, (uint16_t)value);
    }
}

void vga_vbe_reset(VGAState *s)
{
    memset(s->vbe, 0, sizeof(s->vbe));
    s->vbe_index = 0;
    s->vbe[VBE_INDEX_ID] = VBE_ID5;
    s->vbe[VBE_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(s->vram_size >> 16);
    s->bank_offset = 0;
}

/* BAR0 moved or was switched off: the framebuffer region follows. */
static void vga_bar_map(void *opaque, int bar, uint32_t addr)
{
    VGAState *s = opaque;
    if (addr == PCI_BAR_UNMAPPED) {
        phys_region_enable(s->pm, s->lfb_region, false);
    } else {
        phys_region_move(s->pm, s->lfb_region, addr);
        phys_region_enable(s->pm, s->lfb_region, true);
    }
    s->lfb_addr = addr;
    if (s->hooks.map_changed) {
        s->hooks.map_changed(s->hooks.opaque);
    }
}

bool vga_vbe_init(VGAState *s, PCIBus *pci, int devfn)
{
    if (ioport_register(s->io, VBE_PORT_INDEX, 2, 1 | 2, vbe_port_read, vbe_port_write, s) < 0) {
        return false;
    }
    s->vbe_ports_claimed = true;
    if (!pci) {
        return true;
    }
    s->pci = pci_register_device(pci, devfn, VGA_PCI_VENDOR, VGA_PCI_DEVICE, 0x03, 0x00, 0x00,
                                 VGA_PCI_REVISION, 0);
    if (!s->pci) {
        return false;
    }
    pci_config_set(s->pci, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4, 2);
    pci_config_set(s->pci, PCI_SUBSYSTEM_ID, 0x1100, 2);
    /* The region exists from the start, switched off until BAR0 decodes. */
    s->lfb_region = phys_map_vram(s->pm, 0, s->vram_size, s->vram, s->vram_dirty, 0);
    if (s->lfb_region < 0) {
        return false;
    }
    phys_region_enable(s->pm, s->lfb_region, false);
    pci_register_bar(s->pci, 0, s->vram_size, false, vga_bar_map, s);
    pci_config_set(s->pci, PCI_BASE_ADDRESS_0, 0x08, 1); /* prefetchable, as QEMU's */
    return true;
}

void vga_vbe_free(VGAState *s)
{
    if (s->vbe_ports_claimed) {
        ioport_unregister(s->io, VBE_PORT_INDEX, 2);
    }
    if (s->lfb_region >= 0) {
        phys_region_enable(s->pm, s->lfb_region, false);
    }
    if (s->pci) {
        /* The bus outlives the card's state: forget the map callback. */
        pci_register_bar(s->pci, 0, s->vram_size, false, NULL, NULL);
    }
}
