/*
 * The gdb stub: connection, packet framing, run control and breakpoints.
 * The packet commands themselves are in gdbstub_cmds.c.
 *
 * Framing (GDB RSP, "Overview" of the remote protocol appendix): a packet
 * is $BODY#CC with CC the modulo-256 sum of BODY in hex.  Each one is
 * acknowledged with + or - until gdb asks for QStartNoAckMode.  A 0x03
 * byte between packets is an interrupt.  Anything else between packets is
 * garbage and dropped; a body longer than GDB_PACKET_MAX is dropped whole
 * (answered E01 when its checksum is right, so gdb does not resend it).
 *
 * Run control: the stub stops the machine through the shared vm_stopped
 * flag.  A breakpoint or step stop happens in the CPU's on_insn hook,
 * before the instruction: nothing of the instruction has happened yet
 * (cpu/exec.c fetches and decodes, then calls the hook, then executes), so
 * the hook longjmps straight out of cpu_exec() (called by the translator's
 * run loop or directly) to gdbstub_exec().  The
 * "resume point" (instruction count and linear EIP where the CPU was last
 * stopped or resumed) is exempt, so continuing from a breakpoint runs the
 * instruction under it, and a step stops before the next instruction that
 * is not the resume point: exactly one instruction, or the first
 * instruction of an interrupt or exception handler entered instead.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "frontend/gdbstub.h"
#include "frontend/gdbstub_int.h"
#include "softmmu/mmu.h"
#include "translator/translator.h"

/* ---- output ---- */

static void stub_write(GdbStub *s, const char *data, size_t len)
{
    if (s->out_write) {
        s->out_write(s->out_opaque, data, len);
        return;
    }
    while (s->client_fd >= 0 && len > 0) {
        ssize_t n = send(s->client_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        struct pollfd p = {s->client_fd, POLLOUT, 0};
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && poll(&p, 1, 2000) > 0) {
            continue;
        }
        /* A client that stopped reading (or vanished) is dropped rather
         * than allowed to stall the machine. */
        gdbstub_disconnect(s);
    }
}

void gdbstub_put_packet_bin(GdbStub *s, const char *body, size_t len)
{
    size_t n = 0;
    uint8_t sum = 0;
    s->tx[n++] = '$';
    for (size_t i = 0; i < len && n + 5 < sizeof(s->tx); i++) {
        char c = body[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            s->tx[n++] = '}';
            sum += '}';
            c ^= 0x20;
        }
        s->tx[n++] = c;
        sum += (uint8_t)c;
    }
    n += (size_t)snprintf(s->tx + n, sizeof(s->tx) - n, "#%02x", sum);
    s->tx_len = n;
    stub_write(s, s->tx, n);
}

void gdbstub_put_packet(GdbStub *s, const char *body)
{
    gdbstub_put_packet_bin(s, body, strlen(body));
}

/* ---- connection ---- */

GdbStub *gdbstub_new(CPUState *cpu, bool *vm_stopped)
{
    GdbStub *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->cpu = cpu;
    s->vm_stopped = vm_stopped;
    s->listen_fd = -1;
    s->client_fd = -1;
    s->watch.hit = -1;
    s->stop_signal = GDB_SIGTRAP;
    s->chain_observer = cpu->hooks.observer;
    s->chain_insn = cpu->hooks.on_insn;
    s->chain_exception = cpu->hooks.on_exception;
    return s;
}

void gdbstub_free(GdbStub *s)
{
    if (!s) {
        return;
    }
    if (s->client_fd >= 0) {
        close(s->client_fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->cpu->watch == &s->watch) {
        s->cpu->watch = NULL;
        tlb_flush_all(s->cpu);
    }
    s->nbp = 0;
    s->stepping = false;
    s->watch.count = 0; /* a watchpoint too would keep the hooks on s */
    gdbstub_update_hooks(s); /* give the CPU back its earlier observers */
    free(s);
}

void gdbstub_set_monitor(GdbStub *s, struct Monitor *monitor)
{
    s->monitor = monitor;
}

void gdbstub_set_kill(GdbStub *s, void (*kill)(void *opaque), void *opaque)
{
    s->kill = kill;
    s->kill_opaque = opaque;
}

/* A new client: the machine stops, as in QEMU, so gdb finds it still. */
static void stub_connected(GdbStub *s)
{
    s->connected = true;
    s->rx_state = RX_IDLE;
    s->no_ack = false;
    s->waiting = false;
    s->stepping = false;
    s->tx_len = 0;
    s->stop_kind = STOP_SIGNAL;
    s->stop_signal = GDB_SIGTRAP;
    *s->vm_stopped = true;
    gdbstub_set_resume_point(s);
}

void gdbstub_attach_output(GdbStub *s, void (*write)(void *opaque, const char *data, size_t len),
                           void *opaque)
{
    s->out_write = write;
    s->out_opaque = opaque;
    stub_connected(s);
}

void gdbstub_disconnect(GdbStub *s)
{
    if (s->client_fd >= 0) {
        close(s->client_fd);
        s->client_fd = -1;
    }
    s->connected = s->out_write != NULL;
    /* Leave no trace in the machine: breakpoints and watchpoints go, the
     * machine runs on. */
    s->nbp = 0;
    s->watch.count = 0;
    s->watch.hit = -1;
    s->cpu->watch = NULL;
    tlb_flush_all(s->cpu);
    s->stepping = false;
    s->waiting = false;
    s->rx_state = RX_IDLE;
    *s->vm_stopped = false;
    gdbstub_update_hooks(s);
}

/* Split "tcp:HOST:PORT" / "tcp::PORT". */
static bool parse_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    if (strncmp(spec, "tcp:", 4) != 0) {
        return false;
    }
    const char *h = spec + 4;
    const char *colon = strrchr(h, ':');
    if (!colon || (size_t)(colon - h) >= hostlen || strlen(colon + 1) >= portlen) {
        return false;
    }
    snprintf(host, hostlen, "%.*s", (int)(colon - h), h);
    snprintf(port, portlen, "%s", colon + 1);
    if (!host[0]) {
        snprintf(host, hostlen, "127.0.0.1"); /* localhost unless asked otherwise */
    }
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    return port[0] && *end == '\0' && p <= 65535;
}

bool gdbstub_listen(GdbStub *s, const char *spec, char *err, size_t errlen)
{
    char host[256], port[16];
    if (!parse_spec(spec, host, sizeof(host), port, sizeof(port))) {
        snprintf(err, errlen, "bad address '%s' (want tcp::PORT or tcp:HOST:PORT)", spec);
        return false;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "'%s': %s", host, gai_strerror(rc));
        return false;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0)) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(errno));
        return false;
    }
    s->listen_fd = fd;
    if (!strcmp(port, "0")) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        char name[64] = "?", serv[16] = "?";
        getsockname(fd, (struct sockaddr *)&sa, &len);
        getnameinfo((struct sockaddr *)&sa, len, name, sizeof(name), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        fprintf(stderr, "popek: gdb stub listening on %s:%s\n", name, serv);
    }
    return true;
}

static void stub_accept(GdbStub *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    if (s->connected) {
        close(fd); /* one debugger at a time */
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->client_fd = fd;
    stub_connected(s);
}

int gdbstub_pollfds(GdbStub *s, struct pollfd *fds, int max)
{
    int n = 0;
    if (s->listen_fd >= 0 && n < max) {
        fds[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
    }
    if (s->client_fd >= 0 && n < max) {
        fds[n++] = (struct pollfd){s->client_fd, POLLIN, 0};
    }
    return n;
}

void gdbstub_service(GdbStub *s, const struct pollfd *fds, int n)
{
    /* Stopped by someone else (the monitor) while gdb waits: tell gdb. */
    if (s->waiting && *s->vm_stopped) {
        gdbstub_stop(s, STOP_SIGNAL, GDB_SIGINT, 0);
    }
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents) {
            continue;
        }
        if (fds[i].fd == s->listen_fd) {
            stub_accept(s);
        } else if (fds[i].fd == s->client_fd) {
            uint8_t buf[4096];
            ssize_t got = recv(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (got > 0) {
                gdbstub_feed(s, buf, (size_t)got);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
                gdbstub_disconnect(s);
            }
        }
    }
}

/* ---- run control ---- */

static void stub_on_exception(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                              bool is_hw_irq)
{
    GdbStub *s = opaque;
    s->chain_exception(s->chain_observer, cpu, vector, error_code, is_hw_irq);
}

static noreturn void stub_stop_now(GdbStub *s, int kind, uint32_t addr)
{
    gdbstub_stop(s, kind, GDB_SIGTRAP, addr);
    longjmp(s->stop_env, 1);
}

/* Before each instruction while breakpoints are set or a step runs. */
static void stub_on_insn(void *opaque, CPUState *cpu, const struct Insn *insn)
{
    GdbStub *s = opaque;
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    if (cpu->icount != s->resume_icount || lin != s->resume_lin) {
        if (s->stepping) {
            stub_stop_now(s, STOP_SIGNAL, lin);
        }
        for (int i = 0; i < s->nbp; i++) {
            if (s->bp[i].lin == lin) {
                stub_stop_now(s, s->bp[i].hw ? STOP_HWBREAK : STOP_SWBREAK, lin);
            }
        }
    }
    if (s->chain_insn) {
        s->chain_insn(s->chain_observer, cpu, insn);
    }
}

/*
 * The CPU's observers for the current run state.  Breakpoints alone need
 * only the instructions at their addresses, so translated code keeps
 * running everywhere else (CPUHooks.insn_bp): a breakpoint costs only the
 * blocks it is in.  A step, a watchpoint (a read is only seen precisely by
 * the interpreter) or a chained tracer that sees every instruction makes
 * the interpreter run everything.  A listening stub with nothing set costs
 * nothing.
 */
void gdbstub_update_hooks(GdbStub *s)
{
    CPUHooks *h = &s->cpu->hooks;
    h->insn_bp = NULL;
    h->insn_bp_count = 0;
    if (s->nbp > 0 || s->stepping || s->watch.count > 0) {
        h->observer = s;
        h->on_insn = stub_on_insn;
        h->on_exception = s->chain_exception ? stub_on_exception : NULL;
        if (!s->stepping && s->watch.count == 0 && !s->chain_insn) {
            for (int i = 0; i < s->nbp; i++) {
                s->bp_lin[i] = s->bp[i].lin;
            }
            h->insn_bp = s->bp_lin;
            h->insn_bp_count = s->nbp;
        }
    } else {
        h->observer = s->chain_observer;
        h->on_insn = s->chain_insn;
        h->on_exception = s->chain_exception;
    }
}

void gdbstub_breakpoints_changed(GdbStub *s)
{
    gdbstub_update_hooks(s);
    /* Blocks translated before may hold an instruction at a new breakpoint. */
    if (bt_of(s->cpu)) {
        bt_flush(bt_of(s->cpu));
    }
}

void gdbstub_set_engine(GdbStub *s, int (*engine)(void *opaque, uint64_t budget), void *opaque)
{
    s->engine = engine;
    s->engine_opaque = opaque;
}

void gdbstub_set_resume_point(GdbStub *s)
{
    s->resume_icount = s->cpu->icount;
    s->resume_lin = s->cpu->seg[SEG_CS].base + s->cpu->eip;
}

void gdbstub_send_stop_reply(GdbStub *s)
{
    static const char *const watch_names[4] = {"", "watch", "rwatch", "awatch"};
    char reply[64];
    switch (s->stop_kind) {
    case STOP_SWBREAK:
        snprintf(reply, sizeof(reply), "T%02xthread:1;swbreak:;", s->stop_signal);
        break;
    case STOP_HWBREAK:
        snprintf(reply, sizeof(reply), "T%02xthread:1;hwbreak:;", s->stop_signal);
        break;
    case STOP_WATCH:
        snprintf(reply, sizeof(reply), "T%02xthread:1;%s:%x;", s->stop_signal,
                 watch_names[s->stop_watch_kind & 3], s->stop_addr);
        break;
    default: snprintf(reply, sizeof(reply), "T%02xthread:1;", s->stop_signal); break;
    }
    gdbstub_put_packet(s, reply);
}

void gdbstub_stop(GdbStub *s, int kind, int signal, uint32_t addr)
{
    *s->vm_stopped = true;
    s->stepping = false;
    s->stop_kind = kind;
    s->stop_signal = signal;
    s->stop_addr = addr;
    gdbstub_set_resume_point(s);
    gdbstub_update_hooks(s);
    fflush(NULL); /* traces up to here are on disk while the user looks around */
    if (s->waiting) {
        s->waiting = false;
        gdbstub_send_stop_reply(s);
    }
}

void gdbstub_resume(GdbStub *s, bool step)
{
    s->stepping = step;
    s->waiting = true;
    gdbstub_set_resume_point(s);
    *s->vm_stopped = false;
    gdbstub_update_hooks(s);
}

int gdbstub_exec(GdbStub *s, uint64_t budget)
{
    if (setjmp(s->stop_env)) {
        return CPU_EXIT_DEBUG;
    }
    /* The machine's own engine: the translator leaves whatever the hooks
     * above need to the interpreter, whose on_insn longjmps here. */
    return s->engine ? s->engine(s->engine_opaque, budget) : cpu_exec(s->cpu, budget);
}

void gdbstub_after_exec(GdbStub *s, int reason)
{
    if (s->watch.hit >= 0) {
        const MMUWatch *w = &s->watch.w[s->watch.hit];
        s->stop_watch_kind = (int)w->kind;
        s->watch.hit = -1;
        gdbstub_stop(s, STOP_WATCH, GDB_SIGTRAP, w->lin);
    } else if (reason == CPU_EXIT_HALT && s->stepping && s->cpu->icount != s->resume_icount) {
        /* The stepped instruction was HLT: report it done rather than wait
         * for an interrupt that may never come. */
        gdbstub_stop(s, STOP_SIGNAL, GDB_SIGTRAP, 0);
    }
}

/* ---- receiving ---- */

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The checksum's second digit arrived: answer, then act on the packet. */
static void stub_packet_end(GdbStub *s, int lo)
{
    int hi = s->rx_csum_hi;
    bool good = hi >= 0 && lo >= 0 && (uint8_t)(hi << 4 | lo) == s->rx_sum;
    s->rx_state = RX_IDLE;
    if (!s->no_ack) {
        stub_write(s, good ? "+" : "-", 1);
    }
    if (!good || !s->connected) {
        return;
    }
    if (s->rx_overflow) {
        gdbstub_put_packet(s, "E01");
        return;
    }
    s->rx_buf[s->rx_len] = '\0';
    gdbstub_handle_packet(s, s->rx_buf, s->rx_len);
}

static void stub_interrupt(GdbStub *s)
{
    if (s->waiting && !*s->vm_stopped) {
        gdbstub_stop(s, STOP_SIGNAL, GDB_SIGINT, 0);
    }
}

void gdbstub_feed(GdbStub *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && s->connected; i++) {
        uint8_t c = data[i];
        switch (s->rx_state) {
        case RX_IDLE:
            if (c == '$') {
                s->rx_state = RX_DATA;
                s->rx_len = 0;
                s->rx_sum = 0;
                s->rx_overflow = false;
            } else if (c == 0x03) {
                stub_interrupt(s);
            } else if (c == '-' && !s->no_ack && s->tx_len > 0) {
                stub_write(s, s->tx, s->tx_len); /* gdb saw a bad checksum: send again */
            }
            break; /* '+' and garbage between packets are dropped */
        case RX_DATA:
            if (c == '#') {
                s->rx_state = RX_CSUM1;
            } else if (c == '$') {
                s->rx_len = 0; /* a new packet began: the old one was cut short */
                s->rx_sum = 0;
                s->rx_overflow = false;
            } else {
                s->rx_sum += c;
                if (s->rx_len < GDB_PACKET_MAX) {
                    s->rx_buf[s->rx_len++] = (char)c;
                } else {
                    s->rx_overflow = true;
                }
            }
            break;
        case RX_CSUM1:
            s->rx_csum_hi = hex_digit(c);
            s->rx_state = RX_CSUM2;
            break;
        default: stub_packet_end(s, hex_digit(c)); break;
        }
    }
}
