/*
 * One layer of a disk: an image in some format (raw.h, qcow2.h) or the
 * -snapshot overlay (overlay.h), serving sectors through the BlockDev it
 * embeds.  A qcow2 image owns the chain of backing images below it; a
 * read through a layer falls through to its backing where the layer holds
 * nothing.  block/drive.h puts the top layer behind a disk controller.
 */
#ifndef BLOCK_NODE_H
#define BLOCK_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "block/block.h"

typedef struct BlockNode BlockNode;
struct BlockNode {
    BlockDev dev;                   /* the layer's sectors; dev.opaque = the layer's state */
    const char *format;             /* "raw", "qcow2" or "overlay" */
    BlockNode *backing;             /* the layer below (owned), or NULL */
    void (*close)(BlockNode *node); /* free this layer (not its backing) */
};

/* The images already open above one being opened, to refuse a backing
 * chain that loops.  real is each image's realpath(). */
typedef struct BlockChain {
    const struct BlockChain *above;
    const char *real;
} BlockChain;

/* Backing chains deeper than this are refused (QEMU has no fixed limit,
 * but a chain this deep is a mistake). */
#define BLOCK_MAX_CHAIN 64

/*
 * Open path as format ("raw", "qcow2", or NULL to probe) for the guest to
 * read, and to write unless read_only.  chain: the images above it (NULL
 * for a drive's own image); a qcow2 image opens its backing files through
 * here, read-only.  NULL with a one-line message in err on failure;
 * *probed_raw (if given) says a probe chose raw.  lock false leaves the
 * image's file unlocked (block/file.h).
 */
BlockNode *block_node_open(const char *path, const char *format, bool read_only, bool lock,
                           const BlockChain *chain, bool *probed_raw, char *err, size_t errlen);

/* Close a layer and everything below it. */
void block_node_close(BlockNode *node);

#endif /* BLOCK_NODE_H */
