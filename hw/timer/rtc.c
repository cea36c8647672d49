/*
 * Motorola MC146818A real-time clock plus CMOS RAM, as in the PC/AT.
 * References are to the MC146818A datasheet: "Address Map", "Time, Calendar
 * and Alarm Locations", "Register A-D", "Update Cycle", "Interrupts".
 *
 * Time is kept as a count of 32.768 kHz divider cycles since 'phase_ns' of
 * virtual time: the seconds shown are sec_offset + cycles / 32768, and the
 * periodic interrupt and the update cycle fire at multiples of their period
 * in that same count, as they come from one divider chain.  Setting the
 * time (SET bit, or a write to a time register) changes sec_offset and
 * leaves the divider's phase alone; resetting the divider (DV = 11x) and
 * restarting it moves the phase so that the first update comes 500 ms
 * later ("Register A", DV bits).
 *
 * While updates are inhibited (SET = 1 or the divider stopped) the time
 * registers in cmos[] are the clock; otherwise they are rebuilt from the
 * count when read.  The update is instantaneous at each second boundary,
 * with UIP set during the 244 us before it.
 *
 * Register C's flags are computed when looked at, over the interval since
 * the last look; a Timer runs only while an enabled interrupt could raise
 * IRQF, and not at all while IRQF is already set (IRQ8 is already up).
 *
 * Not modelled: daylight saving (DSE is stored, no automatic change), and
 * the day-of-week register is recomputed from the date rather than being an
 * independent counter.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/timer/rtc.h"
#include "migration/vmstate.h"

#define RTC_HZ             32768
#define RTC_CYCLES_PER_SEC RTC_HZ
#define RTC_UIP_CYCLES     8 /* 244 us */
#define RTC_SECS_PER_DAY   86400
#define RTC_CMOS_SIZE      128

#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32

#define REG_A_UIP       0x80
#define REG_A_DV        0x70
#define REG_A_DV_32K    0x20
#define REG_A_RS        0x0f
#define REG_B_SET       0x80
#define REG_B_PIE       0x40
#define REG_B_AIE       0x20
#define REG_B_UIE       0x10
#define REG_B_SQWE      0x08
#define REG_B_DM_BINARY 0x04
#define REG_B_24H       0x02
#define REG_C_IRQF      0x80
#define REG_C_PF        0x40
#define REG_C_AF        0x20
#define REG_C_UF        0x10
#define REG_D_VRT       0x80

/* An alarm byte with its two top bits set matches every value. */
#define RTC_ALARM_DONT_CARE 0xc0

#define CMOS_CHECKSUM_FIRST 0x10
#define CMOS_CHECKSUM_LAST  0x2d
#define CMOS_CHECKSUM_HI    0x2e
#define CMOS_CHECKSUM_LO    0x2f

struct RTCState {
    uint8_t cmos[RTC_CMOS_SIZE]; /* registers and RAM; time bytes valid while frozen */
    uint8_t index;               /* port 0x70 bits 6-0 */
    bool nmi_masked;             /* port 0x70 bit 7 */
    bool frozen;                 /* updates inhibited: cmos[] time bytes are the clock */
    int64_t phase_ns;            /* virtual ns of divider cycle 0 */
    int64_t sec_offset;          /* clock seconds at divider cycle 0 */
    int64_t flags_ns;            /* register C reflects events up to this time */
    IOPortMap *io;
    TimerList *tl;
    Timer timer; /* next event that would set IRQF */
    IRQ irq;     /* IRQ8 */
};

static int64_t rtc_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* ---- Calendar arithmetic (proleptic Gregorian, days since 1970-01-01) */

static int64_t rtc_days_from_civil(int64_t year, int64_t month, int64_t day)
{
    /* Months counted from March so that the leap day ends the year. */
    year -= month <= 2;
    int64_t era = rtc_floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void rtc_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = rtc_floor_div(days, 146097);
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

/* ---- Register formats ("Register B": DM and 24/12) */

static uint8_t rtc_encode(const RTCState *s, int value)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM_BINARY) {
        return value;
    }
    return (value / 10) << 4 | (value % 10);
}

static int rtc_decode(const RTCState *s, uint8_t value)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM_BINARY) {
        return value;
    }
    return (value >> 4) * 10 + (value & 15);
}

/* In 12-hour mode hours run 12, 1, ..., 11 with bit 7 set for PM. */
static uint8_t rtc_encode_hour(const RTCState *s, int hour)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_encode(s, hour);
    }
    int hour12 = hour % 12 ? hour % 12 : 12;
    return rtc_encode(s, hour12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_decode_hour(const RTCState *s, uint8_t value)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_decode(s, value);
    }
    return rtc_decode(s, value & 0x7f) % 12 + (value & 0x80 ? 12 : 0);
}

/* ---- The divider chain and the clock */

static bool rtc_divider_running(const RTCState *s)
{
    /* Only the 32.768 kHz time base exists on a PC; the other DV settings
     * select crystals it does not have, and 11x holds the chain in reset. */
    return (s->cmos[RTC_REG_A] & REG_A_DV) == REG_A_DV_32K;
}

static bool rtc_updates_enabled(const RTCState *s)
{
    return rtc_divider_running(s) && !(s->cmos[RTC_REG_B] & REG_B_SET);
}

static int64_t rtc_cycles(const RTCState *s, int64_t ns)
{
    return timer_ns_to_ticks(ns - s->phase_ns, RTC_HZ);
}

static int64_t rtc_cycle_to_ns(const RTCState *s, int64_t cycle)
{
    return s->phase_ns + timer_ticks_to_ns(cycle, RTC_HZ);
}

static int64_t rtc_seconds(const RTCState *s, int64_t ns)
{
    return s->sec_offset + rtc_floor_div(rtc_cycles(s, ns), RTC_CYCLES_PER_SEC);
}

/* Write the clock's time at 'ns' into the time registers. */
static void rtc_store_time(RTCState *s, int64_t ns)
{
    int64_t secs = rtc_seconds(s, ns);
    int64_t days = rtc_floor_div(secs, RTC_SECS_PER_DAY);
    int64_t tod = secs - days * RTC_SECS_PER_DAY;
    int64_t year;
    int month, day;
    rtc_civil_from_days(days, &year, &month, &day);
    int64_t year_mod = ((year % 10000) + 10000) % 10000;

    s->cmos[RTC_SECONDS] = rtc_encode(s, tod % 60);
    s->cmos[RTC_MINUTES] = rtc_encode(s, tod / 60 % 60);
    s->cmos[RTC_HOURS] = rtc_encode_hour(s, tod / 3600);
    /* 1970-01-01 was a Thursday; the register counts Sunday as 1. */
    s->cmos[RTC_DAY_OF_WEEK] = rtc_encode(s, ((days + 4) % 7 + 7) % 7 + 1);
    s->cmos[RTC_DAY_OF_MONTH] = rtc_encode(s, day);
    s->cmos[RTC_MONTH] = rtc_encode(s, month);
    s->cmos[RTC_YEAR] = rtc_encode(s, year_mod % 100);
    s->cmos[RTC_CENTURY] = rtc_encode(s, year_mod / 100);
}

/* The time the registers hold, in seconds; out-of-range fields carry over
 * (31 February is 3 March). */
static int64_t rtc_image_seconds(const RTCState *s)
{
    int64_t year = rtc_decode(s, s->cmos[RTC_YEAR]);
    int century = rtc_decode(s, s->cmos[RTC_CENTURY]);
    if (century == 0) {
        /* No century byte: assume 1970-2069, as PC software does. */
        year += year < 70 ? 2000 : 1900;
    } else {
        year += century * 100;
    }
    int64_t month = rtc_decode(s, s->cmos[RTC_MONTH]) - 1;
    year += rtc_floor_div(month, 12);
    month -= rtc_floor_div(month, 12) * 12;
    int64_t days = rtc_days_from_civil(year, month + 1, rtc_decode(s, s->cmos[RTC_DAY_OF_MONTH]));
    return days * RTC_SECS_PER_DAY + rtc_decode_hour(s, s->cmos[RTC_HOURS]) * 3600 +
           rtc_decode(s, s->cmos[RTC_MINUTES]) * 60 + rtc_decode(s, s->cmos[RTC_SECONDS]);
}

/* Make the time in the registers the clock's time at 'ns'; the next update
 * comes at the divider's next second boundary. */
static void rtc_clock_from_image(RTCState *s, int64_t ns)
{
    s->sec_offset = rtc_image_seconds(s) - rtc_floor_div(rtc_cycles(s, ns), RTC_CYCLES_PER_SEC);
}

/* Re-evaluate whether updates run; when they resume, the clock continues
 * from the registers. */
static void rtc_refresh_frozen(RTCState *s, int64_t ns)
{
    bool run = rtc_updates_enabled(s);
    if (s->frozen && run) {
        rtc_clock_from_image(s, ns);
    }
    s->frozen = !run;
}

/* ---- Interrupt flags ("Interrupts", "Register C") */

/* Periodic interrupt period in divider cycles ("Register A", table of RS
 * rates for a 32.768 kHz time base): RS 1 and 2 give 256 and 128 Hz. */
static int64_t rtc_periodic_cycles(const RTCState *s)
{
    int rs = s->cmos[RTC_REG_A] & REG_A_RS;
    if (rs == 0) {
        return 0;
    }
    if (rs <= 2) {
        return 1 << (rs + 6);
    }
    return 1 << (rs - 1);
}

static bool rtc_alarm_field_matches(uint8_t alarm, uint8_t value)
{
    return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == value;
}

/* Did any second from first_sec to last_sec match the alarm?  The alarm
 * only looks at the time of day, so a day's worth of seconds covers all. */
static bool rtc_alarm_hit(const RTCState *s, int64_t first_sec, int64_t last_sec)
{
    int64_t count = last_sec - first_sec + 1;
    if (count > RTC_SECS_PER_DAY) {
        count = RTC_SECS_PER_DAY;
    }
    for (int64_t i = 0; i < count; i++) {
        int64_t secs = first_sec + i;
        int64_t tod = secs - rtc_floor_div(secs, RTC_SECS_PER_DAY) * RTC_SECS_PER_DAY;
        if (rtc_alarm_field_matches(s->cmos[RTC_SECONDS_ALARM], rtc_encode(s, tod % 60)) &&
            rtc_alarm_field_matches(s->cmos[RTC_MINUTES_ALARM], rtc_encode(s, tod / 60 % 60)) &&
            rtc_alarm_field_matches(s->cmos[RTC_HOURS_ALARM], rtc_encode_hour(s, tod / 3600))) {
            return true;
        }
    }
    return false;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE; IRQ8 follows IRQF. */
static void rtc_update_irq(RTCState *s)
{
    uint8_t flags = REG_C_PF | REG_C_AF | REG_C_UF;
    bool irqf = s->cmos[RTC_REG_C] & s->cmos[RTC_REG_B] & flags;
    bool was = s->cmos[RTC_REG_C] & REG_C_IRQF;
    if (irqf && !was) {
        s->cmos[RTC_REG_C] |= REG_C_IRQF;
        irq_raise(&s->irq);
    } else if (!irqf && was) {
        s->cmos[RTC_REG_C] &= ~REG_C_IRQF;
        irq_lower(&s->irq);
    }
}

/* Fold the periodic, update-ended and alarm events since flags_ns into
 * register C. */
static void rtc_sync_flags(RTCState *s, int64_t now)
{
    if (now <= s->flags_ns) {
        return;
    }
    if (rtc_divider_running(s)) {
        int64_t c0 = rtc_cycles(s, s->flags_ns);
        int64_t c1 = rtc_cycles(s, now);
        int64_t period = rtc_periodic_cycles(s);
        if (period && rtc_floor_div(c1, period) > rtc_floor_div(c0, period)) {
            s->cmos[RTC_REG_C] |= REG_C_PF;
        }
        if (!(s->cmos[RTC_REG_B] & REG_B_SET)) {
            int64_t s0 = rtc_floor_div(c0, RTC_CYCLES_PER_SEC);
            int64_t s1 = rtc_floor_div(c1, RTC_CYCLES_PER_SEC);
            if (s1 > s0) {
                s->cmos[RTC_REG_C] |= REG_C_UF;
                if (!(s->cmos[RTC_REG_C] & REG_C_AF) &&
                    rtc_alarm_hit(s, s->sec_offset + s0 + 1, s->sec_offset + s1)) {
                    s->cmos[RTC_REG_C] |= REG_C_AF;
                }
            }
        }
    }
    s->flags_ns = now;
    rtc_update_irq(s);
}

/* Arm the timer for the next event that could set IRQF. */
static void rtc_arm(RTCState *s)
{
    uint8_t b = s->cmos[RTC_REG_B];
    int64_t deadline = TIMER_NEVER;
    if (!(s->cmos[RTC_REG_C] & REG_C_IRQF) && rtc_divider_running(s)) {
        int64_t cycle = rtc_cycles(s, s->flags_ns);
        int64_t period = rtc_periodic_cycles(s);
        if ((b & REG_B_PIE) && period) {
            int64_t next = (rtc_floor_div(cycle, period) + 1) * period;
            deadline = rtc_cycle_to_ns(s, next);
        }
        if ((b & (REG_B_UIE | REG_B_AIE)) && !(b & REG_B_SET)) {
            int64_t next = (rtc_floor_div(cycle, RTC_CYCLES_PER_SEC) + 1) * RTC_CYCLES_PER_SEC;
            int64_t ns = rtc_cycle_to_ns(s, next);
            deadline = ns < deadline ? ns : deadline;
        }
    }
    if (deadline == TIMER_NEVER) {
        timer_del(&s->timer);
    } else {
        timer_mod(&s->timer, deadline);
    }
}

static void rtc_timer_cb(void *opaque)
{
    RTCState *s = opaque;
    rtc_sync_flags(s, timer_now(s->tl));
    rtc_arm(s);
}

/* ---- Register access */

static bool rtc_is_time_register(int index)
{
    switch (index) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY: return true;
    default: return false;
    }
}

static uint8_t rtc_read_register(RTCState *s, int index, bool clear_c)
{
    int64_t now = timer_now(s->tl);
    if (rtc_is_time_register(index)) {
        if (!s->frozen) {
            rtc_store_time(s, now);
        }
        return s->cmos[index];
    }
    switch (index) {
    case RTC_REG_A: {
        uint8_t value = s->cmos[RTC_REG_A] & ~REG_A_UIP;
        int64_t in_second = rtc_cycles(s, now) & (RTC_CYCLES_PER_SEC - 1);
        if (rtc_updates_enabled(s) && in_second >= RTC_CYCLES_PER_SEC - RTC_UIP_CYCLES) {
            value |= REG_A_UIP;
        }
        return value;
    }
    case RTC_REG_C: {
        rtc_sync_flags(s, now);
        uint8_t value = s->cmos[RTC_REG_C];
        if (clear_c) {
            /* Reading C clears every flag and releases IRQ8. */
            s->cmos[RTC_REG_C] = 0;
            if (value & REG_C_IRQF) {
                irq_lower(&s->irq);
            }
            rtc_arm(s);
        }
        return value;
    }
    case RTC_REG_D: return REG_D_VRT; /* the battery is always good */
    default: return s->cmos[index];
    }
}

static void rtc_write_register(RTCState *s, int index, uint8_t value)
{
    int64_t now = timer_now(s->tl);
    if (rtc_is_time_register(index)) {
        rtc_sync_flags(s, now);
        if (s->frozen) {
            s->cmos[index] = value;
        } else {
            /* A running clock takes the new field from the next update on. */
            rtc_store_time(s, now);
            s->cmos[index] = value;
            rtc_clock_from_image(s, now);
        }
        rtc_arm(s);
        return;
    }
    switch (index) {
    case RTC_REG_A: {
        rtc_sync_flags(s, now);
        bool was_running = rtc_divider_running(s);
        if (!s->frozen) {
            rtc_store_time(s, now);
        }
        s->cmos[RTC_REG_A] = value & ~REG_A_UIP;
        if (!was_running && rtc_divider_running(s)) {
            /* Leaving divider reset: the first update is 500 ms away. */
            s->phase_ns = now - NS_PER_SEC / 2;
            s->flags_ns = now;
        }
        rtc_refresh_frozen(s, now);
        rtc_arm(s);
        break;
    }
    case RTC_REG_B:
        rtc_sync_flags(s, now);
        if (!s->frozen) {
            rtc_store_time(s, now);
        }
        if ((value & REG_B_SET) && !(s->cmos[RTC_REG_B] & REG_B_SET)) {
            /* SET going high clears UIE ("Register B", UIE). */
            value &= ~REG_B_UIE;
        }
        s->cmos[RTC_REG_B] = value;
        rtc_refresh_frozen(s, now);
        rtc_update_irq(s);
        rtc_arm(s);
        break;
    case RTC_REG_C:
    case RTC_REG_D: break; /* read-only */
    case RTC_SECONDS_ALARM:
    case RTC_MINUTES_ALARM:
    case RTC_HOURS_ALARM:
        rtc_sync_flags(s, now);
        s->cmos[index] = value;
        rtc_arm(s);
        break;
    default: s->cmos[index] = value; break;
    }
}

static uint32_t rtc_port_read(void *opaque, uint16_t port, int size)
{
    RTCState *s = opaque;
    if ((port & 1) == 0) {
        return 0xff; /* the index register is write-only */
    }
    return rtc_read_register(s, s->index, true);
}

static void rtc_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    RTCState *s = opaque;
    if ((port & 1) == 0) {
        s->index = value & 0x7f;
        s->nmi_masked = value & 0x80;
    } else {
        rtc_write_register(s, s->index, value);
    }
}

/* ---- Host-side CMOS access */

static void rtc_update_checksum(RTCState *s)
{
    uint16_t sum = 0;
    for (int i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++) {
        sum += s->cmos[i];
    }
    s->cmos[CMOS_CHECKSUM_HI] = sum >> 8;
    s->cmos[CMOS_CHECKSUM_LO] = sum & 0xff;
}

void rtc_set_cmos(RTCState *s, int index, uint8_t value)
{
    index &= 0x7f;
    rtc_write_register(s, index, value);
    if (index >= CMOS_CHECKSUM_FIRST && index <= CMOS_CHECKSUM_LAST) {
        rtc_update_checksum(s);
    }
}

uint8_t rtc_get_cmos(RTCState *s, int index)
{
    return rtc_read_register(s, index & 0x7f, false);
}

void rtc_set_memory_size(RTCState *s, uint64_t ram_bytes)
{
    const uint64_t mib = 1024 * 1024;
    uint64_t ext_kib = ram_bytes > mib ? (ram_bytes - mib) / 1024 : 0;
    uint64_t above_16m = ram_bytes > 16 * mib ? (ram_bytes - 16 * mib) / 65536 : 0;
    if (ext_kib > 0xffff) {
        ext_kib = 0xffff;
    }
    if (above_16m > 0xffff) {
        above_16m = 0xffff;
    }
    /* Base memory: always 640 KiB. */
    s->cmos[0x15] = 640 & 0xff;
    s->cmos[0x16] = 640 >> 8;
    s->cmos[0x17] = ext_kib & 0xff;
    s->cmos[0x18] = ext_kib >> 8;
    s->cmos[0x30] = ext_kib & 0xff;
    s->cmos[0x31] = ext_kib >> 8;
    s->cmos[0x34] = above_16m & 0xff;
    s->cmos[0x35] = above_16m >> 8;
    /* Equipment: bit 1 math coprocessor, bits 5-4 = 00 for EGA/VGA; bits 0
     * and 7-6 (floppy drives) belong to whoever sets up the floppies. */
    s->cmos[0x14] = (s->cmos[0x14] & 0xc1) | 0x02;
    rtc_update_checksum(s);
}

bool rtc_nmi_masked(RTCState *s)
{
    return s->nmi_masked;
}

void rtc_reset(RTCState *s)
{
    int64_t now = timer_now(s->tl);
    rtc_sync_flags(s, now);
    s->cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    s->cmos[RTC_REG_C] &= ~(REG_C_PF | REG_C_AF | REG_C_UF);
    rtc_update_irq(s);
    rtc_arm(s);
}

RTCState *rtc_new(IOPortMap *io, TimerList *tl, IRQ irq8, int64_t base_time_sec)
{
    RTCState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->tl = tl;
    s->irq = irq8;
    timer_init(&s->timer, tl, rtc_timer_cb, s);
    /* Divider running at 32.768 kHz with 1024 Hz periodic rate selected,
     * BCD, 24-hour: what the BIOS leaves and what QEMU powers up with. */
    s->cmos[RTC_REG_A] = REG_A_DV_32K | 0x06;
    s->cmos[RTC_REG_B] = REG_B_24H;
    /* Clock = base time + virtual time, with the update cycle at every
     * whole second of virtual time. */
    int64_t now = timer_now(tl);
    s->phase_ns = 0;
    s->flags_ns = now;
    s->sec_offset = base_time_sec;
    s->frozen = false;
    rtc_store_time(s, now);
    if (ioport_register(io, 0x70, 2, 1, rtc_port_read, rtc_port_write, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void rtc_free(RTCState *s)
{
    if (!s) {
        return;
    }
    timer_del(&s->timer);
    ioport_unregister(s->io, 0x70, 2);
    free(s);
}

/* ---- saved state ---- */

static const VMField rtc_fields[] = {
    VMS_BYTES(RTCState, cmos, RTC_CMOS_SIZE),
    VMS_U8_RANGE(RTCState, index, 0, RTC_CMOS_SIZE - 1),
    VMS_BOOL(RTCState, nmi_masked),
    VMS_BOOL(RTCState, frozen),
    VMS_I64(RTCState, phase_ns),
    VMS_I64(RTCState, sec_offset),
    VMS_I64(RTCState, flags_ns),
    VMS_TIMER(RTCState, timer),
    VMS_END,
};

const VMStateDesc rtc_vmstate = {
    .name = "rtc",
    .version = 1,
    .min_version = 1,
    .fields = rtc_fields,
};
