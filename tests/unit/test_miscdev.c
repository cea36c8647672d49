/*
 * Small ISA devices through their ports: port 0x92 (A20 gate, fast reset),
 * isa-debug-exit (exit status (v << 1) | 1 at each access width) and the
 * 0xE9/0x402 debug console.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/char/debugcon.h"
#include "hw/misc/debugexit.h"
#include "hw/misc/port92.h"

typedef struct Fixture {
    IOPortMap io;
    int a20_calls;
    bool a20;
    int resets;
    int exits;
    int exit_status;
    char text[64];
    int text_len;
} Fixture;

static Fixture *f;

static void on_a20(void *opaque, bool on)
{
    Fixture *fx = opaque;

    fx->a20_calls++;
    fx->a20 = on;
}

static void on_reset(void *opaque)
{
    ((Fixture *)opaque)->resets++;
}

static void on_exit_status(void *opaque, int status)
{
    Fixture *fx = opaque;

    fx->exits++;
    fx->exit_status = status;
}

static void on_text(void *opaque, const uint8_t *buf, int len)
{
    Fixture *fx = opaque;

    for (int i = 0; i < len && fx->text_len < (int)sizeof(fx->text) - 1; i++) {
        fx->text[fx->text_len++] = (char)buf[i];
    }
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
}

static void teardown(void)
{
    free(f);
}

START_TEST(test_port92_a20)
{
    Port92State *p = port92_new(&f->io, on_a20, on_reset, f);

    ck_assert_uint_eq(ioport_read(&f->io, PORT92_PORT, 1), 0x00);
    ioport_write(&f->io, PORT92_PORT, PORT92_A20, 1);
    ck_assert_int_eq(f->a20_calls, 1);
    ck_assert(f->a20);
    ck_assert_uint_eq(ioport_read(&f->io, PORT92_PORT, 1), PORT92_A20);
    ioport_write(&f->io, PORT92_PORT, 0x00, 1);
    ck_assert(!f->a20);
    ck_assert_int_eq(f->resets, 0);
    port92_free(p);
    /* Unregistered: the port floats again. */
    ck_assert_uint_eq(ioport_read(&f->io, PORT92_PORT, 1), 0xff);
}
END_TEST

START_TEST(test_port92_fast_reset_edge)
{
    Port92State *p = port92_new(&f->io, on_a20, on_reset, f);

    ioport_write(&f->io, PORT92_PORT, PORT92_A20 | PORT92_FAST_RESET, 1);
    ck_assert_int_eq(f->resets, 1);
    ck_assert(f->a20);
    /* Still 1: no new edge. */
    ioport_write(&f->io, PORT92_PORT, PORT92_A20 | PORT92_FAST_RESET, 1);
    ck_assert_int_eq(f->resets, 1);
    ioport_write(&f->io, PORT92_PORT, PORT92_A20, 1);
    ioport_write(&f->io, PORT92_PORT, PORT92_A20 | PORT92_FAST_RESET, 1);
    ck_assert_int_eq(f->resets, 2);
    port92_reset(p);
    ck_assert_uint_eq(ioport_read(&f->io, PORT92_PORT, 1), 0x00);
    ioport_write(&f->io, PORT92_PORT, PORT92_FAST_RESET, 1);
    ck_assert_int_eq(f->resets, 3);
    port92_free(p);
}
END_TEST

START_TEST(test_debugexit_status)
{
    DebugExitState *d = debugexit_new(&f->io, 0x501, 2, on_exit_status, f);

    ck_assert_ptr_nonnull(d);
    ioport_write(&f->io, 0x501, 0x00, 1);
    ck_assert_int_eq(f->exits, 1);
    ck_assert_int_eq(f->exit_status, 1);
    ioport_write(&f->io, 0x501, 0x31, 1);
    ck_assert_int_eq(f->exit_status, 0x63);
    /* A word write is one exit with the whole word. */
    ioport_write(&f->io, 0x501, 0x1234, 2);
    ck_assert_int_eq(f->exits, 3);
    ck_assert_int_eq(f->exit_status, 0x2469);
    /* The second port of the range counts as well. */
    ioport_write(&f->io, 0x502, 0x02, 1);
    ck_assert_int_eq(f->exit_status, 0x05);
    ck_assert_int_eq(f->exits, 4);
    debugexit_free(d);
    ioport_write(&f->io, 0x501, 0x00, 1);
    ck_assert_int_eq(f->exits, 4);
}
END_TEST

START_TEST(test_debugexit_dword)
{
    DebugExitState *d = debugexit_new(&f->io, 0xf4, 4, on_exit_status, f);

    ioport_write(&f->io, 0xf4, 0x10, 4);
    ck_assert_int_eq(f->exits, 1);
    ck_assert_int_eq(f->exit_status, 0x21);
    debugexit_free(d);
}
END_TEST

START_TEST(test_debugcon_output_and_readback)
{
    CharBackend chr = {f, on_text};
    DebugconState *e9 = debugcon_new(&f->io, DEBUGCON_PORT, &chr);
    DebugconState *seabios = debugcon_new(&f->io, DEBUGCON_SEABIOS_PORT, &chr);
    const char *msg = "ok\n";

    ck_assert_uint_eq(ioport_read(&f->io, DEBUGCON_PORT, 1), 0xe9);
    ck_assert_uint_eq(ioport_read(&f->io, DEBUGCON_SEABIOS_PORT, 1), 0xe9);
    for (size_t i = 0; i < strlen(msg); i++) {
        ioport_write(&f->io, DEBUGCON_PORT, (uint8_t)msg[i], 1);
    }
    ioport_write(&f->io, DEBUGCON_SEABIOS_PORT, '!', 1);
    /* A word write: only its low byte lands on the port. */
    ioport_write(&f->io, DEBUGCON_PORT, 0x4241, 2);
    ck_assert_int_eq(f->text_len, 5);
    ck_assert_mem_eq(f->text, "ok\n!A", 5);
    debugcon_free(e9);
    debugcon_free(seabios);
    ck_assert_uint_eq(ioport_read(&f->io, DEBUGCON_PORT, 1), 0xff);
}
END_TEST

START_TEST(test_debugcon_null_backend)
{
    DebugconState *e9 = debugcon_new(&f->io, DEBUGCON_PORT, NULL);

    ioport_write(&f->io, DEBUGCON_PORT, 'x', 1);
    ck_assert_uint_eq(ioport_read(&f->io, DEBUGCON_PORT, 1), 0xe9);
    debugcon_free(e9);
}
END_TEST

static Suite *miscdev_suite(void)
{
    Suite *s = suite_create("miscdev");
    TCase *tc = tcase_create("isa");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_port92_a20);
    tcase_add_test(tc, test_port92_fast_reset_edge);
    tcase_add_test(tc, test_debugexit_status);
    tcase_add_test(tc, test_debugexit_dword);
    tcase_add_test(tc, test_debugcon_output_and_readback);
    tcase_add_test(tc, test_debugcon_null_backend);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(miscdev_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
