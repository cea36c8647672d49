/*
 * x87 instructions for the differential test: runs of loads, arithmetic,
 * compares, stores and stack manipulation (which the translator runs as host
 * x87 code, translator/gen_fpu.c), with what makes it leave that path in
 * between: FLDCW (unmasked exceptions, other rounding and precision),
 * FLDENV, FRSTOR, FNSTENV, FNSAVE, FNINIT, FNCLEX, FWAIT, and at ring 0
 * CR0.TS set before an x87 instruction (#NM).  The register stack is not
 * tracked: overflows and underflows (stack faults) are part of the test.
 * Random data-window bits as operands give NaNs, denormals, unnormals and
 * infinities as well as ordinary numbers.
 */
#include "tests/bt/bt_gen_internal.h"

/* A memory-form x87 instruction: escape esc, ModRM.reg reg, size bytes. */
static void x87_mem(G *g, int esc, int reg, int size, bool write)
{
    Mem m = btg_gen_mem(g, size, write);
    btg_before_fault(g, &m);
    btg_begin(g);
    btg_mem_prefixes(g, &m);
    btg_e8(g, 0xd8 + esc);
    btg_mem_modrm(g, &m, reg);
}

static void x87_reg(G *g, int esc, int modrm)
{
    btg_begin(g);
    btg_e8(g, 0xd8 + esc);
    btg_e8(g, modrm);
}

/* mov word [BTG_DATA + off], v ; then an x87 instruction reads it at the same place. */
static void x87_mem_at(G *g, int esc, int reg, uint32_t off)
{
    btg_begin(g);
    btg_e8(g, 0xd8 + esc);
    btg_e8(g, (reg << 3) | 5); /* [disp32] */
    btg_e32(g, BTG_DATA + off);
}

static void store16_at(G *g, uint32_t off, uint16_t v)
{
    btg_begin(g);
    btg_e8(g, 0x66);
    btg_e8(g, 0xc7);
    btg_e8(g, 0x05);
    btg_e32(g, BTG_DATA + off);
    btg_e16(g, v);
}

/* One instruction the translator runs natively. */
static void x87_native(G *g)
{
    int k = btg_rnd(g, 20);
    int i = btg_rnd(g, 8);
    switch (k) {
    case 0: /* FLD m32/m64/m80 */
        switch (btg_rnd(g, 3)) {
        case 0: x87_mem(g, 1, 0, 4, false); break;
        case 1: x87_mem(g, 5, 0, 8, false); break;
        default: x87_mem(g, 3, 5, 10, false); break;
        }
        break;
    case 1: /* FILD m16/m32/m64, FBLD */
        switch (btg_rnd(g, 4)) {
        case 0: x87_mem(g, 7, 0, 2, false); break;
        case 1: x87_mem(g, 3, 0, 4, false); break;
        case 2: x87_mem(g, 7, 5, 8, false); break;
        default: x87_mem(g, 7, 4, 10, false); break;
        }
        break;
    case 2: /* FLD ST(i), FLD1..FLDZ */
        x87_reg(g, 1, btg_chance(g, 2) ? 0xc0 | i : 0xe8 + (int)btg_rnd(g, 7));
        break;
    case 3: /* FST/FSTP m32/m64, FSTP m80 */
        switch (btg_rnd(g, 3)) {
        case 0: x87_mem(g, 1, 2 + btg_rnd(g, 2), 4, true); break;
        case 1: x87_mem(g, 5, 2 + btg_rnd(g, 2), 8, true); break;
        default: x87_mem(g, 3, 7, 10, true); break;
        }
        break;
    case 4: /* FIST/FISTP m16/m32, FISTP m64, FBSTP */
        switch (btg_rnd(g, 4)) {
        case 0: x87_mem(g, 7, 2 + btg_rnd(g, 2), 2, true); break;
        case 1: x87_mem(g, 3, 2 + btg_rnd(g, 2), 4, true); break;
        case 2: x87_mem(g, 7, 7, 8, true); break;
        default: x87_mem(g, 7, 6, 10, true); break;
        }
        break;
    case 5:
    case 6: /* arithmetic and compares with a memory operand: m32, m64, m32int, m16int */
    {
        static const int esc_of[4] = {0, 4, 2, 6};
        static const int size_of[4] = {4, 8, 4, 2};
        int f = btg_rnd(g, 4);
        x87_mem(g, esc_of[f], btg_rnd(g, 8), size_of[f], false);
        break;
    }
    case 7:
    case 8: /* D8: ST(0) op ST(i); DC/DE: ST(i) op ST(0) [and pop] */
    {
        int esc = btg_rnd(g, 3) == 0 ? 0 : btg_chance(g, 2) ? 4 : 6;
        int op = btg_rnd(g, 8);
        if (esc != 0 && (op == 2 || op == 3)) {
            op = 0; /* not the FCOM2/FCOMP3/FCOMP5 aliases */
        }
        x87_reg(g, esc, 0xc0 | op << 3 | i);
        break;
    }
    case 9: /* FXCH, FST/FSTP ST(i), FFREE */
    {
        int f = btg_rnd(g, 4);
        x87_reg(g, f == 0 ? 1 : 5,
                f == 0   ? 0xc8 | i
                : f == 1 ? 0xd0 | i
                : f == 2 ? 0xd8 | i
                         : 0xc0 | i);
        break;
    }
    case 10: /* FCHS FABS FTST FXAM */
    {
        static const uint8_t m[4] = {0xe0, 0xe1, 0xe4, 0xe5};
        x87_reg(g, 1, m[btg_rnd(g, 4)]);
        break;
    }
    case 11: /* F2XM1 .. FCOS, FINCSTP, FDECSTP */ x87_reg(g, 1, 0xf0 + btg_rnd(g, 16)); break;
    case 12: /* FCOM/FCOMP ST(i), FUCOM/FUCOMP, FUCOMPP, FCOMPP */
    {
        int f = btg_rnd(g, 4);
        if (f == 0) {
            x87_reg(g, 0, 0xd0 | btg_rnd(g, 2) << 3 | i);
        } else if (f == 1) {
            x87_reg(g, 5, 0xe0 | btg_rnd(g, 2) << 3 | i);
        } else {
            x87_reg(g, f == 2 ? 2 : 6, f == 2 ? 0xe9 : 0xd9);
        }
        break;
    }
    case 13: /* FCOMI, FUCOMI, FCOMIP, FUCOMIP: EFLAGS */
        x87_reg(g, btg_chance(g, 2) ? 3 : 7, 0xe8 + btg_rnd(g, 16));
        btg_flags_effect(g, F_ALL, 0);
        break;
    case 14: /* FCMOVcc: reads CF, ZF, PF */
        btg_flags_read(g, F_CF | F_ZF | F_PF);
        x87_reg(g, btg_chance(g, 2) ? 2 : 3, 0xc0 + btg_rnd(g, 32));
        break;
    case 15: /* FNSTSW AX */ x87_reg(g, 7, 0xe0); break;
    case 16: /* FNSTSW m16 */ x87_mem(g, 5, 7, 2, true); break;
    case 17: /* FSQRT, FRNDINT, FSCALE, FPREM */
    {
        static const uint8_t m[4] = {0xfa, 0xfc, 0xfd, 0xf8};
        x87_reg(g, 1, m[btg_rnd(g, 4)]);
        break;
    }
    case 18: /* FNOP */ x87_reg(g, 1, 0xd0); break;
    default: /* FLDZ, FLD1: keep values flowing */
        x87_reg(g, 1, btg_chance(g, 2) ? 0xee : 0xe8);
        break;
    }
}

/* Control words: all masked with each rounding and precision, and unmasked ones. */
static uint16_t pick_fcw(G *g)
{
    static const uint16_t cw[] = {0x037f, 0x027f, 0x007f, 0x077f, 0x0b7f, 0x0f7f, 0x1f7f,
                                  0x037e, 0x037b, 0x037d, 0x0372, 0x0340, 0x0377, 0x036f};
    return cw[btg_rnd(g, sizeof(cw) / sizeof(cw[0]))];
}

/* Instructions the translator calls out (they end a native stretch), and
 * FNSTCW, native since the host's control word is the guest's. */
static void x87_control(G *g)
{
    uint32_t env = 0x3e00; /* a fixed area for environments and images (data window) */
    switch (btg_rnd(g, 9)) {
    case 0:
    case 1: /* FLDCW */
    {
        uint32_t off = 0x3f00 + 2 * btg_rnd(g, 8);
        store16_at(g, off, pick_fcw(g));
        x87_mem_at(g, 1, 5, off);
        break;
    }
    case 2: /* FNSTENV ; [change the control word in the image] ; FLDENV */
        x87_mem_at(g, 1, 6, env);
        if (btg_chance(g, 2)) {
            store16_at(g, env, pick_fcw(g));
        }
        x87_mem_at(g, 1, 4, env);
        break;
    case 3: /* FNSAVE ; FRSTOR */
        x87_mem_at(g, 5, 6, env);
        if (btg_chance(g, 2)) {
            store16_at(g, env, pick_fcw(g));
        }
        x87_mem_at(g, 5, 4, env);
        break;
    case 4: /* FNSTCW m16 */ x87_mem(g, 1, 7, 2, true); break;
    case 5: /* FNCLEX */ x87_reg(g, 3, 0xe2); break;
    case 6: /* FNINIT */ x87_reg(g, 3, 0xe3); break;
    case 7: /* FWAIT: #MF when an unmasked exception is pending */
        btg_flags_read(g, F_ALL);
        btg_begin(g);
        btg_e8(g, 0x9b);
        break;
    default: /* FRSTOR from random bytes: any tags, status, control word */
        if (btg_chance(g, 2)) {
            x87_mem(g, 5, 4, 108, false);
        } else {
            x87_mem(g, 1, 4, 28, false);
        }
        break;
    }
}

/*
 * A run of x87 instructions.  Any of them may raise #MF once an exception
 * is unmasked, or #NM after CR0.TS: EFLAGS is pushed then, so it is made
 * defined first.
 */
void btg_gen_x87(G *g)
{
    btg_flags_read(g, F_ALL);
    if (g->p->cfg.cpl == 0 && btg_chance(g, 12)) {
        /* mov eax, cr0 ; or eax, 8 (TS: the next x87 instruction raises #NM) or 0x20
         * (NE: unmasked exceptions raise #MF instead of FERR#) ; mov cr0, eax */
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x20);
        btg_e8(g, 0xc0);
        btg_begin(g);
        btg_e8(g, 0x83);
        btg_e8(g, 0xc8);
        btg_e8(g, btg_chance(g, 3) ? 0x08 : 0x20);
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x22);
        btg_e8(g, 0xc0);
        btg_define_flags(g);
    }
    int n = 1 + (int)btg_rnd(g, 8);
    for (int k = 0; k < n && btg_room(g); k++) {
        if (btg_chance(g, 7)) {
            x87_control(g);
        } else {
            x87_native(g);
        }
        btg_flags_read(g, F_ALL);
    }
}
