/*
 * ACPI tables for direct kernel boot: RSDP, RSDT, FADT, FACS and a DSDT
 * whose only object is \_S5, so a guest's poweroff reaches the PM1 control
 * register (hw/acpi_pm.h) and ends popek.  No MADT until an APIC exists.
 */
#ifndef BIOS_ACPI_H
#define BIOS_ACPI_H

#include <stdint.h>

#include "softmmu/phys.h"

/* Write the tables at base (16-byte aligned, inside E0000h-FFFFFh so the
 * guest's RSDP scan finds them); returns the RSDP's physical address. */
uint32_t acpi_build_tables(PhysMem *pm, uint32_t base);

#endif /* BIOS_ACPI_H */
