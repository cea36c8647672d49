/*
 * QEMU's firmware configuration device (fw_cfg), the channel through which
 * SeaBIOS learns how the machine is built: RAM size, CPU count, boot
 * order, e820 map, ACPI tables, kernel files and option ROMs.
 *
 * Interface (QEMU docs/specs/fw_cfg.rst, x86 I/O port layout):
 *   0x510  selector, 16-bit write: chooses an item and rewinds it;
 *          an 8-bit read there or at 0x511 returns the next data byte.
 *   0x511  data port: each byte read advances through the item; reads
 *          past its end return 0.
 *   0x514  DMA address, high dword, big endian (a dword read gives "QEMU")
 *   0x518  DMA address, low dword, big endian; writing it starts the DMA
 *          described by the FWCfgDmaAccess at that guest address.
 * Items are keyed by 16-bit selectors: fixed ones below 0x20, arch-local
 * ones from 0x8000, and named files from 0x20 on, listed in the directory
 * item 0x19.  Item contents are little endian except the directory and
 * the DMA descriptor, which are big endian.
 */
#ifndef HW_MISC_FW_CFG_H
#define HW_MISC_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "softmmu/ioport.h"
#include "softmmu/phys.h"

#define FW_CFG_PORT_SEL      0x510
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA_HIGH 0x514
#define FW_CFG_PORT_DMA_LOW  0x518

/* Fixed selectors. */
#define FW_CFG_SIGNATURE      0x00 /* "QEMU" */
#define FW_CFG_ID             0x01 /* feature bits, below */
#define FW_CFG_UUID           0x02
#define FW_CFG_RAM_SIZE       0x03 /* u64 */
#define FW_CFG_NOGRAPHIC      0x04 /* u16 */
#define FW_CFG_NB_CPUS        0x05 /* u16 */
#define FW_CFG_MACHINE_ID     0x06
#define FW_CFG_KERNEL_ADDR    0x07 /* u32 */
#define FW_CFG_KERNEL_SIZE    0x08 /* u32 */
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR    0x0a /* u32 */
#define FW_CFG_INITRD_SIZE    0x0b /* u32 */
#define FW_CFG_BOOT_DEVICE    0x0c /* u16 */
#define FW_CFG_NUMA           0x0d /* u64 count, then tables */
#define FW_CFG_BOOT_MENU      0x0e /* u16: 1 = show SeaBIOS's boot menu */
#define FW_CFG_MAX_CPUS       0x0f /* u16 */
#define FW_CFG_KERNEL_ENTRY   0x10
#define FW_CFG_KERNEL_DATA    0x11 /* the protected-mode part of the kernel */
#define FW_CFG_INITRD_DATA    0x12
#define FW_CFG_CMDLINE_ADDR   0x13 /* u32 */
#define FW_CFG_CMDLINE_SIZE   0x14 /* u32, including the NUL */
#define FW_CFG_CMDLINE_DATA   0x15
#define FW_CFG_SETUP_ADDR     0x16 /* u32 */
#define FW_CFG_SETUP_SIZE     0x17 /* u32 */
#define FW_CFG_SETUP_DATA     0x18 /* the real-mode setup part of the kernel */
#define FW_CFG_FILE_DIR       0x19
#define FW_CFG_FILE_FIRST     0x20
#define FW_CFG_ARCH_LOCAL     0x8000
#define FW_CFG_ACPI_TABLES    0x8000
#define FW_CFG_SMBIOS_ENTRIES 0x8001
#define FW_CFG_IRQ0_OVERRIDE  0x8002
#define FW_CFG_E820_TABLE     0x8003

/* FW_CFG_ID bits. */
#define FW_CFG_VERSION     0x01 /* the port interface */
#define FW_CFG_VERSION_DMA 0x02 /* the DMA interface */

/* FWCfgDmaAccess.control bits (the selector goes in bits 31:16). */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

#define FW_CFG_MAX_FILES 64
#define FW_CFG_NAME_LEN  56 /* including the NUL */
/* One directory entry: be32 size, be16 select, be16 reserved, name[56]. */
#define FW_CFG_DIR_ENTRY_LEN 64

typedef struct FWCfgState FWCfgState;

/*
 * Claims ports 0x510-0x511 and 0x514-0x51B.  DMA reads and writes guest
 * memory through phys (NULL: no DMA, and FW_CFG_ID says so).  The
 * signature, ID and the empty file directory exist from the start.
 */
FWCfgState *fw_cfg_new(IOPortMap *io, PhysMem *phys);
void fw_cfg_free(FWCfgState *s);
/* Selector back to 0 and offset 0, as after a system reset. */
void fw_cfg_reset(FWCfgState *s);
/* Saved state: section "fw_cfg" (migration/vmstate.h). */
extern const struct VMStateDesc fw_cfg_vmstate;

/* Set a fixed or arch-local item (copied; replaces any old contents).
 * Returns false for a selector that is neither. */
bool fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, uint32_t len);
bool fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value);
bool fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value);
bool fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value);

/* Add a named file (copied) and list it in the directory; a file of the
 * same name is replaced in place.  Returns its selector, or -1 if the
 * name is empty or too long or the table is full. */
int fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, uint32_t len);

/* Host-side lookup for tests and the monitor: the item's bytes and length,
 * or NULL if the selector holds nothing. */
const uint8_t *fw_cfg_item(FWCfgState *s, uint16_t key, uint32_t *len);

#endif /* HW_MISC_FW_CFG_H */
