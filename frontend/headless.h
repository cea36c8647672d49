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
} Headless;

/* Put stdin in raw mode if it is a terminal; install restore handlers. */
void headless_start(Headless *h);
/* Restore the terminal (idempotent; also runs at exit and on fatal signals). */
void headless_stop(Headless *h);
/*
 * Process host input: escapes are handled here, the remaining bytes are
 * written to out (at most len bytes); returns how many bytes to pass on.
 */
int headless_filter(Headless *h, const uint8_t *in, int len, uint8_t *out);

#endif /* FRONTEND_HEADLESS_H */
