/*
 * The guest's x87 state on its way into and out of the host FPU, for the
 * x87 instructions translated code runs natively (translator/gen_fpu.c).
 *
 * The interpreter keeps the x87 state in CPUState.fpu: physical registers,
 * TOP apart from the status word, a full tag word.  Translated code moves
 * it into the host FPU with FRSTOR from an image in the 32-bit
 * protected-mode FNSAVE format (SDM Vol.1 8.1.10, Figure 8-9), built here,
 * and back with FNSAVE into the same image, read back here.  FNSAVE also
 * reinitializes the host FPU (control word 037Fh, all registers empty), so
 * after a save the host is as the SysV ABI wants it at every call; FRSTOR
 * and FNSAVE leave MXCSR and the XMM registers, which are the host's, alone.
 *
 * The registers, the status word (with TOP), the tags and the control
 * word come back from the image: a native FLDCW may have changed the
 * last, only ever to a word with every exception masked that the
 * interpreter would keep as it is (translator/gen_fpu.c); every other
 * instruction that loads one is a callout, which saves first.  The last-instruction registers (FIP,
 * FCS, FOP, FDP, FDS) are the host's own there, host addresses; translated code stores the guest's
 * values into CPUState.fpu after each instruction instead, as
 * cpu/fpu.c's fpu_note_insn does.
 *
 * Nothing in this file uses the x87: the images are copied byte by byte,
 * never as long double, so no C code runs x87 instructions while the
 * guest's state is live in the host FPU (the helpers are called through
 * the thunk after a save, or before a load).
 */
#include <string.h>

#include "cpu/fpu_internal.h"
#include "cpu/ops.h"
#include "translator/bt_internal.h"

/* Offsets in the 32-bit protected-mode FNSAVE image. */
enum {
    IMG_FCW = 0,
    IMG_FSW = 4,
    IMG_FTW = 8,
    IMG_FIP = 12,
    IMG_FCS = 16,
    IMG_FDP = 20,
    IMG_FDS = 24,
    IMG_ST = 28,
    IMG_SIZE = 108
};

_Static_assert(sizeof(((CPUState *)0)->bt_fpu_img) == IMG_SIZE, "FNSAVE image size");

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

bool bt_fpu_native_ok(const CPUState *cpu)
{
    return !(cpu->cr0 & (CR0_EM | CR0_TS)) && (cpu->fpu.fcw & FCW_EXC_MASKS) == FCW_EXC_MASKS &&
           !(cpu->fpu.fsw & FSW_ES);
}

void bt_fpu_to_image(CPUState *cpu)
{
    uint8_t *img = cpu->bt_fpu_img;
    memset(img, 0, IMG_SIZE);
    put32(img + IMG_FCW, 0xffff0000u | cpu->fpu.fcw);
    put32(img + IMG_FSW, 0xffff0000u | fpu_status_word(cpu));
    /* Only "empty" matters to FRSTOR: the hardware tags the others from
     * their contents. */
    put32(img + IMG_FTW, 0xffff0000u | cpu->fpu.ftw);
    for (int i = 0; i < 8; i++) {
        memcpy(img + IMG_ST + 10 * i, &cpu->fpu.st[fpu_phys(cpu, i)], 10);
    }
}

void bt_fpu_from_image(CPUState *cpu)
{
    const uint8_t *img = cpu->bt_fpu_img;
    uint16_t fsw = get16(img + IMG_FSW);
    uint16_t ftw = get16(img + IMG_FTW);
    cpu->fpu.fcw = (uint16_t)((get16(img + IMG_FCW) & ~FCW_RESERVED) | FCW_BIT6);
    cpu->fpu.top = (uint8_t)((fsw & FSW_TOP) >> FSW_TOP_SHIFT);
    cpu->fpu.fsw = (uint16_t)(fsw & ~FSW_TOP);
    for (int i = 0; i < 8; i++) {
        memcpy(&cpu->fpu.st[fpu_phys(cpu, i)], img + IMG_ST + 10 * i, 10);
    }
    /* Tags as cpu/fpu.c keeps them: empty, or what the contents call for. */
    for (int phys = 0; phys < 8; phys++) {
        int tag = (ftw >> (2 * phys)) & 3;
        if (tag != TAG_EMPTY) {
            tag = fpu_tag_of(fpu_get_phys(cpu, phys));
        }
        fpu_set_tag(cpu, phys, tag);
    }
}

/*
 * The first native x87 instruction of a stretch: build the image FRSTOR
 * loads next, or, when the guest's state may not run natively (CR0.EM or
 * TS set: #NM or #UD; an exception unmasked or pending: #MF or FERR# may
 * follow), run this instruction in the interpreter and leave translated
 * code after it.  The run loop goes on with a block starting at the next
 * instruction, which checks again at its first x87 instruction.
 */
int bt_helper_fpu_enter(CPUState *cpu, const BTCallInfo *ci)
{
    BT *bt = bt_of(cpu);
    if (bt_fpu_native_ok(cpu)) {
        bt_fpu_to_image(cpu); /* the block's FRSTOR then sets bt_fpu_live */
        bt->stats.x87_loads++;
        return 0;
    }
    bt->stats.x87_fallbacks++;
    bt_helper_enter(cpu, ci);
    if (bt->mode == BT_MODE_CHECK) {
        bt_check_note_io(bt); /* may reach FERR# */
    }
    interp_exec_insn(cpu, &ci->insn);
    return bt_helper_leave(cpu, ci, cpu->next_eip, true);
}

/* FLDCW of a control word that unmasks an exception (gen_fpu.c): the
 * interpreter's, and the block leaves; the next x87 instruction's entry
 * check then finds the state not fit for the host and interprets. */
int bt_helper_fpu_interp_leave(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bt_count_callout(cpu, ci);
    if (ci->check_io) {
        bt_check_note_io(bt_of(cpu));
    }
    interp_exec_insn(cpu, &ci->insn);
    return bt_helper_leave(cpu, ci, cpu->next_eip, true);
}

/* After FNSAVE: the image back into CPUState.fpu. */
int bt_helper_fpu_save(CPUState *cpu, const BTCallInfo *ci)
{
    (void)ci;
    bt_fpu_from_image(cpu);
    cpu->bt_fpu_live = 0;
    bt_of(cpu)->stats.x87_saves++;
    return 0;
}

void bt_fpu_sync(CPUState *cpu)
{
    if (!cpu->bt_fpu_live) {
        return;
    }
    __asm__ volatile("fnsave %0" : "=m"(cpu->bt_fpu_img));
    bt_fpu_from_image(cpu);
    cpu->bt_fpu_live = 0;
    bt_of(cpu)->stats.x87_saves++;
}

/*
 * The slow path of an x87 memory operand (up to 10 bytes), with the
 * interpreter's access order (cpu/fpu_load.c): a load reads in 4-, 2- and
 * 1-byte pieces; a store probes every page it touches first, so a fault
 * stores nothing.
 */
int bt_helper_fpu_mem_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bt_helper_limit_check(cpu, ci);
    memset(cpu->bt_bounce, 0, sizeof(cpu->bt_bounce));
    if (ci->access == ACC_WRITE) {
        fpu_probe_linear(cpu, cpu->bt_lin, ci->size);
    } else {
        fpu_read_linear(cpu, cpu->bt_lin, ci->size, cpu->bt_bounce);
    }
    return 0;
}

int bt_helper_fpu_mem_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint8_t buf[sizeof(cpu->bt_bounce)];
    memcpy(buf, cpu->bt_bounce, sizeof(buf));
    bt_helper_enter(cpu, ci);
    fpu_write_linear(cpu, cpu->bt_lin, ci->size, buf);
    return bt_helper_leave(cpu, ci, ci->next_eip, false);
}

/*
 * The same for an x87, MMX or SSE memory operand in a 64-bit block
 * (gen_fpu.c's gen_fpmem_linear): the linear address is the interpreter's
 * own, from the instruction and the guest registers the thunk stored, so
 * a non-canonical one raises #GP(0), or #SS(0) through SS, with CPUState
 * as it was before the instruction.  None of these instructions writes a
 * register its address uses, so the commit finds the same address.
 */
int bt_helper_fpu64_prep(CPUState *cpu, const BTCallInfo *ci)
{
    bt_helper_enter(cpu, ci);
    bool write = ci->access == ACC_WRITE;
    uint64_t lin = insn_mem_linear(cpu, &ci->insn, ci->size, write);
    memset(cpu->bt_bounce, 0, sizeof(cpu->bt_bounce));
    if (write) {
        fpu_probe_linear(cpu, lin, ci->size);
    } else {
        fpu_read_linear(cpu, lin, ci->size, cpu->bt_bounce);
    }
    return 0;
}

int bt_helper_fpu64_commit(CPUState *cpu, const BTCallInfo *ci)
{
    uint8_t buf[sizeof(cpu->bt_bounce)];
    memcpy(buf, cpu->bt_bounce, sizeof(buf));
    bt_helper_enter(cpu, ci);
    /* gen_mem.c hands commits a 32-bit next EIP; a RIP-relative address needs the whole RIP */
    cpu->next_eip = ci->eip + ci->insn.len;
    uint64_t lin = insn_mem_linear(cpu, &ci->insn, ci->size, true); /* probed: no fault */
    fpu_write_linear(cpu, lin, ci->size, buf);
    return bt_helper_leave(cpu, ci, ci->eip + ci->insn.len, false);
}
