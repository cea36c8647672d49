/*
 * filter-dump's pcap file as a packet tool reads it: frames both ways
 * through a netdev, then tcpdump -r must list each with the right
 * addresses.  Skipped (exit 77) where tcpdump is not installed
 * (scripts/setup.sh installs it).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/dump.h"
#include "net_fixture.h"

#define SKIP 77

static char tcpdump[256];

/* tcpdump on PATH or in the sbin directories it may live in. */
static bool find_tcpdump(void)
{
    const char *path = getenv("PATH");
    char dirs[1024];
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(tcpdump, sizeof(tcpdump), "%s/tcpdump", d);
        if (access(tcpdump, X_OK) == 0) {
            return true;
        }
    }
    return false;
}

/* An ARP request: who has 10.0.2.2, tell 10.0.2.15. */
static const uint8_t arp_request[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    10,   0,    2,    15,   0,    0,    0,    0,    0,    0,    10,   0,    2,    2,
};

/* Its answer: 10.0.2.2 is at 52:55:0a:00:02:02. */
static const uint8_t arp_reply[42] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
    10,   0,    2,    2,    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10,   0,    2,    15,
};

START_TEST(test_tcpdump_reads_the_dump)
{
    char path[64], err[256], cmd[512], line[512];
    snprintf(path, sizeof(path), "/tmp/popek-net-tcpdump-%d.pcap", (int)getpid());
    Net *net = net_new();
    FakeNic *nic = fake_nic_new();
    FakeBackend *be = fake_backend_new(net, "n0");
    ck_assert(net_client_attach(&nic->nc, be->nd));
    ck_assert_msg(net_dump_attach(be->nd, "d0", path, NET_DUMP_SNAPLEN, err, sizeof(err)), "%s",
                  err);
    net_client_send(&nic->nc, arp_request, sizeof(arp_request));
    netdev_send(be->nd, arp_reply, sizeof(arp_reply));
    static uint8_t big[NET_MAX_FRAME];
    make_frame(big, sizeof(big), 0); /* longer than the snap length */
    net_client_send(&nic->nc, big, sizeof(big));
    net_free(net);
    free(nic);

    snprintf(cmd, sizeof(cmd), "%s -r %s -nn -e 2>&1", tcpdump, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    int frames = 0;
    bool request = false, reply = false, truncated = false;
    while (fgets(line, sizeof(line), p)) {
        /* tcpdump shows the bytes of an unknown type indented: skip them. */
        if (line[0] == '\t' || line[0] == ' ' || strstr(line, "reading from file")) {
            continue;
        }
        printf("tcpdump: %s", line);
        frames++;
        request |= strstr(line, "52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff") &&
                   strstr(line, "Request who-has 10.0.2.2 tell 10.0.2.15");
        reply |= strstr(line, "52:55:0a:00:02:02 > 52:54:00:12:34:56") &&
                 strstr(line, "Reply 10.0.2.2 is-at 52:55:0a:00:02:02");
        truncated |= strstr(line, "ethertype Unknown (0x88b5), length 65536") != NULL;
    }
    int status = pclose(p);
    unlink(path);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(frames, 3);
    ck_assert(request);
    ck_assert(reply);
    ck_assert(truncated);
}
END_TEST

int main(void)
{
    if (!find_tcpdump()) {
        printf("SKIP: tcpdump is not installed (scripts/setup.sh installs it)\n");
        return SKIP;
    }
    Suite *s = suite_create("net_dump");
    TCase *tc = tcase_create("tcpdump");
    tcase_add_test(tc, test_tcpdump_reads_the_dump);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
