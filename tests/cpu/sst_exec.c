/*
 * Load a recorded test into popek's CPU, run it, compare (see sst_exec.h).
 */
#include "tests/cpu/sst_exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough for a REP string instruction over CX <= 127 elements (fixture
 * README: CX is masked to 7 bits) however the CPU batches them. */
#define SST_MAX_STEPS 1024

/* FLAGS bits 12-15 are never loaded or compared (fixture README). */
#define SST_FLAGS_REAL_MASK 0x0fffu

/* IVT entries of #SS and #GP (real mode: 4 bytes per vector at 0). */
#define IVT_SS_ADDR (EXC_SS * 4u)
#define IVT_GP_ADDR (EXC_GP * 4u)

/* Where each MOO register lives in CPUState: a GPR index or a segment. */
typedef struct SstRegLoc {
    int8_t gpr;   /* R_* or -1 */
    int8_t seg;   /* SEG_* or -1 */
} SstRegLoc;

static const SstRegLoc reg_loc[MOO_NREGS] = {
    [MOO_AX] = {R_EAX, -1}, [MOO_BX] = {R_EBX, -1}, [MOO_CX] = {R_ECX, -1},
    [MOO_DX] = {R_EDX, -1}, [MOO_CS] = {-1, SEG_CS}, [MOO_SS] = {-1, SEG_SS},
    [MOO_DS] = {-1, SEG_DS}, [MOO_ES] = {-1, SEG_ES}, [MOO_SP] = {R_ESP, -1},
    [MOO_BP] = {R_EBP, -1}, [MOO_SI] = {R_ESI, -1}, [MOO_DI] = {R_EDI, -1},
    [MOO_IP] = {-1, -1}, [MOO_FLAGS] = {-1, -1},
};

static const char *const gpr_names[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
static const char *const seg_names[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS"};

static void note(SstResult *r, const char *fmt, ...)
{
    size_t used = strlen(r->other);
    if (used + 1 >= sizeof(r->other)) {
        return;
    }
    if (used) {
        r->other[used++] = ';';
        r->other[used++] = ' ';
        r->other[used] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->other + used, sizeof(r->other) - used, fmt, ap);
    va_end(ap);
}

/* CPUHooks.on_exception: remember which vectors the CPU delivered. */
static void sst_on_exception(void *opaque, CPUState *cpu, int vector, uint32_t error_code,
                             bool is_hw_irq)
{
    SstMachine *m = opaque;
    if (m->nvectors < SST_MAX_VECTORS) {
        m->vectors[m->nvectors] = vector;
    }
    m->nvectors++;
}

bool sst_machine_init(SstMachine *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (!phys_init(&m->phys, SST_RAM_SIZE)) {
        snprintf(err, errlen, "cannot create %u MiB of guest RAM", SST_RAM_SIZE >> 20);
        return false;
    }
    /* calloc'd, so untouched pages stay unbacked. */
    m->expect = calloc(SST_RAM_SIZE, 1);
    m->listed = calloc(SST_RAM_SIZE, 1);
    if (!m->expect || !m->listed) {
        sst_machine_destroy(m);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    ioport_init(&m->io);
    cpu_init(&m->cpu, &m->phys, &m->io);
    m->cpu.hooks.observer = m;
    m->cpu.hooks.on_exception = sst_on_exception;
    return true;
}

void sst_machine_destroy(SstMachine *m)
{
    if (m->phys.ram) {
        phys_destroy(&m->phys);
    }
    free(m->expect);
    free(m->listed);
    memset(m, 0, sizeof(*m));
}

/* Store a state's RAM bytes straight into guest RAM (the machine maps
 * nothing else, so every address below 16 MiB is plain RAM). */
static void write_ram(SstMachine *m, const MooFile *f, const MooState *s, SstResult *r)
{
    const MooRam *ram = moo_state_ram(f, s);
    for (uint32_t i = 0; i < s->ram_count; i++) {
        if (ram[i].addr < SST_RAM_SIZE) {
            /* Through the physical map, so a byte of cached decoded code
             * from an earlier test is invalidated. */
            phys_write(&m->phys, ram[i].addr, ram[i].value, 1);
        } else {
            note(r, "RAM address %#x beyond 16 MiB", ram[i].addr);
        }
    }
}

static void clear_ram(SstMachine *m, const MooFile *f, const MooState *s)
{
    const MooRam *ram = moo_state_ram(f, s);
    for (uint32_t i = 0; i < s->ram_count; i++) {
        if (ram[i].addr < SST_RAM_SIZE) {
            phys_write(&m->phys, ram[i].addr, 0, 1);
        }
    }
}

/* Real mode from RESET: segment bases are selector << 4 with a 64 KiB
 * limit (SDM Vol.3 20.1.1); FLAGS bits 12-15 stay clear. */
static void load_registers(CPUState *cpu, const MooRegs *regs)
{
    for (int i = 0; i < MOO_NREGS; i++) {
        if (reg_loc[i].gpr >= 0) {
            cpu->regs[reg_loc[i].gpr] = regs->value[i];
        } else if (reg_loc[i].seg >= 0) {
            seg_load_real(cpu, reg_loc[i].seg, regs->value[i]);
        }
    }
    cpu_update_mode(cpu);
    cpu->eip = regs->value[MOO_IP];
    cpu->next_eip = cpu->eip;
    cpu_set_eflags(cpu, regs->value[MOO_FLAGS] & SST_FLAGS_REAL_MASK, 0xffffffffu);
}

static void read_registers(CPUState *cpu, uint16_t got[MOO_NREGS])
{
    for (int i = 0; i < MOO_NREGS; i++) {
        if (reg_loc[i].gpr >= 0) {
            got[i] = (uint16_t)cpu->regs[reg_loc[i].gpr];
        } else if (reg_loc[i].seg >= 0) {
            got[i] = cpu->seg[reg_loc[i].seg].selector;
        }
    }
    got[MOO_IP] = (uint16_t)cpu->eip;
    got[MOO_FLAGS] = (uint16_t)cpu_get_eflags(cpu);
}

/* State a 16-bit real-mode instruction must not touch, beyond the 14
 * registers the test lists. */
static void check_hidden_state(CPUState *cpu, bool want_halt, SstResult *r)
{
    for (int g = 0; g < 8; g++) {
        if (cpu->regs[g] >> 16) {
            note(r, "%s upper half %#x", gpr_names[g], cpu->regs[g] >> 16);
        }
    }
    if (cpu->eip >> 16) {
        note(r, "EIP %#x beyond 16 bits", cpu->eip);
    }
    uint32_t eflags = cpu_get_eflags(cpu);
    if (eflags >> 16) {
        note(r, "EFLAGS %#x has bits above 15", eflags);
    }
    for (int s = 0; s < SEG_COUNT; s++) {
        const SegmentCache *sc = &cpu->seg[s];
        if (sc->base != (uint32_t)sc->selector << 4 || sc->limit != 0xffff) {
            note(r, "%s base %#x limit %#x for selector %#x", seg_names[s], sc->base, sc->limit,
                 sc->selector);
        }
    }
    if (cpu->cr0 & CR0_PE) {
        note(r, "CR0.PE set");
    }
    if (cpu->halted != want_halt) {
        note(r, want_halt ? "not halted after HLT" : "halted");
    }
    if (cpu->triple_fault) {
        note(r, "triple fault");
    }
}

static void compare_registers(const MooFile *f, const MooTest *t, const SstPlan *plan,
                              SstResult *r)
{
    for (int i = 0; i < MOO_NREGS; i++) {
        bool changed = t->final.regs.present & (1u << i);
        r->want[i] = changed ? t->final.regs.value[i] : t->init.regs.value[i];
        r->cmp_mask[i] = 0xffff;
        /* RMSK: undefined register bits, file-wide or per test (format doc). */
        if (f->file_mask.present & (1u << i)) {
            r->cmp_mask[i] &= f->file_mask.value[i];
        }
        if (t->final.mask.present & (1u << i)) {
            r->cmp_mask[i] &= t->final.mask.value[i];
        }
    }
    if (!plan->hlt_under_test) {
        r->want[MOO_IP] = (uint16_t)(r->want[MOO_IP] - 1);
    }
    r->cmp_mask[MOO_FLAGS] &= plan->flags_mask & SST_FLAGS_REAL_MASK;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (plan->ignore_regs & (1u << i)) {
            r->cmp_mask[i] = 0;
        }
    }
    for (int i = 0; i < MOO_NREGS; i++) {
        if ((r->want[i] ^ r->got[i]) & r->cmp_mask[i]) {
            r->reg_diff |= 1u << i;
        }
    }
}

/*
 * Where the FLAGS word pushed by the recorded exception starts.  The word
 * is at SS:SP-2; EXCP gives that address rounded down to even when SP is
 * odd (so in every odd-SP exception test of the suite), so take SS:SP-2
 * when it matches.
 */
static uint32_t pushed_flags_addr(const MooTest *t)
{
    const uint16_t *v = t->init.regs.value;
    uint32_t at = ((uint32_t)v[MOO_SS] << 4) + ((uint32_t)(v[MOO_SP] - 2) & 0xffff);
    return (at & ~1u) == t->flag_addr ? at : t->flag_addr;
}

/* Bits of the byte at addr that are compared: all, except the undefined
 * flags in the FLAGS word an exception pushed. */
static uint8_t byte_mask(const MooTest *t, const SstPlan *plan, uint32_t addr)
{
    if (!t->has_exception) {
        return 0xff;
    }
    uint32_t flags_at = pushed_flags_addr(t);
    if (addr == flags_at) {
        return (uint8_t)plan->pushed_flags_mask;
    }
    if (addr == flags_at + 1) {
        return (uint8_t)(plan->pushed_flags_mask >> 8);
    }
    return 0xff;
}

/* Mark every listed address with its expected value: the final value if
 * the test lists one, else the initial value (unchanged bytes are left
 * out of the final state). */
static void expect_state(SstMachine *m, const MooFile *f, const MooState *s)
{
    const MooRam *ram = moo_state_ram(f, s);
    for (uint32_t i = 0; i < s->ram_count; i++) {
        if (ram[i].addr < SST_RAM_SIZE) {
            m->expect[ram[i].addr] = ram[i].value;
            m->listed[ram[i].addr] = 1;
        }
    }
}

static uint8_t initial_value(const MooFile *f, const MooTest *t, uint32_t addr)
{
    const MooRam *ram = moo_state_ram(f, &t->init);
    for (uint32_t i = 0; i < t->init.ram_count; i++) {
        if (ram[i].addr == addr) {
            return ram[i].value;
        }
    }
    return 0;
}

/* Compare the listed addresses of one state, each once (listed[] is
 * cleared as it is visited). */
static void compare_state_ram(SstMachine *m, const MooFile *f, const MooTest *t,
                              const MooState *s, const SstPlan *plan, SstResult *r)
{
    const MooRam *ram = moo_state_ram(f, s);
    for (uint32_t i = 0; i < s->ram_count; i++) {
        uint32_t a = ram[i].addr;
        if (a >= SST_RAM_SIZE || !m->listed[a]) {
            continue;
        }
        m->listed[a] = 0;
        uint8_t mask = byte_mask(t, plan, a);
        uint8_t got = m->phys.ram[a];
        if (!((got ^ m->expect[a]) & mask)) {
            continue;
        }
        if (r->nmem < SST_MAX_MEMDIFF) {
            r->mem[r->nmem++] = (SstMemDiff){a, initial_value(f, t, a), m->expect[a], got, mask};
        }
        r->nmem_total++;
    }
}

/* Whether the state lists a byte in [addr, addr + len). */
static bool lists_range(const MooFile *f, const MooState *s, uint32_t addr, uint32_t len)
{
    const MooRam *ram = moo_state_ram(f, s);
    for (uint32_t i = 0; i < s->ram_count; i++) {
        if (ram[i].addr - addr < len) {
            return true;
        }
    }
    return false;
}

void sst_run_test(SstMachine *m, const MooFile *f, const MooTest *t, const SstPlan *plan,
                  SstResult *r)
{
    CPUState *cpu = &m->cpu;
    memset(r, 0, sizeof(*r));
    m->nvectors = 0;

    cpu_reset(cpu);
    write_ram(m, f, &t->init, r);
    bool alias = plan->alias_ss_gp && !lists_range(f, &t->init, IVT_SS_ADDR, 4) &&
                 !lists_range(f, &t->final, IVT_SS_ADDR, 4);
    if (alias) {
        memcpy(m->phys.ram + IVT_SS_ADDR, m->phys.ram + IVT_GP_ADDR, 4);
    }
    load_registers(cpu, &t->init.regs);

    uint16_t start_cs = cpu->seg[SEG_CS].selector;
    uint32_t start_ip = cpu->eip;
    do {
        cpu_step(cpu);
        r->steps++;
    } while (plan->rep_string && m->nvectors == 0 && !cpu->halted && !cpu->triple_fault &&
             cpu->seg[SEG_CS].selector == start_cs && cpu->eip == start_ip &&
             r->steps < SST_MAX_STEPS);

    read_registers(cpu, r->got);
    compare_registers(f, t, plan, r);
    check_hidden_state(cpu, plan->hlt_under_test, r);

    expect_state(m, f, &t->init);
    expect_state(m, f, &t->final);
    compare_state_ram(m, f, t, &t->final, plan, r);
    compare_state_ram(m, f, t, &t->init, plan, r);

    clear_ram(m, f, &t->init);
    clear_ram(m, f, &t->final);
    if (alias) {
        memset(m->phys.ram + IVT_SS_ADDR, 0, 4);
    }
    r->nvectors = m->nvectors < SST_MAX_VECTORS ? m->nvectors : SST_MAX_VECTORS;
    memcpy(r->vectors, m->vectors, sizeof(r->vectors));
    r->pass = !r->reg_diff && !r->other[0] && r->nmem_total == 0;
}
