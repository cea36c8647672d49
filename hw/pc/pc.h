/*
 * The PC board: one CPU, RAM, firmware and the ISA/PCI devices, wired
 * together from a PCConfig (hw/pc/pc.c), and the main loop that runs the
 * CPU between timer deadlines (hw/pc/main_loop.c).
 *
 * The board knows nothing of the host: its configuration arrives as plain
 * values and backend interfaces (block/block.h, chardev/char.h) that the
 * frontend opened, and the main loop reaches host input, the debugger and
 * the window only through PCHostOps.
 */
#ifndef HW_PC_PC_H
#define HW_PC_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "chardev/char.h"
#include "net/net.h"
#include "cpu/state.h"
#include "hw/core/timer.h"
#include "migration/vmstate.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

typedef struct I8042State I8042State;
typedef struct VGAState VGAState;

enum Accel { ACCEL_BT, ACCEL_INTERP, ACCEL_CHECK };

/* IDE drives: index = channel * 2 + unit (-hda 0, -hdb 1, -hdc/-cdrom 2, -hdd 3). */
#define PC_MAX_DRIVES 4

/* Floppy drives on the 82077AA: -fda 0, -fdb 1. */
#define PC_MAX_FLOPPIES 2
/* Serial ports: COM1-COM4 (COM1 and COM2 are always there). */
#define PC_MAX_SERIALS 4

/* Network cards: PCI slots 3 onwards, as QEMU's first NIC on a pc machine. */
#define PC_MAX_NICS 8
enum PCNicModel { PC_NIC_E1000, PC_NIC_VIRTIO_NET };

typedef struct PCNic {
    enum PCNicModel model;
    uint8_t mac[NET_MAC_LEN];
} PCNic;

/* virtio-blk-pci disks: PCI slots after the network cards. */
#define PC_MAX_VIRTIO_BLK 4

typedef struct PCDrive {
    bool present;          /* a drive sits at this index */
    bool cdrom;            /* ATAPI CD-ROM rather than an ATA disk */
    const BlockDev *media; /* its image; NULL for an empty CD-ROM drive */
    const char *option;    /* the option that gave it, for messages */
} PCDrive;

/* What the board is built from (the frontend fills it from the options). */
typedef struct PCConfig {
    uint64_t ram_bytes;       /* guest RAM */
    enum Accel accel;         /* execution engine */
    CPUIDConfig cpu;          /* -cpu: model and features; model NULL: the default model */
    unsigned tb_size_mib;     /* translated-code cache in MiB */
    bool perfmap;             /* name translated blocks in /tmp/perf-PID.map */
    int icount_shift;         /* deterministic time: 2^N ns per instruction; -1: host clock */
    int64_t rtc_base;         /* RTC time at power-on (Unix seconds); -1: now (fixed with icount) */
    bool rtc_localtime;       /* rtc_base -1: now in the host's local time zone, not UTC */
    const char *bios;         /* raw ROM image, or NULL: SeaBIOS unless kernel is given */
    bool no_firmware;         /* no BIOS and no kernel: a blank 64 KiB ROM at the top of
                               * memory and in the PAM window, the CPU and devices in
                               * their reset state (the device fuzzer, tests) */
    const char *firmware_dir; /* where firmware files are looked up first, or NULL */
    const char *kernel;       /* direct boot (with bios: the BIOS boots it) */
    const char *initrd;
    const char *append;
    const char *boot_order;   /* drive letters a, c, d, n in priority order */
    bool boot_menu;
    bool no_vga;              /* -vga none: no display card (and no VGA BIOS) */
    uint16_t sercon_port;     /* SeaBIOS's serial console on this port (-nographic: COM1), 0: none */
    bool no_reboot;           /* a reset ends the run instead */
    bool debug_exit;          /* isa-debug-exit */
    uint16_t debug_exit_base;
    uint16_t debug_exit_size;
    PCDrive drives[PC_MAX_DRIVES];
    PCDrive floppies[PC_MAX_FLOPPIES]; /* cdrom is never set; media is the disk */
    int virtio_blk_count;
    PCDrive virtio_blk[PC_MAX_VIRTIO_BLK]; /* cdrom is never set; media is the disk */
    const char *virtio_blk_serial[PC_MAX_VIRTIO_BLK]; /* GET_ID's answer, or NULL */
    int nic_count;
    PCNic nics[PC_MAX_NICS];
    /* COM1-COM4's host sides; COM3 and COM4 exist only with one, COM1
     * and COM2 always (without one, output goes nowhere). */
    const CharBackend *serial[PC_MAX_SERIALS];
    const CharBackend *debugcon; /* port 0xE9, or NULL for no device */
    const CharBackend *bioslog;  /* SeaBIOS's port 0x402, or NULL for no device */
} PCConfig;

/*
 * The host's share of the main loop (frontend/host.c).  poll serves host
 * input (terminal, debugger, monitor, window) for up to timeout_ms.  exec,
 * when set, runs the CPU in place of the engine (the gdb stub, so a
 * breakpoint or a step can stop it before any instruction).
 */
typedef struct PCHostOps {
    void *opaque;
    void (*poll)(void *opaque, int timeout_ms);
    int (*exec)(void *opaque, uint64_t budget);
} PCHostOps;

typedef struct PCDevices PCDevices;

typedef struct PC {
    PCConfig cfg;
    CPUState cpu;
    PhysMem phys;
    IOPortMap io;
    TimerList timers;
    AccessPacer pacer;     /* device accesses: a slice running late is cut (main_loop.c) */
    PCDevices *dev;        /* device states (hw/pc/pc.c) */
    PCHostOps host;        /* set by the frontend before pc_run */
    bool exit_requested;   /* isa-debug-exit, power-off, or -no-reboot reset */
    int exit_status;       /* popek's exit status once exit_requested */
    bool reset_requested;  /* i8042, port 0x92, 0xCF9 */
    bool init_requested;   /* an INIT IPI to the CPU itself (the local APIC) */
    uint64_t reset_count;  /* system resets done since power-on (QMP's RESET event) */
    bool a20_kbd;          /* A20 gate of the i8042 output port */
    bool a20_port92;       /* A20 gate of system control port A */
    bool stopped;          /* paused: -S, monitor stop, gdb (shared by the monitor and gdb) */
    bool kernel_via_bios;  /* -kernel is not a Linux kernel: SeaBIOS boots its real-mode setup */
    uint64_t irq_counts[256]; /* hardware interrupts acknowledged, per vector (info irq) */
    double insns_per_ns;   /* host clock: how fast the CPU has been running (hw/pc/main_loop.c) */
    struct VMRegistry *vmstate; /* every section of a saved VM (hw/pc/vmstate_pc.c) */
} PC;

/* Build the machine; on a configuration error prints one line and exits 1. */
void pc_init(PC *pc, const PCConfig *cfg);
/* System reset: CPU and devices to power-on state, firmware kept. */
void pc_reset(PC *pc);
/* Run until the guest asks to exit; returns popek's exit status. */
int pc_run(PC *pc);
/* One slice on the machine's engine (translator or interpreter), for a
 * PCHostOps.exec that wraps it. */
int pc_engine_exec(PC *pc, uint64_t budget);
void pc_destroy(PC *pc);

/* Saved VM state (hw/pc/vmstate_pc.c): the whole machine into w (false:
 * out of host memory), and back from a saved state (false with one line
 * in err).  Between slices only.  With rollback, a load that fails part
 * way leaves the machine as it was before it started; without, the
 * machine is undefined after a failure (a start-up -incoming exits).  If
 * the rollback itself fails, err says so, one line goes to stderr and the
 * machine is stopped with exit status 1 (pc_request_exit). */
bool pc_save_state(PC *pc, VMWriter *w);
bool pc_load_state(PC *pc, const uint8_t *data, size_t len, bool rollback, char *err,
                   size_t errlen);

/* Machine controls for the monitor, the gdb stub and the window. */
void pc_request_reset(PC *pc);
void pc_request_exit(PC *pc, int status);
void pc_power_button(PC *pc);    /* the ACPI power button */
I8042State *pc_keyboard(PC *pc); /* where the window's keys and mouse go */
VGAState *pc_vga(PC *pc);        /* the screen */
/* Network card i (0 <= i < cfg.nic_count): its end of the link, for the
 * host to cable, and a line describing it (snprintf rules). */
NetClient *pc_nic_client(PC *pc, int i);
int pc_nic_info(PC *pc, int i, char *buf, size_t len);
/* virtio-blk disk i (0 <= i < cfg.virtio_blk_count): a line describing
 * it (snprintf rules). */
int pc_virtio_blk_info(PC *pc, int i, char *buf, size_t len);
/* The CD-ROM drive at IDE index i (0-3): its state (false if there is
 * none), and a disc put in (media) or taken out (NULL). */
bool pc_cdrom_state(PC *pc, int i, bool *has_media, bool *locked, bool *tray_open);
void pc_cdrom_change(PC *pc, int i, const BlockDev *media);
/* COM port's (0: COM1) receiver: room for host input, and the input itself. */
int pc_serial_room(PC *pc, int port);
void pc_serial_input(PC *pc, int port, const uint8_t *buf, int len);
/* The interrupt controller's state / interrupt counts per vector, into buf
 * (snprintf rules). */
int pc_pic_info(PC *pc, char *buf, size_t len);
int pc_lapic_info(PC *pc, char *buf, size_t len);
int pc_irq_info(PC *pc, char *buf, size_t len);

#endif /* HW_PC_PC_H */
