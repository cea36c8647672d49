/*
 * The SDL2 window: the guest's screen scaled to the window, its keyboard
 * and PS/2 mouse, as QEMU's SDL display does it.
 *
 *   - Frames come from frontend/display.c; only rows that changed are
 *     uploaded to the texture, and nothing is presented when nothing
 *     changed.
 *   - Keys go to the i8042 as set 1 make codes (PS2_KEY_E0 for the 0xE0
 *     keys, PS2_KEY_PRINT, PS2_KEY_PAUSE), from SDL's physical scancodes,
 *     so the guest's keyboard layout applies, as on real hardware.
 *   - A click grabs the mouse (relative motion goes to the PS/2 mouse);
 *     Ctrl-Alt-G releases it.
 *   - The title: the VM name (-name, else "popek"), "[Paused]" while the
 *     CPU is stopped, and the grab hint while grabbed.
 *   - Closing the window powers the machine off and popek exits, as
 *     QEMU does.
 * There is no thread: the main loop calls sdl_window_poll() between CPU
 * slices and while the CPU idles.
 */
#ifndef FRONTEND_SDL_H
#define FRONTEND_SDL_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/display.h"
#include "hw/input/i8042.h"

typedef struct SDLWindow SDLWindow;

typedef struct SDLWindowConfig {
    const char *name; /* -name, or NULL */
    Display *display;
    I8042State *kbd;             /* keyboard and mouse events go here */
    const bool *paused;          /* the machine's run state, for the title */
    void (*close)(void *opaque); /* the user closed the window */
    void *opaque;
    bool full_screen; /* -full-screen: cover the screen (SDL's desktop full screen) */
} SDLWindowConfig;

/* Open the window; NULL with a one-line reason in err when SDL cannot. */
SDLWindow *sdl_window_new(const SDLWindowConfig *cfg, char *err, size_t errlen);
void sdl_window_free(SDLWindow *w);

/*
 * Serve window events and draw a frame when one is due.  Cheap when
 * called often: events are read at most every few milliseconds.  Returns
 * how many milliseconds the caller may sleep before calling again.
 */
int sdl_window_poll(void *window);

/* The set 1 key code of an SDL scancode, or 0 for a key the PS/2
 * keyboard does not have (exposed for tests). */
int sdl_scancode_to_ps2(int sdl_scancode);

#endif /* FRONTEND_SDL_H */
