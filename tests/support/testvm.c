/*
 * Test VM construction.  Descriptor layouts follow the SDM Vol.3 3.4.5
 * (segment descriptors), 6.11 (IDT gates) and 7.2.1 (32-bit TSS).
 */
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

static void put32(PhysMem *phys, uint32_t paddr, uint32_t v)
{
    phys_write(phys, paddr, v, 4);
}

/* A segment descriptor: base, byte-or-page limit, access byte, flags nibble. */
static uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = limit & 0xffff;
    d |= (uint64_t)(base & 0xffffff) << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)((limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(flags & 0xf) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

static void put_desc(PhysMem *phys, uint32_t paddr, uint64_t d)
{
    put32(phys, paddr, (uint32_t)d);
    put32(phys, paddr + 4, (uint32_t)(d >> 32));
}

TestVM *testvm_new(uint32_t ram_bytes)
{
    TestVM *vm = calloc(1, sizeof(*vm));
    if (!vm || !phys_init(&vm->phys, ram_bytes)) {
        free(vm);
        return NULL;
    }
    ioport_init(&vm->io);
    cpu_init(&vm->cpu, &vm->phys, &vm->io);
    return vm;
}

void testvm_free(TestVM *vm)
{
    if (vm) {
        phys_destroy(&vm->phys);
        free(vm);
    }
}

void testvm_load(TestVM *vm, uint32_t paddr, const void *bytes, size_t len)
{
    phys_write_buf(&vm->phys, paddr, bytes, (uint32_t)len);
}

/* Each vector's stub: mov dword [LAST_VECTOR], vector; hlt; jmp $-1 */
static void build_handlers(PhysMem *phys)
{
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t at = TESTVM_HANDLERS + v * 16;
        uint8_t stub[16] = {0xc7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, /* mov dword [abs], imm32 */
                            0xf4,                               /* hlt */
                            0xeb, 0xfd};                        /* jmp back to hlt */
        memcpy(stub + 2, &(uint32_t){TESTVM_LAST_VECTOR}, 4);
        memcpy(stub + 6, &v, 4);
        phys_write_buf(phys, at, stub, sizeof(stub));
        /* 32-bit interrupt gate, DPL 3 so INT n works from ring 3 too */
        uint32_t lo = (TESTVM_SEL_CODE0 << 16) | (at & 0xffff);
        uint32_t hi = (at & 0xffff0000u) | 0xee00u;
        put32(phys, TESTVM_IDT + v * 8, lo);
        put32(phys, TESTVM_IDT + v * 8 + 4, hi);
    }
    put32(phys, TESTVM_LAST_VECTOR, 0xffffffffu);
}

void testvm_flat32(TestVM *vm, int cpl, uint32_t entry)
{
    testvm_flat32_on(&vm->phys, &vm->cpu, cpl, entry);
}

void testvm_flat32_on(PhysMem *phys, CPUState *cpu, int cpl, uint32_t entry)
{
    static const uint8_t zero_tss[104];
    put_desc(phys, TESTVM_GDT + 0x00, 0);
    put_desc(phys, TESTVM_GDT + 0x08, make_desc(0, 0xfffff, 0x9b, 0xc)); /* ring-0 code */
    put_desc(phys, TESTVM_GDT + 0x10, make_desc(0, 0xfffff, 0x93, 0xc)); /* ring-0 data */
    put_desc(phys, TESTVM_GDT + 0x18, make_desc(0, 0xfffff, 0xfb, 0xc)); /* ring-3 code */
    put_desc(phys, TESTVM_GDT + 0x20, make_desc(0, 0xfffff, 0xf3, 0xc)); /* ring-3 data */
    put_desc(phys, TESTVM_GDT + 0x28, make_desc(TESTVM_TSS, 103, 0x89, 0x0)); /* 32-bit TSS */
    phys_write_buf(phys, TESTVM_TSS, zero_tss, sizeof(zero_tss));
    put32(phys, TESTVM_TSS + 4, TESTVM_STACK0);     /* ESP0 */
    put32(phys, TESTVM_TSS + 8, TESTVM_SEL_DATA0);  /* SS0 */
    put32(phys, TESTVM_TSS + 0x64, 104u << 16);     /* I/O bitmap base past the limit: no ports */
    build_handlers(phys);

    cpu->gdtr.base = TESTVM_GDT;
    cpu->gdtr.limit = 8 * 8 - 1;
    cpu->idtr.base = TESTVM_IDT;
    cpu->idtr.limit = 256 * 8 - 1;
    cpu->cr0 |= CR0_PE;
    uint16_t cs = cpl ? TESTVM_SEL_CODE3 : TESTVM_SEL_CODE0;
    uint16_t ds = cpl ? TESTVM_SEL_DATA3 : TESTVM_SEL_DATA0;
    for (int s = 0; s < SEG_COUNT; s++) {
        uint16_t sel = s == SEG_CS ? cs : ds;
        uint64_t d = make_desc(0, 0xfffff, s == SEG_CS ? (cpl ? 0xfb : 0x9b) : (cpl ? 0xf3 : 0x93), 0xc);
        seg_cache_from_descriptor(&cpu->seg[s], sel, d);
    }
    seg_cache_from_descriptor(&cpu->tr, TESTVM_SEL_TSS, make_desc(TESTVM_TSS, 103, 0x8b, 0));
    cpu->eflags = EFLAGS_FIXED;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->eip = entry;
    cpu->regs[R_ESP] = cpl ? 0x9000 : TESTVM_STACK0;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

void testvm_paged32(TestVM *vm, uint32_t unmapped, uint32_t readonly)
{
    put32(&vm->phys, TESTVM_PD, TESTVM_PT | 7);
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pte = i << 12 | 7; /* present, writable, user */
        if (i == unmapped >> 12) {
            pte = 0;
        } else if (i == readonly >> 12) {
            pte = i << 12 | 5; /* present, user, read-only */
        }
        put32(&vm->phys, TESTVM_PT + 4 * i, pte);
    }
    vm->cpu.cr3 = TESTVM_PD;
    vm->cpu.cr0 |= CR0_PG | CR0_WP;
    cpu_update_mode(&vm->cpu);
    tlb_flush_all(&vm->cpu);
}

void testvm_long_mode(TestVM *vm, bool code64)
{
    CPUState *cpu = &vm->cpu;
    uint32_t pdpt = TESTVM_PML4 + 0x1000, pd = TESTVM_PML4 + 0x2000;
    const uint32_t entries[][2] = {
        {TESTVM_PML4, pdpt | 7},
        {pdpt, pd | 7},
        {pd, 0x000000 | 0x87},
        {pd + 8, 0x200000 | 0x87},
    }; /* present, writable, user; PS: 2 MiB pages */
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        put32(&vm->phys, entries[i][0], entries[i][1]);
        put32(&vm->phys, entries[i][0] + 4, 0);
    }
    /* The first 2 MiB again at TESTVM_HIGH (PML4[511], PDPT[510], PD[0]). */
    uint32_t pdpt_hi = TESTVM_PML4 + 0x3000, pd_hi = TESTVM_PML4 + 0x4000;
    const uint32_t high[][2] = {{TESTVM_PML4 + 511 * 8, pdpt_hi | 7},
                                {pdpt_hi + 510 * 8, pd_hi | 7},
                                {pd_hi, 0x000000 | 0x87}};
    for (size_t i = 0; i < sizeof(high) / sizeof(high[0]); i++) {
        put32(&vm->phys, high[i][0], high[i][1]);
        put32(&vm->phys, high[i][0] + 4, 0);
    }
    cpu->cr3 = TESTVM_PML4;
    cpu->cr4 |= CR4_PAE;
    cpu->efer |= EFER_LME | EFER_LMA;
    cpu->cr0 |= CR0_PG;
    if (code64) {
        /* CS.L with CS.D clear: 64-bit mode (SDM Vol.3 5.2.1). */
        cpu->seg[SEG_CS].attr = (cpu->seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    }
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

int testvm_run(TestVM *vm, uint64_t max_insns)
{
    return cpu_exec(&vm->cpu, max_insns);
}

int testvm_last_vector(TestVM *vm)
{
    uint32_t v = phys_read(&vm->phys, TESTVM_LAST_VECTOR, 4);
    return v == 0xffffffffu ? -1 : (int)v;
}
