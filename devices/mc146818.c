/* Motorola MC146818A real-time clock with CMOS RAM, as the PC/AT has it at ports
 * 0x70 (index, bit 7 = NMI disable) and 0x71 (data), IRQ8.
 *
 * References: Motorola MC146818A datasheet: registers A-D (UIP, DV2-0, RS3-0;
 * SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE; IRQF, PF, AF, UF; VRT), the update
 * cycle (UIP is set 244 us before the update), the periodic-rate table, "don't
 * care" alarm bytes (0xC0-0xFF).  The IBM PC/AT Technical Reference for the CMOS
 * layout (0x10-0x2D checksummed at 0x2E/0x2F, century at 0x32).
 *
 * Time is not stepped: the clock remembers the guest time (seconds since 1970,
 * proleptic Gregorian, no time zone) valid at a virtual-clock instant and derives
 * the registers on read.  Flags that nobody is waiting for (PF, UF with their
 * interrupts disabled) are computed when register C is read, so an idle guest
 * costs no timers. */
#include "devices/mc146818.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "dm/clock.h"
#include "dm/vmstate.h"

#define NS_PER_SEC          1000000000ll
#define UIP_NS              244000ll    /* UIP lead time before the update */
/* Guest time is kept in int64 ns since 1970; whatever a guest writes into the
 * registers is clamped to about +-146 years (1824..2116) so the arithmetic
 * never overflows. */
#define RTC_MAX_SECS        4600000000ll
#define RTC_MAX_NS          (RTC_MAX_SECS * NS_PER_SEC)

/* CMOS indexes */
#define RTC_SEC             0x00
#define RTC_SEC_ALARM       0x01
#define RTC_MIN             0x02
#define RTC_MIN_ALARM       0x03
#define RTC_HOUR            0x04
#define RTC_HOUR_ALARM      0x05
#define RTC_WDAY            0x06
#define RTC_MDAY            0x07
#define RTC_MONTH           0x08
#define RTC_YEAR            0x09
#define RTC_REG_A           0x0A
#define RTC_REG_B           0x0B
#define RTC_REG_C           0x0C
#define RTC_REG_D           0x0D
#define RTC_CENTURY         0x32
/* register A */
#define REGA_UIP            0x80
#define REGA_DV_MASK        0x70
#define REGA_DV_32K         0x20        /* 32.768 kHz time base, running */
#define REGA_RS_MASK        0x0F
/* register B */
#define REGB_SET            0x80
#define REGB_PIE            0x40
#define REGB_AIE            0x20
#define REGB_UIE            0x10
#define REGB_DM_BINARY      0x04
#define REGB_24H            0x02
/* register C */
#define REGC_IRQF           0x80
#define REGC_PF             0x40
#define REGC_AF             0x20
#define REGC_UF             0x10
/* register D */
#define REGD_VRT            0x80

#define NMI_DISABLE         0x80

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March so the leap day is the year's last day. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *mon, int *mday)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *mon = (int)m;
    *mday = (int)d;
}

/* ---- register encoding ------------------------------------------------------- */

static uint8_t rtc_to_reg(const struct rtc_state *s, int v)
{
    if (s->cmos[RTC_REG_B] & REGB_DM_BINARY)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) % 10) << 4 | v % 10);
}

static int rtc_from_reg(const struct rtc_state *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REGB_DM_BINARY)
        return v;
    /* invalid BCD digits are tolerated: each nibble counts at face value */
    return (v >> 4) * 10 + (v & 15);
}

static uint8_t rtc_hour_to_reg(const struct rtc_state *s, int hour)
{
    if (s->cmos[RTC_REG_B] & REGB_24H)
        return rtc_to_reg(s, hour);
    /* 12-hour mode: 12, 1..11, bit 7 = PM */
    int h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(rtc_to_reg(s, h12) | (hour >= 12 ? 0x80 : 0));
}

static int rtc_hour_from_reg(const struct rtc_state *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REGB_24H)
        return rtc_from_reg(s, v);
    int h = rtc_from_reg(s, v & 0x7F) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* ---- guest time ---------------------------------------------------------------- */

static int64_t rtc_now(const struct rtc_state *s)
{
    return clock_get_ns(s->clock);
}

static bool rtc_running(const struct rtc_state *s)
{
    return (s->cmos[RTC_REG_A] & REGA_DV_MASK) == REGA_DV_32K &&
           !(s->cmos[RTC_REG_B] & REGB_SET);
}

/* Guest nanoseconds since 1970 at virtual time now. */
static int64_t rtc_guest_ns(const struct rtc_state *s, int64_t now)
{
    if (!s->running)
        return s->base_ns;
    return s->base_ns + (now - s->base_clock);
}

/* Fill the time registers from guest time. */
static void rtc_sync_regs(struct rtc_state *s, int64_t now)
{
    int64_t secs = rtc_guest_ns(s, now) / NS_PER_SEC;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int year, mon, mday;
    civil_from_days(days, &year, &mon, &mday);
    s->cmos[RTC_SEC] = rtc_to_reg(s, (int)(rem % 60));
    s->cmos[RTC_MIN] = rtc_to_reg(s, (int)(rem / 60 % 60));
    s->cmos[RTC_HOUR] = rtc_hour_to_reg(s, (int)(rem / 3600));
    s->cmos[RTC_WDAY] = rtc_to_reg(s, (int)(((days % 7) + 11) % 7) + 1); /* 1970-01-01 was a Thursday (5) */
    s->cmos[RTC_MDAY] = rtc_to_reg(s, mday);
    s->cmos[RTC_MONTH] = rtc_to_reg(s, mon);
    s->cmos[RTC_YEAR] = rtc_to_reg(s, year % 100);
    s->cmos[RTC_CENTURY] = rtc_to_reg(s, year / 100);
}

/* Take guest time from the registers (after the guest set the clock). */
static void rtc_load_regs(struct rtc_state *s, int64_t now)
{
    int sec = rtc_from_reg(s, s->cmos[RTC_SEC]);
    int min = rtc_from_reg(s, s->cmos[RTC_MIN]);
    int hour = rtc_hour_from_reg(s, s->cmos[RTC_HOUR]);
    int mday = rtc_from_reg(s, s->cmos[RTC_MDAY]);
    int mon = rtc_from_reg(s, s->cmos[RTC_MONTH]);
    int year = rtc_from_reg(s, s->cmos[RTC_YEAR]) + 100 * rtc_from_reg(s, s->cmos[RTC_CENTURY]);
    /* Out-of-range fields (a guest's garbage) are clamped, not rejected. */
    if (mon < 1 || mon > 12)
        mon = 1;
    if (mday < 1 || mday > 31)
        mday = 1;
    int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)mday);
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec;
    if (secs > RTC_MAX_SECS)
        secs = RTC_MAX_SECS;
    if (secs < -RTC_MAX_SECS)
        secs = -RTC_MAX_SECS;
    /* keep the sub-second phase so the next update is a whole second away */
    int64_t frac = rtc_guest_ns(s, now) % NS_PER_SEC;
    if (frac < 0)
        frac += NS_PER_SEC;
    s->base_ns = secs * NS_PER_SEC + (s->running ? frac : 0);
    s->base_clock = now;
}

/* ---- interrupts -------------------------------------------------------------- */

static int rtc_rate_shift(const struct rtc_state *s)
{
    /* RS 1 and 2 repeat rates 8 and 9 (datasheet table 5); period = 2^(rs-1)/32768 s */
    int rs = s->cmos[RTC_REG_A] & REGA_RS_MASK;
    if (rs == 0)
        return -1;
    if (rs <= 2)
        rs += 7;
    return rs - 1;
}

static int64_t rtc_period_ns(const struct rtc_state *s)
{
    int sh = rtc_rate_shift(s);
    if (sh < 0)
        return 0;
    return (int64_t)(((unsigned __int128)NS_PER_SEC << sh) / 32768);
}

static void rtc_update_irq(struct rtc_state *s)
{
    uint8_t c = s->cmos[RTC_REG_C] & (REGC_PF | REGC_AF | REGC_UF);
    uint8_t en = s->cmos[RTC_REG_B] & (REGB_PIE | REGB_AIE | REGB_UIE);
    /* PIE/AIE/UIE are bits 6/5/4 exactly like PF/AF/UF */
    if (c & en)
        c |= REGC_IRQF;
    s->cmos[RTC_REG_C] = c;
    irq_set(s->irq, (c & REGC_IRQF) != 0);
}

/* Count of periodic ticks / seconds elapsed up to now, from the clock origin. */
static int64_t rtc_period_index(const struct rtc_state *s, int64_t now)
{
    int64_t p = rtc_period_ns(s);
    if (!p || !rtc_running(s))
        return s->last_period;
    return rtc_guest_ns(s, now) / p;
}

static int64_t rtc_second_index(const struct rtc_state *s, int64_t now)
{
    if (!rtc_running(s))
        return s->last_second;
    return rtc_guest_ns(s, now) / NS_PER_SEC;
}

static bool rtc_alarm_match(struct rtc_state *s, int64_t now)
{
    rtc_sync_regs(s, now);
    static const uint8_t pairs[3][2] = {
        { RTC_SEC_ALARM, RTC_SEC }, { RTC_MIN_ALARM, RTC_MIN }, { RTC_HOUR_ALARM, RTC_HOUR },
    };
    for (int i = 0; i < 3; i++) {
        uint8_t a = s->cmos[pairs[i][0]];
        if ((a & 0xC0) != 0xC0 && a != s->cmos[pairs[i][1]])
            return false;
    }
    return true;
}

/* Bring PF and UF (and AF at each passed second when AIE) up to date. */
static void rtc_catch_up(struct rtc_state *s, int64_t now)
{
    int64_t p = rtc_period_index(s, now);
    if (p != s->last_period) {
        s->last_period = p;
        s->cmos[RTC_REG_C] |= REGC_PF;
    }
    int64_t sec = rtc_second_index(s, now);
    if (sec != s->last_second) {
        s->last_second = sec;
        s->cmos[RTC_REG_C] |= REGC_UF;
        if (rtc_alarm_match(s, now))
            s->cmos[RTC_REG_C] |= REGC_AF;
    }
}

/* Arm the timers that someone is waiting for. */
static void rtc_arm(struct rtc_state *s)
{
    int64_t now = rtc_now(s);
    int64_t p = rtc_period_ns(s);
    if ((s->cmos[RTC_REG_B] & REGB_PIE) && p && rtc_running(s)) {
        int64_t g = rtc_guest_ns(s, now);
        timer_mod(&s->periodic_timer, now + (p - g % p));
    } else {
        timer_del(&s->periodic_timer);
    }
    if ((s->cmos[RTC_REG_B] & (REGB_UIE | REGB_AIE)) && rtc_running(s)) {
        int64_t g = rtc_guest_ns(s, now);
        timer_mod(&s->update_timer, now + (NS_PER_SEC - g % NS_PER_SEC));
    } else {
        timer_del(&s->update_timer);
    }
}

static void rtc_timer_cb(void *opaque)
{
    struct rtc_state *s = opaque;
    int64_t now = rtc_now(s);
    rtc_catch_up(s, now);
    rtc_update_irq(s);
    rtc_arm(s);
}

/* ---- register access --------------------------------------------------------- */

static bool rtc_uip(const struct rtc_state *s, int64_t now)
{
    if (!rtc_running(s))
        return false;
    int64_t frac = rtc_guest_ns(s, now) % NS_PER_SEC;
    return frac >= NS_PER_SEC - UIP_NS;
}

static uint8_t rtc_read_data(struct rtc_state *s)
{
    int64_t now = rtc_now(s);
    uint8_t idx = s->index;
    switch (idx) {
    case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
    case RTC_MDAY: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        if (rtc_running(s))
            rtc_sync_regs(s, now);
        return s->cmos[idx];
    case RTC_REG_A:
        return (s->cmos[RTC_REG_A] & ~REGA_UIP) | (rtc_uip(s, now) ? REGA_UIP : 0);
    case RTC_REG_C: {
        rtc_catch_up(s, now);
        rtc_update_irq(s);
        uint8_t v = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;     /* cleared on read (datasheet, register C) */
        irq_set(s->irq, 0);
        return v;
    }
    case RTC_REG_D:
        return REGD_VRT;
    default:
        return s->cmos[idx];
    }
}

static void rtc_write_data(struct rtc_state *s, uint8_t v)
{
    int64_t now = rtc_now(s);
    uint8_t idx = s->index;
    switch (idx) {
    case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
    case RTC_MDAY: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        if (rtc_running(s))
            rtc_sync_regs(s, now);
        s->cmos[idx] = v;
        if (idx == RTC_SEC)
            s->cmos[idx] &= 0x7F;   /* bit 7 of seconds does not exist (BCD 59, binary 59) */
        if (rtc_running(s))
            rtc_load_regs(s, now);
        break;
    case RTC_REG_A:
    case RTC_REG_B: {
        bool was_running = rtc_running(s);
        if (was_running)
            rtc_sync_regs(s, now);
        /* Changing DM or 24/12 does not convert the stored time: the guest is
         * expected to set the time afterwards (as the datasheet requires). */
        if (idx == RTC_REG_A)
            s->cmos[idx] = v & ~REGA_UIP;
        else
            s->cmos[idx] = v;
        bool running = rtc_running(s);
        if (was_running && !running) {
            s->base_ns = rtc_guest_ns(s, now);
            s->running = 0;
        } else if (!was_running && running) {
            s->running = 0;
            rtc_load_regs(s, now);
            s->running = 1;
            s->base_clock = now;
        }
        s->last_period = rtc_period_index(s, now);
        s->last_second = rtc_second_index(s, now);
        rtc_update_irq(s);
        rtc_arm(s);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break;                      /* read-only */
    default:
        s->cmos[idx] = v;
        if (idx == RTC_SEC_ALARM || idx == RTC_MIN_ALARM || idx == RTC_HOUR_ALARM)
            rtc_arm(s);
        break;
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct rtc_state *s = opaque;
    if ((addr & 1) == 0)
        return 0xFF;                /* the index port is write-only */
    return rtc_read_data(s);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct rtc_state *s = opaque;
    if ((addr & 1) == 0) {
        /* Bit 7 is the NMI mask on the PC; the index is masked to the RAM size. */
        s->nmi_disabled = (val & NMI_DISABLE) != 0;
        s->index = (uint8_t)(val & (RTC_CMOS_SIZE - 1));
        return;
    }
    rtc_write_data(s, (uint8_t)val);
}

/* ---- host side ------------------------------------------------------------------ */

void rtc_set_cmos(struct rtc_state *s, unsigned index, uint8_t value)
{
    if (index < RTC_CMOS_SIZE && index >= 0x0E && index != RTC_CENTURY)
        s->cmos[index] = value;
}

uint8_t rtc_get_cmos(const struct rtc_state *s, unsigned index)
{
    return index < RTC_CMOS_SIZE ? s->cmos[index] : 0;
}

/* Standard checksum of the IBM PC/AT: 16-bit sum of 0x10..0x2D, big-endian. */
void rtc_update_checksum(struct rtc_state *s)
{
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += s->cmos[i];
    s->cmos[0x2E] = (uint8_t)(sum >> 8);
    s->cmos[0x2F] = (uint8_t)sum;
}

/* ---- device ------------------------------------------------------------------ */

static const struct mem_region_ops rtc_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int rtc_realize(struct device *dev, struct dm_err *err)
{
    struct rtc_state *s = (struct rtc_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "mc146818: needs a bus with port I/O");
        return -EINVAL;
    }
    s->clock = dev->ctx->clock_virt;
    s->irq = dev_bus_irq(dev->bus, s->irq_num);
    timer_init(&s->periodic_timer, s->clock, rtc_timer_cb, s);
    timer_init(&s->update_timer, s->clock, rtc_timer_cb, s);
    uint64_t start = s->start_time;
    if (start == RTC_START_HOST) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        start = (uint64_t)tv.tv_sec;
    }
    if (start > (uint64_t)RTC_MAX_SECS)
        start = RTC_MAX_SECS;
    s->base_ns = (int64_t)start * NS_PER_SEC;
    s->base_clock = clock_get_ns(s->clock);
    mem_region_init_io(&s->io, "rtc", &rtc_ops, s, 2);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    s->mapped = true;
    return 0;
}

static void rtc_unrealize(struct device *dev)
{
    struct rtc_state *s = (struct rtc_state *)dev;
    timer_del(&s->periodic_timer);
    timer_del(&s->update_timer);
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        s->mapped = false;
    }
}

/* Reset (datasheet "RESET"): clears PIE, AIE, UIE, SQWE and the flags; the time,
 * the other register bits and the NVRAM survive.  On a fresh machine the
 * registers get their power-on values. */
static void rtc_reset(struct device *dev)
{
    struct rtc_state *s = (struct rtc_state *)dev;
    int64_t now = clock_get_ns(s->clock);
    if (!s->cmos[RTC_REG_A] && !s->cmos[RTC_REG_B]) {
        s->cmos[RTC_REG_A] = REGA_DV_32K | 0x06;    /* 1024 Hz, as PC BIOSes leave it */
        s->cmos[RTC_REG_B] = REGB_24H;
        s->running = 1;
    }
    s->cmos[RTC_REG_B] &= ~(REGB_PIE | REGB_AIE | REGB_UIE | 0x08);
    s->cmos[RTC_REG_C] = 0;
    s->cmos[RTC_REG_D] = REGD_VRT;
    s->index = 0;
    s->nmi_disabled = 0;
    s->last_period = rtc_period_index(s, now);
    s->last_second = rtc_second_index(s, now);
    timer_del(&s->periodic_timer);
    timer_del(&s->update_timer);
    irq_set(s->irq, 0);
}

/* ---- state description ------------------------------------------------------- */

static int rtc_post_load(void *opaque, int version)
{
    struct rtc_state *s = opaque;
    s->index &= RTC_CMOS_SIZE - 1;
    s->nmi_disabled = !!s->nmi_disabled;
    s->running = !!s->running;
    /* times as the guest could have set them */
    if (s->base_ns > RTC_MAX_NS || s->base_ns < -RTC_MAX_NS)
        s->base_ns = 0;
    if (s->base_clock > RTC_MAX_NS || s->base_clock < -RTC_MAX_NS)
        s->base_clock = 0;
    return 0;
}

static const struct vms_field rtc_fields[] = {
    VMS_BUFFER(struct rtc_state, cmos),
    VMS_UINT8(struct rtc_state, index),
    VMS_UINT8(struct rtc_state, nmi_disabled),
    VMS_UINT8(struct rtc_state, running),
    VMS_INT64(struct rtc_state, base_ns),
    VMS_INT64(struct rtc_state, base_clock),
    VMS_INT64(struct rtc_state, last_period),
    VMS_INT64(struct rtc_state, last_second),
    VMS_TIMER(struct rtc_state, periodic_timer),
    VMS_TIMER(struct rtc_state, update_timer),
    VMS_END_OF_LIST,
};

static const struct vms_desc rtc_vmstate = {
    .name = "mc146818",
    .version = 1,
    .min_version = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

static const struct dev_prop rtc_props[] = {
    DEV_PROP_U32("iobase", struct rtc_state, iobase, 0x70, 0, 0xFFFE, "I/O base (index, data)"),
    DEV_PROP_U32("irq", struct rtc_state, irq_num, 8, 0, 15, "ISA IRQ"),
    DEV_PROP_U64("start-time", struct rtc_state, start_time, RTC_START_HOST, 0, RTC_START_HOST,
                 "guest time at start, seconds since 1970 (default: the host's time)"),
    DEV_PROP_END,
};

const struct device_type mc146818_type = {
    .name = "mc146818rtc",
    .desc = "Motorola MC146818A real-time clock and CMOS RAM",
    .instance_size = sizeof(struct rtc_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .props = rtc_props,
    .realize = rtc_realize,
    .reset = rtc_reset,
    .unrealize = rtc_unrealize,
    .vmstate = &rtc_vmstate,
};
