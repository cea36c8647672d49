/*
 * System instructions (cpu/ops_system.c, cpu/ops_segreg.c) and system
 * registers (cpu/sysreg.c): CPUID against what the CPU accepts, CR0/CR4
 * write rules, MSRs, the TSC, PUSHF/POPF and CLI/STI by privilege, IOPL and
 * vm86/VME, the descriptor probes on a hand-built GDT, LLDT/LTR,
 * LGDT/SGDT, segment-register moves, debug registers, SYSENTER/SYSEXIT
 * and HLT.
 *
 * Instructions run one at a time through the decoder and the interpreter's
 * dispatch; a fault comes back as its vector (the error code is in
 * cpu->exception_error) with nothing delivered, so a test can check that the
 * state is as it was before the faulting instruction.  Paging is off, so
 * linear = physical = offset into pm.ram.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/desc.h"
#include "cpu/models.h"
#include "cpu/ops.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MIB      (1024u * 1024u)
#define NO_FAULT (-1)

#define GDT_BASE  0x1000u
#define LDT_BASE  0x3000u
#define TSS_BASE  0x4000u
#define DATA      0x6000u
#define STACK_TOP 0x9000u

/* Selectors into the GDT below. */
#define SEL_CODE0       0x08
#define SEL_DATA0       0x10
#define SEL_CODE3       0x1b
#define SEL_DATA3       0x23
#define SEL_CONFORMING0 0x28
#define SEL_EXECONLY3   0x30
#define SEL_RODATA3     0x38
#define SEL_LDT         0x40
#define SEL_TSS32       0x48
#define SEL_INTGATE3    0x50
#define SEL_CALLGATE3   0x58
#define SEL_SMALL3      0x60
#define SEL_DATA2       0x68
#define SEL_TSS16       0x70
#define SEL_BUSYTSS     0x78
#define GDT_ENTRIES     16

static PhysMem pm;
static CPUState *cpu;

/* A code/data/system descriptor (SDM Vol.3 Figure 3-8): access byte
 * P|DPL|S|type, flags nibble G|D/B|L|AVL. */
static uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xffffu) | (uint64_t)(base & 0xffffffu) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xfu) << 48 |
           (uint64_t)(flags & 0xfu) << 52 | (uint64_t)(base >> 24) << 56;
}

static const uint64_t gdt[GDT_ENTRIES] = {
    [1] = 0x00cf9a000000ffffull,  /* flat code, DPL 0 */
    [2] = 0x00cf92000000ffffull,  /* flat data, DPL 0 */
    [3] = 0x00cffa000000ffffull,  /* flat code, DPL 3 */
    [4] = 0x00cff2000000ffffull,  /* flat data, DPL 3 */
    [5] = 0x00cf9e000000ffffull,  /* conforming readable code, DPL 0 */
    [6] = 0x00cff8000000ffffull,  /* execute-only code, DPL 3 */
    [7] = 0x00cff0000000ffffull,  /* read-only data, DPL 3 */
    [10] = 0x0000ee0000080000ull, /* 32-bit interrupt gate, DPL 3 */
    [11] = 0x0000ec0000080000ull, /* 32-bit call gate, DPL 3 */
};

static void put8(uint32_t paddr, uint8_t v)
{
    pm.ram[paddr] = v;
}

static void put16(uint32_t paddr, uint16_t v)
{
    memcpy(pm.ram + paddr, &v, 2);
}

static void put32(uint32_t paddr, uint32_t v)
{
    memcpy(pm.ram + paddr, &v, 4);
}

static void put64(uint32_t paddr, uint64_t v)
{
    memcpy(pm.ram + paddr, &v, 8);
}

static uint16_t get16(uint32_t paddr)
{
    uint16_t v;
    memcpy(&v, pm.ram + paddr, 2);
    return v;
}

static uint32_t get32(uint32_t paddr)
{
    uint32_t v;
    memcpy(&v, pm.ram + paddr, 4);
    return v;
}

static uint64_t gdt_entry(uint16_t selector)
{
    uint64_t v;
    memcpy(&v, pm.ram + GDT_BASE + (selector & 0xfff8u), 8);
    return v;
}

static void write_tables(void)
{
    for (int i = 0; i < GDT_ENTRIES; i++) {
        put64(GDT_BASE + 8 * i, gdt[i]);
    }
    put64(GDT_BASE + SEL_LDT, make_desc(LDT_BASE, 0x17, 0x82, 0));
    put64(GDT_BASE + SEL_TSS32, make_desc(TSS_BASE, 0x67, 0x89, 0));
    put64(GDT_BASE + SEL_SMALL3, make_desc(0x20000, 0x1234, 0xf2, 0x4));
    put64(GDT_BASE + SEL_DATA2, make_desc(0, 0x0fff, 0xd2, 0x4));
    put64(GDT_BASE + SEL_TSS16, make_desc(TSS_BASE + 0x100, 0x2b, 0x81, 0));
    put64(GDT_BASE + SEL_BUSYTSS, make_desc(TSS_BASE + 0x200, 0x67, 0x8b, 0));
    /* LDT: index 1 is DPL 3 data. */
    put64(LDT_BASE + 8, 0x00cff2000000ffffull);
}

/* A CPU fresh from RESET, in real mode with 64 KiB segments at 0. */
static void real_mode_fresh(void)
{
    cpu_init(cpu, &pm, NULL);
    cpu_msr_reset(cpu);
    write_tables();
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_real(cpu, s, 0);
    }
    cpu->regs[R_ESP] = STACK_TOP;
    cpu->eip = 0x7c00;
    cpu_update_mode(cpu);
}

static void setup(void)
{
    ck_assert(phys_init(&pm, 4 * MIB));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    real_mode_fresh();
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

static void load_cached(int seg, uint16_t selector)
{
    seg_cache_from_descriptor(&cpu->seg[seg], selector, gdt_entry(selector));
}

/* Protected mode, flat segments at privilege level cpl (0 or 3). */
static void enter_pm(uint32_t cpl)
{
    cpu->cr0 |= CR0_PE;
    cpu->gdtr = (TableRegister){GDT_BASE, 8 * GDT_ENTRIES - 1};
    uint16_t data = cpl ? SEL_DATA3 : SEL_DATA0;
    for (int s = 0; s < SEG_COUNT; s++) {
        load_cached(s, data);
    }
    load_cached(SEG_CS, cpl ? SEL_CODE3 : SEL_CODE0);
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->cpl, cpl);
}

/* Virtual-8086 mode with the given IOPL; segments at 0, SP = STACK_TOP. */
static void enter_vm86(uint32_t iopl)
{
    cpu->cr0 |= CR0_PE;
    cpu->eflags = EFLAGS_FIXED | EFLAGS_VM | (iopl << EFLAGS_IOPL_SHIFT);
    for (int s = 0; s < SEG_COUNT; s++) {
        seg_load_vm86(cpu, s, 0);
    }
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->cpl, 3);
}

static void set_iopl(uint32_t iopl)
{
    cpu->eflags = (cpu->eflags & ~EFLAGS_IOPL) | (iopl << EFLAGS_IOPL_SHIFT);
}

/* Decode and execute one instruction; returns the vector it raised or NO_FAULT. */
static int run_bytes(const uint8_t *bytes, int len)
{
    Insn insn;
    ck_assert_int_eq(decode_insn(&insn, bytes, len, (cpu->hflags & HF_CS32) != 0), DECODE_OK);
    ck_assert_int_eq(insn.len, len);
    cpu->next_eip = cpu->eip + insn.len;
    cpu->exception_vector = -1;
    if (setjmp(cpu->jmp_env) != 0) {
        return cpu->exception_vector;
    }
    interp_exec_insn(cpu, &insn);
    cpu->eip = cpu->next_eip;
    return NO_FAULT;
}

#define RUN(...) run_bytes((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static bool zf(void)
{
    return (cpu_get_eflags(cpu) & EFLAGS_ZF) != 0;
}

/* ---- CPUID ---- */

static void cpuid(uint32_t leaf, uint32_t out[4])
{
    cpu->regs[R_EAX] = leaf;
    ck_assert_int_eq(RUN(0x0f, 0xa2), NO_FAULT);
    out[0] = cpu->regs[R_EAX];
    out[1] = cpu->regs[R_EBX];
    out[2] = cpu->regs[R_ECX];
    out[3] = cpu->regs[R_EDX];
}

START_TEST(test_cpuid_vendor_and_family)
{
    enter_pm(3); /* CPUID is not privileged */
    uint32_t r[4];
    cpuid(0, r);
    ck_assert_uint_ge(r[0], 2);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    ck_assert_str_eq(vendor, "GenuineIntel");

    cpuid(1, r);
    ck_assert_uint_eq((r[0] >> 8) & 0xf, 6); /* P6 family */
    ck_assert_uint_eq(r[2], (1u << 0) | (1u << 9) | (1u << 31)); /* SSE3, SSSE3, hypervisor */
    ck_assert_uint_eq((r[1] >> 8) & 0xff, 8);                    /* CLFLUSH line: 8 x 8 = 64 bytes */
    ck_assert_uint_eq(r[3], cpu_cpuid_features(cpu));
    uint32_t needed = CPUID_FPU | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP |
                      CPUID_PGE | CPUID_CMOV | CPUID_FXSR | CPUID_MMX | CPUID_SSE | CPUID_SSE2 |
                      CPUID_CLFSH;
    ck_assert_uint_eq(r[3] & needed, needed);
    ck_assert(r[3] & CPUID_PAE);
    uint32_t absent = CPUID_VME | CPUID_DE | CPUID_MCE | CPUID_APIC | CPUID_PSE36;
    ck_assert_uint_eq(r[3] & absent, 0);
    /* The RESET signature in EDX matches CPUID.1:EAX (SDM Vol.3 9.1.4). */
    CPUState fresh;
    cpu_init(&fresh, &pm, NULL);
    ck_assert_uint_eq(fresh.regs[R_EDX], r[0]);
}
END_TEST

START_TEST(test_cpuid_brand_and_range)
{
    uint32_t r[4], leaf2[4];
    cpuid(0x80000000u, r);
    ck_assert_uint_ge(r[0], 0x80000004u);
    char brand[49];
    for (uint32_t leaf = 0; leaf < 3; leaf++) {
        cpuid(0x80000002u + leaf, r);
        memcpy(brand + 16 * leaf, r, 16);
    }
    brand[48] = 0;
    ck_assert_str_eq(brand, "popek virtual CPU");

    /* Leaf 2: AL = 1 (one call), descriptors valid (bit 31 clear). */
    cpuid(2, leaf2);
    ck_assert_uint_eq(leaf2[0] & 0xff, 1);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(leaf2[i] & 0x80000000u, 0);
    }
    /* Above the maximum basic or extended leaf: the highest basic leaf's data. */
    cpuid(0, r);
    uint32_t max_basic = r[0];
    cpuid(max_basic, leaf2);
    cpuid(max_basic + 1, r);
    ck_assert_mem_eq(r, leaf2, sizeof(r));
    cpuid(0x80000000u, r);
    uint32_t max_ext = r[0];
    cpuid(max_ext + 1, r);
    ck_assert_mem_eq(r, leaf2, sizeof(r));
    /* Extended features: NX only; no long mode, no SYSCALL. */
    cpuid(0x80000001u, r);
    ck_assert_uint_eq(r[2], 0);
    ck_assert_uint_eq(r[3], CPUID_EXT_NX);
}
END_TEST

/* CPUID.1:ECX[31] says "hypervisor"; leaf 40000000h names it, as QEMU's TCG. */
START_TEST(test_cpuid_hypervisor_leaf)
{
    uint32_t r[4];
    cpuid(1, r);
    ck_assert_uint_eq(r[2] >> 31, 1);
    cpuid(0x40000000u, r);
    ck_assert_uint_eq(r[0], 0x40000000u); /* the highest hypervisor leaf */
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[2], 4);
    memcpy(vendor + 8, &r[3], 4);
    vendor[12] = 0;
    ck_assert_str_eq(vendor, "popekpopekpo");
    /* Beyond it, the range reads 0 (not the highest basic leaf). */
    cpuid(0x40000001u, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    cpuid(0x4fffffffu, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
}
END_TEST

/* Each CR4 bit is writable exactly when CPUID reports the feature behind it. */
START_TEST(test_cr4_follows_cpuid)
{
    enter_pm(0);
    uint32_t features = cpu_cpuid_features(cpu);
    static const struct {
        uint32_t cr4_bit;
        uint32_t feature; /* 0: exists on every P6 */
    } map[] = {
        {CR4_VME, CPUID_VME},     {CR4_PVI, CPUID_VME},        {CR4_TSD, CPUID_TSC},
        {CR4_DE, CPUID_DE},       {CR4_PSE, CPUID_PSE},        {CR4_PAE, CPUID_PAE},
        {CR4_MCE, CPUID_MCE},     {CR4_PGE, CPUID_PGE},        {CR4_PCE, 0},
        {CR4_OSFXSR, CPUID_FXSR}, {CR4_OSXMMEXCPT, CPUID_SSE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        bool reported = map[i].feature == 0 || (features & map[i].feature);
        cpu->cr4 = 0;
        cpu->regs[R_EAX] = map[i].cr4_bit;
        int vector = RUN(0x0f, 0x22, 0xe0); /* mov cr4, eax */
        if (reported) {
            ck_assert_int_eq(vector, NO_FAULT);
            ck_assert_uint_eq(cpu->cr4, map[i].cr4_bit);
        } else {
            ck_assert_int_eq(vector, EXC_GP);
            ck_assert_uint_eq(cpu->exception_error, 0);
            ck_assert_uint_eq(cpu->cr4, 0);
        }
    }
    /* PAE is the one Linux probes: with -cpu ...,-pae it is not reported,
     * so the write must fault. */
    ck_assert(features & CPUID_PAE);
    CPUIDConfig no_pae = cpu_model_config(cpu_model_default());
    no_pae.edx1 &= ~CPUID_PAE;
    cpu_set_cpuid(cpu, &no_pae);
    ck_assert_uint_eq(cpu_cpuid_features(cpu) & CPUID_PAE, 0);
    cpu->cr4 = 0;
    cpu->regs[R_EAX] = CR4_PAE;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xe0), EXC_GP);
    CPUIDConfig dflt = cpu_model_config(cpu_model_default());
    cpu_set_cpuid(cpu, &dflt);
    /* Bits above OSXMMEXCPT are reserved on a P6. */
    cpu->regs[R_EAX] = 1u << 13;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xe0), EXC_GP);
    /* Read back with mov eax, cr4. */
    cpu->cr4 = CR4_PSE | CR4_PGE;
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x20, 0xe0), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], CR4_PSE | CR4_PGE);
}
END_TEST

START_TEST(test_cr0_rules)
{
    enter_pm(0);
    uint32_t before = cpu->cr0;
    /* PG without PE, and NW without CD: #GP(0), CR0 unchanged (SDM Vol.2 MOV CR). */
    cpu->regs[R_EAX] = CR0_PG;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_uint_eq(cpu->cr0, before);
    cpu->regs[R_EAX] = CR0_PE | CR0_NW;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), EXC_GP);
    ck_assert_uint_eq(cpu->cr0, before);
    /* ET is hardwired to 1 on the P6; reserved bits are ignored. */
    cpu->regs[R_EAX] = CR0_PE | 0x0000ff00u;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0, CR0_PE | CR0_ET);
    cpu->regs[R_EAX] = CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_AM | CR0_CD | CR0_NW;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0,
                      CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_AM | CR0_CD | CR0_NW | CR0_ET);
    /* Clearing PE returns to real mode (CPL 0). */
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), NO_FAULT);
    ck_assert(cpu->hflags & HF_REAL);
    ck_assert_uint_eq(cpu->cr0, CR0_ET);
    /* At CPL 3 any MOV CR faults #GP(0). */
    enter_pm(3);
    ck_assert_int_eq(RUN(0x0f, 0x20, 0xc0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
}
END_TEST

static bool tlb_hits(uint32_t lin)
{
    TLBEntry *e = tlb_entry(cpu, (int)cpu->mmu_idx, lin);
    return e->tag[ACC_READ] == (lin & TLB_PAGE_MASK);
}

/* CR0.WP, CR4.PGE/PSE changes and CR3 writes drop cached translations
 * (SDM Vol.3 4.10.4.1). */
START_TEST(test_control_register_tlb_flush)
{
    enter_pm(0);
    const uint32_t lin = 0x00123000u;
    lin_read(cpu, lin, 4);
    ck_assert(tlb_hits(lin));
    cpu->regs[R_EAX] = cpu->cr0 | CR0_WP;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xc0), NO_FAULT);
    ck_assert(!tlb_hits(lin));

    lin_read(cpu, lin, 4);
    cpu->regs[R_EAX] = CR4_PGE;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xe0), NO_FAULT);
    ck_assert(!tlb_hits(lin));

    lin_read(cpu, lin, 4);
    cpu->regs[R_EAX] = 0x00200000u;
    ck_assert_int_eq(RUN(0x0f, 0x22, 0xd8), NO_FAULT); /* mov cr3, eax */
    ck_assert_uint_eq(cpu->cr3, 0x00200000u);
    ck_assert(!tlb_hits(lin));
}
END_TEST

START_TEST(test_smsw_lmsw_clts)
{
    enter_pm(0);
    cpu->cr0 = CR0_PE | CR0_ET | CR0_TS | CR0_PG | CR0_WP;
    /* LMSW loads MP/EM/TS but cannot clear PE (SDM Vol.2 LMSW). */
    cpu->regs[R_EAX] = CR0_MP;
    cpu->cr0 &= ~CR0_PG;
    ck_assert_int_eq(RUN(0x0f, 0x01, 0xf0), NO_FAULT); /* lmsw ax */
    ck_assert_uint_eq(cpu->cr0, CR0_PE | CR0_ET | CR0_MP | CR0_WP);
    /* CLTS clears TS; SMSW is allowed at CPL 3. */
    cpu->cr0 |= CR0_TS;
    ck_assert_int_eq(RUN(0x0f, 0x06), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0 & CR0_TS, 0);
    cpu->cr0 |= CR0_TS;
    enter_pm(3);
    ck_assert_int_eq(RUN(0x0f, 0x06), EXC_GP);
    ck_assert(cpu->cr0 & CR0_TS);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0xf0), EXC_GP);
    /* SMSW to a 32-bit register: all of CR0 on the P6. */
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x01, 0xe0), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], cpu->cr0);
    /* SMSW to memory: 16 bits only. */
    put32(DATA, 0xaaaaaaaau);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x25, 0x00, 0x60, 0x00, 0x00), NO_FAULT);
    ck_assert_uint_eq(get32(DATA), 0xaaaa0000u | (cpu->cr0 & 0xffffu));

    /* In real mode LMSW may set PE (the 286 way into protected mode). */
    real_mode_fresh();
    cpu->regs[R_EAX] = CR0_PE;
    ck_assert_int_eq(RUN(0x0f, 0x01, 0xf0), NO_FAULT);
    ck_assert(cpu->cr0 & CR0_PE);
    ck_assert(cpu->hflags & HF_PE);
}
END_TEST

/* ---- MSRs and time ---- */

static int wrmsr(uint32_t index, uint64_t value)
{
    cpu->regs[R_ECX] = index;
    cpu->regs[R_EAX] = (uint32_t)value;
    cpu->regs[R_EDX] = (uint32_t)(value >> 32);
    return RUN(0x0f, 0x30);
}

static uint64_t rdmsr_ok(uint32_t index)
{
    cpu->regs[R_ECX] = index;
    ck_assert_int_eq(RUN(0x0f, 0x32), NO_FAULT);
    return (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
}

START_TEST(test_msr_round_trips)
{
    enter_pm(0);
    ck_assert_int_eq(wrmsr(MSR_IA32_SYSENTER_CS, 0x10), NO_FAULT);
    ck_assert_int_eq(wrmsr(MSR_IA32_SYSENTER_ESP, 0xc0001000u), NO_FAULT);
    ck_assert_int_eq(wrmsr(MSR_IA32_SYSENTER_EIP, 0xc0100000u), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_SYSENTER_CS), 0x10);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_SYSENTER_ESP), 0xc0001000u);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_SYSENTER_EIP), 0xc0100000u);

    /* PAT: power-on value, round trip, and reserved types 2/3 are #GP. */
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_CR_PAT), 0x0007040600070406ull);
    ck_assert_int_eq(wrmsr(MSR_IA32_CR_PAT, 0x0007010600070106ull), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_CR_PAT), 0x0007010600070106ull);
    ck_assert_int_eq(wrmsr(MSR_IA32_CR_PAT, 0x0000000000000002ull), EXC_GP);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_CR_PAT), 0x0007010600070106ull);

    /* MTRRcap: eight variable ranges, fixed ranges present, and read-only. */
    uint64_t cap = rdmsr_ok(MSR_IA32_MTRRCAP);
    ck_assert_uint_eq(cap & 0xff, 8);
    ck_assert(cap & 0x100);
    ck_assert_int_eq(wrmsr(MSR_IA32_MTRRCAP, cap), EXC_GP);
    /* So all eleven fixed-range MTRRs exist and hold valid types. */
    static const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                     0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
    static const uint8_t types[5] = {0, 1, 4, 5, 6}; /* UC WC WT WP WB */
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        uint64_t v = 0x0606060606060000ull | types[i % 5] | (uint64_t)types[i / 5] << 8;
        ck_assert_int_eq(wrmsr(fixed[i], v), NO_FAULT);
        ck_assert_uint_eq(rdmsr_ok(fixed[i]), v);
    }
    ck_assert_int_eq(wrmsr(0x250, 0x07), EXC_GP); /* UC- is not an MTRR type */
    /* MTRRdefType: off after RESET; E, FE and a type round trip; reserved bits #GP. */
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_MTRR_DEF_TYPE), 0);
    ck_assert_int_eq(wrmsr(MSR_IA32_MTRR_DEF_TYPE, 0xc06), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_MTRR_DEF_TYPE), 0xc06);
    ck_assert_int_eq(wrmsr(MSR_IA32_MTRR_DEF_TYPE, 0x1000), EXC_GP);
    /* The variable ranges: PHYSBASE type in 7:0, PHYSMASK valid bit 11,
     * 36-bit addresses; the bits between and above are reserved. */
    for (uint32_t n = 0; n < 8; n++) {
        ck_assert_int_eq(wrmsr(0x200 + 2 * n, 0x8f0000006ull), NO_FAULT);
        ck_assert_uint_eq(rdmsr_ok(0x200 + 2 * n), 0x8f0000006ull);
        ck_assert_int_eq(wrmsr(0x201 + 2 * n, 0xff0000800ull), NO_FAULT);
        ck_assert_uint_eq(rdmsr_ok(0x201 + 2 * n), 0xff0000800ull);
    }
    ck_assert_int_eq(wrmsr(0x200, 0x100ull | 6), EXC_GP);     /* base bit 8 */
    ck_assert_int_eq(wrmsr(0x200, 2), EXC_GP);                 /* type 2 */
    ck_assert_int_eq(wrmsr(0x200, 1ull << 36), EXC_GP);        /* above MAXPHYADDR */
    ck_assert_int_eq(wrmsr(0x201, 0x400), EXC_GP);             /* mask bit 10 */
    ck_assert_int_eq(wrmsr(0x201, 1ull << 40), EXC_GP);
    ck_assert_int_eq(wrmsr(0x210, 0), EXC_GP);                 /* a ninth pair */

    /* MISC_ENABLE: BTS and PEBS unavailable always read as 1. */
    ck_assert_int_eq(wrmsr(MSR_IA32_MISC_ENABLE, 1), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_MISC_ENABLE), 1u | (1u << 11) | (1u << 12));

    /* APIC_BASE keeps what was written; reserved bits fault. */
    ck_assert_int_eq(wrmsr(MSR_IA32_APIC_BASE, 0xfee00900u), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_APIC_BASE), 0xfee00900u);
    ck_assert_int_eq(wrmsr(MSR_IA32_APIC_BASE, 0xfee00901u), EXC_GP);
}
END_TEST

START_TEST(test_msr_unknown_and_privilege)
{
    enter_pm(0);
    /* EFER exists only with long mode, NX or SYSCALL: not on a Pentium III. */
    CPUIDConfig p3 = cpu_model_config(cpu_model_find("pentium3"));
    cpu_set_cpuid(cpu, &p3);
    cpu->regs[R_EAX] = 0x1111;
    cpu->regs[R_EDX] = 0x2222;
    cpu->regs[R_ECX] = 0xc0000080u;
    ck_assert_int_eq(RUN(0x0f, 0x32), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1111);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x2222);
    ck_assert_int_eq(wrmsr(0xc0000080u, 0), EXC_GP);
    CPUIDConfig dflt = cpu_model_config(cpu_model_default());
    cpu_set_cpuid(cpu, &dflt);
    ck_assert_int_eq(wrmsr(0x12345678u, 0), EXC_GP);
    /* No local APIC is reported, so there is no x2APIC MSR either. */
    cpu->regs[R_ECX] = 0x802;
    ck_assert_int_eq(RUN(0x0f, 0x32), EXC_GP);
    /* RDMSR/WRMSR are CPL 0 only; real mode counts as CPL 0. */
    enter_pm(3);
    cpu->regs[R_ECX] = MSR_IA32_SYSENTER_CS;
    ck_assert_int_eq(RUN(0x0f, 0x32), EXC_GP);
    ck_assert_int_eq(wrmsr(MSR_IA32_SYSENTER_CS, 8), EXC_GP);
    real_mode_fresh();
    ck_assert_int_eq(wrmsr(MSR_IA32_SYSENTER_CS, 8), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_SYSENTER_CS), 8);
}
END_TEST

static uint64_t rdtsc_ok(void)
{
    ck_assert_int_eq(RUN(0x0f, 0x31), NO_FAULT);
    return (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
}

START_TEST(test_tsc)
{
    enter_pm(0);
    /* WRMSR to the TSC on a P6: only the low 32 bits are written, the high
     * 32 cleared (SDM Vol.4, IA32_TIME_STAMP_COUNTER). */
    ck_assert_int_eq(wrmsr(MSR_IA32_TSC, 0x0000000500001000ull), NO_FAULT);
    uint64_t t0 = rdtsc_ok();
    ck_assert_uint_eq(t0, 0x1000);
    /* One tick per retired instruction. */
    cpu->icount += 50;
    ck_assert_uint_eq(rdtsc_ok(), t0 + 50);
    ck_assert_uint_eq(rdmsr_ok(MSR_IA32_TSC), t0 + 50);
    /* RESET sets it back to 0. */
    cpu->icount += 1000;
    cpu_msr_reset(cpu);
    ck_assert_uint_eq(rdtsc_ok(), 0);
    /* CR4.TSD: RDTSC faults above CPL 0, works at CPL 0. */
    cpu->cr4 = CR4_TSD;
    rdtsc_ok();
    enter_pm(3);
    ck_assert_int_eq(RUN(0x0f, 0x31), EXC_GP);
    cpu->cr4 = 0;
    rdtsc_ok();
}
END_TEST

/*
 * The P6's performance-counter MSRs exist: what Linux's PMU probe does
 * (read EVNTSEL0/1, flip PERFCTR0's low 16 bits, read them back) works,
 * where it used to fault with "Failed to access perfctr msr".
 */
START_TEST(test_perfctr_msrs)
{
    enter_pm(0);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_EVNTSEL0), 0);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_EVNTSEL0 + 1), 0);
    uint64_t v = rdmsr_ok(MSR_P6_PERFCTR0) ^ 0xffff;
    ck_assert_int_eq(wrmsr(MSR_P6_PERFCTR0, v), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_PERFCTR0), v);
    /* Only bits 31:0 are written; 39:32 copy bit 31; nothing above 39. */
    ck_assert_int_eq(wrmsr(MSR_P6_PERFCTR0 + 1, 0x1234580000000ull | 0x80000001u), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_PERFCTR0 + 1), 0xff80000001ull);
    ck_assert_int_eq(wrmsr(MSR_P6_PERFCTR0 + 1, 0xffffffff7fffffffull), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_PERFCTR0 + 1), 0x7fffffffull);
    /* Event selects keep bits 31:0; the upper half is reserved. */
    ck_assert_int_eq(wrmsr(MSR_P6_EVNTSEL0, 0x0043003c), NO_FAULT);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_EVNTSEL0), 0x0043003c);
    ck_assert_int_eq(wrmsr(MSR_P6_EVNTSEL0 + 1, 1ull << 32), EXC_GP);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_EVNTSEL0 + 1), 0);
    /* RDPMC reads the same counters. */
    cpu->regs[R_ECX] = 1;
    ck_assert_int_eq(RUN(0x0f, 0x33), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x7fffffffu);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
    /* There is no third counter; RESET clears them. */
    cpu->regs[R_ECX] = MSR_P6_PERFCTR0 + 2;
    ck_assert_int_eq(RUN(0x0f, 0x32), EXC_GP);
    cpu_msr_reset(cpu);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_PERFCTR0 + 1), 0);
    ck_assert_uint_eq(rdmsr_ok(MSR_P6_EVNTSEL0), 0);
}
END_TEST

START_TEST(test_rdpmc)
{
    enter_pm(3);
    cpu->regs[R_ECX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x33), EXC_GP); /* CPL 3 without CR4.PCE */
    cpu->cr4 = CR4_PCE;
    cpu->regs[R_EAX] = cpu->regs[R_EDX] = 0xffffffffu;
    ck_assert_int_eq(RUN(0x0f, 0x33), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(cpu->regs[R_EDX], 0);
    cpu->regs[R_ECX] = 2; /* the P6 has counters 0 and 1 only */
    ck_assert_int_eq(RUN(0x0f, 0x33), EXC_GP);
}
END_TEST

/* ---- PUSHF / POPF ---- */

/* Every EFLAGS bit that exists on a P6, for the "pop all ones" tests. */
#define ALL_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

static int popf_value(uint32_t value, bool size16)
{
    cpu->regs[R_ESP] = STACK_TOP - 4;
    put32(STACK_TOP - 4, value);
    return size16 ? RUN(0x66, 0x9d) : RUN(0x9d);
}

START_TEST(test_popf_cpl0)
{
    enter_pm(0);
    ck_assert_int_eq(popf_value(0xffffffffu, false), NO_FAULT);
    /* All but VM, RF, VIF, VIP and the reserved bits; bit 1 reads as 1. */
    uint32_t expect = ALL_ARITH | EFLAGS_TF | EFLAGS_IF | EFLAGS_DF | EFLAGS_IOPL | EFLAGS_NT |
                      EFLAGS_AC | EFLAGS_ID | EFLAGS_FIXED;
    ck_assert_uint_eq(cpu_get_eflags(cpu), expect);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    /* 16-bit POPF leaves the upper half (AC, ID) alone. */
    ck_assert_int_eq(popf_value(0, true), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), EFLAGS_AC | EFLAGS_ID | EFLAGS_FIXED);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 2);
    /* PUSHFD clears VM and RF in the image. */
    cpu->eflags |= EFLAGS_RF;
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x9c), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 4);
    ck_assert_uint_eq(get32(STACK_TOP - 4), EFLAGS_AC | EFLAGS_ID | EFLAGS_FIXED);
}
END_TEST

START_TEST(test_popf_cpl3)
{
    enter_pm(3);
    /* IOPL 0 < CPL 3: IF and IOPL are kept. */
    cpu->eflags = EFLAGS_FIXED;
    ck_assert_int_eq(popf_value(0xffffffffu, false), NO_FAULT);
    uint32_t expect =
        ALL_ARITH | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_AC | EFLAGS_ID | EFLAGS_FIXED;
    ck_assert_uint_eq(cpu_get_eflags(cpu), expect);
    cpu->eflags = EFLAGS_FIXED | EFLAGS_IF;
    ck_assert_int_eq(popf_value(0, false), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), EFLAGS_FIXED | EFLAGS_IF);
    /* IOPL 3 = CPL: IF may change, IOPL still not. */
    cpu->eflags = EFLAGS_FIXED | EFLAGS_IF | EFLAGS_IOPL;
    ck_assert_int_eq(popf_value(0, false), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), EFLAGS_FIXED | EFLAGS_IOPL);
    /* PUSHF at CPL 3 is never IOPL-sensitive outside vm86. */
    set_iopl(0);
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x9c), NO_FAULT);
}
END_TEST

START_TEST(test_pushf_popf_vm86)
{
    /* IOPL < 3 without VME: both trap to the monitor, ESP untouched. */
    enter_vm86(0);
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x9c), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    put16(STACK_TOP, 0);
    ck_assert_int_eq(RUN(0x9d), EXC_GP);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);

    /* VME: the 16-bit forms see VIF in place of IF and IOPL as 3. */
    cpu->cr4 = CR4_VME;
    cpu->eflags |= EFLAGS_VIF;
    ck_assert_int_eq(RUN(0x9c), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 2);
    ck_assert_uint_eq(get16(STACK_TOP - 2), EFLAGS_FIXED | EFLAGS_IF | EFLAGS_IOPL);
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x66, 0x9c), EXC_GP); /* PUSHFD still traps */
    ck_assert_int_eq(RUN(0x66, 0x9d), EXC_GP); /* POPFD too */
    /* POPF: the popped IF lands in VIF; IF and IOPL stay. */
    cpu->eflags = EFLAGS_FIXED | EFLAGS_VM;
    put16(STACK_TOP, EFLAGS_IF | EFLAGS_IOPL | EFLAGS_CF);
    ck_assert_int_eq(RUN(0x9d), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), EFLAGS_FIXED | EFLAGS_VM | EFLAGS_VIF | EFLAGS_CF);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP + 2);
    /* Setting TF, or IF while VIP is pending, traps. */
    cpu->regs[R_ESP] = STACK_TOP;
    put16(STACK_TOP, EFLAGS_TF);
    ck_assert_int_eq(RUN(0x9d), EXC_GP);
    cpu->eflags |= EFLAGS_VIP;
    put16(STACK_TOP, EFLAGS_IF);
    ck_assert_int_eq(RUN(0x9d), EXC_GP);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);

    /* IOPL 3: the ordinary forms; PUSHFD clears VM in the image; IOPL stays. */
    enter_vm86(3);
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x66, 0x9c), NO_FAULT);
    ck_assert_uint_eq(get32(STACK_TOP - 4), EFLAGS_FIXED | EFLAGS_IOPL);
    cpu->eflags |= EFLAGS_IF;
    cpu->regs[R_ESP] = STACK_TOP;
    put16(STACK_TOP, 0);
    ck_assert_int_eq(RUN(0x9d), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), EFLAGS_FIXED | EFLAGS_VM | EFLAGS_IOPL);
}
END_TEST

/* ---- CLI / STI ---- */

START_TEST(test_cli_sti_iopl)
{
    /* Real mode: always allowed. */
    cpu->eflags = EFLAGS_FIXED;
    ck_assert_int_eq(RUN(0xfb), NO_FAULT);
    ck_assert(cpu->eflags & EFLAGS_IF);
    ck_assert_int_eq(RUN(0xfa), NO_FAULT);
    ck_assert(!(cpu->eflags & EFLAGS_IF));

    enter_pm(3);
    cpu->eflags = EFLAGS_FIXED | EFLAGS_IF;
    ck_assert_int_eq(RUN(0xfa), EXC_GP); /* CPL 3 > IOPL 0 */
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert(cpu->eflags & EFLAGS_IF);
    set_iopl(3);
    ck_assert_int_eq(RUN(0xfa), NO_FAULT);
    ck_assert(!(cpu->eflags & EFLAGS_IF));

    /* PVI at CPL 3: CLI/STI act on VIF and leave IF alone (SDM Vol.3 20.4). */
    cpu->eflags = EFLAGS_FIXED | EFLAGS_IF | EFLAGS_VIF;
    cpu->cr4 = CR4_PVI;
    ck_assert_int_eq(RUN(0xfa), NO_FAULT);
    ck_assert_uint_eq(cpu->eflags, EFLAGS_FIXED | EFLAGS_IF);
    ck_assert_int_eq(RUN(0xfb), NO_FAULT);
    ck_assert_uint_eq(cpu->eflags, EFLAGS_FIXED | EFLAGS_IF | EFLAGS_VIF);
    cpu->eflags = EFLAGS_FIXED | EFLAGS_VIP;
    ck_assert_int_eq(RUN(0xfb), EXC_GP); /* an interrupt is pending */

    /* vm86: IOPL 3 works on IF; IOPL < 3 needs VME and then works on VIF. */
    enter_vm86(3);
    ck_assert_int_eq(RUN(0xfb), NO_FAULT);
    ck_assert(cpu->eflags & EFLAGS_IF);
    enter_vm86(0);
    ck_assert_int_eq(RUN(0xfb), EXC_GP);
    cpu->cr4 = CR4_VME;
    ck_assert_int_eq(RUN(0xfb), NO_FAULT);
    ck_assert_uint_eq(cpu->eflags & (EFLAGS_IF | EFLAGS_VIF), EFLAGS_VIF);
    ck_assert_int_eq(RUN(0xfa), NO_FAULT);
    ck_assert_uint_eq(cpu->eflags & (EFLAGS_IF | EFLAGS_VIF), 0);
}
END_TEST

static uint16_t ivt_hits;

static int ack_vector_0x20(void *opaque)
{
    ivt_hits++;
    return 0x20;
}

/* STI delays interrupts until after the next instruction (SDM Vol.2 STI),
 * checked through the real run loop: the IRQ pending since before STI is
 * taken after the NOP that follows it, not before. */
START_TEST(test_sti_shadow_in_run_loop)
{
    seg_load_real(cpu, SEG_CS, 0);
    cpu_update_mode(cpu);
    cpu->eip = 0x7c00;
    put8(0x7c00, 0xfb);      /* sti */
    put8(0x7c01, 0x90);      /* nop */
    put8(0x7c02, 0x90);      /* nop */
    put16(0x20 * 4, 0x8000); /* IVT[20h] = 0000:8000 */
    put16(0x20 * 4 + 2, 0);
    put8(0x8000, 0xf4);
    ivt_hits = 0;
    cpu->hooks.irq_ack = ack_vector_0x20;
    cpu->eflags = EFLAGS_FIXED;
    cpu_set_interrupt(cpu, CPU_INTERRUPT_HARD);
    cpu_step(cpu); /* STI */
    ck_assert_uint_eq(cpu->eip, 0x7c01);
    ck_assert_uint_eq(ivt_hits, 0);
    cpu_step(cpu); /* NOP, then the interrupt at the boundary after it */
    ck_assert_uint_eq(ivt_hits, 1);
    ck_assert_uint_eq(cpu->eip, 0x8000);
    ck_assert_uint_eq(get16(cpu->regs[R_ESP]), 0x7c02); /* return IP: after the NOP */
    /* STI with IF already set opens no new shadow. */
    cpu->inhibit_irq = false;
    cpu->eflags |= EFLAGS_IF;
    ck_assert_int_eq(RUN(0xfb), NO_FAULT);
    ck_assert(!cpu->inhibit_irq);
}
END_TEST

/* ---- descriptor probes ---- */

static void set_cx(uint16_t selector)
{
    cpu->regs[R_ECX] = 0xffff0000u | selector;
}

static int lar(uint16_t selector)
{
    set_cx(selector);
    cpu->regs[R_EAX] = 0xdeadbeefu;
    return RUN(0x0f, 0x02, 0xc1); /* lar eax, cx */
}

static int lsl(uint16_t selector)
{
    set_cx(selector);
    cpu->regs[R_EAX] = 0xdeadbeefu;
    return RUN(0x0f, 0x03, 0xc1); /* lsl eax, cx */
}

START_TEST(test_lar)
{
    enter_pm(3);
    /* Access rights: the high dword masked with 00F0FF00h (SDM Vol.2 LAR). */
    ck_assert_int_eq(lar(SEL_DATA3), NO_FAULT);
    ck_assert(zf());
    uint32_t data3_hi = (uint32_t)(gdt_entry(SEL_DATA3) >> 32);
    ck_assert_uint_eq(cpu->regs[R_EAX], data3_hi & 0x00f0ff00u);
    set_cx(SEL_DATA3);
    cpu->regs[R_EAX] = 0xdeadbeefu;
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x02, 0xc1), NO_FAULT); /* lar ax, cx */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdead0000u | (data3_hi & 0xff00u));
    /* Too privileged: ZF=0, destination untouched. */
    ck_assert_int_eq(lar(SEL_DATA0), NO_FAULT);
    ck_assert(!zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdeadbeefu);
    /* Conforming code is visible from any level. */
    ck_assert_int_eq(lar(SEL_CONFORMING0 | 3), NO_FAULT);
    ck_assert(zf());
    /* Gates: call gates yes, interrupt gates never. */
    ck_assert_int_eq(lar(SEL_CALLGATE3 | 3), NO_FAULT);
    ck_assert(zf());
    ck_assert_int_eq(lar(SEL_INTGATE3 | 3), NO_FAULT);
    ck_assert(!zf());
    /* Null and past the GDT limit: ZF=0, no fault. */
    ck_assert_int_eq(lar(0), NO_FAULT);
    ck_assert(!zf());
    ck_assert_int_eq(lar(0x0800 | 3), NO_FAULT);
    ck_assert(!zf());
    /* LDT selector while LDTR holds nothing usable: ZF=0. */
    ck_assert_int_eq(lar(0x000f), NO_FAULT);
    ck_assert(!zf());
    /* RPL counts too: DPL 2 against RPL 3 at CPL 0. */
    enter_pm(0);
    ck_assert_int_eq(lar(SEL_DATA2 | 3), NO_FAULT);
    ck_assert(!zf());
    ck_assert_int_eq(lar(SEL_DATA2 | 2), NO_FAULT);
    ck_assert(zf());
    ck_assert_int_eq(lar(SEL_TSS32), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x00008900u);
    /* A bad memory operand does fault. */
    seg_load_null(cpu, SEG_DS, 0);
    ck_assert_int_eq(RUN(0x0f, 0x02, 0x05, 0x00, 0x60, 0x00, 0x00), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
}
END_TEST

START_TEST(test_lsl)
{
    enter_pm(3);
    ck_assert_int_eq(lsl(SEL_SMALL3 | 3), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x1234);
    /* G=1: the byte-granular limit. */
    ck_assert_int_eq(lsl(SEL_DATA3), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffffffffu);
    set_cx(SEL_DATA3);
    cpu->regs[R_EAX] = 0xdeadbeefu;
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x03, 0xc1), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdeadffffu);
    /* Gates have no limit. */
    ck_assert_int_eq(lsl(SEL_CALLGATE3 | 3), NO_FAULT);
    ck_assert(!zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xdeadbeefu);
    ck_assert_int_eq(lsl(SEL_TSS32), NO_FAULT); /* DPL 0 TSS from CPL 3 */
    ck_assert(!zf());
    enter_pm(0);
    ck_assert_int_eq(lsl(SEL_TSS32), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x67);
    ck_assert_int_eq(lsl(SEL_LDT), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x17);
}
END_TEST

static bool verr(uint16_t selector)
{
    set_cx(selector);
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xe1), NO_FAULT); /* verr cx */
    return zf();
}

static bool verw(uint16_t selector)
{
    set_cx(selector);
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xe9), NO_FAULT); /* verw cx */
    return zf();
}

START_TEST(test_verr_verw)
{
    enter_pm(3);
    cpu->eflags |= EFLAGS_CF; /* other flags are kept */
    ck_assert(verr(SEL_DATA3));
    ck_assert(verw(SEL_DATA3));
    ck_assert(verr(SEL_CODE3));
    ck_assert(!verw(SEL_CODE3));         /* code is never writable */
    ck_assert(!verr(SEL_EXECONLY3 | 3)); /* execute-only */
    ck_assert(verr(SEL_RODATA3 | 3));
    ck_assert(!verw(SEL_RODATA3 | 3));
    ck_assert(verr(SEL_CONFORMING0 | 3)); /* conforming: no privilege test */
    ck_assert(!verr(SEL_DATA0));
    ck_assert(!verw(SEL_DATA0));
    ck_assert(!verr(SEL_TSS32 | 3)); /* system descriptors never */
    ck_assert(!verr(0));
    ck_assert(!verw(0x0800 | 3));
    ck_assert(cpu_get_eflags(cpu) & EFLAGS_CF);
    /* From memory. */
    put16(DATA, SEL_DATA3);
    ck_assert_int_eq(RUN(0x0f, 0x00, 0x2d, 0x00, 0x60, 0x00, 0x00), NO_FAULT); /* verw [DATA] */
    ck_assert(zf());
}
END_TEST

START_TEST(test_probes_not_in_real_or_vm86)
{
    ck_assert_int_eq(lar(SEL_DATA3), EXC_UD);
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xe1), EXC_UD); /* verr */
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xc0), EXC_UD); /* sldt ax */
    ck_assert_int_eq(RUN(0x63, 0xc8), EXC_UD);       /* arpl ax, cx */
    enter_vm86(3);
    ck_assert_int_eq(RUN(0x0f, 0x03, 0xc1), EXC_UD); /* lsl */
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xc8), EXC_UD); /* str ax */
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), EXC_UD); /* lldt ax */
}
END_TEST

START_TEST(test_arpl)
{
    enter_pm(3);
    cpu->regs[R_EAX] = 0x12340021u;              /* RPL 1 */
    cpu->regs[R_ECX] = 0x0000002bu;              /* RPL 3 */
    ck_assert_int_eq(RUN(0x63, 0xc8), NO_FAULT); /* arpl ax, cx */
    ck_assert(zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x12340023u);
    cpu->regs[R_ECX] = 0x0000002au; /* RPL 2 < 3: nothing to do */
    ck_assert_int_eq(RUN(0x63, 0xc8), NO_FAULT);
    ck_assert(!zf());
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x12340023u);
}
END_TEST

/* ---- LDTR, TR, GDTR, IDTR ---- */

START_TEST(test_lldt_ltr)
{
    enter_pm(0);
    cpu->regs[R_EAX] = SEL_LDT;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), NO_FAULT); /* lldt ax */
    ck_assert_uint_eq(cpu->ldtr.selector, SEL_LDT);
    ck_assert_uint_eq(cpu->ldtr.base, LDT_BASE);
    ck_assert_uint_eq(cpu->ldtr.limit, 0x17);
    /* The LDT's DPL 3 data segment is now visible through TI=1. */
    enter_pm(3);
    ck_assert_int_eq(lar(0x000f), NO_FAULT);
    ck_assert(zf());
    cpu->regs[R_EAX] = SEL_LDT;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), EXC_GP); /* CPL 3 */
    ck_assert_uint_eq(cpu->exception_error, 0);
    enter_pm(0);
    /* Not an LDT, or in the LDT itself: #GP(selector). */
    cpu->regs[R_EAX] = SEL_TSS32;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS32);
    cpu->regs[R_EAX] = 0x000c;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x000c);
    ck_assert_uint_eq(cpu->ldtr.selector, SEL_LDT);
    /* A null selector leaves LDTR unusable. */
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd0), NO_FAULT);
    ck_assert_int_eq(lar(0x000f), NO_FAULT);
    ck_assert(!zf());
    cpu->regs[R_EAX] = 0xffffffffu;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xc0), NO_FAULT); /* sldt eax: zero-extended */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);

    /* LTR marks the TSS busy in the GDT and loads TR. */
    cpu->regs[R_EAX] = SEL_TSS32;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), NO_FAULT); /* ltr ax */
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS32);
    ck_assert_uint_eq(cpu->tr.base, TSS_BASE);
    ck_assert_uint_eq(cpu->tr.limit, 0x67);
    ck_assert_uint_eq(pm.ram[GDT_BASE + SEL_TSS32 + 5], 0x8b);
    ck_assert_uint_eq((cpu->tr.attr & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT, SYS_TSS32_BUSY);
    /* Busy now, so a second LTR faults; so do a busy TSS, data and null. */
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS32);
    cpu->regs[R_EAX] = SEL_BUSYTSS;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_BUSYTSS);
    cpu->regs[R_EAX] = SEL_DATA0;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_DATA0);
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert_uint_eq(cpu->tr.selector, SEL_TSS32);
    /* A 16-bit TSS is accepted too; STR reads the selector back. */
    cpu->regs[R_EAX] = SEL_TSS16;
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xd8), NO_FAULT);
    ck_assert_uint_eq(pm.ram[GDT_BASE + SEL_TSS16 + 5], 0x83);
    ck_assert_int_eq(RUN(0x0f, 0x00, 0xc8), NO_FAULT); /* str eax */
    ck_assert_uint_eq(cpu->regs[R_EAX], SEL_TSS16);
}
END_TEST

START_TEST(test_lgdt_sgdt)
{
    enter_pm(0);
    TableRegister saved = cpu->gdtr;
    put16(DATA, 0x1234);
    put32(DATA + 2, 0x78563412u);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x15, 0x00, 0x60, 0x00, 0x00), NO_FAULT); /* lgdt [DATA] */
    ck_assert_uint_eq(cpu->gdtr.limit, 0x1234);
    ck_assert_uint_eq(cpu->gdtr.base, 0x78563412u);
    /* The 16-bit form loads a 24-bit base (SDM Vol.2 LGDT). */
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x01, 0x1d, 0x00, 0x60, 0x00, 0x00), NO_FAULT); /* lidt */
    ck_assert_uint_eq(cpu->idtr.limit, 0x1234);
    ck_assert_uint_eq(cpu->idtr.base, 0x00563412u);
    /* SGDT stores limit and the full 32-bit base, whatever the operand size
     * (SDM Vol.2 SGDT, Operation). */
    memset(pm.ram + DATA + 0x10, 0xaa, 8);
    ck_assert_int_eq(RUN(0x66, 0x0f, 0x01, 0x05, 0x10, 0x60, 0x00, 0x00), NO_FAULT);
    ck_assert_uint_eq(get16(DATA + 0x10), 0x1234);
    ck_assert_uint_eq(get32(DATA + 0x12), 0x78563412u);
    ck_assert_uint_eq(pm.ram[DATA + 0x16], 0xaa);                              /* exactly 6 bytes */
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x0d, 0x20, 0x60, 0x00, 0x00), NO_FAULT); /* sidt */
    ck_assert_uint_eq(get16(DATA + 0x20), 0x1234);
    ck_assert_uint_eq(get32(DATA + 0x22), 0x00563412u);
    cpu->gdtr = saved;
    /* SGDT is allowed at CPL 3, LGDT/LIDT are not. */
    enter_pm(3);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x05, 0x10, 0x60, 0x00, 0x00), NO_FAULT);
    ck_assert_uint_eq(get32(DATA + 0x12), GDT_BASE);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x15, 0x00, 0x60, 0x00, 0x00), EXC_GP);
    ck_assert_uint_eq(cpu->gdtr.base, GDT_BASE);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x1d, 0x00, 0x60, 0x00, 0x00), EXC_GP);
    /* A store that runs past the segment limit leaves memory alone. */
    enter_pm(0);
    seg_cache_from_descriptor(&cpu->seg[SEG_DS], SEL_SMALL3, gdt_entry(SEL_SMALL3));
    memset(pm.ram + 0x20000 + 0x1230, 0xaa, 8);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x05, 0x30, 0x12, 0x00, 0x00), EXC_GP); /* sgdt [1230h] */
    ck_assert_uint_eq(get32(0x20000 + 0x1230), 0xaaaaaaaau);
}
END_TEST

/* ---- segment registers ---- */

START_TEST(test_mov_pop_sreg)
{
    enter_pm(0);
    cpu->inhibit_irq = false;
    cpu->regs[R_EAX] = SEL_DATA0;
    ck_assert_int_eq(RUN(0x8e, 0xd8), NO_FAULT); /* mov ds, ax */
    ck_assert(!cpu->inhibit_irq);
    ck_assert_int_eq(RUN(0x8e, 0xd0), NO_FAULT); /* mov ss, ax */
    ck_assert(cpu->inhibit_irq);
    /* A failing MOV SS changes nothing: #GP(selector) for a DPL 3 stack at CPL 0. */
    cpu->inhibit_irq = false;
    cpu->regs[R_EAX] = SEL_DATA3;
    ck_assert_int_eq(RUN(0x8e, 0xd0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_DATA3 & 0xfffc);
    ck_assert(!cpu->inhibit_irq);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    /* POP SS: ESP moves by the operand size, interrupts inhibited. */
    cpu->regs[R_ESP] = STACK_TOP - 4;
    put32(STACK_TOP - 4, SEL_DATA0);
    ck_assert_int_eq(RUN(0x17), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP);
    ck_assert(cpu->inhibit_irq);
    /* A failing POP leaves ESP. */
    cpu->regs[R_ESP] = STACK_TOP - 4;
    put32(STACK_TOP - 4, SEL_EXECONLY3);
    ck_assert_int_eq(RUN(0x1f), EXC_GP); /* pop ds */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 4);
    /* MOV r32, Sreg zero-extends on the P6; PUSH Sreg takes 4 bytes at 32 bits. */
    cpu->regs[R_EAX] = 0xffffffffu;
    ck_assert_int_eq(RUN(0x8c, 0xd8), NO_FAULT); /* mov eax, ds */
    ck_assert_uint_eq(cpu->regs[R_EAX], SEL_DATA0);
    cpu->regs[R_ESP] = STACK_TOP;
    ck_assert_int_eq(RUN(0x1e), NO_FAULT); /* push ds */
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 4);
    ck_assert_uint_eq(get16(STACK_TOP - 4), SEL_DATA0);
    ck_assert_int_eq(RUN(0x66, 0x1e), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK_TOP - 6);
}
END_TEST

START_TEST(test_load_far_pointer)
{
    enter_pm(0);
    put32(DATA, 0x11223344u);
    put16(DATA + 4, SEL_DATA3);
    ck_assert_int_eq(RUN(0xc4, 0x05, 0x00, 0x60, 0x00, 0x00), NO_FAULT); /* les eax, [DATA] */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x11223344u);
    ck_assert_uint_eq(cpu->seg[SEG_ES].selector, SEL_DATA3);
    put16(DATA + 4, SEL_DATA0);
    ck_assert_int_eq(RUN(0x0f, 0xb2, 0x25, 0x00, 0x60, 0x00, 0x00), NO_FAULT); /* lss esp */
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x11223344u);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    /* A bad selector faults before the register is written. */
    put16(DATA + 4, SEL_EXECONLY3);
    cpu->regs[R_EBX] = 0x5555;
    ck_assert_int_eq(RUN(0x0f, 0xb4, 0x1d, 0x00, 0x60, 0x00, 0x00), EXC_GP); /* lfs ebx */
    ck_assert_uint_eq(cpu->exception_error, SEL_EXECONLY3 & 0xfffc);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x5555);
    /* Real mode, 16-bit: LDS SI, [0x6000]; base = selector << 4. */
    real_mode_fresh();
    put16(DATA, 0x1234);
    put16(DATA + 2, 0x2000);
    ck_assert_int_eq(RUN(0xc5, 0x36, 0x00, 0x60), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_ESI] & 0xffff, 0x1234);
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, 0x2000);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0x20000);
}
END_TEST

/* ---- debug registers ---- */

START_TEST(test_mov_dr)
{
    enter_pm(0);
    /* DR6/DR7 reserved bits read as on the P6 (SDM Vol.3 17.2). */
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x23, 0xf0), NO_FAULT); /* mov dr6, eax */
    ck_assert_int_eq(RUN(0x0f, 0x23, 0xf8), NO_FAULT); /* mov dr7, eax */
    ck_assert_uint_eq(cpu->dr[6], 0xffff0ff0u);
    ck_assert_uint_eq(cpu->dr[7], 0x00000400u);
    /* DR4/DR5 alias DR6/DR7 when CR4.DE = 0, #UD when 1. */
    ck_assert_int_eq(RUN(0x0f, 0x21, 0xe0), NO_FAULT); /* mov eax, dr4 */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xffff0ff0u);
    cpu->regs[R_EAX] = 0x00000001u;
    ck_assert_int_eq(RUN(0x0f, 0x23, 0xe8), NO_FAULT); /* mov dr5, eax */
    ck_assert_uint_eq(cpu->dr[7], 0x00000401u);
    cpu->cr4 = CR4_DE;
    ck_assert_int_eq(RUN(0x0f, 0x21, 0xe0), EXC_UD);
    cpu->cr4 = 0;
    cpu->regs[R_EAX] = 0x00401000u;
    ck_assert_int_eq(RUN(0x0f, 0x23, 0xc0), NO_FAULT); /* mov dr0, eax */
    ck_assert_uint_eq(cpu->dr[0], 0x00401000u);
    /* DR7.GD: the next access is a #DB fault with DR6.BD, and GD cleared. */
    cpu->dr[7] = 0x00002400u;
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(RUN(0x0f, 0x21, 0xc0), EXC_DB);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);
    ck_assert(cpu->dr[6] & 0x2000u);
    ck_assert_uint_eq(cpu->dr[7] & 0x2000u, 0);
    ck_assert_int_eq(RUN(0x0f, 0x21, 0xc0), NO_FAULT);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x00401000u);
    enter_pm(3);
    ck_assert_int_eq(RUN(0x0f, 0x21, 0xc0), EXC_GP);
}
END_TEST

/* ---- SYSENTER / SYSEXIT ---- */

START_TEST(test_sysenter_sysexit)
{
    enter_pm(3);
    cpu->eflags = EFLAGS_FIXED | EFLAGS_IF;
    /* SYSENTER_CS = 0: #GP(0). */
    ck_assert_int_eq(RUN(0x0f, 0x34), EXC_GP);
    ck_assert_uint_eq(cpu->cpl, 3);
    cpu->sysenter_cs = SEL_CODE0;
    cpu->sysenter_esp = 0x00009000u;
    cpu->sysenter_eip = 0x00012345u;
    ck_assert_int_eq(RUN(0x0f, 0x34), NO_FAULT);
    /* Flat CS = SYSENTER_CS and SS = SYSENTER_CS + 8 at DPL 0 (SDM Vol.2 SYSENTER). */
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->eip, 0x00012345u);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x00009000u);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].limit, 0xffffffffu);
    ck_assert_uint_eq(cpu->seg[SEG_SS].limit, 0xffffffffu);
    ck_assert_uint_eq(cpu->seg[SEG_CS].attr & DESC_DPL_MASK, 0);
    ck_assert(cpu->seg[SEG_CS].attr & DESC_CODE);
    ck_assert(!(cpu->seg[SEG_SS].attr & DESC_CODE));
    ck_assert(cpu->hflags & HF_CS32);
    ck_assert(cpu->hflags & HF_SS32);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_IF, 0);
    /* SYSEXIT: CS = SYSENTER_CS + 16, SS = + 24, RPL 3, ESP = ECX, EIP = EDX. */
    cpu->regs[R_ECX] = 0xbfff0000u;
    cpu->regs[R_EDX] = 0x08048000u;
    ck_assert_int_eq(RUN(0x0f, 0x35), NO_FAULT);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->eip, 0x08048000u);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0xbfff0000u);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE3);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA3);
    ck_assert_uint_eq(cpu->seg[SEG_SS].attr & DESC_DPL_MASK, DESC_DPL_MASK);
    ck_assert_uint_eq(cpu->mmu_idx, MMU_USER);
    /* SYSEXIT above CPL 0 faults; so does SYSENTER in real mode. */
    ck_assert_int_eq(RUN(0x0f, 0x35), EXC_GP);
    real_mode_fresh();
    cpu->sysenter_cs = SEL_CODE0;
    ck_assert_int_eq(RUN(0x0f, 0x34), EXC_GP);
}
END_TEST

START_TEST(test_sysenter_from_vm86)
{
    enter_vm86(0);
    cpu->gdtr = (TableRegister){GDT_BASE, 8 * GDT_ENTRIES - 1};
    cpu->sysenter_cs = SEL_CODE0;
    cpu->sysenter_eip = 0x1000;
    ck_assert_int_eq(RUN(0x0f, 0x34), NO_FAULT);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_VM, 0);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert(!(cpu->hflags & HF_VM));
}
END_TEST

/* ---- HLT, INVLPG, invalid opcodes ---- */

START_TEST(test_hlt_and_privileged)
{
    enter_pm(3);
    ck_assert_int_eq(RUN(0xf4), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0);
    ck_assert(!cpu->halted);
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x3d, 0x00, 0x60, 0x00, 0x00), EXC_GP); /* invlpg */
    ck_assert_int_eq(RUN(0x0f, 0x09), EXC_GP);                               /* wbinvd */
    ck_assert_int_eq(RUN(0x0f, 0x08), EXC_GP);                               /* invd */
    enter_pm(0);
    ck_assert_int_eq(RUN(0xf4), NO_FAULT);
    ck_assert(cpu->halted);
    ck_assert_uint_eq(cpu->eip, 0x7c01);
    /* vm86 runs at CPL 3: HLT is #GP there; in real mode it halts. */
    enter_vm86(3);
    cpu->halted = false;
    ck_assert_int_eq(RUN(0xf4), EXC_GP);
    real_mode_fresh();
    ck_assert_int_eq(RUN(0xf4), NO_FAULT);
    ck_assert(cpu->halted);
}
END_TEST

START_TEST(test_invlpg)
{
    enter_pm(0);
    const uint32_t lin = 0x00345000u;
    lin_read(cpu, lin, 4);
    ck_assert(tlb_hits(lin));
    cpu->regs[R_EBX] = lin;
    ck_assert_int_eq(RUN(0x0f, 0x01, 0x3b), NO_FAULT); /* invlpg [ebx] */
    ck_assert(!tlb_hits(lin));
}
END_TEST

START_TEST(test_ud)
{
    enter_pm(0);
    ck_assert_int_eq(RUN(0x0f, 0x0b), EXC_UD);
    ck_assert_uint_eq(cpu->eip, 0x7c00);
    ck_assert_int_eq(RUN(0x0f, 0x20, 0xc8), EXC_UD); /* mov eax, cr1 */
}
END_TEST

static Suite *sysinsn_suite(void)
{
    Suite *s = suite_create("sysinsn");
    TCase *tc = tcase_create("sysinsn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cpuid_vendor_and_family);
    tcase_add_test(tc, test_cpuid_brand_and_range);
    tcase_add_test(tc, test_cpuid_hypervisor_leaf);
    tcase_add_test(tc, test_cr4_follows_cpuid);
    tcase_add_test(tc, test_cr0_rules);
    tcase_add_test(tc, test_control_register_tlb_flush);
    tcase_add_test(tc, test_smsw_lmsw_clts);
    tcase_add_test(tc, test_msr_round_trips);
    tcase_add_test(tc, test_msr_unknown_and_privilege);
    tcase_add_test(tc, test_tsc);
    tcase_add_test(tc, test_perfctr_msrs);
    tcase_add_test(tc, test_rdpmc);
    tcase_add_test(tc, test_popf_cpl0);
    tcase_add_test(tc, test_popf_cpl3);
    tcase_add_test(tc, test_pushf_popf_vm86);
    tcase_add_test(tc, test_cli_sti_iopl);
    tcase_add_test(tc, test_sti_shadow_in_run_loop);
    tcase_add_test(tc, test_lar);
    tcase_add_test(tc, test_lsl);
    tcase_add_test(tc, test_verr_verw);
    tcase_add_test(tc, test_probes_not_in_real_or_vm86);
    tcase_add_test(tc, test_arpl);
    tcase_add_test(tc, test_lldt_ltr);
    tcase_add_test(tc, test_lgdt_sgdt);
    tcase_add_test(tc, test_mov_pop_sreg);
    tcase_add_test(tc, test_load_far_pointer);
    tcase_add_test(tc, test_mov_dr);
    tcase_add_test(tc, test_sysenter_sysexit);
    tcase_add_test(tc, test_sysenter_from_vm86);
    tcase_add_test(tc, test_hlt_and_privileged);
    tcase_add_test(tc, test_invlpg);
    tcase_add_test(tc, test_ud);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sysinsn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
