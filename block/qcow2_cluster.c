/*
 * qcow2 guest reads and writes: the L1/L2 walk, the L2 table cache,
 * compressed clusters, allocation and copy-on-write (see qcow2.h).
 *
 * Data and refcount increments are written at once; changed L2 entries and
 * L1 entries stay in the table cache (dirty) until the guest flushes or
 * the slot is needed, and qcow2_meta_flush writes them after a sync, so
 * nothing on disk points to a cluster before its count and contents are
 * there.  A cluster a write stops using (a shared or compressed one) is
 * released only after that.  A crash can then leak clusters but never
 * leave a cluster referenced more often than its refcount says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "block/file.h"
#include "block/qcow2_int.h"

Qcow2ClusterType qcow2_entry_type(const Qcow2 *s, uint64_t l2e)
{
    if (l2e & QCOW2_COMPRESSED) {
        return QCOW2_COMPRESSED_C;
    }
    if (s->version >= 3 && (l2e & QCOW2_ZERO)) {
        return (l2e & QCOW2_OFFSET_MASK) ? QCOW2_ZERO_ALLOC : QCOW2_ZERO_PLAIN;
    }
    return (l2e & QCOW2_OFFSET_MASK) ? QCOW2_NORMAL : QCOW2_UNALLOCATED;
}

int qcow2_l2_load(Qcow2 *s, uint64_t l2_offset, uint64_t **table)
{
    Qcow2L2Slot *victim = &s->l2[0];
    for (unsigned i = 0; i < s->l2_slots; i++) {
        Qcow2L2Slot *slot = &s->l2[i];
        if (slot->offset == l2_offset && slot->table) {
            slot->used = ++s->l2_clock;
            *table = slot->table;
            return 0;
        }
        if (!slot->table || slot->used < victim->used) {
            victim = slot;
        }
        if (!slot->table) {
            break;
        }
    }
    if (!qcow2_range_ok(s, l2_offset, s->cluster_size)) {
        return qcow2_corrupt(s, "L2 table offset", l2_offset);
    }
    if (!victim->table && !(victim->table = malloc(s->cluster_size))) {
        return -ENOMEM;
    }
    if (victim->dirty) {
        int r = qcow2_meta_flush(s); /* writes every dirty table, in order */
        if (r < 0) {
            return r;
        }
    }
    victim->offset = 0;
    int r = block_file_io(s->fd, victim->table, s->cluster_size, l2_offset, false);
    if (r < 0) {
        return r;
    }
    victim->offset = l2_offset;
    victim->used = ++s->l2_clock;
    *table = victim->table;
    return 0;
}

int qcow2_l2_store(Qcow2 *s, uint64_t l2_offset, const uint64_t *table, unsigned first, unsigned n)
{
    for (unsigned i = 0; i < s->l2_slots; i++) {
        if (s->l2[i].offset == l2_offset && s->l2[i].table == table) {
            s->l2[i].dirty = true; /* written by the next qcow2_meta_flush */
            return 0;
        }
    }
    return block_file_io(s->fd, (void *)(table + first), (size_t)n * 8, l2_offset + first * 8ull,
                         true);
}

int qcow2_write_l1(Qcow2 *s, uint32_t first, uint32_t n)
{
    uint8_t buf[512];
    while (n > 0) {
        uint32_t k = n < 64 ? n : 64;
        for (uint32_t i = 0; i < k; i++) {
            put_be64(buf + 8 * i, s->l1[first + i]);
        }
        int r = block_file_io(s->fd, buf, k * 8u, s->l1_offset + first * 8ull, true);
        if (r < 0) {
            return r;
        }
        first += k;
        n -= k;
    }
    return 0;
}

void qcow2_compressed_range(const Qcow2 *s, uint64_t l2e, uint64_t *off, uint64_t *len)
{
    unsigned x = 62 - (s->cluster_bits - 8);
    uint64_t sectors = ((l2e >> x) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
    *off = l2e & ((1ull << x) - 1) & ((1ull << 56) - 1);
    *len = sectors * 512 - (*off & 511);
}

/* Inflate a compressed cluster (raw deflate, as QEMU writes it) into zbuf. */
static int read_compressed(Qcow2 *s, uint64_t l2e)
{
    if (s->zbuf_entry == l2e) {
        return 0;
    }
    uint64_t off, len;
    qcow2_compressed_range(s, l2e, &off, &len);
    if (off >= s->file_size) {
        return qcow2_corrupt(s, "compressed cluster offset", off);
    }
    int r = block_file_read_zero_tail(s->fd, s->zin, len, off);
    if (r < 0) {
        return r;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -15) != Z_OK) {
        return -ENOMEM;
    }
    z.next_in = s->zin;
    z.avail_in = (uInt)len;
    z.next_out = s->zbuf;
    z.avail_out = (uInt)s->cluster_size;
    int zr = inflate(&z, Z_FINISH);
    bool full = z.avail_out == 0;
    inflateEnd(&z);
    if (!full || (zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK)) {
        s->zbuf_entry = 0;
        return qcow2_corrupt(s, "compressed cluster data at", off);
    }
    s->zbuf_entry = l2e;
    return 0;
}

/* The L2 entry for guest offset off under l1 (0 if none); *l2_offset and
 * *index say where it lives (0 when there is no L2 table). */
static int lookup(Qcow2 *s, const uint64_t *l1, uint32_t l1_size, uint64_t off, uint64_t *l2e,
                  uint64_t *l2_offset, unsigned *index)
{
    uint64_t i = off >> (s->cluster_bits + s->l2_bits);
    *index = (unsigned)((off >> s->cluster_bits) & ((1ull << s->l2_bits) - 1));
    *l2e = 0;
    *l2_offset = i < l1_size ? l1[i] & QCOW2_OFFSET_MASK : 0;
    if (!*l2_offset) {
        return 0;
    }
    uint64_t *table;
    int r = qcow2_l2_load(s, *l2_offset, &table);
    if (r == 0) {
        *l2e = be64_at((const uint8_t *)&table[*index]);
    }
    return r;
}

/* Read from the backing image; what lies past its end reads as zeros. */
static int read_backing(Qcow2 *s, uint64_t off, uint8_t *buf, uint64_t len)
{
    BlockNode *b = s->node.backing;
    uint64_t end = b ? b->dev.sectors * BLOCK_SECTOR_SIZE : 0;
    uint64_t have = off >= end ? 0 : end - off < len ? end - off : len;
    memset(buf + have, 0, len - have);
    if (have == 0) {
        return 0;
    }
    /* Only the active tables read through, for guest requests and
     * copy-on-write: whole sectors, so have is whole sectors too. */
    return b->dev.read(b->dev.opaque, off / BLOCK_SECTOR_SIZE, buf,
                       (uint32_t)(have / BLOCK_SECTOR_SIZE));
}

int qcow2_read_bytes(Qcow2 *s, const uint64_t *l1, uint32_t l1_size, uint64_t off, uint8_t *buf,
                     uint64_t len)
{
    bool active = l1 == s->l1;
    while (len > 0) {
        uint64_t in = off & (s->cluster_size - 1);
        uint64_t n = s->cluster_size - in < len ? s->cluster_size - in : len;
        uint64_t l2e, l2_offset;
        unsigned index;
        int r = lookup(s, l1, l1_size, off, &l2e, &l2_offset, &index);
        if (r < 0) {
            return r;
        }
        switch (qcow2_entry_type(s, l2e)) {
        case QCOW2_UNALLOCATED:
            r = active ? read_backing(s, off, buf, n) : (memset(buf, 0, n), 0);
            break;
        case QCOW2_ZERO_PLAIN:
        case QCOW2_ZERO_ALLOC: memset(buf, 0, n); break;
        case QCOW2_COMPRESSED_C:
            r = read_compressed(s, l2e);
            if (r == 0) {
                memcpy(buf, s->zbuf + in, n);
            }
            break;
        case QCOW2_NORMAL: {
            uint64_t host = l2e & QCOW2_OFFSET_MASK;
            if ((host & (s->cluster_size - 1)) || host >= s->file_size) {
                return qcow2_corrupt(s, "data cluster offset", host);
            }
            /* Extend over the following clusters while they follow on
             * disk too, so a sequential read is one pread. */
            uint64_t total = n;
            while (total < len) {
                uint64_t next_e, next_l2;
                unsigned next_i;
                uint64_t want = host + in + total;
                if (lookup(s, l1, l1_size, off + total, &next_e, &next_l2, &next_i) < 0 ||
                    qcow2_entry_type(s, next_e) != QCOW2_NORMAL ||
                    (next_e & QCOW2_OFFSET_MASK) != want || want >= s->file_size) {
                    break;
                }
                total += len - total < s->cluster_size ? len - total : s->cluster_size;
            }
            r = block_file_read_zero_tail(s->fd, buf, total, host + in);
            n = total;
            break;
        }
        }
        if (r < 0) {
            return r;
        }
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

int qcow2_guest_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    Qcow2 *s = opaque;
    return qcow2_read_bytes(s, s->l1, s->l1_size, sector * BLOCK_SECTOR_SIZE, buf,
                            (uint64_t)count * BLOCK_SECTOR_SIZE);
}

/* The L2 table for L1 index i, made this image's alone: allocated if
 * missing, copied if shared with a snapshot. */
static int l2_prepare(Qcow2 *s, uint64_t i, uint64_t *l2_offset, uint64_t **table)
{
    if (i >= s->l1_size) {
        return qcow2_corrupt(s, "write past the L1 table, index", i);
    }
    uint64_t old = s->l1[i] & QCOW2_OFFSET_MASK;
    if (old && (s->l1[i] & QCOW2_COPIED)) {
        *l2_offset = old;
        return qcow2_l2_load(s, old, table);
    }
    int r = 0;
    if (old) {
        uint64_t *old_table;
        r = qcow2_l2_load(s, old, &old_table);
        if (r < 0) {
            return r;
        }
        memcpy(s->cluster_buf, old_table, s->cluster_size);
    } else {
        memset(s->cluster_buf, 0, s->cluster_size);
    }
    uint64_t fresh;
    r = qcow2_alloc(s, 1, &fresh);
    if (r == 0) {
        r = block_file_io(s->fd, s->cluster_buf, s->cluster_size, fresh, true);
    }
    if (r == 0 && old) {
        r = qcow2_release_later(s, old, s->cluster_size); /* the snapshot keeps it */
    }
    if (r < 0) {
        return r;
    }
    /* The L1 entry reaches the disk at the next flush, after the table. */
    s->l1[i] = fresh | QCOW2_COPIED;
    if (s->l1_dirty_end == s->l1_dirty_first) {
        s->l1_dirty_first = (uint32_t)i, s->l1_dirty_end = (uint32_t)i + 1;
    } else {
        s->l1_dirty_first = (uint32_t)i < s->l1_dirty_first ? (uint32_t)i : s->l1_dirty_first;
        s->l1_dirty_end = (uint32_t)i + 1 > s->l1_dirty_end ? (uint32_t)i + 1 : s->l1_dirty_end;
    }
    *l2_offset = fresh;
    return qcow2_l2_load(s, fresh, table);
}

/* Release the host cluster(s) an entry no longer in use pointed to. */
static int release_entry(Qcow2 *s, uint64_t l2e)
{
    Qcow2ClusterType t = qcow2_entry_type(s, l2e);
    if (t == QCOW2_UNALLOCATED || t == QCOW2_ZERO_PLAIN) {
        return 0;
    }
    if (t == QCOW2_COMPRESSED_C) {
        uint64_t off, len;
        qcow2_compressed_range(s, l2e, &off, &len);
        if (s->zbuf_entry == l2e) {
            s->zbuf_entry = 0;
        }
        return qcow2_release_later(s, off & ~(s->cluster_size - 1),
                                   (off & (s->cluster_size - 1)) + len);
    }
    return qcow2_release_later(s, l2e & QCOW2_OFFSET_MASK, s->cluster_size);
}

static bool host_ok(const Qcow2 *s, uint64_t host)
{
    return (host & (s->cluster_size - 1)) == 0 && host < s->file_size;
}

int qcow2_guest_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    Qcow2 *s = opaque;
    if (!s->writable) {
        return -EROFS;
    }
    const uint8_t *p = buf;
    uint64_t off = sector * BLOCK_SECTOR_SIZE, len = (uint64_t)count * BLOCK_SECTOR_SIZE;
    uint64_t cs = s->cluster_size, entries = 1ull << s->l2_bits;
    while (len > 0) {
        uint64_t in = off & (cs - 1), n = cs - in < len ? cs - in : len;
        uint64_t l2_offset = 0, *table = NULL;
        int r = l2_prepare(s, off >> (s->cluster_bits + s->l2_bits), &l2_offset, &table);
        if (r < 0) {
            return r;
        }
        unsigned idx = (unsigned)((off >> s->cluster_bits) & (entries - 1));
        uint64_t e = be64_at((const uint8_t *)&table[idx]);
        Qcow2ClusterType t = qcow2_entry_type(s, e);
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (t == QCOW2_NORMAL && (e & QCOW2_COPIED)) {
            /* Ours alone: in place, over as many clusters as follow on disk. */
            if (!host_ok(s, host)) {
                return qcow2_corrupt(s, "data cluster offset", host);
            }
            uint64_t total = n;
            for (unsigned j = idx + 1; total < len && j < entries; j++) {
                uint64_t ej = be64_at((const uint8_t *)&table[j]);
                if (qcow2_entry_type(s, ej) != QCOW2_NORMAL || !(ej & QCOW2_COPIED) ||
                    (ej & QCOW2_OFFSET_MASK) != host + in + total ||
                    !host_ok(s, host + in + total)) {
                    break;
                }
                total += len - total < cs ? len - total : cs;
            }
            r = block_file_io(s->fd, (void *)p, total, host + in, true);
            n = total;
        } else if (t == QCOW2_ZERO_ALLOC && (e & QCOW2_COPIED)) {
            /* A preallocated zero cluster: fill it, then drop the flag. */
            if (!host_ok(s, host)) {
                return qcow2_corrupt(s, "data cluster offset", host);
            }
            memset(s->cluster_buf, 0, cs);
            memcpy(s->cluster_buf + in, p, n);
            r = block_file_io(s->fd, s->cluster_buf, cs, host, true);
            if (r == 0) {
                put_be64((uint8_t *)&table[idx], host | QCOW2_COPIED);
                r = qcow2_l2_store(s, l2_offset, table, idx, 1);
            }
        } else if (in == 0 && n == cs && (t == QCOW2_UNALLOCATED || t == QCOW2_ZERO_PLAIN)) {
            /* Whole new clusters: allocate a run, write it from the guest's
             * buffer, then point the entries at it. */
            unsigned k = 1;
            while (k < 256 && idx + k < entries && len >= (k + 1ull) * cs) {
                Qcow2ClusterType tk =
                    qcow2_entry_type(s, be64_at((const uint8_t *)&table[idx + k]));
                if (tk != QCOW2_UNALLOCATED && tk != QCOW2_ZERO_PLAIN) {
                    break;
                }
                k++;
            }
            r = qcow2_alloc(s, k, &host);
            if (r == 0) {
                r = block_file_io(s->fd, (void *)p, k * cs, host, true);
            }
            if (r == 0) {
                r = qcow2_l2_load(s, l2_offset, &table);
            }
            if (r == 0) {
                for (unsigned j = 0; j < k; j++) {
                    put_be64((uint8_t *)&table[idx + j], (host + j * cs) | QCOW2_COPIED);
                }
                r = qcow2_l2_store(s, l2_offset, table, idx, k);
            }
            n = k * cs;
        } else {
            /* Copy-on-write of one cluster: what it reads as now, with the
             * guest's bytes over it, into a new cluster. */
            r = qcow2_read_bytes(s, s->l1, s->l1_size, off - in, s->cluster_buf, cs);
            if (r == 0) {
                memcpy(s->cluster_buf + in, p, n);
                r = qcow2_alloc(s, 1, &host);
            }
            if (r == 0) {
                r = block_file_io(s->fd, s->cluster_buf, cs, host, true);
            }
            if (r == 0) {
                r = qcow2_l2_load(s, l2_offset, &table);
            }
            if (r == 0) {
                put_be64((uint8_t *)&table[idx], host | QCOW2_COPIED);
                r = qcow2_l2_store(s, l2_offset, table, idx, 1);
            }
            if (r == 0) {
                r = release_entry(s, e);
            }
        }
        if (r < 0) {
            return r;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}
