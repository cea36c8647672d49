/*
 * Protected-mode internals shared by cpu/seg.c, far.c, task.c and except.c:
 * decoding selectors and 8-byte descriptors (SDM Vol.3 3.4.2, 3.4.5, 5.8,
 * 6.11), and a "pending stack" that far transfers and interrupt delivery
 * push to and pop from before they commit anything.
 *
 * Why a pending stack: CALL through a gate, RET/IRET to an outer level and
 * interrupt delivery move between stacks.  Every push or pop can fault
 * (limit, #PF), and a fault must leave ESP, SS and CS as they were (SDM
 * Vol.3 6.5).  So the frame is built through a private copy of the stack
 * segment and stack pointer; only when the last access has succeeded do
 * the callers copy it into CPUState.
 */
#ifndef CPU_DESC_H
#define CPU_DESC_H

#include "cpu/cpu.h"
#include "cpu/mem.h"

/* System descriptor types (SDM Vol.3 Table 3-2). */
enum {
    SYS_TSS16_AVAIL = 1,
    SYS_LDT = 2,
    SYS_TSS16_BUSY = 3,
    SYS_CALL_GATE16 = 4,
    SYS_TASK_GATE = 5,
    SYS_INT_GATE16 = 6,
    SYS_TRAP_GATE16 = 7,
    SYS_TSS32_AVAIL = 9,
    SYS_TSS32_BUSY = 11,
    SYS_CALL_GATE32 = 12,
    SYS_INT_GATE32 = 14,
    SYS_TRAP_GATE32 = 15,
};

/* The TSS busy bit is bit 1 of the type field (SDM Vol.3 7.2.2). */
#define SYS_TSS_BUSY_BIT 2u

/* ---- selectors (SDM Vol.3 3.4.2) ---- */

static inline bool sel_is_null(uint16_t selector)
{
    return (selector & 0xfffc) == 0;
}

static inline uint32_t sel_rpl(uint16_t selector)
{
    return selector & 3u;
}

/* Error code naming a selector: index and TI, RPL bits cleared (SDM Vol.3 6.13). */
static inline uint32_t sel_error(uint16_t selector)
{
    return selector & 0xfffcu;
}

/* ---- segment descriptors (SDM Vol.3 3.4.5) ---- */

static inline uint32_t desc_hi(uint64_t desc)
{
    return (uint32_t)(desc >> 32);
}

static inline uint32_t desc_base(uint64_t desc)
{
    return (uint32_t)((desc >> 16) & 0xffffffu) | (uint32_t)((desc >> 56) << 24);
}

/* Byte-granular limit (G applied). */
static inline uint32_t desc_limit(uint64_t desc)
{
    uint32_t limit = (uint32_t)(desc & 0xffffu) | (desc_hi(desc) & 0x000f0000u);
    if (desc_hi(desc) & DESC_G) {
        limit = (limit << 12) | 0xfffu;
    }
    return limit;
}

static inline uint32_t desc_type(uint64_t desc)
{
    return (desc_hi(desc) & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT;
}

static inline uint32_t desc_dpl(uint64_t desc)
{
    return (desc_hi(desc) & DESC_DPL_MASK) >> DESC_DPL_SHIFT;
}

static inline bool desc_present(uint64_t desc)
{
    return (desc_hi(desc) & DESC_P) != 0;
}

/* Code or data (S=1), as opposed to a system descriptor or gate. */
static inline bool desc_is_segment(uint64_t desc)
{
    return (desc_hi(desc) & DESC_S) != 0;
}

static inline bool desc_is_code(uint64_t desc)
{
    return desc_is_segment(desc) && (desc_hi(desc) & DESC_CODE);
}

static inline bool desc_is_conforming_code(uint64_t desc)
{
    return desc_is_code(desc) && (desc_hi(desc) & DESC_C);
}

/* What SS accepts: a writable data segment (SDM Vol.3 5.6). */
static inline bool desc_is_writable_data(uint64_t desc)
{
    return desc_is_segment(desc) && !(desc_hi(desc) & DESC_CODE) && (desc_hi(desc) & DESC_W);
}

/* What DS/ES/FS/GS accept: data, or code that is readable. */
static inline bool desc_is_readable(uint64_t desc)
{
    return desc_is_segment(desc) && (!(desc_hi(desc) & DESC_CODE) || (desc_hi(desc) & DESC_R));
}

/* System descriptor of the given type (S=0). */
static inline bool desc_is_system_type(uint64_t desc, uint32_t type)
{
    return !desc_is_segment(desc) && desc_type(desc) == type;
}

static inline bool desc_is_tss32(uint64_t desc)
{
    return !desc_is_segment(desc) && (desc_type(desc) & ~SYS_TSS_BUSY_BIT) == SYS_TSS32_AVAIL;
}

/* Available (not busy) TSS of either size. */
static inline bool desc_is_available_tss(uint64_t desc)
{
    return desc_is_system_type(desc, SYS_TSS16_AVAIL) || desc_is_system_type(desc, SYS_TSS32_AVAIL);
}

static inline bool desc_is_busy_tss(uint64_t desc)
{
    return desc_is_system_type(desc, SYS_TSS16_BUSY) || desc_is_system_type(desc, SYS_TSS32_BUSY);
}

/* ---- gates (SDM Vol.3 5.8.3, 6.11) ---- */

static inline uint16_t gate_selector(uint64_t desc)
{
    return (uint16_t)(desc >> 16);
}

/* Entry offset; 16-bit gates use only the low word. */
static inline uint32_t gate_offset(uint64_t desc)
{
    uint32_t offset = (uint32_t)(desc & 0xffffu) | (desc_hi(desc) & 0xffff0000u);
    return (desc_type(desc) & 8u) ? offset : (offset & 0xffffu);
}

/* Operand size of a gate: type bit 3 set means a 32-bit gate. */
static inline int gate_size(uint64_t desc)
{
    return (desc_type(desc) & 8u) ? 4 : 2;
}

static inline uint32_t gate_param_count(uint64_t desc)
{
    return desc_hi(desc) & 0x1fu;
}

/* ---- privilege ---- */

static inline int mmu_idx_for_cpl(uint32_t cpl)
{
    return cpl == 3 ? MMU_USER : MMU_KERNEL;
}

static inline uint32_t cpu_iopl(const CPUState *cpu)
{
    return (cpu->eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT;
}

/*
 * Whether offset..offset+size-1 is inside the segment: up to limit for
 * expand-up, limit+1 up to 0xFFFF or 0xFFFFFFFF (by the B bit) for
 * expand-down data (SDM Vol.3 5.3).
 */
static inline bool seg_limit_ok(const SegmentCache *sc, uint32_t offset, int size)
{
    uint64_t last = (uint64_t)offset + (uint32_t)(size - 1);
    if (sc->check & SEGCHK_EXPDOWN) {
        uint32_t upper = (sc->attr & DESC_B) ? 0xffffffffu : 0xffffu;
        return offset > sc->limit && last <= upper;
    }
    return last <= sc->limit;
}

/* ---- implicit supervisor accesses at 64-bit linear addresses ---- */

/*
 * Descriptor tables, the TSS and the IDT may sit anywhere in the 64-bit
 * linear space once IA-32e mode is on (Linux keeps them above
 * FFFF800000000000h); cpu/mem.h's supervisor accesses take such addresses
 * and sizes up to 8.
 */
static inline uint64_t sys_read(CPUState *cpu, uint64_t lin, int size)
{
    return lin_read_sys(cpu, lin, size);
}

static inline void sys_write(CPUState *cpu, uint64_t lin, int size, uint64_t value)
{
    lin_write_sys(cpu, lin, size, value);
}

/* ---- descriptor tables and segment caches (cpu/seg.c) ---- */

/* Linear address of selector's descriptor in the GDT or LDT (no checks). */
uint64_t seg_desc_linear(const CPUState *cpu, uint16_t selector);
/*
 * The upper half of a 16-byte system descriptor (LDT, TSS, call gate in
 * IA-32e mode, SDM Vol.3 Figures 5-9 and 7-4): the selector's index + 1
 * must still be in the table (else vector(error_code)), and the upper
 * half's type field (bits 12:8 of its high dword) must be 0 (else
 * #GP(error_code)).  Returns bits 63:32 of the base or offset.
 */
uint32_t seg_fetch_descriptor_upper(CPUState *cpu, uint16_t selector, int vector,
                                    uint32_t error_code);
/* Whether IA-32e mode is active (EFER.LMA). */
static inline bool cpu_lma(const CPUState *cpu)
{
    return (cpu->efer & EFER_LMA) != 0;
}
/* A 64-bit code segment: L set, D clear (L and D both set is reserved). */
static inline bool desc_is_code64(uint64_t desc)
{
    return desc_is_code(desc) && (desc_hi(desc) & DESC_L) && !(desc_hi(desc) & DESC_B);
}
/* Read selector's descriptor; outside the table: raise vector(error_code). */
uint64_t seg_fetch_descriptor(CPUState *cpu, uint16_t selector, int vector, uint32_t error_code);
/* Set the Accessed bit of a code/data descriptor in memory if it is clear. */
void seg_set_accessed(CPUState *cpu, uint16_t selector, uint64_t desc);
/* Commit CS (RPL forced to cpl) and SS from checked descriptors, then
 * recompute the mode summary.  CPL follows SS.DPL (cpu/exec.c). */
void seg_commit_cs(CPUState *cpu, uint16_t selector, uint64_t desc, uint32_t cpl);
void seg_commit_ss(CPUState *cpu, uint16_t selector, uint64_t desc);
/* Load a null selector into DS/ES/FS/GS: the register becomes unusable. */
void seg_load_null(CPUState *cpu, int seg, uint16_t selector);
/* vm86 load whatever the current mode: base sel<<4, limit FFFFh, DPL 3 data. */
void seg_load_vm86(CPUState *cpu, int seg, uint16_t selector);

/* ---- the pending stack (cpu/seg.c) ---- */

typedef struct PendingStack {
    SegmentCache ss;     /* the stack segment, maybe not loaded yet */
    uint32_t sp;         /* ESP; only the low 16 bits count unless ss.B */
    int mmu_idx;         /* privilege of the accesses (the new CPL's view) */
    uint32_t fault_code; /* #SS error code: 0 for the current stack, the selector for a new one */
} PendingStack;

/* A pending stack starting at the current SS:ESP. */
void pstack_init_current(CPUState *cpu, PendingStack *ps);
/* A pending stack at a new SS:ESP (from the TSS) for privilege level cpl;
 * its faults are #SS(ss_sel + ext). */
void pstack_init_new(PendingStack *ps, uint16_t ss_sel, uint64_t ss_desc, uint32_t esp,
                     uint32_t cpl, uint32_t ext);
void pstack_push(CPUState *cpu, PendingStack *ps, int size, uint32_t value);
uint32_t pstack_pop(CPUState *cpu, PendingStack *ps, int size);
/* Read at sp + offset without moving sp. */
uint32_t pstack_peek(CPUState *cpu, const PendingStack *ps, uint32_t offset, int size);
/* ESP value to commit: ESP's upper half kept for a 16-bit stack. */
uint32_t pstack_esp(const PendingStack *ps, uint32_t old_esp);

/*
 * The stack of 64-bit mode as interrupt delivery, IRET, far RET and far
 * CALL in IA-32e mode use it: RSP is the linear address (no segment), each
 * item 8 bytes unless said otherwise, and an address that is not canonical
 * faults with #SS(fault_code) (SDM Vol.3 6.14.2).  Like the pending stack,
 * it commits nothing: the caller copies sp to RSP when all is done.
 */
typedef struct LMStack {
    uint64_t sp;
    int mmu_idx;
    uint32_t fault_code;
} LMStack;

void lmstack_push(CPUState *cpu, LMStack *ls, int size, uint64_t value);
uint64_t lmstack_pop(CPUState *cpu, LMStack *ls, int size);

/* The null SS that IA-32e mode loads on a privilege change (interrupts,
 * CALL through a gate, SYSCALL leaves it alone): selector = RPL = cpl,
 * usable in 64-bit mode with DPL cpl, so CPL follows it (SDM Vol.3 6.14.4). */
void seg_load_null_ss64(CPUState *cpu, uint32_t cpl);

/* After a transfer from 64-bit mode to 32- or 16-bit code (IRET, RET,
 * SYSRET, SYSEXIT): the upper halves of RAX..RDI and of RIP are undefined
 * there (SDM Vol.1 3.4.1.1); they become zero, which keeps CPUState's rule
 * that high halves are zero outside 64-bit mode (cpu/state.h). */
static inline void cpu_clear_high_halves(CPUState *cpu)
{
    if (!(cpu->hflags & HF_CS64)) {
        for (int r = 0; r < 8; r++) {
            cpu->regs[r] = (uint32_t)cpu->regs[r];
        }
        cpu->next_eip = (uint32_t)cpu->next_eip;
    }
}

/* Long-mode event delivery through 16-byte IDT gates (cpu/except_lm.c). */
void cpu_interrupt_lm(CPUState *cpu, int vector, bool is_sw, bool has_error, uint32_t error_code,
                      uint64_t return_rip);
/* Far transfers in IA-32e mode (cpu/far_lm.c); cpu/far.c sends them there. */
void cpu_iret_lm(CPUState *cpu, int opsize);
void cpu_far_ret_lm(CPUState *cpu, int opsize, uint16_t pop_bytes);
void cpu_far_jmp_lm(CPUState *cpu, uint16_t selector, uint64_t offset);
void cpu_far_call_lm(CPUState *cpu, uint16_t selector, uint64_t offset, int opsize,
                     uint64_t next_rip);
/* Checks cpu/far.c shares with it (SDM Vol.2 JMP, CALL, RET). */
void far_check_code(CPUState *cpu, uint16_t selector, uint64_t desc);
void far_check_gate(CPUState *cpu, uint16_t selector, uint64_t gate);
uint64_t far_check_return_cs(CPUState *cpu, uint16_t selector);
uint64_t far_check_return_ss(CPUState *cpu, uint16_t selector, uint32_t rpl);
void far_null_inaccessible_segments(CPUState *cpu);
/* RSPn (n = dpl, ist = 0) or ISTn (ist 1..7) of the 64-bit TSS; #TS(TR)
 * beyond its limit (SDM Vol.3 7.7). */
uint64_t tss64_stack(CPUState *cpu, uint32_t dpl, uint32_t ist, uint32_t ext);

/* ---- the TSS (cpu/task.c) ---- */

/*
 * The stack for privilege level dpl from the current TSS, checked as CALL
 * through a gate and interrupt delivery check it (SDM Vol.2 CALL,
 * MORE-PRIVILEGE; Vol.3 6.12.1): TSS long enough (#TS(TR)), selector not
 * null, RPL and DPL equal dpl, writable data (#TS(SS)), present (#SS(SS)).
 * ext (0 or 1) is added to every error code.  Returns the SS descriptor.
 */
uint64_t tss_inner_stack(CPUState *cpu, uint32_t dpl, uint32_t ext, uint16_t *ss_sel,
                         uint32_t *esp);

#endif /* CPU_DESC_H */
