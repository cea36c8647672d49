/*
 * The one x86 decoder (i686 integer ISA, x87 escapes, 16/32/64-bit forms).
 *
 * decode_insn() turns bytes into an Insn: the operation, its operands in
 * resolved form, prefixes, length and the properties the translator asks
 * about (privileged, sensitive, control transfer, touches memory).  It never
 * reads guest memory itself: the caller hands it the bytes it can see, and a
 * "need more" answer tells the caller to fetch across a page or segment end,
 * so a fault on the next page happens only when the instruction really
 * crosses into it.  The tables live in cpu/decode_tables.c in Intel's operand
 * notation (Eb, Gv, Iz, ...).
 */
#ifndef CPU_DECODE_H
#define CPU_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LEN 15

/* Semantic operations; one interpreter handler each (cpu/interp.c table). */
#define INSN_OPS(X)                                                                        \
    X(UD) X(ADD) X(OR) X(ADC) X(SBB) X(AND) X(SUB) X(XOR) X(CMP) X(TEST) X(INC) X(DEC)      \
    X(NOT) X(NEG) X(MUL) X(IMUL1) X(IMUL2) X(IMUL3) X(DIV) X(IDIV)                          \
    X(ROL) X(ROR) X(RCL) X(RCR) X(SHL) X(SHR) X(SAR) X(SHLD) X(SHRD)                        \
    X(DAA) X(DAS) X(AAA) X(AAS) X(AAM) X(AAD) X(SALC)                                       \
    X(MOV) X(MOVZX) X(MOVSX) X(LEA) X(XCHG) X(XADD) X(CMPXCHG) X(CMPXCHG8B) X(BSWAP)        \
    X(CBW) X(CWD) X(XLAT) X(LAHF) X(SAHF) X(CMOV) X(SETCC) X(NOP)                           \
    X(BT) X(BTS) X(BTR) X(BTC) X(BSF) X(BSR)                                               \
    X(PUSH) X(POP) X(PUSHA) X(POPA) X(PUSHF) X(POPF) X(ENTER) X(LEAVE)                      \
    X(PUSH_SREG) X(POP_SREG) X(MOV_SREG_EW) X(MOV_EW_SREG) X(LxS)                           \
    X(JMP) X(JCC) X(JCXZ) X(LOOP) X(LOOPE) X(LOOPNE) X(CALL) X(RET) X(JMP_EV) X(CALL_EV)   \
    X(JMPF) X(CALLF) X(JMPF_EP) X(CALLF_EP) X(RETF) X(IRET)                                 \
    X(INT) X(INT3) X(INTO) X(BOUND) X(HLT) X(WAIT) X(FPU)                                   \
    X(CLC) X(STC) X(CMC) X(CLD) X(STD) X(CLI) X(STI)                                        \
    X(MOVS) X(CMPS) X(STOS) X(LODS) X(SCAS) X(INS) X(OUTS) X(IN) X(OUT)                     \
    X(SLDT) X(STR) X(LLDT) X(LTR) X(VERR) X(VERW) X(SGDT) X(SIDT) X(LGDT) X(LIDT)           \
    X(SMSW) X(LMSW) X(INVLPG) X(LAR) X(LSL) X(ARPL) X(CLTS) X(INVD) X(WBINVD)               \
    X(MOV_CR) X(MOV_DR) X(RDMSR) X(WRMSR) X(RDTSC) X(RDPMC) X(CPUID) X(SYSENTER)            \
    X(SYSEXIT) X(FXSAVE) X(FXRSTOR) X(UD2)                                                  \
    X(LDMXCSR) X(STMXCSR) X(CLFLUSH) X(FENCE) X(MOVNTI)                                     \
    X(SYSCALL) X(SYSRET) X(SWAPGS) X(RDTSCP)

/*
 * The MMX, SSE, SSE2, SSE3 and SSSE3 instructions, one operation per
 * mnemonic (and per register class where MMX and XMM forms share one):
 * cpu/simd_ops.def lists them with how the interpreter runs each.  They
 * follow the classic operations in enum InsnOp, from OP_SIMD_FIRST on.
 */
#include "cpu/simd_ops.def"

enum InsnOp {
#define INSN_OP_ENUM(name) OP_##name,
    INSN_OPS(INSN_OP_ENUM)
#undef INSN_OP_ENUM
#define SIMD_OP_ENUM(name, ...) OP_##name,
    SIMD_OPS(SIMD_OP_ENUM)
#undef SIMD_OP_ENUM
    OP_COUNT
};
#define OP_SIMD_FIRST OP_EMMS

/* Whether op is one of the MMX/SSE operations of cpu/simd_ops.def. */
static inline bool insn_op_is_simd(unsigned op)
{
    return op >= OP_SIMD_FIRST && op < OP_COUNT;
}

extern const char *const insn_op_names[OP_COUNT];

/* A resolved operand. */
enum OperandKind {
    OPK_NONE = 0,
    OPK_REG,    /* general register: reg = 0..15; size 1: see REG_BYTE_REX */
    OPK_MEM,    /* memory at the ModRM/moffs/string effective address */
    OPK_IMM,    /* immediate: Insn.imm (already sign/zero extended to 32 bits; insn_imm64()) */
    OPK_SREG,   /* segment register reg = SEG_* */
    OPK_CREG,   /* control register reg = 0..7 */
    OPK_DREG,   /* debug register reg = 0..7 */
    OPK_REL,    /* relative branch: target = next_eip + Insn.imm */
    OPK_FAR,    /* far pointer immediate: offset Insn.imm, selector Insn.imm2 */
    OPK_CONST1, /* the constant 1 (shift by one) */
    OPK_XMM,    /* XMM register reg = 0..7 */
    OPK_MMX,    /* MMX register reg = 0..7 (the low 64 bits of x87 R0..R7) */
};

typedef struct Operand {
    uint8_t kind; /* OPK_* */
    uint8_t size; /* bytes: 1, 2, 4, 6 (far pointer), 8 */
    uint8_t reg;  /* register number for REG/SREG/CREG/DREG */
} Operand;

/* Insn.flags: what the translator and tools need to know. */
#define INSN_F_PRIV      0x0001u /* privileged: #GP unless CPL 0 */
#define INSN_F_SENSITIVE 0x0002u /* reads or changes state the translator keeps outside host regs */
#define INSN_F_BRANCH    0x0004u /* control transfer: ends a basic block */
#define INSN_F_MEM       0x0008u /* touches memory (explicit or implicit: stack, string, tables) */
#define INSN_F_LOCKABLE  0x0010u /* LOCK allowed when the destination is memory */
#define INSN_F_STRING    0x0020u /* string instruction: honours REP */
#define INSN_F_ENDBLOCK  0x0040u /* changes mode or code state: must end a translated block */
#define INSN_F_IO        0x0080u /* port I/O (IOPL / bitmap checks) */
#define INSN_F_FPU       0x0100u /* x87 escape */
#define INSN_F_COND      0x0200u /* conditional (Jcc, SETcc, CMOVcc, LOOPcc): Insn.cond */
#define INSN_F_STACK     0x0400u /* implicit stack access (push/pop/call/ret/enter/leave) */

/* Decode outcomes other than a good instruction. */
enum DecodeStatus {
    DECODE_OK = 0,
    DECODE_NEED_MORE, /* the bytes ran out: fetch more and call again */
    DECODE_TOO_LONG,  /* longer than 15 bytes: #GP(0) */
};

#define REP_NONE 0
#define REP_F3   1 /* REP / REPE */
#define REP_F2   2 /* REPNE */

#define REG_NONE 0xff
/* Insn.base of a RIP-relative operand (64-bit mode, ModRM mod 0 r/m 5):
 * the effective address is next RIP + disp. */
#define INSN_BASE_RIP 0xfe
/*
 * Byte registers (operand size 1): 0-3 are AL..BL and 4-7 AH..BH, as in
 * 32-bit code; with a REX prefix 8-15 are R8B..R15B and SPL, BPL, SIL, DIL
 * are REG_BYTE_REX + 4..7, so reg & 15 names the register whose low byte
 * it is whenever reg is not 4..7 (SDM Vol.2 3.7.2.1 / Table 3-1).
 */
#define REG_BYTE_REX 16

/* What the code segment says about the default sizes: CS.D clear (16),
 * set (32), or CS.L set under EFER.LMA (64-bit mode; SDM Vol.3 5.2.1). */
enum DecodeMode { DECODE_16 = 0, DECODE_32 = 1, DECODE_64 = 2 };

/* REX bits (SDM Vol.2 2.2.1.2); Insn.rex is 0 when there was none. */
#define INSN_REX_B 0x01
#define INSN_REX_X 0x02
#define INSN_REX_R 0x04
#define INSN_REX_W 0x08

typedef struct Insn {
    uint16_t op;        /* enum InsnOp; OP_UD for invalid encodings (raise #UD) */
    uint16_t flags;     /* INSN_F_* */
    uint8_t len;        /* total length in bytes, prefixes included */
    uint8_t opsize;     /* 2, 4 or 8: operand size after 66h and REX.W */
    uint8_t adsize;     /* 2, 4 or 8: address size after 67h */
    uint8_t seg;        /* segment of the memory operand (override or default) */
    uint8_t seg_override; /* SEG_NONE or the prefix's segment */
    uint8_t rep;        /* REP_NONE, REP_F3, REP_F2 */
    uint8_t lock;       /* LOCK prefix present */
    uint8_t opmap;      /* 0: one-byte map, 1: 0F map, 2: 0F 38 map, 3: 0F 3A map */
    uint8_t opcode;     /* opcode byte within its map */
    uint8_t cond;       /* condition code 0..15 for INSN_F_COND */
    uint8_t has_modrm;
    uint8_t modrm;      /* raw ModRM */
    uint8_t mod, reg, rm; /* its fields */
    uint8_t base;       /* memory operand base register or REG_NONE */
    uint8_t index;      /* index register or REG_NONE */
    uint8_t scale;      /* index shift 0..3 */
    uint8_t nopnds;     /* operands in use */
    uint8_t prefix_len; /* bytes of prefixes (REX included) */
    uint8_t rex;        /* the REX prefix (0x40-0x4f) in 64-bit mode, else 0 */
    int32_t disp;       /* displacement (sign-extended) */
    uint32_t imm;       /* first immediate / relative displacement / far offset */
    uint32_t hi;        /* bits 63..32 of the first immediate (sign bits of Iz/Ib at
                         * operand size 8, MOV r64, imm64) or of a moffs64 address */
    uint32_t imm2;      /* second immediate (ENTER level) / far selector */
    Operand opnd[3];    /* destination first, as in Intel syntax */
} Insn;

/*
 * Decode one instruction from bytes[0..avail).  mode: 16-bit, 32-bit (CS.D)
 * or 64-bit code; decode_insn() takes CS.D as a bool.  Returns DECODE_OK and fills *insn, or
 * DECODE_NEED_MORE when avail bytes do not hold a whole instruction (avail >= 15 never needs more),
 * or DECODE_TOO_LONG.  Invalid encodings return DECODE_OK with op == OP_UD.
 */
int decode_insn_mode(Insn *insn, const uint8_t *bytes, int avail, enum DecodeMode mode);

static inline int decode_insn(Insn *insn, const uint8_t *bytes, int avail, bool code32)
{
    return decode_insn_mode(insn, bytes, avail, code32 ? DECODE_32 : DECODE_16);
}

/* The first immediate at full width (64-bit operand size). */
static inline uint64_t insn_imm64(const Insn *insn)
{
    return (uint64_t)insn->hi << 32 | insn->imm;
}

/*
 * Instruction forms, for counting what runs where (the translator's callout
 * census in `info jit`): the operation, its operand size (8, 16, 32 or 64
 * bits), whether it has a memory operand, a REP prefix, or a byte
 * register AH..BH; x87 escapes by opcode, ModRM reg and memory or not.
 */
#define INSN_FORM_VARIANTS 32
#define INSN_FORM_FPU (OP_COUNT * INSN_FORM_VARIANTS)
#define INSN_FORMS (INSN_FORM_FPU + 8 * 8 * 2)
int insn_form(const struct Insn *insn);
/* "PUSH m32", "MOVS rep8", "ADD r8hi", "x87 DC/1 m"... (snprintf rules). */
int insn_form_name(int form, char *buf, size_t len);

/* Whether the instruction has a memory operand from ModRM (mod != 3). */
static inline bool insn_has_modrm_mem(const Insn *insn)
{
    return insn->has_modrm && insn->mod != 3;
}

#endif /* CPU_DECODE_H */
