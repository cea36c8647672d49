/*
 * The I/O APIC through IOREGSEL/IOWIN: identification registers, edge and
 * level inputs (remote IRR and EOI), masking, the message fields of each
 * delivery mode; then wired to a local APIC as on the PC: a level vector
 * taken and retired end to end, and the 8259 through pin 0 as ExtINT
 * (virtual wire mode through the I/O APIC).
 */
#include <check.h>
#include <stdlib.h>

#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"

typedef struct Message {
    int mode, vector;
    bool level, logical;
    uint8_t dest;
} Message;

static PhysMem *pm;
static IOAPICState *io;
static Message msgs[16];
static int nmsgs;

static void record(void *opaque, int mode, int vector, bool level, bool logical, uint8_t dest)
{
    if (nmsgs < 16) {
        msgs[nmsgs] = (Message){mode, vector, level, logical, dest};
    }
    nmsgs++;
}

static uint32_t reg_read(uint8_t reg)
{
    phys_write(pm, IOAPIC_DEFAULT_BASE, reg, 1);
    return phys_read(pm, IOAPIC_DEFAULT_BASE + 0x10, 4);
}

static void reg_write(uint8_t reg, uint32_t value)
{
    phys_write(pm, IOAPIC_DEFAULT_BASE, reg, 1);
    phys_write(pm, IOAPIC_DEFAULT_BASE + 0x10, value, 4);
}

static void set_rte(int pin, uint64_t rte)
{
    reg_write((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin + 1), (uint32_t)(rte >> 32));
    reg_write((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin), (uint32_t)rte);
}

static uint64_t get_rte(int pin)
{
    return reg_read((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin)) |
           (uint64_t)reg_read((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin + 1)) << 32;
}

static void setup(void)
{
    nmsgs = 0;
    pm = malloc(sizeof(*pm));
    ck_assert(phys_init(pm, 1 << 20));
    io = ioapic_new(pm, PC_IOAPIC_ID, record, NULL);
    ck_assert_ptr_nonnull(io);
}

static void teardown(void)
{
    ioapic_free(io);
    phys_destroy(pm);
    free(pm);
}

START_TEST(test_identification)
{
    ck_assert_uint_eq(reg_read(IOAPIC_REG_VER), 0x00170011u); /* 24 entries, version 11h */
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ID), 1u << 24);
    reg_write(IOAPIC_REG_ID, 0x05000000);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ID), 5u << 24);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ARB), 5u << 24);
    reg_write(IOAPIC_REG_VER, 0); /* read-only */
    ck_assert_uint_eq(reg_read(IOAPIC_REG_VER), 0x00170011u);
    ck_assert_uint_eq(phys_read(pm, IOAPIC_DEFAULT_BASE, 4),
                      IOAPIC_REG_VER); /* IOREGSEL reads back */
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        ck_assert_uint_eq(get_rte(pin), IOAPIC_RTE_MASKED);
    }
    /* Remote IRR and delivery status cannot be written. */
    set_rte(3, IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_PENDING | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |
                   0x33);
    ck_assert_uint_eq(get_rte(3), IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0x33);
    set_rte(3, 0xab00000000000000ull | IOAPIC_RTE_POLARITY | IOAPIC_RTE_LOGICAL | 0x133);
    ck_assert_uint_eq(get_rte(3),
                      0xab00000000000000ull | IOAPIC_RTE_POLARITY | IOAPIC_RTE_LOGICAL | 0x133);
}
END_TEST

START_TEST(test_edge)
{
    set_rte(4, 0x34);
    ioapic_set_irq(io, 4, 1);
    ck_assert_int_eq(nmsgs, 1);
    ck_assert_int_eq(msgs[0].vector, 0x34);
    ck_assert_int_eq(msgs[0].mode, APIC_DM_FIXED);
    ck_assert(!msgs[0].level);
    ioapic_set_irq(io, 4, 1); /* still high: no edge */
    ck_assert_int_eq(nmsgs, 1);
    ioapic_set_irq(io, 4, 0);
    ioapic_set_irq(io, 4, 1);
    ck_assert_int_eq(nmsgs, 2);
    ck_assert(!(get_rte(4) & IOAPIC_RTE_REMOTE_IRR));
    /* An edge while masked is lost, also after unmasking. */
    ioapic_set_irq(io, 4, 0);
    set_rte(4, IOAPIC_RTE_MASKED | 0x34);
    ioapic_set_irq(io, 4, 1);
    set_rte(4, 0x34);
    ck_assert_int_eq(nmsgs, 2);
}
END_TEST

START_TEST(test_level_remote_irr)
{
    set_rte(10, IOAPIC_RTE_LEVEL | 0x3a);
    ioapic_set_irq(io, 10, 1);
    ck_assert_int_eq(nmsgs, 1);
    ck_assert(msgs[0].level);
    ck_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);
    /* No new message until the EOI, however the line moves. */
    ioapic_set_irq(io, 10, 0);
    ioapic_set_irq(io, 10, 1);
    ck_assert_int_eq(nmsgs, 1);
    /* EOI of another vector changes nothing. */
    ioapic_eoi(io, 0x3b);
    ck_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);
    /* EOI with the line still asserted: delivered again. */
    ioapic_eoi(io, 0x3a);
    ck_assert_int_eq(nmsgs, 2);
    ck_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);
    /* The device is served, the line drops, then the EOI. */
    ioapic_set_irq(io, 10, 0);
    ioapic_eoi(io, 0x3a);
    ck_assert_int_eq(nmsgs, 2);
    ck_assert(!(get_rte(10) & IOAPIC_RTE_REMOTE_IRR));
}
END_TEST

START_TEST(test_level_mask)
{
    set_rte(11, IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0x3b);
    ioapic_set_irq(io, 11, 1);
    ck_assert_int_eq(nmsgs, 0);
    /* Unmasking an asserted level line sends it. */
    set_rte(11, IOAPIC_RTE_LEVEL | 0x3b);
    ck_assert_int_eq(nmsgs, 1);
}
END_TEST

START_TEST(test_message_fields)
{
    set_rte(1, (0x0full << IOAPIC_RTE_DEST_SHIFT) | IOAPIC_RTE_LOGICAL |
                   ((uint64_t)APIC_DM_LOWEST << 8) | 0x31);
    set_rte(5, ((uint64_t)APIC_DM_NMI << 8));
    set_rte(0, ((uint64_t)APIC_DM_EXTINT << 8));
    ioapic_set_irq(io, 1, 1);
    ioapic_set_irq(io, 5, 1);
    ioapic_set_irq(io, 0, 1);
    ck_assert_int_eq(nmsgs, 3);
    ck_assert_int_eq(msgs[0].mode, APIC_DM_LOWEST);
    ck_assert(msgs[0].logical);
    ck_assert_uint_eq(msgs[0].dest, 0x0f);
    ck_assert_int_eq(msgs[1].mode, APIC_DM_NMI);
    ck_assert_int_eq(msgs[2].mode, APIC_DM_EXTINT);
    /* Out-of-range pins are ignored. */
    ioapic_set_irq(io, 24, 1);
    ioapic_set_irq(io, -1, 1);
    ck_assert_int_eq(nmsgs, 3);
}
END_TEST

/* ---- wired to a local APIC, as on the PC ---- */

static uint64_t now_ns;
static TimerList tl;
static APICState *apic;
static int intr_level;
static int pic_acks;

static void intr_handler(void *opaque, int n, int level)
{
    intr_level = level;
}

static int pic_ack_hook(void *opaque)
{
    pic_acks++;
    return 0x20;
}

static void eoi_hook(void *opaque, int vector)
{
    ioapic_eoi(io, vector);
}

static void to_apic(void *opaque, int mode, int vector, bool level, bool logical, uint8_t dest)
{
    apic_deliver(apic, mode, vector, level, logical, dest);
}

static void wired_setup(void)
{
    now_ns = 0;
    intr_level = pic_acks = 0;
    timerlist_init_icount(&tl, &now_ns, 0);
    pm = malloc(sizeof(*pm));
    ck_assert(phys_init(pm, 1 << 20));
    APICHooks hooks = {NULL, pic_ack_hook, eoi_hook, NULL, NULL, NULL};
    apic = apic_new(pm, &tl, 0, irq_make(intr_handler, NULL, 0), (IRQ){0}, &hooks);
    io = ioapic_new(pm, PC_IOAPIC_ID, to_apic, NULL);
    ck_assert(apic && io);
    apic_write(apic, APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

static void wired_teardown(void)
{
    ioapic_free(io);
    apic_free(apic);
    phys_destroy(pm);
    free(pm);
}

START_TEST(test_level_end_to_end)
{
    set_rte(9, IOAPIC_RTE_LEVEL | 0x49);
    ioapic_set_irq(io, 9, 1);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x49);
    ck_assert(get_rte(9) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_set_irq(io, 9, 0); /* the handler served the device */
    apic_write(apic, APIC_EOI, 0);
    ck_assert(!(get_rte(9) & IOAPIC_RTE_REMOTE_IRR));
    ck_assert_int_eq(intr_level, 0);
    /* Physical destination 1 is not this CPU: nothing arrives. */
    set_rte(9, (1ull << IOAPIC_RTE_DEST_SHIFT) | 0x49);
    ioapic_set_irq(io, 9, 1);
    ck_assert_int_eq(intr_level, 0);
}
END_TEST

START_TEST(test_extint_virtual_wire)
{
    /* LINT0 masked, the 8259's INT on pin 0 as ExtINT. */
    IRQ lint0 = apic_lint0(apic);
    apic_write(apic, APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
    set_rte(0, (uint64_t)APIC_DM_EXTINT << 8);
    irq_raise(&lint0); /* the board drives both from the 8259's INT */
    ioapic_set_irq(io, 0, 1);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(apic_ack(apic), 0x20);
    ck_assert_int_eq(pic_acks, 1);
    irq_lower(&lint0);
    ioapic_set_irq(io, 0, 0);
    ck_assert_int_eq(intr_level, 0);
    /* Pin 0 masked: the 8259 is not heard. */
    set_rte(0, IOAPIC_RTE_MASKED | (uint64_t)APIC_DM_EXTINT << 8);
    irq_raise(&lint0);
    ioapic_set_irq(io, 0, 1);
    ck_assert_int_eq(intr_level, 0);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_identification);
    tcase_add_test(tc, test_edge);
    tcase_add_test(tc, test_level_remote_irr);
    tcase_add_test(tc, test_level_mask);
    tcase_add_test(tc, test_message_fields);
    suite_add_tcase(s, tc);
    TCase *wired = tcase_create("wired");
    tcase_add_checked_fixture(wired, wired_setup, wired_teardown);
    tcase_add_test(wired, test_level_end_to_end);
    tcase_add_test(wired, test_extint_virtual_wire);
    suite_add_tcase(s, wired);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ioapic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
