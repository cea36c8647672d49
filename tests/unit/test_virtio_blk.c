/*
 * virtio-blk-pci with no CPU: the test plays the driver through PCI
 * configuration space and both BARs, builds request chains in guest RAM,
 * and gives the device a disk in memory whose flush and failures it
 * counts and controls.  Expected values come from the Virtio 1.2
 * specification (section numbers in the comments).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pci.h"
#include "hw/virtio/virtio_blk.h"

#define RAM_SIZE   (2u << 20)
#define BLK_DEVFN  PCI_DEVFN(4, 0)
#define IO_BASE    0xc000u
#define MEM_BASE   0xfebf0000u
#define DISK_SECTORS 2048u /* 1 MiB */

/* Device status (2.1). */
#define S_ACK         0x01
#define S_DRIVER      0x02
#define S_DRIVER_OK   0x04
#define S_FEATURES_OK 0x08
#define S_NEEDS_RESET 0x40

/* Features (5.2.3, 6). */
#define F_SEG_MAX      (1ull << 2)
#define F_RO           (1ull << 5)
#define F_BLK_SIZE     (1ull << 6)
#define F_FLUSH        (1ull << 9)
#define F_DISCARD      (1ull << 13)
#define F_WRITE_ZEROES (1ull << 14)
#define F_INDIRECT     (1ull << 28)
#define F_EVENT_IDX    (1ull << 29)
#define F_VERSION_1    (1ull << 32)

/* Legacy registers (4.1.4.10). */
#define L_HOST_FEATURES  0x00
#define L_GUEST_FEATURES 0x04
#define L_QUEUE_PFN      0x08
#define L_QUEUE_NUM      0x0c
#define L_QUEUE_SEL      0x0e
#define L_QUEUE_NOTIFY   0x10
#define L_STATUS         0x12
#define L_ISR            0x13
#define L_CONFIG         0x14

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_STATUS   0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE   0x18
#define C_Q_ENABLE 0x1c
#define C_Q_DESC   0x20
#define C_Q_AVAIL  0x28
#define C_Q_USED   0x30

/* Descriptor flags (2.7.5). */
#define D_NEXT     1
#define D_WRITE    2
#define D_INDIRECT 4

/* Request types and status (5.2.6). */
#define T_IN           0
#define T_OUT          1
#define T_FLUSH        4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define ST_OK     0
#define ST_IOERR  1
#define ST_UNSUPP 2

/* Guest memory layout of the tests. */
#define RING   0x10000u
#define HDR    0x20000u /* request headers, 16 bytes apart */
#define STATUS 0x21000u /* status bytes, 1 apart */
#define TABLE  0x22000u /* indirect tables */
#define BUF    0x40000u /* data, up to 1 MiB */

typedef struct Fixture {
    PhysMem pm;
    IOPortMap io;
    PCIBus *bus;
    VirtioBlkState *blk;
    BlockDev disk;
    uint8_t *data;        /* the disk's bytes */
    int flushes;          /* BlockDev.flush calls */
    int fail;             /* 1: reads, writes and flushes fail with -EIO */
    int reads;            /* BlockDev.read calls */
    int status_checks;    /* reads that found the status byte untouched */
    int irq_level;
    int irq_raises;
    uint32_t common, isr, device, notify, notify_mult;
    uint32_t desc, avail, used; /* the request queue */
    uint16_t num, avail_idx, next_desc;
} Fixture;

static Fixture *f;

/* ---- the disk ---- */

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    f->reads++;
    /* The second piece of a long read: the status byte of the request
     * (STATUS + 0) must still be the driver's, the data not all moved. */
    if (f->reads == 2 && phys_read(&f->pm, STATUS, 1) == 0xee) {
        f->status_checks++;
    }
    if (f->fail) {
        return -5;
    }
    memcpy(buf, f->data + sector * 512, count * 512u);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    if (f->fail) {
        return -5;
    }
    memcpy(f->data + sector * 512, buf, count * 512u);
    return 0;
}

static int disk_flush(void *opaque)
{
    f->flushes++;
    return f->fail ? -5 : 0;
}

static void irq_cb(void *opaque, int n, int level)
{
    if (level && !f->irq_level) {
        f->irq_raises++;
    }
    f->irq_level = level;
}

/* ---- registers ---- */

static uint32_t cfg_read(int reg, int size)
{
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80000000u | (BLK_DEVFN << 8) | (reg & 0xfc), 4);
    return ioport_read(&f->io, PCI_CONFIG_DATA + (reg & 3), size);
}

static void cfg_write(int reg, uint32_t v, int size)
{
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80000000u | (BLK_DEVFN << 8) | (reg & 0xfc), 4);
    ioport_write(&f->io, PCI_CONFIG_DATA + (reg & 3), v, size);
}

/* Where the vendor capability of cfg_type points into BAR4 (4.1.4). */
static uint32_t cap_offset(uint8_t cfg_type, uint32_t *extra)
{
    for (int cap = (int)cfg_read(PCI_CAPABILITY_LIST, 1); cap; cap = (int)cfg_read(cap + 1, 1)) {
        if (cfg_read(cap, 1) == PCI_CAP_ID_VNDR && cfg_read(cap + 3, 1) == cfg_type) {
            ck_assert_uint_eq(cfg_read(cap + 4, 1), 4);
            if (extra) {
                *extra = cfg_read(cap + 16, 4);
            }
            return cfg_read(cap + 8, 4);
        }
    }
    ck_abort_msg("no capability of type %u", cfg_type);
    return 0;
}

static uint32_t lread(uint32_t off, int size)
{
    return ioport_read(&f->io, (uint16_t)(IO_BASE + off), size);
}

static void lwrite(uint32_t off, uint32_t v, int size)
{
    ioport_write(&f->io, (uint16_t)(IO_BASE + off), v, size);
}

static uint32_t cread(uint32_t off, int size)
{
    return phys_read(&f->pm, MEM_BASE + f->common + off, size);
}

static void cwrite(uint32_t off, uint32_t v, int size)
{
    phys_write(&f->pm, MEM_BASE + f->common + off, v, size);
}

static uint32_t devcfg(uint32_t off, int size)
{
    return phys_read(&f->pm, MEM_BASE + f->device + off, size);
}

static uint8_t isr_read(void)
{
    return (uint8_t)phys_read(&f->pm, MEM_BASE + f->isr, 1);
}

static void notify(void)
{
    phys_write(&f->pm, MEM_BASE + f->notify, 0, 2);
}

static uint64_t device_features(void)
{
    cwrite(C_DFSELECT, 0, 4);
    uint64_t lo = cread(C_DF, 4);
    cwrite(C_DFSELECT, 1, 4);
    return lo | (uint64_t)cread(C_DF, 4) << 32;
}

/* ---- bring-up (3.1.1) ---- */

static void ring_place(uint32_t base, uint16_t num, uint32_t used_align)
{
    static const uint8_t zero[0x3000];

    phys_write_buf(&f->pm, base, zero, sizeof(zero));
    f->desc = base;
    f->avail = base + 16u * num;
    f->used = (f->avail + 6 + 2u * num + used_align - 1) & ~(used_align - 1);
    f->num = num;
    f->avail_idx = 0;
    f->next_desc = 0;
}

static void modern_init(uint64_t features)
{
    cwrite(C_STATUS, 0, 1);
    cwrite(C_STATUS, S_ACK | S_DRIVER, 1);
    cwrite(C_GFSELECT, 0, 4);
    cwrite(C_GF, (uint32_t)features, 4);
    cwrite(C_GFSELECT, 1, 4);
    cwrite(C_GF, (uint32_t)(features >> 32), 4);
    cwrite(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK, 1);
    ck_assert_uint_eq(cread(C_STATUS, 1), S_ACK | S_DRIVER | S_FEATURES_OK);
    ring_place(RING, 16, 4);
    cwrite(C_Q_SELECT, 0, 2);
    cwrite(C_Q_SIZE, 16, 2);
    cwrite(C_Q_DESC, f->desc, 4);
    cwrite(C_Q_AVAIL, f->avail, 4);
    cwrite(C_Q_USED, f->used, 4);
    cwrite(C_Q_ENABLE, 1, 2);
    cwrite(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, 1);
}

static void legacy_init(uint32_t features)
{
    lwrite(L_STATUS, 0, 1);
    lwrite(L_STATUS, S_ACK | S_DRIVER, 1);
    lwrite(L_GUEST_FEATURES, features, 4);
    lwrite(L_QUEUE_SEL, 0, 2);
    ring_place(RING, (uint16_t)lread(L_QUEUE_NUM, 2), 4096);
    lwrite(L_QUEUE_PFN, RING >> 12, 4);
    lwrite(L_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK, 1);
}

static void make_blk(bool read_only, const char *serial)
{
    f->disk = (BlockDev){f, DISK_SECTORS, read_only, disk_read, disk_write, disk_flush};
    f->blk = virtio_blk_new(f->bus, BLK_DEVFN, &f->pm, irq_make(irq_cb, f, 0), &f->disk, serial);
    ck_assert_ptr_nonnull(f->blk);
    /* The firmware's part: BARs placed, decoding and bus mastering on. */
    cfg_write(PCI_BASE_ADDRESS_0, IO_BASE, 4);
    cfg_write(PCI_BASE_ADDRESS_0 + 16, MEM_BASE, 4);
    cfg_write(PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    f->common = cap_offset(1, NULL);
    f->notify = cap_offset(2, &f->notify_mult);
    f->isr = cap_offset(3, NULL);
    f->device = cap_offset(4, NULL);
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ck_assert(phys_init(&f->pm, RAM_SIZE));
    ioport_init(&f->io);
    f->bus = pci_bus_new(&f->io);
    f->data = malloc(DISK_SECTORS * 512u);
    for (uint32_t i = 0; i < DISK_SECTORS * 512u; i++) {
        f->data[i] = (uint8_t)(i * 7 + (i >> 9));
    }
    make_blk(false, "popek-serial-0123456789");
}

static void teardown(void)
{
    virtio_blk_free(f->blk);
    pci_bus_free(f->bus);
    phys_destroy(&f->pm);
    free(f->data);
    free(f);
}

/* ---- requests ---- */

static void put_desc(uint32_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint32_t d = table + 16u * i;

    phys_write(&f->pm, d, (uint32_t)addr, 4);
    phys_write(&f->pm, d + 4, (uint32_t)(addr >> 32), 4);
    phys_write(&f->pm, d + 8, len, 4);
    phys_write(&f->pm, d + 12, flags, 2);
    phys_write(&f->pm, d + 14, next, 2);
}

static void put_hdr(uint32_t addr, uint32_t type, uint64_t sector)
{
    phys_write(&f->pm, addr, type, 4);
    phys_write(&f->pm, addr + 4, 0, 4);
    phys_write(&f->pm, addr + 8, (uint32_t)sector, 4);
    phys_write(&f->pm, addr + 12, (uint32_t)(sector >> 32), 4);
}

static void avail_add(uint16_t head)
{
    phys_write(&f->pm, f->avail + 4 + 2u * (f->avail_idx % f->num), head, 2);
    f->avail_idx++;
    phys_write(&f->pm, f->avail + 2, f->avail_idx, 2);
}

static uint16_t used_idx(void)
{
    return (uint16_t)phys_read(&f->pm, f->used + 2, 2);
}

static uint32_t used_id(uint16_t i)
{
    return phys_read(&f->pm, f->used + 4 + 8u * (i % f->num), 4);
}

static uint32_t used_len(uint16_t i)
{
    return phys_read(&f->pm, f->used + 8 + 8u * (i % f->num), 4);
}

/*
 * A request as Linux builds one: header (readable), data (readable for
 * OUT, writable for IN) in nbufs equal buffers, status byte (writable),
 * made available.  Request k uses header k and status byte k.  Returns
 * the head descriptor.
 */
static uint16_t request(int k, uint32_t type, uint64_t sector, uint32_t data, uint32_t len,
                        int nbufs)
{
    uint16_t head = f->next_desc;
    uint16_t d = head;
    uint16_t data_flags = type == T_IN || type == T_GET_ID ? D_WRITE : 0;

    put_hdr(HDR + 16u * k, type, sector);
    phys_write(&f->pm, STATUS + k, 0xee, 1);
    put_desc(f->desc, d, HDR + 16u * k, 16, D_NEXT, (uint16_t)((d + 1) % f->num));
    d = (uint16_t)((d + 1) % f->num);
    for (int b = 0; b < nbufs && len; b++) {
        uint32_t piece = len / (uint32_t)nbufs;
        put_desc(f->desc, d, data + piece * (uint32_t)b, piece, data_flags | D_NEXT,
                 (uint16_t)((d + 1) % f->num));
        d = (uint16_t)((d + 1) % f->num);
    }
    put_desc(f->desc, d, STATUS + k, 1, D_WRITE, 0);
    f->next_desc = (uint16_t)((d + 1) % f->num);
    avail_add(head);
    return head;
}

static uint8_t status_of(int k)
{
    return (uint8_t)phys_read(&f->pm, STATUS + k, 1);
}

static void fill_guest(uint32_t addr, uint32_t len, uint8_t seed)
{
    uint8_t *bytes = malloc(len);

    for (uint32_t i = 0; i < len; i++) {
        bytes[i] = (uint8_t)(i * 13 + seed);
    }
    phys_write_buf(&f->pm, addr, bytes, len);
    free(bytes);
}

static void expect_guest_equals_disk(uint32_t addr, uint64_t sector, uint32_t len)
{
    uint8_t *guest = malloc(len);

    phys_read_buf(&f->pm, addr, guest, len);
    ck_assert_mem_eq(guest, f->data + sector * 512, len);
    free(guest);
}

/* ---- tests ---- */

START_TEST(test_pci_identity)
{
    ck_assert_uint_eq(cfg_read(PCI_VENDOR_ID, 2), 0x1af4);
    ck_assert_uint_eq(cfg_read(PCI_DEVICE_ID, 2), 0x1001); /* transitional block (4.1.2.1) */
    ck_assert_uint_eq(cfg_read(PCI_SUBSYSTEM_ID, 2), 2);   /* virtio device ID: block */
    ck_assert_uint_eq(cfg_read(PCI_CLASS_DEVICE, 2), 0x0100);
    ck_assert_uint_eq(cfg_read(PCI_INTERRUPT_PIN, 1), 1);
}
END_TEST

/* 5.2.3, 5.2.4: what the device offers and its configuration. */
START_TEST(test_features_and_config)
{
    uint64_t feat = device_features();

    ck_assert_uint_eq(feat & (F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_WRITE_ZEROES | F_VERSION_1),
                      F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_WRITE_ZEROES | F_VERSION_1);
    ck_assert_uint_eq(feat & (F_RO | F_DISCARD), 0);
    ck_assert_uint_eq(devcfg(0, 4), DISK_SECTORS); /* capacity, le64 */
    ck_assert_uint_eq(devcfg(4, 4), 0);
    ck_assert_uint_eq(devcfg(12, 4), 254); /* seg_max: the queue but header and status */
    ck_assert_uint_eq(devcfg(20, 4), 512); /* blk_size */
    ck_assert_uint_eq(devcfg(52, 4), 1);   /* max_write_zeroes_seg */
    /* The legacy view: the same configuration after the registers. */
    ck_assert_uint_eq(lread(L_CONFIG, 4), DISK_SECTORS);
    ck_assert_uint_eq(lread(L_HOST_FEATURES, 4) & (uint32_t)F_FLUSH, (uint32_t)F_FLUSH);
    /* Accepting a feature not offered fails FEATURES_OK. */
    cwrite(C_STATUS, S_ACK | S_DRIVER, 1);
    cwrite(C_GFSELECT, 0, 4);
    cwrite(C_GF, (uint32_t)F_DISCARD, 4);
    cwrite(C_GFSELECT, 1, 4);
    cwrite(C_GF, 1, 4);
    cwrite(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK, 1);
    ck_assert_uint_eq(cread(C_STATUS, 1) & S_FEATURES_OK, 0);
}
END_TEST

START_TEST(test_write_then_read)
{
    uint8_t snapshot[4096];

    modern_init(F_VERSION_1 | F_FLUSH | F_SEG_MAX | F_BLK_SIZE);
    fill_guest(BUF, 4096, 3);
    /* 3072 bytes in four buffers of 768: sectors span buffers. */
    request(0, T_OUT, 100, BUF, 3072, 4);
    notify();
    ck_assert_uint_eq(used_idx(), 1);
    ck_assert_uint_eq(used_id(0), 0);
    ck_assert_uint_eq(used_len(0), 1); /* only the status byte written */
    ck_assert_uint_eq(status_of(0), ST_OK);
    expect_guest_equals_disk(BUF, 100, 3072);
    ck_assert_int_eq(f->irq_level, 1);
    ck_assert_uint_eq(isr_read(), 1);
    ck_assert_int_eq(f->irq_level, 0);

    request(1, T_OUT, 100, BUF, 4096, 4);
    notify();
    ck_assert_uint_eq(used_idx(), 2);
    ck_assert_uint_eq(status_of(1), ST_OK);
    expect_guest_equals_disk(BUF, 100, 4096);

    /* Read it back elsewhere, in two buffers. */
    memcpy(snapshot, f->data + 100 * 512, sizeof(snapshot));
    request(2, T_IN, 100, BUF + 0x10000, 4096, 2);
    notify();
    ck_assert_uint_eq(used_idx(), 3);
    ck_assert_uint_eq(status_of(2), ST_OK);
    ck_assert_uint_eq(used_len(2), 4097); /* data and status */
    expect_guest_equals_disk(BUF + 0x10000, 100, 4096);
    ck_assert_mem_eq(snapshot, f->data + 100 * 512, sizeof(snapshot));
}
END_TEST

/* The first request fails; 4095 bytes are not whole sectors (5.2.6.1). */
START_TEST(test_partial_sector)
{
    modern_init(F_VERSION_1);
    uint8_t before = f->data[100 * 512];
    request(0, T_OUT, 100, BUF, 4095, 3);
    request(1, T_IN, 100, BUF, 511, 1);
    notify();
    ck_assert_uint_eq(used_idx(), 2);
    ck_assert_uint_eq(status_of(0), ST_IOERR);
    ck_assert_uint_eq(status_of(1), ST_IOERR);
    ck_assert_uint_eq(f->data[100 * 512], before);
}
END_TEST

/* A request longer than the device's bounce buffer moves in pieces, and
 * the status byte comes after all of them. */
START_TEST(test_long_request_status_last)
{
    modern_init(F_VERSION_1);
    request(0, T_IN, 0, BUF, 256 * 1024, 4);
    notify();
    ck_assert_uint_eq(status_of(0), ST_OK);
    ck_assert_int_eq(f->reads, 4);
    ck_assert_int_eq(f->status_checks, 1);
    expect_guest_equals_disk(BUF, 0, 256 * 1024);
}
END_TEST

/* Header and data in one descriptor, data and status in another
 * (ANY_LAYOUT / VERSION_1: the framing is the driver's choice, 2.6.4). */
START_TEST(test_any_layout)
{
    modern_init(F_VERSION_1);
    put_hdr(BUF, T_OUT, 7);
    fill_guest(BUF + 16, 512, 9);
    put_desc(f->desc, 0, BUF, 16 + 512, D_NEXT, 1);
    put_desc(f->desc, 1, STATUS, 1, D_WRITE, 0);
    avail_add(0);
    notify();
    ck_assert_uint_eq(status_of(0), ST_OK);
    expect_guest_equals_disk(BUF + 16, 7, 512);

    /* A read whose last writable buffer holds data and the status. */
    put_hdr(HDR, T_IN, 7);
    put_desc(f->desc, 2, HDR, 16, D_NEXT, 3);
    put_desc(f->desc, 3, BUF + 0x1000, 300, D_WRITE | D_NEXT, 4);
    put_desc(f->desc, 4, BUF + 0x2000, 213, D_WRITE, 0);
    avail_add(2);
    notify();
    ck_assert_uint_eq(used_idx(), 2);
    ck_assert_uint_eq(used_len(1), 513);
    expect_guest_equals_disk(BUF + 0x1000, 7, 300);
    ck_assert_uint_eq(phys_read(&f->pm, BUF + 0x2000, 1), f->data[7 * 512 + 300]);
    ck_assert_uint_eq(phys_read(&f->pm, BUF + 0x2000 + 212, 1), ST_OK);
}
END_TEST

START_TEST(test_flush)
{
    modern_init(F_VERSION_1 | F_FLUSH);
    request(0, T_OUT, 1, BUF, 512, 1);
    request(1, T_FLUSH, 0, 0, 0, 0);
    notify();
    ck_assert_uint_eq(status_of(0), ST_OK);
    ck_assert_uint_eq(status_of(1), ST_OK);
    ck_assert_int_eq(f->flushes, 1);

    /* The host's fdatasync failed: the guest hears of it. */
    f->fail = 1;
    request(2, T_FLUSH, 0, 0, 0, 0);
    request(3, T_OUT, 1, BUF, 512, 1);
    request(4, T_IN, 1, BUF, 512, 1);
    notify();
    ck_assert_int_eq(f->flushes, 2);
    ck_assert_uint_eq(status_of(2), ST_IOERR);
    ck_assert_uint_eq(status_of(3), ST_IOERR);
    ck_assert_uint_eq(status_of(4), ST_IOERR);
}
END_TEST

/* 5.2.6: 20 bytes of serial, as many as the buffer holds. */
START_TEST(test_get_id)
{
    uint8_t id[20];

    modern_init(F_VERSION_1);
    fill_guest(BUF, 32, 1);
    request(0, T_GET_ID, 0, BUF, 32, 1);
    notify();
    ck_assert_uint_eq(status_of(0), ST_OK);
    ck_assert_uint_eq(used_len(0), 21);
    phys_read_buf(&f->pm, BUF, id, sizeof(id));
    ck_assert_mem_eq(id, "popek-serial-0123456", 20);

    fill_guest(BUF, 32, 1);
    request(1, T_GET_ID, 0, BUF, 8, 1);
    notify();
    ck_assert_uint_eq(used_len(1), 9);
    phys_read_buf(&f->pm, BUF, id, 9);
    ck_assert_mem_eq(id, "popek-se", 8);
    ck_assert_uint_eq(id[8], 8 * 13 + 1); /* untouched past the buffer */
}
END_TEST

START_TEST(test_unsupported_and_range)
{
    static const struct {
        uint32_t type;
        uint64_t sector;
        uint32_t len;
        uint8_t status;
    } cases[] = {
        {T_DISCARD, 0, 16, ST_UNSUPP}, /* not offered */
        {99, 0, 512, ST_UNSUPP},
        {T_IN, DISK_SECTORS - 1, 1024, ST_IOERR}, /* one sector past the end */
        {T_OUT, DISK_SECTORS, 512, ST_IOERR},
        {T_IN, UINT64_MAX, 512, ST_IOERR}, /* sector + count wraps */
        {T_IN, DISK_SECTORS - 1, 512, ST_OK}, /* the last sector */
    };

    modern_init(F_VERSION_1);
    for (int k = 0; k < (int)(sizeof(cases) / sizeof(cases[0])); k++) {
        request(k, cases[k].type, cases[k].sector, BUF, cases[k].len, 1);
        notify();
        ck_assert_uint_eq(used_idx(), k + 1);
        ck_assert_uint_eq(status_of(k), cases[k].status);
    }
    /* The header shorter than 16 bytes: IOERR, the device carries on. */
    phys_write(&f->pm, STATUS + 6, 0xee, 1);
    put_desc(f->desc, 12, HDR, 8, D_NEXT, 13);
    put_desc(f->desc, 13, STATUS + 6, 1, D_WRITE, 0);
    avail_add(12);
    notify();
    ck_assert_uint_eq(status_of(6), ST_IOERR);
    ck_assert_uint_eq(cread(C_STATUS, 1) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(test_write_zeroes)
{
    modern_init(F_VERSION_1 | F_WRITE_ZEROES);
    /* header, one range {sector 10, 300 sectors, UNMAP}, status */
    put_hdr(HDR, T_WRITE_ZEROES, 0);
    phys_write(&f->pm, BUF, 10, 4);
    phys_write(&f->pm, BUF + 4, 0, 4);
    phys_write(&f->pm, BUF + 8, 300, 4);
    phys_write(&f->pm, BUF + 12, 1, 4);
    put_desc(f->desc, 0, HDR, 16, D_NEXT, 1);
    put_desc(f->desc, 1, BUF, 16, D_NEXT, 2);
    put_desc(f->desc, 2, STATUS, 1, D_WRITE, 0);
    avail_add(0);
    notify();
    ck_assert_uint_eq(status_of(0), ST_OK);
    for (uint32_t i = 10 * 512; i < 310 * 512; i++) {
        ck_assert_uint_eq(f->data[i], 0);
    }
    ck_assert_uint_ne(f->data[310 * 512 + 1], 0);
    ck_assert_uint_ne(f->data[9 * 512 + 1], 0);
    /* Unknown flag bits: UNSUPP; past the end: IOERR. */
    phys_write(&f->pm, BUF + 12, 2, 4);
    avail_add(0);
    notify();
    ck_assert_uint_eq(status_of(0), ST_UNSUPP);
    phys_write(&f->pm, BUF + 12, 0, 4);
    phys_write(&f->pm, BUF, DISK_SECTORS - 299, 4);
    avail_add(0);
    notify();
    ck_assert_uint_eq(status_of(0), ST_IOERR);
}
END_TEST

/* VIRTIO_BLK_F_RO: offered; writes fail, reads and flushes work. */
START_TEST(test_read_only)
{
    /* A new bus: a device's PCI function stays with its bus. */
    virtio_blk_free(f->blk);
    pci_bus_free(f->bus);
    f->bus = pci_bus_new(&f->io);
    make_blk(true, NULL);
    ck_assert_uint_eq(device_features() & F_RO, F_RO);
    modern_init(F_VERSION_1 | F_RO | F_FLUSH | F_WRITE_ZEROES);
    uint8_t before[512];
    memcpy(before, f->data + 5 * 512, 512);
    fill_guest(BUF, 512, 77);
    request(0, T_OUT, 5, BUF, 512, 1);
    request(1, T_FLUSH, 0, 0, 0, 0);
    request(2, T_IN, 5, BUF + 0x1000, 512, 1);
    request(3, T_GET_ID, 0, BUF + 0x2000, 20, 1);
    notify();
    ck_assert_uint_eq(status_of(0), ST_IOERR);
    ck_assert_uint_eq(status_of(1), ST_OK);
    ck_assert_uint_eq(status_of(2), ST_OK);
    ck_assert_uint_eq(status_of(3), ST_OK);
    ck_assert_mem_eq(before, f->data + 5 * 512, 512);
    expect_guest_equals_disk(BUF + 0x1000, 5, 512);
    ck_assert_uint_eq(phys_read(&f->pm, BUF + 0x2000, 1), 0); /* no serial: zeroes */
}
END_TEST

/* Many requests posted before one notification all complete, in ring
 * order, with one interrupt. */
START_TEST(test_many_in_flight)
{
    modern_init(F_VERSION_1);
    for (int k = 0; k < 5; k++) {
        fill_guest(BUF + 0x1000u * k, 1024, (uint8_t)k);
        request(k, T_OUT, 200 + 2u * k, BUF + 0x1000u * k, 1024, 1);
    }
    notify();
    ck_assert_uint_eq(used_idx(), 5);
    ck_assert_int_eq(f->irq_raises, 1);
    for (int k = 0; k < 5; k++) {
        ck_assert_uint_eq(used_id((uint16_t)k), 3u * k);
        ck_assert_uint_eq(status_of(k), ST_OK);
        expect_guest_equals_disk(BUF + 0x1000u * k, 200 + 2u * k, 1024);
    }
}
END_TEST

/* The legacy interface, with indirect descriptors and EVENT_IDX. */
START_TEST(test_legacy_indirect)
{
    legacy_init((uint32_t)(F_INDIRECT | F_EVENT_IDX | F_FLUSH));
    ck_assert_uint_eq(f->num, 256);
    fill_guest(BUF, 1024, 5);
    put_hdr(HDR, T_OUT, 50);
    put_desc(TABLE, 0, HDR, 16, D_NEXT, 1);
    put_desc(TABLE, 1, BUF, 1024, D_NEXT, 2);
    put_desc(TABLE, 2, STATUS, 1, D_WRITE, 0);
    put_desc(f->desc, 0, TABLE, 48, D_INDIRECT, 0);
    avail_add(0);
    lwrite(L_QUEUE_NOTIFY, 0, 2);
    ck_assert_uint_eq(used_idx(), 1);
    ck_assert_uint_eq(status_of(0), ST_OK);
    expect_guest_equals_disk(BUF, 50, 1024);
    ck_assert_uint_eq(lread(L_ISR, 1), 1);
    /* avail_event (2.7.10): notify me when you pass entry 1. */
    ck_assert_uint_eq(phys_read(&f->pm, f->used + 4 + 8u * f->num, 2), 1);
}
END_TEST

static void expect_needs_reset(void)
{
    char info[512];
    uint16_t used = used_idx();

    ck_assert_uint_eq(cread(C_STATUS, 1) & S_NEEDS_RESET, S_NEEDS_RESET);
    ck_assert_uint_eq(isr_read() & 2, 2);
    virtio_blk_info(f->blk, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "error"));
    /* Nothing more is processed until a reset. */
    request(15, T_FLUSH, 0, 0, 0, 0);
    notify();
    ck_assert_uint_eq(used_idx(), used);
    /* A reset and a new bring-up work again. */
    modern_init(F_VERSION_1);
    request(0, T_IN, 0, BUF, 512, 1);
    notify();
    ck_assert_uint_eq(used_idx(), 1);
    ck_assert_uint_eq(status_of(0), ST_OK);
}

/* Chains a driver must not make: the device needs a reset, never a crash
 * or an access outside RAM. */
START_TEST(test_no_status)
{
    modern_init(F_VERSION_1);
    put_hdr(HDR, T_IN, 0);
    put_desc(f->desc, 0, HDR, 16, D_NEXT, 1);
    put_desc(f->desc, 1, BUF, 512, 0, 0); /* no writable byte at all */
    avail_add(0);
    notify();
    ck_assert_uint_eq(used_idx(), 0);
    expect_needs_reset();
}
END_TEST

START_TEST(test_buffer_past_ram)
{
    modern_init(F_VERSION_1);
    request(0, T_IN, 0, RAM_SIZE - 256, 512, 1);
    notify();
    ck_assert_uint_eq(used_idx(), 0);
    expect_needs_reset();
    /* A 64-bit address past 4 GiB. */
    uint16_t head = request(1, T_IN, 0, BUF, 512, 1);
    put_desc(f->desc, (uint16_t)(head + 1), 0x100000000ull + BUF, 512, D_WRITE | D_NEXT,
             (uint16_t)(head + 2));
    notify();
    ck_assert_uint_eq(used_idx(), 1);
    expect_needs_reset();
}
END_TEST

START_TEST(test_chain_loop)
{
    modern_init(F_VERSION_1);
    put_hdr(HDR, T_IN, 0);
    put_desc(f->desc, 0, HDR, 16, D_NEXT, 1);
    put_desc(f->desc, 1, BUF, 512, D_WRITE | D_NEXT, 0); /* back to the header */
    avail_add(0);
    notify();
    ck_assert_uint_eq(used_idx(), 0);
    expect_needs_reset();
}
END_TEST

START_TEST(test_info_and_reset)
{
    char info[512];

    modern_init(F_VERSION_1);
    request(0, T_OUT, 1, BUF, 512, 1);
    request(1, T_FLUSH, 0, 0, 0, 0);
    notify();
    virtio_blk_info(f->blk, info, sizeof(info));
    ck_assert_ptr_nonnull(strstr(info, "virtio-blk-pci 00:04.0 2048 sectors"));
    ck_assert_ptr_nonnull(strstr(info, "1 write 1 flush"));
    virtio_blk_reset(f->blk);
    ck_assert_uint_eq(cfg_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, 0);
}
END_TEST

static Suite *virtio_blk_suite(void)
{
    Suite *s = suite_create("virtio_blk");
    TCase *tc = tcase_create("device");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pci_identity);
    tcase_add_test(tc, test_features_and_config);
    tcase_add_test(tc, test_write_then_read);
    tcase_add_test(tc, test_partial_sector);
    tcase_add_test(tc, test_long_request_status_last);
    tcase_add_test(tc, test_any_layout);
    tcase_add_test(tc, test_flush);
    tcase_add_test(tc, test_get_id);
    tcase_add_test(tc, test_unsupported_and_range);
    tcase_add_test(tc, test_write_zeroes);
    tcase_add_test(tc, test_read_only);
    tcase_add_test(tc, test_many_in_flight);
    tcase_add_test(tc, test_legacy_indirect);
    tcase_add_test(tc, test_no_status);
    tcase_add_test(tc, test_buffer_past_ram);
    tcase_add_test(tc, test_chain_loop);
    tcase_add_test(tc, test_info_and_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(virtio_blk_suite());

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
