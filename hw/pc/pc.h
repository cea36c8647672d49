/*
 * The PC: one CPU, RAM, firmware and the ISA/PCI devices, wired together,
 * and the main loop that runs the CPU between timer deadlines.
 */
#ifndef FRONTEND_PC_H
#define FRONTEND_PC_H

#include "cpu/state.h"
#include "frontend/chardev.h"
#include "frontend/display.h"
#include "frontend/headless.h"
#include "frontend/options.h"
#include "hw/i8042.h"
#include "hw/timer.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

typedef struct PCDevices PCDevices;

typedef struct PC {
    const PopekOptions *opts;
    CPUState cpu;
    PhysMem phys;
    IOPortMap io;
    TimerList timers;
    PCDevices *dev;        /* device states (frontend/pc.c) */
    Chardev serial_out;    /* COM1's host side */
    Chardev com2_out;      /* COM2's host side (null) */
    Chardev debugcon_out;  /* port 0xE9's host side */
    Chardev bioslog_out;   /* port 0x402's host side (SeaBIOS's log) */
    bool exit_requested;   /* isa-debug-exit, power-off, or -no-reboot reset */
    int exit_status;       /* popek's exit status once exit_requested */
    bool reset_requested;  /* i8042, port 0x92, 0xCF9 */
    bool a20_kbd;          /* A20 gate of the i8042 output port */
    bool a20_port92;       /* A20 gate of system control port A */
    int stdin_fd;          /* serial input source, -1 for none */
    bool escapes;          /* -nographic: Ctrl-A escape keys on the input */
    Headless headless;     /* terminal state for -nographic */
    bool stopped;          /* paused: -S, monitor stop, gdb (shared by the monitor and gdb) */
    struct GdbStub *gdb;   /* -gdb / -s, or NULL */
    struct Monitor *monitor; /* -monitor, or -nographic's Ctrl-A c; NULL without */
    uint64_t irq_counts[256]; /* hardware interrupts acknowledged, per vector (info irq) */
    Display display;       /* the VGA's screen, for the window and the dumps */
    /* The window's share of the main loop (frontend/sdl.c), or NULL: called
     * between CPU slices and while idle; returns how many ms the loop may
     * sleep before calling it again. */
    int (*ui_poll)(void *opaque);
    void *ui_opaque;
} PC;

/* Build the machine; on a configuration error prints one line and exits 1. */
void pc_init(PC *pc, const PopekOptions *opts);
/* System reset: CPU and devices to power-on state, firmware kept. */
void pc_reset(PC *pc);
/* Run until the guest asks to exit; returns popek's exit status. */
int pc_run(PC *pc);
void pc_destroy(PC *pc);

/* Machine controls for the monitor and the gdb stub. */
void pc_request_reset(PC *pc);
void pc_request_exit(PC *pc, int status);
void pc_power_button(PC *pc); /* the ACPI power button */
I8042State *pc_keyboard(PC *pc); /* where the window's keys and mouse go */
/* The interrupt controller's state / interrupt counts per vector, into buf
 * (snprintf rules). */
int pc_pic_info(PC *pc, char *buf, size_t len);
int pc_irq_info(PC *pc, char *buf, size_t len);

#endif /* FRONTEND_PC_H */
