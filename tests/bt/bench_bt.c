/*
 * Translated code against the interpreter, in millions of guest
 * instructions per second, on the loops of tests/bench/interp_mips.c plus
 * a string copy, and 64-bit loops on pinned and on CPUState registers and on
 * memory (translator/README.md, "64-bit code"); scalar SSE2 in 32-bit and
 * 64-bit code, x87 in 64-bit code, indirect calls through tables and
 * never-taken Jccs; "bt base" is translated code without inline caches
 * and superblocks (bt_set_inline_cache, bt_set_superblocks).  A benchmark: it prints
 * figures and never fails on a number.
 *
 *   build/tests/bt/popek-bench-bt [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/testvm.h"
#include "translator/translator.h"

typedef struct Workload {
    const char *name;
    const uint8_t *code;
    size_t len;
    bool code64; /* 64-bit mode (testvm_long_mode) */
} Workload;

/* mov ecx, N ; loop: add eax, ecx ; xor ebx, eax ; dec ecx ; jnz loop ; hlt */
static const uint8_t alu_loop[] = {0xb9, 0,    0,    0,    0,    0x01, 0xc8,
                                   0x31, 0xc3, 0x49, 0x75, 0xf9, 0xf4};

/* mov ecx, N ; mov esi, 0x20000 ; loop: mov eax, [esi] ; add eax, ecx ; mov [esi+4], eax ;
 * dec ecx ; jnz loop ; hlt */
static const uint8_t mem_loop[] = {0xb9, 0,    0,    0,    0,    0xbe, 0x00, 0x00, 0x02, 0x00, 0x8b,
                                   0x06, 0x01, 0xc8, 0x89, 0x46, 0x04, 0x49, 0x75, 0xf6, 0xf4};

/* mov ecx, N ; loop: call f ; dec ecx ; jnz loop ; hlt ; f: push ebp ; mov ebp, esp ; pop ebp ; ret
 */
static const uint8_t call_loop[] = {0xb9, 0,    0,    0,    0,    0xe8, 0x04, 0x00, 0x00, 0x00,
                                    0x49, 0x75, 0xf8, 0xf4, 0x55, 0x89, 0xe5, 0x5d, 0xc3};

/* mov ecx, N ; loop: mov edx, ecx ; and edx, 7 ; cmp edx, 3 ; jb skip ; inc eax ; skip: dec ecx ;
 * jnz loop ; hlt  (a data-dependent branch) */
static const uint8_t branch_loop[] = {0xb9, 0,    0,    0,    0,    0x89, 0xca, 0x83, 0xe2, 0x07,
                                      0x83, 0xfa, 0x03, 0x72, 0x01, 0x40, 0x49, 0x75, 0xf2, 0xf4};

/* mov ebx, N ; loop: mov esi, 0x20000 ; mov edi, 0x28000 ; mov ecx, 256 ; rep movsd ;
 * dec ebx ; jnz loop ; hlt  (each REP MOVSD counts as one instruction per batch) */
static const uint8_t string_loop[] = {0xbb, 0,    0,    0,    0,    0xbe, 0x00, 0x00, 0x02,
                                      0x00, 0xbf, 0x00, 0x80, 0x02, 0x00, 0xb9, 0x00, 0x01,
                                      0x00, 0x00, 0xf3, 0xa5, 0x4b, 0x75, 0xec, 0xf4};

/* 64-bit mode.  alu64: the ALU loop on RAX, RBX, RCX (pinned in host registers):
 * mov ecx, N ; loop: add rax, rcx ; xor rbx, rax ; dec rcx ; jnz loop ; hlt */
static const uint8_t alu64_loop[] = {0xb9, 0,    0,    0,    0,    0x48, 0x01, 0xc8, 0x48,
                                     0x31, 0xc3, 0x48, 0xff, 0xc9, 0x75, 0xf5, 0xf4};

/* alu64r8: the same on R8, R9, R10 (in CPUState, translator/gen64.c):
 * mov ecx, N ; mov r9, rcx ; loop: add r8, r9 ; xor r10, r8 ; dec r9 ; jnz loop ; hlt */
static const uint8_t alu64r8_loop[] = {0xb9, 0,    0,    0,    0,    0x49, 0x89, 0xc9, 0x4d, 0x01,
                                       0xc8, 0x4d, 0x31, 0xc2, 0x49, 0xff, 0xc9, 0x75, 0xf5, 0xf4};

/* mem64: mov ecx, N ; mov esi, 0x20000 ; loop: mov rax, [rsi] ; add rax, rcx ;
 * mov [rsi+8], rax ; dec rcx ; jnz loop ; hlt */
static const uint8_t mem64_loop[] = {0xb9, 0,    0,    0,    0,    0xbe, 0x00, 0x00, 0x02,
                                     0x00, 0x48, 0x8b, 0x06, 0x48, 0x01, 0xc8, 0x48, 0x89,
                                     0x46, 0x08, 0x48, 0xff, 0xc9, 0x75, 0xf1, 0xf4};

/* call64: the call loop in 64-bit mode (CALL, RET, PUSH and POP native,
 * translator/gen64_flow.c): mov ecx, N ; loop: call f ; dec ecx ; jnz loop ;
 * hlt ; f: push rbp ; mov rbp, rsp ; pop rbp ; ret */
static const uint8_t call64_loop[] = {0xb9, 0,    0,    0,    0,    0xe8, 0x05, 0x00,
                                      0x00, 0x00, 0xff, 0xc9, 0x75, 0xf7, 0xf4, 0x55,
                                      0x48, 0x89, 0xe5, 0x5d, 0xc3};

/* icall64: the same through a register (the jump cache):
 * mov ecx, N ; mov ebx, f ; loop: call rbx ; dec ecx ; jnz loop ; hlt ; f: <as above> */
static const uint8_t icall64_loop[] = {0xb9, 0,    0,    0,    0,    0xbb, 0x11, 0x00, 0x01,
                                       0x00, 0xff, 0xd3, 0xff, 0xc9, 0x75, 0xfa, 0xf4, 0x55,
                                       0x48, 0x89, 0xe5, 0x5d, 0xc3};

/* sse: mov ecx, N ; mov esi, 0x20000 ; loop: movsd xmm0, [esi] ; addsd xmm0, xmm1 ;
 * cvtsi2sd xmm2, ecx ; mulsd xmm0, xmm2 ; movsd [esi+8], xmm0 ; dec ecx ; jnz loop ; hlt */
static const uint8_t sse_loop[] = {0xb9, 0,    0,    0,    0,    0xbe, 0x00, 0x00, 0x02, 0x00,
                                   0xf2, 0x0f, 0x10, 0x06, 0xf2, 0x0f, 0x58, 0xc1, 0xf2, 0x0f,
                                   0x2a, 0xd1, 0xf2, 0x0f, 0x59, 0xc2, 0xf2, 0x0f, 0x11, 0x46,
                                   0x08, 0x49, 0x75, 0xe8, 0xf4};

/* sse64: the same on XMM8, XMM9 and RCX at 64 bits (REX forms, translator/gen_sse.c):
 * loop: movsd xmm8, [rsi] ; addsd xmm8, xmm9 ; cvtsi2sd xmm1, rcx ; mulsd xmm8, xmm1 ;
 * movsd [rsi+8], xmm8 ; dec rcx ; jnz loop */
static const uint8_t sse64_loop[] = {
    0xb9, 0,    0,    0,    0,    0xbe, 0x00, 0x00, 0x02, 0x00, 0xf2, 0x44, 0x0f, 0x10, 0x06,
    0xf2, 0x45, 0x0f, 0x58, 0xc1, 0xf2, 0x48, 0x0f, 0x2a, 0xc9, 0xf2, 0x44, 0x0f, 0x59, 0xc1,
    0xf2, 0x44, 0x0f, 0x11, 0x46, 0x08, 0x48, 0xff, 0xc9, 0x75, 0xe1, 0xf4};

/* x87_64: mov ecx, N ; mov esi, 0x20000 ; loop: fld qword [rsi] ; fadd qword [rsi+8] ;
 * fstp qword [rsi] ; dec rcx ; jnz loop ; hlt */
static const uint8_t x87_64_loop[] = {0xb9, 0,    0,    0,    0,    0xbe, 0x00, 0x00,
                                      0x02, 0x00, 0xdd, 0x06, 0xdc, 0x46, 0x08, 0xdd,
                                      0x1e, 0x48, 0xff, 0xc9, 0x75, 0xf4, 0xf4};

/*
 * Indirect calls through a table of K functions (translator/gen_ic.c's
 * inline caches), 32-bit and 64-bit (assembled with nasm):
 *   mov ecx, N ; xor eax, eax ; [lea rsi, [rel table]]
 *   loop: mov edx, ecx ; and edx, K-1 ; call [table + edx*4]  (64: call [rsi + rdx*8])
 *   dec ecx ; jnz loop ; hlt ; f0: add eax, 1 ; ret ; ... ; table: dd/dq f0, ...
 * and a loop whose two Jccs are never taken (superblocks, translator/scan.c):
 *   mov ecx, N ; xor eax, eax ; loop: test ecx, 0x80000000 ; jnz rare ; add eax, ecx ;
 *   test ecx, 0x40000000 ; jnz rare ; xor edx, eax ; dec ecx ; jnz loop ; hlt ; rare: int3
 */
/* clang-format off */
static const uint8_t icall2_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x89, 0xca, 0x83, 0xe2, 0x01, 0xff, 0x14, 0x95,
    0x1f, 0x00, 0x01, 0x00, 0x49, 0x75, 0xf1, 0xf4, 0x83, 0xc0, 0x01, 0xc3, 0x83, 0xc0, 0x02,
    0xc3, 0x17, 0x00, 0x01, 0x00, 0x1b, 0x00, 0x01, 0x00,
};
static const uint8_t icall8_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x89, 0xca, 0x83, 0xe2, 0x07, 0xff, 0x14, 0x95,
    0x37, 0x00, 0x01, 0x00, 0x49, 0x75, 0xf1, 0xf4, 0x83, 0xc0, 0x01, 0xc3, 0x83, 0xc0, 0x02,
    0xc3, 0x83, 0xc0, 0x03, 0xc3, 0x83, 0xc0, 0x04, 0xc3, 0x83, 0xc0, 0x05, 0xc3, 0x83, 0xc0,
    0x06, 0xc3, 0x83, 0xc0, 0x07, 0xc3, 0x83, 0xc0, 0x08, 0xc3, 0x17, 0x00, 0x01, 0x00, 0x1b,
    0x00, 0x01, 0x00, 0x1f, 0x00, 0x01, 0x00, 0x23, 0x00, 0x01, 0x00, 0x27, 0x00, 0x01, 0x00,
    0x2b, 0x00, 0x01, 0x00, 0x2f, 0x00, 0x01, 0x00, 0x33, 0x00, 0x01, 0x00,
};
static const uint8_t icall2_64_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x48, 0x8d, 0x35, 0x15, 0x00, 0x00, 0x00, 0x89,
    0xca, 0x83, 0xe2, 0x01, 0xff, 0x14, 0xd6, 0xff, 0xc9, 0x75, 0xf4, 0xf4, 0x83, 0xc0, 0x01,
    0xc3, 0x83, 0xc0, 0x02, 0xc3, 0x1b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t icall8_64_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x48, 0x8d, 0x35, 0x2d, 0x00, 0x00, 0x00, 0x89,
    0xca, 0x83, 0xe2, 0x07, 0xff, 0x14, 0xd6, 0xff, 0xc9, 0x75, 0xf4, 0xf4, 0x83, 0xc0, 0x01,
    0xc3, 0x83, 0xc0, 0x02, 0xc3, 0x83, 0xc0, 0x03, 0xc3, 0x83, 0xc0, 0x04, 0xc3, 0x83, 0xc0,
    0x05, 0xc3, 0x83, 0xc0, 0x06, 0xc3, 0x83, 0xc0, 0x07, 0xc3, 0x83, 0xc0, 0x08, 0xc3, 0x1b,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x23, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x2b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2f, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x33, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x37, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00,
};
static const uint8_t jcc_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xf7, 0xc1, 0x00, 0x00, 0x00, 0x80, 0x75, 0x10,
    0x01, 0xc8, 0xf7, 0xc1, 0x00, 0x00, 0x00, 0x40, 0x75, 0x06, 0x31, 0xc2, 0x49, 0x75, 0xe9,
    0xf4, 0xcc,
};
static const uint8_t jcc64_loop[] = {
    0xb9, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xf7, 0xc1, 0x00, 0x00, 0x00, 0x80, 0x75, 0x11,
    0x01, 0xc8, 0xf7, 0xc1, 0x00, 0x00, 0x00, 0x40, 0x75, 0x07, 0x31, 0xc2, 0xff, 0xc9, 0x75,
    0xe8, 0xf4, 0xcc,
};

/* clang-format on */

static const Workload workloads[] = {
    {"alu", alu_loop, sizeof(alu_loop), false},
    {"memory", mem_loop, sizeof(mem_loop), false},
    {"call", call_loop, sizeof(call_loop), false},
    {"branch", branch_loop, sizeof(branch_loop), false},
    {"string", string_loop, sizeof(string_loop), false},
    {"alu64", alu64_loop, sizeof(alu64_loop), true},
    {"alu64r8", alu64r8_loop, sizeof(alu64r8_loop), true},
    {"mem64", mem64_loop, sizeof(mem64_loop), true},
    {"call64", call64_loop, sizeof(call64_loop), true},
    {"icall64", icall64_loop, sizeof(icall64_loop), true},
    {"sse", sse_loop, sizeof(sse_loop), false},
    {"sse64", sse64_loop, sizeof(sse64_loop), true},
    {"x87_64", x87_64_loop, sizeof(x87_64_loop), true},
    {"icall2", icall2_loop, sizeof(icall2_loop), false},
    {"icall8", icall8_loop, sizeof(icall8_loop), false},
    {"icall2_64", icall2_64_loop, sizeof(icall2_64_loop), true},
    {"icall8_64", icall8_64_loop, sizeof(icall8_64_loop), true},
    {"jcc", jcc_loop, sizeof(jcc_loop), false},
    {"jcc64", jcc64_loop, sizeof(jcc64_loop), true},
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* other jobs on a shared host do not count */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run w to its HLT; returns millions of instructions per second. */
enum Engine { ENGINE_INTERP, ENGINE_BT, ENGINE_BT_BASE };

static double run(const Workload *w, uint32_t iterations, enum Engine engine, uint64_t *insns)
{
    TestVM *vm = testvm_new(16u << 20);
    if (!vm) {
        fprintf(stderr, "cannot create test VM\n");
        exit(1);
    }
    uint8_t code[256];
    memcpy(code, w->code, w->len);
    memcpy(code + 1, &iterations, 4);
    testvm_load(vm, TESTVM_CODE, code, w->len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    vm->cpu.cr4 |= CR4_OSFXSR; /* the SSE loops */
    if (w->code64) {
        testvm_long_mode(vm, true);
    }
    BT *bt = engine != ENGINE_INTERP ? bt_new(&vm->cpu, 32u << 20, BT_MODE_RUN) : NULL;
    if (bt) {
        bt_set_code64(bt, true);
        bt_set_mem64_native(bt, true);
        bt_set_inline_cache(bt, engine == ENGINE_BT);
        bt_set_superblocks(bt, engine == ENGINE_BT);
    }
    uint64_t start = vm->cpu.icount;
    double t0 = now_sec();
    for (;;) {
        int r = bt ? bt_exec(bt, 200000) : cpu_exec(&vm->cpu, 200000);
        if (r == CPU_EXIT_HALT) {
            break;
        }
    }
    double t = now_sec() - t0;
    *insns = vm->cpu.icount - start;
    bt_free(bt);
    testvm_free(vm);
    return (double)*insns / t / 1e6;
}

int main(int argc, char **argv)
{
    uint32_t iterations = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 5000000;
    printf("%-9s %12s %12s %8s %12s\n", "loop", "interp MIPS", "bt MIPS", "ratio", "bt base");
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        const Workload *w = &workloads[i];
        uint32_t n = strcmp(w->name, "string") ? iterations : iterations / 100;
        uint64_t a, b, c;
        double interp = run(w, n, ENGINE_INTERP, &a);
        double bt = run(w, n, ENGINE_BT, &b);
        double base = run(w, n, ENGINE_BT_BASE, &c);
        printf("%-9s %12.1f %12.1f %7.1fx %12.1f%s\n", w->name, interp, bt, bt / interp, base,
               a == b && a == c ? "" : "  (instruction counts differ!)");
    }
    return 0;
}
