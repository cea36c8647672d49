/*
 * The gdb stub's state, shared by its two halves: gdbstub.c (connection,
 * framing, run control) and gdbstub_cmds.c (the packet commands).
 */
#ifndef FRONTEND_GDBSTUB_INT_H
#define FRONTEND_GDBSTUB_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/state.h"
#include "frontend/gdbstub.h"
#include "softmmu/mmu.h"

#define GDB_MAX_BREAKPOINTS 64
#define GDB_SIGINT          2
#define GDB_SIGTRAP         5

enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };
/* Why the machine last stopped, for the stop reply. */
enum { STOP_SIGNAL, STOP_SWBREAK, STOP_HWBREAK, STOP_WATCH };

typedef struct GdbBreakpoint {
    uint32_t lin; /* linear address of the instruction (CS.base + EIP) */
    bool hw;      /* Z1 (reported as hwbreak) rather than Z0 */
} GdbBreakpoint;

struct GdbStub {
    CPUState *cpu;
    bool *vm_stopped;           /* the machine's run state, shared with the monitor */
    struct Monitor *monitor;    /* qRcmd target, or NULL */
    void (*kill)(void *opaque); /* 'k': end popek */
    void *kill_opaque;

    /* connection */
    int listen_fd;  /* -1 without a socket */
    int client_fd;  /* the connected gdb, -1 for none */
    bool connected; /* a client (socket or out_write) is there */
    void (*out_write)(void *opaque, const char *data, size_t len); /* socketless output */
    void *out_opaque;

    /* receiving */
    int rx_state; /* RX_* */
    char rx_buf[GDB_PACKET_MAX + 1];
    size_t rx_len;
    bool rx_overflow; /* the body outgrew rx_buf: answer E01 */
    uint8_t rx_sum;   /* running checksum of the body */
    int rx_csum_hi;   /* first checksum digit, -1 if not hex */
    bool no_ack;      /* QStartNoAckMode accepted */

    /* sending: the last packet, resent when gdb answers '-' */
    char tx[2 * GDB_PACKET_MAX + 16];
    size_t tx_len;

    /* run control */
    bool waiting;           /* gdb continued or stepped and waits for a stop reply */
    bool stepping;          /* stop before the next instruction that is not the resume point */
    uint64_t resume_icount; /* the resume point: instruction count ... */
    uint32_t resume_lin;    /* ... and linear EIP */
    int stop_kind;          /* STOP_* of the last stop */
    int stop_signal;        /* its signal number */
    uint32_t stop_addr;     /* watchpoint address for STOP_WATCH */
    int stop_watch_kind;    /* MMU_WATCH_* for STOP_WATCH */
    jmp_buf stop_env;       /* gdbstub_exec(): where a breakpoint hit lands */
    int (*engine)(void *opaque, uint64_t budget); /* runs the CPU; NULL: cpu_exec */
    void *engine_opaque;

    /* breakpoints and watchpoints */
    GdbBreakpoint bp[GDB_MAX_BREAKPOINTS];
    int nbp;
    uint32_t bp_lin[GDB_MAX_BREAKPOINTS]; /* their addresses, for CPUHooks.insn_bp */
    MMUWatchList watch; /* cpu->watch points here while it is not empty */

    /* the observers that were installed before the stub (the tracer) */
    void *chain_observer;
    void (*chain_insn)(void *opaque, CPUState *cpu, const struct Insn *insn);
    void (*chain_exception)(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                            bool is_hw_irq);
};

/* gdbstub.c */
void gdbstub_put_packet(GdbStub *s, const char *body);
/* A packet whose body may hold any byte ($ # } * are escaped). */
void gdbstub_put_packet_bin(GdbStub *s, const char *body, size_t len);
void gdbstub_disconnect(GdbStub *s);
void gdbstub_update_hooks(GdbStub *s);
/* After a breakpoint was set or removed: hooks, and no translated block
 * that holds one. */
void gdbstub_breakpoints_changed(GdbStub *s);
void gdbstub_set_resume_point(GdbStub *s);
void gdbstub_send_stop_reply(GdbStub *s);
void gdbstub_stop(GdbStub *s, int kind, int signal, uint32_t addr);
void gdbstub_resume(GdbStub *s, bool step);

/* gdbstub_cmds.c: act on one packet body (NUL-terminated, len bytes). */
void gdbstub_handle_packet(GdbStub *s, char *body, size_t len);

#endif /* FRONTEND_GDBSTUB_INT_H */
