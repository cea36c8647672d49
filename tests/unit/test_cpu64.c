/*
 * The interpreter in 64-bit mode (issue 19): the CPU is put straight into
 * IA-32e mode with identity-mapped 4-level tables (EFER.LME|LMA, CR0.PG|PE,
 * CR4.PAE, CS.L) and runs short code sequences, checked by registers,
 * flags and memory.  Long-mode entry itself (MOV CR0, far jumps, gates) is
 * not exercised here.
 *
 *  - the mode summary: HF_LMA and HF_CS64 from EFER.LMA and CS.L;
 *  - operand paths: 64-bit registers, R8-R15, SPL..DIL against AH..BH, the
 *    32-bit write that zero-extends, 8/16-bit writes that merge;
 *  - effective addresses: 64-bit, 67h 32-bit, RIP-relative; FS/GS bases;
 *    canonical checks (#GP(0), #SS(0) through SS);
 *  - the integer operations at operand size 8;
 *  - fetch in 64-bit mode and the icache keyed by mode.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "hw/pc/vmstate_pc.h"
#include "migration/vmstate.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define PML4      0x20000u /* PML4, PDPT, PD: 3 pages; identity 2 MiB pages of the first 8 MiB */
#define CODE      0x100000u
#define DATA      0x200000u
#define STACK_TOP 0x300000u
#define RAM       (8u << 20)

#define F_ALL (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

static TestVM *vm;
static CPUState *cpu;
static int exc_vector;
static uint32_t exc_error;

static void on_exception(void *opaque, CPUState *c, int vector, uint32_t error_code, bool external)
{
    (void)opaque;
    (void)c;
    if (!external && exc_vector < 0) {
        exc_vector = vector;
        exc_error = error_code;
    }
}

static void put64(uint32_t paddr, uint64_t v)
{
    phys_write_buf(&vm->phys, paddr, &v, 8);
}

static uint64_t get64(uint32_t paddr)
{
    uint64_t v;
    phys_read_buf(&vm->phys, paddr, &v, 8);
    return v;
}

/* IA-32e mode at CPL 0 with a 64-bit CS, RIP = CODE, RSP = STACK_TOP. */
static void setup(void)
{
    vm = testvm_new(RAM);
    ck_assert_ptr_nonnull(vm);
    cpu = &vm->cpu;
    testvm_flat32(vm, 0, CODE);
    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[0..3]: 2 MiB pages. */
    put64(PML4, (PML4 + 0x1000) | 0x7);
    put64(PML4 + 0x1000, (PML4 + 0x2000) | 0x7);
    for (int i = 0; i < 4; i++) {
        put64(PML4 + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x87);
    }
    cpu->cr3 = PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer = EFER_LME | EFER_LMA;
    cpu->cr0 |= CR0_PE | CR0_PG;
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    cpu->regs[R_ESP] = STACK_TOP;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
    exc_vector = -1;
    exc_error = 0;
    cpu->hooks.on_exception = on_exception;
}

static void teardown(void)
{
    testvm_free(vm);
    vm = NULL;
    cpu = NULL;
}

/* Load code at CODE and run n instructions from it. */
static void run(const uint8_t *code, size_t len, int n)
{
    testvm_load(vm, CODE, code, len);
    cpu->eip = CODE;
    for (int i = 0; i < n && exc_vector < 0; i++) {
        cpu_step(cpu);
    }
}

#define RUN(n, ...)                                                                                \
    do {                                                                                           \
        static const uint8_t code_[] = {__VA_ARGS__};                                              \
        run(code_, sizeof(code_), (n));                                                            \
    } while (0)

static uint32_t arith_flags(void)
{
    return cpu_get_eflags(cpu) & F_ALL;
}

/* ---- the mode summary ---- */

START_TEST(test_mode_bits)
{
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_LMA | HF_CS64);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_64);
    /* Compatibility mode: CS.L clear, CS.D set. */
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_L) | DESC_B;
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_LMA | HF_CS32);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_32);
    /* CS.L means nothing outside IA-32e mode. */
    cpu->seg[SEG_CS].attr |= DESC_L;
    cpu->efer = 0;
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_CS32);
    cpu->seg[SEG_CS].attr &= ~DESC_B;
    cpu_update_mode(cpu);
    ck_assert_int_eq(cpu_decode_mode(cpu->hflags), DECODE_16);
}
END_TEST

/* ---- operand paths ---- */

START_TEST(test_regs_and_widths)
{
    RUN(9, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
        0x11,                                      /* mov rax, 1122334455667788h */
        0x49, 0x89, 0xc0,                          /* mov r8, rax */
        0x49, 0x89, 0xc7,                          /* mov r15, rax */
        0x41, 0xb8, 0x01, 0x00, 0x00, 0x00,        /* mov r8d, 1: zero-extends */
        0x66, 0x41, 0xbf, 0x34, 0x12,              /* mov r15w, 1234h: merges */
        0x41, 0xb7, 0x56,                          /* mov r15b, 56h */
        0x48, 0x89, 0xc3,                          /* mov rbx, rax */
        0x89, 0xdb,                                /* mov ebx, ebx: zero-extends */
        0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff); /* mov rcx, -1 (imm32 sign-extended) */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x1122334455667788));
    ck_assert_uint_eq(cpu->regs[8], 1);
    ck_assert_uint_eq(cpu->regs[15], UINT64_C(0x1122334455661256));
    ck_assert_uint_eq(cpu->regs[R_EBX], UINT64_C(0x55667788));
    ck_assert_uint_eq(cpu->regs[R_ECX], UINT64_MAX);
    ck_assert_uint_eq(cpu->eip, CODE + 42);
}
END_TEST

/* With REX, byte registers 4-7 are SPL..DIL; without, AH..BH. */
START_TEST(test_byte_registers)
{
    cpu->regs[R_ESI] = UINT64_C(0x1122334455667788);
    cpu->regs[R_EDX] = 0xabcd;
    RUN(4, 0x40, 0x88, 0xf0, /* mov al, sil */
        0x88, 0xf1,          /* mov cl, dh */
        0x40, 0xb7, 0x99,    /* mov dil, 99h */
        0x44, 0x88, 0xe3);   /* mov bl, r12b */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xff, 0x88);
    ck_assert_uint_eq(cpu->regs[R_ECX] & 0xff, 0xab);
    ck_assert_uint_eq(cpu->regs[R_EDI], 0x99);
    ck_assert_uint_eq(cpu->regs[R_EBX] & 0xff, cpu->regs[12] & 0xff);
}
END_TEST

START_TEST(test_rip_relative)
{
    put64(CODE + 7 + 0x100, UINT64_C(0xfedcba9876543210));
    RUN(2, 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, /* mov rax, [rip+100h] */
        0x48, 0x8d, 0x1d, 0xf2, 0xff, 0xff, 0xff);   /* lea rbx, [rip-0Eh]: CODE */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0xfedcba9876543210));
    ck_assert_uint_eq(cpu->regs[R_EBX], CODE);
}
END_TEST

/* 64-bit addresses do not wrap at 4 GiB; 67h makes them 32-bit. */
START_TEST(test_address_sizes)
{
    put64(DATA, 0x1111);
    put64(DATA + 8, 0x2222);
    cpu->regs[R_EBX] = UINT64_C(0x100000000) + DATA; /* above the mapped 8 MiB */
    cpu->regs[R_ESI] = DATA;
    RUN(2, 0x67, 0x8b, 0x03,           /* mov eax, [ebx]: DATA */
        0x48, 0x8b, 0x4c, 0x1e, 0x08); /* mov rcx, [rsi+rbx+8] */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1111);
    /* rsi + rbx + 8 = 1_0040_0008h: unmapped, so #PF (a 32-bit wrap would read DATA+8) */
    ck_assert_int_eq(exc_vector, EXC_PF);
    ck_assert_uint_eq((uint32_t)cpu->cr2, 0x00400008u);
}
END_TEST

/* Only FS and GS bases count in 64-bit mode; limits are not checked. */
START_TEST(test_segment_bases)
{
    put64(DATA + 8, 0xaaaa);
    put64(DATA + 0x1008, 0xbbbb);
    cpu->seg[SEG_FS].base = DATA;
    cpu->seg[SEG_GS].base = DATA + 0x1000;
    cpu->seg[SEG_DS].base = 0x1000;
    cpu->seg[SEG_DS].limit = 0;
    cpu->regs[R_EBX] = DATA + 8;
    RUN(3, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, /* mov rax, fs:[8] */
        0x65, 0x48, 0x8b, 0x0c, 0x25, 0x08, 0x00, 0x00, 0x00,    /* mov rcx, gs:[8] */
        0x48, 0x8b, 0x13);                                       /* mov rdx, [rbx] (DS) */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xaaaa);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0xbbbb);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0xaaaa);
}
END_TEST

START_TEST(test_canonical_gp)
{
    cpu->regs[R_EBX] = UINT64_C(0x0000800000000000);
    RUN(1, 0x48, 0x8b, 0x03); /* mov rax, [rbx] */
    ck_assert_int_eq(exc_vector, EXC_GP);
    ck_assert_uint_eq(exc_error, 0);
}
END_TEST

/* A reference through SS (RBP base) faults #SS(0). */
START_TEST(test_canonical_ss)
{
    cpu->regs[R_EBP] = UINT64_C(0xffff700000000000);
    RUN(1, 0x48, 0x8b, 0x45, 0x00); /* mov rax, [rbp] */
    ck_assert_int_eq(exc_vector, EXC_SS);
    ck_assert_uint_eq(exc_error, 0);
}
END_TEST

/* An access whose last byte leaves the canonical lower half faults too. */
START_TEST(test_canonical_straddle)
{
    cpu->regs[R_EBX] = UINT64_C(0x00007ffffffffffc);
    RUN(1, 0x48, 0x8b, 0x03); /* mov rax, [rbx] */
    ck_assert_int_eq(exc_vector, EXC_GP);
}
END_TEST

START_TEST(test_canonical_push)
{
    cpu->regs[R_ESP] = UINT64_C(0x0000800000000004);
    RUN(1, 0x50); /* push rax */
    ck_assert_int_eq(exc_vector, EXC_SS);
}
END_TEST

/* ---- integer operations at operand size 8 ---- */

START_TEST(test_alu64)
{
    cpu->regs[R_EAX] = UINT64_MAX;
    cpu->regs[R_EBX] = 1;
    RUN(1, 0x48, 0x01, 0xd8); /* add rax, rbx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(arith_flags(), EFLAGS_CF | EFLAGS_ZF | EFLAGS_PF | EFLAGS_AF);

    cpu->regs[R_EAX] = UINT64_C(0x7fffffffffffffff);
    RUN(1, 0x48, 0x83, 0xc0, 0x01); /* add rax, 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000000000));
    ck_assert_uint_eq(arith_flags() & (EFLAGS_OF | EFLAGS_SF | EFLAGS_CF), EFLAGS_OF | EFLAGS_SF);

    cpu->regs[R_EAX] = UINT64_C(0x1234567800000005);
    RUN(1, 0x48, 0x83, 0xe8, 0xff); /* sub rax, -1 (imm8 sign-extended to 64) */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x1234567800000006));

    cpu->regs[R_EAX] = UINT64_C(0xffffffff00000001);
    RUN(1, 0x83, 0xc0, 0x01); /* add eax, 1: zero-extends */
    ck_assert_uint_eq(cpu->regs[R_EAX], 2);

    cpu->regs[R_EAX] = UINT64_C(0x8000000000000000);
    RUN(1, 0x48, 0xf7, 0xd8); /* neg rax */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000000000));
    ck_assert_uint_eq(arith_flags() & (EFLAGS_OF | EFLAGS_CF), EFLAGS_OF | EFLAGS_CF);

    cpu->regs[R_EAX] = 0;
    RUN(1, 0x48, 0xff, 0xc8); /* dec rax */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_MAX);
    RUN(1, 0x48, 0xf7, 0xd0); /* not rax */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);

    cpu->regs[R_EAX] = UINT64_C(0x100000000);
    cpu->regs[R_EBX] = UINT64_C(0x100000000);
    RUN(1, 0x48, 0x39, 0xd8); /* cmp rax, rbx */
    ck_assert_uint_eq(arith_flags() & EFLAGS_ZF, EFLAGS_ZF);
    RUN(1, 0x48, 0x85, 0xc0); /* test rax, rax */
    ck_assert_uint_eq(arith_flags() & EFLAGS_ZF, 0);
}
END_TEST

START_TEST(test_mov_forms)
{
    put64(DATA, UINT64_C(0x8877665544332211));
    cpu->regs[R_EBX] = UINT64_C(0x80000000);
    RUN(6, 0x48, 0x63, 0xcb,                                        /* movsxd rcx, ebx */
        0x48, 0x0f, 0xbe, 0xd3,                                     /* movsx rdx, bl */
        0x48, 0x0f, 0xb7, 0xf3,                                     /* movzx rsi, bx */
        0x48, 0xa1, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rax, [moffs64 200000h] */
        0x48, 0xa3, 0x08, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov [moffs64 200008h], rax */
        0x48, 0xc7, 0x04, 0x25, 0x10, 0x00, 0x20, 0x00, 0xfe, 0xff, 0xff,
        0xff); /* mov qword [200010h], -2 */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_ECX], UINT64_C(0xffffffff80000000));
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
    ck_assert_uint_eq(cpu->regs[R_ESI], 0);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8877665544332211));
    ck_assert_uint_eq(get64(DATA + 8), UINT64_C(0x8877665544332211));
    ck_assert_uint_eq(get64(DATA + 16), UINT64_C(0xfffffffffffffffe));
}
END_TEST

START_TEST(test_sign_extensions)
{
    cpu->regs[R_EAX] = UINT64_C(0x12345678f0000000);
    RUN(1, 0x48, 0x98); /* cdqe */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0xfffffffff0000000));
    RUN(1, 0x48, 0x99); /* cqo */
    ck_assert_uint_eq(cpu->regs[R_EDX], UINT64_MAX);
    cpu->regs[R_EAX] = UINT64_C(0xffffffff00008000);
    RUN(1, 0x98); /* cwde: zero-extends into RAX */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0xffff8000));
    cpu->regs[R_EDX] = UINT64_C(0x1111111111111111);
    RUN(1, 0x99); /* cdq: EDX = sign of EAX, zero-extended into RDX */
    ck_assert_uint_eq(cpu->regs[R_EDX], 0xffffffffu);
    cpu->regs[R_EAX] = UINT64_C(0x1122334455667788);
    RUN(1, 0x48, 0x0f, 0xc8); /* bswap rax */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8877665544332211));
}
END_TEST

START_TEST(test_xchg_xadd_cmpxchg)
{
    cpu->regs[R_EAX] = 1;
    cpu->regs[9] = UINT64_C(0x200000000);
    RUN(1, 0x4c, 0x87, 0xc8); /* xchg rax, r9 */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x200000000));
    ck_assert_uint_eq(cpu->regs[9], 1);
    put64(DATA, UINT64_C(0x100000000));
    cpu->regs[R_EBX] = DATA;
    cpu->regs[R_ECX] = UINT64_C(0x300000000);
    RUN(1, 0x48, 0x0f, 0xc1, 0x0b); /* xadd [rbx], rcx */
    ck_assert_uint_eq(get64(DATA), UINT64_C(0x400000000));
    ck_assert_uint_eq(cpu->regs[R_ECX], UINT64_C(0x100000000));
    cpu->regs[R_EAX] = UINT64_C(0x400000000);
    cpu->regs[R_EDX] = 7;
    RUN(1, 0x48, 0x0f, 0xb1, 0x13); /* cmpxchg [rbx], rdx: equal */
    ck_assert_uint_eq(get64(DATA), 7);
    ck_assert_uint_eq(arith_flags() & EFLAGS_ZF, EFLAGS_ZF);
    RUN(1, 0x48, 0x0f, 0xb1, 0x13); /* again: differs, RAX = 7 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 7);
    ck_assert_uint_eq(arith_flags() & EFLAGS_ZF, 0);
}
END_TEST

START_TEST(test_cmpxchg16b)
{
    put64(DATA, 1);
    put64(DATA + 8, 2);
    cpu->regs[R_ESI] = DATA;
    cpu->regs[R_EAX] = 1;
    cpu->regs[R_EDX] = 2;
    cpu->regs[R_EBX] = UINT64_C(0x1111111111111111);
    cpu->regs[R_ECX] = UINT64_C(0x2222222222222222);
    RUN(1, 0x48, 0x0f, 0xc7, 0x0e); /* cmpxchg16b [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(DATA), UINT64_C(0x1111111111111111));
    ck_assert_uint_eq(get64(DATA + 8), UINT64_C(0x2222222222222222));
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ZF, EFLAGS_ZF);
    RUN(1, 0x48, 0x0f, 0xc7, 0x0e); /* mismatch: RDX:RAX loaded */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x1111111111111111));
    ck_assert_uint_eq(cpu->regs[R_EDX], UINT64_C(0x2222222222222222));
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ZF, 0);
    cpu->regs[R_ESI] = DATA + 8;
    RUN(1, 0x48, 0x0f, 0xc7, 0x0e); /* not 16-byte aligned: #GP(0) */
    ck_assert_int_eq(exc_vector, EXC_GP);
}
END_TEST

START_TEST(test_muldiv64)
{
    cpu->regs[R_EAX] = UINT64_C(0x8000000000000000);
    cpu->regs[R_EBX] = 4;
    RUN(1, 0x48, 0xf7, 0xe3); /* mul rbx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(cpu->regs[R_EDX], 2);
    ck_assert_uint_eq(arith_flags() & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF | EFLAGS_OF);

    cpu->regs[R_EAX] = (uint64_t)-3;
    cpu->regs[R_EBX] = 5;
    RUN(1, 0x48, 0xf7, 0xeb); /* imul rbx: RDX:RAX = -15 */
    ck_assert_uint_eq(cpu->regs[R_EAX], (uint64_t)-15);
    ck_assert_uint_eq(cpu->regs[R_EDX], UINT64_MAX);
    ck_assert_uint_eq(arith_flags() & (EFLAGS_CF | EFLAGS_OF), 0);

    cpu->regs[R_ECX] = UINT64_C(0x100000000);
    RUN(1, 0x48, 0x0f, 0xaf, 0xc9); /* imul rcx, rcx: 2^64 truncates to 0, overflow */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(arith_flags() & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF | EFLAGS_OF);

    cpu->regs[R_EDX] = 1;
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_EBX] = 2;
    RUN(1, 0x48, 0xf7, 0xf3); /* div rbx: 2^64 / 2 */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000000000));
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);

    cpu->regs[R_EDX] = UINT64_MAX;
    cpu->regs[R_EAX] = (uint64_t)-7;
    cpu->regs[R_EBX] = 2;
    RUN(1, 0x48, 0xf7, 0xfb); /* idiv rbx: -7 / 2 */
    ck_assert_uint_eq(cpu->regs[R_EAX], (uint64_t)-3);
    ck_assert_uint_eq(cpu->regs[R_EDX], (uint64_t)-1);

    cpu->regs[R_EDX] = UINT64_MAX;
    cpu->regs[R_EAX] = UINT64_C(0x8000000000000000);
    cpu->regs[R_EBX] = UINT64_MAX;
    RUN(1, 0x48, 0xf7, 0xfb); /* idiv rbx: -2^63 / -1 does not fit: #DE */
    ck_assert_int_eq(exc_vector, EXC_DE);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000000000));
}
END_TEST

/* A 32-bit DIV in 64-bit mode ignores bits 63..32 of RDX and RAX. */
START_TEST(test_div32_in_64)
{
    cpu->regs[R_EDX] = UINT64_C(0xffffffff00000000);
    cpu->regs[R_EAX] = UINT64_C(0xffffffff00000064);
    cpu->regs[R_EBX] = 10;
    RUN(1, 0xf7, 0xf3); /* div ebx */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], 10);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
}
END_TEST

START_TEST(test_shifts64)
{
    cpu->regs[R_EAX] = 1;
    cpu->regs[R_ECX] = 40;
    RUN(1, 0x48, 0xd3, 0xe0); /* shl rax, cl: 6-bit count */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(1) << 40);
    cpu->regs[R_EAX] = 1;
    RUN(1, 0xd3, 0xe0); /* shl eax, cl: 5-bit count, 40 & 31 = 8 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x100);
    cpu->regs[R_EAX] = UINT64_C(0x8000000000000000);
    RUN(1, 0x48, 0xc1, 0xf8, 0x3f); /* sar rax, 63 */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_MAX);
    cpu->regs[R_EAX] = UINT64_C(0x8000000000000001);
    RUN(1, 0x48, 0xd1, 0xc0); /* rol rax, 1 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 3);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_CF, EFLAGS_CF);
    RUN(1, 0x48, 0xd1, 0xd8); /* rcr rax, 1: CF in at the top */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000000001));
    cpu->regs[R_EAX] = UINT64_C(0x00000000ffffffff);
    cpu->regs[R_EDX] = UINT64_C(0xf000000000000000);
    RUN(1, 0x48, 0x0f, 0xa4, 0xd0, 0x04); /* shld rax, rdx, 4 */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x0000000ffffffff) << 4 | 0xf);
    RUN(1, 0x48, 0x0f, 0xac, 0xd0, 0x3c); /* shrd rax, rdx, 60 */
    ck_assert_uint_eq(cpu->regs[R_EAX],
                      (UINT64_C(0xffffffff) << 4 | 0xf) >> 60 | UINT64_C(0xf000000000000000) << 4);
}
END_TEST

/* A 32-bit shift by a masked count of 0 still writes the register: the
 * upper half clears (as the host CPU does, cpu.oracle_long). */
START_TEST(test_shift_count0_zero_extends)
{
    cpu->regs[R_EBP] = UINT64_C(0x6fae68b231b6bacc);
    cpu->regs[R_EAX] = UINT64_C(0x1234567800000001);
    RUN(2, 0xc1, 0xfd, 0x40,     /* sar ebp, 64: count 0 */
        0x48, 0xc1, 0xe0, 0x40); /* shl rax, 64: count 0, nothing */
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x31b6baccu);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x1234567800000001));
}
END_TEST

/* CMPXCHG r32 that fails does not write its destination register. */
START_TEST(test_cmpxchg_reg_mismatch)
{
    cpu->regs[15] = UINT64_C(0x5555555555555555);
    cpu->regs[8] = 1;
    cpu->regs[R_EAX] = UINT64_C(0xffffffff00000059);
    RUN(1, 0x45, 0x0f, 0xb1, 0xc7); /* cmpxchg r15d, r8d */
    ck_assert_uint_eq(cpu->regs[15], UINT64_C(0x5555555555555555));
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x55555555u);
}
END_TEST

START_TEST(test_bits64)
{
    put64(DATA + 16, 0);
    cpu->regs[R_EBX] = DATA;
    cpu->regs[R_EAX] = 2 * 64 + 37;
    RUN(1, 0x48, 0x0f, 0xab, 0x03); /* bts [rbx], rax: qword at +16, bit 37 */
    ck_assert_uint_eq(get64(DATA + 16), UINT64_C(1) << 37);
    put64(DATA - 8, UINT64_C(1) << 63);
    cpu->regs[R_EAX] = (uint64_t)-1;
    RUN(1, 0x48, 0x0f, 0xa3, 0x03); /* bt [rbx], rax: bit -1 is bit 63 of the qword before */
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_CF, EFLAGS_CF);
    cpu->regs[R_EDX] = UINT64_C(0x0000010000000000);
    RUN(2, 0x48, 0x0f, 0xbc, 0xca, /* bsf rcx, rdx */
        0x48, 0x0f, 0xbd, 0xf2);   /* bsr rsi, rdx */
    ck_assert_uint_eq(cpu->regs[R_ECX], 40);
    ck_assert_uint_eq(cpu->regs[R_ESI], 40);
}
END_TEST

/* CMOV with a 32-bit operand zero-extends even when it does not move. */
START_TEST(test_cmov_zero_extends)
{
    cpu->regs[R_EAX] = UINT64_MAX;
    cpu->regs[R_EBX] = 5;
    cpu->regs[R_ECX] = UINT64_MAX;
    RUN(3, 0x48, 0x85, 0xdb,     /* test rbx, rbx: ZF = 0 */
        0x0f, 0x44, 0xc3,        /* cmove eax, ebx: not taken */
        0x48, 0x0f, 0x44, 0xcb); /* cmove rcx, rbx: not taken, RCX kept */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffffffffu);
    ck_assert_uint_eq(cpu->regs[R_ECX], UINT64_MAX);
}
END_TEST

/* ---- stack and near transfers ---- */

START_TEST(test_stack64)
{
    cpu->regs[R_EAX] = UINT64_C(0x1122334455667788);
    RUN(4, 0x50,     /* push rax */
        0x66, 0x53,  /* push bx: 16-bit */
        0x66, 0x5b,  /* pop bx */
        0x41, 0x59); /* pop r9 */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(STACK_TOP - 8), UINT64_C(0x1122334455667788));
    ck_assert_uint_eq(cpu->regs[9], UINT64_C(0x1122334455667788));
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    RUN(1, 0x6a, 0xff); /* push -1: 8 bytes */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 8);
    ck_assert_uint_eq(get64(STACK_TOP - 8), UINT64_MAX);
}
END_TEST

START_TEST(test_call_ret64)
{
    RUN(3, 0xe8, 0x05, 0x00, 0x00, 0x00,     /* call +5 */
        0x90, 0x90, 0x90, 0x90, 0x90, 0xc3); /* ret */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(STACK_TOP - 8), CODE + 5);
    ck_assert_uint_eq(cpu->eip, CODE + 6); /* after call, ret, nop */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    /* call through a register, with a target above 4 GiB: no CS limit */
    cpu->regs[R_EAX] = UINT64_C(0x123456789000);
    RUN(1, 0xff, 0xd0); /* call rax */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->eip, UINT64_C(0x123456789000));
    ck_assert_uint_eq(get64(STACK_TOP - 8), CODE + 2);
}
END_TEST

START_TEST(test_jmp_noncanonical)
{
    cpu->regs[R_EAX] = UINT64_C(0x0000800000000000);
    RUN(1, 0xff, 0xe0); /* jmp rax: #GP at the jump */
    ck_assert_int_eq(exc_vector, EXC_GP);
}
END_TEST

START_TEST(test_fetch_noncanonical)
{
    cpu->eip = UINT64_C(0xffff000000000000);
    cpu_step(cpu);
    ck_assert_int_eq(exc_vector, EXC_GP);
}
END_TEST

START_TEST(test_loops64)
{
    cpu->regs[R_ECX] = UINT64_C(0x100000000);
    RUN(1, 0xe3, 0x10); /* jrcxz +10h: RCX is not 0 */
    ck_assert_uint_eq(cpu->eip, CODE + 2);
    RUN(1, 0x67, 0xe3, 0x10); /* jecxz +10h: ECX is 0 */
    ck_assert_uint_eq(cpu->eip, CODE + 3 + 0x10);
    RUN(1, 0xe2, 0xfe); /* loop $: RCX - 1 */
    ck_assert_uint_eq(cpu->regs[R_ECX], UINT64_C(0xffffffff));
    ck_assert_uint_eq(cpu->eip, CODE);
    cpu->regs[R_ECX] = UINT64_C(0x500000001);
    RUN(1, 0x67, 0xe2, 0xfd); /* loopd $: ECX = 0, zero-extended, falls through */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(cpu->eip, CODE + 3);
}
END_TEST

START_TEST(test_enter_leave64)
{
    cpu->regs[R_EBP] = UINT64_C(0x123456789);
    RUN(1, 0xc8, 0x10, 0x00, 0x00); /* enter 10h, 0 */
    ck_assert_uint_eq(get64(STACK_TOP - 8), UINT64_C(0x123456789));
    ck_assert_uint_eq(cpu->regs[R_EBP], STACK_TOP - 8);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 8 - 0x10);
    RUN(1, 0xc9); /* leave */
    ck_assert_uint_eq(cpu->regs[R_EBP], UINT64_C(0x123456789));
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
}
END_TEST

/* PUSH m64 and POP m64, whose RSP-based address uses RSP after the pop. */
START_TEST(test_memory_transfers64)
{
    put64(DATA + 8, UINT64_C(0x1122334455667788));
    cpu->regs[R_ESI] = DATA;
    RUN(2,
        0xff, 0x76, 0x08,        /* push qword [rsi+8] */
        0x8f, 0x44, 0x24, 0xf0); /* pop qword [rsp-10h]: address from RSP after the pop */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(STACK_TOP - 0x10), UINT64_C(0x1122334455667788));
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
}
END_TEST

/* CALL through a RIP-relative pointer, RET imm16 releasing 64-bit slots. */
START_TEST(test_call_indirect_rip)
{
    testvm_load(vm, CODE + 0x40, (const uint8_t[]){0xc2, 0x10, 0x00}, 3); /* ret 10h */
    put64(CODE + 0x80, CODE + 0x40);
    RUN(2, 0xff, 0x15, 0x7a, 0x00, 0x00, 0x00); /* call [rip+7Ah] = [CODE+80h] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->eip, CODE + 6);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP + 0x10);
}
END_TEST

START_TEST(test_xlat_setcc64)
{
    phys_write_buf(&vm->phys, DATA + 0x80, (const uint8_t[]){0x42}, 1);
    cpu->regs[R_EBX] = DATA;
    cpu->regs[R_EAX] = UINT64_C(0xffffffffffffff80);
    cpu->regs[R_ESP] = STACK_TOP;
    RUN(3,
        0x48, 0xd7,       /* xlat (REX.W: RBX) */
        0x48, 0x85, 0xc0, /* test rax, rax: ZF = 0 */
        0x40, 0x0f, 0x95, 0xc6); /* setnz sil */
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0xffffffffffffff42));
    ck_assert_uint_eq(cpu->regs[R_ESI] & 0xff, 1);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP); /* SIL, not AH-style SPL confusion */
}
END_TEST

START_TEST(test_pushf_popf64)
{
    RUN(3, 0xf9, /* stc */
        0x9c,    /* pushfq */
        0xf8);   /* clc */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 8);
    ck_assert_uint_eq(get64(STACK_TOP - 8) & ~UINT64_C(0xffffffff), 0);
    ck_assert_uint_eq(get64(STACK_TOP - 8) & EFLAGS_CF, EFLAGS_CF);
    put64(STACK_TOP - 8, EFLAGS_FIXED | EFLAGS_ZF | EFLAGS_AC);
    RUN(1, 0x9d); /* popfq: AC is writable at operand size 8 */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & (EFLAGS_ZF | EFLAGS_AC | EFLAGS_CF),
                      EFLAGS_ZF | EFLAGS_AC);
}
END_TEST

START_TEST(test_lahf_needs_feature)
{
    cpu->cpuid.ext_ecx |= CPUID_EXT3_LAHF_LM;
    RUN(1, 0x9f); /* lahf */
    ck_assert_int_eq(exc_vector, -1);
    cpu->cpuid.ext_ecx &= ~CPUID_EXT3_LAHF_LM;
    RUN(1, 0x9f);
    ck_assert_int_eq(exc_vector, EXC_UD);
}
END_TEST

/* ---- strings ---- */

START_TEST(test_strings64)
{
    for (int i = 0; i < 3; i++) {
        put64(DATA + 8 * i, UINT64_C(0x0101010101010101) * (i + 1));
    }
    cpu->regs[R_ESI] = DATA;
    cpu->regs[R_EDI] = DATA + 0x100;
    cpu->regs[R_ECX] = 3;
    RUN(1, 0xf3, 0x48, 0xa5); /* rep movsq */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(DATA + 0x110), UINT64_C(0x0303030303030303));
    ck_assert_uint_eq(cpu->regs[R_ESI], DATA + 24);
    ck_assert_uint_eq(cpu->regs[R_EDI], DATA + 0x118);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    /* 67h: ESI/EDI/ECX, each written as a dword (zero-extends) */
    cpu->regs[R_ESI] = UINT64_C(0xabcd00000000) + DATA;
    cpu->regs[R_EDI] = UINT64_C(0xabcd00000000) + DATA + 0x200;
    cpu->regs[R_ECX] = UINT64_C(0xabcd00000002);
    RUN(1, 0x67, 0xf3, 0xa4); /* rep movsb (addr32) */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_ESI], DATA + 2);
    ck_assert_uint_eq(cpu->regs[R_EDI], DATA + 0x202);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    cpu->regs[R_EAX] = UINT64_C(0x0303030303030303);
    cpu->regs[R_EDI] = DATA;
    cpu->regs[R_ECX] = 5;
    RUN(1, 0xf2, 0x48, 0xaf); /* repne scasq: found at the third */
    ck_assert_uint_eq(cpu->regs[R_ECX], 2);
    ck_assert_uint_eq(cpu->regs[R_EDI], DATA + 24);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & EFLAGS_ZF, EFLAGS_ZF);
}
END_TEST

/* ---- SSE with REX ---- */

static void sse_on(void)
{
    cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu->cr0 &= ~(CR0_EM | CR0_TS);
}

START_TEST(test_sse_rex_registers)
{
    sse_on();
    cpu->regs[R_EAX] = UINT64_C(0x1122334455667788);
    cpu->regs[9] = UINT64_C(0x0000000100000002);
    RUN(5, 0x66, 0x4c, 0x0f, 0x6e, 0xc8, /* movq xmm9, rax */
        0x66, 0x49, 0x0f, 0x6e, 0xf9,    /* movq xmm7, r9 */
        0x66, 0x44, 0x0f, 0xd4, 0xcf,    /* paddq xmm9, xmm7 */
        0x66, 0x4c, 0x0f, 0x7e, 0xcb,    /* movq rbx, xmm9 */
        0x66, 0x41, 0x0f, 0x7e, 0xf9);   /* movd r9d, xmm7: zero-extends */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EBX], UINT64_C(0x112233455566778a));
    ck_assert_uint_eq(cpu->regs[9], 2);
    uint64_t lo;
    memcpy(&lo, cpu_xmm(cpu, 9), 8);
    ck_assert_uint_eq(lo, UINT64_C(0x112233455566778a));
    ck_assert_ptr_eq(cpu_xmm(cpu, 9), cpu->xmm_hi[1]);
    /* XMM1 is untouched: XMM9 is not an alias of it */
    static const uint8_t zero[16];
    ck_assert_mem_eq(cpu->fpu.xmm[1], zero, 16);
}
END_TEST

START_TEST(test_sse_int64_conversions)
{
    sse_on();
    cpu->regs[R_EAX] = (uint64_t)INT64_C(-5000000000);
    RUN(2, 0xf2, 0x4c, 0x0f, 0x2a, 0xd0, /* cvtsi2sd xmm10, rax */
        0xf2, 0x49, 0x0f, 0x2c, 0xca);   /* cvttsd2si rcx, xmm10 */
    ck_assert_int_eq(exc_vector, -1);
    double d;
    memcpy(&d, cpu_xmm(cpu, 10), 8);
    ck_assert(d == -5000000000.0);
    ck_assert_uint_eq(cpu->regs[R_ECX], (uint64_t)INT64_C(-5000000000));
    /* without REX.W the dword forms: 32-bit source, 32-bit result */
    cpu->regs[R_EAX] = UINT64_C(0xffffffff00000007);
    RUN(2, 0xf2, 0x44, 0x0f, 0x2a, 0xd0, /* cvtsi2sd xmm10, eax */
        0xf2, 0x41, 0x0f, 0x2c, 0xca);   /* cvttsd2si ecx, xmm10 */
    ck_assert_uint_eq(cpu->regs[R_ECX], 7);
}
END_TEST

/* The alignment check of a 16-byte operand ignores DS's base in 64-bit mode. */
START_TEST(test_sse_alignment_64)
{
    sse_on();
    cpu->seg[SEG_DS].base = 8;
    cpu->regs[R_ESI] = DATA;
    RUN(1, 0x66, 0x44, 0x0f, 0x6f, 0x3e); /* movdqa xmm15, [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    cpu->regs[R_ESI] = DATA + 8;
    RUN(1, 0x66, 0x44, 0x0f, 0x6f, 0x3e);
    ck_assert_int_eq(exc_vector, EXC_GP);
}
END_TEST

/* FXSAVE/FXRSTOR in 64-bit mode carry XMM8-15 at bytes 288..415. */
START_TEST(test_fxsave_xmm_hi)
{
    sse_on();
    memset(cpu_xmm(cpu, 15), 0xab, 16);
    memset(cpu_xmm(cpu, 8), 0x5a, 16);
    cpu->regs[R_ESI] = DATA;
    RUN(1, 0x0f, 0xae, 0x06); /* fxsave [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(DATA + 288 + 7 * 16), UINT64_C(0xabababababababab));
    ck_assert_uint_eq(get64(DATA + 288), UINT64_C(0x5a5a5a5a5a5a5a5a));
    put64(DATA + 288, UINT64_C(0x0102030405060708));
    RUN(1, 0x0f, 0xae, 0x0e); /* fxrstor [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    uint64_t lo;
    memcpy(&lo, cpu_xmm(cpu, 8), 8);
    ck_assert_uint_eq(lo, UINT64_C(0x0102030405060708));
}
END_TEST

/* FXSAVE64/FXRSTOR64 (REX.W): FPU IP and DP are 64-bit offsets at 8 and
 * 16 with no FCS/FDS; plain FXSAVE in 64-bit mode keeps the 32-bit layout
 * (SDM Vol.2 FXSAVE, Tables 3-55 and 3-56). */
START_TEST(test_fxsave64_layout)
{
    sse_on();
    cpu->fpu.fip = 0x12345678;
    cpu->fpu.fcs = 0x33;
    cpu->fpu.fdp = 0x9abcdef0;
    cpu->fpu.fds = 0x2b;
    cpu->regs[R_ESI] = DATA;
    memset(vm->phys.ram + DATA, 0xee, 512);
    RUN(1, 0x0f, 0xae, 0x06); /* fxsave [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(DATA + 8), UINT64_C(0x0000003312345678));
    ck_assert_uint_eq(get64(DATA + 16), UINT64_C(0x0000002b9abcdef0));
    RUN(1, 0x48, 0x0f, 0xae, 0x06); /* fxsave64 [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(get64(DATA + 8), UINT64_C(0x12345678));
    ck_assert_uint_eq(get64(DATA + 16), UINT64_C(0x9abcdef0));
    /* FXRSTOR64 takes the offsets and no selectors ... */
    put64(DATA + 8, UINT64_C(0x0000004411112222));
    put64(DATA + 16, UINT64_C(0x0000005533334444));
    RUN(1, 0x48, 0x0f, 0xae, 0x0e); /* fxrstor64 [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->fpu.fip, 0x11112222);
    ck_assert_uint_eq(cpu->fpu.fdp, 0x33334444);
    ck_assert_uint_eq(cpu->fpu.fcs, 0);
    ck_assert_uint_eq(cpu->fpu.fds, 0);
    /* ... FXRSTOR both */
    RUN(1, 0x0f, 0xae, 0x0e); /* fxrstor [rsi] */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->fpu.fip, 0x11112222);
    ck_assert_uint_eq(cpu->fpu.fcs, 0x44);
    ck_assert_uint_eq(cpu->fpu.fds, 0x55);
}
END_TEST

START_TEST(test_vmstate_xmm_hi)
{
    for (int i = 0; i < 8; i++) {
        memset(cpu->xmm_hi[i], 0x11 * (i + 1), 16);
    }
    TestVM *b = testvm_new(1u << 16);
    VMWriter w;
    vm_writer_init(&w);
    vmstate_save_fields(&w, &cpu_vmstate, cpu);
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    ck_assert(vmstate_load_fields(&r, &cpu_vmstate, &b->cpu, cpu_vmstate.version));
    ck_assert_mem_eq(b->cpu.xmm_hi, cpu->xmm_hi, sizeof(cpu->xmm_hi));
    ck_assert_uint_ge(cpu_vmstate.version, 3);
    vm_writer_free(&w);
    testvm_free(b);
}
END_TEST

/* ---- fetch and the icache ---- */

/* 48 FF C0 is INC RAX in 64-bit mode but DEC EAX; INC EAX in 32-bit code:
 * the decoded copy from one mode must not run in the other. */
START_TEST(test_icache_by_mode)
{
    cpu->regs[R_EAX] = 10;
    RUN(1, 0x48, 0xff, 0xc0);
    ck_assert_uint_eq(cpu->regs[R_EAX], 11);
    ck_assert_uint_eq(cpu->eip, CODE + 3);
    /* compatibility mode, same bytes at the same address */
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_L) | DESC_B;
    cpu_update_mode(cpu);
    cpu->eip = CODE;
    cpu_step(cpu);
    ck_assert_uint_eq(cpu->regs[R_EAX], 10);
    ck_assert_uint_eq(cpu->eip, CODE + 1);
    /* and back */
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    cpu_update_mode(cpu);
    cpu->eip = CODE;
    cpu_step(cpu);
    ck_assert_uint_eq(cpu->regs[R_EAX], 11);
    ck_assert_uint_eq(cpu->eip, CODE + 3);
}
END_TEST

/* Code above 4 GiB: a 64-bit RIP fetches from there (mapped to CODE). */
START_TEST(test_fetch_high_rip)
{
    /* PML4[1] (512 GiB) -> the same PDPT: 8000000000h + x maps to x */
    put64(PML4 + 8, (PML4 + 0x1000) | 0x7);
    tlb_flush_all(cpu);
    testvm_load(vm, CODE, (const uint8_t[]){0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00}, 7);
    cpu->eip = UINT64_C(0x8000000000) + CODE; /* lea rax, [rip] */
    cpu_step(cpu);
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], UINT64_C(0x8000000000) + CODE + 7);
    ck_assert_uint_eq(cpu->eip, UINT64_C(0x8000000000) + CODE + 7);
}
END_TEST

/* An instruction breakpoint matches RIP itself: CS's base does not count. */
START_TEST(test_breakpoint_at_rip)
{
    cpu->seg[SEG_CS].base = 0x1000;
    cpu->dr[0] = CODE;
    cpu->dr[7] = 0x401; /* L0, execute */
    RUN(1, 0x90);
    ck_assert_int_eq(exc_vector, EXC_DB);
    ck_assert_uint_eq(cpu->dr[6] & 1, 1);
}
END_TEST

/* Outside 64-bit mode nothing changes: 32-bit code keeps its wraps. */
START_TEST(test_compat_mode_wraps)
{
    cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_L) | DESC_B;
    cpu_update_mode(cpu);
    cpu->regs[R_EBX] = 0xfffffff0u;
    put64(DATA + 0x10, 0x5a5a);
    RUN(1, 0x8b, 0x83, 0x20, 0x00, 0x20, 0x00); /* mov eax, [ebx+200020h]: wraps to 200010h */
    ck_assert_int_eq(exc_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x5a5a);
}
END_TEST

static Suite *cpu64_suite(void)
{
    Suite *s = suite_create("cpu64");
    TCase *tc = tcase_create("mode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode_bits);
    tcase_add_test(tc, test_regs_and_widths);
    tcase_add_test(tc, test_byte_registers);
    tcase_add_test(tc, test_rip_relative);
    tcase_add_test(tc, test_address_sizes);
    tcase_add_test(tc, test_segment_bases);
    tcase_add_test(tc, test_canonical_gp);
    tcase_add_test(tc, test_canonical_ss);
    tcase_add_test(tc, test_canonical_straddle);
    tcase_add_test(tc, test_canonical_push);
    tcase_add_test(tc, test_alu64);
    tcase_add_test(tc, test_mov_forms);
    tcase_add_test(tc, test_sign_extensions);
    tcase_add_test(tc, test_xchg_xadd_cmpxchg);
    tcase_add_test(tc, test_cmpxchg16b);
    tcase_add_test(tc, test_muldiv64);
    tcase_add_test(tc, test_div32_in_64);
    tcase_add_test(tc, test_shifts64);
    tcase_add_test(tc, test_bits64);
    tcase_add_test(tc, test_shift_count0_zero_extends);
    tcase_add_test(tc, test_cmpxchg_reg_mismatch);
    tcase_add_test(tc, test_cmov_zero_extends);
    tcase_add_test(tc, test_stack64);
    tcase_add_test(tc, test_call_ret64);
    tcase_add_test(tc, test_jmp_noncanonical);
    tcase_add_test(tc, test_fetch_noncanonical);
    tcase_add_test(tc, test_loops64);
    tcase_add_test(tc, test_enter_leave64);
    tcase_add_test(tc, test_pushf_popf64);
    tcase_add_test(tc, test_memory_transfers64);
    tcase_add_test(tc, test_call_indirect_rip);
    tcase_add_test(tc, test_xlat_setcc64);
    tcase_add_test(tc, test_lahf_needs_feature);
    tcase_add_test(tc, test_strings64);
    tcase_add_test(tc, test_icache_by_mode);
    tcase_add_test(tc, test_fetch_high_rip);
    tcase_add_test(tc, test_compat_mode_wraps);
    tcase_add_test(tc, test_breakpoint_at_rip);
    tcase_add_test(tc, test_sse_rex_registers);
    tcase_add_test(tc, test_sse_int64_conversions);
    tcase_add_test(tc, test_sse_alignment_64);
    tcase_add_test(tc, test_fxsave_xmm_hi);
    tcase_add_test(tc, test_fxsave64_layout);
    tcase_add_test(tc, test_vmstate_xmm_hi);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpu64_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
