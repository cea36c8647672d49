/*
 * A guest program for tests/guest/linux/pae_guest.py: what CPUID says, as
 * the guest's CPU answers it, one line per leaf:
 *
 *   CPUID <leaf> <eax> <ebx> <ecx> <edx>      (hex, leaf 4 with ECX = 0)
 *
 * for the basic leaves 0 to the maximum and the extended leaves 80000000h
 * to theirs (when 80000000h reports a maximum in that range).
 */
#include <stdint.h>
#include <stdio.h>

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static void dump(uint32_t leaf)
{
    uint32_t r[4];
    cpuid(leaf, r);
    printf("CPUID %08x %08x %08x %08x %08x\n", leaf, r[0], r[1], r[2], r[3]);
}

int main(void)
{
    uint32_t r[4];
    cpuid(0, r);
    for (uint32_t leaf = 0; leaf <= r[0] && leaf < 32; leaf++) {
        dump(leaf);
    }
    cpuid(0x80000000u, r);
    if ((r[0] & 0xffff0000u) == 0x80000000u) {
        for (uint32_t leaf = 0x80000000u; leaf <= r[0] && leaf < 0x80000020u; leaf++) {
            dump(leaf);
        }
    }
    printf("CPUID done\n");
    return 0;
}
