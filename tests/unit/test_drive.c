/*
 * Raw image backend (block/drive.c): what reaches the file, advisory
 * locking between openers, -snapshot overlays leaving the image
 * untouched, and the one-line errors for unusable images.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/drive.h"

static char path[64];

static void make_file(size_t size, uint8_t fill)
{
    snprintf(path, sizeof(path), "/tmp/popek-drive-%d.img", (int)getpid());
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    for (size_t i = 0; i < size; i++) {
        fputc(fill, fp);
    }
    fclose(fp);
}

static void teardown(void)
{
    unlink(path);
}

static uint8_t file_byte(long off)
{
    FILE *fp = fopen(path, "rb");
    fseek(fp, off, SEEK_SET);
    int c = fgetc(fp);
    fclose(fp);
    return (uint8_t)c;
}

START_TEST(test_write_reaches_file_and_flush)
{
    Drive d;
    char err[256];
    uint8_t sec[512];
    make_file(8 * 512, 0);
    ck_assert_msg(drive_open(&d, path, false, false, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(d.blk.sectors, 8);
    memset(sec, 0x5a, sizeof(sec));
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 3, sec, 1), 0);
    ck_assert_int_eq(d.blk.flush(d.blk.opaque), 0);
    ck_assert_uint_eq(file_byte(3 * 512 + 17), 0x5a);
    ck_assert_uint_eq(file_byte(4 * 512), 0);
    memset(sec, 0, sizeof(sec));
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 3, sec, 1), 0);
    ck_assert_uint_eq(sec[511], 0x5a);
    drive_close(&d);
}
END_TEST

START_TEST(test_read_only_refuses_writes)
{
    Drive d;
    char err[256];
    uint8_t sec[512] = {1};
    make_file(512, 0);
    ck_assert(drive_open(&d, path, true, false, err, sizeof(err)));
    ck_assert_int_lt(d.blk.write(d.blk.opaque, 0, sec, 1), 0);
    ck_assert_uint_eq(file_byte(0), 0);
    drive_close(&d);
}
END_TEST

/* Opening in a child process, as a second popek would. */
static int open_in_child(bool read_only)
{
    pid_t pid = fork();
    if (pid == 0) {
        Drive d;
        char err[256];
        _exit(drive_open(&d, path, read_only, false, err, sizeof(err)) ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    return WEXITSTATUS(status);
}

START_TEST(test_locking)
{
    Drive w, r1, r2;
    char err[256];
    make_file(1024, 0);
    ck_assert(drive_open(&w, path, false, false, err, sizeof(err)));
    /* A second writer, in this process or another, is refused. */
    ck_assert(!drive_open(&r1, path, false, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    ck_assert_int_eq(open_in_child(false), 1);
    ck_assert_int_eq(open_in_child(true), 1); /* a reader too, while it is written */
    drive_close(&w);
    /* Readers share; a writer waits for them all to go. */
    ck_assert(drive_open(&r1, path, true, false, err, sizeof(err)));
    ck_assert(drive_open(&r2, path, true, false, err, sizeof(err)));
    ck_assert_int_eq(open_in_child(true), 0);
    ck_assert_int_eq(open_in_child(false), 1);
    drive_close(&r1);
    drive_close(&r2);
    ck_assert_int_eq(open_in_child(false), 0);
}
END_TEST

START_TEST(test_snapshot_leaves_image_untouched)
{
    Drive d;
    char err[256];
    uint8_t sec[3 * 512];
    make_file(16 * 512, 0x11);
    ck_assert(drive_open(&d, path, false, true, err, sizeof(err)));
    ck_assert(!d.blk.read_only);
    memset(sec, 0x77, 512);
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 5, sec, 1), 0);
    ck_assert_int_eq(d.blk.flush(d.blk.opaque), 0);
    /* Reads mix overlay and image sector by sector. */
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 4, sec, 3), 0);
    ck_assert_uint_eq(sec[0], 0x11);
    ck_assert_uint_eq(sec[512], 0x77);
    ck_assert_uint_eq(sec[1024], 0x11);
    ck_assert_uint_eq(file_byte(5 * 512), 0x11);
    /* A snapshot user does not write the image: another writer may not
     * open it meanwhile, but other readers may. */
    ck_assert_int_eq(open_in_child(true), 0);
    ck_assert_int_eq(open_in_child(false), 1);
    drive_close(&d);
    ck_assert_uint_eq(file_byte(5 * 512), 0x11);
}
END_TEST

START_TEST(test_bad_images)
{
    Drive d;
    char err[256];
    make_file(1000, 0);
    ck_assert(!drive_open(&d, path, false, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "multiple of 512"));
    ck_assert_ptr_null(strchr(err, '\n'));
    make_file(0, 0);
    ck_assert(!drive_open(&d, path, true, false, err, sizeof(err)));
    unlink(path);
    ck_assert(!drive_open(&d, path, false, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    ck_assert(!drive_open(&d, "/tmp", true, false, err, sizeof(err)));
}
END_TEST

static Suite *drive_suite(void)
{
    Suite *s = suite_create("drive");
    TCase *tc = tcase_create("raw");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_write_reaches_file_and_flush);
    tcase_add_test(tc, test_read_only_refuses_writes);
    tcase_add_test(tc, test_locking);
    tcase_add_test(tc, test_snapshot_leaves_image_untouched);
    tcase_add_test(tc, test_bad_images);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(drive_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
