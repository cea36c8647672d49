/*
 * Data and arithmetic instruction classes of the random program generator:
 * the ALU, INC/DEC/NOT/NEG/TEST, MOV and its forms, shifts and rotates,
 * multiply and divide, bit operations, exchanges, flag moves, SETcc/CMOVcc,
 * the stack and the string instructions.
 */
#include "tests/bt/bt_gen_internal.h"

/* ADD OR ADC SBB AND SUB XOR CMP in every form. */
void btg_gen_alu(G *g)
{
    int op = btg_rnd(g, 8);
    int size = btg_pick_size(g);
    bool logic = op == 1 || op == 4 || op == 6;
    if (op == 2 || op == 3) {
        btg_flags_read(g, F_CF);
    }
    int form = btg_rnd(g, 5);
    uint8_t w = size == 1 ? 0 : 1;
    if (form == 0) { /* Ev,Gv or Gv,Ev register-register */
        btg_begin(g);
        btg_opsize_prefix(g, size);
        bool dir = btg_chance(g, 2);
        btg_e8(g, op << 3 | (dir ? 2 : 0) | w);
        int dst = btg_dst_reg(g, size), src = size == 1 ? (int)btg_rnd(g, 8) : (int)btg_rnd(g, 8);
        btg_e8(g, 0xc0 | (dir ? dst << 3 | src : src << 3 | dst));
    } else if (form == 1) { /* AL/eAX, imm */
        btg_begin(g);
        btg_opsize_prefix(g, size);
        btg_e8(g, op << 3 | 4 | w);
        if (size == 1) {
            btg_e8(g, btg_rnd(g, 256));
        } else if (size == 2) {
            btg_e16(g, btg_rnd(g, 0x10000));
        } else {
            btg_e32(g, (uint32_t)btg_rnd64(g));
        }
    } else if (form == 2) { /* group 1 on a register */
        btg_begin(g);
        btg_opsize_prefix(g, size);
        int imm8 = size != 1 && btg_chance(g, 2);
        btg_e8(g, size == 1 ? (btg_chance(g, 8) ? 0x82 : 0x80) : imm8 ? 0x83 : 0x81);
        btg_e8(g, 0xc0 | op << 3 | btg_dst_reg(g, size));
        if (size == 1 || imm8) {
            btg_e8(g, btg_rnd(g, 256));
        } else if (size == 2) {
            btg_e16(g, btg_rnd(g, 0x10000));
        } else {
            btg_e32(g, (uint32_t)btg_rnd64(g));
        }
    } else { /* memory destination or source */
        Mem m = btg_gen_mem(g, size, op != 7 && form == 3);
        btg_before_fault(g, &m);
        btg_begin(g);
        btg_mem_prefixes(g, &m);
        btg_opsize_prefix(g, size);
        if (form == 3 && btg_chance(g, 2)) {
            int imm8 = size != 1 && btg_chance(g, 2);
            btg_e8(g, size == 1 ? 0x80 : imm8 ? 0x83 : 0x81);
            btg_mem_modrm(g, &m, op);
            if (size == 1 || imm8) {
                btg_e8(g, btg_rnd(g, 256));
            } else if (size == 2) {
                btg_e16(g, btg_rnd(g, 0x10000));
            } else {
                btg_e32(g, (uint32_t)btg_rnd64(g));
            }
        } else {
            bool to_reg = form == 4;
            btg_e8(g, op << 3 | (to_reg ? 2 : 0) | w);
            btg_mem_modrm(g, &m, to_reg ? btg_dst_reg(g, size) : (int)btg_rnd(g, 8));
        }
    }
    if (logic) {
        btg_flags_effect(g, F_ALL & ~F_AF, F_AF);
    } else {
        btg_flags_effect(g, F_ALL, 0);
    }
}

/* INC DEC NOT NEG TEST */
void btg_gen_unary(G *g)
{
    int kind = btg_rnd(g, 5);
    int size = btg_pick_size(g);
    bool mem = btg_chance(g, 3);
    Mem m;
    if (mem) {
        m = btg_gen_mem(g, size, kind != 4);
        btg_before_fault(g, &m);
    }
    btg_begin(g);
    if (mem) {
        btg_mem_prefixes(g, &m);
    }
    btg_opsize_prefix(g, size);
    int reg = btg_dst_reg(g, size);
    if (kind <= 1 && size != 1 && !mem && btg_chance(g, 2)) {
        btg_e8(g, (kind ? 0x48 : 0x40) + reg); /* inc/dec r32 short form */
    } else if (kind <= 1) {
        btg_e8(g, size == 1 ? 0xfe : 0xff);
        mem ? btg_mem_modrm(g, &m, kind) : btg_e8(g, 0xc0 | kind << 3 | reg);
    } else if (kind <= 3) {
        btg_e8(g, size == 1 ? 0xf6 : 0xf7);
        mem ? btg_mem_modrm(g, &m, kind) : btg_e8(g, 0xc0 | kind << 3 | reg);
    } else {
        bool imm = btg_chance(g, 2);
        if (imm) {
            btg_e8(g, size == 1 ? 0xf6 : 0xf7);
            mem ? btg_mem_modrm(g, &m, 0) : btg_e8(g, 0xc0 | reg);
            size == 1   ? btg_e8(g, btg_rnd(g, 256))
            : size == 2 ? btg_e16(g, btg_rnd(g, 0x10000))
                        : btg_e32(g, (uint32_t)btg_rnd64(g));
        } else {
            btg_e8(g, size == 1 ? 0x84 : 0x85);
            mem ? btg_mem_modrm(g, &m, (int)btg_rnd(g, 8))
                : btg_e8(g, 0xc0 | btg_rnd(g, 8) << 3 | reg);
        }
    }
    if (kind <= 1) {
        btg_flags_effect(g, F_ALL & ~F_CF, 0);
    } else if (kind == 3) {
        btg_flags_effect(g, F_ALL, 0);
    } else if (kind == 4) {
        btg_flags_effect(g, F_ALL & ~F_AF, F_AF);
    }
}

/* MOV in all its forms, MOVZX/MOVSX, LEA. */
void btg_gen_mov(G *g)
{
    int kind = btg_rnd(g, 7);
    int size = btg_pick_size(g);
    if (kind == 0) { /* register to register, either direction */
        btg_begin(g);
        btg_opsize_prefix(g, size);
        bool dir = btg_chance(g, 2);
        btg_e8(g, 0x88 | (dir ? 2 : 0) | (size != 1));
        int dst = btg_dst_reg(g, size), src = (int)btg_rnd(g, 8);
        btg_e8(g, 0xc0 | (dir ? dst << 3 | src : src << 3 | dst));
    } else if (kind == 1) { /* immediate to register */
        btg_begin(g);
        btg_opsize_prefix(g, size);
        if (size == 1) {
            btg_e8(g, 0xb0 + btg_rnd(g, 8));
            btg_e8(g, btg_rnd(g, 256));
        } else {
            btg_e8(g, 0xb8 + btg_dst_reg(g, size));
            size == 2 ? btg_e16(g, btg_rnd(g, 0x10000)) : btg_e32(g, (uint32_t)btg_rnd64(g));
        }
    } else if (kind == 2 || kind == 3) { /* load or store */
        bool store = kind == 3;
        Mem m = btg_gen_mem(g, size, store);
        btg_before_fault(g, &m);
        bool imm = store && btg_chance(g, 3);
        /* moffs form A0-A3: the disp32 of a [disp32] operand, no ModRM */
        bool moffs = !imm && m.mod_rm == 0x05 && !m.has_sib && btg_chance(g, 2) &&
                     (m.nprefix == 0 || m.prefix[m.nprefix - 1] != 0x67);
        btg_begin(g);
        btg_mem_prefixes(g, &m);
        btg_opsize_prefix(g, size);
        if (imm) {
            btg_e8(g, size == 1 ? 0xc6 : 0xc7);
            btg_mem_modrm(g, &m, 0);
            size == 1   ? btg_e8(g, btg_rnd(g, 256))
            : size == 2 ? btg_e16(g, btg_rnd(g, 0x10000))
                        : btg_e32(g, (uint32_t)btg_rnd64(g));
        } else if (moffs) {
            btg_e8(g, (store ? 0xa2 : 0xa0) | (size != 1));
            for (int i = 0; i < 4; i++) {
                btg_e8(g, m.disp[i]);
            }
        } else {
            btg_e8(g, (store ? 0x88 : 0x8a) | (size != 1));
            btg_mem_modrm(g, &m, store ? (int)btg_rnd(g, 8) : btg_dst_reg(g, size));
        }
    } else if (kind == 4) { /* MOVZX / MOVSX */
        int dsize = btg_chance(g, 3) ? 2 : 4;
        bool word = btg_chance(g, 2);
        bool mem = btg_chance(g, 2);
        Mem m;
        if (mem) {
            m = btg_gen_mem(g, word ? 2 : 1, false);
            btg_before_fault(g, &m);
        }
        btg_begin(g);
        if (mem) {
            btg_mem_prefixes(g, &m);
        }
        btg_opsize_prefix(g, dsize);
        btg_e8(g, 0x0f);
        btg_e8(g, (btg_chance(g, 2) ? 0xb6 : 0xbe) | word);
        int dst = btg_any_reg(g);
        mem ? btg_mem_modrm(g, &m, dst) : btg_e8(g, 0xc0 | dst << 3 | btg_rnd(g, 8));
    } else if (kind == 5) { /* LEA with any addressing, sometimes 66h/67h */
        btg_begin(g);
        if (btg_chance(g, 6)) {
            btg_e8(g, 0x66);
        }
        bool a16 = btg_chance(g, 6);
        if (a16) {
            btg_e8(g, 0x67);
        }
        btg_e8(g, 0x8d);
        int dst = btg_any_reg(g);
        if (a16) {
            btg_e8(g, 0x80 | dst << 3 | btg_rnd(g, 8)); /* [16-bit base/index + disp16] */
            btg_e16(g, btg_rnd(g, 0x10000));
        } else if (btg_chance(g, 2)) {
            btg_e8(g, 0x84 | dst << 3); /* [base + index*s + disp32] */
            btg_e8(g, btg_rnd(g, 256));
            btg_e32(g, (uint32_t)btg_rnd64(g));
        } else {
            btg_e8(g, 0x80 | dst << 3 | btg_rnd(g, 8)); /* [reg + disp32] (rm 4: SIB) */
            if (((g->p->code[g->p->len - 1]) & 7) == 4) {
                btg_e8(g, btg_rnd(g, 256));
            }
            btg_e32(g, (uint32_t)btg_rnd64(g));
        }
    } else { /* high-byte register with memory (no REX possible on the host) */
        bool store = btg_chance(g, 2);
        Mem m = btg_gen_mem(g, 1, store);
        btg_before_fault(g, &m);
        btg_begin(g);
        btg_mem_prefixes(g, &m);
        btg_e8(g, store ? 0x88 : 0x8a);
        btg_mem_modrm(g, &m, 4 + btg_rnd(g, 4));
    }
}

/* ROL ROR RCL RCR SHL SHR SAL SAR by 1, imm8 or CL; SHLD/SHRD. */
void btg_gen_shift(G *g)
{
    int size = btg_pick_size(g);
    int op = btg_rnd(g, 8);
    int form = btg_rnd(g, 3);
    unsigned count = form == 0 ? 1 : btg_chance(g, 4) ? btg_rnd(g, 256) : btg_rnd(g, 34);
    bool dbl = btg_chance(g, 5) && size != 1;
    if (dbl && size == 2) {
        count %= 17; /* counts over 16 leave the 16-bit result undefined */
    }
    if (form == 2) {
        btg_begin(g);
        btg_e8(g, 0xb1); /* mov cl, count */
        btg_e8(g, count);
    }
    if (!dbl && (op == 2 || op == 3)) {
        btg_flags_read(g, F_CF);
    }
    bool mem = btg_chance(g, 3);
    Mem m;
    if (mem) {
        g->reserved = form == 2 ? 1u << ECX : 0; /* CL holds the count */
        m = btg_gen_mem(g, size, true);
        g->reserved = 0;
        btg_before_fault(g, &m);
    }
    btg_begin(g);
    if (mem) {
        btg_mem_prefixes(g, &m);
    }
    btg_opsize_prefix(g, size);
    int reg = btg_dst_reg(g, size);
    if (form == 2 && !mem && reg == ECX && size != 1) {
        reg = EDX; /* keep the count register distinct from what it shifts */
    }
    if (dbl) {
        btg_e8(g, 0x0f);
        btg_e8(g, (btg_chance(g, 2) ? 0xa4 : 0xac) | (form == 2));
        int src = (int)btg_rnd(g, 8);
        mem ? btg_mem_modrm(g, &m, src) : btg_e8(g, 0xc0 | src << 3 | reg);
        if (form != 2) {
            count = form == 0 ? 1 : count;
            btg_e8(g, count);
        }
    } else {
        btg_e8(g, (form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) | (size != 1));
        mem ? btg_mem_modrm(g, &m, op) : btg_e8(g, 0xc0 | op << 3 | reg);
        if (form == 1) {
            btg_e8(g, count);
        }
    }
    unsigned c = count & 31;
    if (c == 0) {
        return;
    }
    unsigned bits = size * 8;
    if (dbl || op >= 4) {
        /* CF is undefined after SHL/SHR by the width or more; SAR's is the
         * sign (SDM Vol.2 SAL/SAR/SHL/SHR) */
        bool cf_undef = !dbl && op != 7 && c >= bits;
        uint32_t undef = F_AF | (c == 1 ? 0 : F_OF) | (cf_undef ? F_CF : 0);
        btg_flags_effect(g, F_ALL & ~undef, undef);
    } else {
        uint32_t undef = c == 1 ? 0 : F_OF;
        btg_flags_effect(g, (F_CF | F_OF) & ~undef, undef);
    }
}

/* MUL IMUL (1, 2, 3 operands), DIV IDIV with operands that do not fault
 * unless faults are wanted. */
void btg_gen_muldiv(G *g)
{
    int kind = btg_rnd(g, 5);
    int size = btg_pick_size(g);
    if (kind <= 2) {
        bool mem = btg_chance(g, 3);
        Mem m;
        if (mem) {
            m = btg_gen_mem(g, size, false);
            btg_before_fault(g, &m);
        }
        btg_begin(g);
        if (mem) {
            btg_mem_prefixes(g, &m);
        }
        if (kind == 0) { /* MUL/IMUL r/m */
            btg_opsize_prefix(g, size);
            btg_e8(g, size == 1 ? 0xf6 : 0xf7);
            int ext = btg_chance(g, 2) ? 4 : 5;
            mem ? btg_mem_modrm(g, &m, ext) : btg_e8(g, 0xc0 | ext << 3 | btg_rnd(g, 8));
        } else {
            size = size == 1 ? 4 : size;
            btg_opsize_prefix(g, size);
            int dst = btg_any_reg(g);
            if (kind == 1) {
                btg_e8(g, 0x0f);
                btg_e8(g, 0xaf);
                mem ? btg_mem_modrm(g, &m, dst) : btg_e8(g, 0xc0 | dst << 3 | btg_rnd(g, 8));
            } else {
                bool imm8 = btg_chance(g, 2);
                btg_e8(g, imm8 ? 0x6b : 0x69);
                mem ? btg_mem_modrm(g, &m, dst) : btg_e8(g, 0xc0 | dst << 3 | btg_rnd(g, 8));
                imm8        ? btg_e8(g, btg_rnd(g, 256))
                : size == 2 ? btg_e16(g, btg_rnd(g, 0x10000))
                            : btg_e32(g, (uint32_t)btg_rnd64(g));
            }
        }
        btg_flags_effect(g, F_CF | F_OF, F_SZP | F_AF);
        return;
    }
    /* DIV/IDIV: dividend small, divisor register nonzero */
    bool zero = g->p->cfg.faults && btg_chance(g, 4);
    /* BL/CL for bytes (ModRM 6 would be DH), EBX/ESI otherwise */
    int div = size == 1 ? (btg_chance(g, 2) ? EBX : ECX) : (btg_chance(g, 2) ? EBX : ESI);
    btg_setup_reg(g, EDX, size == 1 ? 0 : btg_rnd(g, 4));
    btg_setup_reg(g, EAX, (uint32_t)btg_rnd64(g) & (size == 1 ? 0x3ff : 0x7fffffffu));
    btg_setup_reg(g, div, zero ? 0 : 16 + btg_rnd(g, size == 1 ? 200 : 1000));
    if (zero) {
        btg_flags_read(g, F_ALL);
    }
    btg_begin(g);
    btg_opsize_prefix(g, size);
    btg_e8(g, size == 1 ? 0xf6 : 0xf7);
    btg_e8(g, 0xc0 | (kind == 3 ? 6 : 7) << 3 | div);
    btg_flags_effect(g, 0, F_ALL);
}

/* BT BTS BTR BTC, BSF BSR, BSWAP, XCHG XADD CMPXCHG, CBW CWD, flag moves, SETcc, CMOVcc. */
void btg_gen_bits(G *g)
{
    int kind = btg_rnd(g, 9);
    int size = btg_chance(g, 3) ? 2 : 4;
    if (kind == 0) { /* BT* with register or immediate bit offset */
        int op = btg_rnd(g, 4);
        bool imm = btg_chance(g, 2), mem = btg_chance(g, 2);
        Mem m;
        if (mem) {
            if (!imm) {
                btg_setup_reg(g, ECX,
                              btg_rnd(g, 128) - 32); /* a bit string reaching around the operand */
                g->reserved = 1u << ECX;
            }
            m = btg_gen_mem(g, size, op != 0);
            g->reserved = 0;
            btg_before_fault(g, &m);
        }
        btg_begin(g);
        if (mem) {
            btg_mem_prefixes(g, &m);
        }
        btg_opsize_prefix(g, size);
        btg_e8(g, 0x0f);
        if (imm) {
            btg_e8(g, 0xba);
            mem ? btg_mem_modrm(g, &m, 4 + op) : btg_e8(g, 0xc0 | (4 + op) << 3 | btg_any_reg(g));
            btg_e8(g, btg_rnd(g, 256));
        } else {
            btg_e8(g, 0xa3 | op << 3);
            int off = mem ? ECX : (int)btg_rnd(g, 8);
            mem ? btg_mem_modrm(g, &m, off) : btg_e8(g, 0xc0 | off << 3 | btg_any_reg(g));
        }
        btg_flags_effect(g, F_CF, F_OF | F_SF | F_AF | F_PF);
    } else if (kind == 1) { /* BSF/BSR */
        /* A zero source leaves the destination undefined: now and then
         * one, with the destination written again right after. */
        int dst = btg_any_reg(g), src = btg_any_reg(g);
        bool zero = btg_chance(g, 8);
        uint32_t v = (uint32_t)btg_rnd64(g);
        btg_setup_reg(g, src, zero ? 0 : v | 1u << btg_rnd(g, size * 8));
        btg_begin(g);
        btg_opsize_prefix(g, size);
        btg_e8(g, 0x0f);
        btg_e8(g, btg_chance(g, 2) ? 0xbc : 0xbd);
        btg_e8(g, 0xc0 | dst << 3 | src);
        btg_flags_effect(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
        if (zero) {
            btg_setup_reg(g, dst, v);
        }
    } else if (kind == 2) { /* BSWAP, CBW/CWDE, CWD/CDQ */
        btg_begin(g);
        int f = btg_rnd(g, 3);
        if (f == 0) {
            btg_e8(g, 0x0f);
            btg_e8(g, 0xc8 + btg_any_reg(g));
        } else {
            btg_opsize_prefix(g, btg_chance(g, 2) ? 2 : 4);
            btg_e8(g, f == 1 ? 0x98 : 0x99);
        }
    } else if (kind == 3) { /* XCHG, XADD, CMPXCHG */
        int op = btg_rnd(g, 3);
        int sz = btg_pick_size(g);
        bool mem = btg_chance(g, 2);
        Mem m;
        if (mem) {
            m = btg_gen_mem(g, sz, true);
            btg_before_fault(g, &m);
        }
        btg_begin(g);
        if (mem) {
            btg_mem_prefixes(g, &m);
            if (btg_chance(g, 4)) {
                btg_e8(g, 0xf0); /* LOCK */
            }
        }
        btg_opsize_prefix(g, sz);
        if (op == 0 && sz != 1 && !mem && btg_chance(g, 3)) {
            btg_e8(g, 0x90 + btg_any_reg(g)); /* xchg eax, r (0x90 is NOP) */
            return;
        }
        if (op == 0) {
            btg_e8(g, 0x86 | (sz != 1));
        } else {
            btg_e8(g, 0x0f);
            btg_e8(g, (op == 1 ? 0xc0 : 0xb0) | (sz != 1));
        }
        int r = btg_dst_reg(g, sz);
        mem ? btg_mem_modrm(g, &m, r) : btg_e8(g, 0xc0 | r << 3 | btg_dst_reg(g, sz));
        if (op) {
            btg_flags_effect(g, F_ALL, 0);
        }
    } else if (kind == 4) { /* LAHF SAHF CLC STC CMC */
        static const uint8_t ops[5] = {0x9f, 0x9e, 0xf8, 0xf9, 0xf5};
        int i = btg_rnd(g, 5);
        if (i == 0) {
            btg_flags_read(g, F_ALL & ~F_OF);
        } else if (i == 4) {
            btg_flags_read(g, F_CF);
        }
        btg_begin(g);
        btg_e8(g, ops[i]);
        if (i == 1) {
            btg_flags_effect(g, F_ALL & ~F_OF, 0);
        } else if (i >= 2) {
            btg_flags_effect(g, F_CF, 0);
        }
    } else if (kind == 5 || kind == 6) { /* SETcc / CMOVcc */
        btg_flags_read(g, F_ALL);
        int cc = btg_rnd(g, 16);
        bool mem = btg_chance(g, 3);
        bool set = kind == 5;
        Mem m;
        if (mem) {
            m = btg_gen_mem(g, set ? 1 : size, set);
            btg_before_fault(g, &m);
        }
        btg_begin(g);
        if (mem) {
            btg_mem_prefixes(g, &m);
        }
        if (!set) {
            btg_opsize_prefix(g, size);
        }
        btg_e8(g, 0x0f);
        btg_e8(g, (set ? 0x90 : 0x40) + cc);
        int r = set ? (int)btg_rnd(g, 8) : btg_any_reg(g);
        mem ? btg_mem_modrm(g, &m, set ? 0 : r)
            : btg_e8(g, 0xc0 | (set ? 0 : r << 3) | (set ? r : (int)btg_rnd(g, 8)));
    } else { /* ALU again: the most common code */
        btg_gen_alu(g);
    }
}

/* PUSH POP (registers, immediates, memory), PUSHF/POPF, LEAVE, ENTER, PUSHA/POPA. */
void btg_gen_stack(G *g)
{
    int kind = btg_rnd(g, 8);
    if (kind == 0) {
        btg_begin(g);
        btg_opsize_prefix(g, btg_chance(g, 5) ? 2 : 4);
        btg_e8(g, 0x50 + btg_rnd(g, 8)); /* push r */
    } else if (kind == 1) {
        btg_begin(g);
        btg_e8(g, 0x58 + btg_any_reg(g)); /* pop r */
    } else if (kind == 2) {
        btg_begin(g);
        if (btg_chance(g, 2)) {
            btg_e8(g, 0x6a);
            btg_e8(g, btg_rnd(g, 256));
        } else {
            btg_e8(g, 0x68);
            btg_e32(g, (uint32_t)btg_rnd64(g));
        }
    } else if (kind == 3) { /* push m / pop m */
        bool pop = btg_chance(g, 2);
        Mem m = btg_gen_mem(g, 4, pop);
        btg_before_fault(g, &m);
        btg_begin(g);
        btg_mem_prefixes(g, &m);
        btg_e8(g, pop ? 0x8f : 0xff);
        btg_mem_modrm(g, &m, pop ? 0 : 6);
    } else if (kind == 4) { /* push imm ; popf (no TF), or pushf */
        if (btg_chance(g, 2)) {
            uint32_t v = (uint32_t)btg_rnd64(g) & (F_ALL | 0x400u | (g->p->cfg.cpl ? 0 : 0x200u));
            btg_begin(g);
            btg_e8(g, 0x68);
            btg_e32(g, v | 0x200u);
            btg_begin(g);
            btg_e8(g, 0x9d);
            g->poison = 0;
            g->df = (v & 0x400u) != 0;
            g->df_unknown = false;
        } else {
            btg_flags_read(g, F_ALL);
            btg_begin(g);
            btg_e8(g, 0x9c);
        }
    } else if (kind == 5) { /* mov ebp, esp ; ... ; leave */
        btg_begin(g);
        btg_e8(g, 0x55); /* push ebp */
        btg_begin(g);
        btg_e8(g, 0x89);
        btg_e8(g, 0xe5); /* mov ebp, esp */
        btg_begin(g);
        btg_e8(g, 0x83);
        btg_e8(g, 0xec);
        btg_e8(g, btg_rnd(g, 64)); /* sub esp, n */
        btg_flags_effect(g, F_ALL, 0);
        btg_begin(g);
        btg_e8(g, 0xc9); /* leave */
    } else if (kind == 6) {
        int level = btg_rnd(g, 3);
        if (level) {
            btg_begin(g);
            btg_e8(g, 0x89);
            btg_e8(g, 0xe5); /* mov ebp, esp: the frames ENTER copies must be readable */
        }
        btg_begin(g);
        btg_e8(g, 0xc8); /* enter n, level */
        btg_e16(g, btg_rnd(g, 32));
        btg_e8(g, level);
        btg_begin(g);
        btg_e8(g, 0xc9);
    } else {
        btg_begin(g);
        btg_e8(g, 0x60); /* pusha */
        btg_begin(g);
        btg_e8(g, 0x61); /* popa */
    }
}

/* MOVS STOS LODS CMPS SCAS, single or REP, either direction. */
void btg_gen_string(G *g)
{
    static const uint8_t ops[5] = {0xa4, 0xaa, 0xac, 0xa6, 0xae};
    int op = btg_rnd(g, 5);
    int size = btg_pick_size(g);
    uint32_t n = btg_rnd(g, 40);
    bool rep = btg_chance(g, 2);
    bool copy = rep && (op == 0 || op == 1); /* REP MOVS / REP STOS */
    if (g->df_unknown) {
        btg_begin(g);
        btg_e8(g, 0xfc); /* cld: the layouts below depend on DF */
        g->df = g->df_unknown = false;
    }
    int variant = copy ? (int)btg_rnd(g, 4) : 0;
    uint32_t esi, edi;
    if (variant == 1) {
        /* long: past the 4096-element batch, so the instruction runs again */
        size = 1;
        n = 4000 + btg_rnd(g, 1000);
        esi = BTG_DATA + (g->df ? 0x1800 : 0) + btg_rnd(g, 0x800);
        edi = BTG_DATA + (g->df ? 0x3800 : 0x2000) + btg_rnd(g, 0x400);
    } else if (variant == 2) {
        /* overlapping source and destination (MOVS copies element by element) */
        esi = BTG_DATA + 0x2000 + btg_rnd(g, 0x100);
        edi = esi + btg_rnd(g, 17) - 8;
    } else if (variant == 3 && g->p->cfg.faults && g->p->cfg.paging && !g->df) {
        /* runs into the fault page part of the way through */
        esi = BTG_DATA + btg_rnd(g, 0x800);
        edi = BTG_FAULT_PAGE - (uint32_t)size * (1 + btg_rnd(g, 20));
        btg_flags_read(g, F_ALL);
    } else {
        uint32_t span = (n + 1) * (uint32_t)size;
        uint32_t lo = g->df ? BTG_DATA + span + 8 : BTG_DATA;
        esi = lo + btg_rnd(g, BTG_DATA_SIZE / 2 - span);
        edi = lo + BTG_DATA_SIZE / 2 - 8 + btg_rnd(g, BTG_DATA_SIZE / 2 - span - 16);
    }
    btg_setup_reg(g, ESI, esi);
    btg_setup_reg(g, EDI, edi);
    btg_setup_reg(g, ECX, n);
    btg_begin(g);
    if (rep) {
        btg_e8(g, (op >= 3 && btg_chance(g, 2)) ? 0xf2 : 0xf3);
    }
    btg_opsize_prefix(g, size);
    btg_e8(g, ops[op] | (size != 1));
    if (op >= 3 && (!rep || n != 0)) {
        btg_flags_effect(g, F_ALL, 0); /* REP CMPS/SCAS with ECX = 0 compares nothing */
    }
}
