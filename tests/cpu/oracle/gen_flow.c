/*
 * String instructions, the stack, forward branches and deliberate faults.
 *
 * The generator tracks ESP exactly (only these emitters change it), so
 * pushes, pops and ESP-relative operands stay in the stack region.  String
 * operands are placed with room for the whole count in both directions,
 * so DF may be anything.  Branches only go forward over MOV-immediate
 * blocks: both paths leave the flag poison and ESP the same.
 *
 * In mode64 the string instructions, JECXZ and LOOPcc get the address-size
 * slot, so they count with ECX and address with ESI/EDI as in 32-bit code,
 * and the faults that exist only outside 64-bit mode are left out.
 */
#include "tests/cpu/oracle/gen_internal.h"

/* ---- strings: MOVS STOS LODS CMPS SCAS (A4-AF) ---- */

static uint32_t string_target(Gen *g)
{
    return ORACLE_DATA_BASE + ORACLE_INT_LO + 0x100 +
           gen_below(g, ORACLE_INT_HI - ORACLE_INT_LO - 0x200);
}

/* Register value for an offset: 16-bit addressing keeps random high bits. */
static uint32_t addr_reg(Gen *g, uint32_t offset, bool a16)
{
    return a16 ? (gen_rand(g) & 0xffff0000u) | (offset & 0xffff) : offset;
}

void gen_string(Gen *g)
{
    static const uint8_t opcodes[5] = {0xa4, 0xaa, 0xac, 0xa6, 0xae};
    int op = (int)gen_below(g, 5), size = gen_size(g);
    bool uses_src = op == 0 || op == 2 || op == 3, uses_dst = op != 2;
    bool compares = op >= 3;
    uint32_t r = gen_below(g, 100);
    uint8_t rep = r < 35 ? 0 : (r < (compares ? 70u : 92u) ? 0xf3 : 0xf2);
    bool a16 = !g->mode64 && gen_chance(g, 20) && (g->t->es_win || !uses_dst);
    uint32_t count = gen_below(g, 17);
    /* Source segment: the 16-bit forms need a window segment. */
    static const uint8_t seg32[] = {0, 0, 0x3e, 0x36, 0x26, 0x64, 0x2e};
    static const int segno32[] = {3, 3, 3, 2, 0, 4, 1};
    int i = g->mode64 ? 0 : (int)gen_below(g, 7), seg = segno32[i];
    uint8_t seg_prefix = g->mode64 ? ORACLE_SLOT_PREFIX : seg32[i];
    if (a16 && g->seg_base[seg] == 0) {
        seg_prefix = 0x64;
        seg = 4;
    }
    uint32_t src = string_target(g), dst = string_target(g);
    if (op == 3 && gen_chance(g, 30) && g->seg_base[seg] == g->seg_base[0]) {
        dst = src; /* equal strings: REPE runs to the end */
    }
    if (uses_src) {
        gen_set_reg(g, G_ESI, addr_reg(g, src - g->seg_base[seg], a16));
    }
    if (uses_dst) {
        gen_set_reg(g, G_EDI, addr_reg(g, dst - g->seg_base[0], a16));
    }
    if (rep) {
        gen_set_reg(g, G_ECX, a16 ? (gen_rand(g) & 0xffff0000u) | count : count);
    }
    if ((op == 1 || op == 4) && gen_chance(g, 50)) {
        gen_set_reg(g, G_EAX, gen_value(g, 4));
    }
    gen_begin(g, false);
    gen_prefixes(g, size == 2, 0, rep, seg_prefix, a16);
    gen_byte(g, (uint8_t)(opcodes[op] + (size != 1)));
    bool runs = !rep || count != 0;
    gen_end(g, compares && runs ? F_ALL : 0, 0);
}

/* ---- the stack ---- */

static void stack_push_pop(Gen *g)
{
    bool pop = gen_chance(g, 45);
    int size = gen_chance(g, 20) ? 2 : 4;
    int form = (int)gen_below(g, 3);
    if (!pop && form == 2) {
        /* PUSH imm8 (6A, sign-extended) or imm16/32 (68) */
        bool imm8 = gen_chance(g, 50);
        gen_begin(g, false);
        gen_prefixes(g, size == 2, 0, 0, 0, false);
        gen_byte(g, imm8 ? 0x6a : 0x68);
        uint32_t v = gen_value(g, imm8 ? 1 : size);
        for (int i = 0; i < (imm8 ? 1 : size); i++) {
            gen_byte(g, (uint8_t)(v >> (8 * i)));
        }
        gen_end(g, 0, 0);
        g->esp -= (uint32_t)size;
        return;
    }
    if (form == 0 || pop) {
        if (form == 0) {
            /* PUSH r (50+r, ESP included: the old value) / POP r (58+r, not ESP) */
            int r = pop ? gen_dst_reg(g, 4, 0) : (int)gen_below(g, 8);
            gen_begin(g, false);
            gen_prefixes(g, size == 2, 0, 0, 0, false);
            gen_byte(g, (uint8_t)((pop ? 0x58 : 0x50) + r));
            gen_end(g, 0, 0);
        } else {
            /* POP m (8F /0): with an ESP base the address uses the incremented ESP. */
            Rm rm = {.mem = true};
            gen_mem(g, &rm.m, size, REGION_STACK, 0, size);
            gen_begin(g, false);
            uint8_t opc = 0x8f;
            gen_modrm(g, size == 2, 0, 0, &opc, 1, 0, &rm, 0, 0);
            gen_end(g, 0, 0);
        }
        g->esp += pop ? (uint32_t)size : (uint32_t)-size;
        return;
    }
    /* PUSH m (FF /6) */
    Rm rm = {.mem = true};
    gen_mem(g, &rm.m, size, gen_chance(g, 50) ? REGION_STACK : REGION_INT, 0, 0);
    gen_begin(g, false);
    uint8_t opc = 0xff;
    gen_modrm(g, size == 2, 0, 0, &opc, 1, 6, &rm, 0, 0);
    gen_end(g, 0, 0);
    g->esp -= (uint32_t)size;
}

static void stack_pusha_popa(Gen *g)
{
    bool pop = gen_chance(g, 50);
    bool o16 = gen_chance(g, 25);
    uint32_t bytes = o16 ? 16 : 32;
    gen_begin(g, false);
    gen_prefixes(g, o16, 0, 0, 0, false);
    gen_byte(g, pop ? 0x61 : 0x60);
    gen_end(g, 0, 0);
    g->esp += pop ? bytes : (uint32_t)-bytes;
}

/* PUSHF/POPF (9C/9D): POPF takes a value pushed just before (TF and AC kept clear). */
static void stack_flags(Gen *g)
{
    bool o16 = gen_chance(g, 20);
    if (gen_chance(g, 50)) {
        gen_need_flags(g, F_ALL);
        gen_begin(g, false);
        gen_prefixes(g, o16, 0, 0, 0, false);
        gen_byte(g, 0x9c);
        gen_end(g, 0, 0);
        g->esp -= o16 ? 2u : 4u;
        return;
    }
    uint32_t v = gen_rand(g) & ~(0x100u | 0x40000u); /* no TF, no AC */
    gen_begin(g, false);
    gen_prefixes(g, o16, 0, 0, 0, false);
    gen_byte(g, 0x68);
    if (o16) {
        gen_u16(g, (uint16_t)v);
    } else {
        gen_u32(g, v);
    }
    gen_end(g, 0, 0);
    gen_begin(g, false);
    gen_prefixes(g, o16, 0, 0, 0, false);
    gen_byte(g, 0x9d);
    gen_end(g, F_ALL, 0);
}

/* ENTER iw, ib (C8) and LEAVE (C9). */
static void stack_enter_leave(Gen *g)
{
    bool o16 = gen_chance(g, 15);
    uint32_t w = o16 ? 2 : 4;
    if (gen_chance(g, 50)) {
        uint32_t size = gen_below(g, 65);
        uint32_t level = o16 ? 0 : (gen_chance(g, 50) ? 0 : gen_below(g, 6));
        if (level > 1) {
            /* The nesting copies [EBP-4], [EBP-8], ...: point EBP into the stack. */
            gen_set_reg(g, G_EBP, g->esp + 64 + gen_below(g, 64));
        }
        gen_begin(g, false);
        gen_prefixes(g, o16, 0, 0, 0, false);
        gen_byte(g, 0xc8);
        gen_u16(g, (uint16_t)size);
        gen_byte(g, (uint8_t)level);
        gen_end(g, 0, 0);
        g->esp -= w + (level ? 4 * level : 0) + size;
        return;
    }
    uint32_t ebp = g->esp + gen_below(g, 96) - 32;
    gen_set_reg(g, G_EBP, ebp);
    gen_begin(g, false);
    gen_prefixes(g, o16, 0, 0, 0, false);
    gen_byte(g, 0xc9);
    gen_end(g, 0, 0);
    g->esp = ebp + w;
}

/*
 * CALL and RET: CALL rel32 (E8) or CALL r32 (FF /2) to a RET (C3) or
 * RET imm16 (C2) placed after a JMP that skips it:
 *     call L ; jmp +n ; L: ret
 */
static void stack_call_ret(Gen *g)
{
    bool imm = gen_chance(g, 30);
    uint16_t pop_bytes = imm ? (uint16_t)gen_below(g, 17) : 0;
    int ret_len = imm ? 3 : 1;
    bool indirect = gen_chance(g, 40);
    int reg = gen_dst_reg(g, 4, 0);
    if (indirect) {
        /* mov reg, L (5 bytes) ; call reg (2) ; jmp short (2) ; L: */
        gen_set_reg(g, reg, ORACLE_CODE_BASE + g->t->code_len + 5 + 2 + 2);
        gen_begin(g, false);
        gen_byte(g, 0xff);
        gen_byte(g, (uint8_t)(0xd0 | reg));
        gen_end(g, 0, 0);
    } else {
        gen_begin(g, false);
        gen_byte(g, 0xe8);
        gen_u32(g, 2);
        gen_end(g, 0, 0);
    }
    gen_begin(g, false);
    gen_byte(g, 0xeb);
    gen_byte(g, (uint8_t)ret_len);
    gen_end(g, 0, 0);
    gen_begin(g, false);
    gen_byte(g, imm ? 0xc2 : 0xc3);
    if (imm) {
        gen_u16(g, pop_bytes);
    }
    gen_end(g, 0, 0);
    g->esp += pop_bytes;
}

void gen_stack(Gen *g)
{
    /* Keep ESP well inside the stack region. */
    uint32_t lo = ORACLE_DATA_BASE + ORACLE_STACK_LO + 0x800;
    uint32_t hi = ORACLE_DATA_BASE + ORACLE_STACK_HI - 0x800;
    if (g->esp < lo || g->esp > hi) {
        return;
    }
    switch (gen_below(g, 8)) {
    case 0:
    case 1:
    case 2:
        stack_push_pop(g);
        break;
    case 3:
        stack_pusha_popa(g);
        break;
    case 4:
        stack_flags(g);
        break;
    case 5:
        stack_enter_leave(g);
        break;
    default:
        stack_call_ret(g);
        break;
    }
}

/* ---- forward branches ---- */

/* The block a branch may skip: MOV r32, imm32 instructions (no flags, no ESP). */
static void skipped_block(Gen *g, int n)
{
    for (int i = 0; i < n; i++) {
        gen_begin(g, false);
        gen_byte(g, (uint8_t)(0xb8 + gen_dst_reg(g, 4, 0)));
        gen_u32(g, gen_value(g, 4));
        gen_end(g, 0, 0);
    }
}

void gen_branch(Gen *g)
{
    int n = 1 + (int)gen_below(g, 3), cc = (int)gen_below(g, 16);
    uint8_t skip = (uint8_t)(5 * n);
    switch (gen_below(g, 5)) {
    case 0:
    case 1:
        gen_need_flags(g, gen_cc_reads(cc));
        gen_begin(g, false);
        if (gen_chance(g, 50)) {
            gen_byte(g, (uint8_t)(0x70 + cc)); /* Jcc rel8 */
            gen_byte(g, skip);
        } else {
            gen_byte(g, 0x0f); /* Jcc rel32 */
            gen_byte(g, (uint8_t)(0x80 + cc));
            gen_u32(g, skip);
        }
        gen_end(g, 0, 0);
        break;
    case 2: {
        /* JECXZ/JCXZ (E3, 67 E3) on a zero or non-zero count; in 64-bit
         * mode E3 is JRCXZ, the slot's 67h makes it JECXZ. */
        bool a16 = !g->mode64 && gen_chance(g, 30);
        uint32_t v = gen_chance(g, 50) ? 0 : gen_value(g, 4);
        if (a16 && gen_chance(g, 50)) {
            v &= 0xffff0000u; /* CX zero, ECX not */
        }
        gen_set_reg(g, G_ECX, v);
        gen_begin(g, false);
        gen_prefixes(g, false, 0, 0, g->mode64 ? ORACLE_SLOT_PREFIX : 0, a16);
        gen_byte(g, 0xe3);
        gen_byte(g, skip);
        gen_end(g, 0, 0);
        break;
    }
    case 3: {
        /* LOOP/LOOPE/LOOPNE (E2/E1/E0): decrement, branch forward (on RCX
         * in 64-bit mode but for the slot's 67h) */
        int kind = (int)gen_below(g, 3);
        if (gen_chance(g, 50)) {
            gen_set_reg(g, G_ECX, gen_chance(g, 50) ? 1 : gen_value(g, 4));
        }
        gen_need_flags(g, kind < 2 ? F_ZF : 0);
        gen_begin(g, false);
        gen_prefixes(g, false, 0, 0, g->mode64 ? ORACLE_SLOT_PREFIX : 0,
                     !g->mode64 && gen_chance(g, 20));
        gen_byte(g, (uint8_t)(0xe0 + kind));
        gen_byte(g, skip);
        gen_end(g, 0, 0);
        break;
    }
    default:
        if (gen_chance(g, 50)) {
            gen_begin(g, false);
            gen_byte(g, 0xeb); /* JMP rel8 */
            gen_byte(g, skip);
        } else {
            int reg = gen_dst_reg(g, 4, 0); /* JMP r32 (FF /4) to a known target */
            gen_set_reg(g, reg, ORACLE_CODE_BASE + g->t->code_len + 5 + 2 + skip);
            gen_begin(g, false);
            gen_byte(g, 0xff);
            gen_byte(g, (uint8_t)(0xe0 | reg));
        }
        gen_end(g, 0, 0);
        break;
    }
    skipped_block(g, n);
}

/* ---- deliberate faults ---- */

static void fault_bytes(Gen *g, const uint8_t *b, int n)
{
    gen_begin(g, false);
    for (int i = 0; i < n; i++) {
        gen_byte(g, b[i]);
    }
    gen_end(g, 0, 0);
}

/* Instructions that fault at CPL 3 with IOPL 0 (#GP(0)) or are invalid (#UD). */
static void fault_privileged(Gen *g)
{
    static const uint8_t insns[][4] = {
        {1, 0xfa},             /* CLI: #GP, IOPL < CPL */
        {1, 0xfb},             /* STI */
        {1, 0xf4},             /* HLT */
        {1, 0xec},             /* IN AL, DX: no I/O permission */
        {1, 0xee},             /* OUT DX, AL */
        {2, 0xe4, 0x60},       /* IN AL, 60h */
        {3, 0x0f, 0x22, 0xc0}, /* MOV CR0, EAX */
        {3, 0x0f, 0x20, 0xc0}, /* MOV EAX, CR0 */
        {3, 0x0f, 0x23, 0xf8}, /* MOV DR7, EAX */
        {2, 0x0f, 0x06},       /* CLTS */
        {2, 0x0f, 0x08},       /* INVD */
        {2, 0x0f, 0x09},       /* WBINVD */
        {2, 0x0f, 0x30},       /* WRMSR */
        {2, 0x0f, 0x32},       /* RDMSR */
        {3, 0x0f, 0x01, 0xf0}, /* LMSW AX */
        {3, 0x0f, 0x00, 0xd0}, /* LLDT AX */
        {3, 0x0f, 0x00, 0xd8}, /* LTR AX */
        {2, 0x0f, 0x0b},       /* UD2: #UD */
        {3, 0xf0, 0x01, 0xc0}, /* LOCK ADD EAX, EAX: #UD (register destination) */
        {2, 0xf0, 0x90},       /* LOCK NOP: #UD */
        {3, 0x0f, 0xc7, 0xc8}, /* CMPXCHG8B with a register operand: #UD */
        {2, 0x8d, 0xc0},       /* LEA EAX, EAX: #UD */
        {2, 0x8e, 0xc8},       /* MOV CS, AX: #UD */
        {1, 0xcc},             /* INT3: #BP, a trap */
    };
    const uint8_t *p = insns[gen_below(g, sizeof(insns) / sizeof(insns[0]))];
    fault_bytes(g, p + 1, p[0]);
}

/* #DE: DIV by zero, IDIV overflow, AAM 0 (not in mode64: AAM is #UD there). */
static void fault_divide(Gen *g)
{
    switch (gen_below(g, g->mode64 ? 2 : 3)) {
    case 0: {
        int r = gen_dst_reg(g, 4, 1u << G_EAX | 1u << G_EDX);
        gen_set_reg(g, r, 0);
        uint8_t b[2] = {0xf7, (uint8_t)(0xf0 | r)};
        fault_bytes(g, b, 2);
        break;
    }
    case 1: {
        gen_set_reg(g, G_EAX, 0x80000000u);
        gen_set_reg(g, G_EDX, 0xffffffffu);
        gen_set_reg(g, G_ECX, 0xffffffffu);
        uint8_t b[2] = {0xf7, 0xf9}; /* IDIV ECX: -2^31 / -1 overflows */
        fault_bytes(g, b, 2);
        break;
    }
    default: {
        uint8_t b[2] = {0xd4, 0x00};
        fault_bytes(g, b, 2);
        break;
    }
    }
    g->poison |= F_ALL; /* not reached when it faults; keeps later readers honest */
}

/* Segment faults: a write through CS, an access past FS's 64 KiB limit. */
static void fault_segment(Gen *g)
{
    if (gen_chance(g, 50)) {
        uint32_t target = gen_target(g, REGION_INT, 4);
        gen_begin(g, false);
        gen_byte(g, 0x2e);
        gen_byte(g, 0x89); /* MOV CS:[disp32], EAX */
        gen_byte(g, 0x05);
        gen_u32(g, target);
        gen_end(g, 0, 0);
        return;
    }
    uint32_t off = 0xffff - gen_below(g, 3); /* the dword straddles the limit */
    gen_begin(g, false);
    gen_byte(g, 0x64);
    gen_byte(g, 0x8b); /* MOV EAX, FS:[disp32] */
    gen_byte(g, 0x05);
    gen_u32(g, off);
    gen_end(g, 0, 0);
}

/* INTO (CE) with OF set or clear; BOUND (62) in and out of range. */
static void fault_checks(Gen *g)
{
    if (gen_chance(g, 50)) {
        int r = gen_dst_reg(g, 4, 0);
        gen_set_reg(g, r, gen_chance(g, 60) ? 0x80000000u : 5);
        gen_begin(g, false);
        gen_byte(g, 0x83); /* CMP r, 1: OF=1 iff r was 80000000h */
        gen_byte(g, (uint8_t)(0xf8 | r));
        gen_byte(g, 1);
        gen_end(g, F_ALL, 0);
        gen_begin(g, false);
        gen_byte(g, 0xce);
        gen_end(g, 0, 0);
        return;
    }
    bool word = gen_chance(g, 30);
    int size = word ? 2 : 4;
    int reg = gen_dst_reg(g, size, 0);
    uint32_t lo = gen_value(g, size), hi = gen_value(g, size), v = gen_value(g, size);
    gen_set_reg(g, reg, v);
    Rm rm = {.mem = true};
    gen_mem(g, &rm.m, 2 * size, REGION_INT, 1u << reg, 0);
    gen_set_mem(g, rm.m.linear, lo, size);
    gen_set_mem(g, rm.m.linear + (uint32_t)size, hi, size);
    gen_begin(g, false);
    uint8_t opc = 0x62;
    gen_modrm(g, word, 0, 0, &opc, 1, reg, &rm, 0, 0);
    gen_end(g, 0, 0);
}

/* An instruction longer than 15 bytes: #GP(0) (SDM Vol.2 2.3.11). */
static void fault_too_long(Gen *g)
{
    int n = 14 + (int)gen_below(g, 3);
    gen_begin(g, false);
    for (int i = 0; i < n; i++) {
        gen_byte(g, 0x3e);
    }
    gen_byte(g, 0x90);
    gen_end(g, 0, 0);
}

/*
 * In mode64, no segment faults (64-bit mode ignores the CS override and
 * has no segment limits), no INTO (invalid there) and no BOUND (62 is
 * EVEX there).
 */
void gen_fault(Gen *g)
{
    static const int kinds64[4] = {0, 1, 2, 5};
    switch (g->mode64 ? kinds64[gen_below(g, 4)] : (int)gen_below(g, 6)) {
    case 0:
    case 1:
        fault_privileged(g);
        break;
    case 2:
        fault_divide(g);
        break;
    case 3:
        fault_segment(g);
        break;
    case 4:
        fault_checks(g);
        break;
    default:
        fault_too_long(g);
        break;
    }
}
