/*
 * Memory as pages: guest RAM, video RAM.
 *
 * Memory goes in chunks of CHUNK_PAGES 4 KiB pages: a bitmap of the pages
 * that hold anything but zeros, then those pages compressed with zlib at
 * its fastest level (level 1 costs a third of level 6's time for a few
 * percent more bytes on a Linux guest's RAM).  An idle guest's RAM is
 * mostly zero pages, which cost one bit each.  Loading writes a zero page
 * only where memory is not already zero, so the untouched pages of a
 * fresh guest stay unallocated on the host.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "migration/vmstate.h"

#define PAGE        4096u
#define CHUNK_PAGES 256u
#define CHUNK_BYTES (CHUNK_PAGES * PAGE)

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (unsigned i = 0; i < PAGE / 8; i++) {
        if (q[i]) {
            return false;
        }
    }
    return true;
}

void vm_put_pages(VMWriter *w, const uint8_t *mem, size_t len)
{
    vm_put_u64(w, len);
    uint8_t *gather = malloc(CHUNK_BYTES);
    uLong bound = compressBound(CHUNK_BYTES);
    uint8_t *packed = malloc(bound);
    if (!gather || !packed) {
        w->failed = true;
        free(gather);
        free(packed);
        return;
    }
    for (size_t at = 0; at < len && !w->failed; at += CHUNK_BYTES) {
        size_t pages = (len - at) / PAGE < CHUNK_PAGES ? (len - at) / PAGE : CHUNK_PAGES;
        uint8_t map[CHUNK_PAGES / 8] = {0};
        size_t used = 0;
        for (size_t i = 0; i < pages; i++) {
            const uint8_t *page = mem + at + i * PAGE;
            if (!page_is_zero(page)) {
                map[i / 8] |= (uint8_t)(1u << (i % 8));
                memcpy(gather + used, page, PAGE);
                used += PAGE;
            }
        }
        vm_put_bytes(w, map, sizeof(map));
        if (used == 0) {
            continue;
        }
        uLongf out = bound;
        if (compress2(packed, &out, gather, used, 1) != Z_OK) {
            w->failed = true;
            break;
        }
        vm_put_u32(w, (uint32_t)out);
        vm_put_bytes(w, packed, out);
    }
    free(gather);
    free(packed);
}

void vm_get_pages(VMReader *r, uint8_t *mem, size_t len)
{
    uint64_t saved = vm_get_u64(r);
    if (r->failed) {
        return;
    }
    if (saved != len) {
        vm_fail(r, "%llu bytes of memory saved, this machine has %zu", (unsigned long long)saved,
                len);
        return;
    }
    uint8_t *unpacked = malloc(CHUNK_BYTES);
    if (!unpacked) {
        vm_fail(r, "out of host memory");
        return;
    }
    for (size_t at = 0; at < len && !r->failed; at += CHUNK_BYTES) {
        size_t pages = (len - at) / PAGE < CHUNK_PAGES ? (len - at) / PAGE : CHUNK_PAGES;
        uint8_t map[CHUNK_PAGES / 8];
        vm_get_bytes(r, map, sizeof(map));
        size_t want = 0;
        for (size_t i = 0; i < CHUNK_PAGES; i++) {
            if (map[i / 8] & (1u << (i % 8))) {
                if (i >= pages) {
                    vm_fail(r, "memory page %zu past the end", at / PAGE + i);
                    break;
                }
                want += PAGE;
            }
        }
        if (r->failed) {
            break;
        }
        if (want) {
            uint32_t packed_len = vm_get_u32(r);
            if (r->failed || packed_len > r->len - r->pos) {
                vm_fail(r, "compressed memory at %zu: truncated", at);
                break;
            }
            uLongf out = CHUNK_BYTES;
            int rc = uncompress(unpacked, &out, r->data + r->pos, packed_len);
            if (rc != Z_OK || out != want) {
                vm_fail(r, "compressed memory at %zu: corrupt (zlib %d)", at, rc);
                break;
            }
            r->pos += packed_len;
        }
        size_t used = 0;
        for (size_t i = 0; i < pages; i++) {
            uint8_t *page = mem + at + i * PAGE;
            if (map[i / 8] & (1u << (i % 8))) {
                memcpy(page, unpacked + used, PAGE);
                used += PAGE;
            } else if (!page_is_zero(page)) {
                memset(page, 0, PAGE);
            }
        }
    }
    free(unpacked);
}
