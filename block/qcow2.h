/*
 * qcow2 images, versions 2 and 3, as qemu-img makes them (QEMU's
 * docs/interop/qcow2.txt): a guest disk mapped through a two-level table
 * (L1, L2) onto clusters of the file, with reference counts, backing
 * files, zero and compressed clusters, internal snapshots (snapshot.h),
 * the dirty bit and lazy refcounts.
 *
 * Files: qcow2.c (header, open, close, the BlockDev), qcow2_cluster.c
 * (guest reads and writes through L1/L2, allocation, copy-on-write,
 * compressed clusters), qcow2_refcount.c (refcounts, refcount blocks and
 * table, the rebuild of a dirty image), qcow2_snapshot.c (the snapshot
 * table), qcow2_int.h (what they share).
 *
 * Integrity: every offset read from the file is checked against cluster
 * alignment and the file's size before use; bad metadata found at open is
 * one line naming the file, found later it fails the guest's request with
 * -EIO.  Without lazy refcounts, metadata reaches the disk in an order
 * that leaves at worst leaked clusters after a crash: refcount increments
 * and data first, then (after a sync) the L2 and L1 entries that point to
 * them, then (after another) any decrement.  With lazy refcounts the dirty
 * bit is set while the image is open for writing, and a dirty image has
 * its refcounts rebuilt when next opened for writing.
 */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include <stdbool.h>
#include <stddef.h>

#include "block/node.h"

/* Open and lock path as qcow2 (and its backing chain, read-only, locked
 * whatever lock says: file.locking is the top file's, as in QEMU); chain
 * lists the images above, itself included.  NULL with one line in err. */
BlockNode *qcow2_open(const char *path, bool read_only, bool lock, const BlockChain *chain,
                      char *err, size_t errlen);

/* The same on an open descriptor (not locked; closed with the node, or by
 * the caller on failure).  name is the file's name in messages; backing
 * files are looked up relative to its directory. */
BlockNode *qcow2_open_fd(int fd, const char *name, bool read_only, const BlockChain *chain,
                         char *err, size_t errlen);

#endif /* BLOCK_QCOW2_H */
