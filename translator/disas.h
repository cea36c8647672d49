/*
 * Capstone's mode for guest code, in one place: the tracer (-d exec,
 * in_asm), the monitor's x/i and the translator's block dumps (-d out_asm,
 * the lockstep report) all disassemble with it, so 64-bit code is never
 * shown as 16- or 32-bit code (REX prefixes read as INC/DEC).
 */
#ifndef TRANSLATOR_DISAS_H
#define TRANSLATOR_DISAS_H

#include <capstone/capstone.h>

#include "cpu/decode.h"

/* The capstone mode for code of a decoder mode (DECODE_16/32/64); for a
 * CPU state, pass cpu_decode_mode(cpu->hflags) (cpu/cpu.h). */
static inline cs_mode disas_cs_mode(int decode_mode)
{
    return decode_mode == DECODE_64   ? CS_MODE_64
           : decode_mode == DECODE_32 ? CS_MODE_32
                                      : CS_MODE_16;
}

#endif /* TRANSLATOR_DISAS_H */
