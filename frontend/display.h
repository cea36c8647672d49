/*
 * The screen as the host sees it: one owner of the VGA's frames, so the
 * SDL window and the dumps each see every change.  vga_update() reports
 * the rows that changed since its previous call; whoever calls it next
 * would take those rows from the others, so only display_refresh() calls
 * it, and it keeps the rows the window has not uploaded yet.
 */
#ifndef FRONTEND_DISPLAY_H
#define FRONTEND_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "hw/display/vga.h"

typedef struct Display {
    VGAState *vga;
    bool resized; /* the frame changed size since the window last looked */
    int y0, y1;   /* rows changed since the window last looked */
} Display;

void display_init(Display *d, VGAState *vga);
/* Bring the frame up to date (vga_update) and remember what changed. */
void display_refresh(Display *d);
/* The changes since the last call, for the window; then forget them. */
void display_take_changes(Display *d, bool *resized, int *y0, int *y1);

/* The current screen as a PNG / as UTF-8 text (text modes only); false
 * with a one-line reason in err. */
bool display_screendump(Display *d, const char *path, char *err, size_t errlen);
bool display_textdump(Display *d, const char *path, char *err, size_t errlen);

#endif /* FRONTEND_DISPLAY_H */
