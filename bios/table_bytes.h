/*
 * Little-endian fields and byte checksums of the firmware tables popek
 * builds (ACPI in bios/acpi.c, Intel MP in bios/mptable.c): both specs
 * want the bytes of a table to sum to zero.
 */
#ifndef BIOS_TABLE_BYTES_H
#define BIOS_TABLE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* The byte that makes p[0..len) sum to zero with it. */
static inline uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return (uint8_t)-sum;
}

#endif /* BIOS_TABLE_BYTES_H */
