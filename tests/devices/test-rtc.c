/* MC146818 RTC/CMOS through the test executor: BCD/binary/12-hour formats
 * against the C library's gmtime of the start time, time advancing with the
 * virtual clock, UIP, periodic IRQ8 rate, update-ended and alarm interrupts,
 * register C cleared on read, the index mask, and the NVRAM memory fields for
 * several RAM sizes (formulas from the CMOS map: KiB above 1 MiB capped at
 * 0xFFFF, 64 KiB units above 16 MiB and above 4 GiB). */
#include "tests/devices/dt.h"

#include <time.h>

static uint8_t cmos(struct qtest *q, uint8_t idx)
{
    qtest_outb(q, 0x70, idx);
    return qtest_inb(q, 0x71);
}

static void cmos_write(struct qtest *q, uint8_t idx, uint8_t v)
{
    qtest_outb(q, 0x70, idx);
    qtest_outb(q, 0x71, v);
}

static uint8_t bcd(int v)
{
    return (uint8_t)((v / 10) << 4 | v % 10);
}

static void test_formats(void)
{
    DT_NEW(q, NULL);
    time_t t = (time_t)QTEST_RTC_DEFAULT;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* power-on: 24-hour BCD (register B = 0x02), 32.768 kHz, 1024 Hz rate */
    CU_ASSERT_EQUAL(cmos(q, 0x0A), 0x26);
    CU_ASSERT_EQUAL(cmos(q, 0x0B), 0x02);
    CU_ASSERT_EQUAL(cmos(q, 0x0D), 0x80);
    CU_ASSERT_EQUAL(cmos(q, 0x00), bcd(tm.tm_sec));
    CU_ASSERT_EQUAL(cmos(q, 0x02), bcd(tm.tm_min));
    CU_ASSERT_EQUAL(cmos(q, 0x04), bcd(tm.tm_hour));
    CU_ASSERT_EQUAL(cmos(q, 0x06), tm.tm_wday + 1);
    CU_ASSERT_EQUAL(cmos(q, 0x07), bcd(tm.tm_mday));
    CU_ASSERT_EQUAL(cmos(q, 0x08), bcd(tm.tm_mon + 1));
    CU_ASSERT_EQUAL(cmos(q, 0x09), bcd(tm.tm_year % 100));
    CU_ASSERT_EQUAL(cmos(q, 0x32), bcd((tm.tm_year + 1900) / 100));
    /* binary */
    cmos_write(q, 0x0B, 0x06);
    CU_ASSERT_EQUAL(cmos(q, 0x04), tm.tm_hour);
    CU_ASSERT_EQUAL(cmos(q, 0x07), tm.tm_mday);
    CU_ASSERT_EQUAL(cmos(q, 0x09), tm.tm_year % 100);
    /* 12-hour BCD: bit 7 is PM */
    cmos_write(q, 0x0B, 0x00);
    int h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
    CU_ASSERT_EQUAL(cmos(q, 0x04), bcd(h12) | (tm.tm_hour >= 12 ? 0x80 : 0));
    qtest_free(q);
}

static void test_time_advances_and_set(void)
{
    DT_NEW(q, NULL);
    cmos_write(q, 0x0B, 0x06);             /* binary, 24h */
    time_t t = (time_t)QTEST_RTC_DEFAULT + 75;
    struct tm tm;
    gmtime_r(&t, &tm);
    qtest_clock_step(q, 75 * 1000000000ll);
    CU_ASSERT_EQUAL(cmos(q, 0x00), tm.tm_sec);
    CU_ASSERT_EQUAL(cmos(q, 0x02), tm.tm_min);
    /* set the clock: SET, write, clear SET; it runs on from the new value */
    cmos_write(q, 0x0B, 0x86);
    cmos_write(q, 0x00, 50);
    cmos_write(q, 0x02, 59);
    cmos_write(q, 0x04, 23);
    cmos_write(q, 0x07, 31);
    cmos_write(q, 0x08, 12);
    cmos_write(q, 0x09, 99);
    cmos_write(q, 0x32, 19);
    qtest_clock_step(q, 5 * 1000000000ll);  /* frozen while SET */
    CU_ASSERT_EQUAL(cmos(q, 0x00), 50);
    cmos_write(q, 0x0B, 0x06);
    qtest_clock_step(q, 12 * 1000000000ll);
    /* 1999-12-31 23:59:50 + 12 s = 2000-01-01 00:00:02, a Saturday */
    CU_ASSERT_EQUAL(cmos(q, 0x00), 2);
    CU_ASSERT_EQUAL(cmos(q, 0x02), 0);
    CU_ASSERT_EQUAL(cmos(q, 0x04), 0);
    CU_ASSERT_EQUAL(cmos(q, 0x07), 1);
    CU_ASSERT_EQUAL(cmos(q, 0x08), 1);
    CU_ASSERT_EQUAL(cmos(q, 0x09), 0);
    CU_ASSERT_EQUAL(cmos(q, 0x32), 20);
    CU_ASSERT_EQUAL(cmos(q, 0x06), 7);
    /* invalid BCD digits are survived */
    cmos_write(q, 0x0B, 0x82);
    cmos_write(q, 0x00, 0xFF);
    cmos_write(q, 0x08, 0xEE);
    cmos_write(q, 0x0B, 0x02);
    qtest_clock_step(q, 1000000000);
    (void)cmos(q, 0x00);
    qtest_free(q);
}

static void test_uip(void)
{
    DT_NEW(q, NULL);
    /* the clock starts on a second boundary; UIP is set 244 us before the next */
    CU_ASSERT_EQUAL(cmos(q, 0x0A) & 0x80, 0);
    qtest_clock_step(q, 999700000);
    CU_ASSERT_EQUAL(cmos(q, 0x0A) & 0x80, 0);
    qtest_clock_step(q, 100000);           /* 999.8 ms */
    CU_ASSERT_EQUAL(cmos(q, 0x0A) & 0x80, 0x80);
    qtest_clock_step(q, 300000);           /* 1.0001 s: updated */
    CU_ASSERT_EQUAL(cmos(q, 0x0A) & 0x80, 0);
    /* a stopped divider never updates */
    cmos_write(q, 0x0A, 0x66);
    qtest_clock_step(q, 999800000);
    CU_ASSERT_EQUAL(cmos(q, 0x0A) & 0x80, 0);
    qtest_free(q);
}

/* Count periodic interrupts over 1 s, acknowledging by reading register C. */
static int count_periodic(struct qtest *q, uint8_t reg_a)
{
    cmos_write(q, 0x0A, reg_a);
    cmos_write(q, 0x0B, 0x42);             /* PIE */
    (void)cmos(q, 0x0C);
    int n = 0;
    for (int i = 0; i < 10000; i++) {
        qtest_clock_step(q, 100000);
        if (qtest_irq_level(q, 8)) {
            uint8_t c = cmos(q, 0x0C);
            CU_ASSERT_EQUAL(c & 0xC0, 0xC0);   /* IRQF and PF */
            CU_ASSERT_EQUAL(qtest_irq_level(q, 8), 0);
            n++;
        }
    }
    return n;
}

static void test_periodic_rate(void)
{
    DT_NEW(q, NULL);
    CU_ASSERT_EQUAL(count_periodic(q, 0x26), 1024);    /* RS 6: 976.5625 us */
    CU_ASSERT_EQUAL(count_periodic(q, 0x2F), 2);       /* RS 15: 500 ms */
    CU_ASSERT_EQUAL(count_periodic(q, 0x23), 8192);    /* RS 3: 122 us (sampled at 100 us) */
    CU_ASSERT_EQUAL(count_periodic(q, 0x20), 0);       /* RS 0: off */
    /* register C clears on read */
    cmos_write(q, 0x0A, 0x26);
    qtest_clock_step(q, 2000000);
    CU_ASSERT_NOT_EQUAL(cmos(q, 0x0C), 0);
    CU_ASSERT_EQUAL(cmos(q, 0x0C), 0);
    qtest_free(q);
}

static void test_update_and_alarm(void)
{
    DT_NEW(q, NULL);
    cmos_write(q, 0x0B, 0x12);             /* UIE */
    (void)cmos(q, 0x0C);
    unsigned long before = qtest_irq_count(q, 8);
    int updates = 0;
    for (int i = 0; i < 30; i++) {
        qtest_clock_step(q, 100000000);    /* 3 s in 100 ms steps */
        if (qtest_irq_level(q, 8)) {
            CU_ASSERT_EQUAL(cmos(q, 0x0C) & 0x90, 0x90);
            updates++;
        }
    }
    CU_ASSERT_EQUAL(updates, 3);
    CU_ASSERT_EQUAL(qtest_irq_count(q, 8) - before, 3);
    /* alarm 2 s ahead (binary), minutes and hours "don't care" */
    cmos_write(q, 0x0B, 0x06);
    uint8_t sec = cmos(q, 0x00);
    cmos_write(q, 0x01, (uint8_t)((sec + 2) % 60));
    cmos_write(q, 0x03, 0xC0);
    cmos_write(q, 0x05, 0xC0);
    cmos_write(q, 0x0B, 0x26);             /* AIE */
    (void)cmos(q, 0x0C);
    qtest_clock_step(q, 1000000000);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 8), 0);
    qtest_clock_step(q, 1000000000);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 8), 1);
    CU_ASSERT_EQUAL(cmos(q, 0x0C) & 0xA0, 0xA0);
    qtest_free(q);
}

static void test_index_and_nmi(void)
{
    DT_NEW(q, NULL);
    /* bit 7 of the index is the NMI mask, not part of the address */
    cmos_write(q, 0x80 | 0x40, 0x5A);
    CU_ASSERT_EQUAL(cmos(q, 0x40), 0x5A);
    /* every index lands inside the 128 bytes */
    for (int i = 0; i < 256; i++) {
        qtest_outb(q, 0x70, (uint8_t)i);
        (void)qtest_inb(q, 0x71);
    }
    cmos_write(q, 0x7F, 0xA5);
    CU_ASSERT_EQUAL(cmos(q, 0xFF), 0xA5);
    /* register D is read-only, VRT set */
    cmos_write(q, 0x0D, 0x00);
    CU_ASSERT_EQUAL(cmos(q, 0x0D), 0x80);
    qtest_free(q);
}

static void check_nvram(uint64_t ram, unsigned smp)
{
    struct qtest_opts o = { .ram_size = ram, .smp = smp };
    DT_NEW(q, &o);
    uint64_t below = ram >= 0xE0000000ull ? 0xC0000000ull : ram;
    uint64_t above = ram - below;
    uint64_t ext = (below - (1 << 20)) / 1024;
    if (ext > 0xFFFF)
        ext = 0xFFFF;
    uint64_t m16 = below > (16 << 20) ? (below - (16 << 20)) / 65536 : 0;
    if (m16 > 0xFFFF)
        m16 = 0xFFFF;
    CU_ASSERT_EQUAL(cmos(q, 0x15) | cmos(q, 0x16) << 8, 640);
    CU_ASSERT_EQUAL(cmos(q, 0x17) | cmos(q, 0x18) << 8, ext);
    CU_ASSERT_EQUAL(cmos(q, 0x30) | cmos(q, 0x31) << 8, ext);
    CU_ASSERT_EQUAL(cmos(q, 0x34) | cmos(q, 0x35) << 8, m16);
    CU_ASSERT_EQUAL(cmos(q, 0x5B) | cmos(q, 0x5C) << 8 | cmos(q, 0x5D) << 16, above / 65536);
    CU_ASSERT_EQUAL(cmos(q, 0x5F), smp - 1);
    CU_ASSERT_EQUAL(cmos(q, 0x3D), 0x12);  /* default "cad": disk, floppy */
    CU_ASSERT_EQUAL(cmos(q, 0x38), 0x30);  /* then CD */
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += cmos(q, (uint8_t)i);
    CU_ASSERT_EQUAL(cmos(q, 0x2E) << 8 | cmos(q, 0x2F), sum);
    qtest_free(q);
}

static void test_nvram_memory_fields(void)
{
    check_nvram(8ull << 20, 1);
    check_nvram(128ull << 20, 2);
    check_nvram(3ull << 30, 4);
    check_nvram(0xE0000000ull, 1);
    check_nvram(5ull << 30, 8);
    struct qtest_opts o = { .boot_order = "dnc" };
    DT_NEW(q, &o);
    CU_ASSERT_EQUAL(cmos(q, 0x3D), 0x43);
    CU_ASSERT_EQUAL(cmos(q, 0x38), 0x20);
    qtest_free(q);
}

DT_MAIN("rtc",
    { "formats", test_formats },
    { "time_advances_and_set", test_time_advances_and_set },
    { "uip", test_uip },
    { "periodic_rate", test_periodic_rate },
    { "update_and_alarm", test_update_and_alarm },
    { "index_and_nmi", test_index_and_nmi },
    { "nvram_memory_fields", test_nvram_memory_fields })
