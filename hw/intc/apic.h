/*
 * The local APIC of the one CPU, in xAPIC mode (Intel SDM Vol.3 chapter 11,
 * "Advanced Programmable Interrupt Controller").
 *
 * Its registers sit in a 4 KiB MMIO page at IA32_APIC_BASE (FEE00000h after
 * reset).  It owns the CPU's INTR pin: it raises intr while it has an
 * interrupt the CPU may take (a vector in IRR whose priority class is above
 * PPR, or an ExtINT request), and the CPU's interrupt-acknowledge cycle
 * (apic_ack) returns the vector, asking the 8259 through extint_ack for an
 * ExtINT one.  The 8259's INT output arrives on LINT0 (apic_lint0); with the
 * APIC globally disabled in IA32_APIC_BASE it passes straight to INTR.
 */
#ifndef HW_INTC_APIC_H
#define HW_INTC_APIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "softmmu/phys.h"

#define APIC_DEFAULT_BASE 0xfee00000u
/* IA32_APIC_BASE bits (SDM Vol.3 11.4.4). */
#define APIC_BASE_BSP    (1u << 8)
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_ADDR   0xfffff000u

/* Register offsets in the APIC page (SDM Vol.3 Table 11-1). */
#define APIC_ID      0x020
#define APIC_VERSION 0x030
#define APIC_TPR     0x080
#define APIC_APR     0x090
#define APIC_PPR     0x0a0
#define APIC_EOI     0x0b0
#define APIC_RRD     0x0c0
#define APIC_LDR     0x0d0
#define APIC_DFR     0x0e0
#define APIC_SVR     0x0f0
#define APIC_ISR     0x100 /* 8 registers, 16 bytes apart */
#define APIC_TMR     0x180
#define APIC_IRR     0x200
#define APIC_ESR     0x280
#define APIC_ICR_LO  0x300
#define APIC_ICR_HI  0x310
#define APIC_LVT_TIMER   0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF    0x340
#define APIC_LVT_LINT0   0x350
#define APIC_LVT_LINT1   0x360
#define APIC_LVT_ERROR   0x370
#define APIC_TIMER_ICR   0x380 /* initial count */
#define APIC_TIMER_CCR   0x390 /* current count */
#define APIC_TIMER_DCR   0x3e0 /* divide configuration */

/* Version register: xAPIC version 14h, LVT entries 0-5 (timer, thermal,
 * performance counters, LINT0, LINT1, error), as QEMU's. */
#define APIC_VERSION_VALUE 0x00050014u

/* SVR bits. */
#define APIC_SVR_ENABLE 0x100u /* APIC software enable */

/* LVT and ICR fields (SDM Vol.3 Figures 11-8 and 11-12). */
#define APIC_LVT_VECTOR     0x000ffu
#define APIC_LVT_MODE_SHIFT 8
#define APIC_LVT_PENDING    (1u << 12) /* delivery status */
#define APIC_LVT_POLARITY   (1u << 13)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_LVT_LEVEL      (1u << 15) /* trigger mode */
#define APIC_LVT_MASKED     (1u << 16)
#define APIC_TIMER_MODE_SHIFT 17       /* LVT timer 18:17 */
enum { APIC_TIMER_ONESHOT = 0, APIC_TIMER_PERIODIC = 1, APIC_TIMER_TSC_DEADLINE = 2 };

/* Delivery modes (LVT 10:8, ICR 10:8, I/O APIC redirection 10:8). */
enum {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7,
};

/* ICR bits beyond the LVT's. */
#define APIC_ICR_LOGICAL     (1u << 11)
#define APIC_ICR_ASSERT      (1u << 14)
#define APIC_ICR_SHORT_SHIFT 18
enum { APIC_SH_NONE = 0, APIC_SH_SELF = 1, APIC_SH_ALL = 2, APIC_SH_OTHERS = 3 };

/* ESR bits (SDM Vol.3 Figure 11-9). */
#define APIC_ESR_SEND_ILLEGAL    (1u << 5)
#define APIC_ESR_RECV_ILLEGAL    (1u << 6)
#define APIC_ESR_ILLEGAL_ADDRESS (1u << 7)

/* The APIC timer counts virtual nanoseconds (a 1 GHz bus clock, QEMU's
 * choice), divided by the divide configuration. */
#define APIC_BUS_HZ 1000000000u

typedef struct APICState APICState;

typedef struct APICHooks {
    void *opaque;
    /* The 8259's interrupt acknowledge, for an ExtINT: its vector, or -1. */
    int (*extint_ack)(void *opaque);
    /* A level-triggered vector's EOI, broadcast to the I/O APIC. */
    void (*eoi)(void *opaque, int vector);
    /* The APIC page moved or (dis)appeared: the CPU's TLB must forget it. */
    void (*map_changed)(void *opaque);
    /* INIT for the CPU (an INIT IPI to itself); the APIC has reset itself. */
    void (*init)(void *opaque);
    /* The TSC now, for IA32_TSC_DEADLINE (the TSC runs at 1 GHz of virtual
     * time, cpu/sysreg.c, so a tick is a nanosecond). */
    uint64_t (*tsc)(void *opaque);
} APICHooks;

/* Create the APIC with ID apic_id, mapped at FEE00000h; intr and nmi are the
 * CPU's INTR and NMI inputs. */
APICState *apic_new(PhysMem *phys, TimerList *timers, uint8_t apic_id, IRQ intr, IRQ nmi,
                    const APICHooks *hooks);
void apic_free(APICState *s);
/* RESET (SDM Vol.3 11.4.7.1): base FEE00000h enabled, BSP, SVR FFh, every LVT
 * masked except LINT0, which is ExtINT as a PC BIOS leaves it (QEMU's reset
 * value too), so a guest that never touches the APIC hears the 8259. */
void apic_reset(APICState *s);
/* Saved state: section "apic" (migration/vmstate.h). */
extern const struct VMStateDesc apic_vmstate;

/* IA32_APIC_BASE.  apic_set_base returns false for reserved bits (#GP). */
uint64_t apic_get_base(APICState *s);
bool apic_set_base(APICState *s, uint64_t value);
/* IA32_TSC_DEADLINE: reads 0 and ignores writes outside TSC-deadline mode. */
uint64_t apic_get_tsc_deadline(APICState *s);
void apic_set_tsc_deadline(APICState *s, uint64_t value);
/* True when the APIC is globally enabled (CPUID.1:EDX.APIC follows this). */
bool apic_enabled(APICState *s);

/* The LINT0 pin, which the 8259's INT output drives on a PC; LINT1 (NMI). */
IRQ apic_lint0(APICState *s);
IRQ apic_lint1(APICState *s);

/* An interrupt message from the I/O APIC (or a bus): accepted when dest
 * addresses this APIC (physical: its ID or FFh; logical: LDR/DFR). */
void apic_deliver(APICState *s, int delivery_mode, int vector, bool level_trigger, bool logical,
                  uint8_t dest);
/* The CPU's INTA: the vector to take, the spurious vector if what raised INTR
 * lost its priority, or -1 when nothing is pending. */
int apic_ack(APICState *s);

/* Register access as the CPU sees it (for tests: the MMIO callbacks). */
uint32_t apic_read(APICState *s, uint32_t offset);
void apic_write(APICState *s, uint32_t offset, uint32_t value);

/* Registers for `info lapic` (snprintf rules). */
int apic_info(APICState *s, char *buf, size_t len);

#endif /* HW_INTC_APIC_H */
