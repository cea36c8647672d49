/*
 * libFuzzer harness for QMP's input path (frontend/qmp.c): json-c's
 * incremental tokener, the request checks and the command dispatch, with
 * the monitor behind human-monitor-command (frontend/monitor.c on a test
 * CPU).  Nothing a client sends may crash popek, make a sanitizer report,
 * or grow memory past QMP_INPUT_MAX per object.
 *
 * Input: cut into up to eight pieces at 0xff bytes, fed one after the
 * other as separate reads (so objects split anywhere).  Byte 0 bit 0
 * skips qmp_capabilities (the harness sends it first otherwise, so the
 * fuzzer reaches the commands); bit 1 disconnects and reconnects the
 * client halfway.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/monitor.h"
#include "frontend/qmp.h"
#include "tests/support/testvm.h"

#define FUZZ_PIECES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct FuzzHost {
    bool stopped;
    unsigned sum; /* every byte written, so ASan checks the buffers */
    Monitor *monitor;
} FuzzHost;

static void sink(void *opaque, const char *data, size_t len)
{
    FuzzHost *h = opaque;
    for (size_t i = 0; i < len; i++) {
        h->sum += (uint8_t)data[i];
    }
}

static bool is_stopped(void *opaque)
{
    return ((FuzzHost *)opaque)->stopped;
}

static void stop(void *opaque)
{
    ((FuzzHost *)opaque)->stopped = true;
}

static void cont(void *opaque)
{
    ((FuzzHost *)opaque)->stopped = false;
}

static void nothing(void *opaque)
{
}

static char *hmp(void *opaque, const char *line)
{
    return monitor_run(((FuzzHost *)opaque)->monitor, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static TestVM *vm;
    if (!vm) {
        vm = testvm_new(1u << 20);
    }
    if (size < 1) {
        return 0;
    }
    FuzzHost host = {0};
    host.monitor = monitor_new(&vm->cpu, &host.stopped, NULL);
    QmpOps ops = {&host, sink, is_stopped, stop, cont, nothing, nothing, nothing, hmp};
    Qmp *q = qmp_new(&ops);
    qmp_connected(q);
    if (!(data[0] & 1)) {
        static const char caps[] = "{\"execute\": \"qmp_capabilities\"}";
        qmp_input(q, (const uint8_t *)caps, sizeof(caps) - 1);
    }
    const uint8_t *p = data + 1, *end = data + size;
    for (int piece = 0; piece < FUZZ_PIECES && p < end; piece++) {
        const uint8_t *cut = piece == FUZZ_PIECES - 1 ? NULL : memchr(p, 0xff, (size_t)(end - p));
        const uint8_t *stop_at = cut ? cut : end;
        qmp_input(q, p, (size_t)(stop_at - p));
        p = cut ? cut + 1 : end;
        if ((data[0] & 2) && piece == FUZZ_PIECES / 2) {
            qmp_disconnected(q);
            qmp_connected(q);
        }
        qmp_event(q, "STOP", NULL);
    }
    qmp_free(q);
    monitor_free(host.monitor);
    return 0;
}
