/*
 * Control-flow, segment and system instruction classes of the random
 * program generator, and the stores into the program's own code.
 */
#include "tests/bt/bt_gen_internal.h"

static void fwd_add(G *g, uint32_t field, bool wide)
{
    if (g->nfwd < 8) {
        g->fwd[g->nfwd++] = (Fwd){.field = field,
                                  .wide = wide,
                                  .left = 1 + (int)btg_rnd(g, 4),
                                  .poison = g->poison,
                                  .df = g->df,
                                  .df_unknown = g->df_unknown,
                                  .fs_ok = g->fs_ok,
                                  .gs_ok = g->gs_ok};
    }
}

/*
 * Two paths join here: what either may leave undefined is undefined, a
 * segment is usable only if both left it so, and DF is known only if both
 * agree (a skipped POPF once sent a string copy laid out for DF = 1 up
 * into the fault page, whose #PF pushed flags SHLD had left undefined).
 */
void btg_fwd_bind(G *g, const Fwd *f)
{
    uint32_t end = g->p->len;
    g->poison |= f->poison;
    g->df_unknown |= f->df_unknown || f->df != g->df;
    g->fs_ok &= f->fs_ok;
    g->gs_ok &= f->gs_ok;
    if (f->wide) {
        btg_put32(g, f->field, end - (f->field + 4));
    } else {
        uint32_t rel = end - (f->field + 1);
        g->p->code[f->field] = rel < 128 ? (uint8_t)rel : 0;
    }
}

/* One class instruction done: count down the pending forward branches. */
void btg_fwd_step(G *g)
{
    for (int i = 0; i < g->nfwd;) {
        if (--g->fwd[i].left <= 0) {
            btg_fwd_bind(g, &g->fwd[i]);
            g->fwd[i] = g->fwd[--g->nfwd];
        } else {
            i++;
        }
    }
}

/* Jcc/JMP forward, JECXZ, LOOPs, CALL/RET, indirect jumps and calls. */
void btg_gen_branch(G *g)
{
    int kind = btg_rnd(g, 10);
    if (kind <= 1) { /* forward Jcc / JMP, rel8 or rel32 */
        bool wide = btg_chance(g, 2);
        bool jmp = btg_chance(g, 5);
        if (!jmp) {
            btg_flags_read(g, F_ALL);
        }
        btg_begin(g);
        int cc = btg_rnd(g, 16);
        if (jmp) {
            btg_e8(g, wide ? 0xe9 : 0xeb);
        } else if (wide) {
            btg_e8(g, 0x0f);
            btg_e8(g, 0x80 + cc);
        } else {
            btg_e8(g, 0x70 + cc);
        }
        fwd_add(g, g->p->len, wide);
        wide ? btg_e32(g, 0) : btg_e8(g, 0);
    } else if (kind == 2) { /* JECXZ forward */
        btg_setup_reg(g, ECX, btg_chance(g, 2) ? 0 : 1 + btg_rnd(g, 3));
        btg_begin(g);
        btg_e8(g, 0xe3);
        fwd_add(g, g->p->len, false);
        btg_e8(g, 0);
    } else if (kind == 3) { /* a small counted loop: mov ecx, n ; body: add/xor ; loop body */
        btg_setup_reg(g, ECX, 1 + btg_rnd(g, 5));
        uint32_t top = g->p->len;
        btg_begin(g);
        btg_e8(g, 0x01);
        btg_e8(g, 0xc0 | btg_rnd(g, 8) << 3 | (EAX + btg_rnd(g, 2) * 3)); /* add eax/ebx, r */
        btg_flags_effect(g, F_ALL, 0);
        int lk = btg_rnd(g, 3);
        btg_begin(g);
        btg_e8(g, lk == 0 ? 0xe2 : lk == 1 ? 0xe1 : 0xe0);
        btg_e8(g, (uint8_t)(top - (g->p->len + 1)));
    } else if (kind == 4) { /* a local subroutine: jmp over ; sub: insn ; ret ; over: call sub */
        btg_begin(g);
        btg_e8(g, 0xeb);
        uint32_t over = g->p->len;
        btg_e8(g, 0);
        uint32_t sub = g->p->len;
        btg_begin(g);
        btg_e8(g, 0x01);
        btg_e8(g, 0xc0 | btg_rnd(g, 8) << 3 | (EDX + btg_rnd(g, 2) * 5)); /* add edx/edi, r */
        btg_flags_effect(g, F_ALL, 0);
        btg_begin(g);
        if (btg_chance(g, 3)) {
            btg_e8(g, 0xc2); /* ret 4 after a push */
            btg_e16(g, 4);
        } else {
            btg_e8(g, 0xc3);
        }
        bool param = g->p->code[g->p->len - 3] == 0xc2;
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        if (param) {
            btg_begin(g);
            btg_e8(g, 0x6a);
            btg_e8(g, btg_rnd(g, 256)); /* push imm8: the parameter RET 4 drops */
        }
        btg_begin(g);
        btg_e8(g, 0xe8);
        btg_e32(g, sub - (g->p->len + 4));
    } else if (kind == 5) { /* indirect call through a register or memory, to a subroutine */
        btg_begin(g);
        btg_e8(g, 0xeb);
        uint32_t over = g->p->len;
        btg_e8(g, 0);
        uint32_t sub = g->p->code_at + g->p->len;
        btg_begin(g);
        btg_e8(g, 0xf7);
        btg_e8(g, 0xd0 | btg_rnd(g, 2) * 2); /* not eax / not edx */
        btg_begin(g);
        btg_e8(g, 0xe8);
        btg_e32(g, 0); /* call $+5 ; pop edx: EDX = this EIP, which differs through the alias */
        btg_begin(g);
        btg_e8(g, 0x5a);
        btg_begin(g);
        btg_e8(g, 0xc3);
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        if (btg_chance(g, 2)) {
            int r = EBX + (int)btg_rnd(g, 2) * 3;
            btg_setup_reg(g, r, sub);
            btg_begin(g);
            btg_e8(g, 0xff);
            btg_e8(g, 0xd0 | r); /* call r */
            /* not eax ; call $+5 ; pop edx ; ret: 9 bytes, all inside the aliased page */
            if (g->p->cfg.paging && (sub >> 12) == (BTG_CODE >> 12) &&
                (sub & 0xfff) <= 0x1000 - 9) {
                /* the same physical code again, at the alias page's linear address */
                btg_setup_reg(g, r, BTG_ALIAS_PAGE + (sub & 0xfff));
                if (g->p->cfg.faults) {
                    /* under PAE the alias page may be execute-disable: the
                     * #PF frame holds EFLAGS, so they must be defined here */
                    btg_flags_read(g, F_ALL);
                }
                btg_begin(g);
                btg_e8(g, 0xff);
                btg_e8(g, 0xd0 | r);
            }
        } else {
            Mem m = btg_gen_mem(g, 4, true);
            btg_before_fault(g, &m);
            btg_begin(g);
            btg_mem_prefixes(g, &m);
            btg_e8(g, 0xc7);
            btg_mem_modrm(g, &m, 0);
            btg_e32(g, sub); /* mov dword [m], sub */
            btg_begin(g);
            btg_mem_prefixes(g, &m);
            btg_e8(g, 0xff);
            btg_mem_modrm(g, &m, 2); /* call [m] */
        }
    } else if (kind == 6) { /* indirect jump forward: push target ; ret, or jmp r */
        int r = EAX + (int)btg_rnd(g, 2);
        uint32_t field_at = g->p->len + 1;
        btg_setup_reg(g, r, 0);
        btg_begin(g);
        bool via_ret = btg_chance(g, 2);
        if (via_ret) {
            btg_e8(g, 0x50 + r);
            btg_begin(g);
            btg_e8(g, 0xc3);
        } else {
            btg_e8(g, 0xff);
            btg_e8(g, 0xe0 | r);
        }
        /* skip one instruction's worth of junk-free code: a NOP pair */
        btg_begin(g);
        btg_e8(g, 0x90);
        btg_put32(g, field_at, btg_here(g));
    } else if (kind == 8) {
        /* A return somewhere else than after its call, so a return
         * prediction is wrong: jmp over ; sub: add dword [esp], 2 ; ret ;
         * over: call sub ; ud2 (skipped) */
        btg_begin(g);
        btg_e8(g, 0xeb);
        uint32_t over = g->p->len;
        btg_e8(g, 0);
        uint32_t sub = g->p->len;
        btg_begin(g);
        btg_e8(g, 0x83);
        btg_e8(g, 0x04);
        btg_e8(g, 0x24);
        btg_e8(g, 2); /* add dword [esp], 2 */
        btg_flags_effect(g, F_ALL, 0);
        btg_begin(g);
        btg_e8(g, 0xc3);
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        btg_begin(g);
        btg_e8(g, 0xe8);
        btg_e32(g, sub - (g->p->len + 4));
        btg_e8(g, 0x0f);
        btg_e8(g, 0x0b);
    } else if (kind == 9) {
        /* A longjmp-like unwind: the inner call drops its own return
         * address and returns straight to the outer caller, skipping a
         * frame, so every later prediction is one off:
         *   jmp over ; outer: call inner ; ud2 ; inner: add esp, 4 ; ret ;
         *   over: call outer */
        btg_begin(g);
        btg_e8(g, 0xeb);
        uint32_t over = g->p->len;
        btg_e8(g, 0);
        uint32_t outer = g->p->len;
        btg_begin(g);
        btg_e8(g, 0xe8);
        btg_e32(g, 2); /* call inner (past the ud2) */
        btg_e8(g, 0x0f);
        btg_e8(g, 0x0b);
        btg_begin(g);
        btg_e8(g, 0x83);
        btg_e8(g, 0xc4);
        btg_e8(g, 4); /* add esp, 4 */
        btg_flags_effect(g, F_ALL, 0);
        btg_begin(g);
        btg_e8(g, 0xc3);
        g->p->code[over] = (uint8_t)(g->p->len - (over + 1));
        btg_begin(g);
        btg_e8(g, 0xe8);
        btg_e32(g, outer - (g->p->len + 4));
    } else { /* forward JMP over data-like bytes that are never executed */
        btg_begin(g);
        btg_e8(g, 0xeb);
        btg_e8(g, 2);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x0b); /* ud2, skipped */
    }
}

/* Segment register loads and stores, far-pointer loads. */
void btg_gen_segment(G *g)
{
    int kind = btg_rnd(g, 5);
    int cpl = g->p->cfg.cpl;
    uint16_t data_sel = cpl ? 0x23 : 0x10;
    if (kind == 0) { /* mov ax, sreg */
        btg_begin(g);
        btg_e8(g, 0x8c);
        btg_e8(g, 0xc0 | btg_rnd(g, 6) << 3 | btg_any_reg(g));
    } else if (kind == 1) { /* mov ds/es, a flat data selector (addresses assume flat DS/ES) */
        uint16_t sel = data_sel;
        btg_setup_reg(g, EAX, sel);
        btg_begin(g);
        btg_e8(g, 0x8e);
        btg_e8(g, 0xc0 | (btg_chance(g, 2) ? 0 : 3) << 3); /* es or ds */
    } else if (kind == 2) {                                /* push fs/gs ; pop fs/gs */
        bool gs = btg_chance(g, 2);
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, gs ? 0xa8 : 0xa0);
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, gs ? 0xa9 : 0xa1);
    } else if (kind == 3) { /* reload FS or GS with its special selector, or GS with null */
        bool gs = btg_chance(g, 2);
        uint16_t sel = gs ? (g->p->cfg.faults && btg_chance(g, 4) ? 0 : BTG_SEL_GS) : BTG_SEL_FS;
        btg_setup_reg(g, ECX, sel);
        btg_begin(g);
        btg_e8(g, 0x8e);
        btg_e8(g, 0xc0 | (gs ? 5 : 4) << 3 | ECX);
        if (gs) {
            g->gs_ok = sel != 0;
        } else {
            g->fs_ok = true;
        }
    } else { /* push ds ; pop es (either 32- or 16-bit operands: a selector moves
              * ESP by 4 or 2), or mov ss with its own value (interrupt shadow) */
        btg_begin(g);
        if (btg_chance(g, 2)) {
            bool o16 = btg_chance(g, 3);
            if (o16) {
                btg_e8(g, 0x66);
            }
            btg_e8(g, 0x1e);
            btg_begin(g);
            if (o16) {
                btg_e8(g, 0x66);
            }
            btg_e8(g, 0x07);
        } else {
            btg_e8(g, 0x8c);
            btg_e8(g, 0xd0 | EDX); /* mov edx, ss */
            btg_begin(g);
            btg_e8(g, 0x8e);
            btg_e8(g, 0xd0 | EDX); /* mov ss, edx */
        }
    }
}

/* Instructions whose behaviour depends on privilege, and traps. */
void btg_gen_system(G *g)
{
    int kind = btg_rnd(g, 10);
    int cpl = g->p->cfg.cpl;
    bool faults = g->p->cfg.faults;
    if (cpl == 3 && !faults && kind <= 4) {
        kind = 5 + btg_rnd(g, 2);
    }
    if (kind <= 4 || kind >= 7) {
        btg_flags_read(g, F_ALL); /* may fault or interrupt: EFLAGS is pushed */
    }
    if (kind == 5 && !faults) {
        btg_setup_reg(g, EAX, btg_rnd(g, 2)); /* a leaf CPUID knows */
    }
    btg_begin(g);
    switch (kind) {
    case 0: btg_e8(g, 0xfa); break; /* cli */
    case 1: btg_e8(g, 0xfb); break; /* sti */
    case 2:
        btg_e8(g, 0x0f);
        btg_e8(g, 0x20);
        btg_e8(g, 0xc0 | btg_any_reg(g));
        break; /* mov r, cr0 */
    case 3:    /* mov eax, cr3 ; mov cr3, eax: flushes the TLB */
        btg_e8(g, 0x0f);
        btg_e8(g, 0x20);
        btg_e8(g, 0xd8);
        btg_begin(g);
        btg_e8(g, 0x0f);
        btg_e8(g, 0x22);
        btg_e8(g, 0xd8);
        break;
    case 4: /* invlpg [data] */
        btg_e8(g, 0x0f);
        btg_e8(g, 0x01);
        btg_e8(g, 0x3d);
        btg_e32(g, BTG_DATA + btg_rnd(g, BTG_DATA_SIZE));
        break;
    case 5:
        btg_e8(g, 0x0f);
        btg_e8(g, 0xa2);
        break; /* cpuid */
    case 6:
        btg_e8(g, 0x0f);
        btg_e8(g, 0x31);
        break; /* rdtsc */
    case 7:
        btg_e8(g, 0xcd);
        btg_e8(g, 0x30 + btg_rnd(g, 16));
        break; /* int n: ends in the handler */
    case 8:
        btg_e8(g, 0x0f);
        btg_e8(g, 0x0b);
        break;                       /* ud2 */
    default: btg_e8(g, 0xce); break; /* into */
    }
}

/*
 * Self-modifying code: a store into the immediate of an instruction a few
 * instructions on (a MOV r32, imm32 that the generator places there), by
 * its linear address or, with paging, through the alias page.
 */
void btg_gen_smc_store(G *g)
{
    if (g->nsmc >= 4) {
        return;
    }
    bool byte = btg_chance(g, 2);
    btg_begin(g);
    btg_e8(g, byte ? 0xc6 : 0xc7);
    btg_e8(g, 0x05);
    g->smc_field[g->nsmc] = g->p->len;
    g->smc_byte[g->nsmc] = byte ? (int)btg_rnd(g, 4) : -1;
    g->nsmc++;
    btg_e32(g, 0);
    byte ? btg_e8(g, btg_rnd(g, 256)) : btg_e32(g, (uint32_t)btg_rnd64(g));
}

/* Give the pending stores their target: mov r32, imm32 here. */
void btg_gen_smc_target(G *g)
{
    int r = btg_any_reg(g);
    btg_begin(g);
    btg_e8(g, 0xb8 + r);
    uint32_t imm_at = g->p->code_at + g->p->len;
    btg_e32(g, (uint32_t)btg_rnd64(g));
    for (int i = 0; i < g->nsmc; i++) {
        uint32_t at = imm_at + (uint32_t)(g->smc_byte[i] < 0 ? 0 : g->smc_byte[i]);
        if (g->p->cfg.paging && (at >> 12) == (BTG_CODE >> 12) && btg_chance(g, 2)) {
            at = BTG_ALIAS_PAGE + (at & 0xfff);
        }
        btg_put32(g, g->smc_field[i], at);
    }
    g->nsmc = 0;
}
