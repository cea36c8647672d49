/*
 * -netdev socket: the VM's Ethernet segment over a host socket, framed as
 * QEMU frames it, so popek and QEMU VMs can share a segment (net/socket.c).
 *
 *  listen=[HOST]:PORT   TCP: wait for one peer; another may come after it left
 *  connect=HOST:PORT    TCP: to a listening VM, at startup
 *  mcast=ADDR:PORT[,localaddr=ADDR]  UDP multicast: every VM in the group
 */
#ifndef NET_SOCKET_H
#define NET_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "net/netdev.h"

/* Exactly one of listen, connect and mcast; localaddr only with mcast. */
typedef struct NetSocketConfig {
    const char *listen;
    const char *connect;
    const char *mcast;
    const char *localaddr;
} NetSocketConfig;

/* Open a socket netdev as netdev id; NULL with a one-line reason in err.
 * connect= waits (a few seconds at most) until the peer answers. */
Netdev *net_socket_new(Net *net, const char *id, const NetSocketConfig *cfg, char *err,
                       size_t errlen);

/* The local port of a socket netdev (listen=HOST:0 picks a free one). */
uint16_t net_socket_local_port(const Netdev *nd);

#endif /* NET_SOCKET_H */
