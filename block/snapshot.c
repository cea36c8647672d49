/*
 * Internal snapshots of a drive (see snapshot.h), over qcow2's snapshot
 * table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"
#include "block/snapshot.h"

/* The drive's qcow2 image when it can take snapshots. */
static Qcow2 *image_of(const Drive *d, char *err, size_t errlen)
{
    if (!d->top) {
        snprintf(err, errlen, "the drive has no image");
        return NULL;
    }
    if (d->top != d->image) {
        snprintf(err, errlen, "the drive writes to a -snapshot overlay, which has no snapshots");
        return NULL;
    }
    if (strcmp(d->image->format, "qcow2") != 0) {
        snprintf(err, errlen, "the drive's image format '%s' does not support snapshots",
                 d->image->format);
        return NULL;
    }
    Qcow2 *s = (Qcow2 *)d->image;
    if (!s->writable || d->blk.read_only) {
        snprintf(err, errlen, "'%s' is read-only", s->name);
        return NULL;
    }
    return s;
}

bool block_snapshot_supported(const Drive *d, char *err, size_t errlen)
{
    return image_of(d, err, errlen) != NULL;
}

static void fill_info(BlockSnapshotInfo *info, const Qcow2Snapshot *sn)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->id, sizeof(info->id), "%s", sn->id);
    snprintf(info->name, sizeof(info->name), "%s", sn->name);
    info->vm_state_size = sn->vm_state_size;
    info->date_sec = sn->date_sec;
    info->date_nsec = sn->date_nsec;
    info->vm_clock_ns = sn->vm_clock_ns;
}

int block_snapshot_list(const Drive *d, BlockSnapshotInfo **list, char *err, size_t errlen)
{
    Qcow2 *s = image_of(d, err, errlen);
    *list = NULL;
    if (!s) {
        return -1;
    }
    *list = calloc(s->nb_snapshots ? s->nb_snapshots : 1, sizeof(**list));
    if (!*list) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        fill_info(&(*list)[i], &s->snapshots[i]);
    }
    return (int)s->nb_snapshots;
}

bool block_snapshot_create(Drive *d, const char *name, const void *vmstate, size_t len,
                           uint64_t vm_clock_ns, char *err, size_t errlen)
{
    Qcow2 *s = image_of(d, err, errlen);
    if (!s) {
        return false;
    }
    if (!name || !name[0]) {
        snprintf(err, errlen, "a snapshot needs a name");
        return false;
    }
    int old = qcow2_snapshot_find(s, name);
    if (old >= 0 && !qcow2_snapshot_delete(s, old, err, errlen)) {
        return false;
    }
    return qcow2_snapshot_create(s, name, vmstate, len, vm_clock_ns, err, errlen);
}

bool block_snapshot_load(Drive *d, const char *name_or_id, void **vmstate, size_t *len,
                         BlockSnapshotInfo *info, char *err, size_t errlen)
{
    Qcow2 *s = image_of(d, err, errlen);
    *vmstate = NULL;
    *len = 0;
    if (!s) {
        return false;
    }
    int i = qcow2_snapshot_find(s, name_or_id);
    if (i < 0) {
        snprintf(err, errlen, "snapshot '%s' does not exist in '%s'", name_or_id, s->name);
        return false;
    }
    uint64_t n;
    if (!qcow2_snapshot_read_vmstate(s, i, vmstate, &n, err, errlen)) {
        return false;
    }
    if (!qcow2_snapshot_apply(s, i, err, errlen)) {
        free(*vmstate);
        *vmstate = NULL;
        return false;
    }
    if (info) {
        fill_info(info, &s->snapshots[i]);
    }
    *len = (size_t)n;
    return true;
}

bool block_snapshot_delete(Drive *d, const char *name_or_id, char *err, size_t errlen)
{
    Qcow2 *s = image_of(d, err, errlen);
    if (!s) {
        return false;
    }
    int i = qcow2_snapshot_find(s, name_or_id);
    if (i < 0) {
        snprintf(err, errlen, "snapshot '%s' does not exist in '%s'", name_or_id, s->name);
        return false;
    }
    return qcow2_snapshot_delete(s, i, err, errlen);
}
