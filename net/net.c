/*
 * The net layer: netdevs, the one NIC each may carry, the link between
 * them and the frames on it (net/net.h, net/netdev.h).
 *
 * Everything runs on the one machine thread: NICs send between CPU
 * instructions, backends deliver from the frontend's poll.  A receiver
 * that cannot take a frame gets it later from a one-frame slot per
 * direction (a NIC with a full ring, a socket whose send buffer is full);
 * a second frame meanwhile is dropped, as a busy wire would.  Frames are
 * checked here once, so neither side ever sees a runt or a giant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netdev.h"

/* Frames shorter than this reach a NIC padded with zeros, as on a wire
 * (IEEE 802.3 minimum of 64 bytes, less the FCS). */
#define ETH_ZLEN 60

/* What NetClient.link points at: the netdev's end of the NIC's cable. */
struct NetLink {
    Netdev *netdev;
};

/* A frame kept for a receiver that was busy. */
typedef struct NetFrame {
    uint8_t *data; /* NULL: the slot is empty */
    size_t len;
} NetFrame;

typedef struct NetFilter {
    struct NetFilter *next;
    char *id;
    const NetFilterOps *ops;
    void *opaque;
} NetFilter;

struct Netdev {
    Netdev *next; /* in the order netdevs were opened */
    char *id;
    const NetdevOps *ops;
    void *opaque;      /* the backend */
    NetLink link;      /* what the NIC's NetClient.link points at */
    NetClient *nic;    /* the NIC, or NULL */
    bool carrier;      /* the backend has a peer */
    bool admin_up;     /* set_link ID */
    bool nic_admin_up; /* set_link NIC */
    NetFrame for_nic;  /* kept for the NIC */
    NetFrame for_host; /* kept for the backend */
    NetdevStats stats;
    NetFilter *filters; /* in the order they were added */
};

struct Net {
    Netdev *first;
};

int net_pollset_add(NetPollSet *set, int fd, short events)
{
    if (set->n == set->cap) {
        int cap = set->cap ? set->cap * 2 : 16;
        struct pollfd *fds = realloc(set->fds, (size_t)cap * sizeof(*fds));
        if (!fds) {
            return -1;
        }
        set->fds = fds;
        set->cap = cap;
    }
    set->fds[set->n] = (struct pollfd){fd, events, 0};
    return set->n++;
}

void net_pollset_free(NetPollSet *set)
{
    free(set->fds);
    *set = (NetPollSet){NULL, 0, 0};
}

Net *net_new(void)
{
    return calloc(1, sizeof(Net));
}

static void frame_clear(NetFrame *f)
{
    free(f->data);
    *f = (NetFrame){NULL, 0};
}

static void netdev_free(Netdev *nd)
{
    while (nd->filters) {
        NetFilter *f = nd->filters;
        nd->filters = f->next;
        f->ops->free(f->opaque);
        free(f->id);
        free(f);
    }
    if (nd->nic) {
        nd->nic->link = NULL;
    }
    nd->ops->free(nd->opaque);
    frame_clear(&nd->for_nic);
    frame_clear(&nd->for_host);
    free(nd->id);
    free(nd);
}

void net_free(Net *net)
{
    if (!net) {
        return;
    }
    while (net->first) {
        Netdev *nd = net->first;
        net->first = nd->next;
        netdev_free(nd);
    }
    free(net);
}

Netdev *net_find(Net *net, const char *id)
{
    for (Netdev *nd = net->first; nd; nd = nd->next) {
        if (!strcmp(nd->id, id)) {
            return nd;
        }
    }
    return NULL;
}

Netdev *net_next(Net *net, const Netdev *nd)
{
    return nd ? nd->next : net->first;
}

void net_poll_fill(Net *net, NetPollSet *set, int *timeout_ms)
{
    for (Netdev *nd = net->first; nd; nd = nd->next) {
        nd->ops->poll_fill(nd->opaque, set, timeout_ms);
    }
}

void net_poll_service(Net *net, const NetPollSet *set, bool poll_failed)
{
    for (Netdev *nd = net->first; nd; nd = nd->next) {
        nd->ops->poll_service(nd->opaque, set, poll_failed);
    }
}

Netdev *netdev_new(Net *net, const char *id, const NetdevOps *ops, void *opaque)
{
    Netdev *nd = calloc(1, sizeof(*nd));
    char *copy = strdup(id);
    if (!nd || !copy) {
        free(nd);
        free(copy);
        return NULL;
    }
    nd->id = copy;
    nd->ops = ops;
    nd->opaque = opaque;
    nd->link.netdev = nd;
    nd->carrier = nd->admin_up = nd->nic_admin_up = true;
    Netdev **tail = &net->first;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = nd;
    return nd;
}

void *netdev_backend(const Netdev *nd, const NetdevOps *ops)
{
    return nd->ops == ops ? nd->opaque : NULL;
}

const char *netdev_id(const Netdev *nd)
{
    return nd->id;
}

const NetdevStats *netdev_stats(const Netdev *nd)
{
    return &nd->stats;
}

/* The link as the NIC sees it: carrier, and both set_link switches on. */
static bool netdev_link_up(const Netdev *nd)
{
    return nd->carrier && nd->admin_up && nd->nic_admin_up;
}

bool netdev_nic_link_on(const Netdev *nd)
{
    return nd->nic_admin_up;
}

/* ---- link state ---- */

/* Run a change of one of the link's conditions: frames kept for a link
 * that went down are stale, and the NIC hears of the new carrier. */
static void link_update(Netdev *nd, bool was_up)
{
    bool up = netdev_link_up(nd);
    if (up == was_up) {
        return;
    }
    if (!up) {
        nd->stats.dropped += (nd->for_nic.data != NULL) + (nd->for_host.data != NULL);
        frame_clear(&nd->for_nic);
        frame_clear(&nd->for_host);
    }
    if (nd->nic && nd->nic->link_changed) {
        nd->nic->link_changed(nd->nic->opaque, up);
    }
}

void netdev_set_link(Netdev *nd, bool up)
{
    bool was_up = netdev_link_up(nd);
    nd->admin_up = up;
    link_update(nd, was_up);
}

void netdev_set_nic_link(Netdev *nd, bool up)
{
    bool was_up = netdev_link_up(nd);
    nd->nic_admin_up = up;
    link_update(nd, was_up);
}

void netdev_set_carrier(Netdev *nd, bool up)
{
    bool was_up = netdev_link_up(nd);
    nd->carrier = up;
    link_update(nd, was_up);
}

bool net_client_attach(NetClient *nc, Netdev *nd)
{
    if (nd->nic) {
        return false;
    }
    nd->nic = nc;
    nc->link = &nd->link;
    if (!netdev_link_up(nd) && nc->link_changed) {
        nc->link_changed(nc->opaque, false);
    }
    return true;
}

bool net_client_link_up(const NetClient *nc)
{
    return nc->link && netdev_link_up(nc->link->netdev);
}

/* ---- frames ---- */

static void run_filters(Netdev *nd, const uint8_t *frame, size_t len, bool to_nic)
{
    for (NetFilter *f = nd->filters; f; f = f->next) {
        f->ops->frame(f->opaque, frame, len, to_nic);
    }
}

/* Keep a frame for a busy receiver, if its slot is free. */
static void frame_keep(Netdev *nd, NetFrame *slot, const uint8_t *frame, size_t len)
{
    if (slot->data || !(slot->data = malloc(len))) {
        nd->stats.dropped++;
        return;
    }
    memcpy(slot->data, frame, len);
    slot->len = len;
}

static bool nic_can_receive(const Netdev *nd, size_t len)
{
    return !nd->nic->can_receive || nd->nic->can_receive(nd->nic->opaque, len);
}

static void nic_receive(Netdev *nd, const uint8_t *frame, size_t len)
{
    uint8_t padded[ETH_ZLEN];
    if (len < ETH_ZLEN) {
        memcpy(padded, frame, len);
        memset(padded + len, 0, ETH_ZLEN - len);
        frame = padded;
        len = ETH_ZLEN;
    }
    nd->stats.to_nic++;
    nd->nic->receive(nd->nic->opaque, frame, len);
}

/* Offer the kept frame to the NIC; true if the slot is empty afterwards. */
static bool flush_for_nic(Netdev *nd)
{
    NetFrame *f = &nd->for_nic;
    if (f->data && nic_can_receive(nd, f->len)) {
        NetFrame taken = *f;
        *f = (NetFrame){NULL, 0};
        nic_receive(nd, taken.data, taken.len);
        free(taken.data);
    }
    return f->data == NULL;
}

static bool backend_can_receive(const Netdev *nd)
{
    return !nd->ops->can_receive || nd->ops->can_receive(nd->opaque);
}

static bool flush_for_host(Netdev *nd)
{
    NetFrame *f = &nd->for_host;
    if (f->data && backend_can_receive(nd)) {
        NetFrame taken = *f;
        *f = (NetFrame){NULL, 0};
        nd->stats.from_nic++;
        nd->ops->receive(nd->opaque, taken.data, taken.len);
        free(taken.data);
    }
    return f->data == NULL;
}

static bool frame_size_ok(Netdev *nd, size_t len)
{
    if (len < NET_MIN_FRAME || len > NET_MAX_FRAME) {
        nd->stats.garbage++;
        return false;
    }
    return true;
}

void netdev_send(Netdev *nd, const uint8_t *frame, size_t len)
{
    if (!frame_size_ok(nd, len)) {
        return;
    }
    if (!nd->nic || !netdev_link_up(nd)) {
        nd->stats.dropped++;
        return;
    }
    run_filters(nd, frame, len, true);
    /* A frame kept earlier goes first, so frames keep their order. */
    if (flush_for_nic(nd) && nic_can_receive(nd, len)) {
        nic_receive(nd, frame, len);
    } else {
        frame_keep(nd, &nd->for_nic, frame, len);
    }
}

bool netdev_can_send(const Netdev *nd)
{
    return nd->for_nic.data == NULL;
}

void netdev_flush(Netdev *nd)
{
    flush_for_host(nd);
}

void netdev_count_garbage(Netdev *nd)
{
    nd->stats.garbage++;
}

void net_client_send(NetClient *nc, const uint8_t *frame, size_t len)
{
    if (!nc->link) {
        return; /* no cable: the frame vanishes */
    }
    Netdev *nd = nc->link->netdev;
    if (!frame_size_ok(nd, len)) {
        return;
    }
    if (!netdev_link_up(nd)) {
        nd->stats.dropped++;
        return;
    }
    run_filters(nd, frame, len, false);
    if (flush_for_host(nd) && backend_can_receive(nd)) {
        nd->stats.from_nic++;
        nd->ops->receive(nd->opaque, frame, len);
    } else {
        frame_keep(nd, &nd->for_host, frame, len);
    }
}

void net_client_flush(NetClient *nc)
{
    if (nc->link) {
        flush_for_nic(nc->link->netdev);
    }
}

/* ---- filters and info ---- */

bool netdev_add_filter(Netdev *nd, const char *id, const NetFilterOps *ops, void *opaque)
{
    NetFilter *f = calloc(1, sizeof(*f));
    char *copy = strdup(id);
    if (!f || !copy) {
        free(f);
        free(copy);
        return false;
    }
    *f = (NetFilter){NULL, copy, ops, opaque};
    NetFilter **tail = &nd->filters;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = f;
    return true;
}

void netdev_info(const Netdev *nd, char *buf, size_t len)
{
    char details[256] = "";
    nd->ops->info(nd->opaque, details, sizeof(details));
    int n = snprintf(buf, len, "%s: index=0,type=%s,%s%s\n", nd->id, nd->ops->type, details,
                     nd->carrier && nd->admin_up ? "" : ",link=down");
    if (nd->filters && n >= 0 && (size_t)n < len) {
        n += snprintf(buf + n, len - (size_t)n, "filters:\n");
    }
    for (NetFilter *f = nd->filters; f && n >= 0 && (size_t)n < len; f = f->next) {
        details[0] = '\0';
        f->ops->info(f->opaque, details, sizeof(details));
        n += snprintf(buf + n, len - (size_t)n, "  - %s: type=%s%s%s\n", f->id, f->ops->type,
                      details[0] ? "," : "", details);
    }
}
