/*
 * The gdb remote stub (GDB Remote Serial Protocol over TCP): -s, -S and
 * -gdb tcp:[HOST]:PORT, as in QEMU.
 *
 * The protocol engine takes bytes (gdbstub_feed) and writes replies through
 * the socket or, without one, through a write callback, so the parser and
 * dispatcher run without sockets (the fuzzer, tests/fuzz/fuzz_gdb.c).
 *
 * Breakpoints are kept here, not patched into guest memory: while any is
 * set (or a single step is under way) the stub hooks the CPU's on_insn
 * observer, and a hit leaves cpu_exec() before the instruction runs.  With
 * none, the hook is the tracer's or NULL, so an idle stub costs nothing per
 * instruction.  Watchpoints use the softmmu watch list (softmmu/mmu.h).
 */
#ifndef FRONTEND_GDBSTUB_H
#define FRONTEND_GDBSTUB_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"

#define GDB_PACKET_MAX 4096 /* the PacketSize we announce: longest packet body taken */

typedef struct GdbStub GdbStub;
struct Monitor;

/*
 * A stub for cpu.  vm_stopped is the machine's run state (shared with the
 * monitor): the stub sets it when it stops the CPU and clears it when gdb
 * continues.  Install trace hooks on the CPU before this: the stub chains
 * to them.
 */
GdbStub *gdbstub_new(CPUState *cpu, bool *vm_stopped);
void gdbstub_free(GdbStub *s);

/* "tcp::PORT" or "tcp:HOST:PORT" (HOST defaults to 127.0.0.1; PORT 0 picks
 * a free one and prints it).  False with a message in err. */
bool gdbstub_listen(GdbStub *s, const char *spec, char *err, size_t errlen);

/* Where 'monitor' (qRcmd) commands go, and what 'k' (kill) does. */
void gdbstub_set_monitor(GdbStub *s, struct Monitor *monitor);
void gdbstub_set_kill(GdbStub *s, void (*kill)(void *opaque), void *opaque);

/* Without a socket: act as if a client were connected, replies to write(). */
void gdbstub_attach_output(GdbStub *s, void (*write)(void *opaque, const char *data, size_t len),
                           void *opaque);
/* Bytes from the client. */
void gdbstub_feed(GdbStub *s, const uint8_t *data, size_t len);

/* Run the CPU for up to budget instructions, stopping before an instruction
 * at a breakpoint or after a single step: CPU_EXIT_DEBUG.  The machine's
 * engine runs it (cpu_exec until one is set): with nothing set the guest
 * runs as fast as without a stub. */
int gdbstub_exec(GdbStub *s, uint64_t budget);
void gdbstub_set_engine(GdbStub *s, int (*engine)(void *opaque, uint64_t budget), void *opaque);
/* After cpu_exec returned reason: report watchpoint hits, a step into HLT. */
void gdbstub_after_exec(GdbStub *s, int reason);

/* Descriptors to wait on (at most max), and service after poll(). */
int gdbstub_pollfds(GdbStub *s, struct pollfd *fds, int max);
void gdbstub_service(GdbStub *s, const struct pollfd *fds, int n);

#endif /* FRONTEND_GDBSTUB_H */
