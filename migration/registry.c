/*
 * Sections and the file's frame (see registry.h for the layout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "migration/registry.h"

#define TAG_SECTION 'S'
#define TAG_END     'E'
#define HEADER_LEN  16 /* magic, format version, section count */

void vmstate_registry_init(VMRegistry *reg, struct TimerList *clock)
{
    memset(reg, 0, sizeof(*reg));
    reg->clock = clock;
}

static VMSection *find_section(VMRegistry *reg, const char *name, uint32_t instance)
{
    for (int i = 0; i < reg->count; i++) {
        if (reg->sec[i].instance == instance && !strcmp(reg->sec[i].desc->name, name)) {
            return &reg->sec[i];
        }
    }
    return NULL;
}

void vmstate_register(VMRegistry *reg, const VMStateDesc *desc, uint32_t instance, void *opaque)
{
    if (reg->count >= VMSTATE_MAX_SECTIONS || strlen(desc->name) > VMSTATE_NAME_MAX ||
        find_section(reg, desc->name, instance)) {
        fprintf(stderr, "popek: vmstate: cannot register section '%s' instance %u\n", desc->name,
                instance);
        exit(1);
    }
    reg->sec[reg->count++] = (VMSection){desc, instance, opaque};
}

static uint32_t crc_of(const uint8_t *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, data, n);
        data += n;
        len -= n;
    }
    return (uint32_t)crc;
}

bool vmstate_save(VMRegistry *reg, VMWriter *w)
{
    w->clock = reg->clock;
    vm_put_bytes(w, VMSTATE_MAGIC, 8);
    vm_put_u32(w, VMSTATE_FORMAT_VERSION);
    vm_put_u32(w, (uint32_t)reg->count);
    for (int i = 0; i < reg->count; i++) {
        const VMSection *s = &reg->sec[i];
        size_t name_len = strlen(s->desc->name);
        vm_put_u8(w, TAG_SECTION);
        vm_put_u8(w, (uint8_t)name_len);
        vm_put_bytes(w, s->desc->name, name_len);
        vm_put_u32(w, s->instance);
        vm_put_u32(w, s->desc->version);
        size_t len_at = w->len;
        vm_put_u64(w, 0); /* payload length, filled in below */
        size_t start = w->len;
        vmstate_save_fields(w, s->desc, s->opaque);
        if (w->failed) {
            return false;
        }
        uint64_t payload = w->len - start;
        for (int b = 0; b < 8; b++) {
            w->buf[len_at + b] = (uint8_t)(payload >> (8 * b));
        }
    }
    uint32_t crc = w->failed ? 0 : crc_of(w->buf, w->len);
    vm_put_u8(w, TAG_END);
    vm_put_u32(w, crc);
    return !w->failed;
}

/* One section's header; false at the trailer or on an error (r->failed). */
typedef struct SectionHeader {
    char name[VMSTATE_NAME_MAX + 1];
    uint32_t instance;
    uint32_t version;
    size_t payload_at;
    size_t payload_len;
} SectionHeader;

static bool next_section(VMReader *r, SectionHeader *h)
{
    uint8_t tag = vm_get_u8(r);
    if (r->failed || tag == TAG_END) {
        return false;
    }
    if (tag != TAG_SECTION) {
        return vm_fail(r, "bad section tag 0x%02x at offset %zu", tag, r->pos - 1);
    }
    uint8_t name_len = vm_get_u8(r);
    if (name_len == 0 || name_len > VMSTATE_NAME_MAX) {
        return vm_fail(r, "bad section name length %u at offset %zu", name_len, r->pos - 1);
    }
    vm_get_bytes(r, h->name, name_len);
    h->name[name_len] = 0;
    for (int i = 0; i < name_len; i++) {
        if (h->name[i] < 0x21 || h->name[i] > 0x7e) {
            return vm_fail(r, "bad section name at offset %zu", r->pos - name_len);
        }
    }
    h->instance = vm_get_u32(r);
    h->version = vm_get_u32(r);
    uint64_t len = vm_get_u64(r);
    if (r->failed) {
        return false;
    }
    if (len > r->len - r->pos) {
        return vm_fail(r, "section '%s': %llu bytes, only %zu left in the file", h->name,
                       (unsigned long long)len, r->len - r->pos);
    }
    h->payload_at = r->pos;
    h->payload_len = (size_t)len;
    r->pos += (size_t)len;
    return true;
}

static bool check_frame(VMReader *r, uint32_t *count)
{
    char magic[8];
    vm_get_bytes(r, magic, 8);
    if (r->failed || memcmp(magic, VMSTATE_MAGIC, 8) != 0) {
        r->failed = false;
        return vm_fail(r, "not a popek VM state (bad magic)");
    }
    uint32_t format = vm_get_u32(r);
    *count = vm_get_u32(r);
    if (r->failed) {
        return false;
    }
    if (format != VMSTATE_FORMAT_VERSION) {
        return vm_fail(r, "state format version %u, this popek reads %u", format,
                       VMSTATE_FORMAT_VERSION);
    }
    if (*count > VMSTATE_MAX_SECTIONS) {
        return vm_fail(r, "%u sections, at most %d expected", *count, VMSTATE_MAX_SECTIONS);
    }
    SectionHeader h;
    uint32_t seen = 0;
    while (next_section(r, &h)) {
        seen++;
    }
    if (r->failed) {
        return false;
    }
    size_t end_at = r->pos - 1;
    uint32_t crc = vm_get_u32(r);
    if (r->failed) {
        return false;
    }
    if (seen != *count) {
        return vm_fail(r, "%u sections where the header says %u", seen, *count);
    }
    if (r->pos != r->len) {
        return vm_fail(r, "%zu bytes after the trailer", r->len - r->pos);
    }
    if (crc != crc_of(r->data, end_at)) {
        return vm_fail(r, "checksum mismatch (the file is damaged)");
    }
    return true;
}

static bool report(const VMReader *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", r->err);
    return false;
}

bool vmstate_check_frame(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    VMReader r;
    uint32_t count;
    vm_reader_init(&r, data, len);
    return check_frame(&r, &count) || report(&r, err, errlen);
}

/* The section's device and version, checked before anything is loaded. */
static VMSection *check_section(VMRegistry *reg, VMReader *file, const SectionHeader *h, bool *seen)
{
    VMSection *s = find_section(reg, h->name, h->instance);
    if (!s) {
        vm_fail(file, "section '%s' instance %u: no such device in this machine", h->name,
                h->instance);
        return NULL;
    }
    int idx = (int)(s - reg->sec);
    const VMStateDesc *d = s->desc;
    if (seen[idx]) {
        vm_fail(file, "section '%s' instance %u appears twice", h->name, h->instance);
        return NULL;
    }
    if (h->version > d->version) {
        vm_fail(file, "section '%s' version %u is newer than this popek's %u", h->name, h->version,
                d->version);
        return NULL;
    }
    if (h->version < d->min_version) {
        vm_fail(file,
                "section '%s' version %u is older than this popek reads "
                "(version %u, oldest %u)",
                h->name, h->version, d->version, d->min_version);
        return NULL;
    }
    seen[idx] = true;
    return s;
}

static bool load_section(VMRegistry *reg, VMReader *file, const SectionHeader *h, VMSection *s)
{
    VMReader r;
    vm_reader_init(&r, file->data + h->payload_at, h->payload_len);
    r.clock = reg->clock;
    vmstate_load_fields(&r, s->desc, s->opaque, h->version);
    if (!r.failed && r.pos != r.len) {
        vm_fail(&r, "%zu bytes left over", r.len - r.pos);
    }
    if (r.failed) {
        return vm_fail(file, "section '%s' instance %u: %s", h->name, h->instance, r.err);
    }
    return true;
}

bool vmstate_load(VMRegistry *reg, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    VMReader r;
    uint32_t count;
    vm_reader_init(&r, data, len);
    if (!check_frame(&r, &count)) {
        return report(&r, err, errlen);
    }
    /* Every section known, in a version we read, and none missing, before
     * the machine is touched. */
    bool seen[VMSTATE_MAX_SECTIONS] = {false};
    SectionHeader h;
    r.pos = HEADER_LEN;
    while (next_section(&r, &h)) {
        if (!check_section(reg, &r, &h, seen)) {
            return report(&r, err, errlen);
        }
    }
    for (int i = 0; i < reg->count; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "section '%s' instance %u is missing from the state",
                     reg->sec[i].desc->name, reg->sec[i].instance);
            return false;
        }
    }
    r.pos = HEADER_LEN;
    while (next_section(&r, &h)) {
        if (!load_section(reg, &r, &h, find_section(reg, h.name, h.instance))) {
            return report(&r, err, errlen);
        }
    }
    return true;
}
