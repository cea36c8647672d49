/*
 * The ISA DMA controller pair through its ports, with no CPU: register
 * access (flip-flop, status, masks), byte and word channel addressing,
 * terminal count with and without autoinitialize, decrement mode,
 * verify mode, page wrap, addresses past the end of RAM, and when a
 * device's DREQ is served.  Facts from the 8237A and PIIX3 datasheets.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/dma/i8257.h"

typedef struct Fixture {
    IOPortMap io;
    PhysMem pm;
    I8257State *dma;
    int served[8];   /* service calls per channel */
    int chan;        /* the channel the service function transfers on */
    uint8_t buf[64]; /* what the service function moves */
    uint32_t moved;
    bool tc;
} Fixture;

static Fixture *f;

static void outb(uint16_t port, uint8_t v)
{
    ioport_write(&f->io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)ioport_read(&f->io, port, 1);
}

static void service(void *opaque)
{
    int chan = (int)(intptr_t)opaque;
    f->served[chan]++;
    f->moved = i8257_transfer(f->dma, chan, f->buf, sizeof(f->buf), &f->tc);
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    ck_assert(phys_init(&f->pm, 1u << 20));
    f->dma = i8257_new(&f->io, &f->pm);
    ck_assert_ptr_nonnull(f->dma);
    for (int i = 0; i < 8; i++) {
        i8257_connect(f->dma, i, service, (void *)(intptr_t)i);
    }
}

static void teardown(void)
{
    i8257_free(f->dma);
    phys_destroy(&f->pm);
    free(f);
}

/* Program byte channel 0-3: mode, 24-bit address, count (bytes - 1). */
static void program8(int chan, uint8_t mode, uint32_t addr, uint16_t count)
{
    static const uint16_t page_port[4] = {0x87, 0x83, 0x81, 0x82};
    outb(0x0a, (uint8_t)(4 | chan)); /* mask */
    outb(0x0c, 0);                   /* flip-flop to low byte */
    outb(0x0b, (uint8_t)(mode | chan));
    outb((uint16_t)(chan * 2), (uint8_t)addr);
    outb((uint16_t)(chan * 2), (uint8_t)(addr >> 8));
    outb(page_port[chan], (uint8_t)(addr >> 16));
    outb((uint16_t)(chan * 2 + 1), (uint8_t)count);
    outb((uint16_t)(chan * 2 + 1), (uint8_t)(count >> 8));
}

START_TEST(test_registers_and_master_clear)
{
    /* Master clear masks every channel; the PIIX3 reads the masks back. */
    ck_assert_uint_eq(inb(0x0f) & 0x0f, 0x0f);
    outb(0x0e, 0); /* clear all masks */
    ck_assert_uint_eq(inb(0x0f) & 0x0f, 0x00);
    /* The flip-flop alternates low and high byte; a write sets base and current. */
    outb(0x0c, 0);
    outb(0x04, 0x34);
    outb(0x04, 0x12);
    outb(0x0c, 0);
    ck_assert_uint_eq(inb(0x04), 0x34);
    ck_assert_uint_eq(inb(0x04), 0x12);
    /* Controller 2 sits at even ports 0xC0-0xDE. */
    outb(0xd8, 0);
    outb(0xc4, 0xcd);
    outb(0xc4, 0xab);
    outb(0xd8, 0);
    ck_assert_uint_eq(inb(0xc4), 0xcd);
    ck_assert_uint_eq(inb(0xc4), 0xab);
    /* Page registers keep what is written. */
    outb(0x81, 0x5a);
    ck_assert_uint_eq(inb(0x81), 0x5a);
    outb(0x0d, 0); /* master clear */
    ck_assert_uint_eq(inb(0x0f) & 0x0f, 0x0f);
}
END_TEST

START_TEST(test_write_mode_terminal_count)
{
    for (int i = 0; i < 64; i++) {
        f->buf[i] = (uint8_t)(i + 1);
    }
    program8(2, 0x44, 0x12345, 15); /* single, increment, write (to memory) */
    i8257_set_dreq(f->dma, 2, true);
    ck_assert_int_eq(f->served[2], 0); /* masked: not served */
    outb(0x0a, 2);                     /* unmask channel 2: served at once */
    ck_assert_int_eq(f->served[2], 1);
    ck_assert_uint_eq(f->moved, 16);
    ck_assert(f->tc);
    ck_assert_uint_eq(phys_read(&f->pm, 0x12345, 1), 1);
    ck_assert_uint_eq(phys_read(&f->pm, 0x12354, 1), 16);
    ck_assert_uint_eq(phys_read(&f->pm, 0x12355, 1), 0);
    /* Status: TC of channel 2 and its request; reading clears TC. */
    ck_assert_uint_eq(inb(0x08), 0x44);
    ck_assert_uint_eq(inb(0x08), 0x40);
    /* Without autoinitialize the channel masked itself at TC. */
    ck_assert_uint_eq(inb(0x0f) & 0x04, 0x04);
    i8257_set_dreq(f->dma, 2, false);
}
END_TEST

START_TEST(test_autoinit_read_mode_and_decrement)
{
    phys_write(&f->pm, 0x2000, 0x44332211, 4);
    program8(1, 0x58, 0x2000, 3); /* autoinit, read (from memory) */
    outb(0x0a, 1);
    uint8_t buf[8] = {0};
    bool tc;
    ck_assert_uint_eq(i8257_transfer(f->dma, 1, buf, 8, &tc), 4);
    ck_assert(tc);
    ck_assert_uint_eq(buf[0], 0x11);
    ck_assert_uint_eq(buf[3], 0x44);
    /* Reloaded, and still unmasked. */
    ck_assert_uint_eq(inb(0x0f) & 0x02, 0);
    outb(0x0c, 0);
    ck_assert_uint_eq(inb(0x02), 0x00);
    ck_assert_uint_eq(inb(0x02), 0x20);
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(i8257_transfer(f->dma, 1, buf, 2, &tc), 2);
    ck_assert(!tc);
    ck_assert_uint_eq(buf[1], 0x22);

    /* Decrement: bytes go to descending addresses. */
    program8(3, 0x64, 0x3003, 3); /* decrement, write */
    outb(0x0a, 3);
    uint8_t src[4] = {0xa0, 0xa1, 0xa2, 0xa3};
    ck_assert_uint_eq(i8257_transfer(f->dma, 3, src, 4, &tc), 4);
    ck_assert(tc);
    ck_assert_uint_eq(phys_read(&f->pm, 0x3000, 4), 0xa0a1a2a3u);
}
END_TEST

START_TEST(test_verify_page_wrap_and_out_of_ram)
{
    /* Verify mode counts without touching memory. */
    program8(2, 0x40, 0x4000, 7);
    outb(0x0a, 2);
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    bool tc;
    ck_assert_uint_eq(i8257_transfer(f->dma, 2, buf, 8, &tc), 8);
    ck_assert(tc);
    ck_assert_uint_eq(phys_read(&f->pm, 0x4000, 4), 0);
    /* The address wraps inside its 64 KiB page: the page does not count. */
    program8(2, 0x44, 0x1fffe, 3);
    outb(0x0a, 2);
    ck_assert_uint_eq(i8257_transfer(f->dma, 2, buf, 4, &tc), 4);
    ck_assert_uint_eq(phys_read(&f->pm, 0x1fffe, 2), 0x0201);
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000, 2), 0x0403);
    ck_assert_uint_eq(phys_read(&f->pm, 0x20000, 2), 0);
    /* Past the end of RAM (page FFh, 16 MiB - 64 KiB with 1 MiB of RAM):
     * writes go nowhere, reads give all ones. */
    program8(2, 0x44, 0xff0000, 7);
    outb(0x0a, 2);
    ck_assert_uint_eq(i8257_transfer(f->dma, 2, buf, 8, &tc), 8);
    program8(2, 0x48, 0xfffff8, 7);
    outb(0x0a, 2);
    ck_assert_uint_eq(i8257_transfer(f->dma, 2, buf, 8, &tc), 8);
    ck_assert_uint_eq(buf[0], 0xff);
    ck_assert_uint_eq(buf[7], 0xff);
}
END_TEST

START_TEST(test_word_channel)
{
    /* Channel 5: page 0x8B (bits 7:1 used), address and count in words. */
    outb(0xd4, 4 | 1);
    outb(0xd8, 0);
    outb(0xd6, 0x44 | 1);
    outb(0xc4, 0x00); /* word address 0x0800 = byte 0x1000 in the page */
    outb(0xc4, 0x08);
    outb(0x8b, 0x03); /* bit 0 ignored: page 0x02xxxx */
    outb(0xc6, 1);    /* two words */
    outb(0xc6, 0);
    outb(0xd4, 1);
    uint8_t buf[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    bool tc;
    ck_assert_uint_eq(i8257_transfer(f->dma, 5, buf, 6, &tc), 4);
    ck_assert(tc);
    ck_assert_uint_eq(phys_read(&f->pm, 0x21000, 4), 0x44332211u);
    ck_assert_uint_eq(phys_read(&f->pm, 0x21004, 2), 0);
}
END_TEST

START_TEST(test_disabled_controller_and_bad_channel)
{
    program8(2, 0x44, 0x5000, 7);
    outb(0x08, 0x04); /* command: controller disabled */
    outb(0x0a, 2);
    i8257_set_dreq(f->dma, 2, true);
    ck_assert_int_eq(f->served[2], 0);
    uint8_t buf[8] = {0};
    bool tc;
    ck_assert_uint_eq(i8257_transfer(f->dma, 2, buf, 8, &tc), 0);
    outb(0x08, 0x00); /* enabled again: the waiting request is served */
    ck_assert_int_eq(f->served[2], 1);
    /* Channel 4 is the cascade; out-of-range channels do nothing. */
    ck_assert_uint_eq(i8257_transfer(f->dma, 4, buf, 8, &tc), 0);
    ck_assert_uint_eq(i8257_transfer(f->dma, 9, buf, 8, &tc), 0);
    ck_assert_uint_eq(i8257_transfer(f->dma, -1, buf, 8, &tc), 0);
    i8257_set_dreq(f->dma, 12, true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("i8257");
    TCase *tc = tcase_create("dma");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registers_and_master_clear);
    tcase_add_test(tc, test_write_mode_terminal_count);
    tcase_add_test(tc, test_autoinit_read_mode_and_decrement);
    tcase_add_test(tc, test_verify_page_wrap_and_out_of_ram);
    tcase_add_test(tc, test_word_channel);
    tcase_add_test(tc, test_disabled_controller_and_bad_channel);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
