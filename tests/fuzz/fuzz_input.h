/*
 * How the device harnesses read their input: little-endian fields taken
 * from the front, bytes past the end reading as 0, so every input is a
 * valid program and a truncated one still runs.
 */
#ifndef TESTS_FUZZ_FUZZ_INPUT_H
#define TESTS_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct FuzzInput {
    const uint8_t *p;
    size_t left;
} FuzzInput;

/* The next 'bytes' (1 to 4) bytes as a little-endian number. */
static inline uint32_t fuzz_take(FuzzInput *in, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes && in->left; i++, in->left--) {
        v |= (uint32_t)*in->p++ << (8 * i);
    }
    return v;
}

/* An access width from a selector byte: 1, 2 or 4 (4 twice as often). */
static inline int fuzz_access_size(uint32_t sel)
{
    static const int sizes[4] = {1, 2, 4, 4};
    return sizes[sel & 3];
}

#endif /* TESTS_FUZZ_FUZZ_INPUT_H */
