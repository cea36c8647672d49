/*
 * Traces.  The exec hook runs before each instruction: it prints the
 * address, the bytes and capstone's disassembly, then (cpu) the registers.
 * Guest code bytes are read through mmu_debug_translate, which neither
 * faults nor sets accessed bits, so tracing never changes what the guest
 * sees, and nothing in a trace depends on the host (no pointers, no host
 * time), so a deterministic (-icount) run traces the same bytes every time.
 *
 * Addresses are 64-bit: in long mode (EFER.LMA) linear addresses and RIP
 * print with 16 hex digits as QEMU's x86_64 logs print them, the registers
 * of -d cpu,delta are RAX..R15, and -dfilter and -dtrigger take addresses
 * above 4 GiB; outside long mode the output is the 32-bit one.
 *
 * in_asm: the interpreter has no translation blocks, so it prints each
 * instruction the first time it runs (the first time this physical address,
 * code size and these bytes are seen), grouping consecutive new
 * instructions under one "IN:" header the way QEMU prints a block.
 *
 * The window (-dstart, -dtrigger, -dcount) counts instructions with the
 * CPU's instruction counter, so it is the same under any filter, and
 * applies to every category: port and interrupt lines outside it are not
 * printed either.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mem.h"
#include "frontend/cpudump.h"
#include "frontend/trace.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/disas.h"
#include "translator/translator.h"

#define TRACE_SEEN_EMPTY   UINT64_MAX
#define TRACE_SEEN_INITIAL 4096u

static const struct {
    const char *name;
    unsigned bits;
    const char *help;
} trace_names[] = {
    {"exec", TRACE_EXEC, "each executed instruction with its disassembly"},
    {"in_asm", TRACE_IN_ASM, "guest code the first time it runs, in blocks"},
    {"out_asm", TRACE_OUT_ASM, "host code of each block the translator makes"},
    {"cpu", TRACE_CPU, "registers and flags before each traced instruction"},
    {"delta", TRACE_CPU_DELTA, "with cpu: only the registers that changed"},
    {"int", TRACE_INT, "interrupts and exceptions: vector, error code, CR2"},
    {"mmu", TRACE_MMU, "page faults: linear address and decoded error code"},
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
        errno = 0;
        unsigned long long lo = strtoull(w, &end, 0), hi;
        if (end == w || *w == '-') {
            return false;
        }
        if (!strncmp(end, "..", 2)) {
            hi = strtoull(end + 2, &end, 0);
        } else if (*end == '+') {
            unsigned long long len = strtoull(end + 1, &end, 0);
            if (len == 0 || len - 1 > UINT64_MAX - lo) {
                return false;
            }
            hi = lo + len - 1;
        } else if (*end == '-') {
            unsigned long long len = strtoull(end + 1, &end, 0);
            hi = lo;
            lo = lo >= len ? lo - len + 1 : 0;
        } else {
            hi = lo;
        }
        if (*end != '\0' || errno == ERANGE || hi < lo) {
            return false;
        }
        t->ranges[t->nranges++] = (TraceRange){lo, hi};
    }
    return t->nranges > 0;
}

void trace_set_window(Trace *t, uint64_t start, uint64_t count, bool has_trigger, uint64_t trigger)
{
    t->start_insn = start;
    t->max_insns = count;
    t->has_trigger = has_trigger;
    t->trigger = trigger;
}

static bool trace_in_filter(const Trace *t, uint64_t lin)
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

/*
 * Whether the window is open now.  at_insn: called before the instruction
 * at linear address lin (only then can a trigger fire); otherwise for an
 * event (port access, interrupt) of the current instruction.
 */
static bool trace_window(Trace *t, const CPUState *cpu, bool at_insn, uint64_t lin)
{
    if (!t->open) {
        if (cpu->icount < t->start_insn || (t->has_trigger && (!at_insn || lin != t->trigger))) {
            return false;
        }
        t->open = true;
        /* Without a trigger the window opened at -dstart, whether or not an
         * instruction hook was there to see it. */
        t->open_icount = t->has_trigger ? cpu->icount : t->start_insn;
    }
    return !t->max_insns || cpu->icount - t->open_icount < t->max_insns;
}

/* Whether the window has opened and closed for good. */
static bool trace_window_over(const Trace *t, const CPUState *cpu)
{
    return t->open && t->max_insns && cpu->icount - t->open_icount >= t->max_insns;
}

static const char *const reg_names[CPU_NB_REGS] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP",
                                                   "ESI", "EDI", "R8",  "R9",  "R10", "R11",
                                                   "R12", "R13", "R14", "R15"};
static const char *const reg_names64[8] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI"};

/* -d cpu: the whole state in QEMU's layout (frontend/cpudump.h); with
 * delta, after the first dump, one line of the registers that changed:
 * in long mode all sixteen at 64 bits (RAX..R15, RFL), else the eight
 * 32-bit ones (EAX..EDI, EFL). */
static void trace_regs(Trace *t, CPUState *cpu)
{
    uint32_t eflags = cpu_get_eflags(cpu);
    bool delta = (t->categories & TRACE_CPU_DELTA) && t->traced > 1;
    bool lma = (cpu->efer & EFER_LMA) != 0;
    if (!delta) {
        char dump[CPUDUMP_MAX];
        cpudump_format(cpu, dump, sizeof(dump));
        fputs(dump, t->out);
    }
    int printed = 0;
    for (int r = 0; r < (lma ? CPU_NB_REGS : 8); r++) {
        uint64_t now = lma ? cpu->regs[r] : (uint32_t)cpu->regs[r];
        uint64_t before = lma ? t->prev_regs[r] : (uint32_t)t->prev_regs[r];
        if (delta && now != before) {
            if (lma) {
                fprintf(t->out, "%s%s=%016llx", printed++ ? " " : "  ",
                        r < 8 ? reg_names64[r] : reg_names[r], (unsigned long long)now);
            } else {
                fprintf(t->out, "%s%s=%08x", printed++ ? " " : "  ", reg_names[r], (uint32_t)now);
            }
        }
    }
    for (int r = 0; r < CPU_NB_REGS; r++) {
        t->prev_regs[r] = cpu->regs[r];
    }
    if (delta && eflags != t->prev_eflags) {
        fprintf(t->out, "%s%s=%08x", printed++ ? " " : "  ", lma ? "RFL" : "EFL", eflags);
    }
    t->prev_eflags = eflags;
    if (printed) {
        fputc('\n', t->out);
    }
}

/* Copy up to len code bytes at lin without side effects; returns how many
 * were readable, and the physical address of the first in *phys.  The hook
 * runs before every instruction, so this walks the page tables once per
 * 4 KiB page the instruction touches (not once per byte) and copies RAM and
 * ROM directly. */
static int trace_code_bytes(CPUState *cpu, uint64_t lin, int len, uint8_t *bytes, uint32_t *phys)
{
    int n = 0;
    while (n < len) {
        uint64_t at = lin_next(cpu, lin, (uint32_t)n);
        uint32_t p;
        if (!mmu_debug_translate(cpu, at, &p)) {
            break;
        }
        if (n == 0) {
            *phys = p;
        }
        int room = 0x1000 - (int)(at & 0xfff);
        int chunk = len - n < room ? len - n : room;
        bool writable;
        const uint8_t *host = phys_host_ptr(cpu->phys, p, (uint32_t)chunk, &writable);
        for (int i = 0; i < chunk; i++) {
            bytes[n + i] = host ? host[i] : (uint8_t)phys_read(cpu->phys, p + (uint32_t)i, 1);
        }
        n += chunk;
    }
    return n;
}

/*
 * One instruction.  exec: CS:EIP, the bytes, the disassembly.  in_asm (as
 * QEMU prints it): the linear address and the disassembly, so the two are
 * told apart when both are on.  In long mode both addresses have 16 hex
 * digits (QEMU's x86_64 width).
 */
static void trace_print_insn(Trace *t, const CPUState *cpu, uint64_t lin, const uint8_t *bytes,
                             int n, bool in_asm)
{
    char hex[3 * INSN_MAX_LEN + 1] = "";
    for (int i = 0; i < n; i++) {
        snprintf(hex + 3 * i, 4, "%02x ", bytes[i]);
    }
    cs_insn *ci = NULL;
    csh handle = (csh)t->cs_handle;
    cs_option(handle, CS_OPT_MODE, disas_cs_mode(cpu_decode_mode(cpu->hflags)));
    size_t count = cs_disasm(handle, bytes, (size_t)n, cpu->eip, 1, &ci);
    const char *mnemonic = count ? ci->mnemonic : "(bad)";
    const char *operands = count ? ci->op_str : "";
    const char *space = operands[0] ? " " : "";
    bool lma = (cpu->efer & EFER_LMA) != 0;
    if (in_asm && lma) {
        fprintf(t->out, "0x%016llx:  %s%s%s\n", (unsigned long long)lin, mnemonic, space, operands);
    } else if (in_asm) {
        fprintf(t->out, "0x%08x:  %s%s%s\n", (uint32_t)lin, mnemonic, space, operands);
    } else if (lma) {
        fprintf(t->out, "%04x:%016llx  %-30s %s%s%s\n", cpu->seg[SEG_CS].selector,
                (unsigned long long)cpu->eip, hex, mnemonic, space, operands);
    } else {
        fprintf(t->out, "%04x:%08x  %-30s %s%s%s\n", cpu->seg[SEG_CS].selector, (uint32_t)cpu->eip,
                hex, mnemonic, space, operands);
    }
    if (count) {
        cs_free(ci, count);
    }
}

/* ---- in_asm: the set of instructions already shown ---- */

static size_t seen_slot(uint64_t key, size_t mask)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 29;
    return (size_t)key & mask;
}

static bool seen_grow(TraceSeen *s)
{
    size_t cap = s->keys ? (s->mask + 1) * 2 : TRACE_SEEN_INITIAL;
    uint64_t *keys = malloc(cap * sizeof(*keys));
    if (!keys) {
        return false;
    }
    memset(keys, 0xff, cap * sizeof(*keys));
    for (size_t i = 0; s->keys && i <= s->mask; i++) {
        if (s->keys[i] != TRACE_SEEN_EMPTY) {
            size_t j = seen_slot(s->keys[i], cap - 1);
            while (keys[j] != TRACE_SEEN_EMPTY) {
                j = (j + 1) & (cap - 1);
            }
            keys[j] = s->keys[i];
        }
    }
    free(s->keys);
    s->keys = keys;
    s->mask = cap - 1;
    return true;
}

/* Add key; returns false if it was already there. */
static bool seen_insert(TraceSeen *s, uint64_t key)
{
    if ((!s->keys || s->used * 2 >= s->mask + 1) && !seen_grow(s)) {
        return false; /* out of host memory: stop showing new code */
    }
    size_t j = seen_slot(key, s->mask);
    while (s->keys[j] != TRACE_SEEN_EMPTY) {
        if (s->keys[j] == key) {
            return false;
        }
        j = (j + 1) & s->mask;
    }
    s->keys[j] = key;
    s->used++;
    return true;
}

/* The same bytes at the same physical address decode differently in each
 * code size (DECODE_16/32/64), so the mode is part of the key. */
static uint64_t seen_key(uint32_t phys, int decode_mode, const uint8_t *bytes, int n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the bytes */
    for (int i = 0; i < n; i++) {
        h = (h ^ bytes[i]) * 0x100000001b3ull;
    }
    uint64_t key = (h << 34) | ((uint64_t)decode_mode << 32) | phys;
    return key == TRACE_SEEN_EMPTY ? key ^ (1ull << 34) : key;
}

static void trace_in_asm(Trace *t, CPUState *cpu, uint64_t lin, const uint8_t *bytes, int n,
                         uint32_t phys)
{
    int mode = cpu_decode_mode(cpu->hflags);
    if (n == 0 || !seen_insert(&t->seen, seen_key(phys, mode, bytes, n))) {
        t->in_block = false;
        return;
    }
    if (!t->in_block || t->block_next != lin) {
        fputs("----------------\nIN:\n", t->out);
    }
    trace_print_insn(t, cpu, lin, bytes, n, true);
    t->in_block = true;
    t->block_next = lin_next(cpu, lin, (uint32_t)n);
}

/* ---- hooks ---- */

static void trace_insn(void *opaque, CPUState *cpu, const Insn *insn)
{
    Trace *t = opaque;
    uint64_t lin = lin_next(cpu, cpu->seg[SEG_CS].base + cpu->eip, 0);
    if (!trace_window(t, cpu, true, lin)) {
        if (trace_window_over(t, cpu) && cpu->hooks.on_insn == trace_insn) {
            cpu->hooks.on_insn = NULL; /* nothing more to show: back to full speed */
        }
        return;
    }
    if (!trace_in_filter(t, lin)) {
        t->in_block = false;
        return;
    }
    t->traced++;
    /* The registers line describes the state before this instruction, that
     * is, after the previous traced one. */
    if (t->categories & TRACE_CPU) {
        trace_regs(t, cpu);
    }
    if (!(t->categories & (TRACE_EXEC | TRACE_IN_ASM))) {
        return;
    }
    uint8_t bytes[INSN_MAX_LEN];
    uint32_t phys = 0;
    int n = trace_code_bytes(cpu, lin, insn->len, bytes, &phys);
    if (t->categories & TRACE_IN_ASM) {
        trace_in_asm(t, cpu, lin, bytes, n, phys);
    }
    if (t->categories & TRACE_EXEC) {
        trace_print_insn(t, cpu, lin, bytes, n, false);
    }
}

/* Hex digits of addresses in event lines: 16 in long mode, as QEMU's
 * x86_64 logs print them, else 8. */
static int trace_addr_width(const CPUState *cpu)
{
    return (cpu->efer & EFER_LMA) ? 16 : 8;
}

/* The decoded #PF error code (SDM Vol.3 4.7). */
static void trace_page_fault(Trace *t, const CPUState *cpu, uint32_t error_code)
{
    int w = trace_addr_width(cpu);
    fprintf(t->out, "mmu: #PF lin=%0*llx err=%x (%s %s %s%s) at %04x:%0*llx cr3=%08llx\n", w,
            (unsigned long long)cpu->cr2, error_code,
            (error_code & PF_ERR_P) ? "protection" : "not-present",
            (error_code & PF_ERR_W) ? "write" : "read",
            (error_code & PF_ERR_U) ? "user" : "supervisor",
            (error_code & PF_ERR_RSVD) ? " reserved-bit" : "", cpu->seg[SEG_CS].selector, w,
            (unsigned long long)cpu->eip, (unsigned long long)cpu->cr3);
}

static void trace_exception(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                            bool is_hw_irq)
{
    Trace *t = opaque;
    if (!trace_window(t, cpu, false, 0)) {
        return;
    }
    if ((t->categories & TRACE_MMU) && !is_hw_irq && vector == EXC_PF) {
        trace_page_fault(t, cpu, error_code);
    }
    if (!(t->categories & TRACE_INT)) {
        return;
    }
    int w = trace_addr_width(cpu);
    if (is_hw_irq) {
        fprintf(t->out, "interrupt: IRQ vector 0x%02x at %04x:%0*llx icount=%llu\n", vector,
                cpu->seg[SEG_CS].selector, w, (unsigned long long)cpu->eip,
                (unsigned long long)cpu->icount);
    } else {
        fprintf(t->out, "exception: vector %d error 0x%x at %04x:%0*llx cr2=%0*llx icount=%llu\n",
                vector, error_code, cpu->seg[SEG_CS].selector, w, (unsigned long long)cpu->eip, w,
                (unsigned long long)cpu->cr2, (unsigned long long)cpu->icount);
    }
}

void trace_ioport(void *opaque, uint16_t port, uint32_t value, int size, int is_write)
{
    Trace *t = opaque;
    if (!trace_window(t, t->cpu, false, 0)) {
        return;
    }
    fprintf(t->out, "ioport: %s%d 0x%04x %s 0x%0*x\n", is_write ? "out" : "in", size * 8, port,
            is_write ? "<-" : "->", size * 2, value);
}

bool trace_start(Trace *t, CPUState *cpu, const char *path)
{
    t->cpu = cpu;
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
    /* A trigger is seen only from the instruction hook, so it needs it even
     * when no per-instruction category is on. */
    if ((t->categories & (TRACE_EXEC | TRACE_CPU | TRACE_IN_ASM)) || t->has_trigger) {
        cpu->hooks.on_insn = trace_insn;
    }
    if (t->categories & (TRACE_INT | TRACE_MMU)) {
        cpu->hooks.on_exception = trace_exception;
    }
    if ((t->categories & TRACE_OUT_ASM) && bt_of(cpu)) {
        bt_set_out_asm(bt_of(cpu), t->out);
    }
    return true;
}

void trace_stop(Trace *t)
{
    if (t->cpu && bt_of(t->cpu)) {
        bt_set_out_asm(bt_of(t->cpu), NULL);
    }
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
    free(t->seen.keys);
    t->seen = (TraceSeen){0};
}
