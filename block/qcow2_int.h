/*
 * What the qcow2 files share (see qcow2.h): the on-disk layout's numbers
 * and the open image's state.
 */
#ifndef BLOCK_QCOW2_INT_H
#define BLOCK_QCOW2_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/node.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* Header fields' byte offsets (all big-endian). */
enum {
    QH_BACKING_OFFSET = 8,
    QH_BACKING_SIZE = 16,
    QH_CLUSTER_BITS = 20,
    QH_SIZE = 24,
    QH_CRYPT = 32,
    QH_L1_SIZE = 36,
    QH_L1_OFFSET = 40,
    QH_REFTABLE_OFFSET = 48,
    QH_REFTABLE_CLUSTERS = 56,
    QH_NB_SNAPSHOTS = 60,
    QH_SNAPSHOTS_OFFSET = 64,
    QH_INCOMPATIBLE = 72, /* version 3 from here */
    QH_COMPATIBLE = 80,
    QH_AUTOCLEAR = 88,
    QH_REFCOUNT_ORDER = 96,
    QH_HEADER_LENGTH = 100,
    QH_COMPRESSION_TYPE = 104,
    QH_V2_LENGTH = 72,
    QH_V3_MIN_LENGTH = 104,
};

#define QCOW2_INCOMPAT_DIRTY   (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_COMPAT_LAZY      (1ull << 0)

/* Header extension types. */
#define QCOW2_EXT_END            0u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u

/* L1 and L2 entries. */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55: a host offset */
#define QCOW2_COPIED      (1ull << 63)          /* refcount is exactly 1 */
#define QCOW2_COMPRESSED  (1ull << 62)
#define QCOW2_ZERO        1ull /* version 3: the cluster reads as zeros */

/* Limits as QEMU's: clusters of 512 B to 2 MiB, L1 table up to 32 MiB,
 * refcount table up to 8 MiB, 65536 snapshots. */
#define QCOW2_MIN_CLUSTER_BITS   9
#define QCOW2_MAX_CLUSTER_BITS   21
#define QCOW2_MAX_L1_BYTES       (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS      65536u

/* What an L2 entry says about its guest cluster. */
typedef enum {
    QCOW2_UNALLOCATED,  /* read from the backing file, or zeros */
    QCOW2_ZERO_PLAIN,   /* zeros, no host cluster */
    QCOW2_ZERO_ALLOC,   /* zeros, host cluster kept for the next write */
    QCOW2_NORMAL,       /* data at the host offset */
    QCOW2_COMPRESSED_C, /* deflated data somewhere in the file */
} Qcow2ClusterType;

typedef struct Qcow2Snapshot {
    uint64_t l1_offset; /* its copy of the L1 table */
    uint32_t l1_size;   /* entries */
    char *id;           /* unique id string ("1", "2", ...) */
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_ns;
    uint64_t vm_state_size; /* bytes of VM state after the disk in its tables */
    uint64_t disk_size;     /* the guest disk's size when taken */
    uint32_t extra_size;    /* extra data bytes, kept as read */
    uint8_t *extra;
} Qcow2Snapshot;

/* One cached L2 table (big-endian, as on disk). */
typedef struct Qcow2L2Slot {
    uint64_t offset; /* host offset, 0: empty slot */
    uint64_t *table;
    uint64_t used; /* LRU stamp */
    bool dirty;    /* changed since written: qcow2_meta_flush writes it */
} Qcow2L2Slot;

/* Clusters to release once the tables that stopped using them are on disk. */
typedef struct Qcow2Release {
    uint64_t offset, bytes;
} Qcow2Release;

#define QCOW2_MAX_RELEASES 4096

#define QCOW2_L2_SLOTS 16

typedef struct Qcow2 {
    BlockNode node; /* first: node.backing is the backing image */
    int fd;
    char *name; /* the file's name, for messages */
    bool writable;
    uint32_t version; /* 2 or 3 */
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;   /* log2 of entries per L2 table */
    uint64_t size;      /* the guest disk, bytes */
    uint64_t file_size; /* the file's end as we know it */
    uint64_t next_free; /* cluster index: where allocation next looks */
    uint64_t *l1;       /* the active L1 table (host order) */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *reftable; /* refcount table (host order) */
    uint64_t reftable_entries;
    uint64_t reftable_offset;
    uint32_t refcount_order; /* refcounts are 1 << order bits wide */
    uint64_t refcount_max;
    uint64_t incompatible, compatible, autoclear;
    bool lazy; /* lazy refcounts in force: no ordering syncs */
    Qcow2Snapshot *snapshots;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_bytes;
    Qcow2L2Slot l2[QCOW2_L2_SLOTS];
    unsigned l2_slots; /* in use: fewer for large clusters */
    uint64_t l2_clock;
    uint8_t *rb;                           /* cached refcount block */
    uint64_t rb_offset;                    /* its host offset, 0: none */
    uint8_t *cluster_buf;                  /* a cluster of scratch for copy-on-write */
    uint8_t *zbuf;                         /* decompressed cluster */
    uint64_t zbuf_entry;                   /* the L2 entry it came from, 0: none */
    uint8_t *zin;                          /* compressed input, two clusters */
    bool reported;                         /* corruption reported once on stderr */
    uint32_t l1_dirty_first, l1_dirty_end; /* L1 entries to write at the next flush */
    Qcow2Release *releases;                /* waiting for the next flush */
    size_t nreleases;
} Qcow2;

static inline uint64_t be64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}
static inline uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) {
        p[i] = (uint8_t)v;
    }
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Is [off, off + len) a cluster-aligned range inside the file? */
static inline bool qcow2_range_ok(const Qcow2 *s, uint64_t off, uint64_t len)
{
    return (off & (s->cluster_size - 1)) == 0 && off <= s->file_size && len <= s->file_size - off;
}

/* qcow2.c */
int qcow2_sync(Qcow2 *s);       /* fdatasync */
int qcow2_order(Qcow2 *s);      /* an ordering sync (none under lazy refcounts) */
int qcow2_meta_flush(Qcow2 *s); /* tables to disk in order, then sync */
int qcow2_release_later(Qcow2 *s, uint64_t offset, uint64_t bytes);
int qcow2_write_header_field(Qcow2 *s, unsigned off, const void *bytes, size_t len);
int qcow2_corrupt(Qcow2 *s, const char *what, uint64_t value); /* report once; -EIO */

/* qcow2_cluster.c */
Qcow2ClusterType qcow2_entry_type(const Qcow2 *s, uint64_t l2e);
int qcow2_l2_load(Qcow2 *s, uint64_t l2_offset, uint64_t **table);
int qcow2_l2_store(Qcow2 *s, uint64_t l2_offset, const uint64_t *table, unsigned first, unsigned n);
int qcow2_read_bytes(Qcow2 *s, const uint64_t *l1, uint32_t l1_size, uint64_t off, uint8_t *buf,
                     uint64_t len);
int qcow2_write_l1(Qcow2 *s, uint32_t first, uint32_t n);
int qcow2_guest_read(void *opaque, uint64_t sector, void *buf, uint32_t count);
int qcow2_guest_write(void *opaque, uint64_t sector, const void *buf, uint32_t count);
/* The host clusters a compressed entry's data touches. */
void qcow2_compressed_range(const Qcow2 *s, uint64_t l2e, uint64_t *off, uint64_t *len);

/* qcow2_refcount.c */
int qcow2_refcount_get(Qcow2 *s, uint64_t cluster, uint64_t *value);
int qcow2_refcount_add(Qcow2 *s, uint64_t cluster, uint64_t n, int delta);
int qcow2_alloc(Qcow2 *s, uint64_t n, uint64_t *offset);   /* n clusters, refcount 1 */
int qcow2_free(Qcow2 *s, uint64_t offset, uint64_t bytes); /* refcount -1 over a range */
int qcow2_table_refs(Qcow2 *s, const uint64_t *l1, uint32_t l1_size, int delta);
int qcow2_fix_copied(Qcow2 *s);
bool qcow2_rebuild_refcounts(Qcow2 *s, char *err, size_t errlen);

/* qcow2_snapshot.c */
bool qcow2_snapshots_read(Qcow2 *s, char *err, size_t errlen);
void qcow2_snapshots_free(Qcow2 *s);
int qcow2_snapshot_find(const Qcow2 *s, const char *name_or_id); /* index or -1 */
bool qcow2_snapshot_create(Qcow2 *s, const char *name, const void *vmstate, uint64_t len,
                           uint64_t vm_clock_ns, char *err, size_t errlen);
bool qcow2_snapshot_read_vmstate(Qcow2 *s, int index, void **vmstate, uint64_t *len, char *err,
                                 size_t errlen);
bool qcow2_snapshot_apply(Qcow2 *s, int index, char *err, size_t errlen);
bool qcow2_snapshot_delete(Qcow2 *s, int index, char *err, size_t errlen);

#endif /* BLOCK_QCOW2_INT_H */
