/*
 * -object filter-dump,id=ID,netdev=NETDEV,file=PATH[,maxlen=N]: every
 * frame through a netdev, both ways, into a pcap file (net/dump.c).
 */
#ifndef NET_DUMP_H
#define NET_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/netdev.h"

/* What tcpdump keeps of a frame by default, and QEMU's maxlen default. */
#define NET_DUMP_SNAPLEN 65535

/* Open path (truncating it) and put the filter on nd; false with a
 * one-line reason in err. */
bool net_dump_attach(Netdev *nd, const char *id, const char *path, uint32_t snaplen, char *err,
                     size_t errlen);

#endif /* NET_DUMP_H */
