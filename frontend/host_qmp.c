/*
 * QMP on its chardev, and what the host watches for between polls: a
 * termination signal (the run ends cleanly), and changes QMP clients hear
 * of as events (STOP and RESUME whoever paused the machine: the monitor,
 * gdb, QMP; RESET whoever reset it, the guest included; POWERDOWN;
 * SHUTDOWN with its reason when the run ends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/host.h"
#include "frontend/monitor.h"
#include "frontend/process.h"
#include "frontend/qmp.h"

/* JSON objects arrive in pieces; QMP bounds how much one may take. */
#define QMP_READ_ROOM 4096

static int qmp_can_receive(void *opaque)
{
    return QMP_READ_ROOM;
}

static void qmp_receive(void *opaque, const uint8_t *buf, int len)
{
    Host *h = opaque;
    qmp_input(h->qmp, buf, (size_t)len);
}

static void qmp_chr_event(void *opaque, enum ChardevEvent event)
{
    Host *h = opaque;
    if (event == CHARDEV_OPENED) {
        qmp_connected(h->qmp);
    } else {
        qmp_disconnected(h->qmp);
    }
}

static void qmp_write(void *opaque, const char *data, size_t len)
{
    Host *h = opaque;
    chardev_write(h->qmp_chr, data, len);
}

static bool qmp_is_stopped(void *opaque)
{
    return ((Host *)opaque)->pc.stopped;
}

static void qmp_stop(void *opaque)
{
    ((Host *)opaque)->pc.stopped = true;
}

static void qmp_cont(void *opaque)
{
    ((Host *)opaque)->pc.stopped = false;
}

static void qmp_reset(void *opaque)
{
    host_reset(opaque, "host-qmp-system-reset");
}

static void qmp_powerdown(void *opaque)
{
    host_powerdown(opaque);
}

static void qmp_quit(void *opaque)
{
    host_quit(opaque, "host-qmp-quit");
}

static char *qmp_hmp(void *opaque, const char *line)
{
    Host *h = opaque;
    return h->monitor ? monitor_run(h->monitor, line) : NULL;
}

static bool qmp_migrate(void *opaque, const char *uri, char *err, size_t errlen)
{
    return host_migrate(opaque, uri, err, errlen);
}

static const char *qmp_migrate_status(void *opaque, int64_t *total_ms, uint64_t *bytes)
{
    const HostMigration *m = &((Host *)opaque)->migration;
    *total_ms = m->total_ms;
    *bytes = m->bytes;
    return m->status;
}

bool host_qmp_open(Host *h)
{
    QmpOps ops = {h,         qmp_write,     qmp_is_stopped, qmp_stop,    qmp_cont,
                  qmp_reset, qmp_powerdown, qmp_quit,       qmp_hmp,     qmp_migrate,
                  qmp_migrate_status};
    h->qmp = qmp_new(&ops);
    if (!h->qmp) {
        return false;
    }
    chardev_set_receiver(h->qmp_chr, qmp_can_receive, qmp_receive, qmp_chr_event, h);
    return true;
}

void host_qmp_close(Host *h)
{
    if (h->qmp_chr) {
        chardev_set_receiver(h->qmp_chr, NULL, NULL, NULL, NULL);
    }
    qmp_free(h->qmp);
    h->qmp = NULL;
}

static void event(Host *h, const char *name, const char *data)
{
    if (h->qmp) {
        qmp_event(h->qmp, name, data);
    }
}

void host_reset(Host *h, const char *reason)
{
    h->reset_reason = reason;
    pc_request_reset(&h->pc);
}

void host_powerdown(Host *h)
{
    event(h, "POWERDOWN", NULL);
    pc_power_button(&h->pc);
}

void host_quit(Host *h, const char *reason)
{
    h->shutdown_reason = reason;
    pc_request_exit(&h->pc, 0);
}

void host_watch(Host *h)
{
    if (process_signal_pending() && !h->signal_seen) {
        h->signal_seen = true;
        process_report_signal();
        host_quit(h, "host-signal");
    }
    if (h->pc.stopped != h->was_stopped) {
        h->was_stopped = h->pc.stopped;
        event(h, h->pc.stopped ? "STOP" : "RESUME", NULL);
    }
    if (h->pc.reset_count != h->resets_seen) {
        h->resets_seen = h->pc.reset_count;
        const char *reason = h->reset_reason ? h->reset_reason : "guest-reset";
        char data[128];
        snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
                 strncmp(reason, "guest", 5) ? "false" : "true", reason);
        event(h, "RESET", data);
        h->reset_reason = NULL;
    }
}

void host_shutdown_event(Host *h)
{
    const char *reason = h->shutdown_reason ? h->shutdown_reason : "guest-shutdown";
    char data[128];
    host_watch(h); /* a STOP or RESET not yet told comes first */
    snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
             strncmp(reason, "guest", 5) ? "false" : "true", reason);
    event(h, "SHUTDOWN", data);
}
