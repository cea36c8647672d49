/*
 * NS16550A UART.
 *
 * Behaviour follows the National Semiconductor PC16550D datasheet; the
 * comments name the part of its register description a rule comes from.
 * What the chip does over time is reduced to what a guest can observe:
 *
 * - Transmission finishes inside the THR write: the byte goes to the
 *   backend (or, in loopback, into the receiver) and the transmitter is
 *   empty again, with the THR-empty interrupt pending as it would be after
 *   the last stop bit.  So THRE and TEMT always read 1 and the TX FIFO never
 *   holds a byte between two guest accesses.
 * - Reception is fed by the host (uart_receive).  The only receive error
 *   that can happen is an overrun; parity, framing and break need a real
 *   line, so PE, FE, BI and the FIFO error bit stay 0.
 * - The character timeout is a Timer armed for four character times (at the
 *   programmed baud rate and frame format) after the last byte received or
 *   read ("FIFO Interrupt Mode Operation").
 */
#include <stdbool.h>
#include <stdlib.h>

#include "hw/char/uart.h"
#include "migration/vmstate.h"

/* Modem inputs presented when not in loopback: a connected, ready peer. */
#define UART_MSR_EXTERNAL (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

struct UARTState {
    IOPortMap *io;       /* where our eight ports are registered */
    uint16_t base;       /* first port (0x3f8 for COM1) */
    TimerList *tl;       /* virtual time for the character timeout */
    Timer timeout_timer; /* fires four character times after RX activity */
    IRQ irq;             /* the ISA IRQ line (IRQ4 for COM1) */
    CharBackend chr;     /* transmitted bytes go here */

    uint16_t divisor;   /* DLM:DLL; baud = 115200 / divisor */
    uint8_t ier;        /* interrupt enable, low four bits only */
    uint8_t fcr;        /* FIFO control as last written (FE, DMA, ITL) */
    uint8_t lcr;        /* line control */
    uint8_t mcr;        /* modem control, low five bits only */
    uint8_t lsr_errors; /* sticky LSR error bits (OE); cleared by an LSR read */
    uint8_t msr;        /* modem status: inputs in 7:4, deltas in 3:0 */
    uint8_t scr;        /* scratch register */

    uint8_t rx_fifo[UART_FIFO_SIZE]; /* receiver FIFO (one slot used without FIFOs) */
    int rx_head;                     /* index of the oldest byte */
    int rx_count;                    /* bytes held */
    uint8_t rbr_last;                /* last byte read: what an empty RBR returns */

    bool thr_ipending;     /* THR-empty interrupt pending; cleared by IIR read or THR write */
    bool timeout_ipending; /* character timeout interrupt pending */
    int irq_level;         /* level last driven on irq */
};

static bool uart_fifo_enabled(const UARTState *s)
{
    return s->fcr & UART_FCR_FE;
}

/* Receiver trigger level, FCR bits 7:6 ("FIFO Control Register"). */
static int uart_rx_trigger(const UARTState *s)
{
    static const int levels[4] = {1, 4, 8, 14};

    return levels[(s->fcr & UART_FCR_ITL) >> 6];
}

static int uart_rx_capacity(const UARTState *s)
{
    return uart_fifo_enabled(s) ? UART_FIFO_SIZE : 1;
}

static uint8_t uart_word_mask(const UARTState *s)
{
    return (uint8_t)((1u << (5 + (s->lcr & UART_LCR_WLS))) - 1);
}

/* One frame on the wire: start bit, data bits, parity, stop bits ("Line Control Register"). */
static int64_t uart_char_time_ns(const UARTState *s)
{
    int word_bits = 5 + (s->lcr & UART_LCR_WLS);
    int half_bits = 2 * (1 + word_bits);
    int64_t divisor = s->divisor ? s->divisor : 65536;

    if (s->lcr & UART_LCR_PEN) {
        half_bits += 2;
    }
    if (s->lcr & UART_LCR_STB) {
        half_bits += word_bits == 5 ? 3 : 4; /* 1.5 stop bits with 5-bit words */
    } else {
        half_bits += 2;
    }
    return half_bits * divisor * 16 * NS_PER_SEC / (2 * UART_CLOCK_HZ);
}

/* The highest-priority pending interrupt as IIR bits 3:0 ("Interrupt Identification
 * Register": line status, then RX data or timeout, then THRE, then modem status). */
static uint8_t uart_pending_iir(const UARTState *s)
{
    if ((s->ier & UART_IER_ELSI) &&
        (s->lsr_errors & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI))) {
        return UART_IIR_RLSI;
    }
    if ((s->ier & UART_IER_ERBFI) && s->rx_count > 0 &&
        (!uart_fifo_enabled(s) || s->rx_count >= uart_rx_trigger(s))) {
        return UART_IIR_RDI;
    }
    if ((s->ier & UART_IER_ERBFI) && s->timeout_ipending) {
        return UART_IIR_CTI;
    }
    if ((s->ier & UART_IER_ETBEI) && s->thr_ipending) {
        return UART_IIR_THRI;
    }
    if ((s->ier & UART_IER_EDSSI) && (s->msr & 0x0f)) {
        return UART_IIR_MSI;
    }
    return UART_IIR_NO_INT;
}

/*
 * On a PC the chip's INTR pin reaches the PIC through a tri-state driver
 * enabled by the OUT2 pin.  In loopback mode the chip forces OUT2 inactive
 * ("Modem Control Register", bit 4), so no interrupt leaves the card then.
 */
static void uart_update_irq(UARTState *s)
{
    int level = uart_pending_iir(s) != UART_IIR_NO_INT && (s->mcr & UART_MCR_OUT2) &&
                !(s->mcr & UART_MCR_LOOP);

    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set_level(&s->irq, level);
    }
}

/*
 * Recompute the modem inputs (from MCR in loopback, else from the peer) and
 * latch delta bits for those that changed ("Modem Status Register").
 */
static void uart_update_msr(UARTState *s)
{
    uint8_t in = UART_MSR_EXTERNAL;
    uint8_t old = s->msr & 0xf0;
    uint8_t changed;

    if (s->mcr & UART_MCR_LOOP) {
        in = 0;
        if (s->mcr & UART_MCR_RTS) {
            in |= UART_MSR_CTS;
        }
        if (s->mcr & UART_MCR_DTR) {
            in |= UART_MSR_DSR;
        }
        if (s->mcr & UART_MCR_OUT1) {
            in |= UART_MSR_RI;
        }
        if (s->mcr & UART_MCR_OUT2) {
            in |= UART_MSR_DCD;
        }
    }
    changed = old ^ in;
    s->msr = in | (s->msr & 0x0f);
    if (changed & UART_MSR_CTS) {
        s->msr |= UART_MSR_DCTS;
    }
    if (changed & UART_MSR_DSR) {
        s->msr |= UART_MSR_DDSR;
    }
    if ((old & UART_MSR_RI) && !(in & UART_MSR_RI)) {
        s->msr |= UART_MSR_TERI; /* trailing edge only */
    }
    if (changed & UART_MSR_DCD) {
        s->msr |= UART_MSR_DDCD;
    }
}

static void uart_rx_clear(UARTState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->timeout_ipending = false;
    timer_del(&s->timeout_timer);
}

/* The timeout counts from the last byte in or out of the RX FIFO. */
static void uart_restart_timeout(UARTState *s)
{
    if (uart_fifo_enabled(s) && s->rx_count > 0) {
        timer_mod(&s->timeout_timer, timer_now(s->tl) + 4 * uart_char_time_ns(s));
    } else {
        timer_del(&s->timeout_timer);
    }
}

/*
 * A byte finished arriving in the receive shift register.  Without FIFOs a
 * new byte replaces an unread one; with FIFOs a full FIFO keeps its bytes
 * and the new one is lost.  Either way it is an overrun (LSR bit 1).
 */
static void uart_rx_byte(UARTState *s, uint8_t byte)
{
    byte &= uart_word_mask(s);
    if (s->rx_count >= uart_rx_capacity(s)) {
        s->lsr_errors |= UART_LSR_OE;
        if (!uart_fifo_enabled(s)) {
            s->rx_fifo[s->rx_head] = byte;
        }
    } else {
        s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = byte;
        s->rx_count++;
    }
    uart_restart_timeout(s);
}

static void uart_timeout_cb(void *opaque)
{
    UARTState *s = opaque;

    if (uart_fifo_enabled(s) && s->rx_count > 0) {
        s->timeout_ipending = true;
        uart_update_irq(s);
    }
}

static uint8_t uart_read_rbr(UARTState *s)
{
    if (s->rx_count > 0) {
        s->rbr_last = s->rx_fifo[s->rx_head];
        s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
        s->rx_count--;
    }
    s->timeout_ipending = false;
    uart_restart_timeout(s);
    return s->rbr_last;
}

static void uart_write_thr(UARTState *s, uint8_t byte)
{
    byte &= uart_word_mask(s);
    s->thr_ipending = false;
    if (s->mcr & UART_MCR_LOOP) {
        /* Loopback: the transmitter shift register feeds the receiver directly. */
        uart_rx_byte(s, byte);
    } else if (s->chr.write) {
        s->chr.write(s->chr.opaque, &byte, 1);
    }
    /* The byte has left: THR and shift register are empty again. */
    s->thr_ipending = true;
}

static void uart_write_fcr(UARTState *s, uint8_t val)
{
    bool was_enabled = uart_fifo_enabled(s);

    /* Changing FCR0 clears both FIFOs; the other bits are written only with FCR0 = 1. */
    if (!(val & UART_FCR_FE)) {
        if (was_enabled) {
            uart_rx_clear(s);
        }
        s->fcr = 0;
        return;
    }
    if (!was_enabled || (val & UART_FCR_RFR)) {
        uart_rx_clear(s);
    }
    if (!was_enabled) {
        /* "The first transmitter interrupt after enabling the FIFO mode will
         * be immediate if that interrupt is enabled." */
        s->thr_ipending = true;
    }
    /* A TX FIFO reset has nothing to drop: it is empty between accesses. */
    s->fcr = val & (UART_FCR_FE | UART_FCR_DMA | UART_FCR_ITL);
}

static uint32_t uart_ioport_read(void *opaque, uint16_t port, int size)
{
    UARTState *s = opaque;
    uint8_t val = 0xff;

    switch ((port - s->base) & 7) {
    case UART_RBR: val = (s->lcr & UART_LCR_DLAB) ? (uint8_t)s->divisor : uart_read_rbr(s); break;
    case UART_IER: val = (s->lcr & UART_LCR_DLAB) ? (uint8_t)(s->divisor >> 8) : s->ier; break;
    case UART_IIR:
        val = uart_pending_iir(s);
        if (val == UART_IIR_THRI) {
            s->thr_ipending = false; /* reading IIR acknowledges THRE */
        }
        if (uart_fifo_enabled(s)) {
            val |= UART_IIR_FIFO;
        }
        break;
    case UART_LCR: val = s->lcr; break;
    case UART_MCR: val = s->mcr; break;
    case UART_LSR:
        val = s->lsr_errors | UART_LSR_THRE | UART_LSR_TEMT;
        if (s->rx_count > 0) {
            val |= UART_LSR_DR;
        }
        s->lsr_errors = 0;
        break;
    case UART_MSR:
        val = s->msr;
        s->msr &= 0xf0;
        break;
    case UART_SCR: val = s->scr; break;
    }
    uart_update_irq(s);
    return val;
}

static void uart_ioport_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    UARTState *s = opaque;
    uint8_t val = (uint8_t)value;

    switch ((port - s->base) & 7) {
    case UART_THR:
        if (s->lcr & UART_LCR_DLAB) {
            s->divisor = (s->divisor & 0xff00) | val;
        } else {
            uart_write_thr(s, val);
        }
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | (val << 8));
        } else {
            /* Enabling ETBEI while THR is empty raises THRE at once. */
            if ((val & UART_IER_ETBEI) && !(s->ier & UART_IER_ETBEI)) {
                s->thr_ipending = true;
            }
            s->ier = val & 0x0f;
        }
        break;
    case UART_FCR: uart_write_fcr(s, val); break;
    case UART_LCR: s->lcr = val; break;
    case UART_MCR:
        s->mcr = val & 0x1f;
        uart_update_msr(s);
        break;
    case UART_LSR:
    case UART_MSR:
        /* Status registers: writes have no defined effect on a 16550A. */
        break;
    case UART_SCR: s->scr = val; break;
    }
    uart_update_irq(s);
}

UARTState *uart_new(IOPortMap *io, uint16_t base, TimerList *tl, IRQ irq, const CharBackend *chr)
{
    UARTState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    s->io = io;
    s->base = base;
    s->tl = tl;
    s->irq = irq;
    if (chr) {
        s->chr = *chr;
    }
    s->divisor = 12; /* 9600 baud until the guest programs it */
    timer_init(&s->timeout_timer, tl, uart_timeout_cb, s);
    uart_reset(s);
    if (ioport_register(io, base, 8, 1, uart_ioport_read, uart_ioport_write, s) < 0) {
        timer_del(&s->timeout_timer);
        free(s);
        return NULL;
    }
    return s;
}

void uart_free(UARTState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, s->base, 8);
    timer_del(&s->timeout_timer);
    free(s);
}

void uart_reset(UARTState *s)
{
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr_errors = 0;
    s->msr = 0;
    uart_update_msr(s);
    s->msr &= 0xf0; /* "UART Reset Configuration": MSR 3:0 = 0, 7:4 = inputs */
    uart_rx_clear(s);
    s->thr_ipending = false;
    s->irq_level = 0;
    irq_set_level(&s->irq, 0);
}

int uart_can_receive(UARTState *s)
{
    if (s->mcr & UART_MCR_LOOP) {
        return 0; /* SIN is disconnected in loopback */
    }
    return uart_rx_capacity(s) - s->rx_count;
}

void uart_receive(UARTState *s, const uint8_t *buf, int len)
{
    if (s->mcr & UART_MCR_LOOP) {
        return;
    }
    for (int i = 0; i < len; i++) {
        uart_rx_byte(s, buf[i]);
    }
    uart_update_irq(s);
}

/* ---- saved state: the chip, not its host end (the chardev is the new
 * process's own) ---- */

static const VMField uart_fields[] = {
    VMS_U16(UARTState, divisor),
    VMS_U8(UARTState, ier),
    VMS_U8(UARTState, fcr),
    VMS_U8(UARTState, lcr),
    VMS_U8(UARTState, mcr),
    VMS_U8(UARTState, lsr_errors),
    VMS_U8(UARTState, msr),
    VMS_U8(UARTState, scr),
    VMS_BYTES(UARTState, rx_fifo, UART_FIFO_SIZE),
    VMS_INT_RANGE(UARTState, rx_head, 0, UART_FIFO_SIZE - 1),
    VMS_INT_RANGE(UARTState, rx_count, 0, UART_FIFO_SIZE),
    VMS_U8(UARTState, rbr_last),
    VMS_BOOL(UARTState, thr_ipending),
    VMS_BOOL(UARTState, timeout_ipending),
    VMS_INT_RANGE(UARTState, irq_level, 0, 1),
    VMS_TIMER(UARTState, timeout_timer),
    VMS_END,
};

const VMStateDesc uart_vmstate = {
    .name = "uart",
    .version = 1,
    .min_version = 1,
    .fields = uart_fields,
};
