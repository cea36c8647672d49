/*
 * Generator internals shared by gen_core.c (state, encoding, operands,
 * undefined-flag tracking) and the per-class emitters (gen_int.c,
 * gen_flow.c, gen_x87.c).
 *
 * Every emitted instruction is either a class instruction (what the test is
 * about) or a setup instruction (MOV reg/mem, imm; CMP reg, imm) that puts
 * an operand in place: a base register so an address lands in the data
 * window, a shift count, a divisor.  Setups never fault and never read an
 * undefined flag.
 *
 * Undefined flags (SDM Vol.1 Appendix A and each instruction's "Flags
 * Affected") are tracked as a poison mask: an instruction that leaves a
 * flag undefined poisons it, one that writes it with a defined value
 * clears it, one that leaves it alone keeps it.  Before an instruction
 * that reads a poisoned flag (ADC after MUL, PUSHF, SETcc, ...) the
 * generator emits a CMP that defines all six, so an undefined value never
 * flows into a register or memory.  x87 condition codes C0-C3 get the same
 * treatment (FXAM defines all four).
 */
#ifndef TESTS_CPU_ORACLE_GEN_INTERNAL_H
#define TESTS_CPU_ORACLE_GEN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/cpu/oracle/oracle_gen.h"

/* EFLAGS arithmetic bits (SDM Vol.1 3.4.3). */
#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_DF 0x400u
#define F_OF 0x800u
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* x87 condition codes in the status word (SDM Vol.1 8.1.3). */
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

enum { G_EAX, G_ECX, G_EDX, G_EBX, G_ESP, G_EBP, G_ESI, G_EDI };

/* Regions of the data window a memory operand may be placed in. */
enum { REGION_INT, REGION_STACK, REGION_FPCONST, REGION_FPSTORE };

/* Places in the x87 constant area (offsets from ORACLE_FPCONST). */
#define FPC_F32   0x000u /* 64 x float */
#define FPC_F64   0x100u /* 64 x double */
#define FPC_F80   0x300u /* 64 x 80-bit extended, stride 10 */
#define FPC_I16   0x580u /* 32 x int16 */
#define FPC_I32   0x5c0u /* 32 x int32 */
#define FPC_I64   0x640u /* 32 x int64 */
#define FPC_BCD   0x740u /* 16 x packed BCD, stride 10 */
#define FPC_CW    0x7e0u /* 16 x control word */

typedef struct Gen {
    OracleTest *t;
    bool mode64;          /* for the 64-bit runner: subset and slots (oracle_gen.h) */
    uint64_t rng;
    uint32_t esp;         /* tracked ESP (every ESP change is generated) */
    uint32_t poison;      /* EFLAGS bits currently undefined */
    uint16_t fpoison;     /* x87 C0-C3 currently undefined */
    int cls;              /* class of the instruction being emitted */
    int cur;              /* index of the open instruction, -1 when none */
    uint32_t seg_base[6]; /* ES CS SS DS FS GS bases as the test sets them */
    int fdepth;           /* x87 loads so far, to start sequences with operands */
    bool mmx_ready;       /* the MMX registers were loaded (gen_simd.c) */
} Gen;

/* A memory operand: the encoding gen_mem chose and set registers up for. */
typedef struct MemRef {
    uint8_t seg_prefix; /* 0 or 26/2E/36/3E/64; in mode64 always the slot (3E) */
    bool addr16;        /* needs 67h */
    uint8_t modrm;      /* mod and rm fields; reg is ORed in by the emitter */
    bool has_sib;
    uint8_t sib;
    uint8_t disp[4];
    int disp_len;
    uint32_t linear;    /* the address the access starts at */
} MemRef;

/* An r/m operand: a register (mod 11) or memory. */
typedef struct Rm {
    bool mem;
    int reg;
    MemRef m;
} Rm;

/* ---- random numbers ---- */
uint32_t gen_rand(Gen *g);
uint32_t gen_below(Gen *g, uint32_t n);
bool gen_chance(Gen *g, uint32_t percent);
/* A value biased to the edges (0, 1, -1, sign boundaries) of a size in bytes. */
uint32_t gen_value(Gen *g, int size);
/* A register that may be written at the given size (never ESP/SP). */
int gen_dst_reg(Gen *g, int size, uint32_t avoid_mask);
/* Any register (reads may use ESP). */
int gen_any_reg(Gen *g, uint32_t avoid_mask);

/* ---- emitting ---- */
void gen_begin(Gen *g, bool setup);
void gen_byte(Gen *g, uint8_t b);
void gen_u16(Gen *g, uint16_t v);
void gen_u32(Gen *g, uint32_t v);
/* Close the open instruction: flags it writes defined, flags it leaves undefined. */
void gen_end(Gen *g, uint32_t defined, uint32_t undefined);
/* Same for x87 condition codes. */
void gen_end_fpu(Gen *g, uint16_t defined, uint16_t undefined);
/* Emit a CMP first if any flag in reads is undefined. */
void gen_need_flags(Gen *g, uint32_t reads);
/* Emit FXAM first if any of the x87 condition codes in reads is undefined. */
void gen_need_fsw(Gen *g, uint16_t reads);
/* In mode64, the address-size slot of the open instruction (else nothing). */
void gen_addr_slot(Gen *g);
/* ModRM (with reg) and disp32 for an absolute address: mod 00 rm 101,
 * which in 64-bit mode is RIP-relative, so there ModRM rm 100 with a SIB
 * of no base and no index instead (SDM Vol.2 2.2.1.6). */
void gen_abs_modrm(Gen *g, int reg, uint32_t linear);
/* Room left for more instructions? */
bool gen_room(const Gen *g);

/* ---- setup instructions ---- */
void gen_set_reg(Gen *g, int reg, uint32_t value);
void gen_set_mem(Gen *g, uint32_t linear, uint32_t value, int size);

/* ---- operands ---- */
/* A memory operand for an access of size bytes in region, placed (with
 * base/index setups) by a random addressing form; registers in avoid are
 * left alone.  esp_adjust: what ESP will be when the address is computed
 * (POP m computes it after the increment). */
void gen_mem(Gen *g, MemRef *m, int size, int region, uint32_t avoid, int32_t esp_adjust);
/* The same, at a fixed linear address. */
void gen_mem_at(Gen *g, MemRef *m, uint32_t linear, uint32_t avoid);
/* Random r/m: register (never written ESP if dst) or memory. */
void gen_rm(Gen *g, Rm *rm, int size, bool dst, uint32_t avoid, int mem_percent);
/* A linear address in region with room for size bytes (and a margin). */
uint32_t gen_target(Gen *g, int region, int size);

/*
 * Emit one ModRM instruction: prefixes (each 0 = none; opsize16 adds 66h,
 * lock F0h, rep F2h/F3h), the opcode bytes, ModRM with reg, then imm.
 * Memory operand prefixes (segment, 67h) come from rm.  Prefix order is
 * shuffled: the decoder must accept any order (SDM Vol.2 2.1.1).  In
 * mode64 a seg of ORACLE_SLOT_PREFIX is the address-size slot.
 */
void gen_modrm(Gen *g, bool opsize16, uint8_t lock, uint8_t rep, const uint8_t *op, int oplen,
               int reg, const Rm *rm, uint32_t imm, int imm_len);
/* Prefixes only (for instructions without ModRM). */
void gen_prefixes(Gen *g, bool opsize16, uint8_t lock, uint8_t rep, uint8_t seg, bool addr16);

/* ---- class emitters: each emits one class instruction with its setups ---- */
void gen_alu(Gen *g);
void gen_shift(Gen *g);
void gen_shxd(Gen *g);
void gen_muldiv(Gen *g);
void gen_bcd(Gen *g);
void gen_bit(Gen *g);
void gen_cond(Gen *g);
void gen_misc(Gen *g);
void gen_string(Gen *g);
void gen_stack(Gen *g);
void gen_branch(Gen *g);
void gen_x87(Gen *g);
void gen_fault(Gen *g);
void gen_simd(Gen *g);
/* The initial XMM registers, MXCSR and MMX/SSE constant area. */
void gen_simd_state(Gen *g);
/* Fill the x87 constant area of the data window. */
void gen_fp_constants(Gen *g);

/* The instructions of a long-mode test (gen_lm64.c), initial state included. */
void oracle_generate_long(Gen *g);

/* EFLAGS bits condition cc (Jcc numbering) reads. */
uint32_t gen_cc_reads(int cc);
/* Size in bytes from a random pick of 1, 2 or 4. */
int gen_size(Gen *g);

#endif /* TESTS_CPU_ORACLE_GEN_INTERNAL_H */
