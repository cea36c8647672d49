/*
 * ACPI 1.0 tables (ACPI specification 5.2): revision-1 FADT, because it
 * carries everything the PC needs and every Linux accepts it, and the MADT
 * for the local APIC and the I/O APIC.
 */
#include <stdlib.h>
#include <string.h>

#include "bios/acpi.h"
#include "bios/table_bytes.h"
#include "hw/acpi/acpi_pm.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"

/* Offsets from the base. */
#define RSDP_OFF 0x000
#define RSDT_OFF 0x040
#define FADT_OFF 0x080
#define FACS_OFF 0x100 /* 64-byte aligned (5.2.10) */
#define DSDT_OFF 0x140

#define FADT_LEN 116
#define FACS_LEN 64
#define TABLES_MAX 0x800 /* all of them */

/* The 36-byte System Description Table Header (5.2.6); checksum set later. */
static void table_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = revision;
    memcpy(t + 10, "POPEK ", 6);
    memcpy(t + 16, "POPEKPC ", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "POPK", 4);
    put32(t + 32, 1);
}

static void table_finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = checksum(t, len);
}

/*
 * A tiny AML writer (ACPI 6.x chapter 20): bytes appended to a buffer, with
 * package lengths patched in once the package's contents are known.
 */
typedef struct Aml {
    uint8_t *buf;
    uint32_t len;
} Aml;

static void aml_byte(Aml *a, uint8_t b)
{
    a->buf[a->len++] = b;
}

static void aml_bytes(Aml *a, const void *p, uint32_t n)
{
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void aml_u16(Aml *a, uint16_t v)
{
    aml_byte(a, (uint8_t)v);
    aml_byte(a, (uint8_t)(v >> 8));
}

static void aml_u32(Aml *a, uint32_t v)
{
    aml_u16(a, (uint16_t)v);
    aml_u16(a, (uint16_t)(v >> 16));
}

/* Open a package: reserve a 2-byte PkgLength (enough below 4 KiB). */
static uint32_t aml_pkg_open(Aml *a)
{
    uint32_t at = a->len;
    a->len += 2;
    return at;
}

/* PkgLength counts itself and everything after it (ACPI 20.2.4). */
static void aml_pkg_close(Aml *a, uint32_t at)
{
    uint32_t n = a->len - at;
    a->buf[at] = (uint8_t)(0x40 | (n & 0xf));
    a->buf[at + 1] = (uint8_t)(n >> 4);
}

/* Word Address Space Descriptor (ACPI 6.4.3.5.3): bus or I/O range. */
static void res_word(Aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    aml_byte(a, 0x88);
    aml_u16(a, 13);
    aml_byte(a, type);       /* 1 I/O, 2 bus number */
    aml_byte(a, 0x0c);       /* MinFixed, MaxFixed, positive decode, producer */
    aml_byte(a, type_flags);
    aml_u16(a, 0);           /* granularity */
    aml_u16(a, min);
    aml_u16(a, max);
    aml_u16(a, 0);           /* translation */
    aml_u16(a, (uint16_t)(max - min + 1));
}

/* DWord Memory Address Space Descriptor (ACPI 6.4.3.5.2). */
static void res_dword_mem(Aml *a, uint32_t min, uint32_t max)
{
    aml_byte(a, 0x87);
    aml_u16(a, 23);
    aml_byte(a, 0);          /* memory */
    aml_byte(a, 0x0c);
    aml_byte(a, 0x01);       /* read/write, non-cacheable */
    aml_u32(a, 0);
    aml_u32(a, min);
    aml_u32(a, max);
    aml_u32(a, 0);
    aml_u32(a, max - min + 1);
}

/*
 * The ISA devices of the board, each Device (NAME) { Name (_HID, EisaId
 * (ID)) Name (_CRS, ResourceTemplate () { IO (Decode16, ...) ...
 * IRQNoFlags () {N} }) }.  SeaBIOS reads the DSDT for PNP0303 and runs no
 * PS/2 keyboard without it ("ACPI: no PS/2 keyboard present"), and Linux's
 * i8042, rtc-cmos and 8250 drivers find their chips through these PNP ids
 * when ACPI is on.
 */
typedef struct IsaDevice {
    char name[5];
    const char *eisa_id;  /* "PNP0303" */
    uint16_t port[2];     /* I/O ranges, length 0 = none */
    uint8_t port_len[2];
    int irq;              /* ISA IRQ, -1 = none */
} IsaDevice;

static const IsaDevice isa_devices[] = {
    {"KBD_", "PNP0303", {0x60, 0x64}, {1, 1}, 1},    /* i8042, keyboard port */
    {"MOU_", "PNP0F13", {0, 0}, {0, 0}, 12},         /* i8042, PS/2 mouse port */
    {"RTC_", "PNP0B00", {0x70, 0}, {2, 0}, 8},       /* MC146818 */
    {"COM1", "PNP0501", {0x3f8, 0}, {8, 0}, 4},      /* 16550A */
    {"COM2", "PNP0501", {0x2f8, 0}, {8, 0}, 3},
};

/* EisaId ("PNP0303"): three letters of 5 bits each, big-endian, then the
 * four hex digits, read as a little-endian dword (ACPI 19.6.35). */
static uint32_t eisa_id(const char *id)
{
    uint16_t vendor = (uint16_t)(((id[0] - '@') << 10) | ((id[1] - '@') << 5) | (id[2] - '@'));
    unsigned product = (unsigned)strtoul(id + 3, NULL, 16);
    return (uint32_t)(vendor >> 8) | (uint32_t)(vendor & 0xff) << 8 |
           (uint32_t)(product >> 8) << 16 | (uint32_t)(product & 0xff) << 24;
}

static void build_isa_device(Aml *a, const IsaDevice *d)
{
    aml_byte(a, 0x5b); /* ExtOpPrefix */
    aml_byte(a, 0x82); /* DeviceOp */
    uint32_t dev = aml_pkg_open(a);
    aml_bytes(a, d->name, 4);
    aml_byte(a, 0x08);
    aml_bytes(a, "_HID", 4);
    aml_byte(a, 0x0c);
    aml_u32(a, eisa_id(d->eisa_id));
    aml_byte(a, 0x08);
    aml_bytes(a, "_CRS", 4);
    aml_byte(a, 0x11); /* BufferOp */
    uint32_t buf = aml_pkg_open(a);
    aml_byte(a, 0x0a); /* BytePrefix: buffer size, patched below */
    uint32_t size_at = a->len;
    aml_byte(a, 0);
    uint32_t res_start = a->len;
    for (int i = 0; i < 2; i++) {
        if (d->port_len[i]) {
            /* I/O Port Descriptor (ACPI 6.4.2.5): 16-bit decode, min = max, align 1. */
            aml_byte(a, 0x47);
            aml_byte(a, 0x01);
            aml_u16(a, d->port[i]);
            aml_u16(a, d->port[i]);
            aml_byte(a, 0x01);
            aml_byte(a, d->port_len[i]);
        }
    }
    if (d->irq >= 0) {
        aml_byte(a, 0x22); /* IRQ Descriptor, no flags byte (ACPI 6.4.2.1): edge, high */
        aml_u16(a, (uint16_t)(1u << d->irq));
    }
    aml_byte(a, 0x79); /* End Tag */
    aml_byte(a, 0x00);
    a->buf[size_at] = (uint8_t)(a->len - res_start);
    aml_pkg_close(a, buf);
    aml_pkg_close(a, dev);
}

/*
 * DSDT: \_S5 for power-off, and the PCI root bridge \_SB.PCI0 (PNP0A03)
 * with the resources it decodes, without which Linux finds no PCI devices
 * when ACPI is on:
 *   Name (\_S5, Package () { SLP_TYP, SLP_TYP })
 *   Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
 *       Name (_ADR, 0)  Name (_UID, 0)  Name (_CRS, ResourceTemplate () {
 *       bus 0-255, I/O 0xCF8-0xCFF, I/O 0-0xCF7 and 0xD00-0xFFFF,
 *       memory 0xA0000-0xBFFFF and from the top of RAM to 0xFEBFFFFF }) }
 *     and the ISA devices above }
 */
static uint32_t build_dsdt(uint8_t *t, uint64_t ram_bytes)
{
    Aml a = {t, 36};
    aml_byte(&a, 0x08); /* NameOp */
    aml_bytes(&a, "_S5_", 4);
    aml_byte(&a, 0x12); /* PackageOp */
    uint32_t pkg = a.len;
    aml_byte(&a, 0);    /* PkgLength, one byte: patched below */
    aml_byte(&a, 2);    /* NumElements */
    for (int i = 0; i < 2; i++) {
        if (ACPI_PM_SLP_TYP_S5 == 0) {
            aml_byte(&a, 0x00); /* ZeroOp */
        } else {
            aml_byte(&a, 0x0a); /* BytePrefix */
            aml_byte(&a, ACPI_PM_SLP_TYP_S5);
        }
    }
    t[pkg] = (uint8_t)(a.len - pkg);

    aml_byte(&a, 0x10); /* ScopeOp */
    uint32_t scope = aml_pkg_open(&a);
    aml_bytes(&a, "\\_SB_", 5);
    aml_byte(&a, 0x5b); /* ExtOpPrefix */
    aml_byte(&a, 0x82); /* DeviceOp */
    uint32_t dev = aml_pkg_open(&a);
    aml_bytes(&a, "PCI0", 4);
    aml_byte(&a, 0x08);
    aml_bytes(&a, "_HID", 4);
    aml_byte(&a, 0x0c); /* DWordPrefix: EisaId ("PNP0A03") */
    aml_u32(&a, 0x030ad041);
    aml_byte(&a, 0x08);
    aml_bytes(&a, "_ADR", 4);
    aml_byte(&a, 0x00);
    aml_byte(&a, 0x08);
    aml_bytes(&a, "_UID", 4);
    aml_byte(&a, 0x00);
    aml_byte(&a, 0x08);
    aml_bytes(&a, "_CRS", 4);
    aml_byte(&a, 0x11); /* BufferOp */
    uint32_t buf = aml_pkg_open(&a);
    aml_byte(&a, 0x0b); /* WordPrefix: buffer size, patched below */
    uint32_t size_at = a.len;
    aml_u16(&a, 0);
    uint32_t res_start = a.len;
    res_word(&a, 2, 0, 0x0000, 0x00ff);
    static const uint8_t cf8_port[] = {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08};
    aml_bytes(&a, cf8_port, sizeof(cf8_port));
    res_word(&a, 1, 0x03, 0x0000, 0x0cf7);
    res_word(&a, 1, 0x03, 0x0d00, 0xffff);
    res_dword_mem(&a, 0x000a0000, 0x000bffff);
    uint32_t hole = (uint32_t)((ram_bytes + 0xfffff) & ~0xfffffull);
    res_dword_mem(&a, hole, 0xfebfffff);
    aml_byte(&a, 0x79); /* End Tag, checksum 0 = not computed */
    aml_byte(&a, 0x00);
    t[size_at] = (uint8_t)(a.len - res_start);
    t[size_at + 1] = (uint8_t)((a.len - res_start) >> 8);
    aml_pkg_close(&a, buf);
    aml_pkg_close(&a, dev);
    for (size_t i = 0; i < sizeof(isa_devices) / sizeof(isa_devices[0]); i++) {
        build_isa_device(&a, &isa_devices[i]);
    }
    aml_pkg_close(&a, scope);

    table_header(t, "DSDT", a.len, 1);
    table_finish(t, a.len);
    return a.len;
}

static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
    table_header(t, "FACP", FADT_LEN, 1);
    put32(t + 36, facs);
    put32(t + 40, dsdt);
    put16(t + 46, ACPI_PM_SCI_IRQ);
    /* SMI_CMD = 0: the board is always in ACPI mode (hw/acpi/acpi_pm.h). */
    put32(t + 56, ACPI_PM1A_EVT_BLK);
    put32(t + 64, ACPI_PM1A_CNT_BLK);
    put32(t + 76, ACPI_PM_TMR_BLK);
    t[88] = ACPI_PM1_EVT_LEN;
    t[89] = ACPI_PM1_CNT_LEN;
    t[91] = ACPI_PM_TMR_LEN;
    put16(t + 96, 101);  /* P_LVL2_LAT > 100: no C2 */
    put16(t + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
    t[108] = 0x32;       /* CENTURY: the RTC's century byte */
    /* Flags: WBINVD works, C1 supported, power and sleep buttons are not
     * fixed-feature buttons. */
    put32(t + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
    table_finish(t, FADT_LEN);
}

/* The ISA IRQs QEMU's pc machine declares level-triggered, active high:
 * the SCI (9) and those PCI interrupts may be steered to (5, 9, 10, 11). */
#define MADT_LEVEL_IRQS ((1u << 5) | (1u << 9) | (1u << 10) | (1u << 11))

/*
 * MADT (ACPI 5.2.12): the local APIC's address with PCAT_COMPAT (8259s
 * present), the one CPU's local APIC, the I/O APIC with GSIs 0-23,
 * interrupt source overrides for IRQ0 (on GSI 2) and the level-triggered
 * IRQs, and LINT1 as every CPU's NMI input.
 */
static uint32_t build_madt(uint8_t *t)
{
    uint32_t len = 44;
    put32(t + 36, APIC_DEFAULT_BASE);
    put32(t + 40, 1); /* PCAT_COMPAT */
    uint8_t *e = t + len;
    e[0] = 0; /* Processor Local APIC */
    e[1] = 8;
    e[2] = 0; /* ACPI processor UID */
    e[3] = 0; /* APIC ID */
    put32(e + 4, 1); /* enabled */
    len += 8;
    e = t + len;
    e[0] = 1; /* I/O APIC */
    e[1] = 12;
    e[2] = PC_IOAPIC_ID;
    e[3] = 0;
    put32(e + 4, IOAPIC_DEFAULT_BASE);
    put32(e + 8, 0); /* global system interrupt base */
    len += 12;
    for (int irq = 0; irq < 16; irq++) {
        bool level = (MADT_LEVEL_IRQS >> irq) & 1;
        if (irq != 0 && !level) {
            continue;
        }
        e = t + len;
        e[0] = 2; /* Interrupt Source Override */
        e[1] = 10;
        e[2] = 0; /* ISA */
        e[3] = (uint8_t)irq;
        put32(e + 4, irq == 0 ? 2 : (uint32_t)irq);
        /* MPS INTI flags: 0 = conforms to the bus; 0xd = active high, level. */
        put16(e + 8, level ? 0xd : 0);
        len += 10;
    }
    e = t + len;
    e[0] = 4; /* Local APIC NMI */
    e[1] = 6;
    e[2] = 0xff; /* all processors */
    put16(e + 3, 0);
    e[5] = 1; /* LINT1 */
    len += 6;
    table_header(t, "APIC", len, 1);
    table_finish(t, len);
    return len;
}

uint32_t acpi_build_tables(PhysMem *pm, uint32_t base, uint64_t ram_bytes)
{
    uint8_t buf[TABLES_MAX];
    memset(buf, 0, sizeof(buf));

    uint32_t dsdt_len = build_dsdt(buf + DSDT_OFF, ram_bytes);
    memcpy(buf + FACS_OFF, "FACS", 4);
    put32(buf + FACS_OFF + 4, FACS_LEN);
    build_fadt(buf + FADT_OFF, base + FACS_OFF, base + DSDT_OFF);
    uint32_t madt_off = (DSDT_OFF + dsdt_len + 15) & ~15u;
    uint32_t madt_len = build_madt(buf + madt_off);

    uint8_t *rsdt = buf + RSDT_OFF;
    table_header(rsdt, "RSDT", 36 + 8, 1);
    put32(rsdt + 36, base + FADT_OFF);
    put32(rsdt + 40, base + madt_off);
    table_finish(rsdt, 36 + 8);

    /* RSDP (5.2.5.3), ACPI 1.0 form: 20 bytes, checksum over all of them. */
    uint8_t *rsdp = buf + RSDP_OFF;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "POPEK ", 6);
    rsdp[15] = 0;
    put32(rsdp + 16, base + RSDT_OFF);
    rsdp[8] = checksum(rsdp, 20);

    phys_load(pm, base, buf, madt_off + madt_len);
    return base + RSDP_OFF;
}
