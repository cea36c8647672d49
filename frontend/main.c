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
#include "frontend/sdl.h"
#include "frontend/trace.h"

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

static int monitor_irq_info(void *opaque, char *buf, size_t len)
{
    return pc_irq_info(&((Host *)opaque)->pc, buf, len);
}

static void monitor_reset(void *opaque)
{
    pc_request_reset(&((Host *)opaque)->pc);
}

static void monitor_powerdown(void *opaque)
{
    pc_power_button(&((Host *)opaque)->pc);
}

static void monitor_quit(void *opaque)
{
    pc_request_exit(&((Host *)opaque)->pc, 0);
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
    if (opts->monitor || h->escapes || opts->gdb) { /* gdb's "monitor" needs one too */
        MonitorOps ops = {h,
                          monitor_pic_info,
                          monitor_irq_info,
                          monitor_reset,
                          monitor_powerdown,
                          monitor_quit,
                          monitor_screendump,
                          monitor_textdump,
                          host_net_command};
        h->monitor = monitor_new(&pc->cpu, &pc->stopped, &ops);
        if (opts->monitor && !monitor_open(h->monitor, opts->monitor, err, sizeof(err))) {
            fprintf(stderr, "popek: -monitor: %s\n", err);
            exit(1);
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
    options_parse(&opts, argc, argv);
    host_init(&host, &opts);
    setup_trace(&trace, &host.pc, &opts);
    setup_debug(&host, &opts);
    SDLWindow *window = setup_window(&host, &opts);
    int status = host_run(&host);
    if (opts.textdump) {
        char err[512];
        if (!display_textdump(&host.display, opts.textdump, err, sizeof(err))) {
            fprintf(stderr, "popek: -textdump: %s\n", err);
        }
    }
    sdl_window_free(window);
    gdbstub_free(host.gdb);
    monitor_free(host.monitor);
    trace_stop(&trace);
    host_destroy(&host);
    return status;
}
