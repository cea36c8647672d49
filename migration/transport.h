/*
 * Where a saved VM goes and comes from: QEMU's migration URIs.
 *
 *   file:PATH   the state is the file's whole content
 *   exec:CMD    /bin/sh -c CMD: it reads the state on its stdin (migrate)
 *               or writes it on its stdout (-incoming), as in QEMU
 *
 * The state is built in memory and written in one go (popek has one
 * thread: the VM is stopped meanwhile, which is what QEMU's non-live
 * migration does too).
 */
#ifndef MIGRATION_TRANSPORT_H
#define MIGRATION_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A URI popek understands (for option checking); false with a reason. */
bool vm_uri_check(const char *uri, char *err, size_t errlen);
/* Write len bytes to the URI; false with one line in err. */
bool vm_uri_write(const char *uri, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Read everything the URI gives, at most max bytes, into a malloc'd
 * buffer; false with one line in err. */
bool vm_uri_read(const char *uri, uint8_t **data, size_t *len, size_t max, char *err,
                 size_t errlen);

#endif /* MIGRATION_TRANSPORT_H */
