/*
 * The CPU's section of a saved VM ("cpu").
 *
 * Everything architectural in CPUState, in the interpreter's own
 * representation (lazy flags as cc_op and operands, x87 registers as the
 * 80-bit values the host long double holds), between two instructions:
 * the slice has ended, so no exception is in flight and the translator's
 * fields (bt_*) hold nothing that outlives the slice; the TLB, the
 * decoded-instruction cache and the translated code are rebuilt after a
 * load, never saved; the CPU model (-cpu) comes from the command line.
 * What is derived (CPL, hflags, each segment's fast
 * check) is recomputed.  A new CPUState field that matters is one line
 * here with .since set to a bumped version.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "hw/pc/vmstate_pc.h"

static const VMField segment_fields[] = {
    VMS_U64(SegmentCache, base),
    VMS_U32(SegmentCache, limit),
    VMS_U32(SegmentCache, attr),
    VMS_U16(SegmentCache, selector),
    VMS_END,
};

static const VMStateDesc segment_desc = {.name = "segment", .fields = segment_fields};

static const VMField table_fields[] = {
    VMS_U64(TableRegister, base),
    VMS_U32(TableRegister, limit),
    VMS_END,
};

static const VMStateDesc table_desc = {.name = "table", .fields = table_fields};

/* x87 registers: the 10 bytes of each 80-bit value (the rest of the host's
 * 16-byte long double is padding). */
static void fpu_regs_save(VMWriter *w, void *opaque)
{
    FPURegs *f = opaque;
    for (int i = 0; i < 8; i++) {
        vm_put_bytes(w, &f->st[i], 10);
    }
}

static bool fpu_regs_load(VMReader *r, void *opaque, uint32_t version)
{
    FPURegs *f = opaque;
    for (int i = 0; i < 8; i++) {
        uint8_t b[10];
        vm_get_bytes(r, b, 10);
        memset(&f->st[i], 0, sizeof(f->st[i]));
        memcpy(&f->st[i], b, 10);
    }
    return !r->failed;
}

static const VMField fpu_fields[] = {
    VMS_U16(FPURegs, fcw),
    VMS_U16(FPURegs, fsw),
    VMS_U16(FPURegs, ftw),
    VMS_U8_RANGE(FPURegs, top, 0, 7),
    VMS_U16(FPURegs, fop),
    VMS_U32(FPURegs, fip),
    VMS_U16(FPURegs, fcs),
    VMS_U16(FPURegs, fds),
    VMS_U32(FPURegs, fdp),
    VMS_U32(FPURegs, mxcsr),
    VMS_BYTES(FPURegs, xmm[0], sizeof(((FPURegs *)0)->xmm)),
    VMS_END,
};

static const VMStateDesc fpu_desc = {
    .name = "fpu",
    .fields = fpu_fields,
    .save = fpu_regs_save,
    .load = fpu_regs_load,
};

static bool cpu_post_load(VMReader *r, void *opaque, uint32_t version)
{
    CPUState *cpu = opaque;
    if (cpu->a20_mask != 0xffffffffu && cpu->a20_mask != 0xffefffffu) {
        return vm_fail(r, "a20_mask %08x", cpu->a20_mask);
    }
    /* Only the guest's own requests travel (INTR, NMI): an exit request
     * was the saving host's. */
    uint32_t req = cpu->interrupt_request & (CPU_INTERRUPT_HARD | CPU_INTERRUPT_NMI);
    cpu->interrupt_request = 0;
    if (req) {
        cpu_set_interrupt(cpu, req);
    }
    for (int i = 0; i < SEG_COUNT; i++) {
        seg_update_check(&cpu->seg[i]);
    }
    seg_update_check(&cpu->ldtr);
    seg_update_check(&cpu->tr);
    cpu->exception_vector = -1;
    cpu->delivering_vector = -1;
    cpu->triple_fault = false;
    cpu->next_eip = cpu->eip;
    cpu_update_mode(cpu);
    return true;
}

static const VMField cpu_fields[] = {
    VMS_U64_ARRAY(CPUState, regs, CPU_NB_REGS),
    VMS_U64(CPUState, eip),
    VMS_U32(CPUState, eflags),
    VMS_U32_RANGE(CPUState, cc_op, 0, CC_OP_COUNT - 1),
    VMS_U64(CPUState, cc_res),
    VMS_U64(CPUState, cc_src1),
    VMS_U64(CPUState, cc_src2),
    VMS_U32(CPUState, cc_aux),
    VMS_ENTRY_(CPUState, interrupt_request, volatile uint32_t, VMF_U32, 1, 0, 0),
    VMS_STRUCT_ARRAY(CPUState, seg, SEG_COUNT, SegmentCache, segment_desc),
    VMS_U32(CPUState, cr0),
    VMS_U64(CPUState, cr2),
    VMS_U64(CPUState, cr3),
    VMS_U32(CPUState, cr4),
    VMS_U64_ARRAY(CPUState, dr, 8),
    VMS_STRUCT(CPUState, gdtr, TableRegister, table_desc),
    VMS_STRUCT(CPUState, idtr, TableRegister, table_desc),
    VMS_STRUCT(CPUState, ldtr, SegmentCache, segment_desc),
    VMS_STRUCT(CPUState, tr, SegmentCache, segment_desc),
    VMS_U64(CPUState, tsc_offset),
    VMS_U32(CPUState, sysenter_cs),
    VMS_U64(CPUState, sysenter_esp),
    VMS_U64(CPUState, sysenter_eip),
    VMS_U64(CPUState, msr_pat),
    VMS_U64(CPUState, efer),
    VMS_U64_ARRAY(CPUState, pdpte, 4),
    VMS_U64(CPUState, apic_base),
    VMS_U32(CPUState, a20_mask),
    VMS_BOOL(CPUState, halted),
    VMS_BOOL(CPUState, inhibit_irq),
    VMS_BOOL(CPUState, ss_shadow),
    VMS_BOOL(CPUState, in_nmi),
    VMS_BOOL(CPUState, ferr_pending),
    VMS_STRUCT(CPUState, fpu, FPURegs, fpu_desc),
    VMS_U32(CPUState, pending_dr6),
    VMS_U32(CPUState, deferred_dr6),
    VMS_U64(CPUState, icount),
    VMS_U64(CPUState, msr_misc_enable),
    VMS_U64(CPUState, mtrr_def_type),
    VMS_U64_ARRAY(CPUState, mtrr_fixed, MTRR_FIXED_COUNT),
    VMS_U64_ARRAY(CPUState, mtrr_var, 2 * MTRR_VAR_STORED),
    VMS_U64_ARRAY(CPUState, perf_evtsel, 2),
    VMS_U64_ARRAY(CPUState, perf_ctr, 2),
    VMS_U64(CPUState, msr_star),
    VMS_U64(CPUState, msr_lstar),
    VMS_U64(CPUState, msr_cstar),
    VMS_U64(CPUState, msr_fmask),
    VMS_U64(CPUState, kernel_gs_base),
    VMS_U64(CPUState, msr_tsc_aux),
    VMS_U64(CPUState, msr_syscfg),
    VMS_U64(CPUState, msr_intpend),
    /* XMM8-XMM15 (64-bit mode). */
    {.name = "xmm_hi",
     .type = VMF_BYTES,
     .offset = offsetof(CPUState, xmm_hi),
     .count = sizeof(((CPUState *)0)->xmm_hi),
     .stride = 1,
     .since = 3},
    VMS_END,
};

const VMStateDesc cpu_vmstate = {
    .name = "cpu",
    /* Version 2: 16 64-bit registers, a 64-bit EIP, lazy-flag operands and
     * segment and table bases, four sizes per CC_OP group.  A version 1
     * section (eight 32-bit registers, three sizes) is refused.  Version 3:
     * long mode: CR2, CR3, SYSENTER_ESP/EIP at 64 bits, the SYSCALL MSRs,
     * KERNEL_GS_BASE, TSC_AUX, AMD's SYSCFG and IntPend and XMM8-XMM15; a version 2 section (32-bit
     * CR2/CR3) is refused.  Version 4: DR0-DR7 at 64 bits (64-bit breakpoint
     * addresses); a version 3 section (32-bit debug registers) is refused. */
    .version = 4,
    .min_version = 4,
    .fields = cpu_fields,
    .post_load = cpu_post_load,
};
