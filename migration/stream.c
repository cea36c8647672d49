/*
 * The byte stream of a saved VM and the field tables that read and write it.
 *
 * Everything is little endian and fixed width, whatever the C type on the
 * host.  A reader never reads past its end: a short read, a value out of
 * its bound or a device's refusal marks it failed with the first reason,
 * and every read after that returns zeros, so a loader may read a whole
 * table and check once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration/vmstate.h"

void vm_writer_init(VMWriter *w)
{
    memset(w, 0, sizeof(*w));
}

void vm_writer_free(VMWriter *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void vm_put_bytes(VMWriter *w, const void *p, size_t n)
{
    if (w->failed || n == 0) {
        return;
    }
    if (n > SIZE_MAX / 2 - w->len) {
        w->failed = true;
        return;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n) {
            cap *= 2;
        }
        uint8_t *buf = realloc(w->buf, cap);
        if (!buf) {
            w->failed = true;
            return;
        }
        w->buf = buf;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_le(VMWriter *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    vm_put_bytes(w, b, (size_t)n);
}

void vm_put_u8(VMWriter *w, uint8_t v)
{
    put_le(w, v, 1);
}

void vm_put_u16(VMWriter *w, uint16_t v)
{
    put_le(w, v, 2);
}

void vm_put_u32(VMWriter *w, uint32_t v)
{
    put_le(w, v, 4);
}

void vm_put_u64(VMWriter *w, uint64_t v)
{
    put_le(w, v, 8);
}

void vm_reader_init(VMReader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->data = data;
    r->len = len;
}

bool vm_fail(VMReader *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, sizeof(r->err), fmt, ap);
        va_end(ap);
        r->failed = true;
    }
    return false;
}

void vm_get_bytes(VMReader *r, void *p, size_t n)
{
    if (!r->failed && n > r->len - r->pos) {
        vm_fail(r, "truncated (%zu bytes wanted, %zu left)", n, r->len - r->pos);
    }
    if (r->failed) {
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->data + r->pos, n);
    r->pos += n;
}

static uint64_t get_le(VMReader *r, int n)
{
    uint8_t b[8];
    vm_get_bytes(r, b, (size_t)n);
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

uint8_t vm_get_u8(VMReader *r)
{
    return (uint8_t)get_le(r, 1);
}

uint16_t vm_get_u16(VMReader *r)
{
    return (uint16_t)get_le(r, 2);
}

uint32_t vm_get_u32(VMReader *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t vm_get_u64(VMReader *r)
{
    return get_le(r, 8);
}

void vm_put_blob(VMWriter *w, const void *p, uint32_t n)
{
    vm_put_u32(w, n);
    vm_put_bytes(w, p, n);
}

uint32_t vm_get_blob(VMReader *r, void *p, uint32_t max)
{
    uint32_t n = vm_get_u32(r);
    if (n > max) {
        vm_fail(r, "a %u-byte block where at most %u fit", n, max);
        return 0;
    }
    vm_get_bytes(r, p, n);
    return r->failed ? 0 : n;
}

/* ---- field tables ---- */

static void save_timer(VMWriter *w, const Timer *t)
{
    vm_put_u8(w, t->armed);
    /* Relative to virtual now: the loader re-arms it that far from its own
     * now, which the machine has set to the saved clock. */
    int64_t rel = t->armed ? t->deadline - (w->clock ? timer_now(w->clock) : 0) : 0;
    vm_put_u64(w, (uint64_t)rel);
}

static void load_timer(VMReader *r, Timer *t, const char *name)
{
    uint8_t armed = vm_get_u8(r);
    int64_t rel = (int64_t)vm_get_u64(r);
    if (armed > 1) {
        vm_fail(r, "timer %s: armed flag %u", name, armed);
    }
    if (r->failed) {
        return;
    }
    if (!armed) {
        timer_del(t);
        return;
    }
    int64_t now = r->clock ? timer_now(r->clock) : 0;
    /* Deadlines may lie in the past (a timer the loop had not served yet)
     * but not so far either way that the sum overflows. */
    if (rel > INT64_MAX / 4 || rel < -(INT64_MAX / 4)) {
        vm_fail(r, "timer %s: deadline %lld ns away", name, (long long)rel);
        return;
    }
    int64_t deadline = now + rel;
    timer_mod(t, deadline < 0 ? 0 : deadline);
}

static void save_field(VMWriter *w, const VMField *f, uint8_t *base)
{
    for (uint32_t i = 0; i < (f->type == VMF_BYTES ? 1 : f->count); i++) {
        uint8_t *p = base + f->offset + (size_t)i * f->stride;
        switch (f->type) {
        case VMF_U8: vm_put_u8(w, *p); break;
        case VMF_U16: {
            uint16_t v;
            memcpy(&v, p, 2);
            vm_put_u16(w, v);
            break;
        }
        case VMF_U32:
        case VMF_INT: {
            uint32_t v;
            memcpy(&v, p, 4);
            vm_put_u32(w, v);
            break;
        }
        case VMF_U64: {
            uint64_t v;
            memcpy(&v, p, 8);
            vm_put_u64(w, v);
            break;
        }
        case VMF_BOOL: vm_put_u8(w, *(bool *)p ? 1 : 0); break;
        case VMF_BYTES: vm_put_bytes(w, p, f->count); break;
        case VMF_TIMER: save_timer(w, (const Timer *)p); break;
        case VMF_STRUCT: vmstate_save_fields(w, f->sub, p); break;
        case VMF_END: break;
        }
    }
}

/* The value's bound, for the integer types. */
static bool in_range(VMReader *r, const VMField *f, int64_t v)
{
    if ((f->min || f->max) && (v < f->min || v > f->max)) {
        return vm_fail(r, "field %s = %lld, outside %lld..%lld", f->name, (long long)v,
                       (long long)f->min, (long long)f->max);
    }
    return true;
}

static void load_field(VMReader *r, const VMField *f, uint8_t *base, uint32_t version)
{
    for (uint32_t i = 0; i < (f->type == VMF_BYTES ? 1 : f->count) && !r->failed; i++) {
        uint8_t *p = base + f->offset + (size_t)i * f->stride;
        switch (f->type) {
        case VMF_U8: {
            uint8_t v = vm_get_u8(r);
            if (in_range(r, f, v)) {
                *p = v;
            }
            break;
        }
        case VMF_U16: {
            uint16_t v = vm_get_u16(r);
            if (in_range(r, f, v)) {
                memcpy(p, &v, 2);
            }
            break;
        }
        case VMF_U32: {
            uint32_t v = vm_get_u32(r);
            if (in_range(r, f, v)) {
                memcpy(p, &v, 4);
            }
            break;
        }
        case VMF_INT: {
            int32_t v = (int32_t)vm_get_u32(r);
            if (in_range(r, f, v)) {
                memcpy(p, &v, 4);
            }
            break;
        }
        case VMF_U64: {
            uint64_t v = vm_get_u64(r);
            if (!r->failed) {
                memcpy(p, &v, 8);
            }
            break;
        }
        case VMF_BOOL: {
            uint8_t v = vm_get_u8(r);
            if (v > 1) {
                vm_fail(r, "field %s: %u is not a boolean", f->name, v);
            } else {
                *(bool *)p = v;
            }
            break;
        }
        case VMF_BYTES:
            if (f->count <= r->len - r->pos || r->failed) {
                vm_get_bytes(r, p, f->count);
            } else {
                vm_fail(r, "field %s: truncated", f->name);
            }
            break;
        case VMF_TIMER: load_timer(r, (Timer *)p, f->name); break;
        case VMF_STRUCT: vmstate_load_fields(r, f->sub, p, version); break;
        case VMF_END: break;
        }
    }
}

void vmstate_save_fields(VMWriter *w, const VMStateDesc *d, void *opaque)
{
    if (d->pre_save) {
        d->pre_save(opaque);
    }
    for (const VMField *f = d->fields; f && f->type != VMF_END; f++) {
        save_field(w, f, opaque);
    }
    if (d->save) {
        d->save(w, opaque);
    }
}

bool vmstate_load_fields(VMReader *r, const VMStateDesc *d, void *opaque, uint32_t version)
{
    for (const VMField *f = d->fields; f && f->type != VMF_END && !r->failed; f++) {
        if (f->since <= version) {
            load_field(r, f, opaque, version);
        }
    }
    if (!r->failed && d->load) {
        d->load(r, opaque, version);
    }
    if (!r->failed && d->post_load) {
        d->post_load(r, opaque, version);
    }
    return !r->failed;
}
