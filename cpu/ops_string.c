/*
 * String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, with the
 * REP/REPE/REPNE prefixes in 16-, 32- and 64-bit address sizes (a 32-bit
 * index or count is a dword register write: in 64-bit mode it zero-extends).
 *
 * Every element commits its register updates before the next begins, so a
 * fault in the middle leaves (E)SI, (E)DI and (E)CX describing exactly the
 * elements done, as on hardware, and restarting the instruction finishes
 * the job.  A REP instruction runs a bounded batch of elements and then
 * re-executes itself (next_eip = eip), which lets interrupts in between
 * batches as the SDM allows (Vol.2 REP: "interruptible").
 */
#include "cpu/ops.h"
#include "softmmu/ioport.h"


typedef struct StringCtx {
    uint64_t amask;  /* 0xffff, 0xffffffff or all ones: the address size */
    int size;        /* element size */
    int32_t delta;   /* +size or -size by EFLAGS.DF */
} StringCtx;

static StringCtx string_ctx(const CPUState *cpu, const Insn *insn)
{
    StringCtx c;
    c.amask = size_mask(insn->adsize);
    /* OUTS names DX first; every other form names the element first. */
    c.size = insn->op == OP_OUTS ? insn->opnd[1].size : insn->opnd[0].size;
    c.delta = (cpu->eflags & EFLAGS_DF) ? -c.size : c.size;
    return c;
}

static uint64_t index_get(const CPUState *cpu, const StringCtx *c, int reg)
{
    return cpu->regs[reg] & c->amask;
}

/* Write an index or count register at the address size: SI/DI/CX keep the
 * rest of the register, ESI/EDI/ECX zero-extend, RSI/RDI/RCX are whole. */
static inline void index_set(CPUState *cpu, const StringCtx *c, int reg, uint64_t v)
{
    if (c->amask == 0xffffu) {
        cpu->regs[reg] = (cpu->regs[reg] & ~UINT64_C(0xffff)) | (v & 0xffff);
    } else {
        cpu->regs[reg] = v & c->amask;
    }
}

static void index_step(CPUState *cpu, const StringCtx *c, int reg)
{
    index_set(cpu, c, reg, cpu->regs[reg] + (uint64_t)(int64_t)c->delta);
}

static void count_dec(CPUState *cpu, const StringCtx *c)
{
    index_set(cpu, c, R_ECX, cpu->regs[R_ECX] - 1);
}

/* One element of each instruction.  Returns false when a REPE/REPNE
 * condition ends the repetition. */
typedef bool (*StringStep)(CPUState *cpu, const Insn *insn, const StringCtx *c);

static bool step_movs(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint64_t v = seg_read(cpu, insn->seg, index_get(cpu, c, R_ESI), c->size);
    seg_write(cpu, SEG_ES, index_get(cpu, c, R_EDI), c->size, v);
    index_step(cpu, c, R_ESI);
    index_step(cpu, c, R_EDI);
    return true;
}

static bool step_stos(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    seg_write(cpu, SEG_ES, index_get(cpu, c, R_EDI), c->size, reg_read(cpu, R_EAX, c->size));
    index_step(cpu, c, R_EDI);
    return true;
}

static bool step_lods(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint64_t v = seg_read(cpu, insn->seg, index_get(cpu, c, R_ESI), c->size);
    reg_write(cpu, R_EAX, c->size, v);
    index_step(cpu, c, R_ESI);
    return true;
}

/* REPE continues while equal (ZF=1), REPNE while not equal (SDM Vol.2 REP). */
static bool compare_continues(const Insn *insn, uint64_t a, uint64_t b)
{
    return insn->rep == REP_F3 ? a == b : a != b;
}

static bool step_cmps(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint64_t a = seg_read(cpu, insn->seg, index_get(cpu, c, R_ESI), c->size);
    uint64_t b = seg_read(cpu, SEG_ES, index_get(cpu, c, R_EDI), c->size);
    set_cc(cpu, CC_OP_SUBB, c->size, a - b, a, b);
    index_step(cpu, c, R_ESI);
    index_step(cpu, c, R_EDI);
    return compare_continues(insn, a, b);
}

static bool step_scas(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint64_t a = reg_read(cpu, R_EAX, c->size);
    uint64_t b = seg_read(cpu, SEG_ES, index_get(cpu, c, R_EDI), c->size);
    set_cc(cpu, CC_OP_SUBB, c->size, a - b, a, b);
    index_step(cpu, c, R_EDI);
    return compare_continues(insn, a, b);
}

/* INS writes ES:(E)DI from port DX; the store is checked before the port is
 * read, so a faulting INS does not consume device data. */
static bool step_ins(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    uint64_t lin = seg_probe_write(cpu, SEG_ES, index_get(cpu, c, R_EDI), c->size);
    uint32_t v = ioport_read(cpu->io, port, c->size);
    lin_write(cpu, lin, c->size, v);
    index_step(cpu, c, R_EDI);
    return true;
}

static bool step_outs(CPUState *cpu, const Insn *insn, const StringCtx *c)
{
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    uint64_t v = seg_read(cpu, insn->seg, index_get(cpu, c, R_ESI), c->size);
    ioport_write(cpu->io, port, (uint32_t)v, c->size);
    index_step(cpu, c, R_ESI);
    return true;
}

static void string_exec(CPUState *cpu, const Insn *insn, StringStep step)
{
    StringCtx c = string_ctx(cpu, insn);
    if (insn->rep == REP_NONE) {
        step(cpu, insn, &c);
        return;
    }
    uint32_t n = 0;
    while (n < REP_BATCH && (cpu->regs[R_ECX] & c.amask) != 0) {
        /* An element that faults leaves through longjmp: the ones before it
         * were not worth a cut. */
        bool more = step(cpu, insn, &c);
        count_dec(cpu, &c);
        n++;
        if (!more) {
            cpu_rep_account(cpu, n);
            return;
        }
        if (cpu_events_waiting(cpu)) {
            break;
        }
    }
    cpu_rep_account(cpu, n);
    if ((cpu->regs[R_ECX] & c.amask) != 0) {
        cpu->next_eip = cpu->eip; /* not finished: run the instruction again */
    }
}

/* CMPS and SCAS honour F2/F3 as REPNE/REPE; the others treat either as REP. */
void op_MOVS(CPUState *cpu, const Insn *insn)
{
    string_exec(cpu, insn, step_movs);
}

void op_STOS(CPUState *cpu, const Insn *insn)
{
    string_exec(cpu, insn, step_stos);
}

void op_LODS(CPUState *cpu, const Insn *insn)
{
    string_exec(cpu, insn, step_lods);
}

void op_CMPS(CPUState *cpu, const Insn *insn)
{
    string_exec(cpu, insn, step_cmps);
}

void op_SCAS(CPUState *cpu, const Insn *insn)
{
    string_exec(cpu, insn, step_scas);
}

void op_INS(CPUState *cpu, const Insn *insn)
{
    cpu_check_io(cpu, (uint16_t)cpu->regs[R_EDX], string_ctx(cpu, insn).size);
    string_exec(cpu, insn, step_ins);
}

void op_OUTS(CPUState *cpu, const Insn *insn)
{
    cpu_check_io(cpu, (uint16_t)cpu->regs[R_EDX], string_ctx(cpu, insn).size);
    string_exec(cpu, insn, step_outs);
}
