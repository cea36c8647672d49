/*
 * Host ends of character devices (serial, debug console): the
 * chardev/char.h interface over stdio, a file or nothing.
 */
#ifndef CHARDEV_CHARDEV_H
#define CHARDEV_CHARDEV_H

#include <stdbool.h>

#include "chardev/char.h"

typedef struct Chardev {
    CharBackend backend; /* what the device writes to */
    int fd;              /* output descriptor, -1 for null */
    bool owns_fd;        /* opened by us (file:) */
    bool is_stdio;       /* connected to the terminal / pipes */
} Chardev;

/* spec: "stdio", "file:PATH", "null" or NULL (= null).  what names the
 * option in errors.  Exits with a one-line message if a file cannot open. */
void chardev_open(Chardev *c, const char *spec, const char *what);
void chardev_close(Chardev *c);

#endif /* CHARDEV_CHARDEV_H */
