/*
 * QMP, the QEMU Machine Protocol: JSON objects over a character device,
 * as QEMU speaks it (docs/interop/qmp-spec in QEMU's tree).  A client is
 * greeted with {"QMP": {"version": ..., "capabilities": []}}, must send
 * qmp_capabilities before anything else, then runs commands
 * ({"execute": NAME, "arguments": {...}, "id": ANY} answered with
 * {"return": ...} or {"error": {"class": ..., "desc": ...}}, the id echoed)
 * and hears asynchronous events with timestamps.
 *
 * The protocol knows nothing of chardevs or the machine: bytes come in
 * through qmp_input, answers leave through QmpOps.write, and commands act
 * through QmpOps, so the fuzzer drives it alone (tests/fuzz/fuzz_qmp.c).
 */
#ifndef FRONTEND_QMP_H
#define FRONTEND_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes one JSON object may take on the wire: a client that sends more
 * without completing one gets an error and its input is dropped. */
#define QMP_INPUT_MAX (64 * 1024)

typedef struct Qmp Qmp;

/* What QMP may ask of the host; any callback but write may be NULL
 * (the command then fails with GenericError). */
typedef struct QmpOps {
    void *opaque;
    void (*write)(void *opaque, const char *data, size_t len); /* to the client */
    bool (*is_stopped)(void *opaque);
    void (*stop)(void *opaque);
    void (*cont)(void *opaque);
    void (*reset)(void *opaque);     /* system_reset */
    void (*powerdown)(void *opaque); /* system_powerdown */
    void (*quit)(void *opaque);
    /* human-monitor-command: run a monitor line, its output malloc'd. */
    char *(*hmp)(void *opaque, const char *line);
    /* migrate: the VM to uri (false with one line in err); query-migrate:
     * the last one's status ("completed", "failed"; NULL: none yet), time
     * and bytes. */
    bool (*migrate)(void *opaque, const char *uri, char *err, size_t errlen);
    const char *(*migrate_status)(void *opaque, int64_t *total_ms, uint64_t *bytes);
} QmpOps;

Qmp *qmp_new(const QmpOps *ops);
void qmp_free(Qmp *q);

/* A client arrived (greeting; capabilities negotiation starts over) or left. */
void qmp_connected(Qmp *q);
void qmp_disconnected(Qmp *q);
/* Bytes from the client: any number of JSON objects, split anywhere. */
void qmp_input(Qmp *q, const uint8_t *data, size_t len);
/* An event to a client past negotiation; data_json: a JSON object's text,
 * or NULL for none. */
void qmp_event(Qmp *q, const char *name, const char *data_json);

#endif /* FRONTEND_QMP_H */
