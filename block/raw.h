/*
 * Raw disk images: the file is the disk, byte for byte.  The file must be
 * non-empty and a multiple of 512 bytes long.  FLUSH CACHE reaches
 * fdatasync(), so a flushed write survives a host crash.
 */
#ifndef BLOCK_RAW_H
#define BLOCK_RAW_H

#include <stdbool.h>
#include <stddef.h>

#include "block/node.h"

/* Open and lock path (block/file.h); NULL with a one-line message in err. */
BlockNode *raw_open(const char *path, bool read_only, bool lock, char *err, size_t errlen);

#endif /* BLOCK_RAW_H */
