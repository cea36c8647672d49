/*
 * A small X client for the desktop test: finds popek's window, reads its
 * title and pixels, types keys and moves the mouse through the XTEST
 * extension (as a person at the keyboard would, through the X server), and
 * closes the window the way a window manager does (WM_DELETE_WINDOW).
 *
 *   xhelper find NAME             wait (10 s) for a top-level window whose
 *                                 title starts with NAME; print its id
 *   xhelper title ID              print the window's title
 *   xhelper size ID               print "WIDTH HEIGHT"
 *   xhelper pixel ID X Y          print the window's pixel as RRGGBB
 *   xhelper key ID KEY[+KEY...]   press the keys in order, release them in
 *                                 reverse (X keysym names: a, Return,
 *                                 Right, Control_L+Alt_L+g)
 *   xhelper click ID              left click in the middle of the window
 *   xhelper move DX DY            move the pointer by DX, DY
 *   xhelper close ID              ask the window to close
 * Exits 0 on success, 1 with a message otherwise.
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what)
{
    fprintf(stderr, "xhelper: %s\n", what);
    return 1;
}

static Window find_window(Display *dpy, Window parent, const char *name)
{
    Window root, up, *kids = NULL;
    unsigned n = 0;
    Window found = 0;
    if (!XQueryTree(dpy, parent, &root, &up, &kids, &n)) {
        return 0;
    }
    for (unsigned i = 0; i < n && !found; i++) {
        char *title = NULL;
        XWindowAttributes attr;
        if (XFetchName(dpy, kids[i], &title) && title) {
            if (!strncmp(title, name, strlen(name)) && XGetWindowAttributes(dpy, kids[i], &attr) &&
                attr.map_state == IsViewable) {
                found = kids[i];
            }
            XFree(title);
        }
        if (!found) {
            found = find_window(dpy, kids[i], name);
        }
    }
    if (kids) {
        XFree(kids);
    }
    return found;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Windows of other clients (a parallel test's popek) may be destroyed
 * while the tree is walked: a BadWindow then only means "not this one". */
static int ignore_x_error(Display *dpy, XErrorEvent *ev)
{
    (void)dpy;
    (void)ev;
    return 0;
}

static int cmd_find(Display *dpy, const char *name)
{
    XSetErrorHandler(ignore_x_error);
    for (int tries = 0; tries < 100; tries++) {
        Window w = find_window(dpy, DefaultRootWindow(dpy), name);
        if (w) {
            printf("%lu\n", (unsigned long)w);
            return 0;
        }
        pause_ms(100);
    }
    return fail("no such window");
}

static int cmd_pixel(Display *dpy, Window w, int x, int y)
{
    XImage *img = XGetImage(dpy, w, x, y, 1, 1, AllPlanes, ZPixmap);
    if (!img) {
        return fail("cannot read the window");
    }
    printf("%06lx\n", XGetPixel(img, 0, 0) & 0xffffff);
    XDestroyImage(img);
    return 0;
}

/* Pointer into the window and keyboard focus on it, so XTEST input lands there. */
static void focus(Display *dpy, Window w)
{
    XWindowAttributes attr;
    XGetWindowAttributes(dpy, w, &attr);
    XWarpPointer(dpy, None, w, 0, 0, 0, 0, attr.width / 2, attr.height / 2);
    XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
    XSync(dpy, False);
    pause_ms(50);
}

static int cmd_key(Display *dpy, Window w, char *chord)
{
    KeyCode codes[8];
    int n = 0;
    for (char *save = NULL, *name = strtok_r(chord, "+", &save); name && n < 8;
         name = strtok_r(NULL, "+", &save)) {
        KeySym sym = XStringToKeysym(name);
        if (sym == NoSymbol || !(codes[n] = XKeysymToKeycode(dpy, sym))) {
            return fail("unknown key");
        }
        n++;
    }
    focus(dpy, w);
    for (int i = 0; i < n; i++) {
        XTestFakeKeyEvent(dpy, codes[i], True, CurrentTime);
        XSync(dpy, False);
        pause_ms(30);
    }
    for (int i = n - 1; i >= 0; i--) {
        XTestFakeKeyEvent(dpy, codes[i], False, CurrentTime);
        XSync(dpy, False);
        pause_ms(30);
    }
    return 0;
}

static int cmd_close(Display *dpy, Window w)
{
    XEvent ev;
    memset(&ev, 0, sizeof(ev));
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
    ev.xclient.data.l[1] = CurrentTime;
    XSendEvent(dpy, w, False, NoEventMask, &ev);
    XSync(dpy, False);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        return fail("usage: xhelper find|title|size|pixel|key|click|move|close ...");
    }
    Display *dpy = XOpenDisplay(NULL);
    if (!dpy) {
        return fail("cannot open the display");
    }
    const char *cmd = argv[1];
    Window w = (Window)strtoul(argv[2], NULL, 0);
    int rc = 0;
    if (!strcmp(cmd, "find")) {
        rc = cmd_find(dpy, argv[2]);
    } else if (!strcmp(cmd, "title")) {
        char *title = NULL;
        rc = XFetchName(dpy, w, &title) && title ? (printf("%s\n", title), 0) : fail("no title");
        XFree(title);
    } else if (!strcmp(cmd, "size")) {
        XWindowAttributes attr;
        rc = XGetWindowAttributes(dpy, w, &attr) ? (printf("%d %d\n", attr.width, attr.height), 0)
                                                 : fail("no window");
    } else if (!strcmp(cmd, "pixel") && argc == 5) {
        rc = cmd_pixel(dpy, w, atoi(argv[3]), atoi(argv[4]));
    } else if (!strcmp(cmd, "key") && argc == 4) {
        rc = cmd_key(dpy, w, argv[3]);
    } else if (!strcmp(cmd, "click")) {
        focus(dpy, w);
        XTestFakeButtonEvent(dpy, 1, True, CurrentTime);
        XSync(dpy, False);
        pause_ms(30);
        XTestFakeButtonEvent(dpy, 1, False, CurrentTime);
    } else if (!strcmp(cmd, "move") && argc == 4) {
        XTestFakeRelativeMotionEvent(dpy, atoi(argv[2]), atoi(argv[3]), CurrentTime);
    } else if (!strcmp(cmd, "close")) {
        rc = cmd_close(dpy, w);
    } else {
        rc = fail("bad command");
    }
    XSync(dpy, False);
    XCloseDisplay(dpy);
    return rc;
}
