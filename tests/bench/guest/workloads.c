/*
 * Guest workloads for tests/bench/guest_bench.py: one static i386 binary run
 * natively on the host and inside the emulators, so each workload's time can
 * be divided by its native time.
 *
 *   gcc -m32 -static -O2 -fno-pie -no-pie -mfpmath=387 -mno-sse workloads.c -lm
 *   popek-workloads [--scale F] [--busybox PATH] [--list] [NAME...]   (no names: all)
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
 *
 * The bb-* workloads time real programs: busybox's own tools (--busybox,
 * default /bin/busybox), fork/exec'd over a generated text file in a scratch
 * directory under /tmp, their stdout to a file whose hash is the checksum.
 * Native runs point --busybox at the same i386 busybox the guest has.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MEM_WORDS   ((4u << 20) / 4u) /* 4 MiB per buffer: past L2, so memory is touched */
#define RAND_BYTES  (64u << 10)       /* branch data: fits L2, so the branches dominate */
#define FAULT_BYTES (4u << 20)        /* region mapped, touched and unmapped per round */
#define PAGE        4096u
#define CHASE_WORDS ((64u << 20) / 4u) /* pointer chase: 64 MiB, far past every cache and TLB */
#define SORT_ITEMS  (1u << 18)        /* qsort: 256 Ki ints (1 MiB) per round */
#define TREE_NODES  (1u << 16)        /* recursion: a 64 Ki-node binary search tree */
#define QS_ITEMS    (1u << 14)        /* recursion: 16 Ki ints per recursive quicksort */
#define TEXT_KIB    3072u             /* bb-* at --scale 1: 3 MiB of generated input text */

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

static int prepare_memory(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    for (uint32_t i = 0; i < MEM_WORDS; i++) {
        mem_src[i] = i * 2654435761u;
        mem_dst[i] = 0;
    }
    return 0;
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

static int prepare_branches(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    uint32_t state = 0xdeadbeefu;
    for (uint32_t i = 0; i < RAND_BYTES; i++) {
        rand_bytes[i] = (uint8_t)xorshift(&state);
    }
    return 0;
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

/* A small stack machine: one dense switch dispatches every instruction, the
 * way bytecode interpreters without computed goto run.  Its program counts
 * var0 down from n, updating two hash-like variables on the way. */
enum {
    VM_PUSH,  /* push the next word */
    VM_LOAD,  /* push var[next word] */
    VM_STORE, /* var[next word] = pop */
    VM_ADD,
    VM_SUB,
    VM_MUL,
    VM_XOR,
    VM_AND,
    VM_SHL,
    VM_SHR,
    VM_DUP,
    VM_JNZ, /* pop; jump to the next word if it was non-zero */
    VM_JMP,
    VM_HALT,
};

static const int32_t vm_code[] = {
    /* 0: var1 = var1 * 33 ^ var0 */
    VM_LOAD, 1, VM_PUSH, 33, VM_MUL, VM_LOAD, 0, VM_XOR, VM_STORE, 1,
    /* 10: var2 = (var2 + (var1 >> 7)) & 0xffffff */
    VM_LOAD, 2, VM_LOAD, 1, VM_PUSH, 7, VM_SHR, VM_ADD, VM_PUSH, 0xffffff, VM_AND, VM_STORE, 2,
    /* 23: odd var0 runs the block at 32, even var0 skips it */
    VM_LOAD, 0, VM_PUSH, 1, VM_AND, VM_JNZ, 32, VM_JMP, 42,
    /* 32: var2 = var2 + (var1 << 3) */
    VM_LOAD, 1, VM_PUSH, 3, VM_SHL, VM_LOAD, 2, VM_ADD, VM_STORE, 2,
    /* 42: var0 -= 1; loop while var0 != 0 */
    VM_LOAD, 0, VM_PUSH, 1, VM_SUB, VM_DUP, VM_STORE, 0, VM_JNZ, 0,
    /* 52 */
    VM_HALT,
};

static uint32_t work_interp(uint32_t n)
{
    uint32_t stack[8], var[4] = {n, 1, 0, 0};
    uint32_t sp = 0, b; /* the fixed program never goes deeper than 3 */
    const int32_t *pc = vm_code;
    for (;;) {
        switch (*pc++) {
        case VM_PUSH: stack[sp++] = (uint32_t)*pc++; break;
        case VM_LOAD: stack[sp++] = var[*pc++ & 3]; break;
        case VM_STORE: var[*pc++ & 3] = stack[--sp]; break;
        case VM_ADD: b = stack[--sp]; stack[sp - 1] += b; break;
        case VM_SUB: b = stack[--sp]; stack[sp - 1] -= b; break;
        case VM_MUL: b = stack[--sp]; stack[sp - 1] *= b; break;
        case VM_XOR: b = stack[--sp]; stack[sp - 1] ^= b; break;
        case VM_AND: b = stack[--sp]; stack[sp - 1] &= b; break;
        case VM_SHL: b = stack[--sp]; stack[sp - 1] <<= b & 31; break;
        case VM_SHR: b = stack[--sp]; stack[sp - 1] >>= b & 31; break;
        case VM_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case VM_JNZ: b = stack[--sp]; pc = b ? vm_code + *pc : pc + 1; break;
        case VM_JMP: pc = vm_code + *pc; break;
        case VM_HALT: return var[1] ^ var[2];
        default: fprintf(stderr, "interp: bad opcode at %d\n", (int)(pc - 1 - vm_code)); return 0;
        }
    }
}

static uint32_t *sort_orig, *sort_work;

static int prepare_qsort(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    sort_orig = malloc(SORT_ITEMS * sizeof(uint32_t));
    sort_work = malloc(SORT_ITEMS * sizeof(uint32_t));
    if (!sort_orig || !sort_work) {
        fprintf(stderr, "qsort: out of memory\n");
        return -1;
    }
    uint32_t state = 0x9e3779b9u;
    for (uint32_t i = 0; i < SORT_ITEMS; i++) {
        sort_orig[i] = xorshift(&state);
    }
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per round: libc qsort of 256 Ki random ints (each round's XOR makes a
 * different order) through a comparison callback, about 4.5 M calls. */
static uint32_t work_qsort(uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        uint32_t key = r * 0x01000193u;
        for (uint32_t i = 0; i < SORT_ITEMS; i++) {
            sort_work[i] = sort_orig[i] ^ key;
        }
        qsort(sort_work, SORT_ITEMS, sizeof(uint32_t), compare_u32);
        for (uint32_t i = 0; i < SORT_ITEMS; i += 4099) {
            sum = sum * 31 + sort_work[i];
        }
    }
    return sum;
}

typedef struct TreeNode {
    struct TreeNode *left, *right;
    uint32_t key;
} TreeNode;

static TreeNode *tree_nodes, *tree_root;
static uint32_t *qs_orig, *qs_work;

/* A binary search tree of random keys (expected depth ~2 ln n, about 25)
 * and the recursive quicksort's input: built once, untimed. */
static int prepare_recursion(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    tree_nodes = calloc(TREE_NODES, sizeof(TreeNode));
    qs_orig = malloc(QS_ITEMS * sizeof(uint32_t));
    qs_work = malloc(QS_ITEMS * sizeof(uint32_t));
    if (!tree_nodes || !qs_orig || !qs_work) {
        fprintf(stderr, "recursion: out of memory\n");
        return -1;
    }
    uint32_t state = 0x2545f491u;
    tree_root = NULL;
    for (uint32_t i = 0; i < TREE_NODES; i++) {
        TreeNode *node = &tree_nodes[i], **link = &tree_root;
        node->key = xorshift(&state);
        while (*link) {
            link = node->key < (*link)->key ? &(*link)->left : &(*link)->right;
        }
        *link = node;
    }
    for (uint32_t i = 0; i < QS_ITEMS; i++) {
        qs_orig[i] = xorshift(&state);
    }
    return 0;
}

/* In-order walk: the sum of key * depth, order-sensitive. */
__attribute__((noinline)) static uint32_t tree_walk(const TreeNode *node, uint32_t depth,
                                                    uint32_t acc)
{
    if (!node) {
        return acc;
    }
    acc = tree_walk(node->left, depth + 1, acc);
    acc = acc * 3 + node->key * depth;
    return tree_walk(node->right, depth + 1, acc);
}

/* Hoare-partition quicksort recursing on both halves (no libc, no loop
 * turned into a tail call: both calls are real). */
__attribute__((noinline)) static void quicksort(uint32_t *a, int32_t lo, int32_t hi)
{
    if (lo >= hi) {
        return;
    }
    uint32_t pivot = a[lo + (hi - lo) / 2];
    int32_t i = lo - 1, j = hi + 1;
    for (;;) {
        do {
            i++;
        } while (a[i] < pivot);
        do {
            j--;
        } while (a[j] > pivot);
        if (i >= j) {
            break;
        }
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    quicksort(a, lo, j);
    quicksort(a, j + 1, hi);
}

/* Per round: one walk of the 64 Ki-node tree and one recursive quicksort
 * of 16 Ki ints (each round's XOR makes a different order). */
static uint32_t work_recursion(uint32_t rounds)
{
    uint32_t acc = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        acc = tree_walk(tree_root, 1, acc);
        uint32_t key = r * 0x9e3779b9u;
        for (uint32_t i = 0; i < QS_ITEMS; i++) {
            qs_work[i] = qs_orig[i] ^ key;
        }
        quicksort(qs_work, 0, QS_ITEMS - 1);
        acc += qs_work[r % QS_ITEMS] ^ qs_work[QS_ITEMS / 2];
    }
    return acc;
}

static uint32_t *chase_next;

/* One random cycle through all 16 Mi words (Sattolo's shuffle), so a chase
 * visits the whole 64 MiB before it repeats. */
static int prepare_chase(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    chase_next = mmap(NULL, CHASE_WORDS * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chase_next == MAP_FAILED) {
        fprintf(stderr, "chase: cannot map 64 MiB\n");
        return -1;
    }
    for (uint32_t i = 0; i < CHASE_WORDS; i++) {
        chase_next[i] = i;
    }
    uint32_t state = 0x6a09e667u;
    for (uint32_t i = CHASE_WORDS - 1; i > 0; i--) {
        uint32_t j = xorshift(&state) % i; /* j < i: Sattolo's, one cycle */
        uint32_t t = chase_next[i];
        chase_next[i] = chase_next[j];
        chase_next[j] = t;
    }
    return 0;
}

/* Each load's address is the previous load's value: pure memory latency,
 * through the guest TLB on every step (a new 4 KiB page almost every time). */
static uint32_t work_chase(uint32_t steps)
{
    uint32_t at = 0, sum = 0;
    for (uint32_t i = 0; i < steps; i++) {
        at = chase_next[at];
        sum += at;
    }
    return sum ^ at;
}

/* The classic five-body (Sun, Jupiter, Saturn, Uranus, Neptune) leapfrog,
 * in x87 doubles: per step 10 pair forces with a square root and a divide. */
typedef struct Body {
    double x[3], v[3], mass;
} Body;

static uint32_t double_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return (uint32_t)bits ^ (uint32_t)(bits >> 32);
}

static uint32_t work_nbody(uint32_t steps)
{
    const double pi = 3.141592653589793, solar_mass = 4 * pi * pi, days = 365.24;
    Body b[5] = {
        {{0, 0, 0}, {0, 0, 0}, solar_mass},
        {{4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01},
         {1.66007664274403694e-03 * days, 7.69901118419740425e-03 * days,
          -6.90460016972063023e-05 * days},
         9.54791938424326609e-04 * solar_mass},
        {{8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01},
         {-2.76742510726862411e-03 * days, 4.99852801234917238e-03 * days,
          2.30417297573763929e-05 * days},
         2.85885980666130812e-04 * solar_mass},
        {{1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01},
         {2.96460137564761618e-03 * days, 2.37847173959480950e-03 * days,
          -2.96589568540237556e-05 * days},
         4.36624404335156298e-05 * solar_mass},
        {{1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01},
         {2.68067772490389322e-03 * days, 1.62824170038242295e-03 * days,
          -9.51592254519715870e-05 * days},
         5.15138902046611451e-05 * solar_mass},
    };
    const double dt = 0.01;
    for (uint32_t s = 0; s < steps; s++) {
        for (int i = 0; i < 5; i++) {
            for (int j = i + 1; j < 5; j++) {
                double d[3], d2 = 0;
                for (int k = 0; k < 3; k++) {
                    d[k] = b[i].x[k] - b[j].x[k];
                    d2 += d[k] * d[k];
                }
                double mag = dt / (d2 * sqrt(d2));
                for (int k = 0; k < 3; k++) {
                    b[i].v[k] -= d[k] * b[j].mass * mag;
                    b[j].v[k] += d[k] * b[i].mass * mag;
                }
            }
        }
        for (int i = 0; i < 5; i++) {
            for (int k = 0; k < 3; k++) {
                b[i].x[k] += dt * b[i].v[k];
            }
        }
    }
    double energy = 0;
    for (int i = 0; i < 5; i++) {
        energy += 0.5 * b[i].mass *
                  (b[i].v[0] * b[i].v[0] + b[i].v[1] * b[i].v[1] + b[i].v[2] * b[i].v[2]);
        for (int j = i + 1; j < 5; j++) {
            double d2 = 0;
            for (int k = 0; k < 3; k++) {
                d2 += (b[i].x[k] - b[j].x[k]) * (b[i].x[k] - b[j].x[k]);
            }
            energy -= b[i].mass * b[j].mass / sqrt(d2);
        }
    }
    return double_bits(energy) ^ double_bits(b[1].x[0]);
}

/* SSE2 doubles: the one function built with target("sse2", "fpmath=sse")
 * (the rest of the binary is x87), so GCC emits scalar and packed SSE2 as
 * it would for -msse2 -mfpmath=sse.  Per round a 48x48 matrix product
 * (i-k-j order, which GCC vectorizes), then a square root and a divide
 * per diagonal element. */
#define SSE_N 48

__attribute__((target("sse2", "fpmath=sse"))) static uint32_t work_sse(uint32_t rounds)
{
    static double a[SSE_N][SSE_N], b[SSE_N][SSE_N], c[SSE_N][SSE_N];
    for (int i = 0; i < SSE_N; i++) {
        for (int j = 0; j < SSE_N; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 17) * 0.25 + 1.0;
            b[i][j] = (double)((i * 5 + j * 11) % 13) * 0.5 - 2.0;
        }
    }
    double acc = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (int i = 0; i < SSE_N; i++) {
            for (int j = 0; j < SSE_N; j++) {
                c[i][j] = 0;
            }
            for (int k = 0; k < SSE_N; k++) {
                double aik = a[i][k];
                for (int j = 0; j < SSE_N; j++) {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
        for (int i = 0; i < SSE_N; i++) {
            acc += sqrt(fabs(c[i][i]) + 1.0) / (double)(r + 1);
        }
        a[r % SSE_N][(r / SSE_N) % SSE_N] += 1e-3;
    }
    return double_bits(acc) ^ double_bits(c[1][2]);
}

/* Per round: a 256x256 Mandelbrot image, at most 256 iterations a pixel,
 * in x87 doubles; the checksum is the iteration counts. */
static uint32_t work_mandel(uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        double shift = (double)(r % 8) * 0.001;
        for (int py = 0; py < 256; py++) {
            double ci = -1.2 + py * (2.4 / 256) + shift;
            for (int px = 0; px < 256; px++) {
                double cr = -2.1 + px * (3.0 / 256), zr = 0, zi = 0;
                int it = 0;
                while (it < 256 && zr * zr + zi * zi < 4.0) {
                    double t = zr * zr - zi * zi + cr;
                    zi = 2 * zr * zi + ci;
                    zr = t;
                    it++;
                }
                sum = sum * 33 + (uint32_t)it;
            }
        }
    }
    return sum;
}

/*
 * Real programs: busybox's tools, fork/exec'd over a generated text.  The
 * scratch directory holds the input, its gzip'd copy and each tool's output;
 * the checksum is the FNV-1a hash of that output, read after the clock stops.
 */
static const char *busybox_path = "/bin/busybox";
static int program_failed;     /* a run_busybox failed: no WORKLOAD line */
static char scratch_dir[64];   /* mkdtemp'd under /tmp on first use, removed at exit */
static char text_path[96];     /* TEXT_BYTES of generated lines */
static char gz_path[96];       /* text_path after gzip -9 */
static char out_path[96];      /* the timed program's stdout */

static void scratch_remove(void)
{
    unlink(text_path);
    unlink(gz_path);
    unlink(out_path);
    rmdir(scratch_dir);
}

/* Lines of "<word> <number 0-999> <word>...", 3-11 words drawn from a
 * vocabulary of 2048 made-up lowercase words: text with repeats for gzip,
 * fields for awk, duplicates for sort. */
static int write_text(const char *path, uint32_t kib)
{
    static char vocab[2048][12];
    uint32_t state = 0x510e527fu;
    for (int w = 0; w < 2048; w++) {
        int len = 2 + (int)(xorshift(&state) % 9);
        for (int c = 0; c < len; c++) {
            vocab[w][c] = (char)('a' + xorshift(&state) % 26);
        }
        vocab[w][len] = 0;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    uint32_t written = 0;
    while (written < kib * 1024u) {
        int n = fprintf(f, "%s %u", vocab[xorshift(&state) % 2048], xorshift(&state) % 1000);
        int words = 2 + (int)(xorshift(&state) % 9);
        for (int k = 0; k < words && n > 0; k++) {
            /* Squaring skews the draw: common words and rare ones. */
            uint32_t r = xorshift(&state) % 2048;
            n += fprintf(f, " %s", vocab[r * r / 2048]);
        }
        n += fputc('\n', f) == '\n';
        written += (uint32_t)n;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Runs busybox with args (args[0] is the applet), stdin from in_path (or
 * none), stdout to out_path; 0 when it exited 0.  As "busybox APPLET
 * ARGS...", so the applet does not depend on argv[0] reaching busybox
 * unchanged (valgrind, which tests/bench/reg_census.py runs this under,
 * gives a traced child its path as argv[0]). */
static int run_busybox(char *const args[], const char *in_path)
{
    char *argv[16] = {"busybox"};
    for (int i = 0; args[i]; i++) {
        if (i + 2 >= (int)(sizeof(argv) / sizeof(argv[0]))) {
            fprintf(stderr, "%s: too many arguments\n", args[0]);
            program_failed = 1;
            return -1;
        }
        argv[i + 1] = args[i];
    }
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0) {
            _exit(126);
        }
        close(in);
        close(out);
        execv(busybox_path, argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fprintf(stderr, "%s: fork or wait failed\n", args[0]);
        program_failed = 1;
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s %s: exit status %d%s\n", busybox_path, args[0],
                WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (cannot exec)" : "");
        program_failed = 1;
        return -1;
    }
    return 0;
}

/* FNV-1a of out_path; 0 when it cannot be read. */
static uint32_t hash_output(void)
{
    int fd = open(out_path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    uint32_t hash = 2166136261u;
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            hash = (hash ^ buf[i]) * 16777619u;
        }
    }
    close(fd);
    return n < 0 ? 0 : hash;
}

/* The scratch directory, once per process; untimed. */
static int prepare_scratch(uint32_t count)
{
    (void)count; /* the work's size does not change the setup */
    if (scratch_dir[0]) {
        return 0;
    }
    strcpy(scratch_dir, "/tmp/popek-workloads-XXXXXX");
    if (!mkdtemp(scratch_dir)) {
        scratch_dir[0] = 0;
        fprintf(stderr, "cannot make a scratch directory under /tmp\n");
        return -1;
    }
    snprintf(text_path, sizeof(text_path), "%s/text", scratch_dir);
    snprintf(gz_path, sizeof(gz_path), "%s/text.gz", scratch_dir);
    snprintf(out_path, sizeof(out_path), "%s/out", scratch_dir);
    atexit(scratch_remove);
    return 0;
}

/* kib KiB of input text in the scratch directory; untimed. */
static int prepare_text(uint32_t kib)
{
    if (prepare_scratch(kib) != 0) {
        return -1;
    }
    if (write_text(text_path, kib) != 0) {
        fprintf(stderr, "cannot write %s\n", text_path);
        return -1;
    }
    return 0;
}

/* The input text gzip'd by the same busybox (-1: only gunzip's input, and
 * the fastest to make); untimed. */
static int prepare_gz(uint32_t kib)
{
    char *gzip[] = {"gzip", "-1", "-c", NULL};
    if (prepare_text(kib) != 0) {
        return -1;
    }
    if (run_busybox(gzip, text_path) != 0 || rename(out_path, gz_path) != 0) {
        program_failed = 0;
        fprintf(stderr, "cannot make %s with %s gzip\n", gz_path, busybox_path);
        return -1;
    }
    return 0;
}

/* Runs one tool `runs` times over one input; the hash of its last output.
 * The text tools' count is the input's size in KiB; each runs a fixed number
 * of times, so that --scale 1 takes 0.2-0.5 s natively. */
static uint32_t run_tool(uint32_t runs, char *const args[], const char *in_path)
{
    for (uint32_t r = 0; r < runs; r++) {
        if (run_busybox(args, in_path) != 0) {
            return 0;
        }
    }
    return hash_output();
}

static uint32_t work_bb_gzip(uint32_t kib)
{
    char *args[] = {"gzip", "-9", "-c", NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(3, args, text_path);
}

static uint32_t work_bb_gunzip(uint32_t kib)
{
    char *args[] = {"gunzip", "-c", NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(12, args, gz_path);
}

static uint32_t work_bb_sha256(uint32_t kib)
{
    char *args[] = {"sha256sum", NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(15, args, text_path);
}

static uint32_t work_bb_sort(uint32_t kib)
{
    char *args[] = {"sort", NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(4, args, text_path);
}

/* Field sums and word counts in an associative array. */
static uint32_t work_bb_awk(uint32_t kib)
{
    char *args[] = {"awk",
                    "{ s += $2; for (i = 3; i <= NF; i++) c[$i]++ }"
                    " END { for (w in c) { k++; if (c[w] > m) m = c[w] } print NR, s, k, m }",
                    NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(1, args, text_path);
}

/* A regular expression with a back-reference, substituted on every line. */
static uint32_t work_bb_sed(uint32_t kib)
{
    char *args[] = {"sed", "s/\\([a-z]\\)\\([aeiou][a-z]*\\)/\\2-\\1/g", NULL};
    (void)kib; /* the input's size, made by prepare */
    return run_tool(1, args, text_path);
}

/* The shell's own loop: `iterations` rounds of test, arithmetic, assignment. */
static uint32_t work_bb_shloop(uint32_t iterations)
{
    char script[128];
    snprintf(script, sizeof(script),
             "i=0; while [ $i -lt %u ]; do i=$((i+1)); done; echo $i", iterations);
    char *args[] = {"sh", "-c", script, NULL};
    return run_tool(1, args, NULL);
}

/* fork + exec of busybox's `true` (as /bin/true is in the guest) and wait. */
static uint32_t work_bb_true(uint32_t runs)
{
    char *args[] = {"true", NULL};
    uint32_t ok = 0;
    for (uint32_t r = 0; r < runs; r++) {
        ok += run_busybox(args, NULL) == 0;
    }
    return ok == runs ? hash_output() ^ ok : 0;
}

typedef struct Workload {
    const char *name;
    int (*prepare)(uint32_t count); /* untimed setup for this count (0: ready), or NULL */
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
    {"interp", NULL, work_interp, 5000000},
    {"qsort", prepare_qsort, work_qsort, 12},
    {"recursion", prepare_recursion, work_recursion, 200},
    {"chase", prepare_chase, work_chase, 3000000},
    {"nbody", NULL, work_nbody, 2500000},
    {"mandel", NULL, work_mandel, 12},
    {"sse", NULL, work_sse, 2000},
    {"bb-gzip", prepare_text, work_bb_gzip, TEXT_KIB},
    {"bb-gunzip", prepare_gz, work_bb_gunzip, TEXT_KIB},
    {"bb-sha256", prepare_text, work_bb_sha256, TEXT_KIB},
    {"bb-sort", prepare_text, work_bb_sort, TEXT_KIB},
    {"bb-awk", prepare_text, work_bb_awk, TEXT_KIB},
    {"bb-sed", prepare_text, work_bb_sed, TEXT_KIB},
    {"bb-shloop", prepare_scratch, work_bb_shloop, 150000},
    {"bb-true", prepare_scratch, work_bb_true, 800},
};
#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 0 when the workload ran and printed its line. */
static int run_workload(const Workload *w, double scale)
{
    double count = w->base_count * scale;
    uint32_t n = count < 1 ? 1 : (uint32_t)count;
    if (w->prepare && w->prepare(n) != 0) {
        fprintf(stderr, "%s: setup failed\n", w->name);
        return -1;
    }
    double t0 = now_sec();
    uint32_t checksum = w->run(n);
    double t1 = now_sec();
    if (program_failed) {
        program_failed = 0;
        fprintf(stderr, "%s: a program failed\n", w->name);
        return -1;
    }
    printf("WORKLOAD %s %.6f %08x\n", w->name, t1 - t0, checksum);
    fflush(stdout);
    return 0;
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
        } else if (!strcmp(argv[i], "--busybox") && i + 1 < argc) {
            busybox_path = argv[++i];
        } else if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < N_WORKLOADS; k++) {
                printf("%s\n", workloads[k].name);
            }
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--scale F] [--busybox PATH] [--list] [NAME...]\n",
                    argv[0]);
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
    int failed = 0;
    if (first_name == argc) {
        for (size_t k = 0; k < N_WORKLOADS; k++) {
            failed |= run_workload(&workloads[k], scale) != 0;
        }
        return failed;
    }
    for (int i = first_name; i < argc; i++) {
        if (!find_workload(argv[i])) {
            fprintf(stderr, "unknown workload '%s' (see --list)\n", argv[i]);
            return 2;
        }
    }
    for (int i = first_name; i < argc; i++) {
        failed |= run_workload(find_workload(argv[i]), scale) != 0;
    }
    return failed;
}
