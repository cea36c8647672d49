/*
 * The console options, in QEMU's spelling: -serial (up to four COM ports),
 * -monitor, -qmp, -chardev, -mon, and the process options -daemonize and
 * -pidfile.  Every backend becomes a ChardevSpec in CharOptions.chardevs;
 * the ports, the monitor and QMP refer to them by index, so "-chardev
 * socket,id=c0,... -serial chardev:c0" and "-serial tcp::4444,server" end
 * up alike.  options_chardev_finish resolves chardev:ID and applies
 * QEMU's rules: -nographic puts COM1 on this terminal with the monitor a
 * Ctrl-A c away, stdio has one user (or a mux), -daemonize has none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"

const char options_chardev_usage[] =
    "Consoles (CHARDEV: null, stdio, vc, pty, file:PATH, mon:stdio, chardev:ID,\n"
    "          tcp:[HOST]:PORT[,server[,nowait]], unix:PATH[,server[,nowait]];\n"
    "          servers listen on 127.0.0.1 unless HOST says otherwise):\n"
    "  -serial CHARDEV|none    the next serial port: COM1 0x3F8 IRQ4, COM2 0x2F8 IRQ3,\n"
    "                          COM3 0x3E8 IRQ4, COM4 0x2E8 IRQ3 (up to four)\n"
    "  -monitor CHARDEV|none   the human monitor (also Ctrl-A c with -nographic)\n"
    "  -qmp CHARDEV            the QEMU Machine Protocol (JSON) on CHARDEV\n"
    "  -chardev null|stdio|pty|vc,id=ID[,mux=on]  -chardev file,id=ID,path=PATH\n"
    "  -chardev socket,id=ID,path=PATH|[host=HOST,]port=PORT[,server=on|off][,wait=on|off]\n"
    "                          a named backend for chardev:ID\n"
    "  -mon chardev=ID[,mode=readline|control]   a monitor (control: QMP) on it\n"
    "Process:\n"
    "  -daemonize              detach once the machine is set up (no stdio backends)\n"
    "  -pidfile FILE           write the process id to FILE and lock it\n";

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "popek: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

void options_chardev_init(PopekOptions *o)
{
    CharOptions *c = &o->chr;
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        c->serial[i] = -1;
    }
    c->monitor = c->qmp = c->mux = -1;
}

static int add_spec(CharOptions *c, const ChardevSpec *spec, const char *opt)
{
    if (c->chardev_count == OPTIONS_MAX_CHARDEVS) {
        die("%s: more than %s character devices", opt, "16");
    }
    c->chardevs[c->chardev_count] = *spec;
    return c->chardev_count++;
}

/* The old spelling, as -serial, -monitor and -qmp take it; -1 for "none".
 * An unnamed chardev gets QEMU's label for its user (serial0, ...). */
static int add_legacy(CharOptions *c, const char *opt, const char *arg, const char *label)
{
    ChardevSpec spec;
    char err[512];
    if (!strcmp(arg, "none")) {
        return -1;
    }
    if (!chardev_parse_legacy(arg, &spec, err, sizeof(err))) {
        die("%s: %s", opt, err);
    }
    if (spec.kind != CHARDEV_REF) {
        snprintf(spec.id, sizeof(spec.id), "%s", label);
    }
    return add_spec(c, &spec, opt);
}

static int find_id(const CharOptions *c, const char *id)
{
    for (int i = 0; i < c->chardev_count; i++) {
        if (c->chardevs[i].kind != CHARDEV_REF && !strcmp(c->chardevs[i].id, id)) {
            return i;
        }
    }
    return -1;
}

/* -mon chardev=ID[,mode=readline|control][,pretty=on|off] */
static void parse_mon(CharOptions *c, const char *arg)
{
    char *buf = strdup(arg);
    char *save = NULL;
    const char *id = NULL;
    bool control = false;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        if (!strncmp(kv, "chardev=", 8)) {
            id = kv + 8;
        } else if (!strcmp(kv, "mode=control")) {
            control = true;
        } else if (!strcmp(kv, "mode=readline")) {
            control = false;
        } else if (strncmp(kv, "pretty=", 7) != 0) {
            die("-mon: unknown property '%s'%s", kv, "");
        }
    }
    if (!id || !id[0]) {
        die("-mon: chardev=ID is needed%s%s", "", "");
    }
    ChardevSpec ref = {.kind = CHARDEV_REF};
    snprintf(ref.id, sizeof(ref.id), "%s", id);
    *(control ? &c->qmp : &c->monitor) = add_spec(c, &ref, "-mon");
    c->monitor_given |= !control;
    free(buf);
}

bool options_chardev_parse(PopekOptions *o, const char *name, const char *arg, bool *takes_arg)
{
    CharOptions *c = &o->chr;
    char err[512];
    *takes_arg = true;
    if (!strcmp(name, "-daemonize")) {
        c->daemonize = true;
        *takes_arg = false;
        return true;
    }
    if (strcmp(name, "-serial") && strcmp(name, "-monitor") && strcmp(name, "-qmp") &&
        strcmp(name, "-chardev") && strcmp(name, "-mon") && strcmp(name, "-pidfile")) {
        return false;
    }
    if (!arg) {
        die("option '%s' needs a value%s", name, "");
    }
    if (!strcmp(name, "-serial")) {
        if (c->serial_count == PC_MAX_SERIALS) {
            die("-serial: at most %s serial ports (COM1-COM4)%s", "4", "");
        }
        char label[16];
        snprintf(label, sizeof(label), "serial%d", c->serial_count);
        c->serial[c->serial_count] = add_legacy(c, "-serial", arg, label);
        c->serial_count++;
    } else if (!strcmp(name, "-monitor")) {
        c->monitor = add_legacy(c, "-monitor", arg, "compat_monitor0");
        c->monitor_given = true;
    } else if (!strcmp(name, "-qmp")) {
        c->qmp = add_legacy(c, "-qmp", arg, "qmp0");
    } else if (!strcmp(name, "-chardev")) {
        ChardevSpec spec;
        if (!chardev_parse_opts(arg, &spec, err, sizeof(err))) {
            die("-chardev: %s", err, "");
        }
        if (find_id(c, spec.id) >= 0) {
            die("-chardev: duplicate chardev id '%s'%s", spec.id, "");
        }
        add_spec(c, &spec, "-chardev");
    } else if (!strcmp(name, "-mon")) {
        parse_mon(c, arg);
    } else {
        c->pidfile = arg;
    }
    return true;
}

/* chardev:ID and -mon's chardev=ID to the chardev they name. */
static int resolve(CharOptions *c, int index)
{
    if (index < 0 || c->chardevs[index].kind != CHARDEV_REF) {
        return index;
    }
    int target = find_id(c, c->chardevs[index].id);
    if (target < 0) {
        die("chardev '%s' not found (no -chardev with id=%s)", c->chardevs[index].id,
            c->chardevs[index].id);
    }
    return target;
}

/* Is chardev i used (by a port, the monitor or QMP)? */
static int users(const CharOptions *c, int i)
{
    int n = (c->monitor == i) + (c->qmp == i);
    for (int p = 0; p < PC_MAX_SERIALS; p++) {
        n += c->serial[p] == i;
    }
    return n;
}

void options_chardev_finish(PopekOptions *o)
{
    CharOptions *c = &o->chr;
    for (int p = 0; p < PC_MAX_SERIALS; p++) {
        c->serial[p] = resolve(c, c->serial[p]);
    }
    c->monitor = resolve(c, c->monitor);
    c->qmp = resolve(c, c->qmp);
    /* As in QEMU: -nographic puts COM1 on this terminal (with the monitor
     * behind Ctrl-A c) unless -serial says where; otherwise COM1 belongs
     * to the display, which popek's window does not emulate, so null. */
    if (c->serial_count == 0 && o->nographic) {
        ChardevSpec stdio = {.kind = CHARDEV_STDIO, .id = "serial0", .mux = true};
        c->serial[0] = add_spec(c, &stdio, "-nographic");
    }
    if (c->serial[0] >= 0 && o->nographic && c->chardevs[c->serial[0]].kind == CHARDEV_STDIO) {
        c->chardevs[c->serial[0]].mux = true; /* Ctrl-A c reaches the monitor */
    } else if (o->nographic && !c->monitor_given) {
        /* -nographic with COM1 elsewhere: the monitor gets the terminal,
         * as QEMU's default monitor does. */
        ChardevSpec stdio = {.kind = CHARDEV_STDIO, .id = "compat_monitor0"};
        c->monitor = add_spec(c, &stdio, "-nographic");
    }
    for (int i = 0; i < c->chardev_count; i++) {
        ChardevSpec *s = &c->chardevs[i];
        int n = users(c, i);
        if (s->kind == CHARDEV_REF || n == 0) {
            continue;
        }
        if (s->mux && s->kind != CHARDEV_STDIO) {
            die("chardev '%s': popek multiplexes (mon:, mux=on) only stdio%s", s->id, "");
        }
        if (s->mux && c->qmp == i) {
            die("chardev '%s': QMP cannot share a multiplexed chardev%s", s->id, "");
        }
        if (n > 1 && !s->mux) {
            die("chardev '%s' is used twice (share it with mux=on or mon:)%s", s->id, "");
        }
        if (s->mux) {
            if (c->mux >= 0 && c->mux != i) {
                die("cannot use stdio by multiple character devices%s%s", "", "");
            }
            c->mux = i;
        }
    }
    /* The monitor on the mux is the one Ctrl-A c reaches. */
    if (c->monitor >= 0 && c->monitor == c->mux) {
        c->monitor = -1;
    }
    int stdio_users = 0;
    for (int i = 0; i < c->chardev_count; i++) {
        if (c->chardevs[i].kind == CHARDEV_STDIO && users(c, i) > 0) {
            stdio_users++;
        }
    }
    if (stdio_users > 1) {
        die("cannot use stdio by multiple character devices%s%s", "", "");
    }
    if (c->daemonize) {
        if (o->nographic) {
            die("-nographic cannot be used with -daemonize%s%s", "", "");
        }
        bool debug_stdio = (o->debugcon && !strcmp(o->debugcon, "stdio")) ||
                           (o->bioslog && !strcmp(o->bioslog, "stdio"));
        if (stdio_users > 0 || debug_stdio) {
            die("cannot use stdio with -daemonize%s%s", "", "");
        }
    }
}
