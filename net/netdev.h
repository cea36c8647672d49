/*
 * The host side of the VM's networks: netdevs (backends: user networking,
 * a socket to another VM) and the net layer that joins each to at most one
 * NIC (net/net.c).  NIC models see none of this, only net/net.h; the
 * frontend opens netdevs from the options, hands them to the board's NICs
 * (net_client_attach) and runs their descriptors and timers in its poll.
 *
 * A netdev's link is up when three things hold: the backend has a peer
 * (a socket connected: the carrier), and neither the netdev nor its NIC
 * was switched off with the monitor's set_link.  The NIC hears of every
 * change through NetClient.link_changed.
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

/* A frame shorter than an Ethernet header is not a frame. */
#define NET_MIN_FRAME 14

typedef struct Net Net;       /* all netdevs of one VM */
typedef struct Netdev Netdev; /* one backend and its NIC side */

/*
 * The descriptors one poll() waits on, gathered from everyone who waits
 * (the frontend's terminal, monitor and gdb stub, then the netdevs).  The
 * index net_pollset_add returns is where the revents are after poll().
 */
typedef struct NetPollSet {
    struct pollfd *fds;
    int n;
    int cap;
} NetPollSet;

/* Append fd; its index, or -1 when out of memory (the fd is not polled). */
int net_pollset_add(NetPollSet *set, int fd, short events);
void net_pollset_free(NetPollSet *set);

/* What a backend does for the net layer; opaque is its state. */
typedef struct NetdevOps {
    const char *type; /* QEMU's name for it: "user", "socket" */
    /* A frame from the NIC, to send to the host side. */
    void (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* Room for a frame now?  NULL: always.  After saying no, the backend
     * calls netdev_flush() when it has room again. */
    bool (*can_receive)(void *opaque);
    /* Add the descriptors to wait on and lower *timeout_ms (-1: forever)
     * to the backend's next timer. */
    void (*poll_fill)(void *opaque, NetPollSet *set, int *timeout_ms);
    /* After poll(): serve ready descriptors and expired timers.  poll_failed:
     * poll() returned an error, so no revents are valid. */
    void (*poll_service)(void *opaque, const NetPollSet *set, bool poll_failed);
    /* Its state for info network ("net=10.0.2.0,restrict=off"). */
    void (*info)(void *opaque, char *buf, size_t len);
    void (*free)(void *opaque);
} NetdevOps;

/* Frames through one netdev, for info network and the tests. */
typedef struct NetdevStats {
    uint64_t to_nic;   /* frames delivered to the NIC */
    uint64_t from_nic; /* frames the backend took from the NIC */
    uint64_t dropped;  /* no NIC, link down, or the receiver busy with a frame already kept */
    uint64_t garbage;  /* malformed frames from either side, never passed on */
} NetdevStats;

/*
 * A filter sees every frame that crosses the netdev's link, both ways
 * (QEMU's -object filter-*,netdev=ID); to_nic tells the direction.
 */
typedef struct NetFilterOps {
    const char *type; /* "filter-dump" */
    void (*frame)(void *opaque, const uint8_t *frame, size_t len, bool to_nic);
    void (*info)(void *opaque, char *buf, size_t len);
    void (*free)(void *opaque);
} NetFilterOps;

/* ---- the frontend's side ---- */

Net *net_new(void);
/* Frees every netdev; an attached NIC is left without a link. */
void net_free(Net *net);
Netdev *net_find(Net *net, const char *id);
/* Netdevs in the order they were opened: net_next(net, NULL) is the first. */
Netdev *net_next(Net *net, const Netdev *nd);

/* The poll loop: add every netdev's descriptors and lower *timeout_ms to
 * the earliest timer; after poll(), serve them. */
void net_poll_fill(Net *net, NetPollSet *set, int *timeout_ms);
void net_poll_service(Net *net, const NetPollSet *set, bool poll_failed);

/* Cable the NIC to the netdev; false if the netdev has a NIC already.
 * A NIC that arrives on a link that is down hears so at once. */
bool net_client_attach(NetClient *nc, Netdev *nd);

const char *netdev_id(const Netdev *nd);
/* set_link: the netdev's own switch, and its NIC's. */
void netdev_set_link(Netdev *nd, bool up);
void netdev_set_nic_link(Netdev *nd, bool up);
bool netdev_nic_link_on(const Netdev *nd);
/* "ID: index=0,type=TYPE,DETAILS[,link=down]", then one line per filter. */
void netdev_info(const Netdev *nd, char *buf, size_t len);
const NetdevStats *netdev_stats(const Netdev *nd);

/* Put a filter on the netdev, which frees it with itself; false when out
 * of memory (the filter is then the caller's to free). */
bool netdev_add_filter(Netdev *nd, const char *id, const NetFilterOps *ops, void *opaque);

/* ---- a backend's side ---- */

/* The netdev for a backend, carrier up; id must be new (net_find). */
Netdev *netdev_new(Net *net, const char *id, const NetdevOps *ops, void *opaque);
/* The backend's state if nd is of this kind, else NULL. */
void *netdev_backend(const Netdev *nd, const NetdevOps *ops);
/* A frame from the host side, toward the NIC. */
void netdev_send(Netdev *nd, const uint8_t *frame, size_t len);
/* Would netdev_send pass a frame on now, rather than keep or drop it?
 * Stream backends read from the host only while it would. */
bool netdev_can_send(const Netdev *nd);
/* The backend has room again: deliver the frame kept for it. */
void netdev_flush(Netdev *nd);
/* The backend's peer came (socket connected) or went. */
void netdev_set_carrier(Netdev *nd, bool up);
/* The host side sent something that is not a frame. */
void netdev_count_garbage(Netdev *nd);

#endif /* NET_NETDEV_H */
