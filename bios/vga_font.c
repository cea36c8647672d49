/*
 * The 8x16 font from a VGA BIOS image (see vga_font.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/vga_font.h"

/* Glyph 0 (blank) and glyph 1 (the face, rows 2-11) of the PC 8x16 set. */
static const uint8_t font_start[32] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0x00, 0x00, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e, 0x00, 0x00, 0x00, 0x00,
};

#define ROM_MAX (256u << 10) /* option ROMs are far smaller */

bool vga_font_from_rom(const char *path, uint8_t font[VGA_FONT16_BYTES], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "VGA BIOS '%s': %s", path, strerror(errno));
        return false;
    }
    uint8_t *rom = malloc(ROM_MAX);
    size_t len = rom ? fread(rom, 1, ROM_MAX, f) : 0;
    fclose(f);
    bool found = false;
    for (size_t at = 0; len >= VGA_FONT16_BYTES && at <= len - VGA_FONT16_BYTES; at++) {
        if (!memcmp(rom + at, font_start, sizeof(font_start))) {
            memcpy(font, rom + at, VGA_FONT16_BYTES);
            found = true;
            break;
        }
    }
    free(rom);
    if (!found) {
        snprintf(err, errlen, "VGA BIOS '%s': no 8x16 font in it", path);
    }
    return found;
}
