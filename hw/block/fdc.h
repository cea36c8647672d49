/*
 * The Intel 82077AA floppy disk controller in PC/AT mode, with up to two
 * 3.5" drives, at base 0x3F0 (IRQ 6, ISA DMA channel 2).
 *
 *   base+2  DOR  digital output: drive select, /RESET, DMA+IRQ gate, motors
 *   base+3  TDR  tape drive register (two bits kept)
 *   base+4  MSR  main status (read) / DSR data rate select (write)
 *   base+5  FIFO command, data and result bytes
 *   base+7  DIR  digital input: disk change (read) / CCR data rate (write)
 * base+6 belongs to the IDE controller (0x3F6); base+0/1 (status registers
 * A and B) exist only in PS/2 mode and read as an idle bus.
 *
 * Disks are raw images whose size gives the format: 720 KiB (80 cyl, 2
 * heads, 9 sectors, 250 kb/s), 1.44 MB (18 sectors, 500 kb/s) or 2.88 MB
 * (36 sectors, 1 Mb/s).  A read-only image is a write-protected disk.
 *
 * Commands run to completion as soon as their last byte arrives (there is
 * no rotation or step time); DMA transfers happen as the DMA controller
 * serves channel 2, at once when it is unmasked.
 */
#ifndef HW_BLOCK_FDC_H
#define HW_BLOCK_FDC_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "hw/core/irq.h"
#include "hw/dma/i8257.h"
#include "softmmu/ioport.h"

#define FDC_BASE       0x3f0
#define FDC_IRQ        6
#define FDC_DMA_CHAN   2
#define FDC_MAX_DRIVES 2

/* CMOS register 0x10 drive type codes (one nibble per drive). */
#define FDC_CMOS_NONE 0
#define FDC_CMOS_720K 3
#define FDC_CMOS_144M 4
#define FDC_CMOS_288M 5

typedef struct FDCState FDCState;

/* A disk format: what an image of 'bytes' bytes holds. */
typedef struct FDCFormat {
    uint32_t bytes;
    uint8_t cylinders, heads, sectors; /* sectors per track */
    uint8_t rate;                      /* DSR/CCR data rate code: 0 500k, 2 250k, 3 1M */
    uint8_t drive_cmos;                /* the drive type that reads it (CMOS 0x10 nibble) */
    const char *name;
} FDCFormat;

/* The format of an image of that many bytes, or NULL. */
const FDCFormat *fdc_format_for_size(uint64_t bytes);

/* dma may be NULL (no DMA: only non-DMA mode transfers work). */
FDCState *fdc_new(IOPortMap *io, uint16_t base, IRQ irq, I8257State *dma, int dma_chan);
void fdc_free(FDCState *s);
/* Hardware reset (the RESET pin): registers to power-on values. */
void fdc_reset(FDCState *s);
/* Saved state: section "fdc" (migration/vmstate.h). */
extern const struct VMStateDesc fdc_vmstate;

/* Put a drive with this disk at unit 0 or 1 (blk copied).  Returns false
 * if the unit is taken or the image size is not a known format. */
bool fdc_attach(FDCState *s, int unit, const BlockDev *blk);
/* CMOS 0x10 drive type of unit (FDC_CMOS_NONE when there is no drive). */
int fdc_cmos_type(FDCState *s, int unit);

#endif /* HW_BLOCK_FDC_H */
