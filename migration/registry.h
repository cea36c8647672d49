/*
 * The sections of a machine and the file they make.
 *
 * The board registers every device's state description with the state it
 * describes (one section per instance: "uart" 0 to 3, ...), and
 * vmstate_save writes them all between a header and a trailer:
 *
 *   header   "POPEKVM\n", u32 format version, u32 section count
 *   section  u8 'S', u8 name length, name, u32 instance, u32 version,
 *            u64 payload length, payload (the fields, migration/stream.c)
 *   trailer  u8 'E', u32 CRC-32 (zlib) of every byte before the 'E'
 *
 * Loading checks the whole frame first (magic, lengths, trailer, CRC, no
 * byte after it), then loads section by section into the live machine.
 * Each section's payload is read through a reader bounded to its length
 * and must be consumed exactly.  A section this popek does not know, one
 * registered here but missing from the file, a version outside
 * [min_version, version] or a refusal inside gives one line naming the
 * section; vmstate_load has then written part of the machine, so callers
 * that must leave the VM as it was save it first and load that back on
 * failure (frontend/host_migrate.c).
 */
#ifndef MIGRATION_REGISTRY_H
#define MIGRATION_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/vmstate.h"

#define VMSTATE_MAGIC          "POPEKVM\n"
#define VMSTATE_FORMAT_VERSION 1
#define VMSTATE_MAX_SECTIONS   64
#define VMSTATE_NAME_MAX       63

typedef struct VMSection {
    const VMStateDesc *desc;
    uint32_t instance;
    void *opaque;
} VMSection;

typedef struct VMRegistry {
    VMSection sec[VMSTATE_MAX_SECTIONS];
    int count;
    struct TimerList *clock; /* what VMF_TIMER fields are relative to */
} VMRegistry;

void vmstate_registry_init(VMRegistry *reg, struct TimerList *clock);
/* Sections are saved and loaded in the order registered.  More than
 * VMSTATE_MAX_SECTIONS, or a name and instance twice, is a programming
 * error: one line and exit. */
void vmstate_register(VMRegistry *reg, const VMStateDesc *desc, uint32_t instance, void *opaque);

/* The whole machine into w (false: out of host memory). */
bool vmstate_save(VMRegistry *reg, VMWriter *w);
/* The whole machine from [data, data + len); false with one line in err. */
bool vmstate_load(VMRegistry *reg, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Only the frame (header, section lengths, trailer, CRC): what
 * vmstate_load checks before it touches the machine. */
bool vmstate_check_frame(const uint8_t *data, size_t len, char *err, size_t errlen);

#endif /* MIGRATION_REGISTRY_H */
