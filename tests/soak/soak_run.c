/*
 * Hostile programs on a whole PC (soak.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "softmmu/mmu.h"
#include "tests/bt/bt_diff.h"
#include "tests/soak/soak.h"
#include "tests/support/testvm.h"

#define SOAK_RAM (4u << 20)

/* A program's share of host time.  Its budget counts instructions, and
 * one REP over memory nothing decodes is 4096 slow elements per counted
 * instruction (cpu/cpu.h: REP_CUT_ELEMENTS ends the slice every 256 Ki of
 * them, and the main loop polls the host then): past this many host
 * nanoseconds the poll ends the program too. */
#define SOAK_PROGRAM_NS 50000000

struct SoakMachine {
    PC pc;
    Timer budget_timer; /* ends a program: its budget, in virtual ns (icount shift 0) */
    int64_t started;    /* host_clock_ns() when the program started */
    SoakStats stats;
};

/* The firmware is never run (each program is loaded over a reset
 * machine), but the board wants one: 64 KiB of HLT. */
static bool write_rom(char *path, size_t len, char *err, size_t errlen)
{
    snprintf(path, len, "/tmp/popek-soak-rom-XXXXXX");
    int fd = mkstemp(path);
    static uint8_t rom[64 << 10];
    memset(rom, 0xf4, sizeof(rom));
    if (fd < 0 || write(fd, rom, sizeof(rom)) != (ssize_t)sizeof(rom)) {
        snprintf(err, errlen, "cannot write a ROM image in /tmp");
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return false;
    }
    close(fd);
    return true;
}

/* PCHostOps.poll: between slices; no host input to serve. */
static void soak_poll(void *opaque, int timeout_ms)
{
    (void)timeout_ms;
    SoakMachine *m = opaque;
    if (!m->pc.exit_requested && host_clock_ns() - m->started > SOAK_PROGRAM_NS) {
        m->stats.time_out++;
        pc_request_exit(&m->pc, 0);
    }
}

static void budget_over(void *opaque)
{
    SoakMachine *m = opaque;
    if (!m->pc.exit_requested) {
        m->stats.budget_out++;
        pc_request_exit(&m->pc, 0);
    }
}

SoakMachine *soak_new(enum Accel accel, char *err, size_t errlen)
{
    char rom[64];
    if (!write_rom(rom, sizeof(rom), err, errlen)) {
        return NULL;
    }
    SoakMachine *m = calloc(1, sizeof(*m));
    if (!m) {
        unlink(rom);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    PCConfig cfg = {
        .ram_bytes = SOAK_RAM,
        .accel = accel,
        .tb_size_mib = 2, /* small, so the cache fills and is flushed */
        .icount_shift = 0,
        .rtc_base = 0,
        .bios = rom,
        .boot_order = "c",
        .no_reboot = true,
        .nic_count = 2,
        .nics = {{PC_NIC_E1000, {0x52, 0x54, 0, 0x12, 0x34, 0x56}},
                 {PC_NIC_VIRTIO_NET, {0x52, 0x54, 0, 0x12, 0x34, 0x57}}},
    };
    cfg.drives[2] = (PCDrive){true, true, NULL, "-cdrom"}; /* an empty ATAPI drive */
    pc_init(&m->pc, &cfg);
    m->pc.cfg.bios = NULL; /* the file is gone; nothing reloads it */
    unlink(rom);
    timer_init(&m->budget_timer, &m->pc.timers, budget_over, m);
    m->pc.host = (PCHostOps){m, soak_poll, NULL};
    return m;
}

void soak_free(SoakMachine *m)
{
    if (m) {
        timer_del(&m->budget_timer);
        pc_destroy(&m->pc);
        free(m);
    }
}

const SoakStats *soak_stats(const SoakMachine *m)
{
    return &m->stats;
}

/* Zero what the programs use (below the VGA window, and the page tables
 * at 1 MiB) through the bus, so the caches of decoded and translated code
 * hear of it. */
static void clear_low_ram(PhysMem *phys)
{
    static const uint8_t zero[64 << 10];
    for (uint32_t a = 0; a < 0xa0000; a += sizeof(zero)) {
        phys_write_buf(phys, a, zero, sizeof(zero));
    }
    for (uint32_t a = 0x100000; a < 0x200000; a += sizeof(zero)) {
        phys_write_buf(phys, a, zero, sizeof(zero));
    }
}

static void load(SoakMachine *m, const SoakProgram *sp)
{
    PC *pc = &m->pc;
    CPUState *cpu = &pc->cpu;
    clear_low_ram(&pc->phys);
    btd_load(&pc->phys, cpu, &sp->bt);
    for (int i = 0; i < SOAK_GDT_GARBAGE_COUNT; i++) {
        uint32_t at = TESTVM_GDT + (uint32_t)(SOAK_GDT_GARBAGE_FIRST + i) * 8;
        phys_write(&pc->phys, at, (uint32_t)sp->gdt_garbage[i], 4);
        phys_write(&pc->phys, at + 4, (uint32_t)(sp->gdt_garbage[i] >> 32), 4);
    }
    cpu->gdtr.limit = (SOAK_GDT_GARBAGE_FIRST + SOAK_GDT_GARBAGE_COUNT) * 8 - 1;
    uint64_t x = sp->idt_seed | 1;
    for (int i = 0; i < sp->idt_garbage; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t gate = (uint32_t)(x % 256);
        phys_write(&pc->phys, TESTVM_IDT + gate * 8, (uint32_t)(x >> 8), 4);
        phys_write(&pc->phys, TESTVM_IDT + gate * 8 + 4, (uint32_t)(x >> 32), 4);
    }
    if (sp->reenter >= 0) {
        /* Each stub is "mov [LAST_VECTOR], v; hlt; jmp $-1" (testvm.c): make
         * its HLT a jmp rel32 back into the program. */
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t at = TESTVM_HANDLERS + v * 16 + 10;
            uint32_t rel = BTG_CODE + (uint32_t)sp->reenter - (at + 5);
            uint8_t jmp[5] = {0xe9, (uint8_t)rel, (uint8_t)(rel >> 8), (uint8_t)(rel >> 16),
                              (uint8_t)(rel >> 24)};
            phys_write_buf(&pc->phys, at, jmp, sizeof(jmp));
        }
    }
    if (sp->iopl3) {
        cpu->eflags |= EFLAGS_IOPL;
    }
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

void soak_run(SoakMachine *m, const SoakProgram *sp, uint64_t budget)
{
    PC *pc = &m->pc;
    pc_reset(pc);
    pc->exit_requested = false;
    load(m, sp);
    uint64_t start = pc->cpu.icount;
    uint64_t ended = m->stats.budget_out + m->stats.time_out;
    m->started = host_clock_ns();
    timer_mod(&m->budget_timer, timer_now(&pc->timers) + (int64_t)budget);
    pc_run(pc);
    timer_del(&m->budget_timer);
    m->stats.programs++;
    m->stats.insns += pc->cpu.icount - start;
    if (!pc->exit_requested) {
        m->stats.resets++; /* -no-reboot: a reset ends pc_run */
    } else if (m->stats.budget_out + m->stats.time_out == ended) {
        m->stats.exits++;
    }
}
