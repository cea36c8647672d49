/*
 * The CPU state as QEMU's x86 dump prints it (`-d cpu`, `info registers`),
 * line for line, so scripts written for QEMU's logs read popek's:
 *
 *   EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000683
 *   ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000
 *   EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0
 *   ES =0000 00000000 0000ffff 00009300          (selector base limit flags,
 *   CS =f000 ffff0000 0000ffff 00009b00           then, in protected mode,
 *   ...                                           DPL and type: DPL=0 CS32 [-RA])
 *   LDT=0000 00000000 0000ffff 00008200
 *   TR =0000 00000000 0000ffff 00008b00
 *   GDT=     00000000 0000ffff
 *   IDT=     00000000 0000ffff
 *   CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000
 *   DR0=00000000 DR1=00000000 DR2=00000000 DR3=00000000
 *   DR6=ffff0ff0 DR7=00000400
 *   EFER=0000000000000000
 *
 * The flags column is the descriptor's high dword (QEMU's layout too); the
 * flag letters are D O S Z A P C.  popek has no SMM, so SMM reads 0;
 * EFER is IA32_EFER (NXE on models with NX).
 */
#ifndef FRONTEND_CPUDUMP_H
#define FRONTEND_CPUDUMP_H

#include <stddef.h>

#include "cpu/cpu.h"

/* Write the dump into buf (NUL-terminated, truncated to len); returns the
 * length the whole dump needs, as snprintf does. */
int cpudump_format(const CPUState *cpu, char *buf, size_t len);

/* A buffer that always holds a whole dump. */
#define CPUDUMP_MAX 1536

#endif /* FRONTEND_CPUDUMP_H */
