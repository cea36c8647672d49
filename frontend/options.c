/*
 * Command-line parsing.  Every option is one row of a table; a bad option
 * or value stops popek with one line naming it, before anything starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"

#define POPEK_VERSION "0.1.0"

static const char usage_text[] =
    "usage: popek [options]\n"
    "Machine:\n"
    "  -m SIZE                 guest RAM (default 256M; suffixes k, M, G)\n"
    "  -bios FILE              raw BIOS ROM image (64 KiB to 256 KiB)\n"
    "  -kernel FILE            Linux bzImage or Multiboot kernel to boot directly\n"
    "  -initrd FILE            initial ramdisk for -kernel\n"
    "  -append CMDLINE         kernel command line\n"
    "  -no-reboot              exit instead of rebooting (triple fault, reset)\n"
    "  -rtc base=utc|SECONDS   RTC start time (SECONDS since the epoch)\n"
    "Devices:\n"
    "  -device isa-debug-exit[,iobase=0x501][,iosize=1]\n"
    "                          a write of V to the port exits with status (V << 1) | 1\n"
    "  -debugcon stdio|file:PATH|null   port 0xE9 debug console\n"
    "  -serial stdio|file:PATH|null     first serial port backend\n"
    "Display:\n"
    "  -nographic, --nographic serial console on this terminal, no window\n"
    "  -display none           no window\n"
    "Execution:\n"
    "  --accel bt|interp|check engine (bt: translator; interp: interpreter only;\n"
    "                          check: both in lockstep)\n"
    "  -icount [shift=]N       deterministic time: each instruction is 2^N ns\n"
    "Debugging:\n"
    "  -d LIST                 trace categories (exec,cpu,delta,int,ioport,guest_errors,att;\n"
    "                          -d help lists them)\n"
    "  -D FILE                 write traces to FILE instead of stderr\n"
    "  -dfilter RANGES         trace only these addresses: A..B, A+LEN, comma-separated\n"
    "  --help, --version\n";

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "popek: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

bool options_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    if (!text[0]) {
        return false;
    }
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t unit = 1ull << 20;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': unit = 1; end++; break;
    case 'k': case 'K': unit = 1ull << 10; end++; break;
    case 'm': case 'M': unit = 1ull << 20; end++; break;
    case 'g': case 'G': unit = 1ull << 30; end++; break;
    default: return false;
    }
    if (*end == 'i' || *end == 'B') {
        end++; /* accept "MiB" / "MB" spellings */
        if (*end == 'B') {
            end++;
        }
    }
    if (*end != '\0' || v == 0 || v > (1ull << 40) / unit) {
        return false;
    }
    *bytes = v * unit;
    return true;
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    if (!text[0]) {
        return false;
    }
    unsigned long v = strtoul(text, &end, 0);
    if (*end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool chardev_spec_ok(const char *spec)
{
    return !strcmp(spec, "stdio") || !strcmp(spec, "null") ||
           (!strncmp(spec, "file:", 5) && spec[5] != '\0');
}

/* -device isa-debug-exit[,iobase=N][,iosize=N] */
static void parse_device(PopekOptions *o, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    char *name = strtok_r(buf, ",", &save);
    if (!name || strcmp(name, "isa-debug-exit") != 0) {
        die("-device: unknown device '%s'%s (supported: isa-debug-exit)", name ? name : "", "");
    }
    o->debug_exit = true;
    for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        unsigned long v;
        if (!strncmp(kv, "iobase=", 7) && parse_uint(kv + 7, 0xffff, &v)) {
            o->debug_exit_base = (uint16_t)v;
        } else if (!strncmp(kv, "iosize=", 7) && parse_uint(kv + 7, 4, &v) && v > 0) {
            o->debug_exit_size = (uint16_t)v;
        } else {
            die("-device isa-debug-exit: bad property '%s'%s", kv, "");
        }
    }
}

static void parse_icount(PopekOptions *o, const char *spec)
{
    unsigned long v;
    const char *n = !strncmp(spec, "shift=", 6) ? spec + 6 : spec;
    if (!parse_uint(n, 10, &v)) {
        die("-icount: bad value '%s'%s (want 0..10 or shift=0..10)", spec, "");
    }
    o->icount_shift = (int)v;
}

static void parse_rtc(PopekOptions *o, const char *spec)
{
    unsigned long v;
    if (!strcmp(spec, "base=utc") || !strcmp(spec, "base=localtime")) {
        o->rtc_base = -1;
    } else if (!strncmp(spec, "base=", 5) && parse_uint(spec + 5, 0xffffffffUL, &v)) {
        o->rtc_base = (int64_t)v;
    } else {
        die("-rtc: bad value '%s'%s (want base=utc or base=SECONDS)", spec, "");
    }
}

void options_parse(PopekOptions *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->ram_bytes = 256ull << 20;
    o->debug_exit_base = 0x501;
    o->debug_exit_size = 1;
    o->icount_shift = -1;
    o->accel = ACCEL_BT;
    o->rtc_base = -1;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        /* QEMU accepts both -opt and --opt. */
        const char *name = (opt[0] == '-' && opt[1] == '-') ? opt + 1 : opt;
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_arg = true;
        if (!strcmp(name, "-help") || !strcmp(name, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (!strcmp(name, "-version")) {
            printf("popek %s\n", POPEK_VERSION);
            exit(0);
        } else if (!strcmp(name, "-nographic")) {
            o->nographic = true;
            takes_arg = false;
        } else if (!strcmp(name, "-no-reboot")) {
            o->no_reboot = true;
            takes_arg = false;
        } else if (!strcmp(name, "-m") || !strcmp(name, "-bios") || !strcmp(name, "-kernel") ||
                   !strcmp(name, "-initrd") || !strcmp(name, "-append") ||
                   !strcmp(name, "-serial") || !strcmp(name, "-debugcon") ||
                   !strcmp(name, "-display") || !strcmp(name, "-device") ||
                   !strcmp(name, "-icount") || !strcmp(name, "-accel") || !strcmp(name, "-rtc") ||
                   !strcmp(name, "-d") || !strcmp(name, "-D") || !strcmp(name, "-dfilter")) {
            if (!arg) {
                die("option '%s' needs a value%s", opt, "");
            }
            if (!strcmp(name, "-m")) {
                if (!options_parse_size(arg, &o->ram_bytes) || o->ram_bytes < (2ull << 20) ||
                    o->ram_bytes > (3ull << 30)) {
                    die("-m: bad size '%s'%s (want 2M to 3G, e.g. 256M)", arg, "");
                }
            } else if (!strcmp(name, "-bios")) {
                o->bios = arg;
            } else if (!strcmp(name, "-kernel")) {
                o->kernel = arg;
            } else if (!strcmp(name, "-initrd")) {
                o->initrd = arg;
            } else if (!strcmp(name, "-append")) {
                o->append = arg;
            } else if (!strcmp(name, "-serial") || !strcmp(name, "-debugcon")) {
                if (!chardev_spec_ok(arg)) {
                    die("%s: bad backend '%s' (want stdio, file:PATH or null)", opt, arg);
                }
                *(!strcmp(name, "-serial") ? &o->serial : &o->debugcon) = arg;
            } else if (!strcmp(name, "-display")) {
                if (strcmp(arg, "none") != 0) {
                    die("-display: unsupported '%s'%s (supported: none)", arg, "");
                }
                o->display_none = true;
            } else if (!strcmp(name, "-device")) {
                parse_device(o, arg);
            } else if (!strcmp(name, "-icount")) {
                parse_icount(o, arg);
            } else if (!strcmp(name, "-rtc")) {
                parse_rtc(o, arg);
            } else if (!strcmp(name, "-d")) {
                o->trace_categories = arg;
            } else if (!strcmp(name, "-D")) {
                o->trace_file = arg;
            } else if (!strcmp(name, "-dfilter")) {
                o->trace_filter = arg;
            } else if (!strcmp(arg, "bt") || !strcmp(arg, "tcg")) {
                o->accel = ACCEL_BT;
            } else if (!strcmp(arg, "interp")) {
                o->accel = ACCEL_INTERP;
            } else if (!strcmp(arg, "check")) {
                o->accel = ACCEL_CHECK;
            } else {
                die("--accel: unknown engine '%s'%s (want bt, interp or check)", arg, "");
            }
        } else {
            die("unknown option '%s'%s (see --help)", opt, "");
        }
        if (takes_arg) {
            i++;
        }
    }
    if ((o->initrd || o->append) && !o->kernel) {
        die("%s needs -kernel%s", o->initrd ? "-initrd" : "-append", "");
    }
}
