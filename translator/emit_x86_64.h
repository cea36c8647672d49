/*
 * The x86-64 host code emitter.
 *
 * A thin layer over the instruction encoding (SDM Vol.2 chapter 2): legacy
 * prefixes, REX, opcode, ModRM, SIB, displacement and immediate.  Opcodes
 * are named in Intel operand notation (OPC_MOV_EvGv) and carry their map in
 * bit 8 (OPC_0F), so the generator can also re-emit a guest opcode byte as
 * it stands.  Every emitter that produces a fixed sequence says in a comment
 * which assembly it emits.
 *
 * Code is written through the cache's writable mapping and runs from its
 * executable one (translator/cache.c); Emit.rx_delta converts one address
 * to the other for RIP-relative operands and branch displacements.
 */
#ifndef TRANSLATOR_EMIT_X86_64_H
#define TRANSLATOR_EMIT_X86_64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Host registers in encoding order. */
enum HostReg {
    H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
    H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15,
    H_NONE = -1,
    H_RIP = -2, /* base of a RIP-relative memory operand */
};

/* Opcodes: the byte, with OPC_0F for the two-byte map. */
#define OPC_0F 0x100u
enum HostOpcode {
    OPC_ADD_EvGv = 0x01,
    OPC_OR_EvGv = 0x09,
    OPC_AND_EvGv = 0x21,
    OPC_SUB_EvGv = 0x29,
    OPC_XOR_EvGv = 0x31,
    OPC_CMP_EvGv = 0x39,
    OPC_CMP_GvEv = 0x3b,
    OPC_JCC_Jb = 0x70,       /* + condition */
    OPC_GRP1_EbIb = 0x80,
    OPC_GRP1_EvIz = 0x81,
    OPC_GRP1_EvIb = 0x83,    /* sign-extended imm8 */
    OPC_TEST_EvGv = 0x85,
    OPC_XCHG_EvGv = 0x87,
    OPC_MOV_EbGb = 0x88,
    OPC_MOV_EvGv = 0x89,
    OPC_MOV_GbEb = 0x8a,
    OPC_MOV_GvEv = 0x8b,
    OPC_LEA_GvM = 0x8d,
    OPC_SAHF = 0x9e,
    OPC_LAHF = 0x9f,
    OPC_MOV_ZvIv = 0xb8,     /* + register */
    OPC_GRP2_EvIb = 0xc1,
    OPC_RET = 0xc3,
    OPC_MOV_EbIb = 0xc6,
    OPC_MOV_EvIz = 0xc7,
    OPC_LOOP_Jb = 0xe2,
    OPC_JRCXZ_Jb = 0xe3,
    OPC_CALL_Jz = 0xe8,
    OPC_JMP_Jz = 0xe9,
    OPC_JMP_Jb = 0xeb,
    OPC_GRP3_Eb = 0xf6,      /* /0 test r/m8, imm8 */
    OPC_GRP3_Ev = 0xf7,
    OPC_GRP5_Ev = 0xff,      /* /2 call, /4 jmp, /6 push */
    OPC_JCC_Jz = OPC_0F | 0x80, /* + condition */
    OPC_SETCC_Eb = OPC_0F | 0x90, /* + condition */
    OPC_MOVZX_GvEb = OPC_0F | 0xb6,
    OPC_MOVZX_GvEw = OPC_0F | 0xb7,
    OPC_BSWAP_Zd = OPC_0F | 0xc8,
};

/* Group opcode extensions (the ModRM reg field). */
enum { EXT_ADD = 0, EXT_OR = 1, EXT_ADC = 2, EXT_SBB = 3, EXT_AND = 4, EXT_SUB = 5,
       EXT_XOR = 6, EXT_CMP = 7 };
enum { EXT_SHL = 4, EXT_SHR = 5, EXT_SAR = 7 };
enum { EXT_NOT = 2, EXT_NEG = 3, EXT_DIV = 6, EXT_IDIV = 7 };
enum { EXT_CALL_EV = 2, EXT_JMP_EV = 4 };

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
       CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

/* Encoding options for emit_rm(). */
#define EMIT_W      0x01u /* REX.W: 64-bit operand */
#define EMIT_66     0x02u /* operand-size prefix: 16-bit operand */
#define EMIT_BYTE_H 0x04u /* byte registers 4-7 are AH CH DH BH: no REX allowed */
#define EMIT_BYTE_X 0x08u /* byte registers 4-7 are SPL BPL SIL DIL: REX required */

/* A ModRM r/m operand: a register, or memory at [base + index*2^scale + disp]. */
typedef struct HostRM {
    bool is_mem;
    int8_t reg;   /* register operand */
    int8_t base;  /* H_NONE: absolute disp32; H_RIP: RIP-relative (disp filled by emit) */
    int8_t index; /* H_NONE: no index */
    uint8_t scale;
    int32_t disp;
    const uint8_t *rip_target; /* H_RIP: the RX address the operand refers to */
} HostRM;

typedef struct Emit {
    uint8_t *p;         /* next byte, in the writable mapping */
    uint8_t *end;       /* end of the space this emitter may fill */
    intptr_t rx_delta;  /* executable address = writable address + rx_delta */
    bool overflow;      /* ran out of space: the output is incomplete */
} Emit;

static inline HostRM hrm_reg(int reg)
{
    return (HostRM){.is_mem = false, .reg = (int8_t)reg, .base = H_NONE, .index = H_NONE};
}

static inline HostRM hrm_mem(int base, int32_t disp)
{
    return (HostRM){.is_mem = true, .reg = H_NONE, .base = (int8_t)base, .index = H_NONE,
                    .disp = disp};
}

static inline HostRM hrm_sib(int base, int index, int scale, int32_t disp)
{
    return (HostRM){.is_mem = true, .reg = H_NONE, .base = (int8_t)base, .index = (int8_t)index,
                    .scale = (uint8_t)scale, .disp = disp};
}

static inline HostRM hrm_rip(const uint8_t *rx_target)
{
    return (HostRM){.is_mem = true, .reg = H_NONE, .base = H_RIP, .index = H_NONE,
                    .rip_target = rx_target};
}

/* The executable address of the next byte. */
static inline const uint8_t *emit_rx(const Emit *e)
{
    return e->p + e->rx_delta;
}

void emit_init(Emit *e, uint8_t *rw, size_t size, intptr_t rx_delta);
void emit_u8(Emit *e, uint8_t v);
void emit_u16(Emit *e, uint16_t v);
void emit_u32(Emit *e, uint32_t v);
void emit_u64(Emit *e, uint64_t v);
void emit_bytes(Emit *e, const uint8_t *bytes, size_t len);

/* Whether (flags, reg field, rm) needs a REX prefix (then byte registers 4-7
 * cannot mean AH-BH). */
bool emit_needs_rex(unsigned flags, int reg, const HostRM *rm);

/* The general form: [66] [REX] opcode ModRM [SIB] [disp].  reg is a
 * register number or a group extension; immediates follow with emit_u*. */
void emit_rm(Emit *e, unsigned flags, unsigned opcode, int reg, const HostRM *rm);
/* An opcode with the register in its low three bits (B8+r, C8+r). */
void emit_opreg(Emit *e, unsigned flags, unsigned opcode, int reg);

/* ---- fixed sequences the generator uses ---- */
void emit_mov_r32_imm(Emit *e, int reg, uint32_t imm);       /* mov r32, imm32 */
void emit_mov_r64_imm(Emit *e, int reg, uint64_t imm);       /* mov r64, imm64 (or shorter) */
void emit_mov_rr32(Emit *e, int dst, int src);                /* mov dst32, src32 */
void emit_mov_rr64(Emit *e, int dst, int src);                /* mov dst, src */
void emit_load32(Emit *e, int dst, int base, int32_t disp);   /* mov dst32, [base+disp] */
void emit_load64(Emit *e, int dst, int base, int32_t disp);   /* mov dst, [base+disp] */
void emit_store32(Emit *e, int base, int32_t disp, int src);  /* mov [base+disp], src32 */
void emit_store64(Emit *e, int base, int32_t disp, int src);  /* mov [base+disp], src */
void emit_store32_imm(Emit *e, int base, int32_t disp, uint32_t imm); /* mov dword [..], imm32 */
void emit_lea32(Emit *e, int dst, const HostRM *m);           /* lea dst32, [m] */
void emit_lea64(Emit *e, int dst, const HostRM *m);           /* lea dst, [m] */
void emit_alu32_imm(Emit *e, int ext, const HostRM *rm, int32_t imm); /* op r/m32, imm */
void emit_alu64_imm(Emit *e, int ext, const HostRM *rm, int32_t imm); /* op r/m64, imm */
void emit_shift32_imm(Emit *e, int ext, int reg, uint8_t count); /* shl/shr/sar r32, imm8 */
void emit_cmp8_imm(Emit *e, const HostRM *rm, uint8_t imm);   /* cmp byte [..], imm8 */
void emit_movzx16(Emit *e, int dst, int src);                 /* movzx dst32, src16 */

/* Branches: return the writable address of the rel32 (or rel8) field so it
 * can be bound or patched later; a NULL target leaves it to be bound. */
uint8_t *emit_jmp32(Emit *e, const uint8_t *rx_target);       /* jmp rel32 */
uint8_t *emit_jcc32(Emit *e, int cc, const uint8_t *rx_target); /* jcc rel32 */
uint8_t *emit_call32(Emit *e, const uint8_t *rx_target);      /* call rel32 */
uint8_t *emit_jcc8(Emit *e, int cc);                          /* jcc rel8 (bind later) */
void emit_jmp_mem(Emit *e, const HostRM *m);                  /* jmp qword [m] */
void emit_call_mem(Emit *e, const HostRM *m);                 /* call qword [m] */
/* Point a rel32 field (writable address) at an executable address. */
void emit_patch_rel32(uint8_t *field, intptr_t rx_delta, const uint8_t *rx_target);
/* Point a rel8 field at the current position; false if out of range. */
bool emit_bind8(Emit *e, uint8_t *field);
/* Point a rel32 field at the current position. */
void emit_bind32(Emit *e, uint8_t *field);

#endif /* TRANSLATOR_EMIT_X86_64_H */
