/*
 * qcow2: the header, opening and closing an image, and the BlockDev it
 * serves (see qcow2.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/file.h"
#include "block/qcow2.h"
#include "block/qcow2_int.h"

int qcow2_sync(Qcow2 *s)
{
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

int qcow2_order(Qcow2 *s)
{
    return s->lazy ? 0 : qcow2_sync(s);
}

int qcow2_write_header_field(Qcow2 *s, unsigned off, const void *bytes, size_t len)
{
    return block_file_io(s->fd, (void *)bytes, len, off, true);
}

int qcow2_corrupt(Qcow2 *s, const char *what, uint64_t value)
{
    if (!s->reported) {
        fprintf(stderr,
                "popek: qcow2 '%s': corrupt metadata (%s 0x%llx); the guest gets I/O errors\n",
                s->name, what, (unsigned long long)value);
        s->reported = true;
    }
    return -EIO;
}

/*
 * Guest writes change L2 tables and the L1 table in memory only; this puts
 * them on disk after what they point to: sync (new clusters' refcounts,
 * data and new tables), the tables, sync.  Then the clusters they stopped
 * using lose their reference (on disk at the next sync).  Under lazy
 * refcounts the first sync is not needed.
 */
int qcow2_meta_flush(Qcow2 *s)
{
    if (!s->writable) {
        return 0;
    }
    bool dirty = s->l1_dirty_end > s->l1_dirty_first;
    for (unsigned i = 0; i < s->l2_slots; i++) {
        dirty |= s->l2[i].dirty;
    }
    int r = dirty ? qcow2_order(s) : 0;
    for (unsigned i = 0; r == 0 && i < s->l2_slots; i++) {
        Qcow2L2Slot *slot = &s->l2[i];
        if (slot->dirty) {
            r = block_file_io(s->fd, slot->table, s->cluster_size, slot->offset, true);
            slot->dirty = r < 0;
        }
    }
    if (r == 0 && s->l1_dirty_end > s->l1_dirty_first) {
        r = qcow2_write_l1(s, s->l1_dirty_first, s->l1_dirty_end - s->l1_dirty_first);
        if (r == 0) {
            s->l1_dirty_first = s->l1_dirty_end = 0;
        }
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    while (r == 0 && s->nreleases > 0) {
        Qcow2Release *rel = &s->releases[--s->nreleases];
        r = qcow2_free(s, rel->offset, rel->bytes);
    }
    return r;
}

int qcow2_release_later(Qcow2 *s, uint64_t offset, uint64_t bytes)
{
    if (s->nreleases == QCOW2_MAX_RELEASES) {
        int r = qcow2_meta_flush(s);
        if (r < 0) {
            return r;
        }
    }
    if (!s->releases && !(s->releases = malloc(QCOW2_MAX_RELEASES * sizeof(*s->releases)))) {
        return -ENOMEM;
    }
    s->releases[s->nreleases++] = (Qcow2Release){offset, bytes};
    return 0;
}

static int qcow2_flush(void *opaque)
{
    return qcow2_meta_flush(opaque);
}

static void qcow2_free_state(Qcow2 *s)
{
    for (unsigned i = 0; i < QCOW2_L2_SLOTS; i++) {
        free(s->l2[i].table);
    }
    qcow2_snapshots_free(s);
    free(s->releases);
    free(s->l1);
    free(s->reftable);
    free(s->rb);
    free(s->cluster_buf);
    free(s->zbuf);
    free(s->zin);
    free(s->name);
    free(s);
}

/* Set or clear the dirty bit, synced either side so it brackets writes. */
static int qcow2_set_dirty(Qcow2 *s, bool dirty)
{
    uint64_t inc =
        dirty ? s->incompatible | QCOW2_INCOMPAT_DIRTY : s->incompatible & ~QCOW2_INCOMPAT_DIRTY;
    uint8_t be[8];
    put_be64(be, inc);
    int r = qcow2_sync(s);
    if (r == 0) {
        r = qcow2_write_header_field(s, QH_INCOMPATIBLE, be, 8);
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        s->incompatible = inc;
    }
    return r;
}

static void qcow2_close(BlockNode *node)
{
    Qcow2 *s = (Qcow2 *)node;
    if (s->writable) {
        qcow2_meta_flush(s);
        if (s->lazy) {
            /* Refcounts were written through: a clean close makes them
             * authoritative again. */
            qcow2_set_dirty(s, false);
        } else {
            qcow2_sync(s);
        }
    }
    close(s->fd);
    qcow2_free_state(s);
}

/* Names of the incompatible features set in bits that popek cannot
 * handle, from the image's feature table where it has one. */
static void unsupported_features(uint64_t bits, const uint8_t *table, uint32_t table_len, char *out,
                                 size_t outlen)
{
    static const char *const known[] = {NULL, NULL, "external data file", "compression type",
                                        "extended L2 entries"};
    size_t used = 0;
    out[0] = '\0';
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(bits & (1ull << bit))) {
            continue;
        }
        char name[64];
        snprintf(name, sizeof(name), "incompatible bit %u", bit);
        if (bit < 5 && known[bit]) {
            snprintf(name, sizeof(name), "%s", known[bit]);
        }
        for (uint32_t i = 0; table && i + 48 <= table_len; i += 48) {
            if (table[i] == 0 && table[i + 1] == bit && table[i + 2]) {
                snprintf(name, sizeof(name), "%.46s", (const char *)table + i + 2);
            }
        }
        used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
                                 used ? ", " : "", name);
        if (used >= outlen) {
            break;
        }
    }
}

/* The header and its extensions in cluster 0 (buf, cluster_size bytes). */
static bool parse_header(Qcow2 *s, const uint8_t *h, char *backing_fmt, size_t fmt_len, char *err,
                         size_t errlen)
{
    const char *n = s->name;
    if (be32_at(h) != QCOW2_MAGIC) {
        snprintf(err, errlen, "'%s': not a qcow2 image (bad magic)", n);
        return false;
    }
    s->version = be32_at(h + 4);
    if (s->version != 2 && s->version != 3) {
        snprintf(err, errlen, "'%s': qcow2 version %u is not supported (2 or 3)", n, s->version);
        return false;
    }
    if (be32_at(h + QH_CRYPT) != 0) {
        snprintf(err, errlen, "'%s': encrypted qcow2 images are not supported", n);
        return false;
    }
    s->size = be64_at(h + QH_SIZE);
    if (s->size > (1ull << 60)) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: disk size %llu is too large", n,
                 (unsigned long long)s->size);
        return false;
    }
    uint32_t hlen = QH_V2_LENGTH;
    s->refcount_order = 4;
    if (s->version == 3) {
        s->incompatible = be64_at(h + QH_INCOMPATIBLE);
        s->compatible = be64_at(h + QH_COMPATIBLE);
        s->autoclear = be64_at(h + QH_AUTOCLEAR);
        s->refcount_order = be32_at(h + QH_REFCOUNT_ORDER);
        hlen = be32_at(h + QH_HEADER_LENGTH);
        if (hlen < QH_V3_MIN_LENGTH || hlen > s->cluster_size || hlen % 8 != 0) {
            snprintf(err, errlen, "'%s': corrupt qcow2 header: header length %u", n, hlen);
            return false;
        }
        if (s->refcount_order > 6) {
            snprintf(err, errlen, "'%s': corrupt qcow2 header: refcount order %u (at most 6)", n,
                     s->refcount_order);
            return false;
        }
    }
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << s->refcount_order)) - 1;
    /* Extensions run from the header's end to the backing file name (or
     * the end of the cluster). */
    uint64_t backing_off = be64_at(h + QH_BACKING_OFFSET);
    uint32_t backing_len = be32_at(h + QH_BACKING_SIZE);
    uint64_t ext_end = backing_off ? backing_off : s->cluster_size;
    if (backing_off && (backing_len == 0 || backing_len > 1023 || backing_off < hlen ||
                        backing_off + backing_len > s->cluster_size)) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: backing file name at %llu+%u", n,
                 (unsigned long long)backing_off, backing_len);
        return false;
    }
    const uint8_t *features = NULL;
    uint32_t features_len = 0;
    for (uint64_t off = hlen; off + 8 <= ext_end;) {
        uint32_t type = be32_at(h + off), len = be32_at(h + off + 4);
        if (type == QCOW2_EXT_END) {
            break;
        }
        if (len > ext_end - off - 8) {
            snprintf(err, errlen, "'%s': corrupt qcow2 header: extension 0x%08x overruns", n, type);
            return false;
        }
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            snprintf(backing_fmt, fmt_len, "%.*s", (int)(len < fmt_len ? len : fmt_len - 1),
                     (const char *)h + off + 8);
        } else if (type == QCOW2_EXT_FEATURE_TABLE) {
            features = h + off + 8;
            features_len = len;
        }
        off += 8 + ((len + 7ull) & ~7ull);
    }
    uint64_t bad = s->incompatible & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
    if (hlen > QH_COMPRESSION_TYPE && h[QH_COMPRESSION_TYPE] != 0) {
        bad |= 1ull << 3; /* zstd: popek inflates zlib only */
    }
    if (bad) {
        char names[256];
        unsupported_features(bad, features, features_len, names, sizeof(names));
        snprintf(err, errlen, "'%s': unsupported qcow2 feature(s): %s", n, names);
        return false;
    }
    return true;
}

/* Read the L1 and refcount tables, checking each offset they hold. */
static bool read_tables(Qcow2 *s, const uint8_t *h, char *err, size_t errlen)
{
    const char *n = s->name;
    s->l1_size = be32_at(h + QH_L1_SIZE);
    s->l1_offset = be64_at(h + QH_L1_OFFSET);
    uint64_t l2_cover = s->cluster_size << s->l2_bits;
    uint64_t need = (s->size + l2_cover - 1) / l2_cover;
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES || s->l1_size < need) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: L1 table size %u (disk needs %llu)", n,
                 s->l1_size, (unsigned long long)need);
        return false;
    }
    if (s->l1_size && !qcow2_range_ok(s, s->l1_offset, (uint64_t)s->l1_size * 8)) {
        snprintf(err, errlen, "'%s': L1 table at 0x%llx is past the end of the file or misaligned",
                 n, (unsigned long long)s->l1_offset);
        return false;
    }
    s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
    if (!s->l1) {
        snprintf(err, errlen, "'%s': out of memory", n);
        return false;
    }
    uint8_t *raw = malloc(s->l1_size ? (size_t)s->l1_size * 8 : 1);
    if (!raw || (s->l1_size &&
                 block_file_io(s->fd, raw, (size_t)s->l1_size * 8, s->l1_offset, false) < 0)) {
        free(raw);
        snprintf(err, errlen, "'%s': cannot read the L1 table", n);
        return false;
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        s->l1[i] = be64_at(raw + 8 * i);
        uint64_t l2 = s->l1[i] & QCOW2_OFFSET_MASK;
        if (l2 && !qcow2_range_ok(s, l2, s->cluster_size)) {
            free(raw);
            snprintf(err, errlen, "'%s': corrupt L1 table: entry %u points to 0x%llx", n, i,
                     (unsigned long long)l2);
            return false;
        }
    }
    free(raw);

    s->reftable_offset = be64_at(h + QH_REFTABLE_OFFSET);
    uint64_t rt_clusters = be32_at(h + QH_REFTABLE_CLUSTERS);
    if (rt_clusters == 0 || rt_clusters * s->cluster_size > QCOW2_MAX_REFTABLE_BYTES ||
        !qcow2_range_ok(s, s->reftable_offset, rt_clusters * s->cluster_size)) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: refcount table at 0x%llx, %llu clusters",
                 n, (unsigned long long)s->reftable_offset, (unsigned long long)rt_clusters);
        return false;
    }
    s->reftable_entries = rt_clusters * s->cluster_size / 8;
    s->reftable = calloc(s->reftable_entries, 8);
    raw = malloc(rt_clusters * s->cluster_size);
    if (!s->reftable || !raw ||
        block_file_io(s->fd, raw, rt_clusters * s->cluster_size, s->reftable_offset, false) < 0) {
        free(raw);
        snprintf(err, errlen, "'%s': cannot read the refcount table", n);
        return false;
    }
    for (uint64_t i = 0; i < s->reftable_entries; i++) {
        s->reftable[i] = be64_at(raw + 8 * i);
        if (s->reftable[i] &&
            ((s->reftable[i] & 511) != 0 || !qcow2_range_ok(s, s->reftable[i], s->cluster_size))) {
            free(raw);
            snprintf(err, errlen, "'%s': corrupt refcount table: entry %llu points to 0x%llx", n,
                     (unsigned long long)i, (unsigned long long)s->reftable[i]);
            return false;
        }
    }
    free(raw);
    return true;
}

/* Open the backing file named in the header, relative to this image's
 * directory, read-only. */
static bool open_backing(Qcow2 *s, const uint8_t *h, const char *fmt, const BlockChain *chain,
                         char *err, size_t errlen)
{
    uint64_t off = be64_at(h + QH_BACKING_OFFSET);
    uint32_t len = be32_at(h + QH_BACKING_SIZE);
    if (!off) {
        return true;
    }
    char name[1024], path[4096];
    memcpy(name, h + off, len);
    name[len] = '\0';
    const char *slash = strrchr(s->name, '/');
    if (name[0] == '/' || !slash) {
        snprintf(path, sizeof(path), "%s", name);
    } else {
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - s->name), s->name, name);
    }
    if (fmt[0] && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
        snprintf(err, errlen, "'%s': backing file '%s' has format '%s' (popek reads raw and qcow2)",
                 s->name, path, fmt);
        return false;
    }
    char inner[512];
    s->node.backing =
        block_node_open(path, fmt[0] ? fmt : NULL, true, true, chain, NULL, inner, sizeof(inner));
    if (!s->node.backing) {
        snprintf(err, errlen, "'%s': backing file: %s", s->name, inner);
        return false;
    }
    return true;
}

BlockNode *qcow2_open_fd(int fd, const char *name, bool read_only, const BlockChain *chain,
                         char *err, size_t errlen)
{
    Qcow2 *s = calloc(1, sizeof(*s));
    uint8_t head[QH_V3_MIN_LENGTH + 8];
    uint8_t *cluster0 = NULL;
    char backing_fmt[32] = "";
    if (!s || !(s->name = strdup(name))) {
        free(s);
        snprintf(err, errlen, "'%s': out of memory", name);
        return NULL;
    }
    s->fd = fd;
    s->writable = !read_only;
    off_t end = lseek(fd, 0, SEEK_END);
    s->file_size = end > 0 ? (uint64_t)end : 0;
    if (block_file_read_zero_tail(fd, head, sizeof(head), 0) < 0 || s->file_size < QH_V2_LENGTH) {
        snprintf(err, errlen, "'%s': not a qcow2 image (too short)", name);
        goto fail;
    }
    s->cluster_bits = be32_at(head + QH_CLUSTER_BITS);
    if (be32_at(head) != QCOW2_MAGIC) {
        snprintf(err, errlen, "'%s': not a qcow2 image (bad magic)", name);
        goto fail;
    }
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: cluster bits %u (9 to 21)", name,
                 s->cluster_bits);
        goto fail;
    }
    s->cluster_size = 1ull << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    cluster0 = malloc(s->cluster_size);
    if (!cluster0 || block_file_read_zero_tail(fd, cluster0, s->cluster_size, 0) < 0) {
        snprintf(err, errlen, "'%s': cannot read the qcow2 header", name);
        goto fail;
    }
    if (!parse_header(s, cluster0, backing_fmt, sizeof(backing_fmt), err, errlen) ||
        !read_tables(s, cluster0, err, errlen) || !qcow2_snapshots_read(s, err, errlen)) {
        goto fail;
    }
    s->cluster_buf = malloc(s->cluster_size);
    s->zbuf = malloc(s->cluster_size);
    s->zin = malloc(2 * s->cluster_size);
    s->rb = malloc(s->cluster_size);
    s->l2_slots = (unsigned)((8u << 20) >> s->cluster_bits);
    s->l2_slots = s->l2_slots < 2 ? 2 : s->l2_slots > QCOW2_L2_SLOTS ? QCOW2_L2_SLOTS : s->l2_slots;
    if (!s->cluster_buf || !s->zbuf || !s->zin || !s->rb) {
        snprintf(err, errlen, "'%s': out of memory", name);
        goto fail;
    }
    s->next_free = (s->file_size + s->cluster_size - 1) >> s->cluster_bits;
    if (s->writable && (s->incompatible & QCOW2_INCOMPAT_CORRUPT)) {
        snprintf(err, errlen,
                 "'%s': the qcow2 image is marked corrupt (qemu-img check -r all repairs it; "
                 "readonly=on opens it as it is)",
                 name);
        goto fail;
    }
    if (s->writable && (s->incompatible & QCOW2_INCOMPAT_DIRTY) &&
        !qcow2_rebuild_refcounts(s, err, errlen)) {
        goto fail;
    }
    if (s->writable && s->autoclear) {
        /* Features popek does not keep up to date (persistent bitmaps) are
         * marked stale, as the specification asks of a writer. */
        uint8_t zero[8] = {0};
        if (qcow2_write_header_field(s, QH_AUTOCLEAR, zero, 8) < 0) {
            snprintf(err, errlen, "'%s': cannot write the qcow2 header", name);
            goto fail;
        }
        s->autoclear = 0;
    }
    s->lazy = s->writable && s->version == 3 && (s->compatible & QCOW2_COMPAT_LAZY);
    if (s->lazy && qcow2_set_dirty(s, true) < 0) {
        snprintf(err, errlen, "'%s': cannot write the qcow2 header", name);
        goto fail;
    }
    if (!open_backing(s, cluster0, backing_fmt, chain, err, errlen)) {
        if (s->lazy) {
            qcow2_set_dirty(s, false);
        }
        goto fail;
    }
    free(cluster0);
    s->node.format = "qcow2";
    s->node.close = qcow2_close;
    s->node.dev = (BlockDev){
        s,          s->size / BLOCK_SECTOR_SIZE, read_only, qcow2_guest_read, qcow2_guest_write,
        qcow2_flush};
    return &s->node;
fail:
    free(cluster0);
    block_node_close(s->node.backing);
    qcow2_free_state(s);
    return NULL;
}

BlockNode *qcow2_open(const char *path, bool read_only, bool lock, const BlockChain *chain,
                      char *err, size_t errlen)
{
    uint64_t size;
    int fd = block_file_open(path, !read_only, lock, &size, err, errlen);
    if (fd < 0) {
        return NULL;
    }
    BlockNode *n = qcow2_open_fd(fd, path, read_only, chain, err, errlen);
    if (!n) {
        close(fd);
    }
    return n;
}
