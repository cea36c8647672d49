/*
 * An interrupt line: a device raises or lowers it; whoever owns the other
 * end (the PIC, or the CPU's INTR pin) gets a callback.  Lines carry levels;
 * an edge is a raise followed by a lower.
 */
#ifndef HW_CORE_IRQ_H
#define HW_CORE_IRQ_H

typedef void (*IRQHandler)(void *opaque, int n, int level);

typedef struct IRQ {
    IRQHandler handler; /* receiver; NULL = line not connected */
    void *opaque;       /* receiver's state */
    int n;              /* receiver's input number (e.g. PIC pin) */
} IRQ;

static inline void irq_set_level(const IRQ *irq, int level)
{
    if (irq && irq->handler) {
        irq->handler(irq->opaque, irq->n, level);
    }
}

static inline void irq_raise(const IRQ *irq)
{
    irq_set_level(irq, 1);
}

static inline void irq_lower(const IRQ *irq)
{
    irq_set_level(irq, 0);
}

static inline void irq_pulse(const IRQ *irq)
{
    irq_set_level(irq, 1);
    irq_set_level(irq, 0);
}

static inline IRQ irq_make(IRQHandler handler, void *opaque, int n)
{
    IRQ irq = {handler, opaque, n};
    return irq;
}

#endif /* HW_CORE_IRQ_H */
