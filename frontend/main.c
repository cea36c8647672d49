/*
 * popek: parse options, build the PC, run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"
#include "frontend/pc.h"
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
    if (!trace_start(trace, &pc->cpu, opts->trace_file)) {
        fprintf(stderr, "popek: -D: cannot open trace file '%s'\n",
                opts->trace_file ? opts->trace_file : "(stderr)");
        exit(1);
    }
    if (trace->categories & TRACE_IOPORT) {
        ioport_set_observer(&pc->io, trace_ioport, trace);
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
    int status = pc_run(&pc);
    trace_stop(&trace);
    pc_destroy(&pc);
    return status;
}
