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
 * savevm and friends keep the state inside a qcow2 image's snapshot
 * table, as QEMU does; popek's images are raw, so they say, in QEMU's
 * words, that no block device can take snapshots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* QEMU's answer when no image can hold a snapshot. */
static void no_snapshot_device(Host *h, char *buf, size_t len)
{
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        if (h->drive_present[i] && !h->drive_cdrom[i] && !h->drive_readonly[i]) {
            snprintf(buf, len,
                     "Error: Device 'ide%d-hd%d' is writable but does not support "
                     "snapshots\n",
                     i / 2, i % 2);
            return;
        }
    }
    snprintf(buf, len, "Error: No block device can accept snapshots\n");
}

bool host_loadvm(Host *h, const char *name, char *err, size_t errlen)
{
    no_snapshot_device(h, err, errlen);
    /* As a one-line reason: without "Error: " and the newline. */
    memmove(err, err + 7, strlen(err + 7) + 1);
    err[strcspn(err, "\n")] = '\0';
    return false;
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
    } else if (!strcmp(cmd, "savevm") || !strcmp(cmd, "loadvm") || !strcmp(cmd, "delvm") ||
               !strcmp(cmd, "info snapshots")) {
        if (!strcmp(cmd, "info snapshots")) {
            snprintf(buf, len, "No available block device supports snapshots\n");
        } else {
            no_snapshot_device(h, buf, len);
        }
    } else {
        snprintf(buf, len, "%s: unknown command\n", cmd);
    }
    free(copy);
    return (int)strlen(buf);
}
