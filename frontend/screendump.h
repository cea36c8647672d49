/*
 * Screen dumps: a frame as a PNG file (libpng), and the screen as it
 * stands, for the monitor's screendump and textdump commands, -textdump
 * and the tests (frontend/display.c renders what they write).
 */
#ifndef FRONTEND_SCREENDUMP_H
#define FRONTEND_SCREENDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write width x height pixels (0x00RRGGBB, rows without padding) as an
 * 8-bit RGB PNG.  On failure returns false with a one-line reason in err. */
bool screendump_write_png(const char *path, const uint32_t *pixels, int width, int height,
                          char *err, size_t errlen);

/* Write len bytes of text to path; false with a reason in err. */
bool screendump_write_text(const char *path, const char *text, size_t len, char *err,
                           size_t errlen);

#endif /* FRONTEND_SCREENDUMP_H */
