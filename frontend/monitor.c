/*
 * The monitor's consoles and command dispatch.
 *
 * A console is a line editor over a pair of descriptors.  On a raw
 * terminal (the -nographic one) it echoes keys and handles backspace
 * itself; on stdio in cooked mode, pipes and sockets the other end does.
 * Commands run between CPU slices, on the one machine thread, so they see
 * the guest at an instruction boundary.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "frontend/monitor.h"
#include "frontend/monitor_cmds.h"
#include "frontend/monitor_keys.h"
#include "frontend/version.h"

#define MON_LINE_MAX 512
#define MON_PROMPT   "(popek) "
#define MON_BANNER   "popek monitor - type 'help' for more information\n"

typedef struct MonConsole {
    Chardev *chr;   /* where answers go; NULL: this terminal (the -nographic mux) */
    bool echo;      /* raw terminal: echo keys, handle backspace */
    char line[MON_LINE_MAX];
    size_t len;
    bool too_long; /* the current line overflowed: it is dropped */
    bool after_cr; /* swallow the \n of a \r\n */
    int esc;       /* in an escape sequence: 1 after ESC, 2 after ESC [ */
} MonConsole;

struct Monitor {
    CPUState *cpu;
    bool *vm_stopped; /* shared run state (PC.stopped) */
    MonitorOps ops;
    size_t cs_handle; /* capstone (csh) for x/i */
    bool cs_open;
    MonConsole con;   /* -monitor's chardev (stdio, a socket's client, a pty ...) */
    MonConsole mux;   /* the -nographic terminal, after Ctrl-A c */
    bool mux_greeted; /* the banner was shown there */
};

static const char help_text[] =
    "info registers      CPU registers\n"
    "info tlb            page table mappings (linear: physical flags)\n"
    "info mem            mapped linear ranges and their rights\n"
    "info pic            8259 and I/O APIC state\n"
    "info lapic          local APIC state\n"
    "info irq            hardware interrupts taken, per vector\n"
    "info status         running or paused\n"
    "info version        popek's version\n"
    "info cpus           the CPU and where it is\n"
    "info block          drives, their images and media\n"
    "info mtree          the physical memory map and the I/O ports\n"
    "info migrate        the last migration: status, time, size\n"
    "info snapshots      the snapshots in the VM's qcow2 image\n"
    "info jit            translator statistics (blocks, code size, flushes)\n"
    "info network        network cards and backends, their links and frame counts\n"
    "info usernet        user networking's connections\n"
    "x/FMT ADDR          dump linear (virtual) memory\n"
    "xp/FMT ADDR         dump physical memory\n"
    "                    FMT: [count][x|d|u|o|c|i][b|h|w|g], e.g. x/8xw $esp, x/5i $pc\n"
    "                    ADDR: numbers and $registers joined by + and -\n"
    "stop, cont          pause and resume the machine\n"
    "system_reset        reset the machine\n"
    "system_powerdown    press the ACPI power button\n"
    "quit                leave popek\n"
    "sendkey KEYS [MS]   press KEYS (QEMU's names joined by -, e.g. ctrl-alt-delete)\n"
    "eject [-f] DEVICE   take the medium out of a CD-ROM drive (ide1-cd0)\n"
    "change DEVICE FILE  put FILE into a CD-ROM drive\n"
    "screendump FILE     write the screen to FILE as a PNG\n"
    "textdump FILE       write the text screen to FILE as UTF-8\n"
    "set_link NAME on|off  connect or cut a network card or backend's link\n"
    "hostfwd_add [NETDEV] [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT  forward a host port\n"
    "hostfwd_remove [NETDEV] [tcp|udp]:[HADDR]:HPORT  stop forwarding it\n"
    "migrate [-d] URI    save the whole VM to file:PATH or \"exec:CMD\" (CMD reads it\n"
    "                    on stdin) and pause it; -incoming URI starts from it\n"
    "savevm, loadvm, delvm NAME   VM snapshots in the first writable qcow2 image\n"
    "help                this list\n";

static void console_init(MonConsole *c, Chardev *chr, bool echo)
{
    memset(c, 0, sizeof(*c));
    c->chr = chr;
    c->echo = echo;
}

static void console_write(const MonConsole *c, const char *s, size_t len)
{
    if (c->chr) {
        chardev_write(c->chr, s, len);
        return;
    }
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, s, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* the reader went away: nothing more to say */
        }
        s += n;
        len -= (size_t)n;
    }
}

static void console_puts(const MonConsole *c, const char *s)
{
    console_write(c, s, strlen(s));
}

Monitor *monitor_new(CPUState *cpu, bool *vm_stopped, const MonitorOps *ops)
{
    Monitor *m = calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    m->cpu = cpu;
    m->vm_stopped = vm_stopped;
    if (ops) {
        m->ops = *ops;
    }
    console_init(&m->con, NULL, false);
    console_init(&m->mux, NULL, true);
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &handle) == CS_ERR_OK) {
        m->cs_handle = (size_t)handle;
        m->cs_open = true;
    }
    return m;
}

void monitor_free(Monitor *m)
{
    if (!m) {
        return;
    }
    if (m->con.chr) {
        chardev_set_receiver(m->con.chr, NULL, NULL, NULL, NULL);
    }
    if (m->cs_open) {
        csh handle = (csh)m->cs_handle;
        cs_close(&handle);
    }
    free(m);
}

/* ---- commands ---- */

/* A network command, if the machine has a network. */
static void cmd_net(Monitor *m, const char *cmd, const char *args, MonBuf *out)
{
    char buf[8192];
    if (!m->ops.net_command) {
        monbuf_printf(out, "%s: not available here\n", cmd);
        return;
    }
    m->ops.net_command(m->ops.opaque, cmd, args, buf, sizeof(buf));
    monbuf_printf(out, "%s", buf);
}

/* A drive or memory-map command, if the machine has them. */
static void cmd_host(Monitor *m, const char *cmd, const char *args, MonBuf *out)
{
    char buf[16384];
    if (!m->ops.host_command) {
        monbuf_printf(out, "%s: not available here\n", cmd);
        return;
    }
    m->ops.host_command(m->ops.opaque, cmd, args, buf, sizeof(buf));
    monbuf_printf(out, "%s", buf);
}

/* sendkey KEYS [HOLD_MS]: press the keys in order, release them in reverse
 * (the keyboard queues the codes; popek has no typematic repeat, so the
 * hold time is checked and the keys are released at once). */
static void cmd_sendkey(Monitor *m, char *rest, MonBuf *out)
{
    char *save = NULL;
    char *combo = strtok_r(rest, " \t", &save);
    char *hold = strtok_r(NULL, " \t", &save);
    int codes[MONITOR_KEYS_MAX];
    char bad[40];
    if (!combo) {
        monbuf_printf(out, "sendkey: usage: sendkey KEYS [HOLD_MS], e.g. sendkey ctrl-alt-delete\n");
        return;
    }
    if (hold) {
        char *end;
        long ms = strtol(hold, &end, 0);
        if (*end || ms < 0) {
            monbuf_printf(out, "sendkey: bad hold time '%s'\n", hold);
            return;
        }
    }
    int n = monitor_parse_keys(combo, codes, bad, sizeof(bad));
    if (n < 0) {
        monbuf_printf(out, "sendkey: unknown key: '%s'\n", bad);
        return;
    }
    if (!m->ops.key_event) {
        monbuf_printf(out, "sendkey: not available here\n");
        return;
    }
    for (int i = 0; i < n; i++) {
        m->ops.key_event(m->ops.opaque, codes[i], true);
    }
    for (int i = n - 1; i >= 0; i--) {
        m->ops.key_event(m->ops.opaque, codes[i], false);
    }
}

static void cmd_info(Monitor *m, const char *what, MonBuf *out)
{
    char buf[4096];
    if (!strcmp(what, "registers")) {
        moncmd_info_registers(out, m->cpu);
    } else if (!strcmp(what, "tlb")) {
        moncmd_info_tlb(out, m->cpu);
    } else if (!strcmp(what, "mem")) {
        moncmd_info_mem(out, m->cpu);
    } else if (!strcmp(what, "jit")) {
        moncmd_info_jit(out, m->cpu);
    } else if (!strcmp(what, "pic") && m->ops.pic_info) {
        m->ops.pic_info(m->ops.opaque, buf, sizeof(buf));
        monbuf_printf(out, "%s", buf);
    } else if (!strcmp(what, "lapic") && m->ops.lapic_info) {
        m->ops.lapic_info(m->ops.opaque, buf, sizeof(buf));
        monbuf_printf(out, "%s", buf);
    } else if (!strcmp(what, "irq") && m->ops.irq_info) {
        m->ops.irq_info(m->ops.opaque, buf, sizeof(buf));
        monbuf_printf(out, "%s", buf);
    } else if (!strcmp(what, "network") || !strcmp(what, "usernet")) {
        cmd_net(m, !strcmp(what, "network") ? "info network" : "info usernet", "", out);
    } else if (!strcmp(what, "status")) {
        monbuf_printf(out, "VM status: %s\n", *m->vm_stopped ? "paused" : "running");
    } else if (!strcmp(what, "version")) {
        monbuf_printf(out, "%s (popek)\n", POPEK_VERSION);
    } else if (!strcmp(what, "cpus")) {
        /* One CPU, run by the main thread: its thread id is the pid. */
        uint32_t pc = m->cpu->seg[SEG_CS].base + m->cpu->eip;
        monbuf_printf(out, "* CPU #0: pc=0x%016" PRIx64 " thread_id=%d\n", (uint64_t)pc,
                      (int)getpid());
    } else if (!strcmp(what, "block") || !strcmp(what, "mtree")) {
        cmd_host(m, !strcmp(what, "block") ? "info block" : "info mtree", "", out);
    } else if (!strcmp(what, "migrate") || !strcmp(what, "snapshots")) {
        cmd_host(m, !strcmp(what, "migrate") ? "info migrate" : "info snapshots", "", out);
    } else {
        monbuf_printf(out, "info: unknown or unavailable item '%s' (see help)\n", what);
    }
}

/* Run a machine action if the machine offers it. */
static void cmd_action(Monitor *m, void (*action)(void *opaque), const char *name, MonBuf *out)
{
    if (action) {
        action(m->ops.opaque);
    } else {
        monbuf_printf(out, "%s: not available here\n", name);
    }
}

/* screendump FILE / textdump FILE. */
static void cmd_dump(Monitor *m, const char *name, char *rest,
                     bool (*dump)(void *opaque, const char *path, char *err, size_t errlen),
                     MonBuf *out)
{
    char *save = NULL;
    char *path = strtok_r(rest, " \t", &save);
    char err[512];
    if (!dump) {
        monbuf_printf(out, "%s: not available here\n", name);
    } else if (!path) {
        monbuf_printf(out, "%s: usage: %s FILE\n", name, name);
    } else if (!dump(m->ops.opaque, path, err, sizeof(err))) {
        monbuf_printf(out, "%s: %s\n", name, err);
    }
}

/* line: one command, modified in place. */
static void monitor_dispatch(Monitor *m, char *line, MonBuf *out)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t", &save);
    if (!cmd) {
        return;
    }
    char *rest = save ? save : "";
    char *slash = strchr(cmd, '/');
    if (slash) {
        *slash = '\0';
    }
    if (!strcmp(cmd, "x") || !strcmp(cmd, "xp")) {
        moncmd_dump(out, m->cpu, m->cs_handle, cmd[1] == 'p', slash ? slash + 1 : "", rest);
    } else if (slash) {
        monbuf_printf(out, "unknown command: '%s/'\n", cmd);
    } else if (!strcmp(cmd, "info")) {
        char *what = strtok_r(NULL, " \t", &save);
        cmd_info(m, what ? what : "", out);
    } else if (!strcmp(cmd, "stop")) {
        *m->vm_stopped = true;
    } else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
        *m->vm_stopped = false;
    } else if (!strcmp(cmd, "system_reset")) {
        cmd_action(m, m->ops.reset, cmd, out);
    } else if (!strcmp(cmd, "system_powerdown")) {
        cmd_action(m, m->ops.powerdown, cmd, out);
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        cmd_action(m, m->ops.quit, cmd, out);
    } else if (!strcmp(cmd, "screendump")) {
        cmd_dump(m, cmd, rest, m->ops.screendump, out);
    } else if (!strcmp(cmd, "textdump")) {
        cmd_dump(m, cmd, rest, m->ops.textdump, out);
    } else if (!strcmp(cmd, "set_link") || !strcmp(cmd, "hostfwd_add") ||
               !strcmp(cmd, "hostfwd_remove")) {
        cmd_net(m, cmd, rest, out);
    } else if (!strcmp(cmd, "sendkey")) {
        cmd_sendkey(m, rest, out);
    } else if (!strcmp(cmd, "eject") || !strcmp(cmd, "change") || !strcmp(cmd, "migrate") ||
               !strcmp(cmd, "savevm") || !strcmp(cmd, "loadvm") || !strcmp(cmd, "delvm")) {
        cmd_host(m, cmd, rest, out);
    } else if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        monbuf_printf(out, "%s", help_text);
    } else {
        monbuf_printf(out, "unknown command: '%s' (try help)\n", cmd);
    }
}

char *monitor_run(Monitor *m, const char *line)
{
    MonBuf out = {NULL, 0, 0};
    char *copy = strdup(line);
    if (copy) {
        monitor_dispatch(m, copy, &out);
        free(copy);
    }
    if (!out.data) {
        return strdup("");
    }
    return out.data;
}

/* ---- line editing ---- */

static void console_execute(Monitor *m, MonConsole *c)
{
    if (c->echo) {
        console_puts(c, "\n");
    }
    if (c->too_long) {
        console_puts(c, "line too long: ignored\n");
    } else {
        c->line[c->len] = '\0';
        char *out = monitor_run(m, c->line);
        if (out) {
            console_puts(c, out);
            free(out);
        }
    }
    c->len = 0;
    c->too_long = false;
    console_puts(c, MON_PROMPT);
}

static void console_key(Monitor *m, MonConsole *c, uint8_t key)
{
    /* Cursor keys and the like (ESC [ parameters final-byte) are skipped. */
    if (c->esc == 1) {
        c->esc = key == '[' ? 2 : 0;
        return;
    }
    if (c->esc == 2) {
        if (key >= 0x40 && key <= 0x7e) {
            c->esc = 0;
        }
        return;
    }
    bool after_cr = c->after_cr;
    c->after_cr = key == '\r';
    if (key == '\r' || (key == '\n' && !after_cr)) {
        console_execute(m, c);
    } else if (key == 0x1b) {
        c->esc = 1;
    } else if (key == 0x7f || key == 0x08) {
        if (c->len > 0) {
            c->len--;
            if (c->echo) {
                console_puts(c, "\b \b");
            }
        }
    } else if (key >= 0x20 && key < 0x7f) {
        if (c->len + 1 < sizeof(c->line)) {
            c->line[c->len++] = (char)key;
        } else {
            c->too_long = true;
        }
        if (c->echo) {
            console_write(c, (const char *)&key, 1);
        }
    }
}

static void console_input(Monitor *m, MonConsole *c, const uint8_t *data, int len)
{
    for (int i = 0; i < len; i++) {
        console_key(m, c, data[i]);
    }
}

void monitor_mux_focus(void *monitor, bool active)
{
    Monitor *m = monitor;
    if (!active) {
        console_puts(&m->mux, "\n");
        return;
    }
    console_puts(&m->mux, "\n");
    if (!m->mux_greeted) {
        console_puts(&m->mux, MON_BANNER);
        m->mux_greeted = true;
    }
    console_puts(&m->mux, MON_PROMPT);
}

void monitor_mux_input(void *monitor, const uint8_t *data, int len)
{
    Monitor *m = monitor;
    console_input(m, &m->mux, data, len);
}

/* ---- -monitor's chardev ---- */

static int monitor_can_receive(void *opaque)
{
    return MON_LINE_MAX;
}

static void monitor_receive(void *opaque, const uint8_t *buf, int len)
{
    Monitor *m = opaque;
    console_input(m, &m->con, buf, len);
}

/* A client connected (or the terminal is there from the start): a fresh
 * line and the banner, as QEMU greets each monitor connection. */
static void monitor_event(void *opaque, enum ChardevEvent event)
{
    Monitor *m = opaque;
    if (event == CHARDEV_OPENED) {
        console_init(&m->con, m->con.chr, false);
        console_puts(&m->con, MON_BANNER);
        console_puts(&m->con, MON_PROMPT);
    }
}

void monitor_attach(Monitor *m, Chardev *chr)
{
    console_init(&m->con, chr, false);
    chardev_set_receiver(chr, monitor_can_receive, monitor_receive, monitor_event, m);
}
