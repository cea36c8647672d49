/*
 * Which -kernel images take the 32-bit entry and which must start at
 * their real-mode setup code under SeaBIOS (linux_boot_needs_bios): setup
 * headers built here the way boot.rst lays them out, written to a file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/linux_boot.h"

static char path[64];

/* A bzImage-like file: 4 setup sectors after the boot sector, protocol
 * version, loadflags, code32_start and a kernel_version string at 0x400. */
static void write_image(uint16_t version, uint8_t loadflags, uint32_t code32, const char *banner)
{
    uint8_t img[8192];
    memset(img, 0, sizeof(img));
    img[0x1f1] = 4;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = (uint8_t)version;
    img[0x207] = (uint8_t)(version >> 8);
    img[0x211] = loadflags;
    memcpy(img + 0x214, &code32, 4);
    if (banner) {
        img[0x20e] = 0x00; /* 0x400 - 0x200 */
        img[0x20f] = 0x02;
        memcpy(img + 0x400, banner, strlen(banner) + 1);
    }
    snprintf(path, sizeof(path), "/tmp/popek-bootprobe-%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(img, 1, sizeof(img), f);
    fclose(f);
}

static void teardown(void)
{
    unlink(path);
}

static const char linux_banner[] =
    "6.1.0-57-686 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3";

START_TEST(test_linux_takes_the_32bit_entry)
{
    write_image(0x020f, 0x01, 0x100000, linux_banner);
    ck_assert(!linux_boot_needs_bios(path));
    write_image(0x0202, 0x01, 0x100000, "2.6.32 (root@host) #5 Tue");
    ck_assert(!linux_boot_needs_bios(path));
}
END_TEST

START_TEST(test_others_run_their_setup_code)
{
    /* syslinux's memdisk: protocol 2.03, loaded high, its own banner. */
    write_image(0x0203, 0x01, 0x100000, "MEMDISK 6.04 20200816");
    ck_assert(linux_boot_needs_bios(path));
    /* iPXE's .lkrn: a version number for a banner and code32_start 0. */
    write_image(0x0207, 0x01, 0, "1.0.0+git-20190125.36a4c85-5.1");
    ck_assert(linux_boot_needs_bios(path));
    write_image(0x0207, 0x01, 0x100000, "1.0.0+git-20190125.36a4c85-5.1");
    ck_assert(linux_boot_needs_bios(path));
    /* A Linux banner but code32_start 0, or not loaded high, or no banner. */
    write_image(0x020f, 0x01, 0, linux_banner);
    ck_assert(linux_boot_needs_bios(path));
    write_image(0x020f, 0x00, 0x100000, linux_banner);
    ck_assert(linux_boot_needs_bios(path));
    write_image(0x020f, 0x01, 0x100000, NULL);
    ck_assert(linux_boot_needs_bios(path));
    /* "(user@host)" without " #": not Linux's form. */
    write_image(0x020f, 0x01, 0x100000, "6.1 (a@b)");
    ck_assert(linux_boot_needs_bios(path));
}
END_TEST

START_TEST(test_not_a_bzimage)
{
    /* No HdrS (a Multiboot kernel, or junk): the direct loader decides. */
    write_image(0x020f, 0x01, 0x100000, linux_banner);
    FILE *f = fopen(path, "r+b");
    fseek(f, 0x202, SEEK_SET);
    fputs("XXXX", f);
    fclose(f);
    ck_assert(!linux_boot_needs_bios(path));
    ck_assert(!linux_boot_needs_bios("/nonexistent/popek-kernel"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("boot_probe");
    TCase *tc = tcase_create("probe");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_linux_takes_the_32bit_entry);
    tcase_add_test(tc, test_others_run_their_setup_code);
    tcase_add_test(tc, test_not_a_bzimage);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
