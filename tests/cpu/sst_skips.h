/*
 * Where an 80286 and a P6 legitimately differ, and what the runner does
 * about it: skip the test, or mask the part that differs.  Every rule has an
 * id and a reason that the runner prints with the opcode and the number of
 * tests it touched, so nothing is left out silently.
 *
 * The instruction is inspected here with the runner's own small scan of the
 * 286 prefix set and ModRM, not with popek's decoder, so a decoder bug cannot
 * hide a test.
 */
#ifndef TESTS_CPU_SST_SKIPS_H
#define TESTS_CPU_SST_SKIPS_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/cpu/moo.h"

/* What the runner needs to know about a test's instruction. */
typedef struct SstInsn {
    int nprefix;      /* leading 26/2E/36/3E/F0/F2/F3 bytes */
    bool lock;        /* F0 among them */
    bool rep;         /* F2 or F3 among them */
    uint8_t opcode;   /* first byte after the prefixes */
    bool has_modrm;   /* opcode takes ModRM and the test holds it */
    uint8_t modrm;
    int len;          /* instruction length: BYTS minus the terminating HLT */
    bool has_imm8;    /* C0/C1: the shift-count immediate was found */
    uint8_t imm8;
} SstInsn;

void sst_insn_scan(const MooTest *t, SstInsn *out);

/* ModRM.reg, the /digit that selects a group form. */
static inline int sst_insn_reg(const SstInsn *insn)
{
    return (insn->modrm >> 3) & 7;
}

/* A string instruction (MOVS CMPS STOS LODS SCAS INS OUTS). */
bool sst_insn_is_string(const SstInsn *insn);

/* A REP-prefixed string instruction (which may take several steps). */
bool sst_insn_is_rep_string(const SstInsn *insn);

/* Registers (bit n = enum MooReg n) not compared for this test, with the
 * rule responsible in *rule (-1 when none): the 286 steps the string
 * registers before it faults on a word at offset 0xFFFF. */
uint16_t sst_ignored_registers(const SstInsn *insn, const MooTest *t, int *rule);

enum SstRuleId {
    /* skips */
    SST_SKIP_REVOKED,
    SST_SKIP_OPCODE_386,
    SST_SKIP_TOO_LONG,
    SST_SKIP_LOCK_UD,
    SST_SKIP_SREG_FSGS,
    /* per-test masks */
    SST_MASK_SHIFT_OF,
    SST_MASK_SHIFT_CF,
    SST_MASK_SS_FAULT,
    SST_MASK_STRING_FAULT,
    SST_RULE_COUNT
};

typedef struct SstRule {
    const char *id;       /* short name, shown in reports */
    bool skip;            /* true: the test is not run; false: part of it is masked */
    const char *reason;   /* the 286-vs-P6 difference, with its source */
} SstRule;

extern const SstRule sst_rules[SST_RULE_COUNT];

/* Masks that apply to every test (printed once in the report). */
extern const char *const sst_global_masks[];

/* The skip rule that applies to this instruction, or -1 to run it.  (The
 * revocation list is checked by the caller, which holds it.) */
int sst_skip_rule(const SstInsn *insn);

/*
 * FLAGS bits that the P6 leaves undefined for this test (returned as a mask
 * of bits to ignore), from the SDM's per-instruction flag rules; the 286
 * metadata may already mask some of them.  rules[] receives the ids of the
 * rules that contributed (at most two), *nrules their number.  init: the
 * test's initial registers (CL holds a shift count).
 */
uint16_t sst_p6_undefined_flags(const SstInsn *insn, const MooRegs *init, int rules[2],
                                int *nrules);

#endif /* TESTS_CPU_SST_SKIPS_H */
