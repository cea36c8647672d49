/*
 * Command-line parsing.  Every option is one row of a table; a bad option
 * or value stops popek with one line naming it, before anything starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/options.h"
#include "migration/transport.h"
#include "frontend/version.h"

static const char usage_text[] =
    "usage: popek [options]\n"
    "Machine:\n"
    "  -m SIZE                 guest RAM (default 256M; suffixes k, M, G)\n"
    "  -bios FILE              raw BIOS ROM image (64 KiB to 256 KiB; default\n"
    "                          bios-256k.bin, SeaBIOS, unless -kernel is given)\n"
    "  -L DIR                  look for firmware files in DIR first\n"
    "                          (then /usr/share/seabios)\n"
    "  -boot [order=]DRIVES[,menu=on|off]  boot order: c disk, d CD-ROM, a floppy,\n"
    "                          n network (default cad)\n"
    "  -kernel FILE            Linux bzImage or Multiboot kernel to boot directly\n"
    "                          (with -bios: a bzImage the BIOS boots, through fw_cfg\n"
    "                          and QEMU's linuxboot_dma.bin from qemu-system-data)\n"
    "  -initrd FILE            initial ramdisk for -kernel\n"
    "  -append CMDLINE         kernel command line\n"
    "  -no-reboot              exit instead of rebooting (triple fault, reset)\n"
    "  -rtc base=utc|localtime|SECONDS|DATE  RTC start time: now in UTC or in the\n"
    "                          local time zone, SECONDS since the epoch, or\n"
    "                          YYYY-MM-DD[THH:MM:SS] (UTC)\n"
    "  -M, -machine [type=]pc[,accel=bt|tcg|interp|check]  the machine (QEMU's i440FX\n"
    "                          PC, the only one; -machine help); accel as --accel\n"
    "  -cpu NAME[,+FEAT|-FEAT|FEAT=on|off...]  CPU model (popek, qemu32, pentium3,\n"
    "                          pentium4, core2duo; default popek) and its CPUID\n"
    "                          features, in QEMU's names (-cpu help)\n"
    "  -smp [cpus=]1           CPU count: popek emulates one CPU\n"
    "Disks:\n"
    "  -hda/-hdb/-hdc/-hdd FILE  disk image (raw or qcow2, probed) as IDE drive 0-3\n"
    "  -cdrom FILE             CD-ROM image (ISO) as IDE drive 2\n"
    "  -fda/-fdb FILE          floppy image (720K, 1.44M, 2.88M) as drive A:/B:\n"
    "  -drive file=FILE[,format=raw|qcow2][,if=ide|floppy|virtio|none][,index=0-3]\n"
    "         [,media=disk|cdrom][,readonly=on|off][,id=ID][,serial=S]\n"
    "         [,file.locking=on|off|auto]\n"
    "                          if=virtio: a virtio-blk-pci disk; if=none: a drive\n"
    "                          for -device virtio-blk-pci,drive=ID\n"
    "  -snapshot               write to a temporary overlay; images stay untouched\n"
    "Devices:\n"
    "  -device isa-debug-exit[,iobase=0x501][,iosize=1]\n"
    "  -device virtio-blk-pci,drive=ID[,serial=S][,id=NAME]  a virtio disk on the\n"
    "                          drive -drive if=none,id=ID opened\n"
    "                          a write of V to the port exits with status (V << 1) | 1\n"
    "  -debugcon stdio|file:PATH|null   port 0xE9 debug console\n"
    "  -bioslog stdio|file:PATH|null    SeaBIOS's debug log (port 0x402; -d guest_errors\n"
    "                          sends it to stderr when -bioslog is not given)\n"
    "Network (default: an e1000 on user networking, as -nic user):\n"
    "  -netdev user,id=ID[,net=ADDR[/MASK]][,host=ADDR][,dns=ADDR][,dhcpstart=ADDR]\n"
    "         [,hostname=NAME][,domainname=NAME][,tftp=DIR][,bootfile=FILE]\n"
    "         [,restrict=on|off][,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT ...]\n"
    "         [,guestfwd=[tcp]:[SERVER]:PORT-cmd:COMMAND ...]\n"
    "                          user networking (guest 10.0.2.15, host 10.0.2.2)\n"
    "  -netdev socket,id=ID,listen=[HOST]:PORT | connect=HOST:PORT\n"
    "         | mcast=ADDR:PORT[,localaddr=ADDR]   a segment shared with other VMs\n"
    "  -device e1000|virtio-net-pci,netdev=ID[,mac=MAC][,id=NAME]  a network card\n"
    "  -nic none | user|socket[,model=e1000|virtio-net-pci][,mac=MAC][,NETDEV OPTIONS]\n"
    "                          a card and its backend at once\n"
    "  -net nic[,model=M][,macaddr=MAC] -net user|socket[,...] | -net none  (legacy)\n"
    "  -object filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N]\n"
    "                          write the netdev's frames to a pcap file\n"
    "Display:\n"
    "  -nographic, --nographic serial console on this terminal, no window\n"
    "  -display sdl|none       a window (the default when DISPLAY or WAYLAND_DISPLAY\n"
    "                          is set and -nographic is not given) or none\n"
    "  -vga std|none           the display card: QEMU's stdvga, or none (then the\n"
    "                          terminal is the console, as with -nographic)\n"
    "  -full-screen            start the window full screen\n"
    "  -k LAYOUT               keyboard layout (en-us, de, fr, ...: QEMU's names); the\n"
    "                          window passes physical keys, the guest's layout applies\n"
    "  -name NAME              the VM's name, shown in the window title\n"
    "  -textdump FILE          write the text screen as UTF-8 to FILE at exit\n"
    "                          (the monitor's textdump and screendump write it now)\n"
    "Execution:\n"
    "  --accel bt|interp|check engine (bt: translator; interp: interpreter only;\n"
    "                          check: both in lockstep)\n"
    "  -tb-size N              translated-code cache in MiB (default 32)\n"
    "  -perfmap                name translated blocks for perf in /tmp/perf-PID.map\n"
    "  -icount [shift=]N       deterministic time: each instruction is 2^N ns\n"
    "Saved VMs:\n"
    "  -incoming file:PATH | \"exec:CMD\"  start from a VM saved by the monitor's\n"
    "                          migrate (CMD writes it on its stdout); it runs on at\n"
    "                          once unless -S is given\n"
    "  -loadvm NAME            start from snapshot NAME of the first writable qcow2\n"
    "                          image (savevm)\n"
    "Debugging:\n"
    "  -d LIST                 trace categories (exec,in_asm,cpu,delta,int,mmu,ioport,\n"
    "                          guest_errors,att; -d help lists them)\n"
    "  -D FILE                 write traces to FILE instead of stderr\n"
    "  -dfilter RANGES         trace only these addresses: A..B, A+LEN, comma-separated\n"
    "  -dstart N               start tracing at instruction N (counted from reset)\n"
    "  -dcount M               stop tracing M instructions after the trace started\n"
    "  -dtrigger ADDR          start tracing when CS.base+EIP first reaches ADDR\n"
    "  -gdb tcp:[HOST]:PORT    gdb remote stub (HOST defaults to 127.0.0.1)\n"
    "  -s                      shorthand for -gdb tcp::1234\n"
    "  -S                      do not start the CPU (wait for gdb or the monitor)\n"
    "Security:\n"
    "  -sandbox on|off[,obsolete=deny][,elevateprivileges=deny][,spawn=deny]\n"
    "          [,resourcecontrol=deny]   after start-up, allow only the system calls\n"
    "                          a running VM needs (seccomp; docs/security.md)\n"
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
    ChardevSpec parsed;
    char err[256];
    return chardev_parse_legacy(spec, &parsed, err, sizeof(err)) && parsed.kind != CHARDEV_REF &&
           !parsed.mux;
}

/* -device isa-debug-exit[,iobase=N][,iosize=N], or a network card
 * (frontend/options_net.c). */
static void parse_device(PopekOptions *o, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    char *name = strtok_r(buf, ",", &save);
    if (name && options_net_is_model(name)) {
        options_net_device(o, name, spec);
        return;
    }
    if (name && (!strcmp(name, "virtio-blk-pci") || !strcmp(name, "virtio-blk"))) {
        options_block_device(o, spec);
        return;
    }
    if (!name || strcmp(name, "isa-debug-exit") != 0) {
        die("-device: unknown device '%s'%s (supported: isa-debug-exit, e1000, virtio-net-pci, "
            "virtio-blk-pci)",
            name ? name : "", "");
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

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, read as UTC (as QEMU reads it). */
static bool parse_date(const char *text, int64_t *seconds)
{
    static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(text, formats[i], &tm);
        if (end && !*end) {
            *seconds = (int64_t)timegm(&tm);
            return true;
        }
    }
    return false;
}

/* -rtc [base=utc|localtime|SECONDS|YYYY-MM-DD[THH:MM:SS]][,clock=host|vm][,driftfix=none|slew] */
static void parse_rtc(PopekOptions *o, const char *spec)
{
    char *buf = strdup(spec);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        unsigned long v;
        if (!strcmp(kv, "base=utc")) {
            o->rtc_base = -1;
            o->rtc_localtime = false;
        } else if (!strcmp(kv, "base=localtime")) {
            o->rtc_base = -1;
            o->rtc_localtime = true;
        } else if (!strncmp(kv, "base=", 5) && parse_uint(kv + 5, 0xffffffffUL, &v)) {
            o->rtc_base = (int64_t)v;
        } else if (!strncmp(kv, "base=", 5) && parse_date(kv + 5, &o->rtc_base)) {
            /* a date */
        } else if (!strcmp(kv, "clock=host") || !strcmp(kv, "clock=vm") ||
                   !strcmp(kv, "driftfix=none") || !strcmp(kv, "driftfix=slew")) {
            /* popek's RTC runs on virtual time, which follows the host's
             * clock while the VM runs; no tick is ever lost to catch up. */
        } else {
            die("-rtc: bad value '%s'%s (want base=utc|localtime|SECONDS|YYYY-MM-DDTHH:MM:SS)",
                kv, "");
        }
    }
    free(buf);
}

/* Put a drive at index (or the first free one if index < 0); returns its index. */
static int add_drive(PopekOptions *o, int index, const char *file, bool cdrom, bool readonly,
                      const char *opt)
{
    if (index < 0) {
        for (index = 0; index < PC_MAX_DRIVES && o->drives[index].present; index++) {
        }
        if (index == PC_MAX_DRIVES) {
            die("%s: all %s IDE drive slots are taken", opt, "4");
        }
    }
    if (o->drives[index].present) {
        die("%s: IDE drive index %s is already in use", opt,
            (const char *[]){"0", "1", "2", "3"}[index]);
    }
    if (!cdrom && !file) {
        die("%s: a disk needs file=PATH%s", opt, "");
    }
    o->drives[index] = (DriveOption){true, file, cdrom, readonly || cdrom, NULL, opt};
    return index;
}

/* Put a floppy drive at index 0 (A:) or 1 (B:); index < 0: the first free
 * one.  Returns the index. */
static int add_floppy(PopekOptions *o, int index, const char *file, bool readonly,
                       const char *opt)
{
    if (index < 0) {
        for (index = 0; index < PC_MAX_FLOPPIES && o->floppies[index].present; index++) {
        }
        if (index == PC_MAX_FLOPPIES) {
            die("%s: both floppy drives are taken%s", opt, "");
        }
    }
    if (index >= PC_MAX_FLOPPIES) {
        die("%s: bad floppy index %s (want 0 or 1)", opt, index == 2 ? "2" : "3");
    }
    if (o->floppies[index].present) {
        die("%s: floppy drive index %s is already in use", opt, index ? "1" : "0");
    }
    if (!file) {
        die("%s: a floppy drive needs file=PATH%s", opt, "");
    }
    o->floppies[index] = (DriveOption){true, file, false, readonly, "raw", opt};
    return index;
}

static bool parse_on_off(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

/* -drive file=...,format=raw,if=ide|floppy|virtio|none,index=N,media=disk|cdrom,
 * readonly=on|off,id=ID,serial=S,file.locking=on|off|auto (auto is on: the
 * OFD locks popek takes work on every Linux file system that has locks) */
static void parse_drive(PopekOptions *o, const char *spec)
{
    char *buf = strdup(spec); /* kept: file= points into it for the whole run */
    char *save = NULL;
    const char *file = NULL, *id = NULL, *serial = NULL, *iface = "ide";
    int index = -1;
    const char *format = NULL;
    bool cdrom = false, readonly = false, floppy = false, no_lock = false;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        unsigned long v;
        if (!eq) {
            die("-drive: bad property '%s'%s (want key=value)", kv, "");
        }
        *eq = '\0';
        const char *val = eq + 1;
        if (!strcmp(kv, "file")) {
            file = val[0] ? val : NULL;
        } else if (!strcmp(kv, "format")) {
            if (strcmp(val, "raw") != 0 && strcmp(val, "qcow2") != 0) {
                die("-drive: format '%s' is not supported%s (raw or qcow2)", val, "");
            }
            format = val;
        } else if (!strcmp(kv, "if")) {
            if (strcmp(val, "ide") != 0 && strcmp(val, "floppy") != 0 &&
                strcmp(val, "virtio") != 0 && strcmp(val, "none") != 0) {
                die("-drive: interface '%s' is not supported%s (ide, floppy, virtio or none)",
                    val, "");
            }
            floppy = !strcmp(val, "floppy");
            iface = val;
        } else if (!strcmp(kv, "id")) {
            id = val;
        } else if (!strcmp(kv, "serial")) {
            serial = val;
        } else if (!strcmp(kv, "index")) {
            if (!parse_uint(val, PC_MAX_DRIVES - 1, &v)) {
                die("-drive: bad index '%s'%s (want 0-3)", val, "");
            }
            index = (int)v;
        } else if (!strcmp(kv, "media")) {
            if (strcmp(val, "disk") != 0 && strcmp(val, "cdrom") != 0) {
                die("-drive: bad media '%s'%s (want disk or cdrom)", val, "");
            }
            cdrom = !strcmp(val, "cdrom");
        } else if (!strcmp(kv, "readonly")) {
            if (!parse_on_off(val, &readonly)) {
                die("-drive: bad readonly '%s'%s (want on or off)", val, "");
            }
        } else if (!strcmp(kv, "file.locking")) {
            bool on = true;
            if (strcmp(val, "auto") != 0 && !parse_on_off(val, &on)) {
                die("-drive: bad file.locking '%s'%s (want on, off or auto)", val, "");
            }
            no_lock = !on;
        } else {
            die("-drive: unknown property '%s'%s", kv, "");
        }
    }
    if (!strcmp(iface, "virtio") || !strcmp(iface, "none")) {
        if (cdrom || index >= 0) {
            die("-drive: if=%s takes no %s", iface, cdrom ? "media=cdrom" : "index=");
        }
        DriveOption d = {true, file, false, readonly, format, "-drive", id, serial, no_lock};
        options_block_drive(o, &d, !strcmp(iface, "virtio"));
        return;
    }
    if (id || serial) {
        die("-drive: %s= is for if=virtio or if=none%s", id ? "id" : "serial", "");
    }
    if (floppy) {
        if (cdrom) {
            die("-drive: if=floppy takes no media=cdrom%s%s", "", "");
        }
        o->floppies[add_floppy(o, index, file, readonly, "-drive")].no_lock = no_lock;
        return;
    }
    index = add_drive(o, index, file, cdrom, readonly, "-drive");
    o->drives[index].format = format;
    o->drives[index].no_lock = no_lock;
}

/* -boot c | -boot order=dc,menu=on | -boot once=d */
static void parse_boot(PopekOptions *o, const char *spec)
{
    char *buf = strdup(spec);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        const char *order = NULL;
        if (!strchr(kv, '=')) {
            order = kv;
        } else if (!strncmp(kv, "order=", 6) || !strncmp(kv, "once=", 5)) {
            order = strchr(kv, '=') + 1;
        } else if (!strncmp(kv, "menu=", 5)) {
            if (!parse_on_off(kv + 5, &o->boot_menu)) {
                die("-boot: bad menu value '%s'%s (want on or off)", kv + 5, "");
            }
            continue;
        } else {
            die("-boot: unknown property '%s'%s", kv, "");
        }
        if (!order[0] || strlen(order) > 4 || strspn(order, "acdn") != strlen(order)) {
            die("-boot: bad drive list '%s'%s (letters a, c, d, n)", order, "");
        }
        o->boot_order = order;
    }
}

static uint64_t parse_number(const char *opt, const char *arg, uint64_t max)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 0);
    if (!arg[0] || *end != '\0' || v > max || arg[0] == '-') {
        die("%s: bad number '%s'", opt, arg);
    }
    return v;
}

/* The debugger's options; false if name is not one of them. */
static bool parse_debug_option(PopekOptions *o, const char *opt, const char *name,
                               const char *arg, bool *takes_arg)
{
    if (!strcmp(name, "-s") || !strcmp(name, "-S")) {
        *takes_arg = false;
        if (name[1] == 's') {
            o->gdb = "tcp::1234";
        } else {
            o->start_stopped = true;
        }
        return true;
    }
    if (strcmp(name, "-gdb") && strcmp(name, "-dstart") &&
        strcmp(name, "-dcount") && strcmp(name, "-dtrigger")) {
        return false;
    }
    if (!arg) {
        die("option '%s' needs a value%s", opt, "");
    }
    if (!strcmp(name, "-gdb")) {
        if (strncmp(arg, "tcp:", 4) != 0 && strcmp(arg, "none") != 0) {
            die("-gdb: bad address '%s'%s (want tcp::PORT or tcp:HOST:PORT)", arg, "");
        }
        o->gdb = strcmp(arg, "none") ? arg : NULL;
    } else if (!strcmp(name, "-dstart")) {
        o->trace_start = parse_number(opt, arg, UINT64_MAX);
    } else if (!strcmp(name, "-dcount")) {
        o->trace_count = parse_number(opt, arg, UINT64_MAX);
    } else {
        o->trace_trigger = parse_number(opt, arg, UINT64_MAX);
        o->trace_trigger_set = true;
    }
    return true;
}

void options_parse(PopekOptions *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->ram_bytes = 256ull << 20;
    o->debug_exit_base = 0x501;
    o->debug_exit_size = 1;
    o->icount_shift = -1;
    o->accel = ACCEL_BT;
    o->tb_size_mib = 32;
    o->rtc_base = -1;
    options_chardev_init(o);

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        /* QEMU accepts both -opt and --opt. */
        const char *name = (opt[0] == '-' && opt[1] == '-') ? opt + 1 : opt;
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_arg = true;
        if (!strcmp(name, "-help") || !strcmp(name, "-h")) {
            fputs(usage_text, stdout);
            fputs(options_chardev_usage, stdout);
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
        } else if (!strcmp(name, "-perfmap")) {
            o->perfmap = true;
            takes_arg = false;
        } else if (!strcmp(name, "-snapshot")) {
            o->snapshot = true;
            takes_arg = false;
        } else if (!strcmp(name, "-sandbox")) {
            char err[320];
            if (!arg) {
                die("option '%s' needs a value%s", opt, "");
            }
            if (!sandbox_parse(arg, &o->sandbox, err, sizeof(err))) {
                die("%s%s", err, "");
            }
        } else if (!strcmp(name, "-hda") || !strcmp(name, "-hdb") || !strcmp(name, "-hdc") ||
                   !strcmp(name, "-hdd") || !strcmp(name, "-cdrom")) {
            if (!arg) {
                die("option '%s' needs a value%s", opt, "");
            }
            bool cd = !strcmp(name, "-cdrom");
            add_drive(o, cd ? 2 : name[3] - 'a', arg, cd, false, opt);
        } else if (!strcmp(name, "-fda") || !strcmp(name, "-fdb")) {
            if (!arg) {
                die("option '%s' needs a value%s", opt, "");
            }
            add_floppy(o, name[3] - 'a', arg, false, opt);
        } else if (!strcmp(name, "-m") || !strcmp(name, "-bios") || !strcmp(name, "-kernel") ||
                   !strcmp(name, "-initrd") || !strcmp(name, "-append") ||
                   !strcmp(name, "-debugcon") ||
                   !strcmp(name, "-display") || !strcmp(name, "-device") ||
                   !strcmp(name, "-icount") || !strcmp(name, "-accel") || !strcmp(name, "-rtc") ||
                   !strcmp(name, "-d") || !strcmp(name, "-D") || !strcmp(name, "-dfilter") ||
                   !strcmp(name, "-drive") || !strcmp(name, "-boot") || !strcmp(name, "-L") ||
                   !strcmp(name, "-bioslog") || !strcmp(name, "-tb-size") ||
                   !strcmp(name, "-name") || !strcmp(name, "-textdump") ||
                   !strcmp(name, "-incoming") || !strcmp(name, "-loadvm")) {
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
            } else if (!strcmp(name, "-debugcon") || !strcmp(name, "-bioslog")) {
                if (!chardev_spec_ok(arg)) {
                    die("%s: bad backend '%s' (want stdio, file:PATH, null, pty, tcp:, unix:)",
                        opt, arg);
                }
                *(!strcmp(name, "-debugcon") ? &o->debugcon : &o->bioslog) = arg;
            } else if (!strcmp(name, "-drive")) {
                parse_drive(o, arg);
            } else if (!strcmp(name, "-boot")) {
                parse_boot(o, arg);
            } else if (!strcmp(name, "-L")) {
                o->firmware_dir = arg;
            } else if (!strcmp(name, "-display")) {
                if (!strcmp(arg, "sdl")) {
                    o->display_sdl = true;
                    o->display_none = false;
                } else if (!strcmp(arg, "none")) {
                    o->display_none = true;
                    o->display_sdl = false;
                } else {
                    die("-display: unsupported '%s'%s (supported: sdl, none)", arg, "");
                }
            } else if (!strcmp(name, "-name")) {
                /* QEMU's -name guest=NAME[,...] form, or just NAME. */
                o->name = !strncmp(arg, "guest=", 6) ? strndup(arg + 6, strcspn(arg + 6, ","))
                                                     : arg;
            } else if (!strcmp(name, "-textdump")) {
                o->textdump = arg;
            } else if (!strcmp(name, "-incoming")) {
                char why[256];
                if (!vm_uri_check(arg, why, sizeof(why))) {
                    die("-incoming: %s%s", why, "");
                }
                o->incoming = arg;
            } else if (!strcmp(name, "-loadvm")) {
                o->loadvm = arg;
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
            } else if (!strcmp(name, "-tb-size")) {
                char *end;
                unsigned long mib = strtoul(arg, &end, 10);
                if (*end || mib < 1 || mib > 2048) {
                    die("-tb-size: bad size '%s'%s (want 1 to 2048 MiB)", arg, "");
                }
                o->tb_size_mib = (unsigned)mib;
            } else if (!strcmp(arg, "bt") || !strcmp(arg, "tcg")) {
                o->accel = ACCEL_BT;
            } else if (!strcmp(arg, "interp")) {
                o->accel = ACCEL_INTERP;
            } else if (!strcmp(arg, "check")) {
                o->accel = ACCEL_CHECK;
            } else {
                die("--accel: unknown engine '%s'%s (want bt, interp or check)", arg, "");
            }
        } else if (options_machine_parse(o, name, arg, &takes_arg)) {
            /* -M/-machine, -cpu, -smp, -vga, -full-screen, -k */
        } else if (options_net_parse(o, name, arg)) {
            takes_arg = true;
        } else if (options_chardev_parse(o, name, arg, &takes_arg)) {
            /* frontend/options_chardev.c */
        } else if (!parse_debug_option(o, opt, name, arg, &takes_arg)) {
            die("unknown option '%s'%s (see --help)", opt, "");
        }
        if (takes_arg) {
            i++;
        }
    }
    /* Lockstep needs both engines to see the same time (RDTSC, timers):
     * --accel check runs on deterministic time unless -icount says how. */
    if (o->accel == ACCEL_CHECK && o->icount_shift < 0) {
        o->icount_shift = 0;
    }
    options_machine_finish(o);
    options_net_finish(o);
    options_block_finish(o);
    if ((o->initrd || o->append) && !o->kernel) {
        die("%s needs -kernel%s", o->initrd ? "-initrd" : "-append", "");
    }
    options_chardev_finish(o);
    if (o->sandbox.on && o->textdump) {
        die("-textdump cannot be written under -sandbox on%s%s",
            " (files may not be opened for writing after start-up; "
            "the monitor's textdump is refused the same way)", "");
    }
    for (int i = 0; i < o->net.netdev_count; i++) {
        o->sandbox.net_sockets |= o->net.netdevs[i].kind == NETDEV_USER;
    }
}
