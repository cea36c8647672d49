/*
 * 16550A UART through its ports only: registers, FIFOs and trigger levels,
 * every interrupt source and their IIR priority, THRE rules, the character
 * timeout in virtual time, loopback and the PC's OUT2 interrupt gate.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/char/uart.h"

#define BASE 0x3f8

typedef struct Fixture {
    IOPortMap io;
    TimerList tl;
    uint64_t clock; /* virtual ns: the deterministic time source */
    int irq_level;
    int irq_raises;   /* rising edges seen */
    uint8_t out[256]; /* bytes the backend received */
    int out_len;
    UARTState *uart;
} Fixture;

static Fixture *f;

static void irq_probe(void *opaque, int n, int level)
{
    Fixture *fx = opaque;

    if (level && !fx->irq_level) {
        fx->irq_raises++;
    }
    fx->irq_level = level;
}

static void sink_write(void *opaque, const uint8_t *buf, int len)
{
    Fixture *fx = opaque;

    for (int i = 0; i < len && fx->out_len < (int)sizeof(fx->out); i++) {
        fx->out[fx->out_len++] = buf[i];
    }
}

static void setup(void)
{
    CharBackend chr;

    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    timerlist_init_icount(&f->tl, &f->clock, 0);
    chr.opaque = f;
    chr.write = sink_write;
    f->uart = uart_new(&f->io, BASE, &f->tl, irq_make(irq_probe, f, 4), &chr);
    ck_assert_ptr_nonnull(f->uart);
}

static void teardown(void)
{
    uart_free(f->uart);
    free(f);
}

static uint8_t in(int reg)
{
    return (uint8_t)ioport_read(&f->io, BASE + reg, 1);
}

static void out(int reg, uint8_t val)
{
    ioport_write(&f->io, BASE + reg, val, 1);
}

static void advance(int64_t ns)
{
    f->clock += (uint64_t)ns;
    timerlist_run(&f->tl);
}

static void rx(const char *s)
{
    uart_receive(f->uart, (const uint8_t *)s, (int)strlen(s));
}

/* 115200 baud, 8N1: one character is 10 bits of 16 clocks at 1.8432 MHz. */
static void set_115200_8n1(void)
{
    out(UART_LCR, UART_LCR_DLAB);
    out(UART_DLL, 1);
    out(UART_DLM, 0);
    out(UART_LCR, 0x03);
}

#define CHAR_NS_115200 86805 /* 10 * 16 * 1e9 / 1843200, rounded down */

START_TEST(test_reset_values)
{
    ck_assert_uint_eq(in(UART_IER), 0x00);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_uint_eq(in(UART_LCR), 0x00);
    ck_assert_uint_eq(in(UART_MCR), 0x00);
    ck_assert_uint_eq(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    ck_assert_uint_eq(in(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
    ck_assert_int_eq(f->irq_level, 0);
}
END_TEST

START_TEST(test_dlab_selects_divisor_latch)
{
    out(UART_LCR, UART_LCR_DLAB);
    out(UART_DLL, 0x34);
    out(UART_DLM, 0x12);
    ck_assert_uint_eq(in(UART_DLL), 0x34);
    ck_assert_uint_eq(in(UART_DLM), 0x12);
    ck_assert_int_eq(f->out_len, 0); /* DLL write did not transmit */
    out(UART_LCR, 0x03);
    ck_assert_uint_eq(in(UART_IER), 0x00); /* IER, not DLM */
    out(UART_THR, 'A');
    ck_assert_int_eq(f->out_len, 1);
    ck_assert_uint_eq(f->out[0], 'A');
    out(UART_LCR, 0x83);
    ck_assert_uint_eq(in(UART_DLL), 0x34); /* THR write left DLL alone */
    ck_assert_uint_eq(in(UART_LCR), 0x83);
}
END_TEST

START_TEST(test_ier_upper_bits_read_zero)
{
    out(UART_IER, 0xff);
    ck_assert_uint_eq(in(UART_IER), 0x0f);
    out(UART_MCR, 0xff);
    ck_assert_uint_eq(in(UART_MCR), 0x1f);
}
END_TEST

START_TEST(test_transmit_reaches_backend)
{
    out(UART_LCR, 0x03);
    out(UART_THR, 'H');
    out(UART_THR, 'i');
    ck_assert_int_eq(f->out_len, 2);
    ck_assert_mem_eq(f->out, "Hi", 2);
    ck_assert_uint_eq(in(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
                      UART_LSR_THRE | UART_LSR_TEMT);
    /* 7-bit words: bit 7 never reaches the line. */
    out(UART_LCR, 0x02);
    out(UART_THR, 0xc1);
    ck_assert_uint_eq(f->out[2], 0x41);
}
END_TEST

START_TEST(test_thre_interrupt_rules)
{
    out(UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->irq_level, 0);
    /* Enabling ETBEI with THR empty interrupts at once. */
    out(UART_IER, UART_IER_ETBEI);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    /* That IIR read was the acknowledgement. */
    ck_assert_int_eq(f->irq_level, 0);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_int_eq(f->irq_raises, 1);
}
END_TEST

START_TEST(test_thre_after_thr_write)
{
    out(UART_MCR, UART_MCR_OUT2);
    out(UART_IER, UART_IER_ETBEI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    /* Writing THR clears THRE; once the byte is out it is set again and
     * interrupts anew. */
    out(UART_THR, 'x');
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_TEMT, UART_LSR_TEMT);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_int_eq(f->irq_raises, 2);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    ck_assert_int_eq(f->irq_level, 0);
    /* Linux's THRE re-assert probe: IER off then on again re-raises it. */
    out(UART_IER, 0);
    out(UART_IER, UART_IER_ETBEI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    /* Disabling ETBEI drops a pending THRE interrupt from IIR. */
    out(UART_THR, 'y');
    out(UART_IER, 0);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_int_eq(f->irq_level, 0);
}
END_TEST

START_TEST(test_out2_gates_irq_line)
{
    out(UART_IER, UART_IER_ETBEI);
    /* Pending in IIR, but the PC's IRQ driver is off without OUT2. */
    ck_assert_int_eq(f->irq_level, 0);
    out(UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->irq_level, 1);
    out(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    ck_assert_int_eq(f->irq_level, 0);
    out(UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
}
END_TEST

START_TEST(test_receive_without_fifo)
{
    out(UART_LCR, 0x03);
    out(UART_MCR, UART_MCR_OUT2);
    out(UART_IER, UART_IER_ERBFI);
    ck_assert_int_eq(uart_can_receive(f->uart), 1);
    rx("x");
    ck_assert_int_eq(uart_can_receive(f->uart), 0);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RDI);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(in(UART_RBR), 'x');
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_int_eq(f->irq_level, 0);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(test_overrun_without_fifo)
{
    out(UART_LCR, 0x03);
    out(UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
    rx("ab");
    /* Line status outranks received data. */
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RLSI);
    ck_assert_uint_eq(in(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    /* Reading LSR cleared OE and with it the line status interrupt. */
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_OE, 0);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RDI);
    /* Without a FIFO the new byte replaced the unread one. */
    ck_assert_uint_eq(in(UART_RBR), 'b');
}
END_TEST

START_TEST(test_fifo_enable_and_iir_bits)
{
    out(UART_FCR, UART_FCR_FE);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    ck_assert_int_eq(uart_can_receive(f->uart), UART_FIFO_SIZE);
    out(UART_FCR, 0);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_int_eq(uart_can_receive(f->uart), 1);
}
END_TEST

START_TEST(test_fifo_trigger_levels)
{
    static const struct {
        uint8_t fcr;
        int level;
    } cases[] = {{0x00, 1}, {0x40, 4}, {0x80, 8}, {0xc0, 14}};

    out(UART_LCR, 0x03);
    out(UART_IER, UART_IER_ERBFI);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out(UART_FCR, cases[i].fcr | UART_FCR_FE | UART_FCR_RFR | UART_FCR_XFR);
        for (int n = 0; n < cases[i].level - 1; n++) {
            rx("z");
        }
        ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
        rx("z");
        ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
        in(UART_RBR);
        /* Below the trigger level again: the interrupt goes away. */
        ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    }
}
END_TEST

START_TEST(test_fifo_capacity_order_and_overrun)
{
    out(UART_LCR, 0x03);
    out(UART_FCR, UART_FCR_FE);
    for (int i = 0; i < 17; i++) {
        uint8_t b = (uint8_t)('a' + i);

        uart_receive(f->uart, &b, 1);
    }
    ck_assert_int_eq(uart_can_receive(f->uart), 0);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    /* The FIFO kept its 16 bytes in order; the 17th was lost. */
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
        ck_assert_uint_eq(in(UART_RBR), 'a' + i);
    }
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(test_fifo_reset_bits)
{
    out(UART_LCR, 0x03);
    out(UART_FCR, UART_FCR_FE);
    rx("hello");
    ck_assert_int_eq(uart_can_receive(f->uart), 11);
    out(UART_FCR, UART_FCR_FE | UART_FCR_RFR);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, 0);
    ck_assert_int_eq(uart_can_receive(f->uart), 16);
    /* Turning the FIFOs off clears them too. */
    rx("abc");
    out(UART_FCR, 0);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(test_character_timeout)
{
    const int64_t four_chars = 4 * CHAR_NS_115200;

    set_115200_8n1();
    out(UART_MCR, UART_MCR_OUT2);
    out(UART_FCR, UART_FCR_FE | 0xc0); /* trigger at 14 */
    out(UART_IER, UART_IER_ERBFI);
    rx("abc");
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    advance(four_chars - 100);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    ck_assert_int_eq(f->irq_level, 0);
    advance(200);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
    ck_assert_int_eq(f->irq_level, 1);
    /* Reading one byte clears the timeout and restarts the count. */
    ck_assert_uint_eq(in(UART_RBR), 'a');
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    ck_assert_int_eq(f->irq_level, 0);
    advance(four_chars / 2);
    /* A new byte restarts the count as well. */
    rx("d");
    advance(four_chars - 100);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    advance(200);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
    /* Empty the FIFO: no timeout after that. */
    in(UART_RBR);
    in(UART_RBR);
    in(UART_RBR);
    advance(10 * four_chars);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
}
END_TEST

START_TEST(test_timeout_scales_with_baud_rate)
{
    /* 9600 baud 8N1 (divisor 12): 4 characters take 12 times as long. */
    out(UART_LCR, UART_LCR_DLAB);
    out(UART_DLL, 12);
    out(UART_DLM, 0);
    out(UART_LCR, 0x03);
    out(UART_FCR, UART_FCR_FE | 0x40);
    out(UART_IER, UART_IER_ERBFI);
    rx("a");
    advance(4 * CHAR_NS_115200 + 1000);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    advance(11 * 4 * CHAR_NS_115200);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
}
END_TEST

START_TEST(test_no_timeout_without_fifo_or_erbfi)
{
    set_115200_8n1();
    out(UART_IER, UART_IER_ERBFI);
    rx("a");
    advance(1000000);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RDI); /* data, never a timeout */
    in(UART_RBR);
    out(UART_FCR, UART_FCR_FE | 0xc0);
    out(UART_IER, 0);
    rx("a");
    advance(1000000);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    out(UART_IER, UART_IER_ERBFI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
}
END_TEST

START_TEST(test_iir_priority_order)
{
    out(UART_LCR, 0x03);
    out(UART_IER, 0x0f);
    /* Loopback: MSR inputs change (deltas), TX feeds RX. */
    out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    out(UART_THR, 'a');
    out(UART_THR, 'b'); /* overrun: no FIFO */
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RLSI);
    in(UART_LSR);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_RDI);
    in(UART_RBR);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    /* THRE was acknowledged by that read: modem status is next. */
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_MSI);
    in(UART_MSR);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
}
END_TEST

START_TEST(test_loopback)
{
    out(UART_LCR, 0x03);
    /* Linux's probe: RTS|OUT2 in loopback must read back as CTS|DCD. */
    out(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
    ck_assert_uint_eq(in(UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DCD);
    out(UART_MCR, UART_MCR_LOOP | 0x0f);
    ck_assert_uint_eq(in(UART_MSR) & 0xf0, 0xf0);
    out(UART_THR, 'Z');
    ck_assert_int_eq(f->out_len, 0);
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    ck_assert_uint_eq(in(UART_RBR), 'Z');
    /* The line input is disconnected. */
    ck_assert_int_eq(uart_can_receive(f->uart), 0);
    rx("q");
    ck_assert_uint_eq(in(UART_LSR) & UART_LSR_DR, 0);
    /* Leaving loopback: transmit goes out again, inputs are the peer's. */
    out(UART_MCR, 0);
    out(UART_THR, 'Y');
    ck_assert_int_eq(f->out_len, 1);
    ck_assert_uint_eq(in(UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
}
END_TEST

START_TEST(test_modem_status_deltas)
{
    out(UART_IER, UART_IER_EDSSI);
    out(UART_MCR, UART_MCR_OUT2);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    /* Loopback with all outputs off: CTS, DSR and DCD drop. */
    out(UART_MCR, UART_MCR_LOOP);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_MSI);
    ck_assert_uint_eq(in(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    ck_assert_uint_eq(in(UART_MSR), 0x00); /* deltas clear on read */
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    /* RI: only its trailing edge is latched (TERI). */
    out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    ck_assert_uint_eq(in(UART_MSR), UART_MSR_RI);
    out(UART_MCR, UART_MCR_LOOP);
    ck_assert_uint_eq(in(UART_MSR), UART_MSR_TERI);
    /* Leaving loopback with OUT2: the peer's lines come back, and this
     * time the interrupt reaches the IRQ line. */
    out(UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_MSI);
    in(UART_MSR);
    ck_assert_int_eq(f->irq_level, 0);
}
END_TEST

START_TEST(test_first_thre_after_fifo_enable)
{
    out(UART_IER, UART_IER_ETBEI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_THRI);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    out(UART_FCR, UART_FCR_FE);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_FIFO | UART_IIR_THRI);
}
END_TEST

START_TEST(test_scratch_and_reset)
{
    out(UART_SCR, 0x5a);
    ck_assert_uint_eq(in(UART_SCR), 0x5a);
    out(UART_LCR, UART_LCR_DLAB);
    out(UART_DLL, 3);
    out(UART_LCR, 0x03);
    out(UART_IER, 0x0f);
    out(UART_MCR, UART_MCR_OUT2);
    out(UART_FCR, UART_FCR_FE);
    rx("abc");
    ck_assert_int_eq(f->irq_level, 1);
    uart_reset(f->uart);
    ck_assert_int_eq(f->irq_level, 0);
    ck_assert_uint_eq(in(UART_IER), 0);
    ck_assert_uint_eq(in(UART_IIR), UART_IIR_NO_INT);
    ck_assert_uint_eq(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    ck_assert_uint_eq(in(UART_SCR), 0x5a); /* untouched by master reset */
    out(UART_LCR, UART_LCR_DLAB);
    ck_assert_uint_eq(in(UART_DLL), 3);
}
END_TEST

static Suite *uart_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("16550a");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_dlab_selects_divisor_latch);
    tcase_add_test(tc, test_ier_upper_bits_read_zero);
    tcase_add_test(tc, test_transmit_reaches_backend);
    tcase_add_test(tc, test_thre_interrupt_rules);
    tcase_add_test(tc, test_thre_after_thr_write);
    tcase_add_test(tc, test_out2_gates_irq_line);
    tcase_add_test(tc, test_receive_without_fifo);
    tcase_add_test(tc, test_overrun_without_fifo);
    tcase_add_test(tc, test_fifo_enable_and_iir_bits);
    tcase_add_test(tc, test_fifo_trigger_levels);
    tcase_add_test(tc, test_fifo_capacity_order_and_overrun);
    tcase_add_test(tc, test_fifo_reset_bits);
    tcase_add_test(tc, test_character_timeout);
    tcase_add_test(tc, test_timeout_scales_with_baud_rate);
    tcase_add_test(tc, test_no_timeout_without_fifo_or_erbfi);
    tcase_add_test(tc, test_iir_priority_order);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_modem_status_deltas);
    tcase_add_test(tc, test_first_thre_after_fifo_enable);
    tcase_add_test(tc, test_scratch_and_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uart_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
