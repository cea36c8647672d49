/*
 * Opening a layer by format, with the checks a backing chain needs (see
 * node.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/node.h"
#include "block/probe.h"
#include "block/qcow2.h"
#include "block/raw.h"

BlockNode *block_node_open(const char *path, const char *format, bool read_only, bool lock,
                           const BlockChain *chain, bool *probed_raw, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        snprintf(err, errlen, "'%s': %s", path, strerror(errno));
        return NULL;
    }
    int depth = 0;
    for (const BlockChain *c = chain; c; c = c->above) {
        if (!strcmp(c->real, real)) {
            snprintf(err, errlen, "'%s': backing file chain loops back to '%s'", path, real);
            return NULL;
        }
        if (++depth >= BLOCK_MAX_CHAIN) {
            snprintf(err, errlen, "'%s': backing file chain is deeper than %d images", path,
                     BLOCK_MAX_CHAIN);
            return NULL;
        }
    }
    if (probed_raw) {
        *probed_raw = false;
    }
    if (!format) {
        format = block_probe_file(path, err, errlen);
        if (!format) {
            return NULL;
        }
        if (probed_raw) {
            *probed_raw = !strcmp(format, "raw");
        }
    }
    BlockChain here = {chain, real};
    if (!strcmp(format, "raw")) {
        return raw_open(path, read_only, lock, err, errlen);
    }
    if (!strcmp(format, "qcow2")) {
        return qcow2_open(path, read_only, lock, &here, err, errlen);
    }
    snprintf(err, errlen, "'%s': image format '%s' is not supported (popek reads raw and qcow2)",
             path, format);
    return NULL;
}

void block_node_close(BlockNode *node)
{
    while (node) {
        BlockNode *below = node->backing;
        node->close(node);
        node = below;
    }
}
