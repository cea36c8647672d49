/*
 * x87 control instructions and state images: FNINIT, FNCLEX, FLDCW,
 * FNSTCW, FNSTSW, FLDENV/FNSTENV, FRSTOR/FNSAVE, FXSAVE/FXRSTOR, and the
 * stack-management instructions FINCSTP, FDECSTP, FFREE(P), FNOP.
 *
 * Loads of an image read all of it before changing anything, and stores
 * check that the whole destination is writable before storing a byte, so a
 * fault leaves both the FPU and memory as they were.
 */
#include "cpu/fpu_internal.h"

/* Little-endian fields of an image. */
static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* ---- simple control and stack instructions ---- */

void fpu_op_fnop(CPUState *cpu, const Insn *insn, int arg)
{
}

/* FFREE ST(i) marks it empty; FFREEP (DF C0+i) also pops. */
void fpu_op_ffree(CPUState *cpu, const Insn *insn, int pop)
{
    fpu_set_tag(cpu, fpu_phys(cpu, insn->rm), TAG_EMPTY);
    if (pop) {
        fpu_pop(cpu);
    }
}

/* FINCSTP/FDECSTP rotate TOP without touching tags or contents. */
void fpu_op_fincstp(CPUState *cpu, const Insn *insn, int arg)
{
    cpu->fpu.top = (cpu->fpu.top + 1) & 7;
    fpu_set_c1(cpu, false);
}

void fpu_op_fdecstp(CPUState *cpu, const Insn *insn, int arg)
{
    cpu->fpu.top = (cpu->fpu.top - 1) & 7;
    fpu_set_c1(cpu, false);
}

void fpu_op_fninit(CPUState *cpu, const Insn *insn, int arg)
{
    fpu_init_state(cpu);
}

/* FNCLEX: exception flags, SF, ES and B; the condition codes stay. */
void fpu_op_fnclex(CPUState *cpu, const Insn *insn, int arg)
{
    cpu->fpu.fsw &= (uint16_t) ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

/* A control word as the FPU keeps it: reserved bits clear, bit 6 set. */
static uint16_t fcw_sanitize(uint16_t fcw)
{
    return (uint16_t)((fcw & ~FCW_RESERVED) | FCW_BIT6);
}

/* FLDCW: unmasking a flag already set makes it pending for the next
 * waiting instruction (SDM Vol.2 FLDCW); masking it withdraws it. */
void fpu_op_fldcw(CPUState *cpu, const Insn *insn, int arg)
{
    uint16_t fcw = (uint16_t)fpu_read_operand(cpu, insn, 2);
    cpu->fpu.fcw = fcw_sanitize(fcw);
    fpu_update_es(cpu);
}

void fpu_op_fnstcw(CPUState *cpu, const Insn *insn, int arg)
{
    fpu_write_operand(cpu, insn, 2, cpu->fpu.fcw);
}

void fpu_op_fnstsw_m(CPUState *cpu, const Insn *insn, int arg)
{
    fpu_write_operand(cpu, insn, 2, fpu_status_word(cpu));
}

void fpu_op_fnstsw_ax(CPUState *cpu, const Insn *insn, int arg)
{
    reg_write(cpu, R_EAX, 2, fpu_status_word(cpu));
}

/* ---- FNSTENV / FLDENV (SDM Vol.1 8.1.10, Figures 8-9 to 8-12) ---- */

/* Real-address and virtual-8086 mode use the real-mode layouts, which hold
 * 20/32-bit linear pointers instead of selector:offset. */
static bool env_real_format(const CPUState *cpu)
{
    return !(cpu->cr0 & CR0_PE) || (cpu->eflags & EFLAGS_VM);
}

static int env_size(const Insn *insn)
{
    return insn->opsize == 4 ? 28 : 14;
}

/* The reserved upper halves of the 32-bit layout read as FFFFh. */
static void env_store32(const CPUState *cpu, uint8_t *buf)
{
    const FPURegs *f = &cpu->fpu;
    put32(buf + 0, 0xffff0000u | f->fcw);
    put32(buf + 4, 0xffff0000u | fpu_status_word(cpu));
    put32(buf + 8, 0xffff0000u | fpu_tag_word(cpu));
    if (env_real_format(cpu)) {
        uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
        uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
        put32(buf + 12, 0xffff0000u | (ip & 0xffff));
        put32(buf + 16, ((ip & 0xffff0000u) >> 4) | (f->fop & 0x7ffu));
        put32(buf + 20, 0xffff0000u | (dp & 0xffff));
        put32(buf + 24, (dp & 0xffff0000u) >> 4);
    } else {
        put32(buf + 12, f->fip);
        put32(buf + 16, f->fcs | (uint32_t)(f->fop & 0x7ffu) << 16);
        put32(buf + 20, f->fdp);
        put32(buf + 24, 0xffff0000u | f->fds);
    }
}

static void env_store16(const CPUState *cpu, uint8_t *buf)
{
    const FPURegs *f = &cpu->fpu;
    put16(buf + 0, f->fcw);
    put16(buf + 2, fpu_status_word(cpu));
    put16(buf + 4, fpu_tag_word(cpu));
    if (env_real_format(cpu)) {
        uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
        uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
        put16(buf + 6, ip);
        put16(buf + 8, ((ip >> 16) & 0xf) << 12 | (f->fop & 0x7ffu));
        put16(buf + 10, dp);
        put16(buf + 12, ((dp >> 16) & 0xf) << 12);
    } else {
        put16(buf + 6, f->fip);
        put16(buf + 8, f->fcs);
        put16(buf + 10, f->fdp);
        put16(buf + 12, f->fds);
    }
}

static void env_store(const CPUState *cpu, const Insn *insn, uint8_t *buf)
{
    if (insn->opsize == 4) {
        env_store32(cpu, buf);
    } else {
        env_store16(cpu, buf);
    }
}

/* Pointers from a real-mode image are linear: keep them with selector 0
 * so that storing the image again reproduces them. */
static void env_load_pointers(CPUState *cpu, const Insn *insn, const uint8_t *buf)
{
    FPURegs *f = &cpu->fpu;
    bool real = env_real_format(cpu);
    if (insn->opsize == 4 && real) {
        f->fip = (get32(buf + 12) & 0xffff) | ((get32(buf + 16) >> 12) & 0xffff) << 16;
        f->fop = get32(buf + 16) & 0x7ff;
        f->fdp = (get32(buf + 20) & 0xffff) | ((get32(buf + 24) >> 12) & 0xffff) << 16;
        f->fcs = 0;
        f->fds = 0;
    } else if (insn->opsize == 4) {
        f->fip = get32(buf + 12);
        f->fcs = get16(buf + 16);
        f->fop = get16(buf + 18) & 0x7ff;
        f->fdp = get32(buf + 20);
        f->fds = get16(buf + 24);
    } else if (real) {
        f->fip = get16(buf + 6) | (uint32_t)(get16(buf + 8) >> 12) << 16;
        f->fop = get16(buf + 8) & 0x7ff;
        f->fdp = get16(buf + 10) | (uint32_t)(get16(buf + 12) >> 12) << 16;
        f->fcs = 0;
        f->fds = 0;
    } else {
        f->fip = get16(buf + 6);
        f->fcs = get16(buf + 8);
        f->fdp = get16(buf + 10);
        f->fds = get16(buf + 12);
    }
}

/*
 * Commit an environment image.  Only "empty" in the loaded tag word is
 * kept as such; the other tags follow the registers' contents.
 */
static void env_load(CPUState *cpu, const Insn *insn, const uint8_t *buf)
{
    bool wide = insn->opsize == 4;
    uint16_t fcw = get16(buf + 0);
    uint16_t fsw = get16(buf + (wide ? 4 : 2));
    uint16_t ftw = get16(buf + (wide ? 8 : 4));
    cpu->fpu.fcw = fcw_sanitize(fcw);
    cpu->fpu.fsw = fsw & (uint16_t)~FSW_TOP;
    cpu->fpu.top = (fsw & FSW_TOP) >> FSW_TOP_SHIFT;
    for (int phys = 0; phys < 8; phys++) {
        int tag = (ftw >> (2 * phys)) & 3;
        if (tag != TAG_EMPTY) {
            tag = fpu_tag_of(fpu_get_phys(cpu, phys));
        }
        fpu_set_tag(cpu, phys, tag);
    }
    env_load_pointers(cpu, insn, buf);
    fpu_update_es(cpu);
}

/* FNSTENV stores, then masks every exception (SDM Vol.2 FSTENV) so that a
 * handler can use the FPU; with all masked, nothing is left pending. */
void fpu_op_fnstenv(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[28];
    env_store(cpu, insn, buf);
    fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), env_size(insn), buf);
    cpu->fpu.fcw |= FCW_EXC_MASKS;
    fpu_update_es(cpu);
}

void fpu_op_fldenv(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[28];
    fpu_mem_read(cpu, insn->seg, insn_ea(cpu, insn), env_size(insn), buf);
    env_load(cpu, insn, buf);
}

/* ---- FNSAVE / FRSTOR: the environment then ST(0)..ST(7), 10 bytes each ---- */

void fpu_op_fnsave(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[28 + 80];
    int env = env_size(insn);
    env_store(cpu, insn, buf);
    for (int i = 0; i < 8; i++) {
        F80 v = fpu_get(cpu, i);
        memcpy(buf + env + 10 * i, &v, 10);
    }
    fpu_mem_write(cpu, insn->seg, insn_ea(cpu, insn), env + 80, buf);
    fpu_init_state(cpu);
}

void fpu_op_frstor(CPUState *cpu, const Insn *insn, int arg)
{
    uint8_t buf[28 + 80];
    int env = env_size(insn);
    fpu_mem_read(cpu, insn->seg, insn_ea(cpu, insn), env + 80, buf);
    uint16_t fsw = get16(buf + (insn->opsize == 4 ? 4 : 2));
    int top = (fsw & FSW_TOP) >> FSW_TOP_SHIFT;
    for (int i = 0; i < 8; i++) {
        F80 v = {0, 0};
        memcpy(&v, buf + env + 10 * i, 10);
        fpu_set_phys(cpu, (top + i) & 7, v);
    }
    env_load(cpu, insn, buf);
}

/* ---- FXSAVE / FXRSTOR (SDM Vol.2 FXSAVE, the legacy 512-byte layout) ---- */

#define FXSAVE_SIZE 512
#define FXSAVE_ST   32  /* ST(i) at 32 + 16 * i, in stack order */
#define FXSAVE_XMM  160 /* XMMi at 160 + 16 * i */
#define FXSAVE_USED 288 /* bytes 288..511 are reserved or free for software */
/* In 64-bit mode XMM8-15 follow, at 288 + 16 * (i - 8). */
#define FXSAVE_USED64 416

/* The bytes FXSAVE stores and FXRSTOR reads in the current mode. */
static int fxsave_used(const CPUState *cpu)
{
    return (cpu->hflags & HF_CS64) ? FXSAVE_USED64 : FXSAVE_USED;
}

/* The image must be 16-byte aligned (#GP(0) otherwise) and fit the segment
 * (in 64-bit mode: only FS's and GS's bases count, and no limit). */
static uint64_t fxsave_linear(CPUState *cpu, int seg, uint64_t offset, bool write)
{
    uint64_t base = (cpu->hflags & HF_CS64) && seg < SEG_FS ? 0 : cpu->seg[seg].base;
    if ((base + offset) & 15) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    return seg_translate(cpu, seg, offset, FXSAVE_SIZE, write);
}

/* Abridged tag: one bit per physical register, 1 = not empty. */
static uint8_t fxsave_abridged_tag(const CPUState *cpu)
{
    uint8_t tag = 0;
    for (int phys = 0; phys < 8; phys++) {
        if (fpu_tag_phys(cpu, phys) != TAG_EMPTY) {
            tag |= (uint8_t)(1u << phys);
        }
    }
    return tag;
}

/*
 * Only the defined fields are stored; the 6 pad bytes after each register
 * and bytes 288..511 are left as they were.  MXCSR is saved always, XMM0-7
 * only with CR4.OSFXSR=1, as Intel's processors do (SDM Vol.2 FXSAVE: "If
 * the OSFXSR bit in control register CR4 is not set, the FXSAVE
 * instruction may not save these registers"); FXRSTOR matches.
 */
/*
 * FXSAVE64 (REX.W in 64-bit mode) stores FPU IP and DP as 64-bit offsets
 * at 8 and 16 with no selectors; FXSAVE stores 32-bit offsets with FCS at
 * 12 and FDS at 20 (SDM Vol.2 FXSAVE, Tables 3-55 and 3-56).  popek keeps
 * 32 bits of each pointer (FPURegs.fip/fdp), so their upper halves are 0.
 */
void fpu_fxsave(CPUState *cpu, int seg, uint64_t offset, bool rex_w)
{
    const FPURegs *f = &cpu->fpu;
    uint64_t lin = fxsave_linear(cpu, seg, offset, true);
    uint8_t head[FXSAVE_ST];
    put16(head + 0, f->fcw);
    put16(head + 2, fpu_status_word(cpu));
    put16(head + 4, fxsave_abridged_tag(cpu));
    put16(head + 6, f->fop & 0x7ffu);
    put32(head + 8, f->fip);
    put32(head + 12, rex_w ? 0 : f->fcs);
    put32(head + 16, f->fdp);
    put32(head + 20, rex_w ? 0 : f->fds);
    put32(head + 24, f->mxcsr);
    put32(head + 28, FPU_MXCSR_MASK);
    fpu_probe_linear(cpu, lin, fxsave_used(cpu));
    fpu_write_linear(cpu, lin, FXSAVE_ST, head);
    for (int i = 0; i < 8; i++) {
        F80 v = fpu_get(cpu, i);
        uint8_t st[10];
        memcpy(st, &v, 10);
        fpu_write_linear(cpu, lin_next(cpu, lin, FXSAVE_ST + 16 * (uint32_t)i), 10, st);
    }
    if (cpu->cr4 & CR4_OSFXSR) {
        fpu_write_linear(cpu, lin_next(cpu, lin, FXSAVE_XMM), (int)sizeof(f->xmm), &f->xmm[0][0]);
        if (cpu->hflags & HF_CS64) {
            fpu_write_linear(cpu, lin + FXSAVE_USED, (int)sizeof(cpu->xmm_hi),
                             &cpu->xmm_hi[0][0]);
        }
    }
}

void fpu_fxrstor(CPUState *cpu, int seg, uint64_t offset, bool rex_w)
{
    FPURegs *f = &cpu->fpu;
    uint64_t lin = fxsave_linear(cpu, seg, offset, false);
    uint8_t img[FXSAVE_USED64];
    fpu_read_linear(cpu, lin, fxsave_used(cpu), img);
    uint32_t mxcsr = get32(img + 24);
    if (mxcsr & ~FPU_MXCSR_MASK) {
        cpu_raise_exception_err(cpu, EXC_GP, 0);
    }
    uint16_t fsw = get16(img + 2);
    f->fcw = fcw_sanitize(get16(img + 0));
    f->fsw = fsw & (uint16_t)~FSW_TOP;
    f->top = (fsw & FSW_TOP) >> FSW_TOP_SHIFT;
    f->fop = get16(img + 6) & 0x7ff;
    f->fip = get32(img + 8);
    f->fcs = rex_w ? 0 : get16(img + 12); /* FXRSTOR64: no selectors in the image */
    f->fdp = get32(img + 16);
    f->fds = rex_w ? 0 : get16(img + 20);
    f->mxcsr = mxcsr;
    for (int i = 0; i < 8; i++) {
        F80 v = {0, 0};
        memcpy(&v, img + FXSAVE_ST + 16 * i, 10);
        fpu_set_phys(cpu, (f->top + i) & 7, v);
    }
    /* Rebuild the full tags from the abridged ones and the contents. */
    for (int phys = 0; phys < 8; phys++) {
        bool valid = (img[4] >> phys) & 1;
        fpu_set_tag(cpu, phys, valid ? fpu_tag_of(fpu_get_phys(cpu, phys)) : TAG_EMPTY);
    }
    if (cpu->cr4 & CR4_OSFXSR) {
        memcpy(f->xmm, img + FXSAVE_XMM, sizeof(f->xmm));
        if (cpu->hflags & HF_CS64) {
            memcpy(cpu->xmm_hi, img + FXSAVE_USED, sizeof(cpu->xmm_hi));
        }
    }
    fpu_update_es(cpu);
}
