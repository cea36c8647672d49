/*
 * The host's side of the VM's network (host.h): the netdevs and dump
 * filters the options name, opened before the machine is built, each card
 * matched with its netdev, and the monitor's network commands.  The net
 * layer's descriptors and timers join host_poll (frontend/host.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/host.h"
#include "migration/registry.h"
#include "net/dump.h"
#include "net/slirp.h"
#include "net/socket.h"

static void open_netdev(Host *h, const NetdevOption *o)
{
    char err[512];
    Netdev *nd = o->kind == NETDEV_USER
                     ? net_slirp_new(h->net, o->id, &o->user, err, sizeof(err))
                     : net_socket_new(h->net, o->id, &o->socket, err, sizeof(err));
    if (!nd) {
        fprintf(stderr, "popek: %s%s%s: %s\n", o->option, o->arg ? " " : "", o->arg ? o->arg : "",
                err);
        exit(1);
    }
}

void host_net_open(Host *h, const PopekOptions *opts)
{
    const NetOptions *o = &opts->net;
    char err[512];
    h->net = net_new();
    if (!h->net) {
        fprintf(stderr, "popek: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < o->netdev_count; i++) {
        open_netdev(h, &o->netdevs[i]);
    }
    for (int i = 0; i < o->dump_count; i++) {
        const DumpOption *d = &o->dumps[i];
        if (!net_dump_attach(net_find(h->net, d->netdev), d->id, d->file, d->maxlen, err,
                             sizeof(err))) {
            fprintf(stderr, "popek: -object %s: %s\n", d->arg, err);
            exit(1);
        }
    }
    h->nic_count = o->nic_count;
    h->nics = o->nics;
    for (int i = 0; i < o->nic_count; i++) {
        h->nic_netdev[i] = o->nics[i].netdev ? net_find(h->net, o->nics[i].netdev) : NULL;
    }
    /* As QEMU warns: a backend no card uses carries nothing. */
    for (int i = 0; i < o->netdev_count; i++) {
        bool used = false;
        for (int j = 0; j < o->nic_count; j++) {
            used |= o->nics[j].netdev && !strcmp(o->nics[j].netdev, o->netdevs[i].id);
        }
        if (!used) {
            fprintf(stderr, "popek: warning: netdev %s has no peer\n", o->netdevs[i].id);
        }
    }
}

/* ---- saved VMs ----
 *
 * Each user netdev's libslirp keeps its own state ("slirp" sections, in
 * libslirp's format with its version): the guest's address lease, the ARP
 * and NDP tables, and its TCP and UDP connections as libslirp records
 * them.  What a restored guest sees: the same address and gateway, and
 * new connections work at once; a connection to the outside that was open
 * is gone (its host socket belonged to the old process; the guest's next
 * packet on it gets a reset), and hostfwd= rules are those of the new
 * command line, listening again on the host. */

static void slirp_put(void *opaque, const void *buf, size_t len)
{
    vm_put_bytes(opaque, buf, len);
}

static bool slirp_get(void *opaque, void *buf, size_t len)
{
    VMReader *r = opaque;
    vm_get_bytes(r, buf, len);
    return !r->failed;
}

static void slirp_section_save(VMWriter *w, void *opaque)
{
    VMWriter inner;
    vm_writer_init(&inner);
    net_slirp_state_save(opaque, slirp_put, &inner);
    vm_put_u32(w, (uint32_t)net_slirp_state_version());
    vm_put_u64(w, inner.len);
    vm_put_bytes(w, inner.buf, inner.len);
    w->failed |= inner.failed;
    vm_writer_free(&inner);
}

static bool slirp_section_load(VMReader *r, void *opaque, uint32_t version)
{
    uint32_t slirp_version = vm_get_u32(r);
    uint64_t len = vm_get_u64(r);
    if (r->failed) {
        return false;
    }
    if (slirp_version > (uint32_t)net_slirp_state_version()) {
        return vm_fail(r, "libslirp state version %u, this libslirp reads %d", slirp_version,
                       net_slirp_state_version());
    }
    if (len > r->len - r->pos) {
        return vm_fail(r, "truncated");
    }
    VMReader inner;
    vm_reader_init(&inner, r->data + r->pos, (size_t)len);
    r->pos += (size_t)len;
    if (!net_slirp_state_load(opaque, (int)slirp_version, slirp_get, &inner) || inner.failed) {
        return vm_fail(r, "libslirp refused its state");
    }
    return true;
}

static const VMStateDesc slirp_vmstate = {
    .name = "slirp",
    .version = 1,
    .min_version = 1,
    .save = slirp_section_save,
    .load = slirp_section_load,
};

void host_net_register_state(Host *h)
{
    uint32_t instance = 0;
    for (Netdev *nd = net_next(h->net, NULL); nd; nd = net_next(h->net, nd)) {
        if (net_slirp_is_user(nd)) {
            vmstate_register(h->pc.vmstate, &slirp_vmstate, instance++, nd);
        }
    }
}

void host_net_close(Host *h)
{
    net_free(h->net);
    h->net = NULL;
    net_pollset_free(&h->pollset);
}

/* ---- the monitor ---- */

/* A growing answer in the caller's buffer (snprintf rules). */
typedef struct Answer {
    char *buf;
    size_t len;
    size_t at; /* what it would hold with room for everything */
} Answer;

static void say(Answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(Answer *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->at < a->len ? a->buf + a->at : NULL, a->at < a->len ? a->len - a->at : 0,
                      fmt, ap);
    va_end(ap);
    a->at += n > 0 ? (size_t)n : 0;
}

/* Which card is cabled to nd, or -1. */
static int nic_of(const Host *h, const Netdev *nd)
{
    for (int i = 0; i < h->nic_count; i++) {
        if (h->nic_netdev[i] == nd) {
            return i;
        }
    }
    return -1;
}

static void say_netdev(Answer *a, const Netdev *nd)
{
    char line[2048];
    const NetdevStats *st = netdev_stats(nd);
    netdev_info(nd, line, sizeof(line));
    say(a, "%s", line);
    say(a, "  frames: to guest %llu, from guest %llu, dropped %llu, garbage %llu\n",
        (unsigned long long)st->to_nic, (unsigned long long)st->from_nic,
        (unsigned long long)st->dropped, (unsigned long long)st->garbage);
}

/* QEMU's layout: backends without a card, then each card with its
 * backend under it. */
static void info_network(Host *h, Answer *a)
{
    for (Netdev *nd = net_next(h->net, NULL); nd; nd = net_next(h->net, nd)) {
        if (nic_of(h, nd) < 0) {
            say_netdev(a, nd);
        }
    }
    for (int i = 0; i < h->nic_count; i++) {
        const NicOption *nic = &h->nics[i];
        const uint8_t *m = nic->mac;
        Netdev *nd = h->nic_netdev[i];
        say(a, "%s: index=0,type=nic,model=%s,macaddr=%02x:%02x:%02x:%02x:%02x:%02x%s\n", nic->id,
            nic->model, m[0], m[1], m[2], m[3], m[4], m[5],
            nd && netdev_nic_link_on(nd) ? "" : ",link=down");
        if (nd) {
            say(a, " \\ ");
            say_netdev(a, nd);
        }
    }
}

/* set_link NAME on|off: NAME is a netdev or a card. */
static void set_link(Host *h, const char *args, Answer *a)
{
    char name[128], state[16];
    bool up;
    if (sscanf(args, "%127s %15s", name, state) != 2) {
        say(a, "usage: set_link NAME on|off\n");
        return;
    }
    if (!strcmp(state, "on") || !strcmp(state, "off")) {
        up = !strcmp(state, "on");
    } else {
        say(a, "Expected 'on' or 'off'\n");
        return;
    }
    Netdev *nd = net_find(h->net, name);
    if (nd) {
        netdev_set_link(nd, up);
        return;
    }
    for (int i = 0; i < h->nic_count; i++) {
        if (!strcmp(h->nics[i].id, name)) {
            if (h->nic_netdev[i]) {
                netdev_set_nic_link(h->nic_netdev[i], up);
            } else {
                say(a, "NIC '%s' has no netdev: it has no link to switch\n", name);
            }
            return;
        }
    }
    say(a, "Device '%s' not found\n", name);
}

/* hostfwd_add/hostfwd_remove [NETDEV_ID] RULE */
static void hostfwd(Host *h, bool add, const char *args, Answer *a)
{
    char first[256], second[256], msg[512];
    int n = sscanf(args, "%255s %255s", first, second);
    if (n < 1) {
        say(a, "usage: %s [netdev_id] %s\n", add ? "hostfwd_add" : "hostfwd_remove",
            add ? "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"
                : "[tcp|udp]:[hostaddr]:hostport");
        return;
    }
    const char *id = n == 2 ? first : NULL, *rule = n == 2 ? second : first;
    if (add) {
        net_slirp_hostfwd_add(h->net, id, rule, msg, sizeof(msg));
    } else {
        net_slirp_hostfwd_remove(h->net, id, rule, msg, sizeof(msg));
    }
    say(a, "%s", msg);
}

int host_net_command(void *host, const char *cmd, const char *args, char *buf, size_t len)
{
    Host *h = host;
    Answer a = {buf, len, 0};
    if (len) {
        buf[0] = '\0';
    }
    if (!strcmp(cmd, "info network")) {
        info_network(h, &a);
    } else if (!strcmp(cmd, "info usernet")) {
        net_slirp_usernet_info(h->net, buf, len);
        a.at = strlen(buf);
    } else if (!strcmp(cmd, "set_link")) {
        set_link(h, args, &a);
    } else if (!strcmp(cmd, "hostfwd_add") || !strcmp(cmd, "hostfwd_remove")) {
        hostfwd(h, !strcmp(cmd, "hostfwd_add"), args, &a);
    } else {
        say(&a, "%s: not a network command\n", cmd);
    }
    return (int)a.at;
}
