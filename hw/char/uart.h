/*
 * NS16550A UART (the PC's COM port), writing to a character backend.
 *
 * The chip is driven only through its eight I/O ports; host input arrives
 * through uart_receive().  Transmission completes within the THR write (the
 * byte goes straight to the backend), so THRE and TEMT are set again by the
 * time the guest's OUT instruction retires, and the THR-empty interrupt
 * follows as the datasheet says it would after the last stop bit.
 */
#ifndef HW_CHAR_UART_H
#define HW_CHAR_UART_H

#include <stdint.h>

#include "chardev/char.h"
#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "softmmu/ioport.h"

/* Register offsets from the base port (PC16550D datasheet, "Register Addresses"). */
#define UART_RBR 0 /* read, DLAB=0: receiver buffer */
#define UART_THR 0 /* write, DLAB=0: transmitter holding */
#define UART_DLL 0 /* DLAB=1: divisor latch low */
#define UART_IER 1 /* DLAB=0: interrupt enable */
#define UART_DLM 1 /* DLAB=1: divisor latch high */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* received data available (and character timeout) */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID     0x0e
#define UART_IIR_MSI    0x00 /* priority 4: modem status */
#define UART_IIR_THRI   0x02 /* priority 3: THR empty */
#define UART_IIR_RDI    0x04 /* priority 2: received data at trigger level */
#define UART_IIR_RLSI   0x06 /* priority 1: receiver line status */
#define UART_IIR_CTI    0x0c /* priority 2: character timeout */
#define UART_IIR_FIFO   0xc0 /* both set while the FIFOs are enabled */

#define UART_FCR_FE  0x01 /* FIFO enable */
#define UART_FCR_RFR 0x02 /* receiver FIFO reset (self-clearing) */
#define UART_FCR_XFR 0x04 /* transmitter FIFO reset (self-clearing) */
#define UART_FCR_DMA 0x08
#define UART_FCR_ITL 0xc0 /* receiver trigger level: 1, 4, 8, 14 bytes */

#define UART_LCR_WLS   0x03 /* word length minus 5 */
#define UART_LCR_STB   0x04 /* two stop bits (1.5 with 5-bit words) */
#define UART_LCR_PEN   0x08
#define UART_LCR_BREAK 0x40
#define UART_LCR_DLAB  0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC, enables the IRQ line driver */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_OE   0x02 /* overrun error */
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20 /* THR (or TX FIFO) empty */
#define UART_LSR_TEMT 0x40 /* THR and shift register both empty */
#define UART_LSR_RXFE 0x80 /* error in RX FIFO */

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04 /* RI went from on to off */
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ  1843200 /* PC crystal; baud = clock / (16 * divisor) */

typedef struct UARTState UARTState;

/* Claims ports [base, base+8).  chr may be NULL (output discarded). */
UARTState *uart_new(IOPortMap *io, uint16_t base, TimerList *tl, IRQ irq, const CharBackend *chr);
void uart_free(UARTState *s);
/* Master reset (datasheet "UART Reset Configuration"); DLL/DLM and SCR keep their values. */
void uart_reset(UARTState *s);
/* Saved state: section "uart" (migration/vmstate.h). */
extern const struct VMStateDesc uart_vmstate;
/* Bytes the receiver can take now without overrun (0 in loopback mode). */
int uart_can_receive(UARTState *s);
/* Host input: bytes arriving on SIN.  Bytes beyond uart_can_receive() overrun. */
void uart_receive(UARTState *s, const uint8_t *buf, int len);

#endif /* HW_CHAR_UART_H */
