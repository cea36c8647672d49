/*
 * chardev/spec.c: QEMU's two spellings of a character device, as -serial
 * and -chardev take them, and the socket backend on loopback
 * (chardev/socket.c): a server's client comes and goes, output without a
 * client is dropped.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "chardev/chardev.h"

static ChardevSpec legacy_ok(const char *text)
{
    ChardevSpec s;
    char err[256] = "";
    ck_assert_msg(chardev_parse_legacy(text, &s, err, sizeof(err)), "%s: %s", text, err);
    return s;
}

static const char *legacy_err(const char *text)
{
    static char err[256];
    ChardevSpec s;
    ck_assert_msg(!chardev_parse_legacy(text, &s, err, sizeof(err)), "%s parsed", text);
    return err;
}

static ChardevSpec opts_ok(const char *text)
{
    ChardevSpec s;
    char err[256] = "";
    ck_assert_msg(chardev_parse_opts(text, &s, err, sizeof(err)), "%s: %s", text, err);
    return s;
}

static const char *opts_err(const char *text)
{
    static char err[256];
    ChardevSpec s;
    ck_assert_msg(!chardev_parse_opts(text, &s, err, sizeof(err)), "%s parsed", text);
    return err;
}

START_TEST(test_legacy_simple)
{
    ck_assert_int_eq(legacy_ok("null").kind, CHARDEV_NULL);
    ck_assert_int_eq(legacy_ok("stdio").kind, CHARDEV_STDIO);
    ck_assert_int_eq(legacy_ok("pty").kind, CHARDEV_PTY);
    ck_assert_int_eq(legacy_ok("vc").kind, CHARDEV_VC);
    ck_assert_int_eq(legacy_ok("vc:800x600").kind, CHARDEV_VC);
    ChardevSpec f = legacy_ok("file:/tmp/x,y");
    ck_assert_int_eq(f.kind, CHARDEV_FILE);
    ck_assert_str_eq(f.path, "/tmp/x,y"); /* a file name may hold commas */
    ChardevSpec r = legacy_ok("chardev:c0");
    ck_assert_int_eq(r.kind, CHARDEV_REF);
    ck_assert_str_eq(r.id, "c0");
    ChardevSpec m = legacy_ok("mon:stdio");
    ck_assert_int_eq(m.kind, CHARDEV_STDIO);
    ck_assert(m.mux);
    ck_assert(strstr(legacy_err("file:"), "PATH"));
    ck_assert(strstr(legacy_err("serial"), "unknown backend"));
    ck_assert(strstr(legacy_err("mon:chardev:x"), "mon:"));
}
END_TEST

START_TEST(test_legacy_sockets)
{
    ChardevSpec t = legacy_ok("tcp::4444,server,nowait");
    ck_assert_int_eq(t.kind, CHARDEV_SOCKET);
    ck_assert(!t.is_unix && t.server && !t.wait);
    ck_assert_str_eq(t.host, "");
    ck_assert_str_eq(t.port, "4444");
    t = legacy_ok("tcp:10.1.2.3:99");
    ck_assert(!t.server);
    ck_assert_str_eq(t.host, "10.1.2.3");
    ck_assert_str_eq(t.port, "99");
    t = legacy_ok("tcp:[::1]:5,server=on,wait=off");
    ck_assert_str_eq(t.host, "::1");
    ck_assert(t.server && !t.wait);
    t = legacy_ok("tcp:localhost:5,server"); /* QEMU waits for the client by default */
    ck_assert(t.server && t.wait);
    ChardevSpec u = legacy_ok("unix:/tmp/s,server,nowait");
    ck_assert(u.is_unix && u.server && !u.wait);
    ck_assert_str_eq(u.path, "/tmp/s");
    ck_assert(strstr(legacy_err("tcp:4444"), "HOST:PORT"));
    ck_assert(strstr(legacy_err("tcp:host:"), "HOST:PORT"));
    ck_assert(strstr(legacy_err("tcp::1,server=maybe"), "on or off"));
    ck_assert(strstr(legacy_err("tcp::1,telnet"), "unknown socket option"));
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "unix:", 5);
    longpath[sizeof(longpath) - 1] = '\0';
    ck_assert(strstr(legacy_err(longpath), "PATH"));
}
END_TEST

START_TEST(test_opts)
{
    ChardevSpec s = opts_ok("socket,id=s0,host=127.0.0.1,port=4444,server=on,wait=off");
    ck_assert_int_eq(s.kind, CHARDEV_SOCKET);
    ck_assert_str_eq(s.id, "s0");
    ck_assert(!s.is_unix && s.server && !s.wait);
    s = opts_ok("socket,id=u,path=/tmp/q,server,nowait"); /* QEMU's older flags */
    ck_assert(s.is_unix && s.server && !s.wait);
    s = opts_ok("file,id=f,path=/tmp/log");
    ck_assert_int_eq(s.kind, CHARDEV_FILE);
    s = opts_ok("stdio,id=m,mux=on,signal=off");
    ck_assert(s.mux);
    ck_assert_int_eq(opts_ok("pty,id=p").kind, CHARDEV_PTY);
    ck_assert_int_eq(opts_ok("null,id=n").kind, CHARDEV_NULL);
    ck_assert(strstr(opts_err("socket,port=1"), "id="));
    ck_assert(strstr(opts_err("socket,id=a"), "path=PATH or port=PORT"));
    ck_assert(strstr(opts_err("file,id=a"), "path="));
    ck_assert(strstr(opts_err("udp,id=a"), "unknown backend"));
    ck_assert(strstr(opts_err("null,id=a,path=/x"), "unknown property"));
    ck_assert(strstr(opts_err("pty,id=a,mux=perhaps"), "bad value"));
}
END_TEST

static int got_len;
static uint8_t got[64];
static int events[2];

static int rx_room(void *opaque)
{
    return (int)sizeof(got) - got_len;
}

static void rx(void *opaque, const uint8_t *buf, int len)
{
    memcpy(got + got_len, buf, (size_t)len);
    got_len += len;
}

static void rx_event(void *opaque, enum ChardevEvent ev)
{
    events[ev]++;
}

/* One round of the owner's poll. */
static void serve(Chardev *c)
{
    struct pollfd fds[2];
    int n = chardev_pollfds(c, fds, 2);
    ck_assert_int_ge(poll(fds, (nfds_t)n, 2000), 1);
    chardev_service(c, fds, n);
}

START_TEST(test_socket_server)
{
    ChardevSpec spec;
    char err[256];
    ck_assert(chardev_parse_legacy("tcp::0,server,nowait", &spec, err, sizeof(err)));
    Chardev c;
    ck_assert_msg(chardev_open_spec(&c, &spec, "serial0", err, sizeof(err)), "%s", err);
    chardev_set_receiver(&c, rx_room, rx, rx_event, NULL);
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    ck_assert_int_eq(getsockname(c.listen_fd, (struct sockaddr *)&addr, &alen), 0);
    ck_assert_uint_eq(ntohl(addr.sin_addr.s_addr), INADDR_LOOPBACK); /* loopback only */
    ck_assert(!chardev_connected(&c));
    chardev_write(&c, "lost", 4); /* nobody there: dropped */

    int cl = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(cl, (struct sockaddr *)&addr, alen), 0);
    serve(&c);
    ck_assert_int_eq(events[CHARDEV_OPENED], 1);
    ck_assert(chardev_connected(&c));
    chardev_write(&c, "hi", 2);
    char buf[8] = "";
    ck_assert_int_eq(read(cl, buf, sizeof(buf)), 2); /* "lost" was never queued */
    ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
    ck_assert_int_eq(write(cl, "abc", 3), 3);
    serve(&c);
    ck_assert_int_eq(got_len, 3);
    close(cl);
    serve(&c);
    ck_assert_int_eq(events[CHARDEV_CLOSED], 1);
    ck_assert(!chardev_connected(&c));
    chardev_close(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chardev");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, test_legacy_simple);
    tcase_add_test(tc, test_legacy_sockets);
    tcase_add_test(tc, test_opts);
    tcase_add_test(tc, test_socket_server);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
