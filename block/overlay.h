/*
 * -snapshot: guest writes go to an unlinked temporary file in $TMPDIR
 * (default /var/tmp), a sparse copy of the disk holding only the sectors
 * written since open, with a bitmap of which those are; reads take each
 * sector from the overlay or from the layer below.  The file disappears
 * with popek however it ends, and the image below, opened read-only, is
 * never written.  The bitmap is allocated in chunks as sectors are first
 * written, so memory follows what the guest writes, not the disk's size.
 */
#ifndef BLOCK_OVERLAY_H
#define BLOCK_OVERLAY_H

#include <stddef.h>

#include "block/node.h"

/* Put an overlay over below (which it then owns); path names the image in
 * messages.  NULL with a one-line message in err (below is left open). */
BlockNode *overlay_open(BlockNode *below, const char *path, char *err, size_t errlen);

#endif /* BLOCK_OVERLAY_H */
