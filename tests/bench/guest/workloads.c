/*
 * Guest workloads for tests/bench/guest_bench.py: one static i386 binary run
 * natively on the host and inside the emulators, so each workload's time can
 * be divided by its native time.
 *
 *   gcc -m32 -static -O2 -fno-pie -no-pie -mfpmath=387 -mno-sse workloads.c
 *   popek-workloads [--scale F] [--list] [NAME...]   (no names: all)
 *
 * Each workload does a fixed amount of work (its base count times --scale),
 * sized by native time only: roughly 0.2-0.5 s on the host at scale 1.  Only
 * the work is timed (CLOCK_MONOTONIC); setup such as filling buffers is not.
 * One line per workload:
 *
 *   WORKLOAD <name> <seconds> <checksum>
 *
 * The checksum is derived from the work, so the compiler cannot drop it, and
 * it depends on nothing but the work (not on pids or addresses), so native
 * and emulated runs must print the same one: a difference is a CPU bug.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MEM_WORDS   ((4u << 20) / 4u) /* 4 MiB per buffer: past L2, so memory is touched */
#define RAND_BYTES  (64u << 10)       /* branch data: fits L2, so the branches dominate */
#define FAULT_BYTES (4u << 20)        /* region mapped, touched and unmapped per round */
#define PAGE        4096u

static uint32_t mem_src[MEM_WORDS];
static uint32_t mem_dst[MEM_WORDS];
static uint8_t rand_bytes[RAND_BYTES];

/* xorshift32: cheap, deterministic pseudorandom data for every workload. */
static uint32_t xorshift(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static uint32_t work_integer(uint32_t n)
{
    uint32_t state = 0x12345678u, hash = 2166136261u, acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = xorshift(&state);
        hash = (hash ^ (x & 0xff)) * 16777619u; /* FNV-1a step */
        acc += (x >> 3) ^ (hash << 7) ^ (acc >> 11);
        acc = (acc << 5) | (acc >> 27);
        if ((i & 7) == 0) {
            acc += hash / ((x >> 20) | 1) + hash % ((x & 0xfff) | 1);
        }
    }
    return acc ^ hash;
}

static void prepare_memory(void)
{
    for (uint32_t i = 0; i < MEM_WORDS; i++) {
        mem_src[i] = i * 2654435761u;
        mem_dst[i] = 0;
    }
}

/* Per round: a sequential sum, a copy, a strided read-modify-write (one word
 * per 64-byte line, then per 4 KiB page, so every access misses the L1). */
static uint32_t work_memory(uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < MEM_WORDS; i++) {
            sum += mem_src[i];
        }
        for (uint32_t i = 0; i < MEM_WORDS; i++) {
            mem_dst[i] = mem_src[i] ^ r;
        }
        for (uint32_t start = 0; start < 16; start++) {
            for (uint32_t i = start; i < MEM_WORDS; i += 16) {
                mem_src[i] += mem_dst[i] >> 1;
            }
        }
        for (uint32_t start = 0; start < PAGE / 4; start += 17) {
            for (uint32_t i = start; i < MEM_WORDS; i += PAGE / 4) {
                sum ^= mem_src[i] + i;
            }
        }
    }
    return sum ^ mem_dst[MEM_WORDS / 3];
}

static void prepare_branches(void)
{
    uint32_t state = 0xdeadbeefu;
    for (uint32_t i = 0; i < RAND_BYTES; i++) {
        rand_bytes[i] = (uint8_t)xorshift(&state);
    }
}

/* A jump table on 3 random bits plus an if chain on others: neither can be
 * predicted, and the cases differ enough that the compiler keeps branches. */
static uint32_t work_branches(uint32_t passes)
{
    uint32_t acc = 1, odd = 0;
    for (uint32_t p = 0; p < passes; p++) {
        for (uint32_t i = 0; i < RAND_BYTES; i++) {
            uint8_t b = rand_bytes[i];
            switch (b & 7) {
            case 0: acc += b; break;
            case 1: acc ^= acc << 3; break;
            case 2: acc -= i; break;
            case 3: acc = acc * 3 + 1; break;
            case 4: acc ^= acc >> 5; break;
            case 5: acc += p; break;
            case 6: acc = (acc << 1) | (acc >> 31); break;
            default: odd++; break;
            }
            if (b & 0x40) {
                if (b & 0x80) {
                    acc += 7;
                } else {
                    odd += acc & 1;
                }
            } else if (b & 0x08) {
                acc ^= 0x5a5a;
            }
        }
    }
    return acc + odd;
}

__attribute__((noinline)) static uint32_t fib(uint32_t k)
{
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

__attribute__((noinline)) static uint32_t op_add(uint32_t a, uint32_t b)
{
    return a + b;
}

__attribute__((noinline)) static uint32_t op_xor(uint32_t a, uint32_t b)
{
    return a ^ (b << 1);
}

__attribute__((noinline)) static uint32_t op_mul(uint32_t a, uint32_t b)
{
    return a * (b | 1);
}

__attribute__((noinline)) static uint32_t op_rot(uint32_t a, uint32_t b)
{
    return (a << (b & 31)) | (a >> ((32 - b) & 31));
}

/* Volatile so the compiler cannot turn the indirect calls into direct ones. */
static uint32_t (*volatile call_ops[4])(uint32_t, uint32_t) = {op_add, op_xor, op_mul, op_rot};

/* Per round: fib(20) (21891 calls, returns bouncing through the return
 * stack) and 20000 indirect calls through a pointer table. */
static uint32_t work_calls(uint32_t rounds)
{
    uint32_t acc = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        acc += fib(20);
        for (uint32_t i = 0; i < 20000; i++) {
            acc = call_ops[(i ^ r) & 3](acc, i);
        }
    }
    return acc;
}

/* x87 doubles (-mfpmath=387): add, multiply, divide, square root. */
static uint32_t work_x87(uint32_t n)
{
    double x = 1.0, sum = 0.0, prod = 1.0;
    for (uint32_t i = 1; i <= n; i++) {
        x = x * 1.0000001 + 0.25;
        sum += sqrt(x) / (double)i;
        prod = prod * 0.999999 + 1.0 / (x + sum);
        if (x > 1e6) {
            x = sqrt(x);
        }
    }
    double total = sum * 1000.0 + prod;
    uint64_t bits;
    memcpy(&bits, &total, sizeof(bits));
    return (uint32_t)bits ^ (uint32_t)(bits >> 32);
}

/* getppid: the cheapest syscall that surely enters the kernel (no caching in libc). */
static uint32_t work_syscalls(uint32_t n)
{
    long first = syscall(SYS_getppid);
    uint32_t same = 0;
    for (uint32_t i = 0; i < n; i++) {
        same += syscall(SYS_getppid) == first;
    }
    return same;
}

static uint32_t work_fork(uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            _exit(i & 0x7f);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
            fprintf(stderr, "fork: round %u failed\n", i);
            return 0;
        }
        sum += WEXITSTATUS(status);
    }
    return sum;
}

/* Each round maps a fresh region, so every touch is a first-touch fault. */
static uint32_t work_pagefaults(uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        uint8_t *p =
            mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "pagefaults: mmap failed\n");
            return 0;
        }
        for (uint32_t off = 0; off < FAULT_BYTES; off += PAGE) {
            p[off] = (uint8_t)(off >> 12);
        }
        for (uint32_t off = 0; off < FAULT_BYTES; off += PAGE * 16) {
            sum += p[off];
        }
        munmap(p, FAULT_BYTES);
    }
    return sum;
}

/* Parent and child pass one byte back and forth over two pipes, each adding
 * one: every round trip is two writes, two reads and two context switches. */
static uint32_t work_ctxswitch(uint32_t n)
{
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent)) {
        fprintf(stderr, "ctxswitch: pipe failed\n");
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Keep only our ends, so the parent closing its write end is our EOF. */
        close(to_child[1]);
        close(to_parent[0]);
        uint8_t b;
        while (read(to_child[0], &b, 1) == 1 && (b++, write(to_parent[1], &b, 1) == 1)) {
        }
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    uint8_t b = 0;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n && pid > 0; i++) {
        if (write(to_child[1], &b, 1) != 1 || read(to_parent[0], &b, 1) != 1) {
            fprintf(stderr, "ctxswitch: pipe broke in round %u\n", i);
            sum = 0;
            break;
        }
        b++;
        sum += b;
    }
    close(to_child[1]);
    close(to_parent[0]);
    if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
        fprintf(stderr, "ctxswitch: fork or wait failed\n");
        return 0;
    }
    return sum;
}

typedef struct Workload {
    const char *name;
    void (*prepare)(void); /* untimed setup, or NULL */
    uint32_t (*run)(uint32_t count);
    uint32_t base_count; /* the count at --scale 1 (native 0.2-0.5 s) */
} Workload;

static const Workload workloads[] = {
    {"integer", NULL, work_integer, 120000000},
    {"memory", prepare_memory, work_memory, 60},
    {"branches", prepare_branches, work_branches, 300},
    {"calls", NULL, work_calls, 5000},
    {"x87", NULL, work_x87, 12000000},
    {"syscalls", NULL, work_syscalls, 2500000},
    {"fork", NULL, work_fork, 5000},
    {"pagefaults", NULL, work_pagefaults, 250},
    {"ctxswitch", NULL, work_ctxswitch, 100000},
};
#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_workload(const Workload *w, double scale)
{
    double count = w->base_count * scale;
    uint32_t n = count < 1 ? 1 : (uint32_t)count;
    if (w->prepare) {
        w->prepare();
    }
    double t0 = now_sec();
    uint32_t checksum = w->run(n);
    double t1 = now_sec();
    printf("WORKLOAD %s %.6f %08x\n", w->name, t1 - t0, checksum);
    fflush(stdout);
}

static const Workload *find_workload(const char *name)
{
    for (size_t i = 0; i < N_WORKLOADS; i++) {
        if (!strcmp(workloads[i].name, name)) {
            return &workloads[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    int first_name = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            scale = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < N_WORKLOADS; k++) {
                printf("%s\n", workloads[k].name);
            }
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--scale F] [--list] [NAME...]\n", argv[0]);
            return 2;
        } else {
            first_name = i;
            break;
        }
    }
    if (!(scale > 0)) {
        fprintf(stderr, "--scale must be positive\n");
        return 2;
    }
    if (first_name == argc) {
        for (size_t k = 0; k < N_WORKLOADS; k++) {
            run_workload(&workloads[k], scale);
        }
        return 0;
    }
    for (int i = first_name; i < argc; i++) {
        const Workload *w = find_workload(argv[i]);
        if (!w) {
            fprintf(stderr, "unknown workload '%s' (see --list)\n", argv[i]);
            return 2;
        }
        run_workload(w, scale);
    }
    return 0;
}
