/*
 * The host's consoles: the chardevs the options name, opened and cabled to
 * their users (the COM ports, the monitor, QMP), and served from the
 * host's one poll().  The mux (mon:stdio, and -nographic's terminal) is
 * the stdio chardev with QEMU's Ctrl-A keys in front of COM1: Ctrl-A c
 * hands the keys to the monitor, Ctrl-A x quits (frontend/headless.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/host.h"
#include "frontend/monitor.h"

/* Keys the escape filter passed on that the port had no room for yet
 * (a Ctrl-A c and typing in one read): they go first when it has. */
static void serial_flush_pending(HostSerial *s)
{
    int room = pc_serial_room(&s->host->pc, s->port);
    int n = room < s->pending_len ? room : s->pending_len;
    if (n > 0) {
        pc_serial_input(&s->host->pc, s->port, s->pending, n);
        memmove(s->pending, s->pending + n, (size_t)(s->pending_len - n));
        s->pending_len -= n;
    }
}

static int serial_can_receive(void *opaque)
{
    HostSerial *s = opaque;
    Host *h = s->host;
    serial_flush_pending(s);
    if (s->pending_len > 0) {
        return 0;
    }
    if (h->mux == h->serial[s->port] && h->escapes) {
        /* Ctrl-A c may hand the keys to the monitor mid-read: read no more
         * than the pending buffer holds. */
        int room = pc_serial_room(&h->pc, s->port);
        return h->headless.monitor_active || room > 0 ? HOST_SERIAL_PENDING : 0;
    }
    return pc_serial_room(&h->pc, s->port);
}

/* Keys for a COM port; on the mux, the escapes are taken out first. */
static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    HostSerial *s = opaque;
    Host *h = s->host;
    if (h->mux != h->serial[s->port] || !h->escapes) {
        pc_serial_input(&h->pc, s->port, buf, len);
        return;
    }
    /* len <= HOST_SERIAL_PENDING and nothing is pending (serial_can_receive). */
    s->pending_len = headless_filter(&h->headless, buf, len, s->pending);
    if (h->headless.quit) {
        host_quit(h, "host-ui");
    }
    serial_flush_pending(s);
}

void host_chardev_open(Host *h, const PopekOptions *o, PCConfig *cfg)
{
    const CharOptions *c = &o->chr;
    char err[512];
    for (int i = 0; i < c->chardev_count; i++) {
        const ChardevSpec *spec = &c->chardevs[i];
        bool used = c->monitor == i || c->qmp == i;
        for (int p = 0; p < PC_MAX_SERIALS; p++) {
            used |= c->serial[p] == i;
        }
        /* chardev:ID entries were resolved; an unused -chardev opens too,
         * as in QEMU (a socket listens, a pty is announced). */
        if (spec->kind == CHARDEV_REF || (!used && spec->kind == CHARDEV_STDIO)) {
            continue;
        }
        if (!chardev_open_spec(&h->chardevs[i], spec, spec->id, err, sizeof(err))) {
            fprintf(stderr, "popek: chardev '%s': %s\n", spec->id, err);
            exit(1);
        }
        h->chardev_opened[i] = true;
    }
    for (int p = 0; p < PC_MAX_SERIALS; p++) {
        if (c->serial[p] < 0) {
            continue;
        }
        Chardev *chr = &h->chardevs[c->serial[p]];
        h->serial[p] = chr;
        h->serial_rx[p] = (HostSerial){.host = h, .port = p};
        cfg->serial[p] = &chr->backend;
    }
    h->monitor_chr = c->monitor >= 0 ? &h->chardevs[c->monitor] : NULL;
    h->qmp_chr = c->qmp >= 0 ? &h->chardevs[c->qmp] : NULL;
    if (c->mux >= 0) {
        h->mux = &h->chardevs[c->mux];
        h->escapes = true;
        headless_start(&h->headless);
    }
}

/* After the board exists: the COM ports take their chardevs' input. */
void host_chardev_attach_serials(Host *h)
{
    for (int p = 0; p < PC_MAX_SERIALS; p++) {
        if (h->serial[p]) {
            chardev_set_receiver(h->serial[p], serial_can_receive, serial_receive, NULL,
                                 &h->serial_rx[p]);
        }
    }
}

static void add_chardev(Host *h, Chardev *c)
{
    struct pollfd fds[2];
    int n = chardev_pollfds(c, fds, 2);
    for (int i = 0; i < n; i++) {
        net_pollset_add(&h->pollset, fds[i].fd, fds[i].events);
    }
}

int host_chardev_pollfds(Host *h)
{
    int first = h->pollset.n;
    for (int i = 0; i < OPTIONS_MAX_CHARDEVS; i++) {
        if (h->chardev_opened[i]) {
            add_chardev(h, &h->chardevs[i]);
        }
    }
    add_chardev(h, &h->debugcon_out);
    add_chardev(h, &h->bioslog_out);
    return first;
}

static void service_one(Chardev *c, const struct pollfd *fds, int n)
{
    chardev_service(c, fds, n);
}

void host_chardev_service(Host *h, int first, int end)
{
    const struct pollfd *fds = h->pollset.fds + first;
    int n = end - first;
    for (int i = 0; i < OPTIONS_MAX_CHARDEVS; i++) {
        if (h->chardev_opened[i]) {
            service_one(&h->chardevs[i], fds, n);
        }
    }
    service_one(&h->debugcon_out, fds, n);
    service_one(&h->bioslog_out, fds, n);
}

void host_chardev_close(Host *h)
{
    headless_stop(&h->headless);
    for (int i = 0; i < OPTIONS_MAX_CHARDEVS; i++) {
        if (h->chardev_opened[i]) {
            chardev_close(&h->chardevs[i]);
            h->chardev_opened[i] = false;
        }
    }
}
