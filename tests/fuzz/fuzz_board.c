/*
 * The fuzzers' PC (fuzz_board.h): the configuration a user would give,
 * memory images behind the drives, sinks behind the character devices,
 * a netdev per NIC, and the tables of what the guest can reach.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "hw/pci/pci.h"
#include "tests/fuzz/fuzz_board.h"

/* ---- memory images ---- */

/* What sector s holds before anything writes it. */
static void disk_pattern(uint8_t *sector, uint64_t s)
{
    for (uint32_t i = 0; i < BLOCK_SECTOR_SIZE; i++) {
        sector[i] = (uint8_t)(s * 131 + i * 7 + (i >> 8));
    }
}

static void disk_range_check(const FuzzDisk *d, uint64_t sector, uint32_t count)
{
    if (count == 0 || sector >= d->sectors || count > d->sectors - sector) {
        fprintf(stderr, "fuzz: a controller asked for sectors %llu+%u of a %llu-sector disk\n",
                (unsigned long long)sector, count, (unsigned long long)d->sectors);
        abort();
    }
}

static int disk_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    FuzzDisk *d = opaque;
    disk_range_check(d, sector, count);
    memcpy(buf, d->data + sector * BLOCK_SECTOR_SIZE, (size_t)count * BLOCK_SECTOR_SIZE);
    return 0;
}

static int disk_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    FuzzDisk *d = opaque;
    disk_range_check(d, sector, count);
    if (d->blk.read_only) {
        return -30; /* -EROFS: a read-only image is never written */
    }
    memcpy(d->data + sector * BLOCK_SECTOR_SIZE, buf, (size_t)count * BLOCK_SECTOR_SIZE);
    memset(d->written + sector, 1, count);
    return 0;
}

static int disk_flush(void *opaque)
{
    return 0;
}

static void disk_make(FuzzDisk *d, uint64_t sectors, bool read_only)
{
    if (!d->data) {
        d->sectors = sectors;
        d->data = malloc(sectors * BLOCK_SECTOR_SIZE);
        d->written = malloc(sectors);
        if (!d->data || !d->written) {
            abort();
        }
        memset(d->written, 1, sectors);
        d->blk = (BlockDev){d, sectors, read_only, disk_read, disk_write, disk_flush};
    }
    for (uint64_t s = 0; s < sectors; s++) {
        if (d->written[s]) {
            disk_pattern(d->data + s * BLOCK_SECTOR_SIZE, s);
            d->written[s] = 0;
        }
    }
}

/* ---- host ends ---- */

static void sink_write(void *opaque, const uint8_t *buf, int len)
{
    FuzzBoard *b = opaque;
    for (int i = 0; i < len; i++) {
        b->bytes_out += buf[i];
    }
}

static void fuzz_netdev_receive(void *opaque, const uint8_t *frame, size_t len)
{
    FuzzNetdev *n = opaque;
    if (len == 0 || len > NET_MAX_FRAME) {
        fprintf(stderr, "fuzz: a %zu-byte frame reached the wire\n", len);
        abort();
    }
    for (size_t i = 0; i < len; i++) {
        n->bytes_sent += frame[i];
    }
}

static bool fuzz_netdev_can_receive(void *opaque)
{
    FuzzNetdev *n = opaque;
    return n->can_receive;
}

static void fuzz_netdev_poll_fill(void *opaque, NetPollSet *set, int *timeout_ms)
{
}

static void fuzz_netdev_poll_service(void *opaque, const NetPollSet *set, bool poll_failed)
{
}

static void fuzz_netdev_info(void *opaque, char *buf, size_t len)
{
    snprintf(buf, len, "fuzz");
}

static void fuzz_netdev_free(void *opaque)
{
}

static const NetdevOps fuzz_netdev_ops = {"fuzz",
                                          fuzz_netdev_receive,
                                          fuzz_netdev_can_receive,
                                          fuzz_netdev_poll_fill,
                                          fuzz_netdev_poll_service,
                                          fuzz_netdev_info,
                                          fuzz_netdev_free};

/* ---- the machine ---- */

static void board_config(FuzzBoard *b, PCConfig *cfg)
{
    static const PCNic nics[FUZZ_BOARD_NICS] = {
        {PC_NIC_E1000, {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
        {PC_NIC_VIRTIO_NET, {0x52, 0x54, 0x00, 0x12, 0x34, 0x57}},
    };
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_bytes = FUZZ_BOARD_RAM;
    cfg->accel = ACCEL_INTERP;
    cfg->icount_shift = 0;
    cfg->rtc_base = 946684800; /* 2000-01-01, never the host's clock */
    cfg->no_firmware = true;
    cfg->boot_order = "cda";
    cfg->debug_exit = true;
    cfg->debug_exit_base = 0x501;
    cfg->debug_exit_size = 2;
    cfg->drives[0] = (PCDrive){true, false, &b->disk[0].blk, "fuzz -hda"};
    cfg->drives[1] = (PCDrive){true, false, &b->disk[1].blk, "fuzz -hdb"};
    cfg->drives[2] = (PCDrive){true, true, &b->cd.blk, "fuzz -cdrom"};
    cfg->floppies[0] = (PCDrive){true, false, &b->floppy[0].blk, "fuzz -fda"};
    cfg->floppies[1] = (PCDrive){true, false, &b->floppy[1].blk, "fuzz -fdb"};
    cfg->nic_count = FUZZ_BOARD_NICS;
    memcpy(cfg->nics, nics, sizeof(nics));
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        cfg->serial[i] = &b->sink;
    }
    cfg->debugcon = &b->sink;
    cfg->bioslog = &b->sink;
}

/* The PCI functions that answer, as a guest enumerates them. */
static void board_scan_pci(FuzzBoard *b)
{
    b->npci = 0;
    for (int devfn = 0; devfn < 256 && b->npci < FUZZ_BOARD_MAX_PCI; devfn++) {
        ioport_write(&b->pc.io, PCI_CONFIG_ADDRESS, 0x80000000u | (uint32_t)devfn << 8, 4);
        if (ioport_read(&b->pc.io, PCI_CONFIG_DATA, 2) != 0xffff) {
            b->pci_devfn[b->npci++] = (uint8_t)devfn;
        }
    }
    ioport_write(&b->pc.io, PCI_CONFIG_ADDRESS, 0, 4);
}

void fuzz_board_start(FuzzBoard *b)
{
    if (b->built) {
        fuzz_board_stop(b);
    }
    disk_make(&b->disk[0], 4096, false); /* 2 MiB */
    disk_make(&b->disk[1], 129, false);  /* an odd size: transfers end mid-way */
    disk_make(&b->cd, 2048, true);       /* 1 MiB: 512 CD sectors */
    disk_make(&b->floppy[0], 2880, false);
    disk_make(&b->floppy[1], 1440, true); /* 720 KiB, write-protected */
    b->sink = (CharBackend){b, sink_write};
    PCConfig cfg;
    board_config(b, &cfg);
    pc_init(&b->pc, &cfg);
    b->net = net_new();
    if (!b->net) {
        abort();
    }
    for (int i = 0; i < FUZZ_BOARD_NICS; i++) {
        FuzzNetdev *n = &b->netdev[i];
        char id[16];
        snprintf(id, sizeof(id), "fuzz%d", i);
        n->can_receive = true;
        n->nd = netdev_new(b->net, id, &fuzz_netdev_ops, n);
        if (!n->nd || !net_client_attach(pc_nic_client(&b->pc, i), n->nd)) {
            abort();
        }
    }
    b->built = true;
    board_scan_pci(b);
    b->ports_stale = true;
}

void fuzz_board_stop(FuzzBoard *b)
{
    if (!b->built) {
        return;
    }
    net_free(b->net);
    b->net = NULL;
    pc_destroy(&b->pc);
    b->built = false;
}

int fuzz_board_port_ranges(FuzzBoard *b, const FuzzPortRange **ranges)
{
    if (b->ports_stale) {
        const IOPortMap *io = &b->pc.io;
        b->nports = 0;
        for (uint32_t port = 0; port < 65536 && b->nports < FUZZ_BOARD_MAX_PORT_RANGES;) {
            uint16_t owner = io->owner[port];
            uint32_t end = port + 1;
            while (end < 65536 && io->owner[end] == owner) {
                end++;
            }
            if (owner) {
                b->ports[b->nports++] = (FuzzPortRange){(uint16_t)port, end - port};
            }
            port = end;
        }
        b->ports_stale = false;
    }
    *ranges = b->ports;
    return b->nports;
}

bool fuzz_board_region(FuzzBoard *b, uint32_t index, uint32_t *start, uint32_t *size)
{
    const PhysMem *pm = &b->pc.phys;
    uint32_t n = 0;
    for (int i = 0; i < pm->nregions; i++) {
        n += pm->regions[i].enabled;
    }
    if (n == 0) {
        return false;
    }
    index %= n;
    for (int i = 0; i < pm->nregions; i++) {
        const PhysRegion *r = &pm->regions[i];
        if (r->enabled && index-- == 0) {
            *start = r->start;
            *size = r->size;
            return true;
        }
    }
    return false;
}

void fuzz_board_serve_requests(FuzzBoard *b)
{
    PC *pc = &b->pc;
    if (pc->reset_requested) {
        pc_reset(pc);
        b->ports_stale = true;
    }
    if (pc->init_requested) {
        pc->init_requested = false;
        cpu_init_signal(&pc->cpu);
    }
    /* The run would end here; the fuzzer carries on with the same board
     * so the rest of the input still counts. */
    pc->exit_requested = false;
    cpu_clear_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

/* At most this many deadlines are served one by one in one advance; the
 * rest of the time passes at once (a periodic timer then skips ahead). */
#define ADVANCE_MAX_STEPS 256

void fuzz_board_advance(FuzzBoard *b, uint64_t ns, void (*before_each)(void *), void *opaque)
{
    PC *pc = &b->pc;
    uint64_t target = pc->cpu.icount + ns;
    if (target > (uint64_t)INT64_MAX / 2 || target < pc->cpu.icount) {
        target = (uint64_t)INT64_MAX / 2;
    }
    for (int step = 0; step < ADVANCE_MAX_STEPS; step++) {
        int64_t deadline = timerlist_next_deadline(&pc->timers);
        if (deadline == TIMER_NEVER || (uint64_t)deadline > target) {
            break;
        }
        if ((uint64_t)deadline > pc->cpu.icount) {
            pc->cpu.icount = (uint64_t)deadline;
        }
        before_each(opaque);
        timerlist_run(&pc->timers);
        fuzz_board_serve_requests(b);
    }
    pc->cpu.icount = target;
    before_each(opaque);
    timerlist_run(&pc->timers);
    fuzz_board_serve_requests(b);
}
