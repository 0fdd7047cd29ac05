/* 8254 through the test executor on the deterministic virtual clock: mode 2 and
 * 3 periods, IRQ0 rate (edges and through the PIC), counter latch, read-back,
 * BCD, channel 2 gate and output through port 0x61, count 0 = 65536.  Expected
 * counts are computed from the 1.193182 MHz input clock of the PC (8254
 * datasheet, IBM PC/AT technical reference). */
#include "tests/devices/dt.h"

#define PIT_HZ 1193182ull

static uint64_t ticks_at(int64_t ns)
{
    return (uint64_t)ns * PIT_HZ / 1000000000ull;
}

static void pit_program(struct qtest *q, int ch, int mode, uint16_t count)
{
    qtest_outb(q, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
    qtest_outb(q, (uint16_t)(0x40 + ch), count & 0xFF);
    qtest_outb(q, (uint16_t)(0x40 + ch), count >> 8);
}

static uint16_t pit_latch_read(struct qtest *q, int ch)
{
    qtest_outb(q, 0x43, (uint8_t)(ch << 6));     /* counter latch */
    uint16_t lo = qtest_inb(q, (uint16_t)(0x40 + ch));
    uint16_t hi = qtest_inb(q, (uint16_t)(0x40 + ch));
    return (uint16_t)(lo | hi << 8);
}

static void test_mode2_irq0_rate(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 2, 1193);     /* ~1 kHz */
    qtest_irq_count_reset(q);
    qtest_clock_step(q, 100000000);  /* 100 ms */
    /* rising edges at every multiple of 1193 input clocks */
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), ticks_at(100000000) / 1193);
    qtest_free(q);
}

/* First ns at which t input clocks have elapsed. */
static int64_t ns_of(uint64_t t)
{
    return (int64_t)((t * 1000000000ull + PIT_HZ - 1) / PIT_HZ);
}

static int out0(struct qtest *q)
{
    qtest_outb(q, 0x43, 0xE2);              /* read-back: status of channel 0 */
    return qtest_inb(q, 0x40) >> 7;
}

/* Mode 2 (datasheet figure 15): OUT high from the load, low for the one clock
 * in which the count is 1, high again as the count reloads. */
/* OUT is low for a single input clock (838 ns) in modes 2 and 4, far shorter than
 * the time a busy main loop takes to run a due timer.  Every pulse must still
 * reach IRQ0 when the timers fire late. */
static void test_mode2_late_timers(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 2, 1193);     /* ~1 kHz */
    qtest_irq_count_reset(q);
    for (int i = 0; i < 100; i++)
        qtest_clock_step_late(q, 700000 + 13 * i);     /* 0.7 ms and a drifting extra */
    int64_t total = 0;
    for (int i = 0; i < 100; i++)
        total += 700000 + 13 * i;
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), ticks_at(total) / 1193);
    qtest_free(q);
}

static void test_mode4_strobe_late_timer(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 4, 500);
    qtest_irq_count_reset(q);
    qtest_clock_step_late(q, 10000000);     /* 10 ms: the strobe is long past */
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), 1);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 0), 1);
    qtest_free(q);
}

static void test_mode2_out_timing(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 2, 100);
    CU_ASSERT_EQUAL(out0(q), 1);
    qtest_clock_step(q, ns_of(50));
    CU_ASSERT_EQUAL(out0(q), 1);
    qtest_clock_step(q, ns_of(99) - ns_of(50));     /* count is 1 */
    CU_ASSERT_EQUAL(out0(q), 0);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 0), 0);
    qtest_clock_step(q, ns_of(100) - ns_of(99));    /* reloaded */
    CU_ASSERT_EQUAL(out0(q), 1);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 0), 1);
    qtest_free(q);
}

static void test_mode3_square(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 3, 11932);    /* ~100 Hz */
    qtest_irq_count_reset(q);
    int high = 0, samples = 0;
    for (int i = 0; i < 1000; i++) {    /* sample OUT every ms for 1 s */
        qtest_clock_step(q, 1000000);
        high += qtest_irq_level(q, 0);
        samples++;
    }
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), ticks_at(1000000000) / 11932);
    /* a square wave: high half the time */
    CU_ASSERT(high > 480 && high < 520);
    qtest_free(q);
}

static void test_count0_is_65536(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 2, 0);
    qtest_irq_count_reset(q);
    qtest_clock_step(q, 1000000000);
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), ticks_at(1000000000) / 65536);   /* 18.2 Hz */
    qtest_free(q);
}

static void test_irq0_through_pic(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x20, 0x11);
    qtest_outb(q, 0x21, 0x20);
    qtest_outb(q, 0x21, 0x04);
    qtest_outb(q, 0x21, 0x01);
    qtest_outb(q, 0x21, 0xFE);      /* only IRQ0 */
    pit_program(q, 0, 2, 11932);    /* 100 Hz */
    /* clear the edge the mode write made before counting starts */
    if (qtest_intr(q)) {
        qtest_ack(q);
        qtest_outb(q, 0x20, 0x20);
    }
    int delivered = 0;
    for (int i = 0; i < 2000; i++) {        /* a "CPU" that looks every 0.5 ms */
        qtest_clock_step(q, 500000);
        if (qtest_intr(q)) {
            CU_ASSERT_EQUAL(qtest_ack(q), 0x20);
            qtest_outb(q, 0x20, 0x20);
            delivered++;
        }
    }
    CU_ASSERT_EQUAL(delivered, (int)(ticks_at(1000000000) / 11932));
    qtest_free(q);
}

static void test_latch_and_readback(void)
{
    DT_NEW(q, NULL);
    pit_program(q, 0, 2, 0x1000);
    qtest_clock_step(q, 1000000);          /* 1 ms */
    uint64_t t = ticks_at(1000000);
    qtest_outb(q, 0x43, 0x00);             /* latch */
    qtest_clock_step(q, 1000000);          /* the latched value does not move */
    uint16_t lo = qtest_inb(q, 0x40), hi = qtest_inb(q, 0x40);
    CU_ASSERT_EQUAL(lo | hi << 8, 0x1000 - t % 0x1000);
    /* a second latch before reading is ignored: the first value is kept */
    qtest_outb(q, 0x43, 0x00);
    qtest_clock_step(q, 100000);
    qtest_outb(q, 0x43, 0x00);
    uint64_t t2 = ticks_at(2000000);
    lo = qtest_inb(q, 0x40);
    hi = qtest_inb(q, 0x40);
    CU_ASSERT_EQUAL(lo | hi << 8, 0x1000 - t2 % 0x1000);

    /* read-back (0xC2: count and status of channel 0): status first */
    qtest_outb(q, 0x43, 0xC2);
    uint8_t st = qtest_inb(q, 0x40);
    CU_ASSERT_EQUAL(st & 0x3F, 0x34);      /* RW = LSB/MSB, mode 2, binary */
    CU_ASSERT_EQUAL(st & 0x40, 0);         /* count loaded: not null */
    lo = qtest_inb(q, 0x40);
    hi = qtest_inb(q, 0x40);
    CU_ASSERT_EQUAL(lo | hi << 8, 0x1000 - ticks_at(2100000) % 0x1000);
    /* status only (0xE2), null count right after a mode write */
    qtest_outb(q, 0x43, 0x34);
    qtest_outb(q, 0x43, 0xE2);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x40) & 0x40, 0x40);
    /* the control port reads a constant, never another channel's state */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x43), 0xFF);
    qtest_free(q);
}

static void test_bcd_and_lsb_only(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x43, 0x31);             /* ch0, LSB/MSB, mode 0, BCD */
    qtest_outb(q, 0x40, 0x34);
    qtest_outb(q, 0x40, 0x12);             /* 1234 decimal */
    CU_ASSERT_EQUAL(pit_latch_read(q, 0), 0x1234);
    qtest_clock_step(q, 100000);           /* 119 input clocks */
    uint64_t v = 1234 - ticks_at(100000);
    uint16_t bcd = (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
    CU_ASSERT_EQUAL(pit_latch_read(q, 0), bcd);
    /* mode 0: OUT goes high at terminal count */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 0), 0);
    qtest_clock_step(q, 1100000);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 0), 1);
    /* LSB-only access */
    qtest_outb(q, 0x43, 0x50);             /* ch1, LSB only, mode 0 */
    qtest_outb(q, 0x41, 0x80);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x41), 0x80);
    qtest_free(q);
}

static void test_channel2_gate_port61(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x61, 0x00);             /* gate 2 low */
    pit_program(q, 2, 0, 100);
    qtest_clock_step(q, 1000000);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x61) & 0x20, 0);     /* held: OUT2 still low */
    CU_ASSERT_EQUAL(pit_latch_read(q, 2), 100);
    qtest_outb(q, 0x61, 0x01);             /* gate high: counting */
    qtest_clock_step(q, 50000);            /* 59 clocks */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x61) & 0x20, 0);
    CU_ASSERT_EQUAL(pit_latch_read(q, 2), 100 - ticks_at(50000));
    qtest_clock_step(q, 50000);            /* past 100 clocks */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x61) & 0x20, 0x20);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x61) & 0x0F, 0x01);  /* writable bits read back */
    /* the refresh bit toggles (every 15 us) */
    uint8_t a = qtest_inb(q, 0x61) & 0x10;
    qtest_clock_step(q, 15085);
    CU_ASSERT_NOT_EQUAL(qtest_inb(q, 0x61) & 0x10, a);
    /* channel 2 does not drive IRQ0 */
    CU_ASSERT_EQUAL(qtest_irq_count(q, 0), 0);
    qtest_free(q);
}

DT_MAIN("pit",
    { "mode2_irq0_rate", test_mode2_irq0_rate },
    { "mode2_out_timing", test_mode2_out_timing },
    { "mode2_late_timers", test_mode2_late_timers },
    { "mode4_strobe_late_timer", test_mode4_strobe_late_timer },
    { "mode3_square", test_mode3_square },
    { "count0_is_65536", test_count0_is_65536 },
    { "irq0_through_pic", test_irq0_through_pic },
    { "latch_and_readback", test_latch_and_readback },
    { "bcd_and_lsb_only", test_bcd_and_lsb_only },
    { "channel2_gate_port61", test_channel2_gate_port61 })
