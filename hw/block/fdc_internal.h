/*
 * The 82077AA's state, shared by its register and command file (fdc.c)
 * and its data commands (fdc_rw.c).  Not for other devices.
 *
 * Every buffer the guest can fill or drain (command bytes, result bytes,
 * the sector and the format ID) has its own length and position fields,
 * and every access checks the position against that buffer's size at the
 * access: no guest byte sequence can move an index past its buffer (the
 * VENOM bug, CVE-2015-3456, was a FIFO index that a command could run
 * past the FIFO).
 */
#ifndef HW_BLOCK_FDC_INTERNAL_H
#define HW_BLOCK_FDC_INTERNAL_H

#include "hw/block/fdc.h"

#define FDC_UNITS      4   /* drive select lines (units 2 and 3 have no drive) */
#define FDC_SECTOR     512 /* sector size code N = 2, the only one the disks use */
#define FDC_SECTOR_N   2
#define FDC_CMD_MAX    9  /* longest command: READ/WRITE DATA */
#define FDC_RESULT_MAX 10 /* longest result: DUMPREG */

/* DOR bits. */
#define DOR_SELECT 0x03
#define DOR_NRESET 0x04
#define DOR_DMAEN  0x08 /* AT mode: gates INT and DRQ */
/* MSR bits. */
#define MSR_CB   0x10 /* command in progress */
#define MSR_NDMA 0x20 /* execution phase in non-DMA mode */
#define MSR_DIO  0x40 /* 1: controller to CPU */
#define MSR_RQM  0x80 /* FIFO ready */
/* DSR bits. */
#define DSR_SWRESET 0x80
/* ST0: interrupt code and flags. */
#define ST0_ABNORMAL 0x40
#define ST0_INVALID  0x80
#define ST0_POLL     0xc0 /* drive ready changed (after reset, polling) */
#define ST0_SE       0x20 /* seek end */
#define ST0_EC       0x10 /* equipment check */
/* ST1. */
#define ST1_MA 0x01 /* missing address mark */
#define ST1_NW 0x02 /* not writable */
#define ST1_ND 0x04 /* no data (sector not found) */
#define ST1_DE 0x20 /* data error */
#define ST1_EN 0x80 /* end of cylinder */
/* ST2. */
#define ST2_BC 0x02 /* bad cylinder */
#define ST2_WC 0x10 /* wrong cylinder */
#define ST2_DD 0x20 /* data error in data field */
/* CONFIGURE byte 2. */
#define CONFIG_EIS   0x40 /* implied seek */
#define CONFIG_EFIFO 0x20 /* FIFO disabled */
#define CONFIG_POLL  0x10 /* polling disabled */

enum FDCPhase { FDC_PHASE_COMMAND, FDC_PHASE_EXEC, FDC_PHASE_RESULT };
enum FDCOp { FDC_OP_READ, FDC_OP_WRITE, FDC_OP_FORMAT };

typedef struct FDCDrive {
    bool present;         /* a drive on this select line */
    BlockDev blk;         /* its disk (copied at attach) */
    const FDCFormat *fmt; /* the disk's format */
    uint8_t pcn;          /* present cylinder number: where the head is */
    bool disk_changed;    /* DIR bit 7: set at power on, cleared by a seek */
    uint8_t next_id;      /* READ ID: the sector passing under the head next (0-based) */
} FDCDrive;

struct FDCState {
    IOPortMap *io;
    uint16_t base;
    IRQ irq;
    I8257State *dma; /* NULL: no DMA */
    int dma_chan;
    FDCDrive drive[FDC_UNITS];

    /* Registers. */
    uint8_t dor;
    uint8_t tdr;
    uint8_t dsr; /* as last written (rate in bits 1:0, shared with CCR) */
    /* Parameters of SPECIFY, CONFIGURE, PERPENDICULAR MODE and LOCK. */
    uint8_t srt_hut;  /* step rate and head unload time */
    uint8_t hlt_nd;   /* head load time; bit 0 ND: non-DMA mode */
    uint8_t config;   /* EIS, EFIFO, POLL, FIFOTHR */
    uint8_t pretrk;   /* precompensation start track */
    uint8_t perp;     /* D3-D0 in bits 5:2, GAP bit 1, WGATE bit 0 */
    bool lock;        /* CONFIGURE values survive a software reset */
    uint8_t last_eot; /* DUMPREG's SC/EOT byte */

    /* The command/result machine. */
    enum FDCPhase phase;
    uint8_t cmd[FDC_CMD_MAX];
    uint8_t cmd_len; /* bytes this command takes (<= FDC_CMD_MAX) */
    uint8_t cmd_pos; /* bytes received */
    uint8_t res[FDC_RESULT_MAX];
    uint8_t res_len; /* result bytes (<= FDC_RESULT_MAX) */
    uint8_t res_pos; /* result bytes read */

    /* Interrupts: one latch, raised by the end of a command with a result
     * phase, a seek or a reset, and lowered by SENSE INTERRUPT STATUS or
     * by reading the result; the statuses SENSE INTERRUPT STATUS reports. */
    bool int_latch;
    bool irq_level;        /* what the IRQ line carries now */
    uint8_t sense_pending; /* bit per unit: a status waits */
    uint8_t sense_st0[FDC_UNITS];

    /* Execution phase of READ DATA, WRITE DATA, FORMAT TRACK. */
    enum FDCOp op;
    bool dma_mode;            /* data through DMA (else through the FIFO) */
    uint8_t unit, head;       /* drive and physical head */
    uint8_t id_c, id_h, id_r; /* ID of the sector being transferred */
    uint8_t eot;              /* last sector number on the track */
    bool mt;                  /* multi-track: continue on head 1 */
    uint8_t sector[FDC_SECTOR];
    uint16_t data_pos; /* bytes of sector transferred (<= FDC_SECTOR) */
    uint8_t fmt_id[4]; /* FORMAT: the C, H, R, N of the sector being formatted */
    uint8_t fmt_pos;   /* bytes of fmt_id received (<= 4) */
    uint8_t fmt_left;  /* sector IDs still to come */
    uint8_t fmt_fill;  /* filler byte */
};

/* fdc.c: the machine's transitions. */
void fdc_update_irq(FDCState *s);
void fdc_update_dreq(FDCState *s);
/* Enter the result phase with n bytes (n <= FDC_RESULT_MAX), raising INT if irq. */
void fdc_set_result(FDCState *s, const uint8_t *bytes, int n, bool irq);

/* fdc_rw.c: the data commands, their execution phase. */
void fdc_cmd_read_write(FDCState *s);
void fdc_cmd_format(FDCState *s);
void fdc_cmd_read_id(FDCState *s);
/* DMA service for channel dma_chan. */
void fdc_dma_service(void *opaque);
/* Non-DMA execution phase: a byte from / to the FIFO. */
uint8_t fdc_pio_read(FDCState *s);
void fdc_pio_write(FDCState *s, uint8_t v);

#endif /* HW_BLOCK_FDC_INTERNAL_H */
