/*
 * Command-line options, in QEMU's spelling where QEMU has the option.
 */
#ifndef FRONTEND_OPTIONS_H
#define FRONTEND_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum Accel { ACCEL_BT, ACCEL_INTERP, ACCEL_CHECK };

typedef struct PopekOptions {
    uint64_t ram_bytes;       /* -m */
    const char *bios;         /* -bios FILE: raw ROM image */
    const char *kernel;       /* -kernel */
    const char *initrd;       /* -initrd */
    const char *append;       /* -append */
    const char *serial;       /* -serial stdio|file:PATH|null (default stdio with -nographic) */
    const char *debugcon;     /* -debugcon stdio|file:PATH|null */
    bool nographic;           /* -nographic / --nographic */
    bool display_none;        /* -display none */
    bool no_reboot;           /* -no-reboot */
    bool debug_exit;          /* -device isa-debug-exit */
    uint16_t debug_exit_base; /* its iobase (default 0x501, QEMU's) */
    uint16_t debug_exit_size; /* its iosize (default 1) */
    int icount_shift;         /* -icount N (or shift=N); -1 = host clock */
    enum Accel accel;         /* --accel */
    int64_t rtc_base;         /* -rtc base=...; -1 = host time at start (or fixed with -icount) */
    const char *trace_categories; /* -d LIST */
    const char *trace_file;   /* -D FILE */
    const char *trace_filter; /* -dfilter RANGES */
} PopekOptions;

/* Parse argv; on a bad option prints one line naming it and exits 1.
 * --help and --version print and exit 0. */
void options_parse(PopekOptions *opts, int argc, char **argv);

/* Parse a QEMU-style size ("256", "256M", "1G", "512k"); default unit MiB.
 * Returns false on a malformed value. */
bool options_parse_size(const char *text, uint64_t *bytes);

#endif /* FRONTEND_OPTIONS_H */
