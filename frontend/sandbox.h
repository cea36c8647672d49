/*
 * -sandbox on: a seccomp filter (libseccomp) installed once popek has
 * opened everything it was told to open, after which the process may make
 * only the system calls a running VM needs (frontend/sandbox.c,
 * docs/security.md).
 */
#ifndef FRONTEND_SANDBOX_H
#define FRONTEND_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct SandboxConfig {
    bool on;          /* -sandbox on */
    bool net_sockets; /* user networking: libslirp opens a host socket per guest
                       * connection, and hostfwd_add listens at run time */
} SandboxConfig;

/*
 * QEMU's spelling: on|off or enable=on|off, then obsolete=, elevateprivileges=,
 * spawn=, resourcecontrol=.  popek's filter is a list of what is allowed, so
 * "deny" for each of those is what it does anyway and is accepted; "allow"
 * (or "children") is refused.  False with one line in err.
 */
bool sandbox_parse(const char *arg, SandboxConfig *cfg, char *err, size_t errlen);

/* Install the filter for this process and every thread; false with the
 * reason in err.  From then on a forbidden call ends popek with
 * "popek: -sandbox: forbidden system call NAME" on stderr and status 1. */
bool sandbox_install(const SandboxConfig *cfg, char *err, size_t errlen);

/*
 * POPEK_SANDBOX_SELFTEST=execve|socket in the environment: once the filter
 * is in place, make that forbidden call (with arguments that would fail
 * harmlessly without a filter), so a test can watch the filter end popek.
 * Returns only if the call was not stopped (false, with why in err).
 */
bool sandbox_selftest(const char *what, char *err, size_t errlen);

#endif /* FRONTEND_SANDBOX_H */
