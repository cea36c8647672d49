/*
 * x86-64 instruction encoding (SDM Vol.2 2.1-2.2: prefixes, REX, ModRM,
 * SIB, displacement).  See emit_x86_64.h.
 *
 * ModRM bytes are written as octal-like field triples in the comments
 * (mod, reg, rm) because that is how the hardware reads them.
 */
#include <string.h>

#include "translator/emit_x86_64.h"

void emit_init(Emit *e, uint8_t *rw, size_t size, intptr_t rx_delta)
{
    e->p = rw;
    e->end = rw + size;
    e->rx_delta = rx_delta;
    e->overflow = false;
}

void emit_u8(Emit *e, uint8_t v)
{
    if (e->p >= e->end) {
        e->overflow = true;
        return;
    }
    *e->p++ = v;
}

void emit_u16(Emit *e, uint16_t v)
{
    emit_u8(e, (uint8_t)v);
    emit_u8(e, (uint8_t)(v >> 8));
}

void emit_u32(Emit *e, uint32_t v)
{
    emit_u16(e, (uint16_t)v);
    emit_u16(e, (uint16_t)(v >> 16));
}

void emit_u64(Emit *e, uint64_t v)
{
    emit_u32(e, (uint32_t)v);
    emit_u32(e, (uint32_t)(v >> 32));
}

void emit_bytes(Emit *e, const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        emit_u8(e, bytes[i]);
    }
}

static bool fits_i8(int32_t v)
{
    return v >= -128 && v <= 127;
}

/* REX bits (W R X B) for a reg field and an r/m operand. */
static unsigned rex_bits(unsigned flags, int reg, const HostRM *rm)
{
    unsigned rex = 0;
    if (flags & EMIT_W) {
        rex |= 8;
    }
    if (reg >= 8) {
        rex |= 4;
    }
    if (rm->is_mem) {
        if (rm->index >= 8) {
            rex |= 2;
        }
        if (rm->base >= 8) {
            rex |= 1;
        }
    } else if (rm->reg >= 8) {
        rex |= 1;
    }
    return rex;
}

bool emit_needs_rex(unsigned flags, int reg, const HostRM *rm)
{
    return rex_bits(flags, reg, rm) != 0 || (flags & EMIT_BYTE_X);
}

/* ModRM, SIB and displacement for reg field and r/m operand (SDM Vol.2 Tables 2-2, 2-3). */
static void emit_modrm_tail(Emit *e, int reg, const HostRM *rm)
{
    unsigned r = (unsigned)reg & 7;
    if (!rm->is_mem) {
        emit_u8(e, (uint8_t)(0xc0 | r << 3 | ((unsigned)rm->reg & 7))); /* mod=3 */
        return;
    }
    if (rm->base == H_RIP) {
        emit_u8(e, (uint8_t)(r << 3 | 5)); /* mod=0 rm=5: [rip + disp32] */
        const uint8_t *next = emit_rx(e) + 4;
        emit_u32(e, (uint32_t)(int32_t)(rm->rip_target - next));
        return;
    }
    if (rm->base == H_NONE) {
        /* [index*s + disp32] or [disp32]: SIB with base=5 and mod=0 */
        unsigned idx = rm->index == H_NONE ? 4 : ((unsigned)rm->index & 7);
        emit_u8(e, (uint8_t)(r << 3 | 4));
        emit_u8(e, (uint8_t)((unsigned)rm->scale << 6 | idx << 3 | 5));
        emit_u32(e, (uint32_t)rm->disp);
        return;
    }
    unsigned base = (unsigned)rm->base & 7;
    unsigned mod = 2;
    if (rm->disp == 0 && base != 5) {
        mod = 0; /* rbp/r13 as base always need a displacement */
    } else if (fits_i8(rm->disp)) {
        mod = 1;
    }
    if (rm->index != H_NONE || base == 4) {
        unsigned idx = rm->index == H_NONE ? 4 : ((unsigned)rm->index & 7);
        emit_u8(e, (uint8_t)(mod << 6 | r << 3 | 4));
        emit_u8(e, (uint8_t)((unsigned)rm->scale << 6 | idx << 3 | base));
    } else {
        emit_u8(e, (uint8_t)(mod << 6 | r << 3 | base));
    }
    if (mod == 1) {
        emit_u8(e, (uint8_t)rm->disp);
    } else if (mod == 2) {
        emit_u32(e, (uint32_t)rm->disp);
    }
}

static void emit_opcode(Emit *e, unsigned opcode)
{
    if (opcode & OPC_0F) {
        emit_u8(e, 0x0f);
    }
    emit_u8(e, (uint8_t)opcode);
}

static void emit_prefixes(Emit *e, unsigned flags, unsigned rex)
{
    if (flags & EMIT_66) {
        emit_u8(e, 0x66);
    }
    if (rex || (flags & EMIT_BYTE_X)) {
        if (flags & EMIT_BYTE_H) {
            e->overflow = true; /* AH-BH cannot be encoded with REX: a generator bug */
        }
        emit_u8(e, (uint8_t)(0x40 | rex));
    }
}

void emit_rm(Emit *e, unsigned flags, unsigned opcode, int reg, const HostRM *rm)
{
    emit_prefixes(e, flags, rex_bits(flags, reg, rm));
    emit_opcode(e, opcode);
    emit_modrm_tail(e, reg, rm);
}

void emit_opreg(Emit *e, unsigned flags, unsigned opcode, int reg)
{
    HostRM rm = hrm_reg(reg);
    emit_prefixes(e, flags, rex_bits(flags, 0, &rm));
    emit_opcode(e, (opcode & ~7u) | ((unsigned)reg & 7));
}

/* ---- fixed sequences ---- */

void emit_mov_r32_imm(Emit *e, int reg, uint32_t imm)
{
    emit_opreg(e, 0, OPC_MOV_ZvIv, reg); /* mov r32, imm32 */
    emit_u32(e, imm);
}

void emit_mov_r64_imm(Emit *e, int reg, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        emit_mov_r32_imm(e, reg, (uint32_t)imm); /* mov r32, imm32 zero-extends */
        return;
    }
    if ((uint64_t)(int64_t)(int32_t)imm == imm) {
        HostRM rm = hrm_reg(reg);
        emit_rm(e, EMIT_W, OPC_MOV_EvIz, 0, &rm); /* mov r64, simm32 (a kernel address) */
        emit_u32(e, (uint32_t)imm);
        return;
    }
    emit_opreg(e, EMIT_W, OPC_MOV_ZvIv, reg); /* mov r64, imm64 */
    emit_u64(e, imm);
}

void emit_mov_rr32(Emit *e, int dst, int src)
{
    HostRM rm = hrm_reg(dst);
    emit_rm(e, 0, OPC_MOV_EvGv, src, &rm); /* mov dst32, src32 */
}

void emit_mov_rr64(Emit *e, int dst, int src)
{
    HostRM rm = hrm_reg(dst);
    emit_rm(e, EMIT_W, OPC_MOV_EvGv, src, &rm); /* mov dst, src */
}

void emit_load32(Emit *e, int dst, int base, int32_t disp)
{
    HostRM m = hrm_mem(base, disp);
    emit_rm(e, 0, OPC_MOV_GvEv, dst, &m); /* mov dst32, [base+disp] */
}

void emit_load64(Emit *e, int dst, int base, int32_t disp)
{
    HostRM m = hrm_mem(base, disp);
    emit_rm(e, EMIT_W, OPC_MOV_GvEv, dst, &m); /* mov dst, [base+disp] */
}

void emit_store32(Emit *e, int base, int32_t disp, int src)
{
    HostRM m = hrm_mem(base, disp);
    emit_rm(e, 0, OPC_MOV_EvGv, src, &m); /* mov [base+disp], src32 */
}

void emit_store64(Emit *e, int base, int32_t disp, int src)
{
    HostRM m = hrm_mem(base, disp);
    emit_rm(e, EMIT_W, OPC_MOV_EvGv, src, &m); /* mov [base+disp], src */
}

void emit_store32_imm(Emit *e, int base, int32_t disp, uint32_t imm)
{
    HostRM m = hrm_mem(base, disp);
    emit_rm(e, 0, OPC_MOV_EvIz, 0, &m); /* mov dword [base+disp], imm32 */
    emit_u32(e, imm);
}

void emit_lea32(Emit *e, int dst, const HostRM *m)
{
    emit_rm(e, 0, OPC_LEA_GvM, dst, m); /* lea dst32, [m]: wraps at 2^32 */
}

void emit_lea64(Emit *e, int dst, const HostRM *m)
{
    emit_rm(e, EMIT_W, OPC_LEA_GvM, dst, m); /* lea dst, [m] */
}

static void emit_alu_imm(Emit *e, unsigned flags, int ext, const HostRM *rm, int32_t imm)
{
    if (fits_i8(imm)) {
        emit_rm(e, flags, OPC_GRP1_EvIb, ext, rm); /* op r/m, simm8 */
        emit_u8(e, (uint8_t)imm);
    } else {
        emit_rm(e, flags, OPC_GRP1_EvIz, ext, rm); /* op r/m, imm32 */
        emit_u32(e, (uint32_t)imm);
    }
}

void emit_alu32_imm(Emit *e, int ext, const HostRM *rm, int32_t imm)
{
    emit_alu_imm(e, 0, ext, rm, imm);
}

void emit_alu64_imm(Emit *e, int ext, const HostRM *rm, int32_t imm)
{
    emit_alu_imm(e, EMIT_W, ext, rm, imm);
}

void emit_shift32_imm(Emit *e, int ext, int reg, uint8_t count)
{
    HostRM rm = hrm_reg(reg);
    emit_rm(e, 0, OPC_GRP2_EvIb, ext, &rm); /* shl/shr/sar r32, imm8 */
    emit_u8(e, count);
}

void emit_cmp8_imm(Emit *e, const HostRM *rm, uint8_t imm)
{
    emit_rm(e, 0, OPC_GRP1_EbIb, EXT_CMP, rm); /* cmp byte [..], imm8 */
    emit_u8(e, imm);
}

void emit_movzx16(Emit *e, int dst, int src)
{
    HostRM rm = hrm_reg(src);
    emit_rm(e, 0, OPC_MOVZX_GvEw, dst, &rm); /* movzx dst32, src16 */
}

void emit_patch_rel32(uint8_t *field, intptr_t rx_delta, const uint8_t *rx_target)
{
    const uint8_t *next = field + rx_delta + 4;
    int32_t rel = (int32_t)(rx_target - next);
    memcpy(field, &rel, 4);
}

static uint8_t *emit_rel32(Emit *e, const uint8_t *rx_target)
{
    uint8_t *field = e->p;
    emit_u32(e, 0);
    if (rx_target && !e->overflow) {
        emit_patch_rel32(field, e->rx_delta, rx_target);
    }
    return field;
}

uint8_t *emit_jmp32(Emit *e, const uint8_t *rx_target)
{
    emit_u8(e, OPC_JMP_Jz); /* jmp rel32 */
    return emit_rel32(e, rx_target);
}

uint8_t *emit_jcc32(Emit *e, int cc, const uint8_t *rx_target)
{
    emit_opcode(e, OPC_JCC_Jz + (unsigned)cc); /* jcc rel32 */
    return emit_rel32(e, rx_target);
}

uint8_t *emit_call32(Emit *e, const uint8_t *rx_target)
{
    emit_u8(e, OPC_CALL_Jz); /* call rel32 */
    return emit_rel32(e, rx_target);
}

uint8_t *emit_jcc8(Emit *e, int cc)
{
    emit_u8(e, (uint8_t)(OPC_JCC_Jb + cc)); /* jcc rel8 */
    uint8_t *field = e->p;
    emit_u8(e, 0);
    return field;
}

void emit_jmp_mem(Emit *e, const HostRM *m)
{
    emit_rm(e, 0, OPC_GRP5_Ev, EXT_JMP_EV, m); /* jmp qword [m] (64-bit by default) */
}

void emit_call_mem(Emit *e, const HostRM *m)
{
    emit_rm(e, 0, OPC_GRP5_Ev, EXT_CALL_EV, m); /* call qword [m] */
}

bool emit_bind8(Emit *e, uint8_t *field)
{
    if (e->overflow) {
        return true;
    }
    intptr_t rel = e->p - (field + 1);
    if (rel < -128 || rel > 127) {
        e->overflow = true;
        return false;
    }
    *field = (uint8_t)(int8_t)rel;
    return true;
}

void emit_bind32(Emit *e, uint8_t *field)
{
    if (!e->overflow) {
        emit_patch_rel32(field, e->rx_delta, emit_rx(e));
    }
}
