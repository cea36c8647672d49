/*
 * Saved VM state (migration/): the stream, memory pages, field tables with
 * their bounds and versions, the section registry and its refusals, and
 * the whole PC: every device's section survives save, reset, load and a
 * second save byte for byte, a load that fails part way leaves the
 * machine as it was, and a machine loaded from a state runs on exactly as
 * the one that saved it (under -icount time).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cpu/cpu.h"
#include "hw/pc/pc.h"
#include "migration/registry.h"
#include "migration/vmstate.h"

/* ---- the stream ---- */

START_TEST(stream_round_trip)
{
    VMWriter w;
    vm_writer_init(&w);
    vm_put_u8(&w, 0x12);
    vm_put_u16(&w, 0x3456);
    vm_put_u32(&w, 0x789abcde);
    vm_put_u64(&w, 0x0123456789abcdefull);
    vm_put_blob(&w, "abc", 3);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 1 + 2 + 4 + 8 + 4 + 3);
    /* Little endian whatever the host. */
    ck_assert_uint_eq(w.buf[1], 0x56);
    ck_assert_uint_eq(w.buf[2], 0x34);

    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    ck_assert_uint_eq(vm_get_u8(&r), 0x12);
    ck_assert_uint_eq(vm_get_u16(&r), 0x3456);
    ck_assert_uint_eq(vm_get_u32(&r), 0x789abcde);
    ck_assert(vm_get_u64(&r) == 0x0123456789abcdefull);
    char blob[3];
    ck_assert_uint_eq(vm_get_blob(&r, blob, 3), 3);
    ck_assert(!memcmp(blob, "abc", 3));
    ck_assert(!r.failed);
    /* Past the end: failed, zeros, and the first reason kept. */
    ck_assert_uint_eq(vm_get_u32(&r), 0);
    ck_assert(r.failed);
    ck_assert_ptr_nonnull(strstr(r.err, "truncated"));
    vm_fail(&r, "second reason");
    ck_assert_ptr_null(strstr(r.err, "second"));
    vm_writer_free(&w);
}
END_TEST

START_TEST(stream_blob_bound)
{
    VMWriter w;
    vm_writer_init(&w);
    vm_put_blob(&w, "abcdef", 6);
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    char small[4];
    ck_assert_uint_eq(vm_get_blob(&r, small, sizeof(small)), 0);
    ck_assert(r.failed);
    vm_writer_free(&w);
}
END_TEST

/* ---- pages ---- */

#define PAGES_LEN (3u << 20) /* three chunks of 256 pages */

START_TEST(pages_round_trip_and_zero_skip)
{
    uint8_t *mem = calloc(1, PAGES_LEN);
    uint8_t *back = malloc(PAGES_LEN);
    for (uint32_t i = 0; i < 4096; i++) {
        mem[5 * 4096 + i] = (uint8_t)(i * 7 + 3); /* a page of data */
    }
    mem[PAGES_LEN - 1] = 0x5a; /* the last byte of the last page */
    VMWriter w;
    vm_writer_init(&w);
    vm_put_pages(&w, mem, PAGES_LEN);
    ck_assert(!w.failed);
    /* Two pages of data and the rest zero: far below one raw page each. */
    ck_assert_uint_lt(w.len, 3 * 4096);
    memset(back, 0xee, PAGES_LEN); /* zero pages must be written where memory is not */
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    vm_get_pages(&r, back, PAGES_LEN);
    ck_assert_msg(!r.failed, "%s", r.err);
    ck_assert_uint_eq(r.pos, r.len);
    ck_assert(!memcmp(mem, back, PAGES_LEN));

    /* Another size is refused; so is damaged compressed data. */
    vm_reader_init(&r, w.buf, w.len);
    vm_get_pages(&r, back, PAGES_LEN - 4096);
    ck_assert(r.failed);
    w.buf[w.len - 3] ^= 0xff;
    vm_reader_init(&r, w.buf, w.len);
    vm_get_pages(&r, back, PAGES_LEN);
    ck_assert(r.failed);
    vm_writer_free(&w);
    free(mem);
    free(back);
}
END_TEST

/* ---- the clock ---- */

/* A restored clock goes on from the saved virtual time: on the host clock
 * by moving the origin (also while stopped); under -icount only a match
 * with the instruction count is accepted. */
START_TEST(clock_set_now)
{
    TimerList host;
    timerlist_init(&host);
    ck_assert(timerlist_set_now(&host, 5 * NS_PER_SEC));
    int64_t now = timer_now(&host);
    ck_assert_int_ge(now, 5 * NS_PER_SEC);
    ck_assert_int_lt(now, 6 * NS_PER_SEC);
    timerlist_stop(&host);
    ck_assert(timerlist_set_now(&host, 42));
    ck_assert_int_eq(timer_now(&host), 42);
    timerlist_resume(&host);
    ck_assert_int_lt(timer_now(&host), NS_PER_SEC);

    uint64_t count = 1000;
    TimerList det;
    timerlist_init_icount(&det, &count, 2);
    ck_assert(timerlist_set_now(&det, 4000));
    ck_assert(!timerlist_set_now(&det, 4001));
}
END_TEST

/* ---- field tables ---- */

typedef struct Inner {
    uint16_t a;
    int b;
} Inner;

typedef struct Toy {
    uint8_t u8;
    uint32_t idx; /* an index: at most 7 */
    bool flag;
    int64_t big;
    Inner inner[2];
    uint8_t bytes[5];
    Timer timer;
    uint32_t added; /* since version 2 */
} Toy;

static const VMField inner_fields[] = {
    VMS_U16(Inner, a),
    VMS_INT_RANGE(Inner, b, -3, 3),
    VMS_END,
};

static const VMStateDesc inner_desc = {.name = "inner", .fields = inner_fields};

static const VMField toy_fields[] = {
    VMS_U8(Toy, u8),
    VMS_U32_RANGE(Toy, idx, 0, 7),
    VMS_BOOL(Toy, flag),
    VMS_I64(Toy, big),
    VMS_STRUCT_ARRAY(Toy, inner, 2, Inner, inner_desc),
    VMS_BYTES(Toy, bytes, 5),
    VMS_TIMER(Toy, timer),
    {.name = "added",
     .type = VMF_U32,
     .offset = offsetof(Toy, added),
     .count = 1,
     .stride = 4,
     .since = 2},
    VMS_END,
};

static int post_loads;

static bool toy_post_load(VMReader *r, void *opaque, uint32_t version)
{
    post_loads++;
    return true;
}

static VMStateDesc toy_desc = {
    .name = "toy",
    .version = 2,
    .min_version = 1,
    .fields = toy_fields,
    .post_load = toy_post_load,
};

static uint64_t icount;
static TimerList tl;

static void nop_cb(void *opaque)
{
}

static void toy_init(Toy *t)
{
    memset(t, 0, sizeof(*t));
    timer_init(&t->timer, &tl, nop_cb, NULL);
}

static void toy_fill(Toy *t)
{
    t->u8 = 0xab;
    t->idx = 7;
    t->flag = true;
    t->big = -1234567890123ll;
    t->inner[0] = (Inner){0x1111, -3};
    t->inner[1] = (Inner){0x2222, 3};
    memcpy(t->bytes, "hello", 5);
    timer_mod(&t->timer, timer_now(&tl) + 5000);
    t->added = 42;
}

START_TEST(fields_round_trip)
{
    timerlist_init_icount(&tl, &icount, 0);
    icount = 1000;
    Toy a, b;
    toy_init(&a);
    toy_init(&b);
    toy_fill(&a);
    VMWriter w;
    vm_writer_init(&w);
    w.clock = &tl;
    vmstate_save_fields(&w, &toy_desc, &a);
    timer_del(&a.timer);
    /* Loaded 300 ns of virtual time later, on another clock's "now": the
     * deadline keeps its distance from now. */
    icount = 1300;
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    r.clock = &tl;
    post_loads = 0;
    ck_assert(vmstate_load_fields(&r, &toy_desc, &b, 2));
    ck_assert_uint_eq(r.pos, w.len);
    ck_assert_int_eq(post_loads, 1);
    ck_assert_uint_eq(b.u8, 0xab);
    ck_assert_uint_eq(b.idx, 7);
    ck_assert(b.flag);
    ck_assert(b.big == -1234567890123ll);
    ck_assert_int_eq(b.inner[0].b, -3);
    ck_assert_uint_eq(b.inner[1].a, 0x2222);
    ck_assert(!memcmp(b.bytes, "hello", 5));
    ck_assert(timer_pending(&b.timer));
    ck_assert_int_eq(b.timer.deadline, 1300 + 5000);
    ck_assert_uint_eq(b.added, 42);
    timer_del(&b.timer);
    vm_writer_free(&w);
}
END_TEST

/* A version 1 payload has no "added": it keeps its value. */
START_TEST(fields_older_version)
{
    timerlist_init_icount(&tl, &icount, 0);
    Toy a, b;
    toy_init(&a);
    toy_fill(&a);
    timer_del(&a.timer);
    VMWriter w;
    vm_writer_init(&w);
    w.clock = &tl;
    vmstate_save_fields(&w, &toy_desc, &a);
    toy_init(&b);
    b.added = 99;
    VMReader r;
    vm_reader_init(&r, w.buf, w.len - 4); /* without the version 2 field */
    r.clock = &tl;
    ck_assert(vmstate_load_fields(&r, &toy_desc, &b, 1));
    ck_assert_uint_eq(r.pos, r.len);
    ck_assert_uint_eq(b.added, 99);
    vm_writer_free(&w);
}
END_TEST

/* Offsets of fields in the toy's payload, for damaging them. */
#define TOY_IDX_AT  1
#define TOY_FLAG_AT 5
#define TOY_B_AT    (6 + 8 + 2)

static bool load_damaged(size_t at, uint8_t value, char *err, size_t errlen)
{
    timerlist_init_icount(&tl, &icount, 0);
    Toy a, b;
    toy_init(&a);
    toy_fill(&a);
    VMWriter w;
    vm_writer_init(&w);
    w.clock = &tl;
    vmstate_save_fields(&w, &toy_desc, &a);
    timer_del(&a.timer);
    w.buf[at] = value;
    toy_init(&b);
    VMReader r;
    vm_reader_init(&r, w.buf, w.len);
    r.clock = &tl;
    bool ok = vmstate_load_fields(&r, &toy_desc, &b, 2);
    snprintf(err, errlen, "%s", r.err);
    timer_del(&b.timer);
    vm_writer_free(&w);
    return ok;
}

START_TEST(fields_bounds)
{
    char err[256];
    ck_assert(load_damaged(TOY_IDX_AT, 7, err, sizeof(err)));
    ck_assert(!load_damaged(TOY_IDX_AT, 8, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "idx"));
    ck_assert(!load_damaged(TOY_FLAG_AT, 2, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "flag"));
    ck_assert(!load_damaged(TOY_B_AT, 4, err, sizeof(err))); /* b = 4 > 3 */
    ck_assert_ptr_nonnull(strstr(err, "field b = "));
}
END_TEST

/* ---- the registry ---- */

static VMRegistry reg;
static Toy toys[2];

static void registry_setup(void)
{
    timerlist_init_icount(&tl, &icount, 0);
    icount = 0;
    vmstate_registry_init(&reg, &tl);
    toy_init(&toys[0]);
    toy_init(&toys[1]);
    toy_desc.version = 2;
    toy_desc.min_version = 1;
    vmstate_register(&reg, &toy_desc, 0, &toys[0]);
    vmstate_register(&reg, &toy_desc, 1, &toys[1]);
}

static void registry_teardown(void)
{
    timer_del(&toys[0].timer);
    timer_del(&toys[1].timer);
}

static void save_toys(VMWriter *w)
{
    toy_fill(&toys[0]);
    toy_fill(&toys[1]);
    toys[1].idx = 3;
    vm_writer_init(w);
    ck_assert(vmstate_save(&reg, w));
    timer_del(&toys[0].timer);
    timer_del(&toys[1].timer);
    toy_init(&toys[0]);
    toy_init(&toys[1]);
}

/* Recompute the trailer's CRC after changing bytes before it. */
static void fix_crc(VMWriter *w)
{
    uint32_t crc = (uint32_t)crc32(0, w->buf, (uInt)(w->len - 5));
    for (int i = 0; i < 4; i++) {
        w->buf[w->len - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
}

START_TEST(registry_round_trip)
{
    VMWriter w;
    save_toys(&w);
    ck_assert(!memcmp(w.buf, VMSTATE_MAGIC, 8));
    char err[256] = "";
    ck_assert_msg(vmstate_load(&reg, w.buf, w.len, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(toys[0].idx, 7);
    ck_assert_uint_eq(toys[1].idx, 3);
    vm_writer_free(&w);
}
END_TEST

/* The version sits after 'S', the name's length, "toy" and the instance. */
static size_t version_at(const VMWriter *w)
{
    return 16 + 1 + 1 + 3 + 4;
}

START_TEST(registry_refuses_newer_section)
{
    VMWriter w;
    save_toys(&w);
    w.buf[version_at(&w)] = 3;
    fix_crc(&w);
    char err[256] = "";
    ck_assert(!vmstate_load(&reg, w.buf, w.len, err, sizeof(err)));
    ck_assert_str_eq(err, "section 'toy' version 3 is newer than this popek's 2");
    /* Nothing was touched: the check comes before any section loads. */
    ck_assert_uint_eq(toys[0].idx, 0);
    vm_writer_free(&w);
}
END_TEST

START_TEST(registry_refuses_older_section)
{
    VMWriter w;
    save_toys(&w);
    toy_desc.min_version = 2;
    toy_desc.version = 3;
    w.buf[version_at(&w)] = 1;
    fix_crc(&w);
    char err[256] = "";
    ck_assert(!vmstate_load(&reg, w.buf, w.len, err, sizeof(err)));
    ck_assert_str_eq(
        err, "section 'toy' version 1 is older than this popek reads (version 3, oldest 2)");
    vm_writer_free(&w);
}
END_TEST

START_TEST(registry_refuses_unknown_and_missing)
{
    VMWriter w;
    save_toys(&w);
    char err[256] = "";
    w.buf[16 + 2] = 'b'; /* "boy" */
    fix_crc(&w);
    ck_assert(!vmstate_load(&reg, w.buf, w.len, err, sizeof(err)));
    ck_assert_str_eq(err, "section 'boy' instance 0: no such device in this machine");
    /* A machine with a third toy finds it missing from the file. */
    w.buf[16 + 2] = 't';
    fix_crc(&w);
    Toy third;
    toy_init(&third);
    vmstate_register(&reg, &toy_desc, 2, &third);
    ck_assert(!vmstate_load(&reg, w.buf, w.len, err, sizeof(err)));
    ck_assert_str_eq(err, "section 'toy' instance 2 is missing from the state");
    vm_writer_free(&w);
}
END_TEST

/* Every prefix of a good file and every single-byte change is refused
 * (the CRC or the frame), without touching the machine. */
START_TEST(registry_truncated_and_damaged)
{
    VMWriter w;
    save_toys(&w);
    char err[256];
    for (size_t len = 0; len < w.len; len++) {
        ck_assert_msg(!vmstate_load(&reg, w.buf, len, err, sizeof(err)), "prefix %zu", len);
        ck_assert_uint_eq(toys[0].idx, 0);
    }
    for (size_t at = 0; at < w.len; at++) {
        w.buf[at] ^= 0x40;
        ck_assert_msg(!vmstate_load(&reg, w.buf, w.len, err, sizeof(err)), "byte %zu", at);
        ck_assert_uint_eq(toys[0].idx, 0);
        w.buf[at] ^= 0x40;
    }
    ck_assert(vmstate_load(&reg, w.buf, w.len, err, sizeof(err)));
    vm_writer_free(&w);
}
END_TEST

/* ---- the whole PC ---- */

/* A 1 MiB disk in memory for the IDE tests. */
#define DISK_SECTORS 2048
static uint8_t disk[DISK_SECTORS * 512];

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    ck_assert(sector + count <= DISK_SECTORS);
    memcpy(buf, disk + sector * 512, (size_t)count * 512);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    ck_assert(sector + count <= DISK_SECTORS);
    memcpy(disk + sector * 512, buf, (size_t)count * 512);
    return 0;
}

static int disk_flush(void *opaque)
{
    return 0;
}

static const BlockDev disk_blk = {disk, DISK_SECTORS, false, disk_read, disk_write, disk_flush};

static PC *pc_new_for_test_disk(bool with_disk)
{
    PC *pc = calloc(1, sizeof(*pc));
    PCConfig cfg = {
        .ram_bytes = 32u << 20,
        .accel = ACCEL_INTERP,
        .tb_size_mib = 8,
        .icount_shift = 0,
        .rtc_base = -1,
        .boot_order = "c",
        .nic_count = 2,
        .nics = {{PC_NIC_E1000, {0x52, 0x54, 0, 0x12, 0x34, 0x56}},
                 {PC_NIC_VIRTIO_NET, {0x52, 0x54, 0, 0x12, 0x34, 0x57}}},
    };
    if (with_disk) {
        cfg.drives[0] = (PCDrive){true, false, &disk_blk, "-hda"};
    } else {
        cfg.virtio_blk_count = 1; /* the same disk, through virtio-blk */
        cfg.virtio_blk[0] = (PCDrive){true, false, &disk_blk, "-drive if=virtio"};
    }
    pc_init(pc, &cfg);
    return pc;
}

static PC *pc_new_for_test(void)
{
    return pc_new_for_test_disk(false);
}

/* Run n instructions of the machine with its timers, as the main loop
 * does under -icount (a halted CPU skips to the next deadline). */
static void pc_run_for(PC *pc, uint64_t n)
{
    uint64_t end = pc->cpu.icount + n;
    while (pc->cpu.icount < end) {
        int64_t now = timer_now(&pc->timers);
        int64_t next = timerlist_next_deadline(&pc->timers);
        uint64_t budget = end - pc->cpu.icount;
        if (next != TIMER_NEVER && next > now && (uint64_t)(next - now) + 1 < budget) {
            budget = (uint64_t)(next - now) + 1;
        }
        int reason = pc_engine_exec(pc, budget);
        timerlist_run(&pc->timers);
        if (reason == CPU_EXIT_HALT) {
            next = timerlist_next_deadline(&pc->timers);
            now = timer_now(&pc->timers);
            pc->cpu.icount += next != TIMER_NEVER && next > now ? (uint64_t)(next - now) : 1;
            timerlist_run(&pc->timers);
        }
    }
}

static VMWriter save_pc(PC *pc)
{
    VMWriter w;
    vm_writer_init(&w);
    ck_assert(pc_save_state(pc, &w));
    return w;
}

static bool same_state(const VMWriter *a, const VMWriter *b)
{
    return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

/* SeaBIOS programs every chip on its way to "no bootable device"; the
 * state then is saved, the machine reset (the state differs), the saved
 * state loaded and saved again: the same bytes, section by section. */
START_TEST(pc_round_trip)
{
    PC *pc = pc_new_for_test();
    pc_run_for(pc, 10000000);
    VMWriter a = save_pc(pc);
    pc_reset(pc);
    VMWriter reset = save_pc(pc);
    ck_assert(!same_state(&a, &reset));
    char err[256] = "";
    ck_assert_msg(pc_load_state(pc, a.buf, a.len, true, err, sizeof(err)), "%s", err);
    VMWriter b = save_pc(pc);
    ck_assert_uint_eq(a.len, b.len);
    for (size_t i = 0; i < a.len; i++) {
        ck_assert_msg(a.buf[i] == b.buf[i], "state differs at byte %zu", i);
    }
    vm_writer_free(&a);
    vm_writer_free(&reset);
    vm_writer_free(&b);
    pc_destroy(pc);
    free(pc);
}
END_TEST

/* A machine loaded from a state runs on exactly as the one that saved it:
 * once in the middle of SeaBIOS's start (3M instructions), once when it
 * waits in HLT for the PIT's interrupts (10M; 150M more take in three). */
static const uint64_t save_points[] = {3000000, 10000000};

START_TEST(pc_runs_on_identically)
{
    PC *x = pc_new_for_test();
    pc_run_for(x, save_points[_i]);
    VMWriter at = save_pc(x);
    pc_run_for(x, 150000000);
    VMWriter later = save_pc(x);

    PC *y = pc_new_for_test();
    char err[256] = "";
    ck_assert_msg(pc_load_state(y, at.buf, at.len, false, err, sizeof(err)), "%s", err);
    pc_run_for(y, 150000000);
    VMWriter y_later = save_pc(y);
    ck_assert(same_state(&later, &y_later));
    vm_writer_free(&at);
    vm_writer_free(&later);
    vm_writer_free(&y_later);
    pc_destroy(x);
    pc_destroy(y);
    free(x);
    free(y);
}
END_TEST

/* A section refused after others have loaded: the machine is put back as
 * it was before the load began. */
START_TEST(pc_failed_load_rolls_back)
{
    PC *pc = pc_new_for_test();
    pc_run_for(pc, 1000000);
    VMWriter a = save_pc(pc);
    pc_run_for(pc, 1000000);
    VMWriter before = save_pc(pc);
    /* "wiring" comes after cpu, clock, ram and board: give it a level
     * outside its bound, with a good CRC. */
    static const uint8_t tag[] = {'S', 6, 'w', 'i', 'r', 'i', 'n', 'g'};
    uint8_t *p = memmem(a.buf, a.len, tag, sizeof(tag));
    ck_assert_ptr_nonnull(p);
    p[sizeof(tag) + 4 + 4 + 8] = 0xff;
    fix_crc(&a);
    char err[256] = "";
    ck_assert(!pc_load_state(pc, a.buf, a.len, true, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "section 'wiring'"));
    VMWriter after = save_pc(pc);
    ck_assert(same_state(&before, &after));
    vm_writer_free(&a);
    vm_writer_free(&before);
    vm_writer_free(&after);
    pc_destroy(pc);
    free(pc);
}
END_TEST

/* A section that refuses every load, even of the state it just saved. */
typedef struct Refuser {
    uint8_t value;
    int loads;
} Refuser;

static const VMField refuser_fields[] = {VMS_U8(Refuser, value), {VMF_END}};

static bool refuser_post_load(VMReader *r, void *opaque, uint32_t version)
{
    Refuser *ref = opaque;
    ref->loads++;
    return vm_fail(r, "refused (load %d)", ref->loads);
}

static const VMStateDesc refuser_vmstate = {
    .name = "refuser",
    .version = 1,
    .min_version = 1,
    .fields = refuser_fields,
    .post_load = refuser_post_load,
};

/* The rollback itself fails: popek used to abort(); now the load fails
 * with one line saying the machine cannot go back, and the machine is
 * stopped with exit status 1. */
START_TEST(pc_failed_rollback_stops_the_machine)
{
    PC *pc = pc_new_for_test();
    Refuser ref = {0x5a, 0};
    vmstate_register(pc->vmstate, &refuser_vmstate, 0, &ref);
    pc_run_for(pc, 100000);
    VMWriter a = save_pc(pc);
    ck_assert(!pc->exit_requested);
    char err[256] = "";
    ck_assert(!pc_load_state(pc, a.buf, a.len, true, err, sizeof(err)));
    ck_assert_int_eq(ref.loads, 2); /* the load, then the rollback */
    ck_assert_msg(strstr(err, "cannot return to the state before the load") &&
                      strstr(err, "refused (load 2)") && !strchr(err, '\n'),
                  "%s", err);
    ck_assert(pc->exit_requested);
    ck_assert_int_eq(pc->exit_status, 1);
    vm_writer_free(&a);
    pc_destroy(pc);
    free(pc);
}
END_TEST

/* A state saved by a machine with other RAM is refused by name. */
START_TEST(pc_refuses_other_ram_size)
{
    PC *pc = pc_new_for_test();
    VMWriter a = save_pc(pc);
    PC *other = calloc(1, sizeof(*other));
    PCConfig cfg = pc->cfg;
    cfg.ram_bytes = 16u << 20;
    pc_init(other, &cfg);
    char err[256] = "";
    ck_assert(!pc_load_state(other, a.buf, a.len, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "section 'ram'"));
    vm_writer_free(&a);
    pc_destroy(pc);
    pc_destroy(other);
    free(pc);
    free(other);
}
END_TEST

/* ---- IDE transfers in flight ---- */

static uint8_t disk_pattern(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 7 + i * 13 + 1);
}

/* LBA28 command on the primary channel's master. */
static void ide_command(PC *pc, uint8_t cmd, uint32_t lba, uint8_t count)
{
    ioport_write(&pc->io, 0x1f6, 0xe0 | ((lba >> 24) & 0x0f), 1);
    ioport_write(&pc->io, 0x1f2, count, 1);
    ioport_write(&pc->io, 0x1f3, lba & 0xff, 1);
    ioport_write(&pc->io, 0x1f4, (lba >> 8) & 0xff, 1);
    ioport_write(&pc->io, 0x1f5, (lba >> 16) & 0xff, 1);
    ioport_write(&pc->io, 0x1f7, cmd, 1);
}

/* A READ SECTORS and a WRITE SECTORS, each saved part way through its PIO
 * data, the machine reset and the state loaded: the transfer goes on
 * where it stopped, with the right data and the right end (the next
 * sector read, the sectors written to the disk). */
START_TEST(pc_ide_pio_in_flight)
{
    for (uint32_t sec = 0; sec < DISK_SECTORS; sec++) {
        for (uint32_t i = 0; i < 512; i++) {
            disk[sec * 512 + i] = disk_pattern(sec, i);
        }
    }
    PC *pc = pc_new_for_test_disk(true);
    pc_run_for(pc, 10000000); /* SeaBIOS turns the IDE ports on and probes the disk */
    char err[256] = "";

    ide_command(pc, 0x20, 10, 3); /* READ SECTORS 10-12 */
    ck_assert(ioport_read(&pc->io, 0x1f7, 1) & 0x08);
    uint32_t word = 0;
    for (; word < 100; word++) {
        uint32_t v = ioport_read(&pc->io, 0x1f0, 2);
        ck_assert_uint_eq(v & 0xff, disk_pattern(10, 2 * word));
    }
    VMWriter a = save_pc(pc);
    pc_reset(pc);
    ck_assert(!(ioport_read(&pc->io, 0x1f7, 1) & 0x08));
    ck_assert_msg(pc_load_state(pc, a.buf, a.len, true, err, sizeof(err)), "%s", err);
    for (; word < 3 * 256; word++) {
        uint32_t v = ioport_read(&pc->io, 0x1f0, 2);
        uint32_t sec = 10 + word / 256, at = (word % 256) * 2;
        ck_assert_uint_eq(v, disk_pattern(sec, at) | (uint32_t)disk_pattern(sec, at + 1) << 8);
    }
    ck_assert(!(ioport_read(&pc->io, 0x1f7, 1) & 0x08));
    vm_writer_free(&a);

    ide_command(pc, 0x30, 20, 2); /* WRITE SECTORS 20-21 */
    ck_assert(ioport_read(&pc->io, 0x1f7, 1) & 0x08);
    for (word = 0; word < 300; word++) {
        ioport_write(&pc->io, 0x1f0, 0xa500 | (word & 0xff), 2);
    }
    a = save_pc(pc);
    pc_reset(pc);
    ck_assert_msg(pc_load_state(pc, a.buf, a.len, true, err, sizeof(err)), "%s", err);
    for (; word < 512; word++) {
        ioport_write(&pc->io, 0x1f0, 0xa500 | (word & 0xff), 2);
    }
    ck_assert(!(ioport_read(&pc->io, 0x1f7, 1) & 0x08));
    for (word = 0; word < 512; word++) {
        ck_assert_uint_eq(disk[20 * 512 + 2 * word], word & 0xff);
        ck_assert_uint_eq(disk[20 * 512 + 2 * word + 1], 0xa5);
    }
    vm_writer_free(&a);
    pc_destroy(pc);
    free(pc);
}
END_TEST

static Suite *vmstate_suite(void)
{
    Suite *s = suite_create("vmstate");
    TCase *tc = tcase_create("stream");
    tcase_add_test(tc, stream_round_trip);
    tcase_add_test(tc, stream_blob_bound);
    tcase_add_test(tc, pages_round_trip_and_zero_skip);
    tcase_add_test(tc, clock_set_now);
    tcase_add_test(tc, fields_round_trip);
    tcase_add_test(tc, fields_older_version);
    tcase_add_test(tc, fields_bounds);
    suite_add_tcase(s, tc);
    tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, registry_setup, registry_teardown);
    tcase_add_test(tc, registry_round_trip);
    tcase_add_test(tc, registry_refuses_newer_section);
    tcase_add_test(tc, registry_refuses_older_section);
    tcase_add_test(tc, registry_refuses_unknown_and_missing);
    tcase_add_test(tc, registry_truncated_and_damaged);
    suite_add_tcase(s, tc);
    tc = tcase_create("pc");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pc_round_trip);
    tcase_add_loop_test(tc, pc_runs_on_identically, 0, 2);
    tcase_add_test(tc, pc_failed_load_rolls_back);
    tcase_add_test(tc, pc_failed_rollback_stops_the_machine);
    tcase_add_test(tc, pc_refuses_other_ram_size);
    tcase_add_test(tc, pc_ide_pio_in_flight);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vmstate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
