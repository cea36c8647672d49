/*
 * popek: parse options, build the PC, run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdbstub.h"
#include "frontend/monitor.h"
#include "frontend/options.h"
#include "frontend/pc.h"
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

/* The monitor's window on the machine. */
static int monitor_pic_info(void *opaque, char *buf, size_t len)
{
    return pc_pic_info(opaque, buf, len);
}

static int monitor_irq_info(void *opaque, char *buf, size_t len)
{
    return pc_irq_info(opaque, buf, len);
}

static void monitor_reset(void *opaque)
{
    pc_request_reset(opaque);
}

static void monitor_powerdown(void *opaque)
{
    pc_power_button(opaque);
}

static void machine_quit(void *opaque)
{
    pc_request_exit(opaque, 0);
}

static bool monitor_screendump(void *opaque, const char *path, char *err, size_t errlen)
{
    return display_screendump(&((PC *)opaque)->display, path, err, errlen);
}

static bool monitor_textdump(void *opaque, const char *path, char *err, size_t errlen)
{
    return display_textdump(&((PC *)opaque)->display, path, err, errlen);
}

/*
 * The SDL window: with -display sdl, or by default when there is a
 * desktop to open it on and neither -nographic nor -display none is given.
 * Closing it quits, as QEMU's does.
 */
static SDLWindow *setup_window(PC *pc, const PopekOptions *opts)
{
    const char *x11 = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
    bool desktop = (x11 && *x11) || (wayland && *wayland);
    if (!opts->display_sdl && (opts->display_none || opts->nographic || !desktop)) {
        return NULL;
    }
    SDLWindowConfig cfg = {opts->name, &pc->display, pc_keyboard(pc), &pc->stopped,
                           machine_quit, pc};
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
    pc->ui_poll = sdl_window_poll;
    pc->ui_opaque = window;
    return window;
}

/* The monitor and the gdb stub, after the trace (the stub chains to its hooks). */
static void setup_debug(PC *pc, const PopekOptions *opts)
{
    char err[256];
    pc->stopped = opts->start_stopped;
    if (opts->monitor || pc->escapes || opts->gdb) { /* gdb's "monitor" needs one too */
        MonitorOps ops = {pc, monitor_pic_info, monitor_irq_info, monitor_reset,
                          monitor_powerdown, machine_quit, monitor_screendump, monitor_textdump};
        pc->monitor = monitor_new(&pc->cpu, &pc->stopped, &ops);
        if (opts->monitor && !monitor_open(pc->monitor, opts->monitor, err, sizeof(err))) {
            fprintf(stderr, "popek: -monitor: %s\n", err);
            exit(1);
        }
        if (pc->escapes) {
            pc->headless.monitor_input = monitor_mux_input;
            pc->headless.monitor_focus = monitor_mux_focus;
            pc->headless.monitor_opaque = pc->monitor;
        }
    }
    if (opts->gdb) {
        pc->gdb = gdbstub_new(&pc->cpu, &pc->stopped);
        if (!pc->gdb || !gdbstub_listen(pc->gdb, opts->gdb, err, sizeof(err))) {
            fprintf(stderr, "popek: -gdb: %s\n", pc->gdb ? err : "out of memory");
            exit(1);
        }
        gdbstub_set_monitor(pc->gdb, pc->monitor);
        gdbstub_set_kill(pc->gdb, machine_quit, pc);
    }
    if (pc->stopped && !pc->gdb && !pc->monitor) {
        fprintf(stderr, "popek: -S with neither -gdb nor a monitor: nothing can start the CPU\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static PopekOptions opts;
    static PC pc; /* large (CPUState holds the TLB): keep it off the stack */
    static Trace trace;
    options_parse(&opts, argc, argv);
    pc_init(&pc, &opts);
    setup_trace(&trace, &pc, &opts);
    setup_debug(&pc, &opts);
    SDLWindow *window = setup_window(&pc, &opts);
    int status = pc_run(&pc);
    if (opts.textdump) {
        char err[512];
        if (!display_textdump(&pc.display, opts.textdump, err, sizeof(err))) {
            fprintf(stderr, "popek: -textdump: %s\n", err);
        }
    }
    sdl_window_free(window);
    gdbstub_free(pc.gdb);
    monitor_free(pc.monitor);
    trace_stop(&trace);
    pc_destroy(&pc);
    return status;
}
