/*
 * The network options, as QEMU users type them:
 *
 *   -netdev user|socket,id=ID[,...]       a backend on the host
 *   -device e1000|virtio-net-pci,netdev=ID[,mac=..][,id=..]  a card on it
 *   -nic user|socket[,model=..][,mac=..][,...]    both at once
 *   -net nic[,model=..][,macaddr=..] -net user|socket[,...]   the old way,
 *        both on QEMU's hub 0 (popek has no hub: one card, one backend)
 *   -nic none, -net none                  no default network
 *   -object filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N]
 *
 * Without any of them the PC gets QEMU's default, an e1000 on user
 * networking.  The result is NetOptions: netdevs to open (frontend/host.c)
 * and cards for the board.  Everything that can be checked without
 * opening a socket is checked here, after the last option, so a bad one
 * stops popek with one line before anything runs.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"
#include "net/dump.h"

#define MAX_KEYVALS 48 /* properties in one option */

/* QEMU's first MAC, 52:54:00:12:34:56; later cards count up. */
static const uint8_t default_mac[NET_MAC_LEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

typedef struct KeyVal {
    const char *key;
    const char *value; /* NULL for a bare word ("user", "restrict") */
} KeyVal;

/* Stop with one line: "popek: -netdev user,id=x: ...". */
static void net_die(const char *opt, const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void net_die(const char *opt, const char *arg, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "popek: %s%s%s: ", opt, arg ? " " : "", arg ? arg : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Split arg at commas into key=value pairs; ",," is a comma inside a
 * value, as in QEMU (guestfwd=...-cmd:a,,b).  The strings are kept for the
 * whole run. */
static int split_keyvals(const char *opt, const char *arg, KeyVal *kv)
{
    char *buf = malloc(strlen(arg) + 1);
    int n = 0;
    if (!buf) {
        net_die(opt, arg, "out of memory");
    }
    const char *p = arg;
    while (*p || n == 0) {
        if (n == MAX_KEYVALS) {
            net_die(opt, arg, "too many properties");
        }
        char *tok = buf;
        while (*p && !(p[0] == ',' && p[1] != ',')) {
            *buf++ = *p;
            p += p[0] == ',' ? 2 : 1;
        }
        *buf++ = '\0';
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
        }
        kv[n++] = (KeyVal){tok, eq ? eq + 1 : NULL};
        if (!*p) {
            break;
        }
        p++; /* the separating comma */
    }
    return n;
}

static bool parse_switch(const char *value, bool *out)
{
    static const char *const on[] = {"on", "yes", "y", "true"}, *const off[] = {"off", "no", "n",
                                                                                "false"};
    for (int i = 0; i < 4; i++) {
        if (!value || !strcmp(value, on[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(value, off[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* ---- models and MACs ---- */

/* The card's model name, QEMU's aliases resolved; NULL if unknown. */
static const char *nic_model(const char *name)
{
    if (!strcmp(name, "e1000")) {
        return "e1000";
    }
    if (!strcmp(name, "virtio-net-pci") || !strcmp(name, "virtio-net") || !strcmp(name, "virtio")) {
        return "virtio-net-pci";
    }
    return NULL;
}

bool options_net_is_model(const char *name)
{
    return nic_model(name) != NULL;
}

static const char *check_model(const char *opt, const char *arg, const char *name)
{
    if (!strcmp(name, "help") || !strcmp(name, "?")) {
        printf("Available NIC models:\ne1000\nvirtio-net-pci\n");
        exit(0);
    }
    const char *model = nic_model(name);
    if (!model) {
        net_die(opt, arg, "Unsupported NIC model: %s (supported: e1000, virtio-net-pci)", name);
    }
    return model;
}

static int hex_digit(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* xx:xx:xx:xx:xx:xx (or with dashes), and not a group address. */
static void parse_mac(const char *opt, const char *arg, const char *text, uint8_t *mac)
{
    for (int i = 0; i < NET_MAC_LEN; i++) {
        const char *p = text + 3 * i;
        /* In this order, so nothing past the end of text is read. */
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            (i == NET_MAC_LEN - 1 ? p[2] != '\0' : p[2] != ':' && p[2] != '-')) {
            net_die(opt, arg, "bad MAC address '%s' (want 52:54:00:xx:xx:xx)", text);
        }
        mac[i] = (uint8_t)(hex_digit(p[0]) << 4 | hex_digit(p[1]));
    }
    if (mac[0] & 1) {
        net_die(opt, arg, "MAC address '%s' is a multicast address", text);
    }
}

/* ---- netdevs ---- */

static NetdevOption *new_netdev(PopekOptions *o, const char *opt, const char *arg, const char *type)
{
    NetOptions *n = &o->net;
    if (n->netdev_count == OPTIONS_MAX_NETDEVS) {
        net_die(opt, arg, "too many netdevs (at most %d)", OPTIONS_MAX_NETDEVS);
    }
    NetdevOption *nd = &n->netdevs[n->netdev_count++];
    if (!strcmp(type, "user")) {
        nd->kind = NETDEV_USER;
    } else if (!strcmp(type, "socket")) {
        nd->kind = NETDEV_SOCKET;
    } else {
        net_die(opt, arg, "network backend '%s' is not supported (supported: user, socket)", type);
    }
    nd->option = opt;
    nd->arg = arg;
    return nd;
}

static void add_rule(const char *opt, const char *arg, const char **rules, int *count,
                     const char *rule)
{
    if (*count == NET_SLIRP_MAX_FWD) {
        net_die(opt, arg, "too many forwarding rules (at most %d)", NET_SLIRP_MAX_FWD);
    }
    rules[(*count)++] = rule;
}

/* One property of a netdev; false if the backend has no such property. */
static bool netdev_prop(NetdevOption *nd, const KeyVal *kv)
{
    const char *opt = nd->option, *arg = nd->arg, *k = kv->key, *v = kv->value;
    if (nd->kind == NETDEV_USER && !strcmp(k, "restrict")) {
        if (!parse_switch(v, &nd->user.restricted)) {
            net_die(opt, arg, "restrict: want on or off, not '%s'", v);
        }
        return true;
    }
    if (!v) {
        return false;
    }
    if (nd->kind == NETDEV_SOCKET) {
        const char **slot = !strcmp(k, "listen")      ? &nd->socket.listen
                            : !strcmp(k, "connect")   ? &nd->socket.connect
                            : !strcmp(k, "mcast")     ? &nd->socket.mcast
                            : !strcmp(k, "localaddr") ? &nd->socket.localaddr
                                                      : NULL;
        if (slot) {
            *slot = v;
        }
        return slot != NULL;
    }
    NetSlirpConfig *u = &nd->user;
    char err[512];
    if (!strcmp(k, "hostfwd")) {
        if (!net_slirp_hostfwd_check(v, err, sizeof(err))) {
            net_die(opt, arg, "%s", err);
        }
        add_rule(opt, arg, u->hostfwd, &u->hostfwd_count, v);
        return true;
    }
    if (!strcmp(k, "guestfwd")) {
        add_rule(opt, arg, u->guestfwd, &u->guestfwd_count, v);
        return true;
    }
    const char **slot = !strcmp(k, "net")          ? &u->net
                        : !strcmp(k, "host")       ? &u->host
                        : !strcmp(k, "dns")        ? &u->dns
                        : !strcmp(k, "dhcpstart")  ? &u->dhcpstart
                        : !strcmp(k, "hostname")   ? &u->hostname
                        : !strcmp(k, "domainname") ? &u->domainname
                        : !strcmp(k, "tftp")       ? &u->tftp
                        : !strcmp(k, "bootfile")   ? &u->bootfile
                                                   : NULL;
    if (slot) {
        *slot = v;
    }
    return slot != NULL;
}

static void bad_prop(const char *opt, const char *arg, const KeyVal *kv)
{
    if (kv->value) {
        net_die(opt, arg, "Invalid parameter '%s'", kv->key);
    }
    net_die(opt, arg, "Invalid parameter '%s' (want %s=VALUE)", kv->key, kv->key);
}

/* -netdev TYPE,id=ID,... */
static void parse_netdev(PopekOptions *o, const char *opt, const char *arg)
{
    KeyVal kv[MAX_KEYVALS];
    int n = split_keyvals(opt, arg, kv);
    const char *type = kv[0].key;
    if (kv[0].value) { /* type=user written out */
        if (strcmp(kv[0].key, "type") != 0) {
            net_die(opt, arg, "the backend type comes first (user or socket)");
        }
        type = kv[0].value;
    }
    NetdevOption *nd = new_netdev(o, opt, arg, type);
    for (int i = 1; i < n; i++) {
        if (!strcmp(kv[i].key, "id") && kv[i].value) {
            nd->id = kv[i].value;
        } else if (!netdev_prop(nd, &kv[i])) {
            bad_prop(opt, arg, &kv[i]);
        }
    }
    if (!nd->id || !nd->id[0]) {
        net_die(opt, arg, "Parameter 'id' is missing");
    }
}

/* ---- network cards ---- */

static NicOption *new_nic(PopekOptions *o, const char *opt, const char *arg)
{
    NetOptions *n = &o->net;
    if (n->nic_count == OPTIONS_MAX_NICS) {
        net_die(opt, arg, "too many network cards (at most %d)", OPTIONS_MAX_NICS);
    }
    NicOption *nic = &n->nics[n->nic_count++];
    nic->model = "e1000"; /* QEMU's first choice on a PC */
    nic->option = opt;
    nic->arg = arg;
    return nic;
}

/* A card property common to -device, -nic and -net nic; false if not one. */
static bool nic_prop(NicOption *nic, const KeyVal *kv, const char *mac_key)
{
    if (!kv->value) {
        return false;
    }
    if (!strcmp(kv->key, mac_key)) {
        parse_mac(nic->option, nic->arg, kv->value, nic->mac);
        return true;
    }
    if (!strcmp(kv->key, "model")) {
        nic->model = check_model(nic->option, nic->arg, kv->value);
        return true;
    }
    return false;
}

static bool mac_set(const NicOption *nic)
{
    static const uint8_t zero[NET_MAC_LEN];
    return memcmp(nic->mac, zero, NET_MAC_LEN) != 0;
}

void options_net_device(PopekOptions *o, const char *model, const char *arg)
{
    KeyVal kv[MAX_KEYVALS];
    int n = split_keyvals("-device", arg, kv);
    NicOption *nic = new_nic(o, "-device", arg);
    nic->model = nic_model(model);
    for (int i = 1; i < n; i++) {
        if (kv[i].value && !strcmp(kv[i].key, "netdev")) {
            nic->netdev = kv[i].value;
        } else if (kv[i].value && !strcmp(kv[i].key, "id")) {
            nic->id = kv[i].value;
        } else if (strcmp(kv[i].key, "model") == 0 || !nic_prop(nic, &kv[i], "mac")) {
            bad_prop("-device", arg, &kv[i]);
        }
    }
}

/* -nic none | -nic TYPE[,model=..][,mac=..][,id=..][,backend properties] */
static void parse_nic(PopekOptions *o, const char *opt, const char *arg)
{
    KeyVal kv[MAX_KEYVALS];
    int n = split_keyvals(opt, arg, kv);
    if (!strcmp(kv[0].key, "none") && !kv[0].value) {
        if (n > 1) {
            net_die(opt, arg, "none takes no properties");
        }
        return; /* only keeps the default network away */
    }
    if (kv[0].value) {
        net_die(opt, arg, "the backend type comes first (none, user or socket)");
    }
    NetdevOption *nd = new_netdev(o, opt, arg, kv[0].key);
    NicOption *nic = new_nic(o, opt, arg);
    for (int i = 1; i < n; i++) {
        if (kv[i].value && !strcmp(kv[i].key, "id")) {
            nd->id = kv[i].value;
        } else if (!nic_prop(nic, &kv[i], "mac") && !netdev_prop(nd, &kv[i])) {
            bad_prop(opt, arg, &kv[i]);
        }
    }
    if (!nd->id) {
        /* QEMU names the netdev of a -nic "#netN". */
        char *id = malloc(16);
        if (!id) {
            net_die(opt, arg, "out of memory");
        }
        snprintf(id, 16, "#net%d", o->net.netdev_count - 1);
        nd->id = id;
    }
    nic->netdev = nd->id;
}

/* -net none | -net nic[,...] | -net user|socket[,...] */
static void parse_net(PopekOptions *o, const char *opt, const char *arg)
{
    KeyVal kv[MAX_KEYVALS];
    int n = split_keyvals(opt, arg, kv);
    if (kv[0].value) {
        net_die(opt, arg, "the type comes first (none, nic, user or socket)");
    }
    if (!strcmp(kv[0].key, "none")) {
        return; /* only keeps the default network away */
    }
    if (!strcmp(kv[0].key, "nic")) {
        NicOption *nic = new_nic(o, opt, arg);
        for (int i = 1; i < n; i++) {
            if (kv[i].value && !strcmp(kv[i].key, "netdev")) {
                nic->netdev = kv[i].value;
            } else if (kv[i].value && (!strcmp(kv[i].key, "name") || !strcmp(kv[i].key, "id"))) {
                nic->id = kv[i].value;
            } else if (!nic_prop(nic, &kv[i], "macaddr")) {
                bad_prop(opt, arg, &kv[i]);
            }
        }
        if (!nic->netdev) {
            nic->netdev = ""; /* hub 0, resolved in options_net_finish */
        }
        return;
    }
    NetdevOption *nd = new_netdev(o, opt, arg, kv[0].key);
    nd->hub = true;
    for (int i = 1; i < n; i++) {
        if (kv[i].value && (!strcmp(kv[i].key, "name") || !strcmp(kv[i].key, "id"))) {
            nd->id = kv[i].value;
        } else if (!netdev_prop(nd, &kv[i])) {
            bad_prop(opt, arg, &kv[i]);
        }
    }
    if (!nd->id) {
        nd->id = nd->kind == NETDEV_USER ? "user.0" : "socket.0"; /* QEMU's names */
    }
}

/* -object filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N][,queue=all] */
static void parse_object(PopekOptions *o, const char *opt, const char *arg)
{
    KeyVal kv[MAX_KEYVALS];
    int n = split_keyvals(opt, arg, kv);
    if (kv[0].value || strcmp(kv[0].key, "filter-dump") != 0) {
        net_die(opt, arg, "object type '%s' is not supported (supported: filter-dump)", kv[0].key);
    }
    NetOptions *no = &o->net;
    if (no->dump_count == OPTIONS_MAX_DUMPS) {
        net_die(opt, arg, "too many filters (at most %d)", OPTIONS_MAX_DUMPS);
    }
    DumpOption *d = &no->dumps[no->dump_count++];
    d->maxlen = NET_DUMP_SNAPLEN;
    d->arg = arg;
    for (int i = 1; i < n; i++) {
        const char *k = kv[i].key, *v = kv[i].value;
        char *end;
        if (v && !strcmp(k, "id")) {
            d->id = v;
        } else if (v && !strcmp(k, "netdev")) {
            d->netdev = v;
        } else if (v && !strcmp(k, "file")) {
            d->file = v;
        } else if (v && !strcmp(k, "maxlen")) {
            unsigned long len = strtoul(v, &end, 0);
            if (!v[0] || *end || len < 1 || len > NET_DUMP_SNAPLEN) {
                net_die(opt, arg, "maxlen: want 1 to %d, not '%s'", NET_DUMP_SNAPLEN, v);
            }
            d->maxlen = (uint32_t)len;
        } else if (!(v && !strcmp(k, "queue") && !strcmp(v, "all"))) {
            bad_prop(opt, arg, &kv[i]);
        }
    }
    if (!d->id || !d->netdev || !d->file) {
        net_die(opt, arg, "Parameter '%s' is missing",
                !d->id       ? "id"
                : !d->netdev ? "netdev"
                             : "file");
    }
}

bool options_net_parse(PopekOptions *o, const char *name, const char *arg)
{
    if (strcmp(name, "-netdev") && strcmp(name, "-nic") && strcmp(name, "-net") &&
        strcmp(name, "-object")) {
        return false;
    }
    if (!arg) {
        fprintf(stderr, "popek: option '%s' needs a value\n", name);
        exit(1);
    }
    if (!strcmp(name, "-object")) {
        parse_object(o, name, arg);
        return true;
    }
    o->net.given = true;
    if (!strcmp(name, "-netdev")) {
        parse_netdev(o, name, arg);
    } else if (!strcmp(name, "-nic")) {
        parse_nic(o, name, arg);
    } else {
        parse_net(o, name, arg);
    }
    return true;
}

/* ---- after the last option ---- */

static const NetdevOption *find_netdev(const NetOptions *n, const char *id)
{
    for (int i = 0; i < n->netdev_count; i++) {
        if (!strcmp(n->netdevs[i].id, id)) {
            return &n->netdevs[i];
        }
    }
    return NULL;
}

/* -net nic and -net user|socket meet on QEMU's hub 0; popek has no hub,
 * so it joins one card to one backend. */
static void join_hub(NetOptions *n)
{
    NicOption *nic = NULL;
    NetdevOption *nd = NULL;
    for (int i = 0; i < n->nic_count; i++) {
        if (n->nics[i].netdev && !n->nics[i].netdev[0]) {
            if (nic) {
                net_die(n->nics[i].option, n->nics[i].arg,
                        "popek has no hub: one -net nic per -net backend (or use -netdev and "
                        "-device)");
            }
            nic = &n->nics[i];
            nic->netdev = NULL;
        }
    }
    for (int i = 0; i < n->netdev_count; i++) {
        if (n->netdevs[i].hub) {
            if (nd) {
                net_die(n->netdevs[i].option, n->netdevs[i].arg,
                        "popek has no hub: one -net backend per -net nic (or use -netdev and "
                        "-device)");
            }
            nd = &n->netdevs[i];
        }
    }
    if (nic && nd) {
        nic->netdev = nd->id;
    }
}

/* NIC names: id=, or QEMU's MODEL.N, N counting the cards of that model before. */
static void name_nics(NetOptions *n)
{
    for (int i = 0; i < n->nic_count; i++) {
        NicOption *nic = &n->nics[i];
        int index = 0;
        for (int j = 0; j < i; j++) {
            index += !strcmp(n->nics[j].model, nic->model);
        }
        if (nic->id) {
            continue;
        }
        size_t len = strlen(nic->model) + 12;
        char *id = malloc(len);
        if (!id) {
            net_die(nic->option, nic->arg, "out of memory");
        }
        snprintf(id, len, "%s.%d", nic->model, index);
        nic->id = id;
    }
}

static void check_names(const NetOptions *n)
{
    for (int i = 0; i < n->netdev_count; i++) {
        const NetdevOption *nd = &n->netdevs[i];
        if (find_netdev(n, nd->id) != nd) {
            net_die(nd->option, nd->arg, "Duplicate ID '%s' for netdev", nd->id);
        }
    }
    for (int i = 0; i < n->nic_count; i++) {
        const NicOption *nic = &n->nics[i];
        bool dup = find_netdev(n, nic->id) != NULL;
        for (int j = 0; j < i; j++) {
            dup |= !strcmp(n->nics[j].id, nic->id);
        }
        if (dup) {
            net_die(nic->option, nic->arg, "Duplicate ID '%s' for device", nic->id);
        }
        if (nic->netdev && !find_netdev(n, nic->netdev)) {
            net_die(nic->option, nic->arg, "no netdev named '%s'", nic->netdev);
        }
        for (int j = 0; j < i && nic->netdev; j++) {
            if (n->nics[j].netdev && !strcmp(n->nics[j].netdev, nic->netdev)) {
                net_die(nic->option, nic->arg, "netdev '%s' is already used by NIC '%s'",
                        nic->netdev, n->nics[j].id);
            }
        }
    }
    for (int i = 0; i < n->dump_count; i++) {
        const DumpOption *d = &n->dumps[i];
        if (!find_netdev(n, d->netdev)) {
            net_die("-object", d->arg, "no netdev named '%s'", d->netdev);
        }
        for (int j = 0; j < i; j++) {
            if (!strcmp(n->dumps[j].id, d->id)) {
                net_die("-object", d->arg, "Duplicate ID '%s' for object", d->id);
            }
        }
    }
}

void options_net_finish(PopekOptions *o)
{
    NetOptions *n = &o->net;
    if (!n->given && n->nic_count == 0) {
        /* QEMU's default: -net nic -net user. */
        NetdevOption *nd = new_netdev(o, "(default network)", NULL, "user");
        nd->id = "user.0";
        new_nic(o, "(default network)", NULL)->netdev = nd->id;
    }
    join_hub(n);
    name_nics(n);
    check_names(n);
    /* Default MACs count up from QEMU's first, one per card without mac=. */
    int next = 0;
    for (int i = 0; i < n->nic_count; i++) {
        if (!mac_set(&n->nics[i])) {
            memcpy(n->nics[i].mac, default_mac, NET_MAC_LEN);
            n->nics[i].mac[NET_MAC_LEN - 1] = (uint8_t)(default_mac[NET_MAC_LEN - 1] + next++);
        }
    }
}
