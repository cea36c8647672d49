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
#include "net/netdev.h"

typedef struct Host {
    PC pc;                 /* the machine */
    Drive drives[PC_MAX_DRIVES]; /* images behind IDE drives 0-3 */
    Drive floppies[PC_MAX_FLOPPIES]; /* images in floppy drives A: and B: */
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
    /* The network (frontend/host_net.c).  The board builds nic_count cards
     * as nics[] describes them (model, MAC, name); card i is cabled with
     * net_client_attach(its NetClient, nic_netdev[i]) when nic_netdev[i]
     * is not NULL (a card without a netdev has no cable). */
    Net *net;              /* the netdevs the options name */
    int nic_count;         /* cards for the board */
    const NicOption *nics; /* the options' cards */
    Netdev *nic_netdev[OPTIONS_MAX_NICS]; /* each card's netdev, or NULL */
    NetPollSet pollset;    /* what host_poll waits on, kept between rounds */
} Host;

/* Open the backends the options name and build the machine; on an error
 * prints one line and exits 1. */
void host_init(Host *h, const PopekOptions *opts);
/* Run the machine (pc_run with the host's hooks); returns the exit status. */
int host_run(Host *h);
void host_destroy(Host *h);

/* Open the netdevs and filters the options name and find each card's
 * netdev; on an error prints one line and exits 1 (frontend/host_net.c). */
void host_net_open(Host *h, const PopekOptions *opts);
void host_net_close(Host *h);
/* The monitor's network commands: "info network", "info usernet",
 * "hostfwd_add", "hostfwd_remove", "set_link"; args is the rest of the
 * line.  The answer goes to buf (snprintf rules). */
int host_net_command(void *host, const char *cmd, const char *args, char *buf, size_t len);

#endif /* FRONTEND_HOST_H */
