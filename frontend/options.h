/*
 * Command-line options, in QEMU's spelling where QEMU has the option.
 */
#ifndef FRONTEND_OPTIONS_H
#define FRONTEND_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "chardev/chardev.h"
#include "frontend/sandbox.h"
#include "hw/pc/pc.h" /* enum Accel, PC_MAX_DRIVES */
#include "net/net.h"
#include "net/slirp.h"
#include "net/socket.h"

typedef struct DriveOption {
    bool present;         /* this index was given */
    const char *file;     /* image path; NULL for an empty CD-ROM drive */
    bool cdrom;           /* media=cdrom (-cdrom) */
    bool readonly;        /* readonly=on */
    const char *format;   /* format=raw|qcow2, or NULL: probe (and warn on raw) */
    const char *option;   /* the option that gave it, for messages */
    const char *id;       /* id= (if=none, if=virtio), or NULL */
    const char *serial;   /* serial= (GET_ID of a virtio disk), or NULL */
    bool no_lock;         /* file.locking=off: the image's file is not locked */
} DriveOption;

/* Drives for devices other than IDE and floppy (-drive if=none|virtio). */
#define OPTIONS_MAX_BLOCKDEVS 8

/* A virtio-blk-pci disk (-drive if=virtio, -device virtio-blk-pci). */
typedef struct VirtioBlkOption {
    int drive;            /* index into PopekOptions.blockdevs (-1 until resolved) */
    const char *drive_id; /* -device's drive=ID, resolved by options_block_finish */
    const char *serial;   /* serial=, or NULL: the drive's */
    const char *option;   /* for messages: "-device virtio-blk-pci,drive=d0" */
} VirtioBlkOption;

#define OPTIONS_MAX_NICS    PC_MAX_NICS /* network cards the board is asked for */
#define OPTIONS_MAX_NETDEVS 8
#define OPTIONS_MAX_DUMPS   8

/* A network card for the board (-nic, -device, -net nic, or the default). */
typedef struct NicOption {
    const char *model;        /* "e1000" or "virtio-net-pci" */
    uint8_t mac[NET_MAC_LEN]; /* mac=, or QEMU's 52:54:00:12:34:56 counting up */
    const char *id;           /* its name (id=, or MODEL.N): info network, set_link */
    const char *netdev;       /* the netdev it is cabled to, or NULL for none */
    const char *option;       /* the option that asked for it, and its argument, */
    const char *arg;          /* for messages */
} NicOption;

enum NetdevKind { NETDEV_USER, NETDEV_SOCKET };

/* A network backend to open on the host (-netdev, -nic TYPE, -net TYPE). */
typedef struct NetdevOption {
    enum NetdevKind kind;
    const char *id;
    NetSlirpConfig user;    /* kind NETDEV_USER */
    NetSocketConfig socket; /* kind NETDEV_SOCKET */
    bool hub;               /* -net TYPE: on QEMU's hub 0 with -net nic */
    const char *option;     /* for messages: "-netdev" and "user,id=n0,..." */
    const char *arg;
} NetdevOption;

/* -object filter-dump,id=ID,netdev=NETDEV,file=PATH[,maxlen=N] */
typedef struct DumpOption {
    const char *id;
    const char *netdev;
    const char *file;
    uint32_t maxlen;
    const char *arg; /* for messages */
} DumpOption;

typedef struct NetOptions {
    bool given; /* any -net, -netdev or -nic (none too): no default network */
    int nic_count;
    NicOption nics[OPTIONS_MAX_NICS];
    int netdev_count;
    NetdevOption netdevs[OPTIONS_MAX_NETDEVS];
    int dump_count;
    DumpOption dumps[OPTIONS_MAX_DUMPS];
} NetOptions;

#define OPTIONS_MAX_CHARDEVS 16

/* The consoles and the process (frontend/options_chardev.c). */
typedef struct CharOptions {
    int chardev_count;  /* -chardev first, then those -serial, -monitor, -qmp open */
    ChardevSpec chardevs[OPTIONS_MAX_CHARDEVS];
    int serial_count;   /* -serial options given */
    int serial[PC_MAX_SERIALS]; /* each COM port's chardev index; -1: none */
    int monitor;        /* -monitor / -mon: the monitor's chardev index, -1: none */
    bool monitor_given; /* -monitor or -mon (none too): no default monitor */
    int qmp;            /* -qmp / -mon mode=control: QMP's chardev index, -1: none */
    int mux;            /* the chardev serial and monitor share (mon:stdio), -1: none */
    bool daemonize;     /* -daemonize */
    const char *pidfile; /* -pidfile FILE */
} CharOptions;

typedef struct PopekOptions {
    uint64_t ram_bytes;       /* -m */
    const char *bios;         /* -bios FILE: raw ROM image */
    const char *kernel;       /* -kernel */
    const char *initrd;       /* -initrd */
    const char *append;       /* -append */
    const char *debugcon;     /* -debugcon stdio|file:PATH|null */
    bool nographic;           /* -nographic / --nographic */
    bool display_none;        /* -display none */
    bool display_sdl;         /* -display sdl: a window, or fail */
    const char *name;         /* -name: the VM's name (window title) */
    const char *textdump;     /* -textdump FILE: the text screen, written at exit */
    bool no_reboot;           /* -no-reboot */
    bool perfmap;             /* -perfmap: /tmp/perf-PID.map for perf */
    bool debug_exit;          /* -device isa-debug-exit */
    uint16_t debug_exit_base; /* its iobase (default 0x501, QEMU's) */
    uint16_t debug_exit_size; /* its iosize (default 1) */
    int icount_shift;         /* -icount N (or shift=N); -1 = host clock */
    enum Accel accel;         /* --accel */
    CPUIDConfig cpu;          /* -cpu NAME[,+feat,-feat]; model NULL: the default */
    unsigned tb_size_mib;     /* -tb-size: translated-code cache in MiB */
    int64_t rtc_base;         /* -rtc base=...; -1 = host time at start (or fixed with -icount) */
    bool rtc_localtime;       /* -rtc base=localtime: the RTC starts at local time */
    const char *trace_categories; /* -d LIST */
    const char *trace_file;   /* -D FILE */
    const char *trace_filter; /* -dfilter RANGES */
    uint64_t trace_start;     /* -dstart N: the trace window opens at instruction N */
    uint64_t trace_count;     /* -dcount M: and stays open for M instructions (0: no end) */
    bool trace_trigger_set;   /* -dtrigger ADDR given */
    uint64_t trace_trigger;   /* ... the window opens when CS.base + RIP first equals ADDR */
    const char *gdb;          /* -gdb tcp:[HOST]:PORT (-s: tcp::1234); NULL: no stub */
    bool start_stopped;       /* -S: the CPU waits for gdb's or the monitor's go */
    const char *incoming;     /* -incoming URI: start from a saved VM (file:PATH, exec:CMD) */
    const char *loadvm;       /* -loadvm NAME: start from a snapshot in a qcow2 image */
    DriveOption drives[PC_MAX_DRIVES]; /* -hda..-hdd, -cdrom, -drive */
    DriveOption floppies[PC_MAX_FLOPPIES]; /* -fda, -fdb, -drive if=floppy */
    int nblockdevs;
    DriveOption blockdevs[OPTIONS_MAX_BLOCKDEVS]; /* -drive if=none|virtio */
    int nvirtio_blk;
    VirtioBlkOption virtio_blk[PC_MAX_VIRTIO_BLK]; /* -drive if=virtio, -device virtio-blk-pci */
    bool snapshot;            /* -snapshot: writes go to a temporary overlay */
    const char *firmware_dir; /* -L DIR: where firmware files are looked up first */
    const char *boot_order;   /* -boot: drive letters a, c, d, n in priority order */
    bool boot_menu;           /* -boot menu=on */
    const char *bioslog;      /* -bioslog stdio|file:PATH|null: SeaBIOS's port 0x402 log */
    NetOptions net;           /* -netdev, -nic, -net, -device NIC, -object filter-dump */
    bool vga_none;            /* -vga none: no display card (implies -nographic) */
    bool full_screen;         /* -full-screen: the window covers the screen */
    const char *keymap;       /* -k LAYOUT (QEMU's name), NULL: not given */
    CharOptions chr;          /* -serial, -monitor, -qmp, -chardev, -mon, -daemonize, -pidfile */
    SandboxConfig sandbox;    /* -sandbox */
} PopekOptions;

/* Parse argv; on a bad option prints one line naming it and exits 1.
 * --help and --version print and exit 0. */
void options_parse(PopekOptions *opts, int argc, char **argv);

/* The network options (frontend/options_net.c).  options_net_parse takes
 * -netdev, -nic, -net and -object (false for any other option);
 * options_net_device takes -device for a network card; options_net_finish
 * runs after the last option: the default network, names, MACs and the
 * checks between options. */
bool options_net_parse(PopekOptions *opts, const char *name, const char *arg);
void options_net_device(PopekOptions *opts, const char *model, const char *arg);
void options_net_finish(PopekOptions *opts);
/* Is name a network card model (or QEMU's alias for one)? */
bool options_net_is_model(const char *name);

/* The drives of devices other than IDE and floppy (frontend/options_block.c):
 * options_block_drive takes -drive if=none|virtio (already split into
 * its properties), options_block_device -device virtio-blk-pci, and
 * options_block_finish cables each disk to its drive. */
void options_block_drive(PopekOptions *o, const DriveOption *drive, bool virtio);
void options_block_device(PopekOptions *o, const char *arg);
void options_block_finish(PopekOptions *o);

/* The machine and display options (frontend/options_machine.c):
 * options_machine_parse takes -M/-machine, -cpu, -smp, -vga, -full-screen and -k
 * (false for any other option; *takes_arg says whether it used arg);
 * options_machine_finish runs after the last option. */
bool options_machine_parse(PopekOptions *o, const char *name, const char *arg, bool *takes_arg);
void options_machine_finish(PopekOptions *o);

/* The console and process options (frontend/options_chardev.c):
 * options_chardev_parse takes -serial, -monitor, -qmp, -chardev, -mon,
 * -daemonize and -pidfile (false for any other option; *takes_arg says
 * whether it used arg); options_chardev_finish resolves chardev:ID, the
 * -nographic defaults and the checks between options. */
void options_chardev_init(PopekOptions *opts);
bool options_chardev_parse(PopekOptions *opts, const char *name, const char *arg,
                           bool *takes_arg);
void options_chardev_finish(PopekOptions *opts);
extern const char options_chardev_usage[];

/* Parse a QEMU-style size ("256", "256M", "1G", "512k"); default unit MiB.
 * Returns false on a malformed value. */
bool options_parse_size(const char *text, uint64_t *bytes);

#endif /* FRONTEND_OPTIONS_H */
