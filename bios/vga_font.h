/*
 * The 8x16 character set a direct kernel boot needs in VGA plane 2.
 *
 * With SeaBIOS the VGA BIOS loads its font at mode set; a direct boot
 * (-kernel with no BIOS) runs no VGA BIOS, and Linux's vgacon, which
 * never loads a font of its own, would draw with an empty plane 2 (a
 * black screen).  So the loader takes the font from the same VGA BIOS
 * image SeaBIOS would run (Debian's vgabios-stdvga.bin).
 */
#ifndef BIOS_VGA_FONT_H
#define BIOS_VGA_FONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VGA_FONT16_BYTES (256 * 16)

/*
 * Find the 8x16 font in the VGA BIOS image at path: 256 glyphs of 16
 * bytes, found by its first two glyphs (blank, then the IBM smiling face,
 * whose rows are fixed by the PC character set).  Returns false with a
 * one-line reason in err when the file cannot be read or holds no font.
 */
bool vga_font_from_rom(const char *path, uint8_t font[VGA_FONT16_BYTES], char *err, size_t errlen);

#endif /* BIOS_VGA_FONT_H */
