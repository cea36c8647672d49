/*
 * -kernel through the BIOS: the kernel files as QEMU puts them in fw_cfg,
 * for QEMU's linuxboot_dma.bin option ROM (Debian's qemu-system-data),
 * which SeaBIOS runs first because the bootorder file names it.  The ROM
 * DMAs the setup code, kernel, command line and initrd to the addresses
 * given here and enters the setup code in real mode, so the kernel gets a
 * BIOS-built e820 map and ACPI tables like any bootloader-started kernel.
 *
 * The setup header is patched as a boot loader must (Linux
 * Documentation/arch/x86/boot.rst, "The real-mode kernel header"):
 * loader type, heap end, command line pointer and the initrd's place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bios/firmware.h"

#define HDR_SETUP_SECTS    0x1f1
#define HDR_BOOT_FLAG      0x1fe
#define HDR_MAGIC          0x202
#define HDR_VERSION        0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS      0x211
#define HDR_RAMDISK_IMAGE  0x218
#define HDR_RAMDISK_SIZE   0x21c
#define HDR_HEAP_END_PTR   0x224
#define HDR_CMD_LINE_PTR   0x228
#define HDR_INITRD_MAX     0x22c
#define HDR_CMDLINE_SIZE   0x238

#define LOADED_HIGH  0x01
#define CAN_USE_HEAP 0x80

/* Where the pieces go (protocol 2.02+, as QEMU places them). */
#define REAL_ADDR    0x10000u /* setup code */
#define CMDLINE_ADDR 0x20000u
#define PROT_ADDR    0x100000u /* protected-mode kernel */
/* Kept free at the top of RAM for SeaBIOS's tables (QEMU's acpi_data_size). */
#define TOP_RESERVE 0x28000u

#define LINUXBOOT_ROM     "linuxboot_dma.bin"
#define LINUXBOOT_FW_NAME "genroms/linuxboot_dma.bin"

static uint32_t get_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint8_t *slurp(const char *path, const char *what, uint32_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) {
        snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 0x7fffffff) {
        snprintf(err, errlen, "%s '%s': not a regular file of at most 2 GiB", what, path);
        fclose(f);
        return NULL;
    }
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errlen, "%s '%s': read error", what, path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (uint32_t)st.st_size;
    return buf;
}

static bool add_items(FWCfgState *fw, uint16_t addr_key, uint32_t addr, uint16_t size_key,
                      uint16_t data_key, const void *data, uint32_t len)
{
    return fw_cfg_add_i32(fw, addr_key, addr) && fw_cfg_add_i32(fw, size_key, len) &&
           fw_cfg_add_bytes(fw, data_key, data, len);
}

/* Initrd: as high as initrd_addr_max and RAM allow, page aligned. */
static bool add_initrd(FWCfgState *fw, uint8_t *hdr, const char *path, uint64_t ram_bytes,
                       uint32_t kernel_end, char *err, size_t errlen)
{
    uint32_t size;
    uint8_t *data = slurp(path, "-initrd", &size, err, errlen);
    if (!data) {
        return false;
    }
    uint16_t version = (uint16_t)get_le(hdr + HDR_VERSION, 2);
    uint64_t max = version >= 0x0203 ? get_le(hdr + HDR_INITRD_MAX, 4) : 0x37ffffff;
    if (max > ram_bytes - TOP_RESERVE - 1) {
        max = ram_bytes - TOP_RESERVE - 1;
    }
    if (size > max || ((max - size) & ~0xfffull) < kernel_end) {
        snprintf(err, errlen, "-initrd '%s': %u bytes do not fit in guest RAM (raise -m)", path,
                 size);
        free(data);
        return false;
    }
    uint32_t addr = (uint32_t)((max - size) & ~0xfffull);
    put_le(hdr + HDR_RAMDISK_IMAGE, addr, 4);
    put_le(hdr + HDR_RAMDISK_SIZE, size, 4);
    bool ok =
        add_items(fw, FW_CFG_INITRD_ADDR, addr, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA, data, size);
    free(data);
    return ok;
}

bool firmware_add_kernel(FWCfgState *fw, const FirmwareKernel *k, char *err, size_t errlen)
{
    uint32_t size;
    uint8_t *img = slurp(k->kernel, "-kernel", &size, err, errlen);
    if (!img) {
        return false;
    }
    bool ok = false;
    if (size < 0x240 || img[HDR_BOOT_FLAG] != 0x55 || img[HDR_BOOT_FLAG + 1] != 0xaa ||
        memcmp(img + HDR_MAGIC, "HdrS", 4) != 0) {
        snprintf(err, errlen,
                 "-kernel '%s': not a Linux bzImage (through -bios only bzImages "
                 "boot; drop -bios for Multiboot)",
                 k->kernel);
        goto out;
    }
    uint16_t version = (uint16_t)get_le(img + HDR_VERSION, 2);
    if (version < 0x0202 || !(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen,
                 "-kernel '%s': boot protocol %u.%02u or a zImage; need a bzImage "
                 "of protocol 2.02 or later",
                 k->kernel, version >> 8, version & 0xff);
        goto out;
    }
    uint32_t setup_size = ((img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4) + 1u) * 512u;
    if (setup_size >= size) {
        snprintf(err, errlen, "-kernel '%s': truncated (setup larger than the file)", k->kernel);
        goto out;
    }
    const char *cmdline = k->cmdline ? k->cmdline : "";
    uint32_t cmdlen = (uint32_t)strlen(cmdline) + 1;
    uint32_t cmd_max = version >= 0x0206 ? get_le(img + HDR_CMDLINE_SIZE, 4) : 255;
    if (cmdlen - 1 > cmd_max) {
        snprintf(err, errlen, "-append: command line of %u bytes exceeds the kernel's limit of %u",
                 cmdlen - 1, cmd_max);
        goto out;
    }
    img[HDR_TYPE_OF_LOADER] = 0xb0; /* QEMU's loader id, as Linux knows it */
    img[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    put_le(img + HDR_HEAP_END_PTR, CMDLINE_ADDR - REAL_ADDR - 0x200, 2);
    put_le(img + HDR_CMD_LINE_PTR, CMDLINE_ADDR, 4);
    if (k->initrd &&
        !add_initrd(fw, img, k->initrd, k->ram_bytes, PROT_ADDR + size - setup_size, err, errlen)) {
        goto out;
    }
    ok = add_items(fw, FW_CFG_CMDLINE_ADDR, CMDLINE_ADDR, FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA,
                   cmdline, cmdlen) &&
         add_items(fw, FW_CFG_SETUP_ADDR, REAL_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA, img,
                   setup_size) &&
         add_items(fw, FW_CFG_KERNEL_ADDR, PROT_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA,
                   img + setup_size, size - setup_size);
    if (!ok) {
        snprintf(err, errlen, "-kernel '%s': out of memory", k->kernel);
        goto out;
    }
    /* The option ROM that loads them, booted before any disk. */
    static const char order[] = "/rom@" LINUXBOOT_FW_NAME "\n";
    ok = firmware_add_rom(fw, LINUXBOOT_FW_NAME, LINUXBOOT_ROM, k->firmware_dir, err, errlen) &&
         fw_cfg_add_file(fw, "bootorder", order, sizeof(order) - 1) >= 0;
out:
    free(img);
    return ok;
}
