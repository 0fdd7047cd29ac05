/* MC146818A RTC and CMOS RAM at 0x70/0x71 (IRQ8).  See devices/mc146818.c.
 * The machine fills the NVRAM fields (memory sizes, boot order, ...) with
 * rtc_set_cmos() and rtc_update_checksum() after realize. */
#ifndef DEVICES_MC146818_H
#define DEVICES_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"
#include "dm/timer.h"

#define RTC_CMOS_SIZE 128
/* "start-time" default: take the host's time at realize. */
#define RTC_START_HOST UINT64_MAX

struct rtc_state {
    struct device dev;
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    uint8_t nmi_disabled;
    uint8_t running;        /* time advances (divider on, SET clear) */
    int64_t base_ns;        /* guest ns since 1970 at base_clock (or frozen value) */
    int64_t base_clock;     /* virtual clock ns */
    int64_t last_period;    /* periodic ticks already reported in PF */
    int64_t last_second;    /* updates already reported in UF */
    uint32_t iobase;        /* property, default 0x70 */
    uint32_t irq_num;       /* property, default 8 */
    uint64_t start_time;    /* property: guest time at realize, s since 1970 */
    struct irq_line *irq;
    struct dm_clock *clock;
    struct dm_timer periodic_timer, update_timer;
    struct mem_region io;
    bool mapped;
};

extern const struct device_type mc146818_type;

/* NVRAM bytes 0x0E..0x7F (the clock registers are not settable this way). */
void rtc_set_cmos(struct rtc_state *s, unsigned index, uint8_t value);
uint8_t rtc_get_cmos(const struct rtc_state *s, unsigned index);
/* Recompute the checksum of 0x10..0x2D at 0x2E/0x2F. */
void rtc_update_checksum(struct rtc_state *s);

#endif
