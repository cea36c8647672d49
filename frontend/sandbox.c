/*
 * -sandbox on (sandbox.h).
 *
 * QEMU's sandbox is a list of what is forbidden; popek's is a list of what
 * is allowed, because a running popek needs few calls: it reads and
 * writes descriptors it already has, waits in poll(), keeps time, maps
 * memory (the translator's code cache flips pages between writable and
 * executable with mprotect), accepts clients on the listeners it opened,
 * and, with user networking, lets libslirp open a socket per guest
 * connection.  Everything else traps: no exec, no fork, no new listener
 * or socket without user networking, no ptrace, no mount, no
 * kernel-module or key calls.
 *
 * Files: nothing opened after start-up may be written.  An open that
 * asks to write or create gets EACCES rather than ending the VM, so the
 * monitor's screendump, textdump and change to a new image (and a later
 * migrate or savevm to a file) fail with their usual one-line error and
 * the guest runs on.  Opening for reading stays allowed: libslirp reads
 * /etc/resolv.conf again when the guest asks for DNS, and glibc reads its
 * time-zone and locale files, as QEMU's sandbox allows open too.
 *
 * The filter traps (SCMP_ACT_TRAP) instead of killing silently, so the
 * SIGSYS handler can say which call it was.  The names are looked up
 * before the filter goes in: the handler may only use async-signal-safe
 * calls (write, _exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend/sandbox.h"

/* What every running popek needs. */
static const char *const allowed_calls[] = {
    /* descriptors it has */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "fstat", "newfstatat", "statx", "stat", "lstat",
    "fcntl", "ioctl", "fsync", "fdatasync", "ftruncate", "fallocate", "flock", "dup", "dup2",
    "dup3", "pipe", "pipe2", "getdents64", "readlink", "readlinkat", "access", "faccessat",
    "faccessat2",
    /* leaving a unix socket or a pid file behind at exit helps nobody */
    "unlink", "unlinkat",
    /* waiting */
    "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "eventfd2", "nanosleep", "clock_nanosleep", "sched_yield", "futex",
    "restart_syscall",
    /* time */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "times",
    /* memory: guest RAM, malloc, the code cache's W^X flips */
    "mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "memfd_create",
    /* signals, the process itself */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigpending",
    "rt_sigtimedwait", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
    "getresuid", "getresgid", "tgkill", "exit", "exit_group", "set_robust_list",
    "rseq", "getrandom", "uname", "sysinfo", "getrusage", "prlimit64", "getrlimit",
    "sched_getaffinity", "getcwd", "membarrier",
    /* sockets it has: clients of its listeners, established connections */
    "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
};

/* What user networking adds: a host socket per guest connection, and
 * hostfwd_add's listener. */
static const char *const slirp_calls[] = {"connect", "bind", "listen"};

/* Filled by sandbox_install for the SIGSYS handler. */
#define SANDBOX_MAX_NR 512
static char *call_names[SANDBOX_MAX_NR];
static uint32_t native_arch; /* AUDIT_ARCH_X86_64 on x86-64 (SIGSYS's si_arch) */

static size_t put_str(char *buf, size_t at, size_t len, const char *s)
{
    while (*s && at < len) {
        buf[at++] = *s++;
    }
    return at;
}

static size_t put_uint(char *buf, size_t at, size_t len, unsigned long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && at < len) {
        buf[at++] = digits[--n];
    }
    return at;
}

/* SIGSYS from the filter: name the call, end the process (write and
 * _exit only: this runs in the middle of anything). */
static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    char msg[160];
    size_t len = sizeof(msg) - 1, at = 0;
    unsigned long nr = (unsigned long)info->si_syscall;
    bool native = info->si_arch == native_arch;
    const char *name = nr < SANDBOX_MAX_NR && native ? call_names[nr] : NULL;
    at = put_str(msg, at, len, "popek: -sandbox: forbidden system call ");
    at = put_str(msg, at, len, name ? name : "number ");
    if (!name) {
        at = put_uint(msg, at, len, nr);
        if (!native) {
            at = put_str(msg, at, len, " of a foreign system-call ABI");
        }
    }
    at = put_str(msg, at, len, "; stopping\n");
    ssize_t ignored = write(STDERR_FILENO, msg, at);
    (void)ignored;
    _exit(1);
}

static bool fail(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s", what, strerror(rc < 0 ? -rc : rc));
    return false;
}

/* Allow each named call this kernel and libseccomp know. */
static int allow_all(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR) {
            continue;
        }
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Opening for reading: allowed.  For writing or creating: EACCES.  The
 * old open(2) has the flags one argument earlier; glibc uses openat, a
 * library might not. */
static int add_open_rules(scmp_filter_ctx ctx)
{
    static const scmp_datum_t write_bits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND,
                                              O_TMPFILE};
    scmp_datum_t writing = 0;
    for (size_t i = 0; i < sizeof(write_bits) / sizeof(write_bits[0]); i++) {
        writing |= write_bits[i];
    }
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, writing, 0));
    rc = rc ? rc
            : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                               SCMP_A1(SCMP_CMP_MASKED_EQ, writing, 0));
    for (size_t i = 0; !rc && i < sizeof(write_bits) / sizeof(write_bits[0]); i++) {
        scmp_datum_t bit = write_bits[i];
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit));
        rc = rc ? rc
                : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit));
    }
    return rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(creat), 0);
}

/* New sockets for user networking: IPv4 and IPv6 only (no unix, netlink
 * or raw packet sockets). */
static int add_socket_rules(scmp_filter_ctx ctx)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_INET));
    rc = rc ? rc
            : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                               SCMP_A0(SCMP_CMP_EQ, AF_INET6));
    return rc ? rc : allow_all(ctx, slirp_calls, sizeof(slirp_calls) / sizeof(slirp_calls[0]));
}

bool sandbox_parse(const char *arg, SandboxConfig *cfg, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(arg) >= sizeof(buf)) {
        snprintf(err, errlen, "-sandbox: '%.40s...' is too long", arg);
        return false;
    }
    strcpy(buf, arg);
    *cfg = (SandboxConfig){0};
    bool first = true, enable_seen = false;
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save), first = false) {
        char *eq = strchr(item, '=');
        const char *key = eq ? item : "enable";
        const char *value = eq ? eq + 1 : item;
        if (eq) {
            *eq = '\0';
        } else if (!first) {
            snprintf(err, errlen, "-sandbox: '%s' is not KEY=VALUE", item);
            return false;
        }
        if (!strcmp(key, "enable")) {
            if (strcmp(value, "on") && strcmp(value, "off")) {
                snprintf(err, errlen, "-sandbox: '%s' is neither on nor off", value);
                return false;
            }
            cfg->on = !strcmp(value, "on");
            enable_seen = true;
        } else if (!strcmp(key, "obsolete") || !strcmp(key, "elevateprivileges") ||
                   !strcmp(key, "spawn") || !strcmp(key, "resourcecontrol")) {
            if (strcmp(value, "deny") != 0) {
                snprintf(err, errlen,
                         "-sandbox: %s=%s: popek's sandbox lists the calls popek needs "
                         "and denies the rest; it cannot allow %s",
                         key, value, key);
                return false;
            }
        } else {
            snprintf(err, errlen, "-sandbox: unknown parameter '%s'", key);
            return false;
        }
    }
    if (!enable_seen) {
        snprintf(err, errlen, "-sandbox: say on or off first ('-sandbox on,spawn=deny')");
        return false;
    }
    return true;
}

bool sandbox_install(const SandboxConfig *cfg, char *err, size_t errlen)
{
    native_arch = seccomp_arch_native();
    for (int nr = 0; nr < SANDBOX_MAX_NR; nr++) {
        if (!call_names[nr]) {
            call_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        }
    }
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0) {
        return fail(err, errlen, "SIGSYS handler", errno);
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(err, errlen, "seccomp_init failed");
        return false;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
    rc = rc ? rc : seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    rc = rc ? rc
            : allow_all(ctx, allowed_calls, sizeof(allowed_calls) / sizeof(allowed_calls[0]));
    rc = rc ? rc : add_open_rules(ctx);
    /* pthread_create tries clone3 first and falls back to clone when told
     * ENOSYS; clone itself stays forbidden (it is how fork is made). */
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (!rc && cfg->net_sockets) {
        rc = add_socket_rules(ctx);
    }
    rc = rc ? rc : seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0) {
        return fail(err, errlen, "cannot install the seccomp filter", rc);
    }
    return true;
}

bool sandbox_selftest(const char *what, char *err, size_t errlen)
{
    if (!strcmp(what, "execve")) {
        /* An empty path: without a filter this only fails with ENOENT. */
        char *const no_args[] = {NULL};
        execve("", no_args, no_args);
    } else if (!strcmp(what, "socket")) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            close(fd);
        }
    } else {
        snprintf(err, errlen, "POPEK_SANDBOX_SELFTEST=%s: want execve or socket", what);
        return false;
    }
    snprintf(err, errlen, "POPEK_SANDBOX_SELFTEST=%s: the call was not stopped", what);
    return false;
}
