/*
 * The block generator's private interface, shared by gen.c (blocks, flags,
 * callouts, exits), gen_mem.c (memory operands and the stack) and
 * gen_ops.c (one generator per guest instruction family).
 */
#ifndef TRANSLATOR_GEN_H
#define TRANSLATOR_GEN_H

#include <stddef.h>

#include "translator/bt_internal.h"

#define BT_MAX_SLOW (2 * BT_MAX_INSNS)

/* How an instruction uses the arithmetic flags, for the flag tracking. */
enum FlagUse {
    FU_NONE,   /* neither reads nor writes them */
    FU_WRITE,  /* writes all six and reads none */
    FU_READ,   /* reads them, writes none */
    FU_MODIFY, /* reads some, or writes only some (the rest must survive) */
};

/* Where the guest's x87 state is at a point of a block (gen_fpu.c). */
enum GenFpu {
    GEN_FPU_UNKNOWN, /* block entry: CPUState.bt_fpu_live says */
    GEN_FPU_SAVED,   /* in CPUState.fpu */
    GEN_FPU_LIVE,    /* in the host FPU */
};

/* Where the guest's XMM registers and MXCSR are at a point of a block (gen_sse.c). */
enum GenSse {
    GEN_SSE_UNKNOWN, /* block entry: CPUState.bt_sse_live says */
    GEN_SSE_SAVED,   /* in CPUState.fpu */
    GEN_SSE_LIVE,    /* in the host's xmm0-7 (xmm0-15 in 64-bit blocks) and MXCSR */
};

/* A 16-byte operand's alignment test, whose failure calls the interpreter
 * out of line (gen_sse.c). */
typedef struct GenMisaligned {
    uint8_t *jnz; /* rel32 of the branch taken when misaligned */
    int index;    /* the instruction's index in the block */
    uint8_t fpu;  /* enum GenFpu at the test */
    uint8_t sse;  /* enum GenSse at the test */
} GenMisaligned;

typedef struct Gen Gen;
typedef struct MemOp MemOp;

/* Emits the host instruction(s) of a memory operation, addressing [r14]. */
typedef void (*MemOpEmit)(Gen *g, const MemOp *m);

/* One guest memory access and what to do with it. */
struct MemOp {
    MemOpEmit emit;
    const ScanInsn *si;
    uint8_t size;          /* bytes */
    uint8_t access;        /* ACC_READ or ACC_WRITE */
    bool rmw;              /* ACC_WRITE that reads the old value */
    uint8_t flag_use;      /* enum FlagUse of the emitted op */
    bool target_in_cpu;    /* a commit that leaves continues at cpu->bt_target */
    uint32_t next_eip;     /* where a commit that leaves continues */
    int32_t arg;           /* emitter-specific: a host register, or -1 */
    uint32_t imm;          /* emitter-specific: an immediate */
    BTHelper prep, commit; /* slow-path helpers; NULL: bt_helper_mem_prep/commit */
};

/* An access's out-of-line path, emitted after the block's main line. */
typedef struct SlowPath {
    MemOp op;
    uint8_t *jne;          /* rel32 of the TLB-miss branch */
    const uint8_t *hit;    /* executable address of the fast path's add r14, r11 */
    const uint8_t *after;  /* executable address of the code after the op */
    bool after_host;       /* flag state the main line has after the op */
    bool after_parked;
    uint8_t fpu;           /* enum GenFpu at the access (gen_fpu.c) */
    uint8_t sse;           /* enum GenSse at the access (gen_sse.c) */
    uint8_t seg;           /* the operand's segment, or SEG_NONE */
    int index;             /* the instruction's index in the block */
} SlowPath;

struct Gen {
    BT *bt;
    Emit e;
    TB *tb;
    const BlockScan *scan;
    int cur;               /* index of the instruction being generated */
    bool fl_host;          /* host EFLAGS hold the guest's arithmetic flags */
    bool fl_parked;        /* R13 holds them */
    uint32_t key;
    int mmu_idx;
    uint32_t cs_base;
    const uint8_t *thunk;    /* the callout thunk and epilogue of the block's width */
    const uint8_t *epilogue; /* (bt->thunk64 and epilogue64 for 64-bit blocks) */
    /* The last page checked (translator/gen_mem.c): r10 holds its linear
     * base, or PAGE_NONE, and r11 its addend, while pc_live; pc_write says
     * the check was for a write (which grants reads too). */
    bool pc_live;
    bool pc_write;
    /* The segment of the linear address in r14, while lin_known: set where
     * it is computed, taken by the next access's slow path for the limit
     * check (gen_mem.c). */
    bool lin_known;
    uint8_t lin_seg;
    /* The linear address in r14 when the translator knows it (an absolute
     * or RIP-relative operand): lin_const, valid while the code that loaded
     * it ends at lin_const_at, that is, nothing was emitted since (gen_mem.c). */
    uint64_t lin_const;
    uint8_t *lin_const_at;
    uint8_t fpu;                /* enum GenFpu: where the guest's x87 state is here (gen_fpu.c) */
    BTCallInfo *fpu_save_ci;    /* the block's bt_helper_fpu_save callout, once made */
    uint8_t sse;                /* enum GenSse: where the guest's XMM state is here (gen_sse.c) */
    BTCallInfo *sti_ci;         /* the callout of an STI just generated (gen_ops.c) */
    bool sti_native;            /* an STI just generated natively, its shadow closed */
    int nmisaligned;
    uint8_t *stale[2];          /* a two-page block's entry check failing (straddle.c) */
    SlowPath slow[BT_MAX_SLOW]; /* from here on not cleared per block (bt_translate) */
    GenMisaligned misaligned[BT_MAX_INSNS];
    GenMisaligned fldcw_unmask[2 * BT_MAX_INSNS]; /* FLDCW unmasking: the interpreter (gen_fpu.c) */
    int nfldcw;
    int nslow;
    bool failed;           /* something could not be generated */
};

/* Guest register r (32- or 16-bit) in its host register. */
static inline int hreg(int r)
{
    return r == R_ESP ? H_R12 : r;
}

/* CPUState field offsets, as displacements from R15. */
#define CPU_OFF(field) ((int32_t)offsetof(CPUState, field))

static inline int32_t tlb_view_off(int mmu_idx)
{
    return (int32_t)(offsetof(CPUState, tlb) + offsetof(TLB, e) +
                     (size_t)mmu_idx * TLB_SLOTS * sizeof(TLBEntry));
}

/* ---- gen.c ---- */
void gen_park(Gen *g);
void gen_unpark(Gen *g);
void gen_flags_before(Gen *g, int flag_use);
void gen_flags_after(Gen *g, int flag_use);
/* The host flags are about to be clobbered: park the guest's first. */
void gen_clobber(Gen *g);
BTCallInfo *gen_callinfo(Gen *g, const ScanInsn *si, BTHelper fn);
void gen_call(Gen *g, BTCallInfo *ci);
void gen_callout(Gen *g, const ScanInsn *si);
void gen_exit_direct(Gen *g, uint64_t target);
void gen_exit_nochain(Gen *g, uint64_t target);
void gen_exit_indirect(Gen *g);
/* JMP r/m32 and CALL r/m32 (target in r14d): through the site's inline
 * cache first. */
void gen_exit_indirect_ic(Gen *g);

/* cmp qword [the fetch tag of page's TLB slot], page (through r10 when
 * page is no sign-extended imm32); the caller branches on ZF.  Returns
 * the slot's offset from r15, for a compare of its physical page. */
int32_t gen_cmp_fetch_tag(Gen *g, uint64_t page);

/* A direct exit's patchable jump to its target (x->patch), after, with
 * recheck, the TLB check of the target's linear page lin: the fetch tag
 * and the physical page (x->phys_patch, filled in when chained); a failed
 * check falls through to what the caller emits next. */
void gen_exit_jump(Gen *g, BTExit *x, bool recheck, uint64_t lin);

/* The tail of an in-code jump-cache lookup (r11 the entry, r10 the
 * target's linear address, miss1 the tag compare's miss, rel32): the fetch tag
 * and physical page in the block's TLB view (far: the view a door left,
 * bt_view_delta), then, fill given, the entry copied into that inline
 * cache (gen_ic.c), and the jump to the entry's code; every miss lands
 * after it with bt_jc_misses counted.  Clobbers r9 and r10. */
void gen_jc_validate(Gen *g, bool far, uint8_t *miss1, BTJumpEntry *fill);
/* The same without the tag compare and the miss count: the two misses'
 * rel32 fields in miss[], left for the caller to bind; ic_hit: an inline
 * cache's hit, counted before the jump (bt_ic_hits). */
void gen_jc_enter(Gen *g, bool far, BTJumpEntry *fill, uint8_t *miss[2], bool ic_hit);

/* mov [r15+eip], target: a dword outside 64-bit mode (the high half is
 * zero there), the whole RIP in it.  Clobbers r11, not the flags. */
void gen_store_eip(Gen *g, uint64_t target);

/* ---- gen64.c ---- */
/* The body of a 64-bit block (KEY_CODE64), its exits included. */
void gen64_body(Gen *g);

/* ---- gen_mem.c ---- */
/* R14D = linear address of insn's ModRM/moffs operand; false if its
 * segment must go through a callout.  Clobbers host flags (park first). */
bool gen_operand_linear(Gen *g, const Insn *insn);
/* The same with plus << shift (a host register; shift 0..3) added to
 * the offset before it wraps to the address size. */
bool gen_operand_linear_plus(Gen *g, const Insn *insn, int plus, int shift);
/* r14 now holds lin, a constant: the access that follows at once checks
 * the TLB slot it knows (gen_mem_access). */
void gen_lin_const(Gen *g, uint64_t lin);
/* R14D = linear address of SS:ESP+delta; false if the stack needs a callout. */
bool gen_stack_linear(Gen *g, int32_t delta);
/* r14d += the segment's base (if it has one): r14 is then its linear address. */
void gen_add_seg_base(Gen *g, int seg);
bool gen_stack_native(const Gen *g);
/* The TLB check and the op, with the op's slow path recorded. */
void gen_mem_access(Gen *g, const MemOp *m);
/* dst32 = tlb_slot(lin32) * sizeof(TLBEntry), the offset of lin's TLB entry. */
void gen_tlb_offset(Gen *g, int dst, int lin);
void gen_slow_paths(Gen *g);
/* Emitted code is about to clobber r10/r11 (a callout, an exit). */
static inline void gen_page_forget(Gen *g)
{
    g->pc_live = false;
}

/* ---- gen_flow.c ---- */
/* Stack and control-transfer instructions; false if si is not one it emits
 * natively (nothing emitted then).  *ended: it emitted the block's exits. */
bool gen_flow_insn(Gen *g, const ScanInsn *si, bool *ended);

/* A Jcc that is not its block's last (a superblock): the taken side a
 * chained exit to target that refunds the rest of the block, the
 * fall-through on in the block.  Both block widths. */
void gen_jcc_on(Gen *g, const ScanInsn *si, uint64_t target);

/* r10d = the guest's EFLAGS as PUSHF stores them, from the parked flags
 * and CPUState (clobbers r9 and the host flags). */
void gen_pushf_image(Gen *g);

/* ---- gen_ic.c: inline caches of indirect JMP/CALL sites ---- */
/* A new site's entries (BT_IC_WAYS, empty), or NULL when inline caches are
 * off, chaining is (check mode) or the pool is used up. */
BTJumpEntry *gen_ic_site(Gen *g);
/* The probe of the target in r14 (canonical in 64-bit blocks): a hit
 * jumps to the cached block; a miss falls through, counted. */
void gen_ic_probe(Gen *g, BTJumpEntry *site);
/* r11 a jump-cache entry validated for this block: into the site's first
 * way, the first into the second.  Clobbers r9 and r10. */
void gen_ic_fill(Gen *g, BTJumpEntry *site);

/* ---- gen_string.c ---- */
/* MOVS/STOS/LODS/CMPS/SCAS without REP; false if si is not one it emits
 * natively (the caller rewinds what was emitted). */
bool gen_string_insn(Gen *g, const ScanInsn *si);
/* REP MOVS and REP STOS: inline within a page, else the helper. */
void gen_rep_string(Gen *g, const ScanInsn *si);

/* ---- gen_fpu.c ---- */
/* An x87 instruction as host x87 code; false if it is not one emitted
 * natively (nothing emitted then). */
bool gen_fpu_insn(Gen *g, const ScanInsn *si);
/* If the guest's x87 state is (or may be) in the host FPU: save it to
 * CPUState (this calls C) and empty the host FPU. */
void gen_fpu_flush(Gen *g);
/* The out-of-line paths of FLDCW loading a control word that unmasks. */
void gen_fpu_stubs(Gen *g);
/* Load it again from the image the last flush left (no C call). */
void gen_fpu_reload(Gen *g);
/* Before an instruction that needs the guest's x87 (or MMX) state in the
 * host FPU: load it, checking the mode (a callout when not yet live). */
void gen_fpu_enter(Gen *g, const ScanInsn *si);
/* The memory operand of an x87/MMX/SSE instruction in a block of either
 * width: whether it can be addressed natively; whether it is RIP-relative
 * (its address, a constant, in *ea); r14 = its linear address (parks the
 * flags) and m's slow-path helpers. */
bool gen_fpmem_ok(const Gen *g, const Insn *in);
bool gen_fpmem_rip(const Gen *g, const ScanInsn *si, uint64_t *ea);
void gen_fpmem_linear(Gen *g, const ScanInsn *si, MemOp *m);

/* ---- gen_sse.c ---- */
/* An MMX/SSE instruction as host code; false if it is not one emitted
 * natively (nothing emitted then). */
bool gen_sse_insn(Gen *g, const ScanInsn *si);
/* If the guest's XMM state is (or may be) in the host: store it to
 * CPUState and restore the host's MXCSR (no C call). */
void gen_sse_flush(Gen *g);
/* Load it again from CPUState (no C call). */
void gen_sse_reload(Gen *g);
/* The out-of-line paths of misaligned 16-byte operands. */
void gen_sse_stubs(Gen *g);

/* ---- gen_sys.c ---- */
/* Segment loads, RDTSC, VERW, SYSENTER and SYSEXIT through light helpers;
 * false if si is not one of them (nothing emitted then). */
bool gen_sys_insn(Gen *g, const ScanInsn *si);

/* 64-bit blocks: RDTSC, VERW, RDMSR, WRMSR at CPL 0, CR8 reads, loads of
 * ES, DS, FS and GS (light helpers), MOV r, Sreg, CR reads and SWAPGS at
 * CPL 0 (native);
 * false if si is not one of them (nothing emitted then). */
bool gen64_sys_insn(Gen *g, const ScanInsn *si);

/* 64-bit blocks: IRET (a light helper and the far exit), the block's
 * last; false if si is not it (nothing emitted then). */
bool gen64_sys_end(Gen *g, const ScanInsn *si);

/* ---- gen_memforms.c ---- */
/* BT/BTS/BTR/BTC m, r (bit strings) and CMPXCHG8B m64; false if si is
 * not one of them or needs a callout (the caller rewinds). */
bool gen_memform_insn(Gen *g, const ScanInsn *si);

/* ---- straddle.c ---- */
/* A two-page block's entry check of its second page's mapping; its
 * failures (Gen.stale) leave as the budget check does. */
void gen_straddle_check(Gen *g);

/* ---- gen_ops.c ---- */
/* Generate one instruction; true if it ended the block with its own exits. */
bool gen_insn(Gen *g, const ScanInsn *si);
/* 64-bit blocks: STI (native at CPL 0) and a non-plain instruction in its
 * shadow (a callout); true if si was generated, *callout whether as a
 * callout.  gen64.c asks before its own dispatch. */
bool gen64_sti_insn(Gen *g, const ScanInsn *si, bool *callout);
/* ALU on AL/eAX with an immediate, TEST AL/eAX, CBW/CWDE/CDQE, CWD/CDQ/CQO,
 * CMC/CLC/STC, MOV r8, imm8 without REX (and SAHF/LAHF outside 64-bit
 * blocks) as they stand; false (nothing emitted) for anything else. */
bool gen_opcode_verbatim(Gen *g, const ScanInsn *si);

/* Fences, PAUSE, CLD/STD and CLI at CPL 0, which touch no state that
 * translated code holds, in 32- and 64-bit blocks; false (nothing
 * emitted) for anything else. */
bool gen_hint_insn(Gen *g, const ScanInsn *si);

/* Where generation of one instruction started, to undo a native attempt. */
typedef struct GenMark {
    size_t data_used;
    uint8_t *code;
    bool host, parked;
    int nslow;
    uint8_t fpu;             /* gen_fpu.c's state, which a callout in the attempt changes */
    BTCallInfo *fpu_save_ci; /* (an attempt may have allocated it in data now given back) */
    uint8_t sse;             /* gen_sse.c's state, likewise */
} GenMark;

GenMark gen_mark(const Gen *g);
void gen_rewind(Gen *g, const GenMark *m);

/* ---- gen_native.c ---- */
/* The guest instruction's immediate bytes, copied. */
void gen_emit_guest_imm(Gen *g, const ScanInsn *si);
/* How the instruction uses the arithmetic flags (enum FlagUse). */
int gen_flag_use(const Insn *in);
/* Whether in's operation runs natively in ModRM form. */
bool gen_native_op(const Insn *in);
/* A MemOp for si with emitter emit, the slow-path helpers of g's block width. */
void gen_memop_init(const Gen *g, MemOp *m, const ScanInsn *si, MemOpEmit emit);
/* A ModRM instruction of gen_native_op as itself, on registers or memory,
 * in a 32- or 64-bit block; false if it needs a callout (the caller
 * rewinds what was emitted). */
bool gen_native_modrm(Gen *g, const ScanInsn *si);
/* DIV/IDIV r/m32 and r/m64 behind the cannot-fault check; false if not one. */
bool gen_divide(Gen *g, const ScanInsn *si);

#endif /* TRANSLATOR_GEN_H */
