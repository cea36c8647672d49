/*
 * The x87 FPU: register stack, tags, exception bookkeeping, and the decode
 * of the escape opcodes D8-DF into one handler per instruction.
 *
 * Exceptions follow SDM Vol.1 8.4-8.7: every flag an operation raises is
 * sticky in the status word; an unmasked one also sets ES (and B, which
 * mirrors it on the P6) and is reported at the NEXT waiting x87 instruction
 * or WAIT: #MF when CR0.NE=1, otherwise through FERR# to the PC's IRQ13
 * (cpu->ferr_pending, which the machine layer latches and clears).
 *
 * The instruction pointer, data pointer and opcode registers record the last
 * non-control instruction (SDM Vol.1 8.1.8, 8.1.9); the dispatcher updates
 * them after a handler has done all its memory accesses, so a #PF or #GP
 * during the instruction leaves them, like everything else, unchanged.
 */
#include <string.h>

#include "cpu/fpu_internal.h"
#include "cpu/mem.h"

/* ---- register stack ---- */

int fpu_tag_of(F80 v)
{
    int exp = v.se & F80_EXP_MASK;
    if (exp == F80_EXP_MASK) {
        return TAG_SPECIAL;
    }
    if (exp == 0) {
        return v.sig == 0 ? TAG_ZERO : TAG_SPECIAL;
    }
    /* An unnormal (integer bit clear) is an unsupported format: special. */
    return (v.sig & F80_INT_BIT) ? TAG_VALID : TAG_SPECIAL;
}

F80 fpu_get_phys(const CPUState *cpu, int phys)
{
    F80 v = {0, 0};
    memcpy(&v, &cpu->fpu.st[phys], 10);
    return v;
}

void fpu_set_phys(CPUState *cpu, int phys, F80 v)
{
    memcpy(&cpu->fpu.st[phys], &v, 10);
}

void fpu_set_tag(CPUState *cpu, int phys, int tag)
{
    cpu->fpu.ftw = (uint16_t)((cpu->fpu.ftw & ~(3u << (2 * phys))) | ((unsigned)tag << (2 * phys)));
}

F80 fpu_get(const CPUState *cpu, int i)
{
    return fpu_get_phys(cpu, fpu_phys(cpu, i));
}

void fpu_set(CPUState *cpu, int i, F80 v)
{
    int phys = fpu_phys(cpu, i);
    fpu_set_phys(cpu, phys, v);
    fpu_set_tag(cpu, phys, fpu_tag_of(v));
}

void fpu_push(CPUState *cpu, F80 v)
{
    cpu->fpu.top = (cpu->fpu.top - 1) & 7;
    fpu_set(cpu, 0, v);
}

void fpu_pop(CPUState *cpu)
{
    fpu_set_tag(cpu, fpu_phys(cpu, 0), TAG_EMPTY);
    cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}

uint16_t fpu_status_word(const CPUState *cpu)
{
    return (uint16_t)((cpu->fpu.fsw & ~FSW_TOP) | ((cpu->fpu.top & 7u) << FSW_TOP_SHIFT));
}

/* FNSTENV/FNSAVE report the tag each register's contents call for
 * (SDM Vol.1 8.1.7); only "empty" is state of its own. */
uint16_t fpu_tag_word(const CPUState *cpu)
{
    uint16_t ftw = 0;
    for (int phys = 0; phys < 8; phys++) {
        int tag = fpu_tag_phys(cpu, phys);
        if (tag != TAG_EMPTY) {
            tag = fpu_tag_of(fpu_get_phys(cpu, phys));
        }
        ftw |= (uint16_t)(tag << (2 * phys));
    }
    return ftw;
}

/* ---- exceptions ---- */

void fpu_set_c1(CPUState *cpu, bool c1)
{
    cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~FSW_C1) | (c1 ? FSW_C1 : 0));
}

void fpu_update_es(CPUState *cpu)
{
    if (cpu->fpu.fsw & FSW_EXC & ~cpu->fpu.fcw) {
        cpu->fpu.fsw |= FSW_ES | FSW_B;
    } else {
        cpu->fpu.fsw &= (uint16_t) ~(FSW_ES | FSW_B);
    }
}

bool fpu_stack_fault(CPUState *cpu, bool overflow)
{
    cpu->fpu.fsw |= FSW_IE | FSW_SF;
    fpu_set_c1(cpu, overflow);
    fpu_update_es(cpu);
    return fpu_masked(cpu, FSW_IE);
}

bool fpu_blocked(const CPUState *cpu, uint16_t host_sw, bool to_memory)
{
    uint16_t unmasked = host_sw & FSW_EXC & ~cpu->fpu.fcw;
    if (unmasked & (FSW_IE | FSW_ZE | FSW_DE)) {
        return true;
    }
    return to_memory && (unmasked & (FSW_OE | FSW_UE));
}

bool fpu_finish(CPUState *cpu, uint16_t host_sw, uint16_t cc_mask, bool to_memory)
{
    bool blocked = fpu_blocked(cpu, host_sw, to_memory);
    cpu->fpu.fsw |= host_sw & FSW_EXC;
    if (!blocked) {
        cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~cc_mask) | (host_sw & cc_mask));
    }
    fpu_update_es(cpu);
    return !blocked;
}

void fpu_check_pending(CPUState *cpu)
{
    if (!(cpu->fpu.fsw & FSW_ES)) {
        return;
    }
    if (cpu->cr0 & CR0_NE) {
        cpu_raise_exception(cpu, EXC_MF);
    }
    /* MS-DOS compatible reporting (SDM Vol.1 8.7): FERR# goes to the
     * interrupt controller and the instruction proceeds, as with IGNNE#. */
    if (!cpu->ferr_pending && cpu->hooks.ferr) {
        cpu->hooks.ferr(cpu->hooks.opaque);
    }
    cpu->ferr_pending = true;
}

void fpu_init_state(CPUState *cpu)
{
    cpu->fpu.fcw = FCW_INIT;
    cpu->fpu.fsw = 0;
    cpu->fpu.top = 0;
    cpu->fpu.ftw = 0xffff;
    cpu->fpu.fop = 0;
    cpu->fpu.fip = 0;
    cpu->fpu.fcs = 0;
    cpu->fpu.fdp = 0;
    cpu->fpu.fds = 0;
}

void fpu_reset(CPUState *cpu)
{
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    memset(cpu->xmm_hi, 0, sizeof(cpu->xmm_hi)); /* XMM8-15 too (SDM Vol.3 Table 10-1) */
    fpu_init_state(cpu);
    cpu->fpu.mxcsr = FPU_MXCSR_DEFAULT;
    cpu->ferr_pending = false;
}

/* ---- decode ---- */

#define FOP_CONTROL 0x01 /* a control instruction: pointers and FOP not updated */
#define FOP_NOWAIT  0x02 /* an FN... form: no check for pending exceptions */

typedef struct FpuOp {
    FpuHandler fn; /* NULL: reserved encoding, #UD */
    uint8_t flags; /* FOP_* */
    uint8_t arg;   /* the handler's variant */
} FpuOp;

/* The tables are laid out like the SDM's opcode maps, not by clang-format. */
/* clang-format off */
#define OP(fn, arg) {fn, 0, arg}
#define CTL(fn, arg) {fn, FOP_CONTROL, arg}
#define NOWAIT(fn, arg) {fn, FOP_CONTROL | FOP_NOWAIT, arg}
#define UD {0}

/* Memory forms by escape (D8..DF) and ModRM.reg (SDM Vol.2 Tables A-7..A-22). */
static const FpuOp fpu_mem_ops[8][8] = {
    /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32real */
    {OP(fpu_op_arith_m32, X87_ADD), OP(fpu_op_arith_m32, X87_MUL),
     OP(fpu_op_com_m32, 0),         OP(fpu_op_com_m32, FCMP_POP1),
     OP(fpu_op_arith_m32, X87_SUB), OP(fpu_op_arith_m32, X87_SUBR),
     OP(fpu_op_arith_m32, X87_DIV), OP(fpu_op_arith_m32, X87_DIVR)},
    /* D9: FLD m32real, -, FST, FSTP m32real, FLDENV, FLDCW, FNSTENV, FNSTCW */
    {OP(fpu_op_fld_m32, 0),   UD,
     OP(fpu_op_fst_m32, 0),   OP(fpu_op_fst_m32, 1),
     CTL(fpu_op_fldenv, 0),   CTL(fpu_op_fldcw, 0),
     NOWAIT(fpu_op_fnstenv, 0), NOWAIT(fpu_op_fnstcw, 0)},
    /* DA: FIADD FIMUL FICOM FICOMP FISUB FISUBR FIDIV FIDIVR m32int */
    {OP(fpu_op_arith_i32, X87_ADD), OP(fpu_op_arith_i32, X87_MUL),
     OP(fpu_op_com_i32, 0),         OP(fpu_op_com_i32, FCMP_POP1),
     OP(fpu_op_arith_i32, X87_SUB), OP(fpu_op_arith_i32, X87_SUBR),
     OP(fpu_op_arith_i32, X87_DIV), OP(fpu_op_arith_i32, X87_DIVR)},
    /* DB: FILD m32int, FISTTP m32int (SSE3), FIST, FISTP m32int, -, FLD m80real, -, FSTP m80real */
    {OP(fpu_op_fild, 4),      OP(fpu_op_fist, 4 | FIST_POP | FIST_TRUNC),
     OP(fpu_op_fist, 4),      OP(fpu_op_fist, 4 | FIST_POP),
     UD,                      OP(fpu_op_fld_m80, 0),
     UD,                      OP(fpu_op_fstp_m80, 0)},
    /* DC: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m64real */
    {OP(fpu_op_arith_m64, X87_ADD), OP(fpu_op_arith_m64, X87_MUL),
     OP(fpu_op_com_m64, 0),         OP(fpu_op_com_m64, FCMP_POP1),
     OP(fpu_op_arith_m64, X87_SUB), OP(fpu_op_arith_m64, X87_SUBR),
     OP(fpu_op_arith_m64, X87_DIV), OP(fpu_op_arith_m64, X87_DIVR)},
    /* DD: FLD m64real, FISTTP m64int (SSE3), FST, FSTP m64real, FRSTOR, -, FNSAVE, FNSTSW m16 */
    {OP(fpu_op_fld_m64, 0),   OP(fpu_op_fist, 8 | FIST_POP | FIST_TRUNC),
     OP(fpu_op_fst_m64, 0),   OP(fpu_op_fst_m64, 1),
     CTL(fpu_op_frstor, 0),   UD,
     NOWAIT(fpu_op_fnsave, 0), NOWAIT(fpu_op_fnstsw_m, 0)},
    /* DE: FIADD FIMUL FICOM FICOMP FISUB FISUBR FIDIV FIDIVR m16int */
    {OP(fpu_op_arith_i16, X87_ADD), OP(fpu_op_arith_i16, X87_MUL),
     OP(fpu_op_com_i16, 0),         OP(fpu_op_com_i16, FCMP_POP1),
     OP(fpu_op_arith_i16, X87_SUB), OP(fpu_op_arith_i16, X87_SUBR),
     OP(fpu_op_arith_i16, X87_DIV), OP(fpu_op_arith_i16, X87_DIVR)},
    /* DF: FILD m16int, FISTTP m16int (SSE3), FIST, FISTP m16int, FBLD, FILD m64int, FBSTP,
     * FISTP m64int */
    {OP(fpu_op_fild, 2),      OP(fpu_op_fist, 2 | FIST_POP | FIST_TRUNC),
     OP(fpu_op_fist, 2),      OP(fpu_op_fist, 2 | FIST_POP),
     OP(fpu_op_fbld, 0),      OP(fpu_op_fild, 8),
     OP(fpu_op_fbstp, 0),     OP(fpu_op_fist, 8 | FIST_POP)},
};

/*
 * Register forms by escape and ModRM bits 5..0 (ModRM C0..FF), after the
 * SDM's escape opcode maps.  The encodings the maps leave blank but every
 * P6 executes as aliases are included: FSTP1 (D9 D8), FCOM2/FCOMP3 (DC D0/D8),
 * FXCH4 (DD C8), FCOMP5 (DE D0), FFREEP (DF C0), FXCH7 (DF C8), FSTP8/9
 * (DF D0/D8).  Every other blank is #UD.
 */
static const FpuOp fpu_reg_ops[8][64] = {
    /* D8: ST(0) = ST(0) op ST(i); FCOM, FCOMP */
    {[0x00 ... 0x07] = OP(fpu_op_arith_st0, X87_ADD),
     [0x08 ... 0x0f] = OP(fpu_op_arith_st0, X87_MUL),
     [0x10 ... 0x17] = OP(fpu_op_com_sti, 0),
     [0x18 ... 0x1f] = OP(fpu_op_com_sti, FCMP_POP1),
     [0x20 ... 0x27] = OP(fpu_op_arith_st0, X87_SUB),
     [0x28 ... 0x2f] = OP(fpu_op_arith_st0, X87_SUBR),
     [0x30 ... 0x37] = OP(fpu_op_arith_st0, X87_DIV),
     [0x38 ... 0x3f] = OP(fpu_op_arith_st0, X87_DIVR)},
    /* D9 */
    {[0x00 ... 0x07] = OP(fpu_op_fld_sti, 0),
     [0x08 ... 0x0f] = OP(fpu_op_fxch, 0),
     [0x10]          = OP(fpu_op_fnop, 0),
     [0x18 ... 0x1f] = OP(fpu_op_fst_sti, 1),                  /* FSTP1 */
     [0x20]          = OP(fpu_op_fchs, 0),
     [0x21]          = OP(fpu_op_fabs, 0),
     [0x24]          = OP(fpu_op_ftst, 0),
     [0x25]          = OP(fpu_op_fxam, 0),
     [0x28 ... 0x2e] = OP(fpu_op_fld_const, 0),                /* FLD1 .. FLDZ */
     [0x30]          = OP(fpu_op_unary, X87_F2XM1),
     [0x31]          = OP(fpu_op_binary_pop, X87_FYL2X),
     [0x32]          = OP(fpu_op_split, X87_FPTAN),
     [0x33]          = OP(fpu_op_binary_pop, X87_FPATAN),
     [0x34]          = OP(fpu_op_split, X87_FXTRACT),
     [0x35]          = OP(fpu_op_binary_st0, X87_FPREM1),
     [0x36]          = OP(fpu_op_fdecstp, 0),
     [0x37]          = OP(fpu_op_fincstp, 0),
     [0x38]          = OP(fpu_op_binary_st0, X87_FPREM),
     [0x39]          = OP(fpu_op_binary_pop, X87_FYL2XP1),
     [0x3a]          = OP(fpu_op_unary, X87_FSQRT),
     [0x3b]          = OP(fpu_op_split, X87_FSINCOS),
     [0x3c]          = OP(fpu_op_unary, X87_FRNDINT),
     [0x3d]          = OP(fpu_op_binary_st0, X87_FSCALE),
     [0x3e]          = OP(fpu_op_unary, X87_FSIN),
     [0x3f]          = OP(fpu_op_unary, X87_FCOS)},
    /* DA: FCMOVB, FCMOVE, FCMOVBE, FCMOVU (as Jcc condition numbers), FUCOMPP */
    {[0x00 ... 0x07] = OP(fpu_op_fcmov, 0x2),
     [0x08 ... 0x0f] = OP(fpu_op_fcmov, 0x4),
     [0x10 ... 0x17] = OP(fpu_op_fcmov, 0x6),
     [0x18 ... 0x1f] = OP(fpu_op_fcmov, 0xa),
     [0x29]          = OP(fpu_op_com_st1, FCMP_UNORDERED | FCMP_POP2)},
    /* DB: FCMOVNB, FCMOVNE, FCMOVNBE, FCMOVNU; FNENI, FNDISI and FNSETPM (no-ops
     * since the 387), FNCLEX, FNINIT; FUCOMI, FCOMI */
    {[0x00 ... 0x07] = OP(fpu_op_fcmov, 0x3),
     [0x08 ... 0x0f] = OP(fpu_op_fcmov, 0x5),
     [0x10 ... 0x17] = OP(fpu_op_fcmov, 0x7),
     [0x18 ... 0x1f] = OP(fpu_op_fcmov, 0xb),
     [0x20]          = NOWAIT(fpu_op_fnop, 0),
     [0x21]          = NOWAIT(fpu_op_fnop, 0),
     [0x22]          = NOWAIT(fpu_op_fnclex, 0),
     [0x23]          = NOWAIT(fpu_op_fninit, 0),
     [0x24]          = NOWAIT(fpu_op_fnop, 0),
     [0x28 ... 0x2f] = OP(fpu_op_com_sti, FCMP_UNORDERED | FCMP_EFLAGS),
     [0x30 ... 0x37] = OP(fpu_op_com_sti, FCMP_EFLAGS)},
    /* DC: ST(i) = ST(i) op ST(0); the SUB and DIV pairs are swapped against D8 */
    {[0x00 ... 0x07] = OP(fpu_op_arith_sti, X87_ADD),
     [0x08 ... 0x0f] = OP(fpu_op_arith_sti, X87_MUL),
     [0x10 ... 0x17] = OP(fpu_op_com_sti, 0),                  /* FCOM2 */
     [0x18 ... 0x1f] = OP(fpu_op_com_sti, FCMP_POP1),          /* FCOMP3 */
     [0x20 ... 0x27] = OP(fpu_op_arith_sti, X87_SUBR),
     [0x28 ... 0x2f] = OP(fpu_op_arith_sti, X87_SUB),
     [0x30 ... 0x37] = OP(fpu_op_arith_sti, X87_DIVR),
     [0x38 ... 0x3f] = OP(fpu_op_arith_sti, X87_DIV)},
    /* DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP */
    {[0x00 ... 0x07] = OP(fpu_op_ffree, 0),
     [0x08 ... 0x0f] = OP(fpu_op_fxch, 0),                     /* FXCH4 */
     [0x10 ... 0x17] = OP(fpu_op_fst_sti, 0),
     [0x18 ... 0x1f] = OP(fpu_op_fst_sti, 1),
     [0x20 ... 0x27] = OP(fpu_op_com_sti, FCMP_UNORDERED),
     [0x28 ... 0x2f] = OP(fpu_op_com_sti, FCMP_UNORDERED | FCMP_POP1)},
    /* DE: ST(i) = ST(i) op ST(0), then pop; FCOMP5, FCOMPP */
    {[0x00 ... 0x07] = OP(fpu_op_arith_sti_pop, X87_ADD),
     [0x08 ... 0x0f] = OP(fpu_op_arith_sti_pop, X87_MUL),
     [0x10 ... 0x17] = OP(fpu_op_com_sti, FCMP_POP1),          /* FCOMP5 */
     [0x19]          = OP(fpu_op_com_st1, FCMP_POP2),
     [0x20 ... 0x27] = OP(fpu_op_arith_sti_pop, X87_SUBR),
     [0x28 ... 0x2f] = OP(fpu_op_arith_sti_pop, X87_SUB),
     [0x30 ... 0x37] = OP(fpu_op_arith_sti_pop, X87_DIVR),
     [0x38 ... 0x3f] = OP(fpu_op_arith_sti_pop, X87_DIV)},
    /* DF: FFREEP, FXCH7, FSTP8, FSTP9, FNSTSW AX, FUCOMIP, FCOMIP */
    {[0x00 ... 0x07] = OP(fpu_op_ffree, 1),
     [0x08 ... 0x0f] = OP(fpu_op_fxch, 0),
     [0x10 ... 0x1f] = OP(fpu_op_fst_sti, 1),
     [0x20]          = NOWAIT(fpu_op_fnstsw_ax, 0),
     [0x28 ... 0x2f] = OP(fpu_op_com_sti, FCMP_UNORDERED | FCMP_EFLAGS | FCMP_POP1),
     [0x30 ... 0x37] = OP(fpu_op_com_sti, FCMP_EFLAGS | FCMP_POP1)},
};
/* clang-format on */

/*
 * The condition codes op leaves undefined (each instruction's "FPU Flags
 * Affected" in SDM Vol.2): C0, C2 and C3 for everything but the compares
 * (FCOMI leaves them unaffected), FXAM, FPREM/FPREM1 and the loads of a
 * whole status (FLDENV, FRSTOR, FNINIT, FNSAVE); C2 is defined by FSIN,
 * FCOS, FPTAN and FSINCOS; C1 too for FFREE, FNOP and the control
 * instructions that store or load one word; C1 after FCOMI (below).  The
 * interpreter keeps such
 * codes unchanged; the host FPU (which runs translated x87 code) may not,
 * so with CPUState.undef_perturb set they take undef_fill's bits
 * (docs/undefined.md).
 */
static uint16_t fpu_undefined_cc(const FpuOp *op)
{
    FpuHandler fn = op->fn;
    if (fn == fpu_op_com_sti && (op->arg & FCMP_EFLAGS)) {
        /* FCOMI/FUCOMI: the SDM clears C1; an AMD EPYC keeps it when no
         * stack fault occurs, so the hosts that run it natively differ. */
        return FSW_C1;
    }
    if (fn == fpu_op_com_sti || fn == fpu_op_com_st1 || fn == fpu_op_com_m32 ||
        fn == fpu_op_com_m64 || fn == fpu_op_com_i16 || fn == fpu_op_com_i32 || fn == fpu_op_ftst ||
        fn == fpu_op_fxam || fn == fpu_op_fldenv || fn == fpu_op_frstor || fn == fpu_op_fninit ||
        fn == fpu_op_fnsave) {
        return 0;
    }
    if (fn == fpu_op_binary_st0 && (op->arg == X87_FPREM || op->arg == X87_FPREM1)) {
        return 0;
    }
    if ((fn == fpu_op_unary && (op->arg == X87_FSIN || op->arg == X87_FCOS)) ||
        (fn == fpu_op_split && op->arg != X87_FXTRACT)) {
        return FSW_C0 | FSW_C3;
    }
    if (fn == fpu_op_ffree || fn == fpu_op_fnop || fn == fpu_op_fldcw || fn == fpu_op_fnstcw ||
        fn == fpu_op_fnstsw_m || fn == fpu_op_fnstsw_ax || fn == fpu_op_fnstenv ||
        fn == fpu_op_fnclex) {
        return FSW_CC;
    }
    return FSW_C0 | FSW_C2 | FSW_C3;
}

/* Record the last non-control instruction (SDM Vol.1 8.1.8, 8.1.9): its
 * address (prefixes included), its 11-bit opcode and any memory operand. */
static void fpu_note_insn(CPUState *cpu, const Insn *insn)
{
    cpu->fpu.fip = cpu->eip;
    cpu->fpu.fcs = cpu->seg[SEG_CS].selector;
    cpu->fpu.fop = (uint16_t)(((insn->opcode & 7u) << 8) | insn->modrm);
    if (insn->mod != 3) {
        cpu->fpu.fdp = insn_ea(cpu, insn);
        cpu->fpu.fds = cpu->seg[insn->seg].selector;
    }
}

void fpu_exec(CPUState *cpu, const Insn *insn)
{
    int esc = insn->opcode & 7;
    const FpuOp *op;
    if (insn->mod == 3) {
        op = &fpu_reg_ops[esc][insn->modrm & 0x3f];
    } else {
        op = &fpu_mem_ops[esc][insn->reg];
    }
    if (!op->fn) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    if (!(op->flags & FOP_NOWAIT)) {
        fpu_check_pending(cpu);
    }
    op->fn(cpu, insn, op->arg);
    if (!(op->flags & FOP_CONTROL)) {
        fpu_note_insn(cpu, insn);
    }
    if (cpu->undef_perturb) {
        uint16_t undef = fpu_undefined_cc(op);
        cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~undef) | (cpu->undef_fill & undef));
    }
}
