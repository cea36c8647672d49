/*
 * popek: parse options, build the PC, run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdbstub.h"
#include "frontend/host.h"
#include "frontend/monitor.h"
#include "frontend/options.h"
#include "frontend/process.h"
#include "frontend/sandbox.h"
#include "frontend/sdl.h"
#include "frontend/trace.h"
#include "hw/input/i8042.h"

/* Traces are set up after the machine so they can hook its CPU and ports. */
static void setup_trace(Trace *trace, PC *pc, const PopekOptions *opts)
{
    char bad[64];
    if (!opts->trace_categories) {
        return;
    }
    if (!trace_parse_categories(trace, opts->trace_categories, bad, sizeof(bad))) {
        fprintf(stderr, "popek: -d: unknown trace category '%s' (-d help lists them)\n", bad);
        exit(1);
    }
    if (opts->trace_filter && !trace_parse_filter(trace, opts->trace_filter)) {
        fprintf(stderr, "popek: -dfilter: bad range list '%s' (want A..B or A+LEN)\n",
                opts->trace_filter);
        exit(1);
    }
    trace_set_window(trace, opts->trace_start, opts->trace_count, opts->trace_trigger_set,
                     opts->trace_trigger);
    if (!trace_start(trace, &pc->cpu, opts->trace_file)) {
        fprintf(stderr, "popek: -D: cannot open trace file '%s'\n",
                opts->trace_file ? opts->trace_file : "(stderr)");
        exit(1);
    }
    if (trace->categories & TRACE_IOPORT) {
        ioport_set_observer(&pc->io, trace_ioport, trace);
    }
}

static void machine_quit(void *opaque)
{
    pc_request_exit(opaque, 0);
}

/* The monitor's window on the machine (opaque: the Host). */
static int monitor_pic_info(void *opaque, char *buf, size_t len)
{
    return pc_pic_info(&((Host *)opaque)->pc, buf, len);
}

static int monitor_lapic_info(void *opaque, char *buf, size_t len)
{
    return pc_lapic_info(&((Host *)opaque)->pc, buf, len);
}

static int monitor_irq_info(void *opaque, char *buf, size_t len)
{
    return pc_irq_info(&((Host *)opaque)->pc, buf, len);
}

/* QEMU gives the monitor's requests the QMP reasons too. */
static void monitor_reset(void *opaque)
{
    host_reset(opaque, "host-qmp-system-reset");
}

static void monitor_powerdown(void *opaque)
{
    host_powerdown(opaque);
}

static void monitor_quit(void *opaque)
{
    host_quit(opaque, "host-qmp-quit");
}

static void monitor_key_event(void *opaque, int keycode, bool down)
{
    i8042_key_event(pc_keyboard(&((Host *)opaque)->pc), keycode, down);
}

static bool monitor_screendump(void *opaque, const char *path, char *err, size_t errlen)
{
    return display_screendump(&((Host *)opaque)->display, path, err, errlen);
}

static bool monitor_textdump(void *opaque, const char *path, char *err, size_t errlen)
{
    return display_textdump(&((Host *)opaque)->display, path, err, errlen);
}

/*
 * The SDL window: with -display sdl, or by default when there is a
 * desktop to open it on and neither -nographic nor -display none is given.
 * Closing it quits, as QEMU's does.
 */
static SDLWindow *setup_window(Host *h, const PopekOptions *opts)
{
    PC *pc = &h->pc;
    const char *x11 = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
    bool desktop = (x11 && *x11) || (wayland && *wayland);
    if (!opts->display_sdl && (opts->display_none || opts->nographic || !desktop)) {
        return NULL;
    }
    if (opts->display_sdl && !desktop && !getenv("SDL_VIDEODRIVER")) {
        fprintf(stderr, "popek: -display sdl: no display to open a window on (DISPLAY and "
                        "WAYLAND_DISPLAY are unset)\n");
        exit(1);
    }
    SDLWindowConfig cfg = {opts->name,   &h->display, pc_keyboard(pc), &pc->stopped,
                           machine_quit, pc,           opts->full_screen};
    char err[256];
    SDLWindow *window = sdl_window_new(&cfg, err, sizeof(err));
    if (!window) {
        if (opts->display_sdl) {
            fprintf(stderr, "popek: -display sdl: cannot open a window: %s\n", err);
            exit(1);
        }
        fprintf(stderr, "popek: no window (%s); running without a display\n", err);
        return NULL;
    }
    h->ui_poll = sdl_window_poll;
    h->ui_opaque = window;
    return window;
}

/* The monitor and the gdb stub, after the trace (the stub chains to its hooks). */
static void setup_debug(Host *h, const PopekOptions *opts)
{
    PC *pc = &h->pc;
    char err[256];
    pc->stopped = opts->start_stopped;
    /* gdb's "monitor" and QMP's human-monitor-command need one too. */
    if (h->monitor_chr || h->escapes || opts->gdb || h->qmp_chr) {
        MonitorOps ops = {h,
                          monitor_pic_info,
                          monitor_irq_info,
                          monitor_reset,
                          monitor_powerdown,
                          monitor_quit,
                          monitor_screendump,
                          monitor_textdump,
                          host_net_command,
                          monitor_lapic_info, monitor_key_event,
                          host_monitor_command};
        h->monitor = monitor_new(&pc->cpu, &pc->stopped, &ops);
        if (h->monitor_chr) {
            monitor_attach(h->monitor, h->monitor_chr);
        }
        if (h->escapes) {
            h->headless.monitor_input = monitor_mux_input;
            h->headless.monitor_focus = monitor_mux_focus;
            h->headless.monitor_opaque = h->monitor;
        }
    }
    if (opts->gdb) {
        h->gdb = gdbstub_new(&pc->cpu, &pc->stopped);
        if (!h->gdb || !gdbstub_listen(h->gdb, opts->gdb, err, sizeof(err))) {
            fprintf(stderr, "popek: -gdb: %s\n", h->gdb ? err : "out of memory");
            exit(1);
        }
        gdbstub_set_monitor(h->gdb, h->monitor);
        gdbstub_set_kill(h->gdb, machine_quit, pc);
    }
    if (h->qmp_chr && !host_qmp_open(h)) {
        fprintf(stderr, "popek: -qmp: out of memory\n");
        exit(1);
    }
    if (pc->stopped && !h->gdb && !h->monitor) {
        fprintf(stderr, "popek: -S with neither -gdb nor a monitor: nothing can start the CPU\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static PopekOptions opts;
    static Host host; /* large (CPUState holds the TLB): keep it off the stack */
    static Trace trace;
    char err[512];
    options_parse(&opts, argc, argv);
    if (opts.chr.daemonize && !process_daemonize(err, sizeof(err))) {
        fprintf(stderr, "popek: -daemonize: %s\n", err);
        return 1;
    }
    if (opts.chr.pidfile && !process_pidfile(opts.chr.pidfile, err, sizeof(err))) {
        fprintf(stderr, "popek: -pidfile: %s\n", err);
        return 1;
    }
    host_init(&host, &opts);
    setup_trace(&trace, &host.pc, &opts);
    setup_debug(&host, &opts);
    /* A saved VM replaces the freshly built one before anything runs; it
     * runs on unless -S, as after QEMU's -incoming. */
    if (opts.incoming && !host_incoming(&host, opts.incoming, err, sizeof(err))) {
        fprintf(stderr, "popek: -incoming: %s\n", err);
        return 1;
    }
    if (opts.loadvm && !host_loadvm(&host, opts.loadvm, err, sizeof(err))) {
        fprintf(stderr, "popek: -loadvm %s: %s\n", opts.loadvm, err);
        return 1;
    }
    SDLWindow *window = setup_window(&host, &opts);
    process_signals_install();
    process_daemon_ready();
    if (opts.sandbox.on) {
        /* Last: every file, socket and the window are open. */
        if (!sandbox_install(&opts.sandbox, err, sizeof(err))) {
            fprintf(stderr, "popek: -sandbox: %s\n", err);
            return 1;
        }
        const char *selftest = getenv("POPEK_SANDBOX_SELFTEST");
        if (selftest && !sandbox_selftest(selftest, err, sizeof(err))) {
            fprintf(stderr, "popek: -sandbox: %s\n", err);
            return 1;
        }
    }
    int status = host_run(&host);
    host_shutdown_event(&host);
    if (opts.textdump) {
        if (!display_textdump(&host.display, opts.textdump, err, sizeof(err))) {
            fprintf(stderr, "popek: -textdump: %s\n", err);
        }
    }
    sdl_window_free(window);
    gdbstub_free(host.gdb);
    host_qmp_close(&host);
    monitor_free(host.monitor);
    trace_stop(&trace);
    host_destroy(&host);
    return status;
}
