/*
 * Helpers for the qcow2 unit tests: a scratch directory per test, shell
 * commands (qemu-img, qemu-io: test-only peers), and the image's header
 * fields read and patched by hand.
 */
#ifndef TESTS_UNIT_QCOW2_FIXTURE_H
#define TESTS_UNIT_QCOW2_FIXTURE_H

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/drive.h"

static char dir[64];

static inline void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/popek-qcow2-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static inline bool have_qemu_img(void)
{
    return system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") == 0;
}

/* Run a shell command (in dir) and return its exit status. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
    char cmd[2048];
    int n = snprintf(cmd, sizeof(cmd), "cd %s && ", dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *at(const char *name)
{
    static char paths[4][256];
    static int next;
    char *p = paths[next++ & 3];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* qemu-img check is clean: no errors and no leaks. */
static inline void check_clean(const char *name)
{
    ck_assert_msg(sh("qemu-img check -U -q %s", name) == 0, "qemu-img check %s is not clean", name);
}

static inline uint64_t get_be(const char *name, long off, int len)
{
    uint8_t b[8];
    int fd = open(at(name), O_RDONLY);
    ck_assert_int_eq(pread(fd, b, (size_t)len, off), len);
    close(fd);
    uint64_t v = 0;
    for (int i = 0; i < len; i++) {
        v = v << 8 | b[i];
    }
    return v;
}

static inline void put_be(const char *name, long off, int len, uint64_t v)
{
    uint8_t b[8];
    for (int i = len - 1; i >= 0; i--, v >>= 8) {
        b[i] = (uint8_t)v;
    }
    int fd = open(at(name), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, b, (size_t)len, off), len);
    close(fd);
}

static inline void open_ok(Drive *d, const char *name, const char *format, bool read_only,
                           bool snapshot)
{
    char err[512];
    ck_assert_msg(
        drive_open_format(d, at(name), format, read_only, snapshot, true, NULL, err, sizeof(err)), "%s",
        err);
}

/* Open must fail with one line containing want. */
static inline void open_fails(const char *name, const char *format, bool read_only,
                              const char *want)
{
    Drive d;
    char err[512];
    ck_assert_msg(
        !drive_open_format(&d, at(name), format, read_only, false, true, NULL, err, sizeof(err)),
        "%s opened", name);
    ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
    ck_assert_ptr_null(strchr(err, '\n'));
}

static inline void wr(Drive *d, uint64_t sector, const void *buf, uint32_t count)
{
    ck_assert_int_eq(d->blk.write(d->blk.opaque, sector, buf, count), 0);
}

static inline void rd(Drive *d, uint64_t sector, void *buf, uint32_t count)
{
    ck_assert_int_eq(d->blk.read(d->blk.opaque, sector, buf, count), 0);
}

/* A byte pattern that differs for every sector and seed. */
static inline void pattern(uint8_t *buf, size_t len, uint64_t first_sector, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t s = first_sector + i / 512;
        buf[i] = (uint8_t)(s * 131 + (i % 512) * 7 + seed * 29 + (s >> 8));
    }
}

#endif /* TESTS_UNIT_QCOW2_FIXTURE_H */
