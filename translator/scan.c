/*
 * Scanning a basic block: decode from the block's first byte until an
 * instruction that transfers control (INSN_F_BRANCH) or must end a block
 * (INSN_F_ENDBLOCK: mode changes, #UD; not STI, whose interrupt shadow
 * the block itself provides), the end of the page, or BT_MAX_INSNS.
 *
 * A block never leaves its physical page, so one code-page mark covers all
 * its bytes, and the fetch permission checked for its first byte holds for
 * all of them.  An instruction that crosses into the next page ends the
 * block before it; if it is the first, the block is empty and the run loop
 * interprets it (the interpreter fetches the second page exactly when the
 * hardware would).
 *
 * A debugger's breakpoint (CPUHooks.insn_bp) ends the block before it, and
 * a block is never started at one: the instruction there runs on the
 * interpreter, whose observer stops the machine before it.  The debugger
 * flushes the cache when its breakpoints change.
 *
 * In check mode a port I/O or x87 instruction (x87 errors reach the
 * interrupt controller through FERR#) gets a block of its own, so the
 * blocks around it can still be compared: device effects cannot be
 * replayed.
 */
#include "translator/bt_internal.h"

static bool at_breakpoint(const CPUState *cpu, uint64_t eip, uint32_t key)
{
    uint64_t lin = (key & KEY_CODE64) ? eip : (uint32_t)(cpu->seg[SEG_CS].base + eip);
    for (int i = 0; i < cpu->hooks.insn_bp_count; i++) {
        if (cpu->hooks.insn_bp[i] == lin) {
            return true;
        }
    }
    return false;
}

void bt_scan(const BT *bt, uint64_t eip, uint32_t phys_pc, const uint8_t *host, uint32_t key,
             BlockScan *out)
{
    uint32_t off = phys_pc & 0xfff;
    out->n = 0;
    out->eip = eip;
    out->phys_pc = phys_pc;
    enum DecodeMode mode = (key & KEY_CODE64) ? DECODE_64 : DECODE_32;
    while (out->n < BT_MAX_INSNS && off < 0x1000) {
        ScanInsn *si = &out->in[out->n];
        if (bt->cpu->hooks.insn_bp && at_breakpoint(bt->cpu, eip, key)) {
            break;
        }
        if (decode_insn_mode(&si->insn, host + off, (int)(0x1000 - off), mode) != DECODE_OK) {
            break; /* crosses the page (or is over 15 bytes): not in this block */
        }
        /* x87 run natively cannot reach FERR# (everything masked; when not,
         * its helper notes the I/O itself) */
        bool io =
            (si->insn.flags & INSN_F_IO) ||
            ((si->insn.flags & INSN_F_FPU) && !(bt->x87_native && bt_fpu_native_insn(&si->insn)));
        if (bt->mode == BT_MODE_CHECK && io && out->n > 0) {
            break;
        }
        si->eip = eip;
        si->bytes = host + off;
        out->n++;
        eip += si->insn.len;
        if (mode != DECODE_64) {
            eip = (uint32_t)eip; /* EIP wraps at 4 GiB outside 64-bit mode */
        }
        off += si->insn.len;
        /* STI's shadow covers the next instruction in 32-bit blocks (helpers.c,
         * gen_ops.c); a 64-bit block ends at STI and the run loop runs the
         * instruction in its shadow. */
        bool ends = (si->insn.flags & (INSN_F_BRANCH | INSN_F_ENDBLOCK)) &&
                    (si->insn.op != OP_STI || mode == DECODE_64);
        if (ends || (bt->mode == BT_MODE_CHECK && io)) {
            break;
        }
    }
    out->next_eip = eip;
}
