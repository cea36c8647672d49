/*
 * qcow2 reference counts: a refcount table of refcount blocks, each an
 * array of (1 << refcount_order)-bit counts, one per host cluster (see
 * qcow2.h).  Counts below 8 bits pack from a byte's low bits up, wider
 * ones are big-endian.
 *
 * New clusters are taken from the end of the file (a cluster freed by a
 * snapshot deletion or a copy-on-write is not reused: the file grows, the
 * image stays consistent).  One refcount block is cached; every change is
 * written through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/file.h"
#include "block/qcow2_int.h"

/* log2 of the counts in one refcount block. */
static unsigned block_bits(const Qcow2 *s)
{
    return s->cluster_bits + 3 - s->refcount_order;
}

static uint64_t rb_get(const uint8_t *b, uint64_t i, unsigned order)
{
    switch (order) {
    case 3: return b[i];
    case 4: return be16_at(b + 2 * i);
    case 5: return be32_at(b + 4 * i);
    case 6: return be64_at(b + 8 * i);
    default: {
        unsigned bits = 1u << order;
        return (b[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
    }
    }
}

static void rb_set(uint8_t *b, uint64_t i, unsigned order, uint64_t v)
{
    switch (order) {
    case 3: b[i] = (uint8_t)v; break;
    case 4: put_be16(b + 2 * i, (uint16_t)v); break;
    case 5: put_be32(b + 4 * i, (uint32_t)v); break;
    case 6: put_be64(b + 8 * i, v); break;
    default: {
        unsigned bits = 1u << order, shift = (unsigned)(i * bits % 8);
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << shift);
        b[i * bits / 8] = (uint8_t)((b[i * bits / 8] & ~mask) | ((v << shift) & mask));
    }
    }
}

static int rb_load(Qcow2 *s, uint64_t off)
{
    if (s->rb_offset == off) {
        return 0;
    }
    s->rb_offset = 0;
    int r = block_file_io(s->fd, s->rb, s->cluster_size, off, false);
    if (r == 0) {
        s->rb_offset = off;
    }
    return r;
}

/* Make the file at least clusters long (new clusters read as zeros). */
static int extend_to(Qcow2 *s, uint64_t clusters)
{
    uint64_t end = clusters << s->cluster_bits;
    if (end <= s->file_size) {
        return 0;
    }
    if (ftruncate(s->fd, (off_t)end) < 0) {
        return -errno;
    }
    s->file_size = end;
    return 0;
}

static int write_reftable_entry(Qcow2 *s, uint64_t i)
{
    uint8_t be[8];
    put_be64(be, s->reftable[i]);
    return block_file_io(s->fd, be, 8, s->reftable_offset + 8 * i, true);
}

static int grow_reftable(Qcow2 *s, uint64_t need);

/* A refcount block for table index ti, unless one appeared meanwhile. */
static int alloc_refblock(Qcow2 *s, uint64_t ti)
{
    int r = 0;
    if (ti >= s->reftable_entries && (r = grow_reftable(s, ti)) < 0) {
        return r;
    }
    if (s->reftable[ti]) {
        return 0;
    }
    uint64_t at = s->next_free++;
    if ((r = extend_to(s, s->next_free)) < 0) {
        return r;
    }
    bool self = (at >> block_bits(s)) == ti; /* it counts itself */
    s->rb_offset = 0;
    memset(s->rb, 0, s->cluster_size);
    if (self) {
        rb_set(s->rb, at & ((1ull << block_bits(s)) - 1), s->refcount_order, 1);
    }
    r = block_file_io(s->fd, s->rb, s->cluster_size, at << s->cluster_bits, true);
    if (r == 0) {
        s->rb_offset = at << s->cluster_bits;
        r = qcow2_order(s); /* the block is on disk before the table names it */
    }
    if (r == 0) {
        s->reftable[ti] = at << s->cluster_bits;
        r = write_reftable_entry(s, ti);
    }
    if (r == 0 && !self) {
        r = qcow2_refcount_add(s, at, 1, 1);
    }
    return r;
}

/* Move the refcount table to a larger copy at the end of the file. */
static int grow_reftable(Qcow2 *s, uint64_t need)
{
    uint64_t want = need + 1 > s->reftable_entries * 2 ? need + 1 : s->reftable_entries * 2;
    uint64_t clusters = (want * 8 + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t entries = clusters << (s->cluster_bits - 3);
    if (clusters << s->cluster_bits > QCOW2_MAX_REFTABLE_BYTES) {
        return qcow2_corrupt(s, "refcount table would exceed 8 MiB, entries", want);
    }
    uint64_t *table = realloc(s->reftable, entries * 8);
    uint8_t *raw = calloc(clusters, s->cluster_size);
    if (!table || !raw) {
        free(raw);
        if (table) {
            s->reftable = table;
        }
        return -ENOMEM;
    }
    memset(table + s->reftable_entries, 0, (entries - s->reftable_entries) * 8);
    s->reftable = table;
    for (uint64_t i = 0; i < s->reftable_entries; i++) {
        put_be64(raw + 8 * i, table[i]);
    }
    uint64_t old_offset = s->reftable_offset;
    uint64_t old_clusters = (s->reftable_entries * 8) >> s->cluster_bits;
    uint64_t at = s->next_free;
    s->next_free += clusters;
    int r = extend_to(s, s->next_free);
    if (r == 0) {
        r = block_file_io(s->fd, raw, clusters << s->cluster_bits, at << s->cluster_bits, true);
    }
    free(raw);
    if (r < 0) {
        return r;
    }
    s->reftable_offset = at << s->cluster_bits;
    s->reftable_entries = entries;
    r = qcow2_refcount_add(s, at, clusters, 1);
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        uint8_t hdr[12];
        put_be64(hdr, s->reftable_offset);
        put_be32(hdr + 8, (uint32_t)clusters);
        r = qcow2_write_header_field(s, QH_REFTABLE_OFFSET, hdr, sizeof(hdr));
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        r = qcow2_refcount_add(s, old_offset >> s->cluster_bits, old_clusters, -1);
    }
    return r;
}

int qcow2_refcount_get(Qcow2 *s, uint64_t cluster, uint64_t *value)
{
    uint64_t ti = cluster >> block_bits(s);
    *value = 0;
    if (ti >= s->reftable_entries || !s->reftable[ti]) {
        return 0;
    }
    int r = rb_load(s, s->reftable[ti]);
    if (r == 0) {
        *value = rb_get(s->rb, cluster & ((1ull << block_bits(s)) - 1), s->refcount_order);
    }
    return r;
}

int qcow2_refcount_add(Qcow2 *s, uint64_t cluster, uint64_t n, int delta)
{
    uint64_t per_block = 1ull << block_bits(s);
    while (n > 0) {
        uint64_t ti = cluster >> block_bits(s);
        if (ti >= s->reftable_entries || !s->reftable[ti]) {
            if (delta < 0) {
                return qcow2_corrupt(s, "refcount dropped below zero, cluster", cluster);
            }
            int r = alloc_refblock(s, ti);
            if (r < 0) {
                return r;
            }
            continue; /* allocating may have changed next_free and the table */
        }
        int r = rb_load(s, s->reftable[ti]);
        if (r < 0) {
            return r;
        }
        uint64_t first = cluster & (per_block - 1);
        uint64_t k = per_block - first < n ? per_block - first : n;
        for (uint64_t i = first; i < first + k; i++) {
            uint64_t v = rb_get(s->rb, i, s->refcount_order);
            if (delta > 0 && v > s->refcount_max - (uint64_t)delta) {
                s->rb_offset = 0; /* drop the partial update from the cache */
                if (!s->reported) {
                    fprintf(stderr, "popek: qcow2 '%s': refcount overflow (cluster %llu)\n",
                            s->name, (unsigned long long)((ti << block_bits(s)) + i));
                    s->reported = true;
                }
                return -ERANGE;
            }
            if (delta < 0 && v < (uint64_t)-delta) {
                s->rb_offset = 0;
                return qcow2_corrupt(s, "refcount dropped below zero, cluster",
                                     (ti << block_bits(s)) + i);
            }
            rb_set(s->rb, i, s->refcount_order, v + (uint64_t)(int64_t)delta);
        }
        uint64_t lo = (first << s->refcount_order) / 8;
        uint64_t hi = (((first + k) << s->refcount_order) + 7) / 8;
        r = block_file_io(s->fd, s->rb + lo, hi - lo, s->reftable[ti] + lo, true);
        if (r < 0) {
            s->rb_offset = 0;
            return r;
        }
        cluster += k;
        n -= k;
    }
    return 0;
}

int qcow2_alloc(Qcow2 *s, uint64_t n, uint64_t *offset)
{
    uint64_t start = s->next_free;
    /* Clusters past the end may still carry counts (a leak); skip them. */
    for (uint64_t j = 0; j < n; j++) {
        uint64_t v;
        int r = qcow2_refcount_get(s, start + j, &v);
        if (r < 0) {
            return r;
        }
        if (v) {
            start += j + 1;
            j = (uint64_t)-1;
        }
    }
    s->next_free = start + n;
    int r = extend_to(s, s->next_free);
    if (r == 0) {
        r = qcow2_refcount_add(s, start, n, 1); /* synced before anything points here */
    }
    *offset = start << s->cluster_bits;
    return r;
}

int qcow2_free(Qcow2 *s, uint64_t offset, uint64_t bytes)
{
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> s->cluster_bits;
    return qcow2_refcount_add(s, first, last - first + 1, -1);
}

/* Add delta to the count of every L2 table and data cluster l1 reaches. */
int qcow2_table_refs(Qcow2 *s, const uint64_t *l1, uint32_t l1_size, int delta)
{
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        uint64_t *table;
        if (!l2) {
            continue;
        }
        int r = qcow2_l2_load(s, l2, &table);
        if (r == 0) {
            r = qcow2_refcount_add(s, l2 >> s->cluster_bits, 1, delta);
        }
        for (uint64_t j = 0; r == 0 && j < (1ull << s->l2_bits); j++) {
            r = qcow2_l2_load(s, l2, &table); /* the slot may have moved */
            if (r < 0) {
                break;
            }
            uint64_t e = be64_at((const uint8_t *)&table[j]), off, len;
            switch (qcow2_entry_type(s, e)) {
            case QCOW2_NORMAL:
            case QCOW2_ZERO_ALLOC:
                r = qcow2_refcount_add(s, (e & QCOW2_OFFSET_MASK) >> s->cluster_bits, 1, delta);
                break;
            case QCOW2_COMPRESSED_C:
                qcow2_compressed_range(s, e, &off, &len);
                r = qcow2_refcount_add(
                    s, off >> s->cluster_bits,
                    ((off + len - 1) >> s->cluster_bits) - (off >> s->cluster_bits) + 1, delta);
                break;
            default: break;
            }
        }
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/* Set the COPIED flags of the active tables from the refcounts: a table or
 * cluster counted once is this image's alone. */
int qcow2_fix_copied(Qcow2 *s)
{
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2 = s->l1[i] & QCOW2_OFFSET_MASK, v;
        if (!l2) {
            continue;
        }
        int r = qcow2_refcount_get(s, l2 >> s->cluster_bits, &v);
        if (r < 0) {
            return r;
        }
        uint64_t want = v == 1 ? (s->l1[i] | QCOW2_COPIED) : (s->l1[i] & ~QCOW2_COPIED);
        if (want != s->l1[i]) {
            s->l1[i] = want;
            if ((r = qcow2_write_l1(s, i, 1)) < 0) {
                return r;
            }
        }
        /* Entries' flags are fixed in shared tables too: only the active
         * table's flags mean anything (a snapshot's are never read). */
        uint64_t *table;
        if ((r = qcow2_l2_load(s, l2, &table)) < 0) {
            return r;
        }
        for (uint64_t j = 0; j < (1ull << s->l2_bits); j++) {
            uint64_t e = be64_at((const uint8_t *)&table[j]);
            Qcow2ClusterType t = qcow2_entry_type(s, e);
            if (t != QCOW2_NORMAL && t != QCOW2_ZERO_ALLOC) {
                continue;
            }
            if ((r = qcow2_refcount_get(s, (e & QCOW2_OFFSET_MASK) >> s->cluster_bits, &v)) < 0 ||
                (r = qcow2_l2_load(s, l2, &table)) < 0) {
                return r;
            }
            uint64_t ne = v == 1 ? (e | QCOW2_COPIED) : (e & ~QCOW2_COPIED);
            if (ne != e) {
                put_be64((uint8_t *)&table[j], ne);
                if ((r = qcow2_l2_store(s, l2, table, (unsigned)j, 1)) < 0) {
                    return r;
                }
            }
        }
    }
    return 0;
}

/* Counting every reference, for a rebuild: each range of clusters once. */
typedef struct Counts {
    uint32_t *n;
    uint64_t clusters;
    const char *bad; /* what pointed outside the file */
} Counts;

static void count(Counts *c, const Qcow2 *s, uint64_t off, uint64_t bytes, const char *what)
{
    if (bytes == 0) {
        return;
    }
    uint64_t first = off >> s->cluster_bits, last = (off + bytes - 1) >> s->cluster_bits;
    if (last >= c->clusters) {
        c->bad = what;
        return;
    }
    for (uint64_t i = first; i <= last; i++) {
        c->n[i]++;
    }
}

static int count_tables(Counts *c, Qcow2 *s, const uint64_t *l1, uint32_t l1_size)
{
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK, *table;
        if (!l2) {
            continue;
        }
        count(c, s, l2, s->cluster_size, "an L2 table");
        int r = qcow2_l2_load(s, l2, &table);
        if (r < 0) {
            return r;
        }
        for (uint64_t j = 0; j < (1ull << s->l2_bits); j++) {
            uint64_t e = be64_at((const uint8_t *)&table[j]), off, len;
            switch (qcow2_entry_type(s, e)) {
            case QCOW2_NORMAL:
            case QCOW2_ZERO_ALLOC:
                count(c, s, e & QCOW2_OFFSET_MASK, s->cluster_size, "a data cluster");
                break;
            case QCOW2_COMPRESSED_C:
                qcow2_compressed_range(s, e, &off, &len);
                count(c, s, off, len, "a compressed cluster");
                break;
            default: break;
            }
        }
    }
    return 0;
}

bool qcow2_rebuild_refcounts(Qcow2 *s, char *err, size_t errlen)
{
    Counts c = {NULL, s->next_free, NULL};
    if (c.clusters > (1ull << 28)) {
        snprintf(err, errlen, "'%s': dirty qcow2 image too large to rebuild its refcounts",
                 s->name);
        return false;
    }
    c.n = calloc(c.clusters + 1, sizeof(*c.n));
    if (!c.n) {
        snprintf(err, errlen, "'%s': out of memory rebuilding refcounts", s->name);
        return false;
    }
    bool ok = false;
    uint8_t *buf = NULL;
    count(&c, s, 0, s->cluster_size, "the header");
    count(&c, s, s->l1_offset, (uint64_t)s->l1_size * 8, "the L1 table");
    count(&c, s, s->snapshots_offset, s->snapshots_bytes, "the snapshot table");
    int r = count_tables(&c, s, s->l1, s->l1_size);
    for (uint32_t i = 0; r == 0 && i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        uint64_t *l1 = calloc(sn->l1_size ? sn->l1_size : 1, 8);
        uint8_t *raw = malloc(sn->l1_size ? (size_t)sn->l1_size * 8 : 1);
        r = l1 && raw ? block_file_io(s->fd, raw, (size_t)sn->l1_size * 8, sn->l1_offset, false)
                      : -ENOMEM;
        for (uint32_t j = 0; r == 0 && j < sn->l1_size; j++) {
            l1[j] = be64_at(raw + 8 * j);
        }
        count(&c, s, sn->l1_offset, (uint64_t)sn->l1_size * 8, "a snapshot's L1 table");
        if (r == 0) {
            r = count_tables(&c, s, l1, sn->l1_size);
        }
        free(l1);
        free(raw);
    }
    if (r < 0 || c.bad) {
        snprintf(err, errlen, "'%s': corrupt qcow2 image: %s lies outside the file", s->name,
                 c.bad ? c.bad : "a table");
        goto out;
    }
    for (uint64_t i = 0; i < c.clusters; i++) {
        if (c.n[i] > s->refcount_max) {
            snprintf(err, errlen,
                     "'%s': refcount overflow: cluster %llu is used %u times (at most %llu)",
                     s->name, (unsigned long long)i, c.n[i], (unsigned long long)s->refcount_max);
            goto out;
        }
    }
    /* A fresh table and blocks after everything, counting themselves. */
    uint64_t per_block = 1ull << block_bits(s), total = c.clusters, nrb = 0, nrt = 0;
    for (;;) {
        nrb = (total + per_block - 1) / per_block;
        nrt = (nrb * 8 + s->cluster_size - 1) >> s->cluster_bits;
        if (c.clusters + nrb + nrt <= total) {
            break;
        }
        total = c.clusters + nrb + nrt;
    }
    if (nrt << s->cluster_bits > QCOW2_MAX_REFTABLE_BYTES) {
        snprintf(err, errlen, "'%s': refcount table would exceed 8 MiB", s->name);
        goto out;
    }
    buf = calloc(nrt ? nrt : 1, s->cluster_size);
    uint64_t *table = calloc(nrt << (s->cluster_bits - 3), 8);
    if (!buf || !table) {
        free(table);
        snprintf(err, errlen, "'%s': out of memory rebuilding refcounts", s->name);
        goto out;
    }
    r = extend_to(s, total);
    for (uint64_t b = 0; r == 0 && b < nrb; b++) {
        memset(s->rb, 0, s->cluster_size);
        for (uint64_t i = 0; i < per_block; i++) {
            uint64_t cl = b * per_block + i;
            uint64_t v = cl < c.clusters ? c.n[cl] : cl < total ? 1 : 0;
            rb_set(s->rb, i, s->refcount_order, v);
        }
        table[b] = (c.clusters + b) << s->cluster_bits;
        put_be64(buf + 8 * b, table[b]);
        r = block_file_io(s->fd, s->rb, s->cluster_size, table[b], true);
    }
    s->rb_offset = 0;
    uint64_t rt_offset = (c.clusters + nrb) << s->cluster_bits;
    if (r == 0) {
        r = block_file_io(s->fd, buf, nrt << s->cluster_bits, rt_offset, true);
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    uint8_t hdr[12];
    put_be64(hdr, rt_offset);
    put_be32(hdr + 8, (uint32_t)nrt);
    if (r == 0) {
        r = qcow2_write_header_field(s, QH_REFTABLE_OFFSET, hdr, sizeof(hdr));
    }
    uint8_t inc[8];
    put_be64(inc, s->incompatible & ~QCOW2_INCOMPAT_DIRTY);
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        r = qcow2_write_header_field(s, QH_INCOMPATIBLE, inc, 8);
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r < 0) {
        free(table);
        snprintf(err, errlen, "'%s': cannot rebuild the refcounts of a dirty image: %s", s->name,
                 strerror(-r));
        goto out;
    }
    free(s->reftable);
    s->reftable = table;
    s->reftable_entries = nrt << (s->cluster_bits - 3);
    s->reftable_offset = rt_offset;
    s->next_free = total;
    s->incompatible &= ~QCOW2_INCOMPAT_DIRTY;
    ok = true;
out:
    free(buf);
    free(c.n);
    return ok;
}
