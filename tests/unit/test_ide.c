/*
 * The PIIX3 IDE function with ATA disks and an ATAPI CD-ROM, driven
 * through I/O ports only (no CPU), over real image files opened with
 * block/drive.c.  Expected values come from ATA/ATAPI-6 (register
 * protocol, signatures, IDENTIFY words), SFF-8038i (bus-master DMA) and
 * SPC-3/MMC-3 (packet commands and sense data).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/drive.h"
#include "hw/ide/ide.h"
#include "hw/ide/piix_ide.h"

#define PRI          0x1f0
#define PRI_CTL      0x3f6
#define SEC          0x170
#define SEC_CTL      0x376
#define BMIBA        0xc000
#define DISK_SECTORS 2048u
#define CD_SECTORS   64u

typedef struct Fixture {
    IOPortMap io;
    PhysMem pm;
    PCIBus *pci;
    PIIXIDEState *ide;
    Drive disk, cd;
    char disk_path[64], cd_path[64], cd2_path[64];
    int level[2]; /* IRQ 14, 15 */
    int rises[2];
} Fixture;

static Fixture *f;

static void irq_cb(void *opaque, int n, int level)
{
    if (level && !f->level[n]) {
        f->rises[n]++;
    }
    f->level[n] = level;
}

static void outb(uint16_t port, uint8_t v)
{
    ioport_write(&f->io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)ioport_read(&f->io, port, 1);
}

/* A file of n sectors of size bytes each, byte i of sector s = s * 7 + i. */
static void make_image(char *path, const char *tag, uint32_t n, uint32_t size)
{
    snprintf(path, 64, "/tmp/popek-test-%s-%d.img", tag, (int)getpid());
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    uint8_t *buf = malloc(size);
    for (uint32_t s = 0; s < n; s++) {
        for (uint32_t i = 0; i < size; i++) {
            buf[i] = (uint8_t)(s * 7 + i + (tag[0] == 'x' ? 0x55 : 0));
        }
        fwrite(buf, 1, size, fp);
    }
    free(buf);
    fclose(fp);
}

static void pci_write(int reg, uint32_t v, int size)
{
    ioport_write(&f->io, 0xcf8, 0x80000000u | (PIIX3_IDE_DEVFN << 8) | (reg & 0xfc), 4);
    ioport_write(&f->io, 0xcfc + (reg & 3), v, size);
}

static void setup(void)
{
    char err[256];
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    ck_assert(phys_init(&f->pm, 1u << 20));
    f->pci = pci_bus_new(&f->io);
    f->ide =
        piix_ide_new(f->pci, &f->io, &f->pm, irq_make(irq_cb, NULL, 0), irq_make(irq_cb, NULL, 1));
    make_image(f->disk_path, "disk", DISK_SECTORS, 512);
    make_image(f->cd_path, "cd", CD_SECTORS, 2048);
    ck_assert_msg(drive_open(&f->disk, f->disk_path, false, false, err, sizeof(err)), "%s", err);
    ck_assert_msg(drive_open(&f->cd, f->cd_path, true, false, err, sizeof(err)), "%s", err);
    ck_assert(ide_attach_disk(piix_ide_bus(f->ide, 0), 0, &f->disk.blk));
    ck_assert(ide_attach_cdrom(piix_ide_bus(f->ide, 1), 0, &f->cd.blk));
    /* The BIOS's part: BAR4 at BMIBA, I/O and bus mastering on. */
    pci_write(0x20, BMIBA, 4);
    pci_write(0x04, 0x0005, 2);
}

static void teardown(void)
{
    piix_ide_free(f->ide);
    pci_bus_free(f->pci);
    drive_close(&f->disk);
    drive_close(&f->cd);
    unlink(f->disk_path);
    unlink(f->cd_path);
    if (f->cd2_path[0]) {
        unlink(f->cd2_path);
    }
    phys_destroy(&f->pm);
    free(f);
}

static void read_words(uint16_t base, uint16_t *w, int n)
{
    for (int i = 0; i < n; i++) {
        w[i] = (uint16_t)ioport_read(&f->io, base, 2);
    }
}

/* LBA28 task file for the primary master and a command. */
static void ata_cmd28(uint8_t cmd, uint32_t lba, uint8_t count)
{
    outb(PRI + 6, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
    outb(PRI + 2, count);
    outb(PRI + 3, (uint8_t)lba);
    outb(PRI + 4, (uint8_t)(lba >> 8));
    outb(PRI + 5, (uint8_t)(lba >> 16));
    outb(PRI + 7, cmd);
}

static void ata_cmd48(uint8_t cmd, uint64_t lba, uint16_t count)
{
    outb(PRI + 6, 0x40);
    outb(PRI + 2, (uint8_t)(count >> 8));
    outb(PRI + 3, (uint8_t)(lba >> 24));
    outb(PRI + 4, (uint8_t)(lba >> 32));
    outb(PRI + 5, (uint8_t)(lba >> 40));
    outb(PRI + 2, (uint8_t)count);
    outb(PRI + 3, (uint8_t)lba);
    outb(PRI + 4, (uint8_t)(lba >> 8));
    outb(PRI + 5, (uint8_t)(lba >> 16));
    outb(PRI + 7, cmd);
}

static uint8_t expected_byte(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 7 + i);
}

START_TEST(test_identify)
{
    uint16_t id[256];
    outb(PRI + 6, 0xa0);
    outb(PRI + 7, 0xec);
    ck_assert_int_eq(f->level[0], 1);
    /* DRDY, DSC, DRQ; alternate status does not acknowledge the IRQ. */
    ck_assert_uint_eq(inb(PRI_CTL), 0x58);
    ck_assert_int_eq(f->level[0], 1);
    ck_assert_uint_eq(inb(PRI + 7), 0x58);
    ck_assert_int_eq(f->level[0], 0);
    read_words(PRI, id, 256);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    ck_assert_uint_eq(id[0], 0x0040);           /* fixed ATA device */
    ck_assert_uint_eq(id[49] & 0x0300, 0x0300); /* LBA and DMA */
    ck_assert_uint_eq(id[60] | (id[61] << 16), DISK_SECTORS);
    ck_assert_uint_eq(id[83] & (1 << 10), 1 << 10); /* 48-bit feature set */
    ck_assert_uint_eq(id[100], DISK_SECTORS);
    ck_assert_uint_eq(id[3], 16);
    ck_assert_uint_eq(id[6], 63);
    /* Strings: first character in the high byte of each word. */
    ck_assert_uint_eq(id[27], ('P' << 8) | 'O');
    ck_assert_uint_eq(id[28], ('P' << 8) | 'E');
}
END_TEST

START_TEST(test_signatures_and_absent_device)
{
    outb(PRI_CTL, 0x04); /* SRST */
    ck_assert_uint_eq(inb(PRI_CTL) & 0x80, 0x80);
    outb(PRI_CTL, 0x00);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    ck_assert_uint_eq(inb(PRI + 1), 0x01); /* diagnostic code: passed */
    ck_assert_uint_eq(inb(PRI + 2), 0x01);
    ck_assert_uint_eq(inb(PRI + 3), 0x01);
    ck_assert_uint_eq(inb(PRI + 4), 0x00);
    ck_assert_uint_eq(inb(PRI + 5), 0x00);
    /* No device 1: its registers and status read zero, patterns do not stick. */
    outb(PRI + 6, 0xb0);
    outb(PRI + 2, 0x55);
    ck_assert_uint_eq(inb(PRI + 2), 0x00);
    ck_assert_uint_eq(inb(PRI + 7), 0x00);
    /* Device 0 latched the same write (both devices see task file writes). */
    outb(PRI + 6, 0xa0);
    ck_assert_uint_eq(inb(PRI + 2), 0x55);
    /* ATAPI signature on the secondary master. */
    outb(SEC_CTL, 0x04);
    outb(SEC_CTL, 0x00);
    ck_assert_uint_eq(inb(SEC + 4), 0x14);
    ck_assert_uint_eq(inb(SEC + 5), 0xeb);
    ck_assert_uint_eq(inb(SEC + 7), 0x00);
}
END_TEST

START_TEST(test_pio_write_read_round_trip)
{
    uint16_t w[512];
    int rises = f->rises[0];
    ata_cmd28(0x30, 5, 2); /* WRITE SECTORS */
    ck_assert_uint_eq(inb(PRI_CTL), 0x58);
    ck_assert_int_eq(f->rises[0], rises); /* no interrupt before the first block */
    for (int i = 0; i < 512; i++) {
        ioport_write(&f->io, PRI, 0xa500u + (unsigned)i, 2);
        if (i == 255) {
            /* First block taken: an interrupt, DRQ for the second. */
            ck_assert_int_eq(f->rises[0], rises + 1);
            ck_assert_uint_eq(inb(PRI + 7), 0x58);
        }
    }
    ck_assert_int_eq(f->rises[0], rises + 2); /* one per block written */
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    /* Registers name the last sector written. */
    ck_assert_uint_eq(inb(PRI + 3), 6);
    /* The data reached the file. */
    uint8_t file[1024];
    FILE *fp = fopen(f->disk_path, "rb");
    fseek(fp, 5 * 512, SEEK_SET);
    ck_assert_uint_eq(fread(file, 1, sizeof(file), fp), sizeof(file));
    fclose(fp);
    ck_assert_uint_eq(file[0], 0x00);
    ck_assert_uint_eq(file[1], 0xa5);
    ck_assert_uint_eq(file[1022], 0xff);
    ck_assert_uint_eq(file[1023], 0xa6);
    /* Read back with READ SECTORS, 32-bit accesses, then 16-bit. */
    ata_cmd28(0x20, 5, 2);
    ck_assert_uint_eq(inb(PRI + 7), 0x58);
    for (int i = 0; i < 128; i++) {
        uint32_t v = ioport_read(&f->io, PRI, 4);
        w[2 * i] = (uint16_t)v;
        w[2 * i + 1] = (uint16_t)(v >> 16);
    }
    ck_assert_uint_eq(inb(PRI + 7), 0x58); /* second block ready */
    read_words(PRI, w + 256, 256);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    for (int i = 0; i < 512; i++) {
        ck_assert_uint_eq(w[i], 0xa500u + (unsigned)i);
    }
}
END_TEST

START_TEST(test_read_multiple_and_chs)
{
    uint8_t buf[8 * 512];
    int rises = f->rises[0];
    outb(PRI + 6, 0xa0);
    outb(PRI + 2, 4);
    outb(PRI + 7, 0xc6); /* SET MULTIPLE MODE 4 */
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    rises = f->rises[0];
    ata_cmd28(0xc4, 100, 8); /* READ MULTIPLE */
    for (int i = 0; i < 8 * 256; i++) {
        if (i % (4 * 256) == 0) {
            ck_assert_uint_eq(inb(PRI + 7), 0x58); /* acknowledge each block */
        }
        uint16_t v = (uint16_t)ioport_read(&f->io, PRI, 2);
        buf[2 * i] = (uint8_t)v;
        buf[2 * i + 1] = (uint8_t)(v >> 8);
    }
    ck_assert_int_eq(f->rises[0], rises + 2); /* one per block of 4 */
    for (uint32_t s = 0; s < 8; s++) {
        ck_assert_uint_eq(buf[s * 512 + 3], expected_byte(100 + s, 3));
    }
    /* An invalid multiple count aborts. */
    outb(PRI + 2, 3);
    outb(PRI + 7, 0xc6);
    ck_assert_uint_eq(inb(PRI + 7), 0x41);
    ck_assert_uint_eq(inb(PRI + 1), 0x04);
    /* CHS cylinder 1, head 2, sector 5 with the 16/63 geometry. */
    outb(PRI + 6, 0xa2);
    outb(PRI + 2, 1);
    outb(PRI + 3, 5);
    outb(PRI + 4, 1);
    outb(PRI + 5, 0);
    outb(PRI + 7, 0x20);
    uint16_t w = (uint16_t)ioport_read(&f->io, PRI, 2);
    uint32_t lba = (1 * 16 + 2) * 63 + 5 - 1;
    ck_assert_uint_eq(w & 0xff, expected_byte(lba, 0));
    ck_assert_uint_eq(w >> 8, expected_byte(lba, 1));
}
END_TEST

START_TEST(test_lba48)
{
    char err[256];
    char path[64];
    uint64_t sectors = (1ull << 28) + 64; /* past what LBA28 can reach */
    Drive big;
    snprintf(path, sizeof(path), "/tmp/popek-test-big-%d.img", (int)getpid());
    FILE *fp = fopen(path, "wb");
    ck_assert_int_eq(ftruncate(fileno(fp), (off_t)(sectors * 512)), 0);
    fclose(fp);
    ck_assert_msg(drive_open(&big, path, false, false, err, sizeof(err)), "%s", err);
    ck_assert(ide_attach_disk(piix_ide_bus(f->ide, 0), 1, &big.blk));

    uint16_t id[256];
    outb(PRI + 6, 0xb0);
    outb(PRI + 7, 0xec);
    read_words(PRI, id, 256);
    ck_assert_uint_eq(id[60] | (id[61] << 16), 0x0fffffffu); /* LBA28 capacity saturates */
    ck_assert_uint_eq(id[100] | ((uint32_t)id[101] << 16), (uint32_t)sectors);
    ck_assert_uint_eq(id[102], 0);

    uint64_t lba = (1ull << 28) + 3;
    outb(PRI + 6, 0x50);
    outb(PRI + 2, 0);
    outb(PRI + 3, (uint8_t)(lba >> 24));
    outb(PRI + 4, 0);
    outb(PRI + 5, 0);
    outb(PRI + 2, 1);
    outb(PRI + 3, (uint8_t)lba);
    outb(PRI + 4, (uint8_t)(lba >> 8));
    outb(PRI + 5, (uint8_t)(lba >> 16));
    outb(PRI + 7, 0x34); /* WRITE SECTORS EXT */
    for (int i = 0; i < 256; i++) {
        ioport_write(&f->io, PRI, 0x1234, 2);
    }
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    /* HOB: the high-order LBA byte written first reads back. */
    outb(PRI_CTL, 0x80);
    ck_assert_uint_eq(inb(PRI + 3), (uint8_t)(lba >> 24));
    outb(PRI_CTL, 0x00);
    ck_assert_uint_eq(inb(PRI + 3), (uint8_t)lba);
    /* Read it back through READ SECTORS EXT on device 1. */
    outb(PRI + 6, 0x50);
    outb(PRI + 2, 0);
    outb(PRI + 3, (uint8_t)(lba >> 24));
    outb(PRI + 4, 0);
    outb(PRI + 5, 0);
    outb(PRI + 2, 1);
    outb(PRI + 3, (uint8_t)lba);
    outb(PRI + 4, (uint8_t)(lba >> 8));
    outb(PRI + 5, (uint8_t)(lba >> 16));
    outb(PRI + 7, 0x24);
    ck_assert_uint_eq(inb(PRI + 7), 0x58);
    ck_assert_uint_eq(ioport_read(&f->io, PRI, 2), 0x1234);
    drive_close(&big);
    unlink(path);
}
END_TEST

START_TEST(test_error_paths)
{
    /* Past the end of the disk: ERR with IDNF. */
    ata_cmd28(0x20, DISK_SECTORS - 1, 2);
    ck_assert_uint_eq(inb(PRI + 7), 0x41);
    ck_assert_uint_eq(inb(PRI + 1), 0x10);
    /* LBA48 command past the end too. */
    ata_cmd48(0x24, DISK_SECTORS, 1);
    ck_assert_uint_eq(inb(PRI + 7), 0x41);
    ck_assert_uint_eq(inb(PRI + 1), 0x10);
    /* An unknown opcode aborts, with an interrupt. */
    int rises = f->rises[0];
    ata_cmd28(0xfe, 0, 1);
    ck_assert_int_eq(f->rises[0], rises + 1);
    ck_assert_uint_eq(inb(PRI + 7), 0x41);
    ck_assert_uint_eq(inb(PRI + 1), 0x04);
    /* IDENTIFY PACKET DEVICE is not for an ATA disk. */
    outb(PRI + 7, 0xa1);
    ck_assert_uint_eq(inb(PRI + 7), 0x41);
    /* A CHS sector number of 0 does not exist. */
    outb(PRI + 6, 0xa0);
    outb(PRI + 3, 0);
    outb(PRI + 7, 0x20);
    ck_assert_uint_eq(inb(PRI + 1), 0x10);
    /* The next good command clears ERR. */
    outb(PRI + 7, 0xe7); /* FLUSH CACHE */
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
}
END_TEST

START_TEST(test_nien_masks_intrq)
{
    outb(PRI_CTL, 0x02);
    outb(PRI + 6, 0xa0);
    outb(PRI + 7, 0xec);
    ck_assert_int_eq(f->level[0], 0);
    outb(PRI_CTL, 0x00); /* the pending interrupt shows once unmasked */
    ck_assert_int_eq(f->level[0], 1);
    inb(PRI + 7);
    ck_assert_int_eq(f->level[0], 0);
}
END_TEST

/* A PRD table at 0x1000: entries (addr, bytes), the last with EOT. */
static void set_prd(const uint32_t *addr, const uint32_t *len, int n)
{
    for (int i = 0; i < n; i++) {
        phys_write(&f->pm, 0x1000 + 8 * i, addr[i], 4);
        phys_write(&f->pm, 0x1004 + 8 * i, (len[i] & 0xffff) | (i == n - 1 ? 0x80000000u : 0), 4);
    }
    ioport_write(&f->io, BMIBA + BM_PRDT, 0x1000, 4);
}

START_TEST(test_dma_read_and_write)
{
    const uint32_t addr[2] = {0x10000, 0x20000}, len[2] = {512, 1024};
    uint8_t buf[1024];
    set_prd(addr, len, 2);
    outb(BMIBA + BM_CMD, BM_CMD_TO_MEMORY);
    ata_cmd28(0xc8, 40, 3); /* READ DMA: waits for the engine */
    ck_assert_uint_eq(inb(PRI_CTL) & 0x08, 0x08);
    ck_assert_int_eq(f->level[0], 0);
    outb(BMIBA + BM_CMD, BM_CMD_TO_MEMORY | BM_CMD_START);
    /* Done: engine idle (the table ended with the transfer), interrupt latched. */
    ck_assert_uint_eq(inb(BMIBA + BM_STATUS) & 7, BM_STATUS_INTR);
    ck_assert_int_eq(f->level[0], 1);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    phys_read_buf(&f->pm, 0x10000, buf, 512);
    ck_assert_uint_eq(buf[9], expected_byte(40, 9));
    phys_read_buf(&f->pm, 0x20000, buf, 1024);
    ck_assert_uint_eq(buf[0], expected_byte(41, 0));
    ck_assert_uint_eq(buf[512 + 77], expected_byte(42, 77));
    outb(BMIBA + BM_CMD, 0);
    outb(BMIBA + BM_STATUS, BM_STATUS_INTR); /* write 1 to clear */
    ck_assert_uint_eq(inb(BMIBA + BM_STATUS) & BM_STATUS_INTR, 0);

    /* WRITE DMA from memory, engine started first this time. */
    memset(buf, 0xc3, sizeof(buf));
    phys_write_buf(&f->pm, 0x10000, buf, 512);
    phys_write_buf(&f->pm, 0x20000, buf, 1024);
    set_prd(addr, len, 2);
    outb(BMIBA + BM_CMD, BM_CMD_START);
    ata_cmd28(0xca, 7, 3);
    ck_assert_uint_eq(inb(BMIBA + BM_STATUS) & 7, BM_STATUS_INTR);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
    outb(BMIBA + BM_CMD, 0);
    ata_cmd28(0x20, 9, 1);
    ck_assert_uint_eq(ioport_read(&f->io, PRI, 2), 0xc3c3);
}
END_TEST

START_TEST(test_dma_prd_too_short)
{
    const uint32_t addr[1] = {0x10000}, len[1] = {512};
    set_prd(addr, len, 1);
    outb(BMIBA + BM_CMD, BM_CMD_TO_MEMORY | BM_CMD_START);
    ata_cmd28(0xc8, 0, 2); /* two sectors, room for one */
    ck_assert_uint_eq(inb(BMIBA + BM_STATUS) & BM_STATUS_ERROR, BM_STATUS_ERROR);
    ck_assert_uint_eq(inb(PRI + 7) & 0x01, 0x01);
    /* A longer table than the transfer keeps the engine active. */
    const uint32_t addr2[2] = {0x10000, 0x20000}, len2[2] = {512, 512};
    outb(BMIBA + BM_CMD, 0);
    outb(BMIBA + BM_STATUS, BM_STATUS_ERROR | BM_STATUS_INTR);
    set_prd(addr2, len2, 2);
    outb(BMIBA + BM_CMD, BM_CMD_TO_MEMORY | BM_CMD_START);
    ata_cmd28(0xc8, 0, 1);
    ck_assert_uint_eq(inb(BMIBA + BM_STATUS) & 7, BM_STATUS_INTR | BM_STATUS_ACTIVE);
    ck_assert_uint_eq(inb(PRI + 7), 0x50);
}
END_TEST

/* ---- ATAPI ---- */

/* Send a 12-byte packet to the secondary master; limit = byte count. */
static void packet(const uint8_t *cdb, uint16_t limit, bool dma)
{
    outb(SEC + 6, 0xa0);
    outb(SEC + 1, dma ? 1 : 0);
    outb(SEC + 4, (uint8_t)limit);
    outb(SEC + 5, (uint8_t)(limit >> 8));
    outb(SEC + 7, 0xa0);
    /* DRQ with reason CoD, no interrupt yet. */
    ck_assert_uint_eq(inb(SEC_CTL) & 0x89, 0x08);
    ck_assert_uint_eq(inb(SEC + 2) & 3, ATAPI_REASON_COD);
    for (int i = 0; i < 12; i += 2) {
        ioport_write(&f->io, SEC, cdb[i] | (cdb[i + 1] << 8), 2);
    }
}

/* Read one DRQ data block into out; returns its byte count. */
static uint32_t data_block(uint8_t *out)
{
    ck_assert_uint_eq(inb(SEC + 7) & 0x89, 0x08);
    ck_assert_uint_eq(inb(SEC + 2) & 3, ATAPI_REASON_IO);
    uint32_t n = inb(SEC + 4) | (inb(SEC + 5) << 8);
    for (uint32_t i = 0; i < n; i += 2) {
        uint16_t w = (uint16_t)ioport_read(&f->io, SEC, 2);
        out[i] = (uint8_t)w;
        out[i + 1] = (uint8_t)(w >> 8);
    }
    return n;
}

/* Completion: reason IO|CoD, DRQ clear; returns the status. */
static uint8_t completion(void)
{
    uint8_t st = inb(SEC + 7);
    ck_assert_uint_eq(st & 0x88, 0);
    ck_assert_uint_eq(inb(SEC + 2) & 3, ATAPI_REASON_IO | ATAPI_REASON_COD);
    return st;
}

static void expect_sense(uint8_t key, uint8_t asc)
{
    uint8_t cdb[12] = {0x03, 0, 0, 0, 18};
    uint8_t sense[18];
    packet(cdb, 18, false);
    ck_assert_uint_eq(data_block(sense), 18);
    ck_assert_uint_eq(completion() & 1, 0);
    ck_assert_uint_eq(sense[0], 0x70);
    ck_assert_uint_eq(sense[2] & 0x0f, key);
    ck_assert_uint_eq(sense[12], asc);
}

static void test_unit_ready_expect(uint8_t key, uint8_t asc)
{
    uint8_t cdb[12] = {0x00};
    packet(cdb, 0, false);
    uint8_t st = completion();
    if (key == 0) {
        ck_assert_uint_eq(st & 1, 0);
        return;
    }
    ck_assert_uint_eq(st & 1, 1);
    ck_assert_uint_eq(inb(SEC + 1) >> 4, key); /* sense key in the error register */
    expect_sense(key, asc);
}

START_TEST(test_atapi_identify_and_inquiry)
{
    uint16_t id[256];
    uint8_t inq[36];
    outb(SEC + 6, 0xa0);
    outb(SEC + 7, 0xec); /* IDENTIFY DEVICE aborts, leaving the signature */
    ck_assert_uint_eq(inb(SEC + 7) & 1, 1);
    ck_assert_uint_eq(inb(SEC + 4), 0x14);
    ck_assert_uint_eq(inb(SEC + 5), 0xeb);
    outb(SEC + 7, 0xa1);
    ck_assert_uint_eq(inb(SEC + 7), 0x58);
    read_words(SEC, id, 256);
    ck_assert_uint_eq(id[0] >> 14, 2);         /* ATAPI */
    ck_assert_uint_eq((id[0] >> 8) & 0x1f, 5); /* CD-ROM */
    ck_assert_uint_eq(id[0] & 3, 0);           /* 12-byte packets */
    uint8_t cdb[12] = {0x12, 0, 0, 0, 36};
    packet(cdb, 36, false);
    ck_assert_uint_eq(data_block(inq), 36);
    completion();
    ck_assert_uint_eq(inq[0] & 0x1f, 5);
    ck_assert_uint_eq(inq[1], 0x80); /* removable */
}
END_TEST

START_TEST(test_atapi_capacity_and_read)
{
    uint8_t buf[4096];
    /* The first TUR after power-on reports UNIT ATTENTION, then ready. */
    test_unit_ready_expect(6, 0x29);
    test_unit_ready_expect(0, 0);
    uint8_t cap[12] = {0x25};
    packet(cap, 8, false);
    ck_assert_uint_eq(data_block(buf), 8);
    completion();
    ck_assert_uint_eq((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3], CD_SECTORS - 1);
    ck_assert_uint_eq((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7], 2048);
    /* READ(10) of sectors 2-3 with a 2048-byte limit: two blocks, an
     * interrupt for each, and one for completion. */
    int rises = f->rises[1];
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, 2, 0, 0, 2};
    packet(rd, 2048, false);
    ck_assert_uint_eq(data_block(buf), 2048);
    ck_assert_uint_eq(data_block(buf + 2048), 2048);
    completion();
    ck_assert_int_eq(f->rises[1], rises + 3);
    ck_assert_uint_eq(buf[100], (uint8_t)(2 * 7 + 100));
    ck_assert_uint_eq(buf[2048 + 5], (uint8_t)(3 * 7 + 5));
    /* READ(12) past the end: ILLEGAL REQUEST, LBA out of range. */
    uint8_t rd12[12] = {0xa8, 0, 0, 0, 0, CD_SECTORS - 1, 0, 0, 0, 2};
    packet(rd12, 2048, false);
    ck_assert_uint_eq(completion() & 1, 1);
    expect_sense(5, 0x21);
    /* READ TOC format 0: track 1 at 0, lead-out at the capacity. */
    uint8_t toc[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100};
    packet(toc, 100, false);
    uint32_t n = data_block(buf);
    completion();
    ck_assert_uint_eq(n, 20);
    ck_assert_uint_eq((buf[0] << 8) | buf[1], 18);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(buf[14], 0xaa);
    ck_assert_uint_eq(buf[19], CD_SECTORS);
}
END_TEST

START_TEST(test_atapi_dma_read)
{
    uint8_t buf[2048];
    test_unit_ready_expect(6, 0x29);
    const uint32_t addr[1] = {0x30000}, len[1] = {4096};
    phys_write(&f->pm, 0x1000, addr[0], 4);
    phys_write(&f->pm, 0x1004, len[0] | 0x80000000u, 4);
    ioport_write(&f->io, BMIBA + 8 + BM_PRDT, 0x1000, 4);
    outb(BMIBA + 8 + BM_CMD, BM_CMD_TO_MEMORY | BM_CMD_START);
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, 5, 0, 0, 2};
    packet(rd, 0, true);
    completion();
    ck_assert_uint_eq(inb(BMIBA + 8 + BM_STATUS) & 7, BM_STATUS_INTR);
    phys_read_buf(&f->pm, 0x30000 + 2048, buf, sizeof(buf));
    ck_assert_uint_eq(buf[33], (uint8_t)(6 * 7 + 33));
}
END_TEST

START_TEST(test_atapi_media_change)
{
    char err[256];
    uint8_t buf[64];
    Drive cd2;
    test_unit_ready_expect(6, 0x29);
    /* Take the disc out: NOT READY, medium not present. */
    ide_cdrom_change(piix_ide_bus(f->ide, 1), 0, NULL);
    test_unit_ready_expect(6, 0x28);
    uint8_t cap[12] = {0x25};
    packet(cap, 8, false);
    ck_assert_uint_eq(completion() & 1, 1);
    expect_sense(2, 0x3a);
    /* A new disc: UNIT ATTENTION (medium changed) once, then its capacity. */
    make_image(f->cd2_path, "xcd", 16, 2048);
    ck_assert_msg(drive_open(&cd2, f->cd2_path, true, false, err, sizeof(err)), "%s", err);
    ide_cdrom_change(piix_ide_bus(f->ide, 1), 0, &cd2.blk);
    /* GET EVENT STATUS NOTIFICATION is exempt from the unit attention. */
    uint8_t gesn[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    packet(gesn, 8, false);
    ck_assert_uint_eq(data_block(buf), 8);
    completion();
    ck_assert_uint_eq(buf[2] & 7, 4); /* media class */
    ck_assert_uint_eq(buf[4], 2);     /* new media */
    ck_assert_uint_eq(buf[5], 2);     /* media present */
    packet(cap, 8, false);
    ck_assert_uint_eq(completion() & 1, 1);
    expect_sense(6, 0x28);
    packet(cap, 8, false);
    ck_assert_uint_eq(data_block(buf), 8);
    completion();
    ck_assert_uint_eq(buf[3], 15);
    drive_close(&cd2);
}
END_TEST

START_TEST(test_atapi_unknown_and_mode_sense)
{
    uint8_t buf[64];
    test_unit_ready_expect(6, 0x29);
    uint8_t bad[12] = {0xff};
    packet(bad, 0, false);
    ck_assert_uint_eq(completion() & 1, 1);
    expect_sense(5, 0x20);
    /* MODE SENSE(10), capabilities page 2Ah. */
    uint8_t ms[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
    packet(ms, 64, false);
    uint32_t n = data_block(buf);
    completion();
    ck_assert_uint_eq(n, 8 + 22);
    ck_assert_uint_eq(buf[8] & 0x3f, 0x2a);
    ck_assert_uint_eq((buf[0] << 8) | buf[1], n - 2);
    /* GET CONFIGURATION: current profile CD-ROM (0008h). */
    uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 64};
    packet(gc, 64, false);
    data_block(buf);
    completion();
    ck_assert_uint_eq((buf[6] << 8) | buf[7], 0x0008);
}
END_TEST

static Suite *ide_suite(void)
{
    Suite *s = suite_create("ide");
    TCase *ata = tcase_create("ata");
    tcase_add_checked_fixture(ata, setup, teardown);
    tcase_add_test(ata, test_identify);
    tcase_add_test(ata, test_signatures_and_absent_device);
    tcase_add_test(ata, test_pio_write_read_round_trip);
    tcase_add_test(ata, test_read_multiple_and_chs);
    tcase_add_test(ata, test_lba48);
    tcase_add_test(ata, test_error_paths);
    tcase_add_test(ata, test_nien_masks_intrq);
    tcase_add_test(ata, test_dma_read_and_write);
    tcase_add_test(ata, test_dma_prd_too_short);
    suite_add_tcase(s, ata);
    TCase *atapi = tcase_create("atapi");
    tcase_add_checked_fixture(atapi, setup, teardown);
    tcase_add_test(atapi, test_atapi_identify_and_inquiry);
    tcase_add_test(atapi, test_atapi_capacity_and_read);
    tcase_add_test(atapi, test_atapi_dma_read);
    tcase_add_test(atapi, test_atapi_media_change);
    tcase_add_test(atapi, test_atapi_unknown_and_mode_sense);
    suite_add_tcase(s, atapi);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ide_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
