/*
 * Long mode's system half (issue 19): entering and leaving IA-32e mode
 * (EFER, CR0.PG, CR4.PAE, CR3), the long-mode MSRs, LGDT/LIDT with 64-bit
 * bases, 16-byte LDT/TSS descriptors, event delivery through 16-byte IDT
 * gates (RSPn, IST, the null SS, alignment), IRETQ to 64-bit and to
 * compatibility mode, far RET with REX.W, 64-bit call gates, no task
 * switches, SYSCALL/SYSRET, SWAPGS and RDTSCP, and the cpu section of a
 * saved VM.
 *
 * The machine is pm_fixture.h's, put into IA-32e mode with 4-level tables
 * that map the first 2 MiB twice: at 0 and at FFFF800000000000h, where
 * the tests put the IDT, GDT and TSS as Linux does (above 4 GiB).
 */
#include <check.h>

#include "cpu/models.h"
#include "hw/pc/vmstate_pc.h"
#include "migration/vmstate.h"
#include "pm_fixture.h"

#define PML4_BASE 0x10000u /* PML4, PDPT, PD: three pages */
#define HIGH      0xffff800000000000ull
#define TSS64     0x5000u /* a 64-bit TSS, 104 bytes */
#define RSP0      0x9000u
#define IST1      0x7008u /* not 16-byte aligned: delivery aligns it */
#define HANDLER   0x6000u
#define USER_RSP  0xa000u

/* GDT: 64-bit ring-0 code, ring-3 data (STAR's SYSRET base - 8 + 8 ...),
 * as Linux lays it out for SYSCALL/SYSRET: kernel CS, kernel SS, user CS32,
 * user SS, user CS64 at consecutive selectors. */
#define SEL_KCODE64   0x40u /* index 8 */
#define SEL_KDATA     0x48u /* index 9 */
#define SEL_UCODE32   0x53u /* index 10, RPL 3 */
#define SEL_UDATA     0x5bu /* index 11 */
#define SEL_UCODE64   0x63u /* index 12 */
#define SEL_TSS64     0x68u /* index 13-14: 16 bytes */
#define SEL_LDT64     0x78u /* index 15-16 */
#define SEL_GATE64    0x88u /* index 17-18: a 64-bit call gate */
#define SEL_CODE64_LD 0x98u /* index 19: L and D both set */

#define ATTR_CODE64 (DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_L | DESC_G)

static PMFixture fx;
static CPUState *cpu;

static void put64(uint32_t addr, uint64_t v)
{
    pm_wr32(&fx, addr, (uint32_t)v);
    pm_wr32(&fx, addr + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(uint32_t addr)
{
    return (uint64_t)pm_rd32(&fx, addr + 4) << 32 | pm_rd32(&fx, addr);
}

/* A 16-byte system descriptor (LDT, TSS) at GDT index. */
static void gdt_set16(int index, uint64_t base, uint32_t limit, uint32_t type)
{
    gdt_set(&fx, index, make_desc((uint32_t)base, limit, DESC_P | (type << DESC_TYPE_SHIFT)));
    put64(GDT_BASE + (uint32_t)index * 8 + 8, base >> 32);
}

/* A 16-byte IDT gate (SDM Vol.3 Figure 6-8). */
static void idt64_set(int vector, uint16_t sel, uint64_t offset, uint32_t type, uint32_t dpl,
                      uint32_t ist)
{
    uint64_t lo = make_gate(sel, (uint32_t)offset, type, dpl, 0) | ((uint64_t)ist << 32);
    put64(IDT_BASE + (uint32_t)vector * 16, lo);
    put64(IDT_BASE + (uint32_t)vector * 16 + 8, offset >> 32);
}

static void enable_lm_features(void)
{
    cpu->cpuid.ext_edx |= CPUID_EXT_LM | CPUID_EXT_SYSCALL | CPUID_EXT_NX | CPUID_EXT_RDTSCP;
}

/* Protected mode with paging off, the 4-level tables and the long-mode
 * descriptors in place, EFER.LME not yet set. */
static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
    enable_lm_features();
    /* PML4[0] and PML4[256] -> PDPT -> PD[0]: a 2 MiB page at 0. */
    put64(PML4_BASE, (PML4_BASE + 0x1000) | 7);
    put64(PML4_BASE + 256 * 8, (PML4_BASE + 0x1000) | 7);
    put64(PML4_BASE + 0x1000, (PML4_BASE + 0x2000) | 7);
    put64(PML4_BASE + 0x2000, 0x87);
    cpu->cr3 = PML4_BASE;
    gdt_set(&fx, 8, make_desc(0, 0xfffff, ATTR_CODE64));
    gdt_set(&fx, 9, make_desc(0, 0xfffff, ATTR_DATA32));
    gdt_set(&fx, 10, make_desc(0, 0xfffff, ATTR_CODE32 | ATTR_DPL(3)));
    gdt_set(&fx, 11, make_desc(0, 0xfffff, ATTR_DATA32 | ATTR_DPL(3)));
    gdt_set(&fx, 12, make_desc(0, 0xfffff, ATTR_CODE64 | ATTR_DPL(3)));
    gdt_set16(13, HIGH + TSS64, 0x67, SYS_TSS32_AVAIL);
    gdt_set16(15, HIGH + LDT_BASE, 0xff, SYS_LDT);
    gdt_set(&fx, 19, make_desc(0, 0xfffff, ATTR_CODE64 | DESC_B));
    put64(TSS64 + 4, RSP0);           /* RSP0 */
    put64(TSS64 + 0x24, IST1);        /* IST1 */
    put64(TSS64 + 12, HIGH + 0x7800); /* RSP1 (unused) */
}

static void teardown(void)
{
    pm_teardown(&fx);
}

/* ---- entering IA-32e mode the way a kernel does ---- */

static void set_efer(CPUState *c, void *arg)
{
    if (!cpu_wrmsr(c, MSR_IA32_EFER, *(uint64_t *)arg)) {
        cpu_raise_exception_err(c, EXC_GP, 0);
    }
}

static int try_efer(uint64_t value)
{
    return pm_try(cpu, set_efer, &value);
}

static void write_cr0(CPUState *c, void *arg)
{
    cpu_write_cr0(c, *(uint32_t *)arg);
}

static int try_cr0(uint32_t value)
{
    return pm_try(cpu, write_cr0, &value);
}

static void write_cr4(CPUState *c, void *arg)
{
    cpu_write_cr4(c, *(uint32_t *)arg);
}

static void write_cr3(CPUState *c, void *arg)
{
    cpu_write_cr3(c, *(uint64_t *)arg);
}

/* LME, PAE, PG: IA-32e mode in compatibility mode (CS is 32-bit). */
static void enter_lm(void)
{
    ck_assert_int_eq(try_efer(EFER_LME | EFER_SCE | EFER_NXE), -1);
    uint32_t cr4 = cpu->cr4 | CR4_PAE;
    ck_assert_int_eq(pm_try(cpu, write_cr4, &cr4), -1);
    ck_assert_int_eq(try_cr0(cpu->cr0 | CR0_PG), -1);
}

/* Then a 64-bit CS and the high descriptor tables. */
static void enter_64(void)
{
    enter_lm();
    pm_force_seg(&fx, SEG_CS, SEL_KCODE64);
    pm_force_seg(&fx, SEG_SS, SEL_KDATA);
    cpu->gdtr.base = HIGH + GDT_BASE;
    cpu->idtr.base = HIGH + IDT_BASE;
    cpu->idtr.limit = 256 * 16 - 1;
    seg_cache_from_descriptor(&cpu->tr, SEL_TSS64, gdt_get(&fx, 13));
    cpu->tr.base = HIGH + TSS64;
    cpu->regs[R_ESP] = RSP0 - 0x200;
    cpu_update_mode(cpu);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64), HF_LMA | HF_CS64);
}

START_TEST(test_efer_writes)
{
    /* LMA is the processor's: a written LMA is ignored. */
    ck_assert_int_eq(try_efer(EFER_LMA), -1);
    ck_assert_uint_eq(cpu->efer, 0);
    ck_assert_int_eq(try_efer(EFER_LME | EFER_SCE | EFER_NXE), -1);
    ck_assert_uint_eq(cpu->efer, EFER_LME | EFER_SCE | EFER_NXE);
    ck_assert_int_eq(try_efer(1u << 9), EXC_GP); /* reserved */
    uint64_t v;
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
    ck_assert_uint_eq(v, EFER_LME | EFER_SCE | EFER_NXE);
    /* Without long mode and SYSCALL in CPUID, LME and SCE are reserved. */
    cpu->cpuid.ext_edx &= ~(CPUID_EXT_LM | CPUID_EXT_SYSCALL);
    ck_assert_int_eq(try_efer(EFER_LME), EXC_GP);
    ck_assert_int_eq(try_efer(EFER_SCE), EXC_GP);
    ck_assert_int_eq(try_efer(EFER_NXE), -1);
}
END_TEST

START_TEST(test_activation)
{
    ck_assert_int_eq(try_efer(EFER_LME), -1);
    /* PG with LME but no PAE: #GP, nothing changes. */
    ck_assert_int_eq(try_cr0(cpu->cr0 | CR0_PG), EXC_GP);
    ck_assert_uint_eq(cpu->cr0 & CR0_PG, 0);
    ck_assert_uint_eq(cpu->efer & EFER_LMA, 0);
    uint32_t cr4 = CR4_PAE;
    ck_assert_int_eq(pm_try(cpu, write_cr4, &cr4), -1);
    /* A CS with L set: #GP. */
    cpu->seg[SEG_CS].attr |= DESC_L;
    ck_assert_int_eq(try_cr0(cpu->cr0 | CR0_PG), EXC_GP);
    cpu->seg[SEG_CS].attr &= ~DESC_L;
    ck_assert_int_eq(try_cr0(cpu->cr0 | CR0_PG), -1);
    ck_assert_uint_eq(cpu->efer & EFER_LMA, EFER_LMA);
    ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64 | HF_CS32), HF_LMA | HF_CS32);
    /* The walk is now 4-level: FFFF800000001000h reaches the GDT. */
    uint32_t phys;
    ck_assert(mmu_debug_translate(cpu, HIGH + GDT_BASE, &phys));
    ck_assert_uint_eq(phys, GDT_BASE);
    /* LME may not change with paging on; PAE may not go. */
    ck_assert_int_eq(try_efer(0), EXC_GP);
    cr4 = 0;
    ck_assert_int_eq(pm_try(cpu, write_cr4, &cr4), EXC_GP);
    /* CR3 bits above MAXPHYADDR are reserved in IA-32e mode. */
    uint64_t cr3 = PML4_BASE | (1ull << 45);
    ck_assert_int_eq(pm_try(cpu, write_cr3, &cr3), EXC_GP);
    cr3 = PML4_BASE;
    ck_assert_int_eq(pm_try(cpu, write_cr3, &cr3), -1);
    /* From 64-bit mode PG cannot be cleared ... */
    pm_force_seg(&fx, SEG_CS, SEL_KCODE64);
    ck_assert_int_eq(try_cr0(cpu->cr0 & ~CR0_PG), EXC_GP);
    /* ... from compatibility mode it leaves IA-32e mode. */
    pm_force_seg(&fx, SEG_CS, SEL_CODE0);
    ck_assert_int_eq(try_cr0(cpu->cr0 & ~CR0_PG), -1);
    ck_assert_uint_eq(cpu->efer, EFER_LME);
    ck_assert_uint_eq(cpu->hflags & HF_LMA, 0);
}
END_TEST

START_TEST(test_lm_msrs)
{
    uint64_t v;
    ck_assert(cpu_wrmsr(cpu, MSR_LSTAR, 0xffffffff81000000ull));
    ck_assert(!cpu_wrmsr(cpu, MSR_LSTAR, 0x0000800000000000ull)); /* not canonical */
    ck_assert(cpu_rdmsr(cpu, MSR_LSTAR, &v));
    ck_assert_uint_eq(v, 0xffffffff81000000ull);
    ck_assert(cpu_wrmsr(cpu, MSR_STAR, 0x0023001000000000ull));
    ck_assert(!cpu_wrmsr(cpu, MSR_FMASK, 1ull << 32));
    ck_assert(cpu_wrmsr(cpu, MSR_FMASK, 0x47700));
    ck_assert(cpu_wrmsr(cpu, MSR_FS_BASE, 0x00007f0000001000ull));
    ck_assert_uint_eq(cpu->seg[SEG_FS].base, 0x00007f0000001000ull);
    ck_assert(cpu_wrmsr(cpu, MSR_GS_BASE, HIGH));
    ck_assert(cpu_rdmsr(cpu, MSR_GS_BASE, &v));
    ck_assert_uint_eq(v, HIGH);
    ck_assert(!cpu_wrmsr(cpu, MSR_KERNEL_GS_BASE, 0x8000000000000000ull));
    ck_assert(cpu_wrmsr(cpu, MSR_KERNEL_GS_BASE, 0x1000));
    ck_assert(cpu_wrmsr(cpu, MSR_TSC_AUX, 7));
    ck_assert(!cpu_wrmsr(cpu, MSR_TSC_AUX, 1ull << 32));
    /* SYSENTER's MSRs hold 64-bit addresses with long mode. */
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_SYSENTER_EIP, 0xffffffff81001000ull));
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_SYSENTER_EIP, &v));
    ck_assert_uint_eq(v, 0xffffffff81001000ull);
    /* Without long mode the segment-base MSRs do not exist. */
    cpu->cpuid.ext_edx &= ~(CPUID_EXT_LM | CPUID_EXT_SYSCALL | CPUID_EXT_RDTSCP);
    ck_assert(!cpu_rdmsr(cpu, MSR_FS_BASE, &v));
    ck_assert(!cpu_rdmsr(cpu, MSR_LSTAR, &v));
    ck_assert(!cpu_rdmsr(cpu, MSR_TSC_AUX, &v));
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_SYSENTER_EIP, 0xffffffff81001000ull));
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_SYSENTER_EIP, &v));
    ck_assert_uint_eq(v, 0x81001000u);
}
END_TEST

/* ---- instructions, decoded in the current mode and run by the interpreter ---- */

static const uint8_t *exec_bytes;
static int exec_len;

static void exec_insn(CPUState *c, void *arg)
{
    Insn insn;
    ck_assert_int_eq(decode_insn_mode(&insn, exec_bytes, exec_len, cpu_decode_mode(c->hflags)),
                     DECODE_OK);
    c->next_eip = c->eip + insn.len;
    interp_exec_insn(c, &insn);
}

static int try_exec(const uint8_t *bytes, int len)
{
    exec_bytes = bytes;
    exec_len = len;
    return pm_try(cpu, exec_insn, NULL);
}

#define EXEC(...)                                                                                  \
    ({                                                                                             \
        static const uint8_t bytes_[] = {__VA_ARGS__};                                             \
        try_exec(bytes_, (int)sizeof(bytes_));                                                     \
    })

START_TEST(test_descriptor_tables)
{
    enter_64();
    /* LGDT [rbx] / SGDT [rbx+16]: 10-byte operands. */
    cpu->regs[R_EBX] = 0x8000;
    pm_wr16(&fx, 0x8000, 0x3ff);
    put64(0x8002, HIGH + 0x1000);
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0x13), -1); /* lgdt [rbx] */
    ck_assert_uint_eq(cpu->gdtr.base, HIGH + 0x1000);
    ck_assert_uint_eq(cpu->gdtr.limit, 0x3ff);
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0x4b, 0x10), -1); /* sidt [rbx+16] */
    ck_assert_uint_eq(pm_rd16(&fx, 0x8010), 256 * 16 - 1);
    ck_assert_uint_eq(get64(0x8012), HIGH + IDT_BASE);
    /* A non-canonical base: #GP(0). */
    put64(0x8002, 0x0000900000000000ull);
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0x1b), EXC_GP); /* lidt [rbx] */
    ck_assert_uint_eq(cpu->idtr.base, HIGH + IDT_BASE);
    /* LTR and LLDT read 16-byte descriptors: the base's upper half. */
    cpu->regs[R_EAX] = SEL_TSS64;
    ck_assert_int_eq(EXEC(0x0f, 0x00, 0xd8), -1); /* ltr ax */
    ck_assert_uint_eq(cpu->tr.base, HIGH + TSS64);
    ck_assert_uint_eq((cpu->tr.attr & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT, SYS_TSS32_BUSY);
    cpu->regs[R_EAX] = SEL_LDT64;
    ck_assert_int_eq(EXEC(0x0f, 0x00, 0xd0), -1); /* lldt ax */
    ck_assert_uint_eq(cpu->ldtr.base, HIGH + LDT_BASE);
    /* A type in the upper half: #GP(selector). */
    pm_wr32(&fx, GDT_BASE + 16 * 8 + 4, 0x0200);
    ck_assert_int_eq(EXEC(0x0f, 0x00, 0xd0), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_LDT64);
    /* A 16-bit TSS does not exist in IA-32e mode. */
    gdt_set16(13, HIGH + TSS64, 0x67, SYS_TSS16_AVAIL);
    cpu->regs[R_EAX] = SEL_TSS64;
    ck_assert_int_eq(EXEC(0x0f, 0x00, 0xd8), EXC_GP);
}
END_TEST

static void enter_ring3_64(void);

START_TEST(test_null_ss)
{
    enter_64();
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(EXEC(0x8e, 0xd0), -1); /* mov ss, ax */
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, 0);
    ck_assert_uint_eq(cpu->cpl, 0);
    cpu->regs[R_EAX] = 1; /* RPL != CPL */
    ck_assert_int_eq(EXEC(0x8e, 0xd0), EXC_GP);
    /* Not in compatibility mode. */
    pm_force_seg(&fx, SEG_CS, SEL_CODE0);
    cpu->regs[R_EAX] = 0;
    ck_assert_int_eq(EXEC(0x8e, 0xd0), EXC_GP);
    /* Nor at CPL 3. */
    enter_ring3_64();
    cpu->regs[R_EAX] = 3;
    ck_assert_int_eq(EXEC(0x8e, 0xd0), EXC_GP);
}
END_TEST

/* PREFETCHW (0F 0D /1), which Linux runs on AMD models with LM: a hint
 * that neither faults nor changes anything, even on an unmapped address. */
START_TEST(test_prefetchw)
{
    enter_64();
    cpu->regs[R_EBX] = 0x0000700000000000ull; /* not mapped */
    uint64_t rbx = cpu->regs[R_EBX];
    ck_assert_int_eq(EXEC(0x0f, 0x0d, 0x0b), -1); /* prefetchw [rbx] */
    ck_assert_int_eq(EXEC(0x0f, 0x0d, 0x03), -1); /* prefetch [rbx] */
    ck_assert_uint_eq(cpu->regs[R_EBX], rbx);
}
END_TEST

START_TEST(test_mov_cr_64)
{
    enter_64();
    cpu->regs[R_EAX] = 0xffffffff80001000ull;
    ck_assert_int_eq(EXEC(0x0f, 0x22, 0xd0), -1); /* mov cr2, rax */
    ck_assert_uint_eq(cpu->cr2, 0xffffffff80001000ull);
    ck_assert_int_eq(EXEC(0x0f, 0x20, 0xd1), -1); /* mov rcx, cr2 */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0xffffffff80001000ull);
    cpu->regs[R_EAX] = (uint64_t)cpu->cr0 | (1ull << 32);
    ck_assert_int_eq(EXEC(0x0f, 0x22, 0xc0), EXC_GP); /* mov cr0, rax: bit 32 */
    cpu->regs[R_EAX] = 1ull << 40;
    ck_assert_int_eq(EXEC(0x0f, 0x23, 0xf8), EXC_GP);       /* mov dr7, rax */
    ck_assert_int_eq(EXEC(0x44, 0x0f, 0x21, 0xc0), EXC_UD); /* mov rax, dr8 */
}
END_TEST

/* DR0-DR3 hold 64-bit linear addresses in 64-bit mode (SDM Vol.2 MOV DR):
 * a data breakpoint above 4 GiB matches there and not at the low alias
 * of the same physical page; outside 64-bit mode the low half counts. */
START_TEST(test_mov_dr_64)
{
    enum { PAGE = 0x40000 };
    enter_64();
    cpu->regs[R_EAX] = 0xffff800012345678ull;
    ck_assert_int_eq(EXEC(0x0f, 0x23, 0xc0), -1); /* mov dr0, rax */
    ck_assert_uint_eq(cpu->dr[0], 0xffff800012345678ull);
    ck_assert_int_eq(EXEC(0x0f, 0x21, 0xc1), -1); /* mov rcx, dr0 */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0xffff800012345678ull);
    cpu->regs[R_EAX] = HIGH + PAGE;
    ck_assert_int_eq(EXEC(0x0f, 0x23, 0xc8), -1); /* mov dr1, rax */
    /* DR7: L1, R/W1 = 01 (writes), LEN1 = 11 (4 bytes) */
    cpu->regs[R_EAX] = 1u << 2 | 1u << 20 | 3u << 22;
    ck_assert_int_eq(EXEC(0x0f, 0x23, 0xf8), -1); /* mov dr7, rax */
    cpu->pending_dr6 = 0;
    cpu->regs[R_EBX] = PAGE;
    ck_assert_int_eq(EXEC(0x89, 0x03), -1); /* mov [rbx], eax: the low alias */
    ck_assert_uint_eq(cpu->pending_dr6, 0);
    cpu->regs[R_EBX] = HIGH + PAGE + 2;
    ck_assert_int_eq(EXEC(0x89, 0x03), -1); /* mov [rbx], eax: DR1's bytes */
    ck_assert_uint_eq(cpu->pending_dr6 & 0xf, 2);
    /* In compatibility mode the 32-bit operand reads the low half. */
    pm_force_seg(&fx, SEG_CS, SEL_CODE0);
    cpu_update_mode(cpu);
    ck_assert_int_eq(EXEC(0x0f, 0x21, 0xc2), -1); /* mov edx, dr0 */
    ck_assert_uint_eq(cpu->regs[R_EDX], 0x12345678u);
}
END_TEST

/* CR8 (64-bit mode, REX.R selects it): bits 63:4 are reserved; without an APIC it keeps what is written (test_apic_cpu.c
 * has it as the APIC's TPR). */
START_TEST(test_mov_cr8)
{
    enter_64();
    ck_assert_uint_eq(cpu->cr8, 0);
    cpu->regs[R_EAX] = 0xb;
    ck_assert_int_eq(EXEC(0x44, 0x0f, 0x22, 0xc0), -1); /* mov cr8, rax */
    ck_assert_uint_eq(cpu->cr8, 0xb);
    cpu->regs[R_EDX] = ~0ull;
    ck_assert_int_eq(EXEC(0x44, 0x0f, 0x20, 0xc2), -1); /* mov rdx, cr8 */
    ck_assert_uint_eq(cpu->regs[R_EDX], 0xb);
    cpu->regs[R_EAX] = 0x10;
    ck_assert_int_eq(EXEC(0x44, 0x0f, 0x22, 0xc0), EXC_GP); /* bit 4: reserved */
    cpu->regs[R_EAX] = 1ull << 63;
    ck_assert_int_eq(EXEC(0x44, 0x0f, 0x22, 0xc0), EXC_GP);
    ck_assert_uint_eq(cpu->cr8, 0xb);
    cpu->regs[9] = 3;
    ck_assert_int_eq(EXEC(0x45, 0x0f, 0x22, 0xc1), -1); /* mov cr8, r9 */
    ck_assert_uint_eq(cpu->cr8, 3);
    cpu_reset(cpu);
    ck_assert_uint_eq(cpu->cr8, 0);
}
END_TEST

/* ---- interrupts ---- */

typedef struct IntArgs {
    int vector;
    bool is_sw, has_error;
    uint32_t error;
    uint64_t rip;
} IntArgs;

static void do_interrupt(CPUState *c, void *arg)
{
    const IntArgs *a = arg;
    cpu_do_interrupt(c, a->vector, a->is_sw, a->has_error, a->error, a->rip);
}

/* Deliver an event; cpu->exception_vector says what it raised (-1: none). */
static void deliver(int vector, bool is_sw, bool has_error, uint32_t error, uint64_t rip)
{
    IntArgs a = {vector, is_sw, has_error, error, rip};
    pm_try(cpu, do_interrupt, &a);
}

/* Ring 3 in 64-bit mode, RSP = USER_RSP - 8. */
static void enter_ring3_64(void)
{
    enter_64();
    pm_force_seg(&fx, SEG_SS, SEL_UDATA);
    pm_force_seg(&fx, SEG_CS, SEL_UCODE64);
    cpu->regs[R_ESP] = USER_RSP - 8;
    ck_assert_uint_eq(cpu->cpl, 3);
}

START_TEST(test_interrupt_inner)
{
    enter_ring3_64();
    idt64_set(14, SEL_KCODE64, HIGH + HANDLER, SYS_INT_GATE32, 0, 0);
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_CF, EFLAGS_IF | EFLAGS_CF);
    deliver(14, false, true, 0x6, 0x00007f0000001234ull);
    ck_assert_int_eq(cpu->exception_vector, -1);
    ck_assert_uint_eq(cpu->next_eip, HIGH + HANDLER);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_KCODE64);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, 0); /* null, RPL 0 */
    ck_assert_uint_eq(cpu->eflags & EFLAGS_IF, 0);
    /* RSP0 = 9000h, six 8-byte items. */
    ck_assert_uint_eq(cpu->regs[R_ESP], RSP0 - 48);
    ck_assert_uint_eq(get64(RSP0 - 8), SEL_UDATA);
    ck_assert_uint_eq(get64(RSP0 - 16), USER_RSP - 8);
    ck_assert_uint_eq(get64(RSP0 - 24) & (EFLAGS_IF | EFLAGS_CF), EFLAGS_IF | EFLAGS_CF);
    ck_assert_uint_eq(get64(RSP0 - 32), SEL_UCODE64);
    ck_assert_uint_eq(get64(RSP0 - 40), 0x00007f0000001234ull);
    ck_assert_uint_eq(get64(RSP0 - 48), 0x6);

    /* IRETQ (after the handler dropped the error code) back to ring 3. */
    cpu->regs[R_ESP] += 8;
    cpu->eip = HIGH + HANDLER;
    ck_assert_int_eq(EXEC(0x48, 0xcf), -1);
    ck_assert_uint_eq(cpu->next_eip, 0x00007f0000001234ull);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_UDATA);
    ck_assert_uint_eq(cpu->regs[R_ESP], USER_RSP - 8);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_IF, EFLAGS_IF);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
}
END_TEST

START_TEST(test_interrupt_same_level_and_ist)
{
    enter_64();
    cpu->regs[R_ESP] = RSP0 - 0x104; /* misaligned: the frame starts at a 16-byte boundary */
    idt64_set(0x80, SEL_KCODE64, HANDLER, SYS_TRAP_GATE32, 3, 0);
    deliver(0x80, true, false, 0, 0x1236);
    ck_assert_int_eq(cpu->exception_vector, -1);
    uint64_t top = (RSP0 - 0x104) & ~15ull;
    ck_assert_uint_eq(cpu->regs[R_ESP], top - 40);
    ck_assert_uint_eq(get64(top - 8), SEL_KDATA); /* SS pushed at the same level too */
    ck_assert_uint_eq(get64(top - 16), RSP0 - 0x104);
    ck_assert_uint_eq(get64(top - 40), 0x1236);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_KDATA); /* no stack switch */

    /* IST1: the stack switches even at the same level; NMI-style. */
    idt64_set(2, SEL_KCODE64, HANDLER, SYS_INT_GATE32, 0, 1);
    deliver(2, false, false, 0, 0x2000);
    ck_assert_int_eq(cpu->exception_vector, -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], (IST1 & ~15u) - 40);
    ck_assert_uint_eq(get64((IST1 & ~15u) - 40), 0x2000);
}
END_TEST

START_TEST(test_interrupt_checks)
{
    enter_64();
    /* A 32-bit-style task gate: #GP(vector*8 + IDT + EXT). */
    idt64_set(5, SEL_TSS_A, 0, SYS_TASK_GATE, 0, 0);
    deliver(5, false, false, 0, 0);
    ck_assert_int_eq(cpu->exception_vector, EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 5 * 8 + 3);
    /* A gate to a 32-bit code segment: #GP(selector + EXT). */
    idt64_set(6, SEL_CODE0, HANDLER, SYS_INT_GATE32, 0, 0);
    deliver(6, false, false, 0, 0);
    ck_assert_int_eq(cpu->exception_vector, EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_CODE0 + 1);
    /* INT n through a DPL 0 gate from ring 3: #GP(vector*8 + 2). */
    enter_ring3_64();
    idt64_set(0x30, SEL_KCODE64, HANDLER, SYS_INT_GATE32, 0, 0);
    deliver(0x30, true, false, 0, 0);
    ck_assert_int_eq(cpu->exception_vector, EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x30 * 8 + 2);
    /* An IDT too short for a 16-byte gate. */
    cpu->idtr.limit = 0x30 * 16 + 7;
    deliver(0x30, false, false, 0, 0);
    ck_assert_int_eq(cpu->exception_vector, EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, 0x30 * 8 + 3);
}
END_TEST

START_TEST(test_double_fault_in_lm)
{
    enter_64();
    /* #GP's gate is absent: #NP during #GP delivery becomes #DF, on IST1. */
    idt64_set(8, SEL_KCODE64, HANDLER, SYS_INT_GATE32, 0, 1);
    idt64_set(13, SEL_KCODE64, HANDLER, SYS_INT_GATE32, 0, 0);
    put64(IDT_BASE + 13 * 16, get64(IDT_BASE + 13 * 16) & ~((uint64_t)DESC_P << 32));
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0);
    ck_assert(!cpu->triple_fault);
    ck_assert_uint_eq(cpu->next_eip, HANDLER);
    ck_assert_uint_eq(cpu->regs[R_ESP], (IST1 & ~15u) - 48);
    ck_assert_uint_eq(get64((IST1 & ~15u) - 48), 0); /* #DF's error code */
    /* And with #DF's gate gone too: shutdown. */
    put64(IDT_BASE + 8 * 16, 0);
    pm_deliver_like_run_loop(cpu, EXC_GP, true, 0);
    ck_assert(cpu->triple_fault);
}
END_TEST

START_TEST(test_iret_to_compat)
{
    enter_64();
    /* A frame returning to ring-3 compatibility mode. */
    uint64_t sp = RSP0 - 0x100;
    put64(sp, 0x08048000);
    put64(sp + 8, SEL_UCODE32);
    put64(sp + 16, EFLAGS_IF | EFLAGS_FIXED | EFLAGS_VM); /* VM is ignored */
    put64(sp + 24, 0x12345678bffff000ull);                /* RSP's upper half goes */
    put64(sp + 32, SEL_UDATA);
    cpu->regs[R_ESP] = sp;
    cpu->regs[R_EBX] = 0xffff888000001234ull;
    ck_assert_int_eq(EXEC(0x48, 0xcf), -1);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x1234);
    ck_assert_uint_eq(cpu->next_eip, 0x08048000);
    ck_assert_uint_eq(cpu->hflags & (HF_CS64 | HF_CS32 | HF_LMA), HF_CS32 | HF_LMA);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_VM, 0);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0xbffff000);
    ck_assert_uint_eq(cpu->cpl, 3);
    /* IRET with NT: no task return in IA-32e mode. */
    cpu->eflags |= EFLAGS_NT;
    ck_assert_int_eq(EXEC(0xcf), EXC_GP);
    cpu->eflags &= ~EFLAGS_NT;
    /* A non-canonical RIP to 64-bit code: #GP(0), nothing committed. */
    enter_64();
    put64(sp, 0x0000800000000000ull);
    put64(sp + 8, SEL_KCODE64);
    put64(sp + 16, EFLAGS_FIXED);
    put64(sp + 24, RSP0);
    put64(sp + 32, 0);
    cpu->regs[R_ESP] = sp;
    ck_assert_int_eq(EXEC(0x48, 0xcf), EXC_GP);
    ck_assert_uint_eq(cpu->regs[R_ESP], sp);
    /* A null SS back to ring 0 in 64-bit mode is fine. */
    put64(sp, HIGH + 0x100);
    ck_assert_int_eq(EXEC(0x48, 0xcf), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], RSP0);
    ck_assert_uint_eq(cpu->next_eip, HIGH + 0x100);
}
END_TEST

START_TEST(test_far_transfers)
{
    enter_64();
    /* RETFQ (REX.W CB) to 64-bit code at the same level. */
    uint64_t sp = RSP0 - 0x100;
    put64(sp, HIGH + 0x4321);
    put64(sp + 8, SEL_KCODE64);
    cpu->regs[R_ESP] = sp;
    ck_assert_int_eq(EXEC(0x48, 0xcb), -1);
    ck_assert_uint_eq(cpu->next_eip, HIGH + 0x4321);
    ck_assert_uint_eq(cpu->regs[R_ESP], sp + 16);
    /* A code segment with L and D both set: #GP(selector). */
    put64(sp, 0x1000);
    put64(sp + 8, SEL_CODE64_LD);
    cpu->regs[R_ESP] = sp;
    ck_assert_int_eq(EXEC(0x48, 0xcb), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_CODE64_LD);
    /* Far JMP to a TSS: no task switch, #GP(selector). */
    gdt_set16(13, HIGH + TSS64, 0x67, SYS_TSS32_AVAIL);
    cpu->regs[R_EBX] = 0x8000;
    pm_wr32(&fx, 0x8000, 0);
    pm_wr16(&fx, 0x8004, SEL_TSS64);
    ck_assert_int_eq(EXEC(0xff, 0x2b), EXC_GP); /* jmp far [rbx] (m16:32) */
    ck_assert_uint_eq(cpu->exception_error, SEL_TSS64);
    /* REX.W: an m16:64 pointer to 64-bit code above 4 GiB. */
    put64(0x8000, HIGH + 0x6000);
    pm_wr16(&fx, 0x8008, SEL_KCODE64);
    ck_assert_int_eq(EXEC(0x48, 0xff, 0x2b), -1); /* rex.w jmp far [rbx] */
    ck_assert_uint_eq(cpu->next_eip, HIGH + 0x6000);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_KCODE64);
}
END_TEST

static void far_call_gate(CPUState *c, void *arg)
{
    (void)arg;
    cpu_far_call(c, SEL_GATE64 | 3, 0, 4, 0x401000);
}

START_TEST(test_call_gate64)
{
    enter_ring3_64();
    /* A 64-bit call gate at DPL 3 into ring-0 64-bit code. */
    uint64_t target = HIGH + 0x6100;
    gdt_set(&fx, 17, make_gate(SEL_KCODE64, (uint32_t)target, SYS_CALL_GATE32, 3, 0));
    put64(GDT_BASE + 18 * 8, target >> 32);
    ck_assert_int_eq(pm_try(cpu, far_call_gate, NULL), -1);
    ck_assert_uint_eq(cpu->next_eip, target);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, 0);
    ck_assert_uint_eq(cpu->regs[R_ESP], RSP0 - 32);
    ck_assert_uint_eq(get64(RSP0 - 8), SEL_UDATA);
    ck_assert_uint_eq(get64(RSP0 - 16), USER_RSP - 8);
    ck_assert_uint_eq(get64(RSP0 - 24), SEL_UCODE64);
    ck_assert_uint_eq(get64(RSP0 - 32), 0x401000);
    /* A type in the gate's upper half: #GP(gate selector). */
    enter_ring3_64();
    pm_wr32(&fx, GDT_BASE + 18 * 8 + 4, 0x0c00);
    ck_assert_int_eq(pm_try(cpu, far_call_gate, NULL), EXC_GP);
    ck_assert_uint_eq(cpu->exception_error, SEL_GATE64);
}
END_TEST

/* ---- SYSCALL, SYSRET, SWAPGS, RDTSCP ---- */

START_TEST(test_syscall_sysret)
{
    enter_ring3_64();
    /* STAR: SYSCALL CS 40h (SS 48h), SYSRET base 50h (CS32 53h, SS 5Bh, CS64 63h). */
    ck_assert(cpu_wrmsr(cpu, MSR_STAR, (0x50ull << 48) | (0x40ull << 32)));
    ck_assert(cpu_wrmsr(cpu, MSR_LSTAR, HIGH + HANDLER));
    ck_assert(cpu_wrmsr(cpu, MSR_FMASK, EFLAGS_IF | EFLAGS_DF | EFLAGS_TF));
    cpu_set_eflags(cpu, EFLAGS_IF | EFLAGS_DF | EFLAGS_CF, EFLAGS_IF | EFLAGS_DF | EFLAGS_CF);
    cpu->eip = 0x401000;
    ck_assert_int_eq(EXEC(0x0f, 0x05), -1); /* syscall */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x401002);
    ck_assert_uint_eq(cpu->regs[11] & (EFLAGS_IF | EFLAGS_DF | EFLAGS_CF),
                      EFLAGS_IF | EFLAGS_DF | EFLAGS_CF);
    ck_assert_uint_eq(cpu->eflags & (EFLAGS_IF | EFLAGS_DF | EFLAGS_CF), EFLAGS_CF);
    ck_assert_uint_eq(cpu->next_eip, HIGH + HANDLER);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x40);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, 0x48);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    ck_assert_uint_eq(cpu->regs[R_ESP], USER_RSP - 8); /* RSP untouched */

    /* SWAPGS swaps GS.base and KERNEL_GS_BASE. */
    cpu->seg[SEG_GS].base = 0x7000;
    cpu->kernel_gs_base = HIGH + 0x1000;
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0xf8), -1);
    ck_assert_uint_eq(cpu->seg[SEG_GS].base, HIGH + 0x1000);
    ck_assert_uint_eq(cpu->kernel_gs_base, 0x7000);

    /* SYSRETQ to 64-bit ring 3. */
    ck_assert_int_eq(EXEC(0x48, 0x0f, 0x07), -1);
    ck_assert_uint_eq(cpu->next_eip, 0x401002);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x63);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, 0x5b);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    ck_assert_uint_eq(cpu->eflags & (EFLAGS_IF | EFLAGS_DF), EFLAGS_IF | EFLAGS_DF);
    /* SYSRET and SWAPGS at ring 3: #GP(0). */
    ck_assert_int_eq(EXEC(0x48, 0x0f, 0x07), EXC_GP);
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0xf8), EXC_GP);

    /* SYSRET (32-bit operand) to compatibility mode, RIP = ECX. */
    ck_assert_int_eq(EXEC(0x0f, 0x05), -1);
    cpu->regs[R_ECX] = 0xffffffff00401000ull;
    cpu->regs[R_EAX] = 0xfffffffffffffff2ull; /* a kernel's -EFAULT */
    cpu->regs[9] = 0x0909090909090909ull;
    ck_assert_int_eq(EXEC(0x0f, 0x07), -1);
    ck_assert_uint_eq(cpu->next_eip, 0x401000);
    /* Outside 64-bit mode the high halves are zero (cpu/state.h); R9 keeps. */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xfffffff2u);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x00401000u);
    ck_assert_uint_eq(cpu->regs[9], 0x0909090909090909ull);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x53);
    ck_assert_uint_eq(cpu->hflags & (HF_CS64 | HF_CS32), HF_CS32);
    /* In compatibility mode SYSCALL and SWAPGS are #UD (Intel). */
    ck_assert_int_eq(EXEC(0x0f, 0x05), EXC_UD);
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0xf8), EXC_UD);
}
END_TEST

START_TEST(test_syscall_checks)
{
    enter_64();
    /* SYSRETQ to a non-canonical RCX: #GP(0) at ring 0, nothing changed. */
    ck_assert(cpu_wrmsr(cpu, MSR_STAR, (0x50ull << 48) | (0x40ull << 32)));
    cpu->regs[R_ECX] = 0x0000800000000000ull;
    ck_assert_int_eq(EXEC(0x48, 0x0f, 0x07), EXC_GP);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_KCODE64);
    /* Without EFER.SCE: #UD. */
    ck_assert_int_eq(try_efer(EFER_LME | EFER_NXE), -1);
    ck_assert_int_eq(EXEC(0x0f, 0x05), EXC_UD);
    /* RDTSCP: TSC_AUX in ECX; #UD on a model without it. */
    ck_assert(cpu_wrmsr(cpu, MSR_TSC_AUX, 5));
    cpu->regs[R_ECX] = ~0ull;
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0xf9), -1);
    ck_assert_uint_eq(cpu->regs[R_ECX], 5);
    cpu->cpuid.ext_edx &= ~CPUID_EXT_RDTSCP;
    ck_assert_int_eq(EXEC(0x0f, 0x01, 0xf9), EXC_UD);
}
END_TEST

/* qemu64 is AuthenticAMD: SYSCALL from compatibility mode (CSTAR) and
 * legacy mode, no SYSENTER in IA-32e mode. */
START_TEST(test_syscall_amd)
{
    cpu->cpuid = cpu_model_config(cpu_model_find("qemu64"));
    enter_ring3_64();
    pm_force_seg(&fx, SEG_CS, SEL_UCODE32); /* compatibility mode, ring 3 */
    ck_assert(cpu_wrmsr(cpu, MSR_STAR, (0x50ull << 48) | (0x40ull << 32) | 0x1000));
    ck_assert(cpu_wrmsr(cpu, MSR_CSTAR, HIGH + 0x6200));
    cpu->eip = 0x8048000;
    ck_assert_int_eq(EXEC(0x0f, 0x05), -1);
    ck_assert_uint_eq(cpu->next_eip, HIGH + 0x6200);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x8048002);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    cpu->sysenter_cs = 0x40;
    ck_assert_int_eq(EXEC(0x0f, 0x34), EXC_UD);
    /* Legacy protected mode: 32-bit code at STAR[31:0]. */
    teardown();
    setup();
    cpu->cpuid = cpu_model_config(cpu_model_find("qemu64"));
    ck_assert_int_eq(try_efer(EFER_SCE), -1);
    ck_assert(cpu_wrmsr(cpu, MSR_STAR, (0x1bull << 48) | (0x08ull << 32) | 0x1000));
    cpu->eip = 0x2000;
    ck_assert_int_eq(EXEC(0x0f, 0x05), -1);
    ck_assert_uint_eq(cpu->next_eip, 0x1000);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x2002);
    ck_assert_uint_eq(cpu->hflags & (HF_CS32 | HF_CS64), HF_CS32);
    /* AMD's SYSCFG: 0 after RESET, keeps bits 31:0; not on Intel rows. */
    uint64_t v = 1;
    ck_assert(cpu_rdmsr(cpu, MSR_K8_SYSCFG, &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(cpu_wrmsr(cpu, MSR_K8_SYSCFG, 0x40000));
    ck_assert(!cpu_wrmsr(cpu, MSR_K8_SYSCFG, 1ull << 40));
    ck_assert(cpu_rdmsr(cpu, MSR_K8_SYSCFG, &v));
    ck_assert_uint_eq(v, 0x40000);
    ck_assert(cpu_rdmsr(cpu, MSR_K8_INT_PENDING, &v)); /* no C1E */
    ck_assert_uint_eq(v, 0);
    /* And the Intel default model refuses it there. */
    cpu->cpuid = cpu_model_config(cpu_model_default());
    ck_assert_int_eq(EXEC(0x0f, 0x05), EXC_UD);
    ck_assert(!cpu_rdmsr(cpu, MSR_K8_SYSCFG, &v));
    ck_assert(!cpu_rdmsr(cpu, MSR_K8_INT_PENDING, &v));
}
END_TEST

/* Intel's CPUID shows SYSCALL only to IA-32e mode; AMD's always. */
START_TEST(test_cpuid_syscall_bit)
{
    uint32_t r[4];
    cpu_cpuid(cpu, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[3] & (CPUID_EXT_SYSCALL | CPUID_EXT_LM), CPUID_EXT_LM);
    enter_64();
    cpu_cpuid(cpu, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[3] & (CPUID_EXT_SYSCALL | CPUID_EXT_LM), CPUID_EXT_SYSCALL | CPUID_EXT_LM);
    teardown();
    setup();
    cpu->cpuid = cpu_model_config(cpu_model_find("qemu64"));
    cpu_cpuid(cpu, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[3] & (CPUID_EXT_SYSCALL | CPUID_EXT_LM), CPUID_EXT_SYSCALL | CPUID_EXT_LM);
}
END_TEST

START_TEST(test_sysenter_lm)
{
    enter_ring3_64();
    cpu->sysenter_cs = 0x40;
    cpu->sysenter_esp = HIGH + 0x9000;
    cpu->sysenter_eip = HIGH + 0x6000;
    ck_assert_int_eq(EXEC(0x0f, 0x34), -1);
    ck_assert_uint_eq(cpu->next_eip, HIGH + 0x6000);
    ck_assert_uint_eq(cpu->regs[R_ESP], HIGH + 0x9000);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    /* SYSEXIT with REX.W: 64-bit ring 3 at SYSENTER_CS + 32. */
    cpu->regs[R_EDX] = 0x401000;
    cpu->regs[R_ECX] = 0x7ff000;
    ck_assert_int_eq(EXEC(0x48, 0x0f, 0x35), -1);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, 0x63);
    ck_assert_uint_eq(cpu->hflags & HF_CS64, HF_CS64);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x7ff000);
    ck_assert_uint_eq(cpu->cpl, 3);
}
END_TEST

/* What INIT and RESET do to long mode (SDM Vol.3 10.1, Table 10-1): both
 * leave it (EFER is 0, FS/GS bases are 0 with their segments); INIT keeps
 * the MSRs (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX) and the
 * SSE registers, XMM8-15 with them; RESET clears them all. */
START_TEST(test_init_and_reset_leave_long_mode)
{
    static const uint32_t msrs[6] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK,
                                     MSR_KERNEL_GS_BASE, MSR_TSC_AUX};
    static const uint64_t values[6] = {0x0023001000000000ull, 0xffffffff81000000ull,
                                       0xffffffff81000100ull, 0x47700,
                                       0xffff888000003000ull, 7};
    for (int pass = 0; pass < 2; pass++) {
        bool init = pass == 0;
        if (!init) {
            teardown(); /* a fresh machine in protected mode */
            setup();
        }
        enter_64();
        for (int i = 0; i < 6; i++) {
            ck_assert(cpu_wrmsr(cpu, msrs[i], values[i]));
        }
        ck_assert(cpu_wrmsr(cpu, MSR_FS_BASE, 0xffff888000001000ull));
        ck_assert(cpu_wrmsr(cpu, MSR_GS_BASE, 0xffff888000002000ull));
        memset(cpu->xmm_hi[7], 0x5a, 16);
        init ? cpu_init_signal(cpu) : cpu_reset(cpu);
        ck_assert_uint_eq(cpu->efer, 0);
        ck_assert_uint_eq(cpu->hflags & (HF_LMA | HF_CS64), 0);
        ck_assert_uint_eq(cpu->seg[SEG_FS].base, 0);
        ck_assert_uint_eq(cpu->seg[SEG_GS].base, 0);
        ck_assert_uint_eq(cpu->eip, 0xfff0);
        for (int i = 0; i < 6; i++) {
            uint64_t v = 1;
            ck_assert(cpu_rdmsr(cpu, msrs[i], &v));
            ck_assert_msg(v == (init ? values[i] : 0), "MSR %#x after %s: %#llx", msrs[i],
                          init ? "INIT" : "RESET", (unsigned long long)v);
        }
        ck_assert_uint_eq(cpu->xmm_hi[7][15], init ? 0x5a : 0);
    }
}
END_TEST

START_TEST(test_vmstate_lm_msrs)
{
    enter_64();
    cpu->msr_star = 0x0023001000000000ull;
    cpu->msr_lstar = HIGH + 0x1000;
    cpu->msr_cstar = HIGH + 0x2000;
    cpu->msr_fmask = 0x47700;
    cpu->kernel_gs_base = HIGH + 0x3000;
    cpu->msr_tsc_aux = 3;
    cpu->cr2 = 0xffffffff81234567ull;
    cpu->sysenter_eip = HIGH + 0x4000;
    VMWriter w;
    vm_writer_init(&w);
    vmstate_save_fields(&w, &cpu_vmstate, cpu);
    PMFixture other;
    pm_setup(&other);
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    ck_assert(vmstate_load_fields(&r, &cpu_vmstate, other.cpu, cpu_vmstate.version));
    ck_assert_uint_eq(other.cpu->msr_star, cpu->msr_star);
    ck_assert_uint_eq(other.cpu->msr_lstar, cpu->msr_lstar);
    ck_assert_uint_eq(other.cpu->msr_cstar, cpu->msr_cstar);
    ck_assert_uint_eq(other.cpu->msr_fmask, cpu->msr_fmask);
    ck_assert_uint_eq(other.cpu->kernel_gs_base, cpu->kernel_gs_base);
    ck_assert_uint_eq(other.cpu->msr_tsc_aux, 3);
    ck_assert_uint_eq(other.cpu->cr2, cpu->cr2);
    ck_assert_uint_eq(other.cpu->sysenter_eip, cpu->sysenter_eip);
    ck_assert_uint_eq(other.cpu->efer, cpu->efer);
    ck_assert_uint_eq(other.cpu->hflags & (HF_LMA | HF_CS64), HF_LMA | HF_CS64);
    ck_assert_uint_eq(cpu_vmstate.min_version, 4);
    vm_writer_free(&w);
    pm_teardown(&other);
}
END_TEST

static Suite *longmode_suite(void)
{
    Suite *s = suite_create("longmode");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_efer_writes);
    tcase_add_test(tc, test_activation);
    tcase_add_test(tc, test_lm_msrs);
    tcase_add_test(tc, test_descriptor_tables);
    tcase_add_test(tc, test_mov_cr_64);
    tcase_add_test(tc, test_mov_dr_64);
    tcase_add_test(tc, test_mov_cr8);
    tcase_add_test(tc, test_init_and_reset_leave_long_mode);
    tcase_add_test(tc, test_null_ss);
    tcase_add_test(tc, test_prefetchw);
    tcase_add_test(tc, test_interrupt_inner);
    tcase_add_test(tc, test_interrupt_same_level_and_ist);
    tcase_add_test(tc, test_interrupt_checks);
    tcase_add_test(tc, test_double_fault_in_lm);
    tcase_add_test(tc, test_iret_to_compat);
    tcase_add_test(tc, test_far_transfers);
    tcase_add_test(tc, test_call_gate64);
    tcase_add_test(tc, test_syscall_sysret);
    tcase_add_test(tc, test_syscall_checks);
    tcase_add_test(tc, test_syscall_amd);
    tcase_add_test(tc, test_cpuid_syscall_bit);
    tcase_add_test(tc, test_sysenter_lm);
    tcase_add_test(tc, test_vmstate_lm_msrs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(longmode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
