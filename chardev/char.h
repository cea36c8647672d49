/*
 * A character backend as devices see it: somewhere to write bytes.  The
 * host side (chardev/chardev.c: stdio, a file, nothing) fills one in;
 * devices such as the UART and the debug console never touch host files.
 * Input travels the other way through the device's own receive function,
 * called by whoever owns the host end (frontend/host.c for COM1).
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <stdint.h>

typedef struct CharBackend {
    void *opaque;
    /* Output; NULL or a sink for "null". */
    void (*write)(void *opaque, const uint8_t *buf, int len);
} CharBackend;

#endif /* CHARDEV_CHAR_H */
