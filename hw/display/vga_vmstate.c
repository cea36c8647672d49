/*
 * The VGA's saved state ("vga"): registers, palette, Bochs VBE and video
 * RAM (as pages: zlib, zero pages skipped).  Where BAR0 decodes follows
 * from the restored configuration space (the "pci" section).  After a
 * load the whole screen is drawn again.  The VBE registers a guest can
 * only write through checks are checked the same way here, so a state
 * file cannot describe a mode the renderer was never meant to see.
 */
#include <string.h>

#include "hw/display/vga_internal.h"
#include "migration/vmstate.h"

static void vga_save_vram(VMWriter *w, void *opaque)
{
    VGAState *s = opaque;
    vm_put_pages(w, s->vram, s->vram_size);
}

static bool vga_load_vram(VMReader *r, void *opaque, uint32_t version)
{
    VGAState *s = opaque;
    vm_get_pages(r, s->vram, s->vram_size);
    return !r->failed;
}

static bool vbe_bpp_ok(uint16_t bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static bool vga_post_load(VMReader *r, void *opaque, uint32_t version)
{
    VGAState *s = opaque;
    uint16_t *vbe = s->vbe;
    if (vbe[VBE_INDEX_XRES] > VBE_MAX_XRES || vbe[VBE_INDEX_YRES] > VBE_MAX_YRES ||
        (vbe[VBE_INDEX_BPP] && !vbe_bpp_ok(vbe[VBE_INDEX_BPP])) ||
        vbe[VBE_INDEX_BANK] >= (s->vram_size >> 16) ||
        s->bank_offset != (uint32_t)vbe[VBE_INDEX_BANK] << 16) {
        return vm_fail(r, "VBE registers out of range");
    }
    vbe[VBE_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(s->vram_size >> 16);
    memset(s->vram_dirty, 1, s->vram_size >> VGA_PAGE_SHIFT);
    s->r.full = true;
    return true;
}

static const VMField vga_fields[] = {
    VMS_U32(VGAState, latch),
    VMS_U8(VGAState, misc),
    VMS_U8(VGAState, feature),
    VMS_U8(VGAState, enable),
    VMS_U8(VGAState, seq_index),
    VMS_BYTES(VGAState, seq, 8),
    VMS_U8(VGAState, crtc_index),
    VMS_BYTES(VGAState, crtc, 0x40),
    VMS_U8(VGAState, gc_index),
    VMS_BYTES(VGAState, gc, 16),
    VMS_U8(VGAState, ac_index),
    VMS_BOOL(VGAState, ac_data_next),
    VMS_BYTES(VGAState, ac, 0x20),
    VMS_U8(VGAState, pel_mask),
    VMS_BYTES(VGAState, dac[0], 256 * 3),
    VMS_U8(VGAState, dac_read_index),
    VMS_U8(VGAState, dac_write_index),
    VMS_U8_RANGE(VGAState, dac_component, 0, 2),
    VMS_U8(VGAState, dac_state),
    VMS_BYTES(VGAState, dac_latch, 3),
    VMS_U16(VGAState, vbe_index),
    VMS_U16_ARRAY(VGAState, vbe, VBE_INDEX_COUNT),
    VMS_U32(VGAState, bank_offset),
    VMS_END,
};

const VMStateDesc vga_vmstate = {
    .name = "vga",
    .version = 1,
    .min_version = 1,
    .fields = vga_fields,
    .save = vga_save_vram,
    .load = vga_load_vram,
    .post_load = vga_post_load,
};
