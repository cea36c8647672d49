/*
 * gdb's view of the CPU registers.
 *
 * The first 32 registers are gdb's "org.gnu.gdb.i386.core" feature, in the
 * order gdb's i386 architecture numbers them (eax..edi, eip, eflags, the six
 * selectors, st0-st7, then the x87 control registers), so gdb recognises
 * them and 'info registers', 'x/i $pc' and 'display' work as for any i386
 * target.  Segment registers are shown as their selectors.  The system
 * registers follow in "org.popek.i386.sys", which gdb shows by name
 * ($cr0, $cr3, ...) without needing to understand them.
 *
 * Writes go through the CPU's own functions where the hardware has rules
 * (CR0, CR4, EFLAGS, selectors), so a debugger can only put the CPU in a
 * state it could reach itself.  Those functions may refuse a value with
 * #GP (a longjmp): here the longjmp is caught and the write refused.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "frontend/debugmem.h"
#include "frontend/gdbregs.h"
#include "softmmu/mmu.h"

enum {
    GREG_EAX = 0, /* .. GREG_EDI = 7, in encoding order */
    GREG_EIP = 8,
    GREG_EFLAGS,
    GREG_CS,
    GREG_SS,
    GREG_DS,
    GREG_ES,
    GREG_FS,
    GREG_GS,
    GREG_ST0, /* .. st7 */
    GREG_FCTRL = GREG_ST0 + 8,
    GREG_FSTAT,
    GREG_FTAG,
    GREG_FISEG,
    GREG_FIOFF,
    GREG_FOSEG,
    GREG_FOOFF,
    GREG_FOP,
    GREG_CR0,
    GREG_CR2,
    GREG_CR3,
    GREG_CR4,
    GREG_DR0, /* .. dr3 */
    GREG_DR6 = GREG_DR0 + 4,
    GREG_DR7,
    GREG_GDTR_BASE,
    GREG_GDTR_LIMIT,
    GREG_IDTR_BASE,
    GREG_IDTR_LIMIT,
    GREG_LDTR,
    GREG_TR,
    GREG_COUNT
};

const char gdbregs_target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "  <architecture>i386</architecture>\n"
    "  <feature name=\"org.gnu.gdb.i386.core\">\n"
    "    <flags id=\"i386_eflags\" size=\"4\">\n"
    "      <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
    "      <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "      <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
    "      <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "      <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
    "      <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "      <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
    "      <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "      <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
    "      <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "      <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
    "      <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    "      <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "    </flags>\n"
    "    <reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "    <reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "    <reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "    <reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "  </feature>\n"
    "  <feature name=\"org.popek.i386.sys\">\n"
    "    <flags id=\"i386_cr0\" size=\"4\">\n"
    "      <field name=\"PE\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"MP\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"EM\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"TS\" start=\"3\" end=\"3\"/>\n"
    "      <field name=\"ET\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"NE\" start=\"5\" end=\"5\"/>\n"
    "      <field name=\"WP\" start=\"16\" end=\"16\"/>\n"
    "      <field name=\"AM\" start=\"18\" end=\"18\"/>\n"
    "      <field name=\"NW\" start=\"29\" end=\"29\"/>\n"
    "      <field name=\"CD\" start=\"30\" end=\"30\"/>\n"
    "      <field name=\"PG\" start=\"31\" end=\"31\"/>\n"
    "    </flags>\n"
    "    <flags id=\"i386_cr4\" size=\"4\">\n"
    "      <field name=\"VME\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"PVI\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"TSD\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"DE\" start=\"3\" end=\"3\"/>\n"
    "      <field name=\"PSE\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"PAE\" start=\"5\" end=\"5\"/>\n"
    "      <field name=\"MCE\" start=\"6\" end=\"6\"/>\n"
    "      <field name=\"PGE\" start=\"7\" end=\"7\"/>\n"
    "      <field name=\"PCE\" start=\"8\" end=\"8\"/>\n"
    "      <field name=\"OSFXSR\" start=\"9\" end=\"9\"/>\n"
    "      <field name=\"OSXMMEXCPT\" start=\"10\" end=\"10\"/>\n"
    "    </flags>\n"
    "    <reg name=\"cr0\" bitsize=\"32\" type=\"i386_cr0\" group=\"system\"/>\n"
    "    <reg name=\"cr2\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"cr3\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"cr4\" bitsize=\"32\" type=\"i386_cr4\" group=\"system\"/>\n"
    "    <reg name=\"dr0\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"dr1\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"dr2\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"dr3\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"dr6\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "    <reg name=\"dr7\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "    <reg name=\"gdtr_base\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"gdtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "    <reg name=\"idtr_base\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "    <reg name=\"idtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "    <reg name=\"ldtr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "    <reg name=\"tr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "  </feature>\n"
    "</target>\n";

/* gdb's segment register order (cs ss ds es fs gs) to popek's (ES CS SS DS FS GS). */
static const int gdb_seg_order[6] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};

int gdbregs_count(void)
{
    return GREG_COUNT;
}

int gdbregs_size(int n)
{
    if (n < 0 || n >= GREG_COUNT) {
        return 0;
    }
    return (n >= GREG_ST0 && n < GREG_ST0 + 8) ? 10 : 4;
}

/* The x87 register that is ST(i) now (SDM Vol.1 8.1.2). */
static long double *fpu_st(CPUState *cpu, int i)
{
    return &cpu->fpu.st[(cpu->fpu.top + i) & 7];
}

static uint16_t fpu_status_word(const CPUState *cpu)
{
    return (uint16_t)((cpu->fpu.fsw & ~0x3800u) | ((cpu->fpu.top & 7u) << 11));
}

/* The 32-bit registers. */
static uint32_t read_reg32(CPUState *cpu, int n)
{
    if (n < 8) {
        return cpu->regs[n];
    }
    if (n >= GREG_CS && n <= GREG_GS) {
        return cpu->seg[gdb_seg_order[n - GREG_CS]].selector;
    }
    if (n >= GREG_DR0 && n < GREG_DR0 + 4) {
        return (uint32_t)cpu->dr[n - GREG_DR0];
    }
    switch (n) {
    case GREG_EIP: return cpu->eip;
    case GREG_EFLAGS: return cpu_get_eflags(cpu);
    case GREG_FCTRL: return cpu->fpu.fcw;
    case GREG_FSTAT: return fpu_status_word(cpu);
    case GREG_FTAG: return cpu->fpu.ftw;
    case GREG_FISEG: return cpu->fpu.fcs;
    case GREG_FIOFF: return cpu->fpu.fip;
    case GREG_FOSEG: return cpu->fpu.fds;
    case GREG_FOOFF: return cpu->fpu.fdp;
    case GREG_FOP: return cpu->fpu.fop;
    case GREG_CR0: return cpu->cr0;
    case GREG_CR2: return (uint32_t)cpu->cr2;
    case GREG_CR3: return (uint32_t)cpu->cr3;
    case GREG_CR4: return cpu->cr4;
    case GREG_DR6: return (uint32_t)cpu->dr[6];
    case GREG_DR7: return (uint32_t)cpu->dr[7];
    case GREG_GDTR_BASE: return cpu->gdtr.base;
    case GREG_GDTR_LIMIT: return cpu->gdtr.limit;
    case GREG_IDTR_BASE: return cpu->idtr.base;
    case GREG_IDTR_LIMIT: return cpu->idtr.limit;
    case GREG_LDTR: return cpu->ldtr.selector;
    case GREG_TR: return cpu->tr.selector;
    default: return 0;
    }
}

int gdbregs_read(CPUState *cpu, int n, uint8_t *buf)
{
    int size = gdbregs_size(n);
    if (size == 10) {
        /* The host's long double is the same 80-bit extended format. */
        memcpy(buf, fpu_st(cpu, n - GREG_ST0), 10);
    } else if (size == 4) {
        uint32_t v = read_reg32(cpu, n);
        memcpy(buf, &v, 4);
    }
    return size;
}

/*
 * Load a selector as the debugger asks: real and vm86 mode as the CPU
 * would; in protected mode from its descriptor, with no privilege checks
 * (the debugger is not the guest) but only a present code or data
 * descriptor, and a null selector only in DS, ES, FS, GS.
 */
static bool write_selector(CPUState *cpu, int seg, uint16_t sel)
{
    SegmentCache *sc = &cpu->seg[seg];
    if (sc->selector == sel) {
        return true; /* a 'G' packet rewrites every register: keep the hidden caches */
    }
    if (!(cpu->cr0 & CR0_PE) || (cpu->eflags & EFLAGS_VM)) {
        seg_load_real(cpu, seg, sel);
    } else if ((sel & 0xfffc) == 0) {
        if (seg == SEG_CS || seg == SEG_SS) {
            return false;
        }
        sc->selector = sel;
        sc->attr = 0;
        seg_update_check(sc);
    } else {
        uint32_t base = (sel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
        uint32_t limit = (sel & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
        uint32_t offset = sel & ~7u;
        uint64_t desc;
        if (offset + 7 > limit || debugmem_read_lin(cpu, base + offset, (uint8_t *)&desc, 8) < 8) {
            return false;
        }
        uint32_t hi = (uint32_t)(desc >> 32);
        if (!(hi & DESC_P) || !(hi & DESC_S)) {
            return false;
        }
        seg_cache_from_descriptor(sc, sel, desc);
    }
    if (seg == SEG_CS || seg == SEG_SS) {
        cpu_update_mode(cpu);
    }
    return true;
}

/* Run a CPU register write that may refuse the value with #GP. */
static bool guarded_write(CPUState *cpu, void (*write)(CPUState *, uint32_t), uint32_t value)
{
    /* cpu->jmp_env belongs to cpu_exec() only while it runs; between slices
     * it is free, and cpu_exec() sets it again on entry. */
    if (setjmp(cpu->jmp_env)) {
        cpu->exception_vector = -1;
        return false;
    }
    write(cpu, value);
    return true;
}

/* CR3 is 64 bits wide (long mode); gdb's register is 32. */
static void write_cr3_low(CPUState *cpu, uint32_t value)
{
    cpu_write_cr3(cpu, value);
}

static bool write_fpu(CPUState *cpu, int n, uint32_t v)
{
    switch (n) {
    case GREG_FCTRL: cpu->fpu.fcw = (uint16_t)v; break;
    case GREG_FSTAT:
        cpu->fpu.fsw = (uint16_t)(v & ~0x3800u);
        cpu->fpu.top = (uint8_t)((v >> 11) & 7);
        break;
    case GREG_FTAG: cpu->fpu.ftw = (uint16_t)v; break;
    case GREG_FISEG: cpu->fpu.fcs = (uint16_t)v; break;
    case GREG_FIOFF: cpu->fpu.fip = v; break;
    case GREG_FOSEG: cpu->fpu.fds = (uint16_t)v; break;
    case GREG_FOOFF: cpu->fpu.fdp = v; break;
    case GREG_FOP: cpu->fpu.fop = (uint16_t)(v & 0x7ff); break;
    default: return false;
    }
    return true;
}

static bool write_system(CPUState *cpu, int n, uint32_t v)
{
    if (n >= GREG_DR0 && n <= GREG_DR7) {
        cpu->dr[n == GREG_DR6 ? 6 : n == GREG_DR7 ? 7 : n - GREG_DR0] = v;
        mmu_debug_regs_changed(cpu);
        return true;
    }
    switch (n) {
    case GREG_CR0: return guarded_write(cpu, cpu_write_cr0, v);
    case GREG_CR2: cpu->cr2 = v; return true;
    case GREG_CR3: return guarded_write(cpu, write_cr3_low, v); /* PAE: PDPTE check */
    case GREG_CR4: return guarded_write(cpu, cpu_write_cr4, v);
    case GREG_GDTR_BASE: cpu->gdtr.base = v; return true;
    case GREG_GDTR_LIMIT: cpu->gdtr.limit = v & 0xffff; return true;
    case GREG_IDTR_BASE: cpu->idtr.base = v; return true;
    case GREG_IDTR_LIMIT: cpu->idtr.limit = v & 0xffff; return true;
    default: return read_reg32(cpu, n) == v; /* LDTR, TR: read-only here */
    }
}

bool gdbregs_write(CPUState *cpu, int n, const uint8_t *buf)
{
    int size = gdbregs_size(n);
    if (size == 10) {
        long double *st = fpu_st(cpu, n - GREG_ST0);
        memset(st, 0, sizeof(*st));
        memcpy(st, buf, 10);
        return true;
    }
    if (size != 4) {
        return false;
    }
    uint32_t v;
    memcpy(&v, buf, 4);
    if (n < 8) {
        cpu->regs[n] = v;
        return true;
    }
    if (n == GREG_EIP) {
        cpu->eip = v;
        cpu->next_eip = v;
        return true;
    }
    if (n == GREG_EFLAGS) {
        cpu_set_eflags(cpu, v, 0xffffffffu);
        cpu_update_mode(cpu);
        return true;
    }
    if (n >= GREG_CS && n <= GREG_GS) {
        return v <= 0xffff && write_selector(cpu, gdb_seg_order[n - GREG_CS], (uint16_t)v);
    }
    if (n >= GREG_FCTRL && n <= GREG_FOP) {
        return write_fpu(cpu, n, v);
    }
    return write_system(cpu, n, v);
}
