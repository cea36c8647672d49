/*
 * The CPU state in QEMU's dump layout (see cpudump.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "frontend/cpudump.h"

typedef struct Out {
    char *buf;
    size_t len;
    int used; /* what the whole dump needs so far */
} Out;

static void out_printf(Out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t at = (size_t)o->used < o->len ? (size_t)o->used : o->len;
    int n = vsnprintf(o->buf + at, o->len - at, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->used += n;
    }
}

/* The type of a system descriptor (S = 0), by its 4-bit type (SDM Vol.3 Table 3-2). */
static const char *const system_types[16] = {
    "Reserved",   "TSS16-avl",  "LDT",       "TSS16-busy", "CallGate16", "TaskGate",
    "IntGate16",  "TrapGate16", "Reserved",  "TSS32-avl",  "Reserved",   "TSS32-busy",
    "CallGate32", "Reserved",   "IntGate32", "TrapGate32",
};

static void dump_segment(Out *o, const CPUState *cpu, const char *name, const SegmentCache *sc)
{
    uint32_t a = sc->attr;
    if (cpu->efer & EFER_LMA) {
        out_printf(o, "%-3s=%04x %016llx %08x %08x", name, sc->selector,
                   (unsigned long long)sc->base, sc->limit, a & 0x00ffff00u);
    } else {
        out_printf(o, "%-3s=%04x %08x %08x %08x", name, sc->selector, (uint32_t)sc->base,
                   sc->limit, a & 0x00ffff00u);
    }
    if ((cpu->cr0 & CR0_PE) && (a & DESC_P)) {
        out_printf(o, " DPL=%u ", (a & DESC_DPL_MASK) >> DESC_DPL_SHIFT);
        if (!(a & DESC_S)) {
            out_printf(o, "%s", system_types[(a & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT]);
        } else if (a & DESC_CODE) {
            const char *kind = (cpu->efer & EFER_LMA) && (a & DESC_L) ? "CS64"
                               : (a & DESC_B)                         ? "CS32"
                                                                      : "CS16";
            out_printf(o, "%s [%c%c%c]", kind, (a & DESC_C) ? 'C' : '-',
                       (a & DESC_R) ? 'R' : '-', (a & DESC_A) ? 'A' : '-');
        } else {
            out_printf(o, "%s [%c%c%c]", (a & DESC_B) ? "DS  " : "DS16", (a & DESC_E) ? 'E' : '-',
                       (a & DESC_W) ? 'W' : '-', (a & DESC_A) ? 'A' : '-');
        }
    }
    out_printf(o, "\n");
}

int cpudump_format(const CPUState *cpu, char *buf, size_t len)
{
    static const char *const seg_names[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    Out o = {buf, len, 0};
    if (len) {
        buf[0] = '\0';
    }
    uint32_t efl = cpu_get_eflags(cpu);
    bool lma = (cpu->efer & EFER_LMA) != 0;
    if (lma) {
        /* IA-32e mode: QEMU's 64-bit layout, sixteen registers and RIP. */
        static const char *const names[CPU_NB_REGS] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI",
                                                       "RBP", "RSP", "R8 ", "R9 ", "R10", "R11",
                                                       "R12", "R13", "R14", "R15"};
        static const int order[CPU_NB_REGS] = {R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI,
                                               R_EBP, R_ESP, 8,     9,     10,    11,
                                               12,    13,    14,    15};
        for (int i = 0; i < CPU_NB_REGS; i++) {
            out_printf(&o, "%s=%016llx%s", names[i], (unsigned long long)cpu->regs[order[i]],
                       i % 4 == 3 ? "\n" : " ");
        }
    } else {
        uint32_t r[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (uint32_t)cpu->regs[i];
        }
        out_printf(&o, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", r[R_EAX], r[R_EBX], r[R_ECX],
                   r[R_EDX]);
        out_printf(&o, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", r[R_ESI], r[R_EDI], r[R_EBP],
                   r[R_ESP]);
    }
    if (lma) {
        out_printf(&o, "RIP=%016llx RFL=%08x", (unsigned long long)cpu->eip, efl);
    } else {
        out_printf(&o, "EIP=%08x EFL=%08x", (uint32_t)cpu->eip, efl);
    }
    out_printf(&o, " [%c%c%c%c%c%c%c] CPL=%u II=%d A20=%d SMM=0 HLT=%d\n",
               (efl & EFLAGS_DF) ? 'D' : '-', (efl & EFLAGS_OF) ? 'O' : '-',
               (efl & EFLAGS_SF) ? 'S' : '-', (efl & EFLAGS_ZF) ? 'Z' : '-',
               (efl & EFLAGS_AF) ? 'A' : '-', (efl & EFLAGS_PF) ? 'P' : '-',
               (efl & EFLAGS_CF) ? 'C' : '-', cpu->cpl, cpu->inhibit_irq ? 1 : 0,
               cpu->a20_mask == 0xffffffffu, cpu->halted ? 1 : 0);
    for (int s = 0; s < SEG_COUNT; s++) {
        dump_segment(&o, cpu, seg_names[s], &cpu->seg[s]);
    }
    dump_segment(&o, cpu, "LDT", &cpu->ldtr);
    dump_segment(&o, cpu, "TR", &cpu->tr);
    if (lma) {
        out_printf(&o, "GDT=     %016llx %08x\n", (unsigned long long)cpu->gdtr.base,
                   cpu->gdtr.limit);
        out_printf(&o, "IDT=     %016llx %08x\n", (unsigned long long)cpu->idtr.base,
                   cpu->idtr.limit);
    } else {
        out_printf(&o, "GDT=     %08x %08x\n", (uint32_t)cpu->gdtr.base, cpu->gdtr.limit);
        out_printf(&o, "IDT=     %08x %08x\n", (uint32_t)cpu->idtr.base, cpu->idtr.limit);
    }
    if (lma) {
        out_printf(&o, "CR0=%08x CR2=%016llx CR3=%016llx CR4=%08x\n", cpu->cr0,
                   (unsigned long long)cpu->cr2, (unsigned long long)cpu->cr3, cpu->cr4);
    } else {
        out_printf(&o, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", cpu->cr0, (uint32_t)cpu->cr2,
                   (uint32_t)cpu->cr3, cpu->cr4);
    }
    if (lma) {
        out_printf(&o, "DR0=%016llx DR1=%016llx DR2=%016llx DR3=%016llx \n",
                   (unsigned long long)cpu->dr[0], (unsigned long long)cpu->dr[1],
                   (unsigned long long)cpu->dr[2], (unsigned long long)cpu->dr[3]);
        out_printf(&o, "DR6=%016llx DR7=%016llx\n", (unsigned long long)cpu->dr[6],
                   (unsigned long long)cpu->dr[7]);
    } else {
        out_printf(&o, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x \n", (uint32_t)cpu->dr[0],
                   (uint32_t)cpu->dr[1], (uint32_t)cpu->dr[2], (uint32_t)cpu->dr[3]);
        out_printf(&o, "DR6=%08x DR7=%08x\n", (uint32_t)cpu->dr[6], (uint32_t)cpu->dr[7]);
    }
    out_printf(&o, "EFER=%016llx\n", (unsigned long long)cpu->efer);
    return o.used;
}
