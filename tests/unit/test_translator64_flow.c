/*
 * Control transfers of 64-bit blocks (translator/gen64_flow.c) in
 * lockstep with the interpreter: each program runs on the interpreter, on
 * bt and under the lockstep check, and all three must end with the same
 * registers, RIP, flags, instruction count and RAM.  The programs are
 * built so that a wrong return prediction, jump-cache hit or chained jump
 * runs other guest code and ends with other registers: a RET to an
 * address no CALL pushed, a return address rewritten on the stack, a
 * stack switch, a longjmp out of a recursion, indirect targets read from
 * a table that changes, a CR3 write that maps other code at the same
 * linear address, code run in 64-bit and in compatibility mode at the
 * same addresses (bytes that mean different things in the two), and
 * non-canonical targets (#GP(0) at the branch with nothing done).  The
 * statistics show the transfers ran as translated code: no callouts but
 * the ones named, and few run-loop entries.
 *
 * The programs were assembled with nasm; each instruction's bytes stand
 * beside it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/lm_fixture.h"

/* ---- the programs ---- */

/* One instruction a line, its source beside it. */
/* clang-format off */

/* at 0x10000 */
static const uint8_t pairs_0[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00,                   /* mov ecx, 200 */
    0x31, 0xc0,                                     /* xor eax, eax */
    0x48, 0x8d, 0x1d, 0x39, 0x00, 0x00, 0x00,       /* lea rbx, [rel f2] */
    0x48, 0x8d, 0x35, 0x4b, 0x00, 0x00, 0x00,       /* lea rsi, [rel table] */
    0xe8, 0x28, 0x00, 0x00, 0x00,                   /* call f1 */
    0xff, 0xd3,                                     /* call rbx */
    0xff, 0x16,                                     /* call [rsi] */
    0x89, 0xca,                                     /* mov edx, ecx */
    0x83, 0xe2, 0x01,                               /* and edx, 1 */
    0xff, 0x54, 0xd6, 0x08,                         /* call [rsi + rdx*8 + 8] */
    0x6a, 0x07,                                     /* push 7 */
    0xe8, 0x28, 0x00, 0x00, 0x00,                   /* call f4 */
    0xe8, 0xcd, 0x0f, 0x00, 0x00,                   /* call far_fn */
    0x48, 0x8d, 0x3d, 0x03, 0x00, 0x00, 0x00,       /* lea rdi, [rel after] */
    0xff, 0xe7,                                     /* jmp rdi */
    0xcc,                                           /* int3 */
    0xff, 0xc9,                                     /* dec ecx */
    0x75, 0xd4,                                     /* jnz next */
    0xf4,                                           /* hlt */
    0x48, 0x83, 0xc0, 0x01,                         /* f1: add rax, 1 */
    0xc3,                                           /* ret */
    0x48, 0x83, 0xc0, 0x03,                         /* f2: add rax, 3 */
    0xe8, 0xf2, 0xff, 0xff, 0xff,                   /* call f1 */
    0xc3,                                           /* ret */
    0x48, 0x8d, 0x04, 0x40,                         /* f3: lea rax, [rax + rax*2] */
    0xc3,                                           /* ret */
    0x48, 0x03, 0x44, 0x24, 0x08,                   /* f4: add rax, [rsp+8] */
    0xc2, 0x08, 0x00,                               /* ret 8 */
    0x90, 0x90,                                     /* align 8 */
    0x51, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* table: dq f3, f1, f2 */
    0x42, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x47, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* at 0x11000 */
static const uint8_t pairs_1[] = {
    0x48, 0x83, 0xe8, 0x05,                         /* sub rax, 5 */
    0xff, 0x25, 0x01, 0x00, 0x00, 0x00,             /* jmp [rel back_ptr] */
    0xc3,                                           /* ret */
    0x0a, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* back_ptr: dq back_tail */
};

/* at 0x10000 */
static const uint8_t mismatch_0[] = {
    0xb9, 0x32, 0x00, 0x00, 0x00,                   /* mov ecx, 50 */
    0x31, 0xc0,                                     /* xor eax, eax */
    0x41, 0xba, 0x00, 0x58, 0x00, 0x00,             /* mov r10, 0x5800 */
    0x48, 0x8d, 0x15, 0x07, 0x00, 0x00, 0x00,       /* lea rdx, [rel l1] */
    0x52,                                           /* push rdx */
    0xc3,                                           /* ret */
    0x05, 0x00, 0x00, 0x10, 0x00,                   /* add eax, 0x100000 */
    0x83, 0xc0, 0x01,                               /* l1: add eax, 1 */
    0xe8, 0x5a, 0x00, 0x00, 0x00,                   /* call rewrite */
    0x05, 0x00, 0x00, 0x20, 0x00,                   /* add eax, 0x200000 */
    0x83, 0xc0, 0x02,                               /* l2: add eax, 2 */
    0x48, 0x8d, 0x15, 0x0d, 0x00, 0x00, 0x00,       /* lea rdx, [rel l3] */
    0x49, 0x89, 0x12,                               /* mov [r10], rdx */
    0xe8, 0x4f, 0x00, 0x00, 0x00,                   /* call switch */
    0x05, 0x00, 0x00, 0x30, 0x00,                   /* add eax, 0x300000 */
    0x4c, 0x89, 0xcc,                               /* l3: mov rsp, r9 */
    0x48, 0x83, 0xc4, 0x08,                         /* add rsp, 8 */
    0x83, 0xc0, 0x03,                               /* add eax, 3 */
    0x48, 0x89, 0x24, 0x25, 0x00, 0x00, 0x02, 0x00, /* mov [abs 0x20000], rsp */
    0x48, 0x8d, 0x15, 0x18, 0x00, 0x00, 0x00,       /* lea rdx, [rel l4] */
    0x48, 0x89, 0x14, 0x25, 0x08, 0x00, 0x02, 0x00, /* mov [abs 0x20008], rdx */
    0x41, 0xbb, 0x05, 0x00, 0x00, 0x00,             /* mov r11d, 5 */
    0xe8, 0x25, 0x00, 0x00, 0x00,                   /* call deep */
    0x05, 0x00, 0x00, 0x40, 0x00,                   /* add eax, 0x400000 */
    0x83, 0xc0, 0x04,                               /* l4: add eax, 4 */
    0xe8, 0x37, 0x00, 0x00, 0x00,                   /* call f1 */
    0xff, 0xc9,                                     /* dec ecx */
    0x75, 0x91,                                     /* jnz next */
    0xf4,                                           /* hlt */
    0x48, 0x8d, 0x15, 0xa4, 0xff, 0xff, 0xff,       /* lea rdx, [rel l2] */
    0x48, 0x89, 0x14, 0x24,                         /* mov [rsp], rdx */
    0xc3,                                           /* ret */
    0x49, 0x89, 0xe1,                               /* mov r9, rsp */
    0x4c, 0x89, 0xd4,                               /* mov rsp, r10 */
    0xc3,                                           /* ret */
    0x41, 0xff, 0xcb,                               /* dec r11d */
    0x74, 0x0b,                                     /* jz unwind */
    0xe8, 0xf6, 0xff, 0xff, 0xff,                   /* call deep */
    0x05, 0x00, 0x00, 0x50, 0x00,                   /* add eax, 0x500000 */
    0xc3,                                           /* ret */
    0x48, 0x8b, 0x24, 0x25, 0x00, 0x00, 0x02, 0x00, /* mov rsp, [abs 0x20000] */
    0xff, 0x24, 0x25, 0x08, 0x00, 0x02, 0x00,       /* jmp [abs 0x20008] */
    0x83, 0xc0, 0x10,                               /* f1: add eax, 0x10 */
    0xc3,                                           /* ret */
};

/* at 0x10000 */
static const uint8_t cr3_0[] = {
    0xb9, 0x14, 0x00, 0x00, 0x00,             /* mov ecx, 20 */
    0x31, 0xdb,                               /* xor ebx, ebx */
    0xe8, 0xf4, 0xff, 0x21, 0x00,             /* call 0x230000 */
    0xba, 0x00, 0x00, 0x23, 0x00,             /* mov edx, 0x230000 */
    0xff, 0xd2,                               /* call rdx */
    0x48, 0x8d, 0x3d, 0x03, 0x00, 0x00, 0x00, /* lea rdi, [rel back] */
    0x57,                                     /* push rdi */
    0xff, 0xe2,                               /* jmp rdx */
    0x0f, 0x20, 0xd8,                         /* mov rax, cr3 */
    0x4c, 0x31, 0xc0,                         /* xor rax, r8 */
    0x0f, 0x22, 0xd8,                         /* mov cr3, rax */
    0xff, 0xc9,                               /* dec ecx */
    0x75, 0xdd,                               /* jnz next */
    0xf4,                                     /* hlt */
};

/* at 0x10000 */
static const uint8_t modes_0[] = {
    0x31, 0xc0,       /* xor eax, eax */
    0x31, 0xdb,       /* xor ebx, ebx */
    0x31, 0xf6,       /* xor esi, esi */
    0x31, 0xc9,       /* xor ecx, ecx */
    0x45, 0x31, 0xc0, /* xor r8d, r8d */
    0x48, 0x8d, 0x3d, 0x1e, 0x00,
    0x00, 0x00, /* lea rdi, [rel a_done] */
    0xf7, 0xc6, 0x01, 0x00, 0x00,
    0x00,       /* test esi, 1 */
    0x74, 0x09, /* jz a_call */
    0x48, 0x8d, 0x3d, 0x1e, 0x00,
    0x00, 0x00,                   /* lea rdi, [rel a_compat] */
    0xeb, 0x00,                   /* jmp a_call */
    0xe8, 0x72, 0x00, 0x00, 0x00, /* a_call: call x64 */
    0x48, 0x05, 0x01, 0x00, 0x00,
    0x00,       /* r1: 64: add rax, 1; compat: dec eax ; add eax, 1 */
    0xff, 0xe7, /* jmp rdi */
    0x48, 0x8d, 0x15, 0x5c, 0x00,
    0x00, 0x00, /* lea rdx, [rel f] */
    0xff, 0xd2, /* call rdx */
    0xff, 0x2d, 0x84, 0x00, 0x00,
    0x00,                         /* jmp dword far [rel ptr_b] */
    0x83, 0xc4, 0x04,             /* a_compat (compat): add esp, 4 */
    0x83, 0xc3, 0x01,             /* add ebx, 1 */
    0xba, 0x93, 0x00, 0x01, 0x00, /* mov edx, f */
    0xff, 0xd2,                   /* call edx */
    0xea, 0x30, 0x00, 0x01, 0x00,
    0x30, 0x00,                   /* jmp 0x30:a_done */
    0xbf, 0x77, 0x00, 0x01, 0x00, /* b_start (compat): mov edi, b_done */
    0xf7, 0xc6, 0x01, 0x00, 0x00,
    0x00,                         /* test esi, 1 */
    0x74, 0x07,                   /* jz b_call */
    0xbf, 0x7e, 0x00, 0x01, 0x00, /* mov edi, b_64 */
    0xeb, 0x00,                   /* jmp b_call */
    0x6a, 0x00,                   /* push 0 */
    0xe8, 0x3c, 0x00, 0x00, 0x00, /* b_call: call x32 */
    0x49, 0x81, 0xc0, 0x00, 0x01,
    0x00, 0x00, /* r2: 64: add r8, 0x100; compat: dec ecx ; add eax, 0x100 */
    0xff, 0xe7, /* jmp edi */
    0xea, 0x87, 0x00, 0x01, 0x00,
    0x30, 0x00,       /* b_done: jmp 0x30:b_next */
    0x83, 0xc3, 0x10, /* b_64 (64-bit): add ebx, 0x10 */
    0xff, 0x2d, 0x42, 0x00, 0x00,
    0x00,             /* jmp dword far [rel ptr_b_done] */
    0xff, 0xc6,       /* b_next: inc esi */
    0x83, 0xfe, 0x06, /* cmp esi, 6 */
    0x0f, 0x82, 0x79, 0xff, 0xff,
    0xff, /* jb next */
    0xf4, /* hlt */
    0x48, 0x05, 0x00, 0x00, 0x01,
    0x00, /* f: 64: add rax, 0x10000; compat: dec eax ; add eax, 0x10000 */
    0xc3, /* ret */
    0xf7, 0xc6, 0x01, 0x00, 0x00,
    0x00,       /* test esi, 1 */
    0x74, 0x06, /* jz x64_ret */
    0xff, 0x2d, 0x15, 0x00, 0x00,
    0x00, /* jmp dword far [rel ptr_c1] */
    0xc3, /* ret */
    0xc3, /* c1: ret */
    0xf7, 0xc6, 0x01, 0x00, 0x00,
    0x00,       /* test esi, 1 */
    0x74, 0x07, /* jz x32_ret */
    0xea, 0xbc, 0x00, 0x01, 0x00,
    0x30, 0x00,             /* jmp 0x30:h64 */
    0xc2, 0x04, 0x00,       /* ret 4 */
    0xc3,                   /* h64: ret */
    0xa9, 0x00, 0x01, 0x00, /* ptr_c1: dd c1 */
    0x08, 0x00,             /* dw 0x08 */
    0x53, 0x00, 0x01, 0x00, /* ptr_b: dd b_start */
    0x08, 0x00,             /* dw 0x08 */
    0x77, 0x00, 0x01, 0x00, /* ptr_b_done: dd b_done */
    0x08, 0x00,             /* dw 0x08 */
};

/* at 0x10000 */
static const uint8_t stack_0[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
    0xbe, 0xfc, 0x0f, 0x02, 0x00, /* mov esi, 0x20ffc */
    0x55,                         /* next: push rbp */
    0x48, 0x89, 0xe5,             /* mov rbp, rsp */
    0x6a, 0x7f,                   /* push 0x7f */
    0x6a, 0xfe,                   /* push -2 */
    0x68, 0x78, 0x56, 0x34, 0x12, /* push 0x12345678 */
    0xff, 0x36,                   /* push qword [rsi] */
    0xff, 0x74, 0x24, 0x10,       /* push qword [rsp+16] */
    0x58,                         /* pop rax */
    0x48, 0x01, 0xc3,             /* add rbx, rax */
    0x58,                         /* pop rax */
    0x48, 0x01, 0xc3,             /* add rbx, rax */
    0x48, 0x89, 0x1e,             /* mov [rsi], rbx */
    0xc9,                         /* leave */
    0x51,                         /* push rcx */
    0x5a,                         /* pop rdx */
    0xff, 0xc9,                   /* dec ecx */
    0x75, 0xdb,                   /* jnz next */
    0xf4,                         /* hlt */
};

/* at 0x10000 */
static const uint8_t syscall_0[] = {
    0xbb, 0x64, 0x00, 0x00, 0x00,             /* mov ebx, 100 */
    0x31, 0xf6,                               /* xor esi, esi */
    0x48, 0x8d, 0x0d, 0x09, 0x00, 0x00, 0x00, /* lea rcx, [rel user] */
    0x41, 0xbb, 0x02, 0x02, 0x00, 0x00,       /* mov r11d, 0x202 */
    0x48, 0x0f, 0x07,                         /* o64 sysret */
    0xb8, 0x03, 0x00, 0x00, 0x00,             /* user (CPL 3): mov eax, 3 */
    0x0f, 0x05,                               /* syscall */
    0xff, 0xcb,                               /* dec ebx */
    0x75, 0xf5,                               /* jnz user */
    0x31, 0xc0,                               /* xor eax, eax */
    0x0f, 0x05,                               /* syscall */
    0x48, 0x05, 0x01, 0x00, 0x00, 0x00, /* ucompat (CPL 3, compat): dec eax ; add eax, 1 (64: add
                                           rax, 1) */
    0x01, 0xc6,                         /* add esi, eax */
    0xb8, 0x07, 0x00, 0x00, 0x00,       /* mov eax, 7 */
    0x0f, 0x34,                         /* sysenter */
    0x0f, 0x01, 0xf8,                   /* kentry (LSTAR): swapgs */
    0x48, 0x01, 0xc6,                   /* add rsi, rax */
    0x85, 0xc0,                         /* test eax, eax */
    0x74, 0x06,                         /* jz to_compat */
    0x0f, 0x01, 0xf8,                   /* swapgs */
    0x48, 0x0f, 0x07,                   /* o64 sysret */
    0x0f, 0x01, 0xf8,                   /* to_compat: swapgs */
    0x48, 0x8d, 0x0d, 0xd7, 0xff, 0xff, 0xff, /* lea rcx, [rel ucompat] */
    0x0f, 0x07,                               /* sysret */
    0x48, 0x01, 0xc6,                         /* centry (SYSENTER_EIP): add rsi, rax */
    0xf4,                                     /* hlt */
};

/* clang-format on */
/*
 * Call and return pairs: CALL rel32, CALL r64, CALL m64 through a table,
 * RET imm16 (PUSH imm for its argument), a call to another page whose
 * function leaves through JMP m64 (RIP-relative) and returns across the
 * page, and JMP r64; 200 times.  Every RET finds its prediction, the
 * indirect targets their sites' inline caches, and the whole loop runs in
 * a handful of run-loop entries with the HLT the only callout.
 */
START_TEST(test_call_ret_pairs)
{
    const Seg segs[] = {{TESTVM_CODE, pairs_0, sizeof(pairs_0)},
                        {TESTVM_CODE + 0x1000, pairs_1, sizeof(pairs_1)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 2, NULL, &bt);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->callout_insns, 1);
    ck_assert_uint_eq(st->interp_insns, 0);
    ck_assert_uint_gt(vm->cpu.bt_ret_total, 1000);
    ck_assert_uint_eq(vm->cpu.bt_ret_miss, 0);
    ck_assert_uint_gt(vm->cpu.bt_ic_hits, 600); /* the indirect sites' inline caches */
    ck_assert_uint_lt(vm->cpu.bt_ic_misses, 20);
    ck_assert_uint_lt(vm->cpu.bt_jc_misses, 20);
    ck_assert_uint_lt(st->entries, 40);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * Returns that are not the prediction: a RET to an address pushed by PUSH,
 * a return address rewritten by the callee, a callee that switches to
 * another stack holding another return address, and a longjmp out of a
 * five-deep recursion, whose abandoned predictions the next RETs meet.
 * Each skipped `add eax, 0xN00000` would show in EAX.
 */
START_TEST(test_mismatched_returns)
{
    const Seg segs[] = {{TESTVM_CODE, mismatch_0, sizeof(mismatch_0)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, NULL, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 50 * (1 + 2 + 3 + 4 + 0x10));
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_eq(st->callout_insns, 1);
    ck_assert_uint_ge(vm->cpu.bt_ret_miss, 50 * 3);
    ck_assert_uint_lt(st->entries, 100);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* A second set of 4-level tables: linear 200000h-3FFFFFh maps physical
 * 0-1FFFFFh, so the code at linear 230000h is physical 30000h there and
 * 230000h under the first set. */
#define PML4_B (TESTVM_PML4 + 0x8000)

static void setup_two_cr3(TestVM *vm)
{
    const uint32_t entries[][2] = {{PML4_B, (PML4_B + 0x1000) | 7},
                                   {PML4_B + 0x1000, (PML4_B + 0x2000) | 7},
                                   {PML4_B + 0x2000, 0x000000 | 0x87},
                                   {PML4_B + 0x2008, 0x000000 | 0x87}};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        phys_write(&vm->phys, entries[i][0], entries[i][1], 4);
        phys_write(&vm->phys, entries[i][0] + 4, 0, 4);
    }
    static const uint8_t code_a[] = {0x48, 0x83, 0xc3, 0x01, 0xc3}; /* add rbx, 1 ; ret */
    static const uint8_t code_b[] = {0x48, 0x81, 0xc3, 0x00,
                                     0x01, 0x00, 0x00, 0xc3}; /* add rbx, 0x100 ; ret */
    testvm_load(vm, 0x230000, code_a, sizeof(code_a));
    testvm_load(vm, 0x030000, code_b, sizeof(code_b));
    vm->cpu.regs[8] = TESTVM_PML4 ^ PML4_B;
}

/*
 * CR3 writes between calls to the same linear address, which the other
 * tables map to other code: a chained call to another page (its exit
 * re-checks the TLB), an indirect call and an indirect jump (the jump
 * cache checks the TLB on every hit), and returns predicted by the calls
 * before the write.  10 rounds under each CR3, 3 calls each.
 */
START_TEST(test_cr3_change)
{
    const Seg segs[] = {{TESTVM_CODE, cr3_0, sizeof(cr3_0)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, setup_two_cr3, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 10 * 3 * 1 + 10 * 3 * 0x100);
    ck_assert_uint_gt(bt_stats(bt)->chains, 0);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* GDT[6] (selector 30h): a ring-0 64-bit code segment (L set, D clear). */
static void setup_code64_selector(TestVM *vm)
{
    phys_write(&vm->phys, TESTVM_GDT + 0x30, 0x0000ffffu, 4);
    phys_write(&vm->phys, TESTVM_GDT + 0x34, 0x00af9b00u, 4);
}

/*
 * The same linear addresses in 64-bit and compatibility mode, with bytes
 * that mean different things in each (48h is REX.W in one and DEC EAX in
 * the other), six rounds.  In even rounds x64 and x32 return plainly, so
 * r1 has a 64-bit block that the CALL's continuation is chained to, and
 * r2 a compatibility-mode one; in odd rounds x64 and x32 switch modes
 * before their RET, so a compatibility-mode RET pops the return address a
 * 64-bit CALL pushed a prediction for (and the reverse): a prediction
 * taken across modes would run r1 or r2 as the other mode's code.  f is
 * called through a register in both modes: the jump cache must not give
 * one mode's block to the other.  Far jumps switch the modes.
 */
START_TEST(test_mode_switch_same_addresses)
{
    const Seg segs[] = {{TESTVM_CODE, modes_0, sizeof(modes_0)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, setup_code64_selector, &bt);
    /* even rounds: r1 (64) + f (64) + r2 (compat); odd: f (compat) + f (64) */
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 3 * (1 + 0x10000 + 0x100) + 3 * (0xffff + 0x10000));
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 3 * 0x11);
    ck_assert_uint_eq(vm->cpu.regs[R_ECX], 0xfffffffdu); /* r2 in compatibility mode, 3 times */
    ck_assert_uint_eq(vm->cpu.regs[8], 3 * 0x100);       /* r2 in 64-bit mode, 3 times */
    /* in compatibility mode, once each: a_compat, its return from f, f,
     * r1, c1, b_start with its odd-round part, b_call, x32 with its far
     * jump (superblocks: on past the JZ), x32_ret, r2, b_done (no 64-bit
     * block counted) */
    ck_assert_uint_eq(bt_stats(bt)->compat_blocks, 11);
    ck_assert_uint_ge(vm->cpu.bt_ret_miss, 2 * 3);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* RSP 7004h: every other 8-byte push or pop crosses 7000h (the slow path). */
static void setup_misaligned_stack(TestVM *vm)
{
    vm->cpu.regs[R_ESP] = 0x7004;
}

/*
 * PUSH imm8 and imm32 (sign-extended), PUSH m64 (one operand crossing a
 * page, one addressed by RSP, read before the push moves it) and LEAVE,
 * on a misaligned stack, 100 times, with no callout but the HLT.
 */
START_TEST(test_stack_forms)
{
    const Seg segs[] = {{TESTVM_CODE, stack_0, sizeof(stack_0)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, setup_misaligned_stack, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_ESP], 0x7004);
    ck_assert_uint_eq(bt_stats(bt)->callout_insns, 1);
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/* SYSCALL to kentry (LSTAR), SYSRET's selectors from 18h (user CS 2Bh,
 * compatibility CS 1Bh), SYSENTER (from compatibility mode) to centry. */
static void setup_syscall(TestVM *vm)
{
    CPUState *cpu = &vm->cpu;
    cpu->efer |= EFER_SCE;
    cpu->msr_star = 0x18ull << 48 | 0x08ull << 32;
    cpu->msr_lstar = TESTVM_CODE + 0x35;
    cpu->sysenter_cs = TESTVM_SEL_CODE0;
    cpu->sysenter_eip = TESTVM_CODE + 0x51;
    cpu->sysenter_esp = 0x6800;
    cpu->msr_fmask = EFLAGS_IF;
    cpu->kernel_gs_base = 0xffff888000001000ull;
}

/*
 * 100 system calls from 64-bit user code: SYSCALL into the kernel, SWAPGS
 * there and back, SYSRET with REX.W to the user, each door a light helper
 * that goes on through the jump cache under the new CPL's key; then a
 * SYSRET without REX.W into compatibility mode, whose code (48h: DEC EAX
 * there) must leave the 64-bit blocks, and a SYSENTER from there.
 */
START_TEST(test_syscall_sysret)
{
    const Seg segs[] = {{TESTVM_CODE, syscall_0, sizeof(syscall_0)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, setup_syscall, &bt);
    ck_assert_uint_eq(vm->cpu.regs[R_ESI], 100 * 3 + 7);
    ck_assert_uint_eq(vm->cpu.seg[SEG_GS].base, 0);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_ge(st->helper_insns, 2 * 100);
    ck_assert_uint_gt(st->compat_blocks, 0);
    ck_assert_uint_lt(st->entries, 30); /* not one per door */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

/*
 * A branch to a non-canonical RIP raises #GP(0) at the branch, with RSP
 * as it was and nothing pushed (SDM Vol.2 CALL, JMP, RET), on bt as on
 * the interpreter:
 *   mov rax, 0x0000800000000000 ; mov [abs DATA], rax ; mov ebx, 5
 *   <the branch> ; hlt
 */
START_TEST(test_noncanonical_targets)
{
    static const uint8_t head[] = {
        0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, /* mov rax, 0x800000000000 */
        0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00,             /* mov [abs 0x20000], rax */
        0xbb, 0x05, 0x00, 0x00, 0x00,                               /* mov ebx, 5 */
    };
    static const struct {
        uint8_t insn[8];
        size_t len;
        size_t at; /* offset of the branch */
    } cases[] = {
        {{0xff, 0xe0}, 2, 0},                               /* jmp rax */
        {{0xff, 0xd0}, 2, 0},                               /* call rax */
        {{0xff, 0x24, 0x25, 0x00, 0x00, 0x02, 0x00}, 7, 0}, /* jmp [abs 0x20000] */
        {{0xff, 0x14, 0x25, 0x00, 0x00, 0x02, 0x00}, 7, 0}, /* call [abs 0x20000] */
        {{0x50, 0xc3}, 2, 1},                               /* push rax ; ret */
        {{0x50, 0xc2, 0x10, 0x00}, 4, 1},                   /* push rax ; ret 16 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t code[64];
        memcpy(code, head, sizeof(head));
        memcpy(code + sizeof(head), cases[i].insn, cases[i].len);
        code[sizeof(head) + cases[i].len] = 0xf4;
        FirstFault f[2];
        TestVM *vm[2];
        BT *bt = run_to_first_fault(code, sizeof(head) + cases[i].len + 1, vm, f);
        uint64_t rsp0 = TESTVM_STACK0; /* testvm_flat32 at CPL 0 */
        for (int e = 0; e < 2; e++) {
            ck_assert_int_eq(f[e].vector, EXC_GP);
            ck_assert_uint_eq(f[e].error, 0);
            ck_assert_uint_eq(f[e].rip, TESTVM_CODE + sizeof(head) + cases[i].at);
            ck_assert_uint_eq(f[e].rsp, rsp0 - 8 * cases[i].at);
        }
        ck_assert_int_eq(memcmp(vm[1]->phys.ram + rsp0 - 64, vm[0]->phys.ram + rsp0 - 64, 64), 0);
        ck_assert_uint_eq(bt_stats(bt)->interp_insns, 0); /* the block ran to the branch */
        bt_free(bt);
        for (int e = 0; e < 2; e++) {
            testvm_free(vm[e]);
        }
    }
}
END_TEST

/*
 * The kernel's entry forms in a 64-bit block at CPL 0 (gen_sys.c,
 * gen64_stack.c): SWAPGS as four moves, the block going on after it;
 * RDTSC through its light helper (the count it reads is the instruction
 * count's, so both engines agree only if the helper computes it exactly);
 * PUSHFQ from the parked flags.  50 times:
 *   swapgs ; mov rax, gs:[8] ; add rsi, rax ; swapgs
 *   rdtsc ; shl rdx, 32 ; or rax, rdx ; add rdi, rax
 *   cmp ecx, 25 ; pushfq ; pop rdx ; add rsi, rdx ; dec ecx ; jnz
 */
static const uint8_t kernel_forms[] = {
    0xb9, 0x32, 0x00, 0x00, 0x00, 0x31, 0xf6, 0x0f, 0x01, 0xf8, 0x65, 0x48, 0x8b,
    0x04, 0x25, 0x08, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc6, 0x0f, 0x01, 0xf8, 0x0f,
    0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0x48, 0x01, 0xc7, 0x83, 0xf9,
    0x19, 0x9c, 0x5a, 0x48, 0x01, 0xd6, 0xff, 0xc9, 0x75, 0xd6, 0xf4};

static void setup_kernel_gs(TestVM *vm)
{
    vm->cpu.kernel_gs_base = 0x30000;
    phys_write(&vm->phys, 0x30008, 0x12345678, 4);
}

START_TEST(test_kernel_forms)
{
    const Seg segs[] = {{TESTVM_CODE, kernel_forms, sizeof(kernel_forms)}};
    BT *bt;
    TestVM *vm = run_lockstep(segs, 1, setup_kernel_gs, &bt);
    ck_assert_uint_eq(vm->cpu.seg[SEG_GS].base, 0);
    ck_assert_uint_eq(vm->cpu.kernel_gs_base, 0x30000);
    ck_assert_uint_ne(vm->cpu.regs[R_EDI], 0);
    const BTStats *st = bt_stats(bt);
    ck_assert_uint_lt(st->callout_insns, 5);  /* none per iteration */
    ck_assert_uint_ge(st->helper_insns, 50); /* RDTSC */
    ck_assert_uint_lt(st->entries, 5);       /* SWAPGS ends no block */
    bt_free(bt);
    testvm_free(vm);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translator64_flow");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_call_ret_pairs);
    tcase_add_test(tc, test_mismatched_returns);
    tcase_add_test(tc, test_cr3_change);
    tcase_add_test(tc, test_mode_switch_same_addresses);
    tcase_add_test(tc, test_noncanonical_targets);
    tcase_add_test(tc, test_stack_forms);
    tcase_add_test(tc, test_syscall_sysret);
    tcase_add_test(tc, test_kernel_forms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
