/*
 * Saved VMs from the host's side: the monitor's migrate, info migrate,
 * savevm, loadvm, delvm and info snapshots, and -incoming / -loadvm at
 * start.
 *
 * migrate writes the whole machine (hw/pc/vmstate_pc.c) to a file or a
 * command and leaves the VM paused, as QEMU's source is after a completed
 * migration ("postmigrate"): cont runs it on.  Disks are not copied: a
 * raw image is the disk, so the process that loads the state must open
 * the same images (QEMU's shared storage), and nothing may write to them
 * in between.  A -snapshot overlay is a temporary file and dies with this
 * process, so what the guest wrote through it is not in the state.
 *
 * savevm and friends keep the state inside the snapshot table of every
 * writable qcow2 image (block/snapshot.h; the VM state in the first), as
 * QEMU does; a writable raw disk, or no disk, gets QEMU's words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/snapshot.h"
#include "frontend/host.h"
#include "migration/transport.h"

/* The URI of "migrate [-d] URI", quotes removed, in place. */
static char *migrate_uri(char *args)
{
    char *p = args;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    while (p[0] == '-' && (p[1] == 'd' || p[1] == 'b' || p[1] == 'i') &&
           (p[2] == ' ' || p[2] == '\t')) {
        p += 3; /* detach / block / incremental: popek migrates in one go */
        while (*p == ' ' || *p == '\t') {
            p++;
        }
    }
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n')) {
        p[--n] = '\0';
    }
    if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
        p[n - 1] = '\0';
        p++;
    }
    return p;
}

bool host_migrate(Host *h, const char *uri, char *err, size_t errlen)
{
    HostMigration *m = &h->migration;
    int64_t t0 = host_clock_ns();
    VMWriter w;
    vm_writer_init(&w);
    bool ok = vm_uri_check(uri, err, errlen);
    if (ok && !pc_save_state(&h->pc, &w)) {
        snprintf(err, errlen, "out of host memory");
        ok = false;
    }
    ok = ok && vm_uri_write(uri, w.buf, w.len, err, errlen);
    m->status = ok ? "completed" : "failed";
    m->total_ms = (host_clock_ns() - t0) / 1000000;
    m->bytes = ok ? w.len : 0;
    snprintf(m->error, sizeof(m->error), "%s", ok ? "" : err);
    vm_writer_free(&w);
    if (ok) {
        h->pc.stopped = true; /* QEMU's postmigrate: the guest now lives elsewhere */
    }
    return ok;
}

bool host_incoming(Host *h, const char *uri, char *err, size_t errlen)
{
    uint64_t ram = h->pc.cfg.ram_bytes;
    /* A state holds RAM, video RAM and some devices; zlib grows
     * incompressible data by well under 1%. */
    size_t max = (size_t)(ram + ram / 64 + (64u << 20));
    uint8_t *data = NULL;
    size_t len = 0;
    int64_t t0 = host_clock_ns();
    if (!vm_uri_read(uri, &data, &len, max, err, errlen)) {
        return false;
    }
    bool ok = pc_load_state(&h->pc, data, len, false, err, errlen);
    free(data);
    HostMigration *m = &h->migration;
    m->status = ok ? "completed" : "failed";
    m->total_ms = (host_clock_ns() - t0) / 1000000;
    m->bytes = ok ? len : 0;
    return ok;
}

/* ---- savevm, loadvm, delvm, info snapshots: qcow2 snapshot tables ---- */

/* QEMU's rule: every writable disk must take snapshots (each gets one),
 * and the VM state goes into the first.  The drives that do, in *which
 * (count returned); -1 with QEMU's message when one cannot or none can. */
static int snapshot_drives(Host *h, int which[PC_MAX_DRIVES], char *err, size_t errlen)
{
    int n = 0;
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        char why[256];
        if (!h->drive_present[i] || h->drive_cdrom[i] || !h->drives[i].top) {
            continue;
        }
        if (block_snapshot_supported(&h->drives[i], why, sizeof(why))) {
            which[n++] = i;
        } else if (!h->drive_readonly[i]) {
            snprintf(err, errlen, "Device 'ide%d-hd%d' is writable but does not support snapshots",
                     i / 2, i % 2);
            return -1;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "No block device can accept snapshots");
        return -1;
    }
    return n;
}

bool host_savevm(Host *h, const char *name, char *err, size_t errlen)
{
    int which[PC_MAX_DRIVES];
    int n = snapshot_drives(h, which, err, errlen);
    if (n < 0) {
        return false;
    }
    VMWriter w;
    vm_writer_init(&w);
    if (!pc_save_state(&h->pc, &w)) {
        vm_writer_free(&w);
        snprintf(err, errlen, "out of host memory");
        return false;
    }
    uint64_t clock = (uint64_t)timer_now(&h->pc.timers);
    bool ok = true;
    for (int k = 0; k < n && ok; k++) {
        ok = block_snapshot_create(&h->drives[which[k]], name, k == 0 ? w.buf : NULL,
                                   k == 0 ? w.len : 0, clock, err, errlen);
    }
    vm_writer_free(&w);
    return ok;
}

/* The VM state of snapshot name from the first drive, every drive's disk
 * put back as it was; then the machine (rolled back if the state does not
 * load: the disks stay as the snapshot had them, as QEMU leaves them). */
bool host_loadvm(Host *h, const char *name, char *err, size_t errlen)
{
    int which[PC_MAX_DRIVES];
    int n = snapshot_drives(h, which, err, errlen);
    if (n < 0) {
        return false;
    }
    /* Present on every drive before anything changes. */
    for (int k = 0; k < n; k++) {
        BlockSnapshotInfo *list = NULL;
        int count = block_snapshot_list(&h->drives[which[k]], &list, err, errlen);
        bool found = false;
        for (int j = 0; j < count; j++) {
            found |= !strcmp(list[j].name, name) || !strcmp(list[j].id, name);
        }
        free(list);
        if (count < 0) {
            return false;
        }
        if (!found) {
            snprintf(err, errlen, "Snapshot '%s' does not exist in one or more devices", name);
            return false;
        }
    }
    void *blob = NULL;
    size_t len = 0;
    if (!block_snapshot_load(&h->drives[which[0]], name, &blob, &len, NULL, err, errlen)) {
        return false;
    }
    bool ok = true;
    for (int k = 1; k < n && ok; k++) {
        void *other = NULL;
        size_t other_len = 0;
        ok = block_snapshot_load(&h->drives[which[k]], name, &other, &other_len, NULL, err,
                                 errlen);
        free(other);
    }
    if (ok && len == 0) {
        snprintf(err, errlen, "Snapshot '%s' has no VM state", name);
        ok = false;
    }
    ok = ok && pc_load_state(&h->pc, blob, len, true, err, errlen);
    free(blob);
    return ok;
}

bool host_delvm(Host *h, const char *name, char *err, size_t errlen)
{
    int which[PC_MAX_DRIVES];
    int n = snapshot_drives(h, which, err, errlen);
    for (int k = 0; k < n; k++) {
        if (!block_snapshot_delete(&h->drives[which[k]], name, err, errlen)) {
            return false;
        }
    }
    return n > 0;
}

/* info snapshots: the first snapshot drive's table, in QEMU's columns. */
static void info_snapshots(Host *h, char *buf, size_t len)
{
    int which[PC_MAX_DRIVES];
    char err[256];
    BlockSnapshotInfo *list = NULL;
    if (snapshot_drives(h, which, err, sizeof(err)) < 0) {
        snprintf(buf, len, "No available block device supports snapshots\n");
        return;
    }
    int n = block_snapshot_list(&h->drives[which[0]], &list, err, sizeof(err));
    if (n < 0) {
        snprintf(buf, len, "Error: %s\n", err);
        return;
    }
    if (n == 0) {
        snprintf(buf, len, "There is no snapshot available.\n");
        free(list);
        return;
    }
    size_t at = (size_t)snprintf(buf, len, "List of snapshots present on all disks:\n"
                                           "ID        TAG               VM SIZE                DATE"
                                           "     VM CLOCK\n");
    for (int i = 0; i < n && at < len; i++) {
        time_t t = (time_t)list[i].date_sec;
        struct tm tm;
        char date[32] = "";
        if (localtime_r(&t, &tm)) {
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        }
        uint64_t ns = list[i].vm_clock_ns, s = ns / 1000000000u;
        at += (size_t)snprintf(buf + at, len - at,
                               "%-9s %-17s %7.1f MiB %s %02llu:%02llu:%02llu.%03llu\n",
                               list[i].id, list[i].name,
                               (double)list[i].vm_state_size / (1 << 20), date,
                               (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
                               (unsigned long long)(s % 60),
                               (unsigned long long)(ns / 1000000 % 1000));
    }
    free(list);
}

int host_migrate_command(void *host, const char *cmd, const char *args, char *buf, size_t len)
{
    Host *h = host;
    char err[512];
    char *copy = strdup(args);
    buf[0] = '\0';
    if (!copy) {
        snprintf(buf, len, "%s: out of memory\n", cmd);
        return (int)strlen(buf);
    }
    if (!strcmp(cmd, "migrate")) {
        const char *uri = migrate_uri(copy);
        if (!*uri) {
            snprintf(buf, len, "migrate: a URI is needed (file:PATH or exec:CMD)\n");
        } else if (!host_migrate(h, uri, err, sizeof(err))) {
            snprintf(buf, len, "Error: %s\n", err);
        }
    } else if (!strcmp(cmd, "info migrate")) {
        const HostMigration *m = &h->migration;
        if (m->status) {
            int n = snprintf(buf, len, "Migration status: %s%s%s%s\n", m->status,
                             m->error[0] ? " (" : "", m->error, m->error[0] ? ")" : "");
            if (n >= 0 && (size_t)n < len) {
                snprintf(buf + n, len - (size_t)n,
                         "total time: %lld ms\ntransferred: %llu kbytes\n", (long long)m->total_ms,
                         (unsigned long long)(m->bytes >> 10));
            }
        }
    } else if (!strcmp(cmd, "info snapshots")) {
        info_snapshots(h, buf, len);
    } else if (!strcmp(cmd, "savevm") || !strcmp(cmd, "loadvm") || !strcmp(cmd, "delvm")) {
        const char *name = migrate_uri(copy);
        bool ok = !strcmp(cmd, "savevm")   ? host_savevm(h, name, err, sizeof(err))
                  : !strcmp(cmd, "loadvm") ? host_loadvm(h, name, err, sizeof(err))
                                           : host_delvm(h, name, err, sizeof(err));
        if (!ok) {
            snprintf(buf, len, "Error: %s\n", err);
        }
    } else {
        snprintf(buf, len, "%s: unknown command\n", cmd);
    }
    free(copy);
    return (int)strlen(buf);
}
