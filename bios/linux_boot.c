/*
 * The Linux x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst):
 * the real-mode setup code is skipped; the loader fills the zero page
 * (boot_params) itself, copies the protected-mode kernel to 1 MiB and jumps
 * to code32_start in flat protected mode with ESI pointing at boot_params.
 * Multiboot images are recognised here and handed to multiboot.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bios/linux_boot.h"
#include "bios/multiboot.h"
#include "cpu/cpu.h"
#include "softmmu/mmu.h"

/* Offsets in the setup header / boot_params (boot.rst, "The real-mode kernel header";
 * the screen_info at offset 0 is arch/x86/include/uapi/asm/bootparam.h's). */
#define BP_ORIG_X           0x000
#define BP_ORIG_Y           0x001
#define BP_EXT_MEM_K        0x002
#define BP_VIDEO_MODE       0x006
#define BP_VIDEO_COLS       0x007
#define BP_VIDEO_EGA_BX     0x00a
#define BP_VIDEO_LINES      0x00e
#define BP_VIDEO_IS_VGA     0x00f
#define BP_VIDEO_POINTS     0x010
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_ALT_MEM_K        0x1e0
#define BP_E820_ENTRIES     0x1e8
#define BP_SETUP_SECTS      0x1f1
#define BP_BOOT_FLAG        0x1fe
#define BP_HEADER_LEN       0x201 /* jump's 8-bit displacement: header ends at 0x202 + it */
#define BP_HEADER           0x202
#define BP_VERSION          0x206
#define BP_KERNEL_VERSION   0x20e
#define BP_TYPE_OF_LOADER   0x210
#define BP_LOADFLAGS        0x211
#define BP_CODE32_START     0x214
#define BP_RAMDISK_IMAGE    0x218
#define BP_RAMDISK_SIZE     0x21c
#define BP_HEAP_END_PTR     0x224
#define BP_CMD_LINE_PTR     0x228
#define BP_INITRD_ADDR_MAX  0x22c
#define BP_CMDLINE_SIZE     0x238
#define BP_PREF_ADDRESS     0x258
#define BP_INIT_SIZE        0x260
#define BP_E820_TABLE       0x2d0
#define BP_E820_MAX         128

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80

static uint8_t *read_file(const char *path, const char *what, size_t *size, char *err,
                          size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s '%s': not a regular file", what, path);
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
    *size = (size_t)st.st_size;
    return buf;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int boot_e820_map(uint64_t ram_bytes, E820Entry *out, int max)
{
    E820Entry map[] = {
        {0, 0x9fc00, 1},                           /* conventional memory */
        {0x9fc00, 0x400, 2},                       /* EBDA */
        {BOOT_ACPI_ADDR, 0x100000 - BOOT_ACPI_ADDR, 2}, /* ACPI tables + BIOS area */
        {0x100000, ram_bytes - 0x100000, 1},       /* extended memory */
    };
    int n = (int)(sizeof(map) / sizeof(map[0]));
    if (n > max) {
        n = max;
    }
    memcpy(out, map, (size_t)n * sizeof(*out));
    return n;
}

/* Flat 4 GiB code (0x10) and data (0x18) segments, as the protocol's
 * __BOOT_CS/__BOOT_DS, from a GDT at gdt_addr; the kernel loads its own
 * GDT at once. */
void boot_enter_flat32(PhysMem *pm, CPUState *cpu, uint32_t eip, uint32_t gdt_addr)
{
    static const uint64_t gdt[4] = {
        0, 0,
        0x00cf9b000000ffffull, /* 0x10: code, base 0, limit 4 GiB, 32-bit */
        0x00cf93000000ffffull, /* 0x18: data, base 0, limit 4 GiB, 32-bit */
    };
    phys_load(pm, gdt_addr, gdt, sizeof(gdt));
    cpu->gdtr.base = gdt_addr;
    cpu->gdtr.limit = sizeof(gdt) - 1;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0;
    cpu->cr0 |= CR0_PE;
    for (int s = 0; s < SEG_COUNT; s++) {
        bool code = s == SEG_CS;
        seg_cache_from_descriptor(&cpu->seg[s], code ? 0x10 : 0x18, gdt[code ? 2 : 3]);
    }
    cpu_set_eflags(cpu, EFLAGS_FIXED, 0xffffffffu); /* IF=0 */
    cpu->eip = eip;
    cpu->next_eip = eip;
    cpu_update_mode(cpu);
    tlb_flush_all(cpu);
}

/* Place the initrd as high as allowed, page aligned (boot.rst: "initrd_addr_max"). */
static bool load_initrd(PhysMem *pm, const BootConfig *cfg, uint8_t *bp, uint32_t kernel_end,
                        char *err, size_t errlen)
{
    size_t size;
    uint8_t *data = read_file(cfg->initrd_path, "-initrd", &size, err, errlen);
    if (!data) {
        return false;
    }
    uint16_t version = (uint16_t)(bp[BP_VERSION] | bp[BP_VERSION + 1] << 8);
    uint64_t addr_max = version >= 0x0203 ? get32(bp + BP_INITRD_ADDR_MAX) : 0x37ffffff;
    uint64_t top = cfg->ram_bytes < addr_max + 1 ? cfg->ram_bytes : addr_max + 1;
    if (size > top || ((top - size) & ~0xfffull) < kernel_end) {
        snprintf(err, errlen, "-initrd '%s': %zu bytes do not fit in guest RAM below %#llx "
                 "(raise -m)", cfg->initrd_path, size, (unsigned long long)top);
        free(data);
        return false;
    }
    uint32_t addr = (uint32_t)((top - size) & ~0xfffull);
    phys_load(pm, addr, data, (uint32_t)size);
    put32(bp + BP_RAMDISK_IMAGE, addr);
    put32(bp + BP_RAMDISK_SIZE, (uint32_t)size);
    free(data);
    return true;
}

static bool bzimage_load(PhysMem *pm, CPUState *cpu, const BootConfig *cfg, const uint8_t *img,
                         size_t size, char *err, size_t errlen)
{
    const char *path = cfg->kernel_path;
    uint16_t version = (uint16_t)(img[BP_VERSION] | img[BP_VERSION + 1] << 8);
    if (version < 0x0202) {
        snprintf(err, errlen, "-kernel '%s': boot protocol %u.%02u is too old (need 2.02)", path,
                 version >> 8, version & 0xff);
        return false;
    }
    if (!(img[BP_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "-kernel '%s': a zImage (loads low); only bzImage is supported", path);
        return false;
    }
    unsigned setup_sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= size) {
        snprintf(err, errlen, "-kernel '%s': truncated (setup larger than the file)", path);
        return false;
    }
    size_t kernel_size = size - setup_size;
    if (BOOT_KERNEL_ADDR + kernel_size + (16u << 20) > cfg->ram_bytes) {
        snprintf(err, errlen, "-kernel '%s': %zu bytes do not fit in %llu MiB of RAM (raise -m)",
                 path, kernel_size, (unsigned long long)(cfg->ram_bytes >> 20));
        return false;
    }
    /* Protocol 2.10 and later: the kernel decompresses itself into
     * init_size bytes from pref_address (a relocatable kernel loaded below
     * it moves there: arch/x86/boot/compressed/head_*.S), which must be
     * RAM and must not hold the initrd.  The amd64 kernel needs 80 MiB. */
    uint64_t kernel_end = BOOT_KERNEL_ADDR + kernel_size;
    if (version >= 0x020a) {
        uint64_t pref = get32(img + BP_PREF_ADDRESS) |
                        (uint64_t)get32(img + BP_PREF_ADDRESS + 4) << 32;
        uint64_t unpack_end = (pref > BOOT_KERNEL_ADDR ? pref : BOOT_KERNEL_ADDR) +
                              get32(img + BP_INIT_SIZE);
        if (unpack_end > cfg->ram_bytes) {
            snprintf(err, errlen,
                     "-kernel '%s': unpacks itself up to %llu MiB, beyond %llu MiB of RAM (raise -m)",
                     path, (unsigned long long)((unpack_end + 0xfffff) >> 20),
                     (unsigned long long)(cfg->ram_bytes >> 20));
            return false;
        }
        kernel_end = unpack_end > kernel_end ? unpack_end : kernel_end;
    }
    size_t cmdlen = cfg->cmdline ? strlen(cfg->cmdline) : 0;
    uint32_t cmdline_max = version >= 0x0206 ? get32(img + BP_CMDLINE_SIZE) : 255;
    if (cmdlen > cmdline_max || cmdlen >= BOOT_CMDLINE_MAX) {
        snprintf(err, errlen, "-append: command line of %zu bytes exceeds the kernel's limit of %u",
                 cmdlen, cmdline_max);
        return false;
    }

    /* The zero page: a copy of the setup header at its own offset, the rest ours. */
    uint8_t bp[4096];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = 0x202 + img[BP_HEADER_LEN];
    if (hdr_end > sizeof(bp) || hdr_end > size) {
        hdr_end = 0x268;
    }
    memcpy(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
    bp[BP_TYPE_OF_LOADER] = 0xff; /* "undefined" loader (boot.rst) */
    bp[BP_LOADFLAGS] |= CAN_USE_HEAP;
    bp[BP_HEAP_END_PTR] = 0x00;
    bp[BP_HEAP_END_PTR + 1] = 0xfe; /* 0xfe00, as boot.rst suggests */
    put32(bp + BP_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
    uint32_t ext_kb = (uint32_t)((cfg->ram_bytes - 0x100000) >> 10);
    bp[BP_EXT_MEM_K] = (uint8_t)(ext_kb > 0xffff ? 0xff : ext_kb);
    bp[BP_EXT_MEM_K + 1] = (uint8_t)((ext_kb > 0xffff ? 0xffff : ext_kb) >> 8);
    put32(bp + BP_ALT_MEM_K, ext_kb);
    /* screen_info: the VGA (hw/display, reset to text mode 3 with the VGA
     * BIOS's font loaded by the board) as the real-mode setup would have
     * found it through INT 10h: mode 3, 80x25, 16-line characters, cursor
     * at the top left, a colour VGA (isVGA 1; EGA BX's low byte, the
     * memory size code, not 10h, which would mean CGA).  vgacon takes the
     * console from it: "Console: colour VGA+ 80x25". */
    bp[BP_ORIG_X] = 0;
    bp[BP_ORIG_Y] = 0;
    bp[BP_VIDEO_MODE] = 3;
    bp[BP_VIDEO_COLS] = 80;
    bp[BP_VIDEO_EGA_BX] = 0x03;
    bp[BP_VIDEO_LINES] = 25;
    bp[BP_VIDEO_IS_VGA] = 1;
    bp[BP_VIDEO_POINTS] = 16;
    if (cfg->acpi_rsdp) {
        put32(bp + BP_ACPI_RSDP_ADDR, cfg->acpi_rsdp);
    }
    E820Entry map[8];
    int n = boot_e820_map(cfg->ram_bytes, map, 8);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        put32(e, (uint32_t)map[i].addr);
        put32(e + 4, (uint32_t)(map[i].addr >> 32));
        put32(e + 8, (uint32_t)map[i].size);
        put32(e + 12, (uint32_t)(map[i].size >> 32));
        put32(e + 16, map[i].type);
    }
    if (cfg->initrd_path && !load_initrd(pm, cfg, bp, (uint32_t)kernel_end, err, errlen)) {
        return false;
    }

    phys_load(pm, BOOT_KERNEL_ADDR, img + setup_size, (uint32_t)kernel_size);
    phys_load(pm, BOOT_PARAMS_ADDR, bp, sizeof(bp));
    char zero = 0;
    if (cmdlen) {
        phys_load(pm, BOOT_CMDLINE_ADDR, cfg->cmdline, (uint32_t)cmdlen);
    }
    phys_load(pm, BOOT_CMDLINE_ADDR + (uint32_t)cmdlen, &zero, 1);

    /* 32-bit entry (boot.rst "32-bit Boot Protocol"): ESI = boot_params,
     * EBP = EDI = EBX = 0, interrupts off. */
    boot_enter_flat32(pm, cpu, get32(img + BP_CODE32_START), BOOT_GDT_ADDR);
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_ESI] = BOOT_PARAMS_ADDR;
    return true;
}

/*
 * The 32-bit entry (boot.rst, "32-bit Boot Protocol") is Linux's: the
 * protected-mode kernel at code32_start sets itself up from boot_params
 * alone.  Other programs that borrow the header do their work in the
 * real-mode setup code, through BIOS calls: memdisk hooks INT 13h and
 * INT 15h, iPXE's .lkrn drives everything through the BIOS, and iPXE's
 * code32_start is 0.  So the 32-bit entry is taken only for a Linux
 * kernel: protocol 2.02 or later, loaded high, a non-zero code32_start,
 * and a kernel_version string (header offset 0x20E, an offset from 0x200
 * to a NUL-terminated string in the setup code) in Linux's banner form
 * "RELEASE (USER@HOST) #BUILD ..." (memdisk's reads "MEMDISK 6.04 ...",
 * iPXE's is a bare "1.0.0+git-...").
 */
static bool is_linux_kernel(const uint8_t *img, size_t size)
{
    uint16_t version = (uint16_t)(img[BP_VERSION] | img[BP_VERSION + 1] << 8);
    if (version < 0x0202 || !(img[BP_LOADFLAGS] & LOADED_HIGH) || !get32(img + BP_CODE32_START)) {
        return false;
    }
    size_t at = 0x200u + (size_t)(img[BP_KERNEL_VERSION] | img[BP_KERNEL_VERSION + 1] << 8);
    size_t setup_end = ((size_t)(img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4) + 1) * 512;
    if (at == 0x200 || at >= setup_end || setup_end > size) {
        return false;
    }
    const char *text = (const char *)img + at;
    size_t len = strnlen(text, setup_end - at);
    if (len == setup_end - at || len == 0 || text[0] < '0' || text[0] > '9') {
        return false;
    }
    const char *open = memchr(text, '(', len);
    const char *at_sign = open ? memchr(open, '@', len - (size_t)(open - text)) : NULL;
    const char *close = at_sign ? memchr(at_sign, ')', len - (size_t)(at_sign - text)) : NULL;
    return close && close + 2 < text + len && close[1] == ' ' && close[2] == '#';
}

bool linux_boot_needs_bios(const char *path)
{
    char err[256];
    size_t size;
    uint8_t *img = read_file(path, "-kernel", &size, err, sizeof(err));
    if (!img) {
        return false;
    }
    bool bzimage = size >= 0x240 && img[BP_BOOT_FLAG] == 0x55 && img[BP_BOOT_FLAG + 1] == 0xaa &&
                   !memcmp(img + BP_HEADER, "HdrS", 4);
    bool needs = bzimage && !is_linux_kernel(img, size);
    free(img);
    return needs;
}

bool linux_boot_load(PhysMem *pm, CPUState *cpu, const BootConfig *cfg, char *err, size_t errlen)
{
    size_t size;
    uint8_t *img = read_file(cfg->kernel_path, "-kernel", &size, err, errlen);
    if (!img) {
        return false;
    }
    bool ok;
    if (size >= 0x240 && img[BP_BOOT_FLAG] == 0x55 && img[BP_BOOT_FLAG + 1] == 0xaa &&
        !memcmp(img + BP_HEADER, "HdrS", 4)) {
        ok = bzimage_load(pm, cpu, cfg, img, size, err, errlen);
    } else if (multiboot_find_header(img, size) >= 0) {
        ok = multiboot_load(pm, cpu, cfg, img, size, err, errlen);
    } else {
        snprintf(err, errlen, "-kernel '%s': not a Linux bzImage or a Multiboot kernel",
                 cfg->kernel_path);
        ok = false;
    }
    free(img);
    return ok;
}
