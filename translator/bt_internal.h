/*
 * The translator's internals, shared by its files: blocks, exits, callout
 * descriptors, the code cache and the run loop's state.
 *
 * Conventions of translated code (translator/README.md has the why):
 *   host RAX RCX RDX RBX RBP RSI RDI  guest EAX ECX EDX EBX EBP ESI EDI
 *   host R12                          guest ESP
 *   host R13                          guest arithmetic flags, "parked":
 *                                     LAHF byte in bits 8-15, OF in bit 0
 *   host R15                          CPUState
 *   host R8                           the instruction budget (CPUState.bt_budget)
 *   host R9-R11, R14                  scratch (R14: guest linear, then host
 *                                     address of a memory operand)
 * Guest registers are 32-bit values zero-extended in their host register.
 * Between blocks the guest flags are parked in R13; inside a block they may
 * be live in the host EFLAGS instead (Gen tracks where).  Guest DF, IF,
 * IOPL, TF, NT, AC, VM, ID live in CPUState only: host DF is always clear.
 */
#ifndef TRANSLATOR_BT_INTERNAL_H
#define TRANSLATOR_BT_INTERNAL_H

#include "cpu/cpu.h"
#include "translator/emit_x86_64.h"
#include "translator/translator.h"

#define BT_MAX_INSNS  48    /* guest instructions per block */
#define BT_MAX_CODE   32768 /* host code bytes one block may need (slow paths included) */
#define BT_MAX_DATA   16384 /* descriptor bytes one block may need */
#define BT_HASH_BITS  15
#define BT_JC_BITS    12    /* jump cache: 4096 entries indexed by EIP */
#define BT_JC_ENTRIES (1u << BT_JC_BITS)

/* Data-segment classes in a block key: how a memory operand is addressed. */
enum { SEGCLASS_FLAT = 0,  /* base 0, limit 4 GiB, read/write: linear = offset */
       SEGCLASS_BASED = 1, /* limit 4 GiB, read/write, base added at run time */
       SEGCLASS_OTHER = 2  /* anything else: the access is a callout */ };

/* Block key: what a block's code depends on besides its bytes. */
#define KEY_CPL_MASK  0x3u
#define KEY_SS32      0x4u
#define KEY_SEG_SHIFT 3      /* 2 bits per segment register, SEG_* order */
/* The code mode (SDM Vol.3 2.2 and 5.2.1), bits above the segment classes:
 * neither is legacy protected mode; KEY_LMA alone is compatibility mode (a
 * 32-bit code segment under EFER.LMA), both are 64-bit mode (CS.L). */
#define KEY_LMA       (1u << 15)
#define KEY_CODE64    (1u << 16)
_Static_assert(KEY_SEG_SHIFT + 2 * SEG_COUNT <= 15, "segment classes overlap the mode bits");

static inline uint32_t key_seg_class(uint32_t key, int seg)
{
    return (key >> (KEY_SEG_SHIFT + 2 * seg)) & 3u;
}

struct BTExit;

/* A translated block.  Lives in the code cache's data area. */
typedef struct TB {
    uint32_t phys_pc;       /* physical address of the first guest byte */
    uint64_t eip;           /* its EIP (RIP in 64-bit mode) when translated */
    uint32_t cs_base;       /* CS base it was translated under */
    uint32_t key;           /* KEY_* bits it was translated under */
    uint16_t ninsns;        /* guest instructions (charged at entry) */
    uint16_t guest_bytes;   /* bytes of guest code */
    bool invalid;           /* its code was written: entry patched to leave */
    bool superblock;        /* goes on past a Jcc (scan.c) */
    uint8_t check_seen;     /* check mode: CHECK_SEEN_* */
    uint8_t *code;          /* entry point (executable address) */
    uint32_t code_size;     /* host bytes, stubs and slow paths included */
    uint8_t *exit_invalid;  /* executable address of the stub the patched entry jumps to */
    struct TB *hash_next;   /* lookup chain */
    struct TB *page_next;   /* blocks on the same physical page */
    uint32_t phys2;         /* a block whose instruction straddles a page: the second
                             * page's physical address, else BT_NO_PAGE2 (straddle.c) */
    uint64_t lin2;          /* ... and its linear address when translated */
    bool straddle;          /* phys2 is a straddling instruction's (else an inlined
                             * PC thunk's, gen_flow.c) */
    struct TB *page2_next;  /* blocks on the second page's list */
    struct BTExit *incoming;/* exits chained to this block */
} TB;

/* One way out of a block towards a known guest EIP. */
typedef struct BTExit {
    TB *tb;                 /* the block it leaves */
    uint8_t *patch;         /* writable address of the rel32 to chain, NULL if none */
    uint8_t *phys_patch;    /* cross-page exits: writable address of the expected phys page */
    uint64_t target_eip;
    bool chained;
    struct BTExit *next_in; /* next exit chained to the same target */
} BTExit;

struct BTCallInfo;
/* A C callout; returns nonzero to leave translated code (cpu->eip set). */
typedef int (*BTHelper)(CPUState *cpu, const struct BTCallInfo *ci);

/* What a callout needs to know about its instruction. */
typedef struct BTCallInfo {
    BTHelper fn;            /* first: the thunk calls [r9] */
    TB *tb;                 /* writable address of the block */
    uint64_t eip;           /* the instruction */
    uint64_t next_eip;      /* where the block continues after it */
    uint16_t index;         /* instructions of the block before it */
    uint8_t size;           /* memory access: bytes */
    uint8_t access;         /* ACC_READ or ACC_WRITE */
    uint8_t rmw;            /* ACC_WRITE that reads first */
    uint8_t mmu_idx;
    uint8_t seg;            /* memory access: its segment (a 4 GiB one), or SEG_NONE */
    uint8_t target_in_cpu;  /* exits continue at cpu->bt_target, not next_eip */
    uint8_t check_io;       /* check mode: the instruction does port I/O */
    uint8_t shadow_native;  /* STI: the instruction in its shadow is native code (gen_ops.c) */
    uint16_t form;          /* insn_form(&insn), for the callout census */
    Insn insn;              /* generic callouts: the decoded instruction */
} BTCallInfo;

/* Jump-cache entry: EIP -> block, validated against the TLB on use. */
typedef struct BTJumpEntry {
    uint64_t tag;           /* bt_jc_tag(key, EIP); ~0 = empty */
    const uint8_t *code;    /* block entry */
    uint32_t phys_page;     /* physical page the block was translated from */
    uint32_t ic_gen;        /* inline caches: CPUState.bt_ic_gen when filled (gen_ic.c) */
    uint32_t pad[2];
} BTJumpEntry;

/* Inline caches (gen_ic.c): BT_IC_WAYS jump-cache entries per indirect
 * JMP/CALL site, from a pool of BT_IC_ENTRIES reset by a flush. */
#define BT_IC_WAYS    2
#define BT_IC_ENTRIES (1u << 14)

/*
 * The tag of code at eip under key, in the jump cache and the return ring
 * (CPUState.bt_ras), which hold both widths.  Outside 64-bit mode key <<
 * 32 | EIP: bits 48-63 are zero (KEY_CODE64 is bit 16 and clear).  In
 * 64-bit mode RIP ^ key << 48: a canonical RIP has bits 48-63 all zero or
 * all one, so bits 48-63 of the tag are key's bits 0-15 (KEY_LMA, always
 * set there, lands in bit 63) or their complement; neither is zero (bit 63,
 * or key bits 0-14 all one, which no key has: no segment class 3), and the
 * low 48 bits are RIP's, so tags of distinct canonical RIPs and keys
 * differ, and none equals a 32-bit tag or ~0 (empty).  The translated
 * lookups compute it as mov r10, key << 48 ; xor r10, r14 (gen64_flow.c);
 * a non-canonical RIP never gets that far (#GP on the branch).
 */
static inline uint64_t bt_jc_tag(uint32_t key, uint64_t eip)
{
    if (key & KEY_CODE64) {
        return eip ^ (uint64_t)key << 48;
    }
    return (uint64_t)key << 32 | (uint32_t)eip;
}

typedef struct BTCheck BTCheck;

struct BT {
    CPUState *cpu;
    enum BTMode mode;
    bool chain;             /* patch direct jumps and fill the jump cache */
    bool x87_native;        /* x87 instructions as host x87 code (translator/gen_fpu.c) */
    bool sse_native;        /* MMX/SSE instructions as host code (translator/gen_sse.c) */
    bool code64;            /* translate 64-bit code (gen64.c), or interpret it */
    bool mem64_native;      /* 64-bit blocks: memory forms, PUSH and POP natively (gen64.c) */
    bool inline_cache;      /* indirect JMP/CALL sites get inline caches (gen_ic.c) */
    bool superblocks;       /* blocks go on past a Jcc's fall-through (scan.c) */

    /* The code cache: code grows up from the start, data down from the end. */
    uint8_t *rw;            /* writable mapping */
    uint8_t *rx;            /* executable mapping (== rw when W^X is unavailable) */
    size_t size;
    intptr_t rx_delta;      /* rx - rw */
    size_t code_used;       /* bytes of code from rw */
    size_t data_used;       /* bytes of data from rw + size */
    size_t stubs_size;      /* fixed stubs at the start, kept over flushes */
    int memfd;

    /* Fixed stubs (executable addresses). */
    void (*enter)(CPUState *cpu, const uint8_t *code);
    const uint8_t *epilogue;        /* stores guest registers and flags, returns */
    const uint8_t *epilogue_nostore;/* returns; CPUState is already up to date */
    const uint8_t *thunk;           /* callout: r9 = BTCallInfo */
    /* The same for 64-bit blocks (gen64.c): RAX..RDI and RSP move whole. */
    void (*enter64)(CPUState *cpu, const uint8_t *code);
    const uint8_t *epilogue64;
    const uint8_t *thunk64;
    const uint8_t *sse_save;        /* called: the guest's XMM state to CPUState (gen_sse.c) */
    const uint8_t *sse_save64;      /* the same with XMM8-15, for 64-bit blocks */
    const uint8_t *state_flush64;   /* called: the XMM and x87 states to CPUState, each
                                     * if live (64-bit blocks, gen_sse.c) */
    BTCallInfo fpu_save_ci;         /* state_flush64's bt_helper_fpu_save */
    /* called on a first-table TLB miss, r14 = linear address, r10 = its last
     * byte's page: the second table's check (gen_mem.c), per view and access;
     * returns ZF set and r11 = the addend on a hit */
    const uint8_t *tlb2[MMU_COUNT][3];

    FILE *perfmap;          /* -perfmap, or NULL */
    FILE *out_asm;          /* -d out_asm, or NULL */

    TB *hash[1u << BT_HASH_BITS];
    TB **page_tbs;          /* per RAM page: its blocks */
    uint32_t npages;
    BTJumpEntry *jc;        /* also cpu->bt_jc */
    uint32_t jc_cs_base;    /* CS base the jump cache's entries belong to */
    BTJumpEntry *ic;        /* inline-cache entries of all sites (gen_ic.c) */
    uint32_t ic_used;       /* ... handed out since the last flush */

    uint64_t icount_end;    /* icount at which this bt_exec() slice ends */
    BTStats stats;
    BTCheck *check;
    FILE *report;
};

/* ---- cache.c ---- */
bool bt_cache_init(BT *bt, size_t size);
void bt_cache_destroy(BT *bt);
/* Room for one more block; flushes the cache when full.  false: a flush
 * did not make room (cannot happen with a sane size). */
bool bt_cache_reserve(BT *bt);
/* Data area allocation (writable address). */
void *bt_data_alloc(BT *bt, size_t size);
static inline uint8_t *bt_to_rx(const BT *bt, void *rw)
{
    return (uint8_t *)rw + bt->rx_delta;
}
static inline void *bt_to_rw(const BT *bt, const void *rx)
{
    return (uint8_t *)rx - bt->rx_delta;
}
TB *bt_tb_lookup(BT *bt, uint32_t phys_pc, uint64_t eip, uint32_t cs_base, uint32_t key);
void bt_tb_insert(BT *bt, TB *tb);
void bt_tb_remove(BT *bt, TB *tb);
void bt_jc_insert(BT *bt, TB *tb);
void bt_jc_clear(BT *bt);
/* Chain the exit just taken (cpu->bt_exit) to tb where that is allowed. */
void bt_chain(BT *bt, BTExit *exit, TB *tb);

/* ---- stubs.c ---- */
bool bt_emit_stubs(BT *bt); /* false: they did not fit their 4096 bytes */

/* ---- smc.c ---- */
void bt_smc_init(BT *bt);
void bt_smc_destroy(BT *bt);
void bt_smc_register(BT *bt, TB *tb);
void bt_smc_reset(BT *bt);
void bt_invalidate_page(BT *bt, uint32_t page);
/* Code-page write listener (softmmu/phys.h); opaque is the BT. */
void bt_code_written(void *opaque, uint32_t paddr, int size);

/* ---- scan.c ---- */
typedef struct ScanInsn {
    Insn insn;
    uint64_t eip;
    const uint8_t *bytes;   /* its bytes in guest RAM */
} ScanInsn;

typedef struct BlockScan {
    ScanInsn in[BT_MAX_INSNS];
    int n;
    uint64_t eip;
    uint32_t phys_pc;
    uint64_t next_eip;      /* after the last instruction */
    uint32_t phys2;         /* a straddling instruction's second page, or an inlined
                             * PC thunk's page (scan.c), or BT_NO_PAGE2 (32-bit blocks) */
    uint64_t lin2;          /* its linear page */
    bool straddle;          /* which of the two */
    uint8_t straddle_bytes[16]; /* its bytes, from both pages */
} BlockScan;

#define BT_NO_PAGE2 0xffffffffu

/* Decode a block starting at host (guest RAM, phys_pc's page), in 64-bit
 * mode when key has KEY_CODE64. */
void bt_scan(const BT *bt, uint64_t eip, uint32_t phys_pc, const uint8_t *host, uint32_t key,
             BlockScan *out);

/* ---- straddle.c: an instruction that crosses into the next page ---- */
/* The block's first instruction crosses the page at off (phys_pc's offset):
 * fetch the next page (may fault, as the fetch of the instruction would),
 * decode it from both pages into out (n = 1).  false if that page is not
 * RAM or the bytes do not decode. */
bool bt_scan_straddle(const BT *bt, const uint8_t *host, enum DecodeMode mode, BlockScan *out);
/* A two-page block found by its first page: whether its second page is
 * now another physical page (fetching it, which may fault). */
bool bt_straddle_stale(BT *bt, const TB *tb);
/* Drop one block as a write to its code would (smc.c). */
void bt_tb_invalidate(BT *bt, TB *tb);

/* ---- gen.c ---- */
/* Translate the block at cpu's CS:EIP (phys_pc, host) under key; NULL if it
 * cannot be translated (the caller interprets one instruction). */
TB *bt_translate(BT *bt, uint64_t eip, uint32_t phys_pc, const uint8_t *host, uint32_t key);

/* ---- helpers.c, helpers_string.c, helpers64.c ---- */
/* Make CPUState exact before ci's instruction (flags, EIP, instruction count). */
void bt_helper_enter(CPUState *cpu, const BTCallInfo *ci);
/* Park the flags again; leave translated code (continuing at next) when
 * leave is set or the block was invalidated or an exit was requested. */
int bt_helper_leave(CPUState *cpu, const BTCallInfo *ci, uint64_t next, bool leave);
int bt_helper_interp(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_popf_leave(CPUState *cpu, const BTCallInfo *ci);
void bt_fault_in_shadow(CPUState *cpu); /* a fault's way back to the run loop (helpers.c) */
void bt_count_callout(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_rep_string(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_mem_prep(CPUState *cpu, const BTCallInfo *ci);
/* A slow path's limit check (gen_mem.c): #GP/#SS when the access at
 * cpu->bt_lin runs past its 4 GiB segment's last offset. */
void bt_helper_limit_check(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_mem_commit(CPUState *cpu, const BTCallInfo *ci);

/* ---- gen_sys.c, helpers_sys.c: light helpers for system instructions ---- */
/* MOV Sreg or POP Sreg into ES, DS, FS or GS: a light helper that does not
 * end its block (scan.c). */
bool bt_seg_load_light(const Insn *insn);
/* Those and MOV r32, CRn: ENDBLOCK instructions a block goes on after. */
bool bt_sys_stays_in_block(const Insn *insn);
/* The same for 64-bit blocks under key: SWAPGS and WRMSR at CPL 0, MOV
 * r64, CRn, and the loads of bt_seg_load_light. */
bool bt_sys_stays_in_block64(const Insn *insn, uint32_t key);
int bt_helper_seg_load(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_rdtsc(CPUState *cpu, const BTCallInfo *ci);
/* An instruction that changes nothing its block depends on: VERW, and in
 * 64-bit blocks RDMSR, CR8 reads and the loads of ES, DS, FS and GS. */
int bt_helper_sys_stay(CPUState *cpu, const BTCallInfo *ci);
/* WRMSR at CPL 0 in a 64-bit block: goes on after the FS, GS and kernel
 * GS bases, leaves after any other MSR. */
int bt_helper_wrmsr64(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_sys_door(CPUState *cpu, const BTCallInfo *ci);
/* CMPXCHG8B's slow path: 8 bytes probed for write, read and written back
 * as two dwords (helpers_memforms.c). */
int bt_helper_qword_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_qword_commit(CPUState *cpu, const BTCallInfo *ci);
/* 64-bit blocks' memory operands (helpers64.c): the address from the
 * instruction and the guest registers, canonical checks included. */
int bt_helper_mem64_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_mem64_commit(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_push64_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_push64_commit(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_pop64_prep(CPUState *cpu, const BTCallInfo *ci);
/* The bit strings of BT* m, r and POP m's destination (helpers64.c). */
int bt_helper_bitstr64_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_bitstr64_commit(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_popm64_prep(CPUState *cpu, const BTCallInfo *ci);
/* Flags: the parked image <-> EFLAGS arithmetic bits. */
static inline uint32_t bt_flags_from_image(uint64_t image)
{
    uint32_t f = (uint32_t)(image >> 8) & (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF);
    if (image & 1) {
        f |= EFLAGS_OF;
    }
    return f;
}
static inline uint64_t bt_flags_to_image(uint32_t eflags)
{
    uint64_t ah = (eflags & (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF)) | 2u;
    return ah << 8 | ((eflags & EFLAGS_OF) ? 1u : 0u);
}
/* Copy the parked flags into cpu->eflags (cc_op becomes CC_OP_EFLAGS). */
static inline void bt_flags_in(CPUState *cpu)
{
    cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | bt_flags_from_image(cpu->bt_flags);
    cpu->cc_op = CC_OP_EFLAGS;
}
/* Park cpu's flags for translated code. */
static inline void bt_flags_out(CPUState *cpu)
{
    cpu->bt_flags = bt_flags_to_image(cpu_get_eflags(cpu));
}

/* The budget left, without the kick of an exit request (cpu/state.h). */
static inline int64_t bt_budget_left(const CPUState *cpu)
{
    return cpu->bt_budget + (cpu->bt_exit_request ? BT_BUDGET_KICK : 0);
}

/* ---- gen_fpu.c, fpu_state.c: x87 in translated code ---- */
/* Whether gen_fpu.c emits insn (an x87 escape) as host x87 code. */
bool bt_fpu_native_insn(const Insn *insn);
/* Whether the guest's x87 state may run in the host FPU: CR0.EM and TS
 * clear, all six exceptions masked, none pending (ES clear). */
bool bt_fpu_native_ok(const CPUState *cpu);
/* CPUState.fpu <-> the FNSAVE/FRSTOR image in CPUState.bt_fpu_img. */
void bt_fpu_to_image(CPUState *cpu);
void bt_fpu_from_image(CPUState *cpu);
/* After translated code returns: if it left the guest's x87 state live in
 * the host FPU (CPUState.bt_fpu_live), save it to CPUState and empty the
 * host FPU.  Must run before any other C code that may use the x87. */
void bt_fpu_sync(CPUState *cpu);
int bt_helper_fpu_enter(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_fpu_save(CPUState *cpu, const BTCallInfo *ci);
/* The instruction in the interpreter (the x87 state saved), then leave. */
int bt_helper_fpu_interp_leave(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_fpu_mem_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_fpu_mem_commit(CPUState *cpu, const BTCallInfo *ci);
/* The same for a 64-bit block: the address from the instruction (fpu_state.c). */
int bt_helper_fpu64_prep(CPUState *cpu, const BTCallInfo *ci);
int bt_helper_fpu64_commit(CPUState *cpu, const BTCallInfo *ci);

/* ---- gen_sse.c, sse_state.c: MMX and SSE in translated code ---- */
/* The flush sequence: the host's xmm0-7 (wide: xmm0-15, XMM8-15 into
 * CPUState.xmm_hi) and MXCSR into CPUState.fpu, the host's MXCSR back,
 * bt_sse_live cleared (the epilogue stubs use it). */
void emit_sse_save(Emit *e, bool wide);
/* Whether the guest's XMM state may run in the host: CR0.EM and TS clear,
 * CR4.OSFXSR set, all six MXCSR exceptions masked. */
bool bt_sse_native_ok(const CPUState *cpu);
int bt_helper_sse_enter(CPUState *cpu, const BTCallInfo *ci);

/* ---- run.c ---- */
/* The linear address of CS:EIP, and the CS base blocks are keyed by: in
 * 64-bit mode CS's base is ignored (0) and RIP is the linear address (SDM
 * Vol.3 3.4.4); elsewhere base + EIP wraps at 4 GiB. */
static inline uint64_t bt_code_lin(const CPUState *cpu, uint32_t *cs_base)
{
    if (cpu->hflags & HF_CS64) {
        *cs_base = 0;
        return cpu->eip;
    }
    *cs_base = (uint32_t)cpu->seg[SEG_CS].base;
    return (uint32_t)(*cs_base + cpu->eip);
}
uint32_t bt_block_key(const CPUState *cpu);
/* One data segment's SEGCLASS_* in the block key. */
uint32_t bt_seg_class(const SegmentCache *s);
/* Whether translated code may run now; *transient: not for this one instruction. */
bool bt_mode_ok(const CPUState *cpu, bool *transient);
/* Something cpu_exec() would act on before the next instruction. */
bool bt_events_pending(const CPUState *cpu);
/* The block at CS:EIP, translated if need be (may fault on the fetch). */
TB *bt_find(BT *bt);
/* Run translated code from tb until it leaves. */
void bt_run_tb(BT *bt, TB *tb);

/* ---- check.c ---- */
#define CHECK_SEEN_RUN 1u /* has run under check */
#define CHECK_SEEN_IO  2u /* touched a device when it ran */
BTCheck *bt_check_new(BT *bt);
void bt_check_free(BTCheck *c);
int bt_check_exec(BT *bt, uint64_t max_insns);
/* RAM may have changed behind the hooks (a loader after reset): copy it all. */
void bt_check_resync(BTCheck *c);
/* Check mode: helpers report port I/O and MMIO so the block is not replayed. */
void bt_check_note_io(BT *bt);

/* Disassembly (translator/disas.c): 32-bit guest code, or 64-bit (guest or host) code. */
void bt_disassemble(FILE *f, bool code64, const uint8_t *code, size_t len, uint64_t addr);
/* -d out_asm: a new block's guest code (its bytes at guest) and host code. */
void bt_dump_block(BT *bt, const TB *tb, const uint8_t *guest);

#endif /* TRANSLATOR_BT_INTERNAL_H */
