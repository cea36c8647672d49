/*
 * The oracle's test generator: random but deterministic (from a seed)
 * sequences of unprivileged 32-bit instructions, each with the initial
 * registers, EFLAGS and data window it starts from, and with a per-
 * instruction record of which flags are architecturally undefined at that
 * point, so the comparison can mask them.
 *
 * A test is generated for one of two native runners.  For the i386 one it
 * may use the whole 32-bit instruction set.  For the x86-64 one (mode64)
 * it draws only from instructions whose results are the same in 64-bit
 * mode, and every instruction that addresses memory carries one DS
 * override (3Eh) as an address-size slot: the interpreter runs the code as
 * generated (DS is flat there, so the override changes nothing), and the
 * 64-bit runner gets a copy with 67h in each slot, which makes it address
 * in 32 bits.  Both sides thus run code of the same length at the same
 * addresses.  README.md, "The 64-bit native runner", has the details.
 */
#ifndef TESTS_CPU_ORACLE_ORACLE_GEN_H
#define TESTS_CPU_ORACLE_ORACLE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/cpu/oracle/oracle_abi.h"

/* Instruction classes: a test draws its instructions from one of them
 * (OC_MIX: from all), and pass/fail counts are kept per class. */
enum OracleClass {
    OC_ALU,    /* ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC NEG NOT */
    OC_SHIFT,  /* ROL ROR RCL RCR SHL SHR SAR by 1, imm8, CL */
    OC_SHXD,   /* SHLD SHRD */
    OC_MULDIV, /* MUL IMUL (all forms) DIV IDIV */
    OC_BCD,    /* DAA DAS AAA AAS AAM AAD */
    OC_BIT,    /* BT BTS BTR BTC BSF BSR */
    OC_COND,   /* SETcc CMOVcc LAHF SAHF CMC CLC STC CLD STD */
    OC_MISC,   /* BSWAP XADD CMPXCHG CMPXCHG8B MOVZX MOVSX LEA XCHG MOV CBW CWD ... */
    OC_STRING, /* MOVS STOS LODS CMPS SCAS with REP/REPE/REPNE */
    OC_STACK,  /* PUSH POP PUSHA POPA PUSHF POPF ENTER LEAVE CALL RET */
    OC_BRANCH, /* Jcc JMP JECXZ LOOPcc, forward only */
    OC_X87,    /* x87 loads, stores, arithmetic, compares, control */
    OC_FAULT,  /* instructions that must fault at CPL 3, and the #DE/#UD/#BP/#OF/#BR cases */
    OC_SIMD,   /* MMX, SSE, SSE2, SSE3, SSSE3 (gen_simd.c) */
    OC_MIX,    /* everything above interleaved (lazy-flag interplay) */
    OC_COUNT
};

#define ORACLE_MAX_INSNS 128
#define ORACLE_MAX_CODE  3072

/* The address-size slot of a mode64 test, and what the 64-bit runner's copy has there. */
#define ORACLE_SLOT_PREFIX   0x3e /* DS override */
#define ORACLE_SLOT_NATIVE64 0x67 /* address-size override */

/* One instruction of a sequence. */
typedef struct OracleInsn {
    uint16_t offset;       /* from ORACLE_CODE_BASE */
    uint8_t len;
    uint8_t setup;         /* put there by the generator to place operands */
    uint8_t cls;           /* enum OracleClass of the instruction */
    uint32_t poison_flags; /* EFLAGS bits undefined when this instruction starts */
    uint16_t poison_fsw;   /* x87 C0-C3 bits undefined when it starts */
} OracleInsn;

typedef struct OracleTest {
    uint64_t seed;
    uint32_t index;
    int cls;             /* enum OracleClass */
    bool mode64;         /* generated for the 64-bit native runner */
    bool lm64;           /* a long-mode test (64-bit code, --long): init64 holds the registers */
    uint64_t init64[16]; /* RAX..R15 of a long-mode test (init.gpr: their low halves) */
    uint8_t xmm_hi[8][16]; /* XMM8-XMM15 of a long-mode test */
    OracleRegs init;     /* init.eip = ORACLE_CODE_BASE */
    OracleSimd simd;     /* initial XMM registers and MXCSR */
    bool es_win, fs_win; /* ES / FS hold the window segment (never in mode64) */
    uint8_t code[ORACLE_MAX_CODE];
    uint32_t code_len;
    /* Offsets of the address-size slots in code (mode64 only), ascending;
     * at most one per instruction. */
    uint16_t slot[ORACLE_MAX_INSNS];
    int n_slot;
    /* insn[n_insn] is the end marker (HLT); its poison is the final one. */
    OracleInsn insn[ORACLE_MAX_INSNS + 1];
    int n_insn;
    uint8_t data[ORACLE_DATA_SIZE]; /* initial data window */
} OracleTest;

/* Fill t with long-mode test number index of the run seeded by seed
 * (gen_lm64.c): 64-bit code for the 64-bit runner, compared on all
 * sixteen 64-bit registers. */
void oracle_generate_lm64(OracleTest *t, uint64_t seed, uint32_t index);

const char *oracle_class_name(int cls);
/* Whether tests of class cls can be generated for the 64-bit runner. */
bool oracle_class_in_mode64(int cls);
/* Fill t with test number index of the run seeded by seed, for the 64-bit
 * runner if mode64; cls < 0 picks the class from the seed too. */
void oracle_generate(OracleTest *t, uint64_t seed, uint32_t index, int cls, bool mode64);
/* Cut t after its first n instructions (n <= n_insn): the end marker moves
 * to instruction n, and the slots past it go.  Used to find the first
 * instruction that diverges. */
void oracle_truncate(OracleTest *t, int n);
/* Linear address of the end-marker HLT. */
uint32_t oracle_end_eip(const OracleTest *t);
/* Index of the instruction starting at linear address eip, or -1. */
int oracle_insn_at(const OracleTest *t, uint32_t eip);

#endif /* TESTS_CPU_ORACLE_ORACLE_GEN_H */
