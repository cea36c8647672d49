/*
 * file: and exec: transports (see transport.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migration/transport.h"

bool vm_uri_check(const char *uri, char *err, size_t errlen)
{
    if ((!strncmp(uri, "file:", 5) || !strncmp(uri, "exec:", 5)) && uri[5]) {
        return true;
    }
    snprintf(err, errlen, "'%s': popek migrates to file:PATH or exec:CMD", uri);
    return false;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads to the end; false on an error or past max (errno EFBIG). */
static bool read_all(int fd, uint8_t **data, size_t *len, size_t max)
{
    size_t cap = 1u << 20, used = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        return false;
    }
    for (;;) {
        if (used == cap) {
            if (cap > max) {
                free(buf);
                errno = EFBIG;
                return false;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return false;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            free(buf);
            return false;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
        if (used > max) {
            free(buf);
            errno = EFBIG;
            return false;
        }
    }
    *data = buf;
    *len = used;
    return true;
}

/* Start /bin/sh -c cmd with a pipe on its stdin (to_child) or stdout. */
static pid_t spawn(const char *cmd, bool to_child, int *fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(to_child ? p[0] : p[1], to_child ? 0 : 1);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(to_child ? p[0] : p[1]);
    *fd = to_child ? p[1] : p[0];
    return pid;
}

static bool reap(pid_t pid, const char *cmd, char *err, size_t errlen)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "exec:%s: %s", cmd, strerror(errno));
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "exec:%s: the command failed (status %d)", cmd,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return false;
    }
    return true;
}

bool vm_uri_write(const char *uri, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (!vm_uri_check(uri, err, errlen)) {
        return false;
    }
    const char *arg = uri + 5;
    if (!strncmp(uri, "file:", 5)) {
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", arg, strerror(errno));
            return false;
        }
        bool ok = write_all(fd, data, len);
        int saved = errno;
        if (close(fd) < 0 && ok) {
            ok = false;
            saved = errno;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: %s", arg, strerror(saved));
        }
        return ok;
    }
    int fd;
    /* A command that exits before reading everything must not kill popek
     * with SIGPIPE: the write fails with EPIPE instead. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    pid_t pid = spawn(arg, true, &fd);
    if (pid < 0) {
        sigaction(SIGPIPE, &old, NULL);
        snprintf(err, errlen, "exec:%s: %s", arg, strerror(errno));
        return false;
    }
    bool ok = write_all(fd, data, len);
    int saved = errno;
    close(fd);
    sigaction(SIGPIPE, &old, NULL);
    bool exited_ok = reap(pid, arg, err, errlen);
    if (!ok && exited_ok) {
        snprintf(err, errlen, "exec:%s: %s", arg, strerror(saved));
    }
    return ok && exited_ok;
}

bool vm_uri_read(const char *uri, uint8_t **data, size_t *len, size_t max, char *err, size_t errlen)
{
    if (!vm_uri_check(uri, err, errlen)) {
        return false;
    }
    const char *arg = uri + 5;
    if (!strncmp(uri, "file:", 5)) {
        int fd = open(arg, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", arg, strerror(errno));
            return false;
        }
        bool ok = read_all(fd, data, len, max);
        if (!ok) {
            snprintf(err, errlen, "%s: %s", arg,
                     errno == EFBIG ? "larger than any state this machine saves" : strerror(errno));
        }
        close(fd);
        return ok;
    }
    int fd;
    pid_t pid = spawn(arg, false, &fd);
    if (pid < 0) {
        snprintf(err, errlen, "exec:%s: %s", arg, strerror(errno));
        return false;
    }
    bool ok = read_all(fd, data, len, max);
    int saved = errno;
    close(fd);
    if (!ok) {
        kill(pid, SIGTERM);
    }
    bool exited_ok = reap(pid, arg, err, errlen);
    if (!ok) {
        snprintf(err, errlen, "exec:%s: %s", arg,
                 saved == EFBIG ? "more than any state this machine saves" : strerror(saved));
        return false;
    }
    if (!exited_ok) {
        free(*data);
        *data = NULL;
    }
    return exited_ok;
}
