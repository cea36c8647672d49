/*
 * popek as a Unix process: the termination signals (SIGINT, SIGTERM,
 * SIGHUP end the run cleanly: traces flushed, dumps written, QMP told),
 * -daemonize and -pidfile.  Signals are process-wide, so this file keeps
 * the process's one piece of signal state; the handler only records the
 * signal, and the main loop acts on it between CPU slices.
 */
#ifndef FRONTEND_PROCESS_H
#define FRONTEND_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

/* Catch SIGINT, SIGTERM and SIGHUP. */
void process_signals_install(void);
/* The termination signal that arrived, or 0. */
int process_signal_pending(void);
/* Say so, as QEMU does: "popek: terminating on signal 15 from pid 123". */
void process_report_signal(void);

/* -daemonize, first half: fork; the parent waits until the child reports
 * (process_daemon_ready) and exits 0, or exits 1 if the child dies first
 * (having said why on the still-shared stderr).  Returns in the child, in
 * a new session.  False with a reason in err if fork fails. */
bool process_daemonize(char *err, size_t errlen);
/* Second half, once the machine is set up: stdio to /dev/null, and the
 * parent released. */
void process_daemon_ready(void);

/* -pidfile: create FILE, hold a write lock on it for the whole run and
 * write the pid; false with a reason in err (another popek holds it).
 * The file is removed at exit. */
bool process_pidfile(const char *path, char *err, size_t errlen);

#endif /* FRONTEND_PROCESS_H */
