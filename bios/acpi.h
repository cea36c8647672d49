/*
 * ACPI tables: RSDP, RSDT, FADT, FACS and a DSDT with \_S5 (so a guest's
 * poweroff reaches the PM1 control register, hw/acpi/acpi_pm.h, and ends popek)
 * and the PCI root bridge with the ISA devices (PS/2 keyboard and mouse,
 * RTC, COM1 and COM2).  No MADT until an APIC exists.
 */
#ifndef BIOS_ACPI_H
#define BIOS_ACPI_H

#include <stdint.h>

#include "softmmu/phys.h"

/* Write the tables at base (16-byte aligned, inside E0000h-FFFFFh so the
 * guest's RSDP scan finds them) for a machine with ram_bytes of RAM;
 * returns the RSDP's physical address. */
uint32_t acpi_build_tables(PhysMem *pm, uint32_t base, uint64_t ram_bytes);

#endif /* BIOS_ACPI_H */
