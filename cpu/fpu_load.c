/*
 * x87 data transfer: FLD/FST/FSTP in every format, FILD/FIST/FISTP, FBLD/
 * FBSTP, the constants, FXCH, FCMOVcc, and the guest memory access the
 * x87 instructions share.
 *
 * Loads read memory before touching the stack; stores compute their result
 * (a pure host operation), write memory, and only then commit the status
 * word and pop, so a #PF or #GP on the operand changes nothing.  A push
 * needs ST(7) empty; otherwise it is a stack overflow (IE, SF, C1=1) whose
 * masked response pushes the QNaN indefinite (SDM Vol.1 8.5.1.1).
 */
#include "cpu/fpu_internal.h"

/* ---- guest memory ---- */

/* How much of [at, at + left) a bulk copy moves at once: the rest of at's
 * page when the TLB lets it through (*host set), else one part of up to
 * four bytes through lin_read/lin_write. */
static int fpu_bulk_part(CPUState *cpu, uint64_t at, int left, int access, uint8_t **host)
{
    *host = lin_host_ptr(cpu, at, access);
    if (*host) {
        int room = (int)(0x1000u - (at & 0xfffu));
        return left < room ? left : room;
    }
    return left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

void fpu_read_linear(CPUState *cpu, uint64_t lin, int size, uint8_t *buf)
{
    int done = 0;
    while (done < size) {
        uint64_t at = lin_next(cpu, lin, (uint32_t)done);
        uint8_t *host;
        int part = fpu_bulk_part(cpu, at, size - done, ACC_READ, &host);
        if (host) {
            memcpy(buf + done, host, (size_t)part);
        } else {
            uint32_t v = (uint32_t)lin_read(cpu, at, part);
            memcpy(buf + done, &v, (size_t)part);
        }
        done += part;
    }
}

void fpu_mem_read(CPUState *cpu, int seg, uint64_t offset, int size, uint8_t *buf)
{
    fpu_read_linear(cpu, seg_translate(cpu, seg, offset, size, false), size, buf);
}

/* Fault now, before any byte is stored, if a page is not writable. */
static void fpu_probe_page(CPUState *cpu, uint64_t lin)
{
    TLBEntry *e = tlb_entry(cpu, (int)cpu->mmu_idx, lin);
    if (e->tag[ACC_WRITE] != (lin & TLB_PAGE_MASK)) {
        mmu_probe(cpu, lin, 1, ACC_WRITE, (int)cpu->mmu_idx);
    }
}

/* Both pages of a range that crosses one; the second from its first byte,
 * which is where the hardware reports such a fault (CR2). */
void fpu_probe_linear(CPUState *cpu, uint64_t lin, int size)
{
    uint64_t second = lin_next(cpu, lin, (uint32_t)size - 1) & TLB_PAGE_MASK;
    fpu_probe_page(cpu, lin);
    if (second != (lin & TLB_PAGE_MASK)) {
        fpu_probe_page(cpu, second);
    }
}

void fpu_write_linear(CPUState *cpu, uint64_t lin, int size, const uint8_t *buf)
{
    int done = 0;
    while (done < size) {
        uint64_t at = lin_next(cpu, lin, (uint32_t)done);
        uint8_t *host;
        int part = fpu_bulk_part(cpu, at, size - done, ACC_WRITE, &host);
        if (host) {
            memcpy(host, buf + done, (size_t)part);
        } else {
            uint32_t v = 0;
            memcpy(&v, buf + done, (size_t)part);
            lin_write(cpu, at, part, v);
        }
        done += part;
    }
}

void fpu_mem_write(CPUState *cpu, int seg, uint64_t offset, int size, const uint8_t *buf)
{
    uint64_t lin = seg_translate(cpu, seg, offset, size, true);
    fpu_probe_linear(cpu, lin, size);
    fpu_write_linear(cpu, lin, size, buf);
}

F80 fpu_from_int64(int64_t v)
{
    F80 r = {0, 0};
    if (v == 0) {
        return r;
    }
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int shift = __builtin_clzll(mag);
    r.sig = mag << shift;
    r.se = (uint16_t)((16383 + 63 - shift) | (v < 0 ? F80_SIGN : 0));
    return r;
}

/* ---- loads ---- */

/* Room for a push?  If not, the overflow and its masked response. */
static bool push_ok(CPUState *cpu)
{
    if (fpu_empty(cpu, 7)) {
        return true;
    }
    if (fpu_stack_fault(cpu, true)) {
        fpu_push(cpu, fpu_indefinite);
    }
    return false;
}

/* Push a value the host converted, if its status lets the load complete. */
static void push_converted(CPUState *cpu, uint16_t sw, F80 v)
{
    if (fpu_finish(cpu, sw, FSW_C1, false)) {
        fpu_push(cpu, v);
    }
}

/* Push a value that needed no conversion: C1 = 0 (SDM Vol.2 FLD). */
static void push_exact(CPUState *cpu, F80 v)
{
    fpu_push(cpu, v);
    fpu_set_c1(cpu, false);
}

/* FLD ST(i): the source is read relative to the TOP before the push.  An
 * empty source is reported as underflow (C1=0) even when the push would also
 * overflow: the source is checked first (found by the host-CPU oracle). */
void fpu_op_fld_sti(CPUState *cpu, const Insn *insn, int arg)
{
    if (fpu_empty(cpu, insn->rm)) {
        if (fpu_stack_fault(cpu, false)) {
            fpu_push(cpu, fpu_indefinite);
        }
        return;
    }
    if (!push_ok(cpu)) {
        return;
    }
    push_exact(cpu, fpu_get(cpu, insn->rm));
}

void fpu_op_fld_m32(CPUState *cpu, const Insn *insn, int arg)
{
    uint32_t m = (uint32_t)fpu_read_operand(cpu, insn, 4);
    if (push_ok(cpu)) {
        F80 v;
        uint16_t sw = x87_load_m32(cpu->fpu.fcw, m, &v);
        push_converted(cpu, sw, v);
    }
}

void fpu_op_fld_m64(CPUState *cpu, const Insn *insn, int arg)
{
    uint64_t m = fpu_read_operand(cpu, insn, 8);
    if (push_ok(cpu)) {
        F80 v;
        uint16_t sw = x87_load_m64(cpu->fpu.fcw, m, &v);
        push_converted(cpu, sw, v);
    }
}

/* FLD m80 takes the bits as they are: no SNaN or denormal check. */
void fpu_op_fld_m80(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[10];
    F80 v = {0, 0};
    fpu_mem_read(cpu, insn->seg, insn_ea(cpu, insn), 10, buf);
    memcpy(&v, buf, 10);
    if (push_ok(cpu)) {
        push_exact(cpu, v);
    }
}

/* FILD m16/m32/m64: every integer is exact in 64 significand bits. */
void fpu_op_fild(CPUState *cpu, const Insn *insn, int size)
{
    uint64_t m = fpu_read_operand(cpu, insn, size);
    int64_t value = size == 2 ? (int16_t)m : size == 4 ? (int32_t)m : (int64_t)m;
    if (push_ok(cpu)) {
        push_exact(cpu, fpu_from_int64(value));
    }
}

void fpu_op_fbld(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[10];
    fpu_mem_read(cpu, insn->seg, insn_ea(cpu, insn), 10, buf);
    if (push_ok(cpu)) {
        F80 v;
        uint16_t sw = x87_load_bcd(cpu->fpu.fcw, buf, &v);
        push_converted(cpu, sw, v);
    }
}

/* FLD1 .. FLDZ (D9 E8..EE, in ModRM.rm order). */
void fpu_op_fld_const(CPUState *cpu, const Insn *insn, int arg)
{
    if (push_ok(cpu)) {
        F80 v;
        uint16_t sw = x87_const(cpu->fpu.fcw, insn->rm, &v);
        push_converted(cpu, sw, v);
    }
}

/* ---- stores ---- */

/*
 * Common tail of a store from ST(0): write the converted value unless an
 * unmasked exception forbids it, then commit status and pop.
 */
static void store_finish(CPUState *cpu, const Insn *insn, uint16_t sw, int size, uint64_t value,
                         bool pop)
{
    if (!fpu_blocked(cpu, sw, true)) {
        fpu_write_operand(cpu, insn, size, value);
    }
    if (fpu_finish(cpu, sw, FSW_C1, true) && pop) {
        fpu_pop(cpu);
    }
}

/* ST(0) empty: the masked response stores the indefinite of the format. */
static void store_underflow(CPUState *cpu, const Insn *insn, int size, uint64_t indefinite,
                            bool pop)
{
    if (fpu_masked(cpu, FSW_IE)) {
        fpu_write_operand(cpu, insn, size, indefinite);
    }
    if (fpu_stack_fault(cpu, false) && pop) {
        fpu_pop(cpu);
    }
}

void fpu_op_fst_m32(CPUState *cpu, const Insn *insn, int pop)
{
    if (fpu_empty(cpu, 0)) {
        store_underflow(cpu, insn, 4, 0xffc00000u, pop);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint32_t m;
    uint16_t sw = x87_store_m32(cpu->fpu.fcw, &a, &m);
    store_finish(cpu, insn, sw, 4, m, pop);
}

void fpu_op_fst_m64(CPUState *cpu, const Insn *insn, int pop)
{
    if (fpu_empty(cpu, 0)) {
        store_underflow(cpu, insn, 8, 0xfff8000000000000ull, pop);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint64_t m;
    uint16_t sw = x87_store_m64(cpu->fpu.fcw, &a, &m);
    store_finish(cpu, insn, sw, 8, m, pop);
}

/* FIST m16/m32, FISTP m16/m32/m64.  Out of range or NaN is IE; masked, the
 * integer indefinite (the most negative integer) is stored. */
void fpu_op_fist(CPUState *cpu, const Insn *insn, int variant)
{
    int size = variant & ~(FIST_POP | FIST_TRUNC);
    bool pop = variant & FIST_POP;
    uint64_t indefinite = 1ull << (8 * size - 1);
    if (fpu_empty(cpu, 0)) {
        store_underflow(cpu, insn, size, indefinite, pop);
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint16_t sw;
    uint64_t value;
    if (variant & FIST_TRUNC) {
        sw = x87_store_trunc(cpu->fpu.fcw, &a, size, &value);
    } else if (size == 2) {
        uint16_t m;
        sw = x87_store_i16(cpu->fpu.fcw, &a, &m);
        value = m;
    } else if (size == 4) {
        uint32_t m;
        sw = x87_store_i32(cpu->fpu.fcw, &a, &m);
        value = m;
    } else {
        sw = x87_store_i64(cpu->fpu.fcw, &a, &value);
    }
    store_finish(cpu, insn, sw, size, value, pop);
}

/* FSTP m80 stores the register bits as they are. */
void fpu_op_fstp_m80(CPUState *cpu, const Insn *insn, int arg)
{
    bool empty = fpu_empty(cpu, 0);
    F80 a = empty ? fpu_indefinite : fpu_get(cpu, 0);
    uint8_t buf[10];
    memcpy(buf, &a, 10);
    if (!empty || fpu_masked(cpu, FSW_IE)) {
        fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), 10, buf);
    }
    if (empty) {
        if (fpu_stack_fault(cpu, false)) {
            fpu_pop(cpu);
        }
        return;
    }
    fpu_set_c1(cpu, false);
    fpu_pop(cpu);
}

/* FBSTP: 18 BCD digits and a sign byte; the BCD indefinite is FFFF C000..0. */
void fpu_op_fbstp(CPUState *cpu, const Insn *insn, int arg)
{
    static const uint8_t bcd_indefinite[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};
    uint8_t buf[10];
    if (fpu_empty(cpu, 0)) {
        if (fpu_masked(cpu, FSW_IE)) {
            fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), 10, bcd_indefinite);
        }
        if (fpu_stack_fault(cpu, false)) {
            fpu_pop(cpu);
        }
        return;
    }
    F80 a = fpu_get(cpu, 0);
    uint16_t sw = x87_store_bcd(cpu->fpu.fcw, &a, buf);
    if (!fpu_blocked(cpu, sw, true)) {
        fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), 10, buf);
    }
    if (fpu_finish(cpu, sw, FSW_C1, true)) {
        fpu_pop(cpu);
    }
}

/* ---- register moves ---- */

/* FST/FSTP ST(i) (and the FSTP1/8/9 aliases): a plain copy, no conversion. */
void fpu_op_fst_sti(CPUState *cpu, const Insn *insn, int pop)
{
    if (fpu_empty(cpu, 0)) {
        if (fpu_stack_fault(cpu, false)) {
            fpu_set(cpu, insn->rm, fpu_indefinite);
            if (pop) {
                fpu_pop(cpu);
            }
        }
        return;
    }
    fpu_set(cpu, insn->rm, fpu_get(cpu, 0));
    fpu_set_c1(cpu, false);
    if (pop) {
        fpu_pop(cpu);
    }
}

/* FXCH: an empty side is an underflow; masked, it reads as the indefinite. */
void fpu_op_fxch(CPUState *cpu, const Insn *insn, int arg)
{
    int i = insn->rm;
    bool empty0 = fpu_empty(cpu, 0);
    bool emptyi = fpu_empty(cpu, i);
    F80 st0 = empty0 ? fpu_indefinite : fpu_get(cpu, 0);
    F80 sti = emptyi ? fpu_indefinite : fpu_get(cpu, i);
    if (empty0 || emptyi) {
        if (!fpu_stack_fault(cpu, false)) {
            return;
        }
    } else {
        fpu_set_c1(cpu, false);
    }
    fpu_set(cpu, 0, sti);
    fpu_set(cpu, i, st0);
}

/* FCMOVcc ST(0), ST(i): the P6 condition codes of Jcc (B, E, BE, U = P). */
void fpu_op_fcmov(CPUState *cpu, const Insn *insn, int cond)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, insn->rm)) {
        if (fpu_stack_fault(cpu, false)) {
            fpu_set(cpu, 0, fpu_indefinite);
        }
        return;
    }
    /* C1 changes only on a stack fault (SDM Vol.2 FCMOVcc). */
    if (flags_condition(cpu, cond)) {
        fpu_set(cpu, 0, fpu_get(cpu, insn->rm));
    }
}
