/*
 * Multiboot (v1) kernels for -kernel, as QEMU loads them: ELF or a.out-kludge
 * images, -initrd modules (comma-separated "path args" list), and the
 * Multiboot information structure with memory map and command line.
 */
#ifndef BIOS_MULTIBOOT_H
#define BIOS_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "bios/linux_boot.h"

/* Offset of a valid Multiboot header in the first 8 KiB, or -1. */
long multiboot_find_header(const uint8_t *img, size_t size);
bool multiboot_load(PhysMem *pm, CPUState *cpu, const BootConfig *cfg, const uint8_t *img,
                    size_t size, char *err, size_t errlen);

#endif /* BIOS_MULTIBOOT_H */
