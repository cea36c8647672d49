/*
 * Host ends of character devices (serial ports, the debug console, the
 * monitor, QMP): the chardev/char.h interface over stdio, a file, nothing,
 * a pseudo-terminal, or a TCP or unix socket (listening or connecting).
 *
 * A Chardev is described first (ChardevSpec: chardev/spec.c parses QEMU's
 * two spellings, "-serial tcp::4444,server,nowait" and "-chardev
 * socket,id=c0,port=4444,server=on,wait=off"), then opened.  Output goes
 * through CharBackend.write; input is read between CPU slices by the owner's
 * poll (chardev_pollfds / chardev_service) and handed to whoever attached
 * with chardev_set_receiver, no more bytes than it says it can take.
 */
#ifndef CHARDEV_CHARDEV_H
#define CHARDEV_CHARDEV_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chardev/char.h"

enum ChardevKind {
    CHARDEV_NULL,
    CHARDEV_STDIO,
    CHARDEV_FILE,
    CHARDEV_PTY,
    CHARDEV_SOCKET, /* TCP or unix, listening (server) or connecting */
    CHARDEV_VC,     /* QEMU's graphical text console: popek has none (= null) */
    CHARDEV_REF,    /* "chardev:ID": another chardev, by name (options only) */
};

#define CHARDEV_ID_MAX   64
#define CHARDEV_PATH_MAX 108 /* sun_path */

/* A chardev as the options describe it. */
typedef struct ChardevSpec {
    enum ChardevKind kind;
    char id[CHARDEV_ID_MAX]; /* -chardev id=, the referenced id for CHARDEV_REF, or "" */
    char path[4096];         /* file: and unix: paths */
    bool is_unix;            /* socket: unix (path) rather than TCP (host, port) */
    char host[256];          /* TCP host; "" = loopback when listening */
    char port[32];           /* TCP port (number or service name) */
    bool server;             /* listen instead of connect */
    bool wait;               /* server: wait for the first client before starting */
    bool mux;                /* mon:... / mux=on: serial and monitor share it (Ctrl-A c) */
} ChardevSpec;

/* The old spelling, as -serial, -monitor, -qmp and -debugcon take it:
 * null, stdio, vc[:WxH], pty, file:PATH, tcp:[HOST]:PORT[,server][,nowait]
 * [,wait=on|off][,server=on|off], unix:PATH[,...], chardev:ID, mon:SPEC.
 * False with a one-line reason in err. */
bool chardev_parse_legacy(const char *text, ChardevSpec *spec, char *err, size_t errlen);
/* -chardev BACKEND,id=ID[,path=][,host=][,port=][,server=on|off][,wait=on|off]
 * [,mux=on|off] with BACKEND null, stdio, file, pty, socket, vc. */
bool chardev_parse_opts(const char *text, ChardevSpec *spec, char *err, size_t errlen);

enum ChardevEvent {
    CHARDEV_OPENED, /* a peer is there to talk to (a client connected, or at attach) */
    CHARDEV_CLOSED, /* the peer went away */
};

typedef struct Chardev {
    CharBackend backend;        /* what the device writes to */
    ChardevSpec spec;           /* what it was opened from */
    char label[CHARDEV_ID_MAX]; /* for messages: the id, or serial0, monitor0, ... */
    int in_fd;                  /* input descriptor, -1 for none (no peer yet, null, file) */
    int out_fd;                 /* output descriptor, -1 while output is dropped */
    int listen_fd;              /* a server socket waiting for its next client, or -1 */
    bool owns_fds;              /* close in_fd/out_fd on close (not stdio's) */
    bool is_socket;             /* send() with MSG_NOSIGNAL: the peer may vanish */
    bool is_stdio;              /* connected to this process's stdin/stdout */
    int pty_slave_fd;           /* kept open so the master never hangs up; -1 */
    char pty_name[64];          /* /dev/pts/N */
    /* The receiving end (chardev_set_receiver). */
    int (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, enum ChardevEvent event);
    void *rx_opaque;
} Chardev;

/* A closed chardev (output dropped, nothing to poll; chardev_close is safe). */
void chardev_init(Chardev *c);
/* Open what spec describes (not CHARDEV_REF); label names it in messages.
 * A listening socket binds now and, with wait, blocks until a client comes.
 * False with a one-line reason in err. */
bool chardev_open_spec(Chardev *c, const ChardevSpec *spec, const char *label, char *err,
                       size_t errlen);
/* The old spelling in one go, for -debugcon and -bioslog: exits with a
 * one-line message naming what on an error. */
void chardev_open(Chardev *c, const char *text, const char *what);
void chardev_close(Chardev *c);

/* Attach the receiving end; event (may be NULL) hears of peers coming and
 * going, and hears CHARDEV_OPENED at once if one is already there. */
void chardev_set_receiver(Chardev *c, int (*can_receive)(void *opaque),
                          void (*receive)(void *opaque, const uint8_t *buf, int len),
                          void (*event)(void *opaque, enum ChardevEvent event), void *opaque);
/* Write all of buf (dropped if there is no peer). */
void chardev_write(Chardev *c, const void *buf, size_t len);
/* Is a peer there to read what is written? */
bool chardev_connected(const Chardev *c);

/* Descriptors to wait on (at most max), and service after poll(): accept
 * a client, read input for the receiver, notice a peer leaving. */
int chardev_pollfds(Chardev *c, struct pollfd *fds, int max);
void chardev_service(Chardev *c, const struct pollfd *fds, int n);

/* The socket backend (chardev/socket.c): listen or connect as spec says,
 * leaving the descriptors in c; and take the next client. */
bool chardev_socket_open(Chardev *c, char *err, size_t errlen);
bool chardev_socket_accept(Chardev *c);

#endif /* CHARDEV_CHARDEV_H */
