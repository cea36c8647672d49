/*
 * The Bochs/QEMU debug console: every byte written to its port goes to a
 * character backend, and a read returns 0xE9 so software can detect it.
 * It sits at 0xE9 for guests and at 0x402 for SeaBIOS's debug output.
 */
#ifndef HW_CHAR_DEBUGCON_H
#define HW_CHAR_DEBUGCON_H

#include <stdint.h>

#include "chardev/char.h"
#include "softmmu/ioport.h"

#define DEBUGCON_PORT         0xe9
#define DEBUGCON_SEABIOS_PORT 0x402
#define DEBUGCON_READBACK     0xe9

typedef struct DebugconState DebugconState;

/* Claims the one port; chr may be NULL (output discarded). */
DebugconState *debugcon_new(IOPortMap *io, uint16_t port, const CharBackend *chr);
void debugcon_free(DebugconState *s);

#endif /* HW_CHAR_DEBUGCON_H */
