/*
 * The opcode maps, transcribed from Intel SDM Vol.2 Appendix A (Tables A-2,
 * ), with the P6 family's additions.  An empty slot is #UD.
 */
#include "cpu/decode.h"
#include "cpu/decode_tables.h"

#define I(o, a, b, c) {OP_##o, 0, 0, {a, b, c}}
#define L(o, a, b, c) {OP_##o, E_LOCK, 0, {a, b, c}}        /* lockable */
#define C(o, a, b) {OP_##o, E_COND, 0, {a, b, __}}          /* condition in opcode */
#define G(g, a, b, c) {OP_UD, E_GROUP, g, {a, b, c}}        /* ModRM.reg picks */

/* The six-opcode ALU block at 00h, 08h, ... 38h: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib eAX,Iz */
#define ALU6(o)                                                                            \
    L(o, Eb, Gb, __), L(o, Ev, Gv, __), I(o, Gb, Eb, __), I(o, Gv, Ev, __),                 \
        I(o, AL, Ib, __), I(o, eAX, Iz, __)
#define ALU6_NOLOCK(o)                                                                     \
    I(o, Eb, Gb, __), I(o, Ev, Gv, __), I(o, Gb, Eb, __), I(o, Gv, Ev, __),                 \
        I(o, AL, Ib, __), I(o, eAX, Iz, __)
#define X8(...) __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__
#define X16(...) X8(__VA_ARGS__), X8(__VA_ARGS__)
#define SIMD {OP_UD, E_SIMD, 0, {__, __, __}}               /* see simd_table_0f */
#define SG(g) {OP_UD, E_GROUP, g, {__, __, __}}              /* simd_group_table[g] */

const OpcodeEntry opcode_table_1byte[256] = {
    [0x00] = ALU6(ADD),           [0x06] = I(PUSH_SREG, sES, __, __), [0x07] = I(POP_SREG, sES, __, __),
    [0x08] = ALU6(OR),            [0x0e] = I(PUSH_SREG, sCS, __, __), /* 0F: two-byte escape */
    [0x10] = ALU6(ADC),           [0x16] = I(PUSH_SREG, sSS, __, __), [0x17] = I(POP_SREG, sSS, __, __),
    [0x18] = ALU6(SBB),           [0x1e] = I(PUSH_SREG, sDS, __, __), [0x1f] = I(POP_SREG, sDS, __, __),
    [0x20] = ALU6(AND),           /* 26: ES prefix */                 [0x27] = I(DAA, __, __, __),
    [0x28] = ALU6(SUB),           /* 2E: CS prefix */                 [0x2f] = I(DAS, __, __, __),
    [0x30] = ALU6(XOR),           /* 36: SS prefix */                 [0x37] = I(AAA, __, __, __),
    [0x38] = ALU6_NOLOCK(CMP),    /* 3E: DS prefix */                 [0x3f] = I(AAS, __, __, __),
    [0x40] = X8(I(INC, Zv, __, __)),
    [0x48] = X8(I(DEC, Zv, __, __)),
    [0x50] = X8(I(PUSH, Zv, __, __)),
    [0x58] = X8(I(POP, Zv, __, __)),
    [0x60] = I(PUSHA, __, __, __), [0x61] = I(POPA, __, __, __),
    [0x62] = I(BOUND, Gv, Ma, __), [0x63] = I(ARPL, Ew, Gw, __),
    /* 64-67: FS, GS, operand-size, address-size prefixes */
    [0x68] = I(PUSH, Iz, __, __),  [0x69] = I(IMUL3, Gv, Ev, Iz),
    [0x6a] = I(PUSH, Ibs, __, __), [0x6b] = I(IMUL3, Gv, Ev, Ibs),
    [0x6c] = I(INS, Yb, DX, __),   [0x6d] = I(INS, Yv, DX, __),
    [0x6e] = I(OUTS, DX, Xb, __),  [0x6f] = I(OUTS, DX, Xv, __),
    [0x70] = X16(C(JCC, Jb, __)),
    [0x80] = G(GRP1, Eb, Ib, __),  [0x81] = G(GRP1, Ev, Iz, __),
    [0x82] = G(GRP1, Eb, Ib, __),  [0x83] = G(GRP1, Ev, Ibs, __),
    [0x84] = I(TEST, Eb, Gb, __),  [0x85] = I(TEST, Ev, Gv, __),
    [0x86] = L(XCHG, Eb, Gb, __),  [0x87] = L(XCHG, Ev, Gv, __),
    [0x88] = I(MOV, Eb, Gb, __),   [0x89] = I(MOV, Ev, Gv, __),
    [0x8a] = I(MOV, Gb, Eb, __),   [0x8b] = I(MOV, Gv, Ev, __),
    [0x8c] = I(MOV_EW_SREG, EwRv, Sw, __), [0x8d] = I(LEA, Gv, M, __),
    [0x8e] = I(MOV_SREG_EW, Sw, Ew, __),   [0x8f] = G(GRP1A, __, __, __),
    [0x90] = I(NOP, __, __, __),
    [0x91] = I(XCHG, Zv, eAX, __), [0x92] = I(XCHG, Zv, eAX, __), [0x93] = I(XCHG, Zv, eAX, __),
    [0x94] = I(XCHG, Zv, eAX, __), [0x95] = I(XCHG, Zv, eAX, __), [0x96] = I(XCHG, Zv, eAX, __),
    [0x97] = I(XCHG, Zv, eAX, __),
    [0x98] = I(CBW, __, __, __),   [0x99] = I(CWD, __, __, __),
    [0x9a] = I(CALLF, Ap, __, __), [0x9b] = I(WAIT, __, __, __),
    [0x9c] = I(PUSHF, __, __, __), [0x9d] = I(POPF, __, __, __),
    [0x9e] = I(SAHF, __, __, __),  [0x9f] = I(LAHF, __, __, __),
    [0xa0] = I(MOV, AL, Ob, __),   [0xa1] = I(MOV, eAX, Ov, __),
    [0xa2] = I(MOV, Ob, AL, __),   [0xa3] = I(MOV, Ov, eAX, __),
    [0xa4] = I(MOVS, Yb, Xb, __),  [0xa5] = I(MOVS, Yv, Xv, __),
    [0xa6] = I(CMPS, Xb, Yb, __),  [0xa7] = I(CMPS, Xv, Yv, __),
    [0xa8] = I(TEST, AL, Ib, __),  [0xa9] = I(TEST, eAX, Iz, __),
    [0xaa] = I(STOS, Yb, AL, __),  [0xab] = I(STOS, Yv, eAX, __),
    [0xac] = I(LODS, AL, Xb, __),  [0xad] = I(LODS, eAX, Xv, __),
    [0xae] = I(SCAS, AL, Yb, __),  [0xaf] = I(SCAS, eAX, Yv, __),
    [0xb0] = X8(I(MOV, Zb, Ib, __)),
    [0xb8] = X8(I(MOV, Zv, Iz, __)),
    [0xc0] = G(GRP2, Eb, Ib, __),  [0xc1] = G(GRP2, Ev, Ib, __),
    [0xc2] = I(RET, Iw, __, __),   [0xc3] = I(RET, __, __, __),
    [0xc4] = I(LxS, Gv, Mp, __),   [0xc5] = I(LxS, Gv, Mp, __),
    [0xc6] = G(GRP11, Eb, Ib, __), [0xc7] = G(GRP11, Ev, Iz, __),
    [0xc8] = {OP_ENTER, E_IMM2, 0, {Iw, Ib, __}}, [0xc9] = I(LEAVE, __, __, __),
    [0xca] = I(RETF, Iw, __, __),  [0xcb] = I(RETF, __, __, __),
    [0xcc] = I(INT3, __, __, __),  [0xcd] = I(INT, Ib, __, __),
    [0xce] = I(INTO, __, __, __),  [0xcf] = I(IRET, __, __, __),
    [0xd0] = G(GRP2, Eb, One, __), [0xd1] = G(GRP2, Ev, One, __),
    [0xd2] = G(GRP2, Eb, CL, __),  [0xd3] = G(GRP2, Ev, CL, __),
    [0xd4] = I(AAM, Ib, __, __),   [0xd5] = I(AAD, Ib, __, __),
    [0xd6] = I(SALC, __, __, __),  [0xd7] = I(XLAT, __, __, __),
    [0xd8] = X8(I(FPU, __, __, __)),
    [0xe0] = I(LOOPNE, Jb, __, __), [0xe1] = I(LOOPE, Jb, __, __),
    [0xe2] = I(LOOP, Jb, __, __),   [0xe3] = I(JCXZ, Jb, __, __),
    [0xe4] = I(IN, AL, Ib, __),     [0xe5] = I(IN, eAX, Ib, __),
    [0xe6] = I(OUT, Ib, AL, __),    [0xe7] = I(OUT, Ib, eAX, __),
    [0xe8] = I(CALL, Jz, __, __),   [0xe9] = I(JMP, Jz, __, __),
    [0xea] = I(JMPF, Ap, __, __),   [0xeb] = I(JMP, Jb, __, __),
    [0xec] = I(IN, AL, DX, __),     [0xed] = I(IN, eAX, DX, __),
    [0xee] = I(OUT, DX, AL, __),    [0xef] = I(OUT, DX, eAX, __),
    /* F0: LOCK; F1: INT1 (ICEBP) is decoded specially in decode.c; F2/F3: REP */
    [0xf4] = I(HLT, __, __, __),   [0xf5] = I(CMC, __, __, __),
    [0xf6] = G(GRP3B, __, __, __), [0xf7] = G(GRP3V, __, __, __),
    [0xf8] = I(CLC, __, __, __),   [0xf9] = I(STC, __, __, __),
    [0xfa] = I(CLI, __, __, __),   [0xfb] = I(STI, __, __, __),
    [0xfc] = I(CLD, __, __, __),   [0xfd] = I(STD, __, __, __),
    [0xfe] = G(GRP4, __, __, __),  [0xff] = G(GRP5, __, __, __),
};

const OpcodeEntry opcode_table_0f[256] = {
    [0x00] = G(GRP6, __, __, __),  [0x01] = G(GRP7, __, __, __),
    [0x02] = I(LAR, Gv, Ew, __),   [0x03] = I(LSL, Gv, Ew, __),
    [0x05] = I(SYSCALL, __, __, __), [0x06] = I(CLTS, __, __, __),
    [0x07] = I(SYSRET, __, __, __),
    [0x08] = I(INVD, __, __, __),  [0x09] = I(WBINVD, __, __, __),
    [0x0b] = I(UD2, __, __, __),
    /* 0F 0D /0 /1: PREFETCH/PREFETCHW (AMD's 3DNow! prefetch, Intel's since
     * Broadwell): hints, like 0F 18; Linux uses PREFETCHW on AMD with LM */
    [0x0d] = I(NOP, Ev, __, __),
    [0x10 ... 0x17] = SIMD,
    /* 0F 18 /0-/3: PREFETCHNTA/T0/T1/T2 (hints: never fault, so no access);
     * the rest of 0F 18-1F: hint NOPs on the P6 family (SDM Vol.2 NOP: 0F 1F /0) */
    [0x18] = X8(I(NOP, Ev, __, __)),
    [0x28 ... 0x2f] = SIMD,
    [0x20] = I(MOV_CR, Rd, Cd, __), [0x21] = I(MOV_DR, Rd, Dd, __),
    [0x22] = I(MOV_CR, Cd, Rd, __), [0x23] = I(MOV_DR, Dd, Rd, __),
    [0x30] = I(WRMSR, __, __, __), [0x31] = I(RDTSC, __, __, __),
    [0x32] = I(RDMSR, __, __, __), [0x33] = I(RDPMC, __, __, __),
    [0x34] = I(SYSENTER, __, __, __), [0x35] = I(SYSEXIT, __, __, __),
    [0x40] = X16(C(CMOV, Gv, Ev)),
    [0x50 ... 0x77] = SIMD,
    [0x7c ... 0x7f] = SIMD,
    [0x80] = X16(C(JCC, Jz, __)),
    [0x90] = X16(C(SETCC, Eb, __)),
    [0xa0] = I(PUSH_SREG, sFS, __, __), [0xa1] = I(POP_SREG, sFS, __, __),
    [0xa2] = I(CPUID, __, __, __), [0xa3] = I(BT, Ev, Gv, __),
    [0xa4] = I(SHLD, Ev, Gv, Ib),  [0xa5] = I(SHLD, Ev, Gv, CL),
    [0xa8] = I(PUSH_SREG, sGS, __, __), [0xa9] = I(POP_SREG, sGS, __, __),
    [0xab] = L(BTS, Ev, Gv, __),
    [0xac] = I(SHRD, Ev, Gv, Ib),  [0xad] = I(SHRD, Ev, Gv, CL),
    [0xae] = G(GRP15, __, __, __), [0xaf] = I(IMUL2, Gv, Ev, __),
    [0xb0] = L(CMPXCHG, Eb, Gb, __), [0xb1] = L(CMPXCHG, Ev, Gv, __),
    [0xb2] = I(LxS, Gv, Mp, __),   [0xb3] = L(BTR, Ev, Gv, __),
    [0xb4] = I(LxS, Gv, Mp, __),   [0xb5] = I(LxS, Gv, Mp, __),
    [0xb6] = I(MOVZX, Gv, Eb, __), [0xb7] = I(MOVZX, Gv, Ew, __),
    [0xba] = G(GRP8, Ev, Ib, __),  [0xbb] = L(BTC, Ev, Gv, __),
    [0xbc] = I(BSF, Gv, Ev, __),   [0xbd] = I(BSR, Gv, Ev, __),
    [0xbe] = I(MOVSX, Gv, Eb, __), [0xbf] = I(MOVSX, Gv, Ew, __),
    [0xc0] = L(XADD, Eb, Gb, __),  [0xc1] = L(XADD, Ev, Gv, __),
    [0xc2 ... 0xc6] = SIMD,
    [0xc7] = G(GRP9, __, __, __),
    [0xc8] = X8(I(BSWAP, Zd, __, __)),
    [0xd0 ... 0xfe] = SIMD,
};

/* 64-bit mode properties of the one-byte map (SDM Vol.2 Table A-2).  40-4F
 * are REX prefixes there, handled in decode.c; 63 becomes MOVSXD. */
const uint8_t mode64_1byte[256] = {
    [0x06] = M64_I64, [0x07] = M64_I64, [0x0e] = M64_I64, /* PUSH/POP ES, PUSH CS */
    [0x16] = M64_I64, [0x17] = M64_I64, [0x1e] = M64_I64, [0x1f] = M64_I64, /* SS, DS */
    [0x27] = M64_I64, [0x2f] = M64_I64, [0x37] = M64_I64, [0x3f] = M64_I64, /* DAA DAS AAA AAS */
    [0x50 ... 0x5f] = M64_D64,                                  /* PUSH/POP reg */
    [0x60] = M64_I64, [0x61] = M64_I64, [0x62] = M64_I64,       /* PUSHA POPA BOUND */
    [0x68] = M64_D64, [0x6a] = M64_D64,                         /* PUSH imm */
    [0x70 ... 0x7f] = M64_F64,                                  /* Jcc rel8 */
    [0x82] = M64_I64,                                           /* the 80 alias */
    [0x8f] = M64_D64,                                           /* POP Ev */
    [0x9a] = M64_I64,                                           /* CALLF Ap */
    [0x9c] = M64_D64, [0x9d] = M64_D64,                         /* PUSHF POPF */
    [0xc2] = M64_F64, [0xc3] = M64_F64,                         /* RET */
    [0xc4] = M64_I64, [0xc5] = M64_I64,                         /* LES LDS (VEX later) */
    [0xc8] = M64_D64, [0xc9] = M64_D64,                         /* ENTER LEAVE */
    [0xce] = M64_I64,                                           /* INTO */
    [0xd4] = M64_I64, [0xd5] = M64_I64, [0xd6] = M64_I64,       /* AAM AAD SALC */
    [0xe0 ... 0xe3] = M64_F64,                                  /* LOOPcc JrCXZ */
    [0xe8] = M64_F64, [0xe9] = M64_F64, [0xeb] = M64_F64,       /* CALL JMP rel */
    [0xea] = M64_I64,                                           /* JMPF Ap */
};

const OpcodeEntry opcode_movsxd = I(MOVSX, Gv, Ed, __);

/* ... of the 0F map (Table A-3). */
const uint8_t mode64_0f[256] = {
    [0x80 ... 0x8f] = M64_F64,                                  /* Jcc rel32 */
    [0xa0] = M64_D64, [0xa1] = M64_D64, [0xa8] = M64_D64, [0xa9] = M64_D64, /* PUSH/POP FS GS */
};

/* ... of group 5 (FF /r): near CALL and JMP are f64, PUSH d64. */
const uint8_t mode64_grp5[8] = {[2] = M64_F64, [4] = M64_F64, [6] = M64_D64};

/* Groups: an entry with no operands of its own takes the main entry's. */
const OpcodeEntry group_table[GRP_COUNT][8] = {
    [GRP1] = {L(ADD, __, __, __), L(OR, __, __, __), L(ADC, __, __, __), L(SBB, __, __, __),
              L(AND, __, __, __), L(SUB, __, __, __), L(XOR, __, __, __), I(CMP, __, __, __)},
    [GRP1A] = {I(POP, Ev, __, __)},
    [GRP2] = {I(ROL, __, __, __), I(ROR, __, __, __), I(RCL, __, __, __), I(RCR, __, __, __),
              I(SHL, __, __, __), I(SHR, __, __, __), I(SHL, __, __, __), I(SAR, __, __, __)},
    [GRP3B] = {I(TEST, Eb, Ib, __), I(TEST, Eb, Ib, __), L(NOT, Eb, __, __), L(NEG, Eb, __, __),
               I(MUL, Eb, __, __), I(IMUL1, Eb, __, __), I(DIV, Eb, __, __), I(IDIV, Eb, __, __)},
    [GRP3V] = {I(TEST, Ev, Iz, __), I(TEST, Ev, Iz, __), L(NOT, Ev, __, __), L(NEG, Ev, __, __),
               I(MUL, Ev, __, __), I(IMUL1, Ev, __, __), I(DIV, Ev, __, __), I(IDIV, Ev, __, __)},
    [GRP4] = {L(INC, Eb, __, __), L(DEC, Eb, __, __)},
    [GRP5] = {L(INC, Ev, __, __), L(DEC, Ev, __, __), I(CALL_EV, Ev, __, __),
              I(CALLF_EP, Mp, __, __), I(JMP_EV, Ev, __, __), I(JMPF_EP, Mp, __, __),
              I(PUSH, Ev, __, __)},
    [GRP6] = {I(SLDT, EwRv, __, __), I(STR, EwRv, __, __), I(LLDT, Ew, __, __),
              I(LTR, Ew, __, __), I(VERR, Ew, __, __), I(VERW, Ew, __, __)},
    [GRP7] = {I(SGDT, Ms, __, __), I(SIDT, Ms, __, __), I(LGDT, Ms, __, __),
              I(LIDT, Ms, __, __), I(SMSW, EwRv, __, __), [6] = I(LMSW, Ew, __, __),
              [7] = I(INVLPG, M, __, __)},
    [GRP8] = {[4] = I(BT, __, __, __), [5] = L(BTS, __, __, __), [6] = L(BTR, __, __, __),
              [7] = L(BTC, __, __, __)},
    [GRP9] = {[1] = L(CMPXCHG8B, Mq, __, __)},
    [GRP11] = {I(MOV, __, __, __)},
    /* memory forms; GRP15R: register forms (SDM Vol.2 Table A-6, group 15) */
    [GRP15] = {I(FXSAVE, M, __, __), I(FXRSTOR, M, __, __), I(LDMXCSR, Md, __, __),
               I(STMXCSR, Md, __, __), [7] = I(CLFLUSH, Mb, __, __)},
    [GRP15R] = {[5] = I(FENCE, __, __, __), [6] = I(FENCE, __, __, __), [7] = I(FENCE, __, __, __)},
    /* group 7 /7 register forms by r/m: 0F 01 F8 SWAPGS, 0F 01 F9 RDTSCP
     * (SDM Vol.2 Table A-6) */
    [GRP7R7] = {I(SWAPGS, __, __, __), I(RDTSCP, __, __, __)},
};

/*
 * The SIMD opcodes by mandatory prefix: {none, 66, F3, F2} (SDM Vol.2
 * Tables ).  An empty column is #UD.  Where MMX and SSE2 share an
 * opcode, no prefix is the MMX form (Pq, Qq) and 66 the XMM form (Vx, Wx).
 */
#define P2(o) {I(o, Pq, Qq, __), I(o, Vx, Wx, __)}
#define FP4(o) {I(o##PS, Vx, Wx, __), I(o##PD, Vx, Wx, __), I(o##SS, Vx, Wd, __), I(o##SD, Vx, Wq, __)}
#define FP2(o) {I(o##PS, Vx, Wx, __), I(o##PD, Vx, Wx, __)}

const OpcodeEntry simd_table_0f[256][PFX_COUNT] = {
    [0x10] = {I(MOVUPS, Vx, Wx, __), I(MOVUPD, Vx, Wx, __), I(MOVSS, Vx, Wd, __), I(MOVSD, Vx, Wq, __)},
    [0x11] = {I(MOVUPS, Wx, Vx, __), I(MOVUPD, Wx, Vx, __), I(MOVSS, Wd, Vx, __), I(MOVSD, Wq, Vx, __)},
    [0x12] = {I(MOVLPS, Vx, Mq, __), I(MOVLPD, Vx, Mq, __), I(MOVSLDUP, Vx, Wx, __),
              I(MOVDDUP, Vx, Wq, __)},
    [0x13] = {I(MOVLPS, Mq, Vx, __), I(MOVLPD, Mq, Vx, __)},
    [0x14] = FP2(UNPCKL),
    [0x15] = FP2(UNPCKH),
    [0x16] = {I(MOVHPS, Vx, Mq, __), I(MOVHPD, Vx, Mq, __), I(MOVSHDUP, Vx, Wx, __)},
    [0x17] = {I(MOVHPS, Mq, Vx, __), I(MOVHPD, Mq, Vx, __)},
    [0x28] = {I(MOVAPS, Vx, Wx, __), I(MOVAPD, Vx, Wx, __)},
    [0x29] = {I(MOVAPS, Wx, Vx, __), I(MOVAPD, Wx, Vx, __)},
    [0x2a] = {I(CVTPI2PS, Vx, Qq, __), I(CVTPI2PD, Vx, Qq, __), I(CVTSI2SS, Vx, Ed, __),
              I(CVTSI2SD, Vx, Ed, __)},
    [0x2b] = {I(MOVNTPS, Mx, Vx, __), I(MOVNTPD, Mx, Vx, __)},
    [0x2c] = {I(CVTTPS2PI, Pq, Wq, __), I(CVTTPD2PI, Pq, Wx, __), I(CVTTSS2SI, Gd, Wd, __),
              I(CVTTSD2SI, Gd, Wq, __)},
    [0x2d] = {I(CVTPS2PI, Pq, Wq, __), I(CVTPD2PI, Pq, Wx, __), I(CVTSS2SI, Gd, Wd, __),
              I(CVTSD2SI, Gd, Wq, __)},
    [0x2e] = {I(UCOMISS, Vx, Wd, __), I(UCOMISD, Vx, Wq, __)},
    [0x2f] = {I(COMISS, Vx, Wd, __), I(COMISD, Vx, Wq, __)},
    [0x50] = {I(MOVMSKPS, Gd, Ux, __), I(MOVMSKPD, Gd, Ux, __)},
    [0x51] = FP4(SQRT),
    [0x52] = {I(RSQRTPS, Vx, Wx, __), [PFX_F3] = I(RSQRTSS, Vx, Wd, __)},
    [0x53] = {I(RCPPS, Vx, Wx, __), [PFX_F3] = I(RCPSS, Vx, Wd, __)},
    [0x54] = FP2(AND), [0x55] = FP2(ANDN), [0x56] = FP2(OR), [0x57] = FP2(XOR),
    [0x58] = FP4(ADD), [0x59] = FP4(MUL),
    [0x5a] = {I(CVTPS2PD, Vx, Wq, __), I(CVTPD2PS, Vx, Wx, __), I(CVTSS2SD, Vx, Wd, __),
              I(CVTSD2SS, Vx, Wq, __)},
    [0x5b] = {I(CVTDQ2PS, Vx, Wx, __), I(CVTPS2DQ, Vx, Wx, __), I(CVTTPS2DQ, Vx, Wx, __)},
    [0x5c] = FP4(SUB), [0x5d] = FP4(MIN), [0x5e] = FP4(DIV), [0x5f] = FP4(MAX),
    [0x60] = {I(PUNPCKLBW, Pq, Qd, __), I(PUNPCKLBW, Vx, Wx, __)},
    [0x61] = {I(PUNPCKLWD, Pq, Qd, __), I(PUNPCKLWD, Vx, Wx, __)},
    [0x62] = {I(PUNPCKLDQ, Pq, Qd, __), I(PUNPCKLDQ, Vx, Wx, __)},
    [0x63] = P2(PACKSSWB), [0x64] = P2(PCMPGTB), [0x65] = P2(PCMPGTW), [0x66] = P2(PCMPGTD),
    [0x67] = P2(PACKUSWB), [0x68] = P2(PUNPCKHBW), [0x69] = P2(PUNPCKHWD), [0x6a] = P2(PUNPCKHDQ),
    [0x6b] = P2(PACKSSDW),
    [0x6c] = {[PFX_66] = I(PUNPCKLQDQ, Vx, Wx, __)},
    [0x6d] = {[PFX_66] = I(PUNPCKHQDQ, Vx, Wx, __)},
    [0x6e] = {I(MOVD, Pq, Ed, __), I(MOVD, Vx, Ed, __)},
    [0x6f] = {I(MOVQ, Pq, Qq, __), I(MOVDQA, Vx, Wx, __), I(MOVDQU, Vx, Wx, __)},
    [0x70] = {I(PSHUFW, Pq, Qq, Ib), I(PSHUFD, Vx, Wx, Ib), I(PSHUFHW, Vx, Wx, Ib),
              I(PSHUFLW, Vx, Wx, Ib)},
    [0x71] = {SG(SGRP12), SG(SGRP12)},
    [0x72] = {SG(SGRP13), SG(SGRP13)},
    [0x73] = {SG(SGRP14), SG(SGRP14)},
    [0x74] = P2(PCMPEQB), [0x75] = P2(PCMPEQW), [0x76] = P2(PCMPEQD),
    [0x77] = {I(EMMS, __, __, __)},
    [0x7c] = {[PFX_66] = I(HADDPD, Vx, Wx, __), [PFX_F2] = I(HADDPS, Vx, Wx, __)},
    [0x7d] = {[PFX_66] = I(HSUBPD, Vx, Wx, __), [PFX_F2] = I(HSUBPS, Vx, Wx, __)},
    [0x7e] = {I(MOVD, Ed, Pq, __), I(MOVD, Ed, Vx, __), I(MOVQ, Vx, Wq, __)},
    [0x7f] = {I(MOVQ, Qq, Pq, __), I(MOVDQA, Wx, Vx, __), I(MOVDQU, Wx, Vx, __)},
    [0xc2] = {I(CMPPS, Vx, Wx, Ib), I(CMPPD, Vx, Wx, Ib), I(CMPSS, Vx, Wd, Ib), I(CMPSD, Vx, Wq, Ib)},
    [0xc3] = {I(MOVNTI, Md, Gd, __)},
    [0xc4] = {I(PINSRW, Pq, Ew, Ib), I(PINSRW, Vx, Ew, Ib)},
    [0xc5] = {I(PEXTRW, Gd, Nq, Ib), I(PEXTRW, Gd, Ux, Ib)},
    [0xc6] = {I(SHUFPS, Vx, Wx, Ib), I(SHUFPD, Vx, Wx, Ib)},
    [0xd0] = {[PFX_66] = I(ADDSUBPD, Vx, Wx, __), [PFX_F2] = I(ADDSUBPS, Vx, Wx, __)},
    [0xd1] = P2(PSRLW), [0xd2] = P2(PSRLD), [0xd3] = P2(PSRLQ), [0xd4] = P2(PADDQ),
    [0xd5] = P2(PMULLW),
    [0xd6] = {[PFX_66] = I(MOVQ, Wq, Vx, __), [PFX_F3] = I(MOVQ2DQ, Vx, Nq, __),
              [PFX_F2] = I(MOVDQ2Q, Pq, Ux, __)},
    [0xd7] = {I(PMOVMSKB, Gd, Nq, __), I(PMOVMSKB, Gd, Ux, __)},
    [0xd8] = P2(PSUBUSB), [0xd9] = P2(PSUBUSW), [0xda] = P2(PMINUB), [0xdb] = P2(PAND),
    [0xdc] = P2(PADDUSB), [0xdd] = P2(PADDUSW), [0xde] = P2(PMAXUB), [0xdf] = P2(PANDN),
    [0xe0] = P2(PAVGB), [0xe1] = P2(PSRAW), [0xe2] = P2(PSRAD), [0xe3] = P2(PAVGW),
    [0xe4] = P2(PMULHUW), [0xe5] = P2(PMULHW),
    [0xe6] = {[PFX_66] = I(CVTTPD2DQ, Vx, Wx, __), [PFX_F3] = I(CVTDQ2PD, Vx, Wq, __),
              [PFX_F2] = I(CVTPD2DQ, Vx, Wx, __)},
    [0xe7] = {I(MOVNTQ, Mq, Pq, __), I(MOVNTDQ, Mx, Vx, __)},
    [0xe8] = P2(PSUBSB), [0xe9] = P2(PSUBSW), [0xea] = P2(PMINSW), [0xeb] = P2(POR),
    [0xec] = P2(PADDSB), [0xed] = P2(PADDSW), [0xee] = P2(PMAXSW), [0xef] = P2(PXOR),
    [0xf0] = {[PFX_F2] = I(LDDQU, Vx, Mx, __)},
    [0xf1] = P2(PSLLW), [0xf2] = P2(PSLLD), [0xf3] = P2(PSLLQ), [0xf4] = P2(PMULUDQ),
    [0xf5] = P2(PMADDWD), [0xf6] = P2(PSADBW),
    [0xf7] = {I(MASKMOVQ, Pq, Nq, __), I(MASKMOVDQU, Vx, Ux, __)},
    [0xf8] = P2(PSUBB), [0xf9] = P2(PSUBW), [0xfa] = P2(PSUBD), [0xfb] = P2(PSUBQ),
    [0xfc] = P2(PADDB), [0xfd] = P2(PADDW), [0xfe] = P2(PADDD),
};

const OpcodeEntry simd_table_0f_modreg[256] = {
    [0x12] = I(MOVHLPS, Vx, Ux, __),
    [0x16] = I(MOVLHPS, Vx, Ux, __),
};

/* SSSE3 (SDM Vol.2 Table A-4). */
const OpcodeEntry simd_table_0f38[256][PFX_COUNT] = {
    [0x00] = P2(PSHUFB), [0x01] = P2(PHADDW), [0x02] = P2(PHADDD), [0x03] = P2(PHADDSW),
    [0x04] = P2(PMADDUBSW), [0x05] = P2(PHSUBW), [0x06] = P2(PHSUBD), [0x07] = P2(PHSUBSW),
    [0x08] = P2(PSIGNB), [0x09] = P2(PSIGNW), [0x0a] = P2(PSIGND), [0x0b] = P2(PMULHRSW),
    [0x1c] = P2(PABSB), [0x1d] = P2(PABSW), [0x1e] = P2(PABSD),
};

const OpcodeEntry simd_table_0f3a[256][PFX_COUNT] = {
    [0x0f] = {I(PALIGNR, Pq, Qq, Ib), I(PALIGNR, Vx, Wx, Ib)},
};

/* Groups 12-14: shifts by an immediate (SDM Vol.2 Table A-6). */
#define SHIFT_IB(o) {I(o, Nq, Ib, __), I(o, Ux, Ib, __)}
const OpcodeEntry simd_group_table[SGRP_COUNT][8][PFX_COUNT] = {
    [SGRP12] = {[2] = SHIFT_IB(PSRLW), [4] = SHIFT_IB(PSRAW), [6] = SHIFT_IB(PSLLW)},
    [SGRP13] = {[2] = SHIFT_IB(PSRLD), [4] = SHIFT_IB(PSRAD), [6] = SHIFT_IB(PSLLD)},
    [SGRP14] = {[2] = SHIFT_IB(PSRLQ), [3] = {[PFX_66] = I(PSRLDQ, Ux, Ib, __)},
                [6] = SHIFT_IB(PSLLQ), [7] = {[PFX_66] = I(PSLLDQ, Ux, Ib, __)}},
};

#define PRIV INSN_F_PRIV
#define SENS INSN_F_SENSITIVE
#define BR INSN_F_BRANCH
#define MEM INSN_F_MEM
#define STR INSN_F_STRING
#define END INSN_F_ENDBLOCK
#define IO INSN_F_IO
#define STK (INSN_F_STACK | INSN_F_MEM)

/*
 * What each operation is, independent of encoding.  "Sensitive" follows
 * Popek and Goldberg: it reads or writes machine state that the translator
 * does not keep in host registers (segments, IF/IOPL, system registers, the
 * FPU, time), so it must run as a callout even at CPL 0.
 */
const uint16_t insn_op_flags[OP_COUNT] = {
    [OP_UD] = END,
    [OP_PUSH] = STK, [OP_POP] = STK, [OP_PUSHA] = STK, [OP_POPA] = STK,
    [OP_PUSHF] = STK | SENS, [OP_POPF] = STK | SENS | END,
    [OP_ENTER] = STK, [OP_LEAVE] = STK,
    [OP_PUSH_SREG] = STK | SENS, [OP_POP_SREG] = STK | SENS | END,
    [OP_MOV_SREG_EW] = SENS | END, [OP_MOV_EW_SREG] = SENS, [OP_LxS] = MEM | SENS | END,
    [OP_JMP] = BR, [OP_JCC] = BR, [OP_JCXZ] = BR, [OP_LOOP] = BR, [OP_LOOPE] = BR,
    [OP_LOOPNE] = BR, [OP_CALL] = BR | STK, [OP_RET] = BR | STK, [OP_JMP_EV] = BR,
    [OP_CALL_EV] = BR | STK,
    [OP_JMPF] = BR | SENS | END, [OP_CALLF] = BR | STK | SENS | END,
    [OP_JMPF_EP] = BR | MEM | SENS | END, [OP_CALLF_EP] = BR | STK | SENS | END,
    [OP_RETF] = BR | STK | SENS | END, [OP_IRET] = BR | STK | SENS | END,
    [OP_INT] = BR | STK | SENS | END, [OP_INT3] = BR | STK | SENS | END,
    [OP_INTO] = BR | STK | SENS | END, [OP_BOUND] = MEM,
    [OP_HLT] = PRIV | SENS | END, [OP_WAIT] = SENS, [OP_FPU] = SENS | INSN_F_FPU,
    [OP_CLI] = SENS, [OP_STI] = SENS | END,
    [OP_MOVS] = STR | MEM, [OP_CMPS] = STR | MEM, [OP_STOS] = STR | MEM, [OP_LODS] = STR | MEM,
    [OP_SCAS] = STR | MEM, [OP_INS] = STR | MEM | IO | SENS, [OP_OUTS] = STR | MEM | IO | SENS,
    [OP_IN] = IO | SENS, [OP_OUT] = IO | SENS,
    [OP_XLAT] = MEM,
    [OP_SLDT] = SENS, [OP_STR] = SENS, [OP_LLDT] = PRIV | SENS | MEM, [OP_LTR] = PRIV | SENS | MEM,
    [OP_VERR] = SENS | MEM, [OP_VERW] = SENS | MEM, [OP_SGDT] = SENS, [OP_SIDT] = SENS,
    [OP_LGDT] = PRIV | SENS | END, [OP_LIDT] = PRIV | SENS | END, [OP_SMSW] = SENS,
    [OP_LMSW] = PRIV | SENS | END, [OP_INVLPG] = PRIV | SENS | END, [OP_LAR] = SENS | MEM,
    [OP_LSL] = SENS | MEM, [OP_ARPL] = SENS, [OP_CLTS] = PRIV | SENS | END,
    [OP_INVD] = PRIV | SENS, [OP_WBINVD] = PRIV | SENS,
    [OP_MOV_CR] = PRIV | SENS | END, [OP_MOV_DR] = PRIV | SENS | END,
    [OP_RDMSR] = PRIV | SENS, [OP_WRMSR] = PRIV | SENS | END, [OP_RDTSC] = SENS,
    [OP_RDPMC] = SENS, [OP_CPUID] = SENS, [OP_SYSENTER] = BR | SENS | END,
    [OP_SYSEXIT] = PRIV | BR | SENS | END, [OP_FXSAVE] = SENS | MEM, [OP_FXRSTOR] = SENS | MEM,
    [OP_UD2] = END,
    [OP_LDMXCSR] = SENS | MEM, [OP_STMXCSR] = SENS | MEM, [OP_CLFLUSH] = MEM,
    [OP_SYSCALL] = BR | SENS | END, [OP_SYSRET] = PRIV | BR | SENS | END,
    [OP_SWAPGS] = PRIV | SENS | END, [OP_RDTSCP] = SENS,
    /* The SIMD operations read and write the XMM/MMX state in CPUState. */
#define SIMD_OP_FLAGS(name, ...) [OP_##name] = SENS,
    SIMD_OPS(SIMD_OP_FLAGS)
#undef SIMD_OP_FLAGS
};

const char *const insn_op_names[OP_COUNT] = {
#define INSN_OP_NAME(name, ...) #name,
    INSN_OPS(INSN_OP_NAME)
    SIMD_OPS(INSN_OP_NAME)
#undef INSN_OP_NAME
};
