/*
 * Direct kernel boot: load a Linux bzImage (boot protocol 2.02+) or a
 * Multiboot v1 kernel into guest memory and leave the CPU at its 32-bit
 * entry point, with no BIOS involved.
 */
#ifndef BIOS_LINUX_BOOT_H
#define BIOS_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"
#include "softmmu/phys.h"

/* Physical layout of what the loader writes below 1 MiB. */
#define BOOT_GDT_ADDR     0x00006000u /* flat GDT for the 32-bit entry */
#define BOOT_PARAMS_ADDR  0x00010000u /* the zero page (struct boot_params) */
#define BOOT_CMDLINE_ADDR 0x00020000u /* kernel command line */
#define BOOT_CMDLINE_MAX  0x00010000u
#define BOOT_ACPI_ADDR    0x000e0000u /* ACPI tables, reserved in the e820 map */
#define BOOT_MPTABLE_ADDR 0x000f0000u /* MP tables, where kernels scan for them (reserved too) */
#define BOOT_KERNEL_ADDR  0x00100000u /* protected-mode kernel */

typedef struct BootConfig {
    const char *kernel_path;
    const char *initrd_path;  /* NULL: none */
    const char *cmdline;      /* NULL: empty */
    uint64_t ram_bytes;
    uint32_t acpi_rsdp;       /* physical address of the RSDP, 0 if none */
} BootConfig;

/*
 * Load the kernel (and initrd) named in cfg, write boot_params and set up
 * the CPU for the kernel's 32-bit entry.  On failure returns false with a
 * one-line message naming the file and the problem in err.
 */
bool linux_boot_load(PhysMem *pm, CPUState *cpu, const BootConfig *cfg, char *err,
                     size_t errlen);

/*
 * Whether the image at path uses the boot protocol's header but is not a
 * Linux kernel whose 32-bit entry is safe to jump to (syslinux's memdisk,
 * iPXE's .lkrn): such an image must start at its real-mode setup code,
 * under a BIOS.  False for Linux kernels, Multiboot kernels and files that
 * cannot be read (linux_boot_load reports those).
 */
bool linux_boot_needs_bios(const char *path);

/* The e820 map popek gives the guest (RAM, the 640K-1M hole, ACPI). */
typedef struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI reclaimable */
} E820Entry;

int boot_e820_map(uint64_t ram_bytes, E820Entry *out, int max);

/* Enter 32-bit flat protected mode at eip (used by both loaders). */
void boot_enter_flat32(PhysMem *pm, CPUState *cpu, uint32_t eip, uint32_t gdt_addr);

#endif /* BIOS_LINUX_BOOT_H */
