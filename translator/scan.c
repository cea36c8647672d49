/*
 * Scanning a basic block: decode from the block's first byte until an
 * instruction that transfers control (INSN_F_BRANCH) or must end a block
 * (INSN_F_ENDBLOCK: mode changes, #UD; not STI, whose interrupt shadow
 * the block itself provides), the end of the page, or BT_MAX_INSNS.
 *
 * A block never leaves its physical page, so one code-page mark covers all
 * its bytes, and the fetch permission checked for its first byte holds for
 * all of them.  An instruction that crosses into the next page ends the
 * block before it; if it is the first, it becomes a block of its own that
 * covers both pages (translator/straddle.c).
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
#include "cpu/mem.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"
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

/*
 * A call to a PC thunk (i386 PIC code's __x86.get_pc_thunk.REG:
 * "mov REG, [esp] ; ret") goes on in the same block: its two instructions
 * are scanned after the CALL, and the block continues at the return
 * address (gen_flow.c emits the three); all a block's thunks on one page.  The thunk's page is looked up in
 * the TLB or by a walk that neither faults nor sets A/D bits, and must be
 * RAM; the block is then on that page's list too (TB.phys2), so a write to
 * the thunk drops it, and the CALL checks the page's mapping in the TLB
 * when it runs (a miss makes it an ordinary call, whose fetch fills it).
 */
static bool scan_thunk(const BT *bt, BlockScan *out, uint32_t target)
{
    CPUState *cpu = bt->cpu;
    uint32_t lin = cpu->seg[SEG_CS].base + target;
    if (out->straddle || out->n + 2 >= BT_MAX_INSNS || cpu->hooks.insn_bp ||
        (lin & 0xfff) > 0x1000 - 4) {
        return false;
    }
    const TLBEntry *e = tlb_entry(cpu, cpu->mmu_idx, lin);
    uint64_t phys = e->phys;
    if (e->tag[ACC_FETCH] != (lin & TLB_PAGE_MASK) || e->phys_hi) {
        uint32_t pf_error, page_size;
        bool global;
        if (!paging_walk(cpu, lin, ACC_FETCH, cpu->mmu_idx, false, &phys, &pf_error, &global,
                         &page_size) ||
            phys >> 32) {
            return false; /* the look-up of a debugger: no fault, no A/D bits */
        }
    }
    uint32_t phys_page = (uint32_t)phys & TLB_PAGE_MASK;
    const uint8_t *page = phys_ram_page(cpu->phys, phys_page);
    if (!page || (out->phys2 != BT_NO_PAGE2 && out->phys2 != phys_page)) {
        return false;
    }
    const uint8_t *b = page + (lin & 0xfff);
    int reg = b[1] >> 3 & 7;
    /* 8B /r with mod 00, rm 100 (SIB), SIB 24h: mov REG, [esp]; then C3: ret */
    if (b[0] != 0x8b || (b[1] & 0307) != 0004 || b[2] != 0x24 || b[3] != 0xc3 || reg == R_ESP) {
        return false;
    }
    for (int i = 0; i < 2; i++) {
        ScanInsn *si = &out->in[out->n];
        if (decode_insn(&si->insn, b + 3 * i, 4 - 3 * i, true) != DECODE_OK) {
            return false;
        }
        si->eip = target + 3u * (uint32_t)i;
        si->bytes = b + 3 * i;
        out->n++;
    }
    if ((phys_page ^ out->phys_pc) & TLB_PAGE_MASK) {
        out->phys2 = phys_page;
        out->lin2 = lin & TLB_PAGE_MASK;
    }
    return true;
}

void bt_scan(const BT *bt, uint64_t eip, uint32_t phys_pc, const uint8_t *host, uint32_t key,
             BlockScan *out)
{
    uint32_t off = phys_pc & 0xfff;
    out->n = 0;
    out->eip = eip;
    out->phys_pc = phys_pc;
    out->phys2 = BT_NO_PAGE2;
    out->straddle = false;
    enum DecodeMode mode = (key & KEY_CODE64) ? DECODE_64 : DECODE_32;
    while (out->n < BT_MAX_INSNS && off < 0x1000) {
        ScanInsn *si = &out->in[out->n];
        if (bt->cpu->hooks.insn_bp && at_breakpoint(bt->cpu, eip, key)) {
            break;
        }
        if (decode_insn_mode(&si->insn, host + off, (int)(0x1000 - off), mode) != DECODE_OK) {
            /* crosses the page (or is over 15 bytes): not in this block,
             * unless it is the block's first (straddle.c) */
            if (out->n == 0 && bt_scan_straddle(bt, host, mode, out)) {
                return;
            }
            break;
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
        /* STI's shadow covers the next instruction, in the block (helpers.c,
         * gen_ops.c).  In 32-bit blocks a light segment load leaves only if
         * it changed the key, a CR read never (gen_sys.c). */
        bool ends = (si->insn.flags & (INSN_F_BRANCH | INSN_F_ENDBLOCK)) &&
                    si->insn.op != OP_STI &&
                    (mode == DECODE_64 ? !bt_sys_stays_in_block64(&si->insn, key)
                                       : !bt_sys_stays_in_block(&si->insn));
        if (mode != DECODE_64 && si->insn.op == OP_CALL && si->insn.opsize == 4 &&
            scan_thunk(bt, out, (uint32_t)(eip + si->insn.imm))) {
            continue; /* the thunk's MOV and RET, then on at the return address */
        }
        if (ends || (bt->mode == BT_MODE_CHECK && io)) {
            break;
        }
    }
    out->next_eip = eip;
}
