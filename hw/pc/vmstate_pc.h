/*
 * The board's saved-state sections (hw/pc/vmstate_pc.c) and the CPU's
 * (hw/pc/vmstate_cpu.c); pc.c registers the devices' after these.
 */
#ifndef HW_PC_VMSTATE_PC_H
#define HW_PC_VMSTATE_PC_H

#include "hw/pc/pc.h"
#include "migration/registry.h"

extern const VMStateDesc cpu_vmstate;

/* Create pc->vmstate with the board's sections: cpu, clock, ram, board. */
void pc_vmstate_init(PC *pc);

#endif /* HW_PC_VMSTATE_PC_H */
