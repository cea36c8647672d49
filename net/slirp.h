/*
 * -netdev user: user-mode networking through libslirp (net/slirp.c).  The
 * guest sees a router, DHCP and DNS server on a private network (QEMU's
 * 10.0.2.0/24: host 10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15); its
 * connections leave as the host's own sockets; hostfwd= opens host ports
 * into the guest.
 */
#ifndef NET_SLIRP_H
#define NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>

#include "net/netdev.h"

#define NET_SLIRP_MAX_FWD 16 /* hostfwd= and guestfwd= rules per option */

/* The options, as QEMU spells them; NULL or 0: QEMU's default. */
typedef struct NetSlirpConfig {
    const char *net;        /* net=ADDR[/MASK|/BITS] */
    const char *host;       /* host=ADDR: the host's address in the guest network */
    const char *dns;        /* dns=ADDR */
    const char *dhcpstart;  /* dhcpstart=ADDR: the first address DHCP hands out */
    const char *hostname;   /* hostname=NAME: offered by DHCP */
    const char *domainname; /* domainname=NAME: offered by DHCP */
    const char *tftp;       /* tftp=DIR: the TFTP server's root */
    const char *bootfile;   /* bootfile=NAME: offered by DHCP (PXE) */
    bool restricted;        /* restrict=on: the guest reaches nothing outside */
    int hostfwd_count;
    const char *hostfwd[NET_SLIRP_MAX_FWD]; /* [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT */
    int guestfwd_count;
    const char *guestfwd[NET_SLIRP_MAX_FWD]; /* [tcp]:[SERVER]:PORT-cmd:COMMAND */
} NetSlirpConfig;

/* Open a user network as netdev id; NULL with a one-line reason in err. */
Netdev *net_slirp_new(Net *net, const char *id, const NetSlirpConfig *cfg, char *err,
                      size_t errlen);

/* A host forwarding rule, checked as QEMU checks it; false with QEMU's
 * message ("Invalid host forwarding rule '...' (Bad host port)") in err. */
bool net_slirp_hostfwd_check(const char *rule, char *err, size_t errlen);

/* The monitor's hostfwd_add and hostfwd_remove on the user netdev named
 * id (NULL: the first one).  Their answer goes to msg in QEMU's words, ""
 * when all went well and QEMU says nothing. */
void net_slirp_hostfwd_add(Net *net, const char *id, const char *rule, char *msg, size_t len);
void net_slirp_hostfwd_remove(Net *net, const char *id, const char *rule, char *msg, size_t len);

/* info usernet: each user netdev's connections, as libslirp lists them. */
void net_slirp_usernet_info(Net *net, char *buf, size_t len);

/* Saved VMs: libslirp's own state (its stack's sockets and tables, in
 * libslirp's format and version) through put, and back through get
 * (false: short data).  What a restored guest sees is in
 * frontend/host_net.c. */
typedef void (*NetSlirpPut)(void *opaque, const void *buf, size_t len);
typedef bool (*NetSlirpGet)(void *opaque, void *buf, size_t len);
bool net_slirp_is_user(const Netdev *nd);
int net_slirp_state_version(void);
void net_slirp_state_save(Netdev *nd, NetSlirpPut put, void *opaque);
bool net_slirp_state_load(Netdev *nd, int version, NetSlirpGet get, void *opaque);

#endif /* NET_SLIRP_H */
