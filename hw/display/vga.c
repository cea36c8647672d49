/*
 * VGA registers and ports (IBM VGA Technical Reference; the register
 * values a BIOS programs for mode 3 are the standard mode table's).
 *
 *   0x3C0      attribute controller: index and data share the port, a
 *              flip-flop says which comes next; reading input status 1
 *              resets it to "index"
 *   0x3C1      attribute data read
 *   0x3C2      misc output (write), input status 0 (read)
 *   0x3C3      VGA enable
 *   0x3C4/5    sequencer index/data
 *   0x3C6      PEL mask
 *   0x3C7/8/9  DAC read index (write) and state (read), write index, data:
 *              three accesses (R, G, B) per entry, then the index moves on
 *   0x3CA      feature control (read)
 *   0x3CC      misc output (read)
 *   0x3CE/F    graphics controller index/data
 *   0x3B4/5 or 0x3D4/5  CRTC index/data, 0x3BA or 0x3DA input status 1
 *              (read) and feature control (write): the mono or the colour
 *              address, as misc output bit 0 selects
 *
 * Input status 1 follows a 70 Hz, 449-line frame of 31.8 us lines in
 * virtual time, so BIOS and demo code polling for retrace see it toggle.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/display/vga_internal.h"

#define VGA_PORT_BASE  0x3b0
#define VGA_PORT_COUNT 0x30

/* Frame timing behind input status 1 (the 400-line modes' 70 Hz). */
#define VGA_LINE_NS        31778
#define VGA_FRAME_LINES    449
#define VGA_VISIBLE_LINES  400
#define VGA_RETRACE_FIRST  412
#define VGA_RETRACE_LINES  2
#define VGA_HBLANK_PERCENT 20

/* Input status 1 bits. */
#define ST1_DISPLAY_OFF 0x01 /* in horizontal or vertical blanking */
#define ST1_V_RETRACE   0x08

/* Mode 3 (80x25 colour text) as the BIOS mode table programs it. */
static const uint8_t mode3_seq[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_crtc[0x19] = {
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
    0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gc[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff};
static const uint8_t mode3_ac[0x15] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
    0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

/*
 * The BIOS's default DAC for the 16-colour modes: entry i is the EGA
 * colour rgbRGB (bit 5..0 = r g b R G B), each primary 2/3 intensity for
 * the capital bit and 1/3 for the small one, on the 6-bit DAC scale.
 */
void vga_dac_reset(VGAState *s)
{
    memset(s->dac, 0, sizeof(s->dac));
    for (int i = 0; i < 64; i++) {
        s->dac[i][0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
        s->dac[i][1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
        s->dac[i][2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
    }
}

void vga_reset(VGAState *s)
{
    s->misc = 0x67; /* colour addresses, RAM enabled, 28 MHz clock, high page */
    s->feature = 0;
    s->enable = 1;
    s->latch = 0;
    s->seq_index = s->crtc_index = s->gc_index = 0;
    memset(s->seq, 0, sizeof(s->seq));
    memset(s->crtc, 0, sizeof(s->crtc));
    memset(s->gc, 0, sizeof(s->gc));
    memset(s->ac, 0, sizeof(s->ac));
    memcpy(s->seq, mode3_seq, sizeof(mode3_seq));
    memcpy(s->crtc, mode3_crtc, sizeof(mode3_crtc));
    memcpy(s->gc, mode3_gc, sizeof(mode3_gc));
    memcpy(s->ac, mode3_ac, sizeof(mode3_ac));
    s->ac_index = 0x20; /* palette address source set: the display is on */
    s->ac_data_next = false;
    s->pel_mask = 0xff;
    s->dac_read_index = s->dac_write_index = 0;
    s->dac_component = 0;
    s->dac_state = 0;
    vga_dac_reset(s);
    vga_vbe_reset(s);
    s->r.full = true;
}

/* ---- input status 1 ---- */

static uint8_t vga_status1(VGAState *s)
{
    int64_t now = s->timers ? timer_now(s->timers) : 0;
    int64_t in_frame = now % ((int64_t)VGA_LINE_NS * VGA_FRAME_LINES);
    int line = (int)(in_frame / VGA_LINE_NS);
    int in_line = (int)(in_frame % VGA_LINE_NS);
    uint8_t st = 0;
    if (line >= VGA_VISIBLE_LINES || in_line >= VGA_LINE_NS * (100 - VGA_HBLANK_PERCENT) / 100) {
        st |= ST1_DISPLAY_OFF;
    }
    if (line >= VGA_RETRACE_FIRST && line < VGA_RETRACE_FIRST + VGA_RETRACE_LINES) {
        st |= ST1_V_RETRACE;
    }
    s->ac_data_next = false; /* a read of input status 1 resets the flip-flop */
    return st;
}

/* ---- register files ---- */

static void vga_crtc_write(VGAState *s, uint8_t value)
{
    int index = s->crtc_index & 0x3f;
    /* CR11 bit 7 protects CR0-CR7, except the line compare bit in CR7. */
    if ((s->crtc[CR_V_RETRACE_END] & 0x80) && index <= CR_OVERFLOW) {
        if (index == CR_OVERFLOW) {
            s->crtc[index] = (uint8_t)((s->crtc[index] & ~0x10) | (value & 0x10));
        }
        return;
    }
    s->crtc[index] = value;
}

static void vga_ac_write(VGAState *s, uint8_t value)
{
    if (!s->ac_data_next) {
        s->ac_index = value & 0x3f;
    } else {
        int index = s->ac_index & 0x1f;
        if (index < 0x10) {
            s->ac[index] = value & 0x3f; /* palette registers are 6 bits */
        } else if (index <= AR_COLOR_SELECT) {
            s->ac[index] = value;
        }
    }
    s->ac_data_next = !s->ac_data_next;
}

static uint8_t vga_dac_mask(const VGAState *s)
{
    return (s->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) ? 0xff : 0x3f;
}

static void vga_dac_data_write(VGAState *s, uint8_t value)
{
    s->dac_latch[s->dac_component++] = value & vga_dac_mask(s);
    if (s->dac_component == 3) {
        memcpy(s->dac[s->dac_write_index], s->dac_latch, 3);
        s->dac_write_index++;
        s->dac_component = 0;
    }
}

static uint8_t vga_dac_data_read(VGAState *s)
{
    uint8_t value = s->dac[s->dac_read_index][s->dac_component++];
    if (s->dac_component == 3) {
        s->dac_read_index++;
        s->dac_component = 0;
    }
    return value;
}

/* Whether port is the CRTC/status address of the mode misc output selects. */
static bool vga_port_selected(const VGAState *s, uint16_t port)
{
    bool colour = (s->misc & 1) != 0;
    if (port >= 0x3b0 && port < 0x3c0) {
        return !colour;
    }
    if (port >= 0x3d0) {
        return colour;
    }
    return true;
}

static uint32_t vga_port_read(void *opaque, uint16_t port, int size)
{
    VGAState *s = opaque;
    if (!vga_port_selected(s, port)) {
        return 0xff;
    }
    switch (port) {
    case 0x3c0: return s->ac_index;
    case 0x3c1: return s->ac[s->ac_index & 0x1f];
    case 0x3c2: return 0; /* input status 0: no switch sense, no CRT interrupt */
    case 0x3c3: return s->enable;
    case 0x3c4: return s->seq_index;
    case 0x3c5: return s->seq[s->seq_index & 7];
    case 0x3c6: return s->pel_mask;
    case 0x3c7: return s->dac_state;
    case 0x3c8: return s->dac_write_index;
    case 0x3c9: return vga_dac_data_read(s);
    case 0x3ca: return s->feature;
    case 0x3cc: return s->misc;
    case 0x3ce: return s->gc_index;
    case 0x3cf: return s->gc[s->gc_index & 0x0f];
    case 0x3b4:
    case 0x3d4: return s->crtc_index;
    case 0x3b5:
    case 0x3d5: return s->crtc[s->crtc_index & 0x3f];
    case 0x3ba:
    case 0x3da: return vga_status1(s);
    default: return 0xff;
    }
}

static void vga_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    VGAState *s = opaque;
    uint8_t v = (uint8_t)value;
    if (!vga_port_selected(s, port)) {
        return;
    }
    switch (port) {
    case 0x3c0: vga_ac_write(s, v); break;
    case 0x3c2: s->misc = v; break;
    case 0x3c3: s->enable = v & 1; break;
    case 0x3c4: s->seq_index = v; break;
    case 0x3c5: s->seq[s->seq_index & 7] = v; break;
    case 0x3c6: s->pel_mask = v; break;
    case 0x3c7:
        s->dac_read_index = v;
        s->dac_component = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = v;
        s->dac_component = 0;
        s->dac_state = 0;
        break;
    case 0x3c9: vga_dac_data_write(s, v); break;
    case 0x3ce: s->gc_index = v; break;
    case 0x3cf: s->gc[s->gc_index & 0x0f] = v; break;
    case 0x3b4:
    case 0x3d4: s->crtc_index = v; break;
    case 0x3b5:
    case 0x3d5: vga_crtc_write(s, v); break;
    case 0x3ba:
    case 0x3da: s->feature = v; break;
    default: break;
    }
}

/* ---- life cycle ---- */

VGAState *vga_new(IOPortMap *io, PhysMem *pm, PCIBus *pci, int devfn, TimerList *timers,
                  uint32_t vram_size, const VGAHooks *hooks)
{
    if (vram_size < (1u << 20) || vram_size > (256u << 20) || (vram_size & (vram_size - 1))) {
        return NULL;
    }
    VGAState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->pm = pm;
    s->io = io;
    s->timers = timers;
    if (hooks) {
        s->hooks = *hooks;
    }
    s->lfb_region = -1;
    s->legacy_region = -1;
    s->lfb_addr = PCI_BAR_UNMAPPED;
    s->vram_size = vram_size;
    /* MAP_NORESERVE: pages the guest never draws on cost nothing. */
    void *vram = mmap(NULL, vram_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    s->vram_dirty = calloc(vram_size >> VGA_PAGE_SHIFT, 1);
    if (vram == MAP_FAILED || !s->vram_dirty) {
        if (vram != MAP_FAILED) {
            munmap(vram, vram_size);
        }
        free(s->vram_dirty);
        free(s);
        return NULL;
    }
    s->vram = vram;
    s->legacy_region = phys_map_mmio(pm, VGA_LEGACY_BASE, VGA_LEGACY_SIZE, &vga_legacy_ops, s, 0);
    if (s->legacy_region >= 0 && ioport_register(io, VGA_PORT_BASE, VGA_PORT_COUNT, 1,
                                                 vga_port_read, vga_port_write, s) == 0) {
        s->ports_claimed = true;
    }
    if (!s->ports_claimed || !vga_vbe_init(s, pci, devfn)) {
        vga_free(s);
        return NULL;
    }
    vga_reset(s);
    return s;
}

void vga_free(VGAState *s)
{
    if (!s) {
        return;
    }
    vga_vbe_free(s);
    if (s->ports_claimed) {
        ioport_unregister(s->io, VGA_PORT_BASE, VGA_PORT_COUNT);
    }
    if (s->legacy_region >= 0) {
        phys_region_enable(s->pm, s->legacy_region, false);
    }
    munmap(s->vram, s->vram_size);
    free(s->vram_dirty);
    free(s->r.frame);
    free(s->r.cells);
    free(s);
}

uint8_t *vga_vram(VGAState *s, uint32_t *size)
{
    *size = s->vram_size;
    return s->vram;
}
