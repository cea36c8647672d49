/*
 * qcow2 reads and writes (block/qcow2*.c) on images qemu-img makes:
 * versions 2 and 3, cluster sizes from 512 B to 2 MiB, refcount widths
 * from 1 to 64 bits, zero clusters, compressed clusters, backing chains,
 * lazy refcounts and a crash.  After popek writes, `qemu-img check` must
 * be clean and `qemu-img compare` must match a raw mirror of every write.
 * Skipped (77) where qemu-img is not installed.
 */
#include <malloc.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "qcow2_fixture.h"

#define SECTORS_16M (16u << 11)

/* A deterministic mix of writes (aligned, unaligned, crossing clusters and
 * L2 tables), mirrored into a raw file; then the whole disk read back. */
static void write_mix(Drive *d, const char *mirror, uint64_t sectors, unsigned seed, int writes)
{
    FILE *m = fopen(at(mirror), "r+b");
    ck_assert_ptr_nonnull(m);
    uint8_t *buf = malloc(512 * 512);
    uint32_t x = seed * 2654435761u + 1;
    for (int i = 0; i < writes; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t count = 1 + (x >> 8) % 300;
        x = x * 1103515245u + 12345u;
        uint64_t sector = (x >> 4) % (sectors - count);
        pattern(buf, count * 512u, sector, seed + (unsigned)i);
        wr(d, sector, buf, count);
        fseek(m, (long)(sector * 512), SEEK_SET);
        ck_assert_uint_eq(fwrite(buf, 512, count, m), count);
    }
    fclose(m);
    /* Read everything back through popek against the mirror. */
    int fd = open(at(mirror), O_RDONLY);
    uint8_t *want = malloc(512 * 512);
    for (uint64_t s = 0; s < sectors; s += 512) {
        uint32_t n = sectors - s < 512 ? (uint32_t)(sectors - s) : 512;
        rd(d, s, buf, n);
        ck_assert_int_eq(pread(fd, want, n * 512u, (off_t)(s * 512)), (ssize_t)n * 512);
        ck_assert_msg(!memcmp(buf, want, n * 512u), "sectors %llu+%u differ", (unsigned long long)s,
                      n);
    }
    close(fd);
    free(want);
    free(buf);
}

static void roundtrip(const char *opts, unsigned seed, int writes)
{
    Drive d;
    ck_assert_int_eq(sh("rm -f mirror.raw && qemu-img create -q -f qcow2 %s img.qcow2 16M && "
                        "truncate -s 16M mirror.raw",
                        opts),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    ck_assert_uint_eq(d.blk.sectors, SECTORS_16M);
    write_mix(&d, "mirror.raw", SECTORS_16M, seed, writes);
    ck_assert_int_eq(d.blk.flush(d.blk.opaque), 0);
    drive_close(&d);
    check_clean("img.qcow2");
    ck_assert_int_eq(sh("qemu-img compare -q -f qcow2 -F raw img.qcow2 mirror.raw"), 0);
    /* And popek reads it back after a reopen, probed this time. */
    open_ok(&d, "img.qcow2", NULL, true, false);
    write_mix(&d, "mirror.raw", SECTORS_16M, seed, 0);
    drive_close(&d);
}

START_TEST(test_rw_v3)
{
    roundtrip("", 1, 60);
}
END_TEST

START_TEST(test_rw_v2)
{
    roundtrip("-o compat=0.10", 2, 60);
    ck_assert_uint_eq(get_be("img.qcow2", 4, 4), 2);
}
END_TEST

/* 512-byte clusters: thousands of L2 tables, new refcount blocks and the
 * refcount table moved to a larger copy as the file grows. */
START_TEST(test_rw_small_clusters)
{
    uint64_t rt_before;
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o cluster_size=512 img.qcow2 16M"), 0);
    rt_before = get_be("img.qcow2", 48, 8);
    roundtrip("-o cluster_size=512", 3, 200);
    ck_assert_uint_ne(get_be("img.qcow2", 48, 8), rt_before);
}
END_TEST

START_TEST(test_rw_big_clusters)
{
    roundtrip("-o cluster_size=2M", 4, 60);
}
END_TEST

START_TEST(test_rw_refcount_widths)
{
    static const char *const widths[] = {"1", "2", "4", "8", "32", "64"};
    for (unsigned i = 0; i < 6; i++) {
        char opts[128];
        snprintf(opts, sizeof(opts), "-o cluster_size=4k,refcount_bits=%s", widths[i]);
        roundtrip(opts, 10 + i, 60);
    }
}
END_TEST

/* Zero clusters (v3): qemu-io's write -z over data keeps the host cluster
 * (a preallocated zero cluster), write -z -u drops it (a plain one); both
 * read as zeros, and a partial write into them leaves the rest zero. */
START_TEST(test_zero_clusters)
{
    Drive d;
    uint8_t buf[64 * 1024], want[64 * 1024];
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 img.qcow2 4M && "
                        "qemu-io -f qcow2 -c 'write -P 0xaa 0 256k' -c 'write -z 0 64k' "
                        "-c 'write -z 192k 64k' -c 'write -z -u 128k 64k' img.qcow2 >/dev/null && "
                        "truncate -s 4M mirror.raw && "
                        "qemu-io -f raw -c 'write -P 0xaa 64k 64k' mirror.raw >/dev/null"),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    memset(want, 0, sizeof(want));
    for (uint64_t s = 0; s < 512; s += 128) {
        rd(&d, s, buf, 128);
        memset(want, s == 128 ? 0xaa : 0, sizeof(want));
        ck_assert_msg(!memcmp(buf, want, sizeof(buf)), "cluster at sector %llu",
                      (unsigned long long)s);
    }
    /* One sector into each zero cluster (preallocated: 0 and 3; plain: 2). */
    memset(buf, 0x5c, 512);
    FILE *m = fopen(at("mirror.raw"), "r+b");
    static const uint64_t sectors[] = {3, 384 + 5, 256 + 7};
    for (unsigned i = 0; i < 3; i++) {
        wr(&d, sectors[i], buf, 1);
        fseek(m, (long)sectors[i] * 512, SEEK_SET);
        fwrite(buf, 512, 1, m);
    }
    fclose(m);
    drive_close(&d);
    check_clean("img.qcow2");
    ck_assert_int_eq(sh("qemu-img compare -q -f qcow2 -F raw img.qcow2 mirror.raw"), 0);
}
END_TEST

/* Compressed clusters (qemu-img convert -c) read back, and a write into
 * one copies it to a new cluster and releases the old. */
START_TEST(test_compressed)
{
    Drive d;
    uint8_t *buf = malloc(1 << 20);
    pattern(buf, 1 << 20, 0, 7);
    FILE *f = fopen(at("mirror.raw"), "wb");
    fwrite(buf, 1, 1 << 20, f);
    fwrite(buf, 1, 1 << 20, f);
    fclose(f);
    ck_assert_int_eq(sh("qemu-img convert -c -O qcow2 mirror.raw img.qcow2"), 0);
    open_ok(&d, "img.qcow2", NULL, false, false);
    write_mix(&d, "mirror.raw", 4096, 21, 20);
    drive_close(&d);
    check_clean("img.qcow2");
    ck_assert_int_eq(sh("qemu-img compare -q -f qcow2 -F raw img.qcow2 mirror.raw"), 0);
    free(buf);
}
END_TEST

/* raw base <- qcow2 mid <- qcow2 top: reads fall through, writes copy on
 * write, the bases are never written, and past a short base reads zeros. */
START_TEST(test_backing_chain)
{
    Drive d;
    uint8_t *buf = malloc(4 << 20);
    pattern(buf, 4 << 20, 0, 9);
    FILE *f = fopen(at("base.raw"), "wb");
    fwrite(buf, 1, 4 << 20, f);
    fclose(f);
    ck_assert_int_eq(sh("cp base.raw mirror.raw && truncate -s 8M mirror.raw && "
                        "qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 6M && "
                        "qemu-io -f qcow2 -c 'write -P 0x33 1M 100k' mid.qcow2 >/dev/null && "
                        "qemu-io -f raw -c 'write -P 0x33 1M 100k' mirror.raw >/dev/null && "
                        "qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 8M && "
                        "sha256sum base.raw mid.qcow2 > sums"),
                     0);
    open_ok(&d, "top.qcow2", NULL, false, false);
    ck_assert_uint_eq(d.blk.sectors, 8u << 11);
    write_mix(&d, "mirror.raw", 8u << 11, 33, 40);
    /* The base is locked shared: a writer may not open it meanwhile. */
    Drive w;
    char err[512];
    ck_assert(!drive_open(&w, at("base.raw"), false, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    drive_close(&d);
    ck_assert_int_eq(sh("sha256sum -c --quiet sums"), 0);
    check_clean("top.qcow2");
    ck_assert_int_eq(sh("qemu-img compare -q -f qcow2 -F raw top.qcow2 mirror.raw"), 0);
    free(buf);
}
END_TEST

/* -snapshot over qcow2: writes land in the overlay; the image's bytes
 * never change. */
START_TEST(test_snapshot_option)
{
    Drive d;
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 img.qcow2 8M && truncate -s 8M mirror.raw && "
                        "sha256sum img.qcow2 > sums"),
                     0);
    open_ok(&d, "img.qcow2", NULL, false, true);
    write_mix(&d, "mirror.raw", 8u << 11, 40, 20);
    ck_assert_int_eq(d.blk.flush(d.blk.opaque), 0);
    drive_close(&d);
    ck_assert_int_eq(sh("sha256sum -c --quiet sums"), 0);
}
END_TEST

static int header_dirty(void)
{
    return (int)(get_be("img.qcow2", 72, 8) & 1);
}

/* Lazy refcounts: the dirty bit is set while open for writing and cleared
 * on close; after a crash (the process dies with it set), the next
 * writable open rebuilds the refcounts and check is clean. */
START_TEST(test_lazy_refcounts)
{
    Drive d;
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o lazy_refcounts=on img.qcow2 16M && "
                        "truncate -s 16M mirror.raw"),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    ck_assert_int_eq(header_dirty(), 1);
    write_mix(&d, "mirror.raw", SECTORS_16M, 50, 10);
    drive_close(&d);
    ck_assert_int_eq(header_dirty(), 0);
    check_clean("img.qcow2");

    pid_t pid = fork();
    if (pid == 0) {
        Drive c;
        char err[512];
        if (!drive_open_format(&c, at("img.qcow2"), "qcow2", false, false, true, NULL, err,
                               sizeof(err))) {
            _exit(2);
        }
        uint8_t buf[512 * 64];
        for (int i = 0; i < 40; i++) {
            pattern(buf, sizeof(buf), (uint64_t)i * 700, 60);
            c.blk.write(c.blk.opaque, (uint64_t)i * 700, buf, 64);
        }
        c.blk.flush(c.blk.opaque);
        _exit(0); /* no close: killed as far as the image knows */
    }
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(header_dirty(), 1);
    /* Read-only opens leave a dirty image as it is. */
    open_ok(&d, "img.qcow2", "qcow2", true, false);
    drive_close(&d);
    ck_assert_int_eq(header_dirty(), 1);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    uint8_t buf[512 * 64], want[512 * 64];
    pattern(want, sizeof(want), 39 * 700, 60);
    rd(&d, 39 * 700, buf, 64);
    ck_assert(!memcmp(buf, want, sizeof(buf)));
    drive_close(&d);
    ck_assert_int_eq(header_dirty(), 0);
    check_clean("img.qcow2");
}
END_TEST

/* Without lazy refcounts, a process that dies after FLUSH leaves an image
 * with no errors, its flushed data in place. */
START_TEST(test_crash_after_flush)
{
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 img.qcow2 16M"), 0);
    pid_t pid = fork();
    if (pid == 0) {
        Drive c;
        char err[512];
        if (!drive_open_format(&c, at("img.qcow2"), "qcow2", false, false, true, NULL, err,
                               sizeof(err))) {
            _exit(2);
        }
        uint8_t buf[512 * 64];
        for (int i = 0; i < 40; i++) {
            pattern(buf, sizeof(buf), (uint64_t)i * 777, 70);
            c.blk.write(c.blk.opaque, (uint64_t)i * 777, buf, 64);
        }
        c.blk.flush(c.blk.opaque);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(header_dirty(), 0);
    check_clean("img.qcow2");
    Drive d;
    open_ok(&d, "img.qcow2", "qcow2", true, false);
    uint8_t buf[512 * 64], want[512 * 64];
    for (int i = 0; i < 40; i++) {
        pattern(want, sizeof(want), (uint64_t)i * 777, 70);
        rd(&d, (uint64_t)i * 777, buf, 64);
        ck_assert(!memcmp(buf, want, sizeof(buf)));
    }
    drive_close(&d);
}

static uint64_t file_bytes(const char *name)
{
    struct stat st;
    ck_assert_int_eq(stat(at(name), &st), 0);
    return (uint64_t)st.st_size;
}

/* Every sector of the disk, in chunks of chunk sectors (the last short). */
static void write_all(Drive *d, uint32_t chunk, unsigned seed)
{
    static uint8_t buf[128 * 512];
    for (uint64_t s = 0; s < SECTORS_16M; s += chunk) {
        uint32_t n = SECTORS_16M - s < chunk ? (uint32_t)(SECTORS_16M - s) : chunk;
        pattern(buf, n * 512u, s, seed);
        wr(d, s, buf, n);
    }
    ck_assert_int_eq(d->blk.flush(d->blk.opaque), 0);
}

/*
 * A guest that writes the whole disk and then rewrites it, again and
 * again, cannot grow the file past the disk plus its metadata (one L2
 * table per l2-entries clusters, refcount blocks for all of them, the
 * header, L1 and refcount table), nor popek's heap: the L2 cache is
 * QCOW2_L2_SLOTS tables and one refcount block is cached.  Rewrites hit
 * allocated clusters, so the file does not grow at all after the first
 * pass.  512-byte clusters make the metadata as large as it gets.
 */
static void rewrite_bounded(uint32_t cluster)
{
    Drive d;
    ck_assert_int_eq(sh("qemu-img create -q -f qcow2 -o cluster_size=%u img.qcow2 16M", cluster),
                     0);
    open_ok(&d, "img.qcow2", "qcow2", false, false);
    write_all(&d, 64, 1);
    uint64_t first = file_bytes("img.qcow2");
    size_t heap_first = mallinfo2().uordblks;
    write_all(&d, 37, 2); /* unaligned: partial clusters, copy-on-write inside the image */
    write_all(&d, 128, 3);
    uint64_t last = file_bytes("img.qcow2");
    size_t heap_last = mallinfo2().uordblks;
    drive_close(&d);
    uint64_t data = (16u << 20) / cluster, l2_entries = cluster / 8;
    uint64_t l2_tables = (data + l2_entries - 1) / l2_entries;
    uint64_t rb_entries = cluster * 8 / 16; /* 16-bit refcounts, qemu-img's default */
    uint64_t meta = l2_tables + 2 * ((data + l2_tables + rb_entries - 1) / rb_entries) + 16;
    printf("qcow2 %u-byte clusters: file %llu bytes after the first pass, %llu after two "
           "rewrites (disk 16 MiB + %llu bytes); heap %+lld bytes\n",
           cluster, (unsigned long long)first, (unsigned long long)last,
           (unsigned long long)(last - (16u << 20)), (long long)heap_last - (long long)heap_first);
    ck_assert_uint_eq(last, first);
    ck_assert_uint_le(last, (16u << 20) + meta * cluster);
    ck_assert_int_lt((long long)heap_last - (long long)heap_first, 256 * 1024);
    check_clean("img.qcow2");
}

START_TEST(test_rewrite_stays_bounded)
{
    rewrite_bounded(512);
    rewrite_bounded(65536);
}
END_TEST
END_TEST

static Suite *qcow2_suite(void)
{
    Suite *s = suite_create("qcow2");
    TCase *tc = tcase_create("images");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rw_v3);
    tcase_add_test(tc, test_rw_v2);
    tcase_add_test(tc, test_rw_small_clusters);
    tcase_add_test(tc, test_rw_big_clusters);
    tcase_add_test(tc, test_rw_refcount_widths);
    tcase_add_test(tc, test_zero_clusters);
    tcase_add_test(tc, test_compressed);
    tcase_add_test(tc, test_backing_chain);
    tcase_add_test(tc, test_snapshot_option);
    tcase_add_test(tc, test_lazy_refcounts);
    tcase_add_test(tc, test_crash_after_flush);
    tcase_add_test(tc, test_rewrite_stays_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!have_qemu_img()) {
        printf("qemu-img/qemu-io not installed: skipped\n");
        return 77;
    }
    SRunner *sr = srunner_create(qcow2_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
