/*
 * Control transfers of 64-bit blocks (gen64_flow.c), and the return
 * prediction both widths share (gen_flow.c).
 */
#ifndef TRANSLATOR_GEN64_FLOW_H
#define TRANSLATOR_GEN64_FLOW_H

#include "translator/gen.h"

/* CALL rel32, CALL r/m64, JMP r/m64, RET [imm16] of a 64-bit block: true
 * if si was emitted with the block's exits (it is the block's last);
 * false, nothing emitted, if it is a callout. */
bool gen64_flow_end(Gen *g, const ScanInsn *si);

/* An exit to target, chained: on the block's own page directly, on
 * another after re-checking the target page's TLB entry. */
void gen64_exit_chain(Gen *g, uint64_t target, bool recheck);

/* An indirect exit to the canonical RIP in r14, through the jump cache. */
void gen64_exit_indirect(Gen *g);

/* After a door whose callout let the block go on (SYSCALL, SYSRET,
 * INT, IRET): the RIP in CPUState, the key and TLB view new. */
void gen64_exit_far(Gen *g);

/* After an instruction that may change the mode, whose callout let the
 * block go on (bt_may_go_on, helpers.c): chained to target when the key
 * is the block's, else through the jump cache under the new one. */
void gen64_exit_after_mode_change(Gen *g, uint64_t target);

/* SYSCALL and SYSRET of a 64-bit block: a light helper (helpers_sys.c),
 * then the far exit (gen_sys.c). */
void gen64_sys_door(Gen *g, const ScanInsn *si);
int bt_helper_sys_door64(CPUState *cpu, const BTCallInfo *ci);

/* The return ring (gen_flow.c), for either width (g->key): a CALL's
 * push, returning the field gen_ras_cont binds to the continuation; the
 * continuation, a chained exit to ret; a RET's pop with the target in r14. */
uint8_t *gen_ras_push(Gen *g, uint64_t ret);
void gen_ras_cont(Gen *g, uint8_t *field, uint64_t ret);
void gen_ras_pop_exit(Gen *g);

/* PUSH imm, PUSH m64 and LEAVE of a 64-bit block (gen64_stack.c); false,
 * nothing emitted, if si is not one of them or needs a callout. */
bool gen64_stack_insn(Gen *g, const ScanInsn *si);

/* ---- helpers64_flow.c ---- */
/* The slow path's commit of a 64-bit CALL's push: the return address to
 * [RSP], leaving (if it must) at the call's target. */
int bt_helper_call64_commit(CPUState *cpu, const BTCallInfo *ci);
/* LEAVE's read at RBP (#SS(0) off the canonical range). */
int bt_helper_leave64_prep(CPUState *cpu, const BTCallInfo *ci);

#endif /* TRANSLATOR_GEN64_FLOW_H */
