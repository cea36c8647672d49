/*
 * The oracle's test generator: random but deterministic (from a seed)
 * sequences of unprivileged 32-bit instructions, each with the initial
 * registers, EFLAGS and data window it starts from, and with a per-
 * instruction record of which flags are architecturally undefined at that
 * point, so the comparison can mask them.
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
    OC_MIX,    /* everything above interleaved (lazy-flag interplay) */
    OC_COUNT
};

#define ORACLE_MAX_INSNS 128
#define ORACLE_MAX_CODE  3072

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
    int cls;                 /* enum OracleClass */
    OracleRegs init;         /* init.eip = ORACLE_CODE_BASE */
    bool es_win, fs_win;     /* ES / FS hold the window segment */
    uint8_t code[ORACLE_MAX_CODE];
    uint32_t code_len;
    /* insn[n_insn] is the end marker (HLT); its poison is the final one. */
    OracleInsn insn[ORACLE_MAX_INSNS + 1];
    int n_insn;
    uint8_t data[ORACLE_DATA_SIZE]; /* initial data window */
} OracleTest;

const char *oracle_class_name(int cls);
/* Fill t with test number index of the run seeded by seed; cls < 0 picks
 * the class from the seed too. */
void oracle_generate(OracleTest *t, uint64_t seed, uint32_t index, int cls);
/* Cut t after its first n instructions (n <= n_insn): the end marker moves
 * to instruction n.  Used to find the first instruction that diverges. */
void oracle_truncate(OracleTest *t, int n);
/* Linear address of the end-marker HLT. */
uint32_t oracle_end_eip(const OracleTest *t);
/* Index of the instruction starting at linear address eip, or -1. */
int oracle_insn_at(const OracleTest *t, uint32_t eip);

#endif /* TESTS_CPU_ORACLE_ORACLE_GEN_H */
