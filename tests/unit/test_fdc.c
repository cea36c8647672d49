/*
 * The 82077AA floppy controller through its ports, with the ISA DMA
 * controller and guest RAM but no CPU, over disks held in memory.
 * Expected values come from the 82077AA datasheet: command bytes, result
 * bytes, MSR in each phase, the polling interrupt after reset, status
 * register bits; and from the 8237A for the DMA side.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/block/fdc.h"
#include "hw/dma/i8257.h"

#define FDC        0x3f0
#define DOR        (FDC + 2)
#define MSR        (FDC + 4)
#define DSR        (FDC + 4)
#define FIFO       (FDC + 5)
#define DIR        (FDC + 7)
#define CCR        (FDC + 7)
#define DISK_BYTES 1474560u
#define SPT        18

typedef struct MemDisk {
    uint8_t *data;
    uint32_t bytes;
    int writes;
} MemDisk;

typedef struct Fixture {
    IOPortMap io;
    PhysMem pm;
    I8257State *dma;
    FDCState *fdc;
    MemDisk disk[2];
    int irq_level;
    int irq_rises;
} Fixture;

static Fixture *f;

static int mem_read(void *opaque, uint64_t sector, void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    memcpy(buf, d->data + sector * 512, count * 512u);
    return 0;
}

static int mem_write(void *opaque, uint64_t sector, const void *buf, uint32_t count)
{
    MemDisk *d = opaque;
    memcpy(d->data + sector * 512, buf, count * 512u);
    d->writes++;
    return 0;
}

static int mem_flush(void *opaque)
{
    return 0;
}

static BlockDev mem_blockdev(MemDisk *d, uint32_t bytes, bool read_only)
{
    d->bytes = bytes;
    d->data = malloc(bytes);
    /* Byte i of LBA s is s * 3 + i. */
    for (uint32_t i = 0; i < bytes; i++) {
        d->data[i] = (uint8_t)((i / 512) * 3 + (i % 512));
    }
    BlockDev b = {d, bytes / 512, read_only, mem_read, mem_write, mem_flush};
    return b;
}

static void irq_cb(void *opaque, int n, int level)
{
    if (level && !f->irq_level) {
        f->irq_rises++;
    }
    f->irq_level = level;
}

static void outb(uint16_t port, uint8_t v)
{
    ioport_write(&f->io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)ioport_read(&f->io, port, 1);
}

static void setup_with(bool wp)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    ck_assert(phys_init(&f->pm, 1u << 20));
    f->dma = i8257_new(&f->io, &f->pm);
    f->fdc = fdc_new(&f->io, FDC_BASE, irq_make(irq_cb, NULL, 6), f->dma, FDC_DMA_CHAN);
    ck_assert_ptr_nonnull(f->fdc);
    BlockDev a = mem_blockdev(&f->disk[0], DISK_BYTES, wp);
    ck_assert(fdc_attach(f->fdc, 0, &a));
    ck_assert(!fdc_attach(f->fdc, 0, &a)); /* taken */
    ck_assert(!fdc_attach(f->fdc, 2, &a)); /* no such drive */
}

static void setup(void)
{
    setup_with(false);
}

static void setup_wp(void)
{
    setup_with(true);
}

static void teardown(void)
{
    fdc_free(f->fdc);
    i8257_free(f->dma);
    for (int i = 0; i < 2; i++) {
        free(f->disk[i].data);
    }
    phys_destroy(&f->pm);
    free(f);
}

/* Command bytes, each when MSR says the FIFO wants one. */
static void command(const uint8_t *bytes, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(inb(MSR) & 0xc0, 0x80);
        outb(FIFO, bytes[i]);
    }
}

/* Read the result phase into r; returns how many bytes there were. */
static int result(uint8_t *r, int max)
{
    int n = 0;
    while ((inb(MSR) & 0xd0) == 0xd0 && n < max) {
        r[n++] = inb(FIFO);
    }
    ck_assert_uint_eq(inb(MSR), 0x80); /* back to idle */
    return n;
}

static void sense_interrupt(uint8_t *st0, uint8_t *pcn)
{
    uint8_t c = 0x08, r[2];
    command(&c, 1);
    ck_assert_int_eq(result(r, 2), 2);
    *st0 = r[0];
    *pcn = r[1];
}

/* DMA channel 2: mode (0x46 write to memory, 0x4A read from memory), address, bytes. */
static void dma_setup(uint8_t mode, uint32_t addr, uint32_t bytes)
{
    outb(0x0a, 0x06);
    outb(0x0c, 0);
    outb(0x0b, mode);
    outb(0x04, (uint8_t)addr);
    outb(0x04, (uint8_t)(addr >> 8));
    outb(0x81, (uint8_t)(addr >> 16));
    outb(0x05, (uint8_t)(bytes - 1));
    outb(0x05, (uint8_t)((bytes - 1) >> 8));
    outb(0x0a, 0x02);
}

static void seek(uint8_t head_unit, uint8_t cyl)
{
    uint8_t c[3] = {0x0f, head_unit, cyl}, st0, pcn;
    command(c, 3);
    sense_interrupt(&st0, &pcn);
    ck_assert_uint_eq(st0, 0x20 | head_unit);
    ck_assert_uint_eq(pcn, cyl);
}

/* READ DATA (MT, MFM) of C/H/R with EOT; 7 result bytes into r. */
static void read_data(uint8_t mt, uint8_t c, uint8_t h, uint8_t r, uint8_t eot, uint8_t *res)
{
    uint8_t cmd[9] = {(uint8_t)(0x46 | mt), (uint8_t)(h << 2), c, h, r, 2, eot, 0x1b, 0xff};
    command(cmd, 9);
    ck_assert_int_eq(result(res, 7), 7);
}

static uint8_t pattern(uint32_t lba, uint32_t i)
{
    return (uint8_t)(lba * 3 + i);
}

START_TEST(test_power_on_registers)
{
    ck_assert_uint_eq(inb(DOR), 0x0c);
    ck_assert_uint_eq(inb(MSR), 0x80);
    ck_assert_uint_eq(inb(DIR) & 0x80, 0x80); /* disk changed since power on */
    ck_assert_uint_eq(inb(FDC + 0), 0xff);    /* SRA/SRB: PS/2 mode only */
    ck_assert_int_eq(fdc_cmos_type(f->fdc, 0), FDC_CMOS_144M);
    ck_assert_int_eq(fdc_cmos_type(f->fdc, 1), FDC_CMOS_NONE);
    outb(FDC + 3, 0xff);
    ck_assert_uint_eq(inb(FDC + 3), 0x03);
    /* Formats by size. */
    ck_assert_ptr_nonnull(fdc_format_for_size(737280));
    ck_assert_uint_eq(fdc_format_for_size(2949120)->sectors, 36);
    ck_assert_ptr_null(fdc_format_for_size(1474560 + 512));
}
END_TEST

START_TEST(test_reset_polling_interrupts)
{
    outb(DOR, 0x08); /* reset held: MSR reads 0 */
    ck_assert_uint_eq(inb(MSR), 0x00);
    ck_assert_int_eq(f->irq_level, 0);
    outb(DOR, 0x0c); /* release: one interrupt, four drive statuses */
    ck_assert_int_eq(f->irq_level, 1);
    uint8_t st0, pcn;
    for (int unit = 0; unit < 4; unit++) {
        sense_interrupt(&st0, &pcn);
        ck_assert_uint_eq(st0, 0xc0 | unit);
        ck_assert_int_eq(f->irq_level, 0);
    }
    /* Nothing left: SENSE INTERRUPT STATUS is an invalid command. */
    uint8_t c = 0x08, r[2];
    command(&c, 1);
    ck_assert_int_eq(result(r, 2), 1);
    ck_assert_uint_eq(r[0], 0x80);
    /* DSR bit 7 resets too; with DOR bit 3 clear INT stays low. */
    outb(DOR, 0x04);
    outb(DSR, 0x80);
    ck_assert_int_eq(f->irq_level, 0);
    outb(DOR, 0x0c); /* the gate opens on the pending interrupt */
    ck_assert_int_eq(f->irq_level, 1);
}
END_TEST

START_TEST(test_simple_commands)
{
    uint8_t r[10];
    uint8_t version = 0x10;
    command(&version, 1);
    ck_assert_int_eq(result(r, 10), 1);
    ck_assert_uint_eq(r[0], 0x90);
    /* Invalid: one byte, 80h, no interrupt. */
    int rises = f->irq_rises;
    uint8_t bad = 0x1f;
    command(&bad, 1);
    ck_assert_int_eq(result(r, 10), 1);
    ck_assert_uint_eq(r[0], 0x80);
    ck_assert_int_eq(f->irq_rises, rises);
    /* SPECIFY, CONFIGURE, PERPENDICULAR MODE and LOCK show in DUMPREG. */
    uint8_t specify[3] = {0x03, 0xaf, 0x02};
    command(specify, 3);
    ck_assert_uint_eq(inb(MSR), 0x80);
    uint8_t configure[4] = {0x13, 0x00, 0x47, 0x05};
    command(configure, 4);
    uint8_t perp[2] = {0x12, 0x80 | (0x5 << 2) | 0x2};
    command(perp, 2);
    uint8_t lock = 0x94;
    command(&lock, 1);
    ck_assert_int_eq(result(r, 10), 1);
    ck_assert_uint_eq(r[0], 0x10);
    seek(0, 7);
    uint8_t dumpreg = 0x0e;
    command(&dumpreg, 1);
    ck_assert_int_eq(result(r, 10), 10);
    ck_assert_uint_eq(r[0], 7);
    ck_assert_uint_eq(r[1], 0);
    ck_assert_uint_eq(r[4], 0xaf);
    ck_assert_uint_eq(r[5], 0x02);
    ck_assert_uint_eq(r[7], 0x80 | (0x5 << 2) | 0x2);
    ck_assert_uint_eq(r[8], 0x47);
    ck_assert_uint_eq(r[9], 0x05);
    /* A locked CONFIGURE survives a software reset; GAP/WGATE do not. */
    outb(DSR, 0x80);
    uint8_t st0, pcn;
    for (int i = 0; i < 4; i++) {
        sense_interrupt(&st0, &pcn);
    }
    command(&dumpreg, 1);
    ck_assert_int_eq(result(r, 10), 10);
    ck_assert_uint_eq(r[7], 0x80 | (0x5 << 2));
    ck_assert_uint_eq(r[8], 0x47);
    /* Unlocked, it does not. */
    lock = 0x14;
    command(&lock, 1);
    ck_assert_int_eq(result(r, 10), 1);
    ck_assert_uint_eq(r[0], 0x00);
    outb(DSR, 0x80);
    command(&dumpreg, 1);
    ck_assert_int_eq(result(r, 10), 10);
    ck_assert_uint_eq(r[8], 0x20);
}
END_TEST

START_TEST(test_seek_recalibrate_sense_drive)
{
    uint8_t st0, pcn, r[1];
    seek(0, 40);
    ck_assert_uint_eq(inb(DIR) & 0x80, 0); /* a seek cleared disk change */
    uint8_t sds[2] = {0x04, 0x04};
    command(sds, 2);
    ck_assert_int_eq(result(r, 1), 1);
    ck_assert_uint_eq(r[0], 0x28 | 0x04); /* not track 0, writable, head 1 */
    /* Relative seek: in by 5, out by 50 (stops at 0). */
    uint8_t rs_in[3] = {0xcf, 0x00, 5}, rs_out[3] = {0x8f, 0x00, 50};
    command(rs_in, 3);
    sense_interrupt(&st0, &pcn);
    ck_assert_uint_eq(pcn, 45);
    command(rs_out, 3);
    sense_interrupt(&st0, &pcn);
    ck_assert_uint_eq(pcn, 0);
    uint8_t recal[2] = {0x07, 0x00};
    seek(0, 9);
    int rises = f->irq_rises;
    command(recal, 2);
    ck_assert_int_eq(f->irq_rises, rises + 1);
    sense_interrupt(&st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 0);
    sds[1] = 0x00;
    command(sds, 2);
    ck_assert_int_eq(result(r, 1), 1);
    ck_assert_uint_eq(r[0], 0x38); /* track 0 */
    /* Drive 1 is absent: recalibrate ends with equipment check. */
    recal[1] = 0x01;
    command(recal, 2);
    sense_interrupt(&st0, &pcn);
    ck_assert_uint_eq(st0, 0x71);
}
END_TEST

START_TEST(test_read_dma)
{
    uint8_t r[7];
    outb(CCR, 0); /* 500 kb/s, the 1.44 MB rate */
    seek(0, 1);
    /* Cylinder 1, head 0, sectors 2-3: LBA 37 and 38. */
    dma_setup(0x46, 0x10000, 1024);
    read_data(0, 1, 0, 2, SPT, r);
    ck_assert_uint_eq(r[0], 0x00);
    ck_assert_uint_eq(r[1], 0x00);
    ck_assert_uint_eq(r[2], 0x00);
    ck_assert_uint_eq(r[3], 1); /* next sector: C 1, H 0, R 4 */
    ck_assert_uint_eq(r[4], 0);
    ck_assert_uint_eq(r[5], 4);
    ck_assert_uint_eq(r[6], 2);
    for (uint32_t i = 0; i < 1024; i += 97) {
        ck_assert_uint_eq(phys_read(&f->pm, 0x10000 + i, 1), pattern(37 + i / 512, i % 512));
    }
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000 + 1024, 1), 0);
    ck_assert_uint_eq(inb(0x08) & 0x04, 0x04); /* DMA terminal count on channel 2 */

    /* MT: the last sector of head 0 and the first of head 1 (LBA 53, 54). */
    dma_setup(0x46, 0x20000, 1024);
    read_data(0x80, 1, 0, SPT, SPT, r);
    ck_assert_uint_eq(r[0], 0x04); /* ended on head 1 */
    ck_assert_uint_eq(r[3], 1);
    ck_assert_uint_eq(r[4], 1);
    ck_assert_uint_eq(r[5], 2);
    ck_assert_uint_eq(phys_read(&f->pm, 0x20000, 1), pattern(53, 0));
    ck_assert_uint_eq(phys_read(&f->pm, 0x20200 + 5, 1), pattern(54, 5));

    /* Past EOT without terminal count: end of cylinder. */
    dma_setup(0x46, 0x30000, 4096);
    read_data(0, 1, 0, 17, SPT, r);
    ck_assert_uint_eq(r[0], 0x40);
    ck_assert_uint_eq(r[1], 0x80);
    ck_assert_uint_eq(r[3], 2); /* C + 1, R 1 */
    ck_assert_uint_eq(r[5], 1);
    ck_assert_uint_eq(phys_read(&f->pm, 0x30000, 1), pattern(52, 0));
    ck_assert_uint_eq(phys_read(&f->pm, 0x30200, 1), pattern(53, 0));
    ck_assert_uint_eq(phys_read(&f->pm, 0x30400, 1), 0);
}
END_TEST

START_TEST(test_read_errors)
{
    uint8_t r[7];
    dma_setup(0x46, 0x10000, 512);
    /* 250 kb/s (the power-on rate) does not read a 1.44 MB disk. */
    read_data(0, 0, 0, 1, SPT, r);
    ck_assert_uint_eq(r[0], 0x40);
    ck_assert_uint_eq(r[1], 0x01); /* missing address mark */
    outb(DSR, 0x00);
    /* Sector 19 is not on the track. */
    read_data(0, 0, 0, 19, SPT, r);
    ck_assert_uint_eq(r[0], 0x40);
    ck_assert_uint_eq(r[1], 0x04);
    /* The head is on cylinder 0, the command asks for 3. */
    read_data(0, 3, 0, 1, SPT, r);
    ck_assert_uint_eq(r[1], 0x04);
    ck_assert_uint_eq(r[2], 0x10); /* wrong cylinder */
    /* FM (MFM bit clear) finds no address marks on an MFM disk. */
    uint8_t fm[9] = {0x06, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff};
    command(fm, 9);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[1], 0x01);
    /* A cylinder past the disk's 80. */
    seek(0, 85);
    read_data(0, 85, 0, 1, SPT, r);
    ck_assert_uint_eq(r[1], 0x01);
    /* No drive 1. */
    uint8_t d1[9] = {0x46, 0x01, 0, 0, 1, 2, SPT, 0x1b, 0xff};
    command(d1, 9);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x41);
    ck_assert_uint_eq(r[1], 0x01);
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000, 4), 0); /* nothing transferred */
    /* Implied seek (CONFIGURE EIS) goes to the command's cylinder. */
    uint8_t configure[4] = {0x13, 0x00, 0x60, 0x00};
    command(configure, 4);
    read_data(0, 5, 1, 1, SPT, r);
    ck_assert_uint_eq(r[0], 0x04);
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000, 1), pattern(5 * 36 + 18, 0));
}
END_TEST

START_TEST(test_write_and_format_dma)
{
    uint8_t r[7];
    outb(DSR, 0x00);
    for (int i = 0; i < 1024; i++) {
        phys_write(&f->pm, 0x40000 + (uint32_t)i, (uint8_t)(0xa5 ^ i), 1);
    }
    seek(0, 2);
    dma_setup(0x4a, 0x40000, 1024);
    uint8_t w[9] = {0x45, 0x04, 2, 1, 5, 2, SPT, 0x1b, 0xff};
    command(w, 9);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x04);
    ck_assert_uint_eq(r[5], 7);
    uint32_t lba = 2 * 36 + 18 + 4; /* C 2, H 1, R 5 */
    for (int i = 0; i < 1024; i++) {
        ck_assert_uint_eq(f->disk[0].data[lba * 512 + i], (uint8_t)(0xa5 ^ i));
    }
    ck_assert_uint_eq(f->disk[0].data[(lba + 2) * 512], pattern(lba + 2, 0));

    /* FORMAT TRACK cylinder 2 head 0 with filler E6h, IDs in memory. */
    for (int s = 0; s < SPT; s++) {
        uint8_t id[4] = {2, 0, (uint8_t)(s + 1), 2};
        phys_write_buf(&f->pm, 0x50000 + (uint32_t)s * 4, id, 4);
    }
    dma_setup(0x4a, 0x50000, SPT * 4);
    uint8_t fmt[6] = {0x4d, 0x00, 2, SPT, 0x54, 0xe6};
    command(fmt, 6);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x00);
    for (uint32_t i = 0; i < SPT * 512; i += 251) {
        ck_assert_uint_eq(f->disk[0].data[2 * 36 * 512 + i], 0xe6);
    }
    ck_assert_uint_eq(f->disk[0].data[(2 * 36 + 18) * 512], pattern(90, 0)); /* head 1 untouched */
}
END_TEST

START_TEST(test_write_protected)
{
    uint8_t r[7];
    outb(DSR, 0x00);
    uint8_t sds[2] = {0x04, 0x00};
    command(sds, 2);
    ck_assert_int_eq(result(r, 1), 1);
    ck_assert_uint_eq(r[0], 0x78); /* write protected, track 0 */
    dma_setup(0x4a, 0x40000, 512);
    uint8_t w[9] = {0x45, 0x00, 0, 0, 1, 2, SPT, 0x1b, 0xff};
    command(w, 9);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x40);
    ck_assert_uint_eq(r[1], 0x02); /* not writable */
    uint8_t fmt[6] = {0x4d, 0x00, 2, SPT, 0x54, 0xe6};
    command(fmt, 6);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[1], 0x02);
    ck_assert_int_eq(f->disk[0].writes, 0);
    /* Reads still work. */
    dma_setup(0x46, 0x10000, 512);
    read_data(0, 0, 0, 1, SPT, r);
    ck_assert_uint_eq(r[0], 0x00);
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000 + 7, 1), pattern(0, 7));
}
END_TEST

START_TEST(test_read_id_and_data_rates)
{
    uint8_t r[7];
    uint8_t rid[2] = {0x4a, 0x00};
    command(rid, 2);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x40); /* 250 kb/s: no IDs on a 1.44 MB disk */
    outb(CCR, 0x00);
    seek(0, 3);
    for (int i = 0; i < SPT + 1; i++) {
        int rises = f->irq_rises;
        command(rid, 2);
        ck_assert_int_eq(f->irq_rises, rises + 1);
        ck_assert_int_eq(result(r, 7), 7);
        ck_assert_uint_eq(r[0], 0x00);
        ck_assert_uint_eq(r[3], 3);
        ck_assert_uint_eq(r[5], (uint8_t)(i % SPT + 1)); /* the sectors pass by in turn */
        ck_assert_uint_eq(r[6], 2);
    }
}
END_TEST

START_TEST(test_non_dma_read_and_write)
{
    uint8_t r[7];
    outb(DSR, 0x00);
    uint8_t specify[3] = {0x03, 0xdf, 0x03}; /* ND: non-DMA */
    command(specify, 3);
    uint8_t cmd[9] = {0x46, 0x00, 0, 0, SPT - 1, 2, SPT, 0x1b, 0xff};
    command(cmd, 9);
    ck_assert_uint_eq(inb(MSR), 0xf0); /* RQM DIO NDMA CB */
    ck_assert_int_eq(f->irq_level, 1);
    for (int i = 0; i < 1024; i++) {
        ck_assert_uint_eq(inb(MSR) & 0xe0, 0xe0);
        ck_assert_uint_eq(inb(FIFO), pattern(SPT - 2 + i / 512, i % 512));
    }
    /* Past EOT there is no terminal count in non-DMA mode: end of cylinder. */
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x40);
    ck_assert_uint_eq(r[1], 0x80);

    uint8_t w[9] = {0x45, 0x00, 0, 0, SPT, 2, SPT, 0x1b, 0xff};
    command(w, 9);
    ck_assert_uint_eq(inb(MSR), 0xb0); /* RQM NDMA CB, CPU to controller */
    for (int i = 0; i < 512; i++) {
        outb(FIFO, (uint8_t)~i);
    }
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[1], 0x80);
    ck_assert_uint_eq(f->disk[0].data[(SPT - 1) * 512 + 3], (uint8_t)~3);
}
END_TEST

START_TEST(test_dma_waits_for_unmask)
{
    uint8_t r[7];
    outb(DSR, 0x00);
    dma_setup(0x46, 0x10000, 512);
    outb(0x0a, 0x06); /* mask channel 2 again */
    uint8_t cmd[9] = {0x46, 0x00, 0, 0, 3, 2, SPT, 0x1b, 0xff};
    command(cmd, 9);
    ck_assert_uint_eq(inb(MSR), 0x10); /* busy in the execution phase */
    ck_assert_uint_eq(phys_read(&f->pm, 0x10000, 1), 0);
    outb(0x0a, 0x02); /* unmask: the transfer runs */
    ck_assert_uint_eq(inb(MSR), 0xd0);
    ck_assert_int_eq(result(r, 7), 7);
    ck_assert_uint_eq(r[0], 0x00);
    ck_assert_uint_eq(phys_read(&f->pm, 0x10001, 1), pattern(2, 1));
    /* A reset in the execution phase ends the command. */
    dma_setup(0x46, 0x10000, 512);
    outb(0x0a, 0x06);
    command(cmd, 9);
    outb(DOR, 0x08);
    outb(DOR, 0x0c);
    ck_assert_uint_eq(inb(MSR), 0x80);
    outb(0x0a, 0x02);
    ck_assert_uint_eq(inb(MSR), 0x80);
}
END_TEST

/* Drive 1 with a 720 KiB disk (9 sectors, 250 kb/s), then a 2.88 MB one
 * (36 sectors, 1 Mb/s): each reads only at its own rate. */
START_TEST(test_other_formats)
{
    static const struct {
        uint32_t bytes;
        uint8_t spt, rate, cmos;
    } fmts[2] = {{737280, 9, 2, FDC_CMOS_144M}, {2949120, 36, 3, FDC_CMOS_288M}};
    for (int i = 0; i < 2; i++) {
        FDCState *fdc2 = f->fdc;
        if (i == 1) {
            /* A fresh controller: a drive stays attached for the machine's life. */
            fdc_free(f->fdc);
            free(f->disk[1].data);
            f->fdc = fdc2 = fdc_new(&f->io, FDC_BASE, irq_make(irq_cb, NULL, 6), f->dma, 2);
        }
        BlockDev b = mem_blockdev(&f->disk[1], fmts[i].bytes, false);
        ck_assert(fdc_attach(fdc2, 1, &b));
        ck_assert_int_eq(fdc_cmos_type(fdc2, 1), fmts[i].cmos);
        uint8_t r[7];
        outb(CCR, (uint8_t)(fmts[i].rate ^ 1)); /* a wrong rate: no address marks */
        uint8_t cmd[9] = {0x46, 0x05, 0, 1, fmts[i].spt, 2, fmts[i].spt, 0x1b, 0xff};
        dma_setup(0x46, 0x10000, 512);
        command(cmd, 9);
        ck_assert_int_eq(result(r, 7), 7);
        ck_assert_uint_eq(r[1], 0x01);
        outb(CCR, fmts[i].rate);
        command(cmd, 9);
        ck_assert_int_eq(result(r, 7), 7);
        ck_assert_uint_eq(r[0], 0x05);
        ck_assert_uint_eq(r[1], 0x00);
        /* C 0, H 1, R = last sector: LBA 2 * spt - 1. */
        ck_assert_uint_eq(phys_read(&f->pm, 0x10000 + 9, 1), pattern(2u * fmts[i].spt - 1, 9));
        /* Sector spt + 1 is not on the track. */
        cmd[4] = (uint8_t)(fmts[i].spt + 1);
        cmd[6] = cmd[4];
        command(cmd, 9);
        ck_assert_int_eq(result(r, 7), 7);
        ck_assert_uint_eq(r[1], 0x04);
    }
}
END_TEST

/*
 * VENOM (CVE-2015-3456) fed command bytes past the FIFO.  Here every kind
 * of overrun: endless command bytes of every value, writes in the result
 * and execution phases, reads past the result, and non-DMA data past the
 * sector.  The controller must stay in a defined state and still answer.
 */
START_TEST(test_fifo_overrun)
{
    uint8_t r[10];
    for (int v = 0; v < 256; v++) {
        for (int i = 0; i < 2048; i++) {
            outb(FIFO, (uint8_t)v);
            if (inb(MSR) & 0x40) {
                (void)inb(FIFO);
            }
        }
        ck_assert(inb(MSR) == 0x80 || (inb(MSR) & 0x10));
        outb(DSR, 0x80); /* software reset */
    }
    /* Writes in the result phase are dropped; reads past it give 0. */
    uint8_t dumpreg = 0x0e;
    outb(DOR, 0x0c);
    command(&dumpreg, 1);
    for (int i = 0; i < 10000; i++) {
        outb(FIFO, 0x8e);
    }
    ck_assert_int_eq(result(r, 10), 10);
    for (int i = 0; i < 10000; i++) {
        ck_assert_uint_eq(inb(FIFO), 0);
    }
    /* Non-DMA write: bytes past the last sector (EOT) go nowhere. */
    outb(DSR, 0x00);
    uint8_t specify[3] = {0x03, 0xdf, 0x03};
    command(specify, 3);
    uint8_t w[9] = {0x45, 0x00, 0, 0, SPT, 2, SPT, 0x1b, 0xff};
    command(w, 9);
    for (int i = 0; i < 100000; i++) {
        outb(FIFO, 0x41);
    }
    ck_assert_int_eq(result(r, 10), 7);
    ck_assert_int_eq(f->disk[0].writes, 1);
    uint8_t version = 0x10;
    command(&version, 1);
    ck_assert_int_eq(result(r, 10), 1);
    ck_assert_uint_eq(r[0], 0x90);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fdc");
    TCase *tc = tcase_create("fdc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_power_on_registers);
    tcase_add_test(tc, test_reset_polling_interrupts);
    tcase_add_test(tc, test_simple_commands);
    tcase_add_test(tc, test_seek_recalibrate_sense_drive);
    tcase_add_test(tc, test_read_dma);
    tcase_add_test(tc, test_read_errors);
    tcase_add_test(tc, test_write_and_format_dma);
    tcase_add_test(tc, test_read_id_and_data_rates);
    tcase_add_test(tc, test_non_dma_read_and_write);
    tcase_add_test(tc, test_dma_waits_for_unmask);
    tcase_add_test(tc, test_fifo_overrun);
    tcase_add_test(tc, test_other_formats);
    suite_add_tcase(s, tc);
    TCase *wp = tcase_create("write_protected");
    tcase_add_checked_fixture(wp, setup_wp, teardown);
    tcase_add_test(wp, test_write_protected);
    suite_add_tcase(s, wp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
