/*
 * VM state: what a device sees of popek's saved-state format.
 *
 * A saved VM is a stream of sections, one per device instance, each with
 * its own name and version (migration/stream.c has the framing).  A device
 * describes its state once, as a table of fields (offset, type, count,
 * bound), and the same table writes it and reads it back; what a table
 * cannot say (a pointer to one of a few functions, a buffer allocated
 * elsewhere) goes in the section's save/load pair.  Loading never trusts
 * the file: every field with an index meaning carries its bound, and
 * post_load checks what spans fields and rebuilds what is derived (mapped
 * BARs, cached pointers), so a hostile file is refused, never obeyed.
 *
 * Adding a field: append it with .since = the new section version and bump
 * the version; older files load without it (it keeps its reset value).
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/core/timer.h"

/* ---- the byte stream (migration/stream.c) ---- */

struct TimerList;

/* A growing buffer that sections are written into; out of host memory,
 * 'failed' is set and later writes do nothing.  clock: the virtual time
 * VMF_TIMER deadlines are written relative to. */
typedef struct VMWriter {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool failed;
    const struct TimerList *clock;
} VMWriter;

/* Reads from [data, data + len); the first error (short data, a bound, a
 * device's refusal) is kept in err and every later read returns zeros. */
typedef struct VMReader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool failed;
    char err[256];
    struct TimerList *clock; /* VMF_TIMER deadlines are re-armed relative to its now */
} VMReader;

void vm_writer_init(VMWriter *w);
void vm_writer_free(VMWriter *w);
void vm_put_u8(VMWriter *w, uint8_t v);
void vm_put_u16(VMWriter *w, uint16_t v);
void vm_put_u32(VMWriter *w, uint32_t v);
void vm_put_u64(VMWriter *w, uint64_t v);
void vm_put_bytes(VMWriter *w, const void *p, size_t n);

void vm_reader_init(VMReader *r, const void *data, size_t len);
uint8_t vm_get_u8(VMReader *r);
uint16_t vm_get_u16(VMReader *r);
uint32_t vm_get_u32(VMReader *r);
uint64_t vm_get_u64(VMReader *r);
void vm_get_bytes(VMReader *r, void *p, size_t n); /* zeros p on failure */
/* Record the first error (printf rules); returns false for 'return vm_fail(...)'. */
bool vm_fail(VMReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A length-prefixed byte string of at most max bytes into p; returns its length. */
void vm_put_blob(VMWriter *w, const void *p, uint32_t n);
uint32_t vm_get_blob(VMReader *r, void *p, uint32_t max);

/* Pages of memory (guest RAM, video RAM): zlib, zero pages skipped
 * (migration/ram.c).  len is a multiple of 4096. */
void vm_put_pages(VMWriter *w, const uint8_t *mem, size_t len);
void vm_get_pages(VMReader *r, uint8_t *mem, size_t len);

/* ---- field tables ---- */

enum VMFieldType {
    VMF_END = 0,
    VMF_U8,     /* uint8_t / int8_t */
    VMF_U16,    /* uint16_t */
    VMF_U32,    /* uint32_t / int32_t */
    VMF_U64,    /* uint64_t / int64_t */
    VMF_BOOL,   /* bool (0 or 1 in the file; anything else is refused) */
    VMF_INT,    /* int or an enum: 32 bits signed */
    VMF_BYTES,  /* count bytes */
    VMF_TIMER,  /* a Timer: armed, and its deadline relative to virtual now */
    VMF_STRUCT, /* count elements of stride bytes, each described by sub */
};

typedef struct VMStateDesc VMStateDesc;

typedef struct VMField {
    const char *name;
    enum VMFieldType type;
    size_t offset;
    uint32_t count;         /* array elements (1: a scalar); VMF_BYTES: bytes */
    size_t stride;          /* bytes per element */
    const VMStateDesc *sub; /* VMF_STRUCT */
    /* Load: a value must lie in [min, max] (integers; both 0: any). */
    int64_t min, max;
    uint32_t since; /* first section version carrying the field (0: always) */
} VMField;

struct VMStateDesc {
    const char *name;      /* the section's name in the file */
    uint32_t version;      /* what this popek writes */
    uint32_t min_version;  /* oldest this popek still reads */
    const VMField *fields; /* ends with VMF_END */
    /* Optional, around the fields: prepare before save (fold derived state
     * into fields); save and load what a table cannot describe, after the
     * fields; check and rebuild after load (false: refuse, with vm_fail). */
    void (*pre_save)(void *opaque);
    void (*save)(VMWriter *w, void *opaque);
    bool (*load)(VMReader *r, void *opaque, uint32_t version);
    bool (*post_load)(VMReader *r, void *opaque, uint32_t version);
};

/* One table, without framing: for VMF_STRUCT and for tests. */
void vmstate_save_fields(VMWriter *w, const VMStateDesc *d, void *opaque);
bool vmstate_load_fields(VMReader *r, const VMStateDesc *d, void *opaque, uint32_t version);

/* ---- declaring fields: VMS_U8(Type, field) ... ---- */

/* The field must have the C type the entry says (a mismatch is a
 * compiler warning: comparison of distinct pointer types). */
#define VMS_CHECK_(T, f, ctype) (0 * sizeof((ctype *)0 == &((T *)0)->f))
#define VMS_ENTRY_(T, f, ctype, kind, n, lo, hi)                                                   \
    {                                                                                              \
        .name = #f, .type = (kind), .offset = offsetof(T, f) + VMS_CHECK_(T, f, ctype),            \
        .count = (n), .stride = sizeof(ctype), .min = (lo), .max = (hi)                            \
    }
#define VMS_ARRAY_ENTRY_(T, f, ctype, kind, n, lo, hi)                                             \
    {                                                                                              \
        .name = #f, .type = (kind), .offset = offsetof(T, f) + VMS_CHECK_(T, f[0], ctype),         \
        .count = (n), .stride = sizeof(ctype), .min = (lo), .max = (hi)                            \
    }

#define VMS_U8(T, f)    VMS_ENTRY_(T, f, uint8_t, VMF_U8, 1, 0, 0)
#define VMS_U16(T, f)   VMS_ENTRY_(T, f, uint16_t, VMF_U16, 1, 0, 0)
#define VMS_U32(T, f)   VMS_ENTRY_(T, f, uint32_t, VMF_U32, 1, 0, 0)
#define VMS_I32(T, f)   VMS_ENTRY_(T, f, int32_t, VMF_U32, 1, 0, 0)
#define VMS_U64(T, f)   VMS_ENTRY_(T, f, uint64_t, VMF_U64, 1, 0, 0)
#define VMS_I64(T, f)   VMS_ENTRY_(T, f, int64_t, VMF_U64, 1, 0, 0)
#define VMS_BOOL(T, f)  VMS_ENTRY_(T, f, bool, VMF_BOOL, 1, 0, 0)
#define VMS_INT(T, f)   VMS_ENTRY_(T, f, int, VMF_INT, 1, 0, 0)
#define VMS_TIMER(T, f) VMS_ENTRY_(T, f, Timer, VMF_TIMER, 1, 0, 0)
/* Bounded: load refuses a value outside [lo, hi]. */
#define VMS_U8_RANGE(T, f, lo, hi)   VMS_ENTRY_(T, f, uint8_t, VMF_U8, 1, lo, hi)
#define VMS_U16_RANGE(T, f, lo, hi)  VMS_ENTRY_(T, f, uint16_t, VMF_U16, 1, lo, hi)
#define VMS_U32_RANGE(T, f, lo, hi)  VMS_ENTRY_(T, f, uint32_t, VMF_U32, 1, lo, hi)
#define VMS_INT_RANGE(T, f, lo, hi)  VMS_ENTRY_(T, f, int, VMF_INT, 1, lo, hi)
#define VMS_ENUM_RANGE(T, f, lo, hi) VMS_ENTRY_(T, f, int, VMF_INT, 1, lo, hi)
/* Arrays of n elements. */
#define VMS_BYTES(T, f, n)       VMS_ARRAY_ENTRY_(T, f, uint8_t, VMF_BYTES, n, 0, 0)
#define VMS_U8_ARRAY(T, f, n)    VMS_ARRAY_ENTRY_(T, f, uint8_t, VMF_U8, n, 0, 0)
#define VMS_U16_ARRAY(T, f, n)   VMS_ARRAY_ENTRY_(T, f, uint16_t, VMF_U16, n, 0, 0)
#define VMS_U32_ARRAY(T, f, n)   VMS_ARRAY_ENTRY_(T, f, uint32_t, VMF_U32, n, 0, 0)
#define VMS_U64_ARRAY(T, f, n)   VMS_ARRAY_ENTRY_(T, f, uint64_t, VMF_U64, n, 0, 0)
#define VMS_BOOL_ARRAY(T, f, n)  VMS_ARRAY_ENTRY_(T, f, bool, VMF_BOOL, n, 0, 0)
#define VMS_INT_ARRAY(T, f, n)   VMS_ARRAY_ENTRY_(T, f, int, VMF_INT, n, 0, 0)
#define VMS_TIMER_ARRAY(T, f, n) VMS_ARRAY_ENTRY_(T, f, Timer, VMF_TIMER, n, 0, 0)
/* A struct (or an array of n of them) described by its own table. */
#define VMS_STRUCT(T, f, ST, desc)                                                                 \
    {                                                                                              \
        .name = #f, .type = VMF_STRUCT, .offset = offsetof(T, f) + VMS_CHECK_(T, f, ST),           \
        .count = 1, .stride = sizeof(ST), .sub = &(desc)                                           \
    }
#define VMS_STRUCT_ARRAY(T, f, n, ST, desc)                                                        \
    {                                                                                              \
        .name = #f, .type = VMF_STRUCT, .offset = offsetof(T, f) + VMS_CHECK_(T, f[0], ST),        \
        .count = (n), .stride = sizeof(ST), .sub = &(desc)                                         \
    }
#define VMS_END                                                                                    \
    {                                                                                              \
        .type = VMF_END                                                                            \
    }

#endif /* MIGRATION_VMSTATE_H */
