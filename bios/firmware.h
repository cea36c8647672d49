/*
 * Firmware: finding and mapping the BIOS image (SeaBIOS by default), and
 * the machine description SeaBIOS reads at POST through fw_cfg and CMOS.
 *
 * What SeaBIOS 1.16 (Debian 12) takes from popek:
 *   fw_cfg  signature and ID (hw/misc/fw_cfg.c); RAM size; CPU count and
 *           maximum; etc/e820 (the RAM map); etc/show-boot-menu;
 *           etc/sercon-port (with -nographic: SeaBIOS's serial console);
 *           etc/acpi/rsdp, etc/acpi/tables and etc/table-loader (popek's
 *           own ACPI tables from bios/acpi.c, which describe its PM block
 *           at 0x600; SeaBIOS's built-in tables would need a PIIX4 PM
 *           function popek does not have); option ROMs as genroms/ and
 *           vgaroms/ files.
 *   CMOS    memory sizes (hw/timer/rtc.c), boot order (0x3D, 0x38: a nibble per
 *           priority, 1 floppy, 2 hard disk, 3 CD-ROM, 4 network), and
 *           the disk translation bits (0x39).
 * Files are looked up as QEMU does: the name as given, then in the -L
 * directory, then in /usr/share/seabios (Debian's seabios package) and
 * /usr/share/qemu (qemu-system-data, for QEMU's own option ROMs).
 */
#ifndef BIOS_FIRMWARE_H
#define BIOS_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/misc/fw_cfg.h"
#include "hw/timer/rtc.h"
#include "softmmu/phys.h"

#define FIRMWARE_DIR          "/usr/share/seabios"
#define FIRMWARE_QEMU_DIR     "/usr/share/qemu" /* qemu-system-data: linuxboot_dma.bin */
#define FIRMWARE_DEFAULT_BIOS "bios-256k.bin"
#define FIRMWARE_PACKAGE      "seabios"
/* The BIOS's low alias below 1 MiB is at most this long (QEMU's isa-bios). */
#define FIRMWARE_LOW_MAX 0x20000u

/*
 * Resolve a firmware file: name itself if it is readable, else (for a bare
 * name) dir/name when dir is given, else FIRMWARE_DIR/name, else
 * FIRMWARE_QEMU_DIR/name.  Returns a
 * malloc'd path, or NULL with a one-line reason in err naming what was
 * tried and the Debian package that provides the default files.
 */
char *firmware_find(const char *name, const char *dir, char *err, size_t errlen);

/*
 * Read the BIOS image at path (64 KiB to 256 KiB, a multiple of 4 KiB) and
 * map it at the top of the 4 GiB space, where the reset vector lands.
 * *low (malloc'd) and *low_len receive the image's last FIRMWARE_LOW_MAX
 * bytes (or all of a smaller image): what the i440FX shows below 1 MiB
 * when shadowing is off (hw/pci/pam.h).  On error returns false with err.
 */
bool firmware_load_bios(PhysMem *pm, const char *path, uint8_t **low, uint32_t *low_len, char *err,
                        size_t errlen);

typedef struct FirmwareConfig {
    uint64_t ram_bytes;
    int cpus;
    const char *boot_order; /* drive letters in priority order (a, c, d, n); NULL = "cad" */
    bool boot_menu;         /* -boot menu=on */
    uint16_t sercon_port;   /* etc/sercon-port: SeaBIOS mirrors its screen to, and takes
                             * keys from, the UART at this port (QEMU does it with
                             * -nographic); 0: no such file */
} FirmwareConfig;

/* Fill fw_cfg with what SeaBIOS needs (see above).  Returns false with err
 * if an item does not fit. */
bool firmware_setup_fw_cfg(FWCfgState *fw, const FirmwareConfig *cfg, char *err, size_t errlen);

/* CMOS boot order bytes from cfg->boot_order; translation bits from
 * lba_translate (bit i set: IDE drive i = channel * 2 + unit needs LBA
 * translation because its geometry exceeds 1024/16/63). */
void firmware_setup_cmos(RTCState *rtc, const FirmwareConfig *cfg, unsigned lba_translate);

/* Load an option ROM file and offer it as fw_cfg file fw_name (e.g.
 * "genroms/x.bin", "vgaroms/vgabios-stdvga.bin").  path is resolved with
 * firmware_find. */
bool firmware_add_rom(FWCfgState *fw, const char *fw_name, const char *path, const char *dir,
                      char *err, size_t errlen);

typedef struct FirmwareKernel {
    const char *kernel;  /* bzImage */
    const char *initrd;  /* NULL: none */
    const char *cmdline; /* NULL: empty */
    uint64_t ram_bytes;
    const char *firmware_dir; /* -L, for linuxboot_dma.bin */
} FirmwareKernel;

/* -kernel with -bios (bios/fw_kernel.c): the setup code, kernel, command
 * line and initrd as fw_cfg items, QEMU's linuxboot_dma.bin option ROM as
 * genroms/linuxboot_dma.bin, and a bootorder file that boots it first. */
bool firmware_add_kernel(FWCfgState *fw, const FirmwareKernel *k, char *err, size_t errlen);

/* Build the ACPI tables of bios/acpi.c as the two blobs and the loader
 * script SeaBIOS's romfile_loader runs (QEMU's BIOSLinker format). */
bool firmware_add_acpi(FWCfgState *fw, uint64_t ram_bytes, char *err, size_t errlen);

#endif /* BIOS_FIRMWARE_H */
