/* Intel 8254 programmable interval timer (ports 0x40-0x43, channel 0 on IRQ0) and
 * the PC's port 0x61 (NMI status and control: channel 2 gate, speaker enable,
 * channel 2 output, refresh toggle).
 *
 * References: Intel 8254 datasheet (order 231164): control word format, modes 0-5
 * (figures 13-18), counter latch and read-back commands, status byte; Intel PIIX3
 * datasheet section 4.7.1 for port 0x61.
 *
 * The counters are not stepped: each channel remembers the virtual time at which
 * its count was loaded, and the counter value and OUT level are computed from the
 * elapsed input clocks (1.193182 MHz).  Channel 0 keeps a timer at OUT's next
 * transition so IRQ0 follows OUT.  Simplifications: a new count in modes 2 and 3
 * takes effect immediately rather than at the end of the current period. */
#include "devices/i8254.h"

#include <errno.h>
#include <string.h>

#include "dm/clock.h"
#include "dm/vmstate.h"

#define PIT_HZ          1193182u
#define NS_PER_SEC      1000000000ull

/* control word (write to port 0x43) */
#define CW_SC_SHIFT     6
#define CW_RW_SHIFT     4
#define CW_MODE_SHIFT   1
#define CW_BCD          0x01
#define CW_READBACK     3       /* SC = 11 */
#define RB_NO_COUNT     0x20    /* read-back bit 5: 0 = latch count */
#define RB_NO_STATUS    0x10    /* read-back bit 4: 0 = latch status */
/* status byte */
#define ST_OUT          0x80
#define ST_NULL_COUNT   0x40
/* RW field */
#define RW_LATCH        0
#define RW_LSB          1
#define RW_MSB          2
#define RW_WORD         3
/* port 0x61 */
#define P61_GATE2       0x01
#define P61_SPKR_EN     0x02
#define P61_REFRESH     0x10
#define P61_OUT2        0x20
#define P61_WRITABLE    0x0F
#define REFRESH_NS      15085   /* refresh request period, PIIX3 4.7.1 */
#define PIT_MAX_NS      (1ll << 62)
#define PIT_MAX_TICKS   (1ull << 50)

/* ---- counter arithmetic ------------------------------------------------------- */

static uint32_t ch_period(const struct pit_channel *c)
{
    /* A count of 0 is the largest: 2^16 binary, 10^4 BCD. */
    if (c->count == 0)
        return c->bcd ? 10000 : 65536;
    return c->count;
}

static uint64_t ns_to_ticks(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (uint64_t)((unsigned __int128)ns * PIT_HZ / NS_PER_SEC);
}

static int64_t ticks_to_ns(uint64_t ticks)
{
    /* the first nanosecond at which `ticks` clocks have elapsed */
    return (int64_t)(((unsigned __int128)ticks * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

/* Input clocks counted since the count was loaded (or the gate triggered). */
static uint64_t ch_elapsed(const struct pit_channel *c, int64_t now)
{
    if (!c->running)
        return c->frozen_ticks;
    return ns_to_ticks(now - c->load_time);
}

static uint32_t ch_value(const struct pit_channel *c, int64_t now)
{
    uint32_t n = ch_period(c);
    uint32_t range = c->bcd ? 10000 : 65536;
    if (!c->loaded)
        return c->count;
    uint64_t d = ch_elapsed(c, now);
    switch (c->mode) {
    case 2: {
        return n - (uint32_t)(d % n);
    }
    case 3: {
        uint32_t half = (n + 1) / 2;
        uint32_t p = (uint32_t)(d % n);
        uint32_t in_half = p < half ? p : p - half;
        uint32_t v = (n & ~1u) - 2 * in_half;
        return v ? v : range - 2;
    }
    default: /* 0, 1, 4, 5: counts down and wraps */
        return (uint32_t)(((uint64_t)n + range - d % range) % range);
    }
}

static int ch_out(const struct pit_channel *c, int64_t now)
{
    if (!c->loaded)
        return c->mode == 0 ? 0 : 1;
    uint32_t n = ch_period(c);
    uint64_t d = ch_elapsed(c, now);
    switch (c->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        if (!c->gate)
            return 1;
        return n > 1 ? (d % n) != n - 1 : 1;
    case 3:
        if (!c->gate)
            return 1;
        return (d % n) < (n + 1) / 2;
    default: /* 4, 5: one clock low at terminal count */
        return d != n;
    }
}

/* One-clock low pulses of OUT since the count was loaded: in mode 2 one per
 * period, in modes 4 and 5 one at terminal count.  A pulse lasts 838 ns, less
 * than a main loop takes to run a due timer, so IRQ0 follows the count of pulses
 * rather than a sample of the level. */
static uint64_t ch_short_pulses(const struct pit_channel *c, int64_t now)
{
    if (!c->loaded)
        return 0;
    uint32_t n = ch_period(c);
    uint64_t d = ch_elapsed(c, now);
    switch (c->mode) {
    case 2:
        return n > 1 ? (d + 1) / n : 0;
    case 4:
    case 5:
        return d >= n;
    default:
        return 0;
    }
}

/* Virtual time of OUT's next transition after `now`, or -1. */
static int64_t ch_next_edge(const struct pit_channel *c, int64_t now)
{
    if (!c->loaded || !c->running)
        return -1;
    uint32_t n = ch_period(c);
    uint64_t d = ch_elapsed(c, now);
    uint64_t next;
    switch (c->mode) {
    case 0:
    case 1:
        if (d >= n)
            return -1;
        next = n;
        break;
    case 2: {
        uint64_t p = d % n;
        if (n == 1)
            return -1;
        next = d - p + (p < n - 1 ? n - 1 : n);
        break;
    }
    case 3: {
        uint64_t p = d % n, half = (n + 1) / 2;
        next = d - p + (p < half ? half : n);
        break;
    }
    default:
        if (d < n)
            next = n;
        else if (d == n)
            next = n + 1;
        else
            return -1;
        break;
    }
    return c->load_time + ticks_to_ns(next);
}

/* ---- channel 0 output to IRQ0 ------------------------------------------------- */

static void pit_update_irq(struct pit_state *s)
{
    struct pit_channel *c = &s->ch[0];
    int64_t now = clock_get_ns(s->clock);
    int out = ch_out(c, now);
    uint64_t pulses = ch_short_pulses(c, now);
    if (pulses > c->pulses_seen && out && s->irq_level) {
        /* the pulse passed between two timer runs: give the edge-triggered PIC
         * its falling edge now, and the rising edge below */
        s->irq_level = 0;
        irq_set(s->irq, 0);
    }
    c->pulses_seen = pulses;
    if (out != s->irq_level) {
        s->irq_level = out;
        irq_set(s->irq, out);
    }
    int64_t next = ch_next_edge(c, now);
    if (next >= 0)
        timer_mod(&s->timer, next);
    else
        timer_del(&s->timer);
}

static void pit_timer_cb(void *opaque)
{
    pit_update_irq(opaque);
}

/* ---- loading and gating --------------------------------------------------------- */

static void ch_load(struct pit_state *s, int idx, uint32_t count)
{
    struct pit_channel *c = &s->ch[idx];
    int64_t now = clock_get_ns(s->clock);
    c->count = count;
    c->null_count = 0;
    c->loaded = 1;
    c->load_time = now;
    c->frozen_ticks = 0;
    c->pulses_seen = 0;
    /* Modes 1 and 5 start on a gate rising edge; the others count at once while
     * the gate is high (modes 0 and 4 hold while the gate is low). */
    if (c->mode == 1 || c->mode == 5) {
        c->loaded = c->triggered;
        c->running = c->triggered;
    } else {
        c->running = c->gate;
    }
    if (idx == 0)
        pit_update_irq(s);
}

static void ch_set_gate(struct pit_state *s, int idx, int gate)
{
    struct pit_channel *c = &s->ch[idx];
    int64_t now = clock_get_ns(s->clock);
    gate = gate != 0;
    if (gate == c->gate)
        return;
    c->gate = gate;
    switch (c->mode) {
    case 1:
    case 5:
    case 2:
    case 3:
        if (gate) {                 /* rising edge (re)triggers */
            c->triggered = 1;
            c->loaded = 1;
            c->running = 1;
            c->load_time = now;
            c->frozen_ticks = 0;
            c->pulses_seen = 0;
        } else if (c->mode == 2 || c->mode == 3) {
            c->frozen_ticks = ch_elapsed(c, now);
            c->running = 0;
        }
        break;
    default:                        /* 0 and 4: gate low suspends counting */
        if (!c->loaded)
            break;
        if (gate) {
            c->load_time = now - ticks_to_ns(c->frozen_ticks);
            c->running = 1;
        } else {
            c->frozen_ticks = ch_elapsed(c, now);
            c->running = 0;
        }
        break;
    }
    if (idx == 0)
        pit_update_irq(s);
}

/* ---- register access --------------------------------------------------------- */

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t from_bcd(uint16_t v)
{
    /* invalid digits are tolerated: each nibble counts at face value */
    return (v >> 12) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

static void ch_latch_count(struct pit_state *s, struct pit_channel *c)
{
    if (c->count_latched)
        return;     /* a second latch before the read is ignored */
    uint32_t v = ch_value(c, clock_get_ns(s->clock)) & 0xFFFF;
    if (c->bcd)
        v = to_bcd(v % 10000);
    c->latched_count = (uint16_t)v;
    c->count_latched = c->rw_mode;
}

static void ch_latch_status(struct pit_state *s, struct pit_channel *c)
{
    if (c->status_latched)
        return;
    c->status = (ch_out(c, clock_get_ns(s->clock)) ? ST_OUT : 0) |
                (c->null_count ? ST_NULL_COUNT : 0) |
                (c->rw_mode << CW_RW_SHIFT) | (c->mode << CW_MODE_SHIFT) | c->bcd;
    c->status_latched = 1;
}

static void pit_write_control(struct pit_state *s, uint8_t v)
{
    int sc = v >> CW_SC_SHIFT;
    if (sc == CW_READBACK) {
        for (int i = 0; i < 3; i++) {
            if (!(v & (2 << i)))
                continue;
            if (!(v & RB_NO_COUNT))
                ch_latch_count(s, &s->ch[i]);
            if (!(v & RB_NO_STATUS))
                ch_latch_status(s, &s->ch[i]);
        }
        return;
    }
    struct pit_channel *c = &s->ch[sc];
    int rw = (v >> CW_RW_SHIFT) & 3;
    if (rw == RW_LATCH) {
        ch_latch_count(s, c);
        return;
    }
    int mode = (v >> CW_MODE_SHIFT) & 7;
    if (mode > 5)
        mode -= 4;              /* 110 and 111 are modes 2 and 3 */
    c->rw_mode = rw;
    c->mode = mode;
    c->bcd = v & CW_BCD;
    c->read_hi = c->write_hi = 0;
    c->count_latched = 0;
    c->null_count = 1;
    c->loaded = 0;              /* OUT takes its initial level; count awaits */
    c->running = 0;
    c->triggered = 0;
    if (sc == 0)
        pit_update_irq(s);
}

static void pit_write_counter(struct pit_state *s, int idx, uint8_t v)
{
    struct pit_channel *c = &s->ch[idx];
    uint16_t raw;
    switch (c->rw_mode) {
    case RW_LSB:
        raw = v;
        break;
    case RW_MSB:
        raw = (uint16_t)(v << 8);
        break;
    case RW_WORD:
        if (!c->write_hi) {
            c->write_lsb = v;
            c->write_hi = 1;
            if (c->mode == 0) {     /* mode 0: the first byte stops the count */
                c->frozen_ticks = ch_elapsed(c, clock_get_ns(s->clock));
                c->running = 0;
                if (idx == 0)
                    pit_update_irq(s);
            }
            return;
        }
        c->write_hi = 0;
        raw = (uint16_t)(c->write_lsb | v << 8);
        break;
    default:
        return;                     /* no control word yet */
    }
    ch_load(s, idx, c->bcd ? from_bcd(raw) : raw);
}

static uint8_t pit_read_counter(struct pit_state *s, int idx)
{
    struct pit_channel *c = &s->ch[idx];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    uint16_t v;
    int rw;
    if (c->count_latched) {
        v = c->latched_count;
        rw = c->count_latched;
    } else {
        uint32_t x = ch_value(c, clock_get_ns(s->clock)) & 0xFFFF;
        v = c->bcd ? to_bcd(x % 10000) : (uint16_t)x;
        rw = c->rw_mode;
    }
    uint8_t r;
    switch (rw) {
    case RW_MSB:
        r = v >> 8;
        c->count_latched = 0;
        break;
    case RW_WORD:
        r = c->read_hi ? v >> 8 : v & 0xFF;
        c->read_hi ^= 1;
        if (!c->read_hi)
            c->count_latched = 0;
        break;
    default:
        r = v & 0xFF;
        c->count_latched = 0;
        break;
    }
    return r;
}

static uint64_t pit_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pit_state *s = opaque;
    if ((addr & 3) == 3)
        return 0xFF;            /* the control word is write-only */
    return pit_read_counter(s, addr & 3);
}

static void pit_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pit_state *s = opaque;
    if ((addr & 3) == 3)
        pit_write_control(s, (uint8_t)val);
    else
        pit_write_counter(s, addr & 3, (uint8_t)val);
}

static uint64_t port61_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pit_state *s = opaque;
    int64_t now = clock_get_ns(s->clock);
    uint8_t v = s->port61 & P61_WRITABLE;
    if ((now / REFRESH_NS) & 1)
        v |= P61_REFRESH;
    if (ch_out(&s->ch[2], now))
        v |= P61_OUT2;
    return v;
}

static void port61_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pit_state *s = opaque;
    s->port61 = (uint8_t)val & P61_WRITABLE;
    ch_set_gate(s, 2, val & P61_GATE2);
}

int i8254_get_out(struct pit_state *s, int channel)
{
    if (channel < 0 || channel > 2)
        return 0;
    return ch_out(&s->ch[channel], clock_get_ns(s->clock));
}

/* ---- device ------------------------------------------------------------------ */

static const struct mem_region_ops pit_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static const struct mem_region_ops port61_ops = {
    .read = port61_io_read,
    .write = port61_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int pit_realize(struct device *dev, struct dm_err *err)
{
    struct pit_state *s = (struct pit_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "i8254: needs a bus with port I/O");
        return -EINVAL;
    }
    s->clock = dev->ctx->clock_virt;
    s->irq = dev_bus_irq(dev->bus, s->irq_num);
    timer_init(&s->timer, s->clock, pit_timer_cb, s);
    mem_region_init_io(&s->io, "pit", &pit_ops, s, 4);
    mem_region_init_io(&s->io61, "port61", &port61_ops, s, 1);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    mem_region_add_subregion(io, 0x61, &s->io61, 0);
    s->mapped = true;
    return 0;
}

static void pit_unrealize(struct device *dev)
{
    struct pit_state *s = (struct pit_state *)dev;
    timer_del(&s->timer);
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        mem_region_del_subregion(s->io61.parent, &s->io61);
        s->mapped = false;
    }
}

static void pit_reset(struct device *dev)
{
    struct pit_state *s = (struct pit_state *)dev;
    timer_del(&s->timer);
    memset(s->ch, 0, sizeof(s->ch));
    for (int i = 0; i < 3; i++) {
        /* After power-on the BIOS programs each channel; until then treat them as
         * mode 3 with the maximum count, not counting. */
        s->ch[i].mode = 3;
        s->ch[i].rw_mode = RW_WORD;
        s->ch[i].gate = i != 2;     /* channel 2's gate is port 0x61 bit 0 */
    }
    s->port61 = 0;
    s->irq_level = 0;
    irq_set(s->irq, 0);
}

/* ---- state description ------------------------------------------------------- */

static int pit_post_load(void *opaque, int version)
{
    struct pit_state *s = opaque;
    for (int i = 0; i < 3; i++) {
        struct pit_channel *c = &s->ch[i];
        if (c->mode > 5 || c->rw_mode > 3 || c->count_latched > 3 || c->count > 65535)
            return -EINVAL;
        c->bcd &= 1;
        c->gate = !!c->gate;
        c->loaded = !!c->loaded;
        c->running = !!c->running;
        c->triggered = !!c->triggered;
        c->read_hi &= 1;
        c->write_hi &= 1;
        /* times within what a guest could reach (no overflow in the arithmetic) */
        if (c->load_time > PIT_MAX_NS || c->load_time < -PIT_MAX_NS)
            c->load_time = 0;
        if (c->frozen_ticks > PIT_MAX_TICKS)
            c->frozen_ticks = 0;
    }
    s->port61 &= P61_WRITABLE;
    s->irq_level = !!s->irq_level;
    return 0;
}

static const struct vms_field pit_channel_fields[] = {
    VMS_UINT32(struct pit_channel, count),
    VMS_UINT8(struct pit_channel, mode),
    VMS_UINT8(struct pit_channel, rw_mode),
    VMS_UINT8(struct pit_channel, bcd),
    VMS_UINT8(struct pit_channel, gate),
    VMS_UINT8(struct pit_channel, loaded),
    VMS_UINT8(struct pit_channel, running),
    VMS_UINT8(struct pit_channel, triggered),
    VMS_UINT8(struct pit_channel, null_count),
    VMS_UINT8(struct pit_channel, read_hi),
    VMS_UINT8(struct pit_channel, write_hi),
    VMS_UINT8(struct pit_channel, write_lsb),
    VMS_UINT8(struct pit_channel, count_latched),
    VMS_UINT16(struct pit_channel, latched_count),
    VMS_UINT8(struct pit_channel, status_latched),
    VMS_UINT8(struct pit_channel, status),
    VMS_INT64(struct pit_channel, load_time),
    VMS_UINT64(struct pit_channel, frozen_ticks),
    VMS_UINT64(struct pit_channel, pulses_seen),
    VMS_END_OF_LIST,
};

static const struct vms_desc pit_channel_vmstate = {
    .name = "i8254-channel",
    .version = 1,
    .min_version = 1,
    .fields = pit_channel_fields,
};

static const struct vms_field pit_fields[] = {
    VMS_STRUCT_ARRAY(struct pit_state, ch, 3, struct pit_channel, pit_channel_vmstate),
    VMS_UINT8(struct pit_state, port61),
    VMS_INT32(struct pit_state, irq_level),
    VMS_TIMER(struct pit_state, timer),
    VMS_END_OF_LIST,
};

static const struct vms_desc pit_vmstate = {
    .name = "i8254",
    .version = 1,
    .min_version = 1,
    .fields = pit_fields,
    .post_load = pit_post_load,
};

static const struct dev_prop pit_props[] = {
    DEV_PROP_U32("iobase", struct pit_state, iobase, 0x40, 0, 0xFFFC, "I/O base of the four ports"),
    DEV_PROP_U32("irq", struct pit_state, irq_num, 0, 0, 15, "ISA IRQ of channel 0"),
    DEV_PROP_END,
};

const struct device_type i8254_type = {
    .name = "i8254",
    .desc = "Intel 8254 interval timer with port 0x61",
    .instance_size = sizeof(struct pit_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .props = pit_props,
    .realize = pit_realize,
    .reset = pit_reset,
    .unrealize = pit_unrealize,
    .vmstate = &pit_vmstate,
};
