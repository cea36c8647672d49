/*
 * State shared by the ATA (ide.c) and ATAPI (ide_atapi.c) halves of the
 * IDE chip model.  Not for use outside hw/ide*.c.
 */
#ifndef HW_IDE_IDE_INTERNAL_H
#define HW_IDE_IDE_INTERNAL_H

#include "hw/ide/ide.h"

#define IDE_SECTOR       512
#define CD_SECTOR        2048
#define IDE_BUF_SIZE     (128 * 1024) /* a multiple of CD_SECTOR, >= 65534 */
#define IDE_MAX_MULT     16           /* READ/WRITE MULTIPLE block limit */
#define ATAPI_PACKET_LEN 12

typedef enum { IDE_NONE, IDE_DISK, IDE_CD } IDEKind;

/* Status after a command completes without a data phase. */
#define IDE_STATUS_READY (IDE_STATUS_DRDY | IDE_STATUS_DSC)

/* ATA command opcodes (ATA-6 clause 8). */
enum {
    ATA_NOP = 0x00,
    ATA_DEVICE_RESET = 0x08,
    ATA_RECALIBRATE = 0x10, /* 0x10-0x1F */
    ATA_READ_SECTORS = 0x20,
    ATA_READ_SECTORS_NORETRY = 0x21,
    ATA_READ_SECTORS_EXT = 0x24,
    ATA_READ_DMA_EXT = 0x25,
    ATA_READ_MULTIPLE_EXT = 0x29,
    ATA_WRITE_SECTORS = 0x30,
    ATA_WRITE_SECTORS_NORETRY = 0x31,
    ATA_WRITE_SECTORS_EXT = 0x34,
    ATA_WRITE_DMA_EXT = 0x35,
    ATA_WRITE_MULTIPLE_EXT = 0x39,
    ATA_VERIFY = 0x40,
    ATA_VERIFY_NORETRY = 0x41,
    ATA_VERIFY_EXT = 0x42,
    ATA_SEEK = 0x70,
    ATA_DIAGNOSTIC = 0x90,
    ATA_INIT_PARAMS = 0x91,
    ATA_PACKET = 0xa0,
    ATA_IDENTIFY_PACKET = 0xa1,
    ATA_READ_MULTIPLE = 0xc4,
    ATA_WRITE_MULTIPLE = 0xc5,
    ATA_SET_MULTIPLE = 0xc6,
    ATA_READ_DMA = 0xc8,
    ATA_READ_DMA_NORETRY = 0xc9,
    ATA_WRITE_DMA = 0xca,
    ATA_WRITE_DMA_NORETRY = 0xcb,
    ATA_STANDBY_IMMEDIATE = 0xe0,
    ATA_IDLE_IMMEDIATE = 0xe1,
    ATA_STANDBY = 0xe2,
    ATA_IDLE = 0xe3,
    ATA_CHECK_POWER = 0xe5,
    ATA_SLEEP = 0xe6,
    ATA_FLUSH_CACHE = 0xe7,
    ATA_IDENTIFY = 0xec,
    ATA_FLUSH_CACHE_EXT = 0xea,
    ATA_SET_FEATURES = 0xef,
};

typedef struct IDEDevice IDEDevice;
/* Called when the host has moved the whole current PIO data block. */
typedef void (*IDEEndFunc)(IDEDevice *d);
/* Runs a DMA command's data phase once the bus master is active. */
typedef void (*IDEDMAFunc)(IDEDevice *d);

struct IDEDevice {
    IDEBus *bus;
    int unit;
    IDEKind kind;
    BlockDev blk;   /* valid when has_media */
    bool has_media; /* a disk always; a CD drive when a disc is in */

    /* Task file.  The hob_ copies are the previous writes of each
     * register: the high-order bytes of an LBA48 command (ATA-6 6.20). */
    uint8_t feature, hob_feature;
    uint8_t nsector, hob_nsector;
    uint8_t sector, hob_sector;
    uint8_t lcyl, hob_lcyl;
    uint8_t hcyl, hob_hcyl;
    uint8_t select; /* device/head register */
    uint8_t status;
    uint8_t error;
    bool intrq; /* this device asserts INTRQ (until status is read) */

    /* ATA geometry and settings. */
    uint32_t cylinders, heads, sectors; /* default CHS translation */
    uint32_t cur_heads, cur_sectors;    /* INITIALIZE DEVICE PARAMETERS */
    int mult_sectors;                   /* READ/WRITE MULTIPLE block, 0 = off */
    bool write_cache;                   /* SET FEATURES 02h/82h */
    uint8_t xfer_mode;                  /* SET FEATURES 03h: mode code */

    /* PIO data block: buf[pos..end) still to move, then end_fn. */
    uint8_t *buf;
    uint32_t pos, end;
    IDEEndFunc end_fn;

    /* Sector transfer in progress (ATA commands and ATAPI reads). */
    uint64_t xfer_lba;  /* next sector (ATA: 512-byte, ATAPI: 2048-byte) */
    uint32_t xfer_left; /* sectors still to transfer */
    bool xfer_lba48;
    uint32_t xfer_block; /* sectors per DRQ block (PIO) */

    /* DMA command waiting for, or running on, the bus master. */
    bool dma_pending;
    bool dma_to_device; /* a write command */
    IDEDMAFunc dma_fn;

    /* ATAPI. */
    uint8_t packet[ATAPI_PACKET_LEN];
    uint8_t sense_key, asc, ascq; /* for REQUEST SENSE */
    uint8_t ua_asc;               /* pending UNIT ATTENTION: 28h medium changed,
                                   * 29h power on/reset; 0 = none */
    int media_event;              /* pending GESN media event code, 0 = none */
    bool tray_open;
    bool locked;        /* PREVENT ALLOW MEDIUM REMOVAL */
    bool packet_dma;    /* features bit 0 of the PACKET command */
    uint32_t reply_off; /* next byte of a buffered reply in buf */
    uint32_t reply_len; /* bytes of it still to send */
    bool reading;       /* data comes from the disc (xfer_*), not buf */
};

struct IDEBus {
    IDEDevice dev[2];
    int cur;      /* selected device (DEV bit of the device register) */
    uint8_t ctrl; /* device control register */
    IRQ irq;
    int irq_level;
    const IDEDMAOps *dma_ops;
    void *dma_opaque;
};

/* The functions a transfer in flight may continue with, so saved state can
 * name them by number (ide_vmstate.c): ide_ata.c's and ide_atapi.c's. */
#define IDE_ATA_END_FNS 2
#define IDE_ATAPI_END_FNS 3
extern const IDEEndFunc ide_ata_end_fns[IDE_ATA_END_FNS];
extern const IDEEndFunc ide_atapi_end_fns[IDE_ATAPI_END_FNS];
extern const IDEDMAFunc ide_ata_dma_fn, ide_atapi_dma_fn;

/* ide.c, for ide_ata.c and ide_atapi.c */
void ide_raise_irq(IDEDevice *d);
void ide_start_pio(IDEDevice *d, uint32_t len, IDEEndFunc end_fn);
void ide_start_dma(IDEDevice *d, bool to_device, IDEDMAFunc fn);
void ide_set_signature(IDEDevice *d);
void ide_device_power_on(IDEDevice *d);
void ide_stop_transfer(IDEDevice *d);
void ide_cmd_ok(IDEDevice *d);
void ide_cmd_error(IDEDevice *d, uint8_t error);
void ide_abort(IDEDevice *d);

/* ide_ata.c */
void ata_exec(IDEDevice *d, uint8_t cmd);
void ide_cmd_set_features(IDEDevice *d);
void ide_padstr(uint8_t *dst, const char *src, int len);
void ide_put_le16(uint8_t *p, uint16_t v);

/* ide_atapi.c */
void atapi_cmd_packet(IDEDevice *d);
void atapi_cmd_identify(IDEDevice *d);
void atapi_reset(IDEDevice *d);

#endif /* HW_IDE_IDE_INTERNAL_H */
