/*
 * PNG and text dumps.  libpng's simplified API writes the file: it reports
 * errors through the png_image's message instead of a longjmp, so nothing
 * here needs setjmp.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/screendump.h"

bool screendump_write_png(const char *path, const uint32_t *pixels, int width, int height,
                          char *err, size_t errlen)
{
    if (width <= 0 || height <= 0 || !pixels) {
        snprintf(err, errlen, "%s: there is no picture to write", path);
        return false;
    }
    size_t count = (size_t)width * (size_t)height;
    uint8_t *rgb = malloc(count * 3);
    if (!rgb) {
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        rgb[3 * i] = (uint8_t)(pixels[i] >> 16);
        rgb[3 * i + 1] = (uint8_t)(pixels[i] >> 8);
        rgb[3 * i + 2] = (uint8_t)pixels[i];
    }
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_file(&image, path, 0, rgb, width * 3, NULL);
    free(rgb);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, image.message[0] ? image.message : strerror(errno));
        png_image_free(&image);
        return false;
    }
    return true;
}

bool screendump_write_text(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(text, 1, len, fp) == len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok) {
        snprintf(err, errlen, "%s: write failed", path);
    }
    return ok;
}
