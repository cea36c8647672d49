/*
 * The SDL2 window (see sdl.h).
 *
 * Timing: the main loop calls sdl_window_poll() after every CPU slice,
 * which can be every few hundred microseconds, so the function first
 * checks the host clock and returns at once unless events are due (every
 * 5 ms) or a frame is (every 1/60 s).  The window asks the main loop to
 * sleep no longer than that, so an idle guest still gets a live window.
 */
#include <SDL2/SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/sdl.h"
#include "hw/input/ps2.h"
#include "hw/core/timer.h"

#define SDL_EVENT_NS  (5 * 1000 * 1000LL)
#define SDL_FRAME_NS  (NS_PER_SEC / 60)
#define SDL_MIN_WIDTH 640 /* smaller modes open at an integer multiple of this */

struct SDLWindow {
    SDLWindowConfig cfg;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    int tex_w, tex_h;                  /* the texture's size (the frame's) */
    bool grabbed;                      /* the mouse is ours */
    bool present;                      /* the window needs presenting */
    int buttons;                       /* PS2_BUTTON_* held */
    char title[256];                   /* as last set */
    int64_t next_events;               /* host ns */
    int64_t next_frame;                /* host ns */
    bool keys_down[SDL_NUM_SCANCODES]; /* to release them when focus goes */
};

/* ---- title and grab ---- */

static void sdl_update_title(SDLWindow *w)
{
    char title[256];
    bool paused = w->cfg.paused && *w->cfg.paused;
    snprintf(title, sizeof(title), "%s%s%s", w->cfg.name ? w->cfg.name : "popek",
             paused ? " [Paused]" : "", w->grabbed ? " - Press Ctrl-Alt-G to release grab" : "");
    if (strcmp(title, w->title) != 0) {
        snprintf(w->title, sizeof(w->title), "%s", title);
        SDL_SetWindowTitle(w->window, title);
    }
}

static void sdl_set_grab(SDLWindow *w, bool grab)
{
    w->grabbed = grab;
    SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(w->window, grab ? SDL_TRUE : SDL_FALSE);
    if (!grab && w->buttons) {
        /* Buttons held when the mouse leaves are released for the guest. */
        w->buttons = 0;
        i8042_mouse_event(w->cfg.kbd, 0, 0, 0, 0);
    }
    sdl_update_title(w);
}

/* ---- keyboard ---- */

static void sdl_key(SDLWindow *w, SDL_Scancode sc, bool down)
{
    int code = sdl_scancode_to_ps2(sc);
    if (code == 0) {
        return;
    }
    if (!down && !w->keys_down[sc]) {
        return; /* pressed before the window had the focus */
    }
    w->keys_down[sc] = down;
    if (code == PS2_KEY_PAUSE && !down) {
        return; /* Pause has no break code */
    }
    i8042_key_event(w->cfg.kbd, code, down);
}

static void sdl_release_all_keys(SDLWindow *w)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
        if (w->keys_down[sc]) {
            sdl_key(w, (SDL_Scancode)sc, false);
        }
    }
}

static void sdl_key_event(SDLWindow *w, const SDL_KeyboardEvent *ev)
{
    bool down = ev->type == SDL_KEYDOWN;
    SDL_Keymod mods = SDL_GetModState();
    if (down && ev->keysym.scancode == SDL_SCANCODE_G && (mods & KMOD_CTRL) && (mods & KMOD_ALT)) {
        sdl_set_grab(w, !w->grabbed);
        return;
    }
    /* A held key repeats as more make codes, as a keyboard's typematic does. */
    sdl_key(w, ev->keysym.scancode, down);
}

/* ---- mouse ---- */

static int sdl_button_bit(uint8_t button)
{
    switch (button) {
    case SDL_BUTTON_LEFT: return PS2_BUTTON_LEFT;
    case SDL_BUTTON_RIGHT: return PS2_BUTTON_RIGHT;
    case SDL_BUTTON_MIDDLE: return PS2_BUTTON_MIDDLE;
    case SDL_BUTTON_X1: return PS2_BUTTON_4;
    case SDL_BUTTON_X2: return PS2_BUTTON_5;
    default: return 0;
    }
}

static void sdl_button_event(SDLWindow *w, const SDL_MouseButtonEvent *ev)
{
    if (!w->grabbed) {
        /* The click that grabs stays ours, as in QEMU. */
        if (ev->type == SDL_MOUSEBUTTONUP && ev->button == SDL_BUTTON_LEFT) {
            sdl_set_grab(w, true);
        }
        return;
    }
    int bit = sdl_button_bit(ev->button);
    if (ev->type == SDL_MOUSEBUTTONDOWN) {
        w->buttons |= bit;
    } else {
        w->buttons &= ~bit;
    }
    i8042_mouse_event(w->cfg.kbd, 0, 0, 0, w->buttons);
}

/* ---- frames ---- */

/* A new frame size: a texture of that size, and the window at a size
 * that shows it whole (twice over for the small modes). */
static bool sdl_resize(SDLWindow *w, int width, int height)
{
    if (w->texture) {
        SDL_DestroyTexture(w->texture);
    }
    w->texture = SDL_CreateTexture(w->renderer, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                   width, height);
    if (!w->texture) {
        return false;
    }
    w->tex_w = width;
    w->tex_h = height;
    int scale = width < SDL_MIN_WIDTH ? (SDL_MIN_WIDTH + width - 1) / width : 1;
    if (!w->cfg.full_screen) { /* full screen keeps the screen's size; the frame is scaled */
        SDL_SetWindowSize(w->window, width * scale, height * scale);
    }
    return true;
}

static void sdl_draw_frame(SDLWindow *w)
{
    bool resized;
    int y0, y1, width, height;
    display_refresh(w->cfg.display);
    display_take_changes(w->cfg.display, &resized, &y0, &y1);
    const uint32_t *frame = vga_frame(w->cfg.display->vga, &width, &height);
    if (!frame || width <= 0 || height <= 0) {
        return;
    }
    if (resized || width != w->tex_w || height != w->tex_h) {
        if (!sdl_resize(w, width, height)) {
            return;
        }
        y0 = 0;
        y1 = height;
    }
    if (y0 < y1) {
        SDL_Rect rows = {0, y0, width, y1 - y0};
        SDL_UpdateTexture(w->texture, &rows, frame + (size_t)y0 * (size_t)width,
                          width * (int)sizeof(uint32_t));
        w->present = true;
    }
    if (w->present) {
        SDL_RenderClear(w->renderer);
        SDL_RenderCopy(w->renderer, w->texture, NULL, NULL);
        SDL_RenderPresent(w->renderer);
        w->present = false;
    }
}

/* ---- events ---- */

static void sdl_window_event(SDLWindow *w, const SDL_WindowEvent *ev)
{
    switch (ev->event) {
    case SDL_WINDOWEVENT_CLOSE:
        if (w->cfg.close) {
            w->cfg.close(w->cfg.opaque);
        }
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST: sdl_release_all_keys(w); break;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED: w->present = true; break;
    default: break;
    }
}

static void sdl_handle_event(SDLWindow *w, const SDL_Event *ev)
{
    switch (ev->type) {
    case SDL_QUIT:
        if (w->cfg.close) {
            w->cfg.close(w->cfg.opaque);
        }
        break;
    case SDL_WINDOWEVENT: sdl_window_event(w, &ev->window); break;
    case SDL_KEYDOWN:
    case SDL_KEYUP: sdl_key_event(w, &ev->key); break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: sdl_button_event(w, &ev->button); break;
    case SDL_MOUSEMOTION:
        if (w->grabbed && (ev->motion.xrel || ev->motion.yrel)) {
            i8042_mouse_event(w->cfg.kbd, ev->motion.xrel, ev->motion.yrel, 0, w->buttons);
        }
        break;
    case SDL_MOUSEWHEEL:
        if (w->grabbed && ev->wheel.y) {
            /* SDL: y > 0 is away from the user; PS/2 dz > 0 is towards. */
            int dz = ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? ev->wheel.y : -ev->wheel.y;
            i8042_mouse_event(w->cfg.kbd, 0, 0, dz, w->buttons);
        }
        break;
    default: break;
    }
}

int sdl_window_poll(void *window)
{
    SDLWindow *w = window;
    int64_t now = host_clock_ns();
    if (now >= w->next_events) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            sdl_handle_event(w, &ev);
        }
        sdl_update_title(w);
        w->next_events = now + SDL_EVENT_NS;
    }
    if (now >= w->next_frame) {
        sdl_draw_frame(w);
        w->next_frame = now + SDL_FRAME_NS;
    }
    int64_t next = w->next_events < w->next_frame ? w->next_events : w->next_frame;
    int64_t ms = (next - now + 999999) / 1000000;
    return ms < 1 ? 1 : (int)ms;
}

/* ---- life cycle ---- */

SDLWindow *sdl_window_new(const SDLWindowConfig *cfg, char *err, size_t errlen)
{
    /* The terminal's Ctrl-C stays popek's (SIGINT), not an SDL_QUIT. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "0");
    /* Only a desktop shows a window.  Left to itself SDL falls back to its
     * offscreen or KMS drivers when X11 and Wayland fail, and popek would run
     * with a window nobody sees; SDL_VIDEODRIVER set by the user still wins. */
    bool user_driver = getenv("SDL_VIDEODRIVER") != NULL;
    if (!user_driver) {
        const char *wayland = getenv("WAYLAND_DISPLAY");
        SDL_SetHint(SDL_HINT_VIDEODRIVER, wayland && *wayland ? "wayland,x11" : "x11");
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        const char *display = getenv("DISPLAY");
        snprintf(err, errlen, "%s%s%s%s", SDL_GetError(), display ? " (DISPLAY=" : "",
                 display ? display : "", display ? ")" : "");
        return NULL;
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    if (!user_driver && (!driver || (strcmp(driver, "x11") && strcmp(driver, "wayland")))) {
        snprintf(err, errlen, "SDL's video driver '%s' shows no window", driver ? driver : "");
        SDL_Quit();
        return NULL;
    }
    SDLWindow *w = calloc(1, sizeof(*w));
    if (!w) {
        SDL_Quit();
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->window = SDL_CreateWindow(cfg->name ? cfg->name : "popek", SDL_WINDOWPOS_UNDEFINED,
                                 SDL_WINDOWPOS_UNDEFINED, 720, 400,
                                 SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI |
                                     (cfg->full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
    if (w->window) {
        w->renderer = SDL_CreateRenderer(w->window, -1, 0);
    }
    if (!w->renderer) {
        snprintf(err, errlen, "%s", SDL_GetError());
        sdl_window_free(w);
        return NULL;
    }
    sdl_update_title(w);
    return w;
}

void sdl_window_free(SDLWindow *w)
{
    if (!w) {
        return;
    }
    if (w->grabbed) {
        SDL_SetRelativeMouseMode(SDL_FALSE);
    }
    if (w->texture) {
        SDL_DestroyTexture(w->texture);
    }
    if (w->renderer) {
        SDL_DestroyRenderer(w->renderer);
    }
    if (w->window) {
        SDL_DestroyWindow(w->window);
    }
    free(w);
    SDL_Quit();
}
