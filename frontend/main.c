/*
 * popek: parse options, build the PC, run it.
 */
#include <stdlib.h>

#include "frontend/options.h"
#include "frontend/pc.h"

int main(int argc, char **argv)
{
    static PopekOptions opts;
    static PC pc; /* large (CPUState holds the TLB): keep it off the stack */
    options_parse(&opts, argc, argv);
    pc_init(&pc, &opts);
    int status = pc_run(&pc);
    pc_destroy(&pc);
    return status;
}
