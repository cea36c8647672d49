/*
 * The terminal side of -nographic: raw mode on the controlling terminal
 * (restored on every exit path, signals included) and QEMU's Ctrl-A escape
 * keys on the input going to the serial port.
 */
#ifndef FRONTEND_HEADLESS_H
#define FRONTEND_HEADLESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Headless {
    bool raw;             /* the terminal is in raw mode (must be restored) */
    bool escape_pending;  /* Ctrl-A seen, waiting for the command key */
    bool quit;            /* Ctrl-A x */
    /* Ctrl-A c hands the keys to the monitor and back (set after headless_start). */
    bool monitor_active;  /* keys go to the monitor, not to the serial port */
    void (*monitor_input)(void *opaque, const uint8_t *data, int len); /* NULL: no monitor */
    void (*monitor_focus)(void *opaque, bool active);
    void *monitor_opaque;
} Headless;

/* Put stdin in raw mode if it is a terminal; install restore handlers. */
void headless_start(Headless *h);
/* Restore the terminal (idempotent; also runs at exit and on fatal signals). */
void headless_stop(Headless *h);
/*
 * Process host input: escapes are handled here, keys for the monitor go to
 * it, the remaining bytes are written to out (at most len bytes); returns
 * how many bytes to pass on to the serial port.
 */
int headless_filter(Headless *h, const uint8_t *in, int len, uint8_t *out);

#endif /* FRONTEND_HEADLESS_H */
