/*
 * Shifts and rotates: ROL ROR RCL RCR SHL SHR SAR SHLD SHRD (SDM Vol.2).
 *
 * Rules shared by all of them:
 *   - the count is masked to 5 bits (6 with REX.W), and a masked count of 0 changes
 *     neither the operand nor any flag (a memory operand is still checked
 *     for a write, as the P6 accesses it);
 *   - RCL/RCR of 8- and 16-bit operands rotate through CF, a 9- or 17-bit
 *     quantity, so the masked count is taken modulo 9 or 17;
 *   - OF is defined for a count of 1.  For larger counts it is undefined and
 *     we apply the count-1 formula to the final result, as the P6 family
 *     does: MSB(result) XOR CF for left shifts and rotates, MSB(result) XOR
 *     MSB-1(result) for right rotates, the sign change for right shifts.
 *
 * SHL/SHR/SAR/SHLD/SHRD leave lazy flags (CC_OP_SHL/SHR/SAR, see cpu/flags.c).
 * Rotates change only CF and OF, so the other four are materialised first.
 */
#include "cpu/ops.h"
#include "cpu/undef.h"

typedef unsigned __int128 u128;

/* The count operand (CL, imm8 or the constant 1) masked to 5 bits, or to 6
 * for a 64-bit destination (REX.W). */
static inline uint32_t shift_count(CPUState *cpu, const Insn *insn, int i)
{
    return (uint32_t)opnd_read(cpu, insn, i) & (insn->opnd[0].size == 8 ? 0x3f : 0x1f);
}

/* A masked count of 0 changes nothing, but a 32-bit register is still
 * written: in 64-bit mode its upper half is cleared, as the host CPU
 * does it (the oracle's long-mode tests); elsewhere the half is 0. */
static void count_zero(CPUState *cpu, const RMW *dst)
{
    if (!dst->is_mem && dst->size == 4) {
        cpu->regs[dst->reg] &= 0xffffffffu;
    }
}

/* Replace CF and OF, keeping the other arithmetic flags. */
static void set_cf_of(CPUState *cpu, bool cf, bool of)
{
    cpu_flush_flags(cpu);
    cpu->eflags =
        (cpu->eflags & ~(EFLAGS_CF | EFLAGS_OF)) | (cf ? EFLAGS_CF : 0) | (of ? EFLAGS_OF : 0);
}

/* ROL: rotate by count mod width; CF = LSB(result) whenever the masked count
 * is nonzero, even when the rotation is a whole turn (SDM Vol.2 RCL/RCR/ROL/ROR). */
void op_ROL(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint32_t count = shift_count(cpu, insn, 1);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    int bits = dst.size * 8;
    uint32_t n = count & (uint32_t)(bits - 1);
    uint64_t res = n ? ((a << n) | (a >> (bits - n))) & size_mask(dst.size) : a;
    opnd_rmw_write(cpu, &dst, res);
    bool cf = res & 1;
    set_cf_of(cpu, cf, ((res & size_sign(dst.size)) != 0) != cf);
}

/* ROR: CF = MSB(result); OF = MSB(result) XOR MSB-1(result). */
void op_ROR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint32_t count = shift_count(cpu, insn, 1);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    int bits = dst.size * 8;
    uint32_t n = count & (uint32_t)(bits - 1);
    uint64_t res = n ? ((a >> n) | (a << (bits - n))) & size_mask(dst.size) : a;
    opnd_rmw_write(cpu, &dst, res);
    uint64_t sign = size_sign(dst.size);
    set_cf_of(cpu, res & sign, ((res ^ (res << 1)) & sign) != 0);
}

/* Rotate count through CF: the masked count modulo width + 1 (9, 17; 33 and
 * 65 are never reached for dwords and qwords). */
static inline uint32_t rc_count(uint32_t count, int bits)
{
    return bits >= 32 ? count : count % (uint32_t)(bits + 1);
}

/*
 * RCL/RCR: rotate the (width + 1)-bit quantity CF:operand.  A count that is
 * a multiple of width + 1 rotates nothing and changes no flag (the SDM loop
 * runs zero times).  OF: RCL, MSB(result) XOR CF; RCR, MSB(result) XOR
 * MSB-1(result), which for a count of 1 is the SDM's MSB(DEST) XOR CF taken
 * before the rotation.
 */
static void rotate_through_carry(CPUState *cpu, const Insn *insn, bool left)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    int bits = dst.size * 8;
    uint32_t n = rc_count(shift_count(cpu, insn, 1), bits);
    if (n == 0) {
        count_zero(cpu, &dst);
        return;
    }
    u128 wide = (u128)flags_carry(cpu) << bits | a;
    u128 wide_mask = ((u128)1 << (bits + 1)) - 1;
    u128 rotated =
        left ? (wide << n) | (wide >> (bits + 1 - n)) : (wide >> n) | (wide << (bits + 1 - n));
    rotated &= wide_mask;
    uint64_t res = (uint64_t)rotated & size_mask(dst.size);
    bool cf = (rotated >> bits) & 1;
    uint64_t sign = size_sign(dst.size);
    opnd_rmw_write(cpu, &dst, res);
    bool of = left ? ((res & sign) != 0) != cf : ((res ^ (res << 1)) & sign) != 0;
    set_cf_of(cpu, cf, of);
}

void op_RCL(CPUState *cpu, const Insn *insn)
{
    rotate_through_carry(cpu, insn, true);
}

void op_RCR(CPUState *cpu, const Insn *insn)
{
    rotate_through_carry(cpu, insn, false);
}

/*
 * SHL/SAL (group 2 /4 and /6).  Counts up to 31 apply even to bytes and
 * words: the operand becomes 0 and CF is the last bit shifted out (0 once
 * the count passes the width).
 */
void op_SHL(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint32_t count = shift_count(cpu, insn, 1);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    uint64_t res = a << count;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SHLB, dst.size, res, a, count);
}

void op_SHR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint32_t count = shift_count(cpu, insn, 1);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    uint64_t res = a >> count;
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SHRB, dst.size, res, a, count);
}

/* SAR: the sign bit fills in; counts past the width leave all sign bits. */
void op_SAR(CPUState *cpu, const Insn *insn)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint32_t count = shift_count(cpu, insn, 1);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    uint64_t res = (uint64_t)(sext(a, dst.size) >> count);
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, CC_OP_SARB, dst.size, res, a, count);
}

/*
 * SHLD/SHRD r/m, r, count: shift r/m, filling from r.  With a 16-bit
 * operand and a count of 17..31 the SDM leaves the result undefined; the
 * P6 family shifts the 48-bit quantity DEST:SRC:DEST, and so do we.  Flags
 * are those of SHL/SHR of DEST by count (CF = last bit out of DEST, OF =
 * the sign change); for those undefined 16-bit counts CF comes out 0.
 */
static void double_shift(CPUState *cpu, const Insn *insn, bool left)
{
    RMW dst;
    uint64_t a = opnd_rmw_read(cpu, insn, 0, &dst);
    uint64_t b = opnd_read(cpu, insn, 1);
    uint32_t count = shift_count(cpu, insn, 2);
    if (count == 0) {
        count_zero(cpu, &dst);
        return;
    }
    uint64_t res;
    if (dst.size >= 4) {
        int bits = dst.size * 8;
        res = left ? (a << count) | (b >> (bits - count)) : (a >> count) | (b << (bits - count));
    } else {
        uint64_t wide = (uint64_t)(a & 0xffff) << 32 | (uint64_t)(b & 0xffff) << 16 | (a & 0xffff);
        res = (uint32_t)(left ? (wide << count) >> 32 : wide >> count);
        if (count > 16) {
            res = undef_result(cpu, res);
        }
        res &= 0xffff;
    }
    opnd_rmw_write(cpu, &dst, res);
    set_cc(cpu, left ? CC_OP_SHLB : CC_OP_SHRB, dst.size, res, a, count);
}

void op_SHLD(CPUState *cpu, const Insn *insn)
{
    double_shift(cpu, insn, true);
}

void op_SHRD(CPUState *cpu, const Insn *insn)
{
    double_shift(cpu, insn, false);
}
