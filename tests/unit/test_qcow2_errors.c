/*
 * Bad qcow2 images: each corruption at open is one line naming the file
 * (and the open fails); bad offsets met later fail the guest's request
 * with an error instead of reading outside the image.  The images are
 * written by hand here (the layout qemu-img create makes: header, refcount
 * table, one refcount block, L1 table), so these run without qemu-img.
 */
#include <errno.h>

#include "qcow2_fixture.h"

#define CL 0x10000u /* 64 KiB clusters */

static void be_at(uint8_t *p, uint64_t v, int len)
{
    for (int i = len - 1; i >= 0; i--, v >>= 8) {
        p[i] = (uint8_t)v;
    }
}

/* A 1 MiB version-3 image, optionally over a backing file, optionally with
 * one data cluster (guest cluster 0 at host 0x40000, 0xcc bytes). */
static void make_image(const char *name, const char *backing, const char *backing_fmt, bool data)
{
    uint32_t clusters = data ? 6 : 4;
    uint8_t *img = calloc(clusters, CL);
    memcpy(img, "QFI\xfb", 4);
    be_at(img + 4, 3, 4);
    be_at(img + 20, 16, 4);      /* cluster bits */
    be_at(img + 24, 1 << 20, 8); /* disk size */
    be_at(img + 36, 1, 4);       /* L1 entries */
    be_at(img + 40, 3 * CL, 8);  /* L1 table */
    be_at(img + 48, 1 * CL, 8);  /* refcount table */
    be_at(img + 56, 1, 4);
    be_at(img + 96, 4, 4);    /* refcount order: 16 bits */
    be_at(img + 100, 112, 4); /* header length */
    uint32_t pos = 112;
    if (backing_fmt) {
        be_at(img + pos, 0xe2792aca, 4);
        be_at(img + pos + 4, strlen(backing_fmt), 4);
        memcpy(img + pos + 8, backing_fmt, strlen(backing_fmt));
        pos += 8 + ((strlen(backing_fmt) + 7) & ~7u);
    }
    pos += 8; /* end of extensions */
    if (backing) {
        be_at(img + 8, pos, 8);
        be_at(img + 16, strlen(backing), 4);
        memcpy(img + pos, backing, strlen(backing));
    }
    be_at(img + CL, 2 * CL, 8); /* refcount block */
    for (uint32_t c = 0; c < clusters; c++) {
        be_at(img + 2 * CL + 2 * c, 1, 2);
    }
    if (data) {
        be_at(img + 3 * CL, (5ull * CL) | (1ull << 63), 8); /* L2 table at cluster 5 */
        be_at(img + 5 * CL, (4ull * CL) | (1ull << 63), 8); /* data at cluster 4 */
        memset(img + 4 * CL, 0xcc, CL);
    }
    FILE *f = fopen(at(name), "wb");
    fwrite(img, CL, clusters, f);
    fclose(f);
    free(img);
}

START_TEST(test_good_image_opens)
{
    Drive d;
    uint8_t buf[512];
    make_image("img.qcow2", NULL, NULL, true);
    open_ok(&d, "img.qcow2", NULL, false, false);
    rd(&d, 0, buf, 1);
    ck_assert_uint_eq(buf[0], 0xcc);
    rd(&d, 1000, buf, 1);
    ck_assert_uint_eq(buf[0], 0);
    drive_close(&d);
    if (have_qemu_img()) {
        check_clean("img.qcow2");
    }
}
END_TEST

START_TEST(test_header_errors)
{
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 40, 8, 0x100000); /* L1 table past the end */
    open_fails("img.qcow2", NULL, false, "L1 table at 0x100000 is past the end of the file");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 40, 8, 3 * CL + 8); /* misaligned L1 */
    open_fails("img.qcow2", NULL, true, "L1 table");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 36, 4, 0); /* L1 too small for the disk */
    open_fails("img.qcow2", NULL, true, "L1 table size 0");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 20, 4, 30);
    open_fails("img.qcow2", NULL, false, "cluster bits 30");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 4, 4, 4);
    open_fails("img.qcow2", "qcow2", false, "qcow2 version 4 is not supported");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 32, 4, 1);
    open_fails("img.qcow2", NULL, false, "encrypted");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 96, 4, 7);
    open_fails("img.qcow2", NULL, false, "refcount order 7");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 100, 4, 50);
    open_fails("img.qcow2", NULL, false, "header length 50");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 48, 8, 0x7000000); /* refcount table past the end */
    open_fails("img.qcow2", NULL, false, "refcount table");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", CL, 8, 2 * CL + 4); /* misaligned refcount block */
    open_fails("img.qcow2", NULL, false, "corrupt refcount table");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 3 * CL, 8, 0x900000); /* L1 entry past the end */
    open_fails("img.qcow2", NULL, false, "corrupt L1 table: entry 0");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 60, 4, 3); /* snapshots past the end */
    put_be("img.qcow2", 64, 8, 0x800000);
    open_fails("img.qcow2", NULL, false, "3 snapshots at 0x800000");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 112, 4, 0x12345678); /* extension longer than the cluster */
    put_be("img.qcow2", 116, 4, 0x20000);
    open_fails("img.qcow2", NULL, false, "extension 0x12345678 overruns");
    make_image("img.qcow2", NULL, NULL, false);
    truncate(at("img.qcow2"), 40);
    open_fails("img.qcow2", "qcow2", false, "too short");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 0, 4, 0x12345678);
    open_fails("img.qcow2", "qcow2", false, "not a qcow2 image");
    /* Not qcow2, and a cluster size no shift can make (the fuzzer's first
     * find: the size was computed before the magic was checked). */
    put_be("img.qcow2", 20, 4, 0x1000010);
    open_fails("img.qcow2", "qcow2", false, "not a qcow2 image");
}
END_TEST

/* Unknown incompatible features are refused by name: the image's feature
 * table gives it where present. */
START_TEST(test_incompatible_features)
{
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 72, 8, 1u << 4);
    open_fails("img.qcow2", NULL, false, "unsupported qcow2 feature(s): extended L2 entries");
    put_be("img.qcow2", 72, 8, 1u << 2 | 1u << 9);
    open_fails("img.qcow2", NULL, true,
               "unsupported qcow2 feature(s): external data file, incompatible bit 9");
    /* A feature name table entry for bit 9. */
    uint8_t ext[8 + 48] = {0};
    be_at(ext, 0x6803f857, 4);
    be_at(ext + 4, 48, 4);
    ext[8] = 0;
    ext[9] = 9;
    memcpy(ext + 10, "time travel", 11);
    int fd = open(at("img.qcow2"), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, ext, sizeof(ext), 112), (ssize_t)sizeof(ext));
    close(fd);
    put_be("img.qcow2", 72, 8, 1u << 9);
    open_fails("img.qcow2", NULL, false, "unsupported qcow2 feature(s): time travel");
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 100, 4, 112);
    put_be("img.qcow2", 104, 1, 1); /* zstd */
    put_be("img.qcow2", 72, 8, 1u << 3);
    open_fails("img.qcow2", NULL, false, "compression type");
    /* Marked corrupt: refused for writing, readable as it is. */
    make_image("img.qcow2", NULL, NULL, false);
    put_be("img.qcow2", 72, 8, 2);
    open_fails("img.qcow2", NULL, false, "marked corrupt");
    Drive d;
    open_ok(&d, "img.qcow2", NULL, true, false);
    drive_close(&d);
}
END_TEST

START_TEST(test_backing_errors)
{
    Drive d;
    uint8_t buf[512];
    make_image("top.qcow2", "missing.raw", "raw", false);
    open_fails("top.qcow2", NULL, false, "backing file: '");
    open_fails("top.qcow2", NULL, false, "missing.raw': No such file or directory");
    /* a -> b -> a */
    make_image("a.qcow2", "b.qcow2", NULL, false);
    make_image("b.qcow2", "a.qcow2", "qcow2", false);
    open_fails("a.qcow2", NULL, false, "backing file chain loops back to");
    /* a -> a */
    make_image("a.qcow2", "a.qcow2", NULL, false);
    open_fails("a.qcow2", NULL, false, "loops back");
    make_image("top.qcow2", "base.img", "vmdk", false);
    open_fails("top.qcow2", NULL, false, "has format 'vmdk'");
    /* A good chain, relative to the overlay's directory, probed. */
    make_image("base.qcow2", NULL, NULL, true);
    make_image("top.qcow2", "base.qcow2", NULL, false);
    open_ok(&d, "top.qcow2", NULL, false, false);
    rd(&d, 5, buf, 1);
    ck_assert_uint_eq(buf[0], 0xcc);
    drive_close(&d);
    /* A backing file some writer holds cannot be opened under an overlay. */
    Drive w;
    open_ok(&w, "base.qcow2", "qcow2", false, false);
    open_fails("top.qcow2", NULL, false, "in use by another process");
    drive_close(&w);
}
END_TEST

/* Offsets found bad after open: the request fails, nothing is read from
 * outside the image. */
START_TEST(test_bad_offsets_fail_requests)
{
    Drive d;
    uint8_t buf[512];
    make_image("img.qcow2", NULL, NULL, true);
    put_be("img.qcow2", 5 * CL, 8, (0x7000000ull) | (1ull << 63));        /* data past the end */
    put_be("img.qcow2", 5 * CL + 8, 8, (4ull * CL + 512) | (1ull << 63)); /* misaligned */
    put_be("img.qcow2", 5 * CL + 16, 8, (1ull << 62) | 0x3fffffffffull);  /* compressed, far */
    put_be("img.qcow2", 5 * CL + 24, 8, (1ull << 62) | (4ull * CL)); /* compressed, not deflate */
    open_ok(&d, "img.qcow2", NULL, false, false);
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 0, buf, 1), -EIO);
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 128, buf, 1), -EIO);
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 256, buf, 1), -EIO);
    ck_assert_int_eq(d.blk.read(d.blk.opaque, 384, buf, 1), -EIO);
    memset(buf, 1, sizeof(buf));
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 0, buf, 1), -EIO);
    ck_assert_int_eq(d.blk.write(d.blk.opaque, 100, buf, 1), -EIO);
    drive_close(&d);
}
END_TEST

/* A dirty image (a crash under lazy refcounts) whose clusters are used
 * more often than 1-bit refcounts can count: the rebuild refuses it. */
START_TEST(test_refcount_overflow_on_rebuild)
{
    make_image("img.qcow2", NULL, NULL, true);
    put_be("img.qcow2", 96, 4, 0);                                  /* 1-bit refcounts */
    put_be("img.qcow2", 2 * CL, 1, 0x3f);                           /* clusters 0-5 */
    put_be("img.qcow2", 5 * CL + 8, 8, (4ull * CL) | (1ull << 63)); /* cluster 4 twice */
    put_be("img.qcow2", 72, 8, 1);                                  /* dirty */
    open_fails("img.qcow2", NULL, false,
               "refcount overflow: cluster 4 is used 2 times (at most 1)");
    /* Read-only, a dirty image opens as it is. */
    Drive d;
    open_ok(&d, "img.qcow2", NULL, true, false);
    drive_close(&d);
    /* With 16-bit refcounts the rebuild succeeds and the bit is cleared. */
    make_image("img.qcow2", NULL, NULL, true);
    put_be("img.qcow2", 2 * CL + 8, 2, 0); /* a lost count: cluster 4 */
    put_be("img.qcow2", 72, 8, 1);
    open_ok(&d, "img.qcow2", NULL, false, false);
    drive_close(&d);
    ck_assert_uint_eq(get_be("img.qcow2", 72, 8), 0);
    if (have_qemu_img()) {
        check_clean("img.qcow2");
    }
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("qcow2_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_test(tc, test_good_image_opens);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_incompatible_features);
    tcase_add_test(tc, test_backing_errors);
    tcase_add_test(tc, test_bad_offsets_fail_requests);
    tcase_add_test(tc, test_refcount_overflow_on_rebuild);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(errors_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
