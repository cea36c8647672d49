/*
 * The host's side of one VM: the images and character devices the options
 * name, opened and handed to the board as backends; the terminal, the
 * monitor, the gdb stub and the window; and the PCHostOps through which
 * the board's main loop serves them between CPU slices.
 */
#ifndef FRONTEND_HOST_H
#define FRONTEND_HOST_H

#include <stdbool.h>

#include "block/drive.h"
#include "chardev/chardev.h"
#include "frontend/display.h"
#include "frontend/headless.h"
#include "frontend/options.h"
#include "hw/pc/pc.h"

typedef struct Host {
    PC pc;                 /* the machine */
    Drive drives[PC_MAX_DRIVES]; /* images behind IDE drives 0-3 */
    Chardev serial_out;    /* COM1's host side */
    Chardev debugcon_out;  /* port 0xE9's host side */
    Chardev bioslog_out;   /* port 0x402's host side (SeaBIOS's log) */
    int stdin_fd;          /* serial input source, -1 for none */
    bool escapes;          /* -nographic: Ctrl-A escape keys on the input */
    Headless headless;     /* terminal state for -nographic */
    struct GdbStub *gdb;   /* -gdb / -s, or NULL */
    struct Monitor *monitor; /* -monitor, or -nographic's Ctrl-A c; NULL without */
    Display display;       /* the VGA's screen, for the window and the dumps */
    /* The window's share of the main loop (frontend/sdl.c), or NULL: called
     * between CPU slices and while idle; returns how many ms the loop may
     * sleep before calling it again. */
    int (*ui_poll)(void *opaque);
    void *ui_opaque;
} Host;

/* Open the backends the options name and build the machine; on an error
 * prints one line and exits 1. */
void host_init(Host *h, const PopekOptions *opts);
/* Run the machine (pc_run with the host's hooks); returns the exit status. */
int host_run(Host *h);
void host_destroy(Host *h);

#endif /* FRONTEND_HOST_H */
