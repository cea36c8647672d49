/*
 * Raw images through a drive (block/drive.c, block/raw.c, block/overlay.c):
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
#include "block/probe.h"

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

/* Each format's magic, hand-written as its specification places it. */
START_TEST(test_probe_magics)
{
    static const struct {
        uint32_t offset;
        const char *magic;
        size_t len;
        const char *format;
    } cases[] = {
        {0, "QFI\xfb\0\0\0\x03", 8, "qcow2"},  {0, "QFI\xfb\0\0\0\x02", 8, "qcow2"},
        {0, "QFI\xfb\0\0\0\x01", 8, "qcow"},   {0, "KDMV\x01\0\0\0", 8, "vmdk"},
        {0, "# Disk DescriptorFile\n", 22, "vmdk"}, {0x40, "\x7f\x10\xda\xbe", 4, "vdi"},
        {0, "vhdxfile", 8, "vhdx"},               {0, "conectix", 8, "vpc"},
        {0, "QED\0", 4, "qed"},                   {0, "WithoutFreeSpace", 16, "parallels"},
        {0, "LUKS\xba\xbe", 6, "luks"},           {0, "QFI\xfa", 4, "raw"},
        {0x41, "\x7f\x10\xda\xbe", 4, "raw"},      {0, "\xeb\x3c\x90MSDOS5.0", 11, "raw"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[BLOCK_PROBE_LEN];
        memset(buf, 0, sizeof(buf));
        memcpy(buf + cases[i].offset, cases[i].magic, cases[i].len);
        ck_assert_str_eq(block_probe_format(buf, sizeof(buf)), cases[i].format);
    }
    /* A file too short to hold a magic is raw, and the probe reads no further. */
    ck_assert_str_eq(block_probe_format((const uint8_t *)"QFI", 3), "raw");
    uint8_t vdi[0x43] = {0};
    memcpy(vdi + 0x40, "\x7f\x10\xda", 3);
    ck_assert_str_eq(block_probe_format(vdi, sizeof(vdi)), "raw");
}
END_TEST

/* block_probe_file on a qcow2 header (as qemu-img writes it) and on a
 * missing file. */
START_TEST(test_probe_file)
{
    char err[256];
    snprintf(path, sizeof(path), "/tmp/popek-drive-%d.img", (int)getpid());
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite("QFI\xfb\0\0\0\x03\0\0\0\0\0\0\0\0\0\0\0\x10", 1, 20, fp);
    fclose(fp);
    ck_assert_str_eq(block_probe_file(path, err, sizeof(err)), "qcow2");
    make_file(4 * 512, 0);
    ck_assert_str_eq(block_probe_file(path, err, sizeof(err)), "raw");
    ck_assert_ptr_null(block_probe_file("/nonexistent/x.img", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "'/nonexistent/x.img': No such file"));
}
END_TEST

/* A probed raw image refuses a guest write that would make sector 0 a
 * qcow2 header; other writes to sector 0 and to other sectors pass. */
START_TEST(test_probed_raw_guards_sector0)
{
    Drive d;
    char err[256];
    uint8_t sec[512];
    make_file(8 * 512, 0);
    ck_assert_msg(drive_open(&d, path, false, false, err, sizeof(err)), "%s", err);
    d.guard_sector0 = true;
    memset(sec, 0, sizeof(sec));
    memcpy(sec, "QFI\xfb\0\0\0\x03", 8);
    ck_assert_int_lt(d.blk.write(d.blk.opaque, 0, sec, 1), 0);
    ck_assert_uint_eq(file_byte(0), 0);
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 1, sec, 1), 0); /* not sector 0 */
    ck_assert_uint_eq(file_byte(512), 'Q');
    sec[0] = 0xeb; /* a boot sector is fine */
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 0, sec, 1), 0);
    ck_assert_uint_eq(file_byte(0), 0xeb);
    /* Without the guard (format=raw), the header may be written. */
    d.guard_sector0 = false;
    sec[0] = 'Q';
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 0, sec, 1), 0);
    ck_assert_uint_eq(file_byte(0), 'Q');
    drive_close(&d);
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
    tcase_add_test(tc, test_probe_magics);
    tcase_add_test(tc, test_probe_file);
    tcase_add_test(tc, test_probed_raw_guards_sector0);
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
