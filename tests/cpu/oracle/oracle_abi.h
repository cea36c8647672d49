/*
 * What the oracle's two processes share: the fixed guest addresses and the
 * layout of the mailbox through which popek-oracle (x86-64) drives the
 * 32-bit native runner.  This header is compiled for both -m64 and -m32,
 * so it uses fixed-width types only and no pointers.
 *
 * The code and data windows sit at the same linear addresses in the native
 * process and in the interpreter's flat 32-bit guest, so address arithmetic,
 * pushed return addresses and stored pointers agree byte for byte.  Both lie
 * above 1 MiB, below 64 MiB, and far below where a static i386 executable
 * is linked (0x08048000).
 */
#ifndef TESTS_CPU_ORACLE_ORACLE_ABI_H
#define TESTS_CPU_ORACLE_ORACLE_ABI_H

#include <stdint.h>

#define ORACLE_CODE_BASE 0x00400000u /* instruction sequences (read+execute) */
#define ORACLE_CODE_SIZE 0x00010000u
#define ORACLE_DATA_BASE 0x00500000u /* the data window every access lands in */
#define ORACLE_DATA_SIZE 0x00010000u

/*
 * Window layout (offsets from ORACLE_DATA_BASE).  The generator keeps each
 * kind of access in its own region so that, for example, integer stores
 * never overwrite the x87 operands later loads depend on.
 */
#define ORACLE_INT_LO    0x0000u /* integer and string operands */
#define ORACLE_INT_HI    0x8000u
#define ORACLE_STACK_LO  0x8000u /* ESP lives here */
#define ORACLE_STACK_HI  0xc000u
#define ORACLE_FPCONST   0xc000u /* x87 source operands (read only by convention) */
#define ORACLE_FPSTORE   0xd000u /* x87 stores */
#define ORACLE_FPSTORE_HI 0xe000u
#define ORACLE_SIMDCONST 0xe000u /* MMX/SSE source operands (read only by convention) */
#define ORACLE_SIMDSTORE 0xf000u /* MMX/SSE stores, up to the window's end */

/* The LDT data segment both sides can put in ES and FS: base = the data
 * window, byte-granular limit 0xffff, so 16-bit addressing reaches it. */
#define ORACLE_WIN_SEL 0x0007u /* LDT entry 0, RPL 3 */

/* Register block, in ModRM encoding order. */
typedef struct OracleRegs {
    uint32_t gpr[8]; /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;
} OracleRegs;

/* The x87 state as FNSAVE lays it out, registers in stack order. */
typedef struct OracleFpu {
    uint16_t fcw;
    uint16_t fsw;      /* with TOP in bits 11..13 */
    uint16_t ftw;      /* full tag word, 2 bits per physical register */
    uint16_t pad;
    uint8_t st[8][10]; /* ST(0)..ST(7), 80-bit extended */
} OracleFpu;

/* The SSE state: XMM0-7 and MXCSR (MMX registers are the x87 ones). */
typedef struct OracleSimd {
    uint8_t xmm[8][16];
    uint32_t mxcsr;
    uint32_t pad[3];
} OracleSimd;

/* What a run ends with: the state at the end marker or at the fault. */
typedef struct OracleResult {
    OracleRegs regs;
    int32_t vector;      /* exception vector (13 at the end-marker HLT), -1: none */
    uint32_t error_code; /* as pushed (or as the kernel reports it) */
    OracleFpu fpu;
    OracleSimd simd;
    uint32_t ok;         /* the runner produced a result */
    /* Long-mode tests: RAX..R15 and RIP, low and high halves (32-bit
     * words, so the layout is the same for -m32 and -m64). */
    uint32_t r64[17][2];
    uint8_t xmm_hi[8][16]; /* long-mode tests: XMM8-XMM15 */
} OracleResult;

/* Shared page between popek-oracle and the native runner. */
typedef struct OracleMailbox {
    OracleRegs init;  /* initial registers; init.eip is the entry point */
    OracleSimd simd;  /* initial XMM registers and MXCSR */
    uint32_t es_win;  /* load ES with ORACLE_WIN_SEL (else the flat data selector) */
    uint32_t fs_win;  /* load FS with ORACLE_WIN_SEL (else null) */
    OracleResult result;
    uint32_t lm64;          /* a long-mode test: load all of init64 (64-bit runner) */
    uint32_t init64[16][2]; /* RAX..R15, low and high halves */
    uint8_t init_xmm_hi[8][16]; /* XMM8-XMM15 */
} OracleMailbox;

/* Commands on the runner's command pipe; it answers each 'r' with one byte. */
#define ORACLE_CMD_RUN  'r'
#define ORACLE_CMD_QUIT 'q'
#define ORACLE_REPLY_OK 'k'

#endif /* TESTS_CPU_ORACLE_ORACLE_ABI_H */
