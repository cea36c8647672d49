/*
 * qcow2 internal snapshots: the snapshot table, and taking, applying and
 * deleting snapshots (see qcow2.h and block/snapshot.h).
 *
 * A snapshot is a copy of the L1 table with one more reference on every L2
 * table and cluster it reaches, so the active image copies them on write.
 * Its VM state lives, as QEMU puts it, in the snapshot's own tables just
 * past the disk: from the first L1 entry after the one covering the disk's
 * end.  Order on disk: the new counts (synced), then the tables, then the
 * snapshot table and the header fields naming it (synced either side);
 * what a snapshot no longer uses is released last.  A crash while taking
 * a snapshot leaks clusters at worst.  Applying or deleting one ends by
 * recomputing the active tables' COPIED flags from the new counts: a crash
 * between the two leaves flags that qemu-img check reports (and check -r
 * repairs), never a cluster counted less often than it is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/file.h"
#include "block/qcow2_int.h"

#define SNAPSHOT_FIXED     40   /* bytes before the extra data */
#define SNAPSHOT_MAX_EXTRA 1024 /* as QEMU */
#define SNAPSHOT_TABLE_MAX (64u << 20)

void qcow2_snapshots_free(Qcow2 *s)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        free(s->snapshots[i].id);
        free(s->snapshots[i].name);
        free(s->snapshots[i].extra);
    }
    free(s->snapshots);
    s->snapshots = NULL;
    s->nb_snapshots = 0;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

bool qcow2_snapshots_read(Qcow2 *s, char *err, size_t errlen)
{
    const char *n = s->name;
    uint8_t hdr[12];
    if (block_file_io(s->fd, hdr, sizeof(hdr), QH_NB_SNAPSHOTS, false) < 0) {
        snprintf(err, errlen, "'%s': cannot read the qcow2 header", n);
        return false;
    }
    uint32_t nb = be32_at(hdr);
    uint64_t off = be64_at(hdr + 4);
    s->snapshots_offset = off;
    if (nb == 0) {
        return true;
    }
    if (nb > QCOW2_MAX_SNAPSHOTS || !qcow2_range_ok(s, off, 0) || off == 0) {
        snprintf(err, errlen, "'%s': corrupt qcow2 header: %u snapshots at 0x%llx", n, nb,
                 (unsigned long long)off);
        return false;
    }
    s->snapshots = calloc(nb, sizeof(*s->snapshots));
    if (!s->snapshots) {
        snprintf(err, errlen, "'%s': out of memory", n);
        return false;
    }
    uint64_t pos = off;
    uint8_t fixed[SNAPSHOT_FIXED];
    for (uint32_t i = 0; i < nb; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        s->nb_snapshots = i + 1; /* what to free on failure */
        if (pos + SNAPSHOT_FIXED > s->file_size || pos - off > SNAPSHOT_TABLE_MAX ||
            block_file_io(s->fd, fixed, sizeof(fixed), pos, false) < 0) {
            snprintf(err, errlen,
                     "'%s': corrupt snapshot table: entry %u is past the end of the file", n, i);
            return false;
        }
        sn->l1_offset = be64_at(fixed);
        sn->l1_size = be32_at(fixed + 8);
        uint16_t id_len = be16_at(fixed + 12), name_len = be16_at(fixed + 14);
        sn->date_sec = be32_at(fixed + 16);
        sn->date_nsec = be32_at(fixed + 20);
        sn->vm_clock_ns = be64_at(fixed + 24);
        sn->vm_state_size = be32_at(fixed + 32);
        sn->extra_size = be32_at(fixed + 36);
        sn->disk_size = s->size;
        uint64_t body = (uint64_t)sn->extra_size + id_len + name_len;
        if (sn->extra_size > SNAPSHOT_MAX_EXTRA || pos + SNAPSHOT_FIXED + body > s->file_size) {
            snprintf(err, errlen, "'%s': corrupt snapshot table: entry %u overruns the file", n, i);
            return false;
        }
        if (s->version >= 3 && sn->extra_size < 16) {
            snprintf(err, errlen, "'%s': corrupt snapshot table: entry %u lacks its extra data", n,
                     i);
            return false;
        }
        uint8_t *rest = malloc(body + 1);
        if (!rest || block_file_io(s->fd, rest, body, pos + SNAPSHOT_FIXED, false) < 0) {
            free(rest);
            snprintf(err, errlen, "'%s': cannot read the snapshot table", n);
            return false;
        }
        sn->extra = malloc(sn->extra_size + 1);
        sn->id = dup_bytes(rest + sn->extra_size, id_len);
        sn->name = dup_bytes(rest + sn->extra_size + id_len, name_len);
        if (sn->extra) {
            memcpy(sn->extra, rest, sn->extra_size);
        }
        free(rest);
        if (!sn->extra || !sn->id || !sn->name) {
            snprintf(err, errlen, "'%s': out of memory", n);
            return false;
        }
        if (sn->extra_size >= 8) {
            sn->vm_state_size = be64_at(sn->extra);
        }
        if (sn->extra_size >= 16) {
            sn->disk_size = be64_at(sn->extra + 8);
        }
        if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
            (sn->l1_size && !qcow2_range_ok(s, sn->l1_offset, (uint64_t)sn->l1_size * 8))) {
            snprintf(err, errlen,
                     "'%s': corrupt snapshot table: snapshot '%s' has its L1 table at 0x%llx past "
                     "the end of the file",
                     n, sn->name, (unsigned long long)sn->l1_offset);
            return false;
        }
        pos += (SNAPSHOT_FIXED + body + 7) & ~7ull;
    }
    s->snapshots_bytes = pos - off;
    return true;
}

int qcow2_snapshot_find(const Qcow2 *s, const char *name_or_id)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].id, name_or_id)) {
            return (int)i;
        }
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].name, name_or_id)) {
            return (int)i;
        }
    }
    return -1;
}

/* Write the in-memory table to new clusters and point the header at it,
 * then release the old table. */
static int write_table(Qcow2 *s)
{
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &s->snapshots[i];
        bytes += (SNAPSHOT_FIXED + sn->extra_size + strlen(sn->id) + strlen(sn->name) + 7) & ~7ull;
    }
    if (bytes > SNAPSHOT_TABLE_MAX) {
        return -EFBIG;
    }
    uint8_t *buf = calloc(bytes ? bytes : 1, 1);
    if (!buf) {
        return -ENOMEM;
    }
    uint64_t pos = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &s->snapshots[i];
        uint8_t *p = buf + pos;
        size_t id_len = strlen(sn->id), name_len = strlen(sn->name);
        put_be64(p, sn->l1_offset);
        put_be32(p + 8, sn->l1_size);
        put_be16(p + 12, (uint16_t)id_len);
        put_be16(p + 14, (uint16_t)name_len);
        put_be32(p + 16, sn->date_sec);
        put_be32(p + 20, sn->date_nsec);
        put_be64(p + 24, sn->vm_clock_ns);
        put_be32(p + 32, sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
        put_be32(p + 36, sn->extra_size);
        memcpy(p + SNAPSHOT_FIXED, sn->extra, sn->extra_size);
        memcpy(p + SNAPSHOT_FIXED + sn->extra_size, sn->id, id_len);
        memcpy(p + SNAPSHOT_FIXED + sn->extra_size + id_len, sn->name, name_len);
        pos += (SNAPSHOT_FIXED + sn->extra_size + id_len + name_len + 7) & ~7ull;
    }
    uint64_t at = 0;
    int r = 0;
    if (bytes) {
        r = qcow2_alloc(s, (bytes + s->cluster_size - 1) >> s->cluster_bits, &at);
        if (r == 0) {
            r = block_file_io(s->fd, buf, bytes, at, true);
        }
    }
    free(buf);
    if (r == 0) {
        r = qcow2_sync(s);
    }
    uint8_t hdr[12];
    put_be32(hdr, s->nb_snapshots);
    put_be64(hdr + 4, at);
    if (r == 0) {
        r = qcow2_write_header_field(s, QH_NB_SNAPSHOTS, hdr, sizeof(hdr));
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r < 0) {
        return r;
    }
    uint64_t old = s->snapshots_offset, old_bytes = s->snapshots_bytes;
    s->snapshots_offset = at;
    s->snapshots_bytes = bytes;
    return old && old_bytes ? qcow2_free(s, old, old_bytes) : 0;
}

/* L1 entries covering the guest disk (the VM state starts after them). */
static uint32_t disk_l1_entries(const Qcow2 *s, uint64_t disk_size)
{
    uint64_t cover = s->cluster_size << s->l2_bits;
    return (uint32_t)((disk_size + cover - 1) / cover);
}

static uint64_t *read_l1(Qcow2 *s, uint64_t offset, uint32_t n)
{
    uint64_t *l1 = calloc(n ? n : 1, 8);
    uint8_t *raw = malloc(n ? (size_t)n * 8 : 1);
    if (!l1 || !raw || (n && block_file_io(s->fd, raw, (size_t)n * 8, offset, false) < 0)) {
        free(l1);
        free(raw);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        l1[i] = be64_at(raw + 8 * i);
    }
    free(raw);
    return l1;
}

static int write_l1_at(Qcow2 *s, const uint64_t *l1, uint32_t n, uint64_t offset)
{
    uint8_t *raw = malloc(n ? (size_t)n * 8 : 1);
    if (!raw) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        put_be64(raw + 8 * i, l1[i]);
    }
    int r = block_file_io(s->fd, raw, (size_t)n * 8, offset, true);
    free(raw);
    return r;
}

static void fail(char *err, size_t errlen, const Qcow2 *s, const char *what, int r)
{
    snprintf(err, errlen, "'%s': %s: %s", s->name, what,
             r == -ERANGE ? "refcount overflow" : strerror(-r));
}

bool qcow2_snapshot_create(Qcow2 *s, const char *name, const void *vmstate, uint64_t len,
                           uint64_t vm_clock_ns, char *err, size_t errlen)
{
    if (!s->writable) {
        snprintf(err, errlen, "'%s': the image is read-only", s->name);
        return false;
    }
    if (strlen(name) > 1024 || s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        snprintf(err, errlen, "'%s': snapshot name too long or too many snapshots", s->name);
        return false;
    }
    uint64_t cs = s->cluster_size, cover = cs << s->l2_bits;
    uint32_t dl1 = disk_l1_entries(s, s->size);
    uint64_t vm_l2 = (len + cover - 1) / cover, vm_data = (len + cs - 1) / cs;
    uint64_t sn_l1_size = dl1 + vm_l2 > s->l1_size ? dl1 + vm_l2 : s->l1_size;
    if (sn_l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        snprintf(err, errlen, "'%s': VM state of %llu bytes is too large", s->name,
                 (unsigned long long)len);
        return false;
    }
    uint64_t *l1 = calloc(sn_l1_size ? sn_l1_size : 1, 8);
    uint64_t *l2 = calloc(1, cs);
    Qcow2Snapshot *grown = realloc(s->snapshots, (s->nb_snapshots + 1) * sizeof(*grown));
    if (!l1 || !l2 || !grown) {
        free(l1);
        free(l2);
        snprintf(err, errlen, "'%s': out of memory", s->name);
        return false;
    }
    s->snapshots = grown;
    int r = qcow2_meta_flush(s); /* everything the guest wrote is in before the copy */
    /* The VM state: data clusters, then the L2 tables naming them. */
    uint64_t data = 0, tables = 0, l1_at = 0;
    if (r == 0 && vm_data) {
        r = qcow2_alloc(s, vm_data, &data);
    }
    if (r == 0 && len) {
        r = block_file_io(s->fd, (void *)vmstate, len, data, true);
    }
    if (r == 0 && vm_l2) {
        r = qcow2_alloc(s, vm_l2, &tables);
    }
    for (uint64_t t = 0; r == 0 && t < vm_l2; t++) {
        memset(l2, 0, cs);
        for (uint64_t j = 0; j < (1ull << s->l2_bits); j++) {
            uint64_t c = (t << s->l2_bits) + j;
            if (c < vm_data) {
                put_be64((uint8_t *)&l2[j], data + c * cs);
            }
        }
        r = block_file_io(s->fd, l2, cs, tables + t * cs, true);
        l1[dl1 + t] = tables + t * cs;
    }
    for (uint32_t i = 0; i < dl1 && i < s->l1_size; i++) {
        l1[i] = s->l1[i] & ~QCOW2_COPIED;
    }
    if (r == 0) {
        r = qcow2_alloc(s, (sn_l1_size * 8 + cs - 1) / cs, &l1_at);
    }
    if (r == 0) {
        r = write_l1_at(s, l1, (uint32_t)sn_l1_size, l1_at);
    }
    /* The disk's tables gain a reference, then lose their COPIED flags. */
    if (r == 0) {
        r = qcow2_table_refs(s, s->l1, dl1 < s->l1_size ? dl1 : s->l1_size, 1);
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        r = qcow2_fix_copied(s);
    }
    if (r == 0) {
        r = qcow2_meta_flush(s); /* flags cleared before the snapshot exists */
    }
    free(l1);
    free(l2);
    if (r < 0) {
        fail(err, errlen, s, "cannot create the snapshot", r);
        return false;
    }
    Qcow2Snapshot *sn = &s->snapshots[s->nb_snapshots];
    memset(sn, 0, sizeof(*sn));
    unsigned long max_id = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        unsigned long v = strtoul(s->snapshots[i].id, NULL, 10);
        max_id = v > max_id ? v : max_id;
    }
    char id[24];
    snprintf(id, sizeof(id), "%lu", max_id + 1);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sn->l1_offset = l1_at;
    sn->l1_size = (uint32_t)sn_l1_size;
    sn->id = strdup(id);
    sn->name = strdup(name);
    sn->date_sec = (uint32_t)now.tv_sec;
    sn->date_nsec = (uint32_t)now.tv_nsec;
    sn->vm_clock_ns = vm_clock_ns;
    sn->vm_state_size = len;
    sn->disk_size = s->size;
    sn->extra_size = 16;
    sn->extra = malloc(16);
    if (!sn->id || !sn->name || !sn->extra) {
        free(sn->id);
        free(sn->name);
        free(sn->extra);
        snprintf(err, errlen, "'%s': out of memory", s->name);
        return false;
    }
    put_be64(sn->extra, len);
    put_be64(sn->extra + 8, s->size);
    s->nb_snapshots++;
    r = write_table(s);
    if (r < 0) {
        s->nb_snapshots--;
        free(sn->id);
        free(sn->name);
        free(sn->extra);
        fail(err, errlen, s, "cannot write the snapshot table", r);
        return false;
    }
    return true;
}

bool qcow2_snapshot_read_vmstate(Qcow2 *s, int index, void **vmstate, uint64_t *len, char *err,
                                 size_t errlen)
{
    const Qcow2Snapshot *sn = &s->snapshots[index];
    uint64_t cover = s->cluster_size << s->l2_bits;
    *vmstate = NULL;
    *len = sn->vm_state_size;
    if (sn->vm_state_size > s->file_size + cover) {
        snprintf(err, errlen, "'%s': corrupt snapshot '%s': VM state of %llu bytes", s->name,
                 sn->name, (unsigned long long)sn->vm_state_size);
        return false;
    }
    uint64_t *l1 = read_l1(s, sn->l1_offset, sn->l1_size);
    uint8_t *buf = malloc(sn->vm_state_size ? sn->vm_state_size : 1);
    int r = l1 && buf ? 0 : -ENOMEM;
    for (uint32_t i = 0; r == 0 && i < sn->l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (l2 && !qcow2_range_ok(s, l2, s->cluster_size)) {
            r = qcow2_corrupt(s, "snapshot L1 entry", l2);
        }
    }
    if (r == 0) {
        r = qcow2_read_bytes(s, l1, sn->l1_size,
                             (uint64_t)disk_l1_entries(s, sn->disk_size) * cover, buf,
                             sn->vm_state_size);
    }
    free(l1);
    if (r < 0) {
        free(buf);
        fail(err, errlen, s, "cannot read the snapshot's VM state", r);
        return false;
    }
    *vmstate = buf;
    return true;
}

bool qcow2_snapshot_apply(Qcow2 *s, int index, char *err, size_t errlen)
{
    const Qcow2Snapshot *sn = &s->snapshots[index];
    if (!s->writable) {
        snprintf(err, errlen, "'%s': the image is read-only", s->name);
        return false;
    }
    if (sn->disk_size != s->size) {
        snprintf(err, errlen, "'%s': snapshot '%s' has a disk of %llu bytes, the image %llu",
                 s->name, sn->name, (unsigned long long)sn->disk_size, (unsigned long long)s->size);
        return false;
    }
    uint32_t dl1 = disk_l1_entries(s, s->size);
    uint64_t *sl1 = read_l1(s, sn->l1_offset, sn->l1_size);
    uint64_t *old = malloc((size_t)s->l1_size * 8 + 8);
    if (!sl1 || !old) {
        free(sl1);
        free(old);
        snprintf(err, errlen, "'%s': out of memory", s->name);
        return false;
    }
    uint32_t take = dl1 < sn->l1_size ? dl1 : sn->l1_size;
    int r = 0;
    for (uint32_t i = 0; i < take; i++) {
        uint64_t l2 = sl1[i] & QCOW2_OFFSET_MASK;
        if (l2 && !qcow2_range_ok(s, l2, s->cluster_size)) {
            r = qcow2_corrupt(s, "snapshot L1 entry", l2);
        }
    }
    if (r == 0) {
        r = qcow2_meta_flush(s);
    }
    if (r == 0) {
        r = qcow2_table_refs(s, sl1, take, 1);
    }
    if (r == 0) {
        r = qcow2_sync(s);
    }
    if (r == 0) {
        memcpy(old, s->l1, (size_t)s->l1_size * 8);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            s->l1[i] = i < take ? sl1[i] & ~QCOW2_COPIED : 0;
        }
        r = qcow2_write_l1(s, 0, s->l1_size);
        if (r == 0) {
            r = qcow2_sync(s);
        }
        if (r == 0) {
            r = qcow2_table_refs(s, old, s->l1_size, -1);
        }
        if (r == 0) {
            r = qcow2_fix_copied(s);
        }
        if (r == 0) {
            r = qcow2_meta_flush(s);
        }
        s->zbuf_entry = 0;
    }
    free(sl1);
    free(old);
    if (r < 0) {
        fail(err, errlen, s, "cannot apply the snapshot", r);
        return false;
    }
    return true;
}

bool qcow2_snapshot_delete(Qcow2 *s, int index, char *err, size_t errlen)
{
    if (!s->writable) {
        snprintf(err, errlen, "'%s': the image is read-only", s->name);
        return false;
    }
    Qcow2Snapshot gone = s->snapshots[index];
    uint64_t *l1 = read_l1(s, gone.l1_offset, gone.l1_size);
    if (!l1) {
        snprintf(err, errlen, "'%s': cannot read snapshot '%s'", s->name, gone.name);
        return false;
    }
    int r = qcow2_meta_flush(s);
    if (r < 0) {
        free(l1);
        fail(err, errlen, s, "cannot flush the image", r);
        return false;
    }
    memmove(&s->snapshots[index], &s->snapshots[index + 1],
            (s->nb_snapshots - index - 1) * sizeof(*s->snapshots));
    s->nb_snapshots--;
    r = write_table(s);
    if (r < 0) {
        memmove(&s->snapshots[index + 1], &s->snapshots[index],
                (s->nb_snapshots - index) * sizeof(*s->snapshots));
        s->snapshots[index] = gone;
        s->nb_snapshots++;
        free(l1);
        fail(err, errlen, s, "cannot write the snapshot table", r);
        return false;
    }
    for (uint32_t i = 0; r == 0 && i < gone.l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (l2 && !qcow2_range_ok(s, l2, s->cluster_size)) {
            r = qcow2_corrupt(s, "snapshot L1 entry", l2);
        }
    }
    if (r == 0) {
        r = qcow2_table_refs(s, l1, gone.l1_size, -1);
    }
    if (r == 0 && gone.l1_size) {
        r = qcow2_free(s, gone.l1_offset, (uint64_t)gone.l1_size * 8);
    }
    if (r == 0) {
        r = qcow2_fix_copied(s);
    }
    if (r == 0) {
        r = qcow2_meta_flush(s);
    }
    free(l1);
    free(gone.id);
    free(gone.name);
    free(gone.extra);
    if (r < 0) {
        fail(err, errlen, s, "cannot release the snapshot's clusters", r);
        return false;
    }
    return true;
}
