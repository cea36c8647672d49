/*
 * The machine and display options in QEMU's spelling: -M/-machine, -cpu,
 * -smp, -vga, -full-screen and -k.  popek has one machine (QEMU's "pc": i440FX +
 * PIIX3), one CPU and one display card, so most of these choose between
 * what exists and a clear refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/models.h"
#include "frontend/options.h"

static void die(const char *fmt, const char *a)
{
    fprintf(stderr, "popek: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    exit(1);
}

/* QEMU's machine names for the i440FX PC; popek builds the one it has. */
static bool machine_name_ok(const char *name)
{
    return !strcmp(name, "pc") || !strcmp(name, "pc-i440fx") || !strncmp(name, "pc-i440fx-", 10);
}

static void set_accel(PopekOptions *o, const char *accel)
{
    if (!strcmp(accel, "bt") || !strcmp(accel, "tcg")) {
        o->accel = ACCEL_BT;
    } else if (!strcmp(accel, "interp")) {
        o->accel = ACCEL_INTERP;
    } else if (!strcmp(accel, "check")) {
        o->accel = ACCEL_CHECK;
    } else {
        die("-machine: unknown accelerator '%s' (want bt, tcg, interp or check)", accel);
    }
}

/* -M/-machine [type=]pc[,accel=A] | help */
static void parse_machine(PopekOptions *o, const char *spec)
{
    if (!strcmp(spec, "help") || !strcmp(spec, "?")) {
        printf("Supported machines are:\n"
               "pc                   Standard PC (i440FX + PIIX, 1996) (default)\n");
        exit(0);
    }
    char *buf = strdup(spec);
    char *save = NULL;
    bool first = true;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save), first = false) {
        const char *type = first && !strchr(kv, '=')  ? kv
                           : !strncmp(kv, "type=", 5) ? kv + 5
                                                      : NULL;
        if (type) {
            if (!machine_name_ok(type)) {
                die("-machine: unsupported machine type '%s' (popek has 'pc'; -machine help)",
                    type);
            }
        } else if (!strncmp(kv, "accel=", 6)) {
            /* QEMU takes a colon-separated fallback list: the first we have wins. */
            char *save_accel = NULL;
            const char *pick = NULL;
            for (char *a = strtok_r(kv + 6, ":", &save_accel); a && !pick;
                 a = strtok_r(NULL, ":", &save_accel)) {
                if (!strcmp(a, "bt") || !strcmp(a, "tcg") || !strcmp(a, "interp") ||
                    !strcmp(a, "check")) {
                    pick = a;
                }
            }
            set_accel(o, pick ? pick : kv + 6);
        } else {
            die("-machine: unsupported property '%s'", kv);
        }
    }
    free(buf);
}

/* -smp [cpus=]N[,sockets=,dies=,cores=,threads=,maxcpus=]: one CPU only. */
static void parse_smp(const char *spec)
{
    char *buf = strdup(spec);
    char *save = NULL;
    bool first = true;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save), first = false) {
        const char *eq = strchr(kv, '=');
        const char *val = eq ? eq + 1 : kv;
        size_t klen = eq ? (size_t)(eq - kv) : 0;
        static const char *const keys[] = {"cpus",  "sockets", "dies",   "clusters",
                                           "cores", "threads", "maxcpus"};
        bool known = !eq && first;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !known; i++) {
            known = eq && klen == strlen(keys[i]) && !strncmp(kv, keys[i], klen);
        }
        if (!known) {
            die("-smp: unsupported property '%s'", kv);
        }
        char *end;
        unsigned long n = strtoul(val, &end, 10);
        if (!val[0] || *end) {
            die("-smp: bad number '%s'", val);
        }
        if (n != 1) {
            die("-smp: '%s': popek emulates one CPU (no SMP yet)", kv);
        }
    }
    free(buf);
}

/*
 * QEMU's keyboard layout names (pc-bios/keymaps).  popek's window sends the
 * guest the physical key (SDL scancodes to PS/2 set 1, frontend/sdl_keymap.c),
 * as QEMU's SDL display does, so the guest's own layout setting decides the
 * characters and every one of these works alike.
 */
static const char *const keymaps[] = {
    "ar", "bepo",  "cz",    "da",    "de",    "de-ch", "en-gb", "en-us", "es", "et", "fi", "fo",
    "fr", "fr-be", "fr-ca", "fr-ch", "hr",    "hu",    "is",    "it",    "ja", "lt", "lv", "mk",
    "nl", "no",    "pl",    "pt",    "pt-br", "ru",    "sl",    "sv",    "th", "tr",
};

static void parse_keymap(PopekOptions *o, const char *name)
{
    for (size_t i = 0; i < sizeof(keymaps) / sizeof(keymaps[0]); i++) {
        if (!strcmp(name, keymaps[i])) {
            o->keymap = keymaps[i];
            return;
        }
    }
    die("-k: unknown keyboard layout '%s' (QEMU's names: en-us, en-gb, de, fr, ...)", name);
}

/* -cpu help | NAME[,+feat|-feat|feat=on|off]... (cpu/models.c) */
static void parse_cpu(PopekOptions *o, const char *spec)
{
    if (!strcmp(spec, "help") || !strcmp(spec, "?")) {
        cpu_model_help(stdout);
        exit(0);
    }
    char err[160];
    if (!cpu_model_parse(spec, &o->cpu, err, sizeof(err))) {
        die("%s", err);
    }
}

bool options_machine_parse(PopekOptions *o, const char *name, const char *arg, bool *takes_arg)
{
    if (!strcmp(name, "-full-screen")) {
        o->full_screen = true;
        *takes_arg = false;
        return true;
    }
    if (strcmp(name, "-M") && strcmp(name, "-machine") && strcmp(name, "-smp") &&
        strcmp(name, "-vga") && strcmp(name, "-k") && strcmp(name, "-cpu")) {
        return false;
    }
    if (!arg) {
        die("option '%s' needs a value", name);
    }
    *takes_arg = true;
    if (!strcmp(name, "-M") || !strcmp(name, "-machine")) {
        parse_machine(o, arg);
    } else if (!strcmp(name, "-smp")) {
        parse_smp(arg);
    } else if (!strcmp(name, "-cpu")) {
        parse_cpu(o, arg);
    } else if (!strcmp(name, "-vga")) {
        if (!strcmp(arg, "std")) {
            o->vga_none = false;
        } else if (!strcmp(arg, "none")) {
            o->vga_none = true;
        } else {
            die("-vga: unsupported card '%s' (popek has std, or none)", arg);
        }
    } else {
        parse_keymap(o, arg);
    }
    return true;
}

void options_machine_finish(PopekOptions *o)
{
    if (o->vga_none) {
        if (o->display_sdl) {
            die("-display sdl: -vga none leaves no display device to show%s", "");
        }
        /* Nothing to show: the terminal carries the serial console and
         * SeaBIOS's serial console becomes its only screen, as -nographic. */
        o->nographic = true;
    }
}
