/*
 * Internal snapshots through block/snapshot.h: create with a VM-state
 * blob, list (popek's and qemu-img's view), load (the disk goes back, the
 * blob comes back), delete, replace by name; qemu-img check stays clean
 * throughout, and QEMU's own snapshots load too.  Skipped (77) where
 * qemu-img is not installed.
 */
#include "qcow2_fixture.h"

#include "block/snapshot.h"

/* qemu-img check needs the image closed (popek holds it exclusively). */
static void closed_check(Drive *d)
{
    drive_close(d);
    check_clean("img.qcow2");
    open_ok(d, "img.qcow2", "qcow2", false, false);
}

static void fill(uint8_t *b, size_t n, uint8_t v)
{
    memset(b, v, n);
}

static void expect_sector(Drive *d, uint64_t sector, uint8_t v)
{
    uint8_t buf[512];
    rd(d, sector, buf, 1);
    for (int i = 0; i < 512; i++) {
        ck_assert_uint_eq(buf[i], v);
    }
}

/* A blob that is not a whole number of sectors or clusters. */
static uint8_t *blob(size_t len, unsigned seed)
{
    uint8_t *b = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        b[i] = (uint8_t)(i * 2654435761u >> 13) ^ (uint8_t)seed;
    }
    return b;
}

START_TEST(test_create_list_load_delete)
{
    Drive d;
    char err[512];
    uint8_t sec[512];
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 img.qcow2 64M"), 0);
    open_ok(&d, "img.qcow2", NULL, false, false);
    ck_assert(block_snapshot_supported(&d, err, sizeof(err)));
    fill(sec, 512, 0x11);
    wr(&d, 10, sec, 1);
    wr(&d, 100000, sec, 1);
    size_t len1 = 200 * 1024 + 3, len2 = 5;
    uint8_t *b1 = blob(len1, 1), *b2 = blob(len2, 2);
    ck_assert_msg(block_snapshot_create(&d, "first", b1, len1, 123456789, err, sizeof(err)), "%s",
                  err);
    fill(sec, 512, 0x22);
    wr(&d, 10, sec, 1);   /* copy-on-write of a shared cluster */
    wr(&d, 5000, sec, 1); /* a new cluster */
    ck_assert_msg(block_snapshot_create(&d, "second", b2, len2, 42, err, sizeof(err)), "%s", err);
    fill(sec, 512, 0x33);
    wr(&d, 10, sec, 1);
    ck_assert_int_eq(d.blk.flush(d.blk.opaque), 0);
    closed_check(&d);

    BlockSnapshotInfo *list;
    ck_assert_int_eq(block_snapshot_list(&d, &list, err, sizeof(err)), 2);
    ck_assert_str_eq(list[0].name, "first");
    ck_assert_str_eq(list[0].id, "1");
    ck_assert_uint_eq(list[0].vm_state_size, len1);
    ck_assert_uint_eq(list[0].vm_clock_ns, 123456789);
    ck_assert_str_eq(list[1].name, "second");
    ck_assert_str_eq(list[1].id, "2");
    ck_assert_uint_gt(list[1].date_sec, 1600000000);
    free(list);
    /* qemu-img lists them, even while popek has the image open. */
    ck_assert_int_eq(sh("qemu-img info -U img.qcow2 | grep -q ' first ' && "
                        "qemu-img info -U img.qcow2 | grep -q ' second '"),
                     0);

    void *state;
    size_t len;
    BlockSnapshotInfo info;
    ck_assert_msg(block_snapshot_load(&d, "first", &state, &len, &info, err, sizeof(err)), "%s",
                  err);
    ck_assert_uint_eq(len, len1);
    ck_assert(!memcmp(state, b1, len1));
    ck_assert_str_eq(info.name, "first");
    free(state);
    expect_sector(&d, 10, 0x11);
    expect_sector(&d, 100000, 0x11);
    expect_sector(&d, 5000, 0);
    closed_check(&d);
    /* By id. */
    ck_assert_msg(block_snapshot_load(&d, "2", &state, &len, NULL, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(len, len2);
    ck_assert(!memcmp(state, b2, len2));
    free(state);
    expect_sector(&d, 10, 0x22);
    expect_sector(&d, 5000, 0x22);
    fill(sec, 512, 0x44);
    wr(&d, 10, sec, 1);
    closed_check(&d);

    ck_assert(!block_snapshot_load(&d, "nope", &state, &len, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "does not exist"));
    ck_assert_ptr_null(state);
    ck_assert(!block_snapshot_delete(&d, "nope", err, sizeof(err)));

    ck_assert_msg(block_snapshot_delete(&d, "first", err, sizeof(err)), "%s", err);
    closed_check(&d);
    ck_assert_int_eq(block_snapshot_list(&d, &list, err, sizeof(err)), 1);
    ck_assert_str_eq(list[0].name, "second");
    free(list);
    /* Same name again replaces it, as savevm does; the id is one past the
     * largest left (none here), as QEMU numbers them. */
    ck_assert(block_snapshot_create(&d, "second", b1, 1000, 7, err, sizeof(err)));
    ck_assert_int_eq(block_snapshot_list(&d, &list, err, sizeof(err)), 1);
    ck_assert_str_eq(list[0].id, "1");
    ck_assert_uint_eq(list[0].vm_state_size, 1000);
    free(list);
    ck_assert_msg(block_snapshot_delete(&d, "1", err, sizeof(err)), "%s", err);
    expect_sector(&d, 10, 0x44);
    drive_close(&d);
    check_clean("img.qcow2");
    ck_assert_int_eq(sh("qemu-img snapshot -l img.qcow2 | grep -c second | grep -qx 0"), 0);
    free(b1);
    free(b2);
}
END_TEST

/* Snapshots persist across a reopen, and qemu-img can apply a popek
 * snapshot (its disk state) and delete it. */
START_TEST(test_qemu_reads_popek_snapshots)
{
    Drive d;
    char err[512];
    uint8_t sec[512];
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o cluster_size=4k img.qcow2 8M"), 0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    fill(sec, 512, 0x5a);
    wr(&d, 77, sec, 1);
    uint8_t *b = blob(3 << 20, 5); /* spans several VM-state L2 tables */
    ck_assert_msg(block_snapshot_create(&d, "s1", b, 3 << 20, 1, err, sizeof(err)), "%s", err);
    fill(sec, 512, 0xa5);
    wr(&d, 77, sec, 1);
    drive_close(&d);
    check_clean("img.qcow2");
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    void *state;
    size_t len;
    ck_assert_msg(block_snapshot_load(&d, "s1", &state, &len, NULL, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(len, 3 << 20);
    ck_assert(!memcmp(state, b, len));
    free(state);
    expect_sector(&d, 77, 0x5a);
    wr(&d, 77, sec, 1);
    drive_close(&d);
    ck_assert_int_eq(sh("qemu-img snapshot -a s1 img.qcow2 && "
                        "qemu-io -f qcow2 -c 'read -P 0x5a 39424 512' img.qcow2 | "
                        "grep -q 'read 512/512' && qemu-img snapshot -d s1 img.qcow2"),
                     0);
    check_clean("img.qcow2");
    free(b);
}
END_TEST

/* A snapshot qemu-img took loads (with no VM state), and popek deletes it. */
START_TEST(test_popek_reads_qemu_snapshots)
{
    Drive d;
    char err[512];
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 img.qcow2 8M && "
                        "qemu-io -f qcow2 -c 'write -P 0x61 0 128k' img.qcow2 >/dev/null && "
                        "qemu-img snapshot -c qsnap img.qcow2 && "
                        "qemu-io -f qcow2 -c 'write -P 0x62 0 64k' img.qcow2 >/dev/null"),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    expect_sector(&d, 0, 0x62);
    void *state;
    size_t len;
    ck_assert_msg(block_snapshot_load(&d, "qsnap", &state, &len, NULL, err, sizeof(err)), "%s",
                  err);
    ck_assert_uint_eq(len, 0);
    free(state);
    expect_sector(&d, 0, 0x61);
    expect_sector(&d, 200, 0x61);
    ck_assert(block_snapshot_delete(&d, "qsnap", err, sizeof(err)));
    drive_close(&d);
    check_clean("img.qcow2");
}
END_TEST

/* After a snapshot, rewriting more shared clusters than popek keeps
 * waiting for release between flushes (4096) with no flush at all: the
 * releases go out in order on their own, and the image is consistent. */
START_TEST(test_many_releases_without_flush)
{
    Drive d;
    char err[512];
    uint8_t *buf = malloc(1 << 20);
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o cluster_size=512 img.qcow2 8M && "
                        "qemu-io -f qcow2 -c 'write -P 0x71 0 6M' img.qcow2 >/dev/null"),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    ck_assert_msg(block_snapshot_create(&d, "before", "", 0, 0, err, sizeof(err)), "%s", err);
    memset(buf, 0x72, 1 << 20);
    for (uint64_t s = 0; s < (6u << 11); s += 2048) {
        wr(&d, s, buf, 2048);
    }
    expect_sector(&d, 12000, 0x72);
    drive_close(&d);
    check_clean("img.qcow2");
    ck_assert_int_eq(
        sh("qemu-io -f qcow2 -c 'read -P 0x72 0 6M' img.qcow2 | grep -q 'read 6291456'"), 0);
    free(buf);
}
END_TEST

/* Only a writable qcow2 image holds snapshots; each refusal is one line. */
START_TEST(test_unsupported)
{
    Drive d;
    char err[512];
    BlockSnapshotInfo *list;
    ck_assert_int_eq(sh("truncate -s 1M raw.img && qemu-img create -q -f qcow2 img.qcow2 1M"), 0);
    open_ok(&d, "raw.img", "raw", false, false);
    ck_assert(!block_snapshot_supported(&d, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "'raw' does not support snapshots"));
    ck_assert(!block_snapshot_create(&d, "x", "", 0, 0, err, sizeof(err)));
    drive_close(&d);
    open_ok(&d, "img.qcow2", "qcow2", false, true);
    ck_assert_int_eq(block_snapshot_list(&d, &list, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-snapshot"));
    drive_close(&d);
    open_ok(&d, "img.qcow2", "qcow2", true, false);
    ck_assert(!block_snapshot_create(&d, "x", "", 0, 0, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "read-only"));
    drive_close(&d);
    Drive none = {0};
    ck_assert(!block_snapshot_supported(&none, err, sizeof(err)));
}
END_TEST

/* With 1-bit refcounts a cluster cannot be shared: a snapshot fails with
 * one line and the image is still consistent. */
START_TEST(test_refcount_overflow)
{
    Drive d;
    char err[512];
    uint8_t sec[512];
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o refcount_bits=1 img.qcow2 8M"), 0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    fill(sec, 512, 1);
    wr(&d, 0, sec, 1);
    ck_assert(!block_snapshot_create(&d, "s", "", 0, 0, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot create the snapshot: refcount overflow"));
    ck_assert_ptr_null(strchr(err, '\n'));
    drive_close(&d);
    /* What the failed attempt allocated may leak; nothing is corrupt
     * (qemu-img check: 0 clean, 3 leaks only). */
    int st = sh("qemu-img check -q img.qcow2");
    ck_assert_msg(st == 0 || st == 3, "qemu-img check status %d", st);
}
END_TEST

static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("qcow2_snapshot");
    TCase *tc = tcase_create("snapshots");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_create_list_load_delete);
    tcase_add_test(tc, test_qemu_reads_popek_snapshots);
    tcase_add_test(tc, test_popek_reads_qemu_snapshots);
    tcase_add_test(tc, test_many_releases_without_flush);
    tcase_add_test(tc, test_unsupported);
    tcase_add_test(tc, test_refcount_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!have_qemu_img()) {
        printf("qemu-img/qemu-io not installed: skipped\n");
        return 77;
    }
    SRunner *sr = srunner_create(snapshot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
