/*
 * Interpreter speed in millions of guest instructions per second, on small
 * guest loops in flat 32-bit protected mode.  A benchmark: it prints
 * figures and never fails on a number.
 *
 *   build/tests/bench/popek-bench-interp [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/support/testvm.h"

typedef struct Workload {
    const char *name;
    const uint8_t *code;
    size_t len;
} Workload;

/* mov ecx, N (patched at offset 1); loop: add eax, ecx; xor ebx, eax; dec ecx; jnz loop; hlt */
static const uint8_t alu_loop[] = {
    0xb9, 0, 0, 0, 0,             /* mov ecx, N */
    0x01, 0xc8,                   /* add eax, ecx */
    0x31, 0xc3,                   /* xor ebx, eax */
    0x49,                         /* dec ecx */
    0x75, 0xf9,                   /* jnz add */
    0xf4,                         /* hlt */
};

/* mov ecx, N; mov esi, 0x20000; loop: mov eax, [esi]; add eax, ecx; mov [esi+4], eax;
 * dec ecx; jnz loop; hlt */
static const uint8_t mem_loop[] = {
    0xb9, 0, 0, 0, 0,             /* mov ecx, N */
    0xbe, 0x00, 0x00, 0x02, 0x00, /* mov esi, 0x20000 */
    0x8b, 0x06,                   /* mov eax, [esi] */
    0x01, 0xc8,                   /* add eax, ecx */
    0x89, 0x46, 0x04,             /* mov [esi+4], eax */
    0x49,                         /* dec ecx */
    0x75, 0xf6,                   /* jnz mov eax */
    0xf4,
};

/* mov ecx, N; loop: call f; dec ecx; jnz loop; hlt; f: push ebp; mov ebp, esp; pop ebp; ret */
static const uint8_t call_loop[] = {
    0xb9, 0, 0, 0, 0,             /* mov ecx, N */
    0xe8, 0x04, 0x00, 0x00, 0x00, /* call f */
    0x49,                         /* dec ecx */
    0x75, 0xf8,                   /* jnz call */
    0xf4,                         /* hlt */
    0x55,                         /* f: push ebp */
    0x89, 0xe5,                   /* mov ebp, esp */
    0x5d,                         /* pop ebp */
    0xc3,                         /* ret */
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run(const Workload *w, uint32_t iterations)
{
    TestVM *vm = testvm_new(16u << 20);
    if (!vm) {
        fprintf(stderr, "cannot create test VM\n");
        exit(1);
    }
    uint8_t code[64];
    for (size_t i = 0; i < w->len; i++) {
        code[i] = w->code[i];
    }
    code[1] = (uint8_t)iterations;
    code[2] = (uint8_t)(iterations >> 8);
    code[3] = (uint8_t)(iterations >> 16);
    code[4] = (uint8_t)(iterations >> 24);
    testvm_load(vm, TESTVM_CODE, code, w->len);
    testvm_flat32(vm, 0, TESTVM_CODE);
    uint64_t start_count = vm->cpu.icount;
    double t0 = now_sec();
    while (testvm_run(vm, 100000000) == CPU_EXIT_BUDGET) {
    }
    double t1 = now_sec();
    uint64_t insns = vm->cpu.icount - start_count;
    printf("%-6s %12llu insns %8.3f s %8.1f MIPS\n", w->name, (unsigned long long)insns,
           t1 - t0, (double)insns / (t1 - t0) / 1e6);
    testvm_free(vm);
}

int main(int argc, char **argv)
{
    uint32_t iterations = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 20000000;
    const Workload workloads[] = {
        {"alu", alu_loop, sizeof(alu_loop)},
        {"memory", mem_loop, sizeof(mem_loop)},
        {"call", call_loop, sizeof(call_loop)},
    };
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        run(&workloads[i], iterations);
    }
    return 0;
}
