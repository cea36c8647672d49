/*
 * Motorola MC146818 real-time clock with 128 bytes of CMOS RAM, at ports
 * 0x70 (index; bit 7 masks NMI) and 0x71 (data), interrupting on IRQ8.
 *
 * The clock shows base_time_sec (seconds since 1970-01-01 00:00, shown as
 * is: PCs keep local time, so the caller adds the zone offset it wants)
 * plus the virtual time elapsed, so a deterministic run sees a
 * deterministic date.  The century is kept in CMOS byte 0x32.
 */
#ifndef HW_TIMER_RTC_H
#define HW_TIMER_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "softmmu/ioport.h"

typedef struct RTCState RTCState;

RTCState *rtc_new(IOPortMap *io, TimerList *tl, IRQ irq8, int64_t base_time_sec);
void rtc_free(RTCState *s);
/* The RESET pin (system reset): clears PIE, AIE, UIE, SQWE and register C.
 * Time and CMOS RAM are battery backed and survive. */
void rtc_reset(RTCState *s);
/* Saved state: section "rtc" (migration/vmstate.h). */
extern const struct VMStateDesc rtc_vmstate;

/* Host-side CMOS access, e.g. for the machine's boot configuration.  Clock
 * registers behave as for the guest (writing 0x00-0x09 sets the time),
 * except that reading register C does not clear it.  A write inside the
 * standard checksummed range 0x10-0x2D updates the checksum at 0x2E/0x2F. */
void rtc_set_cmos(RTCState *s, int index, uint8_t value);
uint8_t rtc_get_cmos(RTCState *s, int index);

/* Fill the PC memory-size bytes (base 0x15/0x16, extended 0x17/0x18 and
 * 0x30/0x31, above-16-MiB 0x34/0x35 as SeaBIOS reads them), the equipment
 * byte 0x14 (FPU, VGA; floppy bits are kept) and the checksum. */
void rtc_set_memory_size(RTCState *s, uint64_t ram_bytes);

/* Port 0x70 bit 7 as last written: true = NMI disabled. */
bool rtc_nmi_masked(RTCState *s);

#endif /* HW_TIMER_RTC_H */
