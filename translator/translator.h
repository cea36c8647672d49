/*
 * The binary translator: guest basic blocks of 32-bit protected-mode code
 * become x86-64 host code that runs on the guest registers pinned in host
 * registers (translator/README.md describes the design).
 *
 * bt_exec() is a drop-in for cpu_exec(): it runs translated blocks where it
 * can and hands everything else (real mode, vm86, 16-bit code segments,
 * single-stepping, instructions it cannot place in a block) to the
 * interpreter, with the same exit reasons and exact instruction counting.
 */
#ifndef TRANSLATOR_TRANSLATOR_H
#define TRANSLATOR_TRANSLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/decode.h"
#include "cpu/state.h"

typedef struct BT BT;

enum BTMode {
    BT_MODE_RUN,   /* translate and run */
    BT_MODE_CHECK, /* run each block on both engines and compare (translator/check.c) */
};

/* bt_exec() result beyond enum CPUExitReason: the lockstep check found a
 * difference (the report went to the BT's report stream). */
#define BT_EXIT_CHECK_MISMATCH 100

#define BT_DEFAULT_CACHE_MIB 32u /* -tb-size default */

/* Why the run loop handed instructions to the interpreter. */
enum {
    BT_WHY_REAL,      /* real mode */
    BT_WHY_VM86,      /* vm86 mode */
    BT_WHY_CODE16,    /* 16-bit code segment, or a CS limit below 4 GiB */
    BT_WHY_CODE64,    /* 64-bit mode (EFER.LMA and CS.L) with bt_set_code64() off */
    BT_WHY_DEBUG,     /* TF, DR7 breakpoints, an observer, alignment checks */
    BT_WHY_TRANSIENT, /* an interrupt shadow, RF, a pending debug trap */
    BT_WHY_NOBLOCK,   /* code outside RAM, or an instruction crossing a page */
    BT_WHY_TAIL,      /* the end of a slice, shorter than the next block */
    BT_WHY_EVENT,     /* delivering an interrupt or exception */
    BT_WHY_COUNT
};

typedef struct BTStats {
    uint64_t blocks_translated;
    uint64_t compat_blocks;    /* of which in compatibility mode (32-bit code under EFER.LMA) */
    uint64_t guest_bytes;      /* guest code bytes translated */
    uint64_t host_bytes;       /* host code bytes emitted (stubs included) */
    uint64_t flushes;          /* whole-cache flushes (full cache) */
    uint64_t invalidations;    /* blocks dropped by writes to their code */
    uint64_t chains;           /* direct jumps patched */
    uint64_t entries;          /* entries into translated code from bt_exec */
    uint64_t interp_insns;     /* instructions run by the interpreter instead */
    uint64_t checked_blocks;   /* check mode: blocks compared */
    uint64_t unchecked_blocks; /* check mode: blocks with I/O, run once */
    uint64_t tainted_spans;    /* check mode: spans that differed only in bits derived
                                * from undefined results (docs/undefined.md) */
    uint64_t cache_size;       /* code cache bytes (-tb-size) */
    uint64_t cache_used;       /* of which in use now: code and block data */
    uint64_t callout_insns;    /* instructions run as callouts from translated code */
    uint64_t helper_insns;     /* ... and as light helpers (segment loads, RDTSC, VERW,
                                * SYSENTER, SYSEXIT: translator/gen_sys.c) */
    uint64_t jc_lookups;       /* indirect jumps, calls and returns through the jump cache */
    uint64_t jc_misses;        /* ... that missed it and went back to the run loop */
    uint64_t mem_slow;         /* ModRM memory operands that took the slow path (a TLB
                                * miss, MMIO, a code page, a page crossing) */
    uint64_t ret_total;        /* translated RETs ... */
    uint64_t ret_miss;         /* ... whose return prediction failed (then the jump cache) */
    /* Why the interpreter ran instead (instructions, BT_WHY_*). */
    uint64_t interp_why[BT_WHY_COUNT];
    /* The callout census: instructions per form (cpu/decode.h insn_form())
     * that ran as callouts, and that the interpreter ran. */
    uint64_t census_callout[INSN_FORMS];
    uint64_t census_interp[INSN_FORMS];
    uint64_t x87_loads;     /* guest x87 state loaded into the host FPU (translator/fpu_state.c) */
    uint64_t x87_saves;     /* ... and saved back to CPUState */
    uint64_t x87_fallbacks; /* native x87 refused (CR0.EM/TS, unmasked exceptions): interpreted */
    uint64_t sse_loads;     /* guest XMM state loaded into the host (translator/gen_sse.c) */
    uint64_t sse_fallbacks; /* native SSE refused (CR0.EM/TS, CR4.OSFXSR, unmasked MXCSR) */
} BTStats;

extern const char *const bt_why_names[BT_WHY_COUNT];

/*
 * Attach a translator to cpu with a code cache of cache_bytes.  Returns NULL
 * after printing one line to stderr when the host cannot run it (no
 * LAHF/SAHF in 64-bit mode, or no executable memory).
 */
BT *bt_new(CPUState *cpu, size_t cache_bytes, enum BTMode mode);
/* The translator running cpu, or NULL (CPUState.accel, which cpu/ keeps opaque). */
static inline BT *bt_of(const CPUState *cpu)
{
    return cpu->accel;
}
void bt_free(BT *bt);

/* Run up to max_insns guest instructions (see cpu_exec()). */
int bt_exec(BT *bt, uint64_t max_insns);

/* Drop every translated block (the next execution translates again). */
void bt_flush(BT *bt);

const BTStats *bt_stats(BT *bt);

/* Name every block translated from now on in /tmp/perf-PID.map, the file
 * perf reads for code without symbols ("<guest EIP> <phys>" per block).
 * False after printing one line to stderr when it cannot be created. */
bool bt_open_perfmap(BT *bt);
/* -d out_asm: each block's guest and host code, to f as it is translated
 * (NULL: off). */
void bt_set_out_asm(BT *bt, FILE *f);

/* Run x87 instructions as host x87 instructions inside translated code
 * (default), or call every one of them out to the interpreter.  Flushes
 * the translated blocks. */
void bt_set_x87_native(BT *bt, bool on);

/* Run MMX and SSE instructions as host instructions inside translated code
 * (default), or call every one of them out to the interpreter.  Flushes
 * the translated blocks. */
void bt_set_sse_native(BT *bt, bool on);

/* Translate 64-bit code (default), or hand it to the interpreter (the
 * baseline translator/README.md measures against).  Flushes the blocks. */
void bt_set_code64(BT *bt, bool on);

/* In 64-bit blocks, run MOV/ALU/TEST with memory operands, PUSH and POP
 * natively (default), or as callouts.  Flushes the blocks. */
void bt_set_mem64_native(BT *bt, bool on);

/* Where check mode writes its mismatch report (default stderr). */
void bt_set_report(BT *bt, FILE *out);

#endif /* TRANSLATOR_TRANSLATOR_H */
