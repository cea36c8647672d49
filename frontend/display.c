/*
 * The host's view of the screen (see display.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "frontend/display.h"
#include "frontend/screendump.h"

void display_init(Display *d, VGAState *vga)
{
    d->vga = vga;
    d->resized = true;
    d->y0 = d->y1 = 0;
}

void display_refresh(Display *d)
{
    if (!d->vga) {
        return; /* -vga none */
    }
    VGAUpdate u = vga_update(d->vga);
    d->resized = d->resized || u.resized;
    if (u.y0 < u.y1) {
        if (d->y0 == d->y1) {
            d->y0 = u.y0;
            d->y1 = u.y1;
        } else {
            d->y0 = u.y0 < d->y0 ? u.y0 : d->y0;
            d->y1 = u.y1 > d->y1 ? u.y1 : d->y1;
        }
    }
}

void display_take_changes(Display *d, bool *resized, int *y0, int *y1)
{
    *resized = d->resized;
    *y0 = d->y0;
    *y1 = d->y1;
    d->resized = false;
    d->y0 = d->y1 = 0;
}

bool display_screendump(Display *d, const char *path, char *err, size_t errlen)
{
    int width, height;
    if (!d->vga) {
        snprintf(err, errlen, "%s: there is no display card (-vga none)", path);
        return false;
    }
    display_refresh(d);
    const uint32_t *frame = vga_frame(d->vga, &width, &height);
    return screendump_write_png(path, frame, width, height, err, errlen);
}

bool display_textdump(Display *d, const char *path, char *err, size_t errlen)
{
    if (!d->vga) {
        snprintf(err, errlen, "%s: there is no display card (-vga none)", path);
        return false;
    }
    int len = vga_text_dump(d->vga, NULL, 0);
    if (len < 0) {
        snprintf(err, errlen, "%s: the screen is not in a text mode", path);
        return false;
    }
    char *text = malloc((size_t)len + 1);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    vga_text_dump(d->vga, text, (size_t)len + 1);
    bool ok = screendump_write_text(path, text, (size_t)len, err, errlen);
    free(text);
    return ok;
}
