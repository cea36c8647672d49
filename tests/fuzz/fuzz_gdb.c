/*
 * libFuzzer harness for the gdb stub's packet parser and dispatcher
 * (frontend/gdbstub.c, gdbstub_cmds.c, gdbregs.c) and, through qRcmd, the
 * monitor's command parser.  Nothing a client sends may crash popek or
 * make a sanitizer report.
 *
 * Input: byte 0 picks the CPU setup (real mode, flat protected mode, or
 * flat protected mode with paging over tables built from the input, so
 * memory packets walk odd page tables) and, in bit 7, whether the rest is
 * the raw byte stream from the client or packet bodies that the harness
 * frames with a correct checksum (so the fuzzer reaches every command
 * without having to find checksums).  The rest is cut into up to eight
 * pieces at 0xff bytes; between pieces the machine runs a little, as the
 * main loop would, so continue, step, breakpoints and watchpoints execute
 * (the guest code is the input too).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frontend/gdbstub.h"
#include "frontend/monitor.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define FUZZ_RAM       (4u << 20)
#define FUZZ_PD        0x20000u
#define FUZZ_RUN_INSNS 200
#define FUZZ_PIECES    8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replies go nowhere, but every byte is read (so ASan checks the buffer). */
static void sink(void *opaque, const char *data, size_t len)
{
    unsigned *sum = opaque;
    for (size_t i = 0; i < len; i++) {
        *sum += (uint8_t)data[i];
    }
}

/* Send one piece: as it is, or framed as $piece#checksum. */
static void feed_piece(GdbStub *stub, bool framed, const uint8_t *piece, size_t len)
{
    if (!framed) {
        gdbstub_feed(stub, piece, len);
        return;
    }
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += piece[i];
    }
    char trailer[4];
    snprintf(trailer, sizeof(trailer), "#%02x", sum);
    gdbstub_feed(stub, (const uint8_t *)"$", 1);
    gdbstub_feed(stub, piece, len);
    gdbstub_feed(stub, (const uint8_t *)trailer, 3);
}

static void setup_cpu(TestVM *vm, uint8_t mode, const uint8_t *data, size_t size)
{
    memset(vm->phys.ram, 0, 0x40000);
    cpu_reset(&vm->cpu);
    size_t code = size < 0x1000 ? size : 0x1000;
    testvm_load(vm, TESTVM_CODE, data, code);
    switch (mode % 3) {
    case 0: break; /* real mode at the reset vector (the bus reads all ones there) */
    case 1: testvm_flat32(vm, 0, TESTVM_CODE); break;
    default:
        testvm_flat32(vm, 0, TESTVM_CODE);
        /* The input doubles as the page directory: any entries at all. */
        testvm_load(vm, FUZZ_PD, data, size < 0x1000 ? size : 0x1000);
        vm->cpu.cr3 = FUZZ_PD;
        vm->cpu.cr0 |= CR0_PG;
        cpu_update_mode(&vm->cpu);
        tlb_flush_all(&vm->cpu);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static TestVM *vm;
    if (size < 1) {
        return 0;
    }
    if (!vm) {
        vm = testvm_new(FUZZ_RAM);
    }
    setup_cpu(vm, data[0], data + 1, size - 1);
    bool stopped = false;
    unsigned sum = 0;
    GdbStub *stub = gdbstub_new(&vm->cpu, &stopped);
    Monitor *mon = monitor_new(&vm->cpu, &stopped, NULL);
    gdbstub_set_monitor(stub, mon);
    gdbstub_attach_output(stub, sink, &sum);

    bool framed = data[0] & 0x80;
    const uint8_t *p = data + 1, *end = data + size;
    for (int piece = 0; piece < FUZZ_PIECES && p < end; piece++) {
        const uint8_t *cut = memchr(p, 0xff, (size_t)(end - p));
        const uint8_t *piece_end = cut ? cut : end;
        feed_piece(stub, framed, p, (size_t)(piece_end - p));
        p = cut ? cut + 1 : end;
        if (!stopped) {
            gdbstub_after_exec(stub, gdbstub_exec(stub, FUZZ_RUN_INSNS));
        }
    }
    gdbstub_free(stub);
    monitor_free(mon);
    volatile unsigned keep = sum; /* the replies were read */
    (void)keep;
    return 0;
}
