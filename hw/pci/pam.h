/*
 * The i440FX's Programmable Attribute Map: what the 0xC0000-0xFFFFF
 * window decodes to, 16 KiB at a time (64 KiB for 0xF0000).  Each segment
 * has a read-enable and a write-enable bit (hw/pci/piix.h PAM_*): reads go to
 * DRAM or to the ROM/PCI side, writes likewise.  SeaBIOS uses this to
 * shadow itself: it enables both (copies the BIOS from the high alias into
 * RAM), and at the end of POST leaves read-only RAM (RE=1, WE=0).
 *
 * The ROM side is the low alias of the BIOS image for the top 128 KiB
 * (or less for a smaller image) and floating-bus 0xFF bytes below that.
 *
 * How it maps onto softmmu/phys.h: each segment owns one ROM region.
 *   RE=0 WE=0  region enabled, holding the ROM-side bytes;
 *   RE=1 WE=0  region enabled, holding a copy of the segment's RAM (RAM
 *              cannot change while writes are off, so the copy is exact);
 *   RE=1 WE=1  region disabled: plain RAM;
 *   RE=0 WE=1  region disabled, and one MMIO region over the whole window
 *              (enabled only while some segment is in this state) reads
 *              the ROM side and writes RAM.
 * The caller must flush CPU TLBs after any change (pam_set returns true).
 */
#ifndef HW_PCI_PAM_H
#define HW_PCI_PAM_H

#include <stdbool.h>
#include <stdint.h>

#include "softmmu/phys.h"

#define PAM_WINDOW_START 0xc0000u
#define PAM_WINDOW_END   0x100000u
#define PAM_SEGMENTS     13 /* 12 x 16 KiB from 0xC0000, then 64 KiB at 0xF0000 */

typedef struct PAMState PAMState;

/*
 * rom holds the bytes the ROM side shows for [PAM_WINDOW_END - rom_len,
 * PAM_WINDOW_END) (copied; rom_len at most 256 KiB, a multiple of 4 KiB).
 * All segments start at RE=0 WE=0.  Needs PAM_SEGMENTS + 1 free regions.
 */
PAMState *pam_new(PhysMem *pm, const uint8_t *rom, uint32_t rom_len);
void pam_free(PAMState *s);

/* Apply PAM register pam_index (0-6) = value, as the 82441FX decodes it.
 * Returns true if the memory map changed (flush TLBs). */
bool pam_set(PAMState *s, int pam_index, uint8_t value);

/* Attribute bits (PAM_READ_ENABLE | PAM_WRITE_ENABLE) of the segment
 * holding paddr, or -1 outside the window. */
int pam_attr(PAMState *s, uint32_t paddr);

#endif /* HW_PCI_PAM_H */
