/*
 * Hostile programs (soak.h): tests/bt's random programs, mutated, with
 * snippets that go for the machine's dangerous corners.  Encodings are
 * 32-bit code (SDM Vol.2 opcode map); each snippet carries its assembly.
 */
#include <string.h>

#include "tests/soak/soak.h"

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rnd64(Rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rnd(Rng *r, uint32_t n)
{
    return (uint32_t)(rnd64(r) % n);
}

/* A snippet being assembled. */
typedef struct Code {
    uint8_t b[64];
    int n;
} Code;

static void e8(Code *c, uint32_t v)
{
    if (c->n < (int)sizeof(c->b)) {
        c->b[c->n++] = (uint8_t)v;
    }
}

static void e16(Code *c, uint32_t v)
{
    e8(c, v);
    e8(c, v >> 8);
}

static void e32(Code *c, uint32_t v)
{
    e16(c, v);
    e16(c, v >> 16);
}

/* Ports worth hitting more often than a random 16-bit number would: each
 * device popek has, and the PCI I/O BARs a guest could move anywhere. */
static const uint16_t port_bases[] = {
    0x0000, 0x0020, 0x0040, 0x0060, 0x0064, 0x0070, 0x0080, 0x0092, 0x00a0, 0x00c0,
    0x00f0, 0x01ce, 0x01f0, 0x0170, 0x0376, 0x03f6, 0x02f8, 0x03f8, 0x03e8, 0x02e8,
    0x03b0, 0x03c0, 0x03d0, 0x03f0, 0x0402, 0x04d0, 0x0510, 0x0600, 0x0cf8, 0x0cfc,
    0x0cf9, 0xc000, 0xc040, 0xc080, 0xc0c0, 0xc100,
};

static uint16_t pick_port(Rng *r)
{
    if (rnd(r, 4) == 0) {
        return (uint16_t)rnd(r, 0x10000);
    }
    return (uint16_t)(port_bases[rnd(r, sizeof(port_bases) / sizeof(port_bases[0]))] +
                      rnd(r, 16));
}

/* A value to write: small numbers, all ones, or anything. */
static uint32_t pick_value(Rng *r)
{
    switch (rnd(r, 4)) {
    case 0: return rnd(r, 16);
    case 1: return 0xffffffffu;
    default: return (uint32_t)rnd64(r);
    }
}

static void port_io(Code *c, Rng *r)
{
    e8(c, 0x66), e8(c, 0xba), e16(c, pick_port(r)); /* mov dx, port */
    e8(c, 0xb8), e32(c, pick_value(r));            /* mov eax, value */
    switch (rnd(r, 10)) {
    case 0: e8(c, 0xec); break;                    /* in al, dx */
    case 1: e8(c, 0x66), e8(c, 0xed); break;       /* in ax, dx */
    case 2: e8(c, 0xed); break;                    /* in eax, dx */
    case 3: e8(c, 0xee); break;                    /* out dx, al */
    case 4: e8(c, 0x66), e8(c, 0xef); break;       /* out dx, ax */
    case 5: e8(c, 0xef); break;                    /* out dx, eax */
    case 6: e8(c, 0xe4 + 2 * rnd(r, 2) + rnd(r, 2)), e8(c, rnd(r, 256)); break; /* in/out imm8 */
    default: {
        /* rep ins/outs of 1, 2 or 4 bytes through the data window */
        e8(c, 0xb9), e32(c, 1 + rnd(r, 64));       /* mov ecx, count */
        e8(c, 0xbf), e32(c, BTG_DATA + rnd(r, 0x1000)); /* mov edi, buffer */
        e8(c, 0xbe), e32(c, BTG_DATA + rnd(r, 0x1000)); /* mov esi, buffer */
        if (rnd(r, 3) == 0) {
            e8(c, 0x66);
        }
        e8(c, 0xf3), e8(c, 0x6c + rnd(r, 4));      /* rep insb/insd/outsb/outsd */
        break;
    }
    }
}

/* PCI configuration: a register of any function, including BAR moves. */
static void pci_config(Code *c, Rng *r)
{
    uint32_t addr = 0x80000000u | rnd(r, 32) << 11 | rnd(r, 8) << 8 | (rnd(r, 64) << 2);
    if (rnd(r, 2)) {
        addr = (addr & ~0xffu) | (0x10 + 4 * rnd(r, 6)); /* a BAR */
    }
    e8(c, 0x66), e8(c, 0xba), e16(c, 0xcf8);      /* mov dx, 0cf8h */
    e8(c, 0xb8), e32(c, addr);                     /* mov eax, address */
    e8(c, 0xef);                                   /* out dx, eax */
    e8(c, 0x66), e8(c, 0xba), e16(c, 0xcfc + rnd(r, 4)); /* mov dx, 0cfch+n */
    e8(c, 0xb8), e32(c, pick_value(r));            /* mov eax, value */
    e8(c, rnd(r, 2) ? 0xef : 0xed);                /* out dx, eax / in eax, dx */
}

static uint32_t pick_mmio(Rng *r)
{
    switch (rnd(r, 6)) {
    case 0: return 0xfee00000u + (rnd(r, 0x400) & ~3u); /* local APIC */
    case 1: return 0xfec00000u + 0x10 * rnd(r, 2);      /* I/O APIC index / data */
    case 2: return 0xa0000u + rnd(r, 0x20000);          /* VGA window */
    case 3: return 0xfd000000u + rnd(r, 0x1000000);     /* where BARs often land */
    case 4: return 0xfffc0000u + rnd(r, 0x40000);       /* the ROM */
    default: return (uint32_t)rnd64(r);
    }
}

static void mmio(Code *c, Rng *r)
{
    if (rnd(r, 2)) {
        e8(c, 0xc7), e8(c, 0x05), e32(c, pick_mmio(r)), e32(c, pick_value(r)); /* mov [a], imm32 */
    } else {
        e8(c, 0xa1), e32(c, pick_mmio(r));         /* mov eax, [a] */
    }
}

static uint16_t pick_selector(Rng *r)
{
    if (rnd(r, 4) == 0) {
        return (uint16_t)rnd(r, 0x10000);
    }
    return (uint16_t)((SOAK_GDT_GARBAGE_FIRST + rnd(r, SOAK_GDT_GARBAGE_COUNT)) << 3 | rnd(r, 4));
}

static void far_transfer(Code *c, Rng *r)
{
    switch (rnd(r, 5)) {
    case 0: e8(c, 0xea), e32(c, pick_value(r)), e16(c, pick_selector(r)); break; /* jmp far */
    case 1: e8(c, 0x9a), e32(c, pick_value(r)), e16(c, pick_selector(r)); break; /* call far */
    case 2: /* retf / iret with whatever is on the stack */
        e8(c, 0x68), e32(c, pick_selector(r));     /* push sel */
        e8(c, 0x68), e32(c, pick_value(r));        /* push offset */
        e8(c, rnd(r, 2) ? 0xcb : 0xcf);            /* retf / iretd */
        break;
    case 3: /* a segment register from a garbage selector */
        e8(c, 0x66), e8(c, 0xb8), e16(c, pick_selector(r)); /* mov ax, sel */
        e8(c, 0x8e), e8(c, 0xc0 | (rnd(r, 6) << 3));        /* mov sreg, ax */
        break;
    default: /* LTR or LLDT of a garbage selector (ring 0) */
        e8(c, 0x66), e8(c, 0xb8), e16(c, pick_selector(r)); /* mov ax, sel */
        e8(c, 0x0f), e8(c, 0x00), e8(c, rnd(r, 2) ? 0xd8 : 0xd0); /* ltr ax / lldt ax */
        break;
    }
}

static void interrupt(Code *c, Rng *r)
{
    if (rnd(r, 3) == 0) {
        /* lidt [buffer]: a garbage IDTR from the data window */
        e8(c, 0x0f), e8(c, 0x01), e8(c, 0x1d), e32(c, BTG_DATA + rnd(r, 0x1000));
    }
    switch (rnd(r, 6)) {
    case 0: e8(c, 0xcc); break;                    /* int3 */
    case 1: e8(c, 0xce); break;                    /* into */
    case 2: e8(c, 0x0f), e8(c, 0x0b); break;       /* ud2 */
    case 3: e8(c, 0xfb), e8(c, 0xf4); break;       /* sti; hlt: let devices interrupt */
    default: e8(c, 0xcd), e8(c, rnd(r, 256)); break; /* int n */
    }
}

static void system_insn(Code *c, Rng *r)
{
    switch (rnd(r, 5)) {
    case 0: case 1: /* mov crN, eax */
        e8(c, 0xb8), e32(c, pick_value(r));
        e8(c, 0x0f), e8(c, 0x22), e8(c, 0xc0 | ((uint32_t[]){0, 3, 4}[rnd(r, 3)] << 3));
        break;
    case 2: /* wrmsr / rdmsr */
        e8(c, 0xb9), e32(c, rnd(r, 2) ? rnd(r, 0x1000) : (uint32_t)rnd64(r)); /* mov ecx, msr */
        e8(c, 0xb8), e32(c, pick_value(r));
        e8(c, 0xba), e32(c, pick_value(r));
        e8(c, 0x0f), e8(c, rnd(r, 2) ? 0x30 : 0x32);
        break;
    case 3: /* push imm32; popfd: TF, NT, AC, IOPL, whatever */
        e8(c, 0x68), e32(c, (uint32_t)rnd64(r));
        e8(c, 0x9d);
        break;
    default: /* lgdt [buffer] */
        e8(c, 0x0f), e8(c, 0x01), e8(c, 0x15), e32(c, BTG_DATA + rnd(r, 0x1000));
        break;
    }
}

/* Stores into the code: bytes and dwords at random places, or a REP STOS over it. */
static void smc(Code *c, Rng *r, uint32_t code_len)
{
    uint32_t at = BTG_CODE + rnd(r, code_len ? code_len : 1);
    switch (rnd(r, 3)) {
    case 0: e8(c, 0xc6), e8(c, 0x05), e32(c, at), e8(c, rnd(r, 256)); break; /* mov byte [a], imm8 */
    case 1: e8(c, 0xc7), e8(c, 0x05), e32(c, at), e32(c, pick_value(r)); break; /* mov dword */
    default:
        e8(c, 0xbf), e32(c, at);                   /* mov edi, a */
        e8(c, 0xb9), e32(c, 1 + rnd(r, 32));       /* mov ecx, n */
        e8(c, 0xb0), e8(c, rnd(r, 256));           /* mov al, imm8 */
        e8(c, 0xfc), e8(c, 0xf3), e8(c, 0xaa);     /* cld; rep stosb */
        break;
    }
}

static void snippet(Code *c, Rng *r, uint32_t code_len)
{
    c->n = 0;
    switch (rnd(r, 8)) {
    case 0: case 1: port_io(c, r); break;
    case 2: pci_config(c, r); break;
    case 3: mmio(c, r); break;
    case 4: far_transfer(c, r); break;
    case 5: interrupt(c, r); break;
    case 6: system_insn(c, r); break;
    default: smc(c, r, code_len); break;
    }
}

/* A descriptor of garbage: mostly TSS descriptors and gates with random
 * fields, some raw noise (SDM Vol.3 3.4.5, 6.11, 7.2.2). */
static uint64_t garbage_descriptor(Rng *r)
{
    uint64_t d = rnd64(r);
    switch (rnd(r, 4)) {
    case 0: { /* 16- or 32-bit TSS, available or busy, limit around the minimum */
        uint32_t base = rnd(r, 2) ? rnd(r, BTG_RAM) : (uint32_t)rnd64(r);
        uint32_t limit = rnd(r, 2) ? 0x60 + rnd(r, 16) : rnd(r, 0x100000);
        uint8_t type = (uint8_t)((uint8_t[]){1, 3, 9, 11}[rnd(r, 4)]);
        uint8_t access = (uint8_t)(type | rnd(r, 4) << 5 | (rnd(r, 8) ? 0x80 : 0));
        d = (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
            (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)rnd(r, 16) << 52 |
            (uint64_t)(base >> 24) << 56;
        break;
    }
    case 1: { /* task, call, interrupt or trap gate to a random selector */
        uint8_t type = (uint8_t)((uint8_t[]){5, 4, 12, 14, 15, 6, 7}[rnd(r, 7)]);
        d = (d & 0xffff00000000ffffull) | (uint64_t)pick_selector(r) << 16 |
            (uint64_t)(type | rnd(r, 4) << 5 | 0x80) << 40;
        break;
    }
    default:
        break;
    }
    return d;
}

void soak_generate(SoakProgram *sp, uint64_t seed, uint64_t index)
{
    Rng r = {seed * 0x2545f4914f6cdd1dull ^ index};
    memset(sp, 0, sizeof(*sp));
    BTProgram *p = &sp->bt;
    btg_generate(p, (int)(index % BTG_NCONFIGS), seed ^ 0x50a1c0de, index);
    for (int i = 0; i < SOAK_GDT_GARBAGE_COUNT; i++) {
        sp->gdt_garbage[i] = garbage_descriptor(&r);
    }
    if (rnd(&r, 4) == 0) {
        sp->idt_garbage = 1 + (int)rnd(&r, 64);
        sp->idt_seed = rnd64(&r);
    }
    sp->iopl3 = p->cfg.cpl == 3 && rnd(&r, 2);
    sp->reenter = rnd(&r, 2) ? (int32_t)rnd(&r, p->len ? p->len : 1) : -1;
    uint32_t kind = rnd(&r, 8);
    if (kind == 0) {
        /* noise: every byte random */
        sp->kind = "random bytes";
        p->len = 64 + rnd(&r, BTG_CODE_MAX - 64);
        for (uint32_t i = 0; i < p->len; i++) {
            p->code[i] = (uint8_t)rnd64(&r);
        }
        sp->reenter = sp->reenter >= 0 ? (int32_t)rnd(&r, p->len) : -1;
        return;
    }
    sp->kind = kind < 3 ? "generated + snippets" : kind < 6 ? "snippets + flips" : "snippets";
    int snippets = 1 + (int)rnd(&r, 8);
    for (int s = 0; s < snippets && p->nstarts; s++) {
        Code c;
        snippet(&c, &r, p->len);
        uint32_t at = p->starts[rnd(&r, p->nstarts)];
        if (at + (uint32_t)c.n > BTG_CODE_MAX) {
            continue;
        }
        memcpy(p->code + at, c.b, (size_t)c.n);
        if (at + (uint32_t)c.n > p->len) {
            p->len = at + (uint32_t)c.n;
        }
    }
    if (kind >= 3 && kind < 6) {
        int flips = 1 + (int)rnd(&r, 8);
        for (int f = 0; f < flips && p->len; f++) {
            p->code[rnd(&r, p->len)] ^= (uint8_t)(1u << rnd(&r, 8));
        }
    }
}
