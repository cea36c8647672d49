/*
 * QEMU's isa-debug-exit: a write to its port ends the emulator with status
 * (value << 1) | 1, so a test guest can report pass or fail and the status
 * can never be 0 (which would be indistinguishable from a normal exit).
 */
#ifndef HW_MISC_DEBUGEXIT_H
#define HW_MISC_DEBUGEXIT_H

#include <stdint.h>

#include "softmmu/ioport.h"

typedef struct DebugExitState DebugExitState;

/*
 * Claims [iobase, iobase + iosize) (QEMU's defaults are 0x501 and 2).  A
 * byte, word or dword write of v calls exit_cb(opaque, (v << 1) | 1); the
 * callback decides how the emulator stops.  Reads return all ones.
 */
DebugExitState *debugexit_new(IOPortMap *io, uint16_t iobase, uint16_t iosize,
                              void (*exit_cb)(void *opaque, int status), void *opaque);
void debugexit_free(DebugExitState *s);

#endif /* HW_MISC_DEBUGEXIT_H */
