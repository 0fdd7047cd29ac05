/* 8254 interval timer (0x40-0x43, channel 0 on IRQ0) and port 0x61 (channel 2
 * gate and output, speaker enable, refresh toggle).  See devices/i8254.c. */
#ifndef DEVICES_I8254_H
#define DEVICES_I8254_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"
#include "dm/timer.h"

struct pit_channel {
    uint32_t count;         /* programmed count, decoded (0 = maximum) */
    uint8_t mode, rw_mode, bcd;
    uint8_t gate;
    uint8_t loaded;         /* a count is counting (or has counted) */
    uint8_t running;        /* counting now (gate allows, triggered) */
    uint8_t triggered;      /* modes 1/5: gate edge seen since the count was set */
    uint8_t null_count;
    uint8_t read_hi, write_hi, write_lsb;
    uint8_t count_latched;  /* rw mode of a pending latched read, 0 = none */
    uint16_t latched_count;
    uint8_t status_latched, status;
    int64_t load_time;      /* virtual ns at which counting started */
    uint64_t frozen_ticks;  /* elapsed clocks while not running */
    uint64_t pulses_seen;   /* one-clock OUT pulses already passed on to IRQ0 */
};

struct pit_state {
    struct device dev;
    struct pit_channel ch[3];
    uint8_t port61;         /* writable bits of port 0x61 */
    int32_t irq_level;
    uint32_t iobase;        /* property, default 0x40 */
    uint32_t irq_num;       /* property, default 0 */
    struct irq_line *irq;
    struct dm_clock *clock;
    struct dm_timer timer;
    struct mem_region io, io61;
    bool mapped;
};

extern const struct device_type i8254_type;

/* Level of a channel's OUT now (tests, the speaker). */
int i8254_get_out(struct pit_state *s, int channel);

#endif
