/*
 * CPUState: the whole architectural state of one x86 CPU (i686 to x86-64).
 *
 * One struct, one layout, shared by the interpreter, the translator (generated
 * code addresses fields at fixed offsets from a pinned host register, so keep
 * hot fields first and never reorder without updating translator/), the
 * tracer and the gdb stub.  Every field says what it holds.
 */
#ifndef CPU_STATE_H
#define CPU_STATE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/icache.h"
#include "softmmu/tlb.h"

/* General registers, in ModRM/opcode encoding order; R8-R15 need REX. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
#define CPU_NB_REGS 16

/* Segment registers, in ModRM sreg encoding order (SDM Vol.2 Table 3-6). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };
#define SEG_NONE 0xff

/* EFLAGS bits (SDM Vol.1 3.4.3). */
#define EFLAGS_CF   0x00000001u
#define EFLAGS_FIXED 0x00000002u /* bit 1 always reads as 1 */
#define EFLAGS_PF   0x00000004u
#define EFLAGS_AF   0x00000010u
#define EFLAGS_ZF   0x00000040u
#define EFLAGS_SF   0x00000080u
#define EFLAGS_TF   0x00000100u
#define EFLAGS_IF   0x00000200u
#define EFLAGS_DF   0x00000400u
#define EFLAGS_OF   0x00000800u
#define EFLAGS_IOPL 0x00003000u
#define EFLAGS_IOPL_SHIFT 12
#define EFLAGS_NT   0x00004000u
#define EFLAGS_RF   0x00010000u
#define EFLAGS_VM   0x00020000u
#define EFLAGS_AC   0x00040000u
#define EFLAGS_VIF  0x00080000u
#define EFLAGS_VIP  0x00100000u
#define EFLAGS_ID   0x00200000u
/* The six arithmetic flags; they may live in lazy form (cc_op != CC_OP_EFLAGS). */
#define EFLAGS_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* CR0 bits (SDM Vol.3 2.5). */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* CR4 bits. */
#define CR4_VME 0x0001u
#define CR4_PVI 0x0002u
#define CR4_TSD 0x0004u
#define CR4_DE  0x0008u
#define CR4_PSE 0x0010u
#define CR4_PAE 0x0020u
#define CR4_MCE 0x0040u
#define CR4_PGE 0x0080u
#define CR4_PCE 0x0100u
#define CR4_OSFXSR 0x0200u
#define CR4_OSXMMEXCPT 0x0400u

/* IA32_EFER bits (SDM Vol.4 Table 2-2).  A 32-bit model with NX has only NXE;
 * SCE, LME and LMA come with x86-64 and are reserved until then. */
#define EFER_SCE 0x0001u /* SYSCALL/SYSRET enable */
#define EFER_LME 0x0100u /* long mode enable */
#define EFER_LMA 0x0400u /* long mode active */
#define EFER_NXE 0x0800u /* execute-disable bit (XD, bit 63 of PAE entries) in force */

/* The long-mode MSRs (SDM Vol.4 Table 2-2, AMD APM Vol.2 6.1.1). */
#define MSR_STAR           0xc0000081u /* SYSCALL/SYSRET selectors, legacy SYSCALL EIP */
#define MSR_LSTAR          0xc0000082u /* SYSCALL target RIP from 64-bit mode */
#define MSR_CSTAR          0xc0000083u /* SYSCALL target RIP from compatibility mode */
#define MSR_FMASK          0xc0000084u /* RFLAGS bits SYSCALL clears */
#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u /* swapped with GS.base by SWAPGS */
#define MSR_TSC_AUX        0xc0000103u /* what RDTSCP returns in ECX */
#define MSR_K8_SYSCFG      0xc0010010u /* AMD system configuration (AMD models only) */
#define MSR_K8_INT_PENDING 0xc0010055u /* AMD interrupt pending message (AMD models only) */

/* Descriptor attribute bits, kept in SegmentCache.attr exactly where they sit
 * in the high dword of a descriptor (SDM Vol.3 3.4.5), so a descriptor's high
 * dword masked with DESC_ATTR_MASK is its attr. */
#define DESC_TYPE_SHIFT 8
#define DESC_TYPE_MASK  (0xfu << 8)
#define DESC_A    (1u << 8)  /* accessed (code/data) */
#define DESC_W    (1u << 9)  /* writable data */
#define DESC_R    (1u << 9)  /* readable code */
#define DESC_E    (1u << 10) /* expand-down data */
#define DESC_C    (1u << 10) /* conforming code */
#define DESC_CODE (1u << 11) /* code (1) or data (0) */
#define DESC_S    (1u << 12) /* code/data (1) or system (0) */
#define DESC_DPL_SHIFT 13
#define DESC_DPL_MASK (3u << 13)
#define DESC_P    (1u << 15)
#define DESC_AVL  (1u << 20)
#define DESC_L    (1u << 21) /* 64-bit code segment (IA-32e mode only) */
#define DESC_B    (1u << 22) /* D/B: 32-bit default size / big stack */
#define DESC_G    (1u << 23) /* limit in 4 KiB units */
#define DESC_ATTR_MASK 0x00f0ff00u

/*
 * A segment register with its hidden descriptor cache (SDM Vol.3 3.4.3).
 * limit is byte-granular (G already applied).  In real and vm86 mode base is
 * selector << 4 and the cache otherwise keeps what was last loaded, which is
 * what makes "unreal mode" work.
 */
typedef struct SegmentCache {
    uint64_t base;     /* linear base address; above 4 GiB only for FS/GS in 64-bit mode
                        * (MSR or SWAPGS) and for the 16-byte system descriptors */
    uint32_t limit;    /* last valid offset (or, expand-down, the lower bound - 1) */
    uint32_t attr;     /* DESC_* bits as in the descriptor's high dword */
    uint16_t selector; /* visible part */
    uint16_t check;    /* SEGCHK_* summary of attr for the fast access check (seg_update_check) */
} SegmentCache;

/* SegmentCache.check bits: what makes an access leave the inline fast path. */
#define SEGCHK_NOREAD   0x01u /* execute-only code: reads fault */
#define SEGCHK_NOWRITE  0x02u /* code or read-only data: writes fault */
#define SEGCHK_EXPDOWN  0x04u /* expand-down: limit check is inverted */
#define SEGCHK_UNUSABLE 0x08u /* null or not present: every access faults */

/* Derive SegmentCache.check from attr; call whenever attr changes. */
static inline void seg_update_check(SegmentCache *sc)
{
    uint32_t a = sc->attr;
    uint16_t c = 0;
    if (!(a & DESC_P)) {
        c |= SEGCHK_UNUSABLE;
    }
    if (a & DESC_CODE) {
        c |= SEGCHK_NOWRITE;
        if (!(a & DESC_R)) {
            c |= SEGCHK_NOREAD;
        }
    } else {
        if (!(a & DESC_W)) {
            c |= SEGCHK_NOWRITE;
        }
        if (a & DESC_E) {
            c |= SEGCHK_EXPDOWN;
        }
    }
    sc->check = c;
}

/* A descriptor-table register: GDTR and IDTR use base/limit only; LDTR and TR
 * are full segment caches (selector + loaded system descriptor). */
typedef struct TableRegister {
    uint64_t base;  /* linear base: 32 bits outside long mode, 64 in it (LGDT/LIDT in 64-bit mode) */
    uint32_t limit;
} TableRegister;

/*
 * Lazy arithmetic flags.  An ALU instruction records what it did instead of
 * computing six flags nobody may read; flags_compute() (cpu/flags.c) derives
 * them on demand.  cc_op == CC_OP_EFLAGS means the arithmetic bits of
 * CPUState.eflags are authoritative.
 */
enum CCOp {
    CC_OP_EFLAGS = 0, /* arithmetic flags are in cpu->eflags */
    /* Each group has B, W, L, Q variants in that order: op + size_index
     * (0..3 for 1, 2, 4, 8 bytes); operands are held in 64 bits. */
    CC_OP_ADDB, CC_OP_ADDW, CC_OP_ADDL, CC_OP_ADDQ, /* res = a + b;          src1 = a, src2 = b */
    CC_OP_ADCB, CC_OP_ADCW, CC_OP_ADCL, CC_OP_ADCQ, /* res = a + b + cin;    src1 = a, src2 = b, aux = cin */
    CC_OP_SUBB, CC_OP_SUBW, CC_OP_SUBL, CC_OP_SUBQ, /* res = a - b (also CMP, NEG with a=0) */
    CC_OP_SBBB, CC_OP_SBBW, CC_OP_SBBL, CC_OP_SBBQ, /* res = a - b - cin;    aux = cin */
    CC_OP_LOGICB, CC_OP_LOGICW, CC_OP_LOGICL, CC_OP_LOGICQ, /* AND/OR/XOR/TEST: CF=OF=0, AF=0 */
    CC_OP_INCB, CC_OP_INCW, CC_OP_INCL, CC_OP_INCQ, /* res = a + 1; aux = old CF (preserved) */
    CC_OP_DECB, CC_OP_DECW, CC_OP_DECL, CC_OP_DECQ, /* res = a - 1; aux = old CF (preserved) */
    CC_OP_SHLB, CC_OP_SHLW, CC_OP_SHLL, CC_OP_SHLQ, /* res = a << n; src1 = a, src2 = n (1..63) */
    CC_OP_SHRB, CC_OP_SHRW, CC_OP_SHRL, CC_OP_SHRQ, /* res = a >> n (logical) */
    CC_OP_SARB, CC_OP_SARW, CC_OP_SARL, CC_OP_SARQ, /* res = a >> n (arithmetic) */
    CC_OP_MULB, CC_OP_MULW, CC_OP_MULL, CC_OP_MULQ, /* res = low half; aux = 1 if CF=OF=1 */
    CC_OP_COUNT
};

/* Interrupt-request bits in CPUState.interrupt_request. */
#define CPU_INTERRUPT_HARD  0x01u /* the PIC has an unmasked IRQ pending */
#define CPU_INTERRUPT_NMI   0x02u
#define CPU_INTERRUPT_RESET 0x04u /* reset requested (i8042, 0xCF9, triple fault) */
#define CPU_INTERRUPT_EXIT  0x08u /* leave the CPU loop: timer, UI, debugger */

/* Why cpu_exec() returned. */
enum CPUExitReason {
    CPU_EXIT_BUDGET = 0, /* ran the requested number of instructions */
    CPU_EXIT_REQUEST,    /* interrupt_request had CPU_INTERRUPT_EXIT */
    CPU_EXIT_HALT,       /* HLT with nothing to do */
    CPU_EXIT_RESET,      /* triple fault or reset request */
    CPU_EXIT_DEBUG,      /* debugger breakpoint / single step */
};

/* Model-specific registers we implement. */
#define MSR_IA32_TSC            0x010
#define MSR_IA32_APIC_BASE      0x01b
#define MSR_IA32_TSC_DEADLINE   0x6e0 /* the local APIC timer's TSC-deadline mode */
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_IA32_CR_PAT         0x277
#define MSR_IA32_PLATFORM_ID    0x017 /* read by Linux's microcode loader on family 6 */
#define MSR_IA32_BIOS_SIGN_ID   0x08b /* microcode revision (we have none: 0) */
#define MSR_IA32_MTRRCAP        0x0fe
#define MSR_P6_PERFCTR0         0x0c1 /* PERFCTR1 = 0x0c2 */
#define MSR_P6_EVNTSEL0         0x186 /* EVNTSEL1 = 0x187 */
#define CPU_PERFCTR_MASK        0xffffffffffull /* the P6's counters are 40 bits wide */
#define MSR_IA32_MTRR_PHYSBASE0 0x200 /* PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n */
#define MSR_IA32_MTRR_FIX64K_00000 0x250
#define MSR_IA32_MTRR_FIX16K_80000 0x258
#define MSR_IA32_MTRR_FIX16K_A0000 0x259
#define MSR_IA32_MTRR_FIX4K_C0000  0x268 /* ... FIX4K_F8000 = 0x26f */
#define MSR_IA32_MTRR_DEF_TYPE  0x2ff
#define MSR_IA32_EFER           0xc0000080u /* extended features: NXE (models with NX) */
#define MTRR_VAR_STORED 8   /* variable-range pairs (MTRRcap.VCNT) */
#define MTRR_FIXED_COUNT 11 /* fixed-range MSRs */

/* Pluggable back ends the CPU reaches through pointers, never by name. */
struct PhysMem;
struct IOPortMap;
struct FPUState;
struct Insn;

/* One return prediction of translated code (CPUState.bt_ras). */
#define BT_RAS_SIZE 64
typedef struct BTRasEntry {
    uint64_t tag;     /* block key << 32 | return EIP; ~0 when empty */
    const void *code; /* host code that goes on at the return EIP */
} BTRasEntry;

static inline void cpu_ras_clear(BTRasEntry *ras)
{
    for (int i = 0; i < BT_RAS_SIZE; i++) {
        ras[i].tag = ~0ull;
    }
}

typedef struct CPUState CPUState;

/*
 * What CPUID reports (cpu/cpuid.c): the model chosen with -cpu (its
 * family, model and stepping, cache descriptors and brand string live in
 * the model table, cpu/models.c) and its feature words after -cpu's
 * +feat/-feat.  Each feature word holds only bits popek implements; a CR4
 * bit or an MSR exists exactly when the feature behind it is here.
 */
struct CPUModel;
typedef struct CPUIDConfig {
    const struct CPUModel *model; /* the -cpu model (cpu/models.h) */
    uint32_t edx1;    /* CPUID.1:EDX (APIC only while the APIC is globally enabled) */
    uint32_t ecx1;    /* CPUID.1:ECX (TSC-deadline only with an enabled APIC and SSE2) */
    uint32_t ext_edx; /* CPUID.80000001h:EDX (NX; SYSCALL, LM with long mode) */
    uint32_t ext_ecx; /* CPUID.80000001h:ECX (LAHF-SAHF in 64-bit mode, with long mode) */
} CPUIDConfig;

/* Hooks for the machine: interrupt acknowledge and observation points. */
typedef struct CPUHooks {
    void *opaque;
    /* INTA cycle: return the vector of the highest-priority pending IRQ. */
    int (*irq_ack)(void *opaque);
    /* FERR# asserted (x87 error with CR0.NE=0): the PC routes it to IRQ13. */
    void (*ferr)(void *opaque);
    /* Virtual time in ns (the timer list's clock), which drives the TSC. */
    int64_t (*clock_ns)(void *opaque);
    /* The MSRs of the machine's local APIC (IA32_APIC_BASE, IA32_TSC_DEADLINE):
     * false when the index is not one of them, or (write) the value is
     * invalid, so the CPU raises #GP(0).  NULL: the CPU has no APIC, and
     * IA32_APIC_BASE only stores what is written. */
    bool (*msr_read)(void *opaque, uint32_t index, uint64_t *value);
    bool (*msr_write)(void *opaque, uint32_t index, uint64_t value);
    /* CR8, the task-priority class: TPR[7:4] of the local APIC, whose
     * TPR[3:0] a write clears (SDM Vol.3 10.8.6.1).  NULL: no APIC, and
     * CR8 keeps what is written (CPUState.cr8). */
    uint8_t (*cr8_read)(void *opaque);
    void (*cr8_write)(void *opaque, uint8_t cr8);
    /* Optional observers (trace, gdb); NULL when unused.  They get their
     * own context pointer, since the machine and the tracer differ. */
    void *observer;
    void (*on_exception)(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                         bool is_hw_irq);
    /* Called before each instruction executes (exec trace, debugger). */
    void (*on_insn)(void *opaque, CPUState *cpu, const struct Insn *insn);
    /* When not NULL, on_insn acts only on instructions at these insn_bp_count
     * linear addresses (debugger breakpoints), so the translator may run
     * blocks that hold none of them; NULL means every instruction matters. */
    const uint32_t *insn_bp;
    int insn_bp_count;
} CPUHooks;

/* x87 register file and control state (SDM Vol.1 8.1). */
typedef struct FPURegs {
    long double st[8]; /* physical registers R0..R7 (80-bit extended, host format) */
    uint16_t fcw;      /* control word */
    uint16_t fsw;      /* status word, with TOP in bits 11..13 kept in 'top' */
    uint16_t ftw;      /* full tag word, 2 bits per physical register */
    uint8_t top;       /* stack top (physical index of ST0) */
    uint8_t pad;
    uint16_t fop;      /* last non-control opcode (11 bits) */
    uint32_t fip;      /* last instruction pointer (offset) */
    uint16_t fcs;      /* last instruction CS */
    uint16_t fds;      /* last operand DS */
    uint32_t fdp;      /* last operand offset */
    /* SSE state carried by FXSAVE/FXRSTOR even before SSE executes. */
    uint32_t mxcsr;
    uint8_t xmm[8][16];
} FPURegs;

/* Setting bt_exit_request also takes this from bt_budget, so translated code
 * finds both in its one budget test at the next block entry. */
#define BT_BUDGET_KICK ((int64_t)1 << 48)

struct CPUState {
    /* ---- hot: the interpreter's and translator's fixed offsets start here ---- */
    /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15.  Outside 64-bit mode only
     * the low 32 bits of the first eight are architectural, and every
     * 32-bit write stores a zero-extended value, so the high halves stay
     * zero there and the translator may load and store the low halves
     * alone (translator/stubs.c: stride 8, 32-bit moves). */
    uint64_t regs[CPU_NB_REGS];
    /* Offset in CS of the current instruction (start of it while it runs):
     * RIP in 64-bit mode.  Kept under its old name, which ~1000 lines of
     * the interpreter, the translator and the debugger use; outside 64-bit
     * mode its high half is zero (same rule as regs). */
    uint64_t eip;
    uint32_t eflags;    /* EFLAGS; arithmetic bits valid only when cc_op == CC_OP_EFLAGS */
    uint32_t cc_op;     /* enum CCOp: how the arithmetic flags are held */
    uint64_t cc_res;    /* lazy flags: result of the last flag-setting op */
    uint64_t cc_src1;   /* lazy flags: first operand */
    uint64_t cc_src2;   /* lazy flags: second operand / shift count */
    uint64_t next_eip;  /* set by the dispatcher to eip + length; branches overwrite it */
    uint32_t cc_aux;    /* lazy flags: carry-in, preserved CF, or MUL overflow */
    volatile uint32_t interrupt_request; /* CPU_INTERRUPT_* bits, set from devices and UI */
    uint32_t cpl;       /* current privilege level 0..3 (CS.RPL in protected mode, 3 in vm86) */
    uint32_t mmu_idx;   /* MMU_KERNEL or MMU_USER, derived from cpl */
    uint32_t hflags;    /* HF_* summary bits derived from mode; see cpu/cpu.h */
    SegmentCache seg[SEG_COUNT]; /* ES CS SS DS FS GS */

    /* ---- the software TLB, read by generated code ---- */
    TLB tlb;

    /* ---- system registers ---- */
    uint32_t cr0;       /* CR0 */
    uint64_t cr2;       /* page-fault linear address (64-bit in long mode) */
    uint64_t cr3;       /* page-directory base (PML4 base under 4-level paging) */
    uint32_t cr4;       /* CR4 */
    uint8_t cr8;        /* CR8 (64-bit mode) without hooks.cr8_read; with them the APIC's TPR holds it */
    uint64_t dr[8];     /* DR0-DR3 breakpoint linear addresses (64 bits; 32 count outside
                         * 64-bit mode), DR6 status, DR7 control (32 bits; DR4/5 alias 6/7) */
    TableRegister gdtr; /* global descriptor table */
    TableRegister idtr; /* interrupt descriptor table */
    SegmentCache ldtr;  /* local descriptor table: selector + cached descriptor */
    SegmentCache tr;    /* task register: selector + cached TSS descriptor */
    uint64_t tsc_offset;/* TSC = virtual ns (or icount without a machine) + tsc_offset */
    uint32_t sysenter_cs;  /* IA32_SYSENTER_CS */
    uint64_t sysenter_esp; /* IA32_SYSENTER_ESP, _EIP: 64 bits with long mode, else 32 */
    uint64_t sysenter_eip;
    uint64_t msr_pat;   /* IA32_CR_PAT */
    uint64_t efer;      /* IA32_EFER (EFER_*): NXE only, on models with NX */
    /* The four PDPTE registers of PAE paging (SDM Vol.3 4.4.1): loaded from
     * the PDPT at CR3 by MOV CR3 and by CR0/CR4 writes that enter PAE
     * paging or change PG, CD, NW, PAE, PGE or PSE; walks use these, not
     * the PDPT in memory. */
    uint64_t pdpte[4];
    uint64_t apic_base; /* IA32_APIC_BASE without hooks.msr_read (no APIC): reads as stored */
    uint32_t a20_mask;  /* 0xffffffff with A20 on, 0xffefffff with it off */
    bool halted;        /* in HLT until an interrupt */
    bool inhibit_irq;   /* interrupts blocked for one instruction (after STI, MOV SS, POP SS) */
    bool ss_shadow;     /* with inhibit_irq: it came from a load of SS, so an instruction
                         * breakpoint on the next instruction is not taken (Intel, SDM Vol.3 6.8.3) */
    bool in_nmi;        /* NMI handler running; NMIs blocked until IRET */
    bool ferr_pending;  /* x87 error signalled on FERR# (CR0.NE=0): raises IRQ13 via hooks */

    /* ---- x87 / SSE ---- */
    FPURegs fpu;

    /* ---- exceptions in flight ---- */
    int exception_vector;   /* vector being raised, -1 if none */
    uint32_t exception_error; /* its error code */
    bool exception_has_error; /* whether it pushes an error code */
    int delivering_vector;  /* vector whose delivery is in progress (-1: none), for #DF rules */
    uint32_t pending_dr6;   /* DR6 B0-B3 bits of data breakpoints hit by this instruction (#DB trap after it) */
    uint32_t deferred_dr6;  /* DR6 bits of traps a MOV SS/POP SS held back until after the next instruction */
    bool triple_fault;      /* set by exception delivery on a triple fault (shutdown) */
    uint64_t icount;        /* instructions retired (faulting ones included) since reset */
    uint64_t *insn_census;  /* when set: instructions run here, counted per insn_form() */
    /* With undef_perturb set, every result the SDM leaves undefined (the
     * flags of cpu_undefined_flags(), the destinations listed in
     * cpu/undef.c) takes its bits from undef_fill instead of the
     * interpreter's own (P6) value.  Off by default.  The checkers replay
     * with it to find what derives from undefined results
     * (docs/undefined.md); a test may set it to play a CPU whose
     * undefined results differ from ours. */
    bool undef_perturb;
    uint32_t undef_fill;
    jmp_buf jmp_env;        /* cpu_raise_exception() longjmps here (cpu/exec.c) */

    /* ---- decoded instructions (cpu/icache.h) ---- */
    ICache icache;

    /* ---- back ends ---- */
    struct PhysMem *phys;   /* physical address space (RAM, ROM, MMIO) */
    struct IOPortMap *io;   /* port I/O space */
    CPUHooks hooks;         /* interrupt acknowledge and observers */
    struct MMUWatchList *watch; /* debugger watchpoints (gdb Z2-Z4, softmmu/mmu.h); NULL: none */
    CPUIDConfig cpuid;      /* the CPU model (-cpu) and the features CPUID reports */

    /* ---- MSRs the guest may write and read back, with no other effect (cpu/sysreg.c) ---- */
    uint64_t msr_misc_enable; /* IA32_MISC_ENABLE, writable bits only */
    uint64_t mtrr_def_type;   /* IA32_MTRR_DEF_TYPE */
    uint64_t mtrr_fixed[MTRR_FIXED_COUNT];     /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000..F8000 */
    uint64_t mtrr_var[2 * MTRR_VAR_STORED];    /* PHYSBASE0, PHYSMASK0, ..., PHYSMASK7 */
    uint64_t perf_evtsel[2]; /* P6 PERFEVTSEL0/1 (MSR 186h/187h), bits 31:0 */
    uint64_t perf_ctr[2];    /* P6 PERFCTR0/1 (MSR C1h/C2h), 40 bits; they count no events */

    /* ---- binary translator (translator/): translated code reads and writes
     * these at fixed offsets from R15; the interpreter never looks at them ---- */
    int64_t bt_budget;        /* instructions translated code may still retire in this slice;
                               * each block subtracts its length at entry and leaves if < 0.
                               * Lives in host R8 while translated code runs; less
                               * BT_BUDGET_KICK while bt_exit_request is set */
    uint64_t bt_flags;        /* guest arithmetic flags while translated code runs:
                               * the LAHF byte in bits 8-15, OF in bit 0 */
    uint64_t bt_tag_hi;       /* jump-cache tag bits of the current mode (block key << 32) */
    uint64_t bt_view_delta;   /* after a far door: offset of the new CPL's TLB view from view 0 */
    void *bt_jc;              /* jump cache (translator/cache.c) */
    uint64_t bt_jc_lookups;   /* indirect transfers that looked in it ... */
    uint64_t bt_jc_misses;    /* ... and missed */
    uint64_t bt_mem_slow;     /* ModRM memory operands that missed the inline TLB check */
    /* Return prediction (translator/gen_flow.c): translated CALLs push
     * (key << 32 | return EIP, host code that continues there), RETs pop
     * and jump straight there when the popped EIP and the key match.  An
     * entry is good only while the TLB that mapped its code is, so every
     * TLB flush clears them (cpu_ras_clear), as do cache flushes. */
    BTRasEntry bt_ras[BT_RAS_SIZE];
    uint32_t bt_ras_top;      /* index of the latest entry */
    uint64_t bt_ret_total;    /* translated RETs ... */
    uint64_t bt_ret_miss;     /* ... whose prediction failed */
    void *bt_exit;            /* exit record of the block exit just taken, or NULL */
    uint32_t bt_lin;          /* slow path: linear address of the memory operand */
    uint64_t bt_target;       /* indirect CALL: the target while the return address is pushed */
    uint8_t bt_bounce[16]     /* slow path: the memory operand, when it is not plain RAM
                               * (up to 16 bytes: x87 m80, an XMM operand; aligned so the
                               * SSE forms that require alignment run on it) */
        __attribute__((aligned(16)));
    uint8_t bt_fpu_img[108];  /* translated x87: FNSAVE/FRSTOR image of the guest's x87
                               * state on its way in and out of the host FPU
                               * (translator/fpu_state.c) */
    uint8_t bt_exit_request;  /* set with any interrupt_request bit: leave at the next block */
    uint8_t bt_fpu_live;      /* the guest's x87 state is in the host FPU, not in fpu
                               * (translator/fpu_state.c); only inside bt_run_tb() */
    uint8_t bt_sse_live;      /* the guest's XMM registers and MXCSR are in the host's, not in
                               * fpu (translator/gen_sse.c); only inside translated code */
    uint64_t bt_shadow_icount; /* the count of an instruction in STI's shadow that
                                * translated code runs natively, while it runs: a
                                * fault in it finds the shadow still open
                                * (translator/helpers.c); UINT64_MAX otherwise */
    uint64_t bt_icount_end;   /* the instruction count at which this slice of
                               * translated code ends (budget 0), for that count */
    uint32_t bt_host_mxcsr;   /* the host's MXCSR, which translated code restores when it
                               * takes the guest's out of the host (translator/gen_sse.c) */
    uint32_t rep_elements;    /* REP string elements since the last cut: past
                               * REP_CUT_ELEMENTS the CPU asks to leave its slice
                               * (cpu_rep_account), so a REP over slow memory cannot
                               * hold off timers, the monitor or the window */
    void *accel;              /* the translator running this CPU (translator/: bt_of()),
                               * or NULL; opaque here, so cpu/ names no engine above it */
    uint8_t xmm_hi[8][16]     /* XMM8-XMM15, reached with REX in 64-bit mode (cpu_xmm());
                               * XMM0-7 are fpu.xmm, in the FXSAVE layout */
        __attribute__((aligned(16)));

    /* ---- long-mode MSRs (cpu/sysreg.c, cpu/syscall.c); appended so that no
     * offset translated code uses moves ---- */
    uint64_t msr_star;       /* STAR: SYSRET CS/SS base in 63:48, SYSCALL's in 47:32 */
    uint64_t msr_lstar;      /* LSTAR: 64-bit SYSCALL entry (canonical) */
    uint64_t msr_cstar;      /* CSTAR: compatibility-mode SYSCALL entry (canonical) */
    uint64_t msr_fmask;      /* FMASK: RFLAGS bits SYSCALL clears (bits 31:0) */
    uint64_t kernel_gs_base; /* KERNEL_GS_BASE: exchanged with GS.base by SWAPGS (canonical) */
    uint64_t msr_tsc_aux;    /* TSC_AUX: returned by RDTSCP in ECX (bits 31:0) */
    uint64_t msr_syscfg;     /* AMD SYSCFG: kept as written (bits 31:0); 0 after RESET */
    uint64_t msr_intpend;    /* AMD IntPend: kept as written (bits 31:0); 0 (no C1E) after RESET */
};

#endif /* CPU_STATE_H */
