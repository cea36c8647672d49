/*
 * Firmware loading and SeaBIOS's configuration (see firmware.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bios/acpi.h"
#include "bios/firmware.h"

#define BIOS_MIN_SIZE 0x10000u
#define BIOS_MAX_SIZE 0x40000u
#define ROM_MAX_SIZE  0x40000u /* option ROMs: the whole C0000-FFFFF window at most */

/* QEMU's BIOSLinker command set (hw/acpi/bios-linker-loader.c), as
 * SeaBIOS's src/fw/romfile_loader.c runs it: 128-byte little-endian
 * entries, file names in 56-byte fields. */
#define LOADER_ENTRY_LEN    128
#define LOADER_NAME_LEN     56
#define LOADER_ALLOCATE     1
#define LOADER_ADD_POINTER  2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH    1
#define LOADER_ZONE_FSEG    2
#define LOADER_MAX_ENTRIES  32

#define ACPI_TABLES_FILE "etc/acpi/tables"
#define ACPI_RSDP_FILE   "etc/acpi/rsdp"
#define ACPI_LOADER_FILE "etc/table-loader"
#define ACPI_SCRATCH     0x2000u /* bytes of scratch RAM the tables are built in */
#define ACPI_RSDP_LEN    20      /* ACPI 1.0 RSDP */

/* ---- finding and reading files ---- */

static bool readable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* The Debian package that ships a firmware file popek looks for, or NULL
 * for a name neither package has. */
static const char *firmware_package(const char *name)
{
    if (!strncmp(name, "linuxboot", 9) || !strncmp(name, "multiboot", 9)) {
        return "qemu-system-data";
    }
    if (!strncmp(name, "bios", 4) || !strncmp(name, "vgabios", 7)) {
        return FIRMWARE_PACKAGE;
    }
    return NULL;
}

char *firmware_find(const char *name, const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    if (readable_file(name)) {
        return strdup(name);
    }
    if (!strchr(name, '/')) {
        const char *dirs[] = {dir, FIRMWARE_DIR, FIRMWARE_QEMU_DIR};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
            snprintf(buf, sizeof(buf), "%s/%s", dirs[i] ? dirs[i] : "", name);
            if (dirs[i] && readable_file(buf)) {
                return strdup(buf);
            }
        }
        const char *pkg = firmware_package(name);
        char hint[512] = "";
        if (pkg) {
            snprintf(hint, sizeof(hint), "; Debian's %s package provides %s/%s", pkg,
                     strcmp(pkg, FIRMWARE_PACKAGE) ? FIRMWARE_QEMU_DIR : FIRMWARE_DIR, name);
        }
        snprintf(err, errlen,
                 "firmware '%s' not found (looked in the current directory, %s%s%s and %s%s)", name,
                 dir ? dir : "", dir ? ", " : "", FIRMWARE_DIR, FIRMWARE_QEMU_DIR, hint);
        return NULL;
    }
    struct stat st;
    const char *why;
    if (stat(name, &st) != 0) {
        why = strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else {
        why = strerror(EACCES);
    }
    const char *base = strrchr(name, '/') + 1;
    const char *pkg = firmware_package(base);
    snprintf(err, errlen, "firmware '%s': %s%s%s%s", name, why,
             pkg ? " (Debian's " : "", pkg ? pkg : "", pkg ? " package provides it)" : "");
    return NULL;
}

static uint8_t *read_whole(const char *path, uint32_t max, uint32_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "firmware '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > max) {
        snprintf(err, errlen, "firmware '%s': size %lld bytes; want 1 to %u", path,
                 (long long)st.st_size, max);
        fclose(f);
        return NULL;
    }
    uint8_t *buf = malloc((size_t)st.st_size);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errlen, "firmware '%s': read failed", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (uint32_t)st.st_size;
    return buf;
}

bool firmware_load_bios(PhysMem *pm, const char *path, uint8_t **low, uint32_t *low_len, char *err,
                        size_t errlen)
{
    uint32_t size;
    uint8_t *rom = read_whole(path, BIOS_MAX_SIZE, &size, err, errlen);
    if (!rom) {
        return false;
    }
    if (size < BIOS_MIN_SIZE || size % 4096) {
        snprintf(err, errlen, "-bios '%s': size %u bytes; want 64 KiB to 256 KiB in 4 KiB units",
                 path, size);
        free(rom);
        return false;
    }
    if (phys_map_rom(pm, (uint32_t)(0x100000000ull - size), rom, size, 1) < 0) {
        snprintf(err, errlen, "-bios '%s': no room in the physical map", path);
        free(rom);
        return false;
    }
    *low_len = size < FIRMWARE_LOW_MAX ? size : FIRMWARE_LOW_MAX;
    *low = malloc(*low_len);
    if (!*low) {
        snprintf(err, errlen, "-bios '%s': out of memory", path);
        free(rom);
        return false;
    }
    memcpy(*low, rom + size - *low_len, *low_len);
    free(rom);
    return true;
}

bool firmware_add_rom(FWCfgState *fw, const char *fw_name, const char *path, const char *dir,
                      char *err, size_t errlen)
{
    char *found = firmware_find(path, dir, err, errlen);
    if (!found) {
        return false;
    }
    uint32_t len;
    uint8_t *rom = read_whole(found, ROM_MAX_SIZE, &len, err, errlen);
    free(found);
    if (!rom) {
        return false;
    }
    bool ok = fw_cfg_add_file(fw, fw_name, rom, len) >= 0;
    if (!ok) {
        snprintf(err, errlen, "option ROM '%s': fw_cfg has no room for '%s'", path, fw_name);
    }
    free(rom);
    return ok;
}

/* ---- fw_cfg and CMOS ---- */

static void put_le(uint8_t *p, uint64_t v, int size)
{
    for (int i = 0; i < size; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

bool firmware_setup_fw_cfg(FWCfgState *fw, const FirmwareConfig *cfg, char *err, size_t errlen)
{
    int cpus = cfg->cpus > 0 ? cfg->cpus : 1;
    bool ok = fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, cfg->ram_bytes) &&
              fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, (uint16_t)cpus) &&
              fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, (uint16_t)cpus) &&
              fw_cfg_add_i16(fw, FW_CFG_BOOT_MENU, cfg->boot_menu ? 1 : 0) &&
              fw_cfg_add_i64(fw, FW_CFG_NUMA, 0) && fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1);

    /* etc/e820: {u64 address, u64 length, u32 type} packed.  RAM only, as
     * QEMU gives it: SeaBIOS adds its own reservations (the BIOS area,
     * the EBDA, its high-memory tables). */
    uint8_t e820[20];
    put_le(e820, 0, 8);
    put_le(e820 + 8, cfg->ram_bytes, 8);
    put_le(e820 + 16, 1, 4);
    ok = ok && fw_cfg_add_file(fw, "etc/e820", e820, sizeof(e820)) >= 0;
    if (cfg->sercon_port) {
        /* SeaBIOS reads it as an integer of the file's size. */
        uint8_t port[2];
        put_le(port, cfg->sercon_port, 2);
        ok = ok && fw_cfg_add_file(fw, "etc/sercon-port", port, sizeof(port)) >= 0;
    }
    if (!ok) {
        snprintf(err, errlen, "fw_cfg: out of room for the machine description");
        return false;
    }
    return firmware_add_acpi(fw, cfg->ram_bytes, err, errlen);
}

/* SeaBIOS's boot-device codes for the CMOS boot order nibbles. */
static int boot_code(char letter)
{
    switch (letter) {
    case 'a': return 1;
    case 'c': return 2;
    case 'd': return 3;
    case 'n': return 4;
    default: return 0;
    }
}

void firmware_setup_cmos(RTCState *rtc, const FirmwareConfig *cfg, unsigned lba_translate)
{
    const char *order = cfg->boot_order ? cfg->boot_order : "cad";
    int code[3] = {0, 0, 0};
    for (int i = 0; i < 3 && order[i]; i++) {
        code[i] = boot_code(order[i]);
    }
    /* 0x3D: first and second device; 0x38 bits 7:4 the third, bit 0 set
     * skips the floppy boot-signature check (as QEMU's default). */
    rtc_set_cmos(rtc, 0x3d, (uint8_t)(code[0] | (code[1] << 4)));
    rtc_set_cmos(rtc, 0x38, (uint8_t)((code[2] << 4) | 1));
    /* 0x39: two bits per IDE drive (0 none, 1 LBA). */
    uint8_t trans = 0;
    for (int i = 0; i < 4; i++) {
        if (lba_translate & (1u << i)) {
            trans |= (uint8_t)(1u << (2 * i));
        }
    }
    rtc_set_cmos(rtc, 0x39, trans);
}

/* ---- ACPI through the table loader ---- */

typedef struct Loader {
    uint8_t script[LOADER_MAX_ENTRIES * LOADER_ENTRY_LEN];
    int n;
} Loader;

static uint8_t *loader_entry(Loader *l, uint32_t command)
{
    if (l->n == LOADER_MAX_ENTRIES) {
        return NULL;
    }
    uint8_t *e = l->script + l->n++ * LOADER_ENTRY_LEN;
    memset(e, 0, LOADER_ENTRY_LEN);
    put_le(e, command, 4);
    return e;
}

static void loader_allocate(Loader *l, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(l, LOADER_ALLOCATE);
    if (e) {
        strncpy((char *)e + 4, file, LOADER_NAME_LEN - 1);
        put_le(e + 4 + LOADER_NAME_LEN, align, 4);
        e[4 + LOADER_NAME_LEN + 4] = zone;
    }
}

/* dest_file[offset..offset+size) holds an offset into src_file; the
 * loader adds src_file's final address to it. */
static void loader_add_pointer(Loader *l, const char *dest, const char *src, uint32_t offset,
                               uint8_t size)
{
    uint8_t *e = loader_entry(l, LOADER_ADD_POINTER);
    if (e) {
        strncpy((char *)e + 4, dest, LOADER_NAME_LEN - 1);
        strncpy((char *)e + 4 + LOADER_NAME_LEN, src, LOADER_NAME_LEN - 1);
        put_le(e + 4 + 2 * LOADER_NAME_LEN, offset, 4);
        e[4 + 2 * LOADER_NAME_LEN + 4] = size;
    }
}

/* The loader subtracts the byte sum of [start, start+length) from the
 * checksum byte, so a table is right after its pointers are patched. */
static void loader_add_checksum(Loader *l, const char *file, uint32_t offset, uint32_t start,
                                uint32_t length)
{
    uint8_t *e = loader_entry(l, LOADER_ADD_CHECKSUM);
    if (e) {
        strncpy((char *)e + 4, file, LOADER_NAME_LEN - 1);
        put_le(e + 4 + LOADER_NAME_LEN, offset, 4);
        put_le(e + 4 + LOADER_NAME_LEN + 4, start, 4);
        put_le(e + 4 + LOADER_NAME_LEN + 8, length, 4);
    }
}

/* One table inside the blob: its pointers are blob offsets (the tables
 * were built at base 0).  Returns the table's end, or 0 if it is bad. */
static uint32_t link_table(Loader *l, const uint8_t *blob, uint32_t at)
{
    if (at < ACPI_RSDP_LEN || at + 36 > ACPI_SCRATCH) {
        return 0;
    }
    uint32_t len = get_le32(blob + at + 4);
    if (len < 36 || at + len > ACPI_SCRATCH) {
        return 0;
    }
    uint32_t end = at + len;
    if (!memcmp(blob + at, "RSDT", 4)) {
        for (uint32_t p = at + 36; p + 4 <= at + len; p += 4) {
            loader_add_pointer(l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, p, 4);
            uint32_t sub_end = link_table(l, blob, get_le32(blob + p));
            end = sub_end > end ? sub_end : end;
        }
    } else if (!memcmp(blob + at, "FACP", 4)) {
        /* FIRMWARE_CTRL (36) and DSDT (40); FACS and DSDT carry no pointers. */
        for (uint32_t p = at + 36; p <= at + 40; p += 4) {
            uint32_t target = get_le32(blob + p);
            if (target == 0) {
                continue;
            }
            loader_add_pointer(l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, p, 4);
            uint32_t target_len = get_le32(blob + target + 4);
            if (target + target_len > end) {
                end = target + target_len;
            }
        }
    }
    loader_add_checksum(l, ACPI_TABLES_FILE, at + 9, at, len);
    return end;
}

bool firmware_add_acpi(FWCfgState *fw, uint64_t ram_bytes, char *err, size_t errlen)
{
    PhysMem scratch;
    uint8_t blob[ACPI_SCRATCH];
    if (!phys_init(&scratch, ACPI_SCRATCH)) {
        snprintf(err, errlen, "ACPI tables: out of memory");
        return false;
    }
    uint32_t rsdp_at = acpi_build_tables(&scratch, 0, ram_bytes);
    phys_read_buf(&scratch, 0, blob, sizeof(blob));
    phys_destroy(&scratch);

    Loader loader;
    memset(&loader, 0, sizeof(loader));
    loader_allocate(&loader, ACPI_TABLES_FILE, 64, LOADER_ZONE_HIGH);
    loader_allocate(&loader, ACPI_RSDP_FILE, 16, LOADER_ZONE_FSEG);
    uint32_t rsdt = get_le32(blob + rsdp_at + 16);
    uint32_t end = link_table(&loader, blob, rsdt);
    if (end == 0 || memcmp(blob + rsdp_at, "RSD PTR ", 8) != 0) {
        snprintf(err, errlen, "ACPI tables: bad layout from acpi_build_tables");
        return false;
    }
    uint8_t rsdp[ACPI_RSDP_LEN];
    memcpy(rsdp, blob + rsdp_at, sizeof(rsdp));
    loader_add_pointer(&loader, ACPI_RSDP_FILE, ACPI_TABLES_FILE, 16, 4);
    loader_add_checksum(&loader, ACPI_RSDP_FILE, 8, 0, ACPI_RSDP_LEN);
    /* The RSDP lives in its own file: blank its copy in the tables blob. */
    memset(blob + rsdp_at, 0, ACPI_RSDP_LEN);
    if (loader.n == LOADER_MAX_ENTRIES || fw_cfg_add_file(fw, ACPI_TABLES_FILE, blob, end) < 0 ||
        fw_cfg_add_file(fw, ACPI_RSDP_FILE, rsdp, sizeof(rsdp)) < 0 ||
        fw_cfg_add_file(fw, ACPI_LOADER_FILE, loader.script,
                        (uint32_t)loader.n * LOADER_ENTRY_LEN) < 0) {
        snprintf(err, errlen, "ACPI tables: fw_cfg out of room");
        return false;
    }
    return true;
}
