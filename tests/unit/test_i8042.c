/*
 * i8042 controller, PS/2 keyboard and PS/2 mouse through ports 0x60/0x64:
 * controller commands and status bits, IRQ1/IRQ12, the output port (A20,
 * reset), keyboard commands and scancode sets with and without the
 * controller's translation, mouse commands, packets and IntelliMouse IDs.
 */
#include <check.h>
#include <stdlib.h>

#include "hw/input/i8042.h"

typedef struct Fixture {
    IOPortMap io;
    I8042State *kbc;
    int irq1, irq12; /* line levels */
    int irq1_edges, irq12_edges;
    int resets; /* reset_request calls */
    int a20_calls;
    bool a20; /* last set_a20 value */
} Fixture;

static Fixture *f;

static void irq_probe(void *opaque, int n, int level)
{
    Fixture *fx = opaque;
    int *line = n == 1 ? &fx->irq1 : &fx->irq12;
    int *edges = n == 1 ? &fx->irq1_edges : &fx->irq12_edges;

    if (level && !*line) {
        (*edges)++;
    }
    *line = level;
}

static void on_reset(void *opaque)
{
    ((Fixture *)opaque)->resets++;
}

static void on_a20(void *opaque, bool on)
{
    Fixture *fx = opaque;

    fx->a20_calls++;
    fx->a20 = on;
}

static void setup(void)
{
    I8042Callbacks cb;

    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    cb.opaque = f;
    cb.reset_request = on_reset;
    cb.set_a20 = on_a20;
    f->kbc = i8042_new(&f->io, irq_make(irq_probe, f, 1), irq_make(irq_probe, f, 12), &cb);
    ck_assert_ptr_nonnull(f->kbc);
}

static void teardown(void)
{
    i8042_free(f->kbc);
    free(f);
}

static uint8_t status(void)
{
    return (uint8_t)ioport_read(&f->io, I8042_STATUS_PORT, 1);
}

static void command(uint8_t cmd)
{
    ioport_write(&f->io, I8042_STATUS_PORT, cmd, 1);
}

static void data_out(uint8_t val)
{
    ioport_write(&f->io, I8042_DATA_PORT, val, 1);
}

/* Next byte in the output buffer, or -1 if OBF is clear. */
static int data_in(void)
{
    if (!(status() & I8042_STR_OBF)) {
        return -1;
    }
    return (int)ioport_read(&f->io, I8042_DATA_PORT, 1);
}

/* Read exactly these bytes and then find the buffer empty. */
static void expect_bytes(const uint8_t *bytes, int n)
{
    for (int i = 0; i < n; i++) {
        int b = data_in();

        ck_assert_msg(b == bytes[i], "byte %d: got 0x%x, want 0x%x", i, b, bytes[i]);
    }
    ck_assert_int_eq(data_in(), -1);
}

#define EXPECT(...)                                                                                \
    do {                                                                                           \
        static const uint8_t exp_[] = {__VA_ARGS__};                                               \
        expect_bytes(exp_, (int)sizeof(exp_));                                                     \
    } while (0)

static void write_cmd_byte(uint8_t val)
{
    command(0x60);
    data_out(val);
}

static uint8_t read_cmd_byte(void)
{
    command(0x20);
    return (uint8_t)data_in();
}

static void mouse_cmd(uint8_t val)
{
    command(0xd4);
    data_out(val);
}

START_TEST(test_self_test_and_sys_flag)
{
    ck_assert_uint_eq(status() & I8042_STR_SYS, 0); /* power-on */
    command(0xaa);
    ck_assert_uint_eq(status() & I8042_STR_OBF, I8042_STR_OBF);
    EXPECT(0x55);
    ck_assert_uint_eq(status() & I8042_STR_SYS, I8042_STR_SYS);
    command(0xab); /* keyboard interface test */
    EXPECT(0x00);
    command(0xa9); /* mouse interface test */
    EXPECT(0x00);
}
END_TEST

START_TEST(test_status_a2_and_inh)
{
    command(0xad);
    ck_assert_uint_eq(status() & I8042_STR_A2, I8042_STR_A2);
    ck_assert_uint_eq(status() & I8042_STR_INH, I8042_STR_INH);
    data_out(0xee); /* also re-enables the keyboard interface */
    ck_assert_uint_eq(status() & I8042_STR_A2, 0);
    ck_assert_uint_eq(status() & (I8042_STR_IBF | I8042_STR_TIMEOUT | I8042_STR_PARITY), 0);
    EXPECT(0xee);
}
END_TEST

START_TEST(test_command_byte)
{
    uint8_t ctr = read_cmd_byte();

    ck_assert_uint_eq(ctr & (I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE),
                      I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    write_cmd_byte(0x65);
    ck_assert_uint_eq(read_cmd_byte(), 0x65);
    ck_assert_uint_eq(status() & I8042_STR_SYS, I8042_STR_SYS); /* bit 2 -> status */
    write_cmd_byte(0x61);
    ck_assert_uint_eq(status() & I8042_STR_SYS, 0);
    /* 0xA7/0xA8 and 0xAD/0xAE show up in bits 5 and 4 (Linux checks this). */
    command(0xa7);
    ck_assert_uint_eq(read_cmd_byte() & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS);
    command(0xa8);
    ck_assert_uint_eq(read_cmd_byte() & I8042_CTR_AUXDIS, 0);
    command(0xad);
    ck_assert_uint_eq(read_cmd_byte() & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
    command(0xae);
    ck_assert_uint_eq(read_cmd_byte() & I8042_CTR_KBDDIS, 0);
    /* Other controller RAM bytes. */
    command(0x65);
    data_out(0x3c);
    command(0x25);
    EXPECT(0x3c);
}
END_TEST

START_TEST(test_irq1_follows_obf_and_enable)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    ck_assert_int_eq(f->irq1, 0);
    command(0xd2); /* write keyboard output buffer */
    data_out(0x42);
    ck_assert_int_eq(f->irq1, 1);
    ck_assert_int_eq(f->irq12, 0);
    ck_assert_uint_eq(status() & I8042_STR_AUXB, 0);
    EXPECT(0x42);
    ck_assert_int_eq(f->irq1, 0);
    /* With the enable bit clear, OBF alone does not interrupt. */
    write_cmd_byte(0x00);
    command(0xd2);
    data_out(0x43);
    ck_assert_int_eq(f->irq1, 0);
    ck_assert_uint_eq(status() & I8042_STR_OBF, I8042_STR_OBF);
    EXPECT(0x43);
}
END_TEST

START_TEST(test_irq12_for_aux_bytes)
{
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    command(0xd3); /* write mouse output buffer: Linux's AUX loopback probe */
    data_out(0x5a);
    ck_assert_int_eq(f->irq12, 1);
    ck_assert_int_eq(f->irq1, 0);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXB), I8042_STR_OBF | I8042_STR_AUXB);
    EXPECT(0x5a);
    ck_assert_int_eq(f->irq12, 0);
}
END_TEST

START_TEST(test_one_edge_per_byte)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    data_out(0xf2); /* identify: three bytes queued */
    ck_assert_int_eq(f->irq1_edges, 1);
    EXPECT(0xfa, 0xab, 0x83);
    /* Each read that refilled the buffer produced a new rising edge. */
    ck_assert_int_eq(f->irq1_edges, 3);
    ck_assert_int_eq(f->irq1, 0);
}
END_TEST

START_TEST(test_output_port_a20_and_reset)
{
    command(0xd0);
    int port = data_in();
    ck_assert_uint_eq(port & (I8042_OUT_RESET | I8042_OUT_A20), I8042_OUT_RESET | I8042_OUT_A20);
    command(0xd1);
    data_out(0xdd); /* A20 off */
    ck_assert_int_eq(f->a20_calls, 1);
    ck_assert(!f->a20);
    ck_assert_int_eq(f->resets, 0);
    command(0xd0);
    ck_assert_uint_eq(data_in() & I8042_OUT_A20, 0);
    command(0xd1);
    data_out(0xdf); /* A20 on */
    ck_assert(f->a20);
    ck_assert_int_eq(f->resets, 0);
    command(0xd1);
    data_out(0xde); /* bit 0 low: reset */
    ck_assert_int_eq(f->resets, 1);
}
END_TEST

START_TEST(test_output_port_obf_bits)
{
    write_cmd_byte(0);
    command(0xd2);
    data_out(0x11);
    /* The reply to 0xD0 queues behind the byte in the buffer. */
    command(0xd0);
    ck_assert_int_eq(data_in(), 0x11);
    int port = data_in();
    ck_assert_uint_eq(port & I8042_OUT_KBD_OBF, I8042_OUT_KBD_OBF); /* its own byte was there */
    /* Read with the buffer empty, the OBF lines are low. */
    command(0xd0);
    ck_assert_uint_eq(data_in() & (I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF), 0);
    command(0xd3);
    data_out(0x22);
    command(0xd0);
    ck_assert_int_eq(data_in(), 0x22);
    ck_assert_uint_eq(data_in() & (I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF), I8042_OUT_AUX_OBF);
}
END_TEST

START_TEST(test_pulse_reset)
{
    command(0xff); /* pulse nothing */
    ck_assert_int_eq(f->resets, 0);
    command(0xfd); /* pulse bit 1 only */
    ck_assert_int_eq(f->resets, 0);
    command(0xfe); /* pulse bit 0: CPU reset */
    ck_assert_int_eq(f->resets, 1);
    command(0xf0); /* pulse bits 0-3 */
    ck_assert_int_eq(f->resets, 2);
}
END_TEST

START_TEST(test_keyboard_reset_and_identify)
{
    write_cmd_byte(I8042_CTR_KBDINT); /* no translation */
    data_out(0xff);
    EXPECT(0xfa, 0xaa);
    data_out(0xf2);
    EXPECT(0xfa, 0xab, 0x83);
    /* Through the translation, the ID's second byte reads 0x41. */
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    data_out(0xf2);
    EXPECT(0xfa, 0xab, 0x41);
}
END_TEST

START_TEST(test_keyboard_misc_commands)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    data_out(0xee);
    EXPECT(0xee);
    data_out(0xed);
    EXPECT(0xfa);
    data_out(0x07);
    EXPECT(0xfa);
    data_out(0xf3);
    EXPECT(0xfa);
    data_out(0x20);
    EXPECT(0xfa);
    data_out(0xfe); /* resend: the last byte was the ACK */
    EXPECT(0xfa);
    data_out(0xf6);
    EXPECT(0xfa);
    data_out(0x01); /* not a command */
    EXPECT(0xfe);
}
END_TEST

START_TEST(test_scancode_set2_raw)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    i8042_key_event(f->kbc, 0x1e, true); /* A */
    i8042_key_event(f->kbc, 0x1e, false);
    EXPECT(0x1c, 0xf0, 0x1c);
    i8042_key_event(f->kbc, 0xe01d, true); /* right Ctrl */
    i8042_key_event(f->kbc, 0xe01d, false);
    EXPECT(0xe0, 0x14, 0xe0, 0xf0, 0x14);
    i8042_key_event(f->kbc, 0x41, true); /* F7 sends 0x83 */
    EXPECT(0x83);
    i8042_key_event(f->kbc, PS2_KEY_PRINT, true);
    i8042_key_event(f->kbc, PS2_KEY_PRINT, false);
    EXPECT(0xe0, 0x12, 0xe0, 0x7c, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
    i8042_key_event(f->kbc, PS2_KEY_PAUSE, true);
    i8042_key_event(f->kbc, PS2_KEY_PAUSE, false);
    EXPECT(0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
}
END_TEST

START_TEST(test_translation_to_set1)
{
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    i8042_key_event(f->kbc, 0x1e, true);
    i8042_key_event(f->kbc, 0x1e, false);
    EXPECT(0x1e, 0x9e);
    i8042_key_event(f->kbc, 0xe048, true); /* cursor up */
    i8042_key_event(f->kbc, 0xe048, false);
    EXPECT(0xe0, 0x48, 0xe0, 0xc8);
    i8042_key_event(f->kbc, PS2_KEY_PAUSE, true);
    EXPECT(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    i8042_key_event(f->kbc, PS2_KEY_PRINT, true);
    i8042_key_event(f->kbc, PS2_KEY_PRINT, false);
    EXPECT(0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
}
END_TEST

/* Every set 1 code survives set 2 encoding plus the 8042's translation. */
START_TEST(test_translation_round_trips_every_key)
{
    write_cmd_byte(I8042_CTR_XLATE);
    for (int code = 0x01; code < 0x80; code++) {
        i8042_key_event(f->kbc, code, true);
        ck_assert_msg(data_in() == code, "make 0x%02x", code);
        i8042_key_event(f->kbc, code, false);
        ck_assert_msg(data_in() == (code | 0x80), "break 0x%02x", code);
        ck_assert_int_eq(data_in(), -1);
    }
}
END_TEST

START_TEST(test_scancode_set_select)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    data_out(0xf0);
    data_out(0x00);
    EXPECT(0xfa, 0xfa, 0x02);
    /* Set 1 straight from the keyboard. */
    data_out(0xf0);
    data_out(0x01);
    EXPECT(0xfa, 0xfa);
    i8042_key_event(f->kbc, 0x1e, true);
    i8042_key_event(f->kbc, 0xe048, false);
    EXPECT(0x1e, 0xe0, 0xc8);
    data_out(0xf0);
    data_out(0x00);
    EXPECT(0xfa, 0xfa, 0x01);
    /* Set 3: one byte per key, F0 before breaks. */
    data_out(0xf0);
    data_out(0x03);
    EXPECT(0xfa, 0xfa);
    i8042_key_event(f->kbc, 0x01, true); /* Esc */
    i8042_key_event(f->kbc, 0x01, false);
    i8042_key_event(f->kbc, 0xe048, true); /* cursor up */
    i8042_key_event(f->kbc, 0x1e, true);   /* A: same as set 2 */
    EXPECT(0x08, 0xf0, 0x08, 0x63, 0x1c);
    /* An invalid set number is refused. */
    data_out(0xf0);
    data_out(0x04);
    EXPECT(0xfa, 0xfe);
    /* Reset returns to set 2. */
    data_out(0xff);
    EXPECT(0xfa, 0xaa);
    i8042_key_event(f->kbc, 0x01, true);
    EXPECT(0x76);
    /* With translation on, the set number itself is translated. */
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    data_out(0xf0);
    data_out(0x00);
    EXPECT(0xfa, 0xfa, 0x41);
}
END_TEST

START_TEST(test_keyboard_disable_enable)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    data_out(0xf5);
    EXPECT(0xfa);
    i8042_key_event(f->kbc, 0x1e, true);
    ck_assert_int_eq(data_in(), -1);
    data_out(0xf4);
    EXPECT(0xfa);
    i8042_key_event(f->kbc, 0x1e, true);
    EXPECT(0x1c);
}
END_TEST

START_TEST(test_interface_disable_holds_bytes)
{
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_KBDDIS);
    i8042_key_event(f->kbc, 0x1e, true);
    ck_assert_int_eq(data_in(), -1);
    ck_assert_int_eq(f->irq1, 0);
    command(0xae);
    ck_assert_int_eq(f->irq1, 1);
    EXPECT(0x1c);
}
END_TEST

START_TEST(test_reply_goes_before_pending_scancodes)
{
    write_cmd_byte(I8042_CTR_KBDINT);
    i8042_key_event(f->kbc, 0x3a, true);  /* Caps Lock down: in the buffer */
    i8042_key_event(f->kbc, 0x3a, false); /* up: still in the keyboard */
    data_out(0xed);                       /* set LEDs */
    /* The byte already in the buffer comes first, then the ACK, then the
     * rest of the scancodes; nothing is lost. */
    EXPECT(0x58, 0xfa, 0xf0, 0x58);
}
END_TEST

START_TEST(test_keyboard_overrun_code)
{
    int n = 0;
    int last = -1;
    int b;

    write_cmd_byte(0);
    for (int i = 0; i < 100; i++) {
        i8042_key_event(f->kbc, 0x1e, true);
    }
    while ((b = data_in()) >= 0) {
        last = b;
        n++;
    }
    ck_assert_int_lt(n, 100);
    ck_assert_int_eq(last, 0x00); /* set 2 overrun code */
}
END_TEST

START_TEST(test_mouse_reset_and_id)
{
    write_cmd_byte(I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    mouse_cmd(0xff);
    ck_assert_uint_eq(status() & I8042_STR_AUXB, I8042_STR_AUXB);
    ck_assert_int_eq(f->irq12, 1);
    EXPECT(0xfa, 0xaa, 0x00);
    mouse_cmd(0xf2);
    EXPECT(0xfa, 0x00);
}
END_TEST

static void set_rate(int rate)
{
    mouse_cmd(0xf3);
    mouse_cmd((uint8_t)rate);
    EXPECT(0xfa, 0xfa);
}

START_TEST(test_intellimouse_ids)
{
    write_cmd_byte(0);
    set_rate(200);
    set_rate(100);
    set_rate(80);
    mouse_cmd(0xf2);
    EXPECT(0xfa, 0x03);
    set_rate(200);
    set_rate(200);
    set_rate(80);
    mouse_cmd(0xf2);
    EXPECT(0xfa, 0x04);
    mouse_cmd(0xff);
    EXPECT(0xfa, 0xaa, 0x00);
    /* A different sequence leaves the ID alone. */
    set_rate(200);
    set_rate(80);
    set_rate(100);
    mouse_cmd(0xf2);
    EXPECT(0xfa, 0x00);
}
END_TEST

START_TEST(test_mouse_stream_packets)
{
    write_cmd_byte(I8042_CTR_AUXINT);
    /* Disabled: motion is not reported. */
    i8042_mouse_event(f->kbc, 5, 5, 0, 0);
    ck_assert_int_eq(data_in(), -1);
    mouse_cmd(0xf4);
    EXPECT(0xfa);
    /* 10 right, 5 down (PS/2 y points up), left button. */
    i8042_mouse_event(f->kbc, 10, 5, 0, PS2_BUTTON_LEFT);
    ck_assert_int_eq(f->irq12, 1);
    EXPECT(0x08 | 0x01 | 0x20, 10, 0xfb);
    /* Button change without motion still reports. */
    i8042_mouse_event(f->kbc, 0, 0, 0, PS2_BUTTON_RIGHT | PS2_BUTTON_MIDDLE);
    EXPECT(0x08 | 0x02 | 0x04, 0, 0);
    /* Left 300: beyond 9 bits, so split over two packets. */
    i8042_mouse_event(f->kbc, -300, 0, 0, 0);
    EXPECT(0x08 | 0x10, 0x00, 0x00, 0x08 | 0x10, (uint8_t)-44, 0x00);
}
END_TEST

START_TEST(test_mouse_wheel_packet)
{
    write_cmd_byte(0);
    set_rate(200);
    set_rate(100);
    set_rate(80);
    mouse_cmd(0xf4);
    EXPECT(0xfa);
    i8042_mouse_event(f->kbc, 1, -2, 1, 0);
    EXPECT(0x08, 0x01, 0x02, 0x01);
    i8042_mouse_event(f->kbc, 0, 0, -1, 0);
    EXPECT(0x08, 0x00, 0x00, 0xff);
    /* ID 4: the fourth byte carries buttons 4 and 5 too. */
    set_rate(200);
    set_rate(200);
    set_rate(80);
    i8042_mouse_event(f->kbc, 0, 0, 2, PS2_BUTTON_4);
    EXPECT(0x08, 0x00, 0x00, 0x12);
}
END_TEST

START_TEST(test_mouse_status_resolution_scaling)
{
    write_cmd_byte(0);
    mouse_cmd(0xe9);
    EXPECT(0xfa, 0x00, 0x02, 100); /* stream, disabled, 1:1, res 2, 100/s */
    mouse_cmd(0xe8);
    mouse_cmd(0x03);
    EXPECT(0xfa, 0xfa);
    mouse_cmd(0xe7);
    EXPECT(0xfa);
    mouse_cmd(0xf4);
    EXPECT(0xfa);
    i8042_mouse_event(f->kbc, 0, 0, 0, PS2_BUTTON_LEFT);
    EXPECT(0x09, 0, 0);
    mouse_cmd(0xe9);
    EXPECT(0xfa, 0x20 | 0x10 | 0x04, 0x03, 100);
    /* 2:1 scaling maps 4 to 6 in stream reports. */
    i8042_mouse_event(f->kbc, 4, 0, 0, PS2_BUTTON_LEFT);
    EXPECT(0x09, 6, 0);
    /* An invalid resolution is refused. */
    mouse_cmd(0xe8);
    mouse_cmd(0x09);
    EXPECT(0xfa, 0xfe);
}
END_TEST

START_TEST(test_mouse_remote_mode)
{
    write_cmd_byte(0);
    mouse_cmd(0xf0);
    EXPECT(0xfa);
    i8042_mouse_event(f->kbc, 3, -4, 0, 0);
    ck_assert_int_eq(data_in(), -1); /* nothing until polled */
    mouse_cmd(0xeb);
    EXPECT(0xfa, 0x08, 3, 4);
    mouse_cmd(0xeb);
    EXPECT(0xfa, 0x08, 0, 0);
    mouse_cmd(0xe9);
    EXPECT(0xfa, 0x40, 0x02, 100);
}
END_TEST

START_TEST(test_mouse_wrap_mode)
{
    write_cmd_byte(0);
    mouse_cmd(0xee);
    EXPECT(0xfa);
    mouse_cmd(0x12);
    mouse_cmd(0xf2);
    EXPECT(0x12, 0xf2);
    mouse_cmd(0xec);
    EXPECT(0xfa);
    mouse_cmd(0xf2);
    EXPECT(0xfa, 0x00);
}
END_TEST

START_TEST(test_aux_disable_holds_mouse_bytes)
{
    write_cmd_byte(I8042_CTR_AUXINT);
    mouse_cmd(0xf2); /* 0xD4 re-enables the interface */
    command(0xa7);
    ck_assert_int_eq(data_in(), 0xfa); /* already in the buffer */
    ck_assert_int_eq(data_in(), -1);   /* the ID byte waits */
    command(0xa8);
    EXPECT(0x00);
}
END_TEST

START_TEST(test_reset_restores_power_on_state)
{
    write_cmd_byte(0x00);
    data_out(0xf0);
    data_out(0x01);
    command(0xd1);
    data_out(0xdd);
    i8042_reset(f->kbc);
    ck_assert_int_eq(data_in(), -1);
    command(0xd0);
    ck_assert_uint_eq(data_in() & I8042_OUT_A20, I8042_OUT_A20);
    ck_assert_uint_eq(read_cmd_byte() & I8042_CTR_XLATE, I8042_CTR_XLATE);
    write_cmd_byte(0);
    i8042_key_event(f->kbc, 0x01, true);
    EXPECT(0x76); /* back in set 2 */
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *ctrl = tcase_create("controller");
    TCase *kbd = tcase_create("keyboard");
    TCase *mouse = tcase_create("mouse");

    tcase_add_checked_fixture(ctrl, setup, teardown);
    tcase_add_test(ctrl, test_self_test_and_sys_flag);
    tcase_add_test(ctrl, test_status_a2_and_inh);
    tcase_add_test(ctrl, test_command_byte);
    tcase_add_test(ctrl, test_irq1_follows_obf_and_enable);
    tcase_add_test(ctrl, test_irq12_for_aux_bytes);
    tcase_add_test(ctrl, test_one_edge_per_byte);
    tcase_add_test(ctrl, test_output_port_a20_and_reset);
    tcase_add_test(ctrl, test_output_port_obf_bits);
    tcase_add_test(ctrl, test_pulse_reset);
    tcase_add_test(ctrl, test_reset_restores_power_on_state);
    suite_add_tcase(s, ctrl);

    tcase_add_checked_fixture(kbd, setup, teardown);
    tcase_add_test(kbd, test_keyboard_reset_and_identify);
    tcase_add_test(kbd, test_keyboard_misc_commands);
    tcase_add_test(kbd, test_scancode_set2_raw);
    tcase_add_test(kbd, test_translation_to_set1);
    tcase_add_test(kbd, test_translation_round_trips_every_key);
    tcase_add_test(kbd, test_scancode_set_select);
    tcase_add_test(kbd, test_keyboard_disable_enable);
    tcase_add_test(kbd, test_interface_disable_holds_bytes);
    tcase_add_test(kbd, test_reply_goes_before_pending_scancodes);
    tcase_add_test(kbd, test_keyboard_overrun_code);
    suite_add_tcase(s, kbd);

    tcase_add_checked_fixture(mouse, setup, teardown);
    tcase_add_test(mouse, test_mouse_reset_and_id);
    tcase_add_test(mouse, test_intellimouse_ids);
    tcase_add_test(mouse, test_mouse_stream_packets);
    tcase_add_test(mouse, test_mouse_wheel_packet);
    tcase_add_test(mouse, test_mouse_status_resolution_scaling);
    tcase_add_test(mouse, test_mouse_remote_mode);
    tcase_add_test(mouse, test_mouse_wrap_mode);
    tcase_add_test(mouse, test_aux_disable_holds_mouse_bytes);
    suite_add_tcase(s, mouse);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(i8042_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
