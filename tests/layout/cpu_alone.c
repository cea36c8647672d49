/*
 * cpu/ and softmmu/ with nothing above them: this program links popek_cpu
 * alone (no translator, no devices, no frontend) and runs a few real-mode
 * instructions on it.  If cpu/ ever called into translator/ or hw/, it
 * would no longer link.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "softmmu/ioport.h"
#include "softmmu/phys.h"

int main(void)
{
    static PhysMem phys;
    static IOPortMap io;
    static CPUState cpu;
    /* At 0000:7C00: mov ax, 1234h ; add ax, 1111h ; mov [0500h], ax ; hlt */
    static const unsigned char code[] = {0xb8, 0x34, 0x12, 0x05, 0x11, 0x11,
                                         0xa3, 0x00, 0x05, 0xf4};
    if (!phys_init(&phys, 1u << 20)) {
        fprintf(stderr, "cpu_alone: cannot reserve guest RAM\n");
        return 1;
    }
    ioport_init(&io);
    cpu_init(&cpu, &phys, &io);
    cpu_reset(&cpu);
    phys_load(&phys, 0x7c00, code, sizeof(code));
    seg_load_real(&cpu, SEG_CS, 0);
    cpu.eip = 0x7c00;
    int reason = cpu_exec(&cpu, 100);
    uint16_t stored = 0;
    phys_read_buf(&phys, 0x500, &stored, sizeof(stored));
    bool ok = reason == CPU_EXIT_HALT && (cpu.regs[R_EAX] & 0xffff) == 0x2345 && stored == 0x2345;
    printf("cpu_alone: exit %d, AX=%04x, [0500h]=%04x: %s\n", reason,
           (unsigned)(cpu.regs[R_EAX] & 0xffff), stored, ok ? "ok" : "WRONG");
    phys_destroy(&phys);
    return ok ? 0 : 1;
}
