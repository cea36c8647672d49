/*
 * Opcode tables for cpu/decode.c, in Intel SDM Vol.2 Appendix A notation.
 * Private to the decoder.
 */
#ifndef CPU_DECODE_TABLES_H
#define CPU_DECODE_TABLES_H

#include <stdint.h>

/*
 * Operand specifications: addressing method letter + size letter
 * (SDM Vol.2 A.2.1/A.2.2).  Z* is a register coded in the opcode's low three
 * bits; s.. a fixed segment register; X., Y. the string operands DS:eSI, ES:eDI.
 */
enum OpSpec {
    __ = 0,
    Eb, Ew, Ed, Ev, /* ModRM r/m */
    EwRv,           /* r/m: a 16-bit memory word, or a full-size register (MOV Ew,Sw; SLDT; STR; SMSW) */
    Gb, Gw, Gd, Gv, /* ModRM reg */
    Ib, Ibs, Iw, Iz,/* immediates; Ibs is sign-extended to the operand size */
    Jb, Jz,         /* relative branch displacement */
    M, Mp, Ma, Mq, Ms, /* memory only: any, far pointer, BOUND pair, qword, pseudo-descriptor */
    Ob, Ov,         /* moffs */
    Sw,             /* segment register from ModRM reg */
    Cd, Dd, Rd,     /* control / debug register; Rd = r/m as a register whatever mod says */
    Ap,             /* far pointer immediate */
    Zb, Zv, Zd,     /* register from opcode bits 2:0 */
    AL, CL, DX, eAX,/* fixed registers */
    One,            /* constant 1 */
    sES, sCS, sSS, sDS, sFS, sGS,
    Xb, Xv, Yb, Yv, /* string operands: only their size matters to the decoder */
    Md, Mb, Mx,     /* memory only: dword, byte (CLFLUSH), 16 bytes */
    Vx, Ux,         /* XMM register from ModRM reg; from r/m, register form only */
    Wx, Wq, Wd,     /* XMM register or memory of 16, 8 (low quadword), 4 (low dword) bytes */
    Pq, Nq,         /* MMX register from ModRM reg; from r/m, register form only */
    Qq, Qd,         /* MMX register or memory of 8 or 4 (low dword) bytes */
    SPEC_COUNT
};

/* Per-entry flags (per-operation flags are in insn_op_flags). */
#define E_LOCK  0x01 /* LOCK allowed with a memory destination */
#define E_GROUP 0x02 /* ModRM.reg selects the entry from group_table[group] */
#define E_COND  0x04 /* condition code in the opcode's low nibble */
#define E_SIMD  0x08 /* the mandatory prefix (none, 66, F3, F2) selects from simd_table_* */
#define E_IMM2  0x10 /* the second immediate goes to imm2 (ENTER) */

typedef struct OpcodeEntry {
    uint16_t op;      /* enum InsnOp */
    uint8_t flags;    /* E_* */
    uint8_t group;    /* with E_GROUP: index into group_table */
    uint8_t spec[3];  /* enum OpSpec, destination first */
} OpcodeEntry;

enum {
    GRP_NONE, GRP1, GRP1A, GRP2, GRP3B, GRP3V, GRP4, GRP5, GRP6, GRP7, GRP8, GRP9, GRP11,
    GRP15, GRP15R, GRP7R7, GRP_COUNT
};

/* Groups of the SIMD maps, each entry per mandatory prefix (simd_group_table). */
enum { SGRP12, SGRP13, SGRP14, SGRP_COUNT };

/* Columns of the SIMD tables: the mandatory prefix (SDM Vol.2 2.1.2, A.2.5). */
enum { PFX_NONE, PFX_66, PFX_F3, PFX_F2, PFX_COUNT };

extern const OpcodeEntry opcode_table_1byte[256];
extern const OpcodeEntry opcode_table_0f[256];
extern const OpcodeEntry group_table[GRP_COUNT][8];
/* E_SIMD opcodes of the 0F map, and the 0F 38 and 0F 3A maps, by prefix. */
extern const OpcodeEntry simd_table_0f[256][PFX_COUNT];
extern const OpcodeEntry simd_table_0f38[256][PFX_COUNT];
extern const OpcodeEntry simd_table_0f3a[256][PFX_COUNT];
/* 0F 12 and 0F 16 with no prefix name other instructions in register form. */
extern const OpcodeEntry simd_table_0f_modreg[256];
extern const OpcodeEntry simd_group_table[SGRP_COUNT][8][PFX_COUNT];
extern const uint16_t insn_op_flags[];

/*
 * 64-bit mode (SDM Vol.2 Appendix A.2.5 superscripts, 2.2.1.7): opcodes that
 * are invalid there (i64), whose operand size defaults to 64 bits (d64:
 * 66h makes it 16, 32 cannot be encoded) or is 64 bits whatever 66h says
 * (f64: near branches, which Intel CPUs do not shorten).  Indexed by opcode;
 * the group entries by ModRM.reg.
 */
#define M64_I64 0x01
#define M64_D64 0x02
#define M64_F64 0x04
extern const uint8_t mode64_1byte[256];
extern const uint8_t mode64_0f[256];
extern const uint8_t mode64_grp5[8];
/* 63 in 64-bit mode: MOVSXD Gv, Ed (ARPL elsewhere). */
extern const OpcodeEntry opcode_movsxd;

#endif /* CPU_DECODE_TABLES_H */
