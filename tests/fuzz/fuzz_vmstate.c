/*
 * libFuzzer harness: loading a hostile VM state must not crash popek.
 *
 * The machine is a whole PC (SeaBIOS, 4 MiB of RAM, an IDE disk and a CD,
 * an e1000 and a virtio-net card, the VGA) as -incoming would fill it.
 * The input is a state file; its CRC is set right before loading, or
 * nearly every mutation would stop at the checksum and the fuzzer would
 * never reach a section's fields.  After a load that succeeds the machine
 * runs a few thousand instructions with its timers and draws a frame, so
 * whatever a state could smuggle past the checks (an index, a count, a
 * mode) meets the code that uses it.  Nothing may crash or trip a
 * sanitizer; the disks abort on a request past their end.
 *
 * The seed corpus (tests/fuzz/vmstate_corpus/) holds a real state of this
 * machine: POPEK_FUZZ_VMSTATE_SEED=FILE makes the harness write one (the
 * machine after SEED_INSNS instructions of SeaBIOS, every chip programmed)
 * and exit.  Its RAM is cleared first: the pages are most of the bytes and
 * the least of the parsing, and the repository stays small.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cpu/cpu.h"
#include "hw/display/vga.h"
#include "hw/pc/pc.h"

#define FUZZ_RAM     (4u << 20)
#define DISK_SECTORS 2048 /* 1 MiB each */
#define RUN_INSNS    5000
#define SEED_INSNS   3000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct MemDisk {
    uint8_t data[DISK_SECTORS * 512];
} MemDisk;

static PC *pc;
static MemDisk disks[2];
static BlockDev blk[2];

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    if (sector >= DISK_SECTORS || count > DISK_SECTORS - sector) {
        abort();
    }
    memcpy(buf, d->data + sector * 512, (size_t)count * 512);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    if (sector >= DISK_SECTORS || count > DISK_SECTORS - sector) {
        abort();
    }
    memcpy(d->data + sector * 512, buf, (size_t)count * 512);
    return 0;
}

static int disk_flush(void *opaque)
{
    return 0;
}

/* Run n instructions with the machine's timers (-icount time). */
static void run(uint64_t n)
{
    uint64_t end = pc->cpu.icount + n;
    while (pc->cpu.icount < end && !pc->exit_requested) {
        int64_t now = timer_now(&pc->timers);
        int64_t next = timerlist_next_deadline(&pc->timers);
        uint64_t budget = end - pc->cpu.icount;
        if (next != TIMER_NEVER && next > now && (uint64_t)(next - now) + 1 < budget) {
            budget = (uint64_t)(next - now) + 1;
        }
        int reason = pc_engine_exec(pc, budget);
        timerlist_run(&pc->timers);
        if (reason == CPU_EXIT_HALT || reason == CPU_EXIT_RESET || pc->reset_requested) {
            pc->cpu.icount += 1000; /* time passes for a halted or resetting CPU too */
            pc->cpu.halted = reason == CPU_EXIT_HALT;
            pc->reset_requested = false;
            timerlist_run(&pc->timers);
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (int i = 0; i < 2; i++) {
        blk[i] = (BlockDev){&disks[i], DISK_SECTORS, false, disk_read, disk_write, disk_flush};
    }
    PCConfig cfg = {
        .ram_bytes = FUZZ_RAM,
        .accel = ACCEL_INTERP,
        .tb_size_mib = 8,
        .icount_shift = 0,
        .rtc_base = -1,
        .boot_order = "c",
        .nic_count = 2,
        .nics = {{PC_NIC_E1000, {0x52, 0x54, 0, 0x12, 0x34, 0x56}},
                 {PC_NIC_VIRTIO_NET, {0x52, 0x54, 0, 0x12, 0x34, 0x57}}},
    };
    cfg.drives[0] = (PCDrive){true, false, &blk[0], "-hda"};
    cfg.drives[2] = (PCDrive){true, true, &blk[1], "-cdrom"};
    pc = calloc(1, sizeof(*pc));
    pc_init(pc, &cfg);
    const char *seed = getenv("POPEK_FUZZ_VMSTATE_SEED");
    if (seed) {
        run(SEED_INSNS);
        memset(pc->phys.ram, 0, pc->phys.ram_size);
        VMWriter w;
        vm_writer_init(&w);
        FILE *f = fopen(seed, "wb");
        if (!pc_save_state(pc, &w) || !f || fwrite(w.buf, 1, w.len, f) != w.len || fclose(f)) {
            fprintf(stderr, "cannot write the seed to %s\n", seed);
            exit(1);
        }
        printf("seed: %zu bytes after %d instructions\n", w.len, SEED_INSNS);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    /* The trailer is 'E' and the CRC of everything before it. */
    if (size >= 5 && copy[size - 5] == 'E') {
        uint32_t crc = (uint32_t)crc32(0, copy, (uInt)(size - 5));
        for (int i = 0; i < 4; i++) {
            copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        }
    }
    char err[256];
    pc->exit_requested = false;
    if (pc_load_state(pc, copy, size, false, err, sizeof(err))) {
        run(RUN_INSNS);
        VGAState *vga = pc_vga(pc);
        if (vga) {
            vga_update(vga);
        }
    }
    free(copy);
    return 0;
}
