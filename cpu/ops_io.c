/*
 * Port I/O: IN and OUT.  Permission (IOPL, then the TSS I/O bitmap) is
 * checked before the device sees anything.
 */
#include "cpu/ops.h"
#include "softmmu/ioport.h"

static uint16_t io_port(CPUState *cpu, const Insn *insn, int i)
{
    const Operand *o = &insn->opnd[i];
    return o->kind == OPK_IMM ? (uint16_t)(insn->imm & 0xff) : (uint16_t)cpu->regs[R_EDX];
}

void op_IN(CPUState *cpu, const Insn *insn)
{
    uint16_t port = io_port(cpu, insn, 1);
    int size = insn->opnd[0].size;
    cpu_check_io(cpu, port, size);
    reg_write(cpu, R_EAX, size, ioport_read(cpu->io, port, size));
}

void op_OUT(CPUState *cpu, const Insn *insn)
{
    uint16_t port = io_port(cpu, insn, 0);
    int size = insn->opnd[1].size;
    cpu_check_io(cpu, port, size);
    ioport_write(cpu->io, port, reg_read(cpu, R_EAX, size), size);
}
