/*
 * fw_cfg through its ports only (QEMU docs/specs/fw_cfg.rst): signature,
 * ID, the selector and data ports, the big-endian file directory, item
 * byte order, the DMA interface, and the machine description popek's
 * firmware setup puts there for SeaBIOS (e820, the ACPI table loader,
 * which this test runs the way SeaBIOS's romfile_loader does and then
 * checks against the ACPI specification's checksum and pointer rules).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bios/firmware.h"
#include "hw/misc/fw_cfg.h"

#define RAM_BYTES (1u << 20)

static IOPortMap *io;
static PhysMem pm;
static FWCfgState *fw;

static void setup(void)
{
    io = calloc(1, sizeof(*io));
    ioport_init(io);
    ck_assert(phys_init(&pm, RAM_BYTES));
    fw = fw_cfg_new(io, &pm);
    ck_assert_ptr_nonnull(fw);
}

static void teardown(void)
{
    fw_cfg_free(fw);
    phys_destroy(&pm);
    free(io);
}

static void select_item(uint16_t key)
{
    ioport_write(io, FW_CFG_PORT_SEL, key, 2);
}

static void read_data(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)ioport_read(io, FW_CFG_PORT_DATA, 1);
    }
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Find a file in the directory the way SeaBIOS's qemu_cfg_init walks it. */
static int find_file(const char *name, uint32_t *size)
{
    uint8_t count[4], entry[FW_CFG_DIR_ENTRY_LEN];
    select_item(FW_CFG_FILE_DIR);
    read_data(count, 4);
    for (uint32_t i = 0; i < be32(count); i++) {
        read_data(entry, sizeof(entry));
        if (!strcmp((const char *)entry + 8, name)) {
            *size = be32(entry);
            return (entry[4] << 8) | entry[5];
        }
    }
    return -1;
}

START_TEST(test_signature_and_id)
{
    char sig[5] = {0};
    uint8_t id[4];
    select_item(FW_CFG_SIGNATURE);
    read_data(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    /* Past the end of an item the data port reads 0. */
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DATA, 1), 0);
    /* Selecting again rewinds; a byte read at 0x510 is a data read too. */
    select_item(FW_CFG_SIGNATURE);
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_SEL, 1), 'Q');
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DATA, 1), 'E');
    select_item(FW_CFG_ID);
    read_data(id, 4);
    ck_assert_uint_eq(le32(id), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    /* The DMA register reads back "QEMU CFG" in port order. */
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DMA_HIGH, 4), 0x554d4551u);
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DMA_LOW, 4), 0x47464320u);
}
END_TEST

START_TEST(test_no_dma_without_memory)
{
    IOPortMap *io2 = calloc(1, sizeof(*io2));
    ioport_init(io2);
    FWCfgState *plain = fw_cfg_new(io2, NULL);
    uint8_t id[4];
    ioport_write(io2, FW_CFG_PORT_SEL, FW_CFG_ID, 2);
    for (int i = 0; i < 4; i++) {
        id[i] = (uint8_t)ioport_read(io2, FW_CFG_PORT_DATA, 1);
    }
    ck_assert_uint_eq(le32(id), FW_CFG_VERSION);
    fw_cfg_free(plain);
    free(io2);
}
END_TEST

START_TEST(test_items_are_little_endian)
{
    uint8_t b[8];
    ck_assert(fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x0102030405060708ull));
    ck_assert(fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 0x0201));
    select_item(FW_CFG_RAM_SIZE);
    read_data(b, 8);
    ck_assert_uint_eq(b[0], 0x08);
    ck_assert_uint_eq(b[7], 0x01);
    select_item(FW_CFG_NB_CPUS);
    read_data(b, 2);
    ck_assert_uint_eq(b[0], 0x01);
    ck_assert_uint_eq(b[1], 0x02);
    /* Arch-local selectors live in their own table. */
    ck_assert(fw_cfg_add_i32(fw, FW_CFG_E820_TABLE, 7));
    select_item(FW_CFG_E820_TABLE);
    read_data(b, 4);
    ck_assert_uint_eq(le32(b), 7);
    /* Files and the directory cannot be set as plain items. */
    ck_assert(!fw_cfg_add_i16(fw, FW_CFG_FILE_DIR, 1));
    ck_assert(!fw_cfg_add_i16(fw, FW_CFG_FILE_FIRST, 1));
    /* An unknown selector reads zeros. */
    select_item(0x7fff);
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DATA, 1), 0);
}
END_TEST

START_TEST(test_file_directory)
{
    uint8_t count[4], buf[8];
    uint32_t size;
    int a = fw_cfg_add_file(fw, "etc/alpha", "ABCDEFG", 7);
    int b = fw_cfg_add_file(fw, "opt/beta", "xy", 2);
    ck_assert_int_ge(a, FW_CFG_FILE_FIRST);
    ck_assert_int_ne(a, b);
    select_item(FW_CFG_FILE_DIR);
    read_data(count, 4);
    ck_assert_uint_eq(be32(count), 2);
    ck_assert_int_eq(find_file("opt/beta", &size), b);
    ck_assert_uint_eq(size, 2);
    ck_assert_int_eq(find_file("etc/alpha", &size), a);
    ck_assert_uint_eq(size, 7);
    select_item((uint16_t)a);
    read_data(buf, 7);
    ck_assert_mem_eq(buf, "ABCDEFG", 7);
    /* Replacing keeps the selector and updates the size. */
    ck_assert_int_eq(fw_cfg_add_file(fw, "etc/alpha", "Z", 1), a);
    ck_assert_int_eq(find_file("etc/alpha", &size), a);
    ck_assert_uint_eq(size, 1);
    /* Names must fit the 56-byte field with their NUL. */
    char long_name[80];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[79] = '\0';
    ck_assert_int_eq(fw_cfg_add_file(fw, long_name, "", 0), -1);
    ck_assert_int_eq(fw_cfg_add_file(fw, "", "", 0), -1);
}
END_TEST

/* Write a FWCfgDmaAccess at desc and start it through the DMA port. */
static void dma(uint32_t desc, uint32_t control, uint32_t len, uint32_t target)
{
    uint8_t d[16] = {0};
    for (int i = 0; i < 4; i++) {
        d[i] = (uint8_t)(control >> (24 - 8 * i));
        d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
        d[12 + i] = (uint8_t)(target >> (24 - 8 * i));
    }
    phys_write_buf(&pm, desc, d, sizeof(d));
    /* outl(cpu_to_be32(desc)): the port sees the byte-swapped address. */
    ioport_write(io, FW_CFG_PORT_DMA_HIGH, 0, 4);
    ioport_write(io, FW_CFG_PORT_DMA_LOW, __builtin_bswap32(desc), 4);
}

static uint32_t dma_control(uint32_t desc)
{
    uint8_t c[4];
    phys_read_buf(&pm, desc, c, 4);
    return be32(c);
}

START_TEST(test_dma_read_skip_and_errors)
{
    uint8_t out[16];
    int key = fw_cfg_add_file(fw, "etc/data", "0123456789", 10);
    /* Select and read 4 bytes. */
    dma(0x1000, ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, 0x2000);
    ck_assert_uint_eq(dma_control(0x1000), 0);
    phys_read_buf(&pm, 0x2000, out, 4);
    ck_assert_mem_eq(out, "0123", 4);
    /* Skip 2, then read on past the end: the tail is zero-filled. */
    dma(0x1000, FW_CFG_DMA_CTL_SKIP, 2, 0);
    memset(out, 0xee, sizeof(out));
    phys_write_buf(&pm, 0x3000, out, sizeof(out));
    dma(0x1000, FW_CFG_DMA_CTL_READ, 6, 0x3000);
    ck_assert_uint_eq(dma_control(0x1000), 0);
    phys_read_buf(&pm, 0x3000, out, 8);
    ck_assert_mem_eq(out, "6789\0\0\xee\xee", 8);
    /* The port interface shares the cursor. */
    dma(0x1000, ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 9, 0);
    ck_assert_uint_eq(ioport_read(io, FW_CFG_PORT_DATA, 1), '9');
    /* Writes are not offered: the error bit comes back. */
    dma(0x1000, FW_CFG_DMA_CTL_WRITE, 1, 0x2000);
    ck_assert_uint_eq(dma_control(0x1000), FW_CFG_DMA_CTL_ERROR);
}
END_TEST

/*
 * A read as long as the 32-bit space allows: the item, then zeros over RAM
 * and everything past it.  Found by the machine fuzzer (regress/machine/
 * fw-cfg-dma-4gib-read-stalls): the zeros were made a byte at a time, so
 * one such port write kept popek away from its monitor and timers for
 * 20 s.  Eight in a row must be far quicker than the case's timeout.
 */
START_TEST(test_dma_read_of_the_whole_space)
{
    int key = fw_cfg_add_file(fw, "etc/data", "0123456789", 10);
    uint8_t out[16];
    for (int i = 0; i < 8; i++) {
        memset(out, 0xee, sizeof(out));
        phys_write_buf(&pm, 0x80000, out, sizeof(out));
        phys_write_buf(&pm, RAM_BYTES - 16, out, sizeof(out));
        dma(0x800, ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
            0xfffff000u, 0);
        ck_assert_uint_eq(dma_control(0x800), 0);
        phys_read_buf(&pm, 0, out, sizeof(out));
        ck_assert_mem_eq(out, "0123456789\0\0\0\0\0\0", 16);
        phys_read_buf(&pm, 0x80000, out, sizeof(out));
        ck_assert_mem_eq(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        phys_read_buf(&pm, RAM_BYTES - 16, out, sizeof(out));
        ck_assert_mem_eq(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    }
}
END_TEST

START_TEST(test_machine_description)
{
    FirmwareConfig cfg = {.ram_bytes = 64u << 20, .cpus = 1};
    char err[256];
    uint8_t e820[20], b[8];
    uint32_t size;
    ck_assert_msg(firmware_setup_fw_cfg(fw, &cfg, err, sizeof(err)), "%s", err);
    select_item(FW_CFG_RAM_SIZE);
    read_data(b, 8);
    ck_assert_uint_eq(le32(b), 64u << 20);
    select_item(FW_CFG_NB_CPUS);
    read_data(b, 2);
    ck_assert_uint_eq(b[0] | (b[1] << 8), 1);
    /* etc/e820: one RAM entry {u64 base 0, u64 length, u32 type 1}. */
    int key = find_file("etc/e820", &size);
    ck_assert_int_ge(key, 0);
    ck_assert_uint_eq(size, 20);
    select_item((uint16_t)key);
    read_data(e820, 20);
    ck_assert_uint_eq(le32(e820), 0);
    ck_assert_uint_eq(le32(e820 + 8), 64u << 20);
    ck_assert_uint_eq(le32(e820 + 12), 0);
    ck_assert_uint_eq(le32(e820 + 16), 1);
}
END_TEST

/* ---- a table loader as SeaBIOS runs it ---- */

typedef struct LoadedFile {
    char name[56];
    uint8_t data[8192];
    uint32_t size;
    uint32_t addr; /* where we "allocated" it */
} LoadedFile;

static LoadedFile *loaded_find(LoadedFile *files, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (!strcmp(files[i].name, name)) {
            return &files[i];
        }
    }
    return NULL;
}

static uint8_t sum_bytes(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; i++) {
        s = (uint8_t)(s + p[i]);
    }
    return s;
}

START_TEST(test_acpi_table_loader)
{
    static LoadedFile files[2];
    char err[256];
    uint32_t size;
    uint8_t script[32 * 128];
    memset(files, 0, sizeof(files));
    ck_assert_msg(firmware_add_acpi(fw, 256u << 20, err, sizeof(err)), "%s", err);
    int key = find_file("etc/table-loader", &size);
    ck_assert_int_ge(key, 0);
    ck_assert_uint_eq(size % 128, 0);
    ck_assert_uint_le(size, sizeof(script));
    select_item((uint16_t)key);
    read_data(script, size);

    int nfiles = 0;
    uint32_t next_addr = 0x100000;
    for (uint32_t off = 0; off < size; off += 128) {
        const uint8_t *e = script + off;
        uint32_t cmd = le32(e);
        if (cmd == 1) { /* ALLOCATE: file, align, zone */
            LoadedFile *f = &files[nfiles++];
            uint32_t fsize;
            memcpy(f->name, e + 4, 56);
            int fkey = find_file(f->name, &fsize);
            ck_assert_int_ge(fkey, 0);
            ck_assert_uint_le(fsize, sizeof(f->data));
            select_item((uint16_t)fkey);
            read_data(f->data, fsize);
            f->size = fsize;
            uint32_t align = le32(e + 60);
            ck_assert_uint_ge(align, 1);
            next_addr = (next_addr + align - 1) & ~(align - 1);
            f->addr = next_addr;
            next_addr += fsize;
            /* The RSDP must land where a guest's scan looks (zone FSEG). */
            ck_assert_uint_eq(e[64], !strcmp(f->name, "etc/acpi/rsdp") ? 2 : 1);
        } else if (cmd == 2) { /* ADD_POINTER: dest, src, offset, size */
            LoadedFile *dst = loaded_find(files, nfiles, (const char *)e + 4);
            LoadedFile *src = loaded_find(files, nfiles, (const char *)e + 60);
            uint32_t at = le32(e + 116);
            ck_assert_ptr_nonnull(dst);
            ck_assert_ptr_nonnull(src);
            ck_assert_uint_eq(e[120], 4);
            uint32_t v = le32(dst->data + at) + src->addr;
            memcpy(dst->data + at, &v, 4);
        } else if (cmd == 3) { /* ADD_CHECKSUM: file, offset, start, length */
            LoadedFile *f = loaded_find(files, nfiles, (const char *)e + 4);
            ck_assert_ptr_nonnull(f);
            f->data[le32(e + 60)] -= sum_bytes(f->data + le32(e + 64), le32(e + 68));
        } else {
            ck_abort_msg("unexpected loader command %u", cmd);
        }
    }
    LoadedFile *rsdp = loaded_find(files, nfiles, "etc/acpi/rsdp");
    LoadedFile *tables = loaded_find(files, nfiles, "etc/acpi/tables");
    ck_assert_ptr_nonnull(rsdp);
    ck_assert_ptr_nonnull(tables);
    /* ACPI 5.2.5.3: the RSDP's first 20 bytes sum to zero. */
    ck_assert_mem_eq(rsdp->data, "RSD PTR ", 8);
    ck_assert_uint_eq(sum_bytes(rsdp->data, 20), 0);
    /* Follow the now-absolute pointers: RSDT -> FADT -> DSDT, FACS. */
    uint32_t rsdt = le32(rsdp->data + 16) - tables->addr;
    ck_assert_mem_eq(tables->data + rsdt, "RSDT", 4);
    ck_assert_uint_eq(sum_bytes(tables->data + rsdt, le32(tables->data + rsdt + 4)), 0);
    uint32_t fadt = le32(tables->data + rsdt + 36) - tables->addr;
    ck_assert_mem_eq(tables->data + fadt, "FACP", 4);
    ck_assert_uint_eq(sum_bytes(tables->data + fadt, le32(tables->data + fadt + 4)), 0);
    uint32_t facs = le32(tables->data + fadt + 36);
    uint32_t dsdt = le32(tables->data + fadt + 40) - tables->addr;
    ck_assert_uint_eq(facs % 64, 0); /* 5.2.10: FACS is 64-byte aligned */
    ck_assert_mem_eq(tables->data + (facs - tables->addr), "FACS", 4);
    ck_assert_mem_eq(tables->data + dsdt, "DSDT", 4);
    ck_assert_uint_eq(sum_bytes(tables->data + dsdt, le32(tables->data + dsdt + 4)), 0);
    /* The ISA devices, as SeaBIOS's DSDT parser finds them: Name (_HID,
     * EisaId (...)) as a DWordPrefix constant.  Without PNP0303 SeaBIOS
     * runs no PS/2 keyboard ("ACPI: no PS/2 keyboard present"). */
    const uint8_t *aml = tables->data + dsdt;
    size_t aml_len = le32(tables->data + dsdt + 4);
    static const uint8_t hids[][9] = {
        {'_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x03, 0x03}, /* PNP0303 keyboard */
        {'_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0f, 0x13}, /* PNP0F13 mouse */
        {'_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00}, /* PNP0B00 RTC */
        {'_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01}, /* PNP0501 16550A */
    };
    for (size_t i = 0; i < sizeof(hids) / sizeof(hids[0]); i++) {
        ck_assert_msg(memmem(aml, aml_len, hids[i], sizeof(hids[i])), "DSDT lacks HID %zu", i);
    }
    /* The keyboard's resources: ports 60h and 64h, IRQ 1; COM1 at 3F8h, IRQ 4. */
    static const uint8_t kbd_crs[] = {0x47, 1, 0x60, 0, 0x60, 0, 1, 1, 0x47, 1, 0x64, 0,
                                      0x64, 0,    1, 1, 0x22, 0x02, 0, 0x79, 0};
    ck_assert_ptr_nonnull(memmem(aml, aml_len, kbd_crs, sizeof(kbd_crs)));
    static const uint8_t com1_crs[] = {0x47, 1, 0xf8, 3, 0xf8, 3, 1, 8, 0x22, 0x10, 0, 0x79, 0};
    ck_assert_ptr_nonnull(memmem(aml, aml_len, com1_crs, sizeof(com1_crs)));
}
END_TEST

/* -nographic: etc/sercon-port names COM1 (a 16-bit integer, as SeaBIOS's
 * romfile_loadint reads it); without it there is no such file. */
START_TEST(test_sercon_port)
{
    char err[256];
    uint32_t size;
    FirmwareConfig cfg = {.ram_bytes = 64u << 20, .cpus = 1};
    ck_assert_msg(firmware_setup_fw_cfg(fw, &cfg, err, sizeof(err)), "%s", err);
    ck_assert_int_lt(find_file("etc/sercon-port", &size), 0);
}
END_TEST

START_TEST(test_sercon_port_nographic)
{
    char err[256];
    uint32_t size;
    uint8_t port[2];
    FirmwareConfig cfg = {.ram_bytes = 64u << 20, .cpus = 1, .sercon_port = 0x3f8};
    ck_assert_msg(firmware_setup_fw_cfg(fw, &cfg, err, sizeof(err)), "%s", err);
    int key = find_file("etc/sercon-port", &size);
    ck_assert_int_ge(key, 0);
    ck_assert_uint_eq(size, 2);
    select_item((uint16_t)key);
    read_data(port, 2);
    ck_assert_uint_eq(port[0] | port[1] << 8, 0x3f8);
}
END_TEST

START_TEST(test_firmware_find_names_package)
{
    char err[512];
    /* A BIOS image name: the message names where Debian puts it. */
    char *p = firmware_find("bios-missing-test.bin", "/nonexistent-dir", err, sizeof(err));
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir"));
    ck_assert_ptr_nonnull(strstr(err, "seabios package provides /usr/share/seabios/"
                                      "bios-missing-test.bin"));
    ck_assert_ptr_null(strchr(err, '\n'));
    /* QEMU's option ROMs come from qemu-system-data. */
    p = firmware_find("linuxboot_missing.bin", NULL, err, sizeof(err));
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err, "qemu-system-data"));
    /* A path is taken as given. */
    p = firmware_find("/nonexistent-dir/bios.bin", NULL, err, sizeof(err));
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    ck_assert_ptr_nonnull(strstr(err, "seabios"));
}
END_TEST

static Suite *fw_cfg_suite(void)
{
    Suite *s = suite_create("fw_cfg");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_signature_and_id);
    tcase_add_test(tc, test_no_dma_without_memory);
    tcase_add_test(tc, test_items_are_little_endian);
    tcase_add_test(tc, test_file_directory);
    tcase_add_test(tc, test_dma_read_skip_and_errors);
    tcase_add_test(tc, test_machine_description);
    tcase_add_test(tc, test_acpi_table_loader);
    tcase_add_test(tc, test_sercon_port);
    tcase_add_test(tc, test_sercon_port_nographic);
    tcase_add_test(tc, test_firmware_find_names_package);
    suite_add_tcase(s, tc);
    TCase *bulk = tcase_create("bulk");
    tcase_add_checked_fixture(bulk, setup, teardown);
    tcase_set_timeout(bulk, 60);
    tcase_add_test(bulk, test_dma_read_of_the_whole_space);
    suite_add_tcase(s, bulk);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fw_cfg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
