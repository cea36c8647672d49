/*
 * A protected-mode CPU for the segment, task and interrupt unit tests: 2 MiB
 * of RAM, a GDT, LDT, IDT and two 32-bit TSSs built by hand in guest memory,
 * flat ring-0 and ring-3 code and data segments, paging off.  Faults raised
 * by the code under test longjmp back to pm_try(), which reports the vector
 * and leaves the error code in cpu->exception_error.
 */
#ifndef TESTS_UNIT_PM_FIXTURE_H
#define TESTS_UNIT_PM_FIXTURE_H

#include <setjmp.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "cpu/desc.h"
#include "cpu/mem.h"
#include "softmmu/phys.h"

#define PM_RAM_SIZE (2u << 20)

/* Guest physical (= linear, paging off) layout. */
#define GDT_BASE   0x1000u
#define LDT_BASE   0x2000u
#define IDT_BASE   0x3000u
#define TSS_A_BASE 0x4000u
#define TSS_B_BASE 0x4400u
#define STACK0_TOP 0x9000u /* ring-0 stack (TSS ESP0) */
#define STACK3_TOP 0xa000u /* ring-3 stack */
#define IVT_STACK  0x8000u /* real-mode stack (SS=0) */

/* GDT selectors. */
#define SEL_CODE0 0x08u
#define SEL_DATA0 0x10u
#define SEL_CODE3 0x1bu
#define SEL_DATA3 0x23u
#define SEL_TSS_A 0x28u
#define SEL_TSS_B 0x30u
#define SEL_LDT   0x38u
/* Free GDT slots tests fill: index 8 .. 63. */
#define GDT_FREE_INDEX 8
#define GDT_LIMIT      (64 * 8 - 1)

/* Attribute sets (descriptor high-dword bits, cpu/state.h). */
#define ATTR_CODE32 (DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_B | DESC_G)
#define ATTR_DATA32 (DESC_P | DESC_S | DESC_W | DESC_B | DESC_G)
#define ATTR_DPL(n) ((uint32_t)(n) << DESC_DPL_SHIFT)

typedef struct PMFixture {
    PhysMem pm;
    CPUState *cpu;
} PMFixture;

static inline void pm_wr8(PMFixture *fx, uint32_t addr, uint8_t v)
{
    phys_write(&fx->pm, addr, v, 1);
}

static inline void pm_wr16(PMFixture *fx, uint32_t addr, uint16_t v)
{
    phys_write(&fx->pm, addr, v, 2);
}

static inline void pm_wr32(PMFixture *fx, uint32_t addr, uint32_t v)
{
    phys_write(&fx->pm, addr, v, 4);
}

static inline uint32_t pm_rd8(PMFixture *fx, uint32_t addr)
{
    return phys_read(&fx->pm, addr, 1);
}

static inline uint32_t pm_rd16(PMFixture *fx, uint32_t addr)
{
    return phys_read(&fx->pm, addr, 2);
}

static inline uint32_t pm_rd32(PMFixture *fx, uint32_t addr)
{
    return phys_read(&fx->pm, addr, 4);
}

/* A code/data or system descriptor in the SDM Vol.3 Figure 3-8 format;
 * attr holds the type, S, DPL, P, B and G bits of the high dword. */
static inline uint64_t make_desc(uint32_t base, uint32_t limit, uint32_t attr)
{
    uint32_t lo = (limit & 0xffffu) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xffu) | (base & 0xff000000u) | (limit & 0xf0000u) | attr;
    return (uint64_t)hi << 32 | lo;
}

/* A gate (SDM Vol.3 Figures 5-8 and 6-2). */
static inline uint64_t make_gate(uint16_t selector, uint32_t offset, uint32_t type, uint32_t dpl,
                                 uint32_t params)
{
    uint32_t lo = (offset & 0xffffu) | ((uint32_t)selector << 16);
    uint32_t hi = (offset & 0xffff0000u) | DESC_P | ATTR_DPL(dpl) | (type << DESC_TYPE_SHIFT) |
                  (params & 0x1fu);
    return (uint64_t)hi << 32 | lo;
}

static inline void pm_put_desc(PMFixture *fx, uint32_t addr, uint64_t desc)
{
    pm_wr32(fx, addr, (uint32_t)desc);
    pm_wr32(fx, addr + 4, (uint32_t)(desc >> 32));
}

static inline void gdt_set(PMFixture *fx, int index, uint64_t desc)
{
    pm_put_desc(fx, GDT_BASE + (uint32_t)index * 8, desc);
}

static inline uint64_t gdt_get(PMFixture *fx, int index)
{
    uint32_t addr = GDT_BASE + (uint32_t)index * 8;
    return (uint64_t)pm_rd32(fx, addr + 4) << 32 | pm_rd32(fx, addr);
}

static inline void ldt_set(PMFixture *fx, int index, uint64_t desc)
{
    pm_put_desc(fx, LDT_BASE + (uint32_t)index * 8, desc);
}

static inline void idt_set(PMFixture *fx, int vector, uint64_t gate)
{
    pm_put_desc(fx, IDT_BASE + (uint32_t)vector * 8, gate);
}

/* Load a segment register straight from a GDT entry (no checks), as if the
 * guest had loaded it earlier. */
static inline void pm_force_seg(PMFixture *fx, int seg, uint16_t selector)
{
    seg_cache_from_descriptor(&fx->cpu->seg[seg], selector, gdt_get(fx, selector >> 3));
    cpu_update_mode(fx->cpu);
}

/* Enter CPL 3 with flat ring-3 segments and ESP at the ring-3 stack. */
static inline void pm_enter_ring3(PMFixture *fx)
{
    pm_force_seg(fx, SEG_CS, SEL_CODE3);
    pm_force_seg(fx, SEG_SS, SEL_DATA3);
    pm_force_seg(fx, SEG_DS, SEL_DATA3);
    pm_force_seg(fx, SEG_ES, SEL_DATA3);
    pm_force_seg(fx, SEG_FS, SEL_DATA3);
    pm_force_seg(fx, SEG_GS, SEL_DATA3);
    fx->cpu->regs[R_ESP] = STACK3_TOP;
}

/* Set up the machine described at the top, at CPL 0 in protected mode. */
static inline void pm_setup(PMFixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    if (!phys_init(&fx->pm, PM_RAM_SIZE)) {
        abort();
    }
    fx->cpu = calloc(1, sizeof(CPUState));
    if (!fx->cpu) {
        abort();
    }
    CPUState *cpu = fx->cpu;
    cpu_init(cpu, &fx->pm, NULL);

    gdt_set(fx, 1, make_desc(0, 0xfffff, ATTR_CODE32));
    gdt_set(fx, 2, make_desc(0, 0xfffff, ATTR_DATA32));
    gdt_set(fx, 3, make_desc(0, 0xfffff, ATTR_CODE32 | ATTR_DPL(3)));
    gdt_set(fx, 4, make_desc(0, 0xfffff, ATTR_DATA32 | ATTR_DPL(3)));
    gdt_set(fx, 5, make_desc(TSS_A_BASE, 0x67, DESC_P | (SYS_TSS32_BUSY << DESC_TYPE_SHIFT)));
    gdt_set(fx, 6, make_desc(TSS_B_BASE, 0x67, DESC_P | (SYS_TSS32_AVAIL << DESC_TYPE_SHIFT)));
    gdt_set(fx, 7, make_desc(LDT_BASE, 0xff, DESC_P | (SYS_LDT << DESC_TYPE_SHIFT)));
    cpu->gdtr.base = GDT_BASE;
    cpu->gdtr.limit = GDT_LIMIT;
    cpu->idtr.base = IDT_BASE;
    cpu->idtr.limit = 256 * 8 - 1;

    /* TSS A: ring-0 stack for privilege changes; no I/O bitmap by default. */
    pm_wr32(fx, TSS_A_BASE + 4, STACK0_TOP);
    pm_wr16(fx, TSS_A_BASE + 8, SEL_DATA0);
    pm_wr16(fx, TSS_A_BASE + 0x66, 0x68);

    cpu->cr0 |= CR0_PE;
    pm_force_seg(fx, SEG_CS, SEL_CODE0);
    pm_force_seg(fx, SEG_SS, SEL_DATA0);
    pm_force_seg(fx, SEG_DS, SEL_DATA0);
    pm_force_seg(fx, SEG_ES, SEL_DATA0);
    pm_force_seg(fx, SEG_FS, SEL_DATA0);
    pm_force_seg(fx, SEG_GS, SEL_DATA0);
    seg_cache_from_descriptor(&cpu->tr, SEL_TSS_A, gdt_get(fx, 5));
    seg_cache_from_descriptor(&cpu->ldtr, 0, 0);
    cpu->regs[R_ESP] = STACK0_TOP - 0x100;
    cpu->eip = 0x1234;
    cpu->next_eip = 0x1236;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

static inline void pm_teardown(PMFixture *fx)
{
    free(fx->cpu);
    phys_destroy(&fx->pm);
}

/* ---- catching faults ---- */

typedef void (*PMAction)(CPUState *cpu, void *arg);

/* Run action; return the vector it raised (error code in
 * cpu->exception_error), or -1 when it completed. */
static inline int pm_try(CPUState *cpu, PMAction action, void *arg)
{
    cpu->exception_vector = -1;
    if (setjmp(cpu->jmp_env)) {
        return cpu->exception_vector;
    }
    action(cpu, arg);
    return -1;
}

/*
 * Deliver an exception the way the run loop does: a fault raised during
 * delivery comes back to cpu_deliver_exception() with delivering_vector
 * still set, until a delivery completes or the CPU shuts down.
 */
static inline void pm_deliver_like_run_loop(CPUState *cpu, int vector, bool has_error,
                                            uint32_t error_code)
{
    cpu->exception_vector = vector;
    cpu->exception_has_error = has_error;
    cpu->exception_error = error_code;
    setjmp(cpu->jmp_env);
    if (cpu->exception_vector < 0 || cpu->triple_fault) {
        return;
    }
    int v = cpu->exception_vector;
    cpu->exception_vector = -1;
    cpu->next_eip = cpu->eip;
    cpu_deliver_exception(cpu, v, cpu->exception_has_error, cpu->exception_error);
}

#endif /* TESTS_UNIT_PM_FIXTURE_H */
