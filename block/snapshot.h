/*
 * Internal snapshots of a drive's image, for the monitor's savevm, loadvm,
 * delvm and info snapshots (QEMU's meaning): each snapshot is the disk as
 * it was, plus a VM-state blob the caller serialized, stored in the qcow2
 * image's snapshot table as QEMU stores them, so `qemu-img snapshot -l`
 * lists them and QEMU can load their disk state.
 *
 * Only a writable qcow2 image holds snapshots: a raw image, a read-only
 * drive, a -snapshot drive (its writes go to a throwaway overlay) and an
 * empty CD-ROM drive do not (block_snapshot_supported).  Snapshots are
 * found by id first, then by name, as QEMU does.  Every function returns
 * false (or -1) with a one-line message in err on failure, and leaves the
 * image consistent (`qemu-img check` clean) either way.
 *
 * Disk writes the guest has made are all in the snapshot: the caller stops
 * the guest (and its in-flight requests) first, as savevm does.
 */
#ifndef BLOCK_SNAPSHOT_H
#define BLOCK_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/drive.h"

typedef struct BlockSnapshotInfo {
    char id[32];            /* "1", "2", ... unique in the image */
    char name[256];         /* the name given (truncated here if longer) */
    uint64_t vm_state_size; /* bytes of the VM-state blob */
    uint32_t date_sec;      /* host time when taken (seconds since 1970) */
    uint32_t date_nsec;
    uint64_t vm_clock_ns; /* the guest clock when taken, as given */
} BlockSnapshotInfo;

/* Can this drive hold snapshots?  If not, why in err (one line). */
bool block_snapshot_supported(const Drive *d, char *err, size_t errlen);

/* The drive's snapshots in table order: a malloc'd array in *list (free()
 * it), and their count; -1 on error. */
int block_snapshot_list(const Drive *d, BlockSnapshotInfo **list, char *err, size_t errlen);

/* Take a snapshot named name with the VM state vmstate (len bytes, may be
 * 0).  A snapshot with that name (or id) already there is replaced, as
 * savevm does.  vm_clock_ns is recorded for info snapshots. */
bool block_snapshot_create(Drive *d, const char *name, const void *vmstate, size_t len,
                           uint64_t vm_clock_ns, char *err, size_t errlen);

/* Read the VM state of snapshot name_or_id (malloc'd into *vmstate, free()
 * it; *len bytes) and then put the disk back as it was when taken.  On
 * failure the disk is unchanged and *vmstate is NULL.  info (may be NULL)
 * receives the snapshot's entry. */
bool block_snapshot_load(Drive *d, const char *name_or_id, void **vmstate, size_t *len,
                         BlockSnapshotInfo *info, char *err, size_t errlen);

/* Delete snapshot name_or_id, releasing what only it used. */
bool block_snapshot_delete(Drive *d, const char *name_or_id, char *err, size_t errlen);

#endif /* BLOCK_SNAPSHOT_H */
