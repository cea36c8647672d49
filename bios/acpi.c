/*
 * ACPI 1.0 tables (ACPI specification 5.2): revision-1 FADT, because it
 * carries everything a PC without an APIC needs and every Linux accepts it.
 */
#include <string.h>

#include "bios/acpi.h"
#include "hw/acpi_pm.h"

/* Offsets from the base. */
#define RSDP_OFF 0x000
#define RSDT_OFF 0x040
#define FADT_OFF 0x080
#define FACS_OFF 0x100 /* 64-byte aligned (5.2.10) */
#define DSDT_OFF 0x140

#define FADT_LEN 116
#define FACS_LEN 64

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return (uint8_t)-sum;
}

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

/* DSDT: Name (\_S5, Package () { SLP_TYP, SLP_TYP }) in AML (ACPI 20.2). */
static uint32_t build_dsdt(uint8_t *t)
{
    uint8_t elems[4];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (ACPI_PM_SLP_TYP_S5 == 0) {
            elems[n++] = 0x00; /* ZeroOp */
        } else {
            elems[n++] = 0x0a; /* BytePrefix */
            elems[n++] = ACPI_PM_SLP_TYP_S5;
        }
    }
    uint32_t len = 36;
    t[len++] = 0x08; /* NameOp */
    memcpy(t + len, "_S5_", 4);
    len += 4;
    t[len++] = 0x12;              /* PackageOp */
    t[len++] = (uint8_t)(2 + n);  /* PkgLength: itself, NumElements, elements */
    t[len++] = 2;                 /* NumElements */
    memcpy(t + len, elems, (size_t)n);
    len += (uint32_t)n;
    table_header(t, "DSDT", len, 1);
    table_finish(t, len);
    return len;
}

static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
    table_header(t, "FACP", FADT_LEN, 1);
    put32(t + 36, facs);
    put32(t + 40, dsdt);
    put16(t + 46, ACPI_PM_SCI_IRQ);
    /* SMI_CMD = 0: the board is always in ACPI mode (hw/acpi_pm.h). */
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

uint32_t acpi_build_tables(PhysMem *pm, uint32_t base)
{
    uint8_t buf[0x200];
    memset(buf, 0, sizeof(buf));

    uint32_t dsdt_len = build_dsdt(buf + DSDT_OFF);
    memcpy(buf + FACS_OFF, "FACS", 4);
    put32(buf + FACS_OFF + 4, FACS_LEN);
    build_fadt(buf + FADT_OFF, base + FACS_OFF, base + DSDT_OFF);

    uint8_t *rsdt = buf + RSDT_OFF;
    table_header(rsdt, "RSDT", 36 + 4, 1);
    put32(rsdt + 36, base + FADT_OFF);
    table_finish(rsdt, 36 + 4);

    /* RSDP (5.2.5.3), ACPI 1.0 form: 20 bytes, checksum over all of them. */
    uint8_t *rsdp = buf + RSDP_OFF;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "POPEK ", 6);
    rsdp[15] = 0;
    put32(rsdp + 16, base + RSDT_OFF);
    rsdp[8] = checksum(rsdp, 20);

    phys_load(pm, base, buf, DSDT_OFF + dsdt_len);
    return base + RSDP_OFF;
}
