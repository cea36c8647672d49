/*
 * The process: termination signals, -daemonize, -pidfile (process.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/process.h"

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t pending_sender;
static int daemon_pipe = -1; /* the child's end of the pipe to the waiting parent */
static char *pidfile_path;

static void on_terminate(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (!pending_signal) {
        pending_signal = sig;
        pending_sender = info ? (sig_atomic_t)info->si_pid : 0;
    }
}

void process_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_terminate;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: poll() wakes up at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* SIGPIPE keeps its default: sockets send with MSG_NOSIGNAL, and a
     * popek whose stdout reader is gone ends, as before, instead of
     * running on orphaned. */
}

int process_signal_pending(void)
{
    return pending_signal;
}

void process_report_signal(void)
{
    if (pending_sender > 0) {
        fprintf(stderr, "popek: terminating on signal %d from pid %d\n", (int)pending_signal,
                (int)pending_sender);
    } else {
        fprintf(stderr, "popek: terminating on signal %d\n", (int)pending_signal);
    }
}

bool process_daemonize(char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return false;
    }
    if (pid > 0) {
        /* The parent: exit 0 once the child says it is running. */
        close(fds[1]);
        char ok;
        ssize_t n;
        do {
            n = read(fds[0], &ok, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        _exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
    }
    close(fds[0]);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    daemon_pipe = fds[1];
    setsid();
    return true;
}

void process_daemon_ready(void)
{
    if (daemon_pipe < 0) {
        return;
    }
    fflush(NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    char ok = 0;
    if (write(daemon_pipe, &ok, 1) != 1) {
        return; /* the parent is gone: nobody to tell */
    }
    close(daemon_pipe);
    daemon_pipe = -1;
}

static void remove_pidfile(void)
{
    if (pidfile_path) {
        unlink(pidfile_path);
    }
}

bool process_pidfile(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        return false;
    }
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &lock) != 0) {
        snprintf(err, errlen, "cannot lock '%s': another process is using it", path);
        close(fd);
        return false;
    }
    char text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)len) != len) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        close(fd);
        return false;
    }
    /* fd stays open: the lock lasts as long as the process. */
    pidfile_path = realpath(path, NULL);
    atexit(remove_pidfile);
    return true;
}
