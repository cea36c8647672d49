/*
 * The MMX/SSE operations that only move bits: loads, stores and register
 * moves, and the shuffles, inserts and byte shifts that take an imm8.
 * Nothing here rounds or raises a floating-point exception, so C is as
 * exact as the host instruction would be, and a host instruction with an
 * immediate would need one copy per imm8 value.  Lane layouts from SDM
 * Vol.2 (PSHUFD, SHUFPS, PALIGNR, ...).
 */
#include <string.h>

#include "cpu/simd.h"

void simd_emms(SimdIO *io)
{
    (void)io; /* cpu/ops_simd.c empties the tags */
}

void simd_maskmov(SimdIO *io)
{
    (void)io; /* cpu/ops_simd.c stores the selected bytes */
}

/* MOVD: the low dword, zero-extended into an MMX or XMM register; to a
 * 32-bit register or memory, d.d[0] is what is written. */
void simd_movd(SimdIO *io)
{
    io->d.q[0] = io->s.d[0];
    io->d.q[1] = 0;
}

/* MOVQ (all forms), MOVQ2DQ, MOVDQ2Q, MOVNTQ: the low quadword, the rest of
 * an XMM destination zeroed. */
void simd_movq(SimdIO *io)
{
    io->d.q[0] = io->s.q[0];
    io->d.q[1] = 0;
}

void simd_copy16(SimdIO *io)
{
    io->d = io->s;
}

/* MOVSS: register to register keeps the destination's upper dwords; the
 * load form is zeroed first (SF_ZMEM). */
void simd_copy_lo32(SimdIO *io)
{
    io->d.d[0] = io->s.d[0];
}

/* MOVSD, MOVLPS, MOVLPD (both directions). */
void simd_copy_lo64(SimdIO *io)
{
    io->d.q[0] = io->s.q[0];
}

void simd_movhlps(SimdIO *io)
{
    io->d.q[0] = io->s.q[1];
}

/* MOVHPS/MOVHPD: a load fills the high quadword; a store writes the high
 * quadword to memory.  MOVLHPS is the register form of the load. */
void simd_movhp(SimdIO *io)
{
    if (io->store) {
        io->d.q[0] = io->s.q[1];
    } else {
        io->d.q[1] = io->s.q[0];
    }
}

void simd_pshufw(SimdIO *io)
{
    SimdReg r = io->d;
    for (int i = 0; i < 4; i++) {
        r.w[i] = io->s.w[(io->imm >> (2 * i)) & 3];
    }
    io->d = r;
}

void simd_pshufd(SimdIO *io)
{
    SimdReg r;
    for (int i = 0; i < 4; i++) {
        r.d[i] = io->s.d[(io->imm >> (2 * i)) & 3];
    }
    io->d = r;
}

void simd_pshufhw(SimdIO *io)
{
    SimdReg r = io->s;
    for (int i = 0; i < 4; i++) {
        r.w[4 + i] = io->s.w[4 + ((io->imm >> (2 * i)) & 3)];
    }
    io->d = r;
}

void simd_pshuflw(SimdIO *io)
{
    SimdReg r = io->s;
    for (int i = 0; i < 4; i++) {
        r.w[i] = io->s.w[(io->imm >> (2 * i)) & 3];
    }
    io->d = r;
}

/* SHUFPS: the low two dwords from the destination, the high two from the source. */
void simd_shufps(SimdIO *io)
{
    SimdReg r;
    r.d[0] = io->d.d[io->imm & 3];
    r.d[1] = io->d.d[(io->imm >> 2) & 3];
    r.d[2] = io->s.d[(io->imm >> 4) & 3];
    r.d[3] = io->s.d[(io->imm >> 6) & 3];
    io->d = r;
}

void simd_shufpd(SimdIO *io)
{
    SimdReg r;
    r.q[0] = io->d.q[io->imm & 1];
    r.q[1] = io->s.q[(io->imm >> 1) & 1];
    io->d = r;
}

/* PALIGNR: destination:source as one 2n-byte value, shifted right by imm8
 * bytes, the low n bytes kept (zeros shifted in past 2n). */
void simd_palignr(SimdIO *io)
{
    int n = io->mmx ? 8 : 16;
    uint8_t cat[32];
    memcpy(cat, io->s.b, (size_t)n);
    memcpy(cat + n, io->d.b, (size_t)n);
    SimdReg r = io->d;
    for (int i = 0; i < n; i++) {
        int k = i + io->imm;
        r.b[i] = k < 2 * n ? cat[k] : 0;
    }
    io->d = r;
}

/* PINSRW: the low word of the source into word imm8 mod 4 (MMX) or mod 8. */
void simd_pinsrw(SimdIO *io)
{
    int lanes = io->mmx ? 4 : 8;
    io->d.w[io->imm & (lanes - 1)] = io->s.w[0];
}

/* PEXTRW: word imm8 mod 4 or mod 8, zero-extended to the 32-bit register. */
void simd_pextrw(SimdIO *io)
{
    int lanes = io->mmx ? 4 : 8;
    io->d.d[0] = io->s.w[io->imm & (lanes - 1)];
}

/* PSRLDQ/PSLLDQ: the register named in r/m shifted by imm8 bytes (all
 * zeros past 15).  The decoder puts that register first and the imm8 in
 * the source. */
void simd_psrldq(SimdIO *io)
{
    unsigned n = (unsigned)io->s.q[0];
    SimdReg r;
    for (unsigned i = 0; i < 16; i++) {
        r.b[i] = i + n < 16 ? io->d.b[i + n] : 0;
    }
    io->d = r;
}

void simd_pslldq(SimdIO *io)
{
    unsigned n = (unsigned)io->s.q[0];
    SimdReg r;
    for (unsigned i = 0; i < 16; i++) {
        r.b[i] = i >= n ? io->d.b[i - n] : 0;
    }
    io->d = r;
}
