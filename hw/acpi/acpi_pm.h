/*
 * ACPI fixed-hardware power management registers: the PM1a event and
 * control blocks and the PM timer (ACPI specification, "ACPI Register Model").
 *
 * Where it lives: a plain ISA device at a fixed I/O base, not a PIIX4 PM
 * PCI function (8086:7113 at 00:01.3).  With 8086:7113 on the bus SeaBIOS
 * moves the block to its own base through PMBA and runs its SMM setup
 * through the APM ports and DEVACTB, which needs SMM in the CPU, and Linux
 * applies the PIIX4 PM-timer erratum workaround to early revisions.  Linux
 * finds the registers through the FADT alone, so the fixed block is all it
 * needs.  The ACPI table writer puts the addresses below into the FADT.
 *
 * The board is always in ACPI mode: SCI_EN reads 1 and cannot be cleared,
 * so the FADT's SMI_CMD, ACPI_ENABLE and ACPI_DISABLE are 0.  The PM timer
 * is 24 bits wide (FADT flag TMR_VAL_EXT = 0).  The SCI is IRQ 9, level
 * triggered, active high: set ELCR bit 9 and give the MADT an interrupt
 * source override for it.
 *
 * Sleep: only S5 is implemented.  The DSDT must define \_S5 as
 * Package () { ACPI_PM_SLP_TYP_S5, ACPI_PM_SLP_TYP_S5 } (the PIIX4 encoding,
 * 000 = soft off) and no other \_Sx sleep states.
 */
#ifndef HW_ACPI_ACPI_PM_H
#define HW_ACPI_ACPI_PM_H

#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "softmmu/ioport.h"

#define ACPI_PM_BASE      0x600
#define ACPI_PM_IO_LEN    12
#define ACPI_PM1A_EVT_BLK (ACPI_PM_BASE + 0x00) /* PM1_STS at +0, PM1_EN at +2 */
#define ACPI_PM1_EVT_LEN  4
#define ACPI_PM1A_CNT_BLK (ACPI_PM_BASE + 0x04)
#define ACPI_PM1_CNT_LEN  2
#define ACPI_PM_TMR_BLK   (ACPI_PM_BASE + 0x08)
#define ACPI_PM_TMR_LEN   4
#define ACPI_PM_SCI_IRQ   9
#define ACPI_PM_TIMER_HZ  3579545

/* PM1_STS / PM1_EN bits (ACPI specification, "PM1 Event Grouping"). */
#define ACPI_PM1_TMR    0x0001
#define ACPI_PM1_BM     0x0010 /* status only */
#define ACPI_PM1_GBL    0x0020
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_SLPBTN 0x0200
#define ACPI_PM1_RTC    0x0400
#define ACPI_PM1_WAK    0x8000 /* status only */

/* PM1_CNT bits (ACPI specification, "PM1 Control Grouping"). */
#define ACPI_PM1_CNT_SCI_EN        0x0001
#define ACPI_PM1_CNT_BM_RLD        0x0002
#define ACPI_PM1_CNT_GBL_RLS       0x0004
#define ACPI_PM1_CNT_SLP_TYP       0x1c00
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_EN        0x2000

#define ACPI_PM_SLP_TYP_S5 0

typedef struct AcpiPMState AcpiPMState;

/* Claims ports [ACPI_PM_BASE, ACPI_PM_BASE + ACPI_PM_IO_LEN).  poweroff is
 * called when the guest enters S5. */
AcpiPMState *acpi_pm_new(IOPortMap *io, TimerList *tl, IRQ sci, void (*poweroff)(void *opaque),
                         void *opaque);
void acpi_pm_free(AcpiPMState *s);
void acpi_pm_reset(AcpiPMState *s);
/* Saved state: section "acpi_pm" (migration/vmstate.h). */
extern const struct VMStateDesc acpi_pm_vmstate;
/* The power button was pressed: PWRBTN_STS, and an SCI if PWRBTN_EN. */
void acpi_pm_power_button(AcpiPMState *s);

#endif /* HW_ACPI_ACPI_PM_H */
