/*
 * The host side of the native oracle: start a native runner
 * (popek-oracle-native or popek-oracle-native64) once, share the code
 * window, the data window and the mailbox with it through memfds (so a
 * test costs two one-byte pipe messages, no copies through the kernel),
 * and run tests one after the other.  A runner that dies or does not
 * answer within a few seconds is killed and started again.
 *
 * Whether the host can run a runner at all is found out by starting it:
 * a kernel without IA32 emulation refuses the i386 one with ENOEXEC, which
 * the child passes back through a close-on-exec pipe, so the caller gets
 * the reason rather than a dead child.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/cpu/oracle/oracle_run.h"

#define NATIVE_TIMEOUT_MS 5000

struct NativeRunner {
    char *path;
    bool mode64; /* the x86-64 runner: code gets the slots patched */
    pid_t pid;
    int exec_errno; /* why the last exec failed, 0 if it did not */
    int status;     /* the last runner reaped, as waitpid reports it */
    int cmd_fd;     /* we write commands here */
    int reply_fd;   /* and read answers here */
    int code_fd, data_fd, mb_fd;
    uint8_t *code;
    uint8_t *data;
    OracleMailbox *mb;
};

/* Close-on-exec: a runner inherits only its own five descriptors (spawn). */
static void *map_memfd(const char *name, size_t size, int *fd_out)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        perror("popek-oracle: memfd");
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("popek-oracle: mmap");
        close(fd);
        return NULL;
    }
    *fd_out = fd;
    return p;
}

/*
 * Start the runner.  The child clears close-on-exec on the five
 * descriptors it passes on; if the exec fails, it writes errno to a
 * close-on-exec pipe, which otherwise just closes when the exec succeeds.
 */
static bool spawn(NativeRunner *nr)
{
    int cmd[2], reply[2], err[2];
    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(reply, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        perror("popek-oracle: pipe");
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("popek-oracle: fork");
        return false;
    }
    if (pid == 0) {
        char a[5][16];
        int fds[5] = {nr->code_fd, nr->data_fd, nr->mb_fd, cmd[0], reply[1]};
        for (int i = 0; i < 5; i++) {
            snprintf(a[i], sizeof(a[i]), "%d", fds[i]);
            fcntl(fds[i], F_SETFD, 0);
        }
        execl(nr->path, nr->path, a[0], a[1], a[2], a[3], a[4], (char *)NULL);
        int e = errno;
        if (write(err[1], &e, sizeof(e)) != sizeof(e)) {
            _exit(126);
        }
        _exit(127);
    }
    close(cmd[0]);
    close(reply[1]);
    close(err[1]);
    nr->pid = pid;
    nr->cmd_fd = cmd[1];
    nr->reply_fd = reply[0];
    int e = 0;
    ssize_t n;
    do {
        n = read(err[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(err[0]);
    nr->exec_errno = n == sizeof(e) ? e : 0;
    return nr->exec_errno == 0;
}

static void reap(NativeRunner *nr)
{
    if (nr->pid > 0) {
        kill(nr->pid, SIGKILL);
        waitpid(nr->pid, &nr->status, 0);
        nr->pid = -1;
    }
    if (nr->cmd_fd >= 0) {
        close(nr->cmd_fd);
        close(nr->reply_fd);
        nr->cmd_fd = nr->reply_fd = -1;
    }
}

/* Why a runner that was started did not answer, from how it ended. */
static void describe_death(const NativeRunner *nr, char *why, size_t why_len)
{
    if (WIFEXITED(nr->status)) {
        snprintf(why, why_len, "%s exited with status %d", nr->path, WEXITSTATUS(nr->status));
    } else if (WIFSIGNALED(nr->status) && WTERMSIG(nr->status) != SIGKILL) {
        snprintf(why, why_len, "%s was killed by signal %d (%s)", nr->path, WTERMSIG(nr->status),
                 strsignal(WTERMSIG(nr->status)));
    } else {
        snprintf(why, why_len, "%s did not answer its first test", nr->path);
    }
}

NativeRunner *native_start(const char *path, bool mode64, char *why, size_t why_len)
{
    signal(SIGPIPE, SIG_IGN);
    NativeRunner *nr = calloc(1, sizeof(*nr));
    if (!nr) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    nr->path = strdup(path);
    nr->mode64 = mode64;
    nr->pid = -1;
    nr->cmd_fd = nr->reply_fd = -1;
    nr->code = map_memfd("oracle-code", ORACLE_CODE_SIZE, &nr->code_fd);
    nr->data = map_memfd("oracle-data", ORACLE_DATA_SIZE, &nr->data_fd);
    nr->mb = map_memfd("oracle-mailbox", 4096, &nr->mb_fd);
    if (!nr->path || !nr->code || !nr->data || !nr->mb) {
        snprintf(why, why_len, "cannot set up the shared windows (see above)");
        native_stop(nr);
        return NULL;
    }
    if (!spawn(nr)) {
        int e = nr->exec_errno;
        if (e) {
            snprintf(why, why_len, "cannot execute %s: %s", path, strerror(e));
        } else {
            snprintf(why, why_len, "cannot start %s (see above)", path);
        }
        native_stop(nr);
        errno = e;
        return NULL;
    }
    /* A first empty test proves the runner mapped its windows. */
    OracleTest *probe = calloc(1, sizeof(*probe));
    if (!probe) {
        snprintf(why, why_len, "out of memory");
        native_stop(nr);
        return NULL;
    }
    probe->code[0] = 0xf4;
    probe->code_len = 1;
    probe->init.eip = ORACLE_CODE_BASE;
    probe->init.gpr[4] = ORACLE_DATA_BASE + ORACLE_STACK_HI - 0x100;
    probe->init.eflags = 0x202;
    probe->simd.mxcsr = 0x1f80;
    OracleResult r;
    bool answered = native_run(nr, probe, &r, NULL);
    free(probe);
    if (answered && r.vector == 13 && r.regs.eip == ORACLE_CODE_BASE) {
        return nr;
    }
    if (answered) {
        snprintf(why, why_len, "%s ended its first test (a HLT) with vector %d at %08x", path,
                 r.vector, r.regs.eip);
    } else {
        describe_death(nr, why, why_len);
    }
    native_stop(nr);
    errno = 0;
    return NULL;
}

bool native_run(NativeRunner *nr, const OracleTest *t, OracleResult *res, uint8_t *data_out)
{
    memset(res, 0, sizeof(*res));
    res->vector = -1;
    if (nr->pid < 0 && !spawn(nr)) {
        return false;
    }
    memset(nr->code, 0xf4, ORACLE_CODE_SIZE);
    memcpy(nr->code, t->code, t->code_len);
    for (int i = 0; nr->mode64 && i < t->n_slot; i++) {
        nr->code[t->slot[i]] = ORACLE_SLOT_NATIVE64;
    }
    memcpy(nr->data, t->data, ORACLE_DATA_SIZE);
    nr->mb->init = t->init;
    nr->mb->simd = t->simd;
    nr->mb->es_win = t->es_win;
    nr->mb->fs_win = t->fs_win;
    nr->mb->lm64 = t->lm64;
    memcpy(nr->mb->init_xmm_hi, t->xmm_hi, sizeof(t->xmm_hi));
    for (int r = 0; r < 16; r++) {
        nr->mb->init64[r][0] = (uint32_t)t->init64[r];
        nr->mb->init64[r][1] = (uint32_t)(t->init64[r] >> 32);
    }
    char c = ORACLE_CMD_RUN;
    struct pollfd p = {.fd = nr->reply_fd, .events = POLLIN};
    if (write(nr->cmd_fd, &c, 1) != 1 || poll(&p, 1, NATIVE_TIMEOUT_MS) != 1 ||
        read(nr->reply_fd, &c, 1) != 1 || c != ORACLE_REPLY_OK) {
        reap(nr);
        return false;
    }
    *res = nr->mb->result;
    if (data_out) {
        memcpy(data_out, nr->data, ORACLE_DATA_SIZE);
    }
    return res->ok != 0;
}

void native_stop(NativeRunner *nr)
{
    if (!nr) {
        return;
    }
    if (nr->pid > 0 && nr->cmd_fd >= 0) {
        char c = ORACLE_CMD_QUIT;
        if (write(nr->cmd_fd, &c, 1) == 1) {
            waitpid(nr->pid, NULL, 0);
            nr->pid = -1;
        }
    }
    reap(nr);
    if (nr->code) {
        munmap(nr->code, ORACLE_CODE_SIZE);
        close(nr->code_fd);
    }
    if (nr->data) {
        munmap(nr->data, ORACLE_DATA_SIZE);
        close(nr->data_fd);
    }
    if (nr->mb) {
        munmap(nr->mb, 4096);
        close(nr->mb_fd);
    }
    free(nr->path);
    free(nr);
}
