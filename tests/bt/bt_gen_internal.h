/*
 * The generator's internals, shared by bt_gen.c (state, encoding, memory
 * operands, flags), bt_gen_insn.c (data and ALU instruction classes) and
 * bt_gen_flow.c (control flow, segments, system instructions, stores into
 * code).
 */
#ifndef TESTS_BT_BT_GEN_INTERNAL_H
#define TESTS_BT_BT_GEN_INTERNAL_H

#include "tests/bt/bt_gen.h"

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_SZP (F_SF | F_ZF | F_PF)

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* A forward branch awaiting its target, with the state where it is taken. */
typedef struct Fwd {
    uint32_t field; /* offset of the displacement */
    bool wide;      /* rel32 (else rel8) */
    int left;       /* class instructions still to skip */
    uint32_t poison;/* undefined flags where the branch is taken */
    bool df, df_unknown, fs_ok, gs_ok; /* as in G, where the branch is taken */
} Fwd;

typedef struct G {
    BTProgram *p;
    uint64_t rng;
    uint32_t poison;
    bool df;            /* EFLAGS.DF as the program leaves it (for string setups) */
    bool df_unknown;    /* paths that joined disagree on DF: set it before relying on it */
    bool fs_ok, gs_ok;  /* FS/GS hold the special segments */
    Fwd fwd[8];
    int nfwd;
    uint32_t smc_field[4]; /* absolute-address fields of stores awaiting a target */
    int smc_byte[4];       /* byte offset into the target's imm32 (-1: dword store) */
    int nsmc;
    unsigned reserved;     /* registers gen_mem must not use for addressing */
    /* 64-bit mode (bt_gen64.c) */
    unsigned keep;         /* registers nothing may write or address through (a loop's counter) */
    int rip_field;         /* offset of a RIP-relative disp32 awaiting its instruction's end, or -1 */
    uint64_t rip_target;   /* the linear address it must reach */
} G;

typedef struct Mem {
    uint8_t prefix[2];
    int nprefix;
    uint8_t mod_rm;    /* mod and rm bits of ModRM */
    bool has_sib;
    uint8_t sib;
    uint8_t disp[4];
    int ndisp;
    bool may_fault;
} Mem;

uint64_t btg_rnd64(G *g);
uint32_t btg_rnd(G *g, uint32_t n);
bool btg_chance(G *g, uint32_t one_in);
bool btg_room(const G *g);
void btg_e8(G *g, uint32_t v);
void btg_e16(G *g, uint32_t v);
void btg_e32(G *g, uint32_t v);
void btg_put32(G *g, uint32_t at, uint32_t v);
void btg_begin(G *g);
uint32_t btg_here(const G *g);
void btg_setup_reg(G *g, int r, uint32_t v);
void btg_define_flags(G *g);
void btg_flags_read(G *g, uint32_t mask);
void btg_flags_effect(G *g, uint32_t defined, uint32_t undefined);
int btg_any_reg(G *g);
int btg_addr_reg(G *g);
void btg_mem_prefixes(G *g, const Mem *m);
void btg_mem_modrm(G *g, const Mem *m, int reg);
Mem btg_gen_mem(G *g, int size, bool write);
/* aligned: a size-aligned operand (size a power of two); with faults
 * allowed, sometimes misaligned on purpose (may_fault: #GP(0) for the SSE
 * forms that require alignment). */
Mem btg_gen_mem_align(G *g, int size, bool write, bool aligned);
/* Whether programs include x87 instructions (btg_set_x87). */
bool btg_x87_on(void);
void btg_before_fault(G *g, const Mem *m);
void btg_opsize_prefix(G *g, int size);
int btg_pick_size(G *g);
int btg_dst_reg(G *g, int size);
void btg_gen_alu(G *g);
void btg_gen_unary(G *g);
void btg_gen_mov(G *g);
void btg_gen_shift(G *g);
void btg_gen_muldiv(G *g);
void btg_gen_bits(G *g);
void btg_gen_stack(G *g);
void btg_gen_string(G *g);
void btg_fwd_step(G *g);
void btg_fwd_bind(G *g, const Fwd *f);
void btg_gen_branch(G *g);
void btg_gen_segment(G *g);
void btg_gen_system(G *g);
void btg_gen_smc_store(G *g);
void btg_gen_smc_target(G *g);
void btg_gen_simd(G *g);
void btg_gen_x87(G *g);
/* The whole program of a BTG_MODE_64 configuration (bt_gen64.c), after
 * btg_generate has drawn the common fields. */
void btg_generate64(G *g);

#endif /* TESTS_BT_BT_GEN_INTERNAL_H */
