/*
 * The local APIC through its registers, with no CPU: reset values, the
 * priority rules (IRR/ISR/TPR/PPR, EOI order, the spurious vector), self
 * IPIs, the error register, the timer in one-shot, periodic and
 * TSC-deadline modes with the divide settings (virtual time stepped by
 * hand), LINT0 as ExtINT from the 8259, and IA32_APIC_BASE relocation and
 * global disable.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/intc/apic.h"

static uint64_t now_ns;
static TimerList tl;
static PhysMem *pm;
static APICState *apic;
static int intr_level;
static int nmi_count;
static int extint_acks;
static int eoi_vector;
static int eoi_count;
static int init_count;
static int map_changes;
static uint64_t tsc_offset; /* TSC = now_ns + tsc_offset */

static void intr_handler(void *opaque, int n, int level)
{
    intr_level = level;
}

static void nmi_handler(void *opaque, int n, int level)
{
    if (level) {
        nmi_count++;
    }
}

static int hook_extint_ack(void *opaque)
{
    extint_acks++;
    return 0x08; /* the 8259 master's IR0 */
}

static void hook_eoi(void *opaque, int vector)
{
    eoi_vector = vector;
    eoi_count++;
}

static void hook_map_changed(void *opaque)
{
    map_changes++;
}

static void hook_init(void *opaque)
{
    init_count++;
}

static uint64_t hook_tsc(void *opaque)
{
    return now_ns + tsc_offset;
}

static uint32_t rd(uint32_t reg)
{
    return apic_read(apic, reg);
}

static void wr(uint32_t reg, uint32_t value)
{
    apic_write(apic, reg, value);
}

static void set_time(uint64_t ns)
{
    now_ns = ns;
    timerlist_run(&tl);
}

static bool irr_has(int v)
{
    return (rd(APIC_IRR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

static bool isr_has(int v)
{
    return (rd(APIC_ISR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

/* A fixed self-IPI of vector v (ICR shorthand "self"). */
static void self_ipi(int v)
{
    wr(APIC_ICR_LO, (APIC_SH_SELF << APIC_ICR_SHORT_SHIFT) | (uint32_t)v);
}

static void setup(void)
{
    now_ns = 0;
    tsc_offset = 0;
    intr_level = nmi_count = extint_acks = eoi_count = init_count = map_changes = 0;
    eoi_vector = -1;
    timerlist_init_icount(&tl, &now_ns, 0);
    pm = malloc(sizeof(*pm));
    ck_assert(phys_init(pm, 1 << 20));
    APICHooks hooks = {NULL, hook_extint_ack, hook_eoi, hook_map_changed, hook_init, hook_tsc};
    apic = apic_new(pm, &tl, 0, irq_make(intr_handler, NULL, 0), irq_make(nmi_handler, NULL, 0),
                    &hooks);
    ck_assert_ptr_nonnull(apic);
}

static void teardown(void)
{
    apic_free(apic);
    phys_destroy(pm);
    free(pm);
}

/* Software-enabled with spurious vector FFh, as every OS starts. */
static void enable(void)
{
    wr(APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

START_TEST(test_reset_values)
{
    ck_assert_uint_eq(rd(APIC_VERSION), 0x00050014u);
    ck_assert_uint_eq(rd(APIC_ID), 0);
    ck_assert_uint_eq(rd(APIC_SVR), 0xff);
    ck_assert_uint_eq(rd(APIC_DFR), 0xffffffffu);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), APIC_LVT_MASKED);
    ck_assert_uint_eq(rd(APIC_LVT_LINT0), 0x700); /* ExtINT: virtual wire */
    ck_assert_uint_eq(rd(APIC_LVT_LINT1), APIC_LVT_MASKED);
    ck_assert_uint_eq(rd(APIC_LVT_ERROR), APIC_LVT_MASKED);
    ck_assert_uint_eq(apic_get_base(apic), 0xfee00900u); /* base, enable, BSP */
    /* The registers are at FEE00000h in the physical map. */
    ck_assert_uint_eq(phys_read(pm, 0xfee00030, 4), 0x00050014u);
    ck_assert_int_eq(intr_level, 0);
}
END_TEST

START_TEST(test_priority_order_and_eoi)
{
    enable();
    self_ipi(0x41);
    self_ipi(0x62);
    self_ipi(0x35);
    ck_assert(irr_has(0x41) && irr_has(0x62) && irr_has(0x35));
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x62);
    ck_assert(isr_has(0x62) && !irr_has(0x62));
    ck_assert_uint_eq(rd(APIC_PPR), 0x60);
    /* Nothing above class 6 is pending: INTR drops until the EOI, and an
     * INTA now would get the spurious vector and change nothing. */
    ck_assert_int_eq(intr_level, 0);
    ck_assert_int_eq(apic_ack(apic), 0xff);
    ck_assert(irr_has(0x41) && !isr_has(0x41));
    /* A higher class nests. */
    self_ipi(0x71);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x71);
    wr(APIC_EOI, 0); /* retires 0x71, the highest in service */
    ck_assert(!isr_has(0x71) && isr_has(0x62));
    ck_assert_int_eq(intr_level, 0);
    wr(APIC_EOI, 0);
    ck_assert_uint_eq(rd(APIC_PPR), 0);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x41);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(apic_ack(apic), 0x35);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(intr_level, 0);
    /* Edge-triggered vectors broadcast no EOI. */
    ck_assert_int_eq(eoi_count, 0);
}
END_TEST

START_TEST(test_same_class_waits)
{
    enable();
    self_ipi(0x45);
    ck_assert_int_eq(apic_ack(apic), 0x45);
    /* A vector of the same class as the one in service waits for its EOI. */
    self_ipi(0x4a);
    ck_assert_int_eq(intr_level, 0);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x4a);
}
END_TEST

START_TEST(test_tpr_masks)
{
    enable();
    wr(APIC_TPR, 0x50);
    ck_assert_uint_eq(rd(APIC_PPR), 0x50);
    self_ipi(0x45);
    self_ipi(0x50);
    ck_assert_int_eq(intr_level, 0); /* classes 4 and 5 are not above TPR's 5 */
    self_ipi(0x61);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x61);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(intr_level, 0);
    wr(APIC_TPR, 0x00);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x50);
}
END_TEST

START_TEST(test_spurious_vector)
{
    wr(APIC_SVR, APIC_SVR_ENABLE | 0xef);
    self_ipi(0x45);
    ck_assert_int_eq(intr_level, 1);
    /* TPR rises between INTR and INTA: the CPU gets the spurious vector,
     * nothing goes in service, the request stays in IRR. */
    wr(APIC_TPR, 0x40);
    ck_assert_int_eq(apic_ack(apic), 0xef);
    ck_assert(!isr_has(0x45) && irr_has(0x45));
    ck_assert_uint_eq(rd(APIC_PPR), 0x40);
    wr(APIC_TPR, 0);
    ck_assert_int_eq(apic_ack(apic), 0x45);
}
END_TEST

START_TEST(test_sw_disabled)
{
    /* After reset the APIC is software-disabled: fixed IPIs are not taken,
     * LVT writes keep their mask. */
    self_ipi(0x45);
    ck_assert(!irr_has(0x45));
    wr(APIC_LVT_TIMER, 0x30);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), APIC_LVT_MASKED | 0x30);
    enable();
    wr(APIC_LVT_TIMER, 0x30);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), 0x30);
    /* Disabling again masks every LVT (SDM 11.4.7.2). */
    wr(APIC_SVR, 0xff);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), APIC_LVT_MASKED | 0x30);
    ck_assert_uint_eq(rd(APIC_LVT_LINT0), APIC_LVT_MASKED | 0x700);
}
END_TEST

START_TEST(test_self_ipi_destinations)
{
    enable();
    wr(APIC_ID, 0x03000000);
    ck_assert_uint_eq(rd(APIC_ID), 0x03000000);
    /* Physical destination: our ID, then someone else's. */
    wr(APIC_ICR_HI, 0x03000000);
    wr(APIC_ICR_LO, 0x51);
    ck_assert(irr_has(0x51));
    wr(APIC_ICR_HI, 0x04000000);
    wr(APIC_ICR_LO, 0x52);
    ck_assert(!irr_has(0x52));
    /* All excluding self: nobody else on this machine. */
    wr(APIC_ICR_LO, (APIC_SH_OTHERS << APIC_ICR_SHORT_SHIFT) | 0x53);
    ck_assert(!irr_has(0x53));
    /* All including self. */
    wr(APIC_ICR_LO, (APIC_SH_ALL << APIC_ICR_SHORT_SHIFT) | 0x54);
    ck_assert(irr_has(0x54));
    /* Logical, flat model: LDR bit 2. */
    wr(APIC_LDR, 0x04000000);
    wr(APIC_ICR_HI, 0x06000000);
    wr(APIC_ICR_LO, APIC_ICR_LOGICAL | 0x55);
    ck_assert(irr_has(0x55));
    wr(APIC_ICR_HI, 0x08000000);
    wr(APIC_ICR_LO, APIC_ICR_LOGICAL | 0x56);
    ck_assert(!irr_has(0x56));
    /* Cluster model: cluster 0 members 3:0. */
    wr(APIC_DFR, 0x0fffffff);
    ck_assert_uint_eq(rd(APIC_DFR), 0x0fffffffu);
    wr(APIC_LDR, 0x12000000); /* cluster 1, member bit 1 */
    wr(APIC_ICR_HI, 0x13000000);
    wr(APIC_ICR_LO, APIC_ICR_LOGICAL | 0x57);
    ck_assert(irr_has(0x57));
    wr(APIC_ICR_HI, 0x23000000);
    wr(APIC_ICR_LO, APIC_ICR_LOGICAL | 0x58);
    ck_assert(!irr_has(0x58));
    /* The ICR reads back idle (delivery status 0). */
    ck_assert_uint_eq(rd(APIC_ICR_LO) & APIC_LVT_PENDING, 0);
}
END_TEST

START_TEST(test_nmi_and_init_ipi)
{
    enable();
    wr(APIC_ICR_LO, (APIC_SH_SELF << APIC_ICR_SHORT_SHIFT) | (APIC_DM_NMI << 8));
    ck_assert_int_eq(nmi_count, 1);
    wr(APIC_TPR, 0x20);
    wr(APIC_ID, 0x00000000);
    /* INIT to our own ID resets the registers (not the ID) and the CPU. */
    wr(APIC_ICR_HI, 0);
    wr(APIC_ICR_LO, APIC_ICR_ASSERT | (APIC_DM_INIT << 8));
    ck_assert_int_eq(init_count, 1);
    ck_assert_uint_eq(rd(APIC_TPR), 0);
    ck_assert_uint_eq(rd(APIC_SVR), 0xff);
    /* INIT level de-assert does nothing. */
    wr(APIC_ICR_LO, APIC_LVT_LEVEL | (APIC_DM_INIT << 8));
    ck_assert_int_eq(init_count, 1);
}
END_TEST

START_TEST(test_esr_and_error_lvt)
{
    enable();
    wr(APIC_LVT_ERROR, 0xfe);
    self_ipi(0x05);                     /* illegal vector */
    ck_assert(irr_has(0xfe));           /* the error LVT fired */
    ck_assert_uint_eq(rd(APIC_ESR), 0); /* not latched yet */
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), APIC_ESR_SEND_ILLEGAL);
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), 0);
    /* A message with an illegal vector: receive error. */
    apic_deliver(apic, APIC_DM_FIXED, 0x0c, false, false, 0);
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), APIC_ESR_RECV_ILLEGAL);
    /* A reserved register: illegal register address. */
    wr(0x040, 1);
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), APIC_ESR_ILLEGAL_ADDRESS);
}
END_TEST

START_TEST(test_level_eoi_broadcast)
{
    enable();
    apic_deliver(apic, APIC_DM_FIXED, 0x39, true, false, 0);
    ck_assert((rd(APIC_TMR + 0x10) >> (0x39 - 32)) & 1);
    ck_assert_int_eq(apic_ack(apic), 0x39);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(eoi_count, 1);
    ck_assert_int_eq(eoi_vector, 0x39);
    /* A message for another APIC ID is not taken. */
    apic_deliver(apic, APIC_DM_FIXED, 0x3a, false, false, 5);
    ck_assert(!irr_has(0x3a));
    /* Lowest priority: this is the only CPU. */
    apic_deliver(apic, APIC_DM_LOWEST, 0x3b, false, true, 0x01 | 0x80);
    ck_assert(!irr_has(0x3b)); /* LDR 0: no logical match */
    wr(APIC_LDR, 0x01000000);
    apic_deliver(apic, APIC_DM_LOWEST, 0x3b, false, true, 0x01);
    ck_assert(irr_has(0x3b));
}
END_TEST

START_TEST(test_timer_oneshot_divide)
{
    enable();
    wr(APIC_TIMER_DCR, 0x3); /* divide by 16 */
    wr(APIC_LVT_TIMER, 0x40);
    wr(APIC_TIMER_ICR, 1000);
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 1000);
    set_time(16 * 250);
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 750);
    set_time(16 * 1000 - 1);
    ck_assert(!irr_has(0x40));
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 1);
    set_time(16 * 1000);
    ck_assert(irr_has(0x40));
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 0);
    ck_assert_int_eq(apic_ack(apic), 0x40);
    wr(APIC_EOI, 0);
    set_time(16 * 5000);
    ck_assert(!irr_has(0x40)); /* one shot */
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 0);
}
END_TEST

START_TEST(test_timer_divide_settings)
{
    /* DCR bits 3,1:0 -> divider (SDM Figure 11-10). */
    static const uint32_t dcr[8] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb};
    static const uint32_t div[8] = {2, 4, 8, 16, 32, 64, 128, 1};
    enable();
    wr(APIC_LVT_TIMER, 0x40);
    for (int i = 0; i < 8; i++) {
        uint64_t start = now_ns;
        wr(APIC_TIMER_DCR, dcr[i]);
        ck_assert_uint_eq(rd(APIC_TIMER_DCR), dcr[i]);
        wr(APIC_TIMER_ICR, 100);
        set_time(start + (uint64_t)div[i] * 100 - 1);
        ck_assert_msg(!irr_has(0x40), "divider %u fired early", div[i]);
        set_time(start + (uint64_t)div[i] * 100);
        ck_assert_msg(irr_has(0x40), "divider %u did not fire", div[i]);
        ck_assert_int_eq(apic_ack(apic), 0x40);
        wr(APIC_EOI, 0);
    }
}
END_TEST

START_TEST(test_timer_periodic)
{
    enable();
    wr(APIC_TIMER_DCR, 0xb); /* divide by 1 */
    wr(APIC_LVT_TIMER, (APIC_TIMER_PERIODIC << APIC_TIMER_MODE_SHIFT) | 0x40);
    wr(APIC_TIMER_ICR, 100);
    set_time(50);
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 50);
    for (int k = 1; k <= 3; k++) {
        set_time(100 * (uint64_t)k - 1);
        ck_assert(!irr_has(0x40));
        set_time(100 * (uint64_t)k);
        ck_assert_msg(irr_has(0x40), "period %d", k);
        ck_assert_int_eq(apic_ack(apic), 0x40);
        wr(APIC_EOI, 0);
    }
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 100);
    /* Masked, it keeps counting but delivers nothing. */
    wr(APIC_LVT_TIMER, APIC_LVT_MASKED | (APIC_TIMER_PERIODIC << APIC_TIMER_MODE_SHIFT) | 0x40);
    set_time(400);
    ck_assert(!irr_has(0x40));
    ck_assert_uint_eq(rd(APIC_TIMER_CCR), 100);
    /* A count of 0 stops it. */
    wr(APIC_TIMER_ICR, 0);
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
}
END_TEST

START_TEST(test_timer_tsc_deadline)
{
    enable();
    tsc_offset = 1000000;
    /* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
    apic_set_tsc_deadline(apic, tsc_offset + 500);
    ck_assert_uint_eq(apic_get_tsc_deadline(apic), 0);
    wr(APIC_LVT_TIMER, (APIC_TIMER_TSC_DEADLINE << APIC_TIMER_MODE_SHIFT) | 0x41);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), 0x40041u);
    /* The initial count is ignored in this mode. */
    wr(APIC_TIMER_ICR, 5);
    ck_assert_uint_eq(rd(APIC_TIMER_ICR), 0);
    set_time(100);
    apic_set_tsc_deadline(apic, tsc_offset + 500);
    ck_assert_uint_eq(apic_get_tsc_deadline(apic), tsc_offset + 500);
    set_time(499);
    ck_assert(!irr_has(0x41));
    set_time(500);
    ck_assert(irr_has(0x41));
    ck_assert_uint_eq(apic_get_tsc_deadline(apic), 0); /* cleared once it passed */
    ck_assert_int_eq(apic_ack(apic), 0x41);
    wr(APIC_EOI, 0);
    /* A deadline already past fires at once; 0 disarms. */
    apic_set_tsc_deadline(apic, tsc_offset + 10);
    set_time(501);
    ck_assert(irr_has(0x41));
    apic_set_tsc_deadline(apic, tsc_offset + 9000);
    apic_set_tsc_deadline(apic, 0);
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
    /* Leaving the mode disarms the deadline. */
    apic_set_tsc_deadline(apic, tsc_offset + 9000);
    wr(APIC_LVT_TIMER, 0x41);
    ck_assert_int_eq(timerlist_next_deadline(&tl), TIMER_NEVER);
}
END_TEST

START_TEST(test_lint0_extint)
{
    IRQ lint0 = apic_lint0(apic);
    /* Reset: LINT0 is ExtINT, so the 8259's INT raises INTR even with the
     * APIC software-disabled, and INTA goes to the 8259. */
    irq_raise(&lint0);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x08);
    ck_assert_int_eq(extint_acks, 1);
    irq_lower(&lint0);
    ck_assert_int_eq(intr_level, 0);
    /* Masked LINT0 (what an OS does when the I/O APIC takes over). */
    enable();
    wr(APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
    irq_raise(&lint0);
    ck_assert_int_eq(intr_level, 0);
    ck_assert_int_eq(apic_ack(apic), -1);
    /* The APIC globally disabled: INTR is the 8259's INT again. */
    ck_assert(apic_set_base(apic, APIC_DEFAULT_BASE | APIC_BASE_BSP));
    ck_assert(!apic_enabled(apic));
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x08);
    irq_lower(&lint0);
    ck_assert_int_eq(intr_level, 0);
}
END_TEST

START_TEST(test_lint_fixed_and_nmi)
{
    enable();
    IRQ lint0 = apic_lint0(apic);
    IRQ lint1 = apic_lint1(apic);
    wr(APIC_LVT_LINT1, APIC_DM_NMI << 8);
    irq_raise(&lint1);
    ck_assert_int_eq(nmi_count, 1);
    irq_raise(&lint1); /* still high: no new edge */
    ck_assert_int_eq(nmi_count, 1);
    irq_lower(&lint1);
    /* LINT0 fixed, level-triggered: remote IRR until EOI, then again while high. */
    wr(APIC_LVT_LINT0, APIC_LVT_LEVEL | 0x66);
    irq_raise(&lint0);
    ck_assert(irr_has(0x66));
    ck_assert(rd(APIC_LVT_LINT0) & APIC_LVT_REMOTE_IRR);
    ck_assert_int_eq(apic_ack(apic), 0x66);
    wr(APIC_EOI, 0);
    ck_assert(irr_has(0x66)); /* the pin is still up */
    ck_assert_int_eq(apic_ack(apic), 0x66);
    irq_lower(&lint0);
    wr(APIC_EOI, 0);
    ck_assert(!irr_has(0x66));
    ck_assert(!(rd(APIC_LVT_LINT0) & APIC_LVT_REMOTE_IRR));
}
END_TEST

START_TEST(test_base_relocation)
{
    ck_assert(!apic_set_base(apic, 0x1ull << 32 | APIC_BASE_ENABLE));            /* reserved bits */
    ck_assert(!apic_set_base(apic, APIC_DEFAULT_BASE | APIC_BASE_ENABLE | 0x1)); /* reserved */
    int before = map_changes;
    ck_assert(apic_set_base(apic, 0xfef00000u | APIC_BASE_ENABLE));
    ck_assert_int_gt(map_changes, before);
    /* The BSP bit is the hardware's. */
    ck_assert_uint_eq(apic_get_base(apic), 0xfef00000u | APIC_BASE_ENABLE | APIC_BASE_BSP);
    ck_assert_uint_eq(phys_read(pm, 0xfef00030, 4), 0x00050014u);
    ck_assert_uint_eq(phys_read(pm, 0xfee00030, 4), 0xffffffffu); /* nobody there now */
    /* Register writes through the page. */
    phys_write(pm, 0xfef00080, 0x30, 4);
    ck_assert_uint_eq(rd(APIC_TPR), 0x30);
    /* Globally disabled: the page is gone. */
    ck_assert(apic_set_base(apic, 0xfef00000u));
    ck_assert_uint_eq(phys_read(pm, 0xfef00030, 4), 0xffffffffu);
    apic_reset(apic);
    ck_assert_uint_eq(phys_read(pm, 0xfee00030, 4), 0x00050014u);
}
END_TEST

static Suite *apic_suite(void)
{
    Suite *s = suite_create("apic");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_priority_order_and_eoi);
    tcase_add_test(tc, test_same_class_waits);
    tcase_add_test(tc, test_tpr_masks);
    tcase_add_test(tc, test_spurious_vector);
    tcase_add_test(tc, test_sw_disabled);
    tcase_add_test(tc, test_self_ipi_destinations);
    tcase_add_test(tc, test_nmi_and_init_ipi);
    tcase_add_test(tc, test_esr_and_error_lvt);
    tcase_add_test(tc, test_level_eoi_broadcast);
    tcase_add_test(tc, test_timer_oneshot_divide);
    tcase_add_test(tc, test_timer_divide_settings);
    tcase_add_test(tc, test_timer_periodic);
    tcase_add_test(tc, test_timer_tsc_deadline);
    tcase_add_test(tc, test_lint0_extint);
    tcase_add_test(tc, test_lint_fixed_and_nmi);
    tcase_add_test(tc, test_base_relocation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
