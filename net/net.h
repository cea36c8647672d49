/*
 * A network link as a NIC sees it: one Ethernet segment to a backend (user
 * networking, a socket to another VM, ...).  The NIC model fills in a
 * NetClient with its receive side and sends through net_client_send(); the
 * net layer (net/net.c) connects it to the backend the options name, runs
 * the filters (filter-dump) and keeps the link state.  NIC models include
 * this header and nothing else of net/; backends never see a NIC.
 *
 * Frames are whole Ethernet frames without the FCS, at most
 * NET_MAX_FRAME bytes (a TSO segment is split by the NIC before sending).
 * A frame handed to receive() is the NIC's to copy; the buffer is gone
 * when receive returns.  When can_receive says no, the net layer keeps
 * one frame per direction and offers it again after the NIC calls
 * net_client_flush() (its receive ring got room); later frames are
 * dropped, as on a busy wire.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_FRAME 65536
#define NET_MAC_LEN   6

typedef struct NetLink NetLink; /* the net layer's side (net/net.c) */

typedef struct NetClient {
    void *opaque; /* the NIC */
    /* Room for a frame of len bytes now?  NULL: always. */
    bool (*can_receive)(void *opaque, size_t len);
    /* A frame from the wire. */
    void (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* The link's carrier changed (peer gone, set_link); NULL: not told. */
    void (*link_changed)(void *opaque, bool up);
    NetLink *link; /* set by net_client_attach; NULL: no cable, frames vanish */
} NetClient;

/* The NIC transmits a frame (dropped without a link or with the link down). */
void net_client_send(NetClient *nc, const uint8_t *frame, size_t len);
/* The NIC can take frames again: deliver any the net layer kept. */
void net_client_flush(NetClient *nc);
/* The link's carrier as the NIC should report it. */
bool net_client_link_up(const NetClient *nc);

#endif /* NET_NET_H */
