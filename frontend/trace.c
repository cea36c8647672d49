/*
 * Traces.  The exec hook runs before each instruction: it prints the
 * address, the bytes and capstone's disassembly, then (cpu) the registers.
 * Guest code bytes are read through mmu_debug_translate, which neither
 * faults nor sets accessed bits, so tracing never changes what the guest
 * sees.
 */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "frontend/trace.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

static const struct {
    const char *name;
    unsigned bits;
    const char *help;
} trace_names[] = {
    {"exec", TRACE_EXEC, "each executed instruction with its disassembly"},
    {"in_asm", TRACE_EXEC, "guest code as it runs (same as exec for the interpreter)"},
    {"cpu", TRACE_CPU, "registers and flags after each traced instruction"},
    {"delta", TRACE_CPU_DELTA, "with cpu: only the registers that changed"},
    {"int", TRACE_INT, "interrupts and exceptions: vector, error code, CR2"},
    {"ioport", TRACE_IOPORT, "port accesses with values"},
    {"guest_errors", TRACE_GUEST_ERRORS, "guest misbehaviour the machine noticed"},
    {"att", TRACE_ATT, "AT&T disassembly syntax"},
};

bool trace_parse_categories(Trace *t, const char *list, char *bad, size_t badlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "help")) {
            for (size_t i = 0; i < sizeof(trace_names) / sizeof(trace_names[0]); i++) {
                printf("%-13s %s\n", trace_names[i].name, trace_names[i].help);
            }
            exit(0);
        }
        bool found = false;
        for (size_t i = 0; i < sizeof(trace_names) / sizeof(trace_names[0]); i++) {
            if (!strcmp(w, trace_names[i].name)) {
                t->categories |= trace_names[i].bits;
                found = true;
            }
        }
        if (!found) {
            snprintf(bad, badlen, "%s", w);
            return false;
        }
    }
    return true;
}

bool trace_parse_filter(Trace *t, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (t->nranges == (int)(sizeof(t->ranges) / sizeof(t->ranges[0]))) {
            return false;
        }
        char *end;
        unsigned long lo = strtoul(w, &end, 0), hi;
        if (end == w) {
            return false;
        }
        if (!strncmp(end, "..", 2)) {
            hi = strtoul(end + 2, &end, 0);
        } else if (*end == '+') {
            unsigned long len = strtoul(end + 1, &end, 0);
            if (len == 0) {
                return false;
            }
            hi = lo + len - 1;
        } else if (*end == '-') {
            unsigned long len = strtoul(end + 1, &end, 0);
            hi = lo;
            lo = lo >= len ? lo - len + 1 : 0;
        } else {
            hi = lo;
        }
        if (*end != '\0' || hi < lo || hi > 0xffffffffUL) {
            return false;
        }
        t->ranges[t->nranges++] = (TraceRange){(uint32_t)lo, (uint32_t)hi};
    }
    return t->nranges > 0;
}

static bool trace_in_filter(const Trace *t, uint32_t lin)
{
    if (t->nranges == 0) {
        return true;
    }
    for (int i = 0; i < t->nranges; i++) {
        if (lin >= t->ranges[i].lo && lin <= t->ranges[i].hi) {
            return true;
        }
    }
    return false;
}

static const char *const reg_names[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};

static void trace_regs(Trace *t, CPUState *cpu)
{
    uint32_t eflags = cpu_get_eflags(cpu);
    bool delta = (t->categories & TRACE_CPU_DELTA) && t->traced > 1;
    int printed = 0;
    for (int r = 0; r < 8; r++) {
        if (!delta || cpu->regs[r] != t->prev_regs[r]) {
            fprintf(t->out, "%s%s=%08x", printed++ ? " " : "  ", reg_names[r], cpu->regs[r]);
        }
        t->prev_regs[r] = cpu->regs[r];
    }
    if (!delta || eflags != t->prev_eflags) {
        fprintf(t->out, "%sEFL=%08x", printed++ ? " " : "  ", eflags);
    }
    t->prev_eflags = eflags;
    if (printed) {
        fputc('\n', t->out);
    }
}

static void trace_insn(void *opaque, CPUState *cpu, const Insn *insn)
{
    Trace *t = opaque;
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    if (cpu->icount < t->start_insn || !trace_in_filter(t, lin) ||
        (t->max_insns && t->traced >= t->max_insns)) {
        return;
    }
    t->traced++;
    /* The registers line describes the state before this instruction, that
     * is, after the previous traced one. */
    if (t->categories & TRACE_CPU) {
        trace_regs(t, cpu);
    }
    if (!(t->categories & TRACE_EXEC)) {
        return;
    }
    uint8_t bytes[INSN_MAX_LEN];
    int n = 0;
    for (; n < insn->len; n++) {
        uint32_t phys;
        if (!mmu_debug_translate(cpu, lin + (uint32_t)n, &phys)) {
            break;
        }
        bytes[n] = (uint8_t)phys_read(cpu->phys, phys, 1);
    }
    char hex[3 * INSN_MAX_LEN + 1] = "";
    for (int i = 0; i < n; i++) {
        snprintf(hex + 3 * i, 4, "%02x ", bytes[i]);
    }
    cs_insn *ci = NULL;
    csh handle = (csh)t->cs_handle;
    cs_option(handle, CS_OPT_MODE, (cpu->hflags & HF_CS32) ? CS_MODE_32 : CS_MODE_16);
    size_t count = cs_disasm(handle, bytes, (size_t)n, cpu->eip, 1, &ci);
    fprintf(t->out, "%04x:%08x  %-30s %s %s\n", cpu->seg[SEG_CS].selector, cpu->eip, hex,
            count ? ci->mnemonic : "(bad)", count ? ci->op_str : "");
    if (count) {
        cs_free(ci, count);
    }
}

static void trace_exception(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                            bool is_hw_irq)
{
    Trace *t = opaque;
    if (is_hw_irq) {
        fprintf(t->out, "interrupt: IRQ vector 0x%02x at %04x:%08x\n", vector,
                cpu->seg[SEG_CS].selector, cpu->eip);
    } else {
        fprintf(t->out, "exception: vector %d error 0x%x at %04x:%08x cr2=%08x icount=%llu\n",
                vector, error_code, cpu->seg[SEG_CS].selector, cpu->eip, cpu->cr2,
                (unsigned long long)cpu->icount);
    }
}

void trace_ioport(void *opaque, uint16_t port, uint32_t value, int size, int is_write)
{
    Trace *t = opaque;
    fprintf(t->out, "ioport: %s%d 0x%04x %s 0x%0*x\n", is_write ? "out" : "in", size * 8, port,
            is_write ? "<-" : "->", size * 2, value);
}

bool trace_start(Trace *t, CPUState *cpu, const char *path)
{
    t->out = stderr;
    if (path) {
        t->out = fopen(path, "w");
        if (!t->out) {
            return false;
        }
    }
    setvbuf(t->out, NULL, _IOFBF, 1 << 16);
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &handle) != CS_ERR_OK) {
        return false;
    }
    if (t->categories & TRACE_ATT) {
        cs_option(handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    }
    t->cs_handle = (size_t)handle;
    t->cs_open = true;
    cpu->hooks.observer = t;
    if (t->categories & (TRACE_EXEC | TRACE_CPU)) {
        cpu->hooks.on_insn = trace_insn;
    }
    if (t->categories & TRACE_INT) {
        cpu->hooks.on_exception = trace_exception;
    }
    return true;
}

void trace_stop(Trace *t)
{
    if (t->cs_open) {
        csh handle = (csh)t->cs_handle;
        cs_close(&handle);
        t->cs_open = false;
    }
    if (t->out && t->out != stderr) {
        fclose(t->out);
    } else if (t->out) {
        fflush(t->out);
    }
    t->out = NULL;
}
