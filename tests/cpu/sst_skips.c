/*
 * The 286-vs-P6 skip and mask rules (see sst_skips.h).  Sources: the
 * fixture README (sst-80286-real/README.md), the Intel SDM Vol.2
 * instruction pages for the P6 side, and the recorded tests themselves
 * (e.g. the 286 faults an 11-byte instruction with #GP where a P6 runs it).
 */
#include "tests/cpu/sst_skips.h"

#include <stddef.h>

/* The 286's segment-overrun exception in real mode (#GP). */
#define VECTOR_GP 13

const SstRule sst_rules[SST_RULE_COUNT] = {
    [SST_SKIP_REVOKED] = {
        "revoked", true,
        "listed in revocation_list.txt: the recording is known to be wrong"},
    [SST_SKIP_OPCODE_386] = {
        "386-opcode", true,
        "0F xx and 64/65/66/67 are defined on the 386+ (MOV/far forms, FS/GS, operand and "
        "address size) but are #UD or 286-only system forms on the 286"},
    [SST_SKIP_TOO_LONG] = {
        "length>10", true,
        "instruction longer than 10 bytes: the 286 raises #GP(13), the P6 runs up to 15 "
        "bytes (SDM Vol.2 2.3.11)"},
    [SST_SKIP_LOCK_UD] = {
        "lock-#UD", true,
        "LOCK on a form that is not a memory read-modify-write: the 286 ignores the prefix, "
        "the P6 raises #UD (SDM Vol.2 LOCK)"},
    [SST_SKIP_SREG_FSGS] = {
        "mov-fs/gs", true,
        "8C/8E with ModRM.reg 4 or 5: #UD on the 286, MOV from/to FS/GS on the 386+"},
    [SST_MASK_SHIFT_OF] = {
        "shift-OF", false,
        "OF after a shift/rotate by a count other than 1 is undefined on the P6 (SDM Vol.2 "
        "RCL/RCR/ROL/ROR, SAL/SAR/SHL/SHR): OF not compared"},
    [SST_MASK_SHIFT_CF] = {
        "shift-CF", false,
        "CF after SHL/SHR by a count >= the operand width is undefined on the P6 (SDM Vol.2 "
        "SAL/SAR/SHL/SHR): CF not compared"},
    [SST_MASK_STRING_FAULT] = {
        "string-#GP", false,
        "a string instruction that faults on a word at offset 0xFFFF: the 286 has already "
        "stepped SI/DI (and CX under REP) when it raises #GP(13), the P6 faults before "
        "changing them (SDM Vol.3 6.5, faults are restartable): SI, DI, CX not compared"},
    [SST_MASK_SS_FAULT] = {
        "#SS-for-#GP", false,
        "a stack-segment limit fault is #GP(13) on the 286 and #SS(12) on the P6 (SDM Vol.2 "
        "real-address-mode exceptions): IVT[12] is made a copy of IVT[13] so both reach the "
        "same handler"},
};

const char *const sst_global_masks[] = {
    "FLAGS bits 12-15 (IOPL, NT, bit 15): the 286 cannot set them in real mode, the P6 can "
    "(POPF, IRET); cleared in the initial state and not compared (fixture README)",
    "undefined flags per v1_real_mode/metadata.json \"flags-mask\", also applied to the FLAGS "
    "word an exception pushed (EXCP flag address)",
    "final IP: the recording stops after the terminating HLT, so IP is compared one less "
    "(except for the HLT test itself, F4); the HLT is not executed",
    NULL,
};

/* The prefixes the test generator uses (fixture README: segment overrides,
 * LOCK, REP/REPNE). */
static bool is_286_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0xf0 || b == 0xf2 ||
           b == 0xf3;
}

/* One-byte opcodes that take a ModRM byte on the 286 (Intel 80286 PRM
 * opcode map). */
static bool takes_modrm(uint8_t op)
{
    if (op < 0x40) {
        return (op & 7) < 4; /* ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev */
    }
    switch (op) {
    case 0x62: case 0x63: case 0x69: case 0x6b:
    case 0xc0: case 0xc1: case 0xc4: case 0xc5: case 0xc6: case 0xc7:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
    case 0xf6: case 0xf7: case 0xfe: case 0xff:
        return true;
    default:
        return (op >= 0x80 && op <= 0x8f) || (op >= 0xd8 && op <= 0xdf);
    }
}

/* Displacement bytes after a 16-bit-addressing ModRM. */
static int modrm_disp_len(uint8_t modrm)
{
    int mod = modrm >> 6, rm = modrm & 7;
    if (mod == 1) {
        return 1;
    }
    if (mod == 2 || (mod == 0 && rm == 6)) {
        return 2;
    }
    return 0;
}

void sst_insn_scan(const MooTest *t, SstInsn *out)
{
    const uint8_t *b = t->bytes;
    int n = (int)t->nbytes;
    *out = (SstInsn){0};
    out->len = n > 0 ? n - 1 : 0;
    int i = 0;
    while (i < n && is_286_prefix(b[i])) {
        out->lock |= b[i] == 0xf0;
        out->rep |= b[i] == 0xf2 || b[i] == 0xf3;
        i++;
    }
    out->nprefix = i;
    if (i >= n) {
        return;
    }
    out->opcode = b[i];
    if (takes_modrm(out->opcode) && i + 1 < n) {
        out->has_modrm = true;
        out->modrm = b[i + 1];
        int imm = i + 2 + modrm_disp_len(out->modrm);
        if ((out->opcode == 0xc0 || out->opcode == 0xc1) && imm < n) {
            out->has_imm8 = true;
            out->imm8 = b[imm];
        }
    }
}

bool sst_insn_is_string(const SstInsn *insn)
{
    uint8_t op = insn->opcode;
    return (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) ||
           (op >= 0xaa && op <= 0xaf);
}

bool sst_insn_is_rep_string(const SstInsn *insn)
{
    return insn->rep && sst_insn_is_string(insn);
}

uint16_t sst_ignored_registers(const SstInsn *insn, const MooTest *t, int *rule)
{
    *rule = -1;
    if (sst_insn_is_string(insn) && t->has_exception && t->exception == VECTOR_GP) {
        *rule = SST_MASK_STRING_FAULT;
        return (1u << MOO_SI) | (1u << MOO_DI) | (1u << MOO_CX);
    }
    return 0;
}

/* LOCK is legal on the P6 only before these forms with a memory
 * destination (SDM Vol.2 LOCK; of them the 286 set has no BT*, XADD or
 * CMPXCHG). */
static bool p6_lockable(const SstInsn *insn)
{
    if (!insn->has_modrm || (insn->modrm >> 6) == 3) {
        return false;
    }
    uint8_t op = insn->opcode;
    int reg = sst_insn_reg(insn);
    if (op < 0x40) {
        /* ADD OR ADC SBB AND SUB XOR Eb,Gb / Ev,Gv; not CMP (38/39). */
        return (op & 7) < 2 && (op >> 3) != 7;
    }
    switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83:
        return reg != 7;                      /* not CMP */
    case 0x86: case 0x87:
        return true;                          /* XCHG */
    case 0xf6: case 0xf7:
        return reg == 2 || reg == 3;          /* NOT, NEG */
    case 0xfe: case 0xff:
        return reg == 0 || reg == 1;          /* INC, DEC */
    default:
        return false;
    }
}

int sst_skip_rule(const SstInsn *insn)
{
    uint8_t op = insn->opcode;
    if (op == 0x0f || (op >= 0x64 && op <= 0x67)) {
        return SST_SKIP_OPCODE_386;
    }
    if (insn->len > 10) {
        return SST_SKIP_TOO_LONG;
    }
    if (insn->lock && !p6_lockable(insn)) {
        return SST_SKIP_LOCK_UD;
    }
    if ((op == 0x8c || op == 0x8e) && insn->has_modrm &&
        (sst_insn_reg(insn) == 4 || sst_insn_reg(insn) == 5)) {
        return SST_SKIP_SREG_FSGS;
    }
    return -1;
}

uint16_t sst_p6_undefined_flags(const SstInsn *insn, const MooRegs *init, int rules[2],
                                int *nrules)
{
    *nrules = 0;
    uint8_t op = insn->opcode;
    unsigned count;
    if ((op == 0xc0 || op == 0xc1) && insn->has_imm8) {
        count = insn->imm8;
    } else if (op == 0xd2 || op == 0xd3) {
        count = init->value[MOO_CX] & 0xff;
    } else {
        return 0; /* D0/D1 shift by one: every flag is defined */
    }
    /* Both CPUs use the count modulo 32 (SDM Vol.2 SAL: "masked to 5 bits";
     * fixture README for D2/D3). A zero count changes no flag. */
    count &= 31;
    if (count == 0) {
        return 0;
    }
    uint16_t undefined = 0;
    int reg = sst_insn_reg(insn);
    unsigned width = (op & 1) ? 16 : 8;
    if (count != 1) {
        undefined |= 0x0800; /* OF */
        rules[(*nrules)++] = SST_MASK_SHIFT_OF;
    }
    /* SHL, SHR and the SAL alias /6; SAR's CF is defined at any count. */
    if ((reg == 4 || reg == 5 || reg == 6) && count >= width) {
        undefined |= 0x0001; /* CF */
        rules[(*nrules)++] = SST_MASK_SHIFT_CF;
    }
    return undefined;
}
