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

typedef struct Host Host;

/* A COM port's end of its chardev (the receiver's opaque). */
#define HOST_SERIAL_PENDING 64
typedef struct HostSerial {
    Host *host;
    int port; /* 0: COM1 */
    /* Keys from the mux's escape filter waiting for room in the UART. */
    uint8_t pending[HOST_SERIAL_PENDING];
    int pending_len;
} HostSerial;

/* The last migration out or in, for info migrate (frontend/host_migrate.c). */
typedef struct HostMigration {
    const char *status; /* "completed", "failed", or NULL: none yet */
    int64_t total_ms;   /* how long it took */
    uint64_t bytes;     /* the state's size */
    char error[256];    /* why it failed */
} HostMigration;

struct Host {
    PC pc;                 /* the machine */
    Drive drives[PC_MAX_DRIVES]; /* images behind IDE drives 0-3 */
    Drive floppies[PC_MAX_FLOPPIES]; /* images in floppy drives A: and B: */
    Drive blockdevs[OPTIONS_MAX_BLOCKDEVS]; /* images of -drive if=none|virtio */
    /* Each of them as the monitor shows it (frontend/host_monitor.c). */
    int nblockdevs;
    char *blockdev_name[OPTIONS_MAX_BLOCKDEVS]; /* id=, or QEMU's virtioN (malloc'd) */
    char *blockdev_file[OPTIONS_MAX_BLOCKDEVS]; /* its image (malloc'd) */
    bool blockdev_readonly[OPTIONS_MAX_BLOCKDEVS];
    int blockdev_disk[OPTIONS_MAX_BLOCKDEVS]; /* its virtio-blk disk, or -1 */
    /* Each IDE index as the monitor shows it (frontend/host_monitor.c). */
    bool drive_present[PC_MAX_DRIVES];
    bool drive_cdrom[PC_MAX_DRIVES];
    bool drive_readonly[PC_MAX_DRIVES];
    char *drive_file[PC_MAX_DRIVES]; /* its image (malloc'd), NULL for an empty drive */
    /* The consoles (frontend/host_chardev.c): CharOptions.chardevs opened
     * (chardev:ID entries and an unused stdio stay closed). */
    Chardev chardevs[OPTIONS_MAX_CHARDEVS];
    bool chardev_opened[OPTIONS_MAX_CHARDEVS];
    Chardev *serial[PC_MAX_SERIALS]; /* each COM port's chardev, or NULL */
    HostSerial serial_rx[PC_MAX_SERIALS];
    Chardev *monitor_chr;  /* -monitor's, or NULL (none, or the mux) */
    Chardev *qmp_chr;      /* -qmp's, or NULL */
    Chardev *mux;          /* mon:stdio / -nographic: COM1 and the monitor, or NULL */
    Chardev debugcon_out;  /* port 0xE9's host side */
    Chardev bioslog_out;   /* port 0x402's host side (SeaBIOS's log) */
    bool escapes;          /* the mux: Ctrl-A escape keys on the input */
    Headless headless;     /* terminal state for the mux */
    /* What host_watch compares between polls (frontend/host_qmp.c). */
    const char *shutdown_reason; /* QMP's SHUTDOWN reason once the run ends, or NULL */
    const char *reset_reason;    /* the host's reason for the reset it asked for, or NULL */
    bool was_stopped;            /* run state QMP last heard of */
    uint64_t resets_seen;        /* PC.reset_count QMP last heard of */
    bool signal_seen;            /* a termination signal was acted on */
    struct GdbStub *gdb;   /* -gdb / -s, or NULL */
    struct Monitor *monitor; /* -monitor, or -nographic's Ctrl-A c; NULL without */
    struct Qmp *qmp;       /* -qmp, or NULL */
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
    HostMigration migration; /* info migrate */
};

/* Open the backends the options name and build the machine; on an error
 * prints one line and exits 1. */
void host_init(Host *h, const PopekOptions *opts);
/* Run the machine (pc_run with the host's hooks); returns the exit status. */
int host_run(Host *h);
void host_destroy(Host *h);

/* The consoles (frontend/host_chardev.c): open the chardevs the options
 * name and give the board the COM ports' backends (exits with one line on
 * an error); once the board exists, feed the ports their input; add every
 * chardev's descriptors to h->pollset (returns the first index) and serve
 * them after poll(); close them. */
void host_chardev_open(Host *h, const PopekOptions *opts, PCConfig *cfg);
void host_chardev_attach_serials(Host *h);
int host_chardev_pollfds(Host *h);
void host_chardev_service(Host *h, int first, int end);
void host_chardev_close(Host *h);

/* QMP and the host's watch (frontend/host_qmp.c): serve QMP on
 * h->qmp_chr (false when out of memory); machine controls that tell QMP
 * (reason: QEMU's SHUTDOWN or RESET reason, "host-qmp-quit" ...);
 * host_watch, after each poll, acts on a termination signal and turns run
 * state changes and resets into events; host_shutdown_event at the end. */
bool host_qmp_open(Host *h);
void host_qmp_close(Host *h);
void host_reset(Host *h, const char *reason);
void host_powerdown(Host *h);
void host_quit(Host *h, const char *reason);
void host_watch(Host *h);
void host_shutdown_event(Host *h);

/* The monitor's drive and memory-map commands: info block, info mtree,
 * eject, change (MonitorOps.host_command; frontend/host_monitor.c). */
int host_monitor_command(void *host, const char *cmd, const char *args, char *buf, size_t len);

/* Saved VMs (frontend/host_migrate.c): the whole VM to a migration URI
 * (file:PATH, exec:CMD; the VM is left paused, as QEMU's postmigrate), a
 * start from one (-incoming) or from a snapshot (-loadvm), false with one
 * line in err; and the monitor's migrate, info migrate, savevm, loadvm,
 * delvm and info snapshots (MonitorOps.host_command's shape). */
bool host_migrate(Host *h, const char *uri, char *err, size_t errlen);
bool host_incoming(Host *h, const char *uri, char *err, size_t errlen);
bool host_loadvm(Host *h, const char *name, char *err, size_t errlen);
bool host_savevm(Host *h, const char *name, char *err, size_t errlen);
bool host_delvm(Host *h, const char *name, char *err, size_t errlen);
int host_migrate_command(void *host, const char *cmd, const char *args, char *buf, size_t len);

/* Open the netdevs and filters the options name and find each card's
 * netdev; on an error prints one line and exits 1 (frontend/host_net.c). */
void host_net_open(Host *h, const PopekOptions *opts);
void host_net_close(Host *h);
/* Each user netdev's libslirp state as a section of saved VMs. */
void host_net_register_state(Host *h);
/* The monitor's network commands: "info network", "info usernet",
 * "hostfwd_add", "hostfwd_remove", "set_link"; args is the rest of the
 * line.  The answer goes to buf (snprintf rules). */
int host_net_command(void *host, const char *cmd, const char *args, char *buf, size_t len);

#endif /* FRONTEND_HOST_H */
