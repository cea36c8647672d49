/*
 * An interrupt line: a device raises or lowers it; whoever owns the other
 * end (the PIC, or the CPU's INTR pin) gets a callback.  Lines carry levels;
 * an edge is a raise followed by a lower.  A line may fan out to two
 * receivers (IRQFanout): on the PC every ISA IRQ reaches both the 8259 and
 * the I/O APIC.
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

/* One line driving two receivers: the owner keeps the struct, the line
 * made by irq_fanout points to it. */
typedef struct IRQFanout {
    IRQ out[2];
} IRQFanout;

static inline void irq_fanout_handler(void *opaque, int n, int level)
{
    const IRQFanout *f = (const IRQFanout *)opaque;
    irq_set_level(&f->out[0], level);
    irq_set_level(&f->out[1], level);
}

static inline IRQ irq_fanout(IRQFanout *f, IRQ a, IRQ b)
{
    f->out[0] = a;
    f->out[1] = b;
    return irq_make(irq_fanout_handler, f, 0);
}

#endif /* HW_CORE_IRQ_H */
