/*
 * System instructions: control and debug registers, MSRs, CPUID, the TSC,
 * the interrupt flag (CLI, STI, PUSHF, POPF) and HLT.
 *
 * Privilege follows one pattern: an instruction reserved to the kernel
 * faults with #GP(0) when CPL > 0.  Real mode runs at CPL 0, so it may use
 * them all; vm86 runs at CPL 3, so it may use none (SDM Vol.3 2.8, 20.2.7).
 * The flag instructions are governed by IOPL instead, with the VME and PVI
 * extensions turning IF into the virtual VIF where CR4 asks for it (SDM
 * Vol.3 20.3.3, 20.4).
 *
 * The segment and descriptor-table instructions are in ops_segreg.c, the
 * fast system calls (SYSENTER, SYSCALL, SWAPGS) in syscall.c.
 */
#include "cpu/desc.h"
#include "cpu/ops.h"
#include "softmmu/mmu.h"

/* DR6 and DR7 bits (SDM Vol.3 17.2.3, 17.2.4). */
#define DR6_BD       0x2000u     /* debug-register access detected */
#define DR6_FIXED1   0xffff0ff0u /* reserved bits that read as 1 on the P6 */
#define DR6_WRITABLE 0x0000e00fu
#define DR7_GD       0x2000u     /* general detect */
#define DR7_FIXED1   0x00000400u /* bit 10 reads as 1 */
#define DR7_WRITABLE 0xffff23ffu

/* ---- privilege ---- */

/* #GP(0) unless CPL 0 (real mode is CPL 0, vm86 CPL 3). */
static void require_cpl0(CPUState *cpu)
{
    if (cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* ---- control registers ---- */

static uint64_t cr_read(CPUState *cpu, int reg)
{
    switch (reg) {
    case 0: return cpu->cr0;
    case 2: return cpu->cr2;
    case 3: return cpu->cr3;
    case 4: return cpu->cr4;
    case 8: return cpu->hooks.cr8_read ? cpu->hooks.cr8_read(cpu->hooks.opaque) : cpu->cr8;
    default: cpu_raise_exception(cpu, EXC_UD);
    }
}

/* In 64-bit mode the operand is 64 bits: CR0 and CR4 have no bits above
 * 31 (set ones are #GP(0)), CR2 and CR3 take all 64 (SDM Vol.2 MOV CR). */
static void cr_write(CPUState *cpu, int reg, uint64_t value)
{
    if ((reg == 0 || reg == 4) && (value >> 32)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    switch (reg) {
    case 0: cpu_write_cr0(cpu, (uint32_t)value); break;
    case 2: cpu->cr2 = value; break;
    case 3: cpu_write_cr3(cpu, value); break;
    case 4: cpu_write_cr4(cpu, (uint32_t)value); break;
    case 8:
        /* bits 63:4 are reserved (SDM Vol.3 2.5: #GP(0) when set) */
        if (value >> 4) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        if (cpu->hooks.cr8_write) {
            cpu->hooks.cr8_write(cpu->hooks.opaque, (uint8_t)value);
        } else {
            cpu->cr8 = (uint8_t)value;
        }
        break;
    default: cpu_raise_exception(cpu, EXC_UD);
    }
}

/* MOV to/from CRn: the register operand is a GPR whatever ModRM.mod says
 * (SDM Vol.2 MOV-Move to/from Control Registers); the decoder made it so,
 * 64 bits wide in 64-bit mode and 32 elsewhere. */
void op_MOV_CR(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    if (insn->opnd[0].kind == OPK_CREG) {
        uint64_t value = cpu->regs[insn->opnd[1].reg];
        cr_write(cpu, insn->opnd[0].reg, insn->opnd[1].size == 8 ? value : (uint32_t)value);
    } else {
        uint64_t value = cr_read(cpu, insn->opnd[1].reg);
        cpu->regs[insn->opnd[0].reg] = insn->opnd[0].size == 8 ? value : (uint32_t)value;
    }
}

/* SMSW: a memory operand gets the low 16 bits of CR0; a 32-bit register
 * gets all of CR0 on the P6 family (SDM Vol.2 SMSW). */
void op_SMSW(CPUState *cpu, const Insn *insn)
{
    opnd_write(cpu, insn, 0, cpu->cr0);
}

/* LMSW loads PE, MP, EM and TS; it can set PE but never clear it (SDM Vol.2 LMSW). */
void op_LMSW(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    uint32_t msw = opnd_read(cpu, insn, 0) & 0xfu;
    uint32_t cr0 = (cpu->cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) | msw;
    cpu_write_cr0(cpu, cr0);
}

void op_CLTS(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    cpu_write_cr0(cpu, cpu->cr0 & ~CR0_TS);
}

/* INVLPG takes the linear address of its operand; no limit or access check
 * is made (SDM Vol.2 INVLPG lists none). */
void op_INVLPG(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    tlb_flush_page(cpu, cpu->seg[insn->seg].base + insn_ea(cpu, insn));
}

/* There are no caches to invalidate or write back. */
void op_INVD(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
}

void op_WBINVD(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
}

/* ---- debug registers ---- */

/* DR4 and DR5 alias DR6 and DR7 unless CR4.DE makes them #UD (SDM Vol.3 17.2.2). */
static int dr_index(CPUState *cpu, int reg)
{
    if (reg == 4 || reg == 5) {
        if (cpu->cr4 & CR4_DE) {
            cpu_raise_exception(cpu, EXC_UD);
        }
        return reg + 2;
    }
    return reg;
}

/* DR7.GD: any debug-register access faults with #DB, DR6.BD set, and GD is
 * cleared so the handler itself can use the registers (SDM Vol.3 17.2.4). */
static void dr_general_detect(CPUState *cpu)
{
    if (cpu->dr[7] & DR7_GD) {
        cpu->dr[6] |= DR6_BD;
        cpu->dr[7] &= ~DR7_GD;
        cpu_raise_exception(cpu, EXC_DB);
    }
}

static void dr_write(CPUState *cpu, int index, uint64_t value)
{
    switch (index) {
    case 6: cpu->dr[6] = ((uint32_t)value & DR6_WRITABLE) | DR6_FIXED1; break;
    case 7:
        cpu->dr[7] = ((uint32_t)value & DR7_WRITABLE) | DR7_FIXED1;
        mmu_debug_regs_changed(cpu);
        break;
    default:
        cpu->dr[index] = value;
        mmu_debug_regs_changed(cpu);
        break;
    }
}

/* In 64-bit mode the GPR is 64 bits: DR0-DR3 hold 64-bit linear
 * addresses, DR6 and DR7 have bits 63:32 reserved, #GP(0) when set (SDM
 * Vol.2 MOV DR); DR8-DR15 are #UD.  Outside 64-bit mode the operand is 32
 * bits, so a read gets the low half of DR0-DR3. */
void op_MOV_DR(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    bool to_dr = insn->opnd[0].kind == OPK_DREG;
    int reg = to_dr ? insn->opnd[0].reg : insn->opnd[1].reg;
    if (reg > 7) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    int index = dr_index(cpu, reg);
    dr_general_detect(cpu);
    if (to_dr) {
        uint64_t value = cpu->regs[insn->opnd[1].reg];
        if (index >= 6 && insn->opnd[1].size == 8 && (value >> 32)) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        dr_write(cpu, index, insn->opnd[1].size == 8 ? value : (uint32_t)value);
    } else {
        uint64_t value = cpu->dr[index];
        cpu->regs[insn->opnd[0].reg] = insn->opnd[0].size == 8 ? value : (uint32_t)value;
    }
}

/* ---- MSRs, TSC, performance counters, CPUID ---- */

void op_RDMSR(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    uint64_t value;
    if (!cpu_rdmsr(cpu, cpu->regs[R_ECX], &value)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    cpu->regs[R_EAX] = (uint32_t)value;
    cpu->regs[R_EDX] = (uint32_t)(value >> 32);
}

void op_WRMSR(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    uint64_t value = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
    if (!cpu_wrmsr(cpu, cpu->regs[R_ECX], value)) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* CR4.TSD restricts RDTSC to CPL 0 (SDM Vol.2 RDTSC). */
void op_RDTSC(CPUState *cpu, const Insn *insn)
{
    if ((cpu->cr4 & CR4_TSD) && cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t tsc = cpu_rdtsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)tsc;
    cpu->regs[R_EDX] = (uint32_t)(tsc >> 32);
}

/*
 * RDPMC: CPL 0 or CR4.PCE; the P6 has counters 0 and 1 and #GP(0) for any
 * other ECX (SDM Vol.2 RDPMC).  It reads the 40-bit counter as RDMSR does
 * (cpu/sysreg.c: the counters keep what is written and count no events).
 */
void op_RDPMC(CPUState *cpu, const Insn *insn)
{
    if (!(cpu->cr4 & CR4_PCE) && cpu->cpl != 0) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    if (cpu->regs[R_ECX] > 1) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint64_t count = cpu->perf_ctr[cpu->regs[R_ECX]];
    cpu->regs[R_EAX] = (uint32_t)count;
    cpu->regs[R_EDX] = (uint32_t)(count >> 32);
}

/* RDTSCP: RDTSC plus IA32_TSC_AUX in ECX, on models that report it
 * (SDM Vol.2 RDTSCP). */
void op_RDTSCP(CPUState *cpu, const Insn *insn)
{
    if (!(cpu->cpuid.ext_edx & CPUID_EXT_RDTSCP)) {
        cpu_raise_exception(cpu, EXC_UD);
    }
    op_RDTSC(cpu, insn);
    cpu->regs[R_ECX] = (uint32_t)cpu->msr_tsc_aux;
}

void op_CPUID(CPUState *cpu, const Insn *insn)
{
    uint32_t out[4];
    cpu_cpuid(cpu, cpu->regs[R_EAX], cpu->regs[R_ECX], out);
    cpu->regs[R_EAX] = out[0];
    cpu->regs[R_EBX] = out[1];
    cpu->regs[R_ECX] = out[2];
    cpu->regs[R_EDX] = out[3];
}

/* ---- the interrupt flag ---- */

/*
 * Where CLI and STI that IOPL forbids act on VIF instead of faulting: vm86
 * with CR4.VME (SDM Vol.3 20.3.3.2) and protected mode at CPL 3 with
 * CR4.PVI (SDM Vol.3 20.4).  Callers ask only after cpu_iopl_ok() failed,
 * which already means IOPL < 3 in vm86 and IOPL < CPL outside it.
 */
static bool virtual_if_active(const CPUState *cpu)
{
    if (cpu->hflags & HF_VM) {
        return (cpu->cr4 & CR4_VME) != 0;
    }
    return (cpu->hflags & HF_PE) && cpu->cpl == 3 && (cpu->cr4 & CR4_PVI);
}

void op_CLI(CPUState *cpu, const Insn *insn)
{
    if (cpu_iopl_ok(cpu)) {
        cpu_set_eflags(cpu, 0, EFLAGS_IF);
    } else if (virtual_if_active(cpu)) {
        cpu_set_eflags(cpu, 0, EFLAGS_VIF);
    } else {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* STI: interrupts stay blocked until after the next instruction when IF
 * was clear (SDM Vol.2 STI), so "STI; HLT" and "STI; RET" are atomic.  The
 * virtual form faults when an interrupt is already pending (VIP). */
void op_STI(CPUState *cpu, const Insn *insn)
{
    if (cpu_iopl_ok(cpu)) {
        if (!(cpu->eflags & EFLAGS_IF)) {
            cpu->inhibit_irq = true;
            cpu->ss_shadow = false;
        }
        cpu_set_eflags(cpu, EFLAGS_IF, EFLAGS_IF);
    } else if (virtual_if_active(cpu) && !(cpu->eflags & EFLAGS_VIP)) {
        cpu_set_eflags(cpu, EFLAGS_VIF, EFLAGS_VIF);
    } else {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
}

/* vm86 with IOPL < 3: PUSHF/POPF trap to the monitor, except the 16-bit
 * forms under CR4.VME, which work on VIF (SDM Vol.3 20.3.3.2). */
static bool vm86_flags_virtualised(CPUState *cpu, const Insn *insn)
{
    if (!(cpu->hflags & HF_VM) || cpu_iopl(cpu) == 3) {
        return false;
    }
    if (!(cpu->cr4 & CR4_VME) || insn->opsize == 4) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    return true;
}

/* PUSHF: VM and RF read as 0 in the image (SDM Vol.2 PUSHF).  The VME form
 * shows VIF in the IF position and IOPL as 3. */
void op_PUSHF(CPUState *cpu, const Insn *insn)
{
    uint32_t flags = cpu_get_eflags(cpu);
    if (vm86_flags_virtualised(cpu, insn)) {
        flags = (flags & ~EFLAGS_IF) | EFLAGS_IOPL | ((flags & EFLAGS_VIF) ? EFLAGS_IF : 0);
    }
    if (insn->opsize >= 4) {
        /* PUSHFQ (64-bit mode's default) pushes the zero-extended EFLAGS */
        stack_push(cpu, insn->opsize, flags & ~(EFLAGS_VM | EFLAGS_RF));
    } else {
        stack_push(cpu, 2, flags & 0xffffu);
    }
}

/* Flags every POPF may write. */
#define POPF_ALWAYS                                                                                \
    (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_TF | EFLAGS_DF |           \
     EFLAGS_OF | EFLAGS_NT)

/*
 * Which EFLAGS bits a POPF may write (SDM Vol.2 POPF, Operation): IOPL only
 * at CPL 0, IF only when CPL <= IOPL (and in vm86 only with IOPL 3), AC and
 * ID only in the 32-bit form, which also clears RF; VM, VIF and VIP never.
 */
static uint32_t popf_mask(const CPUState *cpu, int opsize)
{
    uint32_t mask = POPF_ALWAYS;
    if (cpu->cpl == 0) {
        mask |= EFLAGS_IOPL;
    }
    if (cpu_iopl_ok(cpu)) {
        mask |= EFLAGS_IF;
    }
    if (opsize >= 4) { /* POPFD, and POPFQ in 64-bit mode */
        mask |= EFLAGS_AC | EFLAGS_ID | EFLAGS_RF;
    } else {
        mask &= 0xffffu;
    }
    return mask;
}

void op_POPF(CPUState *cpu, const Insn *insn)
{
    int size = insn->opsize;
    uint32_t value = (uint32_t)stack_read_at(cpu, cpu->regs[R_ESP], size);
    uint32_t mask;
    if (vm86_flags_virtualised(cpu, insn)) {
        /* The popped IF goes to VIF; setting TF, or IF while VIP, traps. */
        if ((value & EFLAGS_TF) || ((value & EFLAGS_IF) && (cpu->eflags & EFLAGS_VIP))) {
            cpu_raise_exception_err(cpu, EXC_GP, 0);
        }
        mask = POPF_ALWAYS | EFLAGS_VIF;
        value = (value & 0xffffu) | ((value & EFLAGS_IF) ? EFLAGS_VIF : 0);
    } else {
        mask = popf_mask(cpu, size);
        value &= ~EFLAGS_RF;
    }
    stack_set_sp(cpu, cpu->regs[R_ESP] + (uint64_t)size);
    cpu_set_eflags(cpu, value, mask);
}

/* ---- HLT and invalid opcodes ---- */

/* The run loop sees 'halted' and waits for an interrupt; EIP already
 * points past HLT, which is where the handler returns to. */
void op_HLT(CPUState *cpu, const Insn *insn)
{
    require_cpl0(cpu);
    cpu->halted = true;
}

void op_UD(CPUState *cpu, const Insn *insn)
{
    cpu_raise_exception(cpu, EXC_UD);
}

void op_UD2(CPUState *cpu, const Insn *insn)
{
    cpu_raise_exception(cpu, EXC_UD);
}
