/*
 * Segment loading and checking (SDM Vol.3 5.3-5.8, Vol.2 MOV Sreg, JMP,
 * CALL, RET, IRET), the segmented access check, and the I/O permission
 * bitmap.  Every failing check must produce the vector and error code the
 * SDM gives for it, and a failed load must leave the register unchanged.
 */
#include <check.h>

#include "cpu/ops.h"
#include "pm_fixture.h"

static PMFixture fx;
static CPUState *cpu;

static void setup(void)
{
    pm_setup(&fx);
    cpu = fx.cpu;
}

static void teardown(void)
{
    pm_teardown(&fx);
}

/* Selector for free GDT slot n with the given RPL. */
static uint16_t free_sel(int n, int rpl)
{
    return (uint16_t)(((GDT_FREE_INDEX + n) << 3) | rpl);
}

static void set_free(int n, uint64_t desc)
{
    gdt_set(&fx, GDT_FREE_INDEX + n, desc);
}

/* ---- actions for pm_try ---- */

typedef struct LoadArgs {
    int seg;
    uint16_t selector;
} LoadArgs;

static void do_seg_load(CPUState *c, void *arg)
{
    const LoadArgs *a = arg;
    seg_load(c, a->seg, a->selector);
}

static int try_load(int seg, uint16_t selector)
{
    LoadArgs a = {seg, selector};
    return pm_try(cpu, do_seg_load, &a);
}

typedef struct AccessArgs {
    int seg;
    uint32_t offset;
    int size;
    bool write;
    uint32_t linear;
} AccessArgs;

static void do_access(CPUState *c, void *arg)
{
    AccessArgs *a = arg;
    a->linear = seg_translate(c, a->seg, a->offset, a->size, a->write);
}

static int try_access(int seg, uint32_t offset, int size, bool write)
{
    AccessArgs a = {seg, offset, size, write, 0};
    return pm_try(cpu, do_access, &a);
}

typedef struct FarArgs {
    uint16_t selector;
    uint32_t offset;
    int opsize;
    uint16_t pop_bytes;
} FarArgs;

static void do_far_jmp(CPUState *c, void *arg)
{
    const FarArgs *a = arg;
    cpu_far_jmp(c, a->selector, a->offset, c->next_eip);
}

static void do_far_call(CPUState *c, void *arg)
{
    const FarArgs *a = arg;
    cpu_far_call(c, a->selector, a->offset, a->opsize, c->next_eip);
}

static void do_far_ret(CPUState *c, void *arg)
{
    const FarArgs *a = arg;
    cpu_far_ret(c, a->opsize, a->pop_bytes);
}

static void do_iret(CPUState *c, void *arg)
{
    const FarArgs *a = arg;
    cpu_iret(c, a->opsize);
}

static int try_far(PMAction action, uint16_t selector, uint32_t offset, int opsize)
{
    FarArgs a = {selector, offset, opsize, 0};
    return pm_try(cpu, action, &a);
}

typedef struct IOArgs {
    uint16_t port;
    int size;
} IOArgs;

static void do_check_io(CPUState *c, void *arg)
{
    const IOArgs *a = arg;
    cpu_check_io(c, a->port, a->size);
}

static int try_io(uint16_t port, int size)
{
    IOArgs a = {port, size};
    return pm_try(cpu, do_check_io, &a);
}

/* The action raised vector with error code code. */
static void assert_fault(int result, int vector, uint32_t code)
{
    ck_assert_int_eq(result, vector);
    ck_assert_uint_eq(cpu->exception_error, code);
}

/* ---- data segment loads ---- */

START_TEST(test_load_data_segment_fills_cache_and_sets_accessed)
{
    set_free(0, make_desc(0x12345678, 0x00fff, DESC_P | DESC_S | DESC_W));
    ck_assert_int_eq(try_load(SEG_DS, free_sel(0, 0)), -1);
    const SegmentCache *ds = &cpu->seg[SEG_DS];
    ck_assert_uint_eq(ds->selector, free_sel(0, 0));
    ck_assert_uint_eq(ds->base, 0x12345678);
    ck_assert_uint_eq(ds->limit, 0xfff);
    ck_assert(ds->attr & DESC_W);
    /* Accessed bit: type bit 0 in byte 5 of the descriptor. */
    ck_assert_uint_eq(pm_rd8(&fx, GDT_BASE + (GDT_FREE_INDEX << 3) + 5) & 1, 1);
}
END_TEST

/* seg_load_data_is_noop: a reload the translator may skip changes nothing
 * a real load would, and is refused wherever the load would fault, write
 * the Accessed bit or change the cache. */
START_TEST(test_reload_noop_only_when_nothing_changes)
{
    uint16_t sel = free_sel(0, 0);
    set_free(0, make_desc(0x12345678, 0x00fff, DESC_P | DESC_S | DESC_W));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, sel)); /* DS holds another selector */
    ck_assert_int_eq(try_load(SEG_DS, sel), -1);
    ck_assert(seg_load_data_is_noop(cpu, SEG_DS, sel));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, (uint16_t)(sel | 1))); /* another RPL */
    ck_assert(!seg_load_data_is_noop(cpu, SEG_SS, cpu->seg[SEG_SS].selector));
    /* The descriptor changed in the table. */
    set_free(0, make_desc(0x1000, 0x00fff, DESC_P | DESC_S | DESC_W | DESC_A));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, sel));
    ck_assert_int_eq(try_load(SEG_DS, sel), -1);
    ck_assert(seg_load_data_is_noop(cpu, SEG_DS, sel));
    /* The same descriptor with Accessed clear: the load would set it. */
    set_free(0, make_desc(0x1000, 0x00fff, DESC_P | DESC_S | DESC_W));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, sel));
    ck_assert_int_eq(try_load(SEG_DS, sel), -1);
    ck_assert(seg_load_data_is_noop(cpu, SEG_DS, sel));
    /* At CPL 3 the same DPL 0 descriptor faults. */
    cpu->cpl = 3;
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, sel));
    cpu->cpl = 0;
    /* Not present. */
    set_free(0, make_desc(0x1000, 0x00fff, DESC_S | DESC_W | DESC_A));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_DS, sel));
    /* A null selector over a null register. */
    ck_assert_int_eq(try_load(SEG_ES, 0), -1);
    ck_assert(seg_load_data_is_noop(cpu, SEG_ES, 0));
    ck_assert(!seg_load_data_is_noop(cpu, SEG_ES, 3));
}
END_TEST

/* pop_sreg_if_noop: POP DS with the selector DS holds moves ESP and
 * nothing else; anything else is left to op_POP_SREG untouched. */
START_TEST(test_pop_sreg_noop)
{
    Insn in = {0};
    in.op = OP_POP_SREG;
    in.opnd[0].kind = OPK_SREG;
    in.opnd[0].reg = SEG_DS;
    in.opsize = 4;
    uint32_t esp = 0x8ff0;
    cpu->regs[R_ESP] = esp;
    ck_assert_int_eq(try_load(SEG_DS, SEL_DATA0), -1);
    pm_wr32(&fx, esp, SEL_DATA0);
    (void)lin_read_idx(cpu, cpu->seg[SEG_SS].base + esp, 4, (int)cpu->mmu_idx); /* in the TLB */
    ck_assert(pop_sreg_if_noop(cpu, &in));
    ck_assert_uint_eq(cpu->regs[R_ESP], esp + 4);
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, SEL_DATA0);
    /* Another selector: not done, ESP kept. */
    cpu->regs[R_ESP] = esp;
    pm_wr32(&fx, esp, SEL_CODE0);
    ck_assert(!pop_sreg_if_noop(cpu, &in));
    ck_assert_uint_eq(cpu->regs[R_ESP], esp);
    /* A dword pop whose operand crosses into the next page: the POP reads
     * both pages (and may fault there), so it is not skipped. */
    cpu->regs[R_ESP] = 0x8ffe;
    pm_wr16(&fx, 0x8ffe, SEL_DATA0);
    ck_assert(!pop_sreg_if_noop(cpu, &in));
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x8ffe);
    cpu->regs[R_ESP] = esp;
    /* SS never (POP SS opens an interrupt shadow). */
    pm_wr32(&fx, esp, cpu->seg[SEG_SS].selector);
    in.opnd[0].reg = SEG_SS;
    ck_assert(!pop_sreg_if_noop(cpu, &in));
    ck_assert_uint_eq(cpu->regs[R_ESP], esp);
}
END_TEST

START_TEST(test_load_granular_limit)
{
    set_free(0, make_desc(0, 0x00003, DESC_P | DESC_S | DESC_W | DESC_G));
    ck_assert_int_eq(try_load(SEG_ES, free_sel(0, 0)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_ES].limit, 0x3fff);
}
END_TEST

START_TEST(test_null_selector_in_ds_then_access_faults)
{
    ck_assert_int_eq(try_load(SEG_DS, 0x0003), -1);
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, 3);
    assert_fault(try_access(SEG_DS, 0, 1, false), EXC_GP, 0);
}
END_TEST

START_TEST(test_null_selector_in_ss_is_gp0)
{
    assert_fault(try_load(SEG_SS, 0), EXC_GP, 0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
}
END_TEST

START_TEST(test_selector_beyond_gdt_limit)
{
    /* Index 64 lies at 0x200, past the 0x1ff limit; RPL bits drop from the code. */
    assert_fault(try_load(SEG_DS, (64 << 3) | 3), EXC_GP, 64 << 3);
    /* Index 63 is the last descriptor that fits. */
    gdt_set(&fx, 63, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_W));
    ck_assert_int_eq(try_load(SEG_DS, 63 << 3), -1);
}
END_TEST

START_TEST(test_ldt_selector_needs_ldt)
{
    ldt_set(&fx, 1, make_desc(0x5000, 0xffff, DESC_P | DESC_S | DESC_W));
    /* No LDT loaded: #GP(selector), TI bit kept in the error code. */
    assert_fault(try_load(SEG_FS, 0x0c), EXC_GP, 0x0c);
    seg_cache_from_descriptor(&cpu->ldtr, SEL_LDT, gdt_get(&fx, SEL_LDT >> 3));
    ck_assert_int_eq(try_load(SEG_FS, 0x0c), -1);
    ck_assert_uint_eq(cpu->seg[SEG_FS].base, 0x5000);
    /* Index 32 is beyond the LDT limit 0xff. */
    assert_fault(try_load(SEG_FS, (32 << 3) | 4), EXC_GP, (32 << 3) | 4);
}
END_TEST

START_TEST(test_data_load_type_checks)
{
    set_free(0, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_CODE));          /* execute-only */
    set_free(1, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_CODE | DESC_R)); /* readable */
    assert_fault(try_load(SEG_DS, free_sel(0, 0)), EXC_GP, free_sel(0, 0));
    ck_assert_int_eq(try_load(SEG_DS, free_sel(1, 0)), -1);
    /* A system descriptor (the TSS) is never a data segment. */
    assert_fault(try_load(SEG_GS, SEL_TSS_B), EXC_GP, SEL_TSS_B);
}
END_TEST

START_TEST(test_data_load_privilege_checks)
{
    set_free(0, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_W | ATTR_DPL(2)));
    /* RPL 3 > DPL 2 at CPL 0. */
    assert_fault(try_load(SEG_DS, free_sel(0, 3)), EXC_GP, free_sel(0, 0));
    ck_assert_int_eq(try_load(SEG_DS, free_sel(0, 2)), -1);
    /* CPL 3 > DPL 0. */
    pm_enter_ring3(&fx);
    assert_fault(try_load(SEG_ES, SEL_DATA0 | 3), EXC_GP, SEL_DATA0);
    ck_assert_uint_eq(cpu->seg[SEG_ES].selector, SEL_DATA3);
    /* Conforming readable code of DPL 0 is readable from CPL 3. */
    set_free(1, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_C));
    ck_assert_int_eq(try_load(SEG_ES, free_sel(1, 3)), -1);
}
END_TEST

START_TEST(test_data_not_present_is_np)
{
    set_free(0, make_desc(0, 0xffff, DESC_S | DESC_W));
    assert_fault(try_load(SEG_DS, free_sel(0, 0)), EXC_NP, free_sel(0, 0));
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, SEL_DATA0);
}
END_TEST

START_TEST(test_ss_load_checks)
{
    set_free(0, make_desc(0, 0xffff, DESC_P | DESC_S)); /* read-only */
    set_free(1, make_desc(0, 0xffff, DESC_P | DESC_S | DESC_W | ATTR_DPL(1)));
    set_free(2, make_desc(0, 0xffff, DESC_S | DESC_W)); /* not present */
    set_free(3, make_desc(0x7000, 0xffff, DESC_P | DESC_S | DESC_W | DESC_B));
    assert_fault(try_load(SEG_SS, free_sel(0, 0)), EXC_GP, free_sel(0, 0));
    assert_fault(try_load(SEG_SS, free_sel(1, 0)), EXC_GP, free_sel(1, 0)); /* DPL != CPL */
    assert_fault(try_load(SEG_SS, free_sel(3, 1)), EXC_GP, free_sel(3, 0)); /* RPL != CPL */
    assert_fault(try_load(SEG_SS, free_sel(2, 0)), EXC_SS, free_sel(2, 0));
    ck_assert_int_eq(try_load(SEG_SS, free_sel(3, 0)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_SS].base, 0x7000);
    ck_assert_uint_eq(cpu->cpl, 0);
}
END_TEST

START_TEST(test_cs_cannot_be_loaded)
{
    ck_assert_int_eq(try_load(SEG_CS, SEL_CODE0), EXC_UD);
}
END_TEST

/* ---- real mode and vm86 ---- */

START_TEST(test_real_mode_load_keeps_limit)
{
    cpu->cr0 &= ~CR0_PE;
    cpu->seg[SEG_DS].limit = 0xffffffff; /* left over from protected mode: "unreal" */
    cpu_update_mode(cpu);
    ck_assert_int_eq(try_load(SEG_DS, 0x1234), -1);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0x12340);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xffffffff);
}
END_TEST

START_TEST(test_vm86_load_resets_cache)
{
    cpu->eflags |= EFLAGS_VM;
    cpu_update_mode(cpu);
    ck_assert_int_eq(try_load(SEG_DS, 0xb800), -1);
    const SegmentCache *ds = &cpu->seg[SEG_DS];
    ck_assert_uint_eq(ds->base, 0xb8000);
    ck_assert_uint_eq(ds->limit, 0xffff);
    ck_assert_uint_eq((ds->attr & DESC_DPL_MASK) >> DESC_DPL_SHIFT, 3);
    ck_assert(!(ds->attr & DESC_B));
    ck_assert_int_eq(try_access(SEG_DS, 0xffff, 1, true), -1);
    assert_fault(try_access(SEG_DS, 0xffff, 2, true), EXC_GP, 0);
}
END_TEST

/* ---- the access check ---- */

START_TEST(test_access_type_checks)
{
    set_free(0, make_desc(0, 0xffff, DESC_P | DESC_S)); /* read-only data */
    ck_assert_int_eq(try_load(SEG_DS, free_sel(0, 0)), -1);
    ck_assert_int_eq(try_access(SEG_DS, 0x10, 4, false), -1);
    assert_fault(try_access(SEG_DS, 0x10, 4, true), EXC_GP, 0);
    /* Code segments are never writable; execute-only code is not readable. */
    assert_fault(try_access(SEG_CS, 0x10, 4, true), EXC_GP, 0);
    cpu->seg[SEG_CS].attr &= ~DESC_R;
    seg_update_check(&cpu->seg[SEG_CS]);
    assert_fault(try_access(SEG_CS, 0x10, 4, false), EXC_GP, 0);
}
END_TEST

START_TEST(test_access_limit_checks)
{
    set_free(0, make_desc(0x100000, 0xfff, DESC_P | DESC_S | DESC_W));
    ck_assert_int_eq(try_load(SEG_DS, free_sel(0, 0)), -1);
    AccessArgs a = {SEG_DS, 0xffc, 4, false, 0};
    ck_assert_int_eq(pm_try(cpu, do_access, &a), -1);
    ck_assert_uint_eq(a.linear, 0x100ffc);
    assert_fault(try_access(SEG_DS, 0xffd, 4, false), EXC_GP, 0);
    assert_fault(try_access(SEG_DS, 0x1000, 1, true), EXC_GP, 0);
    /* The same violation through SS is a stack fault. */
    set_free(1, make_desc(0, 0xfff, DESC_P | DESC_S | DESC_W));
    ck_assert_int_eq(try_load(SEG_SS, free_sel(1, 0)), -1);
    assert_fault(try_access(SEG_SS, 0xffe, 4, true), EXC_SS, 0);
}
END_TEST

START_TEST(test_expand_down_limits)
{
    /* Expand-down, B=1: valid offsets are limit+1 .. FFFFFFFFh. */
    set_free(0, make_desc(0, 0x0fff, DESC_P | DESC_S | DESC_W | DESC_E | DESC_B));
    ck_assert_int_eq(try_load(SEG_ES, free_sel(0, 0)), -1);
    assert_fault(try_access(SEG_ES, 0x0fff, 1, false), EXC_GP, 0);
    assert_fault(try_access(SEG_ES, 0x0ffe, 4, false), EXC_GP, 0);
    ck_assert_int_eq(try_access(SEG_ES, 0x1000, 4, true), -1);
    ck_assert_int_eq(try_access(SEG_ES, 0xfffffffc, 4, false), -1);
    assert_fault(try_access(SEG_ES, 0xfffffffd, 4, false), EXC_GP, 0);
    /* B=0: the upper bound is FFFFh. */
    set_free(1, make_desc(0, 0x0fff, DESC_P | DESC_S | DESC_W | DESC_E));
    ck_assert_int_eq(try_load(SEG_ES, free_sel(1, 0)), -1);
    ck_assert_int_eq(try_access(SEG_ES, 0xfffe, 2, false), -1);
    assert_fault(try_access(SEG_ES, 0xffff, 2, false), EXC_GP, 0);
    assert_fault(try_access(SEG_ES, 0x10000, 1, false), EXC_GP, 0);
    /* Expand-down stack: the fault is #SS(0). */
    ck_assert_int_eq(try_load(SEG_SS, free_sel(1, 0)), -1);
    assert_fault(try_access(SEG_SS, 0x0800, 2, true), EXC_SS, 0);
}
END_TEST

/* ---- far JMP / CALL / RET ---- */

START_TEST(test_far_jmp_code_privilege)
{
    set_free(0,
             make_desc(0, 0xffff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_C)); /* conf. DPL0 */
    set_free(1, make_desc(0, 0xffff, DESC_S | DESC_CODE | DESC_R | ATTR_DPL(3)));  /* not present */
    pm_enter_ring3(&fx);
    /* Non-conforming DPL 0 code from CPL 3. */
    assert_fault(try_far(do_far_jmp, SEL_CODE0, 0x100, 4), EXC_GP, SEL_CODE0);
    /* Conforming DPL 0 code: allowed, CPL stays 3 and CS.RPL becomes 3. */
    ck_assert_int_eq(try_far(do_far_jmp, free_sel(0, 0), 0x100, 4), -1);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, free_sel(0, 3));
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->next_eip, 0x100);
    /* Offset beyond the limit. */
    assert_fault(try_far(do_far_jmp, free_sel(0, 3), 0x10000, 4), EXC_GP, 0);
    assert_fault(try_far(do_far_jmp, free_sel(1, 3), 0x10, 4), EXC_NP, free_sel(1, 0));
    /* Data segments and null selectors are no jump targets. */
    assert_fault(try_far(do_far_jmp, SEL_DATA3, 0x10, 4), EXC_GP, SEL_DATA3 & ~3);
    assert_fault(try_far(do_far_jmp, 0, 0x10, 4), EXC_GP, 0);
}
END_TEST

START_TEST(test_far_call_same_privilege_frame)
{
    uint32_t esp = cpu->regs[R_ESP];
    cpu->next_eip = 0x4455;
    ck_assert_int_eq(try_far(do_far_call, SEL_CODE0, 0x2000, 4), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 8);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 8), 0x4455);
    ck_assert_uint_eq(pm_rd32(&fx, esp - 4) & 0xffff, SEL_CODE0);
    ck_assert_uint_eq(cpu->next_eip, 0x2000);
    /* 16-bit form pushes words and truncates the offset. */
    esp = cpu->regs[R_ESP];
    ck_assert_int_eq(try_far(do_far_call, SEL_CODE0, 0x12345678, 2), -1);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp - 4);
    ck_assert_uint_eq(cpu->next_eip, 0x5678);
}
END_TEST

/* A 32-bit call gate (DPL 3) to ring-0 code with two parameters: new stack
 * from TSS.SS0:ESP0 with SS, ESP, params, CS, EIP (SDM Vol.3 Figure 5-13). */
START_TEST(test_call_gate_to_inner_privilege)
{
    set_free(0, make_gate(SEL_CODE0, 0x3000, SYS_CALL_GATE32, 3, 2));
    pm_enter_ring3(&fx);
    seg_cache_from_descriptor(&cpu->seg[SEG_DS], SEL_DATA3, gdt_get(&fx, 4));
    cpu->regs[R_ESP] = STACK3_TOP - 8;
    pm_wr32(&fx, STACK3_TOP - 8, 0x11111111); /* parameter 1 (top of stack) */
    pm_wr32(&fx, STACK3_TOP - 4, 0x22222222); /* parameter 2 */
    cpu->next_eip = 0x777;
    ck_assert_int_eq(try_far(do_far_call, free_sel(0, 3), 0xdead, 4), -1);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE0);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA0);
    ck_assert_uint_eq(cpu->next_eip, 0x3000);
    uint32_t sp = STACK0_TOP - 24;
    ck_assert_uint_eq(cpu->regs[R_ESP], sp);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 0), 0x777);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 4) & 0xffff, SEL_CODE3);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 8), 0x11111111);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 12), 0x22222222);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 16), STACK3_TOP - 8);
    ck_assert_uint_eq(pm_rd32(&fx, sp + 20) & 0xffff, SEL_DATA3);

    /* RET 8 back to ring 3: pops EIP, CS, skips the parameters, pops ESP, SS. */
    pm_force_seg(&fx, SEG_DS, SEL_DATA0); /* ring-0 data must not survive the return */
    FarArgs ret = {0, 0, 4, 8};
    ck_assert_int_eq(pm_try(cpu, do_far_ret, &ret), -1);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE3);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA3);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK3_TOP);
    ck_assert_uint_eq(cpu->next_eip, 0x777);
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, 0);
    ck_assert(cpu->seg[SEG_DS].check & SEGCHK_UNUSABLE);
    ck_assert_uint_eq(cpu->seg[SEG_ES].selector, SEL_DATA3);
}
END_TEST

START_TEST(test_call_gate_checks)
{
    set_free(0, make_gate(SEL_CODE0, 0x3000, SYS_CALL_GATE32, 0, 0)); /* gate DPL 0 */
    uint64_t np_gate =
        make_gate(SEL_CODE0, 0x3000, SYS_CALL_GATE32, 3, 0) & ~((uint64_t)DESC_P << 32);
    set_free(1, np_gate);
    set_free(2, make_gate(SEL_DATA0, 0x3000, SYS_CALL_GATE32, 3, 0)); /* target is data */
    set_free(3, make_gate(SEL_CODE0, 0x3000, SYS_CALL_GATE32, 3, 0));
    pm_enter_ring3(&fx);
    uint32_t esp = cpu->regs[R_ESP];
    assert_fault(try_far(do_far_call, free_sel(0, 3), 0, 4), EXC_GP, free_sel(0, 0));
    assert_fault(try_far(do_far_call, free_sel(1, 3), 0, 4), EXC_NP, free_sel(1, 0));
    assert_fault(try_far(do_far_call, free_sel(2, 3), 0, 4), EXC_GP, SEL_DATA0);
    /* Ring-0 stack selector in the TSS is null: #TS(0); nothing committed. */
    pm_wr16(&fx, TSS_A_BASE + 8, 0);
    assert_fault(try_far(do_far_call, free_sel(3, 3), 0, 4), EXC_TS, 0);
    /* SS0 names a DPL-3 segment: #TS(SS0). */
    pm_wr16(&fx, TSS_A_BASE + 8, SEL_DATA3);
    assert_fault(try_far(do_far_call, free_sel(3, 3), 0, 4), EXC_TS, SEL_DATA3 & ~3);
    /* JMP through a gate cannot raise privilege. */
    pm_wr16(&fx, TSS_A_BASE + 8, SEL_DATA0);
    assert_fault(try_far(do_far_jmp, free_sel(3, 3), 0, 4), EXC_GP, SEL_CODE0);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp);
    ck_assert_uint_eq(cpu->seg[SEG_CS].selector, SEL_CODE3);
}
END_TEST

START_TEST(test_far_ret_checks)
{
    uint32_t esp = cpu->regs[R_ESP];
    /* Return to a more privileged level is refused: at CPL 3 returning to CS RPL 0. */
    pm_enter_ring3(&fx);
    esp = cpu->regs[R_ESP] = STACK3_TOP - 8;
    pm_wr32(&fx, esp, 0x100);
    pm_wr32(&fx, esp + 4, SEL_CODE0);
    FarArgs ret = {0, 0, 4, 0};
    assert_fault(pm_try(cpu, do_far_ret, &ret), EXC_GP, SEL_CODE0);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp);
    /* Stack limit: the pops would leave the 0xa000-byte stack. */
    set_free(0, make_desc(0, STACK3_TOP - 5, DESC_P | DESC_S | DESC_W | ATTR_DPL(3) | DESC_B));
    seg_cache_from_descriptor(&cpu->seg[SEG_SS], free_sel(0, 3), gdt_get(&fx, GDT_FREE_INDEX));
    cpu_update_mode(cpu);
    assert_fault(pm_try(cpu, do_far_ret, &ret), EXC_SS, 0);
}
END_TEST

/* ---- IRET flag rules ---- */

static void push_iret_frame(uint32_t eip, uint16_t cs, uint32_t eflags)
{
    uint32_t esp = cpu->regs[R_ESP] - 12;
    pm_wr32(&fx, esp, eip);
    pm_wr32(&fx, esp + 4, cs);
    pm_wr32(&fx, esp + 8, eflags);
    cpu->regs[R_ESP] = esp;
}

START_TEST(test_iret_eflags_by_privilege)
{
    /* CPL 3, IOPL 0: IF and IOPL in the image are ignored, arithmetic flags load. */
    pm_enter_ring3(&fx);
    cpu->eflags = EFLAGS_FIXED;
    push_iret_frame(0x500, SEL_CODE3,
                    EFLAGS_FIXED | EFLAGS_IF | EFLAGS_IOPL | EFLAGS_CF | EFLAGS_ZF | EFLAGS_AC);
    FarArgs a = {0, 0, 4, 0};
    ck_assert_int_eq(pm_try(cpu, do_iret, &a), -1);
    uint32_t fl = cpu_get_eflags(cpu);
    ck_assert(!(fl & EFLAGS_IF));
    ck_assert_uint_eq(fl & EFLAGS_IOPL, 0);
    ck_assert(fl & EFLAGS_CF);
    ck_assert(fl & EFLAGS_ZF);
    ck_assert(fl & EFLAGS_AC);
    ck_assert_uint_eq(cpu->next_eip, 0x500);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK3_TOP);
    /* IOPL 3 lets CPL 3 change IF, still not IOPL. */
    cpu->eflags = EFLAGS_FIXED | (3u << EFLAGS_IOPL_SHIFT);
    push_iret_frame(0x600, SEL_CODE3, EFLAGS_FIXED | EFLAGS_IF);
    ck_assert_int_eq(pm_try(cpu, do_iret, &a), -1);
    ck_assert(cpu->eflags & EFLAGS_IF);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_IOPL, EFLAGS_IOPL);
    /* VM in the image at CPL 3 is ignored: no vm86 entry. */
    push_iret_frame(0x700, SEL_CODE3, EFLAGS_FIXED | EFLAGS_VM);
    ck_assert_int_eq(pm_try(cpu, do_iret, &a), -1);
    ck_assert(!(cpu->eflags & EFLAGS_VM));
    ck_assert(!(cpu->hflags & HF_VM));
}
END_TEST

START_TEST(test_iret_to_outer_privilege)
{
    /* CPL 0 returns to ring 3: frame EIP CS EFLAGS ESP SS; IOPL can be set. */
    uint32_t esp = cpu->regs[R_ESP] - 20;
    pm_wr32(&fx, esp, 0x800);
    pm_wr32(&fx, esp + 4, SEL_CODE3);
    pm_wr32(&fx, esp + 8, EFLAGS_FIXED | EFLAGS_IF | (3u << EFLAGS_IOPL_SHIFT));
    pm_wr32(&fx, esp + 12, STACK3_TOP - 0x40);
    pm_wr32(&fx, esp + 16, SEL_DATA3);
    cpu->regs[R_ESP] = esp;
    FarArgs a = {0, 0, 4, 0};
    ck_assert_int_eq(pm_try(cpu, do_iret, &a), -1);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->regs[R_ESP], STACK3_TOP - 0x40);
    ck_assert_uint_eq(cpu->seg[SEG_SS].selector, SEL_DATA3);
    ck_assert(cpu->eflags & EFLAGS_IF);
    ck_assert_uint_eq(cpu->eflags & EFLAGS_IOPL, EFLAGS_IOPL);
    /* DS held ring-0 data: nulled. */
    ck_assert_uint_eq(cpu->seg[SEG_DS].selector, 0);
    ck_assert(cpu->mmu_idx == MMU_USER);
}
END_TEST

START_TEST(test_iret_bad_return_ss)
{
    uint32_t esp = cpu->regs[R_ESP] - 20;
    pm_wr32(&fx, esp, 0x800);
    pm_wr32(&fx, esp + 4, SEL_CODE3);
    pm_wr32(&fx, esp + 8, EFLAGS_FIXED);
    pm_wr32(&fx, esp + 12, STACK3_TOP);
    pm_wr32(&fx, esp + 16, SEL_DATA0 | 3); /* RPL 3 but DPL 0 */
    cpu->regs[R_ESP] = esp;
    FarArgs a = {0, 0, 4, 0};
    assert_fault(pm_try(cpu, do_iret, &a), EXC_GP, SEL_DATA0);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->regs[R_ESP], esp);
}
END_TEST

/* ---- I/O permission bitmap ---- */

START_TEST(test_io_bitmap)
{
    /* TSS A gets a bitmap at 0x68 covering ports 0..0x7f (16 bytes), limit to match. */
    gdt_set(&fx, SEL_TSS_A >> 3,
            make_desc(TSS_A_BASE, 0x68 + 16, DESC_P | (SYS_TSS32_BUSY << DESC_TYPE_SHIFT)));
    seg_cache_from_descriptor(&cpu->tr, SEL_TSS_A, gdt_get(&fx, SEL_TSS_A >> 3));
    for (int i = 0; i < 16; i++) {
        pm_wr8(&fx, TSS_A_BASE + 0x68 + i, 0xff);
    }
    pm_wr8(&fx, TSS_A_BASE + 0x68 + (0x60 >> 3), 0xfe); /* port 0x60 allowed */
    pm_enter_ring3(&fx);
    cpu->eflags &= ~EFLAGS_IOPL;
    ck_assert_int_eq(try_io(0x60, 1), -1);
    assert_fault(try_io(0x61, 1), EXC_GP, 0);
    assert_fault(try_io(0x60, 2), EXC_GP, 0); /* covers 0x61 too */
    /* Port 0x7f: the processor reads bytes 0x0f and 0x10 of the map; 0x10 is the
     * last byte inside the limit. */
    pm_wr8(&fx, TSS_A_BASE + 0x68 + 0x0f, 0x7f);
    ck_assert_int_eq(try_io(0x7f, 1), -1);
    /* Ports whose bytes fall beyond the TSS limit are denied. */
    assert_fault(try_io(0x88, 1), EXC_GP, 0);
    /* IOPL 3 skips the bitmap. */
    cpu->eflags |= EFLAGS_IOPL;
    ck_assert_int_eq(try_io(0x88, 4), -1);
}
END_TEST

static Suite *seg_suite(void)
{
    Suite *s = suite_create("seg");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_data_segment_fills_cache_and_sets_accessed);
    tcase_add_test(tc, test_reload_noop_only_when_nothing_changes);
    tcase_add_test(tc, test_pop_sreg_noop);
    tcase_add_test(tc, test_load_granular_limit);
    tcase_add_test(tc, test_null_selector_in_ds_then_access_faults);
    tcase_add_test(tc, test_null_selector_in_ss_is_gp0);
    tcase_add_test(tc, test_selector_beyond_gdt_limit);
    tcase_add_test(tc, test_ldt_selector_needs_ldt);
    tcase_add_test(tc, test_data_load_type_checks);
    tcase_add_test(tc, test_data_load_privilege_checks);
    tcase_add_test(tc, test_data_not_present_is_np);
    tcase_add_test(tc, test_ss_load_checks);
    tcase_add_test(tc, test_cs_cannot_be_loaded);
    tcase_add_test(tc, test_real_mode_load_keeps_limit);
    tcase_add_test(tc, test_vm86_load_resets_cache);
    suite_add_tcase(s, tc);

    tc = tcase_create("access");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_access_type_checks);
    tcase_add_test(tc, test_access_limit_checks);
    tcase_add_test(tc, test_expand_down_limits);
    tcase_add_test(tc, test_io_bitmap);
    suite_add_tcase(s, tc);

    tc = tcase_create("far");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_far_jmp_code_privilege);
    tcase_add_test(tc, test_far_call_same_privilege_frame);
    tcase_add_test(tc, test_call_gate_to_inner_privilege);
    tcase_add_test(tc, test_call_gate_checks);
    tcase_add_test(tc, test_far_ret_checks);
    tcase_add_test(tc, test_iret_eflags_by_privilege);
    tcase_add_test(tc, test_iret_to_outer_privilege);
    tcase_add_test(tc, test_iret_bad_return_ss);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(seg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
