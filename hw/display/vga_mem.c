/*
 * The legacy window A0000-BFFFF onto video RAM (IBM VGA Technical
 * Reference: sequencer memory mode, graphics controller read and write
 * modes).
 *
 * Layout.  Video RAM is stored as QEMU's VGA stores it: the four planes
 * interleaved, so a "slot" of four bytes holds the byte at one plane
 * offset of planes 0-3 (plane p of offset o at 4 * o + p).  Each access
 * mode is then a plain mapping of a window address A:
 *   chain 4 (SR4 bit 3):  byte A, i.e. plane A & 3 at offset A >> 2; this
 *                         makes mode 13h and the VBE modes linear, so the
 *                         framebuffer BAR is the same bytes.
 *   odd/even (SR4 bit 2 clear for writes, GR5 bit 4 for reads): planes
 *                         0/2 for even A, 1/3 for odd A, at offset A >> 1
 *                         (text modes: character and attribute of one
 *                         cell share a slot).
 *   planar:               offset A in every plane, through the latches.
 * The renderer reads slots in the same terms, so the model only has to
 * agree with itself; where it differs from the hardware (the hardware
 * keeps A's low bits in the plane offset) no guest can tell, except by
 * mixing chained and unchained access to the same bytes.
 *
 * Planar writes (write modes 0-3) combine the CPU byte, the set/reset
 * registers and the latches (loaded by every read) through the rotate
 * count, the logical operation and the bit mask, then store into the
 * planes the map mask enables.  Every store marks its video page dirty.
 */
#include <string.h>

#include "hw/display/vga_internal.h"

/* Each bit p of nibble set -> 0xFF in byte p. */
static uint32_t vga_expand_planes(uint8_t nibble)
{
    uint32_t out = 0;
    for (int p = 0; p < 4; p++) {
        if (nibble & (1u << p)) {
            out |= 0xffu << (8 * p);
        }
    }
    return out;
}

static uint8_t vga_rotate_right(uint8_t v, int count)
{
    count &= 7;
    return (uint8_t)((v >> count) | (v << ((8 - count) & 7)));
}

/*
 * The VGA address a window offset (from A0000h) decodes to under GR6's
 * memory map select: 0 = A0000-BFFFF, 1 = A0000-AFFFF (plus the VBE bank),
 * 2 = B0000-B7FFF, 3 = B8000-BFFFF.  False outside the selected range.
 */
static bool vga_window_address(const VGAState *s, uint32_t offset, uint32_t *addr)
{
    switch ((s->gc[GR_MISC] >> 2) & 3) {
    case 0: *addr = offset; return true;
    case 1: *addr = offset + s->bank_offset; return offset < 0x10000;
    case 2: *addr = offset - 0x10000; return offset >= 0x10000 && offset < 0x18000;
    default: *addr = offset - 0x18000; return offset >= 0x18000;
    }
}

/* Read mode 1: bits where every plane GR7 selects equals its GR2 colour. */
static uint8_t vga_color_compare(const VGAState *s)
{
    uint32_t care = vga_expand_planes(s->gc[GR_COLOR_DONT_CARE] & 0x0f);
    uint32_t color = vga_expand_planes(s->gc[GR_COLOR_COMPARE] & 0x0f);
    uint32_t differ = (s->latch ^ color) & care;
    uint8_t any = (uint8_t)(differ | (differ >> 8) | (differ >> 16) | (differ >> 24));
    return (uint8_t)~any;
}

static uint8_t vga_read_byte(VGAState *s, uint32_t offset)
{
    uint32_t addr;
    if (!vga_window_address(s, offset, &addr)) {
        return 0xff;
    }
    uint32_t slot_index;
    if (s->seq[SR_MEM_MODE] & 0x08) {
        slot_index = addr & ~3u;
    } else if (s->gc[GR_MODE] & 0x10) {
        slot_index = (addr & ~1u) << 1;
    } else {
        slot_index = addr << 2;
    }
    if (slot_index >= s->vram_size) {
        return 0xff;
    }
    /* Any CPU read loads the four latches (VGA reference, graphics
     * controller), whatever the access mode. */
    memcpy(&s->latch, s->vram + slot_index, 4);
    if (s->seq[SR_MEM_MODE] & 0x08) {
        return s->vram[addr];
    }
    if (s->gc[GR_MODE] & 0x10) {
        uint32_t plane = (s->gc[GR_READ_MAP] & 2) | (addr & 1);
        return s->vram[slot_index | plane];
    }
    if (s->gc[GR_MODE] & 0x08) {
        return vga_color_compare(s);
    }
    return (uint8_t)(s->latch >> (8 * (s->gc[GR_READ_MAP] & 3)));
}

/* Write modes 0-3: the four plane bytes to store, and the bit mask. */
static uint32_t vga_write_data(const VGAState *s, uint8_t value)
{
    uint8_t bit_mask = s->gc[GR_BIT_MASK];
    uint8_t rotated = vga_rotate_right(value, s->gc[GR_DATA_ROTATE] & 7);
    uint32_t data;
    switch (s->gc[GR_MODE] & 3) {
    case 0: {
        uint32_t enable = vga_expand_planes(s->gc[GR_ENABLE_SET_RESET] & 0x0f);
        uint32_t set_reset = vga_expand_planes(s->gc[GR_SET_RESET] & 0x0f);
        data = (rotated * 0x01010101u & ~enable) | (set_reset & enable);
        break;
    }
    case 1: return s->latch; /* the latches, as they are */
    case 2: data = vga_expand_planes(value & 0x0f); break;
    default:
        /* Mode 3: set/reset is the colour, the rotated byte ANDs the mask. */
        data = vga_expand_planes(s->gc[GR_SET_RESET] & 0x0f);
        bit_mask &= rotated;
        break;
    }
    switch ((s->gc[GR_DATA_ROTATE] >> 3) & 3) {
    case 1: data &= s->latch; break;
    case 2: data |= s->latch; break;
    case 3: data ^= s->latch; break;
    default: break;
    }
    uint32_t keep = bit_mask * 0x01010101u;
    return (data & keep) | (s->latch & ~keep);
}

static void vga_write_byte(VGAState *s, uint32_t offset, uint8_t value)
{
    uint32_t addr;
    if (!vga_window_address(s, offset, &addr)) {
        return;
    }
    uint8_t map_mask = s->seq[SR_MAP_MASK] & 0x0f;
    if (s->seq[SR_MEM_MODE] & 0x08) {
        if (addr < s->vram_size && (map_mask & (1u << (addr & 3)))) {
            s->vram[addr] = value;
            vga_mark_dirty(s, addr, 1);
        }
        return;
    }
    if (!(s->seq[SR_MEM_MODE] & 0x04)) {
        uint32_t slot_index = (addr & ~1u) << 1;
        uint8_t planes = map_mask & ((addr & 1) ? 0x0a : 0x05);
        if (slot_index >= s->vram_size) {
            return;
        }
        for (int p = 0; p < 4; p++) {
            if (planes & (1u << p)) {
                s->vram[slot_index + (uint32_t)p] = value;
            }
        }
        vga_mark_dirty(s, slot_index, 4);
        return;
    }
    uint32_t slot_index = addr << 2;
    if (slot_index >= s->vram_size) {
        return;
    }
    uint32_t data = vga_write_data(s, value);
    uint32_t enable = vga_expand_planes(map_mask);
    uint32_t old;
    memcpy(&old, s->vram + slot_index, 4);
    old = (old & ~enable) | (data & enable);
    memcpy(s->vram + slot_index, &old, 4);
    vga_mark_dirty(s, slot_index, 4);
}

/* Wider accesses are bytes at ascending addresses, as the bus splits them. */
static uint32_t vga_legacy_read(void *opaque, uint32_t offset, int size)
{
    uint32_t value = 0;
    for (int i = 0; i < size; i++) {
        value |= (uint32_t)vga_read_byte(opaque, offset + (uint32_t)i) << (8 * i);
    }
    return value;
}

static void vga_legacy_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    for (int i = 0; i < size; i++) {
        vga_write_byte(opaque, offset + (uint32_t)i, (uint8_t)(value >> (8 * i)));
    }
}

const MMIOOps vga_legacy_ops = {vga_legacy_read, vga_legacy_write};
