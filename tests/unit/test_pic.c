/*
 * 8259A pair through its ports: initialisation, priorities, masking, the
 * EOI kinds, cascade, edge and level triggering, poll, spurious IRQ7/15.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/intc/pic.h"

static IOPortMap *io;
static PICState *pic;
static int intr_level; /* CPU INTR pin as the PIC drives it */
static int intr_raises;

static void cpu_intr_handler(void *opaque, int n, int level)
{
    if (level && !intr_level) {
        intr_raises++;
    }
    intr_level = level;
}

static void outb(uint16_t port, uint8_t value)
{
    ioport_write(io, port, value, 1);
}

static uint8_t inb(uint16_t port)
{
    return ioport_read(io, port, 1);
}

/* What a PC BIOS does: master vectors 0x08, slave 0x70, cascade on IR2,
 * 8086 mode, everything unmasked. */
static void init_pics(uint8_t icw4)
{
    outb(0x20, 0x11);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, icw4);
    outb(0xa0, 0x11);
    outb(0xa1, 0x70);
    outb(0xa1, 0x02);
    outb(0xa1, icw4);
    outb(0x21, 0x00);
    outb(0xa1, 0x00);
}

static uint8_t read_isr(uint16_t cmd_port)
{
    outb(cmd_port, 0x0b);
    return inb(cmd_port);
}

static uint8_t read_irr(uint16_t cmd_port)
{
    outb(cmd_port, 0x0a);
    return inb(cmd_port);
}

static void pulse(int irq)
{
    IRQ line = pic_input(pic, irq);
    irq_pulse(&line);
}

static void setup(void)
{
    io = malloc(sizeof(*io));
    ck_assert_ptr_nonnull(io);
    ioport_init(io);
    intr_level = 0;
    intr_raises = 0;
    pic = pic_new(io, irq_make(cpu_intr_handler, NULL, 0));
    ck_assert_ptr_nonnull(pic);
    init_pics(0x01);
}

static void teardown(void)
{
    pic_free(pic);
    free(io);
}

START_TEST(test_reset_masks_everything)
{
    pic_reset(pic);
    ck_assert_uint_eq(inb(0x21), 0xff);
    ck_assert_uint_eq(inb(0xa1), 0xff);
    pulse(0);
    ck_assert(!pic_intr_pending(pic));
    ck_assert_int_eq(intr_level, 0);
}
END_TEST

START_TEST(test_edge_request_and_ack)
{
    ck_assert_int_eq(intr_level, 0);
    pulse(1);
    /* The pulse is latched in IRR although the line is low again. */
    ck_assert_uint_eq(read_irr(0x20), 0x02);
    ck_assert_int_eq(intr_level, 1);
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x09);
    ck_assert_int_eq(intr_level, 0);
    ck_assert_uint_eq(read_isr(0x20), 0x02);
    ck_assert_uint_eq(read_irr(0x20), 0x00);
    outb(0x20, 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    ck_assert_int_eq(intr_raises, 1);
}
END_TEST

START_TEST(test_fixed_priority_and_nesting)
{
    pulse(3);
    pulse(1);
    ck_assert_int_eq(pic_ack(pic), 0x09); /* IR1 outranks IR3 */
    ck_assert(!pic_intr_pending(pic));    /* IR3 waits behind IR1 in service */
    pulse(0);
    ck_assert(pic_intr_pending(pic)); /* IR0 outranks IR1: nests */
    ck_assert_int_eq(pic_ack(pic), 0x08);
    ck_assert_uint_eq(read_isr(0x20), 0x03);
    outb(0x20, 0x20); /* non-specific EOI ends IR0, the highest in service */
    ck_assert_uint_eq(read_isr(0x20), 0x02);
    ck_assert(!pic_intr_pending(pic));
    outb(0x20, 0x20);
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x0b);
}
END_TEST

START_TEST(test_mask_holds_request)
{
    outb(0x21, 0x10);
    ck_assert_uint_eq(inb(0x21), 0x10);
    pulse(4);
    ck_assert_uint_eq(read_irr(0x20), 0x10);
    ck_assert(!pic_intr_pending(pic));
    ck_assert_int_eq(intr_level, 0);
    outb(0x21, 0x00);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(pic_ack(pic), 0x0c);
}
END_TEST

START_TEST(test_specific_eoi)
{
    pulse(5);
    ck_assert_int_eq(pic_ack(pic), 0x0d);
    pulse(3); /* IR3 nests over IR5 */
    ck_assert_int_eq(pic_ack(pic), 0x0b);
    ck_assert_uint_eq(read_isr(0x20), 0x28);
    outb(0x20, 0x60 | 5); /* specific EOI for IR5, not the highest */
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    outb(0x20, 0x60 | 3);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
}
END_TEST

START_TEST(test_cascade)
{
    pulse(10);
    ck_assert_int_eq(intr_level, 1);
    ck_assert_int_eq(pic_ack(pic), 0x72);
    ck_assert_uint_eq(read_isr(0xa0), 0x04);
    ck_assert_uint_eq(read_isr(0x20), 0x04); /* master's IR2 in service too */
    /* Without EOIs, a lower slave request waits; a master IR0 does not. */
    pulse(12);
    ck_assert(!pic_intr_pending(pic));
    pulse(0);
    ck_assert_int_eq(pic_ack(pic), 0x08);
    outb(0x20, 0x20);
    /* EOI to the slave then the master lets IRQ12 through. */
    outb(0xa0, 0x20);
    ck_assert(!pic_intr_pending(pic));
    outb(0x20, 0x20);
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x74);
}
END_TEST

START_TEST(test_slave_priority_within_cascade)
{
    pulse(14);
    pulse(9);
    /* Both are behind IR2 at the master; the slave resolves IR1 first. */
    ck_assert_int_eq(pic_ack(pic), 0x71);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    ck_assert_int_eq(pic_ack(pic), 0x76);
}
END_TEST

START_TEST(test_level_triggered_via_elcr)
{
    /* ELCR only has bits for IRQs that may be level triggered. */
    outb(0x4d0, 0xff);
    ck_assert_uint_eq(inb(0x4d0), 0xf8);
    outb(0x4d1, 0xff);
    ck_assert_uint_eq(inb(0x4d1), 0xde);
    outb(0x4d1, 0x04); /* IRQ10 level */
    IRQ line = pic_input(pic, 10);
    irq_raise(&line);
    ck_assert_int_eq(pic_ack(pic), 0x72);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    /* Still high after EOI: requests again (a shared PCI line). */
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x72);
    /* The handler quiets the device before its EOIs: the request is gone. */
    irq_lower(&line);
    ck_assert_uint_eq(read_irr(0xa0), 0x00);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    ck_assert(!pic_intr_pending(pic));
}
END_TEST

START_TEST(test_edge_held_high_fires_once)
{
    IRQ line = pic_input(pic, 3);
    irq_raise(&line);
    ck_assert_int_eq(pic_ack(pic), 0x0b);
    outb(0x20, 0x20);
    /* No new rising edge, no new request. */
    ck_assert(!pic_intr_pending(pic));
    irq_lower(&line);
    irq_raise(&line);
    ck_assert(pic_intr_pending(pic));
}
END_TEST

START_TEST(test_ltim_makes_all_level)
{
    outb(0x20, 0x19); /* ICW1 with LTIM */
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0x21, 0x00);
    IRQ line = pic_input(pic, 1);
    irq_raise(&line);
    ck_assert_int_eq(pic_ack(pic), 0x09);
    outb(0x20, 0x20);
    ck_assert(pic_intr_pending(pic));
    irq_lower(&line);
    ck_assert(!pic_intr_pending(pic));
    /* A pulse on a level input leaves nothing behind. */
    pulse(1);
    ck_assert(!pic_intr_pending(pic));
}
END_TEST

START_TEST(test_poll_command)
{
    outb(0x21, 0xff); /* polled systems run with INT ignored */
    outb(0x20, 0x0c);
    ck_assert_uint_eq(inb(0x20), 0x00); /* nothing requesting */
    pulse(6);
    outb(0x21, 0x00);
    outb(0x20, 0x0c);
    ck_assert_uint_eq(inb(0x20), 0x86);
    ck_assert_uint_eq(read_isr(0x20), 0x40); /* the poll read acknowledged */
    /* Poll is one-shot: the next read is a normal register read. */
    outb(0x20, 0x0a);
    ck_assert_uint_eq(inb(0x20), 0x00);
}
END_TEST

START_TEST(test_spurious_irq7)
{
    outb(0x4d0, 0x20); /* IRQ5 level */
    IRQ line = pic_input(pic, 5);
    irq_raise(&line);
    ck_assert_int_eq(intr_level, 1);
    /* The device drops its request before the CPU's INTA. */
    irq_lower(&line);
    ck_assert_int_eq(pic_ack(pic), 0x0f);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    /* Masking between INTR and INTA also gives IR7. */
    pulse(4);
    outb(0x21, 0x10);
    ck_assert_int_eq(pic_ack(pic), 0x0f);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
}
END_TEST

START_TEST(test_spurious_irq15)
{
    outb(0x4d1, 0x08); /* IRQ11 level */
    IRQ line = pic_input(pic, 11);
    irq_raise(&line);
    ck_assert_int_eq(intr_level, 1);
    irq_lower(&line);
    /* The master latched the cascade edge, so it is the slave that finds
     * nothing: vector of the slave's IR7, slave ISR untouched, and the
     * master's IR2 in service (the OS must EOI the master). */
    ck_assert_int_eq(pic_ack(pic), 0x77);
    ck_assert_uint_eq(read_isr(0xa0), 0x00);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
}
END_TEST

START_TEST(test_auto_eoi)
{
    init_pics(0x03);
    pulse(5);
    ck_assert_int_eq(pic_ack(pic), 0x0d);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    pulse(6); /* lower priority, yet nothing in service blocks it */
    ck_assert_int_eq(pic_ack(pic), 0x0e);
}
END_TEST

START_TEST(test_auto_eoi_slave_keeps_second_request)
{
    init_pics(0x03);
    pulse(9);
    pulse(13);
    ck_assert_int_eq(pic_ack(pic), 0x71);
    /* The slave still requests IR5; the master must hear it again. */
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x75);
    ck_assert(!pic_intr_pending(pic));
}
END_TEST

START_TEST(test_rotate_on_nonspecific_eoi)
{
    pulse(1);
    ck_assert_int_eq(pic_ack(pic), 0x09);
    outb(0x20, 0xa0); /* rotate: IR1 becomes the lowest priority */
    pulse(1);
    pulse(3);
    ck_assert_int_eq(pic_ack(pic), 0x0b);
    outb(0x20, 0xa0); /* now IR3 is lowest, IR4 highest */
    pulse(3);
    ck_assert_int_eq(pic_ack(pic), 0x09); /* IR1 (rank 5) beats IR3 (rank 7) */
}
END_TEST

START_TEST(test_set_priority_and_rotate_specific)
{
    outb(0x20, 0xc0 | 4); /* IR4 lowest: IR5 highest */
    pulse(0);
    pulse(6);
    ck_assert_int_eq(pic_ack(pic), 0x0e);
    outb(0x20, 0xe0 | 6); /* rotate on specific EOI: IR6 lowest */
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    pulse(6);
    ck_assert_int_eq(pic_ack(pic), 0x08); /* IR0 (rank 1) over IR6 (rank 7) */
}
END_TEST

START_TEST(test_rotate_in_auto_eoi)
{
    init_pics(0x03);
    outb(0x20, 0x80); /* set rotate in AEOI mode */
    pulse(0);
    ck_assert_int_eq(pic_ack(pic), 0x08);
    pulse(0);
    pulse(7);
    ck_assert_int_eq(pic_ack(pic), 0x0f); /* IR0 went to the bottom */
    outb(0x20, 0x00);                     /* clear rotate in AEOI mode */
    ck_assert_int_eq(pic_ack(pic), 0x08); /* IR0 is now the highest */
    pulse(7);
    pulse(0);
    /* That INTA did not rotate, so IR0 is still the highest. */
    ck_assert_int_eq(pic_ack(pic), 0x08);
}
END_TEST

START_TEST(test_special_mask_mode)
{
    pulse(3);
    ck_assert_int_eq(pic_ack(pic), 0x0b);
    pulse(5);
    ck_assert(!pic_intr_pending(pic)); /* IR3 in service blocks IR5 */
    outb(0x21, 0x08);                  /* mask IR3 */
    ck_assert(!pic_intr_pending(pic)); /* masking alone is not enough */
    outb(0x20, 0x68);                  /* OCW3: set special mask mode */
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x0d);
    /* A non-specific EOI skips the masked IR3 in special mask mode. */
    outb(0x20, 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    outb(0x20, 0x48); /* reset special mask mode */
    outb(0x20, 0x63);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
}
END_TEST

START_TEST(test_special_fully_nested)
{
    init_pics(0x11); /* SFNM on both */
    pulse(12);
    ck_assert_int_eq(pic_ack(pic), 0x74);
    /* A higher slave request gets through the master's IR2 in service. */
    pulse(9);
    ck_assert(pic_intr_pending(pic));
    ck_assert_int_eq(pic_ack(pic), 0x71);
    /* A lower master request still waits behind IR2. */
    pulse(5);
    ck_assert(!pic_intr_pending(pic));
}
END_TEST

START_TEST(test_icw1_reinit)
{
    outb(0x21, 0x50);
    IRQ line = pic_input(pic, 3);
    irq_raise(&line);
    pic_ack(pic);
    outb(0x20, 0x11);
    /* ICW1 clears IMR and ISR and resets the edge sense: the line that is
     * still high must go low and high again. */
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    ck_assert_uint_eq(inb(0x21), 0x00);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    ck_assert(!pic_intr_pending(pic));
    irq_lower(&line);
    irq_raise(&line);
    ck_assert_int_eq(pic_ack(pic), 0x23); /* new base from ICW2 */
}
END_TEST

START_TEST(test_icw1_drops_latched_edges_keeps_levels)
{
    outb(0x4d0, 0x40); /* IRQ6 level */
    outb(0x21, 0xff);
    pulse(5);
    IRQ level_line = pic_input(pic, 6);
    irq_raise(&level_line);
    ck_assert_uint_eq(read_irr(0x20), 0x60);
    init_pics(0x01);
    /* The latched edge is forgotten; the level request is still there. */
    ck_assert_uint_eq(read_irr(0x20), 0x40);
    ck_assert_int_eq(pic_ack(pic), 0x0e);
}
END_TEST

START_TEST(test_irq2_is_irq9)
{
    pulse(2);
    ck_assert_int_eq(pic_ack(pic), 0x71);
}
END_TEST

START_TEST(test_info_text)
{
    pulse(4);
    pic_ack(pic);
    outb(0x21, 0x81);
    char buf[512];
    int n = pic_info(pic, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_lt(n, (int)sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "master: irr=00 imr=81 isr=10 base=08 elcr=00"));
    ck_assert_ptr_nonnull(strstr(buf, "slave: irr=00 imr=00 isr=00 base=70 elcr=00"));
    /* Truncated output reports the full length, like snprintf. */
    char small[8];
    ck_assert_int_eq(pic_info(pic, small, sizeof(small)), n);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("pic");
    TCase *tc = tcase_create("8259a");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_masks_everything);
    tcase_add_test(tc, test_edge_request_and_ack);
    tcase_add_test(tc, test_fixed_priority_and_nesting);
    tcase_add_test(tc, test_mask_holds_request);
    tcase_add_test(tc, test_specific_eoi);
    tcase_add_test(tc, test_cascade);
    tcase_add_test(tc, test_slave_priority_within_cascade);
    tcase_add_test(tc, test_level_triggered_via_elcr);
    tcase_add_test(tc, test_edge_held_high_fires_once);
    tcase_add_test(tc, test_ltim_makes_all_level);
    tcase_add_test(tc, test_poll_command);
    tcase_add_test(tc, test_spurious_irq7);
    tcase_add_test(tc, test_spurious_irq15);
    tcase_add_test(tc, test_auto_eoi);
    tcase_add_test(tc, test_auto_eoi_slave_keeps_second_request);
    tcase_add_test(tc, test_rotate_on_nonspecific_eoi);
    tcase_add_test(tc, test_set_priority_and_rotate_specific);
    tcase_add_test(tc, test_rotate_in_auto_eoi);
    tcase_add_test(tc, test_special_mask_mode);
    tcase_add_test(tc, test_special_fully_nested);
    tcase_add_test(tc, test_icw1_reinit);
    tcase_add_test(tc, test_icw1_drops_latched_edges_keeps_levels);
    tcase_add_test(tc, test_irq2_is_irq9);
    tcase_add_test(tc, test_info_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
