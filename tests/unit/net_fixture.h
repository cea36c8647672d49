/*
 * Test doubles for the net layer's unit tests: a NIC that records what it
 * receives and can say it is full, a backend that does the same, and a
 * poll loop to run netdevs as the frontend does.
 */
#ifndef TESTS_UNIT_NET_FIXTURE_H
#define TESTS_UNIT_NET_FIXTURE_H

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/netdev.h"

#define FAKE_FRAMES    32   /* frames a fake keeps, the oldest first */
#define FAKE_FRAME_MAX 2048 /* bytes kept of each */

typedef struct FakeFrames {
    int count;               /* received in all */
    size_t len[FAKE_FRAMES]; /* whole lengths of the first FAKE_FRAMES */
    uint8_t data[FAKE_FRAMES][FAKE_FRAME_MAX];
} FakeFrames;

static inline void fake_frames_add(FakeFrames *f, const uint8_t *frame, size_t len)
{
    if (f->count < FAKE_FRAMES) {
        f->len[f->count] = len;
        memcpy(f->data[f->count], frame, len < FAKE_FRAME_MAX ? len : FAKE_FRAME_MAX);
    }
    f->count++;
}

typedef struct FakeNic {
    NetClient nc;
    bool full; /* can_receive says no */
    FakeFrames rx;
    int link_events; /* link_changed calls */
    bool link_up;    /* as last told */
} FakeNic;

static inline bool fake_nic_can_receive(void *opaque, size_t len)
{
    return !((FakeNic *)opaque)->full;
}

static inline void fake_nic_receive(void *opaque, const uint8_t *frame, size_t len)
{
    FakeNic *n = opaque;
    ck_assert(!n->full);
    fake_frames_add(&n->rx, frame, len);
}

static inline void fake_nic_link_changed(void *opaque, bool up)
{
    FakeNic *n = opaque;
    n->link_events++;
    n->link_up = up;
}

static inline FakeNic *fake_nic_new(void)
{
    FakeNic *n = calloc(1, sizeof(*n));
    ck_assert_ptr_nonnull(n);
    n->nc = (NetClient){n, fake_nic_can_receive, fake_nic_receive, fake_nic_link_changed, NULL};
    n->link_up = true;
    return n;
}

/* A backend that records what the NIC sends; freed by net_free. */
typedef struct FakeBackend {
    Netdev *nd;
    bool full; /* can_receive says no */
    FakeFrames rx;
} FakeBackend;

static inline void fake_backend_receive(void *opaque, const uint8_t *frame, size_t len)
{
    FakeBackend *b = opaque;
    ck_assert(!b->full);
    fake_frames_add(&b->rx, frame, len);
}

static inline bool fake_backend_can_receive(void *opaque)
{
    return !((FakeBackend *)opaque)->full;
}

static inline void fake_backend_poll_fill(void *opaque, NetPollSet *set, int *timeout_ms)
{
}

static inline void fake_backend_poll_service(void *opaque, const NetPollSet *set, bool failed)
{
}

static inline void fake_backend_info(void *opaque, char *buf, size_t len)
{
    snprintf(buf, len, "fake");
}

static const NetdevOps fake_backend_ops = {
    .type = "fake",
    .receive = fake_backend_receive,
    .can_receive = fake_backend_can_receive,
    .poll_fill = fake_backend_poll_fill,
    .poll_service = fake_backend_poll_service,
    .info = fake_backend_info,
    .free = free,
};

static inline FakeBackend *fake_backend_new(Net *net, const char *id)
{
    FakeBackend *b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    b->nd = netdev_new(net, id, &fake_backend_ops, b);
    ck_assert_ptr_nonnull(b->nd);
    return b;
}

/* A frame of len bytes: broadcast, from 52:54:00:12:34:56, type 0x88b5
 * (local experimental), the payload counting up from seed. */
static inline void make_frame(uint8_t *frame, size_t len, uint8_t seed)
{
    static const uint8_t head[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52,
                                     0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5};
    memcpy(frame, head, len < 14 ? len : 14);
    for (size_t i = 14; i < len; i++) {
        frame[i] = (uint8_t)(seed + i);
    }
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round of the frontend's loop: poll the netdevs for up to wait_ms. */
static inline void net_pump(Net *net, int wait_ms)
{
    NetPollSet set = {NULL, 0, 0};
    int timeout = wait_ms;
    net_poll_fill(net, &set, &timeout);
    int ready = poll(set.fds, (nfds_t)set.n, timeout);
    net_poll_service(net, &set, ready < 0);
    net_pollset_free(&set);
}

/* Run the loop until *counter reaches want or timeout_ms passes. */
static inline bool net_pump_until(Net *net, const int *counter, int want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (*counter < want && now_ms() < end) {
        net_pump(net, 20);
    }
    return *counter >= want;
}

#endif /* TESTS_UNIT_NET_FIXTURE_H */
