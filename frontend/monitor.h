/*
 * The monitor: QEMU's human monitor commands (info registers, info tlb,
 * info mem, info pic, info irq, info network, x/, xp/, stop, cont,
 * system_reset, system_powerdown, set_link, hostfwd_add, hostfwd_remove,
 * quit, help) for the user and for gdb's "monitor".
 *
 * It answers on up to two consoles: the chardev -monitor names (stdio, a
 * pty, a TCP or unix socket server ...), and the -nographic terminal, which Ctrl-A c hands
 * to it and back (the headless filter routes the keys here).  Commands
 * reach the machine only through MonitorOps and the shared run state, so a
 * monitor can live without a PC (the gdb fuzzer).
 */
#ifndef FRONTEND_MONITOR_H
#define FRONTEND_MONITOR_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chardev/chardev.h"
#include "cpu/state.h"

typedef struct Monitor Monitor;

/* What the monitor may ask of the machine; any callback may be NULL. */
typedef struct MonitorOps {
    void *opaque;
    /* Describe the interrupt controller / interrupt counts into buf (snprintf rules). */
    int (*pic_info)(void *opaque, char *buf, size_t len);
    int (*irq_info)(void *opaque, char *buf, size_t len);
    void (*reset)(void *opaque);     /* system_reset */
    void (*powerdown)(void *opaque); /* system_powerdown: press the ACPI power button */
    void (*quit)(void *opaque);      /* quit: leave popek */
    /* screendump FILE (PNG) and textdump FILE (UTF-8 text): false with a
     * one-line reason in err (frontend/display.c). */
    bool (*screendump)(void *opaque, const char *path, char *err, size_t errlen);
    bool (*textdump)(void *opaque, const char *path, char *err, size_t errlen);
    /* The network's commands (info network, info usernet, hostfwd_add,
     * hostfwd_remove, set_link; frontend/host_net.c): cmd, the rest of
     * the line in args, the answer into buf (snprintf rules). */
    int (*net_command)(void *opaque, const char *cmd, const char *args, char *buf, size_t len);
    /* The local APIC's registers (info lapic), snprintf rules. */
    int (*lapic_info)(void *opaque, char *buf, size_t len);
    /* sendkey: a key (hw/input/ps2.h code) pressed or released on the
     * PS/2 keyboard. */
    void (*key_event)(void *opaque, int keycode, bool down);
    /* The host's drive and memory-map commands (info block, info mtree,
     * eject, change; frontend/host_monitor.c), as net_command. */
    int (*host_command)(void *opaque, const char *cmd, const char *args, char *buf, size_t len);
} MonitorOps;

/* vm_stopped: the machine's run state, shared with the gdb stub. */
Monitor *monitor_new(CPUState *cpu, bool *vm_stopped, const MonitorOps *ops);
void monitor_free(Monitor *m);

/* Answer on chr too (-monitor, -mon): it greets each client that
 * connects; chr must outlive the monitor. */
void monitor_attach(Monitor *m, Chardev *chr);

/* Run one command line; returns its output (malloc'd; the caller frees). */
char *monitor_run(Monitor *m, const char *line);

/* The -nographic terminal: Ctrl-A c gives the monitor the keys (active)
 * or gives them back to the serial port; keys typed meanwhile come here. */
void monitor_mux_focus(void *monitor, bool active);
void monitor_mux_input(void *monitor, const uint8_t *data, int len);

#endif /* FRONTEND_MONITOR_H */
